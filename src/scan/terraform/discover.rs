//! The paths given to `proviso check` to module directories: which
//! directories hold Terraform files, which files of them were asked for,
//! where `terraform init` put the modules it downloaded, and which
//! directories a file calls or names.
//!
//! Every directory with a `.tf` or `.tf.json` file is a module; hidden
//! directories and `--exclude` globs are skipped while walking. A file
//! named on its own makes its whole directory a module (Terraform reads
//! a module whole), and only that file's records are kept. Downloaded
//! modules are followed as local ones are, from
//! `.terraform/modules/modules.json`.

use super::module::local_module_dir;
use crate::diag::{Code, Diag};
use crate::scan::{Exclude, ScanOutput};
use crate::source::display_path;
use hcl_edit::structure::Body;
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

/// What the paths given to a scan are.
pub struct Given {
    /// Every directory with Terraform files: the modules of the scan.
    pub dirs: BTreeSet<PathBuf>,
    /// Directories of which only some files were named, with those files;
    /// a directory also given whole is not here.
    pub only_files: HashMap<PathBuf, BTreeSet<PathBuf>>,
}

/// Walks the given paths (directories and files) to the module directories
/// in them; paths that do not exist or cannot be read are reported to
/// `out`.
pub fn discover(paths: &[PathBuf], exclude: &[Exclude], out: &mut ScanOutput) -> Given {
    let mut dirs: BTreeSet<PathBuf> = BTreeSet::new();
    let mut only_files: HashMap<PathBuf, BTreeSet<PathBuf>> = HashMap::new();
    for p in paths {
        let Ok(abs) = std::fs::canonicalize(p) else {
            out.malformed.push(
                Diag::error(
                    Code::InputNotFound,
                    format!("`{}` does not exist", p.display()),
                )
                .with_help(
                    "pass directories or files of infrastructure as code to `proviso check`",
                ),
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
                        || exclude.iter().any(|x| x.matches(e.path())))
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
    // A directory given as a whole is scanned whole even if a file in it was also named.
    for d in &dirs {
        if paths
            .iter()
            .any(|p| std::fs::canonicalize(p).ok().as_ref() == Some(d))
        {
            only_files.remove(d);
        }
    }
    Given { dirs, only_files }
}

/// Module calls that `terraform init` downloaded: `(calling directory, call
/// name)` to the directory it put the module in, from
/// `.terraform/modules/modules.json`.
pub type RemoteDirs = HashMap<(PathBuf, String), PathBuf>;

/// The modules `terraform init` downloaded for any of `dirs`; a
/// `modules.json` that cannot be read is reported to `out`.
pub fn downloaded_modules(dirs: &BTreeSet<PathBuf>, out: &mut ScanOutput) -> RemoteDirs {
    let mut remote = RemoteDirs::new();
    for d in dirs {
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
    remote
}

/// Reads `.terraform/modules/modules.json` of a root module into `out`.
/// Its keys are call paths from the root (`vpc`, `vpc.subnets`) and its
/// `Dir`s are relative to the root; a call's caller is the entry whose key
/// is the call's key without its last part.
fn read_modules_json(root: &Path, out: &mut RemoteDirs) -> Result<(), String> {
    let path = root.join(".terraform").join("modules").join("modules.json");
    if !path.is_file() {
        return Ok(());
    }
    let text = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
    let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    let Some(entries) = json.get("Modules").and_then(|m| m.as_array()) else {
        return Err("no `Modules` array".into());
    };
    let mut dirs: HashMap<String, PathBuf> = HashMap::new();
    for e in entries {
        let (Some(key), Some(dir)) = (
            e.get("Key").and_then(|k| k.as_str()),
            e.get("Dir").and_then(|d| d.as_str()),
        ) else {
            continue;
        };
        if let Ok(d) = std::fs::canonicalize(root.join(dir)) {
            dirs.insert(key.to_string(), d);
        }
    }
    for (key, dir) in &dirs {
        if key.is_empty() {
            continue;
        }
        let (caller_key, name) = match key.rsplit_once('.') {
            Some((c, n)) => (c, n),
            None => ("", key.as_str()),
        };
        let caller = if caller_key.is_empty() {
            std::fs::canonicalize(root).ok()
        } else {
            dirs.get(caller_key).cloned()
        };
        if let Some(caller) = caller {
            out.insert((caller, name.to_string()), dir.clone());
        }
    }
    Ok(())
}

/// The local module directories a parsed file calls.
pub fn module_dirs(dir: &Path, body: &Body, remote: &RemoteDirs) -> Vec<PathBuf> {
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
pub fn named_dirs(dir: &Path, text: &str) -> Vec<PathBuf> {
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
pub fn list_dir(dir: &Path) -> Result<Vec<PathBuf>, Diag> {
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
