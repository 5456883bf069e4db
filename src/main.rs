//! The command line: parses arguments, builds a context, calls the library, prints.
//! No logic of its own lives here.

use anyhow::{Context as _, Result, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use strata::context::{Context, Var, VarSource, parse_var_arg, split_api_versions};
use strata::values::explain::{self, join_key_path};
use strata::values::split_key_path;
use strata::{argocd, parameters, pipeline, yaml};

/// Layered, provenance-tracked Helm values for one Argo CD Application per tenant.
///
/// strata finds the stack (strata.yaml) above a tenant directory, merges the tenant's value
/// layers with Helm's own rules, remembering which file and line set each value, and renders
/// with the real `helm template`.
#[derive(Parser)]
#[command(name = "strata", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

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
    Render(RenderArgs),
    /// Print a tenant's merged values, as helm receives them.
    Values(ValuesArgs),
    /// Show which file and line set each value, and which lower layers it overrode.
    Explain(ExplainArgs),
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
struct RenderArgs {
    #[command(flatten)]
    tenant: TenantArgs,
    /// Write the manifests to FILE (only when the whole render succeeds) instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
    /// Kubernetes version for .Capabilities, as Argo CD passes it (e.g. 1.30.11).
    #[arg(long, env = "KUBE_VERSION", hide_env_values = true)]
    kube_version: Option<String>,
    /// Comma-separated API versions for .Capabilities.APIVersions (g/v and g/v/Kind).
    #[arg(long, value_name = "LIST")]
    api_versions: Option<String>,
    /// Seconds helm may run per component (default: strata.yaml timeoutSeconds, else 45).
    #[arg(long, env = "STRATA_TIMEOUT", value_name = "SECONDS")]
    timeout: Option<u64>,
}

#[derive(Clone, Copy, ValueEnum)]
enum ValuesFormat {
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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("strata: error: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("STRATA_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(std::io::stderr().is_terminal())
        .without_time()
        .init();
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
            for component in &resolved.components {
                pipeline::component_values(component, &ctx)?;
            }
            eprintln!(
                "strata: {} is valid: tenant {}, {} component(s)",
                resolved.stack.file_name,
                resolved.tenant.shown_dir,
                resolved.components.len()
            );
            Ok(())
        }
        Command::Discover => {
            let found = pipeline::load_stack(&argocd_context()?)
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
            ctx.kube_version = args.kube_version.filter(|v| !v.trim().is_empty());
            ctx.api_versions = args
                .api_versions
                .as_deref()
                .map(split_api_versions)
                .unwrap_or_default();
            ctx.timeout = match args.timeout {
                Some(0) => bail!("--timeout must be at least 1 second"),
                t => t.map(std::time::Duration::from_secs),
            };
            let out = pipeline::render(&ctx)?;
            match args.output {
                Some(path) => write_file_atomically(&path, &out),
                None => write_stdout(&out),
            }
        }
        Command::Values(args) => {
            let ctx = terminal_context(&args.tenant)?;
            let per_component = merged_values(&ctx, args.component.as_deref())?;
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
    }
}

/// The context of a plugin command: Argo CD's environment and the app path as cwd.
fn argocd_context() -> Result<Context> {
    let cwd = std::env::current_dir().context("cannot read the working directory")?;
    let env: BTreeMap<String, String> = std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect();
    Ok(argocd::context_from_env(cwd, &env)?)
}

/// The context of a terminal command: arguments instead of Argo CD's environment.
fn terminal_context(args: &TenantArgs) -> Result<Context> {
    let start_dir = match &args.tenant_dir {
        Some(dir) => dir.clone(),
        None => std::env::current_dir().context("cannot read the working directory")?,
    };
    let mut ctx = Context {
        start_dir,
        helm: std::env::var_os("STRATA_HELM")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from),
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
    let mut found = BTreeMap::new();
    for component in &components {
        let values = pipeline::component_values(component, ctx)?;
        if let Some(list) = explain::explain(&values.merged, &values.layers, &path) {
            found.insert(component.name.clone(), list);
        }
    }
    if found.is_empty() && !path.is_empty() {
        bail!(
            "no layer of tenant {} sets {}; `strata values {}` lists what is set",
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

fn write_file_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot write {}", path.display()))?;
    tmp.write_all(bytes)
        .with_context(|| format!("cannot write {}", path.display()))?;
    tmp.persist(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
