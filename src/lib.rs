//! proviso: a contract and clause compliance auditor.
//!
//! Legal teams write the terms of an agreement as `.proviso` rule files
//! ([`rules`]). Two pipelines judge records against the clauses in force on
//! each record's date, and the modules below are listed in their order:
//!
//! - `check`: [`scan::terraform`] turns a Terraform tree into records;
//!   [`eval`] judges each into [`findings`]; waivers, a baseline and a diff
//!   narrow them ([`findings::waivers`], [`findings::baseline`],
//!   [`findings::changed`]); [`report`] renders them.
//! - `audit`: [`scan::logs`] parses log lines into slots; [`eval::compiled`]
//!   judges them; [`audit`] streams files through both and counts;
//!   `report::audit_*` renders the counts.
//!
//! `main.rs` is a thin shell over [`cli`]. The README's "How the code is
//! laid out" draws both pipelines with the module of each step.

#![allow(
    clippy::result_large_err,
    reason = "`Diag` is a rich report (labels, help, related notes) returned only on the \
              error path of I/O and parsing, never per record; boxing it would cost clarity \
              for no measurable gain"
)]

// Foundations every stage uses.
pub mod build_info;
pub mod date;
pub mod diag;
pub mod source;
pub mod text;
pub mod value;

// Inputs to records: Terraform (`check`) and log exports (`audit`). The
// scanners' field vocabulary is what rule files are checked against.
pub mod scan;
// The rule language: files to a checked rule set, and its authoring tools.
pub mod rules;
// The evaluator shared by both pipelines (tree and compiled forms).
pub mod eval;
// Aggregate clauses: groups of records, their figures and outcomes (the
// audit and `proviso test` feed it, each with its own evaluator).
pub mod aggregate;

// `check`: records judged into findings, narrowed, rendered.
pub mod findings;
pub mod report;

// `audit`: log exports streamed through the compiled rules into counts.
pub mod audit;

// `--what-if`: a draft amendment's judgement paired with today's.
pub mod what_if;

// `compile`: a rule set as SQL that judges a table where it lives.
pub mod compile;

// `explain`: a rule set rendered for people.
pub mod explain;

// Evidence of a run (hashes of what it read and wrote) and its verification.
pub mod evidence;

// The command line, driving all of the above.
pub mod cli;

// `proviso lsp`: the language server for editors, over all of the above.
pub mod lsp;
