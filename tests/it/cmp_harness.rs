//! strata as an Argo CD config management plugin, driven the way the
//! cmp-server drives it (see `tests/it/common/cmp.rs`): the repository's own
//! `plugin.yaml`, a 0644 checkout, an Argo-built environment, and the
//! repo-server's parsing of stdout.
//!
//! The stack is `tests/fixtures/cmp-stack`, extracted under `platform/` of
//! the checkout. Tenants: `customers/prod/acme` (tenant.yaml sets
//! `tier: gold`) and `customers/dev/globex`.

use crate::common::cmp::*;
use crate::common::*;
use serde_json::Value;

const STACK: &str = "platform";
const ACME: &str = "platform/customers/prod/acme";
const GLOBEX: &str = "platform/customers/dev/globex";

fn sidecar(helm: Helm) -> Sidecar {
    Sidecar::new(&fixtures().join("cmp-stack"), STACK, helm)
}

fn data<'a>(cm: &'a Value, key: &str) -> &'a str {
    cm["data"][key]
        .as_str()
        .unwrap_or_else(|| panic!("ConfigMap has no string data.{key}: {cm}"))
}

fn plain_tenant(helm: Helm) {
    let sc = sidecar(helm);
    // "apps in any namespace" name: the release name drops the "<ns>_" prefix.
    let app = App::new("team-a_acme-prod", "acme-ns", ACME);
    let (objects, _) = sc.generate_ok(&app);

    // Component "web": explicit releaseName/namespace templates.
    let deploy = object(&objects, "Deployment", "acme-web");
    assert_eq!(deploy["metadata"]["namespace"], "web-acme");
    assert_eq!(
        deploy["spec"]["replicas"], 3,
        "values/env/prod.yaml sets replicaCount: 3"
    );
    assert_eq!(container_image(deploy), "registry.example.com/web:2.0.0");

    let cm = object(&objects, "ConfigMap", "acme-settings");
    assert_eq!(cm["metadata"]["namespace"], "web-acme");
    assert_eq!(data(cm, "region"), "den1", "stack var region");
    assert_eq!(data(cm, "tier"), "gold", "tenant.yaml var tier");
    assert_eq!(data(cm, "greeting"), "hello-from-common");
    assert_eq!(
        data(cm, "kubeVersion"),
        "v1.30.11",
        "KUBE_VERSION reaches helm"
    );
    assert_eq!(
        data(cm, "hasWidgetApi"),
        "true",
        "KUBE_API_VERSIONS reaches helm"
    );
    assert_eq!(data(cm, "extra"), r#"{"owner":"acme"}"#);

    // includeCrds defaults to true, skipTests to false.
    object(&objects, "CustomResourceDefinition", "widgets.example.com");
    object(&objects, "Pod", "acme-web-smoke");

    // Component "cache": release name and namespace default from Argo CD.
    let cache = object(&objects, "Deployment", "acme-prod-cache");
    assert_eq!(cache["metadata"]["namespace"], "acme-ns");
    assert_eq!(
        container_image(cache),
        "redis:7.4",
        "optional tenant layer cache.yaml"
    );
    assert!(
        !has_object(&objects, "CustomResourceDefinition", "gadgets.example.com"),
        "cache has includeCrds: false: {}",
        summary(&objects)
    );
    assert!(
        !objects.iter().any(|o| o["kind"] == "Pod"
            && o["metadata"]["name"]
                .as_str()
                .is_some_and(|n| n.ends_with("-cache-ping"))),
        "cache has skipTests: true: {}",
        summary(&objects)
    );
    assert_eq!(
        objects.len(),
        5,
        "unexpected objects: {}",
        summary(&objects)
    );
}

#[test]
fn plain_tenant_helm3() {
    plain_tenant(Helm::V3);
}

#[test]
fn plain_tenant_helm4() {
    plain_tenant(Helm::V4);
}

/// The `values` map parameter is the highest layer (dotted keys nest), the
/// `valuesYaml` parameter sits just below it, both above every file layer.
fn values_parameters(helm: Helm) {
    let sc = sidecar(helm);
    let app = App::new("acme", "acme", ACME)
        .param(Param::map("values", &[("image.tag", "v9.9.9"), ("greeting", "from-map")]))
        .param(Param::string(
            "valuesYaml",
            "replicaCount: 5\nimage:\n  repository: ghcr.io/acme/web\n  tag: from-yaml\ngreeting: from-yaml\nextra: {owner: \"<acme & co>\"}\n",
        ));
    let (objects, _) = sc.generate_ok(&app);
    let deploy = object(&objects, "Deployment", "acme-web");
    assert_eq!(
        deploy["spec"]["replicas"], 5,
        "valuesYaml beats the file layers"
    );
    assert_eq!(
        container_image(deploy),
        "ghcr.io/acme/web:v9.9.9",
        "values map (image.tag) beats valuesYaml, valuesYaml's image.repository survives"
    );
    let cm = object(&objects, "ConfigMap", "acme-settings");
    assert_eq!(data(cm, "greeting"), "from-map");
    assert_eq!(
        data(cm, "tier"),
        "gold",
        "untouched keys keep their layered values"
    );
    assert_eq!(
        data(cm, "extra"),
        r#"{"owner":"\u003cacme \u0026 co\u003e"}"#
    );
    // The cache component does not use these keys and keeps its own values.
    let cache = object(&objects, "Deployment", "acme-cache");
    assert_eq!(container_image(cache), "redis:7.4");
}

#[test]
fn values_parameters_helm3() {
    values_parameters(Helm::V3);
}

#[test]
fn values_parameters_helm4() {
    values_parameters(Helm::V4);
}

/// `ARGOCD_ENV_REGION` sets the variable `region`, overriding the stack's
/// default, which selects a different values layer.
#[test]
fn argocd_env_overrides_a_variable() {
    let sc = sidecar(Helm::V3);
    let base = App::new("globex", "globex", GLOBEX);
    let (objects, _) = sc.generate_ok(&base);
    let cm = object(&objects, "ConfigMap", "globex-settings");
    assert_eq!(data(cm, "region"), "den1");
    assert_eq!(data(cm, "tier"), "standard", "globex has no tenant.yaml");
    assert_eq!(data(cm, "greeting"), "hi-globex");
    let deploy = object(&objects, "Deployment", "globex-web");
    assert_eq!(deploy["metadata"]["namespace"], "web-globex");
    assert_eq!(deploy["spec"]["replicas"], 1, "values/env/dev.yaml");

    let (objects, _) = sc.generate_ok(&base.clone().env("REGION", "sjc1"));
    let cm = object(&objects, "ConfigMap", "globex-settings");
    assert_eq!(data(cm, "region"), "sjc1", "ARGOCD_ENV_REGION=sjc1");
}

/// spec.parameters.dynamic prints a JSON array Argo CD accepts, announcing
/// the tenant's variables.
#[test]
fn dynamic_parameters_announce_tenant_variables() {
    let sc = sidecar(Helm::V3);
    let app = App::new("acme", "acme", ACME);
    let out = sc.parameters(&app);
    assert_success(&out, "dynamic parameters command");
    let stdout = text(&out.stdout);
    let body = stdout.strip_suffix('\n').unwrap_or(&stdout);
    let parsed: Value = serde_json::from_str(body)
        .unwrap_or_else(|e| panic!("parameters output must be a JSON array ({e}):\n{stdout}"));
    let list = parsed
        .as_array()
        .unwrap_or_else(|| panic!("not a JSON array: {stdout}"));
    let mut names = Vec::new();
    for entry in list {
        let obj = entry
            .as_object()
            .unwrap_or_else(|| panic!("announcement is not an object: {entry}"));
        let name = obj
            .get("name")
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| panic!("announcement without a name: {entry}"));
        names.push(name.to_string());
        // Field types Argo CD's decoder insists on.
        for (key, value) in obj {
            let ok = match key.as_str() {
                "name" | "title" | "tooltip" | "string" | "itemType" | "collectionType" => {
                    value.is_string()
                }
                "required" => value.is_boolean(),
                "array" => value
                    .as_array()
                    .is_some_and(|a| a.iter().all(Value::is_string)),
                "map" => value
                    .as_object()
                    .is_some_and(|m| m.values().all(Value::is_string)),
                _ => true,
            };
            assert!(
                ok,
                "announcement field {key} has the wrong JSON type: {entry}"
            );
        }
        if let Some(ct) = obj.get("collectionType").and_then(Value::as_str) {
            assert!(
                ["", "string", "array", "map"].contains(&ct),
                "bad collectionType: {entry}"
            );
        }
    }
    for var in ["tenant", "env", "region", "tier"] {
        assert!(
            names.iter().any(|n| n == var),
            "variable {var} not announced; got {names:?}"
        );
    }
    let string_of = |name: &str| {
        list.iter()
            .find(|e| e["name"] == name)
            .and_then(|e| e.get("string"))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    for (var, expected) in [
        ("tenant", "acme"),
        ("env", "prod"),
        ("tier", "gold"),
        ("region", "den1"),
    ] {
        if let Some(value) = string_of(var) {
            assert_eq!(value, expected, "announced default of {var}");
        }
    }
}

/// An Application pointing at the stack root selects the tenant through
/// `tenant`/`env` parameters and renders exactly what the tenant dir does.
#[test]
fn generate_at_stack_root_with_tenant_parameters() {
    let sc = sidecar(Helm::V3);
    let (_, from_tenant_dir) = sc.generate_ok(&App::new("argocd_acme", "acme", ACME));
    let at_root = App::new("argocd_acme", "acme", STACK)
        .param(Param::string("env", "prod"))
        .param(Param::string("tenant", "acme"));
    let (objects, from_root) = sc.generate_ok(&at_root);
    object(&objects, "Deployment", "acme-web");
    assert_same_bytes(
        &from_root,
        &from_tenant_dir,
        "generate at stack root vs in the tenant dir",
    );
}

/// `strata generate` under Argo CD equals `strata render TENANT_DIR` given
/// the same inputs, byte for byte.
fn generate_equals_render(helm: Helm) {
    let sc = sidecar(helm);
    // Name/namespace chosen so that the render defaults (the tenant variable)
    // coincide with what Argo CD passes.
    let app = App::new("argocd_acme", "acme", ACME);
    let (_, generated) = sc.generate_ok(&app);
    let out = run(strata(helm)
        .current_dir(sc.repo())
        .args([
            "render",
            ACME,
            "--kube-version",
            &app.kube_version,
            "--api-versions",
        ])
        .arg(app.api_versions.join(",")));
    assert_success(&out, "strata render");
    assert_same_bytes(&generated, &out.stdout, "strata generate vs strata render");
}

#[test]
fn generate_equals_render_helm3() {
    generate_equals_render(Helm::V3);
}

#[test]
fn generate_equals_render_helm4() {
    generate_equals_render(Helm::V4);
}

/// Each component's manifests are helm's own output: the generate stream
/// is the concatenation of `helm template` for every component.
#[test]
fn generate_is_concatenated_helm_output() {
    let which = Helm::V3;
    let sc = sidecar(which);
    let app = App::new("argocd_acme", "acme", ACME);
    let (_, generated) = sc.generate_ok(&app);
    let stack = sc.repo().join(STACK);
    let api = app.api_versions.join(",");
    let mut expected = Vec::new();
    // web: layers in order, including the tenant's optional layers that exist.
    let mut web = helm(which);
    web.current_dir(&stack).args([
        "template",
        "acme",
        "charts/web",
        "--namespace",
        "web-acme",
        "--kube-version",
        "1.30.11",
        "--api-versions",
        &api,
        "--include-crds",
    ]);
    for f in [
        "values/common.yaml",
        "values/env/prod.yaml",
        "values/region/den1.yaml",
        "values/tier/gold.yaml",
        "customers/prod/acme/values.yaml",
    ] {
        web.args(["-f", f]);
    }
    let out = run_std(&mut web);
    assert_success(&out, "helm template web");
    expected.extend_from_slice(&out.stdout);
    let mut cache = helm(which);
    cache.current_dir(&stack).args([
        "template",
        "acme",
        "charts/cache",
        "--namespace",
        "acme",
        "--kube-version",
        "1.30.11",
        "--api-versions",
        &api,
        "--skip-tests",
        "-f",
        "cache/common.yaml",
        "-f",
        "customers/prod/acme/cache.yaml",
    ]);
    let out = run_std(&mut cache);
    assert_success(&out, "helm template cache");
    expected.extend_from_slice(&out.stdout);
    assert_same_bytes(
        &generated,
        &expected,
        "strata generate vs helm template per component",
    );
}

/// Tenant directories of a stack, found by expanding every `{{var}}`
/// segment of `tenants.path` to the existing subdirectories.
fn tenant_dirs(stack: &std::path::Path) -> Vec<String> {
    let raw = std::fs::read_to_string(stack.join("strata.yaml")).expect("read strata.yaml");
    let config: Value = serde_saphyr::from_str(&raw).expect("parse strata.yaml");
    let pattern = config["tenants"]["path"]
        .as_str()
        .expect("tenants.path")
        .to_string();
    let mut found = vec![String::new()];
    for segment in pattern.split('/') {
        let mut next = Vec::new();
        for prefix in &found {
            if segment.contains("{{") {
                let mut subdirs: Vec<String> = std::fs::read_dir(stack.join(prefix))
                    .into_iter()
                    .flatten()
                    .flatten()
                    .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect();
                subdirs.sort();
                next.extend(subdirs.into_iter().map(|d| format!("{prefix}{d}/")));
            } else if stack.join(prefix).join(segment).is_dir() {
                next.push(format!("{prefix}{segment}/"));
            }
        }
        found = next;
    }
    found
        .into_iter()
        .map(|d| d.trim_end_matches('/').to_string())
        .collect()
}

/// Every tenant of the shipped example renders through the plugin, the
/// output is accepted by the repo-server's parser, and it equals
/// `strata render` of the same tenant.
#[test]
fn example_fleet_tenants_render_through_the_plugin() {
    let example = manifest_dir().join("examples/fleet");
    let sc = Sidecar::new(&example, "examples/fleet", Helm::V3);
    let tenants = tenant_dirs(&example);
    assert!(
        tenants.len() >= 2,
        "expected several tenants in examples/fleet, found {tenants:?}"
    );
    for tenant_rel in tenants {
        let name = tenant_rel.rsplit('/').next().unwrap().to_string();
        let source_path = format!("examples/fleet/{tenant_rel}");
        let app = App::new(&format!("argocd_{name}"), &name, &source_path);
        let (objects, generated) = sc.generate_ok(&app);
        assert!(
            objects.iter().any(|o| o["kind"] == "Deployment"),
            "{tenant_rel}: no Deployment in {}",
            summary(&objects)
        );
        let out = run(strata(Helm::V3)
            .current_dir(sc.repo())
            .args([
                "render",
                &source_path,
                "--kube-version",
                &app.kube_version,
                "--api-versions",
            ])
            .arg(app.api_versions.join(",")));
        assert_success(&out, &format!("strata render {tenant_rel}"));
        assert_same_bytes(
            &generated,
            &out.stdout,
            &format!("{tenant_rel}: generate vs render"),
        );
    }
}

/// Discovery (plugin.yaml `discover`) claims paths inside the stack and
/// nothing else; it never looks above the repository root (where the
/// harness keeps a decoy strata.yaml) and never fails.
#[test]
fn discovery_claims_stack_paths_only() {
    let sc = sidecar(Helm::V3);
    for path in [ACME, GLOBEX, STACK] {
        let app = App::new("acme", "acme", path);
        assert_eq!(sc.discover(&app), Some(true), "discovery at {path:?}");
    }
    for path in ["docs", ""] {
        let app = App::new("docs", "docs", path);
        assert_eq!(sc.discover(&app), Some(false), "discovery at {path:?}");
        let argv: Vec<String> = sc.plugin["spec"]["discover"]["find"]["command"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect();
        let out = sc.exec(&argv, &app, Flow::Generate);
        assert_success(&out, &format!("discovery at {path:?} must not fail"));
    }
}

/// Since Argo CD 3.0, build variables without a value are passed as empty
/// strings; strata must treat them as unset (helm defaults for
/// capabilities, tenant variable for the default namespace).
#[test]
fn empty_build_variables_are_treated_as_unset() {
    let sc = sidecar(Helm::V3);
    let mut app = App::new("acme", "", ACME);
    app.kube_version = String::new();
    app.api_versions = Vec::new();
    let (objects, generated) = sc.generate_ok(&app);
    let cache = object(&objects, "Deployment", "acme-cache");
    assert_eq!(cache["metadata"]["namespace"], "acme");
    let cm = object(&objects, "ConfigMap", "acme-settings");
    assert_eq!(data(cm, "hasWidgetApi"), "false");
    let out = run(strata(Helm::V3)
        .current_dir(sc.repo())
        .args(["render", ACME]));
    assert_success(&out, "strata render without capabilities");
    assert_same_bytes(
        &generated,
        &out.stdout,
        "generate with empty KUBE_* vs render without flags",
    );
}
