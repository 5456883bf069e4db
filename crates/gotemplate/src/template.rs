//! A set of parsed templates, as Go's `*template.Template` with its associated definitions.
//! Parsed once per chart and shared by every render of it: it holds trees only (no values),
//! so it is `Send + Sync` and cheap to clone.

use crate::exec::State;
use crate::parse::{self, ast::Node};
use crate::{Error, FuncMap, Value};
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

/// One named template: a file's body or a `define`/`block`.
#[derive(Debug)]
pub struct Tree {
    pub name: Arc<str>,
    pub root: Vec<Node>,
}

#[derive(Clone, Default)]
pub struct Templates {
    trees: HashMap<String, Arc<Tree>>,
    functions: BTreeSet<String>,
    go: GoVersion,
}

/// The Go release whose text/template to mirror where releases differ. Helm 3.17 is built with
/// Go 1.23 (`range` over an integer is an error); Helm 4.1 with Go 1.24 or later (it counts).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum GoVersion {
    Go1_23,
    #[default]
    Go1_24,
}

impl Templates {
    pub fn new() -> Templates {
        Templates::default()
    }

    /// Parses `text` as template `name`. Its `define`/`block`s join the set; a later definition
    /// of a name replaces an earlier one, except that an empty body (blank text, comments)
    /// never replaces a non-empty one (Go's rule, so a helpers file does not erase a template
    /// of its own name). `is_func` says which function names exist besides Go's builtins: an
    /// unknown name is Go's parse error `function "x" not defined`.
    pub fn parse(
        &mut self,
        name: &str,
        text: &str,
        is_func: &dyn Fn(&str) -> bool,
    ) -> Result<(), Error> {
        let out = parse::parse_with_limit(name, text, is_func, self.paren_limit())?;
        for t in out.trees {
            if let Some(old) = self.trees.get(&t.name)
                && parse::is_empty_tree(&t.root)
                && !parse::is_empty_tree(&old.root)
            {
                continue;
            }
            let tree = Arc::new(Tree {
                name: t.name.as_str().into(),
                root: t.root,
            });
            self.trees.insert(t.name, tree);
        }
        self.functions.extend(out.functions);
        Ok(())
    }

    /// Mirrors Go `go`'s text/template (default: Go 1.24, as Helm 4).
    pub fn set_go_version(&mut self, go: GoVersion) {
        self.go = go;
    }

    pub fn go_version(&self) -> GoVersion {
        self.go
    }

    /// Go 1.24 refuses parentheses nested deeper than 10,000; Go 1.23 has no limit.
    pub(crate) fn paren_limit(&self) -> Option<usize> {
        match self.go {
            GoVersion::Go1_23 => None,
            GoVersion::Go1_24 => Some(parse::MAX_PAREN_DEPTH),
        }
    }

    pub fn contains(&self, name: &str) -> bool {
        self.trees.contains_key(name)
    }

    /// Names of all templates in the set (files and definitions), sorted.
    pub fn names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.trees.keys().map(String::as_str).collect();
        names.sort_unstable();
        names
    }

    /// Function names the parsed templates call (builtins included).
    pub fn functions_used(&self) -> BTreeSet<String> {
        self.functions.clone()
    }

    pub(crate) fn tree(&self, name: &str) -> Option<Arc<Tree>> {
        self.trees.get(name).cloned()
    }

    /// Runs `name` with `data` as dot (missingkey=zero) and `funcs`. The output is Go's text
    /// (a nil printed by an action is `<no value>`; stripping it is Helm's business).
    pub fn execute(&self, name: &str, data: Value, funcs: &FuncMap) -> Result<String, Error> {
        self.execute_until(name, data, funcs, None)
    }

    /// [`Templates::execute`] that stops with [`crate::exec::DEADLINE_PASSED`] once
    /// `deadline` has passed, `include`s and `tpl`s included.
    pub fn execute_until(
        &self,
        name: &str,
        data: Value,
        funcs: &FuncMap,
        deadline: Option<std::time::Instant>,
    ) -> Result<String, Error> {
        let Some(tree) = self.tree(name) else {
            return Err(Error::new(format!(
                "template: no template {name:?} associated with template {name:?}"
            )));
        };
        let mut state = State::new(self, funcs, tree.clone());
        state.deadline = deadline;
        let mut out = String::new();
        state.run(tree, data, &mut out)?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn execution_stops_at_its_deadline() {
        let funcs = crate::helm::helm_funcs();
        let mut t = Templates::new();
        let text = "{{ range until 100000 }}{{ range until 100000 }}{{ end }}{{ end }}";
        t.parse("loop", text, &|f| funcs.contains(f)).unwrap();
        let started = std::time::Instant::now();
        let deadline = started + std::time::Duration::from_millis(200);
        let err = t
            .execute_until("loop", Value::Nil, &funcs, Some(deadline))
            .unwrap_err();
        assert_eq!(err.message, crate::exec::DEADLINE_PASSED);
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
    }
    use std::collections::BTreeMap;

    fn render(text: &str, data: Value) -> Result<String, Error> {
        let mut t = Templates::new();
        t.parse("t", text, &|_| false)?;
        t.execute("t", data, &FuncMap::default())
    }

    fn values() -> Value {
        let mut inner = BTreeMap::new();
        inner.insert("b".to_string(), Value::Float(1.5));
        inner.insert("n".to_string(), Value::Nil);
        let mut m = BTreeMap::new();
        m.insert("a".to_string(), Value::map(inner));
        m.insert(
            "l".to_string(),
            Value::list(vec![Value::string("x"), Value::string("y")]),
        );
        m.insert("s".to_string(), Value::string("str"));
        Value::map(m)
    }

    #[test]
    fn fields_and_missing_keys() {
        assert_eq!(
            render("{{ .a.b }} {{ .a.zz }} {{ .s }}", values()).unwrap(),
            "1.5 <no value> str"
        );
        let e = render("{{ .a.zz.q }}", values()).unwrap_err();
        assert!(
            e.message.contains("nil pointer evaluating interface {}.q"),
            "{}",
            e.message
        );
        assert_eq!(
            render("{{ $x := .a.zz }}{{ $x.q }}", values()).unwrap(),
            "<no value>"
        );
        assert!(render("{{ .s.x }}", values()).is_err());
    }

    #[test]
    fn errors_name_line_and_column_as_go() {
        let e = render("e: {{ $y := .a.zz }}{{ len $y }}", values()).unwrap_err();
        assert!(
            e.message
                .starts_with("template: t:1:23: executing \"t\" at <len $y>"),
            "{}",
            e.message
        );
        let e = render("a\n  b {{ .a.zz.q }}", values()).unwrap_err();
        assert!(
            e.message
                .starts_with("template: t:2:7: executing \"t\" at <.a.zz.q>: nil pointer"),
            "{}",
            e.message
        );
    }

    #[test]
    fn control_flow() {
        assert_eq!(
            render(
                "{{ range $i, $v := .l }}{{ $i }}={{ $v }},{{ end }}",
                values()
            )
            .unwrap(),
            "0=x,1=y,"
        );
        assert_eq!(
            render("{{ range .nope }}x{{ else }}empty{{ end }}", values()).unwrap(),
            "empty"
        );
        assert_eq!(
            render("{{ range 3 }}{{ . }}{{ end }}", values()).unwrap(),
            "012"
        );
        assert_eq!(
            render("{{ range $k, $v := .a }}{{ $k }};{{ end }}", values()).unwrap(),
            "b;n;"
        );
        assert_eq!(
            render(
                "{{ range .l }}{{ if eq . \"y\" }}{{ break }}{{ end }}{{ . }}{{ end }}",
                values()
            )
            .unwrap(),
            "x"
        );
        assert_eq!(
            render(
                "{{ range .l }}{{ if eq . \"x\" }}{{ continue }}{{ end }}{{ . }}{{ end }}",
                values()
            )
            .unwrap(),
            "y"
        );
        assert_eq!(
            render(
                "{{ with .a }}{{ .b }}{{ end }}{{ with .q }}no{{ else with .s }}{{ . }}{{ end }}",
                values()
            )
            .unwrap(),
            "1.5str"
        );
        assert_eq!(
            render(
                "{{ if .q }}a{{ else if .s }}b{{ else }}c{{ end }}",
                values()
            )
            .unwrap(),
            "b"
        );
        assert_eq!(
            render(
                "{{ $x := 1 }}{{ if true }}{{ $x = 2 }}{{ end }}{{ $x }}",
                values()
            )
            .unwrap(),
            "2"
        );
    }

    #[test]
    fn templates_and_blocks() {
        let t = "{{ define \"a\" }}[{{ . }}|{{ $ }}]{{ end }}{{ template \"a\" .s }}{{ block \"b\" 1 }}B{{ . }}{{ end }}";
        assert_eq!(render(t, values()).unwrap(), "[str|str]B1");
    }

    #[test]
    fn builtins_in_templates() {
        assert_eq!(
            render(
                "{{ and 1 0 2 }} {{ or 0 \"\" 3 }} {{ not 0 }} {{ len .l }} {{ index .l 1 }}",
                values()
            )
            .unwrap(),
            "0 3 true 2 y"
        );
        assert_eq!(
            render("{{ printf \"%05.1f|%-4s|%d\" .a.b \"ab\" 7 }}", values()).unwrap(),
            "001.5|ab  |7"
        );
        assert_eq!(
            render("{{ print 1 2 \"a\" nil }}", values()).unwrap(),
            "1 2a<nil>"
        );
        assert!(render("{{ eq 1 1.0 }}", values()).is_err());
        assert_eq!(render("{{ .l | len }}", values()).unwrap(), "2");
        assert_eq!(
            render("{{ 1e3 }} {{ 0x10 }} {{ 'a' }} {{ -3 }}", values()).unwrap(),
            "1000 16 97 -3"
        );
    }

    /// A Go map type with methods, like Helm's `.Files`.
    struct Files(Vec<&'static str>);

    impl crate::Object for Files {
        fn type_name(&self) -> &str {
            "engine.files"
        }
        fn get(&self, name: &str, args: &[Value]) -> Option<Result<Value, Error>> {
            match (name, args) {
                ("Get", [Value::String(p)]) => Some(Ok(Value::string(format!("<{p}>")))),
                ("Glob", [_]) => Some(Ok(Value::Object(std::rc::Rc::new(Files(vec!["a"]))))),
                ("None", [_]) => Some(Ok(Value::Object(std::rc::Rc::new(Files(vec![]))))),
                _ => None,
            }
        }
        fn print(&self) -> String {
            format!("files{:?}", self.0)
        }
        fn to_value(&self) -> Value {
            Value::map(
                self.0
                    .iter()
                    .map(|n| (n.to_string(), Value::list(vec![Value::Int(104)])))
                    .collect(),
            )
        }
    }

    #[test]
    fn objects_that_are_go_maps_range_len_index_and_test_as_maps() {
        let mut m = BTreeMap::new();
        m.insert(
            "Files".to_string(),
            Value::Object(std::rc::Rc::new(Files(vec!["a", "b"]))),
        );
        let data = Value::map(m);
        let t = r#"{{ range $p, $_ := .Files.Glob "*" }}{{ $p }}={{ $.Files.Get $p }};{{ end }}{{ len .Files }} {{ index .Files "b" }} {{ if .Files.None "x" }}yes{{ else }}empty{{ end }} {{ not (.Files.None "x") }} {{ .Files }}"#;
        assert_eq!(
            render(t, data).unwrap(),
            "a=<a>;2 [104] empty true files[\"a\", \"b\"]"
        );
        // A name that is no method stays an error: a struct's `to_value` map (its fields as
        // toYaml sees them) must not answer `.Chart.name` where Go refuses it.
        let mut m = BTreeMap::new();
        m.insert(
            "Files".to_string(),
            Value::Object(std::rc::Rc::new(Files(vec!["a"]))),
        );
        assert!(render("{{ .Files.a }}", Value::map(m)).is_err());
    }

    #[test]
    fn the_set_knows_its_templates_and_the_functions_they_call() {
        let mut t = Templates::new();
        let is_func = |f: &str| f == "upper";
        t.parse(
            "a",
            r#"{{ define "d" }}{{ upper . }}{{ end }}{{ len . }}"#,
            &is_func,
        )
        .unwrap();
        t.parse("b", "{{/* only a comment */}}", &is_func).unwrap();
        assert!(t.contains("a") && t.contains("d") && t.contains("b") && !t.contains("c"));
        assert_eq!(t.names(), ["a", "b", "d"]);
        let used: Vec<String> = t.functions_used().into_iter().collect();
        assert_eq!(used, ["len", "upper"]);
        // An empty body does not replace a definition with content.
        t.parse("c", r#"{{ define "d" }} {{ end }}"#, &is_func)
            .unwrap();
        let mut funcs = FuncMap::default();
        funcs.insert(
            "upper",
            crate::funcs::Determinism::Deterministic,
            std::rc::Rc::new(|_, a: &[Value]| {
                Ok(Value::string(crate::fmt::to_string(&a[0]).to_uppercase()))
            }),
        );
        assert_eq!(t.execute("d", Value::string("x"), &funcs).unwrap(), "X");
    }

    #[test]
    fn templates_are_shareable_across_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Templates>();
    }

    #[test]
    fn deep_nesting_parses_runs_and_drops_without_overflow() {
        let n = 30_000;
        let ifs = format!("{}x{}", "{{ if 1 }}".repeat(n), "{{ end }}".repeat(n));
        assert_eq!(render(&ifs, Value::Nil).unwrap(), "x");
        let parens = format!("{{{{ {}1{} }}}}", "(".repeat(n), ")".repeat(n));
        let e = render(&parens, Value::Nil).unwrap_err();
        assert!(
            e.message.contains("max expression depth exceeded"),
            "{}",
            e.message
        );
        let mut t = Templates::new();
        t.set_go_version(GoVersion::Go1_23);
        t.parse("t", &parens, &|_| false).unwrap();
        assert_eq!(
            t.execute("t", Value::Nil, &FuncMap::default()).unwrap(),
            "1"
        );
    }

    #[test]
    fn deep_recursion_is_an_error_not_a_crash() {
        let t = "{{ define \"r\" }}{{ template \"r\" . }}{{ end }}{{ template \"r\" . }}";
        let e = render(t, Value::Nil).unwrap_err();
        assert!(
            e.message.contains("exceeded maximum template depth"),
            "{}",
            e.message
        );
    }
}
