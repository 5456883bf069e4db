//! Just enough URL handling for chart sources: split, compare origins, resolve a relative
//! archive URL against its repository, and print a URL without its secrets.
//!
//! A full URL crate would be more than these few operations need, and keeping them here makes
//! the rules we rely on (default ports, what counts as "the same host") explicit.

/// The parts of an absolute URL (`scheme://[userinfo@]host[:port][/path][?query]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlParts {
    /// Lower-cased.
    pub scheme: String,
    /// `user[:password]`, never printed.
    pub userinfo: Option<String>,
    /// Lower-cased; an IPv6 literal keeps its brackets.
    pub host: String,
    pub port: Option<u16>,
    /// Empty or starting with `/`.
    pub path: String,
    pub query: Option<String>,
}

impl UrlParts {
    /// Parses an absolute URL; `None` when there is no `scheme://` or no host.
    pub fn parse(url: &str) -> Option<UrlParts> {
        let (scheme, rest) = url.split_once("://")?;
        let scheme_ok = scheme
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
        if !scheme_ok {
            return None;
        }
        let rest = rest.split('#').next().unwrap_or_default();
        let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(authority_end);
        let (path, query) = match tail.split_once('?') {
            Some((p, q)) => (p, Some(q.to_owned())),
            None => (tail, None),
        };
        // The last `@` ends the userinfo: passwords may contain `@` when badly escaped.
        let (userinfo, hostport) = match authority.rfind('@') {
            Some(at) => (Some(authority[..at].to_owned()), &authority[at + 1..]),
            None => (None, authority),
        };
        let (host, port) = split_host_port(hostport)?;
        if host.is_empty() {
            return None;
        }
        Some(UrlParts {
            scheme: scheme.to_ascii_lowercase(),
            userinfo,
            host: host.to_ascii_lowercase(),
            port,
            path: path.to_owned(),
            query,
        })
    }

    /// The explicit port, else the scheme's default (`oci://` talks HTTPS).
    pub fn effective_port(&self) -> Option<u16> {
        self.port.or(default_port(&self.scheme))
    }

    /// Same scheme, host and port: the rule for "may this URL see that URL's credentials".
    pub fn same_origin(&self, other: &UrlParts) -> bool {
        self.scheme == other.scheme
            && self.host == other.host
            && self.effective_port() == other.effective_port()
    }

    /// `host` or `host:port` as written (port only when explicit).
    pub fn authority(&self) -> String {
        match self.port {
            Some(p) => format!("{}:{p}", self.host),
            None => self.host.clone(),
        }
    }

    /// The URL without userinfo, with the query (it may hold a token, as signed URLs do).
    pub fn without_userinfo(&self) -> String {
        let mut out = format!("{}://{}{}", self.scheme, self.authority(), self.path);
        if let Some(q) = &self.query {
            out.push('?');
            out.push_str(q);
        }
        out
    }
}

/// The port a scheme implies when none is written (`oci://` talks HTTPS).
pub fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" => Some(80),
        "https" | "oci" => Some(443),
        _ => None,
    }
}

fn split_host_port(hostport: &str) -> Option<(&str, Option<u16>)> {
    if let Some(rest) = hostport.strip_prefix('[') {
        let close = rest.find(']')?;
        let host = &hostport[..close + 2];
        return match &rest[close + 1..] {
            "" => Some((host, None)),
            p => Some((host, Some(p.strip_prefix(':')?.parse().ok()?))),
        };
    }
    match hostport.rsplit_once(':') {
        Some((h, "")) => Some((h, None)),
        Some((h, p)) => Some((h, Some(p.parse().ok()?))),
        None => Some((hostport, None)),
    }
}

/// A URL safe to print: no userinfo, no query (signed URLs carry tokens there).
///
/// Text that does not parse as a URL is handled without trusting its shape: everything up to
/// the last `@` after the scheme is dropped (a password may hold `/`, `?`, `#` or spaces, which
/// end an authority for a parser but not for whoever wrote the URL), and the rest is cut at its
/// first `?` or `#`.
pub fn redact(url: &str) -> String {
    match UrlParts::parse(url) {
        Some(mut u) if !u.host.contains(['@', ' ']) && !u.path.contains('@') => {
            let had_query = u.query.take().is_some();
            u.userinfo = None;
            let mut out = u.without_userinfo();
            if had_query {
                out.push_str("?…");
            }
            out
        }
        _ => redact_unparsed(url),
    }
}

/// The conservative fallback of [`redact`]: never depends on where a parser would end the
/// authority.
fn redact_unparsed(url: &str) -> String {
    let (scheme, rest) = match url.split_once("://") {
        Some((scheme, rest)) => (Some(scheme), rest),
        None => (None, url),
    };
    let mut out = String::new();
    if let Some(scheme) = scheme {
        out.push_str(scheme);
        out.push_str("://");
    }
    let rest = match rest.rfind('@') {
        Some(at) => {
            out.push('…');
            out.push('@');
            &rest[at + 1..]
        }
        None => rest,
    };
    let cut = rest.find(['?', '#']).unwrap_or(rest.len());
    out.push_str(&rest[..cut]);
    if cut < rest.len() {
        out.push('…');
    }
    out
}

/// Free text (an error message, a log line) with the userinfo of every URL in it removed.
///
/// The safety net behind every message strata prints: a URL is found by its `://`, and its
/// userinfo is everything from there to the last `@` before the next whitespace, quote, `<`,
/// `>` or the next `://`. What looks like userinfo is replaced by `…@`, so the reader still
/// sees that credentials were there.
pub fn redact_text(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains("://") {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find("://") {
        let (head, tail) = rest.split_at(pos + 3);
        out.push_str(head);
        let end = tail
            .find(|c: char| c.is_whitespace() || "\"'`<>".contains(c))
            .unwrap_or(tail.len());
        let token_end = tail[..end].find("://").unwrap_or(end);
        let token = &tail[..token_end];
        match token.rfind('@') {
            Some(at) => {
                out.push_str("…@");
                rest = &tail[at + 1..];
            }
            None => rest = tail,
        }
        // Copy up to the next URL candidate unchanged.
        let next = rest.find("://").map_or(rest.len(), |p| {
            // Back up to the start of the scheme so it is copied with its `://`.
            rest[..p]
                .rfind(|c: char| !(c.is_ascii_alphanumeric() || "+-.".contains(c)))
                .map_or(0, |i| i + 1)
        });
        out.push_str(&rest[..next]);
        rest = &rest[next..];
    }
    out.push_str(rest);
    std::borrow::Cow::Owned(out)
}

/// Resolves an archive URL from an index against the repository URL, the way browsers and
/// Helm do (RFC 3986), with the repository URL taken as a directory: `charts/a-1.0.tgz` in
/// the index of `https://h/repo` is `https://h/repo/charts/a-1.0.tgz`.
pub fn resolve(base: &str, reference: &str) -> String {
    let reference = reference.trim();
    if UrlParts::parse(reference).is_some() {
        return reference.to_owned();
    }
    let Some(base) = UrlParts::parse(base) else {
        return reference.to_owned();
    };
    let origin = format!("{}://{}", base.scheme, base.authority());
    if let Some(rest) = reference.strip_prefix("//") {
        return format!("{}://{rest}", base.scheme);
    }
    let (ref_path, ref_query) = match reference.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (reference, None),
    };
    let path = if ref_path.starts_with('/') {
        remove_dot_segments(ref_path)
    } else if ref_path.is_empty() {
        base.path.clone()
    } else {
        let dir = if base.path.ends_with('/') {
            base.path.clone()
        } else {
            format!("{}/", base.path)
        };
        remove_dot_segments(&format!("{dir}{ref_path}"))
    };
    let mut out = format!("{origin}{path}");
    if let Some(q) = ref_query.or(base.query.as_deref().filter(|_| ref_path.is_empty())) {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// RFC 3986 §5.2.4 on an absolute path.
fn remove_dot_segments(path: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    for (i, seg) in segments.iter().enumerate() {
        let last = i + 1 == segments.len();
        match *seg {
            "." => {
                if last {
                    out.push("");
                }
            }
            ".." => {
                out.pop();
                if last {
                    out.push("");
                }
            }
            s => out.push(s),
        }
    }
    format!("/{}", out.join("/"))
}

/// Percent-encodes a query or form value: everything but RFC 3986 unreserved characters
/// (a space becomes `%20`, which every query and form decoder reads).
pub fn encode_component(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_parts() {
        let u = UrlParts::parse("HTTPS://User:p@ss@Charts.Example.com:8443/a/b?x=1#frag").unwrap();
        assert_eq!(u.scheme, "https");
        assert_eq!(u.userinfo.as_deref(), Some("User:p@ss"));
        assert_eq!(u.host, "charts.example.com");
        assert_eq!(u.port, Some(8443));
        assert_eq!(u.path, "/a/b");
        assert_eq!(u.query.as_deref(), Some("x=1"));
        let v6 = UrlParts::parse("oci://[::1]:5000/charts").unwrap();
        assert_eq!((v6.host.as_str(), v6.port), ("[::1]", Some(5000)));
        assert!(UrlParts::parse("charts.example.com/x").is_none());
        assert!(UrlParts::parse("https:///x").is_none());
    }

    #[test]
    fn origins_use_default_ports() {
        let a = UrlParts::parse("https://h/x").unwrap();
        assert!(a.same_origin(&UrlParts::parse("https://H:443/y").unwrap()));
        assert!(!a.same_origin(&UrlParts::parse("http://h/y").unwrap()));
        assert!(!a.same_origin(&UrlParts::parse("https://h:8443/y").unwrap()));
        assert!(!a.same_origin(&UrlParts::parse("https://other/y").unwrap()));
    }

    #[test]
    fn redacts_userinfo_and_query() {
        assert_eq!(
            redact("https://u:secret@h/repo/index.yaml?token=abc"),
            "https://h/repo/index.yaml?…"
        );
        assert_eq!(redact("not a url u:secret@h"), "…@h");
    }

    #[test]
    fn redaction_does_not_depend_on_parsing() {
        for (url, secret) in [
            ("http://u:pa/ss@h/x", "pa/ss"),
            ("http://u:p?ss@h/x", "p?ss"),
            ("http://u:p#ss@h/x", "p#ss"),
            ("http://u:p ss@h/x", "p ss"),
            ("http://u:p@s@s@h/x", "p@s@s"),
            ("https://u:pw:9x@h:notaport/x", "pw:9x"),
            ("u:s3cr/t@h/x", "s3cr/t"),
            ("oci://u:s3cr[t@[::1/x", "s3cr[t"),
            ("http://:tok/en@", "tok/en"),
        ] {
            let shown = redact(url);
            assert!(!shown.contains(secret), "{url} → {shown}");
        }
        assert_eq!(redact("http://u:pa/ss@h/x"), "http://…@h/x");
        assert_eq!(redact("http://h/x?sig=abc"), "http://h/x?…");
    }

    #[test]
    fn redacts_every_url_in_free_text() {
        let text = "chart repository \"http://ci:PW@host/charts\" and oci://u:p/w@r:5000/c, then https://ok/x: done; git@host:repo";
        let shown = redact_text(text);
        assert_eq!(
            shown,
            "chart repository \"http://…@host/charts\" and oci://…@r:5000/c, then https://ok/x: done; git@host:repo"
        );
        assert_eq!(redact_text("no urls @ all"), "no urls @ all");
        assert_eq!(
            redact_text("a http://x@y b http://u:v@w"),
            "a http://…@y b http://…@w"
        );
    }

    #[test]
    fn resolves_like_rfc3986_with_the_repo_as_a_directory() {
        let base = "https://h/charts";
        assert_eq!(resolve(base, "a-1.0.tgz"), "https://h/charts/a-1.0.tgz");
        assert_eq!(
            resolve("https://h/charts/", "a-1.0.tgz"),
            "https://h/charts/a-1.0.tgz"
        );
        assert_eq!(resolve(base, "sub/a.tgz"), "https://h/charts/sub/a.tgz");
        assert_eq!(resolve(base, "./a.tgz"), "https://h/charts/a.tgz");
        assert_eq!(resolve(base, "../other/a.tgz"), "https://h/other/a.tgz");
        assert_eq!(resolve(base, "/abs/a.tgz"), "https://h/abs/a.tgz");
        assert_eq!(resolve(base, "//cdn/a.tgz"), "https://cdn/a.tgz");
        assert_eq!(resolve(base, "https://x/a.tgz"), "https://x/a.tgz");
        assert_eq!(resolve("https://h:8443", "a.tgz"), "https://h:8443/a.tgz");
        assert_eq!(resolve(base, "a.tgz?sig=1"), "https://h/charts/a.tgz?sig=1");
    }
}
