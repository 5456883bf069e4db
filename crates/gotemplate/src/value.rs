//! Values as Go's `interface{}` holds them when Helm renders a chart.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;
use std::rc::Rc;

/// A Go map: `map[string]interface{}`. Go maps are references: `set`, `unset` and `merge`
/// change the map every holder sees (charts rely on `$_ := set $d "k" v`), hence the shared
/// cell. Sorted, because Go prints, ranges over and encodes maps in key order.
pub type Map = Rc<RefCell<BTreeMap<String, Value>>>;

/// One Go value.
#[derive(Clone)]
pub enum Value {
    /// The nil interface: a missing map key, YAML `null`, the `nil` literal.
    Nil,
    Bool(bool),
    /// Go `int` (and `int64`): template literals, `len`, Sprig's integer functions.
    Int(i64),
    /// Go `float64`: every number read from YAML values or JSON.
    Float(f64),
    String(Rc<str>),
    /// `[]interface{}` (also `[]string`, which prints and ranges the same). Go slices passed
    /// through Sprig are copied on change, so a list needs no shared cell.
    List(Rc<Vec<Value>>),
    Map(Map),
    /// A Go struct or a value with methods: `.Release`, `.Chart`, `.Files`, `.Capabilities`.
    Object(Rc<dyn Object>),
}

/// A Go struct (or named type with methods) seen from a template.
pub trait Object {
    /// Go's type name as `%T` and Sprig's `typeOf` print it (`*chart.Metadata`).
    fn type_name(&self) -> &str;
    /// `.Name` on this value: a field, or a method called with `args` (`.Files.Get "a"`).
    /// `None` when there is no such field or method (Go: "can't evaluate field").
    fn get(&self, name: &str, args: &[Value]) -> Option<Result<Value, crate::Error>>;
    /// What `{{ . }}` and `%v` print for it.
    fn print(&self) -> String;
    /// The value `toJson` and `toYaml` see (a struct encodes as an object of its fields).
    fn to_value(&self) -> Value {
        Value::Nil
    }
}

impl Value {
    pub fn string(text: impl Into<Rc<str>>) -> Value {
        Value::String(text.into())
    }

    pub fn list(items: Vec<Value>) -> Value {
        Value::List(Rc::new(items))
    }

    pub fn map(entries: BTreeMap<String, Value>) -> Value {
        Value::Map(Rc::new(RefCell::new(entries)))
    }

    pub fn empty_map() -> Value {
        Value::map(BTreeMap::new())
    }

    /// Go template truth: false, 0, nil, and empty strings, lists and maps are false.
    pub fn truth(&self) -> bool {
        match self {
            Value::Nil => false,
            Value::Bool(b) => *b,
            Value::Int(n) => *n != 0,
            Value::Float(f) => *f != 0.0,
            Value::String(s) => !s.is_empty(),
            Value::List(l) => !l.is_empty(),
            Value::Map(m) => !m.borrow().is_empty(),
            Value::Object(_) => true,
        }
    }

    /// Go's type name, as `%T` and Sprig's `typeOf` print it.
    pub fn type_name(&self) -> String {
        match self {
            Value::Nil => "<nil>".into(),
            Value::Bool(_) => "bool".into(),
            Value::Int(_) => "int".into(),
            Value::Float(_) => "float64".into(),
            Value::String(_) => "string".into(),
            Value::List(_) => "[]interface {}".into(),
            Value::Map(_) => "map[string]interface {}".into(),
            Value::Object(o) => o.type_name().into(),
        }
    }

    /// Go's reflect kind, as Sprig's `kindOf` prints it.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Value::Nil => "invalid",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float64",
            Value::String(_) => "string",
            Value::List(_) => "slice",
            Value::Map(_) => "map",
            Value::Object(_) => "ptr",
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Nil => write!(f, "nil"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(n) => write!(f, "{n}"),
            Value::Float(x) => write!(f, "{x:?}f"),
            Value::String(s) => write!(f, "{s:?}"),
            Value::List(l) => f.debug_list().entries(l.iter()).finish(),
            Value::Map(m) => f.debug_map().entries(m.borrow().iter()).finish(),
            Value::Object(o) => write!(f, "{}", o.type_name()),
        }
    }
}

/// Deep equality as Go's `reflect.DeepEqual` sees it (Sprig's `has`, `uniq`, `without`).
impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Nil, Value::Nil) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Int(a), Value::Int(b)) => a == b,
            (Value::Float(a), Value::Float(b)) => a == b,
            (Value::String(a), Value::String(b)) => a == b,
            (Value::List(a), Value::List(b)) => a == b,
            (Value::Map(a), Value::Map(b)) => Rc::ptr_eq(a, b) || *a.borrow() == *b.borrow(),
            (Value::Object(a), Value::Object(b)) => Rc::ptr_eq(a, b),
            _ => false,
        }
    }
}
