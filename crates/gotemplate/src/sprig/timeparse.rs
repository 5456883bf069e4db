//! Go's `time.Parse` for Sprig's `toDate` and `mustToDate`: the value is read against the same
//! reference-time layout `date` formats with. Times are kept in UTC: a value whose zone is not
//! UTC (a numeric offset other than zero, or a zone name other than UTC) is an error here, so
//! the chart is rendered by Helm rather than with another zone's clock.

use super::dates::{Chunk, Time, next_chunk};

/// Parses `value` with `layout`; the error is Go's wording where it matters to a chart author.
pub(crate) fn parse(layout: &str, value: &str) -> Result<Time, String> {
    let quote = super::conv::go_quote;
    let fail = |what: &str| format!("parsing time {} as {}: {what}", quote(value), quote(layout));
    let cannot = |rest: &str, element: &str| {
        fail(&format!(
            "cannot parse {} as {}",
            quote(rest),
            quote(element)
        ))
    };
    let mut fields = Fields::default();
    let mut rest_layout = layout;
    let mut v = value;
    loop {
        let (literal, chunk, after) = next_chunk(rest_layout);
        let element = &rest_layout[literal.len()..rest_layout.len() - after.len()];
        v = skip(v, literal).ok_or_else(|| cannot(v, literal))?;
        let Some(chunk) = chunk else {
            if !v.is_empty() {
                return Err(fail(&format!("extra text: {}", quote(v))));
            }
            return fields.into_time().map_err(fail);
        };
        rest_layout = after;
        v = match fields.read(chunk, v, rest_layout) {
            Ok(rest) => rest,
            Err(Miss::Shape) => return Err(cannot(v, element)),
            Err(Miss::Message(m)) => return Err(fail(m)),
        };
    }
}

/// Why one layout element could not be read from the value.
enum Miss {
    /// The value does not have the element's shape (Go: `cannot parse "x" as "2006"`).
    Shape,
    /// Go's own message (`month out of range`).
    Message(&'static str),
}

const OTHER_ZONE: Miss =
    Miss::Message("a time zone other than UTC is not supported by the native renderer");

fn shape<T>(found: Option<T>) -> Result<T, Miss> {
    found.ok_or(Miss::Shape)
}

/// A number within `range`, or Go's out-of-range message.
fn within(n: i64, range: std::ops::RangeInclusive<i64>, what: &'static str) -> Result<i64, Miss> {
    if range.contains(&n) {
        Ok(n)
    } else {
        Err(Miss::Message(what))
    }
}

/// What the elements read so far say; Go's defaults for the rest (year 0, January, the 1st).
#[derive(Default)]
struct Fields {
    year: i64,
    month: Option<i64>,
    day: Option<i64>,
    yday: Option<i64>,
    hour: i64,
    min: i64,
    sec: i64,
    nanos: u32,
    pm: bool,
    am: bool,
}

impl Fields {
    /// Reads one element from the front of `v` and returns the rest; `next_layout` is the
    /// layout after it (a fraction after the seconds is read only when the layout has none).
    fn read<'a>(&mut self, chunk: Chunk, v: &'a str, next_layout: &str) -> Result<&'a str, Miss> {
        match chunk {
            Chunk::Year
            | Chunk::LongYear
            | Chunk::Month
            | Chunk::LongMonth
            | Chunk::NumMonth
            | Chunk::ZeroMonth
            | Chunk::WeekDay
            | Chunk::LongWeekDay
            | Chunk::Day
            | Chunk::UnderDay
            | Chunk::ZeroDay
            | Chunk::UnderYearDay
            | Chunk::ZeroYearDay => self.read_date(chunk, v),
            Chunk::IsoZone(_) | Chunk::NumZone(_) | Chunk::ZoneName => read_zone(chunk, v),
            _ => self.read_clock(chunk, v, next_layout),
        }
    }

    fn read_date<'a>(&mut self, chunk: Chunk, mut v: &'a str) -> Result<&'a str, Miss> {
        match chunk {
            Chunk::Year => {
                let (n, r) = shape(fixed_digits(v, 2))?;
                self.year = if n >= 69 { n + 1900 } else { n + 2000 };
                Ok(r)
            }
            Chunk::LongYear => {
                let (n, r) = shape(fixed_digits(v, 4))?;
                self.year = n;
                Ok(r)
            }
            Chunk::Month | Chunk::LongMonth => {
                let (i, r) = shape(lookup(v, &MONTHS, chunk == Chunk::Month))?;
                self.month = Some(i as i64 + 1);
                Ok(r)
            }
            Chunk::WeekDay | Chunk::LongWeekDay => {
                Ok(shape(lookup(v, &DAYS, chunk == Chunk::WeekDay))?.1)
            }
            Chunk::NumMonth | Chunk::ZeroMonth => {
                let (n, r) = shape(number(v, chunk == Chunk::ZeroMonth))?;
                self.month = Some(within(n, 1..=12, "month out of range")?);
                Ok(r)
            }
            Chunk::UnderYearDay | Chunk::ZeroYearDay => {
                if chunk == Chunk::UnderYearDay {
                    for _ in 0..2 {
                        v = v.strip_prefix(' ').unwrap_or(v);
                    }
                }
                let digits = v.bytes().take(3).take_while(u8::is_ascii_digit).count();
                if digits == 0 || (chunk == Chunk::ZeroYearDay && digits != 3) {
                    return Err(Miss::Shape);
                }
                self.yday = Some(v[..digits].parse().map_err(|_| Miss::Shape)?);
                Ok(&v[digits..])
            }
            _ => {
                if chunk == Chunk::UnderDay {
                    v = v.strip_prefix(' ').unwrap_or(v);
                }
                let (n, r) = shape(number(v, chunk == Chunk::ZeroDay))?;
                self.day = Some(n);
                Ok(r)
            }
        }
    }

    fn read_clock<'a>(
        &mut self,
        chunk: Chunk,
        v: &'a str,
        next_layout: &str,
    ) -> Result<&'a str, Miss> {
        let fixed = matches!(
            chunk,
            Chunk::ZeroHour12 | Chunk::ZeroMinute | Chunk::ZeroSecond
        );
        match chunk {
            Chunk::Hour | Chunk::Hour12 | Chunk::ZeroHour12 => {
                let (n, r) = shape(number(v, fixed))?;
                let max = if chunk == Chunk::Hour { 23 } else { 12 };
                self.hour = within(n, 0..=max, "hour out of range")?;
                Ok(r)
            }
            Chunk::Minute | Chunk::ZeroMinute => {
                let (n, r) = shape(number(v, fixed))?;
                self.min = within(n, 0..=59, "minute out of range")?;
                Ok(r)
            }
            Chunk::Second | Chunk::ZeroSecond => {
                let (n, r) = shape(number(v, fixed))?;
                self.sec = within(n, 0..=59, "second out of range")?;
                let layout_has_fraction = matches!(
                    next_chunk(next_layout),
                    ("", Some(Chunk::Fraction { .. }), _)
                );
                match fraction_digits(r) {
                    Some(n) if !layout_has_fraction => {
                        self.nanos = nanoseconds(&r[1..n]);
                        Ok(&r[n..])
                    }
                    _ => Ok(r),
                }
            }
            Chunk::PM | Chunk::Pm => {
                let (pm, am) = if chunk == Chunk::PM {
                    ("PM", "AM")
                } else {
                    ("pm", "am")
                };
                match v.get(..2) {
                    Some(s) if s == pm => self.pm = true,
                    Some(s) if s == am => self.am = true,
                    _ => return Err(Miss::Shape),
                }
                Ok(&v[2..])
            }
            Chunk::Fraction { digits, trim, .. } => {
                if trim {
                    // `.999`: any number of digits, or none at all.
                    let Some(n) = fraction_digits(v) else {
                        return Ok(v);
                    };
                    self.nanos = nanoseconds(&v[1..n]);
                    return Ok(&v[n..]);
                }
                let n = 1 + digits;
                let b = v.as_bytes();
                if b.len() < n
                    || !matches!(b[0], b'.' | b',')
                    || !b[1..n].iter().all(u8::is_ascii_digit)
                {
                    return Err(Miss::Shape);
                }
                self.nanos = nanoseconds(&v[1..n]);
                Ok(&v[n..])
            }
            _ => Err(Miss::Shape),
        }
    }

    /// The time the fields name, after Go's checks (12-hour clock, day of year, day of month).
    fn into_time(mut self) -> Result<Time, &'static str> {
        if self.pm && self.hour < 12 {
            self.hour += 12;
        } else if self.am && self.hour == 12 {
            self.hour = 0;
        }
        if let Some(yday) = self.yday {
            let (month, day) = month_day(yday, self.year).ok_or("day-of-year out of range")?;
            if self.month.is_some_and(|m| m != month) || self.day.is_some_and(|d| d != day) {
                return Err("day-of-year does not match month");
            }
            (self.month, self.day) = (Some(month), Some(day));
        }
        let (month, day) = (self.month.unwrap_or(1), self.day.unwrap_or(1));
        if day < 1 || day > days_in(month, self.year) {
            return Err("day out of range");
        }
        let days = days_from_civil(self.year, month, day);
        let secs = days * 86_400 + self.hour * 3600 + self.min * 60 + self.sec;
        Ok(Time::at(secs, self.nanos))
    }
}

/// A zone element: only UTC is accepted (`Z`, a zero offset, the name `UTC`).
fn read_zone(chunk: Chunk, v: &str) -> Result<&str, Miss> {
    match chunk {
        Chunk::IsoZone(_) if v.starts_with('Z') => Ok(&v[1..]),
        Chunk::IsoZone(form) | Chunk::NumZone(form) => {
            let (offset, rest) = shape(numeric_zone(v, form))?;
            if offset != 0 {
                return Err(OTHER_ZONE);
            }
            Ok(rest)
        }
        _ => v.strip_prefix("UTC").ok_or(OTHER_ZONE),
    }
}

/// The length of a `.123` or `,123` fraction at the front of `v` (separator included).
fn fraction_digits(v: &str) -> Option<usize> {
    let b = v.as_bytes();
    if b.len() >= 2 && matches!(b[0], b'.' | b',') && b[1].is_ascii_digit() {
        Some(1 + b[1..].iter().take_while(|c| c.is_ascii_digit()).count())
    } else {
        None
    }
}

/// Month and day of a day of the year.
fn month_day(yday: i64, year: i64) -> Option<(i64, i64)> {
    if yday < 1 || yday > 365 + i64::from(is_leap(year)) {
        return None;
    }
    let (mut month, mut day) = (1, yday);
    while day > days_in(month, year) {
        day -= days_in(month, year);
        month += 1;
    }
    Some((month, day))
}

/// Go's month and weekday names, for formatting and parsing alike.
pub(crate) const MONTHS: [&str; 12] = [
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
pub(crate) const DAYS: [&str; 7] = [
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
fn nanoseconds(digits: &str) -> u32 {
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
