//! Chart versions and version constraints, with the rules Helm applies.
//!
//! Helm and Argo CD resolve `--version`/`targetRevision` through the Go library
//! Masterminds/semver (v3). Its rules differ from Cargo's and npm's in ways that change which
//! chart gets deployed, so strata reimplements them rather than using a Rust semver crate; the
//! point is that strata and `helm pull` pick the same chart for the same constraint.
//!
//! Rules worth knowing (all of them observable with `helm pull --version`):
//! - Versions are parsed leniently: `v1.2.3`, `1.2` (= `1.2.0`) and `1` (= `1.0.0`) are
//!   accepted, and so are leading zeros in the numeric core (`01.2.3` = `1.2.3`); a numeric
//!   prerelease identifier with a leading zero (`1.0.0-01`) is refused.
//! - A prerelease version only matches when its `||` alternative names a prerelease in *any*
//!   of its comparators (`>=1.2.0-0 <1.3.0` admits `1.2.0-rc.1`; `>=1.2.0 <1.3.0` does not).
//!   Helm 3.17 ships an older release of the library where each comparator decided alone, so
//!   there `<1.3.0` in that example still rejects the prerelease. strata follows the newer rule
//!   (Helm 4).
//! - A partial version is a wildcard: `1.2` means `1.2.x`, so `=1.2` and `1.2` act like
//!   `~1.2`, `>1.2` means `>=1.3.0`, and `<=1.2` means `<1.3.0`; `<1.2` and `>=1.2` use
//!   `1.2.0`.
//! - `^0.0.3` admits only `0.0.3`, and `^*` admits only `0.0.0`.
//! - A hyphen range `A - B` is rewritten to `>= A, <= B` before anything else is parsed (so
//!   `1.0 - 1.2` ends below `1.3.0`). The rewrite swallows the whitespace before the range,
//!   which makes `>=1.0 1.2 - 1.4` invalid; write `>=1.0, 1.2 - 1.4` instead. Without the
//!   spaces, `1.0-1.2` is not a range but the version `1.0.0-1.2` (a prerelease).
//! - Build metadata (`+build.5`) never takes part in a comparison.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SemverError {
    #[error("invalid version {}: {problem}", crate::quote::quote(.text))]
    InvalidVersion { text: String, problem: String },
    #[error("invalid version constraint {}: {problem}", crate::quote::quote(.text))]
    InvalidConstraint { text: String, problem: String },
}

/// One dot-separated part of a prerelease (`rc`, `1` in `-rc.1`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Identifier {
    Numeric(u64),
    /// Anything else, including an all-digit identifier too large for 64 bits (Helm compares
    /// that one as text too).
    Alphanumeric(String),
}

impl Ord for Identifier {
    /// Numbers compare by value and sort before text; text compares byte by byte (SemVer 2.0).
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Identifier::Numeric(a), Identifier::Numeric(b)) => a.cmp(b),
            (Identifier::Numeric(_), Identifier::Alphanumeric(_)) => Ordering::Less,
            (Identifier::Alphanumeric(_), Identifier::Numeric(_)) => Ordering::Greater,
            (Identifier::Alphanumeric(a), Identifier::Alphanumeric(b)) => a.cmp(b),
        }
    }
}

impl PartialOrd for Identifier {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Identifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Identifier::Numeric(n) => write!(f, "{n}"),
            Identifier::Alphanumeric(s) => f.write_str(s),
        }
    }
}

/// A chart version as Helm reads it.
///
/// Equality and ordering are total: SemVer precedence first, then the original text, so that
/// `1.0.0` and `1.0.0+build.1` (equal precedence) still sort deterministically. Use
/// [`Version::cmp_precedence`] for the SemVer comparison alone.
#[derive(Debug, Clone)]
pub struct Version {
    major: u64,
    minor: u64,
    patch: u64,
    pre: Vec<Identifier>,
    build: String,
    original: String,
}

impl Version {
    /// Parses a version the way Helm does (Masterminds' lenient `NewVersion`).
    pub fn parse(text: &str) -> Result<Version, SemverError> {
        parse_version(text).map_err(|problem| SemverError::InvalidVersion {
            text: text.to_string(),
            problem,
        })
    }

    /// The text this version was parsed from (`v1.2`, not `1.2.0`).
    pub fn original(&self) -> &str {
        &self.original
    }

    pub fn is_prerelease(&self) -> bool {
        !self.pre.is_empty()
    }

    pub fn major(&self) -> u64 {
        self.major
    }

    pub fn minor(&self) -> u64 {
        self.minor
    }

    pub fn patch(&self) -> u64 {
        self.patch
    }

    pub fn prerelease(&self) -> &[Identifier] {
        &self.pre
    }

    /// Build metadata without the `+`; empty when there is none.
    pub fn build(&self) -> &str {
        &self.build
    }

    /// SemVer 2.0 precedence: build metadata is ignored, and a prerelease sorts before its
    /// release.
    pub fn cmp_precedence(&self, other: &Version) -> Ordering {
        (self.major, self.minor, self.patch)
            .cmp(&(other.major, other.minor, other.patch))
            .then_with(|| compare_prerelease(&self.pre, &other.pre))
    }
}

/// A release outranks its prereleases; otherwise identifiers compare left to right and a
/// shorter list that is a prefix of the other sorts first.
fn compare_prerelease(a: &[Identifier], b: &[Identifier]) -> Ordering {
    match (a.is_empty(), b.is_empty()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        (false, false) => a.cmp(b),
    }
}

impl PartialEq for Version {
    fn eq(&self, other: &Self) -> bool {
        // The same text always parses to the same version, so this agrees with `Ord`.
        self.original == other.original
    }
}

impl Eq for Version {}

impl Hash for Version {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.original.hash(state);
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        self.cmp_precedence(other)
            .then_with(|| self.original.cmp(&other.original))
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl FromStr for Version {
    type Err = SemverError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Version::parse(text)
    }
}

impl fmt::Display for Version {
    /// The normalized form (`1.2.0` for `v1.2`); [`Version::original`] keeps the input.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)?;
        for (i, id) in self.pre.iter().enumerate() {
            f.write_str(if i == 0 { "-" } else { "." })?;
            write!(f, "{id}")?;
        }
        if !self.build.is_empty() {
            write!(f, "+{}", self.build)?;
        }
        Ok(())
    }
}

const VERSION_SHAPE: &str = "expected MAJOR[.MINOR[.PATCH]][-PRERELEASE][+BUILD], e.g. 1.2.3";

fn parse_version(text: &str) -> Result<Version, String> {
    if text.is_empty() {
        return Err("it is empty".to_string());
    }
    let body = text.strip_prefix('v').unwrap_or(text);
    // The numeric core contains neither `-` nor `+`, so the first of them ends it.
    let core_end = body.find(['-', '+']).unwrap_or(body.len());
    let (core, suffix) = body.split_at(core_end);
    let numbers: Vec<&str> = core.split('.').collect();
    if numbers.len() > 3
        || numbers
            .iter()
            .any(|n| n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(VERSION_SHAPE.to_string());
    }
    let number = |i: usize| -> Result<u64, String> {
        match numbers.get(i) {
            None => Ok(0),
            Some(n) => n
                .parse::<u64>()
                .map_err(|_| format!("{n} does not fit in 64 bits")),
        }
    };
    let (pre_text, build) = match suffix.strip_prefix('-') {
        Some(rest) => match rest.split_once('+') {
            Some((pre, build)) => (Some(pre), Some(build)),
            None => (Some(rest), None),
        },
        None => (None, suffix.strip_prefix('+')),
    };
    let pre = match pre_text {
        Some(p) => parse_prerelease(p)?,
        None => Vec::new(),
    };
    if let Some(b) = build {
        check_identifiers(b, "build metadata")?;
    }
    Ok(Version {
        major: number(0)?,
        minor: number(1)?,
        patch: number(2)?,
        pre,
        build: build.unwrap_or_default().to_string(),
        original: text.to_string(),
    })
}

/// Identifiers are non-empty runs of ASCII letters, digits and `-`, separated by dots.
fn check_identifiers(text: &str, what: &str) -> Result<(), String> {
    let valid =
        |id: &str| !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if text.split('.').all(valid) {
        Ok(())
    } else {
        Err(format!(
            "{what} {} must be dot-separated non-empty identifiers of letters, digits and '-'",
            crate::quote::quote(text)
        ))
    }
}

fn parse_prerelease(text: &str) -> Result<Vec<Identifier>, String> {
    check_identifiers(text, "prerelease")?;
    text.split('.')
        .map(|id| {
            if !id.bytes().all(|b| b.is_ascii_digit()) {
                return Ok(Identifier::Alphanumeric(id.to_string()));
            }
            if id.len() > 1 && id.starts_with('0') {
                return Err(format!(
                    "numeric prerelease identifier {} has a leading zero",
                    crate::quote::quote(id)
                ));
            }
            Ok(id
                .parse::<u64>()
                .map(Identifier::Numeric)
                .unwrap_or_else(|_| Identifier::Alphanumeric(id.to_string())))
        })
        .collect()
}

/// A version constraint such as `^1.2`, `>=1.0 <2.0 || 3.x` or `1.0 - 1.4`.
#[derive(Debug, Clone)]
pub struct Constraint {
    text: String,
    /// Alternatives separated by `||`; a version matches when any of them matches.
    alternatives: Vec<Alternative>,
}

/// Comparators that must all hold (written separated by spaces or commas).
#[derive(Debug, Clone)]
struct Alternative {
    comparators: Vec<Comparator>,
    /// Whether some comparator names a prerelease, which lets prerelease versions be
    /// considered at all.
    admits_prereleases: bool,
}

#[derive(Debug, Clone)]
struct Comparator {
    op: Op,
    /// The version written, with wildcard or missing parts as zero (`1.x` → `1.0.0`).
    version: Version,
    wildcard: Wildcard,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    /// `=` or no operator.
    Equal,
    NotEqual,
    Greater,
    GreaterOrEqual,
    Less,
    LessOrEqual,
    /// `~` or `~>`.
    Tilde,
    Caret,
}

/// The first part of the written version that was a wildcard (`x`, `X`, `*`) or missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wildcard {
    None,
    /// `1.2`, `1.2.x`
    Patch,
    /// `1`, `1.x`, `1.x.x`
    Minor,
    /// `*`, `x`
    Major,
}

impl Constraint {
    /// Parses a constraint as Helm does; the error names the text and what is wrong with it.
    pub fn parse(text: &str) -> Result<Constraint, SemverError> {
        let expanded = expand_hyphen_ranges(text);
        let alternatives = expanded
            .split("||")
            .map(parse_alternative)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|problem| SemverError::InvalidConstraint {
                text: text.to_string(),
                problem,
            })?;
        Ok(Constraint {
            text: text.to_string(),
            alternatives,
        })
    }

    /// Whether `v` satisfies the constraint (Masterminds' `Check`).
    pub fn matches(&self, v: &Version) -> bool {
        self.alternatives.iter().any(|alt| alt.matches(v))
    }

    /// The text this constraint was parsed from.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The version when the constraint pins exactly one (`1.2.3`, `=1.2.3`, `v1.2.3`), so
    /// callers can skip listing a repository. Partial versions (`1.2`) are ranges, not pins.
    pub fn exact(&self) -> Option<Version> {
        match self.alternatives.as_slice() {
            [alt] => match alt.comparators.as_slice() {
                [c] if c.op == Op::Equal && c.wildcard == Wildcard::None => Some(c.version.clone()),
                _ => None,
            },
            _ => None,
        }
    }
}

impl FromStr for Constraint {
    type Err = SemverError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Constraint::parse(text)
    }
}

impl fmt::Display for Constraint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// The candidate Helm would choose for `c`, skipping candidates that are not versions.
///
/// Like Helm's repository index lookup, a candidate spelled exactly like the constraint text
/// wins outright (this only matters for `1.0.0+build.1` next to `1.0.0`, or a chart literally
/// versioned `1.2`); otherwise the highest matching version wins. Candidates of equal precedence
/// (differing only in build metadata) are ordered by their text, where Helm's order is
/// unspecified.
pub fn select_highest<'a, I: IntoIterator<Item = &'a str>>(
    c: &Constraint,
    candidates: I,
) -> Option<&'a str> {
    let candidates: Vec<&'a str> = candidates.into_iter().collect();
    if let Some(verbatim) = candidates.iter().find(|text| **text == c.as_str()) {
        return Some(verbatim);
    }
    candidates
        .into_iter()
        .filter_map(|text| Version::parse(text).ok().map(|v| (v, text)))
        .filter(|(v, _)| c.matches(v))
        .max_by(|a, b| a.0.cmp(&b.0))
        .map(|(_, text)| text)
}

impl Alternative {
    fn matches(&self, v: &Version) -> bool {
        if v.is_prerelease() && !self.admits_prereleases {
            return false;
        }
        self.comparators.iter().all(|c| c.matches(v))
    }
}

impl Comparator {
    fn matches(&self, v: &Version) -> bool {
        let c = &self.version;
        let order = v.cmp_precedence(c);
        match self.op {
            Op::Equal if self.wildcard == Wildcard::None => order == Ordering::Equal,
            Op::Equal | Op::Tilde => self.tilde(v, order),
            Op::NotEqual => self.not_equal(v, order),
            Op::Greater => self.greater(v, order),
            Op::GreaterOrEqual => order != Ordering::Less,
            Op::Less => order == Ordering::Less,
            Op::LessOrEqual => self.less_or_equal(v, order),
            Op::Caret => self.caret(v, order),
        }
    }

    /// `~1.2.3` → `>=1.2.3 <1.3.0`, `~1` → `>=1.0.0 <2.0.0`; `~0.0.0` and `*` admit all.
    fn tilde(&self, v: &Version, order: Ordering) -> bool {
        let c = &self.version;
        if order == Ordering::Less {
            return false;
        }
        let zero = (c.major, c.minor, c.patch) == (0, 0, 0);
        if zero && matches!(self.wildcard, Wildcard::None | Wildcard::Major) {
            return true;
        }
        v.major == c.major && (self.wildcard == Wildcard::Minor || v.minor == c.minor)
    }

    /// Not equal to the written version; with a wildcard, outside the range it spans.
    fn not_equal(&self, v: &Version, order: Ordering) -> bool {
        let c = &self.version;
        if self.wildcard != Wildcard::None {
            if v.major != c.major {
                return true;
            }
            if self.wildcard == Wildcard::Minor {
                return false;
            }
            if v.minor != c.minor {
                return true;
            }
            if self.wildcard == Wildcard::Patch {
                return compare_prerelease(&v.pre, &c.pre) != Ordering::Equal;
            }
            if v.patch != c.patch {
                return true;
            }
        }
        order != Ordering::Equal
    }

    /// `>1` → `>=2.0.0`, `>1.2` → `>=1.3.0`.
    fn greater(&self, v: &Version, order: Ordering) -> bool {
        let c = &self.version;
        if self.wildcard == Wildcard::None {
            return order == Ordering::Greater;
        }
        match v.major.cmp(&c.major) {
            Ordering::Greater => true,
            Ordering::Less => false,
            Ordering::Equal => match self.wildcard {
                Wildcard::Minor => false,
                Wildcard::Patch => v.minor > c.minor,
                Wildcard::Major | Wildcard::None => order == Ordering::Greater,
            },
        }
    }

    /// `<=1` → `<2.0.0`, `<=1.2` → `<1.3.0`.
    fn less_or_equal(&self, v: &Version, order: Ordering) -> bool {
        let c = &self.version;
        if self.wildcard == Wildcard::None {
            return order != Ordering::Greater;
        }
        if v.major > c.major {
            return false;
        }
        !(v.major == c.major && v.minor > c.minor && self.wildcard != Wildcard::Minor)
    }

    /// `^1.2.3` → `<2.0.0`, `^0.2.3` → `<0.3.0`, `^0.0.3` → `=0.0.3`, `^0` → `<1.0.0`.
    fn caret(&self, v: &Version, order: Ordering) -> bool {
        let c = &self.version;
        if order == Ordering::Less {
            return false;
        }
        if c.major > 0 || self.wildcard == Wildcard::Minor {
            return v.major == c.major;
        }
        if v.major > 0 {
            return false;
        }
        if c.minor > 0 || self.wildcard == Wildcard::Patch {
            return v.minor == c.minor;
        }
        v.minor == 0 && v.patch == c.patch
    }
}

/// The whitespace of Go's regular expressions (`\s`), which Helm's parser uses.
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'\x0c')
}

fn is_space_char(c: char) -> bool {
    c.is_ascii() && is_space(c as u8)
}

/// Rewrites every `A - B` to `>= A, <= B `, exactly where and how Helm's parser does, before
/// the text is split into alternatives. The match includes the whitespace before `A`, which is
/// why a range cannot follow another comparator separated by whitespace alone.
fn expand_hyphen_ranges(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len() + 8);
    let mut copied = 0;
    let mut at = 0;
    while at < bytes.len() {
        match hyphen_range_at(bytes, at) {
            Some(range) => {
                // Matches start on ASCII, so these are character boundaries.
                out.push_str(&text[copied..at]);
                out.push_str(">= ");
                out.push_str(&text[range.low.0..range.low.1]);
                out.push_str(", <= ");
                out.push_str(&text[range.high.0..range.high.1]);
                out.push(' ');
                copied = range.end;
                at = range.end;
            }
            None => at += 1,
        }
    }
    out.push_str(&text[copied..]);
    out
}

struct HyphenRange {
    low: (usize, usize),
    high: (usize, usize),
    end: usize,
}

/// A hyphen range starting at `at`: optional whitespace, a version, whitespace, `-`,
/// whitespace, a version, optional whitespace.
fn hyphen_range_at(b: &[u8], at: usize) -> Option<HyphenRange> {
    let skip_space = |mut i: usize| {
        while i < b.len() && is_space(b[i]) {
            i += 1;
        }
        i
    };
    let low_start = skip_space(at);
    let low_end = range_version_end(b, low_start)?;
    let dash = skip_space(low_end);
    if dash == low_end || b.get(dash) != Some(&b'-') {
        return None;
    }
    let high_start = skip_space(dash + 1);
    if high_start == dash + 1 {
        return None;
    }
    let high_end = range_version_end(b, high_start)?;
    Some(HyphenRange {
        low: (low_start, low_end),
        high: (high_start, high_end),
        end: skip_space(high_end),
    })
}

/// A character Helm's parser accepts in a version number of a constraint. It includes `|`:
/// the range rewrite runs before the split on `||`, and a stray `|` later fails to parse.
fn is_number_char(b: u8) -> bool {
    b.is_ascii_digit() || matches!(b, b'x' | b'X' | b'*' | b'|')
}

fn is_identifier_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-'
}

/// The end of the longest constraint version starting at `start`
/// (`v? N (.N)? (.N)? (-ids)? (+ids)?`), or `None` when there is none.
fn range_version_end(b: &[u8], start: usize) -> Option<usize> {
    let run = |from: usize, pred: fn(u8) -> bool| {
        from + b[from.min(b.len())..]
            .iter()
            .take_while(|&&c| pred(c))
            .count()
    };
    let mut i = start;
    if b.get(i) == Some(&b'v') {
        i += 1;
    }
    let major_end = run(i, is_number_char);
    if major_end == i {
        return None;
    }
    i = major_end;
    for _ in 0..2 {
        if b.get(i) == Some(&b'.') && b.get(i + 1).is_some_and(|&c| is_number_char(c)) {
            i = run(i + 1, is_number_char);
        } else {
            break;
        }
    }
    for sigil in [b'-', b'+'] {
        if b.get(i) == Some(&sigil) && b.get(i + 1).is_some_and(|&c| is_identifier_char(c)) {
            i = run(i + 1, is_identifier_char);
            while b.get(i) == Some(&b'.') && b.get(i + 1).is_some_and(|&c| is_identifier_char(c)) {
                i = run(i + 1, is_identifier_char);
            }
        }
    }
    Some(i)
}

const OPERATOR_CHARS: &[char] = &['=', '!', '<', '>', '~', '^'];

/// One `||` alternative: comparators separated by whitespace or a comma.
fn parse_alternative(text: &str) -> Result<Alternative, String> {
    let mut rest = text.trim_start_matches(is_space_char);
    if rest.is_empty() {
        return Err("an alternative between `||` is empty".to_string());
    }
    let mut comparators = Vec::new();
    loop {
        let op_len = rest
            .find(|c: char| !OPERATOR_CHARS.contains(&c))
            .unwrap_or(rest.len());
        let (op_text, after_op) = rest.split_at(op_len);
        let op = match op_text {
            "" | "=" => Op::Equal,
            "!=" => Op::NotEqual,
            ">" => Op::Greater,
            ">=" | "=>" => Op::GreaterOrEqual,
            "<" => Op::Less,
            "<=" | "=<" => Op::LessOrEqual,
            "~" | "~>" => Op::Tilde,
            "^" => Op::Caret,
            other => return Err(format!("unknown operator {}", crate::quote::quote(other))),
        };
        let after_op = after_op.trim_start_matches(is_space_char);
        let token_len = after_op
            .find(|c: char| c == ',' || is_space_char(c))
            .unwrap_or(after_op.len());
        let (token, after) = after_op.split_at(token_len);
        if token.is_empty() {
            return Err(if op_text.is_empty() {
                format!("expected a version at {}", crate::quote::quote(rest))
            } else {
                format!(
                    "operator {} is not followed by a version",
                    crate::quote::quote(op_text)
                )
            });
        }
        comparators.push(parse_comparator(op, token)?);

        let after = after.trim_start_matches(is_space_char);
        if after.is_empty() {
            break;
        }
        rest = match after.strip_prefix(',') {
            Some(next) => {
                let next = next.trim_start_matches(is_space_char);
                if next.is_empty() {
                    return Err("a comma is not followed by a comparison".to_string());
                }
                next
            }
            None => after,
        };
    }
    let admits_prereleases = comparators.iter().any(|c| c.version.is_prerelease());
    Ok(Alternative {
        comparators,
        admits_prereleases,
    })
}

/// The parts of a version as written in a constraint, before wildcards are resolved.
struct WrittenVersion<'a> {
    major: &'a str,
    minor: Option<&'a str>,
    patch: Option<&'a str>,
    /// Including the leading `-`, or empty.
    pre: &'a str,
}

fn split_written(token: &str) -> Option<WrittenVersion<'_>> {
    let b = token.as_bytes();
    if range_version_end(b, 0) != Some(b.len()) {
        return None;
    }
    let body = token.strip_prefix('v').unwrap_or(token);
    let core_end = body.find(['-', '+']).unwrap_or(body.len());
    let (core, suffix) = body.split_at(core_end);
    let mut numbers = core.split('.');
    let major = numbers.next()?;
    let minor = numbers.next();
    let patch = numbers.next();
    let pre = match suffix.strip_prefix('-') {
        Some(_) => suffix.split('+').next().unwrap_or_default(),
        None => "",
    };
    Some(WrittenVersion {
        major,
        minor,
        patch,
        pre,
    })
}

fn is_wildcard(part: &str) -> bool {
    matches!(part, "x" | "X" | "*")
}

fn parse_comparator(op: Op, token: &str) -> Result<Comparator, String> {
    let written = split_written(token).ok_or_else(|| {
        format!(
            "{} is not a version (expected e.g. 1.2.3, 1.2, 1.x or *)",
            crate::quote::quote(token)
        )
    })?;
    // The first wildcard or missing part decides; parts after a wildcard are not read.
    let (wildcard, base) = if is_wildcard(written.major) {
        (Wildcard::Major, "0.0.0".to_string())
    } else if written.minor.is_none_or(is_wildcard) {
        (Wildcard::Minor, format!("{}.0.0", written.major))
    } else if written.patch.is_none_or(is_wildcard) {
        let minor = written.minor.unwrap_or_default();
        (Wildcard::Patch, format!("{}.{minor}.0", written.major))
    } else {
        (Wildcard::None, String::new())
    };
    let text = match wildcard {
        Wildcard::None => token.to_string(),
        _ => format!("{base}{}", written.pre),
    };
    let version = parse_version(&text)
        .map_err(|problem| format!("{}: {problem}", crate::quote::quote(token)))?;
    Ok(Comparator {
        op,
        version,
        wildcard,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(text: &str) -> Version {
        Version::parse(text).unwrap_or_else(|e| panic!("{e}"))
    }

    fn c(text: &str) -> Constraint {
        Constraint::parse(text).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn parses_lenient_versions() {
        let cases = [
            ("1.2.3", "1.2.3"),
            ("v1.2.3", "1.2.3"),
            ("1.2", "1.2.0"),
            ("1", "1.0.0"),
            ("v2", "2.0.0"),
            ("01.02.03", "1.2.3"),
            ("1.2.3-rc.1", "1.2.3-rc.1"),
            ("1.2-rc.1", "1.2.0-rc.1"),
            ("1.2.3+build.5", "1.2.3+build.5"),
            ("1.2.3-alpha-1.0+sha.abc-def", "1.2.3-alpha-1.0+sha.abc-def"),
            ("1.2.3+001", "1.2.3+001"),
            ("1.2.3--", "1.2.3--"),
            ("1.0.0-0a", "1.0.0-0a"),
        ];
        for (text, normalized) in cases {
            let parsed = v(text);
            assert_eq!(parsed.to_string(), normalized, "{text}");
            assert_eq!(parsed.original(), text);
        }
        assert!(v("1.2.3-rc.1").is_prerelease());
        assert!(!v("1.2.3+rc.1").is_prerelease());
        assert_eq!(v("1.2.3+b").build(), "b");
        assert_eq!(
            v("1.0.0-rc.7").prerelease(),
            &[
                Identifier::Alphanumeric("rc".into()),
                Identifier::Numeric(7)
            ]
        );
    }

    #[test]
    fn refuses_malformed_versions() {
        for text in [
            "",
            "v",
            "V1.2.3",
            " 1.2.3",
            "1.2.3 ",
            "1.2.3\n",
            "1.2.3.4",
            "1..2",
            "1.",
            ".1",
            "-1",
            "1.2.3-",
            "1.2.3+",
            "1.2.3-a..b",
            "1.2.3+a..b",
            "1.2.3-01",
            "1.2.3-rc.01",
            "1.2.3-é",
            "1.2.3+a+b",
            "x",
            "1.x",
            "latest",
            "18446744073709551616.0.0",
        ] {
            let err = Version::parse(text).expect_err(text);
            assert!(
                err.to_string().contains(&format!("{text:?}")),
                "error should name the text: {err}"
            );
        }
        assert!(
            Version::parse("1.0.0-01")
                .unwrap_err()
                .to_string()
                .contains("leading zero")
        );
        assert!(
            Version::parse("18446744073709551616")
                .unwrap_err()
                .to_string()
                .contains("64 bits")
        );
    }

    #[test]
    fn orders_by_semver_precedence() {
        let ascending = [
            "0.0.0",
            "0.9.0",
            "1.0.0-0",
            "1.0.0-1",
            "1.0.0-2",
            "1.0.0-10",
            "1.0.0-99999999999999999999",
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
            "1.0.1",
            "1.2.0",
            "1.10.0",
            "2.0.0",
        ];
        for pair in ascending.windows(2) {
            assert_eq!(
                v(pair[0]).cmp_precedence(&v(pair[1])),
                Ordering::Less,
                "{} < {}",
                pair[0],
                pair[1]
            );
            assert!(v(pair[0]) < v(pair[1]));
        }
    }

    #[test]
    fn build_metadata_ties_on_precedence_but_order_stays_total() {
        let plain = v("1.0.0");
        let built = v("1.0.0+build.1");
        let prefixed = v("v1.0.0");
        assert_eq!(plain.cmp_precedence(&built), Ordering::Equal);
        assert_eq!(plain.cmp_precedence(&prefixed), Ordering::Equal);
        assert_ne!(plain, built);
        assert_ne!(plain.cmp(&built), Ordering::Equal);
        assert_eq!(plain.cmp(&built), built.cmp(&plain).reverse());
        assert_eq!(v("1.0.0"), v("1.0.0"));
        let mut sorted = vec![built.clone(), prefixed.clone(), plain.clone()];
        sorted.sort();
        let again = {
            let mut s = vec![plain.clone(), built.clone(), prefixed.clone()];
            s.sort();
            s
        };
        assert_eq!(sorted, again);
    }

    /// (constraint, version, matches) — expectations follow Masterminds/semver 3.4 as used by
    /// Helm 4; rows marked in comments show where a first intuition (npm/Cargo) differs.
    const MATCH_TABLE: &[(&str, &str, bool)] = &[
        // exact
        ("1.2.3", "1.2.3", true),
        ("1.2.3", "1.2.4", false),
        ("=1.2.3", "1.2.3", true),
        ("v1.2.3", "1.2.3", true),
        ("1.2.3", "v1.2.3", true),
        ("= 1.2.3", "1.2.3", true),
        ("1.2.3", "1.2.3+build.7", true), // build metadata ignored
        ("1.2.3+build.7", "1.2.3", true),
        ("01.2.3", "1.2.3", true), // leading zeros coerced
        ("1.2.3-rc.1", "1.2.3-rc.1", true),
        ("1.2.3-rc.1", "1.2.3", false),
        ("1.2.3", "1.2.3-rc.1", false),
        // partial versions are wildcards, even with `=`
        ("1.2", "1.2.0", true),
        ("1.2", "1.2.9", true),
        ("=1.2", "1.2.9", true),
        ("1.2", "1.3.0", false),
        ("1", "1.9.9", true),
        ("1", "2.0.0", false),
        // !=
        ("!=1.2.3", "1.2.4", true),
        ("!=1.2.3", "1.2.3", false),
        ("!=1.2.3", "1.2.3+meta", false),
        ("!=1.2", "1.2.5", false),
        ("!=1.2", "1.3.0", true),
        ("!=1.x", "1.5.0", false),
        ("!=1.x", "2.0.0", true),
        ("!=1.2.3", "1.2.4-rc.1", false), // prerelease not named
        // > >= < <=
        (">1.2.3", "1.2.4", true),
        (">1.2.3", "1.2.3", false),
        (">1.2", "1.2.9", false), // `>1.2` means >=1.3.0
        (">1.2", "1.3.0", true),
        (">1", "1.99.0", false), // `>1` means >=2.0.0
        (">1", "2.0.0", true),
        (">=1.2", "1.2.0", true),
        (">=1.2", "1.1.9", false),
        ("=>1.2", "1.2.0", true),
        ("<1.2", "1.1.9", true),
        ("<1.2", "1.2.0", false),
        ("<1.2.0", "1.2.0-rc.1", false), // prerelease not named
        ("<=1.2.3", "1.2.3", true),
        ("<=1.2.3", "1.2.4", false),
        ("<=1.2", "1.2.9", true), // `<=1.2` means <1.3.0
        ("<=1.2", "1.3.0", false),
        ("=<1.2", "1.2.9", true),
        ("<=1", "1.99.0", true),
        ("<=1", "2.0.0", false),
        // ~
        ("~1.2.3", "1.2.3", true),
        ("~1.2.3", "1.2.9", true),
        ("~1.2.3", "1.3.0", false),
        ("~1.2.3", "1.2.2", false),
        ("~1.2", "1.2.0", true),
        ("~1.2", "1.3.0", false),
        ("~1", "1.9.0", true),
        ("~1", "2.0.0", false),
        ("~>1.2", "1.2.7", true),
        ("~1.x", "1.9.0", true),
        ("~0.0.0", "3.4.5", true), // special case: everything
        ("~0", "0.9.0", true),
        ("~0", "1.0.0", false),
        // ^
        ("^1.2.3", "1.2.3", true),
        ("^1.2.3", "1.9.0", true),
        ("^1.2.3", "2.0.0", false),
        ("^1.2.3", "1.2.2", false),
        ("^1.2", "1.2.0", true),
        ("^1", "1.99.0", true),
        ("^0.2.3", "0.2.9", true),
        ("^0.2.3", "0.3.0", false),
        ("^0.2", "0.2.0", true),
        ("^0.0.3", "0.0.3", true),
        ("^0.0.3", "0.0.4", false), // only 0.0.3
        ("^0.0", "0.0.9", true),
        ("^0.0", "0.1.0", false),
        ("^0", "0.9.9", true),
        ("^0", "1.0.0", false),
        ("^*", "0.0.0", true),
        ("^*", "1.0.0", false), // `^*` is not "anything"
        // wildcards
        ("*", "0.0.0", true),
        ("*", "9.9.9", true),
        ("x", "1.0.0", true),
        ("X", "1.0.0", true),
        ("*", "1.0.0-rc.1", false), // prerelease not named
        ("1.2.x", "1.2.7", true),
        ("1.2.*", "1.2.7", true),
        ("1.2.X", "1.3.0", false),
        ("1.x", "1.9.9", true),
        ("1.x.x", "1.9.9", true),
        ("1.*", "2.0.0", false),
        ("v1.x", "1.0.0", true),
        ("<=*", "0.0.5", true), // quirk: `<=*` stops below 0.1.0
        ("<=*", "0.1.0", false),
        (">*", "0.0.1", true),
        (">=*", "5.0.0", true),
        // hyphen ranges
        ("1.2 - 1.4.5", "1.2.0", true),
        ("1.2 - 1.4.5", "1.4.5", true),
        ("1.2 - 1.4.5", "1.4.6", false),
        ("1.2 - 1.4.5", "1.1.9", false),
        ("1.0 - 1.2", "1.2.9", true), // upper partial is inclusive of 1.2.x
        ("1.0 - 1.2", "1.3.0", false),
        ("1 - 2", "2.9.0", true),
        ("1 - 2", "3.0.0", false),
        ("1.0 - 1.2 || 3 - 3.1", "3.1.5", true),
        ("1.0.0 - 1.2.0, !=1.1.0", "1.1.0", false),
        ("1.0.0 - 1.2.0 !=1.1.0", "1.1.1", true),
        // AND / OR
        (">=1.2 <1.4", "1.3.9", true),
        (">=1.2 <1.4", "1.4.0", false),
        (">= 1.2, < 1.4", "1.2.0", true),
        (">=1.2,<1.4", "1.4.0", false),
        (">=1.2 , <1.4", "1.3.0", true),
        ("  >=1.2\t<1.4  ", "1.3.0", true),
        ("~1.0 || ~1.2", "1.1.0", false),
        ("~1.0 || ~1.2", "1.2.5", true),
        ("<1.0||>=2.0", "2.0.0", true),
        ("1.2.3 1.2.4", "1.2.3", false),
        // prereleases are admitted per `||` alternative
        (">=1.2.0-0", "1.2.0-rc.1", true),
        (">=1.2.0-0 <1.3.0", "1.2.0-rc.1", true), // Helm 3.17: false
        (">=1.2.0-0 <1.3.0", "1.3.0-rc.1", true), // a prerelease of the bound is below it
        (">=1.2.0 <1.3.0", "1.2.5-rc.1", false),
        (">=1.2.0-0 || <1.0.0", "0.9.0-rc.1", false), // other alternative names none
        ("<1.0.0 || >=1.2.0-0", "1.5.0-rc.1", true),
        ("~1.2.0-0", "1.2.9-alpha", true),
        ("~1.2.0-beta", "1.2.0-alpha", false),
        ("^1.0.0-0", "1.9.0-rc.1", true),
        ("^1.0.0-0", "2.0.0-rc.1", false),
        ("1.x-0", "1.5.0-rc.1", true),
        ("*-0", "3.0.0-rc.1", true),
        ("!=1.2.x-rc.1", "1.2.0-rc.1", false),
        ("!=1.2.x-rc.1", "1.2.0-rc.2", true),
        ("1.2.0-rc.1 - 1.2.0", "1.2.0-rc.2", true),
        (">1.2-alpha", "1.3.0-beta", true),
    ];

    #[test]
    fn match_table() {
        assert!(MATCH_TABLE.len() >= 60);
        let mut failures = Vec::new();
        for &(constraint, version, expected) in MATCH_TABLE {
            let got = c(constraint).matches(&v(version));
            if got != expected {
                failures.push(format!("{constraint:?} vs {version}: expected {expected}"));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn refuses_malformed_constraints() {
        for text in [
            "",
            "   ",
            "||",
            "1.2 ||",
            "|| 1.2",
            ">",
            ">= ",
            ">>1",
            "=!1",
            "> =1",
            ">=1.2,",
            ",>=1.2",
            ">=1.2,,<2",
            ">=1.2<2",
            "1.2.3.4",
            "1.2.3-",
            "1.2.3-01",
            "latest",
            "V1.2.3",
            "1.x.y",
            "xx",
            "1|2",
            "1.2 - ",
            "- 1.2",
            ">=1.0 - 2.0",
            ">=1.0 1.2 - 1.4", // the range swallows the separating space
            "1.2 - 1.4 - 1.6",
            "18446744073709551616",
        ] {
            let err = Constraint::parse(text).expect_err(text);
            assert!(
                err.to_string().contains(&format!("{text:?}")),
                "error should name the text: {err}"
            );
        }
    }

    #[test]
    fn accepts_what_helm_accepts() {
        for text in [
            ">=1.0, 1.2 - 1.4",
            "1.2 - 1.4 >=1.3",
            "1.0 || 1.2 - 1.4",
            "~> 1.2",
            "^ 1.2",
            "1.x.|", // parts after a wildcard are not read
            "v1.2.3+build",
            ">= 1.2 , < 2",
        ] {
            Constraint::parse(text).unwrap_or_else(|e| panic!("{e}"));
        }
    }

    #[test]
    fn error_messages_say_what_is_wrong() {
        let msg = |t: &str| Constraint::parse(t).unwrap_err().to_string();
        assert!(
            msg(">>1").contains("unknown operator \">>\""),
            "{}",
            msg(">>1")
        );
        assert!(msg(">=").contains("not followed by a version"));
        assert!(msg("1.2 ||").contains("empty"));
        assert!(msg("banana").contains("\"banana\" is not a version"));
        assert!(msg("1.0.0-01").contains("leading zero"));
        assert!(msg(">=1,").contains("comma"));
    }

    #[test]
    fn exact_only_for_a_single_full_version() {
        let exact = |t: &str| c(t).exact().map(|v| v.to_string());
        assert_eq!(exact("1.2.3").as_deref(), Some("1.2.3"));
        assert_eq!(exact("=1.2.3").as_deref(), Some("1.2.3"));
        assert_eq!(exact("v1.2.3").as_deref(), Some("1.2.3"));
        assert_eq!(c("v1.2.3").exact().unwrap().original(), "v1.2.3");
        assert_eq!(exact(" = 1.2.3-rc.1 ").as_deref(), Some("1.2.3-rc.1"));
        assert_eq!(exact("1.2.3+b1").as_deref(), Some("1.2.3+b1"));
        for ranged in [
            "1.2",
            "1",
            "1.2.x",
            "*",
            ">=1.2.3",
            "~1.2.3",
            "^1.2.3",
            "!=1.2.3",
            "1.2.3 || 1.2.4",
            "1.2.3 1.2.3",
            "1.2.3 - 1.2.3",
        ] {
            assert_eq!(exact(ranged), None, "{ranged}");
        }
        assert_eq!(c(" ^1.2 ").as_str(), " ^1.2 ");
        assert_eq!(c("^1.2").to_string(), "^1.2");
    }

    const INDEX: &[&str] = &[
        "0.9.0",
        "1.0.0",
        "1.0.1",
        "1.1.0",
        "1.2.0-rc.1",
        "1.2.0",
        "1.2.3",
        "1.3.0",
        "1.10.0",
        "2.0.0-alpha",
        "2.0.0",
        "2.1.0+build.1",
        "not-a-version",
        "",
    ];

    #[test]
    fn select_highest_picks_what_helm_picks() {
        let cases: &[(&str, Option<&str>)] = &[
            ("*", Some("2.1.0+build.1")),
            ("1.2.3", Some("1.2.3")),
            ("1.2", Some("1.2.3")),
            ("1.x", Some("1.10.0")), // 1.10 > 1.3 numerically
            ("~1.2.0", Some("1.2.3")),
            ("^1.0.0", Some("1.10.0")),
            ("^0.9", Some("0.9.0")),
            ("^0.0.3", None),
            ("<1.2", Some("1.1.0")),
            ("<=1.2", Some("1.2.3")),
            (">1.2 <2", Some("1.10.0")),
            ("<2.0.0", Some("1.10.0")),
            ("1.0 - 1.2", Some("1.2.3")),
            (">=1.2.0-0 <1.2.0", Some("1.2.0-rc.1")),
            ("1.2.0-rc.1", Some("1.2.0-rc.1")),
            (">=2.0.0-0 <2.0.0", Some("2.0.0-alpha")),
            ("2.1.0", Some("2.1.0+build.1")),
            ("!=2.1.0", Some("2.0.0")),
            ("!=1.x <2", Some("0.9.0")),
            ("~1.0 || ~1.1", Some("1.1.0")),
            ("3.x", None),
        ];
        for &(constraint, expected) in cases {
            assert_eq!(
                select_highest(&c(constraint), INDEX.iter().copied()),
                expected,
                "{constraint}"
            );
        }
    }

    #[test]
    fn select_highest_prefers_the_verbatim_entry() {
        let index = ["1.0.0+b.2", "1.0.0+b.1", "1.0.0", "1.2", "1.2.5"];
        let pick = |t: &str| select_highest(&c(t), index.iter().copied());
        assert_eq!(pick("1.0.0+b.1"), Some("1.0.0+b.1"));
        assert_eq!(pick("1.2"), Some("1.2"));
        assert_eq!(pick("1.2.x"), Some("1.2.5"));
        // Equal precedence: deterministic, by text.
        assert_eq!(pick("1.0.0"), Some("1.0.0"));
        assert_eq!(pick("=1.0.0"), Some("1.0.0+b.2"));
        assert_eq!(select_highest(&c("*"), []), None);
    }
}
