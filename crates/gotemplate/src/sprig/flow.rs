//! Sprig's defaults and flow control: `default`, `empty`, `coalesce`, `ternary`, `all`, `any`,
//! `fail`. "Empty" is Sprig's: nil, false, 0, and empty strings, lists and maps.

use super::args::Args;
use super::conv::empty;
use super::def;
use crate::{Error, FuncMap, Value};

pub(crate) fn register(m: &mut FuncMap) {
    def(m, "default", default);
    def(m, "empty", |a| {
        a.exact(1)?;
        Ok(Value::Bool(empty(a.get(0))))
    });
    def(m, "coalesce", |a| {
        Ok(a.v
            .iter()
            .find(|v| !empty(v))
            .cloned()
            .unwrap_or(Value::Nil))
    });
    def(m, "all", |a| Ok(Value::Bool(a.v.iter().all(|v| !empty(v)))));
    def(m, "any", |a| Ok(Value::Bool(a.v.iter().any(|v| !empty(v)))));
    def(m, "ternary", ternary);
    def(m, "fail", fail);
}

/// `default DEFAULT [GIVEN]`: GIVEN unless it is missing or empty.
fn default(a: Args) -> Result<Value, Error> {
    a.at_least(1)?;
    match a.v.get(1) {
        Some(given) if !empty(given) => Ok(given.clone()),
        _ => Ok(a.get(0).clone()),
    }
}

/// `ternary TRUE FALSE CONDITION`; the condition must be a bool (Go's parameter type).
fn ternary(a: Args) -> Result<Value, Error> {
    a.exact(3)?;
    Ok(if a.bool(2)? { a.get(0) } else { a.get(1) }.clone())
}

fn fail(a: Args) -> Result<Value, Error> {
    a.exact(1)?;
    Err(a.fail(a.str(0)?))
}

#[cfg(test)]
mod tests {
    use super::super::funcs;
    use crate::Value;

    #[test]
    fn default_treats_empty_values_as_unset() {
        let f = funcs();
        for given in [
            Value::Nil,
            Value::Int(0),
            Value::Float(0.0),
            Value::string(""),
            Value::Bool(false),
            Value::list(vec![]),
            Value::empty_map(),
        ] {
            let out = super::super::call(&f, "default", &[Value::string("d"), given]).unwrap();
            assert_eq!(out, Value::string("d"));
        }
        let out = super::super::call(&f, "default", &[Value::string("d"), Value::Int(1)]);
        assert_eq!(out.unwrap(), Value::Int(1));
        let out = super::super::call(&f, "default", &[Value::string("d")]).unwrap();
        assert_eq!(out, Value::string("d"));
    }

    #[test]
    fn ternary_needs_a_bool() {
        let f = funcs();
        let args = [Value::Int(1), Value::Int(2), Value::string("true")];
        assert!(super::super::call(&f, "ternary", &args).is_err());
    }
}
