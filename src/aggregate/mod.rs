//! Aggregate clauses: terms over many records (the revenue share per
//! month, first-ship per product).
//!
//! An aggregate clause groups the records that pass its `over` condition
//! by its `per` key (record fields and/or a UTC calendar period), keeps a
//! few accumulators per group (sums, counts, the earliest record, …),
//! computes the clause's figures from them, and judges each group by its
//! group conditions in three-valued logic.
//!
//! The design follows the audit's streaming promise:
//!
//! - **Per-group state only.** A group's state is its accumulators
//!   ([`AccState`]) and a capped list of evidence (file:line of the records
//!   that decided it); records are never kept. Memory is O(groups).
//! - **Merged in input order.** A worker fills a [`State`] for its piece of
//!   input; the collector merges the pieces' states in file order
//!   ([`State::merge`]). Every merge is order-aware where order matters (an
//!   earliest record ties to the one read first, evidence keeps the first
//!   lines), so the result does not depend on the number of threads or the
//!   size of the pieces.
//! - **Terms in force per record.** A clause belongs to one terms version;
//!   a record joins its groups' ordinary aggregations only when the clause
//!   is in force on the record's UTC day, so a month that a change of terms
//!   cuts in two is two groups, one per clause version. Aggregations marked
//!   `in all records` also see the records dated outside the clause (the
//!   first request of a product ever seen).
//! - **Callers evaluate records.** What a record contributes (does it pass
//!   `over`, each aggregation's `where`, what are its key and values) is
//!   worked out by the caller with its own evaluator, the audit's compiled
//!   one or the tree evaluator of `proviso test`, as a [`Contribution`].
//!
//! A group is judged when at least one record joined it while the clause
//! was in force; [`finish`] computes its figures (running totals in period
//! order within the same non-period key) and its [`GroupOutcome`].

pub mod records;
pub mod value;

use crate::date::Interval;
use crate::rules::RuleSet;
use crate::rules::ast::{
    AggOp, Aggregate, Arith, ArithKind, Clause, GExpr, GKind, GroupKey, Lit, MessagePart, Severity,
    Terms,
};
use crate::scan::logs::Millis;
use rust_decimal::Decimal;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
pub use value::{FVal, Scalar, Truth, show_decimal};

/// Records named as evidence per aggregation (the first ones read).
pub const EVIDENCE_CAP: usize = 10;
/// Malformed records listed per group as left out (all are counted).
pub const LEFT_OUT_CAP: usize = 10;
/// Distinct values kept per `count of distinct`; beyond it the count is
/// a floor and the figure is unknown.
pub const DISTINCT_CAP: usize = 100_000;
/// Groups kept per clause. A record that would open a group beyond it is
/// not judged and is counted ([`State::dropped`]), so that an input with a
/// new key on every line (a `per` over a unique id) cannot grow the audit
/// without bound.
pub const MAX_GROUPS: usize = 1_000_000;
/// The longest group key kept, in bytes (all its parts). A record whose
/// key is longer is not judged and is counted ([`State::long_keys`]): a
/// million groups of megabyte keys would otherwise hold the input.
pub const MAX_KEY_BYTES: usize = 1024;
/// Characters of a record's text kept for the evidence shown.
const EVIDENCE_TEXT: usize = 400;

/// A record named as evidence: its input (an index the caller gives) and
/// line, and for the first record of each aggregation its text, for a
/// diagnostic on the line.
#[derive(Debug, Clone, PartialEq)]
pub struct Evidence {
    pub file: u32,
    pub line: u64,
    pub text: Option<Arc<str>>,
}

/// The aggregate clauses of a rule set, in rule-file order.
#[derive(Debug)]
pub struct Plan<'r> {
    pub rules: &'r RuleSet,
    pub clauses: Vec<AggClause<'r>>,
    /// The parameters' values (the rule set's, or an example's `with`).
    pub params: HashMap<String, Lit>,
    /// Groups kept per clause ([`MAX_GROUPS`] unless a test says).
    pub max_groups: usize,
}

/// One aggregate clause, with where it is in force.
#[derive(Debug)]
pub struct AggClause<'r> {
    pub terms: &'r Terms,
    pub clause: &'r Clause,
    pub agg: &'r Aggregate,
    /// Its terms' interval (cut by supersession), narrowed by its own.
    pub interval: Interval,
    /// Whether an aggregation reads `in all records`: then records dated
    /// outside the interval join its groups too.
    pub reads_all: bool,
}

impl<'r> Plan<'r> {
    pub fn new(rules: &'r RuleSet) -> Plan<'r> {
        let mut clauses = Vec::new();
        for terms in &rules.terms {
            let Some(terms_iv) = rules.terms_in_force_interval(terms) else {
                continue;
            };
            for clause in &terms.clauses {
                let Some(agg) = clause.aggregate.as_deref() else {
                    continue;
                };
                let Some(interval) = terms_iv.intersect(&clause.interval(terms)) else {
                    continue;
                };
                clauses.push(AggClause {
                    terms,
                    clause,
                    agg,
                    interval,
                    reads_all: agg.aggs.iter().any(|a| a.all_records),
                });
            }
        }
        Plan {
            rules,
            clauses,
            params: rules.param_values.clone(),
            max_groups: MAX_GROUPS,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.clauses.is_empty()
    }

    /// An empty state, one slot per clause.
    pub fn new_state(&self) -> State {
        State {
            clauses: self
                .clauses
                .iter()
                .map(|_| hashbrown::HashMap::new())
                .collect(),
            dropped: vec![0; self.clauses.len()],
            long_keys: vec![0; self.clauses.len()],
            opened: 0,
        }
    }
}

/// What one aggregation makes of one record.
#[derive(Debug, Clone)]
pub enum AccIn {
    /// Its `where` does not hold (or the record is outside its scope).
    Skip,
    /// It holds, and the field it reads is this (none for `count`, `first
    /// day`, or an absent field).
    Val(Option<Scalar>),
    /// Whether it holds, or the field's value, cannot be known.
    Unknown(Arc<str>),
}

/// What one record brings to one clause's group (the form the tree
/// evaluator's feeding builds; the audit feeds [`GroupState`]s directly).
#[derive(Debug, Clone)]
pub struct Contribution {
    /// The index of the clause in [`Plan::clauses`].
    pub clause: usize,
    /// The values of the `per` fields, in order.
    pub key: Vec<Box<str>>,
    pub ts: Millis,
    /// Whether the clause is in force on the record's day.
    pub in_force: bool,
    /// Per aggregation of the clause, in order.
    pub accs: Vec<AccIn>,
}

/// A record's value for an aggregation, borrowed from the record: turned
/// into an owned [`Scalar`] only when the aggregation keeps it.
#[derive(Debug, Clone, Copy)]
pub enum ValRef<'a> {
    Text(&'a str),
    Scalar(&'a Scalar),
}

impl ValRef<'_> {
    fn decimal(self) -> Option<Decimal> {
        match self {
            ValRef::Text(t) => Decimal::from_str_exact(t.trim()).ok(),
            ValRef::Scalar(Scalar::Num(n)) => Some(*n),
            ValRef::Scalar(_) => None,
        }
    }

    fn owned(self, op: AggOp) -> Scalar {
        match self {
            ValRef::Text(t) if op == AggOp::First || op == AggOp::CountDistinct => {
                Scalar::Text(t.into())
            }
            ValRef::Text(t) => Scalar::read(t),
            ValRef::Scalar(s) => s.clone(),
        }
    }

    /// The text `count of distinct` tells values apart by.
    fn distinct_text(self) -> std::borrow::Cow<'static, str> {
        match self {
            ValRef::Text(t) => std::borrow::Cow::Owned(t.to_string()),
            ValRef::Scalar(s) => std::borrow::Cow::Owned(scalar_text(s)),
        }
    }
}

/// One aggregation's running state in one group. One shape serves every
/// operation; each uses the fields it needs.
#[derive(Debug, Clone, Default)]
pub struct AccState {
    /// Records counted (`count`), or summed.
    pub n: u64,
    pub sum: Decimal,
    pub overflow: bool,
    /// `min`, `max`, `first`, `first day`: the best record so far, with
    /// its timestamp.
    pub best: Option<(Millis, Option<Scalar>)>,
    pub distinct: BTreeSet<Box<str>>,
    pub distinct_capped: bool,
    /// A value of a summed field that is not a number (`sum of` reads
    /// decimals): then the sum is unknown.
    pub not_numbers: u64,
    pub unknown: Option<Arc<str>>,
    pub evidence: Vec<Evidence>,
}

impl AccState {
    /// Adds one record (dated `ts`, its value `value`) to the aggregation;
    /// `evidence` is asked for only when the record is kept as evidence.
    pub fn feed(
        &mut self,
        op: AggOp,
        ts: Millis,
        value: Option<ValRef<'_>>,
        evidence: &mut dyn FnMut() -> Evidence,
    ) {
        match op {
            AggOp::Count => {
                self.n += 1;
                self.keep_listed(evidence);
            }
            AggOp::Sum => {
                let Some(v) = value else { return };
                match v.decimal() {
                    Some(d) => {
                        self.n += 1;
                        match self.sum.checked_add(d) {
                            Some(s) => self.sum = s,
                            None => self.overflow = true,
                        }
                        self.keep_listed(evidence);
                    }
                    None => self.not_numbers += 1,
                }
            }
            AggOp::CountDistinct => {
                let Some(v) = value else { return };
                let present = match v {
                    ValRef::Text(t) => self.distinct.contains(t),
                    ValRef::Scalar(s) => self.distinct.contains(scalar_text(s).as_str()),
                };
                if present {
                    return;
                }
                if self.distinct.len() < DISTINCT_CAP {
                    self.distinct
                        .insert(v.distinct_text().into_owned().into_boxed_str());
                } else {
                    self.distinct_capped = true;
                }
            }
            AggOp::Min | AggOp::Max => {
                let Some(v) = value else { return };
                let v = v.owned(op);
                let better = match &self.best {
                    Some((_, Some(b))) => {
                        if op == AggOp::Min {
                            v < *b
                        } else {
                            v > *b
                        }
                    }
                    _ => true,
                };
                if better {
                    self.best = Some((ts, Some(v)));
                    self.keep_one(evidence);
                }
            }
            AggOp::First | AggOp::FirstDay => {
                if op == AggOp::First && value.is_none() {
                    return;
                }
                // Strictly earlier: a tie keeps the record read first.
                if self.earlier(ts) {
                    self.best = Some((ts, value.map(|v| v.owned(op))));
                    self.keep_one(evidence);
                }
            }
        }
    }

    /// Whether a record dated `ts` would be earlier than the one an
    /// earliest-record aggregation (`first`, `first day`) keeps.
    #[inline]
    pub fn earlier(&self, ts: Millis) -> bool {
        self.best.as_ref().is_none_or(|(t, _)| ts < *t)
    }

    /// Keeps the record among the first [`EVIDENCE_CAP`] (with its text if
    /// it is the first).
    fn keep_listed(&mut self, evidence: &mut dyn FnMut() -> Evidence) {
        if self.evidence.len() < EVIDENCE_CAP {
            let mut e = evidence();
            if !self.evidence.is_empty() {
                e.text = None;
            }
            self.evidence.push(e);
        }
    }

    /// The record is now the one that decides the aggregation.
    fn keep_one(&mut self, evidence: &mut dyn FnMut() -> Evidence) {
        self.evidence.clear();
        self.evidence.push(evidence());
    }
}

/// One group's state.
#[derive(Debug, Clone, Default)]
pub struct GroupState {
    /// Records that joined it while the clause was in force.
    pub in_force: u64,
    /// Records that joined it at all (in force or for `in all records`).
    pub records: u64,
    /// Earliest and latest timestamp of the records in force.
    pub first_seen: Option<Millis>,
    pub last_seen: Option<Millis>,
    pub accs: Vec<AccState>,
    /// Malformed records that would have joined it (counted; the first
    /// [`LEFT_OUT_CAP`] listed).
    pub left_out: u64,
    pub left_out_lines: Vec<Evidence>,
    /// For a clause whose aggregations all keep an earliest record
    /// (`first`, `first day`): the latest of the timestamps they keep,
    /// once each keeps one. A record dated at or after it changes none of
    /// them, and is not looked at further (see [`GroupState::settled`]).
    pub settled_at: Option<Millis>,
    /// When the group was opened, in input order within the state that
    /// opened it: merges admit new groups in this order, so that at the
    /// cap the groups kept are the first ones of the input, whatever its
    /// cut.
    opened: u64,
}

impl GroupState {
    /// Whether a record dated `ts` can change none of the group's
    /// aggregations (all earliest-record ones, each already holding a
    /// record no later than `ts`).
    #[inline]
    pub fn settled(&self, ts: Millis) -> bool {
        self.settled_at.is_some_and(|t| ts >= t)
    }

    /// Works out [`GroupState::settled_at`] again after a record was fed
    /// (only for clauses whose aggregations are all earliest-record ones).
    pub fn settle(&mut self) {
        let mut latest = i64::MIN;
        for a in &self.accs {
            match &a.best {
                Some((t, _)) => latest = latest.max(*t),
                None => {
                    self.settled_at = None;
                    return;
                }
            }
        }
        self.settled_at = Some(latest);
    }

    /// Notes that a record dated `ts` joined the group.
    pub fn joined(&mut self, ts: Millis, in_force: bool) {
        self.records += 1;
        if in_force {
            self.in_force += 1;
            self.first_seen = Some(self.first_seen.map_or(ts, |t| t.min(ts)));
            self.last_seen = Some(self.last_seen.map_or(ts, |t| t.max(ts)));
        }
    }
}

/// Every clause's groups, by encoded key (see [`KeyBuf`]).
#[derive(Debug, Clone, Default)]
pub struct State {
    /// (hashbrown's map: a record's group is found with one hash of its
    /// borrowed key, and a new one inserted without hashing again.)
    pub clauses: Vec<hashbrown::HashMap<String, GroupState>>,
    /// Per clause: records not judged because they would have opened a
    /// group beyond the cap ([`MAX_GROUPS`]).
    pub dropped: Vec<u64>,
    /// Per clause: records not judged because their key is longer than
    /// [`MAX_KEY_BYTES`].
    pub long_keys: Vec<u64>,
    /// Groups opened so far (for [`GroupState`]'s order).
    opened: u64,
}

/// A group's key, encoded into one reused string: each part as its
/// length, `:`, and its text, so that no value can be mistaken for two
/// (`a:b` + `c` is not `a` + `b:c`), and a record's group is looked up
/// without an allocation.
#[derive(Debug, Default)]
pub struct KeyBuf(String);

impl KeyBuf {
    /// Starts the key of a record dated `ts` of clause `agg`, the values of
    /// its `per` fields given by `field` (in order; `None` if absent: then
    /// the record joins no group).
    pub fn build<'v>(
        &mut self,
        agg: &Aggregate,
        ts: Millis,
        mut field: impl FnMut(usize) -> Option<std::borrow::Cow<'v, str>>,
    ) -> bool {
        self.0.clear();
        let mut fields = 0;
        for k in &agg.per {
            match k {
                GroupKey::Field(..) => {
                    let Some(v) = field(fields) else { return false };
                    fields += 1;
                    push_len(&mut self.0, v.len());
                    self.0.push_str(&v);
                }
                GroupKey::Period(p, _) => {
                    push_len(&mut self.0, p.key_len());
                    p.write_key(value::day_of(ts), &mut self.0);
                }
            }
        }
        true
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Writes a length and `:` (the prefix of a key part).
fn push_len(out: &mut String, n: usize) {
    // (Nearly every key part is shorter than 100 bytes.)
    if n < 10 {
        out.push(char::from(b'0' + n as u8));
        out.push(':');
        return;
    }
    if n < 100 {
        out.push(char::from(b'0' + (n / 10) as u8));
        out.push(char::from(b'0' + (n % 10) as u8));
        out.push(':');
        return;
    }
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    let mut n = n;
    loop {
        i -= 1;
        if let Some(b) = buf.get_mut(i) {
            *b = b'0' + (n % 10) as u8;
        }
        n /= 10;
        if n == 0 || i == 0 {
            break;
        }
    }
    for &b in buf.get(i..).unwrap_or_default() {
        out.push(char::from(b));
    }
    out.push(':');
}

/// The parts of an encoded key.
fn decode_key(key: &str) -> Vec<Box<str>> {
    let mut out = Vec::new();
    let mut rest = key;
    while let Some((len, tail)) = rest.split_once(':') {
        // (The encoder wrote `len` bytes of text, so `len` ends on a
        // character boundary.)
        let n: usize = len.parse().unwrap_or(tail.len());
        let (Some(part), Some(next)) = (tail.get(..n), tail.get(n..)) else {
            out.push(tail.into());
            break;
        };
        out.push(part.into());
        rest = next;
    }
    out
}

impl State {
    /// The group of clause `clause` with key `key`, opened if new; `None`
    /// (and the record counted as dropped) when the clause already has as
    /// many groups as the plan keeps.
    pub fn group(
        &mut self,
        plan: &Plan<'_>,
        clause: usize,
        key: &KeyBuf,
    ) -> Option<&mut GroupState> {
        let naggs = plan.clauses.get(clause)?.agg.aggs.len();
        if key.as_str().len() > MAX_KEY_BYTES {
            if let Some(n) = self.long_keys.get_mut(clause) {
                *n += 1;
            }
            return None;
        }
        let groups = self.clauses.get_mut(clause)?;
        let full = groups.len() >= plan.max_groups;
        match groups.entry_ref(key.as_str()) {
            hashbrown::hash_map::EntryRef::Occupied(g) => Some(g.into_mut()),
            hashbrown::hash_map::EntryRef::Vacant(_) if full => {
                if let Some(d) = self.dropped.get_mut(clause) {
                    *d += 1;
                }
                None
            }
            hashbrown::hash_map::EntryRef::Vacant(v) => {
                self.opened += 1;
                Some(v.insert(GroupState {
                    accs: vec![AccState::default(); naggs],
                    opened: self.opened,
                    ..Default::default()
                }))
            }
        }
    }

    /// Adds a record's contribution; `evidence` says where it is.
    pub fn add(&mut self, plan: &Plan<'_>, c: Contribution, evidence: impl Fn() -> Evidence) {
        let Some(spec) = plan.clauses.get(c.clause) else {
            return;
        };
        let mut key = KeyBuf::default();
        let built = key.build(spec.agg, c.ts, |i| {
            c.key.get(i).map(|k| std::borrow::Cow::Owned(k.to_string()))
        });
        if !built {
            return;
        }
        let Some(g) = self.group(plan, c.clause, &key) else {
            return;
        };
        g.joined(c.ts, c.in_force);
        let mut ev: Option<Evidence> = None;
        let mut evidence = || ev.get_or_insert_with(&evidence).clone();
        for ((acc, input), a) in g.accs.iter_mut().zip(&c.accs).zip(&spec.agg.aggs) {
            match input {
                AccIn::Skip => {}
                AccIn::Unknown(u) => {
                    acc.unknown.get_or_insert_with(|| u.clone());
                }
                AccIn::Val(v) => {
                    acc.feed(a.op, c.ts, v.as_ref().map(ValRef::Scalar), &mut evidence)
                }
            }
        }
    }

    /// Notes a malformed record that would have joined the group `key`
    /// of clause `clause`: the group is computed without it.
    pub fn left_out(&mut self, plan: &Plan<'_>, clause: usize, key: &KeyBuf, evidence: Evidence) {
        let Some(g) = self.group(plan, clause, key) else {
            return;
        };
        g.left_out += 1;
        if g.left_out_lines.len() < LEFT_OUT_CAP {
            g.left_out_lines.push(Evidence {
                text: None,
                ..evidence
            });
        }
    }

    /// Merges `later`, the state of input read after this one's, into it.
    /// `fix` rewrites each of `later`'s evidence (its line numbers become
    /// the file's). New groups are admitted in the order they were opened,
    /// so that at the cap the kept groups are the input's first.
    pub fn merge(&mut self, plan: &Plan<'_>, later: State, fix: &dyn Fn(&mut Evidence)) {
        for (mine, theirs) in self.dropped.iter_mut().zip(&later.dropped) {
            *mine += theirs;
        }
        for (mine, theirs) in self.long_keys.iter_mut().zip(&later.long_keys) {
            *mine += theirs;
        }
        for (((mine, theirs), spec), dropped) in self
            .clauses
            .iter_mut()
            .zip(later.clauses)
            .zip(&plan.clauses)
            .zip(self.dropped.iter_mut())
        {
            let mut theirs: Vec<(String, GroupState)> = theirs.into_iter().collect();
            theirs.sort_by_key(|(_, g)| g.opened);
            for (key, mut g) in theirs {
                g.accs
                    .iter_mut()
                    .flat_map(|a| a.evidence.iter_mut())
                    .chain(g.left_out_lines.iter_mut())
                    .for_each(fix);
                if let Some(m) = mine.get_mut(&key) {
                    merge_group(m, g, spec.agg);
                } else if mine.len() >= plan.max_groups {
                    *dropped += g.records.max(g.left_out).max(1);
                } else {
                    self.opened += 1;
                    g.opened = self.opened;
                    mine.insert(key, g);
                }
            }
        }
    }
}

/// Whether every aggregation of a clause keeps an earliest record, so
/// that its groups can be settled (see [`GroupState::settled`]).
pub fn all_earliest(agg: &Aggregate) -> bool {
    agg.aggs
        .iter()
        .all(|a| matches!(a.op, AggOp::First | AggOp::FirstDay))
}

fn merge_group(m: &mut GroupState, g: GroupState, agg: &Aggregate) {
    m.in_force += g.in_force;
    m.records += g.records;
    m.first_seen = m.first_seen.into_iter().chain(g.first_seen).min();
    m.last_seen = m.last_seen.into_iter().chain(g.last_seen).max();
    m.left_out += g.left_out;
    for e in g.left_out_lines {
        if m.left_out_lines.len() < LEFT_OUT_CAP {
            m.left_out_lines.push(e);
        }
    }
    for ((a, b), spec) in m.accs.iter_mut().zip(g.accs).zip(&agg.aggs) {
        a.n += b.n;
        match a.sum.checked_add(b.sum) {
            Some(s) => a.sum = s,
            None => a.overflow = true,
        }
        a.overflow |= b.overflow;
        a.not_numbers += b.not_numbers;
        if a.unknown.is_none() {
            a.unknown = b.unknown;
        }
        a.distinct_capped |= b.distinct_capped;
        for v in b.distinct {
            if a.distinct.len() >= DISTINCT_CAP && !a.distinct.contains(&v) {
                a.distinct_capped = true;
                continue;
            }
            a.distinct.insert(v);
        }
        match spec.op {
            AggOp::Count | AggOp::Sum | AggOp::CountDistinct => {
                let room = EVIDENCE_CAP.saturating_sub(a.evidence.len());
                let had = !a.evidence.is_empty();
                a.evidence
                    .extend(b.evidence.into_iter().take(room).map(|mut e| {
                        if had {
                            e.text = None;
                        }
                        e
                    }));
            }
            AggOp::Min | AggOp::Max | AggOp::First | AggOp::FirstDay => {
                // The later state wins only when strictly better: a tie
                // keeps the record read first.
                let better = match (&a.best, &b.best) {
                    (_, None) => false,
                    (None, Some(_)) => true,
                    (Some((ta, va)), Some((tb, vb))) => match spec.op {
                        AggOp::Min => vb < va,
                        AggOp::Max => vb > va,
                        _ => tb < ta,
                    },
                };
                if better {
                    a.best = b.best;
                    a.evidence = b.evidence;
                }
            }
        }
    }
    if all_earliest(agg) {
        m.settle();
    }
}

fn scalar_text(s: &Scalar) -> String {
    match s {
        Scalar::Num(n) => n.normalize().to_string(),
        Scalar::Date(d) => d.to_string(),
        Scalar::Text(t) => t.to_string(),
    }
}

/// A group's outcome.
#[derive(Debug, Clone, PartialEq)]
pub enum GroupOutcome {
    NotApplicable,
    Pass,
    Excepted,
    Violation,
    /// It depends on an unknown value (why).
    Unresolved(Arc<str>),
}

impl GroupOutcome {
    pub fn as_str(&self) -> &'static str {
        match self {
            GroupOutcome::NotApplicable => "not applicable",
            GroupOutcome::Pass => "pass",
            GroupOutcome::Excepted => "excepted",
            GroupOutcome::Violation => "violation",
            GroupOutcome::Unresolved(_) => "unresolved",
        }
    }
}

/// One judged group.
#[derive(Debug, Clone)]
pub struct GroupResult {
    /// The key, as `(name, value)` per part (`("period", "2026-05")`).
    pub key: Vec<(String, String)>,
    pub outcome: GroupOutcome,
    /// Every figure, in `let` order, then each parameter the clause reads.
    pub figures: Vec<(String, FVal)>,
    /// The records that decided it: the evidence of the aggregations the
    /// check reads, in the order it reads them (first lines first).
    pub evidence: Vec<Evidence>,
    pub left_out: u64,
    pub left_out_lines: Vec<Evidence>,
    pub first_seen: Option<Millis>,
    pub last_seen: Option<Millis>,
    pub message: String,
}

impl GroupResult {
    /// The key as one label: `2026-05`, or `o5-mini / 2026-05`.
    pub fn label(&self) -> String {
        self.key
            .iter()
            .map(|(_, v)| v.as_str())
            .collect::<Vec<_>>()
            .join(" / ")
    }
}

/// One clause's judged groups.
#[derive(Debug, Clone)]
pub struct ClauseResult {
    pub id: String,
    pub title: Option<String>,
    pub terms: String,
    pub severity: Severity,
    pub interval: Interval,
    /// Every judged group (not applicable ones too), in key order.
    pub groups: Vec<GroupResult>,
    /// Groups only malformed records would have formed (so not judged),
    /// by label, with the number of those records.
    pub left_out_only: Vec<(String, u64)>,
}

impl ClauseResult {
    pub fn count(&self, f: impl Fn(&GroupOutcome) -> bool) -> u64 {
        self.groups.iter().filter(|g| f(&g.outcome)).count() as u64
    }

    pub fn violations(&self) -> u64 {
        self.count(|o| *o == GroupOutcome::Violation)
    }

    pub fn unresolved(&self) -> u64 {
        self.count(|o| matches!(o, GroupOutcome::Unresolved(_)))
    }
}

/// Computes every group's figures and outcome.
pub fn finish(plan: &Plan<'_>, state: &State) -> Vec<ClauseResult> {
    plan.clauses
        .iter()
        .zip(&state.clauses)
        .map(|(spec, groups)| judge_clause(&plan.params, spec, groups))
        .collect()
}

fn judge_clause(
    params: &HashMap<String, Lit>,
    spec: &AggClause<'_>,
    groups: &hashbrown::HashMap<String, GroupState>,
) -> ClauseResult {
    let groups: BTreeMap<Vec<Box<str>>, &GroupState> =
        groups.iter().map(|(k, g)| (decode_key(k), g)).collect();
    let agg = spec.agg;
    let period_at = agg
        .per
        .iter()
        .position(|k| matches!(k, GroupKey::Period(..)));
    // Groups in (non-period key, period) order, so that running totals
    // run through each key's periods in time order.
    let mut order: Vec<(&Vec<Box<str>>, &GroupState)> = groups
        .iter()
        .filter(|(_, g)| g.in_force > 0)
        .map(|(k, g)| (k, *g))
        .collect();
    let partition = |k: &Vec<Box<str>>| -> Vec<Box<str>> {
        k.iter()
            .enumerate()
            .filter(|(i, _)| Some(*i) != period_at)
            .map(|(_, v)| v.clone())
            .collect()
    };
    order.sort_by(|a, b| {
        partition(a.0)
            .cmp(&partition(b.0))
            .then_with(|| a.0.cmp(b.0))
    });
    let read = read_params(params, agg);
    let mut results = Vec::new();
    let mut running: HashMap<(Vec<Box<str>>, usize), FVal> = HashMap::new();
    for (key, g) in order {
        let part = partition(key);
        let env = Env {
            params,
            agg,
            key,
            g,
        };
        let mut figures: Vec<FVal> = Vec::with_capacity(agg.figures.len());
        for f in &agg.figures {
            let v = env.eval(&f.value, &figures, &|i, current: &[FVal]| {
                let before = running.get(&(part.clone(), i)).cloned();
                let now = current.get(i).cloned().unwrap_or(FVal::Absent);
                match before {
                    Some(b) => b.arith(&now, '+'),
                    None => now,
                }
            });
            figures.push(v);
        }
        // The running totals after this group.
        for f in &agg.figures {
            f.value.walk(&mut |a| {
                if let ArithKind::Running(i) = a.kind {
                    let now = figures.get(i).cloned().unwrap_or(FVal::Absent);
                    let total = match running.get(&(part.clone(), i)) {
                        Some(b) => b.arith(&now, '+'),
                        None => now,
                    };
                    running.insert((part.clone(), i), total);
                }
            });
        }
        let outcome = env.outcome(&figures);
        let mut shown: Vec<(String, FVal)> = agg
            .figures
            .iter()
            .map(|f| f.id.name.clone())
            .zip(figures.iter().cloned())
            .collect();
        shown.extend(read.iter().cloned());
        let key_parts: Vec<(String, String)> = agg
            .per
            .iter()
            .map(GroupKey::name)
            .zip(key.iter().map(|k| k.to_string()))
            .collect();
        let message = message(spec.clause, &key_parts, &shown);
        results.push(GroupResult {
            key: key_parts,
            outcome,
            evidence: env.evidence(),
            figures: shown,
            left_out: g.left_out,
            left_out_lines: g.left_out_lines.clone(),
            first_seen: g.first_seen,
            last_seen: g.last_seen,
            message,
        });
    }
    // Report groups in key order.
    results.sort_by(|a, b| a.key.cmp(&b.key));
    let left_out_only = groups
        .iter()
        .filter(|(_, g)| g.in_force == 0 && g.left_out > 0)
        .map(|(k, g)| {
            let label: Vec<&str> = k.iter().map(|p| &**p).collect();
            (label.join(" / "), g.left_out)
        })
        .collect();
    ClauseResult {
        id: spec.clause.id.name.clone(),
        title: spec.clause.title.clone(),
        terms: spec.terms.id.name.clone(),
        severity: spec.clause.severity,
        interval: spec.interval,
        groups: results,
        left_out_only,
    }
}

/// The parameters a clause reads, with their values for this run.
fn read_params(params: &HashMap<String, Lit>, agg: &Aggregate) -> Vec<(String, FVal)> {
    let mut names: Vec<String> = Vec::new();
    let mut note = |a: &Arith| {
        if let ArithKind::Param(p) = &a.kind
            && !names.contains(p)
        {
            names.push(p.clone());
        }
    };
    for f in &agg.figures {
        f.value.walk(&mut note);
    }
    for c in agg.conditions() {
        c.operands(&mut |a| a.walk(&mut note));
    }
    names
        .into_iter()
        .map(|n| {
            let v = param_value(params, &n);
            (n, v)
        })
        .collect()
}

/// A parameter's value for this run, or unknown (with what to do).
pub fn param_value(params: &HashMap<String, Lit>, name: &str) -> FVal {
    match params.get(name) {
        Some(l) => FVal::from(l),
        None => FVal::Unknown(
            format!("parameter `{name}` is not supplied (pass `--param {name}=VALUE`, or set it under `params:` in proviso.yaml)")
                .into(),
        ),
    }
}

/// Renders a clause's `message` for a group, or a default sentence.
fn message(clause: &Clause, key: &[(String, String)], figures: &[(String, FVal)]) -> String {
    let Some(m) = &clause.message else {
        let label: Vec<String> = key.iter().map(|(k, v)| format!("{k} {v}")).collect();
        let title = clause.title.as_deref().unwrap_or(&clause.id.name);
        return format!("{}: {title}", label.join(", "));
    };
    let mut out = String::new();
    for part in &m.parts {
        match part {
            MessagePart::Text(t) => out.push_str(t),
            MessagePart::Field(p, _) => {
                let name = p.to_string();
                if let Some((_, v)) = key.iter().find(|(k, _)| *k == name) {
                    out.push_str(v);
                } else if let Some((_, v)) = figures.iter().find(|(k, _)| *k == name) {
                    out.push_str(&v.to_string());
                } else {
                    out.push('{');
                    out.push_str(&name);
                    out.push('}');
                }
            }
        }
    }
    out
}

/// What a group's figures and conditions are evaluated against.
struct Env<'a> {
    params: &'a HashMap<String, Lit>,
    agg: &'a Aggregate,
    key: &'a [Box<str>],
    g: &'a GroupState,
}

impl Env<'_> {
    fn eval(&self, a: &Arith, figures: &[FVal], running: &dyn Fn(usize, &[FVal]) -> FVal) -> FVal {
        match &a.kind {
            ArithKind::Lit(l) => FVal::from(l),
            ArithKind::Name(n) => FVal::Unknown(format!("`{n}` is not resolved").into()),
            ArithKind::Figure(i) => figures.get(*i).cloned().unwrap_or(FVal::Absent),
            ArithKind::Key(i) => self
                .key
                .get(*i)
                .map_or(FVal::Absent, |k| FVal::Text(Arc::from(&**k))),
            ArithKind::Param(p) => param_value(self.params, p),
            ArithKind::Agg(i) => self.agg_value(*i),
            ArithKind::Running(i) => running(*i, figures),
            ArithKind::Add(x, y) => self
                .eval(x, figures, running)
                .arith(&self.eval(y, figures, running), '+'),
            ArithKind::Sub(x, y) => self
                .eval(x, figures, running)
                .arith(&self.eval(y, figures, running), '-'),
            ArithKind::Mul(x, y) => self
                .eval(x, figures, running)
                .arith(&self.eval(y, figures, running), '*'),
            ArithKind::Set(items) => FVal::Set(
                items
                    .iter()
                    .map(|i| self.eval(i, figures, running))
                    .collect(),
            ),
        }
    }

    fn agg_value(&self, i: usize) -> FVal {
        let (Some(acc), Some(spec)) = (self.g.accs.get(i), self.agg.aggs.get(i)) else {
            return FVal::Absent;
        };
        if let Some(u) = &acc.unknown {
            return FVal::Unknown(u.clone());
        }
        match spec.op {
            AggOp::Sum if acc.overflow => {
                FVal::Unknown("the sum overflows 28 decimal digits".into())
            }
            AggOp::Sum if acc.not_numbers > 0 => FVal::Unknown(
                format!(
                    "{} value(s) of `{}` are not numbers (declare the field `decimal` to count them malformed)",
                    acc.not_numbers,
                    spec.field.as_ref().map(ToString::to_string).unwrap_or_default()
                )
                .into(),
            ),
            AggOp::Sum => FVal::Num(acc.sum),
            AggOp::Count => FVal::Num(Decimal::from(acc.n)),
            AggOp::CountDistinct if acc.distinct_capped => FVal::Unknown(
                format!("more than {DISTINCT_CAP} distinct values: the count is a floor").into(),
            ),
            AggOp::CountDistinct => FVal::Num(Decimal::from(acc.distinct.len() as u64)),
            AggOp::Min | AggOp::Max | AggOp::First => match &acc.best {
                Some((_, Some(v))) => v.to_fval(),
                _ => FVal::Absent,
            },
            AggOp::FirstDay => match &acc.best {
                Some((ts, _)) => FVal::Date(value::day_of(*ts)),
                None => FVal::Absent,
            },
        }
    }

    fn truth(&self, e: &GExpr, figures: &[FVal]) -> Truth {
        let none = |_: usize, _: &[FVal]| FVal::Absent;
        let val = |a: &Arith| -> FVal {
            match a.kind {
                // A running total in a condition is the figure's.
                ArithKind::Running(_) => FVal::Absent,
                _ => self.eval(a, figures, &none),
            }
        };
        match &e.kind {
            GKind::Or(items) => {
                let mut unknown = None;
                for i in items {
                    match self.truth(i, figures) {
                        Truth::True => return Truth::True,
                        Truth::Unknown(u) => unknown = unknown.or(Some(u)),
                        Truth::False => {}
                    }
                }
                unknown.map_or(Truth::False, Truth::Unknown)
            }
            GKind::And(items) => {
                let mut unknown = None;
                for i in items {
                    match self.truth(i, figures) {
                        Truth::False => return Truth::False,
                        Truth::Unknown(u) => unknown = unknown.or(Some(u)),
                        Truth::True => {}
                    }
                }
                unknown.map_or(Truth::True, Truth::Unknown)
            }
            GKind::Not(i) => self.truth(i, figures).negate(),
            GKind::Compare(a, op, b) => val(a).compare(*op, &val(b)),
            GKind::In { negated, lhs, rhs } => {
                let t = val(lhs).member_of(&val(rhs));
                if *negated { t.negate() } else { t }
            }
            GKind::Exists(a) => match val(a) {
                FVal::Absent => Truth::False,
                FVal::Unknown(u) => Truth::Unknown(u),
                _ => Truth::True,
            },
            GKind::Truthy(a) => match val(a) {
                FVal::Absent | FVal::Bool(false) => Truth::False,
                FVal::Unknown(u) => Truth::Unknown(u),
                _ => Truth::True,
            },
        }
    }

    fn outcome(&self, figures: &[FVal]) -> GroupOutcome {
        let applies = self
            .agg
            .applies
            .as_ref()
            .map_or(Truth::True, |a| self.truth(a, figures));
        if applies == Truth::False {
            return GroupOutcome::NotApplicable;
        }
        let Some((check, forbid)) = &self.agg.check else {
            return GroupOutcome::NotApplicable;
        };
        let holds = self.truth(check, figures);
        let fails = if *forbid { holds } else { holds.negate() };
        if fails == Truth::False {
            return GroupOutcome::Pass;
        }
        let mut excuse_unknown = None;
        for u in &self.agg.unless {
            match self.truth(u, figures) {
                Truth::True => return GroupOutcome::Excepted,
                Truth::Unknown(r) => excuse_unknown = excuse_unknown.or(Some(r)),
                Truth::False => {}
            }
        }
        match (applies, fails, excuse_unknown) {
            (Truth::Unknown(u), _, _) | (_, Truth::Unknown(u), _) | (_, _, Some(u)) => {
                GroupOutcome::Unresolved(u)
            }
            _ => GroupOutcome::Violation,
        }
    }

    /// The evidence of the aggregations the check reads (through its
    /// figures), in the order it reads them, each record once.
    fn evidence(&self) -> Vec<Evidence> {
        // Depth first through the figures the check reads, with a stack of
        // our own: a chain of figures is as long as the rule file makes it.
        let mut aggs: Vec<usize> = Vec::new();
        let mut agg_seen = vec![false; self.agg.aggs.len()];
        let mut seen = vec![false; self.agg.figures.len()];
        let mut roots: Vec<Arith> = Vec::new();
        if let Some((check, _)) = &self.agg.check {
            check.operands(&mut |a| roots.push(a.clone()));
        }
        let mut stack: Vec<&Arith> = roots.iter().rev().collect();
        while let Some(a) = stack.pop() {
            let mut next: Vec<&Arith> = Vec::new();
            a.walk(&mut |x| match x.kind {
                ArithKind::Agg(i) if agg_seen.get(i) == Some(&false) => {
                    if let Some(s) = agg_seen.get_mut(i) {
                        *s = true;
                    }
                    aggs.push(i);
                }
                ArithKind::Figure(i) | ArithKind::Running(i) if seen.get(i) == Some(&false) => {
                    if let Some(s) = seen.get_mut(i) {
                        *s = true;
                    }
                    if let Some(f) = self.agg.figures.get(i) {
                        next.push(&f.value);
                    }
                }
                _ => {}
            });
            stack.extend(next.into_iter().rev());
        }
        let mut out: Vec<Evidence> = Vec::new();
        for i in aggs {
            let Some(acc) = self.g.accs.get(i) else {
                continue;
            };
            for e in &acc.evidence {
                if !out.iter().any(|o| o.file == e.file && o.line == e.line) {
                    out.push(e.clone());
                }
            }
        }
        out
    }
}

/// Cuts a record's text to what evidence keeps.
pub fn evidence_text(text: &str) -> Arc<str> {
    if text.len() <= EVIDENCE_TEXT {
        return Arc::from(text);
    }
    let mut end = EVIDENCE_TEXT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    Arc::from(text.get(..end).unwrap_or(""))
}
