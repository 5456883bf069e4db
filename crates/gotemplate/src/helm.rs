//! Helm's engine-level template functions: `include`, `tpl`, `required`, and the function map
//! Helm gives every chart (Sprig minus `env`/`expandenv`, the encoders, these).

use crate::funcs::{Call, Determinism, Func, FuncMap};
use crate::{Error, Value};
use std::rc::Rc;

fn string_arg<'a>(name: &str, args: &'a [Value], i: usize) -> Result<&'a str, Error> {
    match args.get(i) {
        Some(Value::String(s)) => Ok(s),
        Some(Value::Nil) | None => Err(Error::new(format!(
            "{name}: invalid value; expected string"
        ))),
        Some(other) => Err(Error::new(format!(
            "wrong type for value; expected string; got {}",
            other.type_name()
        ))),
    }
}

fn want(name: &str, args: &[Value], n: usize) -> Result<(), Error> {
    if args.len() != n {
        return Err(Error::new(format!(
            "wrong number of args for {name}: want {n} got {}",
            args.len()
        )));
    }
    Ok(())
}

/// `include NAME DATA`: runs a template and returns its text (nothing stripped).
pub fn include(call: &mut dyn Call, args: &[Value]) -> Result<Value, Error> {
    want("include", args, 2)?;
    let name = string_arg("include", args, 0)?;
    call.include(name, args[1].clone()).map(Value::string)
}

/// `tpl TEXT DATA`: renders a string as a template; Helm removes `<no value>` from the result.
pub fn tpl(call: &mut dyn Call, args: &[Value]) -> Result<Value, Error> {
    want("tpl", args, 2)?;
    let text = string_arg("tpl", args, 0)?;
    let out = call.tpl(text, args[1].clone())?;
    Ok(Value::string(out.replace("<no value>", "")))
}

/// `required MSG VALUE`: VALUE, or an error with MSG when it is nil or an empty string.
pub fn required(_: &mut dyn Call, args: &[Value]) -> Result<Value, Error> {
    want("required", args, 2)?;
    let msg = string_arg("required", args, 0)?;
    match &args[1] {
        Value::Nil => Err(Error::new(msg)),
        Value::String(s) if s.is_empty() => Err(Error::new(msg)),
        v => Ok(v.clone()),
    }
}

/// The words ending the error of a function Helm has and this library does not implement
/// (`genCA is not implemented by the native renderer`); they survive every wrapping of the
/// error, so a caller can tell "cannot render this" from "this chart is wrong".
pub const NOT_IMPLEMENTED: &str = "is not implemented by the native renderer";

/// Helm 4's function map (see [`helm_funcs_for`]).
pub fn helm_funcs() -> FuncMap {
    helm_funcs_for(true)
}

/// The functions Helm gives every chart: Sprig (without `env` and `expandenv`), Helm's
/// encoders (`toYaml`, `toJson`, `toToml`, `fromJson`, ...; `helm4` selects Helm 4's set and
/// encodings), then `include`, `tpl` and `required`, which need the executing template.
/// strata adds the chart-bound ones (`.Files`, `lookup`, semver functions, `fromYaml`).
pub fn helm_funcs_for(helm4: bool) -> FuncMap {
    let mut m = crate::sprig::funcs();
    let encoders = crate::encode::funcs(helm4);
    for name in encoders.names() {
        if let (Some(f), Some(d)) = (encoders.get(name), encoders.determinism(name)) {
            m.insert(name, d, f.clone());
        }
    }
    let add = |m: &mut FuncMap, name: &str, f: Func| m.insert(name, Determinism::Deterministic, f);
    // Registered rather than left undefined, so a chart that only mentions them (on a path its
    // values never take) still parses and renders; calling one fails the render, which makes
    // `auto` hand the chart to helm.
    for &name in crate::sprig::UNSUPPORTED {
        let stub: Func = Rc::new(move |_: &mut dyn Call, _: &[Value]| {
            Err(Error::new(format!("{name} {NOT_IMPLEMENTED}")))
        });
        m.insert(name, Determinism::Random, stub);
    }
    add(&mut m, "include", Rc::new(include));
    add(&mut m, "tpl", Rc::new(tpl));
    add(&mut m, "required", Rc::new(required));
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Templates;

    #[test]
    fn include_tpl_required() {
        let funcs = helm_funcs();
        let mut t = Templates::new();
        let text = r#"{{ define "x" }}<{{ . }}>{{ end }}{{ include "x" 1 | printf "%s!" }} {{ tpl "{{ define \"y\" }}Y{{ end }}{{ include \"y\" . }}{{ .nope }}" . }} {{ required "m" "v" }}"#;
        t.parse("t", text, &|f| funcs.contains(f)).unwrap();
        let data = Value::empty_map();
        assert_eq!(t.execute("t", data.clone(), &funcs).unwrap(), "<1>! Y v");
        t.parse("u", r#"{{ required "value x is required" .x }}"#, &|f| {
            funcs.contains(f)
        })
        .unwrap();
        let e = t.execute("u", data, &funcs).unwrap_err();
        assert!(e.message.contains("value x is required"), "{}", e.message);
        assert!(!t.contains("y"), "tpl definitions last one execution");
    }

    #[test]
    fn include_recursion_is_limited() {
        let funcs = helm_funcs();
        let mut t = Templates::new();
        t.parse(
            "t",
            r#"{{ define "r" }}{{ include "r" . }}{{ end }}{{ include "r" . }}"#,
            &|f| funcs.contains(f),
        )
        .unwrap();
        let e = t.execute("t", Value::Nil, &funcs).unwrap_err();
        assert!(
            e.message.contains("nested reference name: r"),
            "{}",
            &e.message[..200.min(e.message.len())]
        );
    }
}
