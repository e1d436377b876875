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

use common::{Output, chromium, headless, proviso};
use std::path::Path;

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

/// A script that measures, in the browser, every text of every timeline
/// drawing against its SVG and against the other texts, and writes what
/// sticks out or overlaps into `data-clipped` on the body.
const MEASURE: &str = r#"<style>.timeline.print { display: block !important; }</style><script>
document.addEventListener('DOMContentLoaded', () => {
  const bad = [];
  let texts = 0;
  for (const svg of document.querySelectorAll('svg.timeline')) {
    const r = svg.getBoundingClientRect();
    const boxes = [...svg.querySelectorAll('text')].map(t => [t, t.getBoundingClientRect()]);
    texts += boxes.length;
    for (const [t, b] of boxes) {
      if (b.left < r.left - 0.5 || b.right > r.right + 0.5 || b.top < r.top - 0.5 || b.bottom > r.bottom + 0.5)
        bad.push('clipped(' + r.width + '): ' + t.textContent);
    }
    for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
      const [a, p] = boxes[i], [c, q] = boxes[j];
      if (p.left < q.right - 1 && q.left < p.right - 1 && p.top < q.bottom - 1 && q.top < p.bottom - 1)
        bad.push('overlap(' + r.width + '): ' + a.textContent + ' / ' + c.textContent);
    }
  }
  document.body.setAttribute('data-texts', String(texts));
  document.body.setAttribute('data-clipped', JSON.stringify(bad));
});
</script>"#;

/// Where screenshots go: `PROVISO_SCREENSHOTS` (to look at them), else the
/// test's temporary directory.
fn shot_dir(tmp: &Path) -> std::path::PathBuf {
    std::env::var_os("PROVISO_SCREENSHOTS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| tmp.to_path_buf())
}

#[test]
fn the_html_page_renders_in_a_browser_and_carries_every_clause() {
    let dir = tempfile::tempdir().unwrap();
    for (name, extra) in [("all", vec![]), ("as-of", vec!["--as-of", "2026-03-01"])] {
        let page = dir.path().join(format!("explain-{name}.html"));
        let mut args = vec![
            "explain",
            "rules",
            "--format",
            "html",
            "--output",
            page.to_str().unwrap(),
        ];
        args.extend(extra);
        let Output { code, .. } = run_quiet(&args);
        assert_eq!(code, 0);
        let html = std::fs::read_to_string(&page).unwrap();
        browser_checks(&html, name, dir.path());
    }
}

fn browser_checks(html: &str, name: &str, dir: &Path) {
    assert!(
        !html.contains("http://")
            || html
                .matches("http://")
                .all(|_| html.contains("http://www.w3.org/2000/svg")),
        "self-contained: no external resources"
    );
    assert!(!html.contains("<script"), "no scripts");
    // The record and the sign-off.
    assert!(html.contains("<tr><td>generated</td><td>7 December 2026</td></tr>"));
    assert!(html.contains("<h2>Sign-off</h2>"));
    // The axis ends a little past the restructuring, not in 2033: what
    // goes on past it says so.
    assert!(html.contains(">no end date</text>"));
    assert!(name != "all" || html.contains(">until 1 Jan 2033</text>"));
    assert!(
        name != "all"
            || html.contains("27 Apr 2026: Restructured agreement in force; 4 clauses start, 6 clauses end, 1 clause changes (azure_commitment)"),
        "{html}"
    );
    assert!(
        !html.contains(">2033</text>"),
        "no year tick as far as 2033"
    );
    let rules = proviso::rules::load(&["rules".into()]).unwrap();
    let as_of = name == "as-of";
    let ids: Vec<String> = rules
        .clauses()
        .filter(|(t, c)| {
            !as_of
                || rules
                    .terms_in_force_interval(t)
                    .and_then(|iv| iv.intersect(&c.interval(t)))
                    .is_some_and(|iv| {
                        iv.contains(proviso::date::Date::parse("2026-03-01").unwrap())
                    })
        })
        .map(|(_, c)| c.id.name.clone())
        .collect();
    if as_of {
        assert!(html.contains(">as of 1 Mar 2026</text>"));
        assert!(!ids.contains(&"first_ship_on_azure".to_string()));
    }

    let Some(chromium) = chromium() else { return };
    let profile = dir.join(format!("profile-{name}"));
    let measured = dir.join(format!("measured-{name}.html"));
    std::fs::write(
        &measured,
        html.replace("</body>", &format!("{MEASURE}</body>")),
    )
    .unwrap();
    let dom = headless(chromium, &profile)
        .arg("--window-size=1366,900")
        .arg("--dump-dom")
        .arg(format!("file://{}", measured.display()))
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&dom.stdout);
    for id in &ids {
        assert!(
            dom.contains(&format!("id=\"{id}\"")),
            "rendered page lacks clause `{id}`"
        );
        assert!(
            dom.contains(&format!("data-key=\"{id}\"")),
            "timeline lacks a bar for `{id}`"
        );
    }
    let texts: usize = regex::Regex::new(r#"data-texts="(\d+)""#)
        .unwrap()
        .captures(&dom)
        .map(|c| c[1].parse().unwrap())
        .unwrap_or(0);
    assert!(
        texts > 2 * ids.len(),
        "the measuring script did not run: {texts} texts"
    );
    assert!(
        dom.contains("data-clipped=\"[]\""),
        "texts clipped or overlapping in the timeline: {}",
        regex::Regex::new(r#"data-clipped="([^"]*)""#)
            .unwrap()
            .captures(&dom)
            .map(|c| c[1].to_string())
            .unwrap_or_default()
    );

    // Looked at: the laptop's width, and the printed page (print styles
    // applied on screen at A4's width, and a real PDF).
    let shots = shot_dir(dir);
    let laptop = shots.join(format!("explain-{name}-laptop.png"));
    let page = dir.join(format!("explain-{name}.html"));
    let printed = dir.join(format!("printed-{name}.html"));
    std::fs::write(&printed, html.replace("@media print {", "@media all {")).unwrap();
    let a4 = shots.join(format!("explain-{name}-a4.png"));
    for (png, file, size) in [(&laptop, &page, "1366,2000"), (&a4, &printed, "794,2000")] {
        let status = headless(chromium, &profile)
            .arg(format!("--window-size={size}"))
            .arg(format!("--screenshot={}", png.display()))
            .arg(format!("file://{}", file.display()))
            .output()
            .unwrap();
        assert!(
            status.status.success(),
            "{}",
            String::from_utf8_lossy(&status.stderr)
        );
        let bytes = std::fs::read(png).unwrap();
        assert_eq!(&bytes[1..4], b"PNG");
        // A blank page compresses to a few kilobytes; the rendered report with
        // its timeline and text is far larger.
        assert!(
            bytes.len() > 50_000,
            "screenshot is suspiciously small ({} bytes): blank page?",
            bytes.len()
        );
    }
    let pdf = shots.join(format!("explain-{name}.pdf"));
    let status = headless(chromium, &profile)
        .arg("--no-pdf-header-footer")
        .arg(format!("--print-to-pdf={}", pdf.display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    assert!(status.status.success());
    let bytes = std::fs::read(&pdf).unwrap();
    assert!(
        bytes.starts_with(b"%PDF") && bytes.len() > 20_000,
        "{} bytes",
        bytes.len()
    );
}

/// The rule file of numbered sections (`fixtures/rules/valid/sections.proviso`).
const SECTIONS: &str = "fixtures/rules/valid/sections.proviso";

#[test]
fn explain_the_bundled_contract_as_markdown_ends_with_a_sign_off() {
    let Output {
        code, stdout: text, ..
    } = run_quiet(&["explain", "rules", "--format", "markdown"]);
    assert_eq!(code, 0);
    assert!(text.contains("| generated | 7 December 2026 |"), "{text}");
    assert!(text.ends_with("| Signature | |\n"), "{text}");
    insta::assert_snapshot!(text);
}

#[test]
fn the_record_names_the_date_the_tool_and_each_file_by_its_sha256() {
    use sha2::Digest;
    let bytes = std::fs::read("rules/microsoft-openai.proviso").unwrap();
    let sha: String = sha2::Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let Output { stdout: text, .. } = run_quiet(&["explain", "rules"]);
    assert!(text.contains(&format!(
        "Generated on 7 December 2026 by proviso {} (commit <commit>).\nRule file: rules/microsoft-openai.proviso (SHA-256 {sha})\nDates: every version of the terms, all dates.\n",
        env!("CARGO_PKG_VERSION")
    )), "{text}");
    // Another date, pinned another way.
    let Output { stdout: other, .. } = proviso(&["explain", "rules", "--as-of", "2026-05-01"])
        .env("SOURCE_DATE_EPOCH", "1767225600")
        .run();
    assert!(other.contains("Generated on 1 January 2026 by"), "{other}");
    assert!(
        other.contains("Dates: only what is in force on 1 May 2026.\n"),
        "{other}"
    );
}

#[test]
fn sections_phrases_and_evidence_are_shown_beside_the_quotes() {
    let Output {
        code, stdout: text, ..
    } = run_quiet(&["explain", SECTIONS]);
    assert_eq!(code, 0);
    for expected in [
        "Source: § 2(a): \"personal data shall be stored and processed only in the European Union\" — Data processing addendum, 15 January 2026",
        "Source: § 4.1: \"the Provider shall host",
        "Source: § 9.2 (b): \"all data in transit shall be encrypted\"",
        "Source: § 12: \"once in each contract year\"",
        "every store of personal data must be in an EU region, unless it is a backup copy approved in writing.",
        "From 15 January 2026, every storage account must refuse connections without TLS.",
        "Checked as: For every record whose type is \"azurerm_storage_account\", the https_traffic_only_enabled attribute must be true.",
        "Reviewed by hand, not by machine; evidence: the audit log kept by the account team, confirmed by counsel.",
    ] {
        assert!(text.contains(expected), "missing `{expected}` in\n{text}");
    }
    insta::assert_snapshot!(text);
}

#[test]
fn the_section_is_in_the_findings_of_check_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("main.tf"),
        "provider \"aws\" {\n  region = \"us-east-1\"\n}\n\nresource \"aws_s3_bucket\" \"crm\" {\n  bucket = \"crm\"\n  tags = { data = \"personal\" }\n}\n",
    )
    .unwrap();
    let tf = dir.path().to_str().unwrap();
    let rules = format!("{}/{SECTIONS}", common::REPO);
    for (format, quote) in [
        ("human", "§ 2(a): \"personal data"),
        ("json", "§ 2(a): \\\"personal data"),
        ("sarif", "§ 2(a): \\\"personal data"),
        ("markdown", "§ 2(a): \"personal data"),
        ("junit", "§ 2(a): &quot;personal data"),
    ] {
        let run = proviso(&[
            "check",
            tf,
            "--rules",
            &rules,
            "--as-of",
            "2026-03-01",
            "--format",
            format,
        ])
        .run();
        assert_eq!(run.code, 1, "{format}: {}{}", run.stdout, run.stderr);
        assert!(
            run.stdout.contains(quote),
            "{format}: no `{quote}` in\n{}",
            run.stdout
        );
    }
}

#[test]
fn the_section_is_in_the_findings_of_audit() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("crm.jsonl");
    std::fs::write(
        &log,
        "{\"timestamp\":\"2026-03-01T10:00:00Z\",\"host\":\"crm.example.eu\",\"path\":\"/v1/contacts\",\"cloud\":\"aws\",\"region\":\"us-east-1\"}\n",
    )
    .unwrap();
    let rules = format!("{}/{SECTIONS}", common::REPO);
    for (format, quote) in [
        ("human", "§ 3: \"processed only in the European Union\""),
        ("json", "§ 3: \\\"processed only in the European Union\\\""),
    ] {
        let run = proviso(&[
            "audit",
            log.to_str().unwrap(),
            "--rules",
            &rules,
            "--format",
            format,
        ])
        .run();
        assert_eq!(run.code, 1, "{format}: {}{}", run.stdout, run.stderr);
        assert!(
            run.stdout.contains(quote),
            "{format}: no `{quote}` in\n{}",
            run.stdout
        );
    }
}
