//! strata: one Argo CD Application per tenant, from layered Helm values and the real helm.
//!
//! One render goes through five stages; [`pipeline::render`] runs them in order for `generate`
//! and `render`. A stage reads what the stages before it produced (their types) and never
//! calls a later one: the pipeline hands each its inputs. No module imports one that imports
//! it back (the integration tests read the sources to check it).
//!
//! 1. **resolve**: what this invocation renders. [`context`] holds what comes from outside the
//!    repository (Argo CD's environment or the command line); [`config`] finds and reads the
//!    stack (strata.yaml) inside the repository that [`paths`] confines every read to;
//!    [`tenant`] finds the tenant and its variables; [`plan`] decides per component the chart
//!    reference, release, namespace and layer files ([`pipeline::resolve`]).
//! 2. **prepare**: the inputs, read and fetched ([`pipeline::prepare`]). [`chart`] resolves
//!    versioned charts through strata.lock (each kind of source behind one trait) and fetches
//!    them into the shared digest-addressed cache; [`values`] reads the layers and merges them
//!    with Helm's rules, each value remembering its file and line. The result,
//!    [`pipeline::Prepared`], carries the one fingerprint of the render's inputs
//!    ([`pipeline::fingerprint`]): [`render_cache`] keys on it and `diff` compares it, so no
//!    tenant is merged twice.
//! 3. **render**: [`render`] turns a chart and its merged values into Kubernetes YAML behind
//!    the `Renderer` trait (`helm template` today), or templates a `manifests` component.
//! 4. **post_render**: [`post_render`] applies what strata.yaml asks for after helm (labels,
//!    annotations, sync waves, patches); [`manifests`] checks the stream (an empty render is an
//!    error).
//! 5. **output**: the bytes are returned whole, and the binary writes them only once every
//!    component succeeded, so Argo CD never sees part of an application.
//!
//! Around that path: the fleet commands run it per tenant ([`fleet`], [`diff`], [`check`],
//! [`snapshot`], [`appset`]), [`lockfile`], [`promote`] and [`rollout`] change which chart
//! versions tenants run, [`inspect`] explains values, and [`argocd`] and [`parameters`] speak
//! the plugin protocol. Errors are typed ([`Error`]); the binary turns them into one message.

// Nothing in the library writes stdout: the binary owns it (one writer, which ends quietly
// when the reader goes away).
#![deny(clippy::print_stdout)]

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
pub mod digest;
pub mod error;
pub mod fleet;
pub mod inspect;
pub mod interrupt;
pub mod lockfile;
pub mod logging;
pub mod manifests;
pub mod parallel;
pub mod parameters;
pub mod parity;
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
