//! Rule files built to hurt: nesting thousands deep, defines that double,
//! define chains, ten thousand clauses, lines of 70,000 characters. Each
//! gives a located error or the right answer; none overflows the stack
//! (every case runs every pass in a thread with a small stack, so the
//! nesting limit is shown to hold with room to spare), panics or runs away.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed unwrap is a failed test"
)]

mod common;

use common::{proviso, render_all};
use proviso::diag::Diag;
use proviso::eval::compiled::{Compiled, LineOutcome};
use proviso::eval::{Evaluator, Outcome};
use proviso::source::SourceFile;
use proviso::value::{MapRecord, Value};
use std::collections::BTreeMap;

/// Half the main thread's 8 MiB, on which rule files are read, in a debug
/// build (whose frames are several times a release build's: pest alone
/// takes some 7 KiB per level of parentheses there).
const SMALL_STACK: usize = 4 * 1024 * 1024;

const HEAD: &str = "agreement a \"A\"\nsource s \"S\" dated 2026-01-01\n";

/// A rule file with one clause requiring `require`, after `defines`.
fn clause_file(defines: &str, require: &str) -> String {
    format!(
        "{HEAD}{defines}terms t \"T\" effective 2026-01-01 {{\n  clause c \"C\" {{\n    cite s \"x\"\n    require {require}\n  }}\n}}\n"
    )
}

/// What every pass made of a rule file: the errors, or the outcome of the
/// clause on `record` by both evaluators.
#[derive(Debug)]
enum Run {
    Errors(Vec<Diag>),
    Judged { tree: String, compiled: LineOutcome },
}

/// Formats, loads, lints, explains, runs the examples and judges `record`
/// with the tree evaluator and the compiled rules, on a small stack.
fn every_pass(text: String, record: BTreeMap<String, Value>) -> Run {
    std::thread::Builder::new()
        .stack_size(SMALL_STACK)
        .spawn(move || {
            let file = SourceFile::new("hostile.proviso", text);
            let _ = proviso::rules::format::format(&file);
            let rules = match proviso::rules::build(vec![file]) {
                Ok(r) => r,
                Err(e) => {
                    // Rendering is a pass too.
                    let _ = render_all(&e.errors);
                    return Run::Errors(e.errors);
                }
            };
            let _ = render_all(&proviso::rules::lint::lint(&rules));
            let _ = proviso::rules::examples::run(&rules);
            let _ = proviso::explain::explain(
                &rules,
                None,
                None,
                proviso::explain::english::Markup::Plain,
            );
            let (terms, clause) = rules.clauses().next().unwrap();
            let map = MapRecord {
                fields: record.clone(),
            };
            let tree = match Evaluator::new(&rules).judge(terms, clause, &map) {
                Outcome::Violation => "violation",
                Outcome::Pass => "pass",
                Outcome::NotApplicable => "not applicable",
                Outcome::Excepted(_) => "excepted",
                Outcome::Unresolved(_) => "unresolved",
            }
            .to_string();
            let compiled = Compiled::new(&rules, &[]);
            let slots: Vec<Option<proviso::scan::logs::Slot<'_>>> = compiled
                .slots
                .iter()
                .map(|p| match p.0.as_slice() {
                    [name] => record.get(name).and_then(|v| match v {
                        Value::Str(s) => Some(proviso::scan::logs::Slot::at(
                            proviso::scan::logs::FieldVal::Str(s.to_string().into()),
                            0..0,
                        )),
                        _ => None,
                    }),
                    _ => None,
                })
                .collect();
            let judged = compiled.judge(&compiled.clauses[0], &slots);
            Run::Judged {
                tree,
                compiled: judged,
            }
        })
        .unwrap()
        .join()
        .expect("no pass may overflow the stack or panic")
}

fn host(h: &str) -> BTreeMap<String, Value> {
    BTreeMap::from([("host".to_string(), Value::str(h))])
}

fn codes(run: &Run) -> Vec<&str> {
    match run {
        Run::Errors(e) => e.iter().map(|d| d.code.as_str()).collect(),
        Run::Judged { .. } => vec![],
    }
}

#[test]
fn two_thousand_parentheses_are_a_located_error() {
    let text = clause_file(
        "",
        &format!("{}host == \"x\"{}", "(".repeat(2000), ")".repeat(2000)),
    );
    let run = every_pass(text, host("x"));
    assert_eq!(codes(&run), ["proviso::parse::too_deep"]);
    let Run::Errors(e) = run else { unreachable!() };
    let shown = render_all(&e);
    assert!(
        shown.contains("this nests more than 256 levels deep")
            && shown.contains("hostile.proviso:6:")
            && shown.contains("level 257"),
        "{shown}"
    );
}

#[test]
fn a_hundred_thousand_nots_are_a_located_error() {
    for n in [10_000, 100_000] {
        let text = clause_file("", &format!("{}host == \"x\"", "not ".repeat(n)));
        assert_eq!(
            codes(&every_pass(text, host("x"))),
            ["proviso::parse::too_deep"]
        );
    }
}

/// At the limit every pass still runs, on the small stack, and the two
/// evaluators agree.
#[test]
fn nesting_at_the_limit_runs_every_pass() {
    // The clause's block is level 2: 254 parentheses reach 256.
    let parens = clause_file(
        "",
        &format!("{}host == \"x\"{}", "(".repeat(254), ")".repeat(254)),
    );
    let run = every_pass(parens, host("x"));
    assert!(
        matches!(&run, Run::Judged { tree, compiled } if tree == "pass" && *compiled == LineOutcome::Pass),
        "{run:?}"
    );
    // 256 `not`s: an even number, so the requirement is `host == "x"`.
    let nots = clause_file("", &format!("{}host == \"x\"", "not ".repeat(254)));
    let run = every_pass(nots, host("y"));
    assert!(
        matches!(&run, Run::Judged { tree, compiled } if tree == "violation" && *compiled == LineOutcome::Violation),
        "{run:?}"
    );
    // Nested `given` maps in an example are brackets too.
    let deep_given = format!(
        "{HEAD}terms t \"T\" effective 2026-01-01 {{\n  clause c \"C\" {{\n    cite s \"x\"\n    require host == \"x\"\n    example \"e\" on 2026-02-01 {{\n      given {{ host: \"x\", tags: {}1{} }}\n      expect no violation\n    }}\n  }}\n}}\n",
        "{ a: ".repeat(250),
        " }".repeat(250)
    );
    assert!(matches!(
        every_pass(deep_given, host("x")),
        Run::Judged { .. }
    ));
}

/// Each define uses the previous one twice: 2^40 paths, one value each.
#[test]
fn defines_that_double_are_evaluated_once_each() {
    let mut defines = String::from("define d0 = host == \"x\"\n");
    for i in 1..=40 {
        defines.push_str(&format!("define d{i} = d{} or d{}\n", i - 1, i - 1));
    }
    // Sets that double, too.
    defines.push_str("define s0 = { \"x\", \"y\" }\n");
    for i in 1..=40 {
        defines.push_str(&format!("define s{i} = {{ s{}, s{} }}\n", i - 1, i - 1));
    }
    let text = clause_file(&defines, "d40 and host in s40 and host matches s40");
    for (h, want, compiled) in [
        ("x", "pass", LineOutcome::Pass),
        ("z", "violation", LineOutcome::Violation),
    ] {
        match every_pass(text.clone(), host(h)) {
            Run::Judged { tree, compiled: c } => {
                assert_eq!((tree.as_str(), c), (want, compiled.clone()), "host {h}")
            }
            Run::Errors(e) => panic!("{}", render_all(&e)),
        }
    }
}

/// A chain of 20,000 defines is an error at the first define past the
/// limit, not a stack overflow in the cycle search or the evaluator.
#[test]
fn a_define_chain_past_the_limit_is_one_located_error() {
    let mut defines = String::from("define d0 = host == \"x\"\n");
    for i in 1..=20_000 {
        defines.push_str(&format!("define d{i} = d{} and host exists\n", i - 1));
    }
    let run = every_pass(clause_file(&defines, "d20000"), host("x"));
    assert_eq!(codes(&run), ["proviso::check::too_deep"]);
    let Run::Errors(e) = run else { unreachable!() };
    let shown = render_all(&e);
    assert!(
        shown.contains("define `d128` nests more than 256 levels deep with its defines expanded"),
        "{shown}"
    );
    // A cycle at the end of a long chain is still found (without recursion).
    let mut defines = String::from("define d0 = d20000\n");
    for i in 1..=20_000 {
        defines.push_str(&format!("define d{i} = d{} and host exists\n", i - 1));
    }
    assert_eq!(
        codes(&every_pass(clause_file(&defines, "d1"), host("x"))),
        ["proviso::check::cyclic_define"]
    );
}

/// miette cannot draw a label past column 65,535: the line is cut around
/// the label, and the location is still the file's.
#[test]
fn an_error_past_column_65535_of_a_rule_file_is_shown() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "{HEAD}define x = {}clowd == \"a\"\nterms t \"T\" effective 2026-01-01 {{\n  clause c \"C\" {{\n    cite s \"x\"\n    require x\n  }}\n}}\n",
        " ".repeat(70_000)
    );
    std::fs::write(dir.path().join("long.proviso"), text).unwrap();
    let run = proviso(&["lint", "long.proviso"])
        .current_dir(dir.path())
        .run();
    let (code, out) = (run.code, run.all());
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("long.proviso:3:70012")
            && out.contains("did you mean the field `cloud`?")
            && out.contains("…")
            && out.lines().all(|l| l.chars().count() < 200),
        "{out}"
    );
}

#[test]
fn an_error_past_column_65535_of_a_terraform_file_is_shown() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("main.tf"),
        format!(
            "resource \"aws_s3_bucket\" \"b\" {{ bucket = \"{}\" tags = {{ a = = 1 }} }}\n",
            "x".repeat(70_000)
        ),
    )
    .unwrap();
    let rules = std::fs::canonicalize("rules").unwrap();
    let run = proviso(&["check", ".", "--rules", rules.to_str().unwrap()])
        .current_dir(dir.path())
        .run();
    let (code, out) = (run.code, run.all());
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("proviso::input::malformed_terraform")
            && out.contains("main.tf:1:700")
            && out.lines().all(|l| l.chars().count() < 200),
        "{out}"
    );
}

/// Ten thousand clauses lint (the overlap, contradiction, exception and
/// version checks were pairwise), and each missing example is reported.
#[test]
fn ten_thousand_clauses_lint() {
    let mut text = format!("{HEAD}terms t \"T\" effective 2026-01-01 {{\n");
    for i in 0..10_000 {
        text.push_str(&format!(
            "  clause c{i} \"C{i}\" {{\n    cite s \"x\"\n    applies to tags.n == \"{i}\" and tags.n == \"{i}\"\n    require cloud == \"azure\"\n  }}\n"
        ));
    }
    text.push_str("}\n");
    let rules = proviso::rules::build(vec![SourceFile::new("many.proviso", text)]).unwrap();
    let lints = proviso::rules::lint::lint(&rules);
    assert_eq!(lints.len(), 10_000);
    assert!(
        lints
            .iter()
            .all(|d| d.code.as_str() == "proviso::lint::missing_examples")
    );
}

/// Two thousand versions of the terms, each superseding the one before:
/// the timeline has one change per version (explain was cubic in them).
#[test]
fn two_thousand_versions_explain() {
    let mut text = String::from(HEAD);
    for i in 0..2000 {
        let sup = if i > 0 {
            format!(" supersedes v{}", i - 1)
        } else {
            String::new()
        };
        let day = proviso::date::Date::from_days(20_000 + i);
        text.push_str(&format!(
            "terms v{i} \"V{i}\" effective {day}{sup} {{\n  clause c \"C\" {{\n    cite s \"x\"\n    require cloud == \"v{}\"\n  }}\n}}\n",
            i % 2
        ));
    }
    let rules = proviso::rules::build(vec![SourceFile::new("v.proviso", text)]).unwrap();
    let e = proviso::explain::explain(&rules, None, None, proviso::explain::english::Markup::Plain);
    assert_eq!(e.timeline.len(), 2000);
    assert_eq!(e.timeline[0].started, [("c".to_string(), "v0".to_string())]);
    for change in &e.timeline[1..] {
        assert_eq!(change.changed.len(), 1);
        // The wording alternates, so every version changes it.
        assert!(change.changed[0].3);
    }
}
