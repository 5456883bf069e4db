//! `.helmignore`, read and applied as helm's chart loader applies it to a chart directory, so
//! a `file://` dependency strata packs holds exactly the files `helm dependency build` packs.
//!
//! Helm's rules, which strata keeps even where they surprise:
//! - one pattern per line, trimmed; blank lines and lines starting with `#` are skipped; a UTF-8
//!   byte order mark before the first line is dropped;
//! - patterns are Go `filepath.Match` globs (`*` and `?` never match `/`, `[...]` and `[^...]`
//!   classes, `\` escapes); `**` is refused, and so is a pattern Go cannot compile;
//! - a trailing `/` restricts the pattern to directories; a leading `/` anchors it to the chart
//!   root; a pattern with a `/` inside matches the whole relative path, one without matches the
//!   last path element only;
//! - the rules are tried in order and the first that decides wins. A `!pattern` rule decides
//!   for every path it does NOT match (that path is ignored) and passes the paths it matches on
//!   to the next rule; so a negation does not re-include anything, it ignores the rest;
//! - an ignored directory is skipped with everything in it;
//! - `templates/.?*` (dot files directly in `templates/`) is always ignored, after the file's
//!   own rules.

/// Why a `.helmignore` cannot be used; helm refuses the chart for the same reasons.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum IgnoreError {
    #[error("line {line}: `**` is not supported in .helmignore patterns (helm refuses it)")]
    DoubleStar { line: usize },
    #[error("line {line}: {pattern:?} is not a valid glob pattern ({reason})")]
    BadPattern {
        line: usize,
        pattern: String,
        reason: &'static str,
    },
}

/// The rules of one chart's `.helmignore` plus helm's default.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    rules: Vec<Rule>,
}

#[derive(Debug, Clone)]
struct Rule {
    negate: bool,
    dir_only: bool,
    /// Match against the whole relative path, not only its last element.
    whole_path: bool,
    glob: Vec<Token>,
}

/// One element of a Go glob.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    /// `*`: any run of characters other than `/`.
    Star,
    /// `?`: one character other than `/`.
    One,
    /// `[...]`: one character in (or, negated, not in) the ranges.
    Class {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
    Literal(char),
}

impl Rules {
    /// The rules in `text` (a `.helmignore`), followed by helm's default.
    pub fn parse(text: &str) -> Result<Rules, IgnoreError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut rules = Rules::default();
        for (i, line) in text.split('\n').enumerate() {
            if let Some(rule) = Rule::parse(line, i + 1)? {
                rules.rules.push(rule);
            }
        }
        rules.rules.extend(Rule::parse("templates/.?*", 0)?);
        Ok(rules)
    }

    /// Only helm's default rule: a chart without a `.helmignore`.
    pub fn defaults() -> Rules {
        Rules::parse("").expect("the default rule is valid")
    }

    /// Whether `path` (relative to the chart root, `/`-separated) is left out.
    pub fn ignores(&self, path: &str, is_dir: bool) -> bool {
        if path.is_empty() || path == "." || path == "./" {
            return false;
        }
        for rule in &self.rules {
            if rule.negate {
                if rule.dir_only && !is_dir {
                    return true;
                }
                if !rule.matches(path) {
                    return true;
                }
                continue;
            }
            if rule.dir_only && !is_dir {
                continue;
            }
            if rule.matches(path) {
                return true;
            }
        }
        false
    }
}

impl Rule {
    fn parse(line: &str, number: usize) -> Result<Option<Rule>, IgnoreError> {
        let raw = line.trim();
        if raw.is_empty() || raw.starts_with('#') {
            return Ok(None);
        }
        if raw.contains("**") {
            return Err(IgnoreError::DoubleStar { line: number });
        }
        let bad = |reason| IgnoreError::BadPattern {
            line: number,
            pattern: raw.to_owned(),
            reason,
        };
        // Helm compiles the line as written (a leading `!` or `/` included) before anything.
        tokenize(raw).map_err(bad)?;
        let (negate, rest) = match raw.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, raw),
        };
        let (dir_only, rest) = match rest.strip_suffix('/') {
            Some(rest) => (true, rest),
            None => (false, rest),
        };
        let (whole_path, pattern) = match rest.strip_prefix('/') {
            Some(anchored) => (true, anchored),
            None => (rest.contains('/'), rest),
        };
        Ok(Some(Rule {
            negate,
            dir_only,
            whole_path,
            glob: tokenize(pattern).map_err(bad)?,
        }))
    }

    fn matches(&self, path: &str) -> bool {
        let subject = if self.whole_path {
            path
        } else {
            // Go's filepath.Base: the last element, trailing slashes dropped.
            let trimmed = path.trim_end_matches('/');
            trimmed.rsplit('/').next().unwrap_or(trimmed)
        };
        glob_match(&self.glob, &subject.chars().collect::<Vec<_>>())
    }
}

/// A Go `filepath.Match` pattern as tokens, or why Go would call it malformed.
fn tokenize(pattern: &str) -> Result<Vec<Token>, &'static str> {
    let mut chars = pattern.chars().peekable();
    let mut out = Vec::new();
    while let Some(c) = chars.next() {
        out.push(match c {
            '*' => Token::Star,
            '?' => Token::One,
            '\\' => Token::Literal(chars.next().ok_or("it ends with a lone `\\`")?),
            '[' => {
                let negated = chars.next_if_eq(&'^').is_some();
                let mut ranges = Vec::new();
                loop {
                    if chars.peek() == Some(&']') && !ranges.is_empty() {
                        chars.next();
                        break;
                    }
                    let lo = class_char(&mut chars)?;
                    let hi = if chars.next_if_eq(&'-').is_some() {
                        class_char(&mut chars)?
                    } else {
                        lo
                    };
                    ranges.push((lo, hi));
                }
                Token::Class { negated, ranges }
            }
            c => Token::Literal(c),
        });
    }
    Ok(out)
}

/// One character of a class: `\` escapes; an unescaped `-` or `]` there is malformed.
fn class_char(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Result<char, &'static str> {
    match chars.next() {
        None => Err("a `[` class is not closed"),
        Some('-' | ']') => Err("a `[` class holds a stray `-` or `]`"),
        Some('\\') => chars.next().ok_or("a `[` class is not closed"),
        Some(c) => Ok(c),
    }
}

/// Whether the tokens match all of `s`. Dynamic programming over (token, position), so a
/// pattern full of `*` costs time proportional to its length times the name's, never more.
fn glob_match(tokens: &[Token], s: &[char]) -> bool {
    // reach[j]: the tokens so far can match exactly s[..j].
    let mut reach = vec![false; s.len() + 1];
    reach[0] = true;
    for token in tokens {
        let mut next = vec![false; s.len() + 1];
        match token {
            Token::Star => {
                for j in 0..=s.len() {
                    next[j] = reach[j] || (j > 0 && next[j - 1] && s[j - 1] != '/');
                }
            }
            _ => {
                for j in 1..=s.len() {
                    next[j] = reach[j - 1] && token_matches(token, s[j - 1]);
                }
            }
        }
        reach = next;
        if !reach.iter().any(|&r| r) {
            return false;
        }
    }
    reach[s.len()]
}

fn token_matches(token: &Token, c: char) -> bool {
    match token {
        Token::Star => unreachable!("handled by glob_match"),
        Token::One => c != '/',
        Token::Literal(l) => *l == c,
        Token::Class { negated, ranges } => {
            ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi) != *negated
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(text: &str) -> Rules {
        Rules::parse(text).unwrap()
    }

    #[test]
    fn globs_match_as_go_filepath_match_does() {
        let cases: &[(&str, &str, bool)] = &[
            ("abc", "abc", true),
            ("*", "abc", true),
            ("*c", "abc", true),
            ("a*", "a", true),
            ("a*", "ab/c", false),
            ("a*/b", "abc/b", true),
            ("a*b*c*d*e*/f", "axbxcxdxe/f", true),
            ("a*b*c*d*e*/f", "axbxcxdxexxx/f", true),
            ("a*b*c*d*e*/f", "axbxcxdxe/xxx/f", false),
            ("ab[c]", "abc", true),
            ("ab[b-d]", "abc", true),
            ("ab[e-g]", "abc", false),
            ("ab[^c]", "abc", false),
            ("ab[^b-d]", "abe", true),
            ("a\\*b", "a*b", true),
            ("a\\*b", "ab", false),
            ("a?b", "a☺b", true),
            ("a[^a]b", "a☺b", true),
            ("a???b", "a☺b", false),
            ("a?b", "a/b", false),
            ("[\\-]", "-", true),
            ("[x\\-]", "z", false),
            ("*x", "xxx", true),
            // Go accepts a backward range; it matches nothing.
            ("[z-a]", "m", false),
        ];
        for (pattern, name, want) in cases {
            let tokens = tokenize(pattern).unwrap();
            let chars: Vec<char> = name.chars().collect();
            assert_eq!(glob_match(&tokens, &chars), *want, "{pattern} vs {name}");
        }
    }

    #[test]
    fn malformed_patterns_are_refused_with_their_line() {
        for pattern in ["[", "[^", "[]a]", "[-]", "[a-]", "a\\", "!["] {
            let err = Rules::parse(&format!("# comment\n{pattern}\n")).unwrap_err();
            assert!(
                matches!(err, IgnoreError::BadPattern { line: 2, .. }),
                "{pattern}: {err:?}"
            );
        }
        assert_eq!(
            Rules::parse("ok\ncharts/**\n").unwrap_err(),
            IgnoreError::DoubleStar { line: 2 }
        );
    }

    #[test]
    fn rules_follow_helm() {
        let r = rules(
            "\u{feff}# a comment\n\n  *.bak  \nsecret.txt\n/top.txt\ndocs/*.md\nscratch/\r\n",
        );
        assert!(r.ignores("values.bak", false));
        assert!(r.ignores("templates/cm.yaml.bak", false));
        assert!(
            r.ignores("files/secret.txt", false),
            "no slash: the base name"
        );
        assert!(r.ignores("top.txt", false));
        assert!(!r.ignores("files/top.txt", false), "a leading / anchors");
        assert!(r.ignores("docs/a.md", false));
        assert!(
            !r.ignores("more/docs/a.md", false),
            "a slash: the whole path"
        );
        assert!(r.ignores("scratch", true));
        assert!(r.ignores("files/scratch", true));
        assert!(
            !r.ignores("scratch", false),
            "a trailing / only matches directories"
        );
        assert!(!r.ignores("Chart.yaml", false));
        assert!(!r.ignores("", true) && !r.ignores(".", true));
        // The default rule: dot files directly in templates/.
        assert!(r.ignores("templates/.hidden.yaml", false));
        assert!(!r.ignores("templates/sub/.hidden.yaml", false));
        assert!(!r.ignores(".helmignore", false));
        assert!(Rules::defaults().ignores("templates/.x", false));
    }

    #[test]
    fn a_negation_ignores_what_it_does_not_match() {
        let r = rules("*.txt\n!keep*\n");
        assert!(r.ignores("keep.txt", false), "the first matching rule wins");
        assert!(!r.ignores("keep.yaml", false));
        assert!(r.ignores("Chart.yaml", false));
        let r = rules("!templates/\n");
        assert!(r.ignores("Chart.yaml", false));
        assert!(!r.ignores("templates", true));
    }
}
