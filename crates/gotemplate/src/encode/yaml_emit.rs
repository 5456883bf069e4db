//! go-yaml's emitter (a port of libyaml's) for the documents `toYaml` (go-yaml v2) and
//! `toYamlPretty` (go-yaml v3, indent 2) write: one implicit document of block mappings and
//! sequences, empty collections as `{}` and `[]`, no tags, anchors or flow style otherwise.
//! The state it keeps (column, indent stack, whether the last thing written was whitespace or
//! indentation) and the way it picks a scalar style and folds long lines follow libyaml,
//! because the output must be byte-identical. v3 differs in four places: it never folds, it
//! indents a sequence under a key, a tab keeps a string out of plain and single-quoted style
//! (but not out of a literal block), and only a line break (not padding) counts as indentation.

use super::resolve;
use super::yaml::{Node, float_scalar};

const BEST_INDENT: usize = 2;

/// Which go-yaml writes.
#[derive(Clone, Copy, PartialEq, Debug)]
pub(crate) enum Dialect {
    V2,
    V3,
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Style {
    Plain,
    Single,
    Double,
    Literal,
}

/// What libyaml's `analyze_scalar` learns about a scalar.
struct Analysis {
    multiline: bool,
    block_plain_allowed: bool,
    single_quoted_allowed: bool,
    block_allowed: bool,
}

/// Writes `node` as go-yaml's `Marshal` does (ending with a newline).
pub(crate) fn emit(node: &Node, dialect: Dialect) -> String {
    let mut e = Emitter {
        v3: dialect == Dialect::V3,
        best_width: match dialect {
            Dialect::V2 => 80,
            Dialect::V3 => usize::MAX,
        },
        out: String::new(),
        indent: -1,
        indents: Vec::new(),
        column: 0,
        whitespace: true,
        indention: true,
        mapping_context: false,
        simple_key_context: false,
    };
    e.node(node, false, false);
    // Document end: back to the left margin.
    e.write_indent();
    e.out
}

struct Emitter {
    v3: bool,
    best_width: usize,
    out: String,
    indent: isize,
    indents: Vec<isize>,
    column: usize,
    whitespace: bool,
    indention: bool,
    mapping_context: bool,
    simple_key_context: bool,
}

impl Emitter {
    fn put(&mut self, c: char) {
        self.out.push(c);
        self.column += 1;
    }

    /// A new line; it counts as indentation (go-yaml v2 sets that after each call instead).
    fn put_break(&mut self) {
        self.out.push('\n');
        self.column = 0;
        self.indention = true;
    }

    /// Copies one character of a scalar; a line break other than `\n` is written as itself and
    /// starts a new line.
    fn write_break(&mut self, c: char) {
        if c == '\n' {
            self.put_break();
        } else {
            self.out.push(c);
            self.column = 0;
            self.indention = true;
        }
    }

    fn increase_indent(&mut self, flow: bool, indentless: bool) {
        self.indents.push(self.indent);
        if self.indent < 0 {
            self.indent = if flow { BEST_INDENT as isize } else { 0 };
        } else if !indentless {
            self.indent += BEST_INDENT as isize;
        }
    }

    fn pop_indent(&mut self) {
        self.indent = self.indents.pop().unwrap_or(-1);
    }

    fn write_indent(&mut self) {
        let indent = self.indent.max(0) as usize;
        if !self.indention || self.column > indent || (self.column == indent && !self.whitespace) {
            self.put_break();
        }
        while self.column < indent {
            self.put(' ');
        }
        self.whitespace = true;
        if !self.v3 {
            self.indention = true;
        }
    }

    fn write_indicator(
        &mut self,
        text: &str,
        need_whitespace: bool,
        is_whitespace: bool,
        is_indention: bool,
    ) {
        if need_whitespace && !self.whitespace {
            self.put(' ');
        }
        for c in text.chars() {
            self.put(c);
        }
        self.whitespace = is_whitespace;
        self.indention = self.indention && is_indention;
    }

    fn node(&mut self, node: &Node, mapping: bool, simple_key: bool) {
        super::deep(|| self.node_here(node, mapping, simple_key));
    }

    fn node_here(&mut self, node: &Node, mapping: bool, simple_key: bool) {
        self.mapping_context = mapping;
        self.simple_key_context = simple_key;
        match node {
            Node::Null => self.scalar("null", Style::Plain),
            Node::Bool(b) => self.scalar(if *b { "true" } else { "false" }, Style::Plain),
            Node::Int(n) => self.scalar(&n.to_string(), Style::Plain),
            Node::Uint(n) => self.scalar(&n.to_string(), Style::Plain),
            Node::Float(f) => self.scalar(&float_scalar(*f), Style::Plain),
            Node::Str(s) => self.scalar(s, requested_style(s, self.v3)),
            Node::Seq(items) if items.is_empty() => self.empty_flow("[", "]"),
            Node::Map(entries) if entries.is_empty() => self.empty_flow("{", "}"),
            Node::Seq(items) => self.block_sequence(items),
            Node::Map(entries) => self.block_mapping(entries),
        }
    }

    fn empty_flow(&mut self, open: &str, close: &str) {
        self.write_indicator(open, true, true, false);
        self.increase_indent(true, false);
        self.pop_indent();
        self.write_indicator(close, false, false, false);
    }

    fn block_sequence(&mut self, items: &[Node]) {
        let indentless = !self.v3 && self.mapping_context && !self.indention;
        self.increase_indent(false, indentless);
        for item in items {
            self.write_indent();
            self.write_indicator("-", true, false, true);
            self.node(item, false, false);
        }
        self.pop_indent();
    }

    fn block_mapping(&mut self, entries: &[(String, Node)]) {
        self.increase_indent(false, false);
        for (key, value) in entries {
            self.write_indent();
            let analysis = analyze(key, self.v3);
            // libyaml's check_simple_key: one line, at most 128 bytes.
            if !analysis.multiline && key.len() <= 128 {
                self.scalar_with(key, requested_style(key, self.v3), &analysis, true, true);
                self.write_indicator(":", false, false, false);
            } else {
                self.write_indicator("?", true, false, true);
                self.scalar_with(key, requested_style(key, self.v3), &analysis, true, false);
                self.write_indent();
                self.write_indicator(":", true, false, true);
            }
            self.node(value, true, false);
        }
        self.pop_indent();
    }

    fn scalar(&mut self, text: &str, requested: Style) {
        let analysis = analyze(text, self.v3);
        let (mapping, simple_key) = (self.mapping_context, self.simple_key_context);
        self.scalar_with(text, requested, &analysis, mapping, simple_key);
    }

    fn scalar_with(
        &mut self,
        text: &str,
        requested: Style,
        a: &Analysis,
        mapping: bool,
        simple_key: bool,
    ) {
        self.mapping_context = mapping;
        self.simple_key_context = simple_key;
        let style = select_style(text, requested, a, simple_key);
        self.increase_indent(true, false);
        let allow_breaks = !simple_key;
        match style {
            Style::Plain => self.write_plain(text, allow_breaks),
            Style::Single => self.write_single(text, allow_breaks),
            Style::Double => self.write_double(text, allow_breaks),
            Style::Literal => self.write_literal(text),
        }
        self.pop_indent();
    }

    fn write_plain(&mut self, text: &str, allow_breaks: bool) {
        if !self.whitespace {
            self.put(' ');
        }
        let chars: Vec<char> = text.chars().collect();
        let mut spaces = false;
        let mut breaks = false;
        for (i, &c) in chars.iter().enumerate() {
            if c == ' ' {
                if allow_breaks
                    && !spaces
                    && self.column > self.best_width
                    && chars.get(i + 1) != Some(&' ')
                {
                    self.write_indent();
                } else {
                    self.put(c);
                }
                spaces = true;
            } else if is_break(c) {
                if !breaks && c == '\n' {
                    self.put_break();
                }
                self.write_break(c);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                self.put(c);
                self.indention = false;
                spaces = false;
                breaks = false;
            }
        }
        self.whitespace = false;
        self.indention = false;
    }

    fn write_single(&mut self, text: &str, allow_breaks: bool) {
        self.write_indicator("'", true, false, false);
        let mut spaces = false;
        let mut breaks = false;
        let mut chars = text.chars().peekable();
        let mut first = true;
        while let Some(c) = chars.next() {
            let next = chars.peek().copied();
            let inner = !std::mem::take(&mut first) && next.is_some();
            if c == ' ' {
                if allow_breaks
                    && !spaces
                    && self.column > self.best_width
                    && inner
                    && next != Some(' ')
                {
                    self.write_indent();
                } else {
                    self.put(c);
                }
                spaces = true;
            } else if is_break(c) {
                if !breaks && c == '\n' {
                    self.put_break();
                }
                self.write_break(c);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                if c == '\'' {
                    self.put('\'');
                }
                self.put(c);
                self.indention = false;
                spaces = false;
                breaks = false;
            }
        }
        self.write_indicator("'", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn write_double(&mut self, text: &str, allow_breaks: bool) {
        self.write_indicator("\"", true, false, false);
        // libyaml's is_bom looks at the start of the value, not at the current character:
        // a value that starts with U+FEFF has every character escaped.
        let starts_with_bom = text.starts_with('\u{feff}');
        let mut spaces = false;
        let mut chars = text.chars().peekable();
        let mut first = true;
        while let Some(c) = chars.next() {
            let next = chars.peek().copied();
            let inner = !std::mem::take(&mut first) && next.is_some();
            if !is_printable(c) || starts_with_bom || is_break(c) || c == '"' || c == '\\' {
                self.put('\\');
                match c {
                    '\0' => self.put('0'),
                    '\u{7}' => self.put('a'),
                    '\u{8}' => self.put('b'),
                    '\t' => self.put('t'),
                    '\n' => self.put('n'),
                    '\u{b}' => self.put('v'),
                    '\u{c}' => self.put('f'),
                    '\r' => self.put('r'),
                    '\u{1b}' => self.put('e'),
                    '"' => self.put('"'),
                    '\\' => self.put('\\'),
                    '\u{85}' => self.put('N'),
                    '\u{a0}' => self.put('_'),
                    '\u{2028}' => self.put('L'),
                    '\u{2029}' => self.put('P'),
                    c => {
                        let v = c as u32;
                        let (letter, width) = match v {
                            0..=0xff => ('x', 2),
                            0x100..=0xffff => ('u', 4),
                            _ => ('U', 8),
                        };
                        self.put(letter);
                        for d in format!("{v:0width$X}").chars() {
                            self.put(d);
                        }
                    }
                }
                spaces = false;
            } else if c == ' ' {
                if allow_breaks && !spaces && self.column > self.best_width && inner {
                    self.write_indent();
                    if next == Some(' ') {
                        self.put('\\');
                    }
                } else {
                    self.put(c);
                }
                spaces = true;
            } else {
                self.put(c);
                spaces = false;
            }
        }
        self.write_indicator("\"", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn write_literal(&mut self, text: &str) {
        self.write_indicator("|", true, false, false);
        if text.starts_with(|c: char| c == ' ' || is_break(c)) {
            self.write_indicator(&BEST_INDENT.to_string(), false, false, false);
        }
        let mut from_end = text.chars().rev();
        let chomp = match (from_end.next(), from_end.next()) {
            (None, _) => Some("-"),
            (Some(last), _) if !is_break(last) => Some("-"),
            (Some(_), None) => Some("+"),
            (Some(_), Some(before)) if is_break(before) => Some("+"),
            _ => None,
        };
        if let Some(chomp) = chomp {
            self.write_indicator(chomp, false, false, false);
        }
        self.put_break();
        self.indention = true;
        self.whitespace = true;
        let mut breaks = true;
        for c in text.chars() {
            if is_break(c) {
                self.write_break(c);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                self.put(c);
                self.indention = false;
                breaks = false;
            }
        }
    }
}

/// go-yaml's `stringv`: a literal block for text with `\n`, plain when the resolver would
/// read the text back as this string, else double-quoted.
fn requested_style(s: &str, v3: bool) -> Style {
    let plain = if v3 {
        resolve::plain_is_string_v3(s)
    } else {
        resolve::plain_is_string(s)
    };
    if s.contains('\n') {
        Style::Literal
    } else if plain {
        Style::Plain
    } else {
        Style::Double
    }
}

/// libyaml's `select_scalar_style` for block context and implicit tags.
fn select_style(text: &str, requested: Style, a: &Analysis, simple_key: bool) -> Style {
    let mut style = requested;
    if simple_key && a.multiline {
        style = Style::Double;
    }
    if style == Style::Plain && (!a.block_plain_allowed || (text.is_empty() && simple_key)) {
        style = Style::Single;
    }
    if style == Style::Single && !a.single_quoted_allowed {
        style = Style::Double;
    }
    if style == Style::Literal && (!a.block_allowed || simple_key) {
        style = Style::Double;
    }
    style
}

/// libyaml's `is_printable` (with unicode output on): note that characters beyond the
/// Basic Multilingual Plane are not, so go-yaml escapes emoji.
fn is_printable(c: char) -> bool {
    let v = c as u32;
    v == 0x0a
        || (0x20..=0x7e).contains(&v)
        || (0xa0..=0xd7ff).contains(&v)
        || ((0xe000..=0xfffd).contains(&v) && v != 0xfeff)
}

fn is_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

fn is_blank(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// libyaml's `analyze_scalar`, for the flags block context uses.
fn analyze(text: &str, v3: bool) -> Analysis {
    if text.is_empty() {
        return Analysis {
            multiline: false,
            block_plain_allowed: true,
            single_quoted_allowed: true,
            block_allowed: false,
        };
    }
    let f = scan(text, v3);
    let edge_blank = f.leading_space || f.leading_break || f.trailing_space || f.trailing_break;
    let unquotable = f.space_break || f.special_characters;
    Analysis {
        multiline: f.line_breaks,
        block_plain_allowed: !(edge_blank
            || f.break_space
            || unquotable
            || f.tab_characters
            || f.line_breaks
            || f.block_indicators),
        single_quoted_allowed: !(f.break_space || unquotable || f.tab_characters),
        block_allowed: !(f.trailing_space || unquotable),
    }
}

/// What `analyze_scalar` notes while reading a scalar character by character.
#[derive(Default)]
struct Features {
    block_indicators: bool,
    line_breaks: bool,
    special_characters: bool,
    /// Only go-yaml v3 tells tabs apart from other unprintable characters.
    tab_characters: bool,
    leading_space: bool,
    leading_break: bool,
    trailing_space: bool,
    trailing_break: bool,
    /// A line that starts with a space after a break.
    break_space: bool,
    /// A space right before a line break.
    space_break: bool,
}

fn scan(text: &str, v3: bool) -> Features {
    let mut f = Features {
        block_indicators: text.starts_with("---") || text.starts_with("..."),
        ..Features::default()
    };
    let (mut previous_space, mut previous_break) = (false, false);
    let mut preceded_by_whitespace = true;
    let mut chars = text.chars().peekable();
    let mut first = true;
    while let Some(c) = chars.next() {
        let next = chars.peek().copied();
        let followed_by_whitespace = next.is_none_or(is_blank);
        f.block_indicators |= match c {
            '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"' | '%'
            | '@' | '`' => first,
            '?' | '-' => first && followed_by_whitespace,
            ':' => followed_by_whitespace,
            _ => false,
        } || (c == '#' && preceded_by_whitespace);
        if v3 && c == '\t' {
            f.tab_characters = true;
        } else if !is_printable(c) {
            f.special_characters = true;
        }
        let last = next.is_none();
        if c == ' ' {
            f.leading_space |= first;
            f.trailing_space |= last;
            f.break_space |= previous_break;
            (previous_space, previous_break) = (true, false);
        } else if is_break(c) {
            f.line_breaks = true;
            f.leading_break |= first;
            f.trailing_break |= last;
            f.space_break |= previous_space;
            (previous_space, previous_break) = (false, true);
        } else {
            (previous_space, previous_break) = (false, false);
        }
        preceded_by_whitespace = is_blank(c) || is_break(c) || c == '\0';
        first = false;
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::rc::Rc;

    fn s(text: &str) -> Node {
        Node::Str(Rc::from(text))
    }

    fn map(entries: Vec<(&str, Node)>) -> Node {
        Node::Map(
            entries
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect(),
        )
    }

    #[test]
    fn block_layout() {
        let doc = map(vec![
            (
                "a",
                Node::Seq(vec![
                    s("x"),
                    map(vec![("b", Node::Int(1)), ("c", Node::Null)]),
                ]),
            ),
            ("d", map(vec![("e", Node::Seq(vec![])), ("f", map(vec![]))])),
            ("g", Node::Seq(vec![Node::Seq(vec![Node::Bool(true)])])),
        ]);
        assert_eq!(
            emit(&doc, Dialect::V2),
            "a:\n- x\n- b: 1\n  c: null\nd:\n  e: []\n  f: {}\ng:\n- - true\n"
        );
    }

    #[test]
    fn scalar_styles() {
        let doc = map(vec![
            ("yes", s("no")),
            ("k", s("a: b")),
            ("l", s("line1\nline2\n")),
            ("m", s(" lead\n")),
            ("n", s("")),
            ("o", s("it's")),
            ("p", s("tab\there")),
        ]);
        assert_eq!(
            emit(&doc, Dialect::V2),
            "\"yes\": \"no\"\nk: 'a: b'\nl: |\n  line1\n  line2\nm: |2\n   lead\n\"n\": \"\"\no: it's\np: \"tab\\there\"\n"
        );
    }

    #[test]
    fn long_plain_strings_fold_after_column_80() {
        let words = "word ".repeat(30);
        let text = words.trim_end();
        let out = emit(&map(vec![("key", s(text))]), Dialect::V2);
        let first = out.lines().next().unwrap();
        assert!(first.len() > 80 && first.len() <= 86, "{out}");
        assert!(out.lines().nth(1).unwrap().starts_with("  word"), "{out}");
    }
}
