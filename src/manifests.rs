//! The one reader of rendered output: cuts a manifest stream into documents, finds helm's
//! `# Source:` comments, and counts objects, for post-render, manifests components, `check`
//! and the empty-render check alike.
//!
//! The cut is textual, on `---` and `...` lines at the start of a line, so each document keeps
//! its own text, first line and helm's `# Source:` comment (a YAML parser drops comments).
//! YAML forbids those markers inside any scalar, so the cut is the one a parser makes.

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

/// Counts YAML documents in a helm stream that hold anything besides comments, blanks and a
/// bare null, which is what Argo CD turns into objects (argocd-cmp.md §7). The output is
/// passed through byte for byte, never re-parsed.
pub fn count_objects(stream: &[u8]) -> usize {
    let text = String::from_utf8_lossy(stream);
    split(&text).iter().filter(|c| holds_object(c.text)).count()
}

/// Whether a document holds more than markers, comments, blanks and a bare null.
fn holds_object(text: &str) -> bool {
    text.lines().any(|l| {
        let t = l.trim();
        !t.is_empty()
            && !t.starts_with('#')
            && !is_marker(t, "---")
            && !is_marker(t, "...")
            && t != "null"
            && t != "~"
    })
}

/// Whether `line` is the marker `m`, alone or followed by a space, tab or comment.
fn is_marker(line: &str, m: &str) -> bool {
    line.strip_prefix(m)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t', '#']))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::{GoValue, parse_go_document};

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

    #[test]
    fn counts_documents_with_content() {
        assert_eq!(count_objects(b"\n"), 0);
        assert_eq!(count_objects(b"---\n# Source: x/templates/a.yaml\n\n"), 0);
        let two =
            b"---\n# Source: a\napiVersion: v1\nkind: ConfigMap\n---\n# Source: b\nkind: Service\n";
        assert_eq!(count_objects(two), 2);
        // `...` ends a document too; comment-only and null documents are no objects.
        assert_eq!(count_objects(b"kind: A\n...\n"), 1);
        assert_eq!(count_objects(b"...\n# c\n...\n"), 0);
        assert_eq!(
            count_objects(b"---\n# only a comment\n---\nnull\n--- # c\n~\n"),
            0
        );
        assert_eq!(count_objects(b"# header\n---\nkind: A\n"), 1);
    }

    #[test]
    fn a_comment_only_document_is_its_own_chunk() {
        let chunks = split(
            "---\n# Source: c/templates/a.yaml\nkind: A\n---\n# Source: c/templates/none.yaml\n# nothing rendered\n",
        );
        assert_eq!(chunks.len(), 2);
        assert_eq!(chunks[1].source, Some("c/templates/none.yaml"));
        assert!(!holds_object(chunks[1].text));
    }
}
