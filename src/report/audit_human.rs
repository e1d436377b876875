//! The human report of `proviso audit`: a table per clause and terms
//! version, a few sample violations rendered on their log lines, the first
//! malformed lines, and the accounting line.

use crate::audit::AuditReport;
use crate::diag::render as render_diag;
use crate::scan::logs::format_timestamp;

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Renders the report for a person. `plain` drops colour.
pub fn render(report: &AuditReport, plain: bool, width: usize) -> String {
    let mut out = String::new();
    for d in &report.unreadable {
        out.push_str(&crate::diag::render(d, plain, width));
        out.push('\n');
    }
    let inputs: Vec<String> = report
        .inputs
        .iter()
        .map(|i| {
            let fmt = i.format.map(|f| f.name()).unwrap_or("unknown");
            let comp = match i.compression {
                crate::scan::logs::decompress::Compression::None => String::new(),
                c => format!(", {}", c.name()),
            };
            format!(
                "{} ({fmt}{comp}, {})",
                i.file,
                plural(i.records, "record", "records")
            )
        })
        .collect();
    out.push_str(&format!("proviso audit: {}\n", inputs.join("; ")));
    // Which field of each input filled each vocabulary field.
    for i in &report.inputs {
        if i.fields.is_empty() {
            continue;
        }
        let mut parts: Vec<String> = Vec::new();
        let mut k = 0;
        while let Some(first) = i.fields.get(k) {
            // INVARIANT: `k < i.fields.len()`: `get(k)` just gave `first`.
            #[expect(clippy::indexing_slicing, reason = "k < len, as get(k) is Some")]
            let same: Vec<&crate::audit::FieldSource> = i.fields[k..]
                .iter()
                .take_while(|f| f.field == first.field)
                .collect();
            k += same.len();
            let from: Vec<String> = if same.len() == 1 {
                vec![format!("`{}`", first.from)]
            } else {
                same.iter()
                    .map(|f| format!("`{}` ({})", f.from, f.records))
                    .collect()
            };
            parts.push(format!("{} from {}", first.field, from.join(" or ")));
        }
        out.push_str(&format!("  {}: {}\n", i.file, parts.join(", ")));
    }
    let rows: Vec<[String; 7]> = report
        .clauses
        .iter()
        .map(|c| {
            let subjects = if let Some(a) = &c.aggregate {
                plural(a.groups, "group", "groups")
            } else if c.subjects_capped {
                format!("≥{}", c.subjects())
            } else {
                c.subjects().to_string()
            };
            let violations = if c.unresolved > 0 {
                format!("{} (+{} unresolved)", c.violations, c.unresolved)
            } else {
                c.violations.to_string()
            };
            [
                c.clause.clone(),
                c.terms.clone(),
                c.severity.map(|s| s.as_str()).unwrap_or("").to_string(),
                violations,
                subjects,
                c.first_seen
                    .map(format_timestamp)
                    .unwrap_or_else(|| "-".into()),
                c.last_seen
                    .map(format_timestamp)
                    .unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    let header = [
        "clause",
        "terms",
        "severity",
        "violations",
        "subjects",
        "first seen",
        "last seen",
    ];
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &[&str]| {
        let mut s = String::from(" ");
        for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            let pad = w.saturating_sub(cell.chars().count());
            if i == 3 || i == 4 {
                s.push_str(&" ".repeat(pad));
                s.push_str(cell);
            } else {
                s.push_str(cell);
                s.push_str(&" ".repeat(pad));
            }
            s.push_str("  ");
        }
        s.trim_end().to_string() + "\n"
    };
    out.push('\n');
    out.push_str(&line(&header));
    for row in &rows {
        let cells: Vec<&str> = row.iter().map(String::as_str).collect();
        out.push_str(&line(&cells));
    }
    out.push('\n');
    for c in &report.clauses {
        for s in &c.samples {
            out.push_str(&render_diag(&s.to_diag(c), plain, width));
            out.push('\n');
        }
        // An aggregate clause's breaching and unresolved groups: the first
        // few on the line that decided each, the others by their keys.
        let Some(agg) = &c.aggregate else { continue };
        for g in agg.findings.iter().take(report.shown) {
            out.push_str(&render_diag(&g.to_diag(c), plain, width));
            out.push('\n');
        }
        let rest: Vec<String> = agg
            .findings
            .iter()
            .skip(report.shown)
            .map(|g| format!("{} ({})", g.label(), g.outcome))
            .collect();
        if !rest.is_empty() {
            out.push_str(&format!(
                "  {} also: {} (`--findings FILE` writes every group with its figures)\n\n",
                c.clause,
                rest.join(", ")
            ));
        }
    }
    for d in report.malformed.iter().chain(&report.warnings) {
        out.push_str(&render_diag(d, plain, width));
        out.push('\n');
    }
    out.push_str(&summary_line(report));
    out.push('\n');
    if let Some(w) = &report.what_if {
        out.push('\n');
        out.push_str(&w.render_text());
    }
    out
}

/// The accounting line: `records = judged + not applicable + outside the
/// terms (+ not requests, when some records are not) + malformed`.
pub fn summary_line(r: &AuditReport) -> String {
    let s = &r.summary;
    let mut by_sev = Vec::new();
    for sev in ["error", "warning", "info"] {
        let n: u64 = r
            .clauses
            .iter()
            .filter(|c| c.severity.map(|x| x.as_str()) == Some(sev))
            .map(|c| c.violations)
            .sum();
        if n > 0 {
            by_sev.push(plural(n, sev, &format!("{sev}s")));
        }
    }
    let violations = plural(r.violations(), "violation", "violations");
    let violations = if by_sev.is_empty() {
        violations
    } else {
        format!("{violations} ({})", by_sev.join(", "))
    };
    let no_ts = if s.no_timestamp > 0 {
        format!(" ({} without a timestamp)", s.no_timestamp)
    } else {
        String::new()
    };
    // Records that are not requests, when there are any.
    let others = if s.not_requests > 0 {
        let names = [
            ("health probe", "health probes"),
            ("WAF record", "WAF records"),
            ("other record", "other records"),
        ];
        let parts: Vec<String> = s
            .kinds
            .iter()
            .zip(names)
            .filter(|(n, _)| **n > 0)
            .map(|(n, (one, many))| plural(*n, one, many))
            .collect();
        format!(" + {} not requests ({})", s.not_requests, parts.join(", "))
    } else {
        String::new()
    };
    let warnings = if s.warnings > 0 {
        format!("; {}", plural(s.warnings, "warning", "warnings"))
    } else {
        String::new()
    };
    format!(
        "proviso audit: {} = {} judged + {} not applicable + {} outside the terms{no_ts}{others} + {} malformed; {violations}; {} read{warnings}",
        plural(s.records, "record", "records"),
        s.judged,
        s.not_applicable,
        s.outside_terms,
        s.malformed,
        plural(s.bytes, "byte", "bytes"),
    )
}
