//! The formats of `strata diff`: [`text`] for a terminal, [`markdown`] for a pull-request
//! comment, [`json`] for programs. All three read the same [`DiffReport`](super::DiffReport).

pub mod json;
pub mod markdown;
pub mod shared;
pub mod text;

use super::objects::SecretKeyChange;

/// `data.password changed, data.token added`: which Secret keys differ, never their values.
pub fn secret_keys(keys: &[SecretKeyChange]) -> String {
    keys.iter()
        .map(|k| format!("{}.{} {}", k.field, k.key, k.change.verb()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// "1 tenant", "37 tenants".
pub fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}
