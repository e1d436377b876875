//! Step two of reading a rule file: pest parse tree to AST.
//!
//! Lowering validates everything that can be judged inside one file (dates,
//! sizes, CIDRs, regexes, severities, the shape of a clause) and collects
//! *all* errors instead of stopping at the first; names that may live in
//! another rule file are resolved later, by [`super::check`].

use super::ast::*;
use super::parse::{Pair, Rule};
use crate::date::{Date, Interval};
use crate::diag::{Code, Diag};
use crate::source::{Origin, SourceFile};
use crate::value::{Cidr, FieldPath, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

mod aggregate;
pub use aggregate::{exact_decimal, exact_percent};

/// Size units accepted after a number (`10 GiB`).
pub const SIZE_UNITS: [(&str, f64); 9] = [
    ("B", 1.0),
    ("KB", 1e3),
    ("MB", 1e6),
    ("GB", 1e9),
    ("TB", 1e12),
    ("KiB", 1024.0),
    ("MiB", 1_048_576.0),
    ("GiB", 1_073_741_824.0),
    ("TiB", 1_099_511_627_776.0),
];

pub struct Lowerer<'f> {
    file: &'f Arc<SourceFile>,
    pub errors: Vec<Diag>,
}

fn is_token(rule: Rule) -> bool {
    matches!(
        rule,
        Rule::rbrace
            | Rule::kw_agreement
            | Rule::kw_source
            | Rule::kw_dated
            | Rule::kw_define
            | Rule::kw_field
            | Rule::kw_terms
            | Rule::kw_effective
            | Rule::kw_until
            | Rule::kw_supersedes
            | Rule::kw_clause
            | Rule::kw_cite
            | Rule::kw_severity
            | Rule::kw_applies
            | Rule::kw_to
            | Rule::kw_require
            | Rule::kw_forbid
            | Rule::kw_manual
            | Rule::kw_except
            | Rule::kw_unless
            | Rule::kw_message
            | Rule::kw_exception
            | Rule::kw_when
            | Rule::kw_example
            | Rule::kw_on
            | Rule::kw_given
            | Rule::kw_expect
            | Rule::kw_and
            | Rule::kw_or
            | Rule::kw_exists
            | Rule::kw_decimal
            | Rule::kw_one
            | Rule::kw_of
            | Rule::kw_param
            | Rule::kw_per
            | Rule::kw_over
            | Rule::kw_let
            | Rule::kw_running
            | Rule::kw_total
            | Rule::kw_sum
            | Rule::kw_count
            | Rule::kw_distinct
            | Rule::kw_records
            | Rule::kw_min
            | Rule::kw_max
            | Rule::kw_first
            | Rule::kw_all
            | Rule::kw_where
            | Rule::kw_with
            | Rule::kw_for
            | Rule::kw_required
            | Rule::EOI
    )
}

/// The meaningful children of a pair (keywords and closing braces dropped).
fn children<'a>(pair: &Pair<'a>) -> impl Iterator<Item = Pair<'a>> + use<'a> {
    pair.clone().into_inner().filter(|p| !is_token(p.as_rule()))
}

fn span(pair: &Pair<'_>) -> Span {
    super::parse::content_span(pair)
}

fn ident(pair: &Pair<'_>) -> Ident {
    Ident {
        name: pair.as_str().to_string(),
        span: span(pair),
    }
}

/// Unescapes the inside of a string literal.
pub fn unescape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

/// The string of a keyword-led statement (`phrase "…"`, `evidence "…"`).
fn statement_string(pair: &Pair<'_>) -> Option<String> {
    children(pair)
        .find(|p| p.as_rule() == Rule::string)
        .map(|p| string_value(&p))
}

fn string_value(pair: &Pair<'_>) -> String {
    unescape(
        pair.clone()
            .into_inner()
            .next()
            .map(|p| p.as_str())
            .unwrap_or(""),
    )
}

impl<'f> Lowerer<'f> {
    pub fn new(file: &'f Arc<SourceFile>) -> Lowerer<'f> {
        Lowerer {
            file,
            errors: Vec::new(),
        }
    }

    fn err(
        &mut self,
        code: Code,
        message: impl Into<String>,
        at: Span,
        label: &str,
        help: impl Into<String>,
    ) {
        self.errors.push(
            Diag::error(code, message)
                .in_file(self.file)
                .label(at, label)
                .with_help(help),
        );
    }

    pub fn lower_file(&mut self, root: Pair<'_>) -> RuleFile {
        let mut out = RuleFile::empty(self.file);
        for item in children(&root) {
            match item.as_rule() {
                Rule::agreement => {
                    let mut it = children(&item);
                    if let Some(id) = it.next() {
                        let title = it.next().map(|s| string_value(&s));
                        out.agreement = Some(Agreement {
                            id: ident(&id),
                            title,
                        });
                    }
                }
                Rule::source => out.sources.push(self.lower_source(&item)),
                Rule::define => {
                    let kids: Vec<_> = children(&item).collect();
                    let phrase = kids
                        .iter()
                        .find(|p| p.as_rule() == Rule::string)
                        .map(string_value);
                    let id = kids.iter().find(|p| p.as_rule() == Rule::ident);
                    let e = kids.iter().find(|p| p.as_rule() == Rule::expr);
                    if let (Some(id), Some(e)) = (id, e) {
                        let value = self.lower_expr(e);
                        out.defines.push(Define {
                            id: ident(id),
                            phrase,
                            value,
                            file: self.file.clone(),
                        });
                    }
                }
                Rule::terms => {
                    if let Some(t) = self.lower_terms(&item) {
                        out.terms.push(t);
                    }
                }
                Rule::field_decl => {
                    let mut decl = FieldDecl {
                        path: FieldPath(Vec::new()),
                        about: None,
                        ty: None,
                        required: None,
                        file: self.file.clone(),
                        span: span(&item),
                    };
                    for p in children(&item) {
                        match p.as_rule() {
                            Rule::path => decl.path = path_of(&p),
                            Rule::string => decl.about = Some(string_value(&p)),
                            Rule::field_type => decl.ty = self.lower_field_type(&p),
                            Rule::field_required => {
                                decl.required = children(&p).next().map(|e| self.lower_expr(&e));
                            }
                            _ => {}
                        }
                    }
                    out.fields.push(decl);
                }
                Rule::param => {
                    if let Some(p) = self.lower_param(&item) {
                        out.params.push(p);
                    }
                }
                _ => {}
            }
        }
        out
    }

    fn lower_field_type(&mut self, pair: &Pair<'_>) -> Option<FieldType> {
        let inner = children(pair).next()?;
        match inner.as_rule() {
            Rule::field_decimal => Some(FieldType::Decimal),
            Rule::field_one_of => {
                let set = children(&inner).find(|p| p.as_rule() == Rule::set)?;
                let mut values = Vec::new();
                for item in children(&set) {
                    if item.as_rule() == Rule::string {
                        values.push(string_value(&item));
                    } else {
                        self.err(
                            Code::ParseSyntax,
                            format!("`{}` is not a string", item.as_str()),
                            span(&item),
                            "not a string",
                            "`one of { … }` lists the values a field may have, as quoted strings",
                        );
                    }
                }
                Some(FieldType::OneOf(values))
            }
            _ => None,
        }
    }

    fn lower_param(&mut self, pair: &Pair<'_>) -> Option<ParamDecl> {
        let mut id = None;
        let mut about = None;
        let mut ty = ParamType::Number;
        for p in children(pair) {
            match p.as_rule() {
                Rule::ident => id = Some(ident(&p)),
                Rule::string => about = Some(string_value(&p)),
                Rule::param_type => {
                    let word = p.as_str().trim();
                    match ParamType::ALL.iter().find(|(n, _)| *n == word) {
                        Some((_, t)) => ty = *t,
                        None => {
                            let names = ParamType::ALL.map(|(n, _)| n);
                            let help = match crate::text::closest(word, names.iter().copied()) {
                                Some((c, _)) => format!(
                                    "did you mean `{c}`? A parameter is `money`, `number`, `text` or `date`"
                                ),
                                None => {
                                    "a parameter is `money`, `number`, `text` or `date`".to_string()
                                }
                            };
                            self.err(
                                Code::CheckBadParam,
                                format!("`{word}` is not a parameter type"),
                                span(&p),
                                "unknown type",
                                help,
                            );
                        }
                    }
                }
                _ => {}
            }
        }
        Some(ParamDecl {
            id: id?,
            about,
            ty,
            file: self.file.clone(),
            span: span(pair),
        })
    }

    fn lower_source(&mut self, pair: &Pair<'_>) -> SourceDecl {
        let mut id = Ident {
            name: String::new(),
            span: span(pair),
        };
        let mut title = None;
        let mut dated = None;
        for p in children(pair) {
            match p.as_rule() {
                Rule::ident => id = ident(&p),
                Rule::string => title = Some(string_value(&p)),
                _ => dated = self.lower_date(&p),
            }
        }
        SourceDecl {
            id,
            title,
            dated,
            file: self.file.clone(),
            span: span(pair),
        }
    }

    /// A date argument: a valid date, or an error that says how to write it.
    fn lower_date(&mut self, pair: &Pair<'_>) -> Option<Date> {
        let text = pair.as_str();
        match pair.as_rule() {
            Rule::date_lit => match Date::parse(text) {
                Ok(d) => Some(d),
                Err(e) => {
                    self.err(
                        Code::ParseBadDate,
                        format!("`{text}` is not a date"),
                        span(pair),
                        "not a calendar date",
                        e.to_string(),
                    );
                    None
                }
            },
            Rule::bad_date => {
                let help = guess_date(text)
                    .map(|g| {
                        format!(
                            "dates are written year-month-day with two-digit month and day: `{g}`"
                        )
                    })
                    .unwrap_or_else(|| {
                        "dates are written `YYYY-MM-DD`, e.g. `2026-02-27`".to_string()
                    });
                self.err(
                    Code::ParseBadDate,
                    format!("`{text}` is not a date in `YYYY-MM-DD` form"),
                    span(pair),
                    "date written in another form",
                    help,
                );
                None
            }
            Rule::quoted_date => {
                let inner = pair
                    .clone()
                    .into_inner()
                    .next()
                    .map(|s| string_value(&s))
                    .unwrap_or_default();
                let help = match Date::parse(&inner) {
                    Ok(d) => format!("write the date without quotes: `{d}`"),
                    Err(_) => "write the date without quotes, as `YYYY-MM-DD`".to_string(),
                };
                self.err(
                    Code::ParseQuotedDate,
                    "a date is written without quotes",
                    span(pair),
                    "a quoted string, not a date",
                    help,
                );
                None
            }
            _ => None,
        }
    }

    fn lower_terms(&mut self, pair: &Pair<'_>) -> Option<Terms> {
        let mut id = None;
        let mut title = None;
        let mut effective: Option<(Option<Date>, Span)> = None;
        let mut until: Option<(Option<Date>, Span)> = None;
        let mut supersedes = None;
        let mut proposed = None;
        let mut clauses = Vec::new();
        let mut exceptions = Vec::new();
        let mut clause_pairs = Vec::new();
        for p in children(pair) {
            match p.as_rule() {
                Rule::ident => id = Some(ident(&p)),
                Rule::string => title = Some(string_value(&p)),
                Rule::effective => {
                    let d = children(&p).next();
                    effective = Some((d.as_ref().and_then(|d| self.lower_date(d)), span(&p)));
                }
                Rule::until => {
                    let d = children(&p).next();
                    until = Some((d.as_ref().and_then(|d| self.lower_date(d)), span(&p)));
                }
                Rule::supersedes => supersedes = children(&p).next().map(|i| ident(&i)),
                Rule::proposed => proposed = Some(span(&p)),
                Rule::clause => clause_pairs.push(p),
                Rule::exception => exceptions.push(self.lower_exception(&p)),
                _ => {}
            }
        }
        let id = id?;
        let (from, effective_span) = match effective {
            Some((d, s)) => (d, s),
            None => {
                self.err(
                    Code::CheckMissingEffective,
                    format!("terms `{}` have no `effective` date", id.name),
                    id.span.clone(),
                    "no effective date",
                    format!("write the date the terms start after the name: `terms {} effective 2026-04-27 {{`", id.name),
                );
                (None, id.span.clone())
            }
        };
        let until_date = until.as_ref().and_then(|(d, _)| *d);
        let until_span = until.map(|(_, s)| s);
        let dates_valid = from.is_some();
        let from = from.unwrap_or(Date::from_days(0));
        if let (Some(u), Some(us)) = (until_date, &until_span)
            && u <= from
        {
            self.errors.push(
                Diag::error(
                    Code::CheckUntilBeforeEffective,
                    format!("terms `{}` end on {u}, before they take effect on {from}", id.name),
                )
                .in_file(self.file)
                .label(us.clone(), "ends here")
                .label(effective_span.clone(), "starts here")
                .with_help("intervals are `[effective, until)`: `until` must be a later date than `effective`; check whether the two dates are swapped"),
            );
        }
        let interval = Interval {
            from,
            until: until_date.filter(|u| *u > from),
        };
        for p in clause_pairs {
            if let Some(c) = self.lower_clause(&p, &interval, &id, dates_valid) {
                clauses.push(c);
            }
        }
        Some(Terms {
            id,
            title,
            interval,
            dates_valid,
            effective_span,
            until_span,
            supersedes,
            proposed,
            clauses,
            exceptions,
            file: self.file.clone(),
            span: span(pair),
        })
    }

    fn lower_cite(&mut self, pair: &Pair<'_>) -> Cite {
        let mut it = children(pair);
        let source = it.next().map(|p| ident(&p)).unwrap_or(Ident {
            name: String::new(),
            span: span(pair),
        });
        let mut section = None;
        let mut text = None;
        for p in it {
            match p.as_rule() {
                Rule::cite_section => {
                    section = children(&p)
                        .find(|x| matches!(x.as_rule(), Rule::section_ref | Rule::string))
                        .map(|x| match x.as_rule() {
                            Rule::string => string_value(&x).trim().to_string(),
                            _ => x.as_str().to_string(),
                        })
                        .filter(|s| !s.is_empty());
                }
                _ => text = Some(string_value(&p)),
            }
        }
        Cite {
            source,
            section,
            text,
            span: span(pair),
        }
    }

    fn lower_exception(&mut self, pair: &Pair<'_>) -> Exception {
        let mut id = Ident {
            name: String::new(),
            span: span(pair),
        };
        let mut title = None;
        let mut phrase = None;
        let mut cites = Vec::new();
        let mut when = None;
        for p in children(pair) {
            match p.as_rule() {
                Rule::ident => id = ident(&p),
                Rule::string => title = Some(string_value(&p)),
                Rule::phrase => phrase = statement_string(&p),
                Rule::cite => cites.push(self.lower_cite(&p)),
                Rule::when => {
                    if when.is_some() {
                        self.err(
                            Code::CheckConflictingCheck,
                            "an exception has one `when`",
                            span(&p),
                            "second `when`",
                            "combine the conditions with `and` or `or` in one `when`",
                        );
                    }
                    when = children(&p).next().map(|e| self.lower_expr(&e));
                }
                _ => {}
            }
        }
        if when.is_none() {
            self.err(
                Code::CheckMissingCheck,
                format!("exception `{}` has no `when` condition", id.name),
                id.span.clone(),
                "no condition",
                "add `when <condition>`: the records the exception excuses",
            );
        }
        Exception {
            id,
            title,
            phrase,
            cites,
            when,
            span: span(pair),
        }
    }

    pub(super) fn lower_clause(
        &mut self,
        pair: &Pair<'_>,
        terms: &Interval,
        terms_id: &Ident,
        terms_dated: bool,
    ) -> Option<Clause> {
        let mut id = None;
        let mut title = None;
        let mut phrase = None;
        let mut evidence = None;
        let mut cites = Vec::new();
        let mut severity = Severity::Error;
        let mut applies = None;
        let mut checks: Vec<(Check, Span)> = Vec::new();
        let mut excepts = Vec::new();
        let mut unless = Vec::new();
        let mut message = None;
        let mut own_from: Option<(Date, Span)> = None;
        let mut own_until: Option<(Date, Span)> = None;
        let mut examples = Vec::new();
        let mut example_pairs = Vec::new();
        let mut agg = aggregate::AggParts::default();
        let mut except_span = None;
        for p in children(pair) {
            match p.as_rule() {
                Rule::per => self.lower_per(&p, &mut agg),
                Rule::over => {
                    if agg.over.is_some() {
                        self.err(
                            Code::CheckAggregate,
                            "a clause has one `over`",
                            span(&p),
                            "second `over`",
                            "combine the conditions with `and` or `or` in one `over`",
                        );
                    }
                    agg.over = children(&p).next().map(|e| self.lower_expr(&e));
                }
                Rule::figure => self.lower_figure(&p, &mut agg),
                Rule::ident => id = Some(ident(&p)),
                Rule::string => title = Some(string_value(&p)),
                Rule::phrase => phrase = statement_string(&p),
                Rule::evidence => evidence = statement_string(&p),
                Rule::cite => cites.push(self.lower_cite(&p)),
                Rule::severity => {
                    let word = children(&p)
                        .next()
                        .map(|w| (w.as_str().to_string(), span(&w)));
                    if let Some((w, s)) = word {
                        match w.as_str() {
                            "error" => severity = Severity::Error,
                            "warning" => severity = Severity::Warning,
                            "info" => severity = Severity::Info,
                            other => {
                                let suggestion = match other {
                                    "critical" | "high" | "fatal" | "blocker" | "major" => "error",
                                    "medium" | "moderate" | "warn" | "minor" => "warning",
                                    _ => "info",
                                };
                                self.err(
                                    Code::ParseBadSeverity,
                                    format!("`{other}` is not a severity"),
                                    s,
                                    "unknown severity",
                                    format!("write `severity error`, `severity warning` or `severity info` (perhaps `{suggestion}`)"),
                                );
                            }
                        }
                    }
                }
                Rule::applies => {
                    if applies.is_some() {
                        self.err(
                            Code::CheckConflictingCheck,
                            "a clause has one `applies to`",
                            span(&p),
                            "second `applies to`",
                            "combine the conditions with `and` or `or` in one `applies to`",
                        );
                    }
                    applies = children(&p).next().map(|e| self.lower_expr(&e));
                }
                Rule::require | Rule::forbid => {
                    if let Some(e) = children(&p).next() {
                        let e = self.lower_expr(&e);
                        let c = if p.as_rule() == Rule::require {
                            Check::Require(e)
                        } else {
                            Check::Forbid(e)
                        };
                        checks.push((c, span(&p)));
                    }
                }
                Rule::manual => checks.push((Check::Manual, span(&p))),
                Rule::except => {
                    except_span.get_or_insert(span(&p));
                    excepts.extend(children(&p).map(|i| ident(&i)))
                }
                Rule::unless => {
                    if let Some(e) = children(&p).next() {
                        unless.push(self.lower_expr(&e));
                    }
                }
                Rule::message => {
                    if let Some(s) = children(&p).next() {
                        message = Some(self.lower_message(&s));
                    }
                }
                Rule::effective => {
                    if let Some(d) = children(&p).next().and_then(|d| self.lower_date(&d)) {
                        own_from = Some((d, span(&p)));
                    }
                }
                Rule::until => {
                    if let Some(d) = children(&p).next().and_then(|d| self.lower_date(&d)) {
                        own_until = Some((d, span(&p)));
                    }
                }
                Rule::example => example_pairs.push(p),
                _ => {}
            }
        }
        let id = id?;
        let is_aggregate =
            agg.is_aggregate() && !checks.iter().any(|(c, _)| matches!(c, Check::Manual));
        for p in example_pairs {
            if is_aggregate {
                let ex = self.lower_agg_example(&p);
                agg.examples.push(ex);
            } else if example_is_aggregate(&p) {
                self.err(
                    Code::CheckAggregate,
                    format!("clause `{}` judges one record at a time, so its example gives one record", id.name),
                    span(&p),
                    "a list of records, a parameter or an `expect … for`",
                    "write `example \"…\" on DATE { given { … } expect … }`, or make the clause an aggregate (`per …`, `let …`)",
                );
            } else if let Some(ex) = self.lower_example(&p) {
                examples.push(ex);
            }
        }
        if is_aggregate {
            if let Some(at) = except_span {
                self.err(
                    Code::CheckAggregate,
                    format!("aggregate clause `{}` cannot name an exception", id.name),
                    at,
                    "`except` in an aggregate clause",
                    "exceptions excuse single records: leave the records out with `over …` or an aggregation's `where …`, or excuse a group with `unless <condition on its figures>`",
                );
            }
            let mut check = None;
            let mut extra = Vec::new();
            for (c, at) in checks {
                match c {
                    Check::Require(e) if check.is_none() => {
                        check = Some((self.group_condition(&e), false))
                    }
                    Check::Forbid(e) if check.is_none() => {
                        check = Some((self.group_condition(&e), true))
                    }
                    _ => extra.push(at),
                }
            }
            if let Some(at) = extra.first() {
                self.err(
                    Code::CheckConflictingCheck,
                    format!("clause `{}` has more than one `require`/`forbid`", id.name),
                    at.clone(),
                    "another condition",
                    "a clause has one `require` or `forbid`: combine conditions with `and`",
                );
            }
            if check.is_none() {
                self.err(
                    Code::CheckMissingCheck,
                    format!("clause `{}` says nothing to check", id.name),
                    id.span.clone(),
                    "no `require` or `forbid`",
                    "add `require <condition on the figures>`, such as `require paid >= due`",
                );
            }
            let applies = applies.take().map(|e| self.group_condition(&e));
            let unless_g = std::mem::take(&mut unless)
                .iter()
                .map(|e| self.group_condition(e))
                .collect();
            let own_interval = if terms_dated {
                self.own_interval(&id, terms, terms_id, own_from, own_until)
            } else {
                None
            };
            let agg_span = agg.per_span.clone().unwrap_or_else(|| span(pair));
            return Some(Clause {
                id,
                title,
                phrase,
                evidence,
                cites,
                severity,
                applies: None,
                check: Check::Aggregate,
                excepts: Vec::new(),
                unless: Vec::new(),
                message,
                own_interval,
                examples,
                aggregate: Some(Box::new(Aggregate {
                    per: agg.per,
                    over: agg.over,
                    aggs: agg.aggs,
                    figures: agg.figures,
                    applies,
                    check,
                    unless: unless_g,
                    examples: agg.examples,
                    span: agg_span,
                })),
                span: span(pair),
            });
        }
        let check = self.one_check(
            &id,
            checks,
            applies.is_some() || !unless.is_empty() || !excepts.is_empty(),
        );
        let own_interval = if terms_dated {
            self.own_interval(&id, terms, terms_id, own_from, own_until)
        } else {
            None
        };
        Some(Clause {
            id,
            title,
            phrase,
            evidence,
            cites,
            severity,
            applies,
            check,
            excepts,
            unless,
            message,
            own_interval,
            examples,
            aggregate: None,
            span: span(pair),
        })
    }

    /// A clause has exactly one of `require`, `forbid` or `manual`.
    fn one_check(&mut self, id: &Ident, mut checks: Vec<(Check, Span)>, has_logic: bool) -> Check {
        let manual_at = checks
            .iter()
            .find(|(c, _)| matches!(c, Check::Manual))
            .map(|(_, s)| s.clone());
        if let Some(m) = manual_at {
            let logic = checks
                .iter()
                .find(|(c, _)| !matches!(c, Check::Manual))
                .map(|(_, s)| s.clone());
            if let Some(l) = logic {
                self.errors.push(
                    Diag::error(Code::CheckManualWithLogic, format!("clause `{}` is `manual` but also has a condition", id.name))
                        .in_file(self.file)
                        .label(l, "a condition")
                        .label(m, "marked manual")
                        .with_help("a manual clause is listed for coverage and never evaluated: remove the condition, or remove `manual` to enforce it"),
                );
            } else if has_logic {
                self.errors.push(
                    Diag::warning(Code::CheckManualWithLogic, format!("clause `{}` is `manual`, so its `applies to`, `except` and `unless` are never evaluated", id.name))
                        .in_file(self.file)
                        .label(m, "marked manual")
                        .with_help("remove them, or replace `manual` with `require …` to enforce the clause"),
                );
            }
            return Check::Manual;
        }
        match checks.len() {
            0 => {
                self.err(
                    Code::CheckMissingCheck,
                    format!("clause `{}` says nothing to check", id.name),
                    id.span.clone(),
                    "no `require`, `forbid` or `manual`",
                    "add `require <condition>` (must hold), `forbid <condition>` (must not hold), or `manual` if a machine cannot check it",
                );
                Check::Manual
            }
            1 => checks.pop().map(|(c, _)| c).unwrap_or(Check::Manual),
            _ => {
                let mut diag = Diag::error(
                    Code::CheckConflictingCheck,
                    format!("clause `{}` has more than one `require`/`forbid`", id.name),
                )
                .in_file(self.file);
                for (i, (_, s)) in checks.iter().enumerate() {
                    diag = diag.label(
                        s.clone(),
                        if i == 0 {
                            "first condition"
                        } else {
                            "another condition"
                        },
                    );
                }
                self.errors.push(diag.with_help("a clause has one `require` or `forbid`: combine conditions with `and` (`forbid x` is `require not x`), or split the clause in two"));
                checks.swap_remove(0).0
            }
        }
    }

    fn own_interval(
        &mut self,
        id: &Ident,
        terms: &Interval,
        terms_id: &Ident,
        from: Option<(Date, Span)>,
        until: Option<(Date, Span)>,
    ) -> Option<Interval> {
        if from.is_none() && until.is_none() {
            return None;
        }
        let own = Interval {
            from: from.as_ref().map(|(d, _)| *d).unwrap_or(terms.from),
            until: until.as_ref().map(|(d, _)| *d).or(terms.until),
        };
        let at = from
            .as_ref()
            .or(until.as_ref())
            .map(|(_, s)| s.clone())
            .unwrap_or(id.span.clone());
        if let (Some((f, _)), Some((u, us))) = (&from, &until)
            && u <= f
        {
            self.errors.push(
                Diag::error(
                    Code::CheckUntilBeforeEffective,
                    format!(
                        "clause `{}` ends on {u}, before it takes effect on {f}",
                        id.name
                    ),
                )
                .in_file(self.file)
                .label(us.clone(), "ends here")
                .with_help(
                    "intervals are `[effective, until)`: `until` must be later than `effective`",
                ),
            );
            return None;
        }
        let inside_from = own.from >= terms.from;
        let inside_until = match (own.until, terms.until) {
            (_, None) => true,
            (Some(o), Some(t)) => o <= t,
            (None, Some(_)) => false,
        };
        if !inside_from || !inside_until {
            self.errors.push(
                Diag::error(
                    Code::CheckClauseOutsideTerms,
                    format!("clause `{}` is dated {own}, outside its terms `{}` {}", id.name, terms_id.name, terms),
                )
                .in_file(self.file)
                .label(at, "the clause's own dates")
                .label(terms_id.span.clone(), "its terms")
                .with_help("a clause's `effective`/`until` can only narrow its terms' interval: move the clause to terms in force then, or fix the dates"),
            );
            return terms.intersect(&own);
        }
        Some(own)
    }

    fn lower_message(&mut self, pair: &Pair<'_>) -> Message {
        let raw_pair = pair.clone().into_inner().next();
        let raw = raw_pair.as_ref().map(|p| p.as_str()).unwrap_or("");
        let base = raw_pair.as_ref().map(|p| p.as_span().start()).unwrap_or(0);
        let mut parts = Vec::new();
        let mut text = String::new();
        let mut rest = raw;
        let mut offset = base;
        // INVARIANT: every slice of `rest` below ends at or just after one
        // of its ASCII braces (`open`, `close`, each found in `rest`), so
        // it is in bounds and on char boundaries.
        while let Some(open) = rest.find('{') {
            if rest.get(open + 1..open + 2) == Some("{") {
                text.push_str(&unescape(&rest[..open + 1]));
                rest = &rest[open + 2..];
                offset += open + 2;
                continue;
            }
            text.push_str(&unescape(&rest[..open]));
            let Some(close) = rest.get(open..).and_then(|r| r.find('}')).map(|c| c + open) else {
                self.err(
                    Code::ParseSyntax,
                    "a `{` in the message is not closed",
                    offset + open..offset + open + 1,
                    "opened here",
                    "write `{field}` to insert a field, or `{{` for a literal brace",
                );
                break;
            };
            let hole = rest[open + 1..close].trim();
            let hole_span = offset + open..offset + close + 1;
            match parse_field_path(hole) {
                Some(path) => {
                    if !text.is_empty() {
                        parts.push(MessagePart::Text(std::mem::take(&mut text)));
                    }
                    parts.push(MessagePart::Field(path, hole_span));
                }
                None => self.err(
                    Code::ParseSyntax,
                    format!("`{{{hole}}}` is not a field"),
                    hole_span,
                    "not a field path",
                    "write a field such as `{address}` or `{tags.product}`",
                ),
            }
            rest = &rest[close + 1..];
            offset += close + 1;
        }
        text.push_str(&unescape(rest).replace("}}", "}"));
        if !text.is_empty() {
            parts.push(MessagePart::Text(text));
        }
        Message {
            parts,
            span: span(pair),
        }
    }

    fn lower_example(&mut self, pair: &Pair<'_>) -> Option<Example> {
        let mut title = String::new();
        let mut on = None;
        let mut given = Value::Map(BTreeMap::new());
        let mut expect = Expectation::Violation;
        for p in children(pair) {
            match p.as_rule() {
                Rule::string => title = string_value(&p),
                Rule::given => {
                    if let Some(m) = children(&p).next() {
                        given = self.lower_given(&m);
                    }
                }
                Rule::expect => {
                    expect = match children(&p).next().map(|e| e.as_rule()) {
                        Some(Rule::exp_no_violation) => Expectation::NoViolation,
                        Some(Rule::exp_not_in_force) => Expectation::NotInForce,
                        Some(Rule::exp_unresolved) => Expectation::Unresolved,
                        _ => Expectation::Violation,
                    }
                }
                _ => on = self.lower_date(&p).or(on),
            }
        }
        Some(Example {
            title,
            on: on?,
            given,
            expect,
            span: span(pair),
        })
    }

    fn lower_given(&mut self, pair: &Pair<'_>) -> Value {
        match pair.as_rule() {
            Rule::map_lit => {
                let mut map = BTreeMap::new();
                for entry in children(pair) {
                    let mut it = children(&entry);
                    if let (Some(k), Some(v)) = (it.next(), it.next()) {
                        let key = if k.as_rule() == Rule::string {
                            string_value(&k)
                        } else {
                            k.as_str().to_string()
                        };
                        map.insert(key, self.lower_given(&v));
                    }
                }
                Value::Map(map)
            }
            Rule::list_lit => Value::List(children(pair).map(|v| self.lower_given(&v)).collect()),
            Rule::unknown_lit => Value::unknown(
                "given as `unknown` in the example",
                Some(Origin::new(self.file, span(pair))),
            ),
            _ => self.lower_literal(pair).unwrap_or(Value::Null),
        }
    }

    fn lower_literal(&mut self, pair: &Pair<'_>) -> Option<Value> {
        let text = pair.as_str();
        Some(match pair.as_rule() {
            Rule::string => Value::str(&string_value(pair)),
            Rule::number => Value::Num(text.parse().ok()?),
            Rule::percent => Value::Num(text.trim_end_matches('%').parse::<f64>().ok()? / 100.0),
            Rule::boolean => Value::Bool(text == "true"),
            Rule::date_lit | Rule::bad_date => Value::Date(self.lower_date(pair)?),
            Rule::size => {
                let mut it = pair.clone().into_inner();
                let n: f64 = it.next()?.as_str().parse().ok()?;
                let unit_pair = it.next()?;
                let unit = unit_pair.as_str();
                match SIZE_UNITS.iter().find(|(u, _)| *u == unit) {
                    Some((_, factor)) => Value::Num(n * factor),
                    None => {
                        let names: Vec<&str> = SIZE_UNITS.iter().map(|(u, _)| *u).collect();
                        let close = SIZE_UNITS
                            .iter()
                            .find(|(u, _)| u.eq_ignore_ascii_case(unit))
                            .map(|(u, _)| *u);
                        let help = match close {
                            Some(c) => format!("units are case-sensitive: write `{c}`"),
                            None => format!(
                                "a size is a number and one of the units {}",
                                names.join(", ")
                            ),
                        };
                        self.err(
                            Code::ParseBadSize,
                            format!("`{unit}` is not a size unit"),
                            span(&unit_pair),
                            "unknown unit",
                            help,
                        );
                        return None;
                    }
                }
            }
            Rule::cidr4 | Rule::cidr6 => match Cidr::parse(text) {
                Ok(c) => Value::Cidr(c),
                Err(why) => {
                    self.err(
                        Code::ParseBadCidr,
                        format!("`{text}` is not an IP network"),
                        span(pair),
                        "invalid network",
                        why,
                    );
                    return None;
                }
            },
            _ => return None,
        })
    }

    pub fn lower_expr(&mut self, pair: &Pair<'_>) -> Expr {
        let sp = span(pair);
        let kind = match pair.as_rule() {
            Rule::expr | Rule::paren => match children(pair).next() {
                Some(inner) => return self.lower_expr(&inner),
                None => ExprKind::Literal(Value::Null),
            },
            Rule::or_expr | Rule::and_expr => {
                let mut items: Vec<Expr> = children(pair).map(|p| self.lower_expr(&p)).collect();
                if items.len() == 1
                    && let Some(only) = items.pop()
                {
                    return only;
                }
                if pair.as_rule() == Rule::or_expr {
                    ExprKind::Or(items)
                } else {
                    ExprKind::And(items)
                }
            }
            Rule::not_expr => {
                let mut it = pair.clone().into_inner();
                match it.next() {
                    Some(first) if first.as_rule() == Rule::kw_not => match it.next() {
                        Some(inner) => ExprKind::Not(Box::new(self.lower_expr(&inner))),
                        None => ExprKind::Literal(Value::Null),
                    },
                    Some(first) => return self.lower_expr(&first),
                    None => ExprKind::Literal(Value::Null),
                }
            }
            Rule::comparison => return self.lower_comparison(pair),
            Rule::set => ExprKind::Set(children(pair).map(|p| self.lower_expr(&p)).collect()),
            Rule::path => ExprKind::Field(path_of(pair)),
            _ => ExprKind::Literal(self.lower_literal(pair).unwrap_or(Value::Null)),
        };
        Expr { kind, span: sp }
    }

    fn lower_comparison(&mut self, pair: &Pair<'_>) -> Expr {
        let sp = span(pair);
        let mut it = pair
            .clone()
            .into_inner()
            .filter(|p| p.as_rule() != Rule::EOI);
        let Some(first) = it.next() else {
            return Expr {
                kind: ExprKind::Literal(Value::Null),
                span: sp,
            };
        };
        let lhs = self.lower_expr(&first);
        let Some(op) = it.next() else { return lhs };
        let rhs_pair = it.next();
        let lhs = Box::new(lhs);
        let rhs = |me: &mut Self| {
            Box::new(rhs_pair.as_ref().map(|r| me.lower_expr(r)).unwrap_or(Expr {
                kind: ExprKind::Literal(Value::Null),
                span: sp.clone(),
            }))
        };
        let kind = match op.as_rule() {
            Rule::cmp_op => {
                let op_kind = match op.as_str() {
                    "==" => CmpOp::Eq,
                    "!=" => CmpOp::Ne,
                    "<" => CmpOp::Lt,
                    "<=" => CmpOp::Le,
                    ">" => CmpOp::Gt,
                    _ => CmpOp::Ge,
                };
                ExprKind::Compare(lhs, op_kind, rhs(self))
            }
            Rule::bad_eq => {
                self.err(
                    Code::ParseSingleEquals,
                    "`=` is not a comparison",
                    span(&op),
                    "a single `=`",
                    format!(
                        "to compare, write `==`: `{} == {}`",
                        first.as_str().trim(),
                        rhs_pair.as_ref().map(|r| r.as_str().trim()).unwrap_or("…")
                    ),
                );
                ExprKind::Compare(lhs, CmpOp::Eq, rhs(self))
            }
            Rule::not_in => ExprKind::In {
                negated: true,
                lhs,
                rhs: rhs(self),
            },
            Rule::kw_in => ExprKind::In {
                negated: false,
                lhs,
                rhs: rhs(self),
            },
            Rule::kw_matches => ExprKind::Matches(lhs, rhs(self)),
            Rule::tilde => {
                let Some(re_pair) = rhs_pair else {
                    return Expr {
                        kind: ExprKind::Literal(Value::Null),
                        span: sp,
                    };
                };
                let raw = re_pair.as_str();
                let body = raw
                    .get(1..raw.len().saturating_sub(1))
                    .unwrap_or("")
                    .replace("\\/", "/");
                match regex::Regex::new(&body) {
                    Ok(re) => ExprKind::Regex(lhs, Arc::new(re)),
                    Err(e) => {
                        let why = e.to_string();
                        let last = why
                            .lines()
                            .rev()
                            .find(|l| !l.trim().is_empty())
                            .unwrap_or("invalid regex")
                            .trim()
                            .trim_start_matches("error: ")
                            .to_string();
                        self.err(Code::ParseBadRegex, format!("`{raw}` is not a valid regex"), span(&re_pair), &last, "the pattern uses the `regex` crate's syntax (no look-around or back-references); escape literal `(`, `.`, `/` with `\\`");
                        ExprKind::Literal(Value::Bool(false))
                    }
                }
            }
            Rule::exists => ExprKind::Exists(lhs),
            _ => return *lhs,
        };
        Expr { kind, span: sp }
    }
}

/// Whether an example is written the way an aggregate clause's are: a
/// list of records, a parameter, or an `expect … for "group"`.
fn example_is_aggregate(pair: &Pair<'_>) -> bool {
    children(pair).any(|p| match p.as_rule() {
        Rule::with_param => true,
        Rule::given => children(&p)
            .next()
            .is_some_and(|g| g.as_rule() == Rule::list_lit),
        Rule::expect => children(&p).any(|x| x.as_rule() == Rule::string),
        _ => false,
    })
}

/// The field path of a `path` pair.
fn path_of(pair: &Pair<'_>) -> FieldPath {
    FieldPath(
        pair.clone()
            .into_inner()
            .map(|seg| {
                if seg.as_rule() == Rule::string {
                    string_value(&seg)
                } else {
                    seg.as_str().to_string()
                }
            })
            .collect(),
    )
}

/// Parses a message hole such as `tags.product` or `tags["api-mode"]`.
pub fn parse_field_path(text: &str) -> Option<FieldPath> {
    let mut segs = Vec::new();
    let mut rest = text;
    let take_name = |s: &str| -> Option<(String, usize)> {
        // ASCII characters: as many bytes as characters.
        let name: String = s
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        let end = name.len();
        (end > 0).then_some((name, end))
    };
    let (first, n) = take_name(rest)?;
    segs.push(first);
    rest = rest.get(n..)?;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            let (name, n) = take_name(r)?;
            segs.push(name);
            rest = r.get(n..)?;
        } else if let Some(r) = rest.strip_prefix("[\"") {
            let close = r.find("\"]")?;
            segs.push(r.get(..close)?.to_string());
            rest = r.get(close + 2..)?;
        } else {
            return None;
        }
    }
    Some(FieldPath(segs))
}

/// Guesses the intended `YYYY-MM-DD` of a date written another way.
fn guess_date(text: &str) -> Option<String> {
    let parts: Vec<&str> = text.split(['-', '/', '.']).collect();
    let [a, b, c] = parts.as_slice() else {
        return None;
    };
    let (y, m, d) = if a.len() == 4 {
        (
            a.parse::<i32>().ok()?,
            b.parse::<u32>().ok()?,
            c.parse::<u32>().ok()?,
        )
    } else if c.len() == 4 {
        // Day first, as most of the world writes it.
        (
            c.parse::<i32>().ok()?,
            b.parse::<u32>().ok()?,
            a.parse::<u32>().ok()?,
        )
    } else {
        return None;
    };
    Date::from_ymd(y, m, d).ok().map(|d| d.to_string())
}
