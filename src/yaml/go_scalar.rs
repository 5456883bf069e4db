//! Scalar typing exactly as Helm's YAML reader (go-yaml v2 under `sigs.k8s.io/yaml`) does it.
//!
//! Helm reads values with YAML 1.1 resolution rules that no Rust YAML library implements
//! faithfully (`0X1F`, `0B11`, `1e400` as a string, `.inf` keys, float keys printed with 32-bit
//! precision), and each difference changes what a chart sees. This module is the single table of
//! those rules: [`resolve`] types one scalar from its text, style and tag, and [`go_key_string`]
//! turns a typed key into the string Helm's YAML → JSON step makes of it.

/// What one scalar is after resolution, before the JSON round trip Helm applies.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    Null,
    Bool(bool),
    Int(i64),
    /// Above `i64::MAX`: Go falls back to `uint64`.
    UInt(u64),
    Float(f64),
    String(String),
    /// Plain `<<` (or `!!merge`): a merge key when it stands as a key.
    Merge,
}

const PREFIX: &str = "tag:yaml.org,2002:";

/// Resolves a scalar. `tag` is the full tag (`tag:yaml.org,2002:int`, `!local`) or `None`;
/// `plain` says whether the scalar was written without quotes or block indicators. The error
/// is the reason Helm gives up on the scalar (a tag that does not fit its text).
pub fn resolve(value: &str, plain: bool, tag: Option<&str>) -> Result<Scalar, String> {
    let tag = tag.unwrap_or("");
    if tag.is_empty() && !plain {
        return Ok(Scalar::String(value.to_owned()));
    }
    // A non-specific `!` tag or any tag Go does not know leaves the text as a string; only
    // `!!binary` is decoded.
    let short = tag.strip_prefix(PREFIX);
    match short {
        _ if tag.is_empty() => {}
        Some("str") => return Ok(Scalar::String(value.to_owned())),
        Some("binary") => return decode_binary(value),
        Some("merge") => return Ok(Scalar::Merge),
        Some("bool" | "int" | "float" | "null" | "timestamp") => {}
        _ => return Ok(Scalar::String(value.to_owned())),
    }
    let (resolved, is_timestamp) =
        resolve_untagged(value, tag.is_empty() || short == Some("timestamp"));
    let Some(wanted) = short else {
        return Ok(resolved);
    };
    let got = match (&resolved, is_timestamp) {
        (_, true) => "timestamp",
        (Scalar::Null, _) => "null",
        (Scalar::Bool(_), _) => "bool",
        (Scalar::Int(_) | Scalar::UInt(_), _) => "int",
        (Scalar::Float(_), _) => "float",
        (Scalar::String(_) | Scalar::Merge, _) => "str",
    };
    match (wanted, got, &resolved) {
        (w, g, _) if w == g => Ok(resolved),
        ("float", "int", Scalar::Int(n)) => Ok(Scalar::Float(*n as f64)),
        _ => Err(format!("cannot read !!{got} `{value}` as a !!{wanted}")),
    }
}

/// go-yaml v2's `resolve` for an untagged plain scalar (or one tagged with a core type).
/// Returns the value and whether it was read as a timestamp (kept as its text, as Helm does).
fn resolve_untagged(value: &str, try_timestamp: bool) -> (Scalar, bool) {
    let string = || (Scalar::String(value.to_owned()), false);
    let Some(&first) = value.as_bytes().first() else {
        return (Scalar::Null, false);
    };
    let hint = match first {
        b'+' | b'-' | b'0'..=b'9' => 'D',
        b'y' | b'Y' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'o' | b'O' | b'~' => 'M',
        b'.' => '.',
        _ => return string(),
    };
    if let Some(known) = fixed_word(value) {
        return (known, false);
    }
    match hint {
        '.' => match parse_go_float(value) {
            Some(f) => (Scalar::Float(f), false),
            None => string(),
        },
        'D' => {
            if try_timestamp && is_timestamp(value) {
                return (Scalar::String(value.to_owned()), true);
            }
            let plain: String = value.chars().filter(|&c| c != '_').collect();
            if let Some(n) = parse_go_int(&plain) {
                return (Scalar::Int(n), false);
            }
            if let Some(n) = parse_go_uint(&plain) {
                return (Scalar::UInt(n), false);
            }
            if is_yaml_style_float(&plain)
                && let Some(f) = parse_go_float(&plain)
            {
                return (Scalar::Float(f), false);
            }
            if let Some(rest) = plain.strip_prefix("0b") {
                if let Some(n) = parse_radix_i64(rest, 2) {
                    return (Scalar::Int(n), false);
                }
                if let Some(n) = parse_radix_u64(rest, 2) {
                    return (Scalar::UInt(n), false);
                }
            } else if let Some(rest) = plain.strip_prefix("-0b")
                && let Some(n) = parse_radix_i64(&format!("-{rest}"), 2)
            {
                return (Scalar::Int(n), false);
            }
            string()
        }
        _ => string(),
    }
}

/// The words go-yaml v2 resolves by exact spelling.
fn fixed_word(value: &str) -> Option<Scalar> {
    Some(match value {
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            Scalar::Bool(true)
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            Scalar::Bool(false)
        }
        "~" | "null" | "Null" | "NULL" => Scalar::Null,
        ".nan" | ".NaN" | ".NAN" => Scalar::Float(f64::NAN),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => Scalar::Float(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => Scalar::Float(f64::NEG_INFINITY),
        _ => return None,
    })
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`
fn is_yaml_style_float(text: &str) -> bool {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let body = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let mantissa_ok = match mantissa.split_once('.') {
        Some(("", frac)) => digits(frac),
        Some((int, frac)) => digits(int) && (frac.is_empty() || digits(frac)),
        None => digits(mantissa),
    };
    mantissa_ok && exponent.is_none_or(|e| digits(e.strip_prefix(['-', '+']).unwrap_or(e)))
}

/// Go's `strconv.ParseFloat(s, 64)` for decimal text: an out-of-range value is an error, so
/// `1e400` stays a string.
fn parse_go_float(text: &str) -> Option<f64> {
    let body = text.strip_prefix(['-', '+']).unwrap_or(text);
    // Rust also accepts `inf`, `nan` and `infinity`; Go's resolver never gets here with them
    // (they do not start with a digit, sign or dot) except after a sign.
    if !body.starts_with(|c: char| c.is_ascii_digit() || c == '.') {
        return None;
    }
    if text.contains('_') {
        return None;
    }
    text.parse::<f64>().ok().filter(|f| f.is_finite())
}

/// Go's `strconv.ParseInt(s, 0, 64)`: optional sign, then `0x`/`0X`, `0o`/`0O`, `0b`/`0B`, a
/// leading `0` (octal) or decimal digits.
fn parse_go_int(text: &str) -> Option<i64> {
    let (negative, body) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let magnitude = parse_base0_magnitude(body)?;
    if negative {
        if magnitude <= i64::MAX as u64 + 1 {
            Some((magnitude as i64).wrapping_neg())
        } else {
            None
        }
    } else {
        i64::try_from(magnitude).ok()
    }
}

/// Go's `strconv.ParseUint(s, 0, 64)`: no sign allowed.
fn parse_go_uint(text: &str) -> Option<u64> {
    parse_base0_magnitude(text)
}

fn parse_base0_magnitude(body: &str) -> Option<u64> {
    let (radix, digits) = if let Some(rest) = body.strip_prefix("0x").or(body.strip_prefix("0X")) {
        (16, rest)
    } else if let Some(rest) = body.strip_prefix("0o").or(body.strip_prefix("0O")) {
        (8, rest)
    } else if let Some(rest) = body.strip_prefix("0b").or(body.strip_prefix("0B")) {
        (2, rest)
    } else if body.len() > 1 && body.starts_with('0') {
        (8, &body[1..])
    } else {
        (10, body)
    };
    parse_radix_u64(digits, radix)
}

/// Digits only (no sign), all valid for `radix`, at least one.
fn parse_radix_u64(digits: &str, radix: u32) -> Option<u64> {
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    u64::from_str_radix(digits, radix).ok()
}

/// Go's `strconv.ParseInt(s, radix, 64)` with an explicit radix: an optional sign, then digits.
fn parse_radix_i64(text: &str, radix: u32) -> Option<i64> {
    let (negative, digits) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let magnitude = parse_radix_u64(digits, radix)?;
    if negative {
        (magnitude <= i64::MAX as u64 + 1).then(|| (magnitude as i64).wrapping_neg())
    } else {
        i64::try_from(magnitude).ok()
    }
}

/// The four layouts go-yaml v2 accepts as timestamps (`2006-1-2`, with an optional
/// `T`/`t`/space time, fraction and, for `T`/`t`, a `Z` or `±hh:mm` zone). Helm keeps such a
/// value as its text; the check only matters for an explicit `!!timestamp` tag.
fn is_timestamp(text: &str) -> bool {
    let b = text.as_bytes();
    if b.len() < 5 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
        return false;
    }
    let year: u32 = text[..4].parse().unwrap_or(0);
    let mut rest = &text[5..];
    let Some(month) = take_num(&mut rest, 2).filter(|m| (1..=12).contains(m)) else {
        return false;
    };
    let Some(r) = rest.strip_prefix('-') else {
        return false;
    };
    rest = r;
    let leap = year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400));
    let days = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    if take_num(&mut rest, 2)
        .filter(|d| (1..=days).contains(d))
        .is_none()
    {
        return false;
    }
    if rest.is_empty() {
        return true;
    }
    let zoned = match rest.as_bytes()[0] {
        b'T' | b't' => true,
        b' ' => false,
        _ => return false,
    };
    rest = &rest[1..];
    let hour = take_num(&mut rest, 2).filter(|h| *h < 24);
    let minute = rest.strip_prefix(':').and_then(|r| {
        rest = r;
        take_num(&mut rest, 2).filter(|m| *m < 60)
    });
    let second = rest.strip_prefix(':').and_then(|r| {
        rest = r;
        take_num(&mut rest, 2).filter(|s| *s < 60)
    });
    if hour.is_none() || minute.is_none() || second.is_none() {
        return false;
    }
    if let Some(r) = rest.strip_prefix(['.', ',']) {
        let digits = r.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return false;
        }
        rest = &r[digits..];
    }
    if !zoned {
        return rest.is_empty();
    }
    if rest == "Z" {
        return true;
    }
    let zb = rest.as_bytes();
    zb.len() == 6
        && matches!(zb[0], b'+' | b'-')
        && zb[1..3].iter().all(u8::is_ascii_digit)
        && zb[3] == b':'
        && zb[4..6].iter().all(u8::is_ascii_digit)
}

/// Takes 1 to `max` leading digits.
fn take_num(rest: &mut &str, max: usize) -> Option<u32> {
    let n = rest
        .bytes()
        .take(max)
        .take_while(u8::is_ascii_digit)
        .count();
    if n == 0 {
        return None;
    }
    let value = rest[..n].parse().ok()?;
    *rest = &rest[n..];
    Some(value)
}

/// `!!binary`: standard base64 (line breaks ignored). Bytes that are not UTF-8 become U+FFFD
/// one byte at a time, as Go's JSON encoder makes of them on Helm's side.
fn decode_binary(text: &str) -> Result<Scalar, String> {
    use base64::Engine as _;
    let compact: String = text.chars().filter(|c| !matches!(c, '\r' | '\n')).collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .map_err(|_| "!!binary value contains invalid base64 data".to_string())?;
    Ok(Scalar::String(go_lossy_utf8(&bytes)))
}

fn go_lossy_utf8(mut bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    while !bytes.is_empty() {
        match std::str::from_utf8(bytes) {
            Ok(valid) => {
                out.push_str(valid);
                break;
            }
            Err(e) => {
                let (valid, after) = bytes.split_at(e.valid_up_to());
                out.push_str(std::str::from_utf8(valid).expect("checked prefix"));
                out.push(char::REPLACEMENT_CHARACTER);
                bytes = &after[1..];
            }
        }
    }
    out
}

/// How Helm's YAML → JSON step spells a non-string key: integers in decimal, booleans as
/// `true`/`false`, floats with Go's 32-bit shortest formatting (`%g`-like: `0.12345679`,
/// `1e+06`, `-0`, `.inf`, `.nan`).
pub fn go_float32_key(value: f64) -> String {
    let f = value as f32;
    if f.is_nan() {
        return ".nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { ".inf" } else { "-.inf" }.into();
    }
    let negative = f.is_sign_negative();
    if f == 0.0 {
        return if negative { "-0" } else { "0" }.into();
    }
    // Rust's `{:e}` prints the shortest digits that read back as the same f32.
    let formatted = format!("{:e}", f.abs());
    let (mantissa, exponent) = formatted.split_once('e').expect("exponent form");
    let exponent: i32 = exponent.parse().expect("exponent");
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let nd = digits.len() as i32;
    let mut out = String::new();
    if negative {
        out.push('-');
    }
    let dp = exponent + 1;
    // Go's shortest `%g`: exponent form when the exponent is below -4 or at least 6.
    if !(-4..6).contains(&exponent) {
        out.push_str(&digits[..1]);
        if nd > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if exponent < 0 { '-' } else { '+' });
        out.push_str(&format!("{:02}", exponent.abs()));
        return out;
    }
    if dp <= 0 {
        out.push_str("0.");
        out.push_str(&"0".repeat((-dp) as usize));
        out.push_str(&digits);
    } else if dp >= nd {
        out.push_str(&digits);
        out.push_str(&"0".repeat((dp - nd) as usize));
    } else {
        out.push_str(&digits[..dp as usize]);
        out.push('.');
        out.push_str(&digits[dp as usize..]);
    }
    out
}
