//! Aggregate clauses in the audit: what a log line brings to the groups
//! of each aggregate clause, and the declared field types that make a
//! line malformed.
//!
//! The rules' conditions (`over`, each aggregation's `where`) are compiled
//! with the per-record clauses ([`Compiled::condition`]), and the fields
//! they group and aggregate by get slots, so a line costs a few compiled
//! tests and no allocation unless it joins a group. The groups live in the
//! worker's [`aggregate::State`] for its piece; the collector merges them
//! in file order (`tally`), and the report's figures are computed once
//! at the end of the run ([`aggregate::finish`]).

use crate::aggregate::{self, Evidence, KeyBuf, Plan, ValRef};
use crate::eval::compiled::{Compiled, Memo};
use crate::rules::RuleSet;
use crate::rules::ast::{AggOp, FieldType, GroupKey};
use crate::scan::logs::{FieldVal, Millis, Slot};
use rust_decimal::Decimal;
use std::borrow::Cow;

/// One aggregate clause, compiled over the audit's slots.
struct AggSlots {
    over: Option<usize>,
    /// The slot of each `per` field, in order (periods have none).
    keys: Vec<usize>,
    /// Per aggregation: its `where` condition and the slot it reads.
    accs: Vec<(Option<usize>, Option<usize>)>,
}

/// The aggregate clauses of a run, compiled, and the typed fields.
pub(super) struct AggRun<'r> {
    pub(super) plan: Plan<'r>,
    clauses: Vec<AggSlots>,
    /// `field … decimal | one of {…}` declarations, by slot.
    typed: Vec<(usize, &'r FieldType, String)>,
}

impl<'r> AggRun<'r> {
    /// Compiles the aggregate clauses and typed fields of `rules` into
    /// `compiled` (adding the slots and conditions they need).
    pub(super) fn new(rules: &'r RuleSet, compiled: &mut Compiled<'r>) -> AggRun<'r> {
        let plan = Plan::new(rules);
        let clauses = plan
            .clauses
            .iter()
            .map(|c| AggSlots {
                over: c.agg.over.as_ref().map(|e| compiled.condition(e)),
                keys: c
                    .agg
                    .per
                    .iter()
                    .filter_map(|k| match k {
                        GroupKey::Field(p, _) => Some(compiled.slot(p)),
                        GroupKey::Period(..) => None,
                    })
                    .collect(),
                accs: c
                    .agg
                    .aggs
                    .iter()
                    .map(|a| {
                        (
                            a.filter.as_ref().map(|e| compiled.condition(e)),
                            a.field.as_ref().map(|p| compiled.slot(p)),
                        )
                    })
                    .collect(),
            })
            .collect();
        let typed = rules
            .fields
            .iter()
            .filter_map(|f| {
                let ty = f.ty.as_ref()?;
                Some((compiled.slot(&f.path), ty, f.path.to_string()))
            })
            .collect();
        AggRun {
            plan,
            clauses,
            typed,
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.plan.is_empty() && self.typed.is_empty()
    }

    /// Why a line's declared fields make it malformed, and where: the
    /// first value that is not of its field's declared type.
    pub(super) fn bad_field(
        &self,
        line: &str,
        slots: &[Option<Slot<'_>>],
    ) -> Option<(String, std::ops::Range<usize>)> {
        for (slot, ty, name) in &self.typed {
            let Some(Some(s)) = slots.get(*slot) else {
                continue;
            };
            let text = slot_text(line, s);
            let Some(text) = text else { continue };
            let ok = match ty {
                FieldType::Decimal => Decimal::from_str_exact(text.trim()).is_ok(),
                FieldType::OneOf(values) => values.iter().any(|v| v == text.as_ref()),
            };
            if !ok {
                let why = match ty {
                    FieldType::Decimal => {
                        format!("`{name}` is `{text}`, not a decimal number (such as `1250.05`)")
                    }
                    FieldType::OneOf(values) => format!(
                        "`{name}` is `{text}`, not one of {}",
                        values
                            .iter()
                            .map(|v| format!("`{v}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                };
                return Some((why, s.span.clone().unwrap_or(0..line.len())));
            }
        }
        None
    }

    /// Adds what a line dated `ts` brings to each aggregate clause's
    /// groups to `state`; whether it joined a group of a clause in force
    /// (then the line counts as judged). A malformed line (`left_out`)
    /// joins no sum: the groups it would have joined note it instead.
    /// Nothing is allocated unless the line opens a group or is kept as
    /// evidence (`key` is the worker's reused buffer).
    #[expect(
        clippy::too_many_arguments,
        reason = "the line's pieces, borrowed from the worker's loop"
    )]
    pub(super) fn contribute(
        &self,
        compiled: &Compiled<'_>,
        state: &mut aggregate::State,
        key: &mut KeyBuf,
        slots: &[Option<Slot<'_>>],
        memo: &Memo,
        ts: Millis,
        evidence: &dyn Fn() -> Evidence,
        line: &str,
        left_out: bool,
    ) -> bool {
        let day = crate::scan::logs::day_of(ts);
        let mut joined = false;
        for (i, (spec, c)) in self.plan.clauses.iter().zip(&self.clauses).enumerate() {
            let in_force = spec.interval.contains(day);
            if !in_force && !spec.reads_all {
                continue;
            }
            if let Some(over) = c.over
                && !compiled.holds(over, slots, memo)
            {
                continue;
            }
            let text = |slot: usize| {
                slots
                    .get(slot)
                    .and_then(Option::as_ref)
                    .and_then(|s| slot_text(line, s))
            };
            if !key.build(spec.agg, ts, |k| c.keys.get(k).and_then(|&s| text(s))) {
                continue;
            }
            if left_out {
                if in_force {
                    state.left_out(&self.plan, i, key, evidence());
                }
                continue;
            }
            // The record is judged by the clause whether or not its group
            // is kept (beyond the cap it is counted apart): so the
            // accounting does not depend on how the input is cut.
            joined |= in_force;
            let Some(g) = state.group(&self.plan, i, key) else {
                continue;
            };
            g.joined(ts, in_force);
            let mut ev: Option<Evidence> = None;
            let mut keep = || ev.get_or_insert_with(evidence).clone();
            for ((acc, &(filter, field)), a) in g.accs.iter_mut().zip(&c.accs).zip(&spec.agg.aggs) {
                if !in_force && !a.all_records {
                    continue;
                }
                if let Some(f) = filter
                    && !compiled.holds(f, slots, memo)
                {
                    continue;
                }
                let value = field.and_then(text);
                if field.is_some() && value.is_none() && a.op != AggOp::Count {
                    // The field is absent: nothing to sum, no first value.
                    continue;
                }
                acc.feed(a.op, ts, value.as_deref().map(ValRef::Text), &mut keep);
            }
        }
        joined
    }
}

/// A slot's value as text, numbers as the line writes them (so that a
/// JSON `1000.05` is the exact decimal, not a float's rendering).
fn slot_text<'s>(line: &'s str, s: &'s Slot<'_>) -> Option<Cow<'s, str>> {
    match &s.val {
        FieldVal::Null => None,
        FieldVal::Str(t) => Some(Cow::Borrowed(t.as_ref())),
        FieldVal::Num(n) => Some(
            s.span
                .clone()
                .and_then(|sp| line.get(sp))
                .map(|t| Cow::Borrowed(t.trim()))
                .unwrap_or_else(|| Cow::Owned(format!("{n}"))),
        ),
        FieldVal::Bool(b) => Some(Cow::Owned(b.to_string())),
        FieldVal::Raw(t) => Some(Cow::Borrowed(t)),
    }
}
