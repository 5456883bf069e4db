//! `strata check` against a copy of examples/fleet with the real helm: chart values schemas
//! traced to the layer line that set a bad value, each built-in policy rule catching a
//! violation introduced into the copy (and passing on the clean example), rules selected per
//! environment, and Kubernetes schemas from a directory.
//!
//! The example is copied into a temporary repository first, so nothing is written into the
//! source tree.

use crate::common::*;
use serde_json::Value;

/// Adds a `checks:` section to the copied strata.yaml.
fn add_checks(t: &Tree, checks: &str) {
    let path = t.path("fleet/strata.yaml");
    let stack = std::fs::read_to_string(&path).expect("read strata.yaml");
    t.write("fleet/strata.yaml", format!("{stack}\nchecks:\n{checks}"));
}

/// Appends lines to a file of the copy.
fn append(t: &Tree, rel: &str, lines: &str) {
    let path = t.path(rel);
    let old = std::fs::read_to_string(&path).expect("read file to extend");
    t.write(rel, format!("{old}{lines}"));
}

/// Every rule on, shaped so that the clean example passes: its containers set no CPU limit,
/// so resourcesSet requires the other three settings.
const ALL_RULES: &str = "  rules:
    noLatestTag: true
    resourcesSet:
      require: [requests.cpu, requests.memory, limits.memory]
    noLiteralSecrets: true
    requiredLabels:
      labels: [app.kubernetes.io/name, app.kubernetes.io/instance]
    namespaceMatches: true
";

/// `strata check --format json`, expecting exit code `code`.
fn check_json(t: &Tree, helm: Helm, extra: &[&str], code: i32) -> Value {
    let mut args = vec!["check", "fleet", "--format", "json"];
    args.extend_from_slice(extra);
    let out = in_repo(t, helm, &args);
    assert_eq!(
        out.status.code(),
        Some(code),
        "strata check {extra:?} on helm {}\n{}",
        helm.version(),
        describe(&out)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("JSON: {e}\n{}", describe(&out)))
}

/// `(tenant, component, rule, "Kind namespace/name")` of each failure, in report order.
fn failures(report: &Value) -> Vec<(String, String, String, String)> {
    let s = |v: &Value| v.as_str().unwrap_or("-").to_owned();
    report["failures"]
        .as_array()
        .expect("failures")
        .iter()
        .map(|f| {
            let o = &f["object"];
            let object = if o.is_null() {
                "-".to_owned()
            } else {
                format!("{} {}/{}", s(&o["kind"]), s(&o["namespace"]), s(&o["name"]))
            };
            (s(&f["tenant"]), s(&f["component"]), s(&f["rule"]), object)
        })
        .collect()
}

#[test]
fn the_clean_example_passes_every_rule() {
    let t = fleet_repo();
    add_checks(&t, ALL_RULES);
    for helm in Helm::ALL {
        let report = check_json(&t, helm, &[], 0);
        assert_eq!(report["passed"], true, "{report:#}");
        assert_eq!(report["tenants"], 4);
        assert_eq!(report["failures"], serde_json::json!([]));
        for rule in [
            "render",
            "noLatestTag",
            "resourcesSet",
            "noLiteralSecrets",
            "requiredLabels",
            "namespaceMatches",
        ] {
            assert_eq!(report["checks"][rule], 4, "{rule}: {report:#}");
        }
        let text = in_repo(&t, helm, &["check", "fleet"]);
        assert_success(&text, "strata check (text)");
        let stdout = crate::common::text(&text.stdout);
        assert!(stdout.contains("checked 4 tenant(s)"), "{stdout}");
        assert!(stdout.ends_with("no failures\n"), "{stdout}");
    }
}

#[test]
fn a_schema_error_names_the_layer_file_and_line_that_set_the_value() {
    let t = fleet_repo();
    t.write(
        "fleet/charts/web/values.schema.json",
        r#"{
  "$schema": "http://json-schema.org/draft-07/schema#",
  "type": "object",
  "properties": {
    "replicaCount": {"type": "integer", "minimum": 1},
    "image": {"type": "object", "properties": {"tag": {"type": "string"}}}
  }
}
"#,
    );
    // customers/prod/acme/values.yaml has six lines; this is line 7.
    append(
        &t,
        "fleet/customers/prod/acme/values.yaml",
        "replicaCount: three\n",
    );
    for helm in Helm::ALL {
        let out = in_repo(&t, helm, &["check", "fleet"]);
        assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
        let stdout = crate::common::text(&out.stdout);
        assert!(
            stdout.contains(
                "web  valuesSchema  replicaCount: \"three\" is not of type \"integer\" — set by fleet/customers/prod/acme/values.yaml:7"
            ),
            "helm {}: {stdout}",
            helm.version()
        );
        assert!(
            stdout.contains("FAIL fleet/customers/prod/acme\n"),
            "{stdout}"
        );
        // helm refuses the same values, so the render fails too; the other tenants pass.
        assert!(
            !stdout.contains("FAIL fleet/customers/prod/globex"),
            "{stdout}"
        );

        let report = check_json(&t, helm, &[], 1);
        let schema: Vec<&Value> = report["failures"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule"] == "valuesSchema")
            .collect();
        assert_eq!(schema.len(), 1, "{report:#}");
        assert_eq!(schema[0]["tenant"], "fleet/customers/prod/acme");
        assert_eq!(schema[0]["component"], "web");
        assert_eq!(
            schema[0]["setBy"],
            "fleet/customers/prod/acme/values.yaml:7"
        );
        assert_eq!(report["checks"]["valuesSchema"], 4, "{report:#}");
    }
}

#[test]
fn each_rule_catches_the_violation_introduced() {
    let t = fleet_repo();
    add_checks(&t, ALL_RULES);
    // noLatestTag: globex deploys `latest`.
    append(
        &t,
        "fleet/customers/prod/globex/values.yaml",
        "image:\n  tag: latest\n",
    );
    // resourcesSet: initech's worker drops its CPU request (null deletes the chart default).
    append(
        &t,
        "fleet/customers/prod/initech/worker.yaml",
        "resources:\n  requests:\n    cpu: null\n",
    );
    // noLiteralSecrets, requiredLabels, namespaceMatches: a Secret with data, without labels,
    // in another namespace, rendered for preprod acme only.
    t.write(
        "fleet/charts/web/templates/secret.yaml",
        "{{- if .Values.dbPassword }}\napiVersion: v1\nkind: Secret\nmetadata:\n  name: {{ .Release.Name }}-db\n  namespace: shared\nstringData:\n  password: {{ .Values.dbPassword | quote }}\n{{- end }}\n",
    );
    append(
        &t,
        "fleet/customers/preprod/acme/values.yaml",
        "dbPassword: hunter2\n",
    );
    let report = check_json(&t, Helm::V3, &[], 1);
    assert_eq!(
        failures(&report),
        [
            (
                "fleet/customers/preprod/acme",
                "web",
                "noLiteralSecrets",
                "Secret shared/acme-db"
            ),
            (
                "fleet/customers/preprod/acme",
                "web",
                "requiredLabels",
                "Secret shared/acme-db"
            ),
            (
                "fleet/customers/preprod/acme",
                "web",
                "namespaceMatches",
                "Secret shared/acme-db"
            ),
            (
                "fleet/customers/prod/globex",
                "web",
                "noLatestTag",
                "Deployment web-globex/globex-web"
            ),
            (
                "fleet/customers/prod/initech",
                "worker",
                "resourcesSet",
                "Deployment web-initech/initech-worker"
            ),
        ]
        .map(|(a, b, c, d)| (a.to_owned(), b.to_owned(), c.to_owned(), d.to_owned())),
        "{report:#}"
    );
    let messages: Vec<&str> = report["failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert!(
        messages[0].contains("stringData (password)"),
        "{messages:?}"
    );
    assert!(
        !messages[0].contains("hunter2"),
        "a secret value leaked: {messages:?}"
    );
    assert!(messages[1].contains("app.kubernetes.io/name, app.kubernetes.io/instance"));
    assert!(messages[2].contains("\"shared\"") && messages[2].contains("\"web-acme\""));
    assert!(
        messages[3].contains("image \"registry.example.net/storefront/web:latest\""),
        "{messages:?}"
    );
    assert_eq!(
        messages[4],
        "container \"worker\" does not set resources requests.cpu"
    );

    // The text report lists the same failures, grouped by tenant.
    let out = in_repo(&t, Helm::V3, &["check", "fleet"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let stdout = crate::common::text(&out.stdout);
    assert!(
        stdout.contains("  web  noLatestTag  Deployment web-globex/globex-web: container \"web\""),
        "{stdout}"
    );
    assert!(
        stdout.ends_with("5 failure(s) in 3 tenant(s)\n"),
        "{stdout}"
    );
}

#[test]
fn rules_apply_to_the_tenants_their_when_selects() {
    let t = fleet_repo();
    // Every container lacks a CPU limit, so resourcesSet with its default (all four settings)
    // fails wherever it applies: here only in prod.
    add_checks(&t, "  rules:\n    resourcesSet:\n      when: {env: prod}\n");
    let report = check_json(&t, Helm::V3, &[], 1);
    let found = failures(&report);
    assert!(!found.is_empty());
    assert!(
        found.iter().all(
            |(tenant, _, rule, _)| tenant.starts_with("fleet/customers/prod/")
                && rule == "resourcesSet"
        ),
        "{found:?}"
    );
    assert_eq!(report["checks"]["resourcesSet"], 3, "{report:#}");
    assert!(
        report["failures"][0]["message"]
            .as_str()
            .unwrap()
            .ends_with("does not set resources limits.cpu"),
        "{report:#}"
    );
    // A selector narrows the tenants checked.
    let preprod = check_json(&t, Helm::V3, &["--selector", "env=preprod"], 0);
    assert_eq!(preprod["tenants"], 1);
    assert!(
        preprod["checks"].get("resourcesSet").is_none(),
        "{preprod:#}"
    );
}

#[test]
fn kubernetes_schemas_come_from_a_directory_and_missing_ones_are_skipped() {
    let t = fleet_repo();
    t.write(
        "schemas/deployment-apps-v1.json",
        r#"{
  "type": "object",
  "required": ["apiVersion", "kind", "metadata", "spec"],
  "properties": {
    "spec": {
      "type": "object",
      "required": ["selector", "template"],
      "properties": {"replicas": {"type": "integer", "maximum": 1}}
    }
  }
}
"#,
    );
    // initech's worker runs two replicas, above the schema's maximum; nothing else sets more.
    let report = check_json(&t, Helm::V4, &["--schemas", "schemas"], 1);
    assert_eq!(
        failures(&report),
        [(
            "fleet/customers/prod/initech".to_owned(),
            "worker".to_owned(),
            "kubeSchema".to_owned(),
            "Deployment web-initech/initech-worker".to_owned()
        )],
        "{report:#}"
    );
    assert_eq!(
        report["failures"][0]["message"],
        "spec.replicas: 2 is greater than the maximum of 1"
    );
    let kube = &report["kubeSchemas"];
    assert_eq!(kube["validated"], 5, "{report:#}");
    let configmaps = kube["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["kind"] == "ConfigMap")
        .expect("ConfigMaps are skipped");
    assert_eq!(configmaps["file"], "configmap-v1.json");
    assert_eq!(configmaps["count"], 5);

    // Without initech every object passes or has no schema: skipped objects are no failure.
    let out = in_repo(
        &t,
        Helm::V4,
        &[
            "check",
            "fleet",
            "--schemas",
            "schemas",
            "--selector",
            "region=yul1",
        ],
    );
    assert_success(&out, "strata check --schemas for globex");
    let stdout = crate::common::text(&out.stdout);
    assert!(
        stdout.contains("kubernetes schemas in schemas: 1 object(s) validated, 4 skipped without a schema (ConfigMap v1 ×1,"),
        "{stdout}"
    );

    let missing = in_repo(&t, Helm::V4, &["check", "fleet", "--schemas", "nope"]);
    assert_error(
        &missing,
        "a missing schema directory",
        &["schema directory nope"],
    );
}

#[test]
fn a_mistake_in_checks_is_an_error_naming_the_line() {
    let t = fleet_repo();
    add_checks(&t, "  rules:\n    requiredLabels: true\n");
    let out = in_repo(&t, Helm::V3, &["check", "fleet"]);
    assert_error(
        &out,
        "requiredLabels without labels",
        &["fleet/strata.yaml:", "needs the labels"],
    );
    let t = fleet_repo();
    add_checks(&t, "  rules:\n    noLatestTags: true\n");
    let out = in_repo(&t, Helm::V3, &["check", "fleet"]);
    assert_error(
        &out,
        "an unknown rule",
        &["fleet/strata.yaml:", "noLatestTags"],
    );
}

#[test]
fn each_tenant_is_merged_once() {
    let t = fleet_repo();
    add_checks(&t, ALL_RULES);
    let out = run(strata(Helm::V3)
        .current_dir(t.root())
        .env("STRATA_CACHE_DIR", t.mkdir("cache/merges"))
        .env("STRATA_LOG", "debug")
        .args(["check", "fleet"]));
    assert_success(&out, "strata check");
    let mut merges = std::collections::BTreeMap::<String, usize>::new();
    for line in text(&out.stderr).lines() {
        if let Some((_, rest)) = line.split_once("merged values of component ") {
            *merges.entry(rest.trim().to_owned()).or_default() += 1;
        }
    }
    let tenants: std::collections::BTreeSet<&str> = merges
        .keys()
        .filter_map(|k| k.split_once(" for tenant ").map(|(_, t)| t))
        .collect();
    assert_eq!(tenants.len(), 4, "{}", describe(&out));
    for (component, n) in &merges {
        assert_eq!(*n, 1, "{component}\n{}", describe(&out));
    }
}
