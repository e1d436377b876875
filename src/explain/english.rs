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

/// Words of identifiers that are written in capitals (or, for `openai`,
/// as the company writes it) when an identifier is turned into words.
const ACRONYMS: [(&str, &str); 32] = [
    ("us", "US"),
    ("eu", "EU"),
    ("uk", "UK"),
    ("api", "API"),
    ("apis", "APIs"),
    ("ip", "IP"),
    ("aws", "AWS"),
    ("gcp", "GCP"),
    ("az", "AZ"),
    ("id", "ID"),
    ("ids", "IDs"),
    ("url", "URL"),
    ("tls", "TLS"),
    ("sku", "SKU"),
    ("usd", "USD"),
    ("eur", "EUR"),
    ("agi", "AGI"),
    ("ai", "AI"),
    ("http", "HTTP"),
    ("https", "HTTPS"),
    ("dns", "DNS"),
    ("vpc", "VPC"),
    ("cidr", "CIDR"),
    ("utc", "UTC"),
    ("sql", "SQL"),
    ("kms", "KMS"),
    ("iam", "IAM"),
    ("gpu", "GPU"),
    ("cpu", "CPU"),
    ("sla", "SLA"),
    ("openai", "OpenAI"),
    ("azure", "Azure"),
];

/// "stateless_api" → "stateless API", "us_regions" → "US regions": an
/// identifier in words, acronyms kept in capitals.
pub fn humanize(id: &str) -> String {
    id.split(['_', '-'])
        .filter(|w| !w.is_empty())
        .map(|w| {
            let lower = w.to_ascii_lowercase();
            ACRONYMS
                .iter()
                .find(|(k, _)| *k == lower)
                .map_or_else(|| w.to_string(), |(_, v)| (*v).to_string())
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn name(id: &str, m: Markup) -> String {
    match m {
        Markup::Plain => humanize(id),
        Markup::Markdown => format!("_{}_", humanize(id)),
    }
}

/// The author's phrase for a define, if it has one.
pub fn define_phrase(rules: &RuleSet, index: usize) -> Option<&str> {
    rules.defines.get(index).and_then(|d| d.phrase.as_deref())
}

/// "a stateless OpenAI API" → "stateless OpenAI API" (after "every").
pub fn without_article(phrase: &str) -> &str {
    ["a ", "an ", "the ", "A ", "An ", "The "]
        .iter()
        .find_map(|a| phrase.strip_prefix(a))
        .unwrap_or(phrase)
}

/// A cloud's name as its vendor writes it, for the values of `cloud`.
fn cloud_name(v: &str) -> Option<&'static str> {
    match v {
        "azure" => Some("Azure"),
        "aws" => Some("AWS"),
        "gcp" => Some("Google Cloud"),
        _ => None,
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
        (Some("cloud"), 1) => "the serving cloud".into(),
        (Some("client_cloud"), 1) => "the calling cloud".into(),
        (Some("client_region"), 1) => "the calling region".into(),
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
        ExprKind::DefineRef(id, i) => match define_phrase(rules, *i) {
            Some(p) => p.to_string(),
            None => format!("the {}", name(id, m)),
        },
        ExprKind::Set(items) if items.len() > 1 => format!("one of {}", members(items, rules, m)),
        ExprKind::Set(items) => members(items, rules, m),
        _ => format!("({})", phrase(e, rules, m)),
    }
}

/// The right side of `in`/`matches`: "one of the us regions", "\"a\" or \"b\"".
fn one_of(e: &Expr, rules: &RuleSet, m: Markup) -> String {
    match &e.kind {
        ExprKind::Set(items) if items.len() > 1 => format!("one of {}", members(items, rules, m)),
        ExprKind::Set(items) => members(items, rules, m),
        ExprKind::DefineRef(id, i) => match define_phrase(rules, *i) {
            Some(p) => p.to_string(),
            None => format!("one of the {}", name(id, m)),
        },
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
            ExprKind::DefineRef(id, i) => match define_phrase(rules, *i) {
                Some(p) => format!("it is not {p}"),
                None => format!("it does not match {}", name(id, m)),
            },
            ExprKind::Exists(a) => format!("{} is absent", operand(a, rules, m)),
            _ => format!("it is not the case that {}", phrase(inner, rules, m)),
        },
        ExprKind::Compare(a, op @ (CmpOp::Eq | CmpOp::Ne), b)
            if matches!(&a.kind, ExprKind::Field(p) if p.0.len() == 1 && matches!(p.root(), "cloud" | "client_cloud"))
                && let ExprKind::Literal(Value::Str(v)) = &b.kind
                && let Some(name) = cloud_name(v) =>
        {
            let verb = if *op == CmpOp::Eq { "is" } else { "is not" };
            format!("{} {verb} {name}", operand(a, rules, m))
        }
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
        ExprKind::Matches(a, b) => match &b.kind {
            ExprKind::DefineRef(_, i) if define_phrase(rules, *i).is_some() => {
                format!("{} is {}", operand(a, rules, m), one_of(b, rules, m))
            }
            _ => format!("{} matches {}", operand(a, rules, m), one_of(b, rules, m)),
        },
        ExprKind::Regex(a, re) => format!(
            "{} matches the pattern {}",
            operand(a, rules, m),
            code(&format!("/{}/", re.as_str()), m)
        ),
        ExprKind::Exists(a) => format!("{} is {}", operand(a, rules, m), known(a)),
        ExprKind::DefineRef(id, i) => match define_phrase(rules, *i) {
            Some(p) => format!("it is {p}"),
            None => format!("it matches {}", name(id, m)),
        },
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

/// "known" for what a record may not say (the cloud, the region),
/// "present" for other fields.
fn known(e: &Expr) -> &'static str {
    match &e.kind {
        ExprKind::Field(p)
            if matches!(
                p.root(),
                "cloud" | "region" | "client_cloud" | "client_region"
            ) && p.0.len() == 1 =>
        {
            "known"
        }
        _ => "present",
    }
}

/// `(noun, relative clauses)` of an `applies to` or `over` condition:
/// `stateless_api and cloud exists` with a phrase for `stateless_api` is
/// ("stateless OpenAI API", ["whose serving cloud is known"]).
fn head_and_relatives(e: Option<&Expr>, rules: &RuleSet, m: Markup) -> (String, Vec<String>) {
    let Some(e) = e else {
        return ("record".into(), Vec::new());
    };
    let items: Vec<&Expr> = match &e.kind {
        ExprKind::And(items) => items.iter().collect(),
        _ => vec![e],
    };
    let mut rest = items.as_slice();
    let mut noun = "record".to_string();
    if let Some((first, tail)) = items.split_first()
        && let ExprKind::DefineRef(_, i) = first.kind
        && let Some(p) = define_phrase(rules, i)
    {
        noun = without_article(p).to_string();
        rest = tail;
    }
    let rel = rest.iter().map(|x| relative(x, rules, m)).collect();
    (noun, rel)
}

/// A condition as a relative clause of a record: "that is a stateful
/// runtime", "whose region is known", "for which …".
fn relative(e: &Expr, rules: &RuleSet, m: Markup) -> String {
    let of_field = |x: &Expr| match &x.kind {
        ExprKind::Field(p) => Some(field(p, m).trim_start_matches("the ").to_string()),
        _ => None,
    };
    match &e.kind {
        ExprKind::DefineRef(id, i) => match define_phrase(rules, *i) {
            Some(p) => format!("that is {p}"),
            None => format!("that matches {}", name(id, m)),
        },
        ExprKind::Not(inner) => match &inner.kind {
            ExprKind::DefineRef(id, i) => match define_phrase(rules, *i) {
                Some(p) => format!("that is not {p}"),
                None => format!("that does not match {}", name(id, m)),
            },
            _ => format!("for which {}", phrase(e, rules, m)),
        },
        ExprKind::Exists(a) => match of_field(a) {
            Some(f) => format!("whose {f} is {}", known(a)),
            None => format!("for which {}", phrase(e, rules, m)),
        },
        ExprKind::Compare(a, _, _) | ExprKind::In { lhs: a, .. } | ExprKind::Matches(a, _) => {
            match of_field(a) {
                Some(f) => {
                    let text = phrase(e, rules, m);
                    let whole = field(
                        match &a.kind {
                            ExprKind::Field(p) => p,
                            _ => return format!("for which {text}"),
                        },
                        m,
                    );
                    format!(
                        "whose {f}{}",
                        text.strip_prefix(&whole).unwrap_or(&format!(" {text}"))
                    )
                }
                None => format!("for which {}", phrase(e, rules, m)),
            }
        }
        _ => format!("for which {}", phrase(e, rules, m)),
    }
}

/// The subject of `applies to`: "every stateless OpenAI API whose serving
/// cloud is known", "every record that matches federal".
pub fn subject(applies: Option<&Expr>, rules: &RuleSet, m: Markup) -> String {
    let (noun, rel) = head_and_relatives(applies, rules, m);
    if rel.is_empty() {
        format!("every {noun}")
    } else {
        format!("every {noun} {}", rel.join(" and "))
    }
}

/// The records an `over` condition keeps: "the revenue-ledger bookings",
/// "the records whose model is present".
pub fn records(over: Option<&Expr>, rules: &RuleSet, m: Markup) -> String {
    let (noun, rel) = head_and_relatives(over, rules, m);
    // The relative clauses said of many records: "that are …", "that match …".
    let rel: Vec<String> = rel
        .iter()
        .map(|r| {
            [
                ("that is not ", "that are not "),
                ("that is ", "that are "),
                ("that does not match ", "that do not match "),
                ("that matches ", "that match "),
            ]
            .iter()
            .find_map(|(one, many)| r.strip_prefix(one).map(|rest| format!("{many}{rest}")))
            .unwrap_or_else(|| r.clone())
        })
        .collect();
    let plural = if noun.ends_with('s') {
        noun
    } else {
        format!("{noun}s")
    };
    if rel.is_empty() {
        format!("the {plural}")
    } else {
        format!("the {plural} {}", rel.join(" and "))
    }
}

/// A requirement said of the subject itself, when it reads so: "must be
/// served from Azure", "must be in a US region". `None` otherwise.
pub fn predicate(e: &Expr, negate: bool, rules: &RuleSet, m: Markup) -> Option<String> {
    let be = |not: bool| {
        if not != negate {
            "must not be"
        } else {
            "must be"
        }
    };
    let field_root = |x: &Expr| match &x.kind {
        ExprKind::Field(p) if p.0.len() == 1 => Some(p.root().to_string()),
        _ => None,
    };
    let (lhs, not, rhs, set) = match &e.kind {
        ExprKind::Compare(a, op @ (CmpOp::Eq | CmpOp::Ne), b) => (a, *op == CmpOp::Ne, b, false),
        ExprKind::In { negated, lhs, rhs } => (lhs, *negated, rhs, true),
        _ => return None,
    };
    let value = |cloud: bool| -> Option<String> {
        match &rhs.kind {
            ExprKind::Literal(Value::Str(v)) if cloud => {
                Some(cloud_name(v).map_or_else(|| format!("\"{v}\""), str::to_string))
            }
            ExprKind::Set(items) if cloud => {
                let names: Vec<String> = items
                    .iter()
                    .map(|i| match &i.kind {
                        ExprKind::Literal(Value::Str(v)) => {
                            cloud_name(v).map_or_else(|| format!("\"{v}\""), str::to_string)
                        }
                        _ => operand(i, rules, m),
                    })
                    .collect();
                Some(match names.as_slice() {
                    [one] => one.clone(),
                    [head @ .., last] => format!("one of {} or {last}", head.join(", ")),
                    [] => "nothing".into(),
                })
            }
            _ if set => Some(one_of(rhs, rules, m)),
            ExprKind::Literal(_) | ExprKind::DefineRef(..) => Some(operand(rhs, rules, m)),
            _ => None,
        }
    };
    match field_root(lhs).as_deref() {
        Some("cloud") => Some(format!("{} served from {}", be(not), value(true)?)),
        Some("region") => Some(format!("{} in {}", be(not), value(false)?)),
        _ => None,
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

#[cfg(test)]
mod tests {
    use super::{humanize, without_article};

    #[test]
    fn identifiers_become_words_that_keep_acronyms() {
        assert_eq!(humanize("us_regions"), "US regions");
        assert_eq!(humanize("stateless_api"), "stateless API");
        assert_eq!(humanize("openai_hosts"), "OpenAI hosts");
        assert_eq!(humanize("amount_usd"), "amount USD");
        assert_eq!(humanize("gcp_project_id"), "GCP project ID");
        assert_eq!(humanize("tls-min-version"), "TLS min version");
        assert_eq!(humanize("training"), "training");
    }

    #[test]
    fn every_takes_the_phrase_without_its_article() {
        assert_eq!(
            without_article("a stateless OpenAI API"),
            "stateless OpenAI API"
        );
        assert_eq!(without_article("an EU region"), "EU region");
        assert_eq!(without_article("training compute"), "training compute");
    }
}
