//! Every command in the documentation is run by this test, and its output compared with what
//! the documentation shows.
//!
//! # The convention
//!
//! The documents are README.md, docs/*.md and examples/*/README.md.
//!
//! - **`console` blocks are run.** A fenced block whose info string is `console` holds
//!   commands. A command starts with `$ `; a line ending in `\` continues it on the next line.
//!   The lines after a command, up to the next `$ ` line or the end of the block, are its
//!   expected output: stdout and stderr together, as a terminal shows them. They are compared
//!   line by line, ignoring trailing whitespace and trailing empty lines, and a command without
//!   output lines must print nothing. A line that is `…` alone stands for any number of lines:
//!   the lines before the first `…` must begin the output, those after the last one must end
//!   it, and those between two follow in that order; `…` alone accepts any output. Use it for
//!   long output and for lines with temporary paths, commit hashes or timings.
//! - **Exit codes.** A command must exit 0, unless its last line ends in `# exit N`.
//! - **Where commands run.** Each command runs with `/bin/sh -c` in a copy of the repository's
//!   examples/ that is a git repository: one commit on `main`, with `origin/main` pointing at
//!   it. `strata` on PATH is the binary under test; `helm` on PATH and `STRATA_HELM` are the
//!   pinned Helm 3; HOME and `STRATA_CACHE_DIR` are private. A command that is exactly
//!   `cd DIR` changes the directory of the commands after it.
//! - **File blocks.** A fenced block whose info string has `file=PATH` after the language
//!   changes PATH (relative to the repository root) at that point: a `diff` block is an edit
//!   (its lines starting with ` ` or `-`, without that first character, must occur exactly once
//!   in the file and are replaced by its lines starting with ` ` or `+`), any other block is the
//!   whole new content of the file.
//! - **Sessions.** The blocks under one heading run in order on one copy; every heading starts
//!   from a fresh copy. [`SETUPS`] prepares the copy for the headings whose commands need more
//!   than the examples: a chart repository, say.
//! - **Commands that are not run** (they need Docker, a cluster, files the repository does not
//!   have, or minutes) go in `sh` blocks, each with a sentence nearby that says why. The guard
//!   test refuses `$ ` prompts and `strata` commands in any other kind of block, and requires at
//!   least [`MIN_COMMANDS`] runnable `strata` commands, so the convention cannot silently stop
//!   covering the documentation.

use crate::common::servers::{Nginx, Tls};
use crate::common::{Helm, copy_tree, line_diff, manifest_dir, strata_bin};
use std::any::Any;
use std::fs;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The guard: fewer runnable `strata` commands than this means the convention broke.
const MIN_COMMANDS: usize = 15;

/// Prepares a session's copy before its blocks run.
type Setup = fn(&mut Session);

/// Headings (document, title) whose copy needs preparing before their blocks run, and how.
const SETUPS: &[(&str, &str, Setup)] = &[
    (
        "docs/workflows.md",
        "Bump a chart in preprod, then promote it to prod",
        locked_worker_chart,
    ),
    (
        "docs/troubleshooting.md",
        "Chart not locked",
        locked_worker_chart,
    ),
    (
        "docs/workflows.md",
        "Roll a chart out in waves: canary, then a region, then the fleet",
        locked_worker_chart,
    ),
    (
        "docs/troubleshooting.md",
        "Credentials",
        worker_chart_behind_a_login,
    ),
];

/// The user and password of the chart repository in "Credentials".
const LOGIN: (&str, &str) = ("ci", "docs-example-password");

// ---------------------------------------------------------------------------------------------
// The documents

/// A fenced block of a document.
#[derive(Debug)]
struct Block {
    doc: String,
    /// 1-based line of the opening fence.
    line: usize,
    /// Counts headings in the document: blocks with the same section share a session.
    section: usize,
    heading: String,
    info: String,
    /// The block's lines, without the indentation of its fence.
    body: Vec<String>,
}

impl Block {
    fn language(&self) -> &str {
        self.info.split_whitespace().next().unwrap_or("")
    }

    /// The `file=PATH` attribute of the info string.
    fn file(&self) -> Option<&str> {
        self.info
            .split_whitespace()
            .skip(1)
            .find_map(|word| word.strip_prefix("file="))
    }

    fn place(&self) -> String {
        format!("{}:{} ({})", self.doc, self.line, self.heading)
    }
}

/// The documents, relative to the repository root.
fn documents() -> Vec<String> {
    let root = manifest_dir();
    let names = |dir: &str| -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(root.join(dir))
            .unwrap_or_else(|e| panic!("read {dir}: {e}"))
            .map(|e| {
                e.expect("dir entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        names.sort();
        names
    };
    let mut docs = vec!["README.md".to_owned()];
    docs.extend(
        names("docs")
            .into_iter()
            .filter(|name| name.ends_with(".md"))
            .map(|name| format!("docs/{name}")),
    );
    docs.extend(
        names("examples")
            .into_iter()
            .map(|name| format!("examples/{name}/README.md"))
            .filter(|doc| root.join(doc).is_file()),
    );
    docs
}

/// A fence opener or closer: its character and length.
fn fence(line: &str) -> Option<(char, usize)> {
    let ch = line.chars().next().filter(|c| *c == '`' || *c == '~')?;
    let len = line.chars().take_while(|c| *c == ch).count();
    (len >= 3).then_some((ch, len))
}

fn parse(doc: &str, text: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut heading = String::from("(top)");
    let mut section = 0;
    let mut lines = text.lines().enumerate();
    while let Some((index, line)) = lines.next() {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        if let Some((ch, len)) = fence(trimmed) {
            let info = trimmed[len..].trim().to_owned();
            let mut body = Vec::new();
            for (_, inner) in lines.by_ref() {
                let t = inner.trim();
                if fence(t).is_some_and(|(c, n)| c == ch && n >= len && t.chars().all(|x| x == ch))
                {
                    break;
                }
                let cut = inner.len() - inner.trim_start().len();
                body.push(inner[cut.min(indent)..].to_owned());
            }
            blocks.push(Block {
                doc: doc.to_owned(),
                line: index + 1,
                section,
                heading: heading.clone(),
                info,
                body,
            });
        } else if line.starts_with('#') {
            let title = line.trim_start_matches('#');
            if title.starts_with(' ') {
                heading = title.trim().to_owned();
                section += 1;
            }
        }
    }
    blocks
}

fn all_blocks() -> Vec<Block> {
    documents()
        .iter()
        .flat_map(|doc| {
            let text = fs::read_to_string(manifest_dir().join(doc))
                .unwrap_or_else(|e| panic!("read {doc}: {e}"));
            parse(doc, &text)
        })
        .collect()
}

/// A command of a `console` block.
#[derive(Debug)]
struct Cmd {
    /// 1-based line in the document.
    line: usize,
    text: String,
    exit: i32,
    expected: Vec<String>,
}

fn commands(block: &Block) -> Result<Vec<Cmd>, String> {
    let mut cmds: Vec<Cmd> = Vec::new();
    let mut i = 0;
    while i < block.body.len() {
        let line = &block.body[i];
        let Some(first) = line.strip_prefix("$ ") else {
            match cmds.last_mut() {
                Some(cmd) => cmd.expected.push(line.clone()),
                None => return Err(format!("{}: the block must start with `$ `", block.place())),
            }
            i += 1;
            continue;
        };
        let start = i;
        let mut text = first.to_owned();
        while text.ends_with('\\') && i + 1 < block.body.len() {
            i += 1;
            text.push('\n');
            text.push_str(&block.body[i]);
        }
        let last = text.lines().last().unwrap_or_default();
        let exit = match last.rsplit_once("# exit ") {
            Some((_, code)) => code
                .trim()
                .parse()
                .map_err(|_| format!("{}: bad exit code comment in {last:?}", block.place()))?,
            None => 0,
        };
        cmds.push(Cmd {
            line: block.line + 1 + start,
            text,
            exit,
            expected: Vec::new(),
        });
        i += 1;
    }
    Ok(cmds)
}

/// Whether a command line runs strata (possibly after variable assignments or in a pipeline).
fn runs_strata(text: &str) -> bool {
    text.split_whitespace().any(|word| word == "strata")
}

// ---------------------------------------------------------------------------------------------
// Sessions

/// A copy of the repository that one heading's blocks run in.
struct Session {
    dir: tempfile::TempDir,
    root: PathBuf,
    cwd: PathBuf,
    env: Vec<(String, String)>,
    /// Servers that must live as long as the session.
    keep: Vec<Box<dyn Any>>,
}

impl Session {
    fn new(doc: &str, heading: &str) -> Session {
        let dir = tempfile::Builder::new()
            .prefix("strata-docs-")
            .tempdir()
            .expect("temp dir");
        let root = dir.path().join("repo");
        copy_tree(
            &manifest_dir().join("examples"),
            &root.join("examples"),
            None,
        );
        let bin = dir.path().join("bin");
        fs::create_dir_all(&bin).expect("create bin");
        std::os::unix::fs::symlink(strata_bin(), bin.join("strata")).expect("link strata");
        std::os::unix::fs::symlink(Helm::V3.path(), bin.join("helm")).expect("link helm");
        for sub in ["home", "cache"] {
            fs::create_dir_all(dir.path().join(sub)).expect("create dir");
        }
        let path = |sub: &str| dir.path().join(sub).display().to_string();
        let env = vec![
            (
                "PATH".into(),
                format!("{}:{}", bin.display(), crate::common::BASE_PATH),
            ),
            ("HOME".into(), path("home")),
            ("LC_ALL".into(), "C".into()),
            ("STRATA_HELM".into(), Helm::V3.path().display().to_string()),
            ("STRATA_CACHE_DIR".into(), path("cache")),
            ("GIT_CONFIG_NOSYSTEM".into(), "1".into()),
            ("GIT_AUTHOR_NAME".into(), "Docs Test".into()),
            ("GIT_AUTHOR_EMAIL".into(), "docs@example.com".into()),
            ("GIT_COMMITTER_NAME".into(), "Docs Test".into()),
            ("GIT_COMMITTER_EMAIL".into(), "docs@example.com".into()),
        ];
        let mut session = Session {
            dir,
            cwd: root.clone(),
            root,
            env,
            keep: Vec::new(),
        };
        if let Some((_, _, setup)) = SETUPS.iter().find(|(d, h, _)| *d == doc && *h == heading) {
            setup(&mut session);
        }
        session.sh("git init -q -b main && git add -A && git commit -q -m examples");
        session.sh("git update-ref refs/remotes/origin/main HEAD");
        session
    }

    /// Runs `script` at the repository root and fails the test unless it succeeds.
    fn sh(&self, script: &str) -> String {
        let (code, out) = self.run(&self.root, script);
        assert_eq!(code, Some(0), "setup `{script}` failed:\n{out}");
        out
    }

    /// Runs `script` with /bin/sh in `cwd`: the exit code (None when killed) and stdout and
    /// stderr together, in the order they were written.
    fn run(&self, cwd: &Path, script: &str) -> (Option<i32>, String) {
        let (mut reader, writer) = std::io::pipe().expect("pipe");
        let mut cmd = Command::new("/bin/sh");
        cmd.arg("-c")
            .arg(script)
            .current_dir(cwd)
            .env_clear()
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(writer.try_clone().expect("pipe"))
            .stderr(writer)
            .process_group(0);
        let mut child = cmd.spawn().expect("spawn /bin/sh");
        // The command holds copies of the pipe's writing end: without them the read ends.
        drop(cmd);
        let reading = std::thread::spawn(move || {
            let mut out = Vec::new();
            let _ = reader.read_to_end(&mut out);
            out
        });
        let deadline = Instant::now() + crate::common::RUN_LIMIT;
        let code = loop {
            if let Some(status) = child.try_wait().expect("wait for /bin/sh") {
                break status.code();
            }
            if Instant::now() > deadline {
                // SAFETY: kill(2) on the process group this test started.
                unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        let out = reading.join().expect("read output");
        (code, String::from_utf8_lossy(&out).into_owned())
    }

    /// A file block: writes or edits its file.
    fn apply(&self, block: &Block, rel: &str) -> Result<(), String> {
        let path = self.root.join(rel);
        if block.language() != "diff" {
            if let Some(parent) = path.parent() {
                fs::create_dir_all(parent).map_err(|e| format!("create {rel}: {e}"))?;
            }
            let mut text = block.body.join("\n");
            text.push('\n');
            return fs::write(&path, text).map_err(|e| format!("write {rel}: {e}"));
        }
        let (mut old, mut new) = (String::new(), String::new());
        for line in &block.body {
            let (tag, rest) = line.split_at(line.chars().next().map_or(0, char::len_utf8));
            match tag {
                " " | "" => {
                    old.push_str(rest);
                    old.push('\n');
                    new.push_str(rest);
                    new.push('\n');
                }
                "-" => {
                    old.push_str(rest);
                    old.push('\n');
                }
                "+" => {
                    new.push_str(rest);
                    new.push('\n');
                }
                _ => {
                    return Err(format!(
                        "diff line {line:?} starts with neither ' ', '-' nor '+'"
                    ));
                }
            }
        }
        let text = fs::read_to_string(&path).map_err(|e| format!("read {rel}: {e}"))?;
        match text.matches(&old).count() {
            1 => fs::write(&path, text.replacen(&old, &new, 1))
                .map_err(|e| format!("write {rel}: {e}")),
            n => Err(format!(
                "the diff's old lines occur {n} times in {rel}, not once:\n{old}"
            )),
        }
    }

    /// Runs one console command and compares its result with the document.
    fn check(&mut self, block: &Block, cmd: &Cmd) -> Result<(), String> {
        let shown = format!(
            "{}:{} ({}): $ {}",
            block.doc, cmd.line, block.heading, cmd.text
        );
        // `cd DIR` alone changes the directory of the commands after it.
        if let Some(dir) = cmd.text.strip_prefix("cd ").map(str::trim)
            && !dir.contains(|c: char| c.is_whitespace() || ";&|".contains(c))
        {
            let next = self.cwd.join(dir);
            if !next.is_dir() || !cmd.expected.is_empty() {
                return Err(format!("{shown}\n  no such directory, or output after cd"));
            }
            self.cwd = next;
            return Ok(());
        }
        let (code, out) = self.run(&self.cwd.clone(), &cmd.text);
        let temp = self.dir.path().display().to_string();
        let report = |problem: String| {
            let out = out.replace(&temp, "<temp>");
            format!("{shown}\n  {problem}\n--- actual output (exit {code:?}) ---\n{out}")
        };
        if code != Some(cmd.exit) {
            return Err(report(format!(
                "expected exit code {}, got {code:?}",
                cmd.exit
            )));
        }
        compare(&cmd.expected, &out).map_err(report)
    }
}

/// The expected lines against the actual output (see the convention at the top).
fn compare(expected: &[String], actual: &str) -> Result<(), String> {
    fn lines<'a>(items: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
        let mut v: Vec<&str> = items.map(str::trim_end).collect();
        while v.last() == Some(&"") {
            v.pop();
        }
        v
    }
    let want = lines(expected.iter().map(String::as_str));
    let got = lines(actual.lines());
    let shown = || {
        format!(
            "(- shown, + actual):\n{}",
            line_diff(&want.join("\n"), &got.join("\n"))
        )
    };
    // The runs of lines between `…` lines: the first begins the output, the last ends it, and
    // those between follow in order.
    let runs: Vec<&[&str]> = want.split(|line| *line == "…").collect();
    let [first, middle @ .., last] = runs.as_slice() else {
        return if want == got {
            Ok(())
        } else {
            Err(format!("output differs {}", shown()))
        };
    };
    if !got.starts_with(first) {
        return Err(format!(
            "output does not start with the lines shown before the first `…` {}",
            shown()
        ));
    }
    let mut at = first.len();
    for run in middle {
        match (at..=got.len().saturating_sub(run.len())).find(|&i| got[i..].starts_with(run)) {
            Some(i) => at = i + run.len(),
            None => {
                return Err(format!(
                    "output lacks the lines shown between two `…` (after line {at}) {}",
                    shown()
                ));
            }
        }
    }
    if got.len() < at + last.len() || !got.ends_with(last) {
        return Err(format!(
            "output does not end with the lines shown after the last `…` {}",
            shown()
        ));
    }
    Ok(())
}

/// Runs one heading's blocks; the number of commands run, or the first failure.
fn run_section(blocks: &[&Block]) -> Result<usize, String> {
    let mut session = Session::new(&blocks[0].doc, &blocks[0].heading);
    let mut ran = 0;
    for block in blocks {
        if let Some(rel) = block.file() {
            session
                .apply(block, rel)
                .map_err(|e| format!("{}: {e}", block.place()))?;
        } else if block.language() == "console" {
            for cmd in commands(block)? {
                session.check(block, &cmd)?;
                ran += 1;
            }
        }
    }
    Ok(ran)
}

#[test]
fn every_command_in_the_docs_runs_as_shown() {
    let blocks = all_blocks();
    for (doc, heading, _) in SETUPS {
        assert!(
            blocks
                .iter()
                .any(|b| b.doc == *doc && b.heading == *heading),
            "SETUPS names the heading {heading:?} of {doc}, which has no blocks under it any more"
        );
    }
    let mut sections: Vec<Vec<&Block>> = Vec::new();
    for block in &blocks {
        if block.language() != "console" && block.file().is_none() {
            continue;
        }
        match sections.last_mut() {
            Some(s) if s[0].doc == block.doc && s[0].section == block.section => s.push(block),
            _ => sections.push(vec![block]),
        }
    }
    let sections: Vec<&[&Block]> = sections
        .iter()
        .filter(|s| s.iter().any(|b| b.language() == "console"))
        .map(Vec::as_slice)
        .collect();
    let next = Mutex::new(0usize);
    let results = Mutex::new(Vec::new());
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get().min(8));
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let index = {
                        let mut n = next.lock().unwrap();
                        *n += 1;
                        *n - 1
                    };
                    let Some(section) = sections.get(index) else {
                        break;
                    };
                    let result = run_section(section);
                    results.lock().unwrap().push((index, result));
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap();
    results.sort_by_key(|(index, _)| *index);
    let failures: Vec<String> = results
        .iter()
        .filter_map(|(_, r)| r.as_ref().err().cloned())
        .collect();
    let ran: usize = results.iter().filter_map(|(_, r)| r.as_ref().ok()).sum();
    assert!(
        failures.is_empty(),
        "{} of {} documented section(s) failed:\n\n{}",
        failures.len(),
        sections.len(),
        failures.join("\n\n")
    );
    assert!(ran > 0, "no documented command ran");
}

#[test]
fn the_docs_keep_their_commands_runnable() {
    let blocks = all_blocks();
    let mut runnable = 0;
    let mut problems = Vec::new();
    for block in &blocks {
        match block.language() {
            "console" => match commands(block) {
                Ok(cmds) => runnable += cmds.iter().filter(|c| runs_strata(&c.text)).count(),
                Err(e) => problems.push(e),
            },
            // Shown, not run: the nearby text says why.
            "sh" => {}
            _ => {
                for (i, line) in block.body.iter().enumerate() {
                    let t = line.trim_start();
                    if t.starts_with("$ ") || t.starts_with("strata ") {
                        problems.push(format!(
                            "{}:{} ({}): a command outside a `console` block (use `console` to \
                             run it, or `sh` with a reason not to): {line}",
                            block.doc,
                            block.line + 1 + i,
                            block.heading
                        ));
                    }
                }
            }
        }
        if block.file().is_some() && block.language() == "console" {
            problems.push(format!(
                "{}: a console block cannot be a file",
                block.place()
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(
        runnable >= MIN_COMMANDS,
        "only {runnable} runnable `strata` command(s) in {:?}; expected at least {MIN_COMMANDS}",
        documents()
    );
}

// ---------------------------------------------------------------------------------------------
// Setups

/// The worker chart from a chart repository, locked (see [`worker_chart_repository`]).
fn locked_worker_chart(session: &mut Session) {
    worker_chart_repository(session, None);
    session.sh("strata lock examples/fleet");
}

/// The worker chart from a chart repository that needs [`LOGIN`]; nothing locked.
fn worker_chart_behind_a_login(session: &mut Session) {
    worker_chart_repository(session, Some(LOGIN));
}

/// The example's worker chart published as 1.2.0, 1.2.1 and 1.3.0 at
/// https://charts.example.com/storefront, reached through a CONNECT proxy (`HTTPS_PROXY`)
/// with a test CA (`STRATA_CA_FILE`), and strata.yaml's `worker` taken from there with
/// `version: "~1.2"`.
fn worker_chart_repository(session: &mut Session, login: Option<(&str, &str)>) {
    let served = session.dir.path().join("chart-repository");
    let repo = served.join("storefront");
    fs::create_dir_all(&repo).expect("create chart repository");
    let chart = manifest_dir().join("examples/fleet/charts/worker");
    let mut entries = String::new();
    for (version, changes) in [
        ("1.2.0", None),
        ("1.2.1", None),
        (
            "1.3.0",
            Some("- kind: added\n  description: queue.prefetch setting"),
        ),
    ] {
        let archive = package(&chart, version, changes);
        let digest = strata::chart::archive::sha256_hex(&archive);
        fs::write(repo.join(format!("worker-{version}.tgz")), &archive).expect("write archive");
        entries.push_str(&format!(
            "  - apiVersion: v2\n    name: worker\n    version: {version}\n    \
             digest: {digest}\n    urls:\n    - worker-{version}.tgz\n"
        ));
    }
    fs::write(
        repo.join("index.yaml"),
        format!("apiVersion: v1\nentries:\n  worker:\n{entries}"),
    )
    .expect("write index.yaml");

    let tls = Tls::for_hosts(&["charts.example.com"]);
    let mut server = Nginx::serve(&served).tls(&tls);
    if let Some((user, password)) = login {
        server = server.basic_auth(user, password);
    }
    let server = server.start();
    let proxy = connect_proxy("charts.example.com:443", server.port());
    session
        .env
        .push(("HTTPS_PROXY".into(), format!("http://127.0.0.1:{proxy}")));
    session
        .env
        .push(("STRATA_CA_FILE".into(), tls.ca_pem.display().to_string()));
    session.keep.push(Box::new(server));
    session.keep.push(Box::new(tls));

    let stack = session.root.join("examples/fleet/strata.yaml");
    let text = fs::read_to_string(&stack).expect("read strata.yaml");
    let local = "    chart: {path: charts/worker}\n";
    assert_eq!(text.matches(local).count(), 1, "strata.yaml: {local:?}");
    let remote = "    chart: {repository: https://charts.example.com/storefront, name: worker, \
                  version: \"~1.2\"}\n";
    fs::write(&stack, text.replace(local, remote)).expect("write strata.yaml");
}

/// The chart directory as a `.tgz` of `version`, byte for byte the same on every run (no
/// timestamps or owners, and stored rather than compressed, so that no compressor version
/// changes it): the digests shown in the documentation stay put.
fn package(chart: &Path, version: &str, changes: Option<&str>) -> Vec<u8> {
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    collect(chart, "", &mut files);
    files.sort();
    let mut tar = tar::Builder::new(Vec::new());
    for (rel, mut data) in files {
        if rel == "Chart.yaml" {
            let text = String::from_utf8(data).expect("Chart.yaml is text");
            let mut out: String = text
                .lines()
                .map(|l| {
                    if l.starts_with("version:") {
                        format!("version: {version}\n")
                    } else {
                        format!("{l}\n")
                    }
                })
                .collect();
            if let Some(changes) = changes {
                out.push_str("annotations:\n  artifacthub.io/changes: |\n");
                for line in changes.lines() {
                    out.push_str(&format!("    {line}\n"));
                }
            }
            data = out.into_bytes();
        }
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(0);
        header.set_uid(0);
        header.set_gid(0);
        header.set_entry_type(tar::EntryType::Regular);
        tar.append_data(&mut header, format!("worker/{rel}"), data.as_slice())
            .expect("append to archive");
    }
    let tar = tar.into_inner().expect("finish archive");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::none());
    gz.write_all(&tar).expect("compress archive");
    gz.finish().expect("finish gzip")
}

fn collect(dir: &Path, prefix: &str, out: &mut Vec<(String, Vec<u8>)>) {
    for entry in fs::read_dir(dir).expect("read chart dir") {
        let entry = entry.expect("dir entry");
        let rel = format!("{prefix}{}", entry.file_name().to_string_lossy());
        if entry.file_type().expect("file type").is_dir() {
            collect(&entry.path(), &format!("{rel}/"), out);
        } else {
            out.push((rel, fs::read(entry.path()).expect("read chart file")));
        }
    }
}

/// An HTTP CONNECT proxy on 127.0.0.1 that tunnels `target` (`host:port`) to the local
/// `upstream` port and refuses everything else. Returns its port; it lives as long as the test.
fn connect_proxy(target: &str, upstream: u16) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
    let port = listener.local_addr().expect("proxy address").port();
    let target = target.to_owned();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let target = target.clone();
            std::thread::spawn(move || tunnel(client, &target, upstream));
        }
    });
    port
}

fn tunnel(mut client: TcpStream, target: &str, upstream: u16) {
    let mut head = Vec::new();
    let mut byte = [0u8];
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() > 16 * 1024 || !matches!(client.read(&mut byte), Ok(1)) {
            return;
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head);
    let asked = head
        .strip_prefix("CONNECT ")
        .and_then(|rest| rest.split_whitespace().next());
    let server = match asked {
        Some(asked) if asked == target => TcpStream::connect(("127.0.0.1", upstream)),
        _ => {
            let _ = client.write_all(b"HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n");
            return;
        }
    };
    let Ok(mut server) = server else {
        let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n");
        return;
    };
    if client
        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .is_err()
    {
        return;
    }
    let (Ok(mut client_in), Ok(mut server_out)) = (client.try_clone(), server.try_clone()) else {
        return;
    };
    let upward = std::thread::spawn(move || {
        let _ = std::io::copy(&mut client_in, &mut server_out);
        let _ = server_out.shutdown(Shutdown::Write);
    });
    let _ = std::io::copy(&mut server, &mut client);
    let _ = client.shutdown(Shutdown::Write);
    let _ = upward.join();
}
