//! The command line: parses arguments, runs one command (`commands/<name>.rs`), and turns
//! an error into one message on stderr and an exit status. No logic of its own lives here.

// Every byte of stdout goes through `commands::output::write_stdout`, which treats a closed
// pipe as the end of the output; `print!` would panic on one instead.
#![deny(clippy::print_stdout)]

mod commands;

use clap::Parser;
use commands::Command;
use std::process::ExitCode;
use strata::appset;
use strata::selector::SelectorError;

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
  STRATA_RENDERER   helm, native or auto: what renders every chart, over strata.yaml's
                    `renderer` (default: helm)
  STRATA_LOG        log level for strata's own messages on stderr: error, warn (default),
                    info, debug, trace, or a tracing filter
  STRATA_CACHE_DIR  the shared chart and render cache (default: $XDG_CACHE_HOME/strata,
                    else ~/.cache/strata)
  STRATA_TIMEOUT    seconds one tenant's render may take
  STRATA_NO_CACHE   1 to bypass the render cache";

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
    // `strata diff` exits like diff(1): 0 when nothing differs, 1 when something does, 2 on
    // error.
    let diff = matches!(cli.command, Command::Diff(_));
    match commands::exec(cli.command) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("strata: error: {}", error_text(&e));
            ExitCode::from(if diff || is_usage_error(&e) { 2 } else { 1 })
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
