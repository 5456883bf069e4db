//! The whole picture of a tenant's values, for `strata explain` and `strata values --all`:
//! the chart's own defaults below the layers, the values helm's templates really see, and the
//! differences between two tenants with the file that makes each differ.

pub mod report;

use crate::Error;
use crate::context::Context;
use crate::pipeline::{self, FetchedChart, Resolved};
use crate::plan::ChartPlan;
use crate::render::{self, Request};
use crate::values::defaults::chart_defaults;
use crate::values::explain::{self, Explanation};
use crate::values::layer::Layer;
use crate::values::merge::merge_layers;
use crate::values::{Node, Origin};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

/// One component's layers with the chart defaults at the bottom, and their merge.
#[derive(Debug)]
pub struct Explained {
    pub component: String,
    /// `<chart name>-<version>` when the chart's defaults could be read.
    pub chart: Option<String>,
    pub layers: Vec<Layer>,
    pub merged: Node,
    /// The patches applied after helm, with their file and line.
    pub patches: Vec<crate::post_render::patch::Patch>,
}

/// Every component's values with its chart's defaults as the lowest layer. A chart that cannot
/// be resolved (no lock entry yet) is explained without its defaults, with a warning, so
/// `explain` keeps working while a stack is being set up.
pub fn explained(resolved: &Resolved, ctx: &Context) -> Result<Vec<Explained>, Error> {
    let charts = match pipeline::resolve_charts(resolved, ctx) {
        Ok(charts) => charts.into_iter().map(Some).collect(),
        Err(e) => {
            tracing::warn!("chart defaults left out: {e}");
            vec![None; resolved.components.len()]
        }
    };
    resolved
        .components
        .iter()
        .zip(charts)
        .map(|(component, chart)| {
            let values = pipeline::component_values(component, ctx)?;
            let defaults = match (&component.chart, chart) {
                (ChartPlan::Manifests(_), _) | (_, None) => None,
                (_, Some(chart)) => match chart_defaults(&chart.dir) {
                    Ok(found) => Some(found),
                    Err(e) => {
                        tracing::warn!("defaults of chart {} left out: {e}", component.chart_shown);
                        None
                    }
                },
            };
            let (chart, mut layers) = match defaults {
                Some((name, layer)) => (Some(name), vec![layer]),
                None => (None, Vec::new()),
            };
            layers.extend(values.layers);
            let base = Node::empty_map(Origin {
                source: Arc::from("(no layer)"),
                line: 0,
            });
            let merged = merge_layers(base, &layers);
            let patches = crate::post_render::patch::Patches::load(
                &component.patches,
                &resolved.tenant.values(),
            )?
            .patches;
            Ok(Explained {
                component: component.name.clone(),
                chart,
                layers,
                merged,
                patches,
            })
        })
        .collect()
}

/// The name of the template that prints the values; unlikely to meet a chart's own.
const PROBE: &str = "strata-computed-values.yaml";

/// The values helm's templates see for each component (`.Values`: chart and subchart
/// defaults coalesced with the layers, as `helm get values --all` shows them), read from
/// helm itself: a copy of the chart gets one template that prints `toJson .Values`.
pub fn computed_values(
    resolved: &Resolved,
    ctx: &Context,
) -> Result<Vec<(String, Option<serde_json::Value>)>, Error> {
    let inputs = pipeline::prepare_inputs(resolved, ctx)?;
    let budget = ctx.timeout.unwrap_or(render::helm::DEFAULT_TIMEOUT);
    let renderer = render::from_context(
        ctx,
        &resolved.stack.spec,
        std::time::Instant::now() + budget,
        budget,
    )?;
    resolved
        .components
        .iter()
        .zip(&inputs.charts)
        .zip(&inputs.values)
        .map(|((component, chart), values_json)| {
            if matches!(component.chart, ChartPlan::Manifests(_)) {
                return Ok((component.name.clone(), None));
            }
            let (copy, _registered) = probe_copy(chart)?;
            let out = renderer.render(&Request {
                component: &component.name,
                chart: &copy.path().join("chart"),
                chart_shown: &component.chart_shown,
                release: &component.release,
                namespace: &component.namespace,
                values_json,
                kube_version: ctx.kube_version.as_deref(),
                api_versions: &ctx.api_versions,
                include_crds: false,
                skip_tests: true,
            })?;
            let json = probe_output(&String::from_utf8_lossy(&out)).ok_or_else(|| {
                Error::Input(format!(
                    "helm printed no values for component {:?}; is chart {} a library chart?",
                    component.name, component.chart_shown
                ))
            })?;
            Ok((component.name.clone(), Some(json)))
        })
        .collect()
}

/// A private copy of the chart with the probe template added.
fn probe_copy(
    chart: &FetchedChart,
) -> Result<(tempfile::TempDir, crate::interrupt::DirGuard), Error> {
    let fail = |e: &dyn std::fmt::Display| Error::Input(format!("cannot copy the chart: {e}"));
    // Private, removed on SIGTERM/SIGINT and, after a SIGKILL, by a later run.
    let (tmp, registered) =
        crate::scratch::private_dir(&std::env::temp_dir(), "strata").map_err(|e| fail(&e))?;
    let dest = tmp.path().join("chart");
    std::fs::create_dir(&dest).map_err(|e| fail(&e))?;
    if chart.dir.is_dir() {
        copy_dir(&chart.dir, &dest).map_err(|e| fail(&e))?;
    } else {
        let file = std::fs::File::open(&chart.dir).map_err(|e| fail(&e))?;
        crate::chart::archive::unpack_chart(file, &dest, &Default::default())
            .map_err(|e| fail(&e))?;
    }
    let templates = dest.join("templates");
    std::fs::create_dir_all(&templates).map_err(|e| fail(&e))?;
    std::fs::write(templates.join(PROBE), "{{ toJson .Values }}\n").map_err(|e| fail(&e))?;
    Ok((tmp, registered))
}

/// Copies a chart that strata already read (from the cache, or a repository chart checked
/// when it was planned or prepared), following its symlinks as helm would.
fn copy_dir(src: &Path, dest: &Path) -> std::io::Result<()> {
    const MAX_DEPTH: usize = 64;
    std::fs::create_dir_all(dest)?;
    let walk = walkdir::WalkDir::new(src)
        .follow_links(true)
        .min_depth(1)
        .sort_by_file_name();
    for entry in walk {
        let entry = entry?;
        let target = dest.join(entry.path().strip_prefix(src).expect("under the source"));
        if entry.file_type().is_dir() {
            if entry.depth() > MAX_DEPTH {
                return Err(std::io::Error::other("directories nest too deep"));
            }
            std::fs::create_dir_all(&target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

fn probe_output(stream: &str) -> Option<serde_json::Value> {
    let marker = format!("/templates/{PROBE}\n");
    let start = stream.find(&marker)? + marker.len();
    let rest = &stream[start..];
    let end = rest.find("\n---").unwrap_or(rest.len());
    serde_json::from_str(rest[..end].trim()).ok()
}

/// One value that differs between two tenants.
#[derive(Debug, Clone, Serialize)]
pub struct Difference {
    pub component: String,
    pub key: String,
    /// `None` where the tenant does not have the key at all.
    pub a: Option<Explanation>,
    pub b: Option<Explanation>,
}

/// Every leaf whose value differs between two tenants, with what sets it on each side.
pub fn compare(a: &[Explained], b: &[Explained], prefix: &[String]) -> Vec<Difference> {
    let leaves = |side: &[Explained]| -> BTreeMap<(String, String), Explanation> {
        side.iter()
            .flat_map(|e| {
                explain::explain(&e.merged, &e.layers, prefix)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|x| ((e.component.clone(), x.key.clone()), x))
            })
            .collect()
    };
    let (mut left, mut right) = (leaves(a), leaves(b));
    let keys: std::collections::BTreeSet<_> = left.keys().chain(right.keys()).cloned().collect();
    keys.into_iter()
        .filter_map(|key| {
            let (x, y) = (left.remove(&key), right.remove(&key));
            let same = match (&x, &y) {
                (Some(x), Some(y)) => x.value == y.value && x.deleted == y.deleted,
                _ => false,
            };
            (!same).then_some(Difference {
                component: key.0,
                key: key.1,
                a: x,
                b: y,
            })
        })
        .collect()
}

/// The text form of a comparison: one block per differing key.
pub fn compare_text(differences: &[Difference], a: &str, b: &str, several: bool) -> String {
    let width = a.len().max(b.len());
    let side = |name: &str, e: &Option<Explanation>| match e {
        None => format!("  {name:width$}  (not set)\n"),
        Some(e) if e.deleted => format!("  {name:width$}  deleted by {}\n", e.set_by.location()),
        Some(e) => format!(
            "  {name:width$}  = {}  set by {}\n",
            e.value,
            e.set_by.location()
        ),
    };
    let mut out = String::new();
    for d in differences {
        if several {
            out.push_str(&format!("{}: {}\n", d.component, d.key));
        } else {
            out.push_str(&format!("{}\n", d.key));
        }
        out.push_str(&side(a, &d.a));
        out.push_str(&side(b, &d.b));
    }
    out
}
