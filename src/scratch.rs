//! Private temporary directories that name their owner, and removal of those whose owner died.
//!
//! A directory is `<kind>-<pid namespace>-<pid>-<random>`, mode 0700 (its files are written
//! 0600): the merged values helm reads can hold secrets. A SIGKILL leaves such a directory
//! behind; the next run removes every one whose owner process no longer exists in this pid
//! namespace, and those of other namespaces (another container sharing the directory) only
//! once they are older than [`FOREIGN_AGE`], since their owner cannot be checked from here. A
//! live run's directories are never touched.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::time::{Duration, SystemTime};

/// Directories of owners strata cannot check are removed after this long: far above any
/// render's budget.
pub const FOREIGN_AGE: Duration = Duration::from_secs(6 * 3600);

/// This process's pid namespace, as a number (0 when unknown).
fn pid_namespace() -> u64 {
    fs::read_link("/proc/self/ns/pid")
        .ok()
        .and_then(|link| {
            let text = link.to_string_lossy().into_owned();
            text.strip_prefix("pid:[")?.strip_suffix(']')?.parse().ok()
        })
        .unwrap_or(0)
}

/// The name prefix of this process's directories of `kind`.
pub fn owned_prefix(kind: &str) -> String {
    format!("{kind}-{}-{}-", pid_namespace(), std::process::id())
}

/// A new private (0700) directory in `parent`, removed on drop and on SIGTERM/SIGINT.
pub fn private_dir(
    parent: &Path,
    kind: &str,
) -> std::io::Result<(tempfile::TempDir, crate::interrupt::DirGuard)> {
    crate::interrupt::create_dir(
        || {
            tempfile::Builder::new()
                .prefix(&owned_prefix(kind))
                .permissions(fs::Permissions::from_mode(0o700))
                .tempdir_in(parent)
        },
        |dir| dir.path(),
    )
}

/// Writes a new file readable by its owner only (0600).
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(bytes)?;
    file.sync_data().or(Ok(()))
}

/// Whether process `pid` exists (in this pid namespace).
fn alive(pid: i32) -> bool {
    if pid <= 0 {
        return false;
    }
    // SAFETY: signal 0 sends nothing; it only checks that the process exists.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

/// Removes the directories of `kind` in `parent` left by processes that died without
/// cleaning up. Errors are ignored: another run may be removing the same directory, and a
/// directory that cannot be removed is not this run's problem.
pub fn sweep(parent: &Path, kind: &str) {
    let Ok(entries) = fs::read_dir(parent) else {
        return;
    };
    let ours = pid_namespace();
    let prefix = format!("{kind}-");
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(&prefix)) else {
            continue;
        };
        let mut parts = rest.splitn(3, '-');
        let (Some(ns), Some(pid), Some(_)) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        let (Ok(ns), Ok(pid)) = (ns.parse::<u64>(), pid.parse::<i32>()) else {
            continue;
        };
        let path = entry.path();
        // Never follow a link planted under a matching name.
        let Ok(meta) = fs::symlink_metadata(&path) else {
            continue;
        };
        if !meta.is_dir() {
            continue;
        }
        let stale = if ns == ours && ours != 0 {
            !alive(pid)
        } else {
            meta.modified()
                .ok()
                .and_then(|m| SystemTime::now().duration_since(m).ok())
                .is_some_and(|age| age > FOREIGN_AGE)
        };
        if stale {
            tracing::debug!("removing {}, left by process {pid}", path.display());
            let _ = fs::remove_dir_all(&path);
        }
    }
}

/// [`sweep`], at most once per process for each `(parent, kind)`.
pub fn sweep_once(parent: &Path, kind: &str) {
    use std::collections::HashSet;
    use std::sync::Mutex;
    static DONE: Mutex<Option<HashSet<(std::path::PathBuf, String)>>> = Mutex::new(None);
    let key = (parent.to_path_buf(), kind.to_owned());
    {
        let mut done = DONE.lock().unwrap_or_else(|p| p.into_inner());
        if !done.get_or_insert_with(HashSet::new).insert(key) {
            return;
        }
    }
    sweep(parent, kind);
}

/// Creates `dir` (and parents) with mode 0700 if missing.
pub fn create_private_dir_all(dir: &Path) -> std::io::Result<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_dirs_are_0700_and_files_0600() {
        let parent = tempfile::tempdir().unwrap();
        let (dir, _guard) = private_dir(parent.path(), "strata").unwrap();
        let mode = fs::metadata(dir.path()).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
        let file = dir.path().join("values.json");
        write_private(&file, b"{}").unwrap();
        assert_eq!(
            fs::metadata(&file).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let name = dir.path().file_name().unwrap().to_str().unwrap().to_owned();
        assert!(name.starts_with(&owned_prefix("strata")), "{name}");
    }

    #[test]
    fn a_sweep_removes_dead_owners_only() {
        let parent = tempfile::tempdir().unwrap();
        let ns = pid_namespace();
        // A child that has exited and been reaped: its pid is dead.
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let dead_dir = parent.path().join(format!("strata-{ns}-{dead}-abc"));
        let live_dir = parent
            .path()
            .join(format!("strata-{ns}-{}-abc", std::process::id()));
        let foreign = parent.path().join(format!("strata-{}-1-abc", ns + 1));
        let other = parent.path().join("strata-unrelated");
        for d in [&dead_dir, &live_dir, &foreign, &other] {
            fs::create_dir(d).unwrap();
        }
        let old_foreign = parent.path().join(format!("strata-{}-1-old", ns + 1));
        fs::create_dir(&old_foreign).unwrap();
        let long_ago = SystemTime::now() - FOREIGN_AGE - Duration::from_secs(60);
        fs::File::open(&old_foreign)
            .unwrap()
            .set_modified(long_ago)
            .unwrap();
        sweep(parent.path(), "strata");
        assert!(
            !old_foreign.exists(),
            "another namespace's dir removed once old"
        );
        assert!(
            !dead_dir.exists() || alive(dead as i32),
            "dead owner's dir removed"
        );
        assert!(live_dir.exists() && foreign.exists() && other.exists());
    }
}
