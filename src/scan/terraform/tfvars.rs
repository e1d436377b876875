//! A root module's variable values, from its tfvars files.
//!
//! Terraform's order: `terraform.tfvars` (or `.tfvars.json`), then
//! `*.auto.tfvars[.json]` in name order, then `--var-file`s; later files
//! win. Values are evaluated statically like any expression (a tfvars file
//! may only hold constants, but proviso does not insist); a file that
//! cannot be read or parsed is reported, and the variables it would set
//! stay unknown.

use super::expr::{Ctx, Frame};
use super::module::{Instance, ModuleDef, Modules};
use super::{Options, from_json, recover};
use crate::diag::{Code, Diag};
use crate::scan::ScanOutput;
use crate::source::{SourceFile, display_path};
use crate::value::Value;
use std::collections::HashMap;
use std::path::PathBuf;

/// A root module's variable values: `terraform.tfvars`, then
/// `*.auto.tfvars` in name order, then `--var-file`s; later files win.
pub fn root_inputs(
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
