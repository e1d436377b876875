//! Waivers: `# proviso:waive <clause> reason="…" until=YYYY-MM-DD owner=…`
//! comments that excuse a finding on the block or attribute they sit on.
//!
//! A waiver is found in the text of a parsed Terraform file and bound to the
//! block or attribute it precedes (or trails, on the same line); a finding is
//! excused when its clause is named and its offending span or its record's
//! header lies inside that block or attribute. The design choice a reader must
//! know: a waiver never disappears silently. One in force is listed in every
//! report (SARIF: a `suppression`), one that has expired stops excusing and is
//! itself a finding, one naming no clause is an input error, and a policy
//! (`proviso.yaml`) can forbid waivers or demand an expiry date.

use crate::date::Date;
use crate::diag::{Code, Diag, Level};
use crate::findings::Finding;
use crate::text::closest;
use std::sync::Arc;

use crate::scan::terraform::waivers::Waiver;

impl Waiver {
    /// Whether this waiver excuses `f` (clause named, span inside the target).
    pub fn covers(&self, f: &Finding) -> bool {
        self.clauses.contains(&f.clause)
            && (self.contains(&f.primary) || self.contains(&f.record_origin))
    }
}

/// A finding excused by a waiver in force.
#[derive(Debug, Clone)]
pub struct Waived {
    pub finding: Finding,
    pub waiver: Arc<Waiver>,
}

/// What the configuration allows (`waivers:` in proviso.yaml).
#[derive(Debug, Clone)]
pub struct Policy {
    /// `false`: every waiver is ignored and reported as a finding.
    pub allow: bool,
    pub require_until: bool,
    pub require_owner: bool,
    /// Longest time a waiver may run, counted from the as-of date.
    pub max_days: Option<u32>,
    /// Level of the finding an expired waiver becomes.
    pub expired: Level,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            allow: true,
            require_until: false,
            require_owner: false,
            max_days: None,
            expired: Level::Error,
        }
    }
}

/// Checks that every clause a waiver names exists in the rule set (broken
/// waivers too, so that all their mistakes show at once); returns the
/// errors (with "did you mean") and keeps only valid, unbroken waivers.
pub fn validate(waivers: Vec<Waiver>, known: &[&str]) -> (Vec<Waiver>, Vec<Diag>) {
    let mut ok = Vec::new();
    let mut errors = Vec::new();
    for w in waivers {
        let mut good = true;
        for (c, span) in w.clauses.iter().zip(&w.clause_spans) {
            if known.contains(&c.as_str()) {
                continue;
            }
            good = false;
            let help = match closest(c, known.iter().copied()) {
                Some((k, _)) => format!("did you mean `{k}`?"),
                None => format!("known clauses: {}", known.join(", ")),
            };
            errors.push(
                Diag::error(
                    Code::WaiverUnknownClause,
                    format!("waiver names `{c}`, which is no clause of the rules"),
                )
                .in_file(&w.origin.file)
                .label(span.clone(), "unknown clause")
                .with_help(help),
            );
        }
        if good && !w.broken {
            ok.push(w);
        }
    }
    (ok, errors)
}

/// Findings split by the waivers in force.
#[derive(Debug, Default)]
pub struct Applied {
    pub findings: Vec<Finding>,
    pub waived: Vec<Waived>,
    /// Every waiver in force, used or not.
    pub in_force: Vec<Arc<Waiver>>,
    /// Waivers that are themselves findings: expired, or against the policy.
    pub problems: Vec<Diag>,
}

/// Applies waivers to findings on `as_of` under `policy`.
pub fn apply(
    findings: Vec<Finding>,
    waivers: Vec<Waiver>,
    as_of: Date,
    policy: &Policy,
) -> Applied {
    let mut out = Applied::default();
    // A broken waiver's mistakes are reported by `find`; it excuses nothing.
    for w in waivers.into_iter().filter(|w| !w.broken) {
        if let Some(d) = problem(&w, as_of, policy) {
            out.problems.push(d);
        } else {
            out.in_force.push(Arc::new(w));
        }
    }
    for f in findings {
        match out.in_force.iter().find(|w| w.covers(&f)) {
            Some(w) => out.waived.push(Waived {
                finding: f,
                waiver: w.clone(),
            }),
            None => out.findings.push(f),
        }
    }
    out
}

/// Why a waiver is not in force, as a finding on the comment.
fn problem(w: &Waiver, as_of: Date, policy: &Policy) -> Option<Diag> {
    let at = |code: Code, level: Level, msg: String, label: &str, help: String| {
        Some(
            Diag {
                level,
                ..Diag::error(code, msg)
            }
            .label_at(&w.origin, label)
            .with_help(help),
        )
    };
    let what = w.clauses.join(", ");
    if !policy.allow {
        return at(
            Code::WaiverNotAllowed,
            Level::Error,
            format!(
                "waiver of `{what}` on {} is not allowed here",
                w.target_name
            ),
            "ignored: waivers are switched off",
            "proviso.yaml sets `waivers: { allow: false }`: fix the finding instead".into(),
        );
    }
    if let Some(until) = w.until
        && until <= as_of
    {
        return at(
            Code::WaiverExpired,
            policy.expired,
            format!("waiver of `{what}` on {} expired on {until}", w.target_name),
            "expired: no longer excuses anything",
            format!(
                "fix the finding, or renew the waiver with a later `until` (reason was: {})",
                w.reason
            ),
        );
    }
    if policy.require_until && w.until.is_none() {
        return at(
            Code::WaiverNoExpiry,
            Level::Error,
            format!("waiver of `{what}` on {} never expires", w.target_name),
            "needs `until=YYYY-MM-DD`",
            "proviso.yaml requires every waiver to expire: add `until=`".into(),
        );
    }
    if let (Some(max), Some(until)) = (policy.max_days, w.until)
        && until.days() - as_of.days() > i32::try_from(max).unwrap_or(i32::MAX)
    {
        return at(
            Code::WaiverTooLong,
            Level::Error,
            format!(
                "waiver of `{what}` on {} runs until {until}, more than {max} days after {as_of}",
                w.target_name
            ),
            "too far ahead",
            format!("proviso.yaml allows waivers of at most {max} days: pick an earlier `until`"),
        );
    }
    if policy.require_owner && w.owner.is_none() {
        return at(
            Code::WaiverNoOwner,
            Level::Error,
            format!("waiver of `{what}` on {} names no owner", w.target_name),
            "needs `owner=…`",
            "proviso.yaml requires an owner for every waiver: add `owner=team@example.com`".into(),
        );
    }
    None
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::indexing_slicing,
        reason = "test code: a failed unwrap or index is a failed test"
    )]
    use super::*;

    #[test]
    fn a_broken_waiver_excuses_nothing_but_its_clauses_are_checked() {
        let text = "# proviso:waive x reson=y\nresource \"a\" \"b\" {}\n";
        let file = crate::source::SourceFile::new("main.tf", text);
        let body = hcl_edit::parser::parse_body(text).unwrap();
        let (w, _) = crate::scan::terraform::waivers::find(&file, &body);
        assert!(w[0].broken);
        let (valid, unknown) = validate(w, &["stateless_on_azure"]);
        assert!(valid.is_empty(), "a broken waiver excuses nothing");
        assert_eq!(unknown[0].code.as_str(), "proviso::waiver::unknown_clause");
    }
}
