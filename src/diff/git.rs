//! The few git operations `strata diff` needs, through the real `git` command: where the
//! repository is, which commit a revision names, and a commit's files.
//!
//! A commit is read with `git archive` into a private temporary directory rather than checked
//! out, so the user's working tree, index, HEAD and worktree list stay exactly as they were,
//! also when strata is interrupted half way.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("cannot run git ({what}): {source}; strata diff needs git on PATH")]
    Spawn {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{dir} is not inside a git repository: {message}")]
    NotARepository { dir: String, message: String },
    #[error("{role} revision {rev:?} is not a commit of {repo}{}", detail(.message))]
    BadRevision {
        role: &'static str,
        rev: String,
        repo: String,
        message: String,
    },
    #[error("cannot read commit {commit} with git archive: {message}")]
    Archive { commit: String, message: String },
    #[error("cannot unpack commit {commit} into a temporary directory: {source}")]
    Unpack {
        commit: String,
        #[source]
        source: std::io::Error,
    },
}

fn detail(message: &str) -> String {
    if message.is_empty() {
        String::new()
    } else {
        format!(": {message}")
    }
}

/// A git repository's top-level directory.
#[derive(Debug, Clone)]
pub struct Repo {
    top: PathBuf,
}

/// A commit's files in a temporary directory, removed on drop.
#[derive(Debug)]
pub struct Snapshot {
    dir: tempfile::TempDir,
}

impl Snapshot {
    pub fn root(&self) -> &Path {
        self.dir.path()
    }
}

impl Repo {
    /// The repository that holds `dir`.
    pub fn discover(dir: &Path) -> Result<Repo, GitError> {
        let out = git(dir, &["rev-parse", "--show-toplevel"], "rev-parse")?;
        if !out.status.success() {
            return Err(GitError::NotARepository {
                dir: dir.display().to_string(),
                message: stderr_text(&out.stderr),
            });
        }
        let top = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim_end_matches('\n'));
        let top = top.canonicalize().unwrap_or(top);
        Ok(Repo { top })
    }

    /// The working tree's top-level directory (canonical).
    pub fn top(&self) -> &Path {
        &self.top
    }

    /// The full commit id `rev` names. `role` ("base", "head") is for the message.
    pub fn commit(&self, rev: &str, role: &'static str) -> Result<String, GitError> {
        let bad = |message: String| GitError::BadRevision {
            role,
            rev: rev.to_owned(),
            repo: self.top.display().to_string(),
            message,
        };
        // A revision that starts with '-' would be read as an option by git.
        if rev.is_empty() || rev.starts_with('-') {
            return Err(bad("a revision cannot be empty or start with '-'".into()));
        }
        let spec = format!("{rev}^{{commit}}");
        let out = git(
            &self.top,
            &["rev-parse", "--verify", "--quiet", &spec],
            "rev-parse",
        )?;
        if !out.status.success() {
            let mut message = stderr_text(&out.stderr);
            if message.is_empty() {
                message = "unknown revision; a CI checkout must fetch it first (for GitHub \
                           Actions, actions/checkout with fetch-depth: 0)"
                    .into();
            }
            return Err(bad(message));
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    }

    /// Unpacks `commit`'s tree into a new temporary directory.
    pub fn snapshot(&self, commit: &str) -> Result<Snapshot, GitError> {
        let dir = tempfile::Builder::new()
            .prefix("strata-diff-")
            .tempdir()
            .map_err(|source| GitError::Unpack {
                commit: commit.to_owned(),
                source,
            })?;
        let mut child = Command::new("git")
            .arg("-C")
            .arg(&self.top)
            .args(["archive", "--format=tar", commit])
            .env("GIT_TERMINAL_PROMPT", "0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|source| GitError::Spawn {
                what: "archive".into(),
                source,
            })?;
        // stderr is drained on its own thread, so a chatty git cannot block on a full pipe
        // while the archive is being read.
        let mut stderr = child.stderr.take().expect("piped stderr");
        let errors = std::thread::spawn(move || {
            let mut text = Vec::new();
            let _ = stderr.read_to_end(&mut text);
            text
        });
        let stdout = child.stdout.take().expect("piped stdout");
        let mut archive = tar::Archive::new(stdout);
        archive.set_preserve_permissions(false);
        archive.set_preserve_mtime(false);
        let unpacked = archive.unpack(dir.path());
        // Drain whatever is left so git is never killed by SIGPIPE while we wait for it.
        let mut rest = archive.into_inner();
        let _ = std::io::copy(&mut rest, &mut std::io::sink());
        let status = child.wait().map_err(|source| GitError::Spawn {
            what: "archive".into(),
            source,
        })?;
        let errors = errors.join().unwrap_or_default();
        if !status.success() {
            return Err(GitError::Archive {
                commit: commit.to_owned(),
                message: stderr_text(&errors),
            });
        }
        unpacked.map_err(|source| GitError::Unpack {
            commit: commit.to_owned(),
            source,
        })?;
        Ok(Snapshot { dir })
    }
}

fn git(dir: &Path, args: &[&str], what: &str) -> Result<std::process::Output, GitError> {
    Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin(Stdio::null())
        .output()
        .map_err(|source| GitError::Spawn {
            what: what.to_owned(),
            source,
        })
}

fn stderr_text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).trim().to_owned()
}

/// The first 12 characters of a commit id, for display.
pub fn short(commit: &str) -> &str {
    &commit[..commit.len().min(12)]
}
