//! Go's `fmt` for template values: `Sprint`, `Sprintln`, `Sprintf` with Go's verbs, flags,
//! width and precision, and Go's texts for misuse (`%!d(string=x)`, `%!v(MISSING)`,
//! `%!(EXTRA int=1)`), because charts print with `printf` and their output must match.

use crate::gofloat;
use crate::value::Value;

/// `fmt.Sprint`: operands joined, with a space between two operands when neither is a string.
pub fn sprint(args: &[Value]) -> String {
    let mut out = String::new();
    let mut prev_string = false;
    for (i, a) in args.iter().enumerate() {
        let is_string = matches!(a, Value::String(_));
        if i > 0 && !is_string && !prev_string {
            out.push(' ');
        }
        write_value(&mut out, a);
        prev_string = is_string;
    }
    out
}

/// `fmt.Sprintln`: operands always separated by spaces, then a newline.
pub fn sprintln(args: &[Value]) -> String {
    let mut out = String::new();
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        write_value(&mut out, a);
    }
    out.push('\n');
    out
}

/// `%v` of one value, appended to `out`.
pub fn write_value(out: &mut String, v: &Value) {
    match v {
        Value::String(s) => out.push_str(s),
        Value::Int(n) => {
            use std::fmt::Write;
            let _ = write!(out, "{n}");
        }
        Value::Float(f) => out.push_str(&gofloat::format_v(*f)),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Nil => out.push_str("<nil>"),
        _ => {
            let mut p = Printer {
                out: std::mem::take(out),
                f: Flags::default(),
            };
            p.print_arg(v, 'v', 0);
            *out = p.out;
        }
    }
}

/// `%v` of one value.
pub fn to_string(v: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, v);
    out
}

#[derive(Clone, Copy, Default)]
struct Flags {
    plus: bool,
    minus: bool,
    sharp: bool,
    space: bool,
    zero: bool,
    plus_v: bool,
    sharp_v: bool,
    wid: Option<usize>,
    prec: Option<usize>,
}

struct Printer {
    out: String,
    f: Flags,
}

/// `fmt.Sprintf`.
pub fn sprintf(format: &str, args: &[Value]) -> String {
    let mut p = Printer {
        out: String::with_capacity(format.len() + 16),
        f: Flags::default(),
    };
    let b = format.as_bytes();
    let end = b.len();
    let mut arg_num = 0usize;
    let mut reordered = false;
    let mut i = 0;
    while i < end {
        let mut good_arg_num = true;
        let last = i;
        while i < end && b[i] != b'%' {
            i += 1;
        }
        if i > last {
            p.out.push_str(&format[last..i]);
        }
        if i >= end {
            break;
        }
        i += 1;
        p.f = Flags::default();
        while i < end {
            match b[i] {
                b'#' => p.f.sharp = true,
                b'0' => p.f.zero = !p.f.minus,
                b'+' => p.f.plus = true,
                b'-' => {
                    p.f.minus = true;
                    p.f.zero = false;
                }
                b' ' => p.f.space = true,
                _ => break,
            }
            i += 1;
        }
        // Argument index, width, precision.
        let mut after_index;
        (arg_num, i, after_index) = arg_number(
            &mut reordered,
            &mut good_arg_num,
            arg_num,
            format,
            i,
            args.len(),
        );
        if i < end && b[i] == b'*' {
            i += 1;
            let (n, ok, next) = int_from_arg(args, arg_num);
            arg_num = next;
            if !ok {
                p.out.push_str("%!(BADWIDTH)");
                p.f.wid = None;
            } else if n < 0 {
                p.f.wid = Some(n.unsigned_abs() as usize);
                p.f.minus = true;
                p.f.zero = false;
            } else {
                p.f.wid = Some(n as usize);
            }
            after_index = false;
        } else {
            let (n, next) = parse_num(b, i, end);
            p.f.wid = n;
            i = next;
            if after_index && p.f.wid.is_some() {
                good_arg_num = false;
            }
        }
        if i + 1 < end && b[i] == b'.' {
            i += 1;
            if after_index {
                good_arg_num = false;
            }
            (arg_num, i, after_index) = arg_number(
                &mut reordered,
                &mut good_arg_num,
                arg_num,
                format,
                i,
                args.len(),
            );
            if i < end && b[i] == b'*' {
                i += 1;
                let (n, ok, next) = int_from_arg(args, arg_num);
                arg_num = next;
                p.f.prec = if ok && n >= 0 { Some(n as usize) } else { None };
                if !ok {
                    p.out.push_str("%!(BADPREC)");
                }
                after_index = false;
            } else {
                let (n, next) = parse_num(b, i, end);
                i = next;
                p.f.prec = Some(n.unwrap_or(0));
            }
        }
        if !after_index {
            (arg_num, i, _) = arg_number(
                &mut reordered,
                &mut good_arg_num,
                arg_num,
                format,
                i,
                args.len(),
            );
        }
        if i >= end {
            p.out.push_str("%!(NOVERB)");
            break;
        }
        let verb = format[i..].chars().next().unwrap_or('?');
        i += verb.len_utf8();
        if verb == '%' {
            p.out.push('%');
        } else if !good_arg_num {
            p.out.push_str(&format!("%!{verb}(BADINDEX)"));
        } else if arg_num >= args.len() {
            p.out.push_str(&format!("%!{verb}(MISSING)"));
        } else {
            if verb == 'v' {
                p.f.sharp_v = p.f.sharp;
                p.f.sharp = false;
                p.f.plus_v = p.f.plus;
                p.f.plus = false;
            }
            p.print_arg(&args[arg_num], verb, 0);
            arg_num += 1;
        }
    }
    if !reordered && arg_num < args.len() {
        p.f = Flags::default();
        p.out.push_str("%!(EXTRA ");
        for (k, a) in args[arg_num..].iter().enumerate() {
            if k > 0 {
                p.out.push_str(", ");
            }
            if let Value::Nil = a {
                p.out.push_str("<nil>");
            } else {
                p.out.push_str(&a.type_name());
                p.out.push('=');
                p.print_arg(a, 'v', 0);
            }
        }
        p.out.push(')');
    }
    p.out
}

fn too_large(n: i64) -> bool {
    !(-1_000_000..=1_000_000).contains(&n)
}

fn parse_num(b: &[u8], start: usize, end: usize) -> (Option<usize>, usize) {
    let mut i = start;
    let mut n: i64 = 0;
    while i < end && b[i].is_ascii_digit() {
        n = n * 10 + (b[i] - b'0') as i64;
        if too_large(n) {
            return (None, end);
        }
        i += 1;
    }
    if i == start {
        (None, i)
    } else {
        (Some(n as usize), i)
    }
}

fn int_from_arg(args: &[Value], arg_num: usize) -> (i64, bool, usize) {
    match args.get(arg_num) {
        Some(Value::Int(n)) if !too_large(*n) => (*n, true, arg_num + 1),
        Some(_) => (0, false, arg_num + 1),
        None => (0, false, arg_num),
    }
}

/// `%[n]`: the explicit argument index, Go's `argNumber`.
fn arg_number(
    reordered: &mut bool,
    good: &mut bool,
    arg_num: usize,
    format: &str,
    i: usize,
    num_args: usize,
) -> (usize, usize, bool) {
    let b = format.as_bytes();
    if i >= b.len() || b[i] != b'[' {
        return (arg_num, i, false);
    }
    *reordered = true;
    let rest = &b[i..];
    let (index, wid, ok) = (|| {
        if rest.len() < 3 {
            return (0i64, 1usize, false);
        }
        for j in 1..rest.len() {
            if rest[j] == b']' {
                let (n, next) = parse_num(rest, 1, j);
                return match n {
                    Some(n) if next == j => (n as i64 - 1, j + 1, true),
                    _ => (0, j + 1, false),
                };
            }
        }
        (0, 1, false)
    })();
    if ok && index >= 0 && (index as usize) < num_args {
        return (index as usize, i + wid, true);
    }
    *good = false;
    (arg_num, i + wid, ok)
}

impl Printer {
    fn write_padding(&mut self, n: usize) {
        let c = if self.f.zero { '0' } else { ' ' };
        for _ in 0..n {
            self.out.push(c);
        }
    }

    fn pad(&mut self, s: &str) {
        let Some(wid) = self.f.wid else {
            self.out.push_str(s);
            return;
        };
        let n = s.chars().count();
        if n >= wid {
            self.out.push_str(s);
        } else if self.f.minus {
            self.out.push_str(s);
            let zero = self.f.zero;
            self.f.zero = false;
            self.write_padding(wid - n);
            self.f.zero = zero;
        } else {
            self.write_padding(wid - n);
            self.out.push_str(s);
        }
    }

    fn bad_verb(&mut self, v: &Value, verb: char) {
        self.out.push_str("%!");
        self.out.push(verb);
        self.out.push('(');
        match v {
            Value::Nil => self.out.push_str("<nil>"),
            _ => {
                self.out.push_str(&v.type_name());
                self.out.push('=');
                self.print_arg(v, 'v', 0);
            }
        }
        self.out.push(')');
    }

    fn print_arg(&mut self, v: &Value, verb: char, depth: usize) {
        if verb == 'T' {
            self.pad(&v.type_name());
            return;
        }
        match v {
            Value::Nil => {
                if depth > 0 {
                    // A nil element of a list or map: Go writes it unpadded.
                    self.out.push_str(if self.f.sharp_v {
                        "interface {}(nil)"
                    } else {
                        "<nil>"
                    });
                } else if verb == 'v' {
                    self.pad("<nil>");
                } else {
                    self.bad_verb(v, verb);
                }
            }
            Value::Bool(b) => match verb {
                't' | 'v' => self.pad(if *b { "true" } else { "false" }),
                _ => self.bad_verb(v, verb),
            },
            Value::Int(n) => self.fmt_int(*n, verb, v),
            Value::Float(x) => self.fmt_float(*x, verb, v),
            Value::String(s) => self.fmt_string(s, verb, v),
            Value::List(items) => {
                if self.f.sharp_v {
                    self.out.push_str("[]interface {}{");
                    for (i, item) in items.iter().enumerate() {
                        if i > 0 {
                            self.out.push_str(", ");
                        }
                        self.print_arg(item, verb, depth + 1);
                    }
                    self.out.push('}');
                    return;
                }
                self.out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        self.out.push(' ');
                    }
                    self.print_arg(item, verb, depth + 1);
                }
                self.out.push(']');
            }
            Value::Map(m) => {
                let m = m.borrow();
                if self.f.sharp_v {
                    self.out.push_str("map[string]interface {}{");
                    for (i, (k, val)) in m.iter().enumerate() {
                        if i > 0 {
                            self.out.push_str(", ");
                        }
                        self.fmt_string(k, verb, &Value::Nil);
                        self.out.push(':');
                        self.print_arg(val, verb, depth + 1);
                    }
                    self.out.push('}');
                    return;
                }
                self.out.push_str("map[");
                for (i, (k, val)) in m.iter().enumerate() {
                    if i > 0 {
                        self.out.push(' ');
                    }
                    self.fmt_string(k, verb, &Value::string(k.as_str()));
                    self.out.push(':');
                    self.print_arg(val, verb, depth + 1);
                }
                self.out.push(']');
            }
            Value::Object(o) => {
                let s = o.print();
                self.pad(&s);
            }
        }
    }

    fn fmt_string(&mut self, s: &str, verb: char, v: &Value) {
        match verb {
            'v' if self.f.sharp_v => self.fmt_q(s),
            'v' | 's' => {
                let s = self.truncate(s);
                self.pad(s);
            }
            'q' => self.fmt_q(s),
            'x' | 'X' => self.fmt_sx(s.as_bytes(), verb),
            _ => self.bad_verb(v, verb),
        }
    }

    fn truncate<'s>(&self, s: &'s str) -> &'s str {
        if let Some(p) = self.f.prec
            && let Some((i, _)) = s.char_indices().nth(p)
        {
            return &s[..i];
        }
        s
    }

    fn fmt_q(&mut self, s: &str) {
        let s = self.truncate(s);
        if self.f.sharp && !s.contains('`') && s.chars().all(|c| c == '\t' || !c.is_control()) {
            let q = format!("`{s}`");
            self.pad(&q);
            return;
        }
        let q = quote(s, self.f.plus, '"');
        self.pad(&q);
    }

    fn fmt_sx(&mut self, bytes: &[u8], verb: char) {
        let digits: &[u8] = if verb == 'x' {
            b"0123456789abcdef"
        } else {
            b"0123456789ABCDEF"
        };
        let bytes = match self.f.prec {
            Some(p) if p < bytes.len() => &bytes[..p],
            _ => bytes,
        };
        let mut s = String::new();
        if bytes.is_empty() {
            let zero = self.f.zero;
            self.f.zero = false;
            if let Some(w) = self.f.wid {
                self.write_padding(w);
            }
            self.f.zero = zero;
            return;
        }
        for (i, b) in bytes.iter().enumerate() {
            if self.f.space && i > 0 {
                s.push(' ');
            }
            if self.f.sharp && (self.f.space || i == 0) {
                s.push('0');
                s.push(verb);
            }
            s.push(digits[(b >> 4) as usize] as char);
            s.push(digits[(b & 15) as usize] as char);
        }
        self.pad(&s);
    }

    fn fmt_int(&mut self, n: i64, verb: char, v: &Value) {
        match verb {
            'v' | 'd' => self.fmt_integer(n, 10, verb, b"0123456789abcdefx"),
            'b' => self.fmt_integer(n, 2, verb, b"0123456789abcdefx"),
            'o' | 'O' => self.fmt_integer(n, 8, verb, b"0123456789abcdefx"),
            'x' => self.fmt_integer(n, 16, verb, b"0123456789abcdefx"),
            'X' => self.fmt_integer(n, 16, verb, b"0123456789ABCDEFX"),
            'c' => {
                let c = u32::try_from(n)
                    .ok()
                    .and_then(char::from_u32)
                    .unwrap_or('\u{FFFD}');
                let mut buf = [0; 4];
                let s = c.encode_utf8(&mut buf).to_owned();
                self.pad(&s);
            }
            'q' => {
                let c = u32::try_from(n)
                    .ok()
                    .and_then(char::from_u32)
                    .unwrap_or('\u{FFFD}');
                let s = quote(&c.to_string(), self.f.plus, '\'');
                self.pad(&s);
            }
            'U' => {
                let mut s = format!("U+{:04X}", n as u64);
                if self.f.sharp
                    && let Some(c) = u32::try_from(n).ok().and_then(char::from_u32)
                    && is_print(c)
                {
                    s.push_str(&format!(" '{c}'"));
                }
                let zero = self.f.zero;
                self.f.zero = false;
                self.pad(&s);
                self.f.zero = zero;
            }
            _ => self.bad_verb(v, verb),
        }
    }

    /// Go's `fmt.fmtInteger`.
    fn fmt_integer(&mut self, n: i64, base: u64, verb: char, digits: &[u8]) {
        let negative = n < 0;
        let mut u = n.unsigned_abs();
        let mut prec = 0usize;
        if let Some(p) = self.f.prec {
            prec = p;
            if p == 0 && u == 0 {
                let zero = self.f.zero;
                self.f.zero = false;
                if let Some(w) = self.f.wid {
                    self.write_padding(w);
                }
                self.f.zero = zero;
                return;
            }
        } else if self.f.zero
            && !self.f.minus
            && let Some(w) = self.f.wid
        {
            prec = w;
            if negative || self.f.plus || self.f.space {
                prec = prec.saturating_sub(1);
            }
        }
        let mut buf: Vec<u8> = Vec::with_capacity(24);
        loop {
            buf.push(digits[(u % base) as usize]);
            u /= base;
            if u == 0 {
                break;
            }
        }
        while buf.len() < prec {
            buf.push(b'0');
        }
        if self.f.sharp {
            match base {
                2 => buf.extend_from_slice(b"b0"),
                8 if buf.last() != Some(&b'0') => buf.push(b'0'),
                16 => {
                    buf.push(digits[16]);
                    buf.push(b'0');
                }
                _ => {}
            }
        }
        if verb == 'O' {
            buf.extend_from_slice(b"o0");
        }
        if negative {
            buf.push(b'-');
        } else if self.f.plus {
            buf.push(b'+');
        } else if self.f.space {
            buf.push(b' ');
        }
        buf.reverse();
        let s = String::from_utf8(buf).unwrap_or_default();
        let zero = self.f.zero;
        self.f.zero = false;
        self.pad(&s);
        self.f.zero = zero;
    }

    fn fmt_float(&mut self, x: f64, verb: char, v: &Value) {
        let text = match verb {
            'v' | 'g' | 'G' => match self.f.prec {
                None => gofloat::format_v(x),
                Some(p) => format_g_prec(x, p),
            },
            'e' | 'E' => format_e_prec(x, self.f.prec.unwrap_or(6)),
            'x' | 'X' => format_x(x, self.f.prec.map_or(-1, |p| p as i64), verb),
            'b' => format_b(x),
            'f' | 'F' => {
                if x.is_finite() {
                    format!("{:.*}", self.f.prec.unwrap_or(6), x)
                } else {
                    gofloat::format_v(x)
                }
            }
            _ => return self.bad_verb(v, verb),
        };
        let text = if verb == 'E' || verb == 'G' || verb == 'X' {
            text.to_uppercase()
                .replace("INF", "Inf")
                .replace("NAN", "NaN")
        } else {
            text
        };
        let mut num = if text.starts_with('-') || text.starts_with('+') {
            text
        } else {
            format!("+{text}")
        };
        if self.f.sharp && x.is_finite() && verb != 'b' {
            num = self.sharp_float(num, verb);
        }
        if self.f.space && num.starts_with('+') && !self.f.plus {
            num.replace_range(0..1, " ");
        }
        if num[1..].starts_with('I') || num[1..].starts_with('N') {
            let zero = self.f.zero;
            self.f.zero = false;
            if num[1..].starts_with('N') && !self.f.space && !self.f.plus {
                num.remove(0);
            }
            self.pad(&num);
            self.f.zero = zero;
            return;
        }
        if self.f.plus || !num.starts_with('+') {
            if self.f.zero
                && !self.f.minus
                && let Some(w) = self.f.wid
                && w > num.len()
            {
                self.out.push_str(&num[..1]);
                self.write_padding(w - num.len());
                self.out.push_str(&num[1..]);
                return;
            }
            self.pad(&num);
            return;
        }
        self.pad(&num[1..]);
    }
}

impl Printer {
    /// The `#` flag on floats: always a decimal point, and `%g` keeps its trailing zeros up to
    /// the precision (6 when none is given), as Go's `fmtFloat` does.
    fn sharp_float(&self, num: String, verb: char) -> String {
        let mut digits: i64 = match verb {
            'v' | 'g' | 'G' | 'x' => self.f.prec.map_or(6, |p| p as i64),
            _ => 0,
        };
        let hex = verb == 'x' || verb == 'X';
        let exponent: &[char] = if hex { &['p', 'P'] } else { &['e', 'E'] };
        let (body, tail) = match num.find(exponent) {
            Some(i) => (&num[..i], &num[i..]),
            None => (num.as_str(), ""),
        };
        let mut out = body.to_owned();
        let has_point = body.contains('.');
        let mut saw_nonzero = false;
        for c in body[1..].chars() {
            if c == '.' {
                continue;
            }
            if c != '0' {
                saw_nonzero = true;
            }
            if saw_nonzero {
                digits -= 1;
            }
        }
        if !has_point {
            if body.len() == 2 && body.ends_with('0') {
                digits -= 1;
            }
            out.push('.');
        }
        while digits > 0 {
            out.push('0');
            digits -= 1;
        }
        out.push_str(tail);
        out
    }
}

/// The sign, mantissa (with its top bit at 1 << 60) and binary exponent of `x`, as Go's
/// `strconv` takes a float apart for `%x`.
fn float_parts(x: f64) -> (bool, u64, i64) {
    let bits = x.to_bits();
    let neg = bits >> 63 != 0;
    let mut exp = ((bits >> 52) & 0x7ff) as i64;
    let mut mant = bits & ((1 << 52) - 1);
    if exp == 0 {
        exp += 1;
    } else {
        mant |= 1 << 52;
    }
    exp -= 1023;
    (neg, mant, exp)
}

/// `strconv.FormatFloat(x, 'x', prec, 64)`: `0x1.8p+01`.
fn format_x(x: f64, prec: i64, verb: char) -> String {
    if !x.is_finite() {
        return gofloat::format_v(x);
    }
    let (neg, mut mant, mut exp) = float_parts(x);
    if mant == 0 {
        exp = 0;
    }
    mant <<= 60 - 52;
    while mant != 0 && mant & (1 << 60) == 0 {
        mant <<= 1;
        exp -= 1;
    }
    if (0..15).contains(&prec) {
        let shift = (prec * 4) as u32;
        let extra = (mant << shift) & ((1 << 60) - 1);
        mant >>= 60 - shift;
        if extra | (mant & 1) > 1 << 59 {
            mant += 1;
        }
        mant <<= 60 - shift;
        if mant & (1 << 61) != 0 {
            mant >>= 1;
            exp += 1;
        }
    }
    let hex: &[u8] = if verb == 'X' {
        b"0123456789ABCDEF"
    } else {
        b"0123456789abcdef"
    };
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    out.push('0');
    out.push(verb);
    out.push((b'0' + ((mant >> 60) & 1) as u8) as char);
    mant <<= 4;
    if prec < 0 && mant != 0 {
        out.push('.');
        while mant != 0 {
            out.push(hex[((mant >> 60) & 15) as usize] as char);
            mant <<= 4;
        }
    } else if prec > 0 {
        out.push('.');
        for _ in 0..prec {
            out.push(hex[((mant >> 60) & 15) as usize] as char);
            mant <<= 4;
        }
    }
    out.push(if verb == 'X' { 'P' } else { 'p' });
    out.push(if exp < 0 { '-' } else { '+' });
    let e = exp.unsigned_abs();
    if e < 10 {
        out.push('0');
    }
    out.push_str(&e.to_string());
    out
}

/// `strconv.FormatFloat(x, 'b', -1, 64)`: decimal mantissa and binary exponent.
fn format_b(x: f64) -> String {
    if !x.is_finite() {
        return gofloat::format_v(x);
    }
    let (neg, mant, exp) = float_parts(x);
    let exp = exp - 52;
    format!(
        "{}{mant}p{}{}",
        if neg { "-" } else { "" },
        if exp >= 0 { "+" } else { "-" },
        exp.unsigned_abs()
    )
}

/// Go's exponent layout: at least two digits, with a sign (`e+06`).
fn go_exponent(rust: &str) -> String {
    let Some((mant, exp)) = rust.split_once('e') else {
        return rust.to_owned();
    };
    let (sign, digits) = match exp.strip_prefix('-') {
        Some(d) => ('-', d),
        None => ('+', exp),
    };
    format!("{mant}e{sign}{digits:0>2}")
}

fn format_e_prec(x: f64, prec: usize) -> String {
    if !x.is_finite() {
        return gofloat::format_v(x);
    }
    go_exponent(&format!("{x:.prec$e}"))
}

/// `strconv.FormatFloat(x, 'g', prec, 64)`.
fn format_g_prec(x: f64, prec: usize) -> String {
    if !x.is_finite() {
        return gofloat::format_v(x);
    }
    let prec = prec.max(1);
    let e = format!("{:.*e}", prec - 1, x.abs());
    let (mant, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i64 = exp.parse().unwrap_or(0);
    let digits: String = mant.chars().filter(|c| c.is_ascii_digit()).collect();
    let digits = if x == 0.0 {
        "0".to_owned()
    } else {
        digits.trim_end_matches('0').to_owned()
    };
    let digits = if digits.is_empty() {
        "0".to_owned()
    } else {
        digits
    };
    let nd = digits.len() as i64;
    let dp = exp + 1;
    let mut eprec = prec as i64;
    if eprec > nd && nd >= dp {
        eprec = nd;
    }
    let sign = if x.is_sign_negative() { "-" } else { "" };
    if exp < -4 || exp >= eprec {
        let mut s = String::from(sign);
        s.push_str(&digits[..1]);
        if nd > 1 {
            s.push('.');
            s.push_str(&digits[1..]);
        }
        return go_exponent(&format!("{s}e{exp}"));
    }
    // Fixed notation with max(nd - dp, 0) decimals.
    let decimals = (nd - dp).max(0) as usize;
    format!("{sign}{:.*}", decimals, x.abs())
}

/// Go's `unicode.IsPrint`, closely enough for quoting: graphic characters and the ASCII space.
pub fn is_print(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    if c.is_control() || c.is_whitespace() {
        return false;
    }
    !matches!(c as u32, 0xAD | 0x600..=0x605 | 0x61C | 0x6DD | 0x70F | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x206F | 0xFEFF | 0xFFF9..=0xFFFB | 0xE000..=0xF8FF | 0xFFFE | 0xFFFF)
}

/// Go's `strconv.Quote` (`ascii`: `QuoteToASCII`) with `q` as the quote character.
pub fn quote(s: &str, ascii: bool, q: char) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push(q);
    for c in s.chars() {
        match c {
            '\x07' => out.push_str("\\a"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x0b' => out.push_str("\\v"),
            '\\' => out.push_str("\\\\"),
            c if c == q => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x80 && is_print(c) => out.push(c),
            c if !ascii && is_print(c) => out.push(c),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push(q);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &str) -> Value {
        Value::string(x)
    }

    #[test]
    fn sprint_spacing() {
        assert_eq!(sprint(&[Value::Int(1), Value::Int(2)]), "1 2");
        assert_eq!(sprint(&[s("a"), Value::Int(1), s("b")]), "a1b");
        assert_eq!(sprint(&[Value::Nil, Value::Int(1)]), "<nil> 1");
        assert_eq!(sprintln(&[s("a"), s("b")]), "a b\n");
    }

    #[test]
    fn verbs() {
        assert_eq!(
            sprintf(
                "%d|%5d|%-5d|%05d|%+d|%x|%#x|%o|%b",
                &[
                    Value::Int(42),
                    Value::Int(42),
                    Value::Int(42),
                    Value::Int(-42),
                    Value::Int(3),
                    Value::Int(255),
                    Value::Int(255),
                    Value::Int(8),
                    Value::Int(5)
                ]
            ),
            "42|   42|42   |-0042|+3|ff|0xff|10|101"
        );
        assert_eq!(
            sprintf(
                "%.2f|%8.3f|%e|%g|%.3g|%v",
                &[
                    Value::Float(1.23456),
                    Value::Float(1.23456),
                    Value::Float(1234.5),
                    Value::Float(1e6),
                    Value::Float(1234.5678),
                    Value::Float(0.0001)
                ]
            ),
            "1.23|   1.235|1.234500e+03|1e+06|1.23e+03|0.0001"
        );
        assert_eq!(
            sprintf(
                "%s|%q|%5s|%-5s|%.2s",
                &[s("a"), s("a\"b"), s("ab"), s("ab"), s("abc")]
            ),
            "a|\"a\\\"b\"|   ab|ab   |ab"
        );
        assert_eq!(sprintf("%d %s", &[s("x")]), "%!d(string=x) %!s(MISSING)");
        assert_eq!(sprintf("%s", &[Value::Nil]), "%!s(<nil>)");
        assert_eq!(sprintf("%v", &[s("a"), Value::Int(1)]), "a%!(EXTRA int=1)");
        assert_eq!(
            sprintf(
                "%*d|%-*d|%%",
                &[Value::Int(4), Value::Int(1), Value::Int(3), Value::Int(2)]
            ),
            "   1|2  |%"
        );
        assert_eq!(
            sprintf("%[2]v %[1]v", &[Value::Int(1), Value::Int(2)]),
            "2 1"
        );
        assert_eq!(
            sprintf(
                "%t %c %U %T",
                &[
                    Value::Bool(true),
                    Value::Int(65),
                    Value::Int(65),
                    Value::Float(1.0)
                ]
            ),
            "true A U+0041 float64"
        );
    }

    #[test]
    fn containers() {
        let l = Value::list(vec![Value::Int(1), s("a"), Value::Nil]);
        assert_eq!(to_string(&l), "[1 a <nil>]");
        let mut m = std::collections::BTreeMap::new();
        m.insert("b".to_string(), Value::Float(1e6));
        m.insert("a".to_string(), l);
        assert_eq!(to_string(&Value::map(m)), "map[a:[1 a <nil>] b:1e+06]");
    }
}
