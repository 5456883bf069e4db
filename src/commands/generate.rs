//! `strata generate`: the Argo CD plugin's render of the app path's tenant.

use super::args::argocd_context;
use super::output::write_manifests;
use anyhow::Result;
use strata::pipeline;

/// The manifests on stdout only once the whole render succeeded: Argo CD prunes what a
/// partial output leaves out.
pub fn exec() -> Result<()> {
    let out = pipeline::render(&argocd_context()?)?;
    write_manifests(&out)
}
