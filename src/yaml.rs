//! The one place that talks to the third-party YAML crate.
//!
//! Everything else in strata sees [`RawNode`] trees (for values files, where typing and line numbers
//! matter) or typed config structs, so the YAML library can be swapped by editing this file alone.
//!
//! Values files are read the way Helm reads them: YAML 1.1 scalars (`yes`/`off` booleans, `0755`
//! octal, `1_000`), merge keys, anchors with an alias budget, duplicate keys where the last wins.

use serde::de::{self, DeserializeOwned, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::{DuplicateKeyPolicy, Location, Spanned};
use std::cell::RefCell;
use std::fmt;

mod go_scalar;
mod go_value;
pub mod helm_reader;
pub use go_value::{GoMap, GoValue, parse_go_document};

thread_local! {
    /// The text being parsed, so scalars can be checked against their exact spelling.
    static SOURCE: RefCell<String> = const { RefCell::new(String::new()) };
}

/// A parsed YAML node with the 1-based line it starts on.
#[derive(Debug, Clone, PartialEq)]
pub struct RawNode {
    pub line: u32,
    pub kind: RawKind,
}

/// Scalars are already typed with YAML 1.1 rules; numbers are `f64` because Helm turns every
/// number into a float64 through its YAML → JSON conversion.
#[derive(Debug, Clone, PartialEq)]
pub enum RawKind {
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    Seq(Vec<RawNode>),
    /// Entries with unique keys. The values reader has already applied Helm's rules for
    /// duplicates and merge keys (the last assignment wins).
    Map(Vec<(String, RawNode)>),
}

/// A YAML syntax or shape error with the position the parser reported.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}{message}", match line { Some(l) => format!("line {l}: "), None => String::new() })]
pub struct YamlError {
    pub line: Option<u32>,
    pub message: String,
}

impl YamlError {
    fn from_lib(err: serde_saphyr::Error) -> Self {
        let line = err.location().map(|l| l.line() as u32).filter(|l| *l > 0);
        let inner = err.without_snippet();
        let mut message = inner.to_string();
        // The library appends " at line X column Y"; the caller prints the line itself.
        if let Some(idx) = message.find(" at line ") {
            message.truncate(idx);
        }
        YamlError {
            line,
            message: message.trim().to_string(),
        }
    }
}

/// Parses a values document (Helm `-f` file) exactly as Helm reads it (see [`helm_reader`]).
/// Returns `None` for an empty or comment-only file, which Helm treats as `{}`. Several
/// documents are refused: Helm 3 reads only the first and Helm 4 merges them all, so such a
/// file means different things to different helms.
pub fn parse_values(text: &str) -> Result<Option<RawNode>, YamlError> {
    let docs = helm_reader::read_documents(text)?;
    let mut docs = docs
        .into_iter()
        .filter(|(_, d)| !matches!(d.kind, RawKind::Null));
    let first = docs.next();
    if let Some((line, _)) = docs.next() {
        return Err(YamlError {
            line: Some(line),
            message: "a values file must hold one YAML document: Helm 3 reads only the first \
                      and Helm 4 merges them all; split it into separate layers"
                .into(),
        });
    }
    Ok(first.map(|(_, node)| node))
}

/// Parses a config file (strata.yaml, tenant.yaml) into a typed struct. Duplicate keys are an
/// error here: in a config file they are always a mistake.
pub fn parse_config<T: DeserializeOwned>(text: &str) -> Result<T, YamlError> {
    let options = serde_saphyr::options! { with_snippet: false };
    serde_saphyr::from_str_with_options(text, options).map_err(YamlError::from_lib)
}

/// Parses a large machine-written document (a chart repository's index.yaml, often 20–40 MB)
/// into a typed struct. The default budget is sized for hand-written files and would refuse
/// such an index, so the node, event and scalar-byte caps are raised. Alias expansion is not
/// raised but lowered: generated indexes use no aliases, and a hostile server could otherwise
/// make a small file expand into a long parse. Deserialize into structs that name only the
/// fields you need: unknown fields are skipped without building values for them.
pub fn parse_large<T: DeserializeOwned>(text: &str) -> Result<T, YamlError> {
    let options = serde_saphyr::options! {
        with_snippet: false,
        duplicate_keys: DuplicateKeyPolicy::LastWins,
        alias_limits: serde_saphyr::alias_limits! { max_total_replayed_events: 100_000 },
        budget: serde_saphyr::budget! {
            max_nodes: 20_000_000,
            max_events: 80_000_000,
            max_documents: 4,
            max_total_scalar_bytes: 512 * 1024 * 1024,
        },
    };
    serde_saphyr::from_str_with_options(text, options).map_err(YamlError::from_lib)
}

/// Parses a rendered manifest stream (helm's output) into one JSON value per non-empty
/// document, in order, for `strata diff` and `strata check`. It reads with Go's YAML 1.1 rules
/// (as `go_value` does), so these commands see exactly the objects Argo CD would apply. Comments such
/// as helm's `# Source:` lines are dropped.
pub fn parse_manifest_stream(text: &str) -> Result<Vec<serde_json::Value>, YamlError> {
    Ok(go_value::parse_go_stream(text)?
        .into_iter()
        .filter(|d| *d != GoValue::Null)
        .map(|d| serde_json::to_value(d).expect("a Go value is JSON"))
        .collect())
}

/// Emits YAML that Go's YAML 1.1 reader reads back with the same types (ambiguous strings such
/// as `"on"` or `"0755"` are quoted).
pub fn to_yaml<T: serde::Serialize>(value: &T) -> String {
    let options = serde_saphyr::ser_options! { prefer_block_scalars: false };
    serde_saphyr::to_string_with_options(value, options)
        .unwrap_or_else(|e| format!("# cannot print as YAML: {e}\n"))
}

/// Helm converts non-string keys to strings on its way to JSON (`1:` → `"1"`, `yes:` → `"true"`).
struct KeyDe(String);

impl KeyDe {
    fn from_spanned<E: de::Error>(key: Spanned<RawKindDe>) -> Result<KeyDe, E> {
        match as_go_reads_it(key.value.0, key.defined) {
            RawKind::String(s) => Ok(KeyDe(s)),
            RawKind::Bool(b) => Ok(KeyDe(b.to_string())),
            RawKind::Number(n) => Ok(KeyDe(format_number_key(n))),
            RawKind::Null => Ok(KeyDe("null".into())),
            RawKind::Seq(_) | RawKind::Map(_) => Err(E::custom("a mapping key must be a scalar")),
        }
    }
}

/// Go's YAML 1.1 resolver is stricter than the library's in two corners: booleans are only
/// the listed spellings (`tRue` and `yEs` stay strings), and plain numbers may hold `_` also
/// with a fraction (`1_000.5` is a float). The scalar's source text decides.
fn as_go_reads_it(kind: RawKind, at: Location) -> RawKind {
    const GO_BOOLS: &[&str] = &[
        "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "true", "True", "TRUE", "false",
        "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF",
    ];
    let needs_check = match &kind {
        RawKind::Bool(_) => true,
        RawKind::String(s) => s.contains('_'),
        _ => false,
    };
    if !needs_check {
        return kind;
    }
    let span = at.span();
    let (Some(offset), Some(len)) = (span.byte_offset(), span.byte_len()) else {
        return kind;
    };
    let raw = SOURCE.with(|s| {
        s.borrow()
            .get(offset as usize..(offset + len) as usize)
            .map(str::to_owned)
    });
    let Some(raw) = raw else { return kind };
    match kind {
        RawKind::Bool(_)
            if raw.chars().all(|c| c.is_ascii_alphabetic())
                && !GO_BOOLS.contains(&raw.as_str()) =>
        {
            RawKind::String(raw)
        }
        RawKind::String(s) if raw == s => match go_underscore_float(&s) {
            Some(n) => RawKind::Number(n),
            None => RawKind::String(s),
        },
        other => other,
    }
}

/// `1_000.5` → 1000.5, as go-yaml v2 reads a plain scalar: underscores removed, then a
/// YAML-style float (`[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`).
fn go_underscore_float(text: &str) -> Option<f64> {
    if !text.starts_with(|c: char| c.is_ascii_digit() || matches!(c, '-' | '+' | '.')) {
        return None;
    }
    let plain: String = text.chars().filter(|&c| c != '_').collect();
    let body = plain.strip_prefix(['-', '+']).unwrap_or(&plain);
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let digits = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        Some(("", frac)) => digits(frac),
        Some((int, frac)) => digits(int) && (frac.is_empty() || digits(frac)),
        None => digits(mantissa),
    };
    let exponent_ok = exponent.is_none_or(|e| digits(e.strip_prefix(['-', '+']).unwrap_or(e)));
    if !(mantissa_ok && exponent_ok) {
        return None;
    }
    plain.parse::<f64>().ok().filter(|n| n.is_finite())
}

fn format_number_key(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

struct RawKindDe(RawKind);

impl<'de> serde::Deserialize<'de> for RawKindDe {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(RawVisitor)
    }
}

struct RawVisitor;

impl<'de> Visitor<'de> for RawVisitor {
    type Value = RawKindDe;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_unit<E>(self) -> Result<RawKindDe, E> {
        Ok(RawKindDe(RawKind::Null))
    }
    fn visit_none<E>(self) -> Result<RawKindDe, E> {
        Ok(RawKindDe(RawKind::Null))
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<RawKindDe, D::Error> {
        d.deserialize_any(RawVisitor)
    }
    fn visit_bool<E>(self, v: bool) -> Result<RawKindDe, E> {
        Ok(RawKindDe(RawKind::Bool(v)))
    }
    fn visit_i64<E>(self, v: i64) -> Result<RawKindDe, E> {
        Ok(RawKindDe(RawKind::Number(v as f64)))
    }
    fn visit_u64<E>(self, v: u64) -> Result<RawKindDe, E> {
        Ok(RawKindDe(RawKind::Number(v as f64)))
    }
    fn visit_i128<E>(self, v: i128) -> Result<RawKindDe, E> {
        Ok(RawKindDe(RawKind::Number(v as f64)))
    }
    fn visit_u128<E>(self, v: u128) -> Result<RawKindDe, E> {
        Ok(RawKindDe(RawKind::Number(v as f64)))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<RawKindDe, E> {
        if !v.is_finite() {
            return Err(E::custom(
                "infinite or NaN numbers cannot be given to Helm (it fails on them)",
            ));
        }
        // `-0.0` stays negative, as in Go (the integer `-0` arrives through visit_i64 as 0).
        Ok(RawKindDe(RawKind::Number(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<RawKindDe, E> {
        Ok(RawKindDe(RawKind::String(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<RawKindDe, E> {
        Ok(RawKindDe(RawKind::String(v)))
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<RawKindDe, E> {
        String::from_utf8(v.to_vec())
            .map(|s| RawKindDe(RawKind::String(s)))
            .map_err(|_| E::custom("binary value is not UTF-8"))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawKindDe, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Spanned<RawKindDe>>()? {
            items.push(RawNode {
                line: item.referenced.line() as u32,
                kind: as_go_reads_it(item.value.0, item.defined),
            });
        }
        Ok(RawKindDe(RawKind::Seq(items)))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawKindDe, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Spanned<RawKindDe>>()? {
            let line = key.referenced.line() as u32;
            let name = KeyDe::from_spanned::<A::Error>(key)?.0;
            let value = map.next_value::<Spanned<RawKindDe>>()?;
            // The key's line is where a reader looks for "who set this", also for block values.
            entries.push((
                name,
                RawNode {
                    line,
                    kind: as_go_reads_it(value.value.0, value.defined),
                },
            ));
        }
        Ok(RawKindDe(RawKind::Map(entries)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scalar(text: &str) -> RawKind {
        let node = parse_values(&format!("x: {text}\n")).unwrap().unwrap();
        match node.kind {
            RawKind::Map(mut e) => e.remove(0).1.kind,
            other => panic!("not a map: {other:?}"),
        }
    }

    #[test]
    fn yaml_1_1_scalars_are_typed_like_helm() {
        for t in ["yes", "Yes", "YES", "on", "ON", "y", "Y", "true", "TRUE"] {
            assert_eq!(scalar(t), RawKind::Bool(true), "{t}");
        }
        for t in ["no", "off", "Off", "n", "N", "NO", "false"] {
            assert_eq!(scalar(t), RawKind::Bool(false), "{t}");
        }
        assert_eq!(scalar("0755"), RawKind::Number(493.0));
        assert_eq!(scalar("0o755"), RawKind::Number(493.0));
        assert_eq!(scalar("017"), RawKind::Number(15.0));
        assert_eq!(scalar("08"), RawKind::Number(8.0));
        assert_eq!(scalar("0x1F"), RawKind::Number(31.0));
        assert_eq!(scalar("1_000"), RawKind::Number(1000.0));
        assert_eq!(scalar("-0"), RawKind::Number(0.0));
        assert_eq!(scalar("2001-12-14"), RawKind::String("2001-12-14".into()));
        assert_eq!(scalar("1:30"), RawKind::String("1:30".into()));
        assert_eq!(scalar("~"), RawKind::Null);
        assert_eq!(scalar("nULL"), RawKind::String("nULL".into()));
        assert_eq!(scalar("\"yes\""), RawKind::String("yes".into()));
        assert_eq!(scalar("tRue"), RawKind::String("tRue".into()));
        assert_eq!(scalar("yEs"), RawKind::String("yEs".into()));
        assert_eq!(scalar("1_000.5"), RawKind::Number(1000.5));
        assert_eq!(scalar("\"1_000.5\""), RawKind::String("1_000.5".into()));
        assert_eq!(scalar("_1"), RawKind::String("_1".into()));
    }

    #[test]
    fn non_string_keys_become_strings_and_the_last_duplicate_wins() {
        let node = parse_values("1: a\nyes: b\nk: 1\nk: 2\n").unwrap().unwrap();
        let RawKind::Map(entries) = node.kind else {
            panic!()
        };
        let keys: Vec<_> = entries.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["1", "true", "k"]);
        assert_eq!(entries[2].1.line, 4);
        assert_eq!(entries[2].1.kind, RawKind::Number(2.0));
    }

    #[test]
    fn manifest_streams_are_read_as_argo_cd_reads_them() {
        let docs = parse_manifest_stream(
            "---\n# Source: a\nkind: A\nmetadata:\n  labels: {a: tRue, b: on, c: 0755}\n---\n# only a comment\n---\nkind: B\nspec: {big: 9007199254740993}\n",
        )
        .unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(
            docs[0]["metadata"]["labels"],
            serde_json::json!({"a": "tRue", "b": true, "c": 493})
        );
        assert_eq!(
            docs[1]["spec"]["big"],
            serde_json::json!(9007199254740993_u64)
        );
    }

    #[test]
    fn infinity_and_several_documents_are_refused() {
        assert!(parse_values("x: .inf\n").is_err());
        let err = parse_values("a: 1\n---\nb: 2\n").unwrap_err();
        assert_eq!(err.line, Some(3));
        assert_eq!(parse_values("# only a comment\n").unwrap(), None);
    }
}
