//! A chart in the repository with `dependencies:`, through the `strata` binary: an umbrella
//! chart depending on a chart from a Helm repository (nginx, TLS, basic auth), a chart from an
//! OCI registry (docker-registry, TLS, htpasswd) and a `file://` chart, with an alias, a
//! condition and tags. Every render is compared byte for byte with `helm dependency build`
//! followed by `helm template`, both run for real.

use crate::common::registry::{self, Registry, RegistryAuth};
use crate::common::servers::{Nginx, Tls};
use crate::common::*;
use std::path::Path;
use std::process::Command;

const USER: &str = "deps-reader";
const PASSWORD: &str = "pw-deps-0c4e-never-printed";

/// helm with every configuration directory inside `t/helm`, so nothing outside the test is
/// read or written.
fn helm_in(t: &Tree, which: Helm) -> Command {
    let mut cmd = helm(which);
    let home = t.mkdir("helm");
    cmd.env("HELM_CONFIG_HOME", home.join("config"))
        .env("HELM_CACHE_HOME", home.join("cache"))
        .env("HELM_DATA_HOME", home.join("data"))
        .env("HELM_REGISTRY_CONFIG", home.join("registry.json"))
        .env("DOCKER_CONFIG", home.join("docker"));
    cmd
}

fn write_chart(t: &Tree, dir: &str, chart_yaml: &str, values: &str, template: &str) {
    t.write(format!("{dir}/Chart.yaml"), chart_yaml);
    t.write(format!("{dir}/values.yaml"), values);
    t.write(format!("{dir}/templates/cm.yaml"), template);
}

fn package(t: &Tree, dir: &str) -> std::path::PathBuf {
    let out = run_std(
        helm_in(t, Helm::V3)
            .arg("package")
            .arg(t.path(dir))
            .arg("-d")
            .arg(t.path("packages")),
    );
    assert_success(&out, "helm package");
    let name = text(&out.stdout);
    let path = name.trim().rsplit(": ").next().unwrap().to_owned();
    path.into()
}

const SUB_TEMPLATE: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-{{ .Chart.Name }}\ndata:\n  chart: {{ .Chart.Name }}-{{ .Chart.Version }}\n  message: {{ .Values.message | quote }}\n  env: {{ .Values.global.env | quote }}\n";

struct Fixture {
    tree: Tree,
    _nginx: Nginx,
    registry: Registry,
    repo_url: String,
    oci_url: String,
}

fn fixture() -> Fixture {
    let t = Tree::new();
    // Published charts: web 1.0.0 and 1.1.0 in the Helm repository, db 2.0.0 in the registry.
    for version in ["1.0.0", "1.1.0"] {
        write_chart(
            &t,
            &format!("src/web-{version}"),
            &format!("apiVersion: v2\nname: web\nversion: {version}\n"),
            "message: web default\nglobal: {env: web-default}\n",
            SUB_TEMPLATE,
        );
        let archive = package(&t, &format!("src/web-{version}"));
        std::fs::create_dir_all(t.path("repo")).unwrap();
        std::fs::rename(&archive, t.path(format!("repo/web-{version}.tgz"))).unwrap();
    }
    let out = run_std(
        helm_in(&t, Helm::V3)
            .args(["repo", "index"])
            .arg(t.path("repo")),
    );
    assert_success(&out, "helm repo index");
    write_chart(
        &t,
        "src/db",
        "apiVersion: v2\nname: db\nversion: 2.0.0\n",
        "message: db default\n",
        SUB_TEMPLATE,
    );
    let db = package(&t, "src/db");
    let registry = Registry::start(RegistryAuth::Htpasswd, true);
    registry.push(Helm::V4, &db);
    let tls = Tls::shared();
    let nginx = Nginx::serve(t.path("repo"))
        .basic_auth(USER, PASSWORD)
        .tls(tls)
        .start();
    let repo_url = nginx.url();
    let oci_url = registry.url();

    // The repository: an umbrella chart, a local chart it depends on, a stack, two tenants.
    t.mkdir("git/.git");
    write_chart(
        &t,
        "git/charts/sub",
        "apiVersion: v2\nname: sub\nversion: 0.1.3\n",
        "message: sub default\n",
        SUB_TEMPLATE,
    );
    write_chart(
        &t,
        "git/charts/umbrella",
        &format!(
            "apiVersion: v2\nname: umbrella\nversion: 0.1.0\ndependencies:\n  - name: web\n    version: ^1\n    repository: {repo_url}\n  - name: web\n    alias: web2\n    version: \">=1.0.0 <2\"\n    repository: {repo_url}/\n    condition: web2.enabled\n  - name: db\n    version: 2.0.0\n    repository: {oci_url}\n    tags: [database]\n  - name: sub\n    version: ~0.1\n    repository: file://../sub\n"
        ),
        "global: {env: umbrella}\nweb2: {enabled: false}\ntags: {database: true}\nsub: {message: from umbrella}\n",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-umbrella\ndata:\n  web: {{ .Values.web.message | quote }}\n",
    );
    t.write(
        "git/stack/strata.yaml",
        "apiVersion: strata/v1\nkind: Stack\ntenants: {path: \"t/{{tenant}}\"}\ncomponents:\n  - name: app\n    chart: {path: ../charts/umbrella}\n    values: [\"t/{{tenant}}/values.yaml\"]\n",
    );
    t.write(
        "git/stack/t/acme/values.yaml",
        "web: {message: hello acme}\n",
    );
    t.write(
        "git/stack/t/globex/values.yaml",
        "web2: {enabled: true, message: second web}\ntags: {database: false}\nglobal: {env: globex}\n",
    );
    Fixture {
        tree: t,
        _nginx: nginx,
        registry,
        repo_url,
        oci_url,
    }
}

impl Fixture {
    fn strata(&self, helm: Helm, cache: &str) -> assert_cmd::Command {
        let tls = Tls::shared();
        let mut cmd = strata(helm);
        cmd.env("STRATA_CACHE_DIR", self.tree.path(cache))
            .env("STRATA_REPO_1_URL", &self.repo_url)
            .env("STRATA_REPO_1_USERNAME", USER)
            .env("STRATA_REPO_1_PASSWORD", PASSWORD)
            .env("STRATA_REPO_1_CA_FILE", &tls.ca_pem)
            .env("STRATA_REPO_2_URL", &self.oci_url)
            .env("STRATA_REPO_2_USERNAME", registry::USER)
            .env("STRATA_REPO_2_PASSWORD", registry::PASSWORD)
            .env("STRATA_REPO_2_CA_FILE", self.registry.ca_file());
        cmd
    }

    /// `helm dependency build` on a copy of the repository, as a helm user would run it.
    fn helm_built_copy(&self) -> std::path::PathBuf {
        let t = &self.tree;
        let tls = Tls::shared();
        copy_tree(&t.path("git/charts"), &t.path("helm-side/charts"), None);
        let out = run_std(
            helm_in(t, Helm::V4)
                .args([
                    "repo",
                    "add",
                    "deps",
                    &self.repo_url,
                    "--username",
                    USER,
                    "--password",
                    PASSWORD,
                ])
                .arg("--ca-file")
                .arg(&tls.ca_pem),
        );
        assert_success(&out, "helm repo add");
        let out = run_std(
            helm_in(t, Helm::V4)
                .args(["registry", "login", &self.registry.host()])
                .args([
                    "--username",
                    registry::USER,
                    "--password",
                    registry::PASSWORD,
                ])
                .arg("--ca-file")
                .arg(self.registry.ca_file()),
        );
        assert_success(&out, "helm registry login");
        let umbrella = t.path("helm-side/charts/umbrella");
        let out = run_std(
            helm_in(t, Helm::V4)
                .args(["dependency", "build"])
                .arg(&umbrella)
                .arg("--ca-file")
                .arg(&tls.ca_pem),
        );
        assert_success(&out, "helm dependency build");
        umbrella
    }
}

fn helm_template(which: Helm, chart: &Path, tenant: &str, values: &Path) -> Vec<u8> {
    let out = run_std(
        helm(which)
            .args(["template", tenant])
            .arg(chart)
            .args(["--namespace", tenant, "--include-crds", "-f"])
            .arg(values),
    );
    assert_success(&out, "helm template");
    out.stdout
}

#[test]
fn umbrella_chart_dependencies_render_like_helm_dependency_build() {
    let f = fixture();
    let t = &f.tree;
    let stack = t.path("git/stack");

    // Nothing is locked yet: init fails and names the dependency's line in Chart.yaml.
    let out = run(f
        .strata(Helm::V4, "cache")
        .arg("render")
        .arg(stack.join("t/acme")));
    assert_error(
        &out,
        "render before lock",
        &["charts/umbrella/Chart.yaml:5", "strata.lock", "strata lock"],
    );

    let out = run(f.strata(Helm::V4, "cache").arg("lock").arg(&stack));
    assert_success(&out, "strata lock");
    let lock = std::fs::read_to_string(stack.join("strata.lock")).unwrap();
    for needle in [
        "version: \"1.1.0\"",
        "version: \"2.0.0\"",
        "constraint: ^1\n",
        "constraint: \">=1.0.0 <2\"\n",
        "sha256:",
    ] {
        assert!(
            lock.contains(needle),
            "{needle} missing from the lock:\n{lock}"
        );
    }
    let all = format!("{}{}{lock}", text(&out.stdout), text(&out.stderr));
    assert!(!all.contains(PASSWORD) && !all.contains(registry::PASSWORD));

    let umbrella = f.helm_built_copy();
    for which in Helm::ALL {
        for tenant in ["acme", "globex"] {
            let values = stack.join(format!("t/{tenant}/values.yaml"));
            let expected = helm_template(which, &umbrella, tenant, &values);
            let out = run(f
                .strata(which, &format!("cache-{}", which.version()))
                .arg("render")
                .arg(stack.join(format!("t/{tenant}"))));
            assert_success(&out, &format!("render {tenant}"));
            assert_same_bytes(
                &out.stdout,
                &expected,
                &format!("{tenant} on helm {}", which.version()),
            );
        }
    }
    // The condition and tags were helm's to apply: globex has the second web and no db.
    let out = run(f
        .strata(Helm::V4, "cache")
        .arg("render")
        .arg(stack.join("t/globex")));
    let stream = text(&out.stdout);
    assert!(
        stream.contains("umbrella/charts/web2/") && !stream.contains("umbrella/charts/db/"),
        "{stream}"
    );

    // The repository's chart is never modified.
    assert!(!t.path("git/charts/umbrella/charts").exists());

    // Warm: with the lock and the cache, no credentials and no servers are needed.
    drop(f._nginx);
    let mut warm = strata(Helm::V4);
    warm.env("STRATA_CACHE_DIR", t.path("cache"))
        .arg("render")
        .arg(stack.join("t/acme"))
        .arg("--offline");
    let out = run(&mut warm);
    assert_success(&out, "warm offline render");
    let expected = helm_template(
        Helm::V4,
        &umbrella,
        "acme",
        &stack.join("t/acme/values.yaml"),
    );
    assert_same_bytes(&out.stdout, &expected, "warm offline render");
}

#[test]
fn vendored_dependencies_are_left_to_helm() {
    let t = Tree::new();
    t.mkdir(".git");
    write_chart(
        &t,
        "charts/sub",
        "apiVersion: v2\nname: sub\nversion: 0.2.0\n",
        "message: vendored\n",
        SUB_TEMPLATE,
    );
    write_chart(
        &t,
        "charts/umbrella",
        "apiVersion: v2\nname: umbrella\nversion: 0.1.0\ndependencies:\n  - name: sub\n    version: 0.2.0\n    repository: https://charts.invalid\n",
        "global: {env: x}\n",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: u\n",
    );
    copy_tree(
        &t.path("charts/sub"),
        &t.path("charts/umbrella/charts/sub"),
        None,
    );
    t.write(
        "strata.yaml",
        "apiVersion: strata/v1\nkind: Stack\ntenants: {path: \"t/{{tenant}}\"}\ncomponents:\n  - name: app\n    chart: {path: charts/umbrella}\n",
    );
    t.mkdir("t/acme");
    let out = in_repo(&t, Helm::V4, &["render", "t/acme"]);
    assert_success(&out, "render with a vendored dependency");
    assert!(text(&out.stdout).contains("message: \"vendored\""));

    // A vendored copy that does not satisfy the declared version is an error, not a silent
    // render without its alias and condition.
    t.write(
        "charts/umbrella/Chart.yaml",
        "apiVersion: v2\nname: umbrella\nversion: 0.1.0\ndependencies:\n  - name: sub\n    version: ^1\n    repository: https://charts.invalid\n",
    );
    let out = in_repo(&t, Helm::V4, &["render", "t/acme"]);
    assert_error(
        &out,
        "stale vendored dependency",
        &["charts/umbrella/Chart.yaml:5", "0.2.0"],
    );
}

#[test]
fn plain_http_registry_dependencies_and_two_versions_warning() {
    let registry = Registry::start(RegistryAuth::None, false);
    registry.push_chart(Helm::V4, "db", "1.0.0");
    registry.push_chart(Helm::V4, "db", "2.0.0");
    let t = Tree::new();
    t.mkdir(".git");
    write_chart(
        &t,
        "charts/umbrella",
        &format!(
            "apiVersion: v2\nname: umbrella\nversion: 0.1.0\ndependencies:\n  - name: db\n    version: 2.0.0\n    repository: {url}\n  - name: db\n    alias: olddb\n    version: 1.0.0\n    repository: {url}\n",
            url = registry.url()
        ),
        "{}\n",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: u\n",
    );
    t.write(
        "strata.yaml",
        "apiVersion: strata/v1\nkind: Stack\ntenants: {path: \"t/{{tenant}}\"}\ncomponents:\n  - name: app\n    chart: {path: charts/umbrella, plainHttp: true}\n",
    );
    t.mkdir("t/acme");
    let out = in_repo(&t, Helm::V4, &["lock", "."]);
    assert_success(&out, "lock over plain HTTP");
    // The lock gets the permissions any new file gets here (0666 less the umask), not 0600.
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let ordinary = t.write("ordinary.txt", "x");
    assert_eq!(mode(&t.path("strata.lock")), mode(&ordinary));
    let out = in_repo(&t, Helm::V4, &["render", "t/acme"]);
    assert_success(&out, "render over plain HTTP");
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("charts/umbrella/Chart.yaml:")
            && stderr.contains("in two versions (2.0.0 and 1.0.0)"),
        "{stderr}"
    );
    assert!(text(&out.stdout).contains("umbrella/charts/"));
}

/// A `file://` chart whose `.helmignore` leaves out a template, a file read through `.Files`,
/// a directory, backups, a root-anchored file and (helm's default) a dot file in templates/.
fn chart_with_helmignore(t: &Tree) {
    t.mkdir(".git");
    write_chart(
        t,
        "charts/sub",
        "apiVersion: v2\nname: sub\nversion: 0.3.0\n",
        "message: sub default\n",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-sub\ndata:\n  kept: {{ .Files.Get \"data/kept.txt\" | quote }}\n  secret: {{ .Files.Get \"data/secret.txt\" | quote }}\n  notes: {{ .Files.Get \"notes.txt\" | quote }}\n  nested-notes: {{ .Files.Get \"data/notes.txt\" | quote }}\n  files: \"{{ range $path, $_ := .Files }}{{ $path }} {{ end }}\"\n",
    );
    t.write(
        "charts/sub/.helmignore",
        "# build leftovers\n*.bak\n\ntemplates/skipped.yaml\nsecret.txt\n/notes.txt\nscratch/\n",
    );
    let config_map =
        |name: &str| format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n");
    t.write("charts/sub/templates/skipped.yaml", config_map("skipped"));
    t.write("charts/sub/templates/.hidden.yaml", config_map("hidden"));
    t.write("charts/sub/templates/cm.yaml.bak", config_map("backup"));
    t.write("charts/sub/data/kept.txt", "kept-content");
    t.write("charts/sub/data/secret.txt", "secret-content");
    t.write("charts/sub/data/notes.txt", "nested-notes-content");
    t.write("charts/sub/notes.txt", "root-notes-content");
    t.write("charts/sub/scratch/draft.txt", "draft-content");
    write_chart(
        t,
        "charts/umbrella",
        "apiVersion: v2\nname: umbrella\nversion: 0.1.0\ndependencies:\n  - name: sub\n    version: 0.3.0\n    repository: file://../sub\n",
        "{}\n",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: u\n",
    );
    t.write(
        "strata.yaml",
        "apiVersion: strata/v1\nkind: Stack\ntenants: {path: \"t/{{tenant}}\"}\ncomponents:\n  - name: app\n    chart: {path: charts/umbrella}\n",
    );
    t.write("t/acme/values.yaml", "{}\n");
}

/// `helm dependency build` with `which` on a copy of the repository's charts.
fn helm_dependency_build(t: &Tree, which: Helm) -> (std::path::PathBuf, std::process::Output) {
    let copy = t.path(format!("helm-{}", which.version()));
    copy_tree(&t.path("charts"), &copy, None);
    let umbrella = copy.join("umbrella");
    let out = run_std(
        helm_in(t, which)
            .args(["dependency", "build"])
            .arg(&umbrella),
    );
    (umbrella, out)
}

#[test]
fn a_file_dependency_leaves_out_what_its_helmignore_excludes() {
    let t = Tree::new();
    chart_with_helmignore(&t);
    for which in Helm::ALL {
        let (umbrella, out) = helm_dependency_build(&t, which);
        assert_success(&out, "helm dependency build");
        let expected = helm_template(which, &umbrella, "acme", &t.path("t/acme/values.yaml"));
        let out = in_repo(&t, which, &["render", "t/acme"]);
        assert_success(&out, "render");
        assert_same_bytes(
            &out.stdout,
            &expected,
            &format!("a .helmignore on helm {}", which.version()),
        );
        // The comparison is only worth something if helm did leave things out.
        let stream = text(&out.stdout);
        assert!(stream.contains("kept-content"), "{stream}");
        assert!(
            stream.contains("files: \".helmignore data/kept.txt data/notes.txt \""),
            "{stream}"
        );
        for left_out in [
            "secret-content",
            "root-notes-content",
            "draft-content",
            "name: skipped",
            "name: hidden",
            "name: backup",
        ] {
            assert!(!stream.contains(left_out), "{left_out} rendered:\n{stream}");
        }
    }
}

#[test]
fn a_helmignore_helm_refuses_is_refused_with_its_line() {
    let t = Tree::new();
    chart_with_helmignore(&t);
    t.write("charts/sub/.helmignore", "*.bak\ndocs/**/*.md\n");
    let (_, out) = helm_dependency_build(&t, Helm::V4);
    assert!(
        !out.status.success(),
        "helm accepted `**`: {}",
        describe(&out)
    );
    let out = in_repo(&t, Helm::V4, &["render", "t/acme"]);
    assert_error(
        &out,
        "`**` in a .helmignore",
        &["charts/sub/.helmignore", "line 2", "**"],
    );
}
