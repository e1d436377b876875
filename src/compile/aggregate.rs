//! Aggregate clauses in SQL: groups, figures and outcomes, as
//! `src/aggregate` computes them.
//!
//! Per row, the statement's chain gets a few columns per clause version:
//! whether the row joins a group (it has a time, is not malformed, passes
//! `over`, has every `per` field, and falls in the version's dates or is
//! read `in all records`), its key (field texts and a period number), and
//! per aggregation whether the row counts and what it brings. Then, per
//! clause version:
//!
//! - a `GROUP BY` over the key computes each aggregation (`sum`, `count`,
//!   `count of distinct`, `min`, `max`, `first`, `first day`), keeping
//!   only groups a row joined while the version was in force;
//! - one step per figure (`let`), in order, computes its value; a
//!   `running total` is a window over the groups of the same non-period
//!   key in period order;
//! - a last step judges each group in three-valued logic.
//!
//! A figure's value is three columns, so that *absent* and *unknown*
//! survive SQL: a kind (0 absent, 1 unknown, 2 number, 3 text, 4 date,
//! 5 boolean), an exact decimal, and a text (dates as `YYYY-MM-DD`). A
//! truth is 0 (false), 1 (unknown) or 2 (true): `and` is the least,
//! `or` the greatest, `not` is `2 - x`, which is Kleene's logic. Numbers
//! are `DECIMAL(38, 6)`, wide enough for money; a product with more than
//! six places is rounded (see the README's limits).

use super::Unsupported;
use super::cond::{Conds, Sql};
use super::dialect::Dialect;
use super::fields::{Kind, text_of};
use super::time;
use crate::aggregate::{AggClause, DISTINCT_CAP};
use crate::rules::RuleSet;
use crate::rules::ast::{
    AggOp, Arith, ArithKind, CmpOp, GExpr, GKind, GroupKey, Lit, MessagePart, Period,
};

/// Places of the exact decimals figures are computed in.
pub const SCALE: u32 = 6;

/// Whether the text `t` is a decimal as `rust_decimal` reads one exactly
/// (`12.50`, `-3`, `.5`, `5.`, `1_000`).
pub fn is_decimal(d: Dialect, t: &str) -> String {
    d.regex_like(
        t,
        "^[+\\x2D]?(?:[0-9][0-9_]*(?:\\.[0-9_]*)?|\\.[0-9][0-9_]*)\\z",
    )
}

/// The exact decimal of text `t` that [`is_decimal`] accepts.
fn decimal_of(d: Dialect, t: &str) -> String {
    d.try_cast(&format!("REPLACE({t}, '_', '')"), &d.decimal(SCALE))
}

/// One aggregation's row-level columns.
struct AggRow {
    op: AggOp,
    /// Whether the row counts for it.
    counts: String,
    /// The value columns it reads (by op): a number, a date text, a text.
    num: Option<String>,
    date: Option<String>,
    text: Option<String>,
    /// The scale of the number it brings, for a sum, min or max.
    scale: Option<String>,
}

/// A clause version's row-level columns.
pub struct AggRows<'r> {
    spec: &'r AggClause<'r>,
    joins: String,
    in_force: String,
    /// The `per` parts: (column holding the part's sort value, its name,
    /// period if it is one).
    keys: Vec<(String, String, Option<Period>)>,
    aggs: Vec<AggRow>,
    ms: String,
}

impl AggRows<'_> {
    pub fn clause(&self) -> &crate::rules::ast::Clause {
        self.spec.clause
    }

    pub fn terms(&self) -> &crate::rules::ast::Terms {
        self.spec.terms
    }
}

/// Adds the row-level columns of `spec` to the statement's chain.
pub fn rows<'r>(
    conds: &mut Conds<'_, '_, '_>,
    spec: &'r AggClause<'r>,
    day: &str,
    ok: &str,
    ms: &str,
) -> Result<AggRows<'r>, Unsupported> {
    let d = conds.fields.d;
    let agg = spec.agg;
    let in_force = super::in_interval(day, &spec.interval);
    let mut parts: Vec<Sql> = Vec::new();
    if let Some(over) = &agg.over {
        parts.push(conds.cond(over)?);
    }
    let base = super::DAY_LAYER + 3;
    let mut keys = Vec::new();
    for k in &agg.per {
        match k {
            GroupKey::Field(p, _) => {
                let Some(f) = conds.fields.get(p)? else {
                    // A field the table lacks: no row has a key.
                    parts.push(Sql {
                        text: "FALSE".into(),
                        layer: 0,
                    });
                    keys.push((null_t(d), p.to_string(), None));
                    continue;
                };
                let text = text_of(d, &f.col, f.kind);
                let col = conds.fields.col_at(base, "k", text);
                parts.push(Sql {
                    text: format!("{col} IS NOT NULL"),
                    layer: base + 1,
                });
                keys.push((col, p.to_string(), None));
            }
            GroupKey::Period(period, _) => {
                let date = d.date_of_day(day);
                let y = format!("CAST(EXTRACT(YEAR FROM {date}) AS BIGINT)");
                let m = format!("CAST(EXTRACT(MONTH FROM {date}) AS BIGINT)");
                let idx = match period {
                    Period::Day => day.to_string(),
                    Period::Month => format!("({y} * 12 + {m} - 1)"),
                    Period::Quarter => {
                        format!("({y} * 4 + {})", d.idiv(&format!("({m} - 1)"), "3"))
                    }
                    Period::Year => y,
                };
                let col = conds.fields.col_at(base, "k", idx);
                keys.push((col, "period".into(), Some(*period)));
            }
        }
    }
    let scope_layer = parts
        .iter()
        .map(|s| s.layer)
        .max()
        .unwrap_or(0)
        .max(base + 1);
    let mut scope = vec![ok.to_string()];
    if !spec.reads_all {
        scope.push(in_force.clone());
    }
    scope.extend(parts.into_iter().map(|s| s.text));
    let joins = conds
        .fields
        .col_at(scope_layer, "j", format!("({})", scope.join(" AND ")));
    let in_col = conds.fields.col_at(scope_layer, "in", in_force);
    let mut aggs = Vec::new();
    for a in &agg.aggs {
        let mut counts: Vec<String> = vec![joins.clone()];
        let mut layer = scope_layer + 1;
        if !a.all_records {
            counts.push(in_col.clone());
        }
        if let Some(filter) = &a.filter {
            let s = conds.cond(filter)?;
            layer = layer.max(s.layer);
            counts.push(s.text);
        }
        let field = match &a.field {
            Some(p) => match conds.fields.get(p)? {
                Some(f) => Some(f),
                None => {
                    // Absent everywhere: no row brings a value.
                    counts.push("FALSE".into());
                    None
                }
            },
            None => None,
        };
        let text = field.as_ref().map(|f| text_of(d, &f.col, f.kind));
        if let Some(t) = &text
            && a.op != AggOp::Count
        {
            counts.push(format!("{t} IS NOT NULL"));
        }
        let (mut num, mut date, mut txt) = (None, None, None);
        // The scale of a value as `rust_decimal` reads its text: the
        // digits after the point.
        let scale = match (a.op, &field, &text) {
            (AggOp::Sum | AggOp::Min | AggOp::Max, Some(f), Some(_)) => Some(match f.kind {
                Kind::Int | Kind::Bool => "0".to_string(),
                Kind::Dec(sc) => sc.to_string(),
                Kind::Text | Kind::Float => {
                    let tt = format!("TRIM({})", text_of(d, &f.col, f.kind));
                    let dot = d.position(&tt, ".");
                    format!("CASE WHEN {dot} > 0 THEN LENGTH({tt}) - {dot} ELSE 0 END")
                }
            }),
            _ => None,
        };
        match (a.op, &field, &text) {
            (AggOp::Sum, Some(f), Some(t)) => {
                num = Some(match f.kind {
                    Kind::Int | Kind::Float | Kind::Dec(_) => {
                        format!("CAST({} AS {})", f.col, d.decimal(SCALE))
                    }
                    _ => format!(
                        "CASE WHEN {} THEN {} END",
                        is_decimal(d, &format!("TRIM({t})")),
                        decimal_of(d, &format!("TRIM({t})"))
                    ),
                });
            }
            (AggOp::CountDistinct | AggOp::First, Some(_), Some(t)) => txt = Some(t.clone()),
            (AggOp::Min | AggOp::Max, Some(f), Some(t)) => match f.kind {
                Kind::Int | Kind::Float | Kind::Dec(_) => {
                    num = Some(format!("CAST({} AS {})", f.col, d.decimal(SCALE)));
                }
                _ => {
                    // As `Scalar::read`: a decimal, else a date, else text.
                    let tt = format!("TRIM({t})");
                    let is_num = is_decimal(d, &tt);
                    let is_date = format!(
                        "(LENGTH({tt}) = 10 AND {} AND {} IS NOT NULL)",
                        d.regex_like(&tt, "^[0-9]{4}-[0-9]{2}-[0-9]{2}\\z"),
                        d.try_cast(&tt, "DATE")
                    );
                    num = Some(format!(
                        "CASE WHEN {is_num} THEN {} END",
                        decimal_of(d, &tt)
                    ));
                    date = Some(format!(
                        "CASE WHEN NOT {is_num} AND {is_date} THEN {tt} END"
                    ));
                    txt = Some(format!(
                        "CASE WHEN NOT {is_num} AND NOT {is_date} THEN {t} END"
                    ));
                }
            },
            _ => {}
        }
        let counts = conds
            .fields
            .col_at(layer, "g", format!("({})", counts.join(" AND ")));
        let mut put = |v: Option<String>| v.map(|e| conds.fields.col_at(scope_layer, "v", e));
        aggs.push(AggRow {
            op: a.op,
            counts,
            num: put(num),
            date: put(date),
            text: put(txt),
            scale: put(scale),
        });
    }
    Ok(AggRows {
        spec,
        joins,
        in_force: in_col,
        keys,
        aggs,
        ms: ms.to_string(),
    })
}

/// A figure's value in SQL: kind, number, text.
#[derive(Debug, Clone)]
struct V {
    k: String,
    n: String,
    t: String,
    /// The scale the audit's exact decimal would have (`rust_decimal`
    /// keeps it: `1000.00 + 5` is `1005.00`), so that a figure is shown
    /// as the audit shows it.
    s: String,
}

/// A NULL of the type of a figure's number (DataFusion refuses to sum,
/// and DuckDB to `REPLACE`, an untyped NULL).
fn null_n(d: Dialect) -> String {
    format!("CAST(NULL AS {})", d.decimal(SCALE))
}

/// A NULL of the type of a figure's text.
fn null_t(d: Dialect) -> String {
    format!("CAST(NULL AS {})", d.text_type())
}

impl V {
    fn absent(d: Dialect) -> V {
        V {
            k: "0".into(),
            n: null_n(d),
            t: null_t(d),
            s: "0".into(),
        }
    }

    fn unknown(d: Dialect) -> V {
        V {
            k: "1".into(),
            n: null_n(d),
            t: null_t(d),
            s: "0".into(),
        }
    }

    fn cols(prefix: &str) -> V {
        V {
            k: format!("{prefix}_k"),
            n: format!("{prefix}_n"),
            t: format!("{prefix}_t"),
            s: format!("{prefix}_s"),
        }
    }

    fn lit(d: Dialect, l: &Lit) -> V {
        match l {
            Lit::Num(n) => V {
                k: "2".into(),
                n: format!("CAST('{n}' AS {})", d.decimal(SCALE)),
                t: null_t(d),
                s: n.scale().to_string(),
            },
            Lit::Str(s) => V {
                k: "3".into(),
                n: null_n(d),
                t: d.string(s),
                s: "0".into(),
            },
            Lit::Date(day) => V {
                k: "4".into(),
                n: null_n(d),
                t: d.string(&day.to_string()),
                s: "0".into(),
            },
            Lit::Bool(b) => V {
                k: "5".into(),
                n: format!("CAST({} AS {})", u8::from(*b), d.decimal(SCALE)),
                t: null_t(d),
                s: "0".into(),
            },
        }
    }
}

/// What figures and conditions of one clause are computed over.
struct Env<'a> {
    d: Dialect,
    rules: &'a RuleSet,
    /// Per figure, the prefix of its columns.
    figures: Vec<String>,
    /// Per `per` part, the column of its text.
    key_text: Vec<String>,
    /// Per figure, the prefix of its running total's columns, when some
    /// figure reads one.
    running: std::collections::HashMap<usize, String>,
}

impl Env<'_> {
    /// An arithmetic value; `in_condition` makes a running total absent,
    /// as the audit reads one there.
    fn arith(&self, a: &Arith, in_condition: bool, depth: usize) -> Result<V, Unsupported> {
        if depth > super::cond::MAX_NEST {
            return Err(Unsupported::new(
                "a figure nests more deeply than proviso compiles to SQL".into(),
            ));
        }
        let d = self.d;
        Ok(match &a.kind {
            ArithKind::Lit(l) => V::lit(d, l),
            ArithKind::Name(n) => {
                return Err(Unsupported::new(format!("the name `{n}` is not resolved")));
            }
            ArithKind::Figure(i) => self
                .figures
                .get(*i)
                .map_or_else(|| V::absent(d), |p| V::cols(p)),
            ArithKind::Key(i) => match self.key_text.get(*i) {
                Some(c) => V {
                    k: "3".into(),
                    n: null_n(d),
                    t: c.clone(),
                    s: "0".into(),
                },
                None => V::absent(d),
            },
            ArithKind::Param(p) => match self.rules.param_values.get(p) {
                Some(l) => V::lit(d, l),
                None => V::unknown(d),
            },
            ArithKind::Agg(i) => V::cols(&format!("a{i}")),
            ArithKind::Running(i) => {
                if in_condition {
                    V::absent(d)
                } else {
                    match self.running.get(i) {
                        Some(p) => V::cols(p),
                        None => V::absent(d),
                    }
                }
            }
            ArithKind::Add(x, y) | ArithKind::Sub(x, y) | ArithKind::Mul(x, y) => {
                let op = match &a.kind {
                    ArithKind::Add(..) => "+",
                    ArithKind::Sub(..) => "-",
                    _ => "*",
                };
                let (x, y) = (
                    self.arith(x, in_condition, depth + 1)?,
                    self.arith(y, in_condition, depth + 1)?,
                );
                V {
                    k: format!(
                        "(CASE WHEN {xk} = 1 OR {yk} = 1 THEN 1 WHEN {xk} = 0 OR {yk} = 0 THEN 0 \
                         WHEN {xk} = 2 AND {yk} = 2 THEN 2 ELSE 1 END)",
                        xk = x.k,
                        yk = y.k
                    ),
                    n: format!(
                        "CASE WHEN {} = 2 AND {} = 2 THEN CAST({} {op} {} AS {}) END",
                        x.k,
                        y.k,
                        x.n,
                        y.n,
                        d.decimal(SCALE)
                    ),
                    t: null_t(d),
                    s: if op == "*" {
                        format!("LEAST({} + {}, 28)", x.s, y.s)
                    } else {
                        format!("GREATEST({}, {})", x.s, y.s)
                    },
                }
            }
            ArithKind::Set(_) => {
                return Err(Unsupported::new("a set used as a figure's value".into()));
            }
        })
    }

    /// A group condition as 0 (false), 1 (unknown) or 2 (true).
    fn truth(&self, e: &GExpr, depth: usize) -> Result<String, Unsupported> {
        if depth > super::cond::MAX_NEST {
            return Err(Unsupported::new(
                "a group condition nests more deeply than proviso compiles to SQL".into(),
            ));
        }
        Ok(match &e.kind {
            GKind::Or(items) | GKind::And(items) => {
                let parts = items
                    .iter()
                    .map(|i| self.truth(i, depth + 1))
                    .collect::<Result<Vec<_>, _>>()?;
                let f = if matches!(e.kind, GKind::Or(_)) {
                    "GREATEST"
                } else {
                    "LEAST"
                };
                match parts.len() {
                    0 => {
                        if matches!(e.kind, GKind::Or(_)) {
                            "0".into()
                        } else {
                            "2".into()
                        }
                    }
                    1 => parts.into_iter().next().unwrap_or_default(),
                    _ => format!("{f}({})", parts.join(", ")),
                }
            }
            GKind::Not(i) => format!("(2 - {})", self.truth(i, depth + 1)?),
            GKind::Compare(a, op, b) => {
                let (a, b) = (
                    self.arith(a, true, depth + 1)?,
                    self.arith(b, true, depth + 1)?,
                );
                self.compare(&a, *op, &b)
            }
            GKind::In { negated, lhs, rhs } => {
                let l = self.arith(lhs, true, depth + 1)?;
                let t = match &rhs.kind {
                    ArithKind::Set(items) => {
                        let mut parts = Vec::new();
                        for m in items {
                            let m = self.arith(m, true, depth + 1)?;
                            parts.push(self.compare(&l, CmpOp::Eq, &m));
                        }
                        match parts.len() {
                            0 => "0".to_string(),
                            1 => parts.into_iter().next().unwrap_or_default(),
                            _ => format!("GREATEST({})", parts.join(", ")),
                        }
                    }
                    _ => {
                        let r = self.arith(rhs, true, depth + 1)?;
                        format!(
                            "(CASE WHEN {} = 1 THEN 1 WHEN {} = 0 THEN 0 ELSE {} END)",
                            r.k,
                            r.k,
                            self.compare(&l, CmpOp::Eq, &r)
                        )
                    }
                };
                if *negated { format!("(2 - {t})") } else { t }
            }
            GKind::Exists(a) => {
                let v = self.arith(a, true, depth + 1)?;
                format!("(CASE {} WHEN 0 THEN 0 WHEN 1 THEN 1 ELSE 2 END)", v.k)
            }
            GKind::Truthy(a) => {
                let v = self.arith(a, true, depth + 1)?;
                format!(
                    "(CASE WHEN {k} = 0 THEN 0 WHEN {k} = 5 AND {n} = 0 THEN 0 WHEN {k} = 1 THEN 1 ELSE 2 END)",
                    k = v.k,
                    n = v.n
                )
            }
        })
    }

    /// `a op b` as `FVal::compare` answers it.
    fn compare(&self, a: &V, op: CmpOp, b: &V) -> String {
        let d = self.d;
        let o = super::cond::sql_op(op);
        let ne = if op == CmpOp::Ne { "2" } else { "0" };
        let holds = |c: String| format!("CASE WHEN {c} THEN 2 ELSE 0 END");
        let num_of = |t: &str| {
            let tt = format!("TRIM({t})");
            format!(
                "(CASE WHEN {} THEN {} END)",
                is_decimal(d, &tt),
                decimal_of(d, &tt)
            )
        };
        let date_of = |t: &str| {
            format!(
                "(CASE WHEN LENGTH({t}) = 10 AND {} AND {} IS NOT NULL THEN {t} END)",
                d.regex_like(t, "^[0-9]{4}-[0-9]{2}-[0-9]{2}\\z"),
                d.try_cast(t, "DATE")
            )
        };
        let (an, bn) = (num_of(&a.t), num_of(&b.t));
        let (ad, bd) = (date_of(&a.t), date_of(&b.t));
        format!(
            "(CASE WHEN {ak} = 1 OR {bk} = 1 THEN 1 WHEN {ak} = 0 OR {bk} = 0 THEN 0 \
             WHEN ({ak} = 2 AND {bk} = 2) OR ({ak} = 5 AND {bk} = 5) THEN {nn} \
             WHEN ({ak} = 3 AND {bk} = 3) OR ({ak} = 4 AND {bk} = 4) THEN {tt} \
             WHEN {ak} = 2 AND {bk} = 3 THEN CASE WHEN {bn} IS NULL THEN {ne} ELSE {nt} END \
             WHEN {ak} = 3 AND {bk} = 2 THEN CASE WHEN {an} IS NULL THEN {ne} ELSE {tn} END \
             WHEN {ak} = 4 AND {bk} = 3 THEN CASE WHEN {bd} IS NULL THEN {ne} ELSE {tt} END \
             WHEN {ak} = 3 AND {bk} = 4 THEN CASE WHEN {ad} IS NULL THEN {ne} ELSE {tt} END \
             ELSE {ne} END)",
            ak = a.k,
            bk = b.k,
            nn = holds(format!("{} {o} {}", a.n, b.n)),
            tt = holds(format!("{} {o} {}", a.t, b.t)),
            nt = holds(format!("{} {o} {bn}", a.n)),
            tn = holds(format!("{an} {o} {}", b.n)),
        )
    }

    /// A value as the audit shows it in a message (`none`, `unknown`, an
    /// exact decimal without trailing zeros but with two places if it has
    /// a fraction, the text, the date).
    fn show(&self, v: &V) -> String {
        let d = self.d;
        let s = d.to_text(&v.n);
        let trimmed = format!("TRIM(TRAILING '.' FROM TRIM(TRAILING '0' FROM {s}))");
        let frac = format!("LENGTH({trimmed}) - {}", d.position(&trimmed, "."));
        // As `show_decimal`: a scale of 0 as the integer; else without
        // trailing zeros, but with two places at least.
        let whole = d.to_text(&format!("CAST({} AS DECIMAL(38, 0))", v.n));
        let num = format!(
            "CASE WHEN {sc} = 0 THEN {whole} WHEN {p2} = 0 THEN {trimmed} || '.00' WHEN {frac} = 1 THEN {trimmed} || '0' ELSE {trimmed} END",
            sc = v.s,
            p2 = d.position(&trimmed, "."),
        );
        format!(
            "(CASE {} WHEN 0 THEN 'none' WHEN 1 THEN 'unknown' WHEN 2 THEN {num} \
             WHEN 5 THEN CASE WHEN {} = 1 THEN 'true' ELSE 'false' END ELSE {} END)",
            v.k, v.n, v.t
        )
    }
}

/// The statement's steps for a clause version after its rows, and its
/// row of the result: the clause's counts, or (`findings`) its breaching
/// and unresolved groups.
pub fn finish(
    d: Dialect,
    rules: &RuleSet,
    a: &AggRows<'_>,
    last: &str,
    table_cols: &[String],
    findings: bool,
    ord: usize,
) -> Result<(Vec<String>, String), Unsupported> {
    let spec = a.spec;
    let agg = spec.agg;
    let stem = format!("__pv_{}_{}", spec.terms.id.name, spec.clause.id.name);
    let name = |s: &str| d.ident(&format!("{stem}_{s}"));
    let mut ctes = Vec::new();
    // The group key, NULL on rows that join no group, and whether a row
    // joined its group while the version was in force. (No `WHERE`: a
    // filter on these columns makes Spark's constraint propagation grow
    // without bound; a NULL key's group is dropped by `HAVING` instead.)
    let mut keyed = Vec::new();
    for (i, (c, _, _)) in a.keys.iter().enumerate() {
        keyed.push(format!("CASE WHEN {} THEN {c} END AS gk{i}", a.joins));
    }
    keyed.push(format!(
        "CASE WHEN {} AND {} THEN 1 ELSE 0 END AS jin",
        a.joins, a.in_force
    ));
    ctes.push(format!(
        "{} AS (SELECT *, {} FROM {last})",
        name("j"),
        keyed.join(", ")
    ));
    let key_names: Vec<String> = (0..a.keys.len()).map(|i| format!("gk{i}")).collect();
    let key_cols: Vec<&str> = key_names.iter().map(String::as_str).collect();
    // The earliest time of each `first` aggregation's rows per group.
    let needs_window = a.aggs.iter().any(|r| r.op == AggOp::First);
    let source = if needs_window {
        let partition = if key_cols.is_empty() {
            String::new()
        } else {
            format!("PARTITION BY {}", key_cols.join(", "))
        };
        let mut cols = Vec::new();
        for (i, r) in a.aggs.iter().enumerate() {
            if r.op == AggOp::First {
                cols.push(format!(
                    "MIN(CASE WHEN {} THEN {} END) OVER ({partition}) AS fm{i}",
                    r.counts, a.ms
                ));
            }
        }
        ctes.push(format!(
            "{} AS (SELECT *, {} FROM {})",
            name("w"),
            cols.join(", "),
            name("j")
        ));
        name("w")
    } else {
        name("j")
    };
    // Groups.
    let mut select: Vec<String> = key_cols.iter().map(|c| c.to_string()).collect();
    select.push(format!("MIN(CASE WHEN jin = 1 THEN {} END) AS fs", a.ms));
    select.push(format!("MAX(CASE WHEN jin = 1 THEN {} END) AS ls", a.ms));
    let dec = d.decimal(SCALE);
    for (i, r) in a.aggs.iter().enumerate() {
        let g = &r.counts;
        let (k, n, t) = match r.op {
            AggOp::Count => (
                "2".to_string(),
                format!("CAST(SUM(CASE WHEN {g} THEN 1 ELSE 0 END) AS {dec})"),
                null_t(d),
            ),
            AggOp::Sum => {
                let v = r.num.clone().unwrap_or_else(|| null_n(d));
                (
                    format!(
                        "CASE WHEN SUM(CASE WHEN {g} AND {v} IS NULL THEN 1 ELSE 0 END) > 0 THEN 1 ELSE 2 END"
                    ),
                    format!("COALESCE(SUM(CASE WHEN {g} THEN {v} END), CAST(0 AS {dec}))"),
                    null_t(d),
                )
            }
            AggOp::CountDistinct => {
                let v = r.text.clone().unwrap_or_else(|| null_t(d));
                let c = format!("COUNT(DISTINCT CASE WHEN {g} THEN {v} END)");
                (
                    format!("CASE WHEN {c} > {DISTINCT_CAP} THEN 1 ELSE 2 END"),
                    format!("CAST({c} AS {dec})"),
                    null_t(d),
                )
            }
            AggOp::Min | AggOp::Max => {
                let f = if r.op == AggOp::Min { "MIN" } else { "MAX" };
                let each = |c: &Option<String>, null: String| {
                    c.as_ref()
                        .map_or(null, |c| format!("{f}(CASE WHEN {g} THEN {c} END)"))
                };
                let (num, date, text) = (
                    each(&r.num, null_n(d)),
                    each(&r.date, null_t(d)),
                    each(&r.text, null_t(d)),
                );
                // `Scalar` orders numbers before dates before texts.
                let order: [(&str, &str, &str); 3] = if r.op == AggOp::Min {
                    [("2", &num, ""), ("4", &date, ""), ("3", &text, "")]
                } else {
                    [("3", &text, ""), ("4", &date, ""), ("2", &num, "")]
                };
                let kind: Vec<String> = order
                    .iter()
                    .map(|(k, e, _)| format!("WHEN {e} IS NOT NULL THEN {k}"))
                    .collect();
                let text_val: Vec<String> = order
                    .iter()
                    .map(|(k, e, _)| {
                        if *k == "2" {
                            format!("WHEN {e} IS NOT NULL THEN {}", null_t(d))
                        } else {
                            format!("WHEN {e} IS NOT NULL THEN {e}")
                        }
                    })
                    .collect();
                (
                    format!("CASE {} ELSE 0 END", kind.join(" ")),
                    num,
                    format!("CASE {} END", text_val.join(" ")),
                )
            }
            AggOp::First => {
                let v = r.text.clone().unwrap_or_else(|| null_t(d));
                let fv = format!("MIN(CASE WHEN {g} AND {} = fm{i} THEN {v} END)", a.ms);
                (
                    format!("CASE WHEN {fv} IS NOT NULL THEN 3 ELSE 0 END"),
                    null_n(d),
                    fv,
                )
            }
            AggOp::FirstDay => {
                let fd = format!("MIN(CASE WHEN {g} THEN {} END)", a.ms);
                (
                    format!("CASE WHEN {fd} IS NOT NULL THEN 4 ELSE 0 END"),
                    null_n(d),
                    time::day_text(d, &time::day_of(d, &fd)),
                )
            }
        };
        // The scale of a number the audit computes: a sum's is the largest
        // of its values' (a count's is 0).
        let scale = match (r.op, &r.scale) {
            (AggOp::Sum | AggOp::Min | AggOp::Max, Some(sc)) => {
                format!("COALESCE(MAX(CASE WHEN {g} THEN {sc} END), 0)")
            }
            _ => "0".to_string(),
        };
        select.push(format!("{k} AS a{i}_k"));
        select.push(format!("{n} AS a{i}_n"));
        select.push(format!("{t} AS a{i}_t"));
        select.push(format!("{scale} AS a{i}_s"));
    }
    let group_by = if key_cols.is_empty() {
        String::new()
    } else {
        format!(" GROUP BY {}", key_cols.join(", "))
    };
    ctes.push(format!(
        "{} AS (SELECT {} FROM {source}{group_by} HAVING SUM(jin) > 0)",
        name("g"),
        select.join(", "),
    ));
    // Key texts.
    let mut key_text = Vec::new();
    let mut key_sel = Vec::new();
    for (i, (_, _, period)) in a.keys.iter().enumerate() {
        let col = format!("gk{i}");
        let text = match period {
            None => col,
            Some(p) => period_text(d, &col, *p),
        };
        key_sel.push(format!("{text} AS kt{i}"));
        key_text.push(format!("kt{i}"));
    }
    let mut prev = name("k");
    ctes.push(format!(
        "{prev} AS (SELECT *{}{} FROM {})",
        if key_sel.is_empty() { "" } else { ", " },
        key_sel.join(", "),
        name("g")
    ));
    // Figures, one step each.
    let field_keys: Vec<&str> = a
        .keys
        .iter()
        .zip(&key_cols)
        .filter(|((_, _, p), _)| p.is_none())
        .map(|(_, c)| *c)
        .collect();
    let period_key: Option<&str> = a
        .keys
        .iter()
        .zip(&key_cols)
        .find(|((_, _, p), _)| p.is_some())
        .map(|(_, c)| *c);
    let window = format!(
        "{}{} ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW",
        if field_keys.is_empty() {
            String::new()
        } else {
            format!("PARTITION BY {} ", field_keys.join(", "))
        },
        match period_key {
            Some(p) => format!("ORDER BY {p}"),
            None => format!("ORDER BY {}", field_keys.first().copied().unwrap_or("1")),
        }
    );
    let mut env = Env {
        d,
        rules,
        figures: Vec::new(),
        key_text,
        running: std::collections::HashMap::new(),
    };
    if agg.figures.len() > 200 {
        return Err(Unsupported::new(
            "more than 200 figures in one clause".into(),
        ));
    }
    for (j, f) in agg.figures.iter().enumerate() {
        // Running totals this figure reads, as window columns.
        let mut runs: Vec<usize> = Vec::new();
        f.value.walk(&mut |x| {
            if let ArithKind::Running(i) = x.kind
                && !runs.contains(&i)
            {
                runs.push(i);
            }
        });
        let mut cols = Vec::new();
        for i in runs {
            let Some(p) = env.figures.get(i).cloned() else {
                continue;
            };
            let v = V::cols(&p);
            let r = format!("r{i}");
            let over = format!("OVER ({window})");
            cols.push(format!(
                "CASE WHEN COUNT(*) {over} = 1 THEN {k} \
                 WHEN MAX(CASE WHEN {k} = 1 THEN 1 ELSE 0 END) {over} = 1 THEN 1 \
                 WHEN MAX(CASE WHEN {k} = 0 THEN 1 ELSE 0 END) {over} = 1 THEN 0 \
                 WHEN MAX(CASE WHEN {k} <> 2 THEN 1 ELSE 0 END) {over} = 1 THEN 1 ELSE 2 END AS {r}_k",
                k = v.k
            ));
            cols.push(format!(
                "CASE WHEN COUNT(*) {over} = 1 THEN {n} ELSE CAST(SUM(CASE WHEN {k} = 2 THEN {n} END) {over} AS {dec}) END AS {r}_n",
                k = v.k,
                n = v.n
            ));
            cols.push(format!(
                "CASE WHEN COUNT(*) {over} = 1 THEN {t} END AS {r}_t",
                t = v.t
            ));
            cols.push(format!("MAX({s}) {over} AS {r}_s", s = v.s));
            env.running.insert(i, r);
        }
        if !cols.is_empty() {
            let next = name(&format!("r{j}"));
            ctes.push(format!(
                "{next} AS (SELECT *, {} FROM {prev})",
                cols.join(", ")
            ));
            prev = next;
        }
        let v = env.arith(&f.value, false, 0)?;
        let p = format!("f{j}");
        let next = name(&format!("f{j}"));
        ctes.push(format!(
            "{next} AS (SELECT *, {} AS {p}_k, {} AS {p}_n, {} AS {p}_t, {} AS {p}_s FROM {prev})",
            v.k, v.n, v.t, v.s
        ));
        prev = next;
        env.figures.push(p);
    }
    // Outcomes.
    let applies = match &agg.applies {
        Some(e) => env.truth(e, 0)?,
        None => "2".into(),
    };
    let outcome = match &agg.check {
        None => "'not applicable'".to_string(),
        Some((check, forbid)) => {
            let h = env.truth(check, 0)?;
            let fails = if *forbid { h } else { format!("(2 - {h})") };
            let unless = agg
                .unless
                .iter()
                .map(|u| env.truth(u, 0))
                .collect::<Result<Vec<_>, _>>()?;
            let ex = match unless.len() {
                0 => "0".to_string(),
                1 => unless.into_iter().next().unwrap_or_default(),
                _ => format!("GREATEST({})", unless.join(", ")),
            };
            format!(
                "CASE WHEN {applies} = 0 THEN 'not applicable' WHEN {fails} = 0 THEN 'pass' \
                 WHEN {ex} = 2 THEN 'excepted' \
                 WHEN {applies} = 1 OR {fails} = 1 OR {ex} = 1 THEN 'unresolved' ELSE 'violation' END"
            )
        }
    };
    let judged = name("o");
    ctes.push(format!(
        "{judged} AS (SELECT *, {outcome} AS oc FROM {prev})"
    ));
    let breach = "oc IN ('violation', 'unresolved')";
    let keep = d.ident("__pv_keep");
    if !findings {
        let row = format!(
            "SELECT {} AS clause, {} AS terms, {} AS severity, COUNT(CASE WHEN oc = 'violation' THEN 1 END) AS violations, \
             COUNT(CASE WHEN oc = 'unresolved' THEN 1 END) AS unresolved, {} AS first_seen, {} AS last_seen, {ord} AS {} FROM {judged}",
            d.string(&spec.clause.id.name),
            d.string(&spec.terms.id.name),
            d.string(spec.clause.severity.as_str()),
            time::format_ms(d, &format!("MIN(CASE WHEN {breach} THEN fs END)")),
            time::format_ms(d, &format!("MAX(CASE WHEN {breach} THEN ls END)")),
            d.ident("__pv_ord"),
        );
        return Ok((ctes, row));
    }
    // The group's key as JSON, and its message.
    let json_str = |x: &str| {
        format!(
            "'\"' || REPLACE(REPLACE({x}, {}, {}), {}, {}) || '\"'",
            d.string("\\"),
            d.string("\\\\"),
            d.string("\""),
            d.string("\\\""),
        )
    };
    let mut key_json = Vec::new();
    for (i, (_, kname, _)) in a.keys.iter().enumerate() {
        let kname = serde_json::to_string(kname).unwrap_or_default();
        key_json.push(format!(
            "{} || {}",
            d.string(&format!("{}{kname}:", if i == 0 { "{" } else { "," })),
            json_str(&format!("kt{i}"))
        ));
    }
    let group_key = if key_json.is_empty() {
        "'{}'".to_string()
    } else {
        format!("{} || '}}'", key_json.join(" || "))
    };
    // The figures as the audit's `groups[].figures`: every `let`, then
    // each parameter the clause reads; exact decimals and dates as
    // strings, booleans as booleans, absent and unknown as null.
    let mut shown: Vec<(String, V)> = Vec::new();
    for (j, f) in agg.figures.iter().enumerate() {
        if let Some(p) = env.figures.get(j) {
            shown.push((f.id.name.clone(), V::cols(p)));
        }
    }
    let mut params: Vec<String> = Vec::new();
    let mut note = |x: &Arith| {
        if let ArithKind::Param(p) = &x.kind
            && !params.contains(p)
        {
            params.push(p.clone());
        }
    };
    for f in &agg.figures {
        f.value.walk(&mut note);
    }
    for c in agg.conditions() {
        c.operands(&mut |x| x.walk(&mut note));
    }
    for p in params {
        let v = env.arith(
            &Arith {
                kind: ArithKind::Param(p.clone()),
                span: 0..0,
            },
            false,
            0,
        )?;
        shown.push((p, v));
    }
    let mut figures_json = Vec::new();
    for (i, (fname, v)) in shown.iter().enumerate() {
        let name = serde_json::to_string(fname).unwrap_or_default();
        figures_json.push(format!(
            "{} || (CASE {} WHEN 0 THEN 'null' WHEN 1 THEN 'null' WHEN 5 THEN CASE WHEN {} = 1 THEN 'true' ELSE 'false' END ELSE {} END)",
            d.string(&format!("{}{name}:", if i == 0 { "{" } else { "," })),
            v.k,
            v.n,
            json_str(&env.show(v)),
        ));
    }
    let figures = if figures_json.is_empty() {
        "'{}'".to_string()
    } else {
        format!("{} || '}}'", figures_json.join(" || "))
    };
    let message = group_message(&env, a, rules)?;
    let mut select: Vec<String> = table_cols.iter().map(|_| "NULL".to_string()).collect();
    select.push(format!("{} AS clause", d.string(&spec.clause.id.name)));
    select.push(format!("{} AS terms", d.string(&spec.terms.id.name)));
    select.push("oc AS outcome".into());
    select.push(format!("{message} AS message"));
    select.push(format!("{group_key} AS group_key"));
    select.push(format!("{figures} AS figures"));
    select.push(format!("{ord} AS {}", d.ident("__pv_ord")));
    select.push(format!("fs AS {}", d.ident("__pv_at")));
    // Table columns are NULL in group rows: name them so the union lines up.
    let select: Vec<String> = select
        .into_iter()
        .enumerate()
        .map(|(i, s)| match table_cols.get(i) {
            Some(c) => format!("{s} AS {c}"),
            None => s,
        })
        .collect();
    Ok((
        ctes,
        format!(
            "SELECT {} FROM {} {} WHERE {keep} IS NOT NULL",
            select.join(", "),
            d.unnest_rows(&judged, &[format!("CASE WHEN {breach} THEN 1 END")], &keep),
            d.ident("__pv_x"),
        ),
    ))
}

/// A period number as the audit writes its key: `2026-04-27`, `2026-04`,
/// `2026-Q2`, `2026`.
fn period_text(d: Dialect, idx: &str, p: Period) -> String {
    let year = |y: String| format!("LPAD({}, 4, '0')", d.to_text(&y));
    let two = |x: String| format!("LPAD({}, 2, '0')", d.to_text(&x));
    match p {
        Period::Day => time::day_text(d, idx),
        Period::Month => format!(
            "{} || '-' || {}",
            year(d.idiv(idx, "12")),
            two(format!("({idx} % 12 + 1)"))
        ),
        Period::Quarter => format!(
            "{} || '-Q' || {}",
            year(d.idiv(idx, "4")),
            d.to_text(&format!("({idx} % 4 + 1)"))
        ),
        Period::Year => year(idx.to_string()),
    }
}

/// A group's message, as `aggregate::message` renders it.
fn group_message(env: &Env<'_>, a: &AggRows<'_>, _rules: &RuleSet) -> Result<String, Unsupported> {
    let d = env.d;
    let clause = a.spec.clause;
    let agg = a.spec.agg;
    let Some(m) = &clause.message else {
        let title = clause.title.as_deref().unwrap_or(&clause.id.name);
        let parts: Vec<String> = a
            .keys
            .iter()
            .enumerate()
            .map(|(i, (_, n, _))| format!("{} || kt{i}", d.string(&format!("{n} "))))
            .collect();
        let label = if parts.is_empty() {
            "''".to_string()
        } else {
            parts.join(" || ', ' || ")
        };
        return Ok(format!("({label} || {})", d.string(&format!(": {title}"))));
    };
    let mut parts = Vec::new();
    for part in &m.parts {
        match part {
            MessagePart::Text(t) => parts.push(d.string(t)),
            MessagePart::Field(p, _) => {
                let name = p.to_string();
                if let Some(i) = a.keys.iter().position(|(_, n, _)| *n == name) {
                    parts.push(format!("kt{i}"));
                } else if let Some(j) = agg.figures.iter().position(|f| f.id.name == name) {
                    let v = env.arith(
                        &Arith {
                            kind: ArithKind::Figure(j),
                            span: 0..0,
                        },
                        false,
                        0,
                    )?;
                    parts.push(env.show(&v));
                } else if crate::aggregate::param_value(&env.rules.param_values, &name)
                    != crate::aggregate::FVal::Absent
                    && env.rules.params.iter().any(|p| p.id.name == name)
                {
                    let v = env.arith(
                        &Arith {
                            kind: ArithKind::Param(name.clone()),
                            span: 0..0,
                        },
                        false,
                        0,
                    )?;
                    parts.push(env.show(&v));
                } else {
                    parts.push(d.string(&format!("{{{name}}}")));
                }
            }
        }
    }
    if parts.is_empty() {
        return Ok("''".into());
    }
    Ok(format!("({})", parts.join(" || ")))
}
