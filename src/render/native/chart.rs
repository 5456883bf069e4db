//! Loading a chart the way Helm's loader does, from a directory or a `.tgz`, into memory.
//!
//! The loaded chart holds bytes and plain data only (no template values), so one load is
//! shared by every tenant rendered with the chart and across threads. Helm's loader quirks are
//! kept because charts depend on them: the root `.helmignore` applies to the whole tree
//! (subcharts included) while a subchart directory's own is not read, archives apply none,
//! `charts/` entries starting with `_` or `.` are skipped, any other stray file there is an
//! error, `*.prov` files under `charts/` become plain files, and a UTF-8 BOM is dropped.

use crate::chart::archive::{self, ArchiveError, Limits};
use crate::chart::deps::helmignore::{IgnoreError, Rules};
use crate::yaml::{GoMap, GoValue, helm_reader};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

/// One loaded chart and, recursively, the charts in its `charts/` directory.
#[derive(Debug, Clone)]
pub struct Chart {
    pub metadata: Metadata,
    /// The documents of values.yaml, each a map: Helm 3 reads the first, Helm 4 merges all.
    pub values_docs: Vec<serde_json::Map<String, serde_json::Value>>,
    pub schema: Option<Vec<u8>>,
    /// The schema compiled, once per loaded chart (see `schema::validator`).
    pub schema_validator: std::sync::OnceLock<Result<Arc<jsonschema::Validator>, String>>,
    /// `templates/...` paths and their text, in load order.
    pub templates: Vec<(String, String)>,
    /// What `.Files` sees (crds/ included), by path; shared by every render's `.Files`.
    pub files: Arc<BTreeMap<String, Vec<u8>>>,
    /// The same paths in load order (directory walk or archive order): the order Helm lists
    /// CRDs in.
    pub file_order: Vec<String>,
    /// The charts found in `charts/`, by entry name order.
    pub subcharts: Vec<Chart>,
}

/// Chart.yaml (plus requirements.yaml for apiVersion v1) with Helm's field names.
#[derive(Debug, Clone, Default)]
pub struct Metadata {
    pub name: String,
    pub home: String,
    pub sources: Vec<String>,
    pub version: String,
    pub description: String,
    pub keywords: Vec<String>,
    pub maintainers: Vec<Maintainer>,
    pub icon: String,
    pub api_version: String,
    pub condition: String,
    pub tags: String,
    pub app_version: String,
    pub deprecated: bool,
    /// `None` when Chart.yaml has no annotations (Go's nil map).
    pub annotations: Option<BTreeMap<String, String>>,
    pub kube_version: String,
    pub dependencies: Vec<Dependency>,
    pub chart_type: String,
}

#[derive(Debug, Clone, Default)]
pub struct Maintainer {
    pub name: String,
    pub email: String,
    pub url: String,
}

/// One `dependencies:` entry.
#[derive(Debug, Clone, Default)]
pub struct Dependency {
    pub name: String,
    pub version: String,
    pub repository: String,
    pub condition: String,
    pub tags: Vec<String>,
    pub enabled: bool,
    pub import_values: Vec<serde_json::Value>,
    pub alias: String,
}

impl Metadata {
    pub fn is_library(&self) -> bool {
        self.chart_type == "library"
    }
}

/// Why a chart cannot be loaded; each names the chart (as the user wrote it) and the file.
#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("chart archive {path}: {source}")]
    Archive {
        path: String,
        #[source]
        source: ArchiveError,
    },
    #[error("{path}/.helmignore {source}")]
    Ignore {
        path: String,
        #[source]
        source: IgnoreError,
    },
    #[error("{path} is neither a regular file nor a directory; helm refuses to load it")]
    Irregular { path: String },
    #[error("{path} is larger than {limit} bytes, the most helm reads from one chart file")]
    TooLarge { path: String, limit: u64 },
    #[error(
        "chart {chart}: subcharts nest more than {limit} levels deep; no real chart does, so it is refused"
    )]
    TooDeep { chart: String, limit: usize },
    #[error("chart {chart}: Chart.yaml file is missing")]
    MissingChartYaml { chart: String },
    #[error("chart {chart}: {file}: {message}")]
    Invalid {
        chart: String,
        file: String,
        message: String,
    },
    #[error("chart {chart}: error unpacking subchart {entry} in charts/: {source}")]
    Subchart {
        chart: String,
        entry: String,
        #[source]
        source: Box<ChartError>,
    },
}

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Subchart nesting refused beyond this depth (charts/a/charts/b/... ), so a hostile archive
/// of archives cannot recurse without end.
pub const MAX_NESTING: usize = 32;

/// Bytes one chart load may hold in memory, archives inside archives included: Helm's cap for
/// one chart, so a small archive of archives cannot expand without bound.
struct Budget {
    left: std::cell::Cell<u64>,
}

impl Budget {
    fn new() -> Budget {
        Budget {
            left: std::cell::Cell::new(Limits::default().max_total_bytes),
        }
    }

    fn limits(&self) -> Limits {
        Limits {
            max_total_bytes: self.left.get(),
            ..Limits::default()
        }
    }

    fn spend(&self, bytes: u64) {
        self.left.set(self.left.get().saturating_sub(bytes));
    }
}

/// Loads the chart at `path`: a chart directory or a packaged `.tgz`; `shown` names it in
/// messages (the chart as the user wrote it, not the cache path).
pub fn load(path: &Path, shown: &str) -> Result<Chart, ChartError> {
    let shown = shown.to_string();
    let meta = std::fs::metadata(path).map_err(|source| ChartError::Io {
        path: shown.clone(),
        source,
    })?;
    if meta.is_dir() {
        load_dir(path, &shown, &Budget::new())
    } else {
        let bytes = std::fs::read(path).map_err(|source| ChartError::Io {
            path: shown.clone(),
            source,
        })?;
        archive_at(&bytes, &shown, &Budget::new(), 0)
    }
}

/// Loads a chart archive held in memory; `shown` names it in messages.
pub fn load_archive(bytes: &[u8], shown: &str) -> Result<Chart, ChartError> {
    archive_at(bytes, shown, &Budget::new(), 0)
}

fn archive_at(
    bytes: &[u8],
    shown: &str,
    budget: &Budget,
    depth: usize,
) -> Result<Chart, ChartError> {
    let (_top, files) = archive::read_chart_files(bytes, &budget.limits()).map_err(|source| {
        ChartError::Archive {
            path: shown.to_string(),
            source,
        }
    })?;
    budget.spend(files.iter().map(|(_, d)| d.len() as u64).sum());
    build(files, shown, budget, depth)
}

/// Loads a chart directory, applying its root `.helmignore` to the whole tree.
fn load_dir(dir: &Path, shown: &str, budget: &Budget) -> Result<Chart, ChartError> {
    let rules = match std::fs::read_to_string(dir.join(".helmignore")) {
        Ok(text) => Rules::parse(&text).map_err(|source| ChartError::Ignore {
            path: shown.to_string(),
            source,
        })?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Rules::defaults(),
        Err(source) => {
            return Err(ChartError::Io {
                path: format!("{shown}/.helmignore"),
                source,
            });
        }
    };
    let limits = Limits::default();
    let mut files = Vec::new();
    let mut walk = walkdir::WalkDir::new(dir)
        .follow_links(true)
        .sort_by_file_name()
        .min_depth(1)
        .into_iter();
    let mut total = 0u64;
    while let Some(entry) = walk.next() {
        let entry = entry.map_err(|e| ChartError::Io {
            path: e
                .path()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| shown.to_string()),
            source: e.into(),
        })?;
        let rel = entry
            .path()
            .strip_prefix(dir)
            .unwrap_or(entry.path())
            .to_string_lossy()
            .replace('\\', "/");
        let file_type = entry.file_type();
        if file_type.is_dir() {
            if rules.ignores(&rel, true) {
                walk.skip_current_dir();
            }
            continue;
        }
        if rules.ignores(&rel, false) {
            continue;
        }
        let shown_path = format!("{shown}/{rel}");
        if !file_type.is_file() {
            return Err(ChartError::Irregular { path: shown_path });
        }
        let data = std::fs::read(entry.path()).map_err(|source| ChartError::Io {
            path: shown_path.clone(),
            source,
        })?;
        total += data.len() as u64;
        if data.len() as u64 > limits.max_file_bytes || total > limits.max_total_bytes {
            return Err(ChartError::TooLarge {
                path: shown_path,
                limit: limits.max_file_bytes,
            });
        }
        files.push((rel, data));
    }
    budget.spend(total);
    build(files, shown, budget, 0)
}

/// Builds a chart from its files (paths relative to the chart root), as Helm's `LoadFiles`.
pub fn from_files(files: Vec<(String, Vec<u8>)>, shown: &str) -> Result<Chart, ChartError> {
    build(files, shown, &Budget::new(), 0)
}

/// A chart's files sorted into Helm's kinds, before any is parsed.
#[derive(Default)]
struct Sorted {
    chart_yaml: Option<Vec<u8>>,
    requirements: Option<Vec<u8>>,
    values: Option<Vec<u8>>,
    schema: Option<Vec<u8>>,
    templates: Vec<(String, String)>,
    plain: BTreeMap<String, Vec<u8>>,
    /// `charts/` entries by their first path element, paths inside `charts/`.
    subcharts: BTreeMap<String, Vec<(String, Vec<u8>)>>,
}

impl Sorted {
    fn add(&mut self, name: String, mut data: Vec<u8>) {
        if data.starts_with(UTF8_BOM) {
            data.drain(..UTF8_BOM.len());
        }
        match name.as_str() {
            "Chart.yaml" => self.chart_yaml = Some(data),
            "values.yaml" => self.values = Some(data),
            "values.schema.json" => self.schema = Some(data),
            "Chart.lock" => {}
            "requirements.yaml" => {
                self.requirements = Some(data.clone());
                self.plain.insert(name, data);
            }
            _ if name.starts_with("templates/") => {
                self.templates
                    .push((name, String::from_utf8_lossy(&data).into_owned()));
            }
            _ if name.starts_with("charts/") && !name.ends_with(".prov") => {
                let inner = &name["charts/".len()..];
                let entry = inner.split('/').next().unwrap_or_default().to_string();
                self.subcharts
                    .entry(entry)
                    .or_default()
                    .push((inner.to_string(), data));
            }
            _ => {
                self.plain.insert(name, data);
            }
        }
    }
}

fn build(
    files: Vec<(String, Vec<u8>)>,
    shown: &str,
    budget: &Budget,
    depth: usize,
) -> Result<Chart, ChartError> {
    if depth > MAX_NESTING {
        return Err(ChartError::TooDeep {
            chart: shown.to_string(),
            limit: MAX_NESTING,
        });
    }
    let order: Vec<String> = files.iter().map(|(name, _)| name.clone()).collect();
    let mut sorted = Sorted::default();
    for (name, data) in files {
        sorted.add(name, data);
    }
    let chart_yaml = sorted
        .chart_yaml
        .ok_or_else(|| ChartError::MissingChartYaml {
            chart: shown.to_string(),
        })?;
    let mut metadata = parse_metadata(&chart_yaml, shown, "Chart.yaml")?;
    if let Some(req) = sorted.requirements
        && let Some(deps) = parse_requirements(&req, shown)?
    {
        metadata.dependencies = deps;
    }
    validate(&mut metadata, shown)?;
    let mut plain = sorted.plain;
    // v1 charts keep requirements.yaml and requirements.lock in Files; later ones do not.
    if metadata.api_version != "v1" {
        plain.remove("requirements.yaml");
        plain.remove("requirements.lock");
    }
    let values_docs = match sorted.values {
        Some(text) => parse_values(&text, shown)?,
        None => Vec::new(),
    };
    let mut subcharts = Vec::new();
    for (entry, group) in sorted.subcharts {
        if entry.starts_with('_') || entry.starts_with('.') {
            continue;
        }
        let sub = load_subchart(&entry, group, shown, budget, depth + 1).map_err(|source| {
            ChartError::Subchart {
                chart: shown.to_string(),
                entry: entry.clone(),
                source: Box::new(source),
            }
        })?;
        subcharts.push(sub);
    }
    Ok(Chart {
        metadata,
        values_docs,
        schema: sorted.schema,
        schema_validator: std::sync::OnceLock::new(),
        templates: sorted.templates,
        file_order: order
            .into_iter()
            .filter(|n| plain.contains_key(n))
            .collect(),
        files: Arc::new(plain),
        subcharts,
    })
}

fn load_subchart(
    entry: &str,
    group: Vec<(String, Vec<u8>)>,
    parent: &str,
    budget: &Budget,
    depth: usize,
) -> Result<Chart, ChartError> {
    let shown = format!("{parent}/charts/{entry}");
    if entry.ends_with(".tgz") {
        return match group.into_iter().find(|(name, _)| name == entry) {
            Some((_, data)) => archive_at(&data, &shown, budget, depth),
            None => Err(ChartError::MissingChartYaml { chart: shown }),
        };
    }
    let files = group
        .into_iter()
        .filter_map(|(name, data)| {
            name.split_once('/')
                .map(|(_, rest)| (rest.to_string(), data))
        })
        .collect();
    build(files, &shown, budget, depth)
}

fn invalid(chart: &str, file: &str, message: impl Into<String>) -> ChartError {
    ChartError::Invalid {
        chart: chart.to_string(),
        file: file.to_string(),
        message: message.into(),
    }
}

/// values.yaml's documents, each a map (an empty or comment-only document is `{}`).
fn parse_values(
    data: &[u8],
    chart: &str,
) -> Result<Vec<serde_json::Map<String, serde_json::Value>>, ChartError> {
    let text = String::from_utf8_lossy(data);
    let docs = helm_reader::read_go_documents(&text)
        .map_err(|e| invalid(chart, "values.yaml", e.to_string()))?;
    let mut out = Vec::new();
    for doc in docs {
        match go_to_json(&doc).map_err(|m| invalid(chart, "values.yaml", m))? {
            serde_json::Value::Object(map) => out.push(map),
            serde_json::Value::Null => out.push(serde_json::Map::new()),
            _ => {
                return Err(invalid(
                    chart,
                    "values.yaml",
                    "the top level must be a map of keys to values",
                ));
            }
        }
    }
    Ok(out)
}

/// A YAML value as Helm holds it after its YAML→JSON→Go trip: every number a float64.
pub fn go_to_json(value: &GoValue) -> Result<serde_json::Value, String> {
    use serde_json::Value as J;
    Ok(match value {
        GoValue::Null => J::Null,
        GoValue::Bool(b) => J::Bool(*b),
        GoValue::Int(n) => float((*n) as f64)?,
        GoValue::UInt(n) => float((*n) as f64)?,
        GoValue::Float(f) => float(*f)?,
        GoValue::String(s) => J::String(s.clone()),
        GoValue::Seq(items) => J::Array(items.iter().map(go_to_json).collect::<Result<_, _>>()?),
        GoValue::Map(map) => J::Object(
            map.iter()
                .map(|(k, v)| Ok((k.to_string(), go_to_json(v)?)))
                .collect::<Result<_, String>>()?,
        ),
    })
}

fn float(f: f64) -> Result<serde_json::Value, String> {
    serde_json::Number::from_f64(f)
        .map(serde_json::Value::Number)
        .ok_or_else(|| {
            format!(
                "json: unsupported value: {}",
                gotemplate::gofloat::format_v(f)
            )
        })
}

fn parse_map(data: &[u8], chart: &str, file: &str) -> Result<GoMap, ChartError> {
    let text = String::from_utf8_lossy(data);
    let mut docs =
        helm_reader::read_go_documents(&text).map_err(|e| invalid(chart, file, e.to_string()))?;
    match docs.drain(..).next() {
        Some(GoValue::Map(map)) => Ok(map),
        Some(GoValue::Null) | None => Ok(GoMap::default()),
        Some(_) => Err(invalid(chart, file, "the top level must be a map")),
    }
}

/// Chart.yaml into [`Metadata`], with Helm's validation of name, version and type.
fn parse_metadata(data: &[u8], chart: &str, file: &str) -> Result<Metadata, ChartError> {
    let map = parse_map(data, chart, file)?;
    let bad = |m: String| invalid(chart, file, m);
    let text = |key: &str| field_string(map.get(key), key).map_err(bad);
    let list = |key: &str| field_strings(map.get(key), key).map_err(bad);
    let mut meta = Metadata {
        name: text("name")?,
        home: text("home")?,
        sources: list("sources")?,
        version: text("version")?,
        description: text("description")?,
        keywords: list("keywords")?,
        icon: text("icon")?,
        api_version: text("apiVersion")?,
        condition: text("condition")?,
        tags: text("tags")?,
        app_version: text("appVersion")?,
        deprecated: field_bool(map.get("deprecated"), "deprecated").map_err(bad)?,
        kube_version: text("kubeVersion")?,
        chart_type: text("type")?,
        ..Metadata::default()
    };
    meta.maintainers = match map.get("maintainers") {
        None | Some(GoValue::Null) => Vec::new(),
        Some(GoValue::Seq(items)) => items
            .iter()
            .map(|item| {
                let m = as_map(item, "maintainers").map_err(bad)?;
                Ok(Maintainer {
                    name: field_string(m.get("name"), "name").map_err(bad)?,
                    email: field_string(m.get("email"), "email").map_err(bad)?,
                    url: field_string(m.get("url"), "url").map_err(bad)?,
                })
            })
            .collect::<Result<_, ChartError>>()?,
        Some(_) => return Err(bad("maintainers must be a list".into())),
    };
    meta.annotations = match map.get("annotations") {
        None | Some(GoValue::Null) => None,
        Some(GoValue::Map(m)) => Some(
            m.iter()
                .map(|(k, v)| Ok((k.to_string(), field_string(Some(v), k).map_err(bad)?)))
                .collect::<Result<_, ChartError>>()?,
        ),
        Some(_) => return Err(bad("annotations must be a map".into())),
    };
    meta.dependencies = parse_dependencies(map.get("dependencies"), chart, file)?;
    if meta.api_version.is_empty() {
        meta.api_version = "v1".into();
    }
    Ok(meta)
}

/// Helm's `Metadata.Validate`: text fields lose control characters, and the name, version,
/// type and dependency aliases are checked (a name or alias becomes part of template paths).
fn validate(meta: &mut Metadata, chart: &str) -> Result<(), ChartError> {
    let bad = |m: String| invalid(chart, "Chart.yaml", format!("validation: {m}"));
    sanitize_metadata(meta);
    if meta.name.is_empty() {
        return Err(bad("chart.metadata.name is required".into()));
    }
    if meta.name.contains('/') || meta.name == "." || meta.name == ".." {
        return Err(bad(format!(
            "chart.metadata.name {:?} is invalid",
            meta.name
        )));
    }
    if meta.version.is_empty() {
        return Err(bad("chart.metadata.version is required".into()));
    }
    if crate::semver::Version::parse(&meta.version).is_err() {
        return Err(bad(format!(
            "chart.metadata.version {:?} is invalid",
            meta.version
        )));
    }
    if !matches!(meta.chart_type.as_str(), "" | "application" | "library") {
        return Err(bad(
            "chart.metadata.type must be application or library".into()
        ));
    }
    let mut keys = std::collections::BTreeSet::new();
    for dep in &meta.dependencies {
        let alias_ok = dep
            .alias
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !alias_ok {
            return Err(bad(format!(
                "dependency {:?} has disallowed characters in the alias",
                dep.name
            )));
        }
        let key = if dep.alias.is_empty() {
            &dep.name
        } else {
            &dep.alias
        };
        if !keys.insert(key.clone()) {
            return Err(bad(format!(
                "more than one dependency with name or alias {key:?}"
            )));
        }
    }
    Ok(())
}

/// Go's `sanitizeString` over every text field Helm sanitises.
fn sanitize_metadata(meta: &mut Metadata) {
    for field in [
        &mut meta.name,
        &mut meta.description,
        &mut meta.home,
        &mut meta.icon,
        &mut meta.condition,
        &mut meta.tags,
        &mut meta.app_version,
        &mut meta.kube_version,
    ] {
        *field = sanitize(field);
    }
    for list in [&mut meta.sources, &mut meta.keywords] {
        for item in list.iter_mut() {
            *item = sanitize(item);
        }
    }
    for m in &mut meta.maintainers {
        for field in [&mut m.name, &mut m.email, &mut m.url] {
            *field = sanitize(field);
        }
    }
    for dep in &mut meta.dependencies {
        for field in [
            &mut dep.name,
            &mut dep.version,
            &mut dep.repository,
            &mut dep.condition,
        ] {
            *field = sanitize(field);
        }
        for tag in &mut dep.tags {
            *tag = sanitize(tag);
        }
    }
}

/// Go's `sanitizeString`: white space becomes a space, unprintable characters go.
fn sanitize(text: &str) -> String {
    text.chars()
        .filter_map(|c| {
            if c.is_whitespace() {
                Some(' ')
            } else if c.is_control() || matches!(c, '\u{200b}'..='\u{200f}' | '\u{feff}') {
                None
            } else {
                Some(c)
            }
        })
        .collect()
}

fn parse_requirements(data: &[u8], chart: &str) -> Result<Option<Vec<Dependency>>, ChartError> {
    let map = parse_map(data, chart, "requirements.yaml")?;
    match map.get("dependencies") {
        None => Ok(None),
        some => parse_dependencies(some, chart, "requirements.yaml").map(Some),
    }
}

fn parse_dependencies(
    value: Option<&GoValue>,
    chart: &str,
    file: &str,
) -> Result<Vec<Dependency>, ChartError> {
    let bad = |m: String| invalid(chart, file, m);
    let items = match value {
        None | Some(GoValue::Null) => return Ok(Vec::new()),
        Some(GoValue::Seq(items)) => items,
        Some(_) => return Err(bad("dependencies must be a list".into())),
    };
    items
        .iter()
        .map(|item| {
            let m = as_map(item, "dependencies").map_err(bad)?;
            let text = |key: &str| field_string(m.get(key), key).map_err(bad);
            let import_values = match m.get("import-values") {
                None | Some(GoValue::Null) => Vec::new(),
                Some(GoValue::Seq(items)) => items
                    .iter()
                    .map(go_to_json)
                    .collect::<Result<_, _>>()
                    .map_err(bad)?,
                Some(_) => return Err(bad("import-values must be a list".into())),
            };
            Ok(Dependency {
                name: text("name")?,
                version: text("version")?,
                repository: text("repository")?,
                condition: text("condition")?,
                tags: field_strings(m.get("tags"), "tags").map_err(bad)?,
                enabled: field_bool(m.get("enabled"), "enabled").map_err(bad)?,
                import_values,
                alias: text("alias")?,
            })
        })
        .collect()
}

fn as_map<'a>(value: &'a GoValue, key: &str) -> Result<&'a GoMap, String> {
    match value {
        GoValue::Map(m) => Ok(m),
        _ => Err(format!("each entry of {key} must be a map")),
    }
}

/// A Chart.yaml string field: Go's YAML reader turns a number or bool written there into its
/// text (`version: 1.10` is the string "1.1").
fn field_string(value: Option<&GoValue>, key: &str) -> Result<String, String> {
    Ok(match value {
        None | Some(GoValue::Null) => String::new(),
        Some(GoValue::String(s)) => s.clone(),
        Some(GoValue::Bool(b)) => b.to_string(),
        Some(GoValue::Int(n)) => n.to_string(),
        Some(GoValue::UInt(n)) => n.to_string(),
        Some(GoValue::Float(f)) => crate::yaml::go_scalar::go_float32_key(*f),
        Some(_) => return Err(format!("{key} must be a string")),
    })
}

fn field_strings(value: Option<&GoValue>, key: &str) -> Result<Vec<String>, String> {
    match value {
        None | Some(GoValue::Null) => Ok(Vec::new()),
        Some(GoValue::Seq(items)) => items.iter().map(|v| field_string(Some(v), key)).collect(),
        Some(_) => Err(format!("{key} must be a list of strings")),
    }
}

fn field_bool(value: Option<&GoValue>, key: &str) -> Result<bool, String> {
    match value {
        None | Some(GoValue::Null) => Ok(false),
        Some(GoValue::Bool(b)) => Ok(*b),
        Some(_) => Err(format!("{key} must be true or false")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(list: &[(&str, &str)]) -> Vec<(String, Vec<u8>)> {
        list.iter()
            .map(|(n, d)| (n.to_string(), d.as_bytes().to_vec()))
            .collect()
    }

    #[test]
    fn groups_files_as_helm_does() {
        let chart = from_files(
            files(&[
                (
                    "Chart.yaml",
                    "\u{feff}apiVersion: v2\nname: c\nversion: 1.10\n",
                ),
                ("values.yaml", "a: 1\n---\nb: 2\n"),
                ("templates/a.yaml", "x"),
                ("crds/c.yaml", "crd"),
                ("README.md", "r"),
                ("charts/_skip/Chart.yaml", "bad"),
                ("charts/sub/Chart.yaml", "name: sub\nversion: 0.1.0\n"),
                ("charts/sub.prov", "p"),
            ]),
            "c",
        )
        .unwrap();
        assert_eq!(chart.metadata.version, "1.1");
        let big = from_files(
            files(&[(
                "Chart.yaml",
                "name: c\nversion: 1.0.0\nappVersion: 1234567.0\n",
            )]),
            "c",
        )
        .unwrap();
        assert_eq!(big.metadata.app_version, "1.234567e+06");
        assert_eq!(chart.values_docs.len(), 2);
        assert_eq!(chart.templates[0].0, "templates/a.yaml");
        let names: Vec<_> = chart.files.keys().cloned().collect();
        assert_eq!(names, ["README.md", "charts/sub.prov", "crds/c.yaml"]);
        assert_eq!(chart.subcharts.len(), 1);
        assert_eq!(chart.subcharts[0].metadata.api_version, "v1");
    }

    #[test]
    fn a_stray_file_in_charts_is_an_error() {
        let err = from_files(
            files(&[
                ("Chart.yaml", "name: c\nversion: 1.0.0\n"),
                ("charts/README.md", "r"),
            ]),
            "c",
        )
        .unwrap_err();
        assert!(err.to_string().contains("README.md"), "{err}");
    }

    #[test]
    fn chart_yaml_is_validated() {
        let err = from_files(files(&[("Chart.yaml", "name: c\n")]), "c").unwrap_err();
        assert!(err.to_string().contains("version is required"), "{err}");
        let err = from_files(
            files(&[("Chart.yaml", "name: c\nversion: 1.0.0\ntype: other\n")]),
            "c",
        )
        .unwrap_err();
        assert!(err.to_string().contains("type"), "{err}");
        for (yaml, needle) in [
            ("name: a/b\nversion: 1.0.0\n", "is invalid"),
            (
                "name: c\nversion: 1.0.0\ndependencies: [{name: s, alias: ../x}]\n",
                "disallowed characters",
            ),
            (
                "name: c\nversion: 1.0.0\ndependencies: [{name: s}, {name: t, alias: s}]\n",
                "more than one dependency",
            ),
        ] {
            let err = from_files(files(&[("Chart.yaml", yaml)]), "c").unwrap_err();
            assert!(err.to_string().contains(needle), "{err}");
        }
        let chart = from_files(
            files(&[(
                "Chart.yaml",
                "name: c\nversion: 1.0.0\ndescription: \"a\\tb\\u0007c\"\n",
            )]),
            "c",
        )
        .unwrap();
        assert_eq!(chart.metadata.description, "a bc");
    }

    #[test]
    fn subcharts_nested_without_end_are_refused() {
        let mut list = Vec::new();
        let mut prefix = String::new();
        for _ in 0..=MAX_NESTING + 1 {
            list.push((
                format!("{prefix}Chart.yaml"),
                b"name: a\nversion: 1.0.0\n".to_vec(),
            ));
            prefix.push_str("charts/a/");
        }
        let err = from_files(list, "a").unwrap_err();
        let mut source: &dyn std::error::Error = &err;
        while let Some(next) = source.source() {
            source = next;
        }
        assert!(source.to_string().contains("nest more than"), "{source}");
    }
}
