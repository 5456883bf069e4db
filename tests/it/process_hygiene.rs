//! Process hygiene: private temporary files, SIGTERM/SIGINT handling (helm stopped, temp dir
//! removed, 128 + signal), stale directories of killed runs removed by the next run, bounded
//! error text, full disks reported as such, and non-UTF-8 Argo CD variables refused.
//!
//! helm is the real helm behind a small wrapper script that records what it was given (its
//! pid, the modes of its values file) and, for the signal tests, sleeps before exec'ing helm.
//! Every test has its own TMPDIR.

use crate::common::registry;
use crate::common::servers::Nginx;
use crate::common::*;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A repository with one path-chart tenant, a TMPDIR and a helm wrapper.
struct Setup {
    tree: Tree,
}

impl Setup {
    fn new(helm_version: Helm) -> Setup {
        let tree = Tree::new();
        tree.mkdir(".git");
        tree.mkdir("tmp");
        tree.mkdir("mark");
        tree.write(
            "stack/strata.yaml",
            "apiVersion: strata/v1\nkind: Stack\ntenants:\n  path: t\ncomponents:\n  - name: app\n    releaseName: app\n    namespace: apps\n    chart: {path: chart}\n",
        );
        tree.write("stack/t/tenant.yaml", "{}\n");
        tree.write(
            "stack/chart/Chart.yaml",
            "apiVersion: v2\nname: app\nversion: 1.0.0\n",
        );
        tree.write(
            "stack/chart/templates/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  password: {{ .Values.password | quote }}\n",
        );
        tree.write("stack/t/values.yaml", "password: s3cret\n");
        tree.write(
            "stack/strata.yaml",
            "apiVersion: strata/v1\nkind: Stack\ntenants:\n  path: t\ncomponents:\n  - name: app\n    releaseName: app\n    namespace: apps\n    chart: {path: chart}\n    values: [t/values.yaml]\n",
        );
        let script = tree.write(
            "bin/helm",
            format!(
                r#"#!/bin/sh
mark='{mark}'
if [ "$1" = template ]; then
  if [ -n "$IGNORE_TERM" ]; then trap '' TERM INT; fi
  echo $$ > "$mark/pid.tmp" && mv "$mark/pid.tmp" "$mark/pid"
  for a in "$@"; do
    case "$a" in
      --values=*)
        f="${{a#--values=}}"
        echo "$f" > "$mark/values-path"
        stat -c '%a' "$f" > "$mark/file-mode"
        stat -c '%a' "$(dirname "$f")" > "$mark/dir-mode"
        ;;
    esac
  done
  if [ -n "$SLOW_HELM" ]; then sleep "$SLOW_HELM"; fi
fi
exec '{helm}' "$@"
"#,
                mark = tree.path("mark").display(),
                helm = helm_version.path().display()
            ),
        );
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        Setup { tree }
    }

    fn tmp(&self) -> PathBuf {
        self.tree.path("tmp")
    }

    fn mark(&self, name: &str) -> Option<String> {
        std::fs::read_to_string(self.tree.path("mark").join(name))
            .ok()
            .map(|s| s.trim().to_owned())
    }

    fn command(&self, slow: Option<u32>) -> Command {
        let mut cmd = Command::new(strata_bin());
        cmd.env_clear()
            .env("PATH", BASE_PATH)
            .env("HOME", test_home())
            .env("TMPDIR", self.tmp())
            .env("STRATA_HELM", self.tree.path("bin/helm"))
            .env("STRATA_CACHE_DIR", self.tree.path("cache"))
            .args(["render", "--no-cache"])
            .arg(self.tree.path("stack/t"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(seconds) = slow {
            cmd.env("SLOW_HELM", seconds.to_string());
        }
        cmd
    }

    /// Starts a render whose helm sleeps, and waits until helm is running. The caller waits
    /// for the child it gets back.
    fn start_slow(&self) -> (Child, i32) {
        self.start_slow_with(self.command(Some(60)))
    }

    #[allow(clippy::zombie_processes)]
    fn start_slow_with(&self, mut cmd: Command) -> (Child, i32) {
        let mut child = cmd.spawn().expect("spawn strata");
        let start = Instant::now();
        loop {
            if let Some(pid) = self.mark("pid").and_then(|p| p.parse().ok()) {
                return (child, pid);
            }
            if start.elapsed() > Duration::from_secs(30) {
                let _ = child.kill();
                let _ = child.wait();
                panic!("helm never started");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn strata_dirs(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.tmp())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("strata-"))
            .collect();
        names.sort();
        names
    }
}

fn wait_with_limit(mut child: Child, limit: Duration) -> Output {
    let start = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("strata did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("output")
}

/// Live (non-zombie) processes whose process group is `group`.
fn group_members(group: i32) -> Vec<i32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // pid (comm) state ppid pgrp ...: comm may hold spaces, so split after the last `)`.
        let Some(after) = stat.rsplit_once(')').map(|(_, rest)| rest) else {
            continue;
        };
        let fields: Vec<&str> = after.split_whitespace().collect();
        if fields.len() > 2 && fields[0] != "Z" && fields[2] == group.to_string() {
            found.push(pid);
        }
    }
    found
}

fn wait_until_gone(group: i32) -> Vec<i32> {
    let start = Instant::now();
    loop {
        let members = group_members(group);
        if members.is_empty() || start.elapsed() > Duration::from_secs(5) {
            return members;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn pid_namespace() -> String {
    let link = std::fs::read_link("/proc/self/ns/pid").unwrap();
    let text = link.to_string_lossy().into_owned();
    text.trim_start_matches("pid:[")
        .trim_end_matches(']')
        .to_owned()
}

/// A pid that no process has any more.
fn dead_pid() -> u32 {
    let mut child = Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    pid
}

#[test]
fn the_values_file_is_private_while_helm_runs() {
    for helm_version in [Helm::V3, Helm::V4] {
        let setup = Setup::new(helm_version);
        let out = setup.command(None).output().unwrap();
        assert_success(&out, "render");
        assert!(text(&out.stdout).contains("s3cret"));
        assert_eq!(setup.mark("file-mode").as_deref(), Some("600"));
        assert_eq!(setup.mark("dir-mode").as_deref(), Some("700"));
        let values = setup.mark("values-path").unwrap();
        assert!(
            values.starts_with(&setup.tmp().display().to_string()),
            "{values}"
        );
        assert!(!Path::new(&values).exists(), "removed after the render");
        assert_eq!(setup.strata_dirs(), Vec::<String>::new());
    }
}

#[test]
fn sigterm_and_sigint_stop_helm_remove_the_temp_dir_and_exit_128_plus_signal() {
    for (signal, code, name) in [
        (libc::SIGTERM, 143, "SIGTERM"),
        (libc::SIGINT, 130, "SIGINT"),
    ] {
        let setup = Setup::new(Helm::V3);
        let (child, helm_pid) = setup.start_slow();
        assert_eq!(setup.strata_dirs().len(), 1, "the values dir exists");
        let started = Instant::now();
        // SAFETY: sends a signal to the strata process this test started.
        assert_eq!(unsafe { libc::kill(child.id() as i32, signal) }, 0);
        let out = wait_with_limit(child, Duration::from_secs(20));
        assert_eq!(
            out.status.code(),
            Some(code),
            "{name}: exit status\n{}",
            describe(&out)
        );
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{name}: helm's 60 s sleep was not waited for"
        );
        assert!(out.stdout.is_empty(), "{name}: no partial output");
        assert!(text(&out.stderr).contains(name), "{}", describe(&out));
        let left = wait_until_gone(helm_pid);
        assert!(left.is_empty(), "{name}: helm's group still runs: {left:?}");
        assert_eq!(
            setup.strata_dirs(),
            Vec::<String>::new(),
            "{name}: temp dir removed"
        );
    }
}

#[test]
fn a_later_run_removes_what_a_sigkilled_run_left_but_not_a_live_runs_dirs() {
    let setup = Setup::new(Helm::V3);
    let (child, helm_pid) = setup.start_slow();
    // SAFETY: sends a signal to the strata process this test started.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGKILL) }, 0);
    let out = wait_with_limit(child, Duration::from_secs(20));
    assert_eq!(out.status.code(), None, "killed");
    // SIGKILL cannot be forwarded: helm is stopped here, as an operator would.
    // SAFETY: the group is the wrapper this test's strata started.
    unsafe {
        libc::killpg(helm_pid, libc::SIGKILL);
    }
    wait_until_gone(helm_pid);
    let stale = setup.strata_dirs();
    assert_eq!(stale.len(), 1, "SIGKILL leaves the values dir: {stale:?}");
    // A directory of a live run (this test process), and one of another pid namespace.
    let ns = pid_namespace();
    let live = format!("strata-{ns}-{}-live", std::process::id());
    std::fs::create_dir(setup.tmp().join(&live)).unwrap();
    let foreign = format!("strata-{}1-{}-x", ns, dead_pid());
    std::fs::create_dir(setup.tmp().join(&foreign)).unwrap();
    let out = setup.command(None).output().unwrap();
    assert_success(&out, "the next render");
    let mut expected = vec![foreign, live];
    expected.sort();
    assert_eq!(setup.strata_dirs(), expected);
}

#[test]
fn a_later_run_removes_stale_cache_staging_dirs() {
    let tree = Tree::new();
    let archive = registry::package_chart(tree.root(), Helm::V3, "web", "1.0.0");
    let repo = tree.mkdir("repo");
    std::fs::copy(&archive, repo.join("web-1.0.0.tgz")).unwrap();
    assert_success(
        &run_std(helm(Helm::V3).args(["repo", "index"]).arg(&repo)),
        "helm repo index",
    );
    let nginx = Nginx::serve(&repo).start();
    tree.write(
        "stack/strata.yaml",
        format!(
            "apiVersion: strata/v1\nkind: Stack\ntenants:\n  path: t\ncomponents:\n  - name: web\n    releaseName: web\n    namespace: web\n    chart: {{repository: \"{}\", name: web, version: 1.0.0}}\n",
            nginx.url()
        ),
    );
    tree.write("stack/t/tenant.yaml", "{}\n");
    let cache = tree.path("cache");
    let strata_here = || {
        let mut cmd = strata(Helm::V3);
        cmd.env("STRATA_CACHE_DIR", &cache);
        cmd
    };
    assert_success(
        &run(strata_here().arg("lock").arg(tree.path("stack"))),
        "lock",
    );
    // Left by a run killed while unpacking (its pid is gone), and one of a live run.
    let ns = pid_namespace();
    let stale = cache.join(format!("tmp/entry-{ns}-{}-abc", dead_pid()));
    let live = cache.join(format!("tmp/entry-{ns}-{}-abc", std::process::id()));
    for dir in [&stale, &live] {
        std::fs::create_dir_all(dir.join("chart")).unwrap();
    }
    for pass in ["cold", "warm"] {
        let out = run(strata_here().arg("render").arg(tree.path("stack/t")));
        assert_success(&out, pass);
        assert!(!stale.exists(), "{pass}: stale staging dir removed");
        assert!(live.exists(), "{pass}: a live run's staging dir kept");
        std::fs::create_dir_all(stale.join("chart")).unwrap();
    }
}

/// A Helm repository serving `archive` as chart `web` 1.0.0, with an index written by hand
/// (helm would refuse to index a hostile archive), and a stack using it.
fn hostile_repository(tree: &Tree, archive: &[u8]) -> Nginx {
    use sha2::{Digest, Sha256};
    let repo = tree.mkdir("repo");
    std::fs::write(repo.join("web-1.0.0.tgz"), archive).unwrap();
    std::fs::write(
        repo.join("index.yaml"),
        format!(
            "apiVersion: v1\nentries:\n  web:\n    - name: web\n      version: 1.0.0\n      apiVersion: v2\n      urls: [web-1.0.0.tgz]\n      digest: {}\ngenerated: \"2026-01-01T00:00:00Z\"\n",
            hex::encode(Sha256::digest(archive))
        ),
    )
    .unwrap();
    let nginx = Nginx::serve(&repo).start();
    tree.write(
        "stack/strata.yaml",
        format!(
            "apiVersion: strata/v1\nkind: Stack\ntenants:\n  path: t\ncomponents:\n  - name: web\n    releaseName: web\n    namespace: web\n    chart: {{repository: \"{}\", name: web, version: 1.0.0}}\n",
            nginx.url()
        ),
    );
    tree.write("stack/t/tenant.yaml", "{}\n");
    nginx
}

/// A gzip-compressed tar of `(path, content)` entries; long paths use GNU long names.
fn tgz(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut builder = tar::Builder::new(gz);
    for (path, content) in entries {
        let mut header = tar::Header::new_gnu();
        header.set_size(content.len() as u64);
        header.set_mode(0o644);
        header.set_entry_type(tar::EntryType::Regular);
        builder.append_data(&mut header, path, *content).unwrap();
    }
    builder.into_inner().unwrap().finish().unwrap()
}

#[test]
fn a_huge_entry_name_is_quoted_bounded() {
    // 40 MB of name: one path segment far above any file system's limit, and the same name
    // outside the chart's top-level directory (refused before anything is written).
    let name = "n".repeat(40 * 1024 * 1024);
    let inside = format!("web/{name}");
    let outside = format!("other/{name}");
    let chart_yaml: &[u8] = b"apiVersion: v2\nname: web\nversion: 1.0.0\n";
    for (what, archive) in [
        ("too long to write", tgz(&[(inside.as_str(), b"x")])),
        (
            "outside the chart",
            tgz(&[("web/Chart.yaml", chart_yaml), (outside.as_str(), b"x")]),
        ),
    ] {
        let tree = Tree::new();
        let _nginx = hostile_repository(&tree, &archive);
        let out = run(strata(Helm::V3)
            .env("STRATA_CACHE_DIR", tree.path("cache"))
            .arg("render")
            .arg("--refresh")
            .arg(tree.path("stack/t")));
        assert_error(&out, what, &["chart archive", "more bytes"]);
        assert!(
            out.stderr.len() < 2048,
            "{what}: stderr holds {} bytes: {}",
            out.stderr.len(),
            &text(&out.stderr)[..2000.min(out.stderr.len())]
        );
    }
}

/// A tmpfs of 1 MiB, unmounted on drop.
struct SmallDisk(PathBuf);

impl SmallDisk {
    fn mount(dir: PathBuf) -> SmallDisk {
        std::fs::create_dir_all(&dir).unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=1m", "tmpfs"])
            .arg(&dir)
            .output()
            .expect("run mount");
        assert!(
            out.status.success(),
            "this test needs root to mount a 1 MiB tmpfs (CI runs as root): {}",
            describe(&out)
        );
        SmallDisk(dir)
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_full_disk_is_reported_as_no_space_not_as_a_broken_archive() {
    let tree = Tree::new();
    // 3 MiB of zeros: a valid chart (under helm's 5 MiB per file) that compresses to a few KiB.
    let big = vec![0u8; 3 * 1024 * 1024];
    let archive = tgz(&[
        (
            "web/Chart.yaml",
            b"apiVersion: v2\nname: web\nversion: 1.0.0\n",
        ),
        ("web/files/zeros.bin", &big),
        (
            "web/templates/cm.yaml",
            b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\n",
        ),
    ]);
    let _nginx = hostile_repository(&tree, &archive);
    let disk = SmallDisk::mount(tree.path("cache"));
    let out = run(strata(Helm::V3)
        .env("STRATA_CACHE_DIR", &disk.0)
        .arg("render")
        .arg("--refresh")
        .arg(tree.path("stack/t")));
    assert_error(
        &out,
        "full cache disk",
        &["No space left on device", "files/zeros.bin", "chart cache"],
    );
    assert!(
        !text(&out.stderr).contains("unsafe or broken"),
        "{}",
        describe(&out)
    );
    // The same archive on a disk with room renders.
    let out = run(strata(Helm::V3)
        .env("STRATA_CACHE_DIR", tree.path("roomy-cache"))
        .arg("render")
        .arg("--refresh")
        .arg(tree.path("stack/t")));
    assert_success(&out, "render with room");
}

#[test]
fn non_utf8_argocd_variables_are_errors_naming_them() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let setup = Setup::new(Helm::V3);
    let bad = OsStr::from_bytes(b"[{\"name\":\"tenant\",\"string\":\"a\xffb\"}]");
    for name in ["ARGOCD_APP_PARAMETERS", "ARGOCD_ENV_REGION"] {
        let out = Command::new(strata_bin())
            .env_clear()
            .env("PATH", BASE_PATH)
            .env("HOME", test_home())
            .env("STRATA_HELM", Helm::V3.path())
            .env("ARGOCD_APP_NAME", "app")
            .env("ARGOCD_APP_SOURCE_PATH", "stack/t")
            .env(name, bad)
            .current_dir(setup.tree.path("stack/t"))
            .arg("generate")
            .output()
            .unwrap();
        assert_error(&out, name, &[name, "UTF-8"]);
    }
}

#[test]
fn a_huge_helm_error_is_cut_at_64_kib() {
    let setup = Setup::new(Helm::V3);
    setup.tree.write(
        "stack/chart/templates/fail.yaml",
        "{{ fail (repeat 200000 \"x\") }}\n",
    );
    let out = setup.command(None).output().unwrap();
    assert_error(
        &out,
        "huge helm error",
        &["helm template failed", "more bytes"],
    );
    assert!(
        out.stderr.len() < 64 * 1024 + 200,
        "stderr holds {} bytes",
        out.stderr.len()
    );
}

#[test]
fn a_helm_that_ignores_sigterm_is_killed_after_the_grace_period() {
    let setup = Setup::new(Helm::V3);
    let mut cmd = setup.command(Some(60));
    cmd.env("IGNORE_TERM", "1");
    let (child, helm_pid) = setup.start_slow_with(cmd);
    let started = Instant::now();
    // SAFETY: sends a signal to the strata process this test started.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGTERM) }, 0);
    let out = wait_with_limit(child, Duration::from_secs(20));
    assert_eq!(out.status.code(), Some(143), "{}", describe(&out));
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(1500) && took < Duration::from_secs(10),
        "the 2 s grace, then SIGKILL: took {took:?}"
    );
    assert_eq!(wait_until_gone(helm_pid), Vec::<i32>::new());
    assert_eq!(setup.strata_dirs(), Vec::<String>::new());
}
