//! Choosing the renderer (`renderer:` in strata.yaml, `STRATA_RENDERER`), the `auto` fallback,
//! the render cache's separation of renderers, and `strata check --renderer-parity`, through
//! the `strata` binary with the real helm 3.17.3 and 4.1.4.

use crate::common::*;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;

const TENANTS: [&str; 4] = [
    "fleet/customers/preprod/acme",
    "fleet/customers/prod/acme",
    "fleet/customers/prod/globex",
    "fleet/customers/prod/initech",
];

/// A copy of examples/fleet (a git-less repository root) with its own cache directory.
struct Repo {
    tree: Tree,
}

impl Repo {
    fn new() -> Repo {
        Repo { tree: fleet_repo() }
    }

    fn strata(&self, helm: &Path, renderer: Option<&str>) -> assert_cmd::Command {
        let mut cmd = strata_without_helm();
        cmd.env("STRATA_HELM", helm)
            .env("STRATA_CACHE_DIR", self.tree.path("cache"));
        if let Some(r) = renderer {
            cmd.env("STRATA_RENDERER", r);
        }
        cmd
    }

    fn render(&self, helm: &Path, renderer: Option<&str>, tenant: &str, args: &[&str]) -> Output {
        run(self
            .strata(helm, renderer)
            .arg("render")
            .arg(self.tree.path(tenant))
            .args(args))
    }

    /// `strata check --renderer-parity` at the fleet's root.
    fn parity(&self, helm: &Path, args: &[&str]) -> Output {
        run(self
            .strata(helm, None)
            .args(["check", "--renderer-parity"])
            .arg(self.tree.path("fleet"))
            .args(args))
    }

    fn entries(&self) -> usize {
        fs::read_dir(self.tree.path("cache/renders"))
            .map(|d| {
                d.filter(|e| {
                    !e.as_ref()
                        .unwrap()
                        .file_name()
                        .to_string_lossy()
                        .starts_with('.')
                })
                .count()
            })
            .unwrap_or(0)
    }

    /// Puts a component (its YAML lines, `name:` first) ahead of the stack's components.
    fn add_component(&self, lines: &str) {
        let path = self.tree.path("fleet/strata.yaml");
        let stack = fs::read_to_string(&path).unwrap();
        let item = lines.replacen("", "  - ", 1).replace('\n', "\n    ");
        let item = item.trim_end().to_string() + "\n";
        fs::write(
            &path,
            stack.replace("components:\n", &format!("components:\n{item}")),
        )
        .unwrap();
    }

    /// Adds `line` under the stack's `kind: Stack`.
    fn stack_setting(&self, line: &str) {
        let path = self.tree.path("fleet/strata.yaml");
        let text = fs::read_to_string(&path).unwrap();
        fs::write(
            &path,
            text.replace("kind: Stack\n", &format!("kind: Stack\n{line}\n")),
        )
        .unwrap();
    }
}

/// A helm that prints real helm's output with one byte more, as a renderer bug would.
fn helm_adding_a_byte(t: &Tree, helm: Helm) -> PathBuf {
    let path = t.write(
        "bin/helm-plus",
        format!(
            "#!/bin/sh\nif [ \"$1\" = template ]; then '{0}' \"$@\" || exit $?; printf x; exit 0; fi\nexec '{0}' \"$@\"\n",
            helm.path().display()
        ),
    );
    fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
    path
}

#[test]
fn an_unknown_strata_renderer_is_one_clear_error() {
    let repo = Repo::new();
    let out = repo.render(&Helm::V3.path(), Some("fast"), TENANTS[2], &[]);
    assert_error(
        &out,
        "STRATA_RENDERER=fast",
        &["STRATA_RENDERER", "\"fast\"", "helm, native or auto"],
    );
    let out = run(repo
        .strata(&Helm::V3.path(), Some("fast"))
        .current_dir(repo.tree.path(TENANTS[2]))
        .arg("generate")
        .env("ARGOCD_APP_SOURCE_PATH", TENANTS[2]));
    assert_error(
        &out,
        "generate with STRATA_RENDERER=fast",
        &["STRATA_RENDERER"],
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn renderer_settings_in_strata_yaml_are_checked() {
    let repo = Repo::new();
    repo.stack_setting("renderer: quick");
    let out = repo.render(&Helm::V3.path(), None, TENANTS[2], &[]);
    assert_error(&out, "renderer: quick", &["strata.yaml:", "quick"]);
}

#[test]
fn native_and_auto_render_the_example_fleet_as_helm_does() {
    for helm in Helm::ALL {
        let repo = Repo::new();
        for tenant in TENANTS {
            let by_helm = repo.render(&helm.path(), Some("helm"), tenant, &["--no-cache"]);
            assert_success(&by_helm, &format!("helm render of {tenant}"));
            for renderer in ["native", "auto"] {
                let out = repo.render(&helm.path(), Some(renderer), tenant, &["--no-cache"]);
                assert_success(&out, &format!("{renderer} render of {tenant}"));
                assert_same_bytes(
                    &out.stdout,
                    &by_helm.stdout,
                    &format!("helm {}: {renderer} vs helm, {tenant}", helm.version()),
                );
            }
        }
    }
}

#[test]
fn native_needs_no_helm_and_then_follows_helm_3() {
    let repo = Repo::new();
    let tenant = TENANTS[1];
    let by_helm = repo.render(&Helm::V3.path(), Some("helm"), tenant, &["--no-cache"]);
    assert_success(&by_helm, "helm render");
    let mut cmd = strata_without_helm();
    cmd.env("STRATA_CACHE_DIR", repo.tree.path("cache"))
        .env("STRATA_RENDERER", "native")
        .arg("render")
        .arg(repo.tree.path(tenant));
    let out = run(&mut cmd);
    assert_success(&out, "native render without any helm");
    assert_same_bytes(
        &out.stdout,
        &by_helm.stdout,
        "native without helm vs helm 3.17.3",
    );
    // helm is still required where it renders.
    let mut cmd = strata_without_helm();
    cmd.env("STRATA_RENDERER", "helm")
        .arg("render")
        .arg(repo.tree.path(tenant));
    assert_error(
        &run(&mut cmd),
        "helm render without helm",
        &["helm not found"],
    );
}

#[test]
fn the_environment_overrides_the_stack_which_the_component_overrides() {
    let repo = Repo::new();
    let tenant = TENANTS[1];
    // A helm that adds a byte shows which renderer printed each component.
    let plus = helm_adding_a_byte(&repo.tree, Helm::V3);
    let real = repo.render(&Helm::V3.path(), Some("helm"), tenant, &["--no-cache"]);
    assert_success(&real, "helm render");
    repo.stack_setting("renderer: native");
    let native = repo.render(&plus, None, tenant, &["--no-cache"]);
    assert_success(&native, "renderer: native in strata.yaml");
    assert_same_bytes(&native.stdout, &real.stdout, "native from strata.yaml");
    let forced = repo.render(&plus, Some("helm"), tenant, &["--no-cache"]);
    assert_success(&forced, "STRATA_RENDERER=helm over renderer: native");
    assert_eq!(
        forced.stdout.iter().filter(|b| **b == b'x').count()
            - real.stdout.iter().filter(|b| **b == b'x').count(),
        2,
        "both components by helm"
    );
    // The worker component asks for helm itself.
    let path = repo.tree.path("fleet/strata.yaml");
    let text = fs::read_to_string(&path).unwrap();
    fs::write(
        &path,
        text.replace(
            "  - name: worker\n",
            "  - name: worker\n    renderer: helm\n",
        ),
    )
    .unwrap();
    let mixed = repo.render(&plus, None, tenant, &["--no-cache"]);
    assert_success(&mixed, "worker by helm, web natively");
    assert_eq!(
        mixed.stdout.iter().filter(|b| **b == b'x').count()
            - real.stdout.iter().filter(|b| **b == b'x').count(),
        1,
        "only the worker by helm"
    );
}

/// A chart that helm renders and the native renderer leaves to helm: it calls a Sprig
/// function the native renderer does not have. Found at run time among functions helm has,
/// so the test keeps testing the fallback as the native renderer grows.
fn chart_native_cannot_render(t: &Tree) -> (String, &'static str) {
    use strata::render::native::{Compat, analyze};
    let candidates = [
        (
            "derivePassword",
            r#"{{ derivePassword 1 "long" "password" "user" "example.com" }}"#,
        ),
        (
            "buildCustomCert",
            r#"{{ (buildCustomCert "Zm9v" "YmFy").Cert | len }}"#,
        ),
        ("decryptAES", r#"{{ decryptAES "" "secretkey" }}"#),
        ("genPrivateKey", r#"{{ genPrivateKey "ecdsa" | len }}"#),
    ];
    for (name, expr) in candidates {
        let rel = format!("charts/uses-{name}");
        let dir = t.path(format!("fleet/{rel}"));
        t.write(
            format!("fleet/{rel}/Chart.yaml"),
            "apiVersion: v2\nname: odd\nversion: 0.1.0\n",
        );
        t.write(
            format!("fleet/{rel}/templates/cm.yaml"),
            format!(
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: odd\ndata:\n  x: |\n    {}\n",
                expr
            ),
        );
        let unsupported = !analyze(&dir, &Compat::helm3()).unsupported.is_empty()
            || gotemplate::sprig::UNSUPPORTED.contains(&name);
        if unsupported {
            return (rel, name);
        }
    }
    panic!(
        "the native renderer has every candidate function; give this test another feature it lacks"
    );
}

#[test]
fn auto_falls_back_to_helm_with_the_reason_in_the_debug_log() {
    let repo = Repo::new();
    let (chart, function) = chart_native_cannot_render(&repo.tree);
    repo.add_component(&format!("name: odd\nchart: {{path: {chart}}}\n"));
    let tenant = TENANTS[1];
    let by_helm = repo.render(&Helm::V3.path(), Some("helm"), tenant, &["--no-cache"]);
    assert_success(&by_helm, "helm render");
    let out = run(repo
        .strata(&Helm::V3.path(), Some("auto"))
        .env("STRATA_LOG", "debug")
        .arg("render")
        .arg(repo.tree.path(tenant))
        .arg("--no-cache"));
    assert_success(&out, "auto render");
    assert_same_bytes(&out.stdout, &by_helm.stdout, "auto with a helm-only chart");
    let log = text(&out.stderr);
    assert!(
        log.contains("component odd: native renderer cannot render chart")
            && log.contains(function)
            && log.contains("; using helm"),
        "{log}"
    );
    // `native` does not fall back: the chart is an error naming the component.
    let out = repo.render(&Helm::V3.path(), Some("native"), tenant, &["--no-cache"]);
    assert_error(
        &out,
        "native render of a helm-only chart",
        &["\"odd\"", function],
    );
}

#[test]
fn auto_falls_back_to_helm_when_the_native_render_fails_and_helm_has_the_last_word() {
    let repo = Repo::new();
    repo.tree.write(
        "fleet/charts/failing/Chart.yaml",
        "apiVersion: v2\nname: failing\nversion: 0.1.0\n",
    );
    repo.tree.write(
        "fleet/charts/failing/templates/cm.yaml",
        "{{ fail \"the chart refuses\" }}\n",
    );
    repo.add_component("name: failing\nchart: {path: charts/failing}\n");
    let out = run(repo
        .strata(&Helm::V4.path(), Some("auto"))
        .env("STRATA_LOG", "debug")
        .arg("render")
        .arg(repo.tree.path(TENANTS[1])));
    assert_error(
        &out,
        "auto render of a failing chart",
        &["helm template failed", "the chart refuses"],
    );
    assert!(
        text(&out.stderr).contains("component failing: native renderer failed on chart"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_chart_with_random_functions_is_never_cached_and_is_reported_once() {
    let repo = Repo::new();
    repo.tree.write(
        "fleet/charts/random/Chart.yaml",
        "apiVersion: v2\nname: random\nversion: 0.1.0\n",
    );
    repo.tree.write(
        "fleet/charts/random/templates/secret.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: pw\nstringData:\n  password: {{ randAlphaNum 24 | quote }}\n",
    );
    repo.add_component("name: random\nchart: {path: charts/random}\n");
    let render = |renderer: &str| {
        run(repo
            .strata(&Helm::V3.path(), Some(renderer))
            .env("STRATA_LOG", "info")
            .arg("render")
            .arg(repo.tree.path(TENANTS[1])))
    };
    for renderer in ["native", "auto"] {
        let first = render(renderer);
        assert_success(&first, &format!("{renderer}: first render"));
        let second = render(renderer);
        assert_success(&second, &format!("{renderer}: second render"));
        assert_ne!(
            first.stdout, second.stdout,
            "{renderer}: a fresh password on every render"
        );
        assert_eq!(repo.entries(), 0, "{renderer}: nothing is stored");
        let log = text(&second.stderr);
        assert_eq!(
            log.matches("chart fleet/charts/random uses random functions (randAlphaNum): its output changes on every render").count(),
            1,
            "{log}"
        );
    }
    // helm's renders cannot be seen into: stored as they always were, the stored one served.
    let first = render("helm");
    assert_success(&first, "helm: first render");
    let second = render("helm");
    assert_success(&second, "helm: second render");
    assert_same_bytes(&first.stdout, &second.stdout, "helm: the stored render");
    assert_eq!(repo.entries(), 1, "helm: its render is stored");
    // The parity command cannot match fresh passwords, and says why.
    let out = repo.parity(&Helm::V3.path(), &["--selector", "tenant=acme,env=prod"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(
        text(&out.stdout)
            .contains("the chart calls randAlphaNum, whose output changes on every render"),
        "{}",
        describe(&out)
    );
}

#[test]
fn renders_by_different_renderers_never_share_a_cache_entry() {
    let repo = Repo::new();
    let helm = Helm::V3.path();
    let tenant = TENANTS[2];
    let first = repo.render(&helm, None, tenant, &[]);
    assert_success(&first, "helm render");
    assert_eq!(repo.entries(), 1);
    let auto = repo.render(&helm, Some("auto"), tenant, &[]);
    assert_success(&auto, "auto render");
    assert_eq!(
        repo.entries(),
        2,
        "the auto render is stored under its own key"
    );
    assert_same_bytes(&auto.stdout, &first.stdout, "auto vs helm");
    let again = repo.render(&helm, Some("auto"), tenant, &[]);
    assert_same_bytes(&again.stdout, &auto.stdout, "warm auto render");
    assert_eq!(repo.entries(), 2);
}

#[test]
fn parity_of_the_example_fleet_is_identical_for_both_helms() {
    for helm in Helm::ALL {
        let repo = Repo::new();
        let out = repo.parity(&helm.path(), &[]);
        assert_success(
            &out,
            &format!("renderer parity with helm {}", helm.version()),
        );
        let report = text(&out.stdout);
        assert!(
            report.starts_with(&format!(
                "renderer parity: helm v{0} vs native {1} (helm v{0} rules)\n",
                helm.version(),
                env!("CARGO_PKG_VERSION")
            )),
            "{report}"
        );
        assert_eq!(report.matches("): identical\n").count(), 8, "{report}");
        assert!(
            report.ends_with("4 tenant(s): 8 component(s) identical, 0 differ, 0 helm only\n"),
            "{report}"
        );
    }
}

#[test]
fn parity_reports_a_difference_with_its_bytes_and_diff_and_fails() {
    for helm in Helm::ALL {
        let repo = Repo::new();
        let plus = helm_adding_a_byte(&repo.tree, helm);
        let out = repo.parity(&plus, &["--selector", "tenant=globex"]);
        assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
        assert!(
            text(&out.stderr).contains("renderer parity failed: 2 component(s) differ"),
            "{}",
            describe(&out)
        );
        let report = text(&out.stdout);
        assert_eq!(
            report.matches("DIFFERS (1 differing bytes)").count(),
            2,
            "{report}"
        );
        assert!(
            report.contains("    --- helm\n    +++ native\n"),
            "{report}"
        );
        assert!(
            report.ends_with("1 tenant(s): 0 component(s) identical, 2 differ, 0 helm only\n"),
            "{report}"
        );
        // STRATA_RENDERER does not change the two sides.
        let json = run(repo
            .strata(&plus, Some("helm"))
            .args(["check", "--renderer-parity", "--format", "json"])
            .arg(repo.tree.path("fleet"))
            .args(["--selector", "tenant=globex"]));
        let value: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON report");
        assert_eq!(value["passed"], false);
        assert_eq!(value["differ"], 2);
        let component = &value["tenants"][0]["components"][0];
        assert_eq!(component["status"], "differs");
        assert_eq!(component["differingBytes"], 1);
    }
}

#[test]
fn parity_lists_a_chart_the_native_renderer_leaves_to_helm_without_failing() {
    let repo = Repo::new();
    let (chart, function) = chart_native_cannot_render(&repo.tree);
    repo.add_component(&format!("name: odd\nchart: {{path: {chart}}}\n"));
    let out = repo.parity(&Helm::V3.path(), &["--selector", "tenant=globex"]);
    assert_success(&out, "parity with a helm-only chart");
    let report = text(&out.stdout);
    assert!(report.contains("  odd (chart "), "{report}");
    assert!(report.contains("): helm only: "), "{report}");
    assert!(report.contains(function), "{report}");
    assert!(
        report.ends_with("1 tenant(s): 2 component(s) identical, 0 differ, 1 helm only\n"),
        "{report}"
    );
}

/// The benchmark's chart (a library subchart of helpers, `tpl`, `merge`, a config checksum)
/// with every optional feature on, rendered by both renderers under both helms.
#[test]
fn the_benchmark_chart_renders_natively_as_helm_does() {
    let repo = Repo::new();
    repo.tree.copy_from(
        &manifest_dir().join("tests/fixtures/bench-chart/app"),
        "fleet/charts/app",
    );
    repo.tree.write(
        "fleet/values/app.yaml",
        concat!(
            "ingress: {enabled: true, tls: true, annotations: {a: \"{{ .Release.Name }}\"},\n",
            "  extraHosts: [{name: \"x.{{ .Release.Namespace }}.example.com\"}]}\n",
            "autoscaling: {enabled: true, targetMemory: 80}\n",
            "metrics: {enabled: true, serviceMonitor: {enabled: true}}\n",
            "config: {LOG_LEVEL: info, FEATURE_X: true, MAX: 300, RATIO: 0.25}\n",
            "commonLabels: {team: web}\n",
            "commonAnnotations: {owner: \"{{ .Release.Name }}\"}\n",
            "podAnnotations: {prometheus.io/scrape: \"true\"}\n",
            "nodeSelector: {region: den1}\n",
            "extraEnvVars: [{name: A, value: \"1\"}]\n",
            "networkPolicy: {allowExternal: false}\n",
            "global: {imagePullSecrets: [reg]}\n",
            "image: {digest: \"sha256:0123456789abcdef\"}\n",
            "resourcesPreset: small\n",
        ),
    );
    repo.add_component("name: app\nchart: {path: charts/app}\nvalues: [values/app.yaml]\n");
    for helm in Helm::ALL {
        let tenant = TENANTS[2];
        let by_helm = repo.render(&helm.path(), Some("helm"), tenant, &["--no-cache"]);
        assert_success(&by_helm, "helm render");
        assert!(text(&by_helm.stdout).contains("kind: ServiceMonitor"));
        let native = repo.render(&helm.path(), Some("native"), tenant, &["--no-cache"]);
        assert_success(&native, "native render");
        assert_same_bytes(
            &native.stdout,
            &by_helm.stdout,
            &format!("bench chart, helm {}", helm.version()),
        );
    }
}

/// A random function on a path the values never take changes nothing: the native renderer
/// counts calls, not mentions (bitnami's common library names `randAlphaNum` in helpers most
/// of its charts never reach), so such a chart is stored and served from the render cache.
#[test]
fn a_random_function_that_is_never_called_does_not_stop_caching() {
    let repo = Repo::new();
    repo.tree.write(
        "fleet/charts/maybe/Chart.yaml",
        "apiVersion: v2\nname: maybe\nversion: 0.1.0\n",
    );
    repo.tree.write(
        "fleet/charts/maybe/templates/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: maybe\ndata:\n  x: {{ if .Values.generate }}{{ randAlphaNum 8 | quote }}{{ else }}fixed{{ end }}\n",
    );
    repo.add_component("name: maybe\nchart: {path: charts/maybe}\n");
    let render = || {
        run(repo
            .strata(&Helm::V3.path(), Some("native"))
            .env("STRATA_LOG", "info")
            .arg("render")
            .arg(repo.tree.path(TENANTS[1])))
    };
    let first = render();
    assert_success(&first, "first render");
    let second = render();
    assert_success(&second, "second render");
    assert_same_bytes(&first.stdout, &second.stdout, "the stored render");
    assert_eq!(repo.entries(), 1, "the render is stored");
    assert!(
        !text(&first.stderr).contains("random functions"),
        "{}",
        text(&first.stderr)
    );
}

/// A chart's templates are untrusted: one that loops for minutes is stopped at the time
/// budget, as a helm process would be killed at it, with one message and nothing on stdout.
#[test]
fn a_runaway_template_is_stopped_at_the_time_budget() {
    let repo = Repo::new();
    repo.tree.write(
        "fleet/charts/loop/Chart.yaml",
        "apiVersion: v2\nname: loop\nversion: 0.1.0\n",
    );
    repo.tree.write(
        "fleet/charts/loop/templates/cm.yaml",
        "{{- range until 20000 }}{{ range until 20000 }}{{ end }}{{ end }}\n",
    );
    repo.add_component("name: loop\nchart: {path: charts/loop}\n");
    let started = std::time::Instant::now();
    let out = run(repo
        .strata(&Helm::V3.path(), Some("native"))
        .arg("render")
        .arg(repo.tree.path(TENANTS[1]))
        .args(["--no-cache", "--timeout", "2"]));
    let took = started.elapsed();
    assert_error(
        &out,
        "a runaway template",
        &["\"loop\"", "did not finish within the time budget of 2s"],
    );
    assert!(out.stdout.is_empty(), "{}", describe(&out));
    assert!(took < std::time::Duration::from_secs(6), "took {took:?}");
}
