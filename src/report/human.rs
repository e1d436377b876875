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
    for group in crate::findings::groups(&report.findings) {
        if let Some(d) = crate::findings::Finding::group_diag(group) {
            out.push_str(&render(&d, plain, width));
            out.push('\n');
        }
    }
    for d in &report.waiver_findings {
        out.push_str(&render(d, plain, width));
        out.push('\n');
    }
    for d in &report.notes {
        out.push_str(&render(d, plain, width));
        out.push('\n');
    }
    out.push_str(&waiver_list(report));
    out.push_str(&summary_line(report));
    out.push('\n');
    if let Some(w) = &report.what_if {
        out.push('\n');
        out.push_str(&w.render_text());
    }
    out
}

/// Every waiver in force, one line each, with what it excuses.
pub fn waiver_list(r: &CheckReport) -> String {
    let mut out = String::new();
    if r.waivers.is_empty() {
        return out;
    }
    out.push_str(&format!("waivers in force ({}):\n", r.waivers.len()));
    for w in &r.waivers {
        let excused: Vec<&str> = r.excused_by(w).map(|f| f.address.as_str()).collect();
        let until = w
            .until
            .map(|d| format!(" until {d}"))
            .unwrap_or_else(|| " (no expiry)".into());
        let owner = w
            .owner
            .as_ref()
            .map(|o| format!(", owner {o}"))
            .unwrap_or_default();
        let what = if excused.is_empty() {
            "excuses nothing today".to_string()
        } else {
            format!("excuses {}", excused.join(", "))
        };
        out.push_str(&format!(
            "  {} {} on {}{until}{owner}: {what}; reason: {}\n",
            w.location(),
            w.clauses.join(", "),
            w.target_name,
            w.reason
        ));
    }
    out
}

/// `3 records`, or `1 record (10000000 instances)` where records stand for
/// several instances of a block.
fn records_text(r: &CheckReport) -> String {
    let instances = r.judged + r.not_applicable;
    let records = format!(
        "{} {}",
        r.records,
        if r.records == 1 { "record" } else { "records" }
    );
    if instances > r.records {
        format!("{records} ({instances} instances)")
    } else {
        records
    }
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
            .map(|f| f.instances as usize)
            .sum();
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
    let mut extra = String::new();
    if !r.waived.is_empty() {
        extra.push_str(&format!("; {} waived", r.waived.len()));
    }
    if !r.waiver_findings.is_empty() {
        extra.push_str(&format!(
            "; {}",
            plural(r.waiver_findings.len(), "waiver finding", "waiver findings")
        ));
    }
    if let Some((file, n)) = &r.baseline {
        extra.push_str(&format!("; {n} known from baseline {file}"));
    }
    if let Some((git_ref, n)) = &r.changed_since {
        extra.push_str(&format!("; {n} not on lines changed since {git_ref}"));
    }
    if !r.not_applicable_clauses.is_empty() {
        // Never counted as passed. The names are in the JSON report and in
        // `explain`; the line stays short enough for a terminal.
        extra.push_str(&format!(
            "; {} not applicable to Terraform",
            plural(
                r.not_applicable_clauses.len(),
                "aggregate clause",
                "aggregate clauses"
            )
        ));
    }
    if !r.unscanned_modules.is_empty() {
        extra.push_str(&format!(
            "; {} not scanned",
            plural(r.unscanned_modules.len(), "module call", "module calls")
        ));
    }
    format!(
        "proviso check as of {}: {} in force; {}, {}, {}: {}, {} unresolved, {}{extra}",
        r.as_of,
        plural(r.clauses_in_force.len(), "clause", "clauses"),
        plural(r.files, "file", "files"),
        plural(r.modules, "module instance", "module instances"),
        records_text(r),
        violations,
        r.unresolved(),
        plural(r.malformed.len(), "unreadable input", "unreadable inputs"),
    )
}
