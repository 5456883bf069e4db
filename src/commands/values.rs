//! `strata values`: a tenant's merged values, as helm receives them.

use super::args::{TenantArgs, terminal_context};
use super::output::write_stdout;
use anyhow::Result;
use clap::{Args, ValueEnum};
use strata::inspect::report;
use strata::yaml;

#[derive(Clone, Copy, ValueEnum)]
enum ValuesFormat {
    /// Also accepted as `text`, the name the other commands use for their human format.
    #[value(alias = "text")]
    Yaml,
    Json,
}

#[derive(Args)]
pub struct ValuesArgs {
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

pub fn exec(args: ValuesArgs) -> Result<()> {
    let ctx = terminal_context(&args.tenant)?;
    let value = report::values(&ctx, args.component.as_deref(), args.all)?;
    let text = match args.format {
        ValuesFormat::Json => serde_json::to_string_pretty(&value)? + "\n",
        ValuesFormat::Yaml => yaml::to_yaml(&value),
    };
    write_stdout(text.as_bytes())
}
