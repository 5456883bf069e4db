//! The in-process renderer: what `helm template` does, inside strata.
//!
//! Placeholder until the chart engine lands: the types the renderer selection codes against.

pub mod output;

use super::{RenderError, Renderer, Request};
use std::collections::BTreeSet;
use std::path::Path;

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
}

/// What the native renderer can tell about a chart before rendering it.
#[derive(Debug, Clone, Default)]
pub struct Analysis {
    pub unsupported: Vec<String>,
    pub random: BTreeSet<String>,
}

pub fn analyze(_chart: &Path, _compat: &Compat) -> Analysis {
    Analysis {
        unsupported: vec!["the native chart engine is not built yet".into()],
        random: BTreeSet::new(),
    }
}

pub struct Native {
    pub compat: Compat,
}

impl Native {
    pub fn new(compat: Compat) -> Native {
        Native { compat }
    }
}

impl Renderer for Native {
    fn identity(&self, _memo_dir: &Path) -> Result<String, RenderError> {
        Ok(format!("native (helm {} rules)", self.compat.version))
    }

    fn render(&self, request: &Request) -> Result<Vec<u8>, RenderError> {
        Err(RenderError::Native(format!(
            "component {:?}: the native renderer is not built yet",
            request.component
        )))
    }
}
