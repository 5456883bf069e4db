//! Post-render features through the `strata` binary and the real helm: common labels and
//! annotations, sync waves, `manifests` components, and what stays byte for byte helm's.
//!
//! Rewritten documents are read back by a Go YAML reader too: helm itself, given a rendered
//! document as a values file, reads it with the same YAML 1.1 library Argo CD uses.

use crate::common::*;
use serde_json::{Value, json};
use std::process::Output;

const CHART_YAML: &str = "apiVersion: v2\nname: web\nversion: 1.4.2\n";

/// A ConfigMap, a Deployment with a pod template, and a Service: labels and annotations go on
/// all three, never into the pod template.
const TEMPLATES: &str = r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-config
  labels:
    app: web
    team: from-chart
data:
  enabled: "on"
  mode: "0755"
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}
  labels:
    app: web
spec:
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
        - name: web
          image: "nginx:{{ .Values.tag | default "1.27" }}"
---
apiVersion: v1
kind: Service
metadata:
  name: {{ .Release.Name }}
spec:
  ports:
    - port: 80
"#;

const CLAIM: &str = "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: \"{{tenant}}-data\"\nspec:\n  resources: {requests: {storage: 1Gi}}\n";

const RULES: &str = "# Alert rules keep their own braces.\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: rules\ndata:\n  alert: \"{{ $labels.instance }} is down\"\n---\n";

/// A stack with the chart `charts/web`, manifests under `manifests/`, and tenant `t/acme`.
fn stack(body: &str) -> Tree {
    let tree = Tree::new();
    tree.write("charts/web/Chart.yaml", CHART_YAML);
    tree.write("charts/web/templates/all.yaml", TEMPLATES);
    tree.write("manifests/db/claim.yaml", CLAIM);
    tree.write("manifests/raw/rules.yaml", RULES);
    tree.mkdir("t/acme");
    tree.write(
        "strata.yaml",
        format!(
            "apiVersion: strata/v1\nkind: Stack\ntenants: {{path: \"t/{{{{tenant}}}}\"}}\nvars: {{team: payments}}\n{body}"
        ),
    );
    tree
}

fn render(tree: &Tree, helm: Helm) -> Output {
    run(strata(helm)
        .env("STRATA_CACHE_DIR", tree.path("cache"))
        .arg("render")
        .arg(tree.path("t/acme")))
}

#[track_caller]
fn render_ok(tree: &Tree, helm: Helm) -> String {
    let out = render(tree, helm);
    assert_success(&out, &format!("strata render (helm {})", helm.version()));
    text(&out.stdout)
}

fn objects(stream: &str) -> Vec<Value> {
    strata::yaml::parse_manifest_stream(stream).expect("rendered output parses")
}

/// The `# Source:` paths of a stream, in order.
fn sources(stream: &str) -> Vec<&str> {
    stream
        .lines()
        .filter_map(|l| l.strip_prefix("# Source: "))
        .collect()
}

/// helm's own rendering of `charts/web` as strata runs it for tenant acme.
fn helm_template(tree: &Tree, which: Helm) -> Vec<u8> {
    let values = tree.write("helm-values.json", "{}");
    let out = run_std(
        helm(which)
            .arg("template")
            .arg("acme")
            .arg(tree.path("charts/web"))
            .arg("--namespace=acme")
            .arg(format!("--values={}", values.display()))
            .arg("--include-crds"),
    );
    assert_success(&out, "helm template");
    out.stdout
}

#[test]
fn labels_and_annotations_land_on_every_object() {
    let tree = stack(
        r#"commonLabels:
  team: "{{team}}"
  app.kubernetes.io/version: "{{chartVersion}}"
  tier: stack
commonAnnotations:
  owner: "{{chartName}} for {{tenant}}"
components:
  - name: web
    chart: {path: charts/web}
    commonLabels:
      tier: "web-{{tenant}}"
"#,
    );
    for which in Helm::ALL {
        let stream = render_ok(&tree, which);
        let objects = objects(&stream);
        assert_eq!(objects.len(), 3, "{stream}");
        for object in &objects {
            let labels = &object["metadata"]["labels"];
            assert_eq!(labels["team"], "payments", "{object}");
            assert_eq!(labels["app.kubernetes.io/version"], "1.4.2", "{object}");
            assert_eq!(labels["tier"], "web-acme", "{object}");
            assert_eq!(
                object["metadata"]["annotations"]["owner"], "web for acme",
                "{object}"
            );
        }
        assert_eq!(objects[0]["metadata"]["labels"]["app"], "web");
        assert_eq!(objects[0]["data"], json!({"enabled": "on", "mode": "0755"}));
        let deployment = objects
            .iter()
            .find(|o| o["kind"] == "Deployment")
            .expect("a Deployment");
        assert_eq!(
            deployment["spec"]["template"]["metadata"],
            json!({"labels": {"app": "web"}}),
            "pod templates keep their labels"
        );
        assert_eq!(
            sources(&stream),
            ["web/templates/all.yaml"; 3],
            "documents keep helm's source"
        );
    }
}

#[test]
fn sync_wave_orders_a_database_before_the_app() {
    let tree = stack(
        r#"components:
  - name: db
    manifests: {path: manifests/db, template: true}
    syncWave: -1
  - name: web
    chart: {path: charts/web}
    syncWave: 2
  - name: plain
    chart: {path: charts/web}
    releaseName: plain
"#,
    );
    for which in Helm::ALL {
        let stream = render_ok(&tree, which);
        let objects = objects(&stream);
        assert_eq!(objects.len(), 7, "{stream}");
        let waves: Vec<&Value> = objects
            .iter()
            .map(|o| &o["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"])
            .collect();
        assert_eq!(waves[0], "-1");
        assert!(waves[1..4].iter().all(|w| *w == "2"), "{waves:?}");
        assert!(waves[4..].iter().all(|w| w.is_null()), "{waves:?}");
        // The component without settings is helm's output as it is, even next to rewritten
        // ones.
        let values = tree.write("helm-values.json", "{}");
        let out = run_std(
            helm(which)
                .arg("template")
                .arg("plain")
                .arg(tree.path("charts/web"))
                .arg("--namespace=acme")
                .arg(format!("--values={}", values.display()))
                .arg("--include-crds"),
        );
        assert_success(&out, "helm template");
        assert!(
            stream.ends_with(&text(&out.stdout)),
            "the last component is helm's bytes\n{stream}"
        );
    }
}

#[test]
fn manifests_components_render_in_order_with_the_chart() {
    let tree = stack(
        r#"commonLabels: {team: "{{team}}"}
components:
  - name: db
    manifests: {path: manifests/db, template: true}
  - name: web
    chart: {path: charts/web}
  - name: raw
    manifests: {path: manifests/raw}
"#,
    );
    tree.write(
        "manifests/db/a-namespace.yml",
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: \"db-{{tenant}}\"}\n",
    );
    for which in Helm::ALL {
        let stream = render_ok(&tree, which);
        assert_eq!(
            sources(&stream),
            [
                "manifests/db/a-namespace.yml",
                "manifests/db/claim.yaml",
                "web/templates/all.yaml",
                "web/templates/all.yaml",
                "web/templates/all.yaml",
                "manifests/raw/rules.yaml",
            ],
            "{stream}"
        );
        let objects = objects(&stream);
        let names: Vec<&str> = objects
            .iter()
            .map(|o| o["metadata"]["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "db-acme",
                "acme-data",
                "acme-config",
                "acme",
                "acme",
                "rules"
            ]
        );
        assert_eq!(
            objects[5]["data"]["alert"], "{{ $labels.instance }} is down",
            "a file without `template: true` is not templated"
        );
        assert!(
            objects
                .iter()
                .all(|o| o["metadata"]["labels"]["team"] == "payments")
        );
    }
}

#[test]
fn without_settings_the_output_is_helms_bytes() {
    let tree = stack("components:\n  - name: web\n    chart: {path: charts/web}\n");
    for which in Helm::ALL {
        let stream = render(&tree, which);
        assert_success(&stream, "strata render");
        assert_same_bytes(
            &stream.stdout,
            &helm_template(&tree, which),
            &format!("strata render vs helm template (helm {})", which.version()),
        );
    }
}

/// Label and annotation values that a YAML 1.1 reader retypes unless they are quoted.
const AMBIGUOUS_LABELS: &[&str] = &[
    "on",
    "off",
    "yes",
    "no",
    "y",
    "n",
    "Y",
    "N",
    "Yes",
    "NO",
    "true",
    "False",
    "NULL",
    "Null",
    "0755",
    "08",
    "1_000",
    "1e3",
    "0x1F",
    "0o17",
    "0b101",
    "2001-12-14",
    "1.5",
    "1",
    "",
];
const AMBIGUOUS_ANNOTATIONS: &[&str] = &[
    "~",
    "null",
    "1:30",
    ".inf",
    "-.Inf",
    ".NaN",
    "",
    "- a",
    "#x",
    "a: b",
    "=",
    "<<",
    "*x",
    "1_000.5",
    "+1",
    "2001-12-14 21:59:43.10 -5",
    " lead",
    "line\nbreak",
];

#[test]
fn ambiguous_values_survive_a_yaml_1_1_read_as_argo_cd_does_it() {
    let quote = |s: &str| serde_json::to_string(s).unwrap();
    let mut body = String::from("commonLabels:\n");
    for (i, v) in AMBIGUOUS_LABELS.iter().enumerate() {
        body.push_str(&format!("  l{i}: {}\n", quote(v)));
    }
    body.push_str("commonAnnotations:\n");
    for (i, v) in AMBIGUOUS_ANNOTATIONS.iter().enumerate() {
        body.push_str(&format!("  a{i}: {}\n", quote(v)));
    }
    body.push_str(
        "components:\n  - name: web\n    chart: {path: charts/web}\n  - name: db\n    manifests: {path: manifests/db, template: true}\n",
    );
    let tree = stack(&body);
    // A chart that prints the metadata helm read from its values file, as JSON.
    tree.write(
        "echo/Chart.yaml",
        "apiVersion: v2\nname: echo\nversion: 0.1.0\n",
    );
    tree.write(
        "echo/templates/echo.yaml",
        "{{ toJson .Values.metadata }}\n",
    );
    let expected_labels: serde_json::Map<String, Value> = AMBIGUOUS_LABELS
        .iter()
        .enumerate()
        .map(|(i, v)| (format!("l{i}"), json!(v)))
        .collect();
    for which in Helm::ALL {
        let stream = render_ok(&tree, which);
        let documents: Vec<&str> = stream
            .split("---\n")
            .filter(|d| !d.trim().is_empty())
            .collect();
        assert_eq!(documents.len(), 4, "{stream}");
        for (index, document) in documents.iter().enumerate() {
            let file = tree.write(format!("doc-{index}.yaml"), document);
            let out = run_std(
                helm(which)
                    .arg("template")
                    .arg("echo")
                    .arg(tree.path("echo"))
                    .arg(format!("--values={}", file.display())),
            );
            assert_success(&out, "helm reading a rendered document");
            let printed = text(&out.stdout);
            let json_line = printed
                .lines()
                .find(|l| l.starts_with('{'))
                .unwrap_or_else(|| panic!("no JSON in {printed}"));
            let metadata: Value = serde_json::from_str(json_line).unwrap();
            for (key, value) in &expected_labels {
                assert_eq!(
                    &metadata["labels"][key],
                    value,
                    "helm {}: label {key} of document {index} as Go read it\n{document}",
                    which.version()
                );
            }
            for (i, value) in AMBIGUOUS_ANNOTATIONS.iter().enumerate() {
                assert_eq!(
                    metadata["annotations"][format!("a{i}")],
                    json!(value),
                    "helm {}: annotation a{i} of document {index} as Go read it\n{document}",
                    which.version()
                );
            }
        }
    }
}

#[test]
fn a_bad_manifests_file_fails_naming_the_file() {
    let tree = stack(
        "components:\n  - name: web\n    chart: {path: charts/web}\n  - name: db\n    manifests: {path: manifests/db}\n",
    );
    tree.write(
        "manifests/db/bad.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n---\napiVersion: v1\nmetadata: {name: no-kind}\n",
    );
    for which in Helm::ALL {
        let out = render(&tree, which);
        assert_error(
            &out,
            "a document without kind",
            &["manifests/db/bad.yaml:4", "document 2", "no `kind`"],
        );
    }
    // The plugin's init command catches it before generate, without running helm.
    let out = run(strata_without_helm()
        .env("STRATA_CACHE_DIR", tree.path("cache"))
        .env("ARGOCD_APP_SOURCE_PATH", "t/acme")
        .current_dir(tree.path("t/acme"))
        .arg("init"));
    assert_error(
        &out,
        "init with a document without kind",
        &["manifests/db/bad.yaml:4"],
    );
    tree.write("manifests/db/bad.yaml", "apiVersion: v1\nkind: [Secret\n");
    let out = render(&tree, Helm::V3);
    assert_error(&out, "a YAML syntax error", &["manifests/db/bad.yaml:"]);
    tree.write("manifests/db/bad.yaml", "- just\n- a list\n");
    let out = render(&tree, Helm::V3);
    assert_error(
        &out,
        "a list document",
        &["manifests/db/bad.yaml:1", "document 1", "must be a mapping"],
    );
}

#[test]
fn a_manifests_path_outside_the_repository_is_refused() {
    let tree = stack("components:\n  - name: db\n    manifests: {path: ../elsewhere}\n");
    let out = render(&tree, Helm::V3);
    assert_error(
        &out,
        "manifests.path with ..",
        &["manifests path", "../elsewhere"],
    );
}

#[test]
fn the_render_cache_sees_every_post_render_setting() {
    let body = |team: &str, wave: i64| {
        format!(
            "commonLabels: {{team: \"{team}\"}}\ncomponents:\n  - name: db\n    manifests: {{path: manifests/db, template: true}}\n    syncWave: {wave}\n  - name: web\n    chart: {{path: charts/web}}\n"
        )
    };
    let tree = stack(&body("{{team}}", 1));
    let first = render_ok(&tree, Helm::V3);
    assert!(first.contains("team: payments"), "{first}");
    assert_eq!(
        first,
        render_ok(&tree, Helm::V3),
        "a warm render is the same"
    );

    tree.write("strata.yaml", {
        let text = std::fs::read_to_string(tree.path("strata.yaml")).unwrap();
        text.replace("{{team}}\"}", "{{team}}-2\"}")
    });
    let relabelled = render_ok(&tree, Helm::V3);
    assert!(relabelled.contains("team: payments-2"), "{relabelled}");

    tree.write(
        "strata.yaml",
        std::fs::read_to_string(tree.path("strata.yaml"))
            .unwrap()
            .replace("syncWave: 1", "syncWave: 3"),
    );
    let rewaved = render_ok(&tree, Helm::V3);
    assert!(rewaved.contains("sync-wave: \"3\""), "{rewaved}");

    tree.write("manifests/db/claim.yaml", CLAIM.replace("1Gi", "5Gi"));
    let resized = render_ok(&tree, Helm::V3);
    assert!(resized.contains("storage: 5Gi"), "{resized}");
}
