//! The Terraform scanner: `.tf` directories to one record per block instance.
//!
//! Every directory with `.tf` files is a module. Local `module` calls are
//! followed and the called module is evaluated with its caller's inputs, so
//! its records get addresses such as `module.api.aws_ecs_service.responses`;
//! directories nobody calls are root modules, evaluated with their tfvars.
//! Values are resolved statically where Terraform's semantics make them
//! knowable (see [`expr`]); everything else is unknown, never guessed.
//! Files are parsed with `hcl-edit`, which keeps byte spans; each file is
//! read once, and only in a directory with much text are resource bodies
//! parsed a second time, when they are evaluated ([`parse::DETACH_ABOVE`]).
//!
//! [`scan_each`] is the pipeline, one step per module:
//!
//! 1. [`discover`]: the given paths to module directories, the files named
//!    on their own, the modules `terraform init` downloaded;
//! 2. [`shared`]: every file read, and the directories any text names
//!    parsed once and shared; the rest are streamed roots;
//! 3. [`roots`]: each root evaluated in parallel, its records handed on in
//!    batches; [`walk`] expands its blocks within bounds and
//!    [`records`] builds each record.
//!
//! `plan` reads plan JSON into the same records.

mod cloud;
mod discover;
pub mod error;
pub mod expr;
pub mod funcs;
pub mod json_config;
pub mod module;
mod parse;
pub mod plan;
mod records;
pub mod recover;
mod roots;
mod shared;
pub mod slim;
mod tfvars;
pub mod vartype;
pub mod waivers;
mod walk;

pub use cloud::{cloud_of_provider, normalize_region};
pub use parse::DETACH_ABOVE;
pub use walk::{GROUP_COUNT_ABOVE, MAX_INSTANCES_EACH, MAX_RECORDS_PER_ROOT};

use super::{ScanOutput, ScannedRecord};
use crate::source::display_path;
use roots::{RecordFilter, RootEvaluation};
use std::path::PathBuf;

/// Scanner settings.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `--var-file`s, applied to every root module after its own tfvars.
    pub var_files: Vec<PathBuf>,
    /// `--exclude` globs: paths skipped while walking the given directories.
    pub exclude: Vec<crate::scan::Exclude>,
    /// Text in one directory above which resource bodies are detached
    /// after parsing; `None`: [`DETACH_ABOVE`]. Tests set 0 to run every
    /// fixture through the re-parsing path.
    pub detach_above: Option<usize>,
}

/// Scans Terraform files and directories into records, sorted by file and
/// position.
pub fn scan(paths: &[PathBuf], options: &Options) -> ScanOutput {
    let (mut out, parts) = scan_each(paths, options, &|records| records);
    out.records = parts.into_iter().flatten().collect();
    super::sort_records(&mut out.records);
    out
}

/// Scans Terraform files and directories, handing the records of each root
/// module (with the modules it calls) to `each` as soon as they are built,
/// in parallel; returns what `each` made, one per root module. `records` of
/// the returned output stays empty.
pub fn scan_each<R: Send>(
    paths: &[PathBuf],
    options: &Options,
    each: &(dyn Fn(Vec<ScannedRecord>) -> R + Sync),
) -> (ScanOutput, Vec<R>) {
    let mut out = ScanOutput::default();
    let detach_above = options.detach_above.unwrap_or(DETACH_ABOVE);

    // 1. Which directories are modules, and which files were asked for.
    let given = discover::discover(paths, &options.exclude, &mut out);
    let remote = discover::downloaded_modules(&given.dirs, &mut out);

    // 2. Read every file; parse the directories any text names (and what
    // they call) once, for every root to share.
    let (mut texts, named) = shared::read_texts(&given.dirs, &remote, &mut out);
    let kept = shared::parse_shared(named, &mut texts, &remote, detach_above, &mut out);
    let root_dir_display = paths
        .first()
        .map(|p| display_path(p))
        .unwrap_or_else(|| ".".into());
    let shared = shared::shared_modules(&kept, &remote, &root_dir_display);

    // 3. Evaluate the roots: the streamed ones (each parsed, evaluated,
    // judged, dropped), then the shared modules that nobody calls.
    let roots = RootEvaluation {
        options,
        filter: RecordFilter::new(&given.only_files),
        each,
    };
    let (mut results, calls) = roots.streamed(texts, &shared, &remote, detach_above, &mut out);
    let uncalled = shared::uncalled_roots(&shared, &given.dirs, calls);
    results.extend(roots.shared(&uncalled, &shared, &mut out));
    (out, results)
}

/// Converts JSON (tfvars.json, a plan's values) to a value.
pub use crate::value::from_json;
