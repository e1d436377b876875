//! `proviso compile --to sql`: what the command accepts and refuses, and
//! the shape of what it writes. Whether the statements answer what the
//! audit answers is `tests/sql_engines.rs`, on the real engines.

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test code: a failed unwrap or index is a failed test"
)]

mod common;

use common::proviso;

const GATEWAY_COLUMNS: &str = "timestamp:varchar,host:varchar,path:varchar,method:varchar,status:bigint,model:varchar,cloud:varchar,region:varchar,client_ip:varchar,upstream_addr:varchar,date:varchar,entry:varchar,product:varchar,amount_usd:decimal(18,2)";

fn write_rules(dir: &std::path::Path, text: &str) -> std::path::PathBuf {
    let p = dir.join("r.proviso");
    std::fs::write(&p, text).unwrap();
    p
}

const ONE_CLAUSE: &str = r#"agreement a "A"
source s "S" dated 2026-01-01
terms t "T" effective 2026-01-01 until 2026-04-27 {
  clause on_azure "Served from Azure" {
    cite s "served from Azure"
    severity error
    applies to host matches { "api.openai.com", "*.openai.azure.com" } and path ~ /^\/v1\/(chat|embeddings)/
    require cloud == "azure"
    message "{address} is served from {cloud}"
  }
}
"#;

#[test]
fn every_dialect_compiles_the_bundled_rules_into_one_statement() {
    for dialect in ["spark", "trino", "duckdb", "datafusion"] {
        for findings in [false, true] {
            let mut args = vec![
                "compile",
                "--rules",
                "rules",
                "--dialect",
                dialect,
                "--table",
                "lake.gateway",
                "--columns",
                GATEWAY_COLUMNS,
                "--param",
                "revenue_share_cap=163858221.72",
            ];
            if findings {
                args.push("--findings");
            }
            let out = proviso(&args).run();
            assert_eq!(out.code, 0, "{dialect}: {}", out.stderr);
            let sql = out.stdout.trim();
            assert!(sql.starts_with("WITH "), "{dialect}: {}", &sql[..80]);
            // One statement, ended by `;`.
            assert!(sql.ends_with(';'));
            assert!(!sql.trim_end_matches(';').contains(";\n"), "{dialect}");
            assert!(sql.contains("FROM lake.gateway t"), "{dialect}");
            // Every clause version the audit reports is in the statement.
            for clause in [
                "stateless_on_azure",
                "frontier_on_azure",
                "frontier_third_party_on_aws",
                "reciprocal_share_ended",
                "federal_in_us",
                "federal_traffic_in_us",
                "cross_cloud_hop",
                "revenue_share",
                "revenue_share_20_percent",
                "first_ship_on_azure",
            ] {
                // (A findings statement picks a record's clause by index.)
                let named = sql.contains(&format!("'{clause}' AS clause"))
                    || sql.contains(&format!("THEN '{clause}'"));
                assert!(named, "{dialect}: {clause}");
            }
        }
    }
}

#[test]
fn each_dialect_gets_its_own_spellings() {
    let dir = tempfile::tempdir().unwrap();
    let rules = write_rules(dir.path(), ONE_CLAUSE);
    let sql = |dialect: &str| {
        let out = proviso(&[
            "compile",
            "--rules",
            rules.to_str().unwrap(),
            "--dialect",
            dialect,
            "--table",
            "t1",
            "--columns",
            "timestamp:varchar,host:varchar,path:varchar,cloud:varchar",
        ])
        .run();
        assert_eq!(out.code, 0, "{}", out.stderr);
        out.stdout
    };
    let spark = sql("spark");
    assert!(spark.contains(" RLIKE '"), "Spark tests a regex with RLIKE");
    assert!(spark.contains("`__pv_"), "Spark quotes with backticks");
    // Spark reads `\` in a literal as an escape: the regex's `\x2F` is
    // written `\\x2F` there, and once elsewhere.
    assert!(spark.contains("\\\\x2F"));
    let duck = sql("duckdb");
    assert!(duck.contains("regexp_matches("));
    assert!(
        duck.contains(" // 86400000"),
        "DuckDB divides integers with //"
    );
    assert!(duck.contains("\\x2F") && !duck.contains("\\\\x2F"));
    let trino = sql("trino");
    assert!(trino.contains("regexp_like("));
    assert!(trino.contains("date_diff('day', DATE '1970-01-01'"));
    let df = sql("datafusion");
    assert!(df.contains("regexp_like("));
    assert!(df.contains("LIKE '%.openai.azure.com' ESCAPE '\\'"));
}

#[test]
fn the_statement_for_one_clause_reads_as_designed() {
    let dir = tempfile::tempdir().unwrap();
    let rules = write_rules(dir.path(), ONE_CLAUSE);
    let out = proviso(&[
        "compile",
        "--rules",
        rules.to_str().unwrap(),
        "--dialect",
        "duckdb",
        "--table",
        "gateway",
        "--columns",
        "timestamp:timestamp,host:varchar,path:varchar,cloud:varchar",
    ])
    .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    // One CTE per line, for a readable snapshot.
    insta::assert_snapshot!(out.stdout.replace("),\n", "),\n\n"));
}

#[test]
fn a_construct_without_an_exact_form_names_clause_construct_and_dialect() {
    let dir = tempfile::tempdir().unwrap();
    let rules = write_rules(
        dir.path(),
        &ONE_CLAUSE.replace(r"/^\/v1\/(chat|embeddings)/", r"/\bv1\b/"),
    );
    for dialect in ["spark", "trino", "duckdb", "datafusion"] {
        let out = proviso(&[
            "compile",
            "--rules",
            rules.to_str().unwrap(),
            "--dialect",
            dialect,
            "--table",
            "t1",
            "--columns",
            "timestamp:varchar,host:varchar,path:varchar,cloud:varchar",
        ])
        .run();
        assert_eq!(out.code, 2, "{dialect}: {}", out.stdout);
        assert!(out.stdout.is_empty(), "nothing is written");
        assert!(
            out.stderr.contains("proviso::compile::unsupported"),
            "{}",
            out.stderr
        );
        assert!(
            out.stderr.contains("clause `on_azure` (terms `t`)"),
            "{}",
            out.stderr
        );
        assert!(
            out.stderr
                .contains(&format!("cannot be compiled for {dialect}")),
            "{}",
            out.stderr
        );
        assert!(out.stderr.contains("word boundary"), "{}", out.stderr);
    }
}

#[test]
fn the_table_must_be_described() {
    let out = proviso(&[
        "compile",
        "--rules",
        "rules",
        "--dialect",
        "duckdb",
        "--table",
        "t",
    ])
    .run();
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("proviso::compile::bad_schema"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("--schema-from"), "{}", out.stderr);

    let out = proviso(&[
        "compile",
        "--rules",
        "rules",
        "--dialect",
        "duckdb",
        "--table",
        "t",
        "--columns",
        "host:varchar,amount:decimal(18,2),bad",
    ])
    .run();
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("proviso::compile::bad_columns"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("`bad` is not NAME:TYPE"),
        "{}",
        out.stderr
    );

    let out = proviso(&[
        "compile",
        "--rules",
        "rules",
        "--dialect",
        "duckdb",
        "--columns",
        "timestamp:timestamp",
    ])
    .run();
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("needs the table's name"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_table_without_a_time_column_needs_one_named_or_a_date() {
    let out = proviso(&[
        "compile",
        "--rules",
        "rules",
        "--dialect",
        "duckdb",
        "--table",
        "t",
        "--columns",
        "host:varchar,path:varchar,cloud:varchar",
    ])
    .run();
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("proviso::compile::no_timestamp"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("--field timestamp=COLUMN"),
        "{}",
        out.stderr
    );

    let named = proviso(&[
        "compile",
        "--rules",
        "rules",
        "--dialect",
        "duckdb",
        "--table",
        "t",
        "--columns",
        "requestTime:timestamp,host:varchar",
        "--field",
        "timestamp=requestTime",
    ])
    .run();
    assert_eq!(named.code, 0, "{}", named.stderr);
    assert!(named.stdout.contains("t.\"requestTime\" AS"));
    assert!(named.stdout.contains("epoch_us("));

    let as_of = proviso(&[
        "compile",
        "--rules",
        "rules",
        "--dialect",
        "duckdb",
        "--table",
        "t",
        "--columns",
        "host:varchar",
        "--as-of",
        "2026-03-01",
    ])
    .run();
    assert_eq!(as_of.code, 0, "{}", as_of.stderr);
    // Every record is judged on 2026-03-01 (day 20513).
    assert!(
        as_of.stdout.contains("20513 >= "),
        "{}",
        &as_of.stdout[..400]
    );
}

#[test]
fn documented_athena_tables_need_no_columns() {
    let out = proviso(&[
        "compile",
        "--rules",
        "rules",
        "--dialect",
        "trino",
        "--table-format",
        "alb-athena",
    ])
    .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    let sql = &out.stdout;
    assert!(
        sql.contains("FROM alb_access_logs t"),
        "the documented table name"
    );
    // The columns of the fields the rules read: the time, the host (of
    // the request URL, else the TLS name), the path, the region (of the
    // target group's ARN).
    for col in [
        "t.\"time\"",
        "t.\"request_url\"",
        "t.\"domain_name\"",
        "t.\"target_group_arn\"",
    ] {
        assert!(sql.contains(col), "{col}");
    }
    // An ALB log is served by AWS.
    assert!(
        sql.contains("COALESCE('aws')") || sql.contains("'aws' AS"),
        "cloud is aws"
    );

    let out = proviso(&[
        "compile",
        "--rules",
        "rules",
        "--dialect",
        "trino",
        "--table-format",
        "cloudfront-athena",
        "--table",
        "logs.cf",
    ])
    .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    for col in [
        "t.\"date\"",
        "t.\"time\"",
        "t.\"x_host_header\"",
        "t.\"cs_host\"",
        "t.\"cs_uri_stem\"",
    ] {
        assert!(out.stdout.contains(col), "{col}");
    }
    assert!(out.stdout.contains("FROM logs.cf t"));
}

#[test]
fn columns_are_read_from_a_sample_file() {
    // JSON lines: nested objects are struct paths, numbers typed.
    let out = proviso(&[
        "compile",
        "--rules",
        "rules",
        "--dialect",
        "duckdb",
        "--table",
        "g",
        "--schema-from",
        "fixtures/logs/exports/gateway.jsonl",
    ])
    .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("t.\"host\""));
    assert!(
        !out.stdout.contains("t.\"trace\""),
        "a column no rule reads is not read"
    );
    // A CSV header: every column text.
    let out = proviso(&[
        "compile",
        "--rules",
        "rules",
        "--dialect",
        "duckdb",
        "--table",
        "l",
        "--schema-from",
        "fixtures/aggregate/ledger-fy26.csv",
    ])
    .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("t.\"amount_usd\""));
    // Not a table.
    let out = proviso(&[
        "compile",
        "--rules",
        "rules",
        "--dialect",
        "duckdb",
        "--table",
        "l",
        "--schema-from",
        "fixtures/does-not-exist.parquet",
    ])
    .run();
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("proviso::compile::bad_schema"),
        "{}",
        out.stderr
    );
}

#[test]
fn parameters_are_checked_as_the_audit_checks_them() {
    let out = proviso(&[
        "compile",
        "--rules",
        "rules",
        "--dialect",
        "duckdb",
        "--table",
        "t",
        "--columns",
        GATEWAY_COLUMNS,
        "--param",
        "revenue_share_capp=1",
    ])
    .run();
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("proviso::cli::unknown_param"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("revenue_share_cap"), "{}", out.stderr);
    // Supplied, the cap is an exact decimal literal of the statement;
    // without it, it is unknown (kind 1), never a number.
    let with = proviso(&[
        "compile",
        "--rules",
        "rules",
        "--dialect",
        "duckdb",
        "--table",
        "t",
        "--columns",
        GATEWAY_COLUMNS,
        "--param",
        "revenue_share_cap=163858221.72",
    ])
    .run();
    assert!(
        with.stdout
            .contains("CAST('163858221.72' AS DECIMAL(38, 6))")
    );
}
