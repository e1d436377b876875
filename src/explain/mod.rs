//! `proviso explain`: the rule set in plain English.
//!
//! The model built here — one [`ClauseView`] per clause with its sentence,
//! citations and interval, the [`timeline`] of changes at each boundary date,
//! and [`coverage`] per clause — is rendered by the text, Markdown and HTML
//! renderers. Nothing here evaluates records; coverage asks the evaluator
//! whether a clause *could* apply to a record of each scanner, by judging a
//! probe record whose fields that scanner produces are unknown.

pub mod aggregate;
pub mod english;
pub mod html;
pub mod text;

use crate::date::{Date, Interval};
use crate::eval::{Evaluator, Tri};
use crate::rules::RuleSet;
use crate::rules::ast::{Check, Clause, Severity, Terms};
use crate::value::{FieldPath, Lookup, Record, Value};
use english::Markup;
use std::collections::BTreeMap;

/// One clause, ready to render.
#[derive(Debug, Clone)]
pub struct ClauseView {
    pub id: String,
    pub title: String,
    pub terms: String,
    pub terms_title: String,
    pub severity: Severity,
    pub manual: bool,
    /// When it is in force (after supersession); `None` if never.
    pub interval: Option<Interval>,
    /// "From … until …, every … must …, unless …."
    pub sentence: String,
    /// With a clause `phrase`, the sentence built from its conditions:
    /// what is checked, for the reader to hold the phrase against.
    pub checked_as: Option<String>,
    /// `evidence "…"`: what would show the clause is kept.
    pub evidence: Option<String>,
    /// `§ 2: "quote" — title, date` per citation.
    pub citations: Vec<String>,
    pub coverage: Coverage,
    /// For an aggregate clause, which inputs can show it ("shown by the log
    /// exports whose records carry `entry` …; not by Terraform").
    pub inputs: Option<String>,
    /// The logic without dates or version, to tell a changed clause from a
    /// carried-over one.
    pub logic: String,
    /// A clause of a draft amendment (`proposed` terms): never in force.
    pub proposed: bool,
}

/// Which inputs can check a clause.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Coverage {
    pub terraform: bool,
    pub logs: bool,
    pub manual: bool,
}

/// The inputs a clause can be checked on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Input {
    Terraform,
    Logs,
}

/// A record whose fields of one input are unknown and the rest absent:
/// a clause that could apply to some record of that input does not
/// evaluate to false on it.
struct Probe {
    input: Input,
    unknown: Value,
}

impl Probe {
    /// Whether records of this input can have the field. Logs may carry any
    /// field (JSON lines, CSV headers): a field no scanner is known to
    /// produce counts as a log field.
    fn has(&self, root: &str) -> bool {
        match (crate::rules::validate::known_field(root), self.input) {
            (Some(f), Input::Terraform) => f.terraform,
            (Some(f), Input::Logs) => f.logs,
            (None, input) => input == Input::Logs,
        }
    }
}

impl Record for Probe {
    fn lookup(&self, path: &FieldPath) -> Lookup<'_> {
        if self.has(path.root()) {
            Lookup::Known(&self.unknown)
        } else {
            Lookup::Absent
        }
    }

    fn origin_of(&self, _path: &FieldPath) -> Option<crate::source::Origin> {
        None
    }
}

/// Whether some record of a scanner could make the clause apply, and its
/// check reads a field that scanner fills.
fn could_apply(rules: &RuleSet, clause: &Clause, input: Input) -> bool {
    let (Check::Require(check) | Check::Forbid(check)) = &clause.check else {
        return false;
    };
    let eval = Evaluator::new(rules);
    let probe = Probe {
        input,
        unknown: Value::unknown("probe", None),
    };
    let applies = clause
        .applies
        .as_ref()
        .map_or(Tri::True, |e| eval.truth(e, &probe));
    let reads = eval.fields_deep(check).iter().any(|f| probe.has(f.root()));
    !matches!(applies, Tri::False) && reads
}

/// Which scanners can check a clause.
pub fn coverage(rules: &RuleSet, clause: &Clause) -> Coverage {
    if clause.is_manual() {
        return Coverage {
            manual: true,
            ..Coverage::default()
        };
    }
    // An aggregate clause judges groups of dated records: never Terraform;
    // logs when every field it reads can be in a log record.
    if let Some(agg) = &clause.aggregate {
        let probe = Probe {
            input: Input::Logs,
            unknown: Value::unknown("probe", None),
        };
        return Coverage {
            terraform: false,
            logs: aggregate::fields_read(rules, agg)
                .iter()
                .all(|f| probe.has(f)),
            manual: false,
        };
    }
    Coverage {
        terraform: could_apply(rules, clause, Input::Terraform),
        logs: could_apply(rules, clause, Input::Logs),
        manual: false,
    }
}

/// "From 27 April 2026 until the end of 2032" (an interval ending on
/// 1 January is said as the end of the year before).
fn period(iv: &Interval) -> String {
    english::capitalize(&aggregate::dates(iv))
}

/// "it is A", "it is B" → "it is A or B": excuses that all say what the
/// record is, said once.
fn join_excuses(excuses: &[String]) -> String {
    let rests: Option<Vec<&str>> = excuses.iter().map(|e| e.strip_prefix("it is ")).collect();
    match rests {
        Some(r) if r.len() > 1 && r.iter().all(|x| !x.starts_with("not ")) => {
            let (last, head) = r.split_last().map_or(("", &[][..]), |(l, h)| (*l, h));
            format!("it is {} or {last}", head.join(", "))
        }
        _ => excuses.join(", or "),
    }
}

/// The sentence built from the clause's conditions (what is checked),
/// without its dates and without the exceptions; `None` for a manual or
/// aggregate clause.
fn checked_body(rules: &RuleSet, clause: &Clause, m: Markup) -> Option<String> {
    let (e, negate) = match &clause.check {
        Check::Require(e) => (e, false),
        Check::Forbid(e) => (e, true),
        Check::Manual | Check::Aggregate => return None,
    };
    let subject = english::subject(clause.applies.as_ref(), rules, m);
    Some(match english::predicate(e, negate, rules, m) {
        Some(p) => format!("{subject} {p}"),
        None if negate => format!("for {subject}, {}", english::must_not(e, rules, m)),
        None => format!("for {subject}, {}", english::must(e, rules, m)),
    })
}

/// What a manual clause says about the evidence that shows it.
fn evidence_text(clause: &Clause) -> String {
    match &clause.evidence {
        Some(ev) => format!(
            "Reviewed by hand, not by machine; evidence: {}.",
            ev.trim_end_matches('.')
        ),
        None => "Reviewed by hand, not by machine; the rule file names no evidence for it.".into(),
    }
}

/// The clause's logic in English, without its dates.
pub fn logic(rules: &RuleSet, terms: &Terms, clause: &Clause, m: Markup) -> String {
    let title = clause
        .title
        .clone()
        .unwrap_or_else(|| english::humanize(&clause.id.name));
    let body = match (&clause.check, &clause.phrase) {
        (Check::Manual, phrase) => {
            let said = phrase.as_deref().unwrap_or(&title).trim_end_matches('.');
            return format!("{said}. {}", evidence_text(clause));
        }
        (Check::Aggregate, Some(p)) => return format!("{}.", p.trim_end_matches('.')),
        (Check::Aggregate, None) => {
            return match &clause.aggregate {
                Some(agg) => aggregate::sentence(rules, terms, clause, agg, None, m),
                None => format!("{title}."),
            };
        }
        (_, Some(p)) => p.trim_end_matches('.').to_string(),
        (_, None) => checked_body(rules, clause, m).unwrap_or_default(),
    };
    let mut excuses: Vec<String> = Vec::new();
    for x in &clause.excepts {
        let exc = terms.exceptions.iter().find(|e| e.id.name == x.name);
        let title = exc
            .and_then(|e| e.title.clone())
            .unwrap_or_else(|| english::humanize(&x.name));
        let when = exc.and_then(|e| e.phrase.clone()).or_else(|| {
            exc.and_then(|e| e.when.as_ref())
                .map(|w| english::phrase(w, rules, m))
        });
        excuses.push(match when {
            Some(w) => w,
            None => format!("the exception \"{title}\" applies"),
        });
    }
    for u in &clause.unless {
        excuses.push(english::phrase(u, rules, m));
    }
    let unless = if excuses.is_empty() {
        String::new()
    } else {
        format!(", unless {}", join_excuses(&excuses))
    };
    format!("{body}{unless}.")
}

/// `§ 2.1: "quote" — title, date` for one citation.
pub fn citation(rules: &RuleSet, c: &crate::rules::ast::Cite) -> String {
    let src = rules.source(&c.source.name);
    let title = src
        .and_then(|s| s.title.clone())
        .unwrap_or_else(|| c.source.name.clone());
    let date = src
        .and_then(|s| s.dated)
        .map(|d| format!(", {}", d.long()))
        .unwrap_or_default();
    let section = c
        .section_label()
        .map(|s| format!("{s}: "))
        .unwrap_or_default();
    match &c.text {
        Some(t) => format!("{section}\"{t}\" — {title}{date}"),
        None => format!("{section}{title}{date}"),
    }
}

/// Builds the view of every clause, in file order.
pub fn clauses(rules: &RuleSet, m: Markup) -> Vec<ClauseView> {
    let mut out = Vec::new();
    for terms in &rules.terms {
        let terms_iv = rules.terms_in_force_interval(terms);
        for clause in &terms.clauses {
            let interval = terms_iv.and_then(|iv| iv.intersect(&clause.interval(terms)));
            let logic_text = logic(rules, terms, clause, m);
            let sentence = match (&interval, &clause.check) {
                (Some(iv), Check::Aggregate) if clause.phrase.is_none() => {
                    match &clause.aggregate {
                        Some(agg) => aggregate::sentence(rules, terms, clause, agg, Some(iv), m),
                        None => format!("{}: {logic_text}", period(iv)),
                    }
                }
                (Some(iv), Check::Manual) if clause.phrase.is_none() => {
                    format!("{}: {logic_text}", period(iv))
                }
                (Some(iv), Check::Aggregate) if clause.phrase.is_some() => {
                    format!("{}, {logic_text}", period(iv))
                }
                // The body starts in lower case ("every …", "for …"), or
                // is the author's phrase, kept as written.
                (Some(iv), _) => format!("{}, {logic_text}", period(iv)),
                (None, _) if terms.is_proposed() => format!(
                    "Proposed, not in force (draft `{}`); if it were signed, {}: {logic_text}",
                    terms.id.name,
                    {
                        let p = period(&clause.interval(terms));
                        let mut chars = p.chars();
                        chars
                            .next()
                            .map(|c| c.to_lowercase().collect::<String>() + chars.as_str())
                            .unwrap_or_default()
                    }
                ),
                (None, _) => format!(
                    "Never in force (its terms are superseded from the start): {logic_text}"
                ),
            };
            let citations = clause.cites.iter().map(|c| citation(rules, c)).collect();
            out.push(ClauseView {
                id: clause.id.name.clone(),
                title: clause
                    .title
                    .clone()
                    .unwrap_or_else(|| english::humanize(&clause.id.name)),
                terms: terms.id.name.clone(),
                terms_title: terms.title.clone().unwrap_or_else(|| terms.id.name.clone()),
                severity: clause.severity,
                manual: clause.is_manual(),
                interval,
                sentence,
                checked_as: clause.phrase.as_ref().and_then(|_| match &clause.check {
                    Check::Aggregate => clause
                        .aggregate
                        .as_ref()
                        .map(|agg| aggregate::sentence(rules, terms, clause, agg, None, m)),
                    _ => checked_body(rules, clause, m)
                        .map(|b| english::capitalize(&format!("{b}."))),
                }),
                evidence: clause.evidence.clone(),
                citations,
                coverage: coverage(rules, clause),
                inputs: clause
                    .aggregate
                    .as_ref()
                    .map(|agg| aggregate::inputs(rules, agg)),
                logic: logic(rules, terms, clause, Markup::Plain),
                proposed: terms.is_proposed(),
            });
        }
    }
    out
}

/// What happened to clauses on one date.
#[derive(Debug, Clone, Default)]
pub struct Change {
    pub date: Option<Date>,
    /// `(clause, terms)` now in force that were not the day before.
    pub started: Vec<(String, String)>,
    /// `(clause, terms)` no longer in force.
    pub ended: Vec<(String, String)>,
    /// `(clause, from terms, to terms, wording changed)`.
    pub changed: Vec<(String, String, String, bool)>,
}

/// Clause id → (terms id, logic) in force on a date. Views carry their
/// interval (terms' supersession and the clause's own dates applied), so
/// this is one pass over them.
fn in_force_map(views: &[ClauseView], date: Date) -> BTreeMap<String, (String, String)> {
    views
        .iter()
        .filter(|v| v.interval.is_some_and(|iv| iv.contains(date)))
        .map(|v| (v.id.clone(), (v.terms.clone(), v.logic.clone())))
        .collect()
}

/// The differences between the clauses in force on two dates.
pub fn diff(rules: &RuleSet, views: &[ClauseView], before: Date, after: Date) -> Change {
    let _ = rules;
    let a = in_force_map(views, before);
    let b = in_force_map(views, after);
    changes(&a, &b, after)
}

/// What changed from `a` (clause id → terms, logic) to `b`, dated `date`.
fn changes(
    a: &BTreeMap<String, (String, String)>,
    b: &BTreeMap<String, (String, String)>,
    date: Date,
) -> Change {
    let mut change = Change {
        date: Some(date),
        ..Change::default()
    };
    for (id, (terms, logic)) in b {
        match a.get(id) {
            None => change.started.push((id.clone(), terms.clone())),
            Some((old_terms, old_logic)) if old_terms != terms || old_logic != logic => {
                change.changed.push((
                    id.clone(),
                    old_terms.clone(),
                    terms.clone(),
                    old_logic != logic,
                ))
            }
            Some(_) => {}
        }
    }
    for (id, (terms, _)) in a {
        if !b.contains_key(id) {
            change.ended.push((id.clone(), terms.clone()));
        }
    }
    change
}

/// Every date on which some clause starts, ends or changes, with what did.
///
/// A clause's in-force interval is one run of days, so what changes on a
/// date is exactly the clauses whose interval starts or ends there: each
/// date looks only at those (n log n overall), instead of comparing
/// everything in force the day before with the day itself.
pub fn timeline(rules: &RuleSet, views: &[ClauseView]) -> Vec<Change> {
    let _ = rules;
    let mut at: BTreeMap<Date, (Vec<&ClauseView>, Vec<&ClauseView>)> = BTreeMap::new();
    for v in views {
        let Some(iv) = v.interval else { continue };
        at.entry(iv.from).or_default().0.push(v);
        if let Some(u) = iv.until {
            at.entry(u).or_default().1.push(v);
        }
    }
    let entry = |v: &&ClauseView| (v.id.clone(), (v.terms.clone(), v.logic.clone()));
    at.into_iter()
        .map(|(date, (starting, ending))| {
            let after: BTreeMap<_, _> = starting.iter().map(entry).collect();
            let before: BTreeMap<_, _> = ending.iter().map(entry).collect();
            changes(&before, &after, date)
        })
        .filter(|c| !(c.started.is_empty() && c.ended.is_empty() && c.changed.is_empty()))
        .collect()
}

/// The dated record of a review: what was read, by which tool, when.
#[derive(Debug, Clone)]
pub struct ReviewRecord {
    /// The day the explanation was generated: `SOURCE_DATE_EPOCH` (seconds
    /// since 1970, the reproducible-builds convention) when set, else today
    /// (UTC).
    pub generated: Date,
    pub version: &'static str,
    /// The commit proviso was built from, or "unknown".
    pub commit: &'static str,
    /// `(file, SHA-256 of its bytes in lower-case hex)`.
    pub files: Vec<(String, String)>,
}

/// The generation date: `SOURCE_DATE_EPOCH` if it is set and a number of
/// seconds, else today.
pub fn generation_date() -> Date {
    std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|v| v.trim().parse::<i64>().ok())
        .and_then(|secs| i32::try_from(secs.div_euclid(86_400)).ok())
        .map_or_else(Date::today, Date::from_days)
}

/// SHA-256 of a rule file: of its bytes on disk when they can be read
/// again, else of the text that was parsed.
fn file_sha256(f: &crate::source::SourceFile) -> String {
    use sha2::Digest;
    let bytes = std::fs::read(&f.name).unwrap_or_else(|_| f.text.as_bytes().to_vec());
    sha2::Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl ReviewRecord {
    pub fn of(rules: &RuleSet) -> ReviewRecord {
        ReviewRecord {
            generated: generation_date(),
            version: crate::build_info::version(),
            commit: crate::build_info::commit(),
            files: rules
                .files
                .iter()
                .map(|f| (f.name.clone(), file_sha256(f)))
                .collect(),
        }
    }

    /// `proviso 0.1.0 (commit 41e1d59…)`.
    pub fn tool(&self) -> String {
        format!("proviso {} (commit {})", self.version, self.commit)
    }
}

/// Everything `explain` renders.
pub struct Explanation {
    pub record: ReviewRecord,
    pub title: String,
    pub files: Vec<String>,
    pub as_of: Option<Date>,
    pub between: Option<(Date, Date)>,
    pub clauses: Vec<ClauseView>,
    pub timeline: Vec<Change>,
    /// `(define, label, meaning)` for every define a shown clause uses;
    /// the label is the define's phrase, or its identifier in words.
    pub definitions: Vec<(String, String, String)>,
    pub terms: Vec<(String, String, Option<Interval>, Option<String>)>,
    /// The drafts (`proposed` terms) and the date each would take effect.
    pub drafts: BTreeMap<String, Date>,
    /// With `--between`: what changed, and every clause (to name them).
    pub between_change: Option<Change>,
    pub all_clauses: Vec<ClauseView>,
}

/// Builds the explanation; `as_of` keeps only what is in force that day.
pub fn explain(
    rules: &RuleSet,
    as_of: Option<Date>,
    between: Option<(Date, Date)>,
    m: Markup,
) -> Explanation {
    let all = clauses(rules, m);
    let plain = clauses(rules, Markup::Plain);
    let timeline = timeline(rules, &plain);
    let between_change = between.map(|(a, b)| diff(rules, &plain, a, b));
    let all_clauses = all.clone();
    let shown: Vec<ClauseView> = match (as_of, &between_change) {
        (Some(d), _) => all
            .into_iter()
            .filter(|v| v.interval.is_some_and(|iv| iv.contains(d)))
            .collect(),
        // With --between, the clauses that start, end or change.
        (None, Some(c)) => {
            let involved = |v: &ClauseView| {
                c.started
                    .iter()
                    .chain(c.ended.iter())
                    .any(|(id, t)| *id == v.id && *t == v.terms)
                    || c.changed.iter().any(|(id, from, to, _)| {
                        *id == v.id && (*from == v.terms || *to == v.terms)
                    })
            };
            all.into_iter().filter(involved).collect()
        }
        (None, None) => all,
    };
    // Definitions used by the shown clauses (and by the defines they use).
    let mut used: Vec<usize> = Vec::new();
    let mut seen_defines = std::collections::HashSet::new();
    let shown_ids: std::collections::HashSet<(&str, &str)> = shown
        .iter()
        .map(|v| (v.id.as_str(), v.terms.as_str()))
        .collect();
    for terms in &rules.terms {
        for clause in &terms.clauses {
            if !shown_ids.contains(&(clause.id.name.as_str(), terms.id.name.as_str())) {
                continue;
            }
            let exprs = clause
                .applies
                .iter()
                .chain(clause.unless.iter())
                .chain(match &clause.check {
                    Check::Require(e) | Check::Forbid(e) => Some(e),
                    Check::Manual | Check::Aggregate => None,
                })
                .chain(clause.aggregate.iter().flat_map(|a| a.record_exprs()))
                .chain(
                    terms
                        .exceptions
                        .iter()
                        .filter(|x| clause.excepts.iter().any(|e| e.name == x.id.name))
                        .filter_map(|x| x.when.as_ref()),
                );
            for e in exprs {
                collect_defines(rules, e, &mut used, &mut seen_defines);
            }
        }
    }
    used.sort_unstable();
    used.dedup();
    let definitions = used
        .into_iter()
        .filter_map(|i| rules.defines.get(i))
        .map(|d| {
            let label = d
                .phrase
                .as_deref()
                .map(|p| english::without_article(p).to_string())
                .unwrap_or_else(|| english::humanize(&d.id.name));
            let meaning = match &d.value.kind {
                crate::rules::ast::ExprKind::Set(items) if items.len() > 1 => {
                    format!("one of {}", english::phrase(&d.value, rules, m))
                }
                _ => english::phrase(&d.value, rules, m),
            };
            (d.id.name.clone(), label, meaning)
        })
        .collect();
    let terms = rules
        .terms
        .iter()
        .filter(|t| match as_of {
            Some(d) => rules
                .terms_in_force_interval(t)
                .is_some_and(|iv| iv.contains(d)),
            None => true,
        })
        .map(|t| {
            (
                t.id.name.clone(),
                t.title.clone().unwrap_or_default(),
                rules.terms_in_force_interval(t),
                t.supersedes.as_ref().map(|s| s.name.clone()),
            )
        })
        .collect();
    Explanation {
        record: ReviewRecord::of(rules),
        title: rules
            .agreements
            .first()
            .map(|a| a.title.clone().unwrap_or_else(|| a.id.name.clone()))
            .unwrap_or_else(|| "Rule set".into()),
        files: rules.files.iter().map(|f| f.name.clone()).collect(),
        as_of,
        between,
        clauses: shown,
        timeline,
        definitions,
        terms,
        drafts: rules
            .drafts()
            .map(|t| (t.id.name.clone(), t.interval.from))
            .collect(),
        between_change,
        all_clauses,
    }
}

impl Explanation {
    /// When terms are in force, in words: `from 27 April 2026`, or for a
    /// draft `proposed, not in force; from 1 January 2027 if signed`.
    pub fn terms_period(&self, id: &str, iv: Option<Interval>) -> String {
        match self.drafts.get(id) {
            Some(d) => format!("proposed, not in force; from {} if signed", d.long()),
            None => text::period_text(iv),
        }
    }
}

fn collect_defines(
    rules: &RuleSet,
    e: &crate::rules::ast::Expr,
    out: &mut Vec<usize>,
    seen: &mut std::collections::HashSet<usize>,
) {
    e.walk(&mut |x| {
        if let crate::rules::ast::ExprKind::DefineRef(_, i) = x.kind
            && seen.insert(i)
        {
            out.push(i);
            if let Some(d) = rules.defines.get(i) {
                collect_defines(rules, &d.value, out, seen);
            }
        }
    });
}
