//! `strata check`: every tenant checked before it deploys, every failure listed.

use super::args::{FleetRenderArgs, SelectionArgs, StackArgs, fleet_render_context};
use super::output::write_stdout;
use anyhow::{Result, bail};
use clap::{Args, ValueEnum};
use std::path::PathBuf;
use strata::context::Context;
use strata::terminal::Progress;
use strata::{check, diff, fleet, parity, rollout};

#[derive(Args)]
pub struct CheckArgs {
    #[command(flatten)]
    stack: StackArgs,
    #[command(flatten)]
    selection: SelectionArgs,
    /// `text` for people, `json` for scripts: {passed, tenants, objects, checks, failures,
    /// kubeSchemas}.
    #[arg(long, value_enum, default_value = "text")]
    format: CheckFormat,
    /// Also validate every rendered object against the Kubernetes JSON schemas in DIR, named as
    /// kubeconform names them (deployment-apps-v1.json, configmap-v1.json). Read offline;
    /// objects without a schema are counted as skipped, not failed.
    #[arg(long, value_name = "DIR")]
    schemas: Option<PathBuf>,
    /// Also compare with this revision and apply strata.yaml rollout.guards to the change:
    /// it fails when it restarts pods in more tenants or waves than a guard allows, or a
    /// chart version runs in a wave before the waves ahead of it.
    #[arg(long, value_name = "REV")]
    base: Option<String>,
    /// With --base: report the guards a change breaks as warnings instead of failures, for a
    /// fleet-wide change made on purpose.
    #[arg(long, requires = "base")]
    allow_wide_rollout: bool,
    /// Instead of the checks: render every selected tenant with helm and with the native
    /// renderer and report each component as identical, differing (with a bounded diff) or
    /// helm only (a chart `renderer: auto` leaves to helm). Fails when any output differs.
    #[arg(long, conflicts_with_all = ["schemas", "base"])]
    renderer_parity: bool,
    #[command(flatten)]
    render: FleetRenderArgs,
}

#[derive(Clone, Copy, ValueEnum)]
enum CheckFormat {
    Text,
    Json,
}

/// The report on stdout, whatever the format; any failure makes the exit status 1.
pub fn exec(args: CheckArgs) -> Result<()> {
    let ctx = fleet_render_context(&args.stack, &args.render)?;
    if args.renderer_parity {
        return renderer_parity(&ctx, &args);
    }
    let options = check::CheckOptions {
        selection: args.selection.selection(),
        kube_schemas: args.schemas.clone(),
        jobs: args.render.jobs.unwrap_or_else(fleet::default_jobs),
        progress: Progress::on_stderr(),
    };
    let mut report = check::run(&ctx, &options)?;
    if let Some(base) = &args.base {
        guard_rollout(&ctx, &args, base, &options.progress, &mut report)?;
    }
    let text = match args.format {
        CheckFormat::Text => report.text(),
        CheckFormat::Json => report.json(),
    };
    write_stdout(text.as_bytes())?;
    if !report.passed {
        bail!("{} check(s) failed", report.failures.len());
    }
    Ok(())
}

/// `--renderer-parity`: helm and the native renderer compared on every selected tenant.
fn renderer_parity(ctx: &Context, args: &CheckArgs) -> Result<()> {
    let report = parity::run(
        ctx,
        &parity::ParityOptions {
            selection: args.selection.selection(),
            jobs: args.render.jobs.unwrap_or_else(fleet::default_jobs),
            progress: Progress::on_stderr(),
        },
    )?;
    let text = match args.format {
        CheckFormat::Text => report.text(),
        CheckFormat::Json => report.json(),
    };
    write_stdout(text.as_bytes())?;
    if !report.passed {
        let broken = report.tenants.iter().filter(|t| t.error.is_some()).count();
        bail!(
            "renderer parity failed: {} component(s) differ, {broken} tenant(s) could not be compared",
            report.differ
        );
    }
    Ok(())
}

/// `--base`: the change since `base` held to strata.yaml rollout.guards; with
/// --allow-wide-rollout the guards it breaks are warnings instead of failures.
fn guard_rollout(
    ctx: &Context,
    args: &CheckArgs,
    base: &str,
    progress: &Progress,
    report: &mut check::report::CheckReport,
) -> Result<()> {
    let diff = diff::run(&diff::DiffOptions {
        dir: ctx.start_dir.clone(),
        base: base.to_string(),
        head: None,
        selection: args.selection.selection(),
        ignore: Vec::new(),
        context: ctx.clone(),
        progress: progress.clone(),
        jobs: args.render.jobs.unwrap_or_else(fleet::default_jobs),
    })?;
    let broken = rollout::guard_failures(ctx, &diff)?;
    if args.allow_wide_rollout {
        for f in &broken {
            eprintln!(
                "strata: warning: allowed by --allow-wide-rollout: {}",
                f.message
            );
        }
    } else {
        check::add_rollout_failures(report, &diff, broken);
    }
    Ok(())
}
