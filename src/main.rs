//! The command line: parses arguments, builds a context, calls the library, prints.
//! No logic of its own lives here.

use anyhow::{Context as _, Result, bail};
use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use strata::chart::cache::Cache;
use strata::chart::lock::{LOCK_FILE, Lock};
use strata::context::{Context, Var, VarSource, parse_var_arg, split_api_versions};
use strata::selector::{Selection, Selector, SelectorError};
use strata::terminal::{Progress, Stream, Style};
use strata::values::explain::{self, join_key_path};
use strata::values::split_key_path;
use strata::{
    appset, argocd, check, fleet, lockfile, parameters, pipeline, promote, snapshot, yaml,
};

/// Layered, provenance-tracked Helm values for one Argo CD Application per tenant.
///
/// strata finds the stack (strata.yaml) above a tenant directory, merges the tenant's value
/// layers with Helm's own rules, remembering which file and line set each value, and renders
/// with the real `helm template`.
#[derive(Parser)]
#[command(
    name = "strata",
    version,
    propagate_version = true,
    after_help = ENVIRONMENT_HELP
)]
struct Cli {
    /// Log strata's own steps at debug level on stderr (the same as STRATA_LOG=debug).
    #[arg(long, global = true)]
    debug: bool,
    #[command(subcommand)]
    command: Command,
}

/// The environment variables every command reads, for `--help` and the man page.
const ENVIRONMENT_HELP: &str = "Environment:
  STRATA_HELM       the helm binary (default: the first `helm` on PATH)
  STRATA_LOG        log level for strata's own messages on stderr: error, warn (default),
                    info, debug, trace, or a tracing filter
  STRATA_CACHE_DIR  the shared chart and render cache (default: $XDG_CACHE_HOME/strata,
                    else ~/.cache/strata)
  STRATA_TIMEOUT    seconds one tenant's render may take
  STRATA_NO_CACHE   1 to bypass the render cache";

#[derive(Subcommand)]
enum Command {
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
    Render(RenderArgs),
    /// List every tenant of the stack with its variables and charts.
    ///
    /// Shows which tenants a selector reaches and which chart versions they run, before a
    /// change to a shared layer or a pin lands. Reads only the repository and strata.lock: no
    /// helm, no network.
    Tenants(TenantsArgs),
    /// Resolve every versioned chart the tenants use and write strata.lock.
    ///
    /// Entries that still satisfy their constraint are kept without asking the repository;
    /// unused entries are dropped. Commit strata.lock: generate and render use only it.
    Lock(LockArgs),
    /// Make one set of tenants run exactly the chart versions another set runs.
    ///
    /// Example: `strata promote --from env=preprod --to env=prod` pins prod to the version
    /// (and archive digest) preprod resolves to, updates strata.lock and prints a summary for
    /// the commit message.
    Promote(PromoteArgs),
    /// Inspect or clean the shared chart cache (STRATA_CACHE_DIR).
    #[command(subcommand)]
    Cache(CacheCommand),
    /// Print a tenant's merged values, as helm receives them.
    Values(ValuesArgs),
    /// Show which file and line set each value, and which lower layers it overrode.
    Explain(ExplainArgs),
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
    Diff(DiffArgs),
    /// Print an Argo CD ApplicationSet with one Application per tenant of the stack.
    ///
    /// A `list` generator holds one element per tenant: its directory (the Application's
    /// path), name, variables, destination namespace (the first component's) and cluster
    /// (strata.yaml `clusters`). Commit the output and regenerate it when tenants change.
    Appset(AppsetArgs),
    /// Check every tenant before it deploys, and list every failure.
    ///
    /// Values are validated against each chart's values.schema.json (naming the layer file and
    /// line of each bad value), every tenant is rendered, the policy rules that strata.yaml
    /// `checks:` turns on are applied to the output and, with --schemas, every object is
    /// validated against Kubernetes JSON schemas. Exit status 1 when anything fails.
    Check(CheckArgs),
    /// Keep every tenant's rendered manifests in the repository, and verify them in CI.
    #[command(subcommand)]
    Snapshot(SnapshotCommand),
    /// Roll changes out in waves (strata.yaml rollout.waves).
    #[command(subcommand)]
    Rollout(RolloutCommand),
    /// Print a shell completion script: `strata completion bash > /etc/bash_completion.d/strata`.
    Completion {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff): `strata man > /usr/local/share/man/man1/strata.1`.
    Man,
}

#[derive(Subcommand)]
enum RolloutCommand {
    /// For each versioned component, which version each wave runs (from pins and
    /// strata.lock), which waves are pending the first wave's version, and tenants a more
    /// specific pin keeps off their wave's version.
    Status {
        #[command(flatten)]
        stack: StackArgs,
        #[arg(long, value_enum, default_value = "table")]
        format: TenantsFormat,
    },
}

#[derive(Args)]
struct TenantArgs {
    /// The tenant directory (default: the current directory). At the stack root, the tenant's
    /// variables (e.g. --var env=prod --var tenant=acme) select it.
    tenant_dir: Option<PathBuf>,
    /// Set a variable, above every other source (repeatable): --var region=yul1.
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = parse_var_arg)]
    vars: Vec<(String, String)>,
    /// Helm values above every layer file, like the Argo CD `values` parameter (repeatable):
    /// --set image.tag=v2.
    #[arg(long = "set", value_name = "KEY=VALUE", value_parser = parse_var_arg)]
    set: Vec<(String, String)>,
}

#[derive(Args)]
struct StackArgs {
    /// A directory inside the stack (default: the current directory).
    dir: Option<PathBuf>,
}

#[derive(Args)]
struct LockArgs {
    #[command(flatten)]
    stack: StackArgs,
    /// Re-resolve every entry, also those that still satisfy their constraint.
    #[arg(long)]
    update: bool,
    /// Seconds the whole run may take, downloads included (default: 600).
    #[arg(long, env = "STRATA_TIMEOUT", value_name = "SECONDS")]
    timeout: Option<u64>,
}

#[derive(Args)]
struct PromoteArgs {
    #[command(flatten)]
    stack: StackArgs,
    /// The tenants whose versions to copy (a selector). With --wave/--next, the wave before
    /// the target by default.
    #[arg(long, value_name = "SELECTOR", value_parser = Selector::parse)]
    from: Option<Selector>,
    /// The tenants to move (a selector); the pin's `when` is exactly this.
    #[arg(long, value_name = "SELECTOR", value_parser = Selector::parse, required_unless_present_any = ["wave", "next"], conflicts_with_all = ["wave", "next"])]
    to: Option<Selector>,
    /// Move this wave of rollout.waves to the version the wave before it runs (the first wave
    /// needs --from); the pin is `when: {wave: NAME}`.
    #[arg(long, value_name = "NAME", conflicts_with = "next")]
    wave: Option<String>,
    /// Move the first wave that does not run the version of the wave before it.
    #[arg(long)]
    next: bool,
    /// Only this component.
    #[arg(long)]
    component: Option<String>,
}

#[derive(Subcommand)]
enum CacheCommand {
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

#[derive(Args)]
struct ChartArgs {
    /// Resolve chart versions live from the repositories instead of strata.lock.
    #[arg(long)]
    refresh: bool,
    /// Use only the chart cache; fail instead of making any network request.
    #[arg(long)]
    offline: bool,
}

#[derive(Args)]
struct RenderArgs {
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

/// What every rendering command takes besides the tenant: cluster facts, time budget, cache.
#[derive(Args)]
struct RenderInputArgs {
    /// Kubernetes version for .Capabilities, as Argo CD passes it (e.g. 1.30.11).
    #[arg(long, env = "KUBE_VERSION", hide_env_values = true)]
    kube_version: Option<String>,
    /// API versions for .Capabilities.APIVersions (g/v and g/v/Kind); repeatable, and each
    /// may be a comma-separated list, as with helm: -a monitoring.coreos.com/v1 -a apps/v1.
    #[arg(short = 'a', long, value_name = "LIST")]
    api_versions: Vec<String>,
    /// Seconds one tenant's render may take (default: strata.yaml timeoutSeconds, else 45).
    #[arg(long, env = "STRATA_TIMEOUT", value_name = "SECONDS")]
    timeout: Option<u64>,
    /// Run helm even when the render cache holds the render, and store nothing (also
    /// STRATA_NO_CACHE=1).
    #[arg(long)]
    no_cache: bool,
}

impl RenderInputArgs {
    fn apply(&self, ctx: &mut Context) -> Result<()> {
        ctx.kube_version = self.kube_version.clone().filter(|v| !v.trim().is_empty());
        ctx.api_versions = self
            .api_versions
            .iter()
            .flat_map(|list| split_api_versions(list))
            .collect();
        ctx.timeout = match self.timeout {
            Some(0) => bail!("--timeout must be at least 1 second"),
            t => t.map(std::time::Duration::from_secs),
        };
        ctx.no_cache = self.no_cache
            || argocd::no_cache_requested(std::env::var("STRATA_NO_CACHE").ok().as_deref());
        Ok(())
    }
}

/// `render --all`: the whole fleet into a directory.
#[derive(Args)]
struct FleetArgs {
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

/// Which tenants a fleet command works on.
#[derive(Args)]
struct SelectionArgs {
    /// Only the tenants whose variables match: `env=prod`, `env!=prod`, `region in (den1,yul1)`,
    /// `region notin (yul1)`, joined by commas. Repeatable: conditions on different variables
    /// must all hold, conditions on the same variable are alternatives. A variable no tenant
    /// has, or any other syntax, is an error (exit status 2).
    #[arg(long, value_name = "SELECTOR", value_parser = Selector::parse)]
    selector: Vec<Selector>,
    /// Succeed when no tenant is selected; by default an empty selection is an error.
    #[arg(long)]
    allow_empty: bool,
}

impl SelectionArgs {
    fn selection(&self) -> Selection {
        Selection {
            selector: Selector::all(self.selector.iter().cloned()),
            allow_empty: self.allow_empty,
        }
    }
}

#[derive(Args)]
struct TenantsArgs {
    #[command(flatten)]
    stack: StackArgs,
    #[command(flatten)]
    selection: SelectionArgs,
    /// `table` for people (TENANT, VARS, CHARTS); `json` for scripts, with each variable's
    /// source and each component's chart, constraint, locked version and layer files.
    #[arg(long, value_enum, default_value = "table")]
    format: TenantsFormat,
}

#[derive(Clone, Copy, ValueEnum)]
enum TenantsFormat {
    /// Also accepted as `text`, the name the other commands use for their human format.
    #[value(alias = "text")]
    Table,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum ValuesFormat {
    /// Also accepted as `text`, the name the other commands use for their human format.
    #[value(alias = "text")]
    Yaml,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum ExplainFormat {
    Text,
    Json,
}

#[derive(Args)]
struct ValuesArgs {
    #[command(flatten)]
    tenant: TenantArgs,
    /// Only this component (default: all; keyed by component name when there are several).
    #[arg(long)]
    component: Option<String>,
    #[arg(long, value_enum, default_value = "yaml")]
    format: ValuesFormat,
    /// The computed values helm's templates see (`.Values`): the chart's and subcharts'
    /// defaults coalesced with the layers, as `helm get values --all` prints them. Runs helm.
    #[arg(long)]
    all: bool,
}

#[derive(Args)]
struct AppsetArgs {
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

#[derive(Args)]
struct CheckArgs {
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
    #[command(flatten)]
    render: FleetRenderArgs,
}

#[derive(Clone, Copy, ValueEnum)]
enum CheckFormat {
    Text,
    Json,
}

/// How the fleet commands that render (`check`, `snapshot`) render each tenant.
#[derive(Args)]
struct FleetRenderArgs {
    /// How many tenants render at once (default: one per CPU).
    #[arg(short = 'j', long, value_name = "N", value_parser = parse_jobs)]
    jobs: Option<usize>,
    #[command(flatten)]
    inputs: RenderInputArgs,
}

#[derive(Subcommand)]
enum SnapshotCommand {
    /// Write each selected tenant's rendered manifests into the snapshot directory, and remove
    /// the snapshots of tenants that no longer exist.
    Update(SnapshotArgs),
    /// Render each selected tenant and compare it with its snapshot; list changed, missing and
    /// extra snapshots. Exit status 1 on any difference.
    Verify(SnapshotArgs),
}

#[derive(Args)]
struct SnapshotArgs {
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
struct DiffArgs {
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
    #[command(flatten)]
    inputs: RenderInputArgs,
}

#[derive(Args)]
struct ExplainArgs {
    /// The tenant directory (default: the current directory).
    tenant_dir: Option<PathBuf>,
    /// A dotted key path (image.tag); a map explains every leaf below it. Default: everything.
    key: Option<String>,
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = parse_var_arg)]
    vars: Vec<(String, String)>,
    /// Only this component.
    #[arg(long)]
    component: Option<String>,
    #[arg(long, value_enum, default_value = "text")]
    format: ExplainFormat,
    /// Compare two tenants instead: list every value that differs and the file and line that
    /// set it on each side. The first positional argument is then the key path.
    #[arg(long, num_args = 2, value_names = ["TENANT_A", "TENANT_B"])]
    compare: Option<Vec<PathBuf>>,
}

fn main() -> ExitCode {
    // The work runs on a thread with room for values nested as deep as Helm reads them.
    let worker = std::thread::Builder::new()
        .name("strata".into())
        .stack_size(strata::deep_stack::STACK_BYTES)
        .spawn(work)
        .expect("start the work thread");
    match worker.join() {
        Ok(code) => code,
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

fn work() -> ExitCode {
    let cli = Cli::parse();
    strata::logging::init_with(cli.debug);
    strata::interrupt::install();
    if let Command::Diff(args) = &cli.command {
        return diff_main(args);
    }
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("strata: error: {}", error_text(&e));
            ExitCode::from(if is_usage_error(&e) { 2 } else { 1 })
        }
    }
}

/// A selector that cannot be read, names an unknown variable or selects nothing is a usage
/// error: exit status 2, as for a bad flag, so scripts tell it from a failing check.
fn is_usage_error(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause.downcast_ref::<SelectorError>().is_some()
            || matches!(
                cause.downcast_ref::<strata::Error>(),
                Some(strata::Error::Selector(_))
            )
            || matches!(
                cause.downcast_ref::<appset::AppsetError>(),
                Some(appset::AppsetError::Strata(strata::Error::Selector(_)))
            )
    })
}

/// The most an error message prints: helm's own report of many failing templates fits, a
/// runaway message does not.
const MAX_ERROR_BYTES: usize = 64 * 1024;

/// The text printed for an error: its chain joined, URL userinfo removed and the whole
/// bounded. Every error strata prints goes through here.
fn error_text(e: &anyhow::Error) -> String {
    let text = chain_text(e);
    let text = strata::chart::transport::url::redact_text(&text);
    strata::quote::bounded(&text, MAX_ERROR_BYTES)
}

/// One line of text for an error chain. Library errors already quote their cause, so a cause is
/// appended only when the message does not contain it yet.
fn chain_text(e: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in e.chain() {
        let part = cause.to_string();
        if !text.contains(&part) {
            if !text.is_empty() {
                text.push_str(": ");
            }
            text.push_str(&part);
        }
    }
    text
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Generate => {
            let out = pipeline::render(&argocd_context()?)?;
            write_stdout(&out)
        }
        Command::Init => {
            let ctx = argocd_context()?;
            let resolved = pipeline::resolve(&ctx)?;
            // Reads every layer and manifests file and warms the chart cache, so generate
            // finds every chart locally; only helm does not run.
            pipeline::prepare_inputs(&resolved, &ctx)?;
            eprintln!(
                "strata: {} is valid: tenant {}, {} component(s)",
                resolved.stack.file_name,
                resolved.tenant.shown_dir,
                resolved.components.len()
            );
            Ok(())
        }
        Command::Discover => {
            let found = argocd_context()
                .ok()
                .and_then(|ctx| pipeline::load_stack(&ctx).ok())
                .map(|(_, stack)| stack.file_name + "\n")
                .unwrap_or_default();
            write_stdout(found.as_bytes())
        }
        Command::Parameters => {
            let announcement = parameters::announce(&argocd_context()?)?;
            let mut json = serde_json::to_vec(&announcement)?;
            json.push(b'\n');
            write_stdout(&json)
        }
        Command::Render(args) => {
            let mut ctx = terminal_context(&args.tenant)?;
            ctx.refresh = args.charts.refresh;
            ctx.offline = args.charts.offline;
            args.inputs.apply(&mut ctx)?;
            if args.fleet.all {
                return render_all_command(&ctx, &args.fleet);
            }
            let out = pipeline::render(&ctx)?;
            match args.output {
                Some(path) => write_file_atomically(&path, &out),
                None => write_stdout(&out),
            }
        }
        Command::Tenants(args) => {
            let ctx = stack_context(&args.stack)?;
            let tenants = fleet::list_tenants(&ctx, &args.selection.selection())?;
            let text = match args.format {
                TenantsFormat::Table => fleet::table(&tenants),
                TenantsFormat::Json => serde_json::to_string_pretty(&tenants)? + "\n",
            };
            write_stdout(text.as_bytes())
        }
        Command::Lock(args) => {
            let mut ctx = stack_context(&args.stack)?;
            ctx.timeout = match args.timeout {
                Some(0) => bail!("--timeout must be at least 1 second"),
                t => t.map(std::time::Duration::from_secs),
            };
            let report = lockfile::update_lock(&ctx, args.update)?;
            eprint!("{}", report.summary());
            Ok(())
        }
        Command::Promote(args) => {
            let ctx = stack_context(&args.stack)?;
            let (from, to) = match (args.from, args.to) {
                (Some(from), Some(to)) => (from, to),
                (from, _) => strata::rollout::promotion_selectors(
                    &ctx,
                    args.wave.as_deref(),
                    args.next,
                    from,
                    args.component.as_deref(),
                )?,
            };
            let done = promote::promote(&ctx, &from, &to, args.component.as_deref())?;
            let mut summary = promote::summary(&done, &from, &to);
            summary.extend(strata::rollout::impact_note(&ctx, &to));
            write_stdout(summary.as_bytes())
        }
        Command::Cache(CacheCommand::Ls) => {
            let cache = Cache::from_env();
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
        Command::Cache(CacheCommand::Prune { stack, all }) => {
            let cache = Cache::from_env();
            let keep: Vec<String> = if all {
                Vec::new()
            } else {
                let ctx = stack_context(&stack)?;
                let (root, loaded) = pipeline::load_stack(&ctx)?;
                let path = loaded.dir.join(LOCK_FILE);
                Lock::load(&path, &root.display(&path))?
                    .map(|l| l.entries().iter().map(|e| e.digest.clone()).collect())
                    .unwrap_or_default()
            };
            let removed = cache.prune(&keep)?;
            if all {
                let index = cache.index_dir();
                if index.exists() {
                    std::fs::remove_dir_all(&index)
                        .with_context(|| format!("cannot remove {}", index.display()))?;
                }
                strata::render_cache::RenderCache::new(&cache).clear()?;
            }
            eprintln!(
                "strata: removed {} cached chart(s), kept {}",
                removed.len(),
                keep.len()
            );
            Ok(())
        }
        Command::Values(args) => {
            let ctx = terminal_context(&args.tenant)?;
            let per_component = if args.all {
                computed_values(&ctx, args.component.as_deref())?
            } else {
                merged_values(&ctx, args.component.as_deref())?
            };
            let value = if per_component.len() == 1 {
                per_component.into_values().next().expect("one entry")
            } else {
                serde_json::Value::Object(per_component.into_iter().collect())
            };
            let text = match args.format {
                ValuesFormat::Json => serde_json::to_string_pretty(&value)? + "\n",
                ValuesFormat::Yaml => yaml::to_yaml(&value),
            };
            write_stdout(text.as_bytes())
        }
        Command::Diff(_) => unreachable!("diff has its own exit codes and runs from main"),
        Command::Explain(args) if args.compare.is_some() => compare_command(args),
        Command::Explain(args) => {
            let ctx = terminal_context(&TenantArgs {
                tenant_dir: args.tenant_dir,
                vars: args.vars,
                set: Vec::new(),
            })?;
            explain_command(
                &ctx,
                args.key.as_deref(),
                args.component.as_deref(),
                args.format,
            )
        }
        Command::Appset(args) => appset_command(args),
        Command::Check(args) => check_command(&args),
        Command::Rollout(RolloutCommand::Status { stack, format }) => {
            let status = strata::rollout::status(&stack_context(&stack)?)?;
            let text = match format {
                TenantsFormat::Table => strata::rollout::status_text(&status),
                TenantsFormat::Json => serde_json::to_string_pretty(&status)? + "\n",
            };
            write_stdout(text.as_bytes())
        }
        Command::Completion { shell } => {
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "strata", &mut out);
            write_stdout(&out)
        }
        Command::Man => {
            let mut out = Vec::new();
            clap_mangen::Man::new(Cli::command())
                .render(&mut out)
                .context("cannot render the man page")?;
            write_stdout(&out)
        }
        Command::Snapshot(command) => snapshot_command(command),
    }
}

/// `strata appset`: the ApplicationSet on stdout, or with --check compared with a file.
fn appset_command(args: AppsetArgs) -> Result<()> {
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
    let shown = file.display();
    let committed = match std::fs::read(&file) {
        Ok(bytes) => bytes,
        Err(e) => bail!(
            "{shown} cannot be read ({e}); write it with the same command without --check: strata appset ... > {shown}"
        ),
    };
    if committed == yaml.as_bytes() {
        eprintln!("strata: {shown} is up to date");
        return Ok(());
    }
    let committed = String::from_utf8_lossy(&committed);
    let line = committed
        .lines()
        .zip(yaml.lines())
        .position(|(a, b)| a != b)
        .unwrap_or_else(|| committed.lines().count().min(yaml.lines().count()))
        + 1;
    bail!(
        "{shown} is out of date (first difference at line {line}); regenerate it with the same command without --check: strata appset ... > {shown}"
    )
}

/// `strata check`: the report on stdout, whatever the format; any failure makes the exit
/// status 1.
fn check_command(args: &CheckArgs) -> Result<()> {
    let ctx = fleet_render_context(&args.stack, &args.render)?;
    let options = check::CheckOptions {
        selection: args.selection.selection(),
        kube_schemas: args.schemas.clone(),
        jobs: args.render.jobs.unwrap_or_else(fleet::default_jobs),
        progress: Progress::on_stderr(),
    };
    let mut report = check::run(&ctx, &options)?;
    if let Some(base) = &args.base {
        let diff = strata::diff::run(&strata::diff::DiffOptions {
            dir: ctx.start_dir.clone(),
            base: base.clone(),
            head: None,
            selection: args.selection.selection(),
            ignore: Vec::new(),
            context: ctx.clone(),
            progress: options.progress.clone(),
        })?;
        let broken = strata::rollout::guard_failures(&ctx, &diff)?;
        if args.allow_wide_rollout {
            for f in &broken {
                eprintln!(
                    "strata: warning: allowed by --allow-wide-rollout: {}",
                    f.message
                );
            }
        } else {
            check::add_rollout_failures(&mut report, &diff, broken);
        }
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

/// `strata snapshot update|verify`.
fn snapshot_command(command: SnapshotCommand) -> Result<()> {
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

/// `strata diff` exits like diff(1): 0 when nothing differs, 1 when something does, 2 on error.
fn diff_main(args: &DiffArgs) -> ExitCode {
    match diff_command(args) {
        Ok(false) => ExitCode::SUCCESS,
        Ok(true) => ExitCode::from(1),
        Err(e) => {
            eprintln!("strata: error: {}", error_text(&e));
            ExitCode::from(2)
        }
    }
}

/// Runs the comparison and prints it; `Ok(true)` when something differs.
fn diff_command(args: &DiffArgs) -> Result<bool> {
    use strata::diff::{self, report};
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
    };
    let result = diff::run(&options)?;
    match (args.format, &args.out_dir) {
        (DiffFormat::Text, _) => {
            let style = Style::for_stream(Stream::Stdout);
            write_stdout(report::text::render(&result, style).as_bytes())?;
        }
        (DiffFormat::Json, _) => write_stdout(report::json::render(&result).as_bytes())?,
        (DiffFormat::Markdown, None) => {
            let parts = report::markdown::render(&result);
            write_stdout(report::markdown::join(&parts).as_bytes())?;
        }
        (DiffFormat::Markdown, Some(dir)) => {
            let parts = report::markdown::render(&result);
            let written = report::markdown::write_parts(dir, &parts)
                .with_context(|| format!("cannot write the parts into {}", dir.display()))?;
            for path in written {
                eprintln!("strata: wrote {}", path.display());
            }
        }
    }
    Ok(result.has_changes())
}

/// `render --all`: progress on a terminal only (a log or CI capture would fill with it), then
/// the summary; any failed tenant makes the exit code 1.
fn render_all_command(ctx: &Context, args: &FleetArgs) -> Result<()> {
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

/// `-j N`: how many tenants at once; 0 would render nothing.
fn parse_jobs(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("expected a number of tenants, 1 or more: {text:?}")),
    }
}

/// The context of a plugin command: Argo CD's environment and the app path as cwd.
fn argocd_context() -> Result<Context> {
    let cwd = std::env::current_dir().context("cannot read the working directory")?;
    let env = argocd::env_from(std::env::vars_os())?;
    Ok(argocd::context_from_env(cwd, &env)?)
}

/// The context of a stack-wide command.
fn stack_context(args: &StackArgs) -> Result<Context> {
    terminal_context(&TenantArgs {
        tenant_dir: args.dir.clone(),
        vars: Vec::new(),
        set: Vec::new(),
    })
}

/// The context of a fleet command that renders: the stack's, with the cluster facts and the
/// cache setting that `render` also takes.
fn fleet_render_context(stack: &StackArgs, render: &FleetRenderArgs) -> Result<Context> {
    let mut ctx = stack_context(stack)?;
    render.inputs.apply(&mut ctx)?;
    Ok(ctx)
}

/// The context of a terminal command: arguments instead of Argo CD's environment.
fn terminal_context(args: &TenantArgs) -> Result<Context> {
    let start_dir = match &args.tenant_dir {
        Some(dir) => dir.clone(),
        None => std::env::current_dir().context("cannot read the working directory")?,
    };
    let mut ctx = Context {
        start_dir,
        helm: strata::render::helm::configured_binary(|name| std::env::var(name).ok()),
        ..Context::default()
    };
    for (name, value) in &args.vars {
        ctx.vars.push((
            name.clone(),
            Var {
                value: value.clone(),
                source: VarSource::Cli,
            },
        ));
    }
    if !args.set.is_empty() {
        ctx.parameter_values.map = Some(args.set.iter().cloned().collect());
    }
    Ok(ctx)
}

fn merged_values(ctx: &Context, only: Option<&str>) -> Result<BTreeMap<String, serde_json::Value>> {
    let resolved = pipeline::resolve(ctx)?;
    let mut out = BTreeMap::new();
    for component in select(&resolved, only)? {
        let values = pipeline::component_values(component, ctx)?;
        out.insert(component.name.clone(), values.merged.to_json());
    }
    Ok(out)
}

fn computed_values(
    ctx: &Context,
    only: Option<&str>,
) -> Result<BTreeMap<String, serde_json::Value>> {
    let resolved = pipeline::resolve(ctx)?;
    let wanted: Vec<String> = select(&resolved, only)?
        .iter()
        .map(|c| c.name.clone())
        .collect();
    Ok(strata::inspect::computed_values(&resolved, ctx)?
        .into_iter()
        .filter(|(name, _)| wanted.contains(name))
        .filter_map(|(name, values)| Some((name, values?)))
        .collect())
}

/// `strata explain --compare A B [KEY]`.
fn compare_command(args: ExplainArgs) -> Result<()> {
    let dirs = args.compare.expect("checked by the caller");
    // With --compare both tenants are options, so the one positional is the key.
    let key = args
        .key
        .or_else(|| args.tenant_dir.map(|p| p.to_string_lossy().into_owned()));
    let path = key.as_deref().map(split_key_path).unwrap_or_default();
    let mut sides = Vec::new();
    for dir in &dirs {
        let ctx = terminal_context(&TenantArgs {
            tenant_dir: Some(dir.clone()),
            vars: args.vars.clone(),
            set: Vec::new(),
        })?;
        let resolved = pipeline::resolve(&ctx)?;
        let mut explained = strata::inspect::explained(&resolved, &ctx)?;
        if let Some(only) = args.component.as_deref() {
            select(&resolved, Some(only))?;
            explained.retain(|e| e.component == only);
        }
        sides.push((resolved.tenant.shown_dir.clone(), explained));
    }
    let several = sides.iter().any(|(_, e)| e.len() > 1);
    let differences = strata::inspect::compare(&sides[0].1, &sides[1].1, &path);
    let text = match args.format {
        ExplainFormat::Json => {
            serde_json::to_string_pretty(&serde_json::json!({
                "a": sides[0].0,
                "b": sides[1].0,
                "differences": differences,
            }))? + "\n"
        }
        ExplainFormat::Text if differences.is_empty() => format!(
            "{} and {} have the same values{}\n",
            sides[0].0,
            sides[1].0,
            key.map(|k| format!(" under {k}")).unwrap_or_default()
        ),
        ExplainFormat::Text => {
            strata::inspect::compare_text(&differences, &sides[0].0, &sides[1].0, several)
        }
    };
    write_stdout(text.as_bytes())
}

fn select<'a>(
    resolved: &'a pipeline::Resolved,
    only: Option<&str>,
) -> Result<Vec<&'a strata::plan::ComponentPlan>> {
    let all: Vec<_> = resolved.components.iter().collect();
    match only {
        None => Ok(all),
        Some(name) => match all.iter().find(|c| c.name == name) {
            Some(c) => Ok(vec![*c]),
            None => bail!(
                "{} has no component {name:?}; components: {}",
                resolved.stack.file_name,
                all.iter()
                    .map(|c| c.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        },
    }
}

fn explain_command(
    ctx: &Context,
    key: Option<&str>,
    only: Option<&str>,
    format: ExplainFormat,
) -> Result<()> {
    let resolved = pipeline::resolve(ctx)?;
    let path = key.map(split_key_path).unwrap_or_default();
    let components = select(&resolved, only)?;
    let choices = pipeline::chart_choices(&resolved, ctx)?;
    let mut found = BTreeMap::new();
    let mut chart_names = BTreeMap::new();
    let mut patch_lines: BTreeMap<String, String> = BTreeMap::new();
    for values in strata::inspect::explained(&resolved, ctx)? {
        if !components.iter().any(|c| c.name == values.component) {
            continue;
        }
        let patches: String = values
            .patches
            .iter()
            .map(|p| {
                format!(
                    "# patched after helm by {} ({} on {})\n",
                    p.at,
                    p.kind_name(),
                    p.target
                )
            })
            .collect();
        patch_lines.insert(values.component.clone(), patches);
        if let Some(list) = explain::explain(&values.merged, &values.layers, &path) {
            if let Some(chart) = values.chart {
                chart_names.insert(values.component.clone(), chart);
            }
            found.insert(values.component, list);
        }
    }
    if found.is_empty() && !path.is_empty() {
        bail!(
            "neither the chart nor any layer of tenant {} sets {}; `strata values --all {}` lists what is set",
            resolved.tenant.shown_dir,
            join_key_path(&path),
            resolved.tenant.shown_dir
        );
    }
    let text = match format {
        ExplainFormat::Json => serde_json::to_string_pretty(&found)? + "\n",
        ExplainFormat::Text => {
            let several = components.len() > 1;
            let mut out = String::new();
            for (name, list) in &found {
                if several {
                    out.push_str(&format!("# component {name}\n"));
                }
                let index = resolved.components.iter().position(|c| &c.name == name);
                if let Some(Some(choice)) = index.map(|i| &choices[i]) {
                    let version = match &choice.version {
                        Ok(v) => v.clone(),
                        Err(e) => format!("not locked: {e}"),
                    };
                    out.push_str(&format!(
                        "# chart {} {:?} → {version}, chosen by {}\n",
                        choice.chart, choice.constraint, choice.chosen_by
                    ));
                } else if let Some(chart) = chart_names.get(name) {
                    out.push_str(&format!("# chart {chart}\n"));
                }
                if let Some(lines) = patch_lines.get(name) {
                    out.push_str(lines);
                }
                out.push_str(&explain::to_text(list));
            }
            out
        }
    };
    write_stdout(text.as_bytes())
}

fn write_stdout(bytes: &[u8]) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(bytes)
        .and_then(|()| stdout.flush())
        .context("cannot write to stdout")
}

/// An output file gets the permissions the shell would give it (0666 less the umask), like
/// `render --all`.
fn write_file_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    strata::atomic_file::write(path, bytes, strata::atomic_file::Access::Ordinary)?;
    Ok(())
}
