//! Which of the paths given to `proviso check` are ARM templates and Bicep
//! files, and which `--var-file`s are ARM parameters files.
//!
//! `crate::scan::iac` dispatches every file; this module decides which
//! Azure files stand on their own: `.bicep` files, and
//! `.json` files whose `$schema` is a deployment template, named on their
//! own or found while walking a directory (hidden directories and
//! `--exclude` globs skipped, as for Terraform). A `.bicep` file that
//! another found `.bicep` file uses as a local module is scanned only
//! through that module call (as a Terraform module directory is), and an
//! ARM template that Bicep generated (`metadata._generator.name` `bicep`)
//! beside a `.bicep` file is its compiled copy and is skipped.

use super::{AzureOptions, looks_like_arm, looks_like_arm_parameters};
use crate::scan::{Exclude, ScanOutput, ScannedRecord};
use rayon::prelude::*;
use std::collections::BTreeSet;
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
    // Bicep files another one uses as a module are scanned through it.
    let mut used = BTreeSet::new();
    for i in &found {
        if let Input::Bicep(p) = i
            && let Ok(text) = std::fs::read_to_string(p)
        {
            for target in module_targets(&text) {
                if let Some(dir) = p.parent()
                    && let Ok(c) = std::fs::canonicalize(dir.join(target))
                {
                    used.insert(c);
                }
            }
        }
    }
    found
        .into_iter()
        .filter(|i| match i {
            Input::Bicep(p) | Input::Arm(p) => {
                !std::fs::canonicalize(p).is_ok_and(|c| used.contains(&c))
            }
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

/// The local paths of `module x '<path>'` declarations.
fn module_targets(text: &str) -> Vec<&str> {
    text.lines()
        .filter_map(|l| {
            let rest = l.trim_start().strip_prefix("module ")?;
            let q = rest.find('\'')?;
            let rest = rest.get(q + 1..)?;
            let path = rest.get(..rest.find('\'')?)?;
            (!path.contains(':')).then_some(path)
        })
        .collect()
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
