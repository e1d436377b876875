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
    /// Per aggregation: its `where` condition (an index into `conds`)
    /// and the slot it reads.
    accs: Vec<(Option<usize>, Option<usize>)>,
    /// Whether every aggregation keeps an earliest record (then a group
    /// settles: see [`aggregate::GroupState::settled`]).
    all_earliest: bool,
    /// The clause's distinct `where` conditions, compiled: aggregations
    /// that share one (`first day where cloud != "azure"`, `first cloud
    /// where cloud != "azure"`) test it once per line.
    conds: Vec<usize>,
}

/// A declared field whose values are checked on every record.
struct TypedField<'r> {
    slot: usize,
    ty: Option<&'r FieldType>,
    required: Option<usize>,
    /// The `required where` condition as written, for the message.
    required_text: String,
    name: String,
}

/// The aggregate clauses of a run, compiled, and the typed fields.
pub(super) struct AggRun<'r> {
    pub(super) plan: Plan<'r>,
    clauses: Vec<AggSlots>,
    /// `field … decimal | one of {…} [required where …]` declarations: the
    /// slot, the type, the compiled `required where` condition, the name.
    typed: Vec<TypedField<'r>>,
}

impl<'r> AggRun<'r> {
    /// Compiles the aggregate clauses and typed fields of `rules` into
    /// `compiled` (adding the slots and conditions they need).
    pub(super) fn new(rules: &'r RuleSet, compiled: &mut Compiled<'r>) -> AggRun<'r> {
        let plan = Plan::new(rules);
        let clauses = plan
            .clauses
            .iter()
            .map(|c| {
                // Conditions told apart by their text in the rule file.
                let mut texts: Vec<&str> = Vec::new();
                let mut conds = Vec::new();
                let accs = c
                    .agg
                    .aggs
                    .iter()
                    .map(|a| {
                        let filter = a.filter.as_ref().map(|e| {
                            let text = c.terms.file.text.get(e.span.clone()).unwrap_or("");
                            match texts.iter().position(|t| *t == text) {
                                Some(i) => i,
                                None => {
                                    texts.push(text);
                                    conds.push(compiled.condition(e));
                                    conds.len() - 1
                                }
                            }
                        });
                        (filter, a.field.as_ref().map(|p| compiled.slot(p)))
                    })
                    .collect();
                (c, accs, conds)
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|(c, accs, conds)| AggSlots {
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
                accs,
                conds,
                all_earliest: aggregate::all_earliest(c.agg),
            })
            .collect();
        let typed = rules
            .fields
            .iter()
            .filter(|f| f.ty.is_some() || f.required.is_some())
            .map(|f| TypedField {
                slot: compiled.slot(&f.path),
                ty: f.ty.as_ref(),
                required: f.required.as_ref().map(|e| compiled.condition(e)),
                required_text: f
                    .required
                    .as_ref()
                    .and_then(|e| f.file.text.get(e.span.clone()))
                    .unwrap_or("")
                    .trim()
                    .to_string(),
                name: f.path.to_string(),
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
        compiled: &Compiled<'_>,
        line: &str,
        slots: &[Option<Slot<'_>>],
        memo: &Memo,
    ) -> Option<(String, std::ops::Range<usize>)> {
        for TypedField {
            slot,
            ty,
            required,
            required_text,
            name,
        } in &self.typed
        {
            let text = slots
                .get(*slot)
                .and_then(Option::as_ref)
                .and_then(|s| slot_text(line, s).map(|t| (s, t)))
                .filter(|(_, t)| !t.trim().is_empty());
            let Some((s, text)) = text else {
                if let Some(cond) = required
                    && compiled.holds(*cond, slots, memo)
                {
                    return Some((
                        format!(
                            "`{name}` is missing; a record where `{required_text}` must have it"
                        ),
                        0..line.len(),
                    ));
                }
                continue;
            };
            let Some(ty) = ty else { continue };
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
            // (A malformed line is attributed by its key alone: its `over`
            // may read the very value that is missing or malformed.)
            if let Some(over) = c.over
                && !left_out
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
            if c.all_earliest && g.settled(ts) {
                continue;
            }
            let mut ev: Option<Evidence> = None;
            let mut keep = || ev.get_or_insert_with(evidence).clone();
            // Each distinct condition's truth on this line: 0 not yet
            // tested, 1 false, 2 true (past 16 conditions, tested each
            // time).
            let mut tested = [0u8; 16];
            for ((acc, &(filter, field)), a) in g.accs.iter_mut().zip(&c.accs).zip(&spec.agg.aggs) {
                if !in_force && !a.all_records {
                    continue;
                }
                // An earliest-record aggregation keeps a record only if it
                // is strictly earlier than the one it has: a later one is
                // not even tested (most lines, once a group has a few).
                if matches!(a.op, AggOp::First | AggOp::FirstDay) && !acc.earlier(ts) {
                    continue;
                }
                if let Some(f) = filter {
                    let holds = match tested.get(f).copied() {
                        Some(2) => true,
                        Some(1) => false,
                        known => {
                            let h = c
                                .conds
                                .get(f)
                                .is_some_and(|&id| compiled.holds(id, slots, memo));
                            if let (Some(_), Some(slot)) = (known, tested.get_mut(f)) {
                                *slot = 1 + u8::from(h);
                            }
                            h
                        }
                    };
                    if !holds {
                        continue;
                    }
                }
                let value = field.and_then(text);
                if field.is_some() && value.is_none() && a.op != AggOp::Count {
                    // The field is absent: nothing to sum, no first value.
                    continue;
                }
                acc.feed(a.op, ts, value.as_deref().map(ValRef::Text), &mut keep);
            }
            if c.all_earliest {
                g.settle();
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
