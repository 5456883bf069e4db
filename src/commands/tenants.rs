//! `strata tenants`: every tenant of the stack with its variables and charts.

use super::args::{SelectionArgs, StackArgs, TenantsFormat, stack_context};
use super::output::write_stdout;
use anyhow::Result;
use clap::Args;
use strata::fleet;

#[derive(Args)]
pub struct TenantsArgs {
    #[command(flatten)]
    stack: StackArgs,
    #[command(flatten)]
    selection: SelectionArgs,
    /// `table` for people (TENANT, VARS, CHARTS); `json` for scripts, with each variable's
    /// source and each component's chart, constraint, locked version and layer files.
    #[arg(long, value_enum, default_value = "table")]
    format: TenantsFormat,
}

pub fn exec(args: TenantsArgs) -> Result<()> {
    let ctx = stack_context(&args.stack)?;
    let tenants = fleet::list_tenants(&ctx, &args.selection.selection())?;
    let text = match args.format {
        TenantsFormat::Table => fleet::table(&tenants),
        TenantsFormat::Json => serde_json::to_string_pretty(&tenants)? + "\n",
    };
    write_stdout(text.as_bytes())
}
