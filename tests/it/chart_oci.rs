//! OCI chart pulls through the library API against a real registry (Docker distribution),
//! with charts pushed by the real helm: tag listing and `+` ↔ `_` mapping, pagination,
//! manifest and layer digests, Basic auth over TLS, the token flow, and the errors users see
//! when credentials, tokens, storage or the network are wrong.
//!
//! Helm 3 cannot push to a TLS registry on a loopback address (it always talks plain HTTP to
//! localhost), so the TLS registries get their charts from helm 4 and the plain-HTTP test
//! pushes with helm 3.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::common::Helm;
use crate::common::registry::{
    IDENTITY_TOKEN, PASSWORD, REDIRECTED_LAYER, RedirectingRegistry, Registry, RegistryAuth,
    StubRequest, StubResponse, StubServer, TokenMode,
};
use crate::common::servers::free_port;
use sha2::{Digest, Sha256};
use strata::chart::credentials::{CredentialSources, CredentialStore};
use strata::chart::oci::{OciClient, OciError, OciRepository};
use strata::chart::transport::{Transport, TransportOptions};

const WRONG_PASSWORD: &str = "wrong-Pw-4Kd9";

/// A transport that fails fast: no retries against a registry that is not there.
fn transport(ca_file: Option<PathBuf>) -> Transport {
    Transport::new(TransportOptions {
        ca_file,
        retries: 0,
        timeout: Duration::from_secs(20),
        ..TransportOptions::default()
    })
    .expect("transport")
}

/// Credentials for `url` as `STRATA_REPO_1_*` variables would give them.
fn credentials(url: &str, password: &str, ca_file: Option<PathBuf>) -> CredentialStore {
    let mut env = vec![
        ("STRATA_REPO_1_URL".to_owned(), url.to_owned()),
        (
            "STRATA_REPO_1_USERNAME".to_owned(),
            crate::common::registry::USER.to_owned(),
        ),
        ("STRATA_REPO_1_PASSWORD".to_owned(), password.to_owned()),
    ];
    if let Some(ca) = ca_file {
        env.push(("STRATA_REPO_1_CA_FILE".to_owned(), ca.display().to_string()));
    }
    CredentialStore::from_sources(&CredentialSources {
        env,
        ..CredentialSources::default()
    })
    .expect("credential store")
}

fn repository(registry: &Registry) -> OciRepository {
    OciRepository::parse(&registry.url(), false).expect("repository URL")
}

fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

fn sorted(mut versions: Vec<String>) -> Vec<String> {
    versions.sort();
    versions
}

/// Checks an error's message (and Debug form) names what it must and leaks no password.
#[track_caller]
fn assert_message(err: &OciError, needles: &[&str]) {
    let shown = format!("{err}\n{err:?}");
    for needle in needles {
        assert!(
            shown.contains(needle),
            "error should mention {needle:?}:\n{shown}"
        );
    }
    for secret in [PASSWORD, WRONG_PASSWORD] {
        assert!(!shown.contains(secret), "error leaks a password:\n{shown}");
    }
}

#[test]
fn basic_auth_over_tls_lists_resolves_and_fetches() {
    let registry = Registry::start(RegistryAuth::Htpasswd, true);
    let versions = ["1.0.0", "1.2.3+build.5", "2.0.0-rc.1"];
    let pushed: Vec<(PathBuf, String)> = versions
        .iter()
        .map(|v| registry.push_chart(Helm::V4, "demo", v))
        .collect();
    // The CA comes with the credential, as with a repository's own caFile.
    let creds = credentials(&registry.url(), PASSWORD, Some(registry.ca_file()));
    let transport = transport(None);
    let client = OciClient::new(&transport, &creds);
    let repo = repository(&registry);

    let listed = client.list_versions(&repo, "demo").expect("list versions");
    assert_eq!(sorted(listed), sorted(versions.map(String::from).to_vec()));

    let (archive, manifest_digest) = &pushed[1];
    let bytes = std::fs::read(archive).expect("read pushed archive");
    let chart = client
        .resolve(&repo, "demo", "1.2.3+build.5")
        .expect("resolve");
    assert_eq!(chart.version, "1.2.3+build.5");
    assert_eq!(&chart.manifest_digest, manifest_digest);
    assert_eq!(chart.layer_digest, sha256(&bytes));
    assert_eq!(chart.layer_size, bytes.len() as u64);
    assert_eq!(
        repo.reference("demo", "1.2.3+build.5"),
        format!("oci://{}/helm/demo:1.2.3_build.5", registry.host())
    );

    let layer = client
        .fetch_layer(&repo, "demo", &chart.layer_digest)
        .expect("fetch layer");
    assert!(
        layer == bytes,
        "fetched layer differs from the pushed archive"
    );

    let missing_chart = client.list_versions(&repo, "nothing").unwrap_err();
    assert!(
        matches!(missing_chart, OciError::ChartNotFound { .. }),
        "{missing_chart}"
    );
    assert_message(&missing_chart, &["helm/nothing", "not found"]);
    let missing_version = client.resolve(&repo, "demo", "9.9.9").unwrap_err();
    assert!(
        matches!(missing_version, OciError::VersionNotFound { .. }),
        "{missing_version}"
    );
    assert_message(&missing_version, &["helm/demo:9.9.9", "not found"]);
}

#[test]
fn basic_auth_failures_name_the_registry_and_credential_but_no_password() {
    let registry = Registry::start(RegistryAuth::Htpasswd, true);
    registry.push_chart(Helm::V4, "demo", "1.0.0");
    let transport = transport(Some(registry.ca_file()));
    let repo = repository(&registry);
    let host = registry.host();
    let registry_named = format!("authentication failed for registry {host}");

    let wrong = credentials(&registry.url(), WRONG_PASSWORD, None);
    let err = OciClient::new(&transport, &wrong)
        .list_versions(&repo, "demo")
        .unwrap_err();
    assert!(matches!(err, OciError::AuthFailed { .. }), "{err}");
    assert_message(
        &err,
        &[
            &registry_named,
            "environment STRATA_REPO_1_URL",
            "rejected the username or password",
        ],
    );

    let none = CredentialStore::default();
    let err = OciClient::new(&transport, &none)
        .resolve(&repo, "demo", "1.0.0")
        .unwrap_err();
    assert_message(&err, &[&registry_named, "(no credentials)"]);
}

#[test]
fn helm_registry_login_is_used() {
    let registry = Registry::start(RegistryAuth::Htpasswd, true);
    registry.push_chart(Helm::V4, "demo", "0.1.0");
    let config = registry.helm_login(Helm::V4);
    let creds = CredentialStore::from_sources(&CredentialSources {
        registry_configs: vec![config],
        ..CredentialSources::default()
    })
    .expect("credential store");
    let transport = transport(Some(registry.ca_file()));
    let versions = OciClient::new(&transport, &creds)
        .list_versions(&repository(&registry), "demo")
        .expect("list with helm's login");
    assert_eq!(versions, ["0.1.0"]);
}

#[test]
fn token_auth_gets_one_token_per_repository() {
    let registry = Registry::start(RegistryAuth::Token, true);
    let (archive, manifest_digest) = registry.push_chart(Helm::V4, "demo", "1.0.0+meta");
    let tokens = registry.token_server();
    let before = tokens.issued();
    let creds = credentials(&registry.url(), PASSWORD, None);
    let transport = transport(Some(registry.ca_file()));
    let client = OciClient::new(&transport, &creds);
    let repo = repository(&registry);

    assert_eq!(
        client.list_versions(&repo, "demo").expect("list"),
        ["1.0.0+meta"]
    );
    let chart = client
        .resolve(&repo, "demo", "1.0.0+meta")
        .expect("resolve");
    assert_eq!(chart.manifest_digest, manifest_digest);
    let layer = client
        .fetch_layer(&repo, "demo", &chart.layer_digest)
        .expect("fetch layer");
    assert!(
        layer == std::fs::read(&archive).unwrap(),
        "layer differs from the archive"
    );
    assert_eq!(
        tokens.issued() - before,
        1,
        "the pull token should be reused"
    );
    assert!(!format!("{client:?}").contains(PASSWORD));

    // Token services may answer in OAuth2 form (`access_token`).
    tokens.set_mode(TokenMode::AccessTokenField);
    let fresh = OciClient::new(&transport, &creds);
    assert_eq!(
        fresh.list_versions(&repo, "demo").expect("list"),
        ["1.0.0+meta"]
    );
}

#[test]
fn token_auth_failures_are_clear() {
    let registry = Registry::start(RegistryAuth::Token, true);
    registry.push_chart(Helm::V4, "demo", "1.0.0");
    let transport = transport(Some(registry.ca_file()));
    let repo = repository(&registry);
    let registry_named = format!("authentication failed for registry {}", registry.host());
    let tokens = registry.token_server();

    let wrong = credentials(&registry.url(), WRONG_PASSWORD, None);
    let err = OciClient::new(&transport, &wrong)
        .list_versions(&repo, "demo")
        .unwrap_err();
    assert_message(
        &err,
        &[
            &registry_named,
            "environment STRATA_REPO_1_URL",
            "token service",
            "rejected the credentials",
        ],
    );
    assert!(tokens.refused() >= 1);

    let none = CredentialStore::default();
    let err = OciClient::new(&transport, &none)
        .list_versions(&repo, "demo")
        .unwrap_err();
    assert_message(
        &err,
        &[&registry_named, "(no credentials)", "anonymous access"],
    );

    let right = credentials(&registry.url(), PASSWORD, None);
    tokens.set_mode(TokenMode::NoAccess);
    let err = OciClient::new(&transport, &right)
        .list_versions(&repo, "demo")
        .unwrap_err();
    assert_message(&err, &[&registry_named, "granted no pull access"]);

    tokens.set_mode(TokenMode::Expired);
    let err = OciClient::new(&transport, &right)
        .resolve(&repo, "demo", "1.0.0")
        .unwrap_err();
    assert_message(&err, &[&registry_named, "token expired or rejected"]);
}

#[test]
fn tampered_storage_is_detected() {
    let registry = Registry::start(RegistryAuth::None, true);
    registry.push_chart(Helm::V4, "demo", "1.0.0");
    let transport = transport(Some(registry.ca_file()));
    let creds = CredentialStore::default();
    let client = OciClient::new(&transport, &creds);
    let repo = repository(&registry);
    let chart = client.resolve(&repo, "demo", "1.0.0").expect("resolve");

    // A digest the registry does not have: nothing to download.
    let unknown = sha256(b"not a chart");
    let err = client.fetch_layer(&repo, "demo", &unknown).unwrap_err();
    assert!(matches!(err, OciError::BlobNotFound { .. }), "{err}");

    // Same length, one byte changed: the registry serves it, strata must refuse it.
    let layer_file = registry.blob_data(&chart.layer_digest);
    let mut bytes = std::fs::read(&layer_file).expect("read stored layer");
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&layer_file, &bytes).expect("tamper layer");
    let err = client
        .fetch_layer(&repo, "demo", &chart.layer_digest)
        .unwrap_err();
    let OciError::DigestMismatch {
        expected, found, ..
    } = &err
    else {
        panic!("expected a digest mismatch, got {err}");
    };
    assert_eq!(expected, &chart.layer_digest);
    assert_eq!(found, &sha256(&bytes));
    assert_message(&err, &["chart layer", &chart.layer_digest, &sha256(&bytes)]);

    // The manifest: still valid JSON, but not what the tag's digest says.
    let manifest_file = registry.blob_data(&chart.manifest_digest);
    let manifest = std::fs::read_to_string(&manifest_file).expect("read stored manifest");
    assert!(manifest.contains("strata test chart"), "{manifest}");
    std::fs::write(
        &manifest_file,
        manifest.replace("strata test chart", "strata test chaRt"),
    )
    .expect("tamper manifest");
    let err = client.resolve(&repo, "demo", "1.0.0").unwrap_err();
    assert!(
        matches!(
            err,
            OciError::DigestMismatch {
                what: "manifest",
                ..
            }
        ),
        "{err}"
    );
    assert_message(&err, &["manifest", &chart.manifest_digest]);
}

#[test]
fn plain_http_registry_with_a_helm3_push() {
    let registry = Registry::start(RegistryAuth::None, false);
    let (archive, manifest_digest) = registry.push_chart(Helm::V3, "plain", "3.1.4");
    let repo = OciRepository::parse(&registry.url(), true).expect("repository URL");
    let transport = transport(None);
    let creds = CredentialStore::default();
    let client = OciClient::new(&transport, &creds);
    assert_eq!(
        client.list_versions(&repo, "plain").expect("list"),
        ["3.1.4"]
    );
    let chart = client.resolve(&repo, "plain", "3.1.4").expect("resolve");
    assert_eq!(chart.manifest_digest, manifest_digest);
    let layer = client
        .fetch_layer(&repo, "plain", &chart.layer_digest)
        .expect("fetch layer");
    assert!(
        layer == std::fs::read(&archive).unwrap(),
        "layer differs from the archive"
    );
}

#[test]
fn unreachable_registry_and_offline_mode_are_clear() {
    let host = format!("127.0.0.1:{}", free_port());
    let repo = OciRepository::parse(&format!("oci://{host}/helm"), false).unwrap();
    let creds = CredentialStore::default();

    let transport = transport(None);
    let err = OciClient::new(&transport, &creds)
        .list_versions(&repo, "demo")
        .unwrap_err();
    assert!(matches!(err, OciError::Transport { .. }), "{err}");
    assert_message(
        &err,
        &[
            &format!("request to registry {host} failed"),
            "cannot connect",
        ],
    );

    let offline = Transport::new(TransportOptions {
        offline: true,
        ..TransportOptions::default()
    })
    .unwrap();
    let err = OciClient::new(&offline, &creds)
        .resolve(&repo, "demo", "1.0.0")
        .unwrap_err();
    assert_message(&err, &[&format!("registry {host}"), "offline"]);
}

/// Distribution 2.8 returns a whole tag list at once, so paging is checked against a stub
/// that pages like larger registries do: `n` per page (2 unless asked), `Link` to the next.
fn paged_tags(request: &StubRequest, pages_served: &AtomicUsize) -> StubResponse {
    const TAGS: [&str; 5] = ["0.9.0", "1.0.0", "1.1.0-rc.1", "1.2.0_build.7", "latest"];
    pages_served.fetch_add(1, Ordering::SeqCst);
    let param = |name: &str| {
        request
            .query
            .split('&')
            .find_map(|pair| pair.strip_prefix(&format!("{name}=")))
            .map(str::to_owned)
    };
    let next = |link: String| StubResponse {
        headers: vec![("Link".into(), format!("<{link}>; rel=\"next\""))],
        ..StubResponse::json(200, r#"{"name":"helm/x","tags":["9.9.9"]}"#)
    };
    match request.path.as_str() {
        "/v2/helm/paged/tags/list" => {}
        "/v2/helm/elsewhere/tags/list" => return next("http://127.0.0.1:9/v2/x/tags/list".into()),
        "/v2/helm/loop/tags/list" => return next("/v2/helm/loop/tags/list".into()),
        _ => return StubResponse::json(404, r#"{"errors":[{"code":"NAME_UNKNOWN"}]}"#),
    }
    let n: usize = param("n").and_then(|n| n.parse().ok()).unwrap_or(2);
    let start = param("last").map_or(0, |last| TAGS.iter().position(|t| *t == last).unwrap() + 1);
    let page = &TAGS[start..(start + n).min(TAGS.len())];
    let body = serde_json::json!({"name": "helm/paged", "tags": page}).to_string();
    let mut response = StubResponse::json(200, body);
    if start + n < TAGS.len() {
        let link = format!(
            "</v2/helm/paged/tags/list?last={}&n={n}>; rel=\"next\"",
            page[n - 1]
        );
        response.headers.push(("Link".into(), link));
    }
    response
}

#[test]
fn tag_lists_are_followed_across_pages() {
    let pages = Arc::new(AtomicUsize::new(0));
    let server = {
        let pages = Arc::clone(&pages);
        StubServer::start(move |request| paged_tags(request, &pages))
    };
    let repo = OciRepository::parse(&format!("oci://{}/helm", server.host()), true).unwrap();
    let transport = transport(None);
    let creds = CredentialStore::default();
    let expected = ["0.9.0", "1.0.0", "1.1.0-rc.1", "1.2.0+build.7", "latest"];

    let client = OciClient::new(&transport, &creds);
    assert_eq!(client.list_versions(&repo, "paged").unwrap(), expected);
    assert_eq!(pages.swap(0, Ordering::SeqCst), 3, "two tags per page");

    let client = OciClient::new(&transport, &creds).with_page_size(4);
    assert_eq!(client.list_versions(&repo, "paged").unwrap(), expected);
    assert_eq!(pages.load(Ordering::SeqCst), 2, "four tags per page");

    let err = client.list_versions(&repo, "elsewhere").unwrap_err();
    assert_message(&err, &["next-page link", "leaves the registry"]);
    let err = client.list_versions(&repo, "loop").unwrap_err();
    assert_message(&err, &["pagination links repeat"]);
}

/// A registry whose token service can revoke what it issued: only the latest token works.
#[derive(Default)]
struct RevokingRegistry {
    issued: usize,
    accepted: Option<String>,
}

fn revoking(request: &StubRequest, state: &Mutex<RevokingRegistry>) -> StubResponse {
    let mut state = state.lock().unwrap();
    if request.path == "/token" {
        state.issued += 1;
        let token = format!("token-{}", state.issued);
        state.accepted = Some(token.clone());
        return StubResponse::json(200, serde_json::json!({ "token": token }).to_string());
    }
    let expected = state.accepted.as_ref().map(|t| format!("Bearer {t}"));
    if request.authorization.is_some() && request.authorization == expected {
        return StubResponse::json(200, r#"{"name":"helm/demo","tags":["1.0.0"]}"#);
    }
    let challenge = format!(
        r#"Bearer realm="http://{}/token",service="stub",scope="repository:helm/demo:pull""#,
        request.host
    );
    StubResponse {
        headers: vec![("WWW-Authenticate".into(), challenge)],
        ..StubResponse::json(401, r#"{"errors":[{"code":"UNAUTHORIZED"}]}"#)
    }
}

#[test]
fn a_rejected_token_is_replaced_once() {
    let state = Arc::new(Mutex::new(RevokingRegistry::default()));
    let server = {
        let state = Arc::clone(&state);
        StubServer::start(move |request| revoking(request, &state))
    };
    let repo = OciRepository::parse(&format!("oci://{}/helm", server.host()), true).unwrap();
    let transport = transport(None);
    let creds = CredentialStore::default();
    let client = OciClient::new(&transport, &creds);

    assert_eq!(client.list_versions(&repo, "demo").unwrap(), ["1.0.0"]);
    assert_eq!(client.list_versions(&repo, "demo").unwrap(), ["1.0.0"]);
    assert_eq!(
        state.lock().unwrap().issued,
        1,
        "the token is reused while it works"
    );

    state.lock().unwrap().accepted = None;
    assert_eq!(client.list_versions(&repo, "demo").unwrap(), ["1.0.0"]);
    assert_eq!(
        state.lock().unwrap().issued,
        2,
        "a rejected token is replaced"
    );
}

/// A registry that redirects chart downloads to a storage host, which answers 401 naming a
/// token service of its own: strata sends that service nothing (neither the password nor the
/// identity token) and fails with one message naming the registry and the storage host.
#[test]
fn a_redirect_target_s_challenge_gets_no_credentials() {
    let registry = RedirectingRegistry::start();
    let repo = OciRepository::parse(&registry.url(), true).unwrap();
    let transport = transport(None);
    let dir = tempfile::tempdir().unwrap();
    let docker_config = dir.path().join("config.json");
    std::fs::write(
        &docker_config,
        format!(
            r#"{{"auths": {{"{}": {{"identitytoken": "{IDENTITY_TOKEN}"}}}}}}"#,
            registry.host()
        ),
    )
    .unwrap();
    let identity = CredentialStore::from_sources(&CredentialSources {
        registry_configs: vec![docker_config],
        ..CredentialSources::default()
    })
    .unwrap();
    let password = credentials(&registry.url(), PASSWORD, None);
    let layer = RedirectingRegistry::layer_digest();

    for (what, creds) in [("identity token", &identity), ("password", &password)] {
        let client = OciClient::new(&transport, creds);
        assert_eq!(
            client.list_versions(&repo, "web").unwrap(),
            ["1.0.0"],
            "{what}"
        );
        let chart = client.resolve(&repo, "web", "1.0.0").unwrap();
        assert_eq!(chart.layer_digest, layer);
        let err = client.fetch_layer(&repo, "web", &layer).unwrap_err();
        assert_eq!(
            registry.foreign(),
            Vec::<String>::new(),
            "{what}: the storage host's token service was contacted"
        );
        assert!(
            matches!(err, OciError::RedirectChallenge { .. }),
            "{what}: {err:?}"
        );
        assert_message(
            &err,
            &[
                &format!("registry {}", registry.host()),
                &format!(
                    "redirected a request for {}/web to http://127.0.0.1:",
                    registry.url()
                ),
                "answered HTTP 401",
                "none were sent",
            ],
        );
        let shown = format!("{err} {err:?}");
        for secret in [IDENTITY_TOKEN, "signed-url-part", "/blobs/"] {
            assert!(!shown.contains(secret), "{what}: {secret} shown: {shown}");
        }
    }

    // The same registry works once its storage serves the download without credentials.
    registry.open_storage();
    let client = OciClient::new(&transport, &identity);
    assert_eq!(
        client.fetch_layer(&repo, "web", &layer).unwrap(),
        REDIRECTED_LAYER
    );
    assert!(registry.foreign().is_empty());
}
