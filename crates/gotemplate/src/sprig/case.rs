//! huandu/xstrings v1.5.0 case conversion, which Sprig's `snakecase`, `kebabcase` and
//! `camelcase` are: a string is read as a run of words (upper-case runs, lower-case runs,
//! numbers, punctuation, connectors) and rejoined with `_` or `-`, or capitalised.

use super::strings::go_upper;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Word {
    None,
    Number,
    Upper,
    Alphabet,
    Connector,
    Punct,
    Other,
}

fn is_connector(c: char) -> bool {
    c == '-' || c == '_' || c.is_whitespace()
}

/// Go's `unicode.IsPunct` (category P) for ASCII and the common Unicode punctuation blocks.
fn is_punct(c: char) -> bool {
    if c.is_ascii() {
        return "!\"#%&'()*,-./:;?@[\\]_{}".contains(c);
    }
    matches!(c as u32,
        0xA1 | 0xA7 | 0xAB | 0xB6 | 0xB7 | 0xBB | 0xBF | 0x2010..=0x2027 | 0x2030..=0x205E
        | 0x3001..=0x3003 | 0x3008..=0x3011 | 0xFF01..=0xFF03 | 0xFF05..=0xFF0A)
}

/// xstrings' `isAlphabet`: a letter that is not a CJK ideograph.
fn is_alphabet(c: char) -> bool {
    c.is_alphabetic() && !matches!(c as u32, 0x2E80..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FA1F)
}

/// The next word of `s`: its kind, its text and the rest.
fn next_word(s: &str) -> (Word, &str, &str) {
    let mut it = s.char_indices().peekable();
    let Some((_, first)) = it.next() else {
        return (Word::None, "", "");
    };
    let mut end = first.len_utf8();
    let take_while = |end: &mut usize, pred: &dyn Fn(char) -> bool| {
        for c in s[*end..].chars() {
            if !pred(c) {
                break;
            }
            *end += c.len_utf8();
        }
    };
    let kind = if is_connector(first) {
        take_while(&mut end, &is_connector);
        Word::Connector
    } else if is_punct(first) {
        take_while(&mut end, &is_punct);
        Word::Punct
    } else if first.is_uppercase() {
        if let Some(second) = s[end..].chars().next() {
            if second.is_uppercase() {
                let mut last = second.len_utf8();
                end += last;
                for c in s[end..].chars() {
                    if !c.is_uppercase() {
                        // "HTTPServer": the last capital starts the next word.
                        if is_alphabet(c) {
                            end -= last;
                        }
                        break;
                    }
                    last = c.len_utf8();
                    end += last;
                }
            } else if is_alphabet(second) {
                take_while(&mut end, &|c| is_alphabet(c) && !c.is_uppercase());
            }
        }
        Word::Upper
    } else if is_alphabet(first) {
        take_while(&mut end, &|c| is_alphabet(c) && !c.is_uppercase());
        Word::Alphabet
    } else if first.is_numeric() {
        take_while(&mut end, &|c: char| c.is_numeric());
        Word::Number
    } else {
        take_while(&mut end, &|c| {
            !(is_connector(c) || is_alphabet(c) || c.is_numeric() || is_punct(c))
        });
        Word::Other
    };
    (kind, &s[..end], &s[end..])
}

/// Writes a word in lower case: upper-case words and connectors are rewritten, the rest kept.
fn push_lower(out: &mut String, kind: Word, word: &str, connector: char) {
    if kind != Word::Upper && kind != Word::Connector {
        out.push_str(word);
        return;
    }
    for c in word.chars() {
        if is_connector(c) {
            out.push(connector);
        } else if c.is_uppercase() {
            out.push(super::strings::go_lower(c));
        } else {
            out.push(c);
        }
    }
}

/// xstrings' `ToSnakeCase` (`connector` `_`) and `ToKebabCase` (`-`).
pub(crate) fn to_lower_words(s: &str, connector: char) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    let (mut kind, mut word, mut rest) = next_word(s);
    while !rest.is_empty() {
        if kind != Word::Connector {
            push_lower(&mut out, kind, word, connector);
        }
        let (prev, last) = (kind, word);
        (kind, word, rest) = next_word(rest);
        match prev {
            Word::Number => {
                while kind == Word::Alphabet || kind == Word::Number {
                    push_lower(&mut out, kind, word, connector);
                    (kind, word, rest) = next_word(rest);
                }
                if !matches!(kind, Word::None | Word::Punct | Word::Connector) {
                    out.push(connector);
                }
            }
            Word::Connector => push_lower(&mut out, prev, last, connector),
            Word::Punct => {}
            _ => {
                if kind != Word::Number {
                    if kind != Word::Connector && kind != Word::Punct {
                        out.push(connector);
                    }
                    continue;
                }
                if rest.is_empty() {
                    continue;
                }
                let number = word;
                (kind, word, rest) = next_word(rest);
                // A number followed by anything but letters belongs to the word before it
                // ("Bld4Floor" is "bld4_floor"); followed by letters it starts a word
                // ("HTTP2xx" is "http_2xx").
                if kind != Word::Alphabet {
                    push_lower(&mut out, Word::Number, number, connector);
                    if kind != Word::Connector && kind != Word::Punct {
                        out.push(connector);
                    }
                    continue;
                }
                out.push(connector);
                push_lower(&mut out, Word::Number, number, connector);
                while kind == Word::Alphabet || kind == Word::Number {
                    push_lower(&mut out, kind, word, connector);
                    (kind, word, rest) = next_word(rest);
                }
                if !matches!(kind, Word::None | Word::Connector | Word::Punct) {
                    out.push(connector);
                }
            }
        }
    }
    push_lower(&mut out, kind, word, connector);
    out
}

/// xstrings' `ToPascalCase`: connectors removed and the letter after each one capitalised,
/// as is the first letter; a word that starts with capitals keeps only its first one
/// (`HTTPServer` is `Httpserver`, `GOLANG_IS_GREAT` is `GolangIsGreat`). Leading and doubled
/// connectors are kept, and a string of connectors only gets its last one twice (`_` is `__`).
pub(crate) fn to_pascal(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    let mut r0 = None;
    let mut capital_run = false;
    for c in chars.by_ref() {
        if !is_connector(c) {
            capital_run = c.is_uppercase();
            r0 = Some(go_upper(c));
            break;
        }
        out.push(c);
        r0 = Some(c);
    }
    let Some(mut r0) = r0 else {
        return out;
    };
    for next in chars {
        let r1 = r0;
        r0 = next;
        if is_connector(r0) && is_connector(r1) {
            out.push(r1);
            continue;
        }
        if is_connector(r1) {
            capital_run = r0.is_uppercase();
            r0 = go_upper(r0);
        } else {
            if capital_run {
                if r0.is_uppercase() {
                    r0 = super::strings::go_lower(r0);
                } else {
                    capital_run = false;
                }
            }
            out.push(r1);
        }
    }
    out.push(r0);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_case_samples() {
        for (input, want) in [
            ("FirstName", "first_name"),
            ("HTTPServer", "http_server"),
            ("NoHTTPS", "no_https"),
            ("GO_PATH", "go_path"),
            ("GO PATH", "go_path"),
            ("GO-PATH", "go_path"),
            ("http2xx", "http_2xx"),
            ("HTTP20xOK", "http_20x_ok"),
            ("Duration2m3s", "duration_2m3s"),
            ("Bld4Floor3rd", "bld4_floor_3rd"),
            ("HTTPServer2xx", "http_server_2xx"),
            ("a.b.C", "a.b.c"),
            ("  x  ", "__x__"),
        ] {
            assert_eq!(to_lower_words(input, '_'), want, "{input}");
        }
    }

    #[test]
    fn pascal_case_samples() {
        assert_eq!(to_pascal("some_words"), "SomeWords");
        assert_eq!(to_pascal("http_server"), "HttpServer");
        assert_eq!(to_pascal("_complex__case_"), "_Complex_Case_");
        assert_eq!(to_pascal("some words"), "SomeWords");
        assert_eq!(to_pascal("HTTPServer"), "Httpserver");
        assert_eq!(to_pascal("GOLANG_IS_GREAT"), "GolangIsGreat");
        assert_eq!(to_pascal("_"), "__");
        assert_eq!(to_pascal("__"), "___");
        assert_eq!(to_pascal("a"), "A");
    }
}
