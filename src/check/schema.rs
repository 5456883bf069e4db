//! A chart's `values.schema.json`, checked against a tenant's values before helm sees them.
//!
//! helm checks the same schema during `helm template`, but its message names only the key. Here
//! the values are the tenant's merged layers over the chart's `values.yaml`, merged with
//! strata's own provenance-keeping merge, so each error can say which layer file and line set
//! the offending value.

use crate::values::layer::Layer;
use crate::values::merge::merge;
use crate::values::{Node, NodeKind, Origin};
use jsonschema::error::ValidationErrorKind;
use serde_json::Value;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

/// What a chart brings to a check: its name (as helm's `# Source:` comments show it), its
/// defaults and its compiled values schema.
pub struct ChartFiles {
    pub name: Option<String>,
    /// `values.yaml` as a layer named `<chart>/values.yaml`, read only with a schema.
    pub defaults: Option<Layer>,
    pub schema: Option<jsonschema::Validator>,
}

/// A chart that cannot be checked; the message names the file.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ChartFilesError(String);

/// The largest chart file read from a packaged chart; a schema or values file beyond it is
/// surely not one a human maintains.
const MAX_FILE: u64 = 16 * 1024 * 1024;

impl ChartFiles {
    /// Reads `Chart.yaml`, `values.yaml` and `values.schema.json` from a chart directory or a
    /// packaged chart (`.tgz`). `shown` names the chart in messages and provenance.
    pub fn load(chart: &Path, shown: &str) -> Result<ChartFiles, ChartFilesError> {
        let files = if chart.is_dir() {
            let read = |name: &str| match std::fs::read_to_string(chart.join(name)) {
                Ok(text) => Ok(Some(text)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(ChartFilesError(format!("cannot read {shown}/{name}: {e}"))),
            };
            [
                read("Chart.yaml")?,
                read("values.yaml")?,
                read("values.schema.json")?,
            ]
        } else {
            read_packaged(chart)
                .map_err(|e| ChartFilesError(format!("cannot read chart {shown}: {e}")))?
        };
        let [chart_yaml, values, schema] = files;
        let name = chart_yaml.and_then(|text| {
            #[derive(serde::Deserialize)]
            struct Meta {
                name: String,
            }
            crate::yaml::parse_config::<Meta>(&text)
                .ok()
                .map(|m| m.name)
        });
        // Defaults matter only to a schema; without one, a directory that is no chart (a
        // manifests component) is never read as values.
        let defaults = values
            .filter(|_| schema.is_some())
            .map(|text| Layer::from_yaml(&text, Arc::from(format!("{shown}/values.yaml"))))
            .transpose()
            .map_err(|e| ChartFilesError(e.to_string()))?;
        let schema = schema
            .map(|text| {
                let json: Value = serde_json::from_str(&text)
                    .map_err(|e| ChartFilesError(format!("{shown}/values.schema.json: {e}")))?;
                jsonschema::validator_for(&json).map_err(|e| {
                    ChartFilesError(format!(
                        "{shown}/values.schema.json is not a usable JSON Schema: {e}"
                    ))
                })
            })
            .transpose()?;
        Ok(ChartFiles {
            name,
            defaults,
            schema,
        })
    }

    /// Every schema error of the tenant's `merged` values over this chart's defaults, each
    /// traced to the layer that set the value. Empty without a schema.
    pub fn validate(&self, merged: &Node) -> Vec<ValuesProblem> {
        let Some(schema) = &self.schema else {
            return Vec::new();
        };
        let mut effective = match &self.defaults {
            Some(layer) => merge(layer.tree.clone(), merged.clone()),
            None => merged.clone(),
        };
        drop_nulls(&mut effective);
        let instance = effective.to_json();
        schema
            .iter_errors(&instance)
            .map(|error| {
                let mut path: Vec<String> = error
                    .instance_path()
                    .segments()
                    .map(|s| s.to_string())
                    .collect();
                // An unexpected key is set by whoever wrote that key, not by its parent map.
                if let ValidationErrorKind::AdditionalProperties { unexpected } = error.kind()
                    && let Some(first) = unexpected.first()
                {
                    path.push(first.clone());
                }
                // A missing key was set by nobody; anything else is the value some layer wrote,
                // or the list it sits in (lists are set whole).
                let (node, depth) = deepest(&effective, &path);
                let found = !path.is_empty() && (depth == path.len() || is_leaf(node));
                let missing = matches!(error.kind(), ValidationErrorKind::Required { .. });
                let set_by = (found && !missing).then(|| node.origin.clone());
                ValuesProblem {
                    key: display_path(error.instance_path().segments().map(|s| s.to_string())),
                    message: error.to_string(),
                    set_by,
                }
            })
            .collect()
    }
}

/// One value that breaks the chart's schema.
#[derive(Debug, Clone, PartialEq)]
pub struct ValuesProblem {
    /// The dotted key (`resources.limits.cpu`, `tolerations[0]`), or `(top level)`.
    pub key: String,
    pub message: String,
    /// The layer file and line that set the value, when the value is in the tree.
    pub set_by: Option<Origin>,
}

impl std::fmt::Display for ValuesProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.key, self.message)?;
        if let Some(origin) = &self.set_by {
            write!(f, " — set by {origin}")?;
        }
        Ok(())
    }
}

/// helm deletes a key whose value is null when it coalesces the values with the chart's
/// defaults, so the schema never sees it.
fn drop_nulls(node: &mut Node) {
    if let NodeKind::Map(map) = &mut node.kind {
        map.retain(|_, child| !matches!(child.kind, NodeKind::Leaf(Value::Null)));
        map.values_mut().for_each(drop_nulls);
    }
}

fn is_leaf(node: &Node) -> bool {
    matches!(node.kind, NodeKind::Leaf(_))
}

/// The deepest node along `path` and how many segments it took: lists are leaves, so a path
/// into a list stops at the list, which is what a layer sets as a whole.
fn deepest<'a>(root: &'a Node, path: &[String]) -> (&'a Node, usize) {
    let mut node = root;
    for (depth, segment) in path.iter().enumerate() {
        match &node.kind {
            NodeKind::Map(map) => match map.get(segment) {
                Some(child) => node = child,
                None => return (node, depth),
            },
            NodeKind::Leaf(_) => return (node, depth),
        }
    }
    (node, path.len())
}

/// `a.b[0].c`, with `\.` for a dot inside a key, as `strata explain` takes keys.
fn display_path(segments: impl Iterator<Item = String>) -> String {
    let mut out = String::new();
    for segment in segments {
        if !segment.is_empty() && segment.chars().all(|c| c.is_ascii_digit()) {
            out.push_str(&format!("[{segment}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&segment.replace('.', "\\."));
        }
    }
    if out.is_empty() {
        "(top level)".to_owned()
    } else {
        out
    }
}

/// `Chart.yaml`, `values.yaml` and `values.schema.json` from the top directory of a packaged
/// chart, as helm would read them.
fn read_packaged(path: &Path) -> std::io::Result<[Option<String>; 3]> {
    let file = std::fs::File::open(path)?;
    let mut archive = tar::Archive::new(flate2::read::MultiGzDecoder::new(file));
    let mut found: [Option<String>; 3] = [None, None, None];
    for entry in archive.entries()? {
        let entry = entry?;
        let entry_path = entry.path()?.into_owned();
        let parts: Vec<_> = entry_path.components().collect();
        let [_, name] = parts.as_slice() else {
            continue;
        };
        let slot = match name.as_os_str().to_str() {
            Some("Chart.yaml") => 0,
            Some("values.yaml") => 1,
            Some("values.schema.json") => 2,
            _ => continue,
        };
        let mut text = String::new();
        entry.take(MAX_FILE).read_to_string(&mut text)?;
        found[slot] = Some(text);
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::merge::merge_layers;

    fn chart(schema: &str, defaults: &str) -> ChartFiles {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("Chart.yaml"), "apiVersion: v2\nname: web\n").unwrap();
        std::fs::write(dir.path().join("values.yaml"), defaults).unwrap();
        std::fs::write(dir.path().join("values.schema.json"), schema).unwrap();
        ChartFiles::load(dir.path(), "charts/web").unwrap()
    }

    fn tenant(layers: &[(&str, &str)]) -> Node {
        let layers: Vec<Layer> = layers
            .iter()
            .map(|(name, text)| Layer::from_yaml(text, Arc::from(*name)).unwrap())
            .collect();
        merge_layers(layers[0].tree.clone(), &layers[1..])
    }

    const SCHEMA: &str = r#"{"type": "object", "additionalProperties": false,
        "properties": {"replicas": {"type": "integer"}, "image": {"type": "object",
        "properties": {"tag": {"type": "string"}}}, "list": {"type": "array", "items": {"type": "string"}}}}"#;

    #[test]
    fn errors_name_the_layer_and_line_that_set_the_value() {
        let c = chart(SCHEMA, "replicas: 1\nimage:\n  tag: \"1\"\n");
        assert_eq!(c.name.as_deref(), Some("web"));
        let merged = tenant(&[
            ("common.yaml", "image:\n  tag: \"2\"\n"),
            ("acme.yaml", "x: 1\nreplicas: three\nlist: [a, 1]\n"),
        ]);
        let problems: Vec<String> = c.validate(&merged).iter().map(|p| p.to_string()).collect();
        assert!(
            problems.contains(
                &"replicas: \"three\" is not of type \"integer\" — set by acme.yaml:2".to_string()
            ),
            "{problems:?}"
        );
        assert!(
            problems.iter().any(|p| p.starts_with("list[1]: 1 is not of type \"string\" — set by acme.yaml:3")),
            "{problems:?}"
        );
        assert!(
            problems
                .iter()
                .any(|p| p.starts_with("(top level): ") && p.ends_with("set by acme.yaml:1")),
            "{problems:?}"
        );
    }

    #[test]
    fn chart_defaults_fill_in_and_nulls_delete() {
        let schema =
            r#"{"required": ["replicas"], "properties": {"replicas": {"type": "integer"}}}"#;
        let c = chart(schema, "replicas: 1\n");
        assert_eq!(c.validate(&tenant(&[("a.yaml", "other: 1\n")])), []);
        let problems = c.validate(&tenant(&[("a.yaml", "replicas: null\n")]));
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].message.contains("required"), "{problems:?}");
        let wrong_default = chart(schema, "replicas: one\n");
        let problems = wrong_default.validate(&tenant(&[("a.yaml", "{}\n")]));
        assert_eq!(
            problems[0].set_by.as_ref().map(ToString::to_string),
            Some("charts/web/values.yaml:1".to_string())
        );
    }
}
