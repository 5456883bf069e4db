//! Helm charts stored in OCI registries, pulled over the Docker distribution HTTP API.
//!
//! Only the pull side exists, on top of the shared [`Transport`]: list a chart's tags, read the
//! manifest a version's tag points to, download the chart layer. It follows Helm's conventions
//! so that charts pushed with `helm push` work unchanged:
//!
//! - a chart version is a tag, with `+` written as `_` because tags cannot hold `+`;
//! - the manifest's config media type marks the artifact as a Helm chart;
//! - the chart archive is the layer with Helm's chart media type (or the legacy `tar+gzip` one
//!   written by Helm's early experimental OCI support).
//!
//! Authentication follows the registry's lead. A request goes out anonymously (or with what
//! already worked for the same repository), and a `401` names the scheme: `Bearer` sends us to
//! a token service, asked with the stored credentials (or anonymously), and `Basic` takes the
//! credentials directly. Credentials and tokens stay inside [`Secret`]s: they go into request
//! headers and nowhere else, so no error, log line or `Debug` output can show them.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::credentials::{Credential, CredentialStore};
use super::transport::url::{self, UrlParts};
use super::transport::{Auth, Response, Secret, Transport, TransportError};

/// The manifest type Helm pushes; asked for explicitly so registries do not convert it.
const MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
/// An image index can sit behind a tag too; it is never a chart.
const INDEX_MEDIA_TYPE: &str = "application/vnd.oci.image.index.v1+json";
/// The config media type that tells a Helm chart apart from any other artifact.
const HELM_CONFIG_MEDIA_TYPE: &str = "application/vnd.cncf.helm.config.v1+json";
/// The chart archive's layer type.
const HELM_CHART_MEDIA_TYPE: &str = "application/vnd.cncf.helm.chart.content.v1.tar+gzip";
/// The chart layer type of charts pushed by Helm's early experimental OCI support, which Helm
/// still accepts.
const LEGACY_CHART_MEDIA_TYPE: &str = "application/tar+gzip";

/// Upper bound on followed `Link` pages: a registry that keeps linking is broken, and the loop
/// must end.
const MAX_TAG_PAGES: usize = 10_000;
/// Token lifetime when the token service does not say: the distribution token specification's
/// minimum.
const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(60);
/// The OAuth2 `client_id` strata names itself with when it exchanges an identity token; token
/// services record it, none we know of restricts it.
const OAUTH_CLIENT_ID: &str = "strata";
/// A token is dropped this long before it expires, so it does not expire in flight.
const TOKEN_EXPIRY_MARGIN: Duration = Duration::from_secs(5);

/// Why talking to an OCI registry failed. Every message names the registry or reference at
/// fault; none contains a credential or token.
#[derive(Debug, thiserror::Error)]
pub enum OciError {
    #[error("invalid OCI repository URL {}: {reason}", crate::quote::quote(&crate::chart::transport::url::redact(.url)))]
    InvalidUrl { url: String, reason: &'static str },
    #[error("invalid chart {what} {} for an OCI registry: {reason}", crate::quote::quote(.value))]
    InvalidName {
        what: &'static str,
        value: String,
        reason: &'static str,
    },
    #[error("registry {registry} cannot be contacted in offline mode")]
    Offline { registry: String },
    #[error("request to registry {registry} failed: {source}")]
    Transport {
        registry: String,
        #[source]
        source: TransportError,
    },
    #[error("authentication failed for registry {registry} ({credential}): {detail}")]
    AuthFailed {
        registry: String,
        /// Where the credential came from, or `no credentials`.
        credential: String,
        detail: String,
    },
    #[error(
        "registry {registry} redirected a request for {chart} to {answered_by}, which answered HTTP 401: \
         registry credentials go to the registry only, so none were sent; the redirect target \
         must serve the download without credentials (check the registry's storage settings)"
    )]
    RedirectChallenge {
        registry: String,
        /// `oci://host/path/chart`.
        chart: String,
        /// `scheme://host[:port]` of the redirect target, nothing of its path or query.
        answered_by: String,
    },
    #[error("registry {registry} denied pull access to {repository} ({credential})")]
    AccessDenied {
        registry: String,
        repository: String,
        credential: String,
    },
    #[error("chart {reference} not found: the registry has no such repository")]
    ChartNotFound { reference: String },
    #[error("chart version {reference} not found: the registry has no such tag")]
    VersionNotFound { reference: String },
    #[error("chart layer {reference} not found in the registry")]
    BlobNotFound { reference: String },
    #[error("registry {registry} answered HTTP {status} to {request}{message}")]
    Status {
        registry: String,
        request: String,
        status: u16,
        /// The registry's own error text, prefixed with `: `, or empty.
        message: String,
    },
    #[error("registry {registry} sent an invalid response to {request}: {detail}")]
    InvalidResponse {
        registry: String,
        request: String,
        detail: String,
    },
    #[error("{reference} is not a Helm chart: {detail}")]
    NotAChart { reference: String, detail: String },
    #[error("unsupported digest {} (only sha256:<64 hex digits> is supported)", crate::quote::quote(.digest))]
    UnsupportedDigest { digest: String },
    #[error("digest mismatch for the {what} of {reference}: expected {expected}, found {found}")]
    DigestMismatch {
        what: &'static str,
        reference: String,
        expected: String,
        found: String,
    },
}

/// A place in a registry that holds charts: `oci://host[:port]/path`, each chart one
/// repository below it (`path/chart`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OciRepository {
    /// `host` or `host:port`.
    pub registry: String,
    /// Repository prefix without slashes at either end, e.g. `helm/charts`; may be empty.
    pub path: String,
    /// Talk HTTP instead of HTTPS (Helm's `--plain-http`), for local registries.
    pub plain_http: bool,
}

impl OciRepository {
    /// Parses `oci://host[:port][/path]`. Credentials in the URL are refused (and never
    /// echoed): they belong in the credential store.
    pub fn parse(url: &str, plain_http: bool) -> Result<Self, OciError> {
        let invalid = |reason| OciError::InvalidUrl {
            url: url::redact(url),
            reason,
        };
        let rest = url
            .strip_prefix("oci://")
            .ok_or_else(|| invalid("it must start with oci://"))?;
        let rest = rest.trim_end_matches('/');
        let (registry, path) = rest.split_once('/').unwrap_or((rest, ""));
        if registry.contains('@') {
            return Err(invalid(
                "credentials do not belong in the URL; configure them for the registry instead",
            ));
        }
        if rest.contains(['?', '#']) {
            return Err(invalid("it must not have a query or fragment"));
        }
        if !valid_registry(registry) {
            return Err(invalid("the registry must be host or host:port"));
        }
        if !path.is_empty() && !path.split('/').all(valid_path_component) {
            return Err(invalid(
                "path segments must be lowercase letters and digits, joined by '.', '_', '__' or '-'",
            ));
        }
        Ok(OciRepository {
            registry: registry.to_owned(),
            path: path.to_owned(),
            plain_http,
        })
    }

    /// The reference Helm would pull: `oci://host/path/chart:tag`, the tag being the version
    /// with `+` written as `_`.
    pub fn reference(&self, chart: &str, version: &str) -> String {
        format!("{}:{}", self.chart_url(chart), version_to_tag(version))
    }

    /// `oci://host/path/chart`: names the chart in messages and selects its credential.
    fn chart_url(&self, chart: &str) -> String {
        format!("oci://{}/{}", self.registry, self.repository(chart))
    }

    /// The registry repository holding `chart`'s versions.
    fn repository(&self, chart: &str) -> String {
        if self.path.is_empty() {
            chart.to_owned()
        } else {
            format!("{}/{chart}", self.path)
        }
    }

    /// `scheme://host[:port]`: where absolute-path links from the registry are resolved.
    fn origin(&self) -> String {
        let scheme = if self.plain_http { "http" } else { "https" };
        format!("{scheme}://{}", self.registry)
    }

    /// The distribution API URL of `repository`'s resource `rest` (`tags/list`, ...).
    fn api_url(&self, repository: &str, rest: &str) -> String {
        format!("{}/v2/{repository}/{rest}", self.origin())
    }
}

/// A chart version as the registry stores it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OciChart {
    pub version: String,
    /// `sha256:<hex>` of the manifest the version's tag pointed to.
    pub manifest_digest: String,
    /// `sha256:<hex>` of the chart archive (the chart layer).
    pub layer_digest: String,
    pub layer_size: u64,
}

/// Pulls charts from OCI registries. Keep one per process: it remembers which authentication
/// worked for each repository (and the tokens obtained), so later requests skip the `401`
/// round trip and the token service.
pub struct OciClient<'a> {
    transport: &'a Transport,
    creds: &'a CredentialStore,
    page_size: Option<usize>,
    sessions: Mutex<HashMap<SessionKey, Session>>,
}

/// Authentication is negotiated per registry and pull scope, the unit tokens are issued for.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct SessionKey {
    registry: String,
    scope: String,
}

/// What worked last time for a [`SessionKey`].
enum Session {
    /// Send the stored credential (looked up again for every request).
    Basic,
    /// Send this token until shortly before it expires.
    Bearer { token: Secret, until: Instant },
}

/// One chart repository in one registry: everything a request needs to authenticate and to
/// name what failed.
struct Target<'r> {
    repo: &'r OciRepository,
    chart: &'r str,
    repository: String,
    key: SessionKey,
}

impl<'r> Target<'r> {
    fn new(repo: &'r OciRepository, chart: &'r str) -> Result<Self, OciError> {
        if !valid_path_component(chart) {
            return Err(OciError::InvalidName {
                what: "name",
                value: chart.to_owned(),
                reason: "a chart in a registry must be lowercase letters and digits, joined by '.', '_', '__' or '-'",
            });
        }
        let repository = repo.repository(chart);
        let key = SessionKey {
            registry: repo.registry.clone(),
            scope: format!("repository:{repository}:pull"),
        };
        Ok(Target {
            repo,
            chart,
            repository,
            key,
        })
    }

    fn registry(&self) -> &str {
        &self.repo.registry
    }
}

impl fmt::Debug for OciClient<'_> {
    /// Shows which scopes hold a session, never the tokens.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sessions = self.sessions.lock().unwrap_or_else(PoisonError::into_inner);
        let mut scopes: Vec<String> = sessions
            .keys()
            .map(|k| format!("{} {}", k.registry, k.scope))
            .collect();
        scopes.sort();
        f.debug_struct("OciClient")
            .field("page_size", &self.page_size)
            .field("sessions", &scopes)
            .finish_non_exhaustive()
    }
}

impl<'a> OciClient<'a> {
    pub fn new(transport: &'a Transport, creds: &'a CredentialStore) -> Self {
        OciClient {
            transport,
            creds,
            page_size: None,
            sessions: Mutex::new(HashMap::new()),
        }
    }

    /// Asks for tag lists in pages of `n` (the `n` parameter). By default the registry's own
    /// page size applies, which is what Helm does too; registries that page anyway are
    /// followed through their `Link` headers either way.
    pub fn with_page_size(mut self, n: usize) -> Self {
        self.page_size = Some(n.max(1));
        self
    }

    /// All chart versions published as tags (`_` in a tag maps back to `+`), following
    /// `Link: <...>; rel="next"` pagination. Tags that are not versions (`latest`) are returned
    /// too; version selection ignores them.
    pub fn list_versions(
        &self,
        repo: &OciRepository,
        chart: &str,
    ) -> Result<Vec<String>, OciError> {
        let target = Target::new(repo, chart)?;
        self.check_online(&target)?;
        let mut url = repo.api_url(&target.repository, "tags/list");
        if let Some(n) = self.page_size {
            url.push_str(&format!("?n={n}"));
        }
        let mut versions = Vec::new();
        let mut visited = HashSet::new();
        while visited.insert(url.clone()) {
            if visited.len() > MAX_TAG_PAGES {
                break;
            }
            let request = "the tag list";
            let response = self.get(&target, &url, Some("application/json"))?;
            match response.status {
                200 => {}
                404 => {
                    return Err(OciError::ChartNotFound {
                        reference: repo.chart_url(chart),
                    });
                }
                _ => return Err(self.unexpected(&target, request, &response)),
            }
            let page: TagList =
                serde_json::from_slice(&response.body).map_err(|e| OciError::InvalidResponse {
                    registry: repo.registry.clone(),
                    request: request.to_owned(),
                    detail: e.to_string(),
                })?;
            versions.extend(
                page.tags
                    .unwrap_or_default()
                    .iter()
                    .map(|t| tag_to_version(t)),
            );
            match next_page(&response, &url) {
                Ok(Some(next)) => url = next,
                Ok(None) => return Ok(versions),
                Err(detail) => {
                    return Err(OciError::InvalidResponse {
                        registry: repo.registry.clone(),
                        request: request.to_owned(),
                        detail,
                    });
                }
            }
        }
        Err(OciError::InvalidResponse {
            registry: repo.registry.clone(),
            request: "the tag list".to_owned(),
            detail: "its pagination links repeat or never end".to_owned(),
        })
    }

    /// The manifest a version's tag points to (the tag is the version with `+` written as
    /// `_`), checked to be a Helm chart. Returns the manifest's digest (the sha256 of the bytes
    /// received, which must equal the registry's `Docker-Content-Digest` when it sends one)
    /// and the chart layer's digest and size.
    pub fn resolve(
        &self,
        repo: &OciRepository,
        chart: &str,
        version: &str,
    ) -> Result<OciChart, OciError> {
        let target = Target::new(repo, chart)?;
        let tag = checked_tag(version)?;
        self.check_online(&target)?;
        let reference = repo.reference(chart, version);
        let url = repo.api_url(&target.repository, &format!("manifests/{tag}"));
        let response = self.get(&target, &url, Some(MANIFEST_MEDIA_TYPE))?;
        match response.status {
            200 => {}
            404 => return Err(OciError::VersionNotFound { reference }),
            _ => return Err(self.unexpected(&target, "the manifest request", &response)),
        }
        let manifest_digest = sha256_digest(&response.body);
        if let Some(claimed) = response.header("docker-content-digest")
            && claimed.starts_with("sha256:")
            && claimed != manifest_digest
        {
            return Err(OciError::DigestMismatch {
                what: "manifest",
                reference,
                expected: claimed.to_owned(),
                found: manifest_digest,
            });
        }
        let layer = chart_layer(&response.body).map_err(|detail| OciError::NotAChart {
            reference: reference.clone(),
            detail,
        })?;
        check_digest(&layer.digest)?;
        Ok(OciChart {
            version: version.to_owned(),
            manifest_digest,
            layer_digest: layer.digest,
            layer_size: layer.size,
        })
    }

    /// Downloads a blob by digest and verifies its sha256 (error: expected vs found digest).
    pub fn fetch_layer(
        &self,
        repo: &OciRepository,
        chart: &str,
        layer_digest: &str,
    ) -> Result<Vec<u8>, OciError> {
        let target = Target::new(repo, chart)?;
        check_digest(layer_digest)?;
        self.check_online(&target)?;
        let reference = format!("{}@{layer_digest}", repo.chart_url(chart));
        let url = repo.api_url(&target.repository, &format!("blobs/{layer_digest}"));
        // A redirect to blob storage is followed by the transport, which never forwards the
        // Authorization header there.
        let response = self.get(&target, &url, None)?;
        match response.status {
            200 => {}
            404 => return Err(OciError::BlobNotFound { reference }),
            _ => return Err(self.unexpected(&target, "the chart layer download", &response)),
        }
        let found = sha256_digest(&response.body);
        if found != layer_digest {
            return Err(OciError::DigestMismatch {
                what: "chart layer",
                reference,
                expected: layer_digest.to_owned(),
                found,
            });
        }
        Ok(response.body)
    }

    fn check_online(&self, target: &Target) -> Result<(), OciError> {
        if self.transport.offline() {
            return Err(OciError::Offline {
                registry: target.registry().to_owned(),
            });
        }
        Ok(())
    }

    /// GET with authentication: what worked before for this scope, else anonymous; on a `401`
    /// the registry's challenge decides, and the request is retried once.
    fn get(&self, target: &Target, url: &str, accept: Option<&str>) -> Result<Response, OciError> {
        let headers: Vec<(&str, String)> = accept
            .map(|a| ("accept", a.to_owned()))
            .into_iter()
            .collect();
        let remembered = self.remembered_auth(target);
        let response = self.send(target, url, &headers, remembered.as_ref())?;
        if response.status != 401 {
            return Ok(response);
        }
        self.check_challenger(target, url, &response)?;
        if remembered.is_some() {
            // The token expired or the credential changed: negotiate again, once.
            self.forget(target);
        }
        let (auth, session) = match Challenge::from_response(&response) {
            Some(Challenge::Bearer(params)) => {
                let (token, until) = self.fetch_token(target, &params)?;
                (
                    Auth::Bearer(token.clone()),
                    Session::Bearer { token, until },
                )
            }
            Some(Challenge::Basic) => match self.credential(target).and_then(Credential::auth) {
                Some(auth @ Auth::Basic { .. }) => (auth, Session::Basic),
                Some(Auth::Bearer(_)) => {
                    return Err(self.auth_failed(
                        target,
                        "the registry asks for a username and password, and the credential holds a token",
                    ));
                }
                None => {
                    return Err(
                        self.auth_failed(target, "the registry requires a username and password")
                    );
                }
            },
            None => {
                return Err(self.auth_failed(
                    target,
                    "the registry answered 401 without a usable WWW-Authenticate challenge",
                ));
            }
        };
        let response = self.send(target, url, &headers, Some(&auth))?;
        if response.status == 401 {
            self.check_challenger(target, url, &response)?;
            return Err(self.auth_failed(target, rejection(&session, &response)));
        }
        self.remember(target, session);
        Ok(response)
    }

    /// A `401` is acted on only when the registry itself sent it. When a redirect (to blob
    /// storage, say) led elsewhere, that host's challenge would decide where the registry's
    /// credentials or identity token go: it is an error instead, and nothing is sent. Docker's
    /// registry client keeps the same rule by learning challenges only from the registry's own
    /// endpoint.
    fn check_challenger(
        &self,
        target: &Target,
        url: &str,
        response: &Response,
    ) -> Result<(), OciError> {
        if response.came_from_origin_of(url) {
            return Ok(());
        }
        let answered_by = UrlParts::parse(&response.url).map_or_else(
            || "another host".to_owned(),
            |p| format!("{}://{}", p.scheme, p.authority()),
        );
        Err(OciError::RedirectChallenge {
            registry: target.registry().to_owned(),
            chart: target.repo.chart_url(target.chart),
            answered_by,
        })
    }

    fn send(
        &self,
        target: &Target,
        url: &str,
        headers: &[(&str, String)],
        auth: Option<&Auth>,
    ) -> Result<Response, OciError> {
        // The repository's own CA or client certificate applies to anonymous requests too, and
        // to its token service, which usually sits behind the same private CA.
        let tls = self.credential(target).and_then(Credential::tls);
        self.transport
            .get_with(url, headers, auth, tls.as_ref())
            .map_err(|source| OciError::Transport {
                registry: target.registry().to_owned(),
                source,
            })
    }

    /// Asks the token service named by a `Bearer` challenge for a pull token, with the stored
    /// credential when there is one (anonymous pulls get tokens too). A stored token is already
    /// a registry token and is used as it is. An identity token (an OAuth2 refresh token, what
    /// `docker login` stores for registries that hand them out) is exchanged by a POST, as
    /// docker and helm's OCI client do; it wins over a username and password, as there.
    fn fetch_token(
        &self,
        target: &Target,
        params: &[(String, String)],
    ) -> Result<(Secret, Instant), OciError> {
        let param = |name: &str| param(params, name);
        let credential = self.credential(target);
        let auth = credential.and_then(Credential::auth);
        if let Some(Auth::Bearer(token)) = auth {
            return Ok((token, Instant::now() + DEFAULT_TOKEN_LIFETIME));
        }
        let identity_token = credential.and_then(|c| c.identity_token.as_ref());
        let sends_secret = auth.is_some() || identity_token.is_some();
        let realm = self.token_realm(target, param("realm"), sends_secret)?;
        let shown = url::redact(realm);
        let scope = param("scope").unwrap_or(&target.key.scope);
        let service = param("service");
        let response = match identity_token {
            Some(refresh_token) => self.exchange(target, realm, service, scope, refresh_token)?,
            None => self.token_get(target, realm, service, scope, auth.as_ref())?,
        };
        let asked_with = if identity_token.is_some() {
            TokenGrant::IdentityToken
        } else if auth.is_some() {
            TokenGrant::Credentials
        } else {
            TokenGrant::Anonymous
        };
        self.check_token_status(target, &shown, &response, asked_with)?;
        self.read_token(target, &shown, &response.body)
    }

    /// The challenge's `realm`, checked to be a URL the credentials may go to.
    fn token_realm<'p>(
        &self,
        target: &Target,
        realm: Option<&'p str>,
        sends_secret: bool,
    ) -> Result<&'p str, OciError> {
        let Some(realm) = realm.filter(|r| r.starts_with("https://") || r.starts_with("http://"))
        else {
            return Err(self.auth_failed(
                target,
                "the registry's Bearer challenge names no http(s) token service",
            ));
        };
        if sends_secret && !cleartext_allowed(realm, target.repo) {
            return Err(self.auth_failed(
                target,
                &format!(
                    "the token service {} is plain HTTP, and credentials are only sent \
                     there over HTTPS",
                    url::redact(realm)
                ),
            ));
        }
        Ok(realm)
    }

    /// The distribution token request: `GET realm?service=…&scope=…`, with the username and
    /// password when there are some, anonymous otherwise.
    fn token_get(
        &self,
        target: &Target,
        realm: &str,
        service: Option<&str>,
        scope: &str,
        auth: Option<&Auth>,
    ) -> Result<Response, OciError> {
        let mut query = Vec::new();
        if let Some(service) = service {
            query.push(format!("service={}", url::encode_component(service)));
        }
        query.push(format!("scope={}", url::encode_component(scope)));
        let separator = if realm.contains('?') { '&' } else { '?' };
        let url = format!("{realm}{separator}{}", query.join("&"));
        self.send(target, &url, &[], auth)
    }

    /// A refusal of the token service in terms of what was refused.
    fn check_token_status(
        &self,
        target: &Target,
        shown: &str,
        response: &Response,
        asked_with: TokenGrant,
    ) -> Result<(), OciError> {
        let identity = asked_with == TokenGrant::IdentityToken;
        let detail = match response.status {
            200..=299 => return Ok(()),
            // An OAuth2 token endpoint refuses a bad grant with 400 `invalid_grant`.
            status @ (400 | 401 | 403) if status != 400 || identity => {
                let who = match asked_with {
                    TokenGrant::IdentityToken => {
                        "the identity token (an OAuth2 refresh token, expired or revoked?); log \
                         in to the registry again"
                    }
                    TokenGrant::Credentials => "the credentials",
                    TokenGrant::Anonymous => "anonymous access",
                };
                format!("the token service {shown} rejected {who}")
            }
            status => format!("the token service {shown} answered HTTP {status}"),
        };
        Err(self.auth_failed(target, &detail))
    }

    /// The token and how long it may be used. The body holds the token: parse errors are
    /// reported without it.
    fn read_token(
        &self,
        target: &Target,
        shown: &str,
        body: &[u8],
    ) -> Result<(Secret, Instant), OciError> {
        let reply: TokenReply = serde_json::from_slice(body).map_err(|_| {
            self.auth_failed(
                target,
                &format!("the token service {shown} sent no JSON token"),
            )
        })?;
        let token = reply
            .token
            .filter(|t| !t.is_empty())
            .or(reply.access_token.filter(|t| !t.is_empty()))
            .ok_or_else(|| {
                self.auth_failed(target, &format!("the token service {shown} sent no token"))
            })?;
        let lifetime = reply
            .expires_in
            .map(Duration::from_secs)
            .unwrap_or(DEFAULT_TOKEN_LIFETIME)
            .saturating_sub(TOKEN_EXPIRY_MARGIN);
        Ok((Secret::new(token), Instant::now() + lifetime))
    }

    /// The OAuth2 refresh-token grant (RFC 6749 §6) at the token service, as docker's
    /// registry client sends it: the form carries the refresh token, never a header.
    fn exchange(
        &self,
        target: &Target,
        realm: &str,
        service: Option<&str>,
        scope: &str,
        refresh_token: &Secret,
    ) -> Result<Response, OciError> {
        let mut form = vec![
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.expose()),
            ("client_id", OAUTH_CLIENT_ID),
            ("scope", scope),
        ];
        if let Some(service) = service {
            form.push(("service", service));
        }
        let tls = self.credential(target).and_then(Credential::tls);
        self.transport
            .post_form(realm, &form, tls.as_ref())
            .map_err(|source| OciError::Transport {
                registry: target.registry().to_owned(),
                source,
            })
    }

    fn credential(&self, target: &Target) -> Option<&'a Credential> {
        self.creds.lookup(&target.repo.chart_url(target.chart))
    }

    fn credential_source(&self, target: &Target) -> String {
        self.credential(target)
            .map_or_else(|| "no credentials".to_owned(), |c| c.source.clone())
    }

    fn auth_failed(&self, target: &Target, detail: &str) -> OciError {
        OciError::AuthFailed {
            registry: target.registry().to_owned(),
            credential: self.credential_source(target),
            detail: detail.to_owned(),
        }
    }

    fn unexpected(&self, target: &Target, request: &str, response: &Response) -> OciError {
        if response.status == 403 {
            return OciError::AccessDenied {
                registry: target.registry().to_owned(),
                repository: target.repository.clone(),
                credential: self.credential_source(target),
            };
        }
        OciError::Status {
            registry: target.registry().to_owned(),
            request: request.to_owned(),
            status: response.status,
            message: registry_message(&response.body),
        }
    }

    fn remembered_auth(&self, target: &Target) -> Option<Auth> {
        let mut sessions = self.sessions.lock().unwrap_or_else(PoisonError::into_inner);
        match sessions.get(&target.key)? {
            Session::Bearer { token, until } if Instant::now() < *until => {
                Some(Auth::Bearer(token.clone()))
            }
            Session::Bearer { .. } => {
                sessions.remove(&target.key);
                None
            }
            Session::Basic => self.credential(target).and_then(Credential::auth),
        }
    }

    fn remember(&self, target: &Target, session: Session) {
        let mut sessions = self.sessions.lock().unwrap_or_else(PoisonError::into_inner);
        sessions.insert(target.key.clone(), session);
    }

    fn forget(&self, target: &Target) {
        let mut sessions = self.sessions.lock().unwrap_or_else(PoisonError::into_inner);
        sessions.remove(&target.key);
    }
}

/// `GET /v2/<name>/tags/list`.
#[derive(Deserialize)]
struct TagList {
    tags: Option<Vec<String>>,
}

/// What a token request carried, for the message when it is refused.
#[derive(Clone, Copy, PartialEq, Eq)]
enum TokenGrant {
    IdentityToken,
    Credentials,
    Anonymous,
}

/// A token service's answer. Deliberately not `Debug`: it holds the token.
#[derive(Deserialize)]
struct TokenReply {
    token: Option<String>,
    access_token: Option<String>,
    expires_in: Option<u64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Manifest {
    media_type: Option<String>,
    config: Option<Descriptor>,
    #[serde(default)]
    layers: Vec<Descriptor>,
}

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
struct Descriptor {
    media_type: String,
    digest: String,
    size: u64,
}

/// The chart layer of a manifest, after checking that the manifest describes a Helm chart.
fn chart_layer(manifest: &[u8]) -> Result<Descriptor, String> {
    let manifest: Manifest = serde_json::from_slice(manifest)
        .map_err(|e| format!("its manifest is not valid JSON: {e}"))?;
    if manifest.media_type.as_deref() == Some(INDEX_MEDIA_TYPE) {
        return Err("the tag points to an image index, not a chart manifest".to_owned());
    }
    let config = manifest.config.ok_or("its manifest has no config")?;
    if config.media_type != HELM_CONFIG_MEDIA_TYPE {
        return Err(format!(
            "its config media type is {:?}, not {HELM_CONFIG_MEDIA_TYPE}",
            config.media_type
        ));
    }
    let find = |media_type: &str| manifest.layers.iter().find(|l| l.media_type == media_type);
    find(HELM_CHART_MEDIA_TYPE)
        .or_else(|| find(LEGACY_CHART_MEDIA_TYPE))
        .cloned()
        .ok_or_else(|| format!("its manifest has no {HELM_CHART_MEDIA_TYPE} layer"))
}

/// A registry's authentication challenge (`WWW-Authenticate`).
#[derive(Debug, PartialEq, Eq)]
enum Challenge {
    /// `Bearer realm="…",service="…",scope="…"`: get a token from `realm`.
    Bearer(Vec<(String, String)>),
    /// `Basic realm="…"`: send the username and password.
    Basic,
}

impl Challenge {
    /// The first challenge strata can answer, preferring `Bearer`.
    fn from_response(response: &Response) -> Option<Challenge> {
        let challenges: Vec<Challenge> = response
            .headers
            .iter()
            .filter(|(name, _)| name.eq_ignore_ascii_case("www-authenticate"))
            .filter_map(|(_, value)| Challenge::parse(value))
            .collect();
        let bearer = challenges
            .iter()
            .position(|c| matches!(c, Challenge::Bearer(_)));
        challenges.into_iter().nth(bearer.unwrap_or(0))
    }

    fn parse(header: &str) -> Option<Challenge> {
        let header = header.trim();
        let (scheme, params) = header.split_once(' ').unwrap_or((header, ""));
        if scheme.eq_ignore_ascii_case("basic") {
            Some(Challenge::Basic)
        } else if scheme.eq_ignore_ascii_case("bearer") {
            Some(Challenge::Bearer(parse_auth_params(params)))
        } else {
            None
        }
    }
}

/// The value of an authentication parameter.
fn param<'p>(params: &'p [(String, String)], name: &str) -> Option<&'p str> {
    params
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

/// Why the registry refused the authentication its own challenge asked for.
fn rejection(session: &Session, response: &Response) -> &'static str {
    match (session, Challenge::from_response(response)) {
        (Session::Basic, _) => "the registry rejected the username or password",
        (Session::Bearer { .. }, Some(Challenge::Bearer(params)))
            if param(&params, "error") == Some("insufficient_scope") =>
        {
            "the token service granted no pull access to this repository"
        }
        (Session::Bearer { .. }, _) => "token expired or rejected by the registry",
    }
}

/// Whether credentials may go to `realm`: over HTTPS always; over plain HTTP only when the
/// registry itself is configured as plain HTTP, or when both the registry and the realm are on
/// this machine. A remote HTTPS registry never has its credentials sent in clear text, not
/// even to a loopback address.
fn cleartext_allowed(realm: &str, registry: &OciRepository) -> bool {
    let Some(parts) = UrlParts::parse(realm) else {
        return false;
    };
    let registry_on_this_machine =
        UrlParts::parse(&registry.origin()).is_some_and(|r| is_loopback(&r));
    parts.scheme == "https"
        || registry.plain_http
        || (registry_on_this_machine && is_loopback(&parts))
}

/// `localhost` or a loopback address.
fn is_loopback(parts: &UrlParts) -> bool {
    let ip = parts.host.trim_start_matches('[').trim_end_matches(']');
    parts.host == "localhost"
        || ip
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// `key=value` and `key="quoted, \"escaped\" value"` pairs separated by commas; keys are
/// lower-cased because they are case-insensitive.
fn parse_auth_params(input: &str) -> Vec<(String, String)> {
    let mut params = Vec::new();
    let mut chars = input.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace() || *c == ',').is_some() {}
        let key: String =
            std::iter::from_fn(|| chars.next_if(|c| *c != '=' && *c != ',')).collect();
        if key.is_empty() && chars.peek().is_none() {
            return params;
        }
        let mut value = String::new();
        if chars.next_if_eq(&'=').is_some() {
            while chars.next_if(|c| c.is_whitespace()).is_some() {}
            if chars.next_if_eq(&'"').is_some() {
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => value.extend(chars.next()),
                        '"' => break,
                        c => value.push(c),
                    }
                }
            } else {
                value = std::iter::from_fn(|| chars.next_if(|c| *c != ',')).collect();
                value.truncate(value.trim_end().len());
            }
        }
        params.push((key.trim().to_ascii_lowercase(), value));
    }
}

/// The `rel="next"` target of a tag list's `Link` headers, resolved against the page that
/// sent it. A link to another origin is refused: following it would send the registry's
/// credentials there.
fn next_page(response: &Response, current: &str) -> Result<Option<String>, String> {
    let links = response
        .headers
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case("link"))
        .flat_map(|(_, value)| value.split(','));
    for link in links {
        let Some((target, params)) = link
            .trim()
            .strip_prefix('<')
            .and_then(|l| l.split_once('>'))
        else {
            continue;
        };
        let is_next = params.split(';').any(|p| {
            let p = p.trim().to_ascii_lowercase();
            p == "rel=\"next\"" || p == "rel=next"
        });
        if !is_next {
            continue;
        }
        let next = url::resolve(current, target);
        let same_origin = match (UrlParts::parse(current), UrlParts::parse(&next)) {
            (Some(from), Some(to)) => from.same_origin(&to),
            _ => false,
        };
        return if same_origin {
            Ok(Some(next))
        } else {
            Err(format!(
                "its next-page link {} leaves the registry",
                url::redact(&next)
            ))
        };
    }
    Ok(None)
}

/// The registry's error text from a `{"errors":[{"code","message"}]}` body, for messages.
fn registry_message(body: &[u8]) -> String {
    #[derive(Deserialize)]
    struct Errors {
        errors: Vec<ErrorEntry>,
    }
    #[derive(Deserialize)]
    struct ErrorEntry {
        code: Option<String>,
        message: Option<String>,
    }
    let Ok(errors) = serde_json::from_slice::<Errors>(body) else {
        return String::new();
    };
    let text: Vec<String> = errors
        .errors
        .into_iter()
        .map(|e| match (e.code, e.message) {
            (Some(code), Some(message)) => format!("{code}: {message}"),
            (code, message) => code.or(message).unwrap_or_default(),
        })
        .filter(|t| !t.is_empty())
        .collect();
    if text.is_empty() {
        return String::new();
    }
    let text: String = text
        .join("; ")
        .chars()
        .filter(|c| !c.is_control())
        .take(300)
        .collect();
    format!(": {text}")
}

/// Helm's tag for a version: tags cannot hold `+`, so build metadata is joined with `_`.
fn version_to_tag(version: &str) -> String {
    version.replace('+', "_")
}

/// The version a tag stands for (the inverse of [`version_to_tag`]).
fn tag_to_version(tag: &str) -> String {
    tag.replace('_', "+")
}

/// The tag of `version`, checked against the distribution tag grammar so it is safe in a URL.
fn checked_tag(version: &str) -> Result<String, OciError> {
    let tag = version_to_tag(version);
    let valid = !tag.is_empty()
        && tag.len() <= 128
        && !tag.starts_with(['.', '-'])
        && tag
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if valid {
        Ok(tag)
    } else {
        Err(OciError::InvalidName {
            what: "version",
            value: version.to_owned(),
            reason: "a registry tag is up to 128 letters, digits, '_', '.' and '-' (with '+' written as '_')",
        })
    }
}

/// Only sha256 digests are accepted: they are what Helm writes, what the lock records, and the
/// check guarantees the digest is safe to put in a URL.
fn check_digest(digest: &str) -> Result<(), OciError> {
    let hex = digest.strip_prefix("sha256:").unwrap_or_default();
    if hex.len() == 64
        && hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        Ok(())
    } else {
        Err(OciError::UnsupportedDigest {
            digest: digest.to_owned(),
        })
    }
}

fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// `host`, `host:port` or `[ipv6]:port`.
fn valid_registry(registry: &str) -> bool {
    let (host, port) = match registry.rsplit_once(':') {
        Some((host, port)) if !host.ends_with(':') && !port.contains(']') => (host, Some(port)),
        _ => (registry, None),
    };
    let port_ok =
        port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()));
    let host_ok = if let Some(ip) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        !ip.is_empty()
            && ip
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
    } else {
        !host.is_empty()
            && !host.starts_with(['.', '-'])
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
    };
    port_ok && host_ok
}

/// One segment of a repository name, per the distribution reference grammar: lowercase
/// alphanumeric runs joined by `.`, `_`, `__` or a run of `-`.
fn valid_path_component(segment: &str) -> bool {
    let alnum = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    if !segment.starts_with(alnum) || !segment.ends_with(alnum) {
        return false;
    }
    segment
        .split(alnum)
        .all(|sep| matches!(sep, "" | "." | "_" | "__") || sep.bytes().all(|b| b == b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(headers: &[(&str, &str)]) -> Response {
        Response {
            status: 200,
            url: "https://127.0.0.1:5000/v2/helm/web/tags/list".to_owned(),
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: Vec::new(),
        }
    }

    #[test]
    fn one_client_serves_all_threads() {
        fn shared<T: Send + Sync>() {}
        shared::<OciClient<'static>>();
    }

    #[test]
    fn parses_repository_urls() {
        for (url, plain_http, registry, path, reference, tags) in [
            (
                "oci://registry.example.com:5000/helm/charts/",
                false,
                "registry.example.com:5000",
                "helm/charts",
                "oci://registry.example.com:5000/helm/charts/web:1.2.3_build.5",
                "https://registry.example.com:5000/v2/helm/charts/web/tags/list",
            ),
            (
                "oci://127.0.0.1:8080",
                true,
                "127.0.0.1:8080",
                "",
                "oci://127.0.0.1:8080/web:1.2.3_build.5",
                "http://127.0.0.1:8080/v2/web/tags/list",
            ),
        ] {
            let repo = OciRepository::parse(url, plain_http).unwrap();
            assert_eq!(
                (repo.registry.as_str(), repo.path.as_str()),
                (registry, path)
            );
            assert_eq!(repo.reference("web", "1.2.3+build.5"), reference);
            assert_eq!(repo.api_url(&repo.repository("web"), "tags/list"), tags);
        }
        assert!(OciRepository::parse("oci://[::1]:5000/charts", false).is_ok());
    }

    #[test]
    fn rejects_bad_repository_urls() {
        for (url, needle) in [
            ("https://registry.example.com/helm", "oci://"),
            ("oci://", "host"),
            ("oci:///helm", "host"),
            ("oci://registry.example.com/Helm", "lowercase"),
            ("oci://registry.example.com/helm//charts", "lowercase"),
            ("oci://registry.example.com/helm?x=1", "query"),
            ("oci://registry.example.com:port/helm", "host:port"),
        ] {
            let err = OciRepository::parse(url, false).unwrap_err().to_string();
            assert!(err.contains(needle), "{url}: {err}");
        }
    }

    #[test]
    fn never_echoes_credentials_in_the_url() {
        let err = OciRepository::parse("oci://bob:hunter2@registry.example.com/helm", false)
            .unwrap_err()
            .to_string();
        assert!(!err.contains("hunter2"), "{err}");
        assert!(err.contains("\"oci://registry.example.com/helm\""), "{err}");
    }

    #[test]
    fn validates_repository_segments() {
        for ok in ["web", "my-chart", "a.b", "a_b", "a__b", "a--b", "0x"] {
            assert!(valid_path_component(ok), "{ok}");
        }
        for bad in [
            "", "-web", "web-", "We", "a___b", "a._b", "a/b", "a b", "a+b",
        ] {
            assert!(!valid_path_component(bad), "{bad}");
        }
    }

    #[test]
    fn maps_versions_and_tags() {
        assert_eq!(checked_tag("1.2.3+build.5").unwrap(), "1.2.3_build.5");
        assert_eq!(tag_to_version("1.2.3_build.5"), "1.2.3+build.5");
        assert_eq!(tag_to_version("2.0.0-rc.1"), "2.0.0-rc.1");
        for bad in ["", "1.0/../x", "1.0 0", ".1", &"9".repeat(129)] {
            assert!(checked_tag(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn parses_challenges() {
        let bearer = Challenge::parse(
            r#"Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:helm/web:pull,push",error="invalid_token""#,
        );
        let Some(Challenge::Bearer(params)) = bearer else {
            panic!("not bearer: {bearer:?}");
        };
        let get = |k: &str| {
            params
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(get("realm"), Some("https://auth.example.com/token"));
        assert_eq!(get("service"), Some("registry.example.com"));
        assert_eq!(get("scope"), Some("repository:helm/web:pull,push"));
        assert_eq!(get("error"), Some("invalid_token"));

        assert_eq!(
            Challenge::parse(r#"Basic realm="Registry Realm""#),
            Some(Challenge::Basic)
        );
        assert_eq!(Challenge::parse("Negotiate abc"), None);
        assert_eq!(
            parse_auth_params(r#" Realm = "a \"b\", c" , x=y "#),
            vec![
                ("realm".to_owned(), r#"a "b", c"#.to_owned()),
                ("x".to_owned(), "y".to_owned())
            ]
        );
    }

    #[test]
    fn sends_credentials_in_clear_text_only_locally() {
        let local = OciRepository::parse("oci://127.0.0.1:5000/helm", false).unwrap();
        let remote = OciRepository::parse("oci://registry.example.com/helm", false).unwrap();
        let plain = OciRepository::parse("oci://registry.example.com/helm", true).unwrap();
        assert!(cleartext_allowed("https://auth.example.com/token", &remote));
        assert!(cleartext_allowed("http://127.0.0.1:5001/token", &local));
        assert!(cleartext_allowed("http://localhost/token", &local));
        assert!(cleartext_allowed("http://[::1]:8080/token", &local));
        assert!(cleartext_allowed("http://auth.example.com/token", &plain));
        assert!(!cleartext_allowed("http://auth.example.com/token", &remote));
        assert!(!cleartext_allowed("http://auth.example.com/token", &local));
        assert!(!cleartext_allowed("http://127.0.0.1:5001/token", &remote));
        assert!(!cleartext_allowed("http://localhost/token", &remote));
        assert!(!cleartext_allowed(
            "http://127.0.0.1.example.com/token",
            &local
        ));
    }

    #[test]
    fn acts_only_on_the_registry_s_own_challenges() {
        let url = "https://127.0.0.1:5000/v2/helm/web/blobs/sha256:00";
        let mut r = response(&[]);
        r.url = "https://127.0.0.1:5000/v2/helm/web/blobs/sha256:00".to_owned();
        assert!(r.came_from_origin_of(url));
        for elsewhere in [
            "https://127.0.0.1:5001/storage/blob",
            "http://127.0.0.1:5000/storage/blob",
            "https://storage.example.com/blob?sig=abc",
        ] {
            r.url = elsewhere.to_owned();
            assert!(!r.came_from_origin_of(url), "{elsewhere}");
        }
    }

    #[test]
    fn explains_rejected_tokens() {
        let session = Session::Bearer {
            token: Secret::new("t"),
            until: Instant::now(),
        };
        let mut r = response(&[(
            "www-authenticate",
            r#"Bearer realm="https://a/token",error="insufficient_scope""#,
        )]);
        r.status = 401;
        assert!(rejection(&session, &r).contains("no pull access"));
        r.headers[0].1 = r#"Bearer realm="https://a/token",error="invalid_token""#.into();
        assert_eq!(
            rejection(&session, &r),
            "token expired or rejected by the registry"
        );
        assert!(rejection(&Session::Basic, &r).contains("username or password"));
    }

    #[test]
    fn prefers_a_bearer_challenge() {
        let r = response(&[
            ("www-authenticate", r#"Basic realm="x""#),
            ("www-authenticate", r#"Bearer realm="https://a/token""#),
        ]);
        assert!(matches!(
            Challenge::from_response(&r),
            Some(Challenge::Bearer(_))
        ));
        assert_eq!(Challenge::from_response(&response(&[])), None);
    }

    #[test]
    fn follows_next_links_on_the_same_registry_only() {
        let current = "https://127.0.0.1:5000/v2/helm/web/tags/list?n=2";
        let relative = response(&[(
            "link",
            r#"</v2/helm/web/tags/list?last=1.0.0&n=2>; rel="next""#,
        )]);
        assert_eq!(
            next_page(&relative, current).unwrap().as_deref(),
            Some("https://127.0.0.1:5000/v2/helm/web/tags/list?last=1.0.0&n=2")
        );
        let absolute = response(&[(
            "link",
            r#"<https://127.0.0.1:5000/v2/helm/web/tags/list?last=b>; rel="prev", <https://127.0.0.1:5000/v2/x?last=c>; rel=next"#,
        )]);
        assert_eq!(
            next_page(&absolute, current).unwrap().as_deref(),
            Some("https://127.0.0.1:5000/v2/x?last=c")
        );
        let elsewhere = response(&[("link", r#"<https://127.0.0.1:50001/v2/x>; rel="next""#)]);
        assert!(
            next_page(&elsewhere, current)
                .unwrap_err()
                .contains("leaves")
        );
        assert_eq!(next_page(&response(&[]), current).unwrap(), None);
    }

    fn manifest(config: &str, layers: &[&str]) -> Vec<u8> {
        let digest = format!("sha256:{}", "a".repeat(64));
        let layers: Vec<serde_json::Value> = layers
            .iter()
            .map(|t| serde_json::json!({"mediaType": t, "digest": digest, "size": 42}))
            .collect();
        serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2,
            "mediaType": MANIFEST_MEDIA_TYPE,
            "config": {"mediaType": config, "digest": digest, "size": 2},
            "layers": layers,
        }))
        .unwrap()
    }

    #[test]
    fn picks_the_chart_layer() {
        let layer = chart_layer(&manifest(
            HELM_CONFIG_MEDIA_TYPE,
            &[
                "application/vnd.cncf.helm.chart.provenance.v1.prov",
                HELM_CHART_MEDIA_TYPE,
            ],
        ))
        .unwrap();
        assert_eq!(layer.media_type, HELM_CHART_MEDIA_TYPE);
        assert_eq!(layer.size, 42);
        let legacy = chart_layer(&manifest(
            HELM_CONFIG_MEDIA_TYPE,
            &[LEGACY_CHART_MEDIA_TYPE],
        ))
        .unwrap();
        assert_eq!(legacy.media_type, LEGACY_CHART_MEDIA_TYPE);
    }

    #[test]
    fn refuses_what_is_not_a_chart() {
        let image = chart_layer(&manifest(
            "application/vnd.oci.image.config.v1+json",
            &["application/vnd.oci.image.layer.v1.tar+gzip"],
        ))
        .unwrap_err();
        assert!(image.contains("config media type"), "{image}");
        let empty = chart_layer(&manifest(HELM_CONFIG_MEDIA_TYPE, &[])).unwrap_err();
        assert!(
            empty.contains("no application/vnd.cncf.helm.chart.content.v1.tar+gzip layer"),
            "{empty}"
        );
        let index = chart_layer(br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}"#)
            .unwrap_err();
        assert!(index.contains("image index"), "{index}");
        assert!(
            chart_layer(b"<html>")
                .unwrap_err()
                .contains("not valid JSON")
        );
    }

    #[test]
    fn accepts_only_sha256_digests() {
        assert!(check_digest(&format!("sha256:{}", "0f".repeat(32))).is_ok());
        for bad in [
            "sha256:abc".to_owned(),
            format!("sha512:{}", "a".repeat(128)),
            format!("sha256:{}", "A".repeat(64)),
            format!("sha256:{}/../x", "a".repeat(58)),
        ] {
            assert!(check_digest(&bad).is_err(), "{bad}");
        }
        assert_eq!(
            sha256_digest(b""),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn reads_registry_error_messages() {
        let body = br#"{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry","detail":{}}]}"#;
        assert_eq!(
            registry_message(body),
            ": NAME_UNKNOWN: repository name not known to registry"
        );
        assert_eq!(registry_message(b"not json"), "");
    }

    #[test]
    fn encodes_query_values() {
        assert_eq!(
            url::encode_component("repository:helm/web:pull,push"),
            "repository%3Ahelm%2Fweb%3Apull%2Cpush"
        );
        assert_eq!(url::encode_component("a-b.c_d~e"), "a-b.c_d~e");
    }
}
