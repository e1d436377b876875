//! Step three: checks across the whole rule set.
//!
//! Several rule files form one rule set, so names are resolved here rather
//! than in lowering: defines, sources, exceptions and superseded terms; a
//! single-word field that names a define becomes a [`ExprKind::DefineRef`].
//! The checks report every problem with "did you mean" help, and return
//! warnings (terms that are never in force) separately from errors. A field
//! no input can have is an error (see [`super::fields`]), and so is a
//! condition nested too deep with its defines expanded; every walk over the
//! chain of defines keeps its own stack.

use super::RuleSet;
use super::ast::*;
use super::fields;
use crate::date::Interval;
use crate::diag::{Code, Diag};
use crate::source::SourceFile;
use crate::text::closest;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

pub use super::fields::{KNOWN_FIELDS, KnownField, known_field};

pub struct Checker {
    pub errors: Vec<Diag>,
    pub warnings: Vec<Diag>,
    defines: HashMap<String, usize>,
    set_defines: HashSet<usize>,
}

fn err(
    file: &Arc<SourceFile>,
    code: Code,
    message: String,
    at: Span,
    label: &str,
    help: String,
) -> Diag {
    Diag::error(code, message)
        .in_file(file)
        .label(at, label)
        .with_help(help)
}

impl Checker {
    /// Only the check that no clause is in force twice on a day: what
    /// signing a draft ([`RuleSet::sign`]) can newly break.
    pub fn overlaps_only(rules: &RuleSet) -> (Vec<Diag>, Vec<Diag>) {
        let mut c = Checker {
            errors: Vec::new(),
            warnings: Vec::new(),
            defines: HashMap::new(),
            set_defines: HashSet::new(),
        };
        c.overlaps(rules);
        (c.errors, c.warnings)
    }

    pub fn run(rules: &mut RuleSet) -> (Vec<Diag>, Vec<Diag>) {
        let mut c = Checker {
            errors: Vec::new(),
            warnings: Vec::new(),
            defines: HashMap::new(),
            set_defines: HashSet::new(),
        };
        c.duplicates(rules);
        for (i, d) in rules.defines.iter().enumerate() {
            c.defines.entry(d.id.name.clone()).or_insert(i);
            if matches!(d.value.kind, ExprKind::Set(_) | ExprKind::Literal(_)) {
                c.set_defines.insert(i);
            }
        }
        c.resolve_names(rules);
        if !c.cycles(rules) {
            c.depths(rules);
        }
        c.references(rules);
        c.overlaps(rules);
        (c.errors, c.warnings)
    }

    fn duplicates(&mut self, rules: &RuleSet) {
        let top_level = rules
            .sources
            .iter()
            .map(|s| ("source", &s.id, &s.file))
            .chain(rules.defines.iter().map(|d| ("define", &d.id, &d.file)))
            .chain(rules.terms.iter().map(|t| ("terms", &t.id, &t.file)))
            .chain(rules.params.iter().map(|p| ("param", &p.id, &p.file)));
        let mut seen: HashMap<(&str, &str), (&Arc<SourceFile>, &Span)> = HashMap::new();
        for (kind, id, file) in top_level {
            let key = (kind, id.name.as_str());
            let Some((first_file, first_span)) = seen.get(&key) else {
                seen.insert(key, (file, &id.span));
                continue;
            };
            let mut d = Diag::error(
                Code::CheckDuplicateName,
                format!("{kind} `{}` is declared twice", id.name),
            )
            .in_file(file)
            .label(id.span.clone(), "declared again here");
            // In another file, a related note says where.
            d = d.label_at(
                &crate::source::Origin::new(first_file, (*first_span).clone()),
                "first declared here",
            );
            self.errors
                .push(d.with_help(format!("rename one of them, or delete the second {kind}")));
        }
        for t in &rules.terms {
            let clauses = t.clauses.iter().map(|c| &c.id);
            let exceptions = t.exceptions.iter().map(|e| &e.id);
            for (kind, ids, help) in [
                (
                    "clause",
                    clauses.collect::<Vec<_>>(),
                    "a clause id is unique within its terms: rename one, or merge them",
                ),
                (
                    "exception",
                    exceptions.collect::<Vec<_>>(),
                    "rename one of them, or delete the second",
                ),
            ] {
                let mut seen: HashMap<&str, &Span> = HashMap::new();
                for id in ids {
                    if let Some(first) = seen.insert(&id.name, &id.span) {
                        self.errors.push(
                            Diag::error(
                                Code::CheckDuplicateName,
                                format!(
                                    "{kind} `{}` appears twice in terms `{}`",
                                    id.name, t.id.name
                                ),
                            )
                            .in_file(&t.file)
                            .label(id.span.clone(), "declared again here")
                            .label(first.clone(), "first declared here")
                            .with_help(help),
                        );
                    }
                }
            }
        }
    }

    /// Turns single-word fields that name a define into define references,
    /// and reports names that are neither a define nor a known field.
    fn resolve_names(&mut self, rules: &mut RuleSet) {
        let define_names: Vec<String> = rules.defines.iter().map(|d| d.id.name.clone()).collect();
        let declared: Vec<crate::value::FieldPath> =
            rules.fields.iter().map(|f| f.path.clone()).collect();
        let declared_roots: Vec<String> = declared.iter().map(|p| p.root().to_string()).collect();
        let param_names: HashSet<String> = rules.params.iter().map(|p| p.id.name.clone()).collect();
        let resolve = |expr: &mut Expr, file: &Arc<SourceFile>, errors: &mut Vec<Diag>| {
            expr.walk_mut(&mut |e| {
                let ExprKind::Field(path) = &e.kind else { return };
                let root = path.root().to_string();
                if param_names.contains(&root) && path.0.len() == 1 {
                    errors.push(err(file, Code::CheckBadParam, format!("parameter `{root}` is read where records are tested"), e.span.clone(), "a parameter", "a parameter is compared in an aggregate clause's figures and group conditions (`require cumulative_paid >= {root}`), where an unsupplied one makes the outcome unresolved; a record-level condition cannot read it".to_string()));
                    return;
                }
                if let Some(&idx) = self.defines.get(&root) {
                    if path.0.len() == 1 {
                        e.kind = ExprKind::DefineRef(root, idx);
                    } else {
                        errors.push(err(file, Code::CheckUnknownField, format!("`{root}` is a define, not a record field"), e.span.clone(), "a define has no fields", format!("use `{root}` on its own, or a field of the record such as `tags.{}`", path.0.get(1).map(String::as_str).unwrap_or("x"))));
                    }
                    return;
                }
                if fields::origin(path, &declared).is_some() {
                    return;
                }
                unknown_name(&root, e.span.clone(), file, &define_names, &declared_roots, errors, "field or define");
            });
        };
        for d in rules.defines.iter_mut() {
            let file = d.file.clone();
            resolve(&mut d.value, &file, &mut self.errors);
        }
        for f in rules.fields.iter_mut() {
            let file = f.file.clone();
            if let Some(e) = &mut f.required {
                resolve(e, &file, &mut self.errors);
            }
        }
        for t in rules.terms.iter_mut() {
            let file = t.file.clone();
            for c in t.clauses.iter_mut() {
                for e in c.applies.iter_mut().chain(c.unless.iter_mut()) {
                    resolve(e, &file, &mut self.errors);
                }
                if let Check::Require(e) | Check::Forbid(e) = &mut c.check {
                    resolve(e, &file, &mut self.errors);
                }
                if let Some(agg) = c.aggregate.as_deref_mut() {
                    for e in agg.record_exprs_mut() {
                        resolve(e, &file, &mut self.errors);
                    }
                }
                if let Some(m) = &c.message
                    && c.aggregate.is_none()
                {
                    for part in &m.parts {
                        if let MessagePart::Field(path, span) = part
                            && fields::origin(path, &declared).is_none()
                        {
                            let before = self.errors.len();
                            unknown_name(
                                path.root(),
                                span.clone(),
                                &file,
                                &[],
                                &declared_roots,
                                &mut self.errors,
                                "field",
                            );
                            for d in self.errors.iter_mut().skip(before) {
                                d.code = Code::CheckUnknownInterpolation;
                            }
                        }
                    }
                }
            }
            for x in t.exceptions.iter_mut() {
                if let Some(e) = &mut x.when {
                    resolve(e, &file, &mut self.errors);
                }
            }
        }
        self.resolve_aggregates(rules, &declared, &declared_roots);
        // Type checks need resolved names.
        for d in &rules.defines {
            self.types(&d.value, &d.file, rules);
        }
        for t in &rules.terms {
            for c in &t.clauses {
                let exprs = c.applies.iter().chain(c.unless.iter());
                for e in exprs {
                    self.types(e, &t.file, rules);
                }
                if let Check::Require(e) | Check::Forbid(e) = &c.check {
                    self.types(e, &t.file, rules);
                }
            }
            for x in &t.exceptions {
                if let Some(e) = &x.when {
                    self.types(e, &t.file, rules);
                }
            }
        }
    }

    /// An aggregate clause's names: the fields it groups and aggregates
    /// by are fields some input has; each name in a figure or a group
    /// condition is an earlier figure, a group key, a parameter or a set
    /// define (inlined as its set); message holes name one of those.
    fn resolve_aggregates(
        &mut self,
        rules: &mut RuleSet,
        declared: &[crate::value::FieldPath],
        declared_roots: &[String],
    ) {
        let params: Vec<String> = rules.params.iter().map(|p| p.id.name.clone()).collect();
        // Set defines of literals, as figure operands.
        let mut sets: HashMap<String, Arith> = HashMap::new();
        for d in &rules.defines {
            if let Some(a) = literal_set(&d.value, &d.file) {
                sets.insert(d.id.name.clone(), a);
            }
        }
        let define_names: Vec<String> = rules.defines.iter().map(|d| d.id.name.clone()).collect();
        for t in rules.terms.iter_mut() {
            let file = t.file.clone();
            for c in t.clauses.iter_mut() {
                let Some(agg) = c.aggregate.as_deref_mut() else {
                    continue;
                };
                let mut fields: Vec<(crate::value::FieldPath, Span)> = agg
                    .per
                    .iter()
                    .filter_map(|k| match k {
                        GroupKey::Field(p, s) => Some((p.clone(), s.clone())),
                        GroupKey::Period(..) => None,
                    })
                    .collect();
                fields.extend(
                    agg.aggs
                        .iter()
                        .filter_map(|a| a.field.clone().map(|f| (f, a.span.clone()))),
                );
                for (path, at) in fields {
                    if fields::origin(&path, declared).is_none() {
                        unknown_name(
                            path.root(),
                            at,
                            &file,
                            &[],
                            declared_roots,
                            &mut self.errors,
                            "field",
                        );
                    }
                }
                let keys: Vec<String> = agg.per.iter().map(GroupKey::name).collect();
                let figure_names: Vec<String> =
                    agg.figures.iter().map(|f| f.id.name.clone()).collect();
                // (By name: a generated file may have tens of thousands.)
                let figure_index: HashMap<&str, usize> = figure_names
                    .iter()
                    .enumerate()
                    .rev()
                    .map(|(i, n)| (n.as_str(), i))
                    .collect();
                let mut errors = Vec::new();
                let resolve = |a: &mut Arith, figures_before: usize, errors: &mut Vec<Diag>| {
                    a.walk_mut(&mut |x| {
                        let ArithKind::Name(name) = &x.kind else { return };
                        let name = name.clone();
                        if let Some(&i) = figure_index.get(name.as_str()) {
                            if i < figures_before {
                                x.kind = ArithKind::Figure(i);
                            } else {
                                errors.push(err(&file, Code::CheckAggregate, format!("figure `{name}` is used before it is defined"), x.span.clone(), "defined below", "a figure reads only the figures above it: move its `let` up".to_string()));
                            }
                        } else if let Some(i) = keys.iter().position(|k| *k == name) {
                            x.kind = ArithKind::Key(i);
                        } else if params.contains(&name) {
                            x.kind = ArithKind::Param(name);
                        } else if let Some(set) = sets.get(&name) {
                            *x = Arith { kind: set.kind.clone(), span: x.span.clone() };
                        } else if define_names.contains(&name) {
                            errors.push(err(&file, Code::CheckAggregate, format!("define `{name}` tests records, not groups"), x.span.clone(), "a record-level define", format!("test the records in `over …` or an aggregation's `where {name}`; a group condition reads figures, group keys and parameters")));
                        } else {
                            let mut names: Vec<&str> = figure_names.iter().take(figures_before).map(String::as_str).collect();
                            names.extend(keys.iter().map(String::as_str));
                            names.extend(params.iter().map(String::as_str));
                            let help = match closest(&name, names.iter().copied()) {
                                Some((c, _)) => format!("did you mean `{c}`?"),
                                None if names.is_empty() => "define a figure first: `let total = sum of amount_usd`".to_string(),
                                None => format!("the names here are: {}", names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")),
                            };
                            errors.push(err(&file, Code::CheckAggregate, format!("`{name}` is not a figure, group key or parameter of clause `{}`", c.id.name), x.span.clone(), "unknown name", help));
                        }
                    });
                };
                for i in 0..agg.figures.len() {
                    if let Some(f) = agg.figures.get_mut(i) {
                        resolve(&mut f.value, i, &mut errors);
                    }
                }
                let all = agg.figures.len();
                for g in agg.conditions_mut() {
                    g.operands_mut(&mut |a| resolve(a, all, &mut errors));
                }
                if agg.figures.is_empty() {
                    errors.push(err(&file, Code::CheckAggregate, format!("aggregate clause `{}` computes no figure", c.id.name), agg.span.clone(), "groups records", "compute what the clause judges: `let revenue = sum of amount_usd where entry == \"product_revenue\"`".to_string()));
                }
                if let Some(m) = &c.message {
                    for part in &m.parts {
                        if let MessagePart::Field(path, span) = part {
                            let n = path.to_string();
                            if !(figure_index.contains_key(n.as_str())
                                || keys.contains(&n)
                                || params.contains(&n))
                            {
                                let mut names: Vec<&str> =
                                    figure_names.iter().map(String::as_str).collect();
                                names.extend(keys.iter().map(String::as_str));
                                let help = match closest(&n, names.iter().copied()) {
                                    Some((c, _)) => format!("did you mean `{{{c}}}`?"),
                                    None => "an aggregate clause's message shows its figures and group keys".to_string(),
                                };
                                errors.push(err(
                                    &file,
                                    Code::CheckUnknownInterpolation,
                                    format!(
                                        "`{{{n}}}` is not a figure or group key of clause `{}`",
                                        c.id.name
                                    ),
                                    span.clone(),
                                    "unknown",
                                    help,
                                ));
                            }
                        }
                    }
                }
                self.errors.extend(errors);
            }
        }
    }

    fn is_set(&self, e: &Expr) -> bool {
        match &e.kind {
            ExprKind::Set(_) => true,
            ExprKind::DefineRef(_, i) => self.set_defines.contains(i),
            _ => false,
        }
    }

    fn types(&mut self, expr: &Expr, file: &Arc<SourceFile>, rules: &RuleSet) {
        let mut found = Vec::new();
        expr.walk(&mut |e| match &e.kind {
            ExprKind::Compare(a, op, b) => {
                for side in [a, b] {
                    if self.is_set(side) {
                        let (l, r) = (snippet(file, &a.span), snippet(file, &b.span));
                        let help = if *op == CmpOp::Ne { format!("to test membership write `{l} not in {r}`") } else { format!("to test membership write `{l} in {r}`") };
                        found.push(err(file, Code::CheckTypeMismatch, format!("`{}` compares with a set", op.as_str()), side.span.clone(), "this is a set", help));
                    }
                }
            }
            ExprKind::Matches(_, b) => {
                let bad = match &b.kind {
                    ExprKind::Literal(v) => !matches!(v, crate::value::Value::Str(_)),
                    ExprKind::Set(items) => items.iter().any(|i| matches!(&i.kind, ExprKind::Literal(v) if !matches!(v, crate::value::Value::Str(_)))),
                    _ => false,
                };
                if bad {
                    found.push(err(file, Code::CheckTypeMismatch, "`matches` takes a glob pattern string".into(), b.span.clone(), "not a string", format!("quote the pattern (`matches \"{}*\"`), or compare numbers with `==`, `<`, `>=`", snippet(file, &b.span))));
                }
            }
            ExprKind::In { rhs, lhs, negated } => {
                if let ExprKind::Literal(crate::value::Value::Str(s)) = &rhs.kind {
                    let op = if *negated { "!=" } else { "==" };
                    found.push(err(file, Code::CheckTypeMismatch, "`in` takes a set or an IP network".into(), rhs.span.clone(), "a single string", format!("write `{} {op} \"{s}\"`, or a set: `{{ \"{s}\", … }}`", snippet(file, &lhs.span))));
                }
            }
            _ => {}
        });
        let _ = rules;
        self.errors.extend(found);
    }

    /// Define references form no cycle. The search keeps its own stack: a
    /// chain of defines is as long as the input makes it.
    fn cycles(&mut self, rules: &RuleSet) -> bool {
        let deps = define_deps(rules);
        let n = deps.len();
        let mut state = vec![0u8; n]; // 0 new, 1 on the path, 2 done
        for root in 0..n {
            if state.get(root) != Some(&0) {
                continue;
            }
            // The path from `root`, each define with the next dependency
            // to visit.
            let mut path: Vec<(usize, usize)> = vec![(root, 0)];
            if let Some(s) = state.get_mut(root) {
                *s = 1;
            }
            while let Some(&mut (i, ref mut next)) = path.last_mut() {
                let Some(&d) = deps.get(i).and_then(|ds| ds.get(*next)) else {
                    if let Some(s) = state.get_mut(i) {
                        *s = 2;
                    }
                    path.pop();
                    continue;
                };
                *next += 1;
                match state.get(d) {
                    Some(0) => {
                        if let Some(s) = state.get_mut(d) {
                            *s = 1;
                        }
                        path.push((d, 0));
                    }
                    Some(1) => {
                        let start = path.iter().position(|&(p, _)| p == d).unwrap_or(0);
                        let cycle: Vec<usize> = path.iter().skip(start).map(|&(p, _)| p).collect();
                        self.report_cycle(rules, &cycle);
                        return true;
                    }
                    _ => {}
                }
            }
        }
        false
    }

    fn report_cycle(&mut self, rules: &RuleSet, cycle: &[usize]) {
        let names: Vec<&str> = cycle
            .iter()
            .filter_map(|&c| rules.defines.get(c))
            .map(|d| d.id.name.as_str())
            .collect();
        if let Some(first) = cycle.first().and_then(|&c| rules.defines.get(c)) {
            let chain = format!(
                "{} → {}",
                names.join(" → "),
                names.first().copied().unwrap_or("")
            );
            self.errors.push(err(
                &first.file,
                Code::CheckCyclicDefine,
                format!("define `{}` refers to itself: {chain}", first.id.name),
                first.id.span.clone(),
                "part of a cycle",
                "a define cannot depend on itself: write one of them in terms of record fields"
                    .into(),
            ));
        }
    }

    /// No condition nests deeper than [`MAX_DEPTH`] with its defines
    /// expanded: every pass that follows define references (evaluation,
    /// compilation, coverage) recurses once per level. Each define's depth
    /// is worked out once, dependencies first, with an explicit stack; only
    /// the first define or clause over the limit on a chain is reported.
    fn depths(&mut self, rules: &RuleSet) {
        let deps = define_deps(rules);
        let n = deps.len();
        let mut depth: Vec<Option<usize>> = vec![None; n];
        for root in 0..n {
            // Post-order: a define is measured after everything it uses
            // (there are no cycles: they were ruled out before).
            let mut stack = vec![(root, false)];
            while let Some((i, ready)) = stack.pop() {
                if depth.get(i).is_none_or(Option::is_some) {
                    continue;
                }
                // INVARIANT: `i < n == deps.len()`: `depth.get(i)` was `Some` just above.
                #[expect(clippy::indexing_slicing, reason = "i < deps.len(), tested above")]
                let uses = deps[i].as_slice();
                if !ready {
                    stack.push((i, true));
                    stack.extend(
                        uses.iter()
                            .filter(|&&d| depth.get(d).is_some_and(Option::is_none))
                            .map(|&d| (d, false)),
                    );
                    continue;
                }
                let Some(d) = rules.defines.get(i) else {
                    continue;
                };
                let refs_over = uses
                    .iter()
                    .any(|&r| depth.get(r).copied().flatten().unwrap_or(0) > MAX_DEPTH);
                let own = expr_depth(&d.value, &depth);
                if own > MAX_DEPTH && !refs_over {
                    self.errors
                        .push(too_deep(&d.file, &d.id.name, "define", d.id.span.clone()));
                }
                if let Some(slot) = depth.get_mut(i) {
                    *slot = Some(own);
                }
            }
        }
        for t in &rules.terms {
            let whens = t.exceptions.iter().filter_map(|x| x.when.as_ref());
            let clause_exprs = t.clauses.iter().flat_map(|c| {
                c.applies
                    .iter()
                    .chain(c.unless.iter())
                    .chain(match &c.check {
                        Check::Require(e) | Check::Forbid(e) => Some(e),
                        Check::Manual | Check::Aggregate => None,
                    })
                    .chain(c.aggregate.iter().flat_map(|a| a.record_exprs()))
            });
            for e in clause_exprs.chain(whens) {
                let mut refs_over = false;
                e.walk(&mut |x| {
                    if let ExprKind::DefineRef(_, r) = x.kind {
                        refs_over |= depth.get(r).copied().flatten().unwrap_or(0) > MAX_DEPTH;
                    }
                });
                if !refs_over && expr_depth(e, &depth) > MAX_DEPTH {
                    let what = snippet(&t.file, &e.span);
                    let what: String = what.chars().take(40).collect();
                    self.errors
                        .push(too_deep(&t.file, &what, "condition", e.span.clone()));
                }
            }
        }
    }

    fn references(&mut self, rules: &RuleSet) {
        let source_names: Vec<&str> = rules.sources.iter().map(|s| s.id.name.as_str()).collect();
        let terms_names: Vec<&str> = rules.terms.iter().map(|t| t.id.name.as_str()).collect();
        let source_set: HashSet<&str> = source_names.iter().copied().collect();
        let terms_set: HashSet<&str> = terms_names.iter().copied().collect();
        for t in &rules.terms {
            if let Some(sup) = &t.supersedes {
                if sup.name == t.id.name {
                    self.errors.push(err(
                        &t.file,
                        Code::CheckUnknownTerms,
                        format!("terms `{}` supersede themselves", t.id.name),
                        sup.span.clone(),
                        "the same terms",
                        "name the earlier terms that these replace".into(),
                    ));
                } else if !terms_set.contains(sup.name.as_str()) {
                    let help = did_you_mean(&sup.name, terms_names.iter().copied(), "terms");
                    self.errors.push(err(
                        &t.file,
                        Code::CheckUnknownTerms,
                        format!("no terms named `{}`", sup.name),
                        sup.span.clone(),
                        "not declared",
                        help,
                    ));
                }
            }
            let exc_names: Vec<&str> = t.exceptions.iter().map(|e| e.id.name.as_str()).collect();
            let exc_set: HashSet<&str> = exc_names.iter().copied().collect();
            let cites = t
                .clauses
                .iter()
                .flat_map(|c| c.cites.iter())
                .chain(t.exceptions.iter().flat_map(|e| e.cites.iter()));
            for cite in cites {
                if !source_set.contains(cite.source.name.as_str()) {
                    let help =
                        did_you_mean(&cite.source.name, source_names.iter().copied(), "source");
                    let help = if help.starts_with("did you mean") {
                        help
                    } else {
                        format!(
                            "declare it at the top of the file: `source {} \"title\" dated YYYY-MM-DD`",
                            cite.source.name
                        )
                    };
                    self.errors.push(err(
                        &t.file,
                        Code::CheckUnknownSource,
                        format!("no source named `{}`", cite.source.name),
                        cite.source.span.clone(),
                        "not declared",
                        help,
                    ));
                }
            }
            for c in &t.clauses {
                for x in &c.excepts {
                    if exc_set.contains(x.name.as_str()) {
                        continue;
                    }
                    let elsewhere = rules
                        .terms
                        .iter()
                        .find(|o| o.exceptions.iter().any(|e| e.id.name == x.name));
                    let help = match (
                        elsewhere,
                        did_you_mean(&x.name, exc_names.iter().copied(), "exception"),
                    ) {
                        (_, h) if h.starts_with("did you mean") => h,
                        (Some(o), _) => format!(
                            "`{}` is declared in terms `{}`: an exception belongs to one version of the terms, so declare it in `{}` too",
                            x.name, o.id.name, t.id.name
                        ),
                        (None, _) => format!(
                            "declare it in the same terms: `exception {} \"…\" {{ when … }}`",
                            x.name
                        ),
                    };
                    let mut d = err(
                        &t.file,
                        Code::CheckUnknownException,
                        format!("no exception named `{}` in terms `{}`", x.name, t.id.name),
                        x.span.clone(),
                        "not declared in these terms",
                        help,
                    );
                    // The exception it was meant for, where it is declared.
                    if let Some(o) = elsewhere
                        && let Some(e) = o.exceptions.iter().find(|e| e.id.name == x.name)
                    {
                        d = d.label_at(
                            &o.origin(&e.id.span),
                            format!("declared in terms `{}`", o.id.name),
                        );
                    }
                    self.errors.push(d);
                }
            }
        }
    }

    /// The same clause id must not be in force twice on any day.
    fn overlaps(&mut self, rules: &RuleSet) {
        type Version<'a> = (&'a Terms, &'a Clause, Option<Interval>);
        let mut by_clause: BTreeMap<&str, Vec<Version<'_>>> = BTreeMap::new();
        for t in rules.terms.iter().filter(|t| t.dates_valid) {
            let in_force = rules.terms_in_force_interval(t);
            // A draft is never in force until it is signed: that is its point.
            if in_force.is_none() && !t.is_proposed() {
                self.warnings.push(
                    Diag::warning(Code::CheckNeverInForce, format!("terms `{}` are never in force", t.id.name))
                        .in_file(&t.file)
                        .label(t.id.span.clone(), "superseded from the day they start")
                        .with_help("the terms that supersede these start on or before their effective date: check the dates"),
                );
            }
            for c in &t.clauses {
                let iv = in_force.and_then(|i| i.intersect(&c.interval(t)));
                by_clause
                    .entry(c.id.name.as_str())
                    .or_default()
                    .push((t, c, iv));
            }
        }
        for versions in by_clause.values() {
            for (i, (ta, ca, ia)) in versions.iter().enumerate() {
                for (tb, cb, ib) in versions.iter().skip(i + 1) {
                    if std::ptr::eq(*ta, *tb) {
                        continue; // a duplicate, reported as such
                    }
                    let (Some(a), Some(b)) = (ia, ib) else {
                        continue;
                    };
                    if let Some(both) = a.intersect(b) {
                        // The version that starts later is the one that
                        // would supersede, or the earlier one should end.
                        let (old_t, new_t, new_iv) = if a.from <= b.from {
                            (ta, tb, b)
                        } else {
                            (tb, ta, a)
                        };
                        let mut d = Diag::error(
                            Code::CheckOverlappingClause,
                            format!("clause `{}` is in force twice during {both}: in terms `{}` and `{}`", ca.id.name, ta.id.name, tb.id.name),
                        )
                        .in_file(&tb.file)
                        .label(cb.id.span.clone(), format!("in `{}` {}", tb.id.name, b));
                        if Arc::ptr_eq(&ta.file, &tb.file) {
                            d = d.label(ca.id.span.clone(), format!("in `{}` {}", ta.id.name, a));
                        }
                        self.errors.push(d.with_help(format!(
                            "say which version wins: `terms {} … supersedes {}`, or end `{}` with `until {}`",
                            new_t.id.name, old_t.id.name, old_t.id.name, new_iv.from
                        )));
                    }
                }
            }
        }
    }
}

/// How deep a condition may nest with its defines expanded.
pub const MAX_DEPTH: usize = super::parse::MAX_NESTING;

/// The defines each define refers to, in order.
fn define_deps(rules: &RuleSet) -> Vec<Vec<usize>> {
    rules
        .defines
        .iter()
        .map(|d| {
            let mut out = Vec::new();
            d.value.walk(&mut |e| {
                if let ExprKind::DefineRef(_, i) = e.kind {
                    out.push(i);
                }
            });
            out.sort_unstable();
            out.dedup();
            out
        })
        .collect()
}

/// The nesting depth of an expression, a define reference counting as the
/// depth of its define (which must be known).
fn expr_depth(e: &Expr, defines: &[Option<usize>]) -> usize {
    let sub = |x: &Expr| expr_depth(x, defines);
    let inner = match &e.kind {
        ExprKind::Or(items) | ExprKind::And(items) | ExprKind::Set(items) => {
            items.iter().map(sub).max().unwrap_or(0)
        }
        ExprKind::Not(x) | ExprKind::Exists(x) | ExprKind::Regex(x, _) => sub(x),
        ExprKind::Compare(a, _, b)
        | ExprKind::In { lhs: a, rhs: b, .. }
        | ExprKind::Matches(a, b) => sub(a).max(sub(b)),
        ExprKind::DefineRef(_, i) => defines.get(*i).copied().flatten().unwrap_or(0),
        ExprKind::Field(_) | ExprKind::Literal(_) => 0,
    };
    inner.saturating_add(1)
}

/// A define that is a literal or a set of literals, as a figure operand
/// (numbers exact from their text).
fn literal_set(e: &Expr, file: &Arc<SourceFile>) -> Option<Arith> {
    let lit = |e: &Expr| -> Option<Arith> {
        let text = file.text.get(e.span.clone()).unwrap_or("").trim();
        let lit = match &e.kind {
            ExprKind::Literal(crate::value::Value::Str(s)) => Lit::Str(s.clone()),
            ExprKind::Literal(crate::value::Value::Num(_)) => {
                Lit::Num(super::lower::exact_decimal(text)?)
            }
            ExprKind::Literal(crate::value::Value::Date(d)) => Lit::Date(*d),
            ExprKind::Literal(crate::value::Value::Bool(b)) => Lit::Bool(*b),
            _ => return None,
        };
        Some(Arith {
            kind: ArithKind::Lit(lit),
            span: e.span.clone(),
        })
    };
    match &e.kind {
        ExprKind::Set(items) => Some(Arith {
            kind: ArithKind::Set(items.iter().map(lit).collect::<Option<Vec<_>>>()?),
            span: e.span.clone(),
        }),
        _ => lit(e),
    }
}

fn too_deep(file: &Arc<SourceFile>, name: &str, what: &str, at: Span) -> Diag {
    Diag::error(
        Code::CheckTooDeep,
        format!("{what} `{name}` nests more than {MAX_DEPTH} levels deep with its defines expanded"),
    )
    .in_file(file)
    .label(at, "too deep")
    .with_help("a chain of defines this long is a generated file's mistake: make each define use record fields, or fewer defines, directly")
}

fn snippet(file: &Arc<SourceFile>, span: &Span) -> String {
    file.text
        .get(span.clone())
        .unwrap_or("…")
        .trim()
        .to_string()
}

fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
    kind: &str,
) -> String {
    let candidates: Vec<&str> = candidates.into_iter().collect();
    match closest(word, candidates.iter().copied()) {
        Some((c, _)) => format!("did you mean `{c}`?"),
        None if candidates.is_empty() => format!("no {kind} is declared"),
        None => format!(
            "the declared {kind} names are: {}",
            candidates
                .iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Reports a name that is neither a define nor a field any input can have
/// (see [`fields`]): always an error, with "did you mean" when a define or
/// a field is close, since an absent field would make every comparison
/// false, turning a typo into a silent pass or a false violation.
fn unknown_name(
    root: &str,
    span: Span,
    file: &Arc<SourceFile>,
    defines: &[String],
    declared: &[String],
    errors: &mut Vec<Diag>,
    what: &str,
) {
    let near_define = closest(root, defines.iter().map(String::as_str));
    let mut names: Vec<&str> = fields::root_names().collect();
    names.extend(declared.iter().map(String::as_str));
    let near_field = closest(root, names);
    let pick = match (near_define, near_field) {
        (Some((d, dd)), Some((_, fd))) if dd <= fd => {
            Some((Code::CheckUnknownReference, d, "define"))
        }
        (_, Some((f, _))) => Some((Code::CheckUnknownField, f, "field")),
        (Some((d, _)), None) => Some((Code::CheckUnknownReference, d, "define")),
        (None, None) => None,
    };
    errors.push(match pick {
        Some((code, suggestion, kind)) => err(
            file,
            code,
            format!("no {what} named `{root}`"),
            span,
            "not declared",
            format!("did you mean the {kind} `{suggestion}`?"),
        ),
        None => err(
            file,
            Code::CheckUnknownField,
            format!("no input has a field `{root}`"),
            span,
            "unknown field",
            format!(
                "{}; if your export has this field, declare it at the top of the file: `field {root} \"what it is\"`, and for a Terraform attribute write `attributes.{root}`",
                fields::summary()
            ),
        ),
    });
}

/// Undoes what [`Checker::run`] does to a file's items in place: each
/// define reference is a field path again, and each figure, group key,
/// parameter, and set or value define inlined into an aggregate clause's
/// figures and conditions the name written there. The items can then be
/// checked again with other files: `proviso lsp` keeps one copy of each
/// file's AST, the checked one, and checks it again after an edit
/// elsewhere (a define renamed in another file changes what its
/// references resolve to).
pub fn unresolve(rf: &mut RuleFile) {
    let text = rf.file.text.clone();
    let expr = |e: &mut Expr| {
        e.walk_mut(&mut |x| {
            if let ExprKind::DefineRef(name, _) = &x.kind {
                x.kind = ExprKind::Field(crate::value::FieldPath(vec![name.clone()]));
            }
        })
    };
    for d in &mut rf.defines {
        expr(&mut d.value);
    }
    for f in &mut rf.fields {
        if let Some(e) = &mut f.required {
            expr(e);
        }
    }
    for t in &mut rf.terms {
        for x in &mut t.exceptions {
            if let Some(e) = &mut x.when {
                expr(e);
            }
        }
        for c in &mut t.clauses {
            for e in c.applies.iter_mut().chain(c.unless.iter_mut()) {
                expr(e);
            }
            if let Check::Require(e) | Check::Forbid(e) = &mut c.check {
                expr(e);
            }
            let Some(agg) = c.aggregate.as_deref_mut() else {
                continue;
            };
            for e in agg.record_exprs_mut() {
                expr(e);
            }
            let figures: Vec<String> = agg.figures.iter().map(|f| f.id.name.clone()).collect();
            let keys: Vec<String> = agg.per.iter().map(GroupKey::name).collect();
            let name_of = |a: &Arith| -> Option<String> {
                match &a.kind {
                    ArithKind::Figure(i) => figures.get(*i).cloned(),
                    ArithKind::Key(i) => keys.get(*i).cloned(),
                    ArithKind::Param(n) => Some(n.clone()),
                    // An inlined define keeps the span of its name.
                    ArithKind::Set(_) | ArithKind::Lit(_) => {
                        let written = text.get(a.span.clone())?;
                        let end = written
                            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                            .unwrap_or(written.len());
                        let name = written.get(..end)?;
                        let is_name = name
                            .starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                            && !matches!(name, "true" | "false" | "unknown");
                        is_name.then(|| name.to_string())
                    }
                    _ => None,
                }
            };
            let arith = |a: &mut Arith| {
                a.walk_mut(&mut |x| {
                    if let Some(n) = name_of(x) {
                        x.kind = ArithKind::Name(n);
                    }
                })
            };
            for f in &mut agg.figures {
                arith(&mut f.value);
            }
            for g in agg.conditions_mut() {
                g.operands_mut(&mut |a| arith(a));
            }
        }
    }
}
