//! `strata man`: the man page (roff), from the same definitions as `--help`.

use super::output::write_stdout;
use anyhow::{Context as _, Result};
use clap::CommandFactory;

pub fn exec() -> Result<()> {
    let mut out = Vec::new();
    clap_mangen::Man::new(crate::Cli::command())
        .render(&mut out)
        .context("cannot render the man page")?;
    write_stdout(&out)
}
