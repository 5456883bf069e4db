//! Kubernetes JSON schemas for rendered objects, read from a local directory.
//!
//! The directory uses kubeconform's file names (`deployment-apps-v1.json`, `configmap-v1.json`),
//! so a copy of a published schema set works as it is. Nothing is fetched: CI runs offline and
//! the schema set is pinned with the repository. References between schema files (`$ref` to
//! `_definitions.json`) are read from the same directory and nowhere else.

use crate::chart::transport::percent_decode;
use jsonschema::{Retrieve, Uri, Validator};
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// A schema file's validator, or why the file cannot be used; `None` when there is no file.
type Compiled = Option<Result<Arc<Validator>, String>>;

/// A schema directory and the validators compiled from it so far, by file name.
pub struct KubeSchemas {
    dir: PathBuf,
    compiled: Mutex<HashMap<String, Compiled>>,
}

/// What one object's validation found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KubeOutcome {
    Valid,
    /// Each message is `field: problem`.
    Invalid(Vec<String>),
    /// No schema file for the object's kind and version; the file name looked for.
    NoSchema(String),
    /// The object or its schema file cannot be used.
    Unusable(String),
}

impl KubeSchemas {
    pub fn open(dir: &Path) -> Result<KubeSchemas, String> {
        let dir = dir
            .canonicalize()
            .map_err(|e| format!("cannot use schema directory {}: {e}", dir.display()))?;
        if !dir.is_dir() {
            return Err(format!(
                "schema directory {} is not a directory",
                dir.display()
            ));
        }
        Ok(KubeSchemas {
            dir,
            compiled: Mutex::new(HashMap::new()),
        })
    }

    pub fn validate(&self, object: &Value) -> KubeOutcome {
        let text = |key: &str| object.get(key).and_then(Value::as_str).unwrap_or_default();
        let (api_version, kind) = (text("apiVersion"), text("kind"));
        if api_version.is_empty() || kind.is_empty() {
            return KubeOutcome::Unusable("the object has no apiVersion or kind".into());
        }
        let file = schema_file_name(api_version, kind);
        let validator = match self.validator(&file) {
            None => return KubeOutcome::NoSchema(file),
            Some(Err(e)) => return KubeOutcome::Unusable(e),
            Some(Ok(v)) => v,
        };
        let errors: Vec<String> = validator
            .iter_errors(object)
            .map(|e| {
                let path: Vec<String> = e
                    .instance_path()
                    .segments()
                    .map(|s| s.to_string())
                    .collect();
                let field = if path.is_empty() {
                    "(object)".to_owned()
                } else {
                    path.join(".")
                };
                format!("{field}: {e}")
            })
            .collect();
        if errors.is_empty() {
            KubeOutcome::Valid
        } else {
            KubeOutcome::Invalid(errors)
        }
    }

    fn validator(&self, file: &str) -> Compiled {
        let mut compiled = self.compiled.lock().expect("schema cache lock");
        compiled
            .entry(file.to_owned())
            .or_insert_with(|| self.compile(file))
            .clone()
    }

    fn compile(&self, file: &str) -> Compiled {
        let path = self.dir.join(file);
        let text = std::fs::read_to_string(&path).ok()?;
        Some(
            serde_json::from_str::<Value>(&text)
                .map_err(|e| format!("schema {file} is not JSON: {e}"))
                .and_then(|schema| {
                    jsonschema::options()
                        .with_base_uri(file_uri(&path))
                        .with_retriever(DirRetriever {
                            dir: self.dir.clone(),
                        })
                        .build(&schema)
                        .map(Arc::new)
                        .map_err(|e| format!("schema {file} cannot be used: {e}"))
                }),
        )
    }
}

/// kubeconform's name for an object's schema: the kind in lower case, the first label of the
/// API group (none for the core group) and the version: `ingress-networking-v1.json`.
pub fn schema_file_name(api_version: &str, kind: &str) -> String {
    let kind = kind.to_lowercase();
    match api_version.split_once('/') {
        Some((group, version)) => {
            let group = group.split('.').next().unwrap_or(group).to_lowercase();
            format!("{kind}-{group}-{}.json", version.to_lowercase())
        }
        None => format!("{kind}-{}.json", api_version.to_lowercase()),
    }
}

/// Resolves `$ref`s to other files of the schema directory, and refuses everything else.
struct DirRetriever {
    dir: PathBuf,
}

impl Retrieve for DirRetriever {
    fn retrieve(
        &self,
        uri: &Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        if uri.scheme().as_str() != "file" {
            return Err(
                format!("{uri} is not in the schema directory; schemas are read offline").into(),
            );
        }
        let path = PathBuf::from(percent_decode(uri.path().as_str()));
        let path = path.canonicalize().map_err(|e| format!("{uri}: {e}"))?;
        if !path.starts_with(&self.dir) {
            return Err(format!("{uri} is outside the schema directory").into());
        }
        Ok(serde_json::from_str(&std::fs::read_to_string(&path)?)?)
    }
}

/// A `file://` URI for a local path, escaping what a URI cannot hold as it is.
fn file_uri(path: &Path) -> String {
    let mut out = String::from("file://");
    for byte in path.to_string_lossy().bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'-' | b'.' | b'_' | b'~' => {
                out.push(byte as char)
            }
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn file_names_follow_kubeconform() {
        assert_eq!(
            schema_file_name("apps/v1", "Deployment"),
            "deployment-apps-v1.json"
        );
        assert_eq!(schema_file_name("v1", "ConfigMap"), "configmap-v1.json");
        assert_eq!(
            schema_file_name("networking.k8s.io/v1", "Ingress"),
            "ingress-networking-v1.json"
        );
    }

    #[test]
    fn validates_with_references_inside_the_directory_only() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("with space");
        std::fs::create_dir(&root).unwrap();
        std::fs::write(
            root.join("_definitions.json"),
            r#"{"definitions": {"replicas": {"type": "integer"}}}"#,
        )
        .unwrap();
        std::fs::write(
            root.join("deployment-apps-v1.json"),
            r#"{"properties": {"spec": {"properties": {"replicas": {"$ref": "_definitions.json#/definitions/replicas"}}}}}"#,
        )
        .unwrap();
        std::fs::write(
            root.join("service-v1.json"),
            r#"{"$ref": "../outside.json"}"#,
        )
        .unwrap();
        std::fs::write(dir.path().join("outside.json"), "{}").unwrap();
        let schemas = KubeSchemas::open(&root).unwrap();
        let deployment = |replicas: Value| json!({"apiVersion": "apps/v1", "kind": "Deployment", "spec": {"replicas": replicas}});
        assert_eq!(schemas.validate(&deployment(json!(2))), KubeOutcome::Valid);
        assert_eq!(
            schemas.validate(&deployment(json!("2"))),
            KubeOutcome::Invalid(vec![
                "spec.replicas: \"2\" is not of type \"integer\"".into()
            ])
        );
        assert_eq!(
            schemas.validate(&json!({"apiVersion": "v1", "kind": "ConfigMap"})),
            KubeOutcome::NoSchema("configmap-v1.json".into())
        );
        let outside = schemas.validate(&json!({"apiVersion": "v1", "kind": "Service"}));
        assert!(matches!(outside, KubeOutcome::Unusable(_)), "{outside:?}");
    }
}
