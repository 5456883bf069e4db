//! Tenant selectors: the one way strata picks tenants by their variables, on the command line
//! (`--selector`, `--from`/`--to`) and in strata.yaml (`when` of pins and check rules, waves,
//! read by [`crate::config::When`]).
//!
//! The syntax follows Kubernetes label selectors, which reviewers already read fluently:
//! `env=prod`, `env!=prod`, `region in (den1,yul1)`, `region notin (yul1)`, joined by commas.
//! Terms on the same variable are alternatives (`tenant=acme,tenant=globex` selects both),
//! terms on different variables must all hold. Anything else is refused, never guessed: a
//! selector that silently matched nothing would make `diff` report "no changes".

use crate::context::Var;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectorError {
    #[error(
        "selector {text:?}: {message}; write NAME=VALUE, NAME!=VALUE, NAME in (A,B) or NAME notin (A,B), joined by commas"
    )]
    Syntax { text: String, message: String },
    #[error(
        "selector {selector:?} names variable {name:?}, which no tenant of {stack_file} has; variables: {known}"
    )]
    UnknownVariable {
        selector: String,
        name: String,
        stack_file: String,
        known: String,
    },
    #[error(
        "no tenant of {stack_file} matches the selector {selector}; pass --allow-empty if an empty selection is intended"
    )]
    Empty {
        selector: String,
        stack_file: String,
    },
    #[error(
        "{stack_file} has no tenant {where_}; pass --allow-empty if an empty selection is intended"
    )]
    NoTenants { stack_file: String, where_: String },
}

/// Which tenants a fleet command works on, and whether selecting none is acceptable.
///
/// An empty selection is an error unless `allow_empty`: a typo in a value (`env=prdo`) would
/// otherwise turn `diff` into "no changes" and `check` into a pass.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub selector: Option<Selector>,
    pub allow_empty: bool,
}

impl Selection {
    /// Every tenant, and none is an error.
    pub fn every() -> Selection {
        Selection::default()
    }

    pub fn of(selector: Option<Selector>) -> Selection {
        Selection {
            selector,
            allow_empty: false,
        }
    }

    pub fn matches(&self, vars: &BTreeMap<String, Var>) -> bool {
        self.selector.as_ref().is_none_or(|s| s.matches(vars))
    }

    pub fn matches_values(&self, vars: &BTreeMap<String, String>) -> bool {
        self.selector
            .as_ref()
            .is_none_or(|s| s.matches_values(vars))
    }

    pub fn could_match(&self, known: &BTreeMap<String, String>) -> bool {
        self.selector.as_ref().is_none_or(|s| s.could_match(known))
    }

    /// See [`Selector::check_known`].
    pub fn check_known(
        &self,
        known: &BTreeSet<String>,
        stack_file: &str,
    ) -> Result<(), SelectorError> {
        match &self.selector {
            Some(s) => s.check_known(known, stack_file),
            None => Ok(()),
        }
    }

    /// Refuses an empty selection unless allowed; `where_` says where tenants were looked for.
    pub fn check_found(
        &self,
        found: usize,
        stack_file: &str,
        where_: &str,
    ) -> Result<(), SelectorError> {
        if found > 0 || self.allow_empty {
            return Ok(());
        }
        Err(match &self.selector {
            Some(s) => SelectorError::Empty {
                selector: s.to_string(),
                stack_file: stack_file.to_owned(),
            },
            None => SelectorError::NoTenants {
                stack_file: stack_file.to_owned(),
                where_: where_.to_owned(),
            },
        })
    }
}

/// What one variable must satisfy: one of `any_of` (when given) and none of `none_of`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct KeyTerm {
    any_of: Option<BTreeSet<String>>,
    none_of: BTreeSet<String>,
}

impl KeyTerm {
    fn matches(&self, value: Option<&str>) -> bool {
        let allowed = match (&self.any_of, value) {
            (None, _) => true,
            (Some(set), Some(v)) => set.contains(v),
            (Some(_), None) => false,
        };
        // As in Kubernetes, `!=` and `notin` hold for a tenant without the variable.
        allowed && value.is_none_or(|v| !self.none_of.contains(v))
    }

    fn add(&mut self, other: KeyTerm) {
        if let Some(values) = other.any_of {
            self.any_of.get_or_insert_with(BTreeSet::new).extend(values);
        }
        self.none_of.extend(other.none_of);
    }
}

/// A parsed selector. The empty selector selects every tenant (a `when` that is absent).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selector {
    terms: BTreeMap<String, KeyTerm>,
}

impl Selector {
    /// Parses the text of one `--selector`; an empty text is an error, since a flag given
    /// without a condition is a mistake.
    pub fn parse(text: &str) -> Result<Selector, SelectorError> {
        let selector = Selector::parse_terms(text)?;
        if selector.is_empty() {
            return Err(syntax(text, "it names no variable"));
        }
        Ok(selector)
    }

    /// Like [`Selector::parse`], but an empty text is the empty selector.
    pub fn parse_terms(text: &str) -> Result<Selector, SelectorError> {
        let mut selector = Selector::default();
        for part in split_top_level(text).map_err(|m| syntax(text, &m))? {
            let (key, term) = parse_term(part).map_err(|m| syntax(text, &m))?;
            selector.terms.entry(key).or_default().add(term);
        }
        Ok(selector)
    }

    /// Every selector's conditions together, as if written in one, comma-joined: repeated
    /// `--selector` flags narrow by different variables and widen by the same one.
    pub fn all(selectors: impl IntoIterator<Item = Selector>) -> Option<Selector> {
        let mut out: Option<Selector> = None;
        for s in selectors {
            let merged = out.get_or_insert_with(Selector::default);
            for (key, term) in s.terms {
                merged.terms.entry(key).or_default().add(term);
            }
        }
        out
    }

    /// `env: prod` equalities, as `when` maps have always been written.
    pub fn from_equalities<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Selector {
        let mut selector = Selector::default();
        for (k, v) in pairs {
            selector
                .terms
                .entry(k.to_owned())
                .or_default()
                .add(KeyTerm {
                    any_of: Some([v.to_owned()].into()),
                    none_of: BTreeSet::new(),
                });
        }
        selector
    }

    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// How many variables it constrains: the more, the more specific (pins rank by it).
    pub fn len(&self) -> usize {
        self.terms.len()
    }

    /// The variables it names.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.terms.keys().map(String::as_str)
    }

    /// `Some` when every term is one `NAME=VALUE`: a selector a plain `when` map can hold.
    pub fn equalities(&self) -> Option<BTreeMap<String, String>> {
        self.terms
            .iter()
            .map(|(k, t)| match &t.any_of {
                Some(values) if values.len() == 1 && t.none_of.is_empty() => {
                    Some((k.clone(), values.iter().next()?.clone()))
                }
                _ => None,
            })
            .collect()
    }

    /// Whether a variable lookup satisfies every term.
    pub fn matches_with<'a>(&self, lookup: impl Fn(&str) -> Option<&'a str>) -> bool {
        self.terms.iter().all(|(k, t)| t.matches(lookup(k)))
    }

    pub fn matches(&self, vars: &BTreeMap<String, Var>) -> bool {
        self.matches_with(|k| vars.get(k).map(|v| v.value.as_str()))
    }

    pub fn matches_values(&self, vars: &BTreeMap<String, String>) -> bool {
        self.matches_with(|k| vars.get(k).map(String::as_str))
    }

    /// Whether a tenant of which only some variables are `known` (those its directory binds,
    /// when its tenant file is broken) could still match: none of them contradicts the
    /// selector. Fleet commands keep such a tenant, as a failure, rather than hide it.
    pub fn could_match(&self, known: &BTreeMap<String, String>) -> bool {
        self.terms
            .iter()
            .all(|(k, t)| !known.contains_key(k) || t.matches(known.get(k).map(String::as_str)))
    }

    /// Refuses a variable no tenant has: `envv=prod` would otherwise select nothing, silently.
    pub fn check_known(
        &self,
        known: &BTreeSet<String>,
        stack_file: &str,
    ) -> Result<(), SelectorError> {
        match self.keys().find(|k| !known.contains(*k)) {
            None => Ok(()),
            Some(name) => Err(SelectorError::UnknownVariable {
                selector: self.to_string(),
                name: name.to_owned(),
                stack_file: stack_file.to_owned(),
                known: known.iter().cloned().collect::<Vec<_>>().join(", "),
            }),
        }
    }
}

fn syntax(text: &str, message: &str) -> SelectorError {
    SelectorError::Syntax {
        text: text.to_owned(),
        message: message.to_owned(),
    }
}

/// Splits at the commas outside parentheses, trimming; refuses unbalanced parentheses and
/// empty terms (`a=1,,b=2`).
fn split_top_level(text: &str) -> Result<Vec<&str>, String> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0usize, 0usize);
    for (i, ch) in text.char_indices() {
        match ch {
            '(' => depth += 1,
            ')' => depth = depth.checked_sub(1).ok_or("a ')' closes nothing")?,
            ',' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if depth != 0 {
        return Err("a '(' is not closed".into());
    }
    parts.push(&text[start..]);
    let parts: Vec<&str> = parts.into_iter().map(str::trim).collect();
    if parts.iter().all(|p| p.is_empty()) {
        return Ok(Vec::new());
    }
    if parts.iter().any(|p| p.is_empty()) {
        return Err("it has an empty term between commas".into());
    }
    Ok(parts)
}

fn is_name(text: &str) -> bool {
    !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// A value as tenants' variables hold them: no separators, spaces or operators in it.
fn check_value(value: &str) -> Result<String, String> {
    let bad = |c: char| c.is_whitespace() || matches!(c, ',' | '(' | ')' | '=' | '!');
    if value.is_empty() {
        return Err("a value is empty".into());
    }
    if value.chars().any(bad) {
        return Err(format!(
            "value {value:?} holds a space, comma, parenthesis, '=' or '!'"
        ));
    }
    Ok(value.to_owned())
}

fn parse_term(part: &str) -> Result<(String, KeyTerm), String> {
    let key_of = |k: &str| -> Result<String, String> {
        let k = k.trim();
        if is_name(k) {
            Ok(k.to_owned())
        } else {
            Err(format!(
                "{k:?} is not a variable name (letters, digits, '_', '-', '.')"
            ))
        }
    };
    if let Some((k, v)) = part.split_once("!=") {
        let term = KeyTerm {
            any_of: None,
            none_of: [check_value(v.trim())?].into(),
        };
        return Ok((key_of(k)?, term));
    }
    if let Some((k, v)) = part.split_once('=') {
        let v = v.strip_prefix('=').unwrap_or(v);
        let term = KeyTerm {
            any_of: Some([check_value(v.trim())?].into()),
            none_of: BTreeSet::new(),
        };
        return Ok((key_of(k)?, term));
    }
    let words: Vec<&str> = part.splitn(2, char::is_whitespace).collect();
    let [key, rest] = words[..] else {
        return Err(format!("term {part:?} has no operator"));
    };
    let rest = rest.trim_start();
    let (negated, list) = if let Some(list) = rest.strip_prefix("notin") {
        (true, list)
    } else if let Some(list) = rest.strip_prefix("in") {
        (false, list)
    } else {
        return Err(format!("term {part:?} has no operator"));
    };
    let inner = list
        .trim()
        .strip_prefix('(')
        .and_then(|l| l.strip_suffix(')'))
        .ok_or_else(|| format!("term {part:?}: the values of in/notin go in parentheses"))?;
    let values = inner
        .split(',')
        .map(|v| check_value(v.trim()))
        .collect::<Result<BTreeSet<String>, String>>()?;
    let term = if negated {
        KeyTerm {
            any_of: None,
            none_of: values,
        }
    } else {
        KeyTerm {
            any_of: Some(values),
            none_of: BTreeSet::new(),
        }
    };
    Ok((key_of(key)?, term))
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |set: &BTreeSet<String>| set.iter().cloned().collect::<Vec<_>>().join(",");
        let mut parts = Vec::new();
        for (k, t) in &self.terms {
            match &t.any_of {
                Some(set) if set.len() == 1 => parts.push(format!("{k}={}", list(set))),
                Some(set) => parts.push(format!("{k} in ({})", list(set))),
                None => {}
            }
            match t.none_of.len() {
                0 => {}
                1 => parts.push(format!("{k}!={}", list(&t.none_of))),
                _ => parts.push(format!("{k} notin ({})", list(&t.none_of))),
            }
        }
        f.write_str(&parts.join(","))
    }
}

impl std::str::FromStr for Selector {
    type Err = SelectorError;
    fn from_str(text: &str) -> Result<Selector, SelectorError> {
        Selector::parse(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::string_map as vars;

    fn sel(text: &str) -> Selector {
        Selector::parse(text).unwrap()
    }

    #[test]
    fn equality_inequality_and_sets() {
        let prod = vars(&[("env", "prod"), ("region", "den1")]);
        let preprod = vars(&[("env", "preprod"), ("region", "yul1")]);
        assert!(sel("env=prod").matches_values(&prod));
        assert!(sel("env==prod").matches_values(&prod));
        assert!(!sel("env!=prod").matches_values(&prod));
        assert!(sel("env!=prod").matches_values(&preprod));
        assert!(sel("region in (den1, yul1)").matches_values(&preprod));
        assert!(!sel("region notin (yul1)").matches_values(&preprod));
        assert!(sel("env=prod,region=den1").matches_values(&prod));
        assert!(!sel("env=prod,region=yul1").matches_values(&prod));
    }

    #[test]
    fn the_same_variable_twice_is_an_alternative() {
        let s = sel("tenant=acme,tenant=globex");
        assert!(s.matches_values(&vars(&[("tenant", "acme")])));
        assert!(s.matches_values(&vars(&[("tenant", "globex")])));
        assert!(!s.matches_values(&vars(&[("tenant", "initech")])));
        assert_eq!(s.to_string(), "tenant in (acme,globex)");
        let merged = Selector::all([sel("tenant=acme"), sel("tenant=globex"), sel("env=prod")]);
        assert_eq!(
            merged.unwrap().to_string(),
            "env=prod,tenant in (acme,globex)"
        );
    }

    #[test]
    fn a_missing_variable_fails_equality_and_passes_inequality() {
        let none = vars(&[]);
        assert!(!sel("env=prod").matches_values(&none));
        assert!(sel("env!=prod").matches_values(&none));
    }

    #[test]
    fn unknown_syntax_is_refused() {
        for bad in [
            "env",
            "env prod",
            "env=",
            "=prod",
            "env=prod,,region=den1",
            "region in den1",
            "region in (den1",
            "region in (den1,)",
            "env=pr od",
            "env~=prod",
            "env>prod",
            "",
            " , ",
        ] {
            let err = Selector::parse(bad).unwrap_err();
            assert!(
                matches!(err, SelectorError::Syntax { .. }),
                "{bad:?}: {err:?}"
            );
        }
    }

    #[test]
    fn env_not_prod_is_not_a_variable_named_env_bang() {
        let s = sel("env!=prod");
        assert_eq!(s.keys().collect::<Vec<_>>(), ["env"]);
        assert_eq!(s.to_string(), "env!=prod");
    }

    #[test]
    fn unknown_variables_are_named() {
        let known: BTreeSet<String> = ["env".into(), "tenant".into()].into();
        assert!(sel("env=prod").check_known(&known, "strata.yaml").is_ok());
        let err = sel("envv=prod")
            .check_known(&known, "strata.yaml")
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "selector \"envv=prod\" names variable \"envv\", which no tenant of strata.yaml has; variables: env, tenant"
        );
    }

    #[test]
    fn could_match_only_judges_known_variables() {
        let s = sel("env=prod,tenant!=acme");
        assert!(s.could_match(&vars(&[("env", "prod")])));
        assert!(!s.could_match(&vars(&[("env", "preprod")])));
        assert!(!s.could_match(&vars(&[("tenant", "acme")])));
    }
}
