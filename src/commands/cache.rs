//! `strata cache ls|prune`: inspect or clean the shared chart cache.

use super::args::{StackArgs, stack_context};
use super::output::write_stdout;
use anyhow::Result;
use clap::Subcommand;
use strata::chart::cache::Cache;
use strata::lockfile;

#[derive(Subcommand)]
pub enum CacheCommand {
    /// List the cached charts.
    Ls,
    /// Remove cached charts that the stack's strata.lock does not reference.
    Prune {
        #[command(flatten)]
        stack: StackArgs,
        /// Remove every cached chart, index and render.
        #[arg(long)]
        all: bool,
    },
}

pub fn exec(command: CacheCommand) -> Result<()> {
    let cache = Cache::from_env();
    match command {
        CacheCommand::Ls => {
            let mut out = format!("# {}\n", cache.root().display());
            for (info, dir) in cache.entries()? {
                out.push_str(&format!(
                    "{} {} {} {}\n",
                    info.chart,
                    info.version,
                    info.digest,
                    dir.display()
                ));
            }
            write_stdout(out.as_bytes())
        }
        CacheCommand::Prune { stack, all } => {
            let ctx = if all {
                None
            } else {
                Some(stack_context(&stack)?)
            };
            let report = lockfile::prune_cache(&cache, ctx.as_ref())?;
            eprintln!(
                "strata: removed {} cached chart(s), kept {}",
                report.removed.len(),
                report.kept
            );
            Ok(())
        }
    }
}
