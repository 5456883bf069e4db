//! `strata lock`: resolves every versioned chart that some tenant uses and records it.
//!
//! Existing entries whose version still satisfies their constraint are kept without asking the
//! repository (like `cargo`'s lock), so running it again is cheap and changes nothing; entries
//! no tenant uses any more are dropped. `update` re-resolves everything.

use crate::Error;
use crate::budget::{Budget, DEFAULT_LOCK_BUDGET};
use crate::chart::cache::Cache;
use crate::chart::lock::{LOCK_FILE, Lock, LockEntry};
use crate::chart::resolve::{Charts, Mode};
use crate::context::Context;
use crate::pipeline;
use crate::plan::{ChartPlan, RemoteChart};
use crate::semver::{Constraint, Version};
use crate::tenant::list_tenant_dirs;
use std::collections::BTreeMap;

/// What changed in the lock.
#[derive(Debug, Default)]
pub struct LockReport {
    pub added: Vec<LockEntry>,
    pub changed: Vec<(LockEntry, LockEntry)>,
    pub removed: Vec<LockEntry>,
    pub kept: usize,
    pub lock_file: String,
}

impl LockReport {
    pub fn summary(&self) -> String {
        let mut out = String::new();
        for e in &self.added {
            out.push_str(&format!(
                "added    {} {} → {} ({})\n",
                e.chart, e.constraint, e.version, e.repository
            ));
        }
        for (old, new) in &self.changed {
            out.push_str(&format!(
                "updated  {} {} {} → {} ({})\n",
                new.chart, new.constraint, old.version, new.version, new.repository
            ));
        }
        for e in &self.removed {
            out.push_str(&format!(
                "removed  {} {} {} (no tenant uses it)\n",
                e.chart, e.constraint, e.version
            ));
        }
        out.push_str(&format!(
            "{}: {} added, {} updated, {} removed, {} unchanged\n",
            self.lock_file,
            self.added.len(),
            self.changed.len(),
            self.removed.len(),
            self.kept
        ));
        out
    }
}

/// Every distinct remote chart reference across all tenants of the stack at `ctx.start_dir`.
pub fn remote_charts_in_use(ctx: &Context) -> Result<Vec<RemoteChart>, Error> {
    let (_, stack) = pipeline::load_stack(ctx)?;
    let mut found: BTreeMap<(String, String, String), RemoteChart> = BTreeMap::new();
    for dir in list_tenant_dirs(&stack)? {
        let tenant_ctx = Context {
            start_dir: dir,
            ..ctx.clone()
        };
        let resolved = pipeline::resolve(&tenant_ctx)?;
        for c in resolved.components {
            let remotes = match c.chart {
                ChartPlan::Remote(r) => vec![r],
                // A repository chart's dependencies are locked like versioned charts.
                ChartPlan::Local(path) => crate::chart::deps::remote_charts(
                    &crate::chart::deps::plan(&path, &resolved.root, c.plain_http)?,
                ),
                ChartPlan::Manifests(_) => Vec::new(),
            };
            for r in remotes {
                found
                    .entry((r.source.url.clone(), r.name.clone(), r.constraint.clone()))
                    .or_insert(r);
            }
        }
    }
    Ok(found.into_values().collect())
}

/// Brings strata.lock in line with the stack; `update` re-resolves entries that still satisfy.
/// The whole run shares one time budget (`ctx.timeout`, else [`DEFAULT_LOCK_BUDGET`]).
pub fn update_lock(ctx: &Context, update: bool) -> Result<LockReport, Error> {
    let started = std::time::Instant::now();
    let (root, stack) = pipeline::load_stack(ctx)?;
    let path = stack.dir.join(LOCK_FILE);
    let shown = root.display(&path);
    let old = Lock::load(&path, &shown)?.unwrap_or_default();
    let mut lock = old.clone();
    let in_use = remote_charts_in_use(ctx)?;
    let budget = Budget::new(ctx.timeout.unwrap_or(DEFAULT_LOCK_BUDGET), started);
    let charts = Charts::new(
        Cache::from_env(),
        None,
        shown.clone(),
        Mode::Live,
        ctx.offline,
    )
    .with_budget(budget);
    let mut report = LockReport {
        lock_file: shown.clone(),
        ..LockReport::default()
    };
    for remote in &in_use {
        let existing = old.get(&remote.source, &remote.name, &remote.constraint);
        let still_good = existing.is_some_and(|e| satisfies(&remote.constraint, &e.version));
        if still_good && !update {
            report.kept += 1;
            continue;
        }
        let resolved = charts.resolve_live(remote)?;
        match existing {
            Some(e) if *e == resolved.entry => report.kept += 1,
            Some(e) => report.changed.push((e.clone(), resolved.entry.clone())),
            None => report.added.push(resolved.entry.clone()),
        }
        lock.upsert(resolved.entry);
    }
    let used = |e: &LockEntry| {
        in_use.iter().any(|r| {
            (
                r.source.url.as_str(),
                r.name.as_str(),
                r.constraint.as_str(),
            ) == e.key()
        })
    };
    report.removed = lock
        .entries()
        .iter()
        .filter(|e| !used(e))
        .cloned()
        .collect();
    lock.retain(used);
    if lock != old || (!path.exists() && !in_use.is_empty()) {
        lock.save(&path, &shown)?;
    }
    Ok(report)
}

pub fn satisfies(constraint: &str, version: &str) -> bool {
    Constraint::parse(constraint)
        .ok()
        .zip(Version::parse(version).ok())
        .is_some_and(|(c, v)| c.matches(&v))
}

/// Why `strata cache prune` failed; each variant keeps the message of the step that failed.
#[derive(Debug, thiserror::Error)]
pub enum PruneError {
    #[error(transparent)]
    Strata(#[from] Error),
    #[error(transparent)]
    Lock(#[from] crate::chart::lock::LockError),
    #[error(transparent)]
    Cache(#[from] crate::chart::cache::CacheError),
    #[error(transparent)]
    RenderCache(#[from] crate::render_cache::RenderCacheError),
    #[error("cannot remove {path}: {source}")]
    Remove {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// What `strata cache prune` did.
#[derive(Debug)]
pub struct PruneReport {
    /// The chart directories removed.
    pub removed: Vec<std::path::PathBuf>,
    /// How many chart digests the lock references (and so were kept).
    pub kept: usize,
}

/// Removes the cached charts that the stack's strata.lock (of `ctx`) does not reference. With
/// no stack (`None`: `--all`), removes every chart, the repository indexes and the render
/// cache: a cache shared by several stacks cannot know what the others still need.
pub fn prune_cache(cache: &Cache, ctx: Option<&Context>) -> Result<PruneReport, PruneError> {
    let keep: Vec<String> = match ctx {
        None => Vec::new(),
        Some(ctx) => {
            let (root, loaded) = pipeline::load_stack(ctx)?;
            let path = loaded.dir.join(LOCK_FILE);
            Lock::load(&path, &root.display(&path))?
                .map(|l| l.entries().iter().map(|e| e.digest.clone()).collect())
                .unwrap_or_default()
        }
    };
    let removed = cache.prune(&keep)?;
    if ctx.is_none() {
        let index = cache.index_dir();
        if index.exists() {
            std::fs::remove_dir_all(&index).map_err(|source| PruneError::Remove {
                path: index.display().to_string(),
                source,
            })?;
        }
        crate::render_cache::RenderCache::new(cache).clear()?;
    }
    Ok(PruneReport {
        removed,
        kept: keep.len(),
    })
}
