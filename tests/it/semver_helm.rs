//! strata chooses the same chart version as `helm pull --version` does.
//!
//! For each pinned helm, the test packages a tiny chart at many versions with the real
//! `helm package`, indexes them with `helm repo index`, serves the directory over HTTP on
//! loopback, and for every constraint below compares the chart `helm pull --repo ...
//! --version <constraint>` downloads with [`select_highest`] over the index's versions.

use std::collections::BTreeMap;
use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::common::{Helm, Tree, describe, text};
use strata::semver::{Constraint, select_highest};

const CHART: &str = "semvertest";

const VERSIONS: &[&str] = &[
    "0.9.0",
    "1.0.0",
    "1.0.1",
    "1.1.0",
    "1.2.0-rc.1",
    "1.2.0",
    "1.2.3",
    "1.3.0",
    "1.10.0",
    "2.0.0-alpha",
    "2.0.0",
    "2.1.0+build.1",
];

const CONSTRAINTS: &[&str] = &[
    // exact versions, spelled in the lenient ways Helm accepts
    "1.2.3",
    "=1.0.0",
    "v1.0.1",
    "01.1.0",
    " 1.2.3 ",
    "1.0.0+build",
    "1.2.0-rc.1",
    "1.2.0-rc.1+build",
    "2.0.0-alpha",
    "2.1.0",
    "2.1.0+build.1",
    "2.1.0+other",
    "1.2.0-RC.1",
    "1.2.4",
    // partial versions are wildcards
    "1.2",
    "1",
    "1.10",
    "0",
    "1.2.x",
    "1.x",
    "x.x.x",
    "*.*",
    "1.*.3",
    "*.2.3",
    "1.x.|",
    "*",
    "x",
    "3.x",
    // comparisons
    "!=2.1.0",
    "!=1.0.0",
    "!=1.2",
    "!=1.2.x",
    "!=*",
    ">1",
    "> 1.2",
    ">1.x",
    ">*",
    ">=1.x",
    "=>1.3",
    "<1.2",
    "<1.x",
    "<=1.2",
    "<=1.2.0",
    "<=1.x",
    "=<1.1",
    "<=*",
    // tilde and caret
    "~1.2.0",
    "~1",
    "~>1.1",
    "~> 1.2",
    "~0.0.0",
    "~*",
    "=*",
    "^1.2.3",
    "^ 1.2",
    "^1.x",
    "^0.9.0",
    "^0.0.3",
    "^0",
    "^0.x",
    "^0.0.x",
    "^*",
    // hyphen ranges
    "1.0 - 1.2",
    "1.0.0 - 1.2.0",
    "1.0.0 - 1.0.0",
    "1 - 2",
    "1.2.3 - 1",
    ">=1.0, 1.2 - 1.4",
    "1.2 - 1.4 >=1.3",
    ">=1.0 1.2 - 1.4",
    "2||3 - 4",
    "1 -2",
    "1- 2",
    "1.0-1.2",
    // AND / OR
    ">1.2 <2",
    ">=1.1, <1.3",
    ">= 1.1,<= 1.2",
    ">=1.2\t<1.4",
    ">=1.2\n<1.4",
    ">=1.2.x <=1.3.x",
    "1.2.3,1.2.3",
    "<2 >=2",
    "~1.0 || ~1.2",
    "<1.0.1 || >=1.3 <1.4",
    "!=1.x <2",
    "!=1.2.3 1.2.x",
    "1.2.3 || ",
    // prereleases
    "1.2.x-0",
    "~2.0.0-0",
    "~1.2.0-rc.2",
    "<1.2.0-rc.2",
    "<2.0.0-beta",
    "<=2.0.0-alpha",
    ">=1.2.0-rc.1",
    ">=1.0.0-alpha <1.0.1",
    ">=1.2.0-0 <1.3.0",
    ">=1.2.0-0 <1.2.0",
    ">=2.0.0-0 <2.0.0",
    "^2.0.0-0 <2.0.0",
    "!=1.2.0-rc.1 >=1.2.0-0 <1.2.0",
    "1.2.0-rc.1 - 1.2.0",
    "2.0.0-0 - 2.0.0",
    "1.2.0-rc.1 || 1.1",
    "~1.2.3-0 || ^2.0.0-0",
    // not constraints at all
    "V1.2",
    "1.2.3.4",
];

/// Constraints where Helm 3.17 picks differently, and what it picks. Helm 3.17 is built with
/// Masterminds/semver 3.3, where each comparator admitted prereleases only if it named one
/// itself; from 3.4 (Helm 4, and strata) one prerelease comparator opens the whole `||`
/// alternative.
const HELM3_PICKS: &[(&str, Option<&str>)] = &[
    (">=1.2.0-0 <1.2.0", None),
    (">=2.0.0-0 <2.0.0", None),
    ("^2.0.0-0 <2.0.0", None),
];

#[test]
fn helm3_pulls_the_version_strata_selects() {
    check(Helm::V3);
}

#[test]
fn helm4_pulls_the_version_strata_selects() {
    check(Helm::V4);
}

fn check(helm: Helm) {
    let work = Tree::new();
    let env = HelmEnv::new(helm, &work);
    let repo = work.mkdir("repo");
    let by_file = package_versions(&env, &work, &repo);
    let index = env.run(&["repo", "index", path_str(&repo)]);
    assert!(
        index.status.success(),
        "helm repo index\n{}",
        describe(&index)
    );

    let url = serve(repo.clone());
    let failures = Mutex::new(Vec::new());
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&constraint) = CONSTRAINTS.get(i) else {
                        break;
                    };
                    let helm_pick = pull(&env, &work, &url, constraint, i, &by_file);
                    let expected = expected_pick(helm, constraint);
                    if helm_pick != expected {
                        failures.lock().unwrap().push(format!(
                            "--version {constraint:?}: helm {} pulled {helm_pick:?}, strata expects {expected:?}",
                            helm.version()
                        ));
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    assert!(
        failures.is_empty(),
        "{} of {} constraints disagree:\n{}",
        failures.len(),
        CONSTRAINTS.len(),
        failures.join("\n")
    );
}

/// strata's choice, or for Helm 3 the documented older behaviour where it differs.
fn expected_pick(helm: Helm, constraint: &str) -> Option<String> {
    let strata = Constraint::parse(constraint)
        .ok()
        .and_then(|c| select_highest(&c, VERSIONS.iter().copied()))
        .map(str::to_string);
    if helm == Helm::V3
        && let Some((_, pick)) = HELM3_PICKS.iter().find(|(c, _)| *c == constraint)
    {
        assert_ne!(
            strata.as_deref(),
            *pick,
            "{constraint:?} is listed as a Helm 3 difference but strata agrees with it"
        );
        return pick.map(str::to_string);
    }
    strata
}

/// A helm with its own HOME and config/cache/data directories, so no user repository or
/// cached index leaks in.
struct HelmEnv {
    helm: Helm,
    home: PathBuf,
}

impl HelmEnv {
    fn new(helm: Helm, work: &Tree) -> Self {
        let home = work.mkdir("home");
        HelmEnv { helm, home }
    }

    fn run(&self, args: &[&str]) -> std::process::Output {
        let mut cmd = crate::common::helm(self.helm);
        cmd.env("HOME", &self.home)
            .env("HELM_CACHE_HOME", self.home.join("cache"))
            .env("HELM_CONFIG_HOME", self.home.join("config"))
            .env("HELM_DATA_HOME", self.home.join("data"))
            .args(args);
        crate::common::run_std(&mut cmd)
    }
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("UTF-8 temp path")
}

/// Packages the chart once per version; returns archive file name → version.
fn package_versions(env: &HelmEnv, work: &Tree, repo: &Path) -> BTreeMap<String, String> {
    work.write(
        "chart/Chart.yaml",
        format!("apiVersion: v2\nname: {CHART}\nversion: 0.0.1\n"),
    );
    work.write(
        "chart/templates/configmap.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Chart.Version | replace \"+\" \"_\" }}\n",
    );
    let chart = work.path("chart");
    let mut by_file = BTreeMap::new();
    for version in VERSIONS {
        let before = file_names(repo);
        let out = env.run(&[
            "package",
            path_str(&chart),
            "--version",
            version,
            "-d",
            path_str(repo),
        ]);
        assert!(
            out.status.success(),
            "helm package --version {version}\n{}",
            describe(&out)
        );
        let created: Vec<String> = file_names(repo).difference(&before).cloned().collect();
        assert_eq!(
            created.len(),
            1,
            "helm package {version} created {created:?}"
        );
        by_file.insert(created[0].clone(), version.to_string());
    }
    by_file
}

fn file_names(dir: &Path) -> std::collections::BTreeSet<String> {
    fs::read_dir(dir)
        .expect("read dir")
        .map(|e| {
            e.expect("dir entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect()
}

/// The version `helm pull` downloads for `constraint`, or `None` when helm finds none.
fn pull(
    env: &HelmEnv,
    work: &Tree,
    url: &str,
    constraint: &str,
    i: usize,
    by_file: &BTreeMap<String, String>,
) -> Option<String> {
    let dest = work.mkdir(format!("pull-{i}"));
    let out = env.run(&[
        "pull",
        "--repo",
        url,
        CHART,
        "--version",
        constraint,
        "-d",
        path_str(&dest),
    ]);
    let pulled: Vec<String> = file_names(&dest).into_iter().collect();
    if !out.status.success() {
        let stderr = text(&out.stderr);
        assert!(
            stderr.contains("not found") || stderr.contains("no chart version found"),
            "helm pull --version {constraint:?} failed for another reason\n{}",
            describe(&out)
        );
        assert!(pulled.is_empty(), "failed pull left {pulled:?}");
        return None;
    }
    assert_eq!(
        pulled.len(),
        1,
        "--version {constraint:?} pulled {pulled:?}"
    );
    let version = by_file
        .get(&pulled[0])
        .unwrap_or_else(|| panic!("--version {constraint:?} pulled unknown file {}", pulled[0]));
    Some(version.clone())
}

/// Serves the files of `root` (flat, GET only) on an ephemeral loopback port; returns the
/// repository URL. The server thread lives as long as the test process.
fn serve(root: PathBuf) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let port = listener.local_addr().expect("local addr").port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let root = root.clone();
            std::thread::spawn(move || {
                // A client that hangs up early is not the server's problem.
                let _ = answer(stream, &root);
            });
        }
    });
    format!("http://127.0.0.1:{port}/")
}

fn answer(mut stream: TcpStream, root: &Path) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header.trim_end().is_empty() {
            break;
        }
    }
    let mut parts = request_line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let path = target.split('?').next().unwrap_or("");
    let name = percent_decode(path.trim_start_matches('/'));
    // Flat directory only: no subdirectories, no dot files, nothing above the root.
    let servable = !name.is_empty() && !name.contains('/') && !name.starts_with('.');
    let body = (method == "GET" && servable)
        .then(|| fs::read(root.join(&name)).ok())
        .flatten();
    let (status, body) = match (method, body) {
        ("GET", Some(body)) => ("200 OK", body),
        ("GET", None) => ("404 Not Found", b"not found\n".to_vec()),
        _ => ("405 Method Not Allowed", b"GET only\n".to_vec()),
    };
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    stream.write_all(&body)?;
    stream.flush()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(hi), Some(lo)) = (
                bytes.get(i + 1).and_then(|&b| hex(b)),
                bytes.get(i + 2).and_then(|&b| hex(b)),
            )
        {
            out.push((hi * 16 + lo) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
