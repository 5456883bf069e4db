//! The one place that talks to the third-party YAML crates.
//!
//! Everything else in strata sees [`RawNode`] trees (for values files, where typing and line numbers
//! matter), [`GoValue`]s (rendered manifests) or typed config structs.
//!
//! Values files and rendered manifests are read the way Helm and Argo CD read them, by
//! [`helm_reader`] (go-yaml v2's rules: YAML 1.1 scalars, merge keys in document order, the last
//! duplicate winning, Go's key strings, its alias and nesting limits). Config files and large
//! machine-written indexes go through serde-saphyr into typed structs.

use serde::de::DeserializeOwned;
use serde_saphyr::DuplicateKeyPolicy;

pub(crate) mod go_scalar;
mod go_value;
pub mod helm_reader;
pub mod stream;
pub use go_value::{GoMap, GoValue, parse_go_document};

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
    serde_saphyr::from_str_with_options(text, large_options()).map_err(YamlError::from_lib)
}

/// [`parse_large`] from a reader, into a seed: the document streams through the seed as it is
/// read, so a visitor that handles one entry at a time holds one entry at a time, however
/// large the file (a 200 MB index).
pub fn stream_large<R, S, V>(reader: R, seed: S) -> Result<V, YamlError>
where
    R: std::io::Read,
    S: for<'de> serde::de::DeserializeSeed<'de, Value = V>,
{
    serde_saphyr::with_deserializer_from_reader_with_options(reader, large_options(), |de| {
        seed.deserialize(de)
    })
    .map_err(YamlError::from_lib)
}

fn large_options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        with_snippet: false,
        duplicate_keys: DuplicateKeyPolicy::LastWins,
        alias_limits: serde_saphyr::alias_limits! { max_total_replayed_events: 100_000 },
        budget: serde_saphyr::budget! {
            max_nodes: 20_000_000,
            max_events: 80_000_000,
            max_documents: 4,
            max_total_scalar_bytes: 512 * 1024 * 1024,
            max_reader_input_bytes: Some(512 * 1024 * 1024),
        },
    }
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
