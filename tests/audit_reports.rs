//! What legal and audit teams are handed: `proviso audit --format html`
//! (rendered in headless Chromium, its DOM read back), `--format markdown`
//! and `--format csv` (every violating record and group, one row each, as
//! `--findings` writes them), several formats from one run, and
//! `proviso check --format csv`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed unwrap is a failed test"
)]

mod common;

use common::{chromium, headless, proviso};

/// The bundled exports with the money terms: gateway logs and the
/// revenue ledger (the cap supplied), plus an ALB log.
const INPUTS: [&str; 5] = [
    "fixtures/aggregate/gateway-2026-h1.jsonl.gz",
    "fixtures/aggregate/gateway-2026-h2.jsonl.gz",
    "fixtures/aggregate/ledger-fy26.csv",
    "fixtures/aggregate/ledger-fy27.csv",
    "fixtures/logs/exports/alb.log.gz",
];

fn audit(extra: &[&str]) -> common::Output {
    proviso(&["audit"])
        .args(INPUTS)
        .args([
            "--rules",
            "rules",
            "--param",
            "revenue_share_cap=1000000000",
            "--allow-malformed",
        ])
        .args(extra)
        .run()
}

#[test]
fn one_run_writes_every_format_and_they_agree() {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n).to_string_lossy().to_string();
    let out = audit(&[
        "--format",
        &format!("html={}", p("a.html")),
        "--format",
        &format!("markdown={}", p("a.md")),
        "--format",
        &format!("csv={}", p("a.csv")),
        "--format",
        &format!("json={}", p("a.json")),
        "--findings",
        &p("a.jsonl"),
    ]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    // Every report went to a file: the accounting line is on stderr.
    assert!(out.stdout.is_empty());
    assert!(
        out.stderr
            .contains("proviso audit: 8569 records = 8215 judged")
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(p("a.json")).unwrap()).unwrap();
    let violations = json["summary"]["violations"].as_u64().unwrap();
    assert_eq!(violations, 189);
    // CSV: a header, then one row per line `--findings` wrote (records and
    // groups), in the same order.
    let csv = std::fs::read_to_string(p("a.csv")).unwrap();
    let jsonl = std::fs::read_to_string(p("a.jsonl")).unwrap();
    let rows: Vec<&str> = csv.split_terminator("\r\n").collect();
    assert_eq!(
        rows[0],
        "file,line,timestamp,clause,terms,severity,outcome,group,message,host,path,cloud,region,fields"
    );
    assert_eq!(rows.len() - 1, jsonl.lines().count());
    assert_eq!(rows.len() - 1, 189);
    assert!(rows[1].starts_with(
        "fixtures/aggregate/gateway-2026-h1.jsonl.gz,64,2026-02-10T12:00:00Z,stateless_on_azure,oct_2025,error,violation,,stateless OpenAI API POST api.openai.com/v1/chat/completions is served from aws; until 2026-04-27 stateless APIs run only on Azure,api.openai.com,/v1/chat/completions,aws,us-east-1,"
    ));
    // A group's row: no file or line, its key in `group`.
    assert!(
        rows.iter()
            .any(|r| r.starts_with(",,,revenue_share_20_percent,apr_2026,error,violation,2026-06,\"in 2026-06, Microsoft was paid ")),
        "{csv}"
    );
    // Markdown: the verdict, the accounting, a row per clause, the groups.
    let md = std::fs::read_to_string(p("a.md")).unwrap();
    assert!(md.starts_with("### ❌ proviso audit: 189 violations, 0 unresolved\n"));
    assert!(md.contains(
        "| `stateless_on_azure` Stateless OpenAI APIs are served only from Azure | `oct_2025` | error | 167 | 0 | 1 | 2026-02-10T12:00:00Z | 2026-04-26T20:55:07.916Z |\n"
    ));
    assert!(md.contains("| `fixtures/logs/exports/alb.log.gz` | alb (gzip) | 24 | 0 | 14791 |\n"));
    assert!(md.contains(
        "**`revenue_share_20_percent` (apr_2026): 5 of 9 groups breach or are unresolved**"
    ));
    // HTML: self-contained, no script.
    let html = std::fs::read_to_string(p("a.html")).unwrap();
    assert!(!html.contains("<script"));
    // (Log lines quote URLs: what matters is that nothing is loaded.)
    for loads in ["src=", "href=\"http", "url(", "@import", "<link"] {
        assert!(!html.contains(loads), "external resource: {loads}");
    }
    assert!(html.contains("@media print"));
}

#[test]
fn the_html_report_renders_in_a_browser() {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("audit.html");
    let out = audit(&[
        "--format",
        &format!("html={}", page.display()),
        "--what-if",
        "apr_2027@2026-07-01",
    ]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let Some(chromium) = chromium() else { return };
    let profile = dir.path().join("profile");
    let dom = headless(chromium, &profile)
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&dom.stdout);
    // A section per clause version, with its chart where it has
    // violations, one bar per day that had any.
    for id in [
        "stateless_on_azure--oct_2025",
        "reciprocal_share_ended--apr_2026",
        "federal_traffic_in_us--standing",
        "revenue_share_20_percent--apr_2026",
        "first_ship_on_azure--apr_2026",
    ] {
        assert!(dom.contains(&format!("id=\"{id}\"")), "no section {id}");
    }
    assert!(dom.contains("<title>2026-02-10: 2</title>"), "per-day bars");
    // The change of terms is marked and labelled on the charts.
    assert!(dom.contains("2026-04-27: apr_2026 supersedes oct_2025"));
    // The accounting figure and the inputs.
    assert!(dom.contains("judged: 8215"));
    assert!(dom.contains("malformed: 7"));
    assert!(dom.contains("<code>fixtures/logs/exports/alb.log.gz</code>"));
    // Samples carry their line with the deciding value marked.
    assert!(dom.contains("<mark title=\"`cloud` is `aws`\">aws</mark>"));
    // The groups of the revenue share, with their figures.
    assert!(dom.contains("<th>shortfall</th>"));
    // The draft's impact.
    assert!(dom.contains("2088 requests would newly break; 2 groups would no longer break"));
    let shot = dir.path().join("audit.png");
    let status = headless(chromium, &profile)
        .arg("--window-size=1280,2000")
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    assert!(status.status.success());
    let png = std::fs::read(&shot).unwrap();
    assert_eq!(&png[1..4], b"PNG");
    assert!(png.len() > 50_000, "blank page? {} bytes", png.len());
    // Printed to PDF (A4, print styles): it lays out and has pages.
    let pdf = dir.path().join("audit.pdf");
    let status = headless(chromium, &profile)
        .arg("--no-pdf-header-footer")
        .arg(format!("--print-to-pdf={}", pdf.display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    assert!(status.status.success());
    let bytes = std::fs::read(&pdf).unwrap();
    assert!(bytes.starts_with(b"%PDF"));
}

#[test]
fn csv_goes_to_standard_output_alone_and_two_bare_formats_collide() {
    let out = proviso(&[
        "audit",
        "fixtures/logs/exports/alb.log.gz",
        "--rules",
        "rules",
        "--format",
        "csv",
    ])
    .run();
    let rows: Vec<&str> = out.stdout.split_terminator("\r\n").collect();
    assert!(rows[0].starts_with("file,line,timestamp,clause"));
    // The 11 violations of the ALB export (its summary line says so).
    assert_eq!(rows.len(), 1 + 11, "{}", out.stdout);
    let clash = proviso(&[
        "audit",
        "fixtures/logs/exports/alb.log.gz",
        "--rules",
        "rules",
        "--format",
        "csv",
        "--format",
        "html",
    ])
    .run();
    assert_eq!(clash.code, 2);
    assert!(clash.stderr.contains("proviso::cli::formats_collide"));
}

#[test]
fn check_writes_its_findings_as_csv() {
    let out = proviso(&[
        "check",
        "fixtures/terraform/platform",
        "--rules",
        "rules",
        "--as-of",
        "2026-03-01",
        "--format",
        "csv",
    ])
    .run();
    assert_eq!(out.code, 1);
    let rows: Vec<&str> = out.stdout.split_terminator("\r\n").collect();
    assert_eq!(
        rows[0],
        "severity,outcome,clause,terms,address,kind,file,line,column,instances,message,citation"
    );
    // 5 violations and 1 unresolved (the summary line of the same run).
    assert_eq!(rows.len(), 1 + 6);
    assert!(rows[1].starts_with(
        "error,violation,frontier_on_azure,oct_2025,google_cloud_run_v2_service.frontier_preview,resource,fixtures/terraform/platform/google.tf,6,10,1,"
    ));
}
