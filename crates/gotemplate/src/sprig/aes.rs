//! Sprig's `encryptAES` and `decryptAES`: AES-256 in CBC mode with PKCS#7 padding, the key
//! being the password's first 32 bytes (zero-padded), the random IV prepended to the
//! ciphertext, all in standard base64. `encryptAES` is random (its IV); `decryptAES` of the
//! same text always gives the same result, and fails where Sprig's would panic.

use super::args::Args;
use super::{def, def_random, text};
use crate::{Error, FuncMap};
use aes::Aes256;
use aes::cipher::{BlockDecrypt, BlockEncrypt, KeyInit, generic_array::GenericArray};
use base64::Engine;

const BLOCK: usize = 16;

pub(crate) fn register(m: &mut FuncMap) {
    def_random(m, "encryptAES", |a| {
        a.exact(2)?;
        let (password, plain) = (a.str(0)?, a.str(1)?);
        if plain.is_empty() {
            return Ok(text(""));
        }
        let mut iv = [0u8; BLOCK];
        getrandom::fill(&mut iv).map_err(|e| a.fail(e))?;
        let sealed = encrypt(password, plain.as_bytes(), iv);
        Ok(text(
            base64::engine::general_purpose::STANDARD.encode(sealed),
        ))
    });
    def(m, "decryptAES", |a| {
        a.exact(2)?;
        let (password, sealed) = (a.str(0)?, a.str(1)?);
        if sealed.is_empty() {
            return Ok(text(""));
        }
        let bytes = super::encoding::b64_decode(sealed.as_bytes())
            .map_err(|at| a.fail(format!("illegal base64 data at input byte {at}")))?;
        decrypt(&a, password, &bytes).map(|plain| text(String::from_utf8_lossy(&plain)))
    });
}

fn cipher(password: &str) -> Aes256 {
    let mut key = [0u8; 32];
    let n = password.len().min(32);
    key[..n].copy_from_slice(&password.as_bytes()[..n]);
    Aes256::new(GenericArray::from_slice(&key))
}

/// The IV followed by the CBC encryption of the PKCS#7-padded text.
fn encrypt(password: &str, plain: &[u8], iv: [u8; BLOCK]) -> Vec<u8> {
    let aes = cipher(password);
    let pad = BLOCK - plain.len() % BLOCK;
    let mut data = plain.to_vec();
    data.extend(std::iter::repeat_n(pad as u8, pad));
    let mut out = iv.to_vec();
    let mut previous = iv;
    for chunk in data.chunks(BLOCK) {
        let mut block = GenericArray::clone_from_slice(chunk);
        block.iter_mut().zip(previous).for_each(|(b, p)| *b ^= p);
        aes.encrypt_block(&mut block);
        previous.copy_from_slice(&block);
        out.extend_from_slice(&block);
    }
    out
}

/// Sprig's decryption: the last byte says how much padding to drop (nothing else is checked).
fn decrypt(a: &Args, password: &str, sealed: &[u8]) -> Result<Vec<u8>, Error> {
    if sealed.len() < BLOCK {
        return Err(a.fail(format!(
            "runtime error: slice bounds out of range [:{BLOCK}] with capacity {}",
            sealed.len()
        )));
    }
    let (iv, body) = sealed.split_at(BLOCK);
    if body.len() % BLOCK != 0 {
        return Err(a.fail("crypto/cipher: input not full blocks"));
    }
    let aes = cipher(password);
    let mut previous: Vec<u8> = iv.to_vec();
    let mut plain = Vec::with_capacity(body.len());
    for chunk in body.chunks(BLOCK) {
        let mut block = GenericArray::clone_from_slice(chunk);
        aes.decrypt_block(&mut block);
        block.iter_mut().zip(&previous).for_each(|(b, p)| *b ^= p);
        plain.extend_from_slice(&block);
        previous = chunk.to_vec();
    }
    let Some(&pad) = plain.last() else {
        return Err(a.fail("runtime error: index out of range [-1]"));
    };
    let keep = plain.len().checked_sub(usize::from(pad)).ok_or_else(|| {
        a.fail(format!(
            "runtime error: slice bounds out of range [:{}] with capacity {}",
            plain.len() as i64 - i64::from(pad),
            plain.len()
        ))
    })?;
    plain.truncate(keep);
    Ok(plain)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_known_vector() {
        let sealed = encrypt("secret", b"hello world", [7; BLOCK]);
        assert_eq!(sealed.len(), 32);
        let f = super::super::funcs();
        let b64 = base64::engine::general_purpose::STANDARD.encode(&sealed);
        let args = [crate::Value::string("secret"), crate::Value::string(b64)];
        let out = super::super::call(&f, "decryptAES", &args).unwrap();
        assert_eq!(out, crate::Value::string("hello world"));
        let short = [crate::Value::string("k"), crate::Value::string("YQ==")];
        assert!(super::super::call(&f, "decryptAES", &short).is_err());
    }
}
