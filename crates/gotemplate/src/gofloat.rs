//! Go's `strconv.FormatFloat` for the shortest representations, the one place float text is
//! made: `%v` printing, `toJson` and `toYaml` all go through here.
//!
//! Rust and Go agree on the shortest digits that read back as the same float64; they differ in
//! where the exponent goes, so the digits come from Rust and the layout follows Go.

/// The shortest decimal digits of `f` (no sign, no dot) and the decimal exponent of the first
/// digit: 1234.5 → ("12345", 3).
fn shortest_digits(f: f64) -> (String, i32) {
    let text = format!("{:e}", f.abs());
    let (mantissa, exp) = text
        .split_once('e')
        .expect("Rust's {:e} always has an exponent");
    (
        mantissa.replace('.', ""),
        exp.parse().expect("exponent is an integer"),
    )
}

fn special(f: f64) -> Option<&'static str> {
    if f.is_nan() {
        Some("NaN")
    } else if f == f64::INFINITY {
        Some("+Inf")
    } else if f == f64::NEG_INFINITY {
        Some("-Inf")
    } else {
        None
    }
}

fn sign(f: f64) -> &'static str {
    if f.is_sign_negative() { "-" } else { "" }
}

/// `strconv.FormatFloat(f, 'e', -1, 64)`: `1e+06`, `1.5e-07`.
pub fn format_e(f: f64) -> String {
    if let Some(s) = special(f) {
        return s.into();
    }
    let (digits, exp) = shortest_digits(f);
    let mut out = String::from(sign(f));
    out.push_str(&digits[..1]);
    if digits.len() > 1 {
        out.push('.');
        out.push_str(&digits[1..]);
    }
    out.push('e');
    out.push(if exp < 0 { '-' } else { '+' });
    let e = exp.unsigned_abs();
    if e < 10 {
        out.push('0');
    }
    out.push_str(&e.to_string());
    out
}

/// `strconv.FormatFloat(f, 'f', -1, 64)`: `1000000`, `0.000001`.
pub fn format_f(f: f64) -> String {
    if let Some(s) = special(f) {
        return s.into();
    }
    let (digits, exp) = shortest_digits(f);
    let mut out = String::from(sign(f));
    if f == 0.0 {
        out.push('0');
        return out;
    }
    if exp < 0 {
        out.push_str("0.");
        for _ in 0..(-exp - 1) {
            out.push('0');
        }
        out.push_str(&digits);
    } else {
        let int_len = exp as usize + 1;
        if digits.len() <= int_len {
            out.push_str(&digits);
            for _ in digits.len()..int_len {
                out.push('0');
            }
        } else {
            out.push_str(&digits[..int_len]);
            out.push('.');
            out.push_str(&digits[int_len..]);
        }
    }
    out
}

/// `strconv.FormatFloat(f, 'g', -1, 64)`: with the shortest precision Go switches to the
/// exponent form when the exponent is below -4 or at least 6 (`1e+06`, `1e-05`).
pub fn format_g(f: f64) -> String {
    if let Some(s) = special(f) {
        return s.into();
    }
    if f == 0.0 {
        return format!("{}0", sign(f));
    }
    let (_, exp) = shortest_digits(f);
    if !(-4..6).contains(&exp) {
        format_e(f)
    } else {
        format_f(f)
    }
}

/// Go's `%v` of a float64 (`fmt` uses `'g'` with the shortest precision): `1e+06`, `123456`,
/// `0.0001`, `1e-05`.
pub fn format_v(f: f64) -> String {
    format_g(f)
}

/// `encoding/json`'s float64 text: `'f'` unless the magnitude is below 1e-6 or at least 1e21,
/// then `'e'` with a one-digit exponent where Go trims it (`1e-07`, `1e+21`).
pub fn format_json(f: f64) -> String {
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let s = format_e(f);
        // Go: clean up e-09 to e-9.
        if let Some(pos) = s.find("e-0") {
            let mut t = s.clone();
            t.replace_range(pos..pos + 3, "e-");
            return t;
        }
        return s;
    }
    format_f(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_layouts() {
        assert_eq!(format_v(1_000_000.0), "1e+06");
        assert_eq!(format_v(123_456.0), "123456");
        assert_eq!(format_v(1_234_567.0), "1.234567e+06");
        assert_eq!(format_v(0.0001), "0.0001");
        assert_eq!(format_v(0.00001), "1e-05");
        assert_eq!(format_v(1.5), "1.5");
        assert_eq!(format_v(-2.0), "-2");
        assert_eq!(format_v(0.0), "0");
        assert_eq!(format_json(1_000_000.0), "1000000");
        assert_eq!(format_json(1e21), "1e+21");
        assert_eq!(format_json(1e-7), "1e-7");
        assert_eq!(format_json(0.5), "0.5");
        assert_eq!(format_f(1e21), "1000000000000000000000");
        assert_eq!(format_e(12345.0), "1.2345e+04");
    }
}
