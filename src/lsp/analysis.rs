//! One rule set as the editor sees it: the open file and the other rule
//! files of its directory, read, lowered, checked and linted by the same
//! code as `proviso lint` ([`crate::rules::build_partial`],
//! [`crate::rules::lint::lint`]), plus an index of every name's
//! occurrences taken from the AST (declarations and uses of defines,
//! exceptions, sources, terms, parameters; clause names; field paths) for
//! hover, definition, references and rename.
//!
//! A file that does not parse contributes its parse error and nothing else
//! (no names): the rest of the set is still checked.

use crate::diag::Diag;
use crate::rules::RuleSet;
use crate::rules::ast::{ArithKind, Expr, ExprKind, MessagePart, Span};
use crate::source::SourceFile;
use crate::value::FieldPath;
use std::collections::HashMap;
use std::sync::Arc;

/// What a name names.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Kind {
    Define,
    /// Keyed `terms/name`: an exception belongs to one version of the terms.
    Exception,
    Source,
    Terms,
    Param,
    /// Keyed `terms/name`.
    Clause,
    Field(FieldPath),
    /// An aggregate clause's `let`, keyed `terms/clause/name`.
    Figure,
}

impl Kind {
    pub fn word(&self) -> &'static str {
        match self {
            Kind::Define => "define",
            Kind::Exception => "exception",
            Kind::Source => "source",
            Kind::Terms => "terms",
            Kind::Param => "parameter",
            Kind::Clause => "clause",
            Kind::Field(_) => "field",
            Kind::Figure => "figure",
        }
    }

    /// Whether rename may change it (a clause id is also named by waivers,
    /// baselines and findings outside the rule files; a field by inputs).
    pub fn renamable(&self) -> bool {
        !matches!(self, Kind::Clause | Kind::Field(_) | Kind::Figure)
    }
}

/// One occurrence of a name in a rule file.
#[derive(Debug, Clone)]
pub struct Occurrence {
    /// The file's name in the set ([`SourceFile::name`]).
    pub file: String,
    pub span: Span,
    pub kind: Kind,
    /// The name, or `terms/name` for exceptions and clauses.
    pub key: String,
    pub decl: bool,
    /// What the occurrence is part of (`clause \`x\``, `define \`y\``).
    pub owner: Option<String>,
}

/// A checked rule set and what the editor asks of it.
pub struct Analysis {
    pub rules: RuleSet,
    /// Errors (lowering and checking); the set is not evaluated if any.
    pub errors: usize,
    /// Every diagnostic, per file name (those without a file under "").
    pub diags: HashMap<String, Vec<Diag>>,
    pub occurrences: Vec<Occurrence>,
    /// The files that did not parse (they add no names).
    pub unparsed: Vec<String>,
}

impl Analysis {
    /// Builds, checks and (when it has no errors) lints `files`, each
    /// already parsed and lowered ([`crate::rules::lower_file`]).
    pub fn new(files: Vec<Arc<SourceFile>>, lowered: Vec<crate::rules::Lowered>) -> Analysis {
        let (rules, errors, warnings, unparsed) = crate::rules::build_lowered(files, lowered);
        let n_errors = errors.len();
        let mut all = errors;
        all.extend(warnings);
        if n_errors == 0 {
            all.extend(crate::rules::lint::lint(&rules));
        }
        let mut diags: HashMap<String, Vec<Diag>> = HashMap::new();
        for d in all {
            let name = d.file.as_ref().map(|f| f.name.clone()).unwrap_or_default();
            diags.entry(name).or_default().push(d);
        }
        let occurrences = index(&rules);
        Analysis {
            rules,
            errors: n_errors,
            diags,
            occurrences,
            unparsed,
        }
    }

    pub fn file(&self, name: &str) -> Option<&Arc<SourceFile>> {
        self.rules.files.iter().find(|f| f.name == name)
    }

    /// The occurrence at byte `offset` of file `name` (the innermost).
    pub fn at(&self, name: &str, offset: usize) -> Option<&Occurrence> {
        self.occurrences
            .iter()
            .filter(|o| o.file == name && o.span.start <= offset && offset <= o.span.end)
            .min_by_key(|o| o.span.len())
    }

    /// Every occurrence of the same name.
    pub fn all_of<'a>(&'a self, o: &'a Occurrence) -> impl Iterator<Item = &'a Occurrence> + 'a {
        self.occurrences
            .iter()
            .filter(move |x| x.kind == o.kind && x.key == o.key)
    }
}

struct Indexer {
    out: Vec<Occurrence>,
}

impl Indexer {
    fn push(
        &mut self,
        file: &str,
        span: &Span,
        kind: Kind,
        key: String,
        decl: bool,
        owner: Option<&str>,
    ) {
        self.out.push(Occurrence {
            file: file.to_string(),
            span: span.clone(),
            kind,
            key,
            decl,
            owner: owner.map(str::to_string),
        });
    }

    fn expr(&mut self, file: &str, e: &Expr, owner: &str) {
        e.walk(&mut |x| match &x.kind {
            ExprKind::DefineRef(name, _) => self.out.push(Occurrence {
                file: file.to_string(),
                span: x.span.clone(),
                kind: Kind::Define,
                key: name.clone(),
                decl: false,
                owner: Some(owner.to_string()),
            }),
            ExprKind::Field(path) => self.out.push(Occurrence {
                file: file.to_string(),
                span: x.span.clone(),
                kind: Kind::Field(path.clone()),
                key: path.to_string(),
                decl: false,
                owner: Some(owner.to_string()),
            }),
            _ => {}
        });
    }
}

/// Every occurrence of every name in the set, from its AST.
fn index(rules: &RuleSet) -> Vec<Occurrence> {
    let mut ix = Indexer { out: Vec::new() };
    for s in &rules.sources {
        ix.push(
            &s.file.name,
            &s.id.span,
            Kind::Source,
            s.id.name.clone(),
            true,
            None,
        );
    }
    for d in &rules.defines {
        ix.push(
            &d.file.name,
            &d.id.span,
            Kind::Define,
            d.id.name.clone(),
            true,
            None,
        );
        ix.expr(&d.file.name, &d.value, &format!("define `{}`", d.id.name));
    }
    for p in &rules.params {
        ix.push(
            &p.file.name,
            &p.id.span,
            Kind::Param,
            p.id.name.clone(),
            true,
            None,
        );
    }
    for f in &rules.fields {
        ix.push(
            &f.file.name,
            &f.span,
            Kind::Field(f.path.clone()),
            f.path.to_string(),
            true,
            None,
        );
        if let Some(req) = &f.required {
            ix.expr(&f.file.name, req, &format!("field `{}`", f.path));
        }
    }
    for t in &rules.terms {
        let file = t.file.name.as_str();
        ix.push(file, &t.id.span, Kind::Terms, t.id.name.clone(), true, None);
        if let Some(s) = &t.supersedes {
            ix.push(
                file,
                &s.span,
                Kind::Terms,
                s.name.clone(),
                false,
                Some(&format!("terms `{}`", t.id.name)),
            );
        }
        for x in &t.exceptions {
            // Named with their terms: the same clause or exception name
            // may be declared again in other terms (a restatement, a draft).
            let owner = format!("exception `{}` of terms `{}`", x.id.name, t.id.name);
            ix.push(
                file,
                &x.id.span,
                Kind::Exception,
                format!("{}/{}", t.id.name, x.id.name),
                true,
                None,
            );
            for c in &x.cites {
                ix.push(
                    file,
                    &c.source.span,
                    Kind::Source,
                    c.source.name.clone(),
                    false,
                    Some(&owner),
                );
            }
            if let Some(w) = &x.when {
                ix.expr(file, w, &owner);
            }
        }
        for c in &t.clauses {
            let owner = format!("clause `{}` of terms `{}`", c.id.name, t.id.name);
            ix.push(
                file,
                &c.id.span,
                Kind::Clause,
                format!("{}/{}", t.id.name, c.id.name),
                true,
                None,
            );
            for cite in &c.cites {
                ix.push(
                    file,
                    &cite.source.span,
                    Kind::Source,
                    cite.source.name.clone(),
                    false,
                    Some(&owner),
                );
            }
            for x in &c.excepts {
                ix.push(
                    file,
                    &x.span,
                    Kind::Exception,
                    format!("{}/{}", t.id.name, x.name),
                    false,
                    Some(&owner),
                );
            }
            let exprs =
                c.applies
                    .iter()
                    .chain(c.unless.iter())
                    .chain(match &c.check {
                        crate::rules::ast::Check::Require(e)
                        | crate::rules::ast::Check::Forbid(e) => Some(e),
                        _ => None,
                    });
            for e in exprs {
                ix.expr(file, e, &owner);
            }
            if let Some(m) = &c.message {
                for part in &m.parts {
                    if let MessagePart::Field(path, span) = part {
                        ix.push(
                            file,
                            span,
                            Kind::Field(path.clone()),
                            path.to_string(),
                            false,
                            Some(&owner),
                        );
                    }
                }
            }
            if let Some(agg) = c.aggregate.as_deref() {
                for k in &agg.per {
                    if let crate::rules::ast::GroupKey::Field(path, span) = k {
                        ix.push(
                            file,
                            span,
                            Kind::Field(path.clone()),
                            path.to_string(),
                            false,
                            Some(&owner),
                        );
                    }
                }
                for e in agg.record_exprs() {
                    ix.expr(file, e, &owner);
                }
                let mut params = Vec::new();
                let mut figures = Vec::new();
                let mut collect = |a: &crate::rules::ast::Arith| {
                    a.walk(&mut |x| match &x.kind {
                        ArithKind::Param(name) => params.push((name.clone(), x.span.clone())),
                        ArithKind::Figure(i) | ArithKind::Running(i) => {
                            figures.push((*i, x.span.clone()))
                        }
                        _ => {}
                    })
                };
                for f in &agg.figures {
                    collect(&f.value);
                }
                for g in agg.conditions() {
                    g.operands(&mut collect);
                }
                for (name, span) in params {
                    ix.push(file, &span, Kind::Param, name, false, Some(&owner));
                }
                let figure_key = |f: &crate::rules::ast::Figure| {
                    format!("{}/{}/{}", t.id.name, c.id.name, f.id.name)
                };
                for f in &agg.figures {
                    ix.push(file, &f.id.span, Kind::Figure, figure_key(f), true, None);
                }
                for (i, span) in figures {
                    if let Some(f) = agg.figures.get(i) {
                        ix.push(
                            file,
                            &span,
                            Kind::Figure,
                            figure_key(f),
                            false,
                            Some(&owner),
                        );
                    }
                }
                for ex in &agg.examples {
                    for (id, _) in &ex.params {
                        ix.push(
                            file,
                            &id.span,
                            Kind::Param,
                            id.name.clone(),
                            false,
                            Some(&owner),
                        );
                    }
                }
            }
        }
    }
    ix.out
}
