//! Draft amendments (`proposed` terms) and `--what-if NAME[@DATE]` on
//! `check` and `audit`: a draft is never in force, its examples are judged
//! as if signed, and `--what-if` pairs the judgement by the terms in force
//! with the judgement as if the draft were signed, record by record.
//!
//! The bundled rule file's draft `apr_2027` (hypothetical: Azure
//! exclusivity reinstated from 2027-01-01 for stateless APIs and Frontier,
//! first-ship dropped) is the subject; the counts below were read off the
//! bundled fixtures and checked by hand against them (see each test).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed unwrap is a failed test"
)]

mod common;

use common::proviso;
use serde_json::Value;

/// `(clause, newly, no_longer, both)` of a `what_if` JSON object.
fn deltas(w: &Value) -> Vec<(String, u64, u64, u64)> {
    w["clauses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["clause"].as_str().unwrap().to_string(),
                c["newly"].as_u64().unwrap(),
                c["no_longer"].as_u64().unwrap(),
                c["both"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn row(c: &str, n: u64, l: u64, b: u64) -> (String, u64, u64, u64) {
    (c.to_string(), n, l, b)
}

#[test]
fn a_draft_is_never_in_force() {
    // On 2027-02-01 the draft would be in force if it were signed; it is
    // not, so the restructured terms still judge: the AWS completions
    // service is no violation (no API exclusivity since 2026-04-27).
    let out = proviso(&[
        "check",
        "fixtures/terraform/platform",
        "--rules",
        "rules",
        "--as-of",
        "2027-02-01",
        "--format",
        "json",
    ])
    .run();
    let doc = out.json();
    let clauses: Vec<String> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["clause"].as_str().unwrap().to_string())
        .collect();
    assert!(
        clauses
            .iter()
            .all(|c| c != "stateless_on_azure" && c != "frontier_on_azure"),
        "{clauses:?}"
    );
    let in_force = doc["summary"]["clauses_in_force"].as_array().unwrap();
    assert!(
        in_force.iter().all(|c| c["terms"] != "apr_2027"),
        "{in_force:?}"
    );
    assert!(doc.get("what_if").is_none());
}

#[test]
fn check_what_if_names_the_records_that_would_newly_break() {
    let out = proviso(&[
        "check",
        "fixtures/terraform/platform",
        "--rules",
        "rules",
        "--as-of",
        "2026-03-01",
        "--format",
        "json",
        "--what-if",
        "apr_2027",
    ])
    .run();
    // The exit code is the terms in force's (2026-03-01: violations).
    assert_eq!(out.code, 1, "{}", out.stderr);
    let doc = out.json();
    let w = &doc["what_if"];
    assert_eq!(w["draft"], "apr_2027");
    assert_eq!(w["supersedes"], "apr_2026");
    assert_eq!(w["effective"], "2027-01-01");
    assert_eq!(w["signed_on"], "2027-01-01");
    // Judged on the draft's first day, not on --as-of: before it, nothing
    // of the draft could differ.
    assert_eq!(w["judged_on"], "2027-01-01");
    assert_eq!(w["headline"], "3 records would newly break");
    // The ECS completions service (AWS, stateless) and the two Frontier
    // resources off Azure (the SageMaker marketplace endpoint, the Cloud
    // Run preview); the federal resources outside US regions break either
    // way.
    assert_eq!(
        deltas(w),
        vec![
            row("stateless_on_azure", 1, 0, 0),
            row("frontier_on_azure", 2, 0, 0),
            row("federal_in_us", 0, 0, 2),
        ]
    );
    let shown: Vec<&str> = w["clauses"][1]["newly_shown"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["what"].as_str().unwrap())
        .collect();
    assert_eq!(
        shown,
        [
            "aws_sagemaker_endpoint.frontier_marketplace",
            "google_cloud_run_v2_service.frontier_preview"
        ]
    );
    assert_eq!(
        w["clauses"][1]["newly_shown"][0]["at"],
        "fixtures/terraform/platform/aws.tf:70:10"
    );
}

#[test]
fn check_what_if_in_human_and_markdown() {
    let human = proviso(&[
        "check",
        "fixtures/terraform/platform",
        "--rules",
        "rules",
        "--as-of",
        "2026-03-01",
        "--what-if",
        "apr_2027",
    ])
    .run();
    assert!(
        human.stdout.contains(
            "what if: draft `apr_2027` \"Draft amendment: Azure exclusivity reinstated (hypothetical)\", superseding `apr_2026`, as if signed on 2027-01-01 (its effective date), both judged on 2027-01-01\n  3 records would newly break\n  stateless_on_azure: 1 newly, 0 no longer, 0 under both\n    newly breaks: module.completions.aws_ecs_service.this (fixtures/terraform/platform/modules/openai_service/main.tf:135:10): "
        ),
        "{}",
        human.stdout
    );
    let md = proviso(&[
        "check",
        "fixtures/terraform/platform",
        "--rules",
        "rules",
        "--as-of",
        "2026-03-01",
        "--format",
        "markdown",
        "--what-if",
        "apr_2027",
    ])
    .run();
    assert!(
        md.stdout
            .contains("#### What if draft `apr_2027` were signed\n\n"),
        "{}",
        md.stdout
    );
    assert!(md.stdout.contains(
        "| `frontier_on_azure` Frontier is hosted and distributed only from Azure | 2 | 0 | 0 |\n"
    ));
}

#[test]
fn audit_what_if_pairs_requests_and_groups_on_each_records_date() {
    // Signed on 2026-07-01 instead of 2027-01-01, so that the second half
    // of 2026 in the bundled gateway export falls under it.
    let out = proviso(&[
        "audit",
        "fixtures/aggregate/gateway-2026-h1.jsonl.gz",
        "fixtures/aggregate/gateway-2026-h2.jsonl.gz",
        "fixtures/aggregate/ledger-fy26.csv",
        "fixtures/aggregate/ledger-fy27.csv",
        "--rules",
        "rules",
        "--param",
        "revenue_share_cap=1000000000",
        "--format",
        "json",
        "--what-if",
        "apr_2027@2026-07-01",
    ])
    .run();
    let doc = out.json();
    let w = &doc["what_if"];
    assert_eq!(w["signed_on"], "2026-07-01");
    assert_eq!(w["effective"], "2027-01-01");
    assert_eq!(w["judged_on"], Value::Null);
    // Every stateless request served off Azure from July on newly breaks
    // (2,088 of them); the 161 of October 2025 – April 2026 break under
    // both. First-ship is dropped by the draft: the two products first
    // served elsewhere after July no longer break it, the four before do.
    assert_eq!(
        deltas(w),
        vec![
            row("stateless_on_azure", 2088, 0, 161),
            row("revenue_share", 0, 0, 4),
            row("revenue_share_20_percent", 0, 0, 5),
            row("reciprocal_share_ended", 0, 0, 2),
            row("first_ship_on_azure", 0, 2, 4),
        ]
    );
    assert_eq!(
        w["headline"],
        "2088 requests would newly break; 2 groups would no longer break"
    );
    let gone: Vec<&str> = w["clauses"][4]["no_longer_shown"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["what"].as_str().unwrap())
        .collect();
    assert_eq!(gone, ["embedding-4", "gpt-realtime-2"]);
    // The newly breaking requests are named by input and line.
    assert_eq!(
        w["clauses"][0]["newly_shown"][0]["what"],
        "fixtures/aggregate/gateway-2026-h2.jsonl.gz:1"
    );
    // The report itself is today's: the draft's violations are not in it.
    let stateless: u64 = doc["clauses"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["clause"] == "stateless_on_azure")
        .map(|c| c["violations"].as_u64().unwrap())
        .sum();
    assert_eq!(stateless, 161);
}

#[test]
fn what_if_refuses_what_it_cannot_judge() {
    let run = |extra: &[&str]| {
        proviso(&["check", "fixtures/terraform/platform", "--rules", "rules"])
            .args(extra)
            .run()
    };
    let unknown = run(&["--what-if", "apr_2072"]);
    assert_eq!(unknown.code, 2);
    assert!(unknown.stderr.contains("proviso::cli::unknown_draft"));
    assert!(unknown.stderr.contains("did you mean `apr_2027`?"));
    let signed = run(&["--what-if", "apr_2026"]);
    assert_eq!(signed.code, 2);
    assert!(
        signed
            .stderr
            .contains("terms `apr_2026` (given with `--what-if`) are not a draft")
    );
    // Signed before the terms it supersedes start, the draft's clauses
    // would be in force beside October 2025's: an error, as in a file.
    let early = run(&["--what-if", "apr_2027@2026-03-01"]);
    assert_eq!(early.code, 2);
    assert!(
        early.stderr.contains(
            "clause `stateless_on_azure` is in force twice during [2026-03-01, 2026-04-27)"
        ),
        "{}",
        early.stderr
    );
    let bad_date = run(&["--what-if", "apr_2027@2026-02-30"]);
    assert_eq!(bad_date.code, 2);
    let stdin = proviso(&["audit", "-", "--rules", "rules", "--what-if", "apr_2027"])
        .stdin("{}\n")
        .run();
    assert_eq!(stdin.code, 2);
    assert!(stdin.stderr.contains("proviso::cli::what_if_stdin"));
}

#[test]
fn a_drafts_examples_are_judged_as_if_signed_and_fmt_keeps_proposed() {
    let out = proviso(&["test", "rules"]).run();
    assert_eq!(out.code, 0, "{}", out.stdout);
    assert!(out.stdout.contains("passed, 0 failed"), "{}", out.stdout);
    let text = "terms d \"Draft\" effective 2027-01-01 supersedes old proposed {\n}\n";
    let file = proviso::source::SourceFile::new("d.proviso".to_string(), text.to_string());
    let formatted = proviso::rules::format::format(&file).unwrap();
    assert_eq!(
        formatted,
        "terms d \"Draft\" proposed effective 2027-01-01 supersedes old {\n}\n"
    );
}

#[test]
fn explain_shows_drafts_as_proposed_and_what_if_diffs_one_against_what_it_supersedes() {
    let plain = proviso(&["explain", "rules"]).run();
    assert!(plain.stdout.contains(
        "- apr_2027: Draft amendment: Azure exclusivity reinstated (hypothetical) (proposed, not in force; from 1 January 2027 if signed; supersedes apr_2026)\n"
    ));
    assert!(plain.stdout.contains(
        "  Proposed, not in force (draft `apr_2027`); if it were signed, from 1 January 2027: every Frontier resource must be served from Azure, unless it is training compute.\n"
    ));
    assert!(
        plain
            .stdout
            .contains("; and 6 clauses of drafts, not in force.\n")
    );
    let diff = proviso(&["explain", "rules", "--what-if", "apr_2027"]).run();
    assert_eq!(diff.code, 0, "{}", diff.stderr);
    assert!(diff.stdout.starts_with(
        "Microsoft–OpenAI partnership, as if draft `apr_2027` were signed on 1 January 2027\n"
    ));
    assert!(
        diff.stdout.contains(
            "What changes between 31 December 2026 and 1 January 2027\n--------------------------------------------------------\n\n- starts: frontier_on_azure (apr_2027): Frontier is hosted and distributed only from Azure\n- starts: stateless_on_azure (apr_2027): Stateless OpenAI APIs are served only from Azure\n- ends: first_ship_on_azure (apr_2026): New OpenAI products ship first on Azure\n"
        ),
        "{}",
        diff.stdout
    );
}
