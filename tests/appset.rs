//! `strata appset`: the ApplicationSet for examples/fleet and for stacks made here.

mod common;

use common::*;
use serde_json::Value;
use std::fs;
use std::path::Path;

const REPO_URL: &str = "https://git.example.com/platform/fleet.git";

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

fn parse_one(path: &Path) -> Value {
    serde_saphyr::from_str(&read(path)).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn examples() -> std::path::PathBuf {
    manifest_dir().join("examples").join("argocd")
}

fn list(v: &Value) -> Vec<Value> {
    v.as_array()
        .unwrap_or_else(|| panic!("expected a list, got {v}"))
        .clone()
}

fn appset(args: &[&str]) -> std::process::Output {
    run(strata_without_helm()
        .current_dir(manifest_dir())
        .args(["appset", "examples/fleet", "--repo-url", REPO_URL])
        .args(args))
}

#[test]
fn applicationset_example_is_current() {
    let out = appset(&["--revision", "main", "--project", "tenants"]);
    assert_success(&out, "strata appset");
    let file = examples().join("applicationset.yaml");
    let committed = fs::read(&file).expect("examples/argocd/applicationset.yaml");
    if out.stdout != committed {
        panic!(
            "examples/argocd/applicationset.yaml is out of date; regenerate it from the repository root:\n\n  \
             cargo run -q -- appset examples/fleet --repo-url {REPO_URL} --revision main --project tenants > examples/argocd/applicationset.yaml\n\n{}",
            line_diff(&text(&committed), &text(&out.stdout))
        );
    }
}

#[test]
fn appset_sends_each_example_tenant_to_its_environment_and_region() {
    let out = appset(&["--revision", "main", "--project", "tenants"]);
    assert_success(&out, "strata appset");
    let set: Value = serde_saphyr::from_str(&text(&out.stdout)).expect("appset YAML");
    assert_eq!(set["kind"], "ApplicationSet");
    assert_eq!(set["spec"]["goTemplate"], true);
    assert_eq!(
        set["spec"]["goTemplateOptions"],
        serde_json::json!(["missingkey=error"])
    );

    let stack: Value =
        serde_saphyr::from_str(&read(&manifest_dir().join("examples/fleet/strata.yaml")))
            .expect("strata.yaml");
    let servers = &stack["clusters"]["servers"];
    assert_eq!(stack["clusters"]["by"], "{{env}}-{{region}}");
    let elements = list(&set["spec"]["generators"][0]["list"]["elements"]);
    let got: Vec<(String, String, String, String)> = elements
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
    let server = |region: &str| servers[region].as_str().expect("server").to_owned();
    let expect = |name: &str, dir: &str, ns: &str, region: &str| {
        (
            name.to_owned(),
            format!("examples/fleet/{dir}"),
            ns.to_owned(),
            server(region),
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
    for e in &elements {
        assert!(manifest_dir().join(e["path"].as_str().unwrap()).is_dir());
        let key = format!(
            "{}-{}",
            e["vars"]["env"].as_str().unwrap(),
            e["vars"]["region"].as_str().unwrap()
        );
        assert_eq!(servers[key.as_str()], e["server"], "{key}");
    }

    let spec = &set["spec"]["template"]["spec"];
    assert_eq!(spec["project"], "tenants");
    assert_eq!(spec["source"]["repoURL"], REPO_URL);
    assert_eq!(spec["source"]["targetRevision"], "main");
    assert_eq!(spec["source"]["path"], "{{ .path }}");
    assert_eq!(spec["destination"]["server"], "{{ .server }}");
    assert_eq!(spec["destination"]["namespace"], "{{ .namespace }}");
    assert_eq!(spec["syncPolicy"]["automated"]["prune"], true);
    assert_eq!(spec["syncPolicy"]["automated"]["selfHeal"], true);
    assert_eq!(
        spec["syncPolicy"]["syncOptions"],
        serde_json::json!(["CreateNamespace=true"])
    );
    // Applications name the plugin `<metadata.name>-<spec.version>` of plugin.yaml.
    let plugin = parse_one(&manifest_dir().join("plugin.yaml"));
    let plugin_name = format!(
        "{}-{}",
        plugin["metadata"]["name"].as_str().unwrap(),
        plugin["spec"]["version"].as_str().unwrap()
    );
    assert_eq!(spec["source"]["plugin"]["name"], plugin_name.as_str());
}

#[test]
fn appset_selects_tenants_and_refuses_an_empty_set() {
    let out = appset(&["--selector", "region=yul1"]);
    assert_success(&out, "strata appset --selector region=yul1");
    let set: Value = serde_saphyr::from_str(&text(&out.stdout)).expect("appset YAML");
    let names: Vec<Value> = list(&set["spec"]["generators"][0]["list"]["elements"])
        .iter()
        .map(|e| e["name"].clone())
        .collect();
    assert_eq!(names, [Value::from("customers-prod-globex")]);
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

#[test]
fn appset_names_a_tenant_without_a_cluster() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    fs::create_dir(root.join(".git")).unwrap();
    fs::create_dir_all(root.join("charts/app/templates")).unwrap();
    fs::write(
        root.join("charts/app/Chart.yaml"),
        "apiVersion: v2\nname: app\nversion: 0.1.0\n",
    )
    .unwrap();
    for (tenant, region) in [("a", "den1"), ("b", "fra1")] {
        let t = root.join("t").join(tenant);
        fs::create_dir_all(&t).unwrap();
        fs::write(
            t.join("tenant.yaml"),
            format!("vars: {{region: {region}}}\n"),
        )
        .unwrap();
    }
    fs::write(
        root.join("strata.yaml"),
        "apiVersion: strata/v1\nkind: Stack\ntenants: {path: \"t/{{tenant}}\", file: tenant.yaml}\n\
         clusters: {by: region, servers: {den1: https://den1.example.com}}\n\
         components:\n  - name: app\n    chart: {path: charts/app}\n",
    )
    .unwrap();
    let out = run(strata_without_helm().current_dir(root).args([
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
