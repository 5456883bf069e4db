//! Sprig's regular expressions, which are Go's RE2 syntax. Rust's `regex` crate implements
//! the same leftmost-first semantics and nearly the same syntax; the difference that changes
//! results is that Go's `\d`, `\w`, `\s` and `\b` are ASCII-only while Rust's are Unicode, so
//! patterns are rewritten to the ASCII classes before compiling. Compiled patterns are cached
//! per thread: a chart calls the same few patterns once per object.

use super::args::Args;
use super::{def, text};
use crate::{Error, FuncMap, Value};
use regex::Regex;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

pub(crate) fn register(m: &mut FuncMap) {
    def(m, "regexMatch", |a| {
        a.exact(2)?;
        let (pattern, s) = (a.str(0)?, a.str(1)?);
        // An invalid pattern does not match (Sprig drops MatchString's error).
        Ok(Value::Bool(compile(pattern).is_ok_and(|re| re.is_match(s))))
    });
    def(m, "mustRegexMatch", |a| {
        a.exact(2)?;
        let s = a.str(1)?;
        Ok(Value::Bool(must(&a)?.is_match(s)))
    });
    for name in ["regexFindAll", "mustRegexFindAll"] {
        super::def(m, name, find_all);
    }
    for name in ["regexFind", "mustRegexFind"] {
        super::def(m, name, |a| {
            a.exact(2)?;
            let s = a.str(1)?;
            Ok(text(must(&a)?.find(s).map(|m| m.as_str()).unwrap_or("")))
        });
    }
    for name in ["regexReplaceAll", "mustRegexReplaceAll"] {
        super::def(m, name, |a| {
            a.exact(3)?;
            let (s, repl) = (a.str(1)?, a.str(2)?);
            Ok(text(must(&a)?.replace_all(s, repl).into_owned()))
        });
    }
    for name in ["regexReplaceAllLiteral", "mustRegexReplaceAllLiteral"] {
        super::def(m, name, |a| {
            a.exact(3)?;
            let (s, repl) = (a.str(1)?, a.str(2)?);
            Ok(text(
                must(&a)?.replace_all(s, regex::NoExpand(repl)).into_owned(),
            ))
        });
    }
    for name in ["regexSplit", "mustRegexSplit"] {
        super::def(m, name, split);
    }
    def(m, "regexQuoteMeta", |a| {
        a.exact(1)?;
        Ok(text(quote_meta(a.str(0)?)))
    });
}

/// The pattern of argument 0, or the error Go's `MustCompile` panics with.
fn must(a: &Args) -> Result<Rc<Regex>, Error> {
    compile(a.str(0)?).map_err(|e| a.fail(e))
}

thread_local! {
    static CACHE: RefCell<HashMap<String, Result<Rc<Regex>, String>>> = RefCell::new(HashMap::new());
}

/// Patterns kept per thread; beyond this the cache starts over (a chart with this many
/// distinct patterns is not the common case worth memory).
const CACHE_LIMIT: usize = 256;

/// The compiled pattern, shared: a `Regex` clone would start with an empty match cache.
fn compile(pattern: &str) -> Result<Rc<Regex>, String> {
    CACHE.with(|cache| {
        if let Some(found) = cache.borrow().get(pattern) {
            return found.clone();
        }
        let compiled = Regex::new(&to_ascii_classes(pattern))
            .map(Rc::new)
            .map_err(|e| {
                format!(
                    "regexp: Compile({}): {}",
                    super::conv::go_quote(pattern),
                    first_line(&e.to_string())
                )
            });
        let mut cache = cache.borrow_mut();
        if cache.len() >= CACHE_LIMIT {
            cache.clear();
        }
        cache.insert(pattern.to_owned(), compiled.clone());
        compiled
    })
}

fn first_line(s: &str) -> String {
    s.lines().last().unwrap_or(s).trim().to_owned()
}

/// Rewrites Perl classes to RE2's ASCII meaning: `\d` is `[0-9]`, `\w` `[0-9A-Za-z_]`, `\s`
/// `[\t\n\f\r ]`, `\b` an ASCII word boundary; inside a bracket expression the class's members
/// are spliced in.
fn to_ascii_classes(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut chars = pattern.chars().peekable();
    let mut in_class = false;
    let mut class_start = false;
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some(next) => rewrite_escape(&mut out, next, in_class, &mut chars),
                None => out.push(c),
            }
            class_start = false;
        } else if in_class {
            if c == ']' && !class_start {
                in_class = false;
                out.push(c);
            } else {
                copy_class_char(&mut out, c, &mut chars);
            }
            class_start = false;
        } else if c == '[' {
            in_class = true;
            class_start = true;
            out.push(c);
            if chars.peek() == Some(&'^') {
                out.push('^');
                chars.next();
            }
        } else {
            out.push(c);
        }
    }
    out
}

type Chars<'a> = std::iter::Peekable<std::str::Chars<'a>>;

/// One escape `\x`: Perl classes and word boundaries in RE2's ASCII meaning, `\Q…\E` as
/// escaped literal text, anything else as it is.
fn rewrite_escape(out: &mut String, next: char, in_class: bool, chars: &mut Chars) {
    const DIGIT: &str = "0-9";
    const WORD: &str = "0-9A-Za-z_";
    const SPACE: &str = "\\t\\n\\f\\r ";
    let members = match next.to_ascii_lowercase() {
        'd' => Some(DIGIT),
        'w' => Some(WORD),
        's' => Some(SPACE),
        _ => None,
    };
    match (members, in_class) {
        (Some(m), false) if next.is_ascii_lowercase() => out.push_str(&format!("[{m}]")),
        (Some(m), true) if next.is_ascii_lowercase() => out.push_str(m),
        (Some(m), _) => out.push_str(&format!("[^{m}]")),
        (None, false) if next == 'b' || next == 'B' => out.push_str(&format!("(?-u:\\{next})")),
        (None, false) if next == 'Q' => {
            let mut literal = String::new();
            while let Some(l) = chars.next() {
                if l == '\\' && chars.peek() == Some(&'E') {
                    chars.next();
                    break;
                }
                literal.push(l);
            }
            out.push_str(&regex::escape(&literal));
        }
        _ => {
            out.push('\\');
            out.push(next);
        }
    }
}

/// One character inside a bracket expression: a POSIX class `[:alpha:]` copied whole, and
/// `[`, `&`, `~` escaped (literal in Go; nested classes and set operators to Rust).
fn copy_class_char(out: &mut String, c: char, chars: &mut Chars) {
    if c == '[' && chars.peek() == Some(&':') {
        out.push(c);
        for p in chars.by_ref() {
            out.push(p);
            if p == ']' {
                break;
            }
        }
    } else if matches!(c, '[' | '&' | '~') {
        out.push('\\');
        out.push(c);
    } else {
        out.push(c);
    }
}

/// Go's `FindAllString(s, n)`: at most `n` matches when `n >= 0`.
fn find_all(a: Args) -> Result<Value, Error> {
    a.exact(3)?;
    let (s, n) = (a.str(1)?, a.int(2)?);
    let re = must(&a)?;
    let limit = if n < 0 { usize::MAX } else { n as usize };
    Ok(Value::list(
        re.find_iter(s)
            .take(limit)
            .map(|m| text(m.as_str()))
            .collect(),
    ))
}

/// Go's `Regexp.Split(s, n)`: `n == 0` gives nothing, `n > 0` at most `n` parts; an empty
/// match at the start adds no empty part.
fn split(a: Args) -> Result<Value, Error> {
    a.exact(3)?;
    let (s, n) = (a.str(1)?, a.int(2)?);
    let re = must(&a)?;
    if n == 0 {
        return Ok(Value::list(Vec::new()));
    }
    if !a.str(0)?.is_empty() && s.is_empty() {
        return Ok(Value::list(vec![text("")]));
    }
    let limit = if n < 0 { usize::MAX } else { n as usize };
    let mut parts = Vec::new();
    let (mut beg, mut end) = (0, 0);
    for m in re.find_iter(s).take(limit) {
        if n > 0 && parts.len() == limit - 1 {
            break;
        }
        end = m.start();
        if m.end() != 0 {
            parts.push(text(&s[beg..end]));
        }
        beg = m.end();
    }
    if end != s.len() {
        parts.push(text(&s[beg..]));
    }
    Ok(Value::list(parts))
}

/// Go's `regexp.QuoteMeta`: a backslash before each of `\.+*?()|[]{}^$`.
fn quote_meta(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 2);
    for c in s.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_become_ascii() {
        assert_eq!(to_ascii_classes(r"\d+"), "[0-9]+");
        assert_eq!(to_ascii_classes(r"[\w.-]"), "[0-9A-Za-z_.-]");
        assert_eq!(to_ascii_classes(r"[^\S]"), r"[^[^\t\n\f\r ]]");
        assert_eq!(to_ascii_classes(r"\bx"), r"(?-u:\b)x");
        assert_eq!(to_ascii_classes(r"[[:alpha:]]"), "[[:alpha:]]");
        assert_eq!(to_ascii_classes(r"[]a]"), "[]a]");
        assert!(!compile(r"\d").unwrap().is_match("٣"));
    }

    #[test]
    fn quote_meta_like_go() {
        assert_eq!(quote_meta("a.b#c-d"), r"a\.b#c-d");
    }
}
