//! `strata check --renderer-parity`: every selected tenant rendered by helm and by the native
//! renderer, component by component, and every byte difference reported.
//!
//! This is how a team proves the native renderer on its own charts before switching, and how
//! CI keeps proving it. The renderers' raw outputs are compared (before strata's labels and
//! patches, which are the same code for both). A chart that `auto` would hand to helm is listed
//! as helm-only, not as a failure. Both renderers failing is agreement (the fact of an error is
//! what must match, not its wording). Secret values of either output are masked in the diff.

use crate::Error;
use crate::config::RendererKind;
use crate::context::Context;
use crate::diff::mask::Mask;
use crate::fleet;
use crate::pipeline;
use crate::plan::ChartPlan;
use crate::render::native::Analysis;
use crate::render::select::{self, Choices, Selected};
use crate::render::{RenderError, Renderer, Request};
use crate::selector::Selection;
use serde::Serialize;

/// How many lines of unified diff are shown per component.
pub const DIFF_LINES: usize = 40;

/// What the parity run was asked to do.
#[derive(Debug, Clone, Default)]
pub struct ParityOptions {
    pub selection: Selection,
    pub jobs: usize,
    pub progress: crate::terminal::Progress,
}

/// One component's comparison.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    tag = "status"
)]
pub enum Outcome {
    /// Byte-identical output.
    Identical,
    /// Both renderers refused the chart (the errors' wording may differ).
    BothFailed { helm: String },
    /// The native renderer does not render this chart; `auto` uses helm for it.
    HelmOnly { reasons: Vec<String> },
    /// The outputs differ (or only one renderer failed).
    Differs {
        /// From the first to the last differing byte.
        differing_bytes: usize,
        /// A unified diff, helm's output as the old side, cut after [`DIFF_LINES`] lines.
        diff: String,
        /// The random functions the chart calls: output that changes on every render cannot
        /// match, so such a difference may be theirs.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        random: Vec<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ComponentParity {
    pub component: String,
    pub chart: String,
    #[serde(flatten)]
    pub outcome: Outcome,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TenantParity {
    pub tenant: String,
    /// Why the tenant could not be compared at all (it does not resolve).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub components: Vec<ComponentParity>,
}

/// The whole run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ParityReport {
    /// Whether every compared component was identical (or failed in both).
    pub passed: bool,
    /// The helm compared against and the rules the native renderer followed.
    pub helm: String,
    pub native: String,
    pub identical: usize,
    pub differ: usize,
    pub helm_only: usize,
    pub tenants: Vec<TenantParity>,
}

/// Compares the renderers on every selected tenant of the stack at `ctx.start_dir`.
pub fn run(ctx: &Context, options: &ParityOptions) -> Result<ParityReport, Error> {
    let (_stack, found) = fleet::candidates(ctx, &options.selection)?;
    fleet::warm_charts(ctx, &found);
    let budget = crate::budget::DEFAULT_RENDER_BUDGET;
    let far = std::time::Instant::now() + budget;
    let helm = crate::render::with_choices(ctx, Choices::all(RendererKind::Helm), far, budget)?;
    let native = crate::render::with_choices(ctx, Choices::all(RendererKind::Native), far, budget)?;
    let memo = crate::chart::cache::Cache::from_env().root().to_path_buf();
    let compat = native.compat();
    let mut report = ParityReport {
        helm: helm.identity(&memo)?,
        native: format!(
            "native {} (helm {} rules)",
            env!("CARGO_PKG_VERSION"),
            compat.version
        ),
        ..ParityReport::default()
    };
    let phase = options.progress.phase(found.len());
    report.tenants = crate::parallel::map(options.jobs.max(1), &found, |c| {
        let tenant = compare_tenant(ctx, c, &helm, &native);
        phase.step(&c.shown);
        tenant
    });
    drop(phase);
    for tenant in &report.tenants {
        for c in &tenant.components {
            match c.outcome {
                Outcome::Identical | Outcome::BothFailed { .. } => report.identical += 1,
                Outcome::HelmOnly { .. } => report.helm_only += 1,
                Outcome::Differs { .. } => report.differ += 1,
            }
        }
    }
    report.passed = report.differ == 0 && report.tenants.iter().all(|t| t.error.is_none());
    Ok(report)
}

fn compare_tenant(
    ctx: &Context,
    candidate: &fleet::Candidate,
    helm: &Selected,
    native: &Selected,
) -> TenantParity {
    let mut parity = TenantParity {
        tenant: candidate.shown.clone(),
        error: None,
        components: Vec::new(),
    };
    let prepared = candidate
        .resolved
        .as_ref()
        .map_err(Error::to_string)
        .and_then(|resolved| {
            let tctx = pipeline::tenant_context(resolved, ctx);
            let inputs = pipeline::prepare_inputs(resolved, &tctx).map_err(|e| e.to_string())?;
            Ok((resolved, tctx, inputs))
        });
    let (resolved, tctx, inputs) = match prepared {
        Ok(p) => p,
        Err(e) => {
            parity.error = Some(e);
            return parity;
        }
    };
    let compat = native.compat();
    for ((component, chart), values_json) in resolved
        .components
        .iter()
        .zip(&inputs.charts)
        .zip(&inputs.values)
    {
        if matches!(component.chart, ChartPlan::Manifests(_)) {
            continue;
        }
        let request = Request {
            component: &component.name,
            chart: &chart.dir,
            chart_shown: &component.chart_shown,
            release: &component.release,
            namespace: &component.namespace,
            values_json,
            kube_version: tctx.kube_version.as_deref(),
            api_versions: &tctx.api_versions,
            include_crds: component.include_crds,
            skip_tests: component.skip_tests,
        };
        let analysis = select::analysis(&chart.dir, &compat);
        let outcome = outcome_of(
            || helm.render(&request),
            || native.render(&request),
            &analysis,
        );
        parity.components.push(ComponentParity {
            component: component.name.clone(),
            chart: component.chart_shown.clone(),
            outcome,
        });
    }
    parity
}

/// One component's outcome: helm only when the analysis or the native render itself says the
/// chart needs helm (a function only helm has), else the comparison of the two renders.
fn outcome_of(
    helm: impl FnOnce() -> Result<Vec<u8>, RenderError>,
    native: impl FnOnce() -> Result<Vec<u8>, RenderError>,
    analysis: &Analysis,
) -> Outcome {
    if !analysis.unsupported.is_empty() {
        return Outcome::HelmOnly {
            reasons: analysis.unsupported.clone(),
        };
    }
    let native = native();
    if let Err(e) = &native
        && e.to_string().contains(gotemplate::helm::NOT_IMPLEMENTED)
    {
        return Outcome::HelmOnly {
            reasons: vec![e.to_string()],
        };
    }
    let mut outcome = compare(helm(), native);
    if let Outcome::Differs { random, .. } = &mut outcome {
        random.extend(analysis.random.iter().cloned());
    }
    outcome
}

/// Compares helm's result with the native renderer's.
fn compare<E: std::fmt::Display>(helm: Result<Vec<u8>, E>, native: Result<Vec<u8>, E>) -> Outcome {
    match (helm, native) {
        (Ok(h), Ok(n)) if h == n => Outcome::Identical,
        (Ok(h), Ok(n)) => Outcome::Differs {
            differing_bytes: differing_span(&h, &n),
            diff: bounded_diff(&h, &n, &mask_for(&h, &n)),
            random: Vec::new(),
        },
        (Err(h), Err(_)) => Outcome::BothFailed {
            helm: h.to_string(),
        },
        (Ok(_), Err(n)) => Outcome::Differs {
            differing_bytes: 0,
            diff: format!("helm rendered the chart; the native renderer failed: {n}"),
            random: Vec::new(),
        },
        (Err(h), Ok(_)) => Outcome::Differs {
            differing_bytes: 0,
            diff: format!("the native renderer rendered the chart; helm failed: {h}"),
            random: Vec::new(),
        },
    }
}

/// The length of the span from the first to the last differing byte (one appended byte is 1).
pub fn differing_span(a: &[u8], b: &[u8]) -> usize {
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let rest = a.len().min(b.len()) - prefix;
    let suffix = a
        .iter()
        .rev()
        .zip(b.iter().rev())
        .take(rest)
        .take_while(|(x, y)| x == y)
        .count();
    a.len().max(b.len()) - prefix - suffix
}

/// A unified diff from helm's output to the native one, at most [`DIFF_LINES`] lines.
fn bounded_diff(helm: &[u8], native: &[u8], mask: &Mask) -> String {
    let (old, new) = (
        mask.text(&String::from_utf8_lossy(helm)),
        mask.text(&String::from_utf8_lossy(native)),
    );
    let diff = similar::TextDiff::from_lines(&old, &new);
    let text = diff
        .unified_diff()
        .context_radius(2)
        .header("helm", "native")
        .to_string();
    let mut lines: Vec<&str> = text.lines().collect();
    let total = lines.len();
    lines.truncate(DIFF_LINES);
    let mut out = lines.join("\n");
    if total > DIFF_LINES {
        out.push_str(&format!("\n... ({} more diff lines)", total - DIFF_LINES));
    }
    out
}

/// Every Secret value of either output, decoded and as written, so the diff shows none.
fn mask_for(helm: &[u8], native: &[u8]) -> Mask {
    let mut values = std::collections::BTreeSet::new();
    for stream in [helm, native] {
        let Ok(objects) = crate::diff::objects::parse(stream) else {
            continue;
        };
        values.extend(crate::diff::objects::secret_values(&objects));
        for (id, object) in &objects {
            if !id.is_secret() {
                continue;
            }
            let written = object
                .get("data")
                .and_then(serde_json::Value::as_object)
                .into_iter()
                .flat_map(|m| m.values())
                .filter_map(serde_json::Value::as_str)
                .map(str::to_owned);
            values.extend(written);
        }
    }
    Mask::new(values)
}

/// The first reasons, and how many more (`--format json` has them all).
fn shown(reasons: &[String]) -> String {
    const SHOWN: usize = 3;
    let mut text = reasons[..reasons.len().min(SHOWN)].join("; ");
    if reasons.len() > SHOWN {
        text.push_str(&format!("; and {} more", reasons.len() - SHOWN));
    }
    text
}

impl ParityReport {
    /// The report for people: one line per component, the diff under each difference.
    pub fn text(&self) -> String {
        let mut out = format!("renderer parity: helm {} vs {}\n", self.helm, self.native);
        for tenant in &self.tenants {
            out.push_str(&format!("{}\n", tenant.tenant));
            if let Some(e) = &tenant.error {
                out.push_str(&format!("  cannot compare: {e}\n"));
            }
            for c in &tenant.components {
                let line = match &c.outcome {
                    Outcome::Identical => "identical".to_owned(),
                    Outcome::BothFailed { .. } => "identical (both renderers fail)".to_owned(),
                    Outcome::HelmOnly { reasons } => format!("helm only: {}", shown(reasons)),
                    Outcome::Differs {
                        differing_bytes,
                        random,
                        ..
                    } if !random.is_empty() => format!(
                        "DIFFERS ({differing_bytes} differing bytes; the chart calls {}, whose output changes on every render)",
                        random.join(", ")
                    ),
                    Outcome::Differs {
                        differing_bytes, ..
                    } => format!("DIFFERS ({differing_bytes} differing bytes)"),
                };
                out.push_str(&format!("  {} (chart {}): {line}\n", c.component, c.chart));
                if let Outcome::Differs { diff, .. } = &c.outcome {
                    for l in diff.lines() {
                        out.push_str(&format!("    {l}\n"));
                    }
                }
            }
        }
        out.push_str(&format!(
            "{} tenant(s): {} component(s) identical, {} differ, {} helm only\n",
            self.tenants.len(),
            self.identical,
            self.differ,
            self.helm_only
        ));
        out
    }

    pub fn json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("a report serialises");
        text.push('\n');
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_differing_span_runs_from_the_first_to_the_last_difference() {
        assert_eq!(differing_span(b"abc", b"abc"), 0);
        assert_eq!(differing_span(b"abc", b"abcx"), 1);
        assert_eq!(differing_span(b"abc", b"xbc"), 1);
        assert_eq!(differing_span(b"abcdef", b"aXcdYf"), 4);
        assert_eq!(differing_span(b"aa", b"aaa"), 1);
        assert_eq!(differing_span(b"", b"xyz"), 3);
    }

    #[test]
    fn only_one_renderer_failing_is_a_difference_and_both_is_agreement() {
        let ok = |s: &str| Ok::<_, String>(s.as_bytes().to_vec());
        let err = || Err::<Vec<u8>, _>("boom".to_string());
        assert_eq!(compare(ok("a"), ok("a")), Outcome::Identical);
        assert!(matches!(compare(ok("a"), err()), Outcome::Differs { .. }));
        assert!(matches!(compare(err(), ok("a")), Outcome::Differs { .. }));
        assert!(matches!(compare(err(), err()), Outcome::BothFailed { .. }));
    }

    #[test]
    fn the_diff_is_bounded_and_hides_secret_values() {
        let helm =
            "---\nkind: Secret\nmetadata: {name: s}\nstringData: {password: hunter2hunter2}\n";
        let native = format!(
            "{helm}{}",
            "---\nkind: ConfigMap\nmetadata: {name: c}\n".repeat(30)
        );
        let Outcome::Differs { diff, .. } = compare(
            Ok::<_, String>(helm.as_bytes().to_vec()),
            Ok(native.into_bytes()),
        ) else {
            panic!("expected a difference")
        };
        assert!(diff.starts_with("--- helm\n+++ native\n"), "{diff}");
        assert!(diff.lines().count() <= DIFF_LINES + 1);
        assert!(diff.ends_with("more diff lines)"), "{diff}");
        let leaked = compare(
            Ok::<_, String>(helm.as_bytes().to_vec()),
            Ok(helm
                .replace("hunter2hunter2", "hunter2hunter3")
                .into_bytes()),
        );
        let Outcome::Differs { diff, .. } = leaked else {
            panic!("expected a difference")
        };
        assert!(!diff.contains("hunter2"), "{diff}");
    }
}
