//! Baselines (`--write-baseline`, `--baseline`) and diff-only mode
//! (`--changed-since`), on small Terraform trees built in a temporary
//! directory (a git repository for the diff-only tests).

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
use std::path::Path;
use std::process::Command;

fn rules() -> String {
    std::fs::canonicalize("rules")
        .unwrap()
        .display()
        .to_string()
}

/// `proviso check .` in `dir` with the bundled rules on 2026-03-01, as
/// JSON, with `extra` flags.
fn check(dir: &Path, extra: &[&str]) -> Output {
    proviso(&[
        "check",
        ".",
        "--rules",
        &rules(),
        "--as-of",
        "2026-03-01",
        "--format",
        "json",
        "--no-config",
    ])
    .args(extra)
    .current_dir(dir)
    .run()
}

fn addresses(doc: &Value) -> Vec<String> {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{} {}",
                f["outcome"].as_str().unwrap(),
                f["address"].as_str().unwrap()
            )
        })
        .collect()
}

/// A stateless OpenAI API on AWS: a `stateless_on_azure` violation.
fn service(name: &str) -> String {
    format!(
        "resource \"aws_ecs_service\" \"{name}\" {{\n  name = \"{name}\"\n  tags = {{\n    \"model-vendor\" = \"openai\"\n    \"api-mode\"     = \"stateless\"\n  }}\n}}\n"
    )
}

const PROVIDER: &str = "provider \"aws\" {\n  region = \"us-east-1\"\n}\n";

#[test]
fn a_baseline_hides_known_findings_across_line_shifts_and_reformatting() {
    let dir = tempfile::tempdir().unwrap();
    let main = dir.path().join("main.tf");
    std::fs::write(
        &main,
        format!("{PROVIDER}\n{}\n{}", service("a"), service("b")),
    )
    .unwrap();
    let run = check(dir.path(), &["--write-baseline", "baseline.json"]);
    let (code, doc) = (run.code, run.json());
    // Writing a baseline accepts today's findings, in this run too.
    assert_eq!(code, 0, "{doc}");
    assert_eq!(doc["summary"]["baselined"], 2);
    let written: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("baseline.json")).unwrap())
            .unwrap();
    assert_eq!(written["findings"].as_array().unwrap().len(), 2);

    // Unrelated edits: lines inserted above, the block reformatted, one
    // resource moved to another file. Nothing is new.
    let shifted = service("a").replace("  name = \"a\"", "  name    =    \"a\"   # renamed? no");
    std::fs::write(&main, format!("# a header\n\n\n{PROVIDER}\n\n{shifted}")).unwrap();
    std::fs::write(dir.path().join("b.tf"), service("b")).unwrap();
    let run = check(dir.path(), &["--baseline", "baseline.json"]);
    let (code, doc) = (run.code, run.json());
    assert_eq!(code, 0, "{doc}");
    assert!(addresses(&doc).is_empty(), "{:?}", addresses(&doc));
    assert_eq!(doc["summary"]["baselined"], 2);

    // A new breach is new.
    std::fs::write(dir.path().join("c.tf"), service("c")).unwrap();
    let run = check(dir.path(), &["--baseline", "baseline.json"]);
    let (code, doc) = (run.code, run.json());
    assert_eq!(code, 1);
    assert_eq!(addresses(&doc), ["violation aws_ecs_service.c"]);
}

#[test]
fn a_baseline_counts_identical_findings_one_by_one() {
    let dir = tempfile::tempdir().unwrap();
    let counted = service("a").replace("  name = \"a\"", "  count = 2\n  name = \"a\"");
    std::fs::write(dir.path().join("main.tf"), format!("{PROVIDER}{counted}")).unwrap();
    check(dir.path(), &["--write-baseline", "baseline.json"]);
    // A third instance has its own address, so it is new.
    std::fs::write(
        dir.path().join("main.tf"),
        format!("{PROVIDER}{}", counted.replace("count = 2", "count = 3")),
    )
    .unwrap();
    let doc = check(dir.path(), &["--baseline", "baseline.json"]).json();
    assert_eq!(addresses(&doc), ["violation aws_ecs_service.a[2]"]);
}

#[test]
fn a_broken_baseline_file_is_reported_with_its_location() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("main.tf"), PROVIDER).unwrap();
    std::fs::write(
        dir.path().join("baseline.json"),
        "{\n  \"version\": 1,\n  \"findings\": [ oops ]\n}\n",
    )
    .unwrap();
    let Output { code, stderr, .. } = check(dir.path(), &["--baseline", "baseline.json"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("proviso::baseline::malformed"), "{stderr}");
    assert!(stderr.contains("baseline.json:3:"), "{stderr}");
}

fn git(dir: &Path, args: &[&str]) {
    let ok = Command::new("git")
        .current_dir(dir)
        .args([
            "-c",
            "user.name=proviso",
            "-c",
            "user.email=proviso@example.com",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .output()
        .unwrap()
        .status
        .success();
    assert!(ok, "git {args:?}");
}

#[test]
fn changed_since_reports_only_what_the_change_touched() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    git(d, &["init", "-q", "-b", "main"]);
    std::fs::write(d.join("variables.tf"), "variable \"where\" {}\n").unwrap();
    std::fs::write(d.join("main.tf"), format!("{PROVIDER}\n{}", service("old"))).unwrap();
    std::fs::write(
        d.join("storage.tf"),
        "resource \"azurerm_storage_account\" \"dr\" {\n  location = var.where\n  tags = { segment = \"federal\" }\n}\n",
    )
    .unwrap();
    git(d, &["add", "."]);
    git(d, &["commit", "-q", "-m", "base"]);

    // The whole check sees the old breach and the unresolved storage account.
    let full = check(d, &[]).json();
    assert_eq!(
        addresses(&full),
        [
            "violation aws_ecs_service.old",
            "unresolved azurerm_storage_account.dr"
        ]
    );

    // Nothing changed: nothing to report.
    let run = check(d, &["--changed-since", "main"]);
    let (code, doc) = (run.code, run.json());
    assert_eq!(code, 0);
    assert!(addresses(&doc).is_empty());
    assert_eq!(doc["summary"]["not_changed"], 2);

    // A new breach in a committed file, a new untracked file, and an edit
    // far from the unresolved value in storage.tf.
    std::fs::write(
        d.join("main.tf"),
        format!("{PROVIDER}\n{}\n{}", service("old"), service("new")),
    )
    .unwrap();
    std::fs::write(d.join("extra.tf"), service("extra")).unwrap();
    git(d, &["checkout", "-q", "-b", "feature"]);
    std::fs::write(
        d.join("storage.tf"),
        "resource \"azurerm_storage_account\" \"dr\" {\n  location = var.where\n  tags = { segment = \"federal\" }\n}\n# touched\n",
    )
    .unwrap();
    let run = check(d, &["--changed-since", "main"]);
    let (code, doc) = (run.code, run.json());
    assert_eq!(code, 1);
    assert_eq!(
        addresses(&doc),
        [
            "violation aws_ecs_service.extra",
            "violation aws_ecs_service.new",
            "unresolved azurerm_storage_account.dr"
        ]
    );
    assert_eq!(doc["summary"]["not_changed"], 1);

    // Committed changes count the same as uncommitted ones.
    git(d, &["add", "."]);
    git(d, &["commit", "-q", "-m", "feature"]);
    let committed = check(d, &["--changed-since", "main"]).json();
    assert_eq!(addresses(&committed), addresses(&doc));
}

#[test]
fn changed_since_a_ref_that_does_not_exist_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q"]);
    std::fs::write(dir.path().join("main.tf"), PROVIDER).unwrap();
    let Output { code, stderr, .. } = check(dir.path(), &["--changed-since", "no-such-branch"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("proviso::git::bad_ref"), "{stderr}");
}
