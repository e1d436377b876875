//! `proviso audit`: log exports against the terms in force on each
//! record's own date.
//!
//! The command's own judgement is the exit code, and its rule is that
//! nothing judged is not a pass: an input whose records could none be
//! judged (no timestamp in any of them, or no terms in force on their
//! dates) and a run that read no record at all exit 2 with a message that
//! says why and what to do, worked out from the report's counts.

use super::files::{self, Output};
use super::{
    AuditArgs, AuditFormat, AuditFormatSpec, Color, EXIT_FINDINGS, EXIT_OK, EXIT_TROUBLE,
    MAX_THREADS, Style, eprint_diags, style, write_output,
};
use crate::audit::{AuditReport, InputInfo};
use crate::diag::{Code, Diag};
use crate::scan::logs::LogFormat;
use crate::source::display_path;
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

pub fn run(args: AuditArgs, color: Color, err_style: &Style) -> i32 {
    let fail = |d: Diag| {
        eprint_diags(&[d], err_style);
        EXIT_TROUBLE
    };
    if args.logs.iter().any(|p| p == Path::new("-")) && std::io::stdin().is_terminal() {
        // Without this, `proviso audit --rules r` waits for typing.
        return fail(
            Diag::error(
                Code::AuditNoInput,
                "no log files named, and standard input is a terminal",
            )
            .with_help("name the exports (`proviso audit access.log --rules RULES`) or pipe one in (`zcat x.gz | proviso audit - --rules RULES`)"),
        );
    }
    let ip_ranges = match ip_range_files(&args.ip_ranges) {
        Ok(p) => p,
        Err(d) => return fail(d),
    };
    let formats: Vec<AuditFormatSpec> = if args.format.is_empty() {
        vec![AuditFormatSpec {
            format: AuditFormat::Human,
            path: None,
        }]
    } else {
        args.format.clone()
    };
    if let Some(d) = super::formats_collide(&formats, args.output.as_deref()) {
        return fail(d);
    }
    if let Err(d) = check_outputs(&args, &formats, &ip_ranges) {
        return fail(d);
    }
    let Some(rules) = super::load_rules_with_params(
        &args.rules,
        args.no_config,
        args.config.as_deref(),
        &args.params,
        err_style,
    ) else {
        return EXIT_TROUBLE;
    };
    if let Some(d) = nothing_checkable(&rules) {
        return fail(d);
    }
    // `--what-if`: the inputs are audited a second time by the rules with
    // the draft signed; standard input cannot be read twice.
    let signed = match &args.what_if {
        Some(_) if args.logs.iter().any(|p| p == Path::new("-")) => {
            return fail(
                Diag::error(
                    Code::CliWhatIfStdin,
                    "`--what-if` reads the inputs twice, and standard input can be read only once",
                )
                .with_help("save the export to a file and name it: `zcat export.gz > export.jsonl; proviso audit export.jsonl --what-if NAME …`"),
            );
        }
        Some(spec) => match rules.signed(&spec.draft, spec.at) {
            Ok(signed) => Some((spec, signed)),
            Err(diags) => {
                eprint_diags(&diags, err_style);
                return EXIT_TROUBLE;
            }
        },
        None => None,
    };
    let mut opts = crate::audit::Options {
        format: args.log_format.format(),
        overrides: args.fields.clone(),
        samples: args.samples,
        progress: std::io::stderr().is_terminal(),
        mmap: !args.no_mmap,
        record_ids: signed.is_some(),
        ..Default::default()
    };
    opts.threads = args.threads.unwrap_or(opts.threads).clamp(1, MAX_THREADS);
    let mut trouble: Vec<Diag> = Vec::new();
    for p in &ip_ranges {
        let loaded = files::check_side_file(p, "--ip-ranges", files::SIDE_INPUT_CAP)
            .and_then(|()| opts.ip_ranges.load(p));
        if let Err(d) = loaded {
            trouble.push(d);
        }
    }
    if !trouble.is_empty() {
        eprint_diags(&trouble, err_style);
        return EXIT_TROUBLE;
    }
    // `--findings` (JSON lines) and `--format csv` (the same records as
    // rows) are written as the audit streams its violations.
    let mut streams: Vec<(String, ErrorSlot)> = Vec::new();
    let mut writers: Vec<Box<dyn Write + Send>> = Vec::new();
    if let Some(path) = &args.findings {
        match std::fs::File::create(path) {
            Ok(f) => {
                let (w, slot) = files::Checked::new(std::io::BufWriter::new(f));
                writers.push(Box::new(w));
                streams.push((display_path(path), slot));
            }
            Err(e) => return fail(files::unwritable(&display_path(path), &e)),
        }
    }
    for spec in formats.iter().filter(|f| f.format == AuditFormat::Csv) {
        let dest = spec.path.as_ref().or(args.output.as_ref());
        let (out, name): (Box<dyn Write + Send>, String) = match dest {
            Some(path) => match std::fs::File::create(path) {
                Ok(f) => (Box::new(std::io::BufWriter::new(f)), display_path(path)),
                Err(e) => return fail(files::unwritable(&display_path(path), &e)),
            },
            None => (
                Box::new(std::io::BufWriter::new(std::io::stdout())),
                "standard output".to_string(),
            ),
        };
        let (w, slot) = files::Checked::new(crate::report::csv::AuditCsv::new(out));
        writers.push(Box::new(w));
        streams.push((name, slot));
    }
    if !writers.is_empty() {
        opts.findings = Some(Box::new(Tee(writers)));
    }
    // With `--evidence` and `--findings`, the findings stream is hashed
    // as it is written: its digest is the findings'. (Without
    // `--findings` the stream is not made: making it reads more fields,
    // which the report's field accounting shows, and evidence must not
    // change a report.)
    let tally = (crate::evidence::active() && args.findings.is_some()).then(|| {
        let (w, tally) = crate::evidence::findings_tee(opts.findings.take());
        opts.findings = Some(w);
        tally
    });
    let mut report = crate::audit::audit(&rules, &args.logs, &mut opts);
    if let Some(mut w) = opts.findings.take() {
        // The audit flushes too, but drops the result; this flush reports.
        let _ = w.flush();
    }
    if let Some((spec, signed)) = &signed {
        // The same inputs, the same settings, the draft signed; its
        // samples name the records that change side, `--findings` is
        // today's only.
        let mut again = crate::audit::Options {
            format: opts.format,
            overrides: opts.overrides.clone(),
            ip_ranges: std::mem::take(&mut opts.ip_ranges),
            samples: opts.samples.max(crate::what_if::SHOWN),
            threads: opts.threads,
            progress: opts.progress,
            mmap: opts.mmap,
            record_ids: true,
            ..Default::default()
        };
        let drafted = crate::audit::audit(signed, &args.logs, &mut again);
        let names: Vec<String> = args.logs.iter().map(|p| display_path(p)).collect();
        report.what_if = Some(crate::what_if::compare_audit(
            &rules, signed, spec, &names, &report, &drafted,
        ));
        for c in &mut report.clauses {
            c.violating = Vec::new();
        }
    }
    drop(opts);
    crate::evidence::note_audit(&report, &rules, tally);
    let mut trouble = Vec::new();
    for spec in &formats {
        let dest = spec.path.as_ref().or(args.output.as_ref());
        let to_terminal = dest.is_none() && std::io::stdout().is_terminal();
        let out_style = style(color, to_terminal);
        let text = match spec.format {
            AuditFormat::Human => {
                crate::report::audit_human::render(&report, out_style.plain, out_style.width)
            }
            AuditFormat::Json => crate::report::audit_json::render(&report),
            AuditFormat::Html => crate::report::audit_html::render(&report, &rules),
            AuditFormat::Markdown => crate::report::audit_markdown::render(&report),
            // Written as the audit went; its evidence is the file's.
            AuditFormat::Csv => {
                if let Some(path) = dest
                    && let Ok(text) = std::fs::read_to_string(path)
                {
                    crate::evidence::note_report("csv", Some(path), &text, false);
                }
                continue;
            }
        };
        crate::evidence::note_report(
            super::FormatName::name(spec.format),
            dest.map(PathBuf::as_path),
            &text,
            to_terminal,
        );
        // A write error does not stop the other formats: each is reported.
        if let Err(d) = write_output(dest, &text) {
            trouble.push(d);
        }
    }
    if let Some(p) = &args.findings {
        crate::evidence::note_findings_file(p);
    }
    for (name, slot) in &streams {
        if let Some(e) = files::take_error(slot) {
            trouble.push(files::unwritable(name, &e));
        }
    }
    let not_judged = nothing_judged(&report, &args);
    let to_stdout = formats
        .iter()
        .any(|f| f.path.is_none() && args.output.is_none());
    if !to_stdout {
        // The report went to a file: the accounting line still tells the
        // person who ran the command what happened.
        eprintln!("{}", crate::report::audit_human::summary_line(&report));
    }
    eprint_diags(&not_judged, err_style);
    eprint_diags(&trouble, err_style);
    if !trouble.is_empty() || not_judged.iter().any(Diag::is_error) || !report.unreadable.is_empty()
    {
        return EXIT_TROUBLE;
    }
    if report.summary.malformed > 0 && !args.allow_malformed {
        return EXIT_TROUBLE;
    }
    // Unresolved groups rank as warnings, as unresolved findings of
    // `check` do: they fail the run with `--fail-on warning` or `info`.
    let fails = report.clauses.iter().any(|c| {
        (c.violations > 0 && c.severity.is_some_and(|s| args.fail_on.fails_severity(s)))
            || (c.unresolved > 0
                && args
                    .fail_on
                    .fails_severity(crate::rules::ast::Severity::Warning))
    });
    if fails { EXIT_FINDINGS } else { EXIT_OK }
}

/// Refuses `--output`, `--format NAME=FILE` and `--findings` onto each
/// other or onto an input.
fn check_outputs(
    args: &AuditArgs,
    formats: &[AuditFormatSpec],
    ip_ranges: &[PathBuf],
) -> Result<(), Diag> {
    let mut inputs: Vec<PathBuf> = args.logs.clone();
    inputs.extend(ip_ranges.iter().cloned());
    if let Ok(found) = crate::rules::find_rule_files(&args.rules) {
        inputs.extend(found);
    }
    let mut outputs = Vec::new();
    for spec in formats {
        if let Some(p) = &spec.path {
            outputs.push(Output {
                flag: format!(
                    "--format {}={}",
                    super::FormatName::name(spec.format),
                    p.display()
                ),
                path: p,
            });
        }
    }
    let bare = formats.iter().any(|f| f.path.is_none());
    for (flag, path) in [
        ("--output", &args.output),
        ("--findings", &args.findings),
        ("--evidence", &args.evidence),
    ] {
        if let Some(p) = path
            && (flag != "--output" || bare)
        {
            outputs.push(Output {
                flag: format!("{flag} {}", p.display()),
                path: p,
            });
        }
    }
    files::check_outputs(&outputs, &inputs)
}

/// Where a streamed output's first write error is kept.
type ErrorSlot = std::sync::Arc<std::sync::Mutex<Option<std::io::Error>>>;

/// Writes everything to each of its writers (`--findings` and
/// `--format csv` from one stream of violations).
struct Tee(Vec<Box<dyn Write + Send>>);

impl Write for Tee {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut first = Ok(());
        for w in &mut self.0 {
            // Each writer records its own error (`files::Checked`); one
            // failing does not starve the others.
            if let Err(e) = w.write_all(buf)
                && first.is_ok()
            {
                first = Err(e);
            }
        }
        first.map(|()| buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let mut first = Ok(());
        for w in &mut self.0 {
            if let Err(e) = w.flush()
                && first.is_ok()
            {
                first = Err(e);
            }
        }
        first
    }
}

/// Rules of which no clause can apply to a log record: every record would
/// be "not applicable", judged against nothing.
fn nothing_checkable(rules: &crate::rules::RuleSet) -> Option<Diag> {
    if rules
        .clauses()
        .any(|(_, c)| !c.is_manual() && crate::explain::coverage(rules, c).logs)
    {
        return None;
    }
    let enforced: Vec<&str> = rules
        .clauses()
        .filter(|(_, c)| !c.is_manual())
        .map(|(_, c)| c.id.name.as_str())
        .collect();
    let what = if enforced.is_empty() {
        "the rules hold no clause a scan can check".to_string()
    } else {
        format!(
            "no clause of the rules can apply to a log record ({} can only apply to Terraform)",
            super::some_names(&enforced)
        )
    };
    Some(
        Diag::error(
            Code::AuditNothingCheckable,
            format!("{what}: nothing would be judged"),
        )
        .with_help("check Terraform with `proviso check PATHS --rules RULES`; `proviso explain RULES` shows which input checks each clause"),
    )
}

/// The files of `--ip-ranges`: each file as given, each directory's
/// `.json` files in name order.
fn ip_range_files(given: &[PathBuf]) -> Result<Vec<PathBuf>, Diag> {
    let mut out = Vec::new();
    for p in given {
        if !p.is_dir() {
            out.push(p.clone());
            continue;
        }
        let entries = std::fs::read_dir(p).map_err(|e| {
            Diag::error(
                Code::InputUnreadable,
                format!("cannot read `{}`: {e}", display_path(p)),
            )
        })?;
        let mut found: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|f| f.is_file() && f.extension().is_some_and(|x| x == "json"))
            .collect();
        if found.is_empty() {
            return Err(Diag::error(
                Code::InputNoIpRanges,
                format!(
                    "`{}` (given with `--ip-ranges`) holds no `.json` file",
                    display_path(p)
                ),
            )
            .with_help("pass the published files (AWS `ip-ranges.json`, Azure Service Tags, Google `cloud.json`) or their directory"));
        }
        found.sort();
        out.extend(found);
    }
    Ok(out)
}

/// Why nothing, or some input, was judged (errors), and which inputs were
/// empty beside others (warnings).
fn nothing_judged(report: &AuditReport, args: &AuditArgs) -> Vec<Diag> {
    let mut out = Vec::new();
    for input in &report.inputs {
        if let Some(d) = input_not_judged(input, args) {
            out.push(d);
        }
    }
    let s = &report.summary;
    if s.records > 0 {
        // An empty input beside others: said, not fatal (a rotated log
        // may be empty), so that a wrong file name does not pass unseen.
        for input in report.inputs.iter().filter(|i| i.summary.records == 0) {
            out.push(
                Diag::warning(
                    Code::AuditEmptyInput,
                    format!("`{}` held no records", input.file),
                )
                .with_help("check that it is the export you meant to audit"),
            );
        }
    }
    if s.judged + s.not_applicable == 0 && out.is_empty() && report.unreadable.is_empty() {
        let names: Vec<String> = report
            .inputs
            .iter()
            .map(|i| format!("`{}`", i.file))
            .collect();
        let (what, help) = if s.records == 0 {
            (
                format!("{} held no records", list_or_none(&names)),
                if args.logs.iter().any(|p| p == Path::new("-")) {
                    "standard input was empty: pipe an export into `proviso audit -`, or name the log files"
                } else {
                    "name log files that hold records"
                },
            )
        } else {
            (
                format!(
                    "none of the {} records could be read ({} malformed)",
                    s.records, s.malformed
                ),
                "fix the lines shown above, or name the format with `--log-format`",
            )
        };
        out.push(
            Diag::error(
                Code::AuditNothingJudged,
                format!("nothing was judged: {what}"),
            )
            .with_help(help),
        );
    }
    out
}

fn list_or_none(names: &[String]) -> String {
    if names.is_empty() {
        "the input".to_string()
    } else {
        names.join(", ")
    }
}

/// An input that had readable records, none of them judged.
fn input_not_judged(input: &InputInfo, args: &AuditArgs) -> Option<Diag> {
    let s = &input.summary;
    if s.judged + s.not_applicable > 0 || s.outside_terms == 0 {
        return None;
    }
    let name = &input.file;
    if s.no_timestamp == s.outside_terms {
        let mapped = args
            .fields
            .iter()
            .find(|(k, _)| k == "timestamp")
            .map(|(_, v)| v.clone());
        let (message, help) = match mapped {
            Some(field) => (
                format!(
                    "no record of `{name}` has the field `{field}` (given with `--field timestamp={field}`): {} outside the terms",
                    all_records(s.outside_terms)
                ),
                "name the field that holds each record's time, as it is spelt in the export"
                    .to_string(),
            ),
            None => {
                let candidate = time_like_field(input, args);
                let example = candidate.as_deref().unwrap_or("requestTime");
                (
                    format!(
                        "no record of `{name}` has a timestamp field proviso recognises{}: {} outside the terms",
                        known_timestamp_names(input.format),
                        all_records(s.outside_terms)
                    ),
                    format!(
                        "map the field that holds each record's time: `--field timestamp={example}`{}",
                        if candidate.is_some() {
                            ""
                        } else {
                            " (with your export's field name)"
                        }
                    ),
                )
            }
        };
        return Some(Diag::error(Code::AuditNoTimestamp, message).with_help(help));
    }
    let dated = s.outside_terms - s.no_timestamp;
    let are = |n: u64| {
        if n == 1 {
            "1 is".to_string()
        } else {
            format!("{n} are")
        }
    };
    let without = match s.no_timestamp {
        0 => String::new(),
        1 => ", 1 has no timestamp".to_string(),
        n => format!(", {n} have no timestamp"),
    };
    Some(
        Diag::error(
            Code::AuditOutsideTerms,
            format!(
                "no record of `{name}` could be judged: {} dated on a day no terms are in force{without}",
                are(dated)
            ),
        )
        .with_help(
            "audit an export from the period the terms cover (`proviso explain RULES` shows their dates)",
        ),
    )
}

fn all_records(n: u64) -> String {
    if n == 1 {
        "its 1 record is".to_string()
    } else {
        format!("all {n} records are")
    }
}

/// ` (it looks for `timestamp`, `time`, …)` for the formats whose field
/// names are free.
fn known_timestamp_names(format: Option<LogFormat>) -> String {
    match format {
        Some(LogFormat::Jsonl | LogFormat::Csv) => {
            let mut names = vec!["timestamp"];
            names.extend(
                crate::scan::logs::jsonl::VOCAB
                    .iter()
                    .filter(|(v, _, _)| *v == "timestamp")
                    .map(|(_, f, _)| *f),
            );
            let names: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
            format!(" (it looks for {})", names.join(", "))
        }
        _ => String::new(),
    }
}

/// A field of the input's first record whose name says it is a time
/// (`requestTime`, `date`), for the help line. Standard input cannot be
/// read again, so it gets none.
fn time_like_field(input: &InputInfo, args: &AuditArgs) -> Option<String> {
    let path = args
        .logs
        .iter()
        .find(|p| p.as_path() != Path::new("-") && display_path(p) == input.file)?;
    let opened = crate::scan::logs::decompress::open(path).ok()?;
    let mut head = Vec::new();
    opened.reader.take(64 << 10).read_to_end(&mut head).ok()?;
    let text = String::from_utf8_lossy(&head);
    let first = text
        .trim_start_matches('\u{feff}')
        .lines()
        .find(|l| !l.trim().is_empty())?;
    let looks_like_time = |name: &str| {
        let n = name.to_ascii_lowercase();
        n.contains("time") || n.contains("date") || n == "ts"
    };
    if let Ok(serde_json::Value::Object(map)) = serde_json::from_str(first) {
        let mut stack: Vec<(String, &serde_json::Value)> =
            map.iter().map(|(k, v)| (k.clone(), v)).collect();
        stack.reverse();
        // Two levels of nesting at most: the object is the first line
        // of a file, and its depth is the input's choice.
        while let Some((path, value)) = stack.pop() {
            let last = path.rsplit('.').next().unwrap_or(&path);
            if looks_like_time(last) && !value.is_object() {
                return Some(path);
            }
            if let serde_json::Value::Object(m) = value
                && path.matches('.').count() < 2
            {
                let mut inner: Vec<(String, &serde_json::Value)> =
                    m.iter().map(|(k, v)| (format!("{path}.{k}"), v)).collect();
                inner.reverse();
                stack.extend(inner);
            }
        }
        return None;
    }
    if input.format == Some(LogFormat::Csv) {
        let sep = if first.contains('\t') { '\t' } else { ',' };
        return first
            .split(sep)
            .map(|c| c.trim().trim_matches('"'))
            .find(|c| looks_like_time(c))
            .map(str::to_string);
    }
    None
}
