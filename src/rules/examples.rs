//! `proviso test`: running the `example` blocks of rule files.
//!
//! An example is a record written in the rule file (`given {…}`) and the
//! outcome the author expects on a date. Examples are judged by the same
//! evaluator as real records, including the terms in force on that date, so
//! they test the dates and supersession as much as the conditions.

use crate::diag::{Code, Diag};
use crate::eval::{Evaluator, Outcome};
use crate::rules::RuleSet;
use crate::rules::ast::{AggExample, Clause, Example, Expectation, Terms};
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
    /// The example's span in its terms' file (`proviso lsp`'s code lens).
    pub span: crate::rules::ast::Span,
}

/// Runs every example of every clause, in file order. A draft's
/// examples (`proposed` terms) are judged as if it were signed: they show
/// what the amendment would do, and a draft is otherwise never in force.
pub fn run(rules: &RuleSet) -> Vec<ExampleResult> {
    let mut out = Vec::new();
    for (i, terms) in rules.terms.iter().enumerate() {
        if !terms.is_proposed() {
            run_terms(rules, terms, &mut out);
            continue;
        }
        match rules.signed(&terms.id.name, None) {
            Ok(signed) => {
                if let Some(t) = signed.terms.get(i) {
                    run_terms(&signed, t, &mut out);
                }
            }
            // Signing can only fail on a clause in force twice, which
            // `proviso lint` and `--what-if` report; the examples still
            // run, unsigned (each then says the clause is not in force).
            Err(_) => run_terms(rules, terms, &mut out),
        }
    }
    out
}

/// Every example of the clauses of `terms`.
fn run_terms(rules: &RuleSet, terms: &Terms, out: &mut Vec<ExampleResult>) {
    let eval = Evaluator::new(rules);
    {
        for clause in &terms.clauses {
            for ex in &clause.examples {
                out.push(run_one(rules, &eval, terms, clause, ex));
            }
            if let Some(agg) = clause.aggregate.as_deref() {
                for ex in &agg.examples {
                    out.extend(run_aggregate(rules, &eval, terms, clause, ex));
                }
            }
        }
    }
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
        span: ex.span.clone(),
        clause: clause.id.name.clone(),
        title: ex.title.clone(),
        expected: ex.expect,
        actual,
        why,
        failure,
    }
}

/// Runs an aggregate clause's example: its records grouped and judged as
/// an audit would, with the example's parameters; one result per
/// `expect`. An `expect` without `for` is the outcome of every group:
/// `expect no violation` holds when no group breaks the clause or is
/// unresolved.
fn run_aggregate(
    rules: &RuleSet,
    eval: &Evaluator<'_>,
    terms: &Terms,
    clause: &Clause,
    ex: &AggExample,
) -> Vec<ExampleResult> {
    use crate::aggregate::{self, GroupOutcome, records};
    // An example is self-contained: only its own `with` parameters count,
    // never a run's `--param`.
    let mut plan = aggregate::Plan::new(rules);
    plan.params.clear();
    for (id, v) in &ex.params {
        plan.params.insert(id.name.clone(), v.clone());
    }
    let index = plan
        .clauses
        .iter()
        .position(|c| std::ptr::eq(c.clause, clause));
    let mut state = plan.new_state();
    let mut undated = Vec::new();
    if let Some(index) = index {
        for (n, given) in ex.records.iter().enumerate() {
            let record = MapRecord {
                fields: match given {
                    Value::Map(m) => m.clone(),
                    _ => Default::default(),
                },
            };
            let Some(ts) = records::record_time(&record) else {
                undated.push(n + 1);
                continue;
            };
            if let Some(c) = records::contribution(&plan, eval, index, &record, ts) {
                state.add(&plan, c, || aggregate::Evidence {
                    file: 0,
                    line: n as u64 + 1,
                    text: None,
                });
            }
        }
    }
    let results = aggregate::finish(&plan, &state);
    let groups = index
        .and_then(|i| results.get(i))
        .map(|r| r.groups.as_slice())
        .unwrap_or_default();
    let as_expectation = |o: &GroupOutcome| match o {
        GroupOutcome::Violation => Expectation::Violation,
        GroupOutcome::Unresolved(_) => Expectation::Unresolved,
        _ => Expectation::NoViolation,
    };
    let describe = |g: &aggregate::GroupResult| {
        let figures: Vec<String> = g
            .figures
            .iter()
            .map(|(k, v)| format!("{k} = {v}"))
            .collect();
        let why = match &g.outcome {
            GroupOutcome::Unresolved(u) => format!(" ({u})"),
            _ => String::new(),
        };
        format!(
            "group {} is {}{why}: {}",
            g.label(),
            g.outcome.as_str(),
            figures.join(", ")
        )
    };
    let mut out = Vec::new();
    for (expected, group, at) in &ex.expects {
        let (actual, why) = match group {
            Some(label) => match groups.iter().find(|g| g.label() == *label) {
                Some(g) => (as_expectation(&g.outcome), describe(g)),
                None => {
                    let seen: Vec<String> = groups
                        .iter()
                        .map(|g| format!("\"{}\"", g.label()))
                        .collect();
                    (
                        Expectation::NotInForce,
                        if seen.is_empty() {
                            format!(
                                "no given record joins a group of clause `{}` while it is in force",
                                clause.id.name
                            )
                        } else {
                            format!(
                                "no group \"{label}\" is judged; the groups are {}",
                                seen.join(", ")
                            )
                        },
                    )
                }
            },
            None => {
                let worst = groups
                    .iter()
                    .find(|g| g.outcome == GroupOutcome::Violation)
                    .or_else(|| {
                        groups
                            .iter()
                            .find(|g| matches!(g.outcome, GroupOutcome::Unresolved(_)))
                    });
                match worst {
                    Some(g) => (as_expectation(&g.outcome), describe(g)),
                    None if groups.is_empty() => (
                        Expectation::NotInForce,
                        format!(
                            "no given record joins a group of clause `{}` while it is in force",
                            clause.id.name
                        ),
                    ),
                    None => (
                        Expectation::NoViolation,
                        "no group breaks the clause".to_string(),
                    ),
                }
            }
        };
        let mut why = why;
        if !undated.is_empty() {
            let lines: Vec<String> = undated.iter().map(ToString::to_string).collect();
            why.push_str(&format!(
                "; given record(s) {} have no `timestamp` or `date` and were left out",
                lines.join(", ")
            ));
        }
        let title = match group {
            Some(g) => format!("{} (for \"{g}\")", ex.title),
            None => ex.title.clone(),
        };
        let failure = (actual != *expected).then(|| {
            Diag::error(
                Code::TestExampleFailed,
                format!(
                    "example \"{}\" of clause `{}` expects {}, but got {}",
                    title,
                    clause.id.name,
                    expected.as_str(),
                    actual.as_str()
                ),
            )
            .in_file(&terms.file)
            .label(at.clone(), actual.as_str().to_string())
            .with_help(why.clone())
        });
        out.push(ExampleResult {
            span: ex.span.clone(),
            clause: clause.id.name.clone(),
            title,
            expected: *expected,
            actual,
            why,
            failure,
        });
    }
    out
}

/// `cloud` is `aws`, `region` is absent, … for the fields a clause checks.
fn checked_values(eval: &Evaluator<'_>, clause: &Clause, record: &MapRecord) -> String {
    use crate::rules::ast::Check;
    use crate::value::{Lookup, Record};
    let fields = match &clause.check {
        Check::Require(e) | Check::Forbid(e) => eval.fields_deep(e),
        Check::Manual | Check::Aggregate => Vec::new(),
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
