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
use crate::context::Context;
use crate::plan::ComponentPlan;
use crate::render::{RenderError, Renderer};
use sha2::{Digest, Sha256};
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// Changes whenever the key encoding or the entry layout changes, so no older entry is read.
const FORMAT: u64 = 2;
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
    #[error("cannot fingerprint chart {path}: {source}")]
    Chart {
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

/// What identifies a component's chart content.
#[derive(Debug, Clone, Copy)]
pub enum ChartRef<'a> {
    /// A versioned chart: the archive digest from strata.lock names its content exactly, and
    /// the chart cache only ever holds the archive with that digest.
    Archive(&'a str),
    /// A chart directory or .tgz in the repository: its content is hashed on every render.
    Local(&'a Path),
}

/// One component's share of the key.
#[derive(Debug, Clone, Copy)]
pub struct ComponentKey<'a> {
    pub plan: &'a ComponentPlan,
    /// The merged values exactly as helm receives them.
    pub values_json: &'a [u8],
    pub chart: ChartRef<'a>,
    /// What strata changes after helm (labels, annotations, sync wave) and a manifests
    /// component's rendered files; empty settings still encode, as their absence.
    pub post_render: &'a [u8],
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

    /// The key of a render: for each component in order its values, chart content, release,
    /// namespace, flags and post-render settings; then the cluster facts helm sees (kube
    /// version, API versions), helm's own version, `allowEmpty` (it decides whether an empty
    /// stream is an error) and strata's version and cache format.
    pub fn key(
        &self,
        renderer: &dyn Renderer,
        components: &[ComponentKey],
        ctx: &Context,
        allow_empty: bool,
    ) -> Result<RenderKey, RenderCacheError> {
        let mut enc = Encoder::new();
        enc.str(HEADER_MAGIC);
        enc.number(FORMAT);
        enc.str(env!("CARGO_PKG_VERSION"));
        enc.count(components.len());
        for c in components {
            enc.bytes(c.values_json);
            match c.chart {
                ChartRef::Archive(digest) => {
                    enc.str("archive");
                    enc.str(digest.strip_prefix("sha256:").unwrap_or(digest));
                }
                ChartRef::Local(path) => {
                    enc.str("local");
                    enc.str(&chart_fingerprint(path)?);
                }
            }
            enc.str(&c.plan.release);
            enc.str(&c.plan.namespace);
            enc.flag(c.plan.include_crds);
            enc.flag(c.plan.skip_tests);
            enc.bytes(c.post_render);
        }
        enc.option(ctx.kube_version.as_deref());
        enc.count(ctx.api_versions.len());
        for api in &ctx.api_versions {
            enc.str(api);
        }
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

/// A sha256 over self-delimiting fields: every field carries its length, so no two different
/// input sequences encode to the same bytes (`["ab", "c"]` and `["a", "bc"]` differ).
struct Encoder(Sha256);

impl Encoder {
    fn new() -> Encoder {
        Encoder(Sha256::new())
    }

    fn number(&mut self, n: u64) {
        self.0.update(n.to_be_bytes());
    }

    fn count(&mut self, n: usize) {
        self.number(n as u64);
    }

    fn bytes(&mut self, bytes: &[u8]) {
        self.count(bytes.len());
        self.0.update(bytes);
    }

    fn str(&mut self, s: &str) {
        self.bytes(s.as_bytes());
    }

    fn flag(&mut self, b: bool) {
        self.bytes(&[u8::from(b)]);
    }

    fn option(&mut self, s: Option<&str>) {
        self.flag(s.is_some());
        if let Some(s) = s {
            self.str(s);
        }
    }

    fn finish(self) -> [u8; 32] {
        self.0.finalize().into()
    }
}

/// The hex sha256 of a local chart: a .tgz's bytes, or every file under a directory (sorted
/// relative paths and contents). Symlinks are followed, as helm's loader follows them, and
/// nothing is skipped: `.helmignore` only narrows what helm reads, and hashing a file helm
/// ignores can cost a needless render, never a stale one.
pub fn chart_fingerprint(path: &Path) -> Result<String, RenderCacheError> {
    let err = |source| RenderCacheError::Chart {
        path: path.display().to_string(),
        source,
    };
    let meta = fs::metadata(path).map_err(err)?;
    let mut files = Vec::new();
    if meta.is_dir() {
        let mut ancestors = vec![fs::canonicalize(path).map_err(err)?];
        collect_files(path, &mut Vec::new(), &mut ancestors, &mut files).map_err(err)?;
    } else {
        files.push((Vec::new(), path.to_path_buf()));
    }
    files.sort();
    let mut enc = Encoder::new();
    enc.str(if meta.is_dir() { "dir" } else { "file" });
    enc.count(files.len());
    for (rel, file) in &files {
        let content = fs::read(file).map_err(|source| RenderCacheError::Chart {
            path: file.display().to_string(),
            source,
        })?;
        enc.bytes(rel);
        enc.bytes(&content);
    }
    Ok(hex::encode(enc.finish()))
}

/// Every regular file under `dir`, as (relative path with `/` separators, path). `ancestors`
/// holds the resolved directories being walked, so a symlink loop is an error rather than a
/// hang.
fn collect_files(
    dir: &Path,
    rel: &mut Vec<u8>,
    ancestors: &mut Vec<PathBuf>,
    out: &mut Vec<(Vec<u8>, PathBuf)>,
) -> std::io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let len = rel.len();
        if !rel.is_empty() {
            rel.push(b'/');
        }
        rel.extend_from_slice(entry.file_name().as_bytes());
        let meta = fs::metadata(&path)?;
        if meta.is_dir() {
            let real = fs::canonicalize(&path)?;
            if ancestors.contains(&real) {
                return Err(std::io::Error::other(format!(
                    "symlink loop at {}",
                    path.display()
                )));
            }
            ancestors.push(real);
            collect_files(&path, rel, ancestors, out)?;
            ancestors.pop();
        } else if meta.is_file() {
            out.push((rel.clone(), path));
        } else {
            return Err(std::io::Error::other(format!(
                "{} is neither a file nor a directory",
                path.display()
            )));
        }
        rel.truncate(len);
    }
    Ok(())
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

    fn key_of(fields: &[&str]) -> [u8; 32] {
        let mut enc = Encoder::new();
        for f in fields {
            enc.str(f);
        }
        enc.finish()
    }

    #[test]
    fn the_encoding_is_unambiguous() {
        assert_ne!(key_of(&["ab", "c"]), key_of(&["a", "bc"]));
        assert_ne!(key_of(&["", "x"]), key_of(&["x", ""]));
        let mut none = Encoder::new();
        none.option(None);
        none.str("");
        let mut empty = Encoder::new();
        empty.option(Some(""));
        assert_ne!(none.finish(), empty.finish());
    }

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

    #[test]
    fn a_chart_fingerprint_follows_paths_and_contents() {
        let dir = tempfile::tempdir().unwrap();
        let chart = dir.path().join("chart");
        fs::create_dir_all(chart.join("templates")).unwrap();
        fs::write(chart.join("Chart.yaml"), "name: c\n").unwrap();
        fs::write(chart.join("templates/a.yaml"), "a").unwrap();
        let first = chart_fingerprint(&chart).unwrap();
        assert_eq!(first, chart_fingerprint(&chart).unwrap());

        fs::write(chart.join("templates/a.yaml"), "b").unwrap();
        let edited = chart_fingerprint(&chart).unwrap();
        assert_ne!(first, edited);

        fs::rename(
            chart.join("templates/a.yaml"),
            chart.join("templates/b.yaml"),
        )
        .unwrap();
        let renamed = chart_fingerprint(&chart).unwrap();
        assert_ne!(edited, renamed);

        fs::write(chart.join(".helmignore"), "").unwrap();
        let hidden = chart_fingerprint(&chart).unwrap();
        assert_ne!(renamed, hidden);

        fs::create_dir(chart.join("empty")).unwrap();
        assert_eq!(hidden, chart_fingerprint(&chart).unwrap());
    }

    #[test]
    fn a_chart_fingerprint_follows_symlinks_and_refuses_loops() {
        let dir = tempfile::tempdir().unwrap();
        let chart = dir.path().join("chart");
        let shared = dir.path().join("shared");
        fs::create_dir_all(&chart).unwrap();
        fs::create_dir_all(&shared).unwrap();
        fs::write(shared.join("_helpers.tpl"), "one").unwrap();
        std::os::unix::fs::symlink(&shared, chart.join("templates")).unwrap();
        let first = chart_fingerprint(&chart).unwrap();
        fs::write(shared.join("_helpers.tpl"), "two").unwrap();
        assert_ne!(first, chart_fingerprint(&chart).unwrap());

        std::os::unix::fs::symlink(&chart, shared.join("back")).unwrap();
        assert!(chart_fingerprint(&chart).is_err());
    }
}
