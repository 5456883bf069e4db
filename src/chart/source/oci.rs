//! An OCI registry: versions from its tag list, archives from the chart layer a manifest
//! names.

use super::{RemoteChart, Source, failed};
use crate::chart::lock::{self, LockEntry};
use crate::chart::oci::OciRepository;
use crate::chart::resolve::{ChartError, Charts, ResolvedChart};
use crate::semver::Constraint;

pub(super) struct OciRegistry {
    /// Talk HTTP, not HTTPS, to the registry (a local test or mirror registry).
    pub(super) plain_http: bool,
}

impl OciRegistry {
    fn repository(&self, remote: &RemoteChart) -> Result<OciRepository, ChartError> {
        OciRepository::parse(&remote.source.url, self.plain_http).map_err(failed)
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
            .map_err(failed)
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
            .map_err(failed)?;
        let chosen = remote.choose(constraint, &versions)?;
        let oci = client
            .resolve(&repository, &remote.name, &chosen)
            .map_err(failed)?;
        let url = lock::oci_url(&remote.source, &remote.name, &chosen);
        let entry = remote.lock_entry(chosen, oci.layer_digest, Some(oci.manifest_digest), url);
        let dir = charts.fetch(remote, &entry)?;
        Ok(ResolvedChart { dir, entry })
    }
}
