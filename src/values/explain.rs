//! `strata explain`: for each leaf, the winning value and every lower layer that also set it,
//! in the spirit of Hiera's `lookup --explain`.

use super::layer::Layer;
use super::{Node, NodeKind, Origin};
use serde::Serialize;

/// One leaf of the merged values with its history, highest layer first.
#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    pub key: String,
    pub value: serde_json::Value,
    #[serde(rename = "setBy")]
    pub set_by: Setting,
    pub overrides: Vec<Setting>,
    /// A layer's `null` over a chart default: helm removes the key instead of keeping null.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Setting {
    pub source: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    pub value: serde_json::Value,
}

impl Setting {
    fn new(origin: &Origin, node: &Node) -> Setting {
        Setting {
            source: origin.source.to_string(),
            line: (origin.line > 0).then_some(origin.line),
            value: node.to_json(),
        }
    }

    pub fn location(&self) -> String {
        match self.line {
            Some(l) => format!("{}:{l}", self.source),
            None => self.source.clone(),
        }
    }
}

/// Explains every leaf at or below `prefix` (all leaves when empty). `None` when nothing there.
pub fn explain(merged: &Node, layers: &[Layer], prefix: &[String]) -> Option<Vec<Explanation>> {
    let start = merged.get(prefix)?;
    let mut leaves = Vec::new();
    collect_leaves(start, prefix.to_vec(), &mut leaves);
    Some(
        leaves
            .into_iter()
            .map(|(path, node)| {
                let overrides = layers
                    .iter()
                    .rev()
                    .filter_map(|layer| setting_on_path(&layer.tree, &path))
                    .filter(|n| n.origin != node.origin)
                    .map(|n| Setting::new(&n.origin, n))
                    .collect();
                let value = node.to_json();
                let deleted = value.is_null()
                    && layers.iter().any(|l| {
                        l.chart_defaults
                            && l.tree.get(&path).is_some_and(|d| !d.to_json().is_null())
                    });
                Explanation {
                    key: join_key_path(&path),
                    value,
                    set_by: Setting::new(&node.origin, node),
                    overrides,
                    deleted,
                }
            })
            .collect(),
    )
}

/// What a layer set at `path`: the node there, or a null, scalar or list the layer put on a
/// parent of `path` (a higher layer's map replaced it, so it was overridden too).
fn setting_on_path<'a>(tree: &'a Node, path: &[String]) -> Option<&'a Node> {
    let mut node = tree;
    for segment in path {
        match &node.kind {
            NodeKind::Map(m) => node = m.get(segment)?,
            NodeKind::Leaf(_) => return Some(node),
        }
    }
    Some(node)
}

fn collect_leaves<'a>(node: &'a Node, path: Vec<String>, out: &mut Vec<(Vec<String>, &'a Node)>) {
    match &node.kind {
        NodeKind::Map(map) if !map.is_empty() => {
            for (key, child) in map {
                let mut child_path = path.clone();
                child_path.push(key.clone());
                collect_leaves(child, child_path, out);
            }
        }
        _ => out.push((path, node)),
    }
}

/// The inverse of [`super::split_key_path`].
pub fn join_key_path(path: &[String]) -> String {
    path.iter()
        .map(|s| s.replace('.', "\\."))
        .collect::<Vec<_>>()
        .join(".")
}

/// The text form: one block per leaf.
pub fn to_text(explanations: &[Explanation]) -> String {
    let mut out = String::new();
    for e in explanations {
        if e.deleted {
            out.push_str(&format!(
                "{} deleted (a null over the chart default: helm removes the key)\n",
                e.key
            ));
            out.push_str(&format!("  deleted by {}\n", e.set_by.location()));
        } else {
            out.push_str(&format!("{} = {}\n", e.key, e.value));
            out.push_str(&format!("  set by    {}\n", e.set_by.location()));
        }
        for (i, o) in e.overrides.iter().enumerate() {
            let label = if i == 0 { "overrides" } else { "         " };
            out.push_str(&format!("  {label} {} = {}\n", o.location(), o.value));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::merge::merge_layers;
    use std::sync::Arc;

    #[test]
    fn lists_every_lower_layer_that_set_the_leaf() {
        let layers = vec![
            Layer::from_yaml("image:\n  tag: a\n", Arc::from("common.yaml")).unwrap(),
            Layer::from_yaml("other: 1\n", Arc::from("env.yaml")).unwrap(),
            Layer::from_yaml("image: {tag: c}\n", Arc::from("tenant.yaml")).unwrap(),
        ];
        let merged = merge_layers(layers[0].tree.clone(), &layers[1..]);
        let all = explain(&merged, &layers, &["image".to_string()]).unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].key, "image.tag");
        assert_eq!(all[0].set_by.location(), "tenant.yaml:1");
        assert_eq!(all[0].overrides.len(), 1);
        assert_eq!(all[0].overrides[0].location(), "common.yaml:2");
        let text = to_text(&all);
        assert!(text.contains("overrides common.yaml:2 = \"a\""), "{text}");
        assert!(explain(&merged, &layers, &["nope".to_string()]).is_none());
    }

    #[test]
    fn merged_anchors_show_the_duplicate_helm_keeps() {
        let layers = vec![
            Layer::from_yaml(
                "base: &b\n  x: first\n  x: last\nm:\n  x: explicit\n  <<: *b\n",
                Arc::from("common.yaml"),
            )
            .unwrap(),
        ];
        let merged = merge_layers(layers[0].tree.clone(), &layers[1..]);
        let all = explain(&merged, &layers, &["m".to_string()]).unwrap();
        assert_eq!(all[0].key, "m.x");
        assert_eq!(all[0].value, serde_json::json!("last"));
        assert_eq!(all[0].set_by.location(), "common.yaml:3");
    }

    #[test]
    fn a_null_or_scalar_replaced_by_a_map_is_an_override() {
        let layers = vec![
            Layer::from_yaml("m: null\nk: 5\n", Arc::from("common.yaml")).unwrap(),
            Layer::from_yaml("m: {x: 1}\nk:\n  z: 2\n", Arc::from("tenant.yaml")).unwrap(),
        ];
        let merged = merge_layers(layers[0].tree.clone(), &layers[1..]);
        let all = explain(&merged, &layers, &[]).unwrap();
        let text = to_text(&all);
        assert!(
            text.contains("m.x = 1\n  set by    tenant.yaml:1\n  overrides common.yaml:1 = null\n"),
            "{text}"
        );
        assert!(
            text.contains("k.z = 2\n  set by    tenant.yaml:3\n  overrides common.yaml:2 = 5\n"),
            "{text}"
        );
    }
}
