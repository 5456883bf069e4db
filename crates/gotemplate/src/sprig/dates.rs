//! Sprig's date functions on Go's `time.Time`: `now`, `date`, `dateInZone`, `htmlDate`,
//! `htmlDateInZone`, `dateModify`, `unixEpoch`, `ago`, formatting with Go's reference-time
//! layouts (`2006-01-02T15:04:05Z07:00`).
//!
//! Only UTC is modelled: the `Local` zone is used when the process's local time is UTC (TZ unset
//! or UTC, `/etc/localtime` missing or UTC), as in the containers Argo CD runs; any other local
//! zone, and any named zone, is an error, so a renderer hands such a chart to Helm rather than
//! print another zone's clock. `now` and anything derived from it are `Determinism::Random`.

use super::args::Args;
use super::{def, def_random, text};
use crate::{Error, FuncMap, Object, Value};
use std::rc::Rc;
use std::sync::OnceLock;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

pub(crate) fn register(m: &mut FuncMap) {
    def_random(m, "now", |a| {
        a.exact(0)?;
        Ok(time_value(Time::now()))
    });
    for name in [
        "date",
        "htmlDate",
        "dateInZone",
        "date_in_zone",
        "htmlDateInZone",
    ] {
        def_random(m, name, date);
    }
    // Sprig counts dateModify among its non-hermetic functions; its must form is not listed.
    for name in ["dateModify", "date_modify"] {
        def_random(m, name, date_modify);
    }
    for name in ["mustDateModify", "must_date_modify"] {
        def(m, name, date_modify);
    }
    for name in ["toDate", "mustToDate"] {
        def(m, name, to_date);
    }
    def(m, "duration", duration);
    def(m, "durationRound", duration_round);
    def(m, "unixEpoch", |a| {
        a.exact(1)?;
        Ok(text(time_arg(&a, 0)?.secs.to_string()))
    });
    def_random(m, "ago", ago);
}

fn time_value(t: Time) -> Value {
    Value::Object(Rc::new(t))
}

/// `date LAYOUT T`, `htmlDate T`, `dateInZone LAYOUT T ZONE`, `htmlDateInZone T ZONE`.
fn date(a: Args) -> Result<Value, Error> {
    const HTML: &str = "2006-01-02";
    match a.name {
        "htmlDate" => {
            a.exact(1)?;
            in_zone(&a, HTML, a.get(0), "Local")
        }
        "htmlDateInZone" => {
            a.exact(2)?;
            in_zone(&a, HTML, a.get(0), a.str(1)?)
        }
        "date" => {
            a.exact(2)?;
            in_zone(&a, a.str(0)?, a.get(1), "Local")
        }
        _ => {
            a.exact(3)?;
            in_zone(&a, a.str(0)?, a.get(1), a.str(2)?)
        }
    }
}

/// `dateModify DURATION T`: T moved by a Go duration; an invalid duration leaves T as it is
/// (the must form fails).
fn date_modify(a: Args) -> Result<Value, Error> {
    a.exact(2)?;
    let (change, t) = (a.str(0)?, time_arg(&a, 1)?);
    match parse_duration(change) {
        Some(nanos) => Ok(time_value(t.add(nanos))),
        None if a.name.starts_with("must") => Err(a.fail(format!(
            "time: invalid duration {}",
            super::conv::go_quote(change)
        ))),
        None => Ok(time_value(t)),
    }
}

/// `toDate LAYOUT TEXT`: Go's `time.ParseInLocation` in the local zone (which must be UTC
/// here); a failure is Go's zero time (the must form fails).
fn to_date(a: Args) -> Result<Value, Error> {
    a.exact(2)?;
    let (layout, value) = (a.str(0)?, a.str(1)?);
    if !local_is_utc() {
        return Err(
            a.fail("the local time zone is not UTC; the native renderer reads times in UTC only")
        );
    }
    match super::timeparse::parse(layout, value) {
        Ok(t) => Ok(time_value(t)),
        Err(e) if a.name == "mustToDate" => Err(a.fail(e)),
        Err(_) => Ok(time_value(Time::at(GO_ZERO_TIME, 0))),
    }
}

/// Unix seconds of Go's zero `time.Time` (January 1, year 1, UTC).
const GO_ZERO_TIME: i64 = -62_135_596_800;

/// `ago T`: the time since T, rounded to seconds, as Go prints a duration.
fn ago(a: Args) -> Result<Value, Error> {
    a.exact(1)?;
    let t = match a.get(0) {
        Value::Int(n) => Time::at(*n, 0),
        Value::Object(_) => time_arg(&a, 0)?,
        _ => Time::now(),
    };
    let nanos = Time::now().nanos_since(&t);
    let rounded = (nanos + 500_000_000).div_euclid(1_000_000_000) * 1_000_000_000;
    Ok(text(duration_string(rounded)))
}

/// The value of an integer argument where Sprig distinguishes Go's `int` (ignored) from
/// `int64` (used): a template integer may be either (a literal or `len` is an int, `int64` or
/// `add` an int64), so the call is refused rather than guessed.
fn ambiguous_int(a: &Args) -> Error {
    a.fail(
        "an integer argument is an int or an int64 in Go, which Sprig treats differently; \
         the native renderer cannot tell them apart",
    )
}

/// Sprig's `duration SECONDS`: a decimal string or an int64 of seconds, as Go's
/// `Duration.String()`; anything else (a float64 from the values) is 0s.
fn duration(a: Args) -> Result<Value, Error> {
    a.exact(1)?;
    let seconds = match a.get(0) {
        Value::String(s) => super::conv::parse_decimal_int(s).unwrap_or(0),
        Value::Int(_) => return Err(ambiguous_int(&a)),
        _ => 0,
    };
    Ok(text(duration_string(i128::from(
        seconds.wrapping_mul(1_000_000_000),
    ))))
}

/// Sprig's `durationRound`: a duration (Go syntax string, int64 nanoseconds, or the time
/// since a time) in its largest whole unit: `2h`, `3mo`, `1y` (no sign).
fn duration_round(a: Args) -> Result<Value, Error> {
    a.exact(1)?;
    let nanos: i128 = match a.get(0) {
        Value::String(s) => parse_duration(s).unwrap_or(0),
        Value::Int(_) => return Err(ambiguous_int(&a)),
        Value::Object(o) if o.type_name() == "time.Time" => {
            Time::now().nanos_since(&time_from(a.get(0))?)
        }
        _ => 0,
    };
    let u = nanos.unsigned_abs();
    const SECOND: u128 = 1_000_000_000;
    let units: [(u128, &str); 6] = [
        (SECOND * 3600 * 24 * 365, "y"),
        (SECOND * 3600 * 24 * 30, "mo"),
        (SECOND * 3600 * 24, "d"),
        (SECOND * 3600, "h"),
        (SECOND * 60, "m"),
        (SECOND, "s"),
    ];
    for (unit, name) in units {
        if u > unit {
            return Ok(text(format!("{}{name}", u / unit)));
        }
    }
    Ok(text("0s"))
}

/// A `time.Time` in UTC: seconds and nanoseconds since the Unix epoch, and for `now` the
/// monotonic reading Go prints after it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Time {
    secs: i64,
    nanos: u32,
    monotonic: Option<u128>,
}

/// The process's start, for the `m=+…` monotonic reading Go prints with `now`.
fn process_start() -> Instant {
    static START: OnceLock<Instant> = OnceLock::new();
    *START.get_or_init(Instant::now)
}

impl Time {
    fn now() -> Time {
        let since = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        Time {
            secs: since.as_secs() as i64,
            nanos: since.subsec_nanos(),
            monotonic: Some(process_start().elapsed().as_nanos()),
        }
    }

    pub(crate) fn at(secs: i64, nanos: u32) -> Time {
        Time {
            secs,
            nanos,
            monotonic: None,
        }
    }

    /// Nanoseconds from `earlier` to this time.
    fn nanos_since(&self, earlier: &Time) -> i128 {
        (i128::from(self.secs) - i128::from(earlier.secs)) * 1_000_000_000 + i128::from(self.nanos)
            - i128::from(earlier.nanos)
    }

    fn add(self, nanos: i128) -> Time {
        let total = i128::from(self.secs) * 1_000_000_000 + i128::from(self.nanos) + nanos;
        Time {
            secs: total.div_euclid(1_000_000_000) as i64,
            nanos: total.rem_euclid(1_000_000_000) as u32,
            monotonic: self.monotonic.map(|m| (m as i128 + nanos).max(0) as u128),
        }
    }

    /// Year, month (1-12), day, hour, minute, second, weekday (0 = Sunday), day of year.
    fn civil(&self) -> (i64, u32, u32, u32, u32, u32, u32, u32) {
        let days = self.secs.div_euclid(86_400);
        let secs_of_day = self.secs.rem_euclid(86_400) as u32;
        // Days since 1970-01-01 to a proleptic Gregorian date.
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy_march = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy_march + 2) / 153;
        let day = (doy_march - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = yoe + era * 400 + i64::from(month <= 2);
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
        const BEFORE: [u32; 12] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
        let yday = BEFORE[month as usize - 1] + day + u32::from(leap && month > 2);
        let weekday = (days + 4).rem_euclid(7) as u32;
        (
            year,
            month,
            day,
            secs_of_day / 3600,
            secs_of_day / 60 % 60,
            secs_of_day % 60,
            weekday,
            yday,
        )
    }

    /// Go's `Time.Format(layout)` for a UTC time.
    pub(crate) fn format(&self, layout: &str) -> String {
        use super::timeparse::{DAYS, MONTHS};
        let (year, month, day, hour, min, sec, wday, yday) = self.civil();
        let mut out = String::with_capacity(layout.len() + 8);
        let mut rest = layout;
        while !rest.is_empty() {
            let (literal, chunk, after) = next_chunk(rest);
            out.push_str(literal);
            rest = after;
            let Some(chunk) = chunk else { break };
            let month_name = MONTHS[month as usize - 1];
            let day_name = DAYS[wday as usize];
            let hour12 = if hour % 12 == 0 { 12 } else { hour % 12 };
            match chunk {
                Chunk::LongYear => out.push_str(&pad_year(year)),
                Chunk::Year => out.push_str(&format!("{:02}", year.rem_euclid(100))),
                Chunk::LongMonth => out.push_str(month_name),
                Chunk::Month => out.push_str(&month_name[..3]),
                Chunk::NumMonth => out.push_str(&month.to_string()),
                Chunk::ZeroMonth => out.push_str(&format!("{month:02}")),
                Chunk::LongWeekDay => out.push_str(day_name),
                Chunk::WeekDay => out.push_str(&day_name[..3]),
                Chunk::Day => out.push_str(&day.to_string()),
                Chunk::UnderDay => out.push_str(&format!("{day:>2}")),
                Chunk::ZeroDay => out.push_str(&format!("{day:02}")),
                Chunk::UnderYearDay => out.push_str(&format!("{yday:>3}")),
                Chunk::ZeroYearDay => out.push_str(&format!("{yday:03}")),
                Chunk::Hour => out.push_str(&format!("{hour:02}")),
                Chunk::Hour12 => out.push_str(&hour12.to_string()),
                Chunk::ZeroHour12 => out.push_str(&format!("{hour12:02}")),
                Chunk::Minute => out.push_str(&min.to_string()),
                Chunk::ZeroMinute => out.push_str(&format!("{min:02}")),
                Chunk::Second => out.push_str(&sec.to_string()),
                Chunk::ZeroSecond => out.push_str(&format!("{sec:02}")),
                Chunk::PM => out.push_str(if hour >= 12 { "PM" } else { "AM" }),
                Chunk::Pm => out.push_str(if hour >= 12 { "pm" } else { "am" }),
                Chunk::ZoneName => out.push_str("UTC"),
                Chunk::IsoZone(_) => out.push('Z'),
                Chunk::NumZone(form) => out.push_str(form),
                Chunk::Fraction { sep, digits, trim } => {
                    let full = format!("{:09}", self.nanos);
                    let mut frac = &full[..digits.min(9)];
                    if trim {
                        frac = frac.trim_end_matches('0');
                        if frac.is_empty() {
                            continue;
                        }
                    }
                    out.push(sep);
                    out.push_str(frac);
                }
            }
        }
        out
    }

    /// Go's `Time.String()`: `2006-01-02 15:04:05.999999999 -0700 MST`, with `m=+…` for `now`.
    fn go_string(&self) -> String {
        let mut s = self.format("2006-01-02 15:04:05.999999999 -0700 MST");
        if let Some(m) = self.monotonic {
            s.push_str(&format!(
                " m=+{}.{:09}",
                m / 1_000_000_000,
                m % 1_000_000_000
            ));
        }
        s
    }
}

fn pad_year(year: i64) -> String {
    if year < 0 {
        format!("-{:04}", -year)
    } else {
        format!("{year:04}")
    }
}

impl Object for Time {
    fn type_name(&self) -> &str {
        "time.Time"
    }

    fn get(&self, name: &str, args: &[Value]) -> Option<Result<Value, Error>> {
        let (year, _, day, hour, min, sec, _, yday) = self.civil();
        let no_args = |v: Value| {
            Some(if args.is_empty() {
                Ok(v)
            } else {
                Err(Error::new(format!(
                    "wrong number of args for {name}: want 0 got {}",
                    args.len()
                )))
            })
        };
        match name {
            "Unix" => no_args(Value::Int(self.secs)),
            "UnixMilli" => no_args(Value::Int(
                self.secs.wrapping_mul(1000) + i64::from(self.nanos / 1_000_000),
            )),
            "UnixNano" => no_args(Value::Int(
                self.secs.wrapping_mul(1_000_000_000) + i64::from(self.nanos),
            )),
            "Year" => no_args(Value::Int(year)),
            "Day" => no_args(Value::Int(i64::from(day))),
            "YearDay" => no_args(Value::Int(i64::from(yday))),
            "Hour" => no_args(Value::Int(i64::from(hour))),
            "Minute" => no_args(Value::Int(i64::from(min))),
            "Second" => no_args(Value::Int(i64::from(sec))),
            "Nanosecond" => no_args(Value::Int(i64::from(self.nanos))),
            "IsZero" => no_args(Value::Bool(self.secs == GO_ZERO_TIME && self.nanos == 0)),
            "String" => no_args(text(self.go_string())),
            "UTC" | "Local" => no_args(Value::Object(Rc::new(Time {
                monotonic: None,
                ..*self
            }))),
            "Format" => Some(match args {
                [Value::String(layout)] => Ok(text(self.format(layout))),
                [other] => Err(super::args::wrong_type("string", other)),
                _ => Err(Error::new(format!(
                    "wrong number of args for Format: want 1 got {}",
                    args.len()
                ))),
            }),
            _ => None,
        }
    }

    fn print(&self) -> String {
        self.go_string()
    }

    /// `time.Time` marshals to JSON as RFC 3339 with nanoseconds.
    fn to_value(&self) -> Value {
        text(self.format("2006-01-02T15:04:05.999999999Z07:00"))
    }
}

/// A `time.Time` parameter: a time object (made by `now` or `dateModify`).
fn time_arg(a: &Args, i: usize) -> Result<Time, Error> {
    time_from(a.get(i))
}

fn time_from(v: &Value) -> Result<Time, Error> {
    let Value::Object(o) = v else {
        return Err(super::args::wrong_type("time.Time", v));
    };
    if o.type_name() != "time.Time" {
        return Err(super::args::wrong_type("time.Time", v));
    }
    match (o.get("Unix", &[]), o.get("Nanosecond", &[])) {
        (Some(Ok(Value::Int(s))), Some(Ok(Value::Int(n)))) => Ok(Time::at(s, n as u32)),
        _ => Err(super::args::wrong_type("time.Time", v)),
    }
}

/// Sprig's `dateInZone`: a time object, or Unix seconds from an integer; anything else
/// (a float64 from the values, a string) is the current time, as in Sprig.
fn in_zone(a: &Args, layout: &str, at: &Value, zone: &str) -> Result<Value, Error> {
    let t = match at {
        Value::Int(n) => Time::at(*n, 0),
        Value::Object(o) if o.type_name() == "time.Time" => time_from(at)?,
        _ => Time::now(),
    };
    if !zone_is_utc(zone) {
        return Err(a.fail(format!(
            "time zone {} is not supported by the native renderer",
            super::conv::go_quote(zone)
        )));
    }
    Ok(text(t.format(layout)))
}

/// Whether Go's `time.LoadLocation(zone)` is UTC here: "", "UTC", or "Local" when the
/// process's local zone is UTC.
fn zone_is_utc(zone: &str) -> bool {
    match zone {
        "" | "UTC" => true,
        "Local" => local_is_utc(),
        _ => false,
    }
}

fn local_is_utc() -> bool {
    const UTC_NAMES: [&str; 6] = ["UTC", "Etc/UTC", "UCT", "Etc/UCT", "Universal", "Zulu"];
    match std::env::var("TZ") {
        Ok(tz) => {
            let tz = tz.trim_start_matches(':');
            tz.is_empty() || UTC_NAMES.contains(&tz) || tz == "UTC0"
        }
        Err(_) => match std::fs::read_link("/etc/localtime") {
            Ok(target) => {
                let target = target.to_string_lossy();
                UTC_NAMES.iter().any(|n| target.ends_with(&format!("/{n}")))
            }
            Err(_) => !std::path::Path::new("/etc/localtime").exists(),
        },
    }
}

/// One element of a Go time layout.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Chunk {
    LongYear,
    Year,
    LongMonth,
    Month,
    NumMonth,
    ZeroMonth,
    LongWeekDay,
    WeekDay,
    Day,
    UnderDay,
    ZeroDay,
    UnderYearDay,
    ZeroYearDay,
    Hour,
    Hour12,
    ZeroHour12,
    Minute,
    ZeroMinute,
    Second,
    ZeroSecond,
    PM,
    Pm,
    ZoneName,
    /// `Z07:00` and friends: `Z` for UTC.
    IsoZone(&'static str),
    /// `-07:00` and friends, written for UTC.
    NumZone(&'static str),
    Fraction {
        sep: char,
        digits: usize,
        trim: bool,
    },
}

/// The literal text before the next layout element, the element, and the rest (Go's
/// `nextStdChunk`).
pub(crate) fn next_chunk(layout: &str) -> (&str, Option<Chunk>, &str) {
    let b = layout.as_bytes();
    let starts = |i: usize, s: &str| layout[i..].starts_with(s);
    for i in 0..b.len() {
        let found: Option<(Chunk, usize)> = match b[i] {
            b'J' if starts(i, "January") => Some((Chunk::LongMonth, 7)),
            b'J' if starts(i, "Jan") => Some((Chunk::Month, 3)),
            b'M' if starts(i, "Monday") => Some((Chunk::LongWeekDay, 6)),
            b'M' if starts(i, "Mon") => Some((Chunk::WeekDay, 3)),
            b'M' if starts(i, "MST") => Some((Chunk::ZoneName, 3)),
            b'0' if i + 1 < b.len() && (b'1'..=b'6').contains(&b[i + 1]) => Some((
                [
                    Chunk::ZeroMonth,
                    Chunk::ZeroDay,
                    Chunk::ZeroHour12,
                    Chunk::ZeroMinute,
                    Chunk::ZeroSecond,
                    Chunk::Year,
                ][(b[i + 1] - b'1') as usize],
                2,
            )),
            b'0' if starts(i, "002") => Some((Chunk::ZeroYearDay, 3)),
            b'1' if starts(i, "15") => Some((Chunk::Hour, 2)),
            b'1' => Some((Chunk::NumMonth, 1)),
            b'2' if starts(i, "2006") => Some((Chunk::LongYear, 4)),
            b'2' => Some((Chunk::Day, 1)),
            b'_' if starts(i, "_2006") => {
                return (&layout[..i + 1], Some(Chunk::LongYear), &layout[i + 5..]);
            }
            b'_' if starts(i, "_2") => Some((Chunk::UnderDay, 2)),
            b'_' if starts(i, "__2") => Some((Chunk::UnderYearDay, 3)),
            b'3' => Some((Chunk::Hour12, 1)),
            b'4' => Some((Chunk::Minute, 1)),
            b'5' => Some((Chunk::Second, 1)),
            b'P' if starts(i, "PM") => Some((Chunk::PM, 2)),
            b'p' if starts(i, "pm") => Some((Chunk::Pm, 2)),
            b'-' => [
                ("-07:00:00", "+00:00:00"),
                ("-070000", "+000000"),
                ("-0700", "+0000"),
                ("-07:00", "+00:00"),
                ("-07", "+00"),
            ]
            .iter()
            .find(|(form, _)| starts(i, form))
            .map(|(form, out)| (Chunk::NumZone(out), form.len())),
            b'Z' => ["Z07:00:00", "Z070000", "Z0700", "Z07:00", "Z07"]
                .iter()
                .find(|form| starts(i, form))
                .map(|form| (Chunk::IsoZone(form), form.len())),
            b'.' | b',' if i + 1 < b.len() && matches!(b[i + 1], b'0' | b'9') => {
                let digit = b[i + 1];
                let mut j = i + 1;
                while j < b.len() && b[j] == digit {
                    j += 1;
                }
                if j < b.len() && b[j].is_ascii_digit() {
                    None
                } else {
                    let chunk = Chunk::Fraction {
                        sep: b[i] as char,
                        digits: j - i - 1,
                        trim: digit == b'9',
                    };
                    Some((chunk, j - i))
                }
            }
            _ => None,
        };
        if let Some((chunk, len)) = found {
            return (&layout[..i], Some(chunk), &layout[i + len..]);
        }
    }
    (layout, None, "")
}

/// Go's `time.ParseDuration` in nanoseconds: signed decimal numbers with units `ns`, `us`,
/// `µs`, `ms`, `s`, `m`, `h` (`1h30m`, `-2.5s`); `None` where Go reports an error.
fn parse_duration(s: &str) -> Option<i128> {
    let (negative, mut rest) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if rest == "0" {
        return Some(0);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total: f64 = 0.0;
    while !rest.is_empty() {
        let number_len = rest
            .bytes()
            .take_while(|b| b.is_ascii_digit() || *b == b'.')
            .count();
        let number = &rest[..number_len];
        if number.is_empty() || number == "." {
            return None;
        }
        let value: f64 = number.parse().ok()?;
        rest = &rest[number_len..];
        let unit_len = rest
            .char_indices()
            .find(|(_, c)| c.is_ascii_digit() || *c == '.')
            .map_or(rest.len(), |(i, _)| i);
        let unit: f64 = match &rest[..unit_len] {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return None,
        };
        rest = &rest[unit_len..];
        total += value * unit;
    }
    if total > 9.223_372_036_854_776e18 {
        return None;
    }
    let nanos = total.round() as i128;
    Some(if negative { -nanos } else { nanos })
}

/// Go's `Duration.String()`: `1h2m3.5s`, `1.5ms`, `0s`.
fn duration_string(nanos: i128) -> String {
    if nanos == 0 {
        return "0s".into();
    }
    let sign = if nanos < 0 { "-" } else { "" };
    let u = nanos.unsigned_abs();
    let fraction = |value: u128, unit: u128| {
        let whole = value / unit;
        let frac = value % unit;
        let width = unit.ilog10() as usize;
        let digits = format!("{frac:0width$}");
        let digits = digits.trim_end_matches('0');
        if digits.is_empty() {
            whole.to_string()
        } else {
            format!("{whole}.{digits}")
        }
    };
    if u < 1_000_000_000 {
        let (unit, name) = match u {
            0..1_000 => (1, "ns"),
            1_000..1_000_000 => (1_000, "µs"),
            _ => (1_000_000, "ms"),
        };
        return format!("{sign}{}{name}", fraction(u, unit));
    }
    let hours = u / 3_600_000_000_000;
    let minutes = u / 60_000_000_000 % 60;
    let seconds = fraction(u % 60_000_000_000, 1_000_000_000);
    let mut out = sign.to_owned();
    if hours > 0 {
        out.push_str(&format!("{hours}h{minutes}m"));
    } else if minutes > 0 {
        out.push_str(&format!("{minutes}m"));
    }
    out.push_str(&format!("{seconds}s"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_go_layouts() {
        let t = Time::at(1_714_557_845, 123_400_000);
        assert_eq!(
            t.format("2006-01-02T15:04:05Z07:00"),
            "2024-05-01T10:04:05Z"
        );
        assert_eq!(
            t.format("Mon Jan _2 3:4:5 PM 06 MST -0700"),
            "Wed May  1 10:4:5 AM 24 UTC +0000"
        );
        assert_eq!(
            t.format("Monday January 2 .000 .999 ,9 002 __2"),
            "Wednesday May 1 .123 .123 ,1 122 122"
        );
        assert_eq!(t.format("_2006"), "_2024");
        assert_eq!(
            Time::at(0, 0).format(time_layout()),
            "1970-01-01 00:00:00 +0000 UTC"
        );
        assert_eq!(
            Time::at(-1, 0).format("2006-01-02 15:04:05"),
            "1969-12-31 23:59:59"
        );
        assert_eq!(
            Time::at(951_782_400, 0).format("2006-01-02 002"),
            "2000-02-29 060"
        );
    }

    fn time_layout() -> &'static str {
        "2006-01-02 15:04:05.999999999 -0700 MST"
    }

    #[test]
    fn named_zones_are_refused() {
        let f = super::super::funcs();
        let args = [
            Value::string("2006"),
            Value::Int(0),
            Value::string("America/New_York"),
        ];
        let err = super::super::call(&f, "dateInZone", &args).unwrap_err();
        assert!(err.message.contains("America/New_York"), "{}", err.message);
        assert!(zone_is_utc("UTC") && zone_is_utc(""));
    }

    #[test]
    fn ambiguous_integer_durations_are_refused() {
        let f = super::super::funcs();
        for name in ["duration", "durationRound"] {
            assert!(
                super::super::call(&f, name, &[Value::Int(60)]).is_err(),
                "{name}"
            );
        }
    }

    #[test]
    fn durations_like_go() {
        assert_eq!(parse_duration("1h30m"), Some(5_400_000_000_000));
        assert_eq!(parse_duration("-2.5s"), Some(-2_500_000_000));
        assert_eq!(parse_duration("0"), Some(0));
        assert_eq!(parse_duration("5"), None);
        assert_eq!(parse_duration("1x"), None);
        assert_eq!(duration_string(5_400_000_000_000), "1h30m0s");
        assert_eq!(duration_string(1_500_000), "1.5ms");
        assert_eq!(duration_string(-2_500_000_000), "-2.5s");
        assert_eq!(duration_string(61_000_000_000), "1m1s");
    }
}
