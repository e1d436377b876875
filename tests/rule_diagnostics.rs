//! Every invalid rule file in `fixtures/rules/invalid/` states the code it
//! must raise (`// expect: proviso::…`); the rendered diagnostics, with their
//! targeted help, are snapshots. Valid files must load without errors.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed unwrap is a failed test"
)]

mod common;

use common::{header_values, proviso, render_all};
use proviso::source::SourceFile;

fn load(path: &std::path::Path) -> Result<proviso::rules::RuleSet, proviso::rules::RuleErrors> {
    let text = std::fs::read_to_string(path).unwrap();
    let name = format!(
        "fixtures/rules/{}",
        path.strip_prefix(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/rules/"))
            .unwrap()
            .display()
    );
    proviso::rules::build(vec![SourceFile::new(name, text)])
}

#[test]
fn invalid_rule_files_raise_their_expected_code() {
    insta::glob!("../fixtures/rules/invalid", "*.proviso", |path| {
        let text = std::fs::read_to_string(path).unwrap();
        let expected = header_values(&text, "expect:");
        assert_eq!(
            expected.len(),
            1,
            "{} must state one `// expect:` code",
            path.display()
        );
        let errors = match load(path) {
            Ok(_) => panic!("{} loaded without errors", path.display()),
            Err(e) => e,
        };
        let codes: Vec<&str> = errors.errors.iter().map(|d| d.code.as_str()).collect();
        assert!(
            codes.contains(&expected[0].as_str()),
            "{}: expected {}, got {codes:?}",
            path.display(),
            expected[0]
        );
        // Every error names its file, points at a span and says what to do.
        for d in &errors.errors {
            assert!(
                d.file.is_some() && !d.labels.is_empty(),
                "{}: {} has no location",
                path.display(),
                d.code
            );
            assert!(
                d.help.is_some(),
                "{}: {} has no help",
                path.display(),
                d.code
            );
        }
        let mut rendered = render_all(&errors.errors);
        if !errors.warnings.is_empty() {
            rendered.push_str("\n--- warnings ---\n");
            rendered.push_str(&render_all(&errors.warnings));
        }
        insta::assert_snapshot!(rendered);
    });
}

#[test]
fn valid_rule_files_load_and_their_examples_pass() {
    insta::glob!("../fixtures/rules/valid", "*.proviso", |path| {
        let rules =
            load(path).unwrap_or_else(|e| panic!("{}: {}", path.display(), render_all(&e.errors)));
        assert!(
            rules.warnings.is_empty(),
            "{}: {}",
            path.display(),
            render_all(&rules.warnings)
        );
        let results = proviso::rules::examples::run(&rules);
        let failures: Vec<_> = results.iter().filter_map(|r| r.failure.clone()).collect();
        assert!(failures.is_empty(), "{}", render_all(&failures));
    });
}

#[test]
fn lowering_collects_every_error_of_a_file_not_only_the_first() {
    let text = r#"
agreement a
source s "S" dated 2026-02-30
terms t effective "2026-01-01" until 2025-01-01 {
  clause c {
    severity critical
    require cloud = "azure"
    cite nowhere "x"
  }
}
"#;
    let errors = proviso::rules::build(vec![SourceFile::new("many.proviso", text)])
        .unwrap_err()
        .errors;
    let codes: Vec<&str> = errors.iter().map(|d| d.code.as_str()).collect();
    for want in [
        "proviso::parse::bad_date",
        "proviso::parse::quoted_date",
        "proviso::parse::bad_severity",
        "proviso::parse::single_equals",
        "proviso::check::unknown_source",
    ] {
        assert!(codes.contains(&want), "missing {want} in {codes:?}");
    }
}

#[test]
fn the_bundled_rule_file_loads_cleanly() {
    let rules = proviso::rules::load(&[std::path::PathBuf::from("rules")])
        .unwrap_or_else(|e| panic!("{}", render_all(&e.errors)));
    assert!(rules.warnings.is_empty(), "{}", render_all(&rules.warnings));
    let ids: Vec<&str> = rules.clauses().map(|(_, c)| c.id.name.as_str()).collect();
    for id in [
        "stateless_on_azure",
        "frontier_on_azure",
        "frontier_third_party_on_aws",
        "federal_in_us",
    ] {
        assert!(ids.contains(&id), "missing clause {id}");
    }
}

/// Findings print a `cite` phrase in quotes, so it must be a verbatim quote
/// of the source material (`../shared/seeds/`, beside the project root in CI
/// and in the team's checkouts; the test says so and passes where it is absent).
#[test]
fn citations_in_the_bundled_rules_are_verbatim_quotes() {
    let seeds = std::path::Path::new("../shared/seeds");
    if !seeds.is_dir() {
        eprintln!("note: ../shared/seeds not found; citation quotes not checked");
        return;
    }
    let corpus: String = std::fs::read_dir(seeds)
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap_or_default())
        .collect();
    let rules = proviso::rules::load(&[std::path::PathBuf::from("rules")]).unwrap();
    let cites_of = |t: &proviso::rules::ast::Terms| {
        t.clauses
            .iter()
            .flat_map(|c| c.cites.iter())
            .chain(t.exceptions.iter().flat_map(|e| e.cites.iter()))
            .cloned()
            .collect::<Vec<_>>()
    };
    // A draft amendment (`proposed`) quotes itself where it cites the
    // draft, which is not among the sources; what it restates from a real
    // source (a source signed terms cite) must still be verbatim.
    let real: std::collections::HashSet<String> = rules
        .terms
        .iter()
        .filter(|t| !t.is_proposed())
        .flat_map(|t| cites_of(t).into_iter().map(|c| c.source.name))
        .collect();
    let cites = rules
        .terms
        .iter()
        .flat_map(cites_of)
        .filter(|c| real.contains(&c.source.name));
    for cite in cites {
        let text = cite.text.as_deref().unwrap();
        assert!(
            corpus.contains(text),
            "cite `{text}` is not a verbatim quote of the sources"
        );
        assert!(
            text.split_whitespace().count() <= 15,
            "cite `{text}` is longer than a short phrase"
        );
    }
}

/// A misspelt field is absent on every record, and absent makes every
/// comparison false: the clause would pass (or break) everywhere without a
/// word. It is an error at load, for every command, before anything is
/// judged.
#[test]
fn a_field_no_input_has_stops_every_command_before_anything_is_judged() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("typo.proviso");
    std::fs::write(
        &rules,
        "agreement a \"A\"\nsource s \"S\" dated 2026-01-01\n\
         terms t \"T\" effective 2020-01-01 {\n  clause c \"C\" {\n    cite s \"x\"\n\
         applies to bucket_location == \"eu\"\n    require cloud == \"azure\"\n  }\n}\n",
    )
    .unwrap();
    let rules = rules.to_str().unwrap();
    for args in [
        vec!["check", "fixtures/terraform/platform", "--rules", rules],
        vec![
            "audit",
            "fixtures/logs/exports/gateway.jsonl",
            "--rules",
            rules,
        ],
        vec!["test", rules],
        vec!["explain", rules],
        vec!["lint", rules],
    ] {
        let out = proviso(&args).run();
        let all = out.all();
        let code = out.code;
        let expected = if args[0] == "lint" { 1 } else { 2 };
        assert_eq!(code, expected, "{args:?}: {all}");
        assert!(
            all.contains("proviso::check::unknown_field")
                && all.contains("no input has a field `bucket_location`")
                && all.contains("typo.proviso:6:")
                && !all.contains("violation"),
            "{args:?}: {all}"
        );
    }
}

/// Diagnostics on long lines and large files are rendered on an excerpt of
/// the file: on every invalid fixture, the excerpt renders exactly what the
/// whole file does.
#[test]
fn an_excerpt_renders_as_the_whole_file_does() {
    let mut compared = 0;
    for entry in std::fs::read_dir("fixtures/rules/invalid").unwrap() {
        let path = entry.unwrap().path();
        let errors = match load(&std::fs::canonicalize(&path).unwrap()) {
            Ok(_) => continue,
            Err(e) => e.errors,
        };
        for d in &errors {
            assert_eq!(
                proviso::diag::render(d, true, 100),
                proviso::diag::render_excerpted(d, 100),
                "{}",
                path.display()
            );
            compared += 1;
        }
    }
    assert!(compared > 30);
}
