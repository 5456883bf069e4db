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

    fn approx(f: f64) -> Decimal {
        Decimal::from_f64(f).unwrap_or(Decimal { m: 0, e: 0 })
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

    /// `None` for a division by zero (shopspring panics).
    pub fn div(self, other: Decimal) -> Option<Decimal> {
        if other.m == 0 {
            return None;
        }
        let k = self.e - other.e + DIVISION_PRECISION;
        let pow = |n: i32| 10i128.checked_pow(n.unsigned_abs());
        let operands = if k >= 0 {
            pow(k)
                .and_then(|p| self.m.checked_mul(p))
                .map(|n| (n, other.m))
        } else {
            pow(k)
                .and_then(|p| other.m.checked_mul(p))
                .map(|d| (self.m, d))
        };
        let Some((num, den)) = operands else {
            return Some(Decimal::approx(self.to_f64() / other.to_f64()));
        };
        let mut q = num / den;
        let r = num % den;
        if r.unsigned_abs() * 2 >= den.unsigned_abs() {
            q += if (num < 0) == (den < 0) { 1 } else { -1 };
        }
        Some(Decimal {
            m: q,
            e: -DIVISION_PRECISION,
        })
    }
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
    }
}
