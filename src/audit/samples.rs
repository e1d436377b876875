//! What a violation shows: its message, its `--findings` record and its
//! sample, a diagnostic on its own log line.
//!
//! Only violations get here, and only while a sample or a record is
//! wanted, so this is off the hot path: the line is read again in full
//! (judging read only the fields it needed), the message rendered from
//! the clause's template or its title, and the sample's labels placed on
//! the fields that decided it ("`host` is `x`", "classified by …"). A
//! long line is shown as an [`Excerpt`] around its labels.

use super::judge::{self, Ctx, Text};
use super::tally::Finding;
use super::{ClauseStats, Sample};
use crate::diag::{Code, Diag};
use crate::eval::compiled::CClause;
use crate::eval::render_message;
use crate::rules::ast::Severity;
use crate::scan::logs::vocabulary::{Field, VOCABULARY};
use crate::scan::logs::{self, Millis, Slot, format_timestamp};
use crate::source::SourceFile;
use crate::value::Record;
use std::ops::Range;

/// A line that violates a clause, as judging read it.
pub(super) struct Violation<'v, 'a> {
    /// Its line number within its piece.
    pub(super) line_no: u64,
    pub(super) text: Text<'v>,
    pub(super) ts: Millis,
    /// Its slots, as far as judging read them.
    pub(super) slots: &'v [Option<Slot<'a>>],
}

/// What `violation` of `clause` shows: its `--findings` record, pushed to
/// `findings` when they are written, and its sample when `want_sample`.
/// The line is read again in full first, when judging read only part of
/// it.
pub(super) fn show(
    ctx: &Ctx<'_>,
    clause: &CClause,
    violation: &Violation<'_, '_>,
    findings: &mut Vec<Finding>,
    want_sample: bool,
) -> Option<Sample> {
    let &Violation {
        line_no,
        text,
        ts,
        slots,
    } = violation;
    // The line was read for judging only, or not read at all (a record
    // read from columns has no spans): read it in full for the sample.
    let rendered;
    let (line, reread) = match text {
        Text::Line(line) => (line, ctx.full_parser),
        Text::Rendered(render) => {
            rendered = render();
            (rendered.as_str(), Some(ctx.full()))
        }
    };
    let full;
    let slots = match reread {
        Some(parser) => {
            let mut all = vec![None; ctx.compiled.slots.len()];
            if parser.parse(line, &mut all).is_ok() {
                let _ = judge::fill_derived(ctx, &mut all);
                full = all;
                &full[..]
            } else {
                slots
            }
        }
        None => slots,
    };
    let message = message(ctx, clause, slots);
    if ctx.findings {
        let mut fields = serde_json::Map::new();
        for field in Field::ALL.iter().filter(|f| **f != Field::Timestamp) {
            if let Some(s) = slots.get(field.slot()).and_then(Option::as_ref) {
                fields.insert(
                    field.name().to_string(),
                    serde_json::Value::String(s.val.to_string()),
                );
            }
        }
        // The other fields that decided the violation (`client_cloud`,
        // `target_cloud`, a tag): what the clause checks and what made it
        // apply.
        for &i in clause.check_slots.iter().chain(&clause.applies_slots) {
            if i < VOCABULARY.len() {
                continue;
            }
            if let Some(s) = slots.get(i).and_then(Option::as_ref) {
                // INVARIANT: `labels` has one entry per slot, and `i` is a
                // slot of the clause.
                #[expect(clippy::indexing_slicing, reason = "see the INVARIANT above")]
                let name = &ctx.labels[i];
                fields
                    .entry(name.clone())
                    .or_insert_with(|| s.val.to_value().to_json());
            }
        }
        let raw_ts = slots
            .get(Field::Timestamp.slot())
            .and_then(Option::as_ref)
            .map(|s| s.val.to_string())
            .unwrap_or_default();
        let doc = serde_json::json!({
            "file": ctx.file,
            "line": line_no,
            "timestamp": logs::format_timestamp_precise(ts, &raw_ts),
            "clause": clause.id,
            "terms": clause.terms_id,
            "severity": clause.severity,
            "message": message,
            "fields": fields,
        });
        findings.push(Finding { line: line_no, doc });
    }
    if !want_sample {
        return None;
    }
    let primary = clause
        .check_slots
        .iter()
        .find_map(|&i| {
            let slot = slots.get(i)?.as_ref()?;
            let span = slot.span.clone()?;
            let note = if slot.rank == 1 && (i == Field::Cloud.slot() || i == Field::Region.slot())
            {
                " (from the published IP ranges)"
            } else {
                ""
            };
            Some((span, format!("{}{note}", describe(ctx, slots, i))))
        })
        .unwrap_or_else(|| {
            let what = clause
                .check_slots
                .first()
                .map(|&i| describe(ctx, slots, i))
                .unwrap_or_else(|| "this request".to_string());
            let why = match (
                ctx.format.cloud(),
                clause.check_slots.contains(&Field::Cloud.slot()),
            ) {
                (Some(_), true) => format!(
                    ": every request in this `{}` log was served by it",
                    ctx.format
                ),
                _ => String::new(),
            };
            // The value is implied by the format, not written: point at
            // the line's first field rather than underline all of it.
            let first = line
                .find([' ', '\t', ','])
                .unwrap_or(line.len())
                .max(1)
                .min(line.len());
            (0..first, format!("{what}{why}"))
        });
    let mut secondary = Vec::new();
    for &i in &clause.applies_slots {
        if let Some(span) = slots
            .get(i)
            .and_then(Option::as_ref)
            .and_then(|s| s.span.clone())
            && span != primary.0
            && !secondary
                .iter()
                .any(|(s, _): &(Range<usize>, String)| *s == span)
        {
            secondary.push((span, format!("classified by {}", describe(ctx, slots, i))));
        }
    }
    Some(Sample {
        file: ctx.file.to_string(),
        line: line_no,
        unit: ctx.format.record_unit(),
        timestamp: ts,
        text: line.to_string(),
        message,
        primary,
        secondary,
    })
}

/// "`host` is `x`", or "no `host`", for slot `i`.
fn describe(ctx: &Ctx<'_>, slots: &[Option<Slot<'_>>], i: usize) -> String {
    // INVARIANT: `labels` has one entry per slot, and `i` is a slot of a
    // compiled clause.
    #[expect(clippy::indexing_slicing, reason = "see the INVARIANT above")]
    let name = &ctx.labels[i];
    match slots.get(i).and_then(Option::as_ref) {
        Some(s) => format!("`{name}` is `{}`", s.val),
        None => format!("no `{name}`"),
    }
}

fn message(ctx: &Ctx<'_>, clause: &CClause, slots: &[Option<Slot<'_>>]) -> String {
    let mut record = ctx.compiled.record(slots);
    let get = |i: usize| {
        slots
            .get(i)
            .and_then(Option::as_ref)
            .map(|s| s.val.to_string())
    };
    let address = format!(
        "{}{}{}",
        get(Field::Method.slot())
            .map(|m| format!("{m} "))
            .unwrap_or_default(),
        get(Field::Host.slot()).unwrap_or_default(),
        get(Field::Path.slot()).unwrap_or_default()
    );
    record
        .fields
        .insert("address".into(), crate::value::Value::str(address.trim()));
    let (_, c) = ctx.compiled.source(clause);
    render_message(c, &record as &dyn Record).unwrap_or_else(|| {
        let title = c.title.clone().unwrap_or_else(|| clause.id.clone());
        format!("{} breaks \"{title}\"", address.trim())
    })
}

impl Sample {
    /// The sample as a diagnostic on its log line.
    pub fn to_diag(&self, stats: &ClauseStats) -> Diag {
        let sev = stats.severity.unwrap_or(Severity::Error);
        let level = sev.level();
        let mut spans: Vec<Range<usize>> = vec![self.primary.0.clone()];
        spans.extend(self.secondary.iter().map(|(s, _)| s.clone()));
        let shown = Excerpt::of(&self.text, &spans);
        let src = SourceFile::excerpt_at(
            &self.file,
            shown.text.clone(),
            usize::try_from(self.line).unwrap_or(usize::MAX),
            shown.column_shift(&self.primary.0),
        );
        let clamp = |r: &Range<usize>| shown.map(r);
        let mut d = Diag {
            level,
            ..Diag::error(
                Code::clause(&stats.clause),
                if self.unit == "line" {
                    format!(
                        "{}: {} (at {})",
                        sev.as_str(),
                        self.message,
                        format_timestamp(self.timestamp)
                    )
                } else {
                    format!(
                        "{}: {} (at {}, {})",
                        sev.as_str(),
                        self.message,
                        format_timestamp(self.timestamp),
                        super::locus(&self.file, self.unit, self.line)
                    )
                },
            )
        }
        .in_file(&src)
        .label(clamp(&self.primary.0), self.primary.1.clone());
        for (span, text) in &self.secondary {
            d = d.label(clamp(span), text.clone());
        }
        d.with_help(stats.help.clone())
    }
}

/// A long log line cut down to the parts around its labels, joined by ` … `,
/// so that a sample on a 1,500-character JSON line stays readable.
struct Excerpt {
    text: String,
    /// `(start in the line, end in the line, start in the excerpt)`.
    windows: Vec<(usize, usize, usize)>,
}

impl Excerpt {
    /// Lines up to this long are shown whole.
    const WHOLE: usize = 160;
    /// Characters of context on each side of a label.
    const CONTEXT: usize = 24;

    fn of(line: &str, spans: &[Range<usize>]) -> Excerpt {
        if line.len() <= Excerpt::WHOLE {
            return Excerpt {
                text: line.to_string(),
                windows: vec![(0, line.len(), 0)],
            };
        }
        let floor = |mut i: usize| {
            i = i.min(line.len());
            while !line.is_char_boundary(i) {
                i -= 1;
            }
            i
        };
        let mut wanted: Vec<(usize, usize)> = spans
            .iter()
            .map(|s| {
                (
                    floor(s.start.saturating_sub(Excerpt::CONTEXT)),
                    floor(s.end.max(s.start).saturating_add(Excerpt::CONTEXT)),
                )
            })
            .collect();
        wanted.sort_unstable();
        let mut merged: Vec<(usize, usize)> = Vec::new();
        for (a, b) in wanted {
            match merged.last_mut() {
                Some(last) if a <= last.1 + 8 => last.1 = last.1.max(b),
                _ => merged.push((a, b)),
            }
        }
        let mut text = String::new();
        let mut windows = Vec::new();
        for (i, (a, b)) in merged.iter().enumerate() {
            if i == 0 && *a > 0 {
                text.push('…');
            } else if i > 0 {
                text.push_str(" … ");
            }
            windows.push((*a, *b, text.len()));
            // INVARIANT: `floor` puts both ends on character boundaries of
            // the line, and keeps their order (`a <= b`); string slicing is
            // not `indexing_slicing`, but panics alike.
            text.push_str(&line[*a..*b]);
        }
        if merged.last().is_some_and(|(_, b)| *b < line.len()) {
            text.push('…');
        }
        Excerpt { text, windows }
    }

    /// A span of the line as a span of the excerpt.
    fn map(&self, r: &Range<usize>) -> Range<usize> {
        match self
            .windows
            .iter()
            .find(|(a, b, _)| r.start >= *a && r.start <= *b)
        {
            Some((a, b, at)) => at + (r.start - a)..at + (r.end.min(*b) - a),
            None => 0..0,
        }
    }

    /// Bytes between where the excerpt shows `primary` and where the line
    /// has it (miette counts columns in bytes), so that the reported column
    /// is the line's.
    fn column_shift(&self, primary: &Range<usize>) -> usize {
        primary.start.saturating_sub(self.map(primary).start)
    }
}
