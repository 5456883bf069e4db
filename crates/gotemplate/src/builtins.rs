//! Go text/template's builtin functions with Go's typing: comparisons refuse mixed kinds
//! (`eq 1 1.0` is an error, not false), `index` of a string gives a byte, `len` of nil fails.

use crate::Value;
use crate::fmt as gofmt;
use std::fmt::Write;

fn arity(name: &str, args: &[Value], want: usize) -> Result<(), String> {
    if args.len() != want {
        return Err(format!(
            "wrong number of args for {name}: want {want} got {}",
            args.len()
        ));
    }
    Ok(())
}

fn at_least(name: &str, args: &[Value], want: usize) -> Result<(), String> {
    if args.len() < want {
        return Err(format!(
            "wrong number of args for {name}: want at least {want} got {}",
            args.len()
        ));
    }
    Ok(())
}

/// Calls builtin `name` (not `and`/`or`, which the executor short-circuits).
pub fn call(name: &str, args: &[Value]) -> Result<Value, String> {
    let err = |e: String| format!("error calling {name}: {e}");
    match name {
        "not" => {
            arity(name, args, 1)?;
            Ok(Value::Bool(!truth(&args[0])))
        }
        "len" => {
            arity(name, args, 1)?;
            length(&args[0]).map(Value::Int).map_err(err)
        }
        "index" => {
            at_least(name, args, 1)?;
            index(&args[0], &args[1..]).map_err(err)
        }
        "slice" => {
            at_least(name, args, 1)?;
            slice(&args[0], &args[1..]).map_err(err)
        }
        "print" => Ok(Value::string(gofmt::sprint(args))),
        "println" => Ok(Value::string(gofmt::sprintln(args))),
        "printf" => {
            at_least(name, args, 1)?;
            let Value::String(f) = &args[0] else {
                return Err(wrong_type("string", &args[0]));
            };
            Ok(Value::string(gofmt::sprintf(f, &args[1..])))
        }
        "html" => Ok(Value::string(html_escape(&eval_args(args)))),
        "js" => Ok(Value::string(js_escape(&eval_args(args)))),
        "urlquery" => Ok(Value::string(query_escape(&eval_args(args)))),
        "eq" => {
            at_least(name, args, 1)?;
            eq(&args[0], &args[1..]).map(Value::Bool).map_err(err)
        }
        "ne" => {
            arity(name, args, 2)?;
            eq(&args[0], &args[1..])
                .map(|b| Value::Bool(!b))
                .map_err(err)
        }
        "lt" => {
            arity(name, args, 2)?;
            lt(&args[0], &args[1]).map(Value::Bool).map_err(err)
        }
        "le" => {
            arity(name, args, 2)?;
            le(&args[0], &args[1]).map(Value::Bool).map_err(err)
        }
        "gt" => {
            arity(name, args, 2)?;
            le(&args[0], &args[1]).map(|b| Value::Bool(!b)).map_err(err)
        }
        "ge" => {
            arity(name, args, 2)?;
            lt(&args[0], &args[1]).map(|b| Value::Bool(!b)).map_err(err)
        }
        "call" => {
            at_least(name, args, 1)?;
            Err(err(format!(
                "non-function {} of type {}",
                gofmt::to_string(&args[0]),
                args[0].type_name()
            )))
        }
        _ => Err(format!("function {name:?} not defined")),
    }
}

fn wrong_type(expected: &str, v: &Value) -> String {
    match v {
        Value::Nil => format!("invalid value; expected {expected}"),
        other => format!(
            "wrong type for value; expected {expected}; got {}",
            other.type_name()
        ),
    }
}

/// Go's truth, where an object that is a Go map or slice underneath (Helm's `.Files`) is
/// true only when not empty.
pub fn truth(v: &Value) -> bool {
    match v {
        Value::Object(_) => match collection(v) {
            Some(c) => c.truth(),
            None => true,
        },
        other => other.truth(),
    }
}

/// The map or list an object stands for (`Object::to_value`), when it is one: `range`, `len`
/// and `index` see Helm's `.Files` as the `map[string][]byte` it is in Go.
pub fn collection(v: &Value) -> Option<Value> {
    match v {
        Value::Object(o) => match o.to_value() {
            c @ (Value::Map(_) | Value::List(_)) => Some(c),
            _ => None,
        },
        _ => None,
    }
}

fn length(v: &Value) -> Result<i64, String> {
    if let Some(c) = collection(v) {
        return length(&c);
    }
    match v {
        Value::Nil => Err("len of nil pointer".into()),
        Value::String(s) => Ok(s.len() as i64),
        Value::List(l) => Ok(l.len() as i64),
        Value::Map(m) => Ok(m.borrow().len() as i64),
        other => Err(format!("len of type {}", other.type_name())),
    }
}

fn index_arg(index: &Value, cap: usize) -> Result<usize, String> {
    let x = match index {
        Value::Int(n) => *n,
        Value::Nil => return Err("cannot index slice/array with nil".into()),
        other => {
            return Err(format!(
                "cannot index slice/array with type {}",
                other.type_name()
            ));
        }
    };
    if x < 0 || x as u64 > cap as u64 {
        return Err(format!("index out of range: {x}"));
    }
    Ok(x as usize)
}

fn index(item: &Value, indexes: &[Value]) -> Result<Value, String> {
    if let Value::Nil = item {
        return Err("index of untyped nil".into());
    }
    let mut item = item.clone();
    for idx in indexes {
        if let Some(c) = collection(&item) {
            item = c;
        }
        item = match &item {
            Value::Nil => return Err("index of nil pointer".into()),
            Value::List(l) => {
                let x = index_arg(idx, l.len())?;
                l.get(x)
                    .cloned()
                    .ok_or_else(|| "reflect: slice index out of range".to_string())?
            }
            Value::String(s) => {
                let x = index_arg(idx, s.len())?;
                Value::Int(
                    *s.as_bytes()
                        .get(x)
                        .ok_or_else(|| "reflect: string index out of range".to_string())?
                        as i64,
                )
            }
            Value::Map(m) => match idx {
                Value::String(k) => m.borrow().get(&**k).cloned().unwrap_or(Value::Nil),
                Value::Nil => return Err("value is nil; should be of type string".into()),
                other => {
                    return Err(format!(
                        "value has type {}; should be string",
                        other.type_name()
                    ));
                }
            },
            other => return Err(format!("can't index item of type {}", other.type_name())),
        };
    }
    Ok(item)
}

fn slice(item: &Value, indexes: &[Value]) -> Result<Value, String> {
    if let Value::Nil = item {
        return Err("slice of untyped nil".into());
    }
    if indexes.len() > 3 {
        return Err(format!("too many slice indexes: {}", indexes.len()));
    }
    let len = match item {
        Value::String(s) => {
            if indexes.len() == 3 {
                return Err("cannot 3-index slice a string".into());
            }
            s.len()
        }
        Value::List(l) => l.len(),
        other => return Err(format!("can't slice item of type {}", other.type_name())),
    };
    let mut idx = [0, len, len];
    for (i, x) in indexes.iter().enumerate() {
        idx[i] = index_arg(x, len)?;
    }
    if idx[0] > idx[1] {
        return Err(format!("invalid slice index: {} > {}", idx[0], idx[1]));
    }
    if indexes.len() == 3 && idx[1] > idx[2] {
        return Err(format!("invalid slice index: {} > {}", idx[1], idx[2]));
    }
    Ok(match item {
        Value::String(s) => {
            let bytes = &s.as_bytes()[idx[0]..idx[1]];
            Value::string(String::from_utf8_lossy(bytes).as_ref())
        }
        Value::List(l) => Value::list(l[idx[0]..idx[1]].to_vec()),
        _ => unreachable!("checked above"),
    })
}

#[derive(PartialEq, Clone, Copy)]
enum Kind {
    Invalid,
    Bool,
    Int,
    Float,
    String,
    Other,
}

fn basic_kind(v: &Value) -> Kind {
    match v {
        Value::Nil => Kind::Invalid,
        Value::Bool(_) => Kind::Bool,
        Value::Int(_) => Kind::Int,
        Value::Float(_) => Kind::Float,
        Value::String(_) => Kind::String,
        _ => Kind::Other,
    }
}

const BAD_COMPARISON: &str = "incompatible types for comparison";
const BAD_COMPARISON_TYPE: &str = "invalid type for comparison";

/// Go's `eq`: true when `a` equals any of `others`.
pub fn eq(a: &Value, others: &[Value]) -> Result<bool, String> {
    if others.is_empty() {
        return Err("missing argument for comparison".into());
    }
    let k1 = basic_kind(a);
    for b in others {
        let k2 = basic_kind(b);
        let truth = if k1 != k2 {
            if k1 != Kind::Invalid && k2 != Kind::Invalid {
                return Err(BAD_COMPARISON.into());
            }
            false
        } else {
            match (a, b) {
                (Value::Bool(x), Value::Bool(y)) => x == y,
                (Value::Int(x), Value::Int(y)) => x == y,
                (Value::Float(x), Value::Float(y)) => x == y,
                (Value::String(x), Value::String(y)) => x == y,
                (Value::Nil, Value::Nil) => true,
                (Value::Map(_), _) | (_, Value::Map(_)) => {
                    return Err(format!(
                        "non-comparable type {}: {}",
                        gofmt::to_string(b),
                        b.type_name()
                    ));
                }
                (Value::List(_), _) | (_, Value::List(_)) => {
                    return Err(format!(
                        "non-comparable type {}: {}",
                        gofmt::to_string(b),
                        b.type_name()
                    ));
                }
                (Value::Object(x), Value::Object(y)) => std::rc::Rc::ptr_eq(x, y),
                _ => return Err(BAD_COMPARISON.into()),
            }
        };
        if truth {
            return Ok(true);
        }
    }
    Ok(false)
}

fn lt(a: &Value, b: &Value) -> Result<bool, String> {
    let k1 = basic_kind(a);
    if matches!(k1, Kind::Invalid | Kind::Other) {
        return Err(BAD_COMPARISON_TYPE.into());
    }
    let k2 = basic_kind(b);
    if matches!(k2, Kind::Invalid | Kind::Other) {
        return Err(BAD_COMPARISON_TYPE.into());
    }
    if k1 != k2 {
        return Err(BAD_COMPARISON.into());
    }
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => Ok(x < y),
        (Value::Float(x), Value::Float(y)) => Ok(x < y),
        (Value::String(x), Value::String(y)) => Ok(x < y),
        _ => Err(BAD_COMPARISON_TYPE.into()),
    }
}

fn le(a: &Value, b: &Value) -> Result<bool, String> {
    if lt(a, b)? {
        return Ok(true);
    }
    eq(a, std::slice::from_ref(b))
}

/// The text `html`, `js` and `urlquery` escape: one string argument as is, else `Sprint`
/// with each nil shown as `<no value>` (Go's `printableValue`).
fn eval_args(args: &[Value]) -> String {
    if let [Value::String(s)] = args {
        return s.to_string();
    }
    if args.iter().any(|a| matches!(a, Value::Nil)) {
        let shown: Vec<Value> = args
            .iter()
            .map(|a| match a {
                Value::Nil => Value::string("<no value>"),
                other => other.clone(),
            })
            .collect();
        return gofmt::sprint(&shown);
    }
    gofmt::sprint(args)
}

/// Go's `template.HTMLEscapeString`.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\0' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// Go's `template.JSEscapeString`.
pub fn js_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '<' => out.push_str("\\u003C"),
            '>' => out.push_str("\\u003E"),
            '&' => out.push_str("\\u0026"),
            '=' => out.push_str("\\u003D"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c if (c as u32) < 0x80 => out.push(c),
            c if gofmt::is_print(c) => out.push(c),
            c => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
        }
    }
    out
}

/// Go's `url.QueryEscape`.
pub fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            b => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comparisons_follow_go_typing() {
        assert_eq!(
            eq(&Value::Int(1), &[Value::Int(2), Value::Int(1)]),
            Ok(true)
        );
        assert!(eq(&Value::Int(1), &[Value::Float(1.0)]).is_err());
        assert_eq!(eq(&Value::Nil, &[Value::string("a")]), Ok(false));
        assert!(lt(&Value::Int(1), &Value::Float(2.0)).is_err());
        assert_eq!(lt(&Value::string("a"), &Value::string("b")), Ok(true));
        assert!(lt(&Value::Bool(true), &Value::Bool(false)).is_err());
    }

    #[test]
    fn index_and_slice() {
        let l = Value::list(vec![Value::Int(1), Value::string("ab")]);
        assert_eq!(
            index(&l, &[Value::Int(1), Value::Int(0)]),
            Ok(Value::Int(97))
        );
        assert!(index(&l, &[Value::Int(5)]).is_err());
        assert_eq!(
            slice(&Value::string("abc"), &[Value::Int(1)]),
            Ok(Value::string("bc"))
        );
    }

    #[test]
    fn escapers() {
        assert_eq!(
            html_escape("<a href='x'>&"),
            "&lt;a href=&#39;x&#39;&gt;&amp;"
        );
        assert_eq!(js_escape("a'b<"), "a\\'b\\u003C");
        assert_eq!(query_escape("a b&c"), "a+b%26c");
    }
}
