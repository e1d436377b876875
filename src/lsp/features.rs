//! What `proviso lsp` answers: diagnostics, hover, definition, references,
//! rename, completion, formatting, document symbols, code actions and code
//! lenses, each from an [`Analysis`] of the document's rule set.
//!
//! The words are `explain`'s ([`crate::explain::english`]) and the CLI's
//! (codes and help of [`crate::diag::Diag`]); nothing here re-reads the
//! rule language, except completion, which must work on a line being typed
//! (that does not parse): it looks at the words before the cursor and at
//! which `{ … }` block encloses it.

use super::analysis::{Analysis, Kind, Occurrence};
use super::position::{Encoding, LineIndex};
use crate::date::{Date, Interval};
use crate::diag::{Code, Diag, Level};
use crate::explain::english::{self, Markup};
use crate::rules::ast::{Clause, Expectation, ExprKind, Span, Terms};
use crate::rules::examples::ExampleResult;
use crate::source::SourceFile;
use lsp_server::ErrorCode;
use serde_json::{Value as Json, json};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

/// What a request is about: one document of an analysed rule set.
pub struct Ctx {
    pub uri: String,
    /// The document's name in the set.
    pub name: String,
    pub text: Arc<str>,
    pub lines: Arc<LineIndex>,
    pub enc: Encoding,
    pub analysis: Arc<Analysis>,
    /// The last analysis in which every file of the set parsed (the
    /// current one if it did): the names completion offers.
    pub names: Arc<Analysis>,
    /// The URI of each file of the set, by name.
    pub uris: HashMap<String, String>,
    pub all_lines: HashMap<String, Arc<LineIndex>>,
    /// The document's directory (where `proviso.yaml` is looked for).
    pub dir: Option<PathBuf>,
}

type Handled = Result<Json, (i32, String)>;

impl Ctx {
    fn range(&self, span: &Span) -> Json {
        json!(self.lines.range(&self.text, span, self.enc))
    }

    /// A location in any file of the set.
    fn location(&self, file: &str, span: &Span) -> Option<Json> {
        let f = self.analysis.file(file)?;
        let uri = self.uris.get(file)?;
        let lines = self
            .all_lines
            .get(file)
            .cloned()
            .unwrap_or_else(|| Arc::new(LineIndex::new(&f.text)));
        Some(json!({"uri": uri, "range": lines.range(&f.text, span, self.enc)}))
    }

    /// `file:line` of a span, for hover text.
    fn line_of(&self, file: &str, span: &Span) -> String {
        let Some(f) = self.analysis.file(file) else {
            return file.to_string();
        };
        let (line, _) = f.line_col(span.start);
        let short = std::path::Path::new(&f.name)
            .file_name()
            .map_or_else(|| f.name.clone(), |n| n.to_string_lossy().into_owned());
        format!("{short}:{line}")
    }
}

fn severity(level: Level) -> u8 {
    match level {
        Level::Error => 1,
        Level::Warning => 2,
        Level::Advice => 3,
    }
}

/// A CLI diagnostic as an LSP one: the primary label's range, the code and
/// message, the help after the message, and the other labels (in this
/// file) and related notes (in other files) as related information.
pub fn diagnostic(
    d: &Diag,
    text: &str,
    lines: &LineIndex,
    enc: Encoding,
    uris: &HashMap<String, String>,
    all_lines: &HashMap<String, Arc<LineIndex>>,
    analysis: &Analysis,
) -> Json {
    let primary = d.labels.first().map(|(s, _)| s.clone()).unwrap_or(0..0);
    let mut message = d.message.clone();
    if let Some((_, Some(label))) = d.labels.first() {
        message.push_str(&format!(" ({label})"));
    }
    if let Some(h) = &d.help {
        message.push_str("\nhelp: ");
        message.push_str(h);
    }
    let mut related = Vec::new();
    let here = d.file.as_ref().map(|f| f.name.clone()).unwrap_or_default();
    for (span, label) in d.labels.iter().skip(1) {
        if let Some(uri) = uris.get(&here) {
            related.push(json!({
                "location": {"uri": uri, "range": lines.range(text, span, enc)},
                "message": label.clone().unwrap_or_else(|| "here".into()),
            }));
        }
    }
    for r in &d.related {
        let Some(f) = &r.file else { continue };
        let Some(uri) = uris.get(&f.name) else {
            continue;
        };
        let other_lines = all_lines
            .get(&f.name)
            .cloned()
            .unwrap_or_else(|| Arc::new(LineIndex::new(&f.text)));
        let ftext = analysis
            .file(&f.name)
            .map_or_else(|| f.text.clone(), |x| x.text.clone());
        for (span, label) in &r.labels {
            related.push(json!({
                "location": {"uri": uri, "range": other_lines.range(&ftext, span, enc)},
                "message": match label { Some(l) => format!("{}: {l}", r.message), None => r.message.clone() },
            }));
        }
    }
    let mut out = json!({
        "range": lines.range(text, &primary, enc),
        "severity": severity(d.level),
        "code": d.code.to_string(),
        "source": "proviso",
        "message": message,
    });
    if !related.is_empty() {
        set(&mut out, "relatedInformation", json!(related));
    }
    out
}

/// Sets a key of a JSON object (nothing if it is not one).
pub fn set(v: &mut Json, key: &str, value: Json) {
    if let Some(o) = v.as_object_mut() {
        o.insert(key.to_string(), value);
    }
}

fn markdown(value: String) -> Json {
    json!({"contents": {"kind": "markdown", "value": value}})
}

/// The identifier or date under the cursor, and its span.
fn word_at(text: &str, offset: usize) -> Option<(Span, &str)> {
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    let mut start = offset.min(text.len());
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    let mut end = start;
    while let Some(c) = text.get(..start).and_then(|s| s.chars().next_back()) {
        if !is_word(c) {
            break;
        }
        start -= c.len_utf8();
    }
    while let Some(c) = text.get(end..).and_then(|s| s.chars().next()) {
        if !is_word(c) {
            break;
        }
        end += c.len_utf8();
    }
    (start < end).then(|| (start..end, text.get(start..end).unwrap_or("")))
}

pub fn hover(ctx: &Ctx, offset: usize, _: &Json) -> Handled {
    let a = &ctx.analysis;
    if let Some(o) = a.at(&ctx.name, offset) {
        let text = match &o.kind {
            Kind::Define => hover_define(ctx, o),
            Kind::Clause => hover_clause(ctx, o),
            Kind::Field(path) => hover_field(ctx, path),
            Kind::Param => hover_param(ctx, o),
            Kind::Terms => hover_terms(ctx, o),
            Kind::Source => hover_source(ctx, o),
            Kind::Exception => hover_exception(ctx, o),
            Kind::Figure => hover_figure(ctx, o),
        };
        if let Some(t) = text {
            let mut h = markdown(t);
            set(&mut h, "range", ctx.range(&o.span));
            return Ok(h);
        }
    }
    if let Some((span, text)) = hover_period(ctx, offset) {
        let mut h = markdown(text);
        set(&mut h, "range", ctx.range(&span));
        return Ok(h);
    }
    // A field named in an example's records (`given { cloud: "aws" }`):
    // the records hold no spans, so it is found in the text.
    if let Some((span, word)) = word_at(&ctx.text, offset)
        && ctx
            .text
            .get(span.end..)
            .is_some_and(|rest| rest.trim_start_matches([' ', '\t']).starts_with(':'))
        && blocks(&ctx.text, offset).iter().any(|b| b == "example")
        && let Some(t) = hover_field(ctx, &crate::value::FieldPath(vec![word.to_string()]))
    {
        let mut h = markdown(t);
        set(&mut h, "range", ctx.range(&span));
        return Ok(h);
    }
    if let Some((span, word)) = word_at(&ctx.text, offset)
        && word.len() == 10
        && let Ok(date) = Date::parse(word)
    {
        let mut h = markdown(hover_date(ctx, date));
        set(&mut h, "range", ctx.range(&span));
        return Ok(h);
    }
    Ok(Json::Null)
}

/// A period an aggregate clause groups by (`per month`): what a group is
/// and how its key is written.
fn hover_period(ctx: &Ctx, offset: usize) -> Option<(Span, String)> {
    use crate::rules::ast::{GroupKey, Period};
    let inside = |s: &Span| s.start <= offset && offset <= s.end;
    let (period, span) = ctx
        .analysis
        .rules
        .terms
        .iter()
        .filter(|t| t.file.name == ctx.name && inside(&t.span))
        .flat_map(|t| &t.clauses)
        .filter(|c| inside(&c.span))
        .filter_map(|c| c.aggregate.as_deref())
        .flat_map(|a| &a.per)
        .find_map(|k| match k {
            GroupKey::Period(p, s) if inside(s) => Some((*p, s.clone())),
            _ => None,
        })?;
    let what = match period {
        Period::Day => "UTC day",
        Period::Month => "calendar month",
        Period::Quarter => "calendar quarter",
        Period::Year => "calendar year",
    };
    let example = Date::parse("2026-04-27").map_or_else(|_| String::new(), |d| period.key(d));
    Some((
        span,
        format!(
            "**group key `{}`**\n\nThe records are grouped by the {what} (UTC) of their timestamp; a group's key is written `{example}` (`{{period}}` in a message).",
            period.as_str()
        ),
    ))
}

/// Up to ten names, then how many more.
fn some(names: &[String]) -> String {
    let shown: Vec<&str> = names.iter().take(10).map(String::as_str).collect();
    let more = names.len().saturating_sub(10);
    if more > 0 {
        format!("{} and {more} more", shown.join(", "))
    } else {
        shown.join(", ")
    }
}

fn uses(ctx: &Ctx, o: &Occurrence) -> Vec<String> {
    let mut owners: Vec<String> = Vec::new();
    for x in ctx.analysis.all_of(o).filter(|x| !x.decl) {
        if let Some(w) = &x.owner
            && !owners.contains(w)
        {
            owners.push(w.clone());
        }
    }
    owners
}

fn used_line(ctx: &Ctx, o: &Occurrence) -> String {
    let owners = uses(ctx, o);
    if owners.is_empty() {
        "Not used by any clause or define.".into()
    } else {
        format!("Used by {}.", some(&owners))
    }
}

fn hover_define(ctx: &Ctx, o: &Occurrence) -> Option<String> {
    let rules = &ctx.analysis.rules;
    let d = rules.defines.iter().find(|d| d.id.name == o.key)?;
    let english = match &d.value.kind {
        ExprKind::Set(items) => {
            let members: Vec<String> = rules
                .set_members(items)
                .iter()
                .map(|m| match &m.kind {
                    ExprKind::Literal(v) => v
                        .as_str()
                        .map_or_else(|| format!("{v:?}"), |s| format!("\"{s}\"")),
                    _ => english::phrase(m, rules, Markup::Markdown),
                })
                .collect();
            format!("One of {} values: {}", members.len(), some(&members))
        }
        _ => english::capitalize(&english::phrase(&d.value, rules, Markup::Markdown)),
    };
    // The author's phrase is what `explain` says instead of the name.
    let phrase = d
        .phrase
        .as_ref()
        .map(|p| format!("`explain` calls it \"{p}\".\n\n"))
        .unwrap_or_default();
    Some(format!(
        "**define `{}`**\n\n{english}.\n\n{phrase}{}\n\nDeclared in {}.",
        d.id.name,
        used_line(ctx, o),
        ctx.line_of(&d.file.name, &d.id.span)
    ))
}

fn hover_figure(ctx: &Ctx, o: &Occurrence) -> Option<String> {
    let mut parts = o.key.splitn(3, '/');
    let (t, c, name) = (parts.next()?, parts.next()?, parts.next()?);
    let (terms, clause) = find_clause(ctx, &format!("{t}/{c}"))?;
    let agg = clause.aggregate.as_deref()?;
    let i = agg.figures.iter().position(|f| f.id.name == name)?;
    let (what, each) =
        crate::explain::aggregate::figure(&ctx.analysis.rules, terms, agg, i, Markup::Markdown)?;
    Some(format!(
        "**figure `{name}`** of clause `{c}`\n\nFor {each}: {what}.\n\n{}",
        used_line(ctx, o)
    ))
}

fn find_clause<'a>(ctx: &'a Ctx, key: &str) -> Option<(&'a Terms, &'a Clause)> {
    let (t, c) = key.split_once('/')?;
    ctx.analysis
        .rules
        .clauses()
        .find(|(terms, clause)| terms.id.name == t && clause.id.name == c)
}

fn period(iv: Option<Interval>) -> String {
    english::capitalize(&crate::explain::text::period_text(iv))
}

fn hover_clause(ctx: &Ctx, o: &Occurrence) -> Option<String> {
    let rules = &ctx.analysis.rules;
    let (terms, clause) = find_clause(ctx, &o.key)?;
    let title = clause
        .title
        .clone()
        .unwrap_or_else(|| english::humanize(&clause.id.name));
    let iv = rules
        .terms_in_force_interval(terms)
        .and_then(|iv| iv.intersect(&clause.interval(terms)));
    let sentence = match (&clause.aggregate, iv) {
        (Some(agg), Some(iv)) => crate::explain::aggregate::sentence(
            rules,
            terms,
            clause,
            agg,
            Some(&iv),
            Markup::Markdown,
        ),
        _ => {
            let logic = crate::explain::logic(rules, terms, clause, Markup::Markdown);
            let mut chars = logic.chars();
            let lowered = chars
                .next()
                .map(|c| c.to_lowercase().collect::<String>() + chars.as_str())
                .unwrap_or_default();
            format!("{}, {lowered}", period(iv))
        }
    };
    let mut cites = Vec::new();
    for c in &clause.cites {
        let src = rules.source(&c.source.name);
        let title = src
            .and_then(|s| s.title.clone())
            .unwrap_or_else(|| c.source.name.clone());
        let date = src
            .and_then(|s| s.dated)
            .map(|d| format!(", {d}"))
            .unwrap_or_default();
        let section = c
            .section_label()
            .map(|s| format!(" {s}"))
            .unwrap_or_default();
        cites.push(match &c.text {
            Some(t) => format!("- \"{t}\" — {title}{section}{date}"),
            None => format!("- {title}{section}{date}"),
        });
    }
    // The author's own words, where the clause has them.
    let mut words = String::new();
    if let Some(p) = &clause.phrase {
        words.push_str(&format!("**In the author's words:** {p}\n\n"));
    }
    if let Some(e) = &clause.evidence {
        words.push_str(&format!("**Evidence:** {e}\n\n"));
    }
    let examples =
        clause.examples.len() + clause.aggregate.as_ref().map_or(0, |a| a.examples.len());
    let terms_title = terms
        .title
        .as_ref()
        .map(|t| format!(" ({t})"))
        .unwrap_or_default();
    Some(format!(
        "**clause `{}`** — {title}\n\n{sentence}\n\n{words}**Cites**\n{}\n\n**Terms** `{}`{terms_title}: {}.\n\nSeverity {}; {examples} example{}.",
        clause.id.name,
        if cites.is_empty() {
            "- nothing".to_string()
        } else {
            cites.join("\n")
        },
        terms.id.name,
        crate::explain::text::period_text(iv),
        if clause.is_manual() {
            "manual".to_string()
        } else {
            clause.severity.as_str().to_string()
        },
        if examples == 1 { "" } else { "s" },
    ))
}

fn hover_field(ctx: &Ctx, path: &crate::value::FieldPath) -> Option<String> {
    use crate::rules::fields::{self, Origin};
    let rules = &ctx.analysis.rules;
    let declared: Vec<crate::value::FieldPath> =
        rules.fields.iter().map(|f| f.path.clone()).collect();
    let root = path.root();
    let body = match fields::origin(path, &declared)? {
        Origin::Vocabulary => {
            let f = fields::known_field(root)?;
            let inputs = match (f.terraform, f.logs) {
                (true, true) => {
                    "Terraform (every resource, data source and module) and every log format (alb, cloudfront, nginx, azure-frontdoor, aws-apigateway, azure-appgateway, JSON lines, CSV, Parquet)"
                }
                (true, false) => "Terraform only; log records do not have it",
                (false, true) => {
                    "the log formats (alb, cloudfront, nginx, azure-frontdoor, aws-apigateway, azure-appgateway, JSON lines, CSV, Parquet); Terraform does not have it"
                }
                (false, false) => "no input",
            };
            let extra = if f.about.contains("--ip-ranges") {
                " Filled only when `--ip-ranges` is given."
            } else {
                ""
            };
            format!(
                "What it is: {}.\n\nFilled by {inputs}.{extra}",
                f.about.trim_end_matches(['.', '…', ' ', '/'])
            )
        }
        Origin::Namespace(ns) => {
            let about = fields::OPEN_NAMESPACES
                .iter()
                .find(|n| n.name == ns)
                .map_or("", |n| n.about);
            let how = match ns {
                "tags" => {
                    "Filled by Terraform: AWS and Azure `tags`, Google `labels`, AWS provider `default_tags`; log records have no tags."
                }
                "attributes" => {
                    "Filled by Terraform: the block's own arguments, as written or as the plan resolves them."
                }
                _ => "Filled by Azure log records (Front Door, Application Gateway).",
            };
            format!(
                "{}; the keys are your own.\n\n{how}",
                english::capitalize(about)
            )
        }
        Origin::Format(formats) => format!(
            "A log format's own field, filled by: {formats}.\n\nTerraform does not have it; other log formats leave it absent (a comparison with it is then false)."
        ),
        Origin::Declared => {
            let decl = rules
                .fields
                .iter()
                .find(|f| path.0.starts_with(&f.path.0))?;
            let about = decl
                .about
                .clone()
                .unwrap_or_else(|| "declared by the rule files".into());
            let ty = match &decl.ty {
                Some(crate::rules::ast::FieldType::Decimal) => {
                    " It is an exact decimal.".to_string()
                }
                Some(crate::rules::ast::FieldType::OneOf(v)) => format!(
                    " It is one of {}.",
                    v.iter()
                        .map(|s| format!("`{s}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                None => String::new(),
            };
            format!(
                "{}.{ty}\n\nDeclared with `field` in {}: read from JSON-lines, CSV and Parquet exports and ledgers that carry it; Terraform does not have it.",
                english::capitalize(&about),
                ctx.line_of(&decl.file.name, &decl.span)
            )
        }
    };
    Some(format!("**field `{path}`**\n\n{body}"))
}

fn hover_param(ctx: &Ctx, o: &Occurrence) -> Option<String> {
    let p = ctx
        .analysis
        .rules
        .params
        .iter()
        .find(|p| p.id.name == o.key)?;
    let about = p
        .about
        .clone()
        .map(|a| format!("{a}.\n\n"))
        .unwrap_or_default();
    let config = ctx.dir.as_deref().and_then(crate::cli::config::discover);
    let set = match &config {
        None => format!(
            "No `proviso.yaml` above this file sets it: supply it with `--param {}=…`; unsupplied, it is unknown and clauses that read it are unresolved.",
            p.id.name
        ),
        Some(path) => match crate::cli::config::load(path) {
            Ok(c) => match c.params.iter().rev().find(|(n, _)| *n == p.id.name) {
                Some((_, v)) => format!(
                    "`{}` sets it to `{v}` (`--param` overrides).",
                    path.display()
                ),
                None => format!(
                    "`{}` does not set it: supply it under `params:` or with `--param {}=…`.",
                    path.display(),
                    p.id.name
                ),
            },
            Err(d) => format!("`{}` cannot be read: {}", path.display(), d.message),
        },
    };
    Some(format!(
        "**param `{}`**: {}\n\n{about}{set}\n\n{}",
        p.id.name,
        p.ty.as_str(),
        used_line(ctx, o)
    ))
}

fn hover_terms(ctx: &Ctx, o: &Occurrence) -> Option<String> {
    let rules = &ctx.analysis.rules;
    let t = rules.terms.iter().find(|t| t.id.name == o.key)?;
    let title = t
        .title
        .as_ref()
        .map(|t| format!(" — {t}"))
        .unwrap_or_default();
    let sup = t
        .supersedes
        .as_ref()
        .map(|s| format!(" Supersede `{}`.", s.name))
        .unwrap_or_default();
    Some(format!(
        "**terms `{}`**{title}\n\nIn force {}.{sup} {} clause{}, {} exception{}.",
        t.id.name,
        crate::explain::text::period_text(rules.terms_in_force_interval(t)),
        t.clauses.len(),
        if t.clauses.len() == 1 { "" } else { "s" },
        t.exceptions.len(),
        if t.exceptions.len() == 1 { "" } else { "s" },
    ))
}

fn hover_source(ctx: &Ctx, o: &Occurrence) -> Option<String> {
    let s = ctx.analysis.rules.source(&o.key)?;
    let title = s
        .title
        .clone()
        .unwrap_or_else(|| english::humanize(&s.id.name));
    let dated = s
        .dated
        .map(|d| format!(", dated {}", d.long()))
        .unwrap_or_default();
    let owners = uses(ctx, o);
    Some(format!(
        "**source `{}`** — {title}{dated}\n\n{}",
        s.id.name,
        if owners.is_empty() {
            "Cited by nothing.".to_string()
        } else {
            format!("Cited by {}.", some(&owners))
        }
    ))
}

fn hover_exception(ctx: &Ctx, o: &Occurrence) -> Option<String> {
    let rules = &ctx.analysis.rules;
    let (t, name) = o.key.split_once('/')?;
    let terms = rules.terms.iter().find(|x| x.id.name == t)?;
    let x = terms.exceptions.iter().find(|x| x.id.name == name)?;
    let title = x.title.clone().unwrap_or_else(|| english::humanize(name));
    let when = x
        .when
        .as_ref()
        .map(|w| {
            format!(
                "Applies when {}.",
                english::phrase(w, rules, Markup::Markdown)
            )
        })
        .unwrap_or_default();
    Some(format!(
        "**exception `{name}`** of terms `{t}` — {title}\n\n{when}\n\n{}",
        used_line(ctx, o)
    ))
}

fn hover_date(ctx: &Ctx, date: Date) -> String {
    let rules = &ctx.analysis.rules;
    let mut lines = Vec::new();
    for t in &rules.terms {
        let Some(iv) = rules.terms_in_force_interval(t) else {
            continue;
        };
        if !iv.contains(date) {
            continue;
        }
        let n = t
            .clauses
            .iter()
            .filter(|c| rules.clause_in_force(t, c, date))
            .count();
        let title = t
            .title
            .as_ref()
            .map(|t| format!(" ({t})"))
            .unwrap_or_default();
        lines.push(format!(
            "- terms `{}`{title}: {n} clause{} in force, {}",
            t.id.name,
            if n == 1 { "" } else { "s" },
            crate::explain::text::period_text(Some(iv))
        ));
    }
    let body = if lines.is_empty() {
        "No terms are in force on that day.".to_string()
    } else {
        format!("In force on that day:\n{}", lines.join("\n"))
    };
    format!("**{}** ({date})\n\n{body}", date.long())
}

fn occurrence_or_null(ctx: &Ctx, offset: usize) -> Option<&Occurrence> {
    ctx.analysis.at(&ctx.name, offset)
}

pub fn definition(ctx: &Ctx, offset: usize, _: &Json) -> Handled {
    let Some(o) = occurrence_or_null(ctx, offset) else {
        return Ok(Json::Null);
    };
    let targets: Vec<Json> = ctx
        .analysis
        .all_of(o)
        .filter(|x| x.decl)
        .filter_map(|x| ctx.location(&x.file, &x.span))
        .collect();
    if targets.is_empty() {
        // A field: where the rule set declares it, if it does.
        if let Kind::Field(path) = &o.kind
            && let Some(f) = ctx
                .analysis
                .rules
                .fields
                .iter()
                .find(|f| path.0.starts_with(&f.path.0))
        {
            return Ok(ctx
                .location(&f.file.name, &f.span)
                .map_or(Json::Null, |l| json!([l])));
        }
        return Ok(Json::Null);
    }
    Ok(json!(targets))
}

pub fn references(ctx: &Ctx, offset: usize, params: &Json) -> Handled {
    let Some(o) = occurrence_or_null(ctx, offset) else {
        return Ok(Json::Null);
    };
    let with_decl = params
        .pointer("/context/includeDeclaration")
        .and_then(Json::as_bool)
        .unwrap_or(true);
    let mut found: Vec<&Occurrence> = ctx
        .analysis
        .all_of(o)
        .filter(|x| with_decl || !x.decl)
        .collect();
    found.sort_by(|a, b| (&a.file, a.span.start).cmp(&(&b.file, b.span.start)));
    Ok(json!(
        found
            .iter()
            .filter_map(|x| ctx.location(&x.file, &x.span))
            .collect::<Vec<_>>()
    ))
}

pub fn prepare_rename(ctx: &Ctx, offset: usize, _: &Json) -> Handled {
    match occurrence_or_null(ctx, offset) {
        Some(o) if o.kind.renamable() => Ok(json!({
            "range": ctx.range(&o.span),
            "placeholder": o.key.rsplit('/').next().unwrap_or(&o.key),
        })),
        _ => Ok(Json::Null),
    }
}

fn is_ident(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

pub fn rename(ctx: &Ctx, offset: usize, params: &Json) -> Handled {
    let new = params
        .get("newName")
        .and_then(Json::as_str)
        .ok_or_else(|| (ErrorCode::InvalidParams as i32, "no newName".to_string()))?;
    let Some(o) = occurrence_or_null(ctx, offset) else {
        return Err((
            ErrorCode::RequestFailed as i32,
            "there is no name to rename here".into(),
        ));
    };
    if !o.kind.renamable() {
        return Err((
            ErrorCode::RequestFailed as i32,
            format!(
                "a {} is not renamed from the editor: {}",
                o.kind.word(),
                if o.kind == Kind::Clause {
                    "waivers, baselines and findings name clauses too"
                } else {
                    "its name is the inputs'"
                }
            ),
        ));
    }
    // The grammar decides what a name is (a keyword is not one).
    let probe = SourceFile::new("rename", format!("define {new} = cloud exists\n"));
    if !is_ident(new) || crate::rules::parse::parse_file(&probe).is_err() {
        return Err((
            ErrorCode::InvalidParams as i32,
            format!(
                "`{new}` is not a name: use letters, digits and `_`, starting with a letter, and not a keyword"
            ),
        ));
    }
    let mut changes: HashMap<String, Vec<Json>> = HashMap::new();
    for x in ctx.analysis.all_of(o) {
        let (Some(uri), Some(loc)) = (ctx.uris.get(&x.file), ctx.location(&x.file, &x.span)) else {
            continue;
        };
        changes.entry(uri.clone()).or_default().push(
            json!({"range": loc.get("range").cloned().unwrap_or(Json::Null), "newText": new}),
        );
    }
    Ok(json!({ "changes": changes }))
}

/// Tag keys of the bundled Terraform fixtures (`fixtures/terraform`), the
/// house convention of CONTRACT.md; a test keeps the list in step.
pub const FIXTURE_TAG_KEYS: &[&str] = &[
    "Name",
    "api-mode",
    "channel",
    "data-class",
    "environment",
    "managed-by",
    "model-vendor",
    "product",
    "region-role",
    "replica",
    "segment",
    "site",
    "workload",
];

const TOP_KEYWORDS: &[&str] = &["agreement", "source", "define", "field", "param", "terms"];
const TERMS_KEYWORDS: &[&str] = &["clause", "exception"];
const CLAUSE_KEYWORDS: &[&str] = &[
    "cite",
    "severity",
    "applies to",
    "require",
    "forbid",
    "except",
    "unless",
    "message",
    "example",
    "manual",
    "effective",
    "until",
    "per",
    "over",
    "let",
];
const EXCEPTION_KEYWORDS: &[&str] = &["cite", "when"];
const EXAMPLE_KEYWORDS: &[&str] = &["given", "expect", "with"];
const EXPR_KEYWORDS: &[&str] = &["and", "or", "not", "in", "matches", "exists"];

/// The keyword of each `{` open before `offset`, outermost first (strings
/// and comments skipped; a brace of a set or a record gives `{`).
fn blocks(text: &str, offset: usize) -> Vec<String> {
    let bytes = text.as_bytes();
    let end = offset.min(bytes.len());
    let mut stack: Vec<String> = Vec::new();
    let mut i = 0;
    let mut line_start = 0;
    while i < end {
        let Some(&b) = bytes.get(i) else { break };
        match b {
            b'\n' => line_start = i + 1,
            b'"' => {
                i += 1;
                while i < end {
                    match bytes.get(i) {
                        Some(b'\\') => i += 1,
                        Some(b'"') | Some(b'\n') | None => break,
                        _ => {}
                    }
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < end && bytes.get(i) != Some(&b'\n') {
                    i += 1;
                }
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i < end && !(bytes.get(i) == Some(&b'*') && bytes.get(i + 1) == Some(&b'/')) {
                    i += 1;
                }
                i += 1;
            }
            b'{' => {
                let line = text.get(line_start..i).unwrap_or("").trim_start();
                let word = line.split_whitespace().next().unwrap_or("");
                let kind = match word {
                    "terms" | "clause" | "exception" | "example" if !line.contains('=') => word,
                    _ => "{",
                };
                stack.push(kind.to_string());
            }
            b'}' => {
                stack.pop();
            }
            _ => {}
        }
        i += 1;
    }
    stack
}

fn item(label: &str, kind: u8, detail: String) -> Json {
    json!({"label": label, "kind": kind, "detail": detail})
}

pub fn completion(ctx: &Ctx, offset: usize, _: &Json) -> Handled {
    const KEYWORD: u8 = 14;
    const VARIABLE: u8 = 6;
    const FIELD: u8 = 5;
    const CONSTANT: u8 = 21;
    const EVENT: u8 = 23;
    const VALUE: u8 = 12;
    let rules = &ctx.names.rules;
    let mut offset = offset.min(ctx.text.len());
    while !ctx.text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = ctx.text.get(..offset).unwrap_or("");
    let line = before.rsplit('\n').next().unwrap_or("");
    let prefix_len = line
        .chars()
        .rev()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .map(char::len_utf8)
        .sum::<usize>();
    let head = line.get(..line.len() - prefix_len).unwrap_or("");
    let mut items: Vec<Json> = Vec::new();
    let tag_keys = || {
        let mut keys: Vec<String> = FIXTURE_TAG_KEYS.iter().map(|k| k.to_string()).collect();
        for o in &ctx.names.occurrences {
            if let Kind::Field(p) = &o.kind
                && p.root() == "tags"
                && let Some(k) = p.0.get(1)
            {
                keys.push(k.clone());
            }
        }
        keys.sort();
        keys.dedup();
        keys
    };
    if head.ends_with("tags[\"") {
        for k in tag_keys() {
            items.push(item(&k, VALUE, "tag key".into()));
        }
        return Ok(json!(items));
    }
    if head.ends_with("tags.") {
        for k in tag_keys().into_iter().filter(|k| is_ident(k)) {
            items.push(item(&k, VALUE, "tag key".into()));
        }
        return Ok(json!(items));
    }
    if head.ends_with('.') || head.ends_with('"') {
        return Ok(json!(items));
    }
    let last = head.split_whitespace().next_back().unwrap_or("");
    let stack = blocks(&ctx.text, offset);
    match last {
        "cite" => {
            for s in &rules.sources {
                items.push(item(
                    &s.id.name,
                    CONSTANT,
                    s.title.clone().unwrap_or_default(),
                ));
            }
            return Ok(json!(items));
        }
        "except" => {
            // The exceptions of the terms around the cursor, else all.
            let here = rules.terms.iter().find(|t| {
                t.file.name == ctx.name && t.span.start <= offset && offset <= t.span.end
            });
            for t in rules
                .terms
                .iter()
                .filter(|t| here.is_none_or(|h| h.id.name == t.id.name))
            {
                for x in &t.exceptions {
                    items.push(item(&x.id.name, EVENT, x.title.clone().unwrap_or_default()));
                }
            }
            return Ok(json!(items));
        }
        "severity" => {
            for s in ["error", "warning", "info"] {
                items.push(item(s, KEYWORD, "severity".into()));
            }
            return Ok(json!(items));
        }
        "expect" => {
            for s in ["violation", "no violation", "not in force", "unresolved"] {
                items.push(item(s, KEYWORD, "expected outcome".into()));
            }
            return Ok(json!(items));
        }
        "with" | "param"
            if stack.last().map(String::as_str) == Some("example") || last == "with" =>
        {
            for p in &rules.params {
                items.push(item(
                    &p.id.name,
                    VARIABLE,
                    format!("param: {}", p.ty.as_str()),
                ));
            }
            return Ok(json!(items));
        }
        "supersedes" => {
            for t in &rules.terms {
                items.push(item(
                    &t.id.name,
                    CONSTANT,
                    t.title.clone().unwrap_or_default(),
                ));
            }
            return Ok(json!(items));
        }
        _ => {}
    }
    let statement_start = head.trim().is_empty();
    if statement_start {
        let words: &[&str] = match stack.last().map(String::as_str) {
            None => TOP_KEYWORDS,
            Some("terms") => TERMS_KEYWORDS,
            Some("clause") => CLAUSE_KEYWORDS,
            Some("exception") => EXCEPTION_KEYWORDS,
            Some("example") => EXAMPLE_KEYWORDS,
            Some(_) => &[],
        };
        for w in words {
            items.push(item(w, KEYWORD, "keyword".into()));
        }
        if !matches!(stack.last().map(String::as_str), Some("{")) {
            return Ok(json!(items));
        }
    } else {
        for w in EXPR_KEYWORDS {
            items.push(item(w, KEYWORD, "keyword".into()));
        }
    }
    for d in &rules.defines {
        items.push(item(&d.id.name, VARIABLE, "define".into()));
    }
    for f in crate::rules::fields::KNOWN_FIELDS {
        items.push(item(f.name, FIELD, f.about.to_string()));
    }
    for f in &rules.fields {
        items.push(item(
            &f.path.to_string(),
            FIELD,
            f.about.clone().unwrap_or_default(),
        ));
    }
    Ok(json!(items))
}

pub fn formatting(ctx: &Ctx, _: &Json) -> Handled {
    let file = SourceFile::new(ctx.name.clone(), ctx.text.clone());
    match crate::rules::format::format(&file) {
        Ok(f) if f == *ctx.text => Ok(json!([])),
        Ok(f) => Ok(json!([{"range": ctx.range(&(0..ctx.text.len())), "newText": f}])),
        // A file that does not parse is left as it is; its diagnostic says why.
        Err(_) => Ok(Json::Null),
    }
}

fn symbol(
    ctx: &Ctx,
    name: &str,
    detail: Option<&str>,
    kind: u8,
    span: &Span,
    sel: &Span,
    children: Vec<Json>,
) -> Json {
    let mut s = json!({
        "name": name,
        "kind": kind,
        "range": ctx.range(&(span.start.min(sel.start)..span.end.max(sel.end))),
        "selectionRange": ctx.range(sel),
    });
    if let Some(d) = detail {
        set(&mut s, "detail", json!(d));
    }
    if !children.is_empty() {
        set(&mut s, "children", json!(children));
    }
    s
}

pub fn symbols(ctx: &Ctx, _: &Json) -> Handled {
    const NAMESPACE: u8 = 3;
    const CLASS: u8 = 5;
    const FIELD: u8 = 8;
    const FUNCTION: u8 = 12;
    const VARIABLE: u8 = 13;
    const CONSTANT: u8 = 14;
    const EVENT: u8 = 24;
    const TYPE_PARAMETER: u8 = 26;
    let rules = &ctx.analysis.rules;
    let here = |f: &Arc<SourceFile>| f.name == ctx.name;
    let mut out: Vec<(usize, Json)> = Vec::new();
    for s in rules.sources.iter().filter(|s| here(&s.file)) {
        out.push((
            s.span.start,
            symbol(
                ctx,
                &s.id.name,
                s.title.as_deref(),
                CONSTANT,
                &s.span,
                &s.id.span,
                vec![],
            ),
        ));
    }
    for d in rules.defines.iter().filter(|d| here(&d.file)) {
        let span = d.id.span.start..d.value.span.end;
        out.push((
            span.start,
            symbol(
                ctx,
                &d.id.name,
                Some("define"),
                VARIABLE,
                &span,
                &d.id.span,
                vec![],
            ),
        ));
    }
    for f in rules.fields.iter().filter(|f| here(&f.file)) {
        let name = f.path.to_string();
        out.push((
            f.span.start,
            symbol(
                ctx,
                &name,
                f.about.as_deref(),
                FIELD,
                &f.span,
                &f.span,
                vec![],
            ),
        ));
    }
    for p in rules.params.iter().filter(|p| here(&p.file)) {
        out.push((
            p.span.start,
            symbol(
                ctx,
                &p.id.name,
                Some(p.ty.as_str()),
                TYPE_PARAMETER,
                &p.span,
                &p.id.span,
                vec![],
            ),
        ));
    }
    for t in rules.terms.iter().filter(|t| here(&t.file)) {
        let mut children: Vec<(usize, Json)> = Vec::new();
        for x in &t.exceptions {
            children.push((
                x.span.start,
                symbol(
                    ctx,
                    &x.id.name,
                    x.title.as_deref(),
                    EVENT,
                    &x.span,
                    &x.id.span,
                    vec![],
                ),
            ));
        }
        for c in &t.clauses {
            let mut examples: Vec<Json> = c
                .examples
                .iter()
                .map(|e| {
                    symbol(
                        ctx,
                        &e.title,
                        Some("example"),
                        FUNCTION,
                        &e.span,
                        &e.span,
                        vec![],
                    )
                })
                .collect();
            if let Some(agg) = c.aggregate.as_deref() {
                examples.extend(agg.examples.iter().map(|e| {
                    symbol(
                        ctx,
                        &e.title,
                        Some("example"),
                        FUNCTION,
                        &e.span,
                        &e.span,
                        vec![],
                    )
                }));
            }
            children.push((
                c.span.start,
                symbol(
                    ctx,
                    &c.id.name,
                    c.title.as_deref(),
                    CLASS,
                    &c.span,
                    &c.id.span,
                    examples,
                ),
            ));
        }
        children.sort_by_key(|(s, _)| *s);
        out.push((
            t.span.start,
            symbol(
                ctx,
                &t.id.name,
                t.title.as_deref(),
                NAMESPACE,
                &t.span,
                &t.id.span,
                children.into_iter().map(|(_, j)| j).collect(),
            ),
        ));
    }
    out.sort_by_key(|(s, _)| *s);
    Ok(json!(out.into_iter().map(|(_, j)| j).collect::<Vec<_>>()))
}

/// The first name in backticks of a message.
fn first_quoted(s: &str) -> Option<&str> {
    let a = s.find('`')?;
    let rest = s.get(a + 1..)?;
    let b = rest.find('`')?;
    rest.get(..b)
}

/// The edit that fixes a diagnostic, when its help names the fix: `=` to
/// `==`, and "did you mean `x`?".
fn fix(d: &Diag, text: &str) -> Option<(Span, String, String)> {
    let (span, _) = d.labels.first()?;
    if d.code == Code::ParseSingleEquals {
        return Some((span.clone(), "==".into(), "Write `==` to compare".into()));
    }
    let help = d.help.as_deref()?;
    let at = help.find("did you mean")?;
    let suggestion = first_quoted(help.get(at..)?)?;
    let wrong = first_quoted(&d.message)?;
    let written = text.get(span.clone())?;
    if !written.starts_with(wrong) || wrong.is_empty() {
        return None;
    }
    Some((
        span.start..span.start + wrong.len(),
        suggestion.to_string(),
        format!("Change `{wrong}` to `{suggestion}`"),
    ))
}

pub fn code_actions(ctx: &Ctx, params: &Json) -> Handled {
    let want: Option<lsp_types::Range> = params
        .get("range")
        .and_then(|r| serde_json::from_value(r.clone()).ok());
    let (from, to) = match want {
        Some(r) => (
            ctx.lines.offset(&ctx.text, r.start, ctx.enc),
            ctx.lines.offset(&ctx.text, r.end, ctx.enc),
        ),
        None => (0, ctx.text.len()),
    };
    let mut out = Vec::new();
    for d in ctx.analysis.diags.get(&ctx.name).into_iter().flatten() {
        let Some((span, _)) = d.labels.first() else {
            continue;
        };
        if span.end < from || span.start > to {
            continue;
        }
        let Some((at, new, title)) = fix(d, &ctx.text) else {
            continue;
        };
        let diag = diagnostic(
            d,
            &ctx.text,
            &ctx.lines,
            ctx.enc,
            &ctx.uris,
            &ctx.all_lines,
            &ctx.analysis,
        );
        out.push(json!({
            "title": title,
            "kind": "quickfix",
            "isPreferred": true,
            "diagnostics": [diag],
            "edit": {"changes": {ctx.uri.clone(): [{"range": ctx.range(&at), "newText": new}]}},
        }));
    }
    Ok(json!(out))
}

/// A lens over each example: whether it passes, as `proviso test` judges it.
pub fn code_lens(ctx: &Ctx, results: Option<&[ExampleResult]>) -> Handled {
    let rules = &ctx.analysis.rules;
    let mut out = Vec::new();
    for t in rules.terms.iter().filter(|t| t.file.name == ctx.name) {
        for c in &t.clauses {
            let spans = c.examples.iter().map(|e| e.span.clone()).chain(
                c.aggregate
                    .iter()
                    .flat_map(|a| a.examples.iter().map(|e| e.span.clone())),
            );
            for span in spans {
                let title = match results {
                    None => "example not run: the rule set has errors".to_string(),
                    Some(rs) => {
                        let mine: Vec<&ExampleResult> = rs
                            .iter()
                            .filter(|r| r.span == span && r.clause == c.id.name)
                            .collect();
                        let failed: Vec<&&ExampleResult> =
                            mine.iter().filter(|r| r.failure.is_some()).collect();
                        match (mine.len(), failed.first()) {
                            (0, _) => "example not run".to_string(),
                            (_, Some(f)) => format!(
                                "✗ example fails: expects {}, got {}",
                                f.expected.as_str(),
                                f.actual.as_str()
                            ),
                            (1, None) => format!(
                                "✓ example passes: {}",
                                mine.first()
                                    .map_or(Expectation::NoViolation, |r| r.actual)
                                    .as_str()
                            ),
                            (n, None) => format!("✓ example passes ({n} groups)"),
                        }
                    }
                };
                let line = span.start..span.start;
                out.push(
                    json!({"range": ctx.range(&line), "command": {"title": title, "command": ""}}),
                );
            }
        }
    }
    Ok(json!(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_see_through_strings_comments_and_sets() {
        let text = "terms t \"{\" effective 2025-01-01 {\n  // {\n  clause c {\n    example \"e\" on 2026-01-01 {\n      given { cloud: \"}\" }\n";
        let end = text.len();
        assert_eq!(blocks(text, end), vec!["terms", "clause", "example"]);
        let inside_given = text.find("cloud").unwrap_or(0);
        assert_eq!(
            blocks(text, inside_given),
            vec!["terms", "clause", "example", "{"]
        );
    }

    #[test]
    fn the_fix_of_a_did_you_mean_replaces_the_misspelt_name_only() {
        let file = SourceFile::new("x", "applies to tgas.product == \"x\"");
        let d = Diag::error(Code::CheckUnknownField, "no field or define named `tgas`")
            .in_file(&file)
            .label(11..23, "not declared")
            .with_help("did you mean the field `tags`?");
        let (span, new, _) = fix(&d, &file.text).unwrap_or((0..0, String::new(), String::new()));
        assert_eq!((span, new.as_str()), (11..15, "tags"));
    }
}
