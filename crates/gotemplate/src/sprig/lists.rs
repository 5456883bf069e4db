//! Sprig's list functions. They accept any Go slice and return a new `[]interface{}`: the
//! argument is never changed. A nil or non-list argument is Sprig's panic (an error), except
//! for `has`, which answers false for nil.

use super::args::Args;
use super::conv::{as_list, deep_equal, empty, kind, strval, to_int64};
use super::strings::strslice;
use super::{def, text};
use crate::{Error, FuncMap, Value};

pub(crate) fn register(m: &mut FuncMap) {
    def(m, "list", |a| Ok(Value::list(a.v.to_vec())));
    def(m, "tuple", |a| Ok(Value::list(a.v.to_vec())));
    for name in ["append", "push", "mustAppend", "mustPush"] {
        def_named(m, name, push);
    }
    def(m, "prepend", prepend);
    def(m, "mustPrepend", prepend);
    def(m, "first", first);
    def(m, "mustFirst", first);
    def(m, "last", last);
    def(m, "mustLast", last);
    def(m, "rest", rest);
    def(m, "mustRest", rest);
    def(m, "initial", initial);
    def(m, "mustInitial", initial);
    def(m, "reverse", reverse);
    def(m, "mustReverse", reverse);
    def(m, "compact", compact);
    def(m, "mustCompact", compact);
    def(m, "uniq", uniq);
    def(m, "mustUniq", uniq);
    def(m, "without", without);
    def(m, "mustWithout", without);
    def(m, "has", has);
    def(m, "mustHas", has);
    def(m, "slice", slice);
    def(m, "mustSlice", slice);
    def(m, "concat", concat);
    def(m, "chunk", chunk);
    def(m, "mustChunk", chunk);
    def(m, "sortAlpha", sort_alpha);
}

fn def_named(m: &mut FuncMap, name: &'static str, f: super::Plain) {
    super::def(m, name, f);
}

/// The list argument `i`, or Sprig's error naming what it cannot do with another type (Go
/// panics on nil: `reflect.TypeOf(nil).Kind()` dereferences nil).
fn list_arg<'a>(a: &Args<'a>, i: usize, what: &str) -> Result<&'a [Value], Error> {
    let v = a.get(i);
    match v {
        Value::Nil => {
            Err(a.fail("runtime error: invalid memory address or nil pointer dereference"))
        }
        _ => as_list(v).ok_or_else(|| a.fail(format!("Cannot {what} type {}", kind(v)))),
    }
}

fn push(a: Args) -> Result<Value, Error> {
    a.exact(2)?;
    let items = list_arg(&a, 0, "push on")?;
    let mut out = items.to_vec();
    out.push(a.get(1).clone());
    Ok(Value::list(out))
}

fn prepend(a: Args) -> Result<Value, Error> {
    a.exact(2)?;
    let items = list_arg(&a, 0, "prepend on")?;
    let mut out = Vec::with_capacity(items.len() + 1);
    out.push(a.get(1).clone());
    out.extend_from_slice(items);
    Ok(Value::list(out))
}

fn first(a: Args) -> Result<Value, Error> {
    a.exact(1)?;
    Ok(list_arg(&a, 0, "find first on")?
        .first()
        .cloned()
        .unwrap_or(Value::Nil))
}

fn last(a: Args) -> Result<Value, Error> {
    a.exact(1)?;
    Ok(list_arg(&a, 0, "find last on")?
        .last()
        .cloned()
        .unwrap_or(Value::Nil))
}

fn rest(a: Args) -> Result<Value, Error> {
    a.exact(1)?;
    let items = list_arg(&a, 0, "find rest on")?;
    Ok(Value::list(items.get(1..).unwrap_or_default().to_vec()))
}

fn initial(a: Args) -> Result<Value, Error> {
    a.exact(1)?;
    let items = list_arg(&a, 0, "find initial on")?;
    let end = items.len().saturating_sub(1);
    Ok(Value::list(items[..end].to_vec()))
}

fn reverse(a: Args) -> Result<Value, Error> {
    a.exact(1)?;
    let items = list_arg(&a, 0, "find reverse on")?;
    Ok(Value::list(items.iter().rev().cloned().collect()))
}

fn compact(a: Args) -> Result<Value, Error> {
    a.exact(1)?;
    let items = list_arg(&a, 0, "compact on")?;
    Ok(Value::list(
        items.iter().filter(|v| !empty(v)).cloned().collect(),
    ))
}

/// Elements in first-seen order, compared with Go's `reflect.DeepEqual`.
fn uniq(a: Args) -> Result<Value, Error> {
    a.exact(1)?;
    let items = list_arg(&a, 0, "find uniq on")?;
    let mut out: Vec<Value> = Vec::new();
    for item in items {
        if !out.iter().any(|o| deep_equal(o, item)) {
            out.push(item.clone());
        }
    }
    Ok(Value::list(out))
}

fn without(a: Args) -> Result<Value, Error> {
    a.at_least(1)?;
    let items = list_arg(&a, 0, "find without on")?;
    let omit = &a.v[1..];
    Ok(Value::list(
        items
            .iter()
            .filter(|v| !omit.contains(v))
            .cloned()
            .collect(),
    ))
}

fn has(a: Args) -> Result<Value, Error> {
    a.exact(2)?;
    let haystack = a.get(1);
    if matches!(haystack, Value::Nil) {
        return Ok(Value::Bool(false));
    }
    let items = as_list(haystack)
        .ok_or_else(|| a.fail(format!("Cannot find has on type {}", kind(haystack))))?;
    Ok(Value::Bool(items.iter().any(|i| deep_equal(a.get(0), i))))
}

/// Sprig's `slice`: `list[start:end]` with the indices cast to int; an empty list gives nil,
/// bounds Go cannot slice are an error.
fn slice(a: Args) -> Result<Value, Error> {
    a.at_least(1)?;
    let v = a.get(0);
    let items = match v {
        Value::Nil => list_arg(&a, 0, "")?,
        _ => as_list(v).ok_or_else(|| {
            a.fail(format!(
                "list should be type of slice or array but {}",
                kind(v)
            ))
        })?,
    };
    if items.is_empty() {
        return Ok(Value::Nil);
    }
    let len = items.len() as i64;
    let start = a.v.get(1).map(to_int64).unwrap_or(0);
    let end = if a.len() < 3 { len } else { to_int64(a.get(2)) };
    if start < 0 || end < start || end > len {
        return Err(a.fail(format!(
            "reflect: slice index out of range [{start}:{end}] with capacity {len}"
        )));
    }
    Ok(Value::list(items[start as usize..end as usize].to_vec()))
}

fn concat(a: Args) -> Result<Value, Error> {
    let mut out = Vec::new();
    for (i, v) in a.v.iter().enumerate() {
        match v {
            Value::List(items) => out.extend(items.iter().cloned()),
            Value::Nil => {
                list_arg(&a, i, "")?;
            }
            other => return Err(a.fail(format!("Cannot concat type {} as list", kind(other)))),
        }
    }
    Ok(Value::list(out))
}

fn chunk(a: Args) -> Result<Value, Error> {
    a.exact(2)?;
    let size = a.int(0)?;
    let items = list_arg(&a, 1, "chunk")?;
    if size <= 0 {
        return Err(a.fail("runtime error: makeslice: len out of range"));
    }
    if items.is_empty() {
        // Go computes floor(-1/size)+1 = 0 chunks.
        return Ok(Value::list(Vec::new()));
    }
    Ok(Value::list(
        items
            .chunks(size as usize)
            .map(|c| Value::list(c.to_vec()))
            .collect(),
    ))
}

/// The list's elements as strings, sorted bytewise; anything that is not a list is the one
/// string it prints as.
fn sort_alpha(a: Args) -> Result<Value, Error> {
    a.exact(1)?;
    let v = a.get(0);
    let mut strings = match v {
        Value::List(_) => strslice(v),
        other => vec![strval(other)],
    };
    strings.sort();
    Ok(Value::list(strings.into_iter().map(text).collect()))
}
