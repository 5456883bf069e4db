//! Sprig's string functions. Go strings are bytes: `trunc`, `substr`, `abbrev` and `wrap` count
//! bytes, not characters, as Sprig does; a cut inside a UTF-8 sequence (which Go would print
//! as broken bytes) becomes U+FFFD here.

use super::args::Args;
use super::conv::{format_v, go_quote, strval};
use super::{def, text};
use crate::{Error, FuncMap, Value};
use std::collections::BTreeMap;

pub(crate) fn register(m: &mut FuncMap) {
    def(m, "abbrev", abbrev);
    def(m, "abbrevboth", abbrevboth);
    def(m, "trunc", trunc);
    def(m, "trim", |a| str1(a, |s| s.trim().to_owned()));
    def(m, "upper", |a| {
        str1(a, |s| s.chars().map(go_upper).collect())
    });
    def(m, "lower", |a| {
        str1(a, |s| s.chars().map(go_lower).collect())
    });
    def(m, "title", |a| str1(a, title));
    def(m, "untitle", |a| str1(a, untitle));
    def(m, "substr", substr);
    def(m, "repeat", repeat);
    def(m, "trimall", trim_all);
    def(m, "trimAll", trim_all);
    def(m, "trimSuffix", |a| {
        str2(a, |suffix, s| {
            s.strip_suffix(suffix).unwrap_or(s).to_owned()
        })
    });
    def(m, "trimPrefix", |a| {
        str2(a, |prefix, s| {
            s.strip_prefix(prefix).unwrap_or(s).to_owned()
        })
    });
    def(m, "nospace", |a| str1(a, nospace));
    def(m, "initials", |a| str1(a, initials));
    def(m, "swapcase", |a| str1(a, swapcase));
    def(m, "snakecase", |a| {
        str1(a, |s| super::case::to_lower_words(s, '_'))
    });
    def(m, "kebabcase", |a| {
        str1(a, |s| super::case::to_lower_words(s, '-'))
    });
    def(m, "camelcase", |a| str1(a, super::case::to_pascal));
    def(m, "wrap", wrap);
    def(m, "wrapWith", wrap_with);
    def(m, "contains", |a| bool2(a, |sub, s| s.contains(sub)));
    def(m, "hasPrefix", |a| bool2(a, |p, s| s.starts_with(p)));
    def(m, "hasSuffix", |a| bool2(a, |p, s| s.ends_with(p)));
    def(m, "quote", quote);
    def(m, "squote", squote);
    def(m, "cat", cat);
    def(m, "indent", |a| indent(a, false));
    def(m, "nindent", |a| indent(a, true));
    def(m, "replace", replace);
    def(m, "plural", plural);
    def(m, "toString", |a| {
        a.exact(1)?;
        Ok(text(strval(a.get(0))))
    });
    def(m, "split", split);
    def(m, "splitList", split_list);
    def(m, "splitn", splitn);
    def(m, "toStrings", |a| {
        a.exact(1)?;
        Ok(Value::list(
            strslice(a.get(0)).into_iter().map(text).collect(),
        ))
    });
    def(m, "join", join);
}

/// A function of one Go `string`.
fn str1(a: Args, f: impl Fn(&str) -> String) -> Result<Value, Error> {
    a.exact(1)?;
    Ok(text(f(a.str(0)?)))
}

/// A function of two Go `string`s giving a string.
fn str2(a: Args, f: impl Fn(&str, &str) -> String) -> Result<Value, Error> {
    a.exact(2)?;
    Ok(text(f(a.str(0)?, a.str(1)?)))
}

/// A function of two Go `string`s giving a bool.
fn bool2(a: Args, f: impl Fn(&str, &str) -> bool) -> Result<Value, Error> {
    a.exact(2)?;
    Ok(Value::Bool(f(a.str(0)?, a.str(1)?)))
}

/// A string from Go byte offsets that may split a UTF-8 sequence.
fn from_bytes(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Go's `unicode.ToUpper` of one rune: one rune in, one out (no `ß` → `SS`).
pub(crate) fn go_upper(c: char) -> char {
    let mut up = c.to_uppercase();
    match (up.next(), up.next()) {
        (Some(u), None) => u,
        _ => c,
    }
}

/// Go's `unicode.ToLower` of one rune.
pub(crate) fn go_lower(c: char) -> char {
    if c == '\u{130}' {
        return 'i';
    }
    let mut low = c.to_lowercase();
    match (low.next(), low.next()) {
        (Some(l), None) => l,
        _ => c,
    }
}

/// Go's `unicode.ToTitle`: the upper case, except the Latin digraphs that have a title form.
pub(crate) fn go_title(c: char) -> char {
    match c {
        '\u{1C4}'..='\u{1C6}' => '\u{1C5}',
        '\u{1C7}'..='\u{1C9}' => '\u{1C8}',
        '\u{1CA}'..='\u{1CC}' => '\u{1CB}',
        '\u{1F1}'..='\u{1F3}' => '\u{1F2}',
        _ => go_upper(c),
    }
}

/// Go's `strings.Title`: the first letter of every word in title case, where ASCII letters,
/// digits and `_` continue a word, other ASCII ends one, and beyond ASCII letters, digits and
/// marks continue and spaces end a word.
fn title(s: &str) -> String {
    let mut prev = ' ';
    s.chars()
        .map(|c| {
            let out = if is_title_separator(prev) {
                go_title(c)
            } else {
                c
            };
            prev = c;
            out
        })
        .collect()
}

fn is_title_separator(c: char) -> bool {
    if c.is_ascii() {
        return !(c.is_ascii_alphanumeric() || c == '_');
    }
    if c.is_alphanumeric() {
        return false;
    }
    c.is_whitespace()
}

/// goutils' `Uncapitalize`: the first letter after whitespace in lower case.
fn untitle(s: &str) -> String {
    let mut next = true;
    s.chars()
        .map(|c| {
            if c.is_whitespace() {
                next = true;
                c
            } else if next {
                next = false;
                go_lower(c)
            } else {
                c
            }
        })
        .collect()
}

/// goutils' `SwapCase`: upper to lower, lower to upper (title case after whitespace).
fn swapcase(s: &str) -> String {
    let mut after_space = true;
    s.chars()
        .map(|c| {
            if c.is_uppercase() {
                after_space = false;
                go_lower(c)
            } else if c.is_lowercase() {
                let out = if after_space {
                    go_title(c)
                } else {
                    go_upper(c)
                };
                after_space = false;
                out
            } else {
                after_space = c.is_whitespace();
                c
            }
        })
        .collect()
}

/// goutils' `DeleteWhiteSpace`, which walks bytes: each byte is read as the Latin-1 rune of
/// that value, so when anything is removed, bytes above 0x7F come out as two-byte runes (and
/// 0x85 and 0xA0, spaces in Latin-1, are removed).
fn nospace(s: &str) -> String {
    let kept: Vec<char> = s
        .bytes()
        .map(char::from)
        .filter(|c| !c.is_whitespace())
        .collect();
    if kept.len() == s.len() {
        s.to_owned()
    } else {
        kept.into_iter().collect()
    }
}

/// goutils' `Initials`: the first byte (as a Latin-1 rune) of every whitespace-separated word.
fn initials(s: &str) -> String {
    let mut out = String::new();
    let mut gap = true;
    for c in s.bytes().map(char::from) {
        if c.is_whitespace() {
            gap = true;
        } else if gap {
            out.push(c);
            gap = false;
        }
    }
    out
}

fn abbrev(a: Args) -> Result<Value, Error> {
    a.exact(2)?;
    let (width, s) = (a.int(0)?, a.str(1)?);
    if width < 4 {
        return Ok(text(s));
    }
    Ok(text(
        abbreviate(s.as_bytes(), 0, width as usize).unwrap_or_default(),
    ))
}

fn abbrevboth(a: Args) -> Result<Value, Error> {
    a.exact(3)?;
    let (left, right, s) = (a.int(0)?, a.int(1)?, a.str(2)?);
    if right < 4 || (left > 0 && right < 7) {
        return Ok(text(s));
    }
    let offset = left.max(0) as usize;
    Ok(text(
        abbreviate(s.as_bytes(), offset, right as usize).unwrap_or_default(),
    ))
}

/// goutils' `AbbreviateFull` over bytes: `None` where it returns an error (Sprig then prints
/// the empty string).
fn abbreviate(s: &[u8], offset: usize, width: usize) -> Option<String> {
    if s.is_empty() {
        return Some(String::new());
    }
    if width < 4 {
        return None;
    }
    if s.len() <= width {
        return Some(from_bytes(s));
    }
    let mut offset = offset.min(s.len());
    if s.len() - offset < width - 3 {
        offset = s.len() - (width - 3);
    }
    if offset <= 4 {
        return Some(from_bytes(&s[..width - 3]) + "...");
    }
    if width < 7 {
        return None;
    }
    if offset + width - 3 < s.len() {
        let rest = abbreviate(&s[offset..], 0, width - 3).unwrap_or_default();
        return Some(format!("...{rest}"));
    }
    Some(format!("...{}", from_bytes(&s[s.len() - (width - 3)..])))
}

fn trunc(a: Args) -> Result<Value, Error> {
    a.exact(2)?;
    let (c, s) = (a.int(0)?, a.str(1)?);
    let b = s.as_bytes();
    let len = b.len() as i64;
    if c < 0 && len + c > 0 {
        return Ok(text(from_bytes(&b[(len + c) as usize..])));
    }
    if c >= 0 && len > c {
        return Ok(text(from_bytes(&b[..c as usize])));
    }
    Ok(text(s))
}

/// Sprig's `substring`: `start < 0` takes `s[:end]`, an `end` past the string or negative
/// takes `s[start:]`; bounds Go cannot slice are its panic, an error.
fn substr(a: Args) -> Result<Value, Error> {
    a.exact(3)?;
    let (start, end, s) = (a.int(0)?, a.int(1)?, a.str(2)?);
    let b = s.as_bytes();
    let len = b.len() as i64;
    let out_of_range = |lo: i64, hi: i64| {
        a.fail(format!(
            "runtime error: slice bounds out of range [{lo}:{hi}]"
        ))
    };
    let (lo, hi) = if start < 0 {
        (0, end)
    } else if end < 0 || end > len {
        (start, len)
    } else {
        (start, end)
    };
    if hi < 0 || hi > len || lo > hi {
        return Err(out_of_range(lo, hi));
    }
    Ok(text(from_bytes(&b[lo as usize..hi as usize])))
}

/// Refuses a result Go would fail to allocate (or a template would not want): strata renders
/// untrusted charts and a `repeat` of a billion must not exhaust memory.
const MAX_REPEAT_BYTES: usize = 1 << 28;

fn repeat(a: Args) -> Result<Value, Error> {
    a.exact(2)?;
    let (count, s) = (a.int(0)?, a.str(1)?);
    if count < 0 {
        return Err(a.fail("strings: negative Repeat count"));
    }
    if (count as u128) * (s.len() as u128) > MAX_REPEAT_BYTES as u128 {
        return Err(a.fail("strings: Repeat output length overflow"));
    }
    Ok(text(s.repeat(count as usize)))
}

fn trim_all(a: Args) -> Result<Value, Error> {
    a.exact(2)?;
    let (cutset, s) = (a.str(0)?, a.str(1)?);
    Ok(text(s.trim_matches(|c| cutset.contains(c))))
}

fn wrap(a: Args) -> Result<Value, Error> {
    a.exact(2)?;
    Ok(text(wrap_custom(a.str(1)?, a.int(0)?, "", false)))
}

fn wrap_with(a: Args) -> Result<Value, Error> {
    a.exact(3)?;
    Ok(text(wrap_custom(a.str(2)?, a.int(0)?, a.str(1)?, true)))
}

/// goutils' `WrapCustom`: breaks at the last space within `width` bytes; a longer word is cut
/// at `width` when `long_words`, or runs on to the next space otherwise.
fn wrap_custom(s: &str, width: i64, newline: &str, long_words: bool) -> String {
    if s.is_empty() {
        return String::new();
    }
    let newline = if newline.is_empty() { "\n" } else { newline };
    let width = width.max(1) as usize;
    let b = s.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(b.len() + 8);
    let mut offset = 0;
    while b.len() - offset > width {
        if b[offset] == b' ' {
            offset += 1;
            continue;
        }
        let end = (width + offset + 1).min(b.len());
        if let Some(space) = b[offset..end].iter().rposition(|&c| c == b' ') {
            out.extend_from_slice(&b[offset..offset + space]);
            out.extend_from_slice(newline.as_bytes());
            offset += space + 1;
        } else if long_words {
            out.extend_from_slice(&b[offset..offset + width]);
            out.extend_from_slice(newline.as_bytes());
            offset += width;
        } else {
            let end = width + offset;
            match b[end..].iter().position(|&c| c == b' ') {
                None => {
                    out.extend_from_slice(&b[offset..]);
                    offset = b.len();
                }
                Some(i) => {
                    out.extend_from_slice(&b[offset..end + i]);
                    out.extend_from_slice(newline.as_bytes());
                    offset = end + i + 1;
                }
            }
        }
    }
    out.extend_from_slice(&b[offset..]);
    from_bytes(&out)
}

/// Each non-nil argument as Go's `%q` of its `strval`, joined by spaces.
fn quote(a: Args) -> Result<Value, Error> {
    let parts: Vec<String> =
        a.v.iter()
            .filter(|v| !matches!(v, Value::Nil))
            .map(|v| go_quote(&strval(v)))
            .collect();
    Ok(text(parts.join(" ")))
}

fn squote(a: Args) -> Result<Value, Error> {
    let parts: Vec<String> =
        a.v.iter()
            .filter(|v| !matches!(v, Value::Nil))
            .map(|v| format!("'{}'", format_v(v)))
            .collect();
    Ok(text(parts.join(" ")))
}

fn cat(a: Args) -> Result<Value, Error> {
    let parts: Vec<String> =
        a.v.iter()
            .filter(|v| !matches!(v, Value::Nil))
            .map(format_v)
            .collect();
    Ok(text(parts.join(" ")))
}

fn indent(a: Args, newline: bool) -> Result<Value, Error> {
    a.exact(2)?;
    let (spaces, s) = (a.int(0)?, a.str(1)?);
    if spaces < 0 {
        return Err(a.fail("strings: negative Repeat count"));
    }
    if spaces as u64 > MAX_REPEAT_BYTES as u64 {
        return Err(a.fail("strings: Repeat output length overflow"));
    }
    let pad = " ".repeat(spaces as usize);
    let mut out = String::with_capacity(s.len() + pad.len() * 2 + 1);
    if newline {
        out.push('\n');
    }
    out.push_str(&pad);
    out.push_str(&s.replace('\n', &format!("\n{pad}")));
    Ok(text(out))
}

fn replace(a: Args) -> Result<Value, Error> {
    a.exact(3)?;
    let (old, new, src) = (a.str(0)?, a.str(1)?, a.str(2)?);
    Ok(text(src.replace(old, new)))
}

fn plural(a: Args) -> Result<Value, Error> {
    a.exact(3)?;
    let (one, many, count) = (a.str(0)?, a.str(1)?, a.int(2)?);
    Ok(text(if count == 1 { one } else { many }))
}

/// Go's `strings.SplitN`: `n < 0` is every part, `n == 0` none; an empty separator splits
/// into characters.
pub(crate) fn go_split(s: &str, sep: &str, n: i64) -> Vec<String> {
    if n == 0 {
        return Vec::new();
    }
    let limit = if n < 0 { usize::MAX } else { n as usize };
    if sep.is_empty() {
        let chars: Vec<char> = s.chars().collect();
        let take = chars.len().min(limit);
        let mut parts: Vec<String> = chars[..take].iter().map(char::to_string).collect();
        if let Some(last) = parts.last_mut().filter(|_| take < chars.len()) {
            last.extend(&chars[take..]);
        }
        return parts;
    }
    s.splitn(limit, sep).map(str::to_owned).collect()
}

fn indexed(parts: Vec<String>) -> Value {
    let map: BTreeMap<String, Value> = parts
        .into_iter()
        .enumerate()
        .map(|(i, p)| (format!("_{i}"), text(p)))
        .collect();
    Value::map(map)
}

fn split(a: Args) -> Result<Value, Error> {
    a.exact(2)?;
    Ok(indexed(go_split(a.str(1)?, a.str(0)?, -1)))
}

fn splitn(a: Args) -> Result<Value, Error> {
    a.exact(3)?;
    let (sep, n, s) = (a.str(0)?, a.int(1)?, a.str(2)?);
    Ok(indexed(go_split(s, sep, n)))
}

fn split_list(a: Args) -> Result<Value, Error> {
    a.exact(2)?;
    let parts = go_split(a.str(1)?, a.str(0)?, -1);
    Ok(Value::list(parts.into_iter().map(text).collect()))
}

/// Sprig's `strslice`: a list's non-nil elements as strings, nil as no strings, anything
/// else as the one string it prints as.
pub(crate) fn strslice(v: &Value) -> Vec<String> {
    match v {
        Value::List(items) => items
            .iter()
            .filter(|i| !matches!(i, Value::Nil))
            .map(strval)
            .collect(),
        Value::Nil => Vec::new(),
        other => vec![strval(other)],
    }
}

fn join(a: Args) -> Result<Value, Error> {
    a.exact(2)?;
    let sep = a.str(0)?;
    Ok(text(strslice(a.get(1)).join(sep)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn title_and_case_follow_go() {
        assert_eq!(
            title("hello wORLD foo_bar a-b 1st"),
            "Hello WORLD Foo_bar A-B 1st"
        );
        assert_eq!(untitle("Hello World"), "hello world");
        assert_eq!(swapcase("This Is A.Test"), "tHIS iS a.tEST");
        assert_eq!("ß".chars().map(go_upper).collect::<String>(), "ß");
    }

    #[test]
    fn nospace_walks_bytes() {
        assert_eq!(nospace("a b\tc"), "abc");
        assert_eq!(nospace("é"), "é");
        assert_eq!(nospace("é x"), "\u{c3}\u{a9}x");
    }

    #[test]
    fn abbreviate_like_goutils() {
        assert_eq!(abbreviate(b"hello world", 0, 5).unwrap(), "he...");
        assert_eq!(abbreviate(b"abcdefghijklmno", 5, 10).unwrap(), "...fghi...");
        assert_eq!(
            abbreviate(b"abcdefghijklmno", 12, 10).unwrap(),
            "...ijklmno"
        );
    }

    #[test]
    fn wrap_like_goutils() {
        assert_eq!(
            wrap_custom("hello world foo", 5, "", false),
            "hello\nworld\nfoo"
        );
        assert_eq!(wrap_custom("abcdefgh ij", 3, "", false), "abcdefgh\nij");
        assert_eq!(wrap_custom("abcdefgh ij", 3, "-", true), "abc-def-gh-ij");
    }

    #[test]
    fn split_like_go() {
        assert_eq!(go_split("a,b,c", ",", 2), vec!["a", "b,c"]);
        assert_eq!(go_split("abc", "", -1), vec!["a", "b", "c"]);
        assert_eq!(go_split("abc", "", 2), vec!["a", "bc"]);
        assert_eq!(go_split("", ",", -1), vec![""]);
        assert!(go_split("a", ",", 0).is_empty());
    }
}
