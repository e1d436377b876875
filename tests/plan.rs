//! Terraform plan JSON (`terraform show -json`) as input: records come from
//! `planned_values`, unknown-after-apply values stay unknown, and findings
//! point at the plan's resource address and, when the configuration is
//! beside the plan, at the `.tf` source too.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed unwrap is a failed test"
)]

mod common;

use common::{Output, proviso};
use serde_json::Value;

/// `proviso check` of `plan` on 2026-03-01, in `format`.
fn check(plan: &str, format: &str) -> Output {
    proviso(&[
        "check",
        plan,
        "--rules",
        "rules",
        "--as-of",
        "2026-03-01",
        "--no-config",
        "--format",
        format,
    ])
    .run()
}

fn findings(doc: &Value) -> Vec<(String, String, String, String)> {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["clause"].as_str().unwrap().to_string(),
                f["outcome"].as_str().unwrap().to_string(),
                f["address"].as_str().unwrap().to_string(),
                f["file"]
                    .as_str()
                    .unwrap()
                    .rsplit("plan/")
                    .next()
                    .unwrap()
                    .to_string(),
            )
        })
        .collect()
}

#[test]
fn a_plan_with_its_configuration_beside_it() {
    let Output {
        code, stdout: out, ..
    } = check("fixtures/terraform/plan/with_config/plan.json", "json");
    assert_eq!(code, 1);
    let doc: Value = serde_json::from_str(&out).unwrap();
    let got = findings(&doc);
    let want = [
        (
            "stateless_on_azure",
            "violation",
            "aws_ecs_service.completions",
            "with_config/main.tf",
        ),
        (
            "frontier_on_azure",
            "unresolved",
            "aws_ecs_service.pending",
            "with_config/main.tf",
        ),
        (
            "stateless_on_azure",
            "unresolved",
            "aws_ecs_service.pending",
            "with_config/main.tf",
        ),
        (
            "federal_in_us",
            "violation",
            "module.storage.azurerm_storage_account.records[0]",
            "with_config/modules/storage/main.tf",
        ),
        (
            "federal_in_us",
            "violation",
            "module.storage.azurerm_storage_account.records[1]",
            "with_config/modules/storage/main.tf",
        ),
    ];
    let want: Vec<(String, String, String, String)> = want
        .iter()
        .map(|(a, b, c, d)| (a.to_string(), b.to_string(), c.to_string(), d.to_string()))
        .collect();
    assert_eq!(got, want);
    // Every finding also names where the resource is in the plan.
    for f in doc["findings"].as_array().unwrap() {
        assert!(
            f["record"]["file"]
                .as_str()
                .unwrap()
                .ends_with("with_config/plan.json")
        );
    }
    assert_eq!(doc["summary"]["records"], 5);
    let Output { stdout: human, .. } =
        check("fixtures/terraform/plan/with_config/plan.json", "human");
    insta::assert_snapshot!(human);
}

#[test]
fn a_plan_alone_points_at_its_resource_addresses() {
    let Output {
        code, stdout: out, ..
    } = check("fixtures/terraform/plan/plan_only/plan.json", "json");
    assert_eq!(code, 1);
    let doc: Value = serde_json::from_str(&out).unwrap();
    for f in doc["findings"].as_array().unwrap() {
        assert!(f["file"].as_str().unwrap().ends_with("plan_only/plan.json"));
    }
    let first = &doc["findings"][0];
    assert_eq!(first["address"], "aws_ecs_service.completions");
    assert_eq!(
        first["line"], 34,
        "the line of its \"address\" in plan.json"
    );
}

#[test]
fn a_file_that_is_not_a_plan_is_reported_not_fatal() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("plan.json");
    std::fs::write(&p, "{\n  \"format_version\": \"2.0\"\n}\n").unwrap();
    let out = proviso(&[
        "check",
        p.to_str().unwrap(),
        "--rules",
        "rules",
        "--no-config",
        "--format",
        "json",
    ])
    .run();
    assert_eq!(out.code, 2);
    let doc: Value = out.json();
    assert_eq!(
        doc["malformed"][0]["code"],
        "proviso::input::malformed_plan"
    );
    assert_eq!(doc["malformed"][0]["line"], 2);
}
