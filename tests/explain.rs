//! `proviso explain`: the bundled contract in plain English, the changes at
//! the restructuring, and the HTML page rendered in a real browser.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed unwrap is a failed test"
)]

mod common;

use common::{Output, proviso};
use std::path::Path;
use std::process::Command;

/// Runs proviso, which must write nothing on standard error.
fn run_quiet(args: &[&str]) -> Output {
    let run = proviso(args).run();
    assert!(run.stderr.is_empty(), "{}", run.stderr);
    run
}

#[test]
fn explain_the_bundled_contract_as_text() {
    let Output {
        code, stdout: text, ..
    } = run_quiet(&["explain", "rules"]);
    assert_eq!(code, 0);
    insta::assert_snapshot!(text);
}

#[test]
fn explain_what_is_in_force_after_the_restructuring_as_markdown() {
    let Output {
        code, stdout: text, ..
    } = run_quiet(&[
        "explain",
        "rules",
        "--as-of",
        "2026-05-01",
        "--format",
        "markdown",
    ]);
    assert_eq!(code, 0);
    assert!(
        !text.contains("stateless_on_azure"),
        "ended clauses are not shown --as-of a later date"
    );
    insta::assert_snapshot!(text);
}

#[test]
fn explain_between_two_dates_lists_what_started_ended_and_changed() {
    let Output {
        code, stdout: text, ..
    } = run_quiet(&["explain", "rules", "--between", "2026-04-26", "2026-04-28"]);
    assert_eq!(code, 0);
    for ended in [
        "ends: stateless_on_azure",
        "ends: frontier_on_azure",
        "ends: frontier_third_party_on_aws",
    ] {
        assert!(text.contains(ended), "missing `{ended}`");
    }
    assert!(text.contains("changes: azure_commitment: oct_2025 → apr_2026"));
    assert!(
        !text.contains("federal_in_us"),
        "a clause in force on both dates, unchanged, is not listed"
    );
    insta::assert_snapshot!(text);
    let Output {
        stdout: nothing, ..
    } = run_quiet(&["explain", "rules", "--between", "2026-03-01", "2026-03-02"]);
    assert!(nothing.contains("Nothing: the same clauses are in force on both dates."));
}

/// Headless Chromium (Debian's `chromium`, installed by `.ci/run`). Outside
/// CI, a machine without it skips the browser half with a note; in CI its
/// absence fails the test.
fn chromium() -> Option<&'static str> {
    let path = "/usr/bin/chromium";
    if Path::new(path).exists() {
        return Some(path);
    }
    assert!(
        std::env::var("CI").is_err(),
        "CI must install chromium (see .ci/run)"
    );
    eprintln!("note: chromium not installed; the HTML page was not rendered in a browser");
    None
}

fn headless(chromium: &str, profile: &Path) -> Command {
    let mut cmd = Command::new(chromium);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
    ])
    .arg(format!("--user-data-dir={}", profile.display()));
    cmd
}

#[test]
fn the_html_page_renders_in_a_browser_and_carries_every_clause() {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("explain.html");
    let Output { code, .. } = run_quiet(&[
        "explain",
        "rules",
        "--format",
        "html",
        "--output",
        page.to_str().unwrap(),
    ]);
    assert_eq!(code, 0);
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(
        !html.contains("http://")
            || html
                .matches("http://")
                .all(|_| html.contains("http://www.w3.org/2000/svg")),
        "self-contained: no external resources"
    );
    assert!(!html.contains("<script"), "no scripts");
    let rules = proviso::rules::load(&["rules".into()]).unwrap();
    let ids: Vec<String> = rules.clauses().map(|(_, c)| c.id.name.clone()).collect();

    let Some(chromium) = chromium() else { return };
    let profile = dir.path().join("profile");
    let dom = headless(chromium, &profile)
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&dom.stdout);
    for id in &ids {
        assert!(
            dom.contains(&format!("id=\"{id}\"")),
            "rendered page lacks clause `{id}`"
        );
        assert!(
            dom.contains(&format!("data-clause=\"{id}\"")),
            "timeline lacks a bar for `{id}`"
        );
    }
    let shot = dir.path().join("explain.png");
    let status = headless(chromium, &profile)
        .arg("--window-size=1200,1600")
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let png = std::fs::read(&shot).unwrap();
    assert_eq!(&png[1..4], b"PNG");
    // A blank page compresses to a few kilobytes; the rendered report with
    // its timeline and text is far larger.
    assert!(
        png.len() > 50_000,
        "screenshot is suspiciously small ({} bytes): blank page?",
        png.len()
    );
}
