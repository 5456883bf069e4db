//! strata: one Argo CD Application per tenant, from layered Helm values and the real helm.
//!
//! Data flows one way: [`context`] (Argo CD environment or command line) → [`config`] (the
//! stack) → [`tenant`] (variables) → [`plan`] (layers and charts per component) → [`values`]
//! (merged with provenance) → [`render`] (helm behind the `Renderer` trait) → [`manifests`] (checked output).

pub mod appset;
pub mod argocd;
pub mod atomic_file;
pub mod budget;
pub mod chart;
pub mod check;
pub mod clusters;
pub mod config;
pub mod context;
pub mod deep_stack;
pub mod diff;
pub mod error;
pub mod fleet;
pub mod inspect;
pub mod interrupt;
pub mod lockfile;
pub mod logging;
pub mod manifests;
pub mod parameters;
pub mod paths;
pub mod pipeline;
pub mod plan;
pub mod post_render;
pub mod promote;
pub mod quote;
pub mod render;
pub mod render_cache;
pub mod rollout;
pub mod scratch;
pub mod selector;
pub mod semver;
pub mod snapshot;
pub mod template;
pub mod tenant;
pub mod terminal;
pub mod values;
pub mod yaml;

pub use error::Error;
