//! `strata diff` end to end: real git repositories holding a copy of examples/fleet, the
//! `strata` binary and the real helm.
//!
//! helm runs through a wrapper script (STRATA_HELM) that logs its arguments and execs the real
//! binary, so a test can tell which tenants were rendered. Every run gets its own chart and
//! render cache and its own TMPDIR, and every test checks afterwards that the user's checkout
//! is exactly as it was and that no temporary tree or git worktree was left behind.

mod common;

use common::*;
use serde_json::Value;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const DEN1_TENANTS: [&str; 3] = [
    "fleet/customers/preprod/acme",
    "fleet/customers/prod/acme",
    "fleet/customers/prod/initech",
];
const GLOBEX: &str = "fleet/customers/prod/globex";

/// A git repository with examples/fleet committed at `fleet/`, beside (not inside) the
/// repository: a logging helm, a cache directory and a TMPDIR.
struct Repo {
    tree: Tree,
}

/// What must not change in the user's checkout.
#[derive(Debug, PartialEq, Eq)]
struct Checkout {
    head: String,
    status: String,
    worktrees: String,
    stashes: String,
}

impl Repo {
    fn new(helm: Helm) -> Repo {
        let repo = Repo { tree: Tree::new() };
        repo.tree
            .copy_from(&manifest_dir().join("examples/fleet"), "repo/fleet");
        repo.tree.mkdir("tmp");
        let wrapper = repo.tree.write(
            "bin/helm",
            format!(
                "#!/bin/sh\necho \"$*\" >> '{}'\nexec '{}' \"$@\"\n",
                repo.tree.path("helm-calls").display(),
                helm.path().display()
            ),
        );
        fs::set_permissions(&wrapper, fs::Permissions::from_mode(0o755)).expect("chmod");
        repo.git(&["init", "-q", "-b", "main"]);
        repo.commit("fleet");
        repo
    }

    fn root(&self) -> PathBuf {
        self.tree.path("repo")
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.root().join(rel)
    }

    fn write(&self, rel: &str, content: &str) {
        self.tree.write(Path::new("repo").join(rel), content);
    }

    /// Replaces `from` by `to` in a file of the repository, which must contain it.
    fn edit(&self, rel: &str, from: &str, to: &str) {
        let path = self.path(rel);
        let text = fs::read_to_string(&path).expect("read file");
        assert!(text.contains(from), "{rel} does not contain {from:?}");
        fs::write(&path, text.replace(from, to)).expect("write file");
    }

    fn git(&self, args: &[&str]) -> String {
        let out = run_std(
            Command::new("git")
                .args(args)
                .current_dir(self.root())
                .env_clear()
                .env("PATH", BASE_PATH)
                .env("HOME", test_home())
                .env("GIT_CONFIG_NOSYSTEM", "1")
                .env("GIT_AUTHOR_NAME", "strata tests")
                .env("GIT_AUTHOR_EMAIL", "tests@example.com")
                .env("GIT_COMMITTER_NAME", "strata tests")
                .env("GIT_COMMITTER_EMAIL", "tests@example.com"),
        );
        assert_success(&out, &format!("git {}", args.join(" ")));
        text(&out.stdout)
    }

    fn commit(&self, message: &str) {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "-m", message]);
    }

    fn checkout(&self) -> Checkout {
        Checkout {
            head: self.git(&["rev-parse", "HEAD"]),
            status: self.git(&["status", "--porcelain", "--untracked-files=all"]),
            worktrees: self.git(&["worktree", "list", "--porcelain"]),
            stashes: self.git(&["stash", "list"]),
        }
    }

    /// Runs `strata diff ARGS` in the repository and checks that the checkout is untouched and
    /// nothing is left in TMPDIR.
    fn diff(&self, args: &[&str]) -> Output {
        let before = self.checkout();
        let mut cmd = strata_without_helm();
        cmd.current_dir(self.root())
            .env("STRATA_HELM", self.tree.path("bin/helm"))
            .env("STRATA_CACHE_DIR", self.tree.path("cache"))
            .env("TMPDIR", self.tree.path("tmp"))
            .arg("diff")
            .args(args);
        let out = run(&mut cmd);
        assert_eq!(
            self.checkout(),
            before,
            "the checkout changed\n{}",
            describe(&out)
        );
        let left: Vec<_> = fs::read_dir(self.tree.path("tmp"))
            .expect("read TMPDIR")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert!(left.is_empty(), "left in TMPDIR: {left:?}");
        out
    }

    /// `diff` with `--format json`, which must exit `code`; the parsed report.
    fn diff_json(&self, args: &[&str], code: i32) -> Value {
        let mut all = args.to_vec();
        all.extend(["--format", "json"]);
        let out = self.diff(&all);
        assert_eq!(out.status.code(), Some(code), "{}", describe(&out));
        serde_json::from_slice(&out.stdout).expect("JSON report")
    }

    /// The helm command lines since the last call.
    fn helm_calls(&self) -> Vec<String> {
        let path = self.tree.path("helm-calls");
        let calls = fs::read_to_string(&path).unwrap_or_default();
        let _ = fs::remove_file(&path);
        calls.lines().map(str::to_owned).collect()
    }

    /// Adds a Secret to the web chart, fed by `secrets` in the common layer, and commits.
    fn add_secret(&self) {
        self.write(
            "fleet/charts/web/templates/secret.yaml",
            "{{- if .Values.secrets }}\napiVersion: v1\nkind: Secret\nmetadata:\n  name: {{ include \"web.fullname\" . }}-creds\n  namespace: {{ .Release.Namespace }}\ntype: Opaque\ndata:\n  {{- range $k, $v := .Values.secrets }}\n  {{ $k }}: {{ $v | b64enc }}\n  {{- end }}\n{{- end }}\n",
        );
        let common = fs::read_to_string(self.path("fleet/values/common.yaml")).unwrap();
        self.write(
            "fleet/values/common.yaml",
            &format!("{common}\nsecrets:\n  password: hunter2-old\n  user: admin-user\n"),
        );
        self.commit("secret");
    }
}

fn tenants_of(report: &Value) -> Vec<String> {
    report["tenants"]
        .as_array()
        .expect("tenants")
        .iter()
        .map(|t| t["tenant"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn a_region_layer_change_renders_and_shows_only_that_regions_tenants() {
    for helm in Helm::ALL {
        let repo = Repo::new(helm);
        repo.edit(
            "fleet/values/region/den1.yaml",
            "https://s3.den1.example.net",
            "https://s3-v2.den1.example.net",
        );

        let out = repo.diff(&["--base", "main", "fleet"]);
        assert_eq!(out.status.code(), Some(1), "{helm:?}\n{}", describe(&out));
        let stdout = text(&out.stdout);
        assert!(
            stdout.contains(
                "web: config.OBJECT_STORE_ENDPOINT https://s3.den1.example.net → https://s3-v2.den1.example.net via fleet/values/region/den1.yaml (3 tenants)"
            ),
            "{stdout}"
        );
        for tenant in DEN1_TENANTS {
            assert!(
                stdout.contains(&format!("# {tenant} (changed)")),
                "{stdout}"
            );
        }
        assert!(!stdout.contains(GLOBEX), "{stdout}");
        assert!(stdout.contains("-  OBJECT_STORE_ENDPOINT: https://s3.den1.example.net"));
        assert!(stdout.contains("+  OBJECT_STORE_ENDPOINT: https://s3-v2.den1.example.net"));
        assert!(!stdout.contains("# Source"), "{stdout}");
        assert!(!stdout.contains('\x1b'), "no colour off a terminal");

        // globex (yul1) has the same inputs on both sides and never reaches helm.
        let templates: Vec<String> = repo
            .helm_calls()
            .into_iter()
            .filter(|c| c.starts_with("template"))
            .collect();
        assert!(!templates.is_empty());
        assert!(
            templates.iter().all(|c| !c.contains("globex")),
            "{templates:#?}"
        );
        // Both sides of each den1 tenant, two components each.
        assert_eq!(templates.len(), 3 * 2 * 2, "{templates:#?}");

        let report = repo.diff_json(&["--base", "main", "fleet"], 1);
        assert_eq!(tenants_of(&report), DEN1_TENANTS);
        assert_eq!(report["summary"]["tenantsUnchanged"], 1);
        assert_eq!(report["summary"]["tenantsRendered"], 3);
        let group = &report["valueChanges"][0];
        assert_eq!(group["key"], "config.OBJECT_STORE_ENDPOINT");
        assert_eq!(group["via"], "fleet/values/region/den1.yaml");
        assert_eq!(group["tenants"].as_array().unwrap().len(), 3);

        // A selector narrows the comparison to matching tenants.
        let report = repo.diff_json(&["--base", "main", "fleet", "--selector", "env=preprod"], 1);
        assert_eq!(tenants_of(&report), ["fleet/customers/preprod/acme"]);
    }
}

/// `env!=prod` is an inequality, not a variable named `env!`; an unknown variable, bad syntax
/// or a selection of no tenant is an error (exit status 2), not "no changes".
#[test]
fn diff_selectors_cannot_fail_silently() {
    let repo = Repo::new(Helm::V3);
    repo.edit(
        "fleet/values/region/den1.yaml",
        "https://s3.den1.example.net",
        "https://s3-v2.den1.example.net",
    );
    let report = repo.diff_json(&["--base", "main", "fleet", "--selector", "env!=prod"], 1);
    assert_eq!(tenants_of(&report), ["fleet/customers/preprod/acme"]);
    assert_eq!(report["summary"]["tenantsCompared"], 1);
    let report = repo.diff_json(
        &[
            "--base",
            "main",
            "fleet",
            "--selector",
            "tenant=acme",
            "--selector",
            "tenant=initech",
        ],
        1,
    );
    assert_eq!(
        tenants_of(&report),
        [
            "fleet/customers/preprod/acme",
            "fleet/customers/prod/acme",
            "fleet/customers/prod/initech"
        ]
    );
    for (selector, needle) in [
        ("envv=prod", "variable \"envv\""),
        ("env=staging", "--allow-empty"),
        ("env=", "a value is empty"),
    ] {
        let out = repo.diff(&["--base", "main", "fleet", "--selector", selector]);
        assert_eq!(out.status.code(), Some(2), "{selector}: {}", describe(&out));
        assert!(out.stdout.is_empty(), "{selector}: {}", describe(&out));
        assert!(
            text(&out.stderr).contains(needle),
            "{selector}: {}",
            describe(&out)
        );
    }
    let out = repo.diff(&[
        "--base",
        "main",
        "fleet",
        "--selector",
        "env=staging",
        "--allow-empty",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
}

#[test]
fn an_added_tenant_is_a_whole_addition() {
    let repo = Repo::new(Helm::V3);
    repo.write(
        "fleet/customers/prod/umbrella/values.yaml",
        "config:\n  TENANT_ID: umbrella\n",
    );
    repo.commit("umbrella");

    let report = repo.diff_json(&["--base", "main~1", "--head", "main", "fleet"], 1);
    assert_eq!(tenants_of(&report), ["fleet/customers/prod/umbrella"]);
    let tenant = &report["tenants"][0];
    assert_eq!(tenant["status"], "added");
    let objects = tenant["objects"].as_array().unwrap();
    assert!(objects.len() >= 3, "{objects:#?}");
    assert!(objects.iter().all(|o| o["change"] == "added"));
    let deployment = objects
        .iter()
        .find(|o| o["kind"] == "Deployment")
        .expect("a Deployment");
    assert_eq!(deployment["namespace"], "web-umbrella");
    assert!(
        deployment["diff"]
            .as_str()
            .unwrap()
            .lines()
            .skip(1)
            .all(|l| l.starts_with('+')),
        "{deployment:#?}"
    );
    assert_eq!(report["summary"]["tenantsAdded"], 1);
    assert_eq!(report["summary"]["tenantsUnchanged"], 4);

    // Seen from the other direction it is a removal.
    let report = repo.diff_json(&["--base", "main", "--head", "main~1", "fleet"], 1);
    assert_eq!(report["tenants"][0]["status"], "removed");
    assert_eq!(report["summary"]["objectsAdded"], 0);
}

#[test]
fn a_secret_change_shows_keys_never_values() {
    for helm in Helm::ALL {
        let repo = Repo::new(helm);
        repo.add_secret();
        repo.edit("fleet/values/common.yaml", "hunter2-old", "hunter2-new");
        repo.edit(
            "fleet/values/common.yaml",
            "  user: admin-user\n",
            "  token: tok-3141\n",
        );
        let secrets = ["hunter2-old", "hunter2-new", "admin-user", "tok-3141"];
        let encoded: Vec<String> = secrets
            .iter()
            .map(|s| {
                use base64::Engine;
                base64::engine::general_purpose::STANDARD.encode(s)
            })
            .collect();

        for format in ["text", "markdown", "json"] {
            let out = repo.diff(&["--base", "main", "fleet", "--format", format]);
            assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
            let stdout = text(&out.stdout);
            for secret in secrets
                .iter()
                .copied()
                .chain(encoded.iter().map(String::as_str))
            {
                assert!(
                    !stdout.contains(secret),
                    "{format} prints {secret}:\n{stdout}"
                );
            }
            if format != "json" {
                assert!(
                    stdout.contains("data.password changed, data.token added, data.user removed"),
                    "{format}:\n{stdout}"
                );
            }
        }
        let report = repo.diff_json(&["--base", "main", "fleet"], 1);
        let secret = report["tenants"][0]["objects"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["kind"] == "Secret")
            .expect("the Secret changed")
            .clone();
        assert_eq!(
            secret["secretKeys"],
            serde_json::json!([
                {"field": "data", "key": "password", "change": "changed"},
                {"field": "data", "key": "token", "change": "added"},
                {"field": "data", "key": "user", "change": "removed"},
            ])
        );
    }
}

#[test]
fn no_change_exits_zero_and_renders_nothing() {
    let repo = Repo::new(Helm::V3);
    // A comment changes no merged value, so no tenant's inputs change.
    let common = fs::read_to_string(repo.path("fleet/values/common.yaml")).unwrap();
    repo.write("fleet/values/common.yaml", &format!("# reviewed\n{common}"));

    let out = repo.diff(&["--base", "main", "fleet"]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert!(
        text(&out.stdout).contains("no changes"),
        "{}",
        describe(&out)
    );
    assert!(
        repo.helm_calls().iter().all(|c| !c.starts_with("template")),
        "nothing is rendered when no input changed"
    );

    let out = repo.diff(&["--base", "main", "fleet", "--format", "markdown"]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert!(text(&out.stdout).contains("No changes"));
}

#[test]
fn markdown_starts_with_the_summary_table_and_can_be_written_as_parts() {
    let repo = Repo::new(Helm::V3);
    repo.edit(
        "fleet/values/region/den1.yaml",
        "REGION: den1",
        "REGION: den1-b",
    );
    let out = repo.diff(&["--base", "main", "fleet", "--format", "markdown"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let markdown = text(&out.stdout);
    let lines: Vec<&str> = markdown.lines().collect();
    assert_eq!(lines[0], "<!-- strata-diff part 1/1 -->");
    let table = lines
        .iter()
        .position(|l| l.starts_with("| Tenants changed |"))
        .expect("summary table");
    assert_eq!(
        lines[table + 2],
        "| 3 | 0 | 0 | 1 | 0 | 0 | 6 |",
        "{markdown}"
    );
    let table_at = markdown.find("| Tenants changed |").unwrap();
    assert!(
        table_at < markdown.find("<details>").expect("details"),
        "table first"
    );
    assert!(
        markdown.contains(
            "| `web` | `config.REGION` | `den1` | `den1-b` | `fleet/values/region/den1.yaml` | 3 |"
        ),
        "{markdown}"
    );
    // The three ConfigMaps change the same line: shown once, referenced by every tenant.
    assert!(
        markdown.contains("Shared change 1: changed <code>v1/ConfigMap</code> in 3 tenants"),
        "{markdown}"
    );
    assert_eq!(
        markdown.matches("+  REGION: den1-b").count(),
        1,
        "{markdown}"
    );
    assert_eq!(
        markdown.matches("<details>").count(),
        markdown.matches("</details>").count()
    );

    let parts = repo.tree.path("parts");
    let parts_arg = parts.display().to_string();
    let out = repo.diff(&[
        "--base",
        "main",
        "fleet",
        "--format",
        "markdown",
        "--out-dir",
        &parts_arg,
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(out.stdout.is_empty());
    assert_eq!(
        fs::read_to_string(parts.join("strata-diff-1.md")).unwrap(),
        markdown
    );
}

#[test]
fn errors_exit_two_with_a_message() {
    let repo = Repo::new(Helm::V3);
    let out = repo.diff(&["--base", "no-such-branch", "fleet"]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(out.stdout.is_empty());
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with("strata: error: base revision \"no-such-branch\""),
        "{stderr}"
    );

    // A broken layer on the head side names the side and the file.
    repo.write("fleet/values/region/den1.yaml", "config: [unclosed\n");
    let out = repo.diff(&["--base", "main", "fleet"]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("at head working tree"), "{stderr}");
    assert!(stderr.contains("fleet/values/region/den1.yaml"), "{stderr}");
}
