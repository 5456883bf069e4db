//! Untrusted text in messages, bounded.
//!
//! Archive entry names, index fields, parameter names and values, tenant names and YAML
//! snippets come from whoever controls the repository or the chart server. Quoting them in full
//! lets one 40 MB name fill the log and the memory of the process that reports it; every
//! message quotes such text through [`quote_bounded`] instead.

/// How much of an untrusted string a message quotes.
pub const QUOTE_MAX: usize = 200;

/// `s` Rust-quoted (`"…"`, control characters escaped), cut to at most `max` bytes of the
/// original text with the number of bytes left out, so a message stays readable and small
/// whatever the input.
pub fn quote_bounded(s: &str, max: usize) -> String {
    let (kept, rest) = split_bounded(s, max);
    if rest == 0 {
        format!("{kept:?}")
    } else {
        format!("{kept:?}… ({rest} more bytes)")
    }
}

/// [`quote_bounded`] with [`QUOTE_MAX`].
pub fn quote(s: &str) -> String {
    quote_bounded(s, QUOTE_MAX)
}

/// `s` unquoted, cut like [`quote_bounded`]: for text that is already one line of prose.
pub fn bounded(s: &str, max: usize) -> String {
    let (kept, rest) = split_bounded(s, max);
    if rest == 0 {
        kept.to_owned()
    } else {
        format!("{kept}… ({rest} more bytes)")
    }
}

/// [`quote_bounded`] for bytes that may not be UTF-8 (archive entry names).
pub fn quote_bytes(bytes: &[u8]) -> String {
    let cut = bytes.len().min(QUOTE_MAX);
    let shown = String::from_utf8_lossy(&bytes[..cut]);
    let rest = bytes.len() - cut;
    if rest == 0 {
        format!("{shown:?}")
    } else {
        format!("{shown:?}… ({rest} more bytes)")
    }
}

/// The longest prefix of `s` of at most `max` bytes ending on a character boundary, and the
/// number of bytes after it.
fn split_bounded(s: &str, max: usize) -> (&str, usize) {
    if s.len() <= max {
        return (s, 0);
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    (&s[..end], s.len() - end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_text_is_quoted_whole() {
        assert_eq!(quote_bounded("a\nb", 10), "\"a\\nb\"");
        assert_eq!(bounded("abc", 3), "abc");
    }

    #[test]
    fn long_text_is_cut_on_a_character_boundary() {
        let huge = "é".repeat(20_000_000);
        let shown = quote_bounded(&huge, 5);
        assert_eq!(shown, "\"éé\"… (39999996 more bytes)");
        assert!(quote(&huge).len() < QUOTE_MAX + 40);
        assert_eq!(bounded("abcdef", 3), "abc… (3 more bytes)");
        let bytes = vec![b'x'; 1000];
        assert!(quote_bytes(&bytes).ends_with("… (800 more bytes)"));
    }
}
