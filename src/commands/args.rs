//! Argument groups several commands share, and the library `Context` each kind of command
//! builds from them: Argo CD's environment for the plugin commands, arguments for the others.

use anyhow::{Context as _, Result, bail};
use clap::{Args, ValueEnum};
use std::path::PathBuf;
use strata::argocd;
use strata::context::{Context, Var, VarSource, parse_var_arg, split_api_versions};
use strata::selector::{Selection, Selector};

#[derive(Args)]
pub struct TenantArgs {
    /// The tenant directory (default: the current directory). At the stack root, the tenant's
    /// variables (e.g. --var env=prod --var tenant=acme) select it.
    pub tenant_dir: Option<PathBuf>,
    /// Set a variable, above every other source (repeatable): --var region=yul1.
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = parse_var_arg)]
    pub vars: Vec<(String, String)>,
    /// Helm values above every layer file, like the Argo CD `values` parameter (repeatable):
    /// --set image.tag=v2.
    #[arg(long = "set", value_name = "KEY=VALUE", value_parser = parse_var_arg)]
    pub set: Vec<(String, String)>,
}

#[derive(Args)]
pub struct StackArgs {
    /// A directory inside the stack (default: the current directory).
    pub dir: Option<PathBuf>,
}

#[derive(Args)]
pub struct ChartArgs {
    /// Resolve chart versions live from the repositories instead of strata.lock.
    #[arg(long)]
    pub refresh: bool,
    /// Use only the chart cache; fail instead of making any network request.
    #[arg(long)]
    pub offline: bool,
}

/// What every rendering command takes besides the tenant: cluster facts, time budget, cache.
#[derive(Args)]
pub struct RenderInputArgs {
    /// Kubernetes version for .Capabilities, as Argo CD passes it (e.g. 1.30.11).
    #[arg(long, env = "KUBE_VERSION", hide_env_values = true)]
    pub kube_version: Option<String>,
    /// API versions for .Capabilities.APIVersions (g/v and g/v/Kind); repeatable, and each
    /// may be a comma-separated list, as with helm: -a monitoring.coreos.com/v1 -a apps/v1.
    #[arg(short = 'a', long, value_name = "LIST")]
    pub api_versions: Vec<String>,
    /// Seconds one tenant's render may take (default: strata.yaml timeoutSeconds, else 45).
    #[arg(long, env = "STRATA_TIMEOUT", value_name = "SECONDS")]
    pub timeout: Option<u64>,
    /// Run helm even when the render cache holds the render, and store nothing (also
    /// STRATA_NO_CACHE=1).
    #[arg(long)]
    pub no_cache: bool,
}

impl RenderInputArgs {
    pub fn apply(&self, ctx: &mut Context) -> Result<()> {
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

/// Which tenants a fleet command works on.
#[derive(Args)]
pub struct SelectionArgs {
    /// Only the tenants whose variables match: `env=prod`, `env!=prod`, `region in (den1,yul1)`,
    /// `region notin (yul1)`, joined by commas. Repeatable: conditions on different variables
    /// must all hold, conditions on the same variable are alternatives. A variable no tenant
    /// has, or any other syntax, is an error (exit status 2).
    #[arg(long, value_name = "SELECTOR", value_parser = Selector::parse)]
    pub selector: Vec<Selector>,
    /// Succeed when no tenant is selected; by default an empty selection is an error.
    #[arg(long)]
    pub allow_empty: bool,
}

impl SelectionArgs {
    pub fn selection(&self) -> Selection {
        Selection {
            selector: Selector::all(self.selector.iter().cloned()),
            allow_empty: self.allow_empty,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
pub enum TenantsFormat {
    /// Also accepted as `text`, the name the other commands use for their human format.
    #[value(alias = "text")]
    Table,
    Json,
}

/// How the fleet commands that render (`check`, `snapshot`) render each tenant.
#[derive(Args)]
pub struct FleetRenderArgs {
    /// How many tenants render at once (default: one per CPU).
    #[arg(short = 'j', long, value_name = "N", value_parser = parse_jobs)]
    pub jobs: Option<usize>,
    #[command(flatten)]
    pub inputs: RenderInputArgs,
}

/// `-j N`: how many tenants at once; 0 would render nothing.
pub fn parse_jobs(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("expected a number of tenants, 1 or more: {text:?}")),
    }
}

/// The context of a plugin command: Argo CD's environment and the app path as cwd.
pub fn argocd_context() -> Result<Context> {
    let cwd = std::env::current_dir().context("cannot read the working directory")?;
    let env = argocd::env_from(std::env::vars_os())?;
    Ok(argocd::context_from_env(cwd, &env)?)
}

/// The context of a stack-wide command.
pub fn stack_context(args: &StackArgs) -> Result<Context> {
    terminal_context(&TenantArgs {
        tenant_dir: args.dir.clone(),
        vars: Vec::new(),
        set: Vec::new(),
    })
}

/// The context of a fleet command that renders: the stack's, with the cluster facts and the
/// cache setting that `render` also takes.
pub fn fleet_render_context(stack: &StackArgs, render: &FleetRenderArgs) -> Result<Context> {
    let mut ctx = stack_context(stack)?;
    render.inputs.apply(&mut ctx)?;
    Ok(ctx)
}

/// The context of a terminal command: arguments instead of Argo CD's environment.
pub fn terminal_context(args: &TenantArgs) -> Result<Context> {
    let start_dir = match &args.tenant_dir {
        Some(dir) => dir.clone(),
        None => std::env::current_dir().context("cannot read the working directory")?,
    };
    let mut ctx = Context {
        start_dir,
        helm: strata::context::configured_binary(|name| std::env::var(name).ok()),
        renderer: strata::context::configured_renderer(|name| std::env::var(name).ok())
            .map_err(anyhow::Error::msg)?,
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
