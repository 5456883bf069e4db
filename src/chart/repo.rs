//! Helm HTTP(S) chart repositories: the index, its shared on-disk cache, and archive downloads.
//!
//! An index.yaml can be 20–40 MB, and many strata processes start at once in an Argo CD
//! sidecar. Fetching it per render is the storm that took down Artifactory for others, so:
//!
//! - a cached index younger than the TTL is used without any request;
//! - an older one is revalidated with a conditional GET (ETag / Last-Modified), and a 304
//!   costs a few hundred bytes;
//! - one process per repository refreshes while the others wait on a file lock and then use
//!   its result, instead of all fetching the same 40 MB at the same moment;
//! - files are written to a temporary name and renamed, so a reader never sees half a file;
//! - offline, the cache is used whatever its age.
//!
//! - the index is streamed to disk and parsed as it is read, never held whole in memory (see
//!   [`super::index`]).
//!
//! Layout: `<dir>/<sha256 of the normalised repository URL>/` holding `index.yaml` as served,
//! `entries.jsonl` (one line per chart with the few fields strata reads, see
//! [`super::index`]), `meta.json` (URL, ETag, Last-Modified, fetch time, content hash) and
//! `lock`.

use super::cache::lock_within;
use super::credentials::{Credential, CredentialStore};
pub use super::index::{ChartNotFound, ChartVersionEntry, RepoIndex};
use super::index::{DeriveError, derive};
use super::transport::url::{UrlParts, default_port, redact, resolve};
use super::transport::{Response, Transport, TransportError};
use crate::atomic_file::{self, Access, AtomicFile};
use crate::budget::Budget;
use crate::yaml::YamlError;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const INDEX_FILE: &str = "index.yaml";
const ENTRIES_FILE: &str = "entries.jsonl";
const META_FILE: &str = "meta.json";
const LOCK_FILE: &str = "lock";

/// Why an index or an archive could not be had. Messages name URLs without secrets.
#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    #[error("cannot fetch the index of chart repository {repo}: {source}")]
    IndexTransport {
        repo: String,
        #[source]
        source: TransportError,
    },
    #[error(
        "cannot fetch the index of chart repository {repo}: {url} answered HTTP {status}{hint}"
    )]
    IndexStatus {
        repo: String,
        url: String,
        status: u16,
        hint: &'static str,
    },
    #[error(
        "authentication failed for {url} (HTTP {status}): check the credentials for this repository (source: {credential})"
    )]
    AuthFailed {
        url: String,
        status: u16,
        credential: String,
    },
    #[error("the index of chart repository {repo} is not valid: {source}")]
    InvalidIndex {
        repo: String,
        #[source]
        source: YamlError,
    },
    #[error("timed out reading the index of chart repository {repo}: {budget}")]
    IndexTimeout { repo: String, budget: String },
    #[error(
        "cannot fetch the index of chart repository {repo}: it is larger than the {limit}-byte limit"
    )]
    IndexTooLarge { repo: String, limit: u64 },
    #[error(
        "offline: there is no cached index for chart repository {repo}; run once with network access to fill the cache"
    )]
    OfflineNoCache { repo: String },
    #[error(transparent)]
    ChartNotFound(#[from] ChartNotFound),
    #[error(
        "no version of chart {chart} in {repo} matches {constraint:?}; newest available: {}",
        if newest.is_empty() { "none".to_owned() } else { newest.join(", ") }
    )]
    NoMatchingVersion {
        chart: String,
        repo: String,
        constraint: String,
        /// The newest few versions, newest first.
        newest: Vec<String>,
    },
    #[error("cannot download chart archive {url}: HTTP {status}")]
    DownloadStatus { url: String, status: u16 },
    #[error("cannot download chart archive: {0}")]
    DownloadTransport(#[source] TransportError),
    #[error("index cache {path}: {source}")]
    Cache {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// The on-disk index cache (`<cache>/index`).
#[derive(Debug, Clone)]
pub struct IndexCache {
    dir: PathBuf,
    ttl: Duration,
}

/// What is known about a cached index; written after index.yaml, read before it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Meta {
    /// The repository URL, normalised and without userinfo.
    url: String,
    etag: Option<String>,
    last_modified: Option<String>,
    /// Unix time in milliseconds of the last fetch or successful revalidation.
    fetched_at: u64,
    /// Hex SHA-256 of index.yaml, the key of the in-process parsed-index cache.
    sha256: String,
}

impl IndexCache {
    pub fn new(dir: PathBuf, ttl: Duration) -> IndexCache {
        IndexCache { dir, ttl }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The cache directory of one repository.
    pub fn repo_dir(&self, repo_url: &str) -> PathBuf {
        let key = normalise_repo_url(repo_url);
        self.dir.join(hex::encode(Sha256::digest(key.as_bytes())))
    }
}

/// `HTTPS://u:p@Host:443/charts/` → `https://host/charts`: one cache entry per repository
/// however its URL is spelled, and never a secret in meta.json.
pub fn normalise_repo_url(url: &str) -> String {
    match UrlParts::parse(url) {
        Some(mut u) => {
            u.userinfo = None;
            if u.port.is_some() && u.port == default_port(&u.scheme) {
                u.port = None;
            }
            u.path = u.path.trim_end_matches('/').to_owned();
            u.without_userinfo()
        }
        None => url.trim_end_matches('/').to_owned(),
    }
}

/// `<repo>/index.yaml`, keeping any userinfo (the transport turns it into basic auth).
fn index_url(repo_url: &str) -> String {
    match UrlParts::parse(repo_url) {
        Some(u) => {
            let mut out = format!("{}://", u.scheme);
            if let Some(info) = &u.userinfo {
                out.push_str(info);
                out.push('@');
            }
            out.push_str(&u.authority());
            out.push_str(u.path.trim_end_matches('/'));
            out.push_str("/index.yaml");
            if let Some(q) = &u.query {
                out.push('?');
                out.push_str(q);
            }
            out
        }
        None => format!("{}/index.yaml", repo_url.trim_end_matches('/')),
    }
}

/// The repository's index: from the cache when younger than the TTL (no request at all),
/// else revalidated or refetched. Offline, the cache is used whatever its age.
pub fn fetch_index(
    t: &Transport,
    creds: &CredentialStore,
    cache: &IndexCache,
    repo_url: &str,
) -> Result<Arc<RepoIndex>, RepoError> {
    let repo = redact(repo_url);
    let dir = cache.repo_dir(repo_url);
    fs::create_dir_all(&dir).map_err(cache_err(&dir))?;
    let lock_path = dir.join(LOCK_FILE);
    let lock = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(cache_err(&lock_path))?;

    // Readers share the lock; a refresh holds it alone, so index.yaml and meta.json are
    // always read as a pair from the same fetch.
    let budget = t.options().budget;
    let timed_out = || RepoError::IndexTransport {
        repo: repo.clone(),
        source: TransportError::OutOfTime {
            url: repo.clone(),
            budget: budget.map(|b| b.explain()).unwrap_or_default(),
        },
    };
    if !lock_within(&lock, true, budget).map_err(cache_err(&lock_path))? {
        return Err(timed_out());
    }
    if let Some(meta) = read_meta(&dir)
        && (t.offline() || is_fresh(&meta, cache.ttl))
        && let Some(index) = load_cached(&dir, &meta, &repo, budget)?
    {
        return Ok(index);
    }
    lock.unlock().map_err(cache_err(&lock_path))?;
    if t.offline() {
        return Err(RepoError::OfflineNoCache { repo });
    }

    if !lock_within(&lock, false, budget).map_err(cache_err(&lock_path))? {
        return Err(timed_out());
    }
    // Another process may have refreshed it while this one waited for the lock.
    let cached = read_meta(&dir);
    if let Some(meta) = &cached
        && is_fresh(meta, cache.ttl)
        && let Some(index) = load_cached(&dir, meta, &repo, budget)?
    {
        return Ok(index);
    }
    let cached = cached.filter(|_| dir.join(INDEX_FILE).is_file());
    refresh(t, creds, &dir, repo_url, cached)
}

/// A conditional GET while holding the exclusive lock.
fn refresh(
    t: &Transport,
    creds: &CredentialStore,
    dir: &Path,
    repo_url: &str,
    cached: Option<Meta>,
) -> Result<Arc<RepoIndex>, RepoError> {
    let repo = redact(repo_url);
    let url = index_url(repo_url);
    let cred = creds.lookup(&url);
    let headers = conditional_headers(cached.as_ref());
    // The body goes to a file beside index.yaml, renamed into place once it is known good.
    let mut staged = AtomicFile::create(&dir.join(INDEX_FILE), Access::Private)
        .map_err(|e| cache_err(dir)(e.source))?;
    let resp =
        get_into(t, &url, &headers, cred, staged.file_mut()).map_err(|source| match source {
            TransportError::TooLarge { limit, .. } => RepoError::IndexTooLarge {
                repo: repo.clone(),
                limit,
            },
            source => RepoError::IndexTransport {
                repo: repo.clone(),
                source,
            },
        })?;
    match (resp.status, cached) {
        (304, Some(meta)) => match revalidated(t, dir, &repo, meta)? {
            Some(index) => Ok(index),
            // The copy on disk went bad: fetch it whole.
            None => refresh(t, creds, dir, repo_url, None),
        },
        (200..=299, _) => store_fetched(t, dir, repo_url, &resp, staged),
        (401 | 403, _) => Err(auth_failed(&url, resp.status, cred)),
        (status, _) => Err(RepoError::IndexStatus {
            repo,
            url: redact(&url),
            status,
            hint: match status {
                404 => " (the repository URL should be the directory that holds index.yaml)",
                _ => "",
            },
        }),
    }
}

/// `If-None-Match` and `If-Modified-Since` from the cached copy, so an unchanged index costs
/// a 304 and no body.
fn conditional_headers(cached: Option<&Meta>) -> Vec<(&'static str, String)> {
    let Some(meta) = cached else {
        return Vec::new();
    };
    let etag = meta.etag.iter().map(|e| ("if-none-match", e.clone()));
    let modified = meta
        .last_modified
        .iter()
        .map(|lm| ("if-modified-since", lm.clone()));
    etag.chain(modified).collect()
}

/// The server said the cached index is current: record when, and load it (`None` when the
/// copy on disk went bad).
fn revalidated(
    t: &Transport,
    dir: &Path,
    repo: &str,
    mut meta: Meta,
) -> Result<Option<Arc<RepoIndex>>, RepoError> {
    meta.fetched_at = now_ms();
    write_atomic(
        dir,
        META_FILE,
        &serde_json::to_vec_pretty(&meta).expect("meta"),
    )?;
    load_cached(dir, &meta, repo, t.options().budget)
}

/// A freshly downloaded index: derived into the entries file, then moved into place, then
/// described by meta.json (last, so a reader that sees it also sees the files it describes).
fn store_fetched(
    t: &Transport,
    dir: &Path,
    repo_url: &str,
    resp: &Response,
    staged: AtomicFile,
) -> Result<Arc<RepoIndex>, RepoError> {
    let repo = redact(repo_url);
    let sha256 = sha256_file(staged.temp_path())?;
    let budget = t.options().budget;
    derive_file(dir, staged.temp_path(), &sha256, budget).map_err(|e| match e {
        DeriveError::Yaml(source) => RepoError::InvalidIndex {
            repo: repo.clone(),
            source,
        },
        DeriveError::Io(e) => cache_err(dir)(e),
        DeriveError::OutOfTime(budget) => RepoError::IndexTimeout {
            repo: repo.clone(),
            budget,
        },
    })?;
    let meta = Meta {
        url: normalise_repo_url(repo_url),
        etag: resp.header("etag").map(str::to_owned),
        last_modified: resp.header("last-modified").map(str::to_owned),
        fetched_at: now_ms(),
        sha256,
    };
    staged.commit().map_err(|e| cache_err(&e.path)(e.source))?;
    write_atomic(
        dir,
        META_FILE,
        &serde_json::to_vec_pretty(&meta).expect("meta"),
    )?;
    open_derived(dir, &meta.sha256)
        .ok_or_else(|| cache_err(dir)(std::io::Error::other("derived index vanished")))
}

/// The absolute archive URL of an entry: its first URL resolved against the repository URL
/// (relative URLs are common). Userinfo is dropped, since this URL is written to the lock.
pub fn archive_url(repo_url: &str, entry: &ChartVersionEntry) -> String {
    let first = entry.urls.first().map(String::as_str).unwrap_or_default();
    let resolved = resolve(repo_url, first);
    match UrlParts::parse(&resolved) {
        Some(u) if u.userinfo.is_some() => u.without_userinfo(),
        // Not a URL a parser understands, so nothing decides where userinfo would end: the
        // conservative redaction keeps any of it out of the lock.
        None if resolved.contains('@') => redact(&resolved),
        _ => resolved,
    }
}

/// Downloads a chart archive. The repository's credentials go only to archives on the same
/// scheme, host and port (Helm's rule); an archive elsewhere gets only credentials configured
/// for its own URL.
pub fn download(
    t: &Transport,
    creds: &CredentialStore,
    repo_url: &str,
    url: &str,
) -> Result<Vec<u8>, RepoError> {
    let same_origin = UrlParts::parse(repo_url)
        .zip(UrlParts::parse(url))
        .is_some_and(|(r, a)| r.same_origin(&a));
    let cred = if same_origin {
        creds
            .lookup(&index_url(repo_url))
            .or_else(|| creds.lookup(url))
    } else {
        creds.lookup(url)
    };
    let resp = get(t, url, &[], cred).map_err(RepoError::DownloadTransport)?;
    match resp.status {
        200..=299 => Ok(resp.body),
        401 | 403 => Err(auth_failed(url, resp.status, cred)),
        status => Err(RepoError::DownloadStatus {
            url: redact(url),
            status,
        }),
    }
}

fn get(
    t: &Transport,
    url: &str,
    headers: &[(&str, String)],
    cred: Option<&Credential>,
) -> Result<Response, TransportError> {
    let auth = cred.and_then(Credential::auth);
    let tls = cred.and_then(Credential::tls);
    t.get_with(url, headers, auth.as_ref(), tls.as_ref())
}

fn get_into(
    t: &Transport,
    url: &str,
    headers: &[(&str, String)],
    cred: Option<&Credential>,
    file: &mut File,
) -> Result<Response, TransportError> {
    let auth = cred.and_then(Credential::auth);
    let tls = cred.and_then(Credential::tls);
    t.get_into(url, headers, auth.as_ref(), tls.as_ref(), file)
}

fn auth_failed(url: &str, status: u16, cred: Option<&Credential>) -> RepoError {
    RepoError::AuthFailed {
        url: redact(url),
        status,
        credential: cred.map_or_else(
            || "none configured for this URL".to_owned(),
            |c| c.source.clone(),
        ),
    }
}

fn cache_err(path: &Path) -> impl FnOnce(std::io::Error) -> RepoError + '_ {
    move |source| RepoError::Cache {
        path: path.display().to_string(),
        source,
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// A fetch time in the future (clock change) counts as stale.
fn is_fresh(meta: &Meta, ttl: Duration) -> bool {
    let now = now_ms();
    meta.fetched_at <= now && now - meta.fetched_at < ttl.as_millis() as u64
}

fn read_meta(dir: &Path) -> Option<Meta> {
    let bytes = fs::read(dir.join(META_FILE)).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// The cached index, or `None` when index.yaml is missing or no longer parses (it is then
/// fetched again). Tries this process's memory, then `entries.jsonl`, then index.yaml.
fn load_cached(
    dir: &Path,
    meta: &Meta,
    repo: &str,
    budget: Option<Budget>,
) -> Result<Option<Arc<RepoIndex>>, RepoError> {
    if let Some(index) = remembered(&meta.sha256) {
        return Ok(Some(index));
    }
    if let Some(index) = open_derived(dir, &meta.sha256) {
        return Ok(Some(index));
    }
    let path = dir.join(INDEX_FILE);
    if !path.is_file() {
        return Ok(None);
    }
    // Deterministic content renamed into place: safe under the shared lock too.
    match derive_file(dir, &path, &meta.sha256, budget) {
        Ok(()) => Ok(open_derived(dir, &meta.sha256)),
        Err(DeriveError::Yaml(e)) => {
            tracing::warn!("cached index of {repo} does not parse ({e}); fetching it again");
            Ok(None)
        }
        Err(DeriveError::Io(e)) => Err(cache_err(&path)(e)),
        Err(DeriveError::OutOfTime(budget)) => Err(RepoError::IndexTimeout {
            repo: repo.to_owned(),
            budget,
        }),
    }
}

/// The derived index of `dir`, when it is the one of the index with this content hash.
fn open_derived(dir: &Path, sha256: &str) -> Option<Arc<RepoIndex>> {
    let index = RepoIndex::open(&dir.join(ENTRIES_FILE), sha256)?;
    Some(remember(sha256, index))
}

/// Streams the index.yaml at `index` into `dir/entries.jsonl` (through a temporary file).
fn derive_file(
    dir: &Path,
    index: &Path,
    sha256: &str,
    budget: Option<Budget>,
) -> Result<(), DeriveError> {
    let reader = BufReader::with_capacity(1 << 16, File::open(index)?);
    let mut tmp =
        AtomicFile::create(&dir.join(ENTRIES_FILE), Access::Private).map_err(|e| e.source)?;
    {
        let mut out = std::io::BufWriter::with_capacity(1 << 16, tmp.file_mut());
        derive(reader, sha256, &mut out, budget)?;
        out.flush()?;
    }
    tmp.commit().map_err(|e| e.source)?;
    Ok(())
}

/// Hex SHA-256 of a file, read in blocks.
fn sha256_file(path: &Path) -> Result<String, RepoError> {
    let mut file = File::open(path).map_err(cache_err(path))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0; 1 << 16];
    loop {
        let n = file.read(&mut buf).map_err(cache_err(path))?;
        if n == 0 {
            return Ok(hex::encode(hasher.finalize()));
        }
        hasher.update(&buf[..n]);
    }
}

/// Parsed indexes of this process by content hash, so several components using one
/// repository parse its index once. Small: a parsed 40 MB index is large.
fn parsed() -> &'static Mutex<HashMap<String, Arc<RepoIndex>>> {
    static PARSED: OnceLock<Mutex<HashMap<String, Arc<RepoIndex>>>> = OnceLock::new();
    PARSED.get_or_init(Default::default)
}

fn remembered(sha256: &str) -> Option<Arc<RepoIndex>> {
    let map = parsed().lock().unwrap_or_else(|p| p.into_inner());
    map.get(sha256).cloned()
}

fn remember(sha256: &str, index: RepoIndex) -> Arc<RepoIndex> {
    const KEEP: usize = 8;
    let index = Arc::new(index);
    let mut map = parsed().lock().unwrap_or_else(|p| p.into_inner());
    if map.len() >= KEEP {
        map.clear();
    }
    map.insert(sha256.to_owned(), Arc::clone(&index));
    index
}

/// Writes `dir/name` whole or not at all; cache files stay owner-only.
fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), RepoError> {
    atomic_file::write(&dir.join(name), bytes, Access::Private)
        .map_err(|e| cache_err(&e.path)(e.source))
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::chart::index::INDEX;

    #[test]
    fn archive_urls_resolve_against_the_repository() {
        let index = RepoIndex::parse(INDEX).unwrap();
        let v = index.versions("nginx");
        assert_eq!(
            archive_url("https://h/charts/", &v[0]),
            "https://h/charts/nginx-1.2.0.tgz"
        );
        assert_eq!(
            archive_url("https://u:p@h/charts", &v[0]),
            "https://h/charts/nginx-1.2.0.tgz"
        );
        assert_eq!(
            archive_url("https://h/charts", &v[1]),
            "https://cdn.example.com/nginx-1.1.0.tgz"
        );
    }

    #[test]
    fn repository_urls_normalise_to_one_cache_entry() {
        assert_eq!(
            normalise_repo_url("HTTPS://u:p@Host:443/charts/"),
            "https://host/charts"
        );
        assert_eq!(normalise_repo_url("http://host:8080"), "http://host:8080");
        let cache = IndexCache::new(PathBuf::from("/c"), Duration::ZERO);
        assert_eq!(
            cache.repo_dir("https://host/charts"),
            cache.repo_dir("https://HOST/charts/")
        );
        assert_eq!(index_url("https://u:p@h/c/"), "https://u:p@h/c/index.yaml");
    }

    #[test]
    fn cached_index_loads_from_entries_jsonl_then_from_index_yaml() {
        let dir = tempfile::tempdir().unwrap();
        // Content no other test uses, so the process-wide memory does not already hold it.
        let text = INDEX.replace("abc", "entries-jsonl-test");
        let sha256 = hex::encode(Sha256::digest(text.as_bytes()));
        let meta = Meta {
            url: "https://h".into(),
            etag: None,
            last_modified: None,
            fetched_at: now_ms(),
            sha256: sha256.clone(),
        };
        let forget = || parsed().lock().unwrap().remove(&sha256);
        let digest_of = |index: &RepoIndex| index.versions("nginx")[0].digest.clone();

        // index.yaml alone: derived into entries.jsonl.
        fs::write(dir.path().join(INDEX_FILE), &text).unwrap();
        forget();
        let loaded = load_cached(dir.path(), &meta, "https://h", None)
            .unwrap()
            .unwrap();
        assert_eq!(digest_of(&loaded).as_deref(), Some("entries-jsonl-test"));
        assert!(dir.path().join(ENTRIES_FILE).is_file());

        // entries.jsonl is enough on its own.
        fs::write(dir.path().join(INDEX_FILE), "not: [valid").unwrap();
        forget();
        let loaded = load_cached(dir.path(), &meta, "https://h", None)
            .unwrap()
            .unwrap();
        assert_eq!(digest_of(&loaded).as_deref(), Some("entries-jsonl-test"));

        // An entries.jsonl from other content is ignored; an unparsable index means no cache.
        let other = Meta {
            sha256: "0".repeat(64),
            ..meta
        };
        assert!(
            load_cached(dir.path(), &other, "https://h", None)
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn no_match_lists_the_newest_versions() {
        let err = RepoError::NoMatchingVersion {
            chart: "nginx".into(),
            repo: "https://h".into(),
            constraint: "^2".into(),
            newest: vec!["1.2.0".into(), "1.1.0".into()],
        };
        assert_eq!(
            err.to_string(),
            "no version of chart nginx in https://h matches \"^2\"; newest available: 1.2.0, 1.1.0"
        );
    }
}
