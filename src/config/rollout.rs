//! `rollout` in strata.yaml: the waves a change rolls out in and the guards `strata check
//! --base` enforces, as typed data and the checks the stack alone allows. What the waves do
//! (assigning tenants, status, promotion) is [`crate::rollout`]'s.

use super::When;
use serde::Deserialize;
use serde_saphyr::Spanned;

/// The variable that holds a tenant's wave.
pub const WAVE_VAR: &str = "wave";

/// `rollout` in strata.yaml.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RolloutSpec {
    /// In rollout order.
    #[serde(default)]
    pub waves: Vec<WaveSpec>,
    /// Limits `strata check --base` enforces on a change, each for the tenants its `when`
    /// selects (say, stricter for prod).
    #[serde(default)]
    pub guards: Vec<GuardSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WaveSpec {
    pub name: Spanned<String>,
    /// The wave's tenants; a tenant must match exactly one wave.
    #[serde(default)]
    pub when: When,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GuardSpec {
    /// The tenants the guard counts; every tenant when absent.
    #[serde(default)]
    pub when: When,
    /// A change may restart pods in at most this many of those tenants.
    #[serde(default)]
    pub max_tenants: Option<usize>,
    /// A change may restart pods in at most this many waves.
    #[serde(default)]
    pub max_waves: Option<usize>,
    /// A chart version may run in a wave only if every earlier wave runs it (or a newer one).
    #[serde(default)]
    pub canaries_first: bool,
}

/// Checks what the stack alone can tell: wave names, and that no `when` reads `wave` itself.
pub fn check_spec(spec: &RolloutSpec) -> Result<(), (u64, String)> {
    let mut seen = std::collections::BTreeSet::new();
    for wave in &spec.waves {
        let name = &wave.name.value;
        let line = wave.name.referenced.line();
        let valid = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !valid {
            return Err((
                line,
                format!("wave name {name:?} must be lower-case letters, digits and '-'"),
            ));
        }
        if !seen.insert(name.clone()) {
            return Err((line, format!("wave name {name:?} is used twice")));
        }
        if wave.when.keys().any(|k| k == WAVE_VAR) {
            return Err((
                line,
                format!(
                    "wave {name:?}: `when` cannot use the variable `wave`, which the waves define"
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(text: &str) -> RolloutSpec {
        crate::yaml::parse_config(text).unwrap()
    }

    #[test]
    fn wave_names_are_checked_and_waves_cannot_read_wave() {
        let ok = spec(
            "waves:\n  - name: canary\n    when: {env: preprod}\n  - name: prod\n    when: \"env!=preprod\"\n",
        );
        assert!(check_spec(&ok).is_ok());
        let twice = spec("waves:\n  - name: a\n  - name: a\n");
        assert_eq!(
            check_spec(&twice).unwrap_err().1,
            "wave name \"a\" is used twice"
        );
        let upper = spec("waves:\n  - name: Canary\n");
        assert!(check_spec(&upper).unwrap_err().1.contains("lower-case"));
        let reads = spec("waves:\n  - name: a\n    when: {wave: b}\n");
        assert!(
            check_spec(&reads)
                .unwrap_err()
                .1
                .contains("cannot use the variable `wave`")
        );
    }

    #[test]
    fn the_published_json_schema_knows_rollout() {
        let schema: serde_json::Value =
            serde_json::from_str(include_str!("../../docs/strata.schema.json")).unwrap();
        let validator = jsonschema::validator_for(&schema).unwrap();
        let stack = |rollout: serde_json::Value| {
            serde_json::json!({
                "apiVersion": "strata/v1", "kind": "Stack",
                "tenants": {"path": "t/{{tenant}}"},
                "components": [{"name": "app", "chart": {"path": "charts/app"}}],
                "pins": [{"when": "env!=prod", "version": "1.0.0"},
                         {"when": {"region": ["den1", "yul1"]}, "version": "1.0.0"}],
                "rollout": rollout,
            })
        };
        let good = serde_json::json!({
            "waves": [{"name": "canary", "when": "tenant in (acme)"}, {"name": "rest", "when": {"env": "prod"}}],
            "guards": [{"maxWaves": 1}, {"when": {"env": "prod"}, "maxTenants": 3, "canariesFirst": true}]});
        assert!(validator.is_valid(&stack(good)));
        for bad in [
            serde_json::json!({"waves": [{"when": {}}]}),
            serde_json::json!({"guards": [{"maxTenant": 1}]}),
        ] {
            assert!(!validator.is_valid(&stack(bad.clone())), "{bad}");
        }
    }
}
