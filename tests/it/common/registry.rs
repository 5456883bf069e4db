//! A real OCI registry for the OCI pull tests: Docker distribution (Debian's `docker-registry`)
//! on 127.0.0.1, one per test, with its storage and configuration in a temp directory, and
//! charts pushed by the real helm. The process is killed on drop.
//!
//! Authentication is either an htpasswd file (`Basic`) or distribution's token scheme, whose
//! token service is [`TokenServer`]: a small std-only HTTP server in the test process that
//! checks Basic credentials and answers with an RS256 JWT signed by the `openssl` CLI, from a
//! key whose certificate the registry trusts.
//!
//! The servers are prerequisites, not optional: when one is missing the test fails and names
//! `scripts/install-test-servers`. TLS uses the test binary's shared CA from
//! [`Tls::shared`].

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use std::{fs, thread};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

use super::servers::{Tls, binary, free_port};
use super::{Helm, describe, run_std, text};

/// The account the registry (or its token service) accepts.
pub const USER: &str = "chart-reader";
pub const PASSWORD: &str = "pw-7Hq2-not-in-any-message";
/// Charts are pushed below this repository path.
pub const PATH: &str = "helm";
/// The OAuth2 refresh token (docker's "identity token") the token service accepts.
pub const IDENTITY_TOKEN: &str = "idt-5e0b-refresh-never-shown";
/// The `service` and `issuer` the registry expects in tokens.
const SERVICE: &str = "strata-test-registry";
const ISSUER: &str = "strata-test-token-service";

/// How long a starting registry may take to listen.
const START_LIMIT: Duration = Duration::from_secs(20);

/// How clients must authenticate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegistryAuth {
    /// Anonymous pull and push.
    None,
    /// `Basic` against an htpasswd (bcrypt) file.
    Htpasswd,
    /// `Bearer` tokens from a [`TokenServer`].
    Token,
}

/// What the token service hands out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenMode {
    /// A valid token in the `token` field.
    Valid,
    /// A valid token in the `access_token` field only (the OAuth2 spelling).
    AccessTokenField,
    /// A correctly signed token whose `exp` lies an hour in the past.
    Expired,
    /// A valid token that grants nothing.
    NoAccess,
}

pub struct Registry {
    child: Child,
    port: u16,
    tls: Option<&'static Tls>,
    auth: RegistryAuth,
    token_server: Option<TokenServer>,
    dir: tempfile::TempDir,
}

impl Registry {
    /// Starts a registry, over TLS (certificate for IP 127.0.0.1 from the shared test CA) or
    /// plain HTTP.
    pub fn start(auth: RegistryAuth, tls: bool) -> Registry {
        let registry_bin = binary(
            "STRATA_TEST_DOCKER_REGISTRY",
            &["/usr/bin/docker-registry", "/usr/local/bin/docker-registry"],
        );
        let tls = tls.then(Tls::shared);
        let dir = tempfile::Builder::new()
            .prefix("strata-registry-")
            .tempdir()
            .expect("create registry dir");
        let root = dir.path();
        fs::create_dir_all(root.join("storage")).expect("create storage dir");
        let token_server = match auth {
            RegistryAuth::Token => Some(TokenServer::start(root)),
            RegistryAuth::Htpasswd => {
                let program = binary("STRATA_TEST_HTPASSWD", &["/usr/bin/htpasswd"]);
                let htpasswd = output_ok(
                    Command::new(program).args(["-Bbn", USER, PASSWORD]),
                    "htpasswd",
                );
                fs::write(root.join("htpasswd"), htpasswd).expect("write htpasswd");
                None
            }
            RegistryAuth::None => None,
        };
        // A port can be taken between probing and binding by a parallel test: try again.
        for _ in 0..5 {
            let port = free_port();
            let config = config(root, port, tls, auth, token_server.as_ref());
            fs::write(root.join("config.yml"), config).expect("write registry config");
            match spawn(&registry_bin, root, port) {
                Ok(child) => {
                    return Registry {
                        child,
                        port,
                        tls,
                        auth,
                        token_server,
                        dir,
                    };
                }
                Err(log) if log.contains("address already in use") => continue,
                Err(log) => panic!("docker-registry did not start:\n{log}"),
            }
        }
        panic!("docker-registry found no free port in 5 attempts");
    }

    /// `127.0.0.1:<port>`.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// `oci://127.0.0.1:<port>/helm`.
    pub fn url(&self) -> String {
        format!("oci://{}/{PATH}", self.host())
    }

    /// The CA that signed the registry's certificate.
    pub fn ca_file(&self) -> PathBuf {
        self.tls
            .expect("plain-HTTP registry has no CA")
            .ca_pem
            .clone()
    }

    pub fn token_server(&self) -> &TokenServer {
        self.token_server
            .as_ref()
            .expect("registry without token auth has no token service")
    }

    /// Packages a minimal chart `name`/`version` with `helm` and pushes it; returns the
    /// archive and the manifest digest helm reports.
    pub fn push_chart(&self, helm: Helm, name: &str, version: &str) -> (PathBuf, String) {
        let archive = package_chart(self.dir.path(), helm, name, version);
        let digest = self.push(helm, &archive);
        (archive, digest)
    }

    /// `helm push ARCHIVE oci://…/helm` with this registry's CA and account; returns the
    /// manifest digest helm reports.
    pub fn push(&self, helm: Helm, archive: &Path) -> String {
        let mut cmd = self.helm(helm);
        cmd.arg("push").arg(archive).arg(self.url());
        self.connection_flags(&mut cmd);
        if self.auth != RegistryAuth::None {
            cmd.args(["--username", USER, "--password", PASSWORD]);
        }
        let out = run_std(&mut cmd);
        assert!(
            out.status.success(),
            "helm push to {} failed\n{}\n--- registry log ---\n{}",
            self.url(),
            describe(&out),
            self.log()
        );
        let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
        all.lines()
            .find_map(|l| l.strip_prefix("Digest: "))
            .unwrap_or_else(|| panic!("no digest in helm push output:\n{all}"))
            .trim()
            .to_owned()
    }

    /// `helm registry login` (TLS registries) into a registry config file of its own, which
    /// is returned: the file Helm users have and strata reads.
    pub fn helm_login(&self, helm: Helm) -> PathBuf {
        let mut cmd = self.helm(helm);
        cmd.args(["registry", "login", &self.host()]);
        cmd.args(["--username", USER, "--password", PASSWORD]);
        cmd.arg("--ca-file").arg(self.ca_file());
        let out = run_std(&mut cmd);
        assert!(
            out.status.success(),
            "helm registry login failed\n{}",
            describe(&out)
        );
        self.dir.path().join("helm-registry.json")
    }

    /// The stored bytes of a blob (layer, config or manifest), for tampering.
    pub fn blob_data(&self, digest: &str) -> PathBuf {
        let hex = digest.strip_prefix("sha256:").expect("sha256 digest");
        self.dir
            .path()
            .join("storage/docker/registry/v2/blobs/sha256")
            .join(&hex[..2])
            .join(hex)
            .join("data")
    }

    /// The registry's output so far, for failure messages.
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }

    /// helm with its configuration, cache, registry logins and Docker config inside the
    /// registry's directory, so nothing outside the test is read or written.
    fn helm(&self, helm: Helm) -> Command {
        let home = self.dir.path().join("helm-home");
        let mut cmd = super::helm(helm);
        cmd.env("HELM_CONFIG_HOME", home.join("config"))
            .env("HELM_CACHE_HOME", home.join("cache"))
            .env("HELM_DATA_HOME", home.join("data"))
            .env(
                "HELM_REGISTRY_CONFIG",
                self.dir.path().join("helm-registry.json"),
            )
            .env("DOCKER_CONFIG", home.join("docker"));
        cmd
    }

    fn connection_flags(&self, cmd: &mut Command) {
        if self.tls.is_some() {
            cmd.arg("--ca-file").arg(self.ca_file());
        } else {
            cmd.arg("--plain-http");
        }
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `docker-registry serve root/config.yml` and waits until it listens on `port`; on
/// failure the process is gone and its log is returned.
fn spawn(program: &Path, root: &Path, port: u16) -> Result<Child, String> {
    let log_path = root.join("registry.log");
    let log = fs::File::create(&log_path).expect("create registry log");
    let mut child = Command::new(program)
        .arg("serve")
        .arg(root.join("config.yml"))
        .env_clear()
        .env("PATH", super::BASE_PATH)
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("clone log handle"))
        .stderr(log)
        .spawn()
        .unwrap_or_else(|e| panic!("start {}: {e}", program.display()));
    let read_log = || fs::read_to_string(&log_path).unwrap_or_default();
    let deadline = Instant::now() + START_LIMIT;
    loop {
        if let Some(status) = child.try_wait().expect("poll docker-registry") {
            return Err(format!("exited with {status}\n{}", read_log()));
        }
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(child);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!(
                "not listening after {START_LIMIT:?}\n{}",
                read_log()
            ));
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// The registry configuration: storage on disk, quiet logs, no caches (so tampered storage
/// is served as it is), TLS and authentication as asked.
fn config(
    root: &Path,
    port: u16,
    tls: Option<&Tls>,
    auth: RegistryAuth,
    token: Option<&TokenServer>,
) -> String {
    let root = root.display();
    let mut config = format!(
        "version: 0.1\n\
         log:\n  level: warn\n  accesslog:\n    disabled: true\n\
         storage:\n  filesystem:\n    rootdirectory: {root}/storage\n  delete:\n    enabled: true\n\
         http:\n  addr: 127.0.0.1:{port}\n  secret: strata-test-http-secret\n"
    );
    if let Some(tls) = tls {
        config.push_str(&format!(
            "  tls:\n    certificate: {}\n    key: {}\n",
            tls.cert.display(),
            tls.key.display()
        ));
    }
    match auth {
        RegistryAuth::None => {}
        RegistryAuth::Htpasswd => config.push_str(&format!(
            "auth:\n  htpasswd:\n    realm: strata-test\n    path: {root}/htpasswd\n"
        )),
        RegistryAuth::Token => {
            let token = token.expect("token server");
            config.push_str(&format!(
                "auth:\n  token:\n    realm: {}\n    service: {SERVICE}\n    issuer: {ISSUER}\n    \
                 rootcertbundle: {root}/token-signer.pem\n",
                token.realm()
            ));
        }
    }
    config
}

/// A minimal chart (one ConfigMap) packaged by `helm package` into `dir/packages`.
pub fn package_chart(dir: &Path, helm: Helm, name: &str, version: &str) -> PathBuf {
    let src = dir.join("charts-src").join(format!("{name}-{version}"));
    fs::create_dir_all(src.join("templates")).expect("create chart dir");
    fs::write(
        src.join("Chart.yaml"),
        format!(
            "apiVersion: v2\nname: {name}\nversion: {version}\ndescription: strata test chart\n"
        ),
    )
    .expect("write Chart.yaml");
    fs::write(
        src.join("templates/configmap.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  \
         version: {{ .Chart.Version | quote }}\n",
    )
    .expect("write template");
    let out_dir = dir.join("packages");
    let mut cmd = super::helm(helm);
    cmd.arg("package")
        .arg(&src)
        .arg("--destination")
        .arg(&out_dir);
    let out = run_std(&mut cmd);
    assert!(
        out.status.success(),
        "helm package failed\n{}",
        describe(&out)
    );
    let archive = out_dir.join(format!("{name}-{version}.tgz"));
    assert!(
        archive.is_file(),
        "helm package wrote no {}",
        archive.display()
    );
    archive
}

/// The openssl CLI (signing keys and JWT signatures), unaffected by the caller's config.
fn openssl() -> Command {
    let mut cmd = Command::new(binary(
        "STRATA_TEST_OPENSSL",
        &["/usr/bin/openssl", "/usr/local/bin/openssl"],
    ));
    cmd.env_remove("OPENSSL_CONF");
    cmd
}

/// Runs `cmd` to completion and returns its stdout; fails the test with its output if it fails.
fn output_ok(cmd: &mut Command, what: &str) -> Vec<u8> {
    let out = run_std(cmd.stdin(Stdio::null()));
    assert!(out.status.success(), "{what} failed\n{}", describe(&out));
    out.stdout
}

/// A tiny HTTP/1.1 server on 127.0.0.1 for test scaffolding (a token service, a registry
/// that pages its tag lists): every request gets `handler`'s answer and the connection is
/// closed. Runs on a thread until dropped.
pub struct StubServer {
    port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// What a [`StubServer`] handler sees of a request.
pub struct StubRequest {
    pub method: String,
    pub path: String,
    /// The raw query, without `?`.
    pub query: String,
    /// The `Host` header: where the client thinks it is talking to.
    pub host: String,
    pub authorization: Option<String>,
    /// The body, as long as `Content-Length` says.
    pub body: String,
}

pub struct StubResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl StubResponse {
    pub fn json(status: u16, body: impl Into<String>) -> StubResponse {
        StubResponse {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: body.into(),
        }
    }
}

impl StubServer {
    pub fn start(handler: impl Fn(&StubRequest) -> StubResponse + Send + 'static) -> StubServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind stub server");
        let port = listener.local_addr().expect("stub server address").port();
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let stop = Arc::clone(&stop);
            thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    if let Ok(stream) = stream {
                        serve(stream, &handler);
                    }
                }
            })
        };
        StubServer {
            port,
            stop,
            thread: Some(thread),
        }
    }

    /// `127.0.0.1:<port>`.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// `http://127.0.0.1:<port>`.
    pub fn origin(&self) -> String {
        format!("http://{}", self.host())
    }
}

impl Drop for StubServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Reads one request's head, answers it and closes the connection.
fn serve(stream: TcpStream, handler: &impl Fn(&StubRequest) -> StubResponse) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut reader = BufReader::new(&stream);
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let (mut host, mut authorization, mut length) = (String::new(), None, 0);
    loop {
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) if line.trim().is_empty() => break,
            Ok(_) => {
                if let Some((name, value)) = line.split_once(':') {
                    let value = value.trim().to_owned();
                    match name.trim().to_ascii_lowercase().as_str() {
                        "authorization" => authorization = Some(value),
                        "host" => host = value,
                        "content-length" => length = value.parse().unwrap_or(0),
                        _ => {}
                    }
                }
            }
        }
    }
    let mut body = vec![0; length.min(1 << 20)];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let mut words = request_line.split_whitespace();
    let method = words.next().unwrap_or_default().to_owned();
    let target = words.next().unwrap_or_default();
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let response = handler(&StubRequest {
        method,
        path: path.to_owned(),
        query: query.to_owned(),
        host,
        authorization,
        body: String::from_utf8_lossy(&body).into_owned(),
    });
    let mut head = format!("HTTP/1.1 {} Stub\r\n", response.status);
    for (name, value) in &response.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        response.body.len()
    ));
    let mut stream = &stream;
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(response.body.as_bytes());
    let _ = stream.flush();
    // Drain what the client may still send so closing does not reset the connection.
    let _ = stream.set_read_timeout(Some(Duration::from_millis(50)));
    let _ = reader.read(&mut [0; 512]);
}

/// The token service of a token-auth registry: checks `USER`/`PASSWORD` (Basic) and issues
/// JWTs granting the scopes asked for.
pub struct TokenServer {
    state: Arc<TokenState>,
    server: StubServer,
}

struct TokenState {
    mode: Mutex<TokenMode>,
    issued: AtomicUsize,
    refused: AtomicUsize,
    /// Every token handed out, so tests can check none of them leaks.
    tokens: Mutex<Vec<String>>,
    key: PathBuf,
    /// The signing certificate, base64 DER, for the token header's `x5c`.
    cert_der: String,
}

impl TokenServer {
    /// Creates the signing key and certificate (`root/token-signer.{key,pem}`) and starts
    /// serving on a port of its own.
    fn start(root: &Path) -> TokenServer {
        let key = root.join("token-signer.key");
        let cert = root.join("token-signer.pem");
        output_ok(
            openssl()
                .args([
                    "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                ])
                .args(["-subj", "/CN=strata test token signer", "-keyout"])
                .arg(&key)
                .arg("-out")
                .arg(&cert),
            "openssl: create token signing key",
        );
        let der = output_ok(
            openssl()
                .args(["x509", "-outform", "DER", "-in"])
                .arg(&cert),
            "openssl: certificate to DER",
        );
        let state = Arc::new(TokenState {
            mode: Mutex::new(TokenMode::Valid),
            issued: AtomicUsize::new(0),
            refused: AtomicUsize::new(0),
            tokens: Mutex::new(Vec::new()),
            key,
            cert_der: STANDARD.encode(der),
        });
        let server = {
            let state = Arc::clone(&state);
            StubServer::start(move |request| issue(&state, request))
        };
        TokenServer { state, server }
    }

    pub fn realm(&self) -> String {
        format!("{}/token", self.server.origin())
    }

    pub fn set_mode(&self, mode: TokenMode) {
        *self.state.mode.lock().unwrap() = mode;
    }

    /// Tokens issued so far.
    pub fn issued(&self) -> usize {
        self.state.issued.load(Ordering::SeqCst)
    }

    /// Requests refused for bad or missing credentials so far.
    pub fn refused(&self) -> usize {
        self.state.refused.load(Ordering::SeqCst)
    }

    /// Every token issued so far.
    pub fn tokens(&self) -> Vec<String> {
        self.state.tokens.lock().unwrap().clone()
    }
}

/// `GET /token?service=…&scope=…` with Basic credentials, or the OAuth2 refresh-token grant:
/// `POST /token` with the form `grant_type=refresh_token&refresh_token=…&client_id=…&scope=…
/// &service=…`, answered in `access_token`.
fn issue(state: &TokenState, request: &StubRequest) -> StubResponse {
    if request.path != "/token" {
        return StubResponse::json(404, r#"{"error":"not found"}"#);
    }
    let oauth = request.method == "POST";
    let granted = if oauth {
        valid_refresh_grant(&request.body)
    } else {
        request.method == "GET" && valid_basic(request.authorization.as_deref())
    };
    if !granted {
        state.refused.fetch_add(1, Ordering::SeqCst);
        return if oauth {
            // RFC 6749 §5.2.
            StubResponse::json(400, r#"{"error":"invalid_grant"}"#)
        } else {
            StubResponse::json(401, r#"{"error":"invalid credentials"}"#)
        };
    }
    state.issued.fetch_add(1, Ordering::SeqCst);
    let mode = *state.mode.lock().unwrap();
    let scopes = if oauth { &request.body } else { &request.query };
    let access = match mode {
        TokenMode::NoAccess => Vec::new(),
        _ => access(scopes),
    };
    let token = mint(state, &access, mode == TokenMode::Expired);
    state.tokens.lock().unwrap().push(token.clone());
    let field = match mode {
        _ if oauth => "access_token",
        TokenMode::AccessTokenField => "access_token",
        _ => "token",
    };
    StubResponse::json(
        200,
        serde_json::json!({ field: token, "expires_in": 300 }).to_string(),
    )
}

/// A refresh-token grant for this service with the right token and a client id.
fn valid_refresh_grant(form: &str) -> bool {
    let field = |name: &str| {
        form.split('&')
            .filter_map(|pair| pair.split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| percent_decode(v))
    };
    field("grant_type").as_deref() == Some("refresh_token")
        && field("refresh_token").as_deref() == Some(IDENTITY_TOKEN)
        && field("service").as_deref() == Some(SERVICE)
        && field("client_id").is_some_and(|id| !id.is_empty())
        && field("scope").is_some_and(|scope| scope.contains(":pull"))
}

fn valid_basic(header: Option<&str>) -> bool {
    header
        .and_then(|h| h.strip_prefix("Basic "))
        .and_then(|b| STANDARD.decode(b.trim()).ok())
        .is_some_and(|pair| pair == format!("{USER}:{PASSWORD}").as_bytes())
}

/// The `access` claim granting every `scope=type:name:actions` of the query.
fn access(query: &str) -> Vec<serde_json::Value> {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .filter(|(k, _)| *k == "scope")
        .flat_map(|(_, v)| {
            let scopes = percent_decode(v);
            scopes
                .split(' ')
                .filter_map(|scope| {
                    let (kind, rest) = scope.split_once(':')?;
                    let (name, actions) = rest.rsplit_once(':')?;
                    Some(serde_json::json!({
                        "type": kind,
                        "name": name,
                        "actions": actions.split(',').collect::<Vec<_>>(),
                    }))
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// An RS256 JWT as distribution verifies it: signed by the key whose certificate is in
/// `x5c` and in the registry's `rootcertbundle`.
fn mint(state: &TokenState, access: &[serde_json::Value], expired: bool) -> String {
    static SERIAL: AtomicUsize = AtomicUsize::new(0);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs();
    // Distribution allows a minute of clock skew: an hour in the past is expired for sure.
    let (issued_at, expires) = if expired {
        (now - 7200, now - 3600)
    } else {
        (now - 5, now + 300)
    };
    let header = serde_json::json!({"alg": "RS256", "typ": "JWT", "x5c": [state.cert_der]});
    let claims = serde_json::json!({
        "iss": ISSUER,
        "sub": USER,
        "aud": SERVICE,
        "exp": expires,
        "nbf": issued_at,
        "iat": issued_at,
        "jti": format!("strata-test-{}", SERIAL.fetch_add(1, Ordering::SeqCst)),
        "access": access,
    });
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let mut child = openssl()
        .args(["dgst", "-sha256", "-sign"])
        .arg(&state.key)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run openssl dgst");
    child
        .stdin
        .take()
        .expect("openssl stdin")
        .write_all(signing_input.as_bytes())
        .expect("write signing input");
    let out = child.wait_with_output().expect("wait for openssl dgst");
    assert!(
        out.status.success(),
        "openssl dgst -sign failed\n{}",
        describe(&out)
    );
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(out.stdout))
}

fn percent_decode(s: &str) -> String {
    let mut out = Vec::with_capacity(s.len());
    let mut bytes = s.bytes();
    while let Some(b) = bytes.next() {
        match b {
            b'%' => {
                let hex: Vec<u8> = bytes.by_ref().take(2).collect();
                let decoded = std::str::from_utf8(&hex)
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                out.push(decoded.unwrap_or(b'?'));
            }
            b'+' => out.push(b' '),
            b => out.push(b),
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A registry that hands chart downloads to a storage host, as registries on object storage
/// do, where the storage host answers `401` with a `Bearer` challenge naming a token service
/// of its own (the "foreign realm"). The registry itself demands tokens from its own token
/// service (`/token` on the registry), which accepts `USER`/`PASSWORD` and `IDENTITY_TOKEN`.
/// A client must never send anything to the foreign realm: [`RedirectingRegistry::foreign`]
/// counts what reached it.
pub struct RedirectingRegistry {
    registry: StubServer,
    _storage: StubServer,
    _foreign: StubServer,
    foreign: Arc<Mutex<Vec<String>>>,
    storage_open: Arc<AtomicBool>,
}

/// The bytes the storage host serves as the chart layer when it is open.
pub const REDIRECTED_LAYER: &[u8] = b"chart layer bytes served by storage";
/// The token the registry's own token service issues.
const REGISTRY_TOKEN: &str = "registry-token-9f1c";

impl RedirectingRegistry {
    pub fn start() -> RedirectingRegistry {
        let foreign = Arc::new(Mutex::new(Vec::new()));
        let foreign_server = {
            let seen = Arc::clone(&foreign);
            StubServer::start(move |request| {
                seen.lock().unwrap().push(format!(
                    "{} {}?{} auth={:?} body={}",
                    request.method,
                    request.path,
                    request.query,
                    request.authorization,
                    request.body
                ));
                StubResponse::json(200, r#"{"token":"foreign","access_token":"foreign"}"#)
            })
        };
        let storage_open = Arc::new(AtomicBool::new(false));
        let storage = {
            let realm = format!("{}/token", foreign_server.origin());
            let open = Arc::clone(&storage_open);
            StubServer::start(move |_| {
                if open.load(Ordering::SeqCst) {
                    return StubResponse {
                        status: 200,
                        headers: Vec::new(),
                        body: String::from_utf8(REDIRECTED_LAYER.to_vec()).unwrap(),
                    };
                }
                StubResponse {
                    headers: vec![(
                        "WWW-Authenticate".into(),
                        format!(r#"Bearer realm="{realm}",service="{SERVICE}""#),
                    )],
                    ..StubResponse::json(401, r#"{"errors":[{"code":"UNAUTHORIZED"}]}"#)
                }
            })
        };
        let storage_origin = storage.origin();
        let registry = StubServer::start(move |request| redirecting(request, &storage_origin));
        RedirectingRegistry {
            registry,
            _storage: storage,
            _foreign: foreign_server,
            foreign,
            storage_open,
        }
    }

    /// `127.0.0.1:<port>`.
    pub fn host(&self) -> String {
        self.registry.host()
    }

    /// `oci://127.0.0.1:<port>/helm` (plain HTTP).
    pub fn url(&self) -> String {
        format!("oci://{}/{PATH}", self.host())
    }

    /// The layer digest the registry's manifests name.
    pub fn layer_digest() -> String {
        sha256_hex(REDIRECTED_LAYER)
    }

    /// Lets the storage host serve the layer without credentials, as it should.
    pub fn open_storage(&self) {
        self.storage_open.store(true, Ordering::SeqCst);
    }

    /// Every request the foreign realm received.
    pub fn foreign(&self) -> Vec<String> {
        self.foreign.lock().unwrap().clone()
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    format!("sha256:{}", hex::encode(sha2::Sha256::digest(bytes)))
}

/// The registry side of [`RedirectingRegistry`]: its token service, then tags, manifests and
/// blobs (redirected to storage) for any chart, behind its tokens.
fn redirecting(request: &StubRequest, storage: &str) -> StubResponse {
    if request.path == "/token" {
        let granted = match request.method.as_str() {
            "POST" => valid_refresh_grant(&request.body),
            _ => valid_basic(request.authorization.as_deref()),
        };
        if !granted {
            return StubResponse::json(401, r#"{"error":"invalid credentials"}"#);
        }
        let reply = serde_json::json!({"token": REGISTRY_TOKEN, "access_token": REGISTRY_TOKEN});
        return StubResponse::json(200, reply.to_string());
    }
    let Some(rest) = request.path.strip_prefix(&format!("/v2/{PATH}/")) else {
        return StubResponse::json(404, r#"{"errors":[{"code":"NAME_UNKNOWN"}]}"#);
    };
    let (chart, resource) = rest.split_once('/').unwrap_or((rest, ""));
    if request.authorization.as_deref() != Some(&format!("Bearer {REGISTRY_TOKEN}")) {
        let challenge = format!(
            r#"Bearer realm="http://{}/token",service="{SERVICE}",scope="repository:{PATH}/{chart}:pull""#,
            request.host
        );
        return StubResponse {
            headers: vec![("WWW-Authenticate".into(), challenge)],
            ..StubResponse::json(401, r#"{"errors":[{"code":"UNAUTHORIZED"}]}"#)
        };
    }
    let layer = RedirectingRegistry::layer_digest();
    if resource == "tags/list" {
        let body = serde_json::json!({"name": format!("{PATH}/{chart}"), "tags": ["1.0.0"]});
        StubResponse::json(200, body.to_string())
    } else if resource.starts_with("manifests/") {
        let manifest = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.cncf.helm.config.v1+json",
                "digest": sha256_hex(b"{}"),
                "size": 2,
            },
            "layers": [{
                "mediaType": "application/vnd.cncf.helm.chart.content.v1.tar+gzip",
                "digest": layer,
                "size": REDIRECTED_LAYER.len(),
            }],
        });
        StubResponse {
            headers: vec![(
                "Content-Type".into(),
                "application/vnd.oci.image.manifest.v1+json".into(),
            )],
            ..StubResponse::json(200, manifest.to_string())
        }
    } else if resource == format!("blobs/{layer}") {
        StubResponse {
            status: 307,
            headers: vec![(
                "Location".into(),
                format!("{storage}/blobs/{layer}?X-Signature=signed-url-part"),
            )],
            body: String::new(),
        }
    } else {
        StubResponse::json(404, r#"{"errors":[{"code":"BLOB_UNKNOWN"}]}"#)
    }
}
