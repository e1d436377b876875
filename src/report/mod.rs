//! Reporters: findings to text. Reporters never evaluate; they render a
//! [`CheckReport`] built once by the command.

pub mod audit_html;
pub mod audit_human;
pub mod audit_json;
pub mod audit_markdown;
pub mod csv;
pub mod github;
pub mod human;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod sarif;
pub mod streamed;
pub mod timeline;

use crate::date::Date;
use crate::diag::Diag;
use crate::findings::FailOn;
use crate::findings::{Finding, FindingOutcome};
use crate::rules::ast::Severity;
use std::collections::BTreeMap;

/// Everything `proviso check` has to say.
pub struct CheckReport {
    pub as_of: Date,
    pub findings: Vec<Finding>,
    pub malformed: Vec<Diag>,
    pub notes: Vec<Diag>,
    /// Module calls whose insides were not scanned (remote, not downloaded).
    pub unscanned_modules: Vec<crate::scan::UnscannedModule>,
    pub files: usize,
    pub modules: usize,
    pub records: usize,
    pub resources: usize,
    pub judged: usize,
    pub not_applicable: usize,
    /// `(terms, clause)` of every enforced clause in force on `as_of`
    /// that a Terraform record can be judged by.
    pub clauses_in_force: Vec<(String, String)>,
    /// `(terms, clause)` of the aggregate clauses in force on `as_of`: they
    /// judge groups of dated log records, so no Terraform record can show
    /// them. Reported as not applicable, never counted as passed.
    pub not_applicable_clauses: Vec<(String, String)>,
    /// Findings excused by a waiver in force (not counted, always listed).
    pub waived: Vec<crate::findings::waivers::Waived>,
    /// Every waiver in force, used or not.
    pub waivers: Vec<std::sync::Arc<crate::scan::terraform::waivers::Waiver>>,
    /// Waivers that are findings themselves: expired, or against the policy.
    pub waiver_findings: Vec<Diag>,
    /// `--baseline`: the file, and how many findings it already knew.
    pub baseline: Option<(String, usize)>,
    /// `--changed-since`: the ref, and how many findings were left out
    /// because they are not on changed lines.
    pub changed_since: Option<(String, usize)>,
    /// The rule set's clauses (all terms), for reporters that describe them.
    pub clauses: Vec<ClauseInfo>,
    /// `--what-if`: what the draft would change.
    pub what_if: Option<crate::what_if::Comparison>,
}

/// A clause as reporters describe it (SARIF rules, Markdown citations).
#[derive(Debug, Clone)]
pub struct ClauseInfo {
    pub id: String,
    pub title: Option<String>,
    pub terms: String,
    pub severity: Severity,
    pub manual: bool,
    /// Citation and the interval the terms are in force.
    pub help: String,
}

impl ClauseInfo {
    /// Every clause of a rule set, in file order.
    pub fn of(rules: &crate::rules::RuleSet) -> Vec<ClauseInfo> {
        rules
            .clauses()
            .map(|(t, c)| {
                let interval = c.interval(t);
                let in_force = rules
                    .terms_in_force_interval(t)
                    .and_then(|iv| iv.intersect(&interval))
                    .unwrap_or(interval);
                ClauseInfo {
                    id: c.id.name.clone(),
                    title: c.title.clone(),
                    terms: t.id.name.clone(),
                    severity: c.severity,
                    manual: c.is_manual(),
                    help: rules.citation_help(t, c, in_force),
                }
            })
            .collect()
    }
}

/// The notes a machine-readable report lists on their own: all but those
/// about module calls not followed, which `modules_not_scanned` (JSON) and
/// their own notifications (SARIF) already list once per call.
pub fn listed_notes(r: &CheckReport) -> impl Iterator<Item = &Diag> {
    use crate::diag::Code;
    r.notes.iter().filter(|d| {
        !matches!(
            d.code,
            Code::InputRemoteModule | Code::InputBicepModuleNotScanned
        )
    })
}

/// One line on a module call that was not scanned, for every reporter.
pub fn unscanned_text(u: &crate::scan::UnscannedModule) -> String {
    let times = if u.instances > 1 {
        format!(" ({} instances)", u.instances)
    } else {
        String::new()
    };
    format!(
        "module `{}`{times} has the source `{}`, which is not local and not downloaded: its resources were not scanned (run `terraform init` so proviso can follow it)",
        u.address, u.source
    )
}

/// Counts per clause, for summaries.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct ClauseCount {
    pub terms: String,
    pub severity: Option<Severity>,
    pub violations: usize,
    pub unresolved: usize,
}

impl CheckReport {
    /// The findings a waiver in force excuses.
    pub fn excused_by<'a>(
        &'a self,
        waiver: &'a std::sync::Arc<crate::scan::terraform::waivers::Waiver>,
    ) -> impl Iterator<Item = &'a Finding> + 'a {
        self.waived
            .iter()
            .filter(move |x| std::sync::Arc::ptr_eq(&x.waiver, waiver))
            .map(|x| &x.finding)
    }

    /// Whether the run fails `fail_on`: a finding or a waiver finding at or above it.
    pub fn fails(&self, fail_on: FailOn) -> bool {
        self.findings.iter().any(|f| fail_on.fails(f))
            || self
                .waiver_findings
                .iter()
                .any(|d| fail_on.fails_level(d.level))
    }

    pub fn violations(&self) -> usize {
        self.findings
            .iter()
            .filter(|f| f.outcome == FindingOutcome::Violation)
            .map(|f| f.instances as usize)
            .sum()
    }

    pub fn unresolved(&self) -> usize {
        self.findings
            .iter()
            .filter(|f| f.outcome == FindingOutcome::Unresolved)
            .map(|f| f.instances as usize)
            .sum()
    }

    pub fn by_clause(&self) -> BTreeMap<String, ClauseCount> {
        let mut out: BTreeMap<String, ClauseCount> = BTreeMap::new();
        for (terms, clause) in &self.clauses_in_force {
            out.entry(clause.clone()).or_insert_with(|| ClauseCount {
                terms: terms.clone(),
                ..Default::default()
            });
        }
        for f in &self.findings {
            let c = out.entry(f.clause.clone()).or_insert_with(|| ClauseCount {
                terms: f.terms.clone(),
                ..Default::default()
            });
            c.severity = Some(f.severity);
            match f.outcome {
                FindingOutcome::Violation => c.violations += f.instances as usize,
                FindingOutcome::Unresolved => c.unresolved += f.instances as usize,
            }
        }
        out
    }
}
