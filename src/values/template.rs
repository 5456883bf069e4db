//! Values layers that are templates over the tenant's variables: a layer file whose name ends in
//! `.tmpl` (`values/common.yaml.tmpl`) is rendered with the same Handlebars language and the same
//! strictness as layer paths before it is read as YAML.
//!
//! Two promises make a templated layer as trustworthy as a plain one:
//! - provenance stays exact: every value points at the template's own file:line, also when a
//!   block (`{{#if}}`, `{{#each}}`) removes or repeats lines;
//! - a variable's value never changes the YAML structure around it. A value with a line break,
//!   a `: `, a ` #` or a quote that ends a string would silently turn one tenant's values into
//!   different keys; here it is an error naming the line. Structure is compared between the real
//!   render and a render where every inserted value is an inert placeholder, by the rule all
//!   YAML templates share ([`crate::template::structure`]).

use crate::template::referenced_variables;
use crate::template::structure::{Insertions, Shape, Tree, same_structure};
use crate::yaml::{self, RawKind, RawNode};
use handlebars::Handlebars;
use std::collections::BTreeMap;

/// The file-name suffix that marks a values layer as a template.
pub const TEMPLATE_SUFFIX: &str = ".tmpl";

/// Whether a layer path names a template layer.
pub fn is_template_path(path: &str) -> bool {
    path.ends_with(TEMPLATE_SUFFIX)
}

// Private-use code points mark, in the rendered text, where a variable's value was inserted and
// which template line each output line came from. Templates and values may not hold them.
const INSERT_OPEN: char = '\u{E000}';
const INSERT_CLOSE: char = '\u{E001}';
const LINE_OPEN: char = '\u{E002}';
const LINE_CLOSE: char = '\u{E003}';
const PLACEHOLDER_PREFIX: &str = "strata0ins";

/// Why a values template cannot be used; `line` is the template's 1-based line.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TemplateLayerError {
    #[error(
        "line {line}: template uses variable `{name}`, which is not set for this tenant (set it in strata.yaml `vars`, the tenant file, ARGOCD_ENV_{upper}, a plugin parameter or --var {name}=…); write \\{{{{ for a literal {{{{",
        upper = name.to_uppercase()
    )]
    UnknownVariable { line: u32, name: String },
    #[error("{}{message}", line.map(|l| format!("line {l}: ")).unwrap_or_default())]
    Invalid { line: Option<u32>, message: String },
    #[error(
        "line {line}: the value inserted here ({inserted}) changes the YAML structure of the layer; quote the template expression (\"{{{{name}}}}\") or change the variable's value"
    )]
    Structure { line: u32, inserted: String },
}

/// A rendered template layer: its YAML tree with lines already pointing into the template.
pub type Rendered = Option<RawNode>;

/// Renders a values template and reads it as a values document. See the module comment for
/// the guarantees.
pub fn render_layer(
    text: &str,
    vars: &BTreeMap<String, String>,
) -> Result<Rendered, TemplateLayerError> {
    Ok(render_checked(text, vars)?.document)
}

/// A YAML template rendered over the tenant's variables, with the same checks as a values
/// layer: its text, the text's line map, and its values-typed document.
pub struct RenderedText {
    pub text: String,
    /// Line of `text` (0-based index) → template line (1-based).
    pub lines: Vec<u32>,
    pub document: Rendered,
}

/// Renders any YAML template (a values layer, a patch file) strictly, keeping its structure
/// whatever the variables hold; `document` has lines already mapped to the template.
pub fn render_checked(
    text: &str,
    vars: &BTreeMap<String, String>,
) -> Result<RenderedText, TemplateLayerError> {
    reject_reserved(text, vars)?;
    check_variables(text, vars)?;
    // Syntax is checked on the template as written, so positions are the file's own.
    handlebars::Template::compile(text).map_err(|e| TemplateLayerError::Invalid {
        line: e.pos().map(|(line, _)| line as u32),
        message: e.reason().to_string(),
    })?;
    let marked = mark_lines(text);
    let engine = engine();
    let output = engine.render_template(&marked, vars).map_err(|e| {
        let line = e.line_no.map(|l| l as u32);
        TemplateLayerError::Invalid {
            line,
            message: e
                .reason()
                .to_string()
                .replace([INSERT_OPEN, INSERT_CLOSE, LINE_OPEN, LINE_CLOSE], ""),
        }
    })?;
    let scan = scan_output(&output)?;
    let placeholder_doc =
        yaml::parse_values(&scan.placeholder_text).map_err(|e| TemplateLayerError::Invalid {
            line: e.line.map(|l| scan.template_line(l)),
            message: e.message,
        })?;
    let real_doc = yaml::parse_values(&scan.real_text).map_err(|e| {
        let line = scan.template_line(e.line.unwrap_or(1));
        TemplateLayerError::Structure {
            line,
            inserted: scan.inserted_on(line),
        }
    })?;
    match (&placeholder_doc, &real_doc) {
        (None, None) => {}
        (Some(p), Some(r)) => same_structure(p, r, &scan)
            .map_err(|mismatch| scan.structure_error(mismatch.line.unwrap_or(r.line)))?,
        (_, Some(r)) => {
            return Err(scan.structure_error(r.line));
        }
        (Some(p), None) => return Err(scan.structure_error(p.line)),
    }
    let document = real_doc.map(|mut node| {
        remap_lines(&mut node, &scan.lines);
        node
    });
    Ok(RenderedText {
        text: scan.real_text,
        lines: scan.lines,
        document,
    })
}

/// Values layers are read as Helm reads values files.
impl Tree for RawNode {
    fn shape(&self) -> Shape<'_, Self> {
        match &self.kind {
            RawKind::Map(entries) => {
                Shape::Map(entries.iter().map(|(k, v)| (k.as_str(), v)).collect())
            }
            RawKind::Seq(items) => Shape::Seq(items),
            RawKind::String(text) => Shape::String(text),
            RawKind::Null | RawKind::Bool(_) | RawKind::Number(_) => Shape::Scalar,
        }
    }

    fn line(&self) -> Option<u32> {
        Some(self.line)
    }

    fn reads_as(&self, text: &str) -> bool {
        plain_scalar(text).is_some_and(|kind| kind == self.kind)
    }
}

/// How YAML 1.1 types `text` written as a plain scalar value; `None` if it is not one scalar.
fn plain_scalar(text: &str) -> Option<RawKind> {
    if text.contains('\n') {
        return None;
    }
    match yaml::parse_values(&format!("x: {text}\n")).ok()??.kind {
        RawKind::Map(mut entries) if entries.len() == 1 => {
            let kind = entries.remove(0).1.kind;
            (!matches!(kind, RawKind::Seq(_) | RawKind::Map(_))).then_some(kind)
        }
        _ => None,
    }
}

/// The rendered text in its two readings, and the line map back to the template.
struct Scan {
    real_text: String,
    placeholder_text: String,
    /// Placeholder word → inserted value.
    values: Vec<(String, String)>,
    /// Output line (0-based index) → template line (1-based).
    lines: Vec<u32>,
    /// Output line (0-based) → values inserted on it.
    inserted_lines: BTreeMap<usize, Vec<String>>,
}

impl Scan {
    fn template_line(&self, output_line: u32) -> u32 {
        let index = (output_line.max(1) - 1) as usize;
        self.lines
            .get(index)
            .or(self.lines.last())
            .copied()
            .unwrap_or(1)
    }

    fn inserted_on(&self, template_line: u32) -> String {
        let values: Vec<String> = self
            .inserted_lines
            .iter()
            .filter(|(out, _)| self.lines.get(**out) == Some(&template_line))
            .flat_map(|(_, v)| v.iter().map(|s| format!("{s:?}")))
            .collect();
        if values.is_empty() {
            "a variable's value".to_owned()
        } else {
            values.join(", ")
        }
    }
}

impl Scan {
    /// The error for a structure change first seen at `line` of the rendered text.
    fn structure_error(&self, line: u32) -> TemplateLayerError {
        let line = self.template_line(line);
        TemplateLayerError::Structure {
            line,
            inserted: self.inserted_on(line),
        }
    }
}

impl Insertions for Scan {
    fn holds_placeholder(&self, text: &str) -> bool {
        text.contains(PLACEHOLDER_PREFIX)
    }

    fn substitute(&self, text: &str) -> String {
        // Longest placeholder first, so `…ins1x` is not taken for a prefix of `…ins10x`.
        let mut out = text.to_owned();
        for (word, value) in self.values.iter().rev() {
            out = out.replace(word.as_str(), value);
        }
        out
    }
}

fn engine() -> Handlebars<'static> {
    let mut engine = Handlebars::new();
    engine.set_strict_mode(true);
    // Every `{{expression}}` output passes through here: wrapping it marks the insertion
    // without changing how conditions and helpers see the values.
    engine.register_escape_fn(|s| format!("{INSERT_OPEN}{s}{INSERT_CLOSE}"));
    engine
}

fn reject_reserved(text: &str, vars: &BTreeMap<String, String>) -> Result<(), TemplateLayerError> {
    let reserved = |c: char| matches!(c, INSERT_OPEN | INSERT_CLOSE | LINE_OPEN | LINE_CLOSE);
    for (index, line) in text.lines().enumerate() {
        let line_no = index as u32 + 1;
        if line.contains(reserved) || line.contains(PLACEHOLDER_PREFIX) {
            return Err(TemplateLayerError::Invalid {
                line: Some(line_no),
                message: format!(
                    "the text {PLACEHOLDER_PREFIX:?} and the characters U+E000 to U+E003 are reserved in values templates"
                ),
            });
        }
        // Triple braces and `{{&x}}` skip the insertion marker, so their output could not be
        // checked; values templates take `{{x}}` only.
        if line.contains("{{{") || line.contains("{{&") {
            return Err(TemplateLayerError::Invalid {
                line: Some(line_no),
                message: "unescaped output ({{{x}}} or {{&x}}) is not allowed in values templates; write {{x}} (nothing is HTML-escaped)".into(),
            });
        }
    }
    if let Some((name, _)) = vars.iter().find(|(_, v)| v.contains(reserved)) {
        return Err(TemplateLayerError::Invalid {
            line: None,
            message: format!("variable `{name}` holds a reserved character (U+E000 to U+E003)"),
        });
    }
    Ok(())
}

/// Unknown variables are found before rendering, so the message names the line that uses one.
fn check_variables(text: &str, vars: &BTreeMap<String, String>) -> Result<(), TemplateLayerError> {
    let Some(name) = referenced_variables(text)
        .into_iter()
        .find(|n| !vars.contains_key(n))
    else {
        return Ok(());
    };
    let line = text
        .lines()
        .position(|l| referenced_variables(l).contains(&name))
        .or_else(|| text.lines().position(|l| l.contains(name.as_str())))
        .map_or(1, |i| i as u32 + 1);
    Err(TemplateLayerError::UnknownVariable { line, name })
}

/// Appends a line marker to every template line that does not end inside a `{{…}}`
/// expression. A marker also keeps a line holding only a block tag from being removed as a
/// "standalone" line, so lines outside blocks keep their numbers.
fn mark_lines(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    let mut open = false;
    for (index, line) in text.split('\n').enumerate() {
        if index > 0 {
            out.push('\n');
        }
        let (body, cr) = match line.strip_suffix('\r') {
            Some(body) => (body, "\r"),
            None => (line, ""),
        };
        out.push_str(body);
        open = ends_inside_expression(body, open);
        if !open {
            out.push(LINE_OPEN);
            out.push_str(&(index + 1).to_string());
            out.push(LINE_CLOSE);
        }
        out.push_str(cr);
    }
    out
}

fn ends_inside_expression(line: &str, mut open: bool) -> bool {
    let mut rest = line;
    loop {
        let token = if open { "}}" } else { "{{" };
        match rest.find(token) {
            Some(i) => {
                open = !open;
                rest = &rest[i + 2..];
            }
            None => return open,
        }
    }
}

/// Splits the render output into its real text, its placeholder text and the line map.
fn scan_output(output: &str) -> Result<Scan, TemplateLayerError> {
    let mut scan = Scan {
        real_text: String::with_capacity(output.len()),
        placeholder_text: String::with_capacity(output.len()),
        values: Vec::new(),
        lines: Vec::new(),
        inserted_lines: BTreeMap::new(),
    };
    // The last marker on an output line names the template line it ends on; a line without
    // one continues a multi-line expression of the line before.
    let mut marker: Option<u32> = None;
    let mut previous = 0u32;
    let mut line_index = 0usize;
    let mut chars = output.chars();
    while let Some(c) = chars.next() {
        match c {
            LINE_OPEN => {
                let digits: String = chars.by_ref().take_while(|c| *c != LINE_CLOSE).collect();
                marker = digits.parse().ok().or(marker);
            }
            INSERT_OPEN => {
                let value: String = chars.by_ref().take_while(|c| *c != INSERT_CLOSE).collect();
                if value.contains(['\n', '\r']) {
                    // The line's own marker comes after the value; the rest of the line says.
                    let rest: String = chars.by_ref().take_while(|c| *c != '\n').collect();
                    let line = line_marker(&rest).unwrap_or(previous + 1);
                    return Err(TemplateLayerError::Structure {
                        line,
                        inserted: format!("{value:?}, which holds a line break"),
                    });
                }
                scan.inserted_lines
                    .entry(line_index)
                    .or_default()
                    .push(value.clone());
                scan.real_text.push_str(&value);
                if !value.is_empty() {
                    let word = format!("{PLACEHOLDER_PREFIX}{}x", scan.values.len());
                    scan.placeholder_text.push_str(&word);
                    scan.values.push((word, value));
                }
            }
            '\n' => {
                let line_no = marker.take().unwrap_or(previous + 1);
                scan.lines.push(line_no);
                previous = line_no;
                line_index += 1;
                scan.real_text.push(c);
                scan.placeholder_text.push(c);
            }
            c => {
                scan.real_text.push(c);
                scan.placeholder_text.push(c);
            }
        }
    }
    scan.lines.push(marker.unwrap_or(previous + 1));
    Ok(scan)
}

/// The template line named by the last line marker in `text`.
fn line_marker(text: &str) -> Option<u32> {
    let start = text.rfind(LINE_OPEN)? + LINE_OPEN.len_utf8();
    let end = start + text[start..].find(LINE_CLOSE)?;
    text[start..end].parse().ok()
}

fn remap_lines(node: &mut RawNode, lines: &[u32]) {
    let index = (node.line.max(1) - 1) as usize;
    node.line = lines.get(index).copied().unwrap_or(node.line);
    match &mut node.kind {
        RawKind::Map(entries) => entries.iter_mut().for_each(|(_, v)| remap_lines(v, lines)),
        RawKind::Seq(items) => items.iter_mut().for_each(|v| remap_lines(v, lines)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::string_map as vars;

    fn entries(node: &RawNode) -> &[(String, RawNode)] {
        match &node.kind {
            RawKind::Map(e) => e,
            other => panic!("not a map: {other:?}"),
        }
    }

    #[test]
    fn renders_values_per_tenant_with_template_lines() {
        let text = "# common\nhost: \"{{tenant}}.{{region}}.example.com\"\nreplicas: {{n}}\nname: {{tenant}}-api\n";
        let node = render_layer(
            text,
            &vars(&[("tenant", "acme"), ("region", "eu1"), ("n", "3")]),
        )
        .unwrap()
        .unwrap();
        let e = entries(&node);
        assert_eq!(e[0].0, "host");
        assert_eq!(e[0].1.kind, RawKind::String("acme.eu1.example.com".into()));
        assert_eq!(e[0].1.line, 2);
        assert_eq!(e[1].1.kind, RawKind::Number(3.0));
        assert_eq!(e[2].1.kind, RawKind::String("acme-api".into()));
        assert_eq!(e[2].1.line, 4);
    }

    #[test]
    fn blocks_keep_template_line_numbers() {
        let text = "a: 1\n{{#if big}}\nbig: true\n{{/if}}\n{{#unless big}}\n{{/unless}}\nlast: {{tenant}}\n";
        let out = render_layer(text, &vars(&[("tenant", "t"), ("big", "")]))
            .unwrap()
            .unwrap();
        let e = entries(&out);
        assert_eq!(e.len(), 2, "{e:?}");
        assert_eq!((e[1].0.as_str(), e[1].1.line), ("last", 7));
        let out = render_layer(text, &vars(&[("tenant", "t"), ("big", "yes")]))
            .unwrap()
            .unwrap();
        let e = entries(&out);
        assert_eq!((e[1].0.as_str(), e[1].1.line), ("big", 3));
        assert_eq!((e[2].0.as_str(), e[2].1.line), ("last", 7));
    }

    #[test]
    fn unknown_variable_names_its_line() {
        let err =
            render_layer("a: 1\nb: \"{{ regoin }}\"\n", &vars(&[("region", "x")])).unwrap_err();
        assert_eq!(
            err,
            TemplateLayerError::UnknownVariable {
                line: 2,
                name: "regoin".into()
            }
        );
    }

    #[test]
    fn values_that_change_structure_are_refused() {
        let template = "a: 1\nhost: {{v}}.example.com\nz: 2\n";
        for hostile in [
            "x: y",
            "x # c",
            "[1, 2]",
            "x\ninjected: true",
            "{a: 1}",
            "*alias",
            "&anchor x",
        ] {
            let err = render_layer(template, &vars(&[("v", hostile)])).unwrap_err();
            assert!(
                matches!(err, TemplateLayerError::Structure { line: 2, .. }),
                "{hostile:?}: {err:?}"
            );
        }
        let quoted = "host: \"{{v}}\"\n";
        for hostile in ["a\" , b: \"c", "\\n", "x\"\ny: \"z"] {
            let err = render_layer(quoted, &vars(&[("v", hostile)])).unwrap_err();
            assert!(
                matches!(err, TemplateLayerError::Structure { line: 1, .. }),
                "{hostile:?}: {err:?}"
            );
        }
        // Characters that are harmless in their place stay allowed.
        let node = render_layer(quoted, &vars(&[("v", "a: b # c, [d]")]))
            .unwrap()
            .unwrap();
        assert_eq!(
            entries(&node)[0].1.kind,
            RawKind::String("a: b # c, [d]".into())
        );
    }

    #[test]
    fn keys_may_be_templated() {
        let node = render_layer("{{tenant}}-db: {a: 1}\n", &vars(&[("tenant", "acme")]))
            .unwrap()
            .unwrap();
        assert_eq!(entries(&node)[0].0, "acme-db");
        let err = render_layer("k{{v}}: 1\n", &vars(&[("v", "x: y")])).unwrap_err();
        assert!(
            matches!(err, TemplateLayerError::Structure { .. }),
            "{err:?}"
        );
    }

    #[test]
    fn a_key_from_a_variable_must_read_as_exactly_its_text() {
        let node = render_layer("{{k}}: 1\nv: {{k}}\n", &vars(&[("k", "on-call")]))
            .unwrap()
            .unwrap();
        assert_eq!(entries(&node)[0].0, "on-call");
        // A value may be typed (`v: yes` is true), a key may not be retyped or decoded.
        for bad in ["yes", "\"q\"", "!!binary YQpi", "!!str q", "0x1F"] {
            let err = render_layer("{{k}}: 1\n", &vars(&[("k", bad)])).unwrap_err();
            assert!(
                matches!(err, TemplateLayerError::Structure { .. }),
                "{bad:?}: {err:?}"
            );
        }
    }

    #[test]
    fn unescaped_output_and_reserved_text_are_refused() {
        for text in ["a: {{{x}}}\n", "a: {{&x}}\n", "a: strata0ins1x\n"] {
            let err = render_layer(text, &vars(&[("x", "1")])).unwrap_err();
            assert!(
                matches!(err, TemplateLayerError::Invalid { line: Some(1), .. }),
                "{text}: {err:?}"
            );
        }
    }

    #[test]
    fn a_template_syntax_error_names_its_line() {
        let err =
            render_layer("a: 1\nb: {{#if x}}{{/each}}\nc: 2\n", &vars(&[("x", "1")])).unwrap_err();
        assert!(
            matches!(err, TemplateLayerError::Invalid { line: Some(2), .. }),
            "{err:?}"
        );
    }
}
