//! `proviso check`: Terraform against the clauses in force on a date.
//!
//! The command is a pipeline, in this order: settings (flags over
//! `proviso.yaml`), rules, scan, judge, waivers, `--write-baseline`,
//! `--changed-since`, `--baseline`, then every requested format. Each step
//! only removes findings from what is counted and says how many, so the
//! summary always adds up.

use super::{
    CheckArgs, CheckFormat, Color, EXIT_FINDINGS, EXIT_OK, EXIT_TROUBLE, FormatSpec, Style,
    eprint_diags, load_rules, style, write_output,
};
use crate::baseline::Baseline;
use crate::changed::Changed;
use crate::config::{Config, Exclude};
use crate::date::Date;
use crate::diag::Diag;
use crate::report::{CheckReport, ClauseInfo, FailOn};
use crate::source::display_path;
use std::io::IsTerminal;
use std::path::PathBuf;

/// Settings after flags and `proviso.yaml` are merged.
struct Settings {
    rules: Vec<PathBuf>,
    paths: Vec<PathBuf>,
    as_of: Date,
    fail_on: FailOn,
    formats: Vec<FormatSpec>,
    exclude: Vec<Exclude>,
    var_files: Vec<PathBuf>,
    baseline: Option<PathBuf>,
    allow_malformed: bool,
    waivers: crate::waivers::Policy,
}

fn settings(args: &CheckArgs) -> Result<Settings, Diag> {
    let config = if args.no_config {
        Config::default()
    } else if let Some(p) = &args.config {
        crate::config::load(p)?
    } else {
        match std::env::current_dir()
            .ok()
            .and_then(|d| crate::config::discover(&d))
        {
            Some(p) => crate::config::load(&p)?,
            None => Config::default(),
        }
    };
    let pick = |flag: &Vec<PathBuf>, file: &Vec<PathBuf>| {
        if flag.is_empty() {
            file.clone()
        } else {
            flag.clone()
        }
    };
    let rules = pick(&args.rules, &config.rules);
    if rules.is_empty() {
        return Err(Diag::error("proviso::cli::no_rules", "no rule files given").with_help(
            "pass `--rules <FILE|DIR>`, or set `rules:` in a proviso.yaml in this directory or above",
        ));
    }
    let mut paths = pick(&args.paths, &config.paths);
    if paths.is_empty() {
        paths.push(PathBuf::from("."));
    }
    let formats = if !args.format.is_empty() {
        args.format.clone()
    } else if !config.formats.is_empty() {
        config.formats.clone()
    } else {
        vec![FormatSpec {
            format: CheckFormat::Human,
            path: None,
        }]
    };
    let to_default: Vec<&str> = formats
        .iter()
        .filter(|f| f.path.is_none())
        .map(|f| f.format.name())
        .collect();
    if to_default.len() > 1 {
        return Err(Diag::error(
            "proviso::cli::formats_collide",
            format!(
                "formats {} would all write to {}",
                to_default.join(" and "),
                if args.output.is_some() {
                    "--output"
                } else {
                    "standard output"
                }
            ),
        )
        .with_help(
            "give every format but one its own file: `--format sarif=proviso.sarif --format human`",
        ));
    }
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let mut exclude: Vec<Exclude> = args
        .exclude
        .iter()
        .map(|p| Exclude {
            base: cwd.clone(),
            pattern: p.clone(),
        })
        .collect();
    exclude.extend(config.exclude.iter().cloned());
    Ok(Settings {
        rules,
        paths,
        as_of: args.as_of.or(config.as_of).unwrap_or_else(Date::today),
        fail_on: args.fail_on.or(config.fail_on).unwrap_or(FailOn::Error),
        formats,
        exclude,
        var_files: pick(&args.var_files, &config.var_files),
        baseline: args.baseline.clone().or(config.baseline.clone()),
        allow_malformed: args.allow_malformed || config.allow_malformed.unwrap_or(false),
        waivers: config.waivers,
    })
}

pub fn run(args: CheckArgs, color: Color, err_style: &Style) -> i32 {
    let s = match settings(&args) {
        Ok(s) => s,
        Err(d) => {
            eprint_diags(&[d], err_style);
            return EXIT_TROUBLE;
        }
    };
    let Some(rules) = load_rules(&s.rules, err_style) else {
        return EXIT_TROUBLE;
    };
    // Ask git first: a bad ref should fail before minutes of scanning.
    let changed = match &args.changed_since {
        Some(r) => match Changed::since(r, &s.paths) {
            Ok(c) => Some(c),
            Err(d) => {
                eprint_diags(&[d], err_style);
                return EXIT_TROUBLE;
            }
        },
        None => None,
    };
    let baseline = match &s.baseline {
        Some(p) => match Baseline::read(p) {
            Ok(b) => Some((display_path(p), b)),
            Err(d) => {
                eprint_diags(&[d], err_style);
                return EXIT_TROUBLE;
            }
        },
        None => None,
    };

    let options = crate::scan::terraform::Options {
        var_files: s.var_files.clone(),
        exclude: s.exclude.clone(),
    };
    // Each root module is judged as soon as it is evaluated, and its records
    // dropped: memory stays bounded by the parsed files, not the records.
    let (mut scanned, parts) = crate::scan::scan_inputs_each(&s.paths, &options, &|records| {
        let resources = records.iter().filter(|r| r.kind() == "resource").count();
        let judged = crate::findings::judge(&rules, &records, s.as_of);
        (judged, records.len(), resources)
    });
    let mut judged = crate::findings::Judged::default();
    let (mut records, mut resources) = (0usize, 0usize);
    for (j, n, r) in parts {
        judged.findings.extend(j.findings);
        judged.judged += j.judged;
        judged.not_applicable += j.not_applicable;
        records += n;
        resources += r;
    }
    crate::findings::sort(&mut judged.findings);

    // Waivers.
    let mut malformed = std::mem::take(&mut scanned.malformed);
    let (findings, waived, waivers, waiver_findings) = if args.no_waivers {
        (judged.findings, Vec::new(), Vec::new(), Vec::new())
    } else {
        let known: Vec<&str> = rules.clauses().map(|(_, c)| c.id.name.as_str()).collect();
        let (valid, errors) =
            crate::waivers::validate(std::mem::take(&mut scanned.waivers), &known);
        malformed.extend(std::mem::take(&mut scanned.waiver_errors));
        malformed.extend(errors);
        let applied = crate::waivers::apply(judged.findings, valid, s.as_of, &s.waivers);
        (
            applied.findings,
            applied.waived,
            applied.in_force,
            applied.problems,
        )
    };

    // A baseline written now accepts today's findings, in this run too.
    let baseline = match &args.write_baseline {
        Some(p) => {
            let b = Baseline::of(&findings);
            if let Err(d) = write_output(Some(p), &b.to_json()) {
                eprint_diags(&[d], err_style);
                return EXIT_TROUBLE;
            }
            Some((display_path(p), b))
        }
        None => baseline,
    };

    let (mut findings, mut waiver_findings, mut notes) = (
        findings,
        waiver_findings,
        std::mem::take(&mut scanned.notes),
    );
    let mut changed_summary = None;
    if let Some(c) = &changed {
        let before = findings.len() + waiver_findings.len();
        findings.retain(|f| c.keeps(f));
        waiver_findings.retain(|d| c.keeps_diag(d));
        malformed.retain(|d| c.keeps_diag(d));
        notes.retain(|d| c.keeps_diag(d));
        changed_summary = Some((
            c.git_ref.clone(),
            before - findings.len() - waiver_findings.len(),
        ));
    }
    let mut baseline_summary = None;
    if let Some((name, b)) = &baseline {
        let (fresh, known) = b.split(findings);
        findings = fresh;
        baseline_summary = Some((name.clone(), known));
    }

    let report = CheckReport {
        as_of: s.as_of,
        clauses_in_force: rules
            .in_force(s.as_of)
            .filter(|(_, c)| !c.is_manual())
            .map(|(t, c)| (t.id.name.clone(), c.id.name.clone()))
            .collect(),
        findings,
        malformed,
        notes,
        unscanned_modules: std::mem::take(&mut scanned.unscanned_modules),
        files: scanned.files,
        modules: scanned.modules,
        records,
        resources,
        judged: judged.judged,
        not_applicable: judged.not_applicable,
        waived,
        waivers,
        waiver_findings,
        baseline: baseline_summary,
        changed_since: changed_summary,
        clauses: ClauseInfo::of(&rules),
    };
    for spec in &s.formats {
        let dest = spec.path.as_ref().or(args.output.as_ref());
        let to_terminal = dest.is_none() && std::io::stdout().is_terminal();
        let out_style = style(color, to_terminal);
        let text = match spec.format {
            CheckFormat::Human => {
                crate::report::human::render_check(&report, out_style.plain, out_style.width)
            }
            CheckFormat::Json => crate::report::json::render_check(&report),
            CheckFormat::Sarif => crate::report::sarif::render_check(&report),
            CheckFormat::Junit => crate::report::junit::render_check(&report),
            CheckFormat::Github => crate::report::github::render_check(&report),
            CheckFormat::Markdown => crate::report::markdown::render_check(&report),
        };
        if let Err(d) = write_output(dest, &text) {
            eprint_diags(&[d], err_style);
            return EXIT_TROUBLE;
        }
    }
    if !report.malformed.is_empty() && !s.allow_malformed {
        return EXIT_TROUBLE;
    }
    if report.fails(s.fail_on) {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    }
}
