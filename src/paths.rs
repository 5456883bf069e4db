//! Keeps every file strata reads inside the repository that holds the stack.
//!
//! In Argo CD the repository is an extracted tarball of untrusted content, and variables come
//! from Application parameters, so both `..` in a value and a symlink pointing out are refused.

use std::path::{Component, Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum PathError {
    #[error("{what} {path:?} leaves the repository ({root})")]
    Escapes {
        what: String,
        path: String,
        root: String,
    },
    #[error(
        "{what}: {link} is a symbolic link to {target}, outside the repository; helm would read that file into the manifests. Copy the file into the repository (or point the link at a file inside it)"
    )]
    LinkOutside {
        what: String,
        link: String,
        target: String,
    },
    #[error(
        "{what}: {link} is a symbolic link that leads nowhere ({reason}); remove it or point it at a file inside the repository"
    )]
    LinkBroken {
        what: String,
        link: String,
        reason: String,
    },
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// The directory no resolved path may leave.
#[derive(Debug, Clone)]
pub struct RepoRoot {
    /// Canonical (symlinks resolved), so prefix checks on canonical paths are sound.
    canonical: PathBuf,
}

impl RepoRoot {
    pub fn new(dir: &Path) -> Result<RepoRoot, PathError> {
        let canonical = dir.canonicalize().map_err(|source| PathError::Io {
            path: dir.display().to_string(),
            source,
        })?;
        Ok(RepoRoot { canonical })
    }

    /// Finds the repository root for `start`: with Argo CD's source path, the directory that
    /// many levels up; otherwise the nearest ancestor holding `.git`; otherwise `None`.
    pub fn discover(start: &Path, argocd_source_path: Option<&str>) -> Option<PathBuf> {
        if let Some(source_path) = argocd_source_path {
            let depth = Path::new(source_path)
                .components()
                .filter(|c| matches!(c, Component::Normal(_)))
                .count();
            let mut root = start.to_path_buf();
            let mut ok = true;
            for _ in 0..depth {
                ok &= root.pop();
            }
            if ok && root.join(source_path).canonicalize().ok() == start.canonicalize().ok() {
                return Some(root);
            }
        }
        start
            .ancestors()
            .find(|dir| dir.join(".git").exists())
            .map(Path::to_path_buf)
    }

    pub fn path(&self) -> &Path {
        &self.canonical
    }

    /// `path` relative to the root, for messages and provenance.
    pub fn display(&self, path: &Path) -> String {
        // A file that does not exist yet (a lock about to be written) is shown by its parent.
        let canon = path.canonicalize().unwrap_or_else(|_| {
            match (
                path.parent().and_then(|p| p.canonicalize().ok()),
                path.file_name(),
            ) {
                (Some(parent), Some(name)) => parent.join(name),
                _ => path.to_path_buf(),
            }
        });
        canon
            .strip_prefix(&self.canonical)
            .map(|p| p.display().to_string())
            .unwrap_or_else(|_| path.display().to_string())
    }

    /// Joins a relative path onto `base` and checks that the result stays inside the root,
    /// lexically and, when it exists, after resolving symlinks. `what` names the path in errors.
    pub fn join(&self, base: &Path, relative: &str, what: &str) -> Result<PathBuf, PathError> {
        let escapes = || PathError::Escapes {
            what: what.to_owned(),
            path: relative.to_owned(),
            root: "the stack's repository".to_owned(),
        };
        if relative.contains('\0') || Path::new(relative).is_absolute() {
            return Err(escapes());
        }
        let base = base.canonicalize().map_err(|source| PathError::Io {
            path: base.display().to_string(),
            source,
        })?;
        let mut joined = base;
        for component in Path::new(relative).components() {
            match component {
                Component::Normal(part) => joined.push(part),
                Component::CurDir => {}
                Component::ParentDir => {
                    if !joined.pop() {
                        return Err(escapes());
                    }
                }
                Component::RootDir | Component::Prefix(_) => return Err(escapes()),
            }
        }
        if !joined.starts_with(&self.canonical) {
            return Err(escapes());
        }
        // The deepest part that exists decides where a symlink really points.
        let existing = joined.ancestors().find_map(|p| p.canonicalize().ok());
        if existing.is_some_and(|real| !real.starts_with(&self.canonical)) {
            return Err(escapes());
        }
        Ok(joined)
    }
}

/// Directory nesting beyond this is taken for a symlink loop.
const MAX_TREE_DEPTH: usize = 64;

impl RepoRoot {
    /// Checks that every symbolic link under `dir` (followed the way helm's loader follows
    /// them) resolves inside the repository. helm reads a chart's files through its links, so a
    /// `files/passwd -> /etc/passwd` read by `.Files.Get`, or a template linked to a mounted
    /// credential, would put a file from outside the repository into the manifests. Links that
    /// stay inside keep working. `what` names the chart in errors.
    pub fn check_links(&self, dir: &Path, what: &str) -> Result<(), PathError> {
        let meta = std::fs::symlink_metadata(dir).map_err(|source| PathError::Io {
            path: self.display(dir),
            source,
        })?;
        if meta.is_symlink() {
            self.resolve_link(dir, what)?;
        }
        if !std::fs::metadata(dir).is_ok_and(|m| m.is_dir()) {
            return Ok(());
        }
        let mut ancestors = Vec::new();
        self.walk_links(dir, what, &mut ancestors)
    }

    fn walk_links(
        &self,
        dir: &Path,
        what: &str,
        ancestors: &mut Vec<PathBuf>,
    ) -> Result<(), PathError> {
        let io = |path: &Path| {
            let shown = self.display(path);
            move |source| PathError::Io {
                path: shown,
                source,
            }
        };
        let real = dir.canonicalize().map_err(io(dir))?;
        if ancestors.contains(&real) || ancestors.len() > MAX_TREE_DEPTH {
            return Err(PathError::LinkBroken {
                what: what.to_owned(),
                link: self.link_shown(dir),
                reason: "a symbolic link loop".to_owned(),
            });
        }
        ancestors.push(real);
        for entry in std::fs::read_dir(dir).map_err(io(dir))? {
            let path = entry.map_err(io(dir))?.path();
            let meta = std::fs::symlink_metadata(&path).map_err(io(&path))?;
            let is_dir = if meta.is_symlink() {
                self.resolve_link(&path, what)?.is_dir()
            } else {
                meta.is_dir()
            };
            if is_dir {
                self.walk_links(&path, what, ancestors)?;
            }
        }
        ancestors.pop();
        Ok(())
    }

    /// A link as the user wrote it, not where it leads: its parent is resolved, its name kept.
    fn link_shown(&self, link: &Path) -> String {
        let at = match (
            link.parent().and_then(|p| p.canonicalize().ok()),
            link.file_name(),
        ) {
            (Some(parent), Some(name)) => parent.join(name),
            _ => link.to_path_buf(),
        };
        let rel = at.strip_prefix(&self.canonical).unwrap_or(&at);
        crate::quote::bounded(&rel.display().to_string(), crate::quote::QUOTE_MAX)
    }

    /// Where a link finally points, if that is inside the repository.
    fn resolve_link(&self, link: &Path, what: &str) -> Result<PathBuf, PathError> {
        let shown = || self.link_shown(link);
        let target = link.canonicalize().map_err(|e| PathError::LinkBroken {
            what: what.to_owned(),
            link: shown(),
            reason: e.to_string(),
        })?;
        if !target.starts_with(&self.canonical) {
            return Err(PathError::LinkOutside {
                what: what.to_owned(),
                link: shown(),
                target: crate::quote::bounded(
                    &target.display().to_string(),
                    crate::quote::QUOTE_MAX,
                ),
            });
        }
        Ok(target)
    }
}

/// A variable value that can stand as one path segment: not empty, no `/`, no `..`, no NUL.
pub fn is_safe_segment(value: &str) -> bool {
    !value.is_empty() && value != "." && value != ".." && !value.contains(['/', '\\', '\0'])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_parent_escape_absolute_and_symlink_out() {
        let outside = tempfile::tempdir().unwrap();
        let repo = tempfile::tempdir().unwrap();
        std::fs::create_dir(repo.path().join("a")).unwrap();
        std::os::unix::fs::symlink(outside.path(), repo.path().join("a/out")).unwrap();
        let root = RepoRoot::new(repo.path()).unwrap();
        let base = repo.path().join("a");
        assert!(root.join(&base, "x/../y.yaml", "layer").is_ok());
        assert!(root.join(&base, "../../etc/passwd", "layer").is_err());
        assert!(root.join(&base, "/etc/passwd", "layer").is_err());
        assert!(root.join(&base, "out/file", "layer").is_err());
    }

    #[test]
    fn links_inside_the_repository_pass_and_links_out_are_refused() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), "s").unwrap();
        let repo = tempfile::tempdir().unwrap();
        let chart = repo.path().join("chart");
        std::fs::create_dir_all(chart.join("files")).unwrap();
        std::fs::write(repo.path().join("shared.yaml"), "a: 1").unwrap();
        std::os::unix::fs::symlink("../../shared.yaml", chart.join("files/shared.yaml")).unwrap();
        std::os::unix::fs::symlink("..", chart.join("files/up")).unwrap();
        let root = RepoRoot::new(repo.path()).unwrap();
        let err = root.check_links(&chart, "chart").unwrap_err().to_string();
        assert!(err.contains("loop"), "{err}");
        std::fs::remove_file(chart.join("files/up")).unwrap();
        root.check_links(&chart, "chart").unwrap();

        std::os::unix::fs::symlink(outside.path().join("secret"), chart.join("files/passwd"))
            .unwrap();
        let err = root
            .check_links(&chart, "chart web")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("chart web: chart/files/passwd is a symbolic link to ")
                && err.contains("outside the repository"),
            "{err}"
        );
        std::fs::remove_file(chart.join("files/passwd")).unwrap();
        std::os::unix::fs::symlink(outside.path(), chart.join("files/dir")).unwrap();
        assert!(root.check_links(&chart, "chart").is_err());
        std::fs::remove_file(chart.join("files/dir")).unwrap();
        std::os::unix::fs::symlink("/nonexistent/x", chart.join("dangling")).unwrap();
        let err = root.check_links(&chart, "chart").unwrap_err().to_string();
        assert!(err.contains("leads nowhere"), "{err}");
    }

    #[test]
    fn safe_segments() {
        assert!(is_safe_segment("acme"));
        for bad in ["", "..", ".", "a/b", "../x", "a\0"] {
            assert!(!is_safe_segment(bad), "{bad:?}");
        }
    }
}
