//! `strata diff`: what a change to the repository does to each tenant's rendered manifests,
//! for pull-request previews.
//!
//! Both sides are read from git without touching the user's checkout ([`git`]); every tenant's
//! render inputs are digested ([`inputs`]) and only tenants whose inputs differ are rendered,
//! with the same pipeline as `generate`; their manifests are compared object by object
//! ([`objects`]), their merged values key by key with provenance ([`values`]), and the result
//! is printed for a terminal, a pull-request comment or a program ([`report`]).

pub mod chart_ref;
pub mod charts;
pub mod git;
pub mod ignore;
pub mod impact;
pub mod inputs;
pub mod mask;
pub mod objects;
pub mod report;
pub mod values;

use crate::context::Context;
use crate::pipeline;
use crate::selector::Selection;
use crate::terminal::Progress;
use crate::yaml::YamlError;
use git::{GitError, Repo};
use ignore::IgnorePath;
use inputs::SideTenant;
use objects::{Change, ObjectChange, ObjectId};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};
use values::{ValueChange, ValueGroup};

/// What to compare.
#[derive(Debug, Clone)]
pub struct DiffOptions {
    /// A directory inside the stack; tenants at or below it are compared.
    pub dir: PathBuf,
    pub base: String,
    /// `None`: the working tree, as it is on disk.
    pub head: Option<String>,
    pub selection: Selection,
    pub ignore: Vec<IgnorePath>,
    /// Render settings shared by both sides: helm binary, cluster facts, time budget.
    pub context: Context,
    /// Counts the renders of changed tenants (on a terminal).
    pub progress: Progress,
    /// How many renders run at once (`-j`).
    pub jobs: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    #[error(transparent)]
    Git(#[from] GitError),
    #[error("cannot use directory {dir}: {message}")]
    Dir { dir: String, message: String },
    #[error("at {side}: {source}")]
    Side {
        side: String,
        #[source]
        source: crate::Error,
    },
    #[error("at {side}: tenant {tenant}: the rendered manifests are not YAML: {source}")]
    Manifests {
        side: String,
        tenant: String,
        #[source]
        source: YamlError,
    },
    #[error(transparent)]
    Selector(Box<crate::selector::SelectorError>),
    #[error("{dir} does not exist at {base} nor at {head}")]
    NoStack {
        dir: String,
        base: String,
        head: String,
    },
}

/// One side of the comparison, as the user named it.
#[derive(Debug, Clone, Serialize)]
pub struct Revision {
    /// The revision as given (`origin/main`), or `working tree`.
    pub name: String,
    /// The full commit id; `None` for the working tree.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
}

impl fmt::Display for Revision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.commit {
            Some(c) if !c.starts_with(&self.name) => {
                write!(f, "{} ({})", self.name, git::short(c))
            }
            _ => f.write_str(&self.name),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TenantStatus {
    Changed,
    Added,
    Removed,
}

/// A tenant whose manifests or values differ.
#[derive(Debug, Clone, Serialize)]
pub struct TenantDiff {
    /// The tenant directory, relative to the repository root.
    pub tenant: String,
    pub status: TenantStatus,
    /// The tenant's variables (head side, base side for a removed tenant).
    pub vars: BTreeMap<String, String>,
    pub values: Vec<ValueChange>,
    pub objects: Vec<ObjectChange>,
    /// What the change does to the running tenant: restarts, refused updates, deletions.
    pub impact: Vec<impact::Impact>,
}

impl TenantDiff {
    pub fn count(&self, change: Change) -> usize {
        self.objects.iter().filter(|o| o.change == change).count()
    }
}

/// The whole comparison.
#[derive(Debug, Clone)]
pub struct DiffReport {
    pub base: Revision,
    pub head: Revision,
    /// Tenants on either side (after the selector).
    pub compared: usize,
    /// Tenants whose inputs differ, which were rendered.
    pub rendered: usize,
    /// Tenants with a difference, by directory.
    pub tenants: Vec<TenantDiff>,
    /// Chart version changes, the most widespread first.
    pub charts: Vec<charts::ChartBump>,
    /// The variables that group tenants (`env`, `region`): those bound by the tenant path
    /// above its last segment, and the stack's own `vars`. Counts are broken down by them.
    pub group_vars: Vec<String>,
}

/// The numbers of the summary line and table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    pub tenants_compared: usize,
    pub tenants_changed: usize,
    pub tenants_added: usize,
    pub tenants_removed: usize,
    pub tenants_unchanged: usize,
    pub tenants_rendered: usize,
    pub objects_added: usize,
    pub objects_removed: usize,
    pub objects_changed: usize,
}

impl DiffReport {
    pub fn has_changes(&self) -> bool {
        !self.tenants.is_empty()
    }

    pub fn counts(&self) -> Counts {
        let status = |s: TenantStatus| self.tenants.iter().filter(|t| t.status == s).count();
        let objects = |c: Change| self.tenants.iter().map(|t| t.count(c)).sum();
        Counts {
            tenants_compared: self.compared,
            tenants_changed: status(TenantStatus::Changed),
            tenants_added: status(TenantStatus::Added),
            tenants_removed: status(TenantStatus::Removed),
            tenants_unchanged: self.compared - self.tenants.len(),
            tenants_rendered: self.rendered,
            objects_added: objects(Change::Added),
            objects_removed: objects(Change::Removed),
            objects_changed: objects(Change::Changed),
        }
    }

    /// The rollout impact counts and the headline sentence.
    pub fn impact_summary(&self) -> impact::ImpactSummary {
        impact::summarize(
            self.tenants.iter().map(|t| impact::TenantImpacts {
                tenant: &t.tenant,
                vars: &t.vars,
                impacts: &t.impact,
            }),
            self.compared,
            &self.group_vars,
        )
    }

    /// Identical impacts across tenants.
    pub fn impact_groups(&self) -> Vec<impact::ImpactGroup> {
        impact::group(
            self.tenants
                .iter()
                .map(|t| (t.tenant.as_str(), t.impact.as_slice())),
        )
    }

    /// Identical value changes across tenants.
    pub fn value_groups(&self) -> Vec<ValueGroup> {
        values::group(
            self.tenants
                .iter()
                .map(|t| (t.tenant.as_str(), t.values.as_slice())),
        )
    }
}

/// One side's files and what was found there.
struct Side {
    label: String,
    tenants: Option<Vec<SideTenant>>,
}

/// The base and head revisions as named, with their commits (none for the working tree).
fn revisions(
    repo: &Repo,
    opts: &DiffOptions,
) -> Result<(Revision, String, Revision, Option<String>), DiffError> {
    let base_commit = repo.commit(&opts.base, "base")?;
    let base = Revision {
        name: opts.base.clone(),
        commit: Some(base_commit.clone()),
    };
    let (head, head_commit) = match &opts.head {
        Some(rev) => {
            let commit = repo.commit(rev, "head")?;
            let head = Revision {
                name: rev.clone(),
                commit: Some(commit.clone()),
            };
            (head, Some(commit))
        }
        None => (
            Revision {
                name: "working tree".into(),
                commit: None,
            },
            None,
        ),
    };
    Ok((base, base_commit, head, head_commit))
}

/// Compares the two sides of `opts`.
pub fn run(opts: &DiffOptions) -> Result<DiffReport, DiffError> {
    let dir = opts.dir.canonicalize().map_err(|e| DiffError::Dir {
        dir: opts.dir.display().to_string(),
        message: e.to_string(),
    })?;
    let repo = Repo::discover(&dir)?;
    let rel_dir = dir
        .strip_prefix(repo.top())
        .map_err(|_| DiffError::Dir {
            dir: dir.display().to_string(),
            message: format!("it is outside the repository {}", repo.top().display()),
        })?
        .to_path_buf();

    let (base, base_commit, head, head_commit) = revisions(&repo, opts)?;
    // The snapshots live until the end of this function, and are removed with it.
    let base_snapshot = repo.snapshot(&base_commit)?;
    let head_snapshot = head_commit.map(|c| repo.snapshot(&c)).transpose()?;
    let head_root = head_snapshot
        .as_ref()
        .map_or(repo.top(), |snapshot| snapshot.root());

    let load = |role: &str, revision: &Revision, root| -> Result<Side, DiffError> {
        let label = format!("{role} {revision}");
        let tenants =
            inputs::load_side(root, &rel_dir, &opts.context).map_err(|source| DiffError::Side {
                side: label.clone(),
                source,
            })?;
        Ok(Side { label, tenants })
    };
    let base_side = load("base", &base, base_snapshot.root())?;
    let head_side = load("head", &head, head_root)?;
    if base_side.tenants.is_none() && head_side.tenants.is_none() {
        return Err(DiffError::NoStack {
            dir: rel_dir.display().to_string(),
            base: base.to_string(),
            head: head.to_string(),
        });
    }

    let pairs = pair_tenants(&base_side, &head_side, &opts.selection, &rel_dir)?;
    let compared = pairs.len();
    let changed: Vec<(&String, &Pair)> = pairs
        .iter()
        .filter(|(_, (b, h))| match (b, h) {
            (Some(b), Some(h)) => b.digest != h.digest,
            _ => true,
        })
        .collect();

    let tenants = diff_changed(&changed, &base_side, &head_side, opts)?;
    let group_vars = group_vars(
        pairs
            .values()
            .flat_map(|(b, h)| b.iter().chain(h.iter()).copied()),
    );
    let charts = charts::bumps(
        changed
            .iter()
            .filter_map(|(_, (b, h))| Some(((*b)?, (*h)?))),
        group_vars.first().map(String::as_str),
    );
    Ok(DiffReport {
        base,
        head,
        compared,
        rendered: changed.len(),
        tenants,
        charts,
        group_vars,
    })
}

/// Renders the changed tenants on their sides and compares them; a tenant whose render and
/// values come out the same is left out.
fn diff_changed(
    changed: &[(&String, &Pair)],
    base_side: &Side,
    head_side: &Side,
    opts: &DiffOptions,
) -> Result<Vec<TenantDiff>, DiffError> {
    let mut jobs: Vec<(&Side, &SideTenant)> = Vec::new();
    for (_, (b, h)) in changed {
        if let Some(b) = b {
            jobs.push((base_side, b));
        }
        if let Some(h) = h {
            jobs.push((head_side, h));
        }
    }
    let mut rendered = render_all(&jobs, &opts.progress, opts.jobs)?.into_iter();

    let mut objects = Vec::new();
    for (_, pair) in changed {
        let base_objects = pair.0.map(|_| rendered.next().expect("one render per job"));
        let head_objects = pair.1.map(|_| rendered.next().expect("one render per job"));
        objects.push((base_objects, head_objects));
    }
    // Every Secret value of every rendered tenant, on either side, is hidden everywhere.
    let mut secrets = BTreeSet::new();
    for (b, h) in &objects {
        for side in [b, h].into_iter().flatten() {
            secrets.extend(objects::secret_values(&side.objects));
        }
    }
    let mask = mask::Mask::new(secrets);
    let mut tenants = Vec::new();
    for ((dir, pair), (b, h)) in changed.iter().zip(&objects) {
        if let Some(diff) = tenant_diff(dir, pair, (b.as_ref(), h.as_ref()), &opts.ignore, &mask) {
            tenants.push(diff);
        }
    }
    Ok(tenants)
}

type Pair<'a> = (Option<&'a SideTenant>, Option<&'a SideTenant>);

/// A rendered tenant's differences; `None` when a changed tenant renders the same objects
/// and has the same values (a chart file helm ignores, say).
fn tenant_diff(
    dir: &str,
    (base, head): &Pair,
    (base_objects, head_objects): (Option<&Rendered>, Option<&Rendered>),
    ignore: &[IgnorePath],
    mask: &mask::Mask,
) -> Option<TenantDiff> {
    let empty = BTreeMap::new();
    let (old, new) = (
        base_objects.map_or(&empty, |r| &r.objects),
        head_objects.map_or(&empty, |r| &r.objects),
    );
    let mut objects = objects::compare(old, new, ignore, mask);
    for object in &mut objects {
        for side in [base_objects, head_objects].into_iter().flatten() {
            for at in side.patched_by(&object.id) {
                if !object.patched_by.iter().any(|a| a == at) {
                    object.patched_by.push(at.to_owned());
                }
            }
        }
    }
    let (status, values) = match (base, head) {
        (Some(b), Some(h)) => {
            let mut values = values::changes(&b.components, &h.components);
            values::redact(&mut values, mask);
            (TenantStatus::Changed, values)
        }
        (None, _) => (TenantStatus::Added, Vec::new()),
        (_, None) => (TenantStatus::Removed, Vec::new()),
    };
    if status == TenantStatus::Changed && objects.is_empty() && values.is_empty() {
        return None;
    }
    let vars = head
        .or(*base)
        .map(|t| {
            t.vars
                .iter()
                .map(|(k, v)| (k.clone(), v.value.clone()))
                .collect()
        })
        .unwrap_or_default();
    Some(TenantDiff {
        tenant: dir.to_owned(),
        status,
        vars,
        values,
        objects,
        impact: impact::assess(old, new),
    })
}

/// The variables that group tenants: every variable a stack's `vars` sets, and those the
/// tenant path binds above its last segment (`customers/{{env}}/{{tenant}}` → `env`), in
/// path order first. The last segment names the tenant itself, so counting by it says nothing.
fn group_vars<'a>(tenants: impl Iterator<Item = &'a SideTenant>) -> Vec<String> {
    use crate::context::VarSource;
    let mut path = Vec::new();
    let mut stack = BTreeSet::new();
    for t in tenants {
        for (name, var) in &t.vars {
            match &var.source {
                VarSource::Stack(_) => {
                    stack.insert(name.clone());
                }
                VarSource::TenantPath(pattern) if path.is_empty() => {
                    let mut names: Vec<String> = pattern
                        .split("{{")
                        .skip(1)
                        .filter_map(|p| p.split_once("}}"))
                        .map(|(n, _)| n.trim().to_owned())
                        .collect();
                    names.pop();
                    path = names;
                }
                _ => {}
            }
        }
    }
    stack.retain(|n| !path.contains(n));
    path.into_iter().chain(stack).collect()
}

/// Tenants by directory, with their base and head versions; a tenant is kept when the
/// selector matches it on either side, so one that moves out of the selection still shows.
/// A variable no tenant has on either side, or an empty selection, is an error.
fn pair_tenants<'a>(
    base: &'a Side,
    head: &'a Side,
    selection: &Selection,
    rel_dir: &Path,
) -> Result<BTreeMap<String, Pair<'a>>, DiffError> {
    let mut pairs: BTreeMap<String, Pair> = BTreeMap::new();
    let mut known = BTreeSet::new();
    for t in base.tenants.iter().flatten() {
        pairs.entry(t.dir.clone()).or_default().0 = Some(t);
        known.extend(t.vars.keys().cloned());
    }
    for t in head.tenants.iter().flatten() {
        pairs.entry(t.dir.clone()).or_default().1 = Some(t);
        known.extend(t.vars.keys().cloned());
    }
    let shown = match rel_dir.as_os_str().is_empty() {
        true => ".".to_owned(),
        false => rel_dir.display().to_string(),
    };
    let stack_file = format!("the stack at {shown} (base or head)");
    if !pairs.is_empty() {
        selection
            .check_known(&known, &stack_file)
            .map_err(|e| DiffError::Selector(Box::new(e)))?;
    }
    pairs.retain(|_, (b, h)| b.iter().chain(h.iter()).any(|t| selection.matches(&t.vars)));
    let where_ = format!("at or below {shown}");
    selection
        .check_found(pairs.len(), &stack_file, &where_)
        .map_err(|e| DiffError::Selector(Box::new(e)))?;
    Ok(pairs)
}

type Objects = BTreeMap<ObjectId, serde_json::Value>;

/// One side's render of a tenant: its objects, and its patches after helm for provenance.
struct Rendered {
    objects: Objects,
    patches: Vec<crate::post_render::patch::Patch>,
}

impl Rendered {
    /// `file:line` of every patch whose target selects the object as rendered on this side.
    /// The rendered stream does not say which component an object came from, so a patch is
    /// named for every object of the tenant its target selects.
    fn patched_by<'a>(&'a self, id: &ObjectId) -> impl Iterator<Item = &'a str> {
        let object = self.objects.get(id);
        self.patches
            .iter()
            .filter(move |p| object.is_some_and(|o| p.target.matches_json(o)))
            .map(|p| p.at.as_str())
    }
}

/// Renders every job with the real pipeline, `workers` tenants at a time (each render already
/// runs its components concurrently), and returns the objects in job order. The first error
/// in job order is returned, and stops the jobs not started yet.
fn render_all(
    jobs: &[(&Side, &SideTenant)],
    progress: &Progress,
    workers: usize,
) -> Result<Vec<Rendered>, DiffError> {
    let phase = progress.phase(jobs.len());
    crate::parallel::try_map(workers, jobs, |&(side, tenant)| {
        let result = render_one(side, tenant);
        phase.step(&format!("{} ({})", tenant.dir, side.label));
        result
    })
}

/// Renders one prepared tenant of one side: resolved and merged when its side was loaded, so
/// the render starts from there.
fn render_one(side: &Side, tenant: &SideTenant) -> Result<Rendered, DiffError> {
    let side_error = |source| DiffError::Side {
        side: side.label.clone(),
        source,
    };
    let inputs::Prepared {
        resolved,
        ctx,
        prepared,
    } = tenant.render.as_ref();
    let budget = crate::budget::Budget::starting_now(pipeline::render_budget(resolved, ctx));
    let stream = pipeline::render_prepared(resolved, prepared, ctx, budget).map_err(side_error)?;
    let objects = objects::parse(&stream).map_err(|source| DiffError::Manifests {
        side: side.label.clone(),
        tenant: tenant.dir.clone(),
        source,
    })?;
    // Every patch of the tenant, for the provenance of the objects they change.
    let patches = prepared
        .patches
        .iter()
        .flat_map(|p| p.patches.iter().cloned())
        .collect();
    Ok(Rendered { objects, patches })
}
