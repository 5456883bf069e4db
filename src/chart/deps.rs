//! Dependencies of a chart kept in the repository (`dependencies:` in Chart.yaml, or
//! requirements.yaml for apiVersion v1), supplied the way `helm dependency build` supplies
//! them, but through strata's own resolver: versions come from strata.lock, archives from the
//! shared digest-addressed cache, and credentials from strata's credential sources.
//!
//! The user's chart is never modified. When a dependency is missing from its `charts/`
//! directory, the chart is copied into a temporary directory and each missing dependency is
//! written into the copy's `charts/` as `<name>-<version>.tgz`, the file `helm dependency
//! build` writes. Helm then decides everything else (`condition`, `tags`, `alias`,
//! `import-values`), exactly as it does after `helm dependency build`.
//!
//! A dependency already present in `charts/` (vendored by the user) is left to helm as it is.
//! A `file://` dependency is packed as helm packs it, without what its `.helmignore` excludes.

pub mod helmignore;

use self::helmignore::Rules;
use super::lock::LockEntry;
use super::resolve::Charts;
use super::source::{ChartSource, RemoteChart};
use crate::Error;
use crate::config::VarValue;
use crate::paths::RepoRoot;
use crate::semver::{Constraint, Version};
use serde::Deserialize;
use serde_saphyr::Spanned;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// `file://` dependencies nest; deeper than this is taken for a cycle.
const MAX_NESTING: usize = 8;
/// Directory nesting inside one chart beyond this is taken for a symlink loop.
const MAX_DEPTH: usize = 64;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ChartMeta {
    #[serde(default)]
    api_version: Option<String>,
    #[serde(default)]
    name: Option<VarValue>,
    #[serde(default)]
    version: Option<VarValue>,
    #[serde(default)]
    dependencies: Vec<Spanned<DependencySpec>>,
}

#[derive(Debug, Deserialize)]
struct RequirementsSpec {
    #[serde(default)]
    dependencies: Vec<Spanned<DependencySpec>>,
}

#[derive(Debug, Deserialize)]
struct DependencySpec {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    version: Option<VarValue>,
    #[serde(default)]
    repository: Option<String>,
}

/// A dependency strata must supply, planned without touching the network.
#[derive(Debug, Clone)]
pub enum Supplied {
    /// From a Helm repository or OCI registry, through strata.lock and the cache.
    Remote(RemoteChart),
    /// A chart elsewhere in the repository (`file://`), with the dependencies it needs itself.
    Local {
        name: String,
        dir: PathBuf,
        nested: Vec<Supplied>,
    },
}

/// What the chart at `chart_dir` needs supplied: its declared dependencies minus those its
/// `charts/` already holds. Empty for an archive, or a chart without dependencies.
pub fn plan(chart_dir: &Path, root: &RepoRoot, plain_http: bool) -> Result<Vec<Supplied>, Error> {
    plan_nested(chart_dir, root, plain_http, 0)
}

fn plan_nested(
    chart_dir: &Path,
    root: &RepoRoot,
    plain_http: bool,
    nesting: usize,
) -> Result<Vec<Supplied>, Error> {
    if !chart_dir.is_dir() {
        return Ok(Vec::new());
    }
    let (deps, deps_file) = declared_dependencies(chart_dir, root)?;
    if deps.is_empty() {
        return Ok(Vec::new());
    }
    if nesting >= MAX_NESTING {
        return Err(Error::Input(format!(
            "{deps_file}: file:// dependencies nest more than {MAX_NESTING} levels deep; is there a cycle?"
        )));
    }
    let vendored = vendored_charts(chart_dir, root)?;
    let mut out = Vec::new();
    for dep in deps {
        let at = format!("{deps_file}:{}", dep.referenced.line());
        let wanted = Wanted::read(dep.value, at)?;
        if wanted.is_vendored(&vendored)? {
            continue;
        }
        out.push(wanted.supply(chart_dir, root, plain_http, nesting)?);
    }
    Ok(out)
}

/// The dependencies a chart declares, from Chart.yaml or (apiVersion v1) requirements.yaml,
/// with the file they are in as shown in messages.
fn declared_dependencies(
    chart_dir: &Path,
    root: &RepoRoot,
) -> Result<(Vec<Spanned<DependencySpec>>, String), Error> {
    let (meta, file) = read_meta(chart_dir, root)?;
    match meta.api_version.as_deref() {
        Some("v1") | None if chart_dir.join("requirements.yaml").is_file() => {
            let path = chart_dir.join("requirements.yaml");
            let shown = root.display(&path);
            let text = fs::read_to_string(&path)
                .map_err(|e| Error::Input(format!("cannot read {shown}: {e}")))?;
            let spec: RequirementsSpec = crate::yaml::parse_config(&text)
                .map_err(|e| Error::Input(format!("{shown}:{e}")))?;
            Ok((spec.dependencies, shown))
        }
        _ => Ok((meta.dependencies, file)),
    }
}

/// One declared dependency, checked: a name and a semver constraint (`*` when none).
struct Wanted {
    name: String,
    constraint: String,
    parsed: Constraint,
    repository: String,
    /// `file:line` of the declaration, for messages.
    at: String,
}

impl Wanted {
    fn read(dep: DependencySpec, at: String) -> Result<Wanted, Error> {
        let Some(name) = dep.name.filter(|n| !n.trim().is_empty()) else {
            return Err(Error::Input(format!(
                "{at}: a dependency has no name; set `name` to the chart's name"
            )));
        };
        let constraint = dep
            .version
            .map(|v| v.0)
            .filter(|v| !v.trim().is_empty())
            .unwrap_or_else(|| "*".to_owned());
        let parsed = Constraint::parse(&constraint).map_err(|e| {
            Error::Input(format!(
                "{at}: dependency {name:?} has version {constraint:?}, which is not a semver constraint: {e}"
            ))
        })?;
        Ok(Wanted {
            name,
            constraint,
            parsed,
            repository: dep.repository.unwrap_or_default().trim().to_owned(),
            at,
        })
    }

    /// Whether the chart's `charts/` already holds this dependency (left as it is); a vendored
    /// copy of a version the constraint refuses is an error, as helm would silently drop its
    /// alias and condition.
    fn is_vendored(&self, vendored: &[(String, String, Option<String>)]) -> Result<bool, Error> {
        let Some((_, shown, version)) = vendored.iter().find(|(n, _, _)| *n == self.name) else {
            return Ok(false);
        };
        match version.as_deref().map(Version::parse) {
            Some(Ok(v)) if !self.parsed.matches(&v) => Err(Error::Input(format!(
                "{}: dependency {:?} wants {:?} but {shown} holds version {}; helm would render it without its alias and condition. Remove it from charts/ (strata then supplies the locked version) or update it",
                self.at,
                self.name,
                self.constraint,
                version.as_deref().unwrap_or_default()
            ))),
            _ => Ok(true),
        }
    }

    /// Where the dependency comes from: a chart directory in the repository, or a remote
    /// chart for the resolver.
    fn supply(
        self,
        chart_dir: &Path,
        root: &RepoRoot,
        plain_http: bool,
        nesting: usize,
    ) -> Result<Supplied, Error> {
        let Wanted { name, at, .. } = &self;
        let repository = self.repository.as_str();
        if let Some(rel) = repository.strip_prefix("file://") {
            let rel = rel.to_owned();
            return self.local(&rel, chart_dir, root, plain_http, nesting);
        }
        if repository.is_empty() {
            return Err(Error::Input(format!(
                "{at}: dependency {name:?} has no repository and is not in charts/; set `repository` (https://, oci:// or file://) or add the chart to charts/"
            )));
        }
        if repository.starts_with('@') || repository.starts_with("alias:") {
            return Err(Error::Input(format!(
                "{at}: dependency {name:?} names the repository {repository:?} by a helm repository alias, which only helm's local configuration knows; write the repository URL"
            )));
        }
        let source = ChartSource::parse(repository, plain_http)
            .map_err(|m| Error::Input(format!("{at}: dependency {name:?}: {m}")))?;
        Ok(Supplied::Remote(RemoteChart {
            source,
            chosen_by: format!("{at} (dependency)"),
            name: self.name,
            constraint: self.constraint,
        }))
    }

    /// A `file://` dependency: a chart directory inside the repository whose name and version
    /// match the declaration, planned in turn.
    fn local(
        self,
        rel: &str,
        chart_dir: &Path,
        root: &RepoRoot,
        plain_http: bool,
        nesting: usize,
    ) -> Result<Supplied, Error> {
        let Wanted {
            name,
            constraint,
            parsed,
            at,
            ..
        } = self;
        let dir = root
            .join(chart_dir, rel, "file:// dependency")
            .map_err(|e| Error::Input(format!("{at}: {e}")))?;
        // Its files are packed as they are, so no link in it may lead out of the
        // repository (or loop), as for the component's own chart.
        root.check_links(&dir, &format!("dependency {name:?}"))
            .map_err(|e| Error::Input(format!("{at}: {e}")))?;
        if !dir.join("Chart.yaml").is_file() {
            return Err(Error::Input(format!(
                "{at}: dependency {name:?}: {} is not a chart directory (no Chart.yaml)",
                root.display(&dir)
            )));
        }
        let (sub, sub_file) = read_meta(&dir, root)?;
        let sub_version = sub.version.map(|v| v.0).unwrap_or_default();
        if !Version::parse(&sub_version).is_ok_and(|v| parsed.matches(&v)) {
            return Err(Error::Input(format!(
                "{at}: dependency {name:?} wants {constraint:?} but {sub_file} has version {sub_version:?}"
            )));
        }
        if sub.name.as_ref().map(|n| n.0.as_str()) != Some(name.as_str()) {
            return Err(Error::Input(format!(
                "{at}: dependency {name:?} points at {sub_file}, whose chart is named {:?}",
                sub.name.map(|n| n.0).unwrap_or_default()
            )));
        }
        let nested = plan_nested(&dir, root, plain_http, nesting + 1)?;
        Ok(Supplied::Local { name, dir, nested })
    }
}

/// Every remote chart a plan fetches, nested ones included, for `strata lock`.
pub fn remote_charts(plan: &[Supplied]) -> Vec<RemoteChart> {
    let mut out = Vec::new();
    for s in plan {
        match s {
            Supplied::Remote(r) => out.push(r.clone()),
            Supplied::Local { nested, .. } => out.extend(remote_charts(nested)),
        }
    }
    out
}

/// A chart directory with its dependencies laid in, alive as long as this value.
#[derive(Debug, Clone)]
pub struct PreparedChart {
    pub dir: PathBuf,
    /// The lock entries of every supplied remote dependency: part of the chart's identity.
    pub locked: Vec<LockEntry>,
    _keep: Arc<tempfile::TempDir>,
}

/// Copies the chart and lays its missing dependencies into the copy's `charts/`; `None` when
/// nothing is missing and helm can read the chart where it is.
pub fn prepare(
    chart_dir: &Path,
    root: &RepoRoot,
    plain_http: bool,
    charts: &Charts,
) -> Result<Option<PreparedChart>, Error> {
    let plan = plan(chart_dir, root, plain_http)?;
    if plan.is_empty() {
        return Ok(None);
    }
    let tmp = tempfile::Builder::new()
        .prefix("strata-chart-")
        .tempdir()
        .map_err(|e| Error::Input(format!("cannot create a temporary directory: {e}")))?;
    let mut locked = Vec::new();
    let dir = lay_out(chart_dir, &plan, root, charts, tmp.path(), &mut locked)?;
    Ok(Some(PreparedChart {
        dir,
        locked,
        _keep: Arc::new(tmp),
    }))
}

/// Copies `chart_dir` under `work` and writes each supplied dependency into its `charts/`.
fn lay_out(
    chart_dir: &Path,
    plan: &[Supplied],
    root: &RepoRoot,
    charts: &Charts,
    work: &Path,
    locked: &mut Vec<LockEntry>,
) -> Result<PathBuf, Error> {
    let name = chart_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "chart".to_owned());
    let mut dest = work.join(&name);
    let mut n = 1;
    while dest.exists() {
        dest = work.join(format!("{name}-{n}"));
        n += 1;
    }
    copy_tree(chart_dir, &dest, root, 0)?;
    let charts_dir = dest.join("charts");
    fs::create_dir_all(&charts_dir).map_err(|e| io_error(&charts_dir, e))?;
    for supplied in plan {
        match supplied {
            Supplied::Remote(remote) => {
                let resolved = charts.resolve(remote)?;
                let file =
                    charts_dir.join(format!("{}-{}.tgz", remote.name, resolved.entry.version));
                if !file.exists() {
                    let other = locked.iter().find(|e| e.chart == remote.name);
                    if let Some(other) = other {
                        // Helm picks one of them at random for each dependency (map order).
                        tracing::warn!(
                            "{}: chart {} is a dependency in two versions ({} and {}); helm chooses between them at random on every render, so give every dependency on it the same version",
                            remote.chosen_by,
                            remote.name,
                            other.version,
                            resolved.entry.version
                        );
                    }
                    // A published archive goes in whole, as helm copies it.
                    pack(&resolved.dir, &remote.name, &file, &Rules::default())?;
                }
                locked.push(resolved.entry);
            }
            Supplied::Local { name, dir, nested } => {
                let source = if nested.is_empty() {
                    dir.clone()
                } else {
                    let inner = work.join(".nested");
                    fs::create_dir_all(&inner).map_err(|e| io_error(&inner, e))?;
                    lay_out(dir, nested, root, charts, &inner, locked)?
                };
                let (meta, _) = read_meta(dir, root)?;
                let version = meta.version.map(|v| v.0).unwrap_or_default();
                let rules = ignore_rules(&source, &dir.join(".helmignore"), root)?;
                pack(
                    &source,
                    name,
                    &charts_dir.join(format!("{name}-{version}.tgz")),
                    &rules,
                )?;
            }
        }
    }
    Ok(dest)
}

fn read_meta(chart_dir: &Path, root: &RepoRoot) -> Result<(ChartMeta, String), Error> {
    let path = chart_dir.join("Chart.yaml");
    let shown = root.display(&path);
    let text =
        fs::read_to_string(&path).map_err(|e| Error::Input(format!("cannot read {shown}: {e}")))?;
    let meta =
        crate::yaml::parse_config(&text).map_err(|e| Error::Input(format!("{shown}:{e}")))?;
    Ok((meta, shown))
}

/// The charts in `charts/`: (name, shown path, version). Directories are read; archives are
/// named by their file name `<name>-<version>.tgz`, as `helm dependency build` writes them.
fn vendored_charts(
    chart_dir: &Path,
    root: &RepoRoot,
) -> Result<Vec<(String, String, Option<String>)>, Error> {
    let dir = chart_dir.join("charts");
    let Ok(entries) = fs::read_dir(&dir) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        let file = entry.file_name().to_string_lossy().into_owned();
        if file.starts_with(['.', '_']) {
            continue;
        }
        if path.join("Chart.yaml").is_file() {
            let (meta, _) = read_meta(&path, root)?;
            if let Some(name) = meta.name {
                out.push((name.0, root.display(&path), meta.version.map(|v| v.0)));
            }
        } else if let Some(stem) = file.strip_suffix(".tgz") {
            // `my-chart-1.2.3-rc.1`: the version starts after the first `-` that begins one.
            let split = stem
                .match_indices('-')
                .map(|(i, _)| i)
                .find(|i| Version::parse(&stem[i + 1..]).is_ok());
            if let Some(i) = split {
                out.push((
                    stem[..i].to_owned(),
                    root.display(&path),
                    Some(stem[i + 1..].to_owned()),
                ));
            }
        }
    }
    Ok(out)
}

fn io_error(path: &Path, e: std::io::Error) -> Error {
    Error::Input(format!("cannot write {}: {e}", path.display()))
}

/// Copies a chart directory. A symlink is followed when it stays inside the repository, as
/// helm follows it when loading the chart; one that leaves the repository is an error.
fn copy_tree(src: &Path, dest: &Path, root: &RepoRoot, depth: usize) -> Result<(), Error> {
    if depth > MAX_DEPTH {
        return Err(Error::Input(format!(
            "{} nests more than {MAX_DEPTH} directories deep (a symlink loop?)",
            root.display(src)
        )));
    }
    fs::create_dir_all(dest).map_err(|e| io_error(dest, e))?;
    let read_err =
        |p: &Path, e: std::io::Error| Error::Input(format!("cannot read {}: {e}", root.display(p)));
    for entry in fs::read_dir(src).map_err(|e| read_err(src, e))? {
        let entry = entry.map_err(|e| read_err(src, e))?;
        let path = entry.path();
        let real = path.canonicalize().map_err(|e| read_err(&path, e))?;
        if !real.starts_with(root.path()) {
            return Err(Error::Input(format!(
                "{} is a symlink that leaves the repository; charts are read inside it only",
                root.display(&path)
            )));
        }
        let target = dest.join(entry.file_name());
        if real.is_dir() {
            copy_tree(&real, &target, root, depth + 1)?;
        } else {
            fs::copy(&real, &target).map_err(|e| io_error(&target, e))?;
        }
    }
    Ok(())
}

/// The `.helmignore` rules of the chart directory `dir` (helm's default alone when it has
/// none), as helm's loader reads them when `helm dependency build` packs a `file://` chart.
/// `shown` is the file's path in the repository, for messages.
fn ignore_rules(dir: &Path, shown: &Path, root: &RepoRoot) -> Result<Rules, Error> {
    let path = dir.join(".helmignore");
    let bytes = match fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Rules::defaults()),
        Err(e) => {
            return Err(Error::Input(format!(
                "cannot read {}: {e}",
                root.display(shown)
            )));
        }
    };
    Rules::parse(&String::from_utf8_lossy(&bytes)).map_err(|e| {
        Error::Input(format!(
            "{}: {e}; helm refuses this chart too, so fix or remove the pattern",
            root.display(shown)
        ))
    })
}

/// Writes `dir` as a chart archive with the top-level directory `name`, as `helm package`
/// lays it out, leaving out what `rules` ignore. Entries are sorted and carry no time or
/// owner, so equal charts give equal bytes (and equal render-cache keys).
fn pack(dir: &Path, name: &str, dest: &Path, rules: &Rules) -> Result<(), Error> {
    let file = fs::File::create(dest).map_err(|e| io_error(dest, e))?;
    let gz = flate2::write::GzEncoder::new(file, flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    let mut files = Vec::new();
    collect(dir, PathBuf::new(), rules, &mut files, 0).map_err(|e| io_error(dest, e))?;
    files.sort();
    for rel in files {
        let bytes = fs::read(dir.join(&rel)).map_err(|e| io_error(dest, e))?;
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(0);
        header.set_entry_type(tar::EntryType::Regular);
        tar.append_data(&mut header, Path::new(name).join(&rel), bytes.as_slice())
            .map_err(|e| io_error(dest, e))?;
    }
    let gz = tar.into_inner().map_err(|e| io_error(dest, e))?;
    let mut file = gz.finish().map_err(|e| io_error(dest, e))?;
    file.flush().map_err(|e| io_error(dest, e))
}

/// The files under `dir/rel` that `rules` keep; an ignored directory is skipped whole.
fn collect(
    dir: &Path,
    rel: PathBuf,
    rules: &Rules,
    out: &mut Vec<PathBuf>,
    depth: usize,
) -> std::io::Result<()> {
    if depth > MAX_DEPTH {
        return Err(std::io::Error::other("directories nest too deep"));
    }
    for entry in fs::read_dir(dir.join(&rel))? {
        let entry = entry?;
        let child = rel.join(entry.file_name());
        let is_dir = entry.path().is_dir();
        if rules.ignores(&child.to_string_lossy(), is_dir) {
            continue;
        }
        if is_dir {
            collect(dir, child, rules, out, depth + 1)?;
        } else {
            out.push(child);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart(root: &Path, rel: &str, chart_yaml: &str) -> PathBuf {
        let dir = root.join(rel);
        fs::create_dir_all(dir.join("templates")).unwrap();
        fs::write(dir.join("Chart.yaml"), chart_yaml).unwrap();
        dir
    }

    /// The local chart `sub` 1.2.0 the umbrellas depend on by `file://../sub`.
    fn sub_chart(root: &Path) -> PathBuf {
        chart(root, "sub", "apiVersion: v2\nname: sub\nversion: 1.2.0\n")
    }

    #[test]
    fn plans_what_charts_does_not_hold() {
        let tmp = tempfile::tempdir().unwrap();
        let root = RepoRoot::new(tmp.path()).unwrap();
        sub_chart(tmp.path());
        let umbrella = chart(
            tmp.path(),
            "umbrella",
            "apiVersion: v2\nname: umbrella\nversion: 0.1.0\ndependencies:\n  - name: web\n    version: ~1.0\n    repository: https://charts.example.com/\n  - name: db\n    version: \"2.x\"\n    repository: oci://registry.example.com/charts\n  - name: sub\n    version: ^1\n    repository: file://../sub\n  - name: kept\n    version: 3.0.0\n",
        );
        fs::create_dir_all(umbrella.join("charts")).unwrap();
        fs::write(umbrella.join("charts/kept-3.0.0.tgz"), b"").unwrap();
        let plan = plan(&umbrella, &root, false).unwrap();
        assert_eq!(plan.len(), 3, "{plan:?}");
        let remotes = remote_charts(&plan);
        assert_eq!(remotes[0].source.url, "https://charts.example.com");
        assert_eq!(remotes[0].constraint, "~1.0");
        assert_eq!(remotes[0].chosen_by, "umbrella/Chart.yaml:5 (dependency)");
        assert!(matches!(
            remotes[1].source.kind,
            crate::chart::source::SourceKind::Oci { .. }
        ));
        assert!(matches!(&plan[2], Supplied::Local { name, .. } if name == "sub"));
    }

    #[test]
    fn mistakes_name_the_line() {
        let tmp = tempfile::tempdir().unwrap();
        let root = RepoRoot::new(tmp.path()).unwrap();
        sub_chart(tmp.path());
        let cases = [
            (
                "  - name: x\n    repository: \"@stable\"\n",
                "helm repository alias",
            ),
            ("  - name: x\n", "no repository"),
            (
                "  - name: sub\n    version: ^2\n    repository: file://../sub\n",
                "has version \"1.2.0\"",
            ),
            (
                "  - name: x\n    repository: file://../../outside\n",
                "leaves the repository",
            ),
            (
                "  - name: x\n    version: \"not a range\"\n    repository: https://a.example\n",
                "not a semver constraint",
            ),
        ];
        for (deps, needle) in cases {
            let dir = chart(
                tmp.path(),
                "u",
                &format!("apiVersion: v2\nname: u\nversion: 1.0.0\ndependencies:\n{deps}"),
            );
            let err = plan(&dir, &root, false).unwrap_err().to_string();
            assert!(
                err.contains("u/Chart.yaml:5") && err.contains(needle),
                "{err}"
            );
        }
    }

    #[test]
    fn archives_are_reproducible() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = chart(tmp.path(), "c", "apiVersion: v2\nname: c\nversion: 1.0.0\n");
        fs::write(dir.join("templates/a.yaml"), "a: 1\n").unwrap();
        pack(&dir, "c", &tmp.path().join("one.tgz"), &Rules::default()).unwrap();
        pack(&dir, "c", &tmp.path().join("two.tgz"), &Rules::default()).unwrap();
        let one = fs::read(tmp.path().join("one.tgz")).unwrap();
        assert_eq!(one, fs::read(tmp.path().join("two.tgz")).unwrap());
        let out = tmp.path().join("out");
        fs::create_dir(&out).unwrap();
        let name = super::super::archive::unpack_chart(
            one.as_slice(),
            &out,
            &super::super::archive::Limits::default(),
        )
        .unwrap();
        assert_eq!(name, "c");
        assert_eq!(
            fs::read_to_string(out.join("templates/a.yaml")).unwrap(),
            "a: 1\n"
        );
    }
}
