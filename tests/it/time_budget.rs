//! One time budget for the whole command, downloads included: against a real server on
//! 127.0.0.1 that stalls before its headers, stalls mid-body, or trickles a byte every two
//! seconds, `lock`, `render` and `generate` end with strata's own "timed out" error, naming the
//! URL without credentials, within the budget and a little slack, for a repository index, a
//! chart archive and an OCI blob.

use crate::common::slow::{SlowServer, Stall};
use crate::common::*;
use std::process::Output;
use std::time::{Duration, Instant};

const USER: &str = "budget-user";
const PASSWORD: &str = "pw-budget-91c2-never-printed";
/// The budget given to every command here.
const BUDGET_SECS: u64 = 3;
/// Room for process start, the stack, and the error's way out.
const SLACK: Duration = Duration::from_secs(4);
const STALLS: [Stall; 3] = [Stall::BeforeHeaders, Stall::MidBody, Stall::Trickle];

/// A stack with one component from `repository`, tenant `t/prod/acme`.
fn stack(tree: &Tree, repository: &str, plain_http: bool) {
    tree.write(
        "stack/strata.yaml",
        format!(
            "apiVersion: strata/v1\nkind: Stack\ntenants:\n  path: \"t/{{{{env}}}}/{{{{tenant}}}}\"\ncomponents:\n  - name: web\n    chart: {{repository: \"{repository}\", name: web, version: \"1.0.0\", plainHttp: {plain_http}}}\n"
        ),
    );
    tree.write("stack/t/prod/acme/values.yaml", "message: hi\n");
}

/// A strata.lock that pins `web` 1.0.0 to `url`, so a cold render downloads it directly.
fn lock(tree: &Tree, repository: &str, url: &str, oci: bool) {
    let digest = format!("sha256:{}", "ab".repeat(32));
    let manifest = if oci {
        format!("  manifestDigest: sha256:{}\n", "cd".repeat(32))
    } else {
        String::new()
    };
    tree.write(
        "stack/strata.lock",
        format!(
            "apiVersion: strata/v1\nkind: Lock\ncharts:\n- repository: {repository}\n  chart: web\n  constraint: 1.0.0\n  version: 1.0.0\n  digest: {digest}\n{manifest}  url: {url}\n"
        ),
    );
}

fn with_env(cmd: &mut assert_cmd::Command, tree: &Tree, repository: &str) {
    cmd.env("STRATA_CACHE_DIR", tree.path("cache"))
        .env("STRATA_TIMEOUT", BUDGET_SECS.to_string())
        .env("STRATA_REPO_1_URL", repository)
        .env("STRATA_REPO_1_USERNAME", USER)
        .env("STRATA_REPO_1_PASSWORD", PASSWORD);
}

/// Runs `cmd`, and checks it failed in time with a timeout naming `url` and no secret.
fn assert_times_out(cmd: &mut assert_cmd::Command, what: &str, url: &str) {
    let started = Instant::now();
    let out: Output = run(cmd);
    let took = started.elapsed();
    let stderr = text(&out.stderr);
    assert!(
        !out.status.success() && out.stdout.is_empty(),
        "{what}: must fail with no output\n{}",
        describe(&out)
    );
    assert!(
        took <= Duration::from_secs(BUDGET_SECS) + SLACK,
        "{what}: took {took:?} with a {BUDGET_SECS} s budget\n{stderr}"
    );
    assert!(
        stderr.contains("timed out") && stderr.contains(url),
        "{what}: expected a timeout naming {url}\n{stderr}"
    );
    assert!(
        stderr.contains(&format!("{BUDGET_SECS} s time budget")),
        "{what}: the message must say the budget ran out\n{stderr}"
    );
    assert!(
        !stderr.contains(PASSWORD) && !stderr.contains("cannot connect"),
        "{what}: a secret or a connection error in\n{stderr}"
    );
    assert_eq!(
        stderr.trim_end().lines().count(),
        1,
        "{what}: one message\n{stderr}"
    );
}

#[test]
fn a_stalled_index_ends_lock_within_the_budget() {
    for stall in STALLS {
        let server = SlowServer::start(stall);
        let tree = Tree::new();
        let repository = format!("{}/charts", server.origin());
        stack(&tree, &repository, false);
        let mut cmd = strata(Helm::V3);
        with_env(&mut cmd, &tree, &repository);
        cmd.arg("lock").arg(tree.path("stack"));
        assert_times_out(
            &mut cmd,
            &format!("lock, index {stall:?}"),
            &format!("{repository}/index.yaml"),
        );
        assert_eq!(server.requests(), 1, "{stall:?}: a timeout is not retried");
    }
}

#[test]
fn a_stalled_archive_ends_generate_within_the_budget() {
    for stall in STALLS {
        let server = SlowServer::start(stall);
        let tree = Tree::new();
        let repository = format!("{}/charts", server.origin());
        let url = format!("{repository}/web-1.0.0.tgz");
        stack(&tree, &repository, false);
        lock(&tree, &repository, &url, false);
        let mut cmd = strata(Helm::V3);
        with_env(&mut cmd, &tree, &repository);
        cmd.env("ARGOCD_APP_NAME", "acme")
            .env("ARGOCD_APP_SOURCE_PATH", "t/prod/acme")
            .current_dir(tree.path("stack/t/prod/acme"))
            .arg("generate");
        assert_times_out(&mut cmd, &format!("generate, archive {stall:?}"), &url);
    }
}

#[test]
fn a_stalled_oci_blob_ends_render_within_the_budget() {
    for stall in STALLS {
        let server = SlowServer::start(stall);
        let tree = Tree::new();
        let repository = format!("oci://{}/helm", server.host());
        stack(&tree, &repository, true);
        lock(&tree, &repository, &format!("{repository}/web:1.0.0"), true);
        let mut cmd = strata(Helm::V3);
        with_env(&mut cmd, &tree, &repository);
        cmd.arg("render").arg(tree.path("stack/t/prod/acme"));
        let blob = format!(
            "{}/v2/helm/web/blobs/sha256:{}",
            server.origin(),
            "ab".repeat(32)
        );
        assert_times_out(&mut cmd, &format!("render, OCI blob {stall:?}"), &blob);
    }
}
