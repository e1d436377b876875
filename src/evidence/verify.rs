//! `proviso verify FILE`: confirm that an evidence document still holds.
//!
//! It checks that every file the evidence names is there, that the
//! parameters' values are supplied again (and match their protected
//! hashes), runs the recorded command again (this same binary, in the
//! recorded working directory, its reports and evidence written into a
//! scratch directory, so nothing of the user's is overwritten), and
//! compares the new evidence with the old one: per input and rule file
//! its SHA-256, then the findings' digest, the summary, the exit code and
//! every report. The design choice: verification *is* a second run with
//! `--evidence`, compared field by field, so there is one way to hash and
//! judge, not a second one that could drift from it. Exit 0 only if all
//! hold, 1 if anything differs, 2 if it cannot be verified.

use super::doc::{Document, FileEntry, SCHEMA_VERSION};
use super::{params, rerun};
use crate::diag::{Code, Diag};
use std::path::{Path, PathBuf};

/// What `proviso verify` was asked.
pub struct Request<'a> {
    pub evidence: &'a Path,
    /// `--param NAME=VALUE`, given again.
    pub params: &'a [(String, String)],
    pub config: Option<&'a Path>,
    pub no_config: bool,
}

/// The largest evidence file read.
const EVIDENCE_CAP: u64 = 64 << 20;

/// The outcome: lines for standard output, diagnostics, and the exit code.
pub struct Outcome {
    pub lines: Vec<String>,
    pub diags: Vec<Diag>,
    pub exit: i32,
}

impl Outcome {
    fn cannot(lines: Vec<String>, diags: Vec<Diag>) -> Outcome {
        Outcome {
            lines,
            diags,
            exit: crate::cli::EXIT_TROUBLE,
        }
    }
}

/// Reads and checks an evidence document.
pub fn read(path: &Path) -> Result<Document, Diag> {
    let name = crate::source::display_path(path);
    let text = crate::cli::files::read_capped_text(path, EVIDENCE_CAP, "an evidence file")
        .map_err(|d| {
            Diag::error(Code::VerifyBadEvidence, d.message.clone())
                .with_help("give the file `proviso check/audit --evidence FILE` wrote")
        })?;
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        Diag::error(
            Code::VerifyBadEvidence,
            format!("`{name}` is not JSON: {e}"),
        )
        .with_help("give the file `proviso check/audit --evidence FILE` wrote")
    })?;
    match value
        .get("proviso_evidence")
        .and_then(serde_json::Value::as_u64)
    {
        Some(v) if v == u64::from(SCHEMA_VERSION) => {}
        Some(v) => {
            return Err(Diag::error(
                Code::VerifyBadEvidence,
                format!(
                    "`{name}` is evidence of schema version {v}; this proviso reads version {SCHEMA_VERSION}"
                ),
            )
            .with_help("verify it with the proviso version that wrote it (`tool` in the file)"));
        }
        None => {
            return Err(Diag::error(
                Code::VerifyBadEvidence,
                format!("`{name}` is not an evidence document (no `proviso_evidence` version)"),
            )
            .with_help("give the file `proviso check/audit --evidence FILE` wrote"));
        }
    }
    serde_json::from_value(value).map_err(|e| {
        Diag::error(
            Code::VerifyBadEvidence,
            format!("`{name}` is not a complete evidence document: {e}"),
        )
        .with_help("give the file as `--evidence` wrote it, unedited")
    })
}

/// Verifies the evidence of `req`.
pub fn run(req: &Request<'_>) -> Outcome {
    let old = match read(req.evidence) {
        Ok(d) => d,
        Err(d) => return Outcome::cannot(Vec::new(), vec![d]),
    };
    let mut lines = vec![format!(
        "proviso verify {}: `{}` evidence written {} by proviso {} (commit {})",
        crate::source::display_path(req.evidence),
        old.command,
        old.written,
        old.tool.version,
        old.tool.commit
    )];
    let mut diags = Vec::new();
    if old.tool.version != crate::build_info::version()
        || old.tool.commit != crate::build_info::commit()
    {
        diags.push(
            Diag::warning(
                Code::VerifyToolDiffers,
                format!(
                    "the evidence was written by proviso {} (commit {}); this is proviso {} (commit {})",
                    old.tool.version,
                    old.tool.commit,
                    crate::build_info::version(),
                    crate::build_info::commit()
                ),
            )
            .with_help("identical findings still verify; if they differ, verify with the version the evidence names"),
        );
    }
    // 1. Where the run ran: relative paths are read from there.
    let recorded = PathBuf::from(&old.cwd);
    let dir = if recorded.is_dir() {
        recorded
    } else {
        let here = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        lines.push(format!(
            "  the recorded working directory `{}` does not exist here: paths are read from `{}`",
            old.cwd,
            here.display()
        ));
        here
    };
    // The evidence path as given is relative to where verify was started.
    let evidence_abs = std::fs::canonicalize(req.evidence).ok();
    let config_abs = req
        .config
        .map(|c| std::fs::canonicalize(c).unwrap_or(c.to_path_buf()));
    // 2. Every file named must be there.
    let missing = missing_files(&old, &dir);
    if !missing.is_empty() {
        return Outcome::cannot(lines, missing);
    }
    // 3. Every parameter that had a value must have one again.
    let supplied = match supplied_params(req, config_abs.as_deref(), &dir) {
        Ok(s) => s,
        Err(d) => return Outcome::cannot(lines, vec![d]),
    };
    let mut differs = false;
    let mut missing_params = Vec::new();
    for p in &old.params {
        let now = supplied.iter().rev().find(|(k, _)| *k == p.name);
        match (&p.hash, now) {
            (Some(h), Some((_, v))) => {
                if params::matches(v, h) {
                    lines.push(format!("  param    {}: the same value", p.name));
                } else {
                    differs = true;
                    lines.push(format!("  param    {}: ANOTHER VALUE", p.name));
                    diags.push(Diag::error(
                        Code::VerifyParamChanged,
                        format!("parameter `{}` has another value than the original run's", p.name),
                    ).with_help(if h.keyed {
                        "supply the value the original run used (and the same `PROVISO_EVIDENCE_KEY`)"
                    } else {
                        "supply the value the original run used"
                    }));
                }
            }
            (Some(_), None) => missing_params.push(
                Diag::error(
                    Code::VerifyMissingParam,
                    format!("parameter `{}` had a value in the original run; it is not supplied now", p.name),
                )
                .with_help(format!(
                    "supply it again: `proviso verify {} --param {}=VALUE` (or `params:` in a proviso.yaml)",
                    crate::source::display_path(req.evidence),
                    p.name
                )),
            ),
            (None, Some(_)) => {
                differs = true;
                lines.push(format!("  param    {}: supplied now, not in the original run", p.name));
                diags.push(Diag::error(
                    Code::VerifyParamChanged,
                    format!("parameter `{}` has a value now; the original run had none", p.name),
                ).with_help("verify without it, as the original run was made"));
            }
            (None, None) => lines.push(format!("  param    {}: no value, as in the original run", p.name)),
        }
    }
    if !missing_params.is_empty() {
        return Outcome::cannot(lines, missing_params);
    }
    // 4. The same judgement again, into a scratch directory.
    let scratch = match Scratch::new() {
        Ok(s) => s,
        Err(e) => {
            return Outcome::cannot(
                lines,
                vec![Diag::error(
                    Code::VerifyRerunFailed,
                    format!("cannot make a scratch directory: {e}"),
                )],
            );
        }
    };
    let new = match run_again(&old, req, config_abs.as_deref(), &dir, &scratch.0) {
        Ok(d) => d,
        Err(d) => return Outcome::cannot(lines, vec![d]),
    };
    // 5. Compare.
    let skip = |e: &&FileEntry| {
        // The evidence file itself is not an input of the run again.
        evidence_abs
            .as_ref()
            .is_none_or(|a| dir.join(&e.path) != *a)
    };
    let old_inputs: Vec<&FileEntry> = old
        .inputs
        .iter()
        .chain(&old.side_inputs)
        .filter(skip)
        .collect();
    let new_inputs: Vec<&FileEntry> = new.inputs.iter().chain(&new.side_inputs).collect();
    differs |= compare_files(
        "input",
        &old_inputs,
        &new_inputs,
        Code::VerifyInputChanged,
        &mut lines,
        &mut diags,
    );
    let old_rules: Vec<&FileEntry> = old.rules.iter().collect();
    let new_rules: Vec<&FileEntry> = new.rules.iter().collect();
    differs |= compare_files(
        "rules",
        &old_rules,
        &new_rules,
        Code::VerifyRulesChanged,
        &mut lines,
        &mut diags,
    );
    if let (Some(o), Some(n)) = (&old.config, &new.config) {
        differs |= compare_files(
            "config",
            &[o],
            &[n],
            Code::VerifyInputChanged,
            &mut lines,
            &mut diags,
        );
    }
    let f_same =
        old.findings.sha256 == new.findings.sha256 && old.findings.count == new.findings.count;
    let s_same = old.summary == new.summary;
    let x_same = old.exit_code == new.exit_code;
    if f_same && s_same && x_same {
        lines.push(format!(
            "  findings identical: {} finding{}, sha256 {}; summary and exit code {} identical",
            new.findings.count,
            if new.findings.count == 1 { "" } else { "s" },
            new.findings.sha256,
            new.exit_code
        ));
    } else {
        differs = true;
        let mut what = Vec::new();
        if !f_same {
            what.push(format!(
                "{} findings (sha256 {}) where the evidence has {} (sha256 {})",
                new.findings.count,
                short(&new.findings.sha256),
                old.findings.count,
                short(&old.findings.sha256)
            ));
        }
        if !s_same {
            what.push(format!(
                "the summary differs: {}",
                summary_diff(&old.summary, &new.summary)
            ));
        }
        if !x_same {
            what.push(format!(
                "exit code {} where the evidence has {}",
                new.exit_code, old.exit_code
            ));
        }
        lines.push(format!("  findings DIFFER: {}", what.join("; ")));
        diags.push(
            Diag::error(
                Code::VerifyFindingsDiffer,
                format!("the judgement run again gives {}", what.join("; ")),
            )
            .with_help("the lines above say which inputs, rules or parameters changed"),
        );
    }
    differs |= compare_reports(&old, &new, &mut lines, &mut diags);
    let exit = if differs {
        lines.push("NOT VERIFIED: see the differences above".into());
        crate::cli::EXIT_FINDINGS
    } else {
        lines.push("verified: every input, rule file and parameter is unchanged, and the findings and reports are identical".into());
        crate::cli::EXIT_OK
    };
    Outcome { lines, diags, exit }
}

fn short(h: &str) -> &str {
    h.get(..12).unwrap_or(h)
}

/// The files the evidence names that cannot be read now.
fn missing_files(doc: &Document, dir: &Path) -> Vec<Diag> {
    let mut out = Vec::new();
    for e in doc
        .inputs
        .iter()
        .chain(&doc.rules)
        .chain(&doc.side_inputs)
        .chain(&doc.config)
    {
        if e.path == "<stdin>" {
            out.push(
                Diag::error(
                    Code::VerifyMissingInput,
                    "the run read standard input, which cannot be read again".to_string(),
                )
                .with_help("audit the export as a file (`proviso audit FILE --evidence …`) to have evidence that can be verified"),
            );
            continue;
        }
        let p = dir.join(&e.path);
        if std::fs::File::open(&p).is_err() {
            out.push(
                Diag::error(
                    Code::VerifyMissingInput,
                    format!(
                        "{} `{}` named by the evidence cannot be read (looked for `{}`)",
                        role_name(&e.role),
                        e.path,
                        p.display()
                    ),
                )
                .with_help("restore it at its path, relative to the recorded working directory"),
            );
        }
    }
    out
}

fn role_name(role: &str) -> &str {
    match role {
        "log" => "log",
        "rules" => "rule file",
        "config" => "proviso.yaml",
        _ => "input",
    }
}

/// The parameter values the run again will have: `params:` of the
/// proviso.yaml it reads, then `--param`.
fn supplied_params(
    req: &Request<'_>,
    config: Option<&Path>,
    dir: &Path,
) -> Result<Vec<(String, String)>, Diag> {
    let here = std::env::current_dir().ok();
    let _ = std::env::set_current_dir(dir);
    let cfg = crate::cli::config::for_run(req.no_config, config);
    if let Some(h) = here {
        let _ = std::env::set_current_dir(h);
    }
    let mut all = cfg?.params;
    all.extend(req.params.iter().cloned());
    Ok(all)
}

/// A scratch directory, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> std::io::Result<Scratch> {
        let base = std::env::temp_dir();
        for i in 0..100u32 {
            let p = base.join(format!("proviso-verify-{}-{i}", std::process::id()));
            if std::fs::create_dir(&p).is_ok() {
                return Ok(Scratch(p));
            }
        }
        Err(std::io::Error::other(
            "no free name in the temporary directory",
        ))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs the recorded command again with its outputs in `scratch`, and
/// reads the evidence it writes.
fn run_again(
    old: &Document,
    req: &Request<'_>,
    config: Option<&Path>,
    dir: &Path,
    scratch: &Path,
) -> Result<Document, Diag> {
    let recorded = old.argv.get(1..).unwrap_or_default();
    let config_given = req.config.is_some() || req.no_config;
    let mut args = rerun::strip(recorded, config_given);
    let file = |name: String| scratch.join(name).display().to_string();
    for (i, r) in old.reports.iter().enumerate() {
        let Some(format) = &r.format else { continue };
        // `check` and `audit` both take `--format NAME=FILE`, several
        // at once.
        args.push("--format".into());
        args.push(format!("{format}={}", file(format!("report-{i}"))));
    }
    if rerun::has(recorded, "--findings") {
        args.extend(["--findings".into(), file("findings.jsonl".into())]);
    }
    if rerun::has(recorded, "--write-baseline") {
        args.extend(["--write-baseline".into(), file("baseline.json".into())]);
    }
    if let Some(d) = &old.judged_by.as_of {
        args.extend(["--as-of".into(), d.clone()]);
    }
    for (k, v) in req.params {
        args.extend(["--param".into(), format!("{k}={v}")]);
    }
    if req.no_config {
        args.push("--no-config".into());
    } else if let Some(c) = config {
        args.extend(["--config".into(), c.display().to_string()]);
    }
    let evidence = scratch.join("evidence.json");
    args.extend(["--evidence".into(), evidence.display().to_string()]);
    let exe = std::env::current_exe().map_err(|e| {
        Diag::error(
            Code::VerifyRerunFailed,
            format!("cannot find this proviso's own binary to run the judgement again: {e}"),
        )
    })?;
    let out = std::process::Command::new(exe)
        .args(&args)
        .current_dir(dir)
        .env(params::SALTS_ENV, params::salts_of(&old.params))
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .output()
        .map_err(|e| {
            Diag::error(
                Code::VerifyRerunFailed,
                format!("cannot run the judgement again: {e}"),
            )
        })?;
    if !evidence.is_file() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = stderr
            .lines()
            .rev()
            .take(20)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        return Err(Diag::error(
            Code::VerifyRerunFailed,
            format!(
                "running `proviso {}` again judged nothing (exit {}):\n{}",
                args.join(" "),
                out.status.code().unwrap_or(-1),
                tail.join("\n")
            ),
        )
        .with_help("fix what the run says and verify again"));
    }
    read(&evidence)
}

/// Compares files by path: prints a line for each, and a diagnostic for
/// each that differs. Whether any differs.
fn compare_files(
    what: &str,
    old: &[&FileEntry],
    new: &[&FileEntry],
    code: Code,
    lines: &mut Vec<String>,
    diags: &mut Vec<Diag>,
) -> bool {
    let mut differs = false;
    for o in old {
        let n = new.iter().find(|n| n.path == o.path && n.role == o.role);
        let verdict = match n {
            None => Some("not read by the run again".to_string()),
            Some(n) if n.sha256 != o.sha256 || n.bytes != o.bytes => Some(format!(
                "CHANGED: sha256 {} ({} bytes) where the evidence has {} ({} bytes)",
                n.sha256.as_deref().map_or("-", short),
                n.bytes.unwrap_or(0),
                o.sha256.as_deref().map_or("-", short),
                o.bytes.unwrap_or(0)
            )),
            Some(n) if n.decompressed != o.decompressed => {
                Some("CHANGED: its decompressed stream differs".to_string())
            }
            Some(_) => None,
        };
        match verdict {
            None => {
                let extra = match &o.decompressed {
                    Some(d) => format!(
                        ", decompressed {} bytes sha256 {}",
                        d.bytes,
                        short(&d.sha256)
                    ),
                    None => String::new(),
                };
                let hash = match &o.sha256 {
                    Some(h) => {
                        format!("sha256 {}, {} bytes{extra}", short(h), o.bytes.unwrap_or(0))
                    }
                    None => o.note.clone().unwrap_or_default(),
                };
                lines.push(format!("  {what:<8} {}: unchanged ({hash})", o.path));
            }
            Some(v) => {
                differs = true;
                lines.push(format!("  {what:<8} {}: {v}", o.path));
                diags.push(Diag::error(
                    code.clone(),
                    format!("{} `{}`: {v}", role_name(&o.role), o.path),
                ));
            }
        }
    }
    for n in new {
        if !old.iter().any(|o| o.path == n.path && o.role == n.role) {
            differs = true;
            lines.push(format!(
                "  {what:<8} {}: READ NOW, not in the evidence",
                n.path
            ));
            diags.push(Diag::error(
                code.clone(),
                format!(
                    "{} `{}` is read now; the evidence does not name it",
                    role_name(&n.role),
                    n.path
                ),
            ));
        }
    }
    differs
}

/// Compares the reports, in order; those written to a terminal are not.
fn compare_reports(
    old: &Document,
    new: &Document,
    lines: &mut Vec<String>,
    diags: &mut Vec<Diag>,
) -> bool {
    let mut differs = false;
    let new_formatted: Vec<_> = new.reports.iter().filter(|r| r.format.is_some()).collect();
    for (o, n) in old.reports.iter().filter(|r| r.format.is_some()).zip(
        new_formatted
            .iter()
            .map(Some)
            .chain(std::iter::repeat(None)),
    ) {
        let name = format!("{} → {}", o.format.as_deref().unwrap_or("?"), o.to);
        if o.terminal {
            lines.push(format!(
                "  report   {name}: not compared (it was written to a terminal)"
            ));
            continue;
        }
        match n {
            Some(n) if n.sha256 == o.sha256 => lines.push(format!(
                "  report   {name}: identical (sha256 {})",
                short(&o.sha256)
            )),
            _ => {
                differs = true;
                lines.push(format!("  report   {name}: DIFFERS"));
                diags.push(Diag::error(
                    Code::VerifyReportDiffers,
                    format!(
                        "the {} report rendered again is not the one the evidence hashed (`{}`)",
                        o.format.as_deref().unwrap_or("?"),
                        o.to
                    ),
                ));
            }
        }
    }
    for o in old.reports.iter().filter(|r| r.flag.is_some()) {
        let same = o.sha256 == new.findings.sha256;
        lines.push(format!(
            "  report   {} {}: {}",
            o.flag.as_deref().unwrap_or_default(),
            o.to,
            if same { "identical" } else { "DIFFERS" }
        ));
        if !same {
            differs = true;
            diags.push(Diag::error(
                Code::VerifyReportDiffers,
                format!(
                    "the `{}` output rendered again is not the one the evidence hashed (`{}`)",
                    o.flag.as_deref().unwrap_or_default(),
                    o.to
                ),
            ));
        }
    }
    differs
}

/// The summary's fields that differ, `name: old → new`.
fn summary_diff(old: &serde_json::Value, new: &serde_json::Value) -> String {
    let mut out = Vec::new();
    if let (Some(o), Some(n)) = (old.as_object(), new.as_object()) {
        for (k, v) in o {
            if n.get(k) != Some(v) {
                let now = n.get(k).map_or("-".to_string(), |x| x.to_string());
                let was = v.to_string();
                if was.len() < 80 && now.len() < 80 {
                    out.push(format!("{k}: {was} → {now}"));
                } else {
                    out.push(k.clone());
                }
            }
        }
    }
    if out.is_empty() {
        "its fields differ".into()
    } else {
        out.join(", ")
    }
}
