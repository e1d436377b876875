//! The SARIF 2.1.0 reporter, for GitHub code scanning and other viewers.
//!
//! One `rule` per clause (title, citation as help, severity as
//! `defaultConfiguration.level`), one `result` per finding; a waiver that
//! is itself a finding is a result of its code's rule, whose text is the
//! code's doc comment (`diag::code`). The choice a
//! reader must know is how outcomes map to levels, since SARIF has no
//! "unresolved": a violation takes its clause's severity (`error`,
//! `warning`, `info` → `note`); an unresolved finding is one step milder
//! (`error` → `warning`, `warning`/`info` → `note`), because it needs a
//! person to look, not a fix, and `--fail-on` ranks it as a warning too.
//! Waived findings are kept, with an accepted in-source `suppression`, so
//! that code scanning closes them with the waiver's reason; baselined
//! findings are left out and new ones marked `baselineState: new`.

use super::CheckReport;
use super::streamed::{Part, Streamed};
use crate::diag::{Code, Diag, Level};
use crate::findings::baseline::fingerprint;
use crate::findings::{Finding, FindingOutcome};
use crate::rules::ast::Severity;
use crate::scan::terraform::waivers::Waiver;
use crate::source::Origin;
use serde_json::{Value as J, json};
use std::collections::BTreeMap;

pub const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

fn level_of(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// The SARIF level of a finding (see the module docs).
pub fn result_level(f: &Finding) -> &'static str {
    match (f.outcome, f.severity) {
        (FindingOutcome::Violation, s) => level_of(s),
        (FindingOutcome::Unresolved, Severity::Error) => "warning",
        (FindingOutcome::Unresolved, _) => "note",
    }
}

fn diag_level(level: Level) -> &'static str {
    match level {
        Level::Error => "error",
        Level::Warning => "warning",
        Level::Advice => "note",
    }
}

fn physical(o: &Origin) -> J {
    let (line, column) = o.line_col();
    let (end_line, end_column) = o.end_line_col();
    json!({
        "artifactLocation": { "uri": uri(&o.file.name), "uriBaseId": "%SRCROOT%" },
        "region": {
            "startLine": line,
            "startColumn": column,
            "endLine": end_line,
            "endColumn": end_column.max(if end_line == line { column + 1 } else { 1 }),
        }
    })
}

/// A relative URI reference: `/` separators, spaces and other reserved
/// characters percent-encoded.
fn uri(path: &str) -> String {
    let mut out = String::new();
    for b in path.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(char::from(b))
            }
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

fn suppression(w: &Waiver) -> J {
    let mut props = serde_json::Map::new();
    if let Some(o) = &w.owner {
        props.insert("owner".into(), json!(o));
    }
    if let Some(u) = w.until {
        props.insert("until".into(), json!(u.to_string()));
    }
    json!({
        "kind": "inSource",
        "status": "accepted",
        "justification": w.reason,
        "location": { "physicalLocation": physical(&w.origin) },
        "properties": props,
    })
}

pub fn render_check(r: &CheckReport) -> String {
    // Rules: clauses in force first (their version wins a shared id), then
    // every other clause, then the waiver codes that occur.
    let mut rules: Vec<J> = Vec::new();
    let mut index: BTreeMap<String, usize> = BTreeMap::new();
    let in_force: Vec<&str> = r.clauses_in_force.iter().map(|(_, c)| c.as_str()).collect();
    let mut ordered: Vec<&super::ClauseInfo> = r
        .clauses
        .iter()
        .filter(|c| in_force.contains(&c.id.as_str()))
        .collect();
    ordered.extend(
        r.clauses
            .iter()
            .filter(|c| !in_force.contains(&c.id.as_str())),
    );
    for c in ordered {
        if c.manual || index.contains_key(&c.id) {
            continue;
        }
        index.insert(c.id.clone(), rules.len());
        let title = c.title.clone().unwrap_or_else(|| c.id.clone());
        rules.push(json!({
            "id": c.id,
            "name": c.id,
            "shortDescription": { "text": title },
            "fullDescription": { "text": format!("{title} (terms `{}`)", c.terms) },
            "help": { "text": c.help, "markdown": c.help },
            "defaultConfiguration": { "level": level_of(c.severity) },
            "properties": { "tags": ["compliance", "proviso"], "terms": c.terms },
        }));
    }
    // A code's rule text is its doc comment (`diag::code`): the title, and
    // its group's rule as help.
    for d in &r.waiver_findings {
        if !index.contains_key(d.code.as_str()) {
            index.insert(d.code.as_str().to_string(), rules.len());
            rules.push(json!({
                "id": d.code,
                "shortDescription": { "text": d.code.summary() },
                "help": { "text": d.code.group().summary() },
                "defaultConfiguration": { "level": diag_level(d.level) },
            }));
        }
    }

    // Results are built one at a time while written (`streamed`).
    let index = &index;
    let results = r
        .findings
        .iter()
        .map(move |f| {
            let mut res = result(f, index);
            if r.baseline.is_some()
                && let Some(m) = res.as_object_mut()
            {
                m.insert("baselineState".into(), json!("new"));
            }
            res
        })
        .chain(r.waived.iter().map(move |w| {
            let mut res = result(&w.finding, index);
            if let Some(m) = res.as_object_mut() {
                m.insert("suppressions".into(), json!([suppression(&w.waiver)]));
            }
            res
        }))
        .chain(r.waiver_findings.iter().map(move |d| diag_result(d, index)));

    let mut notifications: Vec<J> = r
        .malformed
        .iter()
        .chain(super::listed_notes(r))
        .map(notification)
        .collect();
    for u in &r.unscanned_modules {
        let (line, column) = u.origin.line_col();
        notifications.push(json!({
            "level": "note",
            "descriptor": { "id": Code::InputRemoteModule },
            "message": { "text": super::unscanned_text(u) },
            "locations": [{ "physicalLocation": {
                "artifactLocation": { "uri": u.origin.file.name },
                "region": { "startLine": line, "startColumn": column },
            }}],
        }));
    }
    let run = Streamed::new()
        .with(
            "tool",
            json!({ "driver": {
                "name": "proviso",
                "version": env!("CARGO_PKG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }}),
        )
        .with(
            "invocations",
            json!([{
                "executionSuccessful": r.malformed.is_empty(),
                "toolExecutionNotifications": notifications,
            }]),
        )
        .with("columnKind", json!("unicodeCodePoints"))
        .with("results", Part::lazy(results))
        .with(
            "properties",
            json!({
                "asOf": r.as_of.to_string(),
                "records": r.records,
                "files": r.files,
                // Every waiver in force, also those that excuse nothing today.
                "waivers": r.waivers.iter().map(|w| {
                    let (line, column) = w.origin.line_col();
                    json!({
                        "clauses": w.clauses, "reason": w.reason, "owner": w.owner,
                        "until": w.until.map(|d| d.to_string()),
                        "file": w.origin.file.name, "line": line, "column": column,
                    })
                }).collect::<Vec<_>>(),
            }),
        );
    Streamed::new()
        .with("$schema", json!(SCHEMA))
        .with("version", json!("2.1.0"))
        .with("runs", Part::Array(vec![Part::Object(run)]))
        .to_pretty()
}

/// The finding's message and what its label says; an unresolved finding's
/// message already gives the reason its label repeats.
pub fn with_label(f: &Finding) -> String {
    match f.outcome {
        FindingOutcome::Violation => format!("{} ({})", f.message, f.primary_label),
        FindingOutcome::Unresolved => f.message.clone(),
    }
}

fn result(f: &Finding, index: &BTreeMap<String, usize>) -> J {
    let related: Vec<J> = f
        .secondary
        .iter()
        .enumerate()
        .map(|(i, (o, text))| {
            json!({ "id": i + 1, "physicalLocation": physical(o), "message": { "text": text } })
        })
        .collect();
    let mut res = json!({
        "ruleId": f.clause,
        "level": result_level(f),
        "message": { "text": with_label(f) },
        "locations": [{
            "physicalLocation": physical(&f.primary),
            "logicalLocations": [{ "fullyQualifiedName": f.address, "kind": f.kind }],
        }],
        "relatedLocations": related,
        "partialFingerprints": { "provisoFingerprint/v1": fingerprint(f) },
        "properties": { "outcome": f.outcome, "terms": f.terms, "severity": f.severity, "instances": f.instances, "group": crate::findings::group_id(f) },
    });
    if let (Some(i), Some(m)) = (index.get(&f.clause), res.as_object_mut()) {
        m.insert("ruleIndex".into(), json!(i));
    }
    res
}

fn diag_result(d: &Diag, index: &BTreeMap<String, usize>) -> J {
    let mut res = json!({
        "ruleId": d.code,
        "level": diag_level(d.level),
        "message": { "text": d.message },
    });
    if let Some(m) = res.as_object_mut() {
        if let Some(i) = index.get(d.code.as_str()) {
            m.insert("ruleIndex".into(), json!(i));
        }
        if let (Some(file), Some((span, _))) = (&d.file, d.labels.first()) {
            let o = Origin::new(file, span.clone());
            m.insert(
                "locations".into(),
                json!([{ "physicalLocation": physical(&o) }]),
            );
        }
    }
    res
}

fn notification(d: &Diag) -> J {
    let mut n = json!({
        "level": diag_level(d.level),
        "message": { "text": d.message },
        "descriptor": { "id": d.code },
    });
    if let (Some(m), Some(file), Some((span, _))) = (n.as_object_mut(), &d.file, d.labels.first()) {
        let o = Origin::new(file, span.clone());
        m.insert(
            "locations".into(),
            json!([{ "physicalLocation": physical(&o) }]),
        );
    }
    n
}

#[cfg(test)]
mod tests {
    use crate::diag::Code;

    /// The waiver rules' text comes from the codes' doc comments; no
    /// snapshot holds it, so this pins what SARIF viewers show today.
    #[test]
    fn waiver_rules_keep_their_sarif_text() {
        for (code, title) in [
            (Code::WaiverExpired, "A waiver has expired"),
            (Code::WaiverNotAllowed, "Waivers are not allowed"),
            (Code::WaiverNoExpiry, "A waiver has no expiry date"),
            (Code::WaiverTooLong, "A waiver runs longer than allowed"),
            (Code::WaiverNoOwner, "A waiver names no owner"),
        ] {
            assert_eq!(code.summary(), title);
            assert_eq!(
                code.group().summary(),
                "waivers must be in force, and allowed by proviso.yaml, to excuse a finding"
            );
        }
    }
}
