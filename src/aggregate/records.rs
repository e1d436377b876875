//! Feeding aggregate clauses from [`Record`]s (an example's `given`
//! records, anything the tree evaluator judges): each record's
//! [`Contribution`] worked out with [`Evaluator`], three-valued, so that an
//! unknown value in a record makes the aggregations it reaches unknown.

use super::{AccIn, Contribution, Plan, Scalar};
use crate::eval::{Evaluator, Tri};
use crate::rules::ast::{AggOp, GroupKey};
use crate::scan::logs::{Millis, parse_timestamp};
use crate::value::{FieldPath, Lookup, Record, Value};
use rust_decimal::Decimal;
use std::sync::Arc;

/// The record's time: its `timestamp` field, else its `date` (as a
/// ledger's CSV writes it).
pub fn record_time(record: &dyn Record) -> Option<Millis> {
    for name in ["timestamp", "date"] {
        match record.lookup(&FieldPath(vec![name.to_string()])) {
            Lookup::Known(Value::Str(s)) => return parse_timestamp(s),
            Lookup::Known(Value::Date(d)) => return Some(i64::from(d.days()) * 86_400_000),
            Lookup::Known(Value::Num(n)) => return parse_timestamp(&format!("{n}")),
            _ => {}
        }
    }
    None
}

/// What `record`, dated `ts`, brings to clause `clause` of the plan, if
/// it joins one of its groups.
pub fn contribution(
    plan: &Plan<'_>,
    eval: &Evaluator<'_>,
    clause: usize,
    record: &dyn Record,
    ts: Millis,
) -> Option<Contribution> {
    let spec = plan.clauses.get(clause)?;
    let in_force = spec.interval.contains(super::value::day_of(ts));
    if !in_force && !spec.reads_all {
        return None;
    }
    if let Some(over) = &spec.agg.over
        && !eval.truth(over, record).is_true()
    {
        return None;
    }
    let mut key = Vec::new();
    for k in &spec.agg.per {
        if let GroupKey::Field(path, _) = k {
            match record.lookup(path) {
                Lookup::Known(v) if !matches!(v, Value::Null | Value::Unknown(_)) => {
                    key.push(value_text(v).into())
                }
                // A record without the key joins no group.
                _ => return None,
            }
        }
    }
    let accs = spec
        .agg
        .aggs
        .iter()
        .map(|a| {
            if !in_force && !a.all_records {
                return AccIn::Skip;
            }
            if let Some(f) = &a.filter {
                match eval.truth(f, record) {
                    Tri::True => {}
                    Tri::False => return AccIn::Skip,
                    Tri::Unknown(u) => return AccIn::Unknown(Arc::from(u.reason.as_str())),
                }
            }
            let Some(field) = &a.field else {
                return AccIn::Val(None);
            };
            match record.lookup(field) {
                Lookup::Known(Value::Unknown(u)) | Lookup::Unknown(u) => {
                    AccIn::Unknown(Arc::from(u.reason.as_str()))
                }
                Lookup::Known(Value::Null) | Lookup::Absent => AccIn::Val(None),
                Lookup::Known(v) => AccIn::Val(Some(scalar(v, a.op))),
            }
        })
        .collect();
    Some(Contribution {
        clause,
        key,
        ts,
        in_force,
        accs,
    })
}

/// A record value as an aggregation reads it. A number given in a rule
/// file is read back from its shortest decimal form (`1000.05`), which
/// is the one its author wrote.
fn scalar(v: &Value, op: AggOp) -> Scalar {
    match v {
        Value::Num(n) => Decimal::from_str_exact(&format!("{n}"))
            .map(Scalar::Num)
            .unwrap_or_else(|_| Scalar::Text(format!("{n}").into())),
        Value::Date(d) => Scalar::Date(*d),
        Value::Str(s) if op == AggOp::CountDistinct || op == AggOp::First => {
            Scalar::Text(s.as_ref().into())
        }
        other => Scalar::read(&value_text(other)),
    }
}

fn value_text(v: &Value) -> String {
    match v {
        Value::Str(s) => s.to_string(),
        other => other.to_string(),
    }
}
