//! `.Files.Glob` patterns with the rules of the glob library Helm uses (gobwas/glob with `/`
//! as separator): `*` matches within one path element, `**` across elements, `?` one
//! character that is not `/`, `[a-z]`/`[!a-z]` one character in (not in) a class, `{a,b}` any
//! of the alternatives, and `\` escapes the next character.

#[derive(Debug, Clone)]
enum Token {
    Lit(char),
    /// `*`
    Star,
    /// `**`
    Super,
    /// `?`
    One,
    Class {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
    Alt(Vec<Vec<Token>>),
}

/// A compiled pattern.
#[derive(Debug, Clone)]
pub struct Glob {
    tokens: Vec<Token>,
}

impl Glob {
    pub fn compile(pattern: &str) -> Result<Glob, String> {
        let chars: Vec<char> = pattern.chars().collect();
        let mut pos = 0;
        let tokens = parse_seq(&chars, &mut pos, false)?;
        if pos != chars.len() {
            return Err("unexpected `}` or `,`".into());
        }
        Ok(Glob { tokens })
    }

    pub fn matches(&self, text: &str) -> bool {
        let chars: Vec<char> = text.chars().collect();
        match_seq(&self.tokens, &chars, &mut |rest| rest.is_empty())
    }
}

fn parse_seq(chars: &[char], pos: &mut usize, in_alt: bool) -> Result<Vec<Token>, String> {
    let mut out = Vec::new();
    while *pos < chars.len() {
        let c = chars[*pos];
        match c {
            '}' | ',' if in_alt => return Ok(out),
            '*' => {
                if chars.get(*pos + 1) == Some(&'*') {
                    *pos += 2;
                    out.push(Token::Super);
                } else {
                    *pos += 1;
                    out.push(Token::Star);
                }
            }
            '?' => {
                *pos += 1;
                out.push(Token::One);
            }
            '\\' => {
                let next = chars.get(*pos + 1).ok_or("pattern ends with `\\`")?;
                out.push(Token::Lit(*next));
                *pos += 2;
            }
            '[' => out.push(parse_class(chars, pos)?),
            '{' => {
                *pos += 1;
                let mut alts = Vec::new();
                loop {
                    alts.push(parse_seq(chars, pos, true)?);
                    match chars.get(*pos) {
                        Some(',') => *pos += 1,
                        Some('}') => {
                            *pos += 1;
                            break;
                        }
                        _ => return Err("unclosed `{`".into()),
                    }
                }
                out.push(Token::Alt(alts));
            }
            _ => {
                *pos += 1;
                out.push(Token::Lit(c));
            }
        }
    }
    Ok(out)
}

fn parse_class(chars: &[char], pos: &mut usize) -> Result<Token, String> {
    *pos += 1;
    let negated = chars.get(*pos) == Some(&'!');
    if negated {
        *pos += 1;
    }
    let mut ranges = Vec::new();
    loop {
        let c = *chars.get(*pos).ok_or("unclosed `[`")?;
        if c == ']' {
            *pos += 1;
            break;
        }
        if chars.get(*pos + 1) == Some(&'-') && chars.get(*pos + 2).is_some_and(|c| *c != ']') {
            ranges.push((c, chars[*pos + 2]));
            *pos += 3;
        } else {
            ranges.push((c, c));
            *pos += 1;
        }
    }
    Ok(Token::Class { negated, ranges })
}

/// Matches `tokens` against a prefix of `text`, then asks `rest` about what remains.
fn match_seq(tokens: &[Token], text: &[char], rest: &mut dyn FnMut(&[char]) -> bool) -> bool {
    let Some((first, others)) = tokens.split_first() else {
        return rest(text);
    };
    match first {
        Token::Lit(c) => text.first() == Some(c) && match_seq(others, &text[1..], rest),
        Token::One => {
            text.first().is_some_and(|c| *c != '/') && match_seq(others, &text[1..], rest)
        }
        Token::Class { negated, ranges } => {
            text.first().is_some_and(|c| {
                *c != '/' && ranges.iter().any(|(lo, hi)| lo <= c && c <= hi) != *negated
            }) && match_seq(others, &text[1..], rest)
        }
        Token::Star | Token::Super => {
            let crosses = matches!(first, Token::Super);
            for skip in 0..=text.len() {
                if skip > 0 && !crosses && text[skip - 1] == '/' {
                    return false;
                }
                if match_seq(others, &text[skip..], rest) {
                    return true;
                }
            }
            false
        }
        Token::Alt(alts) => alts
            .iter()
            .any(|alt| match_seq(alt, text, &mut |after| match_seq(others, after, rest))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, t: &str) -> bool {
        Glob::compile(p).unwrap().matches(t)
    }

    #[test]
    fn star_stays_in_one_element_and_double_star_crosses() {
        assert!(m("files/*.txt", "files/a.txt"));
        assert!(!m("files/*.txt", "files/sub/a.txt"));
        assert!(m("files/**.txt", "files/sub/a.txt"));
        assert!(m("**", "a/b/c"));
        assert!(!m("*", "a/b"));
    }

    #[test]
    fn classes_alternatives_and_escapes() {
        assert!(m("f/[a-c].{json,yaml}", "f/b.yaml"));
        assert!(!m("f/[!a-c].json", "f/b.json"));
        assert!(m("f/?.json", "f/x.json"));
        assert!(m("a\\*", "a*"));
        assert!(!m("a\\*", "ab"));
    }
}
