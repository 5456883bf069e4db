//! Which renderer renders each component: `renderer:` in strata.yaml (stack, then component)
//! and `STRATA_RENDERER`, which overrides both so a renderer can be tried without editing the
//! stack. helm is the default.
//!
//! `auto` renders a chart natively and falls back to helm, with the reason in the debug log,
//! when the native render fails: a template that calls what only helm has, one that does not
//! parse, a schema it cannot compile, or a chart error (helm then gives the authoritative
//! error). It does not analyse the chart first: the render finds the same reasons, and
//! `generate` would otherwise load and parse the chart twice. The native
//! renderer imitates the configured helm's version (helm 3 rules when no helm is found), and its
//! loaded charts are shared by every tenant of the process, which is where its speed comes from.

use super::helm::{Helm, HelmError};
use super::native::{self, Analysis, Compat, Native};
use super::{RenderError, Renderer, Request};
use crate::config::{RendererKind, StackSpec};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

/// The helm whose rules the native renderer follows when no helm is installed.
pub const DEFAULT_RULES: &str = "v3.17.3";

/// Each component's renderer.
#[derive(Debug, Clone, Default)]
pub struct Choices {
    by_component: BTreeMap<String, RendererKind>,
    default: Option<RendererKind>,
}

impl Choices {
    /// `STRATA_RENDERER` (`env`) wins; then the component's `renderer`, the stack's, helm.
    pub fn new(spec: &StackSpec, env: Option<RendererKind>) -> Choices {
        let by_component = spec
            .components
            .value
            .iter()
            .map(|c| {
                let kind = env
                    .or(c.renderer)
                    .or(spec.renderer)
                    .unwrap_or(RendererKind::Helm);
                (c.name.value.clone(), kind)
            })
            .collect();
        Choices {
            by_component,
            default: env.or(spec.renderer),
        }
    }

    /// Every component rendered by `kind` (the renderer-parity command's two sides).
    pub fn all(kind: RendererKind) -> Choices {
        Choices {
            by_component: BTreeMap::new(),
            default: Some(kind),
        }
    }

    pub fn of(&self, component: &str) -> RendererKind {
        self.by_component
            .get(component)
            .copied()
            .or(self.default)
            .unwrap_or(RendererKind::Helm)
    }

    fn kinds(&self) -> BTreeSet<RendererKind> {
        let mut kinds: BTreeSet<_> = self.by_component.values().copied().collect();
        if self.by_component.is_empty() {
            kinds.insert(self.default.unwrap_or(RendererKind::Helm));
        }
        kinds
    }

    fn only_helm(&self) -> bool {
        self.kinds().iter().all(|k| *k == RendererKind::Helm)
    }
}

/// The renderer of one render: helm, the native renderer, or each per component.
pub struct Selected {
    choices: Choices,
    helm: Option<Helm>,
    /// Why there is no helm, for the component that needs it.
    helm_missing: Option<String>,
    /// Where the helm version is remembered (the cache root).
    memo_dir: PathBuf,
    compat: OnceLock<Compat>,
    native: OnceLock<Arc<Native>>,
    /// The deadline native renders stop at, and the whole budget for the message.
    budget: Option<(std::time::Instant, std::time::Duration)>,
}

impl Selected {
    /// Fails when a component must render with helm and there is none; `auto` components
    /// only need helm when they fall back.
    pub fn new(
        choices: Choices,
        helm: Result<Helm, HelmError>,
        memo_dir: PathBuf,
    ) -> Result<Selected, RenderError> {
        let (helm, helm_missing) = match helm {
            Ok(h) => (Some(h), None),
            Err(e) if !choices.kinds().contains(&RendererKind::Helm) => (None, Some(e.to_string())),
            Err(e) => return Err(e.into()),
        };
        Ok(Selected {
            choices,
            helm,
            helm_missing,
            memo_dir,
            compat: OnceLock::new(),
            native: OnceLock::new(),
            budget: None,
        })
    }

    /// Native renders stop at `deadline` as helm processes are killed at it.
    pub fn with_budget(mut self, deadline: std::time::Instant, total: std::time::Duration) -> Self {
        self.budget = Some((deadline, total));
        self
    }

    fn helm(&self) -> Result<&Helm, RenderError> {
        self.helm.as_ref().ok_or_else(|| {
            RenderError::Helm(HelmError::NotFound(
                self.helm_missing.clone().unwrap_or_default(),
            ))
        })
    }

    /// The helm the native renderer imitates: the configured helm's version, else helm 3.
    pub fn compat(&self) -> Compat {
        self.compat.get_or_init(|| self.find_compat()).clone()
    }

    fn find_compat(&self) -> Compat {
        let version = match &self.helm {
            Some(helm) => match helm.remembered_version(&self.memo_dir) {
                Ok(v) => v,
                Err(e) => {
                    tracing::warn!("{e}; the native renderer follows helm {DEFAULT_RULES}");
                    DEFAULT_RULES.to_owned()
                }
            },
            None => DEFAULT_RULES.to_owned(),
        };
        compat_of(&version)
    }

    /// The process-wide native renderer for this render's helm version.
    fn native(&self) -> &Native {
        self.native.get_or_init(|| shared_native(self.compat()))
    }

    /// `auto`: native when the chart is within its reach and renders, else helm.
    fn auto(&self, request: &Request) -> Result<Vec<u8>, RenderError> {
        let native = self.native();
        match native.render_within(request, self.budget) {
            Ok(out) => Ok(out),
            Err(e) => {
                let what = if e.to_string().contains(gotemplate::helm::NOT_IMPLEMENTED) {
                    "cannot render"
                } else {
                    "failed on"
                };
                tracing::debug!(
                    "component {}: native renderer {what} chart {} ({e}); using helm",
                    request.component,
                    request.chart_shown
                );
                self.helm()?.render(request)
            }
        }
    }
}

/// Compat of a helm version text (`v4.1.4`): helm 4 rules from major version 4 on.
pub fn compat_of(version: &str) -> Compat {
    let major = version
        .trim_start_matches('v')
        .split('.')
        .next()
        .and_then(|m| m.parse::<u64>().ok())
        .unwrap_or(3);
    Compat {
        helm4: major >= 4,
        version: version.to_owned(),
    }
}

/// One native renderer per imitated helm version for the whole process, so every tenant of
/// a fleet command shares its loaded and parsed charts.
pub fn shared_native(compat: Compat) -> Arc<Native> {
    static ENGINES: Mutex<Vec<Arc<Native>>> = Mutex::new(Vec::new());
    let mut engines = ENGINES.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(found) = engines.iter().find(|n| n.compat == compat) {
        return found.clone();
    }
    let engine = Arc::new(Native::new(compat));
    engines.push(engine.clone());
    engine
}

/// The native renderer's analysis of a chart, once per chart directory and helm version.
pub fn analysis(chart: &Path, compat: &Compat) -> Arc<Analysis> {
    type Memo = HashMap<(PathBuf, String), Arc<Analysis>>;
    static MEMO: OnceLock<Mutex<Memo>> = OnceLock::new();
    let memo = MEMO.get_or_init(Default::default);
    let key = (chart.to_path_buf(), format!("{compat:?}"));
    if let Some(found) = memo.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
        return found.clone();
    }
    let analysed = Arc::new(native::analyze(chart, compat));
    memo.lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(key, analysed.clone());
    analysed
}

/// Logs, once per chart and process, that a chart's output changes on every render.
fn note_random(chart_shown: &str, random: &BTreeSet<String>) {
    static LOGGED: OnceLock<Mutex<HashSet<String>>> = OnceLock::new();
    let logged = LOGGED.get_or_init(Default::default);
    if logged
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(chart_shown.to_owned())
    {
        let names: Vec<&str> = random.iter().map(String::as_str).collect();
        tracing::info!(
            "chart {chart_shown} uses random functions ({}): its output changes on every render",
            names.join(", ")
        );
    }
}

impl Renderer for Selected {
    /// helm's version alone when helm renders everything (the entries of earlier strata
    /// versions stay valid); otherwise each non-helm component's renderer is named, so an entry
    /// one renderer wrote is never served for another.
    fn identity(&self, memo_dir: &Path) -> Result<String, RenderError> {
        if self.choices.only_helm() {
            return self.helm()?.identity(memo_dir);
        }
        let compat = self.compat();
        let native = format!(
            "native {} (helm {} rules)",
            env!("CARGO_PKG_VERSION"),
            compat.version
        );
        let mut parts = vec![match &self.helm {
            Some(helm) => format!("helm {}", helm.identity(memo_dir)?),
            None => "no helm".to_owned(),
        }];
        parts.push(format!("default {}", self.choices.of("").name()));
        for (component, kind) in &self.choices.by_component {
            parts.push(format!("{component}: {}", kind.name()));
        }
        parts.push(native);
        Ok(parts.join("; "))
    }

    fn render(&self, request: &Request) -> Result<Vec<u8>, RenderError> {
        match self.choices.of(request.component) {
            RendererKind::Helm => self.helm()?.render(request),
            RendererKind::Native => self.native().render_within(request, self.budget),
            RendererKind::Auto => self.auto(request),
        }
    }

    fn random_functions(&self, chart: &Path, chart_shown: &str) -> BTreeSet<String> {
        // What the native renderer saw called; helm's renders cannot be seen into, so a chart
        // helm rendered is stored as it always was.
        let random = self.native().random_called(chart);
        if !random.is_empty() {
            note_random(chart_shown, &random);
        }
        random
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(text: &str) -> StackSpec {
        crate::yaml::parse_config(text).unwrap()
    }

    const STACK: &str = "apiVersion: strata/v1\nkind: Stack\ntenants: {path: t}\ncomponents:\n  - name: a\n    chart: {path: c}\n  - name: b\n    renderer: native\n    chart: {path: c}\n";

    #[test]
    fn the_environment_beats_the_component_which_beats_the_stack() {
        let plain = Choices::new(&spec(STACK), None);
        assert_eq!(plain.of("a"), RendererKind::Helm);
        assert_eq!(plain.of("b"), RendererKind::Native);
        let stack_auto = Choices::new(&spec(&format!("{STACK}renderer: auto\n")), None);
        assert_eq!(stack_auto.of("a"), RendererKind::Auto);
        assert_eq!(stack_auto.of("b"), RendererKind::Native);
        let env = Choices::new(&spec(STACK), Some(RendererKind::Helm));
        assert_eq!(env.of("b"), RendererKind::Helm);
        assert!(env.only_helm() && !plain.only_helm());
    }

    #[test]
    fn helm_major_version_picks_the_rules() {
        assert!(!compat_of("v3.17.3").helm4);
        assert!(compat_of("v4.1.4").helm4);
        assert!(!compat_of("garbage").helm4);
    }

    #[test]
    fn without_helm_only_helm_components_fail_at_selection() {
        let missing = || Err(HelmError::NotFound("no `helm` on PATH".into()));
        let dir = PathBuf::from("/nonexistent");
        assert!(Selected::new(Choices::all(RendererKind::Helm), missing(), dir.clone()).is_err());
        let native = Selected::new(Choices::all(RendererKind::Native), missing(), dir).unwrap();
        assert_eq!(native.compat().version, DEFAULT_RULES);
        assert!(
            native
                .identity(Path::new("/nonexistent"))
                .unwrap()
                .contains("no helm")
        );
    }
}
