//! `proviso audit` on log input that fights back: a file cut short while
//! it is audited (under the default memory map, and read with
//! `--no-mmap`), never a crash, always a warning.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed unwrap is a failed test"
)]

mod common;

use common::{Output, proviso};
use std::io::Write;
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
/// be read.
fn audit_while_truncating(extra: &[&str]) -> Output {
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
    let child = proviso(&args).arg(&path).spawn();
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
    let out = child.wait();
    assert_eq!(out.signal, None, "killed by a signal: {out:?}");
    out
}

fn check(extra: &[&str]) {
    // The cut races the audit: on a loaded machine the audit may have read
    // the whole file before the cut lands. Such a run shows nothing (every
    // record read, no warning) and is tried again; a run that read fewer
    // records must always carry the warning.
    let mut doc = serde_json::Value::Null;
    for _ in 0..3 {
        let Output {
            code,
            stdout,
            stderr,
            ..
        } = audit_while_truncating(extra);
        doc = serde_json::from_str(&stdout)
            .unwrap_or_else(|_| panic!("{code:?}\n{stdout}\n{stderr}"));
        let whole =
            doc["summary"]["records"].as_u64() == Some(300_000) && doc["summary"]["warnings"] == 0;
        if !whole {
            break;
        }
    }
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

/// xorshift64*: small, deterministic (failures reproduce).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn transduce(input: &[u8]) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    proviso::scan::logs::json_stream::RecordLines::new(input)
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// A random JSON value of bounded depth, with the characters that
/// matter to the transducer (quotes, escapes, brackets in strings, line
/// breaks only where JSON allows them).
fn value(rng: &mut Rng, depth: usize) -> serde_json::Value {
    use serde_json::json;
    let pieces = [
        "a", "{", "}", "[", "]", "\"", "\\", ",", ":", " ", "é", "records", "\u{feff}",
    ];
    match (depth, rng.below(6)) {
        (0, _) | (_, 0) => json!(rng.next() % 1000),
        (_, 1) => json!(
            (0..rng.below(6))
                .map(|_| pieces[rng.below(pieces.len())])
                .collect::<String>()
        ),
        (_, 2) => json!(null),
        (_, 3) => {
            serde_json::Value::Array((0..rng.below(4)).map(|_| value(rng, depth - 1)).collect())
        }
        _ => serde_json::Value::Object(
            (0..rng.below(4))
                .map(|i| {
                    (
                        format!("k{i}{}", pieces[rng.below(pieces.len())]),
                        value(rng, depth - 1),
                    )
                })
                .collect(),
        ),
    }
}

/// Any mix of records, printed compactly or pretty, one after another or
/// in `{"records": […]}` documents or arrays, with or without a byte-order
/// mark, comes out as the same records, one per line.
#[test]
fn the_json_transducer_gives_back_every_record_of_any_document() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for round in 0..3000 {
        let records: Vec<serde_json::Value> = (0..1 + rng.below(5))
            .map(|_| {
                let mut v = value(&mut rng, 3);
                if !v.is_object() {
                    v = serde_json::json!({ "v": v });
                }
                v
            })
            .collect();
        let print = |v: &serde_json::Value, pretty: bool| {
            if pretty {
                serde_json::to_string_pretty(v).unwrap()
            } else {
                v.to_string()
            }
        };
        let pretty = rng.below(2) == 0;
        let mut doc = String::new();
        if rng.below(3) == 0 {
            doc.push('\u{feff}');
        }
        match rng.below(3) {
            0 => {
                for r in &records {
                    doc.push_str(&print(r, pretty));
                    doc.push_str(["\n", "", " ", "\r\n"][rng.below(4)]);
                }
            }
            1 => doc.push_str(&print(&serde_json::json!({ "records": records }), pretty)),
            _ => doc.push_str(&print(&serde_json::Value::Array(records.clone()), pretty)),
        }
        let out = String::from_utf8(transduce(doc.as_bytes())).unwrap();
        let got: Vec<serde_json::Value> = out
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                serde_json::from_str(l)
                    .unwrap_or_else(|e| panic!("round {round}: {e}: {l:?}\n{doc}"))
            })
            .collect();
        assert_eq!(got, records, "round {round}:\n{doc}\n{out}");
    }
}

/// Random and mutated bytes never make the transducer panic, and its
/// output is never more than the input plus a line break per input byte
/// (so memory stays bounded by the reader's buffers).
#[test]
fn the_json_transducer_survives_random_and_mutated_input() {
    let seeds: Vec<Vec<u8>> = vec![
        std::fs::read("fixtures/logs/vendors/frontdoor-docs.json").unwrap(),
        std::fs::read("fixtures/logs/vendors/appgateway-docs.json").unwrap(),
        b"{\"records\":[{\"a\":1},{\"b\":\"}\"}]}\n{\"records\":[".to_vec(),
    ];
    let mut rng = Rng(0x1234_5678_9ABC_DEF1);
    for round in 0..4000 {
        let mut input = seeds[round % seeds.len()].clone();
        for _ in 0..1 + rng.below(8) {
            let at = rng.below(input.len() + 1);
            match rng.below(4) {
                0 if at < input.len() => {
                    input.remove(at);
                }
                1 => input.insert(at, b"{}[]\"\\\n:,\xef\xbb\xbf\x00\xff"[rng.below(14)]),
                2 => input.truncate(at),
                _ => {
                    let n = rng.below(64);
                    input.splice(at..at, (0..n).map(|_| rng.next() as u8));
                }
            }
        }
        let out = transduce(&input);
        assert!(out.len() <= 2 * input.len() + 1, "round {round}");
    }
}
