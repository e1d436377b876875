#![no_main]
//! Fuzzes timestamp parsing and detection: never a panic, and a parsed
//! timestamp always formats.

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = proviso::scan::logs::detect(data);
    if let Ok(text) = std::str::from_utf8(data)
        && let Some(ms) = proviso::scan::logs::parse_timestamp(text)
    {
        let _ = proviso::scan::logs::format_timestamp(ms);
    }
});
