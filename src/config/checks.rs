//! `checks:` in strata.yaml: which policy rules `strata check` applies, and to which tenants.
//!
//! Every rule is written the same way, so one shape covers them all: `true` (every tenant),
//! `false` or absent (off), or a map with an optional `when` (a tenant selector, as in `pins`)
//! and the rule's own options:
//!
//! ```yaml
//! checks:
//!   rules:
//!     noLatestTag: true
//!     resourcesSet: {when: {env: prod}}
//!     requiredLabels: {labels: [app.kubernetes.io/name]}
//! ```

use super::When;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, de::value::MapAccessDeserializer};
use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

/// The `checks` section.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChecksSpec {
    #[serde(default)]
    pub rules: RulesSpec,
}

/// The built-in rules. Each is off unless strata.yaml turns it on, because a rule that fails
/// an existing fleet on upgrade would block every deployment.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RulesSpec {
    #[serde(default)]
    pub no_latest_tag: Rule<Toggle>,
    #[serde(default)]
    pub resources_set: Rule<ResourcesOptions>,
    #[serde(default)]
    pub no_literal_secrets: Rule<Toggle>,
    #[serde(default)]
    pub required_labels: Rule<LabelsOptions>,
    #[serde(default)]
    pub namespace_matches: Rule<Toggle>,
}

/// A rule's setting: off, or on with its options (which hold `when`).
#[derive(Debug, Clone, PartialEq)]
pub struct Rule<T>(pub Option<T>);

impl<T> Default for Rule<T> {
    fn default() -> Self {
        Rule(None)
    }
}

impl<T: RuleOptions> Rule<T> {
    /// The rule's options when it applies to a tenant with these variables.
    pub fn for_tenant(&self, vars: &BTreeMap<String, String>) -> Option<&T> {
        self.0
            .as_ref()
            .filter(|options| options.when().matches_values(vars))
    }
}

/// What every rule's options provide: the tenant filter, and what `true` means.
pub trait RuleOptions: Sized {
    fn when(&self) -> &When;
    /// The options for `rule: true`, or why the rule needs a map.
    fn from_true() -> Result<Self, &'static str>;
}

/// Options of a rule that has none besides `when`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Toggle {
    #[serde(default)]
    pub when: When,
}

impl RuleOptions for Toggle {
    fn when(&self) -> &When {
        &self.when
    }
    fn from_true() -> Result<Self, &'static str> {
        Ok(Toggle::default())
    }
}

/// `resourcesSet`: which of the four settings every container must have. All four by default;
/// `require` narrows it for fleets that deliberately run without CPU limits.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResourcesOptions {
    #[serde(default)]
    pub when: When,
    #[serde(default = "ResourceSetting::all")]
    pub require: Vec<ResourceSetting>,
}

impl RuleOptions for ResourcesOptions {
    fn when(&self) -> &When {
        &self.when
    }
    fn from_true() -> Result<Self, &'static str> {
        Ok(ResourcesOptions {
            when: When::default(),
            require: ResourceSetting::all(),
        })
    }
}

/// One of `requests.cpu`, `requests.memory`, `limits.cpu`, `limits.memory`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum ResourceSetting {
    #[serde(rename = "requests.cpu")]
    RequestsCpu,
    #[serde(rename = "requests.memory")]
    RequestsMemory,
    #[serde(rename = "limits.cpu")]
    LimitsCpu,
    #[serde(rename = "limits.memory")]
    LimitsMemory,
}

impl ResourceSetting {
    pub fn all() -> Vec<ResourceSetting> {
        vec![
            ResourceSetting::RequestsCpu,
            ResourceSetting::RequestsMemory,
            ResourceSetting::LimitsCpu,
            ResourceSetting::LimitsMemory,
        ]
    }

    /// `(requests|limits, cpu|memory)`: where the setting lives in a container's `resources`.
    pub fn path(self) -> (&'static str, &'static str) {
        match self {
            ResourceSetting::RequestsCpu => ("requests", "cpu"),
            ResourceSetting::RequestsMemory => ("requests", "memory"),
            ResourceSetting::LimitsCpu => ("limits", "cpu"),
            ResourceSetting::LimitsMemory => ("limits", "memory"),
        }
    }
}

/// `requiredLabels`: the label keys every object must carry.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LabelsOptions {
    #[serde(default)]
    pub when: When,
    pub labels: Vec<String>,
}

impl RuleOptions for LabelsOptions {
    fn when(&self) -> &When {
        &self.when
    }
    fn from_true() -> Result<Self, &'static str> {
        Err(
            "requiredLabels needs the labels to require: `requiredLabels: {labels: [app.kubernetes.io/name]}`",
        )
    }
}

impl<'de, T: RuleOptions + Deserialize<'de>> Deserialize<'de> for Rule<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: RuleOptions + Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Rule<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("true, false, or a map of the rule's options (`when`, …)")
            }
            fn visit_bool<E: de::Error>(self, on: bool) -> Result<Rule<T>, E> {
                if !on {
                    return Ok(Rule(None));
                }
                T::from_true().map(|t| Rule(Some(t))).map_err(E::custom)
            }
            fn visit_unit<E>(self) -> Result<Rule<T>, E> {
                Ok(Rule(None))
            }
            fn visit_none<E>(self) -> Result<Rule<T>, E> {
                Ok(Rule(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Rule<T>, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map)).map(|t| Rule(Some(t)))
            }
        }
        d.deserialize_any(V(PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<ChecksSpec, crate::yaml::YamlError> {
        crate::yaml::parse_config(text)
    }

    #[test]
    fn rules_are_booleans_or_option_maps() {
        let spec = parse(
            "rules:\n  noLatestTag: true\n  noLiteralSecrets: false\n  resourcesSet: {when: {env: prod}, require: [requests.memory]}\n  requiredLabels: {labels: [a]}\n",
        )
        .unwrap();
        let prod: BTreeMap<String, String> = [("env".into(), "prod".into())].into();
        let dev: BTreeMap<String, String> = [("env".into(), "dev".into())].into();
        assert!(spec.rules.no_latest_tag.for_tenant(&dev).is_some());
        assert!(spec.rules.no_literal_secrets.for_tenant(&prod).is_none());
        assert!(spec.rules.namespace_matches.for_tenant(&prod).is_none());
        let resources = spec.rules.resources_set.for_tenant(&prod).unwrap();
        assert_eq!(resources.require, [ResourceSetting::RequestsMemory]);
        assert!(spec.rules.resources_set.for_tenant(&dev).is_none());
        assert_eq!(
            spec.rules.required_labels.for_tenant(&dev).unwrap().labels,
            ["a"]
        );
    }

    #[test]
    fn mistakes_are_errors_with_lines() {
        let err = parse("rules:\n  requiredLabels: true\n").unwrap_err();
        assert!(err.to_string().contains("needs the labels"), "{err}");
        let err = parse("rules:\n  noLatestTag: {whenn: {env: prod}}\n").unwrap_err();
        assert!(err.to_string().contains("whenn"), "{err}");
        assert_eq!(err.line, Some(2));
        assert!(parse("rules:\n  noSuchRule: true\n").is_err());
        assert!(parse("rules:\n  resourcesSet: {require: [cpu]}\n").is_err());
    }

    #[test]
    fn the_published_json_schema_agrees() {
        let schema: serde_json::Value =
            serde_json::from_str(include_str!("../../docs/strata.schema.json")).unwrap();
        let validator = jsonschema::validator_for(&schema).unwrap();
        let stack = |checks: serde_json::Value| {
            serde_json::json!({
                "apiVersion": "strata/v1", "kind": "Stack",
                "tenants": {"path": "t/{{tenant}}"},
                "components": [{"name": "app", "chart": {"path": "charts/app"}}],
                "checks": checks,
            })
        };
        let good = serde_json::json!({"rules": {
            "noLatestTag": true, "noLiteralSecrets": false, "namespaceMatches": {"when": {"env": "prod"}},
            "resourcesSet": {"require": ["limits.memory"]}, "requiredLabels": {"labels": ["a"]}}});
        assert!(validator.is_valid(&stack(good)));
        for bad in [
            serde_json::json!({"rules": {"requiredLabels": true}}),
            serde_json::json!({"rules": {"noSuchRule": true}}),
            serde_json::json!({"rules": {"noLatestTag": {"whenn": {}}}}),
        ] {
            assert!(!validator.is_valid(&stack(bad.clone())), "{bad}");
        }
    }
}
