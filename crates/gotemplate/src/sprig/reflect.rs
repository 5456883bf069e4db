//! Sprig's reflection functions: Go's type (`%T`) and kind names of a value.

use super::def;
use crate::{FuncMap, Value};

pub(crate) fn register(m: &mut FuncMap) {
    def(m, "typeOf", |a| {
        a.exact(1)?;
        Ok(Value::string(a.get(0).type_name()))
    });
    def(m, "typeIs", |a| {
        a.exact(2)?;
        Ok(Value::Bool(a.str(0)? == a.get(1).type_name()))
    });
    def(m, "typeIsLike", |a| {
        a.exact(2)?;
        let (target, actual) = (a.str(0)?, a.get(1).type_name());
        Ok(Value::Bool(
            target == actual || actual.strip_prefix('*') == Some(target),
        ))
    });
    def(m, "kindOf", |a| {
        a.exact(1)?;
        Ok(Value::string(a.get(0).kind_name()))
    });
    def(m, "kindIs", |a| {
        a.exact(2)?;
        Ok(Value::Bool(a.str(0)? == a.get(1).kind_name()))
    });
    def(m, "deepEqual", |a| {
        a.exact(2)?;
        Ok(Value::Bool(super::conv::deep_equal(a.get(0), a.get(1))))
    });
}
