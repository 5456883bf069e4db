//! Go's `path` functions (and `filepath`'s, which are the same on Linux, where Helm runs):
//! slash-separated, lexical, no file system access.

use super::{def, text};
use crate::{FuncMap, Value};

pub(crate) fn register(m: &mut FuncMap) {
    for (name, f) in [
        ("base", base as fn(&str) -> String),
        ("dir", dir),
        ("clean", clean),
        ("ext", |p: &str| ext(p).to_owned()),
        ("osBase", base),
        ("osDir", dir),
        ("osClean", clean),
        ("osExt", |p: &str| ext(p).to_owned()),
    ] {
        super::def_boxed(m, name, move |a| {
            a.exact(1)?;
            Ok(text(f(a.str(0)?)))
        });
    }
    def(m, "isAbs", |a| {
        a.exact(1)?;
        Ok(Value::Bool(a.str(0)?.starts_with('/')))
    });
    def(m, "osIsAbs", |a| {
        a.exact(1)?;
        Ok(Value::Bool(a.str(0)?.starts_with('/')))
    });
}

/// `path.Clean`: one slash between elements, no `.`, `..` resolved lexically, no trailing
/// slash; `.` for an empty result.
pub(crate) fn clean(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let rooted = p.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in p.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|l| *l != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

/// `path.Base`: the last element, trailing slashes ignored; `.` for "", `/` for only slashes.
fn base(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let trimmed = p.trim_end_matches('/');
    if trimmed.is_empty() {
        return "/".into();
    }
    trimmed.rsplit('/').next().unwrap_or(trimmed).to_owned()
}

/// `path.Dir`: everything before the last slash, cleaned.
fn dir(p: &str) -> String {
    let cut = p.rfind('/').map(|i| i + 1).unwrap_or(0);
    clean(&p[..cut])
}

/// `path.Ext`: from the last dot of the last element, or "".
fn ext(p: &str) -> &str {
    for (i, b) in p.bytes().enumerate().rev() {
        match b {
            b'/' => return "",
            b'.' => return &p[i..],
            _ => {}
        }
    }
    ""
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_like_go() {
        assert_eq!(clean("a//b/./c/../d/"), "a/b/d");
        assert_eq!(clean("/../a"), "/a");
        assert_eq!(clean("../../a"), "../../a");
        assert_eq!(clean(""), ".");
        assert_eq!(base("/a/b/"), "b");
        assert_eq!(base("///"), "/");
        assert_eq!(dir("/a/b"), "/a");
        assert_eq!(dir("a"), ".");
        assert_eq!(ext("a/b.tar.gz"), ".gz");
        assert_eq!(ext("a.b/c"), "");
    }
}
