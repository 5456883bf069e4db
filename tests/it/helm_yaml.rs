//! Values files read exactly as Helm reads them: the forms where a general YAML reader and
//! Helm's (go-yaml v2, then JSON) disagree, the files Helm refuses, and Helm's size limits.
//!
//! Every case renders the same layers through `helm template -f ...` and through `strata
//! render` with both pinned helm versions. The chart prints `toJson .Values` base64-encoded,
//! so characters that helm's own manifest parsing would refuse (U+007F, C1 controls) still
//! reach the comparison.

use crate::common::*;
use base64::Engine as _;
use serde_json::Value;

pub(crate) const TENANT_DIR: &str = "tenants/t1";

/// A stack whose single component renders the dump chart with `layers` as its value files.
pub(crate) fn stack(layers: &[impl AsRef<[u8]>]) -> Tree {
    let tree = Tree::new();
    tree.write(
        "chart/Chart.yaml",
        "apiVersion: v2\nname: dump\nversion: 0.1.0\n",
    );
    tree.write(
        "chart/templates/values.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: values\ndata:\n  json: {{ toJson .Values | b64enc | quote }}\n",
    );
    let mut strata_yaml = String::from(
        "apiVersion: strata/v1\nkind: Stack\ntenants:\n  path: \"tenants/{{tenant}}\"\n\
         components:\n  - name: dump\n    chart: {path: chart}\n    releaseName: rel\n    \
         namespace: ns\n    values:\n",
    );
    for (i, layer) in layers.iter().enumerate() {
        tree.write(format!("layers/f{}.yaml", i + 1), layer);
        strata_yaml.push_str(&format!("      - layers/f{}.yaml\n", i + 1));
    }
    tree.write("strata.yaml", strata_yaml);
    tree.mkdir(TENANT_DIR);
    tree
}

/// The values the chart saw (helm's `toJson`, keys sorted), from a successful render's stdout.
fn dumped_values(stdout: &[u8]) -> String {
    let out = text(stdout);
    let line = out
        .lines()
        .find_map(|l| l.trim().strip_prefix("json: "))
        .unwrap_or_else(|| panic!("no dump in output:\n{out}"));
    // helm quotes the string; strata's post-render rewriting writes it plain.
    let b64: String = if line.starts_with('"') {
        serde_json::from_str(line).expect("quoted base64")
    } else {
        line.to_string()
    };
    let json = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .expect("base64");
    String::from_utf8(json).expect("toJson output is UTF-8")
}

fn helm_render(tree: &Tree, which: Helm, layers: usize) -> std::process::Output {
    let mut cmd = helm(which);
    cmd.current_dir(tree.root())
        .args(["template", "rel", "chart", "-n", "ns"]);
    for i in 1..=layers {
        cmd.arg("-f").arg(format!("layers/f{i}.yaml"));
    }
    run_std(&mut cmd)
}

fn strata_render(tree: &Tree, which: Helm) -> std::process::Output {
    run(strata(which)
        .current_dir(tree.root())
        .args(["render", TENANT_DIR, "--no-cache"]))
}

/// Renders `layers` with helm and with strata on both helm versions; both must succeed and
/// the chart must see the same values. Returns what helm 3 saw (as `toJson` text).
#[track_caller]
fn assert_same_json(layers: &[&[u8]], what: &str) -> String {
    let tree = stack(layers);
    let mut seen = Vec::new();
    for which in Helm::ALL {
        let out = helm_render(&tree, which, layers.len());
        assert_success(&out, &format!("{what}: helm {} template", which.version()));
        let expected = dumped_values(&out.stdout);
        let out = strata_render(&tree, which);
        assert_success(
            &out,
            &format!("{what}: strata render (helm {})", which.version()),
        );
        let actual = dumped_values(&out.stdout);
        assert_eq!(
            actual,
            expected,
            "{what}: strata (left) and helm {} (right) disagree",
            which.version()
        );
        seen.push(expected);
    }
    seen.swap_remove(0)
}

#[track_caller]
fn assert_same_values(layers: &[&[u8]], what: &str) -> Value {
    serde_json::from_str(&assert_same_json(layers, what)).expect("toJson output")
}

/// Helm (both versions) must fail on `layer`, and strata must fail too, naming the file and
/// line and saying `needle`.
#[track_caller]
fn assert_both_refuse(layer: &[u8], line: Option<u32>, needle: &str) {
    let tree = stack(&[layer]);
    for which in Helm::ALL {
        let out = helm_render(&tree, which, 1);
        assert!(
            !out.status.success(),
            "premise: helm {} refuses this file\n{}",
            which.version(),
            describe(&out)
        );
        let out = strata_render(&tree, which);
        assert_error(
            &out,
            "strata render of a file helm refuses",
            &[
                &line.map_or("layers/f1.yaml:".into(), |l| format!("layers/f1.yaml:{l}:")),
                needle,
            ],
        );
    }
}

#[test]
fn characters_helm_reads_reach_helm_unchanged() {
    let layer = "del: \"a\\x7fb\"\nc1: \"\\x80\\x9f\"\nnel: \"a\\x85b\"\nnel_n: \"a\\Nb\"\n\
                 nonchar: \"\\ufffe\\uffff\"\nseparators: \"\\L\\P\"\nbom: \"\\ufeff\"\n\
                 raw_nel_folds: \"a\u{85}b\"\n";
    let seen = assert_same_values(&[layer.as_bytes()], "special characters");
    assert_eq!(seen["del"], "a\u{7f}b");
    assert_eq!(seen["nel"], "a\u{85}b");
    assert_eq!(seen["raw_nel_folds"], "a b");
}

#[test]
fn merge_keys_and_duplicates_follow_helm() {
    let layer = "base: &base {x: 1, d: first, d: last}\nother: &other {x: 2, z: 2}\n\
                 after: {x: explicit, <<: *base}\ntwice:\n  <<: *base\n  <<: *other\n\
                 listed: {<<: [*base, *other]}\nbefore:\n  <<: *base\n  x: explicit\n";
    let seen = assert_same_values(&[layer.as_bytes()], "merge keys");
    assert_eq!(seen["after"]["x"], 1.0);
    assert_eq!(seen["after"]["d"], "last");
    assert_eq!(seen["twice"]["x"], 2.0);
    assert_eq!(seen["listed"]["x"], 1.0);
    assert_eq!(seen["before"]["x"], "explicit");
}

#[test]
fn files_helm_refuses_are_refused_with_file_and_line() {
    assert_both_refuse(b"a: 1\n~: x\n", Some(2), "null key");
    assert_both_refuse(b"a: 1\nm:\n  18446744073709551615: x\n", Some(3), "64-bit");
    assert_both_refuse(b"a: &a [b, *a]\n", Some(1), "contains itself");
    let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
    for (name, prev) in [("b", "a"), ("c", "b"), ("d", "c"), ("e", "d")] {
        let refs = vec![format!("*{prev}"); 10].join(", ");
        bomb.push_str(&format!("{name}: &{name} [{refs}]\n"));
    }
    assert_both_refuse(bomb.as_bytes(), None, "excessive aliasing");
    assert_both_refuse(b"x: .inf\n", Some(1), "infinite");
}

/// Helm reads up to 10000 nested levels (the top-level map is one) and any number of keys;
/// strata reads the same and refuses deeper files in its own words.
#[test]
fn nesting_and_size_limits_match_helm() {
    // The top-level map, then `levels - 1` flow maps inside it.
    let nested = |levels: usize| {
        format!(
            "a: {}1{}\n",
            "{a: ".repeat(levels - 1),
            "}".repeat(levels - 1)
        )
    };
    let block: String = (0..65)
        .map(|i| format!("{}k:\n", " ".repeat(i)))
        .collect::<String>()
        + &" ".repeat(65)
        + "leaf: 1\n";
    assert_same_json(&[block.as_bytes()], "65 levels in block style");
    assert_same_json(&[nested(10_000).as_bytes()], "10000 levels");
    let keys: String = (0..150_000).map(|i| format!("key{i}: {i}\n")).collect();
    let seen = assert_same_values(&[keys.as_bytes()], "150000 keys");
    assert_eq!(seen.as_object().unwrap().len(), 150_000);

    let too_deep = nested(10_001);
    let tree = stack(&[too_deep.as_bytes()]);
    for which in Helm::ALL {
        let out = helm_render(&tree, which, 1);
        assert!(
            !out.status.success(),
            "premise: helm {} refuses 10001 levels\n{}",
            which.version(),
            describe(&out)
        );
    }
    let out = strata_render(&tree, Helm::V3);
    assert_error(
        &out,
        "strata render of a file nested 10001 levels deep",
        &["layers/f1.yaml:1:", "nested more than 10000 levels"],
    );
    assert!(
        !text(&out.stderr).contains("budget") && !text(&out.stderr).contains("Depth"),
        "no library-internal wording: {}",
        text(&out.stderr)
    );
}

/// go-yaml v2 caps alias expansion by a ratio that shrinks as the document grows; strata
/// counts the same steps, so it accepts and refuses at exactly the same size as helm: 149
/// aliases of a 300-item list pass, 150 do not (and, measured once, in the shrinking range:
/// 3923 aliases of a 100-item list pass, 3924 do not).
#[test]
fn alias_expansion_stops_exactly_where_helm_stops() {
    let file = |aliases: usize| {
        format!(
            "a: &a [{}]\nb: [{}]\n",
            vec!["x"; 300].join(", "),
            vec!["*a"; aliases].join(", ")
        )
    };
    assert_same_json(&[file(149).as_bytes()], "149 aliases");
    assert_both_refuse(file(150).as_bytes(), Some(1), "excessive aliasing");
}

/// Threads that read, merge or write values have room for Helm's 10000 levels: a fleet render
/// (worker threads) and a render with post-render rewriting (component threads) take the
/// deepest file helm reads, instead of aborting on a stack overflow.
#[test]
fn the_deepest_values_helm_reads_pass_through_every_worker_thread() {
    let deep = format!("a: {}1{}\n", "[".repeat(9_999), "]".repeat(9_999));
    let tree = stack(&[deep.as_bytes()]);
    let expected = dumped_values(&helm_render(&tree, Helm::V3, 1).stdout);
    let out = run(strata(Helm::V3).current_dir(tree.root()).args([
        "render",
        TENANT_DIR,
        "--all",
        "--out-dir",
        "out",
        "-j",
        "2",
        "--no-cache",
    ]));
    assert_success(&out, "strata render --all with 10000 levels");
    let rendered = std::fs::read(tree.path("out/tenants__t1.yaml")).expect("tenant file");
    assert_eq!(dumped_values(&rendered), expected);
    // Post-render rewriting reads helm's output (this deep too) in the component threads.
    let yaml = std::fs::read_to_string(tree.path("strata.yaml")).unwrap();
    tree.write("strata.yaml", yaml + "commonLabels:\n  team: a\n");
    let out = strata_render(&tree, Helm::V3);
    assert_success(&out, "strata render with commonLabels and 10000 levels");
    assert_eq!(dumped_values(&out.stdout), expected);
}
