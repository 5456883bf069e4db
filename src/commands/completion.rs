//! `strata completion SHELL`: the shell completion script.

use super::output::write_stdout;
use anyhow::Result;
use clap::CommandFactory;

pub fn exec(shell: clap_complete::Shell) -> Result<()> {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut crate::Cli::command(), "strata", &mut out);
    write_stdout(&out)
}
