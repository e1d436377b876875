//! `proviso compile --to sql`: a rule set as one SQL statement that judges
//! a table where it lives (Spark, Trino/Athena, DuckDB, DataFusion) and
//! answers what `proviso audit` answers on the same records.
//!
//! The statement is a chain of steps (common table expressions), each
//! adding columns to every row of the table:
//!
//! 1. the raw values of the columns the rules read (empty and `-` text
//!    absent), then the audit's transforms of them, then each rule field
//!    as the first of its candidate columns a row has ([`fields`]);
//! 2. the record's time in UTC milliseconds and its day ([`time`]);
//! 3. each define used as a condition, once ([`cond`]), and whether the
//!    row is malformed (a `field` declaration it breaks);
//! 4. per clause version, the row's outcome: not applicable (NULL), pass,
//!    excepted or violation, judged only on the days the version is in
//!    force, by the terms in force on the row's own UTC day;
//! 5. per aggregate clause version, its groups, figures and outcomes
//!    ([`aggregate`]).
//!
//! The tail counts them into one row per clause version (`clause`,
//! `terms`, `severity`, `violations`, `unresolved`, `first_seen`,
//! `last_seen`, as in the audit's `clauses[]`), or with `--findings`
//! lists each violating record and each breaching or unresolved group.
//!
//! The design choice is *proviso's semantics, not SQL's*: every test of a
//! field is closed over absence (false, never NULL), group conditions are
//! Kleene logic over absent and unknown figures, money is exact decimal,
//! and times are integers, so that the same rule file gives the same
//! answer on every engine and in the audit. A construct that has no exact
//! form in a dialect is an error naming the clause, the construct and the
//! dialect, never a clause silently left out.

pub mod aggregate;
mod cond;
pub mod dialect;
mod fields;
mod parquet_schema;
pub mod regex;
pub mod schema;
pub mod tables;
mod time;
mod transform;

use crate::date::{Date, Interval};
use crate::diag::{Code, Diag};
use crate::rules::RuleSet;
use crate::rules::ast::{Check, Clause, FieldType, MessagePart, Terms};
use cond::{Conds, Sql};
pub use dialect::Dialect;
use fields::{Fields, text_of};
pub use schema::Schema;
pub use tables::TableFormat;

/// The step at which rule fields are columns (after the raw values and
/// the transforms' steps).
pub const FIELD_LAYER: usize = transform::MAX_STEPS + 1;
/// The step at which a field's IPv4 number and IPv6 hex form are ready.
pub const IP_LAYER: usize = FIELD_LAYER + 4;
/// The steps of the record's time (after the text timestamp's own steps).
const MS_LAYER: usize = 7;
const DAY_LAYER: usize = MS_LAYER + 1;

/// What to compile.
pub struct Options {
    pub dialect: Dialect,
    /// The table's name as the engine knows it (written as given).
    pub table: String,
    pub schema: Schema,
    pub table_format: Option<TableFormat>,
    /// One row per violating record or group, instead of per clause.
    pub findings: bool,
    /// Judge every record by the terms in force on this date, not its own.
    pub as_of: Option<Date>,
    /// `--field NAME=COLUMN`.
    pub overrides: Vec<(String, String)>,
}

/// A construct with no exact SQL form: why, in a phrase.
#[derive(Debug, Clone)]
pub struct Unsupported {
    pub why: String,
}

impl Unsupported {
    pub fn new(why: String) -> Unsupported {
        Unsupported { why }
    }

    fn at(self, clause: &Clause, terms: &Terms, d: Dialect) -> Diag {
        Diag::error(
            Code::CompileUnsupported,
            format!(
                "clause `{}` (terms `{}`) cannot be compiled for {}: {}",
                clause.id.name,
                terms.id.name,
                d.name(),
                self.why
            ),
        )
        .with_help(
            "`proviso audit` judges it; rewrite the construct, or audit these records with proviso",
        )
    }
}

/// One enforced clause version of the statement.
struct Version<'r> {
    terms: &'r Terms,
    clause: &'r Clause,
    interval: Interval,
}

/// Compiles the rule set into one statement.
pub fn compile(rules: &RuleSet, opts: &Options) -> Result<String, Diag> {
    let d = opts.dialect;
    let mut fields = Fields::new(d, &opts.schema, &opts.overrides, opts.table_format);
    // The record's time and day.
    let ms = time::record_ms(&mut fields).map(|e| fields.col_at(MS_LAYER, "ms", e));
    let day = match (opts.as_of, &ms) {
        (Some(date), _) => format!("{}", date.days()),
        (None, Some(ms)) => fields.col_at(DAY_LAYER, "day", time::day_of(d, ms)),
        (None, None) => {
            return Err(Diag::error(
                Code::CompileNoTimestamp,
                "the table has no column proviso reads a record's time from",
            )
            .with_help(
                "name it with `--field timestamp=COLUMN` (its columns: `--schema-from` or `--columns`), or judge every record on one date with `--as-of DATE`",
            ));
        }
    };
    let ms_or_null = ms.clone().unwrap_or_else(|| "CAST(NULL AS BIGINT)".into());
    let versions = versions(rules);
    let plan = crate::aggregate::Plan::new(rules);
    if versions.is_empty() && plan.is_empty() {
        return Err(Diag::error(
            Code::CompileNothing,
            "the rule files have no clause a table's records can be judged by",
        )
        .with_help("`proviso explain` lists the clauses; manual clauses are not compiled"));
    }
    let mut conds = Conds::new(rules, &mut fields);
    // A malformed row (a value not of its `field` declaration's type, or
    // a required field missing) is judged by no clause, as in the audit,
    // which checks declarations when the rules have aggregate clauses or
    // typed fields.
    let typed: Vec<_> = rules
        .fields
        .iter()
        .filter(|f| f.ty.is_some() || f.required.is_some())
        .collect();
    let mut bad_parts: Vec<Sql> = Vec::new();
    for f in &typed {
        let field = conds
            .fields
            .get(&f.path)
            .map_err(|u| unsupported_field(u, &f.path, d))?;
        let text = field
            .as_ref()
            .map(|fl| format!("TRIM({})", text_of(d, &fl.col, fl.kind)));
        let present = text.as_ref().map_or("FALSE".to_string(), |t| {
            format!("COALESCE({t} <> '', FALSE)")
        });
        if let Some(req) = &f.required {
            let holds = conds
                .cond(req)
                .map_err(|u| unsupported_field(u, &f.path, d))?;
            bad_parts.push(Sql {
                text: format!("(NOT {present} AND {})", holds.text),
                layer: holds.layer.max(FIELD_LAYER + 1),
            });
        }
        if let (Some(ty), Some(fl)) = (&f.ty, &field) {
            let raw_text = text_of(d, &fl.col, fl.kind);
            let ok = match ty {
                FieldType::Decimal => aggregate::is_decimal(d, &format!("TRIM({raw_text})")),
                FieldType::OneOf(values) => {
                    let list: Vec<String> = values.iter().map(|v| d.string(v)).collect();
                    format!("{raw_text} IN ({})", list.join(", "))
                }
            };
            bad_parts.push(Sql {
                text: format!("({present} AND NOT COALESCE({ok}, FALSE))"),
                layer: FIELD_LAYER + 1,
            });
        }
    }
    let checks_fields = !plan.is_empty() || !typed.is_empty();
    let bad = if checks_fields && !bad_parts.is_empty() {
        let layer = bad_parts
            .iter()
            .map(|s| s.layer)
            .max()
            .unwrap_or(0)
            .max(DAY_LAYER + 1);
        let text: Vec<String> = bad_parts.into_iter().map(|s| s.text).collect();
        Some(
            conds
                .fields
                .col_at(layer, "bad", format!("({})", text.join(" OR "))),
        )
    } else {
        None
    };
    let ok = match (&ms, &bad) {
        (Some(ms), Some(b)) => format!("({ms} IS NOT NULL AND NOT {b})"),
        (Some(ms), None) => format!("({ms} IS NOT NULL)"),
        (None, Some(b)) => format!("(NOT {b})"),
        (None, None) => "TRUE".into(),
    };
    // Per clause version, the row's outcome: NULL not applicable, 1 pass,
    // 2 excepted, 3 violation.
    let mut outcomes: Vec<(String, &Version<'_>)> = Vec::new();
    for v in &versions {
        let col =
            record_outcome(&mut conds, v, &day, &ok).map_err(|u| u.at(v.clause, v.terms, d))?;
        outcomes.push((col, v));
    }
    // Aggregate clauses: their row-level columns join the same chain.
    let mut aggs = Vec::new();
    for spec in &plan.clauses {
        let a = aggregate::rows(&mut conds, spec, &day, &ok, &ms_or_null)
            .map_err(|u| u.at(spec.clause, spec.terms, d))?;
        aggs.push(a);
    }
    // Messages of violating records.
    let mut messages = Vec::new();
    if opts.findings {
        for (_, v) in &outcomes {
            messages.push(
                record_message(&mut conds, v.clause).map_err(|u| u.at(v.clause, v.terms, d))?,
            );
        }
    }
    drop(conds);
    let (mut ctes, last) = layers(d, &fields, &opts.table);
    let mut rows: Vec<String> = Vec::new();
    let table_cols: Vec<String> = match opts.table_format {
        Some(tf) => tf.schema().top_level().iter().map(|c| d.ident(c)).collect(),
        None => opts.schema.top_level().iter().map(|c| d.ident(c)).collect(),
    };
    let mut ord = 0usize;
    if opts.findings {
        // One row per (record, violated clause version): each row is
        // repeated once per version, tagged with its index or NULL.
        if !outcomes.is_empty() {
            let hit = d.ident("__pv_hit");
            let items: Vec<String> = outcomes
                .iter()
                .enumerate()
                .map(|(i, (col, _))| format!("CASE WHEN {col} = 3 THEN {i} END"))
                .collect();
            let pick = |each: &dyn Fn(usize) -> String| {
                let arms: Vec<String> = (0..outcomes.len())
                    .map(|i| format!("WHEN {i} THEN {}", each(i)))
                    .collect();
                format!("CASE {hit} {} END", arms.join(" "))
            };
            let mut select: Vec<String> = table_cols.clone();
            select.push(format!(
                "{} AS clause",
                pick(&|i| outcomes
                    .get(i)
                    .map_or("NULL".into(), |(_, v)| d.string(&v.clause.id.name)))
            ));
            select.push(format!(
                "{} AS terms",
                pick(&|i| outcomes
                    .get(i)
                    .map_or("NULL".into(), |(_, v)| d.string(&v.terms.id.name)))
            ));
            select.push("'violation' AS outcome".into());
            select.push(format!(
                "{} AS message",
                pick(&|i| messages.get(i).cloned().unwrap_or_else(|| "NULL".into()))
            ));
            select.push(format!("CAST(NULL AS {}) AS group_key", d.text_type()));
            select.push(format!("CAST(NULL AS {}) AS figures", d.text_type()));
            select.push(format!("{ord} + {hit} AS {}", d.ident("__pv_ord")));
            select.push(format!("{ms_or_null} AS {}", d.ident("__pv_at")));
            rows.push(format!(
                "SELECT {} FROM {} {} WHERE {hit} IS NOT NULL",
                select.join(", "),
                d.unnest_rows(&last, &items, &hit),
                d.ident("__pv_x"),
            ));
            ord += outcomes.len();
        }
        for a in &aggs {
            let (more, row) = aggregate::finish(d, rules, a, &last, &table_cols, true, ord)
                .map_err(|u| u.at(a.clause(), a.terms(), d))?;
            ctes.extend(more);
            rows.push(row);
            ord += 1;
        }
        let mut select: Vec<String> = table_cols.clone();
        select.extend(
            [
                "clause",
                "terms",
                "outcome",
                "message",
                "group_key",
                "figures",
            ]
            .map(String::from),
        );
        return Ok(format!(
            "WITH {}\nSELECT {} FROM (\n{}\n) {} ORDER BY {}, {}, group_key",
            ctes.join(",\n"),
            select.join(", "),
            rows.join("\nUNION ALL\n"),
            d.ident("__pv_u"),
            d.ident("__pv_ord"),
            d.ident("__pv_at"),
        ));
    }
    // One row per clause version.
    let mut totals: Vec<String> = Vec::new();
    for (i, (col, _)) in outcomes.iter().enumerate() {
        totals.push(format!("COUNT(CASE WHEN {col} = 3 THEN 1 END) AS v{i}"));
        totals.push(format!(
            "MIN(CASE WHEN {col} = 3 THEN {ms_or_null} END) AS f{i}"
        ));
        totals.push(format!(
            "MAX(CASE WHEN {col} = 3 THEN {ms_or_null} END) AS l{i}"
        ));
    }
    if !totals.is_empty() {
        ctes.push(format!(
            "{} AS (SELECT {} FROM {last})",
            d.ident("__pv_totals"),
            totals.join(", ")
        ));
    }
    for (i, (_, v)) in outcomes.iter().enumerate() {
        rows.push(format!(
            "SELECT {} AS clause, {} AS terms, {} AS severity, v{i} AS violations, CAST(0 AS BIGINT) AS unresolved, {} AS first_seen, {} AS last_seen, {ord} AS {} FROM {}",
            d.string(&v.clause.id.name),
            d.string(&v.terms.id.name),
            d.string(v.clause.severity.as_str()),
            time::format_ms(d, &format!("f{i}")),
            time::format_ms(d, &format!("l{i}")),
            d.ident("__pv_ord"),
            d.ident("__pv_totals"),
        ));
        ord += 1;
    }
    for a in &aggs {
        let (more, row) = aggregate::finish(d, rules, a, &last, &table_cols, false, ord)
            .map_err(|u| u.at(a.clause(), a.terms(), d))?;
        ctes.extend(more);
        rows.push(row);
        ord += 1;
    }
    Ok(format!(
        "WITH {}\nSELECT clause, terms, severity, violations, unresolved, first_seen, last_seen FROM (\n{}\n) {} ORDER BY {}",
        ctes.join(",\n"),
        rows.join("\nUNION ALL\n"),
        d.ident("__pv_u"),
        d.ident("__pv_ord"),
    ))
}

fn unsupported_field(u: Unsupported, path: &crate::value::FieldPath, d: Dialect) -> Diag {
    Diag::error(
        Code::CompileUnsupported,
        format!(
            "the declaration of field `{path}` cannot be compiled for {}: {}",
            d.name(),
            u.why
        ),
    )
}

/// The enforced (not manual, not aggregate) clause versions, in the
/// audit's order, with where each is in force.
fn versions(rules: &RuleSet) -> Vec<Version<'_>> {
    let mut out = Vec::new();
    for terms in &rules.terms {
        let Some(terms_iv) = rules.terms_in_force_interval(terms) else {
            continue;
        };
        for clause in &terms.clauses {
            if !matches!(clause.check, Check::Require(_) | Check::Forbid(_)) {
                continue;
            }
            let Some(interval) = terms_iv.intersect(&clause.interval(terms)) else {
                continue;
            };
            out.push(Version {
                terms,
                clause,
                interval,
            });
        }
    }
    out
}

/// `day` (a column or a number) within `[from, until)`.
pub(crate) fn in_interval(day: &str, iv: &Interval) -> String {
    match iv.until {
        Some(u) => format!("({day} >= {} AND {day} < {})", iv.from.days(), u.days()),
        None => format!("({day} >= {})", iv.from.days()),
    }
}

/// The column of a clause version's outcome on each row.
fn record_outcome(
    conds: &mut Conds<'_, '_, '_>,
    v: &Version<'_>,
    day: &str,
    ok: &str,
) -> Result<String, Unsupported> {
    let (check, forbid) = match &v.clause.check {
        Check::Require(e) => (e, false),
        Check::Forbid(e) => (e, true),
        Check::Manual | Check::Aggregate => {
            return Err(Unsupported::new("not an enforced clause".into()));
        }
    };
    let applies = match &v.clause.applies {
        Some(e) => conds.cond(e)?,
        None => Sql {
            text: "TRUE".into(),
            layer: 0,
        },
    };
    let holds = conds.cond(check)?;
    let mut excuses = Vec::new();
    for name in &v.clause.excepts {
        let when = v
            .terms
            .exceptions
            .iter()
            .find(|x| x.id.name == name.name)
            .and_then(|x| x.when.as_ref());
        if let Some(w) = when {
            excuses.push(conds.cond(w)?);
        }
    }
    for u in &v.clause.unless {
        excuses.push(conds.cond(u)?);
    }
    let layer = [&applies, &holds]
        .into_iter()
        .chain(&excuses)
        .map(|s| s.layer)
        .max()
        .unwrap_or(0)
        .max(DAY_LAYER + 2);
    let fails = if forbid {
        holds.text
    } else {
        format!("(NOT {})", holds.text)
    };
    let excused = if excuses.is_empty() {
        "FALSE".to_string()
    } else {
        let t: Vec<String> = excuses.into_iter().map(|s| s.text).collect();
        format!("({})", t.join(" OR "))
    };
    let expr = format!(
        "CASE WHEN {ok} AND {} AND {} THEN CASE WHEN {fails} THEN CASE WHEN {excused} THEN 2 ELSE 3 END ELSE 1 END END",
        in_interval(day, &v.interval),
        applies.text,
    );
    Ok(conds.fields.col_at(layer, "o", expr))
}

/// A violating record's message, as the audit renders it: the clause's
/// `message` with `{field}` holes filled (`(none)` when absent), where
/// `{address}` is the request (`METHOD host/path`); without a message,
/// `<address> breaks "<title>"`.
fn record_message(conds: &mut Conds<'_, '_, '_>, clause: &Clause) -> Result<String, Unsupported> {
    let d = conds.fields.d;
    let value =
        |conds: &mut Conds<'_, '_, '_>, name: &str| -> Result<Option<String>, Unsupported> {
            let path = crate::value::FieldPath(vec![name.to_string()]);
            Ok(conds.fields.get(&path)?.map(|f| text_of(d, &f.col, f.kind)))
        };
    let method = value(conds, "method")?;
    let host = value(conds, "host")?;
    let path = value(conds, "path")?;
    let address = {
        let m = method.map_or("''".to_string(), |m| format!("COALESCE({m} || ' ', '')"));
        let h = host.map_or("''".to_string(), |h| format!("COALESCE({h}, '')"));
        let p = path.map_or("''".to_string(), |p| format!("COALESCE({p}, '')"));
        format!("TRIM({m} || {h} || {p})")
    };
    let Some(message) = &clause.message else {
        let title = clause.title.as_deref().unwrap_or(&clause.id.name);
        return Ok(format!(
            "{address} || {}",
            d.string(&format!(" breaks \"{title}\""))
        ));
    };
    let mut parts = Vec::new();
    for part in &message.parts {
        match part {
            MessagePart::Text(t) => parts.push(d.string(t)),
            MessagePart::Field(p, _)
                if p.0.len() == 1 && p.0.first().is_some_and(|s| s == "address") =>
            {
                parts.push(address.clone());
            }
            MessagePart::Field(p, _) => match conds.fields.get(p)? {
                Some(f) => parts.push(format!(
                    "COALESCE({}, '(none)')",
                    text_of(d, &f.col, f.kind)
                )),
                None => parts.push("'(none)'".into()),
            },
        }
    }
    if parts.is_empty() {
        return Ok("''".into());
    }
    Ok(format!("({})", parts.join(" || ")))
}

/// The statement's steps: one CTE per layer of computed columns, the
/// first reading the table. Answers the CTEs and the last one's name.
fn layers(d: Dialect, fields: &Fields<'_>, table: &str) -> (Vec<String>, String) {
    let mut ctes = Vec::new();
    let mut prev = None::<String>;
    for (i, cols) in fields.layers.iter().enumerate() {
        let name = d.ident(&format!("__pv_s{i}"));
        let list: Vec<String> = cols.iter().map(|(e, n)| format!("{e} AS {n}")).collect();
        let select = match (&prev, list.is_empty()) {
            (None, true) => format!("SELECT t.* FROM {table} t"),
            (None, false) => format!("SELECT t.*, {} FROM {table} t", list.join(", ")),
            // A layer with nothing to add is no step.
            (Some(_), true) => continue,
            (Some(p), false) => format!("SELECT *, {} FROM {p}", list.join(", ")),
        };
        ctes.push(format!("{name} AS ({select})"));
        prev = Some(name);
    }
    let last = match prev {
        Some(p) => p,
        None => {
            let name = d.ident("__pv_s0");
            ctes.push(format!("{name} AS (SELECT t.* FROM {table} t)"));
            name
        }
    };
    (ctes, last)
}
