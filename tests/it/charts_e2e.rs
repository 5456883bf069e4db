//! Versioned charts end to end, through the `strata` binary: a Helm repository served by nginx
//! (basic auth, TLS with a private CA) and an OCI registry (Docker distribution), the lock,
//! the shared cache (cold, warm, concurrent, offline), immutability and promotion.
//!
//! "No request" is read from the servers' own logs, not inferred.

use crate::common::registry::{self, Registry, RegistryAuth};
use crate::common::servers::{Nginx, Tls};
use crate::common::*;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::Output;

const USER: &str = "chartbot";
const PASSWORD: &str = "pw-e2e-5b1d-never-printed";

/// A Helm repository on disk: charts packaged and indexed by the real helm.
struct ChartRepo {
    tree: Tree,
}

impl ChartRepo {
    fn new() -> ChartRepo {
        let repo = ChartRepo { tree: Tree::new() };
        repo.tree.mkdir("repo");
        repo
    }

    fn helm(&self) -> std::process::Command {
        let mut cmd = helm(Helm::V3);
        for (var, dir) in [
            ("HELM_CONFIG_HOME", "helm/config"),
            ("HELM_CACHE_HOME", "helm/cache"),
            ("HELM_DATA_HOME", "helm/data"),
        ] {
            cmd.env(var, self.tree.mkdir(dir));
        }
        cmd
    }

    /// Packages `web` at `version`; `note` changes the content without changing the version.
    fn package(&self, version: &str, note: &str) -> PathBuf {
        let src = format!("src/web-{version}");
        self.tree.write(
            format!("{src}/Chart.yaml"),
            format!(
                "apiVersion: v2\nname: web\nversion: {version}\ndescription: {note}\nannotations:\n  artifacthub.io/changes: |\n    - kind: added\n      description: change of {version}\n"
            ),
        );
        self.tree.write(
            format!("{src}/values.yaml"),
            "replicas: 1\nmessage: chart default\n",
        );
        self.tree.write(
            format!("{src}/templates/cm.yaml"),
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n  namespace: {{ .Release.Namespace }}\ndata:\n  chartVersion: {{ .Chart.Version | quote }}\n  message: {{ .Values.message | quote }}\n  replicas: {{ .Values.replicas | quote }}\n",
        );
        let out = run_std(
            self.helm()
                .arg("package")
                .arg(self.tree.path(&src))
                .arg("-d")
                .arg(self.tree.path("repo")),
        );
        assert_success(&out, "helm package");
        self.tree.path(format!("repo/web-{version}.tgz"))
    }

    fn index(&self) {
        let out = run_std(
            self.helm()
                .args(["repo", "index"])
                .arg(self.tree.path("repo")),
        );
        assert_success(&out, "helm repo index");
    }
}

/// A stack whose only component comes from `repository`; tenants `t/<env>/<tenant>`.
fn stack(tree: &Tree, repository: &str, constraint: &str, pins: &str) {
    tree.write(
        "stack/strata.yaml",
        format!(
            "apiVersion: strata/v1\nkind: Stack\ntenants:\n  path: \"t/{{{{env}}}}/{{{{tenant}}}}\"\ncomponents:\n  - name: web\n    chart: {{repository: \"{repository}\", name: web, version: \"{constraint}\"}}\n    values:\n      - t/{{{{env}}}}/{{{{tenant}}}}/values.yaml\n{pins}"
        ),
    );
    for (env, tenant) in [("preprod", "acme"), ("prod", "acme"), ("prod", "globex")] {
        tree.write(
            format!("stack/t/{env}/{tenant}/values.yaml"),
            format!("message: hello {tenant} in {env}\n"),
        );
    }
}

/// strata with a private cache and the repository's credentials in the environment.
fn strata_for(tree: &Tree, url: &str, ca: &Path, cache: &str) -> assert_cmd::Command {
    let mut cmd = strata(Helm::V3);
    cmd.env("STRATA_CACHE_DIR", tree.path(cache))
        .env("STRATA_REPO_1_URL", url)
        .env("STRATA_REPO_1_USERNAME", USER)
        .env("STRATA_REPO_1_PASSWORD", PASSWORD)
        .env("STRATA_REPO_1_CA_FILE", ca);
    cmd
}

fn sha256_file(path: &Path) -> String {
    format!(
        "sha256:{}",
        hex::encode(Sha256::digest(std::fs::read(path).unwrap()))
    )
}

/// What plain helm renders from an archive with the tenant's layer.
fn helm_template(archive: &Path, release: &str, namespace: &str, values: &Path) -> Vec<u8> {
    let out = run_std(
        helm(Helm::V3)
            .args(["template", release])
            .arg(archive)
            .args(["--namespace", namespace, "--include-crds", "-f"])
            .arg(values),
    );
    assert_success(&out, "helm template");
    out.stdout
}

fn assert_no_secret(out: &Output) {
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(!all.contains(PASSWORD), "the password leaked:\n{all}");
    assert!(
        !all.contains(registry::PASSWORD),
        "the password leaked:\n{all}"
    );
}

#[test]
fn http_repository_lock_cache_offline_and_immutability() {
    let repo = ChartRepo::new();
    for v in ["1.0.0", "1.0.1", "1.1.0", "2.0.0"] {
        repo.package(v, "first build");
    }
    repo.index();
    let tls = Tls::shared();
    let mut nginx = Nginx::serve(repo.tree.path("repo"))
        .basic_auth(USER, PASSWORD)
        .tls(tls)
        .start();
    let url = nginx.url();
    let tree = Tree::new();
    stack(&tree, &url, "~1.0", "");
    let tenant = tree.path("stack/t/prod/acme");

    // Without a lock, a versioned chart is an error that says what to do.
    let out = run(strata_for(&tree, &url, &tls.ca_pem, "cache")
        .arg("render")
        .arg(&tenant));
    assert_error(&out, "render before lock", &["strata.lock", "strata lock"]);

    let out = run(strata_for(&tree, &url, &tls.ca_pem, "cache")
        .arg("lock")
        .arg(tree.path("stack")));
    assert_success(&out, "strata lock");
    assert_no_secret(&out);
    let lock = std::fs::read_to_string(tree.path("stack/strata.lock")).unwrap();
    assert!(
        lock.contains("version: \"1.0.1\""),
        "~1.0 must pick 1.0.1:\n{lock}"
    );
    let digest = sha256_file(&repo.tree.path("repo/web-1.0.1.tgz"));
    assert!(
        lock.contains(&digest),
        "lock lacks the archive digest {digest}:\n{lock}"
    );
    assert!(
        !lock.contains(PASSWORD) && !lock.contains(USER),
        "credentials in the lock:\n{lock}"
    );

    // A second lock run asks nothing and changes nothing.
    let before = nginx.requests().len();
    let out = run(strata_for(&tree, &url, &tls.ca_pem, "cache")
        .arg("lock")
        .arg(tree.path("stack")));
    assert_success(&out, "second strata lock");
    assert_eq!(
        nginx.requests().len(),
        before,
        "a satisfied lock must not touch the repository"
    );
    assert_eq!(
        std::fs::read_to_string(tree.path("stack/strata.lock")).unwrap(),
        lock
    );

    // Warm cache: the render is helm's output for that archive, with no request at all.
    let expected = helm_template(
        &repo.tree.path("repo/web-1.0.1.tgz"),
        "acme",
        "acme",
        &tenant.join("values.yaml"),
    );
    let out = run(strata_for(&tree, &url, &tls.ca_pem, "cache")
        .arg("render")
        .arg(&tenant));
    assert_success(&out, "warm render");
    assert_same_bytes(&out.stdout, &expected, "warm render vs helm template");
    assert_eq!(
        nginx.requests().len(),
        before,
        "a warm render must not touch the network"
    );

    // Cold cache with a lock: the archive URL directly, never the index.
    let out = run(strata_for(&tree, &url, &tls.ca_pem, "cold")
        .arg("render")
        .arg(&tenant));
    assert_success(&out, "cold render");
    assert_same_bytes(&out.stdout, &expected, "cold render vs helm template");
    let new: Vec<_> = nginx.requests().into_iter().skip(before).collect();
    assert!(
        new.iter().all(|r| !r.uri.contains("index.yaml")),
        "a locked render fetched the index: {new:?}"
    );
    assert_eq!(
        new.iter()
            .filter(|r| r.uri.ends_with("web-1.0.1.tgz") && r.status == 200)
            .count(),
        1,
        "the archive must be fetched once: {new:?}"
    );

    // Republishing 1.0.1 with other bytes is caught on the next cold fetch.
    repo.package("1.0.1", "rebuilt behind our back");
    let out = run(strata_for(&tree, &url, &tls.ca_pem, "cold2")
        .arg("render")
        .arg(&tenant));
    assert_error(
        &out,
        "republished version",
        &["published chart version changed", "web", "1.0.1", &digest],
    );

    // The server going away: a warm cache still renders, a cold one says which URL failed.
    nginx.stop();
    let out = run(strata_for(&tree, &url, &tls.ca_pem, "cache")
        .arg("render")
        .arg(&tenant));
    assert_success(&out, "warm render with the server down");
    let out = run(strata_for(&tree, &url, &tls.ca_pem, "cold3")
        .arg("render")
        .arg(&tenant));
    assert_error(&out, "cold render with the server down", &["web-1.0.1.tgz"]);
    assert_no_secret(&out);
}

#[test]
fn wrong_password_is_reported_without_the_secret() {
    let repo = ChartRepo::new();
    repo.package("1.0.0", "x");
    repo.index();
    let tls = Tls::shared();
    let nginx = Nginx::serve(repo.tree.path("repo"))
        .basic_auth(USER, "the-right-one")
        .tls(tls)
        .start();
    let tree = Tree::new();
    stack(&tree, &nginx.url(), "1.0.0", "");
    let out = run(strata_for(&tree, &nginx.url(), &tls.ca_pem, "cache")
        .arg("lock")
        .arg(tree.path("stack")));
    assert_error(&out, "wrong password", &["authentication"]);
    assert_no_secret(&out);
}

#[test]
fn concurrent_generates_on_a_cold_cache_fetch_each_archive_once() {
    let repo = ChartRepo::new();
    repo.package("1.0.0", "x");
    repo.index();
    let tls = Tls::shared();
    let nginx = Nginx::serve(repo.tree.path("repo"))
        .basic_auth(USER, PASSWORD)
        .tls(tls)
        .start();
    let url = nginx.url();
    let tree = Tree::new();
    stack(&tree, &url, "1.0.0", "");
    let out = run(strata_for(&tree, &url, &tls.ca_pem, "lock-cache")
        .arg("lock")
        .arg(tree.path("stack")));
    assert_success(&out, "strata lock");
    let before = nginx.requests().len();

    let children: Vec<_> = (0..16)
        .map(|_| {
            let mut cmd = std::process::Command::new(strata_bin());
            cmd.env_clear()
                .env("PATH", "/usr/bin:/bin")
                .env("HOME", test_home())
                .env("STRATA_HELM", Helm::V3.path())
                .env("STRATA_CACHE_DIR", tree.path("shared-cache"))
                .env("STRATA_REPO_1_URL", &url)
                .env("STRATA_REPO_1_USERNAME", USER)
                .env("STRATA_REPO_1_PASSWORD", PASSWORD)
                .env("STRATA_REPO_1_CA_FILE", &tls.ca_pem)
                .env("ARGOCD_APP_NAME", "acme")
                .env("ARGOCD_APP_SOURCE_PATH", "t/prod/acme")
                .current_dir(tree.path("stack/t/prod/acme"))
                .arg("generate")
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped());
            cmd.spawn().expect("spawn strata generate")
        })
        .collect();
    let outputs: Vec<Output> = children
        .into_iter()
        .map(|c| c.wait_with_output().expect("wait"))
        .collect();
    for out in &outputs {
        assert_success(out, "concurrent generate");
        assert_same_bytes(&out.stdout, &outputs[0].stdout, "concurrent outputs");
    }
    let fetched: Vec<_> = nginx
        .requests()
        .into_iter()
        .skip(before)
        .filter(|r| r.uri.ends_with(".tgz"))
        .collect();
    assert_eq!(
        fetched.len(),
        1,
        "16 cold processes must fetch the archive once: {fetched:?}"
    );
}

#[test]
fn oci_registry_lock_and_render_match_helm() {
    let registry = Registry::start(RegistryAuth::Htpasswd, true);
    let (archive_1, _) = registry.push_chart(Helm::V4, "web", "1.0.0");
    let (archive_2, manifest) = registry.push_chart(Helm::V4, "web", "1.1.0");
    let tree = Tree::new();
    let url = registry.url();
    stack(&tree, &url, "^1", "");
    let env = |cmd: &mut assert_cmd::Command, cache: &str| {
        cmd.env("STRATA_CACHE_DIR", tree.path(cache))
            .env("STRATA_REPO_1_URL", &url)
            .env("STRATA_REPO_1_USERNAME", registry::USER)
            .env("STRATA_REPO_1_PASSWORD", registry::PASSWORD)
            .env("STRATA_REPO_1_CA_FILE", registry.ca_file());
    };
    let mut lock = strata(Helm::V3);
    env(&mut lock, "cache");
    let out = run(lock.arg("lock").arg(tree.path("stack")));
    assert_success(&out, "strata lock (oci)");
    assert_no_secret(&out);
    let text = std::fs::read_to_string(tree.path("stack/strata.lock")).unwrap();
    assert!(
        text.contains("version: \"1.1.0\""),
        "^1 must pick 1.1.0:\n{text}"
    );
    assert!(
        text.contains(&manifest),
        "lock lacks the manifest digest {manifest}:\n{text}"
    );
    assert!(
        text.contains(&sha256_file(&archive_2)),
        "lock lacks the layer digest:\n{text}"
    );

    let tenant = tree.path("stack/t/prod/globex");
    let expected = helm_template(&archive_2, "globex", "globex", &tenant.join("values.yaml"));
    let mut render = strata(Helm::V3);
    env(&mut render, "cold");
    let out = run(render.arg("render").arg(&tenant));
    assert_success(&out, "cold render (oci)");
    assert_same_bytes(&out.stdout, &expected, "oci render vs helm template");
    let _ = archive_1;
}

#[test]
fn promote_pins_the_exact_version_and_digest_the_source_runs() {
    let repo = ChartRepo::new();
    for v in ["1.0.0", "1.1.0", "1.2.0"] {
        repo.package(v, "x");
    }
    repo.index();
    let tls = Tls::shared();
    let nginx = Nginx::serve(repo.tree.path("repo"))
        .basic_auth(USER, PASSWORD)
        .tls(tls)
        .start();
    let url = nginx.url();
    let tree = Tree::new();
    // prod follows the component's ~1.0; preprod is pinned to try 1.1.x.
    stack(
        &tree,
        &url,
        "~1.0",
        "pins:\n  - when: {env: preprod}\n    component: web\n    version: \"~1.1\"\n",
    );
    let cmd = |cache: &str| strata_for(&tree, &url, &tls.ca_pem, cache);
    assert_success(
        &run(cmd("cache").arg("lock").arg(tree.path("stack"))),
        "strata lock",
    );

    let out = run(cmd("cache")
        .arg("explain")
        .arg(tree.path("stack/t/preprod/acme"))
        .arg("message"));
    assert_success(&out, "explain");
    let explained = text(&out.stdout);
    assert!(
        explained.contains("1.1.0")
            && explained.contains("strata.yaml:13")
            && explained.contains("pin when env=preprod"),
        "explain must say which pin chose the version:\n{explained}"
    );

    let out = run(cmd("cache")
        .args(["promote", "--from", "env=preprod", "--to", "env=prod"])
        .arg(tree.path("stack")));
    assert_success(&out, "strata promote");
    let summary = text(&out.stdout);
    assert!(
        summary.contains("1.0.0 (2 tenants) → 1.1.0") && summary.contains("change of 1.1.0"),
        "summary must give versions and the chart's change notes:\n{summary}"
    );
    let stack_text = std::fs::read_to_string(tree.path("stack/strata.yaml")).unwrap();
    assert!(
        stack_text
            .contains("  - when: {env: \"prod\"}\n    component: web\n    version: \"1.1.0\""),
        "promote must add an exact pin for prod:\n{stack_text}"
    );
    let lock = std::fs::read_to_string(tree.path("stack/strata.lock")).unwrap();
    assert!(
        lock.contains("constraint: \"1.1.0\""),
        "lock lacks the exact entry:\n{lock}"
    );
    assert!(
        !lock.contains("constraint: ~1.0"),
        "the unused ~1.0 entry must be dropped:\n{lock}"
    );

    // prod now renders what preprod tested, from the cache, without asking the repository.
    let before = nginx.requests().len();
    let out = run(cmd("cache")
        .arg("render")
        .arg(tree.path("stack/t/prod/globex")));
    assert_success(&out, "render promoted prod");
    assert!(text(&out.stdout).contains("chartVersion: \"1.1.0\""));
    assert_eq!(nginx.requests().len(), before);
}
