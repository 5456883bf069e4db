//! Kubernetes objects typed the way Go's YAML 1.1 reader types them, for the documents strata
//! rewrites after rendering (common labels, sync waves, plain manifests).
//!
//! Argo CD reads a plugin's output with `sigs.k8s.io/yaml` (go-yaml v2 underneath), so a
//! rewritten document is only faithful if strata reads helm's text with the same rules: YAML 1.1
//! booleans (`on`, `y`, but not `tRue`), legacy octal (`0755`), `_` in numbers, timestamps kept
//! as strings, non-string keys turned into strings, the last of duplicate keys winning. Unlike
//! values files, integers stay exact 64-bit integers (a manifest is not turned into float64 on
//! its way to the cluster), and mappings keep their order so the rewritten text reads like the
//! original. The reading itself is [`helm_reader`]'s, the same rules as for values files.

use super::{YamlError, helm_reader};
use serde::ser::{Serialize, Serializer};

/// A YAML value as Go reads it into `interface{}` on its way to JSON.
///
/// Its scalar variants repeat `go_scalar::Scalar`'s, less `Merge` (which only a
/// key can be): the rewriting of manifests matches on these variants everywhere, and a nested
/// `Scalar` would add a level to every one of those matches for no gain in what they say.
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

/// Parses one YAML document (a piece of a manifest stream, its `---` line included) the way
/// Argo CD's reader does. An empty or comment-only document is [`GoValue::Null`]. Infinite and
/// NaN numbers are refused: the conversion to JSON fails on them in Argo CD too.
pub fn parse_go_document(text: &str) -> Result<GoValue, YamlError> {
    let mut docs = helm_reader::read_go_documents(text)?;
    if docs.len() > 1 {
        return Err(YamlError {
            line: None,
            message: "expected one YAML document, found several".into(),
        });
    }
    Ok(docs.pop().unwrap_or(GoValue::Null))
}

/// Parses a whole manifest stream the way Argo CD's reader does, one value per document in
/// order (empty documents included, as [`GoValue::Null`]).
pub fn parse_go_stream(text: &str) -> Result<Vec<GoValue>, YamlError> {
    helm_reader::read_go_documents(text)
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
        assert_eq!(scalar("0X1F"), GoValue::Int(31));
        assert_eq!(scalar("1e400"), GoValue::String("1e400".into()));
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
    fn keys_are_the_strings_argo_cd_makes_of_them() {
        let doc = parse_go_document("0.1234567891: a\n9007199254740993: b\n<<: {c: 1}\n").unwrap();
        let GoValue::Map(map) = doc else { panic!() };
        let keys: Vec<_> = map.iter().map(|(k, _)| k).collect();
        assert_eq!(keys, ["0.12345679", "9007199254740993", "c"]);
        assert!(parse_go_document("~: x\n").is_err());
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
