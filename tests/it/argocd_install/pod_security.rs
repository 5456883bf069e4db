//! The checks a cluster applies to a Pod template before it runs, written out so they run
//! offline: Pod Security Standards "restricted" (which includes "baseline"), Argo CD's own
//! container hardening (read-only root), and the API server's env rules.
//!
//! Each function returns the violations found, as `<where>: <what>` lines; none is a pass.

use serde_json::Value;
use std::collections::BTreeSet;

/// Volume sources "restricted" allows; anything else (hostPath, nfs, ...) is refused.
const ALLOWED_VOLUMES: &[&str] = &[
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
];

/// The only capability "restricted" lets a container add.
const ALLOWED_ADDED_CAPABILITIES: &[&str] = &["NET_BIND_SERVICE"];

/// Every container of a Pod spec, with the list it is in.
pub fn containers(pod: &Value) -> Vec<(&'static str, &Value)> {
    ["initContainers", "containers", "ephemeralContainers"]
        .into_iter()
        .flat_map(|list| {
            pod[list]
                .as_array()
                .into_iter()
                .flatten()
                .map(move |c| (list, c))
        })
        .collect()
}

/// Pod Security Standards "restricted" for one Pod spec.
pub fn restricted(pod: &Value, at: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut bad = |msg: String| out.push(format!("{at}: {msg}"));
    for host in ["hostNetwork", "hostPID", "hostIPC"] {
        if pod[host] == true {
            bad(format!("{host} is true"));
        }
    }
    for volume in pod["volumes"].as_array().into_iter().flatten() {
        let name = volume["name"].as_str().unwrap_or("?");
        let sources: Vec<&String> = volume
            .as_object()
            .map(|o| o.keys().filter(|k| *k != "name").collect())
            .unwrap_or_default();
        for source in sources {
            if !ALLOWED_VOLUMES.contains(&source.as_str()) {
                bad(format!("volume {name} is of type {source}"));
            }
        }
    }
    let pod_sc = &pod["securityContext"];
    if let Some(sysctls) = pod_sc["sysctls"].as_array()
        && !sysctls.is_empty()
    {
        bad("sets sysctls".into());
    }
    for (list, c) in containers(pod) {
        let name = format!("{list} {}", c["name"].as_str().unwrap_or("?"));
        let sc = &c["securityContext"];
        if sc["privileged"] == true {
            bad(format!("{name}: privileged"));
        }
        if sc["allowPrivilegeEscalation"] != false {
            bad(format!("{name}: allowPrivilegeEscalation must be false"));
        }
        let non_root = match sc["runAsNonRoot"].as_bool() {
            Some(v) => v,
            None => pod_sc["runAsNonRoot"] == true,
        };
        if !non_root {
            bad(format!("{name}: runAsNonRoot must be true"));
        }
        let uid = sc["runAsUser"].as_i64().or(pod_sc["runAsUser"].as_i64());
        if uid == Some(0) {
            bad(format!("{name}: runAsUser is 0"));
        }
        let seccomp = if sc["seccompProfile"].is_object() {
            &sc["seccompProfile"]["type"]
        } else {
            &pod_sc["seccompProfile"]["type"]
        };
        if seccomp != "RuntimeDefault" && seccomp != "Localhost" {
            bad(format!(
                "{name}: seccompProfile.type must be RuntimeDefault or Localhost (container or pod), not {seccomp}"
            ));
        }
        let drop: BTreeSet<&str> = sc["capabilities"]["drop"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        if !drop.contains("ALL") {
            bad(format!("{name}: capabilities.drop must contain ALL"));
        }
        for add in sc["capabilities"]["add"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            if !ALLOWED_ADDED_CAPABILITIES.contains(&add) {
                bad(format!("{name}: adds capability {add}"));
            }
        }
        if sc["procMount"].as_str().is_some_and(|p| p != "Default") {
            bad(format!("{name}: procMount {}", sc["procMount"]));
        }
        if sc["windowsOptions"]["hostProcess"] == true {
            bad(format!("{name}: windowsOptions.hostProcess"));
        }
        for port in c["ports"].as_array().into_iter().flatten() {
            if port["hostPort"].as_i64().is_some_and(|p| p != 0) {
                bad(format!("{name}: hostPort {}", port["hostPort"]));
            }
        }
    }
    out
}

/// Argo CD's containers all run with a read-only root filesystem; the sidecar must too.
pub fn read_only_root(pod: &Value, at: &str) -> Vec<String> {
    containers(pod)
        .into_iter()
        .filter(|(_, c)| c["securityContext"]["readOnlyRootFilesystem"] != true)
        .map(|(list, c)| {
            format!(
                "{at}: {list} {}: readOnlyRootFilesystem must be true",
                c["name"].as_str().unwrap_or("?")
            )
        })
        .collect()
}

/// What the API server refuses in env lists: an entry with both `value` and `valueFrom`; and
/// what it warns about and server-side apply refuses: two entries of one name.
pub fn env_rules(pod: &Value, at: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (list, c) in containers(pod) {
        let name = format!("{list} {}", c["name"].as_str().unwrap_or("?"));
        let mut seen = BTreeSet::new();
        for entry in c["env"].as_array().into_iter().flatten() {
            let var = entry["name"].as_str().unwrap_or("?");
            if entry.get("value").is_some() && entry.get("valueFrom").is_some() {
                out.push(format!(
                    "{at}: {name}: env {var} has both value and valueFrom"
                ));
            }
            if !seen.insert(var.to_owned()) {
                out.push(format!("{at}: {name}: env {var} is defined twice"));
            }
        }
    }
    out
}

/// Mounts refer to declared volumes, and mount paths are unique per container.
pub fn mounts_resolve(pod: &Value, at: &str) -> Vec<String> {
    let declared: BTreeSet<&str> = pod["volumes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v["name"].as_str())
        .collect();
    let mut out = Vec::new();
    for (list, c) in containers(pod) {
        let name = format!("{list} {}", c["name"].as_str().unwrap_or("?"));
        let mut paths = BTreeSet::new();
        for m in c["volumeMounts"].as_array().into_iter().flatten() {
            let volume = m["name"].as_str().unwrap_or("?");
            if !declared.contains(volume) {
                out.push(format!("{at}: {name}: mounts undeclared volume {volume}"));
            }
            let path = m["mountPath"].as_str().unwrap_or("?");
            if !paths.insert(path.to_owned()) {
                out.push(format!("{at}: {name}: two mounts at {path}"));
            }
        }
    }
    out
}

/// Every check above for one Pod spec.
pub fn all(pod: &Value, at: &str) -> Vec<String> {
    let mut out = restricted(pod, at);
    out.extend(read_only_root(pod, at));
    out.extend(env_rules(pod, at));
    out.extend(mounts_resolve(pod, at));
    out
}
