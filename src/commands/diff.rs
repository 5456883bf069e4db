//! `strata diff`: every tenant's manifests compared between two git revisions.

use super::args::{RenderInputArgs, SelectionArgs, TenantArgs, parse_jobs, terminal_context};
use super::output::write_stdout;
use anyhow::{Context as _, Result, bail};
use clap::{Args, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;
use strata::diff::{self, report};
use strata::fleet;
use strata::terminal::{Progress, Stream, Style};

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum DiffFormat {
    /// Unified diffs, coloured on a terminal.
    Text,
    /// A pull-request comment, split into parts under GitHub's 65,536-character limit.
    Markdown,
    /// Machine-readable: summary, grouped value changes, tenants with their objects.
    Json,
}

#[derive(Args)]
pub struct DiffArgs {
    /// A directory inside the stack (default: the current directory); the tenants at or below
    /// it are compared.
    dir: Option<PathBuf>,
    /// The revision to compare against: a branch, tag or commit (e.g. origin/main).
    #[arg(long, value_name = "REV")]
    base: String,
    /// The revision with the change (default: the working tree, uncommitted edits included).
    #[arg(long, value_name = "REV")]
    head: Option<String>,
    #[arg(long, value_enum, default_value = "text")]
    format: DiffFormat,
    #[command(flatten)]
    selection: SelectionArgs,
    /// Leave a field out of every object before comparing (repeatable): a dotted path matched
    /// against the object's keys (metadata.labels.helm.sh/chart) or a JSON pointer
    /// (/metadata/labels/helm.sh~1chart); `*` matches any key or list item. Nothing is
    /// ignored unless asked.
    #[arg(long, value_name = "PATH")]
    ignore: Vec<strata::diff::ignore::IgnorePath>,
    /// With --format markdown: write each comment-sized part to DIR/strata-diff-N.md instead
    /// of printing.
    #[arg(long, value_name = "DIR")]
    out_dir: Option<PathBuf>,
    /// How many tenant renders run at once, base and head counted apart (default: one per CPU).
    #[arg(short = 'j', long, value_name = "N", value_parser = parse_jobs)]
    jobs: Option<usize>,
    #[command(flatten)]
    inputs: RenderInputArgs,
}

/// Runs the comparison and prints it. The status is diff(1)'s: 0 when nothing differs, 1
/// when something does (an error is 2, decided where errors are printed).
pub fn exec(args: DiffArgs) -> Result<ExitCode> {
    if args.out_dir.is_some() && args.format != DiffFormat::Markdown {
        bail!("--out-dir needs --format markdown");
    }
    let mut context = terminal_context(&TenantArgs {
        tenant_dir: None,
        vars: Vec::new(),
        set: Vec::new(),
    })?;
    args.inputs.apply(&mut context)?;
    let options = diff::DiffOptions {
        dir: args
            .dir
            .clone()
            .unwrap_or_else(|| context.start_dir.clone()),
        base: args.base.clone(),
        head: args.head.clone(),
        selection: args.selection.selection(),
        ignore: args.ignore.clone(),
        context,
        progress: Progress::on_stderr(),
        jobs: args.jobs.unwrap_or_else(fleet::default_jobs),
    };
    let result = diff::run(&options)?;
    print(&args, &result)?;
    Ok(if result.has_changes() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The report in the chosen format, on stdout or, for markdown with --out-dir, as files.
fn print(args: &DiffArgs, result: &diff::DiffReport) -> Result<()> {
    match (args.format, &args.out_dir) {
        (DiffFormat::Text, _) => {
            let style = Style::for_stream(Stream::Stdout);
            write_stdout(report::text::render(result, style).as_bytes())
        }
        (DiffFormat::Json, _) => write_stdout(report::json::render(result).as_bytes()),
        (DiffFormat::Markdown, None) => {
            let parts = report::markdown::render(result);
            write_stdout(report::markdown::join(&parts).as_bytes())
        }
        (DiffFormat::Markdown, Some(dir)) => {
            let parts = report::markdown::render(result);
            let written = report::markdown::write_parts(dir, &parts)
                .with_context(|| format!("cannot write the parts into {}", dir.display()))?;
            for path in written {
                eprintln!("strata: wrote {}", path.display());
            }
            Ok(())
        }
    }
}
