//! The CI report formats: SARIF validated against the official SARIF 2.1.0
//! schema (`schemas/sarif-schema-2.1.0.json`), and JUnit, GitHub
//! annotations and Markdown snapshotted on the bundled example.

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

const PLATFORM: &str = "fixtures/terraform/platform";

fn sarif_of(dir: &str, as_of: &str, extra: &[&str]) -> Value {
    let mut args = vec![
        "check", dir, "--rules", "rules", "--as-of", as_of, "--format", "sarif",
    ];
    args.extend_from_slice(extra);
    let Output { stdout: out, .. } = proviso(&args).run();
    let doc: Value = serde_json::from_str(&out).unwrap();
    assert_valid_sarif(&doc);
    doc
}

fn assert_valid_sarif(doc: &Value) {
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string("schemas/sarif-schema-2.1.0.json").unwrap())
            .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "SARIF does not match the schema:\n{}",
        errors.join("\n")
    );
    // What GitHub code scanning also needs: every result names a known rule.
    let run = &doc["runs"][0];
    let ids: Vec<&str> = run["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    for r in run["results"].as_array().unwrap() {
        let id = r["ruleId"].as_str().unwrap();
        assert!(ids.contains(&id), "result names unknown rule {id}");
        assert_eq!(ids[r["ruleIndex"].as_u64().unwrap() as usize], id);
    }
}

#[test]
fn the_schema_test_rejects_what_it_should() {
    // Guards the guard: a document the schema forbids must fail validation.
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string("schemas/sarif-schema-2.1.0.json").unwrap())
            .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let bad = serde_json::json!({ "version": "2.1.0", "runs": [{ "results": [{ "level": "fatal", "message": {"text": "x"} }] }] });
    assert!(!validator.is_valid(&bad));
}

#[test]
fn sarif_of_the_example_is_valid_and_carries_levels_rules_and_locations() {
    let doc = sarif_of(PLATFORM, "2026-03-01", &[]);
    let run = &doc["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let rule = |id: &str| rules.iter().find(|r| r["id"] == id).unwrap();
    // Severity is the rule's default level; the citation is its help.
    assert_eq!(
        rule("stateless_on_azure")["defaultConfiguration"]["level"],
        "error"
    );
    assert_eq!(
        rule("federal_in_us")["defaultConfiguration"]["level"],
        "warning"
    );
    assert!(
        rule("stateless_on_azure")["help"]["text"]
            .as_str()
            .unwrap()
            .contains("Azure remains the exclusive cloud provider")
    );
    assert_eq!(
        rule("stateless_on_azure")["shortDescription"]["text"],
        "Stateless OpenAI APIs are served only from Azure"
    );

    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 6);
    let levels: Vec<(&str, &str)> = results
        .iter()
        .map(|r| (r["ruleId"].as_str().unwrap(), r["level"].as_str().unwrap()))
        .collect();
    // Not everything is an error (Checkov #2848): warnings stay warnings,
    // and the unresolved federal finding (a warning clause) is a note.
    assert_eq!(levels.iter().filter(|(_, l)| *l == "error").count(), 3);
    assert_eq!(levels.iter().filter(|(_, l)| *l == "warning").count(), 2);
    assert_eq!(levels.iter().filter(|(_, l)| *l == "note").count(), 1);
    for r in results {
        let loc = &r["locations"][0]["physicalLocation"];
        let uri = loc["artifactLocation"]["uri"].as_str().unwrap();
        assert!(
            uri.starts_with("fixtures/terraform/platform/"),
            "relative uri: {uri}"
        );
        for k in ["startLine", "startColumn", "endLine", "endColumn"] {
            assert!(loc["region"][k].as_u64().unwrap() >= 1, "{k}");
        }
        assert_eq!(
            r["partialFingerprints"]["provisoFingerprint/v1"]
                .as_str()
                .unwrap()
                .len(),
            16
        );
    }
    let ecs = results
        .iter()
        .find(|r| r["ruleId"] == "stateless_on_azure")
        .unwrap();
    assert_eq!(
        ecs["locations"][0]["physicalLocation"]["region"]["startLine"],
        135
    );
    assert_eq!(
        ecs["locations"][0]["logicalLocations"][0]["fullyQualifiedName"],
        "module.completions.aws_ecs_service.this"
    );
}

#[test]
fn sarif_lists_waived_findings_as_suppressions() {
    let doc = sarif_of("fixtures/terraform/waivers/waived_block", "2026-03-01", &[]);
    let r = &doc["runs"][0]["results"][0];
    let s = &r["suppressions"][0];
    assert_eq!(s["kind"], "inSource");
    assert_eq!(s["status"], "accepted");
    assert_eq!(s["justification"], "moving to Azure in Q3, see MIG-112");
    assert_eq!(s["properties"]["until"], "2026-09-30");
    assert_eq!(s["location"]["physicalLocation"]["region"]["startLine"], 11);
}

#[test]
fn sarif_reports_expired_waivers_and_unreadable_inputs() {
    let doc = sarif_of("fixtures/terraform/waivers/expired", "2026-03-01", &[]);
    let results = doc["runs"][0]["results"].as_array().unwrap();
    assert!(
        results
            .iter()
            .any(|r| r["ruleId"] == "proviso::waiver::expired" && r["level"] == "error")
    );
    let doc = sarif_of("fixtures/terraform/cases/unparsable_tf", "2026-03-01", &[]);
    let inv = &doc["runs"][0]["invocations"][0];
    assert_eq!(inv["executionSuccessful"], false);
    assert_eq!(
        inv["toolExecutionNotifications"][0]["descriptor"]["id"],
        "proviso::input::malformed_terraform"
    );
}

#[test]
fn junit_github_and_markdown_of_the_example() {
    for format in ["junit", "github", "markdown"] {
        let Output {
            code, stdout: out, ..
        } = proviso(&[
            "check",
            PLATFORM,
            "--rules",
            "rules",
            "--as-of",
            "2026-03-01",
            "--format",
            format,
        ])
        .run();
        assert_eq!(code, 1);
        insta::assert_snapshot!(format!("ci_outputs_{format}"), out);
    }
}

#[test]
fn several_formats_in_one_run_each_to_its_own_destination() {
    let dir = tempfile::tempdir().unwrap();
    let sarif = dir.path().join("out.sarif");
    let md = dir.path().join("comment.md");
    let Output { code, stdout, .. } = proviso(&[
        "check",
        PLATFORM,
        "--rules",
        "rules",
        "--as-of",
        "2026-03-01",
        "--format",
        &format!("sarif={}", sarif.display()),
        "--format",
        &format!("markdown={}", md.display()),
        "--format",
        "human",
    ])
    .run();
    assert_eq!(code, 1);
    assert!(stdout.contains("proviso check as of 2026-03-01"));
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&sarif).unwrap()).unwrap();
    assert_valid_sarif(&doc);
    assert!(
        std::fs::read_to_string(&md)
            .unwrap()
            .starts_with("### ❌ proviso check")
    );

    // Two formats cannot share standard output.
    let out = proviso(&[
        "check",
        PLATFORM,
        "--rules",
        "rules",
        "--format",
        "sarif",
        "--format",
        "json",
        "--no-config",
    ])
    .run();
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("proviso::cli::formats_collide"));
}

/// A module call that is neither local nor downloaded is listed in every
/// output format, once per call block however many instances it has, and
/// counted in the summary: never a silent "not applicable".
#[test]
fn modules_not_scanned_are_listed_in_every_format() {
    let case = "fixtures/terraform/cases/remote_module_not_downloaded";
    let doc = sarif_of(case, "2026-03-01", &[]);
    let notes = doc["runs"][0]["invocations"][0]["toolExecutionNotifications"]
        .as_array()
        .unwrap();
    let texts: Vec<&str> = notes
        .iter()
        .filter(|n| n["descriptor"]["id"] == "proviso::input::remote_module")
        .map(|n| n["message"]["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts.len(), 2, "{texts:?}");
    assert!(
        texts[1].contains("`module.network` (3 instances)"),
        "{}",
        texts[1]
    );

    let Output { stdout: json, .. } = proviso(&[
        "check",
        case,
        "--rules",
        "rules",
        "--as-of",
        "2026-03-01",
        "--format",
        "json",
    ])
    .run();
    let json: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(json["summary"]["modules_not_scanned"], 2);
    assert_eq!(
        json["modules_not_scanned"][0]["address"],
        "module.completions"
    );
    assert_eq!(json["modules_not_scanned"][1]["instances"], 3);

    for (format, wanted) in [
        ("junit", "classname=\"proviso modules not scanned\""),
        (
            "github",
            "::notice file=fixtures/terraform/cases/remote_module_not_downloaded/main.tf,line=17",
        ),
        ("markdown", "**Modules not scanned**"),
        ("human", "2 module calls not scanned"),
    ] {
        let Output { stdout: out, .. } = proviso(&[
            "check",
            case,
            "--rules",
            "rules",
            "--as-of",
            "2026-03-01",
            "--format",
            format,
        ])
        .run();
        assert!(out.contains(wanted), "{format}:\n{out}");
        assert!(
            out.contains("module.network") || format == "human",
            "{format}:\n{out}"
        );
    }
}

/// Findings of one root cause (one span, one clause, one reason) are one
/// diagnostic in human and Markdown output that lists the records; JSON
/// keeps one entry per record, each with the group's id.
#[test]
fn findings_of_one_cause_are_grouped_for_people_and_kept_apart_for_machines() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("main.tf"),
        r#"provider "aws" {
  region = "us-east-1"
}

resource "aws_ecs_service" "api" {
  for_each = toset(["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"])
  name     = each.key
  tags     = { "model-vendor" = "openai", "api-mode" = "stateless" }
}
"#,
    )
    .unwrap();
    let path = dir.path().to_str().unwrap();
    let args = |format| {
        vec![
            "check",
            path,
            "--rules",
            "rules",
            "--as-of",
            "2026-03-01",
            "--format",
            format,
        ]
    };
    let Output {
        code,
        stdout: human,
        ..
    } = proviso(&args("human")).run();
    assert_eq!(code, 1);
    assert_eq!(
        human.matches("proviso::clause::stateless_on_azure").count(),
        1,
        "{human}"
    );
    assert!(human.contains("12 records share this cause"), "{human}");
    assert!(human.contains("and 1 more"), "{human}");
    assert!(human.contains("12 violations"), "{human}");
    let Output { stdout: md, .. } = proviso(&args("markdown")).run();
    assert_eq!(md.matches("| ❌ error |").count(), 1, "{md}");
    let Output { stdout: json, .. } = proviso(&args("json")).run();
    let json: Value = serde_json::from_str(&json).unwrap();
    let findings = json["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 12);
    assert!(findings.iter().all(|f| f["group"] == findings[0]["group"]));
}
