//! One file's text to its parse tree, with what the file says about
//! itself: errors, waiver comments.
//!
//! A `.tf` file is parsed with [`recover::parse`], which reads past what
//! Terraform accepts and hcl-edit does not, and past errors (the blocks
//! that fail are reported, the rest is kept). A `.tf.json` file is
//! translated to native syntax ([`json_config::to_hcl`]) and parsed, its
//! spans mapped back to the JSON. In a directory with more text than
//! [`DETACH_ABOVE`], resource bodies are dropped after parsing and parsed
//! again when evaluated, which halves the memory of a large module.

use super::module::{self, ParsedFile};
use super::{json_config, recover, slim, waivers};
use crate::diag::{Code, Diag};
use crate::scan::ScanOutput;
use crate::source::{Origin, SourceFile, display_path};
use std::path::Path;
use std::sync::Arc;

impl ScanOutput {
    /// Counts a parsed file and keeps what it reported; returns the file if
    /// it parsed.
    pub(super) fn absorb(&mut self, r: FileParse) -> Option<ParsedFile> {
        self.files += 1;
        self.malformed.extend(r.malformed);
        self.waivers.extend(r.waivers);
        self.waiver_errors.extend(r.waiver_errors);
        r.parsed
    }
}

/// One file read and parsed, with what it says about itself.
#[derive(Default)]
pub struct FileParse {
    parsed: Option<ParsedFile>,
    malformed: Vec<Diag>,
    waivers: Vec<waivers::Waiver>,
    waiver_errors: Vec<Diag>,
}

/// A file's text, named by its display path.
pub fn read_source(path: &Path) -> Result<Arc<SourceFile>, Diag> {
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
pub fn parse_source(source: Arc<SourceFile>, detach: bool) -> FileParse {
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
