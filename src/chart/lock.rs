//! `strata.lock`: the exact version and archive digest each (repository, chart, constraint)
//! resolved to, so every render of a commit uses the same bytes without asking the repository.

use super::source::{ChartSource, SourceKind};
use crate::atomic_file::Access;
use crate::yaml::{self, YamlError};
use serde::{Deserialize, Serialize};
use std::path::Path;

pub const LOCK_FILE: &str = "strata.lock";

const HEADER: &str = "# strata.lock: chart versions resolved by `strata lock`.\n# Generated: review changes in pull requests, do not edit by hand.\n";

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}:{}", .error)]
    Syntax { path: String, error: YamlError },
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// One resolved chart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LockEntry {
    /// The repository URL (`https://…` or `oci://…`).
    pub repository: String,
    pub chart: String,
    pub constraint: String,
    pub version: String,
    /// sha256 of the chart archive (for OCI, the chart layer).
    pub digest: String,
    /// OCI only: the manifest digest the version's tag pointed to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest_digest: Option<String>,
    /// Where the archive is fetched from without any index or tag request.
    pub url: String,
}

impl LockEntry {
    pub fn key(&self) -> (&str, &str, &str) {
        (&self.repository, &self.chart, &self.constraint)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct LockFileSpec {
    api_version: String,
    kind: String,
    #[serde(default)]
    charts: Vec<LockEntry>,
}

/// The lock of a stack; entries are kept sorted by key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lock {
    entries: Vec<LockEntry>,
}

impl Lock {
    /// Reads `strata.lock`; `Ok(None)` when the stack has none.
    pub fn load(path: &Path, shown: &str) -> Result<Option<Lock>, LockError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(LockError::Read {
                    path: shown.to_owned(),
                    source,
                });
            }
        };
        let spec: LockFileSpec = yaml::parse_config(&text).map_err(|error| LockError::Syntax {
            path: shown.to_owned(),
            error,
        })?;
        let invalid = |message: String| LockError::Invalid {
            path: shown.to_owned(),
            message,
        };
        if spec.api_version != "strata/v1" || spec.kind != "Lock" {
            return Err(invalid(
                "expected apiVersion strata/v1 and kind Lock".into(),
            ));
        }
        for e in &spec.charts {
            let digests = std::iter::once(&e.digest).chain(e.manifest_digest.as_ref());
            if let Some(bad) = digests.into_iter().find(|d| !super::cache::is_sha256(d)) {
                return Err(invalid(format!(
                    "{} {}: {bad:?} is not a sha256 digest; run `strata lock --update`",
                    e.chart, e.version
                )));
            }
        }
        let mut lock = Lock {
            entries: spec.charts,
        };
        lock.entries.sort_by(|a, b| a.key().cmp(&b.key()));
        Ok(Some(lock))
    }

    pub fn entries(&self) -> &[LockEntry] {
        &self.entries
    }

    pub fn get(&self, source: &ChartSource, chart: &str, constraint: &str) -> Option<&LockEntry> {
        self.entries
            .iter()
            .find(|e| e.key() == (source.url.as_str(), chart, constraint))
    }

    /// Adds or replaces the entry with the same key.
    pub fn upsert(&mut self, entry: LockEntry) {
        self.entries.retain(|e| e.key() != entry.key());
        self.entries.push(entry);
        self.entries.sort_by(|a, b| a.key().cmp(&b.key()));
    }

    /// Keeps only entries for which `used` is true.
    pub fn retain(&mut self, mut used: impl FnMut(&LockEntry) -> bool) {
        self.entries.retain(|e| used(e));
    }

    /// The file text: deterministic, so an unchanged resolution leaves the file unchanged.
    pub fn to_text(&self) -> String {
        let spec = LockFileSpec {
            api_version: "strata/v1".into(),
            kind: "Lock".into(),
            charts: self.entries.clone(),
        };
        format!("{HEADER}{}", yaml::to_yaml(&spec))
    }

    /// Writes atomically (temp file and rename), so a concurrent reader never sees half a lock.
    pub fn save(&self, path: &Path, shown: &str) -> Result<(), LockError> {
        let err = |source| LockError::Write {
            path: shown.to_owned(),
            source,
        };
        // Ordinary permissions (0666 less the umask): the lock is committed with the stack.
        crate::atomic_file::write(path, self.to_text().as_bytes(), Access::Ordinary)
            .map_err(|e| err(e.source))
    }
}

/// The URL recorded for an OCI chart: the reference helm itself would pull.
pub fn oci_url(source: &ChartSource, chart: &str, version: &str) -> String {
    debug_assert!(matches!(source.kind, SourceKind::Oci { .. }));
    format!("{}/{chart}:{}", source.url, version.replace('+', "_"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(chart: &str, constraint: &str) -> LockEntry {
        LockEntry {
            repository: "https://charts.example.com".into(),
            chart: chart.into(),
            constraint: constraint.into(),
            version: "1.2.3".into(),
            digest: format!("sha256:{}", "a".repeat(64)),
            manifest_digest: None,
            url: "https://charts.example.com/web-1.2.3.tgz".into(),
        }
    }

    #[test]
    fn round_trips_sorted_and_deterministic() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(LOCK_FILE);
        let mut lock = Lock::default();
        lock.upsert(entry("web", "~1.2"));
        lock.upsert(entry("api", "^1"));
        lock.upsert(entry("web", "~1.2"));
        assert_eq!(lock.entries().len(), 2);
        assert_eq!(lock.entries()[0].chart, "api");
        lock.save(&path, "strata.lock").unwrap();
        let back = Lock::load(&path, "strata.lock").unwrap().unwrap();
        assert_eq!(back, lock);
        assert_eq!(back.to_text(), std::fs::read_to_string(&path).unwrap());
    }

    #[test]
    fn refuses_a_digest_that_could_be_a_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(LOCK_FILE);
        let mut lock = Lock::default();
        let mut bad = entry("web", "1");
        bad.digest = "sha256:../../etc".into();
        lock.upsert(bad);
        lock.save(&path, "strata.lock").unwrap();
        let err = Lock::load(&path, "strata.lock").unwrap_err();
        assert!(err.to_string().contains("not a sha256 digest"), "{err}");
    }
}
