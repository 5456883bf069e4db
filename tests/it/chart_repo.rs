//! Helm HTTP repositories through the library API, against a real nginx serving charts that
//! the real helm packaged and indexed: credentials, TLS with a private CA and client
//! certificates, the index cache (TTL, conditional GET, offline), retries and errors.
//!
//! Request counts come from nginx's access log, so "no request" means none reached the server.

use crate::common::servers::{Nginx, Tls};
use crate::common::*;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use strata::chart::credentials::{CredentialSources, CredentialStore};
use strata::chart::repo::{self, IndexCache, RepoError, RepoIndex};
use strata::chart::transport::{Transport, TransportOptions};

const USER: &str = "chartbot";
const PASSWORD: &str = "pw-7f3a9c-not-for-logs";

/// A directory served as a Helm repository: charts packaged and indexed by helm.
struct Repo {
    tree: Tree,
}

impl Repo {
    fn new() -> Repo {
        let repo = Repo { tree: Tree::new() };
        repo.tree.mkdir("repo");
        repo
    }

    fn dir(&self) -> PathBuf {
        self.tree.path("repo")
    }

    /// `helm` with its own config, cache and data homes, so no real repository leaks in.
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

    /// Packages chart `name` at `version` into `repo/<subdir>`.
    fn package(&self, name: &str, version: &str, subdir: &str) {
        let src = format!("src/{name}-{version}");
        self.tree.write(
            format!("{src}/Chart.yaml"),
            format!("apiVersion: v2\nname: {name}\nversion: {version}\n"),
        );
        self.tree.write(
            format!("{src}/templates/cm.yaml"),
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n",
        );
        let out = self.tree.mkdir(format!("repo/{subdir}"));
        let result = run_std(
            self.helm()
                .arg("package")
                .arg(self.tree.path(&src))
                .arg("-d")
                .arg(out),
        );
        assert_success(&result, "helm package");
    }

    /// `helm repo index` over the whole directory, with relative URLs unless `base_url`.
    fn index(&self, base_url: Option<&str>) {
        let mut cmd = self.helm();
        cmd.args(["repo", "index"]).arg(self.dir());
        if let Some(url) = base_url {
            cmd.args(["--url", url]);
        }
        assert_success(&run_std(&mut cmd), "helm repo index");
    }
}

fn transport() -> Transport {
    transport_with(TransportOptions {
        retries: 0,
        timeout: Duration::from_secs(10),
        ..TransportOptions::default()
    })
}

fn transport_with(opts: TransportOptions) -> Transport {
    Transport::new(opts).expect("transport")
}

fn no_creds() -> CredentialStore {
    CredentialStore::default()
}

/// Credentials as `STRATA_REPO_1_*` variables would give them.
fn env_creds(url: &str, user: &str, password: &str, ca: Option<&Path>) -> CredentialStore {
    let mut env = vec![
        ("STRATA_REPO_1_URL".to_owned(), url.to_owned()),
        ("STRATA_REPO_1_USERNAME".to_owned(), user.to_owned()),
        ("STRATA_REPO_1_PASSWORD".to_owned(), password.to_owned()),
    ];
    if let Some(ca) = ca {
        env.push(("STRATA_REPO_1_CA_FILE".to_owned(), ca.display().to_string()));
    }
    CredentialStore::from_sources(&CredentialSources {
        env,
        ..CredentialSources::default()
    })
    .expect("credentials")
}

fn cache(tree: &Tree, ttl: Duration) -> IndexCache {
    IndexCache::new(tree.path("cache/index"), ttl)
}

fn versions(index: &RepoIndex, chart: &str) -> Vec<String> {
    let mut v: Vec<String> = index
        .versions(chart)
        .iter()
        .map(|e| e.version.clone())
        .collect();
    v.sort();
    v
}

fn statuses(server: &Nginx, path: &str) -> Vec<u16> {
    server.requests_to(path).iter().map(|r| r.status).collect()
}

#[test]
fn basic_auth_over_tls_with_a_private_ca_then_download() {
    let repo = Repo::new();
    repo.package("demo", "0.1.0", "");
    repo.package("demo", "0.2.0", "");
    repo.index(None);
    let tls = Tls::shared();
    let server = Nginx::serve(repo.dir())
        .tls(tls)
        .basic_auth(USER, PASSWORD)
        .start();
    let url = format!("{}/", server.url());
    let creds = env_creds(&url, USER, PASSWORD, Some(&tls.ca_pem));
    let t = transport();
    let index = repo::fetch_index(
        &t,
        &creds,
        &cache(&repo.tree, Duration::from_secs(60)),
        &url,
    )
    .expect("index over TLS with basic auth");
    assert_eq!(versions(&index, "demo"), ["0.1.0", "0.2.0"]);

    let entry = &index.versions("demo")[0];
    let archive = repo::archive_url(&url, entry);
    assert!(archive.starts_with(&server.url()), "{archive}");
    let bytes = repo::download(&t, &creds, &url, &archive).expect("download");
    let digest = entry.digest.clone().expect("helm writes digests");
    assert_eq!(hex::encode(Sha256::digest(&bytes)), digest);
    for request in server.requests() {
        assert_eq!(
            (request.status, request.user.as_str()),
            (200, USER),
            "{request:?}"
        );
    }

    // The private CA is what makes TLS work: without it, a TLS error.
    let no_ca = env_creds(&url, USER, PASSWORD, None);
    let err = repo::fetch_index(&t, &no_ca, &cache(&Tree::new(), Duration::ZERO), &url)
        .expect_err("untrusted certificate");
    assert!(err.to_string().contains("TLS"), "{err}");

    // A process-wide CA (STRATA_CA_FILE) works too.
    let global = transport_with(TransportOptions {
        ca_file: Some(tls.ca_pem.clone()),
        retries: 0,
        ..TransportOptions::default()
    });
    let creds = env_creds(&url, USER, PASSWORD, None);
    repo::fetch_index(&global, &creds, &cache(&Tree::new(), Duration::ZERO), &url)
        .expect("index with the process-wide CA");
}

#[test]
fn wrong_password_is_an_auth_error_that_never_shows_the_password() {
    let repo = Repo::new();
    repo.package("demo", "0.1.0", "");
    repo.index(None);
    let server = Nginx::serve(repo.dir()).basic_auth(USER, PASSWORD).start();
    let wrong = "wrong-pw-d41d8cd98f";
    let creds = env_creds(&server.url(), USER, wrong, None);
    let err = repo::fetch_index(
        &transport(),
        &creds,
        &cache(&repo.tree, Duration::ZERO),
        &server.url(),
    )
    .expect_err("wrong password");
    assert!(
        matches!(err, RepoError::AuthFailed { status: 401, .. }),
        "{err:?}"
    );
    let text = format!("{err}\n{err:?}");
    assert!(
        text.contains("authentication failed for")
            && text.contains("/index.yaml")
            && text.contains("STRATA_REPO_1_URL"),
        "{text}"
    );
    assert!(!text.contains(wrong) && !text.contains(PASSWORD), "{text}");

    // Userinfo in the repository URL is used as basic auth but never printed.
    let with_userinfo = server.url().replace("://", &format!("://{USER}:{wrong}@"));
    let err = repo::fetch_index(
        &transport(),
        &no_creds(),
        &cache(&Tree::new(), Duration::ZERO),
        &with_userinfo,
    )
    .expect_err("wrong password in the URL");
    let text = format!("{err}\n{err:?}");
    assert!(text.contains("authentication failed"), "{text}");
    assert!(!text.contains(wrong), "{text}");
    assert_eq!(
        server.requests().last().map(|r| r.authorization),
        Some(true)
    );

    // No credentials at all: says so.
    let err = repo::fetch_index(
        &transport(),
        &no_creds(),
        &cache(&Tree::new(), Duration::ZERO),
        &server.url(),
    )
    .expect_err("no credentials");
    assert!(err.to_string().contains("none configured"), "{err}");
}

#[test]
fn ttl_conditional_get_and_refresh() {
    let repo = Repo::new();
    repo.package("demo", "0.1.0", "");
    repo.index(None);
    let server = Nginx::serve(repo.dir()).start();
    let url = server.url();
    let t = transport();

    // Within the TTL: one request, however often the index is asked for, by however many
    // cache handles (processes share the directory).
    let fresh = cache(&repo.tree, Duration::from_secs(3600));
    for _ in 0..3 {
        let index = repo::fetch_index(&t, &no_creds(), &fresh, &url).unwrap();
        assert_eq!(versions(&index, "demo"), ["0.1.0"]);
    }
    let again = cache(&repo.tree, Duration::from_secs(3600));
    repo::fetch_index(&t, &no_creds(), &again, &url).unwrap();
    assert_eq!(statuses(&server, "/index.yaml"), [200]);

    // Past the TTL: a conditional GET, answered 304.
    let expired = cache(&repo.tree, Duration::ZERO);
    let index = repo::fetch_index(&t, &no_creds(), &expired, &url).unwrap();
    assert_eq!(versions(&index, "demo"), ["0.1.0"]);
    let requests = server.requests_to("/index.yaml");
    assert_eq!(statuses(&server, "/index.yaml"), [200, 304]);
    assert!(!requests[1].if_none_match.is_empty(), "{requests:?}");
    assert!(!requests[1].if_modified_since.is_empty(), "{requests:?}");

    // The 304 renewed the fetch time: a TTL-respecting reader makes no request.
    repo::fetch_index(
        &t,
        &no_creds(),
        &cache(&repo.tree, Duration::from_secs(60)),
        &url,
    )
    .unwrap();
    assert_eq!(statuses(&server, "/index.yaml"), [200, 304]);

    // A changed index comes back 200 with the new version.
    std::thread::sleep(Duration::from_millis(1100)); // Last-Modified has 1 s resolution
    repo.package("demo", "0.2.0", "");
    repo.index(None);
    let index = repo::fetch_index(&t, &no_creds(), &expired, &url).unwrap();
    assert_eq!(versions(&index, "demo"), ["0.1.0", "0.2.0"]);
    assert_eq!(statuses(&server, "/index.yaml"), [200, 304, 200]);
}

#[test]
fn concurrent_cold_fetches_make_one_request() {
    let repo = Repo::new();
    repo.package("demo", "0.1.0", "");
    repo.index(None);
    let server = Nginx::serve(repo.dir()).start();
    let url = server.url();
    let t = Arc::new(transport());
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let (t, url, dir) = (Arc::clone(&t), url.clone(), repo.tree.path("cache/index"));
            std::thread::spawn(move || {
                let cache = IndexCache::new(dir, Duration::from_secs(600));
                repo::fetch_index(&t, &no_creds(), &cache, &url).map(|i| versions(&i, "demo"))
            })
        })
        .collect();
    for th in threads {
        assert_eq!(th.join().unwrap().unwrap(), ["0.1.0"]);
    }
    assert_eq!(statuses(&server, "/index.yaml"), [200]);
}

#[test]
fn offline_uses_the_cache_of_any_age_and_fails_without_one() {
    let repo = Repo::new();
    repo.package("demo", "0.1.0", "");
    repo.index(None);
    let server = Nginx::serve(repo.dir()).start();
    let url = server.url();
    let expired = cache(&repo.tree, Duration::ZERO);
    repo::fetch_index(&transport(), &no_creds(), &expired, &url).unwrap();

    let offline = transport_with(TransportOptions {
        offline: true,
        ..TransportOptions::default()
    });
    let index = repo::fetch_index(&offline, &no_creds(), &expired, &url).expect("cached");
    assert_eq!(versions(&index, "demo"), ["0.1.0"]);
    assert_eq!(server.requests().len(), 1);

    let empty = Tree::new();
    let err = repo::fetch_index(&offline, &no_creds(), &cache(&empty, Duration::ZERO), &url)
        .expect_err("no cache");
    assert!(matches!(err, RepoError::OfflineNoCache { .. }), "{err:?}");
    assert!(err.to_string().contains(&url), "{err}");

    let entry = &index.versions("demo")[0];
    let err = repo::download(&offline, &no_creds(), &url, &repo::archive_url(&url, entry))
        .expect_err("offline download");
    assert!(err.to_string().contains("offline"), "{err}");
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn server_down_is_a_clear_error() {
    let repo = Repo::new();
    let mut server = Nginx::serve(repo.dir()).start();
    let url = format!("{}/charts", server.url());
    server.stop();
    let t = transport_with(TransportOptions {
        retries: 1,
        ..TransportOptions::default()
    });
    let err = repo::fetch_index(&t, &no_creds(), &cache(&repo.tree, Duration::ZERO), &url)
        .expect_err("nothing listens");
    let text = err.to_string();
    assert!(
        text.starts_with(&format!(
            "cannot fetch the index of chart repository {url}: cannot connect to {url}/index.yaml"
        )),
        "{text}"
    );
    assert!(text.to_lowercase().contains("refused"), "{text}");
}

#[test]
fn missing_index_and_5xx_retries() {
    let repo = Repo::new();
    let server = Nginx::serve(repo.dir())
        .extra("location = /flaky/index.yaml { return 503; }")
        .start();
    let t = transport_with(TransportOptions {
        retries: 2,
        ..TransportOptions::default()
    });
    let err = repo::fetch_index(
        &t,
        &no_creds(),
        &cache(&repo.tree, Duration::ZERO),
        &format!("{}/flaky", server.url()),
    )
    .expect_err("503");
    assert!(err.to_string().contains("HTTP 503"), "{err}");
    assert_eq!(statuses(&server, "/flaky/index.yaml"), [503, 503, 503]);

    let err = repo::fetch_index(
        &t,
        &no_creds(),
        &cache(&repo.tree, Duration::ZERO),
        &format!("{}/nothing/", server.url()),
    )
    .expect_err("404");
    assert!(err.to_string().contains("HTTP 404"), "{err}");
    assert_eq!(
        statuses(&server, "/nothing/index.yaml"),
        [404],
        "4xx is final"
    );
}

#[test]
fn relative_and_absolute_archive_urls() {
    let repo = Repo::new();
    repo.package("top", "1.0.0", "");
    repo.package("nested", "1.0.0", "stable");
    repo.index(None);
    let server = Nginx::serve(repo.dir()).start();
    let url = format!("{}/", server.url());
    let t = transport();
    let index =
        repo::fetch_index(&t, &no_creds(), &cache(&repo.tree, Duration::ZERO), &url).unwrap();
    let nested = &index.versions("nested")[0];
    assert_eq!(nested.urls, ["stable/nested-1.0.0.tgz"]);
    let archive = repo::archive_url(&url, nested);
    assert_eq!(archive, format!("{}/stable/nested-1.0.0.tgz", server.url()));
    let bytes = repo::download(&t, &no_creds(), &url, &archive).unwrap();
    assert_eq!(Some(hex::encode(Sha256::digest(&bytes))), nested.digest);

    // Served from a sub-path, indexed with absolute URLs.
    let base = format!("{}/abs", server.url());
    let abs = Repo::new();
    abs.package("absolute", "2.0.0", "");
    abs.index(Some(&base));
    std::fs::rename(abs.dir(), repo.dir().join("abs")).unwrap();
    let index =
        repo::fetch_index(&t, &no_creds(), &cache(&repo.tree, Duration::ZERO), &base).unwrap();
    let entry = &index.versions("absolute")[0];
    let archive = repo::archive_url("https://elsewhere.invalid/", entry);
    assert_eq!(archive, format!("{base}/absolute-2.0.0.tgz"));
    repo::download(&t, &no_creds(), &base, &archive).unwrap();
    let err =
        repo::download(&t, &no_creds(), &base, &format!("{base}/missing-1.tgz")).expect_err("404");
    assert!(err.to_string().contains("HTTP 404"), "{err}");
}

#[test]
fn credentials_never_go_to_another_host() {
    let repo = Repo::new();
    repo.package("demo", "0.1.0", "");
    let cdn = Nginx::serve(repo.dir()).start();
    repo.index(Some(&cdn.url()));
    let origin = Nginx::serve(repo.dir()).basic_auth(USER, PASSWORD).start();
    let url = origin.url();
    let creds = env_creds(&url, USER, PASSWORD, None);
    let t = transport();
    let index = repo::fetch_index(&t, &creds, &cache(&repo.tree, Duration::ZERO), &url).unwrap();
    let archive = repo::archive_url(&url, &index.versions("demo")[0]);
    assert!(archive.starts_with(&cdn.url()), "{archive}");
    repo::download(&t, &creds, &url, &archive).unwrap();
    let requests = cdn.requests();
    assert_eq!(requests.len(), 1);
    assert!(!requests[0].authorization, "{requests:?}");
    assert!(origin.requests().iter().all(|r| r.user == USER));
}

#[test]
fn client_certificate_from_an_argocd_repository_secret() {
    let repo = Repo::new();
    repo.package("demo", "0.1.0", "");
    repo.index(None);
    let tls = Tls::generate();
    let (cert, key) = tls.client_cert("strata-client");
    let server = Nginx::serve(repo.dir())
        .tls(&tls)
        .require_client_cert()
        .start();
    let url = server.url();

    // A mounted Secret: key files are symlinks into the `..data` directory.
    let mounts = Tree::new();
    let data = mounts.mkdir("repo-secret/..2025_01_01_00_00_00.1");
    std::fs::write(data.join("url"), format!("{url}\n")).unwrap();
    std::fs::write(data.join("type"), "helm").unwrap();
    std::fs::copy(&cert, data.join("tlsClientCertData")).unwrap();
    std::fs::copy(&key, data.join("tlsClientCertKey")).unwrap();
    let secret = mounts.path("repo-secret");
    std::os::unix::fs::symlink("..2025_01_01_00_00_00.1", secret.join("..data")).unwrap();
    for k in ["url", "type", "tlsClientCertData", "tlsClientCertKey"] {
        std::os::unix::fs::symlink(format!("..data/{k}"), secret.join(k)).unwrap();
    }
    let creds = CredentialStore::from_sources(&CredentialSources {
        argocd_repositories_dir: Some(mounts.root().to_path_buf()),
        ..CredentialSources::default()
    })
    .unwrap();
    let t = transport_with(TransportOptions {
        ca_file: Some(tls.ca_pem.clone()),
        retries: 0,
        ..TransportOptions::default()
    });
    let index = repo::fetch_index(&t, &creds, &cache(&repo.tree, Duration::ZERO), &url)
        .expect("index with a client certificate");
    assert_eq!(versions(&index, "demo"), ["0.1.0"]);

    let err = repo::fetch_index(&t, &no_creds(), &cache(&Tree::new(), Duration::ZERO), &url)
        .expect_err("no client certificate");
    assert!(err.to_string().contains("HTTP 400"), "{err}");
}

/// A realistic index.yaml (Bitnami-like entries) of at least `min_bytes`.
fn large_index(min_bytes: usize) -> String {
    let mut out = String::with_capacity(min_bytes + 4096);
    out.push_str("apiVersion: v1\nentries:\n");
    let mut chart = 0;
    while out.len() < min_bytes {
        let name = format!("chart-{chart:04}");
        out.push_str(&format!("  {name}:\n"));
        for v in 0..60 {
            let version = format!("{}.{}.{}", v / 20 + 1, v % 20, chart % 7);
            let digest = hex::encode(Sha256::digest(format!("{name}{version}")));
            out.push_str(&format!(
                r#"  - annotations:
      category: Infrastructure
      images: |
        - name: {name}
          image: docker.io/example/{name}:{version}-debian-12-r0
      licenses: Apache-2.0
    apiVersion: v2
    appVersion: {version}
    created: "2024-05-01T10:11:12.123456789Z"
    dependencies:
    - name: common
      repository: oci://registry.example.com/charts
      tags:
      - example-common
      version: 2.x.x
    description: A generated chart that measures how fast a large repository index parses.
    digest: {digest}
    home: https://example.com/charts/{name}
    icon: https://example.com/icons/{name}.svg
    keywords:
    - generated
    - benchmark
    maintainers:
    - name: Example Maintainers
      url: https://example.com/maintainers
    name: {name}
    sources:
    - https://example.com/src/{name}
    urls:
    - https://charts.example.com/{name}-{version}.tgz
    version: {version}
"#
            ));
        }
        chart += 1;
    }
    out.push_str("generated: \"2024-05-01T10:11:12Z\"\n");
    out
}

#[test]
fn a_20_mb_index_parses() {
    let repo = Repo::new();
    let text = large_index(20 * 1024 * 1024);
    std::fs::write(repo.dir().join("index.yaml"), &text).unwrap();
    let server = Nginx::serve(repo.dir()).start();
    let started = Instant::now();
    let index = repo::fetch_index(
        &transport(),
        &no_creds(),
        &cache(&repo.tree, Duration::from_secs(60)),
        &server.url(),
    )
    .expect("large index");
    let elapsed = started.elapsed();
    let charts = index.chart_names().count();
    assert_eq!(index.versions("chart-0000").len(), 60);
    assert_eq!(index.versions("chart-0000")[59].version, "3.19.0");
    eprintln!(
        "{:.1} MB index ({charts} charts, {} versions): fetched, parsed and cached in {elapsed:.2?}",
        text.len() as f64 / 1e6,
        charts * 60
    );
}
