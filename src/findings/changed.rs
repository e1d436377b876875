//! Diff-only mode: which lines changed since a git ref.
//!
//! `--changed-since REF` still evaluates whole modules (a variable changed
//! in one file moves findings in another), then keeps only what the change
//! touched. The design choice: git is asked, not reimplemented — `git diff
//! --unified=0 REF` in the repository that holds each path gives the changed
//! line ranges of the working tree against REF (committed, staged and
//! unstaged changes alike), and untracked files count as changed whole.

use crate::diag::{Code, Diag};
use crate::findings::{Finding, FindingOutcome};
use crate::source::{Origin, display_path};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Changed lines per file (display path), as inclusive 1-based ranges;
/// an empty list means the whole file is new.
#[derive(Debug, Default)]
pub struct Changed {
    pub git_ref: String,
    pub files: BTreeMap<String, Vec<(usize, usize)>>,
}

impl Changed {
    /// Asks git what changed since `git_ref` in the repositories that hold `paths`.
    pub fn since(git_ref: &str, paths: &[PathBuf]) -> Result<Changed, Diag> {
        let mut out = Changed {
            git_ref: git_ref.to_string(),
            files: BTreeMap::new(),
        };
        // A "ref" that git would read as an option (`--output=FILE` makes
        // `git diff` write a file) is refused before git sees it.
        if git_ref.starts_with('-') || git_ref.trim().is_empty() {
            return Err(
                Diag::error(Code::GitBadRef, format!("`{git_ref}` is not a git ref"))
                    .with_help("name a branch, tag or commit, e.g. `--changed-since origin/main`"),
            );
        }
        let mut tops = BTreeSet::new();
        for p in paths {
            let dir = if p.is_dir() {
                p.clone()
            } else {
                p.parent()
                    .filter(|d| !d.as_os_str().is_empty())
                    .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
            };
            let top = git(&dir, &["rev-parse", "--show-toplevel"]).map_err(|why| {
                Diag::error(
                    Code::GitNotARepository,
                    format!("`{}` is not inside a git repository: {why}", p.display()),
                )
                .with_help("`--changed-since` needs the paths to be in a git work tree")
            })?;
            tops.insert(PathBuf::from(top.trim()));
        }
        for top in tops {
            // `REF^{commit}` fails cleanly for a ref that names nothing.
            git(&top, &["rev-parse", "--verify", "--quiet", &format!("{git_ref}^{{commit}}")])
                .map_err(|_| {
                    // The repository by its absolute path: relative to the
                    // working directory, the repository one is in would be
                    // an empty name.
                    Diag::error(
                        Code::GitBadRef,
                        format!(
                            "`{git_ref}` is not a commit in the git repository at `{}`",
                            top.display()
                        ),
                    )
                    .with_help("name a branch, tag or commit, e.g. `--changed-since origin/main` (in CI, fetch it first)")
                })?;
            let diff = git(
                &top,
                &[
                    "-c",
                    "core.quotePath=false",
                    "diff",
                    "--no-color",
                    "--no-ext-diff",
                    "--unified=0",
                    git_ref,
                    "--",
                ],
            )
            .map_err(|why| {
                Diag::error(
                    Code::GitDiffFailed,
                    format!("`git diff {git_ref}` failed: {why}"),
                )
            })?;
            for (file, ranges) in parse_diff(&diff) {
                out.files
                    .entry(display_path(&top.join(file)))
                    .or_default()
                    .extend(ranges);
            }
            let untracked = git(&top, &["ls-files", "--others", "--exclude-standard", "-z"])
                .unwrap_or_default();
            for file in untracked.split('\0').filter(|f| !f.is_empty()) {
                out.files.insert(display_path(&top.join(file)), Vec::new());
            }
        }
        Ok(out)
    }

    pub fn file_changed(&self, name: &str) -> bool {
        self.files.contains_key(name)
    }

    /// Whether a location overlaps a changed line.
    pub fn touches(&self, o: &Origin) -> bool {
        let Some(ranges) = self.files.get(&o.file.name) else {
            return false;
        };
        if ranges.is_empty() {
            return true;
        }
        let (first, _) = o.line_col();
        let (last, _) = o.end_line_col();
        ranges.iter().any(|&(a, b)| a <= last && first <= b)
    }

    /// Whether a finding belongs to the change: a violation whose offending
    /// span, record header or classifying labels overlap changed lines; an
    /// unresolved finding anywhere in a changed file (its cause may be a
    /// line away from where it shows).
    pub fn keeps(&self, f: &Finding) -> bool {
        let spans = std::iter::once(&f.primary)
            .chain(std::iter::once(&f.record_origin))
            .chain(f.secondary.iter().map(|(o, _)| o));
        match f.outcome {
            FindingOutcome::Violation => spans.into_iter().any(|o| self.touches(o)),
            FindingOutcome::Unresolved => {
                spans.into_iter().any(|o| self.file_changed(&o.file.name))
            }
        }
    }

    /// Whether a diagnostic (an unreadable input, a waiver problem) concerns
    /// a changed file; one about no file (a missing path) always does.
    pub fn keeps_diag(&self, d: &Diag) -> bool {
        match &d.file {
            Some(f) => self.file_changed(&f.name),
            None => true,
        }
    }
}

fn git(dir: &Path, args: &[&str]) -> Result<String, String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
    }
}

/// Changed line ranges per file (paths relative to the repository top) from
/// `git diff --unified=0`. A pure deletion touches the lines on either side.
pub fn parse_diff(diff: &str) -> BTreeMap<String, Vec<(usize, usize)>> {
    let mut out: BTreeMap<String, Vec<(usize, usize)>> = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in diff.lines() {
        if let Some(path) = line.strip_prefix("+++ ") {
            current = match path {
                "/dev/null" => None,
                p => {
                    let p = p.trim_matches('"');
                    Some(p.strip_prefix("b/").unwrap_or(p).to_string())
                }
            };
            continue;
        }
        let (Some(file), Some(hunk)) = (&current, line.strip_prefix("@@ ")) else {
            continue;
        };
        // `@@ -a[,b] +c[,d] @@`
        let Some(new) = hunk.split_whitespace().find(|w| w.starts_with('+')) else {
            continue;
        };
        let mut parts = new.trim_start_matches('+').splitn(2, ',');
        let start: usize = parts.next().and_then(|s| s.parse().ok()).unwrap_or(0);
        let count: usize = parts.next().and_then(|s| s.parse().ok()).unwrap_or(1);
        let range = if count == 0 {
            (start.max(1), start + 1)
        } else {
            (start, start + count - 1)
        };
        out.entry(file.clone()).or_default().push(range);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hunks_give_changed_line_ranges() {
        let diff = "diff --git a/m.tf b/m.tf\n--- a/m.tf\n+++ b/m.tf\n@@ -3 +3 @@ x\n-a\n+b\n@@ -10,0 +11,2 @@\n+c\n+d\n@@ -20,2 +21,0 @@\n-e\n-f\n";
        let got = parse_diff(diff);
        assert_eq!(got.get("m.tf"), Some(&vec![(3, 3), (11, 12), (21, 22)]));
    }
}
