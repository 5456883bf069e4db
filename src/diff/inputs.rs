//! What each tenant's render depends on, on one side of a diff, reduced to a digest.
//!
//! helm is deterministic for a given chart, values, release, namespace and flags, so a tenant
//! whose digest is the same on both sides renders the same bytes and is not rendered at all:
//! a change to one region's layer costs a `helm template` only for that region's tenants.

use crate::Error;
use crate::context::{Context, Var};
use crate::pipeline::{self, ComponentValues, Resolved};
use crate::plan::ChartPlan;
use crate::post_render::manifests::ManifestsPlan;
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
}

/// Chart symlinks are followed, as helm follows them; this bounds a symlink loop.
const MAX_CHART_DEPTH: usize = 32;

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
    chart_digests: &mut HashMap<PathBuf, String>,
) -> Result<SideTenant, Error> {
    let charts = pipeline::open_charts(resolved, ctx)?;
    let mut components = Vec::new();
    let mut inputs = Vec::new();
    for plan in &resolved.components {
        let chart = match &plan.chart {
            // A manifests directory is hashed like a chart directory.
            ChartPlan::Local(path) | ChartPlan::Manifests(ManifestsPlan { dir: path, .. }) => {
                let digest = match chart_digests.get(path) {
                    Some(d) => d.clone(),
                    None => {
                        let d = tree_digest(path)?;
                        chart_digests.insert(path.clone(), d.clone());
                        d
                    }
                };
                format!("local:{digest}")
            }
            ChartPlan::Remote(remote) => format!("locked:{}", charts.locked_entry(remote)?.digest),
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
        }));
        components.push(ComponentInputs {
            name: plan.name.clone(),
            values,
        });
    }
    let bytes = serde_json::to_vec(&inputs).expect("JSON serializes");
    Ok(SideTenant {
        dir: resolved.tenant.shown_dir.clone(),
        vars: resolved.tenant.vars.clone(),
        digest: hex::encode(Sha256::digest(&bytes)),
        components,
    })
}

/// sha256 over a chart directory's file names and contents (or a packaged chart's bytes).
fn tree_digest(path: &Path) -> Result<String, Error> {
    let mut hasher = Sha256::new();
    let fail = |p: &Path, e: std::io::Error| {
        Error::Input(format!("cannot read chart file {}: {e}", p.display()))
    };
    if path.is_file() {
        hasher.update(b"file\0");
        hasher.update(std::fs::read(path).map_err(|e| fail(path, e))?);
    } else {
        hash_dir(path, "", 0, &mut hasher).map_err(|(p, e)| fail(&p, e))?;
    }
    Ok(hex::encode(hasher.finalize()))
}

fn hash_dir(
    dir: &Path,
    rel: &str,
    depth: usize,
    hasher: &mut Sha256,
) -> Result<(), (PathBuf, std::io::Error)> {
    if depth > MAX_CHART_DEPTH {
        return Err((
            dir.to_path_buf(),
            std::io::Error::other("directories nest too deep (a symlink loop?)"),
        ));
    }
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| (dir.to_path_buf(), e))?
        .collect::<Result<_, _>>()
        .map_err(|e| (dir.to_path_buf(), e))?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let name = format!("{rel}/{}", entry.file_name().to_string_lossy());
        match std::fs::metadata(&path) {
            Ok(meta) if meta.is_dir() => {
                hasher.update(format!("dir\0{name}\0").as_bytes());
                hash_dir(&path, &name, depth + 1, hasher)?;
            }
            Ok(_) => {
                let bytes = std::fs::read(&path).map_err(|e| (path.clone(), e))?;
                hasher.update(format!("file\0{name}\0{}\0", bytes.len()).as_bytes());
                hasher.update(&bytes);
            }
            // A dangling symlink: helm would fail on it either way; its target text still counts.
            Err(_) => {
                let target = std::fs::read_link(&path).map_err(|e| (path.clone(), e))?;
                hasher.update(format!("link\0{name}\0{}\0", target.display()).as_bytes());
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chart_digest_follows_names_and_contents() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("templates")).unwrap();
        std::fs::write(dir.path().join("Chart.yaml"), "name: a\n").unwrap();
        std::fs::write(dir.path().join("templates/x.yaml"), "kind: A\n").unwrap();
        let first = tree_digest(dir.path()).unwrap();
        assert_eq!(first, tree_digest(dir.path()).unwrap());
        std::fs::write(dir.path().join("templates/x.yaml"), "kind: B\n").unwrap();
        let second = tree_digest(dir.path()).unwrap();
        assert_ne!(first, second);
        std::fs::rename(
            dir.path().join("templates/x.yaml"),
            dir.path().join("templates/y.yaml"),
        )
        .unwrap();
        assert_ne!(second, tree_digest(dir.path()).unwrap());
    }
}
