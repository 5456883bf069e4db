//! Building the Argo CD install examples the way a user does, offline: the kustomization with
//! a real `kubectl kustomize` over a local stand-in for Argo CD's install.yaml, and the Helm
//! values applied as the argo-cd chart applies them. Plus the offline Kubernetes schemas.

use crate::common::*;
use serde_json::Value;
use std::fs;
use std::path::{Path, PathBuf};
use strata::check::kube::{KubeOutcome, KubeSchemas};

/// The Argo CD release the examples pin.
pub const ARGOCD_INSTALL: &str =
    "https://raw.githubusercontent.com/argoproj/argo-cd/v3.5.1/manifests/install.yaml";

pub fn examples() -> PathBuf {
    manifest_dir().join("examples").join("argocd")
}

pub fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

pub fn parse_docs(text: &str, what: &str) -> Vec<Value> {
    let docs: Vec<Value> = serde_saphyr::from_multiple(text)
        .unwrap_or_else(|e| panic!("{what} is not valid YAML: {e}"));
    docs.into_iter().filter(|d| !d.is_null()).collect()
}

pub fn parse_one(path: &Path) -> Value {
    let mut docs = parse_docs(&read(path), &path.display().to_string());
    assert_eq!(docs.len(), 1, "{} should hold one document", path.display());
    docs.remove(0)
}

/// A pinned tool scripts/install-kube-tools installs; a missing one fails the test.
fn tool(env: &str, relative: &str) -> PathBuf {
    let path = std::env::var_os(env)
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest_dir().join(relative));
    assert!(
        path.exists(),
        "{} is missing: run scripts/install-kube-tools (or set {env})",
        path.display()
    );
    path
}

pub fn kubectl() -> PathBuf {
    tool("STRATA_TEST_KUBECTL", ".tools/kubectl-1.31.9/kubectl")
}

pub fn schemas() -> KubeSchemas {
    let dir = tool("STRATA_TEST_KUBE_SCHEMAS", ".tools/kube-schemas/v1.33.0");
    KubeSchemas::open(&dir).unwrap_or_else(|e| panic!("{e}"))
}

/// The local stand-in for Argo CD's install.yaml.
pub fn base_dir() -> PathBuf {
    fixtures().join("argocd-base")
}

/// `kubectl kustomize` of examples/argocd with its one remote resource (the pinned Argo CD
/// release) replaced by the local base, plus `extra_patches` (file name, text).
pub fn build_kustomization(extra_patches: &[(&str, &str)]) -> Vec<Value> {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    for entry in fs::read_dir(examples()).expect("examples/argocd") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "yaml") {
            fs::copy(&path, root.join(path.file_name().unwrap())).expect("copy example");
        }
    }
    let base = root.join("base");
    fs::create_dir(&base).unwrap();
    for entry in fs::read_dir(base_dir()).expect("argocd-base") {
        let path = entry.expect("entry").path();
        fs::copy(&path, base.join(path.file_name().unwrap())).expect("copy base");
    }
    let file = root.join("kustomization.yaml");
    let original = read(&file);
    let kustomization = parse_one(&file);
    assert_eq!(
        kustomization["resources"],
        serde_json::json!([ARGOCD_INSTALL]),
        "examples/argocd/kustomization.yaml should install exactly the pinned Argo CD release"
    );
    let mut text = original.replace(ARGOCD_INSTALL, "base");
    for (name, patch) in extra_patches {
        fs::write(root.join(name), patch).unwrap();
        text.push_str(&format!("  - path: {name}\n"));
    }
    fs::write(&file, text).unwrap();
    let out = run(assert_cmd::Command::new(kubectl())
        .args(["kustomize"])
        .arg(root));
    assert_success(&out, "kubectl kustomize examples/argocd");
    parse_docs(&text_of(&out.stdout), "kubectl kustomize output")
}

fn text_of(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("UTF-8")
}

pub fn object<'a>(objects: &'a [Value], kind: &str, name: &str) -> &'a Value {
    objects
        .iter()
        .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name}"))
}

pub fn object_mut<'a>(objects: &'a mut [Value], kind: &str, name: &str) -> &'a mut Value {
    objects
        .iter_mut()
        .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name}"))
}

pub fn named<'a>(items: &'a Value, name: &str) -> &'a Value {
    items
        .as_array()
        .unwrap_or_else(|| panic!("expected a list, got {items}"))
        .iter()
        .find(|i| i["name"] == name)
        .unwrap_or_else(|| panic!("no entry named {name:?} in {items}"))
}

pub fn named_mut<'a>(items: &'a mut Value, name: &str) -> &'a mut Value {
    items
        .as_array_mut()
        .expect("a list")
        .iter_mut()
        .find(|i| i["name"] == name)
        .unwrap_or_else(|| panic!("no entry named {name:?}"))
}

/// The Pod spec of a workload object.
pub fn pod(object: &Value) -> &Value {
    &object["spec"]["template"]["spec"]
}

/// Objects of workload kinds: (`Kind/name`, pod spec).
pub fn pods(objects: &[Value]) -> Vec<(String, &Value)> {
    objects
        .iter()
        .filter(|o| {
            matches!(
                o["kind"].as_str(),
                Some("Deployment" | "StatefulSet" | "DaemonSet")
            )
        })
        .map(|o| {
            (
                format!(
                    "{}/{}",
                    o["kind"].as_str().unwrap(),
                    o["metadata"]["name"].as_str().unwrap()
                ),
                pod(o),
            )
        })
        .collect()
}

/// Schema validation of every object; an object without a schema is an error too.
pub fn schema_errors(objects: &[Value]) -> Vec<String> {
    let schemas = schemas();
    let mut out = Vec::new();
    for o in objects {
        let at = format!(
            "{} {}",
            o["kind"].as_str().unwrap_or("?"),
            o["metadata"]["name"].as_str().unwrap_or("?")
        );
        match schemas.validate(o) {
            KubeOutcome::Valid => {}
            KubeOutcome::Invalid(errors) => {
                out.extend(errors.into_iter().map(|e| format!("{at}: {e}")))
            }
            KubeOutcome::NoSchema(file) => out.push(format!("{at}: no schema {file}")),
            KubeOutcome::Unusable(e) => out.push(format!("{at}: {e}")),
        }
    }
    out
}

/// The argo-cd chart's handling of the values the example sets, applied to the local base:
/// `configs.params` become argocd-cmd-params-cm data; `global.env` then the component's `env`
/// are added to its main container's env (the chart concatenates them into the same list as
/// its stock entries); `repoServer.extraContainers` and `repoServer.volumes` are appended to
/// the repo-server Pod's containers and volumes.
pub fn apply_chart_values(values: &Value) -> Vec<Value> {
    let mut objects = parse_docs(&read(&base_dir().join("install.yaml")), "argocd-base");
    let params = object_mut(&mut objects, "ConfigMap", "argocd-cmd-params-cm");
    for (k, v) in values["configs"]["params"]
        .as_object()
        .into_iter()
        .flatten()
    {
        let v = match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        params["data"][k] = Value::String(v);
    }
    let global = values["global"]["env"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for (kind, name, key) in [
        ("Deployment", "argocd-repo-server", "repoServer"),
        ("StatefulSet", "argocd-application-controller", "controller"),
        ("Deployment", "argocd-server", "server"),
    ] {
        let component = values[key]["env"].as_array().cloned().unwrap_or_default();
        let object = object_mut(&mut objects, kind, name);
        let container = named_mut(&mut object["spec"]["template"]["spec"]["containers"], name);
        let env = container["env"].as_array_mut().expect("env list");
        let stock = std::mem::take(env);
        env.extend(global.iter().cloned());
        env.extend(component);
        env.extend(stock);
    }
    let repo = object_mut(&mut objects, "Deployment", "argocd-repo-server");
    let pod = &mut repo["spec"]["template"]["spec"];
    for (field, from) in [("containers", "extraContainers"), ("volumes", "volumes")] {
        let add = values["repoServer"][from]
            .as_array()
            .cloned()
            .unwrap_or_default();
        pod[field].as_array_mut().expect("list").extend(add);
    }
    objects
}
