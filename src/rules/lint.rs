//! `proviso lint`: mistakes in a rule set that are not errors.
//!
//! Checking (`rules::check`) rejects what cannot be evaluated; linting warns
//! about what evaluates but is probably not what the author meant: a define
//! or exception nobody uses, a clause that can never fire, gaps and overlaps
//! between versions of the terms, an enforced clause without a passing and a
//! failing example; in aggregate clauses, a `param` no clause reads, a
//! figure nothing reads (transitively: a figure read only by a dead one is
//! dead), a summed field whose declaration has no type, and a running
//! total of something that is not a sum. Contradictions are found on the
//! conjunctions of simple comparisons (`field == literal`, `field in {…}`
//! and their negations), with defines expanded: precise where it speaks,
//! silent where it cannot tell.
//!
//! Every check is linear or n log n in the rule set: facts are compared
//! only with facts about the same field, a define's facts are gathered once
//! per conjunction, and names are looked up in maps, so that a generated
//! file of 10,000 clauses lints in seconds.

use crate::diag::{Code, Diag};
use crate::eval::compare;
use crate::rules::RuleSet;
use crate::rules::ast::{
    AggOp, Aggregate, Arith, ArithKind, Check, Clause, CmpOp, Expectation, Expr, ExprKind,
    GroupKey, MessagePart, Terms,
};
use crate::value::{FieldPath, Value};
use std::collections::{HashMap, HashSet};

/// A simple fact about one field.
#[derive(Debug, Clone)]
enum Atom {
    Eq(FieldPath, Value),
    Ne(FieldPath, Value),
    In(FieldPath, Vec<Value>),
    NotIn(FieldPath, Vec<Value>),
}

impl Atom {
    fn field(&self) -> &FieldPath {
        match self {
            Atom::Eq(f, _) | Atom::Ne(f, _) | Atom::In(f, _) | Atom::NotIn(f, _) => f,
        }
    }
}

fn eq(a: &Value, b: &Value) -> bool {
    compare(a, CmpOp::Eq, b)
}

/// The literal members of a set expression (defines expanded), if all are literals.
fn literal_set(e: &Expr, rules: &RuleSet, depth: usize) -> Option<Vec<Value>> {
    let mut out = Vec::new();
    literal_members(e, rules, depth, &mut HashSet::new(), &mut out)?;
    Some(out)
}

/// [`literal_set`]'s members, each define flattened in once (`seen`).
fn literal_members(
    e: &Expr,
    rules: &RuleSet,
    depth: usize,
    seen: &mut HashSet<usize>,
    out: &mut Vec<Value>,
) -> Option<()> {
    if depth > 16 {
        return None;
    }
    match &e.kind {
        ExprKind::Set(items) => {
            for i in items {
                match &i.kind {
                    ExprKind::Literal(v) if !matches!(v, Value::Cidr(_)) => out.push(v.clone()),
                    _ => literal_members(i, rules, depth + 1, seen, out)?,
                }
            }
            Some(())
        }
        ExprKind::DefineRef(_, idx) => {
            if !seen.insert(*idx) {
                return Some(());
            }
            literal_members(&rules.defines.get(*idx)?.value, rules, depth + 1, seen, out)
        }
        _ => None,
    }
}

/// The atoms of a conjunction, expanding `and` and defines.
fn atoms(e: &Expr, rules: &RuleSet, out: &mut Vec<Atom>, depth: usize) {
    atoms_once(e, rules, out, depth, &mut HashSet::new());
}

/// [`atoms`], each define's facts gathered once (`seen`): `a and a` says
/// no more than `a`.
fn atoms_once(
    e: &Expr,
    rules: &RuleSet,
    out: &mut Vec<Atom>,
    depth: usize,
    seen: &mut HashSet<usize>,
) {
    if depth > 16 {
        return;
    }
    match &e.kind {
        ExprKind::And(items) => items
            .iter()
            .for_each(|i| atoms_once(i, rules, out, depth + 1, seen)),
        ExprKind::DefineRef(_, idx) => {
            if seen.insert(*idx)
                && let Some(d) = rules.defines.get(*idx)
            {
                atoms_once(&d.value, rules, out, depth + 1, seen);
            }
        }
        ExprKind::Compare(a, op, b) => {
            let (field, lit) = match (&a.kind, &b.kind) {
                (ExprKind::Field(f), ExprKind::Literal(v))
                | (ExprKind::Literal(v), ExprKind::Field(f)) => (f, v),
                _ => return,
            };
            match op {
                CmpOp::Eq => out.push(Atom::Eq(field.clone(), lit.clone())),
                CmpOp::Ne => out.push(Atom::Ne(field.clone(), lit.clone())),
                _ => {}
            }
        }
        ExprKind::In { negated, lhs, rhs } => {
            if let (ExprKind::Field(f), Some(set)) = (&lhs.kind, literal_set(rhs, rules, depth + 1))
            {
                out.push(if *negated {
                    Atom::NotIn(f.clone(), set)
                } else {
                    Atom::In(f.clone(), set)
                });
            }
        }
        ExprKind::Not(inner) => {
            let mut positive = Vec::new();
            atoms(inner, rules, &mut positive, depth + 1);
            // `not (a == x)` is `a != x` only when the inner part is a single atom.
            if let [single] = positive.as_slice()
                && !matches!(inner.kind, ExprKind::And(_))
            {
                out.push(match single.clone() {
                    Atom::Eq(f, v) => Atom::Ne(f, v),
                    Atom::Ne(f, v) => Atom::Eq(f, v),
                    Atom::In(f, s) => Atom::NotIn(f, s),
                    Atom::NotIn(f, s) => Atom::In(f, s),
                });
            }
        }
        _ => {}
    }
}

/// Two facts about the same field that cannot both hold, as a sentence.
/// Facts are bucketed by field first: only facts about one field can clash.
fn contradiction(atoms: &[Atom]) -> Option<String> {
    let mut by_field: HashMap<&FieldPath, Vec<&Atom>> = HashMap::new();
    let mut order: Vec<&FieldPath> = Vec::new();
    for a in atoms {
        let bucket = by_field.entry(a.field()).or_default();
        if bucket.is_empty() {
            order.push(a.field());
        }
        bucket.push(a);
    }
    order
        .iter()
        .filter_map(|f| by_field.get(f))
        .find_map(|same| contradiction_in(same))
}

/// [`contradiction`] among facts about one field.
fn contradiction_in(atoms: &[&Atom]) -> Option<String> {
    for (i, a) in atoms.iter().enumerate() {
        for b in atoms.iter().skip(i + 1) {
            let f = a.field();
            let clash = match (a, b) {
                (Atom::Eq(_, x), Atom::Eq(_, y)) => !eq(x, y),
                (Atom::Eq(_, x), Atom::Ne(_, y)) | (Atom::Ne(_, y), Atom::Eq(_, x)) => eq(x, y),
                (Atom::Eq(_, x), Atom::In(_, s)) | (Atom::In(_, s), Atom::Eq(_, x)) => {
                    !s.iter().any(|m| eq(x, m))
                }
                (Atom::Eq(_, x), Atom::NotIn(_, s)) | (Atom::NotIn(_, s), Atom::Eq(_, x)) => {
                    s.iter().any(|m| eq(x, m))
                }
                (Atom::In(_, s), Atom::In(_, t)) => !s.iter().any(|m| t.iter().any(|n| eq(m, n))),
                _ => false,
            };
            if clash {
                return Some(format!(
                    "`{f}` cannot be {} and {} at once",
                    describe(a),
                    describe(b)
                ));
            }
        }
    }
    None
}

fn describe(a: &Atom) -> String {
    let set = |s: &[Value]| {
        s.iter()
            .map(|v| format!("\"{v}\""))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match a {
        Atom::Eq(_, v) => format!("\"{v}\""),
        Atom::Ne(_, v) => format!("other than \"{v}\""),
        Atom::In(_, s) => format!("one of {{{}}}", set(s)),
        Atom::NotIn(_, s) => format!("outside {{{}}}", set(s)),
    }
}

/// Whether the facts of `applies` already make `require` hold.
fn implied(applies: &[Atom], required: &[Atom]) -> bool {
    !required.is_empty()
        && required.iter().all(|r| {
            applies.iter().any(|a| match (a, r) {
                (Atom::Eq(f, x), Atom::Eq(g, y)) => f == g && eq(x, y),
                (Atom::Eq(f, x), Atom::In(g, s)) => f == g && s.iter().any(|m| eq(x, m)),
                (Atom::Eq(f, x), Atom::Ne(g, y)) => f == g && !eq(x, y),
                (Atom::In(f, s), Atom::In(g, t)) => {
                    f == g && s.iter().all(|m| t.iter().any(|n| eq(m, n)))
                }
                _ => false,
            })
        })
}

/// Lints a checked rule set.
pub fn lint(rules: &RuleSet) -> Vec<Diag> {
    let mut out = Vec::new();
    unused(rules, &mut out);
    for terms in &rules.terms {
        for clause in &terms.clauses {
            let before = out.len();
            never_fires(rules, terms, clause, &mut out);
            // A clause that can never fire cannot have a failing example:
            // that warning would only repeat the first.
            if out.len() == before {
                examples(terms, clause, &mut out);
            }
            raw_identifiers(rules, terms, clause, &mut out);
            if clause.cites.is_empty() {
                out.push(
                    Diag::warning(Code::LintMissingCitation, format!("clause `{}` cites no source", clause.id.name))
                        .in_file(&terms.file)
                        .label(clause.id.span.clone(), "no `cite`")
                        .with_help("add `cite <source> \"short phrase\"` so that every finding shows where the term comes from"),
                );
            }
        }
    }
    versions(rules, &mut out);
    drafts(rules, &mut out);
    aggregates(rules, &mut out);
    out
}

/// The defines without a phrase that a condition names where it is true
/// or false of the record (`applies to stateless_api`, `when training`):
/// `explain` would say "it matches stateless API". A define used as a
/// value (`region in us_regions`) reads as "one of the US regions" and is
/// not counted.
fn unphrased(rules: &RuleSet, e: &Expr, out: &mut Vec<String>) {
    match &e.kind {
        ExprKind::And(items) | ExprKind::Or(items) => {
            for i in items {
                unphrased(rules, i, out);
            }
        }
        ExprKind::Not(inner) => unphrased(rules, inner, out),
        ExprKind::DefineRef(name, i)
            if rules.defines.get(*i).is_some_and(|d| d.phrase.is_none()) && !out.contains(name) =>
        {
            out.push(name.clone());
        }
        _ => {}
    }
}

/// An enforced clause whose `explain` sentence would still show an
/// identifier, for want of a phrase.
fn raw_identifiers(
    rules: &RuleSet,
    terms: &crate::rules::ast::Terms,
    clause: &crate::rules::ast::Clause,
    out: &mut Vec<Diag>,
) {
    use crate::rules::ast::Check;
    if clause.is_manual() {
        return;
    }
    let mut names = Vec::new();
    if clause.phrase.is_none() {
        let own = clause.applies.iter().chain(match &clause.check {
            Check::Require(e) | Check::Forbid(e) => Some(e),
            Check::Manual | Check::Aggregate => None,
        });
        for e in own {
            unphrased(rules, e, &mut names);
        }
        if let Some(agg) = &clause.aggregate {
            for e in agg.record_exprs() {
                unphrased(rules, e, &mut names);
            }
        }
    }
    for u in &clause.unless {
        unphrased(rules, u, &mut names);
    }
    for x in &clause.excepts {
        if let Some(exc) = terms.exceptions.iter().find(|e| e.id.name == x.name)
            && exc.phrase.is_none()
            && let Some(w) = &exc.when
        {
            unphrased(rules, w, &mut names);
        }
    }
    let Some(first) = names.first() else { return };
    let list = names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ");
    out.push(
        Diag::warning(
            Code::LintRawIdentifier,
            format!(
                "`proviso explain` would say clause `{}` in identifiers: {list}",
                clause.id.name
            ),
        )
        .in_file(&terms.file)
        .label(clause.id.span.clone(), "its sentence names a define by identifier")
        .with_help(format!(
            "add a phrase that reads after \"it is\": `define {first} \"a …\" = …`, or give the clause its words with `phrase \"…\"`"
        )),
    );
}

fn unused(rules: &RuleSet, out: &mut Vec<Diag>) {
    let mut used_defines: HashSet<usize> = HashSet::new();
    let mut mark = |e: &Expr| {
        e.walk(&mut |x| {
            if let ExprKind::DefineRef(_, i) = x.kind {
                used_defines.insert(i);
            }
        })
    };
    for d in &rules.defines {
        mark(&d.value);
    }
    let mut cited: HashSet<&str> = HashSet::new();
    let mut set_defines: HashSet<&str> = HashSet::new();
    for t in &rules.terms {
        for c in &t.clauses {
            c.applies.iter().chain(c.unless.iter()).for_each(&mut mark);
            if let Check::Require(e) | Check::Forbid(e) = &c.check {
                mark(e);
            }
            if let Some(agg) = &c.aggregate {
                agg.record_exprs().for_each(&mut mark);
                // A set define in a group condition is inlined as its
                // members; its name is still what the author wrote.
                for g in agg.conditions() {
                    g.operands(&mut |a| {
                        a.walk(&mut |x| {
                            if let ArithKind::Set(_) = x.kind
                                && let Some(text) = t.file.text.get(x.span.clone())
                            {
                                set_defines.insert(text.trim());
                            }
                        })
                    });
                }
            }
            cited.extend(c.cites.iter().map(|x| x.source.name.as_str()));
        }
        for x in &t.exceptions {
            x.when.iter().for_each(&mut mark);
            cited.extend(x.cites.iter().map(|c| c.source.name.as_str()));
        }
    }
    for (i, d) in rules.defines.iter().enumerate() {
        if !used_defines.contains(&i) && !set_defines.contains(d.id.name.as_str()) {
            out.push(
                Diag::warning(
                    Code::LintUnusedDefine,
                    format!("define `{}` is never used", d.id.name),
                )
                .in_file(&d.file)
                .label(d.id.span.clone(), "declared here, used nowhere")
                .with_help("use it in a clause or an exception, or delete it"),
            );
        }
    }
    for t in &rules.terms {
        let excepted: HashSet<&str> = t
            .clauses
            .iter()
            .flat_map(|c| c.excepts.iter().map(|e| e.name.as_str()))
            .collect();
        for x in &t.exceptions {
            if !excepted.contains(x.id.name.as_str()) {
                out.push(
                    Diag::warning(
                        Code::LintUnusedException,
                        format!("exception `{}` excuses no clause", x.id.name),
                    )
                    .in_file(&t.file)
                    .label(x.id.span.clone(), "no clause names it in `except`")
                    .with_help(format!(
                        "add `except {}` to the clauses it excuses, or delete it",
                        x.id.name
                    )),
                );
            }
        }
    }
    // Declared fields no condition or message reads.
    let mut found: Vec<(FieldPath, std::ops::Range<usize>)> = Vec::new();
    let mut messages: Vec<FieldPath> = Vec::new();
    let mut collect = |e: &Expr| e.fields(&mut found);
    for d in &rules.defines {
        collect(&d.value);
    }
    for t in &rules.terms {
        for c in &t.clauses {
            c.applies
                .iter()
                .chain(c.unless.iter())
                .for_each(&mut collect);
            if let Check::Require(e) | Check::Forbid(e) = &c.check {
                collect(e);
            }
            if let Some(agg) = &c.aggregate {
                agg.record_exprs().for_each(&mut collect);
                for k in &agg.per {
                    if let GroupKey::Field(p, _) = k {
                        messages.push(p.clone());
                    }
                }
                messages.extend(agg.aggs.iter().filter_map(|a| a.field.clone()));
            }
            for part in c.message.iter().flat_map(|m| m.parts.iter()) {
                if let MessagePart::Field(p, _) = part {
                    messages.push(p.clone());
                }
            }
        }
        for x in &t.exceptions {
            x.when.iter().for_each(&mut collect);
        }
    }
    let read: HashSet<&[String]> = found
        .iter()
        .map(|(p, _)| p)
        .chain(messages.iter())
        .map(|p| p.0.as_slice())
        .collect();
    for f in &rules.fields {
        // A field with a type or `required where` is checked on every
        // record: that is a use.
        let used = f.ty.is_some()
            || f.required.is_some()
            || read
                .iter()
                .any(|p| p.starts_with(&f.path.0) || f.path.0.starts_with(p));
        if !used {
            out.push(
                Diag::warning(
                    Code::LintUnusedField,
                    format!("field `{}` is declared but no rule reads it", f.path),
                )
                .in_file(&f.file)
                .label(f.span.clone(), "declared here, read nowhere")
                .with_help("use it in a condition or a message, or delete the declaration"),
            );
        }
    }
    for s in &rules.sources {
        if !cited.contains(s.id.name.as_str()) {
            out.push(
                Diag::warning(
                    Code::LintUnusedSource,
                    format!("source `{}` is never cited", s.id.name),
                )
                .in_file(&s.file)
                .label(s.id.span.clone(), "declared here, cited nowhere")
                .with_help(
                    "cite it from the clauses it supports (`cite <source> \"…\"`), or delete it",
                ),
            );
        }
    }
}

fn never_fires(rules: &RuleSet, terms: &Terms, clause: &Clause, out: &mut Vec<Diag>) {
    let check = match &clause.check {
        Check::Require(e) | Check::Forbid(e) => e,
        Check::Manual | Check::Aggregate => return,
    };
    let mut applies = Vec::new();
    if let Some(a) = &clause.applies {
        atoms(a, rules, &mut applies, 0);
    }
    let diag = |why: String, at: std::ops::Range<usize>, label: &str| {
        Diag::warning(
            Code::LintNeverFires,
            format!("clause `{}` can never fire: {why}", clause.id.name),
        )
        .in_file(&terms.file)
        .label(at, label)
        .with_help("check the conditions: one of them is probably a typo or the wrong field")
    };
    if let Some(why) = contradiction(&applies) {
        let at = clause
            .applies
            .as_ref()
            .map(|e| e.span.clone())
            .unwrap_or(clause.id.span.clone());
        out.push(diag(why, at, "this condition never holds"));
        return;
    }
    match &clause.check {
        Check::Forbid(e) => {
            let mut both = applies.clone();
            atoms(e, rules, &mut both, 0);
            if let Some(why) = contradiction(&both) {
                out.push(diag(
                    why,
                    e.span.clone(),
                    "never holds where the clause applies",
                ));
            }
        }
        Check::Require(e) => {
            let mut required = Vec::new();
            atoms(e, rules, &mut required, 0);
            // Only a requirement made entirely of atoms can be judged implied.
            let simple = matches!(
                e.kind,
                ExprKind::Compare(..) | ExprKind::In { .. } | ExprKind::And(_)
            );
            if simple && implied(&applies, &required) {
                out.push(diag(
                    "its requirement always holds where it applies".into(),
                    check.span.clone(),
                    "already implied by `applies to`",
                ));
            }
        }
        Check::Manual | Check::Aggregate => {}
    }
}

fn examples(terms: &Terms, clause: &Clause, out: &mut Vec<Diag>) {
    if clause.is_manual() {
        return;
    }
    let has = |x: Expectation| match &clause.aggregate {
        Some(agg) => agg
            .examples
            .iter()
            .any(|e| e.expects.iter().any(|(expect, _, _)| *expect == x)),
        None => clause.examples.iter().any(|e| e.expect == x),
    };
    let help = if clause.is_aggregate() {
        "add `example \"…\" { given [ { date: \"YYYY-MM-DD\", … }, … ] expect violation for \"GROUP\" }` blocks (one record a line, `with PARAM = VALUE` for parameters): `proviso test` runs them"
    } else {
        "add `example \"…\" on YYYY-MM-DD { given { … } expect … }` blocks: `proviso test` runs them"
    };
    let missing: Vec<&str> = [
        (
            Expectation::Violation,
            "failing example (`expect violation`)",
        ),
        (
            Expectation::NoViolation,
            "passing example (`expect no violation`)",
        ),
    ]
    .into_iter()
    .filter(|(x, _)| !has(*x))
    .map(|(_, text)| text)
    .collect();
    if !missing.is_empty() {
        out.push(
            Diag::warning(
                Code::LintMissingExamples,
                format!(
                    "clause `{}` has no {}",
                    clause.id.name,
                    missing.join(" and no ")
                ),
            )
            .in_file(&terms.file)
            .label(clause.id.span.clone(), "enforced clause")
            .with_help(help),
        );
    }
}

/// Drafts that would do nothing if signed: one that supersedes no terms
/// (its clauses would only add to what is in force: usually a forgotten
/// `supersedes`), and one whose clauses and exceptions are, word for word,
/// those of the terms it supersedes.
fn drafts(rules: &RuleSet, out: &mut Vec<Diag>) {
    for draft in rules.drafts() {
        let Some(sup) = &draft.supersedes else {
            out.push(
                Diag::warning(
                    Code::LintDraftSupersedesNothing,
                    format!("draft `{}` supersedes no terms", draft.id.name),
                )
                .in_file(&draft.file)
                .label(draft.id.span.clone(), "proposed, superseding nothing")
                .with_help(format!(
                    "an amendment replaces a version of the terms: `terms {} \"…\" proposed effective {} supersedes OLD {{`; if it only adds clauses, say so in a comment and ignore this warning",
                    draft.id.name, draft.interval.from
                )),
            );
            continue;
        };
        let Some(older) = rules.terms.iter().find(|t| t.id.name == sup.name) else {
            continue;
        };
        // The words of a span, without the parts in `skip` (a clause's
        // examples: they illustrate the terms, they are not the terms).
        let words = |file: &crate::source::SourceFile,
                     span: &std::ops::Range<usize>,
                     skip: &[std::ops::Range<usize>]| {
            let mut text = String::new();
            let mut at = span.start;
            let mut cuts: Vec<&std::ops::Range<usize>> = skip.iter().collect();
            cuts.sort_by_key(|r| r.start);
            for cut in cuts {
                text.push_str(file.text.get(at..cut.start).unwrap_or_default());
                at = at.max(cut.end);
            }
            text.push_str(file.text.get(at..span.end).unwrap_or_default());
            text.split_whitespace().collect::<Vec<_>>().join(" ")
        };
        let body = |t: &Terms| {
            let mut parts: Vec<String> = t
                .clauses
                .iter()
                .map(|c| {
                    let mut skip: Vec<std::ops::Range<usize>> =
                        c.examples.iter().map(|e| e.span.clone()).collect();
                    if let Some(a) = &c.aggregate {
                        skip.extend(a.examples.iter().map(|e| e.span.clone()));
                    }
                    words(&t.file, &c.span, &skip)
                })
                .chain(t.exceptions.iter().map(|e| words(&t.file, &e.span, &[])))
                .collect();
            parts.sort();
            parts
        };
        if body(draft) == body(older) {
            out.push(
                Diag::warning(
                    Code::LintDraftChangesNothing,
                    format!(
                        "draft `{}` changes nothing: its clauses and exceptions are those of `{}`, word for word",
                        draft.id.name, sup.name
                    ),
                )
                .in_file(&draft.file)
                .label(draft.id.span.clone(), "proposed")
                .label(sup.span.clone(), "the same terms as these")
                .with_help("write the changed clauses into the draft, or delete it"),
            );
        }
    }
}

/// Gaps and overlaps between a version of the terms and the one it supersedes.
fn versions(rules: &RuleSet, out: &mut Vec<Diag>) {
    let mut by_name: HashMap<&str, &Terms> = HashMap::new();
    for t in &rules.terms {
        by_name.entry(t.id.name.as_str()).or_insert(t);
    }
    for newer in &rules.terms {
        let Some(sup) = &newer.supersedes else {
            continue;
        };
        let Some(older) = by_name.get(sup.name.as_str()).copied() else {
            continue;
        };
        if !newer.dates_valid || !older.dates_valid {
            continue;
        }
        match older.interval.until {
            Some(end) if end < newer.interval.from => out.push(
                Diag::warning(
                    Code::LintTermsGap,
                    format!("no version of the terms is in force from {end} until {}: `{}` ends before `{}` starts", newer.interval.from, older.id.name, newer.id.name),
                )
                .in_file(&newer.file)
                .label(newer.effective_span.clone(), format!("starts {}", newer.interval.from))
                .with_help(format!("if the new terms follow on directly, make `{}` end `until {}`", older.id.name, newer.interval.from)),
            ),
            Some(end) if end > newer.interval.from => out.push(
                Diag::warning(
                    Code::LintTermsOverlap,
                    format!("`{}` runs until {end}, but `{}` supersedes it from {}", older.id.name, newer.id.name, newer.interval.from),
                )
                .in_file(&newer.file)
                .label(sup.span.clone(), format!("cuts `{}` short on {}", older.id.name, newer.interval.from))
                .with_help(format!("say when the old terms really end: `until {}` on `{}`", newer.interval.from, older.id.name)),
            ),
            None => {} // open-ended, ended by supersession: the normal case
            Some(_) => {}
        }
    }
}

/// The lints of aggregate clauses: parameters no clause reads, figures
/// nothing reads, summed fields declared without a type, running totals
/// of figures that are not sums.
fn aggregates(rules: &RuleSet, out: &mut Vec<Diag>) {
    let mut params_read: HashSet<String> = HashSet::new();
    for t in &rules.terms {
        for c in &t.clauses {
            let Some(agg) = &c.aggregate else { continue };
            let mut note = |a: &Arith| {
                a.walk(&mut |x| {
                    if let ArithKind::Param(n) = &x.kind {
                        params_read.insert(n.clone());
                    }
                })
            };
            agg.figures.iter().for_each(|f| note(&f.value));
            agg.conditions().for_each(|g| g.operands(&mut note));
            unused_figures(t, c, agg, out);
            untyped_sums(rules, t, agg, out);
            running_totals(t, agg, out);
        }
    }
    for p in &rules.params {
        if !params_read.contains(&p.id.name) {
            out.push(
                Diag::warning(
                    Code::LintUnusedParam,
                    format!("parameter `{}` is never read", p.id.name),
                )
                .in_file(&p.file)
                .label(p.id.span.clone(), "declared here, read by no clause")
                .with_help(format!(
                    "read it in a figure or a group condition (`require total <= {}`), or delete the declaration",
                    p.id.name
                )),
            );
        }
    }
}

/// Figures that no condition, message or read figure uses. Figures read
/// only earlier ones, so one pass from the last marks every live figure.
fn unused_figures(terms: &Terms, clause: &Clause, agg: &Aggregate, out: &mut Vec<Diag>) {
    let mut live = vec![false; agg.figures.len()];
    let mark = |a: &Arith, live: &mut Vec<bool>| {
        a.walk(&mut |x| {
            if let ArithKind::Figure(i) | ArithKind::Running(i) = x.kind
                && let Some(l) = live.get_mut(i)
            {
                *l = true;
            }
        })
    };
    for g in agg.conditions() {
        g.operands(&mut |a| mark(a, &mut live));
    }
    for part in clause.message.iter().flat_map(|m| m.parts.iter()) {
        if let MessagePart::Field(p, _) = part
            && p.0.len() == 1
            && let Some(i) = agg.figures.iter().position(|f| f.id.name == p.root())
            && let Some(l) = live.get_mut(i)
        {
            *l = true;
        }
    }
    for (i, f) in agg.figures.iter().enumerate().rev() {
        if live.get(i).copied().unwrap_or(false) {
            mark(&f.value, &mut live);
        }
    }
    for (f, is_live) in agg.figures.iter().zip(&live) {
        if !is_live {
            out.push(
                Diag::warning(
                    Code::LintUnusedFigure,
                    format!(
                        "figure `{}` of clause `{}` is never read",
                        f.id.name, clause.id.name
                    ),
                )
                .in_file(&terms.file)
                .label(f.id.span.clone(), "no condition or message reads it")
                .with_help(format!(
                    "read it in `require`, `unless` or the message (`{{{}}}`), or delete the `let`",
                    f.id.name
                )),
            );
        }
    }
}

/// `sum of` a field only a `field` declaration without a type makes known.
fn untyped_sums(rules: &RuleSet, terms: &Terms, agg: &Aggregate, out: &mut Vec<Diag>) {
    let mut warned: HashSet<String> = HashSet::new();
    for a in &agg.aggs {
        let (AggOp::Sum, Some(field)) = (a.op, &a.field) else {
            continue;
        };
        let Some(decl) = rules.fields.iter().find(|d| d.path == *field) else {
            continue;
        };
        if decl.ty.is_some() || !warned.insert(field.to_string()) {
            continue;
        }
        out.push(
            Diag::warning(
                Code::LintUntypedSum,
                format!("`{field}` is summed, but its `field` declaration gives it no type"),
            )
            .in_file(&terms.file)
            .label(a.span.clone(), "summed here")
            .with_help(format!(
                "declare it `field {field} \"…\" decimal`, so that a value that is not an exact number is reported as malformed with its file and line, not a sum made unknown"
            )),
        );
    }
}

/// Whether a figure's value adds up over periods: sums, counts, and
/// amounts made of them with `+`, `-` and constant factors.
fn is_sum(agg: &Aggregate, a: &Arith, depth: usize) -> bool {
    if depth > 32 {
        return false;
    }
    match &a.kind {
        ArithKind::Agg(i) => agg
            .aggs
            .get(*i)
            .is_some_and(|s| matches!(s.op, AggOp::Sum | AggOp::Count)),
        ArithKind::Figure(i) => agg
            .figures
            .get(*i)
            .is_some_and(|f| is_sum(agg, &f.value, depth + 1)),
        ArithKind::Add(x, y) | ArithKind::Sub(x, y) => {
            is_sum(agg, x, depth + 1) && is_sum(agg, y, depth + 1)
        }
        ArithKind::Mul(x, y) => match (&x.kind, &y.kind) {
            (ArithKind::Lit(_), _) => is_sum(agg, y, depth + 1),
            (_, ArithKind::Lit(_)) => is_sum(agg, x, depth + 1),
            _ => false,
        },
        _ => false,
    }
}

fn running_totals(terms: &Terms, agg: &Aggregate, out: &mut Vec<Diag>) {
    for f in &agg.figures {
        f.value.walk(&mut |x| {
            let ArithKind::Running(i) = x.kind else { return };
            let Some(of) = agg.figures.get(i) else { return };
            if !is_sum(agg, &of.value, 0) {
                out.push(
                    Diag::warning(
                        Code::LintRunningTotalNotSum,
                        format!(
                            "`running total of {}` adds up a figure that is not a sum",
                            of.id.name
                        ),
                    )
                    .in_file(&terms.file)
                    .label(x.span.clone(), "a running total")
                    .with_help(format!(
                        "a running total adds `{}` over the periods of the terms, which means something only for sums and counts: keep a running total of the sum it is made of",
                        of.id.name
                    )),
                );
            }
        });
    }
}
