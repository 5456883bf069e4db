//! `strata snapshot update|verify`: every tenant's rendered manifests kept in the
//! repository, and verified in CI.

use super::args::{FleetRenderArgs, SelectionArgs, StackArgs, fleet_render_context};
use super::output::write_stdout;
use anyhow::{Result, bail};
use clap::{Args, Subcommand};
use std::path::PathBuf;
use strata::terminal::{Progress, Stream, Style};
use strata::{fleet, snapshot};

#[derive(Subcommand)]
pub enum SnapshotCommand {
    /// Write each selected tenant's rendered manifests into the snapshot directory, and remove
    /// the snapshots of tenants that no longer exist.
    Update(SnapshotArgs),
    /// Render each selected tenant and compare it with its snapshot; list changed, missing and
    /// extra snapshots. Exit status 1 on any difference.
    Verify(SnapshotArgs),
}

#[derive(Args)]
pub struct SnapshotArgs {
    #[command(flatten)]
    stack: StackArgs,
    #[command(flatten)]
    selection: SelectionArgs,
    /// The snapshot directory (default: `snapshots` next to strata.yaml). One file per tenant,
    /// named as `render --all` names them.
    #[arg(long = "dir", value_name = "SNAPSHOT_DIR")]
    snapshot_dir: Option<PathBuf>,
    #[command(flatten)]
    render: FleetRenderArgs,
}

pub fn exec(command: SnapshotCommand) -> Result<()> {
    let (verify, args) = match command {
        SnapshotCommand::Update(args) => (false, args),
        SnapshotCommand::Verify(args) => (true, args),
    };
    let ctx = fleet_render_context(&args.stack, &args.render)?;
    let options = snapshot::SnapshotOptions {
        selection: args.selection.selection(),
        dir: args.snapshot_dir,
        jobs: args.render.jobs.unwrap_or_else(fleet::default_jobs),
        progress: Progress::on_stderr(),
    };
    if verify {
        let report = snapshot::verify(&ctx, &options)?;
        write_stdout(report.text(Style::for_stream(Stream::Stdout)).as_bytes())?;
        if !report.differences.is_empty() {
            bail!(
                "{} difference(s) between the render and the snapshots; run `strata snapshot update` if they are intended",
                report.differences.len()
            );
        }
    } else {
        let report = snapshot::update(&ctx, &options)?;
        eprint!("strata: {}", report.summary());
        if !report.failed.is_empty() {
            bail!("{} tenant(s) failed to render", report.failed.len());
        }
    }
    Ok(())
}
