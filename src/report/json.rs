//! The JSON reporter. The schema is documented in the README ("JSON
//! output") and versioned by `schema_version`; fields are only ever added.

use super::CheckReport;
use super::streamed::{Part, Streamed};
use crate::diag::Diag;
use serde_json::{Value as J, json};

pub const SCHEMA_VERSION: u32 = 1;

pub fn render_check(r: &CheckReport) -> String {
    // Findings and waived findings are built one at a time while written
    // (`streamed`): a report of thousands of findings never holds them all
    // as JSON values.
    let waived = r.waived.iter().map(|w| {
        let mut f = finding_json(&w.finding);
        if let Some(m) = f.as_object_mut() {
            m.insert("waiver".into(), waiver_json(&w.waiver));
        }
        f
    });
    let by_clause: serde_json::Map<String, J> = r
        .by_clause()
        .into_iter()
        .map(|(k, c)| {
            (
                k,
                json!({ "terms": c.terms, "violations": c.violations, "unresolved": c.unresolved }),
            )
        })
        .collect();
    let summary = json!({
        "as_of": r.as_of,
        "files": r.files,
        "modules": r.modules,
        "records": r.records,
        "resources": r.resources,
        "judged": r.judged,
        "not_applicable": r.not_applicable,
        "malformed": r.malformed.len(),
        "modules_not_scanned": r.unscanned_modules.len(),
        "violations": r.violations(),
        "unresolved": r.unresolved(),
        "waived": r.waived.len(),
        "waiver_findings": r.waiver_findings.len(),
        "baselined": r.baseline.as_ref().map(|b| b.1),
        "not_changed": r.changed_since.as_ref().map(|c| c.1),
        "clauses_in_force": r.clauses_in_force.iter().map(|(t, c)| json!({"terms": t, "clause": c})).collect::<Vec<_>>(),
        "by_clause": by_clause,
        "clauses_not_applicable": r.not_applicable_clauses.iter().map(|(t, c)| json!({
            "terms": t,
            "clause": c,
            "reason": "an aggregate clause judges groups of log records over time: `proviso audit` checks it, no Terraform record can",
        })).collect::<Vec<_>>(),
    });
    let mut doc = Streamed::new()
        .with("schema_version", json!(SCHEMA_VERSION))
        .with(
            "tool",
            json!({ "name": "proviso", "version": env!("CARGO_PKG_VERSION") }),
        )
        .with("findings", Part::lazy(r.findings.iter().map(finding_json)))
        .with(
            "malformed",
            J::Array(r.malformed.iter().map(diag_json).collect()),
        )
        .with("waived", Part::lazy(waived))
        .with(
            "waivers",
            J::Array(r.waivers.iter().map(|w| waiver_json(w)).collect()),
        )
        .with(
            "waiver_findings",
            J::Array(r.waiver_findings.iter().map(diag_json).collect()),
        )
        .with(
            "modules_not_scanned",
            J::Array(
                r.unscanned_modules
                    .iter()
                    .map(|u| {
                        let (line, column) = u.origin.line_col();
                        json!({
                            "address": u.address, "source": u.source, "instances": u.instances,
                            "file": u.origin.file.name, "line": line, "column": column,
                        })
                    })
                    .collect(),
            ),
        )
        .with(
            "notes",
            J::Array(super::listed_notes(r).map(diag_json).collect()),
        )
        .with("summary", summary);
    if let Some(w) = &r.what_if {
        doc = doc.with("what_if", w.to_json());
    }
    doc.to_pretty()
}

fn waiver_json(w: &crate::scan::terraform::waivers::Waiver) -> J {
    let (line, column) = w.origin.line_col();
    json!({
        "clauses": w.clauses,
        "reason": w.reason,
        "until": w.until,
        "owner": w.owner,
        "file": w.origin.file.name,
        "line": line,
        "column": column,
        "on": w.target_name,
    })
}

fn finding_json(f: &crate::findings::Finding) -> J {
    let (line, column) = f.primary.line_col();
    let (end_line, end_column) = f.primary.end_line_col();
    let (record_line, _) = f.record_origin.line_col();
    json!({
        "clause": f.clause,
        "clause_title": f.clause_title,
        "terms": f.terms,
        "in_force": { "from": f.terms_interval.from, "until": f.terms_interval.until },
        "outcome": f.outcome,
        "severity": f.severity,
        "message": f.message,
        "file": f.primary.file.name,
        "line": line,
        "column": column,
        "end_line": end_line,
        "end_column": end_column,
        "span": { "start": f.primary.span.start, "end": f.primary.span.end },
        "label": f.primary_label,
        "address": f.address,
        "kind": f.kind,
        "record": { "file": f.record_origin.file.name, "line": record_line },
        "citation": f.help,
        "fingerprint": crate::findings::baseline::fingerprint(f),
        "instances": f.instances,
        "group": crate::findings::group_id(f),
    })
}

/// A diagnostic as JSON (`file`, `line`, `column`, `code`, `message`, `help`).
pub fn diag_json(d: &Diag) -> J {
    let loc = d.location();
    json!({
        "code": d.code,
        "message": d.message,
        "file": loc.as_ref().map(|l| l.0.clone()),
        "line": loc.as_ref().map(|l| l.1),
        "column": loc.as_ref().map(|l| l.2),
        "help": d.help,
    })
}
