//! Templated values layers (`*.tmpl`) through the `strata` binary and the real helm: one
//! common layer renders per tenant, `explain` points at the template's line, and a variable
//! can neither be missing nor change the YAML structure.

use crate::common::*;

const CHART_YAML: &str = "apiVersion: v2\nname: web\nversion: 0.3.0\n";
const CONFIGMAP: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  host: {{ .Values.host | quote }}\n  replicas: {{ .Values.replicas | quote }}\n  size: {{ .Values.size | quote }}\n  team: {{ .Values.team | quote }}\n";

const COMMON_TMPL: &str = "# every tenant\nhost: \"{{tenant}}.{{region}}.example.com\"\nreplicas: {{replicas}}\n{{#if big}}\nsize: large\n{{/if}}\nteam: platform\n";

fn stack() -> Tree {
    let t = Tree::new();
    t.mkdir(".git");
    t.write("charts/web/Chart.yaml", CHART_YAML);
    t.write("charts/web/templates/cm.yaml", CONFIGMAP);
    t.write("charts/web/values.yaml", "size: small\n");
    t.write("values/common.yaml.tmpl", COMMON_TMPL);
    t.write("values/eu1.yaml", "team: eu\n");
    t.mkdir("t/eu1/acme");
    t.write("t/us2/globex/tenant.yaml", "vars: {big: \"yes\"}\n");
    t.write(
        "strata.yaml",
        r#"apiVersion: strata/v1
kind: Stack
tenants: {path: "t/{{region}}/{{tenant}}", file: tenant.yaml}
vars: {replicas: "2", big: ""}
components:
  - name: web
    chart: {path: charts/web}
    values:
      - values/common.yaml.tmpl
      - "values/{{region}}.yaml?"
"#,
    );
    t
}

/// helm's own rendering with `values` given as a plain file.
fn helm_render(t: &Tree, which: Helm, release: &str, values: &str) -> Vec<u8> {
    let file = t.write(format!("expected-{release}.yaml"), values);
    let out = run_std(
        helm(which)
            .arg("template")
            .arg(release)
            .arg(t.path("charts/web"))
            .arg(format!("--namespace={release}"))
            .arg(format!("--values={}", file.display()))
            .arg("--include-crds"),
    );
    assert_success(&out, "helm template");
    out.stdout
}

#[test]
fn a_common_template_layer_renders_per_tenant_like_helm() {
    let t = stack();
    for which in Helm::ALL {
        let acme = in_repo(&t, which, &["render", "t/eu1/acme"]);
        assert_success(&acme, "render acme");
        let expected = helm_render(
            &t,
            which,
            "acme",
            "host: acme.eu1.example.com\nreplicas: 2\nteam: eu\n",
        );
        assert_same_bytes(&acme.stdout, &expected, "acme");
        let globex = in_repo(&t, which, &["render", "t/us2/globex"]);
        assert_success(&globex, "render globex");
        let expected = helm_render(
            &t,
            which,
            "globex",
            "host: globex.us2.example.com\nreplicas: 2\nsize: large\nteam: platform\n",
        );
        assert_same_bytes(&globex.stdout, &expected, "globex");
    }
}

#[test]
fn explain_points_at_the_template_line() {
    let t = stack();
    let out = in_repo(&t, Helm::V4, &["explain", "t/us2/globex", "host"]);
    assert_success(&out, "explain host");
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("host = \"globex.us2.example.com\"")
            && stdout.contains("set by    values/common.yaml.tmpl:2"),
        "{stdout}"
    );
    // A line after a block keeps its own number whichever way the block went.
    for tenant in ["t/us2/globex", "t/eu1/acme"] {
        let out = in_repo(&t, Helm::V4, &["explain", tenant, "--format", "json"]);
        assert_success(&out, "explain json");
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let leaves = json["web"].as_array().unwrap();
        let replicas = leaves.iter().find(|l| l["key"] == "replicas").unwrap();
        assert_eq!(replicas["value"], 2);
        assert_eq!(replicas["setBy"]["line"], 3);
        let team = leaves.iter().find(|l| l["key"] == "team").unwrap();
        let template_team = if tenant.contains("eu1") {
            &team["overrides"][0]
        } else {
            &team["setBy"]
        };
        assert_eq!(template_team["source"], "values/common.yaml.tmpl");
        assert_eq!(template_team["line"], 7);
    }
}

#[test]
fn an_unknown_variable_names_the_file_and_line() {
    let t = stack();
    t.write(
        "values/common.yaml.tmpl",
        "a: 1\nhost: \"{{tenant}}.{{regoin}}\"\n",
    );
    let out = in_repo(&t, Helm::V4, &["render", "t/eu1/acme"]);
    assert_error(
        &out,
        "unknown variable",
        &["values/common.yaml.tmpl", "line 2", "`regoin`"],
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn a_value_that_changes_the_yaml_structure_is_refused() {
    let t = stack();
    t.write(
        "values/common.yaml.tmpl",
        "a: 1\nhost: {{tenant}}.example.com\nreplicas: {{replicas}}\n",
    );
    for hostile in ["1\ninjected: true", "1 # cut", "{admin: true}", "x: y"] {
        let out = in_repo(
            &t,
            Helm::V4,
            &[
                "render",
                "t/eu1/acme",
                "--var",
                &format!("replicas={hostile}"),
            ],
        );
        assert_error(
            &out,
            &format!("replicas={hostile:?}"),
            &[
                "values/common.yaml.tmpl",
                "line 3",
                "changes the YAML structure",
            ],
        );
    }
    // Without the suffix a layer is plain YAML: the braces stay literal text.
    t.write("values/plain.yaml", "host: \"{{tenant}}\"\n");
    t.write(
        "strata.yaml",
        "apiVersion: strata/v1\nkind: Stack\ntenants: {path: \"t/{{region}}/{{tenant}}\"}\ncomponents:\n  - name: web\n    chart: {path: charts/web}\n    values: [values/plain.yaml]\n",
    );
    let out = in_repo(&t, Helm::V4, &["values", "t/eu1/acme"]);
    assert_success(&out, "plain layer");
    let values: serde_json::Value = serde_json::from_slice(
        &in_repo(&t, Helm::V4, &["values", "t/eu1/acme", "--format", "json"]).stdout,
    )
    .unwrap();
    assert_eq!(values["host"], "{{tenant}}", "{values}");
}
