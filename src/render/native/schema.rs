//! `values.schema.json` checks on the coalesced values, as Helm runs them before rendering:
//! the root chart's schema against all values, each subchart's against its own section
//! (globals included), every failure collected into one message naming each chart.

use super::dependencies::Node;
use serde_json::{Map, Value};

/// The values break one or more charts' schemas; the message lists each chart and error.
#[derive(Debug, thiserror::Error)]
#[error(
    "values don't meet the specifications of the schema(s) in the following chart(s):\n{details}"
)]
pub struct SchemaError {
    pub details: String,
}

/// Validates `values` against `node`'s schema and its subcharts' schemas.
pub fn validate(node: &Node, values: &Map<String, Value>) -> Result<(), SchemaError> {
    let mut details = String::new();
    collect(node, values, &mut details);
    if details.is_empty() {
        Ok(())
    } else {
        Err(SchemaError { details })
    }
}

fn collect(node: &Node, values: &Map<String, Value>, out: &mut String) {
    if let Some(schema) = &node.chart.schema {
        let errors = check(schema, values);
        if !errors.is_empty() {
            out.push_str(&format!("{}:\n", node.name));
            for e in errors {
                out.push_str(&format!("- {e}\n"));
            }
        }
    }
    for sub in &node.deps {
        let empty = Map::new();
        let section = match values.get(&sub.name) {
            Some(Value::Object(m)) => m,
            _ => &empty,
        };
        collect(sub, section, out);
    }
}

fn check(schema: &[u8], values: &Map<String, Value>) -> Vec<String> {
    let json: Value = match serde_json::from_slice(schema) {
        Ok(json) => json,
        Err(e) => return vec![format!("values.schema.json is not valid JSON: {e}")],
    };
    let validator = match jsonschema::validator_for(&json) {
        Ok(v) => v,
        Err(e) => {
            return vec![format!(
                "values.schema.json is not a usable JSON Schema: {e}"
            )];
        }
    };
    let instance = Value::Object(values.clone());
    validator
        .iter_errors(&instance)
        .map(|error| {
            let path = error.instance_path().to_string();
            let at = if path.is_empty() {
                "(root)".to_string()
            } else {
                path
            };
            format!("at {at}: {error}")
        })
        .collect()
}
