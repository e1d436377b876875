//! Evidence that holds: `--evidence FILE` on `check` and `audit`, and
//! what `proviso verify` reads back.
//!
//! An evidence document says what a run judged and what it concluded, so
//! that anyone can later confirm that the same inputs, rules and
//! parameters still give the same findings: the SHA-256 of every file as
//! read (a compressed log's raw bytes and its decompressed stream), the
//! tool's version and commit, the command line (parameter values
//! redacted), the date judged against, each parameter's name with a
//! protected hash of its value, the summary, the findings' digest and the
//! SHA-256 of every report written. The schema is in [`doc`].
//!
//! The design choice: one run is one evidence *session*, process-wide
//! ([`begin`] … [`end`]), which the places that read and write note into
//! ([`note_read`] where a file's text is read, a [`LogTap`] where a log
//! streams, [`note_report`] where a report is written). What the evidence
//! records is read and written in many places across the pipeline, and
//! threading a handle through each of them would put evidence into every
//! signature between the command and the reader; with no session open,
//! every `note_*` is a lock and a `None`. Hashes are taken of the bytes
//! the scan itself read (see [`hash`]), so the evidence describes what
//! was judged even if a file changes while it is read.

pub mod doc;
pub mod hash;
pub mod params;
pub mod rerun;
pub mod verify;

use doc::{Document, FileEntry, Findings, Judged, ParamEntry, Report, TermsEntry, Tool};
use hash::Digest;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The session of this run, when `--evidence` was given.
static SESSION: Mutex<Option<Session>> = Mutex::new(None);

/// What a run has noted so far.
struct Session {
    path: PathBuf,
    doc: Document,
    /// The rule files' names, to tell them from inputs.
    rule_names: Vec<String>,
    /// The proviso.yaml read, if any (canonical).
    config: Option<PathBuf>,
    /// Files read by text (rules, Terraform, side inputs), by name, so
    /// that the document lists them in a stable order.
    reads: BTreeMap<String, Read>,
    /// Salts to reuse for parameters (`proviso verify` hands them over).
    salts: BTreeMap<String, String>,
    /// Whether the run got as far as a result (only then is evidence
    /// written).
    judged: bool,
}

fn with<R>(f: impl FnOnce(&mut Session) -> R) -> Option<R> {
    let mut guard = SESSION.lock().ok()?;
    guard.as_mut().map(f)
}

/// Whether `--evidence` is being recorded.
pub fn active() -> bool {
    with(|_| ()).is_some()
}

/// Opens the session of a `command` run writing evidence to `path`;
/// `argv` is the command line as given (parameter values are redacted
/// before it is kept).
pub fn begin(command: &str, path: &Path, argv: &[String]) {
    let cwd = std::env::current_dir()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let doc = Document {
        proviso_evidence: doc::SCHEMA_VERSION,
        tool: Tool {
            name: "proviso".into(),
            version: crate::build_info::version().into(),
            commit: crate::build_info::commit().into(),
        },
        command: command.into(),
        argv: rerun::redact(argv),
        cwd,
        written: now_utc(),
        judged_by: Judged::default(),
        inputs: Vec::new(),
        rules: Vec::new(),
        side_inputs: Vec::new(),
        config: None,
        params: Vec::new(),
        summary: serde_json::Value::Null,
        findings: Findings::default(),
        reports: Vec::new(),
        exit_code: 0,
    };
    let salts = std::env::var(params::SALTS_ENV)
        .map(|s| params::parse_salts(&s))
        .unwrap_or_default();
    if let Ok(mut g) = SESSION.lock() {
        *g = Some(Session {
            path: path.to_path_buf(),
            doc,
            rule_names: Vec::new(),
            config: None,
            reads: BTreeMap::new(),
            salts,
            judged: false,
        });
    }
}

/// The rule set a run loaded (its files are the rule files read), the
/// proviso.yaml it read, and the parameter values it supplies.
pub fn note_rules_and_params(
    rules: &crate::rules::RuleSet,
    config: Option<&Path>,
    supplied: &[(String, String)],
) {
    if !active() {
        return;
    }
    let names: Vec<String> = rules.files.iter().map(|f| f.name.clone()).collect();
    let config = config.map(canonical);
    with(|s| {
        s.rule_names = names;
        s.config = config;
    });
    let declared: Vec<String> = rules.params.iter().map(|p| p.id.name.clone()).collect();
    note_params(&declared, supplied);
}

fn canonical(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
}

/// A file read whole, by its text (a rule file, a Terraform file, a side
/// input, a proviso.yaml): hashed as read. Its role is decided when the
/// session ends, once the run knows which files were its rules and its
/// configuration.
pub fn note_read(path: &Path, bytes: &[u8]) {
    if !active() {
        return;
    }
    let canon = canonical(path);
    let name = crate::source::display_path(path);
    let yaml = path.extension().is_some_and(|x| x == "yaml" || x == "yml");
    let holds_params = yaml && params::config_holds_params(bytes);
    let digest = Digest::of(bytes);
    with(|s| {
        s.reads.insert(
            name,
            Read {
                canon,
                digest,
                holds_params,
            },
        );
    });
}

/// A file read whole.
struct Read {
    canon: PathBuf,
    digest: Digest,
    /// A proviso.yaml with `params:` (its hash would give them away).
    holds_params: bool,
}

/// The parameters the rules declare (`declared`), and the values the run
/// supplies (`supplied`, last one wins): names and protected hashes.
pub fn note_params(declared: &[String], supplied: &[(String, String)]) {
    if !active() {
        return;
    }
    let mut values: BTreeMap<&str, &str> = BTreeMap::new();
    for (k, v) in supplied {
        values.insert(k, v);
    }
    let mut names: Vec<&str> = declared.iter().map(String::as_str).collect();
    names.extend(values.keys().copied());
    names.sort_unstable();
    names.dedup();
    with(|s| {
        s.doc.params = names
            .iter()
            .map(|n| ParamEntry {
                name: (*n).to_string(),
                supplied: values.contains_key(n),
                hash: values.get(n).map(|v| {
                    let salt = s.salts.get(*n).and_then(|h| hash::unhex(h));
                    params::protect(v, salt)
                }),
            })
            .collect();
    });
}

/// A report written: its format, where (`None`: standard output), its
/// text and whether it went to a terminal (colours, width).
pub fn note_report(format: &str, dest: Option<&Path>, text: &str, terminal: bool) {
    with(|s| {
        let d = Digest::of(text.as_bytes());
        s.doc.reports.push(Report {
            flag: None,
            format: Some(format.to_string()),
            to: dest.map_or_else(|| "<stdout>".into(), crate::source::display_path),
            bytes: d.bytes,
            sha256: d.sha256,
            terminal,
        });
    });
}

/// The result of `check`: its date, summary and findings (the findings'
/// digest is over the `findings` of the JSON report, one compact object a
/// line, in report order).
pub fn note_check(report: &crate::report::CheckReport) {
    if !active() {
        return;
    }
    let json = crate::report::json::render_check(report);
    let value: serde_json::Value = serde_json::from_str(&json).unwrap_or_default();
    let mut canonical = String::new();
    let mut count = 0u64;
    if let Some(list) = value.get("findings").and_then(|f| f.as_array()) {
        for f in list {
            canonical.push_str(&f.to_string());
            canonical.push('\n');
            count += 1;
        }
    }
    let d = Digest::of(canonical.as_bytes());
    with(|s| {
        s.judged = true;
        s.doc.judged_by = Judged {
            as_of: Some(report.as_of.to_string()),
            each_record: false,
            terms: Vec::new(),
        };
        s.doc.summary = value.get("summary").cloned().unwrap_or_default();
        s.doc.findings = Findings {
            count,
            bytes: d.bytes,
            sha256: d.sha256,
            of: doc::CHECK_FINDINGS.into(),
        };
    });
}

/// The result of `audit`: each record judged by its own day's terms (the
/// versions are listed), the summary, and the findings' digest: of the
/// `--findings` stream when it is written (see [`findings_tee`]), else of
/// the JSON report's clauses.
pub fn note_audit(
    report: &crate::audit::AuditReport,
    rules: &crate::rules::RuleSet,
    findings: Option<FindingsTally>,
) {
    if !active() {
        return;
    }
    let json = crate::report::audit_json::render(report);
    let value: serde_json::Value = serde_json::from_str(&json).unwrap_or_default();
    let terms: Vec<TermsEntry> = rules
        .terms
        .iter()
        .map(|t| {
            let iv = rules.terms_in_force_interval(t);
            TermsEntry {
                id: t.id.name.clone(),
                title: t.title.clone(),
                in_force_from: iv.map(|i| i.from.to_string()),
                in_force_until: iv.and_then(|i| i.until.map(|d| d.to_string())),
                clauses: t.clauses.iter().map(|c| c.id.name.clone()).collect(),
            }
        })
        .collect();
    let mut summary = value.get("summary").cloned().unwrap_or_default();
    if let (Some(m), Some(clauses)) = (summary.as_object_mut(), value.get("clauses")) {
        // Per clause and terms version: the counts (not the samples,
        // which the reports carry).
        let counts: Vec<serde_json::Value> = clauses
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|c| {
                        let mut o = serde_json::Map::new();
                        for k in ["clause", "terms", "violations", "excepted", "unresolved"] {
                            if let Some(v) = c.get(k) {
                                o.insert(k.into(), v.clone());
                            }
                        }
                        serde_json::Value::Object(o)
                    })
                    .collect()
            })
            .unwrap_or_default();
        m.insert("clauses".into(), counts.into());
    }
    let f = match findings {
        Some(t) => t.finish(),
        None => {
            // The report's clauses (counts, first and last seen, samples,
            // groups), one compact object a line.
            let mut canonical = String::new();
            let mut count = 0u64;
            for c in value
                .get("clauses")
                .and_then(|c| c.as_array())
                .into_iter()
                .flatten()
            {
                canonical.push_str(&c.to_string());
                canonical.push('\n');
                for k in ["violations", "unresolved"] {
                    count += c.get(k).and_then(serde_json::Value::as_u64).unwrap_or(0);
                }
            }
            let d = Digest::of(canonical.as_bytes());
            Findings {
                count,
                bytes: d.bytes,
                sha256: d.sha256,
                of: doc::AUDIT_CLAUSES.into(),
            }
        }
    };
    with(|s| {
        s.judged = true;
        s.doc.judged_by = Judged {
            as_of: None,
            each_record: true,
            terms,
        };
        s.doc.summary = summary;
        s.doc.findings = f;
    });
}

/// The `--findings` file of an audit: the stream the findings digest is
/// of (call after [`note_audit`]).
pub fn note_findings_file(path: &Path) {
    with(|s| {
        s.doc.reports.push(Report {
            flag: Some("--findings".into()),
            format: None,
            to: crate::source::display_path(path),
            bytes: s.doc.findings.bytes,
            sha256: s.doc.findings.sha256.clone(),
            terminal: false,
        });
    });
}

/// The findings digest of an audit with `--findings`: the stream (JSON
/// lines, in file order), hashed as it is written to the file.
#[derive(Clone)]
pub struct FindingsTally(std::sync::Arc<Mutex<(sha2::Sha256, u64, u64)>>);

impl FindingsTally {
    /// The findings so far: lines, bytes and SHA-256.
    pub fn finish(&self) -> Findings {
        use sha2::Digest as _;
        let (h, bytes, lines) = match self.0.lock() {
            Ok(g) => (g.0.clone(), g.1, g.2),
            Err(_) => return Findings::default(),
        };
        Findings {
            count: lines,
            bytes,
            sha256: hash::hex(&h.finalize()),
            of: doc::AUDIT_FINDINGS.into(),
        }
    }
}

struct Tee {
    inner: Option<Box<dyn std::io::Write + Send>>,
    tally: FindingsTally,
}

impl std::io::Write for Tee {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        use sha2::Digest as _;
        let n = match &mut self.inner {
            Some(w) => w.write(buf)?,
            None => buf.len(),
        };
        if let (Ok(mut g), Some(written)) = (self.tally.0.lock(), buf.get(..n)) {
            g.0.update(written);
            g.1 += n as u64;
            g.2 += memchr::memchr_iter(b'\n', written).count() as u64;
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match &mut self.inner {
            Some(w) => w.flush(),
            None => Ok(()),
        }
    }
}

/// A `--findings` writer that also hashes (`inner`: the user's file, if
/// `--findings` was given).
pub fn findings_tee(
    inner: Option<Box<dyn std::io::Write + Send>>,
) -> (Box<dyn std::io::Write + Send>, FindingsTally) {
    use sha2::Digest as _;
    let tally = FindingsTally(std::sync::Arc::new(Mutex::new((sha2::Sha256::new(), 0, 0))));
    (
        Box::new(Tee {
            inner,
            tally: tally.clone(),
        }),
        tally,
    )
}

/// The hashes of one log input of an audit, taken as it streams.
pub struct LogTap {
    raw: Option<hash::Pending>,
    decoded: Option<hash::Pending>,
    /// For a mapped or Parquet read: the file's hash, taken from the
    /// windows (or a read beside the scan).
    whole: Option<hash::Pending>,
    how: &'static str,
}

impl LogTap {
    /// A tap for an input about to be opened, when evidence is recorded.
    pub fn start() -> Option<LogTap> {
        active().then_some(LogTap {
            raw: None,
            decoded: None,
            whole: None,
            how: "stream",
        })
    }

    /// Wraps the raw (file or standard input) reader.
    pub fn raw(&mut self, r: Box<dyn std::io::Read + Send>) -> Box<dyn std::io::Read + Send> {
        let (feed, pending) = hash::background(None);
        self.raw = Some(pending);
        Box::new(hash::Tapped::new(r, feed))
    }

    /// Wraps the decompressed reader (of a compressed input).
    pub fn decoded(&mut self, r: Box<dyn std::io::Read + Send>) -> Box<dyn std::io::Read + Send> {
        let (feed, pending) = hash::background(None);
        self.decoded = Some(pending);
        Box::new(hash::Tapped::new(r, feed))
    }

    /// The input is read through windows mapped into memory from its
    /// start: the stream taps (which saw only its head) are dropped, and
    /// the windows feed the hash instead.
    pub fn mapped(&mut self, file: &std::fs::File) -> hash::Feed {
        self.raw = None;
        self.decoded = None;
        self.how = "mapped";
        let (feed, pending) = hash::background(file.try_clone().ok());
        self.whole = Some(pending);
        feed
    }

    /// The input is Parquet, read by columns wherever they lie: its bytes
    /// are hashed by a read of its own, on a thread beside the scan.
    pub fn whole_file(&mut self, path: &Path) {
        self.raw = None;
        self.decoded = None;
        self.how = "parquet";
        let Ok(f) = std::fs::File::open(path) else {
            return;
        };
        let (feed, pending) = hash::background(None);
        self.whole = Some(pending);
        std::thread::spawn(move || {
            let mut r = hash::Tapped::new(std::io::BufReader::new(f), feed);
            let _ = std::io::copy(&mut r, &mut std::io::sink());
        });
    }

    /// Waits for the hashes (every reader of the input must be dropped)
    /// and records the input in the session.
    pub fn finish(
        self,
        name: &str,
        compression: crate::scan::logs::decompress::Compression,
        raw_size: Option<u64>,
        error: Option<String>,
    ) {
        let wait = |p: Option<hash::Pending>| p.and_then(hash::Pending::wait);
        let (raw, decoded) = match wait(self.whole) {
            Some(w) => (Some(w), None),
            None => (wait(self.raw), wait(self.decoded)),
        };
        let mut entry = FileEntry::new(name, "log");
        entry.compression = Some(compression.name().into());
        entry.read_as = Some(self.how.into());
        if let Some(d) = &raw {
            entry.set(d);
            entry.complete = Some(raw_size.is_none_or(|n| n == d.bytes));
        }
        if compression != crate::scan::logs::decompress::Compression::None {
            entry.decompressed = decoded;
        }
        entry.note = error;
        with(|s| s.doc.inputs.push(entry));
    }
}

/// Closes the session: writes the document with the run's `exit` code,
/// if the run judged anything. Returns the exit code, 2 if the evidence
/// could not be written.
pub(crate) fn end(exit: i32, err_style: &crate::cli::Style) -> i32 {
    let Some(mut s) = SESSION.lock().ok().and_then(|mut g| g.take()) else {
        return exit;
    };
    if !s.judged {
        return exit;
    }
    s.doc.exit_code = exit;
    // Never over an input (an `evidence:` of proviso.yaml is not checked
    // before the run as `--evidence` is).
    let target = canonical(&s.path);
    if s.reads.values().any(|r| r.canon == target)
        || s.doc
            .inputs
            .iter()
            .any(|i| canonical(Path::new(&i.path)) == target)
    {
        crate::cli::eprint_diags(
            &[crate::diag::Diag::error(
                crate::diag::Code::CliOutputIsInput,
                format!(
                    "the evidence would overwrite `{}`, an input of the run: it was not written",
                    crate::source::display_path(&s.path)
                ),
            )
            .with_help("write the evidence to a file of its own")],
            err_style,
        );
        return crate::cli::EXIT_TROUBLE;
    }
    for (name, read) in std::mem::take(&mut s.reads) {
        if s.rule_names.contains(&name) {
            let mut e = FileEntry::new(&name, "rules");
            e.set(&read.digest);
            s.doc.rules.push(e);
        } else if s.config.as_ref() == Some(&read.canon) {
            let mut e = FileEntry::new(&name, "config");
            if read.holds_params {
                e.bytes = Some(read.digest.bytes);
                e.note =
                    Some("not hashed: it holds parameter values (see `params`, which are)".into());
            } else {
                e.set(&read.digest);
            }
            s.doc.config = Some(e);
        } else {
            let mut e = FileEntry::new(&name, "input");
            e.set(&read.digest);
            s.doc.side_inputs.push(e);
        }
    }
    // A check's Terraform files are its inputs.
    if s.doc.command == "check" {
        let side = std::mem::take(&mut s.doc.side_inputs);
        s.doc.inputs.extend(side);
    }
    let mut text = serde_json::to_string_pretty(&s.doc).unwrap_or_default();
    text.push('\n');
    match crate::cli::files::write_output(Some(&s.path), &text) {
        Ok(()) => exit,
        Err(d) => {
            crate::cli::eprint_diags(&[d], err_style);
            crate::cli::EXIT_TROUBLE
        }
    }
}

/// Now, UTC, as `YYYY-MM-DDTHH:MM:SSZ`.
fn now_utc() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let ms = i64::try_from(secs.saturating_mul(1000)).unwrap_or(0);
    let t = crate::scan::logs::format_timestamp(ms);
    // `format_timestamp` writes milliseconds: evidence keeps seconds.
    match t.split_once('.') {
        Some((head, _)) => format!("{head}Z"),
        None => t,
    }
}

/// A log input that could not be opened: named in the evidence, unhashed.
pub fn note_unreadable_log(name: &str, why: &str) {
    with(|s| {
        let mut e = FileEntry::new(name, "log");
        e.note = Some(format!("cannot be read: {why}"));
        s.doc.inputs.push(e);
    });
}
