//! strata's integration tests, in one binary so the crate and its dependencies are linked once.
//! Each module is one area; `cargo test --test it secrets::` runs one of them. The helpers all
//! modules share live in `common`; fixtures in tests/fixtures.

mod common;

mod api_versions;
mod appset;
mod argocd_install;
mod bad_inputs;
mod chart_deps;
mod chart_oci;
mod chart_repo;
mod charts_e2e;
mod check;
mod cmp_harness;
mod containment;
mod conventions;
mod cred_helpers;
mod diff;
mod docs_commands;
mod explain_whole;
mod fleet;
mod function_length;
mod helm_acceptance;
mod helm_parity;
mod helm_yaml;
mod helm_yaml_fuzz;
mod large_index;
mod module_graph;
mod native_output;
mod native_render;
mod patches;
mod post_render;
mod process_hygiene;
mod render_cache;
mod renderer;
mod rollout;
mod secrets;
mod semver_helm;
mod snapshot;
mod terminal;
mod time_budget;
mod values_template;
