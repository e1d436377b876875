//! `proviso audit` on Parquet: the bundled exports written as Parquet with
//! typed columns (timestamps of every unit and time zone, `date32`,
//! `decimal(18,2)`, integers, a struct) give the report their JSON lines
//! and CSV give, whatever the threads and row group sizes; only the
//! columns the rules read are decoded; a file that is not whole is
//! unreadable, not a panic; and a record's line is its row.
//!
//! The Parquet files are made here, with the `parquet` crate's writer,
//! from the fixtures (no binary fixture is committed).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed unwrap or index is a failed test"
)]

mod common;

use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Fields, Schema, SchemaRef, TimeUnit};
use common::proviso;
use parquet::arrow::ArrowWriter;
use parquet::file::properties::WriterProperties;
use serde_json::Value;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn repo(p: &str) -> PathBuf {
    PathBuf::from(common::REPO).join(p)
}

/// The JSON records of a JSON-lines file (`.gz` too), and its text
/// without the lines that are not records (so that its line numbers are
/// the Parquet file's row numbers).
fn records(path: &Path) -> (Vec<Value>, String) {
    let mut text = String::new();
    let file = std::fs::File::open(path).unwrap();
    if path.extension().is_some_and(|e| e == "gz") {
        flate2::read::GzDecoder::new(file)
            .read_to_string(&mut text)
            .unwrap();
    } else {
        std::io::BufReader::new(file)
            .read_to_string(&mut text)
            .unwrap();
    }
    let mut recs = Vec::new();
    let mut clean = String::new();
    for line in text.lines() {
        if let Ok(v @ Value::Object(_)) = serde_json::from_str::<Value>(line) {
            recs.push(v);
            clean.push_str(line);
            clean.push('\n');
        }
    }
    (recs, clean)
}

/// Records as a batch of `schema` (Arrow's JSON decoder: strings to
/// timestamps and dates, numbers to exact decimals).
fn batch(recs: &[Value], schema: &SchemaRef) -> RecordBatch {
    let mut decoder = arrow_json::ReaderBuilder::new(schema.clone())
        .with_batch_size(recs.len().max(1))
        .build_decoder()
        .unwrap();
    decoder.serialize(recs).unwrap();
    decoder
        .flush()
        .unwrap()
        .unwrap_or_else(|| RecordBatch::new_empty(schema.clone()))
}

/// `batch` with its `timestamp` column in `unit` and time zone `tz`.
fn retime(batch: &RecordBatch, unit: TimeUnit, tz: Option<&str>) -> RecordBatch {
    let schema = batch.schema();
    let mut fields = Vec::new();
    let mut columns: Vec<ArrayRef> = Vec::new();
    for (f, c) in schema.fields().iter().zip(batch.columns()) {
        if f.name() == "timestamp" {
            let t = DataType::Timestamp(unit, tz.map(Arc::from));
            columns.push(arrow_cast::cast(c, &t).unwrap());
            fields.push(Field::new(f.name(), t, true));
        } else {
            columns.push(c.clone());
            fields.push(f.as_ref().clone());
        }
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap()
}

/// Writes `batch` as Parquet, `rows_per_group` rows a row group.
fn write_parquet(batch: &RecordBatch, rows_per_group: usize, path: &Path) {
    let props = WriterProperties::builder()
        .set_max_row_group_row_count(Some(rows_per_group))
        .build();
    let file = std::fs::File::create(path).unwrap();
    let mut w = ArrowWriter::try_new(file, batch.schema(), Some(props)).unwrap();
    w.write(batch).unwrap();
    w.close().unwrap();
}

fn utc_ms() -> DataType {
    DataType::Timestamp(TimeUnit::Millisecond, Some("+00:00".into()))
}

fn s(name: &str) -> Field {
    Field::new(name, DataType::Utf8, true)
}

/// The columns of `fixtures/logs/exports/gateway.jsonl`, typed.
fn gateway_schema() -> SchemaRef {
    let trace = Fields::from(vec![
        s("id"),
        Field::new(
            "tags",
            DataType::List(Arc::new(Field::new("item", DataType::Utf8, true))),
            true,
        ),
    ]);
    Arc::new(Schema::new(vec![
        Field::new("timestamp", utc_ms(), true),
        s("host"),
        s("path"),
        s("method"),
        Field::new("status", DataType::Int32, true),
        s("client_ip"),
        s("upstream_addr"),
        Field::new("bytes_in", DataType::Int64, true),
        Field::new("bytes_out", DataType::Int64, true),
        s("cloud"),
        s("region"),
        Field::new("trace", DataType::Struct(trace), true),
    ]))
}

/// The columns of the aggregate fixtures' gateway exports, typed.
fn agg_gateway_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("timestamp", utc_ms(), true),
        s("host"),
        s("path"),
        s("method"),
        Field::new("status", DataType::Int32, true),
        s("model"),
        s("cache"),
        s("cloud"),
        s("region"),
        s("upstream_addr"),
        s("client_ip"),
        Field::new("bytes_in", DataType::Int64, true),
        Field::new("bytes_out", DataType::Int64, true),
        Field::new("latency_ms", DataType::Int64, true),
        s("request_id"),
    ]))
}

/// A ledger's columns: typed (`date32`, `decimal(18,2)`) or all strings.
fn ledger_schema(typed: bool) -> SchemaRef {
    let (date, amount) = if typed {
        (DataType::Date32, DataType::Decimal128(18, 2))
    } else {
        (DataType::Utf8, DataType::Utf8)
    };
    Arc::new(Schema::new(vec![
        Field::new("date", date, true),
        s("entry"),
        s("product"),
        Field::new("amount_usd", amount, true),
    ]))
}

/// A ledger CSV's rows as JSON records (with the CSV's text, less the
/// rows `keep` refuses): `typed` keeps only the rows a typed column can
/// hold (a `YYYY-MM-DD` date, a plain decimal).
fn ledger(path: &Path, typed: bool) -> (Vec<Value>, String) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let mut recs = Vec::new();
    let mut kept = format!("{header}\n");
    for line in lines {
        // (The fixtures quote only an amount with thousands separators.)
        let cells: Vec<String> = match line.split_once('"') {
            Some((head, rest)) => {
                let mut c: Vec<String> = head
                    .trim_end_matches(',')
                    .split(',')
                    .map(String::from)
                    .collect();
                c.push(rest.trim_end_matches('"').to_string());
                c
            }
            None => line.split(',').map(String::from).collect(),
        };
        // A row of three cells is malformed in a CSV (and has no
        // counterpart in a table).
        if cells.len() != 4 {
            continue;
        }
        let plain = |a: &str| {
            a.chars()
                .all(|c| c.is_ascii_digit() || c == '.' || c == '-')
        };
        if typed && (!plain(&cells[3]) || proviso::date::Date::parse(&cells[0]).is_err()) {
            continue;
        }
        let amount = if typed {
            serde_json::from_str::<Value>(&cells[3]).unwrap()
        } else {
            Value::from(cells[3].clone())
        };
        recs.push(serde_json::json!({
            "date": cells[0], "entry": cells[1], "product": cells[2], "amount_usd": amount,
        }));
        kept.push_str(line);
        kept.push('\n');
    }
    (recs, kept)
}

fn rules(cap: Option<&str>) -> proviso::rules::RuleSet {
    let mut rules = proviso::rules::load(&[repo("rules")]).unwrap();
    if let Some(cap) = cap {
        assert!(
            rules
                .set_params(&[("revenue_share_cap".into(), cap.into())])
                .is_empty()
        );
    }
    rules
}

fn audit(rules: &proviso::rules::RuleSet, files: &[PathBuf], threads: usize) -> String {
    let mut opts = proviso::audit::Options {
        threads,
        progress: false,
        ..Default::default()
    };
    let report = proviso::audit::audit(rules, files, &mut opts);
    proviso::report::audit_json::render(&report)
}

/// What two reports on the same records must share: everything but the
/// inputs' names, formats and sizes and the malformed lines' text (a
/// CSV's line numbers count its header: they are made rows here).
fn comparable(report: &str, names: &[(PathBuf, PathBuf)]) -> Value {
    let mut doc: Value = serde_json::from_str(report).unwrap();
    fn rows(v: &mut Value) {
        match v {
            Value::Object(o) => {
                // (A Parquet sample also says its row.)
                o.remove("row");
                let csv = o
                    .get("file")
                    .and_then(Value::as_str)
                    .is_some_and(|f| f.ends_with(".csv"));
                if let (true, Some(Value::Number(n))) = (csv, o.get("line")) {
                    let row = n.as_u64().unwrap() - 1;
                    o.insert("line".into(), row.into());
                }
                o.values_mut().for_each(rows);
            }
            Value::Array(a) => a.iter_mut().for_each(rows),
            _ => {}
        }
    }
    rows(&mut doc);
    let mut text = doc.to_string();
    for (from, to) in names {
        text = text.replace(
            &proviso::source::display_path(from),
            &proviso::source::display_path(to),
        );
    }
    let mut doc: Value = serde_json::from_str(&text).unwrap();
    for input in doc["inputs"].as_array_mut().unwrap() {
        let o = input.as_object_mut().unwrap();
        for k in ["format", "compression", "bytes"] {
            o.remove(k);
        }
    }
    doc["summary"].as_object_mut().unwrap().remove("bytes");
    let malformed = doc["malformed"].as_array().unwrap().len();
    doc["malformed"] = malformed.into();
    doc
}

/// The bundled gateway export, as Parquet with a timestamp of each unit
/// (UTC, another zone, none), in row groups of several sizes, on 1 and 4
/// threads: the report of the JSON lines.
#[test]
fn the_gateway_export_as_parquet_gives_the_json_lines_report() {
    let dir = tempfile::tempdir().unwrap();
    let original = repo("fixtures/logs/exports/gateway.jsonl");
    let (recs, _) = records(&original);
    let rules = rules(None);
    let want = comparable(&audit(&rules, std::slice::from_ref(&original), 1), &[]);
    assert!(want["summary"]["no_timestamp"].as_u64().unwrap() >= 1);
    assert!(want["summary"]["violations"].as_u64().unwrap() >= 1);
    let base = batch(&recs, &gateway_schema());
    for (unit, tz) in [
        (TimeUnit::Millisecond, Some("+00:00")),
        (TimeUnit::Microsecond, Some("+05:30")),
        (TimeUnit::Nanosecond, None),
    ] {
        let b = retime(&base, unit, tz);
        for rows in [1, 7, 1000] {
            let pq = dir.path().join(format!("gateway-{unit:?}-{rows}.parquet"));
            write_parquet(&b, rows, &pq);
            let one = audit(&rules, std::slice::from_ref(&pq), 1);
            assert_eq!(
                audit(&rules, std::slice::from_ref(&pq), 4),
                one,
                "{unit:?}, {rows} rows a group: threads change nothing"
            );
            let got = comparable(&one, &[(pq.clone(), original.clone())]);
            assert_eq!(got, want, "{unit:?} {tz:?}, {rows} rows a group");
        }
    }
}

/// The aggregate fixtures (gateway exports and ledgers) as Parquet, with
/// `date32` dates and `decimal(18,2)` amounts, or with the ledgers'
/// columns as strings (malformed dates and amounts and all): the groups,
/// figures and evidence of their JSON lines and CSV, with and without the
/// cap.
#[test]
fn the_aggregate_fixtures_as_parquet_give_the_same_groups_and_figures() {
    let dir = tempfile::tempdir().unwrap();
    for typed in [true, false] {
        let mut originals = Vec::new();
        let mut parquets = Vec::new();
        let mut names = Vec::new();
        for (i, name) in [
            "gateway-2026-h1.jsonl.gz",
            "gateway-2026-h2.jsonl.gz",
            "gateway-backfill.jsonl",
            "ledger-fy26.csv",
            "ledger-fy27.csv",
            "ledger-adjustments.csv",
        ]
        .iter()
        .enumerate()
        {
            let path = repo(&format!("fixtures/aggregate/{name}"));
            let (recs, text, schema, ext) = if name.ends_with(".csv") {
                let (r, t) = ledger(&path, typed);
                (r, t, ledger_schema(typed), "csv")
            } else {
                let (r, t) = records(&path);
                (r, t, agg_gateway_schema(), "jsonl")
            };
            // The originals, less what a table cannot hold (a line that is
            // not JSON, a CSV row of three cells).
            let orig = dir.path().join(format!("{i}-{typed}.{ext}"));
            std::fs::write(&orig, text).unwrap();
            let pq = dir.path().join(format!("{i}-{typed}.parquet"));
            let b = batch(&recs, &schema);
            let b = if ext == "jsonl" {
                retime(&b, TimeUnit::Microsecond, Some("-08:00"))
            } else {
                b
            };
            write_parquet(&b, 100 + 37 * i, &pq);
            names.push((pq.clone(), orig.clone()));
            originals.push(orig);
            parquets.push(pq);
        }
        for cap in [None, Some("20000"), Some("0")] {
            let rules = rules(cap);
            let want = comparable(&audit(&rules, &originals, 2), &[]);
            let groups: usize = want["clauses"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|c| c["groups"].as_array())
                .map(Vec::len)
                .sum();
            assert!(groups > 0, "the fixtures make findings");
            let one = audit(&rules, &parquets, 1);
            assert_eq!(audit(&rules, &parquets, 4), one, "threads change nothing");
            let got = comparable(&one, &names);
            if got != want {
                let pretty = |v: &Value| serde_json::to_string_pretty(v).unwrap();
                let diff = similar_lines(&pretty(&want), &pretty(&got));
                panic!("typed: {typed}, cap: {cap:?}: the reports differ:\n{diff}");
            }
        }
    }
}

/// The lines of `b` that are not in `a` (`+`) and of `a` not in `b` (`-`),
/// in order: enough to see where two reports differ.
fn similar_lines(a: &str, b: &str) -> String {
    let (la, lb): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    let mut out = String::new();
    for (i, (x, y)) in la.iter().zip(&lb).enumerate() {
        if x != y {
            out.push_str(&format!("{i}: - {x}\n{i}: + {y}\n"));
        }
    }
    out.lines().take(40).collect::<Vec<_>>().join("\n")
}

/// The gateway export as Parquet, with extra columns.
fn gateway_parquet(dir: &Path, name: &str, extra: bool) -> PathBuf {
    let (recs, _) = records(&repo("fixtures/logs/exports/gateway.jsonl"));
    let b = batch(&recs, &gateway_schema());
    let b = if extra {
        let n = b.num_rows();
        let schema = b.schema();
        let mut fields: Vec<Field> = schema.fields().iter().map(|f| f.as_ref().clone()).collect();
        let mut columns = b.columns().to_vec();
        // Bytes that are not UTF-8 (a row that read them would be
        // malformed) and a wide text column.
        let blob: Vec<Vec<u8>> = (0..n).map(|i| vec![0xff, 0xfe, i as u8]).collect();
        columns.push(Arc::new(arrow_array::BinaryArray::from_iter_values(blob)));
        fields.push(Field::new("payload", DataType::Binary, true));
        let wide: Vec<String> = (0..n).map(|i| format!("{i:x}").repeat(20_000)).collect();
        columns.push(Arc::new(arrow_array::StringArray::from(wide)));
        fields.push(Field::new("body", DataType::Utf8, true));
        RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap()
    } else {
        b
    };
    let path = dir.join(name);
    write_parquet(&b, 10, &path);
    path
}

/// Columns no field of the run reads are not decoded: a column of bytes
/// that are not UTF-8 and a wide text column change nothing, and the
/// bytes read are those of the columns read.
#[test]
fn only_the_columns_the_run_reads_are_decoded() {
    let dir = tempfile::tempdir().unwrap();
    let narrow = gateway_parquet(dir.path(), "narrow.parquet", false);
    let wide = gateway_parquet(dir.path(), "wide.parquet", true);
    let rules = rules(None);
    let want = comparable(&audit(&rules, std::slice::from_ref(&narrow), 2), &[]);
    let report = audit(&rules, std::slice::from_ref(&wide), 2);
    assert_eq!(comparable(&report, &[(wide.clone(), narrow.clone())]), want);
    let doc: Value = serde_json::from_str(&report).unwrap();
    let read = doc["inputs"][0]["bytes"].as_u64().unwrap();
    let size = std::fs::metadata(&wide).unwrap().len();
    assert!(read * 10 < size, "{read} bytes read of a {size}-byte file");
}

/// A file cut short, a file of nothing but the magic bytes, a Parquet
/// file on standard input: unreadable, named, exit 2; a file of no rows:
/// nothing judged, exit 2.
#[test]
fn a_parquet_file_that_is_not_whole_is_unreadable_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let whole = gateway_parquet(dir.path(), "whole.parquet", false);
    let bytes = std::fs::read(&whole).unwrap();
    let cut = dir.path().join("cut.parquet");
    std::fs::write(&cut, &bytes[..bytes.len() - 40]).unwrap();
    let magic = dir.path().join("magic.parquet");
    std::fs::write(&magic, b"PAR1").unwrap();
    let body_only = dir.path().join("body.parquet");
    std::fs::write(&body_only, &bytes[..bytes.len() / 2]).unwrap();
    for file in [&cut, &magic, &body_only] {
        let out = proviso(&[
            "audit".as_ref(),
            file.as_os_str(),
            "--rules".as_ref(),
            "rules".as_ref(),
        ])
        .run();
        assert_eq!(out.code, 2, "{}", out.stderr);
        let all = format!("{}{}", out.stdout, out.stderr);
        assert!(
            all.contains("proviso::input::unreadable") && all.contains("as Parquet"),
            "{all}"
        );
        assert!(all.contains(file.file_name().unwrap().to_str().unwrap()));
        assert!(!all.contains("panicked"), "{all}");
    }
    let out = proviso(&["audit", "-", "--rules", "rules"])
        .stdin(bytes.clone())
        .run();
    assert_eq!(out.code, 2);
    let all = format!("{}{}", out.stdout, out.stderr);
    assert!(all.contains("standard input"), "{all}");
    // No rows at all.
    let empty = dir.path().join("empty.parquet");
    write_parquet(&RecordBatch::new_empty(gateway_schema()), 10, &empty);
    let out = proviso(&[
        "audit".as_ref(),
        empty.as_os_str(),
        "--rules".as_ref(),
        "rules".as_ref(),
    ])
    .run();
    assert_eq!(out.code, 2);
    let all = format!("{}{}", out.stdout, out.stderr);
    assert!(all.contains("proviso::audit::nothing_judged"), "{all}");
}

/// A record's line is its row: samples, `--findings` and malformed
/// reports say `file.parquet:row N`; a nested field is read by path
/// (`--field host=trace.id`).
#[test]
fn findings_and_samples_name_the_row_and_nested_fields_are_read_by_path() {
    let dir = tempfile::tempdir().unwrap();
    let pq = gateway_parquet(dir.path(), "gw.parquet", false);
    let findings = dir.path().join("findings.jsonl");
    let out = proviso(&[
        "audit".as_ref(),
        pq.as_os_str(),
        "--rules".as_ref(),
        "rules".as_ref(),
        "--findings".as_ref(),
        findings.as_os_str(),
    ])
    .run();
    assert_eq!(out.code, 1, "{}", out.stderr);
    let all = format!("{}{}", out.stdout, out.stderr);
    assert!(all.contains("gw.parquet:row 3)"), "{all}");
    let lines: Vec<Value> = std::fs::read_to_string(&findings)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(!lines.is_empty());
    for f in &lines {
        assert_eq!(f["row"], f["line"]);
    }
    assert_eq!(lines[0]["row"], 3);
    // The host taken from a struct's child.
    let out = proviso(&[
        "audit".as_ref(),
        pq.as_os_str(),
        "--rules".as_ref(),
        "rules".as_ref(),
        "--format".as_ref(),
        "json".as_ref(),
        "--field".as_ref(),
        "host=trace.id".as_ref(),
    ])
    .run();
    let doc: Value = serde_json::from_str(&out.stdout).unwrap();
    let host = doc["inputs"][0]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["field"] == "host")
        .unwrap()
        .clone();
    assert_eq!(host["from"], "trace.id", "{host}");
    assert_eq!(host["records"], 24);
    // A timestamp that is not one: the row is malformed, and named.
    let schema = Arc::new(Schema::new(vec![s("timestamp"), s("host")]));
    let recs = vec![
        serde_json::json!({"timestamp": "2026-03-01T00:00:00Z", "host": "api.openai.com"}),
        serde_json::json!({"timestamp": "yesterday", "host": "api.openai.com"}),
    ];
    let bad = dir.path().join("bad.parquet");
    write_parquet(&batch(&recs, &schema), 10, &bad);
    let out = proviso(&[
        "audit".as_ref(),
        bad.as_os_str(),
        "--rules".as_ref(),
        "rules".as_ref(),
        "--format".as_ref(),
        "json".as_ref(),
    ])
    .run();
    let doc: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(doc["summary"]["malformed"], 1);
    let message = doc["malformed"][0]["message"].as_str().unwrap();
    assert!(message.starts_with("row 2 of `"), "{message}");
}
