//! Evaluation: judging a record against a clause on a date.
//!
//! Conditions are three-valued. A field the record does not have is absent
//! and every comparison with it is false; a value the scanner could not know
//! is unknown, and unknowns propagate by Kleene logic (`unknown and false` is
//! false, `unknown or true` is true), so an unknown only matters where it
//! could change the outcome. A clause whose outcome depends on an unknown is
//! `unresolved`, never a guessed pass or fail.
//!
//! Each define is evaluated at most once per judgement ([`Memo`]): defines
//! that each use the previous one twice would otherwise cost 2^n. A set
//! expands each set define it contains once, for the same reason.
//!
//! This tree evaluator serves `check` and `test` (records with unknowns);
//! [`compiled`] is the same semantics compiled for `audit`'s log lines.

pub mod compiled;

use crate::rules::RuleSet;
use crate::rules::ast::*;
use crate::text::glob_match;
use crate::value::{Cidr, FieldPath, Lookup, Record, Unknown, Value};
use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::HashSet;
use std::net::IpAddr;
use std::sync::Arc;

/// A three-valued truth.
#[derive(Debug, Clone)]
pub enum Tri {
    True,
    False,
    Unknown(Arc<Unknown>),
}

impl Tri {
    fn from_bool(b: bool) -> Tri {
        if b { Tri::True } else { Tri::False }
    }

    fn not(self) -> Tri {
        match self {
            Tri::True => Tri::False,
            Tri::False => Tri::True,
            u => u,
        }
    }

    pub fn is_true(&self) -> bool {
        matches!(self, Tri::True)
    }
}

/// The value of an operand.
enum Operand<'a> {
    Absent,
    Unknown(Arc<Unknown>),
    Val(Cow<'a, Value>),
    /// A set literal or set-valued define: its evaluated members.
    Set(Vec<Operand<'a>>),
}

/// What a clause made of a record.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// The clause does not apply (or is manual).
    NotApplicable,
    /// It applies and is satisfied.
    Pass,
    /// It applies, is broken, but a named exception (or `unless`) excuses it.
    Excepted(String),
    Violation,
    /// The outcome depends on a value that cannot be known statically.
    Unresolved(Arc<Unknown>),
}

pub struct Evaluator<'r> {
    pub rules: &'r RuleSet,
}

/// The truth of each define already evaluated on the record being judged,
/// by define index. One per top-level call, so that the evaluator itself
/// stays shareable between threads.
#[derive(Default)]
struct Memo(Vec<Option<Tri>>);

impl Memo {
    fn get(&self, i: usize) -> Option<Tri> {
        self.0.get(i).cloned().flatten()
    }

    fn set(&mut self, i: usize, t: Tri) {
        if self.0.len() <= i {
            self.0.resize(i + 1, None);
        }
        if let Some(slot) = self.0.get_mut(i) {
            *slot = Some(t);
        }
    }
}

impl<'r> Evaluator<'r> {
    pub fn new(rules: &'r RuleSet) -> Evaluator<'r> {
        Evaluator { rules }
    }

    /// Judges `record` against one clause (assumed in force).
    pub fn judge(&self, terms: &Terms, clause: &Clause, record: &dyn Record) -> Outcome {
        let memo = &mut Memo::default();
        let fails = match &clause.check {
            Check::Manual | Check::Aggregate => return Outcome::NotApplicable,
            Check::Require(e) => self.truth_in(e, record, memo).not(),
            Check::Forbid(e) => self.truth_in(e, record, memo),
        };
        let applies = clause
            .applies
            .as_ref()
            .map_or(Tri::True, |e| self.truth_in(e, record, memo));
        if matches!(applies, Tri::False) {
            return Outcome::NotApplicable;
        }
        if matches!(fails, Tri::False) {
            return Outcome::Pass;
        }
        // Which excuse holds, if any; an unknown excuse keeps the outcome open.
        let mut excuse_unknown = None;
        for name in &clause.excepts {
            let Some(exc) = terms.exceptions.iter().find(|x| x.id.name == name.name) else {
                continue;
            };
            match exc
                .when
                .as_ref()
                .map_or(Tri::False, |w| self.truth_in(w, record, memo))
            {
                Tri::True => return Outcome::Excepted(name.name.clone()),
                Tri::Unknown(u) => excuse_unknown = excuse_unknown.or(Some(u)),
                Tri::False => {}
            }
        }
        for cond in &clause.unless {
            match self.truth_in(cond, record, memo) {
                Tri::True => return Outcome::Excepted("unless".to_string()),
                Tri::Unknown(u) => excuse_unknown = excuse_unknown.or(Some(u)),
                Tri::False => {}
            }
        }
        match (applies, fails, excuse_unknown) {
            (Tri::Unknown(u), _, _) | (_, Tri::Unknown(u), _) | (_, _, Some(u)) => {
                Outcome::Unresolved(u)
            }
            _ => Outcome::Violation,
        }
    }

    /// Evaluates a condition.
    pub fn truth(&self, expr: &Expr, record: &dyn Record) -> Tri {
        self.truth_in(expr, record, &mut Memo::default())
    }

    /// The truth of the define at `idx`, evaluated once per judgement.
    fn define_truth(&self, idx: usize, record: &dyn Record, memo: &mut Memo) -> Tri {
        if let Some(t) = memo.get(idx) {
            return t;
        }
        let t = match self.rules.defines.get(idx) {
            Some(d) => self.truth_in(&d.value, record, memo),
            None => Tri::False,
        };
        memo.set(idx, t.clone());
        t
    }

    fn truth_in(&self, expr: &Expr, record: &dyn Record, memo: &mut Memo) -> Tri {
        match &expr.kind {
            ExprKind::Or(items) => {
                let mut unknown = None;
                for e in items {
                    match self.truth_in(e, record, memo) {
                        Tri::True => return Tri::True,
                        Tri::Unknown(u) => unknown = unknown.or(Some(u)),
                        Tri::False => {}
                    }
                }
                unknown.map_or(Tri::False, Tri::Unknown)
            }
            ExprKind::And(items) => {
                let mut unknown = None;
                for e in items {
                    match self.truth_in(e, record, memo) {
                        Tri::False => return Tri::False,
                        Tri::Unknown(u) => unknown = unknown.or(Some(u)),
                        Tri::True => {}
                    }
                }
                unknown.map_or(Tri::True, Tri::Unknown)
            }
            ExprKind::Not(e) => self.truth_in(e, record, memo).not(),
            ExprKind::DefineRef(_, idx) => self.define_truth(*idx, record, memo),
            ExprKind::Exists(e) => match self.operand(e, record, memo) {
                Operand::Absent => Tri::False,
                Operand::Val(v) => Tri::from_bool(!matches!(v.as_ref(), Value::Null)),
                Operand::Unknown(u) => Tri::Unknown(u),
                Operand::Set(_) => Tri::True,
            },
            ExprKind::Compare(a, op, b) => {
                let (a, b) = (self.operand(a, record, memo), self.operand(b, record, memo));
                binary(a, b, |x, y| Tri::from_bool(compare(x, *op, y)))
            }
            ExprKind::In { negated, lhs, rhs } => {
                let lhs = self.operand(lhs, record, memo);
                let rhs = self.operand(rhs, record, memo);
                let result = membership(lhs, rhs);
                if *negated {
                    negate_unless_absent(result)
                } else {
                    result.0
                }
            }
            ExprKind::Matches(lhs, rhs) => {
                let lhs = self.operand(lhs, record, memo);
                let rhs = self.operand(rhs, record, memo);
                any_of(lhs, rhs, |s, pattern| match pattern {
                    Value::Str(p) => Some(glob_match(p, s)),
                    _ => None,
                })
            }
            ExprKind::Regex(lhs, re) => match self.operand(lhs, record, memo) {
                Operand::Absent => Tri::False,
                Operand::Unknown(u) => Tri::Unknown(u),
                Operand::Val(v) => match v.as_ref() {
                    Value::Str(s) => Tri::from_bool(re.is_match(s)),
                    Value::Unknown(u) => Tri::Unknown(u.clone()),
                    Value::Num(_) | Value::Bool(_) | Value::Date(_) => {
                        Tri::from_bool(re.is_match(&v.to_string()))
                    }
                    _ => Tri::False,
                },
                Operand::Set(_) => Tri::False,
            },
            ExprKind::Field(_) | ExprKind::Literal(_) | ExprKind::Set(_) => {
                match self.operand(expr, record, memo) {
                    Operand::Absent => Tri::False,
                    Operand::Unknown(u) => Tri::Unknown(u),
                    Operand::Val(v) => match v.as_ref() {
                        Value::Bool(b) => Tri::from_bool(*b),
                        Value::Null => Tri::False,
                        Value::Unknown(u) => Tri::Unknown(u.clone()),
                        _ => Tri::True,
                    },
                    Operand::Set(items) => Tri::from_bool(!items.is_empty()),
                }
            }
        }
    }

    fn operand<'a>(
        &'a self,
        expr: &'a Expr,
        record: &'a dyn Record,
        memo: &mut Memo,
    ) -> Operand<'a> {
        match &expr.kind {
            ExprKind::Literal(v) => Operand::Val(Cow::Borrowed(v)),
            ExprKind::Field(path) => match record.lookup(path) {
                Lookup::Absent => Operand::Absent,
                Lookup::Unknown(u) => Operand::Unknown(u.clone()),
                Lookup::Known(Value::Unknown(u)) => Operand::Unknown(u.clone()),
                Lookup::Known(Value::Null) => Operand::Absent,
                Lookup::Known(v) => Operand::Val(Cow::Borrowed(v)),
            },
            ExprKind::Set(items) => {
                let mut out = Vec::new();
                for m in self.rules.set_members(items) {
                    out.push(self.operand(m, record, memo));
                }
                Operand::Set(out)
            }
            ExprKind::DefineRef(_, idx) => match self.rules.defines.get(*idx) {
                Some(d)
                    if matches!(
                        d.value.kind,
                        ExprKind::Set(_)
                            | ExprKind::Literal(_)
                            | ExprKind::Field(_)
                            | ExprKind::DefineRef(..)
                    ) =>
                {
                    self.operand(&d.value, record, memo)
                }
                Some(_) => tri_operand(self.define_truth(*idx, record, memo)),
                None => Operand::Absent,
            },
            _ => tri_operand(self.truth_in(expr, record, memo)),
        }
    }

    /// Every field a condition reads, with define references expanded.
    pub fn fields_deep(&self, expr: &Expr) -> Vec<FieldPath> {
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        self.collect_fields(expr, &mut out, &mut seen);
        out
    }

    fn collect_fields(&self, expr: &Expr, out: &mut Vec<FieldPath>, seen: &mut HashSet<usize>) {
        expr.walk(&mut |e| match &e.kind {
            ExprKind::Field(p) if !out.contains(p) => out.push(p.clone()),
            ExprKind::DefineRef(_, idx) if seen.insert(*idx) => {
                if let Some(d) = self.rules.defines.get(*idx) {
                    self.collect_fields(&d.value, out, seen);
                }
            }
            _ => {}
        });
    }
}

fn tri_operand<'a>(t: Tri) -> Operand<'a> {
    match t {
        Tri::True => Operand::Val(Cow::Owned(Value::Bool(true))),
        Tri::False => Operand::Val(Cow::Owned(Value::Bool(false))),
        Tri::Unknown(u) => Operand::Unknown(u),
    }
}

/// Applies a comparison to two operands with the absent/unknown rules.
fn binary(a: Operand<'_>, b: Operand<'_>, f: impl Fn(&Value, &Value) -> Tri) -> Tri {
    match (a, b) {
        (Operand::Absent, _) | (_, Operand::Absent) => Tri::False,
        (Operand::Unknown(u), _) | (_, Operand::Unknown(u)) => Tri::Unknown(u),
        (Operand::Val(x), Operand::Val(y)) => f(&x, &y),
        _ => Tri::False,
    }
}

/// `lhs in rhs`: the truth, and whether the left side was absent (so that
/// `not in` stays false for absent fields, like every comparison).
fn membership(lhs: Operand<'_>, rhs: Operand<'_>) -> (Tri, bool) {
    let lhs = match lhs {
        Operand::Absent => return (Tri::False, true),
        Operand::Unknown(u) => return (Tri::Unknown(u), false),
        Operand::Val(v) => v,
        Operand::Set(_) => return (Tri::False, false),
    };
    let members: Vec<Operand<'_>> = match rhs {
        Operand::Absent => return (Tri::False, true),
        Operand::Unknown(u) => return (Tri::Unknown(u), false),
        Operand::Set(items) => items,
        Operand::Val(v) => match v.as_ref() {
            Value::List(items) => items
                .iter()
                .map(|i| Operand::Val(Cow::Owned(i.clone())))
                .collect(),
            Value::Map(map) => {
                let key = lhs.to_string();
                return (Tri::from_bool(map.contains_key(&key)), false);
            }
            _ => vec![Operand::Val(v)],
        },
    };
    let candidates: Vec<&Value> = match lhs.as_ref() {
        Value::List(items) => items.iter().collect(),
        v => vec![v],
    };
    let mut unknown = None;
    for member in flatten(members) {
        match member {
            Operand::Unknown(u) => unknown = unknown.or(Some(u)),
            Operand::Val(m) if candidates.iter().any(|c| member_matches(c, &m)) => {
                return (Tri::True, false);
            }
            _ => {}
        }
    }
    (unknown.map_or(Tri::False, Tri::Unknown), false)
}

fn negate_unless_absent((t, absent): (Tri, bool)) -> Tri {
    if absent { Tri::False } else { t.not() }
}

fn flatten(items: Vec<Operand<'_>>) -> Vec<Operand<'_>> {
    let mut out = Vec::new();
    for i in items {
        match i {
            Operand::Set(inner) => out.extend(flatten(inner)),
            Operand::Val(v) if matches!(v.as_ref(), Value::Unknown(_)) => {
                if let Value::Unknown(u) = v.as_ref() {
                    out.push(Operand::Unknown(u.clone()));
                }
            }
            other => out.push(other),
        }
    }
    out
}

fn member_matches(candidate: &Value, member: &Value) -> bool {
    match member {
        Value::Cidr(net) => ip_of(candidate).is_some_and(|ip| net.contains(ip)),
        m => compare(candidate, CmpOp::Eq, m),
    }
}

pub(crate) fn ip_of(v: &Value) -> Option<IpAddr> {
    match v {
        Value::Str(s) => s.trim().parse().ok(),
        Value::Cidr(Cidr { addr, prefix })
            if (addr.is_ipv4() && *prefix == 32) || *prefix == 128 =>
        {
            Some(*addr)
        }
        _ => None,
    }
}

/// `any` over a pattern set: true if `test(lhs, pattern)` holds for one.
fn any_of(lhs: Operand<'_>, rhs: Operand<'_>, test: impl Fn(&str, &Value) -> Option<bool>) -> Tri {
    let subject = match lhs {
        Operand::Absent => return Tri::False,
        Operand::Unknown(u) => return Tri::Unknown(u),
        Operand::Val(v) => match v.as_ref() {
            Value::Str(s) => s.to_string(),
            Value::Unknown(u) => return Tri::Unknown(u.clone()),
            Value::Num(_) | Value::Date(_) | Value::Bool(_) | Value::Cidr(_) => v.to_string(),
            _ => return Tri::False,
        },
        Operand::Set(_) => return Tri::False,
    };
    let patterns = match rhs {
        Operand::Set(items) => flatten(items),
        other => flatten(vec![other]),
    };
    let mut unknown = None;
    for p in patterns {
        match p {
            Operand::Val(v) if test(&subject, &v) == Some(true) => return Tri::True,
            Operand::Unknown(u) => unknown = unknown.or(Some(u)),
            _ => {}
        }
    }
    unknown.map_or(Tri::False, Tri::Unknown)
}

/// Compares two known values; values of different types are coerced where
/// logs make that natural (`"200" == 200`, `"2026-03-01" < 2026-04-27`).
pub fn compare(a: &Value, op: CmpOp, b: &Value) -> bool {
    let ord = match (a, b) {
        (Value::Str(x), Value::Str(y)) => Some(x.as_ref().cmp(y.as_ref())),
        (Value::Num(x), Value::Num(y)) => x.partial_cmp(y),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        (Value::Date(x), Value::Date(y)) => Some(x.cmp(y)),
        (Value::Str(s), Value::Num(n)) => {
            s.trim().parse::<f64>().ok().and_then(|x| x.partial_cmp(n))
        }
        (Value::Num(n), Value::Str(s)) => {
            s.trim().parse::<f64>().ok().and_then(|y| n.partial_cmp(&y))
        }
        (Value::Str(s), Value::Bool(b)) => s.parse::<bool>().ok().map(|x| x.cmp(b)),
        (Value::Bool(b), Value::Str(s)) => s.parse::<bool>().ok().map(|y| b.cmp(&y)),
        (Value::Str(s), Value::Date(d)) => date_prefix(s).map(|x| x.cmp(d)),
        (Value::Date(d), Value::Str(s)) => date_prefix(s).map(|y| d.cmp(&y)),
        (Value::Cidr(c), other) | (other, Value::Cidr(c)) => {
            let ip = ip_of(other);
            let same = ip.is_some_and(|ip| c.contains(ip) && (c.prefix == 32 || c.prefix == 128));
            return match op {
                CmpOp::Eq => same,
                CmpOp::Ne => !same,
                _ => false,
            };
        }
        (Value::List(x), Value::List(y)) => return eq_only(op, x == y),
        (Value::Map(x), Value::Map(y)) => return eq_only(op, x == y),
        _ => None,
    };
    ord_holds(ord, op)
}

/// Whether two values ordered `ord` satisfy `op`; `None` (values that do
/// not compare: of different types, or NaN) satisfies only `!=`. The one
/// reading of a comparison operator, which [`compare`] and the compiled
/// evaluator's borrowed comparison share.
#[inline]
pub(crate) fn ord_holds(ord: Option<Ordering>, op: CmpOp) -> bool {
    match ord {
        None => op == CmpOp::Ne,
        Some(o) => match op {
            CmpOp::Eq => o == Ordering::Equal,
            CmpOp::Ne => o != Ordering::Equal,
            CmpOp::Lt => o == Ordering::Less,
            CmpOp::Le => o != Ordering::Greater,
            CmpOp::Gt => o == Ordering::Greater,
            CmpOp::Ge => o != Ordering::Less,
        },
    }
}

fn eq_only(op: CmpOp, equal: bool) -> bool {
    match op {
        CmpOp::Eq => equal,
        CmpOp::Ne => !equal,
        _ => false,
    }
}

fn date_prefix(s: &str) -> Option<crate::date::Date> {
    crate::date::Date::parse(s.get(..10)?).ok()
}

/// Renders a clause's `message` for a record; absent fields print as
/// `(none)`, unknown ones as `(unknown)`.
pub fn render_message(clause: &Clause, record: &dyn Record) -> Option<String> {
    let message = clause.message.as_ref()?;
    let mut out = String::new();
    for part in &message.parts {
        match part {
            MessagePart::Text(t) => out.push_str(t),
            MessagePart::Field(path, _) => match record.lookup(path) {
                Lookup::Absent => out.push_str("(none)"),
                Lookup::Unknown(_) => out.push_str("(unknown)"),
                Lookup::Known(v) => out.push_str(&v.to_string()),
            },
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coercions_used_by_logs() {
        assert!(compare(&Value::str("200"), CmpOp::Eq, &Value::Num(200.0)));
        assert!(compare(&Value::Num(10.0), CmpOp::Gt, &Value::str("9")));
        assert!(!compare(&Value::str("abc"), CmpOp::Eq, &Value::Num(1.0)));
        assert!(compare(&Value::str("abc"), CmpOp::Ne, &Value::Num(1.0)));
    }
}
