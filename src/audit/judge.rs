//! What a worker does with a piece of input: cut it into lines, read each
//! line into slots, and judge each record by the clauses in force on the
//! UTC day of its own timestamp.
//!
//! A [`RunPlan`] is made once per run (the compiled rules, which slots
//! judging needs), [`Parsers`] and a [`Ctx`] once per input; after that,
//! a line costs a UTF-8 check (the whole piece at once), a parse of the
//! fields judging needs into slots reused from line to line, and the
//! clauses' tests, with no allocation unless a value has escapes to undo
//! or the line violates a clause. A line that cannot be read is counted
//! as malformed and kept, the first few of them, as a [`PendingDiag`];
//! what a violation shows is [`super::samples`]'.

use super::aggregates::AggRun;
use super::chunks::{self, Work};
use super::samples::{self, Violation};
use super::tally::{self, ChunkResult, Finding, RANKS};
use super::{ClauseStats, SUBJECT_CAP, Settings};
use crate::aggregate::{self, Evidence};
use crate::diag::{Code, Diag};
use crate::eval::compiled::{CClause, Compiled, LineOutcome, Memo};
use crate::rules::RuleSet;
use crate::rules::ast::MessagePart;
use crate::scan::logs::ipranges::IpRanges;
use crate::scan::logs::vocabulary::{Field, VOCABULARY};
use crate::scan::logs::{
    self, FieldVal, FormatSpec, LineError, LineParser, LogFormat, Millis, Parsed, ParserSetup,
    Slot, parse_timestamp,
};
use crate::source::SourceFile;
use crate::value::FieldPath;
use std::borrow::Cow;
use std::ops::Range;

/// What the rules need of every line of a run, worked out once.
pub(super) struct RunPlan<'r> {
    /// The rules compiled over the slots: the vocabulary's first, in
    /// [`Field`] order, then the fields the rules and their messages
    /// name.
    pub(super) compiled: Compiled<'r>,
    /// Per slot, whether judging a line reads it.
    needed: Vec<bool>,
    /// The slots' fields, with the ones judging does not need left empty
    /// (so never parsed).
    pub(super) needed_slots: Vec<FieldPath>,
    /// The slots `client_cloud`, `client_region`, `client_service` (and
    /// `target_…`) that published IP ranges fill, `usize::MAX` for one no
    /// rule reads; `None` when no rule reads any.
    client_cloud: Option<[usize; 3]>,
    target_cloud: Option<[usize; 3]>,
    /// Each slot's field, as rules write it.
    labels: Vec<String>,
    /// The vocabulary slots read (all but `kind`): which source filled
    /// them is counted for the summary.
    fill_slots: Vec<usize>,
    /// The aggregate clauses and typed fields, compiled over the slots.
    pub(super) aggs: AggRun<'r>,
}

impl<'r> RunPlan<'r> {
    pub(super) fn new(rules: &'r RuleSet, settings: &Settings<'_>) -> RunPlan<'r> {
        let mut compiled = Compiled::new(rules, VOCABULARY);
        // Messages interpolate fields: give them slots so that samples and
        // `--findings` can render them.
        for (_, clause) in rules.clauses() {
            if let Some(m) = &clause.message {
                for part in &m.parts {
                    if let MessagePart::Field(p, _) = part {
                        compiled.slot(p);
                    }
                }
            }
        }
        let attribution_slots = |c: &Compiled<'_>, prefix: &str| -> Option<[usize; 3]> {
            let s = |f: &str| c.slot_of(&format!("{prefix}_{f}"));
            match (s("cloud"), s("region"), s("service")) {
                (None, None, None) => None,
                (a, b, d) => Some([
                    a.unwrap_or(usize::MAX),
                    b.unwrap_or(usize::MAX),
                    d.unwrap_or(usize::MAX),
                ]),
            }
        };
        let mut aggs = AggRun::new(rules, &mut compiled);
        aggs.plan.max_groups = settings.max_groups;
        let client_cloud = attribution_slots(&compiled, "client");
        let target_cloud = attribution_slots(&compiled, "target");
        let service = compiled.slot_of("service");
        let labels: Vec<String> = compiled.slots.iter().map(|p| p.to_string()).collect();
        // The slots judging a line needs: what the rules read, the timestamp,
        // the host (a violation's subject), the addresses when published IP
        // ranges attribute them, and everything when `--findings` writes each
        // violation's fields. The others are left empty, so never parsed.
        // INVARIANT: `Compiled::slot` marks every slot it adds in `read`, so
        // `read` has an entry for every slot.
        #[expect(clippy::indexing_slicing, reason = "see the INVARIANT above")]
        let needed: Vec<bool> = (0..compiled.slots.len())
            .map(|i| {
                compiled.read[i]
                    || i == Field::Timestamp.slot()
                    || i == Field::Host.slot()
                    || i == Field::Kind.slot()
                    || ((i == Field::ClientIp.slot() || i == Field::TargetIp.slot())
                        && !settings.ip_ranges.is_empty())
                    || settings.findings
            })
            .collect();
        let needed_slots: Vec<FieldPath> = compiled
            .slots
            .iter()
            .zip(&needed)
            .map(|(p, n)| if *n { p.clone() } else { FieldPath(Vec::new()) })
            .collect();
        // (The vocabulary's slots are the first.)
        let fill_slots = needed
            .iter()
            .take(VOCABULARY.len())
            .enumerate()
            .filter(|&(i, &n)| n && i != Field::Kind.slot())
            .map(|(i, _)| i)
            .collect();
        RunPlan {
            compiled,
            needed,
            needed_slots,
            client_cloud,
            target_cloud: target_cloud.or(service.map(|s| [usize::MAX, usize::MAX, s])),
            labels,
            fill_slots,
            aggs,
        }
    }
}

/// One input's parsers.
pub(super) struct Parsers {
    /// Reads every field.
    full: Box<dyn LineParser>,
    /// Reads only the fields judging needs, when that is fewer.
    judging: Option<Box<dyn LineParser>>,
}

impl Parsers {
    /// `format`'s parsers for an input that starts with `head`.
    pub(super) fn new(
        plan: &RunPlan<'_>,
        format: LogFormat,
        head: &[u8],
        overrides: &[(String, String)],
    ) -> Parsers {
        let head = String::from_utf8_lossy(head);
        let parser = |slots: &[FieldPath]| {
            format.parser(&ParserSetup {
                slots,
                overrides,
                head: &head,
            })
        };
        // Every line is read for the fields that judging it needs; a
        // violation that is shown or written out is read again in full
        // (for its message and fields).
        let full = parser(&plan.compiled.slots);
        let judging = if plan.needed.iter().all(|n| *n) {
            None
        } else {
            Some(parser(&plan.needed_slots))
        };
        Parsers { full, judging }
    }
}

/// Shared, read-only state of one file's audit.
pub(super) struct Ctx<'a> {
    pub(super) compiled: &'a Compiled<'a>,
    /// Reads the fields judging needs.
    parser: &'a dyn LineParser,
    /// Reads every field, for the violations shown or written out, when
    /// `parser` reads fewer.
    pub(super) full_parser: Option<&'a dyn LineParser>,
    pub(super) format: LogFormat,
    /// The format's table row, looked up once: the line loop reads it.
    spec: &'static FormatSpec,
    pub(super) file: &'a str,
    ranges: &'a IpRanges,
    /// Samples kept per clause.
    pub(super) samples: usize,
    pub(super) malformed_shown: usize,
    /// Whether `--findings` records are made.
    pub(super) findings: bool,
    pub(super) max_line: usize,
    client_cloud: Option<[usize; 3]>,
    target_cloud: Option<[usize; 3]>,
    pub(super) labels: &'a [String],
    fill_slots: &'a [usize],
    pub(super) aggs: &'a AggRun<'a>,
    /// The input's index in the run, for the evidence of aggregates.
    pub(super) file_index: u32,
    /// Whether each violating record's place is kept (`--what-if`).
    pub(super) record_ids: bool,
}

impl<'a> Ctx<'a> {
    pub(super) fn new(
        plan: &'a RunPlan<'a>,
        parsers: &'a Parsers,
        format: LogFormat,
        file: &'a str,
        file_index: u32,
        settings: &Settings<'a>,
    ) -> Ctx<'a> {
        Ctx {
            compiled: &plan.compiled,
            parser: parsers.judging.as_deref().unwrap_or(parsers.full.as_ref()),
            full_parser: parsers.judging.is_some().then_some(parsers.full.as_ref()),
            format,
            spec: format.spec(),
            file,
            ranges: settings.ip_ranges,
            samples: settings.samples,
            malformed_shown: settings.malformed_shown,
            findings: settings.findings,
            max_line: settings.limits.max_line,
            client_cloud: plan.client_cloud,
            target_cloud: plan.target_cloud,
            labels: &plan.labels,
            fill_slots: &plan.fill_slots,
            aggs: &plan.aggs,
            file_index,
            record_ids: settings.record_ids,
        }
    }
}

impl Ctx<'_> {
    /// The parser that reads a line's every field: what a violation's
    /// line is read again with, for what it shows.
    pub(super) fn full(&self) -> &dyn LineParser {
        self.full_parser.unwrap_or(self.parser)
    }
}

/// Judges one piece of work; hands back the buffer of a chunk of lines
/// for reuse.
pub(super) fn process(ctx: &Ctx<'_>, work: Work) -> (ChunkResult, Option<Vec<u8>>) {
    match work {
        Work::Lines { data, len } => {
            // INVARIANT: a reader sends at most the bytes its buffer holds.
            #[expect(clippy::indexing_slicing, reason = "see the INVARIANT above")]
            let r = process_chunk(ctx, Piece::Lines(&data[..len]));
            (r, Some(data))
        }
        Work::Malformed { reason, text } => {
            (process_chunk(ctx, Piece::Malformed(reason, text)), None)
        }
        Work::Mapped { map, range } => {
            // INVARIANT: the reader cuts pieces out of the window it maps.
            #[expect(clippy::indexing_slicing, reason = "see the INVARIANT above")]
            let r = process_chunk(ctx, Piece::Lines(&map[range]));
            (r, None)
        }
        Work::RowGroup { input, group } => (super::parquet::process(ctx, &input, group), None),
        Work::Skip => (
            ChunkResult {
                lines: 1,
                ..ChunkResult::empty(ctx)
            },
            None,
        ),
    }
}

enum Piece<'d> {
    Lines(&'d [u8]),
    Malformed(String, String),
}

fn process_chunk(ctx: &Ctx<'_>, work: Piece<'_>) -> ChunkResult {
    let mut r = ChunkResult::empty(ctx);
    let data = match work {
        Piece::Malformed(reason, text) => {
            r.summary.records = 1;
            r.summary.malformed = 1;
            r.summary.bytes = text.len() as u64;
            r.lines = 1;
            let len = text.len();
            r.malformed.push(PendingDiag::new(
                0,
                &text,
                &reason,
                0..len,
                Code::InputMalformedRecord,
            ));
            return r;
        }
        Piece::Lines(data) => data,
    };
    judge_lines(ctx, data, &mut r);
    r
}

/// Reads and judges the lines of `data` into `r`, numbering them on from
/// the lines `r` has counted (a Parquet row group is judged a batch of
/// rows at a time into one result).
pub(super) fn judge_lines(ctx: &Ctx<'_>, data: &[u8], r: &mut ChunkResult) {
    r.summary.bytes += data.len() as u64;
    // The whole chunk is checked at once (simdutf8's vector check; a
    // chunk that fails is checked line by line below, with the reason).
    let whole = simdutf8::basic::from_utf8(data).ok();
    let mut slots: Vec<Option<Slot<'_>>> = vec![None; ctx.compiled.slots.len()];
    let memo = ctx.compiled.new_memo();
    let mut scratch = logs::Scratch::default();
    let mut line_no = r.lines;
    let mut start = 0usize;
    while start < data.len() {
        // INVARIANT: `start < data.len()` (the loop's condition).
        #[expect(clippy::indexing_slicing, reason = "see the INVARIANT above")]
        let rest = &data[start..];
        let end = memchr::memchr(b'\n', rest).map_or(data.len(), |p| start + p);
        let this = line_no;
        let mut range = start..end;
        start = end + 1;
        line_no += 1;
        if data.get(range.end.wrapping_sub(1)) == Some(&b'\r') && range.end > range.start {
            range.end -= 1;
        }
        // The zeros a mapped window reads where its file was cut short
        // (see `mapped`) are not part of the line.
        if data.get(range.end.wrapping_sub(1)) == Some(&0) {
            while range.end > range.start && data.get(range.end - 1) == Some(&0) {
                range.end -= 1;
            }
        }
        // INVARIANT: `start <= range.start <= range.end <= end <=
        // data.len()` (the end only moves back, never past the start).
        #[expect(clippy::indexing_slicing, reason = "see the INVARIANT above")]
        let bytes = &data[range.clone()];
        if bytes.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        if bytes.len() > ctx.max_line {
            r.summary.records += 1;
            r.summary.malformed += 1;
            if r.malformed.len() < ctx.malformed_shown {
                let text = String::from_utf8_lossy(bytes.get(..200).unwrap_or(bytes)).into_owned();
                let len = text.len();
                r.malformed.push(PendingDiag::new(
                    this,
                    &text,
                    &chunks::too_long_reason(ctx.max_line),
                    0..len,
                    Code::InputMalformedRecord,
                ));
            }
            continue;
        }
        let line: &str = match whole.and_then(|w| w.get(range.clone())) {
            Some(l) => l,
            None => match std::str::from_utf8(bytes) {
                Ok(l) => l,
                Err(e) => {
                    r.summary.records += 1;
                    r.summary.malformed += 1;
                    if r.malformed.len() < ctx.malformed_shown {
                        let good = e.valid_up_to();
                        let text = String::from_utf8_lossy(bytes).into_owned();
                        // INVARIANT: `valid_up_to` is at most the length.
                        #[expect(clippy::indexing_slicing, reason = "see the INVARIANT above")]
                        let valid = &bytes[..good];
                        let at = text
                            .char_indices()
                            .nth(String::from_utf8_lossy(valid).chars().count())
                            .map_or(0, |(i, _)| i);
                        r.malformed.push(PendingDiag::new(
                            this,
                            &text,
                            &format!("invalid UTF-8 at byte {good} of the line"),
                            at..at + 3,
                            Code::InputNotUtf8,
                        ));
                    }
                    continue;
                }
            },
        };
        // A byte-order mark (a file re-saved on Windows) is not part of
        // the first field.
        let line = line.strip_prefix('\u{feff}').unwrap_or(line);
        slots.iter_mut().for_each(|s| *s = None);
        match ctx.parser.parse_with(line, &mut slots, &mut scratch) {
            Ok(Parsed::Skip) => continue,
            Ok(Parsed::Record) => {}
            Err(LineError { reason, at }) => {
                r.summary.records += 1;
                r.summary.malformed += 1;
                if r.malformed.len() < ctx.malformed_shown {
                    r.malformed.push(PendingDiag::new(
                        this,
                        line,
                        &reason,
                        at,
                        Code::InputMalformedRecord,
                    ));
                }
                continue;
            }
        }
        r.summary.records += 1;
        count_fills(ctx, &mut r.fills, line, &slots);
        // (A record read from its line never needs its line again.)
        let _ = judge_line(ctx, r, this, Text::Line(line), &mut slots, &memo, None);
    }
    r.lines = line_no;
}

/// Judges a record read from columns, not from a line (a Parquet row,
/// see `scan::logs::columnar`): its slots, filled without spans, and
/// its time when the columns gave it (`ts`); `render` writes its line,
/// for what shows it. `false`, having counted nothing, when it must be
/// read from its line instead: its fields' sources are met for the
/// first time (their names are read from the line), or it is malformed
/// (a diagnostic shows the line, at the value).
pub(super) fn judge_columns<'a>(
    ctx: &Ctx<'_>,
    r: &mut ChunkResult,
    line_no: u64,
    render: &dyn Fn() -> String,
    slots: &mut [Option<Slot<'a>>],
    memo: &Memo,
    ts: Option<Millis>,
) -> bool {
    // Which source filled each vocabulary slot, read before judging
    // fills the derived ones; counted once the record is judged.
    let mut ranks = [None; VOCABULARY.len()];
    for &i in ctx.fill_slots {
        let Some(Some(slot)) = slots.get(i) else {
            continue;
        };
        let k = i * RANKS + usize::from(slot.rank).min(RANKS - 1);
        if r.fills.get(k).is_none_or(|(n, _)| *n == 0) {
            return false;
        }
        if let Some(rank) = ranks.get_mut(i) {
            *rank = Some(k);
        }
    }
    if judge_line(ctx, r, line_no, Text::Rendered(render), slots, memo, ts) == Judged::NeedsText {
        return false;
    }
    r.summary.records += 1;
    for k in ranks.into_iter().flatten() {
        if let Some((n, _)) = r.fills.get_mut(k) {
            *n += 1;
        }
    }
    true
}

/// Counts which source filled each vocabulary slot of a record, naming
/// each source the first time it is seen.
fn count_fills(
    ctx: &Ctx<'_>,
    fills: &mut [(u64, Option<String>)],
    line: &str,
    slots: &[Option<Slot<'_>>],
) {
    for &i in ctx.fill_slots {
        let Some(Some(slot)) = slots.get(i) else {
            continue;
        };
        let k = i * RANKS + usize::from(slot.rank).min(RANKS - 1);
        // INVARIANT: `fills` has `RANKS` entries per vocabulary slot, and
        // `fill_slots` are vocabulary slots.
        #[expect(clippy::indexing_slicing, reason = "see the INVARIANT above")]
        let (n, name) = &mut fills[k];
        if *n == 0 {
            *name = Some(source_name(ctx, i, slot, line));
        }
        *n += 1;
    }
}

/// The name of the field that filled slot `i` (the first time a source
/// is seen in a chunk).
#[cold]
#[inline(never)]
fn source_name(ctx: &Ctx<'_>, i: usize, slot: &Slot<'_>, line: &str) -> String {
    slot.span
        .clone()
        .and_then(|span| ctx.parser.source_name(i, slot.rank, line, span))
        .unwrap_or_else(|| "?".to_string())
}

/// Fills the fields the audit derives (`kind`, `cloud`, the clouds of
/// the addresses) and lower-cases the host; returns the record's kind.
pub(super) fn fill_derived<'a>(ctx: &Ctx<'_>, slots: &mut [Option<Slot<'a>>]) -> logs::Kind {
    let mut kind = logs::Kind::Request;
    if let Some(s) = slots.get_mut(Field::Kind.slot()) {
        let raw = s.as_ref().and_then(|s| s.val.as_str());
        kind = ctx.spec.record_kind(raw);
        let span = s.as_ref().and_then(|s| s.span.clone());
        *s = Some(Slot {
            span,
            ..Slot::implied(kind.name())
        });
    }
    // Host names are case-insensitive (RFC 4343): `API.OpenAI.com` is
    // the host rules write as `api.openai.com`. Almost every log writes
    // them in lower case already, and then nothing is copied.
    if let Some(Some(Slot {
        val: FieldVal::Str(host),
        ..
    })) = slots.get_mut(Field::Host.slot())
        && logs::has_ascii_upper(host.as_bytes())
    {
        *host = Cow::Owned(host.to_ascii_lowercase());
    }
    if let Some(cloud) = ctx.spec.cloud
        && let Some(s) = slots.get_mut(Field::Cloud.slot())
        && s.is_none()
    {
        *s = Some(Slot::implied(cloud));
    }
    if ctx.ranges.is_empty() {
        return kind;
    }
    let attribute = |slots: &mut [Option<Slot<'a>>],
                     ip_slot: usize,
                     targets: Option<[usize; 3]>,
                     vocab: bool| {
        let Some((ip, span)) = slots.get(ip_slot).and_then(Option::as_ref).and_then(|s| {
            Some((
                s.val.as_str()?.trim().parse::<std::net::IpAddr>().ok()?,
                s.span.clone(),
            ))
        }) else {
            return;
        };
        let Some(a) = ctx.ranges.lookup(ip) else {
            return;
        };
        let mk = |v: &str| Slot {
            val: FieldVal::Str(Cow::Owned(v.to_string())),
            span: span.clone(),
            rank: 1,
        };
        if let Some([c, r, s]) = targets {
            if let Some(slot) = slots.get_mut(c) {
                *slot = Some(mk(&a.cloud));
            }
            if let (Some(slot), Some(region)) = (slots.get_mut(r), &a.region) {
                *slot = Some(mk(region));
            }
            if let (Some(slot), Some(service)) = (slots.get_mut(s), &a.service) {
                *slot = Some(mk(service));
            }
        }
        if vocab {
            if let Some(slot) = slots.get_mut(Field::Cloud.slot())
                && slot.is_none()
            {
                *slot = Some(mk(&a.cloud));
            }
            if let (Some(slot), Some(region)) = (slots.get_mut(Field::Region.slot()), &a.region)
                && slot.is_none()
            {
                *slot = Some(mk(region));
            }
        }
    };
    attribute(slots, Field::TargetIp.slot(), ctx.target_cloud, true);
    attribute(slots, Field::ClientIp.slot(), ctx.client_cloud, false);
    kind
}

/// A record's text, as judging it may need it.
#[derive(Clone, Copy)]
pub(super) enum Text<'t> {
    /// The line it was read from: its slots' spans are in it.
    Line(&'t str),
    /// A record read from columns, with no spans: its line, written on
    /// demand (for a sample, a `--findings` record, evidence), and read
    /// again where the spans are wanted.
    Rendered(&'t dyn Fn() -> String),
}

/// What became of a record given to [`judge_line`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Judged {
    Done,
    /// A [`Text::Rendered`] record that must be read from its line (it
    /// is malformed, and the diagnostic shows the line): nothing of it
    /// was counted.
    NeedsText,
}

fn judge_line<'a>(
    ctx: &Ctx<'_>,
    r: &mut ChunkResult,
    line_no: u64,
    text: Text<'_>,
    slots: &mut [Option<Slot<'a>>],
    memo: &Memo,
    ts_read: Option<Millis>,
) -> Judged {
    // Only requests are judged; other records are counted by kind.
    let kind = fill_derived(ctx, slots);
    if kind != logs::Kind::Request {
        r.summary.not_requests += 1;
        if let Some((_, n)) = logs::Kind::NOT_REQUESTS
            .iter()
            .zip(&mut r.summary.kinds)
            .find(|(k, _)| **k == kind)
        {
            *n += 1;
        }
        return Judged::Done;
    }
    // A record read from columns has no line, and no spans that would
    // point into one.
    let (line, rendered) = match text {
        Text::Line(line) => (line, false),
        Text::Rendered(_) => ("", true),
    };
    Compiled::reset_memo(memo);
    // A value that is not of its declared type, or a required field that
    // is missing, makes the line malformed: judged by no clause, joining
    // no sum (the groups it would have joined say so, below).
    let bad = if ctx.aggs.is_empty() {
        None
    } else {
        ctx.aggs.bad_field(ctx.compiled, line, slots, memo)
    };
    if rendered && bad.is_some() {
        return Judged::NeedsText;
    }
    let malformed = |r: &mut ChunkResult, why: &str, at: Range<usize>| {
        r.summary.malformed += 1;
        if r.malformed.len() < ctx.malformed_shown {
            r.malformed.push(PendingDiag::new(
                line_no,
                line,
                why,
                at,
                Code::InputBadFieldValue,
            ));
        }
    };
    let ts_slot = slots.get(Field::Timestamp.slot()).and_then(Option::as_ref);
    let Some(ts_slot) = ts_slot else {
        if let Some((why, at)) = bad {
            malformed(r, &why, at);
            return Judged::Done;
        }
        r.summary.outside_terms += 1;
        r.summary.no_timestamp += 1;
        return Judged::Done;
    };
    let ts = ts_read.or_else(|| match &ts_slot.val {
        FieldVal::Str(s) => parse_timestamp(s),
        FieldVal::Num(n) => parse_timestamp(&format!("{n}")),
        _ => None,
    });
    let Some(ts) = ts else {
        if rendered {
            return Judged::NeedsText;
        }
        r.summary.malformed += 1;
        if r.malformed.len() < ctx.malformed_shown {
            let at = ts_slot.span.clone().unwrap_or(0..line.len());
            r.malformed.push(PendingDiag::new(
                line_no,
                line,
                &format!("`{}` is not a timestamp proviso can read", ts_slot.val),
                at,
                Code::InputBadTimestamp,
            ));
        }
        return Judged::Done;
    };
    let day = logs::day_of(ts);
    let mut applied = false;
    if !ctx.aggs.is_empty() {
        let evidence = || Evidence {
            file: ctx.file_index,
            line: line_no,
            text: Some(match text {
                Text::Line(line) => aggregate::evidence_text(line),
                Text::Rendered(render) => aggregate::evidence_text(&render()),
            }),
        };
        // A malformed line joins no sum; the groups it would have joined
        // note it (`left_out`).
        applied = ctx.aggs.contribute(
            ctx.compiled,
            &mut r.aggs,
            &mut r.agg_key,
            slots,
            memo,
            ts,
            &evidence,
            line,
            bad.is_some(),
        );
        if let Some((why, at)) = bad {
            malformed(r, &why, at);
            return Judged::Done;
        }
    }
    if !ctx.compiled.in_terms(day) {
        r.summary.outside_terms += 1;
        return Judged::Done;
    }
    let present = ctx.compiled.present(slots);
    // (`r.clauses` has one entry per compiled clause, in their order.)
    for (clause, st) in ctx.compiled.clauses.iter().zip(&mut r.clauses) {
        if !clause.interval.contains(day) {
            continue;
        }
        let outcome = ctx.compiled.judge_memo(clause, slots, memo, present);
        match outcome {
            LineOutcome::NotApplicable => continue,
            LineOutcome::Pass => {}
            LineOutcome::Excepted(_) => st.excepted += 1,
            LineOutcome::Violation => {
                let violation = Violation {
                    line_no,
                    text,
                    ts,
                    slots,
                };
                record_violation(ctx, st, clause, &violation, &mut r.findings);
            }
        }
        applied = true;
    }
    if applied {
        r.summary.judged += 1;
    } else {
        r.summary.not_applicable += 1;
    }
    Judged::Done
}

/// Counts a violation of `clause` by a line, and keeps what it shows
/// while it is wanted: a sample while the clause has fewer than
/// `--samples`, and a `--findings` record when they are written.
fn record_violation(
    ctx: &Ctx<'_>,
    st: &mut ClauseStats,
    clause: &CClause,
    violation: &Violation<'_, '_>,
    findings: &mut Vec<Finding>,
) {
    st.violations += 1;
    if ctx.record_ids {
        if st.violating.len() < super::VIOLATING_CAP {
            st.violating.push((ctx.file_index, violation.line_no));
        } else {
            st.violating_capped = true;
        }
    }
    st.first_seen = tally::min_opt(st.first_seen, Some(violation.ts));
    st.last_seen = tally::max_opt(st.last_seen, Some(violation.ts));
    let day = logs::day_of(violation.ts);
    match st.per_day.last_mut() {
        // Exports are mostly in time order: the day is usually the last.
        Some((d, n)) if *d == day => *n += 1,
        _ => *st.per_day_map().entry(day) += 1,
    }
    if let Some(host) = violation
        .slots
        .get(Field::Host.slot())
        .and_then(Option::as_ref)
        .and_then(|s| s.val.as_str())
    {
        if let Some(n) = st.subjects_set.get_mut(host) {
            *n += 1;
        } else if st.subjects_set.len() < SUBJECT_CAP {
            st.subjects_set.insert(host.into(), 1);
        } else {
            st.subjects_capped = true;
        }
    }
    let want_sample = st.samples.len() < ctx.samples;
    if !want_sample && !ctx.findings {
        return;
    }
    let sample = samples::show(ctx, clause, violation, findings, want_sample);
    st.samples.extend(sample);
}

/// A malformed line as a worker saw it, its line number relative to its
/// piece; the collector makes the diagnostic.
pub(super) struct PendingDiag {
    line: u64,
    text: String,
    reason: String,
    at: Range<usize>,
    code: Code,
}

impl PendingDiag {
    pub(super) fn new(line: u64, text: &str, reason: &str, at: Range<usize>, code: Code) -> Self {
        PendingDiag {
            line,
            text: text.to_string(),
            reason: reason.to_string(),
            at,
            code,
        }
    }

    /// The diagnostic on line (or row: `unit`) `first_line` plus its own
    /// of `file`.
    pub(super) fn diag(self, file: &str, first_line: u64, unit: &str) -> Diag {
        line_diag(
            file,
            unit,
            first_line + self.line,
            &self.text,
            &self.reason,
            self.at,
            self.code,
        )
    }
}

/// A diagnostic on one log line.
fn line_diag(
    file: &str,
    unit: &str,
    line: u64,
    text: &str,
    reason: &str,
    at: Range<usize>,
    code: Code,
) -> Diag {
    let shown: String = if text.len() > 400 {
        let mut end = 400;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        // INVARIANT: `end <= 400 < text.len()`, on a character boundary
        // (string slicing is not `indexing_slicing`, but panics alike).
        let head = &text[..end];
        format!("{head}…")
    } else {
        text.to_string()
    };
    let at = at.start.min(shown.len())..at.end.min(shown.len()).max(at.start.min(shown.len()));
    let src = SourceFile::excerpt(file, shown, usize::try_from(line).unwrap_or(usize::MAX));
    Diag::error(code, format!("{unit} {line} of `{file}` is not a record: {reason}"))
        .in_file(&src)
        .label(at, reason.to_string())
        .with_help("the line is counted as malformed and skipped; the audit goes on (`--allow-malformed` keeps the exit code 0/1)")
}
