//! The in-process renderer: what `helm template` does, inside strata.
//!
//! One render: load the chart (cached by the chart file's identity, shared by every tenant of
//! the process), process its dependencies for the user's values, coalesce the values, check
//! the schemas, parse every template of the charts that render in Helm's order (parsed sets
//! cached per chart and set of enabled subcharts), run every non-partial template with its
//! chart's objects, and print the result as helm prints it ([`output`]).
//!
//! Each step follows Helm 3.17.3 or Helm 4.1.4 ([`Compat`]) where they differ: values.yaml
//! documents, null handling, `.Chart`'s shape, the default Kubernetes version and API list.

pub mod chart;
pub mod dependencies;
pub mod funcs;
mod glob;
pub mod objects;
pub mod output;
pub mod schema;
pub mod values;

use super::{RenderError, Renderer, Request};
use chart::{Chart, ChartError};
use dependencies::{DependencyError, Node};
use gotemplate::funcs::{Call, Determinism};
use gotemplate::template::{GoVersion, Templates};
use gotemplate::{FuncMap, Value};
use objects::{BadKubeVersion, Capabilities, HelmBuild, KubeVersion};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use values::NullRule;

/// Which helm the native renderer imitates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compat {
    pub helm4: bool,
    /// The imitated helm's version (`v3.17.3`), for `.Capabilities.HelmVersion`.
    pub version: String,
}

impl Compat {
    pub fn helm3() -> Compat {
        Compat {
            helm4: false,
            version: "v3.17.3".into(),
        }
    }

    pub fn helm4() -> Compat {
        Compat {
            helm4: true,
            version: "v4.1.4".into(),
        }
    }

    fn null_rule(&self) -> NullRule {
        if self.helm4 {
            NullRule::Helm4
        } else {
            NullRule::Helm3
        }
    }

    /// The build information of the imitated helm (the pinned builds' own).
    fn build(&self) -> HelmBuild {
        let (commit, go) = match self.version.as_str() {
            "v3.17.3" => ("e4da49785aa6e6ee2b86efd5dd9e43400318262b", "go1.23.7"),
            "v4.1.4" => ("05fa37973dc9e42b76e1d2883494c87174b6074f", "go1.25.9"),
            _ => ("", ""),
        };
        HelmBuild {
            helm4: self.helm4,
            version: self.version.clone(),
            git_commit: commit.into(),
            git_tree_state: "clean".into(),
            go_version: go.into(),
            kube_client_version: "v1.35".into(),
        }
    }

    fn default_kube(&self) -> KubeVersion {
        if self.helm4 {
            KubeVersion::default_for(1, 35)
        } else {
            KubeVersion::default_for(1, 32)
        }
    }

    fn default_api_versions(&self) -> &'static str {
        if self.helm4 {
            include_str!("api-versions-helm4.txt")
        } else {
            include_str!("api-versions-helm3.txt")
        }
    }
}

/// Why the native renderer could not render a chart; each names the chart and the step.
#[derive(Debug, thiserror::Error)]
pub enum NativeError {
    #[error(transparent)]
    Load(#[from] ChartError),
    #[error("chart {chart}: library charts are not installable; render a chart that depends on it")]
    Library { chart: String },
    #[error(
        "chart {chart}: Chart.yaml apiVersion {api_version:?} is not supported by helm 4 (use v2)"
    )]
    ApiVersion { chart: String, api_version: String },
    #[error(
        "release name {0:?}: invalid release name, it must be at most 53 characters of lower-case letters, digits, '-' and '.', starting and ending each dot-separated part with a letter or digit"
    )]
    ReleaseName(String),
    #[error(
        "chart {chart} requires kubeVersion: {range} which is incompatible with Kubernetes {kube}; set the cluster's version (--kube-version, KUBE_VERSION) or use a chart version made for it"
    )]
    KubeIncompatible {
        chart: String,
        range: String,
        kube: String,
    },
    #[error(transparent)]
    Dependencies(#[from] DependencyError),
    #[error(transparent)]
    Schema(#[from] schema::SchemaError),
    #[error("the values given to chart {chart} are not a JSON object: {message}")]
    UserValues { chart: String, message: String },
    #[error(transparent)]
    KubeVersion(#[from] BadKubeVersion),
    #[error("parse error in {template}: {message}")]
    Parse { template: String, message: String },
    #[error("render error in {template}: {message}")]
    Execute { template: String, message: String },
    #[error(
        "the chart's templates did not finish within the time budget of {seconds}s; raise --timeout, STRATA_TIMEOUT or timeoutSeconds if the chart is that slow"
    )]
    Budget { seconds: f64 },
    #[error(transparent)]
    Output(#[from] output::OutputError),
}

/// What the native renderer can tell about a chart before rendering it.
#[derive(Debug, Clone, Default)]
pub struct Analysis {
    /// Why the native renderer cannot render this chart, each naming the file and feature.
    pub unsupported: Vec<String>,
    /// The random functions its templates call.
    pub random: BTreeSet<String>,
}

/// A loaded chart and the template sets parsed from it, one per set of rendering charts.
struct Loaded {
    chart: Chart,
    parsed: Mutex<HashMap<Vec<String>, Arc<Templates>>>,
}

/// The in-process renderer.
pub struct Native {
    pub compat: Compat,
    cache: Mutex<HashMap<(PathBuf, u64), Arc<Loaded>>>,
    /// The random functions each chart's renders called in this process. Counted when called,
    /// not when written: bitnami's common library names `randAlphaNum` in helpers most charts
    /// never reach, and a chart that only names one is as deterministic as any other.
    random_called: Mutex<HashMap<PathBuf, BTreeSet<String>>>,
}

thread_local! {
    /// The random functions called by the render running on this thread (a render executes
    /// its templates on one thread).
    static RANDOM_CALLS: std::cell::RefCell<BTreeSet<String>> = Default::default();
}

impl Native {
    pub fn new(compat: Compat) -> Native {
        Native {
            compat,
            cache: Mutex::new(HashMap::new()),
            random_called: Mutex::new(HashMap::new()),
        }
    }

    /// The random functions renders of the chart at `chart` called so far in this process
    /// (empty when it never rendered natively).
    pub fn random_called(&self, chart: &Path) -> BTreeSet<String> {
        lock(&self.random_called)
            .get(chart)
            .cloned()
            .unwrap_or_default()
    }

    /// The loaded chart at `path`, from the cache while its files are unchanged.
    fn load(&self, path: &Path, shown: &str) -> Result<Arc<Loaded>, NativeError> {
        let key = (path.to_path_buf(), fingerprint(path));
        if let Some(found) = lock(&self.cache).get(&key) {
            return Ok(found.clone());
        }
        let loaded = Arc::new(Loaded {
            chart: chart::load(path, shown)?,
            parsed: Mutex::new(HashMap::new()),
        });
        let mut cache = lock(&self.cache);
        cache.retain(|(p, _), _| p != path);
        cache.insert(key, loaded.clone());
        Ok(loaded)
    }

    /// Renders one chart for one set of values: the bytes `helm template` prints.
    pub fn render_chart(&self, request: &Request) -> Result<Vec<u8>, NativeError> {
        self.render_chart_within(request, None)
    }

    /// [`Native::render_chart`] stopped when `budget` (its deadline, and the whole budget for
    /// the message) runs out: a chart's templates are untrusted, and a render in this process
    /// must keep the budget a helm process is killed at.
    pub fn render_chart_within(
        &self,
        request: &Request,
        budget: Option<(std::time::Instant, std::time::Duration)>,
    ) -> Result<Vec<u8>, NativeError> {
        if !valid_release_name(request.release) {
            return Err(NativeError::ReleaseName(request.release.to_string()));
        }
        let loaded = self.load(request.chart, request.chart_shown)?;
        let root = &loaded.chart;
        if root.metadata.is_library() {
            return Err(NativeError::Library {
                chart: root.metadata.name.clone(),
            });
        }
        if self.compat.helm4 && !matches!(root.metadata.api_version.as_str(), "v1" | "v2") {
            return Err(NativeError::ApiVersion {
                chart: root.metadata.name.clone(),
                api_version: root.metadata.api_version.clone(),
            });
        }
        let caps = self.capabilities(request)?;
        check_kube_version(&root.metadata, &caps.kube, self.compat.helm4)?;
        let user = user_values(request.values_json, &root.metadata.name)?;
        dependencies::check_present(root)?;
        let rule = self.compat.null_rule();
        let tree = dependencies::process(root, &user, rule)?;
        let mut coalesced = user;
        values::coalesce(&tree, &mut coalesced, false, rule).map_err(DependencyError::from)?;
        schema::validate(&tree, &coalesced)?;

        let mut sources = Vec::new();
        collect_templates(&tree, &tree.name, 0, &mut sources);
        sort_helm_order(&mut sources);
        let funcs = template_funcs(&self.compat);
        let set = self.parsed(&loaded, &sources, &funcs)?;

        let shared = Shared {
            caps,
            release: objects::release(request.release, request.namespace),
            helm4: self.compat.helm4,
            to_yaml: yaml_encoder(&funcs),
        };
        let mut contexts = Vec::new();
        let values = objects::from_json(&serde_json::Value::Object(coalesced));
        build_contexts(&tree, None, values, &shared, &mut contexts);

        RANDOM_CALLS.with(|calls| calls.borrow_mut().clear());
        let deadline = budget.map(|(deadline, _)| deadline);
        let rendered =
            execute_all(&set, &sources, &contexts, &funcs, deadline).map_err(|e| {
                match (&e, budget) {
                    (NativeError::Execute { message, .. }, Some((_, total)))
                        if message.contains(gotemplate::exec::DEADLINE_PASSED) =>
                    {
                        NativeError::Budget {
                            seconds: total.as_secs_f64(),
                        }
                    }
                    _ => e,
                }
            });
        let called = RANDOM_CALLS.with(|calls| std::mem::take(&mut *calls.borrow_mut()));
        if !called.is_empty() {
            lock(&self.random_called)
                .entry(request.chart.to_path_buf())
                .or_default()
                .extend(called);
        }
        let rendered = rendered?;
        let mut crds = Vec::new();
        collect_crds(&tree, &tree.name, &mut crds);
        let opts = output::OutputOptions {
            include_crds: request.include_crds,
            skip_tests: request.skip_tests,
            helm4: self.compat.helm4,
        };
        Ok(output::assemble(&rendered, &crds, &opts)?)
    }

    /// The parsed template set for these sources, parsed once per chart and set.
    fn parsed(
        &self,
        loaded: &Loaded,
        sources: &[Source],
        funcs: &FuncMap,
    ) -> Result<Arc<Templates>, NativeError> {
        let key: Vec<String> = sources.iter().map(|s| s.name.clone()).collect();
        if let Some(set) = lock(&loaded.parsed).get(&key) {
            return Ok(set.clone());
        }
        let mut set = Templates::new();
        set.set_go_version(self.go_version());
        for source in sources {
            set.parse(&source.name, source.text, &|name| funcs.contains(name))
                .map_err(|e| NativeError::Parse {
                    template: source.name.clone(),
                    message: e.to_string(),
                })?;
        }
        let set = Arc::new(set);
        lock(&loaded.parsed).insert(key, set.clone());
        Ok(set)
    }

    /// Helm 3.17 is built with Go 1.23, Helm 4.1 with a later Go (`range` over an integer).
    fn go_version(&self) -> GoVersion {
        if self.compat.helm4 {
            GoVersion::Go1_24
        } else {
            GoVersion::Go1_23
        }
    }

    fn capabilities(&self, request: &Request) -> Result<Rc<Capabilities>, NativeError> {
        let kube = match request.kube_version {
            None => self.compat.default_kube(),
            Some(text) if self.compat.helm4 => KubeVersion::parse_helm4(text)?,
            Some(text) => KubeVersion::parse_helm3(text)?,
        };
        let mut api_versions: Vec<String> = self
            .compat
            .default_api_versions()
            .lines()
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect();
        api_versions.extend(request.api_versions.iter().cloned());
        Ok(Rc::new(Capabilities {
            kube,
            api_versions,
            helm: Arc::new(self.compat.build()),
        }))
    }
}

impl Renderer for Native {
    fn identity(&self, _memo_dir: &Path) -> Result<String, RenderError> {
        Ok(format!("native (helm {} rules)", self.compat.version))
    }

    fn render(&self, request: &Request) -> Result<Vec<u8>, RenderError> {
        self.render_within(request, None)
    }
}

impl Native {
    /// [`Renderer::render`] within a time budget (see [`Native::render_chart_within`]).
    pub fn render_within(
        &self,
        request: &Request,
        budget: Option<(std::time::Instant, std::time::Duration)>,
    ) -> Result<Vec<u8>, RenderError> {
        self.render_chart_within(request, budget).map_err(|e| {
            RenderError::Native(format!(
                "native render of component {:?} (chart {}) failed: {e}",
                request.component, request.chart_shown
            ))
        })
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A cheap identity of the chart's files: sizes and modification times of every file (a
/// directory) or of the archive.
fn fingerprint(path: &Path) -> u64 {
    use std::hash::{Hash, Hasher};
    use std::os::unix::fs::MetadataExt;
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    for entry in walkdir::WalkDir::new(path)
        .follow_links(true)
        .sort_by_file_name()
    {
        let Ok(entry) = entry else { continue };
        if let Ok(meta) = entry.metadata() {
            entry.path().hash(&mut hasher);
            (meta.size(), meta.mtime(), meta.mtime_nsec(), meta.ino()).hash(&mut hasher);
        }
    }
    hasher.finish()
}

/// Helm's check of the root chart's `kubeVersion` range against the Kubernetes version
/// (Helm 4 checks the normalised version, so `v1.29.3-gke.1` passes `>=1.29`).
fn check_kube_version(
    meta: &chart::Metadata,
    kube: &KubeVersion,
    helm4: bool,
) -> Result<(), NativeError> {
    if meta.kube_version.is_empty() {
        return Ok(());
    }
    let checked = if helm4 {
        &kube.normalized
    } else {
        &kube.version
    };
    let fits = match (
        crate::semver::Constraint::parse(&meta.kube_version),
        crate::semver::Version::parse(checked),
    ) {
        (Ok(range), Ok(version)) => range.matches(&version),
        _ => false,
    };
    if fits {
        return Ok(());
    }
    Err(NativeError::KubeIncompatible {
        chart: meta.name.clone(),
        range: meta.kube_version.clone(),
        kube: kube.version.clone(),
    })
}

/// Helm's release name rule: at most 53 bytes of dot-separated DNS labels
/// (`[a-z0-9]([-a-z0-9]*[a-z0-9])?`).
fn valid_release_name(name: &str) -> bool {
    let label = |l: &str| {
        !l.is_empty()
            && l.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    name.len() <= 53 && name.split('.').all(label)
}

fn user_values(
    json: &[u8],
    chart: &str,
) -> Result<serde_json::Map<String, serde_json::Value>, NativeError> {
    let bad = |message: String| NativeError::UserValues {
        chart: chart.to_string(),
        message,
    };
    if json.iter().all(u8::is_ascii_whitespace) {
        return Ok(serde_json::Map::new());
    }
    match serde_json::from_slice(json).map_err(|e| bad(e.to_string()))? {
        serde_json::Value::Object(map) => Ok(map),
        serde_json::Value::Null => Ok(serde_json::Map::new()),
        _ => Err(bad("the top level must be an object".into())),
    }
}

/// Runs every non-partial template in parse order, each with its chart's dot and its own
/// `.Template`; returns the rendered files helm prints (NOTES.txt rendered, then dropped).
fn execute_all(
    set: &Templates,
    sources: &[Source],
    contexts: &[Value],
    funcs: &FuncMap,
    deadline: Option<std::time::Instant>,
) -> Result<Vec<(String, String)>, NativeError> {
    let mut rendered = Vec::new();
    for source in sources {
        let base = source.name.rsplit('/').next().unwrap_or(&source.name);
        if base.starts_with('_') {
            continue;
        }
        let dot = &contexts[source.chart];
        if let Value::Map(map) = dot {
            map.borrow_mut().insert(
                "Template".into(),
                objects::template(&source.name, &source.base_path),
            );
        }
        let text = set
            .execute_until(&source.name, dot.clone(), funcs, deadline)
            .map_err(|e| NativeError::Execute {
                template: source.name.clone(),
                message: e.to_string(),
            })?;
        if source.name.ends_with("NOTES.txt") {
            continue;
        }
        rendered.push((source.name.clone(), text.replace("<no value>", "")));
    }
    Ok(rendered)
}

/// The functions a chart's templates see, as the imitated helm has them: Sprig (less `env` and
/// `expandenv`), the encoders (`mustToYaml` only for Helm 4; `toToml` writes floats as that helm does), Helm's engine
/// functions (`include`, `tpl`, `required`) and strata's chart-bound ones.
fn template_funcs(compat: &Compat) -> FuncMap {
    let helm = gotemplate::helm::helm_funcs_for(compat.helm4);
    let mut funcs = FuncMap::default();
    for name in helm.names() {
        if let (Some(f), Some(d)) = (helm.get(name), helm.determinism(name)) {
            funcs.insert(name, d, counted(name, d, f));
        }
    }
    funcs::add_chart_funcs(&mut funcs);
    funcs
}

/// `f`, noting each call in [`RANDOM_CALLS`] when it is a random function.
fn counted(name: &str, determinism: Determinism, f: &gotemplate::Func) -> gotemplate::Func {
    if determinism != Determinism::Random {
        return f.clone();
    }
    let (name, inner) = (name.to_owned(), f.clone());
    Rc::new(move |call: &mut dyn Call, args: &[Value]| {
        RANDOM_CALLS.with(|calls| calls.borrow_mut().insert(name.clone()));
        inner(call, args)
    })
}

/// One template file of a rendering chart.
struct Source<'a> {
    /// `<chart path>/templates/...`
    name: String,
    base_path: String,
    text: &'a str,
    /// Index of its chart in the contexts (tree order).
    chart: usize,
}

/// The templates of `node` and its subcharts, with their charts numbered in tree order
/// (the order [`build_contexts`] numbers them in).
fn collect_templates<'a>(
    node: &Node<'a>,
    path: &str,
    first: usize,
    out: &mut Vec<Source<'a>>,
) -> usize {
    let index = first;
    for (name, text) in &node.chart.templates {
        let file = name.rsplit('/').next().unwrap_or(name);
        // A library chart lends its partials; its other templates never render.
        if node.chart.metadata.is_library() && !file.starts_with('_') {
            continue;
        }
        out.push(Source {
            name: format!("{path}/{name}"),
            base_path: format!("{path}/templates"),
            text,
            chart: index,
        });
    }
    let mut next = index + 1;
    for dep in &node.deps {
        next = collect_templates(dep, &format!("{path}/charts/{}", dep.name), next, out);
    }
    next
}

/// Helm's parse order: deeper paths first, and reverse lexical order at equal depth; so a
/// parent's `define` replaces a subchart's and `_a.tpl`'s replaces `_b.tpl`'s.
fn sort_helm_order(sources: &mut [Source]) {
    sources.sort_by(|a, b| {
        let depth = |s: &str| s.matches('/').count();
        depth(&b.name)
            .cmp(&depth(&a.name))
            .then_with(|| b.name.cmp(&a.name))
    });
}

/// What every chart's dot shares in one render.
struct Shared {
    caps: Rc<Capabilities>,
    release: Value,
    helm4: bool,
    to_yaml: Rc<dyn Fn(&Value) -> String>,
}

/// Builds each chart's dot (`.Values`, `.Chart`, ...) in tree order; returns the dot of `node`.
/// A subchart's `.Values` is its section of the parent's, shared as Go shares the map.
fn build_contexts(
    node: &Node,
    parent_values: Option<&Value>,
    root_values: Value,
    shared: &Shared,
    out: &mut Vec<Value>,
) -> Value {
    let values = match parent_values {
        None => root_values,
        Some(Value::Map(parent)) => match parent.borrow().get(&node.name) {
            Some(section @ Value::Map(_)) => section.clone(),
            _ => Value::empty_map(),
        },
        Some(_) => Value::empty_map(),
    };
    let mut metadata = node.chart.metadata.clone();
    metadata.name = node.name.clone();
    metadata.dependencies = node.requirements.clone();
    let mut dot = BTreeMap::new();
    dot.insert(
        "Chart".to_string(),
        objects::chart(&metadata, parent_values.is_none(), shared.helm4),
    );
    dot.insert(
        "Files".to_string(),
        Value::Object(Rc::new(objects::Files {
            files: node.chart.files.clone(),
            subset: None,
            to_yaml: shared.to_yaml.clone(),
        })),
    );
    dot.insert(
        "Capabilities".to_string(),
        Value::Object(shared.caps.clone()),
    );
    dot.insert("Release".to_string(), shared.release.clone());
    dot.insert("Values".to_string(), values.clone());
    let dot = Value::map(dot);
    let index = out.len();
    out.push(dot.clone());
    let mut subcharts = BTreeMap::new();
    for dep in &node.deps {
        let child = build_contexts(dep, Some(&values), Value::Nil, shared, out);
        subcharts.insert(dep.name.clone(), child);
    }
    if let Value::Map(map) = &out[index] {
        let mut map = map.borrow_mut();
        map.insert("Subcharts".into(), Value::map(subcharts));
    }
    dot
}

/// Helm's `toYaml` as a plain function of a value, for `.Files.AsConfig`/`AsSecrets`.
fn yaml_encoder(funcs: &FuncMap) -> Rc<dyn Fn(&Value) -> String> {
    let to_yaml = funcs.get("toYaml").cloned();
    Rc::new(move |value: &Value| match &to_yaml {
        Some(f) => match f(&mut NoCall, std::slice::from_ref(value)) {
            Ok(Value::String(s)) => s.to_string(),
            _ => String::new(),
        },
        None => String::new(),
    })
}

/// The template state a function called outside any template sees: none.
struct NoCall;

impl Call for NoCall {
    fn include(&mut self, name: &str, _data: Value) -> Result<String, gotemplate::Error> {
        Err(gotemplate::Error::new(format!(
            "no template {name:?} outside a template"
        )))
    }
    fn tpl(&mut self, _text: &str, _data: Value) -> Result<String, gotemplate::Error> {
        Err(gotemplate::Error::new("tpl outside a template"))
    }
    fn template_name(&self) -> &str {
        ""
    }
}

/// The CRD files of `node` and its subcharts (root first, then dependencies in order).
fn collect_crds(node: &Node, path: &str, out: &mut Vec<(String, Vec<u8>)>) {
    for name in &node.chart.file_order {
        let Some(data) = node.chart.files.get(name) else {
            continue;
        };
        let lower = name.to_ascii_lowercase();
        let manifest =
            lower.ends_with(".yaml") || lower.ends_with(".yml") || lower.ends_with(".json");
        if name.starts_with("crds/") && manifest {
            out.push((format!("{path}/{name}"), data.clone()));
        }
    }
    for dep in &node.deps {
        collect_crds(dep, &format!("{path}/charts/{}", dep.name), out);
    }
}

/// What keeps the native renderer from rendering the chart at `chart`, and the random
/// functions it uses; `auto` falls back to helm when `unsupported` is not empty.
pub fn analyze(chart: &Path, compat: &Compat) -> Analysis {
    let mut analysis = Analysis::default();
    let loaded = match chart::load(chart, &chart.display().to_string()) {
        Ok(c) => c,
        Err(e) => {
            analysis.unsupported.push(e.to_string());
            return analysis;
        }
    };
    schemas_usable(&loaded, &loaded.metadata.name, &mut analysis.unsupported);
    let funcs = template_funcs(compat);
    let mut all = Vec::new();
    every_template(&loaded, &loaded.metadata.name, &mut all);
    for (name, text) in &all {
        let mut set = Templates::new();
        if let Err(e) = set.parse(name, text, &|f| funcs.contains(f)) {
            analysis.unsupported.push(format!("{name}: {e}"));
            continue;
        }
        for used in set.functions_used() {
            if funcs.determinism(&used) == Some(Determinism::Random) {
                analysis.random.insert(used);
            }
        }
    }
    analysis
}

/// A schema the native renderer cannot compile (a remote `$ref`, say) is left to helm.
fn schemas_usable(chart: &Chart, path: &str, out: &mut Vec<String>) {
    if let Some(Err(e)) = schema::validator(chart) {
        out.push(format!("{path}/values.schema.json: {e}"));
    }
    for sub in &chart.subcharts {
        schemas_usable(sub, &format!("{path}/charts/{}", sub.metadata.name), out);
    }
}

/// Every template of a loaded chart and its subcharts, enabled or not.
fn every_template(chart: &Chart, path: &str, out: &mut Vec<(String, String)>) {
    for (name, text) in &chart.templates {
        out.push((format!("{path}/{name}"), text.clone()));
    }
    for sub in &chart.subcharts {
        every_template(sub, &format!("{path}/charts/{}", sub.metadata.name), out);
    }
}
