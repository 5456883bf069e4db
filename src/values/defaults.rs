//! A chart's own defaults as the lowest values layer, for `strata explain`: the chart's
//! values.yaml, and each subchart's values.yaml under the subchart's key (its alias when the
//! parent's Chart.yaml gives one), each with its file and line inside the chart.
//!
//! This layer is for explaining only; helm reads the chart's defaults itself. Which subcharts
//! a condition or tag turns off is helm's decision at render time, so their defaults are
//! shown as the chart declares them.

use super::layer::Layer;
use super::merge::merge;
use super::{Node, NodeKind, Origin};
use crate::chart::archive::{Limits, unpack_chart};
use crate::yaml;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

#[derive(Deserialize)]
struct ChartYaml {
    name: String,
    version: String,
    #[serde(default)]
    dependencies: Vec<DependencyYaml>,
}

#[derive(Deserialize)]
struct DependencyYaml {
    name: String,
    #[serde(default)]
    alias: Option<String>,
}

/// The chart's name and version, and its defaults as a layer named `<name>-<version>/…`
/// (the chart archive's own layout), or why they cannot be read.
pub fn chart_defaults(chart: &Path) -> Result<(String, Layer), String> {
    let holder;
    let dir = if chart.is_dir() {
        chart
    } else {
        holder = unpack(chart)?;
        holder.path()
    };
    let (meta, node) = read_chart(dir, "")?;
    let prefix = format!("{}-{}", meta.name, meta.version);
    let source: Arc<str> = Arc::from(format!("chart {prefix}"));
    Ok((
        prefix,
        Layer {
            source,
            tree: node,
            chart_defaults: true,
        },
    ))
}

fn unpack(archive: &Path) -> Result<tempfile::TempDir, String> {
    let file = std::fs::File::open(archive).map_err(|e| e.to_string())?;
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    unpack_chart(file, dir.path(), &Limits::default()).map_err(|e| e.to_string())?;
    Ok(dir)
}

/// Reads `dir`'s values.yaml and its direct subcharts' defaults; `parent` is the path shown
/// before this chart's files (empty for the root chart).
fn read_chart(dir: &Path, parent: &str) -> Result<(ChartYaml, Node), String> {
    let chart_text = std::fs::read_to_string(dir.join("Chart.yaml"))
        .map_err(|e| format!("cannot read Chart.yaml: {e}"))?;
    let meta: ChartYaml = yaml::parse_large(&chart_text).map_err(|e| format!("Chart.yaml: {e}"))?;
    let here = format!("{parent}{}-{}/", meta.name, meta.version);
    let source: Arc<str> = Arc::from(format!("{here}values.yaml"));
    let own = match std::fs::read_to_string(dir.join("values.yaml")) {
        Ok(text) => {
            Layer::from_yaml(&text, source.clone())
                .map_err(|e| e.to_string())?
                .tree
        }
        Err(_) => Node::empty_map(Origin { source, line: 0 }),
    };
    // Subchart defaults sit under the subchart's key, below what the parent sets there.
    let mut aliases: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for dep in &meta.dependencies {
        aliases
            .entry(dep.name.as_str())
            .or_default()
            .push(dep.alias.as_deref().unwrap_or(&dep.name));
    }
    let mut subcharts = BTreeMap::new();
    let charts_dir = dir.join("charts");
    let mut entries: Vec<_> = std::fs::read_dir(&charts_dir)
        .map(|r| r.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    entries.sort();
    for path in entries {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        if name.is_none_or(|n| n.starts_with(['.', '_'])) {
            continue;
        }
        let holder;
        let sub_dir = if path.is_dir() {
            path.as_path()
        } else if path.extension().is_some_and(|e| e == "tgz") {
            holder = unpack(&path)?;
            holder.path()
        } else {
            continue;
        };
        let Ok((sub_meta, sub_node)) = read_chart(sub_dir, &format!("{here}charts/")) else {
            continue;
        };
        let keys = aliases
            .get(sub_meta.name.as_str())
            .cloned()
            .unwrap_or_else(|| vec![sub_meta.name.as_str()]);
        for key in keys {
            subcharts.insert(key.to_owned(), sub_node.clone());
        }
    }
    if subcharts.is_empty() {
        return Ok((meta, own));
    }
    let mut base = Node::empty_map(own.origin.clone());
    if let NodeKind::Map(map) = &mut base.kind {
        map.extend(subcharts);
    }
    Ok((meta, merge(base, own)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subchart_defaults_sit_under_their_alias_below_the_parent() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        std::fs::create_dir_all(root.join("charts/sub")).unwrap();
        std::fs::write(
            root.join("Chart.yaml"),
            "apiVersion: v2\nname: app\nversion: 1.2.0\ndependencies:\n  - name: sub\n    alias: db\n",
        )
        .unwrap();
        std::fs::write(
            root.join("values.yaml"),
            "image:\n  tag: \"1.0\"\ndb:\n  size: 5\n",
        )
        .unwrap();
        std::fs::write(
            root.join("charts/sub/Chart.yaml"),
            "name: sub\nversion: 0.3.0\n",
        )
        .unwrap();
        std::fs::write(
            root.join("charts/sub/values.yaml"),
            "size: 1\nuser: admin\n",
        )
        .unwrap();
        let (prefix, layer) = chart_defaults(root).unwrap();
        assert_eq!(prefix, "app-1.2.0");
        let tag = layer.tree.get(&["image".into(), "tag".into()]).unwrap();
        assert_eq!(tag.origin.to_string(), "app-1.2.0/values.yaml:2");
        let size = layer.tree.get(&["db".into(), "size".into()]).unwrap();
        assert_eq!(size.origin.to_string(), "app-1.2.0/values.yaml:4");
        let user = layer.tree.get(&["db".into(), "user".into()]).unwrap();
        assert_eq!(
            user.origin.to_string(),
            "app-1.2.0/charts/sub-0.3.0/values.yaml:2"
        );
    }
}
