//! Differential testing against real helm: cases are rendered by `helm template` (3.17.3 and
//! 4.1.4, from `STRATA_TEST_HELM3`/`STRATA_TEST_HELM4`) and by this crate, and must agree.
//!
//! Many cases share one chart and one helm run: each case is a `define` in a helpers file and
//! the manifest prints `include`d output base64-encoded, so any text (newlines, `---`,
//! whitespace, `<no value>`) survives helm's YAML handling byte for byte.

#![allow(dead_code)]

use gotemplate::helm::helm_funcs;
use gotemplate::{GoVersion, Templates, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The helm binaries to compare with; unset variables fail the test (CI sets them).
pub fn helms() -> Vec<(String, PathBuf)> {
    ["STRATA_TEST_HELM3", "STRATA_TEST_HELM4"]
        .iter()
        .map(|var| {
            let path = std::env::var(var)
                .unwrap_or_else(|_| panic!("{var} must name a helm binary (scripts/test sets it)"));
            (var.to_string(), PathBuf::from(path))
        })
        .collect()
}

/// Helm's view of values: JSON numbers are float64.
pub fn from_json(v: &serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::Nil,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => Value::Float(n.as_f64().unwrap()),
        serde_json::Value::String(s) => Value::string(s.as_str()),
        serde_json::Value::Array(a) => Value::list(a.iter().map(from_json).collect()),
        serde_json::Value::Object(o) => {
            let m: BTreeMap<String, Value> =
                o.iter().map(|(k, v)| (k.clone(), from_json(v))).collect();
            Value::map(m)
        }
    }
}

fn b64encode(data: &[u8]) -> String {
    const T: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn b64decode(s: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let mut acc = 0u32;
    let mut bits = 0;
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => continue,
        } as u32;
        acc = acc << 6 | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

fn write_chart(dir: &Path, values_json: &str, files: &[(String, String)]) {
    std::fs::create_dir_all(dir.join("templates")).unwrap();
    std::fs::write(
        dir.join("Chart.yaml"),
        "apiVersion: v2\nname: c\nversion: 0.1.0\n",
    )
    .unwrap();
    std::fs::write(dir.join("values.yaml"), values_json).unwrap();
    for (name, text) in files {
        std::fs::write(dir.join("templates").join(name), text).unwrap();
    }
}

fn run_helm(helm: &Path, dir: &Path) -> Result<String, String> {
    let out = Command::new(helm)
        .args(["template", "r"])
        .arg(dir)
        .args(["-n", "ns", "--kube-version", "1.31.0"])
        .env("HELM_CACHE_HOME", dir.join(".cache"))
        .env("HELM_CONFIG_HOME", dir.join(".config"))
        .env("HELM_DATA_HOME", dir.join(".data"))
        .output()
        .expect("helm runs");
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "gotemplate-{tag}-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// The helpers file defining one template `cN` per case.
fn cases_file(cases: &[String]) -> String {
    let mut s = String::new();
    for (i, c) in cases.iter().enumerate() {
        s.push_str(&format!("{{{{ define \"c{i}\" }}}}{c}{{{{ end }}}}\n"));
    }
    s
}

/// The Go release each helm binary is built with.
pub fn go_version(var: &str) -> GoVersion {
    if var.ends_with('3') {
        GoVersion::Go1_23
    } else {
        GoVersion::Go1_24
    }
}

/// Our output of each case, or the error. `prelude` is a helpers file (shared `define`s).
pub fn ours(
    go: GoVersion,
    values_json: &str,
    prelude: &str,
    cases: &[String],
) -> Vec<Result<String, String>> {
    let funcs = helm_funcs();
    let mut set = Templates::new();
    set.set_go_version(go);
    set.parse("c/templates/_prelude.tpl", prelude, &|f| funcs.contains(f))
        .expect("prelude parses");
    let values = from_json(&serde_json::from_str(values_json).expect("values are JSON"));
    let mut top = BTreeMap::new();
    top.insert("Values".to_string(), values);
    let data = Value::map(top);
    let mut results = Vec::new();
    for (i, c) in cases.iter().enumerate() {
        let text = format!("{{{{ define \"c{i}\" }}}}{c}{{{{ end }}}}\n");
        let name = format!("c/templates/_c{i}.tpl");
        if let Err(e) = set.parse(&name, &text, &|f| funcs.contains(f)) {
            results.push(Err(e.message));
            continue;
        }
        results.push(
            set.execute(&format!("c{i}"), data.clone(), &funcs)
                .map_err(|e| e.message),
        );
    }
    results
}

/// Renders every case with each helm and with this crate; returns one line per mismatch
/// (empty when all agree). All cases must render without error in helm.
pub fn compare(tag: &str, values_json: &str, prelude: &str, cases: &[String]) -> Vec<String> {
    compare_on(&helms(), tag, values_json, prelude, cases)
}

/// [`compare`] with the helm binaries given.
pub fn compare_on(
    helms: &[(String, PathBuf)],
    tag: &str,
    values_json: &str,
    prelude: &str,
    cases: &[String],
) -> Vec<String> {
    let dir = temp_dir(tag);
    let mut manifest = String::new();
    for i in 0..cases.len() {
        manifest.push_str(&format!(
            "c{i}: {{{{ include \"c{i}\" . | b64enc | quote }}}}\n"
        ));
    }
    write_chart(
        &dir,
        values_json,
        &[
            ("_prelude.tpl".into(), prelude.to_string()),
            ("_cases.tpl".into(), cases_file(cases)),
            ("t.yaml".into(), manifest),
        ],
    );
    let mut problems = Vec::new();
    for (var, helm) in helms {
        let mine = ours(go_version(var), values_json, prelude, cases);
        let out = match run_helm(helm, &dir) {
            Ok(out) => out,
            Err(e) => {
                problems.push(format!("{var}: helm failed on the batch {tag}: {e}"));
                continue;
            }
        };
        let mut theirs = BTreeMap::new();
        for line in out.lines() {
            if let Some((k, v)) = line.split_once(": ")
                && let Some(n) = k.strip_prefix('c').and_then(|n| n.parse::<usize>().ok())
            {
                theirs.insert(
                    n,
                    String::from_utf8_lossy(&b64decode(v.trim_matches('"'))).into_owned(),
                );
            }
        }
        for (i, c) in cases.iter().enumerate() {
            let want = theirs.get(&i);
            let got = &mine[i];
            let ok = matches!((want, got), (Some(w), Ok(g)) if w == g);
            if !ok {
                problems.push(format!(
                    "{var} case {i}: {c:?}\n   helm: {want:?}\n   ours: {got:?}"
                ));
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    problems
}

/// Each case must fail in helm (both versions) and in this crate.
pub fn compare_errors(tag: &str, values_json: &str, cases: &[String]) -> Vec<String> {
    compare_errors_on(&helms(), tag, values_json, "", cases)
}

/// [`compare_errors`] with the helm binaries given.
pub fn compare_errors_on(
    helms: &[(String, PathBuf)],
    tag: &str,
    values_json: &str,
    prelude: &str,
    cases: &[String],
) -> Vec<String> {
    let mut problems = Vec::new();
    for (i, c) in cases.iter().enumerate() {
        let dir = temp_dir(&format!("{tag}-{i}"));
        let manifest = "c: {{ include \"c0\" . | b64enc | quote }}\n".to_string();
        write_chart(
            &dir,
            values_json,
            &[
                ("_prelude.tpl".into(), prelude.to_string()),
                ("_cases.tpl".into(), cases_file(std::slice::from_ref(c))),
                ("t.yaml".into(), manifest),
            ],
        );
        for (var, helm) in helms {
            let mine = ours(
                go_version(var),
                values_json,
                prelude,
                std::slice::from_ref(c),
            );
            let theirs = run_helm(helm, &dir);
            if theirs.is_ok() || mine[0].is_ok() {
                problems.push(format!(
                    "{var} error case {i}: {c:?}\n   helm: {theirs:?}\n   ours: {:?}",
                    mine[0]
                ));
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
    problems
}

pub fn b64(s: &str) -> String {
    b64encode(s.as_bytes())
}
