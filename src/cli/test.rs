//! `proviso test`: the `example` blocks of rule files.

use super::{Color, EXIT_FINDINGS, EXIT_OK, EXIT_TROUBLE, Style, TestArgs, load_rules, style};
use crate::diag::{Diag, render};
use std::io::IsTerminal;

pub fn run(args: TestArgs, err_style: &Style) -> i32 {
    let Some(rules) = load_rules(&args.rules, err_style) else {
        return EXIT_TROUBLE;
    };
    let results = crate::rules::examples::run(&rules);
    let failures: Vec<Diag> = results.iter().filter_map(|r| r.failure.clone()).collect();
    let out_style = style(Color::Auto, std::io::stdout().is_terminal());
    let mut out = String::new();
    for d in &failures {
        out.push_str(&render(d, out_style.plain, out_style.width));
        out.push('\n');
    }
    let passed = results.len() - failures.len();
    let mut clauses: Vec<&str> = results.iter().map(|r| r.clause.as_str()).collect();
    clauses.sort_unstable();
    clauses.dedup();
    out.push_str(&format!(
        "proviso test: {} {} of {} {}\nproviso test: {passed} passed, {} failed\n",
        results.len(),
        if results.len() == 1 {
            "example"
        } else {
            "examples"
        },
        clauses.len(),
        if clauses.len() == 1 {
            "clause"
        } else {
            "clauses"
        },
        failures.len()
    ));
    if let Err(d) = super::write_output(None, &out) {
        super::eprint_diags(&[d], err_style);
        return EXIT_TROUBLE;
    }
    if failures.is_empty() {
        EXIT_OK
    } else {
        EXIT_FINDINGS
    }
}
