#![no_main]
//! Fuzzes the JSON document transducer (pretty-printed records,
//! `{"records": […]}` documents): any input is passed through without a
//! panic, its output bounded by its input, and every line of it is read by
//! the JSON-lines parser without a panic.

use proviso::scan::logs::json_stream::RecordLines;
use proviso::scan::logs::{LineParser, Slot};
use proviso::value::FieldPath;
use std::io::Read;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let mut out = Vec::new();
    let _ = RecordLines::new(data).read_to_end(&mut out);
    assert!(out.len() <= 2 * data.len() + 1);
    let slots: Vec<FieldPath> = ["timestamp", "host", "path", "kind"]
        .iter()
        .map(|s| FieldPath(vec![s.to_string()]))
        .collect();
    let parser = proviso::scan::logs::jsonl::JsonParser::new(
        &slots,
        proviso::scan::logs::azure_frontdoor::VOCAB,
        &[],
    );
    for line in String::from_utf8_lossy(&out).lines() {
        let mut slot_values: Vec<Option<Slot<'_>>> = vec![None; slots.len()];
        let _ = parser.parse(line, &mut slot_values);
    }
});
