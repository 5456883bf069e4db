//! The Argo CD installation pieces agree with each other and with the contract of Argo CD's
//! plugin server: the Dockerfile, the sidecar in `examples/argocd` (kustomize patch and Helm
//! values), plugin.yaml, scripts/install-helm's helm pin, and the generated ApplicationSet.
//!
//! There is no container engine in CI, so the Dockerfile is checked by reading it.

mod common;

use common::*;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// Where argocd-cmp-server and the stock repo-server Deployment put things.
const CMP_SERVER: &str = "/var/run/argocd/argocd-cmp-server";
const VAR_FILES_PATH: &str = "/var/run/argocd";
const PLUGINS_PATH: &str = "/home/argocd/cmp-server/plugins";
const PLUGIN_CONFIG: &str = "/home/argocd/cmp-server/config/plugin.yaml";

/// Volumes the stock repo-server Deployment (manifests and Helm chart alike) already declares.
const STOCK_VOLUMES: &[&str] = &["var-files", "plugins"];

const REPO_URL: &str = "https://git.example.com/platform/fleet.git";

fn examples() -> PathBuf {
    manifest_dir().join("examples").join("argocd")
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// Every YAML document of a file, as JSON values.
fn parse_docs(path: &Path) -> Vec<Value> {
    serde_saphyr::from_multiple(&read(path))
        .unwrap_or_else(|e| panic!("{} is not valid YAML: {e}", path.display()))
}

fn parse_one(path: &Path) -> Value {
    let mut docs = parse_docs(path);
    assert_eq!(docs.len(), 1, "{} should hold one document", path.display());
    docs.remove(0)
}

fn dockerfile() -> String {
    read(&manifest_dir().join("Dockerfile"))
}

/// The arguments of every Dockerfile instruction `name` (single-line instructions only).
fn instructions(dockerfile: &str, name: &str) -> Vec<String> {
    dockerfile
        .lines()
        .filter_map(|line| {
            let (keyword, rest) = line.trim_start().split_once(char::is_whitespace)?;
            keyword
                .eq_ignore_ascii_case(name)
                .then(|| rest.trim().to_owned())
        })
        .collect()
}

/// `ENV` settings of the Dockerfile, `NAME=value` pairs.
fn dockerfile_env(dockerfile: &str) -> BTreeMap<String, String> {
    instructions(dockerfile, "ENV")
        .iter()
        .flat_map(|args| {
            args.split_whitespace()
                .map(|pair| {
                    let (k, v) = pair
                        .split_once('=')
                        .unwrap_or_else(|| panic!("ENV {args:?}: use NAME=value"));
                    (k.to_owned(), v.to_owned())
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The default of `ARG name=default`.
fn dockerfile_arg(dockerfile: &str, name: &str) -> String {
    instructions(dockerfile, "ARG")
        .iter()
        .find_map(|a| a.strip_prefix(&format!("{name}=")).map(str::to_owned))
        .unwrap_or_else(|| panic!("Dockerfile has no `ARG {name}=<default>`"))
}

/// The sidecar as each example defines it: (where, container, pod volumes).
fn sidecars() -> Vec<(&'static str, Value, Vec<Value>)> {
    let patch = parse_one(&examples().join("repo-server-patch.yaml"));
    let pod = &patch["spec"]["template"]["spec"];
    let values = parse_one(&examples().join("helm-values.yaml"));
    let repo_server = &values["repoServer"];
    vec![
        (
            "repo-server-patch.yaml",
            named(&pod["containers"], "strata"),
            list(&pod["volumes"]),
        ),
        (
            "helm-values.yaml",
            named(&repo_server["extraContainers"], "strata"),
            list(&repo_server["volumes"]),
        ),
    ]
}

fn list(v: &Value) -> Vec<Value> {
    v.as_array()
        .unwrap_or_else(|| panic!("expected a list, got {v}"))
        .clone()
}

fn named(items: &Value, name: &str) -> Value {
    list(items)
        .into_iter()
        .find(|i| i["name"] == name)
        .unwrap_or_else(|| panic!("no entry named {name:?} in {items}"))
}

fn env_value(container: &Value, name: &str) -> String {
    named(&container["env"], name)["value"]
        .as_str()
        .unwrap_or_else(|| panic!("env {name} of {} is not a string", container["name"]))
        .to_owned()
}

/// volumeMounts as name → mountPath.
fn mounts(container: &Value) -> BTreeMap<String, String> {
    list(&container["volumeMounts"])
        .iter()
        .map(|m| {
            (
                m["name"].as_str().expect("mount name").to_owned(),
                m["mountPath"].as_str().expect("mountPath").to_owned(),
            )
        })
        .collect()
}

#[test]
fn every_example_file_parses() {
    let mut seen = 0;
    for entry in fs::read_dir(examples()).expect("examples/argocd") {
        let path = entry.expect("dir entry").path();
        if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            let docs = parse_docs(&path);
            assert!(!docs.is_empty(), "{} holds no document", path.display());
            for doc in &docs {
                assert!(doc.is_object(), "{}: not a mapping: {doc}", path.display());
            }
            seen += 1;
        }
    }
    assert!(
        seen >= 4,
        "expected the kustomization, patch, values and appset"
    );
    let kustomization = parse_one(&examples().join("kustomization.yaml"));
    let patches: Vec<String> = list(&kustomization["patches"])
        .iter()
        .map(|p| p["path"].as_str().expect("patch path").to_owned())
        .collect();
    assert_eq!(patches, ["repo-server-patch.yaml"]);
    let patch = parse_one(&examples().join("repo-server-patch.yaml"));
    assert_eq!(patch["kind"], "Deployment");
    assert_eq!(patch["metadata"]["name"], "argocd-repo-server");
}

#[test]
fn mounted_volumes_are_declared() {
    for (file, container, volumes) in sidecars() {
        let declared: BTreeSet<String> = volumes
            .iter()
            .map(|v| v["name"].as_str().expect("volume name").to_owned())
            .collect();
        for name in mounts(&container).keys() {
            assert!(
                declared.contains(name) || STOCK_VOLUMES.contains(&name.as_str()),
                "{file}: volumeMount {name:?} has no volume (declared: {declared:?})"
            );
        }
        for name in ["strata-tmp", "strata-cache"] {
            let volume = volumes
                .iter()
                .find(|v| v["name"] == name)
                .unwrap_or_else(|| panic!("{file}: volume {name} is not declared"));
            assert!(
                volume["emptyDir"].is_object(),
                "{file}: {name} is an emptyDir"
            );
        }
    }
}

#[test]
fn mount_paths_follow_the_plugin_server_contract() {
    for (file, container, _) in sidecars() {
        let mounts = mounts(&container);
        assert_eq!(mounts["var-files"], VAR_FILES_PATH, "{file}");
        assert_eq!(mounts["plugins"], PLUGINS_PATH, "{file}");
        // Its own /tmp: the repo-server's `tmp` volume must not be shared with the plugin.
        assert_eq!(mounts["strata-tmp"], "/tmp", "{file}");
        assert!(
            !mounts.contains_key("tmp"),
            "{file}: mounts the repo-server's tmp"
        );
        assert_eq!(
            container["command"],
            serde_json::json!([CMP_SERVER]),
            "{file}"
        );
    }
    // plugin.yaml says where it lives, and the Dockerfile puts it there.
    assert!(read(&manifest_dir().join("plugin.yaml")).contains(PLUGIN_CONFIG));
}

#[test]
fn sidecar_agrees_with_the_dockerfile() {
    let df = dockerfile();
    assert_eq!(instructions(&df, "USER"), ["999:999"]);
    assert_eq!(
        instructions(&df, "ENTRYPOINT"),
        [format!("[\"{CMP_SERVER}\"]")]
    );
    assert!(
        instructions(&df, "COPY").contains(&format!("plugin.yaml {PLUGIN_CONFIG}")),
        "the Dockerfile must COPY plugin.yaml to {PLUGIN_CONFIG}"
    );
    assert!(
        instructions(&df, "FROM")
            .iter()
            .any(|f| f == "gcr.io/distroless/cc-debian12:nonroot"),
        "runtime image"
    );
    assert!(
        instructions(&df, "FROM")
            .iter()
            .any(|f| f == "rust:1.95-bookworm AS build"),
        "build image"
    );
    assert!(df.contains("cargo build --release --locked"));

    let env = dockerfile_env(&df);
    let cache_dir = &env["STRATA_CACHE_DIR"];
    assert_eq!(instructions(&df, "VOLUME"), [cache_dir.as_str()]);
    assert_eq!(env["HOME"], "/home/argocd");
    assert_eq!(env["STRATA_HELM"], "/usr/local/bin/helm");
    let copies = instructions(&df, "COPY");
    for binary in ["strata", "helm"] {
        assert!(
            copies
                .iter()
                .any(|c| c.ends_with(&format!(" /usr/local/bin/{binary}"))),
            "the Dockerfile must install {binary} at /usr/local/bin/{binary}"
        );
    }

    let mut images = BTreeSet::new();
    for (file, container, _) in sidecars() {
        let security = &container["securityContext"];
        assert_eq!(security["runAsUser"], 999, "{file}: the Dockerfile's USER");
        assert_eq!(security["runAsNonRoot"], true, "{file}");
        assert_eq!(&mounts(&container)["strata-cache"], cache_dir, "{file}");
        images.insert(container["image"].as_str().expect("image").to_owned());
    }
    assert_eq!(images.len(), 1, "both examples use one image: {images:?}");
    let image = images.into_iter().next().unwrap();
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

#[test]
fn dockerfile_pins_the_helm_binary_the_tests_use() {
    let df = dockerfile();
    let version = dockerfile_arg(&df, "HELM_VERSION");
    let sha = dockerfile_arg(&df, "HELM_SHA256");
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
    assert!(
        df.contains("https://get.helm.sh/helm-v${HELM_VERSION}-linux-amd64.tar.gz"),
        "the Dockerfile must download the official release of HELM_VERSION"
    );
}

#[test]
fn message_size_and_timeout_settings_agree() {
    let patch = parse_one(&examples().join("repo-server-patch.yaml"));
    let containers = &patch["spec"]["template"]["spec"]["containers"];
    let repo_server = named(containers, "argocd-repo-server");
    let values = parse_one(&examples().join("helm-values.yaml"));
    let global = named(&values["global"]["env"], "ARGOCD_GRPC_MAX_SIZE_MB")["value"].clone();
    for (file, container, _) in sidecars() {
        let sidecar = env_value(&container, "ARGOCD_GRPC_MAX_SIZE_MB");
        let other = match file {
            "repo-server-patch.yaml" => env_value(&repo_server, "ARGOCD_GRPC_MAX_SIZE_MB"),
            _ => global.as_str().expect("global env value").to_owned(),
        };
        assert_eq!(
            sidecar, other,
            "{file}: sidecar and repo-server limits differ"
        );
        let timeout: u64 = env_value(&container, "STRATA_TIMEOUT")
            .parse()
            .expect("STRATA_TIMEOUT is a number");
        assert!(
            timeout < 60,
            "{file}: STRATA_TIMEOUT must stay below Argo CD's 60 s"
        );
    }
}

fn appset(args: &[&str]) -> std::process::Output {
    run(strata_without_helm()
        .current_dir(manifest_dir())
        .args(["appset", "examples/fleet", "--repo-url", REPO_URL])
        .args(args))
}

#[test]
fn applicationset_example_is_current() {
    let out = appset(&["--revision", "main", "--project", "tenants"]);
    assert_success(&out, "strata appset");
    let file = examples().join("applicationset.yaml");
    let committed = fs::read(&file).expect("examples/argocd/applicationset.yaml");
    if out.stdout != committed {
        panic!(
            "examples/argocd/applicationset.yaml is out of date; regenerate it from the repository root:\n\n  \
             cargo run -q -- appset examples/fleet --repo-url {REPO_URL} --revision main --project tenants > examples/argocd/applicationset.yaml\n\n{}",
            line_diff(&text(&committed), &text(&out.stdout))
        );
    }
}

#[test]
fn appset_sends_each_example_tenant_to_its_environment_and_region() {
    let out = appset(&["--revision", "main", "--project", "tenants"]);
    assert_success(&out, "strata appset");
    let set: Value = serde_saphyr::from_str(&text(&out.stdout)).expect("appset YAML");
    assert_eq!(set["kind"], "ApplicationSet");
    assert_eq!(set["spec"]["goTemplate"], true);
    assert_eq!(
        set["spec"]["goTemplateOptions"],
        serde_json::json!(["missingkey=error"])
    );

    let stack: Value =
        serde_saphyr::from_str(&read(&manifest_dir().join("examples/fleet/strata.yaml")))
            .expect("strata.yaml");
    let servers = &stack["clusters"]["servers"];
    assert_eq!(stack["clusters"]["by"], "{{env}}-{{region}}");
    let elements = list(&set["spec"]["generators"][0]["list"]["elements"]);
    let got: Vec<(String, String, String, String)> = elements
        .iter()
        .map(|e| {
            let s = |v: &Value| v.as_str().expect("string").to_owned();
            (
                s(&e["name"]),
                s(&e["path"]),
                s(&e["namespace"]),
                s(&e["server"]),
            )
        })
        .collect();
    let server = |region: &str| servers[region].as_str().expect("server").to_owned();
    let expect = |name: &str, dir: &str, ns: &str, region: &str| {
        (
            name.to_owned(),
            format!("examples/fleet/{dir}"),
            ns.to_owned(),
            server(region),
        )
    };
    assert_eq!(
        got,
        [
            expect(
                "customers-preprod-acme",
                "customers/preprod/acme",
                "web-acme",
                "preprod-den1"
            ),
            expect(
                "customers-prod-acme",
                "customers/prod/acme",
                "web-acme",
                "prod-den1"
            ),
            expect(
                "customers-prod-globex",
                "customers/prod/globex",
                "web-globex",
                "prod-yul1"
            ),
            expect(
                "customers-prod-initech",
                "customers/prod/initech",
                "web-initech",
                "prod-den1"
            ),
        ]
    );
    for e in &elements {
        assert!(manifest_dir().join(e["path"].as_str().unwrap()).is_dir());
        let key = format!(
            "{}-{}",
            e["vars"]["env"].as_str().unwrap(),
            e["vars"]["region"].as_str().unwrap()
        );
        assert_eq!(servers[key.as_str()], e["server"], "{key}");
    }

    let spec = &set["spec"]["template"]["spec"];
    assert_eq!(spec["project"], "tenants");
    assert_eq!(spec["source"]["repoURL"], REPO_URL);
    assert_eq!(spec["source"]["targetRevision"], "main");
    assert_eq!(spec["source"]["path"], "{{ .path }}");
    assert_eq!(spec["destination"]["server"], "{{ .server }}");
    assert_eq!(spec["destination"]["namespace"], "{{ .namespace }}");
    assert_eq!(spec["syncPolicy"]["automated"]["prune"], true);
    assert_eq!(spec["syncPolicy"]["automated"]["selfHeal"], true);
    assert_eq!(
        spec["syncPolicy"]["syncOptions"],
        serde_json::json!(["CreateNamespace=true"])
    );
    // Applications name the plugin `<metadata.name>-<spec.version>` of plugin.yaml.
    let plugin = parse_one(&manifest_dir().join("plugin.yaml"));
    let plugin_name = format!(
        "{}-{}",
        plugin["metadata"]["name"].as_str().unwrap(),
        plugin["spec"]["version"].as_str().unwrap()
    );
    assert_eq!(spec["source"]["plugin"]["name"], plugin_name.as_str());
}

#[test]
fn appset_selects_tenants_and_refuses_an_empty_set() {
    let out = appset(&["--selector", "region=yul1"]);
    assert_success(&out, "strata appset --selector region=yul1");
    let set: Value = serde_saphyr::from_str(&text(&out.stdout)).expect("appset YAML");
    let names: Vec<Value> = list(&set["spec"]["generators"][0]["list"]["elements"])
        .iter()
        .map(|e| e["name"].clone())
        .collect();
    assert_eq!(names, [Value::from("customers-prod-globex")]);
    assert_eq!(set["spec"]["template"]["spec"]["project"], "default");
    assert_eq!(
        set["spec"]["template"]["spec"]["source"]["targetRevision"],
        "HEAD"
    );

    let out = appset(&["--selector", "env=staging"]);
    assert_error(
        &out,
        "strata appset --selector env=staging",
        &["matches the selector env=staging", "would delete"],
    );
}

#[test]
fn appset_names_a_tenant_without_a_cluster() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    fs::create_dir(root.join(".git")).unwrap();
    fs::create_dir_all(root.join("charts/app/templates")).unwrap();
    fs::write(
        root.join("charts/app/Chart.yaml"),
        "apiVersion: v2\nname: app\nversion: 0.1.0\n",
    )
    .unwrap();
    for (tenant, region) in [("a", "den1"), ("b", "fra1")] {
        let t = root.join("t").join(tenant);
        fs::create_dir_all(&t).unwrap();
        fs::write(
            t.join("tenant.yaml"),
            format!("vars: {{region: {region}}}\n"),
        )
        .unwrap();
    }
    fs::write(
        root.join("strata.yaml"),
        "apiVersion: strata/v1\nkind: Stack\ntenants: {path: \"t/{{tenant}}\", file: tenant.yaml}\n\
         clusters: {by: region, servers: {den1: https://den1.example.com}}\n\
         components:\n  - name: app\n    chart: {path: charts/app}\n",
    )
    .unwrap();
    let out = run(strata_without_helm().current_dir(root).args([
        "appset",
        ".",
        "--repo-url",
        REPO_URL,
        "--name",
        "fleet",
    ]));
    assert_error(
        &out,
        "appset with an unmapped region",
        &[
            "tenant t/b",
            "region=\"fra1\"",
            "clusters.servers",
            "clusters.default",
        ],
    );
}
