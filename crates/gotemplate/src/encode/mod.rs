//! Helm's encoding functions: `toJson`, `mustToJson`, `fromJson`, `fromJsonArray`, `toYaml`,
//! `toYamlPretty`, `toToml`, and (Helm 4 only) `mustToYaml`.
//!
//! Each reproduces the Go library Helm calls, byte for byte, because charts paste their output
//! straight into manifests: `encoding/json` for JSON, `sigs.k8s.io/yaml` (go-yaml v2 behind a
//! JSON round trip) for YAML, go-yaml v3 for `toYamlPretty`, BurntSushi's encoder for TOML.
//! Their error conventions are Helm's: `toJson`/`toYaml` give `""`, `toToml` gives the error
//! text, `fromJson` puts the error under the key `Error`, and the `must` forms fail the render.
//!
//! Known differences, none reachable from values files: `fromJson "null"` gives an empty map
//! where Go has a nil map (they print alike; `toJson` of it gives `{}`, not `null`); a Go
//! struct ([`crate::Object`]) is encoded through its `to_value`, which follows its JSON field
//! names, while go-yaml v3 and BurntSushi name struct fields their own way; and letters and
//! digits in map keys are told apart by the Unicode tables of this crate's dependency, which
//! may be a version ahead of Go's.

pub mod json;
mod keyorder;
mod resolve;
mod timestamp;
pub mod toml;
pub mod yaml;
mod yaml_emit;

use crate::funcs::{Call, Determinism, Func, FuncMap};
use crate::{Error, Value};
use std::rc::Rc;

pub use json::{from_json, from_json_array, to_json, to_json_indent, to_json_raw};
pub use keyorder::keys_totally_ordered;
pub use toml::to_toml;
pub use yaml::{to_yaml, try_to_yaml, try_to_yaml_pretty};

/// Why a value has no encoding; the text follows Go's where a chart author may see it (the
/// `must` functions, `toToml`).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EncodeError {
    #[error("json: unsupported value: {0}")]
    Unsupported(String),
    #[error("json: unsupported value: encountered a cycle via map[string]interface {{}}")]
    Cycle,
    #[error("yaml: control characters are not allowed (U+{0:04X})")]
    ControlCharacter(u32),
    /// A map key longer than YAML's simple-key limit or holding a line break.
    #[error("yaml: did not find expected ',' or '}}'")]
    KeyTooLong,
    /// go-yaml's scanner refuses JSON nested deeper than 10,000 levels (so `toYaml` of such a
    /// value is "" in Helm).
    #[error("yaml: exceeded max depth of 10000")]
    TooDeep,
    #[error("{0}")]
    Toml(String),
}

/// A function of one template argument.
type OneArg = dyn Fn(&Value) -> Result<Value, Error>;

/// Runs a recursive step on a stack that has room for it. Go's stacks grow, so Helm encodes a
/// value nested thousands of levels deep (a chart can build one in a loop); a recursion that
/// deep would overflow a Rust thread's stack, so each level asks for more when it runs low.
pub(crate) fn deep<R>(f: impl FnOnce() -> R) -> R {
    const RED_ZONE: usize = 128 * 1024;
    const GROW: usize = 4 * 1024 * 1024;
    stacker::maybe_grow(RED_ZONE, GROW, f)
}

/// The encoding functions Helm registers; `helm4` adds `mustToYaml`, which Helm 3 does not
/// have (a chart using it fails to parse there). `mustToJson` is in both: Helm 4 defines it,
/// Helm 3 inherits Sprig's, and the two behave alike.
pub fn funcs(helm4: bool) -> FuncMap {
    let mut map = FuncMap::default();
    let mut add = |name: &'static str, f: Box<OneArg>| {
        let func: Func = Rc::new(move |_: &mut dyn Call, args: &[Value]| f(one_arg(name, args)?));
        map.insert(name, Determinism::Deterministic, func);
    };
    add(
        "toJson",
        Box::new(|v| Ok(Value::string(to_json(v).unwrap_or_default()))),
    );
    add(
        "toYaml",
        Box::new(|v| Ok(Value::string(trim_newline(to_yaml(v))))),
    );
    add(
        "toYamlPretty",
        Box::new(|v| {
            let text = try_to_yaml_pretty(v).unwrap_or_default();
            Ok(Value::string(trim_newline(text)))
        }),
    );
    add(
        "toToml",
        Box::new(move |v| {
            // BurntSushi's encoder asks nil for its type and panics; Go's template reports
            // that as a failed call, so the render fails.
            if matches!(v, Value::Nil) {
                return Err(Error::new(
                    "reflect: call of reflect.Value.Type on zero Value",
                ));
            }
            Ok(Value::string(
                to_toml(v, helm4).unwrap_or_else(|e| e.to_string()),
            ))
        }),
    );
    add("fromJson", Box::new(|v| Ok(from_json(string_arg(v)?))));
    add(
        "fromJsonArray",
        Box::new(|v| Ok(from_json_array(string_arg(v)?))),
    );
    // Helm 4 defines mustToJson itself; Helm 3 has Sprig's, which behaves the same.
    add(
        "mustToJson",
        Box::new(|v| to_json(v).map(Value::string).map_err(must_error)),
    );
    if helm4 {
        add(
            "mustToYaml",
            Box::new(|v| {
                try_to_yaml(v)
                    .map(|y| Value::string(trim_newline(y)))
                    .map_err(must_error)
            }),
        );
    }
    map
}

/// The error a `must` function fails the render with (sigs.k8s.io/yaml wraps JSON failures).
fn must_error(e: EncodeError) -> Error {
    match e {
        EncodeError::Unsupported(_) | EncodeError::Cycle => {
            Error::new(format!("error marshaling into JSON: {e}"))
        }
        other => Error::new(other.to_string()),
    }
}

/// Helm trims one trailing newline from YAML it returns to a template.
fn trim_newline(mut s: String) -> String {
    if s.ends_with('\n') {
        s.pop();
    }
    s
}

/// Go's check of a one-parameter function's arity.
fn one_arg<'a>(name: &str, args: &'a [Value]) -> Result<&'a Value, Error> {
    match args {
        [v] => Ok(v),
        _ => Err(Error::new(format!(
            "wrong number of args for {name}: want 1 got {}",
            args.len()
        ))),
    }
}

/// Go's conversion of an argument to a `string` parameter.
fn string_arg(v: &Value) -> Result<&str, Error> {
    match v {
        Value::String(s) => Ok(s),
        Value::Nil => Err(Error::new("invalid value; expected string")),
        other => Err(Error::new(format!(
            "wrong type for value; expected string; got {}",
            other.type_name()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct NoCall;

    impl Call for NoCall {
        fn include(&mut self, _: &str, _: Value) -> Result<String, Error> {
            unreachable!()
        }
        fn tpl(&mut self, _: &str, _: Value) -> Result<String, Error> {
            unreachable!()
        }
        fn template_name(&self) -> &str {
            "t"
        }
    }

    /// Arity and argument types are checked as Go checks a call.
    #[test]
    fn arguments_are_checked() {
        let funcs = funcs(true);
        assert_eq!(
            funcs.get("toYaml").unwrap()(&mut NoCall, &[])
                .unwrap_err()
                .message,
            "wrong number of args for toYaml: want 1 got 0"
        );
        assert_eq!(
            funcs.get("fromJson").unwrap()(&mut NoCall, &[Value::Int(1)])
                .unwrap_err()
                .message,
            "wrong type for value; expected string; got int"
        );
    }
}
