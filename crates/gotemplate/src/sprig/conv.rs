//! The conversions every Sprig function shares: spf13/cast's number casts (v1.7.0, the version
//! Helm 3.17 and 4.1 build with), Sprig's `strval`, Go's `%v` and `%q`, and Sprig's `empty`.
//!
//! One module so that `add`, `int`, `until`, `default` and `join` all agree on what a value
//! means, as they do in Sprig.

use crate::Value;
use std::rc::Rc;

/// `cast.ToInt64`: integers as they are, floats truncated toward zero, strings parsed with Go's
/// base-prefix rules (`0x1F`, `0o17`, `017` is octal, `1_000`), bools 1/0; anything else,
/// or a string that does not parse, is 0.
pub(crate) fn to_int64(v: &Value) -> i64 {
    match v {
        Value::Int(n) => *n,
        Value::Float(f) => float_to_int(*f),
        Value::Bool(b) => i64::from(*b),
        Value::String(s) => parse_int_base0(&trim_zero_decimal(s)).unwrap_or(0),
        _ => 0,
    }
}

/// `cast.ToFloat64`: numbers as float64, strings by `strconv.ParseFloat`, bools 1/0, else 0.
pub(crate) fn to_float64(v: &Value) -> f64 {
    match v {
        Value::Int(n) => *n as f64,
        Value::Float(f) => *f,
        Value::Bool(b) => f64::from(u8::from(*b)),
        Value::String(s) => parse_float(s).unwrap_or(0.0),
        _ => 0.0,
    }
}

/// Go's `int64(f)` on amd64, where Helm's release binaries run: truncation, and the
/// "integer indefinite" value (the minimum int64) for NaN and out-of-range floats, where
/// Rust's `as` would saturate.
pub(crate) fn float_to_int(f: f64) -> i64 {
    if f.is_nan() || !(-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&f) {
        i64::MIN
    } else {
        f as i64
    }
}

/// cast's `trimZeroDecimal`: `"12.00"` reads as `"12"`, so a decimal point followed only by
/// zeros does not stop an integer parse.
fn trim_zero_decimal(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut found_zero = false;
    for i in (0..bytes.len()).rev() {
        match bytes[i] {
            b'.' if found_zero => return s[..i].to_owned(),
            b'.' => {}
            b'0' => found_zero = true,
            _ => return s.to_owned(),
        }
    }
    s.to_owned()
}

/// `strconv.ParseInt(s, 0, 64)`: sign, base prefix (`0x`, `0o`, `0b`, a leading `0` for
/// octal), underscores between digits; `None` for a syntax or range error.
pub(crate) fn parse_int_base0(s: &str) -> Option<i64> {
    let (negative, digits) = split_sign(s);
    if digits.is_empty() {
        return None;
    }
    let lower = digits.to_ascii_lowercase();
    let (base, body) = if lower.len() >= 3 && lower.starts_with("0x") {
        (16, &digits[2..])
    } else if lower.len() >= 3 && lower.starts_with("0o") {
        (8, &digits[2..])
    } else if lower.len() >= 3 && lower.starts_with("0b") {
        (2, &digits[2..])
    } else if let Some(octal) = digits.strip_prefix('0') {
        (8, octal)
    } else {
        (10, digits)
    };
    let mut value: u64 = 0;
    let mut underscores = false;
    for c in body.chars() {
        if c == '_' {
            underscores = true;
            continue;
        }
        let d = c.to_digit(36)?;
        if d >= base {
            return None;
        }
        value = value
            .checked_mul(u64::from(base))?
            .checked_add(u64::from(d))?;
    }
    if underscores && !underscore_ok(s) {
        return None;
    }
    signed(negative, value)
}

/// `strconv.ParseInt(s, 10, 64)`: an optional sign and decimal digits; `None` for a syntax or
/// range error.
pub(crate) fn parse_decimal_int(s: &str) -> Option<i64> {
    let (negative, digits) = split_sign(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut value: u64 = 0;
    for b in digits.bytes() {
        value = value.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    signed(negative, value)
}

/// `strconv.Atoi` as Sprig's `atoi` uses it (errors ignored): decimal only; a syntax error
/// gives 0, an out-of-range number the nearest int64 (ParseInt's result on a range error).
pub(crate) fn atoi(s: &str) -> i64 {
    let (negative, digits) = split_sign(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return 0;
    }
    let mut value: u64 = 0;
    for b in digits.bytes() {
        match value
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(b - b'0')))
        {
            Some(v) => value = v,
            None => return if negative { i64::MIN } else { i64::MAX },
        }
    }
    signed(negative, value).unwrap_or(if negative { i64::MIN } else { i64::MAX })
}

fn split_sign(s: &str) -> (bool, &str) {
    match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    }
}

fn signed(negative: bool, value: u64) -> Option<i64> {
    if negative {
        if value <= 1 << 63 {
            Some((value as i64).wrapping_neg())
        } else {
            None
        }
    } else {
        i64::try_from(value).ok()
    }
}

/// Go's rule for underscores in number literals: only between digits, or between a base
/// prefix and a digit.
fn underscore_ok(s: &str) -> bool {
    let (_, s) = split_sign(s);
    let b = s.as_bytes();
    let mut saw = b'^';
    let mut i = 0;
    let mut hex = false;
    if b.len() >= 2 && b[0] == b'0' && matches!(b[1].to_ascii_lowercase(), b'b' | b'o' | b'x') {
        i = 2;
        saw = b'0';
        hex = b[1].eq_ignore_ascii_case(&b'x');
    }
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_digit() || (hex && c.is_ascii_hexdigit()) {
            saw = b'0';
        } else if c == b'_' {
            if saw != b'0' {
                return false;
            }
            saw = b'_';
        } else {
            if saw == b'_' {
                return false;
            }
            saw = b'!';
        }
        i += 1;
    }
    saw != b'_'
}

/// `strconv.ParseFloat(s, 64)` for the decimal forms and Go's `inf`/`infinity`/`nan` words;
/// an overflow to infinity is Go's range error (`None`).
pub(crate) fn parse_float(s: &str) -> Option<f64> {
    let cleaned;
    let text = if s.contains('_') {
        if !underscore_ok(s) {
            return None;
        }
        cleaned = s.replace('_', "");
        cleaned.as_str()
    } else {
        s
    };
    let (signed, body) = (text.starts_with(['+', '-']), split_sign(text).1);
    let is_word = matches!(
        body.to_ascii_lowercase().as_str(),
        "inf" | "infinity" | "nan"
    );
    if signed && body.eq_ignore_ascii_case("nan") {
        return None;
    }
    let f: f64 = text.parse().ok()?;
    if f.is_infinite() && !is_word {
        return None;
    }
    Some(f)
}

/// Sprig's `strval`: a string as it is, anything else as Go's `%v` prints it.
pub(crate) fn strval(v: &Value) -> String {
    match v {
        Value::String(s) => s.to_string(),
        other => format_v(other),
    }
}

/// Go's `%v` of a value: `<nil>`, `true`, `1e+06`, `[a b]`, `map[k:v]` (the engine's printer).
pub(crate) fn format_v(v: &Value) -> String {
    crate::fmt::to_string(v)
}

/// Go's `%q` of a string (`strconv.Quote`).
pub(crate) fn go_quote(s: &str) -> String {
    crate::fmt::quote(s, false, '"')
}

/// Sprig's `empty`: nil, false, 0, and empty strings, lists and maps; a struct never is.
pub(crate) fn empty(v: &Value) -> bool {
    match v {
        Value::Nil => true,
        Value::Bool(b) => !b,
        Value::Int(n) => *n == 0,
        Value::Float(f) => *f == 0.0,
        Value::String(s) => s.is_empty(),
        Value::List(l) => l.is_empty(),
        Value::Map(m) => m.borrow().is_empty(),
        Value::Object(_) => false,
    }
}

/// Go's `reflect.DeepEqual` (Sprig's `deepEqual`, `has`, `uniq`, `without`): same types, same
/// contents. A map met again while already comparing it with the same partner counts as
/// equal, as in Go, so maps that contain themselves compare without endless recursion.
pub(crate) fn deep_equal(a: &Value, b: &Value) -> bool {
    deep_equal_in(a, b, &mut Vec::new())
}

fn deep_equal_in(a: &Value, b: &Value, visiting: &mut Vec<(usize, usize)>) -> bool {
    super::dicts::grow(|| deep_equal_level(a, b, visiting))
}

fn deep_equal_level(a: &Value, b: &Value, visiting: &mut Vec<(usize, usize)>) -> bool {
    match (a, b) {
        (Value::List(x), Value::List(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y.iter())
                    .all(|(p, q)| deep_equal_in(p, q, visiting))
        }
        (Value::Map(x), Value::Map(y)) => {
            let pair = (Rc::as_ptr(x) as usize, Rc::as_ptr(y) as usize);
            if pair.0 == pair.1 || visiting.contains(&pair) {
                return true;
            }
            visiting.push(pair);
            let (x, y) = (x.borrow(), y.borrow());
            let equal = x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| deep_equal_in(v, w, visiting)));
            visiting.pop();
            equal
        }
        _ => a == b,
    }
}

/// The elements of a Go slice argument, or `None` when the value is not a slice (the caller
/// words Sprig's error for its function).
pub(crate) fn as_list(v: &Value) -> Option<&[Value]> {
    match v {
        Value::List(items) => Some(items),
        _ => None,
    }
}

/// Go's `reflect.Kind` name of a value, as Sprig's errors print it (`Cannot push on type map`).
pub(crate) fn kind(v: &Value) -> &'static str {
    v.kind_name()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &str) -> Value {
        Value::string(text)
    }

    #[test]
    fn to_int64_follows_cast() {
        assert_eq!(to_int64(&s("12")), 12);
        assert_eq!(to_int64(&s("012")), 10);
        assert_eq!(to_int64(&s("08")), 0);
        assert_eq!(to_int64(&s("0x1F")), 31);
        assert_eq!(to_int64(&s("1_000")), 1000);
        assert_eq!(to_int64(&s("12.00")), 12);
        assert_eq!(to_int64(&s("12.5")), 0);
        assert_eq!(to_int64(&s("-7")), -7);
        assert_eq!(to_int64(&s("")), 0);
        assert_eq!(to_int64(&s("abc")), 0);
        assert_eq!(to_int64(&s("9223372036854775808")), 0);
        assert_eq!(to_int64(&s("-9223372036854775808")), i64::MIN);
        assert_eq!(to_int64(&Value::Float(1.9)), 1);
        assert_eq!(to_int64(&Value::Float(-1.9)), -1);
        assert_eq!(to_int64(&Value::Float(1e20)), i64::MIN);
        assert_eq!(to_int64(&Value::Bool(true)), 1);
        assert_eq!(to_int64(&Value::Nil), 0);
        assert_eq!(to_int64(&Value::list(vec![])), 0);
    }

    #[test]
    fn to_float64_follows_parse_float() {
        assert_eq!(to_float64(&s("1.5")), 1.5);
        assert_eq!(to_float64(&s("1e3")), 1000.0);
        assert_eq!(to_float64(&s("1_000.5")), 1000.5);
        assert_eq!(to_float64(&s("1e400")), 0.0);
        assert_eq!(to_float64(&s("x")), 0.0);
        assert_eq!(to_float64(&s("0x10")), 0.0);
        assert!(to_float64(&s("-Inf")).is_infinite());
        assert_eq!(to_float64(&Value::Int(3)), 3.0);
    }

    #[test]
    fn atoi_clamps_and_zeroes() {
        assert_eq!(atoi("42"), 42);
        assert_eq!(atoi("+42"), 42);
        assert_eq!(atoi("4x"), 0);
        assert_eq!(atoi("0x10"), 0);
        assert_eq!(atoi("99999999999999999999"), i64::MAX);
        assert_eq!(atoi("-99999999999999999999"), i64::MIN);
    }

    #[test]
    fn deep_equal_survives_cycles() {
        let a = Value::empty_map();
        let b = Value::empty_map();
        for (m, other) in [(&a, &b), (&b, &a)] {
            let Value::Map(inner) = m else { unreachable!() };
            inner.borrow_mut().insert("self".into(), m.clone());
            inner.borrow_mut().insert("other".into(), other.clone());
        }
        assert!(deep_equal(&a, &b));
        assert!(!deep_equal(&a, &Value::empty_map()));
        assert!(!deep_equal(&Value::Int(1), &Value::Float(1.0)));
        for m in [&a, &b] {
            let Value::Map(inner) = m else { unreachable!() };
            inner.borrow_mut().clear();
        }
    }

    #[test]
    fn format_v_prints_like_go() {
        let v = Value::list(vec![
            Value::Nil,
            Value::Float(1e6),
            s("a b"),
            Value::Bool(true),
        ]);
        assert_eq!(format_v(&v), "[<nil> 1e+06 a b true]");
        assert_eq!(go_quote("a\"b\\\n\u{1}é"), "\"a\\\"b\\\\\\n\\x01é\"");
    }
}
