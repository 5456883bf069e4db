//! The whole path from a context to manifests, shared by `generate`, `render`, `values`,
//! `explain` and `parameters`.

pub mod fingerprint;

use crate::Error;
use crate::budget::{Budget, DEFAULT_RENDER_BUDGET};
use crate::chart::cache::Cache;
use crate::chart::lock::{LOCK_FILE, Lock};
use crate::chart::resolve::{Charts, Mode};
use crate::config::{self, Stack};
use crate::context::Context;
use crate::manifests;
use crate::paths::RepoRoot;
use crate::plan::{ChartPlan, ComponentPlan, RemoteChart, plan_components};
use crate::post_render::{self, PostRender};
use crate::render::{self, Renderer, Request};
use crate::render_cache::RenderCache;
use crate::template::Templater;
use crate::tenant::{self, Tenant};
use crate::values::layer::Layer;
use crate::values::merge::merge_layers;
use crate::values::parameters::layer_from_map;
use crate::values::{Node, Origin};
use fingerprint::ChartMemo;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A stack and tenant, resolved and planned.
#[derive(Debug)]
pub struct Resolved {
    pub root: RepoRoot,
    pub stack: Stack,
    pub tenant: Tenant,
    pub components: Vec<ComponentPlan>,
}

/// Finds and loads the stack for the context, without resolving a tenant.
pub fn load_stack(ctx: &Context) -> Result<(RepoRoot, Stack), Error> {
    let start = ctx.start_dir.canonicalize().map_err(|e| {
        Error::Input(format!(
            "cannot use directory {}: {e}",
            ctx.start_dir.display()
        ))
    })?;
    let root_dir = RepoRoot::discover(&start, ctx.source_path.as_deref());
    let limit = root_dir
        .clone()
        .unwrap_or_else(|| start.ancestors().last().unwrap_or(&start).to_path_buf());
    let stack_file = config::find_stack_file(&start, &limit)?;
    // Without a repository, the stack directory itself is the boundary.
    let root = RepoRoot::new(&root_dir.unwrap_or_else(|| {
        stack_file
            .parent()
            .expect("a file has a parent")
            .to_path_buf()
    }))?;
    let shown = root.display(&stack_file);
    let stack = Stack::load(&stack_file, shown)?;
    Ok((root, stack))
}

/// Resolves the tenant and plans its components.
pub fn resolve(ctx: &Context) -> Result<Resolved, Error> {
    let (root, stack) = load_stack(ctx)?;
    let templater = Templater::default();
    let mut tenant = tenant::resolve(&stack, &root, ctx, &templater)?;
    crate::tenant::assign_wave(&stack, &mut tenant)?;
    let components = plan_components(&stack, &root, &tenant, ctx, &templater)?;
    Ok(Resolved {
        root,
        stack,
        tenant,
        components,
    })
}

/// The values of one component: its layers in order and their merge.
#[derive(Debug)]
pub struct ComponentValues {
    pub layers: Vec<Layer>,
    pub merged: Node,
}

/// What preparing many tenants of one tree reads again and again: chart fingerprints and the
/// parsed layer files they share (common, environment, region). Files do not change while
/// one command runs, so each is read once.
#[derive(Debug, Default)]
pub struct Memo {
    pub charts: ChartMemo,
    layers: HashMap<PathBuf, Layer>,
}

/// Reads a component's layer files and the parameter layers, and merges them.
pub fn component_values(
    component: &ComponentPlan,
    ctx: &Context,
) -> Result<ComponentValues, Error> {
    component_values_with(component, ctx, None)
}

/// [`component_values`], taking plain (not templated) layers already parsed from `memo`.
fn component_values_with(
    component: &ComponentPlan,
    ctx: &Context,
    mut memo: Option<&mut Memo>,
) -> Result<ComponentValues, Error> {
    let mut layers = Vec::new();
    for file in &component.layers {
        if file.template_vars.is_none()
            && let Some(layer) = memo.as_ref().and_then(|m| m.layers.get(&file.path))
        {
            layers.push(layer.clone());
            continue;
        }
        let text = match std::fs::read_to_string(&file.path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && file.optional => {
                tracing::debug!("optional layer {} is absent", file.shown);
                continue;
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::Input(format!(
                    "values layer {} does not exist (declared at {} for component {:?}); create it, fix the path, or mark it optional with a trailing '?'",
                    file.shown, file.declared_at, component.name
                )));
            }
            Err(e) => {
                return Err(Error::Input(format!(
                    "cannot read values layer {}: {e}",
                    file.shown
                )));
            }
        };
        let source = Arc::from(file.shown.as_str());
        let layer = match &file.template_vars {
            Some(vars) => Layer::from_template(&text, source, vars)?,
            None => Layer::from_yaml(&text, source)?,
        };
        if file.template_vars.is_none()
            && let Some(memo) = memo.as_deref_mut()
        {
            memo.layers.insert(file.path.clone(), layer.clone());
        }
        layers.push(layer);
    }
    if let Some(yaml) = &ctx.parameter_values.yaml {
        let source = format!("Argo CD parameter {:?}", crate::context::VALUES_YAML_PARAM);
        layers.push(Layer::from_yaml(yaml, Arc::from(source))?);
    }
    if let Some(map) = &ctx.parameter_values.map {
        let source = format!("Argo CD parameter {:?}", crate::context::VALUES_PARAM);
        layers.push(layer_from_map(map, Arc::from(source))?);
    }
    let base = Node::empty_map(Origin {
        source: Arc::from("(no layer)"),
        line: 0,
    });
    let merged = merge_layers(base, &layers);
    Ok(ComponentValues { layers, merged })
}

/// Everything a render needs besides helm, read and checked.
pub struct RenderInputs {
    pub charts: Vec<FetchedChart>,
    /// Each component's merged values, as the JSON helm receives.
    pub values: Vec<Vec<u8>>,
    pub prepared: Vec<PreparedPost>,
    /// Each component's patches, applied after helm.
    pub patches: Vec<crate::post_render::patch::Patches>,
}

/// Every tenant of `stack`, resolved in tenant-directory order: what promote and rollout
/// reason about before anything is rendered.
pub fn resolve_every_tenant(ctx: &Context, stack: &Stack) -> Result<Vec<Resolved>, Error> {
    tenant::list_tenant_dirs(stack)?
        .into_iter()
        .map(|dir| {
            resolve(&Context {
                start_dir: dir,
                ..ctx.clone()
            })
        })
        .collect()
}

/// Reads every layer, resolves every chart and prepares post-render settings and manifests
/// components, without running helm: what `init` checks and `render` starts from.
pub fn prepare_inputs(resolved: &Resolved, ctx: &Context) -> Result<RenderInputs, Error> {
    let budget = Budget::starting_now(render_budget(resolved, ctx));
    prepare_inputs_within(resolved, ctx, budget)
}

/// [`prepare_inputs`] within what is left of `budget`.
pub fn prepare_inputs_within(
    resolved: &Resolved,
    ctx: &Context,
    budget: Budget,
) -> Result<RenderInputs, Error> {
    // Charts are resolved even when the render cache will answer: a versioned chart's identity
    // is its locked digest, and a lock or pin problem must fail the same way warm or cold.
    let charts = resolve_charts_within(resolved, ctx, budget)?;
    // Every layer of every component is read and merged before helm runs once: a broken layer
    // fails in milliseconds instead of after the first chart has rendered.
    let values: Vec<Vec<u8>> = resolved
        .components
        .iter()
        .map(|c| {
            let merged = component_values(c, ctx)?.merged.to_json();
            Ok(crate::values::to_helm_json(&merged))
        })
        .collect::<Result<_, Error>>()?;
    // Labels, annotations and manifests components are resolved before the cache key, which
    // covers them; both cost file reads, not a helm run.
    let templater = Templater::default();
    let vars = resolved.tenant.values();
    let prepared: Vec<PreparedPost> = resolved
        .components
        .iter()
        .zip(&charts)
        .map(|(c, chart)| prepare_post(&resolved.root, c, chart, &templater, &vars))
        .collect::<Result<_, _>>()?;
    let patches = resolved
        .components
        .iter()
        .map(|c| crate::post_render::patch::Patches::load(&c.patches, &vars))
        .collect::<Result<_, _>>()?;
    Ok(RenderInputs {
        charts,
        values,
        prepared,
        patches,
    })
}

/// The prepare stage's result for one tenant: every layer read and merged once, patches read,
/// and the fingerprint of everything the render depends on. The render, the render cache and
/// `strata diff` all start from it, so no tenant is merged twice.
#[derive(Debug)]
pub struct Prepared {
    /// Each component's layers and their merge, with provenance.
    pub values: Vec<ComponentValues>,
    /// Each component's merged values, as the JSON the renderer receives.
    pub values_json: Vec<Vec<u8>>,
    /// Each component's patches, applied after the renderer.
    pub patches: Vec<crate::post_render::patch::Patches>,
    /// See [`fingerprint::tenant`]; `None` when it could not be taken, which only turns the
    /// render cache off.
    pub fingerprint: Option<String>,
    /// The charts, when they were fetched while preparing.
    pub charts: Option<Vec<FetchedChart>>,
}

/// The context a tenant renders in: the tenant's cluster facts from strata.yaml, where the
/// caller gave none.
pub fn tenant_context(resolved: &Resolved, ctx: &Context) -> Context {
    crate::clusters::with_cluster_facts(
        ctx,
        &resolved.stack,
        &resolved.tenant.values(),
        &resolved.tenant.shown_dir,
    )
}

/// Reads and merges every component's layers, once per tenant (logged at debug level, which
/// tests count).
pub fn merge_values(resolved: &Resolved, ctx: &Context) -> Result<Vec<ComponentValues>, Error> {
    resolved
        .components
        .iter()
        .map(|c| merge_component(resolved, c, ctx))
        .collect()
}

/// [`merge_values`] with layer files shared through `memo`.
fn merge_values_with(
    resolved: &Resolved,
    ctx: &Context,
    memo: &mut Memo,
) -> Result<Vec<ComponentValues>, Error> {
    resolved
        .components
        .iter()
        .map(|c| {
            let values = component_values_with(c, ctx, Some(memo))?;
            log_merge(resolved, c);
            Ok(values)
        })
        .collect()
}

fn log_merge(resolved: &Resolved, component: &ComponentPlan) {
    tracing::debug!(
        "merged values of component {} for tenant {}",
        component.name,
        resolved.tenant.shown_dir
    );
}

/// One component's [`component_values`], logged as a merge of its tenant.
pub fn merge_component(
    resolved: &Resolved,
    component: &ComponentPlan,
    ctx: &Context,
) -> Result<ComponentValues, Error> {
    let values = component_values(component, ctx)?;
    log_merge(resolved, component);
    Ok(values)
}

/// Completes a [`Prepared`] from merged values: the renderer's JSON and the patches.
fn with_values(resolved: &Resolved, values: Vec<ComponentValues>) -> Result<Prepared, Error> {
    let values_json = values
        .iter()
        .map(|v| crate::values::to_helm_json(&v.merged.to_json()))
        .collect();
    let vars = resolved.tenant.values();
    let patches = resolved
        .components
        .iter()
        .map(|c| crate::post_render::patch::Patches::load(&c.patches, &vars))
        .collect::<Result<_, _>>()?;
    Ok(Prepared {
        values,
        values_json,
        patches,
        fingerprint: None,
        charts: None,
    })
}

/// Prepares a tenant without fetching anything: versioned charts are named by their locked
/// digests. What `strata diff` compares; a chart that cannot be named is an error.
/// `ctx` is the tenant's context ([`tenant_context`]).
pub fn prepare_locked(
    resolved: &Resolved,
    ctx: &Context,
    memo: &mut Memo,
) -> Result<Prepared, Error> {
    let charts = open_charts(resolved, ctx)?;
    let ids = fingerprint::chart_ids(
        &resolved.components,
        &resolved.root,
        &mut memo.charts,
        &|r| Ok(charts.locked_entry(r)?.digest),
    )?;
    let mut prepared = with_values(resolved, merge_values_with(resolved, ctx, memo)?)?;
    prepared.fingerprint = Some(fingerprint::tenant(
        &resolved.components,
        &resolved.tenant.values(),
        ctx,
        &ids,
        &prepared.values_json,
        &prepared.patches,
    ));
    Ok(prepared)
}

/// Prepares a tenant for rendering: charts fetched first (a lock or pin problem fails the same
/// way whether or not the render cache will answer), then the values merged, then the
/// fingerprint, named by what was fetched.
pub fn prepare(resolved: &Resolved, ctx: &Context, budget: Budget) -> Result<Prepared, Error> {
    let charts = resolve_charts_within(resolved, ctx, budget)?;
    let values = merge_values(resolved, ctx)?;
    prepare_fetched(resolved, ctx, charts, values)
}

/// [`prepare`] from charts already fetched and values already merged, for callers that
/// check those first (`strata check`).
pub fn prepare_fetched(
    resolved: &Resolved,
    ctx: &Context,
    charts: Vec<FetchedChart>,
    values: Vec<ComponentValues>,
) -> Result<Prepared, Error> {
    let mut prepared = with_values(resolved, values)?;
    let fetched: HashMap<(&str, &str, &str), &str> = charts
        .iter()
        .flat_map(|c| c.prepared.iter().flat_map(|p| &p.locked).chain(&c.entry))
        .map(|e| {
            (
                (
                    e.repository.as_str(),
                    e.chart.as_str(),
                    e.constraint.as_str(),
                ),
                e.digest.as_str(),
            )
        })
        .collect();
    let digest_of = |r: &RemoteChart| {
        fetched
            .get(&(
                r.source.url.as_str(),
                r.name.as_str(),
                r.constraint.as_str(),
            ))
            .map(|d| (*d).to_owned())
            .ok_or_else(|| Error::Input(format!("chart {} was not fetched", r.name)))
    };
    let memo = &mut ChartMemo::default();
    prepared.fingerprint =
        fingerprint::chart_ids(&resolved.components, &resolved.root, memo, &digest_of)
            .map(|ids| {
                fingerprint::tenant(
                    &resolved.components,
                    &resolved.tenant.values(),
                    ctx,
                    &ids,
                    &prepared.values_json,
                    &prepared.patches,
                )
            })
            .map_err(|e| {
                let tenant = &resolved.tenant.shown_dir;
                tracing::debug!("render cache off for tenant {tenant}: {e}")
            })
            .ok();
    prepared.charts = Some(charts);
    Ok(prepared)
}

/// Renders every component in order into one stream. Nothing is returned unless every
/// component rendered, so a caller never prints part of an application.
pub fn render(ctx: &Context) -> Result<Vec<u8>, Error> {
    let started = Instant::now();
    let resolved = resolve(ctx)?;
    render_resolved(&resolved, ctx, started)
}

/// [`render`] of a tenant already resolved (with `ctx`), whose budget began at `started`.
pub fn render_resolved(
    resolved: &Resolved,
    ctx: &Context,
    started: Instant,
) -> Result<Vec<u8>, Error> {
    let ctx = &tenant_context(resolved, ctx);
    // One budget for the whole render, downloads included: Argo CD's deadline covers the
    // request, not each chart.
    let budget = Budget::new(render_budget(resolved, ctx), started);
    let prepared = prepare(resolved, ctx, budget)?;
    render_prepared(resolved, &prepared, ctx, budget)
}

/// Renders a prepared tenant: through the render cache when its fingerprint is known, else
/// with the renderer. `ctx` is the tenant's context ([`tenant_context`]).
pub fn render_prepared(
    resolved: &Resolved,
    prepared: &Prepared,
    ctx: &Context,
    budget: Budget,
) -> Result<Vec<u8>, Error> {
    let fetched;
    let charts = match &prepared.charts {
        Some(charts) => charts,
        None => {
            fetched = resolve_charts_within(resolved, ctx, budget)?;
            &fetched
        }
    };
    // Labels, annotations and manifests components are resolved before the cache is asked,
    // so a broken label fails the same way warm or cold.
    let templater = Templater::default();
    let vars = resolved.tenant.values();
    let post: Vec<PreparedPost> = resolved
        .components
        .iter()
        .zip(charts)
        .map(|(c, chart)| prepare_post(&resolved.root, c, chart, &templater, &vars))
        .collect::<Result<_, _>>()?;
    let renderer =
        render::from_context(ctx, &resolved.stack.spec, budget.deadline(), budget.total())?;
    let tenant = resolved.tenant.shown_dir.as_str();
    let render_cache = (!ctx.no_cache).then(RenderCache::from_env);
    let cache_key = render_cache
        .as_ref()
        .zip(prepared.fingerprint.as_deref())
        .and_then(|(cache, fingerprint)| {
            cache
                .key(
                    renderer.as_ref(),
                    fingerprint,
                    resolved.stack.spec.allow_empty,
                )
                .map_err(|e| tracing::debug!("render cache off for tenant {tenant}: {e}"))
                .ok()
        });
    if let (Some(cache), Some(key)) = (&render_cache, &cache_key)
        && let Some(stream) = cache.get(key, tenant)
    {
        return Ok(stream);
    }
    let stream = render_components(resolved, prepared, charts, &post, renderer.as_ref(), ctx)?;
    // Asked only before storing: an entry exists only for charts that had none when stored,
    // and the chart's files are part of the key, so a hit never needs the question.
    if let (Some(cache), Some(key)) = (&render_cache, &cache_key)
        && !uses_random_functions(resolved, charts, renderer.as_ref())
    {
        cache.put(key, tenant, &stream);
    }
    Ok(stream)
}

/// Whether a component's chart calls random functions: its output changes on every render,
/// so a stored stream would stand for one of many outputs, and the tenant is not stored.
fn uses_random_functions(
    resolved: &Resolved,
    charts: &[FetchedChart],
    renderer: &dyn Renderer,
) -> bool {
    resolved
        .components
        .iter()
        .zip(charts)
        .filter(|(c, _)| !matches!(c.chart, ChartPlan::Manifests(_)))
        .any(|(c, chart)| {
            let random = renderer.random_functions(&chart.dir, &c.chart_shown);
            if !random.is_empty() {
                tracing::debug!(
                    "render cache: not storing tenant {}: chart {} uses random functions",
                    resolved.tenant.shown_dir,
                    c.chart_shown
                );
            }
            !random.is_empty()
        })
}

/// Renders every component and joins the outputs in declaration order. Components render
/// concurrently (each renderer call is its own helm process) and are joined in declaration
/// order, so the stream is the same as a sequential render's, sooner. Inside a fleet command
/// they share its `-j` workers.
fn render_components(
    resolved: &Resolved,
    prepared: &Prepared,
    charts: &[FetchedChart],
    post: &[PreparedPost],
    renderer: &dyn Renderer,
    ctx: &Context,
) -> Result<Vec<u8>, Error> {
    let work: Vec<_> = resolved
        .components
        .iter()
        .zip(&prepared.values_json)
        .zip(charts)
        .zip(post)
        .zip(&prepared.patches)
        .collect();
    let outputs = crate::parallel::map(
        crate::parallel::default_jobs(),
        &work,
        |&((((component, json), chart), post), patches)| {
            if let Some(out) = &post.manifests {
                return Ok(patches.apply(&component.name, out.clone())?);
            }
            let out = renderer.render(&Request {
                component: &component.name,
                chart: &chart.dir,
                chart_shown: &component.chart_shown,
                release: &component.release,
                namespace: &component.namespace,
                values_json: json,
                kube_version: ctx.kube_version.as_deref(),
                api_versions: &ctx.api_versions,
                include_crds: component.include_crds,
                skip_tests: component.skip_tests,
            })?;
            let out = post.post.rewrite_helm_output(&component.name, out)?;
            Ok::<_, Error>(patches.apply(&component.name, out)?)
        },
    );
    let mut stream = Vec::new();
    for out in outputs {
        stream.extend_from_slice(&out?);
    }
    if !resolved.stack.spec.allow_empty && manifests::count_objects(&stream) == 0 {
        return Err(Error::EmptyRender {
            components: resolved
                .components
                .iter()
                .map(|c| format!("{} from {}", c.name, c.chart_shown))
                .collect::<Vec<_>>()
                .join(", "),
            stack_file: resolved.stack.file_name.clone(),
        });
    }
    Ok(stream)
}

/// A component's post-render settings, resolved before the renderer runs (the render cache
/// key covers them), and the whole output of a `manifests` component, which needs no
/// renderer.
#[derive(Debug, Clone, Default)]
pub struct PreparedPost {
    pub post: PostRender,
    pub manifests: Option<Vec<u8>>,
}

/// Resolves a component's labels and annotations, then renders it if it is a manifests
/// component, with those set on every object.
fn prepare_post(
    root: &RepoRoot,
    component: &ComponentPlan,
    chart: &FetchedChart,
    templater: &Templater,
    vars: &BTreeMap<String, String>,
) -> Result<PreparedPost, Error> {
    let post = post_render::prepare(component, &chart.dir, templater, vars)?;
    let manifests = match &component.chart {
        ChartPlan::Manifests(plan) => Some(
            render::manifests::render(plan, root, templater, vars, |object| post.apply(object))
                .map_err(render::RenderError::from)?,
        ),
        _ => None,
    };
    Ok(PreparedPost { post, manifests })
}

/// A component's chart, ready for helm.
#[derive(Debug, Clone)]
pub struct FetchedChart {
    pub dir: PathBuf,
    /// The lock entry of a versioned chart; `None` for a chart in the repository.
    pub entry: Option<crate::chart::lock::LockEntry>,
    /// A repository chart copied with its dependencies laid in; `dir` points into it, and it
    /// is removed when the last clone is dropped.
    pub prepared: Option<crate::chart::deps::PreparedChart>,
}

/// The time budget of one render: `--timeout` or `STRATA_TIMEOUT`, else the stack's
/// `timeoutSeconds`, else [`DEFAULT_RENDER_BUDGET`].
pub fn render_budget(resolved: &Resolved, ctx: &Context) -> Duration {
    ctx.timeout
        .or(resolved.stack.spec.timeout_seconds.map(Duration::from_secs))
        .unwrap_or(DEFAULT_RENDER_BUDGET)
}

/// Every component's chart, in order, with its digest when it has one.
pub fn resolve_charts(resolved: &Resolved, ctx: &Context) -> Result<Vec<FetchedChart>, Error> {
    let budget = Budget::starting_now(render_budget(resolved, ctx));
    resolve_charts_within(resolved, ctx, budget)
}

/// [`resolve_charts`] within what is left of `budget`.
pub fn resolve_charts_within(
    resolved: &Resolved,
    ctx: &Context,
    budget: Budget,
) -> Result<Vec<FetchedChart>, Error> {
    let charts = open_charts(resolved, ctx)?.with_budget(budget);
    resolved
        .components
        .iter()
        .map(|c| match &c.chart {
            ChartPlan::Local(path) => {
                // helm follows links; none may lead out of the repository.
                resolved.root.check_links(
                    path,
                    &format!("component {:?} chart {}", c.name, c.chart_shown),
                )?;
                let prepared =
                    crate::chart::deps::prepare(path, &resolved.root, c.plain_http, &charts)?;
                Ok(FetchedChart {
                    dir: prepared
                        .as_ref()
                        .map_or_else(|| path.clone(), |p| p.dir.clone()),
                    entry: None,
                    prepared,
                })
            }
            // Not a chart, but its files are what the render reads, and what the cache hashes.
            ChartPlan::Manifests(m) => Ok(FetchedChart {
                dir: m.dir.clone(),
                entry: None,
                prepared: None,
            }),
            ChartPlan::Remote(remote) => {
                let chart = charts.resolve(remote)?;
                Ok(FetchedChart {
                    dir: chart.dir,
                    entry: Some(chart.entry),
                    prepared: None,
                })
            }
        })
        .collect()
}

/// The chart resolver for a stack: its lock, the shared cache, the context's mode.
pub fn open_charts(resolved: &Resolved, ctx: &Context) -> Result<Charts, Error> {
    let lock_path = resolved.stack.dir.join(LOCK_FILE);
    let lock_shown = resolved.root.display(&resolved.stack.dir.join(LOCK_FILE));
    // Only stacks with versioned charts, or repository charts that may have dependencies,
    // need the lock read at all.
    let needs_lock = resolved.components.iter().any(|c| match &c.chart {
        ChartPlan::Remote(_) => true,
        ChartPlan::Local(path) => path.is_dir(),
        ChartPlan::Manifests(_) => false,
    });
    let lock = if needs_lock && !ctx.refresh {
        Lock::load(&lock_path, &lock_shown)?
    } else {
        None
    };
    let mode = if ctx.refresh {
        Mode::Live
    } else {
        Mode::Locked
    };
    Ok(Charts::new(
        Cache::from_env(),
        lock,
        lock_shown,
        mode,
        ctx.offline,
    ))
}

/// How a component's chart version was chosen, for `strata explain`. Reads only the lock.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChartChoice {
    pub chart: String,
    pub constraint: String,
    pub chosen_by: String,
    /// The locked version, or why there is none.
    pub version: Result<String, String>,
}

pub fn chart_choices(
    resolved: &Resolved,
    ctx: &Context,
) -> Result<Vec<Option<ChartChoice>>, Error> {
    let charts = open_charts(resolved, ctx)?;
    Ok(resolved
        .components
        .iter()
        .map(|c| match &c.chart {
            ChartPlan::Local(_) | ChartPlan::Manifests(_) => None,
            ChartPlan::Remote(r) => Some(ChartChoice {
                chart: format!("{}/{}", r.source.url, r.name),
                constraint: r.constraint.clone(),
                chosen_by: r.chosen_by.clone(),
                version: charts
                    .locked_entry(r)
                    .map(|e| e.version)
                    .map_err(|e| e.to_string()),
            }),
        })
        .collect())
}
