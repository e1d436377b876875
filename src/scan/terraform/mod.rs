//! The Terraform scanner: `.tf` directories to one record per block instance.
//!
//! Every directory with `.tf` files is a module. Local `module` calls are
//! followed and the called module is evaluated with its caller's inputs, so
//! its records get addresses such as `module.api.aws_ecs_service.responses`;
//! directories nobody calls are root modules, evaluated with their tfvars.
//! Values are resolved statically where Terraform's semantics make them
//! knowable (see [`eval`]); everything else is unknown, never guessed.
//! Files are parsed once, with `hcl-edit`, which keeps byte spans.

pub mod expr;
pub mod funcs;
pub mod json_config;
pub mod module;
pub mod plan;
pub mod recover;
pub mod slim;
pub mod vartype;
pub mod waivers;

use super::{ScanOutput, ScannedRecord};
use crate::diag::{Code, Diag};
use crate::source::{Origin, SourceFile, display_path};
use crate::value::{Unknown, Value};
use expr::{Ctx, Frame};
use hcl_edit::Span as _;
use hcl_edit::structure::{Block, Body};
use module::*;
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

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

/// Deepest chain of module calls followed.
const MAX_MODULE_DEPTH: usize = 32;

/// Meta-arguments that are not resource attributes.
const META: [&str; 6] = [
    "count",
    "for_each",
    "provider",
    "depends_on",
    "lifecycle",
    "provisioner",
];

/// The cloud a provider belongs to.
pub fn cloud_of_provider(provider: &str) -> Option<&'static str> {
    Some(match provider {
        "azurerm" | "azuread" | "azapi" | "azurestack" | "azuredevops" => "azure",
        "aws" | "awscc" => "aws",
        "google" | "google-beta" => "gcp",
        "oci" => "oracle",
        "alicloud" => "alibaba",
        "ibm" => "ibm",
        "digitalocean" => "digitalocean",
        "hcloud" => "hetzner",
        "linode" => "linode",
        "scaleway" => "scaleway",
        "ovh" => "ovh",
        "tencentcloud" => "tencent",
        "huaweicloud" => "huawei",
        "vultr" => "vultr",
        "cloudflare" => "cloudflare",
        _ => return None,
    })
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
    let mut dirs: BTreeSet<PathBuf> = BTreeSet::new();
    let mut only_files: HashMap<PathBuf, BTreeSet<PathBuf>> = HashMap::new();
    for p in paths {
        let Ok(abs) = std::fs::canonicalize(p) else {
            out.malformed.push(
                Diag::error(
                    Code::InputNotFound,
                    format!("`{}` does not exist", p.display()),
                )
                .with_help("pass Terraform directories or `.tf` files to `proviso check`"),
            );
            continue;
        };
        if abs.is_file() {
            if let Some(parent) = abs.parent() {
                dirs.insert(parent.to_path_buf());
                only_files
                    .entry(parent.to_path_buf())
                    .or_default()
                    .insert(abs.clone());
            }
            continue;
        }
        let walker = walkdir::WalkDir::new(&abs)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| {
                e.depth() == 0
                    || !((e.file_type().is_dir()
                        && e.file_name().to_string_lossy().starts_with('.'))
                        || options.exclude.iter().any(|x| x.matches(e.path())))
            });
        for entry in walker {
            match entry {
                // A link to a `.tf` file is read, as Terraform reads it.
                Ok(e) if (e.file_type().is_file() || e.path().is_file()) && is_tf(e.path()) => {
                    if let Some(parent) = e.path().parent() {
                        dirs.insert(parent.to_path_buf());
                    }
                }
                Ok(_) => {}
                Err(e) => out.malformed.push(Diag::error(
                    Code::InputUnreadable,
                    format!("cannot read `{}`: {e}", p.display()),
                )),
            }
        }
    }
    // Modules `terraform init` downloaded, followed as local ones are.
    let mut remote = RemoteDirs::new();
    for d in &dirs {
        if let Err(e) = read_modules_json(d, &mut remote) {
            out.malformed.push(
                Diag::error(
                    Code::InputUnreadable,
                    format!(
                        "cannot read `{}`: {e}",
                        display_path(&d.join(".terraform/modules/modules.json"))
                    ),
                )
                .with_help("run `terraform init` again to rewrite it; modules it lists are not scanned until then"),
            );
        }
    }
    let remote = remote;

    // A directory given as a whole is scanned whole even if a file in it was also named.
    for d in &dirs {
        if paths
            .iter()
            .any(|p| std::fs::canonicalize(p).ok().as_ref() == Some(d))
        {
            only_files.remove(d);
        }
    }

    // 2. Read every file (in parallel) and note the directories that any
    // text names as a local path. A directory no text names cannot be a
    // called module: it is a root that is parsed, evaluated, judged and
    // dropped on its own ("streamed"), so that memory holds the parsed
    // files of one root per thread, not of the whole repository. The named
    // directories (a superset of the called modules) are parsed up front
    // and kept for every root to share.
    let listed: Vec<(PathBuf, PathBuf)> = dirs
        .iter()
        .flat_map(|dir| match list_dir(dir) {
            Ok(files) => files.into_iter().map(|f| (dir.clone(), f)).collect(),
            Err(d) => {
                out.malformed.push(d);
                Vec::new()
            }
        })
        .collect();
    /// A file's directory, its text (or why it could not be read), and the
    /// directories its text names.
    type Read = (PathBuf, Result<Arc<SourceFile>, Diag>, Vec<PathBuf>);
    let read: Vec<Read> = listed
        .into_par_iter()
        .map(|(dir, path)| {
            let file = read_source(&path);
            let named = match &file {
                Ok(f) => named_dirs(&dir, &f.text),
                Err(_) => Vec::new(),
            };
            (dir, file, named)
        })
        .collect();
    let named: BTreeSet<PathBuf> = read
        .iter()
        .flat_map(|(_, _, n)| n.iter().cloned())
        .chain(remote.values().cloned())
        .collect();
    let mut texts: BTreeMap<PathBuf, Vec<Arc<SourceFile>>> =
        dirs.iter().map(|d| (d.clone(), Vec::new())).collect();
    for (dir, file, _) in read {
        match file {
            Ok(f) => texts.entry(dir).or_default().push(f),
            Err(d) => {
                out.files += 1;
                out.malformed.push(d);
            }
        }
    }

    // 3. The shared modules: named directories, and whatever they call, one
    // wave of directories at a time, the files of a wave in parallel.
    let mut kept: BTreeMap<PathBuf, Vec<ParsedFile>> = BTreeMap::new();
    let mut wave: BTreeSet<PathBuf> = named;
    while !wave.is_empty() {
        let mut sources: Vec<(PathBuf, Arc<SourceFile>)> = Vec::new();
        for dir in &wave {
            kept.insert(dir.clone(), Vec::new());
            match texts.remove(dir) {
                Some(files) => sources.extend(files.into_iter().map(|f| (dir.clone(), f))),
                None => match list_dir(dir) {
                    Ok(files) => {
                        for path in files {
                            match read_source(&path) {
                                Ok(f) => sources.push((dir.clone(), f)),
                                Err(d) => {
                                    out.files += 1;
                                    out.malformed.push(d);
                                }
                            }
                        }
                    }
                    Err(d) => out.malformed.push(d),
                },
            }
        }
        let mut dir_text: HashMap<&Path, usize> = HashMap::new();
        for (dir, source) in &sources {
            *dir_text.entry(dir.as_path()).or_default() += source.text.len();
        }
        let large: HashSet<PathBuf> = dir_text
            .into_iter()
            .filter(|(_, len)| *len > detach_above)
            .map(|(d, _)| d.to_path_buf())
            .collect();
        let results: Vec<(PathBuf, FileParse)> = sources
            .into_par_iter()
            .map(|(dir, source)| {
                let detach = large.contains(&dir);
                (dir, parse_source(source, detach))
            })
            .collect();
        let mut next = BTreeSet::new();
        for (dir, r) in results {
            let Some(f) = out.absorb(r) else { continue };
            for child in module_dirs(&dir, &f.body, &remote) {
                if !kept.contains_key(&child) {
                    next.insert(child);
                }
            }
            if let Some(files) = kept.get_mut(&dir) {
                files.push(f);
            }
        }
        wave = next;
    }
    let root_display = paths
        .first()
        .map(|p| display_path(p))
        .unwrap_or_else(|| ".".into());
    let shared = Modules {
        by_dir: kept
            .iter()
            .map(|(d, files)| (d.clone(), ModuleDef::new(d.clone(), files, &remote)))
            .collect(),
        shared: None,
        root_dir_display: root_display.clone(),
    };

    // A file named on its own: the whole module is evaluated, its records kept.
    let wanted: BTreeSet<String> = only_files
        .values()
        .flatten()
        .map(|f| display_path(f))
        .collect();
    let restricted_dirs: BTreeSet<String> = only_files.keys().map(|d| display_path(d)).collect();
    let keep = |r: &ScannedRecord| {
        if only_files.is_empty() {
            return true;
        }
        let dir_of = Path::new(&r.origin.file.name)
            .parent()
            .map(|p| p.to_string_lossy().to_string())
            .unwrap_or_default();
        !restricted_dirs.contains(&dir_of) || wanted.contains(&r.origin.file.name)
    };
    // Evaluates one root module (with the modules it calls) and hands its
    // records to `each`.
    let evaluate = |def: &ModuleDef<'_>, modules: &Modules<'_>, local: &mut ScanOutput| {
        let inputs = root_inputs(def, modules, options, local);
        let inst = Instance::new(def, modules, String::new(), inputs, HashMap::new(), 0);
        let mut stack = vec![def.dir.clone()];
        let mut parts = Vec::new();
        let mut walk = Walk {
            records: Vec::new(),
            handed_on: 0,
            flush: &mut |mut batch: Vec<ScannedRecord>| {
                batch.retain(keep);
                parts.push(each(batch));
            },
        };
        walk_instance(&inst, &mut walk, local, &mut stack);
        walk.flush_all();
        parts
    };

    // 4. Streamed roots, in parallel: parse, evaluate, judge, drop.
    let streamed: Vec<(PathBuf, Vec<Arc<SourceFile>>)> = texts.into_iter().collect();
    let per_root: Vec<(Vec<R>, ScanOutput, Vec<PathBuf>)> = streamed
        .into_par_iter()
        .map(|(dir, sources)| {
            let mut local = ScanOutput::default();
            let detach = sources.iter().map(|s| s.text.len()).sum::<usize>() > detach_above;
            let files: Vec<ParsedFile> = sources
                .into_iter()
                .filter_map(|s| local.absorb(parse_source(s, detach)))
                .collect();
            let def = ModuleDef::new(dir.clone(), &files, &remote);
            let calls: Vec<PathBuf> = def.calls.iter().filter_map(|c| c.dir.clone()).collect();
            let modules = Modules {
                by_dir: HashMap::new(),
                shared: Some(&shared),
                root_dir_display: root_display.clone(),
            };
            let result = evaluate(&def, &modules, &mut local);
            (result, local, calls)
        })
        .collect();
    let mut results = Vec::with_capacity(per_root.len());
    let mut called: BTreeSet<PathBuf> = BTreeSet::new();
    let mut reached: BTreeSet<PathBuf> = BTreeSet::new();
    let mut frontier: Vec<PathBuf> = Vec::new();
    for (r, local, calls) in per_root {
        results.extend(r);
        out.merge(local);
        called.extend(calls.iter().cloned());
        frontier.extend(calls);
    }

    // 5. Shared modules that nobody calls are roots too. A directory that
    // calls itself does not count as called; directories only reachable
    // through a cycle of calls are treated as roots, so that nothing given
    // is silently left out (the cycle is then reported).
    called.extend(shared.by_dir.iter().flat_map(|(d, m)| {
        m.calls
            .iter()
            .filter_map(|c| c.dir.clone())
            .filter(move |c| c != d)
    }));
    let mut roots: Vec<&PathBuf> = shared
        .by_dir
        .keys()
        .filter(|d| dirs.contains(*d) && !called.contains(*d))
        .collect();
    roots.sort();
    frontier.extend(roots.iter().map(|d| (*d).clone()));
    let reach = |from: Vec<PathBuf>, reached: &mut BTreeSet<PathBuf>| {
        let mut more = from;
        while let Some(x) = more.pop() {
            if reached.insert(x.clone())
                && let Some(m) = shared.get(&x)
            {
                more.extend(m.calls.iter().filter_map(|c| c.dir.clone()));
            }
        }
    };
    reach(frontier, &mut reached);
    let mut cyclic: Vec<&PathBuf> = Vec::new();
    for d in shared.by_dir.keys().filter(|d| dirs.contains(*d)) {
        if !reached.contains(d) {
            cyclic.push(d);
            reach(vec![d.clone()], &mut reached);
        }
    }
    cyclic.sort();
    roots.extend(cyclic);
    let per_root: Vec<(Vec<R>, ScanOutput)> = roots
        .par_iter()
        .filter_map(|root| {
            let def = shared.get(root)?;
            let mut local = ScanOutput::default();
            let result = evaluate(def, &shared, &mut local);
            Some((result, local))
        })
        .collect();
    for (r, local) in per_root {
        results.extend(r);
        out.merge(local);
    }
    (out, results)
}

impl ScanOutput {
    /// Counts a parsed file and keeps what it reported; returns the file if
    /// it parsed.
    fn absorb(&mut self, r: FileParse) -> Option<ParsedFile> {
        self.files += 1;
        self.malformed.extend(r.malformed);
        self.waivers.extend(r.waivers);
        self.waiver_errors.extend(r.waiver_errors);
        r.parsed
    }
}

/// The local module directories a parsed file calls.
fn module_dirs(dir: &Path, body: &Body, remote: &RemoteDirs) -> Vec<PathBuf> {
    body.get_blocks("module")
        .filter_map(|block| {
            let src = block.body.get_attribute("source")?.value.as_str()?;
            local_module_dir(dir, src).or_else(|| {
                let name = block.labels.first()?.as_str().to_string();
                remote.get(&(dir.to_path_buf(), name)).cloned()
            })
        })
        .collect()
}

/// Every existing directory that a string literal of `text` names as a
/// local path (`"./x"`, `"../x"`): a superset of the local modules the file
/// calls, found without parsing.
fn named_dirs(dir: &Path, text: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for (i, _) in text.match_indices('"') {
        let Some(after) = text.get(i + 1..) else {
            continue;
        };
        if !(after.starts_with("./") || after.starts_with("../")) {
            continue;
        }
        let end = after.find(['"', '\n']).unwrap_or(after.len());
        if let Some(src) = after.get(..end)
            && let Some(d) = local_module_dir(dir, src)
            && !out.contains(&d)
        {
            out.push(d);
        }
    }
    out
}

/// `.tf` and `.tf.json` files are Terraform configuration.
fn is_tf(path: &Path) -> bool {
    path.file_name()
        .map(|n| n.to_string_lossy())
        .is_some_and(|n| n.ends_with(".tf") || n.ends_with(".tf.json"))
}

/// The Terraform files of a directory, sorted.
fn list_dir(dir: &Path) -> Result<Vec<PathBuf>, Diag> {
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| {
            Diag::error(
                Code::InputUnreadable,
                format!("cannot read `{}`: {e}", display_path(dir)),
            )
        })?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_file() && is_tf(p))
        .collect();
    names.sort();
    Ok(names)
}

/// One file read and parsed, with what it says about itself.
#[derive(Default)]
struct FileParse {
    parsed: Option<ParsedFile>,
    malformed: Vec<Diag>,
    waivers: Vec<waivers::Waiver>,
    waiver_errors: Vec<Diag>,
}

fn read_source(path: &Path) -> Result<Arc<SourceFile>, Diag> {
    crate::diag::read_text(path).map(|text| SourceFile::new(display_path(path), text))
}

/// Text in one directory above which its files' resource bodies are
/// detached after parsing and parsed again when evaluated
/// ([`slim::detach_resource_bodies`]). Below it, keeping the trees costs
/// little memory and parsing twice would cost half as much time again
/// (5,000 files in 1,000 directories); above it, one module's trees are
/// most of the run's memory (500 files, 2.7 MB, in one directory: 69 MiB
/// peak with the trees kept, 37 MiB without).
pub const DETACH_ABOVE: usize = 512 * 1024;

/// Parses one file; `detach`: drop its resource bodies (see [`DETACH_ABOVE`]).
fn parse_source(source: Arc<SourceFile>, detach: bool) -> FileParse {
    if source.name.ends_with(".tf.json") {
        return parse_json_source(source);
    }
    let recovered = recover::parse(&source.text);
    let source = match recovered.offsets {
        Some(map) => SourceFile::translated(source.name.clone(), source.text.clone(), map),
        None => source,
    };
    let kept = recovered.body.is_some();
    let malformed = recovered
        .errors
        .iter()
        .map(|e| malformed_hcl(&source, e, kept))
        .collect();
    let lost_locals = recovered
        .lost_locals
        .into_iter()
        .map(|(name, span)| {
            (
                name,
                Origin {
                    file: source.clone(),
                    span,
                },
            )
        })
        .collect();
    match recovered.body {
        Some(mut body) => {
            let (waivers, waiver_errors) = waivers::find(&source, &body);
            // Override files are merged block by block and stay whole.
            let detached = detach && recovered.verbatim && !module::is_override_file(&source.name);
            if detached {
                slim::detach_resource_bodies(&mut body);
            }
            slim::strip_decor(&mut body);
            FileParse {
                parsed: Some(ParsedFile {
                    source,
                    body,
                    lost_locals,
                    detached,
                }),
                malformed,
                waivers,
                waiver_errors,
            }
        }
        None => FileParse {
            malformed,
            ..FileParse::default()
        },
    }
}

/// The error for a part of a `.tf` file that cannot be parsed. `kept`: the
/// rest of the file was read.
fn malformed_hcl(source: &Arc<SourceFile>, e: &recover::ParseError, kept: bool) -> Diag {
    let offset = e.offset.min(source.text.len());
    let end = source
        .text
        .get(offset..)
        .and_then(|r| r.chars().next())
        .map_or(offset, |c| offset + c.len_utf8());
    let what = if kept {
        "this block was skipped and the rest of the file was still checked"
    } else {
        "this file was skipped and the rest of the module was still checked"
    };
    Diag::error(
        Code::InputMalformedTerraform,
        format!("`{}` is not valid HCL: {}", source.name, e.message),
    )
    .in_file(source)
    .label(offset..end, "cannot parse from here")
    .with_help(format!(
        "fix the syntax; {what} (if `terraform validate` accepts this file, proviso reads HCL differently here: please report it)"
    ))
}

/// A `.tf.json` file: translated to native syntax and parsed, its parse
/// tree's spans mapped back to the JSON text.
fn parse_json_source(source: Arc<SourceFile>) -> FileParse {
    let malformed = |at: usize, why: String| {
        let at = at.min(source.text.len());
        FileParse {
            malformed: vec![
                Diag::error(
                    Code::InputMalformedTerraform,
                    format!("`{}` is not valid Terraform JSON: {why}", source.name),
                )
                .in_file(&source)
                .label(at..at, "cannot read from here")
                .with_help("fix the file (`terraform validate` reads it the same way); the rest of the module was still checked"),
            ],
            ..FileParse::default()
        }
    };
    let (hcl, map) = match json_config::to_hcl(&source.text) {
        Ok(x) => x,
        Err(e) => return malformed(e.offset, e.message),
    };
    match hcl_edit::parser::parse_body(&hcl) {
        Ok(mut body) => {
            slim::strip_decor(&mut body);
            let file = SourceFile::translated(source.name.clone(), source.text.clone(), map);
            FileParse {
                parsed: Some(ParsedFile {
                    source: file,
                    body,
                    lost_locals: Vec::new(),
                    detached: false,
                }),
                ..FileParse::default()
            }
        }
        Err(e) => malformed(
            map.map(e.location().offset(), false),
            e.message().trim().to_string(),
        ),
    }
}

/// A root module's variable values: `terraform.tfvars`, then
/// `*.auto.tfvars` in name order, then `--var-file`s; later files win.
fn root_inputs(
    def: &ModuleDef<'_>,
    modules: &Modules<'_>,
    options: &Options,
    out: &mut ScanOutput,
) -> HashMap<String, Value> {
    let mut var_files: Vec<PathBuf> = Vec::new();
    for name in ["terraform.tfvars", "terraform.tfvars.json"] {
        let p = def.dir.join(name);
        if p.is_file() {
            var_files.push(p);
        }
    }
    let mut autos: Vec<PathBuf> = std::fs::read_dir(&def.dir)
        .map(|rd| rd.filter_map(|e| e.ok()).map(|e| e.path()).collect())
        .unwrap_or_default();
    autos.retain(|p| {
        let n = p
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        n.ends_with(".auto.tfvars") || n.ends_with(".auto.tfvars.json")
    });
    autos.sort();
    var_files.extend(autos);
    var_files.extend(options.var_files.iter().cloned());

    let mut inputs = HashMap::new();
    let empty = Instance::new(
        def,
        modules,
        String::new(),
        HashMap::new(),
        HashMap::new(),
        0,
    );
    for path in var_files {
        out.files += 1;
        let text = match crate::diag::read_text(&path) {
            Ok(t) => t,
            Err(d) => {
                out.malformed.push(d);
                continue;
            }
        };
        let source = SourceFile::new(display_path(&path), text);
        if path.extension().is_some_and(|e| e == "json") {
            match serde_json::from_str::<serde_json::Value>(&source.text) {
                Ok(serde_json::Value::Object(map)) => {
                    for (k, v) in map {
                        inputs.insert(k, from_json(&v));
                    }
                }
                Ok(_) => out.malformed.push(
                    Diag::error(
                        Code::InputMalformedTfvars,
                        format!("`{}` is not a JSON object", source.name),
                    )
                    .in_file(&source)
                    .label(0..0, "here"),
                ),
                Err(e) => {
                    let offset = crate::source::offset_at(&source.text, e.line(), e.column());
                    out.malformed.push(
                        Diag::error(
                            Code::InputMalformedTfvars,
                            format!("`{}` is not valid JSON: {e}", source.name),
                        )
                        .in_file(&source)
                        .label(offset..offset, "here"),
                    );
                }
            }
            continue;
        }
        let recovered = recover::parse(&source.text);
        let source = match recovered.offsets {
            Some(map) => SourceFile::translated(source.name.clone(), source.text.clone(), map),
            None => source,
        };
        for e in &recovered.errors {
            let offset = e.offset.min(source.text.len());
            out.malformed.push(
                Diag::error(
                    Code::InputMalformedTfvars,
                    format!("`{}` is not valid HCL: {}", source.name, e.message),
                )
                .in_file(&source)
                .label(offset..offset, "cannot parse from here")
                .with_help("fix the syntax; the variables it sets are unknown until then"),
            );
        }
        if let Some(body) = recovered.body {
            let frame = Frame::default();
            let ctx = Ctx {
                file: &source,
                frame: &frame,
                depth: 0,
            };
            for attr in body.attributes() {
                inputs.insert(attr.key.as_str().to_string(), empty.eval(&attr.value, &ctx));
            }
        }
    }
    inputs
}

/// Converts JSON (tfvars.json) to a value.
pub fn from_json(v: &serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => Value::Num(n.as_f64().unwrap_or(0.0)),
        serde_json::Value::String(s) => Value::str(s),
        serde_json::Value::Array(items) => Value::List(items.iter().map(from_json).collect()),
        serde_json::Value::Object(m) => {
            Value::Map(m.iter().map(|(k, v)| (k.clone(), from_json(v))).collect())
        }
    }
}

/// Records a root module's walk has built, handed on in batches.
///
/// Records are independent once built (other blocks' values are evaluated
/// from the parse trees, not from records), so a root module's records are
/// judged and dropped a batch at a time: a flat monorepo of 10,000
/// resources in one directory never holds them all.
struct Walk<'f> {
    records: Vec<ScannedRecord>,
    /// Records already handed on.
    handed_on: usize,
    flush: &'f mut dyn FnMut(Vec<ScannedRecord>),
}

/// Records handed on together.
const BATCH: usize = 1024;

impl Walk<'_> {
    fn total(&self) -> usize {
        self.handed_on + self.records.len()
    }

    /// Hands on a full batch; only called between the root's own blocks,
    /// where no caller still needs to adjust the records.
    fn flush_if_full(&mut self) {
        if self.records.len() >= BATCH {
            self.flush_all();
        }
    }

    fn flush_all(&mut self) {
        if self.records.is_empty() {
            return;
        }
        let batch = std::mem::take(&mut self.records);
        self.handed_on += batch.len();
        (self.flush)(batch);
    }
}

/// Emits the records of an instance and recurses into the modules it calls.
fn walk_instance(
    inst: &Instance<'_>,
    walk: &mut Walk<'_>,
    out: &mut ScanOutput,
    stack: &mut Vec<PathBuf>,
) {
    out.modules += 1;
    let root = stack.len() == 1;
    for res in &inst.module.resources {
        if root {
            walk.flush_if_full();
        }
        let records = &mut walk.records;
        if over_budget(
            walk.handed_on + records.len(),
            res.block.file,
            res.block.item,
            out,
        ) {
            return;
        }
        let loaded = res.load();
        let block = loaded.get();
        for x in expand(inst, &block.item.body, block.file, out) {
            let mut r = resource_record(inst, res, block, &x.frame, &x.suffix, x.existence);
            r.instances = x.instances;
            records.push(r);
        }
    }
    for call in &inst.module.calls {
        if root {
            walk.flush_if_full();
        }
        if over_budget(walk.total(), call.block.file, call.block.item, out) {
            return;
        }
        let body = &call.block.item.body;
        for x in expand(inst, body, call.block.file, out) {
            let mut r = module_record(inst, call, &x.frame, &x.suffix, x.existence.clone());
            r.instances = x.instances;
            walk.records.push(r);
            let Some(dir) = &call.dir else {
                let origin = Origin::new(call.block.file, header_span(call.block.item));
                let first = !out.unscanned_modules.iter().any(|u| {
                    u.origin.file.name == origin.file.name && u.origin.span == origin.span
                });
                if first {
                    out.notes.push(
                        Diag::advice(Code::InputRemoteModule, format!("module `{}` has the source `{}`, which is not local and not downloaded; its resources are not scanned", call.name, call.source.clone().unwrap_or_default()))
                            .label_at(&origin, "not followed")
                            .with_help("run `terraform init` first: proviso then follows the modules it downloads (`.terraform/modules/modules.json`); until then the call is judged from its arguments"),
                    );
                }
                let local = format!("module.{}", call.name);
                out.add_unscanned(crate::scan::UnscannedModule {
                    address: if inst.prefix.is_empty() {
                        local
                    } else {
                        format!("{}.{local}", inst.prefix)
                    },
                    source: call.source.clone().unwrap_or_default(),
                    origin,
                    instances: x.instances,
                });
                continue;
            };
            if stack.contains(dir) || stack.len() > MAX_MODULE_DEPTH {
                out.malformed.push(
                    Diag::error(
                        Code::InputModuleCycle,
                        format!(
                            "module `{}` calls a module that is already being evaluated",
                            call.name
                        ),
                    )
                    .label_at(
                        &Origin::new(call.block.file, header_span(call.block.item)),
                        "calls itself through this module",
                    )
                    .with_help("Terraform rejects recursive modules: check the `source` paths"),
                );
                continue;
            }
            let Some(child_def) = inst.modules.get(dir) else {
                continue;
            };
            let child = inst.child_instance(call, child_def, &x.frame, &x.suffix);
            stack.push(dir.clone());
            let first = walk.records.len();
            walk_instance(&child, walk, out, stack);
            for r in walk.records.iter_mut().skip(first) {
                if let Some(u) = &x.existence {
                    r.existence.get_or_insert_with(|| u.clone());
                }
                r.instances = r.instances.saturating_mul(x.instances);
            }
            stack.pop();
        }
    }
}

/// Most records one root module (with the modules it calls) may expand to.
/// Past it, the rest of the root is not expanded and the run fails with a
/// located error: a configuration that large (modules calling modules
/// with `count`, say 2^20 instances) would otherwise take gigabytes.
pub const MAX_RECORDS_PER_ROOT: usize = 200_000;

/// Most instances of one block that are evaluated one by one. The rest of
/// a larger `count` or `for_each` is one record whose `count.index` (or
/// `each`) is unknown: what does not depend on the index is judged
/// exactly, what does is unresolved.
pub const MAX_INSTANCES_EACH: u64 = 10_000;

/// A `count` above this whose block never reads `count.index` is one
/// record that stands for all its instances (`x[0..N-1]`).
pub const GROUP_COUNT_ABOVE: u64 = 100;

/// Whether the root's record budget is spent (reported once, at `block`).
fn over_budget(
    records: usize,
    file: &Arc<SourceFile>,
    block: &Block,
    out: &mut ScanOutput,
) -> bool {
    if records < MAX_RECORDS_PER_ROOT {
        return false;
    }
    if !out
        .malformed
        .iter()
        .any(|d| d.code == Code::InputTooManyInstances)
    {
        out.malformed.push(
            Diag::error(
                Code::InputTooManyInstances,
                format!(
                    "this configuration expands to more than {MAX_RECORDS_PER_ROOT} block instances; proviso stopped expanding it here"
                ),
            )
            .label_at(&Origin::new(file, header_span(block)), "not expanded from here on")
            .with_help("the modules that lead here are instantiated many times over (`count`, `for_each`, or one module called several times at each level): check the calls; blocks from here on were not judged"),
        );
    }
    true
}

/// One instance of a block (or a group of instances judged as one).
struct Expanded {
    frame: Frame,
    /// `[0]`, `["key"]`, `[0..9]`, or empty.
    suffix: String,
    existence: Option<Arc<Unknown>>,
    instances: u64,
}

impl Expanded {
    fn single(frame: Frame, suffix: String) -> Expanded {
        Expanded {
            frame,
            suffix,
            existence: None,
            instances: 1,
        }
    }
}

/// The instances of a block: frames with `count.index` / `each` bound.
fn expand(
    inst: &Instance<'_>,
    body: &Body,
    file: &Arc<SourceFile>,
    out: &mut ScanOutput,
) -> Vec<Expanded> {
    let index_unknown = |why: String| {
        let u = Value::unknown(why, None);
        Frame {
            each: Some((u.clone(), u.clone())),
            count_index: Some(u),
            vars: Vec::new(),
        }
    };
    match inst.instances_of(body, file, inst.depth) {
        Instances::Single => vec![Expanded::single(Frame::default(), String::new())],
        Instances::Count(n) if n > GROUP_COUNT_ABOVE && !mentions(body, "count") => {
            vec![Expanded {
                frame: index_unknown("`count.index` is not used".into()),
                suffix: format!("[0..{}]", n - 1),
                existence: None,
                instances: n,
            }]
        }
        Instances::Count(n) => {
            let one_by_one = n.min(MAX_INSTANCES_EACH);
            let mut v: Vec<Expanded> = (0..one_by_one)
                .map(|i| {
                    let idx = Value::Num(i as f64);
                    Expanded::single(
                        Frame {
                            count_index: Some(idx.clone()),
                            ..Frame::default()
                        },
                        instance_suffix(&idx),
                    )
                })
                .collect();
            if n > one_by_one {
                note_capped(body, file, n, out);
                v.push(Expanded {
                    frame: index_unknown(format!(
                        "instances past the first {MAX_INSTANCES_EACH} of `count = {n}` are judged together"
                    )),
                    suffix: format!("[{one_by_one}..{}]", n - 1),
                    existence: None,
                    instances: n - one_by_one,
                });
            }
            v
        }
        Instances::Each(items) => {
            let n = items.len() as u64;
            let mut v: Vec<Expanded> = Vec::new();
            for (k, val) in items.into_iter().take(MAX_INSTANCES_EACH as usize) {
                let suffix = instance_suffix(&k);
                v.push(Expanded::single(
                    Frame {
                        each: Some((k, val)),
                        ..Frame::default()
                    },
                    suffix,
                ));
            }
            if n > MAX_INSTANCES_EACH {
                note_capped(body, file, n, out);
                v.push(Expanded {
                    frame: index_unknown(format!(
                        "instances past the first {MAX_INSTANCES_EACH} of a `for_each` of {n} are judged together"
                    )),
                    suffix: "[…]".into(),
                    existence: None,
                    instances: n - MAX_INSTANCES_EACH,
                });
            }
            v
        }
        Instances::Unknown(u) => {
            let unknown_value = Value::Unknown(u.clone());
            let frame = Frame {
                each: Some((unknown_value.clone(), unknown_value.clone())),
                count_index: Some(unknown_value),
                vars: Vec::new(),
            };
            vec![Expanded {
                frame,
                suffix: String::new(),
                existence: Some(u),
                instances: 1,
            }]
        }
    }
}

/// Says that a block's instances past [`MAX_INSTANCES_EACH`] are judged as one.
fn note_capped(body: &Body, file: &Arc<SourceFile>, n: u64, out: &mut ScanOutput) {
    let at = body
        .get_attribute("count")
        .or_else(|| body.get_attribute("for_each"))
        .and_then(|a| a.value.span())
        .map(|s| Origin::new(file, s));
    let mut d = Diag::advice(
        Code::InputInstancesGrouped,
        format!(
            "{n} instances: the first {MAX_INSTANCES_EACH} are judged one by one, the rest as one record whose index is unknown"
        ),
    );
    if let Some(o) = at {
        d = d.label_at(&o, "here");
    }
    out.notes.push(d);
}

/// Whether any expression of a body (nested blocks included) refers to
/// `root.…` (`count`, `each`).
fn mentions(body: &Body, root: &str) -> bool {
    use hcl_edit::visit::{Visit, visit_expr};
    struct Finder<'r> {
        root: &'r str,
        found: bool,
    }
    impl Visit for Finder<'_> {
        fn visit_expr(&mut self, e: &hcl_edit::expr::Expression) {
            if self.found {
                return;
            }
            if let hcl_edit::expr::Expression::Variable(v) = e
                && v.as_str() == self.root
            {
                self.found = true;
                return;
            }
            visit_expr(self, e);
        }
    }
    let mut f = Finder { root, found: false };
    f.visit_body(body);
    f.found
}

/// The span of a block's header: its type and labels.
fn header_span(block: &Block) -> std::ops::Range<usize> {
    let start = block
        .ident
        .span()
        .map(|s| s.start)
        .or_else(|| block.span().map(|s| s.start))
        .unwrap_or(0);
    let end = block
        .labels
        .last()
        .and_then(|l| l.span())
        .map(|s| s.end)
        .unwrap_or(start);
    start..end.max(start)
}

fn body_value(inst: &Instance<'_>, body: &Body, ctx: &Ctx<'_>) -> BTreeMap<String, Value> {
    let mut map = BTreeMap::new();
    for attr in body.attributes() {
        let key = attr.key.as_str();
        if META.contains(&key) {
            continue;
        }
        map.insert(key.to_string(), inst.eval(&attr.value, ctx));
    }
    let mut nested: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for block in body.blocks() {
        let ident = block.ident.as_str();
        if META.contains(&ident) || ident == "dynamic" {
            continue;
        }
        nested
            .entry(ident.to_string())
            .or_default()
            .push(Value::Map(body_value(inst, &block.body, ctx)));
    }
    for (k, mut blocks) in nested {
        let v = if blocks.len() == 1 {
            blocks.pop().unwrap_or(Value::Null)
        } else {
            Value::List(blocks)
        };
        map.insert(k, v);
    }
    map
}

/// A block's attributes with its override-file blocks merged in (an
/// override's attribute replaces the original's, a nested block type all
/// of that type), each attribute's origin in the file that won.
fn merged_attributes(
    inst: &Instance<'_>,
    block: Located<'_, Block>,
    overrides: &[Located<'_, Block>],
    frame: &Frame,
    origins: &mut Vec<(Vec<String>, Origin)>,
) -> BTreeMap<String, Value> {
    let mut attributes = BTreeMap::new();
    for part in std::iter::once(&block).chain(overrides) {
        let pctx = Ctx {
            file: part.file,
            frame,
            depth: inst.depth,
        };
        attributes.extend(body_value(inst, &part.item.body, &pctx));
        for attr in part.item.body.attributes() {
            if let Some(s) = attr.span() {
                origins.push((
                    vec!["attributes".into(), attr.key.as_str().to_string()],
                    Origin::new(part.file, s),
                ));
            }
        }
    }
    attributes
}

/// The record of one instance of a resource; `loaded` is the resource's
/// block with its body ([`ResourceDef::load`]).
fn resource_record(
    inst: &Instance<'_>,
    res: &ResourceDef<'_>,
    loaded: Located<'_, Block>,
    frame: &Frame,
    suffix: &str,
    existence: Option<Arc<Unknown>>,
) -> ScannedRecord {
    let file = loaded.file;
    let block = loaded.item;
    let body = &block.body;
    let ctx = Ctx {
        file,
        frame,
        depth: inst.depth,
    };
    let local = match res.kind {
        BlockKind::Resource => format!("{}.{}", res.ty, res.name),
        BlockKind::Data => format!("data.{}.{}", res.ty, res.name),
    };
    let address = if inst.prefix.is_empty() {
        format!("{local}{suffix}")
    } else {
        format!("{}.{local}{suffix}", inst.prefix)
    };
    let mut origins: Vec<(Vec<String>, Origin)> = Vec::new();
    let header = Origin::new(file, header_span(block));
    let label = |i: usize| {
        block
            .labels
            .get(i)
            .and_then(|l| l.span())
            .map(|s| Origin::new(file, s))
            .unwrap_or_else(|| header.clone())
    };

    let attr_of = |key: &str| attr_with_overrides(loaded, &res.overrides, key);
    let provider_ref = attr_of("provider").and_then(|a| reference_text(&a.item.value));
    let provider_name = res.ty.split('_').next().unwrap_or("").to_string();
    let provider_key = provider_ref
        .clone()
        .unwrap_or_else(|| provider_name.clone());
    let provider_base = provider_key.split('.').next().unwrap_or("").to_string();
    let provider_cfg = inst.providers.get(&provider_key).cloned();
    if let Some(a) = attr_of("provider")
        && let Some(s) = a.item.value.span()
    {
        origins.push((vec!["provider".into()], Origin::new(a.file, s)));
    }

    let attributes = merged_attributes(inst, loaded, &res.overrides, frame, &mut origins);
    let _ = &ctx;

    let mut fields = BTreeMap::new();
    fields.insert(
        "kind".to_string(),
        Value::str(if res.kind == BlockKind::Data {
            "data"
        } else {
            "resource"
        }),
    );
    fields.insert("type".to_string(), Value::str(&res.ty));
    fields.insert("name".to_string(), Value::str(&res.name));
    fields.insert("address".to_string(), Value::str(&address));
    fields.insert("provider".to_string(), Value::str(&provider_key));
    if !inst.prefix.is_empty() {
        fields.insert("module".to_string(), Value::str(&inst.prefix));
    }
    origins.push((vec!["type".into()], label(0)));
    origins.push((vec!["name".into()], label(1)));
    origins.push((vec!["address".into()], header.clone()));
    origins.push((vec!["kind".into()], header.clone()));

    let cloud = cloud_of_provider(&provider_base);
    if let Some(c) = cloud {
        fields.insert("cloud".to_string(), Value::str(c));
        origins.push((vec!["cloud".into()], label(0)));
    }

    // Region: the resource's own attribute, else its provider's.
    let region_attr: &[&str] = match cloud {
        Some("azure") => &["location"],
        Some("gcp") => &["region", "location", "zone"],
        _ => &["region", "location"],
    };
    // `null` for an optional argument means "not set": the provider's
    // region applies (AWS provider v6 `region = var.region` with a null
    // default, Google's `region`).
    let own_region = region_attr.iter().find_map(|k| {
        attributes
            .get(*k)
            .filter(|v| !matches!(v, Value::Null))
            .map(|v| (*k, v.clone()))
    });
    let region = match own_region {
        Some((k, v)) => {
            if let Some(a) = attr_of(k)
                && let Some(s) = a.item.value.span()
            {
                origins.push((vec!["region".into()], Origin::new(a.file, s)));
            }
            Some(normalize_region(cloud, k, v))
        }
        None => match provider_cfg
            .as_ref()
            .and_then(|p| p.region.clone())
            .filter(|(v, _)| !matches!(v, Value::Null))
        {
            Some((v, o)) => {
                if let Some(o) = o {
                    origins.push((vec!["region".into()], o));
                }
                Some(normalize_region(cloud, "region", v))
            }
            // Every AWS resource lives in a region; when the configuration
            // does not say which, it comes from the environment at plan time
            // (AWS_REGION, a profile): unknown, not absent.
            None if cloud == Some("aws") => Some(Value::unknown(
                match &provider_cfg {
                    Some(p) => format!(
                        "provider `{}` sets no `region`: it comes from the environment at plan time",
                        p.address
                    ),
                    None => format!(
                        "no `provider \"{provider_base}\"` block configures `{provider_key}`: its region comes from the environment at plan time"
                    ),
                },
                Some(label(0)),
            )),
            // An aliased provider that this module does not receive.
            None if provider_ref.is_some() && provider_cfg.is_none() => Some(Value::unknown(
                format!(
                    "provider `{provider_key}` is not configured in this module (pass it with `providers = {{ … }}`)"
                ),
                body.get_attribute("provider")
                    .and_then(|a| a.value.span())
                    .map(|s| Origin::new(file, s)),
            )),
            None => None,
        },
    };
    if let Some(r) = region {
        fields.insert("region".to_string(), r);
    }

    // Tags: provider default_tags, overridden by the resource's tags/labels.
    let mut tags: Option<Value> = None;
    if cloud == Some("aws")
        && let Some(p) = &provider_cfg
        && let Some(dt) = &p.default_tags
    {
        tags = Some(dt.value.clone());
        if let Some(o) = &dt.origin {
            origins.push((vec!["tags".into()], o.clone()));
        }
        for (k, ko) in &dt.keys {
            origins.push((vec!["tags".into(), k.clone()], ko.clone()));
        }
    }
    let tag_attrs: &[&str] = if cloud == Some("gcp") {
        &["labels", "resource_labels", "user_labels"]
    } else {
        &["tags", "labels"]
    };
    if let Some(located) = tag_attrs.iter().find_map(|k| attr_of(k)) {
        let (attr, attr_file) = (located.item, located.file);
        let own = attributes
            .get(attr.key.as_str())
            .cloned()
            .unwrap_or(Value::Null);
        tags = match (tags, own) {
            (Some(Value::Map(mut base)), Value::Map(over)) => {
                base.extend(over);
                Some(Value::Map(base))
            }
            // `tags = null` keeps the provider's default tags.
            (base, Value::Null) => base,
            // Unknown default tags stay unknown whatever the resource adds.
            (Some(u @ Value::Unknown(_)), _) => Some(u),
            (_, own) => Some(own),
        };
        if let Some(s) = attr.value.span() {
            origins.push((vec!["tags".into()], Origin::new(attr_file, s)));
        }
        for (k, ko) in object_key_origins(&attr.value, attr_file) {
            origins.push((vec!["tags".into(), k], ko));
        }
    }
    if let Some(t) = tags {
        fields.insert("tags".to_string(), t);
    }
    fields.insert("attributes".to_string(), Value::Map(attributes));

    ScannedRecord {
        fields,
        origins,
        origin: header,
        address,
        existence,
        instances: 1,
    }
}

fn module_record(
    inst: &Instance<'_>,
    call: &ModuleCall<'_>,
    frame: &Frame,
    suffix: &str,
    existence: Option<Arc<Unknown>>,
) -> ScannedRecord {
    let file = call.block.file;
    let block = call.block.item;
    let ctx = Ctx {
        file,
        frame,
        depth: inst.depth,
    };
    let local = format!("module.{}{suffix}", call.name);
    let address = if inst.prefix.is_empty() {
        local
    } else {
        format!("{}.{local}", inst.prefix)
    };
    let header = Origin::new(file, header_span(block));
    let mut fields = BTreeMap::new();
    fields.insert("kind".to_string(), Value::str("module"));
    fields.insert("name".to_string(), Value::str(&call.name));
    fields.insert("address".to_string(), Value::str(&address));
    if !inst.prefix.is_empty() {
        fields.insert("module".to_string(), Value::str(&inst.prefix));
    }
    let mut origins = vec![(vec!["address".into()], header.clone())];
    let _ = &ctx;
    let mut attributes = merged_attributes(inst, call.block, &call.overrides, frame, &mut origins);
    attributes.remove("providers");
    if call.dir.is_none() {
        // Not scanned: the call is judged from its arguments. Its tags are
        // what it is given; where its resources run is unknown.
        let why = format!(
            "module `{}` (source `{}`) is not scanned: where its resources run depends on what is inside (run `terraform init` so proviso can follow it)",
            call.name,
            call.source.clone().unwrap_or_default()
        );
        let at = Some(header.clone());
        for key in ["tags", "labels"] {
            if let Some(t) = attributes.get(key) {
                fields.insert("tags".to_string(), t.clone());
                if let Some(a) = attr_with_overrides(call.block, &call.overrides, key)
                    && let Some(s) = a.item.value.span()
                {
                    origins.push((vec!["tags".into()], Origin::new(a.file, s)));
                    for (k, ko) in object_key_origins(&a.item.value, a.file) {
                        origins.push((vec!["tags".into(), k], ko));
                    }
                }
                break;
            }
        }
        fields.insert("cloud".to_string(), Value::unknown(why.clone(), at.clone()));
        fields.insert("region".to_string(), Value::unknown(why, at));
    }
    fields.insert("attributes".to_string(), Value::Map(attributes));
    ScannedRecord {
        fields,
        origins,
        origin: header,
        address,
        existence,
        instances: 1,
    }
}

/// Azure accepts display names (`East US 2`) for locations; Google zones
/// (`us-central1-a`) name their region.
fn normalize_region(cloud: Option<&str>, attr: &str, v: Value) -> Value {
    match (cloud, &v) {
        (Some("azure"), Value::Str(s)) => Value::str(&s.to_lowercase().replace(' ', "")),
        (Some("gcp"), Value::Str(s)) if attr == "zone" => match s.rsplit_once('-') {
            Some((region, z)) if z.len() == 1 => Value::str(region),
            _ => v,
        },
        _ => v,
    }
}
