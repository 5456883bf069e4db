//! One module per command, as cargo lays out its own: each holds its clap arguments and an
//! `exec` that turns them into the library's options, calls the library and prints. Argument
//! groups several commands share live in `args`, the one way to write stdout in `output`.

mod appset;
mod args;
mod cache;
mod check;
mod completion;
mod diff;
mod discover;
mod explain;
mod generate;
mod init;
mod lock;
mod man;
mod output;
mod parameters;
mod promote;
mod render;
mod rollout;
mod snapshot;
mod tenants;
mod values;

use anyhow::Result;
use clap::Subcommand;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum Command {
    /// Argo CD plugin `generate`: render the app path's tenant to stdout.
    ///
    /// Reads the environment Argo CD's cmp-server provides (ARGOCD_APP_*, KUBE_VERSION,
    /// KUBE_API_VERSIONS, ARGOCD_ENV_*, ARGOCD_APP_PARAMETERS) and the working directory (the
    /// app path). stdout gets every manifest or nothing: on any error it stays empty, so Argo CD
    /// reports the error instead of pruning the application.
    Generate,
    /// Argo CD plugin `init`: check the stack and tenant before `generate` runs.
    ///
    /// Same environment as `generate`; it resolves the tenant, its components and value layers,
    /// and fails early with a clear message if any of them is wrong.
    Init,
    /// Argo CD plugin dynamic parameters: print the announcement (a JSON array) for the UI.
    ///
    /// Lists the tenant's variables with their current values, plus `values` (a map of dotted
    /// keys) and `valuesYaml` (a YAML document), the two parameter layers above every file.
    Parameters,
    /// Argo CD plugin discovery: print the stack file above the app path, or nothing.
    ///
    /// Matches when the app path is inside a stack (a strata.yaml in it or a parent, within the
    /// repository). Never fails: Argo CD treats a failing discovery command as an error.
    Discover,
    /// Render a tenant from a terminal, exactly as `generate` does in Argo CD.
    ///
    /// With --all, render every tenant of the stack (or those --selector picks) into --out-dir,
    /// one file per tenant, to check or publish the whole fleet in one run.
    Render(render::RenderArgs),
    /// List every tenant of the stack with its variables and charts.
    ///
    /// Shows which tenants a selector reaches and which chart versions they run, before a
    /// change to a shared layer or a pin lands. Reads only the repository and strata.lock: no
    /// helm, no network.
    Tenants(tenants::TenantsArgs),
    /// Resolve every versioned chart the tenants use and write strata.lock.
    ///
    /// Entries that still satisfy their constraint are kept without asking the repository;
    /// unused entries are dropped. Commit strata.lock: generate and render use only it.
    Lock(lock::LockArgs),
    /// Make one set of tenants run exactly the chart versions another set runs.
    ///
    /// Example: `strata promote --from env=preprod --to env=prod` pins prod to the version
    /// (and archive digest) preprod resolves to, updates strata.lock and prints a summary for
    /// the commit message.
    Promote(promote::PromoteArgs),
    /// Inspect or clean the shared chart cache (STRATA_CACHE_DIR).
    #[command(subcommand)]
    Cache(cache::CacheCommand),
    /// Print a tenant's merged values, as helm receives them.
    Values(values::ValuesArgs),
    /// Show which file and line set each value, and which lower layers it overrode.
    Explain(explain::ExplainArgs),
    /// Compare every tenant's manifests between two git revisions, for pull-request previews.
    ///
    /// Reads the stack at --base (and at --head, default: the working tree) through git
    /// without touching the checkout, renders only the tenants whose inputs (merged values,
    /// chart, release, namespace, flags) differ, and compares their objects by API group,
    /// kind, namespace and name. Value changes are summarised with the layer file that set
    /// them. Secret values are never printed, only which keys changed.
    ///
    /// Exit status, like diff(1) and unlike the other commands: 0 no changes, 1 changes,
    /// 2 error.
    Diff(diff::DiffArgs),
    /// Print an Argo CD ApplicationSet with one Application per tenant of the stack.
    ///
    /// A `list` generator holds one element per tenant: its directory (the Application's
    /// path), name, variables, destination namespace (the first component's) and cluster
    /// (strata.yaml `clusters`). Commit the output and regenerate it when tenants change.
    Appset(appset::AppsetArgs),
    /// Check every tenant before it deploys, and list every failure.
    ///
    /// Values are validated against each chart's values.schema.json (naming the layer file and
    /// line of each bad value), every tenant is rendered, the policy rules that strata.yaml
    /// `checks:` turns on are applied to the output and, with --schemas, every object is
    /// validated against Kubernetes JSON schemas. Exit status 1 when anything fails.
    Check(check::CheckArgs),
    /// Keep every tenant's rendered manifests in the repository, and verify them in CI.
    #[command(subcommand)]
    Snapshot(snapshot::SnapshotCommand),
    /// Roll changes out in waves (strata.yaml rollout.waves).
    #[command(subcommand)]
    Rollout(rollout::RolloutCommand),
    /// Print a shell completion script: `strata completion bash > /etc/bash_completion.d/strata`.
    Completion {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff): `strata man > /usr/local/share/man/man1/strata.1`.
    Man,
}

/// Runs one command. Every command but `diff` succeeds with status 0; `diff` reports whether
/// something differs in its status, like diff(1).
pub fn exec(command: Command) -> Result<ExitCode> {
    match command {
        Command::Diff(args) => return diff::exec(args),
        Command::Generate => generate::exec()?,
        Command::Init => init::exec()?,
        Command::Parameters => parameters::exec()?,
        Command::Discover => discover::exec()?,
        Command::Render(args) => render::exec(args)?,
        Command::Tenants(args) => tenants::exec(args)?,
        Command::Lock(args) => lock::exec(args)?,
        Command::Promote(args) => promote::exec(args)?,
        Command::Cache(command) => cache::exec(command)?,
        Command::Values(args) => values::exec(args)?,
        Command::Explain(args) => explain::exec(args)?,
        Command::Appset(args) => appset::exec(args)?,
        Command::Check(args) => check::exec(args)?,
        Command::Snapshot(command) => snapshot::exec(command)?,
        Command::Rollout(command) => rollout::exec(command)?,
        Command::Completion { shell } => completion::exec(shell)?,
        Command::Man => man::exec()?,
    }
    Ok(ExitCode::SUCCESS)
}
