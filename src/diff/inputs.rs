//! What each tenant's render depends on, on one side of a diff, reduced to a digest.
//!
//! helm is deterministic for a given chart, values, release, namespace and flags, so a tenant
//! whose digest is the same on both sides renders the same bytes and is not rendered at all:
//! a change to one region's layer costs a `helm template` only for that region's tenants.

use crate::Error;
use crate::chart::resolve::Charts;
use crate::context::{Context, Var};
use crate::pipeline::Memo;
use crate::pipeline::{self, ComponentValues, Resolved};
use crate::plan::{ChartPlan, ComponentPlan};
use crate::tenant::list_tenant_dirs;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One tenant on one side.
#[derive(Debug)]
pub struct SideTenant {
    /// The tenant directory relative to the repository root: its identity across sides.
    pub dir: String,
    pub vars: BTreeMap<String, Var>,
    /// The fingerprint of everything the render depends on ([`pipeline::fingerprint`]).
    pub digest: String,
    pub components: Vec<ComponentInputs>,
    /// What rendering the tenant starts from, so it is not resolved and merged again.
    pub render: Box<Prepared>,
}

/// A tenant resolved and prepared on one side, ready to render.
#[derive(Debug)]
pub struct Prepared {
    pub resolved: Resolved,
    /// The tenant's context, cluster facts included.
    pub ctx: Context,
    /// Its merged values moved into [`SideTenant::components`]; the rest is what renders.
    pub prepared: pipeline::Prepared,
}

/// A component's merged values with their layers, kept for the values summary.
#[derive(Debug)]
pub struct ComponentInputs {
    pub name: String,
    pub values: ComponentValues,
    /// The chart's name and version; `None` for a manifests component or an unreadable chart.
    pub chart: Option<super::chart_ref::ChartRef>,
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
    let dirs: Vec<PathBuf> = list_tenant_dirs(&stack)?
        .into_iter()
        .filter(|dir| dir.starts_with(&start))
        .collect();
    // Tenants are prepared in contiguous runs, one per CPU, each with its own memo; joined in
    // order, the first error is the first failing tenant's, whatever the thread timing.
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 8);
    let per_worker = dirs.len().div_ceil(workers).max(1);
    let runs: Vec<Result<Vec<SideTenant>, Error>> = std::thread::scope(|scope| {
        let handles: Vec<_> = dirs
            .chunks(per_worker)
            .map(|run| {
                crate::deep_stack::spawn_scoped(scope, move || {
                    let mut memo = Memo::default();
                    run.iter()
                        .map(|dir| {
                            let tenant_ctx = side_context(template, root, dir)?;
                            let resolved = pipeline::resolve(&tenant_ctx)?;
                            side_tenant(resolved, &tenant_ctx, &mut memo)
                        })
                        .collect()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("tenant preparation panicked"))
            .collect()
    });
    let mut tenants = Vec::with_capacity(dirs.len());
    for run in runs {
        tenants.extend(run?);
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

/// Resolves and prepares one tenant: merged once, here, and reused when it is rendered.
fn side_tenant(resolved: Resolved, ctx: &Context, memo: &mut Memo) -> Result<SideTenant, Error> {
    let ctx = pipeline::tenant_context(&resolved, ctx);
    let charts = pipeline::open_charts(&resolved, &ctx)?;
    let mut prepared = pipeline::prepare_locked(&resolved, &ctx, memo)?;
    let digest = prepared
        .fingerprint
        .clone()
        .expect("prepare_locked always fingerprints");
    let values = std::mem::take(&mut prepared.values);
    let components = resolved
        .components
        .iter()
        .zip(values)
        .map(|(plan, values)| ComponentInputs {
            name: plan.name.clone(),
            values,
            chart: chart_ref(plan, &charts),
        })
        .collect();
    Ok(SideTenant {
        dir: resolved.tenant.shown_dir.clone(),
        vars: resolved.tenant.vars.clone(),
        digest,
        components,
        render: Box::new(Prepared {
            resolved,
            ctx,
            prepared,
        }),
    })
}

/// The chart's name and version for the chart-bump summary; `None` for a manifests component
/// or an unreadable chart.
fn chart_ref(plan: &ComponentPlan, charts: &Charts) -> Option<super::chart_ref::ChartRef> {
    match &plan.chart {
        ChartPlan::Local(path) => super::chart_ref::local(path),
        ChartPlan::Manifests(_) => None,
        ChartPlan::Remote(remote) => {
            let entry = charts.locked_entry(remote).ok()?;
            Some(super::chart_ref::ChartRef {
                name: entry.chart,
                version: entry.version,
                dir: None,
                digest: Some(entry.digest),
            })
        }
    }
}
