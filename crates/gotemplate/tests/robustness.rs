//! Hostile template text: random soups of template syntax must parse or fail with an error,
//! and what parses must execute or fail with an error, never panic (a chart is untrusted).

use gotemplate::helm::helm_funcs;
use gotemplate::{Templates, Value};
use std::collections::BTreeMap;

const PIECES: &[&str] = &[
    "{{",
    "}}",
    "{{- ",
    " -}}",
    "{{/*",
    "*/}}",
    " ",
    "\n",
    "x",
    ".",
    ".a",
    ".a.b",
    "$",
    "$x",
    "$x :=",
    "$y =",
    ":=",
    "=",
    "|",
    "(",
    ")",
    ",",
    "\"s\"",
    "\"\\x",
    "`r`",
    "'c'",
    "'",
    "1",
    "-1",
    "1e3",
    "0x1F",
    "0x1p4",
    "1_0",
    "9999999999999999999",
    ".5",
    "+",
    "-",
    "if",
    "else",
    "end",
    "range",
    "with",
    "define \"d\"",
    "template \"d\"",
    "block \"b\" .",
    "break",
    "continue",
    "nil",
    "true",
    "and",
    "or",
    "not",
    "len",
    "index",
    "print",
    "printf \"%v %d\"",
    "eq",
    "lt",
    "include \"d\" .",
    "tpl \"{{ . }}\" .",
    "required \"m\"",
    "é",
    "\u{a0}",
    "\t",
    "#",
    "{",
    "}",
];

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn random_template_text_never_panics() {
    let funcs = helm_funcs();
    let mut rng = Rng(0x5DEE_CE66_D1CE_4E5B);
    let mut m = BTreeMap::new();
    m.insert("a".to_string(), Value::map(BTreeMap::new()));
    let data = Value::map(m);
    let (mut parsed, mut executed) = (0, 0);
    // GOTEMPLATE_ROBUSTNESS_CASES=N runs more (for development).
    let cases: usize = std::env::var("GOTEMPLATE_ROBUSTNESS_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(20_000);
    for _ in 0..cases {
        let mut text = String::new();
        for _ in 0..1 + rng.next() % 6 {
            // Mostly actions made of a few pieces, so the parser sees many of each shape.
            let raw = rng.next().is_multiple_of(5);
            if !raw {
                text.push_str("{{ ");
            }
            for _ in 0..1 + rng.next() % 5 {
                text.push_str(PIECES[(rng.next() % PIECES.len() as u64) as usize]);
                text.push(' ');
            }
            if !raw {
                text.push_str("}}");
            }
        }
        let mut set = Templates::new();
        if set.parse("t", &text, &|f| funcs.contains(f)).is_ok() {
            parsed += 1;
            if set.execute("t", data.clone(), &funcs).is_ok() {
                executed += 1;
            }
        }
    }
    eprintln!("parsed {parsed}, executed {executed}");
    // The soup must reach the executor often enough to mean something.
    assert!(
        parsed > cases / 20 && executed > cases / 40,
        "parsed {parsed}, executed {executed}"
    );
}
