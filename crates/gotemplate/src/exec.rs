//! Executes parsed templates with Go's `text/template` semantics (Helm's `missingkey=zero`).
//!
//! Go distinguishes two nils, and charts notice: a nil that came out of a map (or a `range`
//! element) is a typed `interface{}` nil, and `.field` on it is the error "nil pointer
//! evaluating interface {}.field"; a nil that went through a pipeline (a variable, a
//! parenthesised pipeline, the dot of a `template` call) is an invalid value, and `.field` on
//! it quietly gives nil. [`Slot`] carries that distinction next to the value.

use crate::builtins;
use crate::fmt as gofmt;
use crate::funcs::{Call, FuncMap};
use crate::parse::ast::{Arg, Branch, Command, Node, Number, Pipe, Pos};
use crate::template::{Templates, Tree};
use crate::{Error, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// Go's `maxExecDepth`: nested `template` calls (and includes) before giving up.
const MAX_DEPTH: usize = 100_000;
/// Helm's limit of nested `include`s of one name (`recursionMaxNums`).
const MAX_INCLUDE: usize = 1000;
use crate::parse::{STACK_GROW, STACK_RED_ZONE};

/// The elements a `range` visits.
enum Items {
    List(std::rc::Rc<Vec<Value>>),
    Map(Vec<(String, Value)>),
    Count(i64),
}

impl Items {
    fn len(&self) -> usize {
        match self {
            Items::List(l) => l.len(),
            Items::Map(m) => m.len(),
            Items::Count(n) => *n as usize,
        }
    }

    /// The index (or key) and the element at position `i`.
    fn get(&self, i: usize) -> (Value, Value) {
        match self {
            Items::List(l) => (Value::Int(i as i64), l[i].clone()),
            Items::Map(m) => (Value::string(m[i].0.as_str()), m[i].1.clone()),
            Items::Count(_) => (Value::Int(i as i64), Value::Int(i as i64)),
        }
    }
}

/// A value where Go keeps it in a `reflect.Value`: `strict` marks a nil held in an interface
/// (field access on it is an error) as opposed to an invalid value (field access gives nil).
#[derive(Clone)]
struct Slot {
    value: Value,
    strict: bool,
}

impl Slot {
    fn loose(value: Value) -> Slot {
        Slot {
            value,
            strict: false,
        }
    }
}

enum Flow {
    Normal,
    Break,
    Continue,
}

pub(crate) struct State<'a> {
    set: &'a Templates,
    funcs: &'a FuncMap,
    /// Definitions added by `tpl` for the duration of its execution, innermost last.
    overlay: Vec<HashMap<String, Arc<Tree>>>,
    vars: Vec<(Box<str>, Slot)>,
    tree: Arc<Tree>,
    depth: usize,
    includes: HashMap<String, usize>,
    /// When execution must stop (a chart is untrusted: `range until 100000000` must not
    /// outlive the caller's time budget); checked every [`DEADLINE_STRIDE`] steps.
    pub(crate) deadline: Option<std::time::Instant>,
    steps: u32,
}

/// Steps between two looks at the clock: cheap enough to be invisible, often enough that a
/// runaway template stops within milliseconds of its deadline.
const DEADLINE_STRIDE: u32 = 1024;

/// The message of an execution stopped at its deadline.
pub const DEADLINE_PASSED: &str = "template execution stopped: its time budget ran out";

impl<'a> State<'a> {
    pub(crate) fn new(set: &'a Templates, funcs: &'a FuncMap, tree: Arc<Tree>) -> State<'a> {
        State {
            set,
            funcs,
            overlay: Vec::new(),
            vars: Vec::new(),
            tree,
            depth: 0,
            includes: HashMap::new(),
            deadline: None,
            steps: 0,
        }
    }

    fn lookup(&self, name: &str) -> Option<Arc<Tree>> {
        for layer in self.overlay.iter().rev() {
            if let Some(t) = layer.get(name) {
                return Some(t.clone());
            }
        }
        self.set.tree(name)
    }

    /// Runs `tree` with `data` as dot and `$`, appending to `out`.
    pub(crate) fn run(
        &mut self,
        tree: Arc<Tree>,
        data: Value,
        out: &mut String,
    ) -> Result<(), Error> {
        if self.depth >= MAX_DEPTH {
            return Err(Error::new(format!(
                "template: {}: exceeded maximum template depth ({MAX_DEPTH})",
                tree.name
            )));
        }
        let saved_tree = std::mem::replace(&mut self.tree, tree.clone());
        let saved_vars = std::mem::replace(
            &mut self.vars,
            vec![("$".into(), Slot::loose(data.clone()))],
        );
        self.depth += 1;
        let dot = Slot::loose(data);
        let result = stacker::maybe_grow(STACK_RED_ZONE, STACK_GROW, || {
            self.walk_list(&dot, &tree.root, out)
        });
        self.depth -= 1;
        self.vars = saved_vars;
        self.tree = saved_tree;
        result.map(|_| ())
    }

    fn error(&self, pos: Pos, at: &dyn std::fmt::Display, msg: impl std::fmt::Display) -> Error {
        Error::new(format!(
            "template: {}:{}:{}: executing {:?} at <{}>: {}",
            self.tree.name, pos.line, pos.col, &*self.tree.name, at, msg
        ))
    }

    fn walk_list(&mut self, dot: &Slot, nodes: &[Node], out: &mut String) -> Result<Flow, Error> {
        for node in nodes {
            match self.walk(dot, node, out)? {
                Flow::Normal => {}
                flow => return Ok(flow),
            }
        }
        Ok(Flow::Normal)
    }

    /// Counts one step of execution and stops it when its deadline has passed.
    fn tick(&mut self) -> Result<(), Error> {
        self.steps = self.steps.wrapping_add(1);
        if self.steps.is_multiple_of(DEADLINE_STRIDE)
            && let Some(deadline) = self.deadline
            && std::time::Instant::now() >= deadline
        {
            return Err(Error::new(DEADLINE_PASSED));
        }
        Ok(())
    }

    fn walk(&mut self, dot: &Slot, node: &Node, out: &mut String) -> Result<Flow, Error> {
        self.tick()?;
        match node {
            Node::Text(t) => out.push_str(t),
            Node::Action(pipe) => {
                let v = self.eval_pipeline(dot, pipe)?;
                if pipe.decl.is_empty() {
                    print_value(out, &v);
                }
            }
            Node::If(b) | Node::With(b) | Node::Range(b) => {
                return stacker::maybe_grow(STACK_RED_ZONE, STACK_GROW, || match node {
                    Node::If(_) => self.walk_if_with(dot, b, false, out),
                    Node::With(_) => self.walk_if_with(dot, b, true, out),
                    _ => self.walk_range(dot, b, out),
                });
            }
            Node::Break(_) => return Ok(Flow::Break),
            Node::Continue(_) => return Ok(Flow::Continue),
            Node::Template { pos, name, pipe } => {
                let Some(tree) = self.lookup(name) else {
                    return Err(self.error(
                        *pos,
                        &format_args!("{{{{template {name:?}}}}}"),
                        format_args!("template {name:?} not defined"),
                    ));
                };
                let data = match pipe {
                    Some(p) => self.eval_pipeline(dot, p)?,
                    None => Value::Nil,
                };
                self.run(tree, data, out)?;
            }
        }
        Ok(Flow::Normal)
    }

    fn walk_if_with(
        &mut self,
        dot: &Slot,
        b: &Branch,
        with: bool,
        out: &mut String,
    ) -> Result<Flow, Error> {
        let mark = self.vars.len();
        let val = self.eval_pipeline(dot, &b.pipe)?;
        let flow = if builtins::truth(&val) {
            if with {
                self.walk_list(&Slot::loose(val), &b.list, out)
            } else {
                self.walk_list(dot, &b.list, out)
            }
        } else if let Some(else_list) = &b.else_list {
            self.walk_list(dot, else_list, out)
        } else {
            Ok(Flow::Normal)
        };
        self.vars.truncate(mark);
        flow
    }

    fn walk_range(&mut self, dot: &Slot, b: &Branch, out: &mut String) -> Result<Flow, Error> {
        let outer = self.vars.len();
        let val = self.eval_pipeline(dot, &b.pipe)?;
        let mark = self.vars.len();
        let val = builtins::collection(&val).unwrap_or(val);
        // What to visit, without materialising it: a list is shared, a map is a snapshot in
        // key order (the body may change the map), an integer counts.
        let items = match &val {
            Value::List(l) => Items::List(l.clone()),
            Value::Map(m) => Items::Map(
                m.borrow()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            ),
            Value::Int(n) if self.set.go_version() != crate::template::GoVersion::Go1_23 => {
                if b.pipe.decl.len() > 1 {
                    return Err(self.error(
                        b.pipe.pos,
                        &b.pipe,
                        format_args!("can't use {n} to iterate over more than one variable"),
                    ));
                }
                Items::Count((*n).max(0))
            }
            Value::Nil => Items::Count(0),
            other => {
                return Err(self.error(
                    b.pipe.pos,
                    &b.pipe,
                    format_args!("range can't iterate over {}", gofmt::to_string(other)),
                ));
            }
        };
        let result = (|| {
            let len = items.len();
            if len == 0 {
                if let Some(else_list) = &b.else_list {
                    self.walk_list(dot, else_list, out)?;
                }
                return Ok(Flow::Normal);
            }
            for i in 0..len {
                self.tick()?;
                let (index, elem) = items.get(i);
                let elem = Slot {
                    value: elem,
                    strict: true,
                };
                let index = Slot {
                    value: index,
                    strict: true,
                };
                let decl = &b.pipe.decl;
                if !decl.is_empty() {
                    if b.pipe.is_assign {
                        if decl.len() > 1 {
                            self.set_var(&decl[0], index.clone(), b.pipe.pos)?;
                            self.set_var(&decl[1], elem.clone(), b.pipe.pos)?;
                        } else {
                            self.set_var(&decl[0], elem.clone(), b.pipe.pos)?;
                        }
                    } else {
                        let top = self.vars.len() - 1;
                        self.vars[top].1 = elem.clone();
                        if decl.len() > 1 {
                            self.vars[top - 1].1 = index.clone();
                        }
                    }
                }
                let flow = self.walk_list(&elem, &b.list, out);
                self.vars.truncate(mark);
                match flow? {
                    Flow::Break => break,
                    Flow::Continue | Flow::Normal => {}
                }
            }
            Ok(Flow::Normal)
        })();
        self.vars.truncate(outer);
        result
    }

    fn set_var(&mut self, name: &str, value: Slot, pos: Pos) -> Result<(), Error> {
        for (n, v) in self.vars.iter_mut().rev() {
            if &**n == name {
                *v = value;
                return Ok(());
            }
        }
        Err(self.error(pos, &name, format_args!("undefined variable: {name}")))
    }

    fn var_value(&self, name: &str, pos: Pos) -> Result<Slot, Error> {
        for (n, v) in self.vars.iter().rev() {
            if &**n == name {
                return Ok(v.clone());
            }
        }
        Err(self.error(pos, &name, format_args!("undefined variable: {name}")))
    }

    fn eval_pipeline(&mut self, dot: &Slot, pipe: &Pipe) -> Result<Value, Error> {
        stacker::maybe_grow(STACK_RED_ZONE, STACK_GROW, || {
            self.eval_pipeline_inner(dot, pipe)
        })
    }

    fn eval_pipeline_inner(&mut self, dot: &Slot, pipe: &Pipe) -> Result<Value, Error> {
        let mut value = None;
        for cmd in &pipe.cmds {
            value = Some(self.eval_command(dot, cmd, value)?);
        }
        let value = value.unwrap_or(Value::Nil);
        for name in &pipe.decl {
            if pipe.is_assign {
                self.set_var(name, Slot::loose(value.clone()), pipe.pos)?;
            } else {
                self.vars.push((name.clone(), Slot::loose(value.clone())));
            }
        }
        Ok(value)
    }

    fn not_a_function(&self, cmd: &Command, final_: &Option<Value>) -> Result<(), Error> {
        if cmd.args.len() > 1 || final_.is_some() {
            return Err(self.error(
                cmd.pos,
                cmd,
                format_args!("can't give argument to non-function {}", cmd.args[0]),
            ));
        }
        Ok(())
    }

    fn eval_command(
        &mut self,
        dot: &Slot,
        cmd: &Command,
        final_: Option<Value>,
    ) -> Result<Value, Error> {
        let first = &cmd.args[0];
        match first {
            Arg::Field(_, idents) => {
                self.eval_field_chain(dot, dot.clone(), first, idents, &cmd.args[1..], final_)
            }
            Arg::Chain(inner, idents) => {
                if let Arg::Nil(_) = **inner {
                    return Err(self.error(
                        first.pos(),
                        first,
                        format_args!("indirection through explicit nil in {first}"),
                    ));
                }
                let recv = self.eval_arg(dot, inner)?;
                self.eval_field_chain(
                    dot,
                    Slot::loose(recv),
                    first,
                    idents,
                    &cmd.args[1..],
                    final_,
                )
            }
            Arg::Ident(_, name) => self.eval_function(dot, name, cmd, &cmd.args[1..], final_),
            Arg::Pipe(p) => {
                self.not_a_function(cmd, &final_)?;
                self.eval_pipeline(dot, p)
            }
            Arg::Variable(pos, name, idents) => {
                let v = self.var_value(name, *pos)?;
                if idents.is_empty() {
                    self.not_a_function(cmd, &final_)?;
                    return Ok(v.value);
                }
                self.eval_field_chain(dot, v, first, idents, &cmd.args[1..], final_)
            }
            Arg::Nil(pos) => Err(self.error(*pos, cmd, "nil is not a command")),
            _ => {
                self.not_a_function(cmd, &final_)?;
                self.eval_arg(dot, first)
            }
        }
    }

    /// The value of one argument of a function call.
    fn eval_arg(&mut self, dot: &Slot, arg: &Arg) -> Result<Value, Error> {
        match arg {
            Arg::Dot(_) => Ok(dot.value.clone()),
            Arg::Nil(_) => Ok(Value::Nil),
            Arg::Bool(_, b) => Ok(Value::Bool(*b)),
            Arg::String(_, s) => Ok(Value::string(&**s)),
            Arg::Number(_, Number::Int(n)) => Ok(Value::Int(*n)),
            Arg::Number(_, Number::Float(f)) => Ok(Value::Float(*f)),
            Arg::Number(pos, Number::Overflow(t)) => {
                Err(self.error(*pos, arg, format_args!("{t} overflows int")))
            }
            Arg::Field(_, idents) => {
                self.eval_field_chain(dot, dot.clone(), arg, idents, &[], None)
            }
            Arg::Variable(pos, name, idents) => {
                let v = self.var_value(name, *pos)?;
                if idents.is_empty() {
                    return Ok(v.value);
                }
                self.eval_field_chain(dot, v, arg, idents, &[], None)
            }
            Arg::Pipe(p) => self.eval_pipeline(dot, p),
            Arg::Ident(pos, name) => {
                let cmd = Command {
                    pos: *pos,
                    args: Vec::new(),
                };
                self.eval_function(dot, name, &cmd, &[], None)
            }
            Arg::Chain(inner, idents) => {
                if let Arg::Nil(_) = **inner {
                    return Err(self.error(
                        arg.pos(),
                        arg,
                        format_args!("indirection through explicit nil in {arg}"),
                    ));
                }
                let recv = self.eval_arg(dot, inner)?;
                self.eval_field_chain(dot, Slot::loose(recv), arg, idents, &[], None)
            }
        }
    }

    fn eval_args(
        &mut self,
        dot: &Slot,
        args: &[Arg],
        final_: Option<Value>,
    ) -> Result<Vec<Value>, Error> {
        let mut out = Vec::with_capacity(args.len() + 1);
        for a in args {
            out.push(self.eval_arg(dot, a)?);
        }
        if let Some(f) = final_ {
            out.push(f);
        }
        Ok(out)
    }

    fn eval_field_chain(
        &mut self,
        dot: &Slot,
        receiver: Slot,
        node: &Arg,
        idents: &[Box<str>],
        args: &[Arg],
        final_: Option<Value>,
    ) -> Result<Value, Error> {
        let mut cur = receiver;
        let n = idents.len();
        let has_args = !args.is_empty() || final_.is_some();
        let mut final_ = final_;
        for (i, name) in idents.iter().enumerate() {
            let last = i + 1 == n;
            let next = match &cur.value {
                Value::Nil => {
                    if cur.strict {
                        return Err(self.error(
                            node.pos(),
                            node,
                            format_args!("nil pointer evaluating interface {{}}.{name}"),
                        ));
                    }
                    return Ok(Value::Nil);
                }
                Value::Map(m) => {
                    if last && has_args {
                        return Err(self.error(
                            node.pos(),
                            node,
                            format_args!("{name} is not a method but has arguments"),
                        ));
                    }
                    m.borrow().get(&**name).cloned().unwrap_or(Value::Nil)
                }
                Value::Object(o) => {
                    let o = o.clone();
                    let argv = if last {
                        self.eval_args(dot, args, final_.take())?
                    } else {
                        Vec::new()
                    };
                    match o.get(name, &argv) {
                        None => {
                            return Err(self.error(
                                node.pos(),
                                node,
                                format_args!(
                                    "can't evaluate field {name} in type {}",
                                    o.type_name()
                                ),
                            ));
                        }
                        Some(Ok(v)) => v,
                        Some(Err(e)) => {
                            return Err(self.error(
                                node.pos(),
                                node,
                                format_args!("error calling {name}: {}", e.message),
                            ));
                        }
                    }
                }
                other => {
                    return Err(self.error(
                        node.pos(),
                        node,
                        format_args!("can't evaluate field {name} in type {}", go_type(other)),
                    ));
                }
            };
            cur = Slot {
                value: next,
                strict: true,
            };
        }
        Ok(cur.value)
    }

    fn eval_function(
        &mut self,
        dot: &Slot,
        name: &str,
        cmd: &Command,
        args: &[Arg],
        final_: Option<Value>,
    ) -> Result<Value, Error> {
        let funcs = self.funcs;
        if let Some(f) = funcs.get(name) {
            let argv = self.eval_args(dot, args, final_)?;
            let f = f.clone();
            return f(self, &argv).map_err(|e| {
                self.error(
                    cmd.pos,
                    cmd,
                    format_args!("error calling {name}: {}", e.message),
                )
            });
        }
        match name {
            "and" | "or" => {
                let is_or = name == "or";
                if args.is_empty() && final_.is_none() {
                    return Err(self.error(
                        cmd.pos,
                        cmd,
                        format_args!("wrong number of args for {name}: want at least 1 got 0"),
                    ));
                }
                let mut v = Value::Nil;
                for a in args {
                    v = self.eval_arg(dot, a)?;
                    if builtins::truth(&v) == is_or {
                        return Ok(v);
                    }
                }
                if let Some(f) = final_ {
                    v = f;
                }
                Ok(v)
            }
            _ => {
                let argv = self.eval_args(dot, args, final_)?;
                builtins::call(name, &argv).map_err(|e| self.error(cmd.pos, cmd, e))
            }
        }
    }
}

/// Go's type name in "can't evaluate field" messages.
fn go_type(v: &Value) -> String {
    match v {
        Value::List(_) => "[]interface {}".into(),
        Value::Map(_) => "map[string]interface {}".into(),
        other => other.type_name(),
    }
}

/// What an action prints: Go's `printValue` (an invalid value is `<no value>`).
fn print_value(out: &mut String, v: &Value) {
    match v {
        Value::Nil => out.push_str("<no value>"),
        other => gofmt::write_value(out, other),
    }
}

impl Call for State<'_> {
    fn include(&mut self, name: &str, data: Value) -> Result<String, Error> {
        let Some(tree) = self.lookup(name) else {
            return Err(Error::new(format!(
                "template: no template {name:?} associated with template \"gotpl\""
            )));
        };
        let count = self.includes.entry(name.to_owned()).or_insert(0);
        if *count > MAX_INCLUDE {
            return Err(Error::new(format!(
                "rendering template has a nested reference name: {name}: unable to execute template"
            )));
        }
        *count += 1;
        let mut out = String::new();
        let result = self.run(tree, data, &mut out);
        if let Some(c) = self.includes.get_mut(name) {
            *c -= 1;
        }
        result.map(|_| out)
    }

    fn tpl(&mut self, text: &str, data: Value) -> Result<String, Error> {
        // Helm parses the text as a new template named after its root template, "gotpl".
        let name: std::sync::Arc<str> = "gotpl".into();
        let funcs = self.funcs;
        let limit = self.set.paren_limit();
        let parsed = crate::parse::parse_with_limit(&name, text, &|f| funcs.contains(f), limit)?;
        let mut layer = HashMap::new();
        let mut main = None;
        for t in parsed.trees {
            let tree = Arc::new(Tree {
                name: t.name.as_str().into(),
                root: t.root,
            });
            if t.name == *name {
                main = Some(tree.clone());
                if crate::parse::is_empty_tree(&tree.root) {
                    continue;
                }
            }
            layer.insert(t.name, tree);
        }
        let main = main.unwrap_or_else(|| {
            Arc::new(Tree {
                name: name.clone(),
                root: Vec::new(),
            })
        });
        self.overlay.push(layer);
        let mut out = String::new();
        let result = self.run(main, data, &mut out);
        self.overlay.pop();
        result.map(|_| out)
    }

    fn template_name(&self) -> &str {
        &self.tree.name
    }
}
