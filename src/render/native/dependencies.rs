//! Which subcharts render, under which names, with which defaults: Helm's dependency
//! processing before a render.
//!
//! Steps, in Helm's order: the charts in `charts/` are matched to the Chart.yaml entries by
//! name and version range (a chart whose version does not match stays, undeclared, under its
//! own name, its alias and condition ignored); an aliased entry gets its own copy of the chart;
//! `tags` and `condition` (the first path that holds a bool wins, and overrides tags) are
//! evaluated on the values coalesced so far, and disabled charts are dropped; then, from the
//! deepest chart up, `import-values` are applied and each chart that declares dependencies has
//! its defaults rewritten to its values.yaml merged over its subcharts' (nulls kept).

use super::chart::{Chart, Dependency};
use super::values::{self, NullRule, TypeMismatch};
use crate::semver::{Constraint, Version};
use serde_json::{Map, Value};

/// A chart as it takes part in one render.
#[derive(Debug, Clone)]
pub struct Node<'a> {
    pub chart: &'a Chart,
    /// The chart's name, or its alias.
    pub name: String,
    /// Its defaults (rewritten for charts with dependencies).
    pub values: Map<String, Value>,
    /// Its Chart.yaml dependency entries as processing leaves them (renamed to aliases,
    /// disabled ones removed, import-values made explicit).
    pub requirements: Vec<Dependency>,
    pub deps: Vec<Node<'a>>,
}

impl<'a> Node<'a> {
    /// The chart as loaded, before processing, with `values` as its defaults.
    pub fn raw(chart: &'a Chart, rule: NullRule) -> Node<'a> {
        Node {
            chart,
            name: chart.metadata.name.clone(),
            values: chart_defaults(chart, rule),
            requirements: chart.metadata.dependencies.clone(),
            deps: chart.subcharts.iter().map(|c| Node::raw(c, rule)).collect(),
        }
    }
}

/// A chart's values.yaml: Helm 3 reads the first document, Helm 4 merges them all.
pub fn chart_defaults(chart: &Chart, rule: NullRule) -> Map<String, Value> {
    let mut docs = chart.values_docs.iter();
    let mut out = docs.next().cloned().unwrap_or_default();
    if rule == NullRule::Helm4 {
        for doc in docs {
            values::merge_maps(&mut out, doc.clone());
        }
    }
    out
}

/// Why dependencies cannot be processed.
#[derive(Debug, thiserror::Error)]
pub enum DependencyError {
    #[error(
        "chart {chart}: found in Chart.yaml, but missing in charts/ directory: {missing}. Run `helm dependency build` or vendor the charts"
    )]
    Missing { chart: String, missing: String },
    #[error(transparent)]
    Values(#[from] TypeMismatch),
}

/// Helm's check that every declared dependency has a chart in `charts/` (root chart only).
pub fn check_present(chart: &Chart) -> Result<(), DependencyError> {
    let missing: Vec<&str> = chart
        .metadata
        .dependencies
        .iter()
        .filter(|r| !chart.subcharts.iter().any(|c| c.metadata.name == r.name))
        .map(|r| r.name.as_str())
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(DependencyError::Missing {
            chart: chart.metadata.name.clone(),
            missing: missing.join(", "),
        })
    }
}

/// Processes `root`'s dependencies for `user` values; returns the tree that renders.
pub fn process<'a>(
    root: &'a Chart,
    user: &Map<String, Value>,
    rule: NullRule,
) -> Result<Node<'a>, DependencyError> {
    let mut node = Node::raw(root, rule);
    process_enabled(&mut node, user, "", rule)?;
    import_values(&mut node, rule)?;
    Ok(node)
}

/// Masterminds' `IsCompatibleRange`: an unparsable range or version is no match.
fn compatible(range: &str, version: &str) -> bool {
    match (Constraint::parse(range), Version::parse(version)) {
        (Ok(c), Ok(v)) => c.matches(&v),
        _ => false,
    }
}

fn process_enabled(
    node: &mut Node,
    values: &Map<String, Value>,
    path: &str,
    rule: NullRule,
) -> Result<(), DependencyError> {
    if node.requirements.is_empty() {
        return Ok(());
    }
    let existing = std::mem::take(&mut node.deps);
    let mut deps: Vec<Node> = existing
        .iter()
        .filter(|ex| {
            !node
                .requirements
                .iter()
                .any(|r| r.name == ex.name && compatible(&r.version, &ex.chart.metadata.version))
        })
        .cloned()
        .collect();
    for req in &mut node.requirements {
        let found = existing
            .iter()
            .find(|c| c.name == req.name && compatible(&req.version, &c.chart.metadata.version));
        if let Some(found) = found {
            let mut copy = found.clone();
            if !req.alias.is_empty() {
                copy.name = req.alias.clone();
            }
            deps.push(copy);
        }
        if !req.alias.is_empty() {
            req.name = req.alias.clone();
        }
        req.enabled = true;
    }
    node.deps = deps;
    let mut cvals = values.clone();
    values::coalesce(node, &mut cvals, false, rule)?;
    apply_tags(&mut node.requirements, &cvals);
    apply_conditions(&mut node.requirements, &cvals, path);
    let disabled: Vec<String> = node
        .requirements
        .iter()
        .filter(|r| !r.enabled)
        .map(|r| r.name.clone())
        .collect();
    node.deps.retain(|d| !disabled.contains(&d.name));
    node.requirements.retain(|r| !disabled.contains(&r.name));
    for dep in &mut node.deps {
        let sub_path = format!("{path}{}.", dep.name);
        process_enabled(dep, &cvals, &sub_path, rule)?;
    }
    Ok(())
}

/// A chart is disabled by tags when one of its tags is false and none is true.
fn apply_tags(reqs: &mut [Dependency], values: &Map<String, Value>) {
    let Some(tags) = values::table(values, "tags") else {
        return;
    };
    for req in reqs {
        let (mut any_true, mut any_false) = (false, false);
        for tag in &req.tags {
            match tags.get(tag) {
                Some(Value::Bool(true)) => any_true = true,
                Some(Value::Bool(false)) => any_false = true,
                Some(_) => tracing::warn!("tag {tag:?} for chart {} is not a bool", req.name),
                None => {}
            }
        }
        req.enabled = any_true || !any_false;
    }
}

/// The first condition path that holds a bool decides; a non-bool is warned about and skipped.
fn apply_conditions(reqs: &mut [Dependency], values: &Map<String, Value>, path: &str) {
    for req in reqs {
        for cond in req.condition.trim().split(',') {
            if cond.is_empty() {
                continue;
            }
            match values::path_value(values, &format!("{path}{cond}")) {
                Some(Value::Bool(b)) => {
                    req.enabled = *b;
                    break;
                }
                Some(_) => tracing::warn!(
                    "condition path {cond:?} for chart {} returned a non-bool value",
                    req.name
                ),
                None => {}
            }
        }
    }
}

/// `import-values`, deepest chart first; every chart with dependencies gets its defaults
/// rewritten to its own merged over its subcharts' (Helm's "merge" mode: nulls kept).
fn import_values(node: &mut Node, rule: NullRule) -> Result<(), DependencyError> {
    for dep in &mut node.deps {
        import_values(dep, rule)?;
    }
    if node.requirements.is_empty() {
        return Ok(());
    }
    let mut cvals = Map::new();
    values::coalesce(node, &mut cvals, true, rule)?;
    let mut imported = Map::new();
    for req in &mut node.requirements {
        let mut explicit = Vec::new();
        for iv in &req.import_values {
            let (child, parent) = match iv {
                Value::Object(m) => (go_text(m.get("child")), go_text(m.get("parent"))),
                Value::String(s) => (format!("exports.{s}"), ".".to_string()),
                _ => continue,
            };
            explicit.push(serde_json::json!({"child": child, "parent": parent}));
            let Some(table) = values::table(&cvals, &format!("{}.{child}", req.name)) else {
                tracing::warn!("import-values: chart {} has no table {child:?}", req.name);
                continue;
            };
            let src = path_to_map(&parent, table.clone());
            values::coalesce_tables(&mut imported, src, true, rule);
        }
        req.import_values = explicit;
    }
    values::coalesce_tables(&mut cvals, imported, true, rule);
    node.values = cvals;
    Ok(())
}

/// Go's `%v` of an import-values field (a string, usually).
fn go_text(value: Option<&Value>) -> String {
    match value {
        Some(Value::String(s)) => s.clone(),
        None | Some(Value::Null) => "<nil>".into(),
        Some(other) => other.to_string(),
    }
}

fn path_to_map(path: &str, data: Map<String, Value>) -> Map<String, Value> {
    if path == "." {
        return data;
    }
    let mut current = data;
    for part in path.split('.').rev() {
        let mut outer = Map::new();
        outer.insert(part.to_string(), Value::Object(current));
        current = outer;
    }
    current
}
