//! `proviso lint`: every suspicious file in `fixtures/rules/lint/` states the
//! one warning it must raise (`// expect: …`); the rendered warnings are
//! snapshots. The bundled rule file must be lint-clean.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed unwrap is a failed test"
)]

mod common;

use common::{Output, header_values, proviso, render_all};
use proviso::source::SourceFile;

#[test]
fn every_suspicious_file_raises_exactly_its_warning() {
    insta::glob!("../fixtures/rules/lint", "*.proviso", |path| {
        let text = std::fs::read_to_string(path).unwrap();
        let expected = header_values(&text, "expect:");
        let name = format!(
            "fixtures/rules/lint/{}",
            path.file_name().unwrap().to_string_lossy()
        );
        let rules = proviso::rules::build(vec![SourceFile::new(name, text)])
            .unwrap_or_else(|e| panic!("{}", render_all(&e.errors)));
        let mut diags = rules.warnings.clone();
        diags.extend(proviso::rules::lint::lint(&rules));
        let codes: Vec<&str> = diags.iter().map(|d| d.code.as_str()).collect();
        assert_eq!(codes, [expected[0].as_str()], "{}", path.display());
        assert!(
            diags
                .iter()
                .all(|d| !d.is_error() && d.help.is_some() && !d.labels.is_empty())
        );
        insta::assert_snapshot!(render_all(&diags));
    });
}

/// `proviso lint` with `args`.
fn lint(args: &[&str]) -> Output {
    proviso(&["lint"]).args(args).run()
}

#[test]
fn the_bundled_rules_are_lint_clean_even_with_deny_warnings() {
    let Output {
        code, stdout: out, ..
    } = lint(&["rules", "--deny", "warnings"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(out, "proviso lint: 0 errors, 0 warnings in 1 file\n");
}

#[test]
fn warnings_fail_only_with_deny_warnings_and_errors_always_fail() {
    let warn = "fixtures/rules/lint/unused_define.proviso";
    assert_eq!(lint(&[warn]).code, 0);
    assert_eq!(lint(&[warn, "--deny", "warnings"]).code, 1);
    let Output {
        code, stdout: out, ..
    } = lint(&["fixtures/rules/invalid/single_equals.proviso"]);
    assert_eq!(code, 1);
    assert!(
        out.contains("proviso::parse::single_equals")
            && out.ends_with("proviso lint: 1 error, 0 warnings in 1 file\n"),
        "{out}"
    );
    assert_eq!(lint(&["no/such/dir"]).code, 2);
}
