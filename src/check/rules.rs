//! The built-in policy rules, applied to one rendered object at a time.
//!
//! They read the object exactly as helm rendered it, so what they judge is what Argo CD will
//! apply. Each violation names the container or field at fault, because an object often has
//! several containers and a message without one sends the reader hunting.

use crate::config::checks::{ResourceSetting, RulesSpec};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt;

/// Rule names as they appear in strata.yaml and in reports.
pub const NO_LATEST_TAG: &str = "noLatestTag";
pub const RESOURCES_SET: &str = "resourcesSet";
pub const NO_LITERAL_SECRETS: &str = "noLiteralSecrets";
pub const REQUIRED_LABELS: &str = "requiredLabels";
pub const NAMESPACE_MATCHES: &str = "namespaceMatches";

/// Which object a failure is about, as `kubectl` would name it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectRef {
    pub api_version: String,
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
}

impl ObjectRef {
    pub fn of(object: &Value) -> ObjectRef {
        let text = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or_default().to_owned();
        ObjectRef {
            api_version: text(object.get("apiVersion")),
            kind: text(object.get("kind")),
            namespace: object
                .pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .map(str::to_owned),
            name: text(object.pointer("/metadata/name")),
        }
    }
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{} {ns}/{}", self.kind, self.name),
            None => write!(f, "{} {}", self.kind, self.name),
        }
    }
}

/// One broken rule on one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub rule: &'static str,
    pub message: String,
}

/// The rules that apply to one tenant, after `when` has been evaluated.
#[derive(Debug, Clone, Default)]
pub struct TenantRules {
    pub no_latest_tag: bool,
    pub resources: Option<Vec<ResourceSetting>>,
    pub no_literal_secrets: bool,
    pub labels: Option<Vec<String>>,
    pub namespace_matches: bool,
}

impl TenantRules {
    pub fn for_tenant(spec: &RulesSpec, vars: &BTreeMap<String, String>) -> TenantRules {
        TenantRules {
            no_latest_tag: spec.no_latest_tag.for_tenant(vars).is_some(),
            resources: spec
                .resources_set
                .for_tenant(vars)
                .map(|o| o.require.clone()),
            no_literal_secrets: spec.no_literal_secrets.for_tenant(vars).is_some(),
            labels: spec
                .required_labels
                .for_tenant(vars)
                .map(|o| o.labels.clone()),
            namespace_matches: spec.namespace_matches.for_tenant(vars).is_some(),
        }
    }

    /// The names of the rules that apply, for the report's summary.
    pub fn names(&self) -> Vec<&'static str> {
        [
            (self.no_latest_tag, NO_LATEST_TAG),
            (self.resources.is_some(), RESOURCES_SET),
            (self.no_literal_secrets, NO_LITERAL_SECRETS),
            (self.labels.is_some(), REQUIRED_LABELS),
            (self.namespace_matches, NAMESPACE_MATCHES),
        ]
        .into_iter()
        .filter_map(|(on, name)| on.then_some(name))
        .collect()
    }

    /// Every violation of the applicable rules by `object`, rendered for a component whose
    /// namespace is `namespace`.
    pub fn check(&self, object: &Value, namespace: &str) -> Vec<Violation> {
        let mut out = Vec::new();
        let mut add = |rule, message| out.push(Violation { rule, message });
        let containers = containers(object);
        if self.no_latest_tag {
            for c in &containers {
                if let Some(problem) = image_problem(c.image) {
                    add(
                        NO_LATEST_TAG,
                        format!(
                            "{} {:?} image {:?} {problem}; pin a version tag or a digest",
                            c.role, c.name, c.image
                        ),
                    );
                }
            }
        }
        if let Some(required) = &self.resources {
            for c in &containers {
                let missing = missing_resources(c.spec, required);
                if !missing.is_empty() {
                    add(
                        RESOURCES_SET,
                        format!(
                            "{} {:?} does not set resources {}",
                            c.role,
                            c.name,
                            missing.join(", ")
                        ),
                    );
                }
            }
        }
        if self.no_literal_secrets
            && let Some(message) = literal_secret(object)
        {
            add(NO_LITERAL_SECRETS, message);
        }
        if let Some(labels) = &self.labels {
            let present = object
                .pointer("/metadata/labels")
                .and_then(Value::as_object);
            let missing: Vec<&str> = labels
                .iter()
                .filter(|l| present.is_none_or(|p| !p.contains_key(l.as_str())))
                .map(String::as_str)
                .collect();
            if !missing.is_empty() {
                add(
                    REQUIRED_LABELS,
                    format!("metadata.labels lacks {}", missing.join(", ")),
                );
            }
        }
        if self.namespace_matches
            && let Some(message) = namespace_mismatch(object, namespace)
        {
            add(NAMESPACE_MATCHES, message);
        }
        out
    }
}

/// A container of a workload's pod spec.
struct Container<'a> {
    role: &'static str,
    name: &'a str,
    image: &'a str,
    spec: &'a Value,
}

/// Where each workload kind keeps its pod spec.
fn pod_spec(object: &Value) -> Option<&Value> {
    let kind = object.get("kind").and_then(Value::as_str)?;
    let pointer = match kind {
        "Pod" => "/spec",
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" => "/spec/template/spec",
        "CronJob" => "/spec/jobTemplate/spec/template/spec",
        _ => return None,
    };
    object.pointer(pointer)
}

fn containers(object: &Value) -> Vec<Container<'_>> {
    let Some(spec) = pod_spec(object) else {
        return Vec::new();
    };
    [
        ("initContainers", "initContainer"),
        ("containers", "container"),
    ]
    .into_iter()
    .flat_map(|(field, role)| {
        spec.get(field)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(move |c| Container {
                role,
                name: c.get("name").and_then(Value::as_str).unwrap_or_default(),
                image: c.get("image").and_then(Value::as_str).unwrap_or_default(),
                spec: c,
            })
    })
    .collect()
}

/// Why an image reference is not pinned, if it is not. A digest pins it whatever the tag says;
/// a `:` before the last `/` is a registry port, not a tag.
fn image_problem(image: &str) -> Option<&'static str> {
    if image.trim().is_empty() {
        return Some("is empty");
    }
    if image.contains('@') {
        return None;
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.rsplit_once(':') {
        None | Some((_, "")) => Some("has no tag, so the runtime pulls `latest`"),
        Some((_, "latest")) => Some("uses the `latest` tag"),
        Some(_) => None,
    }
}

fn missing_resources(container: &Value, required: &[ResourceSetting]) -> Vec<String> {
    required
        .iter()
        .map(|r| r.path())
        .filter(|(section, resource)| {
            container
                .get("resources")
                .and_then(|r| r.get(section))
                .and_then(|s| s.get(resource))
                .is_none_or(|v| v.is_null() || v.as_str() == Some(""))
        })
        .map(|(section, resource)| format!("{section}.{resource}"))
        .collect()
}

/// Argo CD keeps rendered manifests in its Redis cache, unencrypted: a Secret with data in the
/// output is a secret in plaintext outside the cluster.
fn literal_secret(object: &Value) -> Option<String> {
    if object.get("kind").and_then(Value::as_str) != Some("Secret") {
        return None;
    }
    let fields: Vec<String> = ["data", "stringData"]
        .into_iter()
        .filter_map(|field| {
            let keys = object.get(field)?.as_object()?;
            (!keys.is_empty()).then(|| {
                let names: Vec<&str> = keys.keys().map(String::as_str).collect();
                format!("{field} ({})", names.join(", "))
            })
        })
        .collect();
    (!fields.is_empty()).then(|| {
        format!(
            "Secret carries {} in the rendered manifests, which Argo CD caches in Redis in plaintext; deliver it with an external secret operator or sealed secret instead",
            fields.join(" and ")
        )
    })
}

/// Kinds that live outside namespaces; a namespace on them is ignored by the API server.
const CLUSTER_SCOPED: &[&str] = &[
    "APIService",
    "CertificateSigningRequest",
    "ClusterIssuer",
    "ClusterRole",
    "ClusterRoleBinding",
    "ComponentStatus",
    "CSIDriver",
    "CSINode",
    "CustomResourceDefinition",
    "FlowSchema",
    "IngressClass",
    "MutatingWebhookConfiguration",
    "Namespace",
    "Node",
    "PersistentVolume",
    "PodSecurityPolicy",
    "PriorityClass",
    "PriorityLevelConfiguration",
    "RuntimeClass",
    "StorageClass",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
    "ValidatingWebhookConfiguration",
    "VolumeAttachment",
];

/// An object that names another namespace than its component's would land outside the
/// Application's destination, where another tenant's objects may live.
fn namespace_mismatch(object: &Value, expected: &str) -> Option<String> {
    // A component without a namespace of its own deploys to the Application's destination.
    if expected.is_empty() {
        return None;
    }
    let kind = object.get("kind").and_then(Value::as_str)?;
    if CLUSTER_SCOPED.contains(&kind) {
        return None;
    }
    let namespace = object.pointer("/metadata/namespace")?.as_str()?;
    (namespace != expected).then(|| {
        format!("metadata.namespace is {namespace:?}, but the component deploys to {expected:?}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn all_rules() -> TenantRules {
        TenantRules {
            no_latest_tag: true,
            resources: Some(ResourceSetting::all()),
            no_literal_secrets: true,
            labels: Some(vec!["app.kubernetes.io/name".into()]),
            namespace_matches: true,
        }
    }

    fn deployment(image: &str, resources: Value) -> Value {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "ns", "labels": {"app.kubernetes.io/name": "web"}},
            "spec": {"template": {"spec": {"containers": [{"name": "web", "image": image, "resources": resources}]}}}
        })
    }

    fn full_resources() -> Value {
        json!({"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"cpu": "1", "memory": "1Gi"}})
    }

    #[test]
    fn a_clean_deployment_passes_every_rule() {
        let d = deployment("reg:5000/team/web:1.2.3", full_resources());
        assert_eq!(all_rules().check(&d, "ns"), []);
        let pinned = deployment("web@sha256:abc", full_resources());
        assert_eq!(all_rules().check(&pinned, "ns"), []);
    }

    #[test]
    fn images_without_a_real_tag_are_caught() {
        for image in ["web", "web:latest", "reg:5000/web", "web:", ""] {
            let v = all_rules().check(&deployment(image, full_resources()), "ns");
            assert_eq!(v.len(), 1, "{image}: {v:?}");
            assert_eq!(v[0].rule, NO_LATEST_TAG);
            assert!(v[0].message.contains("container \"web\""), "{v:?}");
        }
    }

    #[test]
    fn missing_resources_are_listed_per_container() {
        let d = deployment("web:1", json!({"requests": {"memory": "1Gi"}}));
        let v = all_rules().check(&d, "ns");
        assert_eq!(v.len(), 1);
        assert_eq!(
            v[0].message,
            "container \"web\" does not set resources requests.cpu, limits.cpu, limits.memory"
        );
        let mut narrow = all_rules();
        narrow.resources = Some(vec![ResourceSetting::RequestsMemory]);
        assert_eq!(narrow.check(&d, "ns"), []);
        let cron = json!({"kind": "CronJob", "metadata": {"name": "c", "labels": {"app.kubernetes.io/name": "c"}},
            "spec": {"jobTemplate": {"spec": {"template": {"spec": {"initContainers": [{"name": "i", "image": "x:1"}]}}}}}});
        let v = all_rules().check(&cron, "ns");
        assert_eq!(v.len(), 1, "{v:?}");
        assert!(v[0].message.starts_with("initContainer \"i\""), "{v:?}");
    }

    #[test]
    fn secrets_labels_and_namespaces() {
        let secret = json!({"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "s", "namespace": "other"}, "stringData": {"password": "x"}});
        let v = all_rules().check(&secret, "ns");
        let rules: Vec<&str> = v.iter().map(|v| v.rule).collect();
        assert_eq!(
            rules,
            [NO_LITERAL_SECRETS, REQUIRED_LABELS, NAMESPACE_MATCHES]
        );
        assert!(v[0].message.contains("stringData (password)"), "{v:?}");
        let empty = json!({"kind": "Secret", "metadata": {"name": "s", "labels": {"app.kubernetes.io/name": "s"}}, "data": {}});
        assert_eq!(all_rules().check(&empty, "ns"), []);
        let role = json!({"kind": "ClusterRole", "metadata": {"name": "r", "namespace": "x", "labels": {"app.kubernetes.io/name": "r"}}});
        assert_eq!(all_rules().check(&role, "ns"), []);
    }
}
