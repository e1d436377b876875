//! Which of the paths given to `proviso check` are ARM templates and Bicep
//! files, and which `--var-file`s are ARM parameters files.
//!
//! `crate::scan::iac` dispatches every file; this module decides which
//! Azure files stand on their own: `.bicep` files, and
//! `.json` files whose `$schema` is a deployment template, named on their
//! own or found while walking a directory (hidden directories and
//! `--exclude` globs skipped, as for Terraform). A `.bicep` file that
//! another found `.bicep` file uses as a local module is scanned only
//! through that module call (as a Terraform module directory is) when
//! the call is evaluated (the caller parses as far as it, and its
//! condition is not false with the caller's defaults); otherwise, and
//! for files that only call each other, it stands on its own. An
//! ARM template that Bicep generated (`metadata._generator.name` `bicep`)
//! beside a `.bicep` file is its compiled copy and is skipped.

use super::{AzureOptions, looks_like_arm, looks_like_arm_parameters};
use crate::scan::{Exclude, ScanOutput, ScannedRecord};
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Largest `.json` file read to see whether it is a template.
const MAX_JSON: u64 = 64 << 20;

/// An Azure input found.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Input {
    Arm(PathBuf),
    Bicep(PathBuf),
}

fn is_bicep(p: &Path) -> bool {
    p.extension().is_some_and(|e| e == "bicep")
}

fn read_small(p: &Path) -> Option<String> {
    let len = std::fs::metadata(p).ok()?.len();
    (len <= MAX_JSON)
        .then(|| std::fs::read_to_string(p).ok())
        .flatten()
}

/// Whether a path named on its own is an ARM template or a Bicep file.
pub fn is_azure_file(p: &Path) -> bool {
    p.is_file()
        && (is_bicep(p)
            || (p.extension().is_some_and(|e| e == "json")
                && read_small(p).is_some_and(|t| looks_like_arm(&t))))
}

/// Whether a `--var-file` is an ARM parameters file or a `.bicepparam`.
pub fn is_parameters_file(p: &Path) -> bool {
    p.extension().is_some_and(|e| e == "bicepparam")
        || (p.extension().is_some_and(|e| e == "json")
            && read_small(p).is_some_and(|t| looks_like_arm_parameters(&t)))
}

/// The Azure inputs under the given paths.
pub fn find(paths: &[PathBuf], exclude: &[Exclude]) -> Vec<Input> {
    let mut found = BTreeSet::new();
    for p in paths {
        if p.is_file() {
            if is_bicep(p) {
                found.insert(Input::Bicep(p.clone()));
            } else if is_azure_file(p) {
                found.insert(Input::Arm(p.clone()));
            }
            continue;
        }
        let abs = std::fs::canonicalize(p).unwrap_or_else(|_| p.clone());
        let walker = walkdir::WalkDir::new(p)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| {
                e.depth() == 0
                    || !((e.file_type().is_dir()
                        && e.file_name().to_string_lossy().starts_with('.'))
                        || exclude.iter().any(|x| {
                            x.matches(&abs.join(e.path().strip_prefix(p).unwrap_or(e.path())))
                        }))
            });
        for e in walker.flatten() {
            let path = e.path();
            if !e.file_type().is_file() {
                continue;
            }
            if is_bicep(path) {
                found.insert(Input::Bicep(path.to_path_buf()));
            } else if path.extension().is_some_and(|x| x == "json")
                && let Some(t) = read_small(path)
                && looks_like_arm(&t)
            {
                let generated = t.contains("\"_generator\"")
                    && generated_by_bicep(&t)
                    && path
                        .parent()
                        .and_then(|d| std::fs::read_dir(d).ok())
                        .is_some_and(|mut r| r.any(|f| f.is_ok_and(|f| is_bicep(&f.path()))));
                if !generated {
                    found.insert(Input::Arm(path.to_path_buf()));
                }
            }
        }
    }
    // Bicep files another one uses as a module are scanned through it, when
    // that call is evaluated: a caller that does not parse as far as the
    // call, or whose call's condition is false (or loop empty), leaves the
    // module file to be scanned on its own rather than lost.
    let canon = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let mut calls: BTreeMap<PathBuf, BTreeSet<PathBuf>> = BTreeMap::new();
    for i in &found {
        if let Input::Bicep(p) = i
            && let Ok(text) = std::fs::read_to_string(p)
            && text.contains("module")
        {
            let me = canon(p);
            let targets = crate::scan::bicep::evaluated_module_targets(p, &text)
                .iter()
                .map(|t| canon(t))
                .filter(|t| *t != me)
                .collect();
            calls.insert(me, targets);
        }
    }
    let all: Vec<PathBuf> = found
        .iter()
        .map(|i| match i {
            Input::Bicep(p) | Input::Arm(p) => canon(p),
        })
        .collect();
    let called: BTreeSet<&PathBuf> = calls.values().flatten().collect();
    let mut roots: BTreeSet<PathBuf> = all
        .iter()
        .filter(|p| !called.contains(p))
        .cloned()
        .collect();
    // Files that call each other in a cycle no other file calls: the first
    // of each stands on its own, so none is lost.
    let mut reached = BTreeSet::new();
    let mut todo: Vec<PathBuf> = roots.iter().cloned().collect();
    loop {
        while let Some(p) = todo.pop() {
            if reached.insert(p.clone()) {
                todo.extend(calls.get(&p).into_iter().flatten().cloned());
            }
        }
        match all.iter().find(|p| !reached.contains(*p)) {
            Some(p) => {
                roots.insert(p.clone());
                todo.push(p.clone());
            }
            None => break,
        }
    }
    found
        .into_iter()
        .filter(|i| match i {
            Input::Bicep(p) | Input::Arm(p) => roots.contains(&canon(p)),
        })
        .collect()
}

fn generated_by_bicep(text: &str) -> bool {
    super::json::parse(text).is_ok_and(|root| {
        root.get("metadata")
            .and_then(|m| m.value.get("_generator"))
            .and_then(|g| g.value.get("name"))
            .and_then(|n| n.value.as_str().map(|s| s.eq_ignore_ascii_case("bicep")))
            .unwrap_or(false)
    })
}

/// Scans the Azure inputs, in parallel, handing each file's records to `each`.
pub fn scan_each<R: Send>(
    inputs: &[Input],
    opts: &AzureOptions,
    each: &(dyn Fn(Vec<ScannedRecord>) -> R + Sync),
) -> (ScanOutput, Vec<R>) {
    let parts: Vec<(ScanOutput, R)> = inputs
        .par_iter()
        .map(|i| {
            let (path, bicep) = match i {
                Input::Arm(p) => (p, false),
                Input::Bicep(p) => (p, true),
            };
            let mut out = match crate::diag::read_text(path) {
                Ok(text) if bicep => crate::scan::bicep::scan_bicep_file(path, &text, opts),
                Ok(text) => super::scan_arm_file(path, &text, opts),
                Err(d) => ScanOutput {
                    malformed: vec![d],
                    ..ScanOutput::default()
                },
            };
            let records = std::mem::take(&mut out.records);
            (out, each(records))
        })
        .collect();
    let mut out = ScanOutput::default();
    let mut results = Vec::new();
    for (o, r) in parts {
        out.merge(o);
        results.push(r);
    }
    (out, results)
}
