//! `strata render`: one tenant to stdout or a file, or with --all the whole fleet into a
//! directory.

use super::args::{ChartArgs, RenderInputArgs, TenantArgs, parse_jobs, terminal_context};
use super::output::{write_file_atomically, write_stdout};
use anyhow::{Context as _, Result, bail};
use clap::Args;
use std::path::PathBuf;
use strata::context::Context;
use strata::fleet;
use strata::pipeline;
use strata::selector::{Selection, Selector};
use strata::terminal::Progress;

#[derive(Args)]
pub struct RenderArgs {
    #[command(flatten)]
    charts: ChartArgs,
    #[command(flatten)]
    tenant: TenantArgs,
    /// Write the manifests to FILE (only when the whole render succeeds) instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
    #[command(flatten)]
    fleet: FleetArgs,
    #[command(flatten)]
    inputs: RenderInputArgs,
}

/// `render --all`: the whole fleet into a directory.
#[derive(Args)]
pub struct FleetArgs {
    /// Render every tenant of the stack into --out-dir, one file per tenant, each exactly what
    /// `strata render <tenant>` prints. TENANT_DIR is then any directory inside the stack. A
    /// failing tenant does not stop the others; the exit code is 1 if any failed. Versioned
    /// charts come from strata.lock only (no --refresh), so every tenant gets the locked
    /// version; --timeout applies to each tenant.
    #[arg(long, requires = "out_dir", conflicts_with_all = ["output", "refresh"])]
    all: bool,
    /// With --all, only the tenants the selector picks (repeatable; see `strata tenants --help`).
    #[arg(long, value_name = "SELECTOR", value_parser = Selector::parse, requires = "all")]
    selector: Vec<Selector>,
    /// With --all, succeed when the selector picks no tenant.
    #[arg(long, requires = "all")]
    allow_empty: bool,
    /// With --all, where to write `<tenant dir relative to the stack, '/' as '__'>.yaml`
    /// (created if missing). Files are replaced atomically; files of tenants that no longer
    /// exist, or that failed, are left as they are, so use a fresh directory for an exact set.
    #[arg(long, value_name = "DIR", requires = "all")]
    out_dir: Option<PathBuf>,
    /// With --all, how many tenants render at once (default: one per CPU). Each tenant also
    /// runs one helm process per component.
    #[arg(short = 'j', long, value_name = "N", requires = "all", value_parser = parse_jobs)]
    jobs: Option<usize>,
}

pub fn exec(args: RenderArgs) -> Result<()> {
    let mut ctx = terminal_context(&args.tenant)?;
    ctx.refresh = args.charts.refresh;
    ctx.offline = args.charts.offline;
    args.inputs.apply(&mut ctx)?;
    if args.fleet.all {
        return render_all(&ctx, &args.fleet);
    }
    let out = pipeline::render(&ctx)?;
    match args.output {
        Some(path) => write_file_atomically(&path, &out),
        None => write_stdout(&out),
    }
}

/// `render --all`: progress on a terminal only (a log or CI capture would fill with it), then
/// the summary; any failed tenant makes the exit code 1.
fn render_all(ctx: &Context, args: &FleetArgs) -> Result<()> {
    let out_dir = args.out_dir.as_deref().context("--all needs --out-dir")?;
    let jobs = args.jobs.unwrap_or_else(fleet::default_jobs);
    let selection = Selection {
        selector: Selector::all(args.selector.iter().cloned()),
        allow_empty: args.allow_empty,
    };
    let report = fleet::render_all(ctx, &selection, out_dir, jobs, &Progress::on_stderr())?;
    eprint!("strata: {}", report.summary());
    if !report.failed.is_empty() {
        bail!("{} tenant(s) failed to render", report.failed.len());
    }
    Ok(())
}
