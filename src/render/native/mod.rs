//! The in-process renderer: what `helm template` does, inside strata.

pub mod output;
