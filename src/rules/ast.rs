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
#[derive(Debug, Clone)]
pub struct RuleFile {
    pub file: Arc<SourceFile>,
    pub agreement: Option<Agreement>,
    pub sources: Vec<SourceDecl>,
    pub defines: Vec<Define>,
    pub terms: Vec<Terms>,
    pub fields: Vec<FieldDecl>,
    pub params: Vec<ParamDecl>,
}

impl RuleFile {
    /// A file with nothing in it yet.
    pub fn empty(file: &Arc<SourceFile>) -> RuleFile {
        RuleFile {
            file: file.clone(),
            agreement: None,
            sources: Vec::new(),
            defines: Vec::new(),
            terms: Vec::new(),
            fields: Vec::new(),
            params: Vec::new(),
        }
    }
}

/// `param name "about" type`: a value the rule file does not hold (a
/// confidential cap), supplied at run time with `--param name=value` or
/// `params:` in `proviso.yaml`. Unsupplied, it is unknown.
#[derive(Debug, Clone)]
pub struct ParamDecl {
    pub id: Ident,
    pub about: Option<String>,
    pub ty: ParamType,
    pub file: Arc<SourceFile>,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    /// An exact decimal amount (`1250000.05`).
    Money,
    /// An exact decimal number.
    Number,
    Text,
    Date,
}

impl ParamType {
    pub const ALL: [(&'static str, ParamType); 4] = [
        ("money", ParamType::Money),
        ("number", ParamType::Number),
        ("text", ParamType::Text),
        ("date", ParamType::Date),
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ParamType::Money => "money",
            ParamType::Number => "number",
            ParamType::Text => "text",
            ParamType::Date => "date",
        }
    }
}

/// What a declared field's values must be (`field amount decimal`).
#[derive(Debug, Clone, PartialEq)]
pub enum FieldType {
    /// An exact decimal number.
    Decimal,
    /// One of these strings.
    OneOf(Vec<String>),
}

/// `field path "about"`: a field an export carries that no format knows.
#[derive(Debug, Clone)]
pub struct FieldDecl {
    pub path: FieldPath,
    pub about: Option<String>,
    /// What its values must be, if the declaration says.
    pub ty: Option<FieldType>,
    /// `required where <condition>`: the records that must have it.
    pub required: Option<Expr>,
    pub file: Arc<SourceFile>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Agreement {
    pub id: Ident,
    pub title: Option<String>,
}

/// `source id "title" dated D`.
#[derive(Debug, Clone)]
pub struct SourceDecl {
    pub id: Ident,
    pub title: Option<String>,
    pub dated: Option<Date>,
    pub file: Arc<SourceFile>,
    pub span: Span,
}

/// `define id "phrase" = expr`: a named predicate or value.
#[derive(Debug, Clone)]
pub struct Define {
    pub id: Ident,
    /// What `explain` says instead of the identifier: a noun phrase that
    /// reads after "it is" ("a stateless OpenAI API", "a US region").
    pub phrase: Option<String>,
    pub value: Expr,
    pub file: Arc<SourceFile>,
}

/// A dated version of the terms.
#[derive(Debug, Clone)]
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
    /// `proposed`: a draft amendment, where the word is written. A draft
    /// is never in force; `--what-if NAME` signs it for one run
    /// ([`crate::rules::RuleSet::sign`]).
    pub proposed: Option<Span>,
    pub clauses: Vec<Clause>,
    pub exceptions: Vec<Exception>,
    pub file: Arc<SourceFile>,
    pub span: Span,
}

impl Terms {
    /// Whether these terms are a draft (`proposed`), not signed.
    pub fn is_proposed(&self) -> bool {
        self.proposed.is_some()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    /// The level a finding of this severity is reported at (`info` is
    /// miette's advice).
    pub fn level(self) -> crate::diag::Level {
        match self {
            Severity::Error => crate::diag::Level::Error,
            Severity::Warning => crate::diag::Level::Warning,
            Severity::Info => crate::diag::Level::Advice,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// What a clause demands of the records it applies to.
#[derive(Debug, Clone)]
pub enum Check {
    /// The condition must hold.
    Require(Expr),
    /// The condition must not hold.
    Forbid(Expr),
    /// Not machine-checkable: listed for coverage, never evaluated.
    Manual,
    /// An aggregate clause: judged per group of records, by the
    /// conditions in [`Clause::aggregate`].
    Aggregate,
}

#[derive(Debug, Clone)]
pub struct Clause {
    pub id: Ident,
    pub title: Option<String>,
    /// `phrase "…"`: the obligation in the author's words, used by
    /// `explain` instead of the sentence built from the conditions.
    pub phrase: Option<String>,
    /// `evidence "…"`: what would show the clause is kept.
    pub evidence: Option<String>,
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
    /// For an aggregate clause (`per …`, `let …`): how records are grouped
    /// and what is demanded of each group. Its `applies`, `unless` and
    /// `check` above are then empty / [`Check::Aggregate`].
    pub aggregate: Option<Box<Aggregate>>,
    pub span: Span,
}

/// An aggregate clause's grouping, figures and group conditions.
#[derive(Debug, Clone)]
pub struct Aggregate {
    /// `per model, month`: the group key, in order.
    pub per: Vec<GroupKey>,
    /// `over <condition>`: the records that join the groups (all if none).
    pub over: Option<Expr>,
    /// The aggregations the figures use, each once.
    pub aggs: Vec<AggSpec>,
    /// `let name = …`, in order; a figure reads only earlier ones.
    pub figures: Vec<Figure>,
    /// Which groups are judged (`applies to first_request >= 2026-04-27`).
    pub applies: Option<GExpr>,
    /// `require` (must hold) or `forbid` (must not hold), and which.
    pub check: Option<(GExpr, bool)>,
    pub unless: Vec<GExpr>,
    pub examples: Vec<AggExample>,
    pub span: Span,
}

/// One part of a group's key.
#[derive(Debug, Clone, PartialEq)]
pub enum GroupKey {
    /// A record field's value (`per model`).
    Field(FieldPath, Span),
    /// The UTC calendar period of the record's timestamp (`per month`).
    Period(Period, Span),
}

impl GroupKey {
    /// The key's name in findings and conditions: the field as written, or
    /// `period`.
    pub fn name(&self) -> String {
        match self {
            GroupKey::Field(p, _) => p.to_string(),
            GroupKey::Period(..) => "period".to_string(),
        }
    }

    pub fn span(&self) -> &Span {
        match self {
            GroupKey::Field(_, s) | GroupKey::Period(_, s) => s,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Period {
    Day,
    Month,
    Quarter,
    Year,
}

impl Period {
    pub const ALL: [(&'static str, Period); 4] = [
        ("day", Period::Day),
        ("month", Period::Month),
        ("quarter", Period::Quarter),
        ("year", Period::Year),
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Period::Day => "day",
            Period::Month => "month",
            Period::Quarter => "quarter",
            Period::Year => "year",
        }
    }

    /// The period holding `day`, as a group key writes it: `2026-04-27`,
    /// `2026-04`, `2026-Q2`, `2026`.
    pub fn key(self, day: Date) -> String {
        let mut s = String::new();
        self.write_key(day, &mut s);
        s
    }

    /// [`Period::key`], written onto `out` digit by digit: the audit
    /// writes one for every record that joins a group, so no formatting
    /// machinery and no allocation of its own.
    pub fn write_key(self, day: Date, out: &mut String) {
        let (y, m, d) = day.ymd();
        let digits = |out: &mut String, n: u32, width: u32| {
            for i in (0..width).rev() {
                let digit = n / 10u32.pow(i) % 10;
                out.push(char::from(b'0' + digit as u8));
            }
        };
        // (Dates are within years 1..=9999.)
        let y = u32::try_from(y).unwrap_or(0);
        digits(out, y, 4);
        match self {
            Period::Day => {
                out.push('-');
                digits(out, m, 2);
                out.push('-');
                digits(out, d, 2);
            }
            Period::Month => {
                out.push('-');
                digits(out, m, 2);
            }
            Period::Quarter => {
                out.push_str("-Q");
                digits(out, (m - 1) / 3 + 1, 1);
            }
            Period::Year => {}
        }
    }

    /// The length of [`Period::key`]'s text.
    pub fn key_len(self) -> usize {
        match self {
            Period::Day => 10,
            Period::Month | Period::Quarter => 7,
            Period::Year => 4,
        }
    }
}

/// One aggregation over a group's records.
#[derive(Debug, Clone)]
pub struct AggSpec {
    pub op: AggOp,
    /// The field it reads (`sum of amount_usd`); none for `count` and
    /// `first day`.
    pub field: Option<FieldPath>,
    /// `where <condition>`: only the records for which it holds.
    pub filter: Option<Expr>,
    /// `in all records`: also the records outside the clause's dates.
    pub all_records: bool,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggOp {
    Sum,
    Count,
    CountDistinct,
    Min,
    Max,
    /// The field's value on the earliest record (by timestamp).
    First,
    /// The UTC day of the earliest record.
    FirstDay,
}

/// `let name = value`.
#[derive(Debug, Clone)]
pub struct Figure {
    pub id: Ident,
    pub value: Arith,
}

/// A figure's value: arithmetic over aggregations, other figures, group
/// keys, parameters and exact literals.
#[derive(Debug, Clone)]
pub struct Arith {
    pub kind: ArithKind,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum ArithKind {
    /// An exact number (`20%` is `0.20`), a string or a date.
    Lit(Lit),
    /// A name as written; resolved by checking into one of the below.
    Name(String),
    Figure(usize),
    Key(usize),
    Param(String),
    /// An index into [`Aggregate::aggs`].
    Agg(usize),
    /// `running total of figure`: the figure summed over this group and the
    /// earlier periods of the same key, in the same terms.
    Running(usize),
    Add(Box<Arith>, Box<Arith>),
    Sub(Box<Arith>, Box<Arith>),
    Mul(Box<Arith>, Box<Arith>),
    /// A set of values, for `in` (a literal set or a set define).
    Set(Vec<Arith>),
}

/// An exact literal of a figure or group condition.
#[derive(Debug, Clone, PartialEq)]
pub enum Lit {
    Num(rust_decimal::Decimal),
    Str(Arc<str>),
    Date(Date),
    Bool(bool),
}

impl Arith {
    /// Every sub-expression, depth first.
    pub fn walk(&self, f: &mut dyn FnMut(&Arith)) {
        f(self);
        match &self.kind {
            ArithKind::Add(a, b) | ArithKind::Sub(a, b) | ArithKind::Mul(a, b) => {
                a.walk(f);
                b.walk(f);
            }
            ArithKind::Set(items) => items.iter().for_each(|i| i.walk(f)),
            _ => {}
        }
    }

    pub fn walk_mut(&mut self, f: &mut dyn FnMut(&mut Arith)) {
        f(self);
        match &mut self.kind {
            ArithKind::Add(a, b) | ArithKind::Sub(a, b) | ArithKind::Mul(a, b) => {
                a.walk_mut(f);
                b.walk_mut(f);
            }
            ArithKind::Set(items) => items.iter_mut().for_each(|i| i.walk_mut(f)),
            _ => {}
        }
    }
}

/// A condition on a group: the shapes of [`Expr`], over [`Arith`] operands.
#[derive(Debug, Clone)]
pub struct GExpr {
    pub kind: GKind,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum GKind {
    Or(Vec<GExpr>),
    And(Vec<GExpr>),
    Not(Box<GExpr>),
    Compare(Arith, CmpOp, Arith),
    In {
        negated: bool,
        lhs: Arith,
        rhs: Arith,
    },
    Exists(Arith),
    /// A bare operand used as a condition (a boolean parameter).
    Truthy(Arith),
}

impl GExpr {
    /// Every operand, depth first.
    pub fn operands(&self, f: &mut dyn FnMut(&Arith)) {
        match &self.kind {
            GKind::Or(items) | GKind::And(items) => items.iter().for_each(|e| e.operands(f)),
            GKind::Not(e) => e.operands(f),
            GKind::Compare(a, _, b) | GKind::In { lhs: a, rhs: b, .. } => {
                f(a);
                f(b);
            }
            GKind::Exists(a) | GKind::Truthy(a) => f(a),
        }
    }

    pub fn operands_mut(&mut self, f: &mut dyn FnMut(&mut Arith)) {
        match &mut self.kind {
            GKind::Or(items) | GKind::And(items) => {
                items.iter_mut().for_each(|e| e.operands_mut(f))
            }
            GKind::Not(e) => e.operands_mut(f),
            GKind::Compare(a, _, b) | GKind::In { lhs: a, rhs: b, .. } => {
                f(a);
                f(b);
            }
            GKind::Exists(a) | GKind::Truthy(a) => f(a),
        }
    }
}

/// An aggregate clause's example: records, parameters, and the expected
/// outcome of each group named (`expect violation for "2026-03"`); one
/// without `for` is the outcome of every group.
#[derive(Debug, Clone)]
pub struct AggExample {
    pub title: String,
    pub records: Vec<Value>,
    pub params: Vec<(Ident, Lit)>,
    pub expects: Vec<(Expectation, Option<String>, Span)>,
    pub span: Span,
}

impl Aggregate {
    /// The record-level conditions: `over` and every aggregation's `where`.
    pub fn record_exprs(&self) -> impl Iterator<Item = &Expr> {
        self.over
            .iter()
            .chain(self.aggs.iter().filter_map(|a| a.filter.as_ref()))
    }

    pub fn record_exprs_mut(&mut self) -> impl Iterator<Item = &mut Expr> {
        self.over
            .iter_mut()
            .chain(self.aggs.iter_mut().filter_map(|a| a.filter.as_mut()))
    }

    /// The group conditions, in order: `applies to`, the check, `unless`.
    pub fn conditions(&self) -> impl Iterator<Item = &GExpr> {
        self.applies
            .iter()
            .chain(self.check.iter().map(|(e, _)| e))
            .chain(self.unless.iter())
    }

    pub fn conditions_mut(&mut self) -> impl Iterator<Item = &mut GExpr> {
        self.applies
            .iter_mut()
            .chain(self.check.iter_mut().map(|(e, _)| e))
            .chain(self.unless.iter_mut())
    }
}

/// `cite source §2.1 "phrase"`.
#[derive(Debug, Clone)]
pub struct Cite {
    pub source: Ident,
    /// The section or clause number of the source (`§ 2.1`, `§2(a)`,
    /// `section "2.1"`), without the sign.
    pub section: Option<String>,
    pub text: Option<String>,
    pub span: Span,
}

impl Cite {
    /// `§ 2.1`, or nothing.
    pub fn section_label(&self) -> Option<String> {
        self.section.as_ref().map(|s| format!("§ {s}"))
    }
}

#[derive(Debug, Clone)]
pub struct Exception {
    pub id: Ident,
    pub title: Option<String>,
    /// `phrase "…"`: the records it excuses, after "unless" ("it is a
    /// stateful runtime").
    pub phrase: Option<String>,
    pub cites: Vec<Cite>,
    pub when: Option<Expr>,
    pub span: Span,
}

/// A `message` template: literal text and `{field}` holes.
#[derive(Debug, Clone)]
pub struct Message {
    pub parts: Vec<MessagePart>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum MessagePart {
    Text(String),
    Field(FieldPath, Span),
}

/// `example "title" on D { given {…} expect … }`.
#[derive(Debug, Clone)]
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
    /// The operator with its operands swapped (`a < b` is `b > a`).
    pub fn flipped(self) -> CmpOp {
        match self {
            CmpOp::Lt => CmpOp::Gt,
            CmpOp::Le => CmpOp::Ge,
            CmpOp::Gt => CmpOp::Lt,
            CmpOp::Ge => CmpOp::Le,
            other => other,
        }
    }

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

    pub fn is_aggregate(&self) -> bool {
        self.aggregate.is_some()
    }
}
