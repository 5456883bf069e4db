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
fn auto_renders_the_example_fleet_as_helm_does() {
    for helm in Helm::ALL {
        let repo = Repo::new();
        for tenant in TENANTS {
            let by_helm = repo.render(&helm.path(), Some("helm"), tenant, &["--no-cache"]);
            assert_success(&by_helm, &format!("helm render of {tenant}"));
            let by_auto = repo.render(&helm.path(), Some("auto"), tenant, &["--no-cache"]);
            assert_success(&by_auto, &format!("auto render of {tenant}"));
            assert_same_bytes(
                &by_auto.stdout,
                &by_helm.stdout,
                &format!("helm {} auto vs helm, {tenant}", helm.version()),
            );
        }
    }
}

#[test]
fn the_stack_setting_is_overridden_by_the_environment() {
    let repo = Repo::new();
    repo.stack_setting("renderer: auto");
    let helm = Helm::V3.path();
    let tenant = TENANTS[2];
    let by_auto = repo.render(&helm, None, tenant, &["--no-cache"]);
    assert_success(&by_auto, "auto from strata.yaml");
    // A helm that adds a byte shows which renderer printed the output.
    let plus = helm_adding_a_byte(&repo.tree, Helm::V3);
    let forced = repo.render(&plus, Some("helm"), tenant, &["--no-cache"]);
    assert_success(&forced, "STRATA_RENDERER=helm over renderer: auto");
    assert!(
        forced.stdout.ends_with(b"x"),
        "helm rendered every component"
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
fn parity_of_the_example_fleet_passes_for_both_helms() {
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
                "renderer parity: helm v{} vs native ",
                helm.version()
            )),
            "{report}"
        );
        assert!(report.contains("4 tenant(s): "), "{report}");
        assert!(report.contains(", 0 differ, "), "{report}");
    }
}
