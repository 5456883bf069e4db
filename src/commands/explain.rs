//! `strata explain`: which file and line set each value; with --compare, how two tenants
//! differ.

use super::args::{TenantArgs, terminal_context};
use super::output::write_stdout;
use anyhow::Result;
use clap::{Args, ValueEnum};
use std::path::PathBuf;
use strata::context::parse_var_arg;
use strata::inspect::report;

#[derive(Clone, Copy, ValueEnum)]
enum ExplainFormat {
    Text,
    Json,
}

#[derive(Args)]
pub struct ExplainArgs {
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

pub fn exec(args: ExplainArgs) -> Result<()> {
    if let Some(dirs) = &args.compare {
        return compare(dirs, &args);
    }
    let ctx = terminal_context(&TenantArgs {
        tenant_dir: args.tenant_dir,
        vars: args.vars,
        set: Vec::new(),
    })?;
    let found = report::explain_tenant(&ctx, args.key.as_deref(), args.component.as_deref())?;
    let text = match args.format {
        ExplainFormat::Json => serde_json::to_string_pretty(&found.found)? + "\n",
        ExplainFormat::Text => found.text(),
    };
    write_stdout(text.as_bytes())
}

/// `strata explain --compare A B [KEY]`.
fn compare(dirs: &[PathBuf], args: &ExplainArgs) -> Result<()> {
    // With --compare both tenants are options, so the one positional is the key.
    let key = args.key.clone().or_else(|| {
        args.tenant_dir
            .as_ref()
            .map(|p| p.to_string_lossy().into_owned())
    });
    let mut sides = Vec::new();
    for dir in dirs {
        sides.push(terminal_context(&TenantArgs {
            tenant_dir: Some(dir.clone()),
            vars: args.vars.clone(),
            set: Vec::new(),
        })?);
    }
    let comparison = report::compare_tenants(
        [&sides[0], &sides[1]],
        key.as_deref(),
        args.component.as_deref(),
    )?;
    let text = match args.format {
        ExplainFormat::Json => {
            serde_json::to_string_pretty(&serde_json::json!({
                "a": comparison.a,
                "b": comparison.b,
                "differences": comparison.differences,
            }))? + "\n"
        }
        ExplainFormat::Text => comparison.text(),
    };
    write_stdout(text.as_bytes())
}
