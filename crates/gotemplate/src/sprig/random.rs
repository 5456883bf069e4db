//! Sprig's random functions. Their output changes on every render (registered as
//! `Determinism::Random`); the random strings come from the operating system's generator, as
//! Sprig's come from `crypto/rand`, because charts use them for passwords.

use super::args::Args;
use super::{def_random, text};
use crate::{Error, FuncMap, Value};
use base64::Engine;

pub(crate) fn register(m: &mut FuncMap) {
    def_random(m, "randAlphaNum", |a| {
        random_string(a, |c| c.is_ascii_alphanumeric())
    });
    def_random(m, "randAlpha", |a| {
        random_string(a, |c| c.is_ascii_alphabetic())
    });
    def_random(m, "randNumeric", |a| {
        random_string(a, |c| c.is_ascii_digit())
    });
    def_random(m, "randAscii", |a| {
        random_string(a, |c| (' '..='~').contains(&c))
    });
    def_random(m, "randBytes", |a| {
        a.exact(1)?;
        let count = a.int(0)?;
        if count < 0 {
            return Err(a.fail("runtime error: makeslice: len out of range"));
        }
        let bytes = random_bytes(&a, count as usize)?;
        Ok(text(
            base64::engine::general_purpose::STANDARD.encode(bytes),
        ))
    });
    def_random(m, "uuidv4", |a| {
        a.exact(0)?;
        let mut b = random_bytes(&a, 16)?;
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        let h = hex::encode(&b);
        Ok(text(format!(
            "{}-{}-{}-{}-{}",
            &h[0..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..32]
        )))
    });
    def_random(m, "shuffle", |a| {
        a.exact(1)?;
        let mut chars: Vec<char> = a.str(0)?.chars().collect();
        for i in (1..chars.len()).rev() {
            let j = below(&a, i as u64 + 1)? as usize;
            chars.swap(i, j);
        }
        Ok(text(chars.into_iter().collect::<String>()))
    });
    def_random(m, "randInt", |a| {
        a.exact(2)?;
        let (min, max) = (a.int(0)?, a.int(1)?);
        let span = max.wrapping_sub(min);
        if span <= 0 {
            return Err(a.fail("invalid argument to Intn"));
        }
        Ok(Value::Int(min + below(&a, span as u64)? as i64))
    });
}

/// The most random characters or bytes one call makes.
const MAX_RANDOM: usize = 1 << 20;

fn random_bytes(a: &Args, n: usize) -> Result<Vec<u8>, Error> {
    if n > MAX_RANDOM {
        return Err(a.fail(format!("{n} random bytes are more than {MAX_RANDOM}")));
    }
    let mut buf = vec![0u8; n];
    getrandom::fill(&mut buf).map_err(|e| a.fail(e))?;
    Ok(buf)
}

/// A uniform random number below `n` (rejection sampling, no modulo bias).
fn below(a: &Args, n: u64) -> Result<u64, Error> {
    let zone = u64::MAX - (u64::MAX % n);
    loop {
        let b = random_bytes(a, 8)?;
        let v = u64::from_le_bytes(b.try_into().unwrap_or([0; 8]));
        if v < zone {
            return Ok(v % n);
        }
    }
}

/// `count` characters drawn uniformly from the printable ASCII characters `keep` accepts
/// (goutils' `CryptoRandom`); a negative count is goutils' error, which Sprig prints as "".
fn random_string(a: Args, keep: fn(char) -> bool) -> Result<Value, Error> {
    a.exact(1)?;
    let count = a.int(0)?;
    if count <= 0 {
        return Ok(text(""));
    }
    let alphabet: Vec<char> = (' '..='~').filter(|c| keep(*c)).collect();
    let count = count as usize;
    if count > MAX_RANDOM {
        return Err(a.fail(format!(
            "{count} random characters are more than {MAX_RANDOM}"
        )));
    }
    let mut out = String::with_capacity(count);
    for _ in 0..count {
        out.push(alphabet[below(&a, alphabet.len() as u64)? as usize]);
    }
    Ok(text(out))
}
