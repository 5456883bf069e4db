//! `strata diff` end to end: real git repositories holding a copy of examples/fleet, the
//! `strata` binary and the real helm.
//!
//! helm runs through a wrapper script (STRATA_HELM) that logs its arguments and execs the real
//! binary, so a test can tell which tenants were rendered. Every run gets its own chart and
//! render cache and its own TMPDIR, and every test checks afterwards that the user's checkout
//! is exactly as it was and that no temporary tree or git worktree was left behind.

use crate::common::*;
use serde_json::Value;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;

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
                "#!/bin/sh\necho \"$*\" >> '{calls}'\n\
                 if [ \"$1\" = template ] && [ -f '{spans}.on' ]; then\n\
                 echo \"start $(date +%s%N)\" >> '{spans}'\nsleep 0.2\n'{helm}' \"$@\"\nrc=$?\n\
                 echo \"end $(date +%s%N)\" >> '{spans}'\nexit $rc\nfi\n\
                 exec '{helm}' \"$@\"\n",
                calls = repo.tree.path("helm-calls").display(),
                spans = repo.tree.path("helm-spans").display(),
                helm = helm.path().display()
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

    /// The most `helm template` processes that ran at once during `run`; each is held
    /// open 0.2 s so that overlapping ones do overlap.
    fn peak_helm_processes(&self, run: impl FnOnce()) -> usize {
        let spans = self.tree.path("helm-spans");
        let _ = fs::remove_file(&spans);
        fs::write(self.tree.path("helm-spans.on"), "").unwrap();
        run();
        fs::remove_file(self.tree.path("helm-spans.on")).unwrap();
        let mut events: Vec<(u128, i32)> = fs::read_to_string(&spans)
            .unwrap_or_default()
            .lines()
            .map(|line| {
                let (what, at) = line.split_once(' ').expect("event line");
                // An end sorts before a start at the same instant: they did not overlap.
                (
                    at.parse().expect("nanoseconds"),
                    if what == "start" { 1 } else { -1 },
                )
            })
            .collect();
        events.sort();
        let (mut now, mut peak) = (0, 0);
        for (_, step) in events {
            now += step;
            peak = peak.max(now);
        }
        peak as usize
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
        crate::common::git(&self.root(), args)
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
fn jobs_bound_the_helm_processes_of_diff_and_render_all() {
    let repo = Repo::new(Helm::V3);
    repo.edit(
        "fleet/values/region/den1.yaml",
        "https://s3.den1.example.net",
        "https://s3-v2.den1.example.net",
    );
    for jobs in ["1", "2"] {
        let peak = repo.peak_helm_processes(|| {
            let out = repo.diff(&["--base", "main", "fleet", "--no-cache", "-j", jobs]);
            assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
        });
        assert_eq!(peak.to_string(), jobs, "strata diff -j {jobs}");
    }
    // A tenant's components share the fleet's workers: two tenants of two components at
    // once would be four helm processes.
    let peak = repo.peak_helm_processes(|| {
        let mut cmd = strata_without_helm();
        cmd.current_dir(repo.root())
            .env("STRATA_HELM", repo.tree.path("bin/helm"))
            .env("STRATA_CACHE_DIR", repo.tree.path("cache"))
            .env("TMPDIR", repo.tree.path("tmp"))
            .args(["render", "--all", "fleet", "--no-cache", "-j", "2"])
            .args(["--out-dir", &repo.tree.path("out").display().to_string()]);
        assert_success(&run(&mut cmd), "strata render --all -j 2");
    });
    assert_eq!(peak, 2, "strata render --all -j 2");
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
    // A link left at a part's name is replaced, never written through.
    let outside = repo.tree.write("outside.md", "keep me");
    fs::create_dir_all(&parts).unwrap();
    std::os::unix::fs::symlink(&outside, parts.join("strata-diff-1.md")).unwrap();
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
    assert_eq!(fs::read_to_string(&outside).unwrap(), "keep me");
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

/// A chart crafted to trigger every impact class: a Deployment reading a ConfigMap without a
/// checksum annotation, a StatefulSet with OnDelete and a volume claim, an optional PVC, a CRD,
/// and a Secret whose password the chart also copies into the ConfigMap.
const IMPACT_TEMPLATES: [(&str, &str); 6] = [
    (
        "Chart.yaml",
        "apiVersion: v2\nname: impact\nversion: 0.1.0\n",
    ),
    (
        "templates/app.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\n  namespace: {{ .Release.Namespace }}\nspec:\n  replicas: 2\n  selector:\n    matchLabels: {app: app}\n  template:\n    metadata:\n      labels: {app: app}\n    spec:\n      containers:\n        - name: app\n          image: {{ .Values.image | quote }}\n          envFrom:\n            - configMapRef: {name: plain-config}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: plain-config\n  namespace: {{ .Release.Namespace }}\ndata:\n  MODE: {{ .Values.mode | quote }}\n  DB_URL: \"postgres://app:{{ .Values.password }}@db:5432/app\"\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\n  namespace: {{ .Release.Namespace }}\nstringData:\n  password: {{ .Values.password | quote }}\n",
    ),
    (
        "templates/db.yaml",
        "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: db\n  namespace: {{ .Release.Namespace }}\nspec:\n  serviceName: db\n  replicas: 3\n  updateStrategy: {type: OnDelete}\n  selector:\n    matchLabels: {app: db}\n  template:\n    metadata:\n      labels: {app: db}\n    spec:\n      containers:\n        - name: db\n          image: {{ .Values.image | quote }}\n  volumeClaimTemplates:\n    - metadata: {name: data}\n      spec:\n        accessModes: [ReadWriteOnce]\n        resources:\n          requests:\n            storage: {{ .Values.storage }}\n",
    ),
    (
        "templates/scratch.yaml",
        "{{- if .Values.scratch }}\napiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: scratch\n  namespace: {{ .Release.Namespace }}\nspec:\n  accessModes: [ReadWriteOnce]\n  resources:\n    requests:\n      storage: 1Gi\n{{- end }}\n",
    ),
    (
        "crds/widgets.yaml",
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.example.com\nspec:\n  group: example.com\n  names: {kind: Widget, plural: widgets}\n  scope: Namespaced\n  versions:\n    - name: v1\n      served: true\n      storage: true\n      schema:\n        openAPIV3Schema: {type: object}\n",
    ),
    (
        "values.yaml",
        "image: db:1\nmode: fast\npassword: s3cr3t-pass-0001\nstorage: 1Gi\nscratch: true\n",
    ),
];

impl Repo {
    /// Adds the `impact` component (the chart above) to every tenant of the fleet, and commits.
    fn add_impact_chart(&self) {
        for (file, text) in IMPACT_TEMPLATES {
            self.write(&format!("fleet/charts/impact/{file}"), text);
        }
        let stack = fs::read_to_string(self.path("fleet/strata.yaml")).unwrap();
        self.write(
            "fleet/strata.yaml",
            &format!(
                "{stack}\n  - name: impact\n    chart: {{path: charts/impact}}\n    releaseName: \"{{{{tenant}}}}-impact\"\n    namespace: \"impact-{{{{tenant}}}}\"\n    values: [values/impact.yaml]\n"
            ),
        );
        self.write("fleet/values/impact.yaml", "mode: fast\n");
        self.commit("impact chart");
    }

    fn reset(&self) {
        self.git(&["checkout", "-q", "--", "."]);
    }
}

fn impact_kinds(report: &Value) -> Vec<(String, String, u64)> {
    report["impactGroups"]
        .as_array()
        .expect("impactGroups")
        .iter()
        .map(|g| {
            (
                g["kind"].as_str().unwrap().to_owned(),
                g["objectKind"].as_str().unwrap().to_owned(),
                g["objects"].as_array().unwrap().len() as u64,
            )
        })
        .collect()
}

#[test]
fn every_rollout_impact_class_is_detected_and_headlined() {
    for helm in Helm::ALL {
        let repo = Repo::new(helm);
        repo.add_impact_chart();

        // A new image restarts the Deployment's pods; the OnDelete StatefulSet waits; a bigger
        // volume claim template is refused; the scratch PVC is pruned with its data.
        repo.write(
            "fleet/values/impact.yaml",
            "mode: fast\nimage: db:2\nstorage: 2Gi\nscratch: false\n",
        );
        let report = repo.diff_json(&["--base", "main", "fleet"], 1);
        let kinds = impact_kinds(&report);
        assert_eq!(
            kinds,
            [
                ("dataLoss".into(), "v1/PersistentVolumeClaim".into(), 4),
                ("needsReplace".into(), "apps/StatefulSet".into(), 4),
                ("restart".into(), "apps/Deployment".into(), 4),
                ("pendingRestart".into(), "apps/StatefulSet".into(), 4),
            ],
            "{helm:?}: {report:#}"
        );
        let groups = report["impactGroups"].as_array().unwrap();
        assert_eq!(groups[1]["detail"], "spec.volumeClaimTemplates changed");
        assert_eq!(groups[2]["pods"], 8, "2 replicas in 4 tenants");
        assert_eq!(
            report["impact"]["headline"],
            "restarts pods in 4 of 4 tenants (8 pods) across 2 envs and 2 regions; pending restarts (OnDelete) in 4 tenants; 4 immutable-field changes (needs Replace); 4 deletions (4 possible data loss)"
        );
        let out = repo.diff(&["--base", "main", "fleet"]);
        let stdout = text(&out.stdout);
        let second = stdout.lines().nth(1).unwrap_or_default();
        assert!(
            second.starts_with("rollout: restarts pods in 4 of 4 tenants"),
            "{stdout}"
        );
        assert!(
            stdout.contains("immutable field (needs Replace): apps/StatefulSet (spec.volumeClaimTemplates changed) in 4 tenants"),
            "{stdout}"
        );
        let markdown = text(
            &repo
                .diff(&["--base", "main", "fleet", "--format", "markdown"])
                .stdout,
        );
        assert!(
            markdown.contains("**Rollout:** restarts pods in 4 of 4 tenants"),
            "{markdown}"
        );
        assert!(markdown.contains("#### Rollout impact"), "{markdown}");
        repo.reset();

        // A ConfigMap change that no checksum carries into the pod template: the pods keep
        // the old values. A CRD change is cluster-wide.
        repo.write("fleet/values/impact.yaml", "mode: safe\n");
        repo.edit(
            "fleet/charts/impact/crds/widgets.yaml",
            "served: true",
            "served: false",
        );
        let report = repo.diff_json(&["--base", "main", "fleet"], 1);
        assert_eq!(
            impact_kinds(&report),
            [
                (
                    "crdChange".into(),
                    "apiextensions.k8s.io/CustomResourceDefinition".into(),
                    4
                ),
                ("configNotPickedUp".into(), "v1/ConfigMap".into(), 4),
            ],
            "{helm:?}: {report:#}"
        );
        assert!(
            report["impactGroups"][1]["detail"]
                .as_str()
                .unwrap()
                .contains("read by Deployment/app whose pod template does not change"),
            "{report:#}"
        );
        assert_eq!(
            report["impact"]["headline"],
            "restarts no pods; no immutable-field change; no deletions; 4 CRD changes; 4 config changes pods will NOT pick up"
        );
        repo.reset();
    }
}

/// A Secret value the chart copies into a ConfigMap is masked there too, in every format, and
/// so is the values change that set it.
#[test]
fn a_secret_value_copied_into_a_configmap_is_masked_everywhere() {
    let repo = Repo::new(Helm::V3);
    repo.add_impact_chart();
    repo.write(
        "fleet/values/impact.yaml",
        "mode: safe\npassword: s3cr3t-pass-0002\n",
    );
    for format in ["text", "markdown", "json"] {
        let out = repo.diff(&["--base", "main", "fleet", "--format", format]);
        assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
        let stdout = text(&out.stdout);
        for secret in ["s3cr3t-pass-0001", "s3cr3t-pass-0002"] {
            assert!(
                !stdout.contains(secret),
                "{format} prints {secret}:\n{stdout}"
            );
        }
        assert!(
            stdout.contains("postgres://app:(redacted)@db:5432/app"),
            "{format}:\n{stdout}"
        );
    }
    let report = repo.diff_json(&["--base", "main", "fleet"], 1);
    let password = report["valueChanges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["key"] == "password")
        .expect("the password change is listed");
    // The base set no password in a layer (the chart's default applied).
    assert_eq!(password["old"], Value::Null);
    assert_eq!(password["new"], "(redacted)");
}

#[test]
fn a_chart_bump_is_summarised_with_its_change_notes() {
    let repo = Repo::new(Helm::V3);
    repo.edit(
        "fleet/charts/worker/Chart.yaml",
        "version: 1.1.0",
        "version: 1.2.0",
    );
    let chart = fs::read_to_string(repo.path("fleet/charts/worker/Chart.yaml")).unwrap();
    repo.write(
        "fleet/charts/worker/Chart.yaml",
        &format!("{chart}annotations:\n  artifacthub.io/changes: |\n    - kind: fixed\n      description: queue names are case-sensitive\n"),
    );
    let out = repo.diff(&["--base", "main", "fleet"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("charts:\n  worker 1.1.0 → 1.2.0 in 4 tenants: prod 3, preprod 1\n    - kind: fixed\n      description: queue names are case-sensitive\n"),
        "{stdout}"
    );
    let report = repo.diff_json(&["--base", "main", "fleet"], 1);
    let bump = &report["charts"][0];
    assert_eq!(bump["chart"], "worker");
    assert_eq!(bump["from"], "1.1.0");
    assert_eq!(bump["to"], "1.2.0");
    assert_eq!(bump["byVariable"], "env");
    assert_eq!(bump["by"]["prod"], 3);
    assert_eq!(bump["tenants"].as_array().unwrap().len(), 4);
    let markdown = text(
        &repo
            .diff(&["--base", "main", "fleet", "--format", "markdown"])
            .stdout,
    );
    assert!(
        markdown
            .contains("#### Charts\n\n- worker 1.1.0 → 1.2.0 in 4 tenants: prod 3, preprod 1\n"),
        "{markdown}"
    );
}

/// A cluster's kubeVersion in strata.yaml is a render input: changing it re-renders, and
/// shows, exactly the tenants on that cluster.
#[test]
fn a_cluster_kube_version_change_diffs_the_tenants_on_that_cluster() {
    let repo = Repo::new(Helm::V3);
    repo.write(
        "fleet/charts/web/templates/capabilities.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: capabilities\ndata:\n  kube: {{ .Capabilities.KubeVersion.Version | quote }}\n",
    );
    repo.edit(
        "fleet/strata.yaml",
        "    prod-yul1: https://prod-yul1.k8s.example.com\n",
        "    prod-yul1: {server: https://prod-yul1.k8s.example.com, kubeVersion: \"1.29.0\"}\n",
    );
    repo.commit("capabilities");
    repo.edit(
        "fleet/strata.yaml",
        "kubeVersion: \"1.29.0\"",
        "kubeVersion: \"1.30.0\"",
    );
    let report = repo.diff_json(&["--base", "main", "fleet"], 1);
    assert_eq!(tenants_of(&report), [GLOBEX]);
    let out = repo.diff(&["--base", "main", "fleet"]);
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("-  kube: v1.29.0\n+  kube: v1.30.0\n"),
        "{stdout}"
    );
}

/// `"COMPONENT for tenant TENANT" → merges`, from the debug log line the pipeline writes for
/// each merge of a component's values.
fn merges(stderr: &str) -> std::collections::BTreeMap<String, usize> {
    let mut counts = std::collections::BTreeMap::new();
    for line in stderr.lines() {
        if let Some((_, rest)) = line.split_once("merged values of component ") {
            *counts.entry(rest.trim().to_owned()).or_default() += 1;
        }
    }
    counts
}

#[test]
fn each_tenant_is_merged_once_per_side() {
    let repo = Repo::new(Helm::V3);
    repo.edit(
        "fleet/values/region/den1.yaml",
        "https://s3.den1.example.net",
        "https://s3-v2.den1.example.net",
    );
    let before = repo.checkout();
    let out = run(strata_without_helm()
        .current_dir(repo.root())
        .env("STRATA_HELM", repo.tree.path("bin/helm"))
        .env("STRATA_CACHE_DIR", repo.tree.path("cache"))
        .env("TMPDIR", repo.tree.path("tmp"))
        .env("STRATA_LOG", "debug")
        .args(["diff", "--base", "main", "fleet"]));
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert_eq!(repo.checkout(), before);
    // The den1 tenants changed and were rendered on both sides, from the merge of their side.
    let renders = repo
        .helm_calls()
        .iter()
        .filter(|c| c.starts_with("template"))
        .count();
    assert!(renders >= 6, "{}", describe(&out));
    let merges = merges(&text(&out.stderr));
    let tenants: std::collections::BTreeSet<&str> = merges
        .keys()
        .filter_map(|k| k.split_once(" for tenant ").map(|(_, t)| t))
        .collect();
    let all: std::collections::BTreeSet<&str> =
        DEN1_TENANTS.iter().copied().chain([GLOBEX]).collect();
    assert_eq!(tenants, all, "{}", describe(&out));
    for (component, n) in &merges {
        assert_eq!(*n, 2, "{component}: one merge per side\n{}", describe(&out));
    }
}

/// Turning on templating of a manifests component changes its output: the diff shows it,
/// also when common labels already make the tenant's variables part of the fingerprint.
#[test]
fn templating_a_manifests_component_is_a_change() {
    let repo = Repo::new(Helm::V3);
    let stack = |template: bool| {
        repo.write(
            "labelled/strata.yaml",
            &format!(
                "apiVersion: strata/v1\nkind: Stack\nvars:\n  team: blue\ntenants:\n  path: \"t/{{{{tenant}}}}\"\ncommonLabels: {{team: \"{{{{team}}}}\"}}\ncomponents:\n  - name: settings\n    manifests: {{path: m, template: {template}}}\n"
            ),
        );
    };
    stack(false);
    repo.write("labelled/t/acme/tenant.yaml", "{}\n");
    repo.write(
        "labelled/m/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  who: \"{{tenant}}\"\n",
    );
    repo.commit("labelled stack");
    stack(true);
    let out = repo.diff(&["--base", "main", "labelled"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let shown = text(&out.stdout);
    assert!(shown.contains("acme"), "{}", describe(&out));
    assert!(!shown.contains("no changes"), "{}", describe(&out));
}
