//! The fleet: every tenant of a stack at once.
//!
//! `strata tenants` lists them with their variables and charts, so a reviewer sees which
//! tenants a selector (or a change to a shared layer) reaches; `strata render --all` renders
//! them into one file each, so CI can check or publish the whole fleet in one run. Both go
//! through the same [`pipeline`] as `strata render`, one tenant directory at a time, so a
//! tenant's file is exactly what `strata render <tenant>` prints.

use crate::Error;
use crate::chart::resolve::Charts;
use crate::config::Stack;
use crate::context::Context;
use crate::pipeline::{self, Resolved};
use crate::plan::{ChartPlan, RemoteChart};
use crate::selector::Selection;
use crate::tenant::{list_tenant_dirs, path_vars};
use crate::terminal::Progress;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One tenant as `strata tenants` shows it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TenantSummary {
    /// The tenant directory, relative to the repository root.
    pub dir: String,
    /// The tenant's variables after every source has been applied.
    pub vars: BTreeMap<String, String>,
    /// Where each variable's value came from, worded as in error messages.
    pub var_sources: BTreeMap<String, String>,
    pub components: Vec<ComponentSummary>,
}

/// One component of a tenant: which chart it renders and which layer files feed it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ComponentSummary {
    pub name: String,
    /// A local chart's path relative to the repository root, or `<repository>/<chart>` for a
    /// versioned chart.
    pub chart: String,
    /// The version constraint that applies to this tenant (versioned charts only).
    pub constraint: Option<String>,
    /// The version strata.lock pins for that constraint (versioned charts only).
    pub version: Option<String>,
    /// Why a versioned chart has no usable lock entry; rendering it would fail the same way.
    pub lock_error: Option<String>,
    /// The layer files that exist, lowest precedence first, relative to the repository root.
    /// Absent optional layers are left out because they contribute nothing.
    pub layers: Vec<String>,
}

impl ComponentSummary {
    /// The table cell: a local chart's path, `chart@version` for a locked versioned chart.
    fn cell(&self) -> String {
        let Some(constraint) = &self.constraint else {
            return self.chart.clone();
        };
        let name = self.chart.rsplit('/').next().unwrap_or(&self.chart);
        match &self.version {
            Some(version) => format!("{name}@{version}"),
            None => format!("{name}@{constraint} (not locked)"),
        }
    }
}

/// A tenant directory of the stack and what resolving it gave.
pub(crate) struct Candidate {
    pub(crate) dir: PathBuf,
    /// Relative to the repository root, for messages and summaries.
    pub(crate) shown: String,
    pub(crate) resolved: Result<Resolved, Error>,
}

/// The context of one tenant: the caller's, started in the tenant directory.
pub(crate) fn tenant_context(ctx: &Context, dir: &Path) -> Context {
    Context {
        start_dir: dir.to_path_buf(),
        ..ctx.clone()
    }
}

/// Every tenant directory of the stack at `ctx.start_dir` that the selector keeps, resolved,
/// in directory order.
///
/// A tenant that cannot be resolved is kept (as a failure) unless the variables its directory
/// binds already contradict the selector: its other variables are unknown, so dropping it
/// could hide a broken tenant the caller meant to reach.
///
/// A selector naming a variable that no tenant has is refused, and so is an empty selection
/// unless the caller allows it.
pub(crate) fn candidates(
    ctx: &Context,
    selection: &Selection,
) -> Result<(Stack, Vec<Candidate>), Error> {
    let (root, stack) = pipeline::load_stack(ctx)?;
    let mut all = Vec::new();
    for dir in list_tenant_dirs(&stack)? {
        let resolved = pipeline::resolve(&tenant_context(ctx, &dir));
        all.push(Candidate {
            shown: root.display(&dir),
            dir,
            resolved,
        });
    }
    selection.check_known(&known_vars(&stack, &all), &stack.file_name)?;
    let found: Vec<Candidate> = all
        .into_iter()
        .filter(|c| match &c.resolved {
            Ok(r) => selection.matches(&r.tenant.vars),
            Err(_) => selection.could_match(&path_vars(&stack, &c.dir).unwrap_or_default()),
        })
        .collect();
    let where_ = format!(
        "directory (tenants.path {:?})",
        stack.spec.tenants.path.value
    );
    selection.check_found(found.len(), &stack.file_name, &where_)?;
    Ok((stack, found))
}

/// Every variable name some tenant of the stack has: the stack's `vars`, what each tenant
/// resolves to, and for a tenant that does not resolve, what its directory binds.
pub(crate) fn known_vars(stack: &Stack, all: &[Candidate]) -> std::collections::BTreeSet<String> {
    let mut known: std::collections::BTreeSet<String> = stack.spec.vars.keys().cloned().collect();
    for c in all {
        match &c.resolved {
            Ok(r) => known.extend(r.tenant.vars.keys().cloned()),
            Err(_) => known.extend(path_vars(stack, &c.dir).unwrap_or_default().into_keys()),
        }
    }
    known
}

/// Lists the tenants of the stack at `ctx.start_dir` (any directory inside it), sorted by
/// directory. Reads only the repository and strata.lock: no helm, no network.
///
/// A tenant that cannot be resolved fails the listing, unless the selector rules it out by
/// the variables its directory binds.
pub fn list_tenants(ctx: &Context, selection: &Selection) -> Result<Vec<TenantSummary>, Error> {
    let (_, found) = candidates(ctx, selection)?;
    found
        .into_iter()
        .map(|c| summarize(&c.resolved?, &tenant_context(ctx, &c.dir)))
        .collect()
}

fn summarize(resolved: &Resolved, ctx: &Context) -> Result<TenantSummary, Error> {
    let choices = pipeline::chart_choices(resolved, ctx)?;
    let components = resolved
        .components
        .iter()
        .zip(choices)
        .map(|(c, choice)| {
            let (chart, constraint, version, lock_error) = match (&c.chart, choice) {
                (ChartPlan::Remote(r), Some(choice)) => {
                    let (version, error) = match choice.version {
                        Ok(v) => (Some(v), None),
                        Err(e) => (None, Some(e)),
                    };
                    (choice.chart, Some(r.constraint.clone()), version, error)
                }
                _ => (c.chart_shown.clone(), None, None, None),
            };
            ComponentSummary {
                name: c.name.clone(),
                chart,
                constraint,
                version,
                lock_error,
                layers: c
                    .layers
                    .iter()
                    .filter(|l| l.path.is_file())
                    .map(|l| l.shown.clone())
                    .collect(),
            }
        })
        .collect();
    Ok(TenantSummary {
        dir: resolved.tenant.shown_dir.clone(),
        vars: resolved.tenant.values(),
        var_sources: resolved
            .tenant
            .vars
            .iter()
            .map(|(k, v)| (k.clone(), v.source.to_string()))
            .collect(),
        components,
    })
}

/// The `strata tenants` table: TENANT, VARS and CHARTS in aligned columns, one tenant a line.
pub fn table(tenants: &[TenantSummary]) -> String {
    let mut rows = vec![["TENANT".to_owned(), "VARS".to_owned(), "CHARTS".to_owned()]];
    for t in tenants {
        let vars: Vec<String> = t.vars.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let charts: Vec<String> = t.components.iter().map(ComponentSummary::cell).collect();
        rows.push([t.dir.clone(), vars.join(","), charts.join(", ")]);
    }
    let width = |col: usize| {
        rows.iter()
            .map(|r| r[col].chars().count())
            .max()
            .unwrap_or(0)
    };
    let (w0, w1) = (width(0), width(1));
    rows.iter()
        .map(|[tenant, vars, charts]| {
            let line = format!("{tenant:<w0$}  {vars:<w1$}  {charts}");
            line.trim_end().to_owned() + "\n"
        })
        .collect()
}

/// A tenant whose file was written.
#[derive(Debug, Clone)]
pub struct RenderedTenant {
    /// The tenant directory, relative to the repository root.
    pub dir: String,
    pub file: PathBuf,
}

/// A tenant that did not render; its file was left as it was.
#[derive(Debug, Clone)]
pub struct FailedTenant {
    /// The tenant directory, relative to the repository root.
    pub dir: String,
    pub file: PathBuf,
    /// The full error text, as `strata render` would print it.
    pub error: String,
}

/// The outcome of [`render_all`], in tenant directory order.
#[derive(Debug, Clone, Default)]
pub struct RenderAllReport {
    pub rendered: Vec<RenderedTenant>,
    pub failed: Vec<FailedTenant>,
}

impl RenderAllReport {
    /// `rendered N tenants, M failed`, then one line per failure.
    pub fn summary(&self) -> String {
        let mut out = format!(
            "rendered {} tenant(s), {} failed\n",
            self.rendered.len(),
            self.failed.len()
        );
        for f in &self.failed {
            out.push_str(&format!("  {}: {}\n", f.dir, one_line(&f.error)));
        }
        out
    }
}

/// helm's errors span several lines; a summary line per tenant keeps the list readable.
pub(crate) fn one_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The number of tenants to render at once when the caller does not say: one per CPU.
pub use crate::parallel::default_jobs;

/// The output file name of a tenant: its directory relative to the stack, `/` → `__`.
pub fn file_name(stack: &Stack, dir: &Path) -> String {
    let rel = dir.strip_prefix(&stack.dir).unwrap_or(dir);
    let parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    format!("{}.yaml", parts.join("__"))
}

/// Renders every selected tenant of the stack at `ctx.start_dir` into `out_dir` (created if
/// missing), one file per tenant named by [`file_name`], with at most `jobs` tenants at once.
///
/// Each file holds exactly what `strata render` prints for that tenant and is replaced
/// atomically, and only when the tenant rendered: a failed tenant keeps its previous file, as
/// `render -o` does. A failure does not stop the other tenants; the report lists both. Files
/// of tenants that no longer exist are not touched: `out_dir` may hold other files, and
/// deciding what is stale is the caller's business (render into a fresh directory to get
/// exactly the fleet). `progress` counts the tenants as each finishes.
///
/// Versioned charts are fetched first, each distinct one once, so parallel tenants do not all
/// race for the same cold chart; a tenant whose chart cannot be fetched fails with that error.
/// With `ctx.refresh` each tenant's render still resolves live, which is why the command line
/// refuses `--refresh` with `--all`.
pub fn render_all(
    ctx: &Context,
    selection: &Selection,
    out_dir: &Path,
    jobs: usize,
    progress: &Progress,
) -> Result<RenderAllReport, Error> {
    let (stack, found) = candidates(ctx, selection)?;
    let files: Vec<PathBuf> = found
        .iter()
        .map(|c| out_dir.join(file_name(&stack, &c.dir)))
        .collect();
    let mut seen = BTreeMap::new();
    for (c, file) in found.iter().zip(&files) {
        if let Some(other) = seen.insert(file, &c.shown) {
            return Err(Error::Input(format!(
                "tenants {other} and {} would both be written to {}; rename one of the directories",
                c.shown,
                file.display()
            )));
        }
    }
    std::fs::create_dir_all(out_dir).map_err(|e| {
        Error::Input(format!(
            "cannot create output directory {}: {e}",
            out_dir.display()
        ))
    })?;
    let chart_errors = warm_charts(ctx, &found);

    let total = found.len();
    let phase = progress.phase(total);
    let work: Vec<_> = found.iter().zip(&files).collect();
    let outcomes = crate::parallel::map(jobs, &work, |&(candidate, file)| {
        let outcome = render_one(ctx, candidate, &chart_errors, file);
        phase.step(&candidate.shown);
        outcome
    });
    drop(phase);

    let mut report = RenderAllReport::default();
    for ((c, file), outcome) in found.into_iter().zip(files).zip(outcomes) {
        match outcome {
            Ok(()) => report.rendered.push(RenderedTenant { dir: c.shown, file }),
            Err(error) => report.failed.push(FailedTenant {
                dir: c.shown,
                file,
                error,
            }),
        }
    }
    Ok(report)
}

/// Which chart a component uses, for sharing one fetch among tenants.
type ChartKey = (String, String, String);

fn chart_key(r: &RemoteChart) -> ChartKey {
    (r.source.url.clone(), r.name.clone(), r.constraint.clone())
}

fn remote_charts(resolved: &Resolved) -> impl Iterator<Item = &RemoteChart> {
    resolved.components.iter().filter_map(|c| match &c.chart {
        ChartPlan::Remote(r) => Some(r),
        ChartPlan::Local(_) | ChartPlan::Manifests(_) => None,
    })
}

/// Puts every distinct versioned chart of the tenants in the cache, once each, and returns
/// the error of each chart that could not be fetched.
pub(crate) fn warm_charts(ctx: &Context, found: &[Candidate]) -> BTreeMap<ChartKey, String> {
    let resolved: Vec<&Resolved> = found
        .iter()
        .filter_map(|c| c.resolved.as_ref().ok())
        .collect();
    let mut distinct: BTreeMap<ChartKey, &RemoteChart> = BTreeMap::new();
    for r in &resolved {
        for remote in remote_charts(r) {
            distinct.entry(chart_key(remote)).or_insert(remote);
        }
    }
    // Every tenant shares the stack, hence its lock: any tenant with a versioned chart opens it.
    let Some(first) = resolved.iter().find(|r| remote_charts(r).next().is_some()) else {
        return BTreeMap::new();
    };
    let charts: Charts = match pipeline::open_charts(first, ctx) {
        Ok(charts) => charts,
        Err(e) => {
            let text = e.to_string();
            return distinct.into_keys().map(|k| (k, text.clone())).collect();
        }
    };
    let mut errors = BTreeMap::new();
    for (key, remote) in distinct {
        if let Err(e) = charts.resolve(remote) {
            errors.insert(key, Error::from(e).to_string());
        }
    }
    errors
}

/// Renders one tenant and writes its file; the error text on failure.
fn render_one(
    ctx: &Context,
    candidate: &Candidate,
    chart_errors: &BTreeMap<ChartKey, String>,
    file: &Path,
) -> Result<(), String> {
    let resolved = candidate.resolved.as_ref().map_err(|e| e.to_string())?;
    if let Some(error) = remote_charts(resolved).find_map(|r| chart_errors.get(&chart_key(r))) {
        return Err(error.clone());
    }
    let out = pipeline::render(&tenant_context(ctx, &candidate.dir)).map_err(|e| e.to_string())?;
    write_atomically(file, &out)
}

/// Rendered manifests are published artifacts: ordinary permissions (0666 less the umask),
/// written whole or not at all.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), String> {
    crate::atomic_file::write(path, bytes, crate::atomic_file::Access::Ordinary)
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn component(chart: &str, constraint: Option<&str>, version: Option<&str>) -> ComponentSummary {
        ComponentSummary {
            name: "web".into(),
            chart: chart.into(),
            constraint: constraint.map(Into::into),
            version: version.map(Into::into),
            lock_error: None,
            layers: Vec::new(),
        }
    }

    #[test]
    fn table_aligns_columns_and_names_charts() {
        let tenants = vec![
            TenantSummary {
                dir: "customers/prod/acme".into(),
                vars: [("env".into(), "prod".into())].into(),
                var_sources: BTreeMap::new(),
                components: vec![
                    component("charts/web", None, None),
                    component("oci://r.example/charts/api", Some("^1"), Some("1.4.0")),
                ],
            },
            TenantSummary {
                dir: "t/b".into(),
                vars: [("env".into(), "dev".into()), ("x".into(), "1".into())].into(),
                var_sources: BTreeMap::new(),
                components: vec![component("https://c.example/api", Some("~2"), None)],
            },
        ];
        assert_eq!(
            table(&tenants),
            "TENANT               VARS         CHARTS\n\
             customers/prod/acme  env=prod     charts/web, api@1.4.0\n\
             t/b                  env=dev,x=1  api@~2 (not locked)\n"
        );
    }

    #[test]
    fn summary_lists_failures_on_one_line_each() {
        let report = RenderAllReport {
            rendered: vec![RenderedTenant {
                dir: "a".into(),
                file: "out/a.yaml".into(),
            }],
            failed: vec![FailedTenant {
                dir: "b".into(),
                file: "out/b.yaml".into(),
                error: "helm failed:\n  Error: boom\n".into(),
            }],
        };
        assert_eq!(
            report.summary(),
            "rendered 1 tenant(s), 1 failed\n  b: helm failed: Error: boom\n"
        );
    }
}
