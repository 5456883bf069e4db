//! `strata appset`: an Argo CD ApplicationSet with one Application per tenant.

use super::args::{StackArgs, stack_context};
use super::output::write_stdout;
use anyhow::Result;
use clap::{Args, ValueEnum};
use std::path::PathBuf;
use strata::appset;
use strata::context::parse_var_arg;
use strata::selector::Selector;
use strata::yaml;

#[derive(Args)]
pub struct AppsetArgs {
    #[command(flatten)]
    stack: StackArgs,
    /// Only tenants whose variables match (repeatable; see `strata tenants --help`).
    #[arg(long, value_name = "SELECTOR", value_parser = Selector::parse)]
    selector: Vec<Selector>,
    /// The git repository Argo CD fetches, as it knows it (spec.source.repoURL). Default: the
    /// `origin` remote of the stack's repository, without user info.
    #[arg(long, value_name = "URL")]
    repo_url: Option<String>,
    /// The revision Argo CD follows (spec.source.targetRevision).
    #[arg(long, value_name = "REV", default_value = "HEAD")]
    revision: String,
    /// The Argo CD project of every Application.
    #[arg(long, value_name = "NAME", default_value = "default")]
    project: String,
    /// The ApplicationSet's name, which also starts every Application's name (default: the
    /// stack directory's name).
    #[arg(long)]
    name: Option<String>,
    /// `automated`: Argo CD syncs every change; `manual`: only when someone syncs.
    #[arg(long, value_enum, default_value = "automated")]
    sync: SyncArg,
    /// With --sync automated: delete objects that disappear from the manifests.
    #[arg(long, value_name = "BOOL", action = clap::ArgAction::Set)]
    prune: Option<bool>,
    /// With --sync automated: undo changes made in the cluster.
    #[arg(long, value_name = "BOOL", action = clap::ArgAction::Set)]
    self_heal: Option<bool>,
    /// A finalizer of every Application (repeatable), e.g.
    /// resources-finalizer.argocd.argoproj.io to delete its resources with it.
    #[arg(long = "finalizer", value_name = "NAME")]
    finalizers: Vec<String>,
    /// A label of the ApplicationSet and every Application (repeatable): --label team=web.
    #[arg(long = "label", value_name = "KEY=VALUE", value_parser = parse_var_arg)]
    labels: Vec<(String, String)>,
    /// Compare with FILE instead of printing: exit 0 when FILE holds exactly this output, 1
    /// when it is missing or out of date (for CI).
    #[arg(long, value_name = "FILE")]
    check: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
enum SyncArg {
    Automated,
    Manual,
}

/// The ApplicationSet on stdout, or with --check compared with a file.
pub fn exec(args: AppsetArgs) -> Result<()> {
    let sync = match args.sync {
        SyncArg::Manual => {
            for (flag, given) in [("prune", args.prune), ("self-heal", args.self_heal)] {
                if given.is_some() {
                    return Err(appset::AppsetError::ManualSyncFlag { flag }.into());
                }
            }
            appset::SyncMode::Manual
        }
        SyncArg::Automated => appset::SyncMode::Automated {
            prune: args.prune.unwrap_or(true),
            self_heal: args.self_heal.unwrap_or(true),
        },
    };
    let set = appset::application_set(
        &stack_context(&args.stack)?,
        &appset::AppsetOptions {
            selector: Selector::all(args.selector),
            name: args.name,
            repo_url: args.repo_url,
            revision: args.revision,
            project: args.project,
            sync,
            finalizers: args.finalizers,
            labels: args.labels.into_iter().collect(),
        },
    )?;
    let yaml = yaml::to_yaml(&set);
    let Some(file) = args.check else {
        return write_stdout(yaml.as_bytes());
    };
    appset::check_file(&file, &yaml)?;
    eprintln!("strata: {} is up to date", file.display());
    Ok(())
}
