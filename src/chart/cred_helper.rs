//! Docker credential helpers (`credHelpers` and `credsStore` in a Docker or Helm registry
//! config), the way docker and helm use them for ECR, GAR and ACR: the program
//! `docker-credential-<name>` on PATH is run with `get`, the registry's server name on stdin,
//! and answers `{"ServerURL": …, "Username": …, "Secret": …}` on stdout. A `Username` of
//! `<token>` means `Secret` is an identity token (an OAuth2 refresh token).
//!
//! A helper's failure is logged and the registry is left to the other credential sources:
//! a helper is ambient configuration, often for registries strata never contacts. Nothing a
//! helper prints is ever logged, since its output holds the secret.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long one helper may take (ECR's helper calls AWS; a hung one must not hang the render).
const HELPER_TIMEOUT: Duration = Duration::from_secs(20);

/// What a helper returned for one server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelperCredential {
    pub username: Option<String>,
    pub secret: String,
    /// `Username` was `<token>`: `secret` is an identity token, not a password.
    pub identity_token: bool,
}

/// Whether `name` may name a helper program (`docker-credential-<name>`): no path separators
/// or other characters that could make it run something else.
pub fn valid_helper_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && !name.starts_with('.')
}

/// Runs `docker-credential-<helper> get` for `server`. `None` when the helper is missing,
/// fails, times out, or has no credential for the server.
pub fn get(helper: &str, server: &str) -> Option<HelperCredential> {
    let out = run(helper, "get", server)?;
    #[derive(serde::Deserialize)]
    struct Reply {
        #[serde(rename = "Username", default)]
        username: String,
        #[serde(rename = "Secret", default)]
        secret: String,
    }
    let Ok(reply) = serde_json::from_slice::<Reply>(&out) else {
        tracing::warn!(
            "docker-credential-{helper}: its answer for {server} is not the helper protocol's JSON; ignored"
        );
        return None;
    };
    if reply.secret.is_empty() {
        return None;
    }
    let identity_token = reply.username == "<token>";
    Some(HelperCredential {
        username: Some(reply.username).filter(|u| !u.is_empty() && !identity_token),
        secret: reply.secret,
        identity_token,
    })
}

/// Runs `docker-credential-<store> list`: server → username of every stored credential.
pub fn list(store: &str) -> BTreeMap<String, String> {
    run(store, "list", "")
        .and_then(|out| serde_json::from_slice(&out).ok())
        .unwrap_or_default()
}

fn run(helper: &str, action: &str, input: &str) -> Option<Vec<u8>> {
    if !valid_helper_name(helper) {
        tracing::warn!("credential helper name {helper:?} is not a plain program name; ignored");
        return None;
    }
    let program = format!("docker-credential-{helper}");
    let mut child = match Command::new(&program)
        .arg(action)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
    {
        Ok(child) => child,
        Err(e) => {
            tracing::warn!("cannot run {program}: {e}");
            return None;
        }
    };
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(input.as_bytes());
    }
    let mut stdout = child.stdout.take()?;
    let reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stdout.by_ref().take(1 << 20).read_to_end(&mut buf);
        buf
    });
    let deadline = Instant::now() + HELPER_TIMEOUT;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                tracing::warn!(
                    "{program} {action} did not answer within {HELPER_TIMEOUT:?}; killed"
                );
                return None;
            }
        }
    };
    let out = reader.join().ok()?;
    if !status.success() {
        // "credentials not found" is the helper's normal answer for an unknown server.
        tracing::debug!("{program} {action} for {input:?} exited with {status}");
        return None;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helper_names_cannot_be_paths() {
        assert!(valid_helper_name("ecr-login"));
        assert!(valid_helper_name("gcloud"));
        assert!(valid_helper_name("osxkeychain"));
        for bad in ["", "../x", "a/b", ".hidden", "a b", "x;y"] {
            assert!(!valid_helper_name(bad), "{bad}");
        }
        assert_eq!(get("../../bin/sh", "x"), None);
    }
}
