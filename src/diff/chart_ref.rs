//! Which chart a component renders on one side of a diff, read from its Chart.yaml or its
//! lock entry: what [`super::inputs`] records per tenant and [`super::charts`] compares.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The chart a component renders on one side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChartRef {
    pub name: String,
    pub version: String,
    /// A local chart's directory, where its Chart.yaml is.
    pub dir: Option<PathBuf>,
    /// A versioned chart's archive digest, to find it in the chart cache once rendered.
    pub digest: Option<String>,
}

impl ChartRef {
    /// The chart's change notes, from the local directory or the chart cache; `None` when the
    /// chart has none or is not cached.
    pub(super) fn changes(&self) -> Option<String> {
        let dir = match (&self.dir, &self.digest) {
            (Some(dir), _) => dir.clone(),
            (None, Some(digest)) => crate::chart::cache::Cache::from_env().chart_dir(digest)?,
            (None, None) => return None,
        };
        changes_of(&dir)
    }
}

/// Chart.yaml's name, version and annotations.
#[derive(serde::Deserialize)]
struct ChartMeta {
    name: String,
    version: String,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
}

fn read_meta(dir: &Path) -> Option<ChartMeta> {
    let text = std::fs::read_to_string(dir.join("Chart.yaml")).ok()?;
    crate::yaml::parse_config(&text).ok()
}

/// A local chart directory's name and version; `None` for a `.tgz` or an unreadable Chart.yaml
/// (the render reports that, not the summary).
pub fn local(dir: &Path) -> Option<ChartRef> {
    let meta = read_meta(dir)?;
    Some(ChartRef {
        name: meta.name,
        version: meta.version,
        dir: Some(dir.to_path_buf()),
        digest: None,
    })
}

/// The chart's change notes (`artifacthub.io/changes`), as `strata promote` prints them.
pub fn changes_of(dir: &Path) -> Option<String> {
    read_meta(dir)?.annotations.remove("artifacthub.io/changes")
}
