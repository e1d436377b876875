//! The human reporter: one miette report per finding, then a summary.

use super::CheckReport;
use crate::diag::render;

/// Renders the report for a person. `plain` drops colour (for pipes, files
/// and snapshots).
pub fn render_check(report: &CheckReport, plain: bool, width: usize) -> String {
    let mut out = String::new();
    for d in &report.malformed {
        out.push_str(&render(d, plain, width));
        out.push('\n');
    }
    for f in &report.findings {
        out.push_str(&render(&f.to_diag(), plain, width));
        out.push('\n');
    }
    for d in &report.notes {
        out.push_str(&render(d, plain, width));
        out.push('\n');
    }
    out.push_str(&summary_line(report));
    out.push('\n');
    out
}

/// `proviso check as of 2026-03-01: …`.
pub fn summary_line(r: &CheckReport) -> String {
    let plural =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let mut by_sev = Vec::new();
    for sev in ["error", "warning", "info"] {
        let sev: &str = sev;
        let n = r
            .findings
            .iter()
            .filter(|f| {
                f.outcome == crate::findings::FindingOutcome::Violation
                    && f.severity.as_str() == sev
            })
            .count();
        if n > 0 {
            by_sev.push(plural(n, sev, &format!("{sev}s")));
        }
    }
    let violations = if by_sev.is_empty() {
        plural(r.violations(), "violation", "violations")
    } else {
        format!(
            "{} ({})",
            plural(r.violations(), "violation", "violations"),
            by_sev.join(", ")
        )
    };
    format!(
        "proviso check as of {}: {} in force; {}, {}, {}: {}, {} unresolved, {}",
        r.as_of,
        plural(r.clauses_in_force.len(), "clause", "clauses"),
        plural(r.files, "file", "files"),
        plural(r.modules, "module instance", "module instances"),
        plural(r.records, "record", "records"),
        violations,
        r.unresolved(),
        plural(r.malformed.len(), "unreadable input", "unreadable inputs"),
    )
}
