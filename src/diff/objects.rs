//! Object-by-object comparison of two rendered manifest streams.
//!
//! Objects are matched by API group, kind, namespace and name, not by position or file, so a
//! template that moves or an `apps/v1beta1` → `apps/v1` bump shows as a change of one object.
//! Each object is re-emitted with sorted keys and without comments before the text diff, so
//! only what Kubernetes would see can differ. Secret values are never shown: a Secret's
//! `data` and `stringData` are reported as the keys added, removed or changed.

use super::ignore::{self, IgnorePath};
use super::mask::Mask;
use crate::yaml::{self, YamlError};
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// What identifies an object in a cluster (the API version within a group is not part of it).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ObjectId {
    /// Empty for the core group (`v1`).
    pub group: String,
    pub kind: String,
    /// Empty when the manifest names none (Argo CD then uses the destination namespace).
    pub namespace: String,
    pub name: String,
}

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let group = if self.group.is_empty() {
            "v1"
        } else {
            &self.group
        };
        write!(f, "{group}/{} ", self.kind)?;
        if !self.namespace.is_empty() {
            write!(f, "{}/", self.namespace)?;
        }
        f.write_str(&self.name)
    }
}

impl ObjectId {
    fn of(object: &Value) -> ObjectId {
        let text = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or_default().to_owned();
        let api_version = text(object.get("apiVersion"));
        let group = match api_version.rsplit_once('/') {
            Some((group, _)) => group.to_owned(),
            None => String::new(),
        };
        let metadata = object.get("metadata");
        ObjectId {
            group,
            kind: text(object.get("kind")),
            namespace: text(metadata.and_then(|m| m.get("namespace"))),
            name: text(metadata.and_then(|m| m.get("name"))),
        }
    }

    pub fn is_secret(&self) -> bool {
        self.group.is_empty() && self.kind == "Secret"
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    Added,
    Removed,
    Changed,
}

impl Change {
    pub fn verb(self) -> &'static str {
        match self {
            Change::Added => "added",
            Change::Removed => "removed",
            Change::Changed => "changed",
        }
    }
}

/// One Secret key whose presence or value differs; the value itself is never kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SecretKeyChange {
    /// `data` or `stringData`.
    pub field: String,
    pub key: String,
    pub change: Change,
}

/// One object that differs between the sides.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectChange {
    #[serde(flatten)]
    pub id: ObjectId,
    pub change: Change,
    /// Unified diff hunks (`@@ … @@` and lines) of the normalised YAML, without file headers.
    /// Secret values appear as `(redacted)`.
    pub diff: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub secret_keys: Vec<SecretKeyChange>,
    /// The object differs only in Secret values it holds, which are masked: `diff` is empty.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub hidden_only: bool,
    /// `file:line` of every patch after helm whose target selects the object on either side,
    /// in patch order (base side first).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub patched_by: Vec<String>,
}

/// The placeholder shown for every Secret value.
const REDACTED: &str = "(redacted)";

/// Parses a rendered stream into objects keyed by identity. A second object with the same
/// identity (helm does not stop a chart from rendering one) is kept under a numbered name.
pub fn parse(stream: &[u8]) -> Result<BTreeMap<ObjectId, Value>, YamlError> {
    let text = String::from_utf8_lossy(stream);
    let mut objects = BTreeMap::new();
    for object in yaml::parse_manifest_stream(&text)? {
        let id = ObjectId::of(&object);
        let mut unique = id.clone();
        let mut n = 1;
        while objects.contains_key(&unique) {
            n += 1;
            unique = ObjectId {
                name: format!("{} (#{n})", id.name),
                ..id.clone()
            };
        }
        objects.insert(unique, object);
    }
    Ok(objects)
}

/// Every object that differs between `base` and `head`, in identity order, after removing the
/// ignored fields from both.
///
/// Every Secret value of `mask` is hidden in the diff text; an object whose only difference is
/// such a value is still reported, with an empty diff and `hidden_only`.
pub fn compare(
    base: &BTreeMap<ObjectId, Value>,
    head: &BTreeMap<ObjectId, Value>,
    ignores: &[IgnorePath],
    mask: &Mask,
) -> Vec<ObjectChange> {
    let prepare = |v: &Value| {
        let mut v = v.clone();
        ignore::apply(&mut v, ignores);
        v
    };
    let mut ids: Vec<&ObjectId> = base.keys().chain(head.keys()).collect();
    ids.sort();
    ids.dedup();
    let mut changes = Vec::new();
    for id in ids {
        let old = base.get(id).map(prepare);
        let new = head.get(id).map(prepare);
        let change = match (&old, &new) {
            (Some(o), Some(n)) if o == n => continue,
            (Some(_), Some(_)) => Change::Changed,
            (None, Some(_)) => Change::Added,
            (Some(_), None) => Change::Removed,
            (None, None) => continue,
        };
        let secret_keys = if id.is_secret() {
            secret_key_changes(old.as_ref(), new.as_ref())
        } else {
            Vec::new()
        };
        let text = |v: Option<Value>| {
            v.map(|mut v| {
                mask.value(&mut v);
                normalised_text(id, &v)
            })
            .unwrap_or_default()
        };
        let (old_text, new_text) = (text(old), text(new));
        changes.push(ObjectChange {
            id: id.clone(),
            change,
            hidden_only: old_text == new_text && secret_keys.is_empty(),
            diff: unified_hunks(&old_text, &new_text),
            secret_keys,
            patched_by: Vec::new(),
        });
    }
    changes
}

/// The object as YAML with sorted keys; a Secret's values replaced by a placeholder.
pub fn normalised_text(id: &ObjectId, object: &Value) -> String {
    let mut object = sorted(object);
    if id.is_secret() {
        for field in ["data", "stringData"] {
            if let Some(Value::Object(map)) = object.get_mut(field) {
                for value in map.values_mut() {
                    *value = Value::String(REDACTED.into());
                }
            }
        }
    }
    yaml::to_yaml(&object)
}

/// Every value the Secrets among `objects` hold (`data` decoded from base64, `stringData` as
/// is), so the values summary can hide a values-file setting that ends up in a Secret.
pub fn secret_values(objects: &BTreeMap<ObjectId, Value>) -> BTreeSet<String> {
    use base64::Engine;
    let mut out = BTreeSet::new();
    for (id, object) in objects {
        if !id.is_secret() {
            continue;
        }
        let entries = |field: &str| {
            object
                .get(field)
                .and_then(Value::as_object)
                .into_iter()
                .flat_map(|m| m.values())
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect::<Vec<_>>()
        };
        for encoded in entries("data") {
            let compact: String = encoded.split_whitespace().collect();
            if let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(compact) {
                out.insert(String::from_utf8_lossy(&bytes).into_owned());
            }
        }
        out.extend(entries("stringData"));
    }
    out.remove("");
    out
}

/// Rebuilds maps in key order, whatever order the JSON map type keeps.
fn sorted(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let ordered: BTreeMap<&String, &Value> = map.iter().collect();
            Value::Object(
                ordered
                    .into_iter()
                    .map(|(k, v)| (k.clone(), sorted(v)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

fn secret_key_changes(old: Option<&Value>, new: Option<&Value>) -> Vec<SecretKeyChange> {
    let mut out = Vec::new();
    for field in ["data", "stringData"] {
        let entries = |side: Option<&Value>| -> BTreeMap<String, Value> {
            side.and_then(|o| o.get(field))
                .and_then(Value::as_object)
                .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default()
        };
        let (before, after) = (entries(old), entries(new));
        let mut keys: Vec<&String> = before.keys().chain(after.keys()).collect();
        keys.sort();
        keys.dedup();
        for key in keys {
            let change = match (before.get(key), after.get(key)) {
                (Some(a), Some(b)) if a == b => continue,
                (Some(_), Some(_)) => Change::Changed,
                (None, Some(_)) => Change::Added,
                (Some(_), None) => Change::Removed,
                (None, None) => continue,
            };
            out.push(SecretKeyChange {
                field: field.to_owned(),
                key: key.clone(),
                change,
            });
        }
    }
    out
}

/// Unified diff hunks with three lines of context, without the `---`/`+++` header.
fn unified_hunks(old: &str, new: &str) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "---\n# Source: web/templates/a.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: ns\nspec:\n  replicas: 2\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\ndata:\n  password: c2VjcmV0\n  user: YWRtaW4=\n";

    #[test]
    fn objects_are_matched_by_identity_and_diffed_as_sorted_yaml() {
        let head = BASE
            .replace("apps/v1\n", "apps/v2\n")
            .replace("replicas: 2", "replicas: 3");
        let changes = compare(
            &parse(BASE.as_bytes()).unwrap(),
            &parse(head.as_bytes()).unwrap(),
            &[],
            &Mask::default(),
        );
        assert_eq!(changes.len(), 1, "{changes:?}");
        assert_eq!(changes[0].id.to_string(), "apps/Deployment ns/web");
        assert_eq!(changes[0].change, Change::Changed);
        assert!(changes[0].diff.contains("-apiVersion: apps/v1\n"));
        assert!(changes[0].diff.contains("+  replicas: 3\n"));
        assert!(!changes[0].diff.contains("Source"));
    }

    #[test]
    fn secrets_show_keys_never_values() {
        let head = BASE
            .replace("c2VjcmV0", "bmV3LXNlY3JldA==")
            .replace("  user: YWRtaW4=\n", "  token: dG9rZW4=\n");
        let changes = compare(
            &parse(BASE.as_bytes()).unwrap(),
            &parse(head.as_bytes()).unwrap(),
            &[],
            &Mask::default(),
        );
        assert_eq!(changes.len(), 1);
        let secret = &changes[0];
        let keys: Vec<(&str, Change)> = secret
            .secret_keys
            .iter()
            .map(|k| (k.key.as_str(), k.change))
            .collect();
        assert_eq!(
            keys,
            [
                ("password", Change::Changed),
                ("token", Change::Added),
                ("user", Change::Removed)
            ]
        );
        for value in ["c2VjcmV0", "bmV3LXNlY3JldA==", "YWRtaW4=", "dG9rZW4="] {
            assert!(!secret.diff.contains(value), "{}", secret.diff);
        }
    }

    #[test]
    fn secret_values_are_collected_decoded() {
        let objects = parse(BASE.as_bytes()).unwrap();
        let values: Vec<String> = secret_values(&objects).into_iter().collect();
        assert_eq!(values, ["admin", "secret"]);
    }

    #[test]
    fn ignored_fields_do_not_count() {
        let head = BASE.replace("replicas: 2", "replicas: 5");
        let ignores = vec!["spec.replicas".parse().unwrap()];
        let changes = compare(
            &parse(BASE.as_bytes()).unwrap(),
            &parse(head.as_bytes()).unwrap(),
            &ignores,
            &Mask::default(),
        );
        assert!(changes.is_empty(), "{changes:?}");
    }

    #[test]
    fn duplicate_identities_are_kept_apart() {
        let twice = format!("{BASE}---\n{}", BASE.split("---\n").nth(1).unwrap());
        let objects = parse(twice.as_bytes()).unwrap();
        assert_eq!(objects.len(), 3);
        assert!(objects.keys().any(|id| id.name == "web (#2)"));
    }
}
