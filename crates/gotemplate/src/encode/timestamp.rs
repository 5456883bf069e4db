//! go-yaml v2's timestamp test: a plain scalar that Go's `time.Parse` reads with one of four
//! layouts is a timestamp, so the encoder quotes it. Only the acceptance matters here, so this
//! follows `time.Parse` for exactly these layouts:
//! `2006-1-2T15:4:5.999999999Z07:00`, the same with `t`, `2006-1-2 15:4:5.999999999`, and
//! `2006-1-2`.

pub(crate) fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    // go-yaml's quick check: exactly four digits, then '-'.
    let digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
    if digits != 4 || b.get(4) != Some(&b'-') {
        return false;
    }
    [
        Layout::T(b'T'),
        Layout::T(b't'),
        Layout::Space,
        Layout::Date,
    ]
    .into_iter()
    .any(|layout| parses(b, layout))
}

#[derive(Clone, Copy)]
enum Layout {
    /// Date, the given separator, time with optional fraction, then `Z` or `±hh:mm`.
    T(u8),
    /// Date, a space, time with optional fraction, no zone.
    Space,
    Date,
}

fn parses(b: &[u8], layout: Layout) -> bool {
    let mut r = Reader { b, i: 0 };
    let year: i64 = std::str::from_utf8(&b[..4])
        .ok()
        .and_then(|y| y.parse().ok())
        .unwrap_or(0);
    r.i = 4;
    let Some(month) = r.literal(b'-').and_then(|_| r.num()) else {
        return false;
    };
    let Some(day) = r.literal(b'-').and_then(|_| r.num()) else {
        return false;
    };
    if !(1..=12).contains(&month) {
        return false;
    }
    match layout {
        Layout::Date => {}
        Layout::T(sep) => {
            if r.literal(sep).is_none() || !r.time() || !r.zone() {
                return false;
            }
        }
        Layout::Space => {
            if !r.spaces() || !r.time() {
                return false;
            }
        }
    }
    r.i == b.len() && day >= 1 && day <= days_in(month, year)
}

struct Reader<'a> {
    b: &'a [u8],
    i: usize,
}

impl Reader<'_> {
    fn literal(&mut self, c: u8) -> Option<()> {
        (self.b.get(self.i) == Some(&c)).then(|| self.i += 1)
    }

    /// `time.Parse`'s `getnum(value, false)`: one digit, or two when the second is a digit.
    fn num(&mut self) -> Option<i64> {
        let d0 = self.b.get(self.i).filter(|c| c.is_ascii_digit())?;
        self.i += 1;
        let mut v = (d0 - b'0') as i64;
        if let Some(d1) = self.b.get(self.i).filter(|c| c.is_ascii_digit()) {
            v = v * 10 + (d1 - b'0') as i64;
            self.i += 1;
        }
        Some(v)
    }

    /// A space in a layout matches one or more spaces (or the end of the value).
    fn spaces(&mut self) -> bool {
        if self.i < self.b.len() && self.b[self.i] != b' ' {
            return false;
        }
        while self.b.get(self.i) == Some(&b' ') {
            self.i += 1;
        }
        true
    }

    /// `15:4:5.999999999`: hour < 24, minute and second < 60, then an optional fraction
    /// (a `.` or `,` and any number of digits).
    fn time(&mut self) -> bool {
        let Some(h) = self.num() else { return false };
        let Some(m) = self.literal(b':').and_then(|_| self.num()) else {
            return false;
        };
        let Some(s) = self.literal(b':').and_then(|_| self.num()) else {
            return false;
        };
        if h >= 24 || m >= 60 || s >= 60 {
            return false;
        }
        if matches!(self.b.get(self.i), Some(b'.' | b','))
            && self.b.get(self.i + 1).is_some_and(u8::is_ascii_digit)
        {
            self.i += 1;
            while self.b.get(self.i).is_some_and(u8::is_ascii_digit) {
                self.i += 1;
            }
        }
        true
    }

    /// `Z07:00`: `Z`, or a sign, two digits, `:`, two digits.
    fn zone(&mut self) -> bool {
        if self.literal(b'Z').is_some() {
            return true;
        }
        let rest = &self.b[self.i..];
        if rest.len() < 6 || rest[3] != b':' || !matches!(rest[0], b'+' | b'-') {
            return false;
        }
        let two = |x: &[u8]| {
            (x[0].is_ascii_digit() && x[1].is_ascii_digit())
                .then(|| ((x[0] - b'0') * 10 + (x[1] - b'0')) as i64)
        };
        match (two(&rest[1..3]), two(&rest[4..6])) {
            (Some(h), Some(m)) if h <= 24 && m <= 60 => {
                self.i += 6;
                true
            }
            _ => false,
        }
    }
}

fn days_in(month: i64, year: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::is_timestamp;

    #[test]
    fn go_time_layouts() {
        for s in [
            "2001-12-14",
            "2001-1-2",
            "2001-12-14T21:59:43.10-05:00",
            "2001-12-14t21:59:43Z",
            "2001-12-14 21:59:43.10",
            "2001-12-14  1:2:3",
            "2000-02-29",
        ] {
            assert!(is_timestamp(s), "{s}");
        }
        for s in [
            "2001-13-01",
            "2001-02-30",
            "1900-02-29",
            "2001-12-14T21:59:43",
            "2001-12-14 21:59",
            "2001-12-14x",
            "20011-12-14",
            "2001-12-14T25:00:00Z",
            "2001-12-14 21:59:43 -5",
        ] {
            assert!(!is_timestamp(s), "{s}");
        }
    }
}
