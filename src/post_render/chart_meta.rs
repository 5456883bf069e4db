//! A chart's name and version from its Chart.yaml, for the `chartName` and `chartVersion`
//! variables of label and annotation templates.
//!
//! Read only when a template uses them, from the chart helm renders: the unpacked cache entry
//! of a versioned chart, or the chart in the repository (a directory or a `.tgz`).

use super::PostRenderError;
use crate::chart::archive::{Limits, unpack_chart};
use crate::yaml;
use serde::Deserialize;
use std::path::Path;

/// What the templates see of a chart.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChartMeta {
    pub name: String,
    pub version: String,
}

/// The two fields of Chart.yaml that matter here; the others are helm's business.
#[derive(Deserialize)]
struct ChartYaml {
    name: String,
    version: String,
}

/// Reads Chart.yaml of the chart at `chart` (a directory or packaged chart). `shown` names the
/// chart in errors.
pub fn read(chart: &Path, shown: &str) -> Result<ChartMeta, PostRenderError> {
    let fail = |message: String| PostRenderError::ChartMeta {
        chart: shown.to_owned(),
        message,
    };
    let text = if chart.is_dir() {
        std::fs::read_to_string(chart.join("Chart.yaml"))
            .map_err(|e| fail(format!("cannot read Chart.yaml: {e}")))?
    } else {
        let archive = std::fs::File::open(chart).map_err(|e| fail(e.to_string()))?;
        let dir = tempfile::tempdir().map_err(|e| fail(e.to_string()))?;
        unpack_chart(archive, dir.path(), &Limits::default()).map_err(|e| fail(e.to_string()))?;
        std::fs::read_to_string(dir.path().join("Chart.yaml"))
            .map_err(|e| fail(format!("cannot read Chart.yaml: {e}")))?
    };
    // Helm reads both fields as strings, so an unquoted `version: 1.10` stays "1.10".
    let meta: ChartYaml = yaml::parse_large(&text).map_err(|e| fail(format!("Chart.yaml: {e}")))?;
    Ok(ChartMeta {
        name: meta.name,
        version: meta.version,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_name_and_version_as_text() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("Chart.yaml"),
            "apiVersion: v2\nname: web\nversion: 1.10\nappVersion: \"2\"\n",
        )
        .unwrap();
        let meta = read(dir.path(), "charts/web").unwrap();
        assert_eq!(
            meta,
            ChartMeta {
                name: "web".into(),
                version: "1.10".into()
            }
        );
        let err = read(&dir.path().join("missing"), "charts/missing").unwrap_err();
        assert!(err.to_string().contains("charts/missing"), "{err}");
    }
}
