//! The native renderer (`strata::render::native::Native`) against real helm 3.17.3 and 4.1.4:
//! project-written charts exercising one chart-engine feature each (subcharts with condition,
//! tags and alias, globals, nulls, `.Files`, `.Capabilities`, hooks, CRDs, NOTES, tests,
//! .helmignore, packaged subcharts, library charts, schemas, import-values), rendered by both
//! and compared byte for byte.

use crate::common::{Helm, Tree, assert_same_bytes, helm, run_std, text};
use std::path::Path;
use strata::render::Request;
use strata::render::native::{Compat, Native};

/// The `helm template` flags a case uses.
#[derive(Default, Clone)]
struct Flags {
    values_json: &'static str,
    kube_version: Option<&'static str>,
    api_versions: Vec<String>,
    include_crds: bool,
    skip_tests: bool,
}

fn compat(v: Helm) -> Compat {
    match v {
        Helm::V3 => Compat::helm3(),
        Helm::V4 => Compat::helm4(),
    }
}

fn helm_template(v: Helm, t: &Tree, chart: &Path, flags: &Flags) -> std::process::Output {
    let values = t.write("user-values.json", flags.values_json);
    let mut cmd = helm(v);
    cmd.args(["template", "r"])
        .arg(chart)
        .args(["-n", "ns", "-f"])
        .arg(values);
    if let Some(k) = flags.kube_version {
        cmd.args(["--kube-version", k]);
    }
    for a in &flags.api_versions {
        cmd.args(["--api-versions", a]);
    }
    if flags.include_crds {
        cmd.arg("--include-crds");
    }
    if flags.skip_tests {
        cmd.arg("--skip-tests");
    }
    run_std(&mut cmd)
}

fn native(v: Helm, chart: &Path, flags: &Flags) -> Result<Vec<u8>, String> {
    let request = Request {
        component: "c",
        chart,
        chart_shown: "c",
        release: "r",
        namespace: "ns",
        values_json: flags.values_json.as_bytes(),
        kube_version: flags.kube_version,
        api_versions: &flags.api_versions,
        include_crds: flags.include_crds,
        skip_tests: flags.skip_tests,
    };
    Native::new(compat(v))
        .render_chart(&request)
        .map_err(|e| e.to_string())
}

/// Renders `chart` with both helms and natively; asserts identical bytes.
#[track_caller]
fn same_as_helm(t: &Tree, chart: &Path, flags: &Flags) {
    for v in Helm::ALL {
        let out = helm_template(v, t, chart, flags);
        assert!(
            out.status.success(),
            "helm {} failed: {}",
            v.version(),
            text(&out.stderr)
        );
        let ours = native(v, chart, flags)
            .unwrap_or_else(|e| panic!("native ({}) failed: {e}", v.version()));
        assert_same_bytes(&ours, &out.stdout, &format!("helm {}", v.version()));
    }
}

/// Both helms and the native renderer refuse `chart`; the native message holds `needle`.
#[track_caller]
fn fails_like_helm(t: &Tree, chart: &Path, flags: &Flags, needle: &str) {
    for v in Helm::ALL {
        let out = helm_template(v, t, chart, flags);
        assert!(!out.status.success(), "helm {} succeeded", v.version());
        let err = native(v, chart, flags).expect_err("native render succeeded");
        assert!(
            err.contains(needle),
            "native error {err:?} lacks {needle:?}"
        );
    }
}

const PARENT: &str = "apiVersion: v2\nname: parent\nversion: 1.0.0\n";

fn chart_yaml(name: &str, extra: &str) -> String {
    format!("apiVersion: v2\nname: {name}\nversion: 0.1.0\n{extra}")
}

#[test]
fn values_nulls_and_multi_document_values_yaml_render_as_helm() {
    let t = Tree::new();
    t.write("c/Chart.yaml", chart_yaml("c", "appVersion: 1.10\n"));
    t.write(
        "c/values.yaml",
        "t1: default\nt6: null\nm: {n3: default, keep: 1, n7: null, sub: {d: 1}}\nmapdef: {a: 1}\nscal: 5\nemptymap: {}\nnum: 1234567\noct: 0755\nyes: on\n---\nsecond: doc\nt1: other\n",
    );
    t.write(
        "c/templates/v.yaml",
        "# {{ .Values }}\n# {{ .Chart }}\n# {{ .Chart.Annotations }} {{ .Chart.Keywords }}\n# chart {{ .Chart.Name }} {{ .Chart.Version }} {{ .Chart.AppVersion }} {{ .Chart.IsRoot }} {{ .Chart.APIVersion }}\n# missing [{{ .Values.nothere }}] [{{ .Values.t6 }}] {{ .Values.num }}\n",
    );
    let flags = Flags {
        values_json: r#"{"t1": null, "t2": null, "m": {"n3": null, "n4": null, "sub": null, "n7": null}, "mapdef": null, "scal": {"a": 1}, "emptymap": {"foo": "bar", "baz": null}}"#,
        ..Flags::default()
    };
    same_as_helm(&t, &t.path("c"), &flags);
}

/// A parent with one subchart used twice (alias), a tagged one, an undeclared one and a
/// version-mismatched one; globals flow down, subchart sections are scoped.
fn subchart_family(t: &Tree) {
    t.write(
        "p/Chart.yaml",
        format!(
            "{PARENT}dependencies:\n\
             - {{name: sub, version: 0.1.0, condition: sub.enabled}}\n\
             - {{name: sub, version: '>=0.1.0', alias: sub2, condition: sub2.enabled}}\n\
             - {{name: tagged, version: 0.1.0, tags: [front, extra]}}\n\
             - {{name: mism, version: 9.9.9, alias: renamed, condition: mism.off}}\n"
        ),
    );
    t.write(
        "p/values.yaml",
        "global: {g1: parent, gm: {a: parent}}\nsub: {fromparent: p, shared: parent-wins, s3: null, m: {a: 1}}\nmism: {off: false}\n",
    );
    t.write(
        "p/templates/p.yaml",
        "# parent sees {{ .Values }}\n# subcharts {{ range $k, $v := .Subcharts }}{{ $k }}={{ $v.Chart.Name }} {{ end }}\n",
    );
    t.write(
        "p/templates/_helpers.tpl",
        "{{- define \"who\" -}}parent-define{{- end -}}",
    );
    t.write("p/charts/sub/Chart.yaml", chart_yaml("sub", ""));
    t.write(
        "p/charts/sub/values.yaml",
        "global: {g1: sub-default, g2: sub-only, gm: {b: sub}}\nshared: sub-default\nsubonly: s\ns2: subval\ns3: x\ns4: null\nm: {b: 2, c: 3}\nenabled: true\n",
    );
    t.write(
        "p/charts/sub/templates/s.yaml",
        "# {{ .Chart.Name }} sees {{ .Values }}\n# template {{ .Template.Name }} {{ .Template.BasePath }} {{ include \"who\" . }}\n",
    );
    t.write(
        "p/charts/sub/templates/_helpers.tpl",
        "{{- define \"who\" -}}sub-define{{- end -}}",
    );
    t.write("p/charts/tagged/Chart.yaml", chart_yaml("tagged", ""));
    t.write(
        "p/charts/tagged/templates/t.yaml",
        "# tagged {{ .Values }}\n",
    );
    t.write("p/charts/mism/Chart.yaml", chart_yaml("mism", ""));
    t.write(
        "p/charts/mism/templates/m.yaml",
        "# mism {{ .Chart.Name }}\n",
    );
    t.write(
        "p/charts/undeclared/Chart.yaml",
        chart_yaml("undeclared", ""),
    );
    t.write(
        "p/charts/undeclared/templates/u.yaml",
        "# undeclared {{ .Values }}\n",
    );
    t.write("p/charts/_skipped/Chart.yaml", "not: a chart\n");
}

#[test]
fn subcharts_conditions_tags_aliases_and_globals_render_as_helm() {
    let t = Tree::new();
    subchart_family(&t);
    let chart = t.path("p");
    same_as_helm(&t, &chart, &Flags::default());
    same_as_helm(
        &t,
        &chart,
        &Flags {
            values_json: r#"{"global": {"gm": {"c": "user"}, "g1": null}, "sub": {"user": "u", "s1": null, "s2": null, "m": {"b": null}}, "sub2": {"enabled": false}, "tags": {"front": false}}"#,
            ..Flags::default()
        },
    );
    same_as_helm(
        &t,
        &chart,
        &Flags {
            values_json: r#"{"sub": {"enabled": "yes"}, "tags": {"front": false, "extra": true}, "sub2": {"enabled": true}}"#,
            ..Flags::default()
        },
    );
}

#[test]
fn a_missing_dependency_and_a_scalar_subchart_section_fail_as_in_helm() {
    let t = Tree::new();
    subchart_family(&t);
    fails_like_helm(
        &t,
        &t.path("p"),
        &Flags {
            values_json: r#"{"sub": 5}"#,
            ..Flags::default()
        },
        "type mismatch on sub",
    );
    t.write(
        "q/Chart.yaml",
        format!("{PARENT}dependencies:\n- {{name: absent, version: 1.0.0}}\n"),
    );
    fails_like_helm(&t, &t.path("q"), &Flags::default(), "missing in charts/");
}

#[test]
fn import_values_render_as_helm() {
    let t = Tree::new();
    t.write(
        "p/Chart.yaml",
        format!(
            "{PARENT}dependencies:\n- name: child\n  version: 0.1.0\n  import-values:\n  - data\n  - child: deep.cfg\n    parent: fromchild\n"
        ),
    );
    t.write(
        "p/values.yaml",
        "myval: parent\nfromchild: {over: parent}\n",
    );
    t.write("p/templates/p.yaml", "# {{ .Values }}\n");
    t.write("p/charts/child/Chart.yaml", chart_yaml("child", ""));
    t.write(
        "p/charts/child/values.yaml",
        "exports:\n  data: {myval: child-export, exported: yes}\ndeep:\n  cfg: {over: child, extra: child-extra}\n",
    );
    same_as_helm(&t, &t.path("p"), &Flags::default());
    same_as_helm(
        &t,
        &t.path("p"),
        &Flags {
            values_json: r#"{"myval": "user"}"#,
            ..Flags::default()
        },
    );
}

#[test]
fn files_globs_config_and_secrets_render_as_helm() {
    let t = Tree::new();
    t.write("c/Chart.yaml", chart_yaml("c", ""));
    t.write("c/files/a.txt", "alpha\nbeta\n");
    t.write("c/files/b.json", "{\"k\": 1}");
    t.write("c/files/sub/c.txt", "deep");
    t.write("c/other.cfg", "x=1\n");
    t.write(
        "c/templates/f.yaml",
        concat!(
            "# get [{{ .Files.Get \"files/a.txt\" | printf \"%q\" }}] [{{ .Files.Get \"nope\" }}] {{ .Files.Get \"files/sub/c.txt\" }}\n",
            "# bytes {{ .Files.GetBytes \"files/sub/c.txt\" }}\n",
            "# lines {{ range .Files.Lines \"files/a.txt\" }}<{{ . }}>{{ end }}\n",
            "# glob1 {{ range $p, $_ := .Files.Glob \"files/*\" }}{{ $p }} {{ end }}\n",
            "# glob2 {{ range $p, $_ := .Files.Glob \"files/**\" }}{{ $p }} {{ end }}\n",
            "# glob3 {{ range $p, $_ := .Files.Glob \"{files/*.json,*.cfg}\" }}{{ $p }} {{ end }}\n",
            "kind: ConfigMap\ndata:\n{{ (.Files.Glob \"files/*\").AsConfig | indent 2 }}\n",
            "---\nkind: Secret\ndata:\n{{ (.Files.Glob \"files/**.txt\").AsSecrets | indent 2 }}\n",
        ),
    );
    same_as_helm(&t, &t.path("c"), &Flags::default());
    t.write("c/files/empty.txt", "");
    t.write(
        "c/templates/g.yaml",
        "# {{ .Files.Lines \"files/empty.txt\" }}\n",
    );
    fails_like_helm(&t, &t.path("c"), &Flags::default(), "index out of range");
}

#[test]
fn capabilities_render_as_helm() {
    let t = Tree::new();
    t.write("c/Chart.yaml", chart_yaml("c", ""));
    t.write(
        "c/templates/c.yaml",
        concat!(
            "# {{ .Capabilities.KubeVersion }} {{ .Capabilities.KubeVersion.Version }} {{ .Capabilities.KubeVersion.Major }} {{ .Capabilities.KubeVersion.Minor }}\n",
            "# {{ .Capabilities.APIVersions.Has \"apps/v1\" }} {{ .Capabilities.APIVersions.Has \"apps/v1/Deployment\" }} {{ .Capabilities.APIVersions.Has \"x.io/v1\" }}\n",
            "# {{ .Capabilities.HelmVersion.Version }} {{ .Capabilities.HelmVersion }}\n",
            "# {{ semverCompare \">=1.30-0\" .Capabilities.KubeVersion.Version }}\n",
            "# {{ .Release.Name }} {{ .Release.Namespace }} {{ .Release.IsInstall }} {{ .Release.Revision }} {{ .Release.Service }}\n",
        ),
    );
    same_as_helm(&t, &t.path("c"), &Flags::default());
    for kube in ["1.29", "v1.29.3-gke.100", "1.31.0"] {
        same_as_helm(
            &t,
            &t.path("c"),
            &Flags {
                kube_version: Some(kube),
                api_versions: vec!["x.io/v1".into(), "apps/v1/Deployment".into()],
                ..Flags::default()
            },
        );
    }
}

/// Hooks, tests, NOTES and CRDs of a parent and its subchart.
fn hooks_and_crds(t: &Tree) {
    t.write(
        "c/Chart.yaml",
        chart_yaml("c", "dependencies:\n- {name: sub, version: 0.1.0}\n"),
    );
    t.write("c/templates/NOTES.txt", "Notes for {{ .Release.Name }}\n");
    t.write(
        "c/templates/hooks.yaml",
        "kind: Job\nmetadata:\n  name: pre\n  annotations:\n    helm.sh/hook: pre-install\n---\nkind: Pod\nmetadata:\n  name: t\n  annotations:\n    helm.sh/hook: test\n",
    );
    t.write(
        "c/templates/cm.yaml",
        "kind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-cm\n",
    );
    t.write(
        "c/crds/crd.yaml",
        "kind: CustomResourceDefinition\nmetadata: {name: {{ raw }}}\n",
    );
    t.write(
        "c/crds/a/x.yaml",
        "kind: CustomResourceDefinition\nmetadata: {name: ax}\n",
    );
    t.write(
        "c/crds/a-b.JSON",
        "{\"kind\": \"CustomResourceDefinition\"}",
    );
    t.write("c/crds/notes.txt", "not a CRD\n");
    t.write("c/charts/sub/Chart.yaml", chart_yaml("sub", ""));
    t.write(
        "c/charts/sub/crds/s.yml",
        "kind: CustomResourceDefinition\nmetadata: {name: s}\n",
    );
    t.write("c/charts/sub/templates/NOTES.txt", "sub notes\n");
    t.write(
        "c/charts/sub/templates/svc.yaml",
        "kind: Service\nmetadata: {name: s}\n",
    );
}

#[test]
fn hooks_tests_notes_and_crds_render_as_helm() {
    let t = Tree::new();
    hooks_and_crds(&t);
    let chart = t.path("c");
    same_as_helm(&t, &chart, &Flags::default());
    same_as_helm(
        &t,
        &chart,
        &Flags {
            include_crds: true,
            skip_tests: true,
            ..Flags::default()
        },
    );
}

#[test]
fn helmignore_and_packaged_subcharts_load_as_helm() {
    let t = Tree::new();
    t.write(
        "c/Chart.yaml",
        chart_yaml("c", "dependencies:\n- {name: packed, version: 0.2.0}\n"),
    );
    t.write("c/.helmignore", "*.bak\nsecret/\n");
    t.write("c/keep.txt", "kept");
    t.write("c/drop.bak", "dropped");
    t.write("c/secret/x.txt", "hidden");
    t.write("c/templates/.hidden.yaml", "kind: Hidden\n");
    t.write(
        "c/templates/sub/.visible.yaml",
        "# visible {{ .Chart.Name }}\n",
    );
    t.write(
        "c/templates/f.yaml",
        "# {{ range $p, $_ := .Files.Glob \"**\" }}{{ $p }} {{ end }}\n",
    );
    t.write(
        "src/packed/Chart.yaml",
        "apiVersion: v2\nname: packed\nversion: 0.2.0\n",
    );
    t.write("src/packed/values.yaml", "x: from-archive\n");
    t.write(
        "src/packed/templates/p.yaml",
        "# packed {{ .Values.x }} {{ .Chart.Name }}\n",
    );
    let mut cmd = helm(Helm::V3);
    cmd.args(["package"])
        .arg(t.path("src/packed"))
        .arg("-d")
        .arg(t.mkdir("c/charts"));
    let out = run_std(&mut cmd);
    assert!(out.status.success(), "helm package: {}", text(&out.stderr));
    same_as_helm(&t, &t.path("c"), &Flags::default());

    // A stray file in charts/ is an error for both.
    t.write("c/charts/README.md", "stray");
    fails_like_helm(&t, &t.path("c"), &Flags::default(), "README.md");
}

#[test]
fn a_packaged_root_chart_renders_as_helm() {
    let t = Tree::new();
    hooks_and_crds(&t);
    let mut cmd = helm(Helm::V3);
    cmd.arg("package")
        .arg(t.path("c"))
        .arg("-d")
        .arg(t.mkdir("pkg"));
    let out = run_std(&mut cmd);
    assert!(out.status.success(), "helm package: {}", text(&out.stderr));
    same_as_helm(
        &t,
        &t.path("pkg/c-0.1.0.tgz"),
        &Flags {
            include_crds: true,
            ..Flags::default()
        },
    );
}

#[test]
fn library_charts_lend_their_defines_and_cannot_render_alone() {
    let t = Tree::new();
    t.write(
        "c/Chart.yaml",
        chart_yaml("c", "dependencies:\n- {name: lib, version: 0.1.0}\n"),
    );
    t.write("c/templates/a.yaml", "# {{ include \"lib.name\" . }}\n");
    t.write(
        "c/charts/lib/Chart.yaml",
        chart_yaml("lib", "type: library\n"),
    );
    t.write(
        "c/charts/lib/templates/_h.tpl",
        "{{- define \"lib.name\" -}}lib-says {{ .Chart.Name }}{{- end -}}",
    );
    t.write(
        "c/charts/lib/templates/ignored.yaml",
        "kind: NeverRendered\n",
    );
    same_as_helm(&t, &t.path("c"), &Flags::default());
    fails_like_helm(
        &t,
        &t.path("c/charts/lib"),
        &Flags::default(),
        "library charts",
    );
}

#[test]
fn schema_failures_fail_as_in_helm() {
    let t = Tree::new();
    t.write(
        "c/Chart.yaml",
        chart_yaml("c", "dependencies:\n- {name: sub, version: 0.1.0}\n"),
    );
    t.write("c/values.yaml", "replicas: 1\n");
    t.write(
        "c/values.schema.json",
        r#"{"type": "object", "properties": {"replicas": {"type": "integer"}}, "required": ["replicas"]}"#,
    );
    t.write("c/templates/a.yaml", "# {{ .Values.replicas }}\n");
    t.write("c/charts/sub/Chart.yaml", chart_yaml("sub", ""));
    t.write(
        "c/charts/sub/values.schema.json",
        r#"{"type": "object", "properties": {"port": {"type": "number"}}}"#,
    );
    same_as_helm(&t, &t.path("c"), &Flags::default());
    fails_like_helm(
        &t,
        &t.path("c"),
        &Flags {
            values_json: r#"{"replicas": "two"}"#,
            ..Flags::default()
        },
        "c:",
    );
    fails_like_helm(
        &t,
        &t.path("c"),
        &Flags {
            values_json: r#"{"sub": {"port": "x"}}"#,
            ..Flags::default()
        },
        "sub:",
    );
}

#[test]
fn chart_bound_functions_render_as_helm() {
    let t = Tree::new();
    t.write("c/Chart.yaml", chart_yaml("c", ""));
    t.write(
        "c/templates/f.yaml",
        concat!(
            "# {{ $m := fromYaml \"a: 1\\nb: [x, on]\\n\" }}{{ $m.a }} {{ $m.b }}\n",
            "# {{ (fromYaml \"- a\").Error }}\n",
            "# {{ fromYamlArray \"[1, two, 0755]\" }}\n",
            "# {{ (semver \"1.2.3-rc.1+b\").Major }} {{ (semver \"v1.2\").Minor }} {{ semver \"1.2.3-rc.1+b\" }}\n",
            "# {{ semverCompare \"~1.2\" \"1.2.9\" }} {{ semverCompare \"^2\" \"1.9.0\" }}\n",
            "# {{ lookup \"v1\" \"Secret\" \"ns\" \"x\" }} [{{ getHostByName \"localhost\" }}]\n",
        ),
    );
    same_as_helm(&t, &t.path("c"), &Flags::default());
}

#[test]
fn nested_subcharts_requirements_and_chart_objects_render_as_helm() {
    let t = Tree::new();
    t.write("p/Chart.yaml", "apiVersion: v1\nname: p\nversion: 1.0.0\n");
    t.write(
        "p/requirements.yaml",
        "dependencies:\n- {name: mid, version: ~0.1.0, condition: mid.enabled}\n",
    );
    t.write(
        "p/values.yaml",
        "global: {top: p}\nmid: {leaf: {fromp: 1}}\n",
    );
    t.write(
        "p/templates/p.yaml",
        "# {{ .Values }}\n# {{ range $k, $_ := .Files.Glob \"*\" }}{{ $k }} {{ end }}\n",
    );
    t.write(
        "p/charts/mid/Chart.yaml",
        chart_yaml(
            "mid",
            "dependencies:\n- {name: leaf, version: 0.1.0, condition: leaf.on, tags: [t1]}\n",
        ),
    );
    t.write(
        "p/charts/mid/values.yaml",
        "global: {gmid: m, top: mid}\nleaf: {on: true}\n",
    );
    t.write("p/charts/mid/templates/m.yaml", "# mid {{ .Values }}\n");
    t.write(
        "p/charts/mid/charts/leaf/Chart.yaml",
        chart_yaml(
            "leaf",
            "description: a leaf\nkeywords: [a, b]\nannotations: {x: y}\nhome: https://x\nkubeVersion: '>=1.20'\ndeprecated: true\n",
        ),
    );
    t.write("p/charts/mid/charts/leaf/values.yaml", "own: 1\n");
    t.write(
        "p/charts/mid/charts/leaf/templates/l.yaml",
        "# leaf {{ .Values }} {{ .Template.BasePath }}\n# {{ .Chart }}\n# {{ .Chart.Keywords }} {{ .Chart.Annotations }} {{ .Chart.IsRoot }} {{ .Chart.Deprecated }}\n",
    );
    let chart = t.path("p");
    same_as_helm(&t, &chart, &Flags::default());
    for values in [
        r#"{"mid": {"leaf": {"on": false}}}"#,
        r#"{"mid": {"enabled": false}}"#,
        r#"{"tags": {"t1": false}, "mid": {"leaf": {"on": "no"}}}"#,
        r#"{"global": {"top": "user"}, "mid": {"global": {"gmid": "user"}}}"#,
    ] {
        same_as_helm(
            &t,
            &chart,
            &Flags {
                values_json: values,
                ..Flags::default()
            },
        );
    }
}

#[test]
fn define_precedence_and_template_names_render_as_helm() {
    let t = Tree::new();
    t.write(
        "c/Chart.yaml",
        chart_yaml("c", "dependencies:\n- {name: sub, version: 0.1.0}\n"),
    );
    t.write(
        "c/templates/_a.tpl",
        "{{ define \"n\" }}from-a {{ .Template.Name }}{{ end }}",
    );
    t.write("c/templates/_b.tpl", "{{ define \"n\" }}from-b{{ end }}");
    t.write(
        "c/templates/deep/_c.tpl",
        "{{ define \"n\" }}from-deep{{ end }}{{ define \"d\" }}deep-only{{ end }}",
    );
    t.write(
        "c/templates/x.yaml",
        "# {{ include \"n\" . }} {{ include \"d\" . }} {{ tpl \"{{ .Template.Name }} {{ .Release.Name }}\" . }} <no value>\n",
    );
    t.write("c/templates/empty.yaml", "{{/* nothing */}}\n");
    t.write("c/charts/sub/Chart.yaml", chart_yaml("sub", ""));
    t.write(
        "c/charts/sub/templates/_a.tpl",
        "{{ define \"n\" }}from-sub{{ end }}",
    );
    t.write(
        "c/charts/sub/templates/s.yaml",
        "# sub {{ include \"n\" . }} {{ .Values.none }}\n",
    );
    same_as_helm(&t, &t.path("c"), &Flags::default());
}

#[test]
fn chart_api_versions_are_accepted_as_each_helm_does() {
    let t = Tree::new();
    t.write("c/templates/a.yaml", "# {{ .Chart.APIVersion }}\n");
    for api in ["v1", "v2", "v3", "v9"] {
        t.write(
            "c/Chart.yaml",
            format!("apiVersion: {api}\nname: c\nversion: 0.1.0\n"),
        );
        let flags = Flags::default();
        for v in Helm::ALL {
            let out = helm_template(v, &t, &t.path("c"), &flags);
            match native(v, &t.path("c"), &flags) {
                Ok(ours) => assert_same_bytes(&ours, &out.stdout, &format!("{api} {v:?}")),
                Err(e) => {
                    assert!(
                        !out.status.success(),
                        "{api} {v:?}: helm renders, native: {e}"
                    );
                    assert!(e.contains("apiVersion"), "{e}");
                }
            }
        }
    }
}

#[test]
fn analysis_names_templates_the_native_renderer_cannot_parse() {
    let t = Tree::new();
    t.write("c/Chart.yaml", chart_yaml("c", ""));
    t.write("c/templates/ok.yaml", "# {{ .Values.x }}\n");
    t.write("c/templates/bad.yaml", "# {{ nosuchfunction 1 }}\n");
    t.write("c/charts/sub/Chart.yaml", chart_yaml("sub", ""));
    t.write(
        "c/charts/sub/values.schema.json",
        r#"{"$ref": "https://schemas.example.invalid/values.json"}"#,
    );
    for v in Helm::ALL {
        let analysis = strata::render::native::analyze(&t.path("c"), &compat(v));
        assert_eq!(analysis.unsupported.len(), 2, "{:?}", analysis.unsupported);
        assert!(
            analysis.unsupported[0].contains("c/charts/sub/values.schema.json"),
            "{:?}",
            analysis.unsupported
        );
        assert!(
            analysis.unsupported[1].contains("c/templates/bad.yaml"),
            "{:?}",
            analysis.unsupported
        );
        assert!(analysis.random.is_empty());
    }
}

#[test]
fn a_loaded_chart_is_reused_until_its_files_change() {
    let t = Tree::new();
    t.write("c/Chart.yaml", chart_yaml("c", ""));
    t.write("c/templates/a.yaml", "# one {{ .Release.Name }}\n");
    let renderer = Native::new(Compat::helm3());
    let api_versions = Vec::new();
    let chart = t.path("c");
    let request = |values: &'static str| Request {
        component: "c",
        chart: &chart,
        chart_shown: "c",
        release: "r",
        namespace: "ns",
        values_json: values.as_bytes(),
        kube_version: None,
        api_versions: &api_versions,
        include_crds: false,
        skip_tests: false,
    };
    let first = renderer.render_chart(&request("{}")).unwrap();
    assert_eq!(text(&first), "---\n# Source: c/templates/a.yaml\n# one r\n");
    t.write(
        "c/templates/a.yaml",
        "# two, a longer text {{ .Release.Namespace }}\n",
    );
    let second = renderer.render_chart(&request("{}")).unwrap();
    assert_eq!(
        text(&second),
        "---\n# Source: c/templates/a.yaml\n# two, a longer text ns\n"
    );
}

#[test]
fn release_names_are_checked_as_helm_checks_them() {
    let t = Tree::new();
    t.write("c/Chart.yaml", chart_yaml("c", ""));
    t.write("c/templates/a.yaml", "# {{ .Release.Name }}\n");
    let long = "a".repeat(54);
    for (name, ok) in [
        ("r", true),
        ("a.b-c.9", true),
        (&"a".repeat(53)[..], true),
        ("Bad_Name", false),
        ("-x", false),
        ("x.", false),
        (&long[..], false),
    ] {
        for v in Helm::ALL {
            let mut cmd = helm(v);
            cmd.args(["template", name]).arg(t.path("c"));
            let helm_ok = run_std(&mut cmd).status.success();
            assert_eq!(helm_ok, ok, "helm {} with {name:?}", v.version());
            let request = Request {
                component: "c",
                chart: &t.path("c"),
                chart_shown: "c",
                release: name,
                namespace: "default",
                values_json: b"{}",
                kube_version: None,
                api_versions: &[],
                include_crds: false,
                skip_tests: false,
            };
            let ours = Native::new(compat(v)).render_chart(&request);
            assert_eq!(ours.is_ok(), ok, "native with {name:?}");
        }
    }
}

#[test]
fn a_root_chart_kube_version_range_is_checked_as_helm_checks_it() {
    let t = Tree::new();
    t.write("c/templates/a.yaml", "# {{ .Capabilities.KubeVersion }}\n");
    for range in [">=1.20.0", ">=1.29", "<1.25", ">=1.20.0-0", "not a range"] {
        t.write(
            "c/Chart.yaml",
            chart_yaml("c", &format!("kubeVersion: {range:?}\n")),
        );
        for kube in [None, Some("1.29"), Some("v1.29.3-gke.100"), Some("1.24.1")] {
            let flags = Flags {
                kube_version: kube,
                ..Flags::default()
            };
            for v in Helm::ALL {
                let out = helm_template(v, &t, &t.path("c"), &flags);
                let ours = native(v, &t.path("c"), &flags);
                match ours {
                    Ok(bytes) => {
                        assert!(
                            out.status.success(),
                            "{range} {kube:?} {v:?}: helm fails, native renders"
                        );
                        assert_same_bytes(&bytes, &out.stdout, &format!("{range} {kube:?} {v:?}"));
                    }
                    Err(e) => {
                        assert!(
                            !out.status.success(),
                            "{range} {kube:?} {v:?}: helm renders, native: {e}"
                        );
                        assert!(e.contains("kubeVersion"), "{e}");
                    }
                }
            }
        }
    }
}

#[test]
fn the_project_example_and_fixture_charts_render_as_helm() {
    let t = Tree::new();
    let root = crate::common::manifest_dir();
    for chart in [
        "examples/fleet/charts/web",
        "examples/fleet/charts/worker",
        "tests/fixtures/cmp-stack/charts/web",
        "tests/fixtures/cmp-stack/charts/cache",
        "tests/fixtures/parity/_chart",
    ] {
        for values in [
            "{}",
            r#"{"ingress": {"enabled": true, "host": "x.example"}, "autoscaling": {"enabled": true}, "replicaCount": 3}"#,
        ] {
            let flags = Flags {
                values_json: values,
                include_crds: true,
                ..Flags::default()
            };
            for v in Helm::ALL {
                let out = helm_template(v, &t, &root.join(chart), &flags);
                assert!(out.status.success(), "{chart}: {}", text(&out.stderr));
                let ours = native(v, &root.join(chart), &flags)
                    .unwrap_or_else(|e| panic!("{chart} {v:?}: {e}"));
                assert_same_bytes(&ours, &out.stdout, &format!("{chart} {v:?} {values}"));
            }
        }
    }
}

/// A chart written the way popular charts are: a library subchart of helpers, `tpl` of values,
/// `toYaml | nindent`, `.Files` read as YAML, capability checks, checksums of rendered files.
fn typical_chart(t: &Tree) {
    t.write(
        "app/Chart.yaml",
        chart_yaml(
            "app",
            "appVersion: \"2.4.1\"\ndependencies:\n- {name: common, version: 1.x.x, repository: file://../common}\n- {name: redis, version: 0.1.0, condition: redis.enabled}\n",
        ),
    );
    t.write(
        "app/values.yaml",
        concat!(
            "image: {repository: nginx, tag: \"\"}\n",
            "replicaCount: 2\n",
            "podAnnotations: {}\n",
            "extraEnv: |\n  - name: RELEASE\n    value: {{ .Release.Name }}\n",
            "resources: {limits: {cpu: 100m, memory: 128Mi}}\n",
            "config: {level: info, port: 8080}\n",
            "redis: {enabled: true, auth: {password: secret}}\n",
            "global: {imageRegistry: registry.example}\n",
        ),
    );
    t.write(
        "app/files/extra.yaml",
        "features:\n  a: true\n  b: false\nlimits: [1, 2, 3]\n",
    );
    t.write(
        "app/templates/_names.tpl",
        "{{- define \"app.fullname\" -}}{{ printf \"%s-%s\" .Release.Name .Chart.Name | trunc 63 | trimSuffix \"-\" }}{{- end -}}",
    );
    t.write(
        "app/templates/configmap.yaml",
        concat!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ include \"app.fullname\" . }}\n",
            "  labels: {{- include \"common.labels\" . | nindent 4 }}\n",
            "data:\n  config.yaml: |\n    {{- toYaml .Values.config | nindent 4 }}\n",
            "  extra.json: {{ .Files.Get \"files/extra.yaml\" | fromYaml | toJson | quote }}\n",
            "  features: {{ (.Files.Get \"files/extra.yaml\" | fromYaml).features.a | quote }}\n",
        ),
    );
    t.write(
        "app/templates/deployment.yaml",
        concat!(
            "{{- $image := printf \"%s/%s:%s\" .Values.global.imageRegistry .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}\n",
            "apiVersion: {{ if .Capabilities.APIVersions.Has \"apps/v1\" }}apps/v1{{ else }}extensions/v1beta1{{ end }}\n",
            "kind: Deployment\nmetadata:\n  name: {{ include \"app.fullname\" . }}\n",
            "spec:\n  replicas: {{ .Values.replicaCount }}\n  template:\n    metadata:\n      annotations:\n",
            "        checksum/config: {{ include (print $.Template.BasePath \"/configmap.yaml\") . | sha256sum }}\n",
            "        {{- with .Values.podAnnotations }}{{ toYaml . | nindent 8 }}{{ end }}\n",
            "    spec:\n      containers:\n      - name: app\n        image: {{ $image | quote }}\n",
            "        env: {{- tpl .Values.extraEnv . | nindent 8 }}\n",
            "        resources: {{- toYaml .Values.resources | nindent 10 }}\n",
            "{{- if semverCompare \">=1.25-0\" .Capabilities.KubeVersion.GitVersion }}\n        securityContext: {seccompProfile: {type: RuntimeDefault}}\n{{- end }}\n",
        ),
    );
    t.write(
        "app/templates/NOTES.txt",
        "Visit {{ include \"app.fullname\" . }}\n",
    );
    t.write(
        "app/charts/common/Chart.yaml",
        "apiVersion: v2\nname: common\nversion: 1.2.3\ntype: library\n",
    );
    t.write(
        "app/charts/common/templates/_labels.tpl",
        concat!(
            "{{- define \"common.labels\" -}}\n",
            "app.kubernetes.io/name: {{ .Chart.Name }}\n",
            "app.kubernetes.io/instance: {{ .Release.Name }}\n",
            "app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}\n",
            "helm.sh/chart: {{ printf \"%s-%s\" .Chart.Name .Chart.Version | replace \"+\" \"_\" }}\n",
            "{{- end -}}\n",
        ),
    );
    t.write("app/charts/redis/Chart.yaml", chart_yaml("redis", ""));
    t.write(
        "app/charts/redis/values.yaml",
        "auth: {password: \"\"}\nport: 6379\n",
    );
    t.write(
        "app/charts/redis/templates/secret.yaml",
        concat!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {{ .Release.Name }}-redis\n",
            "data:\n  password: {{ required \"redis.auth.password is required\" .Values.auth.password | b64enc }}\n",
            "  registry: {{ .Values.global.imageRegistry | b64enc }}\n",
        ),
    );
}

#[test]
fn a_chart_written_like_popular_charts_renders_as_helm() {
    let t = Tree::new();
    typical_chart(&t);
    let chart = t.path("app");
    same_as_helm(&t, &chart, &Flags::default());
    same_as_helm(
        &t,
        &chart,
        &Flags {
            values_json: r#"{"image": {"tag": "1.0"}, "podAnnotations": {"a": "b"}, "redis": {"enabled": false}}"#,
            kube_version: Some("1.24.0"),
            ..Flags::default()
        },
    );
    fails_like_helm(
        &t,
        &chart,
        &Flags {
            values_json: r#"{"redis": {"auth": {"password": ""}}}"#,
            ..Flags::default()
        },
        "redis.auth.password is required",
    );
}

#[test]
fn functions_only_helm_4_has_fail_to_parse_for_helm_3() {
    let t = Tree::new();
    t.write("c/Chart.yaml", chart_yaml("c", ""));
    t.write("c/values.yaml", "m: {a: 1}\n");
    t.write(
        "c/templates/a.yaml",
        "m: {{ mustToYaml .Values.m | nindent 2 }}\nj: {{ mustToJson .Values.m }}\n",
    );
    let flags = Flags::default();
    let out = helm_template(Helm::V3, &t, &t.path("c"), &flags);
    assert!(!out.status.success());
    let err = native(Helm::V3, &t.path("c"), &flags).unwrap_err();
    assert!(err.contains("mustToYaml"), "{err}");
    let out = helm_template(Helm::V4, &t, &t.path("c"), &flags);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let ours = native(Helm::V4, &t.path("c"), &flags).unwrap();
    assert_same_bytes(&ours, &out.stdout, "helm 4");
}

#[test]
fn unusual_dependency_and_values_shapes_render_as_helm() {
    let t = Tree::new();
    t.write(
        "p/Chart.yaml",
        format!(
            "{PARENT}dependencies:\n\
             - {{name: a, version: 0.1.0, condition: 'missing.flag,a.on', enabled: false}}\n\
             - {{name: a, version: 0.1.0, alias: a2, condition: a2.on, tags: [t]}}\n\
             - {{name: b, version: 0.1.0, import-values: [{{child: nothere, parent: x}}, missing]}}\n"
        ),
    );
    t.write(
        "p/values.yaml",
        "tags: {t: false}\na: {on: true}\na2: {on: null}\nglobal: {g: {deep: {x: 1}}}\n",
    );
    t.write(
        "p/templates/p.yaml",
        "# {{ .Values }}\n# {{ .Chart.Dependencies | len }}\n",
    );
    t.write("p/charts/a/Chart.yaml", chart_yaml("a", ""));
    t.write(
        "p/charts/a/values.yaml",
        "global: {g: {deep: {y: 2}}, own: a}\nk: v\n",
    );
    t.write(
        "p/charts/a/templates/a.yaml",
        "# {{ .Chart.Name }} {{ .Values }}\n",
    );
    t.write("p/charts/b/Chart.yaml", chart_yaml("b", ""));
    t.write(
        "p/charts/b/values.yaml",
        "exports: {}\nglobal: {g: {deep: {fromb: 1}}}\n",
    );
    t.write("p/charts/b/templates/b.yaml", "# b {{ .Values }}\n");
    let chart = t.path("p");
    for values in [
        "{}",
        r#"{"global": null}"#,
        r#"{"a": {"on": false}, "a2": {"on": true}, "tags": {"t": true}}"#,
        r#"{"a2": {"on": "true"}, "global": {"g": {"deep": null}}}"#,
        r#"{"b": {"k": 1}, "a": {"global": {"g": {"deep": {"z": 3}}}}}"#,
    ] {
        same_as_helm(
            &t,
            &chart,
            &Flags {
                values_json: values,
                ..Flags::default()
            },
        );
    }
    // A null section for a subchart without defaults there is helm's type mismatch.
    fails_like_helm(
        &t,
        &chart,
        &Flags {
            values_json: r#"{"b": null}"#,
            ..Flags::default()
        },
        "type mismatch on b",
    );
}
