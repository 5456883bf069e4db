//! Handlebars over the tenant's variables, strict and without HTML escaping.
//!
//! Used for layer paths, release names and namespaces. Strict mode turns a typo in a variable
//! name into an error instead of an empty path segment.

use handlebars::Handlebars;
use std::collections::BTreeMap;

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("template {template:?} uses variable `{name}`, which is not set for this tenant (set it in strata.yaml `vars`, the tenant file, ARGOCD_ENV_{upper}, a plugin parameter or --var {name}=…)", upper = name.to_uppercase())]
    UnknownVariable { template: String, name: String },
    #[error("template {template:?} is invalid: {message}")]
    Invalid { template: String, message: String },
}

/// Renders templates; holds the configured engine so it is built once per run.
pub struct Templater {
    engine: Handlebars<'static>,
}

impl Default for Templater {
    fn default() -> Self {
        let mut engine = Handlebars::new();
        engine.set_strict_mode(true);
        engine.register_escape_fn(handlebars::no_escape);
        Templater { engine }
    }
}

impl Templater {
    pub fn render(
        &self,
        template: &str,
        vars: &BTreeMap<String, String>,
    ) -> Result<String, TemplateError> {
        if !template.contains("{{") {
            return Ok(template.to_owned());
        }
        if let Some(name) = referenced_variables(template)
            .into_iter()
            .find(|n| !vars.contains_key(n))
        {
            return Err(TemplateError::UnknownVariable {
                template: template.to_owned(),
                name,
            });
        }
        self.engine
            .render_template(template, vars)
            .map_err(|e| TemplateError::Invalid {
                template: template.to_owned(),
                message: e.to_string(),
            })
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

    fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

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
