//! The template functions that need strata rather than the template engine: Helm's
//! `fromYaml`/`fromYamlArray` (read with strata's Go-faithful YAML reader), Sprig's
//! `semver`/`semverCompare` (with strata's Masterminds-compatible semver), and the cluster
//! functions that `helm template` answers without a cluster (`lookup` gives an empty map,
//! `getHostByName` an empty string).

use super::chart::go_to_json;
use super::objects::from_json;
use crate::semver::{Constraint, Version};
use crate::yaml::{GoValue, helm_reader};
use gotemplate::funcs::{Call, Determinism};
use gotemplate::{Error, FuncMap, Object, Value};
use std::collections::BTreeMap;
use std::rc::Rc;

/// Adds strata's functions to `funcs`.
pub fn add_chart_funcs(funcs: &mut FuncMap) {
    let det = Determinism::Deterministic;
    funcs.insert("fromYaml", det, Rc::new(from_yaml));
    funcs.insert("fromYamlArray", det, Rc::new(from_yaml_array));
    funcs.insert("semver", det, Rc::new(semver));
    funcs.insert("semverCompare", det, Rc::new(semver_compare));
    funcs.insert(
        "lookup",
        det,
        Rc::new(|_: &mut dyn Call, args: &[Value]| {
            for (i, arg) in args.iter().enumerate() {
                string_arg("lookup", i, arg)?;
            }
            if args.len() != 4 {
                return Err(arg_count("lookup", 4, args.len()));
            }
            Ok(Value::empty_map())
        }),
    );
    funcs.insert(
        "getHostByName",
        det,
        Rc::new(|_: &mut dyn Call, args: &[Value]| {
            one_string("getHostByName", args)?;
            Ok(Value::string(""))
        }),
    );
}

fn arg_count(name: &str, want: usize, got: usize) -> Error {
    Error::new(format!(
        "wrong number of args for {name}: want {want} got {got}"
    ))
}

fn string_arg<'a>(name: &str, index: usize, arg: &'a Value) -> Result<&'a str, Error> {
    match arg {
        Value::String(s) => Ok(s),
        other => Err(Error::new(format!(
            "wrong type for value; expected string; got {} (argument {} of {name})",
            other.type_name(),
            index + 1
        ))),
    }
}

fn one_string<'a>(name: &str, args: &'a [Value]) -> Result<&'a str, Error> {
    match args {
        [arg] => string_arg(name, 0, arg),
        _ => Err(arg_count(name, 1, args.len())),
    }
}

/// The first YAML document of `text` as Helm's `yaml.Unmarshal` decodes it.
fn first_document(text: &str) -> Result<GoValue, String> {
    let docs = helm_reader::read_go_documents(text)
        .map_err(|e| format!("error converting YAML to JSON: yaml: {e}"))?;
    Ok(docs.into_iter().next().unwrap_or(GoValue::Null))
}

fn decode(text: &str) -> Result<serde_json::Value, String> {
    let doc = first_document(text)?;
    go_to_json(&doc).map_err(|e| format!("error converting YAML to JSON: {e}"))
}

fn from_yaml(_: &mut dyn Call, args: &[Value]) -> Result<Value, Error> {
    let text = one_string("fromYaml", args)?;
    let mut out = BTreeMap::new();
    match decode(text) {
        Ok(serde_json::Value::Object(map)) => {
            for (k, v) in &map {
                out.insert(k.clone(), from_json(v));
            }
        }
        Ok(serde_json::Value::Null) => {}
        Ok(other) => {
            out.insert(
                "Error".into(),
                Value::string(format!(
                    "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
                    json_kind(&other)
                )),
            );
        }
        Err(e) => {
            out.insert("Error".into(), Value::string(e));
        }
    }
    Ok(Value::map(out))
}

fn from_yaml_array(_: &mut dyn Call, args: &[Value]) -> Result<Value, Error> {
    let text = one_string("fromYamlArray", args)?;
    Ok(match decode(text) {
        Ok(serde_json::Value::Array(items)) => Value::list(items.iter().map(from_json).collect()),
        Ok(serde_json::Value::Null) => Value::list(Vec::new()),
        Ok(other) => Value::list(vec![Value::string(format!(
            "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go value of type []interface {{}}",
            json_kind(&other)
        ))]),
        Err(e) => Value::list(vec![Value::string(e)]),
    })
}

fn json_kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "bool",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "array",
        serde_json::Value::Object(_) => "object",
    }
}

fn semver(_: &mut dyn Call, args: &[Value]) -> Result<Value, Error> {
    let text = one_string("semver", args)?;
    let version = Version::parse(text).map_err(|e| Error::new(e.to_string()))?;
    Ok(Value::Object(Rc::new(SemverObject(version))))
}

fn semver_compare(_: &mut dyn Call, args: &[Value]) -> Result<Value, Error> {
    let [constraint, version] = args else {
        return Err(arg_count("semverCompare", 2, args.len()));
    };
    let constraint = string_arg("semverCompare", 0, constraint)?;
    let version = string_arg("semverCompare", 1, version)?;
    let c = Constraint::parse(constraint).map_err(|e| Error::new(e.to_string()))?;
    let v = Version::parse(version).map_err(|e| Error::new(e.to_string()))?;
    Ok(Value::Bool(c.matches(&v)))
}

/// Sprig's `*semver.Version`.
struct SemverObject(Version);

impl SemverObject {
    fn prerelease(&self) -> String {
        self.0
            .prerelease()
            .iter()
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(".")
    }

    fn text(&self) -> String {
        let v = &self.0;
        let mut s = format!("{}.{}.{}", v.major(), v.minor(), v.patch());
        let pre = self.prerelease();
        if !pre.is_empty() {
            s.push('-');
            s.push_str(&pre);
        }
        if !v.build().is_empty() {
            s.push('+');
            s.push_str(v.build());
        }
        s
    }
}

impl Object for SemverObject {
    fn type_name(&self) -> &str {
        "*semver.Version"
    }
    fn get(&self, name: &str, _args: &[Value]) -> Option<Result<Value, Error>> {
        let v = &self.0;
        let int = |n: u64| Value::Int(i64::try_from(n).unwrap_or(i64::MAX));
        Some(Ok(match name {
            "Major" => int(v.major()),
            "Minor" => int(v.minor()),
            "Patch" => int(v.patch()),
            "Prerelease" => Value::string(self.prerelease()),
            "Metadata" => Value::string(v.build()),
            "Original" => Value::string(v.original()),
            "String" => Value::string(self.text()),
            _ => return None,
        }))
    }
    fn print(&self) -> String {
        self.text()
    }
    fn to_value(&self) -> Value {
        Value::string(self.text())
    }
}
