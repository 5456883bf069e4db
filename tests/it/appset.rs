//! `strata appset`: the ApplicationSet for examples/fleet and for stacks made here, validated
//! against the ApplicationSet CRD schema of the pinned Argo CD (tests/fixtures/argocd-crds),
//! and its manifest-generate-paths checked against `strata diff` on a real git repository.

use crate::common::*;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;
use strata::check::kube::{KubeOutcome, KubeSchemas};

const REPO_URL: &str = "https://git.example.com/platform/fleet.git";
const EXAMPLE: &str = "examples/argocd/applicationset.yaml";

fn list(v: &Value) -> Vec<Value> {
    v.as_array()
        .unwrap_or_else(|| panic!("expected a list, got {v}"))
        .clone()
}

fn parse(out: &std::process::Output) -> Value {
    serde_saphyr::from_str(&text(&out.stdout)).expect("appset YAML")
}

fn elements(set: &Value) -> Vec<Value> {
    list(&set["spec"]["generators"][0]["list"]["elements"])
}

fn names(set: &Value) -> Vec<String> {
    elements(set)
        .iter()
        .map(|e| e["name"].as_str().unwrap().to_owned())
        .collect()
}

fn appset(args: &[&str]) -> std::process::Output {
    run(strata_without_helm()
        .current_dir(manifest_dir())
        .args(["appset", "examples/fleet", "--repo-url", REPO_URL])
        .args(args))
}

/// The generated set passes the ApplicationSet CRD schema of Argo CD v3.5.1 (strict).
fn assert_valid(set: &Value, what: &str) {
    let schemas =
        KubeSchemas::open(&fixtures().join("argocd-crds")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(schemas.validate(set), KubeOutcome::Valid, "{what}");
}

#[test]
fn applicationset_example_is_current() {
    let out = appset(&[
        "--revision",
        "main",
        "--project",
        "tenants",
        "--check",
        EXAMPLE,
    ]);
    assert_success(&out, "strata appset --check");
    assert!(
        text(&out.stderr).contains("is up to date"),
        "{}",
        text(&out.stderr)
    );
    assert!(out.stdout.is_empty());
    let committed = fs::read_to_string(manifest_dir().join(EXAMPLE)).unwrap();
    assert_valid(&serde_saphyr::from_str(&committed).unwrap(), EXAMPLE);
}

#[test]
fn check_fails_when_the_committed_set_is_out_of_date_or_missing() {
    let t = Tree::new();
    let committed = fs::read_to_string(manifest_dir().join(EXAMPLE)).unwrap();
    let stale = t.write(
        "stale.yaml",
        committed.replace("customers-prod-globex", "customers-prod-gone"),
    );
    let out = appset(&[
        "--revision",
        "main",
        "--project",
        "tenants",
        "--check",
        stale.to_str().unwrap(),
    ]);
    assert_error(
        &out,
        "appset --check with a stale file",
        &[
            "is out of date",
            "first difference at line",
            "without --check",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    // Other options make another set: the committed one is out of date for them.
    let out = appset(&["--check", EXAMPLE]);
    assert_error(
        &out,
        "appset --check with other options",
        &["is out of date"],
    );
    let missing = t.path("missing.yaml");
    let out = appset(&["--check", missing.to_str().unwrap()]);
    assert_error(
        &out,
        "appset --check with no file",
        &["missing.yaml cannot be read"],
    );
}

#[test]
fn appset_sends_each_example_tenant_to_its_environment_and_region() {
    let out = appset(&["--revision", "main", "--project", "tenants"]);
    assert_success(&out, "strata appset");
    let set = parse(&out);
    assert_valid(&set, "example set");
    assert_eq!(set["kind"], "ApplicationSet");
    assert_eq!(set["spec"]["goTemplate"], true);
    assert_eq!(
        set["spec"]["goTemplateOptions"],
        json!(["missingkey=error"])
    );

    let stack: Value = serde_saphyr::from_str(
        &fs::read_to_string(manifest_dir().join("examples/fleet/strata.yaml")).unwrap(),
    )
    .expect("strata.yaml");
    let servers = &stack["clusters"]["servers"];
    let got: Vec<(String, String, String, String)> = elements(&set)
        .iter()
        .map(|e| {
            let s = |v: &Value| v.as_str().expect("string").to_owned();
            (
                s(&e["name"]),
                s(&e["path"]),
                s(&e["namespace"]),
                s(&e["server"]),
            )
        })
        .collect();
    let expect = |name: &str, dir: &str, ns: &str, cluster: &str| {
        (
            format!("fleet-{name}"),
            format!("examples/fleet/{dir}"),
            ns.to_owned(),
            servers[cluster].as_str().unwrap().to_owned(),
        )
    };
    assert_eq!(
        got,
        [
            expect(
                "customers-preprod-acme",
                "customers/preprod/acme",
                "web-acme",
                "preprod-den1"
            ),
            expect(
                "customers-prod-acme",
                "customers/prod/acme",
                "web-acme",
                "prod-den1"
            ),
            expect(
                "customers-prod-globex",
                "customers/prod/globex",
                "web-globex",
                "prod-yul1"
            ),
            expect(
                "customers-prod-initech",
                "customers/prod/initech",
                "web-initech",
                "prod-den1"
            ),
        ]
    );
    let template = &set["spec"]["template"];
    assert_eq!(template["metadata"]["name"], "{{ .name }}");
    assert_eq!(
        template["metadata"]["annotations"]["argocd.argoproj.io/manifest-generate-paths"],
        "{{ .generatePaths }}"
    );
    let spec = &template["spec"];
    assert_eq!(spec["project"], "tenants");
    assert_eq!(spec["source"]["repoURL"], REPO_URL);
    assert_eq!(spec["source"]["targetRevision"], "main");
    assert_eq!(spec["source"]["path"], "{{ .path }}");
    assert_eq!(
        spec["syncPolicy"]["automated"],
        json!({"prune": true, "selfHeal": true})
    );
    assert_eq!(
        spec["syncPolicy"]["syncOptions"],
        json!(["CreateNamespace=true"])
    );
    // Applications name the plugin `<metadata.name>-<spec.version>` of plugin.yaml.
    let plugin: Value =
        serde_saphyr::from_str(&fs::read_to_string(manifest_dir().join("plugin.yaml")).unwrap())
            .unwrap();
    let plugin_name = format!(
        "{}-{}",
        plugin["metadata"]["name"].as_str().unwrap(),
        plugin["spec"]["version"].as_str().unwrap()
    );
    assert_eq!(spec["source"]["plugin"]["name"], plugin_name.as_str());
}

#[test]
fn sync_policy_finalizers_and_labels() {
    let out = appset(&[
        "--sync",
        "manual",
        "--finalizer",
        "resources-finalizer.argocd.argoproj.io",
        "--label",
        "team=web",
        "--label",
        "example.com/tier=gold",
    ]);
    assert_success(&out, "appset --sync manual");
    let set = parse(&out);
    assert_valid(&set, "manual set");
    let template = &set["spec"]["template"];
    assert!(
        template["spec"]["syncPolicy"].get("automated").is_none(),
        "{}",
        template["spec"]["syncPolicy"]
    );
    assert_eq!(
        template["metadata"]["finalizers"],
        json!(["resources-finalizer.argocd.argoproj.io"])
    );
    let labels = json!({"example.com/tier": "gold", "team": "web"});
    assert_eq!(template["metadata"]["labels"], labels);
    assert_eq!(set["metadata"]["labels"], labels);

    let out = appset(&["--prune", "false", "--self-heal", "false"]);
    assert_success(&out, "appset --prune false");
    let set = parse(&out);
    assert_valid(&set, "automated set without prune");
    assert_eq!(
        set["spec"]["template"]["spec"]["syncPolicy"]["automated"],
        json!({"prune": false, "selfHeal": false})
    );

    for (args, needle) in [
        (
            &["--sync", "manual", "--prune", "true"][..],
            "--prune applies only to --sync automated",
        ),
        (
            &["--label", "Bad Key=x"][..],
            "label \"Bad Key\" is not a valid label key",
        ),
        (
            &["--label", "team={{ .x }}"][..],
            "is not a valid label value",
        ),
        (
            &["--finalizer", "nodots"][..],
            "finalizer \"nodots\" is not a valid finalizer",
        ),
    ] {
        let out = appset(args);
        assert_error(&out, &args.join(" "), &[needle]);
    }
}

#[test]
fn the_crd_schema_refuses_what_argo_cd_would_not_keep() {
    let out = appset(&[]);
    assert_success(&out, "appset");
    let mut set = parse(&out);
    set["spec"]["template"]["spec"]["syncPolicy"]["automated"]["selfheal"] = json!(true);
    let schemas = KubeSchemas::open(&fixtures().join("argocd-crds")).unwrap();
    let outcome = schemas.validate(&set);
    assert!(
        matches!(&outcome, KubeOutcome::Invalid(e) if e.iter().any(|m| m.contains("selfheal"))),
        "{outcome:?}"
    );
}

#[test]
fn appset_selects_tenants_and_refuses_an_empty_set() {
    let out = appset(&["--selector", "region=yul1"]);
    assert_success(&out, "strata appset --selector region=yul1");
    let set = parse(&out);
    assert_eq!(names(&set), ["fleet-customers-prod-globex"]);
    assert_eq!(set["spec"]["template"]["spec"]["project"], "default");
    assert_eq!(
        set["spec"]["template"]["spec"]["source"]["targetRevision"],
        "HEAD"
    );

    let out = appset(&["--selector", "env=staging"]);
    assert_error(
        &out,
        "strata appset --selector env=staging",
        &["matches the selector env=staging", "would delete"],
    );
}

/// A stack in `root/dir` with tenants at `tenants.path`, each a directory of `tenants`.
fn small_stack(t: &Tree, dir: &str, pattern: &str, tenants: &[&str]) {
    t.write(
        format!("{dir}/charts/app/Chart.yaml"),
        "apiVersion: v2\nname: app\nversion: 0.1.0\n",
    );
    t.mkdir(format!("{dir}/charts/app/templates"));
    for tenant in tenants {
        t.write(format!("{dir}/{tenant}/tenant.yaml"), "vars: {}\n");
    }
    t.write(
        format!("{dir}/strata.yaml"),
        format!(
            "apiVersion: strata/v1\nkind: Stack\ntenants: {{path: \"{pattern}\", file: tenant.yaml}}\n\
             components:\n  - name: app\n    chart: {{path: charts/app}}\n    namespace: app\n"
        ),
    );
}

#[test]
fn application_names_are_unique_across_stacks_and_duplicates_are_refused() {
    let t = Tree::new();
    t.mkdir(".git");
    for stack in ["apps/dcr", "apps/mec"] {
        small_stack(
            &t,
            stack,
            "customers/{{env}}/{{tenant}}",
            &["customers/prod/acme"],
        );
    }
    let mut all = BTreeSet::new();
    for stack in ["apps/dcr", "apps/mec"] {
        let out = run(strata_without_helm().current_dir(t.root()).args([
            "appset",
            stack,
            "--repo-url",
            REPO_URL,
        ]));
        assert_success(&out, stack);
        for name in names(&parse(&out)) {
            assert!(all.insert(name.clone()), "{name} made twice");
        }
    }
    assert_eq!(
        all,
        BTreeSet::from([
            "dcr-customers-prod-acme".to_owned(),
            "mec-customers-prod-acme".to_owned()
        ])
    );

    // `a-b/c` and `a/b-c` would both be `<set>-a-b-c`.
    let t = Tree::new();
    t.mkdir(".git");
    small_stack(&t, "s", "{{x}}/{{y}}", &["a-b/c", "a/b-c"]);
    let out = run(strata_without_helm().current_dir(t.root()).args([
        "appset",
        "s",
        "--repo-url",
        REPO_URL,
    ]));
    assert_error(
        &out,
        "appset with colliding names",
        &[
            "s/a-b/c",
            "s/a/b-c",
            "\"s-a-b-c\"",
            "rename one of the tenant directories",
        ],
    );
}

#[test]
fn repo_url_defaults_to_the_origin_remote_without_user_info() {
    let t = Tree::new();
    small_stack(&t, "stack", "t/{{tenant}}", &["t/a"]);
    git(t.root(), &["init", "-q"]);
    let out = run(strata_without_helm()
        .current_dir(t.root())
        .args(["appset", "stack"]));
    assert_error(
        &out,
        "appset without origin",
        &[
            "no --repo-url given",
            "no remote `origin`",
            "pass --repo-url",
        ],
    );

    git(
        t.root(),
        &[
            "remote",
            "add",
            "origin",
            "https://deploy:s3cr3t-token@git.example.com/platform/stack.git",
        ],
    );
    let out = run(strata_without_helm()
        .current_dir(t.root())
        .args(["appset", "stack"]));
    assert_success(&out, "appset with origin");
    assert!(
        !text(&out.stdout).contains("s3cr3t"),
        "the token leaked into the ApplicationSet"
    );
    assert!(!text(&out.stderr).contains("s3cr3t"));
    let set = parse(&out);
    assert_eq!(
        set["spec"]["template"]["spec"]["source"]["repoURL"],
        "https://git.example.com/platform/stack.git"
    );
    // --repo-url still wins.
    let out = run(strata_without_helm().current_dir(t.root()).args([
        "appset",
        "stack",
        "--repo-url",
        REPO_URL,
    ]));
    assert_eq!(
        parse(&out)["spec"]["template"]["spec"]["source"]["repoURL"],
        REPO_URL
    );

    git(
        t.root(),
        &[
            "remote",
            "set-url",
            "origin",
            "git@git.example.com:platform/stack.git",
        ],
    );
    let out = run(strata_without_helm()
        .current_dir(t.root())
        .args(["appset", "stack"]));
    assert_eq!(
        parse(&out)["spec"]["template"]["spec"]["source"]["repoURL"],
        "git@git.example.com:platform/stack.git"
    );
}

#[test]
fn appset_names_a_tenant_without_a_cluster() {
    let t = Tree::new();
    t.mkdir(".git");
    small_stack(&t, ".", "t/{{tenant}}", &["t/a", "t/b"]);
    t.write("t/a/tenant.yaml", "vars: {region: den1}\n");
    t.write("t/b/tenant.yaml", "vars: {region: fra1}\n");
    let stack = t.path("strata.yaml");
    let text = fs::read_to_string(&stack).unwrap();
    fs::write(
        &stack,
        format!("{text}clusters: {{by: region, servers: {{den1: https://den1.example.com}}}}\n"),
    )
    .unwrap();
    let out = run(strata_without_helm().current_dir(t.root()).args([
        "appset",
        ".",
        "--repo-url",
        REPO_URL,
        "--name",
        "fleet",
    ]));
    assert_error(
        &out,
        "appset with an unmapped region",
        &[
            "tenant t/b",
            "region=\"fra1\"",
            "clusters.servers",
            "clusters.default",
        ],
    );
}

/// A change that strata's render sees, by kind of file: a new top-level value in a layer, a
/// changed byte in a chart (a template left out, for .helmignore), a label on every object from strata.yaml, another region in a
/// tenant file; anything else (a README) gets a line of text.
fn probe_edit(path: &Path, rel: &str) {
    let text = fs::read_to_string(path).unwrap_or_default();
    let edited = if rel.ends_with("/strata.yaml") {
        format!("{text}\ncommonLabels:\n  probe: changed\n")
    } else if rel.ends_with("/tenant.yaml") {
        assert!(text.contains("yul1"), "{rel}: {text}");
        text.replace("yul1", "den1")
    } else if rel.ends_with("/.helmignore") {
        format!("{text}\ntemplates/service.yaml\n")
    } else if rel.contains("/charts/") {
        format!("{text}\n# probe\n")
    } else if rel.ends_with(".yaml") {
        format!("{text}\nstrataProbe: changed\n")
    } else {
        format!("{text}\nprobe\n")
    };
    fs::write(path, edited).unwrap();
}

#[test]
fn manifest_generate_paths_are_exactly_what_strata_diff_sees_change() {
    let t = Tree::new();
    t.copy_from(&manifest_dir().join("examples/fleet"), "repo/fleet");
    let root = t.path("repo");
    git(&root, &["init", "-q", "-b", "main"]);
    git(&root, &["add", "-A"]);
    git(&root, &["commit", "-q", "-m", "fleet"]);

    let out = run(strata_without_helm().current_dir(&root).args([
        "appset",
        "fleet",
        "--repo-url",
        REPO_URL,
    ]));
    assert_success(&out, "appset");
    let paths: BTreeMap<String, Vec<String>> = elements(&parse(&out))
        .iter()
        .map(|e| {
            let list = e["generatePaths"].as_str().expect("generatePaths");
            (
                e["path"].as_str().unwrap().to_owned(),
                list.split(';').map(str::to_owned).collect(),
            )
        })
        .collect();
    for list in paths.values() {
        for p in list {
            assert!(
                p.starts_with("/fleet/"),
                "absolute from the repository root: {p}"
            );
        }
    }
    let covers = |list: &[String], file: &str| {
        list.iter().any(|p| {
            let p = p.trim_start_matches('/');
            file == p || file.starts_with(&format!("{p}/"))
        })
    };

    // `strata diff` lists the tenants whose manifests or values differ, and counts those
    // whose render inputs differ; a tenant's inputs are checked alone by diffing its directory.
    let diff = |dir: &str| -> (BTreeSet<String>, u64) {
        let mut cmd = strata(Helm::V3);
        cmd.current_dir(&root)
            .env("STRATA_CACHE_DIR", t.path("cache"))
            .args(["diff", "--base", "HEAD", dir, "--format", "json"]);
        let out = run(&mut cmd);
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "strata diff {dir}: {}",
            text(&out.stderr)
        );
        let report: Value = serde_json::from_slice(&out.stdout).expect("diff JSON");
        let changed = list(&report["tenants"])
            .iter()
            .map(|t| t["tenant"].as_str().unwrap().to_owned())
            .collect();
        let rendered = report["summary"]["tenantsRendered"]
            .as_u64()
            .unwrap_or_else(|| panic!("no summary.tenantsRendered in {report}"));
        (changed, rendered)
    };
    let affected = |file: &str| -> BTreeSet<String> {
        let (changed, rendered) = diff("fleet");
        let mut inputs = changed.clone();
        // Tenants whose inputs changed although their output did not (a template of a chart
        // they render with `enabled: false`, say).
        for tenant in paths.keys().filter(|t| !changed.contains(*t)) {
            if diff(tenant).1 == 1 {
                inputs.insert(tenant.clone());
            }
        }
        assert_eq!(inputs.len() as u64, rendered, "{file}: {changed:?}");
        inputs
    };

    let files = git(&root, &["ls-files"]);
    let mut checked = 0;
    for file in files.lines() {
        probe_edit(&root.join(file), file);
        let expected: BTreeSet<String> = paths
            .iter()
            .filter(|(_, list)| covers(list, file))
            .map(|(tenant, _)| tenant.clone())
            .collect();
        assert_eq!(
            affected(file),
            expected,
            "tenants a change to {file} affects"
        );
        git(&root, &["checkout", "--", file]);
        checked += 1;
    }
    assert!(checked > 20, "only {checked} files");

    // A layer that does not exist yet is listed too: creating it changes the render.
    let optional = "fleet/values/env/prod/den1.yaml";
    assert!(!root.join(optional).exists());
    t.write(format!("repo/{optional}"), "strataProbe: created\n");
    let expected: BTreeSet<String> = paths
        .iter()
        .filter(|(_, list)| covers(list, optional))
        .map(|(tenant, _)| tenant.clone())
        .collect();
    assert_eq!(affected(optional), expected);
    assert_eq!(expected.len(), 2, "prod den1 tenants: {expected:?}");
}
