//! The Argo CD installation a platform team applies first: examples/argocd built with a real
//! `kubectl kustomize` over a local stand-in for Argo CD v3.5.1's install.yaml, the Helm
//! values applied as the argo-cd chart applies them, and every object validated offline
//! against the Kubernetes 1.33 schemas, Pod Security "restricted", Argo CD's read-only root
//! and the API server's env rules. Also: the sidecar agrees with the Dockerfile and
//! plugin.yaml, and mounts credentials, TLS certificates and the CA bundle read-only.
//!
//! The image itself is built and run by scripts/build-image and scripts/test-image.

mod install;
mod pod_security;

use crate::common::*;
use install::*;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Where argocd-cmp-server and the stock repo-server Deployment put things.
const CMP_SERVER: &str = "/var/run/argocd/argocd-cmp-server";
const VAR_FILES_PATH: &str = "/var/run/argocd";
const PLUGINS_PATH: &str = "/home/argocd/cmp-server/plugins";
const PLUGIN_CONFIG: &str = "/home/argocd/cmp-server/config/plugin.yaml";

fn dockerfile() -> String {
    read(&manifest_dir().join("Dockerfile"))
}

/// Instructions of the Dockerfile as (keyword, arguments), continuation lines joined.
fn instructions(dockerfile: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in dockerfile.lines() {
        if current.is_empty() && (line.trim().is_empty() || line.trim_start().starts_with('#')) {
            continue;
        }
        if let Some(head) = line.strip_suffix('\\') {
            current.push_str(head);
            current.push(' ');
            continue;
        }
        current.push_str(line);
        let joined = std::mem::take(&mut current);
        let (keyword, rest) = joined
            .trim()
            .split_once(char::is_whitespace)
            .unwrap_or((joined.trim(), ""));
        out.push((keyword.to_uppercase(), rest.trim().to_owned()));
    }
    out
}

/// The instructions of the last stage.
fn runtime_stage(dockerfile: &str) -> Vec<(String, String)> {
    let all = instructions(dockerfile);
    let start = all.iter().rposition(|(k, _)| k == "FROM").expect("FROM");
    all[start..].to_vec()
}

fn stage_args(stage: &[(String, String)], keyword: &str) -> Vec<String> {
    stage
        .iter()
        .filter(|(k, _)| k == keyword)
        .map(|(_, a)| a.clone())
        .collect()
}

/// The runtime stage's `ENV` settings.
fn image_env() -> BTreeMap<String, String> {
    stage_args(&runtime_stage(&dockerfile()), "ENV")
        .iter()
        .flat_map(|args| {
            args.split_whitespace()
                .map(|pair| {
                    let (k, v) = pair.split_once('=').expect("ENV NAME=value");
                    (k.to_owned(), v.to_owned())
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The strata sidecar as each install path defines it: (where, container, its Pod spec).
fn sidecars() -> Vec<(&'static str, Value, Value)> {
    let built = build_kustomization(&[]);
    let repo = pod(object(&built, "Deployment", "argocd-repo-server")).clone();
    let values = parse_one(&examples().join("helm-values.yaml"));
    let charted = apply_chart_values(&values);
    let chart_pod = pod(object(&charted, "Deployment", "argocd-repo-server")).clone();
    vec![
        (
            "kustomization",
            named(&repo["containers"], "strata").clone(),
            repo,
        ),
        (
            "helm values",
            named(&chart_pod["containers"], "strata").clone(),
            chart_pod,
        ),
    ]
}

fn env_value(container: &Value, name: &str) -> String {
    named(&container["env"], name)["value"]
        .as_str()
        .unwrap_or_else(|| panic!("env {name} of {} is not a string", container["name"]))
        .to_owned()
}

/// volumeMounts as mountPath → mount.
fn mounts(container: &Value) -> BTreeMap<String, Value> {
    container["volumeMounts"]
        .as_array()
        .expect("volumeMounts")
        .iter()
        .map(|m| {
            (
                m["mountPath"].as_str().expect("mountPath").to_owned(),
                m.clone(),
            )
        })
        .collect()
}

/// The mount that holds `path`, and its volume.
fn mount_of<'a>(pod: &'a Value, container: &Value, path: &str) -> (Value, &'a Value) {
    let (_, mount) = mounts(container)
        .into_iter()
        .filter(|(at, _)| path == at || path.starts_with(&format!("{}/", at.trim_end_matches('/'))))
        .max_by_key(|(at, _)| at.len())
        .unwrap_or_else(|| panic!("{path} is on no volume of {}", container["name"]));
    let volume = named(&pod["volumes"], mount["name"].as_str().unwrap());
    (mount, volume)
}

fn assert_none(problems: Vec<String>, what: &str) {
    assert!(problems.is_empty(), "{what}:\n  {}", problems.join("\n  "));
}

#[test]
fn kustomization_builds_and_passes_schemas_and_pod_security() {
    let objects = build_kustomization(&[]);
    let kinds: Vec<String> = objects
        .iter()
        .map(|o| {
            format!(
                "{}/{}",
                o["kind"].as_str().unwrap(),
                o["metadata"]["name"].as_str().unwrap()
            )
        })
        .collect();
    assert!(
        kinds.contains(&"Deployment/argocd-repo-server".to_owned()),
        "{kinds:?}"
    );
    for o in &objects {
        assert_eq!(
            o["metadata"]["namespace"], "argocd",
            "{}",
            o["metadata"]["name"]
        );
    }
    assert_none(schema_errors(&objects), "Kubernetes schema errors");
    for (at, pod) in pods(&objects) {
        assert_none(pod_security::all(pod, &at), "Pod checks");
    }
}

#[test]
fn helm_values_applied_as_the_chart_does_pass_the_same_checks() {
    let values = parse_one(&examples().join("helm-values.yaml"));
    let objects = apply_chart_values(&values);
    assert_none(schema_errors(&objects), "Kubernetes schema errors");
    for (at, pod) in pods(&objects) {
        assert_none(pod_security::all(pod, &at), "Pod checks");
    }
}

#[test]
fn both_install_paths_install_the_same_sidecar_and_settings() {
    let [(_, kustomized, kpod), (_, charted, cpod)] =
        <[_; 2]>::try_from(sidecars()).expect("two install paths");
    assert_eq!(
        kustomized, charted,
        "the sidecar container differs between the patch and the values"
    );
    let ours = |pod: &Value| -> Vec<Value> {
        pod["volumes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|v| v["name"].as_str().unwrap().starts_with("strata-"))
            .cloned()
            .collect()
    };
    assert_eq!(ours(&kpod), ours(&cpod), "the sidecar's volumes differ");

    let built = build_kustomization(&[]);
    let values = parse_one(&examples().join("helm-values.yaml"));
    let charted = apply_chart_values(&values);
    for objects in [&built, &charted] {
        let params = &object(objects, "ConfigMap", "argocd-cmd-params-cm")["data"];
        let size = params["reposerver.grpc.max.size"]
            .as_str()
            .expect("reposerver.grpc.max.size");
        // The repo-server reads it through its stock valueFrom entry, untouched.
        let repo = pod(object(objects, "Deployment", "argocd-repo-server"));
        let entry = named(
            &named(&repo["containers"], "argocd-repo-server")["env"],
            "ARGOCD_GRPC_MAX_SIZE_MB",
        );
        assert_eq!(
            entry["valueFrom"]["configMapKeyRef"]["key"],
            "reposerver.grpc.max.size"
        );
        assert!(entry.get("value").is_none(), "{entry}");
        // The sidecar (gRPC server) and the next hops use the same limit.
        assert_eq!(
            env_value(
                named(&repo["containers"], "strata"),
                "ARGOCD_GRPC_MAX_SIZE_MB"
            ),
            size
        );
        for (kind, name) in [
            ("StatefulSet", "argocd-application-controller"),
            ("Deployment", "argocd-server"),
        ] {
            let c = named(&pod(object(objects, kind, name))["containers"], name);
            assert_eq!(env_value(c, "ARGOCD_GRPC_MAX_SIZE_MB"), size, "{name}");
        }
        assert_eq!(
            params["reposerver.plugin.tar.exclusions"], ".git;*/snapshots;*/*/snapshots",
            "snapshots and git metadata stay out of the tarball sent to the sidecar"
        );
        let timeout: u64 = env_value(named(&repo["containers"], "strata"), "STRATA_TIMEOUT")
            .parse()
            .expect("STRATA_TIMEOUT is a number");
        assert!(
            timeout < 60,
            "STRATA_TIMEOUT must stay below Argo CD's 60 s"
        );
    }
}

#[test]
fn the_env_rule_catches_a_value_added_to_a_stock_value_from_entry() {
    // What the example used to do: a plain value for a variable the stock Deployment reads
    // from argocd-cmd-params-cm. The strategic merge keeps both.
    let objects = build_kustomization(&[(
        "bad-env.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: argocd-repo-server}\nspec:\n  template:\n    spec:\n      containers:\n        - name: argocd-repo-server\n          env:\n            - {name: ARGOCD_GRPC_MAX_SIZE_MB, value: \"200\"}\n",
    )]);
    let repo = pod(object(&objects, "Deployment", "argocd-repo-server"));
    assert_eq!(
        pod_security::env_rules(repo, "repo-server"),
        [
            "repo-server: containers argocd-repo-server: env ARGOCD_GRPC_MAX_SIZE_MB has both value and valueFrom"
        ]
    );
    // The Helm path's old mistake: the same variable in global.env.
    let mut values = parse_one(&examples().join("helm-values.yaml"));
    values["global"] = json!({"env": [{"name": "ARGOCD_GRPC_MAX_SIZE_MB", "value": "200"}]});
    let charted = apply_chart_values(&values);
    let repo = pod(object(&charted, "Deployment", "argocd-repo-server"));
    assert_eq!(
        pod_security::env_rules(repo, "repo-server"),
        [
            "repo-server: containers argocd-repo-server: env ARGOCD_GRPC_MAX_SIZE_MB is defined twice"
        ]
    );
}

#[test]
fn the_checks_catch_what_restricted_and_the_schemas_refuse() {
    let mut objects = build_kustomization(&[]);
    let repo = object_mut(&mut objects, "Deployment", "argocd-repo-server");
    let strata = named_mut(
        &mut repo["spec"]["template"]["spec"]["containers"],
        "strata",
    );
    let sc = strata["securityContext"].as_object_mut().unwrap();
    sc.remove("seccompProfile");
    sc.remove("readOnlyRootFilesystem");
    sc.insert("capabilities".into(), json!({"add": ["SYS_ADMIN"]}));
    strata["ports"] = json!([{"containerPort": 80, "hostPort": 80}]);
    repo["spec"]["template"]["spec"]["volumes"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "host", "hostPath": {"path": "/"}}));
    let problems = pod_security::all(pod(repo), "r");
    for expected in [
        "r: containers strata: seccompProfile.type must be RuntimeDefault or Localhost (container or pod), not null",
        "r: containers strata: capabilities.drop must contain ALL",
        "r: containers strata: adds capability SYS_ADMIN",
        "r: containers strata: hostPort 80",
        "r: volume host is of type hostPath",
        "r: containers strata: readOnlyRootFilesystem must be true",
    ] {
        assert!(
            problems.contains(&expected.to_owned()),
            "{expected:?} not in {problems:#?}"
        );
    }
    // A pod-level RuntimeDefault profile is enough.
    repo["spec"]["template"]["spec"]["securityContext"] =
        json!({"seccompProfile": {"type": "RuntimeDefault"}});
    assert!(
        !pod_security::restricted(pod(repo), "r")
            .iter()
            .any(|p| p.contains("seccomp"))
    );

    // The schemas are strict: a misspelt field is an error, not ignored.
    let mut objects = build_kustomization(&[]);
    let repo = object_mut(&mut objects, "Deployment", "argocd-repo-server");
    named_mut(
        &mut repo["spec"]["template"]["spec"]["containers"],
        "strata",
    )["volumeMount"] = json!([]);
    let errors = schema_errors(&objects);
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(errors[0].contains("volumeMount"), "{errors:#?}");
}

#[test]
fn mount_paths_follow_the_plugin_server_contract() {
    for (at, container, _) in sidecars() {
        let mounts = mounts(&container);
        assert_eq!(mounts[VAR_FILES_PATH]["name"], "var-files", "{at}");
        assert_eq!(mounts[PLUGINS_PATH]["name"], "plugins", "{at}");
        // Its own /tmp: the repo-server's `tmp` volume must not be shared with the plugin.
        assert_eq!(mounts["/tmp"]["name"], "strata-tmp", "{at}");
        assert_eq!(container["command"], json!([CMP_SERVER]), "{at}");
        // Nothing hides what the image brings.
        for path in mounts.keys() {
            for image_path in [
                "/usr/local/bin",
                "/home/argocd/cmp-server/config",
                "/etc/ssl/certs",
            ] {
                assert!(
                    !image_path.starts_with(path.as_str()),
                    "{at}: the mount at {path} hides the image's {image_path}"
                );
            }
        }
    }
    // plugin.yaml says where it lives, and the image puts it there.
    assert!(read(&manifest_dir().join("plugin.yaml")).contains(PLUGIN_CONFIG));
    assert!(
        read(&manifest_dir().join("scripts/image-rootfs"))
            .contains("home/argocd/cmp-server/config/plugin.yaml")
    );
}

#[test]
fn everything_strata_writes_is_a_volume_under_a_read_only_root() {
    let env = image_env();
    for (at, container, pod) in sidecars() {
        assert_eq!(
            container["securityContext"]["readOnlyRootFilesystem"], true,
            "{at}"
        );
        for path in ["/tmp", env["STRATA_CACHE_DIR"].as_str()] {
            let (mount, volume) = mount_of(&pod, &container, path);
            assert!(
                volume["emptyDir"].is_object(),
                "{at}: {path} is on {volume}"
            );
            assert_ne!(mount["readOnly"], true, "{at}: {path} must be writable");
        }
    }
}

#[test]
fn credentials_tls_certificates_and_ca_bundle_are_mounted_read_only() {
    for (at, container, pod) in sidecars() {
        // (env var naming a path, the volume source it must come from)
        let repos = env_value(&container, "STRATA_ARGOCD_REPOSITORIES_DIR");
        let ca = env_value(&container, "STRATA_CA_FILE");
        let secret_dir = format!("{repos}/charts");
        for (path, source) in [
            (secret_dir.as_str(), "secret"),
            (ca.as_str(), "configMap"),
            ("/app/config/tls/charts.example.com", "configMap"),
        ] {
            let (mount, volume) = mount_of(&pod, &container, path);
            assert_eq!(
                mount["readOnly"], true,
                "{at}: {path} must be mounted read-only"
            );
            assert!(
                volume[source].is_object(),
                "{at}: {path} should come from a {source}: {volume}"
            );
        }
        // The repository Secret is one directory below STRATA_ARGOCD_REPOSITORIES_DIR, as
        // strata reads it (one directory per Secret, one file per key).
        assert_eq!(
            mount_of(&pod, &container, &secret_dir).0["mountPath"],
            secret_dir.as_str(),
            "{at}"
        );
        // The CA bundle is the ConfigMap's ca.crt key.
        let (mount, volume) = mount_of(&pod, &container, &ca);
        let mount_path = PathBuf::from(mount["mountPath"].as_str().unwrap());
        assert_eq!(
            PathBuf::from(&ca).strip_prefix(&mount_path).unwrap(),
            PathBuf::from("ca.crt"),
            "{at}"
        );
        assert_eq!(
            volume["configMap"]["optional"], true,
            "{at}: a missing CA ConfigMap must not block the Pod"
        );
        // Argo CD's per-host certificates, where the repo-server has them.
        let (_, tls) = mount_of(&pod, &container, "/app/config/tls/x");
        assert_eq!(tls["configMap"]["name"], "argocd-tls-certs-cm", "{at}");
    }
}

#[test]
fn sidecar_agrees_with_the_dockerfile() {
    let df = dockerfile();
    let stage = runtime_stage(&df);
    assert_eq!(stage[0], ("FROM".to_owned(), "scratch".to_owned()));
    assert_eq!(stage_args(&stage, "USER"), ["999:999"]);
    assert_eq!(
        stage_args(&stage, "ENTRYPOINT"),
        [format!("[\"{CMP_SERVER}\"]")]
    );
    assert_eq!(stage_args(&stage, "COPY"), ["--from=build /rootfs/ /"]);
    let env = image_env();
    assert_eq!(
        stage_args(&stage, "VOLUME"),
        [env["STRATA_CACHE_DIR"].clone()]
    );
    assert_eq!(env["HOME"], "/home/argocd");
    assert_eq!(env["STRATA_HELM"], "/usr/local/bin/helm");
    assert_eq!(env["PATH"], "/usr/local/bin");

    // Every base image is fully qualified and pinned by digest.
    for from in stage_args(&instructions(&df), "FROM") {
        let image = from.split_whitespace().next().unwrap();
        if image == "scratch" {
            continue;
        }
        let (name, digest) = image
            .split_once("@sha256:")
            .unwrap_or_else(|| panic!("{image} is not pinned by digest"));
        assert_eq!(digest.len(), 64, "{image}");
        assert!(digest.chars().all(|c| c.is_ascii_hexdigit()), "{image}");
        assert!(
            name.split('/')
                .next()
                .is_some_and(|host| host.contains('.')),
            "{image} is not fully qualified (registry host first)"
        );
    }
    // The build stage makes the root filesystem with the script the offline build uses.
    let runs = stage_args(&instructions(&df), "RUN").join("\n");
    assert!(
        runs.contains(
            "scripts/image-rootfs /rootfs target/x86_64-unknown-linux-gnu/release/strata"
        ),
        "{runs}"
    );
    assert!(
        runs.contains("+crt-static"),
        "strata must be linked statically for FROM scratch"
    );
    assert!(runs.contains("cargo build --release --locked"));

    for (at, container, _) in sidecars() {
        let security = &container["securityContext"];
        assert_eq!(security["runAsUser"], 999, "{at}: the Dockerfile's USER");
        assert_eq!(security["runAsGroup"], 999, "{at}: the Dockerfile's USER");
        let image = container["image"].as_str().expect("image");
        assert!(
            df.contains(&format!("-t {image} .")),
            "the Dockerfile's build command should tag {image}"
        );
        assert_eq!(
            image.rsplit_once(':').map(|(_, tag)| tag),
            Some(env!("CARGO_PKG_VERSION")),
            "the example image's tag is strata's version"
        );
    }
}

#[test]
fn dockerfile_pins_the_helm_binary_the_tests_use() {
    let df = dockerfile();
    let arg = |name: &str| -> String {
        stage_args(&instructions(&df), "ARG")
            .iter()
            .find_map(|a| a.strip_prefix(&format!("{name}=")).map(str::to_owned))
            .unwrap_or_else(|| panic!("Dockerfile has no `ARG {name}=<default>`"))
    };
    let (version, sha) = (arg("HELM_VERSION"), arg("HELM_SHA256"));
    assert_eq!(version, "3.17.3");
    let script = read(&manifest_dir().join("scripts").join("install-helm"));
    // version | npm package | npm version | tarball sha256 | helm binary sha256
    let pinned = script
        .lines()
        .filter_map(|l| l.trim().strip_prefix('"')?.strip_suffix('"'))
        .map(|l| l.split('|').collect::<Vec<_>>())
        .find(|fields| fields.len() == 5 && fields[0] == version)
        .unwrap_or_else(|| panic!("scripts/install-helm pins no helm {version}"));
    assert_eq!(
        sha, pinned[4],
        "HELM_SHA256 must be the helm binary sha256 scripts/install-helm pins"
    );
    assert!(
        df.contains("sha256sum -c"),
        "the Dockerfile must verify helm"
    );
    assert!(df.contains("https://get.helm.sh/helm-v${HELM_VERSION}-linux-amd64.tar.gz"));
}

/// The install guide shows the commands the tests and CI run.
#[test]
fn install_guide_is_what_the_tests_run() {
    let section = read(&manifest_dir().join("docs/argocd.md"));
    assert!(
        section.starts_with("# Installing in Argo CD\n"),
        "docs/argocd.md is the install guide"
    );
    for command in [
        "kubectl apply -k examples/argocd",
        "helm upgrade --install argocd argo/argo-cd -n argocd -f examples/argocd/helm-values.yaml",
        "docker build --platform linux/amd64 -t ghcr.io/example/strata:0.1.0 .",
        "scripts/build-image",
        "scripts/test-image",
    ] {
        assert!(
            section.contains(command),
            "the install section lacks `{command}`"
        );
    }
    let test_script = read(&manifest_dir().join("scripts/test"));
    for step in [
        "scripts/install-kube-tools",
        "scripts/build-image",
        "scripts/test-image",
    ] {
        assert!(
            test_script.contains(step),
            "scripts/test does not run {step}"
        );
    }
}

/// The values rendered by the real argo-cd chart (not in CI: the chart is not vendored).
/// `STRATA_TEST_ARGOCD_CHART=<unpacked argo-cd chart> cargo test --test it argocd_install:: -- --ignored`
#[test]
#[ignore = "needs the argo-cd chart: STRATA_TEST_ARGOCD_CHART=<chart dir>"]
fn helm_values_render_with_the_real_argo_cd_chart() {
    let chart = std::env::var("STRATA_TEST_ARGOCD_CHART").expect("STRATA_TEST_ARGOCD_CHART");
    let helm = std::env::var("STRATA_TEST_HELM3").expect("STRATA_TEST_HELM3");
    let out = run(assert_cmd::Command::new(helm)
        .args(["template", "argocd", &chart, "-n", "argocd", "-f"])
        .arg(examples().join("helm-values.yaml")));
    assert_success(&out, "helm template argo-cd");
    let objects = parse_docs(&text(&out.stdout), "argo-cd chart output");
    let ours = [
        "argocd-repo-server",
        "argocd-application-controller",
        "argocd-server",
    ];
    let touched: Vec<Value> = objects
        .iter()
        .filter(|o| {
            o["metadata"]["name"]
                .as_str()
                .is_some_and(|n| ours.contains(&n))
                || o["metadata"]["name"] == "argocd-cmd-params-cm"
        })
        .filter(|o| o["kind"] != "Service" && o["kind"] != "ServiceAccount")
        .cloned()
        .collect();
    assert!(touched.len() >= 4, "{touched:#?}");
    assert_none(schema_errors(&touched), "Kubernetes schema errors");
    for (at, pod) in pods(&touched) {
        assert_none(pod_security::env_rules(pod, &at), "env rules");
        assert_none(pod_security::mounts_resolve(pod, &at), "mounts");
    }
    let repo = object(&touched, "Deployment", "argocd-repo-server");
    assert_none(pod_security::all(pod(repo), "repo-server"), "Pod checks");
    let params = &object(&touched, "ConfigMap", "argocd-cmd-params-cm")["data"];
    assert_eq!(params["reposerver.grpc.max.size"], "200");
}

/// The sizing the docs state: one helm render peaks near 50 MiB, and the sidecar's memory
/// limit covers the repo-server's parallelism limit × four components of that.
#[test]
fn sidecar_memory_covers_parallel_helm_renders() {
    let chart = manifest_dir().join("examples/fleet/charts/web");
    let mut peak: f64 = 0.0;
    for helm in Helm::ALL {
        let (status, bytes) = peak_rss(&helm.path(), |cmd| {
            cmd.args(["template", "acme"])
                .arg(&chart)
                .arg("--include-crds")
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null());
        });
        assert!(status.success(), "helm {} failed: {status}", helm.version());
        let mib = bytes as f64 / (1024.0 * 1024.0);
        assert!(
            (20.0..80.0).contains(&mib),
            "helm {} peaked at {mib:.1} MiB",
            helm.version()
        );
        peak = peak.max(mib);
    }
    let built = build_kustomization(&[]);
    let parallelism: f64 =
        object(&built, "ConfigMap", "argocd-cmd-params-cm")["data"]["reposerver.parallelism.limit"]
            .as_str()
            .expect("reposerver.parallelism.limit")
            .parse()
            .unwrap();
    let repo = pod(object(&built, "Deployment", "argocd-repo-server"));
    let limit = named(&repo["containers"], "strata")["resources"]["limits"]["memory"].clone();
    assert_eq!(limit, "1Gi");
    // strata's own share is small beside helm's: 64 MiB set aside for it.
    assert!(
        parallelism * 4.0 * peak + 64.0 <= 1024.0,
        "{parallelism} requests × 4 components × {peak:.1} MiB exceed the 1 GiB limit"
    );
}
