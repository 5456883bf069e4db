//! `strata.yaml` (the stack) and the optional per-tenant file, as typed data.
//!
//! The reference with examples is docs/config.md; docs/strata.schema.json is the JSON Schema.

pub mod checks;
pub mod clusters;
pub mod rollout;
pub mod when;

pub use clusters::{ClusterEntry, ClustersSpec, ServerEntry};
pub use when::When;

pub use crate::context::RendererKind;
use crate::yaml::{self, YamlError};
use serde::Deserialize;
use serde_saphyr::Spanned;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub const STACK_FILE: &str = "strata.yaml";
const API_VERSION: &str = "strata/v1";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "no {STACK_FILE} found in {start} or any parent directory up to {limit}; run strata from a tenant directory of a stack, or pass the tenant directory"
    )]
    NotFound { start: String, limit: String },
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}:{}", display_yaml_error(.error))]
    Syntax { path: String, error: YamlError },
    #[error("{path}:{line}: {message}")]
    Invalid {
        path: String,
        line: u64,
        message: String,
    },
}

fn display_yaml_error(e: &YamlError) -> String {
    match e.line {
        Some(l) => format!("{l}: {}", e.message),
        None => format!(" {}", e.message),
    }
}

/// A value in a `vars` map. Written as any YAML scalar, used as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VarValue(pub String);

impl<'de> Deserialize<'de> for VarValue {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = VarValue;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string, number or boolean")
            }
            fn visit_str<E>(self, v: &str) -> Result<VarValue, E> {
                Ok(VarValue(v.to_owned()))
            }
            fn visit_bool<E>(self, v: bool) -> Result<VarValue, E> {
                Ok(VarValue(v.to_string()))
            }
            fn visit_i64<E>(self, v: i64) -> Result<VarValue, E> {
                Ok(VarValue(v.to_string()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<VarValue, E> {
                Ok(VarValue(v.to_string()))
            }
            fn visit_f64<E>(self, v: f64) -> Result<VarValue, E> {
                Ok(VarValue(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// The contents of `strata.yaml`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StackSpec {
    pub api_version: Spanned<String>,
    pub kind: Spanned<String>,
    /// Defaults for every tenant, the lowest variables.
    #[serde(default)]
    pub vars: BTreeMap<String, VarValue>,
    pub tenants: TenantsSpec,
    pub components: Spanned<Vec<ComponentSpec>>,
    /// An empty render makes Argo CD prune the whole application, so it is an error by default.
    #[serde(default)]
    pub allow_empty: bool,
    /// Seconds the whole render may take; Argo CD gives the whole request 60 s by default.
    #[serde(default)]
    pub timeout_seconds: Option<u64>,
    /// Chart version pins selected by tenant variables.
    #[serde(default)]
    pub pins: Vec<PinSpec>,
    /// Which Argo CD destination cluster each tenant goes to, for `strata appset`.
    #[serde(default)]
    pub clusters: Option<ClustersSpec>,
    /// Label templates set on every rendered object of every component (off when empty, so
    /// the output stays helm's bytes).
    #[serde(default)]
    pub common_labels: MetadataTemplates,
    /// Annotation templates set on every rendered object of every component.
    #[serde(default)]
    pub common_annotations: MetadataTemplates,
    /// Policy rules for `strata check`, each on for the tenants its `when` selects.
    #[serde(default)]
    pub checks: checks::ChecksSpec,
    /// Waves to roll changes out in, and the limits `strata check --base` puts on a change.
    #[serde(default)]
    pub rollout: Option<rollout::RolloutSpec>,
    /// What renders the charts of every component that does not say (default: helm).
    #[serde(default)]
    pub renderer: Option<RendererKind>,
}

/// `commonLabels` / `commonAnnotations`: key → template over the tenant's variables plus
/// `chartName` and `chartVersion`. Written as any scalar, used as text.
pub type MetadataTemplates = BTreeMap<String, Spanned<VarValue>>;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TenantsSpec {
    /// Tenant directories relative to strata.yaml; each `{{var}}` segment binds a variable.
    pub path: Spanned<String>,
    /// Optional file in the tenant directory with the tenant's own `vars`.
    #[serde(default)]
    pub file: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ComponentSpec {
    pub name: Spanned<String>,
    /// Exactly one of `chart` and `manifests` is set (checked by [`Stack::load`]).
    #[serde(default)]
    pub chart: Option<ChartSpec>,
    /// A directory of plain Kubernetes YAML rendered without helm.
    #[serde(default)]
    pub manifests: Option<ManifestsSpec>,
    #[serde(default)]
    pub release_name: Option<String>,
    #[serde(default)]
    pub namespace: Option<String>,
    /// Argo CD passes `--include-crds` to helm unless told not to; so does strata.
    #[serde(default = "default_true")]
    pub include_crds: bool,
    #[serde(default)]
    pub skip_tests: bool,
    /// Layer path templates, lowest precedence first; a trailing `?` marks an optional layer.
    #[serde(default)]
    pub values: Vec<Spanned<String>>,
    /// Patch file path templates, applied in order to helm's output; `?` as for `values`.
    #[serde(default)]
    pub patches: Vec<Spanned<String>>,
    /// Added to the stack's `commonLabels`; a key set in both takes the component's template.
    #[serde(default)]
    pub common_labels: MetadataTemplates,
    #[serde(default)]
    pub common_annotations: MetadataTemplates,
    /// Argo CD's `argocd.argoproj.io/sync-wave` on every object, so that, for example, a
    /// database component is applied and healthy before the application that needs it.
    #[serde(default)]
    pub sync_wave: Option<i64>,
    /// What renders this component's chart; the stack's `renderer` when absent.
    #[serde(default)]
    pub renderer: Option<RendererKind>,
}

/// `manifests: {path: dir, template: true}`: every `*.yaml`/`*.yml` under `path`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ManifestsSpec {
    /// A directory relative to strata.yaml. Template.
    pub path: Spanned<String>,
    /// Render each file as a Handlebars template over the tenant's variables first. Off by
    /// default, because plain manifests often hold `{{` of their own (alert rules, Go templates).
    #[serde(default)]
    pub template: bool,
}

fn default_true() -> bool {
    true
}

/// Where a component's chart comes from: `path`, or `repository` + `name` (+ `version`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChartSpec {
    /// A chart directory or `.tgz`, relative to strata.yaml.
    #[serde(default)]
    pub path: Option<Spanned<String>>,
    /// `https://…` (a Helm repository with an index.yaml) or `oci://host/path` (a registry).
    #[serde(default)]
    pub repository: Option<Spanned<String>>,
    /// The chart's name in the repository.
    #[serde(default)]
    pub name: Option<String>,
    /// A semver constraint as Helm takes it (`1.2.3`, `~1.2`, `^1`, `>=1.2 <1.4`, `1.2.x`, `||`).
    #[serde(default)]
    pub version: Option<Spanned<String>>,
    /// Talk plain HTTP to an OCI registry (Helm's `--plain-http`); for local test registries.
    #[serde(default)]
    pub plain_http: bool,
}

/// A version pin selected by variables: `when: {env: prod}` (or a selector string) picks the
/// tenants. The pin whose `when` names the most variables wins.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PinSpec {
    #[serde(default)]
    pub when: When,
    /// Only this component; every component with a versioned chart when absent.
    #[serde(default)]
    pub component: Option<String>,
    pub version: Spanned<String>,
}

/// A tenant's own chart pin, in the tenant file: `chart: {web: {version: "1.4.3"}}`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TenantChartPin {
    pub version: Spanned<String>,
}

/// The optional per-tenant file (`tenants.file`).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TenantFileSpec {
    #[serde(default)]
    pub vars: BTreeMap<String, VarValue>,
    /// Per-component chart pins for this tenant alone; the most specific pin there is.
    #[serde(default)]
    pub chart: BTreeMap<String, TenantChartPin>,
}

/// A loaded and checked stack.
#[derive(Debug)]
pub struct Stack {
    /// The directory holding strata.yaml; relative paths in the config start here.
    pub dir: PathBuf,
    /// strata.yaml as shown in messages (repository-relative).
    pub file_name: String,
    pub spec: StackSpec,
}

/// Walks up from `start` to the nearest strata.yaml, never above `limit`.
pub fn find_stack_file(start: &Path, limit: &Path) -> Result<PathBuf, ConfigError> {
    for dir in start.ancestors() {
        let candidate = dir.join(STACK_FILE);
        if candidate.is_file() {
            return Ok(candidate);
        }
        if dir == limit {
            break;
        }
    }
    Err(ConfigError::NotFound {
        start: start.display().to_string(),
        limit: limit.display().to_string(),
    })
}

pub fn read_text(path: &Path, shown_as: &str) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: shown_as.to_owned(),
        source,
    })
}

impl Stack {
    /// Parses and checks strata.yaml. `shown_as` is the name used in messages.
    pub fn load(file: &Path, shown_as: String) -> Result<Stack, ConfigError> {
        let text = read_text(file, &shown_as)?;
        let spec: StackSpec = yaml::parse_config(&text).map_err(|error| ConfigError::Syntax {
            path: shown_as.clone(),
            error,
        })?;
        check_stack(&spec, &text).map_err(|(line, message)| ConfigError::Invalid {
            path: shown_as.clone(),
            line,
            message,
        })?;
        Ok(Stack {
            dir: file.parent().unwrap_or(Path::new(".")).to_path_buf(),
            file_name: shown_as,
            spec,
        })
    }
}

/// A problem the stack's text shows: its line and what to do.
type Invalid = (u64, String);

/// Everything strata.yaml alone can tell is wrong, checked before any tenant is read.
/// `text` is the file, for a setting serde does not give a line for.
fn check_stack(spec: &StackSpec, text: &str) -> Result<(), Invalid> {
    check_header(spec)?;
    check_component_names(&spec.components)?;
    for c in &spec.components.value {
        check_component(c)?;
    }
    check_pins(spec)?;
    if let Some(clusters) = &spec.clusters {
        clusters::check_clusters(clusters)?;
    }
    if let Some(rollout) = &spec.rollout {
        rollout::check_spec(rollout)?;
    }
    if spec.timeout_seconds == Some(0) {
        let line = text
            .lines()
            .position(|l| l.trim_start().starts_with("timeoutSeconds"))
            .map_or(1, |i| i as u64 + 1);
        return Err((line, "timeoutSeconds must be at least 1".into()));
    }
    Ok(())
}

fn check_header(spec: &StackSpec) -> Result<(), Invalid> {
    if spec.api_version.value != API_VERSION {
        return Err((
            spec.api_version.referenced.line(),
            format!(
                "apiVersion must be {API_VERSION:?}, found {:?}",
                spec.api_version.value
            ),
        ));
    }
    if spec.kind.value != "Stack" {
        return Err((
            spec.kind.referenced.line(),
            format!("kind must be \"Stack\", found {:?}", spec.kind.value),
        ));
    }
    Ok(())
}

/// Component names become Application and release names, so they are DNS-label-like and unique.
fn check_component_names(components: &Spanned<Vec<ComponentSpec>>) -> Result<(), Invalid> {
    if components.value.is_empty() {
        return Err((
            components.referenced.line(),
            "components is empty: a stack renders at least one chart".into(),
        ));
    }
    let mut seen = std::collections::BTreeSet::new();
    for c in &components.value {
        let name = &c.name.value;
        let valid = !name.is_empty()
            && name
                .chars()
                .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-');
        if !valid {
            return Err((
                c.name.referenced.line(),
                format!("component name {name:?} must be lower-case letters, digits and '-'"),
            ));
        }
        if !seen.insert(name.clone()) {
            return Err((
                c.name.referenced.line(),
                format!("component name {name:?} is used twice"),
            ));
        }
    }
    Ok(())
}

/// A component renders a chart or a manifests directory, never both or neither.
fn check_component(c: &ComponentSpec) -> Result<(), Invalid> {
    let line = c.name.referenced.line();
    let name = &c.name.value;
    match (&c.chart, &c.manifests) {
        (Some(chart), None) => check_chart(name, line, chart),
        (None, Some(_)) => check_manifests_component(c).map_err(|m| (line, m)),
        _ => Err((
            line,
            format!(
                "component {name:?} needs exactly one of `chart` (a Helm chart) or `manifests` (a directory of plain YAML)"
            ),
        )),
    }
}

/// A chart is a local path, or a name and version constraint in a repository.
fn check_chart(name: &str, line: u64, chart: &ChartSpec) -> Result<(), Invalid> {
    match (&chart.path, &chart.repository) {
        (Some(_), None) => {
            if chart.name.is_some() || chart.version.is_some() {
                return Err((
                    line,
                    format!(
                        "component {name:?}: chart.name and chart.version go with chart.repository, not chart.path"
                    ),
                ));
            }
        }
        (None, Some(repo)) => {
            let url = &repo.value;
            if !(url.starts_with("https://")
                || url.starts_with("http://")
                || url.starts_with("oci://"))
            {
                return Err((
                    repo.referenced.line(),
                    format!(
                        "component {name:?}: chart.repository {url:?} must start with https://, http:// or oci://"
                    ),
                ));
            }
            if chart.name.as_deref().is_none_or(str::is_empty) {
                return Err((
                    line,
                    format!("component {name:?}: chart.repository needs chart.name"),
                ));
            }
            if let Some(v) = &chart.version
                && let Err(e) = crate::semver::Constraint::parse(&v.value)
            {
                return Err((
                    v.referenced.line(),
                    format!("component {name:?}: chart.version: {e}"),
                ));
            }
        }
        _ => {
            return Err((
                line,
                format!("component {name:?}: chart needs exactly one of `path` or `repository`"),
            ));
        }
    }
    Ok(())
}

/// A pin's version is a constraint, and the component it names exists.
fn check_pins(spec: &StackSpec) -> Result<(), Invalid> {
    for pin in &spec.pins {
        let line = pin.version.referenced.line();
        if let Err(e) = crate::semver::Constraint::parse(&pin.version.value) {
            return Err((line, format!("pin version: {e}")));
        }
        if let Some(component) = &pin.component
            && !spec
                .components
                .value
                .iter()
                .any(|c| &c.name.value == component)
        {
            return Err((
                line,
                format!("pin names component {component:?}, which the stack does not have"),
            ));
        }
    }
    Ok(())
}

/// A manifests component renders no chart, so the chart's settings would silently do nothing.
fn check_manifests_component(c: &ComponentSpec) -> Result<(), String> {
    let name = &c.name.value;
    let chart_only = [
        ("releaseName", c.release_name.is_some()),
        ("namespace", c.namespace.is_some()),
        ("values", !c.values.is_empty()),
        ("skipTests", c.skip_tests),
        ("renderer", c.renderer.is_some()),
    ];
    match chart_only.iter().find(|(_, set)| *set) {
        Some((field, _)) => Err(format!(
            "component {name:?}: `{field}` applies to a chart; a `manifests` component renders its files as they are"
        )),
        None => Ok(()),
    }
}

impl TenantFileSpec {
    pub fn load(path: &Path, shown_as: &str) -> Result<TenantFileSpec, ConfigError> {
        let text = read_text(path, shown_as)?;
        if text.trim().is_empty() {
            return Ok(TenantFileSpec::default());
        }
        yaml::parse_config(&text).map_err(|error| ConfigError::Syntax {
            path: shown_as.to_owned(),
            error,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Stack, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(STACK_FILE);
        std::fs::write(&file, text).unwrap();
        Stack::load(&file, "strata.yaml".into())
    }

    const MINIMAL: &str = "apiVersion: strata/v1\nkind: Stack\ntenants: {path: \"t/{{tenant}}\"}\ncomponents:\n  - name: app\n    chart: {path: charts/app}\n    values: [a.yaml, \"b/{{tenant}}.yaml?\"]\n";

    #[test]
    fn loads_a_minimal_stack_with_defaults() {
        let stack = load(MINIMAL).unwrap();
        let c = &stack.spec.components.value[0];
        assert!(c.include_crds && !c.skip_tests && !stack.spec.allow_empty);
        assert_eq!(c.values[1].value, "b/{{tenant}}.yaml?");
        assert_eq!(c.values[1].referenced.line(), 7);
    }

    #[test]
    fn errors_name_the_file_and_line() {
        let err = load(&MINIMAL.replace("kind: Stack", "kind: Stak")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "strata.yaml:2: kind must be \"Stack\", found \"Stak\""
        );
        let err = load(&MINIMAL.replace("tenants:", "tenantz:")).unwrap_err();
        assert!(err.to_string().starts_with("strata.yaml:3:"), "{err}");
    }

    #[test]
    fn renderer_is_read_at_the_stack_and_component_level() {
        let stack = load(&format!("{MINIMAL}renderer: auto\n")).unwrap();
        assert_eq!(stack.spec.renderer, Some(RendererKind::Auto));
        assert_eq!(stack.spec.components.value[0].renderer, None);
        let text = MINIMAL.replace("    chart:", "    renderer: native\n    chart:");
        let stack = load(&text).unwrap();
        assert_eq!(
            stack.spec.components.value[0].renderer,
            Some(RendererKind::Native)
        );
        let err = load(&format!("{MINIMAL}renderer: fast\n")).unwrap_err();
        assert!(err.to_string().starts_with("strata.yaml:8"), "{err}");
        assert_eq!(" Native ".parse(), Ok(RendererKind::Native));
        assert!(
            "x".parse::<RendererKind>()
                .unwrap_err()
                .contains("helm, native or auto")
        );
    }

    #[test]
    fn clusters_are_optional_and_checked() {
        assert!(load(MINIMAL).unwrap().spec.clusters.is_none());
        let with = |clusters: &str| load(&format!("{MINIMAL}clusters:\n{clusters}"));
        let stack = with("  by: region\n  servers:\n    den1: https://den1.example.com\n").unwrap();
        let clusters = stack.spec.clusters.unwrap();
        assert_eq!(clusters.by.value, "region");
        assert_eq!(
            clusters.servers["den1"].value.url(),
            "https://den1.example.com"
        );
        assert!(clusters.default.is_none());

        let err = with("  by: region\n  servers:\n    den1: den1.example.com\n").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("strata.yaml:11: clusters.servers.den1"),
            "{err}"
        );
        let err = with("  by: region\n").unwrap_err();
        assert!(
            err.to_string().contains("neither servers nor default"),
            "{err}"
        );
        let err = with("  by: region\n  default: https://x\n  extra: 1\n").unwrap_err();
        assert!(err.to_string().contains("extra"), "{err}");
    }
}
