//! The rule language: reading `.proviso` files into a checked [`RuleSet`].
//!
//! Reading is three named steps, as in Cedar's parser: [`parse`] (text to a
//! pest tree), [`lower`] (tree to AST, per file, collecting all errors) and
//! [`validate`] (names and consistency across every file of the set). A
//! rule set with errors is never evaluated. The authoring tools that read a
//! checked set live here too: [`lint`] (suspicious but valid rules),
//! [`examples`] (each clause's own `example` records) and [`format`].

pub mod ast;
pub mod examples;
pub mod fields;
pub mod format;
pub mod lint;
pub mod lower;
pub mod parse;
pub mod reparse;
pub mod validate;

use crate::date::{Date, Interval};
use crate::diag::{Code, Diag};
use crate::source::{SourceFile, display_path};
use ast::*;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Every rule file of a run, merged and checked.
#[derive(Debug, Default, Clone)]
pub struct RuleSet {
    pub files: Vec<Arc<SourceFile>>,
    pub agreements: Vec<Agreement>,
    pub sources: Vec<SourceDecl>,
    pub defines: Vec<Define>,
    pub terms: Vec<Terms>,
    /// `field` declarations: fields an export carries that no format knows.
    pub fields: Vec<FieldDecl>,
    /// `param` declarations.
    pub params: Vec<ParamDecl>,
    /// The parameters' values supplied for this run (`--param`, `params:`);
    /// a declared parameter not here is unknown.
    pub param_values: HashMap<String, Lit>,
    /// Warnings from checking (the set is usable).
    pub warnings: Vec<Diag>,
    /// Per terms name, the earliest start of the terms that supersede it:
    /// worked out once, on first use, so that asking for every terms'
    /// interval is linear, not quadratic, in the number of versions.
    cuts: std::sync::OnceLock<HashMap<String, Date>>,
}

/// Why a rule set could not be built: every error, plus the warnings seen.
#[derive(Debug, Default)]
pub struct RuleErrors {
    pub errors: Vec<Diag>,
    pub warnings: Vec<Diag>,
}

/// Finds the `.proviso` files under the given files and directories, sorted.
///
/// Symbolic links are followed, to files and to directories, so that a
/// linked rule file is never dropped without a word; a link that leads
/// back into a directory above it (a loop) or nowhere is an error that
/// names it. walkdir detects loops by comparing each directory with its
/// ancestors, so the walk ends on any tree.
pub fn find_rule_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, Diag> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            for entry in walkdir::WalkDir::new(p)
                .follow_links(true)
                .sort_by_file_name()
            {
                let entry = entry.map_err(|e| walk_error(p, &e))?;
                if entry.file_type().is_file()
                    && entry.path().extension().is_some_and(|e| e == "proviso")
                {
                    check_rule_file(entry.path())?;
                    out.push(entry.into_path());
                }
            }
        } else if p.exists() {
            check_rule_file(p)?;
            out.push(p.clone());
        } else {
            return Err(Diag::error(
                Code::InputNotFound,
                format!("rule path `{}` does not exist", p.display()),
            )
            .with_help("pass a `.proviso` file or a directory of them with `--rules`"));
        }
    }
    // A file reached twice (named twice, or through a link to a directory
    // also walked) is read once: its clauses are not declared twice.
    let mut seen = std::collections::HashSet::new();
    out.retain(|p| seen.insert(std::fs::canonicalize(p).unwrap_or_else(|_| p.clone())));
    if out.is_empty() {
        return Err(
            Diag::error(Code::InputNoRules, "no `.proviso` rule files found").with_help(format!(
                "looked in: {}",
                paths
                    .iter()
                    .map(|p| format!("`{}`", p.display()))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        );
    }
    Ok(out)
}

/// The most of a rule file that is read: 64 MiB (a rule file of 10,000
/// clauses is under 2 MB).
pub const MAX_RULE_FILE_BYTES: u64 = 64 << 20;

/// A rule file named on the command line must be a regular file of at
/// most [`MAX_RULE_FILE_BYTES`]: `--rules /dev/zero` would be read forever.
fn check_rule_file(p: &Path) -> Result<(), Diag> {
    let meta = std::fs::metadata(p).map_err(|e| {
        Diag::error(
            Code::InputUnreadable,
            format!("cannot read `{}`: {e}", display_path(p)),
        )
    })?;
    if !meta.is_file() {
        return Err(Diag::error(
            Code::InputNotAFile,
            format!(
                "rule path `{}` is not a file or a directory",
                display_path(p)
            ),
        )
        .with_help("pass a `.proviso` file or a directory of them"));
    }
    if meta.len() > MAX_RULE_FILE_BYTES {
        return Err(Diag::error(
            Code::InputTooLarge,
            format!(
                "rule file `{}` is larger than the 64 MiB proviso reads",
                display_path(p)
            ),
        )
        .with_help("check that it is a rule file; split a rule set into several files"));
    }
    Ok(())
}

/// A rule directory that cannot be walked: a link loop, a dangling link,
/// a directory that cannot be read.
fn walk_error(root: &Path, e: &walkdir::Error) -> Diag {
    let at = e.path().unwrap_or(root);
    if let Some(ancestor) = e.loop_ancestor() {
        return Diag::error(
            Code::InputLinkLoop,
            format!(
                "`{}` links back to `{}`, a directory above it: the rule directory `{}` has a loop",
                display_path(at),
                display_path(ancestor),
                display_path(root)
            ),
        )
        .with_help("remove the link, or pass the rule files it leads to with `--rules`");
    }
    let why = e
        .io_error()
        .map_or_else(|| e.to_string(), ToString::to_string);
    let dangling = std::fs::symlink_metadata(at).is_ok_and(|m| m.file_type().is_symlink())
        && std::fs::metadata(at).is_err();
    let help = if dangling {
        "the link leads nowhere: point it at a rule file or remove it"
    } else {
        "check the directory's permissions"
    };
    Diag::error(
        Code::InputUnreadable,
        format!(
            "cannot read `{}` in `{}`: {why}",
            display_path(at),
            display_path(root)
        ),
    )
    .with_help(help)
}

/// Reads, parses, lowers and checks the rule files at `paths`.
pub fn load(paths: &[PathBuf]) -> Result<RuleSet, RuleErrors> {
    let files = find_rule_files(paths).map_err(|d| RuleErrors {
        errors: vec![d],
        warnings: vec![],
    })?;
    let mut sources = Vec::new();
    let mut errors = Vec::new();
    for f in files {
        match crate::diag::read_text(&f) {
            Ok(text) => sources.push(SourceFile::new(display_path(&f), text)),
            Err(d) => errors.push(d),
        }
    }
    if !errors.is_empty() {
        return Err(RuleErrors {
            errors,
            warnings: vec![],
        });
    }
    build(sources)
}

/// Builds a rule set from in-memory rule files.
pub fn build(files: Vec<Arc<SourceFile>>) -> Result<RuleSet, RuleErrors> {
    let (mut set, errors, warnings) = build_partial(files);
    if errors.is_empty() {
        set.warnings = warnings;
        Ok(set)
    } else {
        Err(RuleErrors { errors, warnings })
    }
}

/// [`build`], keeping the set even when it has errors: what lowered and
/// checked of it, for an editor that must still name, hover and navigate
/// a file being written (`proviso lsp`). Such a set is never evaluated.
pub fn build_partial(files: Vec<Arc<SourceFile>>) -> (RuleSet, Vec<Diag>, Vec<Diag>) {
    let (set, errors, warnings, _) = build_reporting_unparsed(files);
    (set, errors, warnings)
}

/// One file parsed and lowered: its AST and the lowering's diagnostics,
/// or its parse error.
pub type Lowered = Result<(RuleFile, Vec<Diag>), Diag>;

/// Parses and lowers one rule file (what [`build`] does per file; `proviso
/// lsp` keeps the result of the files that did not change).
pub fn lower_file(file: &Arc<SourceFile>) -> Lowered {
    let tree = parse::parse_file(file)?;
    let mut lowerer = lower::Lowerer::new(file);
    let lowered = lowerer.lower_file(tree);
    Ok((lowered, lowerer.errors))
}

/// [`build_partial`], also naming the files that did not parse (and so
/// add nothing to the set).
pub fn build_reporting_unparsed(
    files: Vec<Arc<SourceFile>>,
) -> (RuleSet, Vec<Diag>, Vec<Diag>, Vec<String>) {
    let lowered = files.iter().map(lower_file).collect();
    build_lowered(files, lowered)
}

/// Merges and checks files already lowered ([`lower_file`], one per file,
/// in the same order).
pub fn build_lowered(
    files: Vec<Arc<SourceFile>>,
    lowered: Vec<Lowered>,
) -> (RuleSet, Vec<Diag>, Vec<Diag>, Vec<String>) {
    let mut set = RuleSet::default();
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    let mut unparsed = Vec::new();
    for (file, result) in files.iter().zip(lowered) {
        let (lowered, diags) = match result {
            Ok(l) => l,
            Err(d) => {
                errors.push(d);
                unparsed.push(file.name.clone());
                continue;
            }
        };
        for d in diags {
            if d.is_error() {
                errors.push(d)
            } else {
                warnings.push(d)
            }
        }
        set.agreements.extend(lowered.agreement);
        set.sources.extend(lowered.sources);
        set.defines.extend(lowered.defines);
        set.terms.extend(lowered.terms);
        set.fields.extend(lowered.fields);
        set.params.extend(lowered.params);
    }
    set.files = files;
    let (check_errors, check_warnings) = validate::Checker::run(&mut set);
    errors.extend(check_errors);
    warnings.extend(check_warnings);
    (set, errors, warnings, unparsed)
}

/// The items of a checked set per file again ([`build_lowered`] undone),
/// by file name, each [`validate::unresolve`]d: what `proviso lsp` checks
/// again, with the files that changed lowered anew, instead of keeping a
/// second, unchecked copy of every AST. The agreement line is not
/// attributed to a file: the caller keeps it.
pub fn unbuild(set: RuleSet) -> HashMap<String, RuleFile> {
    let mut out: HashMap<String, RuleFile> = set
        .files
        .iter()
        .map(|f| (f.name.clone(), RuleFile::empty(f)))
        .collect();
    macro_rules! give_back {
        ($items:expr, $field:ident) => {
            for x in $items {
                if let Some(rf) = out.get_mut(&x.file.name) {
                    rf.$field.push(x);
                }
            }
        };
    }
    give_back!(set.sources, sources);
    give_back!(set.defines, defines);
    give_back!(set.terms, terms);
    give_back!(set.fields, fields);
    give_back!(set.params, params);
    for rf in out.values_mut() {
        validate::unresolve(rf);
    }
    out
}

impl RuleSet {
    /// The items of the files named, cloned into a set of their own (to
    /// [`unbuild`] without giving this one up).
    pub fn subset(&self, names: &std::collections::HashSet<String>) -> RuleSet {
        let keep = |f: &Arc<SourceFile>| names.contains(&f.name);
        RuleSet {
            files: self.files.iter().filter(|f| keep(f)).cloned().collect(),
            sources: self
                .sources
                .iter()
                .filter(|x| keep(&x.file))
                .cloned()
                .collect(),
            defines: self
                .defines
                .iter()
                .filter(|x| keep(&x.file))
                .cloned()
                .collect(),
            terms: self
                .terms
                .iter()
                .filter(|x| keep(&x.file))
                .cloned()
                .collect(),
            fields: self
                .fields
                .iter()
                .filter(|x| keep(&x.file))
                .cloned()
                .collect(),
            params: self
                .params
                .iter()
                .filter(|x| keep(&x.file))
                .cloned()
                .collect(),
            ..RuleSet::default()
        }
    }

    /// The members of a set written `{ … }`: set defines flattened in,
    /// each set define once (a set's meaning does not change with
    /// repetition), the other members in order. The evaluator and the SQL
    /// compiler both read sets through it. An explicit stack: sets nest as
    /// deeply as a rule file makes them.
    pub fn set_members<'a>(&'a self, items: &'a [Expr]) -> Vec<&'a Expr> {
        let mut out = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut stack: Vec<std::slice::Iter<'a, Expr>> = vec![items.iter()];
        while let Some(top) = stack.last_mut() {
            let Some(item) = top.next() else {
                stack.pop();
                continue;
            };
            match &item.kind {
                ExprKind::Set(inner) => stack.push(inner.iter()),
                ExprKind::DefineRef(_, i) => match self.defines.get(*i).map(|d| &d.value.kind) {
                    Some(ExprKind::Set(inner)) => {
                        if seen.insert(*i) {
                            stack.push(inner.iter());
                        }
                    }
                    _ => out.push(item),
                },
                _ => out.push(item),
            }
        }
        out
    }

    /// Supplies parameter values (`--param NAME=VALUE`, `params:`), each
    /// checked against its declaration: a name no rule file declares is
    /// an error with did-you-mean, a value not of the declared type an
    /// error naming the parameter. Later pairs win over earlier ones, so
    /// flags given after the file's values override them.
    pub fn set_params(&mut self, given: &[(String, String)]) -> Vec<Diag> {
        let mut errors = Vec::new();
        for (name, text) in given {
            let Some(decl) = self.params.iter().find(|p| p.id.name == *name) else {
                let names: Vec<&str> = self.params.iter().map(|p| p.id.name.as_str()).collect();
                let help = match crate::text::closest(name, names.iter().copied()) {
                    Some((c, _)) => format!("did you mean `{c}`?"),
                    None if names.is_empty() => {
                        "the rule files declare no parameter (`param NAME \"about\" money`)"
                            .to_string()
                    }
                    None => format!(
                        "the declared parameters are {}",
                        names
                            .iter()
                            .map(|n| format!("`{n}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                };
                errors.push(
                    Diag::error(
                        Code::CliUnknownParam,
                        format!("no rule file declares a parameter `{name}`"),
                    )
                    .with_help(help),
                );
                continue;
            };
            let t = text.trim();
            let value = match decl.ty {
                ParamType::Money | ParamType::Number => {
                    lower::exact_decimal(&t.replace('_', "")).map(Lit::Num)
                }
                ParamType::Date => Date::parse(t).ok().map(Lit::Date),
                ParamType::Text => Some(Lit::Str(t.into())),
            };
            match value {
                Some(v) => {
                    self.param_values.insert(name.clone(), v);
                }
                None => errors.push(
                    Diag::error(
                        Code::CliBadParamValue,
                        format!("parameter `{name}` is {}, and `{t}` is not", match decl.ty {
                            ParamType::Money => "money (an exact decimal amount)",
                            ParamType::Number => "a number",
                            ParamType::Date => "a date",
                            ParamType::Text => "text",
                        }),
                    )
                    .in_file(&decl.file)
                    .label(decl.span.clone(), format!("declared as {}", decl.ty.as_str()))
                    .with_help(match decl.ty {
                        ParamType::Date => format!("give a date: `--param {name}=2026-12-31`"),
                        _ => format!("give a decimal number without a currency sign or thousands separators: `--param {name}=1250000.00`"),
                    }),
                ),
            }
        }
        errors
    }

    /// The interval in which terms are in force: their own, cut short by any
    /// terms that supersede them. `None` if superseded from the start, and
    /// for a draft (`proposed`): a draft is never in force, and cuts
    /// nothing short, until [`RuleSet::sign`] signs it.
    pub fn terms_in_force_interval(&self, terms: &Terms) -> Option<Interval> {
        let cuts = self.cuts.get_or_init(|| {
            let mut cuts: HashMap<String, Date> = HashMap::new();
            // A draft supersedes nothing until it is signed.
            for other in self.terms.iter().filter(|t| !t.is_proposed()) {
                if let Some(s) = &other.supersedes {
                    let cut = cuts.entry(s.name.clone()).or_insert(other.interval.from);
                    *cut = (*cut).min(other.interval.from);
                }
            }
            cuts
        });
        if terms.is_proposed() {
            return None;
        }
        let mut iv = terms.interval;
        if let Some(&cut) = cuts.get(&terms.id.name) {
            if cut <= iv.from {
                return None;
            }
            iv.until = Some(iv.until.map_or(cut, |u| u.min(cut)));
        }
        Some(iv)
    }

    /// The enforced and manual clauses in force on `date`, with their terms.
    pub fn in_force(&self, date: Date) -> impl Iterator<Item = (&Terms, &Clause)> {
        self.terms
            .iter()
            .filter(move |t| {
                self.terms_in_force_interval(t)
                    .is_some_and(|iv| iv.contains(date))
            })
            .flat_map(move |t| {
                t.clauses
                    .iter()
                    .filter(move |c| c.interval(t).contains(date))
                    .map(move |c| (t, c))
            })
    }

    /// Whether `clause` of `terms` is in force on `date`.
    pub fn clause_in_force(&self, terms: &Terms, clause: &Clause, date: Date) -> bool {
        self.terms_in_force_interval(terms)
            .is_some_and(|iv| iv.contains(date))
            && clause.interval(terms).contains(date)
    }

    /// Signs the draft `name` for this rule set: from now on it is in
    /// force from its effective date (or from `at`, "as if signed on"),
    /// and cuts short the terms it supersedes, as signed terms do. This is
    /// what `--what-if NAME[@DATE]` judges by, beside the terms as they
    /// are. The set is checked again: a signed draft whose clause would be
    /// in force twice on a day is an error, as in a signed rule file.
    pub fn sign(&mut self, name: &str, at: Option<Date>) -> Result<(), Vec<Diag>> {
        let Some(terms) = self.terms.iter_mut().find(|t| t.id.name == name) else {
            let drafts: Vec<&str> = self
                .terms
                .iter()
                .filter(|t| t.is_proposed())
                .map(|t| t.id.name.as_str())
                .collect();
            let help = match crate::text::closest(name, drafts.iter().copied()) {
                Some((c, _)) => format!("did you mean `{c}`?"),
                None if drafts.is_empty() => "the rule files hold no draft: mark one with `terms NAME \"…\" proposed effective DATE supersedes OLD { … }`".to_string(),
                None => format!(
                    "the drafts are {}",
                    drafts.iter().map(|d| format!("`{d}`")).collect::<Vec<_>>().join(", ")
                ),
            };
            return Err(vec![
                Diag::error(
                    Code::CliUnknownDraft,
                    format!("no terms named `{name}` (given with `--what-if`)"),
                )
                .with_help(help),
            ]);
        };
        if !terms.is_proposed() {
            let d = Diag::error(
                Code::CliUnknownDraft,
                format!("terms `{name}` (given with `--what-if`) are not a draft: they are signed already"),
            )
            .in_file(&terms.file)
            .label(terms.id.span.clone(), "no `proposed` here")
            .with_help(format!(
                "`--what-if` names a draft amendment: `terms {name} \"…\" proposed effective DATE …`"
            ));
            return Err(vec![d]);
        }
        terms.proposed = None;
        if let Some(at) = at {
            let old = terms.interval.from;
            if terms.interval.until.is_some_and(|u| u <= at) {
                return Err(vec![
                    Diag::error(
                        Code::CliUnknownDraft,
                        format!(
                            "draft `{name}` ends on {}: it cannot be signed on {at}",
                            terms
                                .interval
                                .until
                                .map(|u| u.to_string())
                                .unwrap_or_default()
                        ),
                    )
                    .with_help("give a date before its `until`: `--what-if NAME@YYYY-MM-DD`"),
                ]);
            }
            terms.interval.from = at;
            // Clauses that start with their terms start with the
            // signature; a clause of its own later date keeps it.
            for c in &mut terms.clauses {
                if let Some(iv) = &mut c.own_interval
                    && iv.from == old
                    && iv.until.is_none_or(|u| u > at)
                {
                    iv.from = at;
                }
            }
        }
        self.cuts = std::sync::OnceLock::new();
        let (errors, _) = validate::Checker::overlaps_only(self);
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// A copy of the set with the draft `name` signed ([`RuleSet::sign`]).
    pub fn signed(&self, name: &str, at: Option<Date>) -> Result<RuleSet, Vec<Diag>> {
        let mut copy = self.clone();
        copy.sign(name, at)?;
        Ok(copy)
    }

    /// The drafts (`proposed` terms) of the set, in file order.
    pub fn drafts(&self) -> impl Iterator<Item = &Terms> {
        self.terms.iter().filter(|t| t.is_proposed())
    }

    pub fn source(&self, name: &str) -> Option<&SourceDecl> {
        self.sources.iter().find(|s| s.id.name == name)
    }

    /// Every clause with its terms, in file order.
    pub fn clauses(&self) -> impl Iterator<Item = (&Terms, &Clause)> {
        self.terms
            .iter()
            .flat_map(|t| t.clauses.iter().map(move |c| (t, c)))
    }
}

impl RuleSet {
    /// The help a finding carries: what its clause cites, and when its
    /// terms are in force.
    ///
    /// "…" — source (date); terms `x` in force [from, until).
    pub fn citation_help(&self, terms: &Terms, clause: &Clause, in_force: Interval) -> String {
        let mut parts = Vec::new();
        for cite in &clause.cites {
            let src = self.source(&cite.source.name);
            let title = src
                .and_then(|s| s.title.clone())
                .unwrap_or_else(|| cite.source.name.clone());
            let date = src
                .and_then(|s| s.dated)
                .map(|d| format!(", {d}"))
                .unwrap_or_default();
            let section = cite
                .section_label()
                .map(|s| format!("{s}: "))
                .unwrap_or_default();
            match &cite.text {
                Some(t) => parts.push(format!("{section}\"{t}\" — {title}{date}")),
                None => parts.push(format!("{section}{title}{date}")),
            }
        }
        let until = match in_force.until {
            Some(u) => format!("from {} until {u}", in_force.from),
            None => format!("from {}", in_force.from),
        };
        let terms_text = format!("terms `{}` in force {until}", terms.id.name);
        if parts.is_empty() {
            terms_text
        } else {
            format!("{}; {terms_text}", parts.join("; "))
        }
    }
}
