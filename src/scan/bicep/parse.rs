//! A Bicep parser: the declarations, expressions, loops and conditions
//! that Bicep files use, with byte spans.
//!
//! Hand-written recursive descent over a small lexer, because Bicep is
//! newline-sensitive (object properties and array items are separated by
//! line breaks; a declaration ends at the end of its line), its strings
//! hold `${…}` interpolations that hold whole expressions, and a bad file
//! must give one located error while the declarations before it are still
//! checked. A declaration goes on over lines inside open brackets, after
//! `=` and `=>`, and (a `type`'s union) before and after `|`.
//!
//! Nesting is bounded by [`MAX_DEPTH`], counted once per nested
//! expression (an object, array, parenthesis, call argument or `${…}`),
//! not per precedence level: binary operators are parsed by precedence
//! climbing, one frame per operand. The bound keeps the parse inside a
//! 2 MiB thread stack even in a debug build.
//!
//! Types (after `param`/`output`/`var`, and `type` declarations), `func`
//! declarations (parsed, then dropped) and `using`/`extension` statements
//! change no value proviso reads and are skipped; a `T?` type is
//! remembered (a nullable parameter given no value is `null`). `import
//! {a, b as c} from 'f.bicep'` and `import * as ns from 'f.bicep'` give a
//! [`DeclKind::Import`] per name, followed by the evaluator. Safe
//! dereference (`.?`, `[?…]`) and spread (`...x`) are parsed as such.

use std::ops::Range;

/// Deepest nesting of expressions (objects, arrays, parentheses, call
/// arguments, interpolations, `!`/`-`): real templates nest about 20 deep.
pub const MAX_DEPTH: usize = 48;

/// An expression and where it is.
#[derive(Debug, Clone)]
pub struct Expr {
    pub span: Range<usize>,
    pub kind: E,
}

/// One object property (or a nested child `resource`).
#[derive(Debug, Clone)]
pub struct Prop {
    pub key: String,
    pub key_span: Range<usize>,
    /// A key written as an interpolated string (`'${name}': …`).
    pub key_expr: Option<Expr>,
    pub value: Expr,
}

#[derive(Debug, Clone)]
pub enum Part {
    Text(String),
    Expr(Expr),
}

#[derive(Debug, Clone)]
pub enum E {
    Str(String),
    /// `'a${b}c'`
    Interp(Vec<Part>),
    Num(f64),
    Bool(bool),
    Null,
    Ident(String),
    Object {
        props: Vec<Prop>,
        /// Child resources declared inside a resource body.
        children: Vec<Decl>,
    },
    Array(Vec<Expr>),
    /// `ns.name(args)` or `name(args)`
    Call(Option<String>, String, Vec<Expr>),
    /// `x.p`, `x::child`; `x.?p` (safe: `true`)
    Prop(Box<Expr>, String, bool),
    /// `x[i]`; `x[?i]` (safe: `true`)
    Index(Box<Expr>, Box<Expr>, bool),
    /// `...x` in an object or array.
    Spread(Box<Expr>),
    /// `^n` as an index: the `n`th item from the end (`list[^1]`).
    FromEnd(Box<Expr>),
    Not(Box<Expr>),
    Neg(Box<Expr>),
    Bin(String, Box<Expr>, Box<Expr>),
    Ternary(Box<Expr>, Box<Expr>, Box<Expr>),
    /// `[for (item, index) in iter: body]`
    For {
        item: Option<String>,
        index: Option<String>,
        iter: Box<Expr>,
        body: Box<Expr>,
    },
    /// `if (cond) body`
    If(Box<Expr>, Box<Expr>),
    /// `x => body`, `(acc, x) => body`: its parameters' names and body.
    Lambda(Vec<String>, Box<Expr>),
}

/// A top-level (or nested) declaration.
#[derive(Debug, Clone)]
pub struct Decl {
    pub kind: DeclKind,
    pub name: String,
    pub name_span: Range<usize>,
    /// `param`: the default; `var`, `output`: the value; `resource`,
    /// `module`: the body.
    pub value: Option<Expr>,
    /// `resource`/`module`: the type or path string, and its span.
    pub target: String,
    pub target_span: Range<usize>,
    pub existing: bool,
    /// `param x T?`: no value is `null`.
    pub nullable: bool,
    /// `import`: the name exported by `target` (`*` for `import * as ns`).
    pub member: String,
    /// From the keyword to the end of the declaration.
    pub span: Range<usize>,
    /// From the keyword to the end of the type or path string.
    pub header: Range<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeclKind {
    Param,
    Var,
    Resource,
    Module,
    Output,
    TargetScope,
    /// A name imported from another file (`import {x} from 'f.bicep'`).
    Import,
}

/// Why a file does not parse, and where.
#[derive(Debug, Clone)]
pub struct ParseError {
    pub span: Range<usize>,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Num(f64),
    /// A string: its pieces, and whether it had interpolations.
    Str(Vec<StrPiece>),
    Sym(&'static str),
    Decorator,
    Newline,
    Eof,
}

#[derive(Debug, Clone, PartialEq)]
enum StrPiece {
    Text(String),
    /// An interpolation's source range.
    Hole(Range<usize>),
}

const SYMS: [&str; 34] = [
    "::", "...", ".?", "??", "==", "!=", "=~", "!~", "<=", ">=", "&&", "||", "=>", "{", "}", "[",
    "]", "(", ")", ",", ":", ".", "?", "=", "<", ">", "!", "+", "-", "*", "/", "%", "|", "^",
];

struct Lexer<'t> {
    text: &'t str,
    pos: usize,
}

impl Lexer<'_> {
    fn byte(&self, at: usize) -> Option<u8> {
        self.text.as_bytes().get(at).copied()
    }

    fn err(&self, at: usize, message: impl Into<String>) -> ParseError {
        ParseError {
            span: at..at,
            message: message.into(),
        }
    }

    /// The next token and its span.
    fn next(&mut self) -> Result<(Tok, Range<usize>), ParseError> {
        loop {
            match (self.byte(self.pos), self.byte(self.pos + 1)) {
                (Some(b' ' | b'\t' | b'\r'), _) => self.pos += 1,
                (Some(b'/'), Some(b'/')) => {
                    while !matches!(self.byte(self.pos), None | Some(b'\n')) {
                        self.pos += 1;
                    }
                }
                (Some(b'/'), Some(b'*')) => {
                    let from = self.pos;
                    match self.text.get(self.pos + 2..).and_then(|t| t.find("*/")) {
                        Some(e) => self.pos += e + 4,
                        None => return Err(self.err(from, "this comment is never closed")),
                    }
                }
                // `#disable-next-line …` and `#disable-diagnostics …` pragmas.
                (Some(b'#'), _) => {
                    while !matches!(self.byte(self.pos), None | Some(b'\n')) {
                        self.pos += 1;
                    }
                }
                _ => break,
            }
        }
        let start = self.pos;
        let Some(c) = self.byte(start) else {
            return Ok((Tok::Eof, start..start));
        };
        if c == b'\n' {
            self.pos += 1;
            return Ok((Tok::Newline, start..self.pos));
        }
        if c == b'@' {
            self.pos += 1;
            return Ok((Tok::Decorator, start..self.pos));
        }
        if c == b'\'' {
            return self.string(start);
        }
        if c == b'$' {
            return self.interpolated_verbatim(start);
        }
        if c.is_ascii_digit() {
            while matches!(self.byte(self.pos), Some(b'0'..=b'9' | b'.')) {
                self.pos += 1;
            }
            let t = self.text.get(start..self.pos).unwrap_or("0");
            let n = t
                .parse::<f64>()
                .map_err(|_| self.err(start, format!("`{t}` is not a number")))?;
            return Ok((Tok::Num(n), start..self.pos));
        }
        if c.is_ascii_alphabetic() || c == b'_' {
            while matches!(self.byte(self.pos), Some(b) if b.is_ascii_alphanumeric() || b == b'_') {
                self.pos += 1;
            }
            let t = self.text.get(start..self.pos).unwrap_or("").to_string();
            return Ok((Tok::Ident(t), start..self.pos));
        }
        let rest = self.text.get(start..).unwrap_or("");
        for s in SYMS {
            if rest.starts_with(s) {
                self.pos += s.len();
                return Ok((Tok::Sym(s), start..self.pos));
            }
        }
        let ch = rest.chars().next().unwrap_or(' ');
        Err(self.err(start, format!("unexpected character `{ch}`")))
    }

    /// A string at `start` (its first quote): `'…'` with escapes and
    /// `${…}` holes, or `'''…'''` verbatim.
    fn string(&mut self, start: usize) -> Result<(Tok, Range<usize>), ParseError> {
        if self.text.get(start..).is_some_and(|r| r.starts_with("'''")) {
            let body = start + 3;
            let Some(mut end) = self.text.get(body..).and_then(|r| r.find("'''")) else {
                return Err(self.err(start, "this multi-line string is never closed"));
            };
            // `''''abc''''` is `'abc'`: the string ends at the last three
            // quotes of a run.
            while self.byte(body + end + 3) == Some(b'\'') {
                end += 1;
            }
            let mut text = self.text.get(body..body + end).unwrap_or("");
            // A line break right after the opening quotes is not part of it.
            text = text
                .strip_prefix("\r\n")
                .or_else(|| text.strip_prefix('\n'))
                .unwrap_or(text);
            self.pos = body + end + 3;
            return Ok((
                Tok::Str(vec![StrPiece::Text(text.to_string())]),
                start..self.pos,
            ));
        }
        self.pos = start + 1;
        let mut pieces = Vec::new();
        let mut cur = String::new();
        loop {
            let Some(c) = self.text.get(self.pos..).and_then(|r| r.chars().next()) else {
                return Err(self.err(start, "this string is never closed"));
            };
            match c {
                '\'' => {
                    self.pos += 1;
                    break;
                }
                '\n' => return Err(self.err(start, "this string is never closed on its line")),
                '\\' => {
                    let e = self.text.get(self.pos + 1..).and_then(|r| r.chars().next());
                    let (out, len) = match e {
                        Some('n') => ('\n', 1),
                        Some('r') => ('\r', 1),
                        Some('t') => ('\t', 1),
                        Some('\\') => ('\\', 1),
                        Some('\'') => ('\'', 1),
                        Some('$') => ('$', 1),
                        Some('u') => {
                            // \u{XXXX}
                            let rest = self.text.get(self.pos + 2..).unwrap_or("");
                            let close = rest.find('}').unwrap_or(0);
                            let hex = rest.get(1..close).unwrap_or("");
                            let code = u32::from_str_radix(hex, 16).ok();
                            // A UTF-16 surrogate pair: `\u{D801}\u{DC37}`.
                            let low = rest
                                .get(close + 1..)
                                .and_then(|r| r.strip_prefix("\\u{"))
                                .and_then(|r| Some((r, r.find('}')?)))
                                .and_then(|(r, c)| {
                                    let lo = u32::from_str_radix(r.get(..c)?, 16).ok()?;
                                    (0xDC00..=0xDFFF).contains(&lo).then_some((lo, c + 4))
                                });
                            let (ch, len) = match (code, low) {
                                (Some(hi @ 0xD800..=0xDBFF), Some((lo, more))) => (
                                    char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)),
                                    close + 2 + more,
                                ),
                                (c, _) => (c.and_then(char::from_u32), close + 2),
                            };
                            match ch {
                                Some(ch) => (ch, len),
                                None => return Err(self.err(self.pos, "bad `\\u{…}` escape")),
                            }
                        }
                        _ => return Err(self.err(self.pos, "unknown escape in a string")),
                    };
                    cur.push(out);
                    self.pos += 1 + len;
                }
                '$' if self.byte(self.pos + 1) == Some(b'{') => {
                    if !cur.is_empty() {
                        pieces.push(StrPiece::Text(std::mem::take(&mut cur)));
                    }
                    let inner = self.pos + 2;
                    let end = self.hole_end(inner)?;
                    pieces.push(StrPiece::Hole(inner..end));
                    self.pos = end + 1;
                }
                c => {
                    cur.push(c);
                    self.pos += c.len_utf8();
                }
            }
        }
        if !cur.is_empty() || pieces.is_empty() {
            pieces.push(StrPiece::Text(cur));
        }
        Ok((Tok::Str(pieces), start..self.pos))
    }

    /// `$'''…'''` (or `$$'''…'''`, …) at `start`: a multi-line string
    /// whose `${…}` (as many `$` as opened it) are interpolations.
    fn interpolated_verbatim(&mut self, start: usize) -> Result<(Tok, Range<usize>), ParseError> {
        let rest = self.text.get(start..).unwrap_or("");
        let dollars = rest.bytes().take_while(|b| *b == b'$').count();
        if !rest.get(dollars..).is_some_and(|r| r.starts_with("'''")) {
            return Err(self.err(start, "unexpected character `$`"));
        }
        let mut at = start + dollars + 3;
        let Some(end) = self.text.get(at..).and_then(|r| r.find("'''")) else {
            return Err(self.err(start, "this multi-line string is never closed"));
        };
        let mut close = at + end;
        // A line break right after the opening quotes is not part of it.
        if self.text.get(at..).is_some_and(|r| r.starts_with("\r\n")) {
            at += 2;
        } else if self.text.get(at..).is_some_and(|r| r.starts_with('\n')) {
            at += 1;
        }
        let opener = format!("{}{{", "$".repeat(dollars));
        let mut pieces = Vec::new();
        let mut text_from = at;
        while at < close {
            let here = self.text.get(at..close).unwrap_or("");
            let Some(h) = here.find(&opener) else { break };
            let hole = at + h;
            // More `$` before it than opened the string: text.
            if hole > text_from && self.byte(hole - 1) == Some(b'$') {
                at = hole + opener.len();
                continue;
            }
            if hole > text_from {
                pieces.push(StrPiece::Text(
                    self.text.get(text_from..hole).unwrap_or("").to_string(),
                ));
            }
            let inner = hole + opener.len();
            let hend = self.hole_end(inner)?;
            pieces.push(StrPiece::Hole(inner..hend));
            at = hend + 1;
            text_from = at;
            if at > close {
                // The hole held `'''`: find the real end after it.
                let Some(e) = self.text.get(at..).and_then(|r| r.find("'''")) else {
                    return Err(self.err(start, "this multi-line string is never closed"));
                };
                close = at + e;
            }
        }
        if text_from < close || pieces.is_empty() {
            pieces.push(StrPiece::Text(
                self.text.get(text_from..close).unwrap_or("").to_string(),
            ));
        }
        self.pos = close + 3;
        Ok((Tok::Str(pieces), start..self.pos))
    }

    /// The `}` closing an interpolation that starts at `from`, skipping
    /// nested braces and strings.
    fn hole_end(&self, from: usize) -> Result<usize, ParseError> {
        let mut depth = 0usize;
        let mut at = from;
        let mut in_str = false;
        while let Some(b) = self.byte(at) {
            match (in_str, b) {
                (true, b'\\') => at += 1,
                (true, b'\'') => in_str = false,
                (false, b'\'') => in_str = true,
                (false, b'{') => depth += 1,
                (false, b'}') if depth == 0 => return Ok(at),
                (false, b'}') => depth -= 1,
                (_, b'\n') => break,
                _ => {}
            }
            at += 1;
        }
        Err(self.err(from, "this `${` is never closed"))
    }
}

/// Parses a whole file: its declarations as far as they parse, and the
/// first error (the declarations after it are not read).
pub fn parse_file(text: &str) -> (Vec<Decl>, Option<ParseError>) {
    // A byte-order mark (editors on Windows write one) is not a token.
    let start = if text.starts_with('\u{feff}') { 3 } else { 0 };
    let mut p = match Parser::new(text, start) {
        Ok(p) => p,
        Err(e) => return (Vec::new(), Some(e)),
    };
    let mut decls = Vec::new();
    loop {
        let r = p.statement();
        decls.append(&mut p.pending);
        match r {
            Ok(Some(d)) => decls.push(d),
            Ok(None) => return (decls, None),
            Err(e) => return (decls, Some(e)),
        }
    }
}

struct Parser<'t> {
    text: &'t str,
    lex: Lexer<'t>,
    tok: Tok,
    span: Range<usize>,
    /// The end of the previous token.
    last_end: usize,
    depth: usize,
    /// Declarations a statement gives besides the one it returns (the
    /// names of an `import`).
    pending: Vec<Decl>,
}

type Res<T> = Result<T, ParseError>;

impl<'t> Parser<'t> {
    fn new(text: &'t str, at: usize) -> Res<Parser<'t>> {
        let mut lex = Lexer { text, pos: at };
        let (tok, span) = lex.next()?;
        Ok(Parser {
            text,
            lex,
            tok,
            span,
            last_end: at,
            depth: 0,
            pending: Vec::new(),
        })
    }

    fn bump(&mut self) -> Res<()> {
        self.last_end = self.span.end;
        let (t, s) = self.lex.next()?;
        self.tok = t;
        self.span = s;
        Ok(())
    }

    fn err<T>(&self, message: impl Into<String>) -> Res<T> {
        Err(ParseError {
            span: self.span.clone(),
            message: message.into(),
        })
    }

    fn is(&self, s: &str) -> bool {
        matches!(&self.tok, Tok::Sym(x) if *x == s)
    }

    fn is_word(&self, w: &str) -> bool {
        matches!(&self.tok, Tok::Ident(x) if x == w)
    }

    fn expect(&mut self, s: &str) -> Res<()> {
        if self.is(s) {
            self.bump()
        } else {
            self.err(format!("expected `{s}`"))
        }
    }

    fn newlines(&mut self) -> Res<()> {
        while self.tok == Tok::Newline {
            self.bump()?;
        }
        Ok(())
    }

    fn ident(&mut self) -> Res<(String, Range<usize>)> {
        match &self.tok {
            Tok::Ident(n) => {
                let r = (n.clone(), self.span.clone());
                self.bump()?;
                Ok(r)
            }
            _ => self.err("expected a name"),
        }
    }

    /// Skips a type (or anything) up to `=` or the end of the line,
    /// keeping brackets (and `resourceInput<…>`'s angle brackets)
    /// balanced; whether it ends in `?` (nullable).
    fn skip_type(&mut self) -> Res<bool> {
        let mut depth = 0usize;
        let mut nullable = false;
        let mut after_bar = false;
        loop {
            match &self.tok {
                Tok::Eof => return Ok(nullable),
                // A union over lines: `param mode\n  | 'a'\n  | 'b'`.
                Tok::Newline if depth == 0 && (after_bar || self.continues(&["|"])) => {
                    self.newlines()?;
                    continue;
                }
                Tok::Newline if depth == 0 => return Ok(nullable),
                Tok::Sym("=") if depth == 0 => return Ok(nullable),
                Tok::Sym("{" | "[" | "(" | "<") => depth += 1,
                Tok::Sym("}" | "]" | ")" | ">") => {
                    if depth == 0 {
                        return self.err("unbalanced bracket");
                    }
                    depth -= 1;
                }
                _ => {}
            }
            if depth > MAX_DEPTH {
                return self.err("a type nests too deeply");
            }
            nullable = self.is("?");
            after_bar = self.is("|");
            self.bump()?;
        }
    }

    /// Skips decorators (`@description('…')`) before a declaration.
    fn decorators(&mut self) -> Res<()> {
        while self.tok == Tok::Decorator {
            self.bump()?;
            self.postfix()?;
            self.newlines()?;
        }
        Ok(())
    }

    /// One declaration; `None` at the end of the file.
    fn statement(&mut self) -> Res<Option<Decl>> {
        loop {
            self.newlines()?;
            self.decorators()?;
            let Tok::Ident(word) = self.tok.clone() else {
                if self.tok == Tok::Eof {
                    return Ok(None);
                }
                return self.err(
                    "expected a declaration (`param`, `var`, `resource`, `module`, `output`, …)",
                );
            };
            let start = self.span.start;
            match word.as_str() {
                "param" | "var" | "output" | "metadata" => {
                    self.bump()?;
                    let (name, name_span) = self.ident()?;
                    // `output name resource 'T@v' = …`, types, typed `var`s.
                    let nullable = self.skip_type()?;
                    let value = if self.is("=") {
                        self.bump()?;
                        self.newlines()?;
                        Some(self.expr()?)
                    } else {
                        None
                    };
                    self.end_of_statement()?;
                    let kind = match word.as_str() {
                        "param" => DeclKind::Param,
                        "var" => DeclKind::Var,
                        "output" => DeclKind::Output,
                        _ => continue,
                    };
                    return Ok(Some(Decl {
                        kind,
                        name,
                        name_span: name_span.clone(),
                        value,
                        target: String::new(),
                        target_span: name_span.clone(),
                        existing: false,
                        nullable,
                        member: String::new(),
                        span: start..self.last_end,
                        header: start..name_span.end,
                    }));
                }
                "targetScope" => {
                    self.bump()?;
                    self.expect("=")?;
                    let v = self.expr()?;
                    self.end_of_statement()?;
                    return Ok(Some(Decl {
                        kind: DeclKind::TargetScope,
                        name: "targetScope".into(),
                        name_span: start..start + 11,
                        value: Some(v),
                        target: String::new(),
                        target_span: start..start,
                        existing: false,
                        nullable: false,
                        member: String::new(),
                        span: start..self.last_end,
                        header: start..start + 11,
                    }));
                }
                "resource" | "module" => return self.resource_decl().map(Some),
                "import" => {
                    self.bump()?;
                    self.import(start)?;
                }
                "func" => {
                    // `func name(args) type =>` and a body, which may go on
                    // over lines as any expression does.
                    self.bump()?;
                    self.skip_until_arrow()?;
                    self.newlines()?;
                    let _ = self.expr()?;
                    self.end_of_statement()?;
                }
                "type" => {
                    self.bump()?;
                    self.skip_type_statement()?;
                }
                "using" | "extension" | "provider" | "assert" | "test" => {
                    self.bump()?;
                    self.skip_statement()?;
                }
                _ => return self.err(format!("`{word}` does not start a declaration")),
            }
        }
    }

    /// Skips to the end of a statement, over brackets.
    fn skip_statement(&mut self) -> Res<()> {
        let mut depth = 0usize;
        loop {
            match &self.tok {
                Tok::Eof => return Ok(()),
                Tok::Newline if depth == 0 => return Ok(()),
                Tok::Sym("{" | "[" | "(") => depth += 1,
                Tok::Sym("}" | "]" | ")") => depth = depth.saturating_sub(1),
                _ => {}
            }
            if depth > MAX_DEPTH {
                return self.err("a declaration nests too deeply");
            }
            self.bump()?;
        }
    }

    /// Skips a `func`'s name, parameters and type up to its `=>`.
    fn skip_until_arrow(&mut self) -> Res<()> {
        let mut depth = 0usize;
        loop {
            match &self.tok {
                Tok::Eof => return self.err("expected `=>` in a `func` declaration"),
                Tok::Newline if depth == 0 => {
                    return self.err("expected `=>` in a `func` declaration");
                }
                Tok::Sym("=>") if depth == 0 => return self.bump(),
                Tok::Sym("{" | "[" | "(") => depth += 1,
                Tok::Sym("}" | "]" | ")") => depth = depth.saturating_sub(1),
                _ => {}
            }
            if depth > MAX_DEPTH {
                return self.err("a declaration nests too deeply");
            }
            self.bump()?;
        }
    }

    /// Skips a `type` declaration: it goes on over lines inside brackets
    /// (`resourceInput<…>` too), after its `=`, and before or after a
    /// union's `|`.
    fn skip_type_statement(&mut self) -> Res<()> {
        let mut depth = 0usize;
        let mut after_op = false;
        loop {
            match &self.tok {
                Tok::Eof => return Ok(()),
                Tok::Newline if depth == 0 => {
                    if !after_op && !self.continues(&["|"]) {
                        return Ok(());
                    }
                    self.newlines()?;
                    continue;
                }
                Tok::Sym("{" | "[" | "(" | "<") => depth += 1,
                Tok::Sym("}" | "]" | ")" | ">") => depth = depth.saturating_sub(1),
                _ => {}
            }
            if depth > MAX_DEPTH {
                return self.err("a type nests too deeply");
            }
            after_op = self.is("=") || self.is("|");
            self.bump()?;
        }
    }

    /// `import {a, b as c} from 'f.bicep'`, `import * as ns from 'f.bicep'`
    /// (after the keyword): one [`DeclKind::Import`] per name. The older
    /// `import 'az@1.0.0'` extension form gives none.
    fn import(&mut self, start: usize) -> Res<()> {
        let mut names: Vec<(String, String, Range<usize>)> = Vec::new();
        if self.is("*") {
            self.bump()?;
            if !self.is_word("as") {
                return self.err("expected `as` after `import *`");
            }
            self.bump()?;
            let (n, s) = self.ident()?;
            names.push(("*".into(), n, s));
        } else if self.is("{") {
            self.bump()?;
            loop {
                self.newlines()?;
                while self.is(",") {
                    self.bump()?;
                    self.newlines()?;
                }
                if self.is("}") {
                    self.bump()?;
                    break;
                }
                let (member, s) = match &self.tok {
                    Tok::Ident(_) => self.ident()?,
                    Tok::Str(p) => match p.as_slice() {
                        [StrPiece::Text(t)] => {
                            let r = (t.clone(), self.span.clone());
                            self.bump()?;
                            r
                        }
                        _ => return self.err("expected a name to import"),
                    },
                    _ => return self.err("expected a name to import or `}`"),
                };
                let (local, s) = if self.is_word("as") {
                    self.bump()?;
                    self.ident()?
                } else {
                    (member.clone(), s)
                };
                names.push((member, local, s));
            }
        } else {
            return self.skip_statement();
        }
        if !self.is_word("from") {
            return self.err("expected `from` and the file to import from");
        }
        self.bump()?;
        let (target, target_span) = match &self.tok {
            Tok::Str(p) => match p.as_slice() {
                [StrPiece::Text(t)] => (t.clone(), self.span.clone()),
                _ => return self.err("the path cannot hold `${…}`"),
            },
            _ => return self.err("expected the file to import from, in quotes"),
        };
        self.bump()?;
        self.end_of_statement()?;
        for (member, name, name_span) in names {
            self.pending.push(Decl {
                kind: DeclKind::Import,
                name,
                name_span: name_span.clone(),
                value: None,
                target: target.clone(),
                target_span: target_span.clone(),
                existing: false,
                nullable: false,
                member,
                span: start..self.last_end,
                header: start..target_span.end,
            });
        }
        Ok(())
    }

    fn end_of_statement(&mut self) -> Res<()> {
        match self.tok {
            Tok::Newline | Tok::Eof => Ok(()),
            _ => self.err("expected the end of the line"),
        }
    }

    /// `resource sym 'Type@version' [existing] = body` or `module sym 'path' = body`
    /// (the current token is the keyword).
    fn resource_decl(&mut self) -> Res<Decl> {
        let start = self.span.start;
        let is_module = self.is_word("module");
        self.bump()?;
        let (name, name_span) = self.ident()?;
        let (target, target_span) = match &self.tok {
            Tok::Str(pieces) => match pieces.as_slice() {
                [StrPiece::Text(t)] => (t.clone(), self.span.clone()),
                _ => return self.err("the type or path cannot hold `${…}`"),
            },
            _ => return self.err(
                "expected the type (`'Microsoft.Web/sites@2023-01-01'`) or module path in quotes",
            ),
        };
        self.bump()?;
        let header = start..target_span.end;
        let existing = self.is_word("existing");
        if existing {
            self.bump()?;
        }
        self.expect("=")?;
        self.newlines()?;
        let value = self.expr()?;
        Ok(Decl {
            kind: if is_module {
                DeclKind::Module
            } else {
                DeclKind::Resource
            },
            name,
            name_span,
            value: Some(value),
            target,
            target_span,
            existing,
            nullable: false,
            member: String::new(),
            span: start..self.last_end,
            header,
        })
    }

    fn enter(&mut self) -> Res<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return self.err(format!(
                "the expression nests deeper than {MAX_DEPTH} levels"
            ));
        }
        Ok(())
    }

    /// An expression, with newlines allowed before `?`, `:` and binary
    /// operators that cannot start an item.
    pub fn expr(&mut self) -> Res<Expr> {
        self.enter()?;
        let r = self.ternary();
        self.depth -= 1;
        r
    }

    /// Whether the next token after newlines continues an expression.
    fn continues(&self, ops: &[&str]) -> bool {
        let mut lex = Lexer {
            text: self.text,
            pos: self.span.start,
        };
        loop {
            match lex.next() {
                Ok((Tok::Newline, _)) => {}
                Ok((Tok::Sym(s), _)) => return ops.contains(&s),
                _ => return false,
            }
        }
    }

    fn skip_newlines_before(&mut self, ops: &[&str]) -> Res<()> {
        if self.tok == Tok::Newline && self.continues(ops) {
            self.newlines()?;
        }
        Ok(())
    }

    fn ternary(&mut self) -> Res<Expr> {
        let c = self.binary(0)?;
        self.skip_newlines_before(&["?"])?;
        if !self.is("?") {
            return Ok(c);
        }
        self.bump()?;
        self.newlines()?;
        let a = self.expr()?;
        self.skip_newlines_before(&[":"])?;
        self.expect(":")?;
        self.newlines()?;
        let b = self.expr()?;
        Ok(Expr {
            span: c.span.start..b.span.end,
            kind: E::Ternary(Box::new(c), Box::new(a), Box::new(b)),
        })
    }

    /// Binary operators by precedence climbing: one frame per operand, not
    /// one per precedence level, so nesting costs little stack. Operators
    /// up to `==` may start a continuation line.
    fn binary(&mut self, min: usize) -> Res<Expr> {
        const LEVELS: [&[&str]; 7] = [
            &["??"],
            &["||"],
            &["&&"],
            &["==", "!=", "=~", "!~"],
            &["<", "<=", ">", ">="],
            &["+", "-"],
            &["*", "/", "%"],
        ];
        const CONTINUING: [&str; 7] = ["??", "||", "&&", "==", "!=", "=~", "!~"];
        let mut left = self.unary()?;
        loop {
            self.skip_newlines_before(&CONTINUING)?;
            let (op, level) = match &self.tok {
                Tok::Sym(s) => match LEVELS.iter().position(|l| l.contains(s)) {
                    Some(level) => (*s, level),
                    None => break,
                },
                _ => break,
            };
            if level < min {
                break;
            }
            self.bump()?;
            self.newlines()?;
            let right = self.binary(level + 1)?;
            left = Expr {
                span: left.span.start..right.span.end,
                kind: E::Bin(op.to_string(), Box::new(left), Box::new(right)),
            };
        }
        Ok(left)
    }

    fn unary(&mut self) -> Res<Expr> {
        let start = self.span.start;
        if self.is("!") || self.is("-") {
            let not = self.is("!");
            self.bump()?;
            self.enter()?;
            let e = self.unary()?;
            self.depth -= 1;
            return Ok(Expr {
                span: start..e.span.end,
                kind: if not {
                    E::Not(Box::new(e))
                } else {
                    E::Neg(Box::new(e))
                },
            });
        }
        self.postfix()
    }

    fn postfix(&mut self) -> Res<Expr> {
        let mut e = self.primary()?;
        let mut n = 0usize;
        loop {
            n += 1;
            if n > MAX_DEPTH {
                return self.err("too many accesses in a row");
            }
            if self.is(".") || self.is(".?") || self.is("::") {
                let safe = self.is(".?");
                self.bump()?;
                let (p, s) = self.ident()?;
                if self.is("(") {
                    // `az.resourceGroup()`, `sys.concat(…)`: a namespaced call.
                    if let E::Ident(ns) = &e.kind {
                        let ns = ns.clone();
                        let args = self.args()?;
                        e = Expr {
                            span: e.span.start..self.last_end,
                            kind: E::Call(Some(ns), p, args),
                        };
                        continue;
                    }
                    // A method on a resource (`kv.getSecret('x')`).
                    let _ = self.args()?;
                    e = Expr {
                        span: e.span.start..self.last_end,
                        kind: E::Call(None, p, Vec::new()),
                    };
                    continue;
                }
                e = Expr {
                    span: e.span.start..s.end,
                    kind: E::Prop(Box::new(e), p, safe),
                };
            } else if self.is("[") && self.last_end == self.span.start {
                self.bump()?;
                let safe = self.is("?");
                if safe {
                    self.bump()?;
                }
                self.newlines()?;
                let i = if self.is("^") {
                    let from = self.span.start;
                    self.bump()?;
                    let n = self.expr()?;
                    Expr {
                        span: from..n.span.end,
                        kind: E::FromEnd(Box::new(n)),
                    }
                } else {
                    self.expr()?
                };
                self.newlines()?;
                self.expect("]")?;
                e = Expr {
                    span: e.span.start..self.last_end,
                    kind: E::Index(Box::new(e), Box::new(i), safe),
                };
            } else if self.is("!") && self.last_end == self.span.start {
                // Non-null assertion.
                self.bump()?;
            } else {
                return Ok(e);
            }
        }
    }

    fn args(&mut self) -> Res<Vec<Expr>> {
        self.expect("(")?;
        let mut args = Vec::new();
        self.newlines()?;
        while !self.is(")") {
            args.push(self.expr()?);
            self.newlines()?;
            if self.is(",") {
                self.bump()?;
                self.newlines()?;
            } else if !self.is(")") {
                return self.err("expected `,` or `)`");
            }
        }
        self.bump()?;
        Ok(args)
    }

    fn primary(&mut self) -> Res<Expr> {
        let start = self.span.start;
        let tok = self.tok.clone();
        let done = |p: &Self, kind: E| Expr {
            span: start..p.last_end,
            kind,
        };
        match tok {
            Tok::Num(n) => {
                self.bump()?;
                Ok(done(self, E::Num(n)))
            }
            Tok::Str(pieces) => {
                self.bump()?;
                let mut parts = Vec::new();
                let mut holes = false;
                for p in pieces {
                    match p {
                        StrPiece::Text(t) => parts.push(Part::Text(t)),
                        StrPiece::Hole(r) => {
                            holes = true;
                            let mut sub = Parser::new(self.text, r.start)?;
                            sub.depth = self.depth + 1;
                            sub.newlines()?;
                            let e = sub.expr()?;
                            sub.newlines()?;
                            if sub.span.start != r.end {
                                return Err(ParseError {
                                    span: sub.span.clone(),
                                    message: "unexpected text in `${…}`".into(),
                                });
                            }
                            parts.push(Part::Expr(e));
                        }
                    }
                }
                if !holes {
                    let text = parts
                        .into_iter()
                        .map(|p| match p {
                            Part::Text(t) => t,
                            Part::Expr(_) => String::new(),
                        })
                        .collect();
                    return Ok(done(self, E::Str(text)));
                }
                Ok(done(self, E::Interp(parts)))
            }
            Tok::Ident(w) => {
                self.bump()?;
                match w.as_str() {
                    "true" => return Ok(done(self, E::Bool(true))),
                    "false" => return Ok(done(self, E::Bool(false))),
                    "null" => return Ok(done(self, E::Null)),
                    "if" if self.is("(") => {
                        self.bump()?;
                        self.newlines()?;
                        let c = self.expr()?;
                        self.newlines()?;
                        self.expect(")")?;
                        let body = self.expr()?;
                        return Ok(done(self, E::If(Box::new(c), Box::new(body))));
                    }
                    _ => {}
                }
                if self.is("=>") {
                    self.bump()?;
                    self.newlines()?;
                    let body = self.expr()?;
                    return Ok(done(self, E::Lambda(vec![w], Box::new(body))));
                }
                // `replace (a, b, c)`: a space before the parenthesis is allowed.
                if self.is("(") {
                    let args = self.args()?;
                    return Ok(done(self, E::Call(None, w, args)));
                }
                Ok(done(self, E::Ident(w)))
            }
            Tok::Sym("(") => {
                self.bump()?;
                self.newlines()?;
                // A lambda's parameter list `(a, b) => …`, or parentheses.
                let inner = if self.is(")") {
                    None
                } else {
                    Some(self.expr()?)
                };
                self.newlines()?;
                let mut lambda = false;
                let mut more = Vec::new();
                while self.is(",") {
                    lambda = true;
                    self.bump()?;
                    self.newlines()?;
                    more.push(self.expr()?);
                    self.newlines()?;
                }
                self.expect(")")?;
                if self.is("=>") {
                    self.bump()?;
                    self.newlines()?;
                    let body = self.expr()?;
                    // The parameters are names (`(a, b) => …`); typed
                    // ones or patterns leave the lambda's names unread.
                    let names: Vec<String> = inner
                        .iter()
                        .chain(&more)
                        .filter_map(|e| match &e.kind {
                            E::Ident(n) => Some(n.clone()),
                            _ => None,
                        })
                        .collect();
                    return Ok(done(self, E::Lambda(names, Box::new(body))));
                }
                match inner {
                    Some(e) if !lambda => Ok(Expr {
                        span: start..self.last_end,
                        kind: e.kind,
                    }),
                    _ => self.err("expected `=>` after a lambda's parameters"),
                }
            }
            Tok::Sym("{") => self.object(),
            Tok::Sym("[") => self.array(),
            _ => self.err("expected a value"),
        }
    }

    fn object(&mut self) -> Res<Expr> {
        let start = self.span.start;
        self.bump()?;
        let mut props = Vec::new();
        let mut children = Vec::new();
        loop {
            self.newlines()?;
            while self.is(",") {
                self.bump()?;
                self.newlines()?;
            }
            self.decorators()?;
            if self.is("}") {
                self.bump()?;
                break;
            }
            if self.is("...") {
                let key_span = self.span.clone();
                self.bump()?;
                let x = self.expr()?;
                props.push(Prop {
                    key: "...".into(),
                    key_span: key_span.clone(),
                    key_expr: None,
                    value: Expr {
                        span: key_span.start..x.span.end,
                        kind: E::Spread(Box::new(x)),
                    },
                });
                if !matches!(self.tok, Tok::Newline | Tok::Sym("," | "}")) {
                    return self.err("expected a line break, `,` or `}` after a spread");
                }
                continue;
            }
            if self.is_word("resource") {
                // A nested child resource, or a property named `resource`.
                let save = (
                    self.lex.pos,
                    self.tok.clone(),
                    self.span.clone(),
                    self.last_end,
                );
                self.bump()?;
                let child = matches!(self.tok, Tok::Ident(_));
                self.lex.pos = save.0;
                self.tok = save.1;
                self.span = save.2;
                self.last_end = save.3;
                if child {
                    self.enter()?;
                    let d = self.resource_decl()?;
                    self.depth -= 1;
                    children.push(d);
                    continue;
                }
            }
            let (key, key_span, key_expr) = match &self.tok {
                Tok::Ident(k) => {
                    let k = (k.clone(), self.span.clone(), None);
                    self.bump()?;
                    k
                }
                Tok::Str(p) => match p.as_slice() {
                    [StrPiece::Text(t)] => {
                        let k = (t.clone(), self.span.clone(), None);
                        self.bump()?;
                        k
                    }
                    _ => {
                        let span = self.span.clone();
                        let e = self.primary()?;
                        (
                            self.text.get(span.clone()).unwrap_or("").to_string(),
                            span,
                            Some(e),
                        )
                    }
                },
                Tok::Eof => return self.err("this object is never closed"),
                _ => return self.err("expected a property name or `}`"),
            };
            self.expect(":")?;
            self.newlines()?;
            let value = self.expr()?;
            props.push(Prop {
                key,
                key_span,
                key_expr,
                value,
            });
            if !matches!(self.tok, Tok::Newline | Tok::Sym("," | "}")) {
                return self.err("expected a line break, `,` or `}` after a property");
            }
        }
        Ok(Expr {
            span: start..self.last_end,
            kind: E::Object { props, children },
        })
    }

    fn array(&mut self) -> Res<Expr> {
        let start = self.span.start;
        self.bump()?;
        self.newlines()?;
        if self.is_word("for") {
            self.bump()?;
            let (item, index) = if self.is("(") {
                self.bump()?;
                let (a, _) = self.ident()?;
                let b = if self.is(",") {
                    self.bump()?;
                    Some(self.ident()?.0)
                } else {
                    None
                };
                self.expect(")")?;
                (Some(a), b)
            } else {
                (Some(self.ident()?.0), None)
            };
            if !self.is_word("in") {
                return self.err("expected `in`");
            }
            self.bump()?;
            let iter = self.expr()?;
            self.expect(":")?;
            self.newlines()?;
            let body = self.expr()?;
            self.newlines()?;
            self.expect("]")?;
            return Ok(Expr {
                span: start..self.last_end,
                kind: E::For {
                    item,
                    index,
                    iter: Box::new(iter),
                    body: Box::new(body),
                },
            });
        }
        let mut items = Vec::new();
        loop {
            self.newlines()?;
            while self.is(",") {
                self.bump()?;
                self.newlines()?;
            }
            if self.is("]") {
                self.bump()?;
                break;
            }
            if self.tok == Tok::Eof {
                return self.err("this array is never closed");
            }
            if self.is("...") {
                let from = self.span.start;
                self.bump()?;
                let x = self.expr()?;
                items.push(Expr {
                    span: from..x.span.end,
                    kind: E::Spread(Box::new(x)),
                });
            } else {
                items.push(self.expr()?);
            }
            if !matches!(self.tok, Tok::Newline | Tok::Sym("," | "]")) {
                return self.err("expected a line break, `,` or `]` after an item");
            }
        }
        Ok(Expr {
            span: start..self.last_end,
            kind: E::Array(items),
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::panic,
        clippy::indexing_slicing,
        reason = "test code"
    )]
    use super::*;

    #[test]
    fn parses_a_documented_storage_example() {
        let text = "@description('Storage account name')\n@minLength(3)\nparam name string = 'st${uniqueString(resourceGroup().id)}'\nparam location string = resourceGroup().location\n\nresource sa 'Microsoft.Storage/storageAccounts@2023-01-01' = {\n  name: name\n  location: location\n  sku: {\n    name: 'Standard_LRS'\n  }\n  kind: 'StorageV2'\n  tags: { env: 'prod', 'cost-center': 'x' }\n}\n";
        let (decls, err) = parse_file(text);
        assert!(err.is_none(), "{err:?}");
        assert_eq!(decls.len(), 3);
        assert_eq!(decls[2].kind, DeclKind::Resource);
        assert_eq!(
            decls[2].target,
            "Microsoft.Storage/storageAccounts@2023-01-01"
        );
        assert_eq!(
            &text[decls[2].header.clone()],
            "resource sa 'Microsoft.Storage/storageAccounts@2023-01-01'"
        );
        let Some(Expr {
            kind: E::Object { props, .. },
            ..
        }) = &decls[2].value
        else {
            panic!()
        };
        assert_eq!(
            props.iter().map(|p| p.key.as_str()).collect::<Vec<_>>(),
            ["name", "location", "sku", "kind", "tags"]
        );
    }

    #[test]
    fn loops_conditions_and_errors() {
        let text = "resource a 'T@1' = [for (x, i) in items: if (x.enabled) {\n  name: '${x.name}-${i}'\n}]\nvar v = cond\n  ? 'a'\n  : 'b'\n";
        let (decls, err) = parse_file(text);
        assert!(err.is_none(), "{err:?}");
        assert!(matches!(
            decls[0].value.as_ref().unwrap().kind,
            E::For { .. }
        ));
        assert!(matches!(
            decls[1].value.as_ref().unwrap().kind,
            E::Ternary(..)
        ));
        let (decls, err) = parse_file("var a = 1\nvar b = {\n  x: 'open\n}\n");
        assert_eq!(decls.len(), 1);
        assert_eq!(err.unwrap().span.start, 25);
        let (decls, err) =
            parse_file("\u{feff}// c\r\n#disable-next-line no-unused-vars\r\nvar a = 'x'\r\n");
        assert!(err.is_none(), "{err:?}");
        assert_eq!(decls.len(), 1);
        let (decls, err) = parse_file("var s = '\\u{D801}\\u{DC37}\\u{e9}'\n");
        assert!(err.is_none(), "{err:?}");
        assert!(
            matches!(&decls[0].value.as_ref().unwrap().kind, E::Str(s) if s == "\u{10437}\u{e9}")
        );
        let deep = format!("var d = {}", "[".repeat(10_000));
        assert!(parse_file(&deep).1.unwrap().message.contains("deeper"));
    }

    #[test]
    fn reads_safe_access_spread_imports_and_continued_declarations() {
        let text = "import { a, b as c } from 'shared.bicep'\nimport * as ns from 'x.bicep'\ntype t =\n  | 'x'\n  | 'y'\nparam p\n  | 'x'\n  | 'y' = 'x'\nparam n string?\nfunc f(x string) string =>\n  x\nvar v string = {\n  ...o\n  k: o.?a[?0][^1]\n}\n";
        let (decls, err) = parse_file(text);
        assert!(err.is_none(), "{err:?}");
        let names: Vec<(&str, DeclKind, &str)> = decls
            .iter()
            .map(|d| (d.name.as_str(), d.kind, d.member.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                ("a", DeclKind::Import, "a"),
                ("c", DeclKind::Import, "b"),
                ("ns", DeclKind::Import, "*"),
                ("p", DeclKind::Param, ""),
                ("n", DeclKind::Param, ""),
                ("v", DeclKind::Var, ""),
            ]
        );
        assert!(decls[4].nullable && !decls[3].nullable);
        let Some(Expr {
            kind: E::Object { props, .. },
            ..
        }) = &decls[5].value
        else {
            panic!()
        };
        assert!(matches!(props[0].value.kind, E::Spread(_)));
        let E::Index(inner, last, false) = &props[1].value.kind else {
            panic!("{:?}", props[1].value.kind)
        };
        assert!(matches!(last.kind, E::FromEnd(_)));
        assert!(
            matches!(&inner.kind, E::Index(x, _, true) if matches!(x.kind, E::Prop(_, _, true)))
        );
    }
}
