//! Differential fuzz of values files against both real helms.
//!
//! A seeded generator writes random layer stacks: nested maps in block and flow style, lists,
//! YAML 1.1 scalars of every kind strata types itself (booleans, octal/hex/binary integers,
//! huge and tiny numbers, timestamps, tags, escapes, special characters), non-string keys,
//! duplicate keys, anchors, aliases and merge keys. Each case is one key of every layer file
//! (`c<N>: ...`), so one `helm template -f f1 -f f2 -f f3` renders a whole batch; the chart
//! prints `toJson .Values`, and strata's render of the same layers must print the same.
//!
//! `STRATA_FUZZ_SEED` picks another seed and `STRATA_FUZZ_CASES` the number of cases (a fixed
//! seed and a small count by default, so the suite stays deterministic and fast);
//! `STRATA_FUZZ_PRINT=1` prints the generated layer files.

use crate::common::*;
use crate::helm_yaml::stack;
use base64::Engine as _;
use serde_json::Value;

const LAYERS: usize = 3;
const BATCH: usize = 150;

/// xorshift64*: small, seeded, the same sequence on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
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

/// Scalars as written in a file. Every one is accepted by helm.
const SCALARS: &[&str] = &[
    "yes",
    "No",
    "on",
    "OFF",
    "y",
    "n",
    "true",
    "False",
    "yEs",
    "tRUE",
    "~",
    "null",
    "Null",
    "nULL",
    "\"\"",
    "''",
    "0",
    "-0",
    "+12",
    "0755",
    "0o17",
    "0O17",
    "08",
    "0x1F",
    "0X1f",
    "-0x1F",
    "0b101",
    "0B11",
    "-0b11",
    "1_000",
    "1__0",
    "_1",
    "1e6",
    "1E6",
    "1e400",
    "-1e400",
    "1e-400",
    "2.5e-3",
    "12345678901",
    "9007199254740993",
    "9223372036854775807",
    "9223372036854775808",
    "18446744073709551615",
    "18446744073709551616",
    "1.0",
    "1.",
    "-0.0",
    "1.10",
    ".5",
    "+.5",
    "-.5",
    ".",
    "0.00001",
    "1234567",
    "1_000.5",
    "0x",
    "2001-12-14",
    "2001-12-14T21:59:43.10-05:00",
    "2001-12-14 21:59:43.10",
    "!!timestamp 2001-12-14",
    "1:30",
    "190:20:30",
    "!!str 123",
    "!!str true",
    "!!int \"7\"",
    "!!float 3",
    "!!float \"1e3\"",
    "!!binary aGVsbG8=",
    "!!binary /w==",
    "!!null ''",
    "! 12",
    "!thing 12",
    "\"1.0\"",
    "'yes'",
    "\"on\"",
    "v1.10",
    "1.2.3",
    "'@x'",
    "'a: b'",
    "\"a\\x7fb\"",
    "\"\\x80\\x9f\"",
    "\"a\\x85b\"",
    "\"a\\Nb\"",
    "\"\\ufffe\"",
    "\"\\L\\P\"",
    "\"caf\\u00e9 \\U0001F600\"",
    "\"tab\\there\"",
    "\"<b>&amp;</b>\"",
    "plain words",
    "'it''s'",
    "\"multi\\nline\"",
    "!!merge <<",
    "\"raw\u{85}nel\"",
    "\"<<\"",
    "<<",
];

/// Keys as written. Distinct Go keys here never turn into the same string (helm would pick
/// one at random); equal Go keys (`yes`/`on`) are duplicates, whose last value wins.
const KEYS: &[&str] = &[
    "a",
    "b",
    "c",
    "x",
    "image",
    "tag",
    "1",
    "-7",
    "0x1F",
    "017",
    "yes",
    "on",
    "off",
    "N",
    "1.5",
    "0.1234567891",
    "1e+06",
    "-0.0",
    "123456.5",
    "0.00001",
    ".inf",
    "-.inf",
    "9007199254740993",
    "-9223372036854775808",
    "2001-12-14",
    "1e400",
    "\"quoted\"",
    "'on'",
    "\"x.y\"",
    "!!str 2",
    "1:30",
    "\"\"",
];

struct Gen {
    rng: Rng,
    case: usize,
    anchors: Vec<String>,
    map_anchors: Vec<String>,
    next_anchor: usize,
}

impl Gen {
    /// Maybe an anchor for the node about to be written. It becomes usable by aliases only
    /// once the node is complete ([`Gen::register`]): an alias inside its own anchor is an
    /// error for helm, tested on its own.
    fn anchor(&mut self) -> Option<String> {
        if !self.rng.chance(25) {
            return None;
        }
        self.next_anchor += 1;
        Some(format!("c{}a{}", self.case, self.next_anchor))
    }

    fn register(&mut self, anchor: &Option<String>, is_map: bool) -> String {
        let Some(name) = anchor else {
            return String::new();
        };
        self.anchors.push(name.clone());
        if is_map {
            self.map_anchors.push(name.clone());
        }
        format!("&{name} ")
    }

    /// A value written after `key: ` at `indent`; block collections start on the next line.
    fn value(&mut self, indent: usize, depth: usize) -> String {
        let roll = self.rng.below(100);
        if depth < 4 && roll < 22 {
            let anchor = self.anchor();
            let body = self.block_map(indent + 2, depth + 1);
            let anchor = self.register(&anchor, true);
            return if body.is_empty() {
                format!("{anchor}{{}}\n")
            } else {
                format!("{anchor}\n{body}")
            };
        }
        if depth < 4 && roll < 30 {
            let anchor = self.anchor();
            let body = self.flow_map(depth + 1);
            return format!("{}{body}\n", self.register(&anchor, true));
        }
        if depth < 4 && roll < 37 {
            let anchor = self.anchor();
            let body = self.flow_seq(depth + 1);
            return format!("{}{body}\n", self.register(&anchor, false));
        }
        if (42..45).contains(&roll) {
            let pad = " ".repeat(indent + 2);
            let header = self.rng.pick(&["|", "|-", "|+", ">", ">-", "|2"]);
            return format!(
                "{header}\n{pad}first line\n{pad}  indented: {}\n\n{pad}last\n",
                self.rng.pick(SCALARS).replace(['\n', '\u{85}'], " ")
            );
        }
        if roll < 50 && !self.anchors.is_empty() {
            let target = self.anchors[self.rng.below(self.anchors.len())].clone();
            return format!("*{target}\n");
        }
        let anchor = self.anchor();
        let anchor = self.register(&anchor, false);
        format!("{anchor}{}\n", self.rng.pick(SCALARS))
    }

    fn flow_value(&mut self, depth: usize) -> String {
        match self.rng.below(10) {
            0 if depth < 4 => self.flow_map(depth + 1),
            1 if depth < 4 => self.flow_seq(depth + 1),
            2 if !self.anchors.is_empty() => {
                format!("*{}", self.anchors[self.rng.below(self.anchors.len())])
            }
            _ => self.rng.pick(SCALARS).to_string(),
        }
    }

    fn merge_value(&mut self) -> Option<String> {
        if self.map_anchors.is_empty() {
            return None;
        }
        let single = self.rng.chance(60);
        let n = self.map_anchors.len();
        let first = self.map_anchors[self.rng.below(n)].clone();
        let second = self.map_anchors[self.rng.below(n)].clone();
        Some(if single {
            format!("*{first}")
        } else {
            format!("[*{first}, *{second}]")
        })
    }

    fn flow_map(&mut self, depth: usize) -> String {
        let mut entries = Vec::new();
        for _ in 0..self.rng.below(4) {
            if self.rng.chance(15)
                && let Some(merge) = self.merge_value()
            {
                let key = self.rng.pick(&["<<", "!!merge <<"]);
                entries.push(format!("{key}: {merge}"));
                continue;
            }
            let key = self.rng.pick(KEYS);
            entries.push(format!("{key}: {}", self.flow_value(depth)));
        }
        format!("{{{}}}", entries.join(", "))
    }

    fn flow_seq(&mut self, depth: usize) -> String {
        let items: Vec<String> = (0..self.rng.below(4))
            .map(|_| self.flow_value(depth))
            .collect();
        format!("[{}]", items.join(", "))
    }

    fn block_map(&mut self, indent: usize, depth: usize) -> String {
        let pad = " ".repeat(indent);
        let mut out = String::new();
        for _ in 0..1 + self.rng.below(4) {
            if self.rng.chance(12)
                && let Some(merge) = self.merge_value()
            {
                out.push_str(&format!("{pad}<<: {merge}\n"));
                continue;
            }
            let key = self.rng.pick(KEYS);
            let value = self.value(indent, depth);
            out.push_str(&format!("{pad}{key}: {value}"));
        }
        out
    }
}

/// Layer files for cases `first..first + count`: each case writes `c<N>:` in every layer.
fn generate(seed: u64, first: usize, count: usize) -> Vec<String> {
    let mut layers = vec![String::new(); LAYERS];
    for case in first..first + count {
        let mut rng = Rng(seed ^ (case as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        rng.next();
        for layer in layers.iter_mut() {
            // Each layer file is its own document, so its anchors are its own.
            let mut g = Gen {
                rng: Rng(rng.next() | 1),
                case,
                anchors: Vec::new(),
                map_anchors: Vec::new(),
                next_anchor: 0,
            };
            let body = g.block_map(2, 1);
            layer.push_str(&format!("c{case}:\n{body}"));
            rng = Rng(g.rng.next() | 1);
        }
    }
    layers
}

fn dumped(out: &std::process::Output, what: &str) -> serde_json::Map<String, Value> {
    assert_success(out, what);
    let stdout = text(&out.stdout);
    let line = stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("json: "))
        .unwrap_or_else(|| panic!("{what}: no dump in output:\n{stdout}"));
    let b64: String = serde_json::from_str(line).expect("quoted base64");
    let json = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .expect("base64");
    match serde_json::from_slice(&json).expect("toJson output") {
        Value::Object(map) => map,
        other => panic!("{what}: values are not a map: {other}"),
    }
}

fn env_number(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("{name} must be a number, not {v:?}")),
        Err(_) => default,
    }
}

#[test]
fn random_layer_stacks_render_like_helm() {
    let seed = env_number("STRATA_FUZZ_SEED", 0x5EED_0008);
    let cases = env_number("STRATA_FUZZ_CASES", BATCH as u64) as usize;
    let mut disagreements = Vec::new();
    let mut first = 0;
    while first < cases {
        let count = BATCH.min(cases - first);
        let layers = generate(seed, first, count);
        if std::env::var_os("STRATA_FUZZ_PRINT").is_some() {
            eprintln!("{}", layers.join("--- next layer file\n"));
        }
        let tree = stack(&layers);
        for which in Helm::ALL {
            let mut cmd = helm(which);
            cmd.current_dir(tree.root())
                .args(["template", "rel", "chart", "-n", "ns"]);
            for i in 1..=LAYERS {
                cmd.arg("-f").arg(format!("layers/f{i}.yaml"));
            }
            let expected = dumped(
                &run_std(&mut cmd),
                &format!(
                    "helm {} (seed {seed}, cases {first}..; STRATA_FUZZ_PRINT=1 prints the layers)",
                    which.version()
                ),
            );
            let actual = dumped(
                &run(strata(which).current_dir(tree.root()).args([
                    "render",
                    "tenants/t1",
                    "--no-cache",
                ])),
                &format!("strata render with helm {} (seed {seed})", which.version()),
            );
            for case in first..first + count {
                let key = format!("c{case}");
                if expected.get(&key) != actual.get(&key) {
                    let written: Vec<String> = layers.iter().map(|l| case_text(l, &key)).collect();
                    disagreements.push(format!(
                        "case {case} (seed {seed}, helm {}):\n{}\nhelm:   {}\nstrata: {}",
                        which.version(),
                        written.join("--- next layer\n"),
                        expected.get(&key).unwrap_or(&Value::Null),
                        actual.get(&key).unwrap_or(&Value::Null),
                    ));
                }
            }
        }
        first += count;
    }
    eprintln!(
        "fuzz: seed {seed}, {cases} cases, {} disagreements",
        disagreements.len()
    );
    assert!(
        disagreements.is_empty(),
        "{} case(s) disagree:\n{}",
        disagreements.len(),
        disagreements.join("\n\n")
    );
}

/// The lines of one case in a layer file.
fn case_text(layer: &str, key: &str) -> String {
    let start = format!("{key}:\n");
    let Some(at) = layer.find(&start) else {
        return String::new();
    };
    let rest = &layer[at..];
    let end = rest[1..].find("\nc").map(|i| i + 2).unwrap_or(rest.len());
    rest[..end].to_string()
}
