//! Patches after helm: a component's `patches:` files, applied in order to the objects helm
//! rendered, for the field a chart does not expose (one more sidecar, an annotation, a
//! toleration).
//!
//! A patch file is a template over the tenant's variables, rendered and checked like a
//! templated values layer (strict variables, values cannot change its structure), holding a
//! list of patches:
//!
//! ```yaml
//! - target: {kind: Deployment, name: web}          # kind, name, namespace, apiVersion, labels
//!   strategicMerge: {spec: {template: {spec: {tolerations: [...]}}}}
//! - target: {kind: Service, labels: {app: web}}
//!   jsonPatch:                                      # RFC 6902
//!     - {op: add, path: /metadata/annotations/owner, value: "{{tenant}}"}
//!   optional: true                                  # matching nothing is not an error
//! ```
//!
//! Documents no patch selects keep helm's exact bytes; a patched one is written back like the
//! other rewritten documents (Go's YAML 1.1 reading preserved).

use crate::plan::LayerFile;
use crate::values::template::render_checked;
use crate::yaml::stream;
use crate::yaml::{GoMap, GoValue, RawKind, parse_go_document};
use std::collections::BTreeMap;

/// Why patches cannot be loaded or applied; every message names the patch's file and line.
#[derive(Debug, thiserror::Error)]
pub enum PatchError {
    #[error("{at}: {message}")]
    Invalid { at: String, message: String },
    #[error(
        "{at}: patch matched no object of component {component:?} (target {target}); fix the target, or set `optional: true` if the object may be absent"
    )]
    NoMatch {
        at: String,
        component: String,
        target: String,
    },
    #[error("{at}: patch cannot be applied to {object} of component {component:?}: {message}")]
    Apply {
        at: String,
        object: String,
        component: String,
        message: String,
    },
    #[error("component {component:?}: document {document} of the rendered output: {message}")]
    Output {
        component: String,
        document: usize,
        message: String,
    },
}

/// Which objects a patch applies to; every given field must match.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Target {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(rename = "apiVersion", skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts = Vec::new();
        for (name, value) in [
            ("kind", &self.kind),
            ("name", &self.name),
            ("namespace", &self.namespace),
            ("apiVersion", &self.api_version),
        ] {
            if let Some(v) = value {
                parts.push(format!("{name}={v}"));
            }
        }
        for (k, v) in &self.labels {
            parts.push(format!("labels.{k}={v}"));
        }
        f.write_str(&parts.join(","))
    }
}

impl Target {
    fn matches(&self, object: &GoValue) -> bool {
        self.matches_by(|path| string_at(object, path))
    }

    /// Whether the target selects `object`, given as JSON (how `diff` holds rendered objects).
    pub fn matches_json(&self, object: &serde_json::Value) -> bool {
        self.matches_by(|path| {
            let mut node = object;
            for key in path {
                node = node.get(key)?;
            }
            node.as_str()
        })
    }

    /// Every given field compared with the object's text at its path.
    fn matches_by<'a>(&self, text: impl Fn(&[&str]) -> Option<&'a str>) -> bool {
        let field_ok = |want: &Option<String>, path: &[&str]| {
            want.as_deref().is_none_or(|w| text(path) == Some(w))
        };
        field_ok(&self.kind, &["kind"])
            && field_ok(&self.name, &["metadata", "name"])
            && field_ok(&self.namespace, &["metadata", "namespace"])
            && field_ok(&self.api_version, &["apiVersion"])
            && self
                .labels
                .iter()
                .all(|(k, v)| text(&["metadata", "labels", k]) == Some(v.as_str()))
    }
}

/// What a patch does to a selected object.
#[derive(Debug, Clone, PartialEq)]
pub enum Operation {
    StrategicMerge(GoValue),
    JsonPatch(Vec<GoValue>),
}

/// One patch with where it is written.
#[derive(Debug, Clone, PartialEq)]
pub struct Patch {
    /// `file:line` of the list entry.
    pub at: String,
    pub target: Target,
    pub operation: Operation,
    pub optional: bool,
}

impl Patch {
    pub fn kind_name(&self) -> &'static str {
        match self.operation {
            Operation::StrategicMerge(_) => "strategic merge",
            Operation::JsonPatch(_) => "JSON patch",
        }
    }
}

/// A component's patches in order, with their file text for the render cache key.
#[derive(Debug, Clone, Default)]
pub struct Patches {
    pub patches: Vec<Patch>,
    rendered: Vec<String>,
}

impl Patches {
    pub fn is_empty(&self) -> bool {
        self.patches.is_empty()
    }

    /// The rendered patch files, for the render cache key (each its own field: joined, two
    /// files and one file holding the separator would read the same).
    pub fn cache_input(&self) -> &[String] {
        &self.rendered
    }

    /// Reads and renders the component's patch files over the tenant's variables.
    pub fn load(
        files: &[LayerFile],
        vars: &BTreeMap<String, String>,
    ) -> Result<Patches, PatchError> {
        let mut out = Patches::default();
        for file in files {
            let invalid = |line: Option<u32>, message: String| PatchError::Invalid {
                at: match line {
                    Some(l) => format!("{}:{l}", file.shown),
                    None => file.shown.clone(),
                },
                message,
            };
            let text = match std::fs::read_to_string(&file.path) {
                Ok(t) => t,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && file.optional => continue,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return Err(invalid(
                        None,
                        format!(
                            "patch file does not exist (declared at {}); create it, fix the path, or mark it optional with a trailing '?'",
                            file.declared_at
                        ),
                    ));
                }
                Err(e) => return Err(invalid(None, format!("cannot read: {e}"))),
            };
            let rendered = render_checked(&text, vars).map_err(|e| invalid(None, e.to_string()))?;
            let Some(document) = rendered.document else {
                continue;
            };
            let RawKind::Seq(items) = document.kind else {
                return Err(invalid(
                    Some(document.line),
                    "a patch file holds a list of patches (`- target: …`)".into(),
                ));
            };
            let values = match parse_go_document(&rendered.text).map_err(|e| {
                invalid(
                    e.line.map(|l| rendered.lines[(l as usize).max(1) - 1]),
                    e.message,
                )
            })? {
                GoValue::Seq(values) => values,
                _ => unreachable!("the same text read as a list above"),
            };
            for (item, value) in items.iter().zip(values) {
                let at = format!("{}:{}", file.shown, item.line);
                out.patches.push(parse_patch(&at, value)?);
            }
            out.rendered.push(rendered.text);
        }
        Ok(out)
    }

    /// Applies every patch to helm's output; documents no patch selects keep their bytes.
    pub fn apply(&self, component: &str, output: Vec<u8>) -> Result<Vec<u8>, PatchError> {
        if self.is_empty() {
            return Ok(output);
        }
        let text = String::from_utf8(output).map_err(|_| PatchError::Output {
            component: component.to_owned(),
            document: 0,
            message: "the rendered output is not UTF-8".into(),
        })?;
        let mut matched = vec![false; self.patches.len()];
        let mut out = String::with_capacity(text.len());
        for (index, chunk) in crate::manifests::split(&text).iter().enumerate() {
            let mut object = parse_go_document(chunk.text).map_err(|e| PatchError::Output {
                component: component.to_owned(),
                document: index + 1,
                message: e.to_string(),
            })?;
            let selected: Vec<usize> = (0..self.patches.len())
                .filter(|&i| self.patches[i].target.matches(&object))
                .collect();
            if selected.is_empty() {
                out.push_str(chunk.text);
                continue;
            }
            let shown = object_name(&object);
            for i in selected {
                matched[i] = true;
                let patch = &self.patches[i];
                let result = match &patch.operation {
                    Operation::StrategicMerge(p) => {
                        strategic_merge(&mut object, p, None);
                        Ok(())
                    }
                    Operation::JsonPatch(ops) => json_patch(&mut object, ops),
                };
                result.map_err(|message| PatchError::Apply {
                    at: patch.at.clone(),
                    object: shown.clone(),
                    component: component.to_owned(),
                    message,
                })?;
            }
            stream::emit(&mut out, chunk.source, &object);
        }
        if let Some(i) = (0..self.patches.len()).find(|&i| !matched[i] && !self.patches[i].optional)
        {
            let patch = &self.patches[i];
            return Err(PatchError::NoMatch {
                at: patch.at.clone(),
                component: component.to_owned(),
                target: patch.target.to_string(),
            });
        }
        Ok(out.into_bytes())
    }
}

fn object_name(object: &GoValue) -> String {
    format!(
        "{} {}",
        string_at(object, &["kind"]).unwrap_or_default(),
        string_at(object, &["metadata", "name"]).unwrap_or_default()
    )
}

/// The string at `path` (map keys from the root) of a rendered object, if there is one.
fn string_at<'a>(object: &'a GoValue, path: &[&str]) -> Option<&'a str> {
    let mut node = object;
    for key in path {
        match node {
            GoValue::Map(m) => node = m.get(key)?,
            _ => return None,
        }
    }
    match node {
        GoValue::String(s) => Some(s.as_str()),
        _ => None,
    }
}

fn parse_patch(at: &str, value: GoValue) -> Result<Patch, PatchError> {
    let invalid = |message: &str| PatchError::Invalid {
        at: at.to_owned(),
        message: message.to_owned(),
    };
    let GoValue::Map(map) = value else {
        return Err(invalid(
            "a patch is a mapping with `target` and `strategicMerge` or `jsonPatch`",
        ));
    };
    let mut target = Target::default();
    let mut operation = None;
    let mut optional = false;
    for (key, value) in map.iter() {
        match (key, value) {
            ("target", GoValue::Map(t)) => target = parse_target(t).map_err(|m| invalid(&m))?,
            ("strategicMerge", GoValue::Map(_)) if operation.is_none() => {
                operation = Some(Operation::StrategicMerge(value.clone()))
            }
            ("jsonPatch", GoValue::Seq(ops)) if operation.is_none() => {
                for op in ops {
                    check_op(op).map_err(|m| invalid(&m))?;
                }
                operation = Some(Operation::JsonPatch(ops.clone()))
            }
            ("strategicMerge" | "jsonPatch", _) if operation.is_some() => {
                return Err(invalid(
                    "a patch has either `strategicMerge` or `jsonPatch`, not both",
                ));
            }
            ("strategicMerge", _) => return Err(invalid("`strategicMerge` must be a mapping")),
            ("jsonPatch", _) => return Err(invalid("`jsonPatch` must be a list of operations")),
            ("optional", GoValue::Bool(b)) => optional = *b,
            ("target", _) => return Err(invalid("`target` must be a mapping")),
            (other, _) => {
                return Err(invalid(&format!(
                    "unknown field {other:?} (target, strategicMerge, jsonPatch, optional)"
                )));
            }
        }
    }
    if target == Target::default() {
        return Err(invalid(
            "a patch needs a `target` with at least one of kind, name, namespace, apiVersion, labels",
        ));
    }
    let Some(operation) = operation else {
        return Err(invalid("a patch needs `strategicMerge` or `jsonPatch`"));
    };
    Ok(Patch {
        at: at.to_owned(),
        target,
        operation,
        optional,
    })
}

/// A patch's `target`: which objects it applies to.
fn parse_target(map: &GoMap) -> Result<Target, String> {
    let mut target = Target::default();
    for (field, v) in map.iter() {
        let text = || match v {
            GoValue::String(s) => Ok(s.clone()),
            _ => Err(format!("target.{field} must be a string")),
        };
        match field {
            "kind" => target.kind = Some(text()?),
            "name" => target.name = Some(text()?),
            "namespace" => target.namespace = Some(text()?),
            "apiVersion" => target.api_version = Some(text()?),
            "labels" => {
                let GoValue::Map(labels) = v else {
                    return Err("target.labels must be a mapping".into());
                };
                for (k, l) in labels.iter() {
                    let GoValue::String(l) = l else {
                        return Err("label values in target.labels must be strings".into());
                    };
                    target.labels.insert(k.to_owned(), l.clone());
                }
            }
            other => {
                return Err(format!(
                    "unknown target field {other:?} (kind, name, namespace, apiVersion, labels)"
                ));
            }
        }
    }
    Ok(target)
}

fn check_op(op: &GoValue) -> Result<(), String> {
    let GoValue::Map(m) = op else {
        return Err("a JSON patch operation is a mapping with `op` and `path`".into());
    };
    let text = |k: &str| match m.get(k) {
        Some(GoValue::String(s)) => Some(s.as_str()),
        _ => None,
    };
    let op_name = text("op").ok_or("a JSON patch operation needs `op`")?;
    let path = text("path").ok_or("a JSON patch operation needs `path`")?;
    if !path.is_empty() && !path.starts_with('/') {
        return Err(format!("JSON pointer {path:?} must start with '/'"));
    }
    match op_name {
        "add" | "replace" | "test" if m.get("value").is_none() => {
            Err(format!("`{op_name}` needs a `value`"))
        }
        "move" | "copy" if text("from").is_none() => Err(format!("`{op_name}` needs `from`")),
        "add" | "remove" | "replace" | "move" | "copy" | "test" => Ok(()),
        other => Err(format!(
            "unknown op {other:?} (add, remove, replace, move, copy, test)"
        )),
    }
}

/// List fields that Kubernetes merges item by item in a strategic merge patch, by their
/// merge key; every other list is replaced whole, as Kubernetes does for fields without a
/// patch strategy.
fn merge_key(field: &str, items: &[GoValue]) -> Option<&'static str> {
    let key = match field {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "env"
        | "volumes"
        | "imagePullSecrets" => "name",
        "volumeMounts" | "volumeDevices" => "mountPath",
        "hostAliases" => "ip",
        "topologySpreadConstraints" => "topologyKey",
        // Container ports merge on containerPort, Service ports on port.
        "ports" => {
            let has = |k: &str| {
                items
                    .iter()
                    .any(|i| matches!(i, GoValue::Map(m) if m.get(k).is_some()))
            };
            if has("containerPort") {
                "containerPort"
            } else {
                "port"
            }
        }
        _ => return None,
    };
    Some(key)
}

/// Kubernetes' strategic merge patch for the fields of core workloads: maps merge, `null`
/// deletes a key, lists with a merge key merge item by item (`$patch: delete` removes an
/// item), other lists are replaced, and `$patch: replace` replaces a whole map.
pub fn strategic_merge(target: &mut GoValue, patch: &GoValue, field: Option<&str>) {
    match (&mut *target, patch) {
        (GoValue::Map(t), GoValue::Map(p)) => {
            if matches!(p.get("$patch"), Some(GoValue::String(s)) if s == "replace") {
                *target = GoValue::Map(without_directives(p));
                return;
            }
            for (key, value) in p.iter() {
                if key == "$patch" {
                    continue;
                }
                if *value == GoValue::Null {
                    *t = t
                        .iter()
                        .filter(|(k, _)| *k != key)
                        .map(|(k, v)| (k.to_owned(), v.clone()))
                        .collect();
                } else if let Some(slot) = t.get_mut(key) {
                    strategic_merge(slot, value, Some(key));
                } else {
                    t.insert(key.to_owned(), clean(value));
                }
            }
        }
        (GoValue::Seq(t), GoValue::Seq(p)) => {
            let Some(key) = field.and_then(|f| merge_key(f, p)) else {
                *target = clean(patch);
                return;
            };
            let key_of = |v: &GoValue| match v {
                GoValue::Map(m) => m.get(key).cloned(),
                _ => None,
            };
            for item in p {
                let Some(wanted) = key_of(item) else {
                    t.push(clean(item));
                    continue;
                };
                let position = t.iter().position(|x| key_of(x).as_ref() == Some(&wanted));
                let delete = matches!(item, GoValue::Map(m) if matches!(m.get("$patch"), Some(GoValue::String(s)) if s == "delete"));
                match (position, delete) {
                    (Some(i), true) => {
                        t.remove(i);
                    }
                    (None, true) => {}
                    (Some(i), false) => strategic_merge(&mut t[i], item, None),
                    (None, false) => t.push(clean(item)),
                }
            }
        }
        _ => *target = clean(patch),
    }
}

fn without_directives(map: &GoMap) -> GoMap {
    map.iter()
        .filter(|(k, _)| *k != "$patch")
        .map(|(k, v)| (k.to_owned(), clean(v)))
        .collect()
}

/// A patch value with its `$patch` directives removed, as it lands in the object.
fn clean(value: &GoValue) -> GoValue {
    match value {
        GoValue::Map(m) => GoValue::Map(without_directives(m)),
        GoValue::Seq(items) => GoValue::Seq(items.iter().map(clean).collect()),
        other => other.clone(),
    }
}

/// RFC 6902 over a Go-typed object (keys keep their order, integers stay integers).
pub fn json_patch(object: &mut GoValue, ops: &[GoValue]) -> Result<(), String> {
    for op in ops {
        let GoValue::Map(m) = op else {
            unreachable!("checked when loaded")
        };
        let text = |k: &str| match m.get(k) {
            Some(GoValue::String(s)) => s.clone(),
            _ => String::new(),
        };
        let (name, path) = (text("op"), text("path"));
        let value = m.get("value").cloned().unwrap_or(GoValue::Null);
        match name.as_str() {
            "add" => add(object, &path, value)?,
            "remove" => {
                remove(object, &path)?;
            }
            "replace" => {
                let slot = pointer_mut(object, &path)
                    .ok_or_else(|| format!("replace: {path} does not exist"))?;
                *slot = value;
            }
            "move" => {
                let from = text("from");
                let moved = remove(object, &from)?;
                add(object, &path, moved)?;
            }
            "copy" => {
                let from = text("from");
                let copied = pointer_mut(object, &from)
                    .ok_or_else(|| format!("copy: {from} does not exist"))?
                    .clone();
                add(object, &path, copied)?;
            }
            "test" => {
                let found = pointer_mut(object, &path)
                    .ok_or_else(|| format!("test: {path} does not exist"))?;
                if *found != value {
                    return Err(format!("test: {path} does not hold the expected value"));
                }
            }
            _ => unreachable!("checked when loaded"),
        }
    }
    Ok(())
}

fn tokens(pointer: &str) -> Vec<String> {
    pointer
        .split('/')
        .skip(1)
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect()
}

fn pointer_mut<'a>(object: &'a mut GoValue, pointer: &str) -> Option<&'a mut GoValue> {
    let mut node = object;
    for token in tokens(pointer) {
        node = match node {
            GoValue::Map(m) => m.get_mut(&token)?,
            GoValue::Seq(items) => items.get_mut(token.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(node)
}

fn split_parent(pointer: &str) -> Result<(String, String), String> {
    let i = pointer
        .rfind('/')
        .ok_or_else(|| format!("{pointer:?} is not a JSON pointer"))?;
    let last = pointer[i + 1..].replace("~1", "/").replace("~0", "~");
    Ok((pointer[..i].to_owned(), last))
}

fn add(object: &mut GoValue, pointer: &str, value: GoValue) -> Result<(), String> {
    if pointer.is_empty() {
        *object = value;
        return Ok(());
    }
    let (parent, last) = split_parent(pointer)?;
    let slot =
        pointer_mut(object, &parent).ok_or_else(|| format!("add: {parent} does not exist"))?;
    match slot {
        GoValue::Map(m) => m.insert(last, value),
        GoValue::Seq(items) if last == "-" => items.push(value),
        GoValue::Seq(items) => {
            let i: usize = last
                .parse()
                .ok()
                .filter(|i| *i <= items.len())
                .ok_or_else(|| format!("add: index {last} is out of range at {parent}"))?;
            items.insert(i, value);
        }
        _ => return Err(format!("add: {parent} is neither a mapping nor a list")),
    }
    Ok(())
}

fn remove(object: &mut GoValue, pointer: &str) -> Result<GoValue, String> {
    let (parent, last) = split_parent(pointer)?;
    let slot =
        pointer_mut(object, &parent).ok_or_else(|| format!("remove: {parent} does not exist"))?;
    match slot {
        GoValue::Map(m) => {
            let old = m
                .get(&last)
                .cloned()
                .ok_or_else(|| format!("remove: {pointer} does not exist"))?;
            *m = m
                .iter()
                .filter(|(k, _)| *k != last)
                .map(|(k, v)| (k.to_owned(), v.clone()))
                .collect();
            Ok(old)
        }
        GoValue::Seq(items) => {
            let i: usize = last
                .parse()
                .ok()
                .filter(|i| *i < items.len())
                .ok_or_else(|| format!("remove: {pointer} does not exist"))?;
            Ok(items.remove(i))
        }
        _ => Err(format!("remove: {pointer} does not exist")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(text: &str) -> GoValue {
        parse_go_document(text).unwrap()
    }

    #[test]
    fn strategic_merge_follows_kubernetes_merge_keys() {
        let mut object = doc(
            "spec:\n  template:\n    spec:\n      containers:\n        - {name: app, image: a:1, env: [{name: A, value: \"1\"}]}\n      tolerations: [{key: x}]\n      nodeSelector: {zone: a, disk: ssd}\n",
        );
        let patch = doc(
            "spec:\n  template:\n    spec:\n      containers:\n        - {name: app, env: [{name: B, value: \"2\"}]}\n        - {name: sidecar, image: s:1}\n      tolerations: [{key: y}]\n      nodeSelector: {disk: null}\n",
        );
        strategic_merge(&mut object, &patch, None);
        let expected = doc(
            "spec:\n  template:\n    spec:\n      containers:\n        - {name: app, image: a:1, env: [{name: A, value: \"1\"}, {name: B, value: \"2\"}]}\n        - {name: sidecar, image: s:1}\n      tolerations: [{key: y}]\n      nodeSelector: {zone: a}\n",
        );
        assert_eq!(object, expected);
        let delete = doc(
            "spec:\n  template:\n    spec:\n      containers:\n        - {name: sidecar, $patch: delete}\n",
        );
        strategic_merge(&mut object, &delete, None);
        let GoValue::Map(m) = &object else { panic!() };
        let text = crate::yaml::to_yaml(m.get("spec").unwrap());
        assert!(!text.contains("sidecar"), "{text}");
    }

    #[test]
    fn json_patch_operations() {
        let mut object = doc("metadata: {name: a}\nspec: {list: [1, 2], keep: x}\n");
        let ops = match doc(
            "- {op: add, path: /metadata/annotations, value: {a/b: c}}\n- {op: add, path: /spec/list/-, value: 3}\n- {op: add, path: /spec/list/0, value: 0}\n- {op: remove, path: /spec/keep}\n- {op: replace, path: /metadata/name, value: b}\n- {op: copy, from: /metadata/name, path: /spec/copied}\n- {op: move, from: /spec/copied, path: /spec/moved}\n- {op: test, path: /spec/moved, value: b}\n- {op: add, path: /metadata/annotations/x~1y, value: z}\n",
        ) {
            GoValue::Seq(ops) => ops,
            _ => panic!(),
        };
        json_patch(&mut object, &ops).unwrap();
        assert_eq!(
            object,
            doc(
                "metadata: {name: b, annotations: {a/b: c, x/y: z}}\nspec: {list: [0, 1, 2, 3], moved: b}\n"
            )
        );
        let bad = match doc("- {op: remove, path: /spec/nope}\n") {
            GoValue::Seq(ops) => ops,
            _ => panic!(),
        };
        assert!(
            json_patch(&mut object, &bad)
                .unwrap_err()
                .contains("/spec/nope")
        );
    }
}
