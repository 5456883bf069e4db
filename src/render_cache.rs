//! The render cache: a tenant's whole manifest stream, addressed by everything that determines
//! it, so regenerating an unchanged tenant runs no helm.
//!
//! A commit that touches one tenant makes Argo CD regenerate every Application of the
//! repository; without this cache each of them runs helm once per component. The key is a
//! sha256 over a canonical, length-prefixed encoding of every input of `helm template` (see
//! [`RenderCache::key`]), so a hit is exactly what helm would print.
//!
//! Entries are single files, `<cache root>/renders/<key>`: a header line
//! `strata-render <format> <body length> <body sha256>` and the body. A file is written under a
//! temporary name in the same directory and renamed into place, so a reader sees a whole file
//! or none; the header catches what a rename cannot (a torn write after a crash, a truncated or
//! edited file), and such an entry is deleted and rendered again. Concurrent writers of one key
//! write the same bytes, so whichever rename lands last is as good as the first. Failed renders
//! are never stored. The cache is an optimisation only: when it cannot be read, keyed or
//! written, the render goes ahead without it.

use crate::chart::cache::Cache;
use crate::pipeline::fingerprint::Encoder;
use crate::render::{RenderError, Renderer};
use sha2::{Digest, Sha256};
use std::fs;
use std::path::{Path, PathBuf};

/// Changes whenever the key encoding or the entry layout changes, so no older entry is read.
const FORMAT: u64 = 4;
const HEADER_MAGIC: &str = "strata-render";
/// A header is one short line; anything longer is not one.
const MAX_HEADER: usize = 200;
const RENDERS_DIR: &str = "renders";

#[derive(Debug, thiserror::Error)]
pub enum RenderCacheError {
    #[error("render cache {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Renderer(#[from] RenderError),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> RenderCacheError + '_ {
    move |source| RenderCacheError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// The name of a cache entry: the hex sha256 of a render's inputs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderKey(String);

impl RenderKey {
    pub fn hex(&self) -> &str {
        &self.0
    }

    /// Enough of the key to tell entries apart in a log line.
    pub fn short(&self) -> &str {
        &self.0[..12]
    }
}

/// The render cache under a chart cache's root.
#[derive(Debug, Clone)]
pub struct RenderCache {
    root: PathBuf,
}

impl RenderCache {
    /// Shares the chart cache's root (`STRATA_CACHE_DIR` and its fallbacks), so one volume in the
    /// Argo CD sidecar holds both.
    pub fn new(cache: &Cache) -> RenderCache {
        RenderCache {
            root: cache.root().to_path_buf(),
        }
    }

    /// The render cache every command uses: under [`Cache::from_env`]'s root.
    pub fn from_env() -> RenderCache {
        RenderCache::new(&Cache::from_env())
    }

    /// Where the rendered streams live.
    pub fn dir(&self) -> PathBuf {
        self.root.join(RENDERS_DIR)
    }

    /// The key of a render: the fingerprint of its inputs (see [`crate::pipeline::fingerprint::tenant`]), the
    /// renderer's identity, `allowEmpty` (it decides whether an empty stream is an error) and
    /// strata's version and cache format.
    pub fn key(
        &self,
        renderer: &dyn Renderer,
        fingerprint: &str,
        allow_empty: bool,
    ) -> Result<RenderKey, RenderCacheError> {
        let mut enc = Encoder::new();
        enc.str(HEADER_MAGIC);
        enc.number(FORMAT);
        enc.str(env!("CARGO_PKG_VERSION"));
        enc.str(fingerprint);
        enc.str(&renderer.identity(&self.root)?);
        enc.flag(allow_empty);
        Ok(RenderKey(hex::encode(enc.finish())))
    }

    /// The cached stream for `key`, if a whole, intact entry exists. A damaged entry is
    /// removed, so the render that follows replaces it.
    pub fn get(&self, key: &RenderKey, tenant: &str) -> Option<Vec<u8>> {
        let path = self.dir().join(key.hex());
        let bytes = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) => {
                if e.kind() != std::io::ErrorKind::NotFound {
                    tracing::warn!("cannot read render cache entry {}: {e}", path.display());
                }
                tracing::debug!("render cache miss {} for tenant {tenant}", key.short());
                return None;
            }
        };
        match decode(bytes) {
            Some(body) => {
                tracing::debug!("render cache hit {} for tenant {tenant}", key.short());
                Some(body)
            }
            None => {
                tracing::warn!(
                    "render cache entry {} is damaged; removing it and rendering again",
                    path.display()
                );
                if let Err(e) = fs::remove_file(&path)
                    && e.kind() != std::io::ErrorKind::NotFound
                {
                    tracing::warn!("cannot remove {}: {e}", path.display());
                }
                tracing::debug!("render cache miss {} for tenant {tenant}", key.short());
                None
            }
        }
    }

    /// Stores a successful render. A failure to store costs only the next render's speed, so
    /// it is logged, not returned.
    pub fn put(&self, key: &RenderKey, tenant: &str, body: &[u8]) {
        match self.write(key, body) {
            Ok(()) => tracing::debug!("render cache stored {} for tenant {tenant}", key.short()),
            Err(e) => tracing::warn!("cannot store render of tenant {tenant}: {e}"),
        }
    }

    fn write(&self, key: &RenderKey, body: &[u8]) -> Result<(), RenderCacheError> {
        let dir = self.dir();
        write_atomically(&dir, &dir.join(key.hex()), &encode(body))
    }

    /// Removes every stored render, for `strata cache prune --all`.
    pub fn clear(&self) -> Result<(), RenderCacheError> {
        let dir = self.dir();
        match fs::remove_dir_all(&dir) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io(&dir)(e)),
            _ => Ok(()),
        }
    }
}

fn encode(body: &[u8]) -> Vec<u8> {
    let header = format!(
        "{HEADER_MAGIC} {FORMAT} {} {}\n",
        body.len(),
        hex::encode(Sha256::digest(body))
    );
    let mut out = Vec::with_capacity(header.len() + body.len());
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(body);
    out
}

/// The body of an entry whose header matches its length and sha256; `None` for anything else.
fn decode(mut bytes: Vec<u8>) -> Option<Vec<u8>> {
    let end = bytes.iter().take(MAX_HEADER).position(|&b| b == b'\n')?;
    let header = std::str::from_utf8(&bytes[..end]).ok()?;
    let mut parts = header.split(' ');
    let magic = parts.next()?;
    let format: u64 = parts.next()?.parse().ok()?;
    let len: usize = parts.next()?.parse().ok()?;
    let sum = parts.next()?.to_owned();
    if magic != HEADER_MAGIC || format != FORMAT || parts.next().is_some() {
        return None;
    }
    bytes.drain(..=end);
    (bytes.len() == len && hex::encode(Sha256::digest(&bytes)) == sum).then_some(bytes)
}

/// Writes `path` through a temporary file in `dir` and a rename, so no reader sees part of it.
/// The file keeps the temporary file's owner-only mode: a render can hold Secrets.
fn write_atomically(dir: &Path, path: &Path, bytes: &[u8]) -> Result<(), RenderCacheError> {
    fs::create_dir_all(dir).map_err(io(dir))?;
    crate::atomic_file::write(path, bytes, crate::atomic_file::Access::Private)
        .map_err(|e| io(path)(e.source))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_round_trips_and_any_damage_is_rejected() {
        let body = b"apiVersion: v1\nkind: ConfigMap\n".to_vec();
        let entry = encode(&body);
        assert_eq!(decode(entry.clone()), Some(body.clone()));
        assert_eq!(decode(entry[..entry.len() - 1].to_vec()), None);
        let mut flipped = entry.clone();
        *flipped.last_mut().unwrap() ^= 1;
        assert_eq!(decode(flipped), None);
        assert_eq!(decode(Vec::new()), None);
        assert_eq!(decode(body), None);
        let mut longer = entry;
        longer.push(b'\n');
        assert_eq!(decode(longer), None);
        assert_eq!(decode(encode(b"")), Some(Vec::new()));
    }
}
