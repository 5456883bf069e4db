//! `b64enc`, `b64dec`, `b32enc`, `b32dec` with Go's standard (padded) alphabets. A decoding
//! error is not a template error: Sprig returns Go's error text as the result
//! (`illegal base64 data at input byte 4`), so the decoders here report Go's byte offsets.

use super::{def, text};
use crate::FuncMap;
use base64::Engine;

pub(crate) fn register(m: &mut FuncMap) {
    def(m, "b64enc", |a| {
        a.exact(1)?;
        Ok(text(
            base64::engine::general_purpose::STANDARD.encode(a.str(0)?),
        ))
    });
    def(m, "b64dec", |a| {
        a.exact(1)?;
        Ok(text(decoded(b64_decode(a.str(0)?.as_bytes()), "base64")))
    });
    def(m, "b32enc", |a| {
        a.exact(1)?;
        Ok(text(b32_encode(a.str(0)?.as_bytes())))
    });
    def(m, "b32dec", |a| {
        a.exact(1)?;
        Ok(text(decoded(b32_decode(a.str(0)?.as_bytes()), "base32")))
    });
}

/// The decoded bytes as text, or Go's `CorruptInputError` message.
fn decoded(result: Result<Vec<u8>, usize>, what: &str) -> String {
    match result {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(at) => format!("illegal {what} data at input byte {at}"),
    }
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

fn lookup(alphabet: &[u8], c: u8) -> Option<u8> {
    alphabet.iter().position(|&a| a == c).map(|p| p as u8)
}

fn is_newline(c: u8) -> bool {
    c == b'\n' || c == b'\r'
}

/// Go's `base64.StdEncoding.DecodeString`: `\r` and `\n` are skipped anywhere, padding is
/// required, data after the padding is an error; `Err` holds the offending offset.
pub(crate) fn b64_decode(src: &[u8]) -> Result<Vec<u8>, usize> {
    let mut out = Vec::with_capacity(src.len() / 4 * 3);
    let mut si = 0;
    while si < src.len() {
        let mut quantum = [0u8; 4];
        let mut len = 4;
        let mut j = 0;
        let mut trailing_error = None;
        while j < 4 {
            if si == src.len() {
                if j == 0 {
                    return Ok(out);
                }
                return Err(si - j);
            }
            let c = src[si];
            si += 1;
            if let Some(v) = lookup(B64, c) {
                quantum[j] = v;
                j += 1;
                continue;
            }
            if is_newline(c) {
                continue;
            }
            if c != b'=' || j < 2 {
                return Err(si - 1);
            }
            if j == 2 {
                while si < src.len() && is_newline(src[si]) {
                    si += 1;
                }
                if si == src.len() {
                    return Err(src.len());
                }
                if src[si] != b'=' {
                    return Err(si - 1);
                }
                si += 1;
            }
            while si < src.len() && is_newline(src[si]) {
                si += 1;
            }
            if si < src.len() {
                trailing_error = Some(si);
            }
            len = j;
            break;
        }
        let v = u32::from(quantum[0]) << 18
            | u32::from(quantum[1]) << 12
            | u32::from(quantum[2]) << 6
            | u32::from(quantum[3]);
        let bytes = [(v >> 16) as u8, (v >> 8) as u8, v as u8];
        out.extend_from_slice(&bytes[..len - 1]);
        if let Some(at) = trailing_error {
            return Err(at);
        }
        if len < 4 {
            return Ok(out);
        }
    }
    Ok(out)
}

fn b32_encode(src: &[u8]) -> String {
    let mut out = String::with_capacity(src.len().div_ceil(5) * 8);
    for chunk in src.chunks(5) {
        let mut block = [0u8; 5];
        block[..chunk.len()].copy_from_slice(chunk);
        let v = block.iter().fold(0u64, |acc, &b| acc << 8 | u64::from(b));
        let chars = (chunk.len() * 8).div_ceil(5);
        for i in 0..8 {
            if i < chars {
                out.push(B32[((v >> (35 - 5 * i)) & 31) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Go's `base32.StdEncoding.DecodeString`: newlines removed first, then 8-character quanta
/// with the padding lengths RFC 4648 allows; `Err` holds the offending offset.
fn b32_decode(input: &[u8]) -> Result<Vec<u8>, usize> {
    let src: Vec<u8> = input.iter().copied().filter(|&c| !is_newline(c)).collect();
    let total = src.len();
    let mut out = Vec::with_capacity(total / 8 * 5);
    let mut pos = 0;
    let mut end = false;
    while pos < total && !end {
        let mut quantum = [0u8; 8];
        let mut len = 8;
        let mut j = 0;
        while j < 8 {
            if pos == total {
                return Err(total - j);
            }
            let c = src[pos];
            pos += 1;
            let remaining = total - pos;
            if c == b'=' && j >= 2 && remaining < 8 {
                if remaining + j < 7 {
                    return Err(total);
                }
                for k in 0..7 - j {
                    if remaining > k && src[pos + k] != b'=' {
                        return Err(pos + k - 1);
                    }
                }
                len = j;
                end = true;
                if matches!(len, 1 | 3 | 6) {
                    return Err(pos - 1);
                }
                break;
            }
            quantum[j] = lookup(B32, c).ok_or(pos - 1)?;
            j += 1;
        }
        let v = quantum.iter().fold(0u64, |acc, &q| acc << 5 | u64::from(q));
        let bytes = (len * 5) / 8;
        for i in 0..bytes {
            out.push((v >> (32 - 8 * i)) as u8);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_like_go() {
        assert_eq!(b64_decode(b"aGVsbG8=").unwrap(), b"hello");
        assert_eq!(b64_decode(b"aGVs\nbG8=").unwrap(), b"hello");
        assert_eq!(b64_decode(b"aGVsbG8"), Err(4));
        assert_eq!(b64_decode(b"aGV!bG8="), Err(3));
        assert_eq!(b64_decode(b"aGVsbG8=x"), Err(8));
        assert_eq!(b64_decode(b"").unwrap(), b"");
    }

    #[test]
    fn base32_like_go() {
        assert_eq!(b32_encode(b"hello"), "NBSWY3DP");
        assert_eq!(b32_encode(b"hi"), "NBUQ====");
        assert_eq!(b32_decode(b"NBSWY3DP").unwrap(), b"hello");
        assert_eq!(b32_decode(b"NBUQ====").unwrap(), b"hi");
        assert!(b32_decode(b"NBUQ").is_err());
        assert!(b32_decode(b"NB!Q====").is_err());
    }
}
