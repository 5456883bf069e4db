//! Patches after helm through the `strata` binary and the real helm: strategic merge and
//! JSON 6902 patches templated over the tenant's variables, applied in order to the selected
//! objects only, an unmatched patch as an error unless optional, and `explain` naming them.

use crate::common::*;
use serde_json::{Value, json};

const TEMPLATES: &str = r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-config
data:
  mode: "0755"
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}
  labels: {app: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: app
          image: nginx:1.27
          env: [{name: A, value: "1"}]
---
apiVersion: v1
kind: Service
metadata:
  name: {{ .Release.Name }}
  labels: {app: web}
spec:
  ports: [{port: 80}]
"#;

const COMMON: &str = r#"- target: {kind: Deployment, labels: {app: web}}
  strategicMerge:
    spec:
      template:
        spec:
          containers:
            - name: app
              env: [{name: TENANT, value: "{{tenant}}"}]
            - name: proxy
              image: "envoy:{{proxy}}"
          tolerations: [{key: dedicated, value: "{{tenant}}", effect: NoSchedule}]
- target: {kind: Service, name: "{{tenant}}"}
  jsonPatch:
    - {op: add, path: /metadata/annotations, value: {owner: "{{tenant}}"}}
    - {op: replace, path: /spec/ports/0/port, value: 8080}
"#;

fn stack() -> Tree {
    let t = Tree::new();
    t.mkdir(".git");
    t.write(
        "charts/web/Chart.yaml",
        "apiVersion: v2\nname: web\nversion: 1.0.0\n",
    );
    t.write("charts/web/templates/all.yaml", TEMPLATES);
    t.write("patches/common.yaml", COMMON);
    t.mkdir("t/acme");
    t.write(
        "strata.yaml",
        "apiVersion: strata/v1\nkind: Stack\ntenants: {path: \"t/{{tenant}}\"}\nvars: {proxy: \"1.31\"}\ncomponents:\n  - name: web\n    chart: {path: charts/web}\n    patches: [patches/common.yaml, \"t/{{tenant}}/patches.yaml?\"]\n",
    );
    t
}

fn objects(stream: &[u8]) -> Vec<Value> {
    strata::yaml::parse_manifest_stream(&text(stream)).unwrap()
}

#[test]
fn patches_change_only_the_objects_they_select() {
    let t = stack();
    for which in Helm::ALL {
        let out = in_repo(&t, which, &["render", "t/acme"]);
        assert_success(&out, "render with patches");
        let helm_out = run_std(
            helm(which)
                .args(["template", "acme"])
                .arg(t.path("charts/web"))
                .args(["--namespace", "acme", "--include-crds"])
                .arg(format!(
                    "--values={}",
                    t.write("empty.json", "{}").display()
                )),
        );
        assert_success(&helm_out, "helm template");
        let helm_text = text(&helm_out.stdout);
        // The ConfigMap, which no patch selects, is helm's own text.
        let configmap = helm_text
            .split("---\n")
            .find(|d| d.contains("kind: ConfigMap"))
            .unwrap();
        assert!(
            text(&out.stdout).contains(configmap),
            "{}",
            text(&out.stdout)
        );
        let got = objects(&out.stdout);
        let mut want = objects(&helm_out.stdout);
        let at = |kind: &str| want.iter().position(|o| o["kind"] == kind).unwrap();
        let (deployment, service) = (at("Deployment"), at("Service"));
        want[deployment]["spec"]["template"]["spec"]["containers"] = json!([
            {"name": "app", "image": "nginx:1.27", "env": [{"name": "A", "value": "1"}, {"name": "TENANT", "value": "acme"}]},
            {"name": "proxy", "image": "envoy:1.31"}
        ]);
        want[deployment]["spec"]["template"]["spec"]["tolerations"] =
            json!([{"key": "dedicated", "value": "acme", "effect": "NoSchedule"}]);
        want[service]["metadata"]["annotations"] = json!({"owner": "acme"});
        want[service]["spec"]["ports"][0]["port"] = json!(8080);
        assert_eq!(got, want, "helm {}", which.version());
    }
}

#[test]
fn a_patch_that_matches_nothing_is_an_error_unless_optional() {
    let t = stack();
    t.write(
        "t/acme/patches.yaml",
        "# tenant patches\n- target: {kind: Ingress}\n  jsonPatch: [{op: remove, path: /spec}]\n",
    );
    let out = in_repo(&t, Helm::V4, &["render", "t/acme"]);
    assert_error(
        &out,
        "unmatched patch",
        &[
            "t/acme/patches.yaml:2",
            "matched no object",
            "kind=Ingress",
            "optional: true",
        ],
    );
    assert!(out.stdout.is_empty());
    t.write(
        "t/acme/patches.yaml",
        "- target: {kind: Ingress}\n  optional: true\n  jsonPatch: [{op: remove, path: /spec}]\n",
    );
    let out = in_repo(&t, Helm::V4, &["render", "t/acme"]);
    assert_success(&out, "optional patch");

    // A failing operation names the patch and the object.
    t.write(
        "t/acme/patches.yaml",
        "- target: {kind: Service}\n  jsonPatch: [{op: remove, path: /spec/nothing}]\n",
    );
    let out = in_repo(&t, Helm::V4, &["render", "t/acme"]);
    assert_error(
        &out,
        "bad op",
        &["t/acme/patches.yaml:1", "Service acme", "/spec/nothing"],
    );

    // Patch files are strict templates too.
    t.write(
        "t/acme/patches.yaml",
        "- target: {kind: Service}\n  jsonPatch: [{op: add, path: /metadata/labels/x, value: \"{{nope}}\"}]\n",
    );
    let out = in_repo(&t, Helm::V4, &["render", "t/acme"]);
    assert_error(
        &out,
        "unknown variable",
        &["t/acme/patches.yaml", "line 2", "`nope`"],
    );
}

#[test]
fn explain_names_the_patches() {
    let t = stack();
    let out = in_repo(&t, Helm::V4, &["explain", "t/acme"]);
    assert_success(&out, "explain");
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("# patched after helm by patches/common.yaml:1 (strategic merge on kind=Deployment,labels.app=web)")
            && stdout.contains("# patched after helm by patches/common.yaml:12 (JSON patch on kind=Service,name=acme)"),
        "{stdout}"
    );
}

fn git(t: &Tree, args: &[&str]) {
    crate::common::git(t.root(), args);
}

#[test]
fn diff_sees_a_patch_change() {
    let t = Tree::new();
    t.write(
        "charts/web/Chart.yaml",
        "apiVersion: v2\nname: web\nversion: 1.0.0\n",
    );
    t.write("charts/web/templates/all.yaml", TEMPLATES);
    t.write("patches/common.yaml", COMMON);
    t.mkdir("t/acme");
    t.write("t/acme/.keep", "");
    t.write(
        "strata.yaml",
        "apiVersion: strata/v1\nkind: Stack\ntenants: {path: \"t/{{tenant}}\"}\nvars: {proxy: \"1.31\"}\ncomponents:\n  - name: web\n    chart: {path: charts/web}\n    patches: [patches/common.yaml]\n",
    );
    git(&t, &["init", "-q", "-b", "main"]);
    git(&t, &["add", "-A"]);
    git(&t, &["commit", "-q", "-m", "base"]);
    // Only the patch file changes: the tenant must still be rendered and compared.
    t.write(
        "patches/common.yaml",
        COMMON.replace("envoy:", "envoyproxy/envoy:"),
    );
    let out = in_repo(
        &t,
        Helm::V4,
        &["diff", "--base", "main", "--format", "json"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let text = report.to_string();
    assert!(text.contains("envoyproxy/envoy:1.31"), "{text}");
}

#[test]
fn diff_names_the_patches_that_touched_each_object() {
    let t = Tree::new();
    t.write(
        "charts/web/Chart.yaml",
        "apiVersion: v2\nname: web\nversion: 1.0.0\n",
    );
    t.write("charts/web/templates/all.yaml", TEMPLATES);
    t.write("patches/common.yaml", COMMON);
    t.mkdir("t/acme");
    t.write("t/acme/.keep", "");
    t.write(
        "strata.yaml",
        "apiVersion: strata/v1\nkind: Stack\ntenants: {path: \"t/{{tenant}}\"}\nvars: {proxy: \"1.31\"}\ncomponents:\n  - name: web\n    chart: {path: charts/web}\n    patches: [patches/common.yaml, \"t/{{tenant}}/patches.yaml?\"]\n",
    );
    git(&t, &["init", "-q", "-b", "main"]);
    git(&t, &["add", "-A"]);
    git(&t, &["commit", "-q", "-m", "base"]);
    // Head: the common patch changes the Deployment, a new tenant patch (absent at base) the
    // ConfigMap, and the chart adds an object no patch selects.
    t.write(
        "patches/common.yaml",
        COMMON.replace("envoy:", "envoyproxy/envoy:"),
    );
    t.write(
        "t/acme/patches.yaml",
        "# the tenant's own\n- target: {kind: ConfigMap, name: acme-config}\n  strategicMerge: {data: {mode: fast}}\n",
    );
    t.write(
        "charts/web/templates/extra.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-extra\ndata: {a: b}\n",
    );

    let out = in_repo(
        &t,
        Helm::V4,
        &["diff", "--base", "main", "--format", "json"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let objects = report["tenants"][0]["objects"].as_array().unwrap();
    let patched_by = |kind: &str, name: &str| {
        objects
            .iter()
            .find(|o| o["kind"] == kind && o["name"] == name)
            .unwrap_or_else(|| panic!("{kind} {name} not in {objects:?}"))
            .get("patchedBy")
            .cloned()
    };
    assert_eq!(
        patched_by("Deployment", "acme"),
        Some(json!(["patches/common.yaml:1"]))
    );
    assert_eq!(
        patched_by("ConfigMap", "acme-config"),
        Some(json!(["t/acme/patches.yaml:2"]))
    );
    assert_eq!(patched_by("ConfigMap", "acme-extra"), None);
    assert!(
        !objects.iter().any(|o| o["kind"] == "Service"),
        "the Service did not change: {objects:?}"
    );

    let out = in_repo(
        &t,
        Helm::V4,
        &["diff", "--base", "main", "--format", "text"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("+++ head apps/Deployment acme\n# patched by patches/common.yaml:1\n")
            && stdout.contains(
                "+++ head v1/ConfigMap acme-config\n# patched by t/acme/patches.yaml:2\n"
            )
            && stdout.matches("# patched by").count() == 2,
        "{stdout}"
    );

    let out = in_repo(
        &t,
        Helm::V4,
        &["diff", "--base", "main", "--format", "markdown"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("Patched by `patches/common.yaml:1`.")
            && stdout.contains("Patched by `t/acme/patches.yaml:2`.")
            && stdout.matches("Patched by").count() == 2,
        "{stdout}"
    );
}
