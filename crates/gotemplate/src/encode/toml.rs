//! Helm's `toToml`: BurntSushi/toml's encoder applied to a Go value.
//!
//! Its layout is the library's, not a generic TOML writer's: in each table the plain keys come
//! first, then sub-tables and arrays of tables, each group in byte order; a top-level table is
//! preceded by a blank line; nested headers and their keys are indented two spaces per level;
//! nil map values are left out, and a list holding a nil fails. Helm 3 (BurntSushi v1.4)
//! writes a float64 with `'f'` digits, Helm 4 (v1.6) with `'g'` digits (`1e+06`).

use super::{EncodeError, deep};
use crate::gofloat;
use crate::value::Value;

/// BurntSushi's `Encode(value)`; `helm4` selects v1.6's float layout over v1.4's.
pub fn to_toml(value: &Value, helm4: bool) -> Result<String, EncodeError> {
    let mut enc = Encoder {
        out: String::new(),
        helm4,
    };
    enc.encode(&[], value)?;
    Ok(enc.out)
}

const NIL_ELEMENT: &str = "toml: cannot encode array with nil element";
const NO_KEY: &str = "toml: top-level values must be Go maps or structs";

#[derive(PartialEq)]
enum Kind {
    Nil,
    Table,
    ArrayOfTables,
    Other,
}

fn err(message: &str) -> EncodeError {
    EncodeError::Toml(message.to_owned())
}

/// `tomlTypeOfGo`, reduced to what the encoder branches on; it fails on a list with a nil
/// element anywhere below it, as the library's `isTableArray` does.
fn kind(value: &Value) -> Result<Kind, EncodeError> {
    deep(|| kind_here(value))
}

fn kind_here(value: &Value) -> Result<Kind, EncodeError> {
    Ok(match value {
        Value::Nil => Kind::Nil,
        Value::Map(_) => Kind::Table,
        Value::List(items) => {
            let mut all_tables = !items.is_empty();
            for item in items.iter() {
                match kind(item)? {
                    Kind::Nil => return Err(err(NIL_ELEMENT)),
                    Kind::Table => {}
                    _ => all_tables = false,
                }
            }
            if all_tables {
                Kind::ArrayOfTables
            } else {
                Kind::Other
            }
        }
        Value::Object(o) => kind(&o.to_value())?,
        _ => Kind::Other,
    })
}

struct Encoder {
    out: String,
    helm4: bool,
}

impl Encoder {
    /// The library's `newline`: only once something has been written.
    fn newline(&mut self) {
        if !self.out.is_empty() {
            self.out.push('\n');
        }
    }

    fn indent(&mut self, key: &[String]) {
        for _ in 1..key.len() {
            self.out.push_str("  ");
        }
    }

    fn encode(&mut self, key: &[String], value: &Value) -> Result<(), EncodeError> {
        deep(|| self.encode_inner(key, value))
    }

    fn encode_inner(&mut self, key: &[String], value: &Value) -> Result<(), EncodeError> {
        match value {
            Value::Nil => Ok(()),
            Value::Map(_) => self.table(key, value),
            Value::List(_) if kind(value)? == Kind::ArrayOfTables => {
                self.array_of_tables(key, value)
            }
            Value::Object(o) => self.encode(key, &o.to_value()),
            _ => self.key_value(key, value, false),
        }
    }

    fn table(&mut self, key: &[String], value: &Value) -> Result<(), EncodeError> {
        if key.len() == 1 {
            self.newline();
        }
        if !key.is_empty() {
            self.indent(key);
            self.out.push('[');
            self.out.push_str(&dotted(key));
            self.out.push(']');
            self.newline();
        }
        self.map_body(key, value, false)
    }

    fn array_of_tables(&mut self, key: &[String], value: &Value) -> Result<(), EncodeError> {
        if key.is_empty() {
            return Err(err(NO_KEY));
        }
        let Value::List(items) = value else {
            return Ok(());
        };
        for item in items.iter() {
            self.newline();
            self.indent(key);
            self.out.push_str("[[");
            self.out.push_str(&dotted(key));
            self.out.push_str("]]");
            self.newline();
            self.map_body(key, item, false)?;
        }
        Ok(())
    }

    /// `eMap`: plain keys first, then tables, each group sorted; nil values are skipped (an
    /// inline table still writes the separator that would have followed them).
    fn map_body(&mut self, key: &[String], value: &Value, inline: bool) -> Result<(), EncodeError> {
        let value = match value {
            Value::Object(o) => o.to_value(),
            v => v.clone(),
        };
        let Value::Map(map) = value else {
            return Ok(());
        };
        let entries: Vec<(String, Value)> = map
            .borrow()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let mut direct = Vec::new();
        let mut sub = Vec::new();
        for (k, v) in entries {
            match kind(&v)? {
                Kind::Table | Kind::ArrayOfTables => sub.push((k, v)),
                _ => direct.push((k, v)),
            }
        }
        if inline {
            self.out.push('{');
        }
        let trailing_comma = !sub.is_empty();
        self.write_keys(key, &direct, inline, trailing_comma)?;
        self.write_keys(key, &sub, inline, false)?;
        if inline {
            self.out.push('}');
        }
        Ok(())
    }

    fn write_keys(
        &mut self,
        key: &[String],
        entries: &[(String, Value)],
        inline: bool,
        trailing_comma: bool,
    ) -> Result<(), EncodeError> {
        for (i, (k, v)) in entries.iter().enumerate() {
            if matches!(v, Value::Nil) {
                continue;
            }
            if inline {
                self.key_value(std::slice::from_ref(k), v, true)?;
                if trailing_comma || i + 1 != entries.len() {
                    self.out.push_str(", ");
                }
            } else {
                let mut path = key.to_vec();
                path.push(k.clone());
                self.encode(&path, v)?;
            }
        }
        Ok(())
    }

    fn key_value(
        &mut self,
        key: &[String],
        value: &Value,
        inline: bool,
    ) -> Result<(), EncodeError> {
        if let Some(last) = key.last() {
            self.indent(key);
            self.out.push_str(&bare_or_quoted(last));
            self.out.push_str(" = ");
        }
        self.element(value)?;
        if !key.is_empty() && !inline {
            self.newline();
        }
        Ok(())
    }

    /// `eElement`: a value inside a key/value pair or an array.
    fn element(&mut self, value: &Value) -> Result<(), EncodeError> {
        deep(|| self.element_here(value))
    }

    fn element_here(&mut self, value: &Value) -> Result<(), EncodeError> {
        match value {
            Value::Nil => return Err(err(NIL_ELEMENT)),
            Value::Bool(b) => self.out.push_str(if *b { "true" } else { "false" }),
            Value::Int(n) => self.out.push_str(&n.to_string()),
            Value::Float(f) => self.out.push_str(&self.float(*f)),
            Value::String(s) => quote_into(&mut self.out, s),
            Value::List(items) => {
                self.out.push('[');
                for (i, item) in items.iter().enumerate() {
                    self.element(item)?;
                    if i + 1 != items.len() {
                        self.out.push_str(", ");
                    }
                }
                self.out.push(']');
            }
            Value::Map(_) => self.map_body(&[], value, true)?,
            Value::Object(o) => self.element(&o.to_value())?,
        }
        Ok(())
    }

    fn float(&self, f: f64) -> String {
        let sign = if f.is_sign_negative() { "-" } else { "" };
        if f.is_nan() {
            return format!("{sign}nan");
        }
        if f.is_infinite() {
            return format!("{sign}inf");
        }
        let text = if self.helm4 {
            gofloat::format_g(f)
        } else {
            gofloat::format_f(f)
        };
        if text.contains(['.', 'e']) {
            text
        } else {
            text + ".0"
        }
    }
}

/// A key path as a table header writes it: `a."b c".d`.
fn dotted(key: &[String]) -> String {
    key.iter()
        .map(|k| bare_or_quoted(k))
        .collect::<Vec<_>>()
        .join(".")
}

/// A bare key when it is only `A-Za-z0-9_-`, else a quoted one; the empty key is `""`.
fn bare_or_quoted(k: &str) -> String {
    if !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return k.to_owned();
    }
    let mut out = String::new();
    quote_into(&mut out, k);
    out
}

/// The library's basic-string escaping: quote, backslash, the C0 controls and DEL.
fn quote_into(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::json::parse;

    fn toml_of(json: &str, helm4: bool) -> String {
        to_toml(&parse(json).unwrap(), helm4).unwrap_or_else(|e| e.to_string())
    }

    #[test]
    fn library_layout() {
        let json =
            r#"{"z":1,"a":{"b":{"c":"x"},"k":1.5},"t":[{"n":1},{"n":2}],"l":[1,"a"],"m":null}"#;
        assert_eq!(
            toml_of(json, false),
            "l = [1.0, \"a\"]\nz = 1.0\n\n[a]\n  k = 1.5\n  [a.b]\n    c = \"x\"\n\n[[t]]\n  n = 1.0\n\n[[t]]\n  n = 2.0\n"
        );
        assert_eq!(toml_of(r#"{"f":1e6}"#, false), "f = 1000000.0\n");
        assert_eq!(toml_of(r#"{"f":1e6}"#, true), "f = 1e+06\n");
        assert_eq!(toml_of(r#"{"l":[1,null]}"#, true), NIL_ELEMENT);
        assert_eq!(toml_of(r#"[{"a":1}]"#, true), NO_KEY);
        assert_eq!(
            toml_of(r#"{"a b":{"":"\u0001"}}"#, true),
            "[\"a b\"]\n  \"\" = \"\\u0001\"\n"
        );
    }
}
