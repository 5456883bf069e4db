//! Helpers shared by the integration tests: locating the pinned helm binaries,
//! building throw-away stacks, running `strata` and `helm` with a scrubbed
//! environment, and comparing outputs with readable failure messages.

pub mod cmp;
pub mod peak_rss;
pub use peak_rss::peak_rss;
pub mod registry;
pub mod servers;
pub mod slow;

use std::ffi::OsStr;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

/// Minimal `PATH` for every child process. It deliberately contains no helm,
/// so a test only ever uses the helm it names explicitly.
pub const BASE_PATH: &str = "/usr/bin:/bin";

/// Upper bound for a single `strata`/`helm` run in tests, so that a hang
/// fails the test instead of stalling CI.
pub const RUN_LIMIT: Duration = Duration::from_secs(180);

pub fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixtures() -> PathBuf {
    manifest_dir().join("tests").join("fixtures")
}

/// The two helm versions strata is tested against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Helm {
    V3,
    V4,
}

impl Helm {
    pub const ALL: [Helm; 2] = [Helm::V3, Helm::V4];

    pub fn version(self) -> &'static str {
        match self {
            Helm::V3 => "3.17.3",
            Helm::V4 => "4.1.4",
        }
    }

    fn env_var(self) -> &'static str {
        match self {
            Helm::V3 => "STRATA_TEST_HELM3",
            Helm::V4 => "STRATA_TEST_HELM4",
        }
    }

    /// Path of this helm binary. Panics (never skips) when it is missing.
    pub fn path(self) -> PathBuf {
        let path = match std::env::var_os(self.env_var()) {
            Some(p) if !p.is_empty() => PathBuf::from(p),
            _ => manifest_dir()
                .join(".tools")
                .join(format!("helm-{}", self.version()))
                .join("helm"),
        };
        let executable = fs::metadata(&path)
            .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
            .unwrap_or(false);
        assert!(
            executable,
            "helm {} not found at {} (set {} or run scripts/install-helm)",
            self.version(),
            path.display(),
            self.env_var()
        );
        path
    }
}

/// Path of the `strata` binary built by cargo for these tests.
pub fn strata_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_strata"))
}

/// A private, writable HOME shared by all child processes of the test binary.
pub fn test_home() -> PathBuf {
    let home = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("home");
    fs::create_dir_all(&home).expect("create test HOME");
    home
}

/// `strata` with an empty environment apart from PATH, HOME and STRATA_HELM.
pub fn strata(helm: Helm) -> assert_cmd::Command {
    let mut cmd = strata_without_helm();
    cmd.env("STRATA_HELM", helm.path());
    cmd
}

/// `strata` with an empty environment apart from PATH and HOME.
pub fn strata_without_helm() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("strata").expect("strata binary");
    cmd.env_clear()
        .env("PATH", BASE_PATH)
        .env("HOME", test_home())
        .timeout(RUN_LIMIT);
    cmd
}

/// `helm` with the same scrubbed environment strata's children get.
pub fn helm(helm: Helm) -> Command {
    let mut cmd = Command::new(helm.path());
    cmd.env_clear()
        .env("PATH", BASE_PATH)
        .env("HOME", test_home())
        .stdin(Stdio::null());
    cmd
}

/// Runs an assert_cmd command and returns its output (never panics on a
/// non-zero exit; the caller asserts).
pub fn run(cmd: &mut assert_cmd::Command) -> Output {
    cmd.output().expect("spawn strata")
}

pub fn run_std(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("spawn {:?}: {e}", cmd.get_program()))
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Multi-line description of a process result, for assertion messages.
pub fn describe(out: &Output) -> String {
    const MAX: usize = 6000;
    let clip = |b: &[u8]| {
        let s = text(b);
        if s.len() > MAX {
            let mut cut = MAX;
            while !s.is_char_boundary(cut) {
                cut -= 1;
            }
            format!("{}... [{} bytes total]", &s[..cut], s.len())
        } else {
            s
        }
    };
    format!(
        "status: {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        out.status.code(),
        clip(&out.stdout),
        clip(&out.stderr)
    )
}

#[track_caller]
pub fn assert_success(out: &Output, what: &str) {
    assert!(out.status.success(), "{what} failed\n{}", describe(out));
}

/// Asserts strata's error contract: exit code 1, nothing on stdout, and a
/// stderr that mentions every needle.
#[track_caller]
pub fn assert_error(out: &Output, what: &str, needles: &[&str]) {
    assert_eq!(
        out.status.code(),
        Some(1),
        "{what}: expected exit code 1\n{}",
        describe(out)
    );
    assert!(
        out.stdout.is_empty(),
        "{what}: stdout must be empty on error\n{}",
        describe(out)
    );
    let stderr = text(&out.stderr);
    assert!(
        !stderr.trim().is_empty(),
        "{what}: stderr must explain the error\n{}",
        describe(out)
    );
    for needle in needles {
        assert!(
            stderr.contains(needle),
            "{what}: stderr should mention {needle:?}\n{}",
            describe(out)
        );
    }
}

/// Asserts two byte strings are equal; on mismatch prints a line diff
/// (`-` expected only, `+` actual only) with a little context.
#[track_caller]
pub fn assert_same_bytes(actual: &[u8], expected: &[u8], what: &str) {
    if actual == expected {
        return;
    }
    let a = text(actual);
    let e = text(expected);
    let at = a
        .bytes()
        .zip(e.bytes())
        .position(|(x, y)| x != y)
        .unwrap_or(a.len().min(e.len()));
    panic!(
        "{what}: outputs differ ({} bytes actual vs {} bytes expected)\n\
         first difference at byte {at}:\n  actual:   {:?}\n  expected: {:?}\n{}",
        actual.len(),
        expected.len(),
        window(&a, at),
        window(&e, at),
        line_diff(&e, &a)
    );
}

/// Up to 60 bytes of `s` on each side of byte offset `at`.
fn window(s: &str, at: usize) -> &str {
    let mut start = at.saturating_sub(60).min(s.len());
    while !s.is_char_boundary(start) {
        start -= 1;
    }
    let mut end = (at + 60).min(s.len());
    while !s.is_char_boundary(end) {
        end += 1;
    }
    &s[start..end]
}

/// A small LCS line diff from `old` (expected) to `new` (actual), showing
/// changed lines with two lines of context.
pub fn line_diff(old: &str, new: &str) -> String {
    let o: Vec<&str> = old.split('\n').collect();
    let n: Vec<&str> = new.split('\n').collect();
    if o.len().saturating_mul(n.len()) > 25_000_000 {
        let first = o
            .iter()
            .zip(&n)
            .position(|(x, y)| x != y)
            .unwrap_or(o.len().min(n.len()));
        return format!(
            "first difference at line {}:\n- {:?}\n+ {:?}",
            first + 1,
            o.get(first),
            n.get(first)
        );
    }
    // lcs[i][j] = LCS length of o[i..] and n[j..]
    let mut lcs = vec![vec![0u32; n.len() + 1]; o.len() + 1];
    for i in (0..o.len()).rev() {
        for j in (0..n.len()).rev() {
            lcs[i][j] = if o[i] == n[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    // (tag, line number in old/new, text)
    let mut ops: Vec<(char, usize, &str)> = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < o.len() || j < n.len() {
        if i < o.len() && j < n.len() && o[i] == n[j] {
            ops.push((' ', i + 1, o[i]));
            i += 1;
            j += 1;
        } else if j < n.len() && (i == o.len() || lcs[i][j + 1] >= lcs[i + 1][j]) {
            ops.push(('+', j + 1, n[j]));
            j += 1;
        } else {
            ops.push(('-', i + 1, o[i]));
            i += 1;
        }
    }
    let changed: Vec<usize> = ops
        .iter()
        .enumerate()
        .filter(|(_, op)| op.0 != ' ')
        .map(|(k, _)| k)
        .collect();
    let mut out = String::new();
    let mut last_shown: Option<usize> = None;
    for (k, (tag, line, txt)) in ops.iter().enumerate() {
        let near = changed.iter().any(|c| c.abs_diff(k) <= 2);
        if !near {
            continue;
        }
        if last_shown.is_some_and(|l| l + 1 != k) || (last_shown.is_none() && k > 0) {
            out.push_str("   ...\n");
        }
        let shown: String = txt.chars().take(240).collect();
        let more = if shown.len() < txt.len() {
            " [...]"
        } else {
            ""
        };
        out.push_str(&format!("{tag} {line:>4} | {shown}{more}\n"));
        last_shown = Some(k);
        if out.len() > 20_000 {
            out.push_str("   ... (diff truncated)\n");
            break;
        }
    }
    out
}

/// A throw-away directory tree (a stack, a repository checkout...).
pub struct Tree {
    dir: tempfile::TempDir,
}

impl Tree {
    pub fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("strata-test-")
            .tempdir()
            .expect("create temp dir");
        Tree { dir }
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn path(&self, rel: impl AsRef<Path>) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Writes `content` to `rel`, creating parent directories.
    pub fn write(&self, rel: impl AsRef<Path>, content: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path(rel);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).expect("create parent dir");
        }
        fs::write(&path, content).expect("write file");
        path
    }

    pub fn mkdir(&self, rel: impl AsRef<Path>) -> PathBuf {
        let path = self.path(rel);
        fs::create_dir_all(&path).expect("create dir");
        path
    }

    pub fn remove(&self, rel: impl AsRef<Path>) {
        let path = self.path(rel);
        if path.is_dir() {
            fs::remove_dir_all(&path).expect("remove dir");
        } else {
            fs::remove_file(&path).expect("remove file");
        }
    }

    /// Copies the directory `src` to `rel` inside this tree.
    pub fn copy_from(&self, src: &Path, rel: impl AsRef<Path>) -> PathBuf {
        let dest = self.path(rel);
        copy_tree(src, &dest, None);
        dest
    }
}

impl Default for Tree {
    fn default() -> Self {
        Self::new()
    }
}

/// Recursively copies `src` to `dst`. With `modes = Some((file, dir))` every
/// created file and directory gets exactly that mode, like Argo CD's
/// cmp-server does when it extracts the repository tarball.
pub fn copy_tree(src: &Path, dst: &Path, modes: Option<(u32, u32)>) {
    fs::create_dir_all(dst).unwrap_or_else(|e| panic!("create {}: {e}", dst.display()));
    let mut entries: Vec<_> = fs::read_dir(src)
        .unwrap_or_else(|e| panic!("read {}: {e}", src.display()))
        .map(|e| e.expect("dir entry"))
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let from = entry.path();
        let to = dst.join(entry.file_name());
        let ty = entry.file_type().expect("file type");
        if ty.is_dir() {
            copy_tree(&from, &to, modes);
        } else if ty.is_file() {
            fs::copy(&from, &to)
                .unwrap_or_else(|e| panic!("copy {} -> {}: {e}", from.display(), to.display()));
            if let Some((file_mode, _)) = modes {
                fs::set_permissions(&to, fs::Permissions::from_mode(file_mode)).expect("chmod");
            }
        } else if ty.is_symlink() {
            let target = fs::read_link(&from).expect("read link");
            std::os::unix::fs::symlink(target, &to).expect("symlink");
        }
    }
    if let Some((_, dir_mode)) = modes {
        fs::set_permissions(dst, fs::Permissions::from_mode(dir_mode)).expect("chmod dir");
    }
}

/// Layer/values file names `f1.yaml`, `f2.yaml`, ... of a fixture directory,
/// in numeric order.
pub fn numbered_layers(dir: &Path) -> Vec<String> {
    let mut layers: Vec<(u32, String)> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            let n = name
                .strip_prefix('f')?
                .strip_suffix(".yaml")?
                .parse()
                .ok()?;
            Some((n, name))
        })
        .collect();
    layers.sort();
    layers.into_iter().map(|(_, name)| name).collect()
}

/// True when `haystack` names line `line` in one of the usual ways
/// (`line 3`, `:3:`, `line: 3`, `at 3:`).
pub fn mentions_line(haystack: &str, line: u32) -> bool {
    [
        format!("line {line}"),
        format!("line: {line}"),
        format!(":{line}:"),
        format!(":{line},"),
        format!(" {line}:"),
    ]
    .iter()
    .any(|p| haystack.contains(p.as_str()))
}

/// All command lines (argv joined by spaces) of live processes.
pub fn process_command_lines() -> Vec<(u32, Vec<String>)> {
    let mut result = Vec::new();
    let Ok(proc_dir) = fs::read_dir("/proc") else {
        return result;
    };
    for entry in proc_dir.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(raw) = fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        if raw.is_empty() {
            continue;
        }
        let argv = raw
            .split(|b| *b == 0)
            .filter(|a| !a.is_empty())
            .map(text)
            .collect();
        result.push((pid, argv));
    }
    result
}

/// Makes `dir/name` a symlink to `target` and returns its path.
pub fn symlink_into(dir: &Path, name: impl AsRef<OsStr>, target: &Path) -> PathBuf {
    fs::create_dir_all(dir).expect("create dir");
    let link = dir.join(name.as_ref());
    std::os::unix::fs::symlink(target, &link).expect("symlink");
    link
}

/// A repository (it has `.git`) holding a copy of the example stack in `fleet/`, so paths
/// shown are repository-relative (`fleet/customers/...`) and nothing is written into the
/// project itself.
pub fn fleet_repo() -> Tree {
    let t = Tree::new();
    t.mkdir(".git");
    t.copy_from(&manifest_dir().join("examples").join("fleet"), "fleet");
    t
}

/// Runs strata at the root of `t`. Every run gets its own empty cache directory, so no cache
/// can make two runs agree: equal outputs come from equal renders.
pub fn in_repo(t: &Tree, helm: Helm, args: &[&str]) -> Output {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    let n = RUNS.fetch_add(1, Ordering::Relaxed);
    let cache = t.mkdir(format!("cache/{n}"));
    let mut cmd = strata(helm);
    cmd.current_dir(t.root())
        .env("STRATA_CACHE_DIR", cache)
        .args(args);
    run(&mut cmd)
}

/// `name → content` of every file in `dir`.
pub fn files(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|e| {
            let e = e.expect("dir entry");
            (
                e.file_name().to_string_lossy().into_owned(),
                fs::read(e.path()).expect("read file"),
            )
        })
        .collect()
}

/// `git` in `dir` with a scrubbed environment and a fixed identity; its stdout.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = run_std(
        Command::new("git")
            .args(args)
            .current_dir(dir)
            .env_clear()
            .env("PATH", BASE_PATH)
            .env("HOME", test_home())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "strata tests")
            .env("GIT_AUTHOR_EMAIL", "tests@example.com")
            .env("GIT_COMMITTER_NAME", "strata tests")
            .env("GIT_COMMITTER_EMAIL", "tests@example.com"),
    );
    assert_success(&out, &format!("git {}", args.join(" ")));
    text(&out.stdout)
}
