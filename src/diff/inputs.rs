//! What each tenant's render depends on, on one side of a diff, reduced to a digest.
//!
//! helm is deterministic for a given chart, values, release, namespace and flags, so a tenant
//! whose digest is the same on both sides renders the same bytes and is not rendered at all:
//! a change to one region's layer costs a `helm template` only for that region's tenants.

use crate::Error;
use crate::chart;
use crate::context::{Context, Var};
use crate::pipeline::{self, ComponentValues, Resolved};
use crate::plan::ChartPlan;
use crate::render::manifests::ManifestsPlan;
use crate::render_cache;
use crate::tenant::list_tenant_dirs;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// One tenant on one side.
#[derive(Debug)]
pub struct SideTenant {
    /// The tenant directory relative to the repository root: its identity across sides.
    pub dir: String,
    pub vars: BTreeMap<String, Var>,
    /// sha256 of everything the render depends on.
    pub digest: String,
    pub components: Vec<ComponentInputs>,
}

/// A component's merged values with their layers, kept for the values summary.
#[derive(Debug)]
pub struct ComponentInputs {
    pub name: String,
    pub values: ComponentValues,
    /// The chart's name and version; `None` for a manifests component or an unreadable chart.
    pub chart: Option<super::charts::ChartRef>,
}

/// The tenants of the stack that holds `root/rel_dir`, at or below that directory, in order.
/// `None` when the directory does not exist on this side (the stack is new, or was removed).
pub fn load_side(
    root: &Path,
    rel_dir: &Path,
    template: &Context,
) -> Result<Option<Vec<SideTenant>>, Error> {
    let start = root.join(rel_dir);
    if !start.is_dir() {
        return Ok(None);
    }
    let ctx = side_context(template, root, &start)?;
    let (_, stack) = pipeline::load_stack(&ctx)?;
    let start = ctx.start_dir.clone();
    let mut chart_digests = HashMap::new();
    let mut tenants = Vec::new();
    for dir in list_tenant_dirs(&stack)? {
        if !dir.starts_with(&start) {
            continue;
        }
        let tenant_ctx = side_context(template, root, &dir)?;
        let resolved = pipeline::resolve(&tenant_ctx)?;
        tenants.push(side_tenant(&resolved, &tenant_ctx, &mut chart_digests)?);
    }
    Ok(Some(tenants))
}

/// The context for a directory of a side: Argo CD's source-path rule finds the repository
/// root, which an unpacked commit (no `.git`) would not reveal otherwise.
pub fn side_context(template: &Context, root: &Path, dir: &Path) -> Result<Context, Error> {
    let canonical = |p: &Path| {
        p.canonicalize()
            .map_err(|e| Error::Input(format!("cannot use directory {}: {e}", p.display())))
    };
    let root = canonical(root)?;
    let dir = canonical(dir)?;
    let rel = dir
        .strip_prefix(&root)
        .map_err(|_| Error::Input(format!("{} is outside the repository", dir.display())))?;
    Ok(Context {
        start_dir: dir.clone(),
        source_path: Some(rel.to_string_lossy().into_owned()),
        ..template.clone()
    })
}

fn side_tenant(
    resolved: &Resolved,
    ctx: &Context,
    chart_digests: &mut HashMap<PathBuf, (String, Option<super::charts::ChartRef>)>,
) -> Result<SideTenant, Error> {
    let charts = pipeline::open_charts(resolved, ctx)?;
    let mut components = Vec::new();
    let mut inputs = Vec::new();
    for plan in &resolved.components {
        let (chart, chart_ref) = match &plan.chart {
            // A manifests directory is hashed like a chart directory.
            ChartPlan::Local(path) | ChartPlan::Manifests(ManifestsPlan { dir: path, .. }) => {
                let (digest, chart_ref) = match chart_digests.get(path) {
                    Some(known) => known.clone(),
                    None => {
                        let d = render_cache::chart_fingerprint(path)
                            .map_err(|e| Error::Input(e.to_string()))?;
                        let chart_ref = match &plan.chart {
                            ChartPlan::Local(_) => super::charts::local(path),
                            _ => None,
                        };
                        chart_digests.insert(path.clone(), (d.clone(), chart_ref.clone()));
                        (d, chart_ref)
                    }
                };
                // The locked versions of its dependencies are part of a chart's identity.
                let deps = match &plan.chart {
                    ChartPlan::Local(_) => chart::deps::remote_charts(&chart::deps::plan(
                        path,
                        &resolved.root,
                        plan.plain_http,
                    )?)
                    .iter()
                    .map(|r| Ok(charts.locked_entry(r)?.digest))
                    .collect::<Result<Vec<_>, Error>>()?
                    .join(","),
                    _ => String::new(),
                };
                (format!("local:{digest}:{deps}"), chart_ref)
            }
            ChartPlan::Remote(remote) => {
                let entry = charts.locked_entry(remote)?;
                let chart = format!("locked:{}", entry.digest);
                let chart_ref = super::charts::ChartRef {
                    name: entry.chart,
                    version: entry.version,
                    dir: None,
                    digest: Some(entry.digest),
                };
                (chart, Some(chart_ref))
            }
        };
        let values = pipeline::component_values(plan, ctx)?;
        // Label templates and templated manifests read the tenant's variables directly.
        let templated = plan.post_render.is_active()
            || matches!(&plan.chart, ChartPlan::Manifests(m) if m.template);
        inputs.push(serde_json::json!({
            "name": plan.name,
            "chart": chart,
            "release": plan.release,
            "namespace": plan.namespace,
            "includeCrds": plan.include_crds,
            "skipTests": plan.skip_tests,
            "values": values.merged.to_json(),
            "postRender": plan.post_render,
            "templated": templated.then(|| resolved.tenant.values()),
            // Patches after helm change the output: their rendered text is an input.
            "patches": String::from_utf8_lossy(
                &crate::post_render::patch::Patches::load(&plan.patches, &resolved.tenant.values())?
                    .cache_input()
            ),
        }));
        components.push(ComponentInputs {
            name: plan.name.clone(),
            values,
            chart: chart_ref,
        });
    }
    // What the tenant's cluster tells helm, when strata.yaml `clusters` says it.
    let facts = crate::clusters::facts_for(&resolved.stack, &resolved.tenant.values());
    inputs.push(serde_json::json!({
        "kubeVersion": facts.kube_version,
        "apiVersions": facts.api_versions,
    }));
    let bytes = serde_json::to_vec(&inputs).expect("JSON serializes");
    Ok(SideTenant {
        dir: resolved.tenant.shown_dir.clone(),
        vars: resolved.tenant.vars.clone(),
        digest: hex::encode(Sha256::digest(&bytes)),
        components,
    })
}
