//! A Helm HTTP(S) chart repository: versions from its index.yaml, archives from the URLs the
//! index gives.

use super::{RemoteChart, Source, failed};
use crate::chart::archive::sha256_hex;
use crate::chart::cache::{EntryInfo, is_sha256};
use crate::chart::lock::LockEntry;
use crate::chart::repo::{self, IndexCache};
use crate::chart::resolve::{ChartError, Charts, ResolvedChart};
use crate::semver::Constraint;

pub(super) struct HttpRepository;

impl Source for HttpRepository {
    fn download(
        &self,
        charts: &Charts,
        remote: &RemoteChart,
        entry: &LockEntry,
    ) -> Result<Vec<u8>, ChartError> {
        let net = charts.net()?;
        repo::download(&net.transport, &net.creds, &remote.source.url, &entry.url).map_err(failed)
    }

    fn resolve_live(
        &self,
        charts: &Charts,
        remote: &RemoteChart,
        constraint: &Constraint,
    ) -> Result<ResolvedChart, ChartError> {
        let net = charts.net()?;
        let index_cache = IndexCache::new(charts.cache().index_dir(), charts.index_ttl());
        let index = repo::fetch_index(&net.transport, &net.creds, &index_cache, &remote.source.url)
            .map_err(failed)?;
        let entries = index.versions(&remote.name);
        let versions: Vec<String> = entries.iter().map(|e| e.version.clone()).collect();
        let chosen = remote.choose(constraint, &versions)?;
        let index_entry = entries
            .iter()
            .find(|e| e.version == chosen)
            .expect("chosen from entries");
        let url = repo::archive_url(&remote.source.url, index_entry);
        // Helm compares digests without regard to case; the lock holds lower case.
        let expected = index_entry
            .digest
            .as_deref()
            .map(|d| d.trim().to_ascii_lowercase())
            .filter(|d| !d.is_empty())
            .map(|d| format!("sha256:{}", d.trim_start_matches("sha256:")));
        // An archive the cache already holds under the index's digest was checked
        // against that digest when it was stored: no need to download it again.
        if let Some(digest) = expected.as_deref().filter(|d| is_sha256(d))
            && let Some(dir) = charts.cache().chart_dir(digest)
        {
            tracing::debug!("chart {} {chosen} from cache", remote.name);
            let entry = remote.lock_entry(chosen, digest.to_owned(), None, url);
            return Ok(ResolvedChart { dir, entry });
        }
        let bytes =
            repo::download(&net.transport, &net.creds, &remote.source.url, &url).map_err(failed)?;
        let digest = format!("sha256:{}", sha256_hex(&bytes));
        if let Some(expected) = expected
            && expected != digest
        {
            return Err(ChartError::IndexDigest {
                chart: remote.name.clone(),
                version: chosen,
                repository: remote.source.url.clone(),
                expected,
                found: digest,
            });
        }
        let entry = remote.lock_entry(chosen, digest, None, url);
        let info = EntryInfo {
            digest: entry.digest.clone(),
            chart: entry.chart.clone(),
            version: entry.version.clone(),
            source: entry.repository.clone(),
        };
        let dir =
            charts
                .cache()
                .get_or_insert_within(&entry.digest, &info, charts.budget(), || Ok(bytes))?;
        Ok(ResolvedChart { dir, entry })
    }
}
