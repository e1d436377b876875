//! The compiled SQL on the real engines gives `proviso audit`'s answer.
//!
//! A differential test (issue 15, item 4): the same records are judged by
//! `proviso audit` and, as Parquet, by the statements of `proviso compile
//! --to sql` run on DuckDB, DataFusion and Spark in local mode; per clause
//! the counts and first/last seen must be equal, and `--findings` must name
//! the same records (by their `id`) and the same groups (by their key).
//! Trino cannot run here: every Trino statement is parsed with sqlglot's
//! Trino dialect, and run on DuckDB where DuckDB accepts the text as it is.
//!
//! The records: `tests/sql/generate.py` writes 3,000 gateway records and a
//! revenue ledger (absent fields, unicode, timestamps with offsets on either
//! side of 2026-04-27, IPv6, amounts at the 20% boundary, `LIKE`
//! metacharacters in paths) as Parquet and as JSON lines / CSV twins, and
//! the bundled fixtures as Parquet. The audit judges the text; once `audit`
//! reads Parquet, it judges the Parquet too and the two audits must agree.
//! Ledger tables are compiled and audited without the cap parameter and
//! with two values of it (reached exactly, never reached).
//! Statements are compiled with `--schema-from` the Parquet file; a build
//! whose compiler cannot read a Parquet schema gets the same columns as
//! `--columns` (`generate.py` writes them from the Parquet schema), and the
//! test says so.
//!
//! The engines run in `tests/sql/engines.py`, with the venv `.ci/run`
//! installs (`.venv-sql/`, or `PROVISO_SQL_PYTHON`): all statements of one
//! engine in one process, the engines in parallel, DuckDB and DataFusion
//! once in their default session time zone and once in another, Spark once
//! in `America/Los_Angeles` — the statements must not depend on it. Without
//! the venv the test is skipped, except under CI (`CI` set), where it fails.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed unwrap is a failed test"
)]

mod common;

use common::{REPO, proviso};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

/// The engines that run the statements, and the session time zone of each
/// run (`None`: the engine's default).
const RUNS: &[(&str, Option<&str>)] = &[
    ("spark", Some("America/Los_Angeles")),
    ("duckdb", None),
    ("duckdb", Some("America/Los_Angeles")),
    ("datafusion", None),
    ("datafusion", Some("Asia/Kolkata")),
];

/// How many differing ids (or groups) a mismatch shows per clause.
const SHOWN: usize = 20;

/// The Python of the engines' venv, if there is one.
fn engines_python() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("PROVISO_SQL_PYTHON") {
        return Some(PathBuf::from(p));
    }
    let p = Path::new(REPO).join(".venv-sql/bin/python");
    p.is_file().then_some(p)
}

// --- the tables ----------------------------------------------------------

/// How a finding's (file, line) in the audit of the text maps to a record id.
enum Ids {
    /// One file, the record with id `k` on line `k + first_line - 1`.
    Lines { file: String, first_line: u64 },
    /// The bundled fixtures: ids listed by `generate.py` in `meta.json`.
    Listed(BTreeMap<(String, u64), u64>),
}

impl Ids {
    fn id(&self, file: &str, line: u64) -> Option<u64> {
        match self {
            Ids::Lines {
                file: f,
                first_line,
            } => (f == file && line >= *first_line).then(|| line - first_line + 1),
            Ids::Listed(map) => map.get(&(file.to_string(), line)).copied(),
        }
    }
}

struct Table {
    /// The SQL table name (`gateway`, `ledger`, `fx_gateway`, `fx_ledger`).
    name: String,
    parquet: PathBuf,
    /// The text twin, as `audit` is given it: absolute paths for the
    /// generated files, `fixtures/…` for the bundled ones.
    text: Vec<String>,
    ids: Ids,
    records: u64,
    /// Lines `generate.py` left out of the Parquet copy, per file.
    skipped: BTreeMap<String, u64>,
    /// The `revenue_share_cap` values to judge with (`None`: without it).
    caps: Vec<(&'static str, Option<String>)>,
    /// The Parquet file's columns as `--columns NAME:TYPE,…`, for a build
    /// whose compiler cannot read a Parquet schema.
    columns: String,
}

fn tables(dir: &Path, meta: &Value) -> Vec<Table> {
    let mut out = Vec::new();
    for (name, t) in meta["tables"].as_object().unwrap() {
        let fixture = name.starts_with("fx_");
        let text: Vec<String> = t["text"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                let f = f.as_str().unwrap();
                if fixture {
                    f.to_string()
                } else {
                    dir.join(f).display().to_string()
                }
            })
            .collect();
        let ids = if let Some(list) = t.get("ids") {
            Ids::Listed(
                list.as_array()
                    .unwrap()
                    .iter()
                    .enumerate()
                    .map(|(k, fl)| {
                        let key = (fl[0].as_str().unwrap().to_string(), fl[1].as_u64().unwrap());
                        (key, k as u64 + 1)
                    })
                    .collect(),
            )
        } else {
            Ids::Lines {
                file: text[0].clone(),
                first_line: t["first_line"].as_u64().unwrap(),
            }
        };
        let skipped = t
            .get("skipped")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .map(|(f, lines)| (f.clone(), lines.as_array().unwrap().len() as u64))
                    .collect()
            })
            .unwrap_or_default();
        let caps_of = if fixture { "fx_caps" } else { "caps" };
        let cap = |k: &str| {
            meta[caps_of]
                .get(k)
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        let caps = if name.ends_with("ledger") {
            let never = if fixture {
                "never_reached"
            } else {
                "unreached"
            };
            vec![
                ("no-cap", None),
                ("cap-reached", cap("reached")),
                ("cap-never-reached", cap(never)),
            ]
        } else {
            vec![("no-cap", None)]
        };
        out.push(Table {
            name: name.clone(),
            parquet: dir.join(t["parquet"].as_str().unwrap()),
            text,
            ids,
            records: t["records"].as_u64().unwrap(),
            skipped,
            caps,
            columns: meta["columns"][name]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        });
    }
    out
}

// --- what is compared ------------------------------------------------------

/// One row of `clauses[]`, or of the compiled statement's result.
#[derive(Debug, Clone)]
struct ClauseRow {
    severity: String,
    violations: i64,
    unresolved: i64,
    first_seen: Option<String>,
    last_seen: Option<String>,
}

impl ClauseRow {
    fn same(&self, other: &ClauseRow) -> bool {
        self.severity == other.severity
            && self.violations == other.violations
            && self.unresolved == other.unresolved
            && same_instant(self.first_seen.as_deref(), other.first_seen.as_deref())
            && same_instant(self.last_seen.as_deref(), other.last_seen.as_deref())
    }

    fn show(&self) -> String {
        format!(
            "{} {} violations, {} unresolved, {} .. {}",
            self.severity,
            self.violations,
            self.unresolved,
            self.first_seen.as_deref().unwrap_or("null"),
            self.last_seen.as_deref().unwrap_or("null")
        )
    }
}

type Clauses = BTreeMap<(String, String), ClauseRow>;

/// A violating or unresolved record (by id) or group (by its key as
/// canonical JSON), of one clause version.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Finding {
    clause: String,
    terms: String,
    outcome: String,
    what: What,
    /// The message, and a group's figures (canonical JSON): the same
    /// text in the audit and in every engine.
    detail: String,
}

/// A group's figures as JSON with sorted keys (exact decimals and dates
/// are strings, absent and unknown null, as in `groups[].figures`).
fn canonical_figures(figures: &Value) -> String {
    let map: BTreeMap<String, Value> = figures
        .as_object()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    serde_json::to_string(&map).unwrap()
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum What {
    Record(u64),
    Group(String),
}

impl std::fmt::Display for What {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            What::Record(id) => write!(f, "id {id}"),
            What::Group(key) => write!(f, "group {key}"),
        }
    }
}

/// A group key as JSON with its keys sorted and its values as text, so
/// that `{"period":"2026-05"}` from the audit and from an engine compare.
fn canonical_key(key: &Value) -> String {
    let map: BTreeMap<String, String> = key
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        v.as_str().map_or_else(|| v.to_string(), str::to_string),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    serde_json::to_string(&map).unwrap()
}

/// An integer that an engine may give as a number or as text.
fn int(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// An RFC 3339 timestamp (or a bare date) as nanoseconds since the epoch,
/// so that `…31.250Z`, `…31.25Z` and `…31.250000+00:00` are one instant:
/// how many fractional digits a log wrote is not something Parquet keeps.
fn instant(s: &str) -> Option<i128> {
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> { s.get(r)?.parse().ok() };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    // days from civil (Howard Hinnant's algorithm)
    let y2 = if mo <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let doy = (153 * (if mo > 2 { mo - 3 } else { mo + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let mut secs = i128::from(days) * 86_400;
    let mut nanos: i128 = 0;
    let mut rest = s.get(10..)?;
    if let Some(t) = rest.strip_prefix(['T', 't', ' ']) {
        let (h, mi, se) = (
            t.get(0..2)?.parse::<i128>().ok()?,
            t.get(3..5)?.parse::<i128>().ok()?,
            t.get(6..8)?.parse::<i128>().ok()?,
        );
        secs += h * 3600 + mi * 60 + se;
        rest = t.get(8..)?;
        if let Some(frac) = rest.strip_prefix('.') {
            let digits: String = frac.chars().take_while(char::is_ascii_digit).collect();
            let mut padded = digits.clone();
            padded.truncate(9);
            while padded.len() < 9 {
                padded.push('0');
            }
            nanos = padded.parse().ok()?;
            rest = frac.get(digits.len()..)?;
        }
        match rest {
            "" | "Z" | "z" => {}
            off => {
                let sign: i128 = if off.starts_with('-') { -1 } else { 1 };
                let h: i128 = off.get(1..3)?.parse().ok()?;
                let m: i128 = off.get(4..6).map_or(Some(0), |m| m.parse().ok())?;
                secs -= sign * (h * 3600 + m * 60);
            }
        }
    } else if !rest.is_empty() {
        return None;
    }
    Some(secs * 1_000_000_000 + nanos)
}

fn same_instant(a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => a == b || (instant(a).is_some() && instant(a) == instant(b)),
        _ => false,
    }
}

// --- the audit -------------------------------------------------------------

struct Audit {
    clauses: Clauses,
    findings: BTreeSet<Finding>,
    report: Value,
}

fn audit(
    inputs: &[String],
    cap: Option<&str>,
    ids: &dyn Fn(&str, u64) -> Option<u64>,
    dir: &Path,
    tag: &str,
) -> Audit {
    let findings = dir.join(format!("findings-{tag}.jsonl"));
    let mut args: Vec<String> = vec!["audit".into()];
    args.extend(inputs.iter().cloned());
    args.extend(
        [
            "--rules",
            "rules",
            "--format",
            "json",
            "--allow-malformed",
            "--findings",
        ]
        .map(String::from),
    );
    args.push(findings.display().to_string());
    if let Some(cap) = cap {
        args.push("--param".into());
        args.push(format!("revenue_share_cap={cap}"));
    }
    let out = proviso(&args).run();
    assert!(
        out.code == 0 || out.code == 1,
        "proviso {} exited {}:\n{}",
        args.join(" "),
        out.code,
        out.stderr
    );
    let report = out.json();
    let mut clauses = Clauses::new();
    for c in report["clauses"].as_array().unwrap() {
        clauses.insert(
            (
                c["clause"].as_str().unwrap().into(),
                c["terms"].as_str().unwrap().into(),
            ),
            ClauseRow {
                severity: c["severity"].as_str().unwrap_or_default().into(),
                violations: int(&c["violations"]).unwrap(),
                unresolved: int(&c["unresolved"]).unwrap(),
                first_seen: text(&c["first_seen"]),
                last_seen: text(&c["last_seen"]),
            },
        );
    }
    let mut set = BTreeSet::new();
    let lines = std::fs::read_to_string(&findings).unwrap_or_default();
    for line in lines.lines().filter(|l| !l.trim().is_empty()) {
        let f: Value = serde_json::from_str(line).unwrap();
        let clause = f["clause"].as_str().unwrap().to_string();
        let terms = f["terms"].as_str().unwrap().to_string();
        let what = if f.get("group").is_some_and(|g| !g.is_null()) {
            What::Group(canonical_key(&f["group"]["key"]))
        } else {
            let file = f["file"].as_str().unwrap();
            let line = f["line"].as_u64().unwrap();
            What::Record(ids(file, line).unwrap_or_else(|| {
                panic!("a finding of the audit at {file}:{line} is no record of the Parquet copy")
            }))
        };
        let outcome = f["outcome"].as_str().unwrap_or("violation").to_string();
        let figures = f
            .get("group")
            .filter(|g| !g.is_null())
            .map_or(String::new(), |g| canonical_figures(&g["figures"]));
        let detail = format!("{} {figures}", f["message"].as_str().unwrap_or_default());
        set.insert(Finding {
            clause,
            terms,
            outcome,
            what,
            detail,
        });
    }
    Audit {
        clauses,
        findings: set,
        report,
    }
}

// --- comparisons: what differs, or `None` ----------------------------------

fn compare_clauses(expected: &Clauses, got: &Clauses) -> Option<String> {
    let mut diff = String::new();
    for (key, want) in expected {
        match got.get(key) {
            Some(row) if row.same(want) => {}
            Some(row) => {
                let _ = writeln!(
                    diff,
                    "    {}@{}: audit {} | got {}",
                    key.0,
                    key.1,
                    want.show(),
                    row.show()
                );
            }
            // A clause version that cannot apply to the table's records may
            // be left out of the statement; one with outcomes may not.
            None if want.violations == 0 && want.unresolved == 0 => {}
            None => {
                let _ = writeln!(
                    diff,
                    "    {}@{}: audit {} | got no row",
                    key.0,
                    key.1,
                    want.show()
                );
            }
        }
    }
    for (key, row) in got {
        if !expected.contains_key(key) {
            let _ = writeln!(
                diff,
                "    {}@{}: not in the audit | got {}",
                key.0,
                key.1,
                row.show()
            );
        }
    }
    (!diff.is_empty()).then(|| format!("clauses differ\n{diff}"))
}

fn compare_findings(expected: &BTreeSet<Finding>, got: &BTreeSet<Finding>) -> Option<String> {
    if expected == got {
        return None;
    }
    let mut per_clause: BTreeMap<(String, String), (Vec<String>, Vec<String>)> = BTreeMap::new();
    for f in expected.difference(got) {
        per_clause
            .entry((f.clause.clone(), f.terms.clone()))
            .or_default()
            .0
            .push(format!("{} ({}) {}", f.what, f.outcome, f.detail));
    }
    for f in got.difference(expected) {
        per_clause
            .entry((f.clause.clone(), f.terms.clone()))
            .or_default()
            .1
            .push(format!("{} ({}) {}", f.what, f.outcome, f.detail));
    }
    let mut diff = String::new();
    for ((clause, terms), (only_audit, only_sql)) in per_clause {
        let show = |v: &[String]| {
            let mut s = v.iter().take(SHOWN).cloned().collect::<Vec<_>>().join(", ");
            if v.len() > SHOWN {
                let _ = write!(s, ", … ({} in all)", v.len());
            }
            s
        };
        let _ = writeln!(diff, "    {clause}@{terms}:");
        if !only_audit.is_empty() {
            let _ = writeln!(diff, "      only in the audit: {}", show(&only_audit));
        }
        if !only_sql.is_empty() {
            let _ = writeln!(diff, "      only in the SQL:   {}", show(&only_sql));
        }
    }
    Some(format!("findings differ\n{diff}"))
}

/// The rows of a default statement, by clause version.
fn clause_rows(rows: &[Value]) -> Result<Clauses, String> {
    let mut out = Clauses::new();
    for r in rows {
        let get = |k: &str| r.get(k).ok_or_else(|| format!("no column `{k}` in {r}"));
        let key = (
            text(get("clause")?).unwrap_or_default(),
            text(get("terms")?).unwrap_or_default(),
        );
        let row = ClauseRow {
            severity: text(get("severity")?).unwrap_or_default(),
            violations: int(get("violations")?)
                .ok_or_else(|| format!("`violations` not an integer in {r}"))?,
            unresolved: int(get("unresolved")?)
                .ok_or_else(|| format!("`unresolved` not an integer in {r}"))?,
            first_seen: text(get("first_seen")?),
            last_seen: text(get("last_seen")?),
        };
        if out.insert(key.clone(), row).is_some() {
            return Err(format!("two rows for {}@{}", key.0, key.1));
        }
    }
    Ok(out)
}

/// The rows of a `--findings` statement.
fn finding_rows(rows: &[Value]) -> Result<BTreeSet<Finding>, String> {
    let mut out = BTreeSet::new();
    for r in rows {
        let get = |k: &str| r.get(k).ok_or_else(|| format!("no column `{k}` in {r}"));
        let what = match get("group_key")? {
            Value::Null => What::Record(
                int(get("id")?)
                    .and_then(|i| u64::try_from(i).ok())
                    .ok_or_else(|| format!("no record id in {r}"))?,
            ),
            Value::String(key) => What::Group(canonical_key(
                &serde_json::from_str(key)
                    .map_err(|e| format!("group_key `{key}` is not JSON: {e}"))?,
            )),
            other => What::Group(canonical_key(other)),
        };
        let figures = match get("figures")? {
            Value::String(f) => canonical_figures(
                &serde_json::from_str(f).map_err(|e| format!("figures `{f}` is not JSON: {e}"))?,
            ),
            _ => String::new(),
        };
        let detail = format!("{} {figures}", text(get("message")?).unwrap_or_default());
        out.insert(Finding {
            clause: text(get("clause")?).unwrap_or_default(),
            terms: text(get("terms")?).unwrap_or_default(),
            outcome: text(get("outcome")?).unwrap_or_default(),
            what,
            detail,
        });
    }
    Ok(out)
}

// --- running things --------------------------------------------------------

fn python_command(py: &Path, script: &str) -> Command {
    let mut cmd = Command::new(py);
    cmd.arg(Path::new(REPO).join("tests/sql").join(script))
        .current_dir(REPO)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .stdin(Stdio::null());
    cmd
}

/// `proviso compile …`: the statement, or why there is none. A build
/// without the subcommand ends the test with a message that says so.
fn compile(
    dialect: &str,
    table: &Table,
    cap: Option<&str>,
    findings: bool,
    schema: Schema,
) -> Result<String, String> {
    let mut args: Vec<String> = [
        "compile",
        "--rules",
        "rules",
        "--to",
        "sql",
        "--dialect",
        dialect,
        "--table",
    ]
    .map(String::from)
    .to_vec();
    args.push(table.name.clone());
    match schema {
        Schema::FromParquet => {
            args.push("--schema-from".into());
            args.push(table.parquet.display().to_string());
        }
        Schema::Columns => {
            args.push("--columns".into());
            args.push(table.columns.clone());
        }
    }
    if let Some(cap) = cap {
        args.push("--param".into());
        args.push(format!("revenue_share_cap={cap}"));
    }
    if findings {
        args.push("--findings".into());
    }
    let out = proviso(&args).run();
    if out.code == 2 && out.stderr.contains("unrecognized subcommand") {
        panic!(
            "`proviso compile` is not in this build (`unrecognized subcommand 'compile'`): the engines \
             test needs the SQL compiler of issue 15, item 2. Everything before it ran: data \
             generated, audits done.\n{}",
            out.stderr
        );
    }
    if out.code != 0 {
        return Err(format!(
            "proviso {} exited {}:\n{}",
            args.join(" "),
            out.code,
            out.stderr
        ));
    }
    let sql = out.stdout.trim();
    let sql = sql.strip_suffix(';').unwrap_or(sql).trim_end();
    if sql.is_empty() {
        return Err(format!("proviso {} printed no statement", args.join(" ")));
    }
    Ok(sql.to_string())
}

/// How `compile` learns the table's columns: from the Parquet file, or,
/// while the compiler cannot read a Parquet schema, from `--columns`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Schema {
    FromParquet,
    Columns,
}

struct EngineRun {
    label: String,
    child: Child,
    output: PathBuf,
    stderr: PathBuf,
}

/// An engine that outlives a failed test would wait for its manifest for
/// minutes: it is ended with the test.
impl Drop for EngineRun {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Starts `engines.py` for one engine: it registers the tables and warms
/// up, then waits for `manifest` to appear (written once the statements
/// are compiled), so that Spark's start-up overlaps the audits.
fn start_engine(
    py: &Path,
    engine: &str,
    tz: Option<&str>,
    tables: &[Table],
    manifest: &Path,
    dir: &Path,
) -> EngineRun {
    let label = format!(
        "{engine}{}",
        tz.map(|z| format!(" (session time zone {z})"))
            .unwrap_or_default()
    );
    let tag = format!("{engine}-{}", tz.unwrap_or("default").replace('/', "_"));
    let output = dir.join(format!("rows-{tag}.json"));
    let stderr = dir.join(format!("stderr-{tag}.txt"));
    let mut cmd = python_command(py, "engines.py");
    cmd.args(["--engine", engine, "--wait", "600", "--manifest"])
        .arg(manifest)
        .arg("--output")
        .arg(&output);
    for t in tables {
        cmd.arg("--table")
            .arg(format!("{}={}", t.name, t.parquet.display()));
    }
    if let Some(tz) = tz {
        cmd.args(["--session-tz", tz]);
    }
    if engine == "spark" {
        // Spark plans a large statement on one thread: two at once use
        // both cores (the rows are the same as one at a time).
        cmd.args(["--jobs", "2"]);
    }
    cmd.stdout(Stdio::null())
        .stderr(std::fs::File::create(&stderr).unwrap());
    let child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("run {}: {e}", py.display()));
    EngineRun {
        label,
        child,
        output,
        stderr,
    }
}

fn finish_engine(mut run: EngineRun) -> Result<BTreeMap<String, Value>, String> {
    let status = run.child.wait().unwrap();
    let stderr = std::fs::read_to_string(&run.stderr).unwrap_or_default();
    if !status.success() {
        return Err(format!(
            "{}: engines.py failed ({status}):\n{stderr}",
            run.label
        ));
    }
    let text = std::fs::read_to_string(&run.output)
        .map_err(|e| format!("{}: no output ({e}):\n{stderr}", run.label))?;
    let doc: BTreeMap<String, Value> = serde_json::from_str(&text)
        .map_err(|e| format!("{}: output is not JSON: {e}", run.label))?;
    if let Some(line) = stderr.lines().rev().find(|l| l.starts_with("engines.py:")) {
        println!("  {line}");
    }
    Ok(doc)
}

/// One statement to run: the table and cap it was compiled for, and
/// whether it is the `--findings` one.
struct Statement {
    table: usize,
    cap: usize,
    findings: bool,
}

fn query_name(tables: &[Table], s: &Statement) -> String {
    let t = &tables[s.table];
    format!(
        "{}/{}/{}",
        t.name,
        t.caps[s.cap].0,
        if s.findings { "findings" } else { "clauses" }
    )
}

#[test]
fn compiled_sql_on_duckdb_datafusion_and_spark_agrees_with_audit() {
    let Some(py) = engines_python() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have the engines: .ci/run installs Java 17 and .venv-sql/ before `cargo test`"
        );
        // Written to stderr itself, not through eprintln!, which the test
        // harness captures and hides for a passing test.
        let _ = writeln!(
            std::io::stderr(),
            "\n**********************************************************************\n\
             sql_engines: skipped: run .ci/run to install the engines (Java 17 and\n\
             .venv-sql/ with tests/sql/requirements.txt), or set PROVISO_SQL_PYTHON\n\
             **********************************************************************\n"
        );
        return;
    };
    let started = Instant::now();
    let tmp = tempfile::tempdir().unwrap();
    let dir = &tmp.path().to_path_buf();
    let mut problems: Vec<String> = Vec::new();

    // 1. The records, as Parquet and as text.
    let out = python_command(&py, "generate.py")
        .arg(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "generate.py failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("meta.json")).unwrap()).unwrap();
    let tables = tables(dir, &meta);
    println!(
        "generated in {:.1}s: {}",
        started.elapsed().as_secs_f64(),
        tables
            .iter()
            .map(|t| format!("{} ({} records)", t.name, t.records))
            .collect::<Vec<_>>()
            .join(", ")
    );

    // The engines start now, in parallel, and wait for their statements.
    let manifest_files: BTreeMap<&str, PathBuf> = ["duckdb", "datafusion", "spark", "trino"]
        .into_iter()
        .map(|d| (d, dir.join(format!("manifest-{d}.json"))))
        .collect();
    let runs: Vec<(usize, EngineRun)> = RUNS
        .iter()
        .enumerate()
        .map(|(i, (engine, tz))| {
            (
                i,
                start_engine(&py, engine, *tz, &tables, &manifest_files[engine], dir),
            )
        })
        .collect();
    let parse = start_engine(
        &py,
        "sqlglot-trino",
        None,
        &[],
        &manifest_files["trino"],
        dir,
    );

    // 2. The audits of the text, and of the Parquet where audit reads it.
    let probe = proviso(&[
        "audit".to_string(),
        tables[0].parquet.display().to_string(),
        "--rules".into(),
        "rules".into(),
        "--format".into(),
        "json".into(),
        "--allow-malformed".into(),
    ])
    .run();
    let reads_parquet = serde_json::from_str::<Value>(&probe.stdout)
        .ok()
        .is_some_and(|r| r["inputs"][0]["format"] == "parquet");
    if !reads_parquet {
        println!(
            "note: `proviso audit` does not read Parquet in this build: only the text twins are audited"
        );
    }
    let mut expected: BTreeMap<(usize, usize), Audit> = BTreeMap::new();
    for (ti, t) in tables.iter().enumerate() {
        for (ci, (cap_name, cap)) in t.caps.iter().enumerate() {
            let tag = format!("{}-{cap_name}", t.name);
            let text = audit(&t.text, cap.as_deref(), &|f, l| t.ids.id(f, l), dir, &tag);
            // The lines generate.py left out are those the audit calls malformed.
            for input in text.report["inputs"].as_array().unwrap() {
                let file = input["file"].as_str().unwrap();
                let malformed = input["malformed"].as_u64().unwrap();
                let skipped = t.skipped.get(file).copied().unwrap_or(0);
                if malformed != skipped {
                    problems.push(format!(
                        "{file}: the audit finds {malformed} malformed lines, generate.py left out {skipped}"
                    ));
                }
            }
            if reads_parquet {
                let parquet = audit(
                    &[t.parquet.display().to_string()],
                    cap.as_deref(),
                    &|_, row| Some(row),
                    dir,
                    &format!("{tag}-parquet"),
                );
                let what = format!(
                    "audit of {}.parquet against its text twin ({cap_name})",
                    t.name
                );
                let diffs = [
                    compare_clauses(&text.clauses, &parquet.clauses),
                    compare_findings(&text.findings, &parquet.findings),
                ];
                for diff in diffs.into_iter().flatten() {
                    problems.push(format!("{what}: {diff}"));
                }
            }
            expected.insert((ti, ci), text);
        }
    }
    println!("audited in {:.1}s", started.elapsed().as_secs_f64());

    // 3. The statements: every table, cap and kind, in every dialect.
    let mut statements = Vec::new();
    for (ti, t) in tables.iter().enumerate() {
        for ci in 0..t.caps.len() {
            for findings in [false, true] {
                statements.push(Statement {
                    table: ti,
                    cap: ci,
                    findings,
                });
            }
        }
    }
    let schema = match compile("duckdb", &tables[0], None, false, Schema::FromParquet) {
        Err(e) if e.contains("proviso::compile::bad_schema") => {
            println!(
                "note: `proviso compile --schema-from` cannot read Parquet in this build: \
                 the columns are given with --columns (from the same Parquet schema)"
            );
            Schema::Columns
        }
        _ => Schema::FromParquet,
    };
    let mut manifests: BTreeMap<&str, BTreeMap<String, String>> = BTreeMap::new();
    for dialect in ["duckdb", "datafusion", "spark", "trino"] {
        let manifest = manifests.entry(dialect).or_default();
        for s in &statements {
            let t = &tables[s.table];
            match compile(dialect, t, t.caps[s.cap].1.as_deref(), s.findings, schema) {
                Ok(sql) => {
                    manifest.insert(query_name(&tables, s), sql);
                }
                Err(e) => problems.push(format!("compile for {dialect}: {e}")),
            }
        }
    }
    // Trino's statements are also offered to DuckDB as they are.
    let trino: BTreeMap<String, String> = manifests["trino"].clone();
    let duck = manifests.get_mut("duckdb").unwrap();
    for (name, sql) in &trino {
        duck.insert(format!("trino:{name}"), sql.clone());
    }
    for (dialect, m) in &manifests {
        // written whole, then renamed: an engine waiting for it never
        // reads half a file
        let path = &manifest_files[dialect];
        let partial = path.with_extension("partial");
        std::fs::write(&partial, serde_json::to_string(m).unwrap()).unwrap();
        std::fs::rename(&partial, path).unwrap();
    }
    println!(
        "compiled in {:.1}s: {} statements a dialect",
        started.elapsed().as_secs_f64(),
        statements.len()
    );

    // 4. The engines' answers; sqlglot's parse of the Trino statements.
    match finish_engine(parse) {
        Ok(doc) => {
            for (name, r) in &doc {
                if let Some(e) = r["error"].as_str() {
                    problems.push(format!(
                        "trino statement {name} does not parse (sqlglot, read=\"trino\"): {e}"
                    ));
                }
            }
            println!(
                "  sqlglot parsed {} of {} Trino statements",
                doc.values().filter(|r| r["error"].is_null()).count(),
                doc.len()
            );
        }
        Err(e) => problems.push(e),
    }

    let mut trino_on_duckdb: Vec<String> = Vec::new();
    let mut differing: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for (i, run) in runs {
        let (engine, _) = RUNS[i];
        let label = run.label.clone();
        let doc = match finish_engine(run) {
            Ok(doc) => doc,
            Err(e) => {
                problems.push(e);
                continue;
            }
        };
        for s in &statements {
            let name = query_name(&tables, s);
            let want = &expected[&(s.table, s.cap)];
            let mut names = vec![(name.clone(), label.clone())];
            if engine == "duckdb" && i == 1 {
                names.push((format!("trino:{name}"), format!("{label}, Trino's text")));
            }
            for (qname, what) in names {
                let Some(result) = doc.get(&qname) else {
                    continue;
                };
                let trino_text = qname.starts_with("trino:");
                let what = format!("{what}, {name}");
                if let Some(e) = result["error"].as_str() {
                    if trino_text {
                        trino_on_duckdb.push(format!(
                            "{name}: refused ({})",
                            e.lines().next().unwrap_or("")
                        ));
                    } else {
                        problems.push(format!("{what}: the statement failed: {e}"));
                    }
                    continue;
                }
                let rows = result["rows"].as_array().cloned().unwrap_or_default();
                let diff = if s.findings {
                    finding_rows(&rows).map(|got| compare_findings(&want.findings, &got))
                } else {
                    clause_rows(&rows).map(|got| compare_clauses(&want.clauses, &got))
                };
                let diff = diff.unwrap_or_else(Some);
                if trino_text {
                    let verdict = if diff.is_none() {
                        "ran, same rows"
                    } else {
                        "ran, rows differ"
                    };
                    trino_on_duckdb.push(format!("{name}: {verdict}"));
                }
                // The same difference on several runs is told once.
                if let Some(diff) = diff {
                    let runs = differing.entry((name.clone(), diff)).or_default();
                    runs.push(
                        what.strip_suffix(&format!(", {name}"))
                            .unwrap_or(&what)
                            .to_string(),
                    );
                }
            }
        }
    }
    for ((name, diff), runs) in differing {
        problems.push(format!("{name} on {}: {diff}", runs.join("; ")));
    }
    if !trino_on_duckdb.is_empty() {
        println!("Trino's statements on DuckDB, verbatim:");
        for line in &trino_on_duckdb {
            println!("  {line}");
        }
    }
    println!("done in {:.1}s", started.elapsed().as_secs_f64());
    if !problems.is_empty() {
        let _ = tmp.keep();
        panic!(
            "{} difference(s) between `proviso audit` and the engines (inputs, statements and rows kept in {}):\n\n{}",
            problems.len(),
            dir.display(),
            problems.join("\n")
        );
    }
}

#[test]
fn instants_compare_across_fractional_digits_and_offsets() {
    let same = [
        ("2026-02-17T03:24:31.250Z", "2026-02-17T03:24:31.25Z"),
        (
            "2026-02-17T03:24:31.250Z",
            "2026-02-17 03:24:31.250000+00:00",
        ),
        ("2026-04-26T23:30:00-02:00", "2026-04-27T01:30:00Z"),
        ("2026-04-27T00:30:00+01:00", "2026-04-26T23:30:00Z"),
        ("2026-05-01", "2026-05-01T00:00:00Z"),
        ("2024-02-29T12:00:00+05:30", "2024-02-29T06:30:00Z"),
    ];
    for (a, b) in same {
        assert!(
            same_instant(Some(a), Some(b)),
            "{a} and {b} are one instant"
        );
    }
    let differ = [
        ("2026-02-17T03:24:31.250Z", "2026-02-17T03:24:31.251Z"),
        ("2026-04-27T00:00:00Z", "2026-04-27T00:00:00+01:00"),
        ("2026-05-01", "2026-05-02"),
        ("2026-05-01T00:00:00Z", "not a time"),
    ];
    for (a, b) in differ {
        assert!(!same_instant(Some(a), Some(b)), "{a} and {b} differ");
    }
    assert!(!same_instant(Some("2026-05-01T00:00:00Z"), None));
    assert_eq!(instant("1970-01-01T00:00:01Z"), Some(1_000_000_000));
}
