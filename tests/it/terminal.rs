//! What strata shows on a terminal, checked on a real pseudo-terminal (util-linux `script`,
//! which runs a command with stdin, stdout and stderr on a new terminal and copies what
//! appears there): `diff`, `check` and `snapshot` count the tenants on stderr, in order, only
//! when stderr is a terminal; diffs are coloured only on a terminal, never with `TERM=dumb`
//! or `NO_COLOR`; `snapshot verify` colours its diffs as `diff` does.

use crate::common::*;
use std::fs;
use std::path::Path;
use std::process::Command;

/// `text` quoted for sh.
fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// Runs strata with `args` in `dir` on a terminal, with `redirect` (`2>err`, `>out`) applied
/// by the shell, and `env` added to the scrubbed environment. The exit status and everything
/// that appeared on the terminal.
fn on_tty(
    dir: &Path,
    helm: Helm,
    env: &[(&str, &str)],
    args: &[&str],
    redirect: &str,
) -> (Option<i32>, String) {
    let mut line = quote(&strata_bin().display().to_string());
    for arg in args {
        line.push(' ');
        line.push_str(&quote(arg));
    }
    line.push(' ');
    line.push_str(redirect);
    let cache = tempfile::tempdir().expect("cache dir");
    let out = run_std(
        Command::new("script")
            .args(["-qec", &line, "/dev/null"])
            .current_dir(dir)
            .env_clear()
            .env("PATH", BASE_PATH)
            .env("HOME", test_home())
            .env("SHELL", "/bin/sh")
            .env("STRATA_HELM", helm.path())
            .env("STRATA_CACHE_DIR", cache.path())
            .envs(env.iter().copied()),
    );
    assert!(
        out.stderr.is_empty(),
        "script itself failed: {}",
        describe(&out)
    );
    (out.status.code(), text(&out.stdout))
}

/// Runs strata in `dir` with stdout and stderr on pipes (no terminal), `env` added.
fn piped(dir: &Path, helm: Helm, env: &[(&str, &str)], args: &[&str]) -> std::process::Output {
    let cache = tempfile::tempdir().expect("cache dir");
    let mut cmd = strata(helm);
    cmd.current_dir(dir)
        .env("STRATA_CACHE_DIR", cache.path())
        .envs(env.iter().copied())
        .args(args);
    run(&mut cmd)
}

/// Every `[n/m]` counter in `text`, in the order written.
fn counters(text: &str) -> Vec<(usize, usize)> {
    let mut found = Vec::new();
    for piece in text.split('[').skip(1) {
        let Some((inside, _)) = piece.split_once(']') else {
            continue;
        };
        let Some((n, m)) = inside.split_once('/') else {
            continue;
        };
        if let (Ok(n), Ok(m)) = (n.parse(), m.parse()) {
            found.push((n, m));
        }
    }
    found
}

/// The counters of `text` are exactly 1/total, 2/total, ... total/total.
fn assert_counted_in_order(text: &str, total: usize) {
    let want: Vec<(usize, usize)> = (1..=total).map(|n| (n, total)).collect();
    assert_eq!(counters(text), want, "{text:?}");
}

const RED_MINUS: &str = "\x1b[31m-";
const GREEN_PLUS: &str = "\x1b[32m+";

/// Lowers the prod minimum of replicas, which changes acme's and initech's manifests.
fn lower_prod_min_replicas(dir: &Path) {
    let layer = dir.join("fleet/values/env/prod.yaml");
    let text = fs::read_to_string(&layer).expect("read prod layer");
    assert!(text.contains("minReplicas: 3"), "{text}");
    fs::write(&layer, text.replace("minReplicas: 3", "minReplicas: 2")).expect("write layer");
}

#[test]
fn snapshot_counts_tenants_and_colours_verify_diffs_only_on_a_terminal() {
    let t = fleet_repo();
    // stderr on a pipe: no counters.
    let update = piped(t.root(), Helm::V3, &[], &["snapshot", "update", "fleet"]);
    assert_success(&update, "strata snapshot update");
    assert_eq!(
        text(&update.stderr),
        "strata: wrote 4 snapshot(s) to fleet/snapshots, removed 0, 0 failed\n"
    );
    // On a terminal: 4 counters, in order, then the line is cleared and the summary follows.
    let (code, tty) = on_tty(
        t.root(),
        Helm::V3,
        &[("TERM", "xterm")],
        &["snapshot", "update", "fleet"],
        "",
    );
    assert_eq!(code, Some(0), "{tty}");
    assert_counted_in_order(&tty, 4);
    assert!(
        tty.contains("\r[1/4] fleet/customers/"),
        "the counter names the tenant: {tty:?}"
    );
    assert!(
        tty.ends_with("\rstrata: wrote 4 snapshot(s) to fleet/snapshots, removed 0, 0 failed\r\n"),
        "{tty:?}"
    );

    lower_prod_min_replicas(t.root());
    let (code, tty) = on_tty(
        t.root(),
        Helm::V3,
        &[("TERM", "xterm-256color")],
        &["snapshot", "verify", "fleet"],
        "",
    );
    assert_eq!(code, Some(1), "{tty}");
    assert_counted_in_order(&tty, 4);
    assert!(
        tty.contains(&format!("    {RED_MINUS}  minReplicas: 3\x1b[0m")),
        "{tty:?}"
    );
    assert!(
        tty.contains(&format!("    {GREEN_PLUS}  minReplicas: 2\x1b[0m")),
        "{tty:?}"
    );

    // TERM=dumb and NO_COLOR: the same diff, no escape sequence at all (progress erases
    // with spaces, so it needs none either).
    for env in [[("TERM", "dumb")], [("NO_COLOR", "1")]] {
        let (code, tty) = on_tty(
            t.root(),
            Helm::V3,
            &env,
            &["snapshot", "verify", "fleet"],
            "",
        );
        assert_eq!(code, Some(1), "{env:?}: {tty}");
        assert!(
            tty.contains("    -  minReplicas: 3\r\n"),
            "{env:?}: {tty:?}"
        );
        assert!(!tty.contains('\x1b'), "{env:?}: {tty:?}");
        assert_counted_in_order(&tty, 4);
    }

    // stdout on a file, stderr on the terminal: counters on the terminal, a plain report.
    let (code, tty) = on_tty(
        t.root(),
        Helm::V3,
        &[("TERM", "xterm")],
        &["snapshot", "verify", "fleet"],
        ">report.txt",
    );
    assert_eq!(code, Some(1), "{tty}");
    assert_counted_in_order(&tty, 4);
    let report = fs::read_to_string(t.path("report.txt")).expect("report");
    assert!(report.contains("    -  minReplicas: 3\n"), "{report}");
    assert!(!report.contains('\x1b'), "{report:?}");

    // stdout on the terminal, stderr on a file: a coloured report, no counters anywhere.
    let (code, tty) = on_tty(
        t.root(),
        Helm::V3,
        &[("TERM", "xterm")],
        &["snapshot", "verify", "fleet"],
        "2>errors.txt",
    );
    assert_eq!(code, Some(1), "{tty}");
    assert!(tty.contains(RED_MINUS), "{tty:?}");
    assert_eq!(counters(&tty), [], "{tty:?}");
    let errors = fs::read_to_string(t.path("errors.txt")).expect("stderr file");
    assert_eq!(
        errors,
        "strata: error: 2 difference(s) between the render and the snapshots; run `strata snapshot update` if they are intended\n"
    );
}

/// What a terminal shows of each line of `transcript`: a carriage return goes back to the
/// first column and what follows overwrites what was there.
fn screen_lines(transcript: &str) -> Vec<String> {
    transcript
        .split("\r\n")
        .map(|line| {
            let mut cells: Vec<char> = Vec::new();
            let mut column = 0;
            for c in line.chars() {
                if c == '\r' {
                    column = 0;
                    continue;
                }
                match cells.get_mut(column) {
                    Some(cell) => *cell = c,
                    None => cells.push(c),
                }
                column += 1;
            }
            cells.into_iter().collect::<String>().trim_end().to_owned()
        })
        .collect()
}

#[test]
fn log_messages_start_on_a_clean_line_above_the_counter() {
    let t = fleet_repo();
    let (code, tty) = on_tty(
        t.root(),
        Helm::V3,
        &[("STRATA_LOG", "debug"), ("NO_COLOR", "1")],
        &["render", "--all", "fleet", "--out-dir", "out", "-j", "1"],
        "",
    );
    assert_eq!(code, Some(0), "{tty}");
    assert_counted_in_order(&tty, 4);
    // One tenant at a time: the next tenant's messages come while the counter is shown.
    let first = tty.find("[1/4]").expect("first counter");
    assert!(
        tty[first..].contains("DEBUG render cache miss"),
        "no message after the first counter: {tty:?}"
    );
    let screen = screen_lines(&tty);
    let logs: Vec<&String> = screen.iter().filter(|l| l.contains("DEBUG")).collect();
    assert!(logs.len() > 4, "{screen:#?}");
    for line in logs {
        assert!(
            line.starts_with("DEBUG "),
            "a message after a counter: {line:?}"
        );
    }
    assert_eq!(screen.last().map(String::as_str), Some(""), "{screen:#?}");
    assert_eq!(
        screen[screen.len() - 2],
        "strata: rendered 4 tenant(s), 0 failed",
        "the counter is gone: {screen:#?}"
    );
}

#[test]
fn check_counts_tenants_only_on_a_terminal() {
    let t = fleet_repo();
    let (code, tty) = on_tty(
        t.root(),
        Helm::V4,
        &[("TERM", "xterm")],
        &["check", "fleet"],
        "",
    );
    assert_eq!(code, Some(0), "{tty}");
    assert_counted_in_order(&tty, 4);
    assert!(
        tty.contains("checked 4 tenant(s)"),
        "the report follows: {tty:?}"
    );

    let out = piped(
        t.root(),
        Helm::V4,
        &[("TERM", "xterm")],
        &["check", "fleet"],
    );
    assert_success(&out, "strata check");
    assert_eq!(text(&out.stderr), "", "nothing but the report");
    assert_eq!(counters(&text(&out.stdout)), []);
}

/// A git repository holding examples/fleet at `fleet/`, committed on `main`, with the prod
/// minimum of replicas lowered in the working tree.
fn changed_repo() -> Tree {
    let t = fleet_repo();
    fs::remove_dir(t.path(".git")).expect("remove placeholder .git");
    let git = |args: &[&str]| {
        crate::common::git(t.root(), args);
    };

    git(&["init", "-q", "-b", "main"]);
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "fleet"]);
    lower_prod_min_replicas(t.root());
    t
}

#[test]
fn diff_counts_renders_and_colours_only_on_a_terminal() {
    let t = changed_repo();
    let args = ["diff", "--base", "main", "fleet"];
    // Two tenants changed, each rendered at base and head.
    let (code, tty) = on_tty(t.root(), Helm::V4, &[("TERM", "xterm")], &args, "");
    assert_eq!(code, Some(1), "{tty}");
    assert_counted_in_order(&tty, 4);
    assert!(
        tty.contains(&format!("{RED_MINUS}  minReplicas: 3")),
        "{tty:?}"
    );
    assert!(
        tty.contains(&format!("{GREEN_PLUS}  minReplicas: 2")),
        "{tty:?}"
    );

    let (code, tty) = on_tty(t.root(), Helm::V4, &[("TERM", "dumb")], &args, "");
    assert_eq!(code, Some(1), "{tty}");
    assert!(tty.contains("\r\n-  minReplicas: 3\r\n"), "{tty:?}");
    assert!(!tty.contains('\x1b'), "{tty:?}");

    let out = piped(t.root(), Helm::V4, &[("TERM", "xterm")], &args);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert_eq!(text(&out.stderr), "", "no progress on a pipe");
    let stdout = text(&out.stdout);
    assert!(stdout.contains("\n-  minReplicas: 3\n"), "{stdout}");
    assert!(!stdout.contains('\x1b'), "{stdout:?}");
}
