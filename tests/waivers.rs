//! Waivers end to end, on fixtures that state their expectations inline
//! (`fixtures/terraform/waivers/<case>/main.tf`):
//! `# expect: <clause> <outcome> <address>` for findings that still count,
//! `# expect-waived: <clause> <address>` for findings a waiver excuses,
//! `# expect-waiver-finding: <code>` and `# expect-malformed: <code>`.
//! The human report of each case is snapshotted.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed unwrap is a failed test"
)]

mod common;

use common::{Output, header_values, proviso};
use std::collections::BTreeSet;

fn set(v: &serde_json::Value, f: impl Fn(&serde_json::Value) -> String) -> BTreeSet<String> {
    v.as_array().unwrap().iter().map(f).collect()
}

#[test]
fn every_waiver_case_gives_what_it_declares() {
    insta::glob!("../fixtures/terraform/waivers", "*/main.tf", |main| {
        let case = main.parent().unwrap();
        let text = std::fs::read_to_string(main).unwrap();
        let as_of = &header_values(&text, "as-of:")[0];
        let dir = case.to_str().unwrap();
        let Output { stdout: json, .. } = proviso(&[
            "check", dir, "--rules", "rules", "--as-of", as_of, "--format", "json",
        ])
        .run();
        let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
        let expected: BTreeSet<String> = header_values(&text, "expect:")
            .into_iter()
            .filter(|e| e != "none")
            .collect();
        let actual = set(&doc["findings"], |f| {
            format!(
                "{} {} {}",
                f["clause"].as_str().unwrap(),
                f["outcome"].as_str().unwrap(),
                f["address"].as_str().unwrap()
            )
        });
        assert_eq!(actual, expected, "findings of {}", case.display());
        let waived = set(&doc["waived"], |f| {
            format!(
                "{} {}",
                f["clause"].as_str().unwrap(),
                f["address"].as_str().unwrap()
            )
        });
        assert_eq!(
            waived,
            header_values(&text, "expect-waived:").into_iter().collect(),
            "waived in {}",
            case.display()
        );
        let waiver_findings = set(&doc["waiver_findings"], |d| {
            d["code"].as_str().unwrap().to_string()
        });
        assert_eq!(
            waiver_findings,
            header_values(&text, "expect-waiver-finding:")
                .into_iter()
                .collect()
        );
        let malformed = set(&doc["malformed"], |d| {
            d["code"].as_str().unwrap().to_string()
        });
        assert_eq!(
            malformed,
            header_values(&text, "expect-malformed:")
                .into_iter()
                .collect()
        );
        // Every waiver in force is listed, used or not.
        assert_eq!(
            doc["summary"]["waived"].as_u64().unwrap() as usize,
            waived.len()
        );

        let Output {
            code,
            stdout,
            stderr,
            ..
        } = proviso(&["check", dir, "--rules", "rules", "--as-of", as_of]).run();
        insta::assert_snapshot!(format!(
            "exit code: {code}\n--- stdout ---\n{stdout}--- stderr ---\n{stderr}"
        ));
    });
}

#[test]
fn no_waivers_ignores_them_all() {
    let dir = "fixtures/terraform/waivers/waived_block";
    let Output {
        code, stdout: json, ..
    } = proviso(&[
        "check",
        dir,
        "--rules",
        "rules",
        "--as-of",
        "2026-03-01",
        "--format",
        "json",
        "--no-waivers",
    ])
    .run();
    assert_eq!(code, 1);
    let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(doc["findings"].as_array().unwrap().len(), 1);
    assert!(doc["waived"].as_array().unwrap().is_empty());
    assert!(doc["waivers"].as_array().unwrap().is_empty());
    // And a malformed waiver is not an error when waivers are off.
    let Output { code, .. } = proviso(&[
        "check",
        "fixtures/terraform/waivers/missing_reason",
        "--rules",
        "rules",
        "--as-of",
        "2026-03-01",
        "--no-waivers",
    ])
    .run();
    assert_eq!(code, 1);
}

#[test]
fn a_waived_finding_does_not_fail_the_run_and_an_expired_one_does() {
    let run = |case: &str| {
        proviso(&[
            "check",
            &format!("fixtures/terraform/waivers/{case}"),
            "--rules",
            "rules",
            "--as-of",
            "2026-03-01",
        ])
        .run()
        .code
    };
    assert_eq!(run("waived_block"), 0);
    assert_eq!(run("expired"), 1);
    // A waiver that names no clause is unreadable input: exit 2.
    assert_eq!(run("unknown_clause"), 2);
}

#[test]
fn the_waiver_expires_on_its_until_date() {
    // `until=2026-09-30` is half-open like dates in the rule language:
    // in force on 2026-09-29, expired on 2026-09-30.
    let dir = "fixtures/terraform/waivers/waived_block";
    let on = |date: &str| -> serde_json::Value {
        serde_json::from_str(
            &proviso(&[
                "check", dir, "--rules", "rules", "--as-of", date, "--format", "json",
            ])
            .run()
            .stdout,
        )
        .unwrap()
    };
    let before = on("2026-04-26");
    assert_eq!(before["waived"].as_array().unwrap().len(), 1);
    let last_day = on("2026-09-29");
    assert_eq!(last_day["waivers"].as_array().unwrap().len(), 1);
    assert!(last_day["waiver_findings"].as_array().unwrap().is_empty());
    let expired = on("2026-09-30");
    assert!(expired["waivers"].as_array().unwrap().is_empty());
    assert_eq!(
        expired["waiver_findings"][0]["code"],
        "proviso::waiver::expired"
    );
}

#[test]
fn a_policy_can_forbid_waivers_or_demand_an_expiry() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("proviso.yaml");
    std::fs::write(&cfg, "waivers:\n  allow: false\n").unwrap();
    let out = proviso(&[
        "check",
        "fixtures/terraform/waivers/waived_block",
        "--rules",
        "rules",
        "--as-of",
        "2026-03-01",
        "--format",
        "json",
        "--config",
    ])
    .arg(&cfg)
    .run();
    assert_eq!(out.code, 1);
    let doc = out.json();
    assert_eq!(
        doc["findings"].as_array().unwrap().len(),
        1,
        "the waiver must not excuse"
    );
    assert_eq!(
        doc["waiver_findings"][0]["code"],
        "proviso::waiver::not_allowed"
    );

    std::fs::write(&cfg, "waivers:\n  require_until: true\n").unwrap();
    let out = proviso(&[
        "check",
        "fixtures/terraform/waivers/two_clauses_one_waived",
        "--rules",
        "rules",
        "--as-of",
        "2026-03-01",
        "--format",
        "json",
        "--config",
    ])
    .arg(&cfg)
    .run();
    let doc = out.json();
    assert_eq!(
        doc["waiver_findings"][0]["code"],
        "proviso::waiver::no_expiry"
    );
}
