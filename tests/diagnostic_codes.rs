//! The README's "Diagnostic codes" table is generated from the `Code` enum
//! (`src/diag/code.rs`): this test fails when the two differ, and says
//! which codes are missing, extra or worded differently.
//!
//! `PROVISO_BLESS_README=1 cargo test --test diagnostic_codes` writes the
//! table into README.md again (only the table: the section's prose is
//! written by hand).

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a failed unwrap is a failed test"
)]

use proviso::diag::{Code, Level};
use std::path::Path;

const SECTION: &str = "## Diagnostic codes";
const HEADER: [&str; 2] = ["| code | level | meaning and what to do |", "|---|---|---|"];

/// One table row per code: every fixed code in `Code::ALL` order, then
/// the findings' `proviso::clause::<id>`.
fn rows() -> Vec<(String, String)> {
    let clause = Code::clause("<id>");
    Code::ALL
        .iter()
        .chain([&clause])
        .map(|code| {
            let level = match code.level() {
                Some(Level::Error) => "error",
                Some(Level::Warning) => "warning",
                Some(Level::Advice) => "advice",
                None => "varies",
            };
            let row = format!(
                "| `{}` | {level} | **{}.** {} |",
                code.as_str(),
                cell(code.summary()),
                cell(&code.explanation()),
            );
            (code.as_str().to_string(), row)
        })
        .collect()
}

/// Table-cell text: one line, with `|` escaped (GitHub also reads `\|`
/// inside backticks as a pipe).
fn cell(text: &str) -> String {
    text.replace('\n', " ").replace('|', "\\|")
}

/// The line range of the table in the "Diagnostic codes" section (empty,
/// at the next heading, when the section has no table yet).
fn table_range(lines: &[&str]) -> std::ops::Range<usize> {
    let start = lines
        .iter()
        .position(|l| *l == SECTION)
        .unwrap_or_else(|| panic!("README.md has no `{SECTION}` section"));
    let end = lines
        .iter()
        .skip(start + 1)
        .position(|l| l.starts_with("## "))
        .map_or(lines.len(), |n| start + 1 + n);
    let section = lines.get(start..end).unwrap();
    let first = section
        .iter()
        .position(|l| l.starts_with('|'))
        .map_or(end, |n| start + n);
    let last = lines
        .iter()
        .skip(first)
        .take(end - first)
        .position(|l| !l.starts_with('|'))
        .map_or(end, |n| first + n);
    first..last
}

#[test]
fn the_readme_lists_every_diagnostic_code_as_the_enum_documents_it() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
    let readme = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = readme.lines().collect();
    let range = table_range(&lines);
    let table = lines.get(range.clone()).unwrap();
    let rows = rows();
    let mut want: Vec<String> = HEADER.iter().map(|h| h.to_string()).collect();
    want.extend(rows.iter().map(|(_, row)| row.clone()));
    if table == want.as_slice() {
        return;
    }
    if std::env::var_os("PROVISO_BLESS_README").is_some() {
        let mut out: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
        if range.is_empty() {
            // A section without a table yet: the table ends it.
            want.push(String::new());
        }
        out.splice(range, want);
        std::fs::write(&path, out.join("\n") + "\n").unwrap();
        return;
    }
    let code_of = |row: &str| {
        row.split('`')
            .nth(1)
            .map(str::to_string)
            .unwrap_or_default()
    };
    let have: Vec<(String, &str)> = table
        .iter()
        .skip(HEADER.len())
        .map(|row| (code_of(row), *row))
        .collect();
    let mut problems = Vec::new();
    if table.get(..HEADER.len()) != Some(HEADER.as_slice()) {
        problems.push(format!("the table's header is not {HEADER:?}"));
    }
    for (code, row) in &rows {
        match have.iter().find(|(c, _)| c == code) {
            None => problems.push(format!("missing: {code}")),
            Some((_, r)) if r != row => {
                problems.push(format!("different: {code}\n  README: {r}\n  enum:   {row}"))
            }
            Some(_) => {}
        }
    }
    for (code, _) in &have {
        if !rows.iter().any(|(c, _)| c == code) {
            problems.push(format!("extra (no such code): {code}"));
        }
    }
    if problems.is_empty() {
        problems.push("the rows are in another order than `Code::ALL`".to_string());
    }
    panic!(
        "README.md's `{SECTION}` table differs from src/diag/code.rs:\n{}\n\n\
         write it again with `PROVISO_BLESS_README=1 cargo test --test diagnostic_codes`",
        problems.join("\n")
    );
}
