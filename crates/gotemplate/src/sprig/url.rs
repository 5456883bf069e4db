//! Sprig's `urlParse` and `urlJoin`, which are Go's `net/url` `Parse` and `URL.String`: the
//! parts a chart reads (`scheme`, `host`, `hostname`, `path`, `query`, `opaque`, `fragment`,
//! `userinfo`) come out percent-decoded where Go decodes them, and are re-escaped with Go's
//! per-component rules when joined.

use super::args::Args;
use super::conv::go_quote;
use super::{def, text};
use crate::{Error, FuncMap, Value};
use std::collections::BTreeMap;

pub(crate) fn register(m: &mut FuncMap) {
    def(m, "urlParse", url_parse);
    def(m, "urlJoin", url_join);
}

/// Which part of a URL a string is, for Go's escaping rules.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Part {
    Path,
    Host,
    UserPassword,
    Fragment,
}

fn should_escape(c: u8, part: Part) -> bool {
    if c.is_ascii_alphanumeric() {
        return false;
    }
    if part == Part::Host && b"!$&'()*+,;=:[]<>\"".contains(&c) {
        return false;
    }
    match c {
        b'-' | b'_' | b'.' | b'~' => false,
        b'$' | b'&' | b'+' | b',' | b'/' | b':' | b';' | b'=' | b'?' | b'@' => match part {
            Part::Path => c == b'?',
            Part::UserPassword => matches!(c, b'@' | b'/' | b'?' | b':'),
            Part::Fragment => false,
            Part::Host => true,
        },
        b'!' | b'(' | b')' | b'*' if part == Part::Fragment => false,
        _ => true,
    }
}

fn escape(s: &str, part: Part) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if should_escape(b, part) {
            out.push_str(&format!("%{b:02X}"));
        } else {
            out.push(b as char);
        }
    }
    out
}

/// Percent-decoding with Go's checks; the error is Go's message.
fn unescape(s: &str, part: Part) -> Result<String, String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let hex = |j: usize| b.get(j).and_then(|c| (*c as char).to_digit(16));
                let (Some(hi), Some(lo)) = (hex(i + 1), hex(i + 2)) else {
                    let bad = &s[i..(i + 3).min(s.len())];
                    return Err(format!("invalid URL escape {}", go_quote(bad)));
                };
                if part == Part::Host && hi < 8 && &s[i..i + 3] != "%25" {
                    return Err(format!("invalid URL escape {}", go_quote(&s[i..i + 3])));
                }
                out.push((hi * 16 + lo) as u8);
                i += 3;
            }
            c => {
                if part == Part::Host && c < 0x80 && should_escape(c, part) {
                    return Err(format!(
                        "invalid character {} in host name",
                        go_quote(&s[i..i + 1])
                    ));
                }
                out.push(c);
                i += 1;
            }
        }
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

fn valid_optional_port(port: &str) -> bool {
    port.is_empty()
        || port
            .strip_prefix(':')
            .is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit()))
}

/// The parts of a parsed URL that Sprig exposes.
#[derive(Default)]
struct Url {
    scheme: String,
    opaque: String,
    user: Option<(String, Option<String>)>,
    host: String,
    path: String,
    raw_query: String,
    force_query: bool,
    fragment: String,
}

fn user_string(user: &(String, Option<String>)) -> String {
    let mut s = escape(&user.0, Part::UserPassword);
    if let Some(password) = &user.1 {
        s.push(':');
        s.push_str(&escape(password, Part::UserPassword));
    }
    s
}

/// `url.Parse`.
fn parse(raw: &str) -> Result<Url, String> {
    let fail = |msg: String| format!("parse {}: {msg}", go_quote(raw));
    if raw.bytes().any(|b| b < 0x20 || b == 0x7f) {
        return Err(fail("net/url: invalid control character in URL".into()));
    }
    let (rest, frag) = raw.split_once('#').unwrap_or((raw, ""));
    let mut url = Url::default();
    let mut rest = rest.to_owned();
    if let Some(i) = scheme_end(&rest).map_err(|m| fail(m.into()))? {
        url.scheme = rest[..i].to_ascii_lowercase();
        rest = rest[i + 1..].to_owned();
    }
    if rest.ends_with('?') && rest.matches('?').count() == 1 {
        url.force_query = true;
        rest.pop();
    } else if let Some((r, q)) = rest.clone().split_once('?') {
        url.raw_query = q.to_owned();
        rest = r.to_owned();
    }
    if !rest.starts_with('/') {
        if !url.scheme.is_empty() {
            url.opaque = rest;
            url.fragment = unescape(frag, Part::Fragment).map_err(fail)?;
            return Ok(url);
        }
        if rest.split('/').next().is_some_and(|s| s.contains(':')) {
            return Err(fail(
                "first path segment in URL cannot contain colon".into(),
            ));
        }
    }
    if (!url.scheme.is_empty() || !rest.starts_with("///")) && rest.starts_with("//") {
        let after = &rest[2..];
        let (authority, path) = match after.find('/') {
            Some(i) => (&after[..i], &after[i..]),
            None => (after, ""),
        };
        parse_authority(&mut url, authority).map_err(fail)?;
        rest = path.to_owned();
    }
    url.path = unescape(&rest, Part::Path).map_err(fail)?;
    url.fragment = unescape(frag, Part::Fragment).map_err(fail)?;
    Ok(url)
}

/// Where a leading scheme ends (its `:`), `None` when there is none.
fn scheme_end(s: &str) -> Result<Option<usize>, &'static str> {
    for (i, c) in s.bytes().enumerate() {
        match c {
            b'a'..=b'z' | b'A'..=b'Z' => {}
            b'0'..=b'9' | b'+' | b'-' | b'.' if i > 0 => {}
            b':' if i == 0 => return Err("missing protocol scheme"),
            b':' => return Ok(Some(i)),
            _ => return Ok(None),
        }
    }
    Ok(None)
}

fn parse_authority(url: &mut Url, authority: &str) -> Result<(), String> {
    let (userinfo, host) = match authority.rfind('@') {
        Some(i) => (Some(&authority[..i]), &authority[i + 1..]),
        None => (None, authority),
    };
    url.host = parse_host(host)?;
    if let Some(info) = userinfo {
        let valid = info
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || b"-._:~!$&'()*+,;=%@".contains(&c));
        if !valid {
            return Err("net/url: invalid userinfo".into());
        }
        url.user = Some(match info.split_once(':') {
            Some((u, p)) => (
                unescape(u, Part::UserPassword)?,
                Some(unescape(p, Part::UserPassword)?),
            ),
            None => (unescape(info, Part::UserPassword)?, None),
        });
    }
    Ok(())
}

fn parse_host(host: &str) -> Result<String, String> {
    if host.starts_with('[') {
        let Some(i) = host.rfind(']') else {
            return Err("missing ']' in host".into());
        };
        let port = &host[i + 1..];
        if !valid_optional_port(port) {
            return Err(format!("invalid port {} after host", go_quote(port)));
        }
    } else if let Some(i) = host.rfind(':') {
        let port = &host[i..];
        if !valid_optional_port(port) {
            return Err(format!("invalid port {} after host", go_quote(port)));
        }
    }
    unescape(host, Part::Host)
}

/// `URL.Hostname`: the host without its port and IPv6 brackets.
fn hostname(host: &str) -> &str {
    let mut h = host;
    if let Some(i) = h.rfind(':').filter(|&i| valid_optional_port(&h[i..])) {
        h = &h[..i];
    }
    h.strip_prefix('[')
        .and_then(|x| x.strip_suffix(']'))
        .unwrap_or(h)
}

fn url_parse(a: Args) -> Result<Value, Error> {
    a.exact(1)?;
    let url = parse(a.str(0)?).map_err(|e| a.fail(format!("unable to parse url: {e}")))?;
    let mut d = BTreeMap::new();
    d.insert("scheme".to_owned(), text(url.scheme.as_str()));
    d.insert("host".to_owned(), text(url.host.as_str()));
    d.insert("hostname".to_owned(), text(hostname(&url.host)));
    d.insert("path".to_owned(), text(url.path.as_str()));
    d.insert("query".to_owned(), text(url.raw_query.as_str()));
    d.insert("opaque".to_owned(), text(url.opaque.as_str()));
    d.insert("fragment".to_owned(), text(url.fragment.as_str()));
    let userinfo = url.user.as_ref().map(user_string).unwrap_or_default();
    d.insert("userinfo".to_owned(), text(userinfo));
    Ok(Value::map(d))
}

/// `URL.String` of a URL built from the dict's string fields.
fn url_join(a: Args) -> Result<Value, Error> {
    a.exact(1)?;
    let map = a.map(0)?;
    let field = |key: &str| -> Result<String, Error> {
        match map.as_ref().and_then(|m| m.borrow().get(key).cloned()) {
            None => Ok(String::new()),
            Some(Value::String(s)) => Ok(s.to_string()),
            Some(other) => Err(a.fail(format!(
                "unable to parse {key} key, must be of type string, but {} found",
                other.kind_name()
            ))),
        }
    };
    let mut url = Url {
        scheme: field("scheme")?,
        host: field("host")?,
        path: field("path")?,
        raw_query: field("query")?,
        opaque: field("opaque")?,
        fragment: field("fragment")?,
        ..Url::default()
    };
    let userinfo = field("userinfo")?;
    if !userinfo.is_empty() {
        let parsed = parse(&format!("proto://{userinfo}@host"))
            .map_err(|e| a.fail(format!("unable to parse userinfo in dict: {e}")))?;
        url.user = parsed.user;
    }
    Ok(text(to_string(&url)))
}

fn to_string(u: &Url) -> String {
    let mut out = String::new();
    if !u.scheme.is_empty() {
        out.push_str(&u.scheme);
        out.push(':');
    }
    if !u.opaque.is_empty() {
        out.push_str(&u.opaque);
    } else {
        if !u.scheme.is_empty() || !u.host.is_empty() || u.user.is_some() {
            if !u.host.is_empty() || !u.path.is_empty() || u.user.is_some() {
                out.push_str("//");
            }
            if let Some(user) = &u.user {
                out.push_str(&user_string(user));
                out.push('@');
            }
            out.push_str(&escape(&u.host, Part::Host));
        }
        let path = escape(&u.path, Part::Path);
        if !path.is_empty() && !path.starts_with('/') && !u.host.is_empty() {
            out.push('/');
        }
        if out.is_empty() && path.split('/').next().is_some_and(|s| s.contains(':')) {
            out.push_str("./");
        }
        out.push_str(&path);
    }
    if u.force_query || !u.raw_query.is_empty() {
        out.push('?');
        out.push_str(&u.raw_query);
    }
    if !u.fragment.is_empty() {
        out.push('#');
        out.push_str(&escape(&u.fragment, Part::Fragment));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_join_like_net_url() {
        let u = parse("HTTPS://user:p%40ss@example.com:8443/a%20b/c?x=1&y=2#frag%21").unwrap();
        assert_eq!(u.scheme, "https");
        assert_eq!(u.host, "example.com:8443");
        assert_eq!(hostname(&u.host), "example.com");
        assert_eq!(u.path, "/a b/c");
        assert_eq!(u.raw_query, "x=1&y=2");
        assert_eq!(u.fragment, "frag!");
        assert_eq!(user_string(u.user.as_ref().unwrap()), "user:p%40ss");
        assert_eq!(
            to_string(&u),
            "https://user:p%40ss@example.com:8443/a%20b/c?x=1&y=2#frag!"
        );
        assert_eq!(parse("mailto:a@b").unwrap().opaque, "a@b");
        assert!(parse("http://x:port/").is_err());
        assert!(parse("%zz").is_err());
        assert!(parse(":x").is_err());
    }
}
