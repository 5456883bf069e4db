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
//!
//! A chart's files are parsed once into a [`Templates`] set (shareable across threads, no
//! values inside) and each file is executed with its data:
//!
//! ```
//! use gotemplate::{Templates, Value, helm::helm_funcs};
//! let funcs = helm_funcs();
//! let mut set = Templates::new();
//! set.parse("c/templates/_helpers.tpl", r#"{{ define "n" }}<{{ . }}>{{ end }}"#, &|f| funcs.contains(f))
//!     .unwrap();
//! set.parse("c/templates/cm.yaml", r#"a: {{ include "n" .x }} b: {{ .nope }}"#, &|f| funcs.contains(f))
//!     .unwrap();
//! let data = Value::map([("x".to_string(), Value::Float(1e6))].into_iter().collect());
//! let out = set.execute("c/templates/cm.yaml", data, &funcs).unwrap();
//! assert_eq!(out, "a: <1e+06> b: <no value>");
//! ```
//!
//! Modules: `parse` (lexer, parser, trees), `exec` (Go's evaluation rules), `builtins` (Go's
//! builtin functions), `fmt` (Go's `fmt` printing), `template` (the set), `helm` (Helm's
//! `include`, `tpl`, `required` and its function map).

pub mod builtins;
pub mod encode;
pub mod exec;
pub mod fmt;
pub mod funcs;
pub mod gofloat;
pub mod helm;
pub mod parse;
pub mod sprig;
pub mod template;
pub mod value;

pub use funcs::{Func, FuncMap};
pub use template::{GoVersion, Templates};
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
