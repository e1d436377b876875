//! proviso: a contract and clause compliance auditor.
//!
//! Legal teams write the terms of an agreement as `.proviso` rule files
//! ([`rules`]); scanners turn inputs into records ([`scan`]); the evaluator
//! judges each record against the clauses in force on its date ([`eval`],
//! [`findings`]); reporters render findings ([`report`]). `main.rs` is a thin
//! shell over [`cli`].

// `Diag` is a rich report (labels, help, related notes) returned only on the
// error path of I/O and parsing, never per record; boxing it would cost
// clarity for no measurable gain.
#![allow(clippy::result_large_err)]

pub mod audit;
pub mod baseline;
pub mod changed;
pub mod cli;
pub mod compiled;
pub mod config;
pub mod date;
pub mod diag;
pub mod eval;
pub mod examples;
pub mod explain;
pub mod findings;
pub mod lint;
pub mod report;
pub mod rules;
pub mod scan;
pub mod source;
pub mod value;
pub mod waivers;
