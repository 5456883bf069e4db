//! `when` in strata.yaml: which tenants a pin, check rule, wave or guard applies to, read
//! into the one [`Selector`] type that also matches `--selector` on the command line.

use super::VarValue;
use crate::selector::Selector;
use serde::Deserialize;
use std::collections::BTreeMap;

/// `when` in strata.yaml: a map of variables (`{env: prod, region: [den1, yul1]}`, a list
/// being alternatives) or a selector string (`"env=prod,region!=yul1"`); absent selects every
/// tenant.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct When(pub Selector);

impl std::ops::Deref for When {
    type Target = Selector;
    fn deref(&self) -> &Selector {
        &self.0
    }
}

impl<'de> Deserialize<'de> for When {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum OneOrMany {
            One(VarValue),
            Many(Vec<VarValue>),
        }
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Text(String),
            Map(BTreeMap<String, OneOrMany>),
        }
        let selector = match Raw::deserialize(d)? {
            Raw::Text(text) => Selector::parse_terms(&text).map_err(serde::de::Error::custom)?,
            Raw::Map(map) => {
                let mut text = Vec::new();
                for (k, v) in map {
                    let values = match v {
                        OneOrMany::One(v) => vec![v.0],
                        OneOrMany::Many(list) => list.into_iter().map(|v| v.0).collect(),
                    };
                    if values.is_empty() {
                        return Err(serde::de::Error::custom(format!(
                            "when.{k} is an empty list: it would select no tenant"
                        )));
                    }
                    for v in values {
                        text.push(format!("{k}={v}"));
                    }
                }
                Selector::parse_terms(&text.join(",")).map_err(serde::de::Error::custom)?
            }
        };
        Ok(When(selector))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn when_reads_maps_lists_and_strings() {
        let when: When = crate::yaml::parse_config("{env: prod, region: [den1, yul1]}").unwrap();
        assert_eq!(when.to_string(), "env=prod,region in (den1,yul1)");
        let when: When = crate::yaml::parse_config("\"env!=prod\"").unwrap();
        assert_eq!(when.to_string(), "env!=prod");
        let when: When = crate::yaml::parse_config("{replicas: 3}").unwrap();
        assert_eq!(when.equalities().unwrap()["replicas"], "3");
        assert!(crate::yaml::parse_config::<When>("\"env=\"").is_err());
    }
}
