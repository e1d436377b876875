//! Column planning for the text formats (ALB, CloudFront, nginx, CSV):
//! which column fills which slot, and how.
//!
//! A [`ColumnPlan`] is made once per input from the run's slots, the
//! format's columns and its vocabulary (`host` from `request`, else from
//! `domain_name`, …), so that reading a line is a walk over its columns in
//! which a column no slot reads is only stepped over, and a fallback
//! column is read only while the slot it could fill is empty.

use super::parser::{FieldVal, Slot, put_span, vacant};
use super::transform::{Transform, request_parts, transform};
use super::vocabulary::vocab_transform;
use crate::value::FieldPath;
use std::borrow::Cow;
use std::ops::Range;

/// A column's part in filling a slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Source {
    pub slot: usize,
    pub transform: Transform,
    /// The column's place among the slot's candidate columns (0 is the
    /// first choice): a later one fills the slot only where the earlier
    /// ones give nothing (ALB's `domain_name` where the request line has
    /// no host).
    pub rank: u8,
}

/// Which columns of a text format fill which slots.
#[derive(Debug, Clone, Default)]
pub struct ColumnPlan {
    /// For each column, the slots it fills and how.
    pub by_column: Vec<Vec<Source>>,
    /// One past the last column any slot reads (columns after it are not
    /// looked at).
    pub needed: usize,
    /// One past the last column that is some slot's first choice: past
    /// it, only fallbacks are left, worth reading only for a slot still
    /// empty (see [`ColumnPlan::wants`]).
    first_choices: usize,
    /// The slots that columns from `first_choices` on fill as fallbacks.
    fallback_slots: Vec<usize>,
    /// Bit `i` set when column `i` (of the first 64) fills a slot, so that
    /// a parser spends nothing on the columns it only steps over.
    fills: u64,
    /// The columns' names, as planned.
    names: Vec<String>,
}

impl ColumnPlan {
    /// Plans `slots` over a format's `columns` (own names, normalised).
    /// A slot's candidate columns, in order of preference: those of
    /// `overrides` (`--field NAME=COLUMN`), then the ones `vocab` maps the
    /// vocabulary field to, then the column of the slot's own name. Each
    /// that the format has fills the slot where the ones before it give
    /// nothing (absent, `-`, or nothing left after the transform).
    pub fn new(
        slots: &[FieldPath],
        columns: &[String],
        vocab: &[(&str, &str, Transform)],
        overrides: &[(String, String)],
    ) -> ColumnPlan {
        let mut by_column: Vec<Vec<Source>> = vec![Vec::new(); columns.len()];
        // A column of the name as written, else one whose name differs
        // only in ASCII case (`Timestamp`, `Client_IP`).
        let col = |name: &str| {
            let name = normalize_name(name);
            columns
                .iter()
                .position(|c| *c == name)
                .or_else(|| columns.iter().position(|c| c.eq_ignore_ascii_case(&name)))
        };
        for (slot, path) in slots.iter().enumerate() {
            let Some(name) = single(path) else { continue };
            let default_t = vocab_transform(name);
            let candidates = overrides
                .iter()
                .filter(|(n, _)| n == name)
                .map(|(_, c)| (c.as_str(), default_t))
                .chain(
                    vocab
                        .iter()
                        .filter(|(v, _, _)| *v == name)
                        .map(|(_, c, t)| (*c, *t)),
                )
                .chain(std::iter::once((name, default_t)));
            let mut taken: Vec<usize> = Vec::new();
            for (i, transform) in candidates.filter_map(|(c, t)| Some((col(c)?, t))) {
                if taken.contains(&i) {
                    continue;
                }
                let rank = u8::try_from(taken.len()).unwrap_or(u8::MAX);
                taken.push(i);
                if let Some(list) = by_column.get_mut(i) {
                    list.push(Source {
                        slot,
                        transform,
                        rank,
                    });
                }
            }
        }
        let needed = by_column
            .iter()
            .rposition(|l| !l.is_empty())
            .map_or(0, |i| i + 1);
        let first_choices = by_column
            .iter()
            .rposition(|l| l.iter().any(|s| s.rank == 0))
            .map_or(0, |i| i + 1);
        let mut fallback_slots: Vec<usize> = by_column
            .iter()
            .skip(first_choices)
            .flatten()
            .map(|s| s.slot)
            .collect();
        fallback_slots.sort_unstable();
        fallback_slots.dedup();
        let fills = by_column
            .iter()
            .take(64)
            .enumerate()
            .filter(|(_, l)| !l.is_empty())
            .fold(0, |m, (i, _)| m | 1 << i);
        ColumnPlan {
            by_column,
            needed,
            first_choices,
            fallback_slots,
            fills,
            names: columns.to_vec(),
        }
    }

    /// The column that fills `slot` as its candidate `rank`.
    pub fn source_column(&self, slot: usize, rank: u8) -> Option<usize> {
        self.by_column
            .iter()
            .position(|l| l.iter().any(|s| s.slot == slot && s.rank == rank))
    }

    /// The name of the column that fills `slot` as its candidate `rank`.
    pub fn source_name(&self, slot: usize, rank: u8) -> Option<String> {
        self.names.get(self.source_column(slot, rank)?).cloned()
    }

    /// Whether column `col` (and those after it) can still fill anything:
    /// it is before `needed`, and either a first choice or a fallback for a
    /// slot the line has not filled. ALB's `domain_name`, the host when
    /// the request line has none, is then not even cut out of a line whose
    /// request gave the host.
    #[inline]
    pub fn wants(&self, col: usize, out: &[Option<Slot<'_>>]) -> bool {
        col < self.first_choices
            || (col < self.needed
                && self
                    .fallback_slots
                    .iter()
                    .any(|&s| out.get(s).is_some_and(Option::is_none)))
    }

    /// Fills the slots of column `i` from `line[span]`.
    #[inline(always)]
    pub fn put<'a>(
        &self,
        out: &mut [Option<Slot<'a>>],
        i: usize,
        line: &'a str,
        span: Range<usize>,
    ) {
        if i >= 64 || self.fills >> i & 1 == 1 {
            self.put_slots(out, i, line, span);
        }
    }

    /// [`ColumnPlan::put`] for a column that fills some slot, out of line.
    fn put_slots<'a>(
        &self,
        out: &mut [Option<Slot<'a>>],
        i: usize,
        line: &'a str,
        span: Range<usize>,
    ) {
        let Some(list) = self.by_column.get(i).filter(|l| !l.is_empty()) else {
            return;
        };
        let Some(text) = line.get(span.clone()) else {
            return;
        };
        if text.is_empty() || text == "-" {
            return;
        }
        // A request line is read once for all the slots it fills (method,
        // host and path).
        let mut request = None;
        for source in list {
            // (A slot has one first choice, which fills it whatever is
            // there.)
            if source.rank > 0 && vacant(out, source.slot, source.rank).is_none() {
                continue;
            }
            let t = source.transform;
            let r = match t {
                Transform::ReqMethod | Transform::ReqHost | Transform::ReqPath => {
                    request.get_or_insert_with(|| request_parts(text)).get(t)
                }
                _ => transform(t, text),
            };
            if let Some(r) = r {
                let at = span.start + r.start..span.start + r.end;
                put_span(out, source.slot, line, at, source.rank);
            }
        }
    }

    /// Fills the slots of column `i` with an owned value (an unescaped
    /// quoted field).
    pub fn put_owned<'a>(
        &self,
        out: &mut [Option<Slot<'a>>],
        i: usize,
        value: &str,
        span: Range<usize>,
    ) {
        if value.is_empty() || value == "-" {
            return;
        }
        for source in self.by_column.get(i).into_iter().flatten() {
            if let Some(r) = transform(source.transform, value)
                && let Some(v) = value.get(r)
                && let Some(o) = vacant(out, source.slot, source.rank)
            {
                *o = Some(Slot {
                    val: FieldVal::Str(Cow::Owned(v.to_string())),
                    span: Some(span.clone()),
                    rank: source.rank,
                });
            }
        }
    }
}

/// Normalises a format's own field name so that rules can write it:
/// characters other than ASCII letters, digits and `_` become `_`.
pub fn normalize_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Whether a rule's field path names this slot: its single segment, when
/// the path has one.
pub fn single(path: &FieldPath) -> Option<&str> {
    match path.0.as_slice() {
        [one] => Some(one.as_str()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A slot's candidate columns fill it in order of preference, whatever
    /// their order in the line: an override first, then the vocabulary's
    /// columns, then the column of the slot's own name; a later one only
    /// where the earlier give nothing.
    #[test]
    fn fallback_columns_fill_only_what_the_first_choice_left_empty() {
        let columns: Vec<String> = ["sni", "request", "host", "edge"]
            .iter()
            .map(|c| c.to_string())
            .collect();
        let vocab = [
            ("host", "request", Transform::ReqHost),
            ("host", "sni", Transform::Host),
        ];
        let slots = [FieldPath(vec!["host".into()])];
        let host = |plan: &ColumnPlan, cells: [&'static str; 4]| {
            let mut out = vec![None; 1];
            let mut at = 0;
            let line: String = cells.join(" ");
            for (col, cell) in cells.iter().enumerate() {
                plan.put(&mut out, col, &line, at..at + cell.len());
                at += cell.len() + 1;
            }
            out[0].as_ref().map(|s| s.val.to_string())
        };
        let plan = ColumnPlan::new(&slots, &columns, &vocab, &[]);
        // The first choice (`request`) gives nothing: the fallbacks, in
        // order, before it in the line or after.
        assert_eq!(
            host(&plan, ["sni.example", "-", "own.example", "e"]).as_deref(),
            Some("sni.example")
        );
        assert_eq!(
            host(&plan, ["-", "-", "own.example", "e"]).as_deref(),
            Some("own.example")
        );
        assert_eq!(host(&plan, ["-", "-", "-", "e"]), None);
        // The first choice replaces a fallback read before it.
        let mut out = vec![None; 1];
        let line = "sni.example GET https://a.example/x HTTP/1.1";
        plan.put(&mut out, 0, line, 0..11);
        plan.put(&mut out, 1, line, 12..line.len());
        assert_eq!(
            out[0].as_ref().map(|s| s.val.to_string()).as_deref(),
            Some("a.example")
        );
        // An override comes first, the defaults after it.
        let plan = ColumnPlan::new(&slots, &columns, &vocab, &[("host".into(), "edge".into())]);
        assert_eq!(
            host(&plan, ["sni.example", "-", "own.example", "e.example"]).as_deref(),
            Some("e.example")
        );
        assert_eq!(
            host(&plan, ["sni.example", "-", "own.example", "-"]).as_deref(),
            Some("sni.example")
        );
        // Past the last first choice, a column is read only while a slot
        // it could fill is empty.
        let plan = ColumnPlan::new(
            &slots,
            &["request".to_string(), "x".into(), "sni".into()],
            &vocab,
            &[],
        );
        let mut out = vec![None; 1];
        assert!(plan.wants(0, &out) && plan.wants(2, &out));
        out[0] = Some(Slot::at(FieldVal::Str(Cow::Borrowed("a.example")), 0..9));
        assert!(!plan.wants(1, &out) && !plan.wants(2, &out));
    }
}
