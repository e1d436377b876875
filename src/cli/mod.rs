//! The command line: flags, commands and exit codes.
//!
//! Exit codes: 0 nothing at or above `--fail-on`; 1 findings at or above it
//! (or failing examples for `proviso test`); 2 the tool could not do its job
//! (a rule file with errors, an unreadable input, a bad flag).
//!
//! Each command lives in its own module; this one holds the flags, the
//! dispatch and what commands share (loading rules, printing diagnostics).

mod audit;
mod check;
mod compile;
pub mod config;
mod explain;
pub mod files;
mod fmt;
mod lint;
mod test;
mod verify;

use crate::date::Date;
use crate::diag::{Diag, render};
use crate::findings::FailOn;
use crate::rules::{self, RuleErrors, RuleSet};
use crate::scan::logs::LogFormat;
use clap::{Parser, Subcommand, ValueEnum};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

pub const EXIT_OK: i32 = 0;
pub const EXIT_FINDINGS: i32 = 1;
pub const EXIT_TROUBLE: i32 = 2;

#[derive(Parser, Debug)]
#[command(
    name = "proviso",
    version,
    about = "Check infrastructure and traffic against the terms of an agreement, written as rule files"
)]
pub struct Cli {
    /// When to colour output: auto (on a terminal), always, never
    #[arg(long, global = true, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Color {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// miette reports and a summary line
    Human,
    /// one JSON document (schema in the README)
    Json,
}

/// The formats of `proviso check`: those of [`Format`] and the CI ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    /// miette reports and a summary line
    Human,
    /// one JSON document (schema in the README)
    Json,
    /// SARIF 2.1.0, for GitHub code scanning and other SARIF viewers
    Sarif,
    /// JUnit XML, one test suite per clause, for CI test reports
    Junit,
    /// GitHub Actions workflow commands (`::error file=…::…`), shown as annotations
    Github,
    /// a Markdown summary for a pull-request comment
    Markdown,
    /// the findings as CSV, one row each, for a spreadsheet
    Csv,
}

/// The formats of `proviso audit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuditFormat {
    /// miette reports and a summary line
    Human,
    /// one JSON document (schema in the README)
    Json,
    /// one self-contained page to read and print (charts, timeline, groups, accounting)
    Html,
    /// a Markdown summary for a ticket or a pull-request comment
    Markdown,
    /// every violating record and breaching group as CSV, one row each, for a spreadsheet
    Csv,
}

/// A format's name, as `--format` spells it.
pub trait FormatName: Copy {
    fn name(self) -> &'static str;
}

impl FormatName for CheckFormat {
    fn name(self) -> &'static str {
        match self {
            CheckFormat::Human => "human",
            CheckFormat::Json => "json",
            CheckFormat::Sarif => "sarif",
            CheckFormat::Junit => "junit",
            CheckFormat::Github => "github",
            CheckFormat::Markdown => "markdown",
            CheckFormat::Csv => "csv",
        }
    }
}

impl FormatName for AuditFormat {
    fn name(self) -> &'static str {
        match self {
            AuditFormat::Human => "human",
            AuditFormat::Json => "json",
            AuditFormat::Html => "html",
            AuditFormat::Markdown => "markdown",
            AuditFormat::Csv => "csv",
        }
    }
}

/// One `--format` value: `NAME` (to `--output` or standard output) or
/// `NAME=FILE` (to its own file), so that one run can write several formats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatSpecOf<F> {
    pub format: F,
    pub path: Option<PathBuf>,
}

/// `check`'s `--format`.
pub type FormatSpec = FormatSpecOf<CheckFormat>;
/// `audit`'s `--format`.
pub type AuditFormatSpec = FormatSpecOf<AuditFormat>;

impl<F: ValueEnum + FormatName> std::str::FromStr for FormatSpecOf<F> {
    type Err = String;

    fn from_str(s: &str) -> Result<FormatSpecOf<F>, String> {
        let (name, path) = match s.split_once('=') {
            Some((n, "")) => {
                return Err(format!(
                    "`{n}=` names no file: write `{n}=FILE` or just `{n}`"
                ));
            }
            Some((n, p)) => (n, Some(PathBuf::from(p))),
            None => (s, None),
        };
        let format = F::from_str(name.trim(), true).map_err(|_| {
            let names: Vec<&str> = F::value_variants().iter().map(|f| f.name()).collect();
            format!(
                "unknown format `{name}` (expected one of {})",
                names.join(", ")
            )
        })?;
        Ok(FormatSpecOf { format, path })
    }
}

/// Two formats with no file of their own would write to one place: the
/// error, or `None`.
pub(crate) fn formats_collide<F: FormatName>(
    formats: &[FormatSpecOf<F>],
    output: Option<&std::path::Path>,
) -> Option<crate::diag::Diag> {
    let to_default: Vec<&str> = formats
        .iter()
        .filter(|f| f.path.is_none())
        .map(|f| f.format.name())
        .collect();
    (to_default.len() > 1).then(|| {
        crate::diag::Diag::error(
            crate::diag::Code::CliFormatsCollide,
            format!(
                "formats {} would all write to {}",
                to_default.join(" and "),
                if output.is_some() {
                    "--output"
                } else {
                    "standard output"
                }
            ),
        )
        .with_help(
            "give every format but one its own file: `--format sarif=proviso.sarif --format human`",
        )
    })
}

#[derive(Subcommand, Debug)]
#[allow(clippy::large_enum_variant, reason = "built once per run")]
pub enum Command {
    /// Check Terraform directories against the clauses in force on a date
    Check(CheckArgs),
    /// Run the `example` blocks of rule files
    Test(TestArgs),
    /// The terms in plain English: clauses, citations, timeline and coverage
    Explain(ExplainArgs),
    /// Check rule files for mistakes without scanning anything
    Lint(LintArgs),
    /// Rewrite rule files in the canonical layout (comments kept)
    Fmt(FmtArgs),
    /// Audit traffic log exports, each request against the terms in force on its own date
    Audit(AuditArgs),
    /// Compile the rules into one SQL statement that audits a table where it lives
    Compile(CompileArgs),
    /// Language server for editors (LSP over standard input and output)
    Lsp(LspArgs),
    /// Confirm that an evidence file still holds: same inputs, rules and parameters, identical findings
    Verify(verify::VerifyArgs),
}

/// What `proviso compile` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CompileTarget {
    /// one SQL statement
    Sql,
}

#[derive(clap::Args, Debug)]
pub struct CompileArgs {
    /// Rule files or directories of them
    #[arg(
        long,
        short = 'r',
        required = true,
        value_name = "FILE|DIR",
        value_delimiter = ','
    )]
    pub rules: Vec<PathBuf>,
    /// What to compile to
    #[arg(long = "to", value_enum, default_value_t = CompileTarget::Sql)]
    pub to: CompileTarget,
    /// The SQL dialect of the engine that runs the statement
    #[arg(long, value_enum)]
    pub dialect: crate::compile::Dialect,
    /// The table (or view, or table function) the statement reads, as the engine names it
    #[arg(long, value_name = "NAME")]
    pub table: Option<String>,
    /// Read the table's columns and types from a sample file: Parquet, CSV with a header, or JSON lines
    #[arg(long, value_name = "FILE", conflicts_with = "columns")]
    pub schema_from: Option<PathBuf>,
    /// The table's columns, as NAME:TYPE,… (`timestamp:timestamp,host:varchar,amount_usd:decimal(18,2)`)
    #[arg(long, value_name = "NAME:TYPE,…")]
    pub columns: Option<String>,
    /// A table AWS documents for Athena, whose columns are known (`--table` defaults to its documented name)
    #[arg(long, value_enum)]
    pub table_format: Option<crate::compile::TableFormat>,
    /// A parameter's value, as NAME=VALUE (repeatable)
    #[arg(long = "param", value_name = "NAME=VALUE", value_parser = parse_param)]
    pub params: Vec<(String, String)>,
    /// One row per violating record or breaching/unresolved group, instead of one per clause
    #[arg(long)]
    pub findings: bool,
    /// Judge every record by the terms in force on this date, instead of its own (YYYY-MM-DD)
    #[arg(long, value_parser = parse_date)]
    pub as_of: Option<Date>,
    /// Read a field from another column, as NAME=COLUMN (repeatable; `timestamp=requestTime`)
    #[arg(long = "field", value_parser = parse_field_override)]
    pub fields: Vec<(String, String)>,
    /// Write the statement to this file instead of standard output
    #[arg(long, short = 'o')]
    pub output: Option<PathBuf>,
    /// Read parameters from this proviso.yaml
    #[arg(long, value_name = "FILE", conflicts_with = "no_config")]
    pub config: Option<PathBuf>,
    /// Read no proviso.yaml
    #[arg(long)]
    pub no_config: bool,
}

#[derive(clap::Args, Debug)]
pub struct FmtArgs {
    /// Rule files or directories of .proviso files
    #[arg(required = true)]
    pub rules: Vec<PathBuf>,
    /// Change nothing; list the files that are not formatted and exit 1
    #[arg(long)]
    pub check: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Deny {
    /// warnings make the exit code 1 (for CI)
    Warnings,
}

#[derive(clap::Args, Debug)]
pub struct LspArgs {
    /// Speak over standard input and output (the only transport; accepted
    /// because editors' clients pass it)
    #[arg(long)]
    pub stdio: bool,
}

#[derive(clap::Args, Debug)]
pub struct LintArgs {
    /// Rule files or directories of .proviso files
    #[arg(required = true)]
    pub rules: Vec<PathBuf>,
    /// `--deny warnings`: exit 1 on warnings too
    #[arg(long, value_enum)]
    pub deny: Option<Deny>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExplainFormat {
    /// plain text for a terminal
    Text,
    /// Markdown, for a review or a wiki
    Markdown,
    /// one self-contained HTML page with a timeline graphic
    Html,
}

#[derive(clap::Args, Debug)]
pub struct ExplainArgs {
    /// Rule files or directories of .proviso files
    #[arg(required = true)]
    pub rules: Vec<PathBuf>,
    /// Show only what is in force on this date (YYYY-MM-DD)
    #[arg(long, value_parser = parse_date, conflicts_with = "between")]
    pub as_of: Option<Date>,
    /// Show what changes between two dates, clause by clause
    #[arg(long, num_args = 2, value_names = ["FROM", "TO"], value_parser = parse_date)]
    pub between: Option<Vec<Date>>,
    /// Explain as if the draft amendment NAME (terms marked `proposed`) were signed, on its effective date or on DATE; alone, shows what it changes the day it would take effect
    #[arg(long = "what-if", value_name = "NAME[@DATE]")]
    pub what_if: Option<crate::what_if::Spec>,
    /// Output format
    #[arg(long, short = 'f', value_enum, default_value_t = ExplainFormat::Text)]
    pub format: ExplainFormat,
    /// Write to this file instead of standard output
    #[arg(long, short = 'o')]
    pub output: Option<PathBuf>,
}

/// `--log-format`: `auto` (detect the format of each file), or one of
/// the formats of [`LogFormat::ALL`], named and described by the format
/// table (`scan::logs::format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormatArg {
    Auto,
    Format(LogFormat),
}

impl LogFormatArg {
    /// The format named, `None` for `auto`.
    pub fn format(self) -> Option<LogFormat> {
        match self {
            LogFormatArg::Auto => None,
            LogFormatArg::Format(f) => Some(f),
        }
    }
}

/// `auto`, then every format, in the table's order.
static LOG_FORMAT_ARGS: std::sync::LazyLock<Vec<LogFormatArg>> = std::sync::LazyLock::new(|| {
    std::iter::once(LogFormatArg::Auto)
        .chain(LogFormat::ALL.iter().copied().map(LogFormatArg::Format))
        .collect()
});

impl ValueEnum for LogFormatArg {
    fn value_variants<'a>() -> &'a [Self] {
        &LOG_FORMAT_ARGS
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        match self {
            LogFormatArg::Auto => Some(
                clap::builder::PossibleValue::new("auto")
                    .help("detect from the content of each file"),
            ),
            LogFormatArg::Format(f) => f.to_possible_value(),
        }
    }
}

#[derive(clap::Args, Debug)]
pub struct AuditArgs {
    /// Log files (.gz and .zst are read transparently); `-` reads standard input
    #[arg(default_value = "-")]
    pub logs: Vec<PathBuf>,
    /// Rule file or directory of .proviso files (repeat the flag, or separate paths with commas)
    #[arg(
        long,
        short = 'r',
        required = true,
        value_name = "FILE|DIR",
        value_delimiter = ','
    )]
    pub rules: Vec<PathBuf>,
    /// The logs' format (default: detected per file)
    #[arg(long, value_enum, default_value_t = LogFormatArg::Auto)]
    pub log_format: LogFormatArg,
    /// Output format, repeatable: human, json, html, markdown, csv; NAME=FILE writes that format to FILE [default: human]
    #[arg(long, short = 'f', value_name = "FORMAT[=FILE]", value_parser = parse_audit_format_spec)]
    pub format: Vec<AuditFormatSpec>,
    /// Write the report to this file instead of standard output
    #[arg(long, short = 'o')]
    pub output: Option<PathBuf>,
    /// Lowest severity that makes the exit code 1
    #[arg(long, value_enum, default_value_t = FailOn::Error)]
    pub fail_on: FailOn,
    /// Published IP ranges (AWS ip-ranges.json, Azure Service Tags, Google cloud.json), or a directory of them, to attribute addresses to clouds (repeatable, or comma-separated)
    #[arg(long = "ip-ranges", value_name = "FILE|DIR", value_delimiter = ',')]
    pub ip_ranges: Vec<PathBuf>,
    /// Write every violating record to this file as JSON lines
    #[arg(long)]
    pub findings: Option<PathBuf>,
    /// Read a vocabulary field from another field of the log: NAME=FIELD (e.g. host=properties.domain)
    #[arg(long = "field", value_parser = parse_field_override)]
    pub fields: Vec<(String, String)>,
    /// Sample violations shown per clause, 0 to 1000
    #[arg(long, default_value_t = 3, value_parser = parse_samples)]
    pub samples: usize,
    /// Worker threads, 1 to 64 (default: one per core, at most 64)
    #[arg(long, value_parser = parse_threads)]
    pub threads: Option<usize>,
    /// Exit 0/1 even if some lines could not be read (they are still reported and counted)
    #[arg(long)]
    pub allow_malformed: bool,
    /// Read plain files with read() instead of mapping them into memory (for a file that may be truncated while it is audited)
    #[arg(long)]
    pub no_mmap: bool,
    /// A parameter the rule files declare (`param NAME …`), such as a confidential cap: NAME=VALUE (repeatable; wins over `params:` in proviso.yaml)
    #[arg(long = "param", value_name = "NAME=VALUE", value_parser = parse_param)]
    pub params: Vec<(String, String)>,
    /// Read `params:` from this file instead of the proviso.yaml found from the working directory upward
    #[arg(long, value_name = "FILE", conflicts_with = "no_config")]
    pub config: Option<PathBuf>,
    /// Do not read any proviso.yaml
    #[arg(long)]
    pub no_config: bool,
    /// Also judge as if the draft amendment NAME (terms marked `proposed`) were signed, on its effective date or on DATE, and report what it would change beside the report
    #[arg(long = "what-if", value_name = "NAME[@DATE]")]
    pub what_if: Option<crate::what_if::Spec>,
    /// Write evidence to FILE: the SHA-256 of every input and rule file as read, the parameters' protected hashes, the findings' digest and every report's hash (`proviso verify FILE` checks it)
    #[arg(long, value_name = "FILE")]
    pub evidence: Option<PathBuf>,
}

fn parse_param(s: &str) -> Result<(String, String), String> {
    name_value(s, "NAME=VALUE", "revenue_share_cap=1250000.00")
}

/// `NAME=…` with both sides non-empty (trimmed), or an error that shows
/// the `shape` and an `example`.
fn name_value(s: &str, shape: &str, example: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() && !v.trim().is_empty() => {
            Ok((k.trim().to_string(), v.trim().to_string()))
        }
        _ => Err(format!("`{s}` is not {shape} (e.g. `{example}`)")),
    }
}

/// The most worker threads `proviso audit` starts. Chunks in flight are
/// two per thread, 4 MiB each, so this bounds them at 512 MiB; a machine
/// with more cores gains little, as reading the input is then the limit.
pub const MAX_THREADS: usize = 64;

fn parse_threads(s: &str) -> Result<usize, String> {
    let help = format!("give a number from 1 to {MAX_THREADS} (default: one per core)");
    match s.trim().parse::<u64>() {
        Ok(0) => Err(format!("`{s}` threads cannot audit anything: {help}")),
        Ok(n) if n > MAX_THREADS as u64 => Err(format!(
            "`{s}` threads is more than the {MAX_THREADS} proviso starts: {help}"
        )),
        Ok(n) => usize::try_from(n).map_err(|_| help.clone()),
        Err(_) => Err(format!("`{s}` is not a number of threads: {help}")),
    }
}

/// The most samples kept per clause: each holds its log line, so the
/// report's memory is bounded by this, not by the violations in the input.
pub const MAX_SAMPLES: usize = 1000;

fn parse_samples(s: &str) -> Result<usize, String> {
    match s.trim().parse::<u64>() {
        Ok(n) if n <= MAX_SAMPLES as u64 => usize::try_from(n).map_err(|e| e.to_string()),
        _ => Err(format!(
            "`{s}` is not a number of samples from 0 to {MAX_SAMPLES} (every violation is counted; use `--findings FILE` to write them all)"
        )),
    }
}

fn parse_field_override(s: &str) -> Result<(String, String), String> {
    name_value(s, "NAME=FIELD", "host=properties.domain")
}

#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// Directories and files of Terraform (.tf, .tf.json, plan JSON), CloudFormation, ARM, Bicep or Kubernetes (default: `paths` in proviso.yaml, else the current directory)
    pub paths: Vec<PathBuf>,
    /// Rule file or directory of .proviso files (repeat the flag, or separate paths with commas; default: `rules` in proviso.yaml)
    #[arg(long, short = 'r', value_name = "FILE|DIR", value_delimiter = ',')]
    pub rules: Vec<PathBuf>,
    /// Judge against the terms in force on this date, YYYY-MM-DD (default: today, UTC)
    #[arg(long, value_parser = parse_date)]
    pub as_of: Option<Date>,
    /// Output format, repeatable: human, json, sarif, junit, github, markdown, csv; NAME=FILE writes that format to FILE
    #[arg(long, short = 'f', value_name = "FORMAT[=FILE]", value_parser = parse_format_spec)]
    pub format: Vec<FormatSpec>,
    /// Write the report to this file instead of standard output
    #[arg(long, short = 'o')]
    pub output: Option<PathBuf>,
    /// Lowest severity that makes the exit code 1 (unresolved findings count as warnings) [default: error]
    #[arg(long, value_enum)]
    pub fail_on: Option<FailOn>,
    /// Extra .tfvars file for root modules, applied after terraform.tfvars and *.auto.tfvars; or a CloudFormation or ARM parameters JSON file (repeatable, or comma-separated)
    #[arg(long = "var-file", value_name = "FILE", value_delimiter = ',')]
    pub var_files: Vec<PathBuf>,
    /// Exit 0/1 even if some input could not be read (it is still reported and counted)
    #[arg(long)]
    pub allow_malformed: bool,
    /// Ignore every `# proviso:waive` comment (findings they would excuse count again)
    #[arg(long)]
    pub no_waivers: bool,
    /// Count only findings that are not in this baseline file (written by --write-baseline)
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Write the fingerprints of the current findings to FILE, to accept them as known
    #[arg(long, value_name = "FILE")]
    pub write_baseline: Option<PathBuf>,
    /// Report only findings on lines changed since this git ref (whole modules are still evaluated)
    #[arg(long, value_name = "GIT_REF")]
    pub changed_since: Option<String>,
    /// Skip paths matching this glob while discovering Terraform files (repeatable)
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Read settings from this file instead of the proviso.yaml found from the working directory upward
    #[arg(long, value_name = "FILE", conflicts_with = "no_config")]
    pub config: Option<PathBuf>,
    /// Do not read any proviso.yaml
    #[arg(long)]
    pub no_config: bool,
    /// A parameter the rule files declare (`param NAME …`): NAME=VALUE (repeatable; wins over `params:` in proviso.yaml)
    #[arg(long = "param", value_name = "NAME=VALUE", value_parser = parse_param)]
    pub params: Vec<(String, String)>,
    /// Also judge as if the draft amendment NAME (terms marked `proposed`) were signed, on its effective date or on DATE, and report what it would change beside the report
    #[arg(long = "what-if", value_name = "NAME[@DATE]")]
    pub what_if: Option<crate::what_if::Spec>,
    /// Scan only this language, and read files named on the command line as it (default: detected per file)
    #[arg(long, value_enum, value_name = "LANGUAGE")]
    pub iac: Option<crate::scan::iac::IacKind>,
    /// The region CloudFormation stacks (`AWS::Region`) and ARM resource groups (`resourceGroup().location`) deploy to (default: unknown)
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// Write evidence to FILE: the SHA-256 of every input and rule file as read, the parameters' protected hashes, the findings' digest and every report's hash (`proviso verify FILE` checks it)
    #[arg(long, value_name = "FILE")]
    pub evidence: Option<PathBuf>,
}

fn parse_format_spec(s: &str) -> Result<FormatSpec, String> {
    s.parse()
}

fn parse_audit_format_spec(s: &str) -> Result<AuditFormatSpec, String> {
    s.parse()
}

#[derive(clap::Args, Debug)]
pub struct TestArgs {
    /// Rule files or directories of .proviso files
    #[arg(required = true)]
    pub rules: Vec<PathBuf>,
}

fn parse_date(s: &str) -> Result<Date, String> {
    Date::parse(s).map_err(|e| format!("`{s}` is not a date: {e}"))
}

/// How to print diagnostics on a stream.
pub(crate) struct Style {
    pub plain: bool,
    pub width: usize,
}

pub(crate) fn style(color: Color, terminal: bool) -> Style {
    let plain = match color {
        Color::Always => false,
        Color::Never => true,
        Color::Auto => !terminal || std::env::var_os("NO_COLOR").is_some(),
    };
    let width = if terminal {
        std::env::var("COLUMNS")
            .ok()
            .and_then(|c| c.parse().ok())
            .unwrap_or(100)
    } else {
        100
    };
    Style { plain, width }
}

pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() {
                EXIT_TROUBLE
            } else {
                EXIT_OK
            };
            let _ = e.print();
            return code;
        }
    };
    run(cli)
}

pub fn run(cli: Cli) -> i32 {
    let err_style = style(cli.color, std::io::stderr().is_terminal());
    match cli.command {
        Command::Check(args) => {
            let evidence = evidence_path(
                args.evidence.as_ref(),
                args.no_config,
                args.config.as_deref(),
            );
            with_evidence("check", evidence.as_deref(), &err_style, || {
                check::run(args, cli.color, &err_style)
            })
        }
        Command::Test(args) => test::run(args, &err_style),
        Command::Explain(args) => explain::run(args, &err_style),
        Command::Lint(args) => lint::run(args, cli.color),
        Command::Fmt(args) => fmt::run(args, &err_style),
        Command::Audit(args) => {
            let evidence = evidence_path(
                args.evidence.as_ref(),
                args.no_config,
                args.config.as_deref(),
            );
            with_evidence("audit", evidence.as_deref(), &err_style, || {
                audit::run(args, cli.color, &err_style)
            })
        }
        Command::Compile(args) => compile::run(args, &err_style),
        Command::Lsp(_) => crate::lsp::run(),
        Command::Verify(args) => verify::run(args, &err_style),
    }
}

/// Where to write evidence: `--evidence`, else `evidence:` of the
/// proviso.yaml (a broken file is reported by the command itself).
fn evidence_path(
    flag: Option<&PathBuf>,
    no_config: bool,
    config: Option<&std::path::Path>,
) -> Option<PathBuf> {
    flag.cloned().or_else(|| {
        config::for_run(no_config, config)
            .ok()
            .and_then(|c| c.evidence)
    })
}

/// Runs a command that judges, recording evidence to `path` when given.
fn with_evidence(
    command: &str,
    path: Option<&std::path::Path>,
    err_style: &Style,
    run: impl FnOnce() -> i32,
) -> i32 {
    let Some(path) = path else {
        return run();
    };
    let argv: Vec<String> = std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    crate::evidence::begin(command, path, &argv);
    let code = run();
    crate::evidence::end(code, err_style)
}

/// Up to five names in backticks, then how many more: a message names
/// what it is about without growing with the rule set.
pub(crate) fn some_names(names: &[&str]) -> String {
    let shown: Vec<String> = names.iter().take(5).map(|n| format!("`{n}`")).collect();
    match names.len().saturating_sub(5) {
        0 => shown.join(", "),
        more => format!("{} and {more} more", shown.join(", ")),
    }
}

pub(crate) fn eprint_diags(diags: &[Diag], s: &Style) {
    let mut err = std::io::stderr().lock();
    for d in diags {
        let _ = writeln!(err, "{}", render(d, s.plain, s.width));
    }
}

/// Loads rules; on errors prints them all and returns `None`.
pub(crate) fn load_rules(paths: &[PathBuf], s: &Style) -> Option<RuleSet> {
    match rules::load(paths) {
        Ok(set) => {
            eprint_diags(&set.warnings, s);
            Some(set)
        }
        Err(RuleErrors { errors, warnings }) => {
            eprint_diags(&errors, s);
            eprint_diags(&warnings, s);
            let n = errors.len();
            eprintln!(
                "proviso: {n} error{} in the rule files; nothing was checked",
                if n == 1 { "" } else { "s" }
            );
            None
        }
    }
}

pub(crate) use files::write_output;

/// The rule files with their parameters: `params:` of the proviso.yaml
/// (the one named, or the one found from the working directory up), then
/// `--param` flags. `None` when anything is wrong, its diagnostics
/// printed: `audit` and `compile` read parameters alike.
pub(crate) fn load_rules_with_params(
    paths: &[PathBuf],
    no_config: bool,
    config: Option<&std::path::Path>,
    flags: &[(String, String)],
    s: &Style,
) -> Option<RuleSet> {
    let mut rules = load_rules(paths, s)?;
    let config = match config::for_run(no_config, config) {
        Ok(c) => c,
        Err(d) => {
            eprint_diags(&[d], s);
            return None;
        }
    };
    let params: Vec<(String, String)> = config
        .params
        .into_iter()
        .chain(flags.iter().cloned())
        .collect();
    let bad = rules.set_params(&params);
    if !bad.is_empty() {
        eprint_diags(&bad, s);
        return None;
    }
    crate::evidence::note_rules_and_params(&rules, config.path.as_deref(), &params);
    Some(rules)
}
