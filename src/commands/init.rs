//! `strata init`: the Argo CD plugin's check of the stack and tenant before `generate`.

use super::args::argocd_context;
use anyhow::Result;
use strata::pipeline;

pub fn exec() -> Result<()> {
    let ctx = argocd_context()?;
    let resolved = pipeline::resolve(&ctx)?;
    // Reads every layer and manifests file and warms the chart cache, so generate finds
    // every chart locally; only helm does not run.
    pipeline::prepare_inputs(&resolved, &ctx)?;
    eprintln!(
        "strata: {} is valid: tenant {}, {} component(s)",
        resolved.stack.file_name,
        resolved.tenant.shown_dir,
        resolved.components.len()
    );
    Ok(())
}
