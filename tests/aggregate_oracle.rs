//! The aggregate clauses of the bundled contract, audited on a gateway
//! export and a revenue ledger, against an independent oracle.
//!
//! `bench/aggregate/oracle.py` reads CONTRACT.md's "Terms over many
//! records" a second time, in Python with `decimal`, without the Rust
//! engine; `bench/aggregate/generate.py --fixtures` wrote the inputs in
//! `fixtures/aggregate/` and the oracle's answers beside them
//! (`expected/no-cap.json`, `cap-reached.json`, `cap-never-reached.json`).
//! Each test runs `proviso audit <exports> <ledgers> --rules rules --format
//! json [--param revenue_share_cap=V]` and holds its aggregate clauses'
//! `groups[]` (key, outcome, figures, evidence, the malformed lines each
//! was computed without) and the per-record
//! `reciprocal_share_ended` findings against the oracle's.
//!
//! The oracle itself is checked by hand: [`HAND`] holds a few groups whose
//! sums were worked out from the fixture's lines apart from it (integer
//! cents with `awk`, the deciding log lines read one by one), and both the
//! oracle's answers and the audit's are held against them.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed unwrap is a failed test"
)]

mod common;

use common::proviso;
use rust_decimal::Decimal;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::str::FromStr;

/// The inputs, in the order the oracle read them: the gateway export in
/// three files (the backfill, read last, holds two products' earliest
/// requests), then the ledger in three (CRLF; a byte-order mark; late
/// adjustments).
const INPUTS: [&str; 6] = [
    "fixtures/aggregate/gateway-2026-h1.jsonl.gz",
    "fixtures/aggregate/gateway-2026-h2.jsonl.gz",
    "fixtures/aggregate/gateway-backfill.jsonl",
    "fixtures/aggregate/ledger-fy26.csv",
    "fixtures/aggregate/ledger-fy27.csv",
    "fixtures/aggregate/ledger-adjustments.csv",
];

/// The aggregate clauses, each judged per group.
const AGGREGATE: [&str; 3] = [
    "first_ship_on_azure",
    "revenue_share",
    "revenue_share_20_percent",
];

/// The cap that the shares paid since 2026-04-27 reach exactly at the end
/// of August 2026 (6838754.66 + 51200307.96 + 22788052.25 + 51710552.18 +
/// 31320554.67), and one they never reach.
const CAP_REACHED: &str = "163858221.72";
const CAP_NEVER_REACHED: &str = "5000000000";

/// Groups worked out by hand from the fixture. `None` as outcome: the
/// group passes, so it is no finding.
struct Hand {
    clause: &'static str,
    key: (&'static str, &'static str),
    /// Outcome without the cap, with [`CAP_REACHED`], with [`CAP_NEVER_REACHED`].
    outcomes: [Option<&'static str>; 3],
    figures: &'static [(&'static str, &'static str)],
    why: &'static str,
}

const HAND: &[Hand] = &[
    Hand {
        clause: "revenue_share",
        key: ("period", "2026-03"),
        outcomes: [Some("violation"); 3],
        figures: &[
            ("revenue", "239728313.31"),
            ("due", "47945662.662"),
            ("paid", "47945662.66"),
            ("shortfall", "0.002"),
        ],
        why: "20% of 239728313.31 is 47945662.662: paying 47945662.66 is short by a fifth of a cent",
    },
    Hand {
        clause: "revenue_share",
        key: ("period", "2026-02"),
        outcomes: [Some("violation"); 3],
        figures: &[
            ("revenue", "226250718.70"),
            ("due", "45250143.74"),
            ("paid", "36250898.72"),
            ("shortfall", "8999245.02"),
        ],
        why: "the 99999.99 booked on `2026-02-30` and the share to Microsoft written with \
              thousands separators (`\"8,999,245.04\"`) are malformed and join no sum",
    },
    Hand {
        clause: "revenue_share",
        key: ("period", "2026-01"),
        outcomes: [None; 3],
        figures: &[],
        why: "due 49312202.79 (20% of 246561013.95); paid 44420313.25 in ledger-fy26.csv and \
              4891889.56 in ledger-adjustments.csv: 49312202.81, in full only with both files",
    },
    Hand {
        clause: "revenue_share_20_percent",
        key: ("period", "2026-08"),
        outcomes: [Some("unresolved"), None, Some("violation")],
        figures: &[
            ("revenue", "261004622.46"),
            ("due", "52200924.492"),
            ("paid", "31320554.67"),
            ("shortfall", "20880369.822"),
            ("cumulative_paid", "163858221.72"),
        ],
        why: "short, and the shares since 2026-04-27 reach 163858221.72 at the end of the month: \
              excused by a cap of exactly that",
    },
    Hand {
        clause: "first_ship_on_azure",
        key: ("model", "codex-2"),
        outcomes: [Some("violation"); 3],
        figures: &[
            ("first_request", "2026-04-27"),
            ("first_elsewhere", "2026-04-27"),
            ("other_cloud", "gcp"),
            ("first_on_azure", "2026-04-28"),
        ],
        why: "first served by GCP at 2026-04-26T23:30:00-02:00, which is 2026-04-27 UTC: new, \
              and a day before Azure",
    },
    Hand {
        clause: "first_ship_on_azure",
        key: ("model", "sora-3"),
        outcomes: [None; 3],
        figures: &[],
        why: "Azure at 2026-07-15T00:30:00+02:00 (07-14 UTC), AWS at 2026-07-14T23:30:00-02:00 \
              (07-15 UTC): Azure first, though the text says otherwise",
    },
    Hand {
        clause: "first_ship_on_azure",
        key: ("model", "gpt-6-preview"),
        outcomes: [Some("violation"); 3],
        figures: &[
            ("first_request", "2026-06-10"),
            ("first_elsewhere", "2026-06-15"),
            ("other_cloud", "gcp"),
        ],
        why: "a cache hit with no cloud on 2026-06-10 is its first request, GCP serves it from \
              2026-06-15, Azure never",
    },
    Hand {
        clause: "first_ship_on_azure",
        key: ("model", "gpt-5.5-nano"),
        outcomes: [None; 3],
        figures: &[],
        why: "first requested 2026-04-20 (a cache hit, no cloud): not new, though AWS alone \
              serves it from 2026-05-01",
    },
    Hand {
        clause: "first_ship_on_azure",
        key: ("model", "gpt-image-2"),
        outcomes: [None; 3],
        figures: &[],
        why: "first request 2025-09-20 on Azure (in the backfill, read last, before any terms): \
              not a new product, though AWS alone serves it from 2026-05",
    },
];

fn expected(name: &str) -> Value {
    let path = format!("fixtures/aggregate/expected/{name}.json");
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap_or_else(|e| panic!("`{s}` is not a decimal: {e}"))
}

/// Two figures are the same when they are the same decimal number
/// (`257725695.9` is `257725695.90`), else the same text or both null.
fn same_figure(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::String(x), Value::String(y)) => {
            x == y
                || matches!(
                    (Decimal::from_str(x), Decimal::from_str(y)),
                    (Ok(p), Ok(q)) if p == q
                )
        }
        (Value::Number(x), Value::String(y)) | (Value::String(y), Value::Number(x)) => {
            Decimal::from_str(&x.to_string()).ok() == Decimal::from_str(y).ok()
        }
        _ => a == b,
    }
}

/// What one audit run said.
struct Audit {
    code: i32,
    doc: Value,
    /// `--findings` lines.
    findings: Vec<Value>,
    stderr: String,
}

fn audit(cap: Option<&str>, extra: &[&str]) -> Audit {
    let dir = tempfile::tempdir().unwrap();
    let findings = dir.path().join("findings.jsonl");
    let mut args: Vec<String> = vec!["audit".into()];
    args.extend(INPUTS.iter().map(|s| s.to_string()));
    args.extend(["--rules", "rules", "--format", "json", "--findings"].map(String::from));
    args.push(findings.to_str().unwrap().into());
    if let Some(cap) = cap {
        args.push("--param".into());
        args.push(format!("revenue_share_cap={cap}"));
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    let run = proviso(&args).run();
    let doc = run.json();
    let findings = std::fs::read_to_string(&findings)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    Audit {
        code: run.code,
        doc,
        findings,
        stderr: run.stderr,
    }
}

/// The `clauses[]` entry of `clause`: exactly one.
fn clause<'a>(doc: &'a Value, clause: &str) -> &'a Value {
    let all: Vec<&Value> = doc["clauses"]
        .as_array()
        .expect("`clauses` is an array")
        .iter()
        .filter(|c| c["clause"] == clause)
        .collect();
    assert_eq!(
        all.len(),
        1,
        "one `clauses[]` entry for `{clause}`, got {all:#?}"
    );
    all[0]
}

/// A group key as text, `model=o5-mini` or `period=2026-05`.
fn key_text(key: &Value) -> String {
    let obj = key
        .as_object()
        .unwrap_or_else(|| panic!("a group key is an object, got {key}"));
    obj.iter()
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or(&v.to_string())))
        .collect::<Vec<_>>()
        .join(",")
}

/// Every line of every input, decompressed, by file.
fn input_lines() -> BTreeMap<&'static str, Vec<String>> {
    INPUTS
        .iter()
        .map(|&f| {
            let raw = std::fs::read(f).unwrap();
            let text = if raw.starts_with(&[0x1f, 0x8b]) {
                let mut s = String::new();
                flate2::read::MultiGzDecoder::new(&raw[..])
                    .read_to_string(&mut s)
                    .unwrap();
                s
            } else {
                String::from_utf8(raw).unwrap()
            };
            let lines = text
                .lines()
                .map(|l| {
                    l.trim_start_matches('\u{feff}')
                        .trim_end_matches('\r')
                        .to_string()
                })
                .collect();
            (f, lines)
        })
        .collect()
}

/// Holds the audit's aggregate groups and reciprocal-share findings
/// against the oracle's answer `name`.
fn matches_the_oracle(name: &str, run: &Audit) {
    let want = expected(name);
    let lines = input_lines();
    let mut problems: Vec<String> = Vec::new();
    for id in AGGREGATE {
        let got = clause(&run.doc, id);
        let exp = &want["clauses"][id];
        for counter in ["violations", "unresolved"] {
            if got[counter] != exp[counter] {
                problems.push(format!(
                    "{id}: {counter} is {}, the oracle says {}",
                    got[counter], exp[counter]
                ));
            }
        }
        let groups = got["groups"]
            .as_array()
            .unwrap_or_else(|| panic!("{id}: `groups` is an array, got {got:#}"));
        let got_by_key: BTreeMap<String, &Value> =
            groups.iter().map(|g| (key_text(&g["key"]), g)).collect();
        assert_eq!(got_by_key.len(), groups.len(), "{id}: a group twice");
        let exp_by_key: BTreeMap<String, &Value> = exp["groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| (key_text(&g["key"]), g))
            .collect();
        let got_keys: BTreeSet<&String> = got_by_key.keys().collect();
        let exp_keys: BTreeSet<&String> = exp_by_key.keys().collect();
        for k in got_keys.difference(&exp_keys) {
            problems.push(format!(
                "{id} {k}: the audit reports {} {}, the oracle finds it passes",
                got_by_key[*k]["outcome"], got_by_key[*k]["figures"]
            ));
        }
        for k in exp_keys.difference(&got_keys) {
            problems.push(format!(
                "{id} {k}: the oracle finds {} {}, the audit reports nothing",
                exp_by_key[*k]["outcome"], exp_by_key[*k]["figures"]
            ));
        }
        for k in got_keys.intersection(&exp_keys) {
            let (g, e) = (got_by_key[*k], exp_by_key[*k]);
            if g["outcome"] != e["outcome"] {
                problems.push(format!(
                    "{id} {k}: outcome {}, the oracle says {}",
                    g["outcome"], e["outcome"]
                ));
            }
            for (fig, ev) in e["figures"].as_object().unwrap() {
                let gv = &g["figures"][fig];
                // The cap is a parameter, not a `let`: compared where the
                // audit shows it.
                if fig == "revenue_share_cap" && gv.is_null() && !ev.is_null() {
                    continue;
                }
                if !same_figure(gv, ev) {
                    problems.push(format!("{id} {k}: {fig} is {gv}, the oracle says {ev}"));
                }
            }
            problems.extend(evidence_problems(id, k, g, e, &lines));
            // Malformed lines of the group's period: it says it was
            // computed without them.
            let lines_of = |v: &Value| -> BTreeSet<(String, u64)> {
                v.as_array()
                    .into_iter()
                    .flatten()
                    .map(|l| {
                        (
                            l["file"].as_str().unwrap_or("").to_string(),
                            l["line"].as_u64().unwrap_or(0),
                        )
                    })
                    .collect()
            };
            let left_out = lines_of(&e["left_out"]);
            let without = lines_of(&g["computed_without"]["lines"]);
            if left_out != without {
                problems.push(format!(
                    "{id} {k}: computed without {without:?}, the oracle leaves out {left_out:?}"
                ));
            }
        }
    }
    // The per-record clause: every share to OpenAI booked from 2026-04-27.
    let recip = clause(&run.doc, "reciprocal_share_ended");
    let exp = &want["clauses"]["reciprocal_share_ended"];
    if recip["violations"] != exp["violations"] {
        problems.push(format!(
            "reciprocal_share_ended: {} violations, the oracle says {}",
            recip["violations"], exp["violations"]
        ));
    }
    let got: BTreeSet<(String, u64)> = run
        .findings
        .iter()
        .filter(|f| f["clause"] == "reciprocal_share_ended")
        .map(|f| {
            (
                f["file"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
            )
        })
        .collect();
    let want_lines: BTreeSet<(String, u64)> = exp["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["file"].as_str().unwrap().to_string(),
                r["line"].as_u64().unwrap(),
            )
        })
        .collect();
    if got != want_lines {
        problems.push(format!(
            "reciprocal_share_ended: --findings has {got:?}, the oracle says {want_lines:?}"
        ));
    }
    // Malformed lines are counted (and join no sum: the figures above).
    let malformed = want["malformed"].as_array().unwrap().len() as u64;
    if run.doc["summary"]["malformed"] != malformed {
        problems.push(format!(
            "summary.malformed is {}, the oracle lists {malformed}: {:#}",
            run.doc["summary"]["malformed"], want["malformed"]
        ));
    }
    assert!(
        problems.is_empty(),
        "`proviso audit` and the oracle ({name}) disagree:\n  {}\nstderr:\n{}",
        problems.join("\n  "),
        run.stderr
    );
}

/// A group's evidence points at lines a person can check: records of the
/// group, and among them the one that decided it (the first non-Azure
/// request of a product; the first share booked in a month).
fn evidence_problems(
    id: &str,
    key: &str,
    got: &Value,
    exp: &Value,
    lines: &BTreeMap<&'static str, Vec<String>>,
) -> Vec<String> {
    let mut problems = Vec::new();
    let Some(evidence) = got["evidence"].as_array() else {
        return vec![format!("{id} {key}: no `evidence` array: {got:#}")];
    };
    let at = |e: &Value| {
        (
            e["file"].as_str().unwrap_or("").to_string(),
            e["line"].as_u64().unwrap_or(0),
        )
    };
    let shown: BTreeSet<(String, u64)> = evidence.iter().map(at).collect();
    if let Some(first) = exp["evidence"].as_array().and_then(|e| e.first())
        && !shown.contains(&at(first))
    {
        problems.push(format!(
            "{id} {key}: the evidence {shown:?} leaves out {}:{}, the record that decided it",
            first["file"], first["line"]
        ));
    }
    for (file, line) in &shown {
        let text = lines
            .get(file.as_str())
            .and_then(|l| l.get((*line as usize).wrapping_sub(1)));
        let Some(text) = text else {
            problems.push(format!(
                "{id} {key}: evidence {file}:{line} is no line of the inputs"
            ));
            continue;
        };
        let belongs = match key.split_once('=') {
            Some(("model", m)) => text.contains(&format!("\"model\":\"{m}\"")),
            Some(("period", p)) => text.starts_with(p),
            _ => false,
        };
        if !belongs {
            problems.push(format!(
                "{id} {key}: evidence {file}:{line} is not of the group: {text}"
            ));
        }
    }
    problems
}

/// The hand-worked groups, against one result (the oracle's or the
/// audit's, whose groups have the same shape). `which`: 0 no cap, 1 cap
/// reached, 2 cap never reached.
fn hand_problems(source: &str, clauses: &dyn Fn(&str) -> Value, which: usize) -> Vec<String> {
    let mut problems = Vec::new();
    for h in HAND {
        let groups = clauses(h.clause)["groups"].clone();
        let found = groups
            .as_array()
            .into_iter()
            .flatten()
            .find(|g| g["key"][h.key.0] == h.key.1);
        let label = format!("{source}: {} {}={} ({})", h.clause, h.key.0, h.key.1, h.why);
        match (h.outcomes[which], found) {
            (None, None) => {}
            (None, Some(g)) => problems.push(format!("{label}: passes, reported {}", g["outcome"])),
            (Some(o), None) => problems.push(format!("{label}: {o}, not reported")),
            (Some(o), Some(g)) => {
                if g["outcome"] != o {
                    problems.push(format!("{label}: {o}, reported {}", g["outcome"]));
                }
                for (name, v) in h.figures {
                    let got = &g["figures"][*name];
                    let same = match got.as_str() {
                        Some(s) if name.starts_with("first_") || *name == "other_cloud" => s == *v,
                        Some(s) => Decimal::from_str(s).ok() == Some(dec(v)),
                        None => false,
                    };
                    if !same {
                        problems.push(format!("{label}: {name} is {v}, reported {got}"));
                    }
                }
            }
        }
    }
    problems
}

const RUNS: [(&str, Option<&str>); 3] = [
    ("no-cap", None),
    ("cap-reached", Some(CAP_REACHED)),
    ("cap-never-reached", Some(CAP_NEVER_REACHED)),
];

#[test]
fn the_oracle_agrees_with_the_arithmetic_done_by_hand() {
    let mut problems = Vec::new();
    for (which, (name, cap)) in RUNS.iter().enumerate() {
        let doc = expected(name);
        assert_eq!(
            doc["params"]["revenue_share_cap"].as_str().map(dec),
            cap.map(dec),
            "{name}.json was written with the cap the tests pass"
        );
        problems.extend(hand_problems(name, &|c| doc["clauses"][c].clone(), which));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // And the totals the report gives the lead.
    let counts = |name: &str, c: &str| {
        let d = expected(name);
        (
            d["clauses"][c]["violations"].as_u64().unwrap(),
            d["clauses"][c]["unresolved"].as_u64().unwrap(),
        )
    };
    for (name, _) in RUNS {
        assert_eq!(counts(name, "first_ship_on_azure"), (5, 0), "{name}");
        assert_eq!(counts(name, "revenue_share"), (3, 0), "{name}");
        assert_eq!(
            expected(name)["clauses"]["reciprocal_share_ended"]["violations"],
            3
        );
        assert_eq!(expected(name)["malformed"].as_array().unwrap().len(), 8);
    }
    assert_eq!(counts("no-cap", "revenue_share_20_percent"), (0, 5));
    assert_eq!(counts("cap-reached", "revenue_share_20_percent"), (2, 0));
    assert_eq!(
        counts("cap-never-reached", "revenue_share_20_percent"),
        (5, 0)
    );
}

/// The audit's JSON, against the hand-worked groups as well as the oracle.
fn audit_matches(which: usize, extra: &[&str]) -> Audit {
    let (name, cap) = RUNS[which];
    let run = audit(cap, extra);
    let problems = hand_problems(
        &format!("proviso audit ({name})"),
        &|c| clause(&run.doc, c).clone(),
        which,
    );
    assert!(
        problems.is_empty(),
        "{}\nstderr:\n{}",
        problems.join("\n"),
        run.stderr
    );
    matches_the_oracle(name, &run);
    run
}

#[test]
fn without_the_cap_short_months_under_the_restructured_terms_are_unresolved() {
    let run = audit_matches(0, &[]);
    assert_eq!(run.code, 2, "malformed ledger lines make exit code 2");
}

#[test]
fn a_cap_reached_at_the_end_of_august_excuses_the_short_months_from_then_on() {
    let run = audit_matches(1, &["--allow-malformed"]);
    assert_eq!(
        run.code, 1,
        "with --allow-malformed, the findings decide the exit code"
    );
}

#[test]
fn a_cap_never_reached_excuses_no_short_month() {
    audit_matches(2, &[]);
}

#[test]
fn one_thread_finds_what_many_do() {
    let one = audit(None, &["--threads", "1"]);
    let many = audit(None, &["--threads", "4"]);
    for id in AGGREGATE {
        assert_eq!(
            clause(&one.doc, id)["groups"],
            clause(&many.doc, id)["groups"],
            "{id}"
        );
    }
    matches_the_oracle("no-cap", &one);
}

/// An export that does not say the cloud, only the backend address
/// (`upstream_addr`): with the clouds' published ranges (`--ip-ranges`),
/// first-ship finds the same products, first days and clouds.
#[test]
fn clouds_from_ip_ranges_find_the_same_first_ship_breaches() {
    let dir = tempfile::tempdir().unwrap();
    let lines = input_lines();
    let mut args: Vec<String> = vec!["audit".into()];
    for file in INPUTS.iter().filter(|f| f.contains("gateway")) {
        let stripped: Vec<String> = lines[file]
            .iter()
            .map(|l| match serde_json::from_str::<Value>(l) {
                Ok(Value::Object(mut rec)) => {
                    assert!(
                        rec.remove("cloud").is_some() || !rec.contains_key("upstream_addr"),
                        "{l}"
                    );
                    rec.remove("region");
                    Value::Object(rec).to_string()
                }
                _ => l.clone(), // the line cut off stays as it is
            })
            .collect();
        let name = std::path::Path::new(file)
            .file_name()
            .unwrap()
            .to_str()
            .unwrap();
        let path = dir.path().join(name.trim_end_matches(".gz"));
        std::fs::write(&path, stripped.join("\n") + "\n").unwrap();
        args.push(path.to_str().unwrap().into());
    }
    args.extend(
        [
            "--rules",
            "rules",
            "--ip-ranges",
            "fixtures/ip-ranges",
            "--format",
            "json",
            "--allow-malformed",
        ]
        .map(String::from),
    );
    let run = proviso(&args).run();
    let doc = run.json();
    let want = expected("no-cap");
    let strip = |groups: &Value| -> Vec<(String, String, Value)> {
        groups
            .as_array()
            .unwrap()
            .iter()
            .map(|g| {
                (
                    key_text(&g["key"]),
                    g["outcome"].to_string(),
                    g["figures"].clone(),
                )
            })
            .collect()
    };
    let figures_only = |groups: &Value| -> Vec<(String, String, Value)> {
        strip(groups)
            .into_iter()
            .map(|(k, o, f)| {
                let f: serde_json::Map<String, Value> = f
                    .as_object()
                    .unwrap()
                    .iter()
                    .filter(|(name, _)| {
                        [
                            "first_request",
                            "first_elsewhere",
                            "other_cloud",
                            "first_on_azure",
                        ]
                        .contains(&name.as_str())
                    })
                    .map(|(n, v)| (n.clone(), v.clone()))
                    .collect();
                (k, o, Value::Object(f))
            })
            .collect()
    };
    assert_eq!(
        figures_only(&clause(&doc, "first_ship_on_azure")["groups"]),
        figures_only(&want["clauses"]["first_ship_on_azure"]["groups"]),
        "stderr:\n{}",
        run.stderr
    );
}
