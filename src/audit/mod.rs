//! `proviso audit`: streaming, time-aware judgement of log exports.
//!
//! Each file is read once, sequentially (decompressing on the way), and cut
//! into chunks of whole lines; a pool of workers parses and judges chunks
//! in parallel, and a collector merges their results *in file order*, so
//! that line numbers, samples and `--findings` output are the same whatever
//! the number of threads. Memory is bounded by the chunks in flight, not by
//! the input: a worker keeps counts, first/last seen, a capped set of
//! subjects and the first few samples, never the records.
//!
//! Every record is judged by the terms in force on the UTC day of its own
//! timestamp. Accounting is exact: `records = judged + not_applicable +
//! outside_terms + malformed`, where a record with no timestamp or a day
//! on which no terms are in force is `outside_terms` (never judged against
//! "today"), and a line that cannot be read is `malformed`.
//!
//! The modules, by job, in the order a line meets them:
//!
//! - `chunks`: opening an input, reading its head, and cutting it into
//!   pieces of whole lines (read into reused buffers, or windows of a
//!   memory map);
//! - `pipeline`: the glue: a reader, a pool of workers and a collector
//!   for one input;
//! - `judge`: what the workers do: a piece into lines, a line into a
//!   record, a record judged by the clauses in force on its day;
//! - `samples`: what a violation shows: its message, its sample (a
//!   diagnostic on its log line) and its `--findings` record;
//! - `tally`: the accounting: a worker's counts, merged in file order
//!   into the input's and the report's.

mod aggregate_report;
pub use aggregate_report::group_json;
mod aggregates;
mod chunks;
mod judge;
mod parquet;
mod pipeline;
mod samples;
mod tally;

use crate::diag::{Code, Diag};
use crate::rules::RuleSet;
use crate::rules::ast::Severity;
use crate::scan::logs::decompress::Compression;
use crate::scan::logs::ipranges::IpRanges;
use crate::scan::logs::{self, LogFormat, Millis};
use crate::source::display_path;
use std::io::Write;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// Bytes of input per chunk handed to a worker.
pub const CHUNK_BYTES: usize = 4 << 20;
/// A line longer than this is malformed (and skipped, not buffered).
pub const MAX_LINE_BYTES: usize = 1 << 20;
/// Distinct subjects tracked per clause; beyond it the count is a floor.
pub const SUBJECT_CAP: usize = 100_000;

/// How to audit.
pub struct Options {
    /// Force a format (`None`: detect per file).
    pub format: Option<LogFormat>,
    /// `--field NAME=SOURCE` overrides.
    pub overrides: Vec<(String, String)>,
    pub ip_ranges: IpRanges,
    /// Samples kept per clause.
    pub samples: usize,
    /// Malformed lines shown (all are counted).
    pub malformed_shown: usize,
    /// Write every violating record here as a JSON line.
    pub findings: Option<Box<dyn Write + Send>>,
    pub threads: usize,
    pub progress: bool,
    /// Input bytes per chunk (tests use small chunks to cross boundaries).
    pub chunk_bytes: usize,
    /// Longest line read; longer lines are malformed.
    pub max_line_bytes: usize,
    /// Read plain (uncompressed, regular) files through windows mapped
    /// into memory instead of copying them into buffers (see
    /// `chunks::map_chunks`).
    pub mmap: bool,
    /// Groups kept per aggregate clause (tests lower it).
    pub max_groups: usize,
    /// Keep, per clause, where each violating record is
    /// ([`ClauseStats::violating`]): what `--what-if` pairs records by.
    pub record_ids: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            format: None,
            overrides: Vec::new(),
            ip_ranges: IpRanges::default(),
            samples: 3,
            malformed_shown: 5,
            findings: None,
            threads: std::thread::available_parallelism().map_or(2, |n| n.get()),
            progress: false,
            chunk_bytes: CHUNK_BYTES,
            max_line_bytes: MAX_LINE_BYTES,
            mmap: true,
            max_groups: crate::aggregate::MAX_GROUPS,
            record_ids: false,
        }
    }
}

/// A run's [`Options`] as the audit reads them: all but the `--findings`
/// writer, which only the collector writes to (and which is therefore
/// borrowed apart, see [`Settings::of`]).
struct Settings<'o> {
    format: Option<LogFormat>,
    overrides: &'o [(String, String)],
    ip_ranges: &'o IpRanges,
    samples: usize,
    malformed_shown: usize,
    /// Whether `--findings` is written.
    findings: bool,
    threads: usize,
    progress: bool,
    limits: chunks::Limits,
    mmap: bool,
    max_groups: usize,
    record_ids: bool,
}

impl Settings<'_> {
    /// The settings of `opts`, and its `--findings` writer.
    fn of(opts: &mut Options) -> (Settings<'_>, &mut tally::FindingsOut) {
        let Options {
            format,
            overrides,
            ip_ranges,
            samples,
            malformed_shown,
            findings,
            threads,
            progress,
            chunk_bytes,
            max_line_bytes,
            mmap,
            max_groups,
            record_ids,
        } = opts;
        let settings = Settings {
            format: *format,
            overrides,
            ip_ranges,
            samples: *samples,
            malformed_shown: *malformed_shown,
            findings: findings.is_some(),
            threads: (*threads).max(1),
            progress: *progress,
            limits: chunks::Limits {
                chunk_bytes: (*chunk_bytes).max(1),
                max_line: (*max_line_bytes).max(1),
            },
            mmap: *mmap,
            max_groups: *max_groups,
            record_ids: *record_ids,
        };
        (settings, findings)
    }
}

/// A violation shown in the report, on its own log line.
#[derive(Debug, Clone)]
pub struct Sample {
    pub file: String,
    pub line: u64,
    /// `line`, or `row` for a Parquet file's (see [`locus`]).
    pub unit: &'static str,
    pub timestamp: Millis,
    pub text: String,
    pub message: String,
    pub primary: (Range<usize>, String),
    pub secondary: Vec<(Range<usize>, String)>,
}

/// Counts for one clause of one terms version.
#[derive(Debug, Clone, Default)]
pub struct ClauseStats {
    pub clause: String,
    pub title: Option<String>,
    pub terms: String,
    pub severity: Option<Severity>,
    pub in_force_from: Option<crate::date::Date>,
    pub in_force_until: Option<crate::date::Date>,
    pub help: String,
    pub violations: u64,
    pub excepted: u64,
    /// Distinct subjects (hosts) with their violations, up to
    /// [`SUBJECT_CAP`].
    subjects_set: std::collections::HashMap<Box<str>, u64>,
    /// Violations per UTC day, in day order (what the HTML report charts:
    /// its size is bounded by the days, not the records).
    pub per_day: Vec<(crate::date::Date, u64)>,
    pub subjects_capped: bool,
    pub first_seen: Option<Millis>,
    pub last_seen: Option<Millis>,
    pub samples: Vec<Sample>,
    /// Groups (of an aggregate clause) whose outcome depends on an
    /// unknown value; per-record clauses have none in an audit.
    pub unresolved: u64,
    /// For an aggregate clause: its groups' accounting and findings.
    pub aggregate: Option<AggregateStats>,
    /// With [`Options::record_ids`]: where each violating record is, as
    /// (input index, line or row), in input and line order; at most
    /// [`VIOLATING_CAP`] (then `violating_capped`).
    pub violating: Vec<(u32, u64)>,
    pub violating_capped: bool,
}

/// Violating records whose place `--what-if` keeps per clause (16 bytes
/// each): beyond it, the clause's comparison is by counts.
pub const VIOLATING_CAP: usize = 16_000_000;

/// An aggregate clause's groups, as judged at the end of the run.
#[derive(Debug, Clone, Default)]
pub struct AggregateStats {
    /// Groups judged (with a record while the clause was in force).
    pub groups: u64,
    pub passed: u64,
    pub excepted: u64,
    pub not_applicable: u64,
    /// The breaching and unresolved groups, in key order.
    pub findings: Vec<GroupFinding>,
}

/// A breaching or unresolved group, with the figures that decided it.
#[derive(Debug, Clone)]
pub struct GroupFinding {
    /// `(name, value)` per part of the key: `("period", "2026-05")`.
    pub key: Vec<(String, String)>,
    /// `violation` or `unresolved`.
    pub outcome: &'static str,
    /// Why it is unresolved (the unknown it depends on).
    pub unresolved_because: Option<String>,
    /// Every figure in `let` order, then the parameters the clause reads.
    pub figures: Vec<(String, crate::aggregate::FVal)>,
    /// The records that decided it (first lines first).
    pub evidence: Vec<EvidenceLine>,
    /// Malformed records that would have joined it (all counted, the
    /// first listed): its figures are computed without them.
    pub left_out: u64,
    pub left_out_lines: Vec<EvidenceLine>,
    pub first_seen: Option<Millis>,
    pub last_seen: Option<Millis>,
    pub message: String,
}

impl GroupFinding {
    /// The key as one label: `2026-05`, or `o5-mini / 2026-05`.
    pub fn label(&self) -> String {
        let parts: Vec<&str> = self.key.iter().map(|(_, v)| v.as_str()).collect();
        parts.join(" / ")
    }
}

/// A record named as evidence: its input and line, and (for the first
/// record of each aggregation) its text.
#[derive(Debug, Clone)]
pub struct EvidenceLine {
    pub file: String,
    pub line: u64,
    /// `line`, or `row` for a Parquet file's (see [`locus`]).
    pub unit: &'static str,
    pub text: Option<std::sync::Arc<str>>,
}

impl EvidenceLine {
    /// `file:12`, or `file.parquet:row 12`.
    pub fn locus(&self) -> String {
        locus(&self.file, self.unit, self.line)
    }
}

/// Where a record is: `file:12` for line 12 of a text input,
/// `file.parquet:row 12` for row 12 of a Parquet file (`unit` is
/// [`LogFormat::record_unit`]).
pub fn locus(file: &str, unit: &str, line: u64) -> String {
    if unit == "row" {
        format!("{file}:row {line}")
    } else {
        format!("{file}:{line}")
    }
}

impl ClauseStats {
    pub fn subjects(&self) -> usize {
        self.subjects_set.len()
    }

    /// The `n` subjects with the most violations, most first (ties by
    /// name), with their counts.
    pub fn top_subjects(&self, n: usize) -> Vec<(&str, u64)> {
        let mut all: Vec<(&str, u64)> = self
            .subjects_set
            .iter()
            .map(|(s, n)| (s.as_ref(), *n))
            .collect();
        all.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        all.truncate(n);
        all
    }

    /// `per_day` as a map, for an out-of-order day: rebuilt in place.
    pub(crate) fn per_day_map(&mut self) -> PerDay<'_> {
        PerDay {
            days: &mut self.per_day,
        }
    }
}

/// A view of [`ClauseStats::per_day`] that inserts a day in order.
pub(crate) struct PerDay<'a> {
    days: &'a mut Vec<(crate::date::Date, u64)>,
}

impl PerDay<'_> {
    pub(crate) fn entry(&mut self, day: crate::date::Date) -> &mut u64 {
        let at = match self.days.binary_search_by(|(d, _)| d.cmp(&day)) {
            Ok(i) => i,
            Err(i) => {
                self.days.insert(i, (day, 0));
                i
            }
        };
        // INVARIANT: `at` is an index the search found or inserted.
        #[expect(clippy::indexing_slicing, reason = "see the INVARIANT above")]
        &mut self.days[at].1
    }
}

/// One input file as read.
#[derive(Debug, Clone)]
pub struct InputInfo {
    pub file: String,
    pub format: Option<LogFormat>,
    pub compression: Compression,
    pub records: u64,
    pub malformed: u64,
    pub bytes: u64,
    /// This input's own accounting (`summary` is the sum over inputs).
    pub summary: Summary,
    /// Which field of the input filled each vocabulary field.
    pub fields: Vec<FieldSource>,
}

/// One source of a vocabulary field in one input: "`host` from `Host`,
/// 3 records".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldSource {
    pub field: &'static str,
    /// The input's field (column, JSON path) as it writes it.
    pub from: String,
    pub records: u64,
}

/// The record accounting.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    pub records: u64,
    pub judged: u64,
    pub not_applicable: u64,
    pub outside_terms: u64,
    /// Of `outside_terms`: records with no timestamp at all.
    pub no_timestamp: u64,
    /// Records that are not client requests (health probes, WAF records,
    /// other categories): counted, never judged.
    pub not_requests: u64,
    /// Of `not_requests`, by kind, in the order of `Kind::NOT_REQUESTS`.
    pub kinds: [u64; 3],
    pub malformed: u64,
    /// Inputs that were read only in part (see `AuditReport::warnings`).
    pub warnings: u64,
    /// Decompressed bytes read.
    pub bytes: u64,
}

impl Summary {
    /// Client requests read: the records that are neither malformed nor
    /// of another kind.
    pub fn requests(&self) -> u64 {
        self.records - self.malformed - self.not_requests
    }
}

/// Everything `proviso audit` has to say.
#[derive(Debug, Default)]
pub struct AuditReport {
    pub inputs: Vec<InputInfo>,
    pub clauses: Vec<ClauseStats>,
    /// The first malformed lines, as diagnostics on the line.
    pub malformed: Vec<Diag>,
    /// Inputs that could not be opened or read at all.
    pub unreadable: Vec<Diag>,
    /// Inputs read only in part (a file cut short while it was read).
    pub warnings: Vec<Diag>,
    pub summary: Summary,
    /// Findings shown per clause in the human report (`--samples`).
    pub shown: usize,
    /// `--what-if`: what the draft would change.
    pub what_if: Option<crate::what_if::Comparison>,
}

impl AuditReport {
    pub fn violations(&self) -> u64 {
        self.clauses.iter().map(|c| c.violations).sum()
    }
}

/// Audits `inputs` (`-` is standard input) against `rules`.
pub fn audit(rules: &RuleSet, inputs: &[PathBuf], opts: &mut Options) -> AuditReport {
    let (settings, findings) = Settings::of(opts);
    // 1. Compile the rules over the vocabulary, and work out which fields
    //    judging a line needs.
    let plan = judge::RunPlan::new(rules, &settings);
    // 2. One entry per compiled clause, which every input's counts join.
    let mut report = AuditReport {
        shown: settings.samples,
        clauses: plan
            .compiled
            .clauses
            .iter()
            .map(|c| tally::clause_header(&plan.compiled, c))
            .collect(),
        ..Default::default()
    };
    // 3. Each input in turn.
    let progress = progress_bar(settings.progress, inputs);
    let mut groups = plan.aggs.plan.new_state();
    for (index, path) in inputs.iter().enumerate() {
        let mut sink = tally::Sink {
            report: &mut report,
            aggs: &mut groups,
            findings: &mut *findings,
            progress: progress.as_ref(),
        };
        audit_input(
            &plan,
            &settings,
            path,
            u32::try_from(index).unwrap_or(u32::MAX),
            &mut sink,
        );
    }
    // 4. The aggregate clauses' groups, judged now that every record is in.
    let judged = crate::aggregate::finish(&plan.aggs.plan, &groups);
    for (spec, long) in plan.aggs.plan.clauses.iter().zip(&groups.long_keys) {
        if *long > 0 {
            report.summary.warnings += 1;
            report.warnings.push(
                Diag::warning(
                    Code::AuditTooManyGroups,
                    format!(
                        "clause `{}`: {} whose group key is longer than {} bytes {} not judged",
                        spec.clause.id.name,
                        if *long == 1 { "1 record".to_string() } else { format!("{long} records") },
                        crate::aggregate::MAX_KEY_BYTES,
                        if *long == 1 { "was" } else { "were" }
                    ),
                )
                .with_help("group by a field with short values (a product name, not a request body), or narrow the records with `over …`"),
            );
        }
    }
    for (spec, dropped) in plan.aggs.plan.clauses.iter().zip(&groups.dropped) {
        if *dropped > 0 {
            report.summary.warnings += 1;
            report.warnings.push(
                Diag::warning(
                    Code::AuditTooManyGroups,
                    format!(
                        "clause `{}` formed more than {} groups: {dropped} records that would have opened more were not judged",
                        spec.clause.id.name,
                        plan.aggs.plan.max_groups
                    ),
                )
                .with_help("group by a field with fewer values (`per model`, not a request id), or narrow the records with `over …`"),
            );
        }
    }
    aggregate_report::add(&mut report, &plan.aggs.plan, judged, findings);
    // 5. Done: the progress bar goes, `--findings` is flushed.
    if let Some(pb) = progress {
        pb.finish_and_clear();
    }
    if let Some(out) = findings.as_mut() {
        let _ = out.flush();
    }
    report
}

/// Audits one input into `sink`.
fn audit_input(
    plan: &judge::RunPlan<'_>,
    settings: &Settings<'_>,
    path: &Path,
    file_index: u32,
    sink: &mut tally::Sink<'_>,
) {
    let name = if path == Path::new("-") {
        "<stdin>".to_string()
    } else {
        display_path(path)
    };
    // 1. Open it (decompressing on the way) and read its head, which
    //    decides the format and holds any header line.
    let opened = match chunks::Opened::open(path, settings.format) {
        Ok(o) => o,
        Err(e) => {
            crate::evidence::note_unreadable_log(&name, &e.to_string());
            sink.report.unreadable.push(
                Diag::error(Code::InputUnreadable, format!("cannot read `{name}`: {e}"))
                    .with_help("check the path; use `-` for standard input"),
            );
            return;
        }
    };
    // 2. Its format: given, or detected from the head. An input of
    //    nothing but blank space has none and is simply empty.
    let format = settings.format.or_else(|| logs::detect(&opened.head));
    let info = InputInfo {
        file: name.clone(),
        format,
        compression: opened.compression(),
        records: 0,
        malformed: 0,
        bytes: 0,
        summary: Summary::default(),
        fields: Vec::new(),
    };
    let Some(format) = format else {
        let blank = opened.is_blank();
        if !blank {
            sink.report.unreadable.push(unknown_format(&name));
        }
        let mut opened = opened;
        let tap = opened.tap.take();
        drop(opened);
        if let Some(t) = tap {
            let why = (!blank).then(|| "its format is unknown: only its head was read".to_string());
            t.finish(&name, info.compression, None, why);
        }
        sink.report.inputs.push(info);
        return;
    };
    if format == LogFormat::Parquet {
        let mut opened = opened;
        let mut tap = opened.tap.take();
        if let Some(t) = tap.as_mut() {
            t.whole_file(path);
        }
        parquet_input(plan, settings, path, &opened, file_index, info, sink);
        drop(opened);
        if let Some(t) = tap {
            t.finish(&name, Compression::None, None, None);
        }
        return;
    }
    // 3. Its parsers, and what the workers share.
    let parsers = judge::Parsers::new(plan, format, &opened.head, settings.overrides);
    let ctx = judge::Ctx::new(plan, &parsers, format, &name, file_index, settings);
    // 4. Read, judge and count it: a reader, workers, and a collector that
    //    merges their results in file order.
    let mut input = opened.into_pieces(path, settings.mmap, format);
    let tap = input.tap.take();
    let mut file = pipeline::run(
        &ctx,
        input.source,
        &input.raw,
        settings.threads,
        settings.limits,
        sink,
    );
    if let Some(pb) = sink.progress {
        pb.inc(0);
    }
    // (Every reader of the input is gone: its hashes are done.)
    if let Some(t) = tap {
        t.finish(&name, info.compression, input.raw_size, None);
    }
    // 5. A file shorter at the end than at the start was cut short while
    //    it was read (truncated, or rotated with `copytruncate`): what
    //    was not read was not audited, and the result must say so.
    if let Some(warning) = chunks::cut_short(path, &name, input.raw_size, &input.raw) {
        file.summary.warnings += 1;
        sink.report.warnings.push(warning);
    }
    // 6. Its accounting, and the report's.
    add_input(sink, info, file);
}

/// An input's accounting, added to the report's.
fn add_input(sink: &mut tally::Sink<'_>, mut info: InputInfo, file: tally::FileTally) {
    sink.report.summary.add(&file.summary);
    info.records = file.summary.records;
    info.malformed = file.summary.malformed;
    info.bytes = file.summary.bytes;
    info.summary = file.summary;
    info.fields = file.field_sources();
    sink.report.inputs.push(info);
}

/// Audits a Parquet input (see [`parquet`]): not from standard input nor
/// compressed as a whole, since its footer, at its end, is read first.
fn parquet_input(
    plan: &judge::RunPlan<'_>,
    settings: &Settings<'_>,
    path: &Path,
    opened: &chunks::Opened,
    file_index: u32,
    info: InputInfo,
    sink: &mut tally::Sink<'_>,
) {
    let name = info.file.clone();
    let refused = if path == Path::new("-") {
        Some(
            "a Parquet file cannot be read from standard input: its footer, at its end, is read first",
        )
    } else if opened.compression() != Compression::None {
        Some(
            "a Parquet file compressed as a whole cannot be read: its footer, at its end, is read first",
        )
    } else {
        None
    };
    let input = match refused {
        Some(why) => Err(Diag::error(
            Code::InputUnreadable,
            format!("cannot read `{name}`: {why}"),
        )
        .with_help(
            "give the path of the file itself, decompressed (Parquet compresses its own pages)",
        )),
        None => parquet::ParquetInput::open(
            path,
            &name,
            &plan.compiled.slots,
            &plan.needed_slots,
            plan.compiled
                .read
                .get(logs::vocabulary::Field::Timestamp.slot())
                == Some(&true),
            settings.overrides,
        ),
    };
    let input = match input {
        Ok(input) => std::sync::Arc::new(input),
        Err(d) => {
            sink.report.unreadable.push(d);
            sink.report.inputs.push(info);
            return;
        }
    };
    let parsers = judge::Parsers::new(plan, LogFormat::Parquet, b"", settings.overrides);
    let ctx = judge::Ctx::new(
        plan,
        &parsers,
        LogFormat::Parquet,
        &name,
        file_index,
        settings,
    );
    let raw = std::sync::atomic::AtomicU64::new(0);
    let file = pipeline::run(
        &ctx,
        chunks::Source::Parquet(input),
        &raw,
        settings.threads,
        settings.limits,
        sink,
    );
    add_input(sink, info, file);
}

/// The error for an input whose format cannot be told.
fn unknown_format(name: &str) -> Diag {
    let names: Vec<&str> = LogFormat::ALL.iter().map(|f| f.name()).collect();
    Diag::error(
        Code::InputUnknownFormat,
        format!("cannot tell the log format of `{name}`"),
    )
    .with_help(format!("name it with `--log-format {}`", names.join("|")))
}

fn progress_bar(enabled: bool, inputs: &[PathBuf]) -> Option<indicatif::ProgressBar> {
    if !enabled {
        return None;
    }
    let total: u64 = inputs
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok().map(|m| m.len()))
        .sum();
    let pb = indicatif::ProgressBar::with_draw_target(
        Some(total),
        indicatif::ProgressDrawTarget::stderr(),
    );
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "proviso audit {bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
    ) {
        pb.set_style(style);
    }
    Some(pb)
}
