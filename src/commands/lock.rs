//! `strata lock`: resolve every versioned chart the tenants use and write strata.lock.

use super::args::{StackArgs, stack_context};
use anyhow::{Result, bail};
use clap::Args;
use strata::lockfile;

#[derive(Args)]
pub struct LockArgs {
    #[command(flatten)]
    stack: StackArgs,
    /// Re-resolve every entry, also those that still satisfy their constraint.
    #[arg(long)]
    update: bool,
    /// Seconds the whole run may take, downloads included (default: 600).
    #[arg(long, env = "STRATA_TIMEOUT", value_name = "SECONDS")]
    timeout: Option<u64>,
}

pub fn exec(args: LockArgs) -> Result<()> {
    let mut ctx = stack_context(&args.stack)?;
    ctx.timeout = match args.timeout {
        Some(0) => bail!("--timeout must be at least 1 second"),
        t => t.map(std::time::Duration::from_secs),
    };
    let report = lockfile::update_lock(&ctx, args.update)?;
    eprint!("{}", report.summary());
    Ok(())
}
