//! Baselines: accept today's findings as known, count only new ones.
//!
//! `--write-baseline FILE` stores one fingerprint per finding; `--baseline
//! FILE` hides findings whose fingerprint is stored. The design choice: a
//! fingerprint is a hash of what the finding *is*, never of where it is —
//! clause, outcome, record address and the offending text with whitespace
//! collapsed — so that inserting lines above a resource, reformatting it or
//! moving it to another file keeps its fingerprint, while changing the
//! offending value makes it a new finding. Fingerprints are counted as a
//! multiset: two identical findings need two baseline entries.

use crate::diag::{Code, Diag};
use crate::findings::{Finding, FindingOutcome};
use crate::source::display_path;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;

pub const FORMAT_VERSION: u32 = 1;

/// The stable identity of a finding: 16 hex digits of FNV-1a (64 bit), a
/// hash whose definition cannot change under us (unlike std's `Hasher`).
pub fn fingerprint(f: &Finding) -> String {
    let text = f
        .primary
        .file
        .text
        .get(f.primary.span.clone())
        .unwrap_or("");
    let normalized = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let outcome = match f.outcome {
        FindingOutcome::Violation => "violation",
        FindingOutcome::Unresolved => "unresolved",
    };
    let mut h = Fnv::default();
    for part in [f.clause.as_str(), outcome, f.address.as_str(), &normalized] {
        h.write(part.as_bytes());
        // A separator that cannot occur in the parts keeps `ab`+`c` apart from `a`+`bc`.
        h.write(&[0xff]);
    }
    format!("{:016x}", h.0)
}

struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// The baseline file: fingerprints, with where each finding was when the
/// baseline was written (for people reviewing it; matching ignores it).
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    pub version: u32,
    pub findings: Vec<Entry>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub fingerprint: String,
    pub clause: String,
    pub address: String,
    pub file: String,
    pub line: usize,
}

impl Baseline {
    pub fn of(findings: &[Finding]) -> Baseline {
        let mut entries: Vec<Entry> = findings
            .iter()
            .map(|f| Entry {
                fingerprint: fingerprint(f),
                clause: f.clause.clone(),
                address: f.address.clone(),
                file: f.primary.file.name.clone(),
                line: f.primary.line_col().0,
            })
            .collect();
        entries.sort();
        Baseline {
            version: FORMAT_VERSION,
            findings: entries,
        }
    }

    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_else(|_| "{}".into());
        s.push('\n');
        s
    }

    /// Reads a baseline from the text of the file at `path` (the command
    /// line reads the file, with its size cap).
    pub fn parse(path: &Path, text: String) -> Result<Baseline, Diag> {
        serde_json::from_str::<Baseline>(&text).map_err(|e| {
            let file = crate::source::SourceFile::new(display_path(path), text.clone());
            let offset = crate::source::offset_at(&text, e.line(), e.column());
            Diag::error(
                Code::BaselineMalformed,
                format!("`{}` is not a proviso baseline: {e}", display_path(path)),
            )
            .in_file(&file)
            .label(offset..offset, "here")
            .with_help("write it again with `proviso check … --write-baseline FILE`")
        })
    }

    /// Splits findings into new ones and those the baseline knows.
    pub fn split(&self, findings: Vec<Finding>) -> (Vec<Finding>, usize) {
        let mut known: HashMap<&str, usize> = HashMap::new();
        for e in &self.findings {
            *known.entry(e.fingerprint.as_str()).or_default() += 1;
        }
        let mut fresh = Vec::new();
        let mut hidden = 0usize;
        for f in findings {
            let fp = fingerprint(&f);
            match known.get_mut(fp.as_str()) {
                Some(n) if *n > 0 => {
                    *n -= 1;
                    hidden += 1;
                }
                _ => fresh.push(f),
            }
        }
        (fresh, hidden)
    }
}
