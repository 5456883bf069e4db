//! Sprig's digests of a string: hex `sha1sum`, `sha256sum`, `sha512sum`, decimal `adler32sum`.
//! `bcrypt` and `htpasswd` hash with a random salt (Go's x/crypto format `$2a$10$…`), so their
//! output changes on every render. Key, certificate and key-derivation functions are not here
//! (see `UNSUPPORTED`).

use super::{def, def_random, text};
use crate::FuncMap;
use sha1::Digest as _;

pub(crate) fn register(m: &mut FuncMap) {
    def(m, "sha1sum", |a| {
        a.exact(1)?;
        Ok(text(hex::encode(sha1::Sha1::digest(a.str(0)?))))
    });
    def(m, "sha256sum", |a| {
        a.exact(1)?;
        Ok(text(hex::encode(sha2::Sha256::digest(a.str(0)?))))
    });
    def(m, "sha512sum", |a| {
        a.exact(1)?;
        Ok(text(hex::encode(sha2::Sha512::digest(a.str(0)?))))
    });
    def_random(m, "bcrypt", |a| {
        a.exact(1)?;
        Ok(text(bcrypt(a.str(0)?)))
    });
    def_random(m, "htpasswd", |a| {
        a.exact(2)?;
        let (user, password) = (a.str(0)?, a.str(1)?);
        if user.contains(':') {
            return Ok(text(format!("invalid username: {user}")));
        }
        Ok(text(format!("{user}:{}", bcrypt(password))))
    });
    def(m, "adler32sum", |a| {
        a.exact(1)?;
        Ok(text(
            adler2::adler32_slice(a.str(0)?.as_bytes()).to_string(),
        ))
    });
}

/// Go's `bcrypt.GenerateFromPassword(password, DefaultCost)` as Sprig prints it: the hash, or
/// the error text (a password over 72 bytes is refused, not truncated).
fn bcrypt(password: &str) -> String {
    const GO_DEFAULT_COST: u32 = 10;
    if password.len() > 72 {
        return "failed to encrypt string with bcrypt: bcrypt: password length exceeds 72 bytes"
            .into();
    }
    match bcrypt::hash_with_result(password, GO_DEFAULT_COST) {
        Ok(parts) => parts.format_for_version(bcrypt::Version::TwoA),
        Err(e) => format!("failed to encrypt string with bcrypt: {e}"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn bcrypt_verifies_and_refuses_long_passwords() {
        let hash = super::bcrypt("secret");
        assert!(hash.starts_with("$2a$10$") && hash.len() == 60, "{hash}");
        assert!(bcrypt::verify("secret", &hash).unwrap());
        assert!(super::bcrypt(&"a".repeat(73)).contains("exceeds 72 bytes"));
    }
}
