//! `proviso explain`: the rule set in plain English.

use super::{
    EXIT_OK, EXIT_TROUBLE, ExplainArgs, ExplainFormat, Style, eprint_diags, load_rules,
    write_output,
};
use crate::diag::{Code, Diag};
use crate::explain::english::Markup;

pub fn run(args: ExplainArgs, err_style: &Style) -> i32 {
    let between = args.between.as_deref().and_then(|d| match d {
        [a, b] => Some((*a, *b)),
        _ => None,
    });
    if let Some((from, to)) = between
        && from > to
    {
        // Read backwards, what started would show as ended.
        let d = Diag::error(
            Code::CliReversedRange,
            format!("`--between {from} {to}` ends before it starts"),
        )
        .with_help(format!(
            "give the earlier date first: `--between {to} {from}`"
        ));
        eprint_diags(&[d], err_style);
        return EXIT_TROUBLE;
    }
    if let Some(out) = &args.output {
        let inputs = crate::rules::find_rule_files(&args.rules).unwrap_or_default();
        let outputs = [super::files::Output {
            flag: format!("--output {}", out.display()),
            path: out,
        }];
        if let Err(d) = super::files::check_outputs(&outputs, &inputs) {
            eprint_diags(&[d], err_style);
            return EXIT_TROUBLE;
        }
    }
    let Some(mut rules) = load_rules(&args.rules, err_style) else {
        return EXIT_TROUBLE;
    };
    // `--what-if`: the rules with the draft signed; with neither
    // `--as-of` nor `--between`, what changes the day it would take
    // effect, against what it supersedes.
    let mut between = between;
    if let Some(spec) = &args.what_if {
        match rules.signed(&spec.draft, spec.at) {
            Ok(signed) => rules = signed,
            Err(diags) => {
                eprint_diags(&diags, err_style);
                return EXIT_TROUBLE;
            }
        }
        if args.as_of.is_none() && between.is_none() {
            let from = rules
                .terms
                .iter()
                .find(|t| t.id.name == spec.draft)
                .map(|t| t.interval.from);
            between = from.map(|d| (crate::date::Date::from_days(d.days() - 1), d));
        }
    }
    let markup = if args.format == ExplainFormat::Markdown {
        Markup::Markdown
    } else {
        Markup::Plain
    };
    let mut explanation = crate::explain::explain(&rules, args.as_of, between, markup);
    if let Some(spec) = &args.what_if
        && let Some(t) = rules.terms.iter().find(|t| t.id.name == spec.draft)
    {
        explanation.title = format!(
            "{}, as if draft `{}` were signed on {}",
            explanation.title,
            spec.draft,
            t.interval.from.long()
        );
    }
    let text = match args.format {
        ExplainFormat::Text | ExplainFormat::Markdown => {
            crate::explain::text::render(&explanation, markup)
        }
        ExplainFormat::Html => crate::explain::html::render(&explanation),
    };
    if let Err(d) = write_output(args.output.as_ref(), &text) {
        eprint_diags(&[d], err_style);
        return EXIT_TROUBLE;
    }
    EXIT_OK
}
