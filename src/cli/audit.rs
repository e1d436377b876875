//! `proviso audit`: log exports against the terms in force on each
//! record's own date.

use super::{
    AuditArgs, Color, EXIT_FINDINGS, EXIT_OK, EXIT_TROUBLE, Format, LogFormatArg, Style,
    eprint_diags, load_rules, style, write_output,
};
use crate::diag::Diag;
use crate::scan::logs::LogFormat;
use std::io::IsTerminal;

pub fn run(args: AuditArgs, color: Color, err_style: &Style) -> i32 {
    let Some(rules) = load_rules(&args.rules, err_style) else {
        return EXIT_TROUBLE;
    };
    let mut opts = crate::audit::Options {
        format: match args.log_format {
            LogFormatArg::Auto => None,
            LogFormatArg::Jsonl => Some(LogFormat::Jsonl),
            LogFormatArg::Csv => Some(LogFormat::Csv),
            LogFormatArg::Alb => Some(LogFormat::Alb),
            LogFormatArg::Cloudfront => Some(LogFormat::Cloudfront),
            LogFormatArg::AzureFrontdoor => Some(LogFormat::AzureFrontdoor),
            LogFormatArg::Nginx => Some(LogFormat::Nginx),
            LogFormatArg::AwsApigateway => Some(LogFormat::AwsApiGateway),
            LogFormatArg::AzureAppgateway => Some(LogFormat::AzureAppGateway),
        },
        overrides: args.fields.clone(),
        samples: args.samples,
        progress: std::io::stderr().is_terminal(),
        mmap: !args.no_mmap,
        ..Default::default()
    };
    if let Some(t) = args.threads {
        opts.threads = t.max(1);
    }
    let mut trouble: Vec<Diag> = Vec::new();
    for p in &args.ip_ranges {
        if let Err(d) = opts.ip_ranges.load(p) {
            trouble.push(d);
        }
    }
    if !trouble.is_empty() {
        eprint_diags(&trouble, err_style);
        return EXIT_TROUBLE;
    }
    if let Some(path) = &args.findings {
        match std::fs::File::create(path) {
            Ok(f) => opts.findings = Some(Box::new(std::io::BufWriter::new(f))),
            Err(e) => {
                eprint_diags(
                    &[Diag::error(
                        "proviso::output::unwritable",
                        format!("cannot write `{}`: {e}", path.display()),
                    )],
                    err_style,
                );
                return EXIT_TROUBLE;
            }
        }
    }
    let report = crate::audit::audit(&rules, &args.logs, &mut opts);
    drop(opts);
    let to_terminal = args.output.is_none() && std::io::stdout().is_terminal();
    let out_style = style(color, to_terminal);
    let text = match args.format {
        Format::Human => {
            crate::report::audit_human::render(&report, out_style.plain, out_style.width)
        }
        Format::Json => crate::report::audit_json::render(&report),
    };
    if let Err(d) = write_output(args.output.as_ref(), &text) {
        eprint_diags(&[d], err_style);
        return EXIT_TROUBLE;
    }
    if !report.unreadable.is_empty() {
        return EXIT_TROUBLE;
    }
    if report.summary.malformed > 0 && !args.allow_malformed {
        return EXIT_TROUBLE;
    }
    let fails = report
        .clauses
        .iter()
        .any(|c| c.violations > 0 && c.severity.is_some_and(|s| args.fail_on.fails_severity(s)));
    if fails { EXIT_FINDINGS } else { EXIT_OK }
}
