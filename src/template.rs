//! Handlebars over the tenant's variables, strict and without HTML escaping.
//!
//! Used for layer paths, release names and namespaces. Strict mode turns a typo in a variable
//! name into an error instead of an empty path segment.
//!
//! YAML files rendered as templates ([`Templater::render_yaml`]) get one more rule: what a
//! variable inserts must not change the YAML's structure, since variables come from Argo CD
//! parameters and `ARGOCD_ENV_*`, not only from the repository. The rule is [`structure`]'s,
//! shared with values layers and patches.

pub mod structure;

use self::structure::{Insertions, Shape, Tree, same_structure};
use crate::manifests::split;
use crate::quote::quote;
use crate::yaml::{GoValue, parse_go_document};
use handlebars::Handlebars;
use std::collections::BTreeMap;

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("template {template:?} uses variable `{name}`, which is not set for this tenant (set it in strata.yaml `vars`, the tenant file, ARGOCD_ENV_{upper}, a plugin parameter or --var {name}=…)", upper = name.to_uppercase())]
    UnknownVariable { template: String, name: String },
    #[error("template {template:?} is invalid: {message}")]
    Invalid { template: String, message: String },
    /// A value inserted into YAML would change its structure (or cannot be checked).
    #[error("{0}")]
    YamlInsertion(String),
}

/// Renders templates; holds the configured engines so they are built once per run.
pub struct Templater {
    engine: Handlebars<'static>,
    /// The same engine, but every inserted value comes out between [`OPEN`] and [`CLOSE`], so
    /// [`Templater::render_yaml`] knows exactly what each insertion put where.
    marking: Handlebars<'static>,
}

/// Noncharacters: never in text a user means, refused in values.
const OPEN: char = '\u{FDD0}';
const CLOSE: char = '\u{FDD1}';

impl Default for Templater {
    fn default() -> Self {
        let mut engine = Handlebars::new();
        engine.set_strict_mode(true);
        engine.register_escape_fn(handlebars::no_escape);
        let mut marking = Handlebars::new();
        marking.set_strict_mode(true);
        marking.register_escape_fn(|value: &str| format!("{OPEN}{value}{CLOSE}"));
        Templater { engine, marking }
    }
}

impl Templater {
    pub fn render(
        &self,
        template: &str,
        vars: &BTreeMap<String, String>,
    ) -> Result<String, TemplateError> {
        if !is_template(template, vars)? {
            return Ok(template.to_owned());
        }
        render_with(&self.engine, template, vars)
    }

    /// Renders a YAML template and checks that the inserted values left the YAML's structure
    /// as the template wrote it: every value stays on one line, and the result parses to the
    /// same documents, mappings, keys and sequences as the template with a neutral word in
    /// place of each value, each string holding exactly the inserted text. So a value such as
    /// `x\n---\nkind: Secret` or `a, extra: b` in a flow mapping is refused instead of adding
    /// objects or keys. The one rule for every YAML file strata renders as a template.
    pub fn render_yaml(
        &self,
        template: &str,
        vars: &BTreeMap<String, String>,
    ) -> Result<String, TemplateError> {
        if !is_template(template, vars)? {
            return Ok(template.to_owned());
        }
        if has_unescaped_insertion(template) {
            return Err(TemplateError::YamlInsertion(
                "`{{{…}}}` and `{{&…}}` insert a value unchecked, which YAML templates do not allow; write `{{…}}`".into(),
            ));
        }
        if let Some((name, _)) = vars.iter().find(|(_, v)| v.contains([OPEN, CLOSE])) {
            return Err(TemplateError::YamlInsertion(format!(
                "variable `{name}` holds the noncharacter U+FDD0 or U+FDD1, which strata does not insert into YAML"
            )));
        }
        let marked = render_with(&self.marking, template, vars)?;
        check_insertions(&marked, vars).map_err(TemplateError::YamlInsertion)
    }
}

/// Whether `template` needs rendering: text without `{{` comes back as it is, and one that
/// has them may only name variables the tenant has.
fn is_template(template: &str, vars: &BTreeMap<String, String>) -> Result<bool, TemplateError> {
    if !template.contains("{{") {
        return Ok(false);
    }
    every_variable_known(template, vars)?;
    Ok(true)
}

/// Renders with one of the two engines, Handlebars' error becoming ours.
fn render_with(
    engine: &Handlebars<'static>,
    template: &str,
    vars: &BTreeMap<String, String>,
) -> Result<String, TemplateError> {
    engine
        .render_template(template, vars)
        .map_err(|e| TemplateError::Invalid {
            template: template.to_owned(),
            message: e.to_string(),
        })
}

/// Strict templates: a variable the tenant does not have is an error naming it, never an
/// empty string.
fn every_variable_known(
    template: &str,
    vars: &BTreeMap<String, String>,
) -> Result<(), TemplateError> {
    match referenced_variables(template)
        .into_iter()
        .find(|n| !vars.contains_key(n))
    {
        Some(name) => Err(TemplateError::UnknownVariable {
            template: template.to_owned(),
            name,
        }),
        None => Ok(()),
    }
}

/// Whether the template has a `{{{` or `{{&` expression (Handlebars' unescaped output).
fn has_unescaped_insertion(template: &str) -> bool {
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        let escaped = rest[..start].ends_with('\\');
        let after = rest[start + 2..].trim_start_matches('~');
        if !escaped && (after.starts_with('{') || after.starts_with('&')) {
            return true;
        }
        rest = &rest[start + 2..];
    }
    false
}

/// One value a YAML template inserted.
struct Insertion<'a> {
    value: &'a str,
    /// The 1-based line of the rendered text it starts on.
    line: usize,
}

/// The word that stands for insertion `i` in the neutral text: a plain scalar anywhere.
fn placeholder(i: usize) -> String {
    format!("zStrataValue{i}z")
}

/// Rendered text cut at its insertions.
struct Marked<'a> {
    /// Literal text and insertions, alternating: `pieces[2k]` literal, `pieces[2k+1]` a value.
    pieces: Vec<&'a str>,
    insertions: Vec<Insertion<'a>>,
    /// The length of the marked text, enough for any text built from the pieces.
    len: usize,
}

impl<'a> Marked<'a> {
    /// Cuts marked output (values between [`OPEN`] and [`CLOSE`]) into pieces.
    fn cut(marked: &'a str) -> Marked<'a> {
        let mut pieces: Vec<&str> = Vec::new();
        let mut insertions = Vec::new();
        let mut rest = marked;
        let mut line = 1;
        while let Some(open) = rest.find(OPEN) {
            let (before, after) = rest.split_at(open);
            line += before.matches('\n').count();
            let after = &after[OPEN.len_utf8()..];
            let close = after
                .find(CLOSE)
                .expect("the escape function closes what it opens");
            let value = &after[..close];
            pieces.push(before);
            pieces.push(value);
            insertions.push(Insertion { value, line });
            rest = &after[close + CLOSE.len_utf8()..];
        }
        pieces.push(rest);
        Marked {
            pieces,
            insertions,
            len: marked.len(),
        }
    }

    /// The text with insertion `i` as its value when `real(i)`, else as its placeholder.
    fn build(&self, real: impl Fn(usize) -> bool) -> String {
        let mut out = String::with_capacity(self.len);
        for (n, piece) in self.pieces.iter().enumerate() {
            if n % 2 == 1 && !real(n / 2) {
                out.push_str(&placeholder(n / 2));
            } else {
                out.push_str(piece);
            }
        }
        out
    }

    /// Where insertion `i` is and what it is: its line, and the variables holding its value.
    fn describe(&self, i: usize, vars: &BTreeMap<String, String>) -> String {
        let insertion = &self.insertions[i];
        let names: Vec<String> = vars
            .iter()
            .filter(|(_, v)| v.as_str() == insertion.value)
            .map(|(k, _)| format!("`{k}`"))
            .collect();
        let what = match names.len() {
            0 => "an inserted value".to_owned(),
            _ => format!("the value of variable {}", names.join(" / ")),
        };
        format!(
            "line {}: {what} ({})",
            insertion.line,
            quote(insertion.value)
        )
    }

    /// The first insertion holding a line break or control character, and what it holds.
    fn first_multiline(&self) -> Option<(usize, String)> {
        self.insertions
            .iter()
            .enumerate()
            .find_map(|(i, insertion)| {
                let c = insertion
                    .value
                    .chars()
                    .find(|c| is_line_break_or_control(*c))?;
                let what = match c {
                    '\n' | '\r' | '\u{85}' | '\u{2028}' | '\u{2029}' => "a line break".to_owned(),
                    c => format!("the control character {c:?}"),
                };
                Some((i, what))
            })
    }

    /// The first insertion that changes the structure on its own, else the first one: the
    /// one to blame when all of them together do.
    fn culprit(&self, expected: &[GoValue], values: &[&str]) -> usize {
        (0..self.insertions.len())
            .find(|&i| {
                let placeholders: Vec<String> = (0..values.len()).map(placeholder).collect();
                let alone: Vec<&str> = (0..values.len())
                    .map(|j| {
                        if j == i {
                            values[j]
                        } else {
                            placeholders[j].as_str()
                        }
                    })
                    .collect();
                structure_problem(expected, &self.build(|j| j == i), &alone).is_some()
            })
            .unwrap_or(0)
    }
}

/// Checks marked output (values between [`OPEN`] and [`CLOSE`]) and returns it unmarked.
fn check_insertions(marked: &str, vars: &BTreeMap<String, String>) -> Result<String, String> {
    let marked = Marked::cut(marked);
    let actual = marked.build(|_| true);
    if marked.insertions.is_empty() {
        return Ok(actual);
    }
    if let Some((i, what)) = marked.first_multiline() {
        return Err(format!(
            "{} holds {what}, which would change the YAML around it; a value inserted into YAML must be one line of text",
            marked.describe(i, vars),
        ));
    }
    let values: Vec<&str> = marked.insertions.iter().map(|i| i.value).collect();
    let neutral = marked.build(|_| false);
    let Ok(expected) = parse_documents(&neutral) else {
        return match parse_documents(&actual) {
            // The template itself does not parse: the caller's reader reports where.
            Err(_) => Ok(actual),
            Ok(_) => Err(format!(
                "{}: the template is YAML only with the inserted values in it; a value inserted into YAML must not supply structure",
                marked.describe(0, vars)
            )),
        };
    };
    let Some(problem) = structure_problem(&expected, &actual, &values) else {
        return Ok(actual);
    };
    Err(format!(
        "{} {problem}; a value inserted into YAML must stay a plain value: remove YAML syntax (`:`, `#`, `,`, brackets, quotes, anchors) from it, or quote the insertion in the template",
        marked.describe(marked.culprit(&expected, &values), vars)
    ))
}

/// Why `text` (the template with some values) does not have the structure of `expected`
/// (the template with placeholders), if it does not.
fn structure_problem(expected: &[GoValue], text: &str, values: &[&str]) -> Option<String> {
    let got = match parse_documents(text) {
        Ok(got) => got,
        Err(message) => return Some(format!("breaks the YAML ({message})")),
    };
    if expected.len() != got.len() {
        return Some(format!(
            "makes {} YAML documents where the template has {}",
            got.len(),
            expected.len()
        ));
    }
    let placeholders = Placeholders(values);
    for (index, (e, g)) in expected.iter().zip(&got).enumerate() {
        if let Err(mismatch) = same_structure(e, g, &placeholders) {
            return Some(format!(
                "changes the YAML's structure at {} (document {})",
                mismatch.at(),
                index + 1
            ));
        }
    }
    None
}

fn is_line_break_or_control(c: char) -> bool {
    c != '\t' && (c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}'))
}

/// Every document of a YAML stream, as Go reads it.
fn parse_documents(text: &str) -> Result<Vec<GoValue>, String> {
    split(text)
        .iter()
        .map(|chunk| parse_go_document(chunk.text).map_err(|e| e.message))
        .collect()
}

/// `neutral` with each placeholder replaced by its value.
fn substitute(neutral: &str, values: &[&str]) -> String {
    let mut out = String::with_capacity(neutral.len());
    let mut rest = neutral;
    while let Some(start) = rest.find("zStrataValue") {
        out.push_str(&rest[..start]);
        let tail = &rest[start + "zStrataValue".len()..];
        let digits = tail.chars().take_while(char::is_ascii_digit).count();
        match (
            tail[..digits].parse::<usize>(),
            tail[digits..].starts_with('z'),
        ) {
            (Ok(i), true) if i < values.len() => {
                out.push_str(values[i]);
                rest = &tail[digits + 1..];
            }
            _ => {
                out.push_str("zStrataValue");
                rest = tail;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The placeholders of a manifests template: `zStrataValue<i>z` stands for `values[i]`.
struct Placeholders<'v>(&'v [&'v str]);

impl Insertions for Placeholders<'_> {
    fn holds_placeholder(&self, text: &str) -> bool {
        text.contains("zStrataValue")
    }

    fn substitute(&self, text: &str) -> String {
        substitute(text, self.0)
    }
}

/// Manifests are read as Go reads them.
impl Tree for GoValue {
    fn shape(&self) -> Shape<'_, Self> {
        match self {
            GoValue::Map(map) => Shape::Map(map.iter().collect()),
            GoValue::Seq(items) => Shape::Seq(items),
            GoValue::String(text) => Shape::String(text),
            _ => Shape::Scalar,
        }
    }

    fn line(&self) -> Option<u32> {
        None
    }

    fn reads_as(&self, text: &str) -> bool {
        parse_go_document(text).is_ok_and(|v| v == *self)
    }
}

/// The variable names a template mentions, in order of first use. Helper names and keywords of
/// block expressions are not variables.
pub fn referenced_variables(template: &str) -> Vec<String> {
    const KEYWORDS: &[&str] = &[
        "if", "unless", "each", "with", "else", "lookup", "this", "eq", "ne", "not", "and", "or",
    ];
    let mut names = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else { break };
        // `\{{…}}` is Handlebars' escape for literal braces, not a variable.
        if rest[..start].ends_with('\\') {
            rest = &after[end + 2..];
            continue;
        }
        let inner = after[..end].trim_matches(|c| c == '{' || c == '}' || c == '~');
        for token in inner
            .split(|c: char| c.is_whitespace() || c == '(' || c == ')')
            .map(|t| t.trim_start_matches(['#', '/', '^', '&']))
        {
            let is_name = token
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && token
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
            if is_name && !KEYWORDS.contains(&token) && !names.iter().any(|n| n == token) {
                names.push(token.to_owned());
            }
        }
        rest = &after[end + 2..];
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::string_map as vars;

    #[test]
    fn renders_without_escaping() {
        let t = Templater::default();
        let out = t
            .render(
                "values/{{env}}/{{name}}.yaml",
                &vars(&[("env", "prod"), ("name", "a&b")]),
            )
            .unwrap();
        assert_eq!(out, "values/prod/a&b.yaml");
    }

    #[test]
    fn unknown_variable_names_the_variable_and_template() {
        let t = Templater::default();
        let err = t
            .render("values/{{ regoin }}.yaml", &vars(&[("region", "x")]))
            .unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("`regoin`") && msg.contains("values/{{ regoin }}.yaml"),
            "{msg}"
        );
    }

    fn yaml(template: &str, pairs: &[(&str, &str)]) -> Result<String, String> {
        Templater::default()
            .render_yaml(template, &vars(pairs))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn yaml_insertions_that_keep_the_structure_pass() {
        let t = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{name}}\n  labels: {env: {{env}}}\ndata:\n  replicas: {{n}}\n  quoted: \"{{msg}}\"\n  list: [{{a}}, {{b}}]\n  {{key}}: x\n{{#if flag}}  on: yes\n{{/if}}";
        let out = yaml(
            t,
            &[
                ("name", "web"),
                ("env", "prod"),
                ("n", "3"),
                ("msg", "it's: fine, # really"),
                ("a", "1"),
                ("b", "two"),
                ("key", "k"),
                ("flag", "x"),
            ],
        )
        .unwrap();
        assert!(
            out.contains("name: web") && out.contains("  on: yes"),
            "{out}"
        );
        assert_eq!(yaml("a: 1\n", &[]).unwrap(), "a: 1\n");
    }

    #[test]
    fn yaml_insertions_that_change_the_structure_are_refused() {
        let t = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{name}}\n  labels: {env: {{env}}}\ndata:\n  x: \"{{msg}}\"\n  note: {{note}}\n";
        let ok = [
            ("name", "web"),
            ("env", "prod"),
            ("msg", "m"),
            ("note", "n"),
        ];
        yaml(t, &ok).unwrap();
        for (var, bad, needle) in [
            ("name", "x\n---\napiVersion: v1\nkind: Secret", "line break"),
            ("name", "x\r\nkind: Secret", "line break"),
            ("name", "x\u{2028}y", "line break"),
            ("env", "prod, admin: \"true\"", "structure"),
            ("env", "prod}, extra: {a: b", "YAML"),
            ("msg", "a\", \"b", "YAML"),
            ("note", "n # hidden", "structure"),
            ("note", "[a, b]", "structure"),
            ("note", "{a: b}", "structure"),
            ("note", "*anchor", "YAML"),
            ("name", "a: b", "YAML"),
        ] {
            let mut vs = ok.to_vec();
            vs.retain(|(k, _)| *k != var);
            vs.push((var, bad));
            let err = yaml(t, &vs).unwrap_err();
            assert!(
                err.contains(needle) && err.contains(&format!("`{var}`")),
                "{var}={bad:?}: {err}"
            );
        }
        let err = yaml("a: {{{x}}}\n", &[("x", "1")]).unwrap_err();
        assert!(err.contains("unchecked"), "{err}");
    }

    #[test]
    fn a_key_from_a_variable_must_read_as_exactly_its_text() {
        let t = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  {{k}}: v\n  n: {{k}}\n";
        assert!(
            yaml(t, &[("k", "plain-key")])
                .unwrap()
                .contains("plain-key: v")
        );
        assert!(yaml(t, &[("k", "true")]).unwrap().contains("true: v"));
        // Tags, quotes and YAML 1.1 booleans make Go read another key than the text spells.
        for bad in [
            "!!binary YQpi",
            "!!binary G1szMW1SRUQ=",
            "yes",
            "\"q\"",
            "'q'",
            "!!str q",
            "0x1F",
        ] {
            let err = yaml(t, &[("k", bad)]).unwrap_err();
            assert!(err.contains("`k`"), "{bad:?}: {err}");
        }
    }

    #[test]
    fn a_huge_value_is_quoted_bounded() {
        let huge = format!("{}\n", "x".repeat(1_000_000));
        let err = yaml("a: {{v}}\n", &[("v", &huge)]).unwrap_err();
        assert!(err.len() < 1000, "{}", err.len());
    }

    #[test]
    fn finds_referenced_variables() {
        assert_eq!(
            referenced_variables("a/{{env}}/{{ tenant }}-{{env}}"),
            ["env", "tenant"]
        );
        assert_eq!(referenced_variables("{{#if x}}a{{/if}}"), ["x"]);
        assert_eq!(referenced_variables("\\{{ $labels.x }} {{y}}"), ["y"]);
        let out = Templater::default()
            .render("\\{{ $labels.x }} {{y}}", &vars(&[("y", "1")]))
            .unwrap();
        assert_eq!(out, "{{ $labels.x }} 1");
    }
}
