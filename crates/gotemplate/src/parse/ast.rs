//! The parsed form of a template, as Go's `text/template/parse` builds it. Trees hold no
//! runtime values (`Send + Sync`), so one parse serves every execution.

use std::fmt;

/// Where a node starts, for error messages (`NAME:LINE:COL`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pos {
    pub line: u32,
    pub col: u32,
}

#[derive(Debug)]
pub enum Node {
    Text(Box<str>),
    Action(Pipe),
    If(Branch),
    With(Branch),
    Range(Branch),
    Template {
        pos: Pos,
        name: Box<str>,
        pipe: Option<Pipe>,
    },
    Break(Pos),
    Continue(Pos),
}

/// `if`, `with` and `range`: the pipeline, the body and the `else` part.
#[derive(Debug)]
pub struct Branch {
    pub pipe: Pipe,
    pub list: Vec<Node>,
    pub else_list: Option<Vec<Node>>,
}

#[derive(Debug)]
pub struct Pipe {
    pub pos: Pos,
    /// `$x = ...` rather than `$x := ...`.
    pub is_assign: bool,
    pub decl: Vec<Box<str>>,
    pub cmds: Vec<Command>,
}

#[derive(Debug)]
pub struct Command {
    pub pos: Pos,
    pub args: Vec<Arg>,
}

#[derive(Debug)]
pub enum Arg {
    /// `.a.b`
    Field(Pos, Vec<Box<str>>),
    /// `$x.a.b`: the name (with `$`) and the fields.
    Variable(Pos, Box<str>, Vec<Box<str>>),
    Dot(Pos),
    Nil(Pos),
    Bool(Pos, bool),
    Number(Pos, Number),
    String(Pos, Box<str>),
    /// A function name.
    Ident(Pos, Box<str>),
    /// A parenthesised pipeline.
    Pipe(Box<Pipe>),
    /// `(pipeline).a.b`
    Chain(Box<Arg>, Vec<Box<str>>),
}

/// A numeric constant typed as Go's `idealConstant` types it at execution.
#[derive(Debug, Clone)]
pub enum Number {
    Int(i64),
    Float(f64),
    /// Fits no Go `int` (an execution error, not a parse error, in Go).
    Overflow(Box<str>),
}

impl Arg {
    pub fn pos(&self) -> Pos {
        match self {
            Arg::Field(p, _)
            | Arg::Variable(p, _, _)
            | Arg::Dot(p)
            | Arg::Nil(p)
            | Arg::Bool(p, _)
            | Arg::Number(p, _)
            | Arg::String(p, _)
            | Arg::Ident(p, _) => *p,
            Arg::Pipe(p) => p.pos,
            Arg::Chain(a, _) => a.pos(),
        }
    }
}

// Display prints nodes back as template text, for the `at <...>` of error messages.

impl fmt::Display for Arg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Arg::Field(_, idents) => {
                for i in idents {
                    write!(f, ".{i}")?;
                }
                Ok(())
            }
            Arg::Variable(_, name, idents) => {
                write!(f, "{name}")?;
                for i in idents {
                    write!(f, ".{i}")?;
                }
                Ok(())
            }
            Arg::Dot(_) => write!(f, "."),
            Arg::Nil(_) => write!(f, "nil"),
            Arg::Bool(_, b) => write!(f, "{b}"),
            Arg::Number(_, Number::Int(n)) => write!(f, "{n}"),
            Arg::Number(_, Number::Float(x)) => write!(f, "{}", crate::gofloat::format_v(*x)),
            Arg::Number(_, Number::Overflow(t)) => write!(f, "{t}"),
            Arg::String(_, s) => write!(f, "{s:?}"),
            Arg::Ident(_, name) => write!(f, "{name}"),
            Arg::Pipe(p) => stacker::maybe_grow(super::STACK_RED_ZONE, super::STACK_GROW, || {
                write!(f, "({p})")
            }),
            Arg::Chain(a, idents) => {
                write!(f, "{a}")?;
                for i in idents {
                    write!(f, ".{i}")?;
                }
                Ok(())
            }
        }
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, a) in self.args.iter().enumerate() {
            if i > 0 {
                write!(f, " ")?;
            }
            write!(f, "{a}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Pipe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.decl.is_empty() {
            write!(
                f,
                "{} {} ",
                self.decl.join(", "),
                if self.is_assign { "=" } else { ":=" }
            )?;
        }
        for (i, c) in self.cmds.iter().enumerate() {
            if i > 0 {
                write!(f, " | ")?;
            }
            write!(f, "{c}")?;
        }
        Ok(())
    }
}

// Dropping a deeply nested tree recurses once per level; like parsing and execution, it runs
// on a grown stack so a hostile template cannot overflow the thread's stack.

impl Drop for Branch {
    fn drop(&mut self) {
        let list = std::mem::take(&mut self.list);
        let else_list = self.else_list.take();
        if list.is_empty() && else_list.is_none() {
            return;
        }
        stacker::maybe_grow(super::STACK_RED_ZONE, super::STACK_GROW, move || {
            drop(list);
            drop(else_list);
        });
    }
}

impl Drop for Pipe {
    fn drop(&mut self) {
        let cmds = std::mem::take(&mut self.cmds);
        stacker::maybe_grow(super::STACK_RED_ZONE, super::STACK_GROW, move || drop(cmds));
    }
}
