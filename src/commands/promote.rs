//! `strata promote`: pin one set of tenants to the chart versions another set runs.

use super::args::{StackArgs, stack_context};
use super::output::write_stdout;
use anyhow::Result;
use clap::Args;
use strata::selector::Selector;
use strata::{promote, rollout};

#[derive(Args)]
pub struct PromoteArgs {
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

pub fn exec(args: PromoteArgs) -> Result<()> {
    let ctx = stack_context(&args.stack)?;
    let (from, to) = match (args.from, args.to) {
        (Some(from), Some(to)) => (from, to),
        (from, _) => rollout::promotion_selectors(
            &ctx,
            args.wave.as_deref(),
            args.next,
            from,
            args.component.as_deref(),
        )?,
    };
    let done = promote::promote(&ctx, &from, &to, args.component.as_deref())?;
    let mut summary = promote::summary(&done, &from, &to);
    summary.extend(rollout::impact_note(&ctx, &to));
    write_stdout(summary.as_bytes())
}
