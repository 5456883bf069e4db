//! What a component asks to set on its rendered objects (`commonLabels`, `commonAnnotations`,
//! `syncWave`), gathered from strata.yaml and checked before anything is read or rendered.
//! The templates are rendered later, over the tenant's variables and the chart's name and
//! version, by [`crate::post_render`].

use super::names;
use crate::config::{ComponentSpec, MetadataTemplates, Stack};

/// A `commonLabels` or `commonAnnotations` key that Kubernetes would refuse when Argo CD
/// syncs; found while planning, so the message names strata.yaml.
#[derive(Debug, thiserror::Error)]
#[error("{at}: {field} key {key:?} is not a valid Kubernetes key: {problem}")]
pub struct MetadataKeyError {
    pub at: String,
    pub field: &'static str,
    pub key: String,
    pub problem: String,
}

/// One `commonLabels` or `commonAnnotations` entry as strata.yaml declares it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MetadataTemplate {
    pub key: String,
    pub template: String,
    /// `strata.yaml:LINE`, for messages. Not part of what decides the output.
    #[serde(skip)]
    pub at: String,
}

/// A component's post-render settings before templating: the stack's entries with the
/// component's own on top (same key: the component's template).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PostRenderPlan {
    pub labels: Vec<MetadataTemplate>,
    pub annotations: Vec<MetadataTemplate>,
    pub sync_wave: Option<i64>,
}

impl PostRenderPlan {
    /// Gathers and checks the keys of the stack's and the component's settings.
    pub fn from_config(stack: &Stack, spec: &ComponentSpec) -> Result<Self, MetadataKeyError> {
        let gather =
            |field: &'static str, stack_level: &MetadataTemplates, own: &MetadataTemplates| {
                let mut out: Vec<MetadataTemplate> = Vec::new();
                for (key, template) in stack_level.iter().chain(own) {
                    let at = format!("{}:{}", stack.file_name, template.referenced.line());
                    if let Some(problem) = names::key_problem(key) {
                        return Err(MetadataKeyError {
                            at,
                            field,
                            key: key.clone(),
                            problem,
                        });
                    }
                    let entry = MetadataTemplate {
                        key: key.clone(),
                        template: template.value.0.clone(),
                        at,
                    };
                    match out.iter_mut().find(|e| e.key == *key) {
                        Some(slot) => *slot = entry,
                        None => out.push(entry),
                    }
                }
                Ok(out)
            };
        Ok(PostRenderPlan {
            labels: gather(
                "commonLabels",
                &stack.spec.common_labels,
                &spec.common_labels,
            )?,
            annotations: gather(
                "commonAnnotations",
                &stack.spec.common_annotations,
                &spec.common_annotations,
            )?,
            sync_wave: spec.sync_wave,
        })
    }

    /// Whether any object of the component is changed.
    pub fn is_active(&self) -> bool {
        !self.labels.is_empty() || !self.annotations.is_empty() || self.sync_wave.is_some()
    }
}
