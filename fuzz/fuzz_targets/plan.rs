//! The plan JSON reader on arbitrary bytes: any panic or hang is a bug;
//! every input must give records or a located diagnostic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(dir) = tempfile::tempdir() else {
        return;
    };
    let path = dir.path().join("plan.json");
    if std::fs::write(&path, data).is_err() {
        return;
    }
    let (out, _records) = proviso::scan::terraform::plan::scan(&path);
    for d in &out.malformed {
        let _ = proviso::diag::render(d, true, 100);
    }
});
