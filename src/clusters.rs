//! The cluster a tenant deploys to, and what that cluster tells helm.
//!
//! Argo CD passes each cluster's Kubernetes version and API versions to the plugin, and
//! charts branch on them (`.Capabilities.KubeVersion`, `.Capabilities.APIVersions.Has`). In CI
//! and on a terminal there is no cluster, so helm would use its defaults and render something
//! else than Argo CD will. `clusters` in strata.yaml can say what each cluster runs; render,
//! diff, check and snapshot use it when no version is given explicitly. An explicit value (from
//! Argo CD, `--kube-version` or `--api-versions`) wins, with a warning when it disagrees.

pub use crate::config::clusters::parse_kube_version;

use crate::config::{ServerEntry, Stack};
use crate::context::Context;
use std::collections::BTreeMap;

/// What the stack says about one tenant's cluster.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClusterFacts {
    /// The `clusters.by` value that names the cluster (`prod-den1`); `None` without `clusters`
    /// or when the tenant lacks the variable.
    pub cluster: Option<String>,
    pub kube_version: Option<String>,
    pub api_versions: Option<Vec<String>>,
}

/// The `clusters.by` value of a tenant with these variables.
pub fn cluster_key(stack: &Stack, vars: &BTreeMap<String, String>) -> Option<String> {
    let by = &stack.spec.clusters.as_ref()?.by.value;
    if by.contains("{{") {
        crate::template::Templater::default().render(by, vars).ok()
    } else {
        vars.get(by).cloned()
    }
}

/// The cluster facts of a tenant: its server entry's, else the stack's defaults.
pub fn facts_for(stack: &Stack, vars: &BTreeMap<String, String>) -> ClusterFacts {
    let Some(clusters) = &stack.spec.clusters else {
        return ClusterFacts::default();
    };
    let cluster = cluster_key(stack, vars);
    let entry = cluster
        .as_ref()
        .and_then(|c| clusters.servers.get(c))
        .and_then(|e| match &e.value {
            ServerEntry::Cluster(c) => Some(c),
            ServerEntry::Url(_) => None,
        });
    ClusterFacts {
        kube_version: entry
            .and_then(|e| e.kube_version.clone())
            .or_else(|| clusters.kube_version.as_ref().map(|v| v.value.clone())),
        api_versions: entry
            .and_then(|e| e.api_versions.clone())
            .or_else(|| clusters.api_versions.clone()),
        cluster,
    }
}

/// Whether an explicit version agrees with the stack's, to the precision the stack gives
/// (`1.30` agrees with `1.30.2`).
fn agrees(explicit: &str, stack: &str) -> bool {
    match (parse_kube_version(explicit), parse_kube_version(stack)) {
        (Some(e), Some(s)) => e.iter().zip(&s).all(|(a, b)| a == b) && e.len() >= s.len(),
        _ => explicit == stack,
    }
}

/// The context to render a tenant with: `ctx` with the cluster's facts filled in where the
/// caller gave none. `tenant` names the tenant in warnings.
pub fn with_cluster_facts(
    ctx: &Context,
    stack: &Stack,
    vars: &BTreeMap<String, String>,
    tenant: &str,
) -> Context {
    let facts = facts_for(stack, vars);
    let mut out = ctx.clone();
    let cluster = facts
        .cluster
        .as_deref()
        .map(|c| format!("cluster {c}"))
        .unwrap_or_else(|| "the default cluster".into());
    match (&ctx.kube_version, &facts.kube_version) {
        (None, Some(v)) => out.kube_version = Some(v.clone()),
        (Some(given), Some(v)) if !agrees(given, v) => tracing::warn!(
            "tenant {tenant}: Kubernetes version {given} (given to this render) disagrees with kubeVersion {v} of {cluster} in {}; rendering with {given}",
            stack.file_name
        ),
        _ => {}
    }
    match (ctx.api_versions.is_empty(), &facts.api_versions) {
        (true, Some(list)) => out.api_versions = list.clone(),
        (false, Some(list)) => {
            let missing: Vec<&str> = list
                .iter()
                .filter(|a| !ctx.api_versions.contains(a))
                .map(String::as_str)
                .collect();
            if !missing.is_empty() {
                tracing::warn!(
                    "tenant {tenant}: the API versions given to this render lack {} that {} lists for {cluster}; rendering with the given list",
                    missing.join(", "),
                    stack.file_name
                );
            }
        }
        _ => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kube_versions_parse_and_agree_to_the_stack_precision() {
        assert_eq!(parse_kube_version("v1.30.2+k3s1"), Some(vec![1, 30, 2]));
        assert_eq!(parse_kube_version("1.29"), Some(vec![1, 29]));
        assert_eq!(parse_kube_version("latest"), None);
        assert_eq!(parse_kube_version("1"), None);
        assert!(agrees("1.30.2", "1.30"));
        assert!(agrees("v1.30.2-eks-123", "1.30.2"));
        assert!(!agrees("1.31.0", "1.30"));
        assert!(!agrees("1.30", "1.30.2"));
    }
}
