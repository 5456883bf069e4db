//! What one invocation brings from outside the repository: where it starts, variables,
//! parameter layers and cluster facts, whether they came from Argo CD or a terminal.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// Where a variable's value came from, lowest precedence first.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum VarSource {
    Stack(String),
    TenantPath(String),
    TenantFile(String),
    ArgoEnv(String),
    Parameter(String),
    Cli,
}

impl fmt::Display for VarSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VarSource::Stack(file) => write!(f, "{file} vars"),
            VarSource::TenantPath(pattern) => {
                write!(f, "tenant directory (tenants.path {pattern:?})")
            }
            VarSource::TenantFile(file) => write!(f, "{file} vars"),
            VarSource::ArgoEnv(name) => {
                write!(
                    f,
                    "Argo CD env {}",
                    crate::quote::bounded(name, crate::quote::QUOTE_MAX)
                )
            }
            VarSource::Parameter(name) => {
                write!(f, "Argo CD parameter {}", crate::quote::quote(name))
            }
            VarSource::Cli => f.write_str("--var"),
        }
    }
}

/// A variable value with its source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Var {
    pub value: String,
    pub source: VarSource,
}

/// Parameter names with a meaning of their own; every other string parameter is a variable.
pub const VALUES_PARAM: &str = "values";
pub const VALUES_YAML_PARAM: &str = "valuesYaml";

/// Values given as Argo CD parameters; both sit above every file layer.
#[derive(Debug, Clone, Default)]
pub struct ParameterValues {
    /// The `valuesYaml` parameter: one YAML document.
    pub yaml: Option<String>,
    /// The `values` parameter: dotted keys → strings.
    pub map: Option<BTreeMap<String, String>>,
}

/// Everything an invocation knows before reading the stack.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// The tenant directory (Argo CD's app path) or the stack root.
    pub start_dir: PathBuf,
    /// `ARGOCD_APP_SOURCE_PATH`, used to find the root of the extracted repository.
    pub source_path: Option<String>,
    /// Variables from outside the repository, lowest precedence first.
    pub vars: Vec<(String, Var)>,
    pub parameter_values: ParameterValues,
    /// `ARGOCD_APP_NAME` (possibly `<namespace>_<name>`).
    pub app_name: Option<String>,
    /// `ARGOCD_APP_NAMESPACE`: the Application's destination namespace.
    pub app_namespace: Option<String>,
    pub kube_version: Option<String>,
    pub api_versions: Vec<String>,
    pub timeout: Option<Duration>,
    /// `STRATA_HELM`: an explicit helm binary.
    pub helm: Option<PathBuf>,
    /// `STRATA_RENDERER`: what renders every chart, above strata.yaml's `renderer`.
    pub renderer: Option<RendererKind>,
    /// Resolve chart versions live instead of from strata.lock.
    pub refresh: bool,
    /// Use only the chart cache; any network request is an error.
    pub offline: bool,
    /// Render with helm even when the render cache holds this render, and store nothing
    /// (`--no-cache`, `STRATA_NO_CACHE`): for suspecting the cache, or timing helm.
    pub no_cache: bool,
}

/// Parses `k=v` as given to `--var`.
pub fn parse_var_arg(arg: &str) -> Result<(String, String), String> {
    match arg.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_owned(), v.to_owned())),
        _ => Err(format!(
            "expected NAME=VALUE, got {}",
            crate::quote::quote(arg)
        )),
    }
}

/// Treats an unset and an empty variable alike, as Argo CD's history requires.
pub fn non_empty(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.trim().is_empty())
}

/// Splits a comma-separated API versions list, dropping blanks.
pub fn split_api_versions(list: &str) -> Vec<String> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The release name Argo CD's own Helm support would use: the app name without `<ns>_`.
pub fn release_name_from_app(app_name: &str) -> &str {
    app_name.split_once('_').map_or(app_name, |(_, name)| name)
}

/// The environment variable naming an explicit helm binary.
pub const HELM_ENV: &str = "STRATA_HELM";

/// The helm binary an environment names, if any: `lookup` reads one variable (the process
/// environment for terminal commands, the plugin's environment in Argo CD). Empty means unset.
pub fn configured_binary(lookup: impl Fn(&str) -> Option<String>) -> Option<PathBuf> {
    lookup(HELM_ENV)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// What renders a chart: the `helm` binary, strata's in-process renderer, or the in-process
/// renderer where it can render the chart and helm elsewhere. helm is the default because it
/// is the reference every other renderer is measured against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RendererKind {
    Helm,
    Native,
    Auto,
}

impl RendererKind {
    pub fn name(self) -> &'static str {
        match self {
            RendererKind::Helm => "helm",
            RendererKind::Native => "native",
            RendererKind::Auto => "auto",
        }
    }
}

impl std::str::FromStr for RendererKind {
    type Err = String;

    /// The text of `STRATA_RENDERER` (any case, surrounding blanks ignored).
    fn from_str(text: &str) -> Result<RendererKind, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "helm" => Ok(RendererKind::Helm),
            "native" => Ok(RendererKind::Native),
            "auto" => Ok(RendererKind::Auto),
            _ => Err(format!(
                "unknown renderer {}: expected helm, native or auto",
                crate::quote::quote(text)
            )),
        }
    }
}

/// The environment variable choosing the renderer of every chart (helm, native or auto).
pub const RENDERER_ENV: &str = "STRATA_RENDERER";

/// The renderer an environment asks for, if any; empty means unset, anything but helm, native
/// or auto is an error naming the variable.
pub fn configured_renderer(
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<Option<RendererKind>, String> {
    match lookup(RENDERER_ENV).filter(|v| !v.trim().is_empty()) {
        None => Ok(None),
        Some(text) => text
            .parse()
            .map(Some)
            .map_err(|e| format!("{RENDERER_ENV}: {e}")),
    }
}

/// A name → value map from literal pairs, the form in which tests write variables and
/// Argo CD environments.
#[cfg(test)]
pub(crate) fn string_map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_strata_helm_means_unset() {
        let env =
            |value: &'static str| move |name: &str| (name == HELM_ENV).then(|| value.to_owned());
        assert_eq!(configured_binary(env("")), None);
        assert_eq!(
            configured_binary(env("/opt/helm")),
            Some(PathBuf::from("/opt/helm"))
        );
        assert_eq!(configured_binary(|_| None), None);
    }

    #[test]
    fn strata_renderer_is_read_and_checked() {
        let env = |value: &'static str| {
            move |name: &str| (name == RENDERER_ENV).then(|| value.to_owned())
        };
        assert_eq!(configured_renderer(env(" ")), Ok(None));
        assert_eq!(
            configured_renderer(env("AUTO")),
            Ok(Some(RendererKind::Auto))
        );
        let err = configured_renderer(env("go")).unwrap_err();
        assert!(
            err.starts_with("STRATA_RENDERER: unknown renderer"),
            "{err}"
        );
    }
}
