//! The JSON report of `proviso audit`. Documented in the README ("`proviso
//! audit --format json`"); versioned by `schema_version`, fields only added.

use crate::audit::AuditReport;
use crate::scan::logs::format_timestamp;
use serde_json::{Value as J, json};

pub fn render(r: &AuditReport) -> String {
    let clauses: Vec<J> = r
        .clauses
        .iter()
        .map(|c| {
            let mut entry = json!({
                "clause": c.clause,
                "clause_title": c.title,
                "terms": c.terms,
                "severity": c.severity,
                "in_force": { "from": c.in_force_from, "until": c.in_force_until },
                // What the clause cites (with its section) and when its
                // terms are in force, as the human report's help says.
                "citation": c.help,
                "violations": c.violations,
                "unresolved": c.unresolved,
                "excepted": c.excepted,
                "subjects": c.subjects(),
                "subjects_capped": c.subjects_capped,
                "first_seen": c.first_seen.map(format_timestamp),
                "last_seen": c.last_seen.map(format_timestamp),
                "samples": c.samples.iter().map(|s| {
                    let mut sample = json!({
                        "file": s.file,
                        "line": s.line,
                        "timestamp": format_timestamp(s.timestamp),
                        "message": s.message,
                        "label": s.primary.1,
                    });
                    // A Parquet record's line is its row: said so.
                    if let (Some(o), "row") = (sample.as_object_mut(), s.unit) {
                        o.insert("row".into(), s.line.into());
                    }
                    sample
                }).collect::<Vec<_>>(),
            });
            if let (Some(agg), Some(obj)) = (&c.aggregate, entry.as_object_mut()) {
                obj.insert(
                    "aggregate".into(),
                    json!({
                        "groups": agg.groups,
                        "passed": agg.passed,
                        "excepted": agg.excepted,
                        "not_applicable": agg.not_applicable,
                    }),
                );
                obj.insert(
                    "groups".into(),
                    agg.findings
                        .iter()
                        .map(crate::audit::group_json)
                        .collect::<Vec<_>>()
                        .into(),
                );
            }
            entry
        })
        .collect();
    let s = &r.summary;
    let doc = json!({
        "schema_version": super::json::SCHEMA_VERSION,
        "tool": { "name": "proviso", "version": env!("CARGO_PKG_VERSION") },
        "command": "audit",
        "inputs": r.inputs.iter().map(|i| json!({
            "file": i.file,
            "format": i.format.map(|f| f.name()),
            "compression": i.compression.name(),
            "records": i.records,
            "malformed": i.malformed,
            "bytes": i.bytes,
            "fields": i.fields.iter().map(|f| json!({
                "field": f.field,
                "from": f.from,
                "records": f.records,
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "clauses": clauses,
        "malformed": r.malformed.iter().map(super::json::diag_json).collect::<Vec<_>>(),
        "unreadable": r.unreadable.iter().map(super::json::diag_json).collect::<Vec<_>>(),
        "warnings": r.warnings.iter().map(super::json::diag_json).collect::<Vec<_>>(),
        "summary": {
            "records": s.records,
            "judged": s.judged,
            "not_applicable": s.not_applicable,
            "outside_terms": s.outside_terms,
            "no_timestamp": s.no_timestamp,
            "requests": s.requests(),
            "not_requests": s.not_requests,
            "kinds": crate::scan::logs::Kind::NOT_REQUESTS
                .iter()
                .zip(s.kinds)
                .map(|(k, n)| (k.name().to_string(), J::from(n)))
                .collect::<serde_json::Map<_, _>>(),
            "malformed": s.malformed,
            "warnings": s.warnings,
            "bytes": s.bytes,
            "violations": r.violations(),
            "unresolved": r.clauses.iter().map(|c| c.unresolved).sum::<u64>(),
        }
    });
    let mut doc = doc;
    if let (Some(w), Some(m)) = (&r.what_if, doc.as_object_mut()) {
        m.insert("what_if".into(), w.to_json());
    }
    let mut text = serde_json::to_string_pretty(&doc).unwrap_or_else(|_| "{}".into());
    text.push('\n');
    text
}
