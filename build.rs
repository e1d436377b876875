//! Build script: the commit proviso was built from, for the dated records
//! `proviso explain` writes (and `--evidence` bundles).
//!
//! `PROVISO_BUILD_COMMIT` set in the environment wins (a packager building
//! from a tarball sets it); otherwise `git rev-parse HEAD` when the source
//! is a git checkout; otherwise "unknown".

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?;
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_string())
}

fn main() {
    println!("cargo:rerun-if-env-changed=PROVISO_BUILD_COMMIT");
    println!("cargo:rerun-if-changed=build.rs");
    let commit = match std::env::var("PROVISO_BUILD_COMMIT") {
        Ok(c) if !c.trim().is_empty() => c.trim().to_string(),
        _ => {
            // Rebuild when HEAD moves: HEAD itself, and the branch it names.
            // Only files that exist: a missing one (a packed branch ref)
            // would make cargo run this script on every build.
            let watch = |path: Option<String>| {
                if let Some(p) = path.filter(|p| std::path::Path::new(p).exists()) {
                    println!("cargo:rerun-if-changed={p}");
                }
            };
            watch(git(&["rev-parse", "--git-path", "HEAD"]));
            watch(git(&["rev-parse", "--git-path", "packed-refs"]));
            if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
                watch(git(&["rev-parse", "--git-path", &branch]));
            }
            git(&["rev-parse", "HEAD"])
                .filter(|c| c.len() == 40 && c.chars().all(|x| x.is_ascii_hexdigit()))
                .unwrap_or_else(|| "unknown".to_string())
        }
    };
    println!("cargo:rustc-env=PROVISO_BUILD_COMMIT={commit}");
}
