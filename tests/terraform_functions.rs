//! Terraform's functions through proviso's real scanner, held to what
//! Terraform itself printed for the same expressions
//! (`fixtures/terraform/functions/cases.txt`, recorded by `record.py` beside
//! it; CI never runs Terraform).
//!
//! Every case becomes `resource "terraform_data" "pN" { input = EXPR }` in
//! one module (with `module.tf`, whose `local.u` is known only after apply),
//! the module is scanned, and `attributes.input` of each record is compared
//! with Terraform's answer:
//! - JSON: proviso's value is known and equal (numbers to 1e-12);
//! - `unknown`: proviso's value is (or holds) an unknown that is not an error;
//! - `error: …`: proviso's value is an unknown whose reason is
//!   "Terraform would fail here: …".
//!
//! A case marked `# proviso: unknown (why)` is one where proviso knowingly
//! gives a plain unknown instead (its unknowns have no type); the test holds
//! it to that, so the mark is removed when proviso learns more.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed unwrap is a failed test"
)]

use proviso::scan::terraform::error::FAILS;
use proviso::scan::terraform::funcs::EVALUATED;
use proviso::scan::terraform::{Options, scan};
use proviso::value::Value;
use std::collections::BTreeMap;
use std::path::Path;

const DIR: &str = "fixtures/terraform/functions";

struct Case {
    line: usize,
    expr: String,
    answer: String,
    proviso_unknown: bool,
}

fn cases() -> Vec<Case> {
    let text = std::fs::read_to_string(Path::new(DIR).join("cases.txt")).unwrap();
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let (line_text, note) = match line.split_once("  # proviso:") {
            Some((l, n)) => (l, Some(n.trim())),
            None => (line, None),
        };
        let (expr, answer) = line_text
            .rsplit_once(" => ")
            .unwrap_or_else(|| panic!("line {}: no ` => `", i + 1));
        assert_ne!(answer, "?", "line {}: not recorded yet", i + 1);
        if let Some(n) = note {
            assert!(
                n.starts_with("unknown"),
                "line {}: unknown note `{n}`",
                i + 1
            );
        }
        out.push(Case {
            line: i + 1,
            expr: expr.trim().to_string(),
            answer: answer.trim().to_string(),
            proviso_unknown: note.is_some(),
        });
    }
    out
}

/// Scans a module made of `module.tf` plus one probe resource per
/// expression; returns each probe's `input` by probe index.
fn evaluate(exprs: &[&str]) -> BTreeMap<usize, Value> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(Path::new(DIR).join("module.tf"), dir.path().join("main.tf")).unwrap();
    for (i, e) in exprs.iter().enumerate() {
        std::fs::write(
            dir.path().join(format!("p{i}.tf")),
            format!("resource \"terraform_data\" \"p{i}\" {{\n  input = {e}\n}}\n"),
        )
        .unwrap();
    }
    let out = scan(&[dir.path().to_path_buf()], &Options::default());
    assert!(
        out.malformed.is_empty(),
        "cases that do not parse: {:?}",
        out.malformed
    );
    let mut values = BTreeMap::new();
    for r in out.records {
        if let Some(i) = r
            .address
            .strip_prefix("terraform_data.p")
            .and_then(|n| n.parse::<usize>().ok())
        {
            let Some(Value::Map(attrs)) = r.fields.get("attributes") else {
                panic!("{} has no attributes", r.address)
            };
            values.insert(i, attrs.get("input").cloned().unwrap_or(Value::Null));
        }
    }
    values
}

fn same(v: &Value, j: &serde_json::Value) -> bool {
    use serde_json::Value as J;
    match (v, j) {
        (Value::Null, J::Null) => true,
        (Value::Bool(a), J::Bool(b)) => a == b,
        (Value::Num(a), J::Number(b)) => {
            let b = b.as_f64().unwrap();
            (a - b).abs() <= 1e-12 * b.abs().max(1.0)
        }
        (Value::Str(a), J::String(b)) => a.as_ref() == b,
        (Value::List(a), J::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(x, y))
        }
        (Value::Map(a), J::Object(b)) => {
            a.len() == b.len() && a.iter().all(|(k, x)| b.get(k).is_some_and(|y| same(x, y)))
        }
        _ => false,
    }
}

fn failure(v: &Value) -> Option<String> {
    v.find_unknown()
        .filter(|u| u.reason.starts_with(FAILS))
        .map(|u| u.reason.clone())
}

fn judge(case: &Case, got: &Value) -> Result<(), String> {
    let unknown = got.find_unknown();
    if case.proviso_unknown {
        return match unknown {
            Some(u) if !u.reason.starts_with(FAILS) => Ok(()),
            _ => Err(format!(
                "marked `proviso: unknown` but proviso gives {got} ({:?}); drop the mark?",
                failure(got)
            )),
        };
    }
    if case.answer == "unknown" {
        return match unknown {
            Some(u) if !u.reason.starts_with(FAILS) => Ok(()),
            _ => Err(format!(
                "Terraform: unknown; proviso: {got} {:?}",
                failure(got)
            )),
        };
    }
    if let Some(msg) = case.answer.strip_prefix("error: ") {
        return match failure(got) {
            Some(_) => Ok(()),
            None => Err(format!(
                "Terraform fails ({msg}); proviso gives {got} {:?}",
                unknown.map(|u| &u.reason)
            )),
        };
    }
    let want: serde_json::Value =
        serde_json::from_str(&case.answer).map_err(|e| format!("answer is not JSON: {e}"))?;
    match unknown {
        Some(u) => Err(format!(
            "Terraform: {}; proviso: unknown ({})",
            case.answer, u.reason
        )),
        None if same(got, &want) => Ok(()),
        None => Err(format!(
            "Terraform: {}; proviso: {}",
            case.answer,
            got.to_json()
        )),
    }
}

#[test]
fn every_function_case_matches_what_terraform_printed() {
    let cases = cases();
    assert!(cases.len() >= 300, "only {} cases", cases.len());
    let exprs: Vec<&str> = cases.iter().map(|c| c.expr.as_str()).collect();
    let values = evaluate(&exprs);
    let mut wrong = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let got = values
            .get(&i)
            .unwrap_or_else(|| panic!("no record for line {}", case.line));
        if let Err(why) = judge(case, got) {
            wrong.push(format!("cases.txt:{}: {}\n    {why}", case.line, case.expr));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} cases differ from Terraform:\n{}",
        wrong.len(),
        cases.len(),
        wrong.join("\n")
    );
}

#[test]
fn every_evaluated_function_has_at_least_three_recorded_cases() {
    let cases = cases();
    let mut thin = Vec::new();
    for name in EVALUATED {
        let call = format!("{name}(");
        let n = cases
            .iter()
            .filter(|c| {
                c.expr.match_indices(&call).any(|(at, _)| {
                    !c.expr[..at].ends_with(|ch: char| ch.is_ascii_alphanumeric() || ch == '_')
                })
            })
            .count();
        if n < 3 {
            thin.push(format!("{name}: {n}"));
        }
    }
    assert!(
        thin.is_empty(),
        "functions with fewer than 3 cases: {thin:?}"
    );
}

/// Heredocs with `%{ for }`, `%{ if }` and `~`, against what Terraform
/// v1.11.4 printed for `jsonencode(local.NAME)` in that module.
#[test]
fn heredoc_templates_match_terraform() {
    let dir = Path::new(DIR).join("heredoc");
    let out = scan(&[dir], &Options::default());
    assert!(out.malformed.is_empty(), "{:?}", out.malformed);
    let record = out
        .records
        .iter()
        .find(|r| r.address == "terraform_data.heredoc")
        .expect("the heredoc record");
    let Some(Value::Map(attrs)) = record.fields.get("attributes") else {
        panic!("no attributes")
    };
    let Some(Value::Map(input)) = attrs.get("input") else {
        panic!("no input: {attrs:?}")
    };
    let terraform = [
        (
            "flush",
            "    hosts:\n\n      - web\n\n      - db\n\n    ports:\n          db: 5432\n          web: 443\n        done\n",
        ),
        ("plain", "many\n"),
        ("lines", "    web\n    db\n"),
        (
            "user_data",
            "#!/bin/bash\necho \"${HOME}\" %{ not a directive }\n\nsystemctl start web\n\nsystemctl start db\n\n  indented web\n",
        ),
        ("plain_for", "  db=5432\n    web=443\n  end\n"),
        ("blank", "     a\n  \n   b ${x} %{y}\n     db\ntab\n"),
    ];
    for (name, want) in terraform {
        assert_eq!(
            input.get(name).and_then(Value::as_str),
            Some(want),
            "local.{name}: {:?}",
            input.get(name)
        );
    }
}

/// Bad input ends: loops that build nothing, a width of a gigabyte and a
/// product of huge sets give unknowns, not a hang or an allocation without
/// bound.
#[test]
fn work_without_bound_becomes_unknown() {
    let values = evaluate(&[
        r#""%{ for a in range(1024) }%{ for b in range(1024) }%{ for c in range(1024) }%{ endfor }%{ endfor }%{ endfor }""#,
        r#"format("%999999999d", 1)"#,
        r#"indent(999999999, "a\nb")"#,
        "length(setproduct(range(1024), range(1024), range(1024)))",
    ]);
    assert_eq!(values.len(), 4);
    for (i, v) in values {
        let u = v.find_unknown().unwrap_or_else(|| {
            panic!(
                "case {i}: {}",
                v.to_string().chars().take(80).collect::<String>()
            )
        });
        assert!(
            u.reason.contains("too") && !u.reason.starts_with(FAILS),
            "case {i}: {}",
            u.reason
        );
    }
}
