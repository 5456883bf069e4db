//! The values-level summary: which merged keys changed for a tenant and which layer file made
//! the new value win, so a reviewer sees "this PR changes resources.limits.cpu for 37 tenants
//! through values/region/yul1.yaml" instead of 37 manifest diffs to read.

use super::inputs::ComponentInputs;
use crate::values::explain::{Explanation, explain};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// One leaf of one component's merged values that differs between the sides.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ValueChange {
    pub component: String,
    pub key: String,
    /// `None`: the key is not set on that side.
    pub old: Option<Value>,
    pub new: Option<Value>,
    /// The file whose setting wins on the head side; for a removed key, the file that set it
    /// on the base side.
    pub via: String,
}

/// The same change made to several tenants.
#[derive(Debug, Clone, Serialize)]
pub struct ValueGroup {
    #[serde(flatten)]
    pub change: ValueChange,
    pub tenants: Vec<String>,
}

/// Compares two sides' merged values leaf by leaf, component by component.
pub fn changes(base: &[ComponentInputs], head: &[ComponentInputs]) -> Vec<ValueChange> {
    let leaves = |side: &[ComponentInputs]| -> BTreeMap<(String, String), Explanation> {
        side.iter()
            .flat_map(|c| {
                explain(&c.values.merged, &c.values.layers, &[])
                    .unwrap_or_default()
                    .into_iter()
                    // The root of an empty values tree is not a key.
                    .filter(|e| !e.key.is_empty())
                    .map(|e| ((c.name.clone(), e.key.clone()), e))
            })
            .collect()
    };
    let (before, after) = (leaves(base), leaves(head));
    let mut keys: Vec<&(String, String)> = before.keys().chain(after.keys()).collect();
    keys.sort();
    keys.dedup();
    let mut out = Vec::new();
    for key in keys {
        let (old, new) = (before.get(key), after.get(key));
        if let (Some(o), Some(n)) = (old, new)
            && o.value == n.value
        {
            continue;
        }
        let via = match new.or(old) {
            Some(e) => e.set_by.source.clone(),
            None => continue,
        };
        out.push(ValueChange {
            component: key.0.clone(),
            key: key.1.clone(),
            old: old.map(|e| e.value.clone()),
            new: new.map(|e| e.value.clone()),
            via,
        });
    }
    out
}

/// Hides the old or new value of every change whose value is, or holds, a Secret value of
/// the compared manifests: a values file may hold what a chart turns into a Secret, and a
/// pull-request comment must not print it.
pub fn redact(changes: &mut [ValueChange], mask: &super::mask::Mask) {
    for change in changes {
        for value in [&mut change.old, &mut change.new].into_iter().flatten() {
            mask.value(value);
        }
    }
}

/// What a hidden value is shown as.
pub const REDACTED: &str = super::mask::REDACTED;

/// Groups identical changes across tenants, the most widespread first.
pub fn group<'a>(
    per_tenant: impl IntoIterator<Item = (&'a str, &'a [ValueChange])>,
) -> Vec<ValueGroup> {
    // Keyed by the change's JSON text: values are JSON, which has no Ord or Hash of its own.
    let mut by_change: BTreeMap<String, ValueGroup> = BTreeMap::new();
    for (tenant, changes) in per_tenant {
        for change in changes {
            let key = serde_json::to_string(change).expect("JSON serializes");
            by_change
                .entry(key)
                .or_insert_with(|| ValueGroup {
                    change: change.clone(),
                    tenants: Vec::new(),
                })
                .tenants
                .push(tenant.to_owned());
        }
    }
    let mut groups: Vec<ValueGroup> = by_change.into_values().collect();
    groups.sort_by(|a, b| {
        b.tenants
            .len()
            .cmp(&a.tenants.len())
            .then_with(|| a.change.component.cmp(&b.change.component))
            .then_with(|| a.change.key.cmp(&b.change.key))
    });
    groups
}

/// A value for a one-line summary: plain strings stay bare unless they would read as another
/// type or are empty; anything else is compact JSON, shortened past 60 characters.
pub fn show(value: Option<&Value>) -> String {
    let Some(value) = value else {
        return "(unset)".into();
    };
    let text = match value {
        Value::String(s)
            if !s.is_empty()
                && !s.contains(char::is_whitespace)
                && serde_json::from_str::<Value>(s).is_err()
                && !matches!(s.as_str(), "(unset)" | "null" | "true" | "false")
                || s == REDACTED =>
        {
            s.clone()
        }
        other => other.to_string(),
    };
    if text.chars().count() > 60 {
        let cut: String = text.chars().take(57).collect();
        format!("{cut}...")
    } else {
        text
    }
}

/// `key old → new via file`, the line used by every format.
pub fn summary_line(change: &ValueChange) -> String {
    let via = if change.new.is_none() {
        format!("(was set by {})", change.via)
    } else {
        format!("via {}", change.via)
    };
    format!(
        "{}: {} {} → {} {via}",
        change.component,
        change.key,
        show(change.old.as_ref()),
        show(change.new.as_ref()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::layer::Layer;
    use crate::values::merge::merge_layers;
    use crate::values::{Node, Origin};
    use std::sync::Arc;

    fn side(files: &[(&str, &str)]) -> Vec<ComponentInputs> {
        let layers: Vec<Layer> = files
            .iter()
            .map(|(name, text)| Layer::from_yaml(text, Arc::from(*name)).unwrap())
            .collect();
        let base = Node::empty_map(Origin {
            source: Arc::from("(no layer)"),
            line: 0,
        });
        let merged = merge_layers(base, &layers);
        vec![ComponentInputs {
            name: "web".into(),
            values: crate::pipeline::ComponentValues { layers, merged },
            chart: None,
        }]
    }

    #[test]
    fn changed_added_and_removed_leaves_name_their_file() {
        let base = side(&[
            ("common.yaml", "cpu: 500m\nold: 1\nsame: x\n"),
            ("region.yaml", "{}\n"),
        ]);
        let head = side(&[
            ("common.yaml", "cpu: 500m\nsame: x\n"),
            ("region.yaml", "cpu: \"1\"\nnew: true\n"),
        ]);
        let lines: Vec<String> = changes(&base, &head).iter().map(summary_line).collect();
        assert_eq!(
            lines,
            [
                "web: cpu 500m → \"1\" via region.yaml",
                "web: new (unset) → true via region.yaml",
                "web: old 1 → (unset) (was set by common.yaml)",
            ]
        );
    }

    #[test]
    fn values_that_end_up_in_a_secret_are_hidden() {
        let mut changes = vec![ValueChange {
            component: "web".into(),
            key: "db.password".into(),
            old: Some(Value::from("hunter2")),
            new: Some(Value::from(4711)),
            via: "common.yaml".into(),
        }];
        let secrets =
            super::super::mask::Mask::new(["hunter2".to_owned(), "4711".to_owned()].into());
        redact(&mut changes, &secrets);
        assert_eq!(
            summary_line(&changes[0]),
            "web: db.password (redacted) → (redacted) via common.yaml"
        );
    }

    #[test]
    fn identical_changes_group_across_tenants() {
        let change = ValueChange {
            component: "web".into(),
            key: "cpu".into(),
            old: Some(Value::from("500m")),
            new: Some(Value::from("1")),
            via: "region.yaml".into(),
        };
        let one = vec![change.clone()];
        let groups = group([("a", one.as_slice()), ("b", one.as_slice())]);
        assert_eq!(groups.len(), 1);
        assert_eq!(groups[0].tenants, ["a", "b"]);
    }
}
