//! The helm renderer: runs the real `helm template` as a subprocess.
//!
//! helm runs in its own process group so a timeout can kill it together with anything it
//! started (plugins, post-renderers); Argo CD kills the whole request at its own deadline, and a
//! clear "timed out" from strata beats Argo CD's "context deadline exceeded".

use super::{RenderError, Renderer, Request};
use crate::context::HELM_ENV;
use sha2::{Digest, Sha256};
use std::fs;
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The whole render's budget (see [`crate::budget`]).
pub const DEFAULT_TIMEOUT: Duration = crate::budget::DEFAULT_RENDER_BUDGET;

/// One argv string stays well under Linux's 128 KiB per-argument limit.
const MAX_ARG_BYTES: usize = 100 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum HelmError {
    #[error(
        "helm not found: {0}. Install helm 3.17+ or 4.x and put it on PATH, or set STRATA_HELM to its path"
    )]
    NotFound(String),
    #[error("cannot start helm ({binary}): {source}")]
    Spawn {
        binary: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write the values file for helm: {0}")]
    ValuesFile(#[source] std::io::Error),
    #[error(
        "helm template for component {component:?} (chart {chart}) timed out: the render's {seconds} s budget ran out and helm was killed. Raise timeoutSeconds in strata.yaml or STRATA_TIMEOUT, or find the slow template"
    )]
    Timeout {
        component: String,
        chart: String,
        seconds: u64,
    },
    #[error("cannot identify helm ({binary}): `helm version` {detail}")]
    Version { binary: String, detail: String },
    #[error(
        "helm template failed for component {component:?} (chart {chart}), {status}:\n{stderr}"
    )]
    Failed {
        component: String,
        chart: String,
        status: String,
        stderr: String,
    },
}

/// Locates helm: `STRATA_HELM`, else the first `helm` on PATH.
pub fn find_helm(explicit: Option<&Path>) -> Result<PathBuf, HelmError> {
    if let Some(path) = explicit {
        return if path.is_file() {
            Ok(path.to_path_buf())
        } else {
            Err(HelmError::NotFound(format!(
                "{HELM_ENV}={} does not exist",
                path.display()
            )))
        };
    }
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join("helm"))
        .find(|p| p.is_file())
        .ok_or_else(|| HelmError::NotFound("no `helm` on PATH".into()))
}

/// A configured helm binary.
#[derive(Debug, Clone)]
pub struct Helm {
    pub binary: PathBuf,
    /// When every helm call of this render must have finished.
    pub deadline: Instant,
    /// The whole budget, for messages.
    pub budget: Duration,
}

impl Helm {
    /// Renders and returns helm's stdout unchanged. helm's warnings go to our stderr.
    pub fn template(&self, req: &Request) -> Result<Vec<u8>, HelmError> {
        // Private (0700/0600): the merged values can hold secrets. Named after this process,
        // so a later run removes it if this one is SIGKILLed.
        let tmp = std::env::temp_dir();
        crate::scratch::sweep_once(&tmp, "strata");
        let (dir, _registered) =
            crate::scratch::private_dir(&tmp, "strata").map_err(HelmError::ValuesFile)?;
        let values_path = dir.path().join("values.json");
        crate::scratch::write_private(&values_path, req.values_json)
            .map_err(HelmError::ValuesFile)?;

        let mut cmd = self.command();
        cmd.arg("template")
            .arg(req.release)
            .arg(req.chart)
            .arg(format!("--namespace={}", req.namespace))
            .arg(format!("--values={}", values_path.display()));
        if let Some(kv) = req.kube_version {
            cmd.arg(format!("--kube-version={kv}"));
        }
        for chunk in chunk_list(req.api_versions, MAX_ARG_BYTES) {
            cmd.arg(format!("--api-versions={chunk}"));
        }
        if req.include_crds {
            cmd.arg("--include-crds");
        }
        if req.skip_tests {
            cmd.arg("--skip-tests");
        }
        tracing::debug!(?cmd, "running helm");
        let remaining = self.deadline.saturating_duration_since(Instant::now());
        let output = run_with_timeout(cmd, remaining).map_err(|e| match e {
            RunError::Spawn(source) => HelmError::Spawn {
                binary: self.binary.display().to_string(),
                source,
            },
            RunError::Timeout => HelmError::Timeout {
                component: req.component.to_owned(),
                chart: req.chart_shown.to_owned(),
                seconds: self.budget.as_secs(),
            },
        })?;
        let stderr = String::from_utf8_lossy(&output.stderr);
        if !output.status.success() {
            let status = match (output.status.code(), output.status.signal()) {
                (Some(code), _) => format!("exit code {code}"),
                (None, Some(sig)) => format!("killed by signal {sig}"),
                _ => "unknown status".into(),
            };
            return Err(HelmError::Failed {
                component: req.component.to_owned(),
                chart: req.chart_shown.to_owned(),
                status,
                stderr: stderr.trim_end().to_owned(),
            });
        }
        for line in stderr.lines().filter(|l| !l.trim().is_empty()) {
            tracing::warn!("helm ({}): {line}", req.component);
        }
        Ok(output.stdout)
    }
}

impl Helm {
    /// A helm command with strata's process setup: its own process group (so a timeout kills
    /// everything it started), piped output, no stdin.
    fn command(&self) -> Command {
        let mut cmd = Command::new(&self.binary);
        // Large Argo CD variables are not helm's business and would eat into the exec limit.
        for name in ["KUBE_API_VERSIONS", "ARGOCD_APP_PARAMETERS"] {
            cmd.env_remove(name);
        }
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        cmd
    }

    /// helm's own version (`v3.17.3`): part of the render cache key, because a different helm
    /// may render the same chart differently. Costs a process, so callers memoise it.
    pub fn version(&self) -> Result<String, HelmError> {
        let mut cmd = self.command();
        cmd.args(["version", "--template", "{{.Version}}"]);
        tracing::debug!(?cmd, "asking helm for its version");
        let failed = |detail: String| HelmError::Version {
            binary: self.binary.display().to_string(),
            detail,
        };
        let remaining = self.deadline.saturating_duration_since(Instant::now());
        let output = run_with_timeout(cmd, remaining).map_err(|e| match e {
            RunError::Spawn(source) => failed(format!("could not start: {source}")),
            RunError::Timeout => failed("timed out".into()),
        })?;
        let version = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        if !output.status.success() {
            return Err(failed(format!(
                "failed: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            )));
        }
        if version.is_empty()
            || version.len() > 64
            || !version.chars().all(|c| c.is_ascii_graphic())
        {
            return Err(failed(format!("printed {version:?}, not a version")));
        }
        Ok(version)
    }
}

/// Where helm's version is remembered, under the renderer's memo directory.
const VERSIONS_DIR: &str = "helm-versions";

impl Helm {
    /// helm's version, asked once per binary and remembered under `memo_dir` by the binary's
    /// resolved path, size, mtime and inode: the hot path costs a stat and a small read, not a
    /// process. Replacing or upgrading the binary changes the stat and asks again.
    pub fn remembered_version(&self, memo_dir: &Path) -> Result<String, HelmError> {
        let unreadable = |e: std::io::Error| HelmError::Version {
            binary: self.binary.display().to_string(),
            detail: format!("could not read the binary: {e}"),
        };
        let binary = fs::canonicalize(&self.binary).map_err(unreadable)?;
        let meta = fs::metadata(&binary).map_err(unreadable)?;
        let mut hash = Sha256::new();
        let path = binary.as_os_str().as_bytes();
        hash.update((path.len() as u64).to_be_bytes());
        hash.update(path);
        for n in [
            meta.len(),
            meta.mtime() as u64,
            meta.mtime_nsec() as u64,
            meta.ino(),
            meta.dev(),
        ] {
            hash.update(n.to_be_bytes());
        }
        let dir = memo_dir.join(VERSIONS_DIR);
        let memo = dir.join(hex::encode(hash.finalize()));
        if let Ok(text) = fs::read_to_string(&memo) {
            let version = text.trim();
            if !version.is_empty() && version.chars().all(|c| c.is_ascii_graphic()) {
                return Ok(version.to_owned());
            }
        }
        let version = self.version()?;
        if let Err(e) = remember(&dir, &memo, &version) {
            tracing::warn!("cannot remember helm's version: {e}");
        }
        Ok(version)
    }
}

/// Writes the memo under a temporary name and renames it, so a reader never sees half of it.
fn remember(dir: &Path, memo: &Path, version: &str) -> std::io::Result<()> {
    fs::create_dir_all(dir)?;
    crate::atomic_file::write(
        memo,
        format!("{version}\n").as_bytes(),
        crate::atomic_file::Access::Ordinary,
    )
    .map_err(|e| e.source)
}

impl Renderer for Helm {
    /// helm's version alone (`v3.17.3`): the binary's path does not change what it renders.
    fn identity(&self, memo_dir: &Path) -> Result<String, RenderError> {
        Ok(self.remembered_version(memo_dir)?)
    }

    fn render(&self, request: &Request) -> Result<Vec<u8>, RenderError> {
        Ok(self.template(request)?)
    }
}

/// Joins items with commas into as few strings as possible, each at most `max` bytes, so a
/// 20,000-entry API list still fits the kernel's per-argument limit.
fn chunk_list(items: &[String], max: usize) -> Vec<String> {
    let mut chunks = Vec::new();
    let mut current = String::new();
    for item in items {
        if !current.is_empty() && current.len() + 1 + item.len() > max {
            chunks.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push(',');
        }
        current.push_str(item);
    }
    if !current.is_empty() {
        chunks.push(current);
    }
    chunks
}

enum RunError {
    Spawn(std::io::Error),
    Timeout,
}

struct Output {
    status: std::process::ExitStatus,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

/// Runs a command to completion or kills its process group at the deadline.
fn run_with_timeout(mut cmd: Command, timeout: Duration) -> Result<Output, RunError> {
    // Registered so that SIGTERM/SIGINT to strata reach helm's group too.
    let (mut child, _group) = crate::interrupt::spawn_group(&mut cmd).map_err(RunError::Spawn)?;
    let pid = child.id() as i32;
    let mut stdout = child.stdout.take().expect("piped");
    let mut stderr = child.stderr.take().expect("piped");
    // Pipes are drained on their own threads: a chatty helm would otherwise block on a full pipe.
    let out_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stdout.read_to_end(&mut buf);
        buf
    });
    let err_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stderr.read_to_end(&mut buf);
        buf
    });
    let (tx, rx) = mpsc::channel();
    let waiter = std::thread::spawn(move || {
        let status = child.wait();
        let _ = tx.send(());
        status
    });
    let timed_out = match rx.recv_timeout(timeout) {
        Ok(()) => false,
        Err(_) => {
            // SAFETY: killpg only sends a signal; the group id is our child's own pid (it is the
            // group leader through process_group(0)) and the child has not been reaped yet,
            // because the waiter has not reported.
            unsafe {
                libc::killpg(pid, libc::SIGKILL);
            }
            true
        }
    };
    let status = waiter
        .join()
        .expect("waiter thread")
        .map_err(RunError::Spawn)?;
    let stdout = out_reader.join().unwrap_or_default();
    let stderr = err_reader.join().unwrap_or_default();
    if timed_out {
        return Err(RunError::Timeout);
    }
    Ok(Output {
        status,
        stdout,
        stderr,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_respect_the_limit_and_keep_every_item() {
        let items: Vec<String> = (0..1000)
            .map(|i| format!("group{i}.example.com/v1"))
            .collect();
        let chunks = chunk_list(&items, 1000);
        assert!(chunks.iter().all(|c| c.len() <= 1000));
        let back: Vec<&str> = chunks.iter().flat_map(|c| c.split(',')).collect();
        assert_eq!(back, items.iter().map(String::as_str).collect::<Vec<_>>());
    }

    #[test]
    fn a_timeout_kills_the_whole_process_group() {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "sleep 30 & sleep 30; wait"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        let start = std::time::Instant::now();
        let result = run_with_timeout(cmd, Duration::from_millis(200));
        assert!(matches!(result, Err(RunError::Timeout)));
        // The background sleep holds the pipes: returning at all proves the group was killed.
        assert!(start.elapsed() < Duration::from_secs(10));
    }
}
