//! Lowering the parts of an aggregate clause: `per`, `let` figures (with
//! their aggregations), group conditions and aggregate examples.
//!
//! Group conditions are parsed by the expression grammar and lowered as
//! [`Expr`]s first (a clause's statements may come in any order, and only
//! at its end is it known to be an aggregate), then turned into
//! [`GExpr`]s whose operands are [`Arith`]. Number literals are read again
//! from their source text as exact decimals: `1000.05` must not pass
//! through a float on its way to a comparison with money.

use super::*;
use rust_decimal::Decimal;
use std::str::FromStr;

/// The statements of a clause that make it an aggregate, as lowered.
#[derive(Default)]
pub(super) struct AggParts {
    pub(super) per: Vec<GroupKey>,
    pub(super) per_span: Option<Span>,
    pub(super) over: Option<Expr>,
    pub(super) figures: Vec<Figure>,
    pub(super) aggs: Vec<AggSpec>,
    pub(super) examples: Vec<AggExample>,
    /// Each figure's index by name (the first of a name).
    pub(super) figure_index: std::collections::HashMap<String, usize>,
}

impl AggParts {
    pub(super) fn is_aggregate(&self) -> bool {
        self.per_span.is_some() || !self.figures.is_empty() || self.over.is_some()
    }
}

/// An exact decimal from a number's text (`1000.05`, `-3`, `1e3` is not
/// a number in the grammar).
pub fn exact_decimal(text: &str) -> Option<Decimal> {
    Decimal::from_str_exact(text.trim()).ok()
}

/// `20%` as the exact fraction `0.20`.
pub fn exact_percent(text: &str) -> Option<Decimal> {
    let n = exact_decimal(text.trim().trim_end_matches('%'))?;
    n.checked_div(Decimal::ONE_HUNDRED)
}

impl Lowerer<'_> {
    pub(super) fn lower_per(&mut self, pair: &Pair<'_>, parts: &mut AggParts) {
        if parts.per_span.is_some() {
            self.err(
                Code::CheckAggregate,
                "a clause has one `per`",
                span(pair),
                "second `per`",
                "list every part of the group in one `per`: `per model, month`",
            );
        }
        parts.per_span = Some(span(pair));
        for p in children(pair) {
            let path = path_of(&p);
            let sp = span(&p);
            let period = (path.0.len() == 1)
                .then(|| Period::ALL.iter().find(|(n, _)| *n == path.root()))
                .flatten();
            let key = match period {
                Some((_, period)) => GroupKey::Period(*period, sp.clone()),
                None => GroupKey::Field(path, sp.clone()),
            };
            if parts.per.iter().any(|k| k.name() == key.name()) {
                self.err(
                    Code::CheckAggregate,
                    format!("`per` names `{}` twice", key.name()),
                    sp,
                    "again",
                    "name each part of the group once (one calendar period at most)",
                );
                continue;
            }
            parts.per.push(key);
        }
    }

    pub(super) fn lower_figure(&mut self, pair: &Pair<'_>, parts: &mut AggParts) {
        let mut it = children(pair);
        let (Some(id), Some(value)) = (it.next(), it.next()) else {
            return;
        };
        let id = ident(&id);
        if parts.figure_index.contains_key(&id.name) {
            self.err(
                Code::CheckDuplicateName,
                format!("figure `{}` is defined twice", id.name),
                id.span.clone(),
                "again",
                "give each `let` its own name",
            );
        }
        let value = self.lower_arith(&value, parts);
        parts
            .figure_index
            .entry(id.name.clone())
            .or_insert(parts.figures.len());
        parts.figures.push(Figure { id, value });
    }

    fn lower_arith(&mut self, pair: &Pair<'_>, parts: &mut AggParts) -> Arith {
        let sp = span(pair);
        let lit = |kind| Arith {
            kind,
            span: sp.clone(),
        };
        match pair.as_rule() {
            Rule::arith | Rule::arith_term => {
                let mut inner = pair.clone().into_inner();
                let Some(first) = inner.next() else {
                    return lit(ArithKind::Lit(Lit::Num(Decimal::ZERO)));
                };
                let mut acc = self.lower_arith(&first, parts);
                while let (Some(op), Some(rhs)) = (inner.next(), inner.next()) {
                    let rhs = self.lower_arith(&rhs, parts);
                    let whole = acc.span.start..rhs.span.end;
                    let (a, b) = (Box::new(acc), Box::new(rhs));
                    let kind = match op.as_str() {
                        "+" => ArithKind::Add(a, b),
                        "-" => ArithKind::Sub(a, b),
                        _ => ArithKind::Mul(a, b),
                    };
                    acc = Arith { kind, span: whole };
                }
                acc
            }
            Rule::arith_paren => match children(pair).next() {
                Some(inner) => self.lower_arith(&inner, parts),
                None => lit(ArithKind::Lit(Lit::Num(Decimal::ZERO))),
            },
            Rule::percent_of => {
                let mut it = children(pair).filter(|p| p.as_rule() != Rule::kw_of);
                let (Some(pct), Some(of)) = (it.next(), it.next()) else {
                    return lit(ArithKind::Lit(Lit::Num(Decimal::ZERO)));
                };
                let rate = Arith {
                    kind: ArithKind::Lit(Lit::Num(self.percent_of_text(&pct))),
                    span: span(&pct),
                };
                let of = self.lower_arith(&of, parts);
                lit(ArithKind::Mul(Box::new(rate), Box::new(of)))
            }
            Rule::running => {
                let name = children(pair)
                    .find(|p| p.as_rule() == Rule::ident)
                    .map(|p| p.as_str().to_string())
                    .unwrap_or_default();
                match parts.figure_index.get(&name).copied() {
                    Some(i) => lit(ArithKind::Running(i)),
                    None => {
                        let names: Vec<&str> =
                            parts.figures.iter().map(|f| f.id.name.as_str()).collect();
                        let help = match crate::text::closest(&name, names.iter().copied()) {
                            Some((c, _)) => format!("did you mean `{c}`? A running total sums a figure defined above it"),
                            None => "a running total sums a figure defined above it: `let paid = sum of …` then `let cumulative_paid = running total of paid`".to_string(),
                        };
                        self.err(
                            Code::CheckAggregate,
                            format!("`running total of {name}`: no figure `{name}` before it"),
                            sp.clone(),
                            "no such figure",
                            help,
                        );
                        lit(ArithKind::Lit(Lit::Num(Decimal::ZERO)))
                    }
                }
            }
            Rule::aggregation => {
                let spec = self.lower_aggregation(pair);
                parts.aggs.push(spec);
                lit(ArithKind::Agg(parts.aggs.len() - 1))
            }
            Rule::number => match exact_decimal(pair.as_str()) {
                Some(n) => lit(ArithKind::Lit(Lit::Num(n))),
                None => {
                    self.err(
                        Code::CheckAggregate,
                        format!("`{}` is too large to compute with exactly", pair.as_str()),
                        sp.clone(),
                        "out of range",
                        "figures are exact decimals of at most 28 digits",
                    );
                    lit(ArithKind::Lit(Lit::Num(Decimal::ZERO)))
                }
            },
            Rule::percent => lit(ArithKind::Lit(Lit::Num(self.percent_of_text(pair)))),
            Rule::string => lit(ArithKind::Lit(Lit::Str(string_value(pair).into()))),
            Rule::date_lit => match self.lower_date(pair) {
                Some(d) => lit(ArithKind::Lit(Lit::Date(d))),
                None => lit(ArithKind::Lit(Lit::Num(Decimal::ZERO))),
            },
            Rule::path => {
                let path = path_of(pair);
                if path.0.len() > 1 {
                    self.err(
                        Code::CheckAggregate,
                        format!("`{path}` is a record field; a figure reads aggregations, other figures, group keys and parameters"),
                        sp.clone(),
                        "a record field",
                        format!("aggregate it: `sum of {path}`, `first {path}`, `max of {path}`"),
                    );
                }
                lit(ArithKind::Name(path.root().to_string()))
            }
            _ => lit(ArithKind::Lit(Lit::Num(Decimal::ZERO))),
        }
    }

    fn percent_of_text(&mut self, pair: &Pair<'_>) -> Decimal {
        match exact_percent(pair.as_str()) {
            Some(d) => d,
            None => {
                self.err(
                    Code::CheckAggregate,
                    format!(
                        "`{}` is not a percentage proviso can compute with exactly",
                        pair.as_str()
                    ),
                    span(pair),
                    "out of range",
                    "write a percentage such as `20%` or `12.5%`",
                );
                Decimal::ZERO
            }
        }
    }

    fn lower_aggregation(&mut self, pair: &Pair<'_>) -> AggSpec {
        let mut spec = AggSpec {
            op: AggOp::Count,
            field: None,
            filter: None,
            all_records: false,
            span: span(pair),
        };
        for p in children(pair) {
            let field = || {
                p.clone()
                    .into_inner()
                    .find(|x| x.as_rule() == Rule::path)
                    .map(|x| path_of(&x))
            };
            match p.as_rule() {
                Rule::agg_sum => (spec.op, spec.field) = (AggOp::Sum, field()),
                Rule::agg_distinct => (spec.op, spec.field) = (AggOp::CountDistinct, field()),
                Rule::agg_count => spec.op = AggOp::Count,
                Rule::agg_min => (spec.op, spec.field) = (AggOp::Min, field()),
                Rule::agg_max => (spec.op, spec.field) = (AggOp::Max, field()),
                Rule::agg_first => {
                    let f = field();
                    if f.as_ref()
                        .is_some_and(|f| f.0.len() == 1 && f.root() == "day")
                    {
                        spec.op = AggOp::FirstDay;
                    } else {
                        (spec.op, spec.field) = (AggOp::First, f);
                    }
                }
                Rule::agg_all => spec.all_records = true,
                Rule::agg_where => {
                    spec.filter = children(&p).next().map(|e| self.lower_expr(&e));
                }
                _ => {}
            }
        }
        spec
    }

    /// A group condition, from the expression it was parsed as.
    pub(super) fn group_condition(&mut self, e: &Expr) -> GExpr {
        let sp = e.span.clone();
        let kind = match &e.kind {
            ExprKind::Or(items) => {
                GKind::Or(items.iter().map(|i| self.group_condition(i)).collect())
            }
            ExprKind::And(items) => {
                GKind::And(items.iter().map(|i| self.group_condition(i)).collect())
            }
            ExprKind::Not(inner) => GKind::Not(Box::new(self.group_condition(inner))),
            ExprKind::Compare(a, op, b) => {
                GKind::Compare(self.group_operand(a), *op, self.group_operand(b))
            }
            ExprKind::In { negated, lhs, rhs } => GKind::In {
                negated: *negated,
                lhs: self.group_operand(lhs),
                rhs: self.group_operand(rhs),
            },
            ExprKind::Exists(a) => GKind::Exists(self.group_operand(a)),
            ExprKind::Matches(..) | ExprKind::Regex(..) => {
                self.err(
                    Code::CheckAggregate,
                    "`matches` and `~` test records, not groups",
                    sp.clone(),
                    "in a group condition",
                    "test the records in `over …` or in an aggregation's `where …`; a group condition compares figures: `paid >= due`",
                );
                GKind::And(Vec::new())
            }
            ExprKind::Field(_)
            | ExprKind::Literal(_)
            | ExprKind::Set(_)
            | ExprKind::DefineRef(..) => GKind::Truthy(self.group_operand(e)),
        };
        GExpr { kind, span: sp }
    }

    fn group_operand(&mut self, e: &Expr) -> Arith {
        let sp = e.span.clone();
        let text = self.file.text.get(sp.clone()).unwrap_or("").trim();
        let kind = match &e.kind {
            ExprKind::Literal(v) => match v {
                Value::Num(_) if text.ends_with('%') => {
                    ArithKind::Lit(Lit::Num(exact_percent(text).unwrap_or_default()))
                }
                // A size (`10 GiB`) or number: the number as written, else
                // the value lowering computed (exact for sizes' integers).
                Value::Num(n) => ArithKind::Lit(Lit::Num(
                    exact_decimal(text)
                        .or_else(|| Decimal::from_str(&format!("{n}")).ok())
                        .unwrap_or_default(),
                )),
                Value::Str(s) => ArithKind::Lit(Lit::Str(s.clone())),
                Value::Date(d) => ArithKind::Lit(Lit::Date(*d)),
                Value::Bool(b) => ArithKind::Lit(Lit::Bool(*b)),
                _ => {
                    self.err(
                        Code::CheckAggregate,
                        format!("`{text}` has no place in a group condition"),
                        sp.clone(),
                        "here",
                        "compare figures with numbers, strings, dates and parameters",
                    );
                    ArithKind::Lit(Lit::Bool(false))
                }
            },
            ExprKind::Field(path) => {
                if path.0.len() > 1 {
                    self.err(
                        Code::CheckAggregate,
                        format!("`{path}` is a record field; a group condition reads figures, group keys and parameters"),
                        sp.clone(),
                        "a record field",
                        format!("compute it first: `let x = first {path}`, and compare `x`"),
                    );
                }
                ArithKind::Name(path.root().to_string())
            }
            ExprKind::Set(items) => {
                ArithKind::Set(items.iter().map(|i| self.group_operand(i)).collect())
            }
            _ => {
                self.err(
                    Code::CheckAggregate,
                    "a comparison's side is a value, not a condition",
                    sp.clone(),
                    "a condition",
                    "compare figures (`paid >= due`) and combine comparisons with `and`, `or`, `not`",
                );
                ArithKind::Lit(Lit::Bool(false))
            }
        };
        Arith { kind, span: sp }
    }

    /// An aggregate clause's example: `given [ {…}, … ]`, `with p = v`,
    /// `expect … for "key"`.
    pub(super) fn lower_agg_example(&mut self, pair: &Pair<'_>) -> AggExample {
        let mut ex = AggExample {
            title: String::new(),
            records: Vec::new(),
            params: Vec::new(),
            expects: Vec::new(),
            span: span(pair),
        };
        for p in children(pair) {
            match p.as_rule() {
                Rule::string => ex.title = string_value(&p),
                Rule::given => {
                    if let Some(m) = children(&p).next() {
                        match self.lower_given(&m) {
                            Value::List(items) => ex.records = items,
                            one @ Value::Map(_) => ex.records = vec![one],
                            _ => {}
                        }
                    }
                }
                Rule::with_param => {
                    let mut it = children(&p);
                    if let (Some(id), Some(v)) = (it.next(), it.next()) {
                        let value = match v.as_rule() {
                            Rule::number => exact_decimal(v.as_str()).map(Lit::Num),
                            Rule::percent => exact_percent(v.as_str()).map(Lit::Num),
                            Rule::string => Some(Lit::Str(string_value(&v).into())),
                            Rule::boolean => Some(Lit::Bool(v.as_str() == "true")),
                            Rule::date_lit | Rule::bad_date => self.lower_date(&v).map(Lit::Date),
                            _ => None,
                        };
                        match value {
                            Some(value) => ex.params.push((ident(&id), value)),
                            None => self.err(
                                Code::CheckAggregate,
                                format!("`{}` is not a parameter value", v.as_str()),
                                span(&v),
                                "here",
                                "give a number (`1000000.00`), a string or a date",
                            ),
                        }
                    }
                }
                Rule::expect => {
                    let mut it = children(&p);
                    let outcome = match it.next().map(|e| e.as_rule()) {
                        Some(Rule::exp_no_violation) => Expectation::NoViolation,
                        Some(Rule::exp_not_in_force) => Expectation::NotInForce,
                        Some(Rule::exp_unresolved) => Expectation::Unresolved,
                        _ => Expectation::Violation,
                    };
                    let group = it
                        .find(|x| x.as_rule() == Rule::string)
                        .map(|s| string_value(&s));
                    ex.expects.push((outcome, group, span(&p)));
                }
                Rule::date_lit | Rule::bad_date | Rule::quoted_date => {
                    self.err(
                        Code::CheckAggregate,
                        "an aggregate clause's example has no `on` date",
                        span(&p),
                        "here",
                        "each given record is judged on its own date: give every record a `timestamp` or `date`",
                    );
                }
                _ => {}
            }
        }
        ex
    }
}
