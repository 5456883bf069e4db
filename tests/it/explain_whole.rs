//! `explain` with the chart's own defaults (subcharts and globals included), keys a layer's
//! null deleted, `values --all` checked against what a chart template sees through the real
//! helm, and `explain --compare` between two tenants.

use crate::common::*;
use serde_json::Value;

const CHART_YAML: &str = "apiVersion: v2\nname: web\nversion: 0.3.0\ndependencies:\n  - name: sub\n    version: 0.1.0\n    alias: cache\n";
const VALUES: &str = "image:\n  repository: nginx\n  tag: \"1.27\"\nreplicas: 1\nglobal:\n  domain: example.com\nm:\n  keep: 1\n  n7: null\ncache:\n  enabled: true\n";
/// Prints what the templates see, so a render shows `.Values` exactly as helm computed it.
const DUMP: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dump\ndata:\n  values: {{ toJson .Values | quote }}\n";

fn stack() -> Tree {
    let t = Tree::new();
    t.mkdir(".git");
    t.write("charts/web/Chart.yaml", CHART_YAML);
    t.write("charts/web/values.yaml", VALUES);
    t.write("charts/web/templates/dump.yaml", DUMP);
    t.write(
        "charts/web/charts/sub/Chart.yaml",
        "apiVersion: v2\nname: sub\nversion: 0.1.0\n",
    );
    t.write(
        "charts/web/charts/sub/values.yaml",
        "size: 1\nglobal:\n  sub: only-sub\n",
    );
    t.write(
        "charts/web/charts/sub/templates/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: sub\ndata:\n  size: {{ .Values.size | quote }}\n",
    );
    t.write("values/common.yaml", "image:\n  tag: \"1.28\"\n");
    t.write(
        "t/acme/values.yaml",
        "replicas: null\nm:\n  n7: null\ncache:\n  size: 3\n",
    );
    t.write(
        "t/globex/values.yaml",
        "image: {tag: \"1.29\"}\nextra: yes\n",
    );
    t.write(
        "strata.yaml",
        "apiVersion: strata/v1\nkind: Stack\ntenants: {path: \"t/{{tenant}}\"}\ncomponents:\n  - name: web\n    chart: {path: charts/web}\n    values: [values/common.yaml, \"t/{{tenant}}/values.yaml\"]\n",
    );
    t
}

fn json(out: &std::process::Output, what: &str) -> Value {
    assert_success(out, what);
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{what}: {e}"))
}

#[test]
fn values_all_is_what_the_templates_see() {
    let t = stack();
    for which in Helm::ALL {
        for tenant in ["t/acme", "t/globex"] {
            let all = json(
                &in_repo(&t, which, &["values", "--all", tenant, "--format", "json"]),
                "values --all",
            );
            let render = in_repo(&t, which, &["render", tenant]);
            assert_success(&render, "render");
            let objects = strata::yaml::parse_manifest_stream(&text(&render.stdout)).unwrap();
            let dump = objects
                .iter()
                .find(|o| o["metadata"]["name"] == "dump")
                .unwrap();
            let seen: Value =
                serde_json::from_str(dump["data"]["values"].as_str().unwrap()).unwrap();
            assert_eq!(all, seen, "{tenant} on helm {}", which.version());
            // Subchart defaults and globals are coalesced in, and a null deleted a default.
            assert_eq!(seen["cache"]["global"]["sub"], "only-sub");
            assert_eq!(seen["global"]["domain"], "example.com");
            if tenant == "t/acme" {
                assert!(seen.get("replicas").is_none(), "{seen}");
                assert_eq!(seen["cache"]["size"], 3);
            }
        }
    }
    // `values` without --all stays what strata sends helm: the layers only.
    let layers = json(
        &in_repo(&t, Helm::V4, &["values", "t/acme", "--format", "json"]),
        "values",
    );
    assert_eq!(layers["replicas"], Value::Null);
    assert!(layers.get("global").is_none());
}

#[test]
fn explain_includes_chart_defaults_and_deletions() {
    let t = stack();
    let out = in_repo(&t, Helm::V4, &["explain", "t/acme"]);
    assert_success(&out, "explain");
    let stdout = text(&out.stdout);
    for needle in [
        "# chart web-0.3.0",
        "image.repository = \"nginx\"\n  set by    web-0.3.0/values.yaml:2",
        "image.tag = \"1.28\"\n  set by    values/common.yaml:2\n  overrides web-0.3.0/values.yaml:3 = \"1.27\"",
        "replicas deleted (a null over the chart default: helm removes the key)\n  deleted by t/acme/values.yaml:1",
        "cache.global.sub = \"only-sub\"\n  set by    web-0.3.0/charts/sub-0.1.0/values.yaml:3",
        "cache.size = 3\n  set by    t/acme/values.yaml:5\n  overrides web-0.3.0/charts/sub-0.1.0/values.yaml:1 = 1",
        "global.domain = \"example.com\"\n  set by    web-0.3.0/values.yaml:6",
    ] {
        assert!(stdout.contains(needle), "missing {needle:?} in:\n{stdout}");
    }
    // A key only the chart sets is explained instead of "no layer sets it".
    let out = in_repo(
        &t,
        Helm::V4,
        &[
            "explain",
            "t/globex",
            "image.repository",
            "--format",
            "json",
        ],
    );
    let explained = json(&out, "explain json");
    assert_eq!(
        explained["web"][0]["setBy"]["source"],
        "web-0.3.0/values.yaml"
    );
    assert_eq!(explained["web"][0]["setBy"]["line"], 2);
    let out = in_repo(
        &t,
        Helm::V4,
        &["explain", "t/acme", "replicas", "--format", "json"],
    );
    assert_eq!(json(&out, "deleted json")["web"][0]["deleted"], true);
}

#[test]
fn compare_lists_each_difference_and_the_file_behind_it() {
    let t = stack();
    let out = in_repo(
        &t,
        Helm::V4,
        &["explain", "--compare", "t/acme", "t/globex"],
    );
    assert_success(&out, "compare");
    let stdout = text(&out.stdout);
    let expected = "cache.size\n  t/acme    = 3  set by t/acme/values.yaml:5\n  t/globex  = 1  set by web-0.3.0/charts/sub-0.1.0/values.yaml:1\n\
extra\n  t/acme    (not set)\n  t/globex  = true  set by t/globex/values.yaml:2\n\
image.tag\n  t/acme    = \"1.28\"  set by values/common.yaml:2\n  t/globex  = \"1.29\"  set by t/globex/values.yaml:1\n\
replicas\n  t/acme    deleted by t/acme/values.yaml:1\n  t/globex  = 1  set by web-0.3.0/values.yaml:4\n";
    assert_eq!(stdout, expected);
    let out = in_repo(
        &t,
        Helm::V4,
        &[
            "explain",
            "--compare",
            "t/acme",
            "t/globex",
            "image",
            "--format",
            "json",
        ],
    );
    let json = json(&out, "compare json");
    let differences = json["differences"].as_array().unwrap();
    assert_eq!(differences.len(), 1, "{json}");
    assert_eq!(differences[0]["key"], "image.tag");
    assert_eq!(
        differences[0]["b"]["setBy"]["source"],
        "t/globex/values.yaml"
    );
    let out = in_repo(&t, Helm::V4, &["explain", "--compare", "t/acme", "t/acme"]);
    assert_eq!(
        text(&out.stdout),
        "t/acme and t/acme have the same values\n"
    );
}
