//! An OCI registry: versions from its tag list, archives from the chart layer a manifest
//! names.

use super::{RemoteChart, Source};
use crate::chart::lock::{self, LockEntry};
use crate::chart::oci::OciRepository;
use crate::chart::resolve::{ChartError, Charts, ResolvedChart, no_match};
use crate::semver::{Constraint, select_highest};

pub(super) struct OciRegistry {
    /// Talk HTTP, not HTTPS, to the registry (a local test or mirror registry).
    pub(super) plain_http: bool,
}

impl OciRegistry {
    fn repository(&self, remote: &RemoteChart) -> Result<OciRepository, ChartError> {
        OciRepository::parse(&remote.source.url, self.plain_http)
            .map_err(|e| ChartError::Source(e.to_string()))
    }
}

impl Source for OciRegistry {
    fn download(
        &self,
        charts: &Charts,
        remote: &RemoteChart,
        entry: &LockEntry,
    ) -> Result<Vec<u8>, ChartError> {
        let repository = self.repository(remote)?;
        charts
            .oci()?
            .fetch_layer(&repository, &remote.name, &entry.digest)
            .map_err(|e| ChartError::Source(e.to_string()))
    }

    fn resolve_live(
        &self,
        charts: &Charts,
        remote: &RemoteChart,
        constraint: &Constraint,
    ) -> Result<ResolvedChart, ChartError> {
        let repository = self.repository(remote)?;
        let client = charts.oci()?;
        let versions = client
            .list_versions(&repository, &remote.name)
            .map_err(|e| ChartError::Source(e.to_string()))?;
        let chosen = select_highest(constraint, versions.iter().map(String::as_str))
            .ok_or_else(|| no_match(remote, &versions))?
            .to_owned();
        let oci = client
            .resolve(&repository, &remote.name, &chosen)
            .map_err(|e| ChartError::Source(e.to_string()))?;
        let entry = LockEntry {
            repository: remote.source.url.clone(),
            chart: remote.name.clone(),
            constraint: remote.constraint.clone(),
            url: lock::oci_url(&remote.source, &remote.name, &chosen),
            version: chosen,
            digest: oci.layer_digest,
            manifest_digest: Some(oci.manifest_digest),
        };
        let dir = charts.fetch(remote, &entry)?;
        Ok(ResolvedChart { dir, entry })
    }
}
