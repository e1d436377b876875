//! The aggregate clauses' place in the audit report: each judged clause
//! becomes a `clauses[]` entry whose counts are counts of groups, with
//! its breaching and unresolved groups as findings; `--findings` gets one
//! line per such group.

use super::tally::{self, FindingsOut};
use super::{AggregateStats, AuditReport, ClauseStats, EvidenceLine, GroupFinding};
use crate::aggregate::{ClauseResult, Evidence, GroupOutcome, Plan};
use std::io::Write;

/// Adds the judged aggregate clauses to `report` (after the per-record
/// ones, in rule-file order) and writes their findings out.
pub(super) fn add(
    report: &mut AuditReport,
    plan: &Plan<'_>,
    judged: Vec<ClauseResult>,
    findings: &mut FindingsOut,
) {
    let files: Vec<(String, &'static str)> = report
        .inputs
        .iter()
        .map(|i| (i.file.clone(), i.format.map_or("line", |f| f.record_unit())))
        .collect();
    let at = |e: &Evidence| EvidenceLine {
        file: files
            .get(e.file as usize)
            .map(|f| f.0.clone())
            .unwrap_or_default(),
        unit: files.get(e.file as usize).map_or("line", |f| f.1),
        line: e.line,
        text: e.text.clone(),
    };
    let mut lines = String::new();
    for (result, spec) in judged.into_iter().zip(&plan.clauses) {
        let mut stats = AggregateStats {
            groups: result.groups.len() as u64,
            ..Default::default()
        };
        let mut entry = ClauseStats {
            clause: result.id.clone(),
            title: result.title.clone(),
            terms: result.terms.clone(),
            severity: Some(result.severity),
            in_force_from: Some(result.interval.from),
            in_force_until: result.interval.until,
            help: plan
                .rules
                .citation_help(spec.terms, spec.clause, result.interval),
            ..Default::default()
        };
        // Groups computed without malformed records, passing ones too:
        // a revenue booking left out can turn a breach into a pass.
        let incomplete: Vec<String> = result
            .groups
            .iter()
            .filter(|g| g.left_out > 0)
            .map(|g| format!("{} ({} left out)", g.label(), g.left_out))
            .chain(
                result
                    .left_out_only
                    .iter()
                    .map(|(k, n)| format!("{k} ({n} left out, nothing else to judge)")),
            )
            .collect();
        if !incomplete.is_empty() {
            report.warnings.push(
                crate::diag::Diag::warning(
                    crate::diag::Code::AuditGroupIncomplete,
                    format!(
                        "clause `{}`: malformed records were left out of {}: {}",
                        result.id,
                        if incomplete.len() == 1 { "1 group".to_string() } else { format!("{} groups", incomplete.len()) },
                        incomplete.join(", ")
                    ),
                )
                .with_help("the malformed lines are listed above; fix them and audit again, or the figures of these groups stand without them"),
            );
        }
        for g in result.groups {
            let (outcome, because) = match &g.outcome {
                GroupOutcome::Violation => ("violation", None),
                GroupOutcome::Unresolved(u) => ("unresolved", Some(u.to_string())),
                GroupOutcome::Pass => {
                    stats.passed += 1;
                    continue;
                }
                GroupOutcome::Excepted => {
                    stats.excepted += 1;
                    continue;
                }
                GroupOutcome::NotApplicable => {
                    stats.not_applicable += 1;
                    continue;
                }
            };
            if outcome == "violation" {
                entry.violations += 1;
            } else {
                entry.unresolved += 1;
            }
            entry.first_seen = tally::min_opt(entry.first_seen, g.first_seen);
            entry.last_seen = tally::max_opt(entry.last_seen, g.last_seen);
            let finding = GroupFinding {
                key: g.key,
                outcome,
                unresolved_because: because,
                figures: g.figures,
                evidence: g.evidence.iter().map(at).collect(),
                left_out: g.left_out,
                left_out_lines: g.left_out_lines.iter().map(at).collect(),
                first_seen: g.first_seen,
                last_seen: g.last_seen,
                message: g.message,
            };
            if findings.is_some() {
                lines.push_str(&finding_line(&entry, &finding).to_string());
                lines.push('\n');
            }
            stats.findings.push(finding);
        }
        entry.aggregate = Some(stats);
        report.clauses.push(entry);
    }
    if let Some(out) = findings.as_mut() {
        let _ = out.write_all(lines.as_bytes());
    }
}

impl GroupFinding {
    /// The finding as a diagnostic on the line of the record that decided
    /// it (the first evidence with its text), its figures in the help.
    pub fn to_diag(&self, stats: &ClauseStats) -> crate::diag::Diag {
        use crate::diag::{Code, Diag, Level};
        use crate::rules::ast::Severity;
        use crate::source::SourceFile;
        let sev = stats.severity.unwrap_or(Severity::Error);
        let level = if self.outcome == "unresolved" {
            Level::Warning
        } else {
            sev.level()
        };
        let headline = match self.outcome {
            "unresolved" => format!("unresolved: {} ({})", self.message, self.label()),
            _ => format!("{}: {} ({})", sev.as_str(), self.message, self.label()),
        };
        let mut d = Diag {
            level,
            ..Diag::error(Code::clause(&stats.clause), headline)
        };
        if let Some(e) = self.evidence.iter().find(|e| e.text.is_some()) {
            let text = e.text.as_deref().unwrap_or_default().to_string();
            let len = text.len();
            let src =
                SourceFile::excerpt(&e.file, text, usize::try_from(e.line).unwrap_or(usize::MAX));
            d = d.in_file(&src).label(
                0..len,
                format!(
                    "decided by this record ({} {})",
                    self.key_phrase(),
                    self.outcome
                ),
            );
        }
        let figures: Vec<String> = self
            .figures
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        let mut help = format!("figures: {}", figures.join(", "));
        if let Some(u) = &self.unresolved_because {
            help.push_str(&format!("; unresolved because {u}"));
        }
        if !self.evidence.is_empty() {
            let lines: Vec<String> = self.evidence.iter().map(EvidenceLine::locus).collect();
            help.push_str(&format!("; records: {}", lines.join(", ")));
        }
        if self.left_out > 0 {
            let lines: Vec<String> = self
                .left_out_lines
                .iter()
                .map(EvidenceLine::locus)
                .collect();
            help.push_str(&format!(
                "; computed without {} malformed record(s) ({})",
                self.left_out,
                lines.join(", ")
            ));
        }
        help.push_str(&format!("; {}", stats.help));
        d.with_help(help)
    }

    /// `period 2026-05`, `model o5-mini`.
    fn key_phrase(&self) -> String {
        let parts: Vec<String> = self.key.iter().map(|(k, v)| format!("{k} {v}")).collect();
        parts.join(", ")
    }
}

/// A group's `--findings` line.
fn finding_line(clause: &ClauseStats, g: &GroupFinding) -> serde_json::Value {
    serde_json::json!({
        "clause": clause.clause,
        "terms": clause.terms,
        "severity": clause.severity,
        "outcome": g.outcome,
        "group": group_json(g),
        "message": g.message,
    })
}

/// A group as JSON: its key, outcome, figures and evidence.
pub fn group_json(g: &GroupFinding) -> serde_json::Value {
    let key: serde_json::Map<String, serde_json::Value> = g
        .key
        .iter()
        .map(|(k, v)| (k.clone(), v.clone().into()))
        .collect();
    let figures: serde_json::Map<String, serde_json::Value> = g
        .figures
        .iter()
        .map(|(k, v)| (k.clone(), v.to_json()))
        .collect();
    let lines = |ls: &[EvidenceLine]| -> Vec<serde_json::Value> {
        ls.iter()
            .map(|e| serde_json::json!({ "file": e.file, "line": e.line }))
            .collect()
    };
    let mut doc = serde_json::json!({
        "key": key,
        "outcome": g.outcome,
        "figures": figures,
        "evidence": lines(&g.evidence),
        "message": g.message,
    });
    if let Some(obj) = doc.as_object_mut() {
        if let Some(u) = &g.unresolved_because {
            obj.insert("unresolved_because".into(), u.clone().into());
        }
        if g.left_out > 0 {
            obj.insert(
                "computed_without".into(),
                serde_json::json!({
                    "records": g.left_out,
                    "lines": lines(&g.left_out_lines),
                }),
            );
        }
        let ts = |t: Option<crate::scan::logs::Millis>| {
            t.map(|t| serde_json::Value::from(crate::scan::logs::day_of(t).to_string()))
                .unwrap_or(serde_json::Value::Null)
        };
        obj.insert("first_seen".into(), ts(g.first_seen));
        obj.insert("last_seen".into(), ts(g.last_seen));
    }
    doc
}
