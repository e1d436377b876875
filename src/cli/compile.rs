//! `proviso compile --to sql`: the rule set as one SQL statement for a
//! table in a data lake (see `crate::compile`).
//!
//! The command only gathers what the compiler needs (the rules with their
//! parameters, the table's columns) and prints the statement: nothing is
//! read but the rule files and, with `--schema-from`, the head or footer
//! of one data file.

use super::{CompileArgs, EXIT_OK, EXIT_TROUBLE, Style, eprint_diags, write_output};
use crate::compile::{Options, Schema, compile};
use crate::diag::Diag;

pub fn run(args: CompileArgs, err_style: &Style) -> i32 {
    let fail = |d: Diag| {
        eprint_diags(&[d], err_style);
        EXIT_TROUBLE
    };
    let schema = match (&args.schema_from, &args.columns, args.table_format) {
        (Some(p), _, _) => Schema::from_file(p),
        (None, Some(spec), _) => Schema::parse_columns(spec),
        (None, None, Some(tf)) => Ok(tf.schema()),
        (None, None, None) => Err(Diag::error(
            crate::diag::Code::CompileBadSchema,
            "`proviso compile` needs the table's columns",
        )
        .with_help("give a sample file of the table with `--schema-from FILE` (Parquet, CSV, JSON lines), name the columns with `--columns NAME:TYPE,…`, or name a documented table with `--table-format`")),
    };
    let schema = match schema {
        Ok(s) => s,
        Err(d) => return fail(d),
    };
    let Some(rules) = super::load_rules_with_params(
        &args.rules,
        args.no_config,
        args.config.as_deref(),
        &args.params,
        err_style,
    ) else {
        return EXIT_TROUBLE;
    };
    let Some(table) = args
        .table
        .clone()
        .or_else(|| args.table_format.map(|t| t.table_name().to_string()))
    else {
        return fail(
            Diag::error(crate::diag::Code::CompileBadColumns, "`proviso compile` needs the table's name")
                .with_help("name it as the engine knows it: `--table gateway_logs`, `--table lake.logs.gateway`, or `--table \"read_parquet('logs/*.parquet')\"` for DuckDB"),
        );
    };
    let opts = Options {
        dialect: args.dialect,
        table,
        schema,
        table_format: args.table_format,
        findings: args.findings,
        as_of: args.as_of,
        overrides: args.fields.clone(),
    };
    match compile(&rules, &opts) {
        Ok(sql) => {
            let text = format!("{sql};\n");
            match write_output(args.output.as_ref(), &text) {
                Ok(()) => EXIT_OK,
                Err(d) => fail(d),
            }
        }
        Err(d) => fail(d),
    }
}
