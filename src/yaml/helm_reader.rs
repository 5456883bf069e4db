//! Values files (and rendered manifests) read exactly as Helm (and Argo CD) read them: go-yaml
//! v2's composition and decoding rules, then `sigs.k8s.io/yaml`'s conversion to JSON.
//!
//! Helm's reader differs from every general-purpose YAML library in ways a chart can see: a
//! merge key (`<<`) overrides keys written before it, duplicate keys keep the last value also
//! inside merged anchors, non-string keys become strings (floats with 32-bit precision),
//! null and `uint64` keys are fatal, and alias expansion is capped by a ratio, not a count.
//! Only the low-level event parser is shared with the rest of strata; composition (anchors,
//! aliases, merge keys, duplicates) and typing ([`super::go_scalar`]) are ours, so each rule
//! is written once, here, next to the Helm behaviour it copies.
//!
//! The walk over the event stream is iterative; the decoder recurses once per nesting level,
//! which is capped at [`MAX_DEPTH`] (Helm's own limit).

use super::go_scalar::{self, Scalar};
use super::{GoMap, GoValue, RawKind, RawNode, YamlError};
use granit_parser::{Event, Parser, ScalarStyle, Span};
use std::collections::{HashMap, HashSet};

/// The deepest nesting Helm reads: its JSON decoder stops at 10000 levels (the top-level map
/// counts as one), and its YAML scanner at 10000 indentation or flow levels.
pub const MAX_DEPTH: usize = 10_000;

/// One node of the document as written (aliases not expanded).
#[derive(Debug)]
struct Written {
    line: u32,
    body: Body,
}

#[derive(Debug)]
enum Body {
    Scalar {
        value: String,
        plain: bool,
        tag: Option<String>,
    },
    Seq(Vec<usize>),
    Map(Vec<(usize, usize)>),
    Alias {
        target: usize,
        name: String,
    },
}

/// Reads every document of `text` and returns the decoded value of each, in order, with the
/// line each document starts on.
pub fn read_documents(text: &str) -> Result<Vec<(u32, RawNode)>, YamlError> {
    check_line_separators(text)?;
    decode_documents(text)?
        .into_iter()
        .map(|(line, value)| Ok((line, to_raw(value, line)?)))
        .collect()
}

/// Reads every document of a rendered manifest stream the way Argo CD reads helm's output
/// (the same go-yaml v2 rules, through `sigs.k8s.io/yaml`), one value per document in order;
/// an empty or comment-only document is [`GoValue::Null`]. Integers stay exact: Kubernetes
/// objects are not turned into float64 on their way to the cluster. A raw U+2028/U+2029 is
/// read as text here: helm has already parsed its own output, so it can only stand where
/// go-yaml keeps it as text (inside quotes).
pub fn read_go_documents(text: &str) -> Result<Vec<GoValue>, YamlError> {
    decode_documents(text)?
        .into_iter()
        .map(|(line, value)| to_go(value, line))
        .collect()
}

fn decode_documents(text: &str) -> Result<Vec<(u32, Decoded)>, YamlError> {
    // go-yaml reads a NEL (U+0085) as a line break everywhere, exactly like `\n` (it counts
    // lines the same way too); the event parser treats it as content.
    let normalized;
    let text = if text.contains('\u{85}') {
        normalized = text.replace('\u{85}', "\n");
        normalized.as_str()
    } else {
        text
    };
    let (nodes, roots) = compose(text)?;
    roots
        .into_iter()
        .map(|root| {
            let mut decoder = Decoder {
                nodes: &nodes,
                // go-yaml counts the document node itself.
                decode_count: 1,
                alias_count: 0,
                alias_depth: 0,
                active_aliases: HashSet::new(),
            };
            let line = nodes[root].line;
            Ok((line, decoder.decode(root, 0)?))
        })
        .collect()
}

/// U+2028/U+2029 are line breaks for go-yaml that it nevertheless keeps in some scalars; no
/// other reader agrees with it on where they end a line, so a raw one is refused. Written as
/// the escapes `\L`/`\P` inside double quotes they mean the same to everyone.
fn check_line_separators(text: &str) -> Result<(), YamlError> {
    match text.find(['\u{2028}', '\u{2029}']) {
        Some(at) => Err(YamlError {
            line: Some(line_of(text, at)),
            message: "a raw Unicode line or paragraph separator (U+2028/U+2029) is a line \
                      break for Helm's YAML reader; write it as \\L or \\P inside double quotes"
                .into(),
        }),
        None => Ok(()),
    }
}

fn line_of(text: &str, byte: usize) -> u32 {
    text[..byte].matches(['\n', '\u{85}']).count() as u32 + 1
}

fn line(span: &Span) -> u32 {
    span.start.line() as u32
}

fn parser_options() -> granit_parser::Options {
    // The decoder enforces MAX_DEPTH with a clear message; the parser's own limit only
    // guards against absurd input that would never get there.
    let mut options = granit_parser::Options::default();
    options.flow_nesting_limit = MAX_DEPTH + 2;
    options.block_nesting_limit = MAX_DEPTH + 2;
    options.set_emit_comments(false);
    options
}

fn scan_error(e: &granit_parser::ScanError) -> YamlError {
    let nested = matches!(e.kind(), granit_parser::ErrorKind::RecursionLimitExceeded);
    YamlError {
        line: Some(e.marker().line() as u32).filter(|l| *l > 0),
        message: if nested { too_deep() } else { e.info() },
    }
}

fn too_deep() -> String {
    format!("values are nested more than {MAX_DEPTH} levels deep, more than Helm reads")
}

/// Builds the node tree of every document from the parser's events, without recursion.
fn compose(text: &str) -> Result<(Vec<Written>, Vec<usize>), YamlError> {
    let mut parser = Parser::new_from_str_with_options(text, parser_options());
    let mut nodes: Vec<Written> = Vec::new();
    let mut roots = Vec::new();
    // Open collections: node index and, for maps, the key waiting for its value.
    let mut stack: Vec<(usize, Option<usize>)> = Vec::new();
    let mut anchors: HashMap<usize, usize> = HashMap::new();
    while let Some(next) = parser.next_event() {
        let (event, span) = next.map_err(|e| scan_error(&e))?;
        let at = line(&span);
        let done = match event {
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd => None,
            Event::DocumentStart(..) => {
                anchors.clear();
                None
            }
            Event::Scalar(value, style, anchor, tag) => {
                let index = nodes.len();
                nodes.push(Written {
                    line: at,
                    body: Body::Scalar {
                        value: value.into_owned(),
                        plain: style == ScalarStyle::Plain,
                        tag: tag.map(|t| format!("{}{}", t.handle(), t.suffix())),
                    },
                });
                if anchor != 0 {
                    anchors.insert(anchor, index);
                }
                Some(index)
            }
            Event::Alias(id) => {
                let name = alias_name(text, &span);
                let Some(&target) = anchors.get(&id) else {
                    return Err(YamlError {
                        line: Some(at),
                        message: format!("unknown anchor '{name}' referenced"),
                    });
                };
                nodes.push(Written {
                    line: at,
                    body: Body::Alias { target, name },
                });
                Some(nodes.len() - 1)
            }
            Event::SequenceStart(_, anchor, _) | Event::MappingStart(_, anchor, _) => {
                let body = if matches!(event, Event::SequenceStart(..)) {
                    Body::Seq(Vec::new())
                } else {
                    Body::Map(Vec::new())
                };
                nodes.push(Written { line: at, body });
                let index = nodes.len() - 1;
                if anchor != 0 {
                    anchors.insert(anchor, index);
                }
                stack.push((index, None));
                None
            }
            Event::SequenceEnd | Event::MappingEnd => stack.pop().map(|(index, _)| index),
            _ => None,
        };
        let Some(child) = done else { continue };
        match stack.last_mut() {
            None => roots.push(child),
            Some((parent, pending)) => match &mut nodes[*parent].body {
                Body::Seq(items) => items.push(child),
                Body::Map(entries) => match pending.take() {
                    None => *pending = Some(child),
                    Some(key) => entries.push((key, child)),
                },
                _ => unreachable!("only collections are open"),
            },
        }
    }
    Ok((nodes, roots))
}

fn alias_name(text: &str, span: &Span) -> String {
    let (Some(start), Some(end)) = (span.start.byte_offset(), span.end.byte_offset()) else {
        return String::new();
    };
    text.get(start..end)
        .unwrap_or_default()
        .trim_start_matches('*')
        .to_owned()
}

/// A key as Go holds it in `map[interface{}]interface{}` before it becomes a string.
#[derive(Debug, Clone)]
enum GoKey {
    String(String),
    Int(i64),
    UInt(u64),
    Float(f64),
    Bool(bool),
    Null,
}

/// Equality of Go map keys: `0.0 == -0.0`, and every NaN is a key of its own.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum KeyId {
    String(String),
    Int(i64),
    UInt(u64),
    Float(u64),
    NaN(usize),
    Bool(bool),
    Null,
}

/// A decoded value, still typed as go-yaml types it.
#[derive(Debug)]
enum Decoded {
    Scalar(Scalar),
    Seq(Vec<(u32, Decoded)>),
    Map(DecodedMap),
}

/// A Go map: assigning an existing key replaces its value (and line) in place.
#[derive(Debug, Default)]
struct DecodedMap {
    entries: Vec<(GoKey, u32, Decoded)>,
    index: HashMap<KeyId, usize>,
}

impl DecodedMap {
    fn insert(&mut self, key: GoKey, line: u32, value: Decoded) {
        let id = match &key {
            GoKey::String(s) => KeyId::String(s.clone()),
            GoKey::Int(n) => KeyId::Int(*n),
            GoKey::UInt(n) => KeyId::UInt(*n),
            GoKey::Float(f) if f.is_nan() => KeyId::NaN(self.entries.len()),
            GoKey::Float(f) => KeyId::Float((f + 0.0).to_bits()),
            GoKey::Bool(b) => KeyId::Bool(*b),
            GoKey::Null => KeyId::Null,
        };
        match self.index.get(&id) {
            Some(&i) => self.entries[i] = (key, line, value),
            None => {
                self.index.insert(id, self.entries.len());
                self.entries.push((key, line, value));
            }
        }
    }
}

/// go-yaml v2's decoder, with its alias accounting.
struct Decoder<'a> {
    nodes: &'a [Written],
    decode_count: usize,
    alias_count: usize,
    alias_depth: usize,
    /// Alias nodes being expanded: meeting one again means an anchor contains itself.
    active_aliases: HashSet<usize>,
}

type Result<T, E = YamlError> = std::result::Result<T, E>;

impl Decoder<'_> {
    fn fail(&self, node: usize, message: impl Into<String>) -> YamlError {
        YamlError {
            line: Some(self.nodes[node].line),
            message: message.into(),
        }
    }

    /// Every decode step counts; past 1000 steps, alias-driven steps may be at most 99% of
    /// them (falling to 10% between 400 000 and 4 000 000 steps), as in go-yaml v2.
    fn count(&mut self, node: usize) -> Result<()> {
        self.decode_count += 1;
        if self.alias_depth > 0 {
            self.alias_count += 1;
        }
        let allowed = match self.decode_count {
            n if n <= 400_000 => 0.99,
            n if n >= 4_000_000 => 0.10,
            n => 0.99 - 0.89 * ((n - 400_000) as f64 / 3_600_000.0),
        };
        if self.alias_count > 100
            && self.decode_count > 1000
            && self.alias_count as f64 / self.decode_count as f64 > allowed
        {
            return Err(self.fail(
                node,
                "anchors and aliases expand far beyond the file's size; Helm refuses such a \
                 file (\"document contains excessive aliasing\")",
            ));
        }
        Ok(())
    }

    /// Runs `inner` on an alias's target, refusing an anchor that contains its own alias.
    fn through_alias<T>(
        &mut self,
        alias: usize,
        target: usize,
        inner: impl FnOnce(&mut Self, usize) -> Result<T>,
    ) -> Result<T> {
        if !self.active_aliases.insert(alias) {
            let Body::Alias { name, .. } = &self.nodes[alias].body else {
                unreachable!("an alias node")
            };
            return Err(self.fail(alias, format!("anchor '{name}' value contains itself")));
        }
        self.alias_depth += 1;
        let result = inner(self, target);
        self.alias_depth -= 1;
        self.active_aliases.remove(&alias);
        result
    }

    /// Decodes `node`, whose enclosing collections number `depth`.
    fn decode(&mut self, node: usize, depth: usize) -> Result<Decoded> {
        self.count(node)?;
        let nodes = self.nodes;
        match &nodes[node].body {
            Body::Alias { target, .. } => {
                let target = *target;
                self.through_alias(node, target, |d, t| d.decode(t, depth))
            }
            Body::Scalar { value, plain, tag } => {
                let scalar = go_scalar::resolve(value, *plain, tag.as_deref())
                    .map_err(|m| self.fail(node, m))?;
                Ok(Decoded::Scalar(scalar))
            }
            Body::Seq(items) => {
                self.check_depth(node, depth)?;
                let mut out = Vec::with_capacity(items.len());
                for &item in items {
                    let line = self.nodes[item].line;
                    out.push((line, self.decode(item, depth + 1)?));
                }
                Ok(Decoded::Seq(out))
            }
            Body::Map(_) => {
                self.check_depth(node, depth)?;
                let mut map = DecodedMap::default();
                self.fill_map(node, &mut map, depth + 1)?;
                Ok(Decoded::Map(map))
            }
        }
    }

    fn check_depth(&self, node: usize, depth: usize) -> Result<()> {
        if depth >= MAX_DEPTH {
            return Err(self.fail(node, too_deep()));
        }
        Ok(())
    }

    /// Applies a mapping's entries to `map` in document order. A merge key applies the merged
    /// map(s) at its position, so it overrides keys written before it and later keys override
    /// it; duplicates keep the last value, as Go map assignment does.
    fn fill_map(&mut self, node: usize, map: &mut DecodedMap, depth: usize) -> Result<()> {
        let nodes = self.nodes;
        let Body::Map(entries) = &nodes[node].body else {
            unreachable!("fill_map on a mapping")
        };
        for &(key, value) in entries {
            if self.is_merge_key(key) {
                self.merge(value, map, depth)?;
                continue;
            }
            let go_key = match self.decode(key, depth)? {
                Decoded::Scalar(scalar) => scalar_key(scalar),
                Decoded::Seq(_) | Decoded::Map(_) => {
                    return Err(self.fail(key, "a map or a list cannot be a key"));
                }
            };
            let decoded = self.decode(value, depth)?;
            map.insert(go_key, self.nodes[key].line, decoded);
        }
        Ok(())
    }

    fn is_merge_key(&self, node: usize) -> bool {
        match &self.nodes[node].body {
            Body::Scalar { value, plain, tag } => {
                value == "<<"
                    && match tag.as_deref() {
                        None => *plain,
                        Some(t) => t == "!" || t == "tag:yaml.org,2002:merge",
                    }
            }
            _ => false,
        }
    }

    fn is_map(&self, node: usize) -> bool {
        match &self.nodes[node].body {
            Body::Map(_) => true,
            Body::Alias { target, .. } => matches!(self.nodes[*target].body, Body::Map(_)),
            _ => false,
        }
    }

    /// The value of a merge key: a map, an alias of a map, or a list of those (applied last
    /// to first, so that earlier maps in the list win).
    fn merge(&mut self, value: usize, map: &mut DecodedMap, depth: usize) -> Result<()> {
        let want_map = "a merge key (<<) needs a map, an alias of a map, or a list of them";
        let nodes = self.nodes;
        match &nodes[value].body {
            Body::Map(_) | Body::Alias { .. } if self.is_map(value) => {
                self.merge_one(value, map, depth)
            }
            Body::Seq(items) => {
                for &item in items.iter().rev() {
                    if !self.is_map(item) {
                        return Err(self.fail(item, want_map));
                    }
                    self.merge_one(item, map, depth)?;
                }
                Ok(())
            }
            _ => Err(self.fail(value, want_map)),
        }
    }

    fn merge_one(&mut self, node: usize, map: &mut DecodedMap, depth: usize) -> Result<()> {
        self.count(node)?;
        let nodes = self.nodes;
        match &nodes[node].body {
            Body::Alias { target, .. } => {
                let target = *target;
                self.through_alias(node, target, |d, t| {
                    d.count(t)?;
                    d.fill_map(t, map, depth)
                })
            }
            _ => self.fill_map(node, map, depth),
        }
    }
}

fn scalar_key(scalar: Scalar) -> GoKey {
    match scalar {
        Scalar::Null => GoKey::Null,
        Scalar::Bool(b) => GoKey::Bool(b),
        Scalar::Int(n) => GoKey::Int(n),
        Scalar::UInt(n) => GoKey::UInt(n),
        Scalar::Float(f) => GoKey::Float(f),
        Scalar::String(s) => GoKey::String(s),
        Scalar::Merge => GoKey::String("<<".into()),
    }
}

/// `sigs.k8s.io/yaml`'s conversion to JSON: keys become strings, numbers become float64 (on
/// Helm's side, after the JSON round trip), infinities and NaN are fatal.
fn to_raw(value: Decoded, line: u32) -> Result<RawNode> {
    let fail = |line: u32, message: String| YamlError {
        line: Some(line),
        message,
    };
    let kind = match value {
        Decoded::Scalar(scalar) => match scalar {
            Scalar::Null => RawKind::Null,
            Scalar::Bool(b) => RawKind::Bool(b),
            Scalar::Int(n) => RawKind::Number(n as f64),
            Scalar::UInt(n) => RawKind::Number(n as f64),
            Scalar::Float(f) if f.is_finite() => RawKind::Number(f),
            Scalar::Float(_) => {
                return Err(fail(
                    line,
                    "infinite or NaN numbers cannot be given to Helm (it fails on them); \
                     quote the value if you mean the text"
                        .into(),
                ));
            }
            Scalar::String(s) => RawKind::String(s),
            Scalar::Merge => RawKind::String("<<".into()),
        },
        Decoded::Seq(items) => RawKind::Seq(
            items
                .into_iter()
                .map(|(l, v)| to_raw(v, l))
                .collect::<Result<_>>()?,
        ),
        Decoded::Map(map) => {
            let mut seen: HashMap<String, u32> = HashMap::with_capacity(map.entries.len());
            let mut entries = Vec::with_capacity(map.entries.len());
            for (key, key_line, value) in map.entries {
                let name = key_string(&key).map_err(|m| fail(key_line, m))?;
                if let Some(first) = seen.insert(name.clone(), key_line) {
                    return Err(collision(key_line, first, &name));
                }
                entries.push((name, to_raw(value, key_line)?));
            }
            RawKind::Map(entries)
        }
    };
    Ok(RawNode { line, kind })
}

/// The same conversion for a rendered manifest, keeping Go's integer types.
fn to_go(value: Decoded, line: u32) -> Result<GoValue> {
    Ok(match value {
        Decoded::Scalar(scalar) => match scalar {
            Scalar::Null => GoValue::Null,
            Scalar::Bool(b) => GoValue::Bool(b),
            Scalar::Int(n) => GoValue::Int(n),
            Scalar::UInt(n) => GoValue::UInt(n),
            Scalar::Float(f) if f.is_finite() => GoValue::Float(f),
            Scalar::Float(_) => {
                return Err(YamlError {
                    line: Some(line),
                    message: "infinite or NaN numbers cannot be converted to JSON, so Argo CD \
                              cannot read them"
                        .into(),
                });
            }
            Scalar::String(s) => GoValue::String(s),
            Scalar::Merge => GoValue::String("<<".into()),
        },
        Decoded::Seq(items) => GoValue::Seq(
            items
                .into_iter()
                .map(|(l, v)| to_go(v, l))
                .collect::<Result<_>>()?,
        ),
        Decoded::Map(map) => {
            let mut seen: HashMap<String, u32> = HashMap::with_capacity(map.entries.len());
            let mut out = GoMap::default();
            for (key, key_line, value) in map.entries {
                let name = key_string(&key).map_err(|message| YamlError {
                    line: Some(key_line),
                    message,
                })?;
                if let Some(first) = seen.insert(name.clone(), key_line) {
                    return Err(collision(key_line, first, &name));
                }
                out.insert(name, to_go(value, key_line)?);
            }
            GoValue::Map(out)
        }
    })
}

fn collision(line: u32, first: u32, name: &str) -> YamlError {
    YamlError {
        line: Some(line),
        message: format!(
            "this key and the one at line {first} both become \"{name}\" when keys are turned \
             into strings, and Helm and Argo CD then keep one of them at random; remove one or \
             write both as the same text"
        ),
    }
}

fn key_string(key: &GoKey) -> Result<String, String> {
    Ok(match key {
        GoKey::String(s) => s.clone(),
        GoKey::Int(n) => n.to_string(),
        GoKey::Float(f) => go_scalar::go_float32_key(*f),
        GoKey::Bool(b) => b.to_string(),
        GoKey::UInt(n) => {
            return Err(format!(
                "the key {n} is above the largest signed 64-bit integer, and Helm fails on \
                 such a key; quote it to make it text"
            ));
        }
        GoKey::Null => {
            return Err(
                "a null key (`~`, `null` or nothing before the colon) makes Helm fail; quote \
                 it to make it text"
                    .into(),
            );
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<RawNode, YamlError> {
        read_documents(text).map(|mut docs| docs.remove(0).1)
    }

    fn entries(text: &str) -> Vec<(String, RawKind)> {
        match read(text).unwrap().kind {
            RawKind::Map(e) => e.into_iter().map(|(k, v)| (k, v.kind)).collect(),
            other => panic!("not a map: {other:?}"),
        }
    }

    fn value(text: &str) -> RawKind {
        entries(&format!("x: {text}\n")).remove(0).1
    }

    #[test]
    fn scalars_are_typed_like_go_yaml_v2() {
        let number = |n: f64| RawKind::Number(n);
        let string = |s: &str| RawKind::String(s.into());
        assert_eq!(value("0X1F"), number(31.0));
        assert_eq!(value("0O17"), number(15.0));
        assert_eq!(value("0B11"), number(3.0));
        assert_eq!(value("-0b11"), number(-3.0));
        assert_eq!(value("1e400"), string("1e400"));
        assert_eq!(value("!!timestamp 2001-12-14"), string("2001-12-14"));
        assert_eq!(value("! 12"), string("12"));
        assert_eq!(value("!!float 3"), number(3.0));
        assert_eq!(
            value("18446744073709551615"),
            number(18446744073709551615.0)
        );
        assert_eq!(
            value("\"a\\x7f\\x85\\ufffe\""),
            string("a\u{7f}\u{85}\u{fffe}")
        );
        assert!(read("x: !!int abc\n").is_err());
        assert!(read("x: !!timestamp 2001-13-01\n").is_err());
    }

    #[test]
    fn keys_become_the_strings_helm_makes_of_them() {
        let keys: Vec<String> = entries(
            "0.1234567891: a\n1e+06: b\n-0.0: c\n.inf: d\n.nan: e\n9007199254740993: f\n\
             yes: g\n0x10: h\n100000.5: i\n",
        )
        .into_iter()
        .map(|(k, _)| k)
        .collect();
        assert_eq!(
            keys,
            [
                "0.12345679",
                "1e+06",
                "-0",
                ".inf",
                ".nan",
                "9007199254740993",
                "true",
                "16",
                "100000.5"
            ]
        );
    }

    #[test]
    fn merge_keys_apply_in_document_order() {
        let e = entries("b: &b {x: 1, x: 2}\nm: {x: explicit, <<: *b, y: 3}\n");
        let RawKind::Map(m) = &e[1].1 else { panic!() };
        assert_eq!(
            m[0],
            (
                "x".to_string(),
                RawNode {
                    line: 1,
                    kind: RawKind::Number(2.0)
                }
            )
        );
        assert!(read("m: {<<: [1]}\n").is_err());
    }

    #[test]
    fn what_helm_refuses_is_refused_with_its_line() {
        let err = |text: &str| read(text).unwrap_err();
        assert_eq!(err("a: 1\n~: x\n").line, Some(2));
        assert!(err("a: 1\n~: x\n").message.contains("null key"));
        assert!(err("18446744073709551615: x\n").message.contains("64-bit"));
        let collision = err("1: a\n1.0: b\n");
        assert_eq!(collision.line, Some(2));
        assert!(
            collision.message.contains("line 1"),
            "{}",
            collision.message
        );
        assert!(err("a: &a [*a]\n").message.contains("contains itself"));
        let separator = err("a: 1\nb: x\u{2028}y\n");
        assert_eq!(separator.line, Some(2));
        assert!(separator.message.contains("U+2028"));
    }

    #[test]
    fn a_raw_nel_is_a_line_break() {
        assert_eq!(value("\"a\u{85}b\""), RawKind::String("a b".into()));
        assert_eq!(entries("a: 1\u{85}b: 2\n").len(), 2);
    }

    #[test]
    fn nesting_stops_at_helms_limit() {
        // Decoding recurses once per level; give it the stack the binary's work thread has.
        std::thread::Builder::new()
            .stack_size(256 << 20)
            .spawn(|| {
                let nested = |levels: usize| {
                    format!("a: {}1{}\n", "[".repeat(levels - 1), "]".repeat(levels - 1))
                };
                assert!(read(&nested(MAX_DEPTH)).is_ok());
                let err = read(&nested(MAX_DEPTH + 1)).unwrap_err();
                assert_eq!(err.line, Some(1));
                assert!(err.message.contains("nested more than 10000 levels"));
                let err = read(&nested(MAX_DEPTH + 50)).unwrap_err();
                assert!(err.message.contains("nested more than 10000 levels"));
            })
            .unwrap()
            .join()
            .unwrap();
    }
}
