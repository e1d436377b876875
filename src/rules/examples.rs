//! `proviso test`: running the `example` blocks of rule files.
//!
//! An example is a record written in the rule file (`given {…}`) and the
//! outcome the author expects on a date. Examples are judged by the same
//! evaluator as real records, including the terms in force on that date, so
//! they test the dates and supersession as much as the conditions.

use crate::diag::{Code, Diag};
use crate::eval::{Evaluator, Outcome};
use crate::rules::RuleSet;
use crate::rules::ast::{Clause, Example, Expectation, Terms};
use crate::value::{MapRecord, Value};

/// The result of one example.
#[derive(Debug)]
pub struct ExampleResult {
    pub clause: String,
    pub title: String,
    pub expected: Expectation,
    pub actual: Expectation,
    /// Why the actual outcome came about, for the failure message.
    pub why: String,
    pub failure: Option<Diag>,
}

/// Runs every example of every clause, in file order.
pub fn run(rules: &RuleSet) -> Vec<ExampleResult> {
    let eval = Evaluator::new(rules);
    let mut out = Vec::new();
    for terms in &rules.terms {
        for clause in &terms.clauses {
            for ex in &clause.examples {
                out.push(run_one(rules, &eval, terms, clause, ex));
            }
        }
    }
    out
}

fn run_one(
    rules: &RuleSet,
    eval: &Evaluator<'_>,
    terms: &Terms,
    clause: &Clause,
    ex: &Example,
) -> ExampleResult {
    let record = MapRecord {
        fields: match &ex.given {
            Value::Map(m) => m.clone(),
            _ => Default::default(),
        },
    };
    let (actual, why) = if !rules.clause_in_force(terms, clause, ex.on) {
        let iv = rules
            .terms_in_force_interval(terms)
            .and_then(|iv| iv.intersect(&clause.interval(terms)));
        let when = match iv {
            Some(iv) => match iv.until {
                Some(u) => format!("it is in force from {} until {u}", iv.from),
                None => format!("it is in force from {}", iv.from),
            },
            None => "it is never in force".to_string(),
        };
        (
            Expectation::NotInForce,
            format!(
                "clause `{}` is not in force on {}: {when}",
                clause.id.name, ex.on
            ),
        )
    } else if clause.is_manual() {
        (
            Expectation::NotInForce,
            format!(
                "clause `{}` is manual: it is never evaluated",
                clause.id.name
            ),
        )
    } else {
        match eval.judge(terms, clause, &record) {
            Outcome::NotApplicable => (
                Expectation::NoViolation,
                "its `applies to` condition is false for this record".to_string(),
            ),
            Outcome::Pass => (
                Expectation::NoViolation,
                "the record satisfies the clause".to_string(),
            ),
            Outcome::Excepted(name) if name == "unless" => (
                Expectation::NoViolation,
                "an `unless` condition excuses it".to_string(),
            ),
            Outcome::Excepted(name) => (
                Expectation::NoViolation,
                format!("exception `{name}` excuses it"),
            ),
            Outcome::Violation => (
                Expectation::Violation,
                format!(
                    "the record breaks the clause: {}",
                    checked_values(eval, clause, &record)
                ),
            ),
            Outcome::Unresolved(u) => (
                Expectation::Unresolved,
                format!("the outcome depends on an unknown value ({})", u.reason),
            ),
        }
    };
    let failure = (actual != ex.expect).then(|| {
        Diag::error(
            Code::TestExampleFailed,
            format!(
                "example \"{}\" of clause `{}` expects {}, but got {}",
                ex.title,
                clause.id.name,
                ex.expect.as_str(),
                actual.as_str()
            ),
        )
        .in_file(&terms.file)
        .label(ex.span.clone(), format!("{} on {}", actual.as_str(), ex.on))
        .with_help(why.clone())
    });
    ExampleResult {
        clause: clause.id.name.clone(),
        title: ex.title.clone(),
        expected: ex.expect,
        actual,
        why,
        failure,
    }
}

/// `cloud` is `aws`, `region` is absent, … for the fields a clause checks.
fn checked_values(eval: &Evaluator<'_>, clause: &Clause, record: &MapRecord) -> String {
    use crate::rules::ast::Check;
    use crate::value::{Lookup, Record};
    let fields = match &clause.check {
        Check::Require(e) | Check::Forbid(e) => eval.fields_deep(e),
        Check::Manual => Vec::new(),
    };
    let parts: Vec<String> = fields
        .iter()
        .map(|f| match record.lookup(f) {
            Lookup::Known(v) if !v.is_unknown() => format!("`{f}` is `{v}`"),
            Lookup::Absent => format!("`{f}` is absent"),
            _ => format!("`{f}` is unknown"),
        })
        .collect();
    if parts.is_empty() {
        "its condition holds".to_string()
    } else {
        parts.join(", ")
    }
}
