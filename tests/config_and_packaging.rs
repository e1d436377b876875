//! `proviso.yaml` end to end (found from the working directory upward,
//! flags win, mistakes reported with their line) and the CI packaging files
//! (`.pre-commit-hooks.yaml`, the example GitHub Actions workflow and
//! `docs/proviso.yaml`) are valid and say what the README says.

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

fn abs(p: &str) -> String {
    std::fs::canonicalize(p).unwrap().display().to_string()
}

#[test]
fn proviso_yaml_is_found_from_a_subdirectory_and_flags_win() {
    let repo = tempfile::tempdir().unwrap();
    let sub = repo.path().join("team/service");
    std::fs::create_dir_all(&sub).unwrap();
    std::fs::write(
        repo.path().join("proviso.yaml"),
        format!(
            "rules: {}\npaths: {}\nas_of: 2026-03-01\nformats: [json]\nfail_on: never\n",
            abs("rules"),
            abs("fixtures/terraform/cases/federal_outside_us")
        ),
    )
    .unwrap();
    // Settings from the file: rules, paths, date, format, fail_on.
    let Output {
        code,
        stdout: out,
        stderr: err,
        ..
    } = proviso(&["check"]).current_dir(&sub).finding_config().run();
    assert_eq!(code, 0, "{err}");
    let doc: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["summary"]["as_of"], "2026-03-01");
    assert_eq!(doc["findings"].as_array().unwrap().len(), 1);
    // Flags override the file.
    let Output {
        code, stdout: out, ..
    } = proviso(&[
        "check",
        "--fail-on",
        "warning",
        "--format",
        "human",
        "--as-of",
        "2026-05-01",
    ])
    .current_dir(&sub)
    .finding_config()
    .run();
    assert_eq!(code, 1);
    assert!(out.contains("proviso check as of 2026-05-01"), "{out}");
    // --no-config ignores it (and then --rules is required).
    let Output {
        code, stderr: err, ..
    } = proviso(&["check", "--no-config"])
        .current_dir(&sub)
        .finding_config()
        .run();
    assert_eq!(code, 2);
    assert!(err.contains("proviso::cli::no_rules"), "{err}");
}

#[test]
fn a_mistake_in_proviso_yaml_is_reported_with_its_line() {
    let repo = tempfile::tempdir().unwrap();
    std::fs::write(
        repo.path().join("proviso.yaml"),
        "rules: [rules]\nfail-on: warning\nformat: [sarif=out.sarif]\nwaivers:\n  max_dayz: 30\n",
    )
    .unwrap();
    let Output {
        code, stderr: err, ..
    } = proviso(&["check"])
        .current_dir(repo.path())
        .finding_config()
        .run();
    assert_eq!(code, 2);
    assert!(err.contains("proviso::config::invalid"), "{err}");
    assert!(err.contains("unknown field `max_dayz`"), "{err}");
    assert!(err.contains("proviso.yaml:5:"), "{err}");
}

/// The test runner's promise (`tests/common`): a `proviso.yaml` above the
/// working directory reaches only the runs that look for one, so a file
/// above the repository cannot change any other test's result.
#[test]
fn a_proviso_yaml_above_reaches_only_the_runs_that_look_for_it() {
    let above = tempfile::tempdir().unwrap();
    let sub = above.path().join("sub");
    std::fs::create_dir(&sub).unwrap();
    std::fs::write(above.path().join("proviso.yaml"), "not: a setting\n").unwrap();
    let args = [
        "check",
        &abs("fixtures/terraform/platform"),
        "--rules",
        &abs("rules"),
        "--as-of",
        "2026-03-01",
    ];
    let ignored = proviso(&args).current_dir(&sub).run();
    assert_eq!(ignored.code, 1, "{}", ignored.stderr);
    let found = proviso(&args).current_dir(&sub).finding_config().run();
    assert_eq!(found.code, 2);
    assert!(
        found.stderr.contains("proviso::config::invalid"),
        "{}",
        found.stderr
    );
}

#[test]
fn the_example_configuration_loads() {
    let c = proviso::cli::config::load(Path::new("docs/proviso.yaml")).unwrap();
    assert_eq!(c.formats.len(), 2);
    assert!(c.waivers.require_until);
}

fn yaml(path: &str) -> serde_yaml_ng::Value {
    serde_yaml_ng::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn the_pre_commit_hook_definition_is_valid() {
    let hooks = yaml(".pre-commit-hooks.yaml");
    let hooks = hooks.as_sequence().unwrap();
    let check = hooks.iter().find(|h| h["id"] == "proviso-check").unwrap();
    assert_eq!(
        check["entry"].as_str().unwrap().split_whitespace().next(),
        Some("proviso")
    );
    assert_eq!(check["language"], "rust");
    assert!(check["files"].as_str().unwrap().contains("tf"));
}

#[test]
fn the_example_github_workflow_is_valid_and_uploads_sarif() {
    let wf = yaml("docs/github-actions.yml");
    let steps = wf["jobs"]["proviso"]["steps"].as_sequence().unwrap();
    let runs: Vec<&str> = steps.iter().filter_map(|s| s["run"].as_str()).collect();
    assert!(
        runs.iter()
            .any(|r| r.contains("proviso check") && r.contains("sarif=proviso.sarif"))
    );
    let upload = steps
        .iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("github/codeql-action/upload-sarif"))
        })
        .unwrap();
    assert_eq!(upload["with"]["sarif_file"], "proviso.sarif");
    // The upload must run even when proviso exits 1 on findings.
    assert!(upload["if"].as_str().unwrap().contains("always()"));
    assert_eq!(wf["permissions"]["security-events"], "write");
}
