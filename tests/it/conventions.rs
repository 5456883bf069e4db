//! Command-line conventions: completion scripts, the man page, `--debug`, the environment in
//! `--help`, repeatable `-a/--api-versions`, one set of `--format` names, and the mode of
//! `render -o`.

use crate::common::*;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

fn stack() -> Tree {
    let t = Tree::new();
    t.mkdir(".git");
    t.write(
        "charts/caps/Chart.yaml",
        "apiVersion: v2\nname: caps\nversion: 0.1.0\n",
    );
    t.write(
        "charts/caps/templates/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: caps\ndata:\n  x: {{ .Capabilities.APIVersions.Has \"x.example.com/v1\" | quote }}\n  y: {{ .Capabilities.APIVersions.Has \"y.example.com/v1/Thing\" | quote }}\n  z: {{ .Capabilities.APIVersions.Has \"z.example.com/v2\" | quote }}\n",
    );
    t.write(
        "strata.yaml",
        "apiVersion: strata/v1\nkind: Stack\ntenants: {path: \"t/{{tenant}}\"}\ncomponents:\n  - name: caps\n    chart: {path: charts/caps}\n    values: [\"t/{{tenant}}/absent.yaml?\"]\n",
    );
    t.mkdir("t/acme");
    t
}

#[test]
fn completion_scripts_and_man_page() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = run(strata_without_helm().args(["completion", shell]));
        assert_success(&out, shell);
        let script = text(&out.stdout);
        assert!(
            script.contains("explain") && script.contains("render"),
            "{shell}: {script}"
        );
    }
    // The bash script is valid bash.
    let out = run(strata_without_helm().args(["completion", "bash"]));
    let t = Tree::new();
    let file = t.write("strata.bash", &out.stdout);
    let check = run_std(std::process::Command::new("bash").arg("-n").arg(&file));
    assert_success(&check, "bash -n");
    let out = run(strata_without_helm().arg("man"));
    assert_success(&out, "man");
    let page = text(&out.stdout);
    assert!(page.contains(".TH strata 1"), "{page}");
    assert!(page.contains("STRATA_CACHE_DIR"), "{page}");
    let out = run(strata_without_helm().args(["completion", "tcsh"]));
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
}

#[test]
fn help_lists_the_environment() {
    let out = run(strata_without_helm().arg("--help"));
    assert_success(&out, "--help");
    let help = text(&out.stdout);
    for var in ["STRATA_HELM", "STRATA_LOG", "STRATA_CACHE_DIR", "--debug"] {
        assert!(help.contains(var), "{var} missing from --help:\n{help}");
    }
}

#[test]
fn debug_flag_is_a_debug_log_level() {
    let t = stack();
    let quiet = in_repo(&t, Helm::V4, &["values", "t/acme"]);
    assert_success(&quiet, "values");
    assert!(!text(&quiet.stderr).contains("is absent"));
    let loud = in_repo(&t, Helm::V4, &["values", "t/acme", "--debug"]);
    assert_success(&loud, "values --debug");
    assert!(
        text(&loud.stderr).contains("optional layer t/acme/absent.yaml is absent"),
        "{}",
        text(&loud.stderr)
    );
    assert_eq!(quiet.stdout, loud.stdout, "logs never reach stdout");
}

#[test]
fn api_versions_repeat_like_helm() {
    let t = stack();
    for which in Helm::ALL {
        let out = in_repo(
            &t,
            which,
            &[
                "render",
                "t/acme",
                "-a",
                "x.example.com/v1",
                "--api-versions",
                "y.example.com/v1/Thing,z.example.com/v2",
            ],
        );
        assert_success(&out, "render -a");
        let expected = run_std(
            helm(which)
                .args(["template", "acme"])
                .arg(t.path("charts/caps"))
                .args(["--namespace", "acme", "--include-crds"])
                .args(["--api-versions", "x.example.com/v1"])
                .args(["--api-versions", "y.example.com/v1/Thing,z.example.com/v2"])
                .arg(format!(
                    "--values={}",
                    t.write("empty.json", "{}").display()
                )),
        );
        assert_success(&expected, "helm template --api-versions");
        assert_same_bytes(&out.stdout, &expected.stdout, "render -a vs helm");
        assert!(text(&out.stdout).contains("z: \"true\""));
    }
}

#[test]
fn text_is_a_format_name_everywhere_and_render_output_is_0644() {
    let t = stack();
    for args in [
        ["tenants", ".", "--format", "text"],
        ["values", "t/acme", "--format", "text"],
        ["explain", "t/acme", "--format", "text"],
    ] {
        let out = in_repo(&t, Helm::V4, &args);
        assert_success(&out, &args.join(" "));
    }
    let out_file = t.path("out/acme.yaml");
    std::fs::create_dir_all(t.path("out")).unwrap();
    let script = format!(
        "umask 022; exec \"$0\" render t/acme -o {}",
        out_file.display()
    );
    let out = run_std(
        std::process::Command::new("/bin/sh")
            .arg("-c")
            .arg(&script)
            .arg(strata_bin())
            .current_dir(t.root())
            .env_clear()
            .env("PATH", BASE_PATH)
            .env("HOME", test_home())
            .env("STRATA_HELM", Helm::V4.path())
            .env("STRATA_CACHE_DIR", t.path("cache")),
    );
    assert_success(&out, "render -o");
    let mode = std::fs::metadata(&out_file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o644, "render -o must write an ordinary file");
}

/// A stack whose output is far larger than a pipe holds (64 KiB), so a reader that stops
/// early makes strata's write fail with EPIPE: 400 ConfigMaps per render, `tenants` more
/// tenants, and a git repository for `diff`.
fn large_output_stack(tenants: usize) -> Tree {
    let t = Tree::new();
    t.write(
        "charts/many/Chart.yaml",
        "apiVersion: v2\nname: many\nversion: 0.1.0\n",
    );
    t.write(
        "charts/many/templates/cm.yaml",
        "{{- range until (int .Values.count) }}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{{ . }}\ndata:\n  text: {{ repeat 400 \"x\" | quote }}\n{{- end }}\n",
    );
    t.write("charts/many/values.yaml", "count: 400\n");
    t.write(
        "strata.yaml",
        "apiVersion: strata/v1\nkind: Stack\ntenants: {path: \"t/{{tenant}}\"}\ncomponents:\n  - name: many\n    chart: {path: charts/many}\n    values: [\"t/{{tenant}}/values.yaml?\"]\n",
    );
    t.mkdir("t/acme");
    for n in 0..tenants {
        t.mkdir(format!("t/tenant-{n:04}-{}", "x".repeat(40)));
    }
    let git = |args: &[&str]| {
        let out = run_std(
            std::process::Command::new("git")
                .current_dir(t.root())
                .env_clear()
                .env("PATH", BASE_PATH)
                .env("HOME", test_home())
                .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
                .args(args),
        );
        assert_success(&out, &format!("git {args:?}"));
    };
    git(&["init", "-q", "-b", "main"]);
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "base"]);
    t
}

/// Runs strata through a real shell pipe into `head -c 10`, and returns strata's own exit
/// status (not head's) and what strata wrote on stderr.
fn piped_into_head(t: &Tree, args: &[&str]) -> (Option<i32>, String) {
    piped_into_head_in(t, t.root(), &[], args)
}

fn piped_into_head_in(
    t: &Tree,
    dir: &Path,
    env: &[(&str, &str)],
    args: &[&str],
) -> (Option<i32>, String) {
    let out = run_std(
        std::process::Command::new("bash")
            .current_dir(dir)
            .env_clear()
            .envs(env.iter().copied())
            .env("PATH", BASE_PATH)
            .env("HOME", test_home())
            .env("STRATA_HELM", Helm::V4.path())
            .env("STRATA_CACHE_DIR", t.path("cache"))
            .arg("-c")
            .arg("\"$@\" | head -c 10 >/dev/null; exit \"${PIPESTATUS[0]}\"")
            .arg("bash")
            .arg(strata_bin())
            .args(args),
    );
    (out.status.code(), text(&out.stderr))
}

#[test]
fn a_closed_pipe_ends_the_output_without_an_error() {
    let t = large_output_stack(0);
    // The output is really larger than a pipe, so the early reader does cut it short.
    let full = in_repo(&t, Helm::V4, &["render", "t/acme"]);
    assert_success(&full, "render");
    assert!(full.stdout.len() > 150_000, "{}", full.stdout.len());
    t.write("t/acme/values.yaml", "count: 300\n");
    for (args, status) in [
        (vec!["render", "t/acme"], 0),
        (vec!["values", "t/acme", "--all"], 0),
        // diff's usual status when something differs is 1, as for diff(1).
        (vec!["diff", "--base", "main", "--format", "json"], 1),
        (vec!["diff", "--base", "main"], 1),
    ] {
        let (code, stderr) = piped_into_head(&t, &args);
        assert_eq!(code, Some(status), "{args:?}: stderr: {stderr}");
        assert_eq!(stderr, "", "{args:?}");
    }
    // generate is read by Argo CD to its end: a reader that stops early is an error there.
    let env = [
        ("ARGOCD_APP_NAME", "acme"),
        ("ARGOCD_APP_NAMESPACE", "acme"),
    ];
    let (code, stderr) = piped_into_head_in(&t, &t.path("t/acme"), &env, &["generate"]);
    assert_eq!(code, Some(1), "generate: stderr: {stderr}");
    assert!(
        stderr.contains("cannot write the manifests to stdout"),
        "generate: {stderr}"
    );
    let t = large_output_stack(1000);
    let listed = in_repo(&t, Helm::V4, &["tenants"]);
    assert_success(&listed, "tenants");
    assert!(listed.stdout.len() > 100_000, "{}", listed.stdout.len());
    for args in [vec!["tenants"], vec!["tenants", "--format", "json"]] {
        let (code, stderr) = piped_into_head(&t, &args);
        assert_eq!(code, Some(0), "{args:?}: stderr: {stderr}");
        assert_eq!(stderr, "", "{args:?}");
    }
}
