//! strata accepts what helm accepts, against a real nginx serving charts the real helm
//! packaged and indexed: the system trust store (`SSL_CERT_FILE`, `SSL_CERT_DIR`), Argo CD's
//! TLS certificate mount, a self-signed `CA:TRUE` server certificate trusted through the
//! repository's CA file, upper-case index digests; and `lock --update` does not download an
//! archive the cache already holds.

use crate::common::servers::{Nginx, Tls};
use crate::common::*;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// A Helm repository on disk with chart `web` 1.0.0, packaged and indexed by helm.
struct ChartRepo {
    tree: Tree,
}

impl ChartRepo {
    fn new() -> ChartRepo {
        let tree = Tree::new();
        tree.write(
            "src/web/Chart.yaml",
            "apiVersion: v2\nname: web\nversion: 1.0.0\n",
        );
        tree.write(
            "src/web/templates/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n",
        );
        // helm with its own homes, so no real repository leaks in.
        let isolated = || {
            let mut cmd = helm(Helm::V3);
            for (var, dir) in [
                ("HELM_CONFIG_HOME", "helm/config"),
                ("HELM_CACHE_HOME", "helm/cache"),
                ("HELM_DATA_HOME", "helm/data"),
            ] {
                cmd.env(var, tree.mkdir(dir));
            }
            cmd
        };
        let repo = tree.mkdir("repo");
        let mut package = isolated();
        package
            .arg("package")
            .arg(tree.path("src/web"))
            .arg("-d")
            .arg(&repo);
        assert_success(&run_std(&mut package), "helm package");
        let mut index = isolated();
        index.args(["repo", "index"]).arg(&repo);
        assert_success(&run_std(&mut index), "helm repo index");
        ChartRepo { tree }
    }

    fn dir(&self) -> PathBuf {
        self.tree.path("repo")
    }

    fn archive_digest(&self) -> String {
        let bytes = std::fs::read(self.dir().join("web-1.0.0.tgz")).unwrap();
        format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
    }
}

/// A stack using `web` from `repository`, with one tenant.
fn stack(repository: &str) -> Tree {
    let tree = Tree::new();
    tree.write(
        "stack/strata.yaml",
        format!(
            "apiVersion: strata/v1\nkind: Stack\ntenants:\n  path: \"t/{{{{tenant}}}}\"\ncomponents:\n  - name: web\n    chart: {{repository: \"{repository}\", name: web, version: \"^1\"}}\n"
        ),
    );
    tree.write("stack/t/acme/values.yaml", "a: 1\n");
    tree
}

/// `strata lock` of the stack with a private cache and these extra variables.
fn lock(tree: &Tree, env: &[(&str, &Path)], extra: &[&str]) -> std::process::Output {
    let mut cmd = strata(Helm::V3);
    cmd.env("STRATA_CACHE_DIR", tree.path("cache"));
    for (name, value) in env {
        cmd.env(name, value);
    }
    run(cmd.arg("lock").args(extra).arg(tree.path("stack")))
}

fn assert_locked(tree: &Tree, repo: &ChartRepo, out: &std::process::Output, what: &str) {
    assert_success(out, what);
    let text = std::fs::read_to_string(tree.path("stack/strata.lock")).unwrap();
    assert!(
        text.contains(&repo.archive_digest()),
        "{what}: the lock lacks the archive's digest:\n{text}"
    );
}

#[test]
fn a_self_signed_ca_server_certificate_is_trusted_through_the_repository_ca_file() {
    let repo = ChartRepo::new();
    let tls = Tls::self_signed_ca();
    let nginx = Nginx::serve(repo.dir()).tls(&tls).start();
    let tree = stack(&nginx.url());
    let url = nginx.url();
    let mut cmd = strata(Helm::V3);
    cmd.env("STRATA_CACHE_DIR", tree.path("cache"))
        .env("STRATA_REPO_1_URL", &url)
        .env("STRATA_REPO_1_CA_FILE", &tls.ca_pem);
    let out = run(cmd.arg("lock").arg(tree.path("stack")));
    assert_locked(
        &tree,
        &repo,
        &out,
        "lock with a self-signed CA:TRUE certificate",
    );
    // Without its certificate trusted, the same server is refused.
    let tree = stack(&url);
    let out = lock(&tree, &[], &[]);
    assert_error(
        &out,
        "without the certificate trusted",
        &["TLS", &url, "not signed by a trusted CA"],
    );
}

#[test]
fn ca_certificates_from_ssl_cert_file_ssl_cert_dir_and_the_argocd_mount_are_trusted() {
    let repo = ChartRepo::new();
    let tls = Tls::generate();
    let nginx = Nginx::serve(repo.dir()).tls(&tls).start();

    // SSL_CERT_FILE: a bundle holding the CA.
    let tree = stack(&nginx.url());
    let out = lock(&tree, &[("SSL_CERT_FILE", &tls.ca_pem)], &[]);
    assert_locked(&tree, &repo, &out, "SSL_CERT_FILE");

    // SSL_CERT_DIR: a hashed directory, as `openssl rehash` lays it out.
    let tree = stack(&nginx.url());
    let certs = tree.mkdir("certs");
    std::fs::copy(&tls.ca_pem, certs.join("corporate-ca.pem")).unwrap();
    Tls::rehash(&certs);
    let out = lock(&tree, &[("SSL_CERT_DIR", &certs)], &[]);
    assert_locked(&tree, &repo, &out, "SSL_CERT_DIR");

    // argocd-tls-certs-cm as mounted in the repo-server: one file per server host name.
    let tree = stack(&nginx.url());
    let mount = tree.mkdir("argocd-tls");
    std::fs::copy(&tls.ca_pem, mount.join("127.0.0.1")).unwrap();
    let out = lock(&tree, &[("ARGOCD_TLS_DATA_PATH", &mount)], &[]);
    assert_locked(&tree, &repo, &out, "Argo CD TLS certificate mount");

    // Another CA does not vouch for this server: a clear TLS error naming the URL.
    let other = Tls::generate();
    let tree = stack(&nginx.url());
    let out = lock(&tree, &[("SSL_CERT_FILE", &other.ca_pem)], &[]);
    assert_error(
        &out,
        "a CA that did not sign the server certificate",
        &[
            "TLS error",
            &format!("{}/index.yaml", nginx.url()),
            "not signed by a trusted CA",
            "SSL_CERT_FILE",
        ],
    );
}

#[test]
fn upper_case_index_digests_are_accepted_and_locked_in_lower_case() {
    let repo = ChartRepo::new();
    let index = std::fs::read_to_string(repo.dir().join("index.yaml")).unwrap();
    let hex = repo.archive_digest()["sha256:".len()..].to_owned();
    assert!(
        index.contains(&hex),
        "helm indexed another digest:\n{index}"
    );
    std::fs::write(
        repo.dir().join("index.yaml"),
        index.replace(&hex, &hex.to_ascii_uppercase()),
    )
    .unwrap();
    let nginx = Nginx::serve(repo.dir()).start();
    let tree = stack(&nginx.url());
    let out = lock(&tree, &[], &[]);
    assert_locked(&tree, &repo, &out, "lock with an upper-case index digest");
    let out = run(strata(Helm::V3)
        .env("STRATA_CACHE_DIR", tree.path("cache"))
        .arg("render")
        .arg(tree.path("stack/t/acme")));
    assert_success(&out, "render after the lock");
}

#[test]
fn lock_update_does_not_download_an_archive_the_cache_holds() {
    let repo = ChartRepo::new();
    let nginx = Nginx::serve(repo.dir()).start();
    let tree = stack(&nginx.url());
    let archive_requests = || nginx.requests_to("/web-1.0.0.tgz").len();
    let out = lock(&tree, &[], &[]);
    assert_locked(&tree, &repo, &out, "first lock");
    assert_eq!(
        archive_requests(),
        1,
        "the first lock downloads the archive"
    );
    let before = std::fs::read_to_string(tree.path("stack/strata.lock")).unwrap();
    let out = lock(&tree, &[], &["--update"]);
    assert_success(&out, "lock --update");
    assert_eq!(
        archive_requests(),
        1,
        "lock --update downloaded an archive the cache holds"
    );
    assert_eq!(
        std::fs::read_to_string(tree.path("stack/strata.lock")).unwrap(),
        before
    );
}
