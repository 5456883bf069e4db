//! Values-merge parity with helm itself.
//!
//! Each vector under `tests/fixtures/parity/<vector>/` holds the chart
//! defaults (`values.yaml`) and the user layers `f1.yaml`, `f2.yaml`, ... in
//! order. The chart in `tests/fixtures/parity/_chart` dumps `.Values` three
//! ways (Go `%v` of every top-level value, `toYaml`, `toJson`). For every
//! vector and both pinned helm versions the test renders
//!
//!   * `strata render` of a stack whose single component lists the layers in
//!     order (strata pre-merges them into one JSON values file), and
//!   * `helm template rel chart -n ns -f f1.yaml -f f2.yaml ...`
//!
//! and requires the two stdouts to be byte-identical.

use std::fs;

use crate::common::*;

const RELEASE: &str = "rel";
const NAMESPACE: &str = "ns";
const TENANT_DIR: &str = "tenants/t1";

fn parity_dir() -> std::path::PathBuf {
    fixtures().join("parity")
}

/// A stack (temp dir) for one vector: `chart/` = the dump chart with the
/// vector's `values.yaml`, `layers/fN.yaml` = the vector's user layers.
struct Vector {
    tree: Tree,
    layers: Vec<String>,
}

fn build_stack(vector: &str) -> Vector {
    let src = parity_dir().join(vector);
    assert!(src.is_dir(), "missing fixture dir {}", src.display());
    let tree = Tree::new();
    tree.copy_from(&parity_dir().join("_chart"), "chart");
    let chart_values = src.join("values.yaml");
    if chart_values.exists() {
        fs::copy(&chart_values, tree.path("chart/values.yaml")).expect("copy chart values");
    }
    let layers = numbered_layers(&src);
    assert!(!layers.is_empty(), "vector {vector} has no f1.yaml");
    let mut strata_yaml = String::from(
        "apiVersion: strata/v1\n\
         kind: Stack\n\
         tenants:\n  path: \"tenants/{{tenant}}\"\n\
         components:\n  - name: parity\n    chart: {path: chart}\n",
    );
    strata_yaml.push_str(&format!(
        "    releaseName: {RELEASE}\n    namespace: {NAMESPACE}\n    values:\n"
    ));
    for layer in &layers {
        fs::create_dir_all(tree.path("layers")).unwrap();
        fs::copy(src.join(layer), tree.path(format!("layers/{layer}"))).expect("copy layer");
        strata_yaml.push_str(&format!("      - layers/{layer}\n"));
    }
    tree.write("strata.yaml", strata_yaml);
    tree.mkdir(TENANT_DIR);
    Vector { tree, layers }
}

fn helm_template(v: &Vector, which: Helm) -> Vec<u8> {
    let mut cmd = helm(which);
    cmd.current_dir(v.tree.root()).args([
        "template",
        RELEASE,
        "chart",
        "--namespace",
        NAMESPACE,
        "--include-crds",
    ]);
    for layer in &v.layers {
        cmd.arg("-f").arg(format!("layers/{layer}"));
    }
    let out = run_std(&mut cmd);
    assert_success(&out, &format!("helm {} template", which.version()));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("kind: ConfigMap") && stdout.contains("toJson: |"),
        "helm output does not look like the dump chart:\n{stdout}"
    );
    out.stdout
}

fn check_parity(vector: &str, which: Helm) {
    let v = build_stack(vector);
    let expected = helm_template(&v, which);
    let out = run(strata(which)
        .current_dir(v.tree.root())
        .args(["render", TENANT_DIR]));
    assert_success(
        &out,
        &format!("strata render ({vector}, helm {})", which.version()),
    );
    assert_same_bytes(
        &out.stdout,
        &expected,
        &format!(
            "vector {vector} on helm {}: strata render vs helm template -f ...",
            which.version()
        ),
    );
}

macro_rules! parity {
    ($($name:ident => $dir:literal),* $(,)?) => {
        $(
            mod $name {
                use super::*;
                #[test]
                fn helm3() {
                    check_parity($dir, Helm::V3);
                }
                #[test]
                fn helm4() {
                    check_parity($dir, Helm::V4);
                }
            }
        )*
        /// Every vector directory must be listed above, so a new fixture
        /// cannot be silently ignored.
        const VECTORS: &[&str] = &[$($dir),*];
    };
}

parity! {
    v1_order_deep_merge => "v1-order-deep-merge",
    v4_nulls => "v4-nulls",
    v5_null_in_later_file => "v5-null-in-later-file",
    v6_empty_map_and_list => "v6-empty-map-and-list",
    null_in_the_middle => "null-in-the-middle",
    nested_null_over_default_null => "nested-null-over-default-null",
    scalar_typing => "scalar-typing",
    empty_layers => "empty-layers",
    go_yaml_corners => "go-yaml-corners",
}

/// Vectors that helm accepts inconsistently or rejects: strata must refuse
/// them with exit 1 and name the offending file.
const ERROR_VECTORS: &[&str] = &["error-inf", "error-multidoc"];

#[test]
fn every_fixture_vector_is_exercised() {
    let mut on_disk: Vec<String> = fs::read_dir(parity_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| !n.starts_with('_'))
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = VECTORS
        .iter()
        .chain(ERROR_VECTORS)
        .map(|s| s.to_string())
        .collect();
    listed.sort();
    assert_eq!(
        on_disk, listed,
        "fixture vectors on disk vs vectors run by this test"
    );
}

/// `.inf` cannot be represented in JSON; helm itself fails on it. strata must
/// fail too (exit 1, empty stdout) and name the file.
#[test]
fn infinity_is_rejected_like_helm_does() {
    let v = build_stack("error-inf");
    for which in Helm::ALL {
        let mut cmd = helm(which);
        cmd.current_dir(v.tree.root()).args([
            "template",
            RELEASE,
            "chart",
            "-n",
            NAMESPACE,
            "-f",
            "layers/f1.yaml",
        ]);
        let helm_out = run_std(&mut cmd);
        assert!(
            !helm_out.status.success() && text(&helm_out.stderr).contains("+Inf"),
            "premise: helm {} rejects .inf\n{}",
            which.version(),
            describe(&helm_out)
        );
        let out = run(strata(which)
            .current_dir(v.tree.root())
            .args(["render", TENANT_DIR]));
        assert_error(
            &out,
            "strata render with .inf in a layer",
            &["layers/f1.yaml"],
        );
    }
}

/// Multi-document values files are read differently by helm 3 (first doc)
/// and helm 4 (all docs merged); strata rejects them.
#[test]
fn multi_document_layer_is_rejected() {
    let v = build_stack("error-multidoc");
    // Premise: the two helms really disagree on this file.
    let outputs: Vec<Vec<u8>> = Helm::ALL.iter().map(|h| helm_template(&v, *h)).collect();
    assert_ne!(
        outputs[0], outputs[1],
        "premise: helm 3 and helm 4 read multi-doc files differently"
    );
    let out = run(strata(Helm::V3)
        .current_dir(v.tree.root())
        .args(["render", TENANT_DIR]));
    assert_error(
        &out,
        "strata render with a multi-document layer",
        &["layers/f1.yaml"],
    );
}

/// `-o FILE` writes exactly what stdout would carry.
#[test]
fn render_output_file_matches_helm() {
    let v = build_stack("v1-order-deep-merge");
    let expected = helm_template(&v, Helm::V3);
    let out_file = v.tree.path("rendered.yaml");
    let out = run(strata(Helm::V3)
        .current_dir(v.tree.root())
        .args(["render", TENANT_DIR, "-o"])
        .arg(&out_file));
    assert_success(&out, "strata render -o");
    let written = fs::read(&out_file).expect("render -o wrote the file");
    assert_same_bytes(
        &written,
        &expected,
        "strata render -o FILE vs helm template",
    );
}
