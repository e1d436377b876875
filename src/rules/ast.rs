//! The rule set's abstract syntax tree.
//!
//! Every node keeps its byte span; nodes that diagnostics are raised on also
//! reach their file through the enclosing [`RuleFile`] / [`Terms`], so a
//! later stage (check, evaluation, `proviso test`) can point back into the
//! rule file the lawyer wrote.

use crate::date::{Date, Interval};
use crate::source::{Origin, SourceFile};
use crate::value::{FieldPath, Value};
use std::ops::Range;
use std::sync::Arc;

pub type Span = Range<usize>;

/// A name as written, with its span.
#[derive(Debug, Clone, PartialEq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// One parsed rule file.
#[derive(Debug)]
pub struct RuleFile {
    pub file: Arc<SourceFile>,
    pub agreement: Option<Agreement>,
    pub sources: Vec<SourceDecl>,
    pub defines: Vec<Define>,
    pub terms: Vec<Terms>,
    pub fields: Vec<FieldDecl>,
}

/// `field path "about"`: a field an export carries that no format knows.
#[derive(Debug)]
pub struct FieldDecl {
    pub path: FieldPath,
    pub about: Option<String>,
    pub file: Arc<SourceFile>,
    pub span: Span,
}

#[derive(Debug)]
pub struct Agreement {
    pub id: Ident,
    pub title: Option<String>,
}

/// `source id "title" dated D`.
#[derive(Debug)]
pub struct SourceDecl {
    pub id: Ident,
    pub title: Option<String>,
    pub dated: Option<Date>,
    pub file: Arc<SourceFile>,
    pub span: Span,
}

/// `define id = expr`: a named predicate or value.
#[derive(Debug)]
pub struct Define {
    pub id: Ident,
    pub value: Expr,
    pub file: Arc<SourceFile>,
}

/// A dated version of the terms.
#[derive(Debug)]
pub struct Terms {
    pub id: Ident,
    pub title: Option<String>,
    pub interval: Interval,
    /// False when the effective date was missing or invalid (an error was
    /// reported); the terms are kept so that their clauses are still checked.
    pub dates_valid: bool,
    pub effective_span: Span,
    pub until_span: Option<Span>,
    pub supersedes: Option<Ident>,
    pub clauses: Vec<Clause>,
    pub exceptions: Vec<Exception>,
    pub file: Arc<SourceFile>,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// What a clause demands of the records it applies to.
#[derive(Debug)]
pub enum Check {
    /// The condition must hold.
    Require(Expr),
    /// The condition must not hold.
    Forbid(Expr),
    /// Not machine-checkable: listed for coverage, never evaluated.
    Manual,
}

#[derive(Debug)]
pub struct Clause {
    pub id: Ident,
    pub title: Option<String>,
    pub cites: Vec<Cite>,
    pub severity: Severity,
    pub applies: Option<Expr>,
    pub check: Check,
    pub excepts: Vec<Ident>,
    pub unless: Vec<Expr>,
    pub message: Option<Message>,
    /// The clause's own interval, already narrowed to its terms' interval.
    pub own_interval: Option<Interval>,
    pub examples: Vec<Example>,
    pub span: Span,
}

/// `cite source "phrase"`.
#[derive(Debug)]
pub struct Cite {
    pub source: Ident,
    pub text: Option<String>,
    pub span: Span,
}

#[derive(Debug)]
pub struct Exception {
    pub id: Ident,
    pub title: Option<String>,
    pub cites: Vec<Cite>,
    pub when: Option<Expr>,
    pub span: Span,
}

/// A `message` template: literal text and `{field}` holes.
#[derive(Debug)]
pub struct Message {
    pub parts: Vec<MessagePart>,
    pub span: Span,
}

#[derive(Debug)]
pub enum MessagePart {
    Text(String),
    Field(FieldPath, Span),
}

/// `example "title" on D { given {…} expect … }`.
#[derive(Debug)]
pub struct Example {
    pub title: String,
    pub on: Date,
    pub given: Value,
    pub expect: Expectation,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expectation {
    Violation,
    NoViolation,
    NotInForce,
    Unresolved,
}

impl Expectation {
    pub fn as_str(self) -> &'static str {
        match self {
            Expectation::Violation => "violation",
            Expectation::NoViolation => "no violation",
            Expectation::NotInForce => "not in force",
            Expectation::Unresolved => "unresolved",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    pub fn as_str(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }
}

#[derive(Debug, Clone)]
pub enum ExprKind {
    Or(Vec<Expr>),
    And(Vec<Expr>),
    Not(Box<Expr>),
    Compare(Box<Expr>, CmpOp, Box<Expr>),
    In {
        negated: bool,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    Matches(Box<Expr>, Box<Expr>),
    Regex(Box<Expr>, Arc<regex::Regex>),
    Exists(Box<Expr>),
    Literal(Value),
    Set(Vec<Expr>),
    /// A field path as written; after checking, a single-segment path that
    /// names a define becomes [`ExprKind::DefineRef`].
    Field(FieldPath),
    /// A reference to the define at this index of the rule set.
    DefineRef(String, usize),
}

impl Expr {
    /// Every field path (not define reference) in the expression, in order.
    pub fn fields(&self, out: &mut Vec<(FieldPath, Span)>) {
        match &self.kind {
            ExprKind::Or(items) | ExprKind::And(items) | ExprKind::Set(items) => {
                items.iter().for_each(|e| e.fields(out))
            }
            ExprKind::Not(e) | ExprKind::Exists(e) | ExprKind::Regex(e, _) => e.fields(out),
            ExprKind::Compare(a, _, b)
            | ExprKind::In { lhs: a, rhs: b, .. }
            | ExprKind::Matches(a, b) => {
                a.fields(out);
                b.fields(out);
            }
            ExprKind::Field(p) => out.push((p.clone(), self.span.clone())),
            ExprKind::Literal(_) | ExprKind::DefineRef(..) => {}
        }
    }

    /// Mutable access to every sub-expression, depth first.
    pub fn walk_mut(&mut self, f: &mut dyn FnMut(&mut Expr)) {
        f(self);
        match &mut self.kind {
            ExprKind::Or(items) | ExprKind::And(items) | ExprKind::Set(items) => {
                items.iter_mut().for_each(|e| e.walk_mut(f))
            }
            ExprKind::Not(e) | ExprKind::Exists(e) | ExprKind::Regex(e, _) => e.walk_mut(f),
            ExprKind::Compare(a, _, b)
            | ExprKind::In { lhs: a, rhs: b, .. }
            | ExprKind::Matches(a, b) => {
                a.walk_mut(f);
                b.walk_mut(f);
            }
            ExprKind::Field(_) | ExprKind::Literal(_) | ExprKind::DefineRef(..) => {}
        }
    }

    /// Every sub-expression, depth first.
    pub fn walk(&self, f: &mut dyn FnMut(&Expr)) {
        f(self);
        match &self.kind {
            ExprKind::Or(items) | ExprKind::And(items) | ExprKind::Set(items) => {
                items.iter().for_each(|e| e.walk(f))
            }
            ExprKind::Not(e) | ExprKind::Exists(e) | ExprKind::Regex(e, _) => e.walk(f),
            ExprKind::Compare(a, _, b)
            | ExprKind::In { lhs: a, rhs: b, .. }
            | ExprKind::Matches(a, b) => {
                a.walk(f);
                b.walk(f);
            }
            ExprKind::Field(_) | ExprKind::Literal(_) | ExprKind::DefineRef(..) => {}
        }
    }
}

impl Terms {
    pub fn origin(&self, span: &Span) -> Origin {
        Origin::new(&self.file, span.clone())
    }
}

impl Clause {
    /// The interval in which the clause is in force, given its terms.
    pub fn interval(&self, terms: &Terms) -> Interval {
        self.own_interval.unwrap_or(terms.interval)
    }

    pub fn is_manual(&self) -> bool {
        matches!(self.check, Check::Manual)
    }
}
