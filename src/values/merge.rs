//! Helm's `-f` merge: maps merge key by key, everything else (lists, scalars, null) replaces.
//!
//! Nulls are kept, not applied: helm's own coalesce with the chart defaults must see them to
//! delete defaulted keys, exactly as if the layers had been given as `-f` files in order.

use super::layer::Layer;
use super::{Node, NodeKind};

/// Merges layers lowest first into one tree.
pub fn merge_layers<'a>(base: Node, layers: impl IntoIterator<Item = &'a Layer>) -> Node {
    layers
        .into_iter()
        .fold(base, |acc, layer| merge(acc, layer.tree.clone()))
}

/// Merges `over` onto `base` (Helm's `mergeMaps`).
pub fn merge(base: Node, over: Node) -> Node {
    match (base.kind, over.kind) {
        (NodeKind::Map(mut into), NodeKind::Map(from)) => {
            for (key, value) in from {
                let merged = match into.remove(&key) {
                    Some(existing) => merge(existing, value),
                    None => value,
                };
                into.insert(key, merged);
            }
            Node {
                // A map keeps the origin of whoever introduced it; its leaves carry their own.
                origin: base.origin,
                kind: NodeKind::Map(into),
            }
        }
        (_, kind) => Node {
            origin: over.origin,
            kind,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn layer(name: &str, text: &str) -> Layer {
        Layer::from_yaml(text, Arc::from(name)).unwrap()
    }

    fn merged(layers: &[Layer]) -> serde_json::Value {
        let base = layers[0].tree.clone();
        merge_layers(base, &layers[1..]).to_json()
    }

    #[test]
    fn maps_recurse_and_lists_replace() {
        let out = merged(&[
            layer("f1", "m: {q: 20, r: 30}\nlist: [9]\nb: from-f1\n"),
            layer("f2", "m: {r: 300, deep: {other: 1}}\nb: from-f2\n"),
        ]);
        assert_eq!(
            out,
            serde_json::json!({"b": "from-f2", "list": [9], "m": {"deep": {"other": 1}, "q": 20, "r": 300}})
        );
    }

    #[test]
    fn a_null_in_the_middle_truncates_and_is_kept() {
        let out = merged(&[
            layer("a", "m: {a: 1}\nx: 5\n"),
            layer("b", "m: null\nx: null\n"),
            layer("c", "m: {b: 2}\n"),
        ]);
        assert_eq!(out, serde_json::json!({"m": {"b": 2}, "x": null}));
    }

    #[test]
    fn empty_map_clears_nothing_but_empty_list_does() {
        let out = merged(&[
            layer("a", "m: {a: 1}\nl: [1]\n"),
            layer("b", "m: {}\nl: []\n"),
        ]);
        assert_eq!(out, serde_json::json!({"l": [], "m": {"a": 1}}));
    }

    #[test]
    fn leaves_remember_the_winning_file_and_line() {
        let layers = [
            layer("common.yaml", "image:\n  tag: a\n  repo: r\n"),
            layer("prod.yaml", "x: 1\nimage:\n  tag: b\n"),
        ];
        let tree = merge_layers(layers[0].tree.clone(), &layers[1..]);
        let tag = tree.get(&["image".into(), "tag".into()]).unwrap();
        assert_eq!(tag.origin.to_string(), "prod.yaml:3");
        let repo = tree.get(&["image".into(), "repo".into()]).unwrap();
        assert_eq!(repo.origin.to_string(), "common.yaml:3");
    }
}
