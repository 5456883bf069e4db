//! Writing a file so that no reader ever sees part of it: the bytes go to a temporary file in
//! the target's directory, which is renamed over the target once complete. A rename within one
//! directory is atomic, so a concurrent reader (Argo CD, a second strata, a cache lookup) sees
//! the old file or the new one, and an interrupted write leaves the old one in place.
//!
//! Every file strata writes for later readers goes through here: rendered output, strata.yaml
//! and strata.lock rewrites, the render cache, the chart repository index cache.

use std::fs::File;
use std::io::{self, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Who may read the file once it is in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// 0666 less the umask, what the shell gives `>`: rendered manifests, strata.yaml and
    /// strata.lock are files the user publishes or commits.
    Ordinary,
    /// Owner only (0600): cache entries can hold a render's Secrets.
    Private,
}

/// A write that did not complete; the target is untouched.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {}: {source}", .path.display())]
pub struct WriteError {
    pub path: PathBuf,
    #[source]
    pub source: io::Error,
}

/// A file being written beside its target; [`AtomicFile::commit`] puts it in place, dropping
/// it without committing removes it.
pub struct AtomicFile {
    tmp: tempfile::NamedTempFile,
    target: PathBuf,
}

impl AtomicFile {
    /// Starts writing `target`. Its directory must exist.
    pub fn create(target: &Path, access: Access) -> Result<AtomicFile, WriteError> {
        let dir = target
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let mut builder = tempfile::Builder::new();
        builder.prefix(".strata-");
        if access == Access::Ordinary {
            builder.permissions(std::fs::Permissions::from_mode(0o666));
        }
        let tmp = builder.tempfile_in(dir).map_err(|source| WriteError {
            path: target.to_path_buf(),
            source,
        })?;
        Ok(AtomicFile {
            tmp,
            target: target.to_path_buf(),
        })
    }

    /// The temporary file, to write or stream into.
    pub fn file_mut(&mut self) -> &mut File {
        self.tmp.as_file_mut()
    }

    /// Where the temporary file is, to read back what was written before committing.
    pub fn temp_path(&self) -> &Path {
        self.tmp.path()
    }

    /// Renames the written file over the target.
    pub fn commit(self) -> Result<(), WriteError> {
        let target = self.target;
        self.tmp.persist(&target).map_err(|e| WriteError {
            path: target,
            source: e.error,
        })?;
        Ok(())
    }

    fn fail(&self, source: io::Error) -> WriteError {
        WriteError {
            path: self.target.clone(),
            source,
        }
    }
}

/// Writes `bytes` to `path` atomically.
pub fn write(path: &Path, bytes: &[u8], access: Access) -> Result<(), WriteError> {
    let mut file = AtomicFile::create(path, access)?;
    let written = file.file_mut().write_all(bytes);
    written.map_err(|e| file.fail(e))?;
    file.commit()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    #[test]
    fn replaces_the_file_whole_with_the_asked_permissions() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.yaml");
        std::fs::write(&path, "old").unwrap();
        write(&path, b"new", Access::Ordinary).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
        // What the shell's `>` would give: a file created the ordinary way.
        let plain = dir.path().join("plain");
        std::fs::write(&plain, "").unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().mode() & 0o777;
        assert_eq!(mode(&path), mode(&plain));
        std::fs::remove_file(&plain).unwrap();
        write(&path, b"secret", Access::Private).unwrap();
        assert_eq!(mode(&path), 0o600);
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "no temporary file is left behind");
    }

    #[test]
    fn an_uncommitted_file_leaves_the_target_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lock");
        std::fs::write(&path, "old").unwrap();
        let mut file = AtomicFile::create(&path, Access::Ordinary).unwrap();
        file.file_mut().write_all(b"half").unwrap();
        drop(file);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_missing_directory_names_the_target() {
        let err = write(Path::new("/nonexistent-dir/x.yaml"), b"x", Access::Ordinary)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("cannot write /nonexistent-dir/x.yaml: "),
            "{err}"
        );
    }
}
