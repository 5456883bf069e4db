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
    fn safe_segments() {
        assert!(is_safe_segment("acme"));
        for bad in ["", "..", ".", "a/b", "../x", "a\0"] {
            assert!(!is_safe_segment(bad), "{bad:?}");
        }
    }
}
