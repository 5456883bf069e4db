//! The function map: what a template may call by name.

use crate::{Error, Value};
use std::collections::HashMap;
use std::rc::Rc;

/// A function callable from a template. It receives the executing template's state, so that
/// Helm's `include` and `tpl` can run other templates of the same set.
pub type Func = Rc<dyn Fn(&mut dyn Call, &[Value]) -> Result<Value, Error>>;

/// What a function may ask of the template being executed.
pub trait Call {
    /// Runs the named template (a `define` or a file) with `data` as dot and returns its text.
    fn include(&mut self, name: &str, data: Value) -> Result<String, Error>;
    /// Parses `text` as a template (its `define`s join the set) and runs it with `data`.
    fn tpl(&mut self, text: &str, data: Value) -> Result<String, Error>;
    /// The name of the file being rendered, for messages (`required`, `fail`).
    fn template_name(&self) -> &str;
}

/// Functions by name, with whether each gives the same output for the same input (Sprig's
/// random, time and key functions do not; a renderer reports their use).
#[derive(Clone, Default)]
pub struct FuncMap {
    funcs: HashMap<String, (Func, Determinism)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Determinism {
    Deterministic,
    /// Output changes from run to run (`randAlphaNum`, `uuidv4`, `now`, `genCA`).
    Random,
}

impl FuncMap {
    pub fn insert(&mut self, name: &str, determinism: Determinism, func: Func) {
        self.funcs.insert(name.to_owned(), (func, determinism));
    }

    pub fn get(&self, name: &str) -> Option<&Func> {
        self.funcs.get(name).map(|(f, _)| f)
    }

    pub fn determinism(&self, name: &str) -> Option<Determinism> {
        self.funcs.get(name).map(|(_, d)| *d)
    }

    pub fn contains(&self, name: &str) -> bool {
        self.funcs.contains_key(name)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.funcs.keys().map(String::as_str)
    }
}
