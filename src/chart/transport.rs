//! The one HTTP client for repository indexes, chart archives and OCI registries.
//!
//! Built once per process around a ureq agent, so connections are pooled across requests.
//! Status codes are data, not errors: callers need to see 304 (index unchanged) and 401
//! (registry token challenge). Only network failures and 5xx answers are retried, with
//! exponential backoff; a 4xx is the server's final word. Secrets never reach a log line or
//! an error message: URLs are printed without userinfo or query, and the Authorization header
//! is only ever handed to ureq.

pub mod tls;
pub mod url;

use crate::budget::Budget;
use base64::Engine;
use rustls::pki_types::CertificateDer;
use std::collections::HashMap;
use std::fmt;
use std::fs::File;
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use ureq::ResponseExt;
use ureq::unversioned::resolver::DefaultResolver;
use ureq::unversioned::transport::{ConnectProxyConnector, Connector, TcpConnector};

/// A secret string (password, token, private key). Prints as `***` in Debug and Display so
/// it cannot leak through a log line or an error; read it with [`Secret::expose`].
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// How a request authenticates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    Basic { username: String, password: Secret },
    Bearer(Secret),
}

impl Auth {
    fn header_value(&self) -> String {
        match self {
            Auth::Basic { username, password } => {
                let pair = format!("{username}:{}", password.expose());
                format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(pair)
                )
            }
            Auth::Bearer(token) => format!("Bearer {}", token.expose()),
        }
    }
}

/// A client certificate and its key, both PEM (as Argo CD stores them in a repository
/// Secret's `tlsClientCertData` and `tlsClientCertKey`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClientCertPem {
    pub cert_pem: String,
    pub key_pem: Secret,
}

/// TLS settings of one repository, on top of the process-wide ones.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct RepoTls {
    /// Extra CA certificates (PEM file) trusted for this repository.
    pub ca_file: Option<PathBuf>,
    pub client_cert: Option<ClientCertPem>,
}

/// Process-wide transport settings.
#[derive(Debug, Clone)]
pub struct TransportOptions {
    /// A PEM bundle trusted in addition to the system's CA certificates (a private CA, a
    /// TLS-inspecting proxy), for example from `STRATA_CA_FILE`.
    pub ca_file: Option<PathBuf>,
    /// How long connecting, waiting for the response headers, and each read of the body may
    /// take. A whole request is capped at ten times this, so a 40 MB index on a slow link
    /// finishes while a stalled server still fails. Both are cut to what is left of
    /// [`TransportOptions::budget`].
    pub timeout: Duration,
    /// The command's time budget: no request, retry or backoff outlives it.
    pub budget: Option<Budget>,
    /// Extra attempts after a network failure or a 5xx answer.
    pub retries: u32,
    /// No network at all: every request fails with [`TransportError::Offline`].
    pub offline: bool,
    /// Largest response body accepted, against absurd or hostile answers.
    pub max_body_bytes: u64,
}

impl Default for TransportOptions {
    fn default() -> Self {
        TransportOptions {
            ca_file: None,
            timeout: Duration::from_secs(30),
            budget: None,
            retries: 3,
            offline: false,
            max_body_bytes: 200 * 1024 * 1024,
        }
    }
}

/// A response of any status.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    /// Where the response came from: the request's URL, or the last redirect's target. It
    /// may hold a signed query or userinfo, so it is printed only through [`url::redact`].
    pub url: String,
    /// Names lower-cased, in the order received.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// The first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// Whether the response came from `url`'s own origin (scheme, host and port) rather than
    /// from a host a redirect led to. Only the origin's answers may ask for its credentials:
    /// the redirect target never saw them and must not decide where they go.
    pub fn came_from_origin_of(&self, url: &str) -> bool {
        match (url::UrlParts::parse(url), url::UrlParts::parse(&self.url)) {
            (Some(asked), Some(answered)) => asked.same_origin(&answered),
            _ => false,
        }
    }
}

/// Why a request produced no response. Every variant names the URL without secrets.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("offline mode: not fetching {url}")]
    Offline { url: String },
    #[error("cannot connect to {url}: {reason}")]
    Connect { url: String, reason: String },
    /// `phase` reads "connecting to", "waiting for the response from" or "reading the
    /// response from"; `budget` is empty or says that the command's budget ran out.
    #[error("timed out after {:.1} s {phase} {url}{budget}", .after.as_secs_f64())]
    Timeout {
        url: String,
        phase: &'static str,
        after: Duration,
        budget: String,
    },
    #[error("timed out before fetching {url}: {budget}")]
    OutOfTime { url: String, budget: String },
    #[error("TLS error talking to {url}: {reason}")]
    Tls { url: String, reason: String },
    #[error("response from {url} is larger than the {limit}-byte limit")]
    TooLarge { url: String, limit: u64 },
    #[error("cannot store the response from {url}: {reason}")]
    Store { url: String, reason: String },
    #[error("invalid URL {url}: {reason}")]
    InvalidUrl { url: String, reason: String },
    #[error("proxy failed for {url}: {reason}")]
    Proxy { url: String, reason: String },
    #[error("too many redirects fetching {url}")]
    Redirects { url: String },
    #[error("HTTP protocol error from {url}: {reason}")]
    Protocol { url: String, reason: String },
    #[error("cannot read CA certificates {path}: {reason}")]
    CaFile { path: String, reason: String },
    #[error("invalid TLS client certificate ({reason})")]
    ClientCert { reason: String },
}

impl TransportError {
    /// Failures worth another attempt: the network or the server may recover.
    fn is_transient(&self) -> bool {
        matches!(self, TransportError::Connect { .. })
    }
}

/// The HTTP client. Cheap to share by reference across threads.
pub struct Transport {
    opts: TransportOptions,
    /// The system's CA certificates plus `opts.ca_file`.
    roots: Vec<CertificateDer<'static>>,
    agent: ureq::Agent,
    /// Agents for hosts with a CA or client certificate of their own, built on first use.
    tls_agents: Mutex<HashMap<AgentTls, ureq::Agent>>,
}

/// What sets one host's TLS apart from the process-wide settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
struct AgentTls {
    /// CA files trusted on top of the process-wide roots: the repository's own, and Argo CD's
    /// certificate for the host.
    ca_files: Vec<PathBuf>,
    client_cert: Option<ClientCertPem>,
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transport")
            .field("opts", &self.opts)
            .finish_non_exhaustive()
    }
}

impl Transport {
    pub fn new(opts: TransportOptions) -> Result<Transport, TransportError> {
        let mut roots = tls::system_roots();
        if roots.is_empty() {
            tracing::debug!("no system CA certificates: trusting strata's built-in public roots");
        }
        if let Some(path) = &opts.ca_file {
            roots.extend(read_ca_file(path)?);
        }
        let agent = build_agent(&opts, client_config(&roots, None)?);
        Ok(Transport {
            opts,
            roots,
            agent,
            tls_agents: Mutex::new(HashMap::new()),
        })
    }

    pub fn offline(&self) -> bool {
        self.opts.offline
    }

    pub fn options(&self) -> &TransportOptions {
        &self.opts
    }

    /// GET `url` with optional auth and extra headers. Retries network failures and 5xx
    /// answers; every other status comes back as a [`Response`].
    pub fn get(
        &self,
        url: &str,
        headers: &[(&str, String)],
        auth: Option<&Auth>,
    ) -> Result<Response, TransportError> {
        self.get_with(url, headers, auth, None)
    }

    /// [`Transport::get`] with a repository's own TLS settings (extra CA, client certificate).
    pub fn get_with(
        &self,
        url: &str,
        headers: &[(&str, String)],
        auth: Option<&Auth>,
        tls: Option<&RepoTls>,
    ) -> Result<Response, TransportError> {
        self.fetch(Method::Get, url, headers, auth, tls, None)
    }

    /// POST `form` (`application/x-www-form-urlencoded`) to `url`: an OAuth2 token request.
    /// The same retries, time budget, size limit and redaction as a GET; the form holds
    /// secrets, so it is never logged, and nothing of it appears in an error.
    pub fn post_form(
        &self,
        url: &str,
        form: &[(&str, &str)],
        tls: Option<&RepoTls>,
    ) -> Result<Response, TransportError> {
        let body = form
            .iter()
            .map(|(name, value)| {
                format!(
                    "{}={}",
                    url::encode_component(name),
                    url::encode_component(value)
                )
            })
            .collect::<Vec<_>>()
            .join("&");
        self.fetch(Method::PostForm(body.as_bytes()), url, &[], None, tls, None)
    }

    /// [`Transport::get_with`], writing the body into `file` (emptied first) instead of
    /// memory, so a 200 MB index never sits in memory. The returned response has no body.
    pub fn get_into(
        &self,
        url: &str,
        headers: &[(&str, String)],
        auth: Option<&Auth>,
        tls: Option<&RepoTls>,
        file: &mut File,
    ) -> Result<Response, TransportError> {
        self.fetch(Method::Get, url, headers, auth, tls, Some(file))
    }

    fn fetch(
        &self,
        method: Method,
        url: &str,
        headers: &[(&str, String)],
        auth: Option<&Auth>,
        tls: Option<&RepoTls>,
        mut sink: Option<&mut File>,
    ) -> Result<Response, TransportError> {
        let shown = url::redact(url);
        if self.opts.offline {
            return Err(TransportError::Offline { url: shown });
        }
        // Userinfo in the URL is basic auth, as in Go's client; it never goes on the wire
        // as part of the URL and never into a message.
        let parts = url::UrlParts::parse(url).ok_or_else(|| TransportError::InvalidUrl {
            url: shown.clone(),
            reason: "not an absolute http(s) URL".into(),
        })?;
        if !matches!(parts.scheme.as_str(), "http" | "https") {
            return Err(TransportError::InvalidUrl {
                url: shown,
                reason: format!("unsupported scheme {:?}", parts.scheme),
            });
        }
        let from_url = parts.userinfo.as_deref().map(userinfo_auth);
        let auth = auth.or(from_url.as_ref());
        let target = parts.without_userinfo();
        let agent = self.agent_for(&parts, tls)?;
        let mut attempt = 0;
        loop {
            if let Some(budget) = self.opts.budget.filter(Budget::is_spent) {
                return Err(TransportError::OutOfTime {
                    url: shown,
                    budget: budget.explain(),
                });
            }
            let result = self.attempt(
                &agent,
                method,
                &target,
                &shown,
                headers,
                auth,
                sink.as_deref_mut(),
            );
            let retry = match &result {
                Ok(resp) => resp.status >= 500,
                Err(e) => e.is_transient(),
            };
            let delay = Duration::from_millis(200) * 2u32.pow(attempt.min(10));
            // A retry is worth it only if the backoff and a little of the request still fit.
            let fits = self
                .opts
                .budget
                .is_none_or(|b| b.remaining() > delay + Duration::from_millis(500));
            if !retry || attempt >= self.opts.retries || !fits {
                return result;
            }
            match &result {
                Ok(resp) => {
                    tracing::debug!(
                        "{} {shown}: HTTP {}; retrying in {delay:?}",
                        method.name(),
                        resp.status
                    )
                }
                Err(e) => tracing::debug!("{e}; retrying in {delay:?}"),
            }
            std::thread::sleep(delay);
            attempt += 1;
        }
    }

    /// One request. Its timeouts are the per-transfer limits cut to what is left of the
    /// budget, so the budget holds even against a server that trickles a byte at a time.
    #[allow(clippy::too_many_arguments)]
    fn attempt(
        &self,
        agent: &ureq::Agent,
        method: Method,
        target: &str,
        shown: &str,
        headers: &[(&str, String)],
        auth: Option<&Auth>,
        sink: Option<&mut File>,
    ) -> Result<Response, TransportError> {
        tracing::debug!("{} {shown}", method.name());
        let started = Instant::now();
        let per_step = self.cap(self.opts.timeout);
        let whole = self.cap(self.opts.timeout * 10);
        let sent = match method {
            Method::Get => prepare(agent.get(target), per_step, whole, headers, auth).call(),
            Method::PostForm(body) => prepare(agent.post(target), per_step, whole, headers, auth)
                .header("content-type", "application/x-www-form-urlencoded")
                .send(body),
        };
        let resp = sent.map_err(|e| self.map_error(e, shown, started, false))?;
        let status = resp.status().as_u16();
        let answered_by = resp.get_uri().to_string();
        let headers = header_list(resp.headers());
        let limit = self.opts.max_body_bytes;
        let too_large = || TransportError::TooLarge {
            url: shown.to_owned(),
            limit,
        };
        let declared = headers
            .iter()
            .find(|(n, _)| n == "content-length")
            .and_then(|(_, v)| v.trim().parse::<u64>().ok());
        if declared.is_some_and(|n| n > limit) {
            return Err(too_large());
        }
        let mut reader = resp
            .into_body()
            .into_with_config()
            .limit(u64::MAX)
            .reader()
            .take(limit.saturating_add(1));
        let read_error =
            |e: std::io::Error| self.map_error(ureq::Error::from(e), shown, started, true);
        let mut body = Vec::new();
        let received = match sink {
            None => reader.read_to_end(&mut body).map_err(read_error)? as u64,
            Some(file) => copy_to_file(&mut reader, file).map_err(|e| match e {
                CopyError::Read(e) => read_error(e),
                CopyError::Store(e) => TransportError::Store {
                    url: shown.to_owned(),
                    reason: e.to_string(),
                },
            })?,
        };
        if received > limit {
            return Err(too_large());
        }
        Ok(Response {
            status,
            url: answered_by,
            headers,
            body,
        })
    }

    /// `limit`, or what is left of the budget when that is less.
    fn cap(&self, limit: Duration) -> Duration {
        match self.opts.budget {
            Some(b) => b.cap(limit),
            None => limit,
        }
    }

    /// A ureq failure in strata's terms. A timeout names the phase it hit and, when the
    /// budget was the limit, the budget.
    fn map_error(
        &self,
        err: ureq::Error,
        shown: &str,
        started: Instant,
        reading_body: bool,
    ) -> TransportError {
        let ureq::Error::Timeout(which) = err else {
            return match map_error(err, shown) {
                TransportError::Connect { url, reason } if reading_body => {
                    TransportError::Connect {
                        url,
                        reason: format!("reading the response: {reason}"),
                    }
                }
                other => other,
            };
        };
        use ureq::Timeout as T;
        let phase = match which {
            _ if reading_body => "reading the response from",
            T::Resolve | T::Connect => "connecting to",
            T::SendRequest | T::SendBody | T::PerWrite => "sending the request to",
            _ => "waiting for the response from",
        };
        // ureq fires a timeout at its deadline, never before: a budget within a moment of
        // its end was the limit that fired.
        let budget = match self.opts.budget {
            Some(b) if b.remaining() < Duration::from_millis(100) => format!("; {}", b.explain()),
            _ => String::new(),
        };
        TransportError::Timeout {
            url: shown.to_owned(),
            phase,
            after: started.elapsed(),
            budget,
        }
    }

    /// The agent for a request: the process-wide one, or one that also trusts the
    /// repository's CA file and Argo CD's certificate for the host, and presents the
    /// repository's client certificate.
    fn agent_for(
        &self,
        parts: &url::UrlParts,
        tls: Option<&RepoTls>,
    ) -> Result<ureq::Agent, TransportError> {
        let mut key = AgentTls::default();
        if let Some(tls) = tls {
            key.ca_files.extend(tls.ca_file.clone());
            key.client_cert.clone_from(&tls.client_cert);
        }
        if parts.scheme == "https" {
            key.ca_files.extend(tls::argocd_host_ca(&parts.host));
        }
        if key == AgentTls::default() {
            return Ok(self.agent.clone());
        }
        let mut agents = self
            .tls_agents
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(agent) = agents.get(&key) {
            return Ok(agent.clone());
        }
        let mut roots = self.roots.clone();
        for path in &key.ca_files {
            roots.extend(read_ca_file(path)?);
        }
        let client = key
            .client_cert
            .as_ref()
            .map(parse_client_cert)
            .transpose()?;
        let agent = build_agent(&self.opts, client_config(&roots, client)?);
        agents.insert(key, agent.clone());
        Ok(agent)
    }
}

/// Response headers with lower-cased names, in the order received.
fn header_list(headers: &ureq::http::HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_ascii_lowercase(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}

/// Which side of a copy failed: reading the response, or writing the file.
enum CopyError {
    Read(std::io::Error),
    Store(std::io::Error),
}

/// Streams `reader` into `file` (emptied first) in 64 KiB pieces, so a large body never sits
/// in memory; returns the bytes written.
fn copy_to_file(reader: &mut impl Read, file: &mut File) -> Result<u64, CopyError> {
    file.set_len(0).map_err(CopyError::Store)?;
    file.rewind().map_err(CopyError::Store)?;
    let mut out = std::io::BufWriter::with_capacity(1 << 16, &mut *file);
    let mut buf = vec![0; 1 << 16];
    let mut total = 0u64;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(CopyError::Read(e)),
        };
        out.write_all(&buf[..n]).map_err(CopyError::Store)?;
        total += n as u64;
    }
    out.flush().map_err(CopyError::Store)?;
    Ok(total)
}

fn userinfo_auth(userinfo: &str) -> Auth {
    let (user, pass) = userinfo.split_once(':').unwrap_or((userinfo, ""));
    Auth::Basic {
        username: percent_decode(user),
        password: Secret::new(percent_decode(pass)),
    }
}

/// `%XX` escapes to bytes; invalid escapes stay as written.
pub(crate) fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// An agent whose TLS step is strata's own (see [`tls`]), after ureq's proxy tunnel and TCP
/// steps.
fn build_agent(opts: &TransportOptions, tls: Arc<rustls::ClientConfig>) -> ureq::Agent {
    let config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .proxy(ureq::Proxy::try_from_env())
        // Never forward Authorization on a redirect: registries redirect blobs to storage
        // hosts that must not see registry credentials.
        .redirect_auth_headers(ureq::config::RedirectAuthHeaders::Never)
        .timeout_connect(Some(opts.timeout))
        .timeout_recv_response(Some(opts.timeout))
        .timeout_per_read(Some(opts.timeout))
        .timeout_global(Some(opts.timeout * 10))
        .user_agent(concat!("strata/", env!("CARGO_PKG_VERSION")))
        .build();
    let connector =
        ().chain(ConnectProxyConnector::default())
            .chain(TcpConnector::default())
            .chain(tls::TlsConnector { config: tls });
    ureq::Agent::with_parts(config, connector, DefaultResolver::default())
}

fn client_config(
    roots: &[CertificateDer<'static>],
    client: Option<ClientIdentity>,
) -> Result<Arc<rustls::ClientConfig>, TransportError> {
    tls::client_config(roots, client).map_err(|e| TransportError::ClientCert {
        reason: format!("the TLS configuration was refused: {e}"),
    })
}

type ClientIdentity = (
    Vec<CertificateDer<'static>>,
    rustls::pki_types::PrivateKeyDer<'static>,
);

fn read_ca_file(path: &Path) -> Result<Vec<CertificateDer<'static>>, TransportError> {
    let err = |reason: String| TransportError::CaFile {
        path: path.display().to_string(),
        reason,
    };
    let bytes = std::fs::read(path).map_err(|e| err(e.to_string()))?;
    let certs = tls::pem_certs(&bytes);
    if certs.is_empty() {
        return Err(err("no PEM certificate in the file".into()));
    }
    Ok(certs)
}

fn parse_client_cert(pem: &ClientCertPem) -> Result<ClientIdentity, TransportError> {
    let chain = tls::pem_certs(pem.cert_pem.as_bytes());
    if chain.is_empty() {
        return Err(TransportError::ClientCert {
            reason: "no PEM certificate in the client certificate data".into(),
        });
    }
    // The key's parse error is not shown: it could quote key material.
    let key = tls::pem_key(pem.key_pem.expose().as_bytes()).ok_or_else(|| {
        TransportError::ClientCert {
            reason: "the client key is not a PEM private key".into(),
        }
    })?;
    Ok((chain, key))
}

fn is_https(url: &str) -> bool {
    url.get(..8)
        .is_some_and(|s| s.eq_ignore_ascii_case("https://"))
}

fn tls_error(url: String, mut reason: String) -> TransportError {
    // BadSignature: an issuer of the right name (a regenerated CA, say) did not sign it.
    if reason.contains("UnknownIssuer") || reason.contains("BadSignature") {
        reason.push_str(
            " (the server's certificate is not signed by a trusted CA: add its CA to the \
             system's (SSL_CERT_FILE, SSL_CERT_DIR), set STRATA_CA_FILE or the repository's \
             caFile to it, or mount Argo CD's argocd-tls-certs-cm at /app/config/tls)",
        );
    }
    TransportError::Tls { url, reason }
}

/// What a request does: GET, or POST a form body.
#[derive(Clone, Copy)]
enum Method<'b> {
    Get,
    PostForm(&'b [u8]),
}

impl Method<'_> {
    fn name(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::PostForm(_) => "POST",
        }
    }
}

/// A request with its timeouts (`per_step` for each phase, `whole` in all), extra headers
/// and authorization.
fn prepare<B>(
    req: ureq::RequestBuilder<B>,
    per_step: Duration,
    whole: Duration,
    headers: &[(&str, String)],
    auth: Option<&Auth>,
) -> ureq::RequestBuilder<B> {
    let mut req = req
        .config()
        .timeout_connect(Some(per_step))
        .timeout_recv_response(Some(per_step))
        .timeout_per_read(Some(per_step))
        .timeout_global(Some(whole))
        .build();
    for (name, value) in headers {
        req = req.header(*name, value.as_str());
    }
    if let Some(auth) = auth {
        req = req.header("authorization", auth.header_value());
    }
    req
}

fn map_error(err: ureq::Error, url: &str) -> TransportError {
    let url = url.to_owned();
    match err {
        ureq::Error::Timeout(_) => TransportError::Timeout {
            url,
            phase: "fetching",
            after: Duration::ZERO,
            budget: String::new(),
        },
        ureq::Error::HostNotFound => TransportError::Connect {
            url,
            reason: "host not found".into(),
        },
        // rustls reports certificate and handshake failures as InvalidData I/O errors.
        ureq::Error::Io(e) if e.kind() == std::io::ErrorKind::InvalidData && is_https(&url) => {
            tls_error(url, e.to_string())
        }
        ureq::Error::Io(e) => TransportError::Connect {
            url,
            reason: e.to_string(),
        },
        ureq::Error::ConnectionFailed => TransportError::Connect {
            url,
            reason: "connection failed".into(),
        },
        ureq::Error::Tls(reason) => tls_error(url, reason.to_owned()),
        ureq::Error::Rustls(e) => tls_error(url, e.to_string()),
        ureq::Error::Pem(e) => tls_error(url, e.to_string()),
        ureq::Error::BodyExceedsLimit(limit) => TransportError::TooLarge { url, limit },
        // ureq's message repeats the URI, which may carry userinfo: not shown.
        ureq::Error::BadUri(_) => TransportError::InvalidUrl {
            url,
            reason: "not a valid URL".into(),
        },
        // Not shown either: the offending header may be the Authorization header.
        ureq::Error::Http(_) => TransportError::InvalidUrl {
            url,
            reason: "the request cannot be built: a URL part, header or credential holds \
                     characters HTTP does not allow"
                .into(),
        },
        ureq::Error::ConnectProxyFailed(reason) => TransportError::Proxy { url, reason },
        ureq::Error::InvalidProxyUrl => TransportError::Proxy {
            url,
            reason: "invalid proxy URL in ALL_PROXY/HTTPS_PROXY/HTTP_PROXY".into(),
        },
        ureq::Error::TooManyRedirects => TransportError::Redirects { url },
        ureq::Error::Protocol(e) => TransportError::Protocol {
            url,
            reason: e.to_string(),
        },
        other => TransportError::Protocol {
            url,
            reason: other.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_encodes_everything_but_unreserved_characters() {
        let form_encode = url::encode_component;
        assert_eq!(form_encode("refresh_token"), "refresh_token");
        assert_eq!(
            form_encode("repository:team/web:pull a+b&c=d"),
            "repository%3Ateam%2Fweb%3Apull%20a%2Bb%26c%3Dd"
        );
        assert_eq!(form_encode("é"), "%C3%A9");
    }
    use std::net::TcpListener;

    #[test]
    fn secrets_never_print() {
        let auth = Auth::Basic {
            username: "alice".into(),
            password: Secret::new("hunter2"),
        };
        let shown = format!("{auth:?} {} {:?}", Secret::new("tok"), Secret::new("tok"));
        assert!(
            !shown.contains("hunter2") && !shown.contains("tok"),
            "{shown}"
        );
        let cert = ClientCertPem {
            cert_pem: "CERT".into(),
            key_pem: Secret::new("KEYDATA"),
        };
        assert!(!format!("{cert:?}").contains("KEYDATA"));
    }

    #[test]
    fn basic_header_is_base64_of_user_colon_password() {
        let auth = Auth::Basic {
            username: "u".into(),
            password: Secret::new("p"),
        };
        assert_eq!(auth.header_value(), "Basic dTpw");
        assert_eq!(Auth::Bearer(Secret::new("t")).header_value(), "Bearer t");
    }

    #[test]
    fn userinfo_becomes_basic_auth() {
        assert_eq!(
            userinfo_auth("a%40b:p%3As"),
            Auth::Basic {
                username: "a@b".into(),
                password: Secret::new("p:s")
            }
        );
    }

    #[test]
    fn offline_fails_naming_the_url_without_secrets() {
        let t = Transport::new(TransportOptions {
            offline: true,
            ..TransportOptions::default()
        })
        .unwrap();
        let err = t
            .get("https://u:pw@h.example/index.yaml", &[], None)
            .unwrap_err();
        assert!(matches!(err, TransportError::Offline { .. }));
        assert_eq!(
            err.to_string(),
            "offline mode: not fetching https://h.example/index.yaml"
        );
    }

    #[test]
    fn refused_connection_is_a_connect_error_after_retries() {
        let port = {
            let l = TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let t = Transport::new(TransportOptions {
            retries: 1,
            ..TransportOptions::default()
        })
        .unwrap();
        let started = std::time::Instant::now();
        let err = t
            .get(&format!("http://user:secret@127.0.0.1:{port}/x"), &[], None)
            .unwrap_err();
        assert!(matches!(err, TransportError::Connect { .. }), "{err}");
        let text = format!("{err} {err:?}");
        assert!(!text.contains("secret"), "{text}");
        assert!(
            started.elapsed() >= Duration::from_millis(200),
            "one backoff"
        );
    }

    #[test]
    fn missing_ca_file_is_reported() {
        let err = Transport::new(TransportOptions {
            ca_file: Some(PathBuf::from("/nonexistent/ca.pem")),
            ..TransportOptions::default()
        })
        .unwrap_err();
        assert!(err.to_string().contains("/nonexistent/ca.pem"), "{err}");
    }
}
