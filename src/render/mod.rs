//! The render stage: a component's chart and merged values in, Kubernetes YAML out.
//!
//! Every chart render goes through the [`Renderer`] trait, so what renders (the `helm` binary
//! today, an in-process renderer later) is one choice made in one place, [`from_context`],
//! and the render cache names whatever rendered through [`Renderer::identity`] instead of
//! knowing about helm. A new renderer is one new file here implementing the trait.
//!
//! `manifests` components (plain YAML, no chart) are rendered by [`manifests`], which needs no
//! renderer: their files are read and templated by strata itself.

pub mod helm;
pub mod manifests;
pub mod native;
pub mod select;

use crate::context::Context;
use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

pub use helm::HelmError;

/// Why a render failed; each variant's message names the component and what to do.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error(transparent)]
    Helm(#[from] HelmError),
    #[error(transparent)]
    Manifests(#[from] manifests::ManifestsError),
    #[error("{0}")]
    Native(String),
}

/// Everything one chart render needs: the same inputs `helm template` takes.
#[derive(Debug)]
pub struct Request<'a> {
    pub component: &'a str,
    pub chart: &'a Path,
    /// The chart as the user wrote it, for messages.
    pub chart_shown: &'a str,
    pub release: &'a str,
    pub namespace: &'a str,
    /// The merged values, as the JSON the chart receives.
    pub values_json: &'a [u8],
    pub kube_version: Option<&'a str>,
    pub api_versions: &'a [String],
    pub include_crds: bool,
    pub skip_tests: bool,
}

/// Something that turns a chart and its values into manifests.
///
/// Implementations must be deterministic for a given [`Request`] and identity: the render
/// cache serves a stored stream whenever both are unchanged.
pub trait Renderer: Send + Sync {
    /// A short name of this renderer and its version (for example `helm v3.17.3`), part of the
    /// render cache key because another renderer may render the same chart differently.
    /// `memo_dir` is a directory where a renderer may remember what is costly to find out.
    fn identity(&self, memo_dir: &Path) -> Result<String, RenderError>;

    /// Renders one component and returns the manifest stream unchanged.
    fn render(&self, request: &Request) -> Result<Vec<u8>, RenderError>;

    /// The random functions (`randAlphaNum`, `uuidv4`, …) this renderer saw renders of the
    /// chart at `chart` call: its output then changes on every render, so it is not cached.
    /// Empty when none was called or the renderer cannot tell (helm's process).
    fn random_functions(&self, _chart: &Path, _chart_shown: &str) -> BTreeSet<String> {
        BTreeSet::new()
    }
}

/// The renderer of a stack's components: each component's choice (see [`select`]) with helm
/// from `STRATA_HELM` or the first `helm` on PATH, every helm call finished by `deadline`;
/// `budget` is the whole budget, for messages.
pub fn from_context(
    ctx: &Context,
    stack: &crate::config::StackSpec,
    deadline: Instant,
    budget: Duration,
) -> Result<Box<dyn Renderer>, RenderError> {
    let choices = select::Choices::new(stack, ctx.renderer);
    Ok(Box::new(with_choices(ctx, choices, deadline, budget)?))
}

/// [`from_context`] with the choices made by the caller (the renderer-parity command renders
/// every component with each renderer in turn).
pub fn with_choices(
    ctx: &Context,
    choices: select::Choices,
    deadline: Instant,
    budget: Duration,
) -> Result<select::Selected, RenderError> {
    let helm = helm::find_helm(ctx.helm.as_deref()).map(|binary| helm::Helm {
        binary,
        deadline,
        budget,
    });
    let memo_dir = crate::chart::cache::Cache::from_env().root().to_path_buf();
    select::Selected::new(choices, helm, memo_dir).map(|s| s.with_budget(deadline, budget))
}
