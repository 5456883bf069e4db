//! Turns one parsed values document into a provenance tree.

use super::{Node, NodeKind, Origin, ValuesError};
use crate::yaml::{self, RawKind, RawNode};
use std::collections::BTreeMap;
use std::sync::Arc;

/// One input of the merge, lowest precedence first in a list of layers.
#[derive(Debug, Clone)]
pub struct Layer {
    /// The name shown in provenance: a repository-relative path or a parameter description.
    pub source: Arc<str>,
    pub tree: Node,
    /// The chart's own values.yaml (see [`super::defaults`]): shown by `explain`, never sent
    /// to helm, which reads it itself.
    pub chart_defaults: bool,
}

impl Layer {
    /// Reads YAML text the way `helm -f` does. `source` names the file in every message.
    pub fn from_yaml(text: &str, source: Arc<str>) -> Result<Layer, ValuesError> {
        let raw = yaml::parse_values(text).map_err(|e| ValuesError::Syntax {
            source_name: source.clone(),
            line: e.line,
            message: e.message,
        })?;
        Layer::from_raw(raw, source)
    }

    /// Renders a `*.tmpl` layer over the tenant's variables, then reads it like
    /// [`Layer::from_yaml`]; lines point into the template.
    pub fn from_template(
        text: &str,
        source: Arc<str>,
        vars: &std::collections::BTreeMap<String, String>,
    ) -> Result<Layer, ValuesError> {
        let raw =
            super::template::render_layer(text, vars).map_err(|error| ValuesError::Template {
                source_name: source.clone(),
                error,
            })?;
        Layer::from_raw(raw, source)
    }

    fn from_raw(raw: Option<RawNode>, source: Arc<str>) -> Result<Layer, ValuesError> {
        let tree = match raw {
            None => Node::empty_map(Origin {
                source: source.clone(),
                line: 1,
            }),
            Some(
                node @ RawNode {
                    kind: RawKind::Map(_),
                    ..
                },
            ) => convert(node, &source),
            Some(other) => {
                return Err(ValuesError::NotAMap {
                    source_name: source,
                    line: other.line,
                    found: kind_name(&other.kind),
                });
            }
        };
        Ok(Layer {
            source,
            tree,
            chart_defaults: false,
        })
    }
}

fn kind_name(kind: &RawKind) -> &'static str {
    match kind {
        RawKind::Null => "null",
        RawKind::Bool(_) => "a boolean",
        RawKind::Number(_) => "a number",
        RawKind::String(_) => "a string",
        RawKind::Seq(_) => "a list",
        RawKind::Map(_) => "a map",
    }
}

fn convert(raw: RawNode, source: &Arc<str>) -> Node {
    let origin = Origin {
        source: source.clone(),
        line: raw.line,
    };
    match raw.kind {
        RawKind::Map(entries) => {
            let mut map = BTreeMap::new();
            // The reader has applied Helm's rules already: keys are unique here.
            for (key, value) in entries {
                map.insert(key, convert(value, source));
            }
            Node {
                origin,
                kind: NodeKind::Map(map),
            }
        }
        other => Node {
            origin,
            kind: NodeKind::Leaf(to_plain_json(other)),
        },
    }
}

fn to_plain_json(kind: RawKind) -> serde_json::Value {
    use serde_json::Value;
    match kind {
        RawKind::Null => Value::Null,
        RawKind::Bool(b) => Value::Bool(b),
        // Whole numbers are written without a fraction; helm reads both as the same float64.
        RawKind::Number(n)
            if n.fract() == 0.0 && n.abs() < 9.0e15 && !(n == 0.0 && n.is_sign_negative()) =>
        {
            Value::from(n as i64)
        }
        RawKind::Number(n) => serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number),
        RawKind::String(s) => Value::String(s),
        RawKind::Seq(items) => {
            Value::Array(items.into_iter().map(|i| to_plain_json(i.kind)).collect())
        }
        RawKind::Map(entries) => {
            // Inside lists there is no provenance to keep.
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, to_plain_json(v.kind)))
                    .collect(),
            )
        }
    }
}
