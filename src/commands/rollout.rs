//! `strata rollout status`: which version each wave runs.

use super::args::{StackArgs, TenantsFormat, stack_context};
use super::output::write_stdout;
use anyhow::Result;
use clap::Subcommand;
use strata::rollout;

#[derive(Subcommand)]
pub enum RolloutCommand {
    /// For each versioned component, which version each wave runs (from pins and
    /// strata.lock), which waves are pending the first wave's version, and tenants a more
    /// specific pin keeps off their wave's version.
    Status {
        #[command(flatten)]
        stack: StackArgs,
        #[arg(long, value_enum, default_value = "table")]
        format: TenantsFormat,
    },
}

pub fn exec(command: RolloutCommand) -> Result<()> {
    let RolloutCommand::Status { stack, format } = command;
    let status = rollout::status(&stack_context(&stack)?)?;
    let text = match format {
        TenantsFormat::Table => rollout::status_text(&status),
        TenantsFormat::Json => serde_json::to_string_pretty(&status)? + "\n",
    };
    write_stdout(text.as_bytes())
}
