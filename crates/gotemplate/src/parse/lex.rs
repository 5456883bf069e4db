//! Go `text/template`'s lexer: splits template text into text runs and action tokens, applying
//! the `{{-`/`-}}` trim markers to the neighbouring text as Go does (a marker needs a space next
//! to it, so `{{-3}}` is the number -3).

use crate::Error;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Text,
    LeftDelim,
    RightDelim,
    Space,
    Assign,
    Declare,
    Pipe,
    LeftParen,
    RightParen,
    /// A printable ASCII character not otherwise lexed (only `,` means something).
    Char,
    String,
    RawString,
    CharConstant,
    Number,
    Bool,
    Variable,
    Field,
    Dot,
    Identifier,
    // Keywords.
    Block,
    Break,
    Continue,
    Define,
    Else,
    End,
    If,
    Nil,
    Range,
    Template,
    With,
    Eof,
}

#[derive(Clone, Copy, Debug)]
pub struct Token {
    pub kind: Kind,
    pub start: usize,
    pub end: usize,
    /// 1-based line of the token's start.
    pub line: u32,
    /// Byte offset of the token's start within its line (Go's column in messages).
    pub col: u32,
}

const LEFT: &str = "{{";
const RIGHT: &str = "}}";

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

fn is_alnum(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

fn has_left_trim(s: &[u8]) -> bool {
    s.len() >= 2 && s[0] == b'-' && is_space(s[1])
}

fn has_right_trim(s: &[u8]) -> bool {
    s.len() >= 2 && is_space(s[0]) && s[1] == b'-'
}

fn keyword(word: &str) -> Option<Kind> {
    Some(match word {
        "block" => Kind::Block,
        "break" => Kind::Break,
        "continue" => Kind::Continue,
        "define" => Kind::Define,
        "else" => Kind::Else,
        "end" => Kind::End,
        "if" => Kind::If,
        "nil" => Kind::Nil,
        "range" => Kind::Range,
        "template" => Kind::Template,
        "with" => Kind::With,
        "true" | "false" => Kind::Bool,
        _ => return None,
    })
}

struct Lexer<'a> {
    src: &'a str,
    bytes: &'a [u8],
    name: &'a str,
    pos: usize,
    start: usize,
    /// Line of `start`.
    line: u32,
    /// Byte offset where that line begins.
    line_start: usize,
    paren_depth: i32,
    out: Vec<Token>,
}

/// Splits `src` into tokens; `name` is only for error messages.
pub fn lex(name: &str, src: &str) -> Result<Vec<Token>, Error> {
    let mut l = Lexer {
        src,
        bytes: src.as_bytes(),
        name,
        pos: 0,
        start: 0,
        line: 1,
        line_start: 0,
        paren_depth: 0,
        out: Vec::with_capacity(src.len() / 4),
    };
    l.run()?;
    Ok(l.out)
}

impl Lexer<'_> {
    fn error(&self, msg: impl std::fmt::Display) -> Error {
        let line = self.line
            + self.src[self.start..self.pos.min(self.src.len())]
                .matches('\n')
                .count() as u32;
        Error::new(format!("template: {}:{}: {}", self.name, line, msg))
    }

    fn emit(&mut self, kind: Kind) {
        self.out.push(Token {
            kind,
            start: self.start,
            end: self.pos,
            line: self.line,
            col: (self.start - self.line_start) as u32,
        });
        self.skip();
    }

    /// Moves `start` to `pos` without emitting, counting the lines passed.
    fn skip(&mut self) {
        let passed = &self.bytes[self.start..self.pos];
        let newlines = passed.iter().filter(|&&b| b == b'\n').count();
        if newlines > 0 {
            self.line += newlines as u32;
            let last = passed.iter().rposition(|&b| b == b'\n').unwrap_or(0);
            self.line_start = self.start + last + 1;
        }
        self.start = self.pos;
    }

    fn peek_char(&self) -> Option<char> {
        self.src[self.pos..].chars().next()
    }

    fn at_right_delim(&self) -> (bool, bool) {
        let rest = &self.bytes[self.pos..];
        if has_right_trim(rest) && rest[2..].starts_with(RIGHT.as_bytes()) {
            return (true, true);
        }
        (rest.starts_with(RIGHT.as_bytes()), false)
    }

    fn left_trim_len(&self) -> usize {
        self.bytes[self.pos..]
            .iter()
            .take_while(|&&b| is_space(b))
            .count()
    }

    fn run(&mut self) -> Result<(), Error> {
        loop {
            // Text up to the next left delimiter.
            let Some(x) = self.src[self.pos..].find(LEFT) else {
                self.pos = self.src.len();
                if self.pos > self.start {
                    self.emit(Kind::Text);
                }
                self.out.push(Token {
                    kind: Kind::Eof,
                    start: self.pos,
                    end: self.pos,
                    line: self.line,
                    col: (self.pos - self.line_start) as u32,
                });
                return Ok(());
            };
            self.pos += x;
            let after = &self.bytes[self.pos + LEFT.len()..];
            let trim = has_left_trim(after);
            let mut text_end = self.pos;
            if trim {
                while text_end > self.start && is_space(self.bytes[text_end - 1]) {
                    text_end -= 1;
                }
            }
            if text_end > self.start {
                let keep = self.pos;
                self.pos = text_end;
                self.emit(Kind::Text);
                self.pos = keep;
            }
            self.skip();
            self.left_delim(trim)?;
        }
    }

    fn left_delim(&mut self, trim: bool) -> Result<(), Error> {
        self.pos += LEFT.len();
        let after_marker = if trim { 2 } else { 0 };
        if self.bytes[self.pos + after_marker..].starts_with(b"/*") {
            self.pos += after_marker;
            self.skip();
            return self.comment();
        }
        self.emit(Kind::LeftDelim);
        self.pos += after_marker;
        self.skip();
        self.paren_depth = 0;
        self.inside_action()
    }

    fn comment(&mut self) -> Result<(), Error> {
        self.pos += 2;
        let Some(x) = self.src[self.pos..].find("*/") else {
            return Err(self.error("unclosed comment"));
        };
        self.pos += x + 2;
        let (delim, trim) = self.at_right_delim();
        if !delim {
            return Err(self.error("comment ends before closing delimiter"));
        }
        if trim {
            self.pos += 2;
        }
        self.pos += RIGHT.len();
        if trim {
            self.pos += self.left_trim_len();
        }
        self.skip();
        Ok(())
    }

    fn right_delim(&mut self, trim: bool) {
        if trim {
            self.pos += 2;
            self.skip();
        }
        self.pos += RIGHT.len();
        self.emit(Kind::RightDelim);
        if trim {
            self.pos += self.left_trim_len();
            self.skip();
        }
    }

    fn inside_action(&mut self) -> Result<(), Error> {
        loop {
            let (delim, trim) = self.at_right_delim();
            if delim {
                if self.paren_depth == 0 {
                    self.right_delim(trim);
                    return Ok(());
                }
                return Err(self.error("unclosed left paren"));
            }
            let Some(c) = self.peek_char() else {
                return Err(self.error("unclosed action"));
            };
            match c {
                ' ' | '\t' | '\r' | '\n' => self.space(),
                '=' => {
                    self.pos += 1;
                    self.emit(Kind::Assign);
                }
                ':' => {
                    if self.bytes.get(self.pos + 1) != Some(&b'=') {
                        self.pos += 1;
                        return Err(self.error("expected :="));
                    }
                    self.pos += 2;
                    self.emit(Kind::Declare);
                }
                '|' => {
                    self.pos += 1;
                    self.emit(Kind::Pipe);
                }
                '"' => self.quote()?,
                '`' => self.raw_quote()?,
                '$' => {
                    self.pos += 1;
                    self.field_or_variable(Kind::Variable)?;
                }
                '\'' => self.char_constant()?,
                '.' => {
                    let next = self.bytes.get(self.pos + 1).copied();
                    if next.is_some_and(|b| b.is_ascii_digit()) {
                        self.number()?;
                    } else {
                        self.pos += 1;
                        self.field_or_variable(Kind::Field)?;
                    }
                }
                '+' | '-' | '0'..='9' => self.number()?,
                c if is_alnum(c) => self.identifier()?,
                '(' => {
                    self.pos += 1;
                    self.emit(Kind::LeftParen);
                    self.paren_depth += 1;
                }
                ')' => {
                    self.pos += 1;
                    self.emit(Kind::RightParen);
                    self.paren_depth -= 1;
                    if self.paren_depth < 0 {
                        return Err(self.error("unexpected right paren"));
                    }
                }
                c if c.is_ascii() && !c.is_ascii_control() => {
                    self.pos += 1;
                    self.emit(Kind::Char);
                }
                c => {
                    return Err(self.error(format!(
                        "unrecognized character in action: U+{:04X} '{c}'",
                        c as u32
                    )));
                }
            }
        }
    }

    fn space(&mut self) {
        let mut n = 0;
        while self.pos < self.bytes.len() && is_space(self.bytes[self.pos]) {
            self.pos += 1;
            n += 1;
        }
        // A space followed by "-}}" belongs to the trim marker.
        if has_right_trim(&self.bytes[self.pos - 1..])
            && self.bytes[self.pos + 1..].starts_with(RIGHT.as_bytes())
        {
            self.pos -= 1;
            if n == 1 {
                return;
            }
        }
        self.emit(Kind::Space);
    }

    fn at_terminator(&self) -> bool {
        match self.bytes.get(self.pos) {
            None => true,
            Some(&b) if is_space(b) => true,
            Some(b'.' | b',' | b'|' | b':' | b')' | b'(') => true,
            Some(_) => self.bytes[self.pos..].starts_with(RIGHT.as_bytes()),
        }
    }

    fn bad_char(&self) -> Error {
        let c = self.peek_char().unwrap_or(' ');
        self.error(format!("bad character U+{:04X} '{c}'", c as u32))
    }

    fn absorb_alnum(&mut self) {
        while let Some(c) = self.peek_char() {
            if !is_alnum(c) {
                break;
            }
            self.pos += c.len_utf8();
        }
    }

    fn field_or_variable(&mut self, kind: Kind) -> Result<(), Error> {
        if self.at_terminator() {
            self.emit(if kind == Kind::Variable {
                Kind::Variable
            } else {
                Kind::Dot
            });
            return Ok(());
        }
        self.absorb_alnum();
        if !self.at_terminator() {
            return Err(self.bad_char());
        }
        self.emit(kind);
        Ok(())
    }

    fn identifier(&mut self) -> Result<(), Error> {
        self.absorb_alnum();
        if !self.at_terminator() {
            return Err(self.bad_char());
        }
        let kind = keyword(&self.src[self.start..self.pos]).unwrap_or(Kind::Identifier);
        self.emit(kind);
        Ok(())
    }

    fn quote(&mut self) -> Result<(), Error> {
        self.pos += 1;
        loop {
            match self.bytes.get(self.pos) {
                Some(b'\\') => {
                    self.pos += 1;
                    match self.bytes.get(self.pos) {
                        None | Some(b'\n') => return Err(self.error("unterminated quoted string")),
                        Some(_) => self.pos += 1,
                    }
                }
                None | Some(b'\n') => return Err(self.error("unterminated quoted string")),
                Some(b'"') => break,
                Some(_) => self.pos += 1,
            }
        }
        self.pos += 1;
        self.emit(Kind::String);
        Ok(())
    }

    fn raw_quote(&mut self) -> Result<(), Error> {
        self.pos += 1;
        let Some(x) = self.src[self.pos..].find('`') else {
            return Err(self.error("unterminated raw quoted string"));
        };
        self.pos += x + 1;
        self.emit(Kind::RawString);
        Ok(())
    }

    fn char_constant(&mut self) -> Result<(), Error> {
        self.pos += 1;
        loop {
            match self.bytes.get(self.pos) {
                Some(b'\\') => {
                    self.pos += 1;
                    match self.bytes.get(self.pos) {
                        None | Some(b'\n') => {
                            return Err(self.error("unterminated character constant"));
                        }
                        Some(_) => self.pos += 1,
                    }
                }
                None | Some(b'\n') => return Err(self.error("unterminated character constant")),
                Some(b'\'') => break,
                Some(_) => self.pos += 1,
            }
        }
        self.pos += 1;
        self.emit(Kind::CharConstant);
        Ok(())
    }

    fn accept(&mut self, set: &[u8]) -> bool {
        if self.bytes.get(self.pos).is_some_and(|b| set.contains(b)) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn accept_run(&mut self, set: &[u8]) {
        while self.accept(set) {}
    }

    fn number(&mut self) -> Result<(), Error> {
        self.accept(b"+-");
        let mut digits: &[u8] = b"0123456789_";
        if self.accept(b"0") {
            if self.accept(b"xX") {
                digits = b"0123456789abcdefABCDEF_";
            } else if self.accept(b"oO") {
                digits = b"01234567_";
            } else if self.accept(b"bB") {
                digits = b"01_";
            }
        }
        self.accept_run(digits);
        if self.accept(b".") {
            self.accept_run(digits);
        }
        if digits.len() == 11 && self.accept(b"eE") {
            self.accept(b"+-");
            self.accept_run(b"0123456789_");
        }
        if digits.len() == 23 && self.accept(b"pP") {
            self.accept(b"+-");
            self.accept_run(b"0123456789_");
        }
        self.accept(b"i");
        if self.peek_char().is_some_and(is_alnum) {
            self.pos += self.peek_char().map_or(1, char::len_utf8);
            return Err(self.error(format!(
                "bad number syntax: {:?}",
                &self.src[self.start..self.pos]
            )));
        }
        self.emit(Kind::Number);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<(Kind, String)> {
        lex("t", src)
            .unwrap()
            .into_iter()
            .map(|t| (t.kind, src[t.start..t.end].to_string()))
            .collect()
    }

    #[test]
    fn trim_markers_need_a_space() {
        let k = kinds("a  {{- 3 -}}  b{{-3}}");
        assert_eq!(k[0], (Kind::Text, "a".into()));
        assert_eq!(k[2], (Kind::Number, "3".into()));
        assert_eq!(k[4], (Kind::Text, "b".into()));
        assert_eq!(k[6], (Kind::Number, "-3".into()));
    }

    #[test]
    fn comments_vanish_with_their_trim() {
        let k = kinds("a {{- /* x */ -}} b");
        assert_eq!(k.len(), 3);
        assert_eq!(k[1], (Kind::Text, "b".into()));
        assert!(lex("t", "{{/* x */ }}").is_err());
    }

    #[test]
    fn fields_variables_numbers() {
        let k = kinds("{{$x.a.b .c 0x1F 1e3 .5 'a'}}");
        let got: Vec<Kind> = k.iter().map(|t| t.0).collect();
        use Kind::*;
        assert_eq!(
            got,
            vec![
                LeftDelim,
                Variable,
                Field,
                Field,
                Space,
                Field,
                Space,
                Number,
                Space,
                Number,
                Space,
                Number,
                Space,
                CharConstant,
                RightDelim,
                Eof
            ]
        );
        assert!(lex("t", "{{ 3x }}").is_err());
    }
}
