//! Credentials never leave strata: not in logs at any level (dependencies' trace included), not
//! in errors, whatever shape the URL holding them has. Against a password-protected nginx Helm
//! repository and a Docker registry with Basic and with Bearer (token) authentication, and an
//! identity token (OAuth2 refresh token) exchanged at the registry's token service.

use crate::common::registry::{self, Registry, RegistryAuth};
use crate::common::servers::{Nginx, Tls};
use crate::common::*;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use std::process::Output;
use std::sync::atomic::{AtomicUsize, Ordering};

const USER: &str = "chartbot";
const PASSWORD: &str = "pw-logs-9d2e-never-shown";

/// The filters a user might set; the dependency targets are the ones that see request bytes.
const FILTERS: &[&str] = &[
    "trace",
    "debug,ureq=trace",
    "trace,ureq=trace,ureq_proto=trace,rustls=trace",
    "ureq_proto=trace",
    "rustls=trace,strata=trace",
    "info",
];

/// A Helm repository with one chart, packaged and indexed by the real helm.
fn helm_repository(tree: &Tree) {
    let archive = registry::package_chart(tree.root(), Helm::V3, "web", "1.0.0");
    let repo = tree.mkdir("repo");
    std::fs::copy(&archive, repo.join("web-1.0.0.tgz")).unwrap();
    let out = run_std(helm(Helm::V3).args(["repo", "index"]).arg(&repo));
    assert_success(&out, "helm repo index");
}

fn stack(tree: &Tree, repository: &str) {
    tree.write(
        "stack/strata.yaml",
        format!(
            "apiVersion: strata/v1\nkind: Stack\ntenants:\n  path: t\ncomponents:\n  - name: web\n    releaseName: web\n    namespace: web\n    chart: {{repository: \"{repository}\", name: web, version: \"1.0.0\"}}\n"
        ),
    );
    tree.write("stack/t/tenant.yaml", "{}\n");
}

/// Fails when any 8-character piece of a secret appears in what strata wrote: the HTTP
/// client's trace dumps requests 16 bytes a row, so a secret would show up in pieces.
fn assert_no_piece(out: &Output, secrets: &[String], what: &str) {
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(
        !all.to_ascii_lowercase().contains("authorization"),
        "{what}: a request header reached the output:\n{}",
        bounded(&all)
    );
    for secret in secrets {
        let chars: Vec<char> = secret.chars().collect();
        for window in chars.windows(8.min(chars.len())) {
            let piece: String = window.iter().collect();
            assert!(
                !all.contains(&piece),
                "{what}: {piece:?} of a secret leaked:\n{}",
                bounded(&all)
            );
        }
    }
}

fn bounded(s: &str) -> &str {
    &s[..s.len().min(20_000)]
}

fn basic(user: &str, password: &str) -> String {
    STANDARD.encode(format!("{user}:{password}"))
}

/// Runs `lock` and `render` (both make requests: a fresh cache each time) under every filter.
fn every_filter(
    tree: &Tree,
    env: &[(&str, String)],
    secrets: impl Fn() -> Vec<String>,
    expect_ok: bool,
) {
    // Every run starts from an empty cache, so each one really talks to the server.
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    for filter in FILTERS {
        for command in ["lock", "render"] {
            let run_id = RUNS.fetch_add(1, Ordering::Relaxed);
            let mut cmd = strata(Helm::V3);
            cmd.env("STRATA_LOG", filter).env(
                "STRATA_CACHE_DIR",
                tree.path(format!("cache-{command}-{run_id}")),
            );
            for (k, v) in env {
                cmd.env(k, v);
            }
            let out = if command == "lock" {
                run(cmd.arg("lock").arg("--update").arg(tree.path("stack")))
            } else {
                run(cmd.arg("render").arg("--refresh").arg(tree.path("stack/t")))
            };
            let what = format!("{command} with STRATA_LOG={filter}");
            if expect_ok {
                assert_success(&out, &what);
            } else {
                assert!(!out.status.success(), "{what} must fail");
            }
            assert_no_piece(&out, &secrets(), &what);
        }
    }
}

#[test]
fn no_log_level_shows_basic_credentials_of_a_helm_repository() {
    let tree = Tree::new();
    helm_repository(&tree);
    let tls = Tls::shared();
    let nginx = Nginx::serve(tree.path("repo"))
        .basic_auth(USER, PASSWORD)
        .tls(tls)
        .start();
    stack(&tree, &nginx.url());
    let env = |password: &str| {
        vec![
            ("STRATA_REPO_1_URL", nginx.url()),
            ("STRATA_REPO_1_USERNAME", USER.to_owned()),
            ("STRATA_REPO_1_PASSWORD", password.to_owned()),
            ("STRATA_REPO_1_CA_FILE", tls.ca_pem.display().to_string()),
        ]
    };
    let secrets = |password: &str| vec![password.to_owned(), basic(USER, password)];
    every_filter(&tree, &env(PASSWORD), || secrets(PASSWORD), true);
    // A 401 must not print what was sent either.
    let wrong = "wrong-pw-41c7-also-secret";
    every_filter(&tree, &env(wrong), || secrets(wrong), false);
}

#[test]
fn no_log_level_shows_registry_basic_credentials() {
    let registry = Registry::start(RegistryAuth::Htpasswd, true);
    registry.push_chart(Helm::V4, "web", "1.0.0");
    let tree = Tree::new();
    stack(&tree, &registry.url());
    let env = vec![
        ("STRATA_REPO_1_URL", registry.url()),
        ("STRATA_REPO_1_USERNAME", registry::USER.to_owned()),
        ("STRATA_REPO_1_PASSWORD", registry::PASSWORD.to_owned()),
        (
            "STRATA_REPO_1_CA_FILE",
            registry.ca_file().display().to_string(),
        ),
    ];
    let secrets = || {
        vec![
            registry::PASSWORD.to_owned(),
            basic(registry::USER, registry::PASSWORD),
        ]
    };
    every_filter(&tree, &env, secrets, true);
}

#[test]
fn no_log_level_shows_a_registry_bearer_token() {
    let registry = Registry::start(RegistryAuth::Token, true);
    registry.push_chart(Helm::V4, "web", "1.0.0");
    let tree = Tree::new();
    stack(&tree, &registry.url());
    let env = vec![
        ("STRATA_REPO_1_URL", registry.url()),
        ("STRATA_REPO_1_USERNAME", registry::USER.to_owned()),
        ("STRATA_REPO_1_PASSWORD", registry::PASSWORD.to_owned()),
        (
            "STRATA_REPO_1_CA_FILE",
            registry.ca_file().display().to_string(),
        ),
    ];
    let issued_before = registry.token_server().tokens().len();
    let secrets = || {
        let mut all = vec![
            registry::PASSWORD.to_owned(),
            basic(registry::USER, registry::PASSWORD),
        ];
        // The signature is what makes a token valid; the header part is the same for all.
        for token in registry.token_server().tokens() {
            all.push(token.rsplit('.').next().unwrap().to_owned());
        }
        all
    };
    every_filter(&tree, &env, secrets, true);
    assert!(
        registry.token_server().tokens().len() > issued_before,
        "the test must have used bearer tokens"
    );
}

#[test]
fn no_log_level_shows_a_registry_identity_token() {
    let registry = Registry::start(RegistryAuth::Token, true);
    registry.push_chart(Helm::V4, "web", "1.0.0");
    let tree = Tree::new();
    stack(&tree, &registry.url());
    let docker_config = |dir: &str, identity_token: &str| {
        tree.write(
            format!("{dir}/config.json"),
            format!(
                "{{\"auths\": {{\"{}\": {{\"identitytoken\": \"{identity_token}\"}}}}}}",
                registry.host()
            ),
        );
        vec![
            ("DOCKER_CONFIG", tree.path(dir).display().to_string()),
            ("STRATA_CA_FILE", registry.ca_file().display().to_string()),
        ]
    };
    let wrong = "idt-wrong-62af-also-secret";
    let secrets = || {
        let mut all = vec![registry::IDENTITY_TOKEN.to_owned(), wrong.to_owned()];
        // The signature is what makes an access token valid.
        for token in registry.token_server().tokens() {
            all.push(token.rsplit('.').next().unwrap().to_owned());
        }
        all
    };
    let issued_before = registry.token_server().issued();
    let env = docker_config("docker", registry::IDENTITY_TOKEN);
    every_filter(&tree, &env, secrets, true);
    assert!(
        registry.token_server().issued() > issued_before,
        "the test must have exchanged the identity token"
    );
    // A refused exchange must not print what was sent either.
    let refused_before = registry.token_server().refused();
    let env = docker_config("docker-wrong", wrong);
    every_filter(&tree, &env, secrets, false);
    assert!(registry.token_server().refused() > refused_before);
}

#[test]
fn a_url_with_credentials_in_strata_yaml_is_refused_without_showing_them() {
    let tree = Tree::new();
    stack(&tree, "http://ci:Pw-in-yaml-1x@127.0.0.1:9/charts");
    for args in [
        vec!["render"],
        vec!["lock"],
        vec!["explain"],
        vec!["values"],
        vec!["tenants"],
    ] {
        let mut cmd = strata(Helm::V3);
        cmd.current_dir(tree.path("stack/t")).args(&args);
        let out = run(&mut cmd);
        let what = format!("strata {}", args.join(" "));
        assert!(!out.status.success(), "{what} must refuse the URL");
        assert_no_piece(&out, &["Pw-in-yaml-1x".to_owned()], &what);
        assert!(
            text(&out.stderr).contains("holds credentials"),
            "{what}: {}",
            describe(&out)
        );
    }
}

#[test]
fn a_credential_url_that_does_not_parse_is_redacted_whole() {
    let tree = Tree::new();
    stack(&tree, "https://127.0.0.1:9/charts");
    // A password holding `/` ends the authority early for any URL parser.
    for url in [
        "https://ci:Se/cr3t-slash@127.0.0.1:9/charts",
        "https://ci:Se?cr3t-query@127.0.0.1:9/charts",
        "https://ci:Se cr3t-space@127.0.0.1:9/charts",
    ] {
        let secret = url
            .split_once(":S")
            .map(|(_, rest)| format!("S{}", rest.split('@').next().unwrap()))
            .unwrap();
        let out = run(strata(Helm::V3)
            .env("STRATA_REPO_1_URL", url)
            .env("STRATA_REPO_1_USERNAME", USER)
            .env("STRATA_REPO_1_PASSWORD", PASSWORD)
            .env("STRATA_LOG", "trace")
            .arg("lock")
            .arg(tree.path("stack")));
        let what = format!("STRATA_REPO_1_URL={url}");
        assert!(!out.status.success(), "{what}: {}", describe(&out));
        assert_no_piece(&out, &[secret, PASSWORD.to_owned()], &what);
    }
}
