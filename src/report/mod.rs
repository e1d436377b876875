//! Reporters: findings to text. Reporters never evaluate; they render a
//! [`CheckReport`] built once by the command.

pub mod audit_human;
pub mod audit_json;
pub mod human;
pub mod json;

use crate::date::Date;
use crate::diag::Diag;
use crate::findings::{Finding, FindingOutcome};
use crate::rules::ast::Severity;
use std::collections::BTreeMap;

/// Everything `proviso check` has to say.
pub struct CheckReport {
    pub as_of: Date,
    pub findings: Vec<Finding>,
    pub malformed: Vec<Diag>,
    pub notes: Vec<Diag>,
    pub files: usize,
    pub modules: usize,
    pub records: usize,
    pub resources: usize,
    pub judged: usize,
    pub not_applicable: usize,
    /// `(terms, clause)` of every enforced clause in force on `as_of`.
    pub clauses_in_force: Vec<(String, String)>,
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
    pub fn violations(&self) -> usize {
        self.findings
            .iter()
            .filter(|f| f.outcome == FindingOutcome::Violation)
            .count()
    }

    pub fn unresolved(&self) -> usize {
        self.findings
            .iter()
            .filter(|f| f.outcome == FindingOutcome::Unresolved)
            .count()
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
                FindingOutcome::Violation => c.violations += 1,
                FindingOutcome::Unresolved => c.unresolved += 1,
            }
        }
        out
    }
}

/// Which findings make the exit code 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    Error,
    Warning,
    Info,
    Never,
}

impl FailOn {
    /// Whether a finding counts as a failure. Unresolved findings rank as
    /// warnings: they fail the run with `--fail-on warning` or `info`.
    pub fn fails(self, f: &Finding) -> bool {
        let rank = match f.outcome {
            FindingOutcome::Unresolved => Severity::Warning,
            FindingOutcome::Violation => f.severity,
        };
        self.fails_severity(rank)
    }

    /// Whether a violation of this severity counts as a failure.
    pub fn fails_severity(self, rank: Severity) -> bool {
        match self {
            FailOn::Never => false,
            FailOn::Error => rank >= Severity::Error,
            FailOn::Warning => rank >= Severity::Warning,
            FailOn::Info => true,
        }
    }
}
