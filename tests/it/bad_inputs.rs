//! strata's error contract: any config/values/chart/render problem exits 1
//! with nothing on stdout and one message on stderr naming the culprit;
//! usage errors exit 2.
//!
//! Every case starts from a stack that renders fine (checked by
//! `baseline_renders`) and breaks exactly one thing.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::common::*;

const STRATA_YAML: &str = r#"apiVersion: strata/v1
kind: Stack
vars:
  flavor: plain
tenants:
  path: "tenants/{{tenant}}"
components:
  - name: app
    chart: {path: charts/app}
    values:
      - values/common.yaml
      - values/flavor/{{flavor}}.yaml?
      - tenants/{{tenant}}/values.yaml
"#;

const CONFIGMAP: &str = r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-app
data:
  a: {{ .Values.a | quote }}
  b: {{ .Values.b | quote }}
"#;

fn base_stack() -> Tree {
    let t = Tree::new();
    t.write("strata.yaml", STRATA_YAML);
    t.write(
        "charts/app/Chart.yaml",
        "apiVersion: v2\nname: app\nversion: 0.1.0\n",
    );
    t.write("charts/app/values.yaml", "a: default\nb: default\n");
    t.write("charts/app/templates/cm.yaml", CONFIGMAP);
    t.write("values/common.yaml", "a: common\n");
    t.write("tenants/acme/values.yaml", "b: acme\n");
    t
}

fn render(t: &Tree) -> assert_cmd::Command {
    let mut cmd = strata(Helm::V3);
    cmd.current_dir(t.root()).args(["render", "tenants/acme"]);
    cmd
}

fn with_strata_yaml(t: &Tree, from: &str, to: &str) {
    assert!(
        STRATA_YAML.contains(from),
        "test bug: {from:?} not in strata.yaml"
    );
    t.write("strata.yaml", STRATA_YAML.replace(from, to));
}

#[test]
fn baseline_renders() {
    let t = base_stack();
    let out = run(&mut render(&t));
    assert_success(&out, "baseline render");
    let stdout = text(&out.stdout);
    assert!(stdout.contains("name: acme-app"), "{stdout}");
    assert!(
        stdout.contains("a: \"common\"") && stdout.contains("b: \"acme\""),
        "{stdout}"
    );

    // The Argo CD entry points the cases below break also work unbroken.
    let generated = run(&mut generate_in(&t, "tenants/acme"));
    assert_success(&generated, "baseline generate in the tenant dir");
    assert_eq!(text(&generated.stdout), stdout);
    let at_root = run(generate_in(&t, ".").env(
        "ARGOCD_APP_PARAMETERS",
        r#"[{"name":"tenant","string":"acme"}]"#,
    ));
    assert_success(&at_root, "baseline generate at the stack root");
    assert_eq!(text(&at_root.stdout), stdout);
    let flavored = run(render(&t).args(["--var", "flavor=plain"]));
    assert_success(&flavored, "baseline render with --var flavor=plain");
}

/// One broken input: how to break the base stack, how to invoke strata and
/// what stderr must mention.
struct Case {
    name: &'static str,
    breaks: fn(&Tree),
    invoke: fn(&Tree) -> assert_cmd::Command,
    needles: &'static [&'static str],
}

fn generate_in(t: &Tree, app_dir: &str) -> assert_cmd::Command {
    let mut cmd = strata(Helm::V3);
    cmd.current_dir(t.path(app_dir))
        .arg("generate")
        .env("ARGOCD_APP_NAME", "acme")
        .env("ARGOCD_APP_NAMESPACE", "acme")
        .env("ARGOCD_APP_SOURCE_PATH", app_dir)
        .env("ARGOCD_APP_PARAMETERS", "null");
    cmd
}

const CASES: &[Case] = &[
    Case {
        name: "no strata.yaml anywhere above the tenant dir",
        breaks: |t| t.remove("strata.yaml"),
        invoke: render,
        needles: &["strata.yaml"],
    },
    Case {
        name: "strata.yaml is not valid YAML",
        breaks: |t| {
            t.write(
                "strata.yaml",
                "apiVersion: strata/v1\nkind: Stack\ncomponents: [\n",
            );
        },
        invoke: render,
        needles: &["strata.yaml"],
    },
    Case {
        name: "values layer with a YAML syntax error",
        breaks: |t| {
            t.write("tenants/acme/values.yaml", "a: 1\nb: 2\nc: d: e\n");
        },
        invoke: render,
        needles: &["tenants/acme/values.yaml"],
    },
    Case {
        name: "values layer whose top level is a list",
        breaks: |t| {
            t.write("tenants/acme/values.yaml", "- a\n- b\n");
        },
        invoke: render,
        needles: &["tenants/acme/values.yaml"],
    },
    Case {
        name: "unknown variable in a layer path template",
        breaks: |t| with_strata_yaml(t, "values/common.yaml", "values/{{nosuchvar}}.yaml"),
        invoke: render,
        needles: &["nosuchvar"],
    },
    Case {
        name: "missing (non-optional) layer file",
        breaks: |t| with_strata_yaml(t, "values/common.yaml", "values/not-there.yaml"),
        invoke: render,
        needles: &["values/not-there.yaml"],
    },
    Case {
        name: "path traversal in --var for the tenant variable, at the stack root",
        breaks: |_| {},
        invoke: |t| {
            let mut cmd = strata(Helm::V3);
            cmd.current_dir(t.root())
                .args(["render", ".", "--var", "tenant=../../etc"]);
            cmd
        },
        needles: &["tenant", "../../etc"],
    },
    Case {
        name: "--var contradicting the tenant directory",
        breaks: |_| {},
        invoke: |t| {
            let mut cmd = render(t);
            cmd.args(["--var", "tenant=../../etc"]);
            cmd
        },
        needles: &["tenant", "../../etc"],
    },
    Case {
        name: "absolute path in --var for a layer variable",
        breaks: |_| {},
        invoke: |t| {
            let mut cmd = render(t);
            cmd.args(["--var", "flavor=/etc/passwd"]);
            cmd
        },
        needles: &["flavor", "/etc/passwd"],
    },
    Case {
        name: "path traversal in an ARGOCD_ENV_ variable",
        breaks: |_| {},
        invoke: |t| {
            let mut cmd = generate_in(t, "tenants/acme");
            cmd.env("ARGOCD_ENV_FLAVOR", "../../../x");
            cmd
        },
        needles: &["flavor", "../../../x"],
    },
    Case {
        name: "path traversal in a tenant parameter, at the stack root",
        breaks: |_| {},
        invoke: |t| {
            let mut cmd = generate_in(t, ".");
            cmd.env(
                "ARGOCD_APP_PARAMETERS",
                r#"[{"name":"tenant","string":"../../etc"}]"#,
            )
            .env("PARAM_TENANT", "../../etc");
            cmd
        },
        needles: &["tenant", "../../etc"],
    },
    Case {
        name: "chart directory does not exist",
        breaks: |t| with_strata_yaml(t, "charts/app", "charts/nope"),
        invoke: render,
        needles: &["charts/nope"],
    },
    Case {
        name: "chart template calls fail",
        breaks: |t| {
            t.write(
                "charts/app/templates/boom.yaml",
                "{{ fail \"boom-from-the-chart\" }}\n",
            );
        },
        invoke: render,
        needles: &["boom-from-the-chart"],
    },
    Case {
        name: "STRATA_HELM points nowhere",
        breaks: |_| {},
        invoke: |t| {
            let mut cmd = render(t);
            cmd.env("STRATA_HELM", "/nonexistent/helm");
            cmd
        },
        needles: &["/nonexistent/helm"],
    },
    Case {
        name: "chart renders no manifests",
        breaks: |t| t.remove("charts/app/templates/cm.yaml"),
        invoke: render,
        needles: &["render is empty"],
    },
];

#[test]
fn each_bad_input_exits_1_naming_the_culprit() {
    let mut failures = Vec::new();
    for case in CASES {
        let t = base_stack();
        (case.breaks)(&t);
        let out = run(&mut (case.invoke)(&t));
        let result = std::panic::catch_unwind(|| assert_error(&out, case.name, case.needles));
        if let Err(e) = result {
            let msg = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            failures.push(format!("[{}]\n{msg}", case.name));
        }
    }
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn yaml_syntax_error_names_file_and_line() {
    let t = base_stack();
    t.write("tenants/acme/values.yaml", "a: 1\nb: 2\nc: d: e\n");
    let out = run(&mut render(&t));
    assert_error(&out, "values syntax error", &["tenants/acme/values.yaml"]);
    let stderr = text(&out.stderr);
    assert!(
        mentions_line(&stderr, 3),
        "stderr should point at line 3:\n{stderr}"
    );
}

/// `allowEmpty: true` turns the empty-render error off.
#[test]
fn allow_empty_accepts_a_render_without_manifests() {
    let t = base_stack();
    t.remove("charts/app/templates/cm.yaml");
    with_strata_yaml(&t, "tenants:\n", "allowEmpty: true\ntenants:\n");
    let out = run(&mut render(&t));
    assert_success(&out, "render with allowEmpty: true");
    assert!(
        text(&out.stdout).trim().is_empty(),
        "nothing to render, yet stdout has content:\n{}",
        describe(&out)
    );
}

#[test]
fn unknown_flag_is_a_usage_error() {
    let t = base_stack();
    let out = run(strata(Helm::V3)
        .current_dir(t.root())
        .args(["render", "--bogus"]));
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(out.stdout.is_empty(), "{}", describe(&out));
}

// ---------------------------------------------------------------------------
// Timeouts

/// ~1.6e9 template iterations: minutes of CPU in helm.
const SLOW_TEMPLATE: &str =
    "{{- range until 40000 }}{{- range until 40000 }}{{- end }}{{- end }}\n";

fn slow_stack() -> (Tree, std::path::PathBuf) {
    let t = base_stack();
    t.write("charts/app/templates/slow.yaml", SLOW_TEMPLATE);
    // A helm path unique to this test, to find leftover helm processes.
    let link = symlink_into(&t.path("bin"), "helm", &Helm::V3.path());
    (t, link)
}

fn leftover_helm(helm_link: &Path, stack: &Path) -> Vec<(u32, Vec<String>)> {
    let link = helm_link.display().to_string();
    let stack = stack.display().to_string();
    process_command_lines()
        .into_iter()
        .filter(|(_, argv)| argv[0] == link || argv.iter().any(|a| a.contains(&stack)))
        .collect()
}

fn check_timeout(configure: fn(&mut assert_cmd::Command)) {
    let (t, link) = slow_stack();
    let mut cmd = render(&t);
    cmd.env("STRATA_HELM", &link);
    configure(&mut cmd);
    let started = Instant::now();
    let out = run(&mut cmd);
    let elapsed = started.elapsed();
    assert_error(&out, "helm exceeding the timeout", &[]);
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("timed out"),
        "message should say timed out:\n{stderr}"
    );
    assert!(
        elapsed < Duration::from_secs(10),
        "a 1 s timeout took {elapsed:?} to return"
    );
    // helm must not outlive strata.
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let left = leftover_helm(&link, t.root());
        if left.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "helm still running after strata returned: {left:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn helm_timeout_flag() {
    check_timeout(|cmd| {
        cmd.args(["--timeout", "1"]);
    });
}

#[test]
fn helm_timeout_env() {
    check_timeout(|cmd| {
        cmd.env("STRATA_TIMEOUT", "1");
    });
}

/// A credential variable strata cannot read is refused by name, before any request: skipping
/// it would send a group's password to no repository, or a repository none of its password.
#[test]
fn a_repository_variable_that_is_not_utf8_is_refused_by_name() {
    use std::os::unix::ffi::OsStrExt;
    let t = base_stack();
    with_strata_yaml(
        &t,
        "chart: {path: charts/app}",
        "chart: {repository: \"https://127.0.0.1:9/charts\", name: app, version: 0.1.0}",
    );
    let secret = "pass-\u{1F511}-word";
    let mut bytes = secret.as_bytes().to_vec();
    bytes.push(0xff);
    let out = strata(Helm::V3)
        .current_dir(t.root())
        .arg("lock")
        .env("STRATA_REPO_1_URL", "https://127.0.0.1:9/charts")
        .env(
            "STRATA_REPO_1_PASSWORD",
            std::ffi::OsStr::from_bytes(&bytes),
        )
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("STRATA_REPO_1_PASSWORD is not valid UTF-8"),
        "{stderr}"
    );
    assert!(!stderr.contains("pass-"), "{stderr}");
    assert!(!stderr.contains("connect"), "no request is made: {stderr}");
}
