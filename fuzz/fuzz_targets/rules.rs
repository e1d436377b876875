//! The rule-file front end on arbitrary text: parse, lower, check, lint,
//! format, explain, and the examples. Any panic, stack overflow or hang is
//! a bug; every input must give a rule set or diagnostics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use proviso::source::SourceFile;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let file = SourceFile::new("fuzz.proviso", text);
    let _ = proviso::rules::format::format(&file);
    match proviso::rules::build(vec![file]) {
        Ok(rules) => {
            for d in proviso::rules::lint::lint(&rules) {
                let _ = proviso::diag::render(&d, true, 100);
            }
            let _ = proviso::rules::examples::run(&rules);
            let _ = proviso::explain::explain(
                &rules,
                None,
                None,
                proviso::explain::english::Markup::Plain,
            );
        }
        Err(e) => {
            for d in e.errors.iter().chain(e.warnings.iter()) {
                let _ = proviso::diag::render(d, true, 100);
            }
        }
    }
});
