//! `proviso fmt`: one canonical layout for rule files.
//!
//! The formatter prints the pest parse tree, not the AST, so that what the
//! author wrote and the AST does not keep survives: parentheses, comments,
//! the order of statements, blank lines between items (collapsed to one).
//! Comments are the text between tokens: every byte of the file that no
//! token covers is white space, punctuation or a comment, so collecting
//! `//` and `/* */` from those gaps finds every comment and nothing else.
//! Each comment is printed before the next statement that starts after it,
//! or at the end of its line when it trails a statement.
//!
//! Layout: two spaces per level; one statement per line; consecutive
//! `define`s align their `=` (their names, when they have phrases), and so do consecutive `let`s of an aggregate
//! clause; figures are printed on one line with single spaces around
//! `+ - *` and between the words of an aggregation (an aggregation's long
//! `where` condition is broken like a condition); lines longer than
//! [`WIDTH`] break before `or` (then `and`) and between set members (also a
//! `field`'s `one of { … }`); `given` maps go one entry per line when they
//! do not fit, and an aggregate example's `given [ … ]` always puts one
//! record a line, so that a reader can count them. The result parses to the same AST and formatting
//! it again changes nothing (both are tested over every rule file).

use super::parse::{Pair, Rule, content_span, parse_file};
use crate::diag::Diag;
use crate::source::SourceFile;
use std::sync::Arc;

/// Preferred maximum line width.
pub const WIDTH: usize = 100;

#[derive(Debug, Clone)]
struct Comment {
    start: usize,
    text: String,
    /// Whether a statement ends earlier on the same line.
    trailing: bool,
}

struct Formatter<'s> {
    src: &'s str,
    comments: Vec<Comment>,
    next_comment: usize,
    out: String,
}

/// Formats a rule file; a file that does not parse is returned as an error.
pub fn format(file: &Arc<SourceFile>) -> Result<String, Diag> {
    let root = parse_file(file)?;
    let mut f = Formatter {
        src: &file.text,
        comments: collect_comments(&file.text, &root),
        next_comment: 0,
        out: String::new(),
    };
    f.file(&root);
    Ok(f.out)
}

/// Every leaf token's span, in order.
fn leaves(pair: &Pair<'_>, out: &mut Vec<(usize, usize)>) {
    let span = pair.as_span();
    let mut inner = pair.clone().into_inner().peekable();
    if inner.peek().is_none() {
        if span.start() < span.end() {
            out.push((span.start(), span.end()));
        }
        return;
    }
    // Atomic rules with inner pairs (strings, paths, sizes) are leaves as a whole.
    if matches!(
        pair.as_rule(),
        Rule::string | Rule::path | Rule::size | Rule::percent | Rule::quoted_date
    ) {
        out.push((span.start(), span.end()));
        return;
    }
    for p in inner {
        leaves(&p, out);
    }
}

fn collect_comments(src: &str, root: &Pair<'_>) -> Vec<Comment> {
    let mut spans = Vec::new();
    leaves(root, &mut spans);
    let mut comments = Vec::new();
    let mut pos = 0usize;
    let mut gaps: Vec<(usize, usize)> = Vec::new();
    for (s, e) in spans {
        if s > pos {
            gaps.push((pos, s));
        }
        pos = pos.max(e);
    }
    gaps.push((pos, src.len()));
    for (gs, ge) in gaps {
        // INVARIANT: `gs <= ge <= src.len()`, each an end of a pest span of
        // `src` or an end of `src`: char boundaries.
        let gap = &src[gs..ge];
        let mut i = 0usize;
        while i < gap.len() {
            // INVARIANT: `i < gap.len()` is a char boundary: it moves by
            // whole characters and whole comments.
            let rest = &gap[i..];
            let (len, text) = if rest.starts_with("//") {
                let line = rest.split_once('\n').map_or(rest, |(line, _)| line);
                (line.len(), line.trim_end().to_string())
            } else if rest.starts_with("/*") {
                let comment = rest
                    .split_once("*/")
                    .map_or(rest.to_string(), |(body, _)| format!("{body}*/"));
                (comment.len(), comment)
            } else {
                i += rest.chars().next().map(char::len_utf8).unwrap_or(1);
                continue;
            };
            let start = gs + i;
            // INVARIANT: `start` is a char boundary of `src`: `gap` starts
            // at one (`gs`) and `i` is one of `gap`.
            let upto = &src[..start];
            let before = upto.rsplit_once('\n').map_or(upto, |(_, line)| line);
            comments.push(Comment {
                start,
                text,
                trailing: !before.trim().is_empty(),
            });
            i += len.max(1);
        }
    }
    comments
}

fn children<'a>(pair: &Pair<'a>) -> Vec<Pair<'a>> {
    pair.clone()
        .into_inner()
        .filter(|p| !matches!(p.as_rule(), Rule::rbrace | Rule::EOI))
        .collect()
}

fn is_kw(rule: Rule) -> bool {
    format!("{rule:?}").starts_with("kw_")
}

/// Children that are not keywords.
fn args<'a>(pair: &Pair<'a>) -> Vec<Pair<'a>> {
    children(pair)
        .into_iter()
        .filter(|p| !is_kw(p.as_rule()))
        .collect()
}

impl Formatter<'_> {
    fn line(&mut self, indent: usize, text: &str) {
        self.out.push_str(&" ".repeat(indent));
        self.out.push_str(text);
        self.out.push('\n');
    }

    /// Whether the source has a blank line between `from` and `to`.
    fn blank_between(&self, from: usize, to: usize) -> bool {
        // Callers pass `to` before `from` when nothing lies between them:
        // no blank line then.
        let Some(gap) = self.src.get(from..to) else {
            return false;
        };
        let mut lines = gap.split('\n');
        lines.next();
        let mut interior: Vec<&str> = lines.collect();
        interior.pop();
        interior.iter().any(|l| l.trim().is_empty())
    }

    /// Prints the comments that start before `pos` on their own lines.
    fn leading_comments(&mut self, pos: usize, indent: usize) {
        while let Some(c) = self.comments.get(self.next_comment).cloned() {
            if c.start >= pos {
                break;
            }
            self.next_comment += 1;
            if c.trailing && self.out.ends_with('\n') {
                // A trailing comment whose statement was already printed.
                self.out.pop();
                self.out.push_str("  ");
                self.out.push_str(&c.text);
                self.out.push('\n');
            } else {
                for l in c.text.lines() {
                    self.line(indent, l.trim_end());
                }
                // Keep one blank line after a comment where the author left one.
                let end = c.start + c.text.len();
                let next = self
                    .comments
                    .get(self.next_comment)
                    .map(|n| n.start)
                    .filter(|n| *n < pos)
                    .unwrap_or(pos);
                if next != usize::MAX && self.blank_between(end, next.min(self.src.len())) {
                    self.out.push('\n');
                }
            }
        }
    }

    /// Prints comments that trail the statement ending at `end`.
    fn trailing_comment(&mut self, end: usize) {
        let line_end = self
            .src
            .get(end..)
            .and_then(|r| r.find('\n'))
            .map(|n| end + n)
            .unwrap_or(self.src.len());
        while let Some(c) = self.comments.get(self.next_comment).cloned() {
            if c.start >= line_end || c.start < end || !c.trailing {
                break;
            }
            self.next_comment += 1;
            if self.out.ends_with('\n') {
                self.out.pop();
            }
            self.out.push_str("  ");
            self.out.push_str(&c.text);
            self.out.push('\n');
        }
    }

    fn file(&mut self, root: &Pair<'_>) {
        let items = children(root);
        let mut prev_end: Option<usize> = None;
        let mut prev_rule: Option<Rule> = None;
        let mut define_run: Vec<Pair<'_>> = Vec::new();
        let mut i = 0;
        while let Some(item) = items.get(i) {
            let start = item.as_span().start();
            let first_comment = self
                .comments
                .get(self.next_comment)
                .map(|c| c.start)
                .filter(|s| *s < start)
                .unwrap_or(start);
            if let Some(pe) = prev_end {
                let different = prev_rule != Some(item.as_rule()) || item.as_rule() == Rule::terms;
                if different || self.blank_between(pe, first_comment.min(start)) {
                    self.out.push('\n');
                }
            }
            self.leading_comments(start, 0);
            if item.as_rule() == Rule::define {
                // A run of consecutive defines (no blank line or comment between) aligns `=`.
                define_run.clear();
                define_run.push(item.clone());
                let mut j = i + 1;
                while let Some(next) = items.get(j) {
                    let last_end = define_run.last().map(|p| p.content_end()).unwrap_or(0);
                    let comment_between = self.comments.iter().any(|c| {
                        c.start > last_end && c.start < next.as_span().start() && !c.trailing
                    });
                    if next.as_rule() != Rule::define
                        || self.blank_between(last_end, next.as_span().start())
                        || comment_between
                    {
                        break;
                    }
                    define_run.push(next.clone());
                    j += 1;
                }
                let width = define_run
                    .iter()
                    .filter_map(|d| args(d).first().map(|n| n.as_str().len()))
                    .max()
                    .unwrap_or(0);
                let run = define_run.clone();
                for (k, d) in run.iter().enumerate() {
                    if k > 0 {
                        self.leading_comments(d.as_span().start(), 0);
                    }
                    self.define(d, width);
                    self.trailing_comment(d.content_end());
                }
                prev_end = run.last().map(|p| p.content_end());
                prev_rule = Some(Rule::define);
                i = j;
                continue;
            }
            match item.as_rule() {
                Rule::agreement | Rule::source | Rule::param => {
                    let text = self.simple(item);
                    self.line(0, &text);
                    self.trailing_comment(item.content_end());
                }
                Rule::field_decl => {
                    let text = self.field_decl(item);
                    self.line(0, &text);
                    self.trailing_comment(item.content_end());
                }
                Rule::terms => self.terms(item),
                _ => {}
            }
            prev_end = Some(item.content_end());
            prev_rule = Some(item.as_rule());
            i += 1;
        }
        if prev_end.is_some() && self.next_comment < self.comments.len() {
            let last = self
                .comments
                .get(self.next_comment)
                .map(|c| c.start)
                .unwrap_or(0);
            if self.blank_between(prev_end.unwrap_or(0), last) {
                self.out.push('\n');
            }
        }
        self.leading_comments(usize::MAX, 0);
    }

    /// A statement whose parts are printed with single spaces.
    fn simple(&self, pair: &Pair<'_>) -> String {
        let mut parts = Vec::new();
        for p in children(pair) {
            parts.push(match p.as_rule() {
                Rule::kw_applies => "applies to".to_string(),
                Rule::kw_to => continue,
                _ => self.token(&p),
            });
        }
        let text = parts.join(" ");
        if pair.as_rule() == Rule::except {
            text.replacen(' ', "\u{0}", 1)
                .replace(' ', ", ")
                .replace('\u{0}', " ")
        } else {
            text
        }
    }

    /// A token or small construct, canonically spaced.
    fn token(&self, p: &Pair<'_>) -> String {
        match p.as_rule() {
            Rule::size => {
                let inner: Vec<Pair<'_>> = p.clone().into_inner().collect();
                inner
                    .iter()
                    .map(|x| x.as_str())
                    .collect::<Vec<_>>()
                    .join(" ")
            }
            Rule::path => p
                .clone()
                .into_inner()
                .enumerate()
                .map(|(i, seg)| match seg.as_rule() {
                    Rule::string => format!("[{}]", seg.as_str()),
                    _ if i == 0 => seg.as_str().to_string(),
                    _ => format!(".{}", seg.as_str()),
                })
                .collect(),
            Rule::quoted_date | Rule::date_lit | Rule::bad_date => p.as_str().to_string(),
            // `§2.1` as `§2.1`, `§ 2.1` too; `section "2.1"` kept ASCII.
            Rule::cite_section => {
                let inner: Vec<Pair<'_>> = p.clone().into_inner().collect();
                match inner.iter().find(|x| x.as_rule() == Rule::section_ref) {
                    Some(r) => format!("§{}", r.as_str()),
                    None => {
                        let text = inner
                            .iter()
                            .find(|x| x.as_rule() == Rule::string)
                            .map_or("\"\"", |x| x.as_str());
                        format!("section {text}")
                    }
                }
            }
            _ if is_kw(p.as_rule()) => p.as_str().to_string(),
            _ => match p.clone().into_inner().next() {
                Some(_)
                    if matches!(
                        p.as_rule(),
                        Rule::expr
                            | Rule::or_expr
                            | Rule::and_expr
                            | Rule::not_expr
                            | Rule::comparison
                            | Rule::set
                            | Rule::paren
                    ) =>
                {
                    self.expr(p)
                }
                _ => p.as_str().to_string(),
            },
        }
    }

    /// An expression on one line.
    fn expr(&self, p: &Pair<'_>) -> String {
        match p.as_rule() {
            Rule::expr => children(p)
                .first()
                .map(|c| self.expr(c))
                .unwrap_or_default(),
            Rule::or_expr => args(p)
                .iter()
                .map(|c| self.expr(c))
                .collect::<Vec<_>>()
                .join(" or "),
            Rule::and_expr => args(p)
                .iter()
                .map(|c| self.expr(c))
                .collect::<Vec<_>>()
                .join(" and "),
            Rule::not_expr => {
                let kids = children(p);
                match kids.as_slice() {
                    [first, inner] if first.as_rule() == Rule::kw_not => {
                        format!("not {}", self.expr(inner))
                    }
                    [only] => self.expr(only),
                    _ => p.as_str().to_string(),
                }
            }
            Rule::comparison => {
                let mut parts = Vec::new();
                for c in children(p) {
                    parts.push(match c.as_rule() {
                        Rule::bad_eq => "==".to_string(),
                        Rule::not_in => "not in".to_string(),
                        Rule::cmp_op
                        | Rule::kw_in
                        | Rule::kw_matches
                        | Rule::tilde
                        | Rule::exists
                        | Rule::regex => c.as_str().to_string(),
                        _ => self.expr(&c),
                    });
                }
                parts.join(" ")
            }
            Rule::paren => format!(
                "({})",
                children(p)
                    .first()
                    .map(|c| self.expr(c))
                    .unwrap_or_default()
            ),
            Rule::set => {
                let items: Vec<String> = children(p).iter().map(|c| self.expr(c)).collect();
                if items.is_empty() {
                    "{}".into()
                } else {
                    format!("{{ {} }}", items.join(", "))
                }
            }
            _ => self.token(p),
        }
    }

    /// An expression that starts at column `col`, broken over lines when long.
    fn expr_at(&self, p: &Pair<'_>, col: usize) -> String {
        let flat = self.expr(p);
        if col + flat.chars().count() <= WIDTH {
            return flat;
        }
        let inner = unwrap_expr(p);
        match inner.as_rule() {
            Rule::or_expr | Rule::and_expr => {
                let word = if inner.as_rule() == Rule::or_expr {
                    "or"
                } else {
                    "and"
                };
                let parts: Vec<Pair<'_>> = args(&inner);
                let mut out = String::new();
                for (i, part) in parts.iter().enumerate() {
                    if i == 0 {
                        out.push_str(&self.expr_at(part, col));
                    } else {
                        out.push('\n');
                        out.push_str(&" ".repeat(col));
                        out.push_str(word);
                        out.push(' ');
                        out.push_str(&self.expr_at(part, col + word.len() + 1));
                    }
                }
                out
            }
            Rule::set => {
                let items: Vec<String> = children(&inner).iter().map(|c| self.expr(c)).collect();
                let mut out = String::from("{ ");
                let mut line_len = col + 2;
                for (i, item) in items.iter().enumerate() {
                    let piece = if i + 1 < items.len() {
                        format!("{item},")
                    } else {
                        format!("{item} }}")
                    };
                    if i > 0 && line_len + 1 + piece.chars().count() > WIDTH {
                        out.push('\n');
                        out.push_str(&" ".repeat(col + 2));
                        line_len = col + 2;
                    } else if i > 0 {
                        out.push(' ');
                        line_len += 1;
                    }
                    out.push_str(&piece);
                    line_len += piece.chars().count();
                }
                out
            }
            _ => flat,
        }
    }

    fn define(&mut self, d: &Pair<'_>, width: usize) {
        let a = args(d);
        let Some(value) = a.iter().find(|p| p.as_rule() == Rule::expr) else {
            return;
        };
        // Names are aligned; a phrase follows its name, and moves `=`.
        let name = a.first().map_or("", |n| n.as_str());
        let head = match a.iter().find(|p| p.as_rule() == Rule::string) {
            Some(phrase) => format!("define {name:<width$} {} = ", phrase.as_str()),
            None => format!("define {name:<width$} = "),
        };
        let body = self.expr_at(value, head.chars().count());
        self.line(0, &format!("{head}{body}"));
    }

    fn terms(&mut self, t: &Pair<'_>) {
        let kids = children(t);
        let mut header = vec!["terms".to_string()];
        let mut rest = Vec::new();
        let mut body = Vec::new();
        for k in &kids {
            match k.as_rule() {
                Rule::kw_terms => {}
                Rule::ident | Rule::string if body.is_empty() && rest.is_empty() => {
                    header.push(k.as_str().to_string())
                }
                Rule::effective | Rule::until | Rule::supersedes => rest.push(self.simple(k)),
                // `proposed` leads the header, wherever it was written.
                Rule::proposed => rest.insert(0, "proposed".to_string()),
                Rule::clause | Rule::exception => body.push(k.clone()),
                _ => {}
            }
        }
        let one_line = format!("{} {} {{", header.join(" "), rest.join(" "));
        if one_line.chars().count() <= WIDTH {
            self.line(0, &one_line);
        } else {
            self.line(0, &header.join(" "));
            self.line(2, &rest.join(" "));
            self.line(0, "{");
        }
        // Clauses and exceptions are separated by one blank line.
        for (i, item) in body.iter().enumerate() {
            if i > 0 {
                self.out.push('\n');
            }
            self.leading_comments(item.as_span().start(), 2);
            self.block(item, 2);
        }
        self.leading_comments(t.content_end().saturating_sub(1), 2);
        self.line(0, "}");
        self.trailing_comment(t.content_end());
    }

    /// A clause, exception or example: header `{`, statements, `}`.
    fn block(&mut self, b: &Pair<'_>, indent: usize) {
        let kids = children(b);
        let mut header = Vec::new();
        let mut stmts = Vec::new();
        for k in &kids {
            match k.as_rule() {
                Rule::kw_clause | Rule::kw_exception | Rule::kw_example | Rule::kw_on => {
                    header.push(k.as_str().to_string())
                }
                Rule::ident
                | Rule::string
                | Rule::date_lit
                | Rule::bad_date
                | Rule::quoted_date
                    if stmts.is_empty() =>
                {
                    header.push(self.token(k))
                }
                _ => stmts.push(k.clone()),
            }
        }
        self.line(indent, &format!("{} {{", header.join(" ")));
        let inner = indent + 2;
        let mut prev_end: Option<usize> = None;
        let mut i = 0;
        while let Some(s) = stmts.get(i) {
            let start = s.as_span().start();
            if let Some(pe) = prev_end {
                let first = self
                    .comments
                    .get(self.next_comment)
                    .map(|c| c.start)
                    .filter(|c| *c < start && *c > pe)
                    .unwrap_or(start);
                if self.blank_between(pe, first) {
                    self.out.push('\n');
                }
            }
            self.leading_comments(start, inner);
            let mut end = s.content_end();
            match s.as_rule() {
                Rule::example | Rule::exception | Rule::clause => self.block(s, inner),
                Rule::given => self.given(s, inner),
                Rule::expect => {
                    let text = self.expect(s);
                    self.line(inner, &text);
                }
                Rule::figure => {
                    // A run of consecutive `let`s (no blank line or comment between) aligns `=`.
                    let mut run = vec![s.clone()];
                    while let Some(next) = stmts.get(i + run.len()) {
                        let last_end = run.last().map(|p| p.content_end()).unwrap_or(0);
                        let next_start = next.as_span().start();
                        let comment_between = self
                            .comments
                            .iter()
                            .any(|c| c.start > last_end && c.start < next_start && !c.trailing);
                        if next.as_rule() != Rule::figure
                            || self.blank_between(last_end, next_start)
                            || comment_between
                        {
                            break;
                        }
                        run.push(next.clone());
                    }
                    let width = run
                        .iter()
                        .filter_map(|f| args(f).first().map(|n| n.as_str().len()))
                        .max()
                        .unwrap_or(0);
                    for (k, f) in run.iter().enumerate() {
                        if k > 0 {
                            self.trailing_comment(end);
                            self.leading_comments(f.as_span().start(), inner);
                        }
                        let a = args(f);
                        if let (Some(name), Some(value)) = (a.first(), a.get(1)) {
                            let head = format!("let {:<width$} = ", name.as_str());
                            let body = self.figure_at(value, inner + head.chars().count());
                            self.line(inner, &format!("{head}{body}"));
                        }
                        end = f.content_end();
                    }
                    i += run.len() - 1;
                }
                Rule::per => {
                    let keys: Vec<String> = args(s).iter().map(|k| self.token(k)).collect();
                    self.line(inner, &format!("per {}", keys.join(", ")));
                }
                Rule::with_param => {
                    let a = args(s);
                    if let (Some(name), Some(value)) = (a.first(), a.get(1)) {
                        let text = format!("with {} = {}", name.as_str(), self.token(value));
                        self.line(inner, &text);
                    }
                }
                Rule::effective => {
                    // `effective D` directly followed by `until D`: one line.
                    let mut text = self.simple(s);
                    if let Some(next) = stmts.get(i + 1)
                        && next.as_rule() == Rule::until
                    {
                        text.push(' ');
                        text.push_str(&self.simple(next));
                        end = next.content_end();
                        i += 1;
                    }
                    self.line(inner, &text);
                }
                Rule::applies
                | Rule::require
                | Rule::forbid
                | Rule::unless
                | Rule::when
                | Rule::over => {
                    let kw = match s.as_rule() {
                        Rule::applies => "applies to",
                        Rule::over => "over",
                        Rule::require => "require",
                        Rule::forbid => "forbid",
                        Rule::unless => "unless",
                        _ => "when",
                    };
                    let e = args(s).into_iter().find(|p| p.as_rule() == Rule::expr);
                    let body = e
                        .map(|e| self.expr_at(&e, inner + kw.len() + 1))
                        .unwrap_or_default();
                    self.line(inner, &format!("{kw} {body}"));
                }
                _ => {
                    let text = self.simple(s);
                    self.line(inner, &text);
                }
            }
            self.trailing_comment(end);
            prev_end = Some(end);
            i += 1;
        }
        self.leading_comments(b.content_end().saturating_sub(1), inner);
        self.line(indent, "}");
    }

    /// `field path "about"`, then its type: `decimal` or `one of { … }`
    /// (the set broken between members when the line is long).
    fn field_decl(&self, d: &Pair<'_>) -> String {
        let mut out = String::new();
        for p in children(d) {
            if !out.is_empty() {
                out.push(' ');
            }
            match p.as_rule() {
                Rule::field_type => {
                    for t in children(&p) {
                        match t.as_rule() {
                            Rule::field_one_of => {
                                out.push_str("one of ");
                                if let Some(set) =
                                    children(&t).into_iter().find(|x| x.as_rule() == Rule::set)
                                {
                                    let col = out.chars().count();
                                    out.push_str(&self.expr_at(&set, col));
                                }
                            }
                            _ => out.push_str("decimal"),
                        }
                    }
                }
                Rule::field_required => {
                    // On the declaration's line if it fits, else on its own
                    // line under the declaration, indented.
                    let cond = children(&p)
                        .into_iter()
                        .find(|x| x.as_rule() == Rule::expr)
                        .map(|e| e.as_str().split_whitespace().collect::<Vec<_>>().join(" "))
                        .unwrap_or_default();
                    let last = out.rsplit('\n').next().unwrap_or("").chars().count();
                    if last + "required where ".len() + cond.chars().count() > WIDTH {
                        out.pop();
                        out.push_str("\n  ");
                    }
                    out.push_str("required where ");
                    if let Some(e) = children(&p).into_iter().find(|x| x.as_rule() == Rule::expr) {
                        let col = out.rsplit('\n').next().unwrap_or("").chars().count();
                        out.push_str(&self.expr_at(&e, col));
                    }
                }
                _ => out.push_str(&self.token(&p)),
            }
        }
        out
    }

    /// `expect <outcome>` and its optional `for "group"`, single-spaced.
    fn expect(&self, e: &Pair<'_>) -> String {
        children(e)
            .iter()
            .map(|p| match p.as_rule() {
                Rule::exp_violation
                | Rule::exp_no_violation
                | Rule::exp_not_in_force
                | Rule::exp_unresolved => {
                    p.as_str().split_whitespace().collect::<Vec<_>>().join(" ")
                }
                _ => self.token(p),
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// A figure that starts at column `col`: on one line, unless it is one
    /// aggregation whose `where` condition makes it too long; that
    /// condition is then broken like any other (before `or`, then `and`).
    fn figure_at(&self, p: &Pair<'_>, col: usize) -> String {
        let flat = self.arith(p);
        if col + flat.chars().count() <= WIDTH {
            return flat;
        }
        // arith → arith_term → aggregation, each with one child.
        let mut cur = p.clone();
        while matches!(cur.as_rule(), Rule::arith | Rule::arith_term) {
            match children(&cur).as_slice() {
                [only] => cur = only.clone(),
                _ => return flat,
            }
        }
        if cur.as_rule() != Rule::aggregation {
            return flat;
        }
        let mut head = String::new();
        for part in children(&cur) {
            if part.as_rule() == Rule::agg_where {
                let Some(cond) = children(&part)
                    .into_iter()
                    .find(|x| x.as_rule() == Rule::expr)
                else {
                    return flat;
                };
                head.push_str("where ");
                let at = col + head.chars().count();
                return format!("{head}{}", self.expr_at(&cond, at));
            }
            head.push_str(&self.arith(&part));
            head.push(' ');
        }
        flat
    }

    /// A figure's value on one line: single spaces around `+ - *` and
    /// between the words of aggregations (`sum of amount_usd where …`).
    fn arith(&self, p: &Pair<'_>) -> String {
        match p.as_rule() {
            Rule::arith_paren => format!(
                "({})",
                children(p)
                    .first()
                    .map(|c| self.arith(c))
                    .unwrap_or_default()
            ),
            Rule::arith
            | Rule::arith_term
            | Rule::percent_of
            | Rule::running
            | Rule::aggregation
            | Rule::agg_sum
            | Rule::agg_distinct
            | Rule::agg_count
            | Rule::agg_min
            | Rule::agg_max
            | Rule::agg_first
            | Rule::agg_all
            | Rule::agg_where => children(p)
                .iter()
                .map(|c| self.arith(c))
                .collect::<Vec<_>>()
                .join(" "),
            Rule::add_op | Rule::mul_op => p.as_str().to_string(),
            _ => self.token(p),
        }
    }

    fn given(&mut self, g: &Pair<'_>, indent: usize) {
        if let Some(list) = args(g).into_iter().find(|p| p.as_rule() == Rule::list_lit) {
            // An aggregate example's records: one a line, in order.
            let records = children(&list);
            if records.is_empty() {
                self.line(indent, "given []");
                return;
            }
            self.line(indent, "given [");
            for (k, r) in records.iter().enumerate() {
                let comma = if k + 1 < records.len() { "," } else { "" };
                let text = format!("{}{comma}", self.value(r));
                self.line(indent + 2, &text);
            }
            self.line(indent, "]");
            return;
        }
        let Some(map) = args(g).into_iter().find(|p| p.as_rule() == Rule::map_lit) else {
            return;
        };
        let flat = format!("given {}", self.value(&map));
        if indent + flat.chars().count() <= WIDTH {
            self.line(indent, &flat);
        } else {
            self.line(indent, "given {");
            self.map_lines(&map, indent + 2);
            self.line(indent, "}");
        }
    }

    fn map_lines(&mut self, map: &Pair<'_>, indent: usize) {
        for entry in children(map) {
            let kv = children(&entry);
            let (Some(k), Some(v)) = (kv.first(), kv.get(1)) else {
                continue;
            };
            let flat = format!("{}: {}", k.as_str(), self.value(v));
            if indent + flat.chars().count() <= WIDTH || v.as_rule() != Rule::map_lit {
                self.line(indent, &flat);
            } else {
                self.line(indent, &format!("{}: {{", k.as_str()));
                self.map_lines(v, indent + 2);
                self.line(indent, "}");
            }
        }
    }

    /// A `given` value on one line.
    fn value(&self, v: &Pair<'_>) -> String {
        match v.as_rule() {
            Rule::map_lit => {
                let entries: Vec<String> = children(v)
                    .iter()
                    .filter_map(|e| {
                        let kv = children(e);
                        Some(format!(
                            "{}: {}",
                            kv.first()?.as_str(),
                            self.value(kv.get(1)?)
                        ))
                    })
                    .collect();
                if entries.is_empty() {
                    "{}".into()
                } else {
                    format!("{{ {} }}", entries.join(", "))
                }
            }
            Rule::list_lit => format!(
                "[{}]",
                children(v)
                    .iter()
                    .map(|x| self.value(x))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            _ => self.token(v),
        }
    }
}

/// `expr` → its `or_expr`, and single-child wrappers down to the first
/// node with several children.
fn unwrap_expr<'a>(p: &Pair<'a>) -> Pair<'a> {
    let mut cur = p.clone();
    loop {
        let kids = args(&cur);
        match (cur.as_rule(), kids.as_slice()) {
            (
                Rule::expr | Rule::or_expr | Rule::and_expr | Rule::not_expr | Rule::comparison,
                [only],
            ) => cur = only.clone(),
            _ => return cur,
        }
    }
}

trait ContentEnd {
    fn content_end(&self) -> usize;
}

impl ContentEnd for Pair<'_> {
    /// Where the construct ends, trailing white space and comments excluded.
    fn content_end(&self) -> usize {
        content_span(self).end
    }
}
