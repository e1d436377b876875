//! `proviso audit` end to end: every export format and every malformed case
//! is snapshotted (exit code, stdout, stderr); the accounting adds up in
//! every output; results do not depend on threads or chunk boundaries. (That
//! the compiled evaluator agrees with the tree evaluator is
//! `tests/evaluator_agreement.rs`.)

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed unwrap is a failed test"
)]

mod common;

use common::proviso;
use proviso::scan::logs::Slot;

const RANGES: [&str; 3] = [
    "fixtures/ip-ranges/aws-ip-ranges.json",
    "fixtures/ip-ranges/azure-service-tags.json",
    "fixtures/ip-ranges/google-cloud.json",
];

fn audit_args<'a>(file: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["audit", file, "--rules", "rules"];
    for r in RANGES {
        args.extend(["--ip-ranges", r]);
    }
    args.extend(extra);
    args
}

fn assert_accounting(doc: &serde_json::Value) {
    let s = &doc["summary"];
    let n = |k: &str| s[k].as_u64().unwrap();
    assert_eq!(
        n("records"),
        n("judged") + n("not_applicable") + n("outside_terms") + n("not_requests") + n("malformed"),
        "{s}"
    );
    let per_file: u64 = doc["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["records"].as_u64().unwrap())
        .sum();
    assert_eq!(per_file, n("records"));
}

#[test]
fn every_export_format_is_audited() {
    insta::glob!("../fixtures/logs/exports", "*", |path| {
        if !path.is_file() {
            return;
        }
        let rel = format!(
            "fixtures/logs/exports/{}",
            path.file_name().unwrap().to_str().unwrap()
        );
        let run = proviso(&audit_args(&rel, &[])).run();
        assert!(run.code == 0 || run.code == 1, "{}", run.snapshot());
        insta::assert_snapshot!(run.snapshot());
        let json = proviso(&audit_args(&rel, &["--format", "json"])).run();
        let doc: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
        assert_accounting(&doc);
        assert_eq!(doc["summary"]["malformed"], 0, "{rel}");
        assert_eq!(json.code, run.code);
    });
}

#[test]
fn malformed_lines_are_counted_shown_and_skipped() {
    insta::glob!("../fixtures/logs/malformed", "*", |path| {
        if !path.is_file() {
            return;
        }
        let rel = format!(
            "fixtures/logs/malformed/{}",
            path.file_name().unwrap().to_str().unwrap()
        );
        let run = proviso(&["audit", &rel, "--rules", "rules"]).run();
        assert_eq!(run.code, 2, "malformed input exits 2: {}", run.snapshot());
        insta::assert_snapshot!(run.snapshot());
        let json = proviso(&[
            "audit",
            &rel,
            "--rules",
            "rules",
            "--format",
            "json",
            "--allow-malformed",
        ])
        .run();
        assert_eq!(
            json.code, 1,
            "the good lines still violate: {}",
            json.stdout
        );
        let doc: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
        assert_accounting(&doc);
        assert!(doc["summary"]["malformed"].as_u64().unwrap() >= 1);
        assert!(
            doc["summary"]["judged"].as_u64().unwrap() >= 1,
            "the audit went on"
        );
    });
}

#[test]
fn the_json_report_of_the_gateway_export() {
    let run = proviso(&audit_args(
        "fixtures/logs/exports/gateway.jsonl",
        &["--format", "json"],
    ))
    .run();
    insta::assert_snapshot!(run.stdout);
}

#[test]
fn findings_file_holds_every_violation_and_stdin_reads_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let findings = dir.path().join("f.jsonl");
    let f = findings.to_str().unwrap();
    let run = proviso(&audit_args(
        "fixtures/logs/exports/alb.log.gz",
        &["--format", "json", "--findings", f],
    ))
    .run();
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let text = std::fs::read_to_string(&findings).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        lines.len() as u64,
        doc["summary"]["violations"].as_u64().unwrap()
    );
    assert!(lines.iter().all(|l| l["line"].as_u64().unwrap() >= 1));
    // Every vocabulary field the record has, the byte counts included.
    for field in [
        "host",
        "path",
        "client_ip",
        "bytes_in",
        "bytes_out",
        "region",
    ] {
        assert!(
            lines.iter().all(|l| l["fields"][field].is_string()),
            "{field} missing in {}",
            lines[0]
        );
    }
    let bytes = std::fs::read("fixtures/logs/exports/alb.log.gz").unwrap();
    let mut args = audit_args("-", &["--format", "json"]);
    args.retain(|a| *a != "fixtures/logs/exports/alb.log.gz");
    let piped = proviso(&args).stdin(&bytes).run();
    let piped: serde_json::Value = serde_json::from_str(&piped.stdout).unwrap();
    assert_eq!(piped["summary"], doc["summary"]);
    assert_eq!(
        piped["clauses"][0]["violations"],
        doc["clauses"][0]["violations"]
    );
}

/// The JSON report of auditing `file` with `opts`, through the library.
fn audit_json(
    rules: &proviso::rules::RuleSet,
    file: &std::path::Path,
    mut opts: proviso::audit::Options,
) -> String {
    let report = proviso::audit::audit(rules, &[file.to_path_buf()], &mut opts);
    proviso::report::audit_json::render(&report)
}

#[test]
fn results_do_not_depend_on_threads_or_chunk_boundaries() {
    let rules = proviso::rules::load(&["rules".into()]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.jsonl");
    let one = std::fs::read_to_string("fixtures/logs/exports/gateway.jsonl").unwrap();
    std::fs::write(&big, one.repeat(40)).unwrap();
    let render = |threads: usize, chunk: usize| {
        audit_json(
            &rules,
            &big,
            proviso::audit::Options {
                threads,
                chunk_bytes: chunk,
                ..Default::default()
            },
        )
    };
    let reference = render(1, 4 << 20);
    for (threads, chunk) in [(1, 1000), (3, 777), (2, 64 << 10)] {
        assert_eq!(
            render(threads, chunk),
            reference,
            "{threads} threads, {chunk}-byte chunks"
        );
    }
}

/// A file mapped into memory window by window is audited exactly as the
/// same file read into buffers: over several windows, with a line longer
/// than a chunk, one longer than the longest line read, one longer than
/// a whole window, and a last line without its newline.
#[test]
fn mapped_and_read_files_give_the_same_report() {
    let rules = proviso::rules::load(&["rules".into()]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.jsonl");
    let one = std::fs::read_to_string("fixtures/logs/exports/gateway.jsonl").unwrap();
    let long = format!("{{\"pad\":\"{}\"}}\n", "x".repeat(5_000));
    let huge = format!("{{\"pad\":\"{}\"}}\n", "y".repeat(150_000));
    let mut text = one.repeat(20);
    text.push_str(&long);
    text.push_str(&one.repeat(10));
    text.push_str(&huge);
    text.push_str(&one.repeat(10));
    text.push_str(r#"{"timestamp":"2026-03-01T00:00:00Z","host":"api.openai.com","path":"/v1/embeddings","cloud":"aws"}"#);
    std::fs::write(&big, &text).unwrap();
    let render = |threads: usize, chunk: usize, max_line: usize, mmap: bool| {
        audit_json(
            &rules,
            &big,
            proviso::audit::Options {
                threads,
                chunk_bytes: chunk,
                max_line_bytes: max_line,
                mmap,
                ..Default::default()
            },
        )
    };
    for (threads, chunk, max_line) in [(1, 1000, 3000), (2, 777, 10_000), (2, 64 << 10, 1 << 20)] {
        let read = render(threads, chunk, max_line, false);
        assert_eq!(
            render(threads, chunk, max_line, true),
            read,
            "{threads} threads, {chunk}-byte chunks, lines up to {max_line}"
        );
        let doc: serde_json::Value = serde_json::from_str(&read).unwrap();
        let malformed = doc["summary"]["malformed"].as_u64().unwrap();
        let expected = if max_line < 5_000 {
            2
        } else if max_line < 150_000 {
            1
        } else {
            0
        };
        assert_eq!(
            malformed, expected,
            "{threads} threads, lines up to {max_line}"
        );
    }
}

#[test]
fn a_directory_or_missing_file_is_unreadable_and_exits_2() {
    let run = proviso(&["audit", "no/such.log", "--rules", "rules"]).run();
    assert_eq!(run.code, 2);
    assert!(
        run.stdout.contains("proviso::input::unreadable"),
        "{}",
        run.stdout
    );
}

#[test]
fn no_log_parser_panics_on_mutated_lines() {
    use proviso::scan::logs::{
        LineParser, alb, apigateway, appgateway, azure_frontdoor, cloudfront, csv, jsonl, nginx,
    };
    use proviso::value::FieldPath;
    let slots: Vec<FieldPath> = [
        "timestamp",
        "host",
        "path",
        "method",
        "status",
        "client_ip",
        "target_ip",
        "region",
    ]
    .iter()
    .map(|s| FieldPath(vec![s.to_string()]))
    .chain([FieldPath(vec!["properties".into(), "pop".into()])])
    .collect();
    let cf_header =
        "#Fields: date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status";
    let parsers: Vec<(Box<dyn LineParser>, &str)> = vec![
        (
            Box::new(jsonl::JsonParser::new(&slots, jsonl::VOCAB, &[])),
            r#"{"timestamp":"2026-03-01T00:00:00Z","host":"a\u00e9","x":[1,{"y":"}"}],"path":"/v1"}"#,
        ),
        (
            Box::new(jsonl::JsonParser::new(&slots, azure_frontdoor::VOCAB, &[])),
            r#"{"time":"2026-03-01T00:00:00Z","properties":{"hostName":"h:443","pop":"AMS","originIp":"[::1]:443"}}"#,
        ),
        (
            Box::new(jsonl::JsonParser::new(&slots, apigateway::VOCAB, &[])),
            r#"{"requestId":"x","ip":"1.2.3.4","requestTime":"01/Mar/2026:10:00:00 +0000","routeKey":"GET /v1","status":"200","responseLength":"-"}"#,
        ),
        (
            Box::new(jsonl::JsonParser::new(&slots, appgateway::VOCAB, &[])),
            r#"{"timeStamp":"2021-10-14T22:17:11+00:00","category":"ApplicationGatewayAccessLog","properties":{"clientIP":"185.42.129.24","requestUri":"\/a","httpStatus":200,"serverRouted":"52.239.221.65:443","host":"H"}}"#,
        ),
        (
            Box::new(alb::AlbParser::new(&slots, &[])),
            r#"https 2026-03-01T00:00:00Z app/x 1.2.3.4:5 6.7.8.9:443 0 0 0 200 200 1 2 "GET https://h:443/p?q HTTP/1.1" "ua \"x\"" c p arn:aws:e:us-east-1:1:t "t" "d""#,
        ),
        (
            Box::new(nginx::NginxParser::new(&slots, &[])),
            r#"1.2.3.4 - u [01/Mar/2026:00:00:00 +0000] "GET https://h/p HTTP/1.1" 200 5 "-" "ua""#,
        ),
        (
            Box::new(csv::CsvParser::new(&slots, &[], "time,host,\"path\"")),
            r#"2026-03-01,"h ""x""",/p"#,
        ),
        (
            Box::new(cloudfront::CloudfrontParser::new(&slots, &[], cf_header)),
            "2026-03-01\t00:00:00\tIAD\t1\t1.2.3.4\tGET\th\t/p\t200",
        ),
    ];
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move || {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_F491_4F6C_DD1D)
    };
    let tokens = [
        "\"", "\\", "{", "}", "[", "]", ",", ":", " ", "\t", "é", "\\u12", "\\ud800", "-", "0e",
        "[::1]:", "://", "?",
    ];
    for (parser, seed) in &parsers {
        for _ in 0..4000 {
            let mut line = seed.to_string();
            for _ in 0..(next() % 4 + 1) {
                let mut at = (next() as usize) % (line.len() + 1);
                while !line.is_char_boundary(at) {
                    at -= 1;
                }
                match next() % 3 {
                    0 => line.insert_str(at, tokens[(next() as usize) % tokens.len()]),
                    1 => line.truncate(at),
                    _ => {
                        let mut end = (at + (next() as usize) % 8).min(line.len());
                        while !line.is_char_boundary(end) {
                            end -= 1;
                        }
                        line.replace_range(at..end.max(at), "");
                    }
                }
            }
            let mut out: Vec<Option<Slot<'_>>> = vec![None; slots.len()];
            let _ = parser.parse(&line, &mut out);
            let _ = proviso::scan::logs::parse_timestamp(&line);
            let _ = proviso::scan::logs::detect(line.as_bytes());
        }
    }
}

/// Lines are read only for what judging needs (no bundled clause reads
/// `method` or `status`), but a violation that is shown or written out is
/// read again in full: its message names the method, and `--findings`
/// carries every field, with and without `--findings` in the same run.
#[test]
fn fields_no_clause_reads_still_reach_messages_and_findings() {
    let line = br#"{"timestamp":"2026-03-01T10:00:00Z","host":"api.openai.com","path":"/v1/chat/completions","method":"POST","status":201,"cloud":"aws"}
"#;
    let dir = tempfile::tempdir().unwrap();
    let findings = dir.path().join("findings.jsonl");
    let findings_arg = findings.to_str().unwrap();
    for extra in [&[][..], &["--findings", findings_arg][..]] {
        let mut args = vec!["audit", "-", "--rules", "rules", "--format", "json"];
        args.extend_from_slice(extra);
        let run = proviso(&args).stdin(line).run();
        let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        let clause = report["clauses"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["clause"] == "stateless_on_azure")
            .unwrap();
        assert_eq!(clause["violations"], 1);
        let message = clause["samples"][0]["message"].as_str().unwrap();
        assert!(
            message.contains("POST api.openai.com/v1/chat/completions"),
            "{message}"
        );
    }
    let written: serde_json::Value =
        serde_json::from_str(std::fs::read_to_string(&findings).unwrap().trim()).unwrap();
    assert_eq!(written["fields"]["method"], "POST");
    assert_eq!(written["fields"]["status"], "201");
}

/// Reads `input` (auto-detected, from standard input) with a rule every
/// record violates, and returns each record's vocabulary fields as
/// `--findings` writes them (with its line and timestamp), and the
/// summary.
fn fields_read(input: &str) -> (Vec<serde_json::Value>, serde_json::Value) {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("probe.proviso");
    std::fs::write(
        &rules,
        "agreement probe \"probe\"\nsource s \"s\" dated 2000-01-01\n\
         terms all \"all\" effective 1990-01-01 {\n  clause everything \"every record\" {\n\
         cite s \"x\"\n    severity error\n    require host == \"zzz-never\"\n  }\n}\n",
    )
    .unwrap();
    let findings = dir.path().join("findings.jsonl");
    let run = proviso(&[
        "audit",
        "-",
        "--rules",
        rules.to_str().unwrap(),
        "--format",
        "json",
        "--fail-on",
        "never",
        "--findings",
        findings.to_str().unwrap(),
    ])
    .stdin(input.as_bytes())
    .run();
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).expect(&run.stdout);
    let records = std::fs::read_to_string(&findings)
        .unwrap_or_default()
        .lines()
        .map(|l| {
            let d: serde_json::Value = serde_json::from_str(l).unwrap();
            let mut f = d["fields"].clone();
            f["line"] = d["line"].clone();
            f["timestamp"] = d["timestamp"].clone();
            f
        })
        .collect();
    (records, doc["summary"].clone())
}

/// Lines shaped as the formats' own documentation shows them, with the
/// quirks it mentions, read field by field.
#[test]
fn exports_shaped_as_the_formats_documentation_are_read() {
    // CloudFront: AWS's example ends its lines with a tab; the file may
    // start with a byte-order mark.
    let cf = "\u{feff}#Version: 1.0\n#Fields: date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status x-host-header\n\
              2026-03-01\t12:00:00\tIAD89-C1\t2100\t192.0.2.100\tPOST\td1.cloudfront.net\t/v1/chat/completions\t200\tapi.openai.com\t\n\
              2026-03-01\t12:00:01\tIAD89-C1\t2100\t192.0.2.100\tGET\td1.cloudfront.net\t/x\t200\t-\n";
    let (records, summary) = fields_read(cf);
    assert_eq!(summary["malformed"], 0, "{summary}");
    assert_eq!(records.len(), 2);
    assert_eq!(records[0]["host"], "api.openai.com");
    assert_eq!(records[0]["client_ip"], "192.0.2.100");
    // `x-host-header` is `-`: the distribution's domain instead.
    assert_eq!(records[1]["host"], "d1.cloudfront.net");

    // CloudFront standard logging v2: fields chosen and ordered at will,
    // separated by spaces; and a file without its `#` lines.
    let v2 = "#Fields: time c-ip date cs-method x-host-header cs-uri-stem sc-status\n\
              12:00:00 192.0.2.100 2026-03-01 POST api.openai.com /v1/embeddings 200\n";
    let (records, summary) = fields_read(v2);
    assert_eq!(summary["malformed"], 0, "{summary}");
    assert_eq!(records[0]["timestamp"], "2026-03-01T12:00:00Z");
    assert_eq!(records[0]["path"], "/v1/embeddings");
    // (Without `#Fields:`, the 33 fields of the documented default order.)
    let bare = "2026-03-01\t12:00:00\tIAD89-C1\t2100\t192.0.2.100\tPOST\td111111abcdef8.cloudfront.net\t/v1/chat/completions\t200\t-\topenai-python/1.54.0\t-\t-\tMiss\tabcdEFGH==\tapi.openai.com\thttps\t900\t0.350\t-\tTLSv1.3\tTLS_AES_128_GCM_SHA256\tMiss\tHTTP/2.0\t-\t-\t51000\t0.120\tMiss\tapplication/json\t2000\t-\t-\n";
    let (records, summary) = fields_read(bare);
    assert_eq!(summary["outside_terms"], 0, "{summary}");
    assert_eq!(summary["malformed"], 0, "{summary}");
    assert_eq!(records[0]["host"], "api.openai.com");

    // Azure Front Door: `originIp` is `N/A` on a cache hit; the classic
    // log has no `hostName`, only the full `requestUri`.
    let afd = r#"{"time":"2026-03-01T12:00:00.0000000Z","category":"FrontDoorAccessLog","properties":{"trackingReference":"0a","httpMethod":"POST","requestUri":"https://api.openai.com:443/v1/embeddings","hostName":"api.openai.com","clientIp":"192.0.2.1","originIp":"N/A","httpStatusCode":"200"}}
{"time":"2026-03-01T12:00:00.0000000Z","category":"FrontdoorAccessLog","properties":{"trackingReference":"0b","httpMethod":"GET","requestUri":"https://classic.example:443/v1/x?y=1","clientIp":"192.0.2.2","httpStatusCode":"200"}}
"#;
    let (records, summary) = fields_read(afd);
    assert_eq!(summary["malformed"], 0, "{summary}");
    assert_eq!(records[0]["host"], "api.openai.com");
    assert!(records[0].get("target_ip").is_none(), "{}", records[0]);
    assert_eq!(records[1]["host"], "classic.example");
    assert_eq!(records[1]["path"], "/v1/x");

    // The same records as Azure sends them to Event Hubs, and as
    // Microsoft's documentation prints them: `{"records": [...]}`,
    // pretty-printed. Each record keeps the line it starts on.
    let values: Vec<serde_json::Value> = afd
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let wrapped = serde_json::to_string_pretty(&serde_json::json!({ "records": values })).unwrap();
    let (records, summary) = fields_read(&wrapped);
    assert_eq!(summary["records"], 2, "{summary}");
    assert_eq!(summary["malformed"], 0, "{summary}");
    assert_eq!(records[0]["host"], "api.openai.com");
    assert_eq!(records[1]["host"], "classic.example");
    let starts: Vec<u64> = wrapped
        .lines()
        .enumerate()
        .filter(|(_, l)| *l == "    {")
        .map(|(i, _)| i as u64 + 1)
        .collect();
    assert_eq!(
        records
            .iter()
            .map(|r| r["line"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        starts
    );
}
