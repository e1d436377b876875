//! The JUnit XML reporter, for CI systems that show test reports (GitLab,
//! Jenkins, Azure Pipelines).
//!
//! One `<testsuite>` per clause in force; each finding is a `<testcase>`
//! named by the record's address: a violation is a `<failure>`, an
//! unresolved finding is `<skipped>` (it could not be decided), and a clause
//! without findings has one passing test case. Unreadable inputs are
//! `<error>`s in a suite of their own, waiver findings in another.

use super::CheckReport;
use crate::diag::Diag;
use crate::findings::{Finding, FindingOutcome};
use crate::text::xml_escape as escape;
use std::collections::BTreeMap;

fn case(f: &Finding) -> String {
    let (line, col) = f.primary.line_col();
    let location = format!("{}:{line}:{col}", f.primary.file.name);
    let body = format!("{location}\n{}\n{}", f.primary_label, f.help);
    let inner = match f.outcome {
        FindingOutcome::Violation => format!(
            "<failure type=\"{}\" message=\"{}\">{}</failure>",
            f.severity.as_str(),
            escape(&f.message),
            escape(&body)
        ),
        FindingOutcome::Unresolved => format!("<skipped message=\"{}\"/>", escape(&f.message)),
    };
    format!(
        "    <testcase name=\"{}\" classname=\"{}\" file=\"{}\" line=\"{line}\">{inner}</testcase>\n",
        escape(&f.address),
        escape(&f.clause),
        escape(&f.primary.file.name),
    )
}

fn diag_case(d: &Diag, tag: &str) -> String {
    let loc = d
        .location()
        .map(|(f, l, c)| format!("{f}:{l}:{c}"))
        .unwrap_or_default();
    format!(
        "    <testcase name=\"{}\" classname=\"{}\"><{tag} type=\"{}\" message=\"{}\">{}</{tag}></testcase>\n",
        escape(if loc.is_empty() {
            d.code.as_str()
        } else {
            &loc
        }),
        escape(d.code.as_str()),
        escape(d.code.as_str()),
        escape(&d.message),
        escape(&format!("{loc}\n{}", d.help.clone().unwrap_or_default())),
    )
}

fn suite(name: &str, cases: &[String], failures: usize, errors: usize, skipped: usize) -> String {
    let mut s = format!(
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\">\n",
        escape(name),
        cases.len()
    );
    for c in cases {
        s.push_str(c);
    }
    s.push_str("  </testsuite>\n");
    s
}

pub fn render_check(r: &CheckReport) -> String {
    let mut suites = String::new();
    let (mut tests, mut failures, mut errors, mut skipped) = (0usize, 0usize, 0usize, 0usize);
    let mut by_clause: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for (_, c) in &r.clauses_in_force {
        by_clause.entry(c.as_str()).or_default();
    }
    for f in &r.findings {
        by_clause.entry(f.clause.as_str()).or_default().push(f);
    }
    for (clause, fs) in by_clause {
        let mut cases: Vec<String> = fs.iter().map(|f| case(f)).collect();
        let fail = fs
            .iter()
            .filter(|f| f.outcome == FindingOutcome::Violation)
            .count();
        let skip = fs.len() - fail;
        if cases.is_empty() {
            cases.push(format!(
                "    <testcase name=\"no findings\" classname=\"{}\"/>\n",
                escape(clause)
            ));
        }
        tests += cases.len();
        failures += fail;
        skipped += skip;
        suites.push_str(&suite(clause, &cases, fail, 0, skip));
    }
    // An aggregate clause is skipped, not passed: no Terraform record can show it.
    for (_, clause) in &r.not_applicable_clauses {
        let case = format!(
            "    <testcase name=\"not applicable to Terraform\" classname=\"{}\"><skipped message=\"an aggregate clause judges groups of log records over time: run proviso audit\"/></testcase>\n",
            escape(clause)
        );
        tests += 1;
        skipped += 1;
        suites.push_str(&suite(clause, &[case], 0, 0, 1));
    }
    if !r.waiver_findings.is_empty() {
        let cases: Vec<String> = r
            .waiver_findings
            .iter()
            .map(|d| diag_case(d, "failure"))
            .collect();
        tests += cases.len();
        failures += cases.len();
        suites.push_str(&suite("proviso waivers", &cases, cases.len(), 0, 0));
    }
    if !r.unscanned_modules.is_empty() {
        let cases: Vec<String> = r
            .unscanned_modules
            .iter()
            .map(|u| {
                format!(
                    "    <testcase name=\"{}\" classname=\"proviso modules not scanned\">\n      <skipped message=\"{}\"/>\n    </testcase>\n",
                    escape(&u.address),
                    escape(&super::unscanned_text(u))
                )
            })
            .collect();
        tests += cases.len();
        skipped += cases.len();
        suites.push_str(&suite(
            "proviso modules not scanned",
            &cases,
            0,
            0,
            cases.len(),
        ));
    }
    if !r.malformed.is_empty() {
        let cases: Vec<String> = r.malformed.iter().map(|d| diag_case(d, "error")).collect();
        tests += cases.len();
        errors += cases.len();
        suites.push_str(&suite("proviso inputs", &cases, 0, cases.len(), 0));
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"proviso check as of {}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\">\n{suites}</testsuites>\n",
        r.as_of
    )
}
