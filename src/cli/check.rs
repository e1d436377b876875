//! `proviso check`: Terraform against the clauses in force on a date.
//!
//! The command is a pipeline, in this order: settings (flags over
//! `proviso.yaml`), a preflight of the files they name (outputs that
//! collide or overwrite an input, side inputs, paths without Terraform),
//! rules, a date with a clause in force, scan, judge, waivers,
//! `--write-baseline`, `--changed-since`, `--baseline`, then every
//! requested format. Each step only removes findings from what is counted
//! and says how many, so the summary always adds up; a run that judged
//! nothing (no Terraform, no record, no clause in force) exits 2, never 0.

use super::files::{self, Output};
use super::{
    CheckArgs, CheckFormat, Color, EXIT_FINDINGS, EXIT_OK, EXIT_TROUBLE, FormatName, FormatSpec,
    Style, eprint_diags, load_rules, style, write_output,
};
use crate::date::Date;
use crate::diag::{Code, Diag};
use crate::findings::FailOn;
use crate::findings::baseline::Baseline;
use crate::findings::changed::Changed;
use crate::report::{CheckReport, ClauseInfo};
use crate::scan::Exclude;
use crate::source::display_path;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

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
    waivers: crate::findings::waivers::Policy,
    /// The `proviso.yaml` read, if any.
    config: Option<PathBuf>,
    /// Parameter values: the file's `params:`, then `--param` flags.
    params: Vec<(String, String)>,
    /// `--iac` and `--region`.
    iac: crate::scan::iac::Options,
}

fn settings(args: &CheckArgs) -> Result<Settings, Diag> {
    let config = crate::cli::config::for_run(args.no_config, args.config.as_deref())?;
    let pick = |flag: &Vec<PathBuf>, file: &Vec<PathBuf>| {
        if flag.is_empty() {
            file.clone()
        } else {
            flag.clone()
        }
    };
    let rules = pick(&args.rules, &config.rules);
    if rules.is_empty() {
        return Err(Diag::error(Code::CliNoRules, "no rule files given").with_help(
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
    if let Some(d) = super::formats_collide(&formats, args.output.as_deref()) {
        return Err(d);
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
        params: config
            .params
            .iter()
            .cloned()
            .chain(args.params.iter().cloned())
            .collect(),
        iac: crate::scan::iac::Options {
            force: args.iac.or(config.iac),
            region: args.region.clone().or(config.region.clone()),
        },
        config: config.path,
    })
}

/// Every destination of the run, with the flag that names it.
fn outputs<'a>(s: &'a Settings, args: &'a CheckArgs) -> Vec<Output<'a>> {
    let mut out = Vec::new();
    for spec in &s.formats {
        match &spec.path {
            Some(p) => out.push(Output {
                flag: format!("--format {}={}", spec.format.name(), p.display()),
                path: p,
            }),
            None => {
                if let Some(p) = &args.output {
                    out.push(Output {
                        flag: format!("--output {}", p.display()),
                        path: p,
                    });
                }
            }
        }
    }
    if let Some(p) = &args.write_baseline {
        out.push(Output {
            flag: format!("--write-baseline {}", p.display()),
            path: p,
        });
    }
    if let Some(p) = &args.evidence {
        out.push(Output {
            flag: format!("--evidence {}", p.display()),
            path: p,
        });
    }
    out
}

/// Checks the settings against the files they name, before anything is
/// read: outputs that collide or would overwrite an input, side inputs too
/// large or not files, a directory with no Terraform in it.
fn preflight(s: &Settings, args: &CheckArgs) -> Result<(), Diag> {
    let mut inputs: Vec<PathBuf> = s.paths.clone();
    inputs.extend(s.var_files.iter().cloned());
    // `--baseline F --write-baseline F` refreshes the baseline: allowed.
    inputs.extend(
        s.baseline
            .iter()
            .filter(|b| {
                args.write_baseline
                    .as_ref()
                    .is_none_or(|w| files::identity(w) != files::identity(b))
            })
            .cloned(),
    );
    inputs.extend(s.config.iter().cloned());
    if let Ok(found) = crate::rules::find_rule_files(&s.rules) {
        inputs.extend(found);
    }
    files::check_outputs(&outputs(s, args), &inputs)?;
    for v in &s.var_files {
        files::check_side_file(v, "--var-file", files::SIDE_INPUT_CAP)?;
    }
    for p in &s.paths {
        if p.is_dir() && !crate::scan::iac::holds_iac(p, &s.exclude, s.iac.force) {
            return Err(no_terraform(p));
        }
        if p.is_file()
            && s.iac.force.is_none()
            && !is_terraform_file(p)
            && crate::scan::iac::detect_path(p).is_none()
        {
            return Err(not_terraform(p));
        }
    }
    Ok(())
}

/// A file `proviso check` reads when it is named: `.tf`, `.tf.json`, or a
/// plan JSON file.
fn is_terraform_file(p: &Path) -> bool {
    let name = p
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    name.ends_with(".tf")
        || name.ends_with(".tf.json")
        || crate::scan::arm::discover::is_azure_file(p)
        || crate::scan::terraform::plan::is_plan_path(p)
}

fn not_terraform(p: &Path) -> Diag {
    let name = display_path(p);
    let help = if name.ends_with(".proviso") {
        format!(
            "`{name}` is a rule file: pass it with `--rules {}`",
            p.display()
        )
    } else if name.ends_with(".tfvars") || name.ends_with(".tfvars.json") {
        format!("pass variable files with `--var-file {}`", p.display())
    } else {
        "name `.tf` or `.tf.json` files, plan JSON files, CloudFormation, ARM, Bicep or Kubernetes files, or directories of them (`--iac` reads a file as one of them)".to_string()
    };
    Diag::error(
        Code::CheckNotTerraform,
        format!("`{name}` is not a Terraform file nor other infrastructure as code proviso reads: nothing to check in it"),
    )
    .with_help(help)
}

fn no_terraform(dir: &Path) -> Diag {
    let rules_inside = walkdir::WalkDir::new(dir)
        .max_depth(3)
        .into_iter()
        .filter_map(Result::ok)
        .any(|e| e.path().extension().is_some_and(|x| x == "proviso"));
    let help = if rules_inside {
        format!(
            "`{}` holds rule files: pass it with `--rules {}` (one path per `--rules`), and the Terraform directory as a path",
            display_path(dir),
            dir.display()
        )
    } else {
        "pass a directory with `.tf` or `.tf.json` files, CloudFormation templates, ARM or Bicep files or Kubernetes manifests, or a plan JSON file (nothing judged is not a pass)"
            .to_string()
    };
    Diag::error(
        Code::CheckNoTerraform,
        format!(
            "`{}` holds no Terraform files (`.tf`, `.tf.json`): nothing to check there",
            display_path(dir)
        ),
    )
    .with_help(help)
}

/// No enforced clause is in force on `as_of`: the error, with the dates
/// the rules do cover.
fn nothing_in_force(rules: &crate::rules::RuleSet, as_of: Date) -> Option<Diag> {
    let enforced: Vec<&str> = rules
        .in_force(as_of)
        .filter(|(_, c)| !c.is_manual())
        .map(|(_, c)| c.id.name.as_str())
        .collect();
    if !enforced.is_empty() {
        // Clauses in force that no Terraform record can meet (they read
        // only log fields) would judge nothing either.
        if rules
            .in_force(as_of)
            .any(|(_, c)| !c.is_manual() && crate::explain::coverage(rules, c).terraform)
        {
            return None;
        }
        return Some(
            Diag::error(
                Code::CheckNothingCheckable,
                format!(
                    "no clause in force on {as_of} can apply to Terraform ({} can only apply to traffic logs): nothing would be judged",
                    super::some_names(&enforced)
                ),
            )
            .with_help("audit logs with `proviso audit LOGS --rules RULES`; `proviso explain RULES` shows which input checks each clause"),
        );
    }
    let spans: Vec<crate::date::Interval> = rules
        .clauses()
        .filter(|(_, c)| !c.is_manual())
        .filter_map(|(t, c)| {
            rules
                .terms_in_force_interval(t)
                .and_then(|iv| iv.intersect(&c.interval(t)))
        })
        .collect();
    let from = spans.iter().map(|i| i.from).min();
    let until = if spans.iter().any(|i| i.until.is_none()) {
        None
    } else {
        spans.iter().filter_map(|i| i.until).max()
    };
    let help = match (from, until) {
        (Some(f), Some(u)) => format!(
            "the rules' clauses are in force from {f} until {u}: pass a date in between with `--as-of`"
        ),
        (Some(f), None) => {
            format!("the rules' clauses are in force from {f} on: pass a later date with `--as-of`")
        }
        _ => "the rules hold no clause a scan can check (`proviso explain RULES` lists them)"
            .to_string(),
    };
    Some(
        Diag::error(
            Code::CheckNothingInForce,
            format!("no clause of the rules is in force on {as_of}: nothing would be judged"),
        )
        .with_help(help),
    )
}

pub fn run(args: CheckArgs, color: Color, err_style: &Style) -> i32 {
    let s = match settings(&args).and_then(|s| preflight(&s, &args).map(|()| s)) {
        Ok(s) => s,
        Err(d) => {
            eprint_diags(&[d], err_style);
            return EXIT_TROUBLE;
        }
    };
    let Some(mut rules) = load_rules(&s.rules, err_style) else {
        return EXIT_TROUBLE;
    };
    let bad = rules.set_params(&s.params);
    if !bad.is_empty() {
        eprint_diags(&bad, err_style);
        return EXIT_TROUBLE;
    }
    crate::evidence::note_rules_and_params(&rules, s.config.as_deref(), &s.params);
    if let Some(d) = nothing_in_force(&rules, s.as_of) {
        eprint_diags(&[d], err_style);
        return EXIT_TROUBLE;
    }
    // `--what-if`: the draft signed, judged on its first day in force
    // (or `--as-of`, if later), beside the terms as they are that day.
    let what_if = match &args.what_if {
        Some(spec) => match rules.signed(&spec.draft, spec.at) {
            Ok(signed) => {
                let signed_on = signed
                    .terms
                    .iter()
                    .find(|t| t.id.name == spec.draft)
                    .map_or(s.as_of, |t| t.interval.from);
                Some((spec, signed, s.as_of.max(signed_on)))
            }
            Err(diags) => {
                eprint_diags(&diags, err_style);
                return EXIT_TROUBLE;
            }
        },
        None => None,
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
        Some(p) => match crate::cli::files::read_capped_text(
            p,
            crate::cli::files::SIDE_INPUT_CAP,
            "a `--baseline`",
        )
        .and_then(|text| Baseline::parse(p, text))
        {
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
        ..Default::default()
    };
    // Each root module is judged as soon as it is evaluated, and its records
    // dropped: memory stays bounded by the parsed files, not the records.
    let (mut scanned, parts) =
        crate::scan::scan_inputs_each(&s.paths, &options, &s.iac, &|records| {
            let resources = records.iter().filter(|r| r.kind() == "resource").count();
            let judged = crate::findings::judge(&rules, &records, s.as_of);
            // Both sides of `--what-if` keep only their violations.
            let sides = what_if.as_ref().map(|(_, signed, on)| {
                let violations = |findings: &[crate::findings::Finding]| {
                    findings
                        .iter()
                        .filter(|f| f.outcome == crate::findings::FindingOutcome::Violation)
                        .cloned()
                        .collect::<Vec<_>>()
                };
                let today = if *on == s.as_of {
                    violations(&judged.findings)
                } else {
                    violations(&crate::findings::judge(&rules, &records, *on).findings)
                };
                let draft = crate::findings::judge(signed, &records, *on);
                (today, violations(&draft.findings))
            });
            (judged, records.len(), resources, sides)
        });
    let mut judged = crate::findings::Judged::default();
    let (mut records, mut resources) = (0usize, 0usize);
    let (mut today, mut drafted) = (Vec::new(), Vec::new());
    for (j, n, r, sides) in parts {
        judged.findings.extend(j.findings);
        judged.judged += j.judged;
        judged.not_applicable += j.not_applicable;
        records += n;
        resources += r;
        if let Some((a, b)) = sides {
            today.extend(a);
            drafted.extend(b);
        }
    }
    crate::findings::sort(&mut judged.findings);
    let what_if = what_if.map(|(spec, signed, on)| {
        crate::what_if::compare_check(&rules, &signed, spec, on, &today, &drafted)
    });

    // Waivers.
    let mut malformed = std::mem::take(&mut scanned.malformed);
    let (findings, waived, waivers, waiver_findings) = if args.no_waivers {
        (judged.findings, Vec::new(), Vec::new(), Vec::new())
    } else {
        let known: Vec<&str> = rules.clauses().map(|(_, c)| c.id.name.as_str()).collect();
        let (valid, errors) =
            crate::findings::waivers::validate(std::mem::take(&mut scanned.waivers), &known);
        malformed.extend(std::mem::take(&mut scanned.waiver_errors));
        malformed.extend(errors);
        let applied = crate::findings::waivers::apply(judged.findings, valid, s.as_of, &s.waivers);
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
            .filter(|(_, c)| !c.is_manual() && !c.is_aggregate())
            .map(|(t, c)| (t.id.name.clone(), c.id.name.clone()))
            .collect(),
        not_applicable_clauses: rules
            .in_force(s.as_of)
            .filter(|(_, c)| c.is_aggregate())
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
        what_if,
    };
    crate::evidence::note_check(&report);
    let mut trouble = Vec::new();
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
            CheckFormat::Csv => crate::report::csv::render_check(&report),
        };
        crate::evidence::note_report(
            spec.format.name(),
            dest.map(PathBuf::as_path),
            &text,
            to_terminal,
        );
        // A write error does not stop the other formats: each is reported.
        if let Err(d) = write_output(dest, &text) {
            trouble.push(d);
        }
    }
    let to_stdout = s
        .formats
        .iter()
        .any(|f| f.path.is_none() && args.output.is_none());
    if !to_stdout {
        // Every report went to a file: the person who ran the command
        // still sees what happened.
        eprintln!("{}", crate::report::human::summary_line(&report));
    }
    if report.files == 0 || report.records == 0 {
        trouble.push(nothing_checked(&report, &s.paths));
    }
    if !trouble.is_empty() {
        eprint_diags(&trouble, err_style);
        return EXIT_TROUBLE;
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

/// The error for a run that read no infrastructure-as-code file or found
/// no record.
fn nothing_checked(report: &CheckReport, paths: &[PathBuf]) -> Diag {
    let names: Vec<String> = paths
        .iter()
        .map(|p| format!("`{}`", display_path(p)))
        .collect();
    let (what, help) = if report.files == 0 {
        (
            format!(
                "no infrastructure-as-code file was read in {}",
                names.join(", ")
            ),
            "pass directories or files of Terraform (`.tf`, `.tf.json`, plan JSON), CloudFormation, ARM, Bicep or Kubernetes; check `--exclude` and `--iac`",
        )
    } else {
        (
            if report.files == 1 {
                "the 1 file read holds no resource, data source or module to judge".to_string()
            } else {
                format!(
                    "the {} files read hold no resource, data source or module to judge",
                    report.files
                )
            },
            "pass the directories that declare the infrastructure",
        )
    };
    Diag::error(
        Code::CheckNothingChecked,
        format!("nothing was checked: {what}"),
    )
    .with_help(help)
}
