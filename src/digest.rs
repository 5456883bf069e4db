//! The one way strata hashes a sequence of fields into a key (render inputs, render cache
//! entries). It sits on the ground floor so the stages that take a fingerprint and the cache
//! that keys on it both use it without depending on each other.

use sha2::{Digest, Sha256};

/// A sha256 over self-delimiting fields: every field carries its length, so no two different
/// input sequences encode to the same bytes (`["ab", "c"]` and `["a", "bc"]` differ).
pub struct Encoder(Sha256);

impl Default for Encoder {
    fn default() -> Encoder {
        Encoder::new()
    }
}

impl Encoder {
    pub fn new() -> Encoder {
        Encoder(Sha256::new())
    }

    pub fn number(&mut self, n: u64) {
        self.0.update(n.to_be_bytes());
    }

    pub fn count(&mut self, n: usize) {
        self.number(n as u64);
    }

    pub fn bytes(&mut self, bytes: &[u8]) {
        self.count(bytes.len());
        self.0.update(bytes);
    }

    pub fn str(&mut self, s: &str) {
        self.bytes(s.as_bytes());
    }

    pub fn flag(&mut self, b: bool) {
        self.bytes(&[u8::from(b)]);
    }

    pub fn option(&mut self, s: Option<&str>) {
        self.flag(s.is_some());
        if let Some(s) = s {
            self.str(s);
        }
    }

    pub fn finish(self) -> [u8; 32] {
        self.0.finalize().into()
    }
}
