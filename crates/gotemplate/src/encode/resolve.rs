//! go-yaml v2's reading of a plain scalar (YAML 1.1 with Go's number parsers), asked only
//! one question: would this string, written unquoted, read back as the same string? If not,
//! the encoder double-quotes it (`"yes"`, `"0755"`, `"1_000"`, `"2001-12-14"`, `"1:30"`).

/// Whether go-yaml v2 resolves the plain scalar `s` to a string (and it is not a YAML 1.1
/// base-60 float, which go-yaml quotes for other readers' sake).
pub(crate) fn plain_is_string(s: &str) -> bool {
    resolves_to_string(s, false) && !is_base60_float(s)
}

/// The same question for go-yaml v3, whose resolver drops the YAML 1.1 words (`yes`, `on`)
/// but whose encoder still quotes them, and which also reads `0o`-prefixed octals.
pub(crate) fn plain_is_string_v3(s: &str) -> bool {
    resolves_to_string(s, true) && !is_base60_float(s)
}

fn resolves_to_string(s: &str, v3: bool) -> bool {
    let Some(&first) = s.as_bytes().first() else {
        return false; // "" is null
    };
    match first {
        b'y' | b'Y' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'o' | b'O' | b'~' => !in_map(s),
        b'.' => !in_map(s) && !go_parse_float_ok(s),
        b'+' | b'-' | b'0'..=b'9' => !in_map(s) && !signed_or_digit_is_special(s, v3),
        _ => true,
    }
}

/// The fixed words of go-yaml v2's resolve table.
fn in_map(s: &str) -> bool {
    matches!(
        s,
        "y" | "Y"
            | "yes"
            | "Yes"
            | "YES"
            | "true"
            | "True"
            | "TRUE"
            | "on"
            | "On"
            | "ON"
            | "n"
            | "N"
            | "no"
            | "No"
            | "NO"
            | "false"
            | "False"
            | "FALSE"
            | "off"
            | "Off"
            | "OFF"
            | "~"
            | "null"
            | "Null"
            | "NULL"
            | ".nan"
            | ".NaN"
            | ".NAN"
            | ".inf"
            | ".Inf"
            | ".INF"
            | "+.inf"
            | "+.Inf"
            | "+.INF"
            | "-.inf"
            | "-.Inf"
            | "-.INF"
    )
}

/// A scalar starting with a sign or digit: a timestamp, an int (any base Go's `ParseInt`
/// with base 0 reads, underscores removed), a uint, a float, or `0b` binary forms.
fn signed_or_digit_is_special(s: &str, v3: bool) -> bool {
    if super::timestamp::is_timestamp(s) {
        return true;
    }
    let plain: String = s.chars().filter(|&c| c != '_').collect();
    if parse_int_base0(&plain).is_some() {
        return true;
    }
    if is_yaml_style_float(&plain) && go_parse_float_ok(&plain) {
        return true;
    }
    if let Some(rest) = plain.strip_prefix("0b") {
        return parse_signed_radix(rest, 2).is_some() || parse_unsigned_radix(rest, 2).is_some();
    }
    if let Some(rest) = plain.strip_prefix("-0b") {
        return parse_signed_radix(&format!("-{rest}"), 2).is_some();
    }
    if v3 {
        if let Some(rest) = plain.strip_prefix("0o") {
            return parse_signed_radix(rest, 8).is_some()
                || parse_unsigned_radix(rest, 8).is_some();
        }
        if let Some(rest) = plain.strip_prefix("-0o") {
            return parse_signed_radix(&format!("-{rest}"), 8).is_some();
        }
    }
    false
}

/// `strconv.ParseInt(s, 0, 64)` or `strconv.ParseUint(s, 0, 64)` succeeds (underscores are
/// already gone).
fn parse_int_base0(s: &str) -> Option<()> {
    let (negative, body) = match s.as_bytes().first()? {
        b'+' => (false, &s[1..]),
        b'-' => (true, &s[1..]),
        _ => (false, s),
    };
    let (radix, digits) = base0_prefix(body);
    let magnitude = parse_unsigned_radix(digits, radix)?;
    let signed_ok = if negative {
        magnitude <= 1u64 << 63
    } else {
        magnitude <= i64::MAX as u64
    };
    // ParseUint (the fallback) takes no sign.
    let unsigned_ok = s.as_bytes()[0] != b'+' && !negative;
    (signed_ok || unsigned_ok).then_some(())
}

/// Go's base-0 prefixes: `0x`, `0o`, `0b` (only with at least one more character), else a
/// leading `0` means octal (parsing the `0` itself as an octal digit changes nothing, and
/// keeps `"0"` alone a valid zero).
fn base0_prefix(s: &str) -> (u32, &str) {
    let b = s.as_bytes();
    if b.first() == Some(&b'0') {
        if b.len() >= 3 {
            match b[1].to_ascii_lowercase() {
                b'x' => return (16, &s[2..]),
                b'o' => return (8, &s[2..]),
                b'b' => return (2, &s[2..]),
                _ => {}
            }
        }
        return (8, s);
    }
    (10, s)
}

fn parse_unsigned_radix(digits: &str, radix: u32) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    let mut v: u64 = 0;
    for c in digits.chars() {
        let d = c.to_digit(radix)?;
        v = v.checked_mul(radix as u64)?.checked_add(d as u64)?;
    }
    Some(v)
}

/// `strconv.ParseInt(s, radix, 64)` with an optional sign.
fn parse_signed_radix(s: &str, radix: u32) -> Option<i64> {
    let (negative, digits) = match s.as_bytes().first()? {
        b'+' => (false, &s[1..]),
        b'-' => (true, &s[1..]),
        _ => (false, s),
    };
    let m = parse_unsigned_radix(digits, radix)?;
    if negative {
        (m <= 1u64 << 63).then(|| (m as i64).wrapping_neg())
    } else {
        i64::try_from(m).ok()
    }
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`
fn is_yaml_style_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            digits(&mut i);
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// `strconv.ParseFloat(s, 64)` returns no error: Go's decimal float syntax (underscores only
/// between digits), `inf`/`infinity`/`nan` in any case, and no overflow to infinity. Hex
/// floats never reach here (they start with a digit and fail the regular expression first,
/// or start with `.`).
fn go_parse_float_ok(s: &str) -> bool {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let lower = body.to_ascii_lowercase();
    if lower == "inf" || lower == "infinity" {
        return true;
    }
    if lower == "nan" {
        return s == body;
    }
    if body.contains('_') && !underscores_between_digits(body) {
        return false;
    }
    let cleaned: String = s.chars().filter(|&c| c != '_').collect();
    if !is_yaml_style_float(&cleaned) {
        return false;
    }
    cleaned.parse::<f64>().is_ok_and(f64::is_finite)
}

fn underscores_between_digits(s: &str) -> bool {
    let b = s.as_bytes();
    b.iter().enumerate().all(|(i, &c)| {
        c != b'_'
            || (i > 0 && b[i - 1].is_ascii_digit() && b.get(i + 1).is_some_and(u8::is_ascii_digit))
    })
}

/// `^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`, tried only on scalars that start with
/// a sign or digit and contain `:`.
pub(crate) fn is_base60_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    if !b.get(i).is_some_and(u8::is_ascii_digit) {
        return false;
    }
    i += 1;
    while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
        i += 1;
    }
    let mut groups = 0;
    while b.get(i) == Some(&b':') {
        i += 1;
        // [0-5]?[0-9]: one digit, or a 0-5 digit followed by a digit.
        match (b.get(i), b.get(i + 1)) {
            (Some(a), Some(c)) if (b'0'..=b'5').contains(a) && c.is_ascii_digit() => i += 2,
            (Some(a), _) if a.is_ascii_digit() => i += 1,
            _ => return false,
        }
        groups += 1;
    }
    if groups == 0 {
        return false;
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
            i += 1;
        }
    }
    i == b.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_1_1_words_and_numbers_are_not_strings() {
        for s in [
            "",
            "y",
            "Yes",
            "ON",
            "off",
            "~",
            "null",
            "NULL",
            ".inf",
            "-.Inf",
            ".nan",
            "0755",
            "0o17",
            "0x1F",
            "-0x1F",
            "0b101",
            "1_000",
            "1__0",
            "1e6",
            "1E6",
            "1.",
            ".5",
            "+1",
            "-0",
            "08",
            "1.10",
            "2001-12-14",
            "2001-12-14T21:59:43.10-05:00",
            "1:30",
            "190:20:30",
            "99999999999999999999",
            "18446744073709551615",
            "0b-1",
        ] {
            assert!(!plain_is_string(s), "{s:?} should need quotes");
        }
        for s in [
            "yEs",
            "nULL",
            "1,000",
            "_1",
            "0x",
            "1e400",
            "abc",
            "1.2.3",
            "2001-13-01",
            "<<",
            "-",
            ".",
            "0xZZ",
            "1:60",
            "+-1",
            "v1.0",
            "1e",
            "e1",
        ] {
            assert!(plain_is_string(s), "{s:?} should read back as a string");
        }
    }
}
