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

use crate::diag::{Code, Diag};
use crate::eval::compiled::{CClause, Compiled, LineOutcome, Memo};
use crate::eval::render_message;
use crate::rules::RuleSet;
use crate::rules::ast::Severity;
use crate::scan::logs::decompress::{self, Compression};
use crate::scan::logs::ipranges::IpRanges;
use crate::scan::logs::{
    self, FieldVal, LineError, LineParser, LogFormat, Millis, Parsed, Slot, format_timestamp,
    parse_timestamp,
};
use crate::source::{SourceFile, display_path};
use crate::value::{FieldPath, Record};
use std::borrow::Cow;
use std::collections::{BTreeMap, HashSet};
use std::io::{Read, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

/// Bytes of input per chunk handed to a worker.
pub const CHUNK_BYTES: usize = 4 << 20;
/// A line longer than this is malformed (and skipped, not buffered).
pub const MAX_LINE_BYTES: usize = 1 << 20;
/// Distinct subjects tracked per clause; beyond it the count is a floor.
pub const SUBJECT_CAP: usize = 100_000;

/// The fields the audit itself reads, in this slot order.
const AUDIT_SLOTS: &[&str] = &[
    "timestamp",
    "host",
    "path",
    "method",
    "status",
    "client_ip",
    "target_ip",
    "cloud",
    "region",
    "kind",
    "bytes_in",
    "bytes_out",
];
const TS: usize = 0;
const HOST: usize = 1;
const PATH: usize = 2;
const METHOD: usize = 3;
const CLIENT_IP: usize = 5;
const TARGET_IP: usize = 6;
const CLOUD: usize = 7;
const REGION: usize = 8;
const KIND: usize = 9;

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
    /// `map_chunks`).
    pub mmap: bool,
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
        }
    }
}

/// A violation shown in the report, on its own log line.
#[derive(Debug, Clone)]
pub struct Sample {
    pub file: String,
    pub line: u64,
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
    subjects_set: HashSet<Box<str>>,
    pub subjects_capped: bool,
    pub first_seen: Option<Millis>,
    pub last_seen: Option<Millis>,
    pub samples: Vec<Sample>,
}

impl ClauseStats {
    pub fn subjects(&self) -> usize {
        self.subjects_set.len()
    }

    fn merge(&mut self, other: ClauseStats, keep: usize) {
        self.violations += other.violations;
        self.excepted += other.excepted;
        self.first_seen = min_opt(self.first_seen, other.first_seen);
        self.last_seen = max_opt(self.last_seen, other.last_seen);
        self.subjects_capped |= other.subjects_capped;
        for s in other.subjects_set {
            if self.subjects_set.len() >= SUBJECT_CAP {
                self.subjects_capped = true;
                break;
            }
            self.subjects_set.insert(s);
        }
        for s in other.samples {
            if self.samples.len() < keep {
                self.samples.push(s);
            }
        }
    }
}

fn min_opt(a: Option<Millis>, b: Option<Millis>) -> Option<Millis> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, y) => x.or(y),
    }
}

fn max_opt(a: Option<Millis>, b: Option<Millis>) -> Option<Millis> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.max(y)),
        (x, y) => x.or(y),
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

    fn add(&mut self, o: &Summary) {
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
}

impl AuditReport {
    pub fn violations(&self) -> u64 {
        self.clauses.iter().map(|c| c.violations).sum()
    }
}

/// What a worker made of a chunk.
#[derive(Default)]
struct ChunkResult {
    summary: Summary,
    clauses: Vec<ClauseStats>,
    malformed: Vec<PendingDiag>,
    /// `--findings` records, their `line` relative to the piece.
    findings: Vec<serde_json::Value>,
    /// Lines the piece held.
    lines: u64,
    /// Per vocabulary slot and candidate rank (`slot * RANKS + rank`):
    /// records it filled, and the field's name as the input writes it.
    fills: Vec<(u64, Option<String>)>,
}

/// Candidate ranks told apart in the fields summary (later ones are
/// counted with the last).
const RANKS: usize = 8;

impl ChunkResult {
    /// A result with one empty statistics slot per compiled clause.
    fn empty(ctx: &Ctx<'_>) -> ChunkResult {
        ChunkResult {
            clauses: ctx
                .compiled
                .clauses
                .iter()
                .map(|_| ClauseStats::default())
                .collect(),
            fills: vec![(0, None); AUDIT_SLOTS.len() * RANKS],
            ..Default::default()
        }
    }
}

/// Counts which source filled each vocabulary slot of a record, naming
/// each source the first time it is seen.
fn count_fills(
    ctx: &Ctx<'_>,
    fills: &mut [(u64, Option<String>)],
    line: &str,
    slots: &[Option<Slot<'_>>],
) {
    for &i in &ctx.fill_slots {
        let Some(Some(slot)) = slots.get(i) else {
            continue;
        };
        let k = i * RANKS + usize::from(slot.rank).min(RANKS - 1);
        if let Some((n, name)) = fills.get_mut(k) {
            if *n == 0 {
                *name = Some(source_name(ctx, i, slot, line));
            }
            *n += 1;
        }
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

/// A piece of input, in file order. Line numbers are not counted by the
/// reader (that would be one more pass over every chunk): a worker numbers
/// the lines of its piece from 0 and says how many it had, and the
/// collector, which merges pieces in order, adds the line the piece starts
/// at.
enum Work {
    Lines {
        /// Storage, reused; its first `len` bytes are the lines.
        data: Vec<u8>,
        len: usize,
    },
    /// One line that is not read (too long, or cut short by a stream
    /// error).
    Malformed { reason: String, text: String },
    /// A line that is not a record and is skipped (a CSV header).
    Skip,
    /// Lines of a file, in a window of it mapped into memory (unmapped
    /// when the last piece of it is done).
    Mapped {
        map: Arc<logs::mapped::Window>,
        range: Range<usize>,
    },
}

/// A malformed line as a worker saw it, its line number relative to its
/// piece; the collector makes the diagnostic.
struct PendingDiag {
    line: u64,
    text: String,
    reason: String,
    at: Range<usize>,
    code: Code,
}

impl PendingDiag {
    fn new(line: u64, text: &str, reason: &str, at: Range<usize>, code: Code) -> Self {
        PendingDiag {
            line,
            text: text.to_string(),
            reason: reason.to_string(),
            at,
            code,
        }
    }

    fn diag(self, file: &str, first_line: u64) -> Diag {
        line_diag(
            file,
            first_line + self.line,
            &self.text,
            &self.reason,
            self.at,
            self.code,
        )
    }
}

/// Shared, read-only state of one file's audit.
struct Ctx<'a> {
    compiled: &'a Compiled<'a>,
    /// Reads the fields judging needs.
    parser: &'a dyn LineParser,
    /// Reads every field, for the violations shown or written out, when
    /// `parser` reads fewer.
    full_parser: Option<&'a dyn LineParser>,
    format: LogFormat,
    file: &'a str,
    ranges: &'a IpRanges,
    samples: usize,
    malformed_shown: usize,
    findings: bool,
    max_line: usize,
    client_cloud: Option<[usize; 3]>,
    target_cloud: Option<[usize; 3]>,
    labels: Vec<String>,
    /// The vocabulary slots read (all but `kind`): which source filled
    /// them is counted for the summary.
    fill_slots: Vec<usize>,
}

/// Audits `inputs` (`-` is standard input) against `rules`.
pub fn audit(rules: &RuleSet, inputs: &[PathBuf], opts: &mut Options) -> AuditReport {
    let mut compiled = Compiled::new(rules, AUDIT_SLOTS);
    // Messages interpolate fields: give them slots so that samples and
    // `--findings` can render them.
    for (terms, clause) in rules.clauses() {
        let _ = terms;
        if let Some(m) = &clause.message {
            for part in &m.parts {
                if let crate::rules::ast::MessagePart::Field(p, _) = part {
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
    let client_cloud = attribution_slots(&compiled, "client");
    let target_cloud = attribution_slots(&compiled, "target");
    let service = compiled.slot_of("service");
    let labels: Vec<String> = compiled.slots.iter().map(|p| p.to_string()).collect();
    // The slots judging a line needs: what the rules read, the timestamp,
    // the host (a violation's subject), the addresses when published IP
    // ranges attribute them, and everything when `--findings` writes each
    // violation's fields. The others are left empty, so never parsed.
    let needed: Vec<bool> = (0..compiled.slots.len())
        .map(|i| {
            compiled.read.get(i).copied().unwrap_or(false)
                || i == TS
                || i == HOST
                || i == KIND
                || ((i == CLIENT_IP || i == TARGET_IP) && !opts.ip_ranges.is_empty())
                || opts.findings.is_some()
        })
        .collect();
    let needed_slots: Vec<FieldPath> = compiled
        .slots
        .iter()
        .zip(&needed)
        .map(|(p, n)| if *n { p.clone() } else { FieldPath(Vec::new()) })
        .collect();

    let mut report = AuditReport {
        clauses: compiled
            .clauses
            .iter()
            .map(|c| clause_header(rules, c))
            .collect(),
        ..Default::default()
    };
    let progress = progress_bar(opts.progress, inputs);
    for path in inputs {
        let name = if path == Path::new("-") {
            "<stdin>".to_string()
        } else {
            display_path(path)
        };
        let mut input = match decompress::open(path) {
            Ok(i) => i,
            Err(e) => {
                report.unreadable.push(
                    Diag::error(Code::InputUnreadable, format!("cannot read `{name}`: {e}"))
                        .with_help("check the path; use `-` for standard input"),
                );
                continue;
            }
        };
        // The head decides the format and holds any header line.
        let mut head = Vec::with_capacity(64 << 10);
        let mut head_err = read_up_to(&mut input.reader, &mut head, 64 << 10).err();
        // JSON that is not one object per line (pretty-printed records one
        // after another, `{"records": [...]}` documents, arrays) streams
        // through a transducer that writes one record per line
        // (`json_stream`); the head is then read again from it.
        let document =
            opts.format.is_none_or(LogFormat::is_json) && logs::json_stream::is_document(&head);
        if document {
            let prior = std::io::Cursor::new(std::mem::take(&mut head));
            let rest: Box<dyn Read + Send> = match head_err.take() {
                Some(e) => Box::new(FailOnce(Some(e))),
                None => std::mem::replace(&mut input.reader, Box::new(std::io::empty())),
            };
            input.reader = Box::new(logs::json_stream::RecordLines::new(prior.chain(rest)));
            head_err = read_up_to(&mut input.reader, &mut head, 64 << 10).err();
        }
        let format = opts.format.or_else(|| logs::detect(&head));
        let mut info = InputInfo {
            file: name.clone(),
            format,
            compression: input.compression,
            records: 0,
            malformed: 0,
            bytes: 0,
            summary: Summary::default(),
            fields: Vec::new(),
        };
        let Some(format) = format else {
            if head.iter().all(u8::is_ascii_whitespace) && head_err.is_none() {
                report.inputs.push(info);
                continue;
            }
            report.unreadable.push(
                Diag::error(
                    Code::InputUnknownFormat,
                    format!("cannot tell the log format of `{name}`"),
                )
                .with_help(
                    "name it with `--log-format jsonl|csv|alb|cloudfront|azure-frontdoor|nginx|aws-apigateway|azure-appgateway`",
                ),
            );
            report.inputs.push(info);
            continue;
        };
        let header_text = String::from_utf8_lossy(&head).into_owned();
        let first_line = header_text.lines().next().unwrap_or("").to_string();
        let make_parser = |slots: &[FieldPath]| -> Box<dyn LineParser> {
            match format {
                LogFormat::Jsonl => Box::new(logs::jsonl::JsonParser::new(
                    slots,
                    logs::jsonl::VOCAB,
                    &opts.overrides,
                )),
                LogFormat::AzureFrontdoor => Box::new(logs::jsonl::JsonParser::new(
                    slots,
                    logs::azure_frontdoor::VOCAB,
                    &opts.overrides,
                )),
                LogFormat::AwsApiGateway => Box::new(logs::jsonl::JsonParser::new(
                    slots,
                    logs::apigateway::VOCAB,
                    &opts.overrides,
                )),
                LogFormat::AzureAppGateway => Box::new(logs::jsonl::JsonParser::new(
                    slots,
                    logs::appgateway::VOCAB,
                    &opts.overrides,
                )),
                LogFormat::Alb => Box::new(logs::alb::AlbParser::new(slots, &opts.overrides)),
                LogFormat::Nginx => Box::new(logs::nginx::NginxParser::new(slots, &opts.overrides)),
                LogFormat::Cloudfront
                    if first_line.trim_start_matches('\u{feff}').starts_with('{') =>
                {
                    Box::new(logs::cloudfront::CloudfrontJsonParser::new(
                        slots,
                        &opts.overrides,
                    ))
                }
                LogFormat::Cloudfront => Box::new(logs::cloudfront::CloudfrontParser::new(
                    slots,
                    &opts.overrides,
                    &header_text,
                )),
                LogFormat::Csv => Box::new(logs::csv::CsvParser::new(
                    slots,
                    &opts.overrides,
                    &first_line,
                )),
            }
        };
        // Every line is read for the fields that judging it needs; a
        // violation that is shown or written out is read again in full
        // (for its message and fields).
        let full_parser = make_parser(&compiled.slots);
        let parser = if needed.iter().all(|n| *n) {
            None
        } else {
            Some(make_parser(&needed_slots))
        };
        let ctx = Ctx {
            compiled: &compiled,
            parser: parser.as_deref().unwrap_or(full_parser.as_ref()),
            full_parser: parser.is_some().then_some(full_parser.as_ref()),
            format,
            file: &name,
            ranges: &opts.ip_ranges,
            samples: opts.samples,
            malformed_shown: opts.malformed_shown,
            findings: opts.findings.is_some(),
            max_line: opts.max_line_bytes.max(1),
            client_cloud,
            target_cloud: target_cloud.or(service.map(|s| [usize::MAX, usize::MAX, s])),
            labels: labels.clone(),
            fill_slots: (0..AUDIT_SLOTS.len())
                .filter(|&i| i != KIND && needed.get(i).copied().unwrap_or(false))
                .collect(),
        };
        // CSV's header line is not a record.
        let skip_first = format == LogFormat::Csv;
        let raw = input.raw_bytes.clone();
        let reader = input.reader;
        // A plain file is mapped into memory rather than read (no copy);
        // CSV (whose header line the reader skips), compressed input and
        // standard input are read.
        let mapped = (opts.mmap
            && input.compression == Compression::None
            && !skip_first
            && !document
            && head_err.is_none()
            && path != Path::new("-"))
        .then(|| {
            let file = std::fs::File::open(path).ok()?;
            let meta = file.metadata().ok()?;
            let len = usize::try_from(meta.len()).ok()?;
            (meta.is_file() && len > 0).then_some((file, len))
        })
        .flatten();
        let raw_in = raw.clone();
        let threads = opts.threads.max(1);
        let mut file_summary = Summary::default();
        let mut file_fills: Vec<(u64, Option<String>)> = vec![(0, None); AUDIT_SLOTS.len() * RANKS];
        let (opts_chunk, opts_max_line) = (opts.chunk_bytes.max(1), opts.max_line_bytes.max(1));
        let findings_out = &mut opts.findings;
        let report_ref = &mut report;
        let (work_tx, work_rx) = mpsc::sync_channel::<(u64, Work)>(threads * 2);
        let work_rx = Mutex::new(work_rx);
        std::thread::scope(|s| {
            let (res_tx, res_rx) = mpsc::channel::<(u64, ChunkResult)>();
            let (recycle_tx, recycle_rx) = mpsc::channel::<Vec<u8>>();
            for _ in 0..threads {
                let res_tx = res_tx.clone();
                let recycle_tx = recycle_tx.clone();
                let work_rx = &work_rx;
                let ctx = &ctx;
                s.spawn(move || {
                    loop {
                        let next = match work_rx.lock() {
                            Ok(rx) => rx.recv(),
                            Err(_) => break,
                        };
                        let Ok((seq, work)) = next else { break };
                        let (result, buffer) = process(ctx, work);
                        if let Some(b) = buffer {
                            // The reader may be done: then the buffer goes.
                            let _ = recycle_tx.send(b);
                        }
                        if res_tx.send((seq, result)).is_err() {
                            break;
                        }
                    }
                });
            }
            drop(res_tx);
            drop(recycle_tx);
            let limits = (opts_chunk, opts_max_line);
            s.spawn(move || match mapped {
                Some((file, len)) => map_chunks(&file, len, limits, &raw_in, &work_tx),
                None => read_chunks(
                    head,
                    head_err,
                    reader,
                    skip_first,
                    limits,
                    &work_tx,
                    &recycle_rx,
                ),
            });
            let mut pending: BTreeMap<u64, ChunkResult> = BTreeMap::new();
            let mut next = 0u64;
            // The line the next piece starts at.
            let mut first_line = 1u64;
            for (seq, result) in res_rx {
                pending.insert(seq, result);
                while let Some(r) = pending.remove(&next) {
                    next += 1;
                    let base = first_line;
                    first_line += r.lines;
                    file_summary.add(&r.summary);
                    for (mine, theirs) in file_fills.iter_mut().zip(r.fills) {
                        mine.0 += theirs.0;
                        if mine.1.is_none() {
                            mine.1 = theirs.1;
                        }
                    }
                    for (mine, mut theirs) in report_ref.clauses.iter_mut().zip(r.clauses) {
                        theirs.samples.iter_mut().for_each(|s| s.line += base);
                        mine.merge(theirs, ctx.samples);
                    }
                    for d in r.malformed {
                        if report_ref.malformed.len() < ctx.malformed_shown {
                            report_ref.malformed.push(d.diag(ctx.file, base));
                        }
                    }
                    if let Some(out) = findings_out.as_mut() {
                        let mut text = String::new();
                        for mut doc in r.findings {
                            if let Some(obj) = doc.as_object_mut() {
                                let rel = obj.get("line").and_then(|l| l.as_u64()).unwrap_or(0);
                                obj.insert("line".into(), (base + rel).into());
                            }
                            text.push_str(&doc.to_string());
                            text.push('\n');
                        }
                        let _ = out.write_all(text.as_bytes());
                    }
                    if let Some(pb) = &progress {
                        pb.set_position(raw.load(Ordering::Relaxed));
                    }
                }
            }
        });
        if let Some(pb) = &progress {
            pb.inc(0);
        }
        // A file shorter at the end than at the start was cut short while
        // it was read (truncated, or rotated with `copytruncate`): what
        // was not read was not audited, and the result must say so.
        if let Some(size) = input.raw_size.filter(|_| path != Path::new("-")) {
            let read = raw.load(Ordering::Relaxed);
            let now = std::fs::metadata(path).map_or(0, |m| m.len());
            if read < size || now < size || logs::mapped::take_cut_short() {
                file_summary.warnings += 1;
                // (A mapped read counts the windows mapped, which may
                // reach past the new end.)
                let read = if now < size {
                    read.min(now)
                } else {
                    read.min(size)
                };
                report
                    .warnings
                    .push(truncated_warning(&name, size, read, now));
            }
        }
        info.records = file_summary.records;
        info.malformed = file_summary.malformed;
        info.bytes = file_summary.bytes;
        info.summary = file_summary;
        info.fields = file_fills
            .into_iter()
            .enumerate()
            .filter(|(_, (n, _))| *n > 0)
            .filter_map(|(k, (records, from))| {
                Some(FieldSource {
                    field: AUDIT_SLOTS.get(k / RANKS)?,
                    from: from.unwrap_or_default(),
                    records,
                })
            })
            .collect();
        report.summary.add(&file_summary);
        report.inputs.push(info);
    }
    if let Some(pb) = progress {
        pb.finish_and_clear();
    }
    if let Some(out) = opts.findings.as_mut() {
        let _ = out.flush();
    }
    report
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

fn clause_header(rules: &RuleSet, c: &CClause) -> ClauseStats {
    let terms = rules.terms.get(c.terms);
    let clause = terms.and_then(|t| t.clauses.get(c.clause));
    let help = match (terms, clause) {
        (Some(t), Some(cl)) => rules.citation_help(t, cl, c.interval),
        _ => String::new(),
    };
    ClauseStats {
        clause: c.id.clone(),
        title: clause.and_then(|cl| cl.title.clone()),
        terms: c.terms_id.clone(),
        severity: Some(c.severity),
        in_force_from: Some(c.interval.from),
        in_force_until: c.interval.until,
        help,
        ..Default::default()
    }
}

/// The warning for a file that was `size` bytes when its audit began,
/// of which `read` were read, and is `now` bytes at the end.
fn truncated_warning(name: &str, size: u64, read: u64, now: u64) -> Diag {
    Diag::warning(
        Code::InputTruncated,
        format!(
            "`{name}` was cut short while it was audited: it had {size} bytes when the audit began, {read} were read (it has {now} now); records after byte {read} were not audited"
        ),
    )
    .with_help("audit a copy of a log that is being rotated or truncated (`cp` it first), or audit it again once it is complete")
}

/// Why an over-long line was not read: one wording, whichever reader
/// (or worker) found it.
fn too_long_reason(max_line: usize) -> String {
    format!("the line is longer than {max_line} bytes; it was skipped")
}

/// Sends the pieces of one input to the workers, numbered in order (the
/// collector merges their results by number, which keeps line numbers).
struct Numbered<'t> {
    tx: &'t mpsc::SyncSender<(u64, Work)>,
    seq: u64,
}

impl Numbered<'_> {
    /// `false` when the workers are gone (the reader then stops).
    fn send(&mut self, w: Work) -> bool {
        let ok = self.tx.send((self.seq, w)).is_ok();
        self.seq += 1;
        ok
    }
}

/// Cuts a plain file into chunks of whole lines, as [`read_chunks`] does,
/// but through windows of it mapped into memory: the workers read the
/// page cache where it is, instead of a copy the kernel made into a
/// buffer (a fifth of the CPU time of an audit of JSON lines). Each
/// window is a few chunks long, starts at the first line not yet sent,
/// ends at its last newline, and is unmapped when its last chunk is done,
/// so the memory mapped stays bounded whatever the file's size. A line
/// longer than a window (so longer than the longest line read) is sent as
/// malformed and skipped. The file is mapped with its pages populated up
/// front, so that the workers do not stop on page faults.
fn map_chunks(
    file: &std::fs::File,
    len: usize,
    (chunk_bytes, max_line): (usize, usize),
    raw: &AtomicU64,
    tx: &mpsc::SyncSender<(u64, Work)>,
) {
    // Mapping offsets must be multiples of the page size (64 KiB covers
    // every page size Linux uses).
    const ALIGN: usize = 64 << 10;
    let window = (chunk_bytes * 4).max(max_line * 2).max(ALIGN);
    let mut out = Numbered { tx, seq: 0 };
    let mut send = |w: Work| out.send(w);
    let mut at = 0usize;
    while at < len {
        let base = at / ALIGN * ALIGN;
        let map_len = (at - base + window).min(len - base);
        let map = match logs::mapped::Window::map(file, base, map_len) {
            Ok(m) => Arc::new(m),
            Err(e) => {
                let _ = send(Work::Malformed {
                    reason: format!(
                        "the file could not be read from byte {at} on ({e}); the rest of it was not audited"
                    ),
                    text: String::new(),
                });
                return;
            }
        };
        raw.store((base + map_len) as u64, Ordering::Relaxed);
        let from = at - base;
        let end = if base + map_len == len {
            map_len
        } else {
            match memchr::memrchr(b'\n', map.get(from..).unwrap_or(&[])) {
                Some(p) => from + p + 1,
                None => {
                    // No newline in a whole window: the line is longer
                    // than any line read.
                    let head = map.get(from..(from + 200).min(map_len)).unwrap_or(&[]);
                    if !send(Work::Malformed {
                        reason: too_long_reason(max_line),
                        text: String::from_utf8_lossy(head).into_owned(),
                    }) {
                        return;
                    }
                    at = next_line(file, base + map_len).unwrap_or(len);
                    continue;
                }
            }
        };
        let mut start = from;
        let mut end = end;
        let mut stopped = false;
        while start < end {
            // A file cut short under the map: send only what it still
            // has, to its last whole line, and stop (the audit warns).
            // Pages lost between this look and a worker's read read as
            // zeros (see `mapped`).
            let now = file.metadata().map_or(0, |m| m.len());
            let now = usize::try_from(now).unwrap_or(usize::MAX);
            if now < base + end {
                stopped = true;
                let keep = now.saturating_sub(base).max(start);
                end = memchr::memrchr(b'\n', map.get(start..keep).unwrap_or(&[]))
                    .map_or(start, |p| start + p + 1);
            }
            let mut stop = (start + chunk_bytes).min(end);
            if stop < end {
                stop = memchr::memchr(b'\n', map.get(stop..end).unwrap_or(&[]))
                    .map_or(end, |p| stop + p + 1);
            }
            if !send(Work::Mapped {
                map: Arc::clone(&map),
                range: start..stop,
            }) {
                return;
            }
            start = stop;
        }
        if stopped {
            return;
        }
        at = base + end;
    }
}

/// Where the line after the one running through byte `from` of `file`
/// starts (`None` at the end of the file), read in small pieces.
fn next_line(file: &std::fs::File, from: usize) -> Option<usize> {
    use std::io::{Seek, SeekFrom};
    let mut f = file;
    f.seek(SeekFrom::Start(from as u64)).ok()?;
    let mut buf = vec![0u8; 64 << 10];
    let mut at = from;
    loop {
        let n = f.read(&mut buf).ok()?;
        if n == 0 {
            return None;
        }
        if let Some(p) = memchr::memchr(b'\n', buf.get(..n).unwrap_or(&[])) {
            return Some(at + p + 1);
        }
        at += n;
    }
}

/// A reader that fails once with the error it holds, then ends: the
/// error that cut a head short, after the head.
struct FailOnce(Option<std::io::Error>);

impl Read for FailOnce {
    fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
        match self.0.take() {
            Some(e) => Err(e),
            None => Ok(0),
        }
    }
}

/// Reads until `buf` holds `limit` bytes or the input ends.
fn read_up_to(r: &mut dyn Read, buf: &mut Vec<u8>, limit: usize) -> std::io::Result<()> {
    let mut tmp = [0u8; 16 << 10];
    while buf.len() < limit {
        let n = r.read(&mut tmp)?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(tmp.get(..n).unwrap_or(&[]));
    }
    Ok(())
}

/// Cuts the input into chunks of whole lines, numbering them. Over-long
/// lines and a stream that ends in an error (a truncated gzip) are sent as
/// malformed records, in order.
///
/// Buffers come back from the workers through `recycle` and are reused at
/// their full length: the input is read straight into them, with no zero
/// fill and no fresh pages per chunk; only the incomplete last line of a
/// chunk is copied (into the next buffer).
#[allow(clippy::too_many_arguments)]
fn read_chunks(
    head: Vec<u8>,
    head_err: Option<std::io::Error>,
    mut reader: Box<dyn Read + Send>,
    skip_first: bool,
    (chunk_bytes, max_line): (usize, usize),
    tx: &mpsc::SyncSender<(u64, Work)>,
    recycle: &mpsc::Receiver<Vec<u8>>,
) {
    let mut out = Numbered { tx, seq: 0 };
    let mut send = |w: Work| out.send(w);
    // `buf` is storage; `len` bytes of it hold input.
    let mut len = head.len();
    let mut buf = head;
    let mut pending_err = head_err;
    let mut skipping_long: Option<Vec<u8>> = None;
    let mut header_pending = skip_first;
    let mut eof = pending_err.is_some();
    // Set when the buffer holds no whole line: read more even if it
    // already holds a chunk's worth (a line longer than a chunk but not
    // longer than the longest line read).
    let mut partial = false;
    loop {
        if !eof && (len < chunk_bytes || partial) {
            partial = false;
            let need = len + chunk_bytes;
            if buf.len() < need {
                buf.resize(need + need / 8, 0);
            }
            while len < buf.len() {
                match reader.read(buf.get_mut(len..).unwrap_or(&mut [])) {
                    Ok(0) => {
                        eof = true;
                        break;
                    }
                    Ok(n) => len += n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        pending_err = Some(e);
                        eof = true;
                        break;
                    }
                }
            }
        }
        let filled = buf.get(..len).unwrap_or(&[]);
        // An over-long line being skipped: drop up to its end.
        if let Some(prefix) = skipping_long.take() {
            match memchr::memchr(b'\n', filled) {
                Some(pos) => {
                    buf.copy_within(pos + 1..len, 0);
                    len -= pos + 1;
                    if !send(Work::Malformed {
                        reason: too_long_reason(max_line),
                        text: String::from_utf8_lossy(&prefix).into_owned(),
                    }) {
                        return;
                    }
                }
                None => {
                    len = 0;
                    if eof {
                        let _ = send(Work::Malformed {
                            reason: too_long_reason(max_line),
                            text: String::from_utf8_lossy(&prefix).into_owned(),
                        });
                        break;
                    }
                    skipping_long = Some(prefix);
                    continue;
                }
            }
        }
        if header_pending {
            match memchr::memchr(b'\n', buf.get(..len).unwrap_or(&[])) {
                Some(pos) => {
                    buf.copy_within(pos + 1..len, 0);
                    len -= pos + 1;
                    header_pending = false;
                    if !send(Work::Skip) {
                        return;
                    }
                }
                None if eof => {
                    len = 0;
                    header_pending = false;
                }
                None => {}
            }
        }
        let filled = buf.get(..len).unwrap_or(&[]);
        let cut = match memchr::memrchr(b'\n', filled) {
            Some(pos) => Some(pos + 1),
            None if eof => Some(len),
            None => None,
        };
        match cut {
            Some(cut) if cut > 0 => {
                // The rest (an incomplete line) starts the next buffer.
                let rest = len - cut;
                let mut next = recycle.try_recv().unwrap_or_default();
                if next.len() < rest {
                    next.resize(rest, 0);
                }
                if let (Some(dst), Some(src)) = (next.get_mut(..rest), buf.get(cut..len)) {
                    dst.copy_from_slice(src);
                }
                let data = std::mem::replace(&mut buf, next);
                len = rest;
                let mut data_len = cut;
                let body = data.get(..cut).unwrap_or(&[]);
                // A stream that failed mid-way: its last line is incomplete.
                let truncated_tail = if eof && pending_err.is_some() && body.last() != Some(&b'\n')
                {
                    let start = memchr::memrchr(b'\n', body).map_or(0, |p| p + 1);
                    data_len = start;
                    Some(body.get(start..).unwrap_or(&[]).to_vec())
                } else {
                    None
                };
                if data_len > 0
                    && !send(Work::Lines {
                        data,
                        len: data_len,
                    })
                {
                    return;
                }
                if let Some(tail) = truncated_tail {
                    let why = pending_err
                        .take()
                        .map(|e| e.to_string())
                        .unwrap_or_default();
                    let _ = send(Work::Malformed {
                        reason: format!(
                            "the input ends early ({why}); this last line is incomplete"
                        ),
                        text: String::from_utf8_lossy(&tail).into_owned(),
                    });
                }
            }
            _ => {
                if len > max_line {
                    let prefix = filled.get(..200).unwrap_or(filled).to_vec();
                    len = 0;
                    skipping_long = Some(prefix);
                    continue;
                }
                partial = true;
            }
        }
        if eof && len == 0 {
            if let Some(e) = pending_err.take() {
                let _ = send(Work::Malformed {
                    reason: format!("the input ends early: {e}"),
                    text: String::new(),
                });
            }
            break;
        }
    }
}

/// A diagnostic on one log line.
fn line_diag(
    file: &str,
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
        format!("{}…", text.get(..end).unwrap_or(""))
    } else {
        text.to_string()
    };
    let at = at.start.min(shown.len())..at.end.min(shown.len()).max(at.start.min(shown.len()));
    let src = SourceFile::excerpt(file, shown, usize::try_from(line).unwrap_or(usize::MAX));
    Diag::error(code, format!("line {line} of `{file}` is not a record: {reason}"))
        .in_file(&src)
        .label(at, reason.to_string())
        .with_help("the line is counted as malformed and skipped; the audit goes on (`--allow-malformed` keeps the exit code 0/1)")
}

/// Judges one piece of work; hands back the buffer of a chunk of lines
/// for reuse.
fn process(ctx: &Ctx<'_>, work: Work) -> (ChunkResult, Option<Vec<u8>>) {
    match work {
        Work::Lines { data, len } => {
            let r = process_chunk(ctx, Piece::Lines(data.get(..len).unwrap_or(&data)));
            (r, Some(data))
        }
        Work::Malformed { reason, text } => {
            (process_chunk(ctx, Piece::Malformed(reason, text)), None)
        }
        Work::Mapped { map, range } => (
            process_chunk(ctx, Piece::Lines(map.get(range).unwrap_or(&[]))),
            None,
        ),
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
    r.summary.bytes = data.len() as u64;
    // The whole chunk is checked at once (simdutf8's vector check; a
    // chunk that fails is checked line by line below, with the reason).
    let whole = simdutf8::basic::from_utf8(data).ok();
    let mut slots: Vec<Option<Slot<'_>>> = vec![None; ctx.compiled.slots.len()];
    let memo = ctx.compiled.new_memo();
    let mut scratch = logs::Scratch::default();
    let mut line_no = 0u64;
    let mut start = 0usize;
    while start < data.len() {
        let end = memchr::memchr(b'\n', data.get(start..).unwrap_or(&[]))
            .map_or(data.len(), |p| start + p);
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
        let bytes = data.get(range.clone()).unwrap_or(&[]);
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
                    &too_long_reason(ctx.max_line),
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
                        let at = text
                            .char_indices()
                            .nth(
                                String::from_utf8_lossy(bytes.get(..good).unwrap_or(&[]))
                                    .chars()
                                    .count(),
                            )
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
        judge_line(ctx, &mut r, this, line, &mut slots, &memo);
    }
    r.lines = line_no;
    r
}

/// Fills the fields the audit derives (`kind`, `cloud`, the clouds of
/// the addresses) and lower-cases the host; returns the record's kind.
fn fill_derived<'a>(ctx: &Ctx<'_>, slots: &mut [Option<Slot<'a>>]) -> logs::Kind {
    let mut kind = logs::Kind::Request;
    if let Some(s) = slots.get_mut(KIND) {
        let raw = s.as_ref().and_then(|s| s.val.as_str());
        kind = ctx.format.kind(raw);
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
    })) = slots.get_mut(HOST)
        && logs::has_ascii_upper(host.as_bytes())
    {
        *host = Cow::Owned(host.to_ascii_lowercase());
    }
    if let Some(cloud) = ctx.format.cloud()
        && let Some(s) = slots.get_mut(CLOUD)
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
            if let Some(slot) = slots.get_mut(CLOUD)
                && slot.is_none()
            {
                *slot = Some(mk(&a.cloud));
            }
            if let (Some(slot), Some(region)) = (slots.get_mut(REGION), &a.region)
                && slot.is_none()
            {
                *slot = Some(mk(region));
            }
        }
    };
    attribute(slots, TARGET_IP, ctx.target_cloud, true);
    attribute(slots, CLIENT_IP, ctx.client_cloud, false);
    kind
}

fn judge_line<'a>(
    ctx: &Ctx<'_>,
    r: &mut ChunkResult,
    line_no: u64,
    line: &'a str,
    slots: &mut [Option<Slot<'a>>],
    memo: &Memo,
) {
    // Only requests are judged; other records are counted by kind.
    let kind = fill_derived(ctx, slots);
    if kind != logs::Kind::Request {
        r.summary.not_requests += 1;
        if let Some(k) = logs::Kind::NOT_REQUESTS.iter().position(|k| *k == kind)
            && let Some(n) = r.summary.kinds.get_mut(k)
        {
            *n += 1;
        }
        return;
    }
    Compiled::reset_memo(memo);
    let ts_slot = slots.get(TS).and_then(Option::as_ref);
    let Some(ts_slot) = ts_slot else {
        r.summary.outside_terms += 1;
        r.summary.no_timestamp += 1;
        return;
    };
    let ts = match &ts_slot.val {
        FieldVal::Str(s) => parse_timestamp(s),
        FieldVal::Num(n) => parse_timestamp(&format!("{n}")),
        _ => None,
    };
    let Some(ts) = ts else {
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
        return;
    };
    let day = logs::day_of(ts);
    if !ctx.compiled.in_terms(day) {
        r.summary.outside_terms += 1;
        return;
    }
    let mut applied = false;
    let present = ctx.compiled.present(slots);
    for (i, clause) in ctx.compiled.clauses.iter().enumerate() {
        if !clause.interval.contains(day) {
            continue;
        }
        let outcome = ctx.compiled.judge_memo(clause, slots, memo, present);
        match outcome {
            LineOutcome::NotApplicable => continue,
            LineOutcome::Pass => {}
            LineOutcome::Excepted(_) => {
                if let Some(st) = r.clauses.get_mut(i) {
                    st.excepted += 1;
                }
            }
            LineOutcome::Violation => {
                if let Some(st) = r.clauses.get_mut(i) {
                    record_violation(ctx, st, clause, line_no, line, ts, slots, &mut r.findings);
                }
            }
        }
        applied = true;
    }
    if applied {
        r.summary.judged += 1;
    } else {
        r.summary.not_applicable += 1;
    }
}

fn describe(ctx: &Ctx<'_>, slots: &[Option<Slot<'_>>], i: usize) -> String {
    let name = ctx.labels.get(i).map(String::as_str).unwrap_or("?");
    match slots.get(i).and_then(Option::as_ref) {
        Some(s) => format!("`{name}` is `{}`", s.val),
        None => format!("no `{name}`"),
    }
}

#[allow(clippy::too_many_arguments)]
fn record_violation(
    ctx: &Ctx<'_>,
    st: &mut ClauseStats,
    clause: &CClause,
    line_no: u64,
    line: &str,
    ts: Millis,
    slots: &[Option<Slot<'_>>],
    findings: &mut Vec<serde_json::Value>,
) {
    st.violations += 1;
    st.first_seen = min_opt(st.first_seen, Some(ts));
    st.last_seen = max_opt(st.last_seen, Some(ts));
    if let Some(host) = slots
        .get(HOST)
        .and_then(Option::as_ref)
        .and_then(|s| s.val.as_str())
        && !st.subjects_set.contains(host)
    {
        if st.subjects_set.len() < SUBJECT_CAP {
            st.subjects_set.insert(host.into());
        } else {
            st.subjects_capped = true;
        }
    }
    let want_sample = st.samples.len() < ctx.samples;
    if !want_sample && !ctx.findings {
        return;
    }
    // The line was read for judging only: read it in full for the sample.
    let full;
    let slots = match ctx.full_parser {
        Some(parser) => {
            let mut all = vec![None; ctx.compiled.slots.len()];
            if parser.parse(line, &mut all).is_ok() {
                let _ = fill_derived(ctx, &mut all);
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
        for (i, name) in AUDIT_SLOTS.iter().enumerate().skip(1) {
            if let Some(s) = slots.get(i).and_then(Option::as_ref) {
                fields.insert(
                    name.to_string(),
                    serde_json::Value::String(s.val.to_string()),
                );
            }
        }
        // The other fields that decided the violation (`client_cloud`,
        // `target_cloud`, a tag): what the clause checks and what made it
        // apply.
        for &i in clause.check_slots.iter().chain(&clause.applies_slots) {
            if i < AUDIT_SLOTS.len() {
                continue;
            }
            if let (Some(name), Some(s)) =
                (ctx.labels.get(i), slots.get(i).and_then(Option::as_ref))
            {
                fields
                    .entry(name.clone())
                    .or_insert_with(|| s.val.to_value().to_json());
            }
        }
        let raw_ts = slots
            .get(TS)
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
        findings.push(doc);
    }
    if !want_sample {
        return;
    }
    let primary = clause
        .check_slots
        .iter()
        .find_map(|&i| {
            let slot = slots.get(i)?.as_ref()?;
            let span = slot.span.clone()?;
            let note = if slot.rank == 1 && (i == CLOUD || i == REGION) {
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
            let why = match (ctx.format.cloud(), clause.check_slots.contains(&CLOUD)) {
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
    st.samples.push(Sample {
        file: ctx.file.to_string(),
        line: line_no,
        timestamp: ts,
        text: line.to_string(),
        message,
        primary,
        secondary,
    });
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
        get(METHOD).map(|m| format!("{m} ")).unwrap_or_default(),
        get(HOST).unwrap_or_default(),
        get(PATH).unwrap_or_default()
    );
    record
        .fields
        .insert("address".into(), crate::value::Value::str(address.trim()));
    let rules = ctx.compiled.rules;
    let c = rules
        .terms
        .get(clause.terms)
        .and_then(|t| t.clauses.get(clause.clause));
    c.and_then(|c| render_message(c, &record as &dyn Record))
        .unwrap_or_else(|| {
            let title = c
                .and_then(|c| c.title.clone())
                .unwrap_or_else(|| clause.id.clone());
            format!("{} breaks \"{title}\"", address.trim())
        })
}

impl Sample {
    /// The sample as a diagnostic on its log line.
    pub fn to_diag(&self, stats: &ClauseStats) -> Diag {
        let sev = stats.severity.unwrap_or(Severity::Error);
        let level = match sev {
            Severity::Error => crate::diag::Level::Error,
            Severity::Warning => crate::diag::Level::Warning,
            Severity::Info => crate::diag::Level::Advice,
        };
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
                format!(
                    "{}: {} (at {})",
                    sev.as_str(),
                    self.message,
                    format_timestamp(self.timestamp)
                ),
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
                    floor(s.end.saturating_add(Excerpt::CONTEXT)),
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
            text.push_str(line.get(*a..*b).unwrap_or(""));
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
