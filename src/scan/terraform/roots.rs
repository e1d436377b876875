//! Evaluating root modules, in parallel, each with the modules it calls,
//! and handing its records on as soon as they are built.
//!
//! A streamed root ([`super::shared`]) is parsed, evaluated, judged and
//! dropped on its own thread; a shared module that nobody calls is
//! evaluated from the shared definitions. Either way a root gets its
//! tfvars ([`super::tfvars`]), is walked to records ([`super::walk`]), and
//! its records go to the caller's `each` a batch at a time, filtered to
//! the files asked for when files were named on their own.

use super::Options;
use super::discover::RemoteDirs;
use super::module::{Instance, ModuleDef, Modules, ParsedFile};
use super::parse::parse_source;
use super::shared::Texts;
use super::tfvars::root_inputs;
use super::walk::walk_root;
use crate::scan::{ScanOutput, ScannedRecord};
use crate::source::display_path;
use rayon::prelude::*;
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

/// Which records are kept: with files named on their own, only the
/// records of those files in their directories (the whole module is still
/// evaluated); every record elsewhere.
pub struct RecordFilter {
    /// The files named on their own (display paths).
    files: BTreeSet<String>,
    /// Their directories (display paths).
    dirs: BTreeSet<String>,
}

impl RecordFilter {
    /// `only_files`: directories of which only some files were named, with
    /// those files ([`super::discover::Given::only_files`]).
    pub fn new(only_files: &HashMap<PathBuf, BTreeSet<PathBuf>>) -> RecordFilter {
        RecordFilter {
            files: only_files
                .values()
                .flatten()
                .map(|f| display_path(f))
                .collect(),
            dirs: only_files.keys().map(|d| display_path(d)).collect(),
        }
    }

    pub fn keeps(&self, r: &ScannedRecord) -> bool {
        if self.dirs.is_empty() {
            return true;
        }
        let dir_of = Path::new(&r.origin.file.name)
            .parent()
            .map(|p| p.to_string_lossy().to_string())
            .unwrap_or_default();
        !self.dirs.contains(&dir_of) || self.files.contains(&r.origin.file.name)
    }
}

/// What evaluating any root of a scan needs: the scan's options, which
/// records to keep, and what to do with them.
pub struct RootEvaluation<'r, R> {
    pub options: &'r Options,
    pub filter: RecordFilter,
    /// Called with each batch of kept records; what it returns is the
    /// scan's result, one per batch.
    pub each: &'r (dyn Fn(Vec<ScannedRecord>) -> R + Sync),
}

impl<R: Send> RootEvaluation<'_, R> {
    /// Evaluates one root module (with the modules it calls) and hands its
    /// records to `each`.
    fn evaluate(
        &self,
        def: &ModuleDef<'_>,
        modules: &Modules<'_>,
        local: &mut ScanOutput,
    ) -> Vec<R> {
        let inputs = root_inputs(def, modules, self.options, local);
        let inst = Instance::new(def, modules, String::new(), inputs, HashMap::new(), 0);
        let mut parts = Vec::new();
        walk_root(
            &inst,
            &mut |mut batch: Vec<ScannedRecord>| {
                batch.retain(|r| self.filter.keeps(r));
                parts.push((self.each)(batch));
            },
            local,
        );
        parts
    }

    /// The streamed roots, in parallel: each parsed, evaluated, judged and
    /// dropped. Returns what `each` made and the directories the roots call.
    pub fn streamed(
        &self,
        texts: Texts,
        shared: &Modules<'_>,
        remote: &RemoteDirs,
        detach_above: usize,
        out: &mut ScanOutput,
    ) -> (Vec<R>, Vec<PathBuf>) {
        let streamed: Vec<_> = texts.into_iter().collect();
        let per_root: Vec<(Vec<R>, ScanOutput, Vec<PathBuf>)> = streamed
            .into_par_iter()
            .map(|(dir, sources)| {
                let mut local = ScanOutput::default();
                let detach = sources.iter().map(|s| s.text.len()).sum::<usize>() > detach_above;
                let files: Vec<ParsedFile> = sources
                    .into_iter()
                    .filter_map(|s| local.absorb(parse_source(s, detach)))
                    .collect();
                let def = ModuleDef::new(dir.clone(), &files, remote);
                let calls: Vec<PathBuf> = def.calls.iter().filter_map(|c| c.dir.clone()).collect();
                let modules = Modules {
                    by_dir: HashMap::new(),
                    shared: Some(shared),
                    root_dir_display: shared.root_dir_display.clone(),
                };
                let result = self.evaluate(&def, &modules, &mut local);
                (result, local, calls)
            })
            .collect();
        let mut results = Vec::with_capacity(per_root.len());
        let mut calls = Vec::new();
        for (r, local, c) in per_root {
            results.extend(r);
            out.merge(local);
            calls.extend(c);
        }
        (results, calls)
    }

    /// Shared modules as roots ([`super::shared::uncalled_roots`]), in
    /// parallel. Returns what `each` made.
    pub fn shared(&self, roots: &[&PathBuf], shared: &Modules<'_>, out: &mut ScanOutput) -> Vec<R> {
        let per_root: Vec<(Vec<R>, ScanOutput)> = roots
            .par_iter()
            .filter_map(|root| {
                let def = shared.get(root)?;
                let mut local = ScanOutput::default();
                let result = self.evaluate(def, shared, &mut local);
                Some((result, local))
            })
            .collect();
        let mut results = Vec::new();
        for (r, local) in per_root {
            results.extend(r);
            out.merge(local);
        }
        results
    }
}
