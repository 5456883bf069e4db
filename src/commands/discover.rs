//! `strata discover`: the Argo CD plugin's discovery, the stack file above the app path.

use super::args::argocd_context;
use super::output::write_stdout;
use anyhow::Result;
use strata::pipeline;

/// Prints nothing instead of failing: Argo CD treats a failing discovery as an error of the
/// application, not as "this plugin does not apply".
pub fn exec() -> Result<()> {
    let found = argocd_context()
        .ok()
        .and_then(|ctx| pipeline::load_stack(&ctx).ok())
        .map(|(_, stack)| stack.file_name + "\n")
        .unwrap_or_default();
    write_stdout(found.as_bytes())
}
