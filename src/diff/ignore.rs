//! `--ignore PATH`: fields removed from every rendered object before comparing, for noise such
//! as helm's `helm.sh/chart` label that changes with every chart release.
//!
//! Nothing is ignored unless asked: a diff that hides a real change is worse than a noisy one.
//!
//! Two spellings:
//! - dotted, `metadata.labels.helm.sh/chart`: matched against the object's actual keys, so a
//!   key that itself holds dots (`helm.sh/chart`) needs no escaping;
//! - a JSON pointer, `/metadata/labels/helm.sh~1chart` (`~1` is `/`, `~0` is `~`).
//!
//! In both, `*` stands for every key of a map or every item of a list, and a number selects a
//! list item: `spec.template.spec.containers.*.image`.

use serde_json::Value;
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IgnorePath {
    text: String,
    form: Form,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Form {
    Dotted(String),
    Pointer(Vec<String>),
}

impl FromStr for IgnorePath {
    type Err = String;

    fn from_str(text: &str) -> Result<IgnorePath, String> {
        let form = if let Some(pointer) = text.strip_prefix('/') {
            let segments: Vec<String> = pointer
                .split('/')
                .map(|s| s.replace("~1", "/").replace("~0", "~"))
                .collect();
            if segments.iter().any(String::is_empty) {
                return Err(format!("JSON pointer {text:?} has an empty segment"));
            }
            Form::Pointer(segments)
        } else {
            if text.is_empty() || text.starts_with('.') || text.ends_with('.') {
                return Err(format!(
                    "ignore path {text:?} must be a dotted path such as metadata.labels.helm.sh/chart, or a JSON pointer such as /metadata/labels/helm.sh~1chart"
                ));
            }
            Form::Dotted(text.to_owned())
        };
        Ok(IgnorePath {
            text: text.to_owned(),
            form,
        })
    }
}

impl fmt::Display for IgnorePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Removes every field that one of `paths` names from `object`.
pub fn apply(object: &mut Value, paths: &[IgnorePath]) {
    for path in paths {
        match &path.form {
            Form::Dotted(text) => remove_dotted(object, text),
            Form::Pointer(segments) => remove_segments(object, segments),
        }
    }
}

fn remove_dotted(node: &mut Value, rest: &str) {
    match node {
        Value::Object(map) => {
            let keys: Vec<String> = map.keys().cloned().collect();
            for key in keys {
                if rest == "*" || rest == key {
                    map.remove(&key);
                    continue;
                }
                let tail = rest
                    .strip_prefix("*.")
                    .or_else(|| rest.strip_prefix(key.as_str())?.strip_prefix('.'));
                if let (Some(tail), Some(child)) = (tail, map.get_mut(&key)) {
                    remove_dotted(child, tail);
                }
            }
        }
        Value::Array(items) => {
            let (head, tail) = match rest.split_once('.') {
                Some((h, t)) => (h, Some(t)),
                None => (rest, None),
            };
            for_items(items, head, |item| match tail {
                Some(t) => {
                    remove_dotted(item, t);
                    true
                }
                None => false,
            });
        }
        _ => {}
    }
}

fn remove_segments(node: &mut Value, segments: &[String]) {
    let Some((head, tail)) = segments.split_first() else {
        return;
    };
    match node {
        Value::Object(map) => {
            let keys: Vec<String> = if head == "*" {
                map.keys().cloned().collect()
            } else {
                vec![head.clone()]
            };
            for key in keys {
                if tail.is_empty() {
                    map.remove(&key);
                } else if let Some(child) = map.get_mut(&key) {
                    remove_segments(child, tail);
                }
            }
        }
        Value::Array(items) => for_items(items, head, |item| {
            if tail.is_empty() {
                false
            } else {
                remove_segments(item, tail);
                true
            }
        }),
        _ => {}
    }
}

/// Calls `visit` on the list items `selector` names (`*` or an index); an item for which it
/// returns false is removed.
fn for_items(items: &mut Vec<Value>, selector: &str, mut visit: impl FnMut(&mut Value) -> bool) {
    if selector == "*" {
        items.retain_mut(|item| visit(item));
    } else if let Ok(index) = selector.parse::<usize>()
        && index < items.len()
        && !visit(&mut items[index])
    {
        items.remove(index);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ignore(value: Value, paths: &[&str]) -> Value {
        let paths: Vec<IgnorePath> = paths.iter().map(|p| p.parse().unwrap()).collect();
        let mut value = value;
        apply(&mut value, &paths);
        value
    }

    #[test]
    fn dotted_paths_match_keys_that_hold_dots() {
        let object = json!({"metadata": {"labels": {"helm.sh/chart": "web-1", "app": "web"}}});
        let expected = json!({"metadata": {"labels": {"app": "web"}}});
        assert_eq!(
            ignore(object.clone(), &["metadata.labels.helm.sh/chart"]),
            expected
        );
        assert_eq!(
            ignore(object, &["/metadata/labels/helm.sh~1chart"]),
            expected
        );
    }

    #[test]
    fn wildcards_and_indexes_reach_into_lists() {
        let object = json!({"spec": {"containers": [
            {"name": "a", "image": "x:1"},
            {"name": "b", "image": "y:1"}
        ]}});
        assert_eq!(
            ignore(object.clone(), &["spec.containers.*.image"]),
            json!({"spec": {"containers": [{"name": "a"}, {"name": "b"}]}})
        );
        assert_eq!(
            ignore(object.clone(), &["/spec/containers/1"]),
            json!({"spec": {"containers": [{"name": "a", "image": "x:1"}]}})
        );
        assert_eq!(ignore(object.clone(), &["spec.nothing.here"]), object);
    }

    #[test]
    fn malformed_paths_are_refused() {
        assert!("".parse::<IgnorePath>().is_err());
        assert!(".a".parse::<IgnorePath>().is_err());
        assert!("/a//b".parse::<IgnorePath>().is_err());
    }
}
