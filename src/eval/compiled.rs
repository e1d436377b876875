//! Compiled rules: clauses turned into a form that is cheap per log line.
//!
//! The tree evaluator ([`crate::eval`]) looks fields up by name and works
//! on [`Value`]s, which suits a few hundred Terraform blocks. A log audit
//! judges millions of lines, so here every field path is resolved once to
//! a *slot* (an index into the array a log parser fills), define references
//! are inlined, and sets of literals become hash sets and glob lists. A
//! line's values stay borrowed from the line: nothing is allocated per line.
//!
//! Log records hold no unknown values, so the logic is two-valued; the
//! semantics are otherwise the tree evaluator's (absent fields make every
//! comparison false, strings and numbers coerce as in `compare`). Shapes
//! this compiler has no fast form for are evaluated by the tree evaluator
//! on a record built from the slots (`Fallback`), so that no rule ever
//! means something different in an audit than in `proviso test`; a test
//! runs both evaluators on the same records and compares them.
//!
//! Every define is compiled once ([`C::Define`] shares it, and its `needs`
//! and cost are worked out once when it is compiled): defines that each use
//! the previous one twice are linear here, not 2^n.

use crate::date::{Date, Interval};
use crate::eval::{Evaluator, compare, ord_holds};
use crate::rules::RuleSet;
use crate::rules::ast::{Check, Clause, CmpOp, Expr, ExprKind, Severity, Terms};
use crate::scan::logs::{FieldVal, Slot};
use crate::text::glob_match;
use crate::value::{FieldPath, MapRecord, Value};
use std::collections::{BTreeMap, HashSet};
use std::net::IpAddr;
use std::sync::Arc;

/// A compiled condition.
#[derive(Debug, Clone)]
enum C {
    Const(bool),
    Or(Vec<C>),
    And(Vec<C>),
    Not(Box<C>),
    Exists(usize),
    Truthy(usize),
    Cmp(usize, CmpOp, Value),
    In {
        slot: usize,
        negated: bool,
        strs: HashSet<Arc<str>>,
        others: Vec<Value>,
    },
    Matches(usize, Globs),
    Regex(usize, Arc<regex::Regex>),
    /// Evaluated by the tree evaluator on a record made from the slots.
    Fallback(Expr),
    /// A define used by several conditions, evaluated once per line
    /// (an index into `Compiled::defines` and the line's [`Memo`]).
    Define(usize),
}

/// A line's memo of define results (0: not yet, 1: false, 2: true); reset
/// with [`Compiled::reset_memo`] before each line.
pub type Memo = [std::cell::Cell<u8>];

/// A set of glob patterns sorted by shape, so that the common ones (a
/// literal, `prefix*`, `*suffix`) are a comparison instead of a
/// backtracking match; the rest go through [`glob_match`]. Same answers as
/// `glob_match` on each pattern: `*` matches any bytes, `?` one character.
#[derive(Debug, Default, Clone)]
struct Globs {
    exact: Vec<Box<[u8]>>,
    prefix: Vec<Box<[u8]>>,
    suffix: Vec<Box<[u8]>>,
    other: Vec<Arc<str>>,
}

impl Globs {
    fn new(patterns: Vec<Arc<str>>) -> Globs {
        let mut g = Globs::default();
        for p in patterns {
            let b = p.as_bytes();
            let wild = |c: &u8| *c == b'*' || *c == b'?';
            let tame = |part: &[u8]| !part.iter().any(wild);
            if tame(b) {
                g.exact.push(b.into());
            } else if let Some(head) = b.strip_suffix(b"*")
                && tame(head)
            {
                g.prefix.push(head.into());
            } else if let Some(tail) = b.strip_prefix(b"*")
                && tame(tail)
            {
                g.suffix.push(tail.into());
            } else {
                g.other.push(p);
            }
        }
        g
    }

    fn matches(&self, text: &str) -> bool {
        let t = text.as_bytes();
        self.exact.iter().any(|e| **e == *t)
            || self.prefix.iter().any(|p| t.starts_with(p))
            || self.suffix.iter().any(|p| t.ends_with(p))
            || self.other.iter().any(|p| glob_match(p, text))
    }
}

/// One enforced clause, compiled.
#[derive(Debug)]
pub struct CClause {
    /// Index of the terms in the rule set, and of the clause in its terms.
    pub terms: usize,
    pub clause: usize,
    pub id: String,
    pub terms_id: String,
    pub severity: Severity,
    /// Where the clause is in force (its terms' interval, cut by
    /// supersession, narrowed by its own).
    pub interval: Interval,
    applies: Option<C>,
    check: C,
    forbid: bool,
    excuses: Vec<(String, C)>,
    /// Slots of the fields the check reads (for the finding's label).
    pub check_slots: Vec<usize>,
    /// Slots of the fields `applies to` reads (for "classified by" labels).
    pub applies_slots: Vec<usize>,
    /// The slots (of the first 64) that `applies to` cannot hold without:
    /// when a line lacks one, the clause does not apply, and nothing is
    /// evaluated (see [`Compiled::present`]).
    needs: u64,
}

/// A condition compiled apart from any clause, with what a line must have
/// for it to hold: every slot of `needed`, and (when `any_of` is known)
/// at least one slot of `any_of`.
#[derive(Debug)]
struct Condition {
    c: C,
    needed: Vec<usize>,
    /// The slots it reads, when it is false on a line that has none of
    /// them (no `not`, no fallback: every test of an absent field is
    /// false, and `and`/`or` of such tests too).
    any_of: Option<Vec<usize>>,
}

/// What a clause made of a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineOutcome {
    NotApplicable,
    Pass,
    Excepted(String),
    Violation,
}

/// A rule set compiled for log records.
#[derive(Debug)]
pub struct Compiled<'r> {
    pub rules: &'r RuleSet,
    /// The field path of each slot.
    pub slots: Vec<FieldPath>,
    pub clauses: Vec<CClause>,
    /// Intervals in which some terms are in force (a record outside all of
    /// them is outside the terms).
    pub terms_intervals: Vec<Interval>,
    /// Compiled defines that conditions share (see [`C::Define`]), and the
    /// rule set's define index of each.
    defines: Vec<C>,
    /// `needs` and cost of each shared define, in `defines` order.
    define_needs: Vec<u64>,
    define_cost: Vec<u32>,
    /// The compiled form of each define of the rule set compiled so far
    /// (a shared [`C::Define`] or a cheap node copied where used).
    define_ids: std::collections::HashMap<usize, C>,
    /// Per slot, whether a rule reads it (asked for through
    /// [`Compiled::slot`]), as opposed to being one of the `first_slots`
    /// only the caller reads.
    pub read: Vec<bool>,
    /// The slots some clause needs (the union of their `needs`), which
    /// [`Compiled::present`] looks at.
    guards: Vec<usize>,
    /// Conditions compiled apart from any clause ([`Compiled::condition`]):
    /// an aggregate clause's `over` and its aggregations' `where`, with
    /// the slots each cannot hold without (see [`Compiled::needs`]).
    conds: Vec<Condition>,
}

impl<'r> Compiled<'r> {
    /// Compiles every enforced clause. `first_slots` are given the first
    /// slots in order (the audit reads `timestamp`, `host`, … itself).
    pub fn new(rules: &'r RuleSet, first_slots: &[&str]) -> Compiled<'r> {
        let mut c = Compiled {
            rules,
            slots: first_slots
                .iter()
                .map(|s| FieldPath(vec![s.to_string()]))
                .collect(),
            clauses: Vec::new(),
            terms_intervals: rules
                .terms
                .iter()
                .filter_map(|t| rules.terms_in_force_interval(t))
                .collect(),
            defines: Vec::new(),
            define_needs: Vec::new(),
            define_cost: Vec::new(),
            define_ids: std::collections::HashMap::new(),
            read: vec![false; first_slots.len()],
            guards: Vec::new(),
            conds: Vec::new(),
        };
        let eval = Evaluator::new(rules);
        for (ti, terms) in rules.terms.iter().enumerate() {
            let Some(terms_iv) = rules.terms_in_force_interval(terms) else {
                continue;
            };
            for (ci, clause) in terms.clauses.iter().enumerate() {
                let (check, forbid) = match &clause.check {
                    Check::Manual | Check::Aggregate => continue,
                    Check::Require(e) => (e, false),
                    Check::Forbid(e) => (e, true),
                };
                let Some(interval) = terms_iv.intersect(&clause.interval(terms)) else {
                    continue;
                };
                let applies = clause.applies.as_ref().map(|e| c.cond(e));
                let check_c = c.cond(check);
                let mut excuses = Vec::new();
                for name in &clause.excepts {
                    let when = terms
                        .exceptions
                        .iter()
                        .find(|x| x.id.name == name.name)
                        .and_then(|x| x.when.as_ref());
                    let compiled = match when {
                        Some(w) => c.cond(w),
                        None => C::Const(false),
                    };
                    excuses.push((name.name.clone(), compiled));
                }
                for u in &clause.unless {
                    let compiled = c.cond(u);
                    excuses.push(("unless".to_string(), compiled));
                }
                let check_slots = eval.fields_deep(check).iter().map(|p| c.slot(p)).collect();
                let applies_slots = clause
                    .applies
                    .as_ref()
                    .map(|e| eval.fields_deep(e))
                    .unwrap_or_default()
                    .iter()
                    .map(|p| c.slot(p))
                    .collect();
                let needs = applies.as_ref().map_or(0, |a| c.needs(a));
                c.clauses.push(CClause {
                    terms: ti,
                    clause: ci,
                    id: clause.id.name.clone(),
                    terms_id: terms.id.name.clone(),
                    severity: clause.severity,
                    interval,
                    applies,
                    check: check_c,
                    forbid,
                    excuses,
                    check_slots,
                    applies_slots,
                    needs,
                });
            }
        }
        let all = c.clauses.iter().fold(0u64, |m, cl| m | cl.needs);
        c.guards = (0..64).filter(|i| all >> i & 1 == 1).collect();
        c
    }

    /// The slots (of the first 64) without which `c` cannot be true: as a
    /// comparison, `exists`, `in`, `matches` or truthiness test on an
    /// absent field is false, `a and b` needs what either needs, `a or b`
    /// what both need, and a `not` or a fallback nothing that can be told
    /// beforehand.
    fn needs(&self, c: &C) -> u64 {
        let bit = |s: &usize| if *s < 64 { 1u64 << s } else { 0 };
        match c {
            C::Exists(s) | C::Truthy(s) | C::Cmp(s, ..) | C::Matches(s, _) | C::Regex(s, _) => {
                bit(s)
            }
            C::In { slot, .. } => bit(slot),
            C::And(items) => items.iter().fold(0, |m, i| m | self.needs(i)),
            C::Or(items) => items
                .iter()
                .map(|i| self.needs(i))
                .reduce(|a, b| a & b)
                .unwrap_or(0),
            C::Define(k) => self.define_needs.get(*k).copied().unwrap_or(0),
            C::Const(_) | C::Not(_) | C::Fallback(_) => 0,
        }
    }

    /// Which of the slots clauses need a line has (see [`CClause`]'s
    /// `needs`), one bit per slot: worked out once per line, so that a
    /// clause about, say, tagged resources costs one test on a line
    /// without tags.
    pub fn present(&self, slots: &[Option<Slot<'_>>]) -> u64 {
        self.guards
            .iter()
            .filter(|&&s| value(slots, s).is_some())
            .fold(0, |m, &s| m | 1 << s)
    }

    /// Compiles a condition that is not a clause's (an aggregate clause's
    /// `over`, an aggregation's `where`), for [`Compiled::holds`].
    pub fn condition(&mut self, expr: &'r Expr) -> usize {
        let c = self.cond(expr);
        let needs = self.needs(&c);
        let needed = (0..64).filter(|i| needs >> i & 1 == 1).collect();
        let mut reads = 0u64;
        let any_of = self
            .false_when_absent(&c, &mut reads, 0)
            .then(|| (0..64).filter(|i| reads >> i & 1 == 1).collect());
        self.conds.push(Condition { c, needed, any_of });
        self.conds.len() - 1
    }

    /// Whether the condition [`Compiled::condition`] numbered `id` holds
    /// on a line (with the line's memo). A line without a field the
    /// condition cannot hold without is answered without evaluating it:
    /// `entry exists` on a gateway line is a look at one slot.
    #[inline]
    pub fn holds(&self, id: usize, slots: &[Option<Slot<'_>>], memo: &Memo) -> bool {
        let Some(Condition { c, needed, any_of }) = self.conds.get(id) else {
            return false;
        };
        if needed.iter().any(|&s| value(slots, s).is_none()) {
            return false;
        }
        if let Some(reads) = any_of
            && reads.iter().all(|&s| value(slots, s).is_none())
        {
            return false;
        }
        self.eval(c, slots, memo)
    }

    /// Whether `c` is false on a line that has none of the slots it reads
    /// (noting them in `reads`, all of the first 64).
    fn false_when_absent(&self, c: &C, reads: &mut u64, depth: usize) -> bool {
        let mut slot = |s: usize| {
            if s < 64 {
                *reads |= 1 << s;
                true
            } else {
                false
            }
        };
        match c {
            C::Exists(s) | C::Truthy(s) | C::Cmp(s, ..) | C::Matches(s, _) | C::Regex(s, _) => {
                slot(*s)
            }
            C::In {
                slot: s,
                negated: false,
                ..
            } => slot(*s),
            C::And(items) | C::Or(items) => {
                depth < 32
                    && items
                        .iter()
                        .all(|i| self.false_when_absent(i, reads, depth + 1))
            }
            C::Define(k) => {
                depth < 32
                    && self
                        .defines
                        .get(*k)
                        .is_some_and(|d| self.false_when_absent(d, reads, depth + 1))
            }
            C::Const(b) => !b,
            C::In { negated: true, .. } | C::Not(_) | C::Fallback(_) => false,
        }
    }

    /// The slot of a field path, adding it if new.
    pub fn slot(&mut self, path: &FieldPath) -> usize {
        let i = match self.slots.iter().position(|p| p == path) {
            Some(i) => i,
            None => {
                self.slots.push(path.clone());
                self.slots.len() - 1
            }
        };
        if self.read.len() <= i {
            self.read.resize(i + 1, false);
        }
        if let Some(r) = self.read.get_mut(i) {
            *r = true;
        }
        i
    }

    /// The terms and the clause of the rule set that `c`, one of
    /// [`Compiled::clauses`], was compiled from.
    pub fn source(&self, c: &CClause) -> (&'r Terms, &'r Clause) {
        // INVARIANT: `new` made each of `clauses` from `self.rules`, at the
        // indices it records.
        #[expect(clippy::indexing_slicing, reason = "see the INVARIANT above")]
        let terms = &self.rules.terms[c.terms];
        #[expect(clippy::indexing_slicing, reason = "see the INVARIANT above")]
        let clause = &terms.clauses[c.clause];
        (terms, clause)
    }

    /// The slot of a one-word field, if the rules or the audit read it.
    pub fn slot_of(&self, name: &str) -> Option<usize> {
        self.slots
            .iter()
            .position(|p| p.0.len() == 1 && p.0.first().is_some_and(|s| s == name))
    }

    /// Whether any terms are in force on `date`.
    pub fn in_terms(&self, date: Date) -> bool {
        self.terms_intervals.iter().any(|iv| iv.contains(date))
    }

    /// Judges a line against one clause (assumed in force).
    pub fn judge(&self, clause: &CClause, slots: &[Option<Slot<'_>>]) -> LineOutcome {
        self.judge_memo(clause, slots, &self.new_memo(), self.present(slots))
    }

    /// A memo for [`Compiled::judge_memo`], one per worker.
    pub fn new_memo(&self) -> Vec<std::cell::Cell<u8>> {
        vec![std::cell::Cell::new(0); self.defines.len()]
    }

    /// Forgets the define results of the previous line.
    pub fn reset_memo(memo: &Memo) {
        memo.iter().for_each(|m| m.set(0));
    }

    /// [`Compiled::judge`] with the line's memo, so that a define shared by
    /// several clauses is evaluated once per line, not once per clause, and
    /// the line's [`Compiled::present`] slots.
    #[inline(always)]
    pub fn judge_memo(
        &self,
        clause: &CClause,
        slots: &[Option<Slot<'_>>],
        memo: &Memo,
        present: u64,
    ) -> LineOutcome {
        if clause.needs & !present != 0 {
            return LineOutcome::NotApplicable;
        }
        if let Some(a) = &clause.applies
            && !self.eval(a, slots, memo)
        {
            return LineOutcome::NotApplicable;
        }
        let holds = self.eval(&clause.check, slots, memo);
        if holds == clause.forbid {
            for (name, excuse) in &clause.excuses {
                if self.eval(excuse, slots, memo) {
                    return LineOutcome::Excepted(name.clone());
                }
            }
            LineOutcome::Violation
        } else {
            LineOutcome::Pass
        }
    }

    fn define(&self, expr: &'r Expr) -> &'r Expr {
        let mut e = expr;
        for _ in 0..64 {
            match &e.kind {
                ExprKind::DefineRef(_, i) => match self.rules.defines.get(*i) {
                    Some(d) => e = &d.value,
                    None => break,
                },
                _ => break,
            }
        }
        e
    }

    fn field_slot(&mut self, expr: &'r Expr) -> Option<usize> {
        match &self.define(expr).kind {
            ExprKind::Field(p) => Some(self.slot(p)),
            _ => None,
        }
    }

    /// The literal members of a set expression (sets and set defines
    /// flattened), or `None` if a member is not a literal.
    fn literals(&self, expr: &'r Expr, out: &mut Vec<Value>) -> Option<()> {
        self.literals_once(expr, out, &mut HashSet::new())
    }

    /// [`Compiled::literals`], each define flattened in once (`seen`).
    fn literals_once(
        &self,
        expr: &'r Expr,
        out: &mut Vec<Value>,
        seen: &mut HashSet<usize>,
    ) -> Option<()> {
        if let ExprKind::DefineRef(_, i) = &expr.kind
            && !seen.insert(*i)
        {
            return Some(());
        }
        match &self.define(expr).kind {
            ExprKind::Literal(v) => out.push(v.clone()),
            ExprKind::Set(items) => {
                for i in items {
                    self.literals_once(i, out, seen)?;
                }
            }
            _ => return None,
        }
        Some(())
    }

    fn fallback(&mut self, expr: &'r Expr) -> C {
        for p in Evaluator::new(self.rules).fields_deep(expr) {
            self.slot(&p);
        }
        C::Fallback(expr.clone())
    }

    fn cond(&mut self, expr: &'r Expr) -> C {
        if let ExprKind::DefineRef(_, i) = &expr.kind
            && let Some(d) = self.rules.defines.get(*i)
        {
            if let Some(c) = self.define_ids.get(i) {
                return c.clone();
            }
            let c = self.cond(&d.value);
            let c = match c {
                // Cheap, or already shared: no memo needed.
                C::Const(_) | C::Exists(_) | C::Truthy(_) | C::Cmp(..) | C::Define(_) => c,
                c => {
                    let (needs, cost) = (self.needs(&c), self.cost(&c));
                    self.defines.push(c);
                    self.define_needs.push(needs);
                    self.define_cost.push(cost);
                    C::Define(self.defines.len() - 1)
                }
            };
            self.define_ids.insert(*i, c.clone());
            return c;
        }
        let expr = self.define(expr);
        match &expr.kind {
            ExprKind::Or(items) => {
                let items = items.iter().map(|e| self.cond(e)).collect();
                C::Or(self.by_cost(items))
            }
            ExprKind::And(items) => {
                let items = items.iter().map(|e| self.cond(e)).collect();
                C::And(self.by_cost(items))
            }
            ExprKind::Not(e) => C::Not(Box::new(self.cond(e))),
            ExprKind::Exists(e) => match self.field_slot(e) {
                Some(s) => C::Exists(s),
                None => self.fallback(expr),
            },
            ExprKind::Field(p) => C::Truthy(self.slot(p)),
            ExprKind::Literal(v) => C::Const(match v {
                Value::Bool(b) => *b,
                Value::Null => false,
                _ => true,
            }),
            ExprKind::Set(items) => C::Const(!items.is_empty()),
            ExprKind::Compare(a, op, b) => {
                let (a, b) = (self.define(a), self.define(b));
                match (&a.kind, &b.kind) {
                    (ExprKind::Field(p), ExprKind::Literal(v)) if !matches!(v, Value::Null) => {
                        C::Cmp(self.slot(p), *op, v.clone())
                    }
                    (ExprKind::Literal(v), ExprKind::Field(p)) if !matches!(v, Value::Null) => {
                        C::Cmp(self.slot(p), op.flipped(), v.clone())
                    }
                    _ => self.fallback(expr),
                }
            }
            ExprKind::In { negated, lhs, rhs } => {
                let mut members = Vec::new();
                match (self.field_slot(lhs), self.literals(rhs, &mut members)) {
                    (Some(slot), Some(()))
                        if !members
                            .iter()
                            .any(|m| matches!(m, Value::List(_) | Value::Map(_) | Value::Null)) =>
                    {
                        let mut strs = HashSet::new();
                        let mut others = Vec::new();
                        for m in members {
                            match m {
                                Value::Str(s) => {
                                    strs.insert(s);
                                }
                                other => others.push(other),
                            }
                        }
                        C::In {
                            slot,
                            negated: *negated,
                            strs,
                            others,
                        }
                    }
                    _ => self.fallback(expr),
                }
            }
            ExprKind::Matches(lhs, rhs) => {
                let mut members = Vec::new();
                match (self.field_slot(lhs), self.literals(rhs, &mut members)) {
                    (Some(slot), Some(())) => C::Matches(
                        slot,
                        Globs::new(
                            members
                                .into_iter()
                                .filter_map(|m| match m {
                                    Value::Str(s) => Some(s),
                                    _ => None,
                                })
                                .collect(),
                        ),
                    ),
                    _ => self.fallback(expr),
                }
            }
            ExprKind::Regex(lhs, re) => match self.field_slot(lhs) {
                Some(slot) => C::Regex(slot, re.clone()),
                None => self.fallback(expr),
            },
            ExprKind::DefineRef(..) => self.fallback(expr),
        }
    }

    fn eval(&self, c: &C, slots: &[Option<Slot<'_>>], memo: &Memo) -> bool {
        let get = |i: usize| value(slots, i);
        match c {
            C::Const(b) => *b,
            C::Or(items) => items.iter().any(|i| self.eval(i, slots, memo)),
            C::And(items) => items.iter().all(|i| self.eval(i, slots, memo)),
            C::Not(i) => !self.eval(i, slots, memo),
            C::Define(k) => match memo.get(*k).map(std::cell::Cell::get) {
                Some(1) => false,
                Some(2) => true,
                _ => {
                    let v = self
                        .defines
                        .get(*k)
                        .is_some_and(|d| self.eval(d, slots, memo));
                    if let Some(m) = memo.get(*k) {
                        m.set(1 + u8::from(v));
                    }
                    v
                }
            },
            C::Exists(s) => get(*s).is_some(),
            C::Truthy(s) => match get(*s) {
                None => false,
                Some(FieldVal::Bool(b)) => *b,
                Some(_) => true,
            },
            C::Cmp(s, op, lit) => get(*s).is_some_and(|v| cmp(v, *op, lit)),
            C::In {
                slot,
                negated,
                strs,
                others,
            } => match get(*slot) {
                None => false,
                Some(v) => member(v, strs, others) != *negated,
            },
            C::Matches(s, pats) => match get(*s) {
                None => false,
                Some(FieldVal::Str(text)) => pats.matches(text),
                Some(v @ (FieldVal::Num(_) | FieldVal::Bool(_))) => pats.matches(&v.to_string()),
                Some(_) => false,
            },
            C::Regex(s, re) => match get(*s) {
                None => false,
                Some(FieldVal::Str(text)) => re.is_match(text),
                Some(v @ (FieldVal::Num(_) | FieldVal::Bool(_))) => re.is_match(&v.to_string()),
                Some(_) => false,
            },
            C::Fallback(expr) => {
                let record = self.record(slots);
                Evaluator::new(self.rules).truth(expr, &record).is_true()
            }
        }
    }

    /// A rough cost of evaluating a condition on a line.
    fn cost(&self, c: &C) -> u32 {
        match c {
            C::Const(_) | C::Exists(_) | C::Truthy(_) => 1,
            C::Cmp(..) => 2,
            C::In { .. } => 3,
            C::Matches(..) => 4,
            C::Regex(..) => 8,
            C::Not(i) => self.cost(i),
            C::Or(items) | C::And(items) => items
                .iter()
                .fold(0u32, |sum, i| sum.saturating_add(self.cost(i))),
            C::Define(k) => self.define_cost.get(*k).copied().unwrap_or(1),
            C::Fallback(_) => 100,
        }
    }

    /// Orders the operands of `and`/`or` cheapest first. The compiled
    /// logic is two-valued and has no effects, so the order changes no
    /// answer, only how soon a cheap `field exists` cuts a glob match short.
    fn by_cost(&self, mut items: Vec<C>) -> Vec<C> {
        items.sort_by_key(|c| self.cost(c));
        items
    }

    /// The slots as a plain record (allocates: for the fallback, messages
    /// and `--findings`, never per line in the common case).
    pub fn record(&self, slots: &[Option<Slot<'_>>]) -> MapRecord {
        let mut fields: BTreeMap<String, Value> = BTreeMap::new();
        for (path, slot) in self.slots.iter().zip(slots) {
            let Some(slot) = slot else { continue };
            insert_path(&mut fields, &path.0, slot.val.to_value());
        }
        MapRecord { fields }
    }
}

/// Slot `i`'s value on a line; a JSON `null` counts as absent.
#[inline(always)]
fn value<'s, 'a>(slots: &'s [Option<Slot<'a>>], i: usize) -> Option<&'s FieldVal<'a>> {
    match slots.get(i).and_then(Option::as_ref) {
        Some(Slot {
            val: FieldVal::Null,
            ..
        })
        | None => None,
        Some(s) => Some(&s.val),
    }
}

fn insert_path(map: &mut BTreeMap<String, Value>, path: &[String], v: Value) {
    match path {
        [] => {}
        [last] => {
            map.insert(last.clone(), v);
        }
        [first, rest @ ..] => {
            let entry = map
                .entry(first.clone())
                .or_insert_with(|| Value::Map(BTreeMap::new()));
            if let Value::Map(inner) = entry {
                insert_path(inner, rest, v);
            }
        }
    }
}

/// `compare` on a borrowed line value: the common string and number cases
/// without allocating, the rest through the tree evaluator's `compare`.
fn cmp(v: &FieldVal<'_>, op: CmpOp, lit: &Value) -> bool {
    match (v, lit) {
        (FieldVal::Str(s), Value::Str(l)) => ord_holds(Some(s.as_ref().cmp(l.as_ref())), op),
        (FieldVal::Num(n), Value::Num(m)) => ord_holds(n.partial_cmp(m), op),
        (FieldVal::Str(s), Value::Num(m)) => ord_holds(
            s.trim().parse::<f64>().ok().and_then(|x| x.partial_cmp(m)),
            op,
        ),
        _ => compare(&v.to_value(), op, lit),
    }
}

fn member(v: &FieldVal<'_>, strs: &HashSet<Arc<str>>, others: &[Value]) -> bool {
    match v {
        FieldVal::Str(s) => {
            strs.contains(s.as_ref())
                || others.iter().any(|m| match m {
                    Value::Cidr(net) => s.trim().parse::<IpAddr>().is_ok_and(|ip| net.contains(ip)),
                    m => cmp(v, CmpOp::Eq, m),
                })
        }
        _ => {
            let value = v.to_value();
            let candidates: Vec<&Value> = match &value {
                Value::List(items) => items.iter().collect(),
                one => vec![one],
            };
            let members: Vec<Value> = strs
                .iter()
                .map(|s| Value::Str(s.clone()))
                .chain(others.iter().cloned())
                .collect();
            candidates.iter().any(|c| {
                members.iter().any(|m| match m {
                    Value::Cidr(net) => match c {
                        Value::Str(s) => {
                            s.trim().parse::<IpAddr>().is_ok_and(|ip| net.contains(ip))
                        }
                        _ => false,
                    },
                    m => compare(c, CmpOp::Eq, m),
                })
            })
        }
    }
}
