//! The Markdown reporter: a summary to post as a pull-request comment.
//!
//! A headline with the verdict, one table row per finding (linked to
//! nothing: paths are relative, so the comment stays valid on any fork),
//! the citations of the clauses that fired, the waivers in force with their
//! reasons, and what the baseline or `--changed-since` left out. Cell text
//! is escaped so that a message with `|` or a newline cannot break the table.

use super::CheckReport;
use crate::findings::FindingOutcome;
use std::collections::BTreeSet;
use std::fmt::Write as _;

/// Text safe inside a table cell.
pub fn cell(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace(['\r', '\n'], " ")
        .replace('<', "&lt;")
}

/// Inline code that survives backticks in the text.
fn code(s: &str) -> String {
    if s.contains('`') {
        format!("`` {} ``", cell(s))
    } else {
        format!("`{}`", cell(s))
    }
}

pub fn render_check(r: &CheckReport) -> String {
    let mut out = String::new();
    let errors = r
        .findings
        .iter()
        .filter(|f| f.outcome == FindingOutcome::Violation && f.severity.as_str() == "error")
        .count();
    let verdict = if errors > 0 || !r.malformed.is_empty() {
        "❌"
    } else if r.findings.is_empty() && r.waiver_findings.is_empty() {
        "✅"
    } else {
        "⚠️"
    };
    let _ = writeln!(
        out,
        "### {verdict} proviso check as of {}: {} violation{}, {} unresolved\n",
        r.as_of,
        r.violations(),
        if r.violations() == 1 { "" } else { "s" },
        r.unresolved()
    );
    let _ = writeln!(out, "{}\n", super::human::summary_line(r));
    if !r.findings.is_empty() {
        out.push_str("| | clause | address | where | message |\n|---|---|---|---|---|\n");
        for group in crate::findings::groups(&r.findings) {
            let Some(f) = group.first() else { continue };
            let badge = match f.outcome {
                FindingOutcome::Violation => match f.severity.as_str() {
                    "error" => "❌ error",
                    "warning" => "⚠️ warning",
                    _ => "ℹ️ info",
                },
                FindingOutcome::Unresolved => "❔ unresolved",
            };
            let (line, col) = f.primary.line_col();
            let _ = writeln!(
                out,
                "| {badge} | {} | {} | {} | {} |",
                code(&f.clause),
                if group.len() == 1 {
                    code(&f.address)
                } else {
                    let mut a = group
                        .iter()
                        .take(5)
                        .map(|g| code(&g.address))
                        .collect::<Vec<_>>()
                        .join(", ");
                    if group.len() > 5 {
                        a.push_str(&format!(" and {} more", group.len() - 5));
                    }
                    a
                },
                code(&format!("{}:{line}:{col}", f.primary.file.name)),
                cell(&f.message)
            );
        }
        out.push('\n');
        let mut seen = BTreeSet::new();
        out.push_str("<details><summary>Clauses and citations</summary>\n\n");
        for f in &r.findings {
            if seen.insert(&f.clause) {
                let _ = writeln!(
                    out,
                    "- {} {}: {}",
                    code(&f.clause),
                    cell(f.clause_title.as_deref().unwrap_or("")),
                    cell(&f.help)
                );
            }
        }
        out.push_str("\n</details>\n\n");
    }
    if !r.waiver_findings.is_empty() {
        out.push_str("**Waiver findings**\n\n");
        for d in &r.waiver_findings {
            let loc = d
                .location()
                .map(|(f, l, _)| format!("{f}:{l}"))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "- {} {}: {}",
                code(&loc),
                code(d.code.as_str()),
                cell(&d.message)
            );
        }
        out.push('\n');
    }
    if !r.waivers.is_empty() {
        let _ = writeln!(out, "**Waivers in force** ({})\n", r.waivers.len());
        out.push_str("| clauses | on | where | until | owner | excuses | reason |\n|---|---|---|---|---|---|---|\n");
        for w in &r.waivers {
            let n = r.excused_by(w).count();
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {n} | {} |",
                code(&w.clauses.join(", ")),
                cell(&w.target_name),
                code(&w.location()),
                w.until.map(|d| d.to_string()).unwrap_or_else(|| "—".into()),
                cell(w.owner.as_deref().unwrap_or("—")),
                cell(&w.reason)
            );
        }
        out.push('\n');
    }
    if !r.unscanned_modules.is_empty() {
        out.push_str("**Modules not scanned**\n\n");
        for u in &r.unscanned_modules {
            let (line, _) = u.origin.line_col();
            let _ = writeln!(
                out,
                "- {} {} (source {})",
                code(&format!("{}:{line}", u.origin.file.name)),
                code(&u.address),
                code(&u.source)
            );
        }
        out.push('\n');
    }
    if !r.malformed.is_empty() {
        out.push_str("**Unreadable inputs**\n\n");
        for d in &r.malformed {
            let loc = d
                .location()
                .map(|(f, l, _)| format!("{f}:{l}"))
                .unwrap_or_default();
            let _ = writeln!(out, "- {} {}", code(&loc), cell(&d.message));
        }
        out.push('\n');
    }
    if let Some(w) = &r.what_if {
        out.push_str(&w.render_markdown());
    }
    out
}
