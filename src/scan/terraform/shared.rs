//! Which directories are parsed once and shared by every root module, and
//! which are streamed.
//!
//! The design choice is memory: a directory that no text names as a local
//! path (`"./x"`, `"../x"`) cannot be a called module, so it is a root
//! that is parsed, evaluated, judged and dropped on its own ("streamed"),
//! and memory holds the parsed files of one root per thread, not of the
//! whole repository. The named directories (a superset of the called
//! modules, found without parsing) and the modules `terraform init`
//! downloaded are parsed up front, with whatever they call, and kept for
//! every root to share. Shared modules that nobody calls are roots too.

use super::discover::{RemoteDirs, list_dir, module_dirs, named_dirs};
use super::module::{ModuleDef, Modules, ParsedFile};
use super::parse::{FileParse, parse_source, read_source};
use crate::diag::Diag;
use crate::scan::ScanOutput;
use crate::source::SourceFile;
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The texts of a scan's files by directory, before parsing.
pub type Texts = BTreeMap<PathBuf, Vec<Arc<SourceFile>>>;

/// Reads every file of `dirs` (in parallel); returns the texts by
/// directory (every directory of `dirs` has an entry) and the directories
/// to share: those any text names as a local path, and the downloaded
/// modules. Files that cannot be read are counted and reported to `out`.
pub fn read_texts(
    dirs: &BTreeSet<PathBuf>,
    remote: &RemoteDirs,
    out: &mut ScanOutput,
) -> (Texts, BTreeSet<PathBuf>) {
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
    let mut texts: Texts = dirs.iter().map(|d| (d.clone(), Vec::new())).collect();
    for (dir, file, _) in read {
        match file {
            Ok(f) => texts.entry(dir).or_default().push(f),
            Err(d) => {
                out.files += 1;
                out.malformed.push(d);
            }
        }
    }
    (texts, named)
}

/// Parses the shared modules: the `named` directories, and whatever they
/// call, one wave of directories at a time, the files of a wave in
/// parallel. A directory's texts are taken out of `texts` (what is left
/// there are the streamed roots); a called directory outside the scan is
/// read here. In a directory with more text than `detach_above`, resource
/// bodies are detached ([`super::parse::DETACH_ABOVE`]).
pub fn parse_shared(
    named: BTreeSet<PathBuf>,
    texts: &mut Texts,
    remote: &RemoteDirs,
    detach_above: usize,
    out: &mut ScanOutput,
) -> BTreeMap<PathBuf, Vec<ParsedFile>> {
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
            for child in module_dirs(&dir, &f.body, remote) {
                if !kept.contains_key(&child) {
                    next.insert(child);
                }
            }
            // Every directory of this wave has an entry (inserted above).
            kept.entry(dir).or_default().push(f);
        }
        wave = next;
    }
    kept
}

/// The shared module definitions, by directory, that every root looks
/// modules up in.
pub fn shared_modules<'a>(
    kept: &'a BTreeMap<PathBuf, Vec<ParsedFile>>,
    remote: &RemoteDirs,
    root_dir_display: &str,
) -> Modules<'a> {
    Modules {
        by_dir: kept
            .iter()
            .map(|(d, files)| (d.clone(), ModuleDef::new(d.clone(), files, remote)))
            .collect(),
        shared: None,
        root_dir_display: root_dir_display.to_string(),
    }
}

/// The shared modules of the scan (directories in `dirs`) that are roots:
/// those nobody calls, in order. `streamed_calls` are the directories the
/// streamed roots call. A directory that calls itself does not count as
/// called; directories only reachable through a cycle of calls are roots
/// too (after the others), so that nothing given is silently left out
/// (the cycle is then reported).
pub fn uncalled_roots<'s>(
    shared: &'s Modules<'_>,
    dirs: &BTreeSet<PathBuf>,
    streamed_calls: Vec<PathBuf>,
) -> Vec<&'s PathBuf> {
    let mut called: BTreeSet<PathBuf> = streamed_calls.iter().cloned().collect();
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
    let mut frontier = streamed_calls;
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
    let mut reached: BTreeSet<PathBuf> = BTreeSet::new();
    reach(frontier, &mut reached);
    let mut cyclic: Vec<&PathBuf> = Vec::new();
    // In path order, so that which directory of a cycle becomes its root
    // (and so every address under it) is the same on every run.
    let mut unreached: Vec<&PathBuf> = shared.by_dir.keys().filter(|d| dirs.contains(*d)).collect();
    unreached.sort();
    for d in unreached {
        if !reached.contains(d) {
            cyclic.push(d);
            reach(vec![d.clone()], &mut reached);
        }
    }
    cyclic.sort();
    roots.extend(cyclic);
    roots
}
