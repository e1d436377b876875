//! The rule language: reading `.proviso` files into a checked [`RuleSet`].
//!
//! Reading is three named steps, as in Cedar's parser: [`parse`] (text to a
//! pest tree), [`lower`] (tree to AST, per file, collecting all errors) and
//! [`check`] (names and consistency across every file of the set). A rule
//! set with errors is never evaluated.

pub mod ast;
pub mod check;
pub mod fields;
pub mod format;
pub mod lower;
pub mod parse;

use crate::date::{Date, Interval};
use crate::diag::Diag;
use crate::source::{SourceFile, display_path};
use ast::*;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Every rule file of a run, merged and checked.
#[derive(Debug, Default)]
pub struct RuleSet {
    pub files: Vec<Arc<SourceFile>>,
    pub agreements: Vec<Agreement>,
    pub sources: Vec<SourceDecl>,
    pub defines: Vec<Define>,
    pub terms: Vec<Terms>,
    /// `field` declarations: fields an export carries that no format knows.
    pub fields: Vec<FieldDecl>,
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
pub fn find_rule_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, Diag> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            for entry in walkdir::WalkDir::new(p).sort_by_file_name() {
                let entry = entry.map_err(|e| {
                    Diag::error(
                        "proviso::input::unreadable",
                        format!("cannot read `{}`: {e}", p.display()),
                    )
                })?;
                if entry.file_type().is_file()
                    && entry.path().extension().is_some_and(|e| e == "proviso")
                {
                    out.push(entry.into_path());
                }
            }
        } else if p.exists() {
            out.push(p.clone());
        } else {
            return Err(Diag::error(
                "proviso::input::not_found",
                format!("rule path `{}` does not exist", p.display()),
            )
            .with_help("pass a `.proviso` file or a directory of them with `--rules`"));
        }
    }
    if out.is_empty() {
        return Err(
            Diag::error("proviso::input::no_rules", "no `.proviso` rule files found").with_help(
                format!(
                    "looked in: {}",
                    paths
                        .iter()
                        .map(|p| format!("`{}`", p.display()))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ),
        );
    }
    Ok(out)
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
        match read_text(&f) {
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

/// Reads a file as UTF-8, with an error that names it.
pub fn read_text(path: &Path) -> Result<String, Diag> {
    let bytes = std::fs::read(path).map_err(|e| {
        Diag::error(
            "proviso::input::unreadable",
            format!("cannot read `{}`: {e}", display_path(path)),
        )
    })?;
    String::from_utf8(bytes).map_err(|e| {
        Diag::error(
            "proviso::input::not_utf8",
            format!(
                "`{}` is not UTF-8 text (invalid byte at offset {})",
                display_path(path),
                e.utf8_error().valid_up_to()
            ),
        )
        .with_help("save the file as UTF-8")
    })
}

/// Builds a rule set from in-memory rule files.
pub fn build(files: Vec<Arc<SourceFile>>) -> Result<RuleSet, RuleErrors> {
    let mut set = RuleSet::default();
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    for file in &files {
        let tree = match parse::parse_file(file) {
            Ok(t) => t,
            Err(d) => {
                errors.push(d);
                continue;
            }
        };
        let mut lowerer = lower::Lowerer::new(file);
        let lowered = lowerer.lower_file(tree);
        for d in lowerer.errors {
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
    }
    set.files = files;
    let (check_errors, check_warnings) = check::Checker::run(&mut set);
    errors.extend(check_errors);
    warnings.extend(check_warnings);
    if errors.is_empty() {
        set.warnings = warnings;
        Ok(set)
    } else {
        Err(RuleErrors { errors, warnings })
    }
}

impl RuleSet {
    /// The interval in which terms are in force: their own, cut short by any
    /// terms that supersede them. `None` if superseded from the start.
    pub fn terms_in_force_interval(&self, terms: &Terms) -> Option<Interval> {
        let cuts = self.cuts.get_or_init(|| {
            let mut cuts: HashMap<String, Date> = HashMap::new();
            for other in &self.terms {
                if let Some(s) = &other.supersedes {
                    let cut = cuts.entry(s.name.clone()).or_insert(other.interval.from);
                    *cut = (*cut).min(other.interval.from);
                }
            }
            cuts
        });
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
