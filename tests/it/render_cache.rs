//! The render cache through the `strata` binary and the real helm: a warm render runs no helm
//! and prints the same bytes; every input that changes helm's output is a miss; failures are
//! never stored; a damaged entry is noticed and replaced.
//!
//! helm calls are counted by a wrapper script (STRATA_HELM) that logs its first argument and
//! then execs the real binary, so what is rendered is still helm's own output.

use crate::common::servers::Nginx;
use crate::common::*;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::Output;

const GLOBEX: &str = "fleet/customers/prod/globex";
const TENANTS: [&str; 4] = [
    "fleet/customers/preprod/acme",
    "fleet/customers/prod/acme",
    "fleet/customers/prod/globex",
    "fleet/customers/prod/initech",
];

/// A copy of examples/fleet with its own cache directory and a counting helm.
struct Fleet {
    tree: Tree,
}

/// helm invocations since the last look, by subcommand.
#[derive(Debug, PartialEq, Eq)]
struct Calls {
    template: usize,
    version: usize,
}

impl Fleet {
    fn new(helm: Helm) -> Fleet {
        let fleet = Fleet { tree: Tree::new() };
        fleet
            .tree
            .copy_from(&manifest_dir().join("examples/fleet"), "fleet");
        fleet.use_helm(helm, "");
        fleet
    }

    /// (Re)writes the wrapper around `helm`; `note` changes its size, as an upgrade would.
    fn use_helm(&self, helm: Helm, note: &str) {
        let wrapper = self.tree.write(
            "bin/helm",
            format!(
                "#!/bin/sh\n# {note}\necho \"$1\" >> '{}'\nexec '{}' \"$@\"\n",
                self.tree.path("helm-calls").display(),
                helm.path().display()
            ),
        );
        fs::set_permissions(&wrapper, fs::Permissions::from_mode(0o755)).expect("chmod wrapper");
    }

    fn cache_dir(&self) -> PathBuf {
        self.tree.path("cache")
    }

    fn strata(&self) -> assert_cmd::Command {
        let mut cmd = strata_without_helm();
        cmd.env("STRATA_HELM", self.tree.path("bin/helm"))
            .env("STRATA_CACHE_DIR", self.cache_dir());
        cmd
    }

    fn render(&self, tenant: &str, args: &[&str]) -> Output {
        run(self
            .strata()
            .arg("render")
            .arg(self.tree.path(tenant))
            .args(args))
    }

    /// Renders and asserts success; returns the manifests.
    #[track_caller]
    fn render_ok(&self, tenant: &str, args: &[&str]) -> Vec<u8> {
        let out = self.render(tenant, args);
        assert_success(&out, &format!("strata render {tenant} {args:?}"));
        out.stdout
    }

    /// What Argo CD runs in the tenant's directory.
    fn generate(&self, tenant: &str) -> Output {
        run(self
            .strata()
            .current_dir(self.tree.path(tenant))
            .arg("generate")
            .env("ARGOCD_APP_NAME", "globex")
            .env("ARGOCD_APP_NAMESPACE", "web-globex")
            .env("ARGOCD_APP_SOURCE_PATH", tenant)
            .env("ARGOCD_APP_PARAMETERS", "null"))
    }

    /// The helm calls since the last look; forgets them.
    fn calls(&self) -> Calls {
        let path = self.tree.path("helm-calls");
        let log = fs::read_to_string(&path).unwrap_or_default();
        let _ = fs::remove_file(&path);
        let count = |what: &str| log.lines().filter(|l| *l == what).count();
        Calls {
            template: count("template"),
            version: count("version"),
        }
    }

    /// The stored renders (temporary files excluded).
    fn entries(&self) -> Vec<PathBuf> {
        let Ok(dir) = fs::read_dir(self.cache_dir().join("renders")) else {
            return Vec::new();
        };
        let mut out: Vec<PathBuf> = dir
            .map(|e| e.expect("dir entry").path())
            .filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.'))
            .collect();
        out.sort();
        out
    }
}

fn calls(template: usize, version: usize) -> Calls {
    Calls { template, version }
}

#[test]
fn a_warm_render_runs_no_helm_and_prints_the_same_bytes() {
    for helm in Helm::ALL {
        let f = Fleet::new(helm);
        let cold = f.render_ok(GLOBEX, &[]);
        assert_eq!(
            f.calls(),
            calls(2, 1),
            "helm {helm:?}: one template per component"
        );
        assert!(text(&cold).contains("kind: Deployment"));
        assert_eq!(f.entries().len(), 1);

        let warm = f.render_ok(GLOBEX, &[]);
        assert_eq!(f.calls(), calls(0, 0), "helm {helm:?}: warm render");
        assert_same_bytes(&warm, &cold, "warm render");

        // generate in Argo CD has the same inputs, so it finds the same entry.
        let out = f.generate(GLOBEX);
        assert_success(&out, "strata generate");
        assert_eq!(
            f.calls(),
            calls(0, 0),
            "helm {helm:?}: generate after render"
        );
        assert_same_bytes(&out.stdout, &cold, "generate");

        let bypass = f.render_ok(GLOBEX, &["--no-cache"]);
        assert_eq!(f.calls(), calls(2, 0), "helm {helm:?}: --no-cache");
        assert_same_bytes(&bypass, &cold, "--no-cache render");

        let out = run(f
            .strata()
            .env("STRATA_NO_CACHE", "1")
            .arg("render")
            .arg(f.tree.path(GLOBEX)));
        assert_success(&out, "STRATA_NO_CACHE=1 render");
        assert_eq!(f.calls(), calls(2, 0), "helm {helm:?}: STRATA_NO_CACHE=1");
        let out = run(f
            .strata()
            .env("STRATA_NO_CACHE", "1")
            .current_dir(f.tree.path(GLOBEX))
            .arg("generate")
            .env("ARGOCD_APP_SOURCE_PATH", GLOBEX));
        assert_success(&out, "STRATA_NO_CACHE=1 generate");
        assert_eq!(
            f.calls(),
            calls(2, 0),
            "helm {helm:?}: generate with STRATA_NO_CACHE=1"
        );
        assert_eq!(f.entries().len(), 1, "a bypassing render stores nothing");
    }
}

#[test]
fn every_input_of_helm_is_in_the_key() {
    let f = Fleet::new(Helm::V3);
    let base = f.render_ok(GLOBEX, &[]);
    assert_eq!(f.calls(), calls(2, 1));

    // One layer value.
    let layer = f.tree.path(format!("{GLOBEX}/values.yaml"));
    let original = fs::read_to_string(&layer).unwrap();
    fs::write(&layer, original.replace("maxReplicas: 4", "maxReplicas: 5")).unwrap();
    let changed = f.render_ok(GLOBEX, &[]);
    assert_eq!(f.calls(), calls(2, 0), "a changed layer is a miss");
    assert!(text(&changed).contains("maxReplicas: 5"));
    f.render_ok(GLOBEX, &[]);
    assert_eq!(f.calls(), calls(0, 0));
    // Back to the old values: the old entry is still there.
    fs::write(&layer, &original).unwrap();
    assert_same_bytes(&f.render_ok(GLOBEX, &[]), &base, "restored layer");
    assert_eq!(f.calls(), calls(0, 0), "the old entry answers again");

    // A template of a local chart.
    let template = f.tree.path("fleet/charts/web/templates/configmap.yaml");
    let source = fs::read_to_string(&template).unwrap();
    fs::write(&template, format!("{source}\n# edited by the test\n")).unwrap();
    let edited = f.render_ok(GLOBEX, &[]);
    assert_eq!(f.calls(), calls(2, 0), "an edited template is a miss");
    assert!(text(&edited).contains("# edited by the test"));
    // A new file in the chart, even one no template includes.
    f.tree.write("fleet/charts/web/files/extra.txt", "x");
    f.render_ok(GLOBEX, &[]);
    assert_eq!(f.calls(), calls(2, 0), "a new chart file is a miss");
    f.tree.remove("fleet/charts/web/files");
    fs::write(&template, &source).unwrap();
    f.render_ok(GLOBEX, &[]);
    assert_eq!(f.calls(), calls(0, 0), "the restored chart hits");

    // Cluster facts.
    let out = run(f
        .strata()
        .env("KUBE_VERSION", "1.29.4")
        .arg("render")
        .arg(f.tree.path(GLOBEX)));
    assert_success(&out, "render with KUBE_VERSION");
    assert_eq!(f.calls(), calls(2, 0), "another KUBE_VERSION is a miss");
    let out = run(f
        .strata()
        .env("KUBE_VERSION", "1.29.4")
        .arg("render")
        .arg(f.tree.path(GLOBEX)));
    assert_success(&out, "render with KUBE_VERSION again");
    assert_eq!(f.calls(), calls(0, 0));
    f.render_ok(GLOBEX, &["--api-versions", "monitoring.coreos.com/v1"]);
    assert_eq!(f.calls(), calls(2, 0), "other API versions are a miss");

    // A parameter layer.
    f.render_ok(GLOBEX, &["--set", "image.tag=9.9.9"]);
    assert_eq!(f.calls(), calls(2, 0), "--set is a miss");

    // The same helm rewritten (size and mtime change): asked its version again, still a hit.
    f.use_helm(Helm::V3, "rewritten");
    assert_same_bytes(&f.render_ok(GLOBEX, &[]), &base, "same helm, new file");
    assert_eq!(
        f.calls(),
        calls(0, 1),
        "the version is asked again, the render hits"
    );
    // Another helm version: a miss.
    f.use_helm(Helm::V4, "");
    f.render_ok(GLOBEX, &[]);
    assert_eq!(f.calls(), calls(2, 1), "another helm version is a miss");
}

#[test]
fn a_failed_render_is_never_stored() {
    let f = Fleet::new(Helm::V3);
    f.tree.write(
        "fleet/charts/web/templates/broken.yaml",
        "{{ fail \"broken on purpose\" }}\n",
    );
    for attempt in ["first", "second"] {
        let out = f.render(GLOBEX, &[]);
        assert_error(&out, attempt, &["broken on purpose", "web"]);
        assert_eq!(f.calls().template, 2, "{attempt} failing render runs helm");
        assert!(f.entries().is_empty(), "{attempt}: nothing stored");
    }
    f.tree.remove("fleet/charts/web/templates/broken.yaml");
    f.render_ok(GLOBEX, &[]);
    assert_eq!(f.calls(), calls(2, 0));
    f.render_ok(GLOBEX, &[]);
    assert_eq!(f.calls(), calls(0, 0));
}

#[test]
fn a_damaged_entry_is_rendered_again() {
    let f = Fleet::new(Helm::V4);
    let good = f.render_ok(GLOBEX, &[]);
    f.calls();
    let [entry] = f.entries().try_into().expect("one entry");
    let whole = fs::read(&entry).unwrap();

    type Damage = fn(&[u8]) -> Vec<u8>;
    let damages: [(&str, Damage); 4] = [
        ("truncated", |b| b[..b.len() / 2].to_vec()),
        ("empty", |_| Vec::new()),
        ("one byte changed", |b| {
            let mut b = b.to_vec();
            let last = b.len() - 2;
            b[last] ^= 0x20;
            b
        }),
        ("header only", |b| {
            b[..=b.iter().position(|&c| c == b'\n').unwrap()].to_vec()
        }),
    ];
    for (what, damage) in damages {
        fs::write(&entry, damage(&whole)).unwrap();
        let out = f.render(GLOBEX, &[]);
        assert_success(&out, what);
        assert_same_bytes(&out.stdout, &good, what);
        assert_eq!(f.calls().template, 2, "{what}: rendered again");
        assert!(
            text(&out.stderr).contains("damaged"),
            "{what}: a warning names the damaged entry\n{}",
            describe(&out)
        );
        assert_eq!(fs::read(&entry).unwrap(), whole, "{what}: entry replaced");
        assert_same_bytes(&f.render_ok(GLOBEX, &[]), &good, what);
        assert_eq!(f.calls().template, 0, "{what}: the replacement hits");
    }
}

#[test]
fn a_change_to_one_tenant_renders_only_that_tenant() {
    let f = Fleet::new(Helm::V3);
    let before: Vec<Vec<u8>> = TENANTS.iter().map(|t| f.render_ok(t, &[])).collect();
    assert_eq!(f.calls().template, 2 * TENANTS.len());
    assert_eq!(f.entries().len(), TENANTS.len());

    let layer = f.tree.path(format!("{GLOBEX}/values.yaml"));
    let text_before = fs::read_to_string(&layer).unwrap();
    fs::write(
        &layer,
        text_before.replace("SESSION_TTL: 30m", "SESSION_TTL: 45m"),
    )
    .unwrap();
    for (tenant, old) in TENANTS.iter().zip(&before) {
        let out = f.render_ok(tenant, &[]);
        let ran = f.calls().template;
        if *tenant == GLOBEX {
            assert_eq!(ran, 2, "{tenant} changed");
            assert!(text(&out).contains("45m"));
        } else {
            assert_eq!(ran, 0, "{tenant} did not change");
            assert_same_bytes(&out, old, tenant);
        }
    }
}

#[test]
fn concurrent_cold_renders_agree_and_leave_one_entry() {
    let f = Fleet::new(Helm::V3);
    let children: Vec<_> = (0..8)
        .map(|_| {
            let mut cmd = std::process::Command::new(strata_bin());
            cmd.env_clear()
                .env("PATH", BASE_PATH)
                .env("HOME", test_home())
                .env("STRATA_HELM", f.tree.path("bin/helm"))
                .env("STRATA_CACHE_DIR", f.cache_dir())
                .arg("render")
                .arg(f.tree.path(GLOBEX))
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped());
            cmd.spawn().expect("spawn strata render")
        })
        .collect();
    let outputs: Vec<Output> = children
        .into_iter()
        .map(|c| c.wait_with_output().expect("wait for strata"))
        .collect();
    for out in &outputs {
        assert_success(out, "concurrent render");
        assert_same_bytes(&out.stdout, &outputs[0].stdout, "concurrent render");
    }
    assert_eq!(f.entries().len(), 1);
    let leftovers = fs::read_dir(f.cache_dir().join("renders")).unwrap().count();
    assert_eq!(leftovers, 1, "no temporary file is left behind");
    f.calls();
    assert_same_bytes(
        &f.render_ok(GLOBEX, &[]),
        &outputs[0].stdout,
        "after the race",
    );
    assert_eq!(f.calls().template, 0);
}

#[test]
fn cache_prune_all_removes_the_renders() {
    let f = Fleet::new(Helm::V3);
    f.render_ok(GLOBEX, &[]);
    assert_eq!(f.entries().len(), 1);
    let out = run(f
        .strata()
        .args(["cache", "prune", "--all"])
        .arg(f.tree.path("fleet")));
    assert_success(&out, "cache prune --all");
    assert!(f.entries().is_empty());
}

/// A versioned chart is named by its locked archive digest: a warm render needs neither helm
/// nor the repository, and a new lock entry is a miss.
#[test]
fn a_versioned_chart_is_keyed_by_its_locked_digest() {
    let f = Fleet { tree: Tree::new() };
    f.use_helm(Helm::V3, "");
    let tree = &f.tree;
    let helm_home = |cmd: &mut std::process::Command| {
        for (var, dir) in [
            ("HELM_CONFIG_HOME", "helm/config"),
            ("HELM_CACHE_HOME", "helm/cache"),
            ("HELM_DATA_HOME", "helm/data"),
        ] {
            cmd.env(var, tree.mkdir(dir));
        }
    };
    let package = |version: &str| {
        let src = format!("src/web-{version}");
        tree.write(
            format!("{src}/Chart.yaml"),
            format!("apiVersion: v2\nname: web\nversion: {version}\n"),
        );
        tree.write(
            format!("{src}/templates/cm.yaml"),
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  chartVersion: {{ .Chart.Version | quote }}\n  message: {{ .Values.message | quote }}\n",
        );
        let mut cmd = helm(Helm::V3);
        helm_home(&mut cmd);
        let out = run_std(
            cmd.arg("package")
                .arg(tree.path(&src))
                .arg("-d")
                .arg(tree.mkdir("repo")),
        );
        assert_success(&out, "helm package");
        let mut cmd = helm(Helm::V3);
        helm_home(&mut cmd);
        assert_success(
            &run_std(cmd.args(["repo", "index"]).arg(tree.path("repo"))),
            "helm repo index",
        );
    };
    package("1.0.0");
    let mut nginx = Nginx::serve(tree.path("repo")).start();
    tree.write(
        "stack/strata.yaml",
        format!(
            "apiVersion: strata/v1\nkind: Stack\ntenants:\n  path: \"t/{{{{tenant}}}}\"\ncomponents:\n  - name: web\n    chart: {{repository: \"{}\", name: web, version: \"1.x\"}}\n    values:\n      - t/{{{{tenant}}}}/values.yaml\n",
            nginx.url()
        ),
    );
    tree.write("stack/t/acme/values.yaml", "message: hello\n");
    let strata = |args: &[&str]| run(f.strata().args(args).arg(f.tree.path("stack/t/acme")));

    assert_success(&strata(&["lock"]), "strata lock");
    let cold = strata(&["render"]);
    assert_success(&cold, "cold render");
    assert_eq!(f.calls().template, 1);
    assert!(text(&cold.stdout).contains("chartVersion: \"1.0.0\""));

    let requests = nginx.requests().len();
    let warm = strata(&["render"]);
    assert_success(&warm, "warm render");
    assert_eq!(f.calls().template, 0);
    assert_same_bytes(&warm.stdout, &cold.stdout, "warm versioned render");
    assert_eq!(
        nginx.requests().len(),
        requests,
        "a warm render asks no server"
    );

    // A new version, locked: another digest, so a miss.
    package("1.0.1");
    // As if the index copy had expired.
    f.tree.remove("cache/index");
    assert_success(&strata(&["lock", "--update"]), "strata lock --update");
    let newer = strata(&["render"]);
    assert_success(&newer, "render after the update");
    assert_eq!(f.calls().template, 1, "a new locked digest is a miss");
    assert!(text(&newer.stdout).contains("chartVersion: \"1.0.1\""));

    // With the repository gone, both caches still answer.
    nginx.stop();
    let offline = strata(&["render"]);
    assert_success(&offline, "render with the repository down");
    assert_eq!(f.calls().template, 0);
    assert_same_bytes(
        &offline.stdout,
        &newer.stdout,
        "render with the repository down",
    );
}

/// A manifests component's `template:` flag changes its output by itself, also when common
/// labels already make the tenant's variables part of the key.
#[test]
fn the_template_flag_of_a_manifests_component_is_in_the_key() {
    let f = Fleet::new(Helm::V3);
    let stack = |template: bool| {
        f.tree.write(
            "labelled/strata.yaml",
            format!(
                "apiVersion: strata/v1\nkind: Stack\nvars:\n  team: blue\ntenants:\n  path: \"t/{{{{tenant}}}}\"\ncommonLabels: {{team: \"{{{{team}}}}\"}}\ncomponents:\n  - name: settings\n    manifests: {{path: m, template: {template}}}\n"
            ),
        );
    };
    stack(false);
    f.tree.write("labelled/t/acme/tenant.yaml", "{}\n");
    f.tree.write(
        "labelled/m/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  who: \"{{tenant}}\"\n",
    );
    let plain = text(&f.render_ok("labelled/t/acme", &[]));
    assert!(
        plain.contains("who: '{{tenant}}'") || plain.contains("who: \"{{tenant}}\""),
        "{plain}"
    );
    assert!(plain.contains("team: blue"), "{plain}");

    stack(true);
    let templated = text(&f.render_ok("labelled/t/acme", &[]));
    assert!(
        templated.contains("who: acme"),
        "a stale render was served:\n{templated}"
    );
    assert_eq!(f.entries().len(), 2, "two different renders, two entries");

    stack(false);
    assert_eq!(text(&f.render_ok("labelled/t/acme", &[])), plain);
}
