//! The part of shopspring/decimal that Sprig's `addf`, `subf`, `mulf` and `divf` use: a float
//! taken at its shortest decimal text, exact sums and products, quotients rounded half away
//! from zero to 16 decimal places, and the result read back as the nearest float64. That is
//! why `addf 0.1 0.2` is `0.3` in Helm where float arithmetic gives 0.30000000000000004.

/// `m × 10^e`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Decimal {
    m: i128,
    e: i32,
}

/// Digits after the point of a quotient (shopspring's `DivisionPrecision`).
const DIVISION_PRECISION: i32 = 16;

impl Decimal {
    /// The shortest decimal that reads back as `f`; `None` for NaN and infinities (where
    /// shopspring panics).
    pub fn from_f64(f: f64) -> Option<Decimal> {
        if !f.is_finite() {
            return None;
        }
        let text = format!("{f:e}");
        let (mantissa, exp) = text.split_once('e')?;
        let exp: i32 = exp.parse().ok()?;
        let (int_part, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        let m: i128 = format!("{int_part}{frac}").parse().ok()?;
        Some(Decimal {
            m,
            e: exp - frac.len() as i32,
        })
    }

    pub fn to_f64(self) -> f64 {
        format!("{}e{}", self.m, self.e).parse().unwrap_or(f64::NAN)
    }

    /// The float's decimal; an infinity (an overflowed result) becomes a decimal far beyond
    /// float64's range, so it reads back as the same infinity.
    fn approx(f: f64) -> Decimal {
        Decimal::from_f64(f).unwrap_or(Decimal {
            m: if f.is_sign_negative() { -1 } else { 1 },
            e: if f.is_nan() { 0 } else { 100_000 },
        })
    }

    /// Both values with the smaller exponent, or `None` when that overflows.
    fn aligned(self, other: Decimal) -> Option<(i128, i128, i32)> {
        let e = self.e.min(other.e);
        let scale = |d: Decimal| d.m.checked_mul(10i128.checked_pow((d.e - e) as u32)?);
        Some((scale(self)?, scale(other)?, e))
    }

    pub fn add(self, other: Decimal) -> Option<Decimal> {
        Some(match self.aligned(other) {
            Some((a, b, e)) => match a.checked_add(b) {
                Some(m) => Decimal { m, e },
                None => Decimal::approx(self.to_f64() + other.to_f64()),
            },
            None => Decimal::approx(self.to_f64() + other.to_f64()),
        })
    }

    pub fn sub(self, other: Decimal) -> Option<Decimal> {
        self.add(Decimal {
            m: -other.m,
            e: other.e,
        })
    }

    pub fn mul(self, other: Decimal) -> Option<Decimal> {
        Some(match self.m.checked_mul(other.m) {
            Some(m) => Decimal {
                m,
                e: self.e + other.e,
            },
            None => Decimal::approx(self.to_f64() * other.to_f64()),
        })
    }

    /// `None` for a division by zero (shopspring panics). The quotient is exact to 16 places
    /// whatever the operands' magnitudes (long division when `10^k` leaves 128 bits).
    pub fn div(self, other: Decimal) -> Option<Decimal> {
        if other.m == 0 {
            return None;
        }
        // The quotient in units of 10^-16 is n·10^k / d.
        let k = self.e - other.e + DIVISION_PRECISION;
        let negative = (self.m < 0) != (other.m < 0);
        let (n, d) = (self.m.unsigned_abs(), other.m.unsigned_abs());
        let digits = if k >= 0 {
            long_division(n, k as usize, d)
        } else if -k > 20 {
            // n < 10^18 and the divisor is at least 10^21: the quotient rounds to 0.
            "0".to_owned()
        } else {
            let den = d * 10u128.pow((-k) as u32);
            let (q, r) = (n / den, n % den);
            (q + u128::from(r * 2 >= den)).to_string()
        };
        let text = format!(
            "{}{digits}e-{DIVISION_PRECISION}",
            if negative { "-" } else { "" }
        );
        Some(match digits.parse::<i128>() {
            Ok(m) => Decimal {
                m: if negative { -m } else { m },
                e: -DIVISION_PRECISION,
            },
            Err(_) => Decimal::approx(text.parse().unwrap_or(f64::NAN)),
        })
    }
}

/// The decimal digits of `round(n·10^zeros / d)`, halves away from zero, by long division
/// (the remainder stays below `d`, so nothing overflows).
fn long_division(n: u128, zeros: usize, d: u128) -> String {
    let dividend = n.to_string() + &"0".repeat(zeros);
    let mut quotient = String::with_capacity(dividend.len());
    let mut rem: u128 = 0;
    for c in dividend.bytes() {
        rem = rem * 10 + u128::from(c - b'0');
        let digit = rem / d;
        rem %= d;
        if !(quotient.is_empty() && digit == 0) {
            quotient.push(char::from(b'0' + digit as u8));
        }
    }
    if quotient.is_empty() {
        quotient.push('0');
    }
    if rem * 2 >= d {
        increment(&mut quotient);
    }
    quotient
}

/// Adds one to a string of decimal digits.
fn increment(digits: &mut String) {
    let mut bytes = std::mem::take(digits).into_bytes();
    let mut i = bytes.len();
    loop {
        if i == 0 {
            bytes.insert(0, b'1');
            break;
        }
        i -= 1;
        if bytes[i] == b'9' {
            bytes[i] = b'0';
        } else {
            bytes[i] += 1;
            break;
        }
    }
    *digits = String::from_utf8(bytes).unwrap_or_default();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(f: f64) -> Decimal {
        Decimal::from_f64(f).unwrap()
    }

    #[test]
    fn exact_decimal_arithmetic() {
        assert_eq!(d(0.1).add(d(0.2)).unwrap().to_f64(), 0.3);
        assert_eq!(d(1.1).mul(d(3.0)).unwrap().to_f64(), 3.3);
        assert_eq!(d(1.0).div(d(3.0)).unwrap().to_f64(), 0.3333333333333333);
        assert_eq!(d(2.0).div(d(3.0)).unwrap().to_f64(), 0.6666666666666667);
        assert_eq!(d(-2.0).div(d(3.0)).unwrap().to_f64(), -0.6666666666666667);
        assert_eq!(d(1e-20).div(d(3.0)).unwrap().to_f64(), 0.0);
        assert_eq!(d(1e300).add(d(1e-300)).unwrap().to_f64(), 1e300);
        assert!(d(1.0).div(d(0.0)).is_none());
        assert_eq!(d(1e31).div(d(3.0)).unwrap().to_f64(), 3.3333333333333336e30);
        assert_eq!(
            d(9.1e38).div(d(3.0)).unwrap().to_f64(),
            3.0333333333333335e38
        );
        assert_eq!(
            d(-1e300).div(d(7.0)).unwrap().to_f64(),
            -1.4285714285714286e299
        );
        assert_eq!(d(1.0).div(d(3e20)).unwrap().to_f64(), 0.0);
        assert_eq!(d(2.0).div(d(3e16)).unwrap().to_f64(), 1e-16);
    }
}
