//! `strata parameters`: the Argo CD plugin's announcement of the tenant's parameters.

use super::args::argocd_context;
use super::output::write_stdout;
use anyhow::Result;
use strata::parameters;

pub fn exec() -> Result<()> {
    let announcement = parameters::announce(&argocd_context()?)?;
    let mut json = serde_json::to_vec(&announcement)?;
    json.push(b'\n');
    write_stdout(&json)
}
