#![no_main]
//! Fuzzes the nginx parser: any input gives records or line errors, never a panic.

use proviso::scan::logs::{LineParser, Slot};
use proviso::value::FieldPath;

fn slots() -> Vec<FieldPath> {
    ["timestamp", "host", "path", "method", "status", "client_ip", "target_ip", "bytes_in", "bytes_out", "cloud", "region"]
        .iter()
        .map(|s| FieldPath(vec![s.to_string()]))
        .chain(std::iter::once(FieldPath(vec!["properties".into(), "pop".into()])))
        .collect()
}

fn run(parser: &dyn LineParser, data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    for line in text.lines() {
        let mut out: Vec<Option<Slot<'_>>> = vec![None; slots().len()];
        let _ = parser.parse(line, &mut out);
    }
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    run(&proviso::scan::logs::nginx::NginxParser::new(&slots(), &[]), data);
});
