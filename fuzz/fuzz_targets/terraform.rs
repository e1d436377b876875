//! The Terraform scanner on arbitrary text: the repairing parser, then a
//! whole scan (evaluation, expansion, records) and the rendering of what
//! it reports. Any panic, stack overflow or hang is a bug; every input
//! must give records or located diagnostics.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = proviso::scan::terraform::recover::parse(text);
    let Ok(dir) = tempfile::tempdir() else {
        return;
    };
    if std::fs::write(dir.path().join("main.tf"), text).is_err() {
        return;
    }
    let out = proviso::scan::terraform::scan(
        &[dir.path().to_path_buf()],
        &proviso::scan::terraform::Options::default(),
    );
    for d in out.malformed.iter().chain(out.notes.iter()) {
        let _ = proviso::diag::render(d, true, 100);
    }
});
