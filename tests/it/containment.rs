//! Nothing outside the repository reaches the manifests: chart files linked out of the
//! repository are refused before helm runs (links inside keep working, as helm follows them),
//! and variables inserted into templated manifests cannot change the YAML's structure.

use crate::common::cmp::{App, Sidecar};
use crate::common::*;
use std::path::Path;

const OUTSIDE_SECRET: &str = "top-secret-from-outside-3b8e";

/// A repository with a stack whose one component is the path chart `charts/app`, and a
/// directory outside the repository holding a "mounted credential".
struct Setup {
    repo: Tree,
    outside: Tree,
}

impl Setup {
    fn new() -> Setup {
        let repo = Tree::new();
        repo.mkdir(".git");
        repo.write(
            "stack/strata.yaml",
            "apiVersion: strata/v1\nkind: Stack\ntenants:\n  path: t\ncomponents:\n  - name: app\n    releaseName: app\n    namespace: apps\n    chart: {path: ../charts/app}\n",
        );
        repo.write("stack/t/tenant.yaml", "{}\n");
        repo.write(
            "charts/app/Chart.yaml",
            "apiVersion: v2\nname: app\nversion: 1.0.0\n",
        );
        repo.write(
            "charts/app/templates/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  file: {{ .Files.Get \"files/data.txt\" | quote }}\n",
        );
        repo.write("charts/app/files/data.txt", "plain data\n");
        let outside = Tree::new();
        outside.write("credential", format!("{OUTSIDE_SECRET}\n"));
        outside.write(
            "secret.yaml",
            format!(
                "apiVersion: v1\nkind: Secret\nmetadata:\n  name: stolen\nstringData:\n  v: {OUTSIDE_SECRET}\n"
            ),
        );
        outside.write(
            "sub/Chart.yaml",
            "apiVersion: v2\nname: sub\nversion: 1.0.0\n",
        );
        outside.write(
            "sub/templates/cm.yaml",
            format!(
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: sub\ndata:\n  v: {OUTSIDE_SECRET}\n"
            ),
        );
        Setup { repo, outside }
    }

    /// A helm that records each run, then is the real helm.
    fn recording_helm(&self, helm: Helm) -> (std::path::PathBuf, std::path::PathBuf) {
        let marker = self.outside.path("helm-ran");
        let script = self.outside.write(
            "helm",
            format!(
                "#!/bin/sh\necho \"$@\" >> '{}'\nexec '{}' \"$@\"\n",
                marker.display(),
                helm.path().display()
            ),
        );
        chmod_x(&script);
        (script, marker)
    }

    fn render(&self, helm: Helm) -> (std::process::Output, bool) {
        let (script, marker) = self.recording_helm(helm);
        let _ = std::fs::remove_file(&marker);
        let out = run(strata(helm)
            .env("STRATA_HELM", &script)
            .env("STRATA_CACHE_DIR", self.repo.path("cache"))
            .arg("render")
            .arg("--no-cache")
            .arg(self.repo.path("stack/t")));
        let ran = std::fs::read_to_string(&marker).is_ok_and(|s| s.contains("template"));
        (out, ran)
    }
}

fn chmod_x(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn assert_refused(setup: &Setup, helm: Helm, link: &str) {
    let (out, helm_ran) = setup.render(helm);
    assert_error(
        &out,
        link,
        &[
            link,
            "symbolic link",
            "outside the repository",
            "component \"app\"",
        ],
    );
    assert!(!helm_ran, "{link}: helm must not run\n{}", describe(&out));
    assert!(
        !text(&out.stderr).contains(OUTSIDE_SECRET),
        "{}",
        describe(&out)
    );
}

#[test]
fn a_chart_file_linked_outside_the_repository_is_refused_before_helm_runs() {
    for helm in [Helm::V3, Helm::V4] {
        let setup = Setup::new();
        setup.repo.write(
            "charts/app/templates/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  file: {{ .Files.Get \"files/passwd\" | quote }}\n",
        );
        symlink_into(
            &setup.repo.path("charts/app/files"),
            "passwd",
            &setup.outside.path("credential"),
        );
        assert_refused(&setup, helm, "charts/app/files/passwd");
        // The same with /etc/passwd itself.
        setup.repo.remove("charts/app/files/passwd");
        symlink_into(
            &setup.repo.path("charts/app/files"),
            "passwd",
            Path::new("/etc/passwd"),
        );
        assert_refused(&setup, helm, "charts/app/files/passwd");
    }
}

#[test]
fn a_template_or_dependency_linked_outside_the_repository_is_refused() {
    let setup = Setup::new();
    symlink_into(
        &setup.repo.path("charts/app/templates"),
        "secret.yaml",
        &setup.outside.path("secret.yaml"),
    );
    assert_refused(&setup, Helm::V3, "charts/app/templates/secret.yaml");
    setup.repo.remove("charts/app/templates/secret.yaml");
    // A vendored dependency whose directory is a link out of the repository.
    symlink_into(
        &setup.repo.path("charts/app/charts"),
        "sub",
        &setup.outside.path("sub"),
    );
    assert_refused(&setup, Helm::V4, "charts/app/charts/sub");
    setup.repo.remove("charts/app/charts/sub");
    // A relative link climbing out of the repository.
    let up = "../".repeat(setup.repo.root().components().count() + 2);
    std::os::unix::fs::symlink(
        format!("{up}{}", setup.outside.path("credential").display()),
        setup.repo.path("charts/app/files/climb"),
    )
    .unwrap();
    assert_refused(&setup, Helm::V3, "charts/app/files/climb");
}

#[test]
fn links_inside_the_repository_render_as_helm_renders_them() {
    for helm_version in [Helm::V3, Helm::V4] {
        let setup = Setup::new();
        // A file, a template and a dependency linked from elsewhere in the repository.
        setup.repo.write("shared/data.txt", "shared data\n");
        setup.repo.remove("charts/app/files/data.txt");
        std::os::unix::fs::symlink(
            "../../../shared/data.txt",
            setup.repo.path("charts/app/files/data.txt"),
        )
        .unwrap();
        setup.repo.write(
            "shared/templates/extra.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n",
        );
        std::os::unix::fs::symlink(
            setup.repo.path("shared/templates/extra.yaml"),
            setup.repo.path("charts/app/templates/extra.yaml"),
        )
        .unwrap();
        setup.repo.write(
            "shared/sub/Chart.yaml",
            "apiVersion: v2\nname: sub\nversion: 1.0.0\n",
        );
        setup.repo.write(
            "shared/sub/templates/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: sub\n",
        );
        symlink_into(
            &setup.repo.path("charts/app/charts"),
            "sub",
            Path::new("../../../shared/sub"),
        );
        let (out, helm_ran) = setup.render(helm_version);
        assert_success(&out, "render with links inside the repository");
        assert!(helm_ran);
        let expected = run_std(
            helm(helm_version)
                .args(["template", "app"])
                .arg(setup.repo.path("charts/app"))
                .args(["--namespace", "apps"]),
        );
        assert_success(&expected, "helm template");
        assert_same_bytes(&out.stdout, &expected.stdout, "render vs helm template");
        let shown = text(&out.stdout);
        assert!(
            shown.contains("shared data") && shown.contains("name: extra"),
            "{shown}"
        );
        assert!(shown.contains("name: sub"), "{shown}");
    }
}

#[test]
fn a_manifests_file_linked_outside_the_repository_is_refused() {
    let setup = Setup::new();
    setup.repo.write(
        "stack/strata.yaml",
        "apiVersion: strata/v1\nkind: Stack\ntenants:\n  path: t\ncomponents:\n  - name: extra\n    manifests: {path: m}\n",
    );
    setup.repo.write(
        "stack/m/ns.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: x\n",
    );
    symlink_into(
        &setup.repo.path("stack/m"),
        "secret.yaml",
        &setup.outside.path("secret.yaml"),
    );
    let out = run(strata(Helm::V3)
        .env("STRATA_CACHE_DIR", setup.repo.path("cache"))
        .arg("render")
        .arg(setup.repo.path("stack/t")));
    assert_error(
        &out,
        "manifests link out",
        &["secret.yaml", "outside the repository"],
    );
    assert!(!text(&out.stderr).contains(OUTSIDE_SECRET));
}

/// A stack whose one component is a templated manifests directory using the variable `note`.
fn templated_stack() -> Tree {
    let stack = Tree::new();
    stack.write(
        "strata.yaml",
        "apiVersion: strata/v1\nkind: Stack\nvars:\n  note: default\ntenants:\n  path: \"customers/{{tenant}}\"\ncomponents:\n  - name: settings\n    manifests: {path: m, template: true}\n",
    );
    stack.write("customers/acme/tenant.yaml", "{}\n");
    stack.write(
        "m/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings-{{tenant}}\n  labels: {note: {{note}}}\ndata:\n  note: {{note}}\n  quoted: \"{{note}}\"\n",
    );
    stack
}

#[test]
fn a_variable_cannot_inject_objects_or_keys_into_templated_manifests() {
    let stack = templated_stack();
    let sc = Sidecar::new(stack.root(), "platform", Helm::V3);
    let app = App::new("acme", "apps", "platform/customers/acme");
    let (objects, _) = sc.generate_ok(&app.clone().env("NOTE", "plain value it's fine"));
    assert_eq!(objects.len(), 1, "{objects:?}");
    assert_eq!(objects[0]["data"]["note"], "plain value it's fine");

    let injections = [
        (
            "x\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: injected\nstringData:\n  token: stolen",
            "line break",
        ),
        ("x\r---\r{apiVersion: v1, kind: Secret}", "line break"),
        ("x, extra", "structure"),
        ("x, extra: injected", "plain value"),
        ("x}, extra: {kind: Secret", "plain value"),
        ("x # the rest is a comment", "plain value"),
    ];
    for (value, needle) in injections {
        let evil = app.clone().env("NOTE", value);
        for out in [
            sc.init_only(&evil).expect("plugin.yaml has init"),
            sc.generate_only(&evil),
        ] {
            assert_error(&out, value, &["`note`", needle, "m/cm.yaml"]);
            assert!(!text(&out.stdout).contains("Secret"));
        }
    }
}

/// A variable inserted into a key must be the key: YAML tags, quotes and YAML 1.1 booleans
/// would let it choose another key (`!!binary` decodes to any bytes, escape sequences
/// included), in templated manifests, values layers and patches alike.
#[test]
fn a_variable_cannot_choose_a_key_it_does_not_spell() {
    let stack = templated_stack();
    stack.write(
        "m/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  {{note}}: x\n",
    );
    let render = |note: &str| {
        run(strata(Helm::V3)
            .env("STRATA_CACHE_DIR", stack.path("cache"))
            .arg("render")
            .args(["--var", &format!("note={note}")])
            .arg(stack.path("customers/acme")))
    };
    let out = render("on-call");
    assert_success(&out, "a plain key");
    assert!(
        text(&out.stdout).contains("on-call: x"),
        "{}",
        describe(&out)
    );
    for bad in [
        "!!binary YQpi",
        "!!binary G1szMW1SRUQ=",
        "yes",
        "\"q\"",
        "!!str q",
    ] {
        let out = render(bad);
        assert_error(&out, bad, &["`note`", "m/cm.yaml"]);
        assert!(out.stdout.is_empty(), "{bad}: {}", describe(&out));
        assert!(
            !text(&out.stderr).contains('\x1b'),
            "{bad}: {}",
            describe(&out)
        );
    }
}

/// A `file://` dependency is packed from its own directory, which may lie outside the
/// component's chart: its links are held to the same rule, and a link loop in it ends the
/// render at once instead of walking without end.
#[test]
fn a_file_dependency_linking_outside_the_repository_or_in_a_loop_is_refused() {
    let setup = Setup::new();
    setup.repo.write(
        "charts/app/Chart.yaml",
        "apiVersion: v2\nname: app\nversion: 1.0.0\ndependencies:\n  - name: sub\n    version: 1.0.0\n    repository: file://../../sub\n",
    );
    setup.repo.write(
        "sub/Chart.yaml",
        "apiVersion: v2\nname: sub\nversion: 1.0.0\n",
    );
    setup.repo.write(
        "sub/templates/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: sub\ndata:\n  f: {{ .Files.Get \"files.txt\" | quote }}\n",
    );
    symlink_into(
        &setup.repo.path("sub"),
        "files.txt",
        &setup.outside.path("credential"),
    );
    let (out, helm_ran) = setup.render(Helm::V3);
    assert_error(
        &out,
        "file:// dependency link",
        &[
            "sub/files.txt",
            "outside the repository",
            "dependency \"sub\"",
        ],
    );
    assert!(!helm_ran, "helm must not run\n{}", describe(&out));
    assert!(!text(&out.stderr).contains(OUTSIDE_SECRET));
    assert!(!text(&out.stdout).contains(OUTSIDE_SECRET));

    // A loop of links inside the dependency.
    setup.repo.remove("sub/files.txt");
    std::os::unix::fs::symlink(".", setup.repo.path("sub/a")).unwrap();
    std::os::unix::fs::symlink(".", setup.repo.path("sub/b")).unwrap();
    let started = std::time::Instant::now();
    let (out, helm_ran) = setup.render(Helm::V3);
    assert!(!out.status.success(), "{}", describe(&out));
    let stderr = text(&out.stderr);
    assert!(
        (stderr.contains("sub/a") || stderr.contains("sub/b")) && stderr.contains("loop"),
        "the error names the looping link\n{}",
        describe(&out)
    );
    assert!(!helm_ran, "helm must not run\n{}", describe(&out));
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "a link loop must end the render at once"
    );
}

/// Reports whether a file was opened or read since it was watched (Linux inotify): the proof
/// that a refusal came before any read, which an error message alone cannot give.
struct OpenWatch {
    fd: std::os::fd::OwnedFd,
}

impl OpenWatch {
    fn new(path: &Path) -> OpenWatch {
        use std::os::fd::FromRawFd;
        use std::os::unix::ffi::OsStrExt;
        // SAFETY: plain system calls; the descriptor is owned from here on.
        let raw = unsafe { libc::inotify_init1(libc::IN_NONBLOCK | libc::IN_CLOEXEC) };
        assert!(raw >= 0, "inotify: {}", std::io::Error::last_os_error());
        let fd = unsafe { std::os::fd::OwnedFd::from_raw_fd(raw) };
        let c_path = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
        let wd = unsafe {
            libc::inotify_add_watch(raw, c_path.as_ptr(), libc::IN_OPEN | libc::IN_ACCESS)
        };
        assert!(
            wd >= 0,
            "inotify watch: {}",
            std::io::Error::last_os_error()
        );
        OpenWatch { fd }
    }

    /// Whether an open or read happened since the last look; forgets it.
    fn opened(&self) -> bool {
        use std::os::fd::AsRawFd;
        let mut events = [0u8; 4096];
        let mut seen = false;
        // SAFETY: reads into a buffer of the given length.
        while unsafe {
            libc::read(
                self.fd.as_raw_fd(),
                events.as_mut_ptr().cast(),
                events.len(),
            )
        } > 0
        {
            seen = true;
        }
        seen
    }
}

/// A link out of the repository in a manifests directory or a chart is refused before the
/// file it points to is opened, by `render` and by `diff` (whose fingerprints hash these
/// directories): nothing outside the repository is read, not even to be hashed.
#[test]
fn a_link_outside_the_repository_is_refused_before_its_target_is_opened() {
    let cases = [
        (
            "manifests",
            "stack/m",
            "  - name: extra\n    manifests: {path: m}\n",
        ),
        ("chart", "charts/app/files", ""),
    ];
    for (case, link_dir, extra) in cases {
        let setup = Setup::new();
        setup.repo.remove(".git");
        setup.repo.write(
            "stack/strata.yaml",
            format!(
                "apiVersion: strata/v1\nkind: Stack\ntenants:\n  path: t\ncomponents:\n{extra}  - name: app\n    releaseName: app\n    namespace: apps\n    chart: {{path: ../charts/app}}\n"
            ),
        );
        setup.repo.write(
            "stack/m/ns.yaml",
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: x\n",
        );
        let target = setup.outside.path("credential");
        symlink_into(&setup.repo.path(link_dir), "leak.yaml", &target);
        git(setup.repo.root(), &["init", "-q", "-b", "main"]);
        git(setup.repo.root(), &["add", "-A"]);
        git(setup.repo.root(), &["commit", "-q", "-m", "stack"]);

        let watch = OpenWatch::new(&target);
        let render = run(strata(Helm::V3)
            .env("STRATA_CACHE_DIR", setup.outside.path("cache"))
            .arg("render")
            .arg(setup.repo.path("stack/t")));
        assert_error(&render, case, &["leak.yaml", "outside the repository"]);
        assert!(!watch.opened(), "{case}: render opened the linked file");

        let diff = run(strata(Helm::V3)
            .current_dir(setup.repo.root())
            .env("STRATA_CACHE_DIR", setup.outside.path("cache"))
            .env("TMPDIR", setup.outside.path(""))
            .args(["diff", "--base", "main", "stack"]));
        assert_eq!(diff.status.code(), Some(2), "{case}: {}", describe(&diff));
        assert!(
            text(&diff.stderr).contains("outside the repository"),
            "{case}: {}",
            describe(&diff)
        );
        assert!(!watch.opened(), "{case}: diff opened the linked file");
        assert!(!text(&diff.stdout).contains(OUTSIDE_SECRET));

        // The watch does see a read: the assertions above can fail.
        std::fs::read(&target).unwrap();
        assert!(watch.opened(), "the watch sees an open");
    }
}
