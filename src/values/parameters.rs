//! The Argo CD `values` parameter: a flat map of dotted keys, typed the way `helm --set` types.

use super::layer::Layer;
use super::{Node, NodeKind, Origin, split_key_path};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Builds the layer for a map parameter; `image.tag: v2` becomes `{image: {tag: v2}}`.
///
/// Values arrive as strings; they get `--set` typing (`true`/`false`, `null`, base-10 integers
/// without a leading zero) because that is what Argo CD users know from `helm.parameters`.
pub fn layer_from_map(entries: &BTreeMap<String, String>, source: Arc<str>) -> Layer {
    let origin = Origin {
        source: source.clone(),
        line: 0,
    };
    let mut root = Node::empty_map(origin.clone());
    for (key, value) in entries {
        let path = split_key_path(key);
        if path.is_empty() {
            continue;
        }
        insert(&mut root, &path, typed(value), &origin);
    }
    Layer {
        source,
        tree: root,
        chart_defaults: false,
    }
}

fn insert(node: &mut Node, path: &[String], value: serde_json::Value, origin: &Origin) {
    if !matches!(node.kind, NodeKind::Map(_)) {
        *node = Node::empty_map(origin.clone());
    }
    let NodeKind::Map(map) = &mut node.kind else {
        unreachable!("made a map above")
    };
    let (first, rest) = path.split_first().expect("non-empty path");
    if rest.is_empty() {
        map.insert(
            first.clone(),
            Node {
                origin: origin.clone(),
                kind: NodeKind::Leaf(value),
            },
        );
    } else {
        let child = map
            .entry(first.clone())
            .or_insert_with(|| Node::empty_map(origin.clone()));
        insert(child, rest, value, origin);
    }
}

/// Helm's `strvals` typing for `--set`.
fn typed(text: &str) -> serde_json::Value {
    use serde_json::Value;
    if text.eq_ignore_ascii_case("true") {
        return Value::Bool(true);
    }
    if text.eq_ignore_ascii_case("false") {
        return Value::Bool(false);
    }
    if text.eq_ignore_ascii_case("null") {
        return Value::Null;
    }
    if text == "0" {
        return Value::from(0);
    }
    if !text.starts_with('0')
        && let Ok(n) = text.parse::<i64>()
    {
        return Value::from(n);
    }
    Value::String(text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn dotted_keys_nest_and_values_get_set_typing() {
        let entries: BTreeMap<String, String> = [
            ("image.tag", "0755"),
            ("replicas", "3"),
            ("debug", "TRUE"),
            ("gone", "null"),
            ("a\\.b", "x"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let layer = layer_from_map(&entries, Arc::from("param"));
        assert_eq!(
            layer.tree.to_json(),
            json!({"image": {"tag": "0755"}, "replicas": 3, "debug": true, "gone": null, "a.b": "x"})
        );
    }
}
