//! The library's modules import each other in one direction only: no cycle among the
//! top-level modules, nor among the files of one module directory. Read from the sources, so a
//! new `use crate::...` that points back up fails here with the loop it closes.
//!
//! The stages of a render also import in their order only ([`STAGES`]).
//!
//! What counts: `crate::` and `super::` paths in code, outside comments and `#[cfg(test)]`
//! modules (tests may reach anywhere). `crate::Error` is left out: it gathers every stage's
//! typed error for the binary, so each stage returning it is not a dependency on the others.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Module directories whose files still import each other, with why they are allowed to.
const KNOWN_CYCLES: &[(&str, &str)] = &[(
    "chart",
    "lock, resolve and source are being separated into the chart source seam",
)];

type Graph = BTreeMap<Vec<String>, BTreeSet<Vec<String>>>;

#[test]
fn top_level_modules_have_no_import_cycle() {
    let graph = graph(1);
    let pipeline = graph
        .get(&vec!["pipeline".to_owned()])
        .expect("pipeline imports");
    assert!(
        pipeline.contains(&vec!["render".to_owned()]),
        "{pipeline:?}"
    );
    let cycles = cycles(&graph);
    assert!(cycles.is_empty(), "import cycles: {}", show(&cycles));
}

/// The stages of one render, in order, by their modules. A stage reads what earlier stages
/// produced and never names a later one; `pipeline` alone drives them all.
/// `chart` sits with resolve: a chart reference is parsed while planning (`chart::source`),
/// and fetching it while preparing needs no stage either.
const STAGES: &[&[&str]] = &[
    &["context", "config", "tenant", "chart", "plan"],
    &["values"],
    &["render"],
    &["post_render"],
    &["render_cache", "pipeline"],
];

#[test]
fn stages_never_import_a_later_stage() {
    let graph = graph(1);
    let stage_of = |module: &str| STAGES.iter().position(|s| s.contains(&module));
    let mut upward = Vec::new();
    for (from, targets) in &graph {
        let Some(from_stage) = stage_of(&from[0]) else {
            continue;
        };
        for to in targets {
            if stage_of(&to[0]).is_some_and(|to_stage| to_stage > from_stage) {
                upward.push(format!("{} → {}", from[0], to[0]));
            }
        }
    }
    assert!(upward.is_empty(), "a stage imports a later one: {upward:?}");
    for module in STAGES.iter().flat_map(|s| s.iter()) {
        let edges = graph.get(&vec![(*module).to_owned()]);
        assert!(
            edges.is_none_or(|e| !e.contains(&vec!["argocd".to_owned()])),
            "{module} imports the Argo CD edge"
        );
    }
}

#[test]
fn files_of_a_module_have_no_import_cycle() {
    let graph = graph(2);
    let cycles: Vec<Vec<Vec<String>>> = cycles(&graph)
        .into_iter()
        .filter(|c| !KNOWN_CYCLES.iter().any(|(m, _)| c[0][0] == *m))
        .collect();
    assert!(cycles.is_empty(), "import cycles: {}", show(&cycles));
}

#[test]
fn the_reader_sees_a_cycle_when_there_is_one() {
    let a = strip(
        "use crate::b::X;\n// use crate::c;\n#[cfg(test)]\nmod tests {\n    use crate::d;\n}\n",
    );
    assert_eq!(
        targets(&a, &["a".into()]),
        BTreeSet::from([vec!["b".to_owned(), "X".to_owned()]])
    );
    let grouped = targets(
        "use crate::{b::{self, Y}, c};\nsuper::e::f();",
        &["m".into(), "n".into()],
    );
    assert!(
        grouped.contains(&vec!["b".to_owned(), "self".to_owned()]),
        "{grouped:?}"
    );
    assert!(grouped.contains(&vec!["c".to_owned()]), "{grouped:?}");
    assert!(
        grouped.contains(&vec!["m".to_owned(), "e".to_owned(), "f".to_owned()]),
        "{grouped:?}"
    );
    let key = |s: &str| vec![s.to_owned()];
    let graph = Graph::from([
        (key("a"), BTreeSet::from([key("b")])),
        (key("b"), BTreeSet::from([key("c")])),
        (key("c"), BTreeSet::from([key("a")])),
        (key("d"), BTreeSet::from([key("a")])),
    ]);
    assert_eq!(cycles(&graph), vec![vec![key("a"), key("b"), key("c")]]);
}

fn show(cycles: &[Vec<Vec<String>>]) -> String {
    cycles
        .iter()
        .map(|c| {
            c.iter()
                .map(|m| m.join("::"))
                .collect::<Vec<_>>()
                .join(" ↔ ")
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Module-to-module imports, each module cut to its first `depth` path segments; an import
/// that leaves the top-level module is cut to that module at any depth.
fn graph(depth: usize) -> Graph {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut graph = Graph::new();
    for file in rust_files(&src) {
        let module = module_of(&src, &file);
        if module.is_empty() || module == ["main"] || module[0] == "commands" {
            continue;
        }
        let code = strip(&std::fs::read_to_string(&file).unwrap());
        let from: Vec<String> = module.iter().take(depth).cloned().collect();
        for target in targets(&code, &module) {
            if target[0] == "Error" {
                continue;
            }
            let to: Vec<String> = if target[0] == from[0] {
                target.iter().take(depth).cloned().collect()
            } else {
                target[..1].to_vec()
            };
            if to != from && (to.len() == from.len() || to[0] != from[0]) {
                graph.entry(from.clone()).or_default().insert(to);
            }
        }
    }
    graph
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

/// `src/a/b.rs` and `src/a/b/mod.rs` are `["a", "b"]`; lib.rs is `[]`.
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    parts
}

/// The code without comments, string and character literals, and `#[cfg(test)] mod` blocks.
fn strip(text: &str) -> String {
    let mut code = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '/' if chars.peek() == Some(&'/') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        code.push('\n');
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                let mut last = ' ';
                for c in chars.by_ref() {
                    if last == '*' && c == '/' {
                        break;
                    }
                    last = c;
                }
            }
            '"' => {
                let mut escaped = false;
                for c in chars.by_ref() {
                    if !escaped && c == '"' {
                        break;
                    }
                    escaped = !escaped && c == '\\';
                }
                code.push_str("\"\"");
            }
            // A character literal ('{', '\n'); a lifetime (`'a`) has no closing quote soon.
            '\'' => {
                let ahead: String = chars.clone().take(4).collect();
                match ahead.find('\'') {
                    Some(end) if end > 0 => {
                        chars.nth(end);
                    }
                    _ => code.push(c),
                }
            }
            _ => code.push(c),
        }
    }
    without_test_modules(&code)
}

fn without_test_modules(code: &str) -> String {
    let mut out = String::new();
    let mut rest = code;
    while let Some(at) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..at]);
        let after = &rest[at + "#[cfg(test)]".len()..];
        let item = after.trim_start();
        let is_module = item.starts_with("mod ") || item.starts_with("pub(crate) mod ");
        let open = after.find(['{', ';']).unwrap_or(after.len());
        if !is_module || after[open..].starts_with(';') {
            rest = after;
            continue;
        }
        let mut depth = 0;
        let mut end = after.len();
        for (i, c) in after[open..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                _ => {}
            }
            if depth == 0 {
                end = open + i + 1;
                break;
            }
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

/// Every path that starts at `crate::` or `super::`, as absolute segments; a group
/// (`crate::{a, b::c}`) gives one path per member.
fn targets(code: &str, module: &[String]) -> BTreeSet<Vec<String>> {
    let mut out = BTreeSet::new();
    for (start, base) in [("crate::", Vec::new()), ("super::", parent(module))] {
        let mut from = 0;
        while let Some(at) = code[from..].find(start) {
            let begin = from + at;
            from = begin + start.len();
            let before = code[..begin].chars().next_back();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            paths(&code[from..], base.clone(), &mut out);
        }
    }
    out
}

/// The module a `super::` in `module` names; a file's own module is its path, so its parent
/// is one segment up.
fn parent(module: &[String]) -> Vec<String> {
    module[..module.len().saturating_sub(1)].to_vec()
}

/// Reads `a::b::{c, d::e}` from the start of `text` onto `prefix`.
fn paths(text: &str, prefix: Vec<String>, out: &mut BTreeSet<Vec<String>>) {
    let mut path = prefix;
    let mut rest = text;
    loop {
        if let Some(group) = rest.strip_prefix('{') {
            for member in split_group(group) {
                paths(member.trim(), path.clone(), out);
            }
            return;
        }
        let len = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        if len > 0 {
            path.push(rest[..len].to_owned());
            rest = &rest[len..];
        }
        if let Some(after) = rest.strip_prefix("::") {
            rest = after;
            continue;
        }
        break;
    }
    if !path.is_empty() {
        out.insert(path);
    }
}

/// The top-level members of a `{...}` group, the opening brace already read.
fn split_group(text: &str) -> Vec<&str> {
    let mut members = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => {
                members.push(&text[start..i]);
                break;
            }
            '}' => depth -= 1,
            ',' if depth == 0 => {
                members.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    members
}

/// The strongly connected components with more than one module, each sorted, in order.
fn cycles(graph: &Graph) -> Vec<Vec<Vec<String>>> {
    let nodes: BTreeSet<&Vec<String>> = graph
        .iter()
        .flat_map(|(from, to)| std::iter::once(from).chain(to))
        .collect();
    let reach = |start: &Vec<String>| {
        let mut seen = BTreeSet::new();
        let mut todo = vec![start.clone()];
        while let Some(node) = todo.pop() {
            for next in graph.get(&node).into_iter().flatten() {
                if seen.insert(next.clone()) {
                    todo.push(next.clone());
                }
            }
        }
        seen
    };
    let reachable: BTreeMap<&Vec<String>, BTreeSet<Vec<String>>> =
        nodes.iter().map(|n| (*n, reach(n))).collect();
    let mut out: Vec<Vec<Vec<String>>> = Vec::new();
    for node in &nodes {
        if out.iter().any(|c| c.contains(node)) {
            continue;
        }
        let component: Vec<Vec<String>> = nodes
            .iter()
            .filter(|other| {
                *other == node
                    || reachable[*node].contains(**other) && reachable[*other].contains(*node)
            })
            .map(|n| (*n).clone())
            .collect();
        if component.len() > 1 {
            out.push(component);
        }
    }
    out
}
