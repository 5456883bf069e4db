//! The shared chart cache: unpacked charts addressed by the sha256 of their archive.
//!
//! Many `strata generate` processes run at once in one Argo CD sidecar. An entry is built in a
//! temporary directory and renamed into place, so a reader sees a whole entry or none; a per-
//! digest file lock makes concurrent cold starts fetch each archive once. An entry without its
//! completion record, or without Chart.yaml, is treated as corrupt and rebuilt.

use super::archive::{self, ArchiveError, Limits};
use crate::budget::Budget;
use serde::{Deserialize, Serialize};
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::time::Duration;

const ENTRY_FILE: &str = "entry.json";
const CHART_DIR: &str = "chart";

#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("chart cache {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "a published chart version changed: {chart} {version} was locked with digest {expected} but the archive now has {found}. Charts must be immutable once published; find out who republished it, or run `strata lock --update` to accept the new archive"
    )]
    DigestMismatch {
        chart: String,
        version: String,
        expected: String,
        found: String,
    },
    /// The local disk failed while unpacking (ENOSPC, EROFS, EACCES): not the archive's
    /// fault, so not reported as a broken chart.
    #[error("cannot unpack chart {chart} {version} into the chart cache: {source}")]
    Unpack {
        chart: String,
        version: String,
        #[source]
        source: ArchiveError,
    },
    #[error("chart archive {chart} {version} is unsafe or broken: {source}")]
    Archive {
        chart: String,
        version: String,
        #[source]
        source: ArchiveError,
    },
    #[error("{0}")]
    Fetch(String),
    #[error(
        "timed out waiting for another strata process to finish fetching {chart} {version} into the chart cache: {budget}"
    )]
    LockTimeout {
        chart: String,
        version: String,
        budget: String,
    },
}

/// Takes `file`'s exclusive (or shared) lock, waiting at most until `budget` runs out: a
/// process waiting for another's download must not outlive its own budget. `Ok(false)` when
/// the budget ran out first.
pub(crate) fn lock_within(
    file: &File,
    shared: bool,
    budget: Option<Budget>,
) -> std::io::Result<bool> {
    let Some(budget) = budget else {
        if shared {
            file.lock_shared()?;
        } else {
            file.lock()?;
        }
        return Ok(true);
    };
    loop {
        let attempt = if shared {
            file.try_lock_shared()
        } else {
            file.try_lock()
        };
        match attempt {
            Ok(()) => return Ok(true),
            Err(fs::TryLockError::WouldBlock) => {}
            Err(fs::TryLockError::Error(e)) => return Err(e),
        }
        if budget.is_spent() {
            return Ok(false);
        }
        std::thread::sleep(budget.cap(Duration::from_millis(50)));
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> CacheError + '_ {
    move |source| CacheError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// What a cache entry holds besides the chart, written last as the completion record.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EntryInfo {
    pub digest: String,
    pub chart: String,
    pub version: String,
    pub source: String,
}

/// A cache rooted at one directory.
#[derive(Debug, Clone)]
pub struct Cache {
    root: PathBuf,
}

impl Cache {
    pub fn new(root: PathBuf) -> Cache {
        Cache { root }
    }

    /// `STRATA_CACHE_DIR`, else `$XDG_CACHE_HOME/strata`, else `$HOME/.cache/strata`, else a
    /// directory under the system temp dir (the sidecar's uid often has no home).
    pub fn from_env() -> Cache {
        let var = |name: &str| {
            std::env::var_os(name)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        let root = var("STRATA_CACHE_DIR")
            .or_else(|| var("XDG_CACHE_HOME").map(|p| p.join("strata")))
            .or_else(|| {
                var("HOME")
                    .filter(|h| h != Path::new("/"))
                    .map(|p| p.join(".cache/strata"))
            })
            .unwrap_or_else(|| std::env::temp_dir().join("strata-cache"));
        Cache { root }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where per-repository index.yaml copies live.
    pub fn index_dir(&self) -> PathBuf {
        self.root.join("index")
    }

    fn entry_dir(&self, digest: &str) -> PathBuf {
        self.root.join("charts").join(hex_part(digest))
    }

    /// The unpacked chart for `digest`, when a complete entry exists. No network, no lock.
    pub fn chart_dir(&self, digest: &str) -> Option<PathBuf> {
        // Staging directories of runs killed mid-unpack (their owner is gone), once per run.
        crate::scratch::sweep_once(&self.root.join("tmp"), "entry");
        if !is_sha256(digest) {
            return None;
        }
        let dir = self.entry_dir(digest);
        is_complete(&dir).then(|| dir.join(CHART_DIR))
    }

    /// The unpacked chart for `digest`, fetching and unpacking it once if needed. `fetch`
    /// returns the archive bytes; they must hash to `digest` or nothing is stored.
    pub fn get_or_insert(
        &self,
        digest: &str,
        info: &EntryInfo,
        fetch: impl FnOnce() -> Result<Vec<u8>, CacheError>,
    ) -> Result<PathBuf, CacheError> {
        self.get_or_insert_within(digest, info, None, fetch)
    }

    /// [`Cache::get_or_insert`], waiting for another process's fetch of the same archive at
    /// most until `budget` runs out.
    pub fn get_or_insert_within(
        &self,
        digest: &str,
        info: &EntryInfo,
        budget: Option<Budget>,
        fetch: impl FnOnce() -> Result<Vec<u8>, CacheError>,
    ) -> Result<PathBuf, CacheError> {
        if !is_sha256(digest) {
            return Err(CacheError::Fetch(format!(
                "{digest:?} is not a sha256 digest (sha256: and 64 hex digits)"
            )));
        }
        if let Some(dir) = self.chart_dir(digest) {
            return Ok(dir);
        }
        let _lock = self.lock_digest(digest, info, budget)?;
        // Another process may have finished while this one waited for the lock.
        if let Some(dir) = self.chart_dir(digest) {
            return Ok(dir);
        }
        let entry = self.entry_dir(digest);
        if entry.exists() {
            tracing::warn!(
                "chart cache entry {} is incomplete; rebuilding it",
                entry.display()
            );
            fs::remove_dir_all(&entry).map_err(io(&entry))?;
        }
        let bytes = fetch()?;
        let found = format!("sha256:{}", archive::sha256_hex(&bytes));
        if found != normalise(digest) {
            return Err(CacheError::DigestMismatch {
                chart: info.chart.clone(),
                version: info.version.clone(),
                expected: normalise(digest),
                found,
            });
        }
        // The staging directory stays registered for removal on SIGTERM/SIGINT until it has
        // become the entry.
        let (staging, _registered) = self.stage(&bytes, info)?;
        let parent = entry.parent().expect("entry has a parent");
        fs::create_dir_all(parent).map_err(io(parent))?;
        let staged = staging.keep();
        fs::rename(&staged, &entry).map_err(io(&entry))?;
        Ok(entry.join(CHART_DIR))
    }

    /// Takes the digest's lock file, waiting within the budget: one process fills an entry,
    /// the others wait and then find it. The lock lasts as long as the returned file.
    fn lock_digest(
        &self,
        digest: &str,
        info: &EntryInfo,
        budget: Option<Budget>,
    ) -> Result<File, CacheError> {
        let locks = self.root.join("locks");
        fs::create_dir_all(&locks).map_err(io(&locks))?;
        let lock_path = locks.join(format!("{}.lock", hex_part(digest)));
        let lock = File::create(&lock_path).map_err(io(&lock_path))?;
        if !lock_within(&lock, false, budget).map_err(io(&lock_path))? {
            return Err(CacheError::LockTimeout {
                chart: info.chart.clone(),
                version: info.version.clone(),
                budget: budget.map(|b| b.explain()).unwrap_or_default(),
            });
        }
        Ok(lock)
    }

    /// The archive unpacked with its entry record into a staging directory under the cache,
    /// named after this process (so a later run can tell it is stale) and registered for
    /// removal on SIGTERM/SIGINT.
    fn stage(
        &self,
        bytes: &[u8],
        info: &EntryInfo,
    ) -> Result<(tempfile::TempDir, crate::interrupt::DirGuard), CacheError> {
        let staging_root = self.root.join("tmp");
        fs::create_dir_all(&staging_root).map_err(io(&staging_root))?;
        let (staging, registered) = crate::interrupt::create_dir(
            || {
                tempfile::Builder::new()
                    .prefix(&crate::scratch::owned_prefix("entry"))
                    .tempdir_in(&staging_root)
            },
            |dir| dir.path(),
        )
        .map_err(io(&staging_root))?;
        let chart_dir = staging.path().join(CHART_DIR);
        fs::create_dir(&chart_dir).map_err(io(&chart_dir))?;
        archive::unpack_chart(bytes, &chart_dir, &Limits::default()).map_err(|source| {
            let (chart, version) = (info.chart.clone(), info.version.clone());
            if source.is_local_io() {
                CacheError::Unpack {
                    chart,
                    version,
                    source,
                }
            } else {
                CacheError::Archive {
                    chart,
                    version,
                    source,
                }
            }
        })?;
        let record = staging.path().join(ENTRY_FILE);
        let json = serde_json::to_vec_pretty(info).expect("entry info serializes");
        fs::write(&record, json).map_err(io(&record))?;
        Ok((staging, registered))
    }

    /// Every complete entry, for `strata cache ls`.
    pub fn entries(&self) -> Result<Vec<(EntryInfo, PathBuf)>, CacheError> {
        let charts = self.root.join("charts");
        let mut out = Vec::new();
        let Ok(dir) = fs::read_dir(&charts) else {
            return Ok(out);
        };
        for item in dir {
            let item = item.map_err(io(&charts))?;
            let path = item.path();
            if let Ok(text) = fs::read(path.join(ENTRY_FILE))
                && let Ok(info) = serde_json::from_slice::<EntryInfo>(&text)
            {
                out.push((info, path));
            }
        }
        out.sort_by(|a, b| (&a.0.chart, &a.0.version).cmp(&(&b.0.chart, &b.0.version)));
        Ok(out)
    }

    /// Removes entries whose digest is not in `keep`, and leftovers of interrupted writes.
    /// Returns the removed entries' directories.
    pub fn prune(&self, keep: &[String]) -> Result<Vec<PathBuf>, CacheError> {
        let keep: Vec<String> = keep.iter().map(|d| hex_part(d).to_owned()).collect();
        let mut removed = Vec::new();
        let charts = self.root.join("charts");
        if let Ok(dir) = fs::read_dir(&charts) {
            for item in dir.flatten() {
                let name = item.file_name().to_string_lossy().into_owned();
                if !keep.contains(&name) {
                    let lock_path = self.root.join("locks").join(format!("{name}.lock"));
                    let lock = File::create(&lock_path).map_err(io(&lock_path))?;
                    lock.lock().map_err(io(&lock_path))?;
                    fs::remove_dir_all(item.path()).map_err(io(&item.path()))?;
                    removed.push(item.path());
                }
            }
        }
        let tmp = self.root.join("tmp");
        if tmp.exists() {
            fs::remove_dir_all(&tmp).map_err(io(&tmp))?;
        }
        Ok(removed)
    }
}

fn is_complete(entry: &Path) -> bool {
    entry.join(ENTRY_FILE).is_file() && entry.join(CHART_DIR).join("Chart.yaml").is_file()
}

/// Digests come from strata.lock, which is repository content: they become path names only
/// after this check.
pub fn is_sha256(digest: &str) -> bool {
    let hex = hex_part(digest);
    hex.len() == 64
        && hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// `sha256:abc…` or `abc…` → `abc…`.
fn hex_part(digest: &str) -> &str {
    digest.strip_prefix("sha256:").unwrap_or(digest)
}

fn normalise(digest: &str) -> String {
    format!("sha256:{}", hex_part(digest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waiting_for_a_lock_ends_with_the_budget() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lock");
        let held = File::create(&path).unwrap();
        held.lock().unwrap();
        let other = File::create(&path).unwrap();
        let budget = Budget::starting_now(Duration::from_millis(300));
        let started = std::time::Instant::now();
        assert!(!lock_within(&other, false, Some(budget)).unwrap());
        assert!(started.elapsed() < Duration::from_secs(2));
        assert!(!lock_within(&other, true, Some(budget)).unwrap());
        held.unlock().unwrap();
        let budget = Budget::starting_now(Duration::from_secs(5));
        assert!(lock_within(&other, false, Some(budget)).unwrap());
    }
}
