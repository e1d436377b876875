//! The audit's accounting: what a worker counted in one piece
//! ([`ChunkResult`]), merged in file order into the input's counts
//! ([`FileTally`]) and the report ([`Sink`]).
//!
//! Counts are exact and add up (`records = judged + not_applicable +
//! outside_terms + malformed`, plus the records that are not requests);
//! what is capped is only what is kept: a clause's distinct subjects (a
//! floor beyond [`SUBJECT_CAP`]), its samples (`--samples`) and the
//! malformed lines shown. A worker numbers its piece's lines from 0; the
//! merge adds the line the piece starts at, which only the collector,
//! seeing pieces in order, knows.

use super::judge::{Ctx, PendingDiag};
use super::{AuditReport, ClauseStats, FieldSource, SUBJECT_CAP, Summary};
use crate::eval::compiled::{CClause, Compiled};
use crate::scan::logs::Millis;
use crate::scan::logs::vocabulary::VOCABULARY;
use std::io::Write;

/// Candidate ranks told apart in the fields summary (later ones are
/// counted with the last).
pub(super) const RANKS: usize = 8;

/// The `--findings` output, when it is written.
pub(super) type FindingsOut = Option<Box<dyn Write + Send>>;

/// What a worker made of a chunk.
#[derive(Default)]
pub(super) struct ChunkResult {
    pub(super) summary: Summary,
    /// Per compiled clause.
    pub(super) clauses: Vec<ClauseStats>,
    pub(super) malformed: Vec<PendingDiag>,
    /// `--findings` records, numbered within the piece.
    pub(super) findings: Vec<Finding>,
    /// Lines the piece held.
    pub(super) lines: u64,
    /// Per vocabulary slot and candidate rank (`slot * RANKS + rank`):
    /// records it filled, and the field's name as the input writes it.
    pub(super) fills: Vec<(u64, Option<String>)>,
    /// The aggregate clauses' groups, as this piece fed them (lines
    /// numbered within the piece).
    pub(super) aggs: crate::aggregate::State,
    /// The worker's buffer for a line's group key (not merged).
    pub(super) agg_key: crate::aggregate::KeyBuf,
}

impl ChunkResult {
    /// A result with one empty statistics slot per compiled clause.
    pub(super) fn empty(ctx: &Ctx<'_>) -> ChunkResult {
        ChunkResult {
            clauses: ctx
                .compiled
                .clauses
                .iter()
                .map(|_| ClauseStats::default())
                .collect(),
            fills: vec![(0, None); VOCABULARY.len() * RANKS],
            aggs: ctx.aggs.plan.new_state(),
            ..Default::default()
        }
    }
}

/// A `--findings` record (a JSON object) and its line within its piece,
/// which the collector makes the line in the file.
pub(super) struct Finding {
    pub(super) line: u64,
    pub(super) doc: serde_json::Value,
}

/// Where the collector merges results: the report, the `--findings`
/// output and the progress bar.
pub(super) struct Sink<'s> {
    pub(super) report: &'s mut AuditReport,
    /// The aggregate clauses' groups over every input so far.
    pub(super) aggs: &'s mut crate::aggregate::State,
    pub(super) findings: &'s mut FindingsOut,
    pub(super) progress: Option<&'s indicatif::ProgressBar>,
}

/// One input's counts, merged from its pieces' results in file order.
pub(super) struct FileTally {
    pub(super) summary: Summary,
    /// As [`ChunkResult::fills`], for the whole input.
    fills: Vec<(u64, Option<String>)>,
    /// The line the next piece starts at.
    first_line: u64,
}

impl FileTally {
    pub(super) fn new() -> FileTally {
        FileTally {
            summary: Summary::default(),
            fills: vec![(0, None); VOCABULARY.len() * RANKS],
            first_line: 1,
        }
    }

    /// Merges the result of the input's next piece: its counts into the
    /// input's; its clauses' counts and samples and its first malformed
    /// lines into the report's; its `--findings` records written out. Its
    /// line numbers count from the line the piece starts at.
    pub(super) fn merge(&mut self, r: ChunkResult, ctx: &Ctx<'_>, sink: &mut Sink<'_>) {
        let base = self.first_line;
        self.first_line += r.lines;
        self.summary.add(&r.summary);
        for (mine, theirs) in self.fills.iter_mut().zip(r.fills) {
            mine.0 += theirs.0;
            if mine.1.is_none() {
                mine.1 = theirs.1;
            }
        }
        for (mine, mut theirs) in sink.report.clauses.iter_mut().zip(r.clauses) {
            theirs.samples.iter_mut().for_each(|s| s.line += base);
            theirs.violating.iter_mut().for_each(|v| v.1 += base);
            mine.merge(theirs, ctx.samples);
        }
        sink.aggs.merge(&ctx.aggs.plan, r.aggs, &|e| e.line += base);
        for d in r.malformed {
            if sink.report.malformed.len() < ctx.malformed_shown {
                sink.report
                    .malformed
                    .push(d.diag(ctx.file, base, ctx.format.record_unit()));
            }
        }
        if let Some(out) = sink.findings.as_mut() {
            let mut text = String::new();
            for Finding { line, mut doc } in r.findings {
                // (A record is an object: see `samples::show`.)
                if let Some(obj) = doc.as_object_mut() {
                    obj.insert("line".into(), (base + line).into());
                    // (A Parquet record's line is its row: said so.)
                    if ctx.format.record_unit() == "row" {
                        obj.insert("row".into(), (base + line).into());
                    }
                }
                text.push_str(&doc.to_string());
                text.push('\n');
            }
            let _ = out.write_all(text.as_bytes());
        }
    }

    /// Which field of the input filled each vocabulary field, and for how
    /// many records, in vocabulary order.
    pub(super) fn field_sources(self) -> Vec<FieldSource> {
        self.fills
            .into_iter()
            .enumerate()
            .filter(|(_, (n, _))| *n > 0)
            .filter_map(|(k, (records, from))| {
                Some(FieldSource {
                    field: VOCABULARY.get(k / RANKS)?,
                    from: from.unwrap_or_default(),
                    records,
                })
            })
            .collect()
    }
}

impl Summary {
    pub(super) fn add(&mut self, o: &Summary) {
        self.records += o.records;
        self.judged += o.judged;
        self.not_applicable += o.not_applicable;
        self.outside_terms += o.outside_terms;
        self.no_timestamp += o.no_timestamp;
        self.not_requests += o.not_requests;
        for (a, b) in self.kinds.iter_mut().zip(o.kinds) {
            *a += b;
        }
        self.malformed += o.malformed;
        self.warnings += o.warnings;
        self.bytes += o.bytes;
    }
}

impl ClauseStats {
    /// Adds `other`'s counts, subjects (up to [`SUBJECT_CAP`]) and samples
    /// (up to `keep`).
    fn merge(&mut self, other: ClauseStats, keep: usize) {
        self.violations += other.violations;
        self.excepted += other.excepted;
        self.first_seen = min_opt(self.first_seen, other.first_seen);
        self.last_seen = max_opt(self.last_seen, other.last_seen);
        self.subjects_capped |= other.subjects_capped;
        self.violating_capped |= other.violating_capped;
        let room = super::VIOLATING_CAP.saturating_sub(self.violating.len());
        if other.violating.len() > room {
            self.violating_capped = true;
        }
        self.violating
            .extend(other.violating.into_iter().take(room));
        for (s, n) in other.subjects_set {
            if let Some(mine) = self.subjects_set.get_mut(&s) {
                *mine += n;
            } else if self.subjects_set.len() < SUBJECT_CAP {
                self.subjects_set.insert(s, n);
            } else {
                self.subjects_capped = true;
            }
        }
        for (day, n) in other.per_day {
            *self.per_day_map().entry(day) += n;
        }
        for s in other.samples {
            if self.samples.len() < keep {
                self.samples.push(s);
            }
        }
    }
}

pub(super) fn min_opt(a: Option<Millis>, b: Option<Millis>) -> Option<Millis> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, y) => x.or(y),
    }
}

pub(super) fn max_opt(a: Option<Millis>, b: Option<Millis>) -> Option<Millis> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.max(y)),
        (x, y) => x.or(y),
    }
}

/// A clause's entry in the report, before any input is counted: its
/// names, severity, dates in force and citation.
pub(super) fn clause_header(compiled: &Compiled<'_>, c: &CClause) -> ClauseStats {
    let (terms, clause) = compiled.source(c);
    ClauseStats {
        clause: c.id.clone(),
        title: clause.title.clone(),
        terms: c.terms_id.clone(),
        severity: Some(c.severity),
        in_force_from: Some(c.interval.from),
        in_force_until: c.interval.until,
        help: compiled.rules.citation_help(terms, clause, c.interval),
        ..Default::default()
    }
}
