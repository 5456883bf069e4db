//! `values.schema.json` checks on the coalesced values, as Helm runs them before rendering:
//! the root chart's schema against all values, each subchart's against its own section
//! (globals included), every failure collected into one message naming each chart.

use super::chart::Chart;
use super::dependencies::Node;
use serde_json::{Map, Value};
use std::sync::Arc;

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
        Err(SchemaError {
            details: details.trim_end().to_string(),
        })
    }
}

fn collect(node: &Node, values: &Map<String, Value>, out: &mut String) {
    {
        let errors = check(node.chart, values);
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

/// The chart's compiled schema (compiled once per loaded chart), or why it cannot be used.
pub fn validator(chart: &Chart) -> Option<Result<Arc<jsonschema::Validator>, String>> {
    let schema = chart.schema.as_ref()?;
    Some(
        chart
            .schema_validator
            .get_or_init(|| {
                let json: Value = serde_json::from_slice(schema)
                    .map_err(|e| format!("values.schema.json is not valid JSON: {e}"))?;
                jsonschema::validator_for(&json)
                    .map(Arc::new)
                    .map_err(|e| format!("values.schema.json is not a usable JSON Schema: {e}"))
            })
            .clone(),
    )
}

fn check(chart: &Chart, values: &Map<String, Value>) -> Vec<String> {
    let validator = match validator(chart) {
        None => return Vec::new(),
        Some(Ok(v)) => v,
        Some(Err(e)) => return vec![e],
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
