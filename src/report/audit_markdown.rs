//! `proviso audit --format markdown`: the audit for a ticket or a
//! pull-request comment. A verdict headline, the accounting line, a table
//! of clauses, the first samples, the breaching and unresolved groups of
//! aggregate clauses with their figures, unreadable inputs and malformed
//! lines, and the `--what-if` comparison. Cells are escaped as the check
//! report's are ([`super::markdown::cell`]).

use super::markdown::cell;
use crate::audit::AuditReport;
use crate::scan::logs::format_timestamp;
use std::fmt::Write;

pub fn render(r: &AuditReport) -> String {
    let mut out = String::new();
    let errors: u64 = r
        .clauses
        .iter()
        .filter(|c| c.severity.map(|s| s.as_str()) == Some("error"))
        .map(|c| c.violations)
        .sum();
    let unresolved: u64 = r.clauses.iter().map(|c| c.unresolved).sum();
    let verdict = if errors > 0 || r.summary.malformed > 0 || !r.unreadable.is_empty() {
        "❌"
    } else if r.violations() == 0 && unresolved == 0 {
        "✅"
    } else {
        "⚠️"
    };
    let _ = writeln!(
        out,
        "### {verdict} proviso audit: {} violation{}, {unresolved} unresolved\n",
        r.violations(),
        if r.violations() == 1 { "" } else { "s" },
    );
    let _ = writeln!(out, "{}\n", cell(&super::audit_human::summary_line(r)));
    if !r.inputs.is_empty() {
        out.push_str(
            "| input | format | records | malformed | bytes read |\n|---|---|---:|---:|---:|\n",
        );
        for i in &r.inputs {
            let _ = writeln!(
                out,
                "| `{}` | {}{} | {} | {} | {} |",
                cell(&i.file),
                i.format.map_or("unknown", |f| f.name()),
                match i.compression {
                    crate::scan::logs::decompress::Compression::None => String::new(),
                    c => format!(" ({})", c.name()),
                },
                i.summary.records,
                i.summary.malformed,
                i.summary.bytes
            );
        }
        out.push('\n');
    }
    out.push_str("| clause | terms | severity | violations | unresolved | subjects | first seen | last seen |\n|---|---|---|---:|---:|---:|---|---|\n");
    for c in &r.clauses {
        let subjects = match &c.aggregate {
            Some(a) => format!("{} groups", a.groups),
            None if c.subjects_capped => format!("≥{}", c.subjects()),
            None => c.subjects().to_string(),
        };
        let _ = writeln!(
            out,
            "| `{}` {} | `{}` | {} | {} | {} | {} | {} | {} |",
            c.clause,
            cell(c.title.as_deref().unwrap_or("")),
            c.terms,
            c.severity.map_or("", |s| s.as_str()),
            c.violations,
            c.unresolved,
            subjects,
            c.first_seen
                .map(format_timestamp)
                .unwrap_or_else(|| "—".into()),
            c.last_seen
                .map(format_timestamp)
                .unwrap_or_else(|| "—".into()),
        );
    }
    out.push('\n');
    let with_samples: Vec<_> = r.clauses.iter().filter(|c| !c.samples.is_empty()).collect();
    if !with_samples.is_empty() {
        out.push_str("<details><summary>Samples</summary>\n\n");
        for c in with_samples {
            for s in &c.samples {
                let _ = writeln!(
                    out,
                    "- `{}` at `{}` ({}): {}",
                    c.clause,
                    cell(&crate::audit::locus(&s.file, s.unit, s.line)),
                    format_timestamp(s.timestamp),
                    cell(&s.message)
                );
            }
        }
        out.push_str("\n</details>\n\n");
    }
    for c in &r.clauses {
        let Some(agg) = &c.aggregate else { continue };
        if agg.findings.is_empty() {
            continue;
        }
        let _ = writeln!(
            out,
            "**`{}` ({}): {} of {} groups breach or are unresolved**\n",
            c.clause,
            c.terms,
            agg.findings.len(),
            agg.groups
        );
        out.push_str("| group | outcome | figures | message |\n|---|---|---|---|\n");
        for g in &agg.findings {
            let figures: Vec<String> = g
                .figures
                .iter()
                .map(|(k, v)| format!("{k} = {v}"))
                .collect();
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {} |",
                cell(&g.label()),
                g.outcome,
                cell(&figures.join("; ")),
                cell(&g.message)
            );
        }
        out.push('\n');
    }
    if !r.unreadable.is_empty() || !r.malformed.is_empty() {
        out.push_str("**Unreadable inputs and malformed lines**\n\n");
        for d in r.unreadable.iter().chain(&r.malformed) {
            let loc = d
                .location()
                .map(|(f, l, _)| format!("`{}` ", cell(&format!("{f}:{l}"))))
                .unwrap_or_default();
            let _ = writeln!(out, "- {loc}{}", cell(&d.message));
        }
        if r.summary.malformed > r.malformed.len() as u64 {
            let _ = writeln!(out, "- … {} malformed lines in all", r.summary.malformed);
        }
        out.push('\n');
    }
    if let Some(w) = &r.what_if {
        out.push_str(&w.render_markdown());
    }
    out
}
