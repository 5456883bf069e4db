//! The Argo CD `values` parameter: a flat map of dotted keys, typed the way `helm --set` types.

use super::layer::Layer;
use super::{Node, NodeKind, Origin, ValuesError, split_key_path};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The most dotted parts a key may have: the nesting `helm --set` accepts (it refuses a 32nd
/// level). The parameter is untrusted input; without a cap a key of ten thousand dots built a
/// ten-thousand-level tree.
pub const MAX_KEY_SEGMENTS: usize = 31;

/// Builds the layer for a map parameter; `image.tag: v2` becomes `{image: {tag: v2}}`.
///
/// Values arrive as strings; they get `--set` typing (`true`/`false`, `null`, base-10 integers
/// without a leading zero) because that is what Argo CD users know from `helm.parameters`.
pub fn layer_from_map(
    entries: &BTreeMap<String, String>,
    source: Arc<str>,
) -> Result<Layer, ValuesError> {
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
        if path.len() > MAX_KEY_SEGMENTS {
            return Err(ValuesError::KeyTooDeep {
                source_name: source,
                key: crate::values::explain::join_key_path(&path[..3]) + ".…",
                segments: path.len(),
                max: MAX_KEY_SEGMENTS,
            });
        }
        insert(&mut root, &path, typed(value), &origin);
    }
    Ok(Layer {
        source,
        tree: root,
        chart_defaults: false,
    })
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
        let layer = layer_from_map(&entries, Arc::from("param")).unwrap();
        assert_eq!(
            layer.tree.to_json(),
            json!({"image": {"tag": "0755"}, "replicas": 3, "debug": true, "gone": null, "a.b": "x"})
        );
    }

    #[test]
    fn keys_nest_as_deep_as_helm_set_allows_and_no_deeper() {
        let key = |n: usize| vec!["a"; n].join(".");
        let at_limit = BTreeMap::from([(key(MAX_KEY_SEGMENTS), "1".to_string())]);
        let layer = layer_from_map(&at_limit, Arc::from("param")).unwrap();
        assert!(layer.tree.get(&vec!["a".to_string(); 31]).is_some());
        let started = std::time::Instant::now();
        let hostile = BTreeMap::from([(key(10_000), "1".to_string())]);
        let err = layer_from_map(&hostile, Arc::from("Argo CD parameter \"values\""))
            .unwrap_err()
            .to_string();
        assert!(started.elapsed() < std::time::Duration::from_millis(500));
        assert!(err.contains("Argo CD parameter \"values\""), "{err}");
        assert!(err.contains("10000 dotted parts; at most 31"), "{err}");
        assert!(err.len() < 300, "the key is not echoed in full: {err}");
    }
}
