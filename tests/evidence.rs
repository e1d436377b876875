//! `--evidence` and `proviso verify`, and the determinism they rest on:
//! the same inputs with any number of threads give byte-identical reports.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed unwrap or index is a failed test"
)]

mod common;

use common::{REPO, proviso};
use serde_json::Value;
use sha2::{Digest as _, Sha256};
use std::io::Read;
use std::path::Path;

fn sha(bytes: &[u8]) -> String {
    proviso::evidence::hash::hex(&Sha256::digest(bytes))
}

fn sha_file(p: &Path) -> String {
    sha(&std::fs::read(p).unwrap())
}

fn gunzip(p: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(std::fs::File::open(p).unwrap())
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// The vendors' exports and the gateway's, plain, gzip and zstd.
const LOGS: &[&str] = &[
    "fixtures/logs/exports/gateway.jsonl",
    "fixtures/logs/exports/alb.log.gz",
    "fixtures/logs/exports/cloudfront.log.gz",
    "fixtures/logs/exports/proxy-access.log.zst",
    "fixtures/logs/exports/frontdoor-PT1H.json",
];

/// The ledgers and gateway exports of the aggregate clauses (the cap is a
/// parameter).
const LEDGERS: &[&str] = &[
    "fixtures/aggregate/ledger-fy26.csv",
    "fixtures/aggregate/ledger-fy27.csv",
    "fixtures/aggregate/gateway-2026-h1.jsonl.gz",
    "fixtures/aggregate/gateway-2026-h2.jsonl.gz",
];

/// Same inputs, 1, 2, 7 and 64 threads: the audit's JSON and human
/// reports and its `--findings` are byte-identical. Besides the fixtures,
/// a 9.5 MB export (the gateway's, 1200 times over), plain and gzip'd,
/// so that each is cut into several 4 MiB pieces the workers share.
#[test]
fn audit_reports_are_identical_whatever_the_threads() {
    let dir = tempfile::tempdir().unwrap();
    let one = std::fs::read(Path::new(REPO).join(LOGS[0])).unwrap();
    let big: Vec<u8> = one.repeat(1200);
    assert!(big.len() > 2 * (4 << 20));
    let plain = dir.path().join("big.jsonl");
    std::fs::write(&plain, &big).unwrap();
    let gz = dir.path().join("big.jsonl.gz");
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).unwrap(),
        flate2::Compression::fast(),
    );
    std::io::Write::write_all(&mut enc, &big).unwrap();
    enc.finish().unwrap();
    let mut first: Option<Vec<Vec<u8>>> = None;
    for threads in ["1", "2", "7", "64"] {
        let mut outs = Vec::new();
        for format in ["json", "human"] {
            let out = dir.path().join(format!("{format}-{threads}"));
            let findings = dir.path().join(format!("findings-{format}-{threads}"));
            let mut args: Vec<String> = LOGS.iter().chain(LEDGERS).map(|s| s.to_string()).collect();
            args.splice(0..0, ["audit".to_string()]);
            args.extend([plain.display().to_string(), gz.display().to_string()]);
            args.extend(
                [
                    "--rules",
                    "rules",
                    "--threads",
                    threads,
                    "--format",
                    format,
                    "--param",
                    "revenue_share_cap=1250000.00",
                    "--allow-malformed",
                ]
                .map(String::from),
            );
            args.extend(["--output".into(), out.display().to_string()]);
            args.extend(["--findings".into(), findings.display().to_string()]);
            let r = proviso(&args).run();
            assert_eq!(r.code, 1, "{}", r.stderr);
            outs.push(std::fs::read(&out).unwrap());
            outs.push(std::fs::read(&findings).unwrap());
        }
        match &first {
            None => first = Some(outs),
            Some(f) => {
                for (i, (a, b)) in f.iter().zip(&outs).enumerate() {
                    assert!(a == b, "output {i} differs with {threads} threads");
                }
            }
        }
    }
    let f = first.unwrap();
    assert!(f.iter().all(|o| o.len() > 100));
}

/// Same Terraform, rayon on 1, 2, 7 and 64 threads: every format of
/// `check` is byte-identical.
#[test]
fn check_reports_are_identical_whatever_the_threads() {
    let dir = tempfile::tempdir().unwrap();
    let formats = ["json", "sarif", "human", "junit", "markdown", "github"];
    let mut first: Option<Vec<Vec<u8>>> = None;
    for threads in ["1", "2", "7", "64"] {
        let mut args: Vec<String> = [
            "check",
            "fixtures/terraform/platform",
            "fixtures/terraform/plan",
            "--rules",
            "rules",
            "--as-of",
            "2026-03-01",
        ]
        .map(String::from)
        .to_vec();
        for f in formats {
            args.push("--format".into());
            args.push(format!(
                "{f}={}",
                dir.path().join(format!("{f}-{threads}")).display()
            ));
        }
        let r = proviso(&args).env("RAYON_NUM_THREADS", threads).run();
        assert_eq!(r.code, 1, "{}", r.stderr);
        let outs: Vec<Vec<u8>> = formats
            .iter()
            .map(|f| std::fs::read(dir.path().join(format!("{f}-{threads}"))).unwrap())
            .collect();
        match &first {
            None => first = Some(outs),
            Some(f) => {
                for (name, (a, b)) in formats.iter().zip(f.iter().zip(&outs)) {
                    assert!(a == b, "{name} differs with {threads} threads");
                }
            }
        }
    }
}

/// Copies `files` (repository paths) into `dir`, keeping their paths.
fn copy_tree(dir: &Path, files: &[&str]) {
    for f in files {
        let to = dir.join(f);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(Path::new(REPO).join(f), &to).unwrap();
    }
    std::fs::create_dir_all(dir.join("rules")).unwrap();
    for e in std::fs::read_dir(Path::new(REPO).join("rules")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), dir.join("rules").join(e.file_name())).unwrap();
    }
}

fn audit_with_evidence(dir: &Path) -> common::Output {
    let mut args: Vec<String> = vec!["audit".into()];
    args.extend(LOGS.iter().chain(LEDGERS).map(|s| s.to_string()));
    args.extend(
        [
            "--rules",
            "rules",
            "--threads",
            "3",
            "--format",
            "json",
            "--output",
            "report.json",
            "--findings",
            "findings.jsonl",
            "--param",
            "revenue_share_cap=1250000.00",
            "--allow-malformed",
            "--evidence",
            "evidence.json",
        ]
        .map(String::from),
    );
    proviso(&args).current_dir(dir).run()
}

/// The evidence of an audit: every input's hash as read (and its
/// decompressed stream's), the rule files', the parameter's protected
/// hash and never its value, the reports' hashes and the findings digest.
#[test]
fn audit_evidence_hashes_what_was_read_and_written() {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(dir.path(), &[LOGS, LEDGERS].concat());
    let r = audit_with_evidence(dir.path());
    assert_eq!(r.code, 1, "{}", r.stderr);
    let text = std::fs::read_to_string(dir.path().join("evidence.json")).unwrap();
    assert!(
        !text.contains("1250000"),
        "the parameter's value is in the evidence"
    );
    let ev: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(ev["proviso_evidence"], 1);
    assert_eq!(ev["command"], "audit");
    assert_eq!(ev["judged_by"]["each_record"], true);
    assert_eq!(ev["exit_code"], 1);
    let argv: Vec<&str> = ev["argv"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert!(argv.contains(&"revenue_share_cap=<redacted>"), "{argv:?}");
    let inputs = ev["inputs"].as_array().unwrap();
    let names: Vec<&str> = inputs.iter().map(|i| i["path"].as_str().unwrap()).collect();
    let expected: Vec<&str> = LOGS.iter().chain(LEDGERS).copied().collect();
    assert_eq!(names, expected);
    for i in inputs {
        let p = dir.path().join(i["path"].as_str().unwrap());
        assert_eq!(i["sha256"].as_str().unwrap(), sha_file(&p), "{p:?}");
        assert_eq!(
            i["bytes"].as_u64().unwrap(),
            std::fs::metadata(&p).unwrap().len()
        );
        assert_eq!(i["complete"], true);
        if i["compression"] == "gzip" {
            let plain = gunzip(&p);
            assert_eq!(i["decompressed"]["sha256"].as_str().unwrap(), sha(&plain));
            assert_eq!(
                i["decompressed"]["bytes"].as_u64().unwrap(),
                plain.len() as u64
            );
        }
    }
    // A plain JSON-lines file is mapped; its hash comes from the windows.
    assert_eq!(inputs[0]["read_as"], "mapped");
    assert_eq!(inputs[3]["compression"], "zstd");
    assert!(inputs[3]["decompressed"]["sha256"].is_string());
    let rules = ev["rules"].as_array().unwrap();
    assert!(!rules.is_empty());
    for r in rules {
        let p = dir.path().join(r["path"].as_str().unwrap());
        assert_eq!(r["sha256"].as_str().unwrap(), sha_file(&p));
    }
    let params = ev["params"].as_array().unwrap();
    assert_eq!(params.len(), 1);
    assert_eq!(params[0]["name"], "revenue_share_cap");
    let stored: proviso::evidence::doc::ProtectedHash =
        serde_json::from_value(params[0]["hash"].clone()).unwrap();
    assert_eq!(stored.scheme, "pbkdf2-hmac-sha256");
    assert_eq!(stored.iterations, 600_000);
    assert!(proviso::evidence::params::matches("1250000.00", &stored));
    assert!(!proviso::evidence::params::matches("1250000.01", &stored));
    // Reports: the JSON report, and `--findings`, whose hash is the
    // findings digest.
    let reports = ev["reports"].as_array().unwrap();
    assert_eq!(reports.len(), 2);
    assert_eq!(reports[0]["format"], "json");
    assert_eq!(
        reports[0]["sha256"].as_str().unwrap(),
        sha_file(&dir.path().join("report.json"))
    );
    let findings = std::fs::read(dir.path().join("findings.jsonl")).unwrap();
    assert_eq!(reports[1]["sha256"].as_str().unwrap(), sha(&findings));
    assert_eq!(ev["findings"]["sha256"].as_str().unwrap(), sha(&findings));
    assert_eq!(
        ev["findings"]["count"].as_u64().unwrap(),
        findings.iter().filter(|b| **b == b'\n').count() as u64
    );
    let report: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("report.json")).unwrap()).unwrap();
    assert_eq!(ev["summary"]["records"], report["summary"]["records"]);
}

/// `verify`: 0 on the untouched tree; 1 with the changed input named when
/// one byte of a log changes; 1 when the parameter has another value; 2
/// when it is not supplied again or a file is gone.
#[test]
fn verify_confirms_an_audit_and_names_what_changed() {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(dir.path(), &[LOGS, LEDGERS].concat());
    let r = audit_with_evidence(dir.path());
    assert_eq!(r.code, 1, "{}", r.stderr);
    let verify = |extra: &[&str]| {
        let mut args = vec!["verify", "evidence.json"];
        args.extend(extra);
        proviso(&args).current_dir(dir.path()).run()
    };
    let ok = verify(&["--param", "revenue_share_cap=1250000.00"]);
    assert_eq!(ok.code, 0, "{}\n{}", ok.stdout, ok.stderr);
    assert!(
        ok.stdout
            .contains("input    fixtures/logs/exports/alb.log.gz: unchanged"),
        "{}",
        ok.stdout
    );
    assert!(
        ok.stdout
            .contains("param    revenue_share_cap: the same value"),
        "{}",
        ok.stdout
    );
    assert!(
        ok.stdout.contains("report   json → report.json: identical"),
        "{}",
        ok.stdout
    );
    assert!(
        ok.stdout.lines().last().unwrap().starts_with("verified:"),
        "{}",
        ok.stdout
    );
    // The user's report was not overwritten by the run again.
    let no_param = verify(&[]);
    assert_eq!(no_param.code, 2, "{}", no_param.stdout);
    assert!(
        no_param.stderr.contains("proviso::verify::missing_param"),
        "{}",
        no_param.stderr
    );
    let wrong = verify(&["--param", "revenue_share_cap=900.00"]);
    assert_eq!(wrong.code, 1, "{}", wrong.stderr);
    assert!(
        wrong.stderr.contains("proviso::verify::param_changed"),
        "{}",
        wrong.stderr
    );
    // One byte of the plain log changed.
    let log = dir.path().join(LOGS[0]);
    let mut bytes = std::fs::read(&log).unwrap();
    let at = bytes.iter().position(|b| *b == b'2').unwrap();
    bytes[at] = b'3';
    std::fs::write(&log, &bytes).unwrap();
    let changed = verify(&["--param", "revenue_share_cap=1250000.00"]);
    assert_eq!(changed.code, 1, "{}", changed.stderr);
    assert!(
        changed
            .stdout
            .contains("input    fixtures/logs/exports/gateway.jsonl: CHANGED"),
        "{}",
        changed.stdout
    );
    assert!(
        changed.stderr.contains("proviso::verify::input_changed"),
        "{}",
        changed.stderr
    );
    std::fs::remove_file(&log).unwrap();
    let gone = verify(&["--param", "revenue_share_cap=1250000.00"]);
    assert_eq!(gone.code, 2, "{}", gone.stderr);
    assert!(
        gone.stderr.contains("proviso::verify::missing_input"),
        "{}",
        gone.stderr
    );
}

/// `check --evidence` and `verify`: the Terraform files and the date,
/// every format's hash, then a changed rule file.
#[test]
fn verify_confirms_a_check_and_a_changed_rule_file_fails_it() {
    let dir = tempfile::tempdir().unwrap();
    let files: Vec<String> = walk(&Path::new(REPO).join("fixtures/terraform/platform"));
    let refs: Vec<&str> = files.iter().map(String::as_str).collect();
    copy_tree(dir.path(), &refs);
    let r = proviso(&[
        "check",
        "fixtures/terraform/platform",
        "--rules",
        "rules",
        "--as-of",
        "2026-03-01",
        "--format",
        "json=out.json",
        "--format",
        "sarif=out.sarif",
        "--format",
        "human",
        "--evidence",
        "ev.json",
    ])
    .current_dir(dir.path())
    .run();
    assert_eq!(r.code, 1, "{}", r.stderr);
    let ev: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("ev.json")).unwrap()).unwrap();
    assert_eq!(ev["judged_by"]["as_of"], "2026-03-01");
    let tf: Vec<&str> = ev["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["path"].as_str().unwrap())
        .collect();
    assert!(
        tf.contains(&"fixtures/terraform/platform/main.tf"),
        "{tf:?}"
    );
    let reports = ev["reports"].as_array().unwrap();
    assert_eq!(reports.len(), 3);
    assert_eq!(
        reports[1]["sha256"].as_str().unwrap(),
        sha_file(&dir.path().join("out.sarif"))
    );
    assert_eq!(reports[2]["to"], "<stdout>");
    assert_eq!(
        reports[2]["sha256"].as_str().unwrap(),
        sha(r.stdout.as_bytes())
    );
    let out: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("out.json")).unwrap()).unwrap();
    let canonical: String = out["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| format!("{f}\n"))
        .collect();
    assert_eq!(
        ev["findings"]["sha256"].as_str().unwrap(),
        sha(canonical.as_bytes())
    );
    assert_eq!(ev["summary"], out["summary"]);

    let ok = proviso(&["verify", "ev.json"])
        .current_dir(dir.path())
        .run();
    assert_eq!(ok.code, 0, "{}\n{}", ok.stdout, ok.stderr);
    assert!(
        ok.stdout.contains("report   human → <stdout>: identical"),
        "{}",
        ok.stdout
    );
    // A comment added to a rule file: the rules changed, not the findings.
    let rule = dir.path().join(ev["rules"][0]["path"].as_str().unwrap());
    let mut text = std::fs::read_to_string(&rule).unwrap();
    text.push_str("\n// reviewed\n");
    std::fs::write(&rule, text).unwrap();
    let changed = proviso(&["verify", "ev.json"])
        .current_dir(dir.path())
        .run();
    assert_eq!(changed.code, 1, "{}", changed.stderr);
    assert!(
        changed.stderr.contains("proviso::verify::rules_changed"),
        "{}",
        changed.stderr
    );
    assert!(
        changed.stdout.contains("findings identical"),
        "{}",
        changed.stdout
    );
}

fn walk(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p.strip_prefix(REPO).unwrap().display().to_string());
            }
        }
    }
    out
}

/// Evidence that is not evidence, or of a version to come: exit 2.
#[test]
fn verify_refuses_what_is_not_evidence() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("x.json"), r#"{"proviso_evidence": 99}"#).unwrap();
    let r = proviso(&["verify", "x.json"]).current_dir(dir.path()).run();
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("proviso::verify::bad_evidence"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("schema version 99"), "{}", r.stderr);
}

/// `evidence:` in proviso.yaml writes the evidence; a config that holds
/// `params:` is named but not hashed (its hash would give them away).
#[test]
fn proviso_yaml_can_ask_for_evidence_and_its_params_are_not_hashed() {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(dir.path(), &[LEDGERS[0]]);
    std::fs::write(
        dir.path().join("proviso.yaml"),
        "evidence: out/ev.json\nparams:\n  revenue_share_cap: \"1250000.00\"\n",
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("out")).unwrap();
    let r = proviso(&[
        "audit",
        LEDGERS[0],
        "--rules",
        "rules",
        "--allow-malformed",
        "--format",
        "json",
    ])
    .current_dir(dir.path())
    .finding_config()
    .run();
    assert_eq!(r.code, 1, "{}", r.stderr);
    let text = std::fs::read_to_string(dir.path().join("out/ev.json")).unwrap();
    assert!(!text.contains("1250000"));
    let ev: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(ev["config"]["path"], "proviso.yaml");
    assert!(ev["config"]["sha256"].is_null());
    assert_eq!(ev["params"][0]["supplied"], true);
    // The value comes from the same proviso.yaml again.
    let ok = proviso(&["verify", "out/ev.json"])
        .current_dir(dir.path())
        .run();
    assert_eq!(ok.code, 0, "{}\n{}", ok.stdout, ok.stderr);
}

/// Standard input is recorded, hashed, and cannot be verified.
#[test]
fn evidence_of_standard_input_cannot_be_verified() {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(dir.path(), &[]);
    let log = std::fs::read(Path::new(REPO).join(LOGS[0])).unwrap();
    let r = proviso(&["audit", "-", "--rules", "rules", "--evidence", "ev.json"])
        .current_dir(dir.path())
        .stdin(&log)
        .run();
    assert_eq!(r.code, 1, "{}", r.stderr);
    let ev: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("ev.json")).unwrap()).unwrap();
    assert_eq!(ev["inputs"][0]["path"], "<stdin>");
    assert_eq!(ev["inputs"][0]["sha256"].as_str().unwrap(), sha(&log));
    let v = proviso(&["verify", "ev.json"])
        .current_dir(dir.path())
        .run();
    assert_eq!(v.code, 2);
    assert!(
        v.stderr.contains("proviso::verify::missing_input"),
        "{}",
        v.stderr
    );
}

/// A line longer than a mapped window is skipped by reading past it, not
/// mapped: the hash reads it back, and still covers the whole file.
#[test]
fn a_skipped_over_long_line_is_still_hashed() {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(dir.path(), &[]);
    let good = std::fs::read(Path::new(REPO).join(LOGS[0])).unwrap();
    let mut data = good.clone();
    data.extend(std::iter::repeat_n(b'x', 17 << 20));
    data.push(b'\n');
    data.extend(&good);
    std::fs::write(dir.path().join("long.jsonl"), &data).unwrap();
    let r = proviso(&[
        "audit",
        "long.jsonl",
        "--rules",
        "rules",
        "--allow-malformed",
        "--evidence",
        "ev.json",
    ])
    .current_dir(dir.path())
    .run();
    assert_eq!(r.code, 1, "{}", r.stderr);
    let ev: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("ev.json")).unwrap()).unwrap();
    assert_eq!(ev["inputs"][0]["read_as"], "mapped");
    assert_eq!(
        ev["inputs"][0]["bytes"].as_u64().unwrap(),
        data.len() as u64
    );
    assert_eq!(ev["inputs"][0]["sha256"].as_str().unwrap(), sha(&data));
}
