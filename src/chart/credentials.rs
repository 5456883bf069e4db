//! Credentials for chart repositories and OCI registries, matched by URL prefix.
//!
//! Argo CD does not hand its repository credentials to plugin sidecars, so strata reads them
//! itself, from four sources in this order of precedence:
//!
//! 1. `STRATA_REPO_<N>_URL` with `_USERNAME`, `_PASSWORD`, `_TOKEN`, `_CA_FILE` (env);
//! 2. the YAML file named by `STRATA_CREDENTIALS_FILE` (`repositories: [{url, username,
//!    password, token, caFile}]`);
//! 3. Argo CD repository and repo-creds Secrets mounted as files under
//!    `STRATA_ARGOCD_REPOSITORIES_DIR` (one directory per Secret, one file per key);
//! 4. the registry logins of Helm (`helm registry login`) and Docker (`config.json`).
//!
//! The longest matching prefix wins; at equal length the earlier source wins. Prefixes are
//! compared by whole path segments, so `https://h/charts` does not match `https://h/charts2`.
//! Registry logins name a host only and so match anything on that host.

use super::transport::url::{UrlParts, default_port, redact};
use super::transport::{Auth, ClientCertPem, RepoTls, Secret};
use base64::Engine;
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// What strata knows about one repository URL prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    /// The prefix as configured, without userinfo.
    pub url: String,
    pub username: Option<String>,
    pub password: Option<Secret>,
    /// Sent as `Authorization: Bearer`.
    pub token: Option<Secret>,
    /// A registry's OAuth2 refresh token (`docker login` with an identity token): exchanged
    /// for an access token at the registry's token endpoint, never sent as is.
    pub identity_token: Option<Secret>,
    pub ca_file: Option<PathBuf>,
    pub client_cert: Option<ClientCertPem>,
    /// Where this came from, safe to print (never holds a secret).
    pub source: String,
}

impl Credential {
    fn new(url: &str, source: String) -> Credential {
        Credential {
            url: redact(url),
            username: None,
            password: None,
            token: None,
            identity_token: None,
            ca_file: None,
            client_cert: None,
            source,
        }
    }

    /// How to authenticate a request: a token wins over a username and password.
    pub fn auth(&self) -> Option<Auth> {
        if let Some(token) = &self.token {
            return Some(Auth::Bearer(token.clone()));
        }
        match (&self.username, &self.password) {
            (Some(username), password) => Some(Auth::Basic {
                username: username.clone(),
                password: password.clone().unwrap_or_else(|| Secret::new("")),
            }),
            (None, Some(password)) => Some(Auth::Basic {
                username: String::new(),
                password: password.clone(),
            }),
            (None, None) => None,
        }
    }

    /// This repository's own TLS settings, if it has any.
    pub fn tls(&self) -> Option<RepoTls> {
        (self.ca_file.is_some() || self.client_cert.is_some()).then(|| RepoTls {
            ca_file: self.ca_file.clone(),
            client_cert: self.client_cert.clone(),
        })
    }
}

/// Why the credential sources could not be read. Never quotes a secret.
#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    #[error("{set} is set but {missing} is not: every STRATA_REPO_<N>_… group needs its URL")]
    EnvWithoutUrl { set: String, missing: String },
    #[error(
        "{name} is not valid UTF-8: set it to the repository's URL or credential as UTF-8 text"
    )]
    EnvNotUtf8 { name: String },
    #[error(
        "{origin}: {url:?} is not a repository URL (expected https://host/path, oci://host/path or host/path)"
    )]
    BadUrl { origin: String, url: String },
    #[error("credentials file {path}: {reason}")]
    File { path: String, reason: String },
    #[error("Argo CD repository secret {path}: {reason}")]
    ArgoCd { path: String, reason: String },
}

/// Where credentials are read from; [`CredentialSources::from_env`] fills it from the process
/// environment, tests build it by hand.
#[derive(Debug, Clone, Default)]
pub struct CredentialSources {
    /// `STRATA_REPO_*` variables; other names are ignored.
    pub env: Vec<(String, String)>,
    /// `STRATA_REPO_*` variables whose value is not UTF-8. Refused rather than skipped: a
    /// skipped `_URL` would send the group's password nowhere and its repository none.
    pub env_not_utf8: Vec<String>,
    pub credentials_file: Option<PathBuf>,
    pub argocd_repositories_dir: Option<PathBuf>,
    /// Helm/Docker registry `config.json` files, in precedence order; missing ones are skipped.
    pub registry_configs: Vec<PathBuf>,
}

impl CredentialSources {
    pub fn from_env() -> CredentialSources {
        let var = |name: &str| {
            std::env::var_os(name)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        let mut env = Vec::new();
        let mut env_not_utf8 = Vec::new();
        for (key, value) in std::env::vars_os() {
            let Some(key) = key.to_str().filter(|k| k.starts_with(ENV_PREFIX)) else {
                continue;
            };
            match value.into_string() {
                Ok(value) => env.push((key.to_owned(), value)),
                Err(_) => env_not_utf8.push(key.to_owned()),
            }
        }
        let home = var("HOME");
        // Helm's own lookup order for the file `helm registry login` writes.
        let helm = var("HELM_REGISTRY_CONFIG")
            .or_else(|| var("HELM_CONFIG_HOME").map(|d| d.join("registry/config.json")))
            .or_else(|| var("XDG_CONFIG_HOME").map(|d| d.join("helm/registry/config.json")))
            .or_else(|| {
                home.as_ref()
                    .map(|h| h.join(".config/helm/registry/config.json"))
            });
        let docker = var("DOCKER_CONFIG")
            .map(|d| d.join("config.json"))
            .or_else(|| home.as_ref().map(|h| h.join(".docker/config.json")));
        CredentialSources {
            env,
            env_not_utf8,
            credentials_file: var("STRATA_CREDENTIALS_FILE"),
            argocd_repositories_dir: var("STRATA_ARGOCD_REPOSITORIES_DIR"),
            registry_configs: helm.into_iter().chain(docker).collect(),
        }
    }
}

/// Every credential of the process, loaded once.
#[derive(Debug, Clone, Default)]
pub struct CredentialStore {
    entries: Vec<(Prefix, Credential)>,
}

impl CredentialStore {
    pub fn from_env() -> Result<CredentialStore, CredentialError> {
        CredentialStore::from_sources(&CredentialSources::from_env())
    }

    pub fn from_sources(sources: &CredentialSources) -> Result<CredentialStore, CredentialError> {
        if let Some(name) = sources.env_not_utf8.first() {
            return Err(CredentialError::EnvNotUtf8 { name: name.clone() });
        }
        let mut entries = from_env_vars(&sources.env)?;
        if let Some(path) = &sources.credentials_file {
            entries.extend(from_credentials_file(path)?);
        }
        if let Some(dir) = &sources.argocd_repositories_dir {
            entries.extend(from_argocd_dir(dir)?);
        }
        for path in &sources.registry_configs {
            entries.extend(from_registry_config(path));
        }
        Ok(CredentialStore { entries })
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The credential for `url` (`https://…`, `http://…` or an `oci://host/path` reference):
    /// the longest matching prefix, the earliest source at equal length.
    pub fn lookup(&self, url: &str) -> Option<&Credential> {
        let target = UrlParts::parse(url)?;
        let segments = segments(&target.path);
        let mut best: Option<(usize, &Credential)> = None;
        for (prefix, cred) in &self.entries {
            if prefix.matches(&target, &segments)
                && best.is_none_or(|(len, _)| prefix.segments.len() > len)
            {
                best = Some((prefix.segments.len(), cred));
            }
        }
        best.map(|(_, c)| c)
    }
}

/// A credential's URL prefix in comparable form.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Prefix {
    /// `None` for `host/path` and registry logins: any of https, http and oci.
    scheme: Option<String>,
    host: String,
    port: Option<u16>,
    segments: Vec<String>,
}

impl Prefix {
    fn parse(url: &str) -> Option<Prefix> {
        let url = url.trim();
        let parts = if url.contains("://") {
            UrlParts::parse(url)?
        } else {
            let mut p = UrlParts::parse(&format!("https://{url}"))?;
            p.scheme = String::new();
            p
        };
        Some(Prefix {
            scheme: Some(parts.scheme.clone()).filter(|s| !s.is_empty()),
            host: parts.host.clone(),
            port: parts.port,
            segments: segments(&parts.path),
        })
    }

    fn matches(&self, target: &UrlParts, target_segments: &[String]) -> bool {
        let scheme_ok = match (self.scheme.as_deref(), target.scheme.as_str()) {
            (None, _) => true,
            // Credentials configured for plain HTTP only; HTTPS ones never go out in clear.
            (Some("http"), t) => t == "http",
            (Some(_), t) => t == "https" || t == "oci",
        };
        let port = self
            .port
            .or_else(|| default_port(self.scheme.as_deref().unwrap_or(&target.scheme)));
        scheme_ok
            && self.host == target.host
            && port == target.effective_port()
            && target_segments.starts_with(&self.segments)
    }
}

fn segments(path: &str) -> Vec<String> {
    path.split('/')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

fn prefix_for(url: &str, origin: &str) -> Result<Prefix, CredentialError> {
    Prefix::parse(url).ok_or_else(|| CredentialError::BadUrl {
        origin: origin.to_owned(),
        url: redact(url),
    })
}

// ---------------------------------------------------------------------------------------------
// 1. Environment

const ENV_PREFIX: &str = "STRATA_REPO_";
const ENV_FIELDS: &[&str] = &["_CA_FILE", "_URL", "_USERNAME", "_PASSWORD", "_TOKEN"];

fn from_env_vars(env: &[(String, String)]) -> Result<Vec<(Prefix, Credential)>, CredentialError> {
    let mut groups: BTreeMap<String, BTreeMap<&str, &str>> = BTreeMap::new();
    for (key, value) in env {
        let Some(rest) = key.strip_prefix(ENV_PREFIX) else {
            continue;
        };
        let Some((id, field)) = ENV_FIELDS
            .iter()
            .find_map(|f| rest.strip_suffix(f).map(|id| (id, *f)))
        else {
            continue;
        };
        if !id.is_empty() {
            groups
                .entry(id.to_owned())
                .or_default()
                .insert(field, value.as_str());
        }
    }
    // STRATA_REPO_2_… before STRATA_REPO_10_…: numbers in numeric order, names after them.
    let mut ids: Vec<&String> = groups.keys().collect();
    ids.sort_by_key(|id| (id.parse::<u64>().map_err(|_| (*id).clone()), (*id).clone()));
    let mut out = Vec::new();
    for id in ids {
        let fields = &groups[id];
        let var = |f: &str| format!("{ENV_PREFIX}{id}{f}");
        let Some(url) = fields.get("_URL").filter(|u| !u.trim().is_empty()) else {
            let set = fields.keys().next().map(|f| var(f)).unwrap_or_default();
            return Err(CredentialError::EnvWithoutUrl {
                set,
                missing: var("_URL"),
            });
        };
        let prefix = prefix_for(url, &var("_URL"))?;
        let mut cred = Credential::new(url, format!("environment {}", var("_URL")));
        let nonempty = |f: &str| {
            fields
                .get(f)
                .map(|v| v.to_string())
                .filter(|v| !v.is_empty())
        };
        cred.username = nonempty("_USERNAME");
        cred.password = nonempty("_PASSWORD").map(Secret::new);
        cred.token = nonempty("_TOKEN").map(Secret::new);
        cred.ca_file = nonempty("_CA_FILE").map(PathBuf::from);
        out.push((prefix, cred));
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// 2. Credentials file

/// Accepts any scalar as a string, so a numeric password never becomes a type error that
/// would quote it.
struct Scalar(String);

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Scalar, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Scalar;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
                Ok(Scalar(v.to_owned()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

fn nonempty(s: Option<Scalar>) -> Option<String> {
    s.map(|s| s.0).filter(|s| !s.is_empty())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CredentialsFile {
    #[serde(default)]
    repositories: Vec<FileEntry>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct FileEntry {
    url: String,
    username: Option<Scalar>,
    password: Option<Scalar>,
    token: Option<Scalar>,
    ca_file: Option<String>,
}

fn from_credentials_file(path: &Path) -> Result<Vec<(Prefix, Credential)>, CredentialError> {
    let shown = path.display().to_string();
    let err = |reason: String| CredentialError::File {
        path: shown.clone(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
    let file: CredentialsFile = crate::yaml::parse_config(&text).map_err(|e| err(e.to_string()))?;
    let base = path.parent().unwrap_or(Path::new("."));
    let mut out = Vec::new();
    for (i, entry) in file.repositories.into_iter().enumerate() {
        let origin = format!("credentials file {shown}, repositories[{i}]");
        let prefix = prefix_for(&entry.url, &origin)?;
        let mut cred = Credential::new(
            &entry.url,
            format!("credentials file {shown} entry {}", redact(&entry.url)),
        );
        cred.username = nonempty(entry.username);
        cred.password = nonempty(entry.password).map(Secret::new);
        cred.token = nonempty(entry.token).map(Secret::new);
        // A relative caFile is next to the credentials file, not wherever strata runs.
        cred.ca_file = entry
            .ca_file
            .filter(|c| !c.is_empty())
            .map(|c| base.join(c));
        out.push((prefix, cred));
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// 3. Argo CD repository Secrets mounted as files

/// Reads `dir/*/` (each a mounted Secret: one file per key) and `dir` itself if it holds a
/// `url`. Kubernetes' `..data` and `..<timestamp>` bookkeeping entries are skipped; the key
/// files, which are symlinks into them, are followed.
fn from_argocd_dir(dir: &Path) -> Result<Vec<(Prefix, Credential)>, CredentialError> {
    let mut out = Vec::new();
    for secret in secret_dirs(dir)? {
        out.extend(repository_secret(&SecretFiles { dir: &secret })?);
    }
    Ok(out)
}

/// The Secret directories under `dir`: `dir` itself when it holds a `url` file, then its
/// visible subdirectories in name order.
fn secret_dirs(dir: &Path) -> Result<Vec<PathBuf>, CredentialError> {
    let listing = std::fs::read_dir(dir).map_err(|e| argocd_err(dir, e.to_string()))?;
    let mut secret_dirs: Vec<PathBuf> = Vec::new();
    if dir.join("url").is_file() {
        secret_dirs.push(dir.to_path_buf());
    }
    let mut subdirs: Vec<PathBuf> = listing
        .filter_map(|e| e.ok())
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    subdirs.sort();
    secret_dirs.extend(subdirs);
    Ok(secret_dirs)
}

fn argocd_err(path: &Path, reason: String) -> CredentialError {
    CredentialError::ArgoCd {
        path: path.display().to_string(),
        reason,
    }
}

/// One mounted Secret: a directory with a file per key.
struct SecretFiles<'d> {
    dir: &'d Path,
}

impl SecretFiles<'_> {
    /// A key's value exactly as stored; `None` when the key is absent.
    fn read(&self, key: &str) -> Result<Option<String>, CredentialError> {
        let path = self.dir.join(key);
        match std::fs::read(&path) {
            Ok(bytes) => String::from_utf8(bytes)
                .map(Some)
                .map_err(|_| argocd_err(&path, "not UTF-8 text".into())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(argocd_err(&path, e.to_string())),
        }
    }

    /// A key's value without surrounding whitespace; `None` when absent or blank.
    fn trimmed(&self, key: &str) -> Result<Option<String>, CredentialError> {
        Ok(self
            .read(key)?
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty()))
    }
}

/// The credential of one repository (or repo-creds) Secret; `None` for a Secret that is not
/// about a Helm or OCI repository.
fn repository_secret(
    secret: &SecretFiles,
) -> Result<Option<(Prefix, Credential)>, CredentialError> {
    let Some(url) = secret.trimmed("url")? else {
        tracing::debug!(
            "{}: no `url` key; not a repository secret",
            secret.dir.display()
        );
        return Ok(None);
    };
    let kind = secret.trimmed("type")?.unwrap_or_default();
    if kind == "git" {
        return Ok(None);
    }
    let oci = kind == "oci" || secret.trimmed("enableOCI")?.as_deref() == Some("true");
    // Argo CD writes Helm OCI repositories without a scheme; say so explicitly.
    let url = if oci && !url.contains("://") {
        format!("oci://{url}")
    } else {
        url
    };
    let prefix = prefix_for(&url, &format!("{}/url", secret.dir.display()))?;
    let mut cred = Credential::new(
        &url,
        format!("Argo CD repository secret {}", secret.dir.display()),
    );
    cred.username = secret.trimmed("username")?;
    // Secret values are used exactly as stored, as Argo CD does.
    cred.password = secret
        .read("password")?
        .filter(|p| !p.is_empty())
        .map(Secret::new);
    let cert = secret
        .read("tlsClientCertData")?
        .filter(|c| !c.trim().is_empty());
    let key = secret
        .read("tlsClientCertKey")?
        .filter(|k| !k.trim().is_empty());
    cred.client_cert = match (cert, key) {
        (Some(cert_pem), Some(key)) => Some(ClientCertPem {
            cert_pem,
            key_pem: Secret::new(key),
        }),
        (None, None) => None,
        _ => {
            return Err(argocd_err(
                secret.dir,
                "tlsClientCertData and tlsClientCertKey must be set together".into(),
            ));
        }
    };
    Ok(Some((prefix, cred)))
}

// ---------------------------------------------------------------------------------------------
// 4. Helm and Docker registry logins

#[derive(Deserialize)]
struct RegistryConfig {
    #[serde(default)]
    auths: BTreeMap<String, RegistryAuth>,
    #[serde(default, rename = "credsStore")]
    creds_store: Option<String>,
    #[serde(default, rename = "credHelpers")]
    cred_helpers: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct RegistryAuth {
    auth: Option<Scalar>,
    username: Option<Scalar>,
    password: Option<Scalar>,
    identitytoken: Option<Scalar>,
    registrytoken: Option<Scalar>,
}

/// Registry logins are ambient: a broken file is logged and skipped, never fatal, since it
/// may belong to another tool.
fn from_registry_config(path: &Path) -> Vec<(Prefix, Credential)> {
    let Ok(text) = std::fs::read(path) else {
        return Vec::new();
    };
    let config: RegistryConfig = match serde_json::from_slice(&text) {
        Ok(c) => c,
        Err(e) => {
            // Only the position: serde_json's messages may quote a value.
            tracing::warn!(
                "ignoring registry config {}: not valid JSON ({:?} error at line {} column {})",
                path.display(),
                e.classify(),
                e.line(),
                e.column()
            );
            return Vec::new();
        }
    };
    // Docker's order: a host's credHelpers entry, then credsStore, then `auths`; at equal
    // prefix length the earlier entry wins, so helper entries go first.
    let mut out = from_helpers(path, &config);
    for (key, entry) in config.auths {
        let Some(host) = registry_host(&key) else {
            continue;
        };
        let mut cred = Credential::new(
            &host,
            format!("registry config {} entry {host}", path.display()),
        );
        if let Some(encoded) = nonempty(entry.auth) {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(encoded.trim())
                .ok()
                .and_then(|b| String::from_utf8(b).ok());
            match decoded.as_deref().and_then(|d| d.split_once(':')) {
                Some((user, pass)) => {
                    cred.username = Some(user.to_owned()).filter(|u| !u.is_empty());
                    cred.password = Some(Secret::new(pass)).filter(|p| !p.expose().is_empty());
                }
                None => {
                    tracing::warn!(
                        "{}: the `auth` of {host} is not base64 of user:password; ignored",
                        path.display()
                    );
                    continue;
                }
            }
        }
        if let Some(user) = nonempty(entry.username) {
            cred.username = Some(user);
        }
        if let Some(pass) = nonempty(entry.password) {
            cred.password = Some(Secret::new(pass));
        }
        cred.identity_token = nonempty(entry.identitytoken).map(Secret::new);
        cred.token = nonempty(entry.registrytoken).map(Secret::new);
        if cred.identity_token.is_some() && cred.username.as_deref() == Some("<token>") {
            cred.username = None;
        }
        let Some(prefix) = Prefix::parse(&host) else {
            continue;
        };
        // Docker Hub logins are stored under its legacy index URL.
        if prefix.host == "index.docker.io" {
            for alias in ["registry-1.docker.io", "docker.io"] {
                let mut p = prefix.clone();
                p.host = alias.to_owned();
                out.push((p, cred.clone()));
            }
        }
        out.push((prefix, cred));
    }
    out
}

/// Credentials from the config's credential helpers (see [`super::cred_helper`]).
fn from_helpers(path: &Path, config: &RegistryConfig) -> Vec<(Prefix, Credential)> {
    let mut servers: Vec<(String, &str)> = config
        .cred_helpers
        .iter()
        .map(|(server, helper)| (server.clone(), helper.as_str()))
        .collect();
    if let Some(store) = config.creds_store.as_deref().filter(|s| !s.is_empty()) {
        for server in super::cred_helper::list(store).into_keys() {
            let host = registry_host(&server);
            if !servers.iter().any(|(s, _)| registry_host(s) == host) {
                servers.push((server, store));
            }
        }
    }
    let mut out = Vec::new();
    for (server, helper) in servers {
        let Some(host) = registry_host(&server) else {
            continue;
        };
        let Some(found) = super::cred_helper::get(helper, &server) else {
            continue;
        };
        let mut cred = Credential::new(
            &host,
            format!(
                "credential helper docker-credential-{helper} for {host} (registry config {})",
                path.display()
            ),
        );
        if found.identity_token {
            cred.identity_token = Some(Secret::new(found.secret));
        } else {
            cred.username = found.username;
            cred.password = Some(Secret::new(found.secret));
        }
        if let Some(prefix) = Prefix::parse(&host) {
            out.push((prefix, cred));
        }
    }
    out
}

/// `https://index.docker.io/v1/` → `index.docker.io`; `localhost:5000` stays.
fn registry_host(key: &str) -> Option<String> {
    let key = key.trim();
    let rest = key.split_once("://").map_or(key, |(_, r)| r);
    let host = rest.split('/').next().filter(|h| !h.is_empty())?;
    Some(host.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn store(env: &[(&str, &str)]) -> CredentialStore {
        CredentialStore::from_sources(&CredentialSources {
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..Default::default()
        })
        .unwrap()
    }

    #[test]
    fn longest_prefix_wins_by_whole_segments() {
        let s = store(&[
            ("STRATA_REPO_1_URL", "https://h/charts"),
            ("STRATA_REPO_1_USERNAME", "short"),
            ("STRATA_REPO_2_URL", "https://h/charts/team-a/"),
            ("STRATA_REPO_2_USERNAME", "long"),
            ("STRATA_REPO_3_URL", "https://h"),
            ("STRATA_REPO_3_USERNAME", "host"),
        ]);
        let user = |url: &str| s.lookup(url).and_then(|c| c.username.clone());
        assert_eq!(
            user("https://h/charts/team-a/index.yaml").as_deref(),
            Some("long")
        );
        assert_eq!(
            user("https://h/charts/index.yaml").as_deref(),
            Some("short")
        );
        assert_eq!(
            user("https://h/charts2/index.yaml").as_deref(),
            Some("host")
        );
        assert_eq!(user("https://h:443/charts/x").as_deref(), Some("short"));
        assert_eq!(user("https://h:8443/charts/x"), None);
        assert_eq!(user("https://other/charts"), None);
        // https credentials never go to plain http.
        assert_eq!(user("http://h/charts/x"), None);
    }

    #[test]
    fn earlier_source_wins_at_equal_length_and_numbers_sort_numerically() {
        let s = store(&[
            ("STRATA_REPO_10_URL", "https://h/x"),
            ("STRATA_REPO_10_USERNAME", "ten"),
            ("STRATA_REPO_2_URL", "https://h/x"),
            ("STRATA_REPO_2_USERNAME", "two"),
        ]);
        assert_eq!(
            s.lookup("https://h/x/y").unwrap().username.as_deref(),
            Some("two")
        );
    }

    #[test]
    fn env_group_without_url_is_an_error_that_shows_no_value() {
        let err = CredentialStore::from_sources(&CredentialSources {
            env: vec![("STRATA_REPO_1_PASSWORD".into(), "hunter2".into())],
            ..Default::default()
        })
        .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("STRATA_REPO_1_URL"), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
    }

    #[test]
    fn token_wins_over_password_and_debug_hides_both() {
        let s = store(&[
            ("STRATA_REPO_1_URL", "oci://registry.example.com/charts"),
            ("STRATA_REPO_1_USERNAME", "u"),
            ("STRATA_REPO_1_PASSWORD", "pw-secret"),
            ("STRATA_REPO_1_TOKEN", "tok-secret"),
        ]);
        let c = s.lookup("oci://registry.example.com/charts/app").unwrap();
        assert_eq!(c.auth(), Some(Auth::Bearer(Secret::new("tok-secret"))));
        let shown = format!("{s:?}");
        assert!(
            !shown.contains("pw-secret") && !shown.contains("tok-secret"),
            "{shown}"
        );
        // An OCI credential also serves the registry's HTTPS API on the same host.
        assert!(
            s.lookup("https://registry.example.com/charts/app")
                .is_some()
        );
    }

    #[test]
    fn credentials_file_with_relative_ca_and_numeric_password() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("creds.yaml");
        std::fs::write(
            &path,
            "repositories:\n  - url: https://u:p@charts.example.com/stable\n    username: bot\n    password: 12345\n    caFile: ca.pem\n",
        )
        .unwrap();
        let s = CredentialStore::from_sources(&CredentialSources {
            credentials_file: Some(path.clone()),
            ..Default::default()
        })
        .unwrap();
        let c = s
            .lookup("https://charts.example.com/stable/index.yaml")
            .unwrap();
        assert_eq!(c.password.as_ref().map(Secret::expose), Some("12345"));
        assert_eq!(
            c.ca_file.as_deref(),
            Some(dir.path().join("ca.pem").as_path())
        );
        assert_eq!(c.url, "https://charts.example.com/stable");
        assert!(!c.source.contains("u:p@"), "{}", c.source);

        std::fs::write(&path, "repositories:\n  - url: https://h\n    pasword: x\n").unwrap();
        let err = CredentialStore::from_sources(&CredentialSources {
            credentials_file: Some(path),
            ..Default::default()
        })
        .unwrap_err();
        assert!(err.to_string().contains("pasword"), "{err}");
    }

    /// The layout a Secret volume produces: key files are symlinks into `..data`.
    fn mount_secret(dir: &Path, keys: &[(&str, &str)]) {
        let data = dir.join("..2024_01_01_00_00_00.000000000");
        std::fs::create_dir_all(&data).unwrap();
        for (k, v) in keys {
            std::fs::write(data.join(k), v).unwrap();
        }
        symlink(data.file_name().unwrap(), dir.join("..data")).unwrap();
        for (k, _) in keys {
            symlink(format!("..data/{k}"), dir.join(k)).unwrap();
        }
    }

    #[test]
    fn argocd_secret_mounts() {
        let root = tempfile::tempdir().unwrap();
        mount_secret(
            &root.path().join("helm-private"),
            &[
                ("url", "https://charts.example.com/private\n"),
                ("username", "argo"),
                ("password", "s3cret"),
                ("type", "helm"),
            ],
        );
        mount_secret(
            &root.path().join("oci"),
            &[
                ("url", "registry.example.com/charts"),
                ("enableOCI", "true"),
                ("username", "robot"),
                ("password", "x"),
            ],
        );
        mount_secret(
            &root.path().join("git"),
            &[("url", "https://charts.example.com"), ("type", "git")],
        );
        let s = CredentialStore::from_sources(&CredentialSources {
            argocd_repositories_dir: Some(root.path().to_path_buf()),
            ..Default::default()
        })
        .unwrap();
        let c = s
            .lookup("https://charts.example.com/private/a-1.tgz")
            .unwrap();
        assert_eq!(c.username.as_deref(), Some("argo"));
        assert_eq!(c.password.as_ref().map(Secret::expose), Some("s3cret"));
        assert!(
            s.lookup("https://charts.example.com/public").is_none(),
            "git secret skipped"
        );
        let o = s.lookup("oci://registry.example.com/charts/app").unwrap();
        assert_eq!(o.username.as_deref(), Some("robot"));
    }

    #[test]
    fn registry_configs_match_by_host() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        let auth = base64::engine::general_purpose::STANDARD.encode("reg:pw:with:colons");
        std::fs::write(
            &path,
            format!(r#"{{"auths":{{"localhost:5000":{{"auth":"{auth}"}},"https://index.docker.io/v1/":{{"auth":"{auth}"}},"broken":{{"auth":"%%%"}}}}}}"#),
        )
        .unwrap();
        let s = CredentialStore::from_sources(&CredentialSources {
            registry_configs: vec![path, dir.path().join("missing.json")],
            ..Default::default()
        })
        .unwrap();
        let c = s.lookup("oci://localhost:5000/charts/app").unwrap();
        assert_eq!(c.username.as_deref(), Some("reg"));
        assert_eq!(
            c.password.as_ref().map(Secret::expose),
            Some("pw:with:colons")
        );
        assert!(s.lookup("oci://localhost:5001/charts/app").is_none());
        assert!(
            s.lookup("oci://registry-1.docker.io/bitnamicharts/x")
                .is_some()
        );
    }

    #[test]
    fn env_beats_file_beats_registry_config_at_equal_length() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.yaml");
        std::fs::write(
            &file,
            "repositories:\n  - url: https://h\n    username: file\n",
        )
        .unwrap();
        let reg = dir.path().join("config.json");
        std::fs::write(&reg, r#"{"auths":{"h":{"username":"reg","password":"p"}}}"#).unwrap();
        let sources = |env: Vec<(String, String)>| CredentialSources {
            env,
            credentials_file: Some(file.clone()),
            registry_configs: vec![reg.clone()],
            ..Default::default()
        };
        let with_env = CredentialStore::from_sources(&sources(vec![
            ("STRATA_REPO_1_URL".into(), "https://h".into()),
            ("STRATA_REPO_1_USERNAME".into(), "env".into()),
        ]))
        .unwrap();
        assert_eq!(
            with_env.lookup("https://h/x").unwrap().username.as_deref(),
            Some("env")
        );
        let without = CredentialStore::from_sources(&sources(vec![])).unwrap();
        assert_eq!(
            without.lookup("https://h/x").unwrap().username.as_deref(),
            Some("file")
        );
    }
}
