//! Helm values as a tree that remembers, for every node, the layer and line that set it.
//!
//! Layers are merged with Helm's `-f` rule ([`merge`]); the result goes to helm as one JSON file
//! ([`Node::to_json`]), and the same tree answers `strata explain` ([`explain`]).

pub mod defaults;
pub mod explain;
pub mod layer;
pub mod merge;
pub mod parameters;
pub mod template;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// Where a value came from: a layer file (with its line) or an Argo CD parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// Repository-relative file path, or a description such as `Argo CD parameter "values"`.
    pub source: Arc<str>,
    /// 1-based; 0 when the source has no lines (a map parameter).
    pub line: u32,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(f, "{}:{}", self.source, self.line)
        } else {
            f.write_str(&self.source)
        }
    }
}

/// A node of a values tree. Maps are the only thing Helm merges, so only maps carry per-child
/// provenance; lists and scalars are replaced whole and are leaves.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub origin: Origin,
    pub kind: NodeKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    Map(BTreeMap<String, Node>),
    Leaf(serde_json::Value),
}

impl Node {
    pub fn empty_map(origin: Origin) -> Node {
        Node {
            origin,
            kind: NodeKind::Map(BTreeMap::new()),
        }
    }

    /// The plain JSON value helm receives. Keys come out sorted, which is also how Go prints maps.
    pub fn to_json(&self) -> serde_json::Value {
        match &self.kind {
            NodeKind::Leaf(v) => v.clone(),
            NodeKind::Map(m) => {
                serde_json::Value::Object(m.iter().map(|(k, n)| (k.clone(), n.to_json())).collect())
            }
        }
    }

    /// Follows a dotted path (`image.tag`) through maps.
    pub fn get(&self, path: &[String]) -> Option<&Node> {
        let mut node = self;
        for segment in path {
            match &node.kind {
                NodeKind::Map(m) => node = m.get(segment)?,
                NodeKind::Leaf(_) => return None,
            }
        }
        Some(node)
    }
}

/// The JSON file handed to `helm template -f`. Helm reads it with its YAML reader, which
/// refuses raw U+007F–U+009F (except U+0085), U+FFFE and U+FFFF, and turns a raw U+0085,
/// U+2028 or U+2029 inside a string into a line break; such characters are written as `\uXXXX`
/// escapes so helm reads back exactly the string strata merged. The output stays valid JSON.
pub fn to_helm_json(value: &serde_json::Value) -> Vec<u8> {
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut out, HelmSafeJson);
    serde::Serialize::serialize(value, &mut ser).expect("JSON values serialize");
    out
}

struct HelmSafeJson;

impl serde_json::ser::Formatter for HelmSafeJson {
    fn write_string_fragment<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            if matches!(
                c as u32,
                0x7f..=0x9f | 0x2028 | 0x2029 | 0xfeff | 0xfffe | 0xffff
            ) {
                writer.write_all(&fragment.as_bytes()[start..i])?;
                write!(writer, "\\u{:04x}", c as u32)?;
                start = i + c.len_utf8();
            }
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }
}

/// Splits `a.b.c` into segments; `\.` keeps a literal dot inside a key (as in `helm --set`).
pub fn split_key_path(path: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut chars = path.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'.') => {
                chars.next();
                out.last_mut().expect("non-empty").push('.');
            }
            '.' => out.push(String::new()),
            c => out.last_mut().expect("non-empty").push(c),
        }
    }
    out.retain(|s| !s.is_empty());
    out
}

/// A values layer that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ValuesError {
    #[error("{source_name}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
    Syntax {
        source_name: Arc<str>,
        line: Option<u32>,
        message: String,
    },
    #[error(
        "{source_name}: the key {key:?} has {segments} dotted parts; at most {max} are accepted \
         (helm --set accepts {max} too); shorten the path or use the valuesYaml parameter"
    )]
    KeyTooDeep {
        source_name: Arc<str>,
        key: String,
        segments: usize,
        max: usize,
    },
    #[error(
        "{source_name}:{line}: the top level of a values file must be a map of keys, not {found}"
    )]
    NotAMap {
        source_name: Arc<str>,
        line: u32,
        found: &'static str,
    },
    /// A templated layer (`*.tmpl`) that cannot be rendered.
    #[error("{source_name}: {error}")]
    Template {
        source_name: Arc<str>,
        error: template::TemplateLayerError,
    },
}
