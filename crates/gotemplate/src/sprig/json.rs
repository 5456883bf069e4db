//! Sprig's JSON variants beside Helm's `toJson`/`fromJson` (which the encoders provide):
//! `toPrettyJson` (Go's `json.MarshalIndent` with two spaces), `toRawJson` (an encoder with
//! HTML escaping off), their `must` forms, and `mustFromJson` (`json.Unmarshal` into
//! `interface{}`, failing the render on bad input). Both are derived from the encoders' compact
//! `json.Marshal` text, as Go derives them from the same encoding.

use super::args::Args;
use super::{def, text};
use crate::encode::json::{parse, to_json};
use crate::{Error, FuncMap, Value};

pub(crate) fn register(m: &mut FuncMap) {
    def(m, "toPrettyJson", |a| {
        a.exact(1)?;
        Ok(text(
            to_json(a.get(0)).map(|j| indent(&j)).unwrap_or_default(),
        ))
    });
    def(m, "mustToPrettyJson", |a| {
        a.exact(1)?;
        encoded(&a, indent)
    });
    // Sprig's toRawJson panics on an unencodable value, so both forms fail the render.
    def(m, "toRawJson", |a| {
        a.exact(1)?;
        encoded(&a, unescape_html)
    });
    def(m, "mustToRawJson", |a| {
        a.exact(1)?;
        encoded(&a, unescape_html)
    });
    def(m, "mustFromJson", |a| {
        a.exact(1)?;
        parse(a.str(0)?).map_err(|e| a.fail(e))
    });
}

fn encoded(a: &Args, shape: fn(&str) -> String) -> Result<Value, Error> {
    to_json(a.get(0))
        .map(|j| text(shape(&j)))
        .map_err(|e| a.fail(e))
}

/// Go's `json.Indent(dst, compact, "", "  ")`: one member per line, `": "` after keys, and
/// empty objects and arrays kept as `{}` and `[]`.
fn indent(compact: &str) -> String {
    let mut out = String::with_capacity(compact.len() * 2);
    let mut depth = 0usize;
    let mut in_string = false;
    let mut chars = compact.chars().peekable();
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        for _ in 0..depth {
            out.push_str("  ");
        }
    };
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            if c == '\\' {
                if let Some(escaped) = chars.next() {
                    out.push(escaped);
                }
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            '{' | '[' => {
                out.push(c);
                let close = if c == '{' { '}' } else { ']' };
                if chars.peek() == Some(&close) {
                    out.push(close);
                    chars.next();
                } else {
                    depth += 1;
                    newline(&mut out, depth);
                }
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(c);
            }
            ',' => {
                out.push(c);
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            c => out.push(c),
        }
    }
    out
}

/// The compact text with `<`, `>` and `&` written as themselves instead of `\u003c`-style
/// escapes (`SetEscapeHTML(false)`); U+2028 and U+2029 stay escaped, as in Go.
fn unescape_html(compact: &str) -> String {
    let mut out = String::with_capacity(compact.len());
    let mut rest = compact;
    while let Some(i) = rest.find('\\') {
        out.push_str(&rest[..i]);
        let escape = &rest[i..];
        let plain = match escape.get(..6) {
            Some("\\u003c") => Some('<'),
            Some("\\u003e") => Some('>'),
            Some("\\u0026") => Some('&'),
            _ => None,
        };
        match plain {
            Some(c) => {
                out.push(c);
                rest = &escape[6..];
            }
            None => {
                let len = 1 + escape[1..].chars().next().map_or(0, char::len_utf8);
                out.push_str(&escape[..len]);
                rest = &escape[len..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indent_like_go() {
        assert_eq!(
            indent(r#"{"a":[1,{}],"b":{"c":"x,:{"},"d":[]}"#),
            "{\n  \"a\": [\n    1,\n    {}\n  ],\n  \"b\": {\n    \"c\": \"x,:{\"\n  },\n  \"d\": []\n}"
        );
        assert_eq!(indent("1"), "1");
    }

    #[test]
    fn raw_keeps_html_characters() {
        assert_eq!(
            unescape_html(r#"{"a":"\u003cb\u003e\u0026","b":"\\u003c"}"#),
            r#"{"a":"<b>&","b":"\\u003c"}"#
        );
        assert_eq!(unescape_html(r#""\u2028""#), r#""\u2028""#);
    }
}
