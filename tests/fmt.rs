//! `proviso fmt` over every rule file in the repository: formatting is
//! idempotent, keeps every comment, and the formatted file lowers to the same
//! AST (or, for files with errors, to the same error codes).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed unwrap is a failed test"
)]

mod common;

use common::proviso;
use proviso::rules::format::format;
use proviso::source::SourceFile;
use std::path::PathBuf;

fn rule_files() -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = walkdir::WalkDir::new("rules")
        .into_iter()
        .chain(walkdir::WalkDir::new("fixtures/rules"))
        .map(|e| e.unwrap().into_path())
        .filter(|p| p.extension().is_some_and(|e| e == "proviso"))
        .collect();
    out.sort();
    assert!(out.len() > 40);
    out
}

/// The AST's debug form without byte spans, which formatting may move.
fn shape(name: &str, text: &str) -> Result<String, Vec<String>> {
    let spans = regex::Regex::new(r"\d+\.\.\d+").unwrap();
    match proviso::rules::build(vec![SourceFile::new(name, text)]) {
        Ok(rules) => Ok(spans
            .replace_all(
                &format!(
                    "{:?}{:?}{:?}{:?}{:?}",
                    rules.terms, rules.defines, rules.sources, rules.fields, rules.params
                ),
                "_",
            )
            .into_owned()),
        Err(e) => {
            let mut codes: Vec<String> = e
                .errors
                .iter()
                .map(|d| d.code.as_str().to_string())
                .collect();
            codes.sort();
            Err(codes)
        }
    }
}

fn comments(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.find("//").map(|i| l[i..].trim().to_string()))
        .filter(|c| !c.contains('"'))
        .collect()
}

#[test]
fn formatting_is_idempotent_keeps_comments_and_preserves_the_ast() {
    let mut formatted_files = 0;
    for path in rule_files() {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(&path).unwrap();
        let Ok(once) = format(&SourceFile::new(&name, text.clone())) else {
            continue; // a syntax error: fmt leaves the file alone
        };
        formatted_files += 1;
        let twice = format(&SourceFile::new(&name, once.clone())).unwrap();
        assert_eq!(once, twice, "{name}: formatting twice changed the output");
        match (shape(&name, &text), shape(&name, &once)) {
            (Ok(before), after) => assert_eq!(
                Ok(before),
                after,
                "{name}: the formatted file means something else"
            ),
            // A file with errors: formatting introduces none (it may fix
            // one: `=` is printed as `==`).
            (Err(before), Err(after)) => assert!(
                after.iter().all(|c| before.contains(c)),
                "{name}: {before:?} became {after:?}"
            ),
            (Err(before), Ok(_)) => assert_eq!(
                before,
                ["proviso::parse::single_equals"],
                "{name}: only `=` is fixed by fmt"
            ),
        }
        assert_eq!(
            comments(&text),
            comments(&once),
            "{name}: comments were lost or reordered"
        );
    }
    assert!(formatted_files > 40);
}

#[test]
fn a_messy_file_gets_the_canonical_layout() {
    let messy = r#"// header comment

agreement   demo "Demo"
source s "S"   dated 2026-02-27
define a=cloud=="aws"   // trailing
define longer_name = { "x","y" }
terms t "T" effective 2026-01-01 until 2026-12-31 supersedes old {
clause c "C" {
cite s "phrase"
      severity   warning
applies to a and (tags["api-mode"]  ==  "stateless" or not tags.segment exists)
require region in { "eastus" , "us-east-1" }
effective 2026-02-01
until 2026-06-01
example "e" on 2026-03-01 { given { cloud: "aws" tags: { "api-mode": "stateless" } } expect   no   violation }
}
exception x { when bytes_out > 10  GiB }
}
terms old effective 2025-01-01 { clause c { manual } }
"#;
    let out = format(&SourceFile::new("messy.proviso", messy)).unwrap();
    insta::assert_snapshot!(out);
}

#[test]
fn phrases_sections_and_evidence_keep_their_words_in_the_canonical_layout() {
    let messy = r#"source s "S" dated 2026-01-15
define a "a first thing"=cloud=="aws"
define longer_name = { "x","y" }
terms t "T" effective 2026-01-01 {
exception x "X" { cite s  section  "9.2 (b)"  "quote" phrase   "it is excused"  when a }
clause c "C" {
cite s § 2.1 "one"
cite s §2(a) "two"
phrase  "every thing must be so"
evidence   "the ledger"
applies to a
require region == "eastus"
except x
}
}
"#;
    let out = format(&SourceFile::new("phrases.proviso", messy)).unwrap();
    assert_eq!(
        out,
        r#"source s "S" dated 2026-01-15

define a           "a first thing" = cloud == "aws"
define longer_name = { "x", "y" }

terms t "T" effective 2026-01-01 {
  exception x "X" {
    cite s section "9.2 (b)" "quote"
    phrase "it is excused"
    when a
  }

  clause c "C" {
    cite s §2.1 "one"
    cite s §2(a) "two"
    phrase "every thing must be so"
    evidence "the ledger"
    applies to a
    require region == "eastus"
    except x
  }
}
"#
    );
    // And it reads back to the same sections, phrases and evidence.
    let rules = proviso::rules::build(vec![SourceFile::new("phrases.proviso", out.as_str())])
        .unwrap_or_else(|e| panic!("{:?}", e.errors));
    let t = &rules.terms[0];
    let c = &t.clauses[0];
    let sections: Vec<_> = c.cites.iter().map(|x| x.section.clone()).collect();
    assert_eq!(
        sections,
        [Some("2.1".to_string()), Some("2(a)".to_string())]
    );
    assert_eq!(t.exceptions[0].cites[0].section.as_deref(), Some("9.2 (b)"));
    assert_eq!(t.exceptions[0].phrase.as_deref(), Some("it is excused"));
    assert_eq!(c.phrase.as_deref(), Some("every thing must be so"));
    assert_eq!(c.evidence.as_deref(), Some("the ledger"));
    assert_eq!(rules.defines[0].phrase.as_deref(), Some("a first thing"));
}

#[test]
fn fmt_check_reports_unformatted_files_and_fmt_rewrites_them() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("r.proviso");
    std::fs::write(&file, "agreement a\ndefine x=1\n").unwrap();
    let check = proviso(&["fmt", "--check"]).arg(&file).run();
    assert_eq!(check.code, 1);
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "agreement a\ndefine x=1\n",
        "--check changes nothing"
    );
    let fix = proviso(&["fmt"]).arg(&file).run();
    assert_eq!(fix.code, 0);
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "agreement a\n\ndefine x = 1\n"
    );
    let again = proviso(&["fmt", "--check"]).arg(&file).run();
    assert_eq!(again.code, 0);
    let broken = dir.path().join("broken.proviso");
    std::fs::write(&broken, "terms {").unwrap();
    let bad = proviso(&["fmt"]).arg(&broken).run();
    assert_eq!(bad.code, 2);
    assert_eq!(
        std::fs::read_to_string(&broken).unwrap(),
        "terms {",
        "a file that does not parse is left alone"
    );
}

#[test]
fn the_bundled_rules_are_formatted() {
    let out = proviso(&["fmt", "--check", "rules"]).run();
    assert_eq!(out.code, 0, "{}", out.stdout);
}
