//! `proviso audit` on aggregate clauses: the bundled contract's revenue
//! share (per month, capped by a parameter) and first-ship (per product)
//! over a ledger and a gateway export, as a user runs them.
//!
//! The figures here are worked out by hand from CONTRACT.md's
//! conventions, and the tests check what a person checks: which groups
//! break the clause, which are unresolved and why, the exact decimals,
//! the lines that decided each, and that the answer does not depend on
//! threads or chunk sizes.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed unwrap or index is a failed test"
)]

mod common;

use common::proviso;
use serde_json::Value;
use std::path::{Path, PathBuf};

const LEDGER: &str = "\
date,entry,product,amount_usd
2025-11-03,product_revenue,gpt-5.5,1000.05
2025-11-28,share_to_microsoft,gpt-5.5,200.01
2026-03-02,product_revenue,gpt-5.5,1000.05
2026-03-31,share_to_microsoft,gpt-5.5,200.00
2026-04-10,product_revenue,gpt-5.5,1000.00
2026-04-20,share_to_microsoft,gpt-5.5,200.00
2026-04-20,share_to_openai,gpt-5.5,50.00
2026-04-28,product_revenue,gpt-5.5,5000.00
2026-04-29,share_to_microsoft,gpt-5.5,900.00
2026-05-04,product_revenue,o5-mini,1000.00
2026-05-29,share_to_microsoft,o5-mini,150.00
2026-05-30,share_to_openai,gpt-5.5,10.00
";

const GATEWAY: &str = r#"{"timestamp":"2026-03-01T10:00:00Z","host":"api.openai.com","path":"/v1/responses","model":"gpt-5.5","cloud":"azure"}
{"timestamp":"2026-05-02T10:00:00Z","host":"api.openai.com","path":"/v1/responses","model":"o5-mini","cloud":"aws"}
{"timestamp":"2026-05-03T09:00:00Z","host":"api.openai.com","path":"/v1/responses","model":"o5-mini","cloud":"azure"}
{"timestamp":"2026-05-03T09:00:00Z","host":"api.openai.com","path":"/v1/responses","model":"gpt-5.5","cloud":"aws"}
{"timestamp":"2026-05-05T23:59:00Z","host":"api.openai.com","path":"/v1/responses","model":"o5","cloud":"gcp"}
{"timestamp":"2026-05-05T00:01:00Z","host":"api.openai.com","path":"/v1/responses","model":"o5","cloud":"azure"}
{"timestamp":"2026-06-01T08:00:00Z","host":"api.openai.com","path":"/v1/responses","model":"gpt-6-preview","cloud":"gcp"}
"#;

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn audit_json(files: &[&Path], extra: &[&str]) -> (i32, Value) {
    let mut args: Vec<String> = vec!["audit".into()];
    args.extend(files.iter().map(|f| f.display().to_string()));
    args.extend(["--rules", "rules", "--format", "json"].map(String::from));
    args.extend(extra.iter().map(|s| s.to_string()));
    let out = proviso(&args).run();
    (out.code, serde_json::from_str(&out.stdout).unwrap())
}

fn clause<'a>(doc: &'a Value, id: &str) -> &'a Value {
    doc["clauses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["clause"] == id)
        .unwrap_or_else(|| panic!("no clause {id}"))
}

/// `(key value, outcome)` of each group of a clause.
fn groups(doc: &Value, id: &str) -> Vec<(String, String)> {
    clause(doc, id)["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            let key: Vec<String> = g["key"]
                .as_object()
                .unwrap()
                .values()
                .map(|v| v.as_str().unwrap().to_string())
                .collect();
            (key.join(" / "), g["outcome"].as_str().unwrap().to_string())
        })
        .collect()
}

fn group<'a>(doc: &'a Value, id: &str, key: &str) -> &'a Value {
    clause(doc, id)["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["key"].as_object().unwrap().values().any(|v| v == key))
        .unwrap_or_else(|| panic!("no group {key} of {id}"))
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[test]
fn the_money_terms_without_the_cap() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = write(dir.path(), "ledger.csv", LEDGER);
    let gw = write(dir.path(), "gateway.jsonl", GATEWAY);
    let (code, doc) = audit_json(&[&gw, &ledger], &[]);
    assert_eq!(code, 1, "{doc:#}");
    // October terms: November paid 20% of 1000.05 to the cent (200.01) is
    // not a breach; March paid 200.00 is a cent short; April 1-26 paid in
    // full.
    assert_eq!(
        groups(&doc, "revenue_share"),
        pairs(&[("2026-03", "violation")])
    );
    let march = group(&doc, "revenue_share", "2026-03");
    assert_eq!(march["figures"]["revenue"], "1000.05");
    assert_eq!(march["figures"]["due"], "200.01");
    assert_eq!(march["figures"]["paid"], "200.00");
    assert_eq!(march["figures"]["shortfall"], "0.01");
    // The share booking first, then the revenue booking: what decided it.
    let lines: Vec<u64> = march["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [5, 4]);
    assert!(
        march["evidence"][0]["file"]
            .as_str()
            .unwrap()
            .ends_with("ledger.csv")
    );
    let rs = clause(&doc, "revenue_share");
    assert_eq!(rs["aggregate"]["groups"], 3, "2025-11, 2026-03, 2026-04");
    assert_eq!(rs["aggregate"]["passed"], 2);
    // Restructured terms, cap not supplied: both short months are
    // unresolved, neither a breach nor a pass.
    assert_eq!(
        groups(&doc, "revenue_share_20_percent"),
        pairs(&[("2026-04", "unresolved"), ("2026-05", "unresolved")])
    );
    let april = group(&doc, "revenue_share_20_percent", "2026-04");
    assert_eq!(april["figures"]["revenue"], "5000.00");
    assert_eq!(april["figures"]["paid"], "900.00");
    assert_eq!(april["figures"]["revenue_share_cap"], Value::Null);
    assert!(
        april["unresolved_because"]
            .as_str()
            .unwrap()
            .contains("--param revenue_share_cap="),
        "{april:#}"
    );
    let r = clause(&doc, "revenue_share_20_percent");
    assert_eq!(
        (r["violations"].as_u64(), r["unresolved"].as_u64()),
        (Some(0), Some(2))
    );
    // The reciprocal share: the booking of 2026-04-20 is before the end,
    // the one of 2026-05-30 after it.
    let recip = clause(&doc, "reciprocal_share_ended");
    assert_eq!(recip["violations"], 1);
    assert_eq!(recip["samples"][0]["line"], 13);
    // First-ship: o5-mini on AWS a day before Azure, gpt-6-preview never
    // on Azure; o5 on Azure and GCP the same UTC day is first; gpt-5.5 is
    // not new (first seen 2026-03-01).
    assert_eq!(
        groups(&doc, "first_ship_on_azure"),
        pairs(&[("gpt-6-preview", "violation"), ("o5-mini", "violation")])
    );
    let mini = group(&doc, "first_ship_on_azure", "o5-mini");
    assert_eq!(mini["figures"]["first_elsewhere"], "2026-05-02");
    assert_eq!(mini["figures"]["other_cloud"], "aws");
    assert_eq!(mini["figures"]["first_on_azure"], "2026-05-03");
    assert_eq!(
        mini["evidence"][0]["line"], 2,
        "the first non-Azure request"
    );
    let fs = clause(&doc, "first_ship_on_azure");
    assert_eq!(fs["aggregate"]["groups"], 4);
    assert_eq!(fs["aggregate"]["not_applicable"], 1, "gpt-5.5 is not new");
    assert_eq!(fs["aggregate"]["passed"], 1, "o5: same day is first");
    // Unresolved groups rank as warnings for `--fail-on`.
    assert_eq!(doc["summary"]["unresolved"], 2);
}

#[test]
fn the_cap_decides_the_short_months_of_the_restructured_terms() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = write(dir.path(), "ledger.csv", LEDGER);
    // A cap of 1000.00: April's 900.00 has not reached it (a breach), May's
    // running total 1050.00 has (not a breach).
    let (_, doc) = audit_json(&[&ledger], &["--param", "revenue_share_cap=1000.00"]);
    assert_eq!(
        groups(&doc, "revenue_share_20_percent"),
        pairs(&[("2026-04", "violation")])
    );
    assert_eq!(
        group(&doc, "revenue_share_20_percent", "2026-04")["figures"]["cumulative_paid"],
        "900.00"
    );
    // A cap of 900.00 is reached in April already.
    let (_, doc) = audit_json(&[&ledger], &["--param", "revenue_share_cap=900"]);
    assert!(groups(&doc, "revenue_share_20_percent").is_empty());
    // A cap never reached: both months break the clause.
    let (_, doc) = audit_json(&[&ledger], &["--param", "revenue_share_cap=1000000"]);
    assert_eq!(
        groups(&doc, "revenue_share_20_percent"),
        pairs(&[("2026-04", "violation"), ("2026-05", "violation")])
    );
}

#[test]
fn params_come_from_proviso_yaml_and_flags_win() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = write(dir.path(), "ledger.csv", LEDGER);
    let config = write(
        dir.path(),
        "proviso.yaml",
        "params:\n  revenue_share_cap: \"900.00\"\n",
    );
    let cfg = config.display().to_string();
    let (_, doc) = audit_json(&[&ledger], &["--config", &cfg]);
    assert!(groups(&doc, "revenue_share_20_percent").is_empty());
    let (_, doc) = audit_json(
        &[&ledger],
        &["--config", &cfg, "--param", "revenue_share_cap=1000000"],
    );
    assert_eq!(groups(&doc, "revenue_share_20_percent").len(), 2);
}

#[test]
fn a_param_no_rule_declares_or_of_the_wrong_type_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = write(dir.path(), "ledger.csv", LEDGER);
    let l = ledger.display().to_string();
    for (param, says) in [
        (
            "revenue_share_capp=1000",
            [
                "proviso::cli::unknown_param",
                "did you mean `revenue_share_cap`?",
            ],
        ),
        (
            "revenue_share_cap=a lot",
            [
                "proviso::cli::bad_param_value",
                "parameter `revenue_share_cap` is money",
            ],
        ),
    ] {
        let out = proviso(&["audit", &l, "--rules", "rules", "--param", param]).run();
        assert_eq!(out.code, 2, "{param}");
        for s in says {
            assert!(out.stderr.contains(s), "{param}: {}", out.stderr);
        }
        assert!(out.stdout.is_empty(), "nothing is judged: {}", out.stdout);
    }
}

#[test]
fn a_malformed_booking_joins_no_sum_and_its_group_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = write(
        dir.path(),
        "ledger.csv",
        "date,entry,product,amount_usd\n\
         2026-03-02,product_revenue,gpt-5.5,1000.00\n\
         2026-03-10,share_to_microsoft,gpt-5.5,12;50\n\
         2026-03-11,share_to_microsoft,gpt-5.5,100.00\n\
         2026-03-12,refund,gpt-5.5,10.00\n\
         2026-13-01,product_revenue,gpt-5.5,10.00\n\
         2026-03-13,share_to_microsoft,gpt-5.5,\n\
         2026-03-14,-,gpt-5.5,10.00\n\
         ,product_revenue,gpt-5.5,5.00\n",
    );
    let (code, doc) = audit_json(&[&ledger], &[]);
    assert_eq!(code, 2, "malformed lines make the exit code 2");
    assert_eq!(doc["summary"]["malformed"], 6);
    let messages: Vec<&str> = doc["malformed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["message"].as_str().unwrap())
        .collect();
    assert!(
        messages
            .iter()
            .any(|m| m
                .contains("`amount_usd` is missing; a record where `entry exists` must have it")),
        "{messages:#?}"
    );
    assert!(
        messages.iter().any(|m| m.contains("`entry` is missing")),
        "{messages:#?}"
    );
    // (The sixth, a booking without a date, is counted, not shown: the
    // first five are. Alone, it is shown.)
    let undated = write(
        dir.path(),
        "undated.csv",
        "date,entry,product,amount_usd\n2026-03-02,product_revenue,gpt-5.5,1.00\n,product_revenue,gpt-5.5,5.00\n",
    );
    let (undated_code, undated_doc) = audit_json(&[&undated], &[]);
    assert_eq!(undated_code, 2);
    assert!(
        undated_doc["malformed"][0]["message"]
            .as_str()
            .unwrap()
            .contains(
                "`date` is missing; a record where `entry exists or amount_usd exists` must have it"
            ),
        "{:#}",
        undated_doc["malformed"]
    );
    let lines: Vec<u64> = doc["malformed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            d["labels"][0]["line"]
                .as_u64()
                .or(d["line"].as_u64())
                .unwrap_or(0)
        })
        .collect();
    assert_eq!(
        lines.len(),
        5,
        "the first five are shown: {:#}",
        doc["malformed"]
    );
    let codes: Vec<&str> = doc["malformed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        [
            "proviso::input::bad_field_value",
            "proviso::input::bad_field_value",
            "proviso::input::bad_timestamp",
            "proviso::input::bad_field_value",
            "proviso::input::bad_field_value",
        ]
    );
    let march = group(&doc, "revenue_share", "2026-03");
    assert_eq!(march["outcome"], "violation");
    assert_eq!(
        march["figures"]["paid"], "100.00",
        "the malformed amount is left out"
    );
    assert_eq!(march["computed_without"]["records"], 4);
    let left: Vec<u64> = march["computed_without"]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["line"].as_u64().unwrap())
        .collect();
    assert_eq!(left, [3, 5, 7, 8]);
    // `--allow-malformed` keeps the exit code to the findings.
    let (code, _) = audit_json(&[&ledger], &["--allow-malformed"]);
    assert_eq!(code, 1);
}

/// The audit's answer for aggregates must not depend on how the input
/// is cut or how many workers judge it.
#[test]
fn groups_do_not_depend_on_threads_or_chunk_size() {
    let dir = tempfile::tempdir().unwrap();
    // Many records over many groups, so that chunks cut groups apart.
    let mut ledger = String::from("date,entry,product,amount_usd\n");
    let mut gw = String::new();
    for i in 0..3000u32 {
        let month = 1 + (i % 12);
        let day = 1 + (i % 28);
        let year = if i % 2 == 0 { 2026 } else { 2025 };
        let entry = ["product_revenue", "share_to_microsoft", "share_to_openai"][(i % 3) as usize];
        ledger.push_str(&format!(
            "{year}-{month:02}-{day:02},{entry},p{},{}.{:02}\n",
            i % 7,
            i * 13 % 1000,
            i % 100
        ));
        // After the restructuring, so that products are new; the cloud
        // varies apart from the time, so that an earliest record ties
        // with others of another cloud (and only input order breaks it).
        // (Products m0 to m9 are never served from Azure.)
        let cloud = if i % 40 < 10 {
            ["aws", "gcp"][(i / 7 % 2) as usize]
        } else {
            ["azure", "aws", "gcp"][(i / 7 % 3) as usize]
        };
        gw.push_str(&format!(
            "{{\"timestamp\":\"2026-{:02}-{day:02}T{:02}:00:00Z\",\"host\":\"api.openai.com\",\"path\":\"/v1/responses\",\"model\":\"m{}\",\"cloud\":\"{cloud}\"}}\n",
            5 + i % 8,
            i % 3,
            i % 40
        ));
    }
    let ledger = write(dir.path(), "ledger.csv", &ledger);
    let gw = write(dir.path(), "gateway.jsonl", &gw);
    let mut rules = proviso::rules::load(&[PathBuf::from(common::REPO).join("rules")]).unwrap();
    assert!(
        rules
            .set_params(&[("revenue_share_cap".into(), "20000".into())])
            .is_empty()
    );
    let render = |threads: usize, chunk: usize| {
        let mut opts = proviso::audit::Options {
            threads,
            chunk_bytes: chunk,
            mmap: chunk > 4096,
            progress: false,
            ..Default::default()
        };
        let report = proviso::audit::audit(&rules, &[gw.clone(), ledger.clone()], &mut opts);
        proviso::report::audit_json::render(&report)
    };
    let reference = render(1, 4 << 20);
    let doc: Value = serde_json::from_str(&reference).unwrap();
    let judged: u64 = [
        "revenue_share",
        "revenue_share_20_percent",
        "first_ship_on_azure",
    ]
    .iter()
    .map(|c| clause(&doc, c)["aggregate"]["groups"].as_u64().unwrap())
    .sum();
    assert!(judged > 20, "the input makes many groups: {judged}");
    let breaches = clause(&doc, "first_ship_on_azure")["violations"]
        .as_u64()
        .unwrap();
    assert!(breaches > 5, "products shipped elsewhere first: {breaches}");
    for (threads, chunk) in [(4, 4 << 20), (3, 257), (2, 64), (1, 1000)] {
        assert_eq!(
            render(threads, chunk),
            reference,
            "{threads} threads, {chunk}-byte chunks"
        );
    }
}

#[test]
fn findings_get_one_line_per_breaching_group() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = write(dir.path(), "ledger.csv", LEDGER);
    let findings = dir.path().join("findings.jsonl");
    let l = ledger.display().to_string();
    let f = findings.display().to_string();
    let out = proviso(&["audit", &l, "--rules", "rules", "--findings", &f]).run();
    assert_eq!(out.code, 1, "{}", out.stderr);
    let text = std::fs::read_to_string(&findings).unwrap();
    let docs: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let groups: Vec<(String, String)> = docs
        .iter()
        .filter(|d| d.get("group").is_some())
        .map(|d| {
            (
                d["clause"].as_str().unwrap().to_string(),
                d["group"]["key"]["period"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        groups,
        pairs(&[
            ("revenue_share", "2026-03"),
            ("revenue_share_20_percent", "2026-04"),
            ("revenue_share_20_percent", "2026-05"),
        ])
    );
    let march = docs
        .iter()
        .find(|d| d["group"]["key"]["period"] == "2026-03")
        .unwrap();
    assert_eq!(march["outcome"], "violation");
    assert_eq!(march["group"]["figures"]["due"], "200.01");
    // The per-record clause's violation is there too, as before.
    assert!(docs.iter().any(|d| d["clause"] == "reciprocal_share_ended"));
    // And the human report renders the group on the line that decided it.
    assert!(out.stdout.contains("ledger.csv:5:1]"), "{}", out.stdout);
    assert!(
        out.stdout
            .contains("figures: revenue 1000.05, due 200.01, paid 200.00"),
        "{}",
        out.stdout
    );
}

/// A `per` key unique to every record cannot grow the audit without
/// bound: beyond the cap, records are counted, not judged, and the run
/// says so.
#[test]
fn groups_beyond_the_cap_are_counted_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let mut gw = String::new();
    for i in 0..50 {
        gw.push_str(&format!(
            "{{\"timestamp\":\"2026-05-{:02}T10:00:00Z\",\"model\":\"m{i}\",\"cloud\":\"aws\"}}\n",
            1 + i % 28
        ));
    }
    let gw = write(dir.path(), "gateway.jsonl", &gw);
    let rules = proviso::rules::load(&[PathBuf::from(common::REPO).join("rules")]).unwrap();
    let run = |threads: usize, chunk: usize| {
        let mut opts = proviso::audit::Options {
            threads,
            chunk_bytes: chunk,
            max_groups: 20,
            progress: false,
            ..Default::default()
        };
        proviso::audit::audit(&rules, std::slice::from_ref(&gw), &mut opts)
    };
    let report = run(1, 4 << 20);
    let fs = report
        .clauses
        .iter()
        .find(|c| c.clause == "first_ship_on_azure")
        .unwrap();
    assert_eq!(fs.aggregate.as_ref().unwrap().groups, 20);
    assert_eq!(
        fs.violations, 20,
        "every kept product is served from AWS only"
    );
    let warning = report
        .warnings
        .iter()
        .find(|d| d.code.as_str() == "proviso::audit::too_many_groups")
        .expect("the run says groups were dropped");
    assert!(
        warning.message.contains("30 records"),
        "{}",
        warning.message
    );
    // The same groups are kept whatever the cut of the input.
    let json = proviso::report::audit_json::render(&report);
    assert_eq!(proviso::report::audit_json::render(&run(3, 100)), json);
}

/// Every example of the bundled aggregate clauses, written out as a JSON
/// lines export and audited, gives the outcome the example expects: the
/// audit's compiled feeding of groups agrees with `proviso test`'s.
#[test]
fn the_bundled_examples_hold_in_an_audit_too() {
    use proviso::rules::ast::{Expectation, Lit};
    use proviso::value::Value as V;
    fn json(v: &V) -> Value {
        match v {
            V::Str(s) => Value::from(s.as_ref()),
            V::Num(n) => serde_json::from_str(&format!("{n}")).unwrap(),
            V::Bool(b) => Value::from(*b),
            V::Date(d) => Value::from(d.to_string()),
            V::Map(m) => m.iter().map(|(k, v)| (k.clone(), json(v))).collect(),
            V::List(items) => items.iter().map(json).collect(),
            other => panic!("no JSON for {other:?}"),
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let base = proviso::rules::load(&[PathBuf::from(common::REPO).join("rules")]).unwrap();
    let mut checked = 0;
    for terms in &base.terms {
        for clause in &terms.clauses {
            let Some(agg) = clause.aggregate.as_deref() else {
                continue;
            };
            for (n, ex) in agg.examples.iter().enumerate() {
                let text: String = ex
                    .records
                    .iter()
                    .map(|r| format!("{}\n", json(r)))
                    .collect();
                let file = write(dir.path(), &format!("{}-{n}.jsonl", clause.id.name), &text);
                let mut rules =
                    proviso::rules::load(&[PathBuf::from(common::REPO).join("rules")]).unwrap();
                let params: Vec<(String, String)> = ex
                    .params
                    .iter()
                    .map(|(id, v)| {
                        let text = match v {
                            Lit::Num(d) => d.to_string(),
                            Lit::Str(s) => s.to_string(),
                            Lit::Date(d) => d.to_string(),
                            Lit::Bool(b) => b.to_string(),
                        };
                        (id.name.clone(), text)
                    })
                    .collect();
                assert!(rules.set_params(&params).is_empty());
                // A draft's examples hold as if it were signed.
                if terms.is_proposed() {
                    rules = rules.signed(&terms.id.name, None).unwrap();
                }
                let mut opts = proviso::audit::Options {
                    progress: false,
                    ..Default::default()
                };
                let report = proviso::audit::audit(&rules, &[file], &mut opts);
                let stats = report
                    .clauses
                    .iter()
                    .find(|c| c.clause == clause.id.name && c.terms == terms.id.name)
                    .unwrap();
                let findings = &stats.aggregate.as_ref().unwrap().findings;
                for (expected, group, _) in &ex.expects {
                    let found: Vec<&str> = findings
                        .iter()
                        .filter(|g| group.as_ref().is_none_or(|k| g.label() == *k))
                        .map(|g| g.outcome)
                        .collect();
                    let actual = if found.contains(&"violation") {
                        Expectation::Violation
                    } else if found.contains(&"unresolved") {
                        Expectation::Unresolved
                    } else {
                        Expectation::NoViolation
                    };
                    assert_eq!(
                        actual, *expected,
                        "{} / {}: {group:?}",
                        clause.id.name, ex.title
                    );
                    checked += 1;
                }
            }
        }
    }
    assert!(
        checked >= 14,
        "every aggregate example was audited: {checked}"
    );
}

/// A chain of figures as long as a generated rule file makes it does not
/// overflow the stack when a group's evidence is gathered through it.
#[test]
fn a_long_chain_of_figures_is_judged() {
    let dir = tempfile::tempdir().unwrap();
    let chain: String = (1..50_000)
        .map(|i| format!("    let f{i} = f{} + count\n", i - 1))
        .collect();
    let rules = write(
        dir.path(),
        "chain.proviso",
        &format!(
            "terms t \"T\" effective 2026-01-01 {{\n  clause c \"C\" {{\n    per month\n    let f0 = count\n{chain}    require f49999 > 1000000\n  }}\n}}\n"
        ),
    );
    let ledger = write(
        dir.path(),
        "l.csv",
        "date,entry,product,amount_usd\n2026-03-01,product_revenue,x,1.00\n",
    );
    let out = proviso(&[
        "audit",
        &ledger.display().to_string(),
        "--rules",
        &rules.display().to_string(),
        "--format",
        "json",
    ])
    .run();
    assert_eq!(out.code, 1, "{}", out.stderr);
    let doc = out.json();
    // One record: every `count` is 1.
    assert_eq!(clause(&doc, "c")["groups"][0]["figures"]["f49999"], "50000");
}

/// A group key longer than the audit keeps (a megabyte `model`) is not
/// judged and is counted, so hostile keys cannot hold the input in memory.
#[test]
fn a_record_with_an_overlong_group_key_is_counted_not_kept() {
    let dir = tempfile::tempdir().unwrap();
    let long = "m".repeat(2000);
    let gw = write(
        dir.path(),
        "gateway.jsonl",
        &format!(
            "{{\"timestamp\":\"2026-05-01T10:00:00Z\",\"model\":\"{long}\",\"cloud\":\"aws\"}}\n\
             {{\"timestamp\":\"2026-05-01T10:00:00Z\",\"model\":\"o5\",\"cloud\":\"aws\"}}\n"
        ),
    );
    let (code, doc) = audit_json(&[&gw], &[]);
    assert_eq!(code, 1);
    assert_eq!(
        groups(&doc, "first_ship_on_azure"),
        pairs(&[("o5", "violation")])
    );
    let warnings: Vec<&str> = doc["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["message"].as_str().unwrap())
        .collect();
    assert!(
        warnings.iter().any(
            |w| w.contains("1 record whose group key is longer than 1024 bytes was not judged")
        ),
        "{warnings:?}"
    );
}
