//! Sprig's dictionary functions. A Go map is a reference: `set`, `unset`, `merge` and
//! `mergeOverwrite` change the map every holder sees and return it, which charts rely on
//! (`$_ := set $ctx "k" v`).

use super::args::Args;
use super::conv::{empty, strval};
use super::{def, text};
use crate::{Error, FuncMap, Map, Value};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

pub(crate) fn register(m: &mut FuncMap) {
    def(m, "dict", dict);
    def(m, "get", get);
    def(m, "set", set);
    def(m, "unset", unset);
    def(m, "hasKey", has_key);
    def(m, "pluck", pluck);
    def(m, "keys", keys);
    def(m, "values", values);
    def(m, "pick", pick);
    def(m, "omit", omit);
    def(m, "merge", |a| merge(a, false));
    def(m, "mustMerge", |a| merge(a, false));
    def(m, "mergeOverwrite", |a| merge(a, true));
    def(m, "mustMergeOverwrite", |a| merge(a, true));
    def(m, "deepCopy", deep_copy);
    def(m, "mustDeepCopy", deep_copy);
    def(m, "dig", dig);
}

fn new_map(entries: BTreeMap<String, Value>) -> Map {
    Rc::new(RefCell::new(entries))
}

/// Pairs of key (any value, as it prints) and value; a key without a value maps to "".
fn dict(a: Args) -> Result<Value, Error> {
    let mut out = BTreeMap::new();
    for pair in a.v.chunks(2) {
        let value = pair.get(1).cloned().unwrap_or_else(|| text(""));
        out.insert(strval(&pair[0]), value);
    }
    Ok(Value::map(out))
}

fn get(a: Args) -> Result<Value, Error> {
    a.exact(2)?;
    let (map, key) = (a.map(0)?, a.str(1)?);
    Ok(map
        .and_then(|m| m.borrow().get(key).cloned())
        .unwrap_or_else(|| text("")))
}

fn set(a: Args) -> Result<Value, Error> {
    a.exact(3)?;
    let (map, key) = (a.map(0)?, a.str(1)?);
    let map = map.ok_or_else(|| a.fail("assignment to entry in nil map"))?;
    map.borrow_mut().insert(key.to_owned(), a.get(2).clone());
    Ok(Value::Map(map))
}

fn unset(a: Args) -> Result<Value, Error> {
    a.exact(2)?;
    let (map, key) = (a.map(0)?, a.str(1)?);
    let Some(map) = map else {
        return Ok(Value::empty_map());
    };
    map.borrow_mut().remove(key);
    Ok(Value::Map(map))
}

fn has_key(a: Args) -> Result<Value, Error> {
    a.exact(2)?;
    let (map, key) = (a.map(0)?, a.str(1)?);
    Ok(Value::Bool(
        map.is_some_and(|m| m.borrow().contains_key(key)),
    ))
}

/// The maps among the arguments from `from` on (Go's `...map[string]interface{}`).
fn maps_from(a: &Args, from: usize) -> Result<Vec<Map>, Error> {
    (from..a.len())
        .filter_map(|i| a.map(i).transpose())
        .collect()
}

fn pluck(a: Args) -> Result<Value, Error> {
    a.at_least(1)?;
    let key = a.str(0)?;
    let found = maps_from(&a, 1)?
        .iter()
        .filter_map(|m| m.borrow().get(key).cloned())
        .collect();
    Ok(Value::list(found))
}

/// The keys of each map in turn. Go visits a map in random order; sorted is one of the orders
/// Helm may print (charts sort with `sortAlpha` to be stable).
fn keys(a: Args) -> Result<Value, Error> {
    let mut out = Vec::new();
    for m in maps_from(&a, 0)? {
        out.extend(m.borrow().keys().map(|k| text(k.as_str())));
    }
    Ok(Value::list(out))
}

fn values(a: Args) -> Result<Value, Error> {
    a.exact(1)?;
    let out = a
        .map(0)?
        .map(|m| m.borrow().values().cloned().collect())
        .unwrap_or_default();
    Ok(Value::list(out))
}

fn key_args<'a>(a: &Args<'a>) -> Result<Vec<&'a str>, Error> {
    (1..a.len()).map(|i| a.str(i)).collect()
}

fn pick(a: Args) -> Result<Value, Error> {
    a.at_least(1)?;
    let (map, keys) = (a.map(0)?, key_args(&a)?);
    let mut out = BTreeMap::new();
    if let Some(m) = map {
        let m = m.borrow();
        for k in keys {
            if let Some(v) = m.get(k) {
                out.insert(k.to_owned(), v.clone());
            }
        }
    }
    Ok(Value::map(out))
}

fn omit(a: Args) -> Result<Value, Error> {
    a.at_least(1)?;
    let (map, keys) = (a.map(0)?, key_args(&a)?);
    let out = map
        .map(|m| {
            m.borrow()
                .iter()
                .filter(|(k, _)| !keys.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default();
    Ok(Value::map(out))
}

/// How deep `merge` and `deepCopy` follow nested values. Go has no limit and crashes on a map
/// that contains itself; here that is an error. The recursion grows its stack as it goes
/// ([`grow`]), so the limit holds on any thread.
const MAX_DEPTH: usize = 1_000;

fn merge(a: Args, overwrite: bool) -> Result<Value, Error> {
    a.at_least(1)?;
    let dst = a.map(0)?.unwrap_or_else(|| new_map(BTreeMap::new()));
    for src in maps_from(&a, 1)? {
        merge_into(&dst, &src, overwrite, 0).map_err(|e| a.fail(e))?;
    }
    Ok(Value::Map(dst))
}

/// mergo v1.0.1's `Merge` (and `MergeWithOverwrite`) of one `map[string]interface{}` into
/// another, as Sprig calls it. Without overwrite, a source value fills a key that is missing
/// or holds an empty value (nil, "", 0, false, empty list or map); nested maps merge; a
/// non-empty destination value is kept. With overwrite, every non-nil source value replaces the
/// destination's (a nil one too), except that two maps merge. A source map placed into the
/// destination is the same map, not a copy.
fn merge_into(dst: &Map, src: &Map, overwrite: bool, depth: usize) -> Result<(), String> {
    grow(|| merge_level(dst, src, overwrite, depth))
}

/// Runs one level of a recursion over nested values on a stack with room for it.
pub(crate) fn grow<R>(f: impl FnOnce() -> R) -> R {
    stacker::maybe_grow(32 * 1024, 1024 * 1024, f)
}

fn merge_level(dst: &Map, src: &Map, overwrite: bool, depth: usize) -> Result<(), String> {
    if depth > MAX_DEPTH {
        return Err("runtime: goroutine stack exceeds limit (a map contains itself)".into());
    }
    let entries: Vec<(String, Value)> = src
        .borrow()
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    for (key, value) in entries {
        if matches!(value, Value::Nil) {
            if overwrite {
                dst.borrow_mut().insert(key, Value::Nil);
            }
            continue;
        }
        let existing = dst.borrow().get(&key).cloned();
        if let (Value::Map(s), Some(Value::Map(d))) = (&value, &existing) {
            merge_into(d, s, overwrite, depth + 1)?;
        }
        if let Some(current) = existing.as_ref().filter(|c| !empty(c)) {
            let keep_merged = matches!(value, Value::List(_))
                || matches!((&value, current), (Value::Map(_), Value::Map(_)));
            if keep_merged {
                if overwrite && matches!(value, Value::List(_)) {
                    dst.borrow_mut().insert(key, value);
                }
                continue;
            }
        }
        if overwrite || existing.as_ref().is_none_or(empty) {
            dst.borrow_mut().insert(key, value);
        }
    }
    Ok(())
}

/// copystructure's deep copy: new lists and maps all the way down. A map that contains
/// itself has no finite copy (Go overflows its stack); here it is an error.
pub(crate) fn deep_copy_value(v: &Value, depth: usize) -> Result<Value, String> {
    grow(|| deep_copy_level(v, depth))
}

fn deep_copy_level(v: &Value, depth: usize) -> Result<Value, String> {
    if depth > MAX_DEPTH {
        return Err("deepCopy error: value nested too deeply (a map contains itself)".into());
    }
    Ok(match v {
        Value::List(items) => Value::list(
            items
                .iter()
                .map(|i| deep_copy_value(i, depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        Value::Map(m) => Value::map(
            m.borrow()
                .iter()
                .map(|(k, v)| Ok((k.clone(), deep_copy_value(v, depth + 1)?)))
                .collect::<Result<_, String>>()?,
        ),
        other => other.clone(),
    })
}

fn deep_copy(a: Args) -> Result<Value, Error> {
    a.exact(1)?;
    if matches!(a.get(0), Value::Nil) {
        return Err(a.fail("reflect: call of reflect.Value.Type on zero Value"));
    }
    deep_copy_value(a.get(0), 0).map_err(|e| a.fail(e))
}

/// `dig "a" "b" default map`: the value at the key path, or the default where a key is
/// missing. Sprig asserts types: every key must be a string, the last argument a map, and each
/// value on the way a map, or the call fails (a nil on the way too).
fn dig(a: Args) -> Result<Value, Error> {
    if a.len() < 3 {
        return Err(a.fail("dig needs at least three arguments"));
    }
    let n = a.len();
    let assert_map = |v: &Value| match v {
        Value::Map(m) => Ok(m.clone()),
        other => Err(a.fail(format!(
            "interface conversion: interface {{}} is {}, not map[string]interface {{}}",
            if matches!(other, Value::Nil) {
                "nil".to_owned()
            } else {
                other.type_name()
            }
        ))),
    };
    let mut map = assert_map(a.get(n - 1))?;
    let default = a.get(n - 2);
    let keys: Vec<&str> = (0..n - 2)
        .map(|i| match a.get(i) {
            Value::String(s) => Ok(&**s),
            other => Err(a.fail(format!(
                "interface conversion: interface {{}} is {}, not string",
                other.type_name()
            ))),
        })
        .collect::<Result<_, _>>()?;
    for (i, key) in keys.iter().enumerate() {
        let step = map.borrow().get(*key).cloned();
        let Some(step) = step else {
            return Ok(default.clone());
        };
        if i + 1 == keys.len() {
            return Ok(step);
        }
        map = assert_map(&step)?;
    }
    Ok(default.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pairs: &[(&str, Value)]) -> Map {
        new_map(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    }

    #[test]
    fn merge_keeps_non_empty_and_fills_empty() {
        let inner_dst = Value::Map(m(&[("x", Value::Int(1))]));
        let dst = m(&[
            ("a", text("keep")),
            ("b", text("")),
            ("c", Value::Bool(false)),
            ("n", inner_dst),
            ("l", Value::list(vec![Value::Int(1)])),
        ]);
        let src = m(&[
            ("a", text("new")),
            ("b", text("filled")),
            ("c", Value::Bool(true)),
            ("d", Value::Nil),
            (
                "n",
                Value::Map(m(&[("x", Value::Int(2)), ("y", Value::Int(3))])),
            ),
            ("l", Value::list(vec![Value::Int(2)])),
        ]);
        merge_into(&dst, &src, false, 0).unwrap();
        let d = dst.borrow();
        assert_eq!(d["a"], text("keep"));
        assert_eq!(d["b"], text("filled"));
        assert_eq!(d["c"], Value::Bool(true));
        assert!(!d.contains_key("d"));
        assert_eq!(d["l"], Value::list(vec![Value::Int(1)]));
        let Value::Map(n) = &d["n"] else { panic!() };
        assert_eq!(n.borrow()["x"], Value::Int(1));
        assert_eq!(n.borrow()["y"], Value::Int(3));
    }

    #[test]
    fn merge_overwrite_replaces() {
        let dst = m(&[("a", text("old")), ("l", Value::list(vec![Value::Int(1)]))]);
        let src = m(&[("a", Value::Nil), ("l", Value::list(vec![Value::Int(2)]))]);
        merge_into(&dst, &src, true, 0).unwrap();
        assert_eq!(dst.borrow()["a"], Value::Nil);
        assert_eq!(dst.borrow()["l"], Value::list(vec![Value::Int(2)]));
    }

    #[test]
    fn self_containing_map_is_an_error() {
        let d = m(&[]);
        d.borrow_mut().insert("self".into(), Value::Map(d.clone()));
        assert!(merge_into(&d, &d, false, 0).is_err());
        assert!(deep_copy_value(&Value::Map(d.clone()), 0).is_err());
        d.borrow_mut().clear();
    }
}
