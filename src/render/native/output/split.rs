//! Helm's splitting of one rendered template file into documents, and Go's `TrimSpace`.
//!
//! Helm splits with the regular expression `(?:^|\s*\n)---\s*` after trimming the whole file,
//! so a `---` glued to text (`---apiVersion: v1`) still separates, an indented `---` does not,
//! and a second `---` right after a first one stays at the head of the next document. The
//! expression's `\s` is RE2's ASCII class (`\t \n \f \r` and space), narrower than the Unicode
//! spaces `TrimSpace` removes; both are copied here because the difference is visible. This runs
//! for every template of every tenant, so it is a hand-written scan instead of a regex.

/// RE2's `\s`: tab, newline, form feed, carriage return, space (not vertical tab).
fn is_re_space(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | b'\x0c' | b'\r' | b' ')
}

/// Go's `strings.TrimSpace`: Unicode white space at both ends (Go's `unicode.IsSpace` and
/// Rust's `char::is_whitespace` are the same White_Space property).
pub fn trim_space(text: &str) -> &str {
    text.trim_matches(char::is_whitespace)
}

/// `TrimSpace` on bytes that may not be UTF-8 (CRD files are printed raw): an invalid sequence
/// is not space, so trimming stops there, as Go's decoding to `RuneError` makes it stop.
pub fn trim_space_bytes(bytes: &[u8]) -> &[u8] {
    let mut start = 0;
    while let Some((c, len)) = first_char(&bytes[start..]) {
        if !c.is_whitespace() {
            break;
        }
        start += len;
    }
    let mut end = bytes.len();
    while end > start {
        match last_char(&bytes[start..end]) {
            Some((c, len)) if c.is_whitespace() => end -= len,
            _ => break,
        }
    }
    &bytes[start..end]
}

fn first_char(bytes: &[u8]) -> Option<(char, usize)> {
    (1..=bytes.len().min(4)).find_map(|n| {
        let s = std::str::from_utf8(&bytes[..n]).ok()?;
        s.chars().next().map(|c| (c, n))
    })
}

fn last_char(bytes: &[u8]) -> Option<(char, usize)> {
    (1..=bytes.len().min(4)).find_map(|n| {
        let s = std::str::from_utf8(&bytes[bytes.len() - n..]).ok()?;
        s.chars().next().map(|c| (c, n))
    })
}

/// Helm's `SplitManifests`: the documents of one rendered file, each trimmed, in order.
///
/// A piece that is empty before trimming is skipped; one that only trims to empty (Unicode
/// space the separator does not consume) is kept, as helm keeps it.
pub fn split_documents<'a>(file: &'a str) -> Vec<&'a str> {
    let text = trim_space(file);
    let bytes = text.as_bytes();
    let mut docs: Vec<&str> = Vec::new();
    let mut push = |piece: &'a str| {
        if !piece.is_empty() {
            docs.push(trim_space(piece));
        }
    };
    let mut piece_start = 0;
    let mut i = 0;
    if bytes.starts_with(b"---") {
        piece_start = skip_re_space(bytes, 3);
        i = piece_start;
    }
    while i < bytes.len() {
        if !is_re_space(bytes[i]) {
            i += 1;
            continue;
        }
        // A separator starts a run of `\s` whose last character is a newline followed by `---`.
        let run_start = i;
        let run_end = skip_re_space(bytes, i);
        if bytes[run_end - 1] == b'\n' && bytes[run_end..].starts_with(b"---") {
            push(&text[piece_start..run_start]);
            piece_start = skip_re_space(bytes, run_end + 3);
            i = piece_start;
        } else {
            i = run_end;
        }
    }
    push(&text[piece_start..]);
    docs
}

fn skip_re_space(bytes: &[u8], mut at: usize) -> usize {
    while at < bytes.len() && is_re_space(bytes[at]) {
        at += 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_on_separator_lines_and_glued_separators() {
        assert_eq!(split_documents("a: 1\n---\nb: 2\n"), ["a: 1", "b: 2"]);
        assert_eq!(split_documents("---\na: 1"), ["a: 1"]);
        assert_eq!(split_documents("a: 1\n---b: 2"), ["a: 1", "b: 2"]);
        assert_eq!(
            split_documents("a: 1\n  \n---  \n\n b: 2"),
            ["a: 1", "b: 2"]
        );
    }

    #[test]
    fn an_indented_or_inline_separator_does_not_split() {
        assert_eq!(split_documents("a: 1\n  ---\nb: 2"), ["a: 1\n  ---\nb: 2"]);
        assert_eq!(split_documents("a: x---y"), ["a: x---y"]);
    }

    #[test]
    fn a_second_separator_stays_at_the_head_of_the_next_document() {
        assert_eq!(
            split_documents("a: 1\n---\n---\nb: 2"),
            ["a: 1", "---\nb: 2"]
        );
        assert_eq!(split_documents("---\n---\nb: 2"), ["---\nb: 2"]);
    }

    #[test]
    fn empty_pieces_are_skipped_but_unicode_space_pieces_are_kept_empty() {
        assert_eq!(split_documents("a: 1\n---\n"), ["a: 1"]);
        assert_eq!(split_documents("---"), Vec::<&str>::new());
        assert_eq!(
            split_documents("a: 1\n---\n\u{b}\n---\nb: 2"),
            ["a: 1", "", "b: 2"]
        );
    }

    #[test]
    fn trims_bytes_like_go_and_stops_at_invalid_utf8() {
        assert_eq!(trim_space_bytes(b"\n\t x \xc2\xa0\n"), b"x");
        assert_eq!(trim_space_bytes(b" \xff \n"), b"\xff");
        assert_eq!(trim_space_bytes(b" \n"), b"");
    }
}
