//! The evaluator's semantics, shown on small records: absent is not
//! unknown, three-valued logic, exceptions, CIDR, globs, regexes and
//! supersession by date.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed unwrap is a failed test"
)]

use proviso::date::Date;
use proviso::eval::{Evaluator, Outcome};
use proviso::source::SourceFile;
use proviso::value::{MapRecord, Value};
use std::collections::BTreeMap;

fn rules(text: &str) -> proviso::rules::RuleSet {
    proviso::rules::build(vec![SourceFile::new("t.proviso", text)])
        .unwrap_or_else(|e| panic!("{:#?}", e.errors))
}

fn record(pairs: &[(&str, Value)]) -> MapRecord {
    MapRecord {
        fields: pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
    }
}

fn tags(pairs: &[(&str, &str)]) -> Value {
    Value::Map(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), Value::str(v)))
            .collect::<BTreeMap<_, _>>(),
    )
}

/// The outcome of the single clause `c` of `rules` on `record`.
fn outcome(rules: &proviso::rules::RuleSet, record: &MapRecord) -> String {
    let (terms, clause) = rules.clauses().next().unwrap();
    match Evaluator::new(rules).judge(terms, clause, record) {
        Outcome::NotApplicable => "n/a".into(),
        Outcome::Pass => "pass".into(),
        Outcome::Excepted(e) => format!("excepted:{e}"),
        Outcome::Violation => "violation".into(),
        Outcome::Unresolved(_) => "unresolved".into(),
    }
}

fn clause(body: &str) -> String {
    format!(
        "terms t effective 2026-01-01 {{\n  clause c {{\n{body}\n  }}\n  exception training {{ when tags.workload == \"training\" }}\n}}\n"
    )
}

#[test]
fn absent_fields_make_comparisons_false_even_negated_ones() {
    let r = rules(&clause(
        "    applies to tags.segment != \"commercial\"\n    require region in { \"eastus\" }",
    ));
    // No tags at all: `!=` with an absent field is false, so the clause does not apply.
    assert_eq!(
        outcome(&r, &record(&[("region", Value::str("westeurope"))])),
        "n/a"
    );
    assert_eq!(
        outcome(
            &r,
            &record(&[
                ("tags", tags(&[("segment", "federal")])),
                ("region", Value::str("westeurope"))
            ])
        ),
        "violation"
    );
}

#[test]
fn unknown_only_matters_where_it_could_change_the_outcome() {
    let r = rules(&clause(
        "    applies to tags.segment == \"federal\"\n    require region in { \"eastus\" } or cloud == \"azure\"",
    ));
    let unknown = Value::unknown("var.region has no value", None);
    // unknown or true is true: no finding.
    assert_eq!(
        outcome(
            &r,
            &record(&[
                ("tags", tags(&[("segment", "federal")])),
                ("region", unknown.clone()),
                ("cloud", Value::str("azure"))
            ])
        ),
        "pass"
    );
    // unknown or false is unknown: unresolved.
    assert_eq!(
        outcome(
            &r,
            &record(&[
                ("tags", tags(&[("segment", "federal")])),
                ("region", unknown.clone()),
                ("cloud", Value::str("aws"))
            ])
        ),
        "unresolved"
    );
    // The clause does not apply at all: the unknown is irrelevant.
    assert_eq!(
        outcome(
            &r,
            &record(&[
                ("tags", tags(&[("segment", "commercial")])),
                ("region", unknown.clone())
            ])
        ),
        "n/a"
    );
    // An unknown tag map makes applicability unknown.
    assert_eq!(
        outcome(
            &r,
            &record(&[("tags", unknown), ("region", Value::str("westeurope"))])
        ),
        "unresolved"
    );
}

#[test]
fn exceptions_and_unless_excuse_a_breach() {
    let r = rules(&clause(
        "    require cloud == \"azure\"\n    except training\n    unless tags.waived == \"yes\"",
    ));
    assert_eq!(
        outcome(&r, &record(&[("cloud", Value::str("aws"))])),
        "violation"
    );
    assert_eq!(
        outcome(
            &r,
            &record(&[
                ("cloud", Value::str("aws")),
                ("tags", tags(&[("workload", "training")]))
            ])
        ),
        "excepted:training"
    );
    assert_eq!(
        outcome(
            &r,
            &record(&[
                ("cloud", Value::str("aws")),
                ("tags", tags(&[("waived", "yes")]))
            ])
        ),
        "excepted:unless"
    );
    assert_eq!(
        outcome(&r, &record(&[("cloud", Value::str("azure"))])),
        "pass"
    );
}

#[test]
fn forbid_cidr_globs_regex_sizes_and_exists() {
    let r = rules(&clause(
        "    forbid client_ip in { 10.0.0.0/8, 2001:db8::/32 } and host matches \"*.openai.azure.com\" and path ~ /^\\/v1\\/(chat|embeddings)/ and bytes_out > 1 MiB and tags.owner exists",
    ));
    let base = [
        ("client_ip", Value::str("10.2.3.4")),
        ("host", Value::str("east.openai.azure.com")),
        ("path", Value::str("/v1/chat/completions")),
        ("bytes_out", Value::Num(2_000_000.0)),
        ("tags", tags(&[("owner", "team")])),
    ];
    assert_eq!(outcome(&r, &record(&base)), "violation");
    let mut v6 = base.clone();
    v6[0] = ("client_ip", Value::str("2001:db8::1"));
    assert_eq!(outcome(&r, &record(&v6)), "violation");
    let mut small = base.clone();
    small[3] = ("bytes_out", Value::str("1000"));
    assert_eq!(
        outcome(&r, &record(&small)),
        "pass",
        "numbers in strings compare as numbers"
    );
    let mut outside = base.clone();
    outside[0] = ("client_ip", Value::str("192.168.0.1"));
    assert_eq!(outcome(&r, &record(&outside)), "pass");
    let mut untagged = base.clone();
    untagged[4] = ("tags", tags(&[]));
    assert_eq!(outcome(&r, &record(&untagged)), "pass");
}

#[test]
fn supersession_decides_which_terms_are_in_force() {
    let r = rules(
        "terms a effective 2025-01-01 { clause x { require cloud == \"azure\" } }\n\
         terms b effective 2026-04-27 supersedes a { clause x { require cloud in { \"azure\", \"aws\" } } }\n",
    );
    let on = |d: &str| -> Vec<String> {
        r.in_force(Date::parse(d).unwrap())
            .map(|(t, c)| format!("{}.{}", t.id.name, c.id.name))
            .collect()
    };
    assert_eq!(on("2026-04-26"), ["a.x"]);
    assert_eq!(on("2026-04-27"), ["b.x"]);
    assert!(on("2024-12-31").is_empty());
}
