//! The `proviso` binary end to end: exit code, stdout and stderr are
//! snapshotted for the bundled example on both sides of 2026-04-27.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed unwrap is a failed test"
)]

mod common;

use common::proviso;
use std::collections::BTreeSet;

const PLATFORM: &str = "fixtures/terraform/platform";

#[test]
fn check_the_example_before_the_restructuring() {
    let run = proviso(&[
        "check",
        PLATFORM,
        "--rules",
        "rules",
        "--as-of",
        "2026-03-01",
    ])
    .run();
    assert_eq!(run.code, 1);
    insta::assert_snapshot!(run.snapshot());
}

#[test]
fn check_the_example_after_the_restructuring() {
    let run = proviso(&[
        "check",
        PLATFORM,
        "--rules",
        "rules",
        "--as-of",
        "2026-05-01",
    ])
    .run();
    // Only the federal residency warnings remain: below the default --fail-on error.
    assert_eq!(run.code, 0);
    insta::assert_snapshot!(run.snapshot());
}

#[test]
fn check_the_example_as_json() {
    let run = proviso(&[
        "check",
        PLATFORM,
        "--rules",
        "rules",
        "--as-of",
        "2026-03-01",
        "--format",
        "json",
    ])
    .run();
    assert_eq!(run.code, 1);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["summary"]["as_of"], "2026-03-01");
    insta::assert_snapshot!(run.stdout);
}

fn findings(date: &str) -> BTreeSet<(String, String, String)> {
    let run = proviso(&[
        "check", PLATFORM, "--rules", "rules", "--as-of", date, "--format", "json",
    ])
    .run();
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["clause"].as_str().unwrap().to_string(),
                f["address"].as_str().unwrap().to_string(),
                f["outcome"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn the_two_dates_differ_exactly_by_the_clauses_that_ended_on_2026_04_27() {
    let rules = proviso::rules::load(&["rules".into()]).unwrap();
    let ended: BTreeSet<String> = rules
        .clauses()
        .filter(|(t, c)| {
            !c.is_manual()
                && !c.is_aggregate()
                && rules
                    .terms_in_force_interval(t)
                    .and_then(|iv| iv.until)
                    .map(|u| u.to_string())
                    == Some("2026-04-27".into())
        })
        .map(|(_, c)| c.id.name.clone())
        .collect();
    assert_eq!(
        ended,
        [
            "frontier_on_azure",
            "frontier_third_party_on_aws",
            "stateless_on_azure"
        ]
        .map(String::from)
        .into()
    );
    let before = findings("2026-03-01");
    let after = findings("2026-05-01");
    assert!(
        after.is_subset(&before),
        "nothing new may fire after the restructuring"
    );
    let gone: BTreeSet<String> = before
        .difference(&after)
        .map(|(c, _, _)| c.clone())
        .collect();
    assert_eq!(gone, ended);
    assert!(after.iter().all(|(c, _, _)| !ended.contains(c)));
}

#[test]
fn as_of_defaults_to_today_and_is_always_printed() {
    let run = proviso(&["check", PLATFORM, "--rules", "rules", "--format", "json"]).run();
    let today = proviso::date::Date::today().to_string();
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["summary"]["as_of"], today.as_str());
    let human = proviso(&["check", PLATFORM, "--rules", "rules"]).run();
    assert!(
        human.stdout.contains(&format!("as of {today}")),
        "{}",
        human.stdout
    );
}

#[test]
fn fail_on_controls_the_exit_code() {
    let args = [
        "check",
        PLATFORM,
        "--rules",
        "rules",
        "--as-of",
        "2026-05-01",
        "--format",
        "json",
    ];
    assert_eq!(proviso(&args).run().code, 0);
    assert_eq!(
        proviso(&[&args[..], &["--fail-on", "warning"]].concat())
            .run()
            .code,
        1
    );
    let before = [
        "check",
        PLATFORM,
        "--rules",
        "rules",
        "--as-of",
        "2026-03-01",
        "--format",
        "json",
        "--fail-on",
        "never",
    ];
    assert_eq!(proviso(&before).run().code, 0);
}

#[test]
fn an_unparsable_tf_file_is_reported_counted_and_the_rest_still_checked() {
    let run = proviso(&[
        "check",
        "fixtures/terraform/cases/unparsable_tf",
        "--rules",
        "rules",
        "--as-of",
        "2026-03-01",
    ])
    .run();
    assert_eq!(run.code, 2);
    insta::assert_snapshot!(run.snapshot());
    let allowed = proviso(&[
        "check",
        "fixtures/terraform/cases/unparsable_tf",
        "--rules",
        "rules",
        "--as-of",
        "2026-03-01",
        "--allow-malformed",
    ])
    .run();
    assert_eq!(
        allowed.code, 1,
        "with --allow-malformed the violation decides"
    );
}

#[test]
fn a_rule_file_with_errors_stops_the_run_with_all_its_errors() {
    let run = proviso(&[
        "check",
        PLATFORM,
        "--rules",
        "fixtures/rules/invalid/until_before_effective.proviso",
        "--as-of",
        "2026-03-01",
    ])
    .run();
    assert_eq!(run.code, 2);
    assert!(run.stdout.is_empty());
    insta::assert_snapshot!(run.snapshot());
}

#[test]
fn proviso_test_runs_the_examples_of_the_bundled_rules() {
    let run = proviso(&["test", "rules"]).run();
    assert_eq!(run.code, 0, "{}", run.stdout);
    insta::assert_snapshot!(run.snapshot());
}

#[test]
fn a_failing_example_is_a_diagnostic_on_the_example() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("wrong.proviso");
    std::fs::write(
        &file,
        r#"agreement demo
terms t "Terms" effective 2026-01-01 until 2026-04-27 {
  clause on_azure "Serve from Azure" {
    require cloud == "azure"
    example "an AWS service" on 2026-03-01 {
      given { cloud: "aws" }
      expect no violation
    }
    example "after the end" on 2026-05-01 {
      given { cloud: "aws" }
      expect violation
    }
  }
}
"#,
    )
    .unwrap();
    let run = proviso(&["test", file.to_str().unwrap()]).run();
    assert_eq!(run.code, 1);
    let stdout = run
        .stdout
        .replace(&dir.path().display().to_string(), "<tmp>");
    insta::assert_snapshot!(format!("exit code: {}\n{stdout}", run.code));
}

#[test]
fn bad_flags_exit_2() {
    let run = proviso(&[
        "check",
        PLATFORM,
        "--rules",
        "rules",
        "--as-of",
        "2026-02-30",
    ])
    .run();
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("February 2026 has 28 days"),
        "{}",
        run.stderr
    );
    assert_eq!(
        proviso(&["check", PLATFORM]).run().code,
        2,
        "--rules is required"
    );
}
