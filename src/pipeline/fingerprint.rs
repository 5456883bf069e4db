//! THE fingerprint of a render's inputs: one sha256 over everything that decides what a
//! tenant renders, besides the renderer itself.
//!
//! The render cache keys on it (with the renderer's identity and strata's version), and
//! `strata diff` renders a tenant only when its fingerprint differs between the two sides, so
//! both ask the same question the same way. Inputs are encoded with [`Encoder`], whose fields
//! carry their length, so two different input sequences never encode to the same bytes.

use crate::Error;
use crate::context::Context;
use crate::paths::RepoRoot;
use crate::plan::{ChartPlan, ComponentPlan, RemoteChart};
use crate::post_render::patch::Patches;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// Bumped whenever the encoding below changes.
const FORMAT: u64 = 2;

#[derive(Debug, thiserror::Error)]
#[error("cannot fingerprint chart {path}: {source}")]
pub struct ChartReadError {
    path: String,
    #[source]
    source: std::io::Error,
}

/// What identifies a component's chart (or manifests directory) content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChartId {
    /// A versioned chart: the archive digest names its content exactly.
    Archive(String),
    /// A chart directory or .tgz in the repository: its content, and what strata lays into
    /// its `charts/` (the locked digests of remote dependencies, the content of `file://` ones).
    Local {
        content: String,
        supplied: Vec<String>,
    },
    /// A manifests directory: where it is (its files are named in the output) and its content.
    Manifests { shown: String, content: String },
}

/// Local chart fingerprints already computed, by path: tenants share charts, and a chart's
/// files do not change during one command.
#[derive(Debug, Default)]
pub struct ChartMemo {
    content: HashMap<PathBuf, String>,
}

impl ChartMemo {
    /// The fingerprint of the chart or directory at `path`, once its links are known to stay
    /// inside the repository: nothing outside it is opened, not even to be hashed (a link to
    /// a FIFO or a device would hang or flood the read). `what` names it in errors.
    fn content(&mut self, path: &Path, root: &RepoRoot, what: &str) -> Result<String, Error> {
        if let Some(known) = self.content.get(path) {
            return Ok(known.clone());
        }
        root.check_links(path, what)?;
        let digest = chart_fingerprint(path).map_err(|e| Error::Input(e.to_string()))?;
        self.content.insert(path.to_path_buf(), digest.clone());
        Ok(digest)
    }
}

/// Each component's chart identity. `digest_of` names a versioned chart's archive: the lock
/// entry's digest, or the digest of what was fetched (the same, once the fetch verified it).
pub fn chart_ids(
    components: &[ComponentPlan],
    root: &RepoRoot,
    memo: &mut ChartMemo,
    digest_of: &dyn Fn(&RemoteChart) -> Result<String, Error>,
) -> Result<Vec<ChartId>, Error> {
    components
        .iter()
        .map(|c| match &c.chart {
            ChartPlan::Remote(remote) => Ok(ChartId::Archive(bare(&digest_of(remote)?))),
            ChartPlan::Local(path) => {
                let what = format!("component {:?} chart {}", c.name, c.chart_shown);
                let content = memo.content(path, root, &what)?;
                let plan = crate::chart::deps::plan(path, root, c.plain_http)?;
                let mut supplied = Vec::new();
                supplied_ids(&plan, root, memo, digest_of, &mut supplied)?;
                Ok(ChartId::Local { content, supplied })
            }
            ChartPlan::Manifests(m) => {
                let shown = root.display(&m.dir);
                let what = format!("component {:?} manifests directory {shown}", c.name);
                let content = memo.content(&m.dir, root, &what)?;
                Ok(ChartId::Manifests { shown, content })
            }
        })
        .collect()
}

fn supplied_ids(
    plan: &[crate::chart::deps::Supplied],
    root: &RepoRoot,
    memo: &mut ChartMemo,
    digest_of: &dyn Fn(&RemoteChart) -> Result<String, Error>,
    out: &mut Vec<String>,
) -> Result<(), Error> {
    use crate::chart::deps::Supplied;
    for s in plan {
        match s {
            Supplied::Remote(r) => out.push(format!("remote {}", bare(&digest_of(r)?))),
            Supplied::Local { name, dir, nested } => {
                let content = memo.content(dir, root, &format!("dependency {name:?}"))?;
                out.push(format!("file {name} {content} {}", nested.len()));
                supplied_ids(nested, root, memo, digest_of, out)?;
            }
        }
    }
    Ok(())
}

fn bare(digest: &str) -> String {
    digest.strip_prefix("sha256:").unwrap_or(digest).to_owned()
}

/// The fingerprint of one tenant's render: for each component in order its name, merged
/// values (as the renderer receives them), chart identity, release, namespace, flags,
/// post-render settings, the tenant's variables where templates read them, and its patches;
/// then the cluster facts the renderer sees (kube version, API versions).
pub fn tenant(
    components: &[ComponentPlan],
    vars: &BTreeMap<String, String>,
    ctx: &Context,
    charts: &[ChartId],
    values_json: &[Vec<u8>],
    patches: &[Patches],
) -> String {
    let mut enc = Encoder::new();
    enc.str("strata-inputs");
    enc.number(FORMAT);
    enc.count(components.len());
    for (((c, chart), json), patches) in components.iter().zip(charts).zip(values_json).zip(patches)
    {
        enc.str(&c.name);
        enc.bytes(json);
        match chart {
            ChartId::Archive(digest) => {
                enc.str("archive");
                enc.str(digest);
            }
            ChartId::Local { content, supplied } => {
                enc.str("local");
                enc.str(content);
                enc.count(supplied.len());
                for s in supplied {
                    enc.str(s);
                }
            }
            ChartId::Manifests { shown, content } => {
                enc.str("manifests");
                enc.str(shown);
                enc.str(content);
            }
        }
        enc.str(&c.release);
        enc.str(&c.namespace);
        enc.flag(c.include_crds);
        enc.flag(c.skip_tests);
        enc.bytes(&serde_json::to_vec(&c.post_render).expect("JSON serializes"));
        // Whether a manifests directory is templated decides its output by itself: encoded
        // always, not only through whether the variables below are read.
        let templated_manifests = matches!(&c.chart, ChartPlan::Manifests(m) if m.template);
        enc.flag(templated_manifests);
        // Label templates and templated manifests read the tenant's variables directly.
        let templated = c.post_render.is_active() || templated_manifests;
        if templated {
            enc.count(vars.len());
            for (k, v) in vars {
                enc.str(k);
                enc.str(v);
            }
        }
        let patch_files = patches.cache_input();
        enc.count(patch_files.len());
        for text in patch_files {
            enc.str(text);
        }
    }
    enc.option(ctx.kube_version.as_deref());
    enc.count(ctx.api_versions.len());
    for api in &ctx.api_versions {
        enc.str(api);
    }
    hex::encode(enc.finish())
}

/// A sha256 over self-delimiting fields: every field carries its length, so no two different
/// input sequences encode to the same bytes (`["ab", "c"]` and `["a", "bc"]` differ).
pub struct Encoder(Sha256);

impl Default for Encoder {
    fn default() -> Encoder {
        Encoder::new()
    }
}

impl Encoder {
    pub fn new() -> Encoder {
        Encoder(Sha256::new())
    }

    pub fn number(&mut self, n: u64) {
        self.0.update(n.to_be_bytes());
    }

    pub fn count(&mut self, n: usize) {
        self.number(n as u64);
    }

    pub fn bytes(&mut self, bytes: &[u8]) {
        self.count(bytes.len());
        self.0.update(bytes);
    }

    pub fn str(&mut self, s: &str) {
        self.bytes(s.as_bytes());
    }

    pub fn flag(&mut self, b: bool) {
        self.bytes(&[u8::from(b)]);
    }

    pub fn option(&mut self, s: Option<&str>) {
        self.flag(s.is_some());
        if let Some(s) = s {
            self.str(s);
        }
    }

    pub fn finish(self) -> [u8; 32] {
        self.0.finalize().into()
    }
}

/// The hex sha256 of a local chart: a .tgz's bytes, or every file under a directory (sorted
/// relative paths and contents). Symlinks are followed, as helm's loader follows them, and
/// nothing is skipped: `.helmignore` only narrows what helm reads, and hashing a file helm
/// ignores can cost a needless render, never a stale one.
pub fn chart_fingerprint(path: &Path) -> Result<String, ChartReadError> {
    let err = |source| ChartReadError {
        path: path.display().to_string(),
        source,
    };
    let meta = fs::metadata(path).map_err(err)?;
    let mut files = Vec::new();
    if meta.is_dir() {
        files = collect_files(path).map_err(err)?;
    } else {
        files.push((Vec::new(), path.to_path_buf()));
    }
    files.sort();
    let mut enc = Encoder::new();
    enc.str(if meta.is_dir() { "dir" } else { "file" });
    enc.count(files.len());
    for (rel, file) in &files {
        let content = fs::read(file).map_err(|source| ChartReadError {
            path: file.display().to_string(),
            source,
        })?;
        enc.bytes(rel);
        enc.bytes(&content);
    }
    Ok(hex::encode(enc.finish()))
}

/// Every regular file under `dir`, as (relative path with `/` separators, path). Symlinks
/// are followed, as helm follows them; a symlink loop is an error rather than a hang.
fn collect_files(dir: &Path) -> std::io::Result<Vec<(Vec<u8>, PathBuf)>> {
    let mut out = Vec::new();
    let walk = walkdir::WalkDir::new(dir)
        .follow_links(true)
        .min_depth(1)
        .sort_by_file_name();
    for entry in walk {
        let entry = entry.map_err(|e| match e.loop_ancestor() {
            Some(_) => std::io::Error::other(format!(
                "symlink loop at {}",
                e.path().unwrap_or(dir).display()
            )),
            None => std::io::Error::from(e),
        })?;
        let kind = entry.file_type();
        if kind.is_dir() {
            continue;
        }
        if !kind.is_file() {
            return Err(std::io::Error::other(format!(
                "{} is neither a file nor a directory",
                entry.path().display()
            )));
        }
        let rel = entry
            .path()
            .strip_prefix(dir)
            .expect("under the walked directory");
        let rel: Vec<&[u8]> = rel.iter().map(|part| part.as_bytes()).collect();
        out.push((rel.join(&b'/'), entry.into_path()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key_of(fields: &[&str]) -> [u8; 32] {
        let mut enc = Encoder::new();
        for f in fields {
            enc.str(f);
        }
        enc.finish()
    }

    #[test]
    fn the_encoding_is_unambiguous() {
        assert_ne!(key_of(&["ab", "c"]), key_of(&["a", "bc"]));
        assert_ne!(key_of(&["", "x"]), key_of(&["x", ""]));
        let mut none = Encoder::new();
        none.option(None);
        none.str("");
        let mut empty = Encoder::new();
        empty.option(Some(""));
        assert_ne!(none.finish(), empty.finish());
    }

    #[test]
    fn a_chart_fingerprint_follows_paths_and_contents() {
        let dir = tempfile::tempdir().unwrap();
        let chart = dir.path().join("chart");
        fs::create_dir_all(chart.join("templates")).unwrap();
        fs::write(chart.join("Chart.yaml"), "name: c\n").unwrap();
        fs::write(chart.join("templates/a.yaml"), "a").unwrap();
        let first = chart_fingerprint(&chart).unwrap();
        assert_eq!(first, chart_fingerprint(&chart).unwrap());

        fs::write(chart.join("templates/a.yaml"), "b").unwrap();
        let edited = chart_fingerprint(&chart).unwrap();
        assert_ne!(first, edited);

        fs::rename(
            chart.join("templates/a.yaml"),
            chart.join("templates/b.yaml"),
        )
        .unwrap();
        let renamed = chart_fingerprint(&chart).unwrap();
        assert_ne!(edited, renamed);

        fs::write(chart.join(".helmignore"), "").unwrap();
        let hidden = chart_fingerprint(&chart).unwrap();
        assert_ne!(renamed, hidden);

        fs::create_dir(chart.join("empty")).unwrap();
        assert_eq!(hidden, chart_fingerprint(&chart).unwrap());
    }

    #[test]
    fn a_chart_fingerprint_follows_symlinks_and_refuses_loops() {
        let dir = tempfile::tempdir().unwrap();
        let chart = dir.path().join("chart");
        let shared = dir.path().join("shared");
        fs::create_dir_all(&chart).unwrap();
        fs::create_dir_all(&shared).unwrap();
        fs::write(shared.join("_helpers.tpl"), "one").unwrap();
        std::os::unix::fs::symlink(&shared, chart.join("templates")).unwrap();
        let first = chart_fingerprint(&chart).unwrap();
        fs::write(shared.join("_helpers.tpl"), "two").unwrap();
        assert_ne!(first, chart_fingerprint(&chart).unwrap());

        std::os::unix::fs::symlink(&chart, shared.join("back")).unwrap();
        assert!(chart_fingerprint(&chart).is_err());
    }
}
