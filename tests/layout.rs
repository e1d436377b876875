//! The README's "How the code is laid out" section matches the tree: every
//! file under `src/` is named there (by its path, or by its name on the line
//! of its directory), and every `src/` path it names exists.

use std::path::{Path, PathBuf};

fn section() -> String {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .unwrap_or_default();
    let start = readme
        .find("## How the code is laid out")
        .unwrap_or(readme.len());
    let rest = readme.get(start..).unwrap_or("");
    let end = rest
        .get(3..)
        .and_then(|r| r.find("\n## "))
        .map_or(rest.len(), |e| e + 3);
    rest.get(..end).unwrap_or("").to_string()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The listing's lines grouped by entry: a line starting with a path and
/// the continuation lines under it.
fn entries(section: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in section.lines() {
        if line.starts_with("src/") {
            let path = line.split_whitespace().next().unwrap_or("").to_string();
            out.push((path, line.to_string()));
        } else if line.starts_with("                         ")
            && let Some(last) = out.last_mut()
        {
            last.1.push('\n');
            last.1.push_str(line);
        }
    }
    out
}

#[test]
fn every_source_file_is_in_the_readme_layout() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = section();
    assert!(
        text.contains("```"),
        "the README has a \"How the code is laid out\" section"
    );
    let entries = entries(&text);
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    assert!(files.len() > 50, "found {} files under src/", files.len());
    let mut missing = Vec::new();
    for f in &files {
        let rel = f
            .strip_prefix(root)
            .unwrap_or(f)
            .to_string_lossy()
            .replace('\\', "/");
        let dir = rel.rsplit_once('/').map_or("", |(d, _)| d).to_string() + "/";
        let name = rel.rsplit('/').next().unwrap_or("");
        let named = entries.iter().any(|(path, block)| {
            path == &rel
                || (path == &dir
                    && block
                        .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.'))
                        .any(|w| w == name))
        });
        if !named {
            missing.push(rel);
        }
    }
    missing.sort();
    assert!(
        missing.is_empty(),
        "not in the README's layout: {missing:?}"
    );
}

#[test]
fn every_path_the_readme_layout_names_exists() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let gone: Vec<String> = entries(&section())
        .into_iter()
        .map(|(p, _)| p)
        .filter(|p| !root.join(p).exists())
        .collect();
    assert!(
        gone.is_empty(),
        "named in the README's layout but not in the tree: {gone:?}"
    );
}
