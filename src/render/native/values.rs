//! Helm's values coalescing: user values over chart defaults, subchart sections, `global`
//! copied down to every subchart, and the null rules that differ between Helm 3 and Helm 4.
//!
//! The functions mirror Helm's own steps one for one (coalesce a chart's defaults, then each
//! subchart's section with the parent's globals pushed down first) because the observable
//! result depends on their order: which null deletes a default, which global wins, which
//! section keeps a null. "Merge" mode keeps every null; "coalesce" mode deletes a key a null
//! was aimed at when the chart has a default for it.

use super::dependencies::Node;
use serde_json::{Map, Value};

/// Which Helm's null rule applies to nested keys: Helm 3 deletes a key the user nulls when
/// any default exists; Helm 4 only when the default is not itself null.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NullRule {
    Helm3,
    Helm4,
}

/// A section that must be a map is not (`--set sub=5` for a subchart `sub`).
#[derive(Debug, Clone, thiserror::Error)]
#[error("type mismatch on {key}: the values for subchart {key:?} must be a map, not {found}")]
pub struct TypeMismatch {
    pub key: String,
    pub found: &'static str,
}

/// `dst` over `src`: `dst` wins on every leaf, maps merge. In coalesce mode (`merge` false) a
/// null in `dst` removes the key when `src` has it (Helm 4: has it non-null).
pub fn coalesce_tables(
    dst: &mut Map<String, Value>,
    mut src: Map<String, Value>,
    merge: bool,
    rule: NullRule,
) {
    let src_non_nil: Vec<String> = match rule {
        NullRule::Helm3 => Vec::new(),
        NullRule::Helm4 => {
            let keys = src
                .iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, _)| k.clone())
                .collect();
            for (key, value) in dst.iter() {
                if value.is_null() {
                    src.insert(key.clone(), Value::Null);
                }
            }
            keys
        }
    };
    for (key, value) in src {
        let nulls_default = match rule {
            NullRule::Helm3 => true,
            NullRule::Helm4 => src_non_nil.contains(&key),
        };
        match dst.get_mut(&key) {
            Some(Value::Null) if !merge && nulls_default => {
                dst.remove(&key);
            }
            None => {
                dst.insert(key, value);
            }
            Some(Value::Object(inner)) => {
                if let Value::Object(src_inner) = value {
                    coalesce_tables(inner, src_inner, merge, rule);
                }
            }
            Some(_) => {}
        }
    }
}

/// Helm's `mergeMaps` (values files and values.yaml documents): recurse only map into map,
/// everything else replaces, nulls kept.
pub fn merge_maps(base: &mut Map<String, Value>, over: Map<String, Value>) {
    for (key, value) in over {
        match (base.get_mut(&key), value) {
            (Some(Value::Object(b)), Value::Object(o)) => merge_maps(b, o),
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

/// Coalesces `node`'s defaults and its subcharts' into `dest` (the user values, which win).
pub fn coalesce(
    node: &Node,
    dest: &mut Map<String, Value>,
    merge: bool,
    rule: NullRule,
) -> Result<(), TypeMismatch> {
    coalesce_values(node, dest, merge, rule);
    let mut all_shared = Vec::new();
    for sub in &node.deps {
        let mut section = match dest.remove(&sub.name) {
            None => Map::new(),
            Some(Value::Object(map)) => map,
            Some(other) => {
                return Err(TypeMismatch {
                    key: sub.name.clone(),
                    found: kind(&other),
                });
            }
        };
        let shared = coalesce_globals(&mut section, dest, rule);
        coalesce(sub, &mut section, merge, rule)?;
        write_back_shared(dest, &section, &shared);
        all_shared.extend(shared);
        dest.insert(sub.name.clone(), Value::Object(section));
    }
    refresh_shared(node, dest, &all_shared);
    Ok(())
}

/// Earlier subcharts (and theirs) hold the maps shared under `global` too: they end in the
/// state the last subchart left them in, as the one map they are in Go.
fn refresh_shared(node: &Node, dest: &mut Map<String, Value>, shared: &[(String, String)]) {
    for (k, k2) in shared {
        let Some(Value::Object(last)) = dest
            .get("global")
            .and_then(|g| g.get(k))
            .and_then(|m| m.get(k2))
            .cloned()
        else {
            continue;
        };
        for sub in &node.deps {
            if let Some(Value::Object(section)) = dest.get_mut(&sub.name) {
                refresh_section(sub, section, k, k2, &last);
            }
        }
    }
}

fn refresh_section(
    node: &Node,
    section: &mut Map<String, Value>,
    k: &str,
    k2: &str,
    last: &Map<String, Value>,
) {
    if let Some(Value::Object(gk)) = section.get_mut("global").and_then(|g| g.get_mut(k))
        && gk.get(k2).is_some_and(Value::is_object)
    {
        gk.insert(k2.to_string(), Value::Object(last.clone()));
    }
    for sub in &node.deps {
        if let Some(Value::Object(inner)) = section.get_mut(&sub.name) {
            refresh_section(sub, inner, k, k2, last);
        }
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a bool",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a map",
    }
}

/// One chart's defaults under `dest`. A key that names a subchart is merged keeping nulls:
/// the subchart's own coalescing decides about them.
fn coalesce_values(node: &Node, dest: &mut Map<String, Value>, merge: bool, rule: NullRule) {
    for (key, default) in node.values.iter() {
        match dest.get_mut(key) {
            None => {
                dest.insert(key.clone(), default.clone());
            }
            Some(Value::Null) if !merge => {
                dest.remove(key);
            }
            Some(Value::Object(user)) => {
                if let Value::Object(default) = default {
                    let merge = merge || node.deps.iter().any(|d| &d.name == key);
                    coalesce_tables(user, default.clone(), merge, rule);
                }
            }
            Some(_) => {}
        }
    }
}

/// The parent's `global` pushed into a subchart's section: the parent wins, the section's own
/// global keys fill in; the subchart's defaults join later, below both.
///
/// Helm copies each global map only one level deep, so the maps two levels under `global`
/// (`global.a.b`) are the very same maps in the parent and the subchart: what the subchart's
/// coalescing adds to them shows in the parent and in later siblings. The paths shared so are
/// returned, for [`write_back_shared`].
fn coalesce_globals(
    section: &mut Map<String, Value>,
    parent: &Map<String, Value>,
    rule: NullRule,
) -> Vec<(String, String)> {
    let mut shared = Vec::new();
    let mut dg = match section.get("global") {
        None => Map::new(),
        Some(Value::Object(map)) => map.clone(),
        Some(_) => return shared,
    };
    let sg = match parent.get("global") {
        None => Map::new(),
        Some(Value::Object(map)) => map.clone(),
        Some(_) => return shared,
    };
    for (key, value) in sg {
        match value {
            Value::Object(parent_table) => {
                let shares: Vec<(String, String)> = parent_table
                    .iter()
                    .filter(|(_, v)| v.is_object())
                    .map(|(k2, _)| (key.clone(), k2.clone()))
                    .collect();
                let mut vv = parent_table;
                match dg.get(&key) {
                    None => {}
                    Some(Value::Object(own)) => coalesce_tables(&mut vv, own.clone(), true, rule),
                    Some(_) => continue,
                }
                dg.insert(key, Value::Object(vv));
                shared.extend(shares);
            }
            _ if matches!(dg.get(&key), Some(Value::Object(_))) => {}
            _ => {
                dg.insert(key, value);
            }
        }
    }
    section.insert("global".into(), Value::Object(dg));
    shared
}

/// The maps a subchart shares with its parent under `global` (see [`coalesce_globals`]) end
/// as the subchart's coalescing left them, in the parent too.
fn write_back_shared(
    dest: &mut Map<String, Value>,
    section: &Map<String, Value>,
    shared: &[(String, String)],
) {
    for (k, k2) in shared {
        let Some(Value::Object(now)) = section
            .get("global")
            .and_then(|g| g.get(k))
            .and_then(|m| m.get(k2))
        else {
            continue;
        };
        if let Some(Value::Object(parent_k)) = dest.get_mut("global").and_then(|g| g.get_mut(k))
            && parent_k.get(k2).is_some_and(Value::is_object)
        {
            parent_k.insert(k2.clone(), Value::Object(now.clone()));
        }
    }
}

/// Helm's `Values.Table`: the map at a dotted path, if every step is a map.
pub fn table<'a>(values: &'a Map<String, Value>, path: &str) -> Option<&'a Map<String, Value>> {
    let mut current = values;
    for part in path.split('.') {
        match current.get(part) {
            Some(Value::Object(map)) => current = map,
            _ => return None,
        }
    }
    Some(current)
}

/// Helm's `Values.PathValue`: the non-map value at a dotted path. `Ok(None)` when the path
/// does not lead to a value.
pub fn path_value<'a>(values: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    let (parent, key) = match path.rsplit_once('.') {
        Some((parent, key)) => (table(values, parent)?, key),
        None => (values, path),
    };
    match parent.get(key) {
        Some(Value::Object(_)) | None => None,
        Some(value) => Some(value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => unreachable!(),
        }
    }

    #[test]
    fn nested_null_over_a_null_default_differs_between_helms() {
        let user = obj(json!({"m": {"n7": null}}));
        let defaults = obj(json!({"m": {"n7": null, "keep": 1}}));
        let mut v3 = user.clone();
        let mut m3 = obj(v3.remove("m").unwrap());
        coalesce_tables(&mut m3, obj(defaults["m"].clone()), false, NullRule::Helm3);
        assert_eq!(Value::Object(m3), json!({"keep": 1}));
        let mut m4 = obj(user["m"].clone());
        coalesce_tables(&mut m4, obj(defaults["m"].clone()), false, NullRule::Helm4);
        assert_eq!(Value::Object(m4), json!({"keep": 1, "n7": null}));
    }

    #[test]
    fn merge_maps_replaces_all_but_maps() {
        let mut base = obj(json!({"m": {"a": 1}, "l": [1], "x": 1}));
        merge_maps(&mut base, obj(json!({"m": {"b": 2}, "l": [], "x": null})));
        assert_eq!(
            Value::Object(base),
            json!({"m": {"a": 1, "b": 2}, "l": [], "x": null})
        );
    }

    #[test]
    fn path_value_skips_tables() {
        let v = obj(json!({"a": {"b": true, "t": {}}, "n": null}));
        assert_eq!(path_value(&v, "a.b"), Some(&json!(true)));
        assert_eq!(path_value(&v, "a.t"), None);
        assert_eq!(path_value(&v, "n"), Some(&Value::Null));
        assert_eq!(path_value(&v, "a.x.y"), None);
    }
}
