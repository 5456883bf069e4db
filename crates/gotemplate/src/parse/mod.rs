//! Go `text/template/parse`: template text to trees, with Go's rules for what is an error
//! (unknown functions, undefined variables, `break` outside `range`, a non-executable command
//! after a pipe).

pub mod ast;
pub mod lex;

use crate::Error;
use ast::{Arg, Branch, Command, Node, Number, Pipe, Pos};
use lex::{Kind, Token};
use std::collections::{BTreeSet, HashMap};

/// One named tree from a parse: the file's own body or a `define`/`block`.
pub struct Parsed {
    pub name: String,
    pub root: Vec<Node>,
}

/// What one `parse` call produced: trees in definition order and the functions they call.
pub struct ParseOutput {
    pub trees: Vec<Parsed>,
    pub functions: BTreeSet<String>,
}

/// The builtin functions of Go's text/template, always defined.
pub const BUILTINS: &[&str] = &[
    "and", "or", "not", "len", "index", "slice", "print", "printf", "println", "html", "js",
    "urlquery", "call", "eq", "ne", "lt", "le", "gt", "ge",
];

/// Go 1.24's limit on nested parenthesised pipelines (`max expression depth exceeded`).
pub const MAX_PAREN_DEPTH: usize = 10_000;
/// Deeply nested templates parse, execute and drop on a grown stack rather than overflowing.
pub(crate) const STACK_RED_ZONE: usize = 128 * 1024;
pub(crate) const STACK_GROW: usize = 4 * 1024 * 1024;

/// Parses `text` as template `name`, with Go 1.24's limit on nested parentheses.
pub fn parse(name: &str, text: &str, is_func: &dyn Fn(&str) -> bool) -> Result<ParseOutput, Error> {
    parse_with_limit(name, text, is_func, Some(MAX_PAREN_DEPTH))
}

/// Parses `text` as template `name`; `paren_limit` is the nesting of parenthesised pipelines
/// allowed (None: Go 1.23, no limit).
pub fn parse_with_limit(
    name: &str,
    text: &str,
    is_func: &dyn Fn(&str) -> bool,
    paren_limit: Option<usize>,
) -> Result<ParseOutput, Error> {
    let tokens = lex::lex(name, text)?;
    let mut p = Parser {
        src: text,
        name,
        tokens,
        idx: 0,
        is_func,
        vars: vec!["$".into()],
        range_depth: 0,
        paren_depth: 0,
        paren_limit,
        trees: Vec::new(),
        tree_index: HashMap::new(),
        functions: BTreeSet::new(),
    };
    let root = p.top_level()?;
    p.add(name.to_owned(), root)?;
    Ok(ParseOutput {
        trees: p.trees,
        functions: p.functions,
    })
}

/// Go's `parse.IsEmptyTree`: only blank text and comments. An empty tree does not replace an
/// existing definition of the same name.
pub fn is_empty_tree(nodes: &[Node]) -> bool {
    nodes
        .iter()
        .all(|n| matches!(n, Node::Text(t) if t.trim().is_empty()))
}

struct Parser<'a> {
    src: &'a str,
    name: &'a str,
    tokens: Vec<Token>,
    idx: usize,
    is_func: &'a dyn Fn(&str) -> bool,
    vars: Vec<String>,
    range_depth: usize,
    paren_depth: usize,
    paren_limit: Option<usize>,
    trees: Vec<Parsed>,
    tree_index: HashMap<String, usize>,
    functions: BTreeSet<String>,
}

impl<'a> Parser<'a> {
    fn text(&self, t: Token) -> &'a str {
        &self.src[t.start..t.end]
    }

    fn pos(&self, t: Token) -> Pos {
        Pos {
            line: t.line,
            col: t.col,
        }
    }

    fn error_at(&self, line: u32, msg: impl std::fmt::Display) -> Error {
        Error::new(format!("template: {}:{}: {}", self.name, line, msg))
    }

    fn error(&self, msg: impl std::fmt::Display) -> Error {
        let line = self.tokens[self.idx.saturating_sub(1).min(self.tokens.len() - 1)].line;
        self.error_at(line, msg)
    }

    fn next(&mut self) -> Token {
        let t = self.tokens[self.idx.min(self.tokens.len() - 1)];
        if self.idx < self.tokens.len() {
            self.idx += 1;
        }
        t
    }

    fn backup(&mut self) {
        self.idx -= 1;
    }

    fn peek(&self) -> Token {
        self.tokens[self.idx.min(self.tokens.len() - 1)]
    }

    fn next_non_space(&mut self) -> Token {
        loop {
            let t = self.next();
            if t.kind != Kind::Space {
                return t;
            }
        }
    }

    fn peek_non_space(&mut self) -> Token {
        let t = self.next_non_space();
        self.backup();
        t
    }

    fn describe(&self, t: Token) -> String {
        match t.kind {
            Kind::Eof => "EOF".into(),
            Kind::RightDelim => "\"}}\"".into(),
            Kind::LeftDelim => "\"{{\"".into(),
            Kind::Space => "space".into(),
            Kind::Block
            | Kind::Break
            | Kind::Continue
            | Kind::Define
            | Kind::Else
            | Kind::End
            | Kind::If
            | Kind::Range
            | Kind::Template
            | Kind::With
            | Kind::Nil => format!("<{}>", self.text(t)),
            _ => format!("{:?}", self.text(t)),
        }
    }

    fn unexpected(&self, t: Token, context: &str) -> Error {
        self.error_at(
            t.line,
            format!("unexpected {} in {}", self.describe(t), context),
        )
    }

    fn expect(&mut self, kind: Kind, context: &str) -> Result<Token, Error> {
        let t = self.next_non_space();
        if t.kind != kind {
            return Err(self.unexpected(t, context));
        }
        Ok(t)
    }

    /// Go's `Tree.add`: a second non-empty definition of a name in one parse is an error.
    fn add(&mut self, name: String, root: Vec<Node>) -> Result<(), Error> {
        if let Some(&i) = self.tree_index.get(&name) {
            if is_empty_tree(&self.trees[i].root) {
                self.trees[i].root = root;
            } else if !is_empty_tree(&root) {
                return Err(self.error(format!(
                    "template: multiple definition of template {name:?}"
                )));
            }
            return Ok(());
        }
        self.tree_index.insert(name.clone(), self.trees.len());
        self.trees.push(Parsed { name, root });
        Ok(())
    }

    fn top_level(&mut self) -> Result<Vec<Node>, Error> {
        let mut list = Vec::new();
        while self.peek().kind != Kind::Eof {
            if self.peek().kind == Kind::LeftDelim {
                let at = self.idx;
                self.next();
                if self.next_non_space().kind == Kind::Define {
                    self.definition()?;
                    continue;
                }
                self.idx = at;
            }
            match self.text_or_action()? {
                Item::Node(n) => list.push(n),
                Item::End(t) | Item::Else(t) => return Err(self.unexpected(t, "input")),
            }
        }
        Ok(list)
    }

    fn definition(&mut self) -> Result<(), Error> {
        let context = "define clause";
        let t = self.next_non_space();
        let name = self.template_name(t, context)?;
        self.expect(Kind::RightDelim, context)?;
        let saved_vars = std::mem::replace(&mut self.vars, vec!["$".into()]);
        let saved_depth = std::mem::replace(&mut self.range_depth, 0);
        let (list, end) = self.item_list()?;
        self.vars = saved_vars;
        self.range_depth = saved_depth;
        if let End::Else(t) = end {
            return Err(self.error_at(t.line, format!("unexpected {{{{else}}}} in {context}")));
        }
        self.add(name, list)
    }

    fn template_name(&mut self, t: Token, context: &str) -> Result<String, Error> {
        match t.kind {
            Kind::String | Kind::RawString => {
                unquote(self.text(t)).map_err(|e| self.error_at(t.line, e))
            }
            _ => Err(self.unexpected(t, context)),
        }
    }

    /// Nodes up to an `{{end}}` or `{{else}}`, which it reports.
    fn item_list(&mut self) -> Result<(Vec<Node>, End), Error> {
        let mut list = Vec::new();
        while self.peek_non_space().kind != Kind::Eof {
            match self.text_or_action()? {
                Item::Node(n) => list.push(n),
                Item::End(_) => return Ok((list, End::End)),
                Item::Else(t) => return Ok((list, End::Else(t))),
            }
        }
        Err(self.error("unexpected EOF"))
    }

    fn text_or_action(&mut self) -> Result<Item, Error> {
        let t = self.next_non_space();
        match t.kind {
            Kind::Text => Ok(Item::Node(Node::Text(self.text(t).into()))),
            Kind::LeftDelim => self.action(),
            _ => Err(self.unexpected(t, "input")),
        }
    }

    fn action(&mut self) -> Result<Item, Error> {
        let t = self.next_non_space();
        match t.kind {
            Kind::Block => return self.block().map(Item::Node),
            Kind::Break | Kind::Continue => {
                let word = if t.kind == Kind::Break {
                    "break"
                } else {
                    "continue"
                };
                if self.range_depth == 0 {
                    return Err(
                        self.error_at(t.line, format!("{{{{{word}}}}} outside {{{{range}}}}"))
                    );
                }
                self.expect(Kind::RightDelim, &format!("{{{{{word}}}}}"))?;
                let pos = self.pos(t);
                return Ok(Item::Node(if t.kind == Kind::Break {
                    Node::Break(pos)
                } else {
                    Node::Continue(pos)
                }));
            }
            Kind::Else => {
                let peek = self.peek_non_space();
                if peek.kind == Kind::If || peek.kind == Kind::With {
                    return Ok(Item::Else(peek));
                }
                self.expect(Kind::RightDelim, "else")?;
                return Ok(Item::Else(t));
            }
            Kind::End => {
                self.expect(Kind::RightDelim, "end")?;
                return Ok(Item::End(t));
            }
            Kind::If => return self.control("if").map(|b| Item::Node(Node::If(b))),
            Kind::Range => return self.control("range").map(|b| Item::Node(Node::Range(b))),
            Kind::With => return self.control("with").map(|b| Item::Node(Node::With(b))),
            Kind::Template => return self.template_control().map(Item::Node),
            _ => {}
        }
        self.backup();
        let pipe = self.pipeline("command", Kind::RightDelim)?;
        Ok(Item::Node(Node::Action(pipe)))
    }

    fn control(&mut self, context: &str) -> Result<Branch, Error> {
        stacker::maybe_grow(STACK_RED_ZONE, STACK_GROW, || self.control_inner(context))
    }

    fn control_inner(&mut self, context: &str) -> Result<Branch, Error> {
        let mark = self.vars.len();
        let pipe = self.pipeline(context, Kind::RightDelim)?;
        if context == "range" {
            self.range_depth += 1;
        }
        let (list, end) = self.item_list()?;
        if context == "range" {
            self.range_depth -= 1;
        }
        let mut else_list = None;
        if let End::Else(_) = end {
            // "{{else if}}" and "{{else with}}" nest a control that owns the {{end}}.
            let next = self.peek();
            if context == "if" && next.kind == Kind::If {
                self.next();
                else_list = Some(vec![Node::If(self.control("if")?)]);
            } else if context == "with" && next.kind == Kind::With {
                self.next();
                else_list = Some(vec![Node::With(self.control("with")?)]);
            } else {
                let (list, end) = self.item_list()?;
                if let End::Else(t) = end {
                    return Err(self.error_at(t.line, "expected end; found {{else}}"));
                }
                else_list = Some(list);
            }
        }
        self.vars.truncate(mark);
        Ok(Branch {
            pipe,
            list,
            else_list,
        })
    }

    fn template_control(&mut self) -> Result<Node, Error> {
        let context = "template clause";
        let t = self.next_non_space();
        let name = self.template_name(t, context)?;
        let pipe = if self.next_non_space().kind != Kind::RightDelim {
            self.backup();
            Some(self.pipeline(context, Kind::RightDelim)?)
        } else {
            None
        };
        Ok(Node::Template {
            pos: self.pos(t),
            name: name.into(),
            pipe,
        })
    }

    fn block(&mut self) -> Result<Node, Error> {
        let context = "block clause";
        let t = self.next_non_space();
        let name = self.template_name(t, context)?;
        let pipe = self.pipeline(context, Kind::RightDelim)?;
        let saved_vars = std::mem::replace(&mut self.vars, vec!["$".into()]);
        let saved_depth = std::mem::replace(&mut self.range_depth, 0);
        let (list, end) = self.item_list()?;
        self.vars = saved_vars;
        self.range_depth = saved_depth;
        if let End::Else(t) = end {
            return Err(self.error_at(t.line, format!("unexpected {{{{else}}}} in {context}")));
        }
        self.add(name.clone(), list)?;
        Ok(Node::Template {
            pos: self.pos(t),
            name: name.into(),
            pipe: Some(pipe),
        })
    }

    fn pipeline(&mut self, context: &str, end: Kind) -> Result<Pipe, Error> {
        let start = self.peek_non_space();
        let mut pipe = Pipe {
            pos: self.pos(start),
            is_assign: false,
            decl: Vec::new(),
            cmds: Vec::new(),
        };
        'decls: loop {
            let v = self.peek_non_space();
            if v.kind != Kind::Variable {
                break;
            }
            let at = self.idx;
            self.next_non_space();
            let next = self.peek_non_space();
            match next.kind {
                Kind::Assign | Kind::Declare => {
                    pipe.is_assign = next.kind == Kind::Assign;
                    self.next_non_space();
                    let name = self.text(v).to_owned();
                    pipe.decl.push(name.as_str().into());
                    self.vars.push(name);
                    break;
                }
                Kind::Char if self.text(next) == "," => {
                    self.next_non_space();
                    let name = self.text(v).to_owned();
                    pipe.decl.push(name.as_str().into());
                    self.vars.push(name);
                    if context == "range" && pipe.decl.len() < 2 {
                        match self.peek_non_space().kind {
                            Kind::Variable | Kind::RightDelim | Kind::RightParen => continue 'decls,
                            _ => return Err(self.error("range can only initialize variables")),
                        }
                    }
                    return Err(self.error(format!("too many declarations in {context}")));
                }
                _ => {
                    self.idx = at;
                    break;
                }
            }
        }
        loop {
            let t = self.next_non_space();
            if t.kind == end {
                if pipe.cmds.is_empty() {
                    return Err(self.error_at(t.line, format!("missing value for {context}")));
                }
                for (i, c) in pipe.cmds.iter().enumerate().skip(1) {
                    if matches!(
                        c.args[0],
                        Arg::Bool(..)
                            | Arg::Dot(_)
                            | Arg::Nil(_)
                            | Arg::Number(..)
                            | Arg::String(..)
                    ) {
                        return Err(self.error_at(
                            t.line,
                            format!("non executable command in pipeline stage {}", i + 1),
                        ));
                    }
                }
                return Ok(pipe);
            }
            match t.kind {
                Kind::Bool
                | Kind::CharConstant
                | Kind::Dot
                | Kind::Field
                | Kind::Identifier
                | Kind::Number
                | Kind::Nil
                | Kind::RawString
                | Kind::String
                | Kind::Variable
                | Kind::LeftParen => {
                    self.backup();
                    let cmd = self.command()?;
                    pipe.cmds.push(cmd);
                }
                _ => return Err(self.unexpected(t, context)),
            }
        }
    }

    fn command(&mut self) -> Result<Command, Error> {
        let start = self.peek_non_space();
        let mut cmd = Command {
            pos: self.pos(start),
            args: Vec::new(),
        };
        loop {
            self.peek_non_space();
            if let Some(op) = self.operand()? {
                cmd.args.push(op);
            }
            let t = self.next();
            match t.kind {
                Kind::Space => continue,
                Kind::RightDelim | Kind::RightParen => self.backup(),
                Kind::Pipe => {}
                _ => return Err(self.unexpected(t, "operand")),
            }
            break;
        }
        if cmd.args.is_empty() {
            return Err(self.error("empty command"));
        }
        Ok(cmd)
    }

    fn operand(&mut self) -> Result<Option<Arg>, Error> {
        let Some(node) = self.term()? else {
            return Ok(None);
        };
        if self.peek().kind != Kind::Field {
            return Ok(Some(node));
        }
        let mut fields = Vec::new();
        while self.peek().kind == Kind::Field {
            let t = self.next();
            fields.push(self.text(t)[1..].into());
        }
        Ok(Some(match node {
            Arg::Field(p, mut idents) => {
                idents.extend(fields);
                Arg::Field(p, idents)
            }
            Arg::Variable(p, name, mut idents) => {
                idents.extend(fields);
                Arg::Variable(p, name, idents)
            }
            Arg::Bool(..) | Arg::String(..) | Arg::Number(..) | Arg::Nil(_) | Arg::Dot(_) => {
                return Err(self.error(format!("unexpected . after term {:?}", node.to_string())));
            }
            other => Arg::Chain(Box::new(other), fields),
        }))
    }

    fn term(&mut self) -> Result<Option<Arg>, Error> {
        let t = self.next_non_space();
        let pos = self.pos(t);
        Ok(Some(match t.kind {
            Kind::Identifier => {
                let name = self.text(t);
                if !BUILTINS.contains(&name) && !(self.is_func)(name) {
                    return Err(self.error_at(t.line, format!("function {name:?} not defined")));
                }
                self.functions.insert(name.to_owned());
                Arg::Ident(pos, name.into())
            }
            Kind::Dot => Arg::Dot(pos),
            Kind::Nil => Arg::Nil(pos),
            Kind::Variable => {
                let name = self.text(t);
                if !self.vars.iter().any(|v| v == name) {
                    return Err(self.error_at(t.line, format!("undefined variable {name:?}")));
                }
                Arg::Variable(pos, name.into(), Vec::new())
            }
            Kind::Field => Arg::Field(pos, vec![self.text(t)[1..].into()]),
            Kind::Bool => Arg::Bool(pos, self.text(t) == "true"),
            Kind::CharConstant => {
                let text = self.text(t);
                let s = unquote_char(text).map_err(|e| self.error_at(t.line, e))?;
                Arg::Number(pos, Number::Int(s as i64))
            }
            Kind::Number => {
                let n = parse_number(self.text(t)).map_err(|e| self.error_at(t.line, e))?;
                Arg::Number(pos, n)
            }
            Kind::LeftParen => {
                if self.paren_limit.is_some_and(|l| self.paren_depth >= l) {
                    return Err(self.error_at(t.line, "max expression depth exceeded"));
                }
                self.paren_depth += 1;
                let pipe = stacker::maybe_grow(STACK_RED_ZONE, STACK_GROW, || {
                    self.pipeline("parenthesized pipeline", Kind::RightParen)
                });
                self.paren_depth -= 1;
                Arg::Pipe(Box::new(pipe?))
            }
            Kind::String | Kind::RawString => {
                let s = unquote(self.text(t)).map_err(|e| self.error_at(t.line, e))?;
                Arg::String(pos, s.into())
            }
            _ => {
                self.backup();
                return Ok(None);
            }
        }))
    }
}

/// What one step of the parser read: a node, or the `{{end}}`/`{{else}}` closing a list.
enum Item {
    Node(Node),
    End(Token),
    Else(Token),
}

/// How a list of nodes ended.
enum End {
    End,
    Else(Token),
}

/// Go's `strconv.Unquote` for `"..."` and `` `...` `` literals.
pub fn unquote(text: &str) -> Result<String, String> {
    if let Some(raw) = text.strip_prefix('`') {
        return Ok(raw.strip_suffix('`').unwrap_or(raw).replace('\r', ""));
    }
    let inner = &text[1..text.len() - 1];
    if !inner.contains('\\') {
        return Ok(inner.to_owned());
    }
    let mut out = Vec::with_capacity(inner.len());
    let mut chars = inner.char_indices().peekable();
    let bad = || format!("invalid syntax: {text}");
    while let Some((_, c)) = chars.next() {
        if c != '\\' {
            let mut buf = [0; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            continue;
        }
        let Some((_, e)) = chars.next() else {
            return Err(bad());
        };
        let simple = match e {
            'a' => Some(7u8),
            'b' => Some(8),
            'f' => Some(12),
            'n' => Some(b'\n'),
            'r' => Some(b'\r'),
            't' => Some(b'\t'),
            'v' => Some(11),
            '\\' => Some(b'\\'),
            '"' => Some(b'"'),
            _ => None,
        };
        if let Some(b) = simple {
            out.push(b);
            continue;
        }
        let mut take = |n: usize, radix: u32| -> Result<u32, String> {
            let mut v = 0u32;
            for _ in 0..n {
                let (_, d) = chars.next().ok_or_else(bad)?;
                v = v * radix + d.to_digit(radix).ok_or_else(bad)?;
            }
            Ok(v)
        };
        match e {
            'x' => out.push(take(2, 16)? as u8),
            '0'..='7' => {
                let rest = take(2, 8)?;
                let v = e.to_digit(8).unwrap_or(0) * 64 + rest;
                if v > 255 {
                    return Err(bad());
                }
                out.push(v as u8);
            }
            'u' | 'U' => {
                let v = take(if e == 'u' { 4 } else { 8 }, 16)?;
                let c = char::from_u32(v).ok_or_else(bad)?;
                let mut buf = [0; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
            _ => return Err(bad()),
        }
    }
    Ok(String::from_utf8(out)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
}

fn unquote_char(text: &str) -> Result<char, String> {
    let inner = &text[1..text.len() - 1];
    let bad = || format!("malformed character constant: {text}");
    if !inner.starts_with('\\') {
        let mut cs = inner.chars();
        let c = cs.next().ok_or_else(bad)?;
        return if cs.next().is_none() {
            Ok(c)
        } else {
            Err(bad())
        };
    }
    if inner == "\\'" {
        return Ok('\'');
    }
    let s = unquote(&format!("\"{inner}\"")).map_err(|_| bad())?;
    let mut cs = s.chars();
    let c = cs.next().ok_or_else(bad)?;
    if cs.next().is_some() {
        return Err(bad());
    }
    Ok(c)
}

/// A Go integer literal (`strconv.ParseInt(s, 0, 64)` rules: prefixes, underscores, a leading
/// `0` for octal), or None.
fn parse_go_int(text: &str) -> Option<i128> {
    let (neg, body) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let lower = body.to_ascii_lowercase();
    let (radix, digits, prefixed) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d.to_owned(), true)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d.to_owned(), true)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d.to_owned(), true)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, lower[1..].to_owned(), true)
    } else {
        (10, lower.clone(), false)
    };
    if digits.contains('_') {
        // Underscores only between digits (or right after a base prefix).
        let b = digits.as_bytes();
        if b.last() == Some(&b'_')
            || digits.contains("__")
            || (!prefixed && b.first() == Some(&b'_'))
        {
            return None;
        }
    }
    let clean: String = digits.chars().filter(|&c| c != '_').collect();
    if clean.is_empty() {
        return None;
    }
    let v = u128::from_str_radix(&clean, radix).ok()?;
    let v = i128::try_from(v).ok()?;
    Some(if neg { -v } else { v })
}

/// A Go hexadecimal float literal (`0x1.8p3`): hex mantissa, binary exponent (required).
fn parse_hex_float(text: &str) -> Option<f64> {
    let (neg, body) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let body: String = body[2..].chars().filter(|&c| c != '_').collect();
    let (mant, exp) = body.split_once(['p', 'P'])?;
    let exp: i32 = exp.parse().ok()?;
    let (int_part, frac) = mant.split_once('.').unwrap_or((mant, ""));
    if int_part.is_empty() && frac.is_empty() {
        return None;
    }
    let mut v = 0f64;
    for c in int_part.chars().chain(frac.chars()) {
        v = v * 16.0 + c.to_digit(16)? as f64;
    }
    let v = v * 2f64.powi(exp - 4 * frac.len() as i32);
    if v.is_infinite() {
        return None;
    }
    Some(if neg { -v } else { v })
}

/// A number token typed as Go types the constant at execution: a float when it is written as
/// one (`.`, an exponent) and is not a hex integer, else an int.
fn parse_number(text: &str) -> Result<Number, String> {
    if text.ends_with('i') {
        return Err(format!("complex numbers are not supported: {text:?}"));
    }
    let is_hex = {
        let t = text.trim_start_matches(['+', '-']);
        t.len() > 2 && (t.starts_with("0x") || t.starts_with("0X"))
    };
    let looks_float = if is_hex {
        text.contains(['p', 'P'])
    } else {
        text.contains(['.', 'e', 'E'])
    };
    if !looks_float {
        return match parse_go_int(text) {
            Some(v) if i64::try_from(v).is_ok() => Ok(Number::Int(v as i64)),
            Some(v) if v >= 0 && v <= u64::MAX as i128 => Ok(Number::Overflow(text.into())),
            Some(_) => Err(format!("integer overflow: {text:?}")),
            None => Err(format!("illegal number syntax: {text:?}")),
        };
    }
    if is_hex {
        return parse_hex_float(text)
            .map(Number::Float)
            .ok_or_else(|| format!("illegal number syntax: {text:?}"));
    }
    let clean: String = text.chars().filter(|&c| c != '_').collect();
    let f: f64 = clean
        .parse()
        .map_err(|_| format!("illegal number syntax: {text:?}"))?;
    if f.is_infinite() {
        return Err(format!("illegal number syntax: {text:?}"));
    }
    Ok(Number::Float(f))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_funcs(_: &str) -> bool {
        false
    }

    #[test]
    fn numbers_are_typed_like_go() {
        assert!(matches!(parse_number("1e3"), Ok(Number::Float(f)) if f == 1000.0));
        assert!(matches!(parse_number("0x1F"), Ok(Number::Int(31))));
        assert!(matches!(parse_number("0x1e"), Ok(Number::Int(30))));
        assert!(matches!(parse_number("017"), Ok(Number::Int(15))));
        assert!(matches!(parse_number("1_000"), Ok(Number::Int(1000))));
        assert!(matches!(parse_number("0b101"), Ok(Number::Int(5))));
        assert!(matches!(parse_number("-3"), Ok(Number::Int(-3))));
        assert!(matches!(parse_number("1.0"), Ok(Number::Float(_))));
        assert!(parse_number("1__0").is_err());
        assert!(matches!(parse_number("0x1p4"), Ok(Number::Float(f)) if f == 16.0));
        assert!(matches!(parse_number("0x1.8p1"), Ok(Number::Float(f)) if f == 3.0));
        assert!(matches!(
            parse_number("9223372036854775808"),
            Ok(Number::Overflow(_))
        ));
        assert!(parse_number("-9223372036854775809").is_err());
        assert!(parse_number("08").is_err());
    }

    #[test]
    fn unknown_function_and_variable_are_parse_errors() {
        let e = parse("t", "{{ foo 1 }}", &no_funcs).err().unwrap();
        assert_eq!(e.message, "template: t:1: function \"foo\" not defined");
        assert!(parse("t", "{{ $x }}", &no_funcs).is_err());
        assert!(parse("t", "{{ break }}", &no_funcs).is_err());
        assert!(parse("t", "{{ if 1 }}", &no_funcs).is_err());
        assert!(parse("t", "{{ 1 | 2 }}", &no_funcs).is_err());
        assert!(parse("t", "{{ .a\"x\" }}", &no_funcs).is_err());
    }

    #[test]
    fn defines_join_the_output() {
        let out = parse(
            "t",
            "a{{define \"x\"}}X{{end}}b{{block \"y\" .}}Y{{end}}",
            &no_funcs,
        )
        .unwrap();
        let names: Vec<&str> = out.trees.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["x", "y", "t"]);
        assert!(
            parse(
                "t",
                "{{define \"x\"}}X{{end}}{{define \"x\"}}Y{{end}}",
                &no_funcs
            )
            .is_err()
        );
    }

    #[test]
    fn escapes() {
        assert_eq!(unquote(r#""a\tb\x41\u00e9\101""#).unwrap(), "a\tbAéA");
        assert_eq!(unquote("`a\\n`").unwrap(), "a\\n");
        assert_eq!(unquote_char(r"'\n'").unwrap(), '\n');
    }
}
