//! Go's `time.Parse` for Sprig's `toDate` and `mustToDate`: the value is read against the same
//! reference-time layout `date` formats with. Times are kept in UTC: a value whose zone is not
//! UTC (a numeric offset other than zero, or a zone name other than UTC) is an error here, so
//! the chart is rendered by Helm rather than with another zone's clock.

use super::dates::{Chunk, Time, next_chunk};

/// Parses `value` with `layout`; the error is Go's wording where it matters to a chart author.
pub(crate) fn parse(layout: &str, value: &str) -> Result<Time, String> {
    let fail = |what: &str| {
        format!(
            "parsing time {} as {}: {what}",
            super::conv::go_quote(value),
            super::conv::go_quote(layout)
        )
    };
    let cannot = |rest: &str, element: &str| {
        fail(&format!(
            "cannot parse {} as {}",
            super::conv::go_quote(rest),
            super::conv::go_quote(element)
        ))
    };
    let (mut year, mut month, mut day, mut yday) = (0i64, -1i64, -1i64, -1i64);
    let (mut hour, mut min, mut sec, mut nanos) = (0i64, 0i64, 0i64, 0u32);
    let (mut pm, mut am) = (false, false);
    let mut rest_layout = layout;
    let mut v = value;
    loop {
        let (literal, chunk, after) = next_chunk(rest_layout);
        let element = &rest_layout[literal.len()..rest_layout.len() - after.len()];
        v = skip(v, literal).ok_or_else(|| cannot(v, literal))?;
        let Some(chunk) = chunk else {
            if !v.is_empty() {
                return Err(fail(&format!("extra text: {}", super::conv::go_quote(v))));
            }
            break;
        };
        rest_layout = after;
        let before = v;
        let bad = || cannot(before, element);
        match chunk {
            Chunk::Year => {
                let (n, r) = fixed_digits(v, 2).ok_or_else(bad)?;
                year = if n >= 69 { n + 1900 } else { n + 2000 };
                v = r;
            }
            Chunk::LongYear => {
                let (n, r) = fixed_digits(v, 4).ok_or_else(bad)?;
                year = n;
                v = r;
            }
            Chunk::Month | Chunk::LongMonth => {
                let (i, r) = lookup(v, &MONTHS, chunk == Chunk::Month).ok_or_else(bad)?;
                month = i as i64 + 1;
                v = r;
            }
            Chunk::NumMonth | Chunk::ZeroMonth => {
                let (n, r) = number(v, chunk == Chunk::ZeroMonth).ok_or_else(bad)?;
                if !(1..=12).contains(&n) {
                    return Err(fail("month out of range"));
                }
                month = n;
                v = r;
            }
            Chunk::WeekDay | Chunk::LongWeekDay => {
                let (_, r) = lookup(v, &DAYS, chunk == Chunk::WeekDay).ok_or_else(bad)?;
                v = r;
            }
            Chunk::Day | Chunk::UnderDay | Chunk::ZeroDay => {
                if chunk == Chunk::UnderDay && v.starts_with(' ') {
                    v = &v[1..];
                }
                let (n, r) = number(v, chunk == Chunk::ZeroDay).ok_or_else(bad)?;
                day = n;
                v = r;
            }
            Chunk::UnderYearDay | Chunk::ZeroYearDay => {
                if chunk == Chunk::UnderYearDay {
                    for _ in 0..2 {
                        v = v.strip_prefix(' ').unwrap_or(v);
                    }
                }
                let digits = v.bytes().take(3).take_while(u8::is_ascii_digit).count();
                if digits == 0 || (chunk == Chunk::ZeroYearDay && digits != 3) {
                    return Err(bad());
                }
                yday = v[..digits].parse().map_err(|_| bad())?;
                v = &v[digits..];
            }
            Chunk::Hour => {
                let (n, r) = number(v, false).ok_or_else(bad)?;
                if !(0..24).contains(&n) {
                    return Err(fail("hour out of range"));
                }
                hour = n;
                v = r;
            }
            Chunk::Hour12 | Chunk::ZeroHour12 => {
                let (n, r) = number(v, chunk == Chunk::ZeroHour12).ok_or_else(bad)?;
                if !(0..=12).contains(&n) {
                    return Err(fail("hour out of range"));
                }
                hour = n;
                v = r;
            }
            Chunk::Minute | Chunk::ZeroMinute => {
                let (n, r) = number(v, chunk == Chunk::ZeroMinute).ok_or_else(bad)?;
                if !(0..60).contains(&n) {
                    return Err(fail("minute out of range"));
                }
                min = n;
                v = r;
            }
            Chunk::Second | Chunk::ZeroSecond => {
                let (n, r) = number(v, chunk == Chunk::ZeroSecond).ok_or_else(bad)?;
                if !(0..60).contains(&n) {
                    return Err(fail("second out of range"));
                }
                sec = n;
                v = r;
                // A fraction after the seconds is read even when the layout has none.
                let next_is_fraction = matches!(next_chunk(rest_layout), (lit, Some(Chunk::Fraction { .. }), _) if lit.is_empty());
                let b = v.as_bytes();
                if !next_is_fraction
                    && b.len() >= 2
                    && matches!(b[0], b'.' | b',')
                    && b[1].is_ascii_digit()
                {
                    let n = 1 + b[1..].iter().take_while(|c| c.is_ascii_digit()).count();
                    nanos = fraction(&v[1..n]);
                    v = &v[n..];
                }
            }
            Chunk::PM => {
                match v.get(..2) {
                    Some("PM") => pm = true,
                    Some("AM") => am = true,
                    _ => return Err(bad()),
                }
                v = &v[2..];
            }
            Chunk::Pm => {
                match v.get(..2) {
                    Some("pm") => pm = true,
                    Some("am") => am = true,
                    _ => return Err(bad()),
                }
                v = &v[2..];
            }
            Chunk::IsoZone(_) if v.starts_with('Z') => v = &v[1..],
            Chunk::IsoZone(form) | Chunk::NumZone(form) => {
                let (offset, r) = numeric_zone(v, form).ok_or_else(bad)?;
                if offset != 0 {
                    return Err(fail(
                        "a time zone other than UTC is not supported by the native renderer",
                    ));
                }
                v = r;
            }
            Chunk::ZoneName => {
                if v.starts_with("UTC") {
                    v = &v[3..];
                } else {
                    return Err(fail(
                        "a time zone other than UTC is not supported by the native renderer",
                    ));
                }
            }
            Chunk::Fraction { digits, trim, .. } => {
                let b = v.as_bytes();
                if trim {
                    if b.len() < 2 || !matches!(b[0], b'.' | b',') || !b[1].is_ascii_digit() {
                        continue;
                    }
                    let n = 1 + b[1..].iter().take_while(|c| c.is_ascii_digit()).count();
                    nanos = fraction(&v[1..n]);
                    v = &v[n..];
                } else {
                    let n = 1 + digits;
                    if b.len() < n
                        || !matches!(b[0], b'.' | b',')
                        || !b[1..n].iter().all(u8::is_ascii_digit)
                    {
                        return Err(bad());
                    }
                    nanos = fraction(&v[1..n]);
                    v = &v[n..];
                }
            }
        }
    }
    if pm && hour < 12 {
        hour += 12;
    } else if am && hour == 12 {
        hour = 0;
    }
    if yday >= 0 {
        let leap = is_leap(year);
        if yday < 1 || yday > 365 + i64::from(leap) {
            return Err(fail("day-of-year out of range"));
        }
        let (mut m, mut d) = (1, yday);
        while d > days_in(m, year) {
            d -= days_in(m, year);
            m += 1;
        }
        if (month >= 0 && month != m) || (day >= 0 && day != d) {
            return Err(fail("day-of-year does not match month"));
        }
        month = m;
        day = d;
    }
    if month < 0 {
        month = 1;
    }
    if day < 0 {
        day = 1;
    }
    if day < 1 || day > days_in(month, year) {
        return Err(fail("day out of range"));
    }
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + min * 60 + sec;
    Ok(Time::at(secs, nanos))
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in(month: i64, year: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to a proleptic Gregorian date.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Go's `skip`: the layout's literal text, where a run of spaces matches a run of spaces.
fn skip<'a>(mut value: &'a str, mut literal: &str) -> Option<&'a str> {
    while let Some(c) = literal.chars().next() {
        if c == ' ' {
            if !value.is_empty() && !value.starts_with(' ') {
                return None;
            }
            literal = literal.trim_start_matches(' ');
            value = value.trim_start_matches(' ');
            continue;
        }
        value = value.strip_prefix(c)?;
        literal = &literal[c.len_utf8()..];
    }
    Some(value)
}

/// Exactly `n` digits.
fn fixed_digits(v: &str, n: usize) -> Option<(i64, &str)> {
    let digits = v.get(..n)?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((digits.parse().ok()?, &v[n..]))
}

/// Go's `getnum`: two digits when `fixed`, else one or two.
fn number(v: &str, fixed: bool) -> Option<(i64, &str)> {
    let b = v.as_bytes();
    if b.is_empty() || !b[0].is_ascii_digit() {
        return None;
    }
    if b.len() < 2 || !b[1].is_ascii_digit() {
        if fixed {
            return None;
        }
        return Some((i64::from(b[0] - b'0'), &v[1..]));
    }
    Some((
        i64::from(b[0] - b'0') * 10 + i64::from(b[1] - b'0'),
        &v[2..],
    ))
}

/// A month or weekday name (its first three letters when `short`), case-insensitively.
fn lookup<'a>(v: &'a str, names: &[&str], short: bool) -> Option<(usize, &'a str)> {
    names.iter().enumerate().find_map(|(i, name)| {
        let name = if short { &name[..3] } else { name };
        let head = v.get(..name.len())?;
        head.eq_ignore_ascii_case(name)
            .then(|| (i, &v[name.len()..]))
    })
}

/// Nanoseconds from the digits after the decimal point (at most nine count).
fn fraction(digits: &str) -> u32 {
    let mut padded: String = digits.chars().take(9).collect();
    while padded.len() < 9 {
        padded.push('0');
    }
    padded.parse().unwrap_or(0)
}

/// A numeric zone in the shape of `form` (`+00:00`, `+0000`, `+00`, with seconds too): the
/// offset in seconds and the rest.
fn numeric_zone<'a>(v: &'a str, form: &str) -> Option<(i64, &'a str)> {
    let sign = match v.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let pattern: &[&str] = match &form[1..] {
        "07:00:00" | "00:00:00" => &["hh", ":", "mm", ":", "ss"],
        "070000" | "000000" => &["hh", "mm", "ss"],
        "0700" | "0000" => &["hh", "mm"],
        "07:00" | "00:00" => &["hh", ":", "mm"],
        _ => &["hh"],
    };
    let mut rest = &v[1..];
    let mut parts = Vec::new();
    for p in pattern {
        if *p == ":" {
            rest = rest.strip_prefix(':')?;
        } else {
            let (n, r) = fixed_digits(rest, 2)?;
            parts.push(n);
            rest = r;
        }
    }
    let secs = parts.first().copied().unwrap_or(0) * 3600
        + parts.get(1).copied().unwrap_or(0) * 60
        + parts.get(2).copied().unwrap_or(0);
    Some((sign * secs, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_zones_are_refused() {
        let err = parse("2006-01-02 -0700", "2024-05-01 -0700").unwrap_err();
        assert!(err.contains("UTC"), "{err}");
        assert!(parse("2006 MST", "2024 PST").is_err());
        assert!(parse("2006 MST", "2024 UTC").is_ok());
    }

    #[test]
    fn civil_days_round_trip() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(1, 1, 1) * 86_400, -62_135_596_800);
    }
}
