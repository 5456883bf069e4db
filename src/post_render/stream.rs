//! Cutting a manifest stream into documents, and writing rewritten documents back.
//!
//! The cut is textual, on `---` and `...` lines at the start of a line, so each document keeps
//! its own text, first line and helm's `# Source:` comment (a YAML parser drops comments).
//! YAML forbids those markers inside any scalar, so the cut is the one a parser makes.

use crate::yaml::{self, GoValue};

/// One document of a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk<'a> {
    /// The document's text, its `---` line included.
    pub text: &'a str,
    /// The 1-based line of the stream it starts on.
    pub line: usize,
    /// The path in helm's `# Source: <path>` comment, when one comes before the content.
    pub source: Option<&'a str>,
}

/// Splits `text` into documents in order. Comments before the first `---` belong to the first
/// document; a trailing piece holding only comments or blanks is a document of its own, which
/// parses as empty.
pub fn split(text: &str) -> Vec<Chunk<'_>> {
    let mut chunks = Vec::new();
    let mut start = 0;
    let mut start_line = 1;
    // Whether the current piece holds a `---` line or content, so a marker ends it.
    let mut has_body = false;
    let mut source = None;
    let mut offset = 0;
    for (index, line) in text.split_inclusive('\n').enumerate() {
        let body = line.trim_end_matches(['\n', '\r']);
        let is_marker = |m: &str| {
            body.strip_prefix(m)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t']))
        };
        if is_marker("---") && has_body {
            chunks.push(Chunk {
                text: &text[start..offset],
                line: start_line,
                source: source.take(),
            });
            start = offset;
            start_line = index + 1;
        }
        offset += line.len();
        if is_marker("---") {
            has_body = true;
        } else if is_marker("...") {
            chunks.push(Chunk {
                text: &text[start..offset],
                line: start_line,
                source: source.take(),
            });
            start = offset;
            start_line = index + 2;
            has_body = false;
        } else if let Some(path) = body.strip_prefix("# Source: ") {
            if source.is_none() && !has_content(&text[start..offset - line.len()]) {
                source = Some(path.trim());
            }
        } else if body.trim().is_empty() || body.trim_start().starts_with('#') {
            // Blank lines and comments do not start a document.
        } else if !body.starts_with('%') || has_body {
            // A directive (`%YAML 1.1`) belongs to the document its `---` opens.
            has_body = true;
        }
    }
    if start < text.len() {
        chunks.push(Chunk {
            text: &text[start..],
            line: start_line,
            source,
        });
    }
    chunks
}

/// Whether `text` holds anything besides markers, comments and blank lines.
fn has_content(text: &str) -> bool {
    text.lines().any(|l| {
        let t = l.trim();
        !t.is_empty() && !t.starts_with('#') && t != "---" && !t.starts_with("--- ")
    })
}

/// Appends one object as `---`, `# Source: <source>` and the YAML that Go's YAML 1.1 reader
/// reads back as the same values (ambiguous strings such as `"on"` and `"0755"` quoted).
pub fn emit(out: &mut String, source: Option<&str>, object: &GoValue) {
    out.push_str("---\n");
    if let Some(source) = source {
        // A file name with a line break must not end the comment early.
        let one_line: String = source
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        out.push_str("# Source: ");
        out.push_str(&one_line);
        out.push('\n');
    }
    let text = yaml::to_yaml(object);
    out.push_str(&text);
    if !text.ends_with('\n') {
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::{GoMap, RawKind, parse_go_document, parse_values};

    #[test]
    fn splits_helm_output_with_sources_and_lines() {
        let text = "---\n# Source: c/templates/a.yaml\nkind: A\n---\n# Source: c/templates/b.yaml\n# note\nkind: B\ndata:\n  x: |\n    ---not a marker\n---\n# Source: c/templates/empty.yaml\n";
        let chunks = split(text);
        assert_eq!(chunks.len(), 3);
        assert_eq!(chunks[0].source, Some("c/templates/a.yaml"));
        assert_eq!(chunks[0].line, 1);
        assert_eq!(chunks[1].source, Some("c/templates/b.yaml"));
        assert_eq!(chunks[1].line, 4);
        assert!(chunks[1].text.contains("---not a marker"));
        assert_eq!(chunks[2].line, 11);
        assert_eq!(chunks.concat_text(), text);
    }

    #[test]
    fn leading_comments_join_the_first_document_and_end_markers_split() {
        let chunks = split("# header\n---\nkind: A\n...\nkind: B\n--- # c\nkind: C\n");
        let texts: Vec<_> = chunks.iter().map(|c| c.text).collect();
        assert_eq!(
            texts,
            [
                "# header\n---\nkind: A\n...\n",
                "kind: B\n",
                "--- # c\nkind: C\n"
            ]
        );
        assert_eq!(chunks.iter().map(|c| c.line).collect::<Vec<_>>(), [1, 5, 6]);
        let directive = split("kind: A\n...\n%YAML 1.1\n---\nkind: B\n");
        assert_eq!(directive[1].text, "%YAML 1.1\n---\nkind: B\n");
        assert!(matches!(
            parse_go_document(directive[1].text),
            Ok(GoValue::Map(_))
        ));
        let plain = split("kind: A\n---\nkind: B");
        assert_eq!(plain.len(), 2);
        assert_eq!(plain[1].text, "---\nkind: B");
    }

    trait Concat {
        fn concat_text(&self) -> String;
    }

    impl Concat for Vec<Chunk<'_>> {
        fn concat_text(&self) -> String {
            self.iter().map(|c| c.text).collect()
        }
    }

    /// A small deterministic generator (xorshift64*), so failures reproduce from the seed.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }

        fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
            items[self.below(items.len())]
        }
    }

    /// Spellings that a YAML 1.1 reader (Go's) retypes unless they are quoted, plus
    /// characters that mean something to YAML's syntax.
    const AMBIGUOUS: &[&str] = &[
        "on",
        "off",
        "On",
        "OFF",
        "yes",
        "no",
        "y",
        "n",
        "Y",
        "N",
        "Yes",
        "NO",
        "true",
        "False",
        "TRUE",
        "tRue",
        "yEs",
        "null",
        "Null",
        "NULL",
        "nULL",
        "~",
        "",
        "0755",
        "0o17",
        "08",
        "0x1F",
        "0X1f",
        "0b101",
        "-0b1",
        "1_000",
        "1__0",
        "_1",
        "1_000.5",
        "1e3",
        "1E-3",
        "12e03",
        "1.",
        ".5",
        "0.",
        "+1",
        "-0",
        "1:30",
        "190:20:30",
        "2001-12-14",
        "2001-12-14t21:59:43.10-05:00",
        "2001-12-14 21:59:43.10 -5",
        ".inf",
        "-.Inf",
        "+.INF",
        ".nan",
        ".NaN",
        "=",
        "<<",
        "-",
        "---",
        "...",
        "- a",
        "? x",
        ": x",
        "x:",
        "a: b",
        "#c",
        "a #c",
        "@x",
        "`x",
        "%x",
        "!x",
        "&x",
        "*x",
        "|",
        ">",
        "{",
        "}",
        "[",
        "]",
        ",",
        "'",
        "\"",
        "\\",
        " lead",
        "trail ",
        "tab\there",
        "line\nbreak",
        "cr\rx",
        "\u{85}",
        "\u{2028}",
        "\u{feff}x",
        "é",
        "日本",
        "0755 ",
        "v1.2.3",
        "1.2.3",
        "argocd.argoproj.io/sync-wave",
    ];

    const TEXT: &[char] = &[
        'a',
        'Z',
        '0',
        '9',
        ' ',
        ':',
        '#',
        '-',
        '_',
        '.',
        '\'',
        '"',
        '\\',
        '\n',
        '\t',
        '{',
        '[',
        ',',
        '&',
        '*',
        '!',
        '|',
        '>',
        '%',
        '@',
        '`',
        '?',
        'é',
        '\u{1F600}',
        '\u{7f}',
    ];

    fn string(rng: &mut Rng) -> String {
        match rng.below(3) {
            0 | 1 => rng.pick(AMBIGUOUS).to_owned(),
            _ => (0..rng.below(12))
                .map(|_| TEXT[rng.below(TEXT.len())])
                .collect(),
        }
    }

    fn float(rng: &mut Rng) -> f64 {
        loop {
            let n = match rng.below(3) {
                0 => f64::from_bits(rng.next()),
                1 => rng.below(1_000_000) as f64 / 1000.0,
                _ => (rng.next() as i64) as f64,
            };
            if n.is_finite() {
                return n;
            }
        }
    }

    fn value(rng: &mut Rng, depth: usize) -> GoValue {
        let kinds = if depth >= 3 { 7 } else { 9 };
        match rng.below(kinds) {
            0 => GoValue::Null,
            1 => GoValue::Bool(rng.below(2) == 0),
            2 => GoValue::Int(match rng.below(3) {
                0 => rng.next() as i64,
                1 => rng.below(2000) as i64 - 1000,
                _ => *[i64::MIN, i64::MAX, 0, 493, 9_007_199_254_740_993]
                    .get(rng.below(5))
                    .unwrap(),
            }),
            3 => GoValue::UInt(rng.next() | (1 << 63)),
            4 => GoValue::Float(float(rng)),
            5 | 6 => GoValue::String(string(rng)),
            7 => GoValue::Seq((0..rng.below(4)).map(|_| value(rng, depth + 1)).collect()),
            _ => GoValue::Map(map(rng, depth + 1)),
        }
    }

    fn map(rng: &mut Rng, depth: usize) -> GoMap {
        (0..rng.below(5))
            .map(|_| (string(rng), value(rng, depth)))
            .collect()
    }

    /// What `parse_values` (the reader calibrated against Helm's Go reader) makes of a value:
    /// every number a float64, as Helm's JSON conversion has it.
    fn as_raw(v: &GoValue) -> RawKind {
        match v {
            GoValue::Null => RawKind::Null,
            GoValue::Bool(b) => RawKind::Bool(*b),
            GoValue::Int(n) => RawKind::Number(*n as f64),
            GoValue::UInt(n) => RawKind::Number(*n as f64),
            GoValue::Float(n) => RawKind::Number(*n),
            GoValue::String(s) => RawKind::String(s.clone()),
            GoValue::Seq(items) => RawKind::Seq(
                items
                    .iter()
                    .map(|i| crate::yaml::RawNode {
                        line: 0,
                        kind: as_raw(i),
                    })
                    .collect(),
            ),
            GoValue::Map(m) => RawKind::Map(
                m.iter()
                    .map(|(k, v)| {
                        (
                            k.to_owned(),
                            crate::yaml::RawNode {
                                line: 0,
                                kind: as_raw(v),
                            },
                        )
                    })
                    .collect(),
            ),
        }
    }

    fn without_lines(kind: RawKind) -> RawKind {
        let strip = |n: crate::yaml::RawNode| crate::yaml::RawNode {
            line: 0,
            kind: without_lines(n.kind),
        };
        match kind {
            RawKind::Seq(items) => RawKind::Seq(items.into_iter().map(strip).collect()),
            RawKind::Map(entries) => {
                RawKind::Map(entries.into_iter().map(|(k, v)| (k, strip(v))).collect())
            }
            other => other,
        }
    }

    /// Every generated object, written by [`emit`] and read back with YAML 1.1 rules by both
    /// readers, is the object that was written: values, types, key order, and keys.
    #[test]
    fn emitted_objects_read_back_the_same_under_yaml_1_1() {
        let mut rng = Rng(0x5EED_F00D_57A7);
        for case in 0..3000 {
            let mut object = map(&mut rng, 0);
            object.insert("kind".into(), GoValue::String(string(&mut rng)));
            let mut labels = GoMap::default();
            for _ in 0..rng.below(4) {
                labels.insert(string(&mut rng), GoValue::String(string(&mut rng)));
            }
            let mut metadata = GoMap::default();
            metadata.insert("labels".into(), GoValue::Map(labels));
            object.insert("metadata".into(), GoValue::Map(metadata));
            let object = GoValue::Map(object);

            let mut text = String::new();
            emit(&mut text, Some("chart/templates/x.yaml"), &object);
            let chunks = split(&text);
            assert_eq!(chunks.len(), 1, "case {case}: one document\n{text}");
            assert_eq!(chunks[0].source, Some("chart/templates/x.yaml"));

            let back = parse_go_document(chunks[0].text)
                .unwrap_or_else(|e| panic!("case {case}: {e}\n{text}"));
            assert_eq!(back, object, "case {case}: Go-typed reader\n{text}");

            let raw = parse_values(&text)
                .unwrap_or_else(|e| panic!("case {case}: {e}\n{text}"))
                .unwrap();
            assert_eq!(
                without_lines(raw.kind),
                as_raw(&object),
                "case {case}: values reader\n{text}"
            );
        }
    }
}
