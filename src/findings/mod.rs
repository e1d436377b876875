//! Findings: what evaluation reports, one per (record, clause).
//!
//! A finding is built once, with everything a reporter needs (location,
//! labels, citation, message); reporters only render. Findings are sorted by
//! file, line, column and clause so that output is deterministic.
//!
//! After judgement, `check` narrows what it reports, in this order:
//! [`waivers`] (comments that excuse a finding), [`baseline`] (findings
//! already known) and [`changed`] (only what a diff touched).

pub mod baseline;
pub mod changed;
pub mod waivers;

use crate::date::{Date, Interval};
use crate::diag::{Code, Diag, Level};
use crate::eval::{Evaluator, Outcome, render_message};
use crate::rules::RuleSet;
use crate::rules::ast::{Check, Clause, Severity, Terms};
use crate::scan::ScannedRecord;
use crate::source::Origin;
use crate::value::{Lookup, Record, Unknown};
use rayon::prelude::*;
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FindingOutcome {
    Violation,
    Unresolved,
}

/// One clause broken (or possibly broken) by one record.
#[derive(Debug, Clone)]
pub struct Finding {
    pub clause: String,
    pub clause_title: Option<String>,
    pub terms: String,
    pub terms_interval: Interval,
    pub outcome: FindingOutcome,
    pub severity: Severity,
    pub message: String,
    pub address: String,
    pub kind: String,
    /// Where the finding points: the offending attribute, or the record.
    pub primary: Origin,
    pub primary_label: String,
    /// What classified the record (the fields of `applies to`).
    pub secondary: Vec<(Origin, String)>,
    /// The record's own header.
    pub record_origin: Origin,
    pub help: String,
    /// How many block instances the finding stands for (see
    /// [`ScannedRecord::instances`]).
    pub instances: u64,
}

impl Finding {
    pub fn line_col(&self) -> (usize, usize) {
        self.primary.line_col()
    }

    /// A miette diagnostic for the human reporter.
    pub fn to_diag(&self) -> Diag {
        let level = match self.outcome {
            FindingOutcome::Unresolved => Level::Warning,
            FindingOutcome::Violation => self.severity.level(),
        };
        let message = match self.outcome {
            FindingOutcome::Violation => format!("{}: {}", self.severity.as_str(), self.message),
            FindingOutcome::Unresolved => format!("unresolved: {}", self.message),
        };
        let message = if self.instances > 1 {
            format!("{message} ({} instances)", self.instances)
        } else {
            message
        };
        let mut d = Diag {
            level,
            ..Diag::error(Code::clause(&self.clause), message)
        };
        d = d.label_at(&self.primary, self.primary_label.clone());
        for (o, text) in &self.secondary {
            if o.span != self.primary.span || o.file.name != self.primary.file.name {
                d = d.label_at(o, text.clone());
            }
        }
        d.with_help(self.help.clone())
    }
}

/// Judges records against the clauses in force on `as_of`.
pub fn judge(rules: &RuleSet, records: &[ScannedRecord], as_of: Date) -> Judged {
    let eval = Evaluator::new(rules);
    // Aggregate clauses judge groups of dated log records: no Terraform
    // record can show them (check reports them as not applicable).
    let in_force: Vec<(&Terms, &Clause)> = rules
        .in_force(as_of)
        .filter(|(_, c)| !c.is_manual() && !c.is_aggregate())
        .collect();
    // Records are independent: judged in parallel, merged in record order.
    let per_record: Vec<(u64, bool, Vec<Finding>)> = records
        .par_iter()
        .map(|record| {
            let mut found = Vec::new();
            let mut applied = false;
            for (terms, clause) in &in_force {
                let outcome = eval.judge(terms, clause, record);
                let outcome = match (outcome, &record.existence) {
                    (Outcome::Violation, Some(u)) => Outcome::Unresolved(u.clone()),
                    (o, _) => o,
                };
                match outcome {
                    Outcome::NotApplicable => continue,
                    Outcome::Pass | Outcome::Excepted(_) => {}
                    Outcome::Violation => {
                        found.push(build(rules, &eval, terms, clause, record, None))
                    }
                    Outcome::Unresolved(u) => {
                        found.push(build(rules, &eval, terms, clause, record, Some(u)))
                    }
                }
                applied = true;
            }
            (record.instances, applied, found)
        })
        .collect();
    let judged = per_record
        .iter()
        .filter(|(_, a, _)| *a)
        .map(|(n, _, _)| *n as usize)
        .sum();
    let not_applicable = per_record
        .iter()
        .filter(|(_, a, _)| !*a)
        .map(|(n, _, _)| *n as usize)
        .sum();
    let mut findings: Vec<Finding> = per_record.into_iter().flat_map(|(_, _, f)| f).collect();
    sort(&mut findings);
    Judged {
        findings,
        judged,
        not_applicable,
        clauses_in_force: in_force.len(),
    }
}

/// Findings that share a root cause: the same clause and outcome, pointing
/// at the same span with the same label (a module's resource evaluated once
/// per caller, the instances of a `for_each`). Human and Markdown output
/// show a group as one diagnostic listing its records; JSON and SARIF keep
/// one entry per record and give each its group's id.
pub fn groups(findings: &[Finding]) -> Vec<&[Finding]> {
    let mut out = Vec::new();
    let mut start = 0;
    for i in 1..=findings.len() {
        let same = match (findings.get(start), findings.get(i)) {
            (Some(a), Some(b)) => same_cause(a, b),
            _ => false,
        };
        if !same {
            if let Some(g) = findings.get(start..i)
                && !g.is_empty()
            {
                out.push(g);
            }
            start = i;
        }
    }
    out
}

fn same_cause(a: &Finding, b: &Finding) -> bool {
    a.clause == b.clause
        && a.outcome == b.outcome
        && a.primary.file.name == b.primary.file.name
        && a.primary.span == b.primary.span
        && a.primary_label == b.primary_label
}

/// A short stable id of a finding's root cause (see [`groups`]).
pub fn group_id(f: &Finding) -> String {
    use std::hash::{Hash, Hasher};
    // FNV-1a: stable across runs and platforms, unlike the std hasher.
    struct Fnv(u64);
    impl Hasher for Fnv {
        fn finish(&self) -> u64 {
            self.0
        }
        fn write(&mut self, bytes: &[u8]) {
            for b in bytes {
                self.0 ^= u64::from(*b);
                self.0 = self.0.wrapping_mul(0x100_0000_01b3);
            }
        }
    }
    let mut h = Fnv(0xcbf2_9ce4_8422_2325);
    (
        &f.clause,
        f.outcome == FindingOutcome::Violation,
        &f.primary.file.name,
        f.primary.span.start,
        f.primary.span.end,
        &f.primary_label,
    )
        .hash(&mut h);
    format!("{:016x}", h.finish())
}

impl Finding {
    /// One diagnostic for a group of findings of one root cause: the first
    /// finding's, with the other records listed.
    pub fn group_diag(group: &[Finding]) -> Option<Diag> {
        let first = group.first()?;
        let mut d = first.to_diag();
        if group.len() > 1 {
            const SHOWN: usize = 10;
            let rest: Vec<&str> = group
                .iter()
                .skip(1)
                .take(SHOWN)
                .map(|f| f.address.as_str())
                .collect();
            let more = group.len().saturating_sub(1 + SHOWN);
            let instances: u64 = group.iter().map(|f| f.instances).sum();
            d.message = format!(
                "{}\n{} records share this cause ({instances} instances); also: {}{}",
                d.message,
                group.len(),
                rest.join(", "),
                if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                }
            );
        }
        Some(d)
    }
}

/// Sorts findings by file, line, column, clause and address: the order of
/// every report.
pub fn sort(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        let (la, ca) = a.line_col();
        let (lb, cb) = b.line_col();
        (&a.primary.file.name, la, ca, &a.clause, &a.address).cmp(&(
            &b.primary.file.name,
            lb,
            cb,
            &b.clause,
            &b.address,
        ))
    });
}

/// The result of judging a set of records.
#[derive(Debug, Default)]
pub struct Judged {
    pub findings: Vec<Finding>,
    /// Records at least one clause applied to.
    pub judged: usize,
    /// Records no clause in force applied to.
    pub not_applicable: usize,
    pub clauses_in_force: usize,
}

fn describe(record: &ScannedRecord, path: &crate::value::FieldPath) -> String {
    match record.lookup(path) {
        Lookup::Known(v) if !v.is_unknown() => format!("`{path}` is `{v}`"),
        Lookup::Known(_) | Lookup::Unknown(_) => format!("`{path}` is unknown"),
        Lookup::Absent => format!("no `{path}`"),
    }
}

fn build(
    rules: &RuleSet,
    eval: &Evaluator<'_>,
    terms: &Terms,
    clause: &Clause,
    record: &ScannedRecord,
    unknown: Option<Arc<Unknown>>,
) -> Finding {
    let check_fields = match &clause.check {
        Check::Require(e) | Check::Forbid(e) => eval.fields_deep(e),
        Check::Manual | Check::Aggregate => Vec::new(),
    };
    let applies_fields = clause
        .applies
        .as_ref()
        .map(|e| eval.fields_deep(e))
        .unwrap_or_default();
    let outcome = if unknown.is_some() {
        FindingOutcome::Unresolved
    } else {
        FindingOutcome::Violation
    };

    // Primary label: the unknown expression, else the first checked field
    // that has a location, else the record itself.
    let (primary, primary_label) = match &unknown {
        Some(u) => match &u.origin {
            Some(o) => (
                o.clone(),
                format!("cannot be known statically: {}", u.reason),
            ),
            None => (record.origin.clone(), format!("unknown: {}", u.reason)),
        },
        None => check_fields
            .iter()
            .find_map(|f| record.origin_of(f).map(|o| (o, describe(record, f))))
            .unwrap_or_else(|| (record.origin.clone(), format!("`{}`", record.address))),
    };
    let mut secondary = Vec::new();
    for f in &applies_fields {
        if matches!(record.lookup(f), Lookup::Absent) {
            continue;
        }
        if let Some(o) = record.origin_of(f)
            && !secondary.iter().any(|(so, _): &(Origin, String)| so == &o)
        {
            secondary.push((o, format!("classified by {}", describe(record, f))));
        }
    }
    let inside_header = primary.file.name == record.origin.file.name
        && primary.span.start >= record.origin.span.start
        && primary.span.end <= record.origin.span.end;
    if !inside_header {
        secondary.push((record.origin.clone(), format!("`{}`", record.address)));
    }

    let what = clause
        .title
        .as_deref()
        .map(|t| format!("\"{t}\""))
        .unwrap_or_else(|| format!("clause `{}`", clause.id.name));
    // The clause's own message describes a violation; an unresolved finding
    // must not claim one.
    let message = match &unknown {
        Some(u) => format!("cannot decide {what} for {}: {}", record.address, u.reason),
        None => render_message(clause, record)
            .unwrap_or_else(|| format!("{} breaks {what}", record.address)),
    };
    let interval = clause.interval(terms);
    let in_force = rules
        .terms_in_force_interval(terms)
        .and_then(|iv| iv.intersect(&interval))
        .unwrap_or(interval);
    Finding {
        clause: clause.id.name.clone(),
        clause_title: clause.title.clone(),
        terms: terms.id.name.clone(),
        terms_interval: in_force,
        outcome,
        severity: clause.severity,
        message,
        address: record.address.clone(),
        kind: record.kind().to_string(),
        primary,
        primary_label,
        secondary,
        record_origin: record.origin.clone(),
        help: rules.citation_help(terms, clause, in_force),
        instances: record.instances,
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

    /// Whether a diagnostic of this level counts as a failure.
    pub fn fails_level(self, level: crate::diag::Level) -> bool {
        use crate::diag::Level;
        match self {
            FailOn::Never => false,
            FailOn::Error => level == Level::Error,
            FailOn::Warning => level >= Level::Warning,
            FailOn::Info => true,
        }
    }
}
