//! Scanners: inputs to records.
//!
//! Each input format has a scanner that turns files into [`ScannedRecord`]s:
//! named fields (the shared vocabulary, `cloud`, `region`, `kind`, … as
//! `rules::fields::KNOWN_FIELDS` lists them and the README's "The rule
//! language" section describes them, plus the format's own),
//! where each field was written, and where the record itself is. Scanners
//! never stop at a bad file: they report it as a malformed-input diagnostic
//! and go on.

pub mod arm;
pub mod bicep;
pub mod cloudformation;
pub mod iac;
pub mod kubernetes;
pub mod logs;
pub mod terraform;
pub mod yaml;

/// Scans every input of `proviso check`: Terraform directories and files
/// (`.tf`, `.tf.json`), Terraform plan JSON files named on their own, and
/// the other infrastructure as code [`iac`] detects.
pub fn scan_inputs(
    paths: &[std::path::PathBuf],
    options: &terraform::Options,
    iac: &iac::Options,
) -> ScanOutput {
    let (mut out, parts) = scan_inputs_each(paths, options, iac, &|records| records);
    out.records = parts.into_iter().flatten().collect();
    sort_records(&mut out.records);
    out
}

/// Sorts records by file, position and address.
pub fn sort_records(records: &mut [ScannedRecord]) {
    records.sort_by(|a, b| {
        (&a.origin.file.name, a.origin.span.start, &a.address).cmp(&(
            &b.origin.file.name,
            b.origin.span.start,
            &b.address,
        ))
    });
}

/// Like [`scan_inputs`], but hands each independent group of records (a
/// root module with the modules it calls, a template, a manifest) to
/// `each` as soon as it is built, so that a large repository's records
/// never all live at once.
pub fn scan_inputs_each<R: Send>(
    paths: &[std::path::PathBuf],
    options: &terraform::Options,
    iac: &iac::Options,
    each: &(dyn Fn(Vec<ScannedRecord>) -> R + Sync),
) -> (ScanOutput, Vec<R>) {
    iac::scan_inputs_each(paths, options, iac, each)
}

use crate::diag::Diag;
use crate::source::Origin;
use crate::value::{FieldPath, Lookup, Record, Unknown, Value, lookup_in};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One record: a Terraform block instance, a log line, ….
#[derive(Debug, Clone)]
pub struct ScannedRecord {
    pub fields: BTreeMap<String, Value>,
    /// Where field values were written (longest matching prefix wins).
    pub origins: Vec<(Vec<String>, Origin)>,
    /// The record's header (a block's type and labels; a log line).
    pub origin: Origin,
    pub address: String,
    /// Set when whether the record exists at all is unknown (a `count` or
    /// `for_each` that cannot be evaluated): a violation on it is unresolved.
    pub existence: Option<Arc<Unknown>>,
    /// How many block instances this record stands for: 1, or more for the
    /// instances of a large `count` that differ only by their index (one
    /// record, address `x[0..N-1]`, judged once and counted N times).
    pub instances: u64,
}

impl Record for ScannedRecord {
    fn lookup(&self, path: &FieldPath) -> Lookup<'_> {
        lookup_in(&self.fields, &path.0)
    }

    fn origin_of(&self, path: &FieldPath) -> Option<Origin> {
        self.origins
            .iter()
            .filter(|(p, _)| path.0.starts_with(p))
            .max_by_key(|(p, _)| p.len())
            .map(|(_, o)| o.clone())
    }
}

impl ScanOutput {
    /// Adds what another part of the scan found.
    pub fn merge(&mut self, other: ScanOutput) {
        self.files += other.files;
        for f in other.file_paths {
            if !self.file_paths.insert(f) {
                self.files = self.files.saturating_sub(1);
            }
        }
        self.modules += other.modules;
        self.records.extend(other.records);
        self.malformed.extend(other.malformed);
        self.notes.extend(other.notes);
        self.waivers.extend(other.waivers);
        self.waiver_errors.extend(other.waiver_errors);
        for u in other.unscanned_modules {
            self.add_unscanned(u);
        }
    }

    /// Records a module call not followed, once per call block.
    pub fn add_unscanned(&mut self, u: UnscannedModule) {
        match self
            .unscanned_modules
            .iter_mut()
            .find(|x| x.origin.file.name == u.origin.file.name && x.origin.span == u.origin.span)
        {
            Some(x) => x.instances = x.instances.saturating_add(u.instances),
            None => self.unscanned_modules.push(u),
        }
    }
}

impl ScannedRecord {
    pub fn kind(&self) -> &str {
        self.fields
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or("record")
    }
}

/// What a scan produced.
#[derive(Debug, Default)]
pub struct ScanOutput {
    pub records: Vec<ScannedRecord>,
    /// Input files read.
    pub files: usize,
    /// The files counted in `files`, where a scan names them (a Bicep
    /// file and the local modules it follows): a module file several
    /// roots use is counted once when their outputs are merged.
    pub file_paths: BTreeSet<PathBuf>,
    /// Files or records that could not be read (counted, reported, skipped).
    pub malformed: Vec<Diag>,
    /// Things worth knowing that are not errors (a remote module not followed).
    pub notes: Vec<Diag>,
    /// Module instances evaluated.
    pub modules: usize,
    /// `# proviso:waive` comments found in the files read.
    pub waivers: Vec<terraform::waivers::Waiver>,
    /// Waiver comments that could not be read (reported unless `--no-waivers`).
    pub waiver_errors: Vec<Diag>,
    /// Module calls whose source is neither local nor downloaded by
    /// `terraform init`: their insides were not scanned.
    pub unscanned_modules: Vec<UnscannedModule>,
}

/// A module call proviso could not follow. One entry per call block,
/// however many instances it has.
#[derive(Debug, Clone)]
pub struct UnscannedModule {
    /// `module.vpc`, or `module.app.module.vpc` inside another module.
    pub address: String,
    pub source: String,
    /// The call's header.
    pub origin: Origin,
    /// Instances of the call (all its module instances, every caller).
    pub instances: u64,
}

/// An exclude glob and the directory it is relative to.
#[derive(Debug, Clone)]
pub struct Exclude {
    pub base: PathBuf,
    pub pattern: String,
}

impl Exclude {
    /// Whether `path` (absolute) is excluded: the glob matches its path
    /// relative to `base`, or, for a glob without `/`, its file name.
    pub fn matches(&self, path: &Path) -> bool {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        if !self.pattern.contains('/') && crate::text::glob_match(&self.pattern, &name) {
            return true;
        }
        path.strip_prefix(&self.base).is_ok_and(|rel| {
            let rel = rel.to_string_lossy().replace('\\', "/");
            let pattern = self.pattern.trim_start_matches("./").trim_end_matches('/');
            crate::text::glob_match(pattern, &rel)
        })
    }
}
