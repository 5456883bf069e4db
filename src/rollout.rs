//! Rolling a change out in waves: `rollout.waves` in strata.yaml names ordered groups of
//! tenants (canaries, then one region, then the rest), every tenant in exactly one; the wave
//! is a tenant variable (`wave`), so pins (`when: {wave: canary}`) and layers
//! (`values/waves/{{wave}}.yaml?`) can stage a change one wave at a time.
//!
//! [`status`] says which wave runs which chart version, what is pending and which tenants a
//! more specific pin keeps off their wave's version; [`next_wave`] finds where a promotion
//! goes next; [`guard_failures`] is the `strata check --base` policy that refuses a change
//! restarting pods in too many tenants or waves at once, or a chart version that reaches a
//! wave before the waves ahead of it.

pub use crate::config::rollout::{GuardSpec, RolloutSpec, WAVE_VAR, WaveSpec, check_spec};
pub use crate::tenant::assign_wave;

use crate::Error;
use crate::config::Stack;
use crate::context::Context;
use crate::diff::DiffReport;
use crate::diff::impact::ImpactKind;
use crate::pipeline;
use crate::selector::Selector;
use serde::Serialize;
use std::collections::BTreeMap;

/// The waves in order; empty without `rollout.waves`.
pub fn wave_names(stack: &Stack) -> Vec<String> {
    stack
        .spec
        .rollout
        .iter()
        .flat_map(|r| &r.waves)
        .map(|w| w.name.value.clone())
        .collect()
}

/// One wave of one component.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WaveVersion {
    pub wave: String,
    /// The version most of the wave's tenants run; `None` when none is locked.
    pub version: Option<String>,
    pub tenants: usize,
    /// The version of the first wave, when this wave does not run it yet.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending: Option<String>,
}

/// A tenant that runs another version than its wave, and the setting that keeps it there.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Drift {
    pub tenant: String,
    pub wave: String,
    pub version: String,
    pub wave_version: String,
    pub chosen_by: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ComponentStatus {
    pub component: String,
    pub chart: String,
    pub waves: Vec<WaveVersion>,
    pub drift: Vec<Drift>,
}

/// Version → the tenants running it, each with the setting that chose its constraint.
type VersionTenants = BTreeMap<String, Vec<(String, String)>>;

/// Wave → its [`VersionTenants`].
type ByWave<'w> = BTreeMap<&'w str, VersionTenants>;

/// Which wave runs which version of every versioned component, from pins and strata.lock.
pub fn status(ctx: &Context) -> Result<Vec<ComponentStatus>, Error> {
    let (_, stack) = pipeline::load_stack(ctx)?;
    let waves = wave_names(&stack);
    if waves.is_empty() {
        return Err(Error::Input(format!(
            "{} has no rollout.waves; add the waves (docs/config.md#rollout) to roll changes out in waves",
            stack.file_name
        )));
    }
    let tenants = pipeline::resolve_every_tenant(ctx, &stack)?;
    let mut out = Vec::new();
    for spec in &stack.spec.components.value {
        let name = &spec.name.value;
        let Some((chart, by_wave)) = versions_by_wave(ctx, &tenants, &waves, name)? else {
            continue;
        };
        let (waves, drift) = wave_rows(&waves, &by_wave);
        out.push(ComponentStatus {
            component: name.clone(),
            chart,
            waves,
            drift,
        });
    }
    Ok(out)
}

/// The chart of component `name` and, per wave, which version runs in which tenants; `None`
/// when no tenant has the component with a chart.
fn versions_by_wave<'w>(
    ctx: &Context,
    tenants: &[pipeline::Resolved],
    waves: &'w [String],
    name: &str,
) -> Result<Option<(String, ByWave<'w>)>, Error> {
    // wave → version → (tenant, chosen_by)
    let mut by_wave: ByWave = BTreeMap::new();
    let mut chart = None;
    for t in tenants {
        let Some(index) = t.components.iter().position(|c| c.name == name) else {
            continue;
        };
        let choices = pipeline::chart_choices(t, ctx)?;
        let Some(Some(choice)) = choices.into_iter().nth(index) else {
            continue;
        };
        chart.get_or_insert_with(|| choice.chart.clone());
        let version = choice
            .version
            .unwrap_or_else(|_| format!("{} (not locked)", choice.constraint));
        let wave = t.tenant.vars.get(WAVE_VAR).map_or("", |v| v.value.as_str());
        let wave = waves.iter().find(|w| *w == wave).map_or("", String::as_str);
        by_wave
            .entry(wave)
            .or_default()
            .entry(version)
            .or_default()
            .push((t.tenant.shown_dir.clone(), choice.chosen_by.clone()));
    }
    Ok(chart.map(|chart| (chart, by_wave)))
}

/// One row per wave with the version most of its tenants run, the tenants that run another,
/// and the first wave's version marked pending where a wave does not run it yet.
fn wave_rows(waves: &[String], by_wave: &ByWave) -> (Vec<WaveVersion>, Vec<Drift>) {
    let mut rows = Vec::new();
    let mut drift = Vec::new();
    for wave in waves {
        let versions = by_wave.get(wave.as_str());
        let majority = versions.and_then(majority_version);
        for (version, tenants) in versions.into_iter().flatten() {
            if Some(version) != majority.as_ref() {
                for (tenant, chosen_by) in tenants {
                    drift.push(Drift {
                        tenant: tenant.clone(),
                        wave: wave.clone(),
                        version: version.clone(),
                        wave_version: majority.clone().unwrap_or_default(),
                        chosen_by: chosen_by.clone(),
                    });
                }
            }
        }
        rows.push(WaveVersion {
            wave: wave.clone(),
            version: majority,
            tenants: versions.map_or(0, |v| v.values().map(Vec::len).sum()),
            pending: None,
        });
    }
    let first = rows.iter().find_map(|r| r.version.clone());
    for row in &mut rows {
        if row.tenants > 0 && row.version != first {
            row.pending = first.clone();
        }
    }
    (rows, drift)
}

/// The version most of a wave's tenants run: the wave's version.
fn majority_version(versions: &VersionTenants) -> Option<String> {
    versions
        .iter()
        // A tie goes to the newer version: the one the wave is moving to.
        .max_by(|a, b| {
            a.1.len().cmp(&b.1.len()).then_with(|| {
                if newer(a.0, Some(b.0)) {
                    std::cmp::Ordering::Greater
                } else if newer(b.0, Some(a.0)) {
                    std::cmp::Ordering::Less
                } else {
                    b.0.cmp(a.0)
                }
            })
        })
        .map(|(version, _)| version.clone())
}

/// `strata rollout status` as a table, then the drift.
pub fn status_text(status: &[ComponentStatus]) -> String {
    let mut rows = vec![[
        "COMPONENT".to_owned(),
        "WAVE".to_owned(),
        "VERSION".to_owned(),
        "TENANTS".to_owned(),
        "PENDING".to_owned(),
    ]];
    for c in status {
        for w in &c.waves {
            rows.push([
                c.component.clone(),
                w.wave.clone(),
                w.version.clone().unwrap_or_else(|| "-".into()),
                w.tenants.to_string(),
                w.pending
                    .as_ref()
                    .map(|p| format!("→ {p}"))
                    .unwrap_or_default(),
            ]);
        }
    }
    let width = |i: usize| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0);
    let widths: Vec<usize> = (0..4).map(width).collect();
    let mut out = String::new();
    for r in &rows {
        let line = format!(
            "{:<w0$}  {:<w1$}  {:<w2$}  {:<w3$}  {}",
            r[0],
            r[1],
            r[2],
            r[3],
            r[4],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2],
            w3 = widths[3]
        );
        out.push_str(line.trim_end());
        out.push('\n');
    }
    for c in status {
        for d in &c.drift {
            out.push_str(&format!(
                "drift: {} runs {} {} in wave {}, which runs {} ({})\n",
                d.tenant, c.component, d.version, d.wave, d.wave_version, d.chosen_by
            ));
        }
    }
    out
}

/// The wave `--next` promotes to: the first wave (after the first) whose version of the
/// component differs from the wave before it, with that earlier wave.
pub fn next_wave(
    status: &[ComponentStatus],
    component: Option<&str>,
) -> Result<(String, String), Error> {
    for c in status
        .iter()
        .filter(|c| component.is_none_or(|n| n == c.component))
    {
        let waves: Vec<&WaveVersion> = c.waves.iter().filter(|w| w.tenants > 0).collect();
        for pair in waves.windows(2) {
            if pair[0].version != pair[1].version {
                return Ok((pair[0].wave.clone(), pair[1].wave.clone()));
            }
        }
    }
    Err(Error::Input(
        "nothing to promote: every wave runs the version of the wave before it".into(),
    ))
}

/// The selector of a wave's tenants.
pub fn wave_selector(wave: &str) -> Selector {
    Selector::from_equalities([(WAVE_VAR, wave)])
}

/// The wave before `wave`, `None` for the first; an error for a wave the stack lacks.
pub fn previous_wave(stack: &Stack, wave: &str) -> Result<Option<String>, Error> {
    let names = wave_names(stack);
    match names.iter().position(|w| w == wave) {
        Some(0) => Ok(None),
        Some(i) => Ok(Some(names[i - 1].clone())),
        None => Err(Error::Input(format!(
            "{} rollout.waves has no wave {wave:?}; waves: {}",
            stack.file_name,
            names.join(", ")
        ))),
    }
}

/// One guard a change breaks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GuardFailure {
    pub message: String,
}

/// The guards of `rollout.guards` that the change from `report.base` to the stack at `ctx`
/// breaks: restarts in too many tenants or waves, or a chart version ahead of earlier waves.
pub fn guard_failures(ctx: &Context, report: &DiffReport) -> Result<Vec<GuardFailure>, Error> {
    let (_, stack) = pipeline::load_stack(ctx)?;
    let Some(spec) = &stack.spec.rollout else {
        return Ok(Vec::new());
    };
    let mut failures = Vec::new();
    let mut status_cache: Option<Vec<ComponentStatus>> = None;
    for (i, guard) in spec.guards.iter().enumerate() {
        let at = format!("{} rollout.guards[{i}]", stack.file_name);
        let scope = if guard.when.is_empty() {
            "tenants".to_owned()
        } else {
            format!("tenants matching {}", guard.when.0)
        };
        let restarting: Vec<&crate::diff::TenantDiff> = report
            .tenants
            .iter()
            .filter(|t| t.impact.iter().any(|i| i.kind == ImpactKind::Restart))
            .filter(|t| guard.when.matches_values(&t.vars))
            .collect();
        if let Some(max) = guard.max_tenants
            && restarting.len() > max
        {
            failures.push(GuardFailure {
                message: format!(
                    "the change restarts pods in {} {scope}; {at} allows {max}: roll it out in waves (a pin or a layer per wave), or pass --allow-wide-rollout",
                    restarting.len()
                ),
            });
        }
        if let Some(max) = guard.max_waves {
            let mut waves: Vec<&str> = restarting
                .iter()
                .filter_map(|t| t.vars.get(WAVE_VAR).map(String::as_str))
                .collect();
            waves.sort();
            waves.dedup();
            if waves.len() > max {
                failures.push(GuardFailure {
                    message: format!(
                        "the change restarts pods of {scope} in {} waves ({}); {at} allows {max}: roll it out one wave at a time, or pass --allow-wide-rollout",
                        waves.len(),
                        waves.join(", ")
                    ),
                });
            }
        }
        if guard.canaries_first {
            if status_cache.is_none() {
                status_cache = Some(status(ctx)?);
            }
            for c in status_cache.iter().flatten() {
                let mut ahead: Option<&WaveVersion> = None;
                for w in c.waves.iter().filter(|w| w.tenants > 0) {
                    if let (Some(prev), Some(version)) = (ahead, &w.version)
                        && newer(version, prev.version.as_deref())
                        && wave_in_scope(&stack, &w.wave, guard)
                    {
                        failures.push(GuardFailure {
                            message: format!(
                                "wave {} runs {} {version} before wave {} does (it runs {}); {at} wants every earlier wave first: promote with `strata promote --next`, or pass --allow-wide-rollout",
                                w.wave,
                                c.component,
                                prev.wave,
                                prev.version.as_deref().unwrap_or("none")
                            ),
                        });
                    }
                    ahead = Some(w);
                }
            }
        }
    }
    Ok(failures)
}

/// Whether `version` is newer than `than` (semver; text order when either is not semver).
fn newer(version: &str, than: Option<&str>) -> bool {
    use crate::semver::Version;
    let Some(than) = than else { return true };
    match (Version::parse(version), Version::parse(than)) {
        (Ok(a), Ok(b)) => a > b,
        _ => version != than,
    }
}

/// Whether a guard's `when` can select tenants of the wave: it names no variable the wave
/// contradicts. Waves are usually selected by `env`/`region`, which the guard also reads.
fn wave_in_scope(stack: &Stack, wave: &str, guard: &GuardSpec) -> bool {
    if guard.when.is_empty() {
        return true;
    }
    let Some(spec) = stack
        .spec
        .rollout
        .iter()
        .flat_map(|r| &r.waves)
        .find(|w| w.name.value == wave)
    else {
        return false;
    };
    match spec.when.equalities() {
        Some(known) => guard.when.could_match(&known),
        None => true,
    }
}

/// The `--from` and `--to` selectors of a promotion by wave: `--wave W` copies the version
/// of the wave before W (or of `from`, which the first wave needs) into W; `--next` finds W.
pub fn promotion_selectors(
    ctx: &Context,
    wave: Option<&str>,
    next: bool,
    from: Option<Selector>,
    component: Option<&str>,
) -> Result<(Selector, Selector), Error> {
    let (_, stack) = pipeline::load_stack(ctx)?;
    let (source, target) = match (wave, next) {
        (Some(w), false) => (previous_wave(&stack, w)?, w.to_owned()),
        (None, true) => {
            let (prev, next) = next_wave(&status(ctx)?, component)?;
            (Some(prev), next)
        }
        _ => {
            return Err(Error::Input(
                "give --wave NAME or --next to promote by wave".into(),
            ));
        }
    };
    let from = match (from, source) {
        (Some(from), _) => from,
        (None, Some(prev)) => wave_selector(&prev),
        (None, None) => {
            return Err(Error::Input(format!(
                "wave {target:?} is the first wave: give --from SELECTOR, the tenants whose version it should run"
            )));
        }
    };
    Ok((from, wave_selector(&target)))
}

/// What a promotion just written does, for its commit message: the diff of the working tree
/// against HEAD for the tenants moved, as a headline, the impacts and the tenants. `None`
/// outside a git repository, or when the comparison cannot run (the summary still stands).
pub fn impact_note(ctx: &Context, to: &Selector) -> Option<String> {
    let (_, stack) = pipeline::load_stack(ctx).ok()?;
    let options = crate::diff::DiffOptions {
        dir: stack.dir.clone(),
        base: "HEAD".into(),
        head: None,
        selection: crate::selector::Selection {
            selector: Some(to.clone()),
            allow_empty: true,
        },
        ignore: Vec::new(),
        context: Context {
            start_dir: stack.dir.clone(),
            ..ctx.clone()
        },
        progress: crate::terminal::Progress::hidden(),
        jobs: crate::parallel::default_jobs(),
    };
    let report = match crate::diff::run(&options) {
        Ok(report) => report,
        Err(e) => {
            tracing::debug!("no rollout impact in the promotion summary: {e}");
            return None;
        }
    };
    let mut out = format!("\nRollout impact: {}\n", report.impact_summary().headline);
    for g in report.impact_groups() {
        use crate::diff::impact::plural_n;
        let pods = g
            .pods
            .map(|p| format!(", {}", plural_n(p, "pod")))
            .unwrap_or_default();
        out.push_str(&format!(
            "- {}: {} ({}) in {}{pods}\n",
            g.kind.label(),
            g.object_kind,
            g.detail,
            plural_n(g.tenants() as u64, "tenant")
        ));
    }
    if !report.tenants.is_empty() {
        out.push_str("\nTenants whose manifests change:\n");
        for t in &report.tenants {
            out.push_str(&format!("- {}\n", t.tenant));
        }
    }
    Some(out)
}
