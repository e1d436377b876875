//! Conditions rendered as English phrases, for `proviso explain`.
//!
//! The rendering is deliberately literal: it says what the rule checks, in
//! words a lawyer can hold against the contract, and names defines rather
//! than inlining them (their meaning is listed once, under "Definitions").

use crate::rules::RuleSet;
use crate::rules::ast::{CmpOp, Expr, ExprKind};
use crate::value::{FieldPath, Value};

/// How names and code are marked up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Markup {
    Plain,
    Markdown,
}

/// "stateless_api" → "stateless api".
pub fn humanize(id: &str) -> String {
    id.replace('_', " ")
}

fn name(id: &str, m: Markup) -> String {
    match m {
        Markup::Plain => humanize(id),
        Markup::Markdown => format!("_{}_", humanize(id)),
    }
}

fn code(text: &str, m: Markup) -> String {
    match m {
        Markup::Plain => text.to_string(),
        Markup::Markdown => format!("`{text}`"),
    }
}

/// "the cloud", "the `segment` tag", "the `location` attribute".
pub fn field(path: &FieldPath, m: Markup) -> String {
    let segs = &path.0;
    match (segs.first().map(String::as_str), segs.len()) {
        (Some("tags"), 2) => format!(
            "the {} tag",
            code(segs.get(1).map(String::as_str).unwrap_or(""), m)
        ),
        (Some("attributes"), 2) => format!(
            "the {} attribute",
            code(segs.get(1).map(String::as_str).unwrap_or(""), m)
        ),
        (Some("client_ip"), 1) => "the client address".into(),
        (Some("target_ip"), 1) => "the backend address".into(),
        (Some("bytes_in"), 1) => "the request size".into(),
        (Some("bytes_out"), 1) => "the response size".into(),
        (Some(f), 1) => format!("the {}", humanize(f)),
        _ => format!("the {}", code(&path.to_string(), m)),
    }
}

fn literal(v: &Value) -> String {
    match v {
        Value::Str(s) => format!("\"{s}\""),
        Value::Date(d) => d.long(),
        other => other.to_string(),
    }
}

/// A set's members as "a", "b" or "c" (define references by name).
fn members(items: &[Expr], rules: &RuleSet, m: Markup) -> String {
    let parts: Vec<String> = items.iter().map(|i| operand(i, rules, m)).collect();
    match parts.as_slice() {
        [] => "nothing".into(),
        [one] => one.clone(),
        [head @ .., last] => format!("{} or {last}", head.join(", ")),
    }
}

fn operand(e: &Expr, rules: &RuleSet, m: Markup) -> String {
    match &e.kind {
        ExprKind::Field(p) => field(p, m),
        ExprKind::Literal(v) => literal(v),
        ExprKind::DefineRef(id, _) => format!("the {}", name(id, m)),
        ExprKind::Set(items) => members(items, rules, m),
        _ => format!("({})", phrase(e, rules, m)),
    }
}

/// The right side of `in`/`matches`: "one of the us regions", "\"a\" or \"b\"".
fn one_of(e: &Expr, rules: &RuleSet, m: Markup) -> String {
    match &e.kind {
        ExprKind::Set(items) if items.len() > 1 => format!("one of {}", members(items, rules, m)),
        ExprKind::Set(items) => members(items, rules, m),
        ExprKind::DefineRef(id, _) => format!("one of the {}", name(id, m)),
        ExprKind::Literal(Value::Cidr(c)) => format!("in the network {c}"),
        _ => operand(e, rules, m),
    }
}

/// A condition as a phrase: "the cloud is \"azure\"".
pub fn phrase(e: &Expr, rules: &RuleSet, m: Markup) -> String {
    match &e.kind {
        ExprKind::Or(items) => join(items, "or", rules, m),
        ExprKind::And(items) => join(items, "and", rules, m),
        ExprKind::Not(inner) => match &inner.kind {
            ExprKind::Compare(a, CmpOp::Eq, b) => {
                format!("{} is not {}", operand(a, rules, m), operand(b, rules, m))
            }
            ExprKind::DefineRef(id, _) => format!("it does not match {}", name(id, m)),
            ExprKind::Exists(a) => format!("{} is absent", operand(a, rules, m)),
            _ => format!("it is not the case that {}", phrase(inner, rules, m)),
        },
        ExprKind::Compare(a, op, b) => {
            let verb = match op {
                CmpOp::Eq => "is",
                CmpOp::Ne => "is not",
                CmpOp::Lt => "is less than",
                CmpOp::Le => "is at most",
                CmpOp::Gt => "is more than",
                CmpOp::Ge => "is at least",
            };
            format!("{} {verb} {}", operand(a, rules, m), operand(b, rules, m))
        }
        ExprKind::In { negated, lhs, rhs } => {
            let not = if *negated { " not" } else { "" };
            format!(
                "{} is{not} {}",
                operand(lhs, rules, m),
                one_of(rhs, rules, m)
            )
        }
        ExprKind::Matches(a, b) => {
            format!("{} matches {}", operand(a, rules, m), one_of(b, rules, m))
        }
        ExprKind::Regex(a, re) => format!(
            "{} matches the pattern {}",
            operand(a, rules, m),
            code(&format!("/{}/", re.as_str()), m)
        ),
        ExprKind::Exists(a) => format!("{} is present", operand(a, rules, m)),
        ExprKind::DefineRef(id, _) => format!("it matches {}", name(id, m)),
        ExprKind::Field(p) => format!("{} holds", field(p, m)),
        ExprKind::Literal(v) => literal(v),
        ExprKind::Set(items) => members(items, rules, m),
    }
}

fn join(items: &[Expr], word: &str, rules: &RuleSet, m: Markup) -> String {
    let parts: Vec<String> = items
        .iter()
        .map(|i| match &i.kind {
            ExprKind::Or(_) | ExprKind::And(_) => format!("({})", phrase(i, rules, m)),
            _ => phrase(i, rules, m),
        })
        .collect();
    parts.join(&format!(" {word} "))
}

/// What a `require` demands: "the cloud must be \"azure\"".
pub fn must(e: &Expr, rules: &RuleSet, m: Markup) -> String {
    requirement(e, false, rules, m)
}

/// What a `forbid` rules out: "the cloud must not be \"aws\"".
pub fn must_not(e: &Expr, rules: &RuleSet, m: Markup) -> String {
    requirement(e, true, rules, m)
}

/// "must be" / "must not be" for the simple shapes, a paraphrase otherwise.
fn requirement(e: &Expr, negate: bool, rules: &RuleSet, m: Markup) -> String {
    let be = |not: bool| {
        if not != negate {
            "must not be"
        } else {
            "must be"
        }
    };
    match &e.kind {
        ExprKind::Compare(a, op @ (CmpOp::Eq | CmpOp::Ne), b) => {
            format!(
                "{} {} {}",
                operand(a, rules, m),
                be(*op == CmpOp::Ne),
                operand(b, rules, m)
            )
        }
        ExprKind::In { negated, lhs, rhs } => {
            format!(
                "{} {} {}",
                operand(lhs, rules, m),
                be(*negated),
                one_of(rhs, rules, m)
            )
        }
        ExprKind::Exists(a) => {
            format!(
                "{} must be {}",
                operand(a, rules, m),
                if negate { "absent" } else { "present" }
            )
        }
        _ if negate => format!("it must not be that {}", phrase(e, rules, m)),
        _ => format!("it must hold that {}", phrase(e, rules, m)),
    }
}

/// The subject of `applies to`: "every record that is a stateless api".
pub fn subject(applies: Option<&Expr>, rules: &RuleSet, m: Markup) -> String {
    match applies.map(|e| &e.kind) {
        None => "every record".into(),
        Some(ExprKind::DefineRef(id, _)) => format!("every record matching {}", name(id, m)),
        Some(_) => format!(
            "every record where {}",
            applies.map(|e| phrase(e, rules, m)).unwrap_or_default()
        ),
    }
}

/// `s` with its first letter in upper case (a sentence's start).
pub fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().collect::<String>() + chars.as_str())
        .unwrap_or_default()
}
