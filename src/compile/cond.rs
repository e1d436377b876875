//! Record conditions (`applies to`, `require`, `forbid`, exceptions,
//! `over`, `where`) as SQL that means what the audit's evaluator means.
//!
//! SQL's logic is three-valued, and NULL is not proviso's *absent*: in
//! SQL `NOT (x = 'a')` is NULL when `x` is NULL, while in proviso a
//! comparison with an absent field is false, so its negation is true. A
//! log record holds no unknown values, so the audit's logic is two-valued,
//! and so is every expression this module writes: each comparison, `in`,
//! `matches`, `~` and `exists` test is closed over absence (it is `FALSE`,
//! never NULL, when its field is absent), and `AND`, `OR` and `NOT` are
//! then SQL's own. Coercions follow `eval::compare`: a text compared with
//! a number is read as a number (unreadable: only `!=` holds), with a date
//! by its first ten characters, with a boolean as `true`/`false`.
//!
//! A define used as a condition is one column of the statement, computed
//! once per row in a layer after the defines it reads (see
//! [`super::layers`]): a chain of defines that each use the previous one
//! twice is linear, not exponential, in the statement's size.

use super::Unsupported;
use super::dialect::Dialect;
use super::fields::{Field, Fields, Kind, text_of};
use crate::rules::RuleSet;
use crate::rules::ast::{CmpOp, Expr, ExprKind};
use crate::value::{Cidr, Value};
use std::collections::HashMap;
use std::net::IpAddr;

/// Nesting of conditions and defines beyond this is refused (a rule file
/// the checker accepted nests far less; this bounds the compiler's own
/// recursion on hostile input).
pub const MAX_NEST: usize = 200;

/// A boolean SQL expression and the first layer at which it can be
/// evaluated (one after the columns it reads).
#[derive(Debug, Clone)]
pub struct Sql {
    pub text: String,
    pub layer: usize,
}

impl Sql {
    fn konst(b: bool) -> Sql {
        Sql {
            text: if b { "TRUE" } else { "FALSE" }.into(),
            layer: 0,
        }
    }
}

/// An operand: absent, a column, a literal, a set, or a condition used as
/// a value.
#[derive(Debug, Clone)]
enum Op {
    Absent,
    Col(Field),
    Lit(Value),
    Set(Vec<Op>),
    Bool(Sql),
}

/// The SQL type family a value is compared in.
#[derive(Debug, Clone, Copy, PartialEq)]
enum T {
    Text,
    Num,
    Bool,
}

pub struct Conds<'r, 'f, 'a> {
    pub rules: &'r RuleSet,
    pub fields: &'f mut Fields<'a>,
    /// Each boolean define compiled so far: its column and layer.
    defines: HashMap<usize, Sql>,
    /// Per field column, the columns of its IPv4 number and IPv6 hex form.
    ips: HashMap<String, (String, String)>,
}

impl<'r, 'f, 'a> Conds<'r, 'f, 'a> {
    pub fn new(rules: &'r RuleSet, fields: &'f mut Fields<'a>) -> Self {
        Conds {
            rules,
            fields,
            defines: HashMap::new(),
            ips: HashMap::new(),
        }
    }

    fn d(&self) -> Dialect {
        self.fields.d
    }

    /// The condition as a two-valued SQL boolean.
    pub fn cond(&mut self, e: &Expr) -> Result<Sql, Unsupported> {
        self.cond_at(e, 0)
    }

    fn cond_at(&mut self, e: &Expr, depth: usize) -> Result<Sql, Unsupported> {
        if depth > MAX_NEST {
            return Err(Unsupported::new(
                "conditions and defines nest more deeply than proviso compiles to SQL".into(),
            ));
        }
        let next = depth + 1;
        Ok(match &e.kind {
            ExprKind::Or(items) | ExprKind::And(items) => {
                let word = if matches!(e.kind, ExprKind::Or(_)) {
                    " OR "
                } else {
                    " AND "
                };
                let mut parts = Vec::new();
                let mut layer = 0;
                for i in items {
                    let s = self.cond_at(i, next)?;
                    layer = layer.max(s.layer);
                    parts.push(s.text);
                }
                if parts.is_empty() {
                    return Ok(Sql::konst(matches!(e.kind, ExprKind::And(_))));
                }
                Sql {
                    text: format!("({})", parts.join(word)),
                    layer,
                }
            }
            ExprKind::Not(inner) => {
                let s = self.cond_at(inner, next)?;
                Sql {
                    text: format!("(NOT {})", s.text),
                    layer: s.layer,
                }
            }
            ExprKind::DefineRef(_, i) if !self.is_value_define(*i) => self.define(*i, next)?,
            ExprKind::Exists(x) => match self.operand(x, next)? {
                Op::Absent | Op::Lit(Value::Null) => Sql::konst(false),
                Op::Col(f) => self.col_sql(&f, format!("({} IS NOT NULL)", f.col)),
                Op::Lit(_) | Op::Set(_) | Op::Bool(_) => Sql::konst(true),
            },
            ExprKind::Compare(a, op, b) => {
                let (a, b) = (self.operand(a, next)?, self.operand(b, next)?);
                self.compare(a, *op, b)?
            }
            ExprKind::In { negated, lhs, rhs } => {
                let lhs = self.operand(lhs, next)?;
                let rhs = self.operand(rhs, next)?;
                self.membership(lhs, rhs, *negated)?
            }
            ExprKind::Matches(lhs, rhs) => {
                let lhs = self.operand(lhs, next)?;
                let rhs = self.operand(rhs, next)?;
                self.matches(lhs, rhs)?
            }
            ExprKind::Regex(lhs, re) => {
                let lhs = self.operand(lhs, next)?;
                let pattern = super::regex::portable(re.as_str()).map_err(|why| {
                    Unsupported::new(format!("the regular expression `/{}/`: {why}", re.as_str()))
                })?;
                match lhs {
                    Op::Absent | Op::Set(_) => Sql::konst(false),
                    Op::Lit(v) => Sql::konst(match &v {
                        Value::Str(s) => re.is_match(s),
                        Value::Num(_) | Value::Bool(_) | Value::Date(_) => {
                            re.is_match(&v.to_string())
                        }
                        _ => false,
                    }),
                    Op::Col(f) => {
                        let text = text_of(self.d(), &f.col, f.kind);
                        let test = self.d().regex_like(&text, &pattern);
                        self.col_sql(&f, format!("({} IS NOT NULL AND {test})", f.col))
                    }
                    Op::Bool(s) => Sql {
                        text: format!(
                            "(CASE WHEN {} THEN {} ELSE {} END)",
                            s.text,
                            re.is_match("true"),
                            re.is_match("false")
                        ),
                        layer: s.layer,
                    },
                }
            }
            ExprKind::Field(_)
            | ExprKind::Literal(_)
            | ExprKind::Set(_)
            | ExprKind::DefineRef(..) => match self.operand(e, next)? {
                Op::Absent => Sql::konst(false),
                Op::Lit(Value::Bool(b)) => Sql::konst(b),
                Op::Lit(Value::Null) => Sql::konst(false),
                Op::Lit(_) => Sql::konst(true),
                Op::Set(items) => Sql::konst(!items.is_empty()),
                Op::Bool(s) => s,
                Op::Col(f) if f.kind == Kind::Bool => {
                    self.col_sql(&f, format!("COALESCE({}, FALSE)", f.col))
                }
                Op::Col(f) => self.col_sql(&f, format!("({} IS NOT NULL)", f.col)),
            },
        })
    }

    /// Whether define `i` stands for a value (a set, literal or field)
    /// rather than a condition, as the evaluator tells them apart.
    fn is_value_define(&self, i: usize) -> bool {
        self.rules.defines.get(i).is_some_and(|d| {
            matches!(
                d.value.kind,
                ExprKind::Set(_)
                    | ExprKind::Literal(_)
                    | ExprKind::Field(_)
                    | ExprKind::DefineRef(..)
            )
        })
    }

    /// A boolean define's column, compiled once.
    fn define(&mut self, i: usize, depth: usize) -> Result<Sql, Unsupported> {
        if let Some(s) = self.defines.get(&i) {
            return Ok(s.clone());
        }
        let Some(def) = self.rules.defines.get(i) else {
            return Ok(Sql::konst(false));
        };
        let body = self.cond_at(&def.value, depth)?;
        let layer = body.layer.max(super::FIELD_LAYER + 1);
        let col = self.fields.col_at(layer, "d", body.text);
        let s = Sql {
            text: col,
            layer: layer + 1,
        };
        self.defines.insert(i, s.clone());
        Ok(s)
    }

    /// An expression reading field `f`'s column.
    fn col_sql(&self, _f: &Field, text: String) -> Sql {
        Sql {
            text,
            layer: super::FIELD_LAYER + 1,
        }
    }

    fn operand(&mut self, e: &Expr, depth: usize) -> Result<Op, Unsupported> {
        if depth > MAX_NEST {
            return Err(Unsupported::new(
                "conditions and defines nest more deeply than proviso compiles to SQL".into(),
            ));
        }
        Ok(match &e.kind {
            ExprKind::Literal(v) => Op::Lit(v.clone()),
            ExprKind::Field(p) => match self.fields.get(p)? {
                Some(f) => Op::Col(f),
                None => Op::Absent,
            },
            ExprKind::Set(items) => {
                let mut out = Vec::new();
                for m in self.rules.set_members(items) {
                    match self.operand(m, depth + 1)? {
                        Op::Set(inner) => out.extend(inner),
                        other => out.push(other),
                    }
                }
                Op::Set(out)
            }
            ExprKind::DefineRef(_, i) if self.is_value_define(*i) => {
                match self.rules.defines.get(*i) {
                    Some(d) => self.operand(&d.value, depth + 1)?,
                    None => Op::Absent,
                }
            }
            _ => Op::Bool(self.cond_at(e, depth + 1)?),
        })
    }

    /// A column's value in a comparison family.
    fn typed(&self, f: &Field) -> (String, T) {
        match f.kind {
            Kind::Text => (f.col.clone(), T::Text),
            Kind::Dec(_) => (self.d().to_text(&f.col), T::Text),
            Kind::Int | Kind::Float => (format!("CAST({} AS DOUBLE)", f.col), T::Num),
            Kind::Bool => (f.col.clone(), T::Bool),
        }
    }

    fn compare(&mut self, a: Op, op: CmpOp, b: Op) -> Result<Sql, Unsupported> {
        Ok(match (a, b) {
            (Op::Absent, _) | (_, Op::Absent) => Sql::konst(false),
            (Op::Set(_), _) | (_, Op::Set(_)) => Sql::konst(false),
            (Op::Lit(x), Op::Lit(y)) => Sql::konst(crate::eval::compare(&x, op, &y)),
            (Op::Col(f), Op::Lit(v)) => self.col_vs_lit(&f, op, &v)?,
            (Op::Lit(v), Op::Col(f)) => self.col_vs_lit(&f, op.flipped(), &v)?,
            (Op::Col(f), Op::Col(g)) => {
                let (x, tx) = self.typed(&f);
                let (y, ty) = self.typed(&g);
                let s = match (tx, ty) {
                    (T::Text, T::Text) | (T::Num, T::Num) | (T::Bool, T::Bool) => {
                        format!("COALESCE({x} {} {y}, FALSE)", sql_op(op))
                    }
                    (T::Text, T::Num) => text_vs_num(self.d(), &x, op, &y),
                    (T::Num, T::Text) => text_vs_num(self.d(), &y, op.flipped(), &x),
                    (T::Text, T::Bool) => text_vs_bool(&x, op, &y),
                    (T::Bool, T::Text) => text_vs_bool(&y, op.flipped(), &x),
                    _ => format!("({x} IS NOT NULL AND {y} IS NOT NULL AND {})", ne_only(op)),
                };
                Sql {
                    text: s,
                    layer: super::FIELD_LAYER + 1,
                }
            }
            (Op::Bool(s), other) | (other, Op::Bool(s)) => {
                // A condition compared as a value: `true`/`false`, no absence.
                let as_lit = |b: bool| self.compare_static_bool(b, op, &other);
                let (t, f) = (as_lit(true)?, as_lit(false)?);
                Sql {
                    text: format!("(CASE WHEN {} THEN {} ELSE {} END)", s.text, t.text, f.text),
                    layer: s.layer.max(t.layer).max(f.layer),
                }
            }
        })
    }

    /// `b op other` for a known boolean `b` (the other side not a
    /// condition itself, or a condition: then both are evaluated).
    fn compare_static_bool(&self, b: bool, op: CmpOp, other: &Op) -> Result<Sql, Unsupported> {
        let v = Value::Bool(b);
        Ok(match other {
            Op::Absent | Op::Set(_) => Sql::konst(false),
            Op::Lit(x) => Sql::konst(crate::eval::compare(&v, op, x)),
            Op::Col(f) => col_vs_lit_static(self.d(), f, op.flipped(), &v)?,
            Op::Bool(s) => Sql {
                text: format!(
                    "(CASE WHEN {} THEN {} ELSE {} END)",
                    s.text,
                    crate::eval::compare(&v, op, &Value::Bool(true)),
                    crate::eval::compare(&v, op, &Value::Bool(false))
                ),
                layer: s.layer,
            },
        })
    }

    fn col_vs_lit(&mut self, f: &Field, op: CmpOp, v: &Value) -> Result<Sql, Unsupported> {
        if let Value::Cidr(c) = v {
            // `x == 10.0.0.1`: the same address (a full-length network).
            let full = c.prefix == if c.addr.is_ipv4() { 32 } else { 128 };
            let same = if full {
                self.in_net(f, c)?
            } else {
                Sql::konst(false)
            };
            return Ok(match op {
                CmpOp::Eq => Sql {
                    text: format!("({} IS NOT NULL AND {})", f.col, same.text),
                    layer: same.layer.max(super::FIELD_LAYER + 1),
                },
                CmpOp::Ne => Sql {
                    text: format!("({} IS NOT NULL AND NOT {})", f.col, same.text),
                    layer: same.layer.max(super::FIELD_LAYER + 1),
                },
                _ => Sql::konst(false),
            });
        }
        col_vs_lit_static(self.d(), f, op, v)
    }

    fn membership(&mut self, lhs: Op, rhs: Op, negated: bool) -> Result<Sql, Unsupported> {
        let f = match lhs {
            Op::Absent | Op::Set(_) => return Ok(Sql::konst(false)),
            Op::Lit(v) => {
                // A literal on the left: each member decides statically
                // unless it is a column.
                let members = match rhs {
                    Op::Absent => return Ok(Sql::konst(false)),
                    Op::Set(items) => items,
                    one => vec![one],
                };
                let mut parts = Vec::new();
                for m in members {
                    let s = match m {
                        Op::Lit(Value::Cidr(net)) => {
                            Sql::konst(crate::eval::ip_of(&v).is_some_and(|ip| net.contains(ip)))
                        }
                        other => self.compare(Op::Lit(v.clone()), CmpOp::Eq, other)?,
                    };
                    parts.push(s);
                }
                let any = or_all(parts);
                return Ok(if negated {
                    Sql {
                        text: format!("(NOT {})", any.text),
                        layer: any.layer,
                    }
                } else {
                    any
                });
            }
            Op::Bool(s) => {
                let as_lit = |me: &mut Self, b: bool| -> Result<Sql, Unsupported> {
                    me.membership(Op::Lit(Value::Bool(b)), rhs.clone(), negated)
                };
                let t = as_lit(self, true)?;
                let fl = as_lit(self, false)?;
                return Ok(Sql {
                    text: format!(
                        "(CASE WHEN {} THEN {} ELSE {} END)",
                        s.text, t.text, fl.text
                    ),
                    layer: s.layer.max(t.layer).max(fl.layer),
                });
            }
            Op::Col(f) => f,
        };
        let members = match rhs {
            Op::Absent => return Ok(Sql::konst(false)),
            Op::Set(items) => items,
            one => vec![one],
        };
        let d = self.d();
        let mut parts: Vec<Sql> = Vec::new();
        // Text members of a text column: one `IN` list.
        let mut texts: Vec<String> = Vec::new();
        for m in members {
            match m {
                Op::Lit(Value::Cidr(net)) => parts.push(self.in_net(&f, &net)?),
                Op::Lit(Value::Str(s)) if f.kind == Kind::Text => texts.push(d.string(&s)),
                other => parts.push(self.compare(Op::Col(f.clone()), CmpOp::Eq, other)?),
            }
        }
        if !texts.is_empty() {
            parts.push(Sql {
                text: format!("COALESCE({} IN ({}), FALSE)", f.col, texts.join(", ")),
                layer: super::FIELD_LAYER + 1,
            });
        }
        let any = or_all(parts);
        let layer = any.layer.max(super::FIELD_LAYER + 1);
        Ok(Sql {
            text: if negated {
                format!("({} IS NOT NULL AND NOT {})", f.col, any.text)
            } else {
                format!("({} IS NOT NULL AND {})", f.col, any.text)
            },
            layer,
        })
    }

    fn matches(&mut self, lhs: Op, rhs: Op) -> Result<Sql, Unsupported> {
        let patterns: Vec<Op> = match rhs {
            Op::Set(items) => items,
            one => vec![one],
        };
        let mut globs: Vec<String> = Vec::new();
        for p in patterns {
            match p {
                Op::Lit(Value::Str(s)) => globs.push(s.to_string()),
                Op::Lit(_) | Op::Absent | Op::Bool(_) | Op::Set(_) => {}
                Op::Col(f) => {
                    return Err(Unsupported::new(format!(
                        "`matches` with a pattern read from a record (`{}`)",
                        f.col
                    )));
                }
            }
        }
        Ok(match lhs {
            Op::Absent | Op::Set(_) => Sql::konst(false),
            Op::Lit(v) => {
                let text = match &v {
                    Value::Str(s) => Some(s.to_string()),
                    Value::Num(_) | Value::Date(_) | Value::Bool(_) | Value::Cidr(_) => {
                        Some(v.to_string())
                    }
                    _ => None,
                };
                Sql::konst(
                    text.is_some_and(|t| globs.iter().any(|g| crate::text::glob_match(g, &t))),
                )
            }
            Op::Bool(s) => {
                let t = globs.iter().any(|g| crate::text::glob_match(g, "true"));
                let f = globs.iter().any(|g| crate::text::glob_match(g, "false"));
                Sql {
                    text: format!("(CASE WHEN {} THEN {t} ELSE {f} END)", s.text),
                    layer: s.layer,
                }
            }
            Op::Col(f) => {
                if globs.is_empty() {
                    return Ok(Sql::konst(false));
                }
                let d = self.d();
                let text = text_of(d, &f.col, f.kind);
                let likes: Vec<String> = globs
                    .iter()
                    .map(|g| d.like(&text, &like_pattern(g)))
                    .collect();
                Sql {
                    text: format!("({} IS NOT NULL AND ({}))", f.col, likes.join(" OR ")),
                    layer: super::FIELD_LAYER + 1,
                }
            }
        })
    }

    /// Whether field `f` holds an address in `net` (false when it is not
    /// an address of the net's family, as `IpAddr` parsing decides).
    fn in_net(&mut self, f: &Field, net: &Cidr) -> Result<Sql, Unsupported> {
        let (v4, v6) = self.ip_columns(f);
        let d = self.d();
        let text = match net.addr {
            IpAddr::V4(a) => {
                let bits = u32::from(a);
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(net.prefix))
                    .unwrap_or(0);
                let lo = u64::from(bits & mask);
                let hi = lo + u64::from(!mask);
                format!("COALESCE({v4} BETWEEN {lo} AND {hi}, FALSE)")
            }
            IpAddr::V6(a) => {
                let hex = format!("{:032x}", u128::from(a));
                let p = usize::from(net.prefix);
                let (whole, rest) = (p / 4, p % 4);
                let mut tests = Vec::new();
                if whole > 0 {
                    tests.push(format!(
                        "SUBSTR({v6}, 1, {whole}) = {}",
                        d.string(hex.get(..whole).unwrap_or_default())
                    ));
                }
                if rest > 0 {
                    let nibble = hex
                        .get(whole..=whole)
                        .and_then(|c| u32::from_str_radix(c, 16).ok())
                        .unwrap_or(0);
                    let span = 1u32 << (4 - rest);
                    let lo = nibble & !(span - 1);
                    let allowed: Vec<String> = (lo..lo + span)
                        .map(|n| d.string(&format!("{n:x}")))
                        .collect();
                    tests.push(format!(
                        "SUBSTR({v6}, {}, 1) IN ({})",
                        whole + 1,
                        allowed.join(", ")
                    ));
                }
                if tests.is_empty() {
                    format!("({v6} IS NOT NULL)")
                } else {
                    format!("COALESCE({}, FALSE)", tests.join(" AND "))
                }
            }
        };
        Ok(Sql {
            text,
            layer: super::IP_LAYER + 1,
        })
    }

    /// The columns holding field `f`'s value as an IPv4 number and as the
    /// 32 hex digits of an IPv6 address (NULL when it is not one), as
    /// Rust's `IpAddr` parser reads addresses.
    fn ip_columns(&mut self, f: &Field) -> (String, String) {
        if let Some(c) = self.ips.get(&f.col) {
            return c.clone();
        }
        let d = self.d();
        let x = text_of(d, &f.col, f.kind);
        let at = super::FIELD_LAYER + 1;
        let s = self.fields.col_at(at, "ip", format!("TRIM({x})"));
        let v4 = self.fields.col_at(at + 1, "ip", ipv4_number(d, &s));
        // IPv6: an IPv4 tail becomes two hex groups, then `::` is expanded.
        let colon = d.position(&format!("REVERSE({s})"), ":");
        let tail = format!("SUBSTR({s}, LENGTH({s}) - {colon} + 2)");
        let head = format!("SUBSTR({s}, 1, GREATEST(LENGTH({s}) - {colon} + 1, 0))");
        let tail_v4 = ipv4_number(d, &tail);
        let hex_group = |n: String| d.hex(&n);
        let six = self.fields.col_at(
            at + 1,
            "ip",
            format!(
                "CASE WHEN {dot} = 0 THEN LOWER({s}) \
                 WHEN {colon} > 0 AND {tail_v4} IS NOT NULL THEN LOWER({head}) || {g7} || ':' || {g8} END",
                dot = d.position(&s, "."),
                g7 = hex_group(d.idiv(&tail_v4, "65536")),
                g8 = hex_group(format!("({tail_v4} % 65536)")),
            ),
        );
        let group_re = "[0-9a-f]{1,4}(?::[0-9a-f]{1,4})*";
        let valid = d.regex_like(&six, &format!("^(?:{group_re})?(?:::(?:{group_re})?)?\\z"));
        let dc = d.position(&six, "::");
        let left = format!("SUBSTR({six}, 1, GREATEST({dc} - 1, 0))");
        let right = format!("SUBSTR({six}, {dc} + 2)");
        let count = |x: &str| {
            format!(
                "(CASE WHEN {x} = '' THEN 0 ELSE LENGTH({x}) - LENGTH(REPLACE({x}, ':', '')) + 1 END)"
            )
        };
        let n_all = count(&six);
        let (nl, nr) = (count(&left), count(&right));
        let nl_col = self
            .fields
            .col_at(at + 2, "ip", format!("CASE WHEN {dc} > 0 THEN {nl} END"));
        let nr_col = self
            .fields
            .col_at(at + 2, "ip", format!("CASE WHEN {dc} > 0 THEN {nr} END"));
        let ok = self.fields.col_at(
            at + 2,
            "ip",
            format!(
                "CASE WHEN {six} IS NULL OR NOT {valid} THEN FALSE \
                 WHEN {dc} > 0 THEN {nl} + {nr} <= 7 ELSE {n_all} = 8 END"
            ),
        );
        let mut groups = Vec::new();
        for i in 1..=8 {
            groups.push(format!(
                "LPAD(CASE WHEN {dc} = 0 THEN split_part({six}, ':', {i}) \
                 WHEN {i} <= {nl_col} THEN split_part({left}, ':', {i}) \
                 WHEN {i} > 8 - {nr_col} THEN split_part({right}, ':', {i} - (8 - {nr_col})) \
                 ELSE '0' END, 4, '0')"
            ));
        }
        let v6 = self.fields.col_at(
            at + 3,
            "ip",
            format!("CASE WHEN {ok} THEN {} END", groups.join(" || ")),
        );
        let out = (v4, v6);
        self.ips.insert(f.col.clone(), out.clone());
        out
    }
}

/// The number of an IPv4 address written as Rust reads one (four decimal
/// octets to 255, no leading zeros), else NULL.
fn ipv4_number(d: Dialect, s: &str) -> String {
    let octet = "(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])";
    let re = format!("^{octet}(?:\\.{octet}){{3}}\\z");
    let part = |i: u32| format!("CAST(split_part({s}, '.', {i}) AS BIGINT)");
    format!(
        "CASE WHEN {} THEN {} * 16777216 + {} * 65536 + {} * 256 + {} END",
        d.regex_like(s, &re),
        part(1),
        part(2),
        part(3),
        part(4)
    )
}

fn or_all(parts: Vec<Sql>) -> Sql {
    if parts.is_empty() {
        return Sql::konst(false);
    }
    let layer = parts.iter().map(|p| p.layer).max().unwrap_or(0);
    let texts: Vec<String> = parts.into_iter().map(|p| p.text).collect();
    Sql {
        text: format!("({})", texts.join(" OR ")),
        layer,
    }
}

/// A column compared with a literal (no address literal).
fn col_vs_lit_static(d: Dialect, f: &Field, op: CmpOp, v: &Value) -> Result<Sql, Unsupported> {
    let (x, t) = match f.kind {
        Kind::Text => (f.col.clone(), T::Text),
        Kind::Dec(_) => (d.to_text(&f.col), T::Text),
        Kind::Int | Kind::Float => (format!("CAST({} AS DOUBLE)", f.col), T::Num),
        Kind::Bool => (f.col.clone(), T::Bool),
    };
    let o = sql_op(op);
    let present = |s: String| format!("({} IS NOT NULL AND {s})", f.col);
    let text = match (t, v) {
        (_, Value::Null) => present(ne_only(op).into()),
        (T::Text, Value::Str(s)) => format!("COALESCE({x} {o} {}, FALSE)", d.string(s)),
        (T::Num, Value::Num(n)) => format!("COALESCE({x} {o} {}, FALSE)", double(*n)),
        (T::Bool, Value::Bool(b)) => format!(
            "COALESCE({x} {o} {}, FALSE)",
            if *b { "TRUE" } else { "FALSE" }
        ),
        (T::Text, Value::Num(n)) => text_vs_num(d, &x, op, &double(*n)),
        (T::Num, Value::Str(s)) => match s.trim().parse::<f64>() {
            Ok(n) => format!("COALESCE({x} {o} {}, FALSE)", double(n)),
            Err(_) => present(ne_only(op).into()),
        },
        (T::Text, Value::Bool(b)) => text_vs_bool(&x, op, if *b { "TRUE" } else { "FALSE" }),
        (T::Bool, Value::Str(s)) => match s.parse::<bool>() {
            Ok(b) => format!(
                "COALESCE({x} {o} {}, FALSE)",
                if b { "TRUE" } else { "FALSE" }
            ),
            Err(_) => present(ne_only(op).into()),
        },
        (T::Text, Value::Date(day)) => {
            let re = "^[0-9]{4}-[0-9]{2}-[0-9]{2}";
            let parsed = d.epoch_day(&d.try_cast(&format!("SUBSTR({x}, 1, 10)"), "DATE"));
            format!(
                "(CASE WHEN {x} IS NULL THEN FALSE WHEN {} AND {parsed} IS NOT NULL THEN {parsed} {o} {} ELSE {} END)",
                d.regex_like(&x, re),
                day.days(),
                ne_only(op)
            )
        }
        (_, Value::List(_) | Value::Map(_) | Value::Unknown(_) | Value::Cidr(_)) => {
            return Err(Unsupported::new(format!(
                "a comparison of `{}` with a {}",
                f.col,
                v.type_name()
            )));
        }
        // Values of types that do not compare: only `!=` holds.
        _ => present(ne_only(op).into()),
    };
    Ok(Sql {
        text,
        layer: super::FIELD_LAYER + 1,
    })
}

/// A text column compared with a number: read as a number; one that is
/// not makes only `!=` hold.
fn text_vs_num(d: Dialect, x: &str, op: CmpOp, n: &str) -> String {
    let v = d.try_cast(&format!("TRIM({x})"), "DOUBLE");
    format!(
        "(CASE WHEN {x} IS NULL OR {n} IS NULL THEN FALSE WHEN {v} IS NULL THEN {} ELSE {v} {} {n} END)",
        ne_only(op),
        sql_op(op)
    )
}

/// A text column compared with a boolean: `true` and `false` are read as
/// such; any other text makes only `!=` hold.
fn text_vs_bool(x: &str, op: CmpOp, b: &str) -> String {
    format!(
        "(CASE WHEN {x} IS NULL OR {b} IS NULL THEN FALSE WHEN {x} IN ('true', 'false') THEN ({x} = 'true') {} {b} ELSE {} END)",
        sql_op(op),
        ne_only(op)
    )
}

/// A number as a SQL DOUBLE, exactly (Rust's shortest round-trip text).
fn double(n: f64) -> String {
    if n.is_finite() {
        format!("CAST('{n}' AS DOUBLE)")
    } else {
        "CAST(NULL AS DOUBLE)".into()
    }
}

fn ne_only(op: CmpOp) -> &'static str {
    if op == CmpOp::Ne { "TRUE" } else { "FALSE" }
}

pub(super) fn sql_op(op: CmpOp) -> &'static str {
    match op {
        CmpOp::Eq => "=",
        CmpOp::Ne => "<>",
        CmpOp::Lt => "<",
        CmpOp::Le => "<=",
        CmpOp::Gt => ">",
        CmpOp::Ge => ">=",
    }
}

/// A glob (`*` any run, `?` one character) as a `LIKE` pattern with `\`
/// escaping `%`, `_` and itself.
pub fn like_pattern(glob: &str) -> String {
    let mut out = String::with_capacity(glob.len());
    for c in glob.chars() {
        match c {
            '*' => out.push('%'),
            '?' => out.push('_'),
            '%' | '_' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}
