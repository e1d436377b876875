//! `proviso audit` on log input that fights back: a file cut short while
//! it is audited (under the default memory map, and read with
//! `--no-mmap`), never a crash, always a warning.

// Test code: a failed unwrap is a failed test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// `lines` JSON lines of house-convention traffic.
fn traffic(lines: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(lines * 200);
    for i in 0..lines {
        writeln!(
            out,
            "{{\"timestamp\":\"2026-03-01T12:00:{:02}.{:03}Z\",\"host\":\"api.openai.com\",\"path\":\"/v1/chat/completions\",\"method\":\"POST\",\"status\":200,\"cloud\":\"aws\",\"region\":\"us-east-1\",\"pad\":\"{}\"}}",
            i % 60,
            i % 1000,
            "x".repeat(60)
        )
        .unwrap();
    }
    out
}

/// Whether process `pid` has `path` open or mapped (for the read, the
/// mapped windows).
fn has_open(pid: u32, path: &std::path::Path, mapped: bool) -> bool {
    if mapped {
        return std::fs::read_to_string(format!("/proc/{pid}/maps"))
            .is_ok_and(|m| m.contains(path.to_str().unwrap()));
    }
    std::fs::read_dir(format!("/proc/{pid}/fd")).is_ok_and(|fds| {
        fds.flatten()
            .any(|fd| std::fs::read_link(fd.path()).is_ok_and(|l| l == path))
    })
}

/// Audits a 60 MB file with one worker and cuts it to 1 MB as soon as the
/// audit has it open (mapped, by default), while most of it is still to
/// be read; returns the exit code, stdout and stderr.
fn audit_while_truncating(extra: &[&str]) -> (Option<i32>, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("traffic.jsonl");
    let data = traffic(300_000);
    std::fs::write(&path, &data).unwrap();
    let mapped = !extra.contains(&"--no-mmap");
    let mut args = vec![
        "audit",
        "--rules",
        "rules",
        "--threads",
        "1",
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    let child = Command::new(env!("CARGO_BIN_EXE_proviso"))
        .args(&args)
        .arg(&path)
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while !has_open(child.id(), &path, mapped) {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the audit never opened the file"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(1 << 20)
        .unwrap();
    let out = child.wait_with_output().unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(out.status.signal(), None, "killed by a signal: {out:?}");
    (
        out.status.code(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn check(extra: &[&str]) {
    let (code, stdout, stderr) = audit_while_truncating(extra);
    let doc: serde_json::Value =
        serde_json::from_str(&stdout).unwrap_or_else(|_| panic!("{code:?}\n{stdout}\n{stderr}"));
    let s = &doc["summary"];
    assert_eq!(s["warnings"], 1, "{s}");
    let w = &doc["warnings"][0];
    assert_eq!(w["code"], "proviso::input::truncated", "{w}");
    assert!(
        w["message"]
            .as_str()
            .unwrap()
            .contains("was cut short while it was audited"),
        "{w}"
    );
    // Fewer records than the file had, and the accounting still holds.
    let n = |k: &str| s[k].as_u64().unwrap();
    assert!(n("records") < 300_000, "{s}");
    assert_eq!(
        n("records"),
        n("judged") + n("not_applicable") + n("outside_terms") + n("not_requests") + n("malformed"),
        "{s}"
    );
}

/// Under the default memory map a file cut short while it is audited
/// used to kill the process with SIGBUS: now the audit ends normally and
/// says the file was cut short.
#[test]
fn a_file_truncated_while_mapped_is_no_crash_and_a_warning() {
    check(&[]);
}

/// Read with `--no-mmap`, a file cut short used to give a normal-looking
/// result of the records before the cut: now it is a warning.
#[test]
fn a_file_truncated_while_read_is_a_warning() {
    check(&["--no-mmap"]);
}
