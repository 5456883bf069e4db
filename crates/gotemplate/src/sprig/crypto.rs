//! Sprig's digests of a string: hex `sha1sum`, `sha256sum`, `sha512sum`, decimal `adler32sum`.
//! Key, certificate and password functions are not here (see `UNSUPPORTED`).

use super::{def, text};
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
    def(m, "adler32sum", |a| {
        a.exact(1)?;
        Ok(text(
            adler2::adler32_slice(a.str(0)?.as_bytes()).to_string(),
        ))
    });
}
