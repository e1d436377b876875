//! `proviso check`: Terraform against the clauses in force on a date.

use super::{
    CheckArgs, Color, EXIT_FINDINGS, EXIT_OK, EXIT_TROUBLE, Format, Style, eprint_diags,
    load_rules, style, write_output,
};
use crate::date::Date;
use crate::report::CheckReport;
use std::io::IsTerminal;

pub fn run(args: CheckArgs, color: Color, err_style: &Style) -> i32 {
    let Some(rules) = load_rules(&args.rules, err_style) else {
        return EXIT_TROUBLE;
    };
    let as_of = args.as_of.unwrap_or_else(Date::today);
    let options = crate::scan::terraform::Options {
        var_files: args.var_files.clone(),
    };
    let scanned = crate::scan::terraform::scan(&args.paths, &options);
    let judged = crate::findings::judge(&rules, &scanned.records, as_of);
    let report = CheckReport {
        as_of,
        clauses_in_force: rules
            .in_force(as_of)
            .filter(|(_, c)| !c.is_manual())
            .map(|(t, c)| (t.id.name.clone(), c.id.name.clone()))
            .collect(),
        findings: judged.findings,
        malformed: scanned.malformed,
        notes: scanned.notes,
        files: scanned.files,
        modules: scanned.modules,
        records: scanned.records.len(),
        resources: scanned
            .records
            .iter()
            .filter(|r| r.kind() == "resource")
            .count(),
        judged: judged.judged,
        not_applicable: judged.not_applicable,
    };
    let to_terminal = args.output.is_none() && std::io::stdout().is_terminal();
    let out_style = style(color, to_terminal);
    let text = match args.format {
        Format::Human => {
            crate::report::human::render_check(&report, out_style.plain, out_style.width)
        }
        Format::Json => crate::report::json::render_check(&report),
    };
    if let Err(d) = write_output(args.output.as_ref(), &text) {
        eprint_diags(&[d], err_style);
        return EXIT_TROUBLE;
    }
    if !report.malformed.is_empty() && !args.allow_malformed {
        return EXIT_TROUBLE;
    }
    if report.findings.iter().any(|f| args.fail_on.fails(f)) {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    }
}
