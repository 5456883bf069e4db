//! `clusters` in strata.yaml: which Argo CD destination each tenant goes to, and the checks
//! the stack alone allows. Choosing a tenant's cluster is [`crate::clusters`]'s.

use serde::Deserialize;
use serde_saphyr::Spanned;
use std::collections::BTreeMap;

/// The destination cluster of each tenant, chosen by one variable's value:
/// `clusters: {by: region, servers: {den1: https://…}, default: https://kubernetes.default.svc}`.
///
/// It lives in strata.yaml rather than in the ApplicationSet because the variable that picks
/// the cluster (often `region`) may come from a tenant file, which only strata reads.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClustersSpec {
    /// The variable whose value selects the server (`region`), or a template over several
    /// (`"{{env}}-{{region}}"`) when one variable does not identify a cluster.
    pub by: Spanned<String>,
    /// Variable value → Argo CD cluster server URL, or `{server, kubeVersion, apiVersions}`.
    #[serde(default)]
    pub servers: BTreeMap<String, Spanned<ServerEntry>>,
    /// The Kubernetes version of every cluster that does not give its own: what helm's
    /// `.Capabilities.KubeVersion` is in render, diff, check and snapshot, as Argo CD passes it.
    #[serde(default)]
    pub kube_version: Option<Spanned<String>>,
    /// The API versions of every cluster that does not list its own (`.Capabilities.APIVersions`).
    #[serde(default)]
    pub api_versions: Option<Vec<String>>,
    /// The server for a value that `servers` does not list; without it such a tenant is an error.
    #[serde(default)]
    pub default: Option<Spanned<String>>,
}

/// One cluster of `clusters.servers`: its URL alone, or the URL with the cluster's Kubernetes
/// version and API versions, so CI renders what Argo CD renders for that cluster.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum ServerEntry {
    Url(String),
    Cluster(ClusterEntry),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClusterEntry {
    pub server: String,
    #[serde(default)]
    pub kube_version: Option<String>,
    /// This cluster's whole list; it replaces `clusters.apiVersions`.
    #[serde(default)]
    pub api_versions: Option<Vec<String>>,
}

impl ServerEntry {
    pub fn url(&self) -> &str {
        match self {
            ServerEntry::Url(url) => url,
            ServerEntry::Cluster(c) => &c.server,
        }
    }
}

/// Checks `clusters` as far as the stack alone allows; whether every tenant has the `by`
/// variable is only known per tenant, so `strata appset` checks that.
pub(super) fn check_clusters(clusters: &ClustersSpec) -> Result<(), (u64, String)> {
    let by = &clusters.by;
    if by.value.trim().is_empty() {
        return Err((by.referenced.line(), "clusters.by names no variable".into()));
    }
    if clusters.servers.is_empty() && clusters.default.is_none() {
        return Err((
            by.referenced.line(),
            "clusters has neither servers nor default: give at least one server".into(),
        ));
    }
    let named = clusters.servers.iter().map(|(value, entry)| {
        (
            format!("clusters.servers.{value}"),
            entry.value.url(),
            entry.referenced.line(),
        )
    });
    let default = clusters.default.iter().map(|url| {
        (
            "clusters.default".to_owned(),
            url.value.as_str(),
            url.referenced.line(),
        )
    });
    for (field, url, line) in named.chain(default) {
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err((
                line,
                format!(
                    "{field} {url:?} must be a cluster API server URL starting with https:// or http://"
                ),
            ));
        }
    }
    let versions = clusters
        .kube_version
        .iter()
        .map(|v| {
            (
                "clusters.kubeVersion".to_owned(),
                v.value.as_str(),
                v.referenced.line(),
            )
        })
        .chain(
            clusters
                .servers
                .iter()
                .filter_map(|(name, entry)| match &entry.value {
                    ServerEntry::Cluster(ClusterEntry {
                        kube_version: Some(v),
                        ..
                    }) => Some((
                        format!("clusters.servers.{name}.kubeVersion"),
                        v.as_str(),
                        entry.referenced.line(),
                    )),
                    _ => None,
                }),
        );
    for (field, version, line) in versions {
        if parse_kube_version(version).is_none() {
            return Err((
                line,
                format!("{field} {version:?} is not a Kubernetes version such as 1.30 or v1.30.2"),
            ));
        }
    }
    Ok(())
}

/// `1.30`, `v1.30.2`, `1.30.2-eks+abc` → its numeric components; `None` when it is none.
pub fn parse_kube_version(text: &str) -> Option<Vec<u64>> {
    let core = text.trim().trim_start_matches('v');
    let core = core.split(['-', '+']).next()?;
    let parts: Vec<u64> = core
        .split('.')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    (parts.len() >= 2 && parts.len() <= 3).then_some(parts)
}
