//! Real servers for integration tests, started by the test itself on 127.0.0.1: nginx
//! serving a directory as a Helm repository (optionally with basic auth, TLS and client
//! certificates), certificates made with the openssl CLI, and free ports.
//!
//! Nothing runs as a service: each server is a child process with its config, logs and pid
//! in a temporary directory, and is stopped when dropped. `scripts/install-test-servers`
//! installs the binaries.

use std::fs;
use std::io::Read;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// A TCP port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind 127.0.0.1:0")
}

/// Waits until something accepts connections on `port`.
pub fn wait_for_port(port: u16, limit: Duration) -> bool {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let start = Instant::now();
    while start.elapsed() < limit {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// Path of a server binary: `$env_var`, else the first of `candidates` that exists. Panics
/// (never skips) with the install hint when it is missing.
pub fn binary(env_var: &str, candidates: &[&str]) -> PathBuf {
    if let Some(p) = std::env::var_os(env_var).filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    candidates
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "{} not found (looked in {candidates:?}); run scripts/install-test-servers \
                 or set {env_var}",
                candidates[0]
            )
        })
}

/// Runs a command to completion, panicking with its output on failure.
pub fn run_ok(cmd: &mut Command) {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("spawn {:?}: {e}", cmd.get_program()));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn openssl() -> Command {
    let mut cmd = Command::new(binary(
        "STRATA_TEST_OPENSSL",
        &["/usr/bin/openssl", "/usr/local/bin/openssl"],
    ));
    cmd.env_remove("OPENSSL_CONF");
    cmd
}

/// A throw-away CA and a server certificate it signed for `127.0.0.1` and `localhost`.
/// Cloning shares the files; they live as long as any clone.
#[derive(Clone, Debug)]
pub struct Tls {
    pub ca_pem: PathBuf,
    pub ca_key: PathBuf,
    /// Server certificate (PEM), SAN `IP:127.0.0.1, DNS:localhost` unless made by
    /// [`Tls::for_hosts`].
    pub cert: PathBuf,
    pub key: PathBuf,
    dir: Arc<tempfile::TempDir>,
}

impl Tls {
    /// Makes a fresh CA and server certificate (P-256 keys, valid for two days).
    pub fn generate() -> Tls {
        Tls::with_names("localhost", "IP:127.0.0.1,DNS:localhost")
    }

    /// Like [`Tls::generate`], with a server certificate for these DNS names only (for a
    /// server reached through a proxy under a public-looking name).
    pub fn for_hosts(hosts: &[&str]) -> Tls {
        let san: Vec<String> = hosts.iter().map(|h| format!("DNS:{h}")).collect();
        Tls::with_names(hosts[0], &san.join(","))
    }

    fn with_names(cn: &str, san: &str) -> Tls {
        let dir = tempfile::Builder::new()
            .prefix("strata-tls-")
            .tempdir()
            .expect("temp dir");
        let p = |name: &str| dir.path().join(name);
        run_ok(
            openssl()
                .args(["req", "-x509", "-new", "-nodes", "-days", "2"])
                .args([
                    "-newkey",
                    "ec",
                    "-pkeyopt",
                    "ec_paramgen_curve:prime256v1",
                    "-subj",
                    "/CN=strata test CA",
                    "-addext",
                    "basicConstraints=critical,CA:TRUE",
                    "-addext",
                    "keyUsage=critical,keyCertSign,cRLSign",
                    "-keyout",
                    p("ca.key").to_str().unwrap(),
                    "-out",
                    p("ca.pem").to_str().unwrap(),
                ]),
        );
        let tls = Tls {
            ca_pem: p("ca.pem"),
            ca_key: p("ca.key"),
            cert: p("server.pem"),
            key: p("server.key"),
            dir: Arc::new(dir),
        };
        tls.issue(
            "server",
            cn,
            &format!("subjectAltName={san}\nextendedKeyUsage=serverAuth\n"),
        );
        tls
    }

    /// A self-signed server certificate for `127.0.0.1` that is also a CA (`CA:TRUE`), as
    /// quick private setups make them: `cert` and `ca_pem` are the same file.
    pub fn self_signed_ca() -> Tls {
        let dir = tempfile::Builder::new()
            .prefix("strata-tls-")
            .tempdir()
            .expect("temp dir");
        let p = |name: &str| dir.path().join(name);
        run_ok(
            openssl()
                .args(["req", "-x509", "-new", "-nodes", "-days", "2"])
                .args([
                    "-newkey",
                    "ec",
                    "-pkeyopt",
                    "ec_paramgen_curve:prime256v1",
                    "-subj",
                    "/CN=127.0.0.1",
                    "-addext",
                    "basicConstraints=critical,CA:TRUE",
                    "-addext",
                    "subjectAltName=IP:127.0.0.1,DNS:localhost",
                    "-keyout",
                    p("server.key").to_str().unwrap(),
                    "-out",
                    p("server.pem").to_str().unwrap(),
                ]),
        );
        Tls {
            ca_pem: p("server.pem"),
            ca_key: p("server.key"),
            cert: p("server.pem"),
            key: p("server.key"),
            dir: Arc::new(dir),
        }
    }

    /// `openssl rehash` of a directory of CA certificates: the hashed layout OpenSSL and Go
    /// read through `SSL_CERT_DIR`.
    pub fn rehash(dir: &Path) {
        run_ok(openssl().arg("rehash").arg(dir));
    }

    /// One CA and server certificate for the whole test binary.
    pub fn shared() -> &'static Tls {
        static TLS: OnceLock<Tls> = OnceLock::new();
        TLS.get_or_init(Tls::generate)
    }

    /// A client certificate signed by this CA: `(cert.pem, key.pem)`.
    pub fn client_cert(&self, name: &str) -> (PathBuf, PathBuf) {
        self.issue(name, name, "extendedKeyUsage=clientAuth\n")
    }

    fn issue(&self, file: &str, cn: &str, extensions: &str) -> (PathBuf, PathBuf) {
        let p = |suffix: &str| self.dir.path().join(format!("{file}{suffix}"));
        let (cert, key, csr, ext) = (p(".pem"), p(".key"), p(".csr"), p(".ext"));
        fs::write(
            &ext,
            format!("basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n{extensions}"),
        )
        .expect("write extensions");
        run_ok(openssl().args(["req", "-new", "-nodes"]).args([
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-subj",
            &format!("/CN={cn}"),
            "-keyout",
            key.to_str().unwrap(),
            "-out",
            csr.to_str().unwrap(),
        ]));
        run_ok(openssl().args(["x509", "-req", "-days", "2"]).args([
            "-in",
            csr.to_str().unwrap(),
            "-CA",
            self.ca_pem.to_str().unwrap(),
            "-CAkey",
            self.ca_key.to_str().unwrap(),
            "-CAcreateserial",
            "-extfile",
            ext.to_str().unwrap(),
            "-out",
            cert.to_str().unwrap(),
        ]));
        (cert, key)
    }
}

/// One line of an nginx access log.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Request {
    /// Path and query as requested.
    pub uri: String,
    pub status: u16,
    /// The request's `If-None-Match` (empty when absent).
    pub if_none_match: String,
    pub if_modified_since: String,
    /// Whether the request carried an Authorization header (its value is never logged).
    pub authorization: bool,
    /// The basic-auth user nginx accepted, empty otherwise.
    pub user: String,
}

/// What an [`Nginx`] serves and how.
#[derive(Debug, Clone)]
pub struct NginxBuilder {
    root: PathBuf,
    basic_auth: Option<(String, String)>,
    tls: Option<Tls>,
    client_certs: bool,
    extra: String,
}

impl NginxBuilder {
    /// Requires HTTP basic auth with this user and password.
    pub fn basic_auth(mut self, user: &str, password: &str) -> Self {
        self.basic_auth = Some((user.to_owned(), password.to_owned()));
        self
    }

    /// Serves HTTPS with this server certificate.
    pub fn tls(mut self, tls: &Tls) -> Self {
        self.tls = Some(tls.clone());
        self
    }

    /// Also requires a client certificate signed by the TLS CA (needs [`Self::tls`]).
    pub fn require_client_cert(mut self) -> Self {
        self.client_certs = true;
        self
    }

    /// Raw directives for the `server` block, e.g.
    /// `location = /flaky/index.yaml { return 503; }`.
    pub fn extra(mut self, directives: &str) -> Self {
        self.extra.push_str(directives);
        self.extra.push('\n');
        self
    }

    /// Starts nginx and waits until it accepts connections.
    pub fn start(self) -> Nginx {
        let dir = tempfile::Builder::new()
            .prefix("strata-nginx-")
            .tempdir()
            .expect("temp dir");
        let mut last_error = String::new();
        // A port picked free can be taken before nginx binds it; try a few.
        for _ in 0..5 {
            let port = free_port();
            let conf = self.config(dir.path(), port);
            fs::write(dir.path().join("nginx.conf"), conf).expect("write nginx.conf");
            let error_log = dir.path().join("error.log");
            let _ = fs::remove_file(&error_log);
            let mut child = Command::new(binary(
                "STRATA_TEST_NGINX",
                &["/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/bin/nginx"],
            ))
            .arg("-e")
            .arg(&error_log)
            .arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(dir.path().join("nginx.conf"))
            .args(["-g", "daemon off;"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn nginx");
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(10) {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                if wait_for_port(port, Duration::from_millis(50)) {
                    let scheme = if self.tls.is_some() { "https" } else { "http" };
                    return Nginx {
                        child,
                        port,
                        scheme,
                        dir,
                    };
                }
            }
            let _ = child.kill();
            let _ = child.wait();
            let mut stderr = String::new();
            if let Some(mut s) = child.stderr.take() {
                let _ = s.read_to_string(&mut stderr);
            }
            last_error = format!(
                "{stderr}{}",
                fs::read_to_string(&error_log).unwrap_or_default()
            );
            if !last_error.contains("Address already in use") {
                break;
            }
        }
        panic!("nginx did not start:\n{last_error}");
    }

    fn config(&self, dir: &Path, port: u16) -> String {
        let d = dir.display();
        let mut server = format!(
            "listen 127.0.0.1:{port}{ssl};\nroot {root};\n",
            ssl = if self.tls.is_some() { " ssl" } else { "" },
            root = self.root.display()
        );
        if let Some(tls) = &self.tls {
            server.push_str(&format!(
                "ssl_certificate {};\nssl_certificate_key {};\n",
                tls.cert.display(),
                tls.key.display()
            ));
            if self.client_certs {
                server.push_str(&format!(
                    "ssl_client_certificate {};\nssl_verify_client on;\n",
                    tls.ca_pem.display()
                ));
            }
        }
        if let Some((user, password)) = &self.basic_auth {
            let hash = openssl()
                .args(["passwd", "-apr1", password])
                .output()
                .expect("openssl passwd");
            assert!(hash.status.success(), "openssl passwd failed");
            let line = format!("{user}:{}", String::from_utf8_lossy(&hash.stdout).trim());
            fs::write(dir.join("htpasswd"), line + "\n").expect("write htpasswd");
            server.push_str(&format!(
                "auth_basic \"strata test\";\nauth_basic_user_file {d}/htpasswd;\n"
            ));
        }
        server.push_str(&self.extra);
        // One process, no user switch: it reads what the test wrote, as the test's user.
        format!(
            r#"master_process off;
pid {d}/nginx.pid;
error_log {d}/error.log info;
events {{ worker_connections 256; }}
http {{
    types {{ text/yaml yaml; application/gzip tgz; application/json json; }}
    default_type application/octet-stream;
    map $http_authorization $has_authorization {{ "" false; default true; }}
    log_format strata escape=json '{{"method":"$request_method","uri":"$request_uri","status":$status,'
        '"ifNoneMatch":"$http_if_none_match","ifModifiedSince":"$http_if_modified_since",'
        '"authorization":$has_authorization,"user":"$remote_user"}}';
    access_log {d}/access.log strata;
    client_body_temp_path {d}/client_body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    server {{
{server}    }}
}}
"#
        )
    }
}

/// A running nginx; killed when dropped.
pub struct Nginx {
    child: Child,
    port: u16,
    scheme: &'static str,
    dir: tempfile::TempDir,
}

impl Nginx {
    /// A server for the files under `root` (plain HTTP, no auth until configured).
    pub fn serve(root: impl AsRef<Path>) -> NginxBuilder {
        NginxBuilder {
            root: root.as_ref().to_path_buf(),
            basic_auth: None,
            tls: None,
            client_certs: false,
            extra: String::new(),
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http(s)://127.0.0.1:<port>` (no trailing slash); append the path.
    pub fn url(&self) -> String {
        format!("{}://127.0.0.1:{}", self.scheme, self.port)
    }

    /// Every request so far, oldest first. nginx logs a request just after sending its
    /// response, so the log is read until it stops changing for a moment.
    pub fn requests(&self) -> Vec<Request> {
        let read = || fs::read_to_string(self.dir.path().join("access.log")).unwrap_or_default();
        let mut text = read();
        loop {
            std::thread::sleep(Duration::from_millis(100));
            let again = read();
            if again == text {
                break;
            }
            text = again;
        }
        text.lines()
            .map(|l| {
                serde_json::from_str(l).unwrap_or_else(|e| panic!("access log line {l:?}: {e}"))
            })
            .collect()
    }

    /// Requests whose path (without query) is `path`.
    pub fn requests_to(&self, path: &str) -> Vec<Request> {
        self.requests()
            .into_iter()
            .filter(|r| r.uri.split('?').next() == Some(path))
            .collect()
    }

    /// Stops the server now; its port refuses connections afterwards.
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        self.stop();
    }
}
