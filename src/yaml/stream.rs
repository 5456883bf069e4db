//! Writing rewritten documents back into a manifest stream; [`crate::manifests::split`] cuts
//! it into documents.

use crate::yaml::{self, GoValue};

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
            let chunks = crate::manifests::split(&text);
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
