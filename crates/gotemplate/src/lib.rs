//! Go's `text/template` language with the Sprig function library, as Helm runs them.
//!
//! strata's in-process renderer must produce the bytes `helm template` produces, so this crate
//! follows Go's semantics rather than a convenient Rust reading of them: values are typed as Go
//! types (`float64` numbers from YAML and JSON, `int` from literals and `len`), maps print and
//! range in sorted key order, a missing map key is the nil interface, comparisons refuse mixed
//! types, and printing follows `fmt`'s `%v`.
//!
//! It is its own crate because the Go template language is not strata's business: nothing here
//! knows about charts, values files or Kubernetes. Helm's own functions that need a chart
//! (`.Files`, `lookup`, `toYaml` of chart values) are added by the caller through [`FuncMap`].

pub mod funcs;
pub mod gofloat;
pub mod value;

pub use funcs::{Func, FuncMap};
pub use value::{Map, Object, Value};

/// Why parsing or executing a template failed; the message is Go's wording where a chart
/// author would recognise it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    pub message: String,
}

impl Error {
    pub fn new(message: impl Into<String>) -> Error {
        Error {
            message: message.into(),
        }
    }
}
