//! The native renderer's printing of a rendered chart (`render::native::output::assemble`)
//! against real helm 3.17.3 and 4.1.4: charts whose templates hold no actions, so the rendered
//! text is the file's text and only the splitting, sorting, hooks, CRDs and trimming are tested.

use crate::common::{Helm, Tree, assert_same_bytes, helm, run_std, text};
use std::path::Path;
use strata::render::native::output::{OutputOptions, assemble};

const CHART: &str = "apiVersion: v2\nname: c\nversion: 0.1.0\n";
const SUBCHART: &str = "apiVersion: v2\nname: sub\nversion: 0.1.0\n";

/// A chart with every odd split and ordering case; each file's text is also its rendering.
fn odd_chart(t: &Tree) {
    t.write("c/Chart.yaml", CHART);
    t.write("c/charts/sub/Chart.yaml", SUBCHART);
    let files: &[(&str, &str)] = &[
        (
            "templates/a-glued.yaml",
            "kind: Service\nmetadata: {name: a}\n---kind: Deployment\nmetadata: {name: glued}\n",
        ),
        (
            "templates/b-twice.yaml",
            "kind: ConfigMap\n---\n---\nkind: Secret\n---\n   \n---\n",
        ),
        (
            "templates/c-comment.yaml",
            "# only a comment\n---\nkind: Zebra\n---\nKIND: Aardvark\n---\n  ---\nkind: Pod\n",
        ),
        (
            "templates/d-leading.yaml",
            "\n\n---\nkind: Namespace\n  \n---   \nkind: ServiceAccount\n---",
        ),
        (
            "templates/e-hooks.yaml",
            concat!(
                "kind: Job\nmetadata:\n  annotations:\n    helm.sh/hook: pre-install,post-install\n---\n",
                "kind: Pod\nmetadata:\n  annotations:\n    helm.sh/hook: Test-Success\n---\n",
                "kind: ConfigMap\nmetadata:\n  annotations:\n    helm.sh/hook: \" post-upgrade , TEST \"\n---\n",
                "kind: Secret\nmetadata:\n  annotations:\n    helm.sh/hook: pre-install,crash\n---\n",
                "kind: Secret\nmetadata:\n  annotations:\n    helm.sh/hook: \"\"\n---\n",
                "kind: Secret\nmetadata:\n  name: s\n  annotations:\n    other: x\n",
            ),
        ),
        (
            "templates/f-webhooks.yaml",
            "kind: ValidatingWebhookConfiguration\n---\nkind: Aaa\n---\nkind: MutatingWebhookConfiguration\n---\nkind: \"\"\n",
        ),
        (
            "templates/g-plain.txt",
            "# a text file with a comment only\n",
        ),
        ("templates/h-blank.yaml", "  \n\n\t\n"),
        ("templates/_helpers.tpl", "kind: Ignored\n"),
        ("templates/NOTES.txt", "notes are not printed\n"),
        (
            "templates/nested/deep/i.yaml",
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: nested\n",
        ),
        (
            "templates/k-scalars.yaml",
            "kind: 5\n---\nkind: 2.5\n---\nkind: on\n---\nkind: null\n---\nKind: Pod\nkind: null\n---\nmetadata:\n  annotations:\n    helm.sh/hook: 5\n---\nmetadata:\n  annotations:\n    helm.sh/hook-weight: 5\n    helm.sh/hook: test\n",
        ),
        (
            "templates/j-spaces.yaml",
            "kind: LimitRange   \n\n\n---\r\nkind: Role\r\n---\n\u{b}\n---\n\u{a0}kind: Role\n",
        ),
        (
            "charts/sub/templates/a.yaml",
            "kind: Service\nmetadata: {name: sub}\n---\nkind: ServiceAccount\n",
        ),
        (
            "charts/sub/crds/sub-crd.yaml",
            "kind: CustomResourceDefinition\nmetadata: {name: sub}\n",
        ),
        (
            "crds/a-crd.yaml",
            "kind: CustomResourceDefinition\nmetadata: {name: a}\n",
        ),
        (
            "crds/b-crd.json",
            "{\"kind\": \"CustomResourceDefinition\"}",
        ),
    ];
    for (path, body) in files {
        t.write(Path::new("c").join(path), body);
    }
}

/// The chart's templates as the engine would hand them over: `<chart path>/templates/<file>`.
fn rendered(chart: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    collect(chart, &chart.join("templates"), "c", &mut out);
    collect(chart, &chart.join("charts/sub/templates"), "c", &mut out);
    out
}

fn collect(chart: &Path, dir: &Path, name: &str, out: &mut Vec<(String, String)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(chart, &path, name, out);
        } else {
            let rel = path
                .strip_prefix(chart)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            out.push((
                format!("{name}/{rel}"),
                std::fs::read_to_string(&path).unwrap(),
            ));
        }
    }
}

/// CRDs in helm's order: the root chart's (walk order), then each subchart's.
fn crds(chart: &Path) -> Vec<(String, Vec<u8>)> {
    [
        "crds/a-crd.yaml",
        "crds/b-crd.json",
        "charts/sub/crds/sub-crd.yaml",
    ]
    .iter()
    .map(|rel| (format!("c/{rel}"), std::fs::read(chart.join(rel)).unwrap()))
    .collect()
}

fn helm_template(v: Helm, chart: &Path, flags: &[&str]) -> std::process::Output {
    let mut cmd = helm(v);
    cmd.args(["template", "r"])
        .arg(chart)
        .args(["-n", "ns"])
        .args(flags);
    run_std(&mut cmd)
}

#[test]
fn odd_splits_hooks_kinds_and_crds_print_exactly_as_helm() {
    let t = Tree::new();
    odd_chart(&t);
    let chart = t.path("c");
    let files = rendered(&chart);
    let crds = crds(&chart);
    for v in Helm::ALL {
        for flags in [
            &[][..],
            &["--include-crds"],
            &["--skip-tests", "--include-crds"],
        ] {
            let out = helm_template(v, &chart, flags);
            assert!(
                out.status.success(),
                "helm {v:?} {flags:?}: {}",
                text(&out.stderr)
            );
            let opts = OutputOptions {
                include_crds: flags.contains(&"--include-crds"),
                skip_tests: flags.contains(&"--skip-tests"),
                helm4: v == Helm::V4,
            };
            let ours = assemble(&files, &crds, &opts).unwrap();
            assert_same_bytes(
                &ours,
                &out.stdout,
                &format!("helm {} {flags:?}", v.version()),
            );
        }
    }
}

#[test]
fn crds_without_a_trailing_newline_and_an_empty_chart_print_as_helm() {
    let t = Tree::new();
    t.write("c/Chart.yaml", CHART);
    t.write("c/crds/x.yaml", "kind: CustomResourceDefinition");
    t.write("c/templates/empty.yaml", "\n");
    let chart = t.path("c");
    let files = rendered(&chart);
    let crds = vec![(
        "c/crds/x.yaml".to_string(),
        b"kind: CustomResourceDefinition".to_vec(),
    )];
    for v in Helm::ALL {
        for include_crds in [false, true] {
            let flags: &[&str] = if include_crds {
                &["--include-crds"]
            } else {
                &[]
            };
            let out = helm_template(v, &chart, flags);
            assert!(out.status.success(), "{}", text(&out.stderr));
            let opts = OutputOptions {
                include_crds,
                skip_tests: false,
                helm4: v == Helm::V4,
            };
            let ours = assemble(&files, &crds, &opts).unwrap();
            assert_same_bytes(
                &ours,
                &out.stdout,
                &format!("helm {} {flags:?}", v.version()),
            );
        }
    }
}

#[test]
fn documents_helm_cannot_read_fail_as_they_fail_in_helm() {
    let cases = [
        "kind: [5]\n",
        "- a list\n",
        "plain text\n",
        "metadata:\n  annotations: [1]\n",
        "metadata: 5\n",
        "kind: [\n",
    ];
    for body in cases {
        let t = Tree::new();
        t.write("c/Chart.yaml", CHART);
        t.write("c/templates/ok.yaml", "kind: Service\n");
        t.write("c/templates/bad.yaml", format!("kind: Pod\n---\n{body}"));
        let chart = t.path("c");
        let ours = assemble(&rendered(&chart), &[], &OutputOptions::default());
        let err = ours.expect_err(body).to_string();
        assert!(
            err.starts_with("YAML parse error on c/templates/bad.yaml: "),
            "{err}"
        );
        for v in Helm::ALL {
            let out = helm_template(v, &chart, &[]);
            assert!(!out.status.success(), "helm {v:?} accepted {body:?}");
            assert!(text(&out.stderr).contains("YAML parse error on c/templates/bad.yaml"));
        }
    }
}
