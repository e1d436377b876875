//! `proviso fmt`: rewrite rule files in the canonical layout.

use super::{EXIT_FINDINGS, EXIT_OK, EXIT_TROUBLE, FmtArgs, Style, eprint_diags};
use crate::rules::{self, format::format};
use crate::source::{SourceFile, display_path};

pub fn run(args: FmtArgs, err_style: &Style) -> i32 {
    let files = match rules::find_rule_files(&args.rules) {
        Ok(f) => f,
        Err(d) => {
            eprint_diags(&[d], err_style);
            return EXIT_TROUBLE;
        }
    };
    let mut trouble = false;
    let mut unformatted = Vec::new();
    let mut out = String::new();
    for path in files {
        let text = match crate::diag::read_text(&path) {
            Ok(t) => t,
            Err(d) => {
                eprint_diags(&[d], err_style);
                trouble = true;
                continue;
            }
        };
        let source = SourceFile::new(display_path(&path), text);
        let formatted = match format(&source) {
            Ok(f) => f,
            Err(d) => {
                // A file that does not parse is left as it is.
                eprint_diags(&[d], err_style);
                trouble = true;
                continue;
            }
        };
        if formatted == *source.text {
            continue;
        }
        if args.check {
            out.push_str(&format!(
                "{}: not formatted (run `proviso fmt {}`)\n",
                source.name, source.name
            ));
            unformatted.push(source.name.clone());
        } else if let Err(e) = std::fs::write(&path, formatted) {
            eprint_diags(&[super::files::unwritable(&source.name, &e)], err_style);
            trouble = true;
        } else {
            out.push_str(&format!("formatted {}\n", source.name));
        }
    }
    // `println!` would panic on a full or closed standard output.
    if let Err(d) = super::write_output(None, &out) {
        eprint_diags(&[d], err_style);
        trouble = true;
    }
    if trouble {
        EXIT_TROUBLE
    } else if !unformatted.is_empty() {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    }
}
