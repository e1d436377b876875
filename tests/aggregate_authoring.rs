//! The authoring tools on aggregate clauses (`per`, `let`, `param`, typed
//! `field`s, aggregate examples): `proviso fmt` gives them one layout,
//! `explain` one English sentence each and the inputs that can show them,
//! `lint` warns about what is dead or unchecked in them, and `check` never
//! counts them as passed on Terraform.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed unwrap is a failed test"
)]

mod common;

use proviso::rules::format::format;
use proviso::source::SourceFile;

#[test]
fn a_messy_aggregate_clause_gets_the_canonical_layout() {
    let messy = r#"agreement demo
source s "S" dated 2026-01-01
param cap "the cap"   money
field amt "an amount"   decimal
field k one   of {"a","b"}
terms t effective 2026-01-01 {
clause c {
cite s "x"
per   model ,month
over  amt exists
let a=sum  of amt where k=="a"   // trailing
let longer_name = 20%of a+(a*2) - 1
let r = running   total of a

// own line
let f = first day in   all records
let n = count of distinct model where k == "b"
let m = max   of amt
require a>=cap or longer_name > 2
example "e" { given [ {date: "2026-01-01", amt: "1"}, {date:"2026-01-02", amt: "2"} ] with cap=1 expect   no violation   for  "x / 2026-01" }
}
}
"#;
    let out = format(&SourceFile::new("messy.proviso", messy)).unwrap();
    // What a reader sees: `=` of a run of `let`s aligned, single spaces
    // around operators and in `per a, b`, one given record a line.
    assert!(out.contains("    let a           = sum of amt where k == \"a\"  // trailing\n"));
    assert!(out.contains("    let longer_name = 20% of a + (a * 2) - 1\n"));
    assert!(out.contains("\n\n    // own line\n    let f = first day in all records\n"));
    assert!(out.contains("      given [\n        { date: \"2026-01-01\", amt: \"1\" },\n"));
    insta::assert_snapshot!(out);
    let again = format(&SourceFile::new("messy.proviso", out.clone())).unwrap();
    assert_eq!(out, again, "formatting twice changes nothing");
}

/// The clause blocks of `proviso explain` text output whose id is one of
/// `ids`, leaving out those of drafts (`proposed`, not in force).
fn explained<'a>(text: &'a str, ids: &[&str]) -> Vec<&'a str> {
    text.split("\n\n")
        .filter(|block| ids.iter().any(|id| block.contains(&format!("[{id} · "))))
        .filter(|block| !block.contains("Proposed, not in force"))
        .collect()
}

#[test]
fn explain_says_each_aggregate_clause_of_the_bundled_contract_in_one_sentence() {
    let out = common::proviso(&["explain", "rules"]).run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    let blocks = explained(
        &out.stdout,
        &[
            "revenue_share",
            "revenue_share_20_percent",
            "first_ship_on_azure",
        ],
    );
    assert_eq!(blocks.len(), 3, "{}", out.stdout);
    let capped = blocks
        .iter()
        .find(|b| b.contains("revenue_share_20_percent"))
        .unwrap();
    // The period, the figures by their definitions, the cap as a running
    // total and the parameter with its words.
    for phrase in [
        // The author's phrase, with the period; then the sentence built
        // from the figures, as checked.
        "From 27 April 2026 until the end of 2030, in each calendar month, the revenue share paid to Microsoft must be at least 20% of the OpenAI product revenue booked in that month",
        "Checked as: For each calendar month, among the revenue-ledger bookings, ",
        "the sum of the amount USD of the records of that month where the entry is \"share_to_microsoft\" must be at least 20% of the sum of the amount USD of the records of that month where the entry is \"product_revenue\"",
        "unless the sum of the amount USD of the records under these terms through that month where the entry is \"share_to_microsoft\" is at least the revenue share cap (a parameter supplied at run time: The total cap",
        "Shown by the log exports (JSON lines, CSV) whose records carry `entry` (the kind of a revenue-ledger booking) and `amount_usd`",
        "not by Terraform",
    ] {
        assert!(capped.contains(phrase), "missing {phrase:?} in\n{capped}");
    }
    let first_ship = blocks
        .iter()
        .find(|b| b.contains("first_ship_on_azure"))
        .unwrap();
    for phrase in [
        "Checked as: For each model, among the records whose model is present, ",
        "if the first day (UTC) of all records of that model (also those dated outside these terms) is on or after 27 April 2026",
        "the first day (UTC) of the records of that model where the serving cloud is not Azure must be absent, unless",
        "or the model is one of the declined products",
        "carry `model` (the OpenAI product a request is for",
    ] {
        assert!(
            first_ship.contains(phrase),
            "missing {phrase:?} in\n{first_ship}"
        );
    }
    assert!(
        out.stdout
            .contains("3 of them aggregate clauses, judged per group of records by `proviso audit` and never on Terraform"),
        "{}",
        out.stdout
    );
    let coverage_row = out
        .stdout
        .lines()
        .find(|l| l.starts_with("first_ship_on_azure (apr_2026)"))
        .unwrap();
    assert_eq!(
        coverage_row.split_whitespace().collect::<Vec<_>>(),
        ["first_ship_on_azure", "(apr_2026)", "–", "✓", "–"],
        "an aggregate clause is never checked on Terraform"
    );
}

#[test]
fn explain_renders_every_aggregate_construct() {
    let out = common::proviso(&[
        "explain",
        "fixtures/rules/valid/every_aggregate_feature.proviso",
    ])
    .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    let clauses = out
        .stdout
        .split("Clauses\n-------\n\n")
        .nth(1)
        .and_then(|rest| rest.split("Definitions\n").next())
        .unwrap();
    insta::assert_snapshot!(clauses);
}

#[test]
fn every_explain_format_shows_the_aggregate_sentence_and_its_inputs() {
    let sentence =
        "For each calendar month, among the revenue-ledger bookings, the sum of the amount USD";
    let inputs = "whose records carry `entry` (the kind of a revenue-ledger booking)";
    for format in ["text", "markdown", "html"] {
        let out = common::proviso(&["explain", "rules", "--format", format]).run();
        assert_eq!(out.code, 0, "{format}: {}", out.stderr);
        let text = out.stdout.replace("&quot;", "\"").replace("&#39;", "'");
        assert!(text.contains(sentence), "{format}: no sentence");
        assert!(text.contains(inputs), "{format}: no inputs");
    }
}

#[test]
fn a_file_using_every_aggregate_construct_well_is_lint_clean() {
    let out = common::proviso(&[
        "lint",
        "--deny",
        "warnings",
        "fixtures/rules/valid/every_aggregate_feature.proviso",
    ])
    .run();
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (0, "proviso lint: 0 errors, 0 warnings in 1 file\n")
    );
}

/// `proviso check` of the README's example on `as_of`, in `format`.
fn check_platform(as_of: &str, format: &str) -> common::Output {
    common::proviso(&[
        "check",
        "fixtures/terraform/platform",
        "--rules",
        "rules",
        "--as-of",
        as_of,
        "--format",
        format,
    ])
    .run()
}

#[test]
fn check_reports_aggregate_clauses_as_not_applicable_to_terraform_never_as_passed() {
    // Before the restructuring the monthly revenue share is in force; after
    // it, the capped share and first-ship.
    let before = check_platform("2026-03-01", "human");
    let summary = before.stdout.lines().last().unwrap();
    let after = check_platform("2026-05-01", "human");
    let summary_after = after.stdout.lines().last().unwrap();
    insta::assert_snapshot!(format!("{summary}\n{summary_after}"));
    assert!(summary.ends_with("; 1 aggregate clause not applicable to Terraform"));

    let json: serde_json::Value =
        serde_json::from_str(&check_platform("2026-05-01", "json").stdout).unwrap();
    let s = &json["summary"];
    let coverage = serde_json::json!({
        "clauses_in_force": s["clauses_in_force"],
        "by_clause": s["by_clause"],
        "clauses_not_applicable": s["clauses_not_applicable"],
    });
    insta::assert_snapshot!(serde_json::to_string_pretty(&coverage).unwrap());
    for id in ["revenue_share_20_percent", "first_ship_on_azure"] {
        assert!(
            s["by_clause"].get(id).is_none(),
            "{id} is counted as judged"
        );
        assert!(
            s["clauses_in_force"]
                .as_array()
                .unwrap()
                .iter()
                .all(|c| c["clause"] != id),
            "{id} is listed as checked"
        );
    }

    // JUnit: a skipped test, not a passed one.
    let junit = check_platform("2026-03-01", "junit").stdout;
    assert!(
        junit.contains(
            r#"<testcase name="not applicable to Terraform" classname="revenue_share"><skipped"#
        ),
        "{junit}"
    );
    assert!(!junit.contains(r#"<testcase name="no findings" classname="revenue_share"/>"#));
}

#[test]
fn check_with_only_aggregate_clauses_in_force_judges_nothing_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("only.proviso");
    std::fs::write(
        &rules,
        r#"agreement demo
source s "S" dated 2026-01-01
field amount "an amount" decimal
terms t effective 2026-01-01 {
  clause monthly "Something is booked each month" {
    cite s "booked monthly"
    per month
    let total = sum of amount
    require total > 0
  }
}
"#,
    )
    .unwrap();
    let out = common::proviso(&[
        "check",
        "fixtures/terraform/platform",
        "--as-of",
        "2026-03-01",
        "--rules",
    ])
    .arg(&rules)
    .run();
    assert_eq!(out.code, 2, "{}", out.stdout);
    assert!(
        out.stderr.contains("proviso::check::nothing_checkable")
            && out
                .stderr
                .contains("no clause in force on 2026-03-01 can apply to Terraform"),
        "{}",
        out.stderr
    );
}

#[test]
fn the_editor_grammar_colours_the_statements_of_aggregate_clauses_in_the_bundled_file() {
    let text = std::fs::read_to_string("editors/vscode/syntaxes/proviso.tmLanguage.json").unwrap();
    let grammar: serde_json::Value = serde_json::from_str(&text).unwrap();
    // The line-anchored patterns (`^\s*(let)…`), without the look-ahead
    // that the regex crate lacks.
    let mut anchored = Vec::new();
    let mut stack = vec![&grammar];
    while let Some(v) = stack.pop() {
        match v {
            serde_json::Value::Object(m) => {
                if let Some(p) = m.get("match").and_then(|p| p.as_str())
                    && p.starts_with("^\\s*(")
                {
                    anchored.push(regex::Regex::new(&p.replace("(?!=)", "")).unwrap());
                }
                stack.extend(m.values());
            }
            serde_json::Value::Array(a) => stack.extend(a),
            _ => {}
        }
    }
    let rules = std::fs::read_to_string("rules/microsoft-openai.proviso").unwrap();
    let mut seen = std::collections::BTreeSet::new();
    for line in rules.lines() {
        let word = line.split_whitespace().next().unwrap_or("");
        if ["let", "per", "over", "param", "with"].contains(&word) {
            seen.insert(word);
            assert!(
                anchored.iter().any(|re| re.is_match(line)),
                "not coloured: {line}"
            );
        }
    }
    assert_eq!(seen.len(), 5, "{seen:?}");
    // A figure's `=` is an assignment, not the mistaken `=` of a condition.
    let figure = anchored
        .iter()
        .find(|re| re.captures_len() == 4 && re.is_match("    let paid = sum of amount_usd"))
        .unwrap();
    let caps = figure.captures("    let paid = sum of amount_usd").unwrap();
    assert_eq!((&caps[1], &caps[2], &caps[3]), ("let", "paid", "="));
}

#[test]
fn a_long_chain_of_figures_is_explained_up_to_a_depth_then_named() {
    let mut lets = String::from("    let f0 = sum of amt\n");
    for i in 1..2000 {
        lets.push_str(&format!("    let f{i} = f{} + 1\n", i - 1));
    }
    let text = format!(
        "agreement demo\nsource s \"S\" dated 2026-01-01\nfield amt \"an amount\" decimal\n\
         terms t effective 2026-01-01 {{\n  clause chain {{\n    cite s \"x\"\n    per month\n{lets}    require f1999 > 0\n  }}\n}}\n"
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("chain.proviso");
    std::fs::write(&file, text).unwrap();
    let out = common::proviso(&["explain"]).arg(&file).run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    let sentence = out
        .stdout
        .lines()
        .find(|l| l.contains("For each calendar month"))
        .unwrap();
    // Expanded a dozen levels, then the figure is named, not expanded 2,000 deep.
    assert!(
        sentence.contains(", f1993 plus 1 plus 1 plus 1 plus 1 plus 1 plus 1 must be more than 0."),
        "{sentence}"
    );
    assert!(sentence.len() < 1000, "{sentence}");
}

#[test]
fn a_long_where_of_a_figure_is_broken_before_or_and_stays_formatted() {
    let text = r#"agreement demo
source s "S" dated 2026-01-01
field amt "an amount" decimal
field k "kind" one of { "a", "b", "c" }
terms t effective 2026-01-01 {
  clause c {
    cite s "x"
    per month
    let total_of_the_kinds_we_care_about = sum of amt where k == "a" or k == "b" or (k == "c" and amt > 100)
    require total_of_the_kinds_we_care_about > 1
  }
}
"#;
    let once = format(&SourceFile::new("long.proviso", text)).unwrap();
    let lines: Vec<&str> = once.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.contains("let total_of_the_kinds_we_care_about"))
        .unwrap();
    let col = lines[at].find("k ==").unwrap();
    assert_eq!(&lines[at + 1][..col], " ".repeat(col), "{once}");
    assert_eq!(&lines[at + 1][col..], "or k == \"b\"", "{once}");
    assert!(lines.iter().all(|l| l.chars().count() <= 100), "{once}");
    let twice = format(&SourceFile::new("long.proviso", once.clone())).unwrap();
    assert_eq!(once, twice);
}
