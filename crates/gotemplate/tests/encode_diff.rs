//! The encoders against real Helm 3.17.3 and 4.1.4: a seeded generator makes thousands of
//! nested values with the keys and strings that decide go-yaml's quoting, ordering and
//! folding; one chart per Helm version prints `toYaml`, `toJson`, `toToml` and Sprig's
//! `toPrettyJson`/`toRawJson` (which use this crate's JSON writer) of each (base64,
//! so any output survives Helm's own YAML parse of the document), and every case must match
//! what this crate produces for the same value. A mismatch prints its seed and the value.
//!
//! The values reach the template as one JSON string that `fromJson` reads, so Helm's
//! values coalescing (which drops some nulls) does not change them on the way.

use gotemplate::Value;
use gotemplate::encode::{
    from_json, from_json_array, keys_totally_ordered, to_json, to_json_indent, to_json_raw,
    to_toml, to_yaml, try_to_yaml_pretty,
};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn helm(var: &str) -> PathBuf {
    let path = std::env::var(var).unwrap_or_else(|_| panic!("{var} must name a helm binary"));
    PathBuf::from(path)
}

/// xorshift64*: fixed seeds make every run compare the same values.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

const ODD: &[&str] = &[
    "yes",
    "No",
    "on",
    "OFF",
    "y",
    "n",
    "~",
    "null",
    "Null",
    "true",
    "0755",
    "0o17",
    "0x1F",
    "1e3",
    "1E6",
    "1_000",
    "1__0",
    "+1",
    "-1",
    "-0",
    "08",
    "1.0",
    "1.",
    ".5",
    "._5",
    ".5_0",
    ".inf",
    "-.Inf",
    ".nan",
    "2001-12-14",
    "2001-12-14T21:59:43.10-05:00",
    "2001-02-30",
    "2001-12-14 21:59:43",
    "1:30",
    "190:20:30",
    "1:60",
    "0b101",
    "0b-1",
    "-0b11",
    "<<",
    "=",
    "-",
    "--",
    "---",
    "...",
    "- x",
    "-x",
    ":",
    ": x",
    "a:",
    "a: b",
    "a:b",
    "#",
    "a #b",
    "a#b",
    "?",
    "? x",
    "'",
    "\"",
    "\\",
    "@x",
    "`x",
    "%x",
    "!x",
    "&x",
    "*x",
    "|x",
    ">x",
    ",x",
    "[x",
    "]",
    "{x",
    "}",
    "x,y",
    "x[y]",
    "é",
    "日本語",
    "😀",
    "\u{85}",
    "\u{a0}",
    "\u{2028}",
    "\u{2029}",
    "\u{feff}",
    "\u{ad}",
    "\u{1}",
    "\u{1b}",
    "\u{0}",
    "\t",
    "\r",
    "\u{7f}",
    "\u{9f}",
    "\u{fffe}",
    "<b>&amp;</b>",
    "99999999999999999999",
    "18446744073709551615",
    "9223372036854775808",
    "1e400",
    "0x",
    "_1",
    "1,000",
    "v1.2.3",
    "١٢٣",
];

const WORDS: &[&str] = &[
    "alpha",
    "beta",
    "gamma",
    "x",
    "name",
    "value",
    "a10",
    "a9",
    "A",
    "Z",
    "z",
    "10",
    "9",
    "01",
    "007",
    "0",
    "k8s",
    "image",
    "tag",
    "ünïcode",
    "ΣΩ",
    "ſ",
    "Ⅻ",
];

fn word(rng: &mut Rng) -> String {
    if rng.chance(35) {
        rng.pick(ODD).to_owned()
    } else if rng.chance(15) {
        rng.below(100_000).to_string()
    } else {
        rng.pick(WORDS).to_owned()
    }
}

fn separator(rng: &mut Rng) -> &'static str {
    rng.pick(&[
        " ", " ", " ", "  ", "\n", "\n\n", " \n", "\n ", "\t", "\r\n", "", "-", ": ",
    ])
}

fn string(rng: &mut Rng) -> String {
    let mut s = String::new();
    match rng.below(10) {
        // Long text that must fold (or not) at 80 columns.
        0 => {
            let n = 15 + rng.below(30);
            for i in 0..n {
                if i > 0 {
                    s.push_str(if rng.chance(90) { " " } else { "  " });
                }
                s.push_str(&word(rng));
            }
        }
        // A long token without spaces.
        1 => {
            for _ in 0..(10 + rng.below(20)) {
                s.push_str(&word(rng));
            }
        }
        // Multi-line text, with the line shapes that choose `|`, `|-`, `|+` and `|2`.
        2 | 3 => {
            if rng.chance(20) {
                s.push_str(rng.pick(&[" ", "\n", "  "]));
            }
            for i in 0..(1 + rng.below(5)) {
                if i > 0 {
                    s.push_str(rng.pick(&["\n", "\n", "\n\n", " \n", "\n  "]));
                }
                s.push_str(&word(rng));
                if rng.chance(30) {
                    s.push(' ');
                    s.push_str(&word(rng));
                }
            }
            s.push_str(rng.pick(&["", "\n", "\n\n", "\n\n\n", " "]));
        }
        _ => {
            for i in 0..(1 + rng.below(3)) {
                if i > 0 {
                    s.push_str(separator(rng));
                }
                s.push_str(&word(rng));
            }
            if rng.chance(10) {
                s.insert(0, ' ');
            }
            if rng.chance(10) {
                s.push(' ');
            }
        }
    }
    s
}

fn key(rng: &mut Rng) -> String {
    if rng.chance(1) {
        // Around go-yaml's 1024-character limit on a JSON key (escapes count as written).
        let filler = if rng.chance(50) { "k" } else { "<" };
        let n = if filler == "k" {
            1018 + rng.below(8)
        } else {
            168 + rng.below(4)
        };
        return filler.repeat(n);
    }
    match rng.below(12) {
        0 => String::new(),
        1 => string(rng),
        2 => format!("{} {}", word(rng), word(rng)),
        3 => "k".repeat(120 + rng.below(20)),
        _ => word(rng),
    }
}

fn float(rng: &mut Rng) -> f64 {
    match rng.below(12) {
        0 => rng.below(1000) as f64,
        1 => (rng.next() >> rng.below(64)) as f64,
        2 => -((rng.next() >> rng.below(64)) as f64),
        3 => [
            1e6,
            1e19,
            1e20,
            1e21,
            1e22,
            9.3e18,
            -9.3e18,
            2f64.powi(63),
            2f64.powi(64),
            1e-6,
            1e-7,
            5e-324,
            0.1,
            -0.0,
        ][rng.below(14)],
        4 => rng.below(1_000_000) as f64 / 1000.0,
        5 => (rng.below(10_000) as f64) * 10f64.powi(rng.below(40) as i32 - 20),
        _ => {
            let f = f64::from_bits(rng.next());
            if f.is_finite() { f } else { 1.5 }
        }
    }
}

fn value(rng: &mut Rng, depth: usize) -> Value {
    let container = depth < 4 && rng.chance(if depth == 0 { 80 } else { 35 });
    if container {
        if rng.chance(50) {
            let max = if rng.chance(10) { 1 } else { 5 };
            let n = rng.below(max);
            return Value::list((0..n).map(|_| value(rng, depth + 1)).collect());
        }
        let max = if rng.chance(10) { 1 } else { 6 };
        let n = rng.below(max);
        let mut m = BTreeMap::new();
        for _ in 0..n {
            let k = key(rng);
            // Go writes a map whose keys go-yaml cannot order consistently in a random order
            // (checked: Helm's output varies between runs), so such sets are not generated.
            let mut keys: Vec<&str> = m.keys().map(String::as_str).collect();
            keys.push(&k);
            if keys_totally_ordered(&keys) {
                m.insert(k, value(rng, depth + 1));
            }
        }
        return Value::map(m);
    }
    match rng.below(10) {
        0 => Value::Nil,
        1 => Value::Bool(rng.chance(50)),
        2 | 3 => Value::Float(float(rng)),
        _ => Value::string(string(rng)),
    }
}

/// JSON text as a YAML double-quoted scalar may hold it: the JSON string escapes, plus `\u`
/// escapes for characters the YAML reader refuses raw.
fn yaml_quoted(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20
                || matches!(
                    c as u32,
                    0x7f..=0xa0 | 0xfeff | 0xfffe | 0xffff | 0x2028 | 0x2029
                ) =>
            {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn write_chart(dir: &Path, template: &str, values: &str) {
    std::fs::create_dir_all(dir.join("templates")).unwrap();
    std::fs::write(
        dir.join("Chart.yaml"),
        "apiVersion: v2\nname: c\nversion: 0.1.0\n",
    )
    .unwrap();
    std::fs::write(dir.join("values.yaml"), values).unwrap();
    std::fs::write(dir.join("templates/t.yaml"), template).unwrap();
}

fn run_helm(helm: &Path, chart: &Path) -> Result<String, String> {
    let out = Command::new(helm)
        .args(["template", "r"])
        .arg(chart)
        .args(["-n", "ns"])
        .env("HELM_CACHE_HOME", chart.join(".cache"))
        .env("HELM_CONFIG_HOME", chart.join(".config"))
        .env("HELM_DATA_HOME", chart.join(".data"))
        .output()
        .expect("helm runs");
    if out.status.success() {
        Ok(String::from_utf8(out.stdout).unwrap())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

fn b64decode(text: &str) -> String {
    let table = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => panic!("not base64: {c}"),
    };
    let bytes: Vec<u8> = text.bytes().filter(|&c| c != b'=').map(table).collect();
    let mut out = Vec::new();
    for chunk in bytes.chunks(4) {
        let mut n = 0u32;
        for (i, &b) in chunk.iter().enumerate() {
            n |= (b as u32) << (18 - 6 * i);
        }
        for i in 0..chunk.len().saturating_sub(1) {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    String::from_utf8(out).expect("helm output is UTF-8")
}

/// `name: field=b64 field=b64 ...` lines of the rendered document.
fn fields(rendered: &str) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for line in rendered.lines() {
        let Some((name, rest)) = line.split_once(": ") else {
            continue;
        };
        let mut f = BTreeMap::new();
        for part in rest.split(' ') {
            if let Some((k, v)) = part.split_once('=') {
                f.insert(k.to_owned(), b64decode(v));
            }
        }
        out.insert(name.to_owned(), f);
    }
    out
}

fn trim_newline(mut s: String) -> String {
    if s.ends_with('\n') {
        s.pop();
    }
    s
}

const CASE_TEMPLATE: &str = r#"{{- $doc := fromJson .Values.doc }}
{{- range $name, $v := $doc.cases }}
{{ $name }}: y={{ toYaml $v | b64enc }} j={{ toJson $v | b64enc }} t={{ toToml (dict "v" $v) | b64enc }} p={{ toPrettyJson $v | b64enc }} P={{ toYamlPretty $v | b64enc }} r={{ toRawJson $v | b64enc }}{{ if kindIs "map" $v }} m={{ toToml $v | b64enc }}{{ end }}
{{- end }}
"#;

struct Case {
    seed: u64,
    value: Value,
}

fn cases(seeds: std::ops::Range<u64>) -> BTreeMap<String, Case> {
    seeds
        .map(|seed| {
            let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
            (
                format!("c{seed:05}"),
                Case {
                    seed,
                    value: value(&mut rng, 0),
                },
            )
        })
        .collect()
}

fn expected(value: &Value, helm4: bool) -> BTreeMap<String, String> {
    let mut wrapped = BTreeMap::new();
    wrapped.insert("v".to_owned(), value.clone());
    let toml = |v: &Value| to_toml(v, helm4).unwrap_or_else(|e| e.to_string());
    let mut f = BTreeMap::new();
    f.insert("y".to_owned(), trim_newline(to_yaml(value)));
    f.insert(
        "P".to_owned(),
        trim_newline(try_to_yaml_pretty(value).unwrap_or_default()),
    );
    f.insert("j".to_owned(), to_json(value).unwrap_or_default());
    f.insert(
        "p".to_owned(),
        to_json_indent(value, "  ").unwrap_or_default(),
    );
    f.insert("r".to_owned(), to_json_raw(value).unwrap_or_default());
    f.insert("t".to_owned(), toml(&Value::map(wrapped)));
    if matches!(value, Value::Map(_)) {
        f.insert("m".to_owned(), toml(value));
    }
    f
}

fn compare_generated(var: &str, helm4: bool, seeds: std::ops::Range<u64>) {
    let cases = cases(seeds);
    let mut doc = BTreeMap::new();
    doc.insert(
        "cases".to_owned(),
        Value::map(
            cases
                .iter()
                .map(|(k, c)| (k.clone(), c.value.clone()))
                .collect(),
        ),
    );
    let doc_json = to_json(&Value::map(doc)).unwrap();
    let dir = tempdir(var);
    write_chart(
        &dir,
        CASE_TEMPLATE,
        &format!("doc: {}\n", yaml_quoted(&doc_json)),
    );
    let rendered = run_helm(&helm(var), &dir).unwrap_or_else(|e| panic!("helm failed: {e}"));
    let got = fields(&rendered);
    let mut failures = Vec::new();
    // Helm reads the values back through fromJson: compare against the same reading.
    let Value::Map(read) = from_json(&doc_json) else {
        unreachable!("the document is an object")
    };
    let Value::Map(read) = read.borrow()["cases"].clone() else {
        unreachable!("cases is an object")
    };
    for (name, case) in &cases {
        let value = read.borrow()[name].clone();
        let want = expected(&value, helm4);
        let have = got.get(name).cloned().unwrap_or_default();
        for (field, text) in &want {
            let helm_text = have.get(field).cloned().unwrap_or_default();
            if &helm_text != text {
                failures.push(format!(
                    "seed {} field {field} value {:?}\n helm: {helm_text:?}\n ours: {text:?}",
                    case.seed, case.value
                ));
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert_exercised(&got);
    assert!(
        failures.is_empty(),
        "{} of {} cases differ from {var}:\n{}",
        failures.len(),
        cases.len(),
        failures
            .iter()
            .take(15)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// A test of one emitted document.
type Shape = dyn Fn(&str) -> bool;

/// The generated values must reach every branch of the emitter that decides bytes, so that
/// a generator change cannot quietly make the comparison easy.
fn assert_exercised(got: &BTreeMap<String, BTreeMap<String, String>>) {
    let yaml: Vec<&str> = got
        .values()
        .filter_map(|f| f.get("y"))
        .map(String::as_str)
        .collect();
    let count = |pred: &Shape| yaml.iter().filter(|y| pred(y)).count();
    let shapes: [(&str, &Shape); 14] = [
        ("failed (empty)", &|y| y.is_empty()),
        ("literal |", &|y| y.contains("|\n")),
        ("literal |-", &|y| y.contains("|-\n")),
        ("literal |+", &|y| y.contains("|+\n")),
        ("indent hint |2", &|y| y.contains("|2")),
        ("explicit key ?", &|y| y.contains("? ")),
        ("single-quoted", &|y| y.contains(": '")),
        ("double-quoted", &|y| y.contains(": \"")),
        ("escaped emoji", &|y| y.contains("\\U0001F600")),
        ("folded line", &|y| y.lines().any(|l| l.len() > 80)),
        ("empty map", &|y| y.contains("{}")),
        ("empty list", &|y| y.contains("[]")),
        ("indentless list", &|y| y.contains(":\n- ")),
        ("nested list", &|y| y.contains("- - ")),
    ];
    for (name, pred) in shapes {
        assert!(
            count(pred) >= 3,
            "the generated values rarely produce {name}"
        );
    }
}

fn tempdir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "gotemplate-encode-{tag}-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn generated_values_match_helm3() {
    compare_generated("STRATA_TEST_HELM3", false, 0..1500);
}

#[test]
fn generated_values_match_helm4() {
    compare_generated("STRATA_TEST_HELM4", true, 1500..3000);
}

/// Malformed and awkward JSON for `fromJson`/`fromJsonArray`: Helm puts Go's error text into
/// the result, so the wording is compared too.
const FROM_JSON: &[&str] = &[
    r#"{"a":1,"b":[true,false,null],"c":{"d":"e"}}"#,
    r#"{"a":1,"a":2}"#,
    r#"[1,"two",{"three":3}]"#,
    r#" { "sp" : [ 1 , 2 ] } "#,
    r#"{"big":1e400}"#,
    r#"{"a":[1,{"b":1e999}],"c":-1e500}"#,
    r#"[1e400]"#,
    r#"{"n":-0,"f":1.5e-7,"i":12345678901234567890}"#,
    r#"{"s":"\u00e9\ud83d\ude00\ud800x\u002F\/\b\f"}"#,
    r#""just a string""#,
    "5",
    "true",
    "",
    "   ",
    "{",
    "[",
    "{}x",
    "[1,]",
    r#"{"a":1,}"#,
    r#"{"a" 1}"#,
    r#"{"a":}"#,
    "{1:2}",
    "[1 2]",
    "tru",
    "nul",
    "fals",
    "-",
    "01",
    "1.",
    ".5",
    "1e",
    "1e+",
    "+1",
    r#""\u12""#,
    r#""\x""#,
    "\"a\tb\"",
    "\u{feff}{}",
    "é",
    "[\"é\"]x",
    "'a'",
    "[1,2]]",
    "{\"a\":[}",
];

#[test]
fn from_json_matches_helm() {
    for (var, _) in [("STRATA_TEST_HELM3", false), ("STRATA_TEST_HELM4", true)] {
        let dir = tempdir(&format!("fromjson-{var}"));
        let list: Vec<String> = FROM_JSON
            .iter()
            .map(|s| format!("- {}", yaml_quoted(s)))
            .collect();
        let template = "{{- range $i, $s := .Values.fj }}\nf{{ printf \"%03d\" $i }}: o={{ fromJson $s | toJson | b64enc }} a={{ fromJsonArray $s | toJson | b64enc }}\n{{- end }}\n";
        write_chart(&dir, template, &format!("fj:\n{}\n", list.join("\n")));
        let rendered = run_helm(&helm(var), &dir).unwrap_or_else(|e| panic!("helm failed: {e}"));
        let got = fields(&rendered);
        let mut failures = Vec::new();
        for (i, input) in FROM_JSON.iter().enumerate() {
            let have = &got[&format!("f{i:03}")];
            let ours_o = to_json(&from_json(input)).unwrap();
            let ours_a = to_json(&from_json_array(input)).unwrap();
            if have["o"] != ours_o || have["a"] != ours_a {
                failures.push(format!(
                    "{input:?}\n helm: {:?} {:?}\n ours: {ours_o:?} {ours_a:?}",
                    have["o"], have["a"]
                ));
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
        assert!(failures.is_empty(), "{var}:\n{}", failures.join("\n"));
    }
}

/// Values only a template makes (Go ints from literals, NaN and infinities from `float64`),
/// built here as the template builds them.
fn template_cases() -> Vec<(&'static str, Value)> {
    let map = |entries: Vec<(&str, Value)>| {
        Value::map(
            entries
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect(),
        )
    };
    vec![
        (
            r#"(dict "a" 7 "b" (list 1 "x") "c" (int64 -9223372036854775808))"#,
            map(vec![
                ("a", Value::Int(7)),
                ("b", Value::list(vec![Value::Int(1), Value::string("x")])),
                ("c", Value::Int(i64::MIN)),
            ]),
        ),
        (r#"(float64 "NaN")"#, Value::Float(f64::NAN)),
        (
            r#"(dict "n" (float64 "NaN") "i" (float64 "-Inf") "p" (float64 "+Inf") "f" 1.0)"#,
            map(vec![
                ("n", Value::Float(f64::NAN)),
                ("i", Value::Float(f64::NEG_INFINITY)),
                ("p", Value::Float(f64::INFINITY)),
                ("f", Value::Float(1.0)),
            ]),
        ),
        (
            r#"(list 1 2)"#,
            Value::list(vec![Value::Int(1), Value::Int(2)]),
        ),
        (r#""x""#, Value::string("x")),
        ("5", Value::Int(5)),
        (
            r#"(list (dict "a" 1))"#,
            Value::list(vec![map(vec![("a", Value::Int(1))])]),
        ),
        (r#"(list)"#, Value::list(vec![])),
        (r#"(dict)"#, Value::empty_map()),
        ("true", Value::Bool(true)),
        (
            r#"(dict "a" (list 1 1.5 "x" (dict "b" 2)) "c" (int64 9007199254740993))"#,
            map(vec![
                (
                    "a",
                    Value::list(vec![
                        Value::Int(1),
                        Value::Float(1.5),
                        Value::string("x"),
                        map(vec![("b", Value::Int(2))]),
                    ]),
                ),
                ("c", Value::Int(9_007_199_254_740_993)),
            ]),
        ),
        ("1e21", Value::Float(1e21)),
        ("-0.0", Value::Float(-0.0)),
        (
            r#"(list 1e6 0.000001 123456789.0)"#,
            Value::list(vec![
                Value::Float(1e6),
                Value::Float(0.000001),
                Value::Float(123456789.0),
            ]),
        ),
    ]
}

#[test]
fn to_toml_of_nil_fails_the_render() {
    let funcs = gotemplate::encode::funcs(true);
    let to_toml = funcs.get("toToml").unwrap();
    assert!(to_toml(&mut NoCall, &[Value::Nil]).is_err());
    let dir = tempdir("toml-nil");
    write_chart(&dir, "a: {{ toToml nil }}\n", "");
    for var in ["STRATA_TEST_HELM3", "STRATA_TEST_HELM4"] {
        let err = run_helm(&helm(var), &dir).expect_err("toToml nil fails");
        assert!(err.contains("zero Value"), "{var}: {err}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn template_values_match_helm() {
    for (var, helm4) in [("STRATA_TEST_HELM3", false), ("STRATA_TEST_HELM4", true)] {
        let cases = template_cases();
        let mut template = String::new();
        for (i, (expr, _)) in cases.iter().enumerate() {
            template.push_str(&format!(
                "t{i:03}: y={{{{ toYaml {expr} | b64enc }}}} j={{{{ toJson {expr} | b64enc }}}} t={{{{ toToml {expr} | b64enc }}}} P={{{{ toYamlPretty {expr} | b64enc }}}}\n"
            ));
        }
        let dir = tempdir(&format!("template-{var}"));
        write_chart(&dir, &template, "");
        let rendered = run_helm(&helm(var), &dir).unwrap_or_else(|e| panic!("helm failed: {e}"));
        let got = fields(&rendered);
        for (i, (expr, value)) in cases.iter().enumerate() {
            let have = &got[&format!("t{i:03}")];
            let mut want = expected(value, helm4);
            want.remove("m");
            want.remove("p");
            want.remove("r");
            want.insert(
                "t".into(),
                to_toml(value, helm4).unwrap_or_else(|e| e.to_string()),
            );
            for (field, text) in &want {
                assert_eq!(&have[field], text, "{var} {field} of {expr}");
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// A template context for calling the encoders directly; they never call back.
struct NoCall;

impl gotemplate::funcs::Call for NoCall {
    fn include(&mut self, _: &str, _: Value) -> Result<String, gotemplate::Error> {
        unreachable!("encoders do not include")
    }
    fn tpl(&mut self, _: &str, _: Value) -> Result<String, gotemplate::Error> {
        unreachable!("encoders do not run tpl")
    }
    fn template_name(&self) -> &str {
        "t"
    }
}

/// `mustToYaml` exists only in Helm 4; `mustToJson` in both (Helm 3 has Sprig's). Each gives
/// the plain function's text and fails the render where the plain one gives "".
#[test]
fn must_functions_follow_each_version() {
    let value = Value::map(
        [(
            "k".to_owned(),
            Value::list(vec![Value::Int(1), Value::string("v")]),
        )]
        .into(),
    );
    for (name, in_helm3) in [("mustToYaml", false), ("mustToJson", true)] {
        let dir = tempdir(&format!("must-{name}"));
        for (var, helm4) in [("STRATA_TEST_HELM3", false), ("STRATA_TEST_HELM4", true)] {
            let funcs = gotemplate::encode::funcs(helm4);
            write_chart(
                &dir,
                &format!("a: x={{{{ {name} (dict \"k\" (list 1 \"v\")) | b64enc }}}}\n"),
                "",
            );
            let rendered = run_helm(&helm(var), &dir);
            if !helm4 && !in_helm3 {
                let err = rendered.expect_err("helm 3 has no mustToYaml");
                assert!(
                    err.contains(&format!("function \"{name}\" not defined")),
                    "{err}"
                );
                assert!(!funcs.contains(name), "{name} is Helm 4 only");
                continue;
            }
            let func = funcs.get(name).expect("registered for this version");
            let ours = func(&mut NoCall, std::slice::from_ref(&value)).unwrap();
            let rendered = rendered.unwrap_or_else(|e| panic!("{var}: {e}"));
            assert_eq!(
                Some(&fields(&rendered)["a"]["x"][..]),
                ours.as_str(),
                "{var}"
            );
            write_chart(
                &dir,
                &format!("a: {{{{ {name} (float64 \"NaN\") }}}}\n"),
                "",
            );
            let err = run_helm(&helm(var), &dir).expect_err("NaN has no encoding");
            assert!(err.contains("unsupported value: NaN"), "{var}: {err}");
            let ours = func(&mut NoCall, &[Value::Float(f64::NAN)]).unwrap_err();
            assert!(ours.message.contains("unsupported value: NaN"), "{ours}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// Go's limits on nesting, at and past the boundary: go-yaml reads JSON nested up to 10,000
/// levels (`toYaml` of a deeper value is ""), `encoding/json` parses up to 10,000, and
/// `toJson`, `toYamlPretty` and `toToml` have no limit. A chart can build such values in a
/// loop; the encoders grow their stack rather than overflow it.
#[test]
fn deep_nesting_matches_helm() {
    let doc = format!("{}1{}", "[".repeat(10_000), "]".repeat(10_000));
    let template = r#"{{- $v := fromJsonArray .Values.doc }}{{ $w := list $v }}
a: y={{ toYaml $v | b64enc }} P={{ toYamlPretty $w | b64enc }} t={{ toToml (dict "v" $w) | b64enc }}
b: y={{ toYaml $w | b64enc }} j={{ toJson $w | b64enc }}
c: f={{ fromJsonArray (printf "[%s]" .Values.doc) | toJson | b64enc }}
"#;
    let v = from_json_array(&doc);
    let w = Value::list(vec![v.clone()]);
    let mut wrapped = BTreeMap::new();
    wrapped.insert("v".to_owned(), w.clone());
    let ours = [
        ("a", "y", trim_newline(to_yaml(&v))),
        ("a", "P", trim_newline(try_to_yaml_pretty(&w).unwrap())),
        ("a", "t", to_toml(&Value::map(wrapped), true).unwrap()),
        ("b", "y", trim_newline(to_yaml(&w))),
        ("b", "j", to_json(&w).unwrap()),
        (
            "c",
            "f",
            to_json(&from_json_array(&format!("[{doc}]"))).unwrap(),
        ),
    ];
    assert_eq!(ours[3].2, "", "one level past go-yaml's limit");
    let dir = tempdir("deep");
    write_chart(&dir, template, &format!("doc: {}\n", yaml_quoted(&doc)));
    for var in ["STRATA_TEST_HELM3", "STRATA_TEST_HELM4"] {
        let rendered = run_helm(&helm(var), &dir).unwrap_or_else(|e| panic!("{var}: {e}"));
        let got = fields(&rendered);
        for (line, field, text) in &ours {
            assert!(
                &got[*line][*field] == text,
                "{var} {line}.{field}: helm {} bytes, ours {} bytes",
                got[*line][*field].len(),
                text.len()
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    std::mem::forget((v, w));
}
