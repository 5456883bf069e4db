//! Where a versioned chart comes from: a Helm HTTP(S) repository or an OCI registry, as
//! named in strata.yaml or a Chart.yaml dependency, and what each kind does to list versions
//! and download an archive.
//!
//! One file per kind ([`http`], [`oci`]) implements [`Source`]; [`ChartSource::source`] is the
//! registration. A new kind of source (say, a git repository) is a new file, a new
//! [`SourceKind`] with its URL scheme in [`ChartSource::parse`], and one line there.
//! A chart given by path is no source: it is read where it is, with no lock or cache.

mod http;
mod oci;

use super::lock::LockEntry;
use super::resolve::{ChartError, Charts, ResolvedChart, no_match};
use super::transport::url::redact;
use crate::quote::quote;
use crate::semver::{Constraint, select_highest};

/// A chart in a Helm repository or OCI registry, with the constraint that applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteChart {
    pub source: ChartSource,
    pub name: String,
    pub constraint: String,
    /// Which setting chose the constraint, for `explain` (e.g. `strata.yaml:31 pin when env=prod`).
    pub chosen_by: String,
}

/// A source's own error, as the resolver reports it.
fn failed(error: impl std::fmt::Display) -> ChartError {
    ChartError::Source(error.to_string())
}

impl RemoteChart {
    /// The highest of the published `versions` that `constraint` accepts; the error names
    /// the newest few.
    fn choose(&self, constraint: &Constraint, versions: &[String]) -> Result<String, ChartError> {
        select_highest(constraint, versions.iter().map(String::as_str))
            .map(str::to_owned)
            .ok_or_else(|| no_match(self, versions))
    }

    /// The lock entry recording `version` of this chart: the archive at `url` with `digest`
    /// (and, from a registry, the manifest it came from).
    fn lock_entry(
        &self,
        version: String,
        digest: String,
        manifest_digest: Option<String>,
        url: String,
    ) -> LockEntry {
        LockEntry {
            repository: self.source.url.clone(),
            chart: self.name.clone(),
            constraint: self.constraint.clone(),
            version,
            digest,
            manifest_digest,
            url,
        }
    }
}

/// A chart repository: a Helm HTTP(S) repository or an OCI registry path.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ChartSource {
    /// Without a trailing slash.
    pub url: String,
    pub kind: SourceKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SourceKind {
    Http,
    Oci { plain_http: bool },
}

impl ChartSource {
    pub fn parse(url: &str, plain_http: bool) -> Result<ChartSource, String> {
        let url = url.trim().trim_end_matches('/').to_owned();
        let kind = if url.starts_with("oci://") {
            SourceKind::Oci { plain_http }
        } else if url.starts_with("https://") || url.starts_with("http://") {
            SourceKind::Http
        } else {
            return Err(format!(
                "chart repository {} must start with https://, http:// or oci://",
                quote(&redact(&url))
            ));
        };
        if url.contains('@') {
            return Err(format!(
                "chart repository {:?} holds credentials; configure them outside the repository (see docs/charts.md)",
                redact(&url)
            ));
        }
        Ok(ChartSource { url, kind })
    }
}

impl ChartSource {
    /// What lists and downloads this source's charts.
    pub(crate) fn source(&self) -> Box<dyn Source> {
        match self.kind {
            SourceKind::Http => Box::new(http::HttpRepository),
            SourceKind::Oci { plain_http } => Box::new(oci::OciRegistry { plain_http }),
        }
    }
}

/// What the resolver needs from one kind of chart repository. `charts` gives the shared
/// network clients, cache and time budget.
pub(crate) trait Source {
    /// The archive a lock entry names, for the cache to check against the locked digest.
    fn download(
        &self,
        charts: &Charts,
        remote: &RemoteChart,
        entry: &LockEntry,
    ) -> Result<Vec<u8>, ChartError>;

    /// The version `constraint` selects now, recorded as a lock entry and put in the cache.
    fn resolve_live(
        &self,
        charts: &Charts,
        remote: &RemoteChart,
        constraint: &Constraint,
    ) -> Result<ResolvedChart, ChartError>;
}
