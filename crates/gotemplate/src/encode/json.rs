//! Go's `encoding/json` as Helm's `toJson` and `fromJson` use it.
//!
//! Marshal: map keys in byte order, compact, HTML-safe string escaping (`<` is `\u003c`), floats
//! in Go's JSON layout, and the two failures Go reports (a NaN or infinite float, a map that
//! contains itself). Unmarshal into `interface{}`: every number is a `float64`, a duplicate key
//! keeps its last value, and a malformed document fails with Go's wording, because Helm puts
//! that text into the result where a template may print it.

use super::{EncodeError, deep};
use crate::gofloat;
use crate::value::Value;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::rc::Rc;

/// `json.Marshal(v)`.
pub fn to_json(value: &Value) -> Result<String, EncodeError> {
    Writer::new(true, None).run(value)
}

/// `json.MarshalIndent(v, "", indent)` (Sprig's `toPrettyJson` uses two spaces).
pub fn to_json_indent(value: &Value, indent: &str) -> Result<String, EncodeError> {
    Writer::new(true, Some(indent)).run(value)
}

/// A `json.Encoder` with `SetEscapeHTML(false)`, without its trailing newline (Sprig's
/// `toRawJson`): `<`, `>` and `&` stay as they are; U+2028 and U+2029 are still escaped.
pub fn to_json_raw(value: &Value) -> Result<String, EncodeError> {
    Writer::new(false, None).run(value)
}

struct Writer<'a> {
    out: String,
    escape_html: bool,
    indent: Option<&'a str>,
    /// The maps being written, to refuse one that contains itself.
    ancestors: Vec<usize>,
}

impl<'a> Writer<'a> {
    fn new(escape_html: bool, indent: Option<&'a str>) -> Writer<'a> {
        Writer {
            out: String::new(),
            escape_html,
            indent,
            ancestors: Vec::new(),
        }
    }

    fn run(mut self, value: &Value) -> Result<String, EncodeError> {
        self.value(value)?;
        Ok(self.out)
    }

    /// Before an element: a newline and the indentation of this depth, when indenting.
    fn newline(&mut self, depth: usize) {
        if let Some(indent) = self.indent {
            self.out.push('\n');
            for _ in 0..depth {
                self.out.push_str(indent);
            }
        }
    }

    fn value(&mut self, value: &Value) -> Result<(), EncodeError> {
        deep(|| self.value_here(value))
    }

    fn value_here(&mut self, value: &Value) -> Result<(), EncodeError> {
        let depth = self.ancestors.len();
        match value {
            Value::Nil => self.out.push_str("null"),
            Value::Bool(b) => self.out.push_str(if *b { "true" } else { "false" }),
            Value::Int(n) => {
                let _ = write!(self.out, "{n}");
            }
            Value::Float(f) => self.out.push_str(&float_text(*f)?),
            Value::String(s) => write_string_with(&mut self.out, s, self.escape_html),
            Value::List(items) => {
                self.out.push('[');
                // Lists cannot contain themselves; they only add a level of indentation.
                self.ancestors.push(0);
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        self.out.push(',');
                    }
                    self.newline(depth + 1);
                    self.value(item)?;
                }
                self.ancestors.pop();
                if !items.is_empty() {
                    self.newline(depth);
                }
                self.out.push(']');
            }
            Value::Map(map) => {
                let id = Rc::as_ptr(map) as *const () as usize;
                if self.ancestors.contains(&id) {
                    return Err(EncodeError::Cycle);
                }
                self.ancestors.push(id);
                self.out.push('{');
                let map = map.borrow();
                for (i, (key, item)) in map.iter().enumerate() {
                    if i > 0 {
                        self.out.push(',');
                    }
                    self.newline(depth + 1);
                    write_string_with(&mut self.out, key, self.escape_html);
                    self.out.push(':');
                    if self.indent.is_some() {
                        self.out.push(' ');
                    }
                    self.value(item)?;
                }
                self.ancestors.pop();
                if !map.is_empty() {
                    self.newline(depth);
                }
                self.out.push('}');
            }
            Value::Object(object) => self.value(&object.to_value())?,
        }
        Ok(())
    }
}

/// A float64 as `encoding/json` writes it; NaN and the infinities have no JSON text.
pub(crate) fn float_text(f: f64) -> Result<String, EncodeError> {
    if f.is_finite() {
        Ok(gofloat::format_json(f))
    } else {
        Err(EncodeError::Unsupported(gofloat::format_g(f)))
    }
}

/// A JSON string as Go's HTML-safe encoder writes it.
pub(crate) fn write_string(out: &mut String, s: &str) {
    write_string_with(out, s, true);
}

fn write_string_with(out: &mut String, s: &str, escape_html: bool) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' if escape_html => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            '\u{2028}' | '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Helm's `fromJson`: `json.Unmarshal` into `map[string]interface{}`; a failure becomes the
/// key `Error` of the result. Go decodes what it can around a number too large for a float64
/// (that key becomes null) and keeps the first such error; input of another shape leaves the
/// map empty. `null` gives Go a nil map, which prints as `map[]` like the empty map returned
/// here (only `toJson` of it would tell them apart).
pub fn from_json(text: &str) -> Value {
    match parse_lenient(text) {
        Ok((Value::Map(m), overflow)) => {
            if let Some(message) = overflow {
                m.borrow_mut()
                    .insert("Error".into(), Value::string(message));
            }
            Value::Map(m)
        }
        Ok((Value::Nil, _)) => Value::empty_map(),
        Ok((other, _)) => error_map(type_error(&other, "map[string]interface {}")),
        Err(message) => error_map(message),
    }
}

/// Helm's `fromJsonArray`: `json.Unmarshal` into `[]interface{}`; any failure makes the
/// result the one-element list `[message]`.
pub fn from_json_array(text: &str) -> Value {
    let message = match parse_lenient(text) {
        Ok((Value::List(l), None)) => return Value::List(l),
        Ok((Value::List(_), Some(message))) => message,
        Ok((Value::Nil, _)) => return Value::list(Vec::new()),
        Ok((other, _)) => type_error(&other, "[]interface {}"),
        Err(message) => message,
    };
    Value::list(vec![Value::string(message)])
}

fn error_map(message: String) -> Value {
    let mut m = BTreeMap::new();
    m.insert("Error".to_owned(), Value::string(message));
    Value::map(m)
}

fn type_error(value: &Value, target: &str) -> String {
    let kind = match value {
        Value::Bool(_) => "bool",
        Value::Float(_) | Value::Int(_) => "number",
        Value::String(_) => "string",
        Value::List(_) => "array",
        _ => "object",
    };
    format!("json: cannot unmarshal {kind} into Go value of type {target}")
}

/// `json.Unmarshal` of `text` into `interface{}`, with Go's error text.
pub fn parse(text: &str) -> Result<Value, String> {
    match parse_lenient(text)? {
        (value, None) => Ok(value),
        (_, Some(message)) => Err(message),
    }
}

/// The document's value with any number too large for a float64 as null, and the error
/// Go reports for the first such number; a syntax error anywhere comes first, because Go
/// checks the whole document before it decodes.
fn parse_lenient(text: &str) -> Result<(Value, Option<String>), String> {
    let mut p = Parser {
        s: text.as_bytes(),
        i: 0,
        overflow: None,
        depth: 0,
    };
    p.skip_ws();
    let value = p.value()?;
    p.skip_ws();
    if p.i < p.s.len() {
        return Err(p.invalid("after top-level value"));
    }
    Ok((value, p.overflow))
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    overflow: Option<String>,
    /// Open arrays and objects; Go refuses more than 10,000.
    depth: usize,
}

/// `encoding/json`'s `maxNestingDepth`.
const MAX_JSON_DEPTH: usize = 10_000;

const END: &str = "unexpected end of JSON input";

impl Parser<'_> {
    fn skip_ws(&mut self) {
        while self.i < self.s.len() && matches!(self.s[self.i], b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    /// Go's `invalid character 'x' CONTEXT`. Go's scanner reads bytes, so a non-ASCII
    /// character is named by its first byte; at the end of the input it feeds a space, so a
    /// literal, number or escape cut short is an "invalid character ' '".
    fn invalid(&self, context: &str) -> String {
        let b = self.peek().unwrap_or(b' ');
        format!("invalid character {} {context}", quote_byte(b))
    }

    fn value(&mut self) -> Result<Value, String> {
        match self.peek() {
            None => Err(END.into()),
            Some(b'{' | b'[') if self.depth == MAX_JSON_DEPTH => {
                Err(self.invalid("exceeded max depth"))
            }
            Some(b'{') => deep(|| {
                self.depth += 1;
                let v = self.object();
                self.depth -= 1;
                v
            }),
            Some(b'[') => deep(|| {
                self.depth += 1;
                let v = self.array();
                self.depth -= 1;
                v
            }),
            Some(b'"') => Ok(Value::string(self.string()?)),
            Some(b't') => self.literal("true", Value::Bool(true)),
            Some(b'f') => self.literal("false", Value::Bool(false)),
            Some(b'n') => self.literal("null", Value::Nil),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.invalid("looking for beginning of value")),
        }
    }

    fn literal(&mut self, word: &str, value: Value) -> Result<Value, String> {
        for expected in word.bytes() {
            if self.peek() != Some(expected) {
                return Err(self.invalid(&format!(
                    "in literal {word} (expecting '{}')",
                    expected as char
                )));
            }
            self.i += 1;
        }
        Ok(value)
    }

    fn object(&mut self) -> Result<Value, String> {
        self.i += 1;
        let mut map = BTreeMap::new();
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.i += 1;
            return Ok(Value::map(map));
        }
        loop {
            self.skip_ws();
            match self.peek() {
                Some(b'"') => {}
                None => return Err(END.into()),
                Some(_) => return Err(self.invalid("looking for beginning of object key string")),
            }
            let key = self.string()?;
            self.skip_ws();
            match self.peek() {
                Some(b':') => self.i += 1,
                None => return Err(END.into()),
                Some(_) => return Err(self.invalid("after object key")),
            }
            self.skip_ws();
            let value = self.value()?;
            map.insert(key, value);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b'}') => {
                    self.i += 1;
                    return Ok(Value::map(map));
                }
                None => return Err(END.into()),
                Some(_) => return Err(self.invalid("after object key:value pair")),
            }
        }
    }

    fn array(&mut self) -> Result<Value, String> {
        self.i += 1;
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.i += 1;
            return Ok(Value::list(items));
        }
        loop {
            self.skip_ws();
            items.push(self.value()?);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b']') => {
                    self.i += 1;
                    return Ok(Value::list(items));
                }
                None => return Err(END.into()),
                Some(_) => return Err(self.invalid("after array element")),
            }
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.i;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.i += 1;
        }
        self.i - start
    }

    fn number(&mut self) -> Result<Value, String> {
        let start = self.i;
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.peek() {
            Some(b'0') => self.i += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(self.invalid("in numeric literal")),
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            if self.digits() == 0 {
                return Err(self.invalid("after decimal point in numeric literal"));
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if self.digits() == 0 {
                return Err(self.invalid("in exponent of numeric literal"));
            }
        }
        let text = std::str::from_utf8(&self.s[start..self.i]).expect("ASCII digits");
        let f: f64 = text.parse().expect("a JSON number is a valid float");
        if f.is_finite() {
            return Ok(Value::Float(f));
        }
        self.overflow.get_or_insert_with(|| {
            format!("json: cannot unmarshal number {text} into Go value of type float64")
        });
        Ok(Value::Nil)
    }

    /// A string literal; invalid UTF-8 and lone surrogates become U+FFFD as in Go.
    fn string(&mut self) -> Result<String, String> {
        self.i += 1;
        let mut out: Vec<u8> = Vec::new();
        loop {
            let Some(c) = self.peek() else {
                return Err(END.into());
            };
            match c {
                b'"' => {
                    self.i += 1;
                    return Ok(String::from_utf8_lossy(&out).into_owned());
                }
                b'\\' => {
                    self.i += 1;
                    let simple = match self.peek() {
                        Some(b'"') => Some('"'),
                        Some(b'\\') => Some('\\'),
                        Some(b'/') => Some('/'),
                        Some(b'b') => Some('\u{8}'),
                        Some(b'f') => Some('\u{c}'),
                        Some(b'n') => Some('\n'),
                        Some(b'r') => Some('\r'),
                        Some(b't') => Some('\t'),
                        Some(b'u') => None,
                        _ => return Err(self.invalid("in string escape code")),
                    };
                    self.i += 1;
                    let ch = match simple {
                        Some(ch) => ch,
                        None => self.unicode_escape()?,
                    };
                    let mut buf = [0; 4];
                    out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                }
                c if c < 0x20 => return Err(self.invalid("in string literal")),
                _ => {
                    out.push(c);
                    self.i += 1;
                }
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, String> {
        let mut v = 0;
        for _ in 0..4 {
            let d = self
                .peek()
                .and_then(|c| (c as char).to_digit(16))
                .ok_or_else(|| self.invalid("in \\u hexadecimal character escape"))?;
            v = v * 16 + d;
            self.i += 1;
        }
        Ok(v)
    }

    fn unicode_escape(&mut self) -> Result<char, String> {
        let first = self.hex4()?;
        if (0xD800..0xDC00).contains(&first)
            && self.s.get(self.i) == Some(&b'\\')
            && self.s.get(self.i + 1) == Some(&b'u')
        {
            let save = self.i;
            self.i += 2;
            let second = self.hex4()?;
            if (0xDC00..0xE000).contains(&second) {
                let c = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00);
                return Ok(char::from_u32(c).unwrap_or('\u{FFFD}'));
            }
            // Not a pair: the first is a lone surrogate, the second is decoded on its own.
            self.i = save;
        }
        Ok(char::from_u32(first).unwrap_or('\u{FFFD}'))
    }
}

/// Go's `quoteChar` of one byte: the byte as a rune, in single quotes, escaped as
/// `strconv.Quote` escapes it.
fn quote_byte(b: u8) -> String {
    let c = char::from(b);
    match b {
        b'\'' => "'\\''".into(),
        b'"' => "'\"'".into(),
        0x20..=0x7e => format!("'{c}'"),
        0x07 => "'\\a'".into(),
        0x08 => "'\\b'".into(),
        0x0c => "'\\f'".into(),
        b'\n' => "'\\n'".into(),
        b'\r' => "'\\r'".into(),
        b'\t' => "'\\t'".into(),
        0x0b => "'\\v'".into(),
        0x00..=0x7f => format!("'\\x{b:02x}'"),
        0x80..=0xa0 | 0xad => format!("'\\u{b:04x}'"),
        _ => format!("'{c}'"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &Value) -> String {
        to_json(v).unwrap()
    }

    #[test]
    fn marshal_matches_go() {
        let v = parse(r#"{"b":[1,2.5,"x<y>&z",null,true],"a":{"é":"\u2028"},"c":1e21,"d":1e-7}"#)
            .unwrap();
        assert_eq!(
            s(&v),
            r#"{"a":{"é":"\u2028"},"b":[1,2.5,"x\u003cy\u003e\u0026z",null,true],"c":1e+21,"d":1e-7}"#
        );
        assert_eq!(s(&Value::string("\u{1}\u{8}\u{c}\t")), r#""\u0001\b\f\t""#);
        assert_eq!(s(&Value::Int(-3)), "-3");
        assert_eq!(s(&Value::Float(-0.0)), "-0");
        assert!(to_json(&Value::Float(f64::NAN)).is_err());
        let nested = parse(r#"{"a":[1,{}],"b":{"<":[]},"c":{"d":null}}"#).unwrap();
        assert_eq!(
            to_json_indent(&nested, "  ").unwrap(),
            "{\n  \"a\": [\n    1,\n    {}\n  ],\n  \"b\": {\n    \"\\u003c\": []\n  },\n  \"c\": {\n    \"d\": null\n  }\n}"
        );
        assert_eq!(
            to_json_raw(&Value::string("<&>\u{2028}")).unwrap(),
            "\"<&>\\u2028\""
        );
    }

    #[test]
    fn cycle_is_an_error_not_a_crash() {
        let m = Value::empty_map();
        if let Value::Map(inner) = &m {
            inner.borrow_mut().insert("self".into(), m.clone());
        }
        assert!(matches!(to_json(&m), Err(EncodeError::Cycle)));
        if let Value::Map(inner) = &m {
            inner.borrow_mut().clear();
        }
    }

    #[test]
    fn unmarshal_errors_read_like_go() {
        assert_eq!(parse("").unwrap_err(), "unexpected end of JSON input");
        assert_eq!(parse("{").unwrap_err(), "unexpected end of JSON input");
        assert_eq!(
            parse("{a}").unwrap_err(),
            "invalid character 'a' looking for beginning of object key string"
        );
        assert_eq!(
            parse("[1 2]").unwrap_err(),
            "invalid character '2' after array element"
        );
        assert_eq!(
            parse("1 x").unwrap_err(),
            "invalid character 'x' after top-level value"
        );
        assert_eq!(
            parse("tru").unwrap_err(),
            "invalid character ' ' in literal true (expecting 'e')"
        );
        assert_eq!(
            parse("1e999").unwrap_err(),
            "json: cannot unmarshal number 1e999 into Go value of type float64"
        );
        let m = from_json("[1]");
        assert_eq!(
            format!("{m:?}"),
            r#"{"Error": "json: cannot unmarshal array into Go value of type map[string]interface {}"}"#
        );
    }

    #[test]
    fn unmarshal_numbers_are_floats_and_last_key_wins() {
        let v = parse(r#"{"a":1,"a":2,"s":"\ud83d\ude00\ud800"}"#).unwrap();
        assert_eq!(format!("{v:?}"), r#"{"a": 2.0f, "s": "😀�"}"#);
    }
}
