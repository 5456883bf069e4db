//! How Go's `text/template` hands template values to a Sprig function, and how a Sprig function
//! fails.
//!
//! Each Sprig function is a Go function with typed parameters. `text/template` checks the
//! count of arguments and refuses a value whose type is not assignable to the parameter: a
//! float64 from the values file is not an `int`, a nil is not a `string`. Charts are written
//! against these rules (and fail in Helm when they break them), so a native renderer must
//! refuse the same calls rather than convert leniently.

use crate::{Error, Map, Value};

/// The arguments of one call, with the function's name for messages.
#[derive(Clone, Copy)]
pub(crate) struct Args<'a> {
    pub name: &'static str,
    pub v: &'a [Value],
}

impl<'a> Args<'a> {
    pub fn len(&self) -> usize {
        self.v.len()
    }

    pub fn get(&self, i: usize) -> &'a Value {
        &self.v[i]
    }

    /// A Go function with exactly `n` parameters.
    pub fn exact(&self, n: usize) -> Result<(), Error> {
        if self.v.len() == n {
            Ok(())
        } else {
            Err(Error::new(format!(
                "wrong number of args for {}: want {} got {}",
                self.name,
                n,
                self.v.len()
            )))
        }
    }

    /// A variadic Go function with `n` fixed parameters before the variadic one.
    pub fn at_least(&self, n: usize) -> Result<(), Error> {
        if self.v.len() >= n {
            Ok(())
        } else {
            Err(Error::new(format!(
                "wrong number of args for {}: want at least {} got {}",
                self.name,
                n,
                self.v.len()
            )))
        }
    }

    /// A Go `string` parameter.
    pub fn str(&self, i: usize) -> Result<&'a str, Error> {
        match &self.v[i] {
            Value::String(s) => Ok(s),
            other => Err(wrong_type("string", other)),
        }
    }

    /// A Go `int` parameter: a template integer, never a float64 from the values.
    pub fn int(&self, i: usize) -> Result<i64, Error> {
        match &self.v[i] {
            Value::Int(n) => Ok(*n),
            other => Err(wrong_type("int", other)),
        }
    }

    /// A Go `bool` parameter.
    pub fn bool(&self, i: usize) -> Result<bool, Error> {
        match &self.v[i] {
            Value::Bool(b) => Ok(*b),
            other => Err(wrong_type("bool", other)),
        }
    }

    /// A Go `map[string]interface{}` parameter; nil is accepted as Go's nil map.
    pub fn map(&self, i: usize) -> Result<Option<Map>, Error> {
        match &self.v[i] {
            Value::Map(m) => Ok(Some(m.clone())),
            Value::Nil => Ok(None),
            other => Err(wrong_type("map[string]interface {}", other)),
        }
    }

    /// An error the Go function itself returned or panicked with (the executor names the
    /// function: `error calling NAME: MESSAGE`).
    pub fn fail(&self, message: impl std::fmt::Display) -> Error {
        Error::new(message.to_string())
    }
}

/// Go's refusal of an argument whose type does not fit the parameter.
pub(crate) fn wrong_type(expected: &str, got: &Value) -> Error {
    match got {
        Value::Nil => Error::new(format!("invalid value; expected {expected}")),
        other => Error::new(format!(
            "wrong type for value; expected {expected}; got {}",
            other.type_name()
        )),
    }
}
