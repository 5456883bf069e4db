//! No production function is longer than [`MAX_LINES`] unless a comment right above it says
//! why (a line starting with `// Long:`): a long function in the middle of the pipeline is
//! where the next change goes wrong. Tests (`#[cfg(test)]` modules) are not counted.

use std::path::{Path, PathBuf};

const MAX_LINES: usize = 80;
/// What a comment above a function starts with to explain its length.
const REASON: &str = "// Long:";

#[test]
fn production_functions_are_short_or_say_why() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut long = Vec::new();
    for file in rust_files(&src) {
        let rel = file.strip_prefix(&src).unwrap().display().to_string();
        let text = std::fs::read_to_string(&file).unwrap();
        for (line, name, len) in long_functions(&text) {
            long.push(format!("{rel}:{line} {name} ({len} lines)"));
        }
    }
    assert!(
        long.is_empty(),
        "functions over {MAX_LINES} lines without a `{REASON}` comment: {long:#?}"
    );
}

#[test]
fn the_counter_measures_bodies_and_honours_reasons() {
    let body = |n: usize| "    let x = 1;\n".repeat(n);
    let text = format!(
        "fn short() {{\n{}}}\n\nfn long() {{\n{}}}\n\n// Long: one match over every kind.\nfn explained() {{\n{}}}\n\ntrait T {{\n    fn declared(&self);\n}}\n\n#[cfg(test)]\nmod tests {{\n    fn in_tests() {{\n{}    }}\n}}\n",
        body(10),
        body(MAX_LINES),
        body(MAX_LINES),
        body(MAX_LINES)
    );
    assert_eq!(
        long_functions(&text),
        vec![(14, "long".to_owned(), MAX_LINES + 2)]
    );
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out
}

/// Functions longer than [`MAX_LINES`] (signature to closing brace, as rustfmt lays them
/// out) with no reason above them: (1-based line, name, length). A file's test module, which
/// follows its production code, ends the count.
fn long_functions(text: &str) -> Vec<(usize, String, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    let end = (0..lines.len())
        .find(|&i| {
            lines[i].trim() == "#[cfg(test)]"
                && lines
                    .get(i + 1)
                    .is_some_and(|l| l.trim_start().starts_with("mod "))
        })
        .unwrap_or(lines.len());
    let mut out = Vec::new();
    let mut i = 0;
    while i < end {
        let Some(name) = fn_name(lines[i]) else {
            i += 1;
            continue;
        };
        let indent = lines[i].len() - lines[i].trim_start().len();
        let Some(open) = (i..end).find(|&j| lines[j].contains('{') || lines[j].ends_with(';'))
        else {
            break;
        };
        if !lines[open].contains('{') {
            i = open + 1;
            continue;
        }
        let close = (open..end)
            .find(|&j| {
                lines[j].starts_with('}') && indent == 0
                    || lines[j].len() > indent
                        && lines[j][..indent].trim().is_empty()
                        && lines[j][indent..].starts_with('}')
            })
            .unwrap_or(end - 1);
        let len = close - i + 1;
        if len > MAX_LINES && !has_reason(&lines[..i]) {
            out.push((i + 1, name, len));
        }
        i = close + 1;
    }
    out
}

/// The name of a function declared on this line, if one is.
fn fn_name(line: &str) -> Option<String> {
    let mut rest = line.trim_start();
    for prefix in [
        "pub(crate) ",
        "pub(super) ",
        "pub ",
        "const ",
        "async ",
        "unsafe ",
    ] {
        rest = rest.strip_prefix(prefix).unwrap_or(rest);
    }
    let rest = rest.strip_prefix("fn ")?;
    let len = rest.find(|c: char| !(c.is_alphanumeric() || c == '_'))?;
    Some(rest[..len].to_owned())
}

/// Whether the comment and attribute lines right above a function give a reason.
fn has_reason(above: &[&str]) -> bool {
    above
        .iter()
        .rev()
        .map(|l| l.trim())
        .take_while(|l| l.starts_with("//") || l.starts_with("#["))
        .any(|l| l.starts_with(REASON))
}
