//! `proviso lint`: errors and warnings in rule files, without scanning.

use super::{Color, Deny, EXIT_FINDINGS, EXIT_OK, EXIT_TROUBLE, LintArgs, style};
use crate::diag::{Group, render};
use crate::rules::{self, RuleErrors};
use std::io::IsTerminal;

pub fn run(args: LintArgs, color: Color) -> i32 {
    let (mut diags, files) = match rules::find_rule_files(&args.rules) {
        Err(d) => (vec![d], 0),
        Ok(files) => {
            let n = files.len();
            match rules::load(&args.rules) {
                Ok(set) => {
                    let mut all = set.warnings.clone();
                    all.extend(crate::rules::lint::lint(&set));
                    (all, n)
                }
                Err(RuleErrors {
                    mut errors,
                    warnings,
                }) => {
                    errors.extend(warnings);
                    (errors, n)
                }
            }
        }
    };
    diags.sort_by_key(|d| d.location().unwrap_or_default());
    let unreadable = diags.iter().any(|d| d.code.group() == Group::Input);
    let errors = diags.iter().filter(|d| d.is_error()).count();
    let warnings = diags.len() - errors;
    let s = style(color, std::io::stdout().is_terminal());
    let mut out = String::new();
    for d in &diags {
        out.push_str(&render(d, s.plain, s.width));
        out.push('\n');
    }
    let plural = |n: usize, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
    out.push_str(&format!(
        "proviso lint: {}, {} in {}\n",
        plural(errors, "error"),
        plural(warnings, "warning"),
        plural(files, "file")
    ));
    if let Err(d) = super::write_output(None, &out) {
        super::eprint_diags(&[d], &style(color, std::io::stderr().is_terminal()));
        return EXIT_TROUBLE;
    }
    if unreadable {
        EXIT_TROUBLE
    } else if errors > 0 || (warnings > 0 && args.deny == Some(Deny::Warnings)) {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    }
}
