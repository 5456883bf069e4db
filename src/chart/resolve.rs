//! Turns a component's chart reference into an unpacked chart directory for helm.
//!
//! With a lock entry and a warm cache this touches no network and loads no credentials; with
//! a lock entry and a cold cache it fetches the locked archive URL directly and checks its
//! digest; only `strata lock` and `--refresh` list versions or read an index.

use super::cache::{Cache, CacheError, EntryInfo};
use super::credentials::CredentialStore;
use super::lock::{Lock, LockEntry};
use super::oci::OciClient;
use super::source::RemoteChart;
use super::transport::{Transport, TransportOptions};
use crate::budget::Budget;
use crate::semver::{Constraint, Version};
use std::cell::OnceCell;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    #[error(
        "{lock} has no entry for chart {chart} {constraint:?} from {repository} (chosen by {chosen_by}); run `strata lock` and commit {lock}"
    )]
    NotLocked {
        lock: String,
        chart: String,
        constraint: String,
        repository: String,
        chosen_by: String,
    },
    #[error(
        "{lock} pins chart {chart} to {version}, which does not satisfy {constraint:?} (chosen by {chosen_by}); run `strata lock`"
    )]
    LockStale {
        lock: String,
        chart: String,
        version: String,
        constraint: String,
        chosen_by: String,
    },
    #[error("chart {chart} from {repository}: no version satisfies {constraint:?}{}", available_text(.available))]
    NoMatch {
        chart: String,
        repository: String,
        constraint: String,
        available: Vec<String>,
    },
    #[error(
        "chart {chart} {version} from {repository}: the archive's digest {found} differs from the repository index's {expected}; the repository is inconsistent or the archive was replaced"
    )]
    IndexDigest {
        chart: String,
        version: String,
        repository: String,
        expected: String,
        found: String,
    },
    #[error(transparent)]
    Cache(#[from] CacheError),
    #[error("{0}")]
    Source(String),
}

fn available_text(available: &[String]) -> String {
    if available.is_empty() {
        "; the repository has no version of it".into()
    } else {
        format!("; newest published: {}", available.join(", "))
    }
}

/// How versions are found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// From strata.lock only (Argo CD, CI): a missing entry is an error.
    Locked,
    /// Resolve live, ignoring the lock (local experiments, `strata lock --update`).
    Live,
}

/// Network clients, built on first use so a warm render never loads credentials.
pub(super) struct Net {
    pub(super) transport: Transport,
    pub(super) creds: CredentialStore,
}

/// Resolves charts for one process.
pub struct Charts {
    cache: Cache,
    lock: Option<Lock>,
    lock_shown: String,
    mode: Mode,
    offline: bool,
    index_ttl: Duration,
    /// The command's time budget; every request gets what is left of it.
    budget: Option<Budget>,
    net: OnceCell<&'static Net>,
    oci: OnceCell<OciClient<'static>>,
}

/// A chart ready for helm.
#[derive(Debug, Clone)]
pub struct ResolvedChart {
    pub dir: PathBuf,
    pub entry: LockEntry,
}

impl Charts {
    pub fn new(
        cache: Cache,
        lock: Option<Lock>,
        lock_shown: String,
        mode: Mode,
        offline: bool,
    ) -> Charts {
        Charts {
            cache,
            lock,
            lock_shown,
            mode,
            offline,
            index_ttl: Duration::from_secs(300),
            budget: None,
            net: OnceCell::new(),
            oci: OnceCell::new(),
        }
    }

    /// Bounds every request, retry and cache wait by `budget`.
    pub fn with_budget(mut self, budget: Budget) -> Charts {
        self.budget = Some(budget);
        self
    }

    pub fn cache(&self) -> &Cache {
        &self.cache
    }

    /// The network clients live for the rest of the process (one resolver per process), so
    /// the OCI client can keep its registry tokens across every chart of a render.
    pub(super) fn net(&self) -> Result<&'static Net, ChartError> {
        if let Some(net) = self.net.get() {
            return Ok(net);
        }
        let creds = CredentialStore::from_env().map_err(|e| ChartError::Source(e.to_string()))?;
        let transport = Transport::new(TransportOptions {
            ca_file: std::env::var_os("STRATA_CA_FILE")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
            offline: self.offline,
            budget: self.budget,
            ..TransportOptions::default()
        })
        .map_err(|e| ChartError::Source(e.to_string()))?;
        let net: &'static Net = Box::leak(Box::new(Net { transport, creds }));
        Ok(self.net.get_or_init(|| net))
    }

    pub(super) fn oci(&self) -> Result<&OciClient<'static>, ChartError> {
        let net = self.net()?;
        Ok(self
            .oci
            .get_or_init(|| OciClient::new(&net.transport, &net.creds)))
    }

    /// The chart directory for a component's remote chart.
    pub fn resolve(&self, remote: &RemoteChart) -> Result<ResolvedChart, ChartError> {
        let entry = match self.mode {
            Mode::Live => return self.resolve_live(remote),
            Mode::Locked => self.locked_entry(remote)?,
        };
        let dir = self.fetch(remote, &entry)?;
        Ok(ResolvedChart { dir, entry })
    }

    /// The lock entry for a reference, checked against its constraint; no network.
    pub fn locked_entry(&self, remote: &RemoteChart) -> Result<LockEntry, ChartError> {
        let found = self
            .lock
            .as_ref()
            .and_then(|l| l.get(&remote.source, &remote.name, &remote.constraint));
        let Some(entry) = found else {
            return Err(ChartError::NotLocked {
                lock: self.lock_shown.clone(),
                chart: remote.name.clone(),
                constraint: remote.constraint.clone(),
                repository: remote.source.url.clone(),
                chosen_by: remote.chosen_by.clone(),
            });
        };
        let satisfied = Constraint::parse(&remote.constraint)
            .ok()
            .zip(Version::parse(&entry.version).ok())
            .is_some_and(|(c, v)| c.matches(&v));
        if !satisfied {
            return Err(ChartError::LockStale {
                lock: self.lock_shown.clone(),
                chart: remote.name.clone(),
                version: entry.version.clone(),
                constraint: remote.constraint.clone(),
                chosen_by: remote.chosen_by.clone(),
            });
        }
        Ok(entry.clone())
    }

    /// The unpacked chart of a lock entry: the cache, else the locked URL, digest-checked.
    pub fn fetch(&self, remote: &RemoteChart, entry: &LockEntry) -> Result<PathBuf, ChartError> {
        if let Some(dir) = self.cache.chart_dir(&entry.digest) {
            tracing::debug!("chart {} {} from cache", entry.chart, entry.version);
            return Ok(dir);
        }
        let info = EntryInfo {
            digest: entry.digest.clone(),
            chart: entry.chart.clone(),
            version: entry.version.clone(),
            source: entry.repository.clone(),
        };
        let dir = self
            .cache
            .get_or_insert_within(&entry.digest, &info, self.budget, || {
                self.download(remote, entry)
                    .map_err(|e| CacheError::Fetch(e.to_string()))
            })?;
        Ok(dir)
    }

    fn download(&self, remote: &RemoteChart, entry: &LockEntry) -> Result<Vec<u8>, ChartError> {
        tracing::debug!(
            "fetching chart {} {} from {}",
            entry.chart,
            entry.version,
            entry.url
        );
        remote.source.source().download(self, remote, entry)
    }

    /// Asks the repository which version the constraint selects now, records its digest, and
    /// puts the chart in the cache.
    pub fn resolve_live(&self, remote: &RemoteChart) -> Result<ResolvedChart, ChartError> {
        let constraint =
            Constraint::parse(&remote.constraint).map_err(|e| ChartError::Source(e.to_string()))?;
        remote
            .source
            .source()
            .resolve_live(self, remote, &constraint)
    }

    /// The command's time budget, for a source's cache inserts.
    pub(super) fn budget(&self) -> Option<Budget> {
        self.budget
    }

    /// How long a fetched repository index is used without asking the server again.
    pub(super) fn index_ttl(&self) -> Duration {
        self.index_ttl
    }
}

/// No published version satisfies the constraint; names the newest few.
pub(super) fn no_match(remote: &RemoteChart, versions: &[String]) -> ChartError {
    let mut newest: Vec<&String> = versions.iter().collect();
    newest.sort_by(|a, b| match (Version::parse(a), Version::parse(b)) {
        (Ok(a), Ok(b)) => b.cmp(&a),
        _ => b.cmp(a),
    });
    ChartError::NoMatch {
        chart: remote.name.clone(),
        repository: remote.source.url.clone(),
        constraint: remote.constraint.clone(),
        available: newest.into_iter().take(5).cloned().collect(),
    }
}
