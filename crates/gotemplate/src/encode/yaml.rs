//! Helm's `toYaml`: `sigs.k8s.io/yaml.Marshal`, which is `json.Marshal`, then go-yaml v2
//! reading that JSON back, then go-yaml v2 writing YAML.
//!
//! The round trip through JSON decides the types the emitter sees, and this module reproduces
//! it without the text: a float64 whose JSON text is an integer comes back as an int
//! (`1e6` prints `1000000`), one beyond int64 as a uint64, anything else as a float64
//! printed by `%g` rules (`1e+21`). Strings come back unchanged, but the YAML reader refuses
//! some characters Go's JSON writes raw (DEL, C1 controls, U+FFFE), and a key longer than
//! 1024 characters of JSON, so those make `toYaml` fail as it does in Helm.

use super::yaml_emit::{self, Dialect};
use super::{EncodeError, deep, json, keyorder};
use crate::gofloat;
use crate::value::Value;
use std::rc::Rc;

/// A value as go-yaml v2 decodes the JSON of a Go value into `interface{}`.
#[derive(Debug, PartialEq)]
pub(crate) enum Node {
    Null,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    Str(Rc<str>),
    Seq(Vec<Node>),
    /// Entries in go-yaml v2's key order.
    Map(Vec<(String, Node)>),
}

/// Dropping a tree thousands of levels deep must not recurse as deep: children are moved out
/// onto a list and dropped one level at a time.
impl Drop for Node {
    fn drop(&mut self) {
        let mut pending = Vec::new();
        let take = |node: &mut Node, pending: &mut Vec<Node>| match node {
            Node::Seq(items) => pending.append(items),
            Node::Map(entries) => pending.extend(entries.drain(..).map(|(_, n)| n)),
            _ => {}
        };
        take(self, &mut pending);
        while let Some(mut node) = pending.pop() {
            take(&mut node, &mut pending);
        }
    }
}

/// go-yaml's scanner refuses JSON arrays and objects nested deeper than this.
const MAX_FLOW_LEVEL: usize = 10_000;
/// A flow-context simple key (a JSON object key) must end within this many characters.
const MAX_SIMPLE_KEY: usize = 1024;

/// Helm's `toYaml` text before its trailing-newline trim (what `.Files.AsConfig` builds on):
/// the YAML of `value`, or `""` when Helm's encoder fails.
pub fn to_yaml(value: &Value) -> String {
    try_to_yaml(value).unwrap_or_default()
}

/// `sigs.k8s.io/yaml.Marshal(value)`, with its failure (for `mustToYaml`).
pub fn try_to_yaml(value: &Value) -> Result<String, EncodeError> {
    let node = to_node(value, &mut Vec::new(), Dialect::V2)?;
    Ok(yaml_emit::emit(&node, Dialect::V2))
}

/// Helm's `toYamlPretty` text before its trailing-newline trim: go-yaml v3's encoder (indent
/// 2) applied to the value itself, with no JSON round trip, so a float64 prints by `%g`
/// rules (`1e+06`), NaN and the infinities as `.nan`, `.inf`, and every string as it is.
pub fn try_to_yaml_pretty(value: &Value) -> Result<String, EncodeError> {
    let node = to_node(value, &mut Vec::new(), Dialect::V3)?;
    Ok(yaml_emit::emit(&node, Dialect::V3))
}

/// The emitter's tree of `value`. For go-yaml v2 (`toYaml`) the value first makes the JSON
/// round trip of `sigs.k8s.io/yaml` (numbers retyped, strings and keys checked, nesting
/// bounded); go-yaml v3 (`toYamlPretty`) encodes the value itself.
fn to_node(
    value: &Value,
    ancestors: &mut Vec<usize>,
    dialect: Dialect,
) -> Result<Node, EncodeError> {
    let container = matches!(value, Value::List(_) | Value::Map(_));
    if dialect == Dialect::V2 && container && ancestors.len() >= MAX_FLOW_LEVEL {
        return Err(EncodeError::TooDeep);
    }
    deep(|| to_node_here(value, ancestors, dialect))
}

fn to_node_here(
    value: &Value,
    ancestors: &mut Vec<usize>,
    dialect: Dialect,
) -> Result<Node, EncodeError> {
    let v2 = dialect == Dialect::V2;
    Ok(match value {
        Value::Nil => Node::Null,
        Value::Bool(b) => Node::Bool(*b),
        Value::Int(n) => Node::Int(*n),
        Value::Float(f) if v2 => float_node(*f)?,
        Value::Float(f) => Node::Float(*f),
        Value::String(s) if v2 => {
            check_readable(s)?;
            Node::Str(fold_next_lines(s))
        }
        Value::String(s) => Node::Str(s.clone()),
        Value::List(items) => {
            // Lists cannot contain themselves; only their depth counts.
            ancestors.push(0);
            let nodes = items
                .iter()
                .map(|v| to_node(v, ancestors, dialect))
                .collect::<Result<Vec<_>, _>>();
            ancestors.pop();
            Node::Seq(nodes?)
        }
        Value::Map(map) => {
            let id = Rc::as_ptr(map) as *const () as usize;
            if ancestors.contains(&id) {
                return Err(EncodeError::Cycle);
            }
            ancestors.push(id);
            let entries = map
                .borrow()
                .iter()
                .map(|(k, v)| {
                    if v2 {
                        check_key(k)?;
                    }
                    Ok((k.clone(), to_node(v, ancestors, dialect)?))
                })
                .collect::<Result<Vec<_>, EncodeError>>();
            ancestors.pop();
            Node::Map(keyorder::sort_keys(entries?, !v2))
        }
        Value::Object(object) => to_node(&object.to_value(), ancestors, dialect)?,
    })
}

/// What a float64 becomes after JSON text and go-yaml's resolver.
fn float_node(f: f64) -> Result<Node, EncodeError> {
    let text = json::float_text(f)?;
    if let Ok(n) = text.parse::<i64>() {
        return Ok(Node::Int(n));
    }
    if let Ok(n) = text.parse::<u64>() {
        return Ok(Node::Uint(n));
    }
    Ok(Node::Float(f))
}

/// Characters go-yaml's reader refuses that Go's JSON encoder writes unescaped.
fn check_readable(s: &str) -> Result<(), EncodeError> {
    match s
        .chars()
        .find(|&c| matches!(c as u32, 0x7f | 0x80..=0x84 | 0x86..=0x9f | 0xfffe | 0xffff))
    {
        Some(c) => Err(EncodeError::ControlCharacter(c as u32)),
        None => Ok(()),
    }
}

fn check_key(key: &str) -> Result<(), EncodeError> {
    check_readable(key)?;
    // A JSON object key is a YAML simple key, which may not span lines; NEL is a line break
    // to go-yaml and Go's JSON writes it raw.
    if key.contains(NEL) {
        return Err(EncodeError::KeyTooLong);
    }
    // A JSON escape is at most six characters for one byte: short keys cannot reach the limit.
    if key.len() * 6 + 2 <= MAX_SIMPLE_KEY {
        return Ok(());
    }
    let mut quoted = String::new();
    json::write_string(&mut quoted, key);
    if quoted.chars().count() > MAX_SIMPLE_KEY {
        return Err(EncodeError::KeyTooLong);
    }
    Ok(())
}

const NEL: char = '\u{85}';

/// What go-yaml's reader makes of a JSON string holding NEL (U+0085), which Go's JSON writes
/// raw and YAML counts as a line break inside a quoted scalar: a run of spaces and NELs is
/// folded, to one space if it holds one NEL, else to a newline per NEL after the first.
/// (Go's JSON escapes every other line break and tab, so only spaces can surround it.)
fn fold_next_lines(s: &Rc<str>) -> Rc<str> {
    if !s.contains(NEL) {
        return s.clone();
    }
    let mut out = String::with_capacity(s.len());
    let mut run = String::new();
    let mut breaks = 0;
    let flush = |out: &mut String, run: &mut String, breaks: &mut usize| {
        match *breaks {
            0 => out.push_str(run),
            1 => out.push(' '),
            n => out.extend(std::iter::repeat_n('\n', n - 1)),
        }
        run.clear();
        *breaks = 0;
    };
    for c in s.chars() {
        match c {
            ' ' => run.push(c),
            NEL => {
                run.push(c);
                breaks += 1;
            }
            _ => {
                flush(&mut out, &mut run, &mut breaks);
                out.push(c);
            }
        }
    }
    flush(&mut out, &mut run, &mut breaks);
    Rc::from(out)
}

/// The text go-yaml writes for a number node: Go's `%g` for a float64, `.inf`-style names
/// for the non-finite ones (which JSON cannot carry, so they do not occur here).
pub(crate) fn float_scalar(f: f64) -> String {
    match gofloat::format_g(f).as_str() {
        "+Inf" => ".inf".into(),
        "-Inf" => "-.inf".into(),
        "NaN" => ".nan".into(),
        other => other.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::json::parse;

    fn yaml_of_json(text: &str) -> String {
        to_yaml(&parse(text).unwrap())
    }

    #[test]
    fn numbers_round_trip_through_json() {
        assert_eq!(
            yaml_of_json(
                r#"{"a":1e6,"b":1.5,"c":1e21,"d":1e20,"e":1e19,"f":1e-7,"g":-0,"h":-9.3e18}"#
            ),
            "a: 1000000\nb: 1.5\nc: 1e+21\nd: 1e+20\ne: 10000000000000000000\nf: 1e-07\ng: 0\nh: -9.3e+18\n"
        );
    }

    #[test]
    fn failures_give_nothing() {
        assert_eq!(to_yaml(&Value::Float(f64::INFINITY)), "");
        assert_eq!(to_yaml(&Value::string("a\u{7f}")), "");
        assert_eq!(
            yaml_of_json(&format!(r#"{{"{}":1}}"#, "k".repeat(1023))),
            ""
        );
        assert_ne!(
            yaml_of_json(&format!(r#"{{"{}":1}}"#, "k".repeat(1022))),
            ""
        );
        assert_eq!(yaml_of_json("{\"a\\u0085\":1}"), "");
    }

    #[test]
    fn deep_values_follow_go_limits_on_a_small_stack() {
        fn nested(levels: usize) -> Value {
            let mut v = Value::Int(1);
            for _ in 0..levels {
                v = Value::list(vec![v]);
            }
            v
        }
        /// Drops a nested list one level at a time (`Value` itself drops recursively).
        fn unwind(mut v: Value) {
            while let Value::List(items) = v {
                v = match Rc::try_unwrap(items) {
                    Ok(mut items) => items.pop().unwrap_or(Value::Nil),
                    Err(_) => Value::Nil,
                };
            }
        }
        // A thread with a small stack: the encoders grow it instead of overflowing.
        std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(|| {
                let at_limit = nested(MAX_FLOW_LEVEL);
                assert!(try_to_yaml(&at_limit).is_ok());
                assert!(try_to_yaml_pretty(&at_limit).is_ok());
                let beyond = Value::list(vec![at_limit]);
                // go-yaml's scanner stops at 10,000 levels; JSON, v3 and TOML have no limit.
                assert_eq!(try_to_yaml(&beyond), Err(EncodeError::TooDeep));
                assert!(json::to_json(&beyond).is_ok());
                assert!(try_to_yaml_pretty(&beyond).is_ok());
                assert!(super::super::to_toml(&beyond, true).is_ok());
                unwind(beyond);
                // encoding/json refuses documents nested deeper than 10,000 levels.
                let text = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
                assert!(json::parse(&text(10_000)).is_ok_and(unwind_ok));
                assert_eq!(
                    json::parse(&text(10_001)).unwrap_err(),
                    "invalid character '[' exceeded max depth"
                );
            })
            .unwrap()
            .join()
            .unwrap();
    }

    fn unwind_ok(mut v: Value) -> bool {
        while let Value::List(items) = v {
            v = match Rc::try_unwrap(items) {
                Ok(mut items) => items.pop().unwrap_or(Value::Nil),
                Err(_) => Value::Nil,
            };
        }
        true
    }

    #[test]
    fn pretty_is_go_yaml_v3_without_json() {
        let v = parse(r#"{"f":1e6,"k":["a",{"b":"yes","c":"x\ty"}],"t":"a\tb\nc","n":"\u0085"}"#)
            .unwrap();
        assert_eq!(
            try_to_yaml_pretty(&v).unwrap(),
            "f: 1e+06\nk:\n  - a\n  - b: \"yes\"\n    c: \"x\\ty\"\n\"n\": \"\\N\"\nt: |-\n  a\tb\n  c\n"
        );
        assert_eq!(
            try_to_yaml_pretty(&Value::Float(f64::NAN)).unwrap(),
            ".nan\n"
        );
    }

    #[test]
    fn next_line_folds_like_a_quoted_scalar_line_break() {
        assert_eq!(to_yaml(&Value::string(" \u{85}")), "' '\n");
        assert_eq!(to_yaml(&Value::string("a  \u{85}  b")), "a b\n");
        assert_eq!(
            to_yaml(&Value::string("a\u{85}\u{85} \u{85}b")),
            "|-\n  a\n\n  b\n"
        );
    }
}
