//! Kubernetes objects typed the way Go's YAML 1.1 reader types them, for the documents strata
//! rewrites after rendering (common labels, sync waves, plain manifests).
//!
//! Argo CD reads a plugin's output with `sigs.k8s.io/yaml` (go-yaml v2 underneath), so a
//! rewritten document is only faithful if strata reads helm's text with the same rules: YAML 1.1
//! booleans (`on`, `y`, but not `tRue`), legacy octal (`0755`), `_` in numbers, timestamps kept
//! as strings, non-string keys turned into strings, the last of duplicate keys winning. Unlike
//! values files, integers stay exact 64-bit integers (a manifest is not turned into float64 on
//! its way to the cluster), and mappings keep their order so the rewritten text reads like the
//! original.

use super::{KeyDe, RawKind, RawKindDe, SOURCE, YamlError, as_go_reads_it};
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, Serializer};
use serde_saphyr::{DuplicateKeyPolicy, Location, Spanned};
use std::fmt;

/// A YAML value as Go reads it into `interface{}` on its way to JSON.
#[derive(Debug, Clone, PartialEq)]
pub enum GoValue {
    Null,
    Bool(bool),
    Int(i64),
    /// Above `i64::MAX`: Go falls back to `uint64` before trying a float.
    UInt(u64),
    Float(f64),
    String(String),
    Seq(Vec<GoValue>),
    Map(GoMap),
}

/// A mapping in document order. A repeated key keeps its first position and its last value,
/// which is what Go's map (unordered, last write wins) makes of it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GoMap(Vec<(String, GoValue)>);

impl GoMap {
    pub fn get(&self, key: &str) -> Option<&GoValue> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut GoValue> {
        self.0.iter_mut().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Sets `key`, in place when it exists, else at the end.
    pub fn insert(&mut self, key: String, value: GoValue) {
        match self.get_mut(&key) {
            Some(slot) => *slot = value,
            None => self.0.push((key, value)),
        }
    }

    /// The value under `key`, inserting `default` at the end first when the key is absent.
    pub fn entry(&mut self, key: &str, default: GoValue) -> &mut GoValue {
        let index = match self.0.iter().position(|(k, _)| k == key) {
            Some(i) => i,
            None => {
                self.0.push((key.to_owned(), default));
                self.0.len() - 1
            }
        };
        &mut self.0[index].1
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &GoValue)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl FromIterator<(String, GoValue)> for GoMap {
    fn from_iter<I: IntoIterator<Item = (String, GoValue)>>(iter: I) -> GoMap {
        let mut map = GoMap::default();
        for (k, v) in iter {
            map.insert(k, v);
        }
        map
    }
}

impl Serialize for GoValue {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            GoValue::Null => s.serialize_unit(),
            GoValue::Bool(b) => s.serialize_bool(*b),
            GoValue::Int(n) => s.serialize_i64(*n),
            GoValue::UInt(n) => s.serialize_u64(*n),
            GoValue::Float(n) => s.serialize_f64(*n),
            GoValue::String(text) => s.serialize_str(text),
            GoValue::Seq(items) => s.collect_seq(items),
            GoValue::Map(map) => s.collect_map(map.iter()),
        }
    }
}

/// Options for rendered output: YAML 1.1 like Go, budgets raised for CRD bundles (thousands
/// of documents, megabytes of schema), alias expansion kept low because rendered output uses
/// none.
fn go_options(max_documents: usize) -> serde_saphyr::Options {
    serde_saphyr::options! {
        with_snippet: false,
        legacy_octal_numbers: true,
        duplicate_keys: DuplicateKeyPolicy::PassThrough,
        alias_limits: serde_saphyr::alias_limits! { max_total_replayed_events: 100_000 },
        budget: serde_saphyr::budget! {
            max_nodes: 20_000_000,
            max_events: 80_000_000,
            max_documents: max_documents,
            max_total_scalar_bytes: 512 * 1024 * 1024,
        },
    }
}

/// Runs `parse` with the source text visible to the scalar fixups (`as_go_reads_it`).
fn with_source<T>(text: &str, parse: impl FnOnce() -> T) -> T {
    SOURCE.with(|s| *s.borrow_mut() = text.to_owned());
    let parsed = parse();
    SOURCE.with(|s| s.borrow_mut().clear());
    parsed
}

/// Parses one YAML document (a piece of a manifest stream, its `---` line included) the way
/// Argo CD's reader does. An empty or comment-only document is [`GoValue::Null`]. Infinite and
/// NaN numbers are refused: the conversion to JSON fails on them in Argo CD too.
pub fn parse_go_document(text: &str) -> Result<GoValue, YamlError> {
    with_source(text, || {
        serde_saphyr::from_str_with_options::<GoValueDe>(text, go_options(1))
    })
    .map(|v| v.0)
    .map_err(YamlError::from_lib)
}

/// Parses a whole manifest stream the way Argo CD's reader does, one value per document in
/// order (empty documents included, as [`GoValue::Null`]).
pub fn parse_go_stream(text: &str) -> Result<Vec<GoValue>, YamlError> {
    with_source(text, || {
        serde_saphyr::from_multiple_with_options::<GoValueDe>(text, go_options(1_000_000))
    })
    .map(|docs| docs.into_iter().map(|v| v.0).collect())
    .map_err(YamlError::from_lib)
}

/// Applies Go's stricter corners (see `as_go_reads_it`) to a scalar, by its source spelling.
fn as_go_types_it(value: GoValue, at: Location) -> GoValue {
    match value {
        GoValue::Bool(b) => match as_go_reads_it(RawKind::Bool(b), at) {
            RawKind::String(s) => GoValue::String(s),
            _ => GoValue::Bool(b),
        },
        GoValue::String(s) if s.contains('_') => match as_go_reads_it(RawKind::String(s), at) {
            RawKind::Number(n) => GoValue::Float(n),
            RawKind::String(s) => GoValue::String(s),
            other => unreachable!("a string is read as a string or a number, not {other:?}"),
        },
        other => other,
    }
}

struct GoValueDe(GoValue);

impl<'de> serde::Deserialize<'de> for GoValueDe {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(GoVisitor)
    }
}

fn spanned(value: Spanned<GoValueDe>) -> GoValue {
    as_go_types_it(value.value.0, value.defined)
}

/// Go tries `int64`, then `uint64`, then `float64`.
fn integer(v: i128) -> GoValue {
    if let Ok(n) = i64::try_from(v) {
        GoValue::Int(n)
    } else if let Ok(n) = u64::try_from(v) {
        GoValue::UInt(n)
    } else {
        GoValue::Float(v as f64)
    }
}

struct GoVisitor;

impl<'de> Visitor<'de> for GoVisitor {
    type Value = GoValueDe;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_unit<E>(self) -> Result<GoValueDe, E> {
        Ok(GoValueDe(GoValue::Null))
    }
    fn visit_none<E>(self) -> Result<GoValueDe, E> {
        Ok(GoValueDe(GoValue::Null))
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<GoValueDe, D::Error> {
        d.deserialize_any(GoVisitor)
    }
    fn visit_bool<E>(self, v: bool) -> Result<GoValueDe, E> {
        Ok(GoValueDe(GoValue::Bool(v)))
    }
    fn visit_i64<E>(self, v: i64) -> Result<GoValueDe, E> {
        Ok(GoValueDe(integer(v.into())))
    }
    fn visit_u64<E>(self, v: u64) -> Result<GoValueDe, E> {
        Ok(GoValueDe(integer(v.into())))
    }
    fn visit_i128<E>(self, v: i128) -> Result<GoValueDe, E> {
        Ok(GoValueDe(integer(v)))
    }
    fn visit_u128<E>(self, v: u128) -> Result<GoValueDe, E> {
        Ok(GoValueDe(match i128::try_from(v) {
            Ok(n) => integer(n),
            Err(_) => GoValue::Float(v as f64),
        }))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<GoValueDe, E> {
        if !v.is_finite() {
            return Err(E::custom(
                "infinite or NaN numbers cannot be converted to JSON, so Argo CD cannot read them",
            ));
        }
        Ok(GoValueDe(GoValue::Float(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<GoValueDe, E> {
        Ok(GoValueDe(GoValue::String(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<GoValueDe, E> {
        Ok(GoValueDe(GoValue::String(v)))
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<GoValueDe, E> {
        String::from_utf8(v.to_vec())
            .map(|s| GoValueDe(GoValue::String(s)))
            .map_err(|_| E::custom("binary value is not UTF-8"))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<GoValueDe, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Spanned<GoValueDe>>()? {
            items.push(spanned(item));
        }
        Ok(GoValueDe(GoValue::Seq(items)))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<GoValueDe, A::Error> {
        let mut entries = GoMap::default();
        while let Some(key) = map.next_key::<Spanned<RawKindDe>>()? {
            let name = KeyDe::from_spanned::<A::Error>(key)?.0;
            let value = map.next_value::<Spanned<GoValueDe>>()?;
            entries.insert(name, spanned(value));
        }
        Ok(GoValueDe(GoValue::Map(entries)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scalar(text: &str) -> GoValue {
        match parse_go_document(&format!("x: {text}\n")).unwrap() {
            GoValue::Map(m) => m.get("x").unwrap().clone(),
            other => panic!("not a map: {other:?}"),
        }
    }

    #[test]
    fn scalars_are_typed_like_go_yaml_v2() {
        for t in ["yes", "Yes", "on", "ON", "y", "Y", "true"] {
            assert_eq!(scalar(t), GoValue::Bool(true), "{t}");
        }
        for t in ["no", "off", "n", "N", "false"] {
            assert_eq!(scalar(t), GoValue::Bool(false), "{t}");
        }
        assert_eq!(scalar("tRue"), GoValue::String("tRue".into()));
        assert_eq!(scalar("0755"), GoValue::Int(493));
        assert_eq!(scalar("0x1F"), GoValue::Int(31));
        assert_eq!(scalar("1_000"), GoValue::Int(1000));
        assert_eq!(scalar("1_000.5"), GoValue::Float(1000.5));
        assert_eq!(
            scalar("9007199254740993"),
            GoValue::Int(9_007_199_254_740_993)
        );
        assert_eq!(
            scalar("18446744073709551615"),
            GoValue::UInt(18_446_744_073_709_551_615)
        );
        assert_eq!(scalar("2001-12-14"), GoValue::String("2001-12-14".into()));
        assert_eq!(scalar("~"), GoValue::Null);
        assert_eq!(scalar("\"on\""), GoValue::String("on".into()));
        assert!(parse_go_document("x: .inf\n").is_err());
    }

    #[test]
    fn keys_become_strings_order_is_kept_and_the_last_duplicate_wins() {
        let doc = parse_go_document("---\nz: 1\nyes: 2\n1: 3\nz: 4\n").unwrap();
        let GoValue::Map(map) = doc else { panic!() };
        let entries: Vec<_> = map.iter().collect();
        assert_eq!(
            entries,
            [
                ("z", &GoValue::Int(4)),
                ("true", &GoValue::Int(2)),
                ("1", &GoValue::Int(3))
            ]
        );
    }

    #[test]
    fn empty_documents_are_null() {
        assert_eq!(
            parse_go_document("---\n# Source: a\n").unwrap(),
            GoValue::Null
        );
        assert_eq!(parse_go_document("").unwrap(), GoValue::Null);
    }
}
