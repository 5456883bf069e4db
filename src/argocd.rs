//! Reads the environment Argo CD's cmp-server gives plugin commands (argocd-cmp.md §3–4).

use crate::context::{
    Context, ParameterValues, VALUES_PARAM, VALUES_YAML_PARAM, Var, VarSource, non_empty,
    split_api_versions,
};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

const ENV_PREFIX: &str = "ARGOCD_ENV_";

#[derive(Debug, Deserialize)]
struct Parameter {
    name: String,
    #[serde(default)]
    string: Option<String>,
    #[serde(default)]
    array: Option<Vec<String>>,
    #[serde(default)]
    map: Option<BTreeMap<String, String>>,
}

/// Prefixes of the environment variables a plugin command reads.
const READ_PREFIXES: &[&str] = &["ARGOCD_", "KUBE_", "STRATA_"];

/// The process environment as text, for [`context_from_env`]. A variable strata reads
/// (`ARGOCD_*`, `KUBE_*`, `STRATA_*`) that is not UTF-8 is an error naming it: skipping it would
/// silently drop a parameter, a variable or a setting. Other variables are not strata's
/// business and are left out.
pub fn env_from(
    vars: impl IntoIterator<Item = (std::ffi::OsString, std::ffi::OsString)>,
) -> Result<BTreeMap<String, String>, crate::Error> {
    use std::os::unix::ffi::OsStrExt;
    let mut env = BTreeMap::new();
    for (key, value) in vars {
        let ours = READ_PREFIXES
            .iter()
            .any(|p| key.as_bytes().starts_with(p.as_bytes()));
        match (key.into_string(), value.into_string()) {
            (Ok(key), Ok(value)) => {
                env.insert(key, value);
            }
            (Ok(key), Err(_)) if ours => {
                return Err(crate::Error::Input(format!(
                    "environment variable {} is not valid UTF-8; Argo CD passes parameters and plugin env as UTF-8 text, so fix what sets it",
                    crate::quote::quote(&key)
                )));
            }
            (Err(key), _) if ours => {
                return Err(crate::Error::Input(format!(
                    "the name of environment variable {} is not valid UTF-8",
                    crate::quote::quote_bytes(key.as_bytes())
                )));
            }
            _ => {}
        }
    }
    Ok(env)
}

/// Builds the context of a plugin command from its environment and working directory.
pub fn context_from_env(
    cwd: PathBuf,
    env: &BTreeMap<String, String>,
) -> Result<Context, crate::Error> {
    let get = |name: &str| non_empty(env.get(name).cloned());
    let mut ctx = Context {
        start_dir: cwd,
        source_path: env.get("ARGOCD_APP_SOURCE_PATH").cloned(),
        app_name: get("ARGOCD_APP_NAME"),
        app_namespace: get("ARGOCD_APP_NAMESPACE"),
        kube_version: get("KUBE_VERSION"),
        api_versions: get("KUBE_API_VERSIONS")
            .map(|l| split_api_versions(&l))
            .unwrap_or_default(),
        timeout: timeout_from_env(env)?,
        helm: crate::context::configured_binary(get),
        renderer: crate::context::configured_renderer(|name| env.get(name).cloned())
            .map_err(crate::Error::Input)?,
        no_cache: no_cache_requested(env.get("STRATA_NO_CACHE").map(String::as_str)),
        ..Context::default()
    };
    // BTreeMap order makes the result independent of the process environment's order.
    for (key, value) in env {
        if let Some(name) = key.strip_prefix(ENV_PREFIX)
            && !name.is_empty()
        {
            ctx.vars.push((
                name.to_lowercase(),
                Var {
                    value: value.clone(),
                    source: VarSource::ArgoEnv(key.clone()),
                },
            ));
        }
    }
    if let Some(json) = env.get("ARGOCD_APP_PARAMETERS") {
        apply_parameters(&mut ctx, json)?;
    }
    Ok(ctx)
}

/// Whether a `STRATA_NO_CACHE` value turns the render cache off: any value but a blank or a
/// false word (`0`, `false`, `no`, `off`, `n`, `f`, any case). Shared by `generate` and
/// `render`, so both read the variable alike.
pub fn no_cache_requested(value: Option<&str>) -> bool {
    value.map(str::trim).is_some_and(|v| {
        !v.is_empty()
            && !["0", "false", "no", "off", "n", "f"]
                .iter()
                .any(|f| v.eq_ignore_ascii_case(f))
    })
}

/// `STRATA_TIMEOUT` in seconds, shared by the plugin and the terminal commands.
pub fn timeout_from_env(env: &BTreeMap<String, String>) -> Result<Option<Duration>, crate::Error> {
    match non_empty(env.get("STRATA_TIMEOUT").cloned()) {
        None => Ok(None),
        Some(text) => match text.trim().parse::<u64>() {
            Ok(secs) if secs > 0 => Ok(Some(Duration::from_secs(secs))),
            _ => Err(crate::Error::Input(format!(
                "STRATA_TIMEOUT={} is not a whole number of seconds above 0",
                crate::quote::quote(&text)
            ))),
        },
    }
}

/// Applies `ARGOCD_APP_PARAMETERS` (a JSON array, or `null` when the source has none).
fn apply_parameters(ctx: &mut Context, json: &str) -> Result<(), crate::Error> {
    if json.trim().is_empty() || json.trim() == "null" {
        return Ok(());
    }
    let params: Vec<Parameter> = serde_json::from_str(json).map_err(|e| {
        crate::Error::Input(format!(
            "ARGOCD_APP_PARAMETERS is not the JSON array Argo CD sends: {e}"
        ))
    })?;
    let mut values = ParameterValues::default();
    for p in params {
        match p.name.as_str() {
            VALUES_PARAM => match (p.map, p.string) {
                (Some(map), _) => values.map = Some(map),
                (None, Some(s)) if s.trim().is_empty() => {}
                _ => {
                    return Err(crate::Error::Input(format!(
                        "Argo CD parameter {VALUES_PARAM:?} must be a map of dotted keys (e.g. image.tag) to values; use {VALUES_YAML_PARAM:?} for a YAML document"
                    )));
                }
            },
            VALUES_YAML_PARAM => {
                values.yaml = p.string.filter(|s| !s.trim().is_empty());
            }
            name => {
                if let Some(value) = p.string {
                    ctx.vars.push((
                        name.to_owned(),
                        Var {
                            value,
                            source: VarSource::Parameter(name.to_owned()),
                        },
                    ));
                } else if p.array.is_some() || p.map.is_some() {
                    tracing::warn!(
                        "Argo CD parameter {} is an array or map; only string parameters become variables, so it is ignored",
                        crate::quote::quote(name)
                    );
                }
            }
        }
    }
    ctx.parameter_values = values;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::release_name_from_app;
    use crate::context::string_map as env;

    #[test]
    fn reads_env_vars_parameters_and_values() {
        let e = env(&[
            ("ARGOCD_ENV_REGION", "yul1"),
            ("ARGOCD_APP_NAME", "team_acme"),
            ("KUBE_API_VERSIONS", "v1,apps/v1,apps/v1/Deployment"),
            ("KUBE_VERSION", ""),
            (
                "ARGOCD_APP_PARAMETERS",
                r#"[{"name":"tenant","string":"acme"},{"map":{"image.tag":"v2"},"name":"values"},{"name":"valuesYaml","string":"a: 1"}]"#,
            ),
        ]);
        let ctx = context_from_env(PathBuf::from("/x"), &e).unwrap();
        assert_eq!(ctx.vars[0].0, "region");
        assert_eq!(ctx.vars[1].0, "tenant");
        assert_eq!(ctx.vars[1].1.source, VarSource::Parameter("tenant".into()));
        assert_eq!(ctx.api_versions.len(), 3);
        assert_eq!(ctx.kube_version, None);
        assert_eq!(ctx.parameter_values.map.unwrap()["image.tag"], "v2");
        assert_eq!(ctx.parameter_values.yaml.as_deref(), Some("a: 1"));
        assert_eq!(
            release_name_from_app(ctx.app_name.as_deref().unwrap()),
            "acme"
        );
    }

    #[test]
    fn no_cache_takes_true_and_false_words() {
        for (value, on) in [("1", true), ("true", true), ("yes", true), ("0", false)] {
            assert_eq!(no_cache_requested(Some(value)), on, "{value}");
        }
        assert!(!no_cache_requested(Some(" False ")));
        assert!(!no_cache_requested(Some("")));
        assert!(!no_cache_requested(None));
        let ctx = context_from_env(PathBuf::new(), &env(&[("STRATA_NO_CACHE", "1")])).unwrap();
        assert!(ctx.no_cache);
    }

    #[test]
    fn a_variable_strata_reads_must_be_utf8() {
        use std::ffi::OsString;
        use std::os::unix::ffi::OsStringExt;
        let bad = || OsString::from_vec(vec![b'a', 0xff, b'b']);
        for name in ["ARGOCD_APP_PARAMETERS", "ARGOCD_ENV_REGION", "KUBE_VERSION"] {
            let err = env_from([(OsString::from(name), bad())])
                .unwrap_err()
                .to_string();
            assert!(err.contains(name) && err.contains("UTF-8"), "{err}");
        }
        let env = env_from([
            (OsString::from("OTHER"), bad()),
            (OsString::from("ARGOCD_APP_NAME"), OsString::from("acme")),
        ])
        .unwrap();
        assert_eq!(env.len(), 1);
    }

    #[test]
    fn null_parameters_are_none_and_garbage_is_an_error() {
        let ctx =
            context_from_env(PathBuf::new(), &env(&[("ARGOCD_APP_PARAMETERS", "null")])).unwrap();
        assert!(ctx.vars.is_empty());
        assert!(context_from_env(PathBuf::new(), &env(&[("ARGOCD_APP_PARAMETERS", "{")])).is_err());
    }
}
