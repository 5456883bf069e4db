//! The head of a rendered document as helm reads it: `apiVersion`, `kind`, `metadata.name` and
//! `metadata.annotations`.
//!
//! Helm decodes each document into a small Go struct through `sigs.k8s.io/yaml`: YAML becomes
//! JSON (keys sorted), then Go's JSON decoder fills the struct. That decoder matches field names
//! case-insensitively (the last of `Kind`/`kind` in sorted order wins), leaves a field unchanged
//! on `null`, merges a repeated `metadata` into the same struct, and fails the whole render on a
//! list or map where a string belongs (or a document that is not a map). A number or boolean
//! where a string belongs becomes its text first (`kind: 5` is the kind "5", a float printed
//! with 32-bit precision): the YAML → JSON step knows the target type. Every one of those is
//! visible in helm's output or exit status, so this module copies them.

use crate::yaml::GoValue;
use std::collections::BTreeMap;

/// What helm's sorting needs from a document.
#[derive(Debug, Default, PartialEq)]
pub struct Head {
    pub kind: String,
    pub annotations: BTreeMap<String, String>,
}

/// Reads the head of one document (already split and trimmed). The error is the reason, for
/// helm's `YAML parse error on <file>: …`.
pub fn read_head(doc: &str) -> Result<Head, String> {
    let value = match crate::yaml::helm_reader::read_go_documents(doc) {
        Ok(mut docs) if !docs.is_empty() => docs.swap_remove(0),
        Ok(_) => GoValue::Null,
        Err(e) => return Err(format!("error converting YAML to JSON: {e}")),
    };
    let mut head = Head::default();
    decode_head(&value, &mut head).map_err(|e| {
        format!(
            "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go {}",
            e.found, e.target
        )
    })?;
    Ok(head)
}

/// A type mismatch, as Go's decoder names it.
struct Mismatch {
    found: &'static str,
    target: &'static str,
}

fn json_type(value: &GoValue) -> &'static str {
    match value {
        GoValue::Null => "null",
        GoValue::Bool(_) => "bool",
        GoValue::Int(_) | GoValue::UInt(_) | GoValue::Float(_) => "number",
        GoValue::String(_) => "string",
        GoValue::Seq(_) => "array",
        GoValue::Map(_) => "object",
    }
}

fn mismatch(value: &GoValue, target: &'static str) -> Mismatch {
    Mismatch {
        found: json_type(value),
        target,
    }
}

/// Go's case folding for JSON field names: simple folding, where the long s and the Kelvin
/// sign fold to ASCII letters.
fn fold(key: &str) -> String {
    key.chars()
        .map(|c| match c {
            '\u{17f}' => 's',
            c => c.to_lowercase().next().unwrap_or(c),
        })
        .collect()
}

/// A map's entries in the order Go's JSON encoder writes them: keys sorted byte-wise.
fn sorted(map: &crate::yaml::GoMap) -> Vec<(&str, &GoValue)> {
    let mut entries: Vec<_> = map.iter().collect();
    entries.sort_by(|a, b| a.0.cmp(b.0));
    entries
}

fn decode_head(value: &GoValue, head: &mut Head) -> Result<(), Mismatch> {
    let map = match value {
        GoValue::Null => return Ok(()),
        GoValue::Map(map) => map,
        other => return Err(mismatch(other, "value of type releaseutil.SimpleHead")),
    };
    // `metadata` is a pointer: `null` resets it, a repeated key merges into it.
    let mut metadata: Option<Metadata> = None;
    for (key, value) in sorted(map) {
        match fold(key).as_str() {
            "apiversion" => {
                decode_string(value, "struct field SimpleHead.apiVersion")?;
            }
            "kind" => {
                if let Some(kind) = decode_string(value, "struct field SimpleHead.kind")? {
                    head.kind = kind;
                }
            }
            "metadata" => decode_metadata(value, &mut metadata)?,
            _ => {}
        }
    }
    if let Some(annotations) = metadata.and_then(|m| m.annotations) {
        head.annotations = annotations;
    }
    Ok(())
}

#[derive(Default)]
struct Metadata {
    annotations: Option<BTreeMap<String, String>>,
}

/// A string field: `Some` to set it, `None` to leave it as it is (`null`).
fn decode_string(value: &GoValue, target: &'static str) -> Result<Option<String>, Mismatch> {
    Ok(match value {
        GoValue::Null => None,
        GoValue::String(s) => Some(s.clone()),
        GoValue::Bool(b) => Some(b.to_string()),
        GoValue::Int(n) => Some(n.to_string()),
        GoValue::UInt(n) => Some(n.to_string()),
        GoValue::Float(f) => Some(float32_text(*f)),
        other => return Err(mismatch(other, target)),
    })
}

/// `strconv.FormatFloat(f, 'g', -1, 32)`: the shortest text of the nearest float32, which is
/// also the shortest text of that decimal as a float64.
fn float32_text(f: f64) -> String {
    let narrowed: f64 = format!("{:e}", f as f32).parse().unwrap_or(f);
    gotemplate::gofloat::format_g(narrowed)
}

fn decode_metadata(value: &GoValue, metadata: &mut Option<Metadata>) -> Result<(), Mismatch> {
    let map = match value {
        GoValue::Null => {
            *metadata = None;
            return Ok(());
        }
        GoValue::Map(map) => map,
        other => return Err(mismatch(other, "struct field SimpleHead.metadata")),
    };
    let metadata = metadata.get_or_insert_with(Metadata::default);
    for (key, value) in sorted(map) {
        match fold(key).as_str() {
            "name" => {
                decode_string(value, "struct field .metadata.name of type string")?;
            }
            "annotations" => decode_annotations(value, &mut metadata.annotations)?,
            _ => {}
        }
    }
    Ok(())
}

/// `map[string]string`: `null` resets the map, a repeated key adds to it, a `null` value is "".
fn decode_annotations(
    value: &GoValue,
    annotations: &mut Option<BTreeMap<String, String>>,
) -> Result<(), Mismatch> {
    let map = match value {
        GoValue::Null => {
            *annotations = None;
            return Ok(());
        }
        GoValue::Map(map) => map,
        other => {
            return Err(mismatch(
                other,
                "struct field .metadata.annotations of type map[string]string",
            ));
        }
    };
    let annotations = annotations.get_or_insert_with(BTreeMap::new);
    for (key, value) in map.iter() {
        let text = decode_string(value, "struct field .metadata.annotations of type string")?;
        annotations.insert(key.to_owned(), text.unwrap_or_default());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(doc: &str) -> String {
        read_head(doc).unwrap().kind
    }

    #[test]
    fn reads_kind_and_annotations() {
        let head = read_head(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  annotations:\n    helm.sh/hook: test\n",
        )
        .unwrap();
        assert_eq!(head.kind, "Pod");
        assert_eq!(head.annotations["helm.sh/hook"], "test");
    }

    #[test]
    fn field_names_match_case_insensitively_and_the_last_sorted_key_wins() {
        assert_eq!(kind("KIND: A\n"), "A");
        assert_eq!(kind("Kind: A\nkind: B\n"), "B");
        assert_eq!(kind("kind: B\nKind: A\n"), "B");
        assert_eq!(kind("kind: null\n"), "");
    }

    #[test]
    fn comment_only_and_empty_documents_have_no_kind() {
        assert_eq!(read_head("# just a comment").unwrap(), Head::default());
        assert_eq!(read_head("").unwrap(), Head::default());
    }

    #[test]
    fn a_null_annotation_is_empty_and_null_metadata_resets() {
        let head = read_head("metadata:\n  annotations:\n    helm.sh/hook: null\n").unwrap();
        assert_eq!(head.annotations["helm.sh/hook"], "");
        let head = read_head("metadata: null\nMetadata: {annotations: {a: b}}\n").unwrap();
        // Sorted: `Metadata` first, then `metadata: null` clears it.
        assert!(head.annotations.is_empty());
    }

    #[test]
    fn scalars_where_a_string_belongs_become_text() {
        assert_eq!(kind("kind: 5\n"), "5");
        assert_eq!(kind("kind: yes\n"), "true");
        assert_eq!(kind("kind: 3.14159265358979\n"), "3.1415927");
        assert_eq!(kind("kind: 1e6\n"), "1e+06");
        let head = read_head("metadata:\n  annotations:\n    helm.sh/hook-weight: 5\n").unwrap();
        assert_eq!(head.annotations["helm.sh/hook-weight"], "5");
    }

    #[test]
    fn wrong_types_are_errors() {
        for doc in [
            "- a\n",
            "plain text\n",
            "metadata: [1]\n",
            "metadata: 5\n",
            "metadata:\n  annotations: [1]\n",
            "metadata:\n  name: {a: 1}\n",
            "kind: [1]\n",
        ] {
            assert!(read_head(doc).is_err(), "{doc}");
        }
        assert!(read_head("a: [\n").unwrap_err().contains("YAML to JSON"));
    }
}
