//! Sprig's arithmetic. The integer functions cast every argument with `cast.ToInt64` and
//! return int64 (wrapping on overflow, as Go does); the `…f` functions compute in
//! shopspring/decimal and return float64; `round`, `floor` and `ceil` return float64.

use super::args::Args;
use super::conv::{atoi, format_v, to_float64, to_int64};
use super::decimal::Decimal;
use super::{def, text};
use crate::{Error, FuncMap, Value};

pub(crate) fn register(m: &mut FuncMap) {
    register_integer(m);
    register_float(m);
    register_conversions(m);
}

/// The int64 arithmetic: every argument cast with `cast.ToInt64`, wrapping on overflow.
fn register_integer(m: &mut FuncMap) {
    def(m, "add1", |a| {
        a.exact(1)?;
        Ok(Value::Int(to_int64(a.get(0)).wrapping_add(1)))
    });
    def(m, "add", |a| {
        Ok(Value::Int(
            a.v.iter().map(to_int64).fold(0, i64::wrapping_add),
        ))
    });
    def(m, "sub", |a| int2(a, |x, y| Ok(x.wrapping_sub(y))));
    def(m, "div", |a| {
        int2(a, |x, y| {
            x.checked_div(y).or((y == -1).then_some(x)).ok_or(())
        })
    });
    def(m, "mod", |a| {
        int2(a, |x, y| {
            if y == 0 {
                Err(())
            } else {
                Ok(x.wrapping_rem(y))
            }
        })
    });
    def(m, "mul", |a| {
        a.at_least(1)?;
        Ok(Value::Int(
            a.v.iter().map(to_int64).fold(1, i64::wrapping_mul),
        ))
    });
    def(m, "max", |a| extreme(a, i64::max));
    def(m, "biggest", |a| extreme(a, i64::max));
    def(m, "min", |a| extreme(a, i64::min));
}

/// The float64 functions, the `…f` ones computed in decimal.
fn register_float(m: &mut FuncMap) {
    def(m, "maxf", |a| extreme_f(a, f64::max));
    def(m, "minf", |a| extreme_f(a, f64::min));
    def(m, "add1f", |a| {
        a.exact(1)?;
        decimal_op(a, a.get(0), &[Value::Int(1)], Decimal::add)
    });
    def(m, "addf", |a| {
        decimal_op(a, &Value::Float(0.0), a.v, Decimal::add)
    });
    def(m, "subf", |a| {
        a.at_least(1)?;
        decimal_op(a, a.get(0), &a.v[1..], Decimal::sub)
    });
    def(m, "mulf", |a| {
        a.at_least(1)?;
        decimal_op(a, a.get(0), &a.v[1..], Decimal::mul)
    });
    def(m, "divf", |a| {
        a.at_least(1)?;
        decimal_op(a, a.get(0), &a.v[1..], Decimal::div)
    });
    def(m, "floor", |a| {
        a.exact(1)?;
        Ok(Value::Float(to_float64(a.get(0)).floor()))
    });
    def(m, "ceil", |a| {
        a.exact(1)?;
        Ok(Value::Float(to_float64(a.get(0)).ceil()))
    });
}

/// Conversions, rounding and integer sequences.
fn register_conversions(m: &mut FuncMap) {
    def(m, "round", round);
    def(m, "until", until);
    def(m, "untilStep", until_step);
    def(m, "seq", seq);
    def(m, "atoi", |a| {
        a.exact(1)?;
        Ok(Value::Int(atoi(a.str(0)?)))
    });
    def(m, "int64", |a| {
        a.exact(1)?;
        Ok(Value::Int(to_int64(a.get(0))))
    });
    def(m, "int", |a| {
        a.exact(1)?;
        Ok(Value::Int(to_int64(a.get(0))))
    });
    def(m, "float64", |a| {
        a.exact(1)?;
        Ok(Value::Float(to_float64(a.get(0))))
    });
    def(m, "toDecimal", |a| {
        a.exact(1)?;
        Ok(Value::Int(parse_octal(&format_v(a.get(0))).unwrap_or(0)))
    });
}

/// Two int64-cast operands; `Err(())` is Go's integer division by zero.
fn int2(a: Args, f: impl Fn(i64, i64) -> Result<i64, ()>) -> Result<Value, Error> {
    a.exact(2)?;
    f(to_int64(a.get(0)), to_int64(a.get(1)))
        .map(Value::Int)
        .map_err(|()| a.fail("runtime error: integer divide by zero"))
}

fn extreme(a: Args, pick: fn(i64, i64) -> i64) -> Result<Value, Error> {
    a.at_least(1)?;
    Ok(Value::Int(
        a.v[1..].iter().map(to_int64).fold(to_int64(a.get(0)), pick),
    ))
}

/// `math.Max`/`math.Min`: NaN wins, and between zeros `Max` prefers +0 and `Min` -0.
fn extreme_f(a: Args, pick: fn(f64, f64) -> f64) -> Result<Value, Error> {
    a.at_least(1)?;
    let is_max = pick(0.0, 1.0) == 1.0;
    let mut acc = to_float64(a.get(0));
    for v in &a.v[1..] {
        let x = to_float64(v);
        acc = if acc.is_nan() || x.is_nan() {
            f64::NAN
        } else if acc == 0.0 && x == 0.0 {
            let negative = if is_max {
                acc.is_sign_negative() && x.is_sign_negative()
            } else {
                acc.is_sign_negative() || x.is_sign_negative()
            };
            if negative { -0.0 } else { 0.0 }
        } else {
            pick(acc, x)
        };
    }
    Ok(Value::Float(acc))
}

fn decimal_op(
    a: Args,
    first: &Value,
    rest: &[Value],
    op: fn(Decimal, Decimal) -> Option<Decimal>,
) -> Result<Value, Error> {
    let not_finite = || a.fail("Cannot create a Decimal from a non-finite float");
    let mut acc = Decimal::from_f64(to_float64(first)).ok_or_else(not_finite)?;
    for v in rest {
        let x = Decimal::from_f64(to_float64(v)).ok_or_else(not_finite)?;
        acc = op(acc, x).ok_or_else(|| a.fail("decimal division by 0"))?;
    }
    Ok(Value::Float(acc.to_f64()))
}

/// Sprig's `round VALUE PLACES [HALF]`: rounds up when the fraction at `PLACES` is at least
/// `HALF` (0.5 unless given).
fn round(a: Args) -> Result<Value, Error> {
    a.at_least(2)?;
    let places = a.int(1)?;
    let round_on = match a.v.get(2) {
        Some(Value::Float(f)) => *f,
        Some(Value::Int(n)) => *n as f64,
        Some(other) => return Err(super::args::wrong_type("float64", other)),
        None => 0.5,
    };
    let value = to_float64(a.get(0));
    let pow = 10f64.powf(places as f64);
    let digit = pow * value;
    let fraction = digit % 1.0;
    let rounded = if fraction >= round_on {
        digit.ceil()
    } else {
        digit.floor()
    };
    Ok(Value::Float(rounded / pow))
}

/// The most elements `until`, `untilStep` and `seq` produce: a chart that asks for more is
/// refused rather than exhausting memory.
const MAX_SEQUENCE: i64 = 1 << 24;

/// Sprig's `untilStep`: from `start` toward `stop` (exclusive) by `step`; a step that does
/// not move toward `stop` gives nothing.
fn sequence(start: i64, stop: i64, step: i64) -> Result<Vec<i64>, String> {
    let count = if stop < start {
        if step >= 0 {
            return Ok(Vec::new());
        }
        (i128::from(start) - i128::from(stop) - i128::from(step) - 1) / -i128::from(step)
    } else {
        if step <= 0 {
            return Ok(Vec::new());
        }
        (i128::from(stop) - i128::from(start) + i128::from(step) - 1) / i128::from(step)
    };
    if count > i128::from(MAX_SEQUENCE) {
        return Err(format!(
            "sequence of {count} numbers is longer than {MAX_SEQUENCE}"
        ));
    }
    let at = |i: i128| (i128::from(start) + i * i128::from(step)) as i64;
    Ok((0..count).map(at).collect())
}

fn ints(a: &Args, v: Result<Vec<i64>, String>) -> Result<Value, Error> {
    let v = v.map_err(|e| a.fail(e))?;
    Ok(Value::list(v.into_iter().map(Value::Int).collect()))
}

fn until(a: Args) -> Result<Value, Error> {
    a.exact(1)?;
    let count = a.int(0)?;
    ints(&a, sequence(0, count, if count < 0 { -1 } else { 1 }))
}

fn until_step(a: Args) -> Result<Value, Error> {
    a.exact(3)?;
    ints(&a, sequence(a.int(0)?, a.int(1)?, a.int(2)?))
}

/// Sprig's `seq` (GNU seq): `seq END`, `seq START END`, `seq START STEP END`, counting
/// down when END is below START; numbers joined by spaces.
fn seq(a: Args) -> Result<Value, Error> {
    let p: Vec<i64> = (0..a.len()).map(|i| a.int(i)).collect::<Result<_, _>>()?;
    let numbers = match p.as_slice() {
        [end] => {
            let inc = if *end < 1 { -1 } else { 1 };
            sequence(1, end.wrapping_add(inc), inc)
        }
        [start, end] => {
            let step = if end < start { -1 } else { 1 };
            sequence(*start, end.wrapping_add(step), step)
        }
        [start, step, end] => {
            let inc = if end < start { -1 } else { 1 };
            if end < start && *step > 0 {
                Ok(Vec::new())
            } else {
                sequence(*start, end.wrapping_add(inc), *step)
            }
        }
        _ => Ok(Vec::new()),
    }
    .map_err(|e| a.fail(e))?;
    let words: Vec<String> = numbers.iter().map(i64::to_string).collect();
    Ok(text(words.join(" ")))
}

/// `strconv.ParseInt(s, 8, 64)`: an optional sign and octal digits only.
fn parse_octal(s: &str) -> Option<i64> {
    let (negative, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || !digits.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
        return None;
    }
    let magnitude = i128::from_str_radix(digits, 8).ok()?;
    let value = if negative { -magnitude } else { magnitude };
    i64::try_from(value).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequences_follow_sprig() {
        assert_eq!(sequence(0, 5, 1).unwrap(), vec![0, 1, 2, 3, 4]);
        assert_eq!(sequence(0, -3, -1).unwrap(), vec![0, -1, -2]);
        assert_eq!(sequence(0, 10, 4).unwrap(), vec![0, 4, 8]);
        assert!(sequence(0, 10, -1).unwrap().is_empty());
        assert!(sequence(5, 0, 1).unwrap().is_empty());
        assert!(sequence(0, i64::MAX, 1).is_err());
        assert_eq!(
            sequence(i64::MAX, i64::MIN, i64::MIN).unwrap(),
            vec![i64::MAX, -1]
        );
        assert!(sequence(10, 0, i64::MIN).unwrap() == vec![10]);
    }

    #[test]
    fn octal_like_parse_int() {
        assert_eq!(parse_octal("777"), Some(511));
        assert_eq!(parse_octal("0777"), Some(511));
        assert_eq!(parse_octal("-10"), Some(-8));
        assert_eq!(parse_octal("8"), None);
        assert_eq!(parse_octal("1e+06"), None);
    }
}
