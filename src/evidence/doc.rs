//! The evidence document: its schema, versioned by `proviso_evidence`
//! (fields are only ever added within a version; `proviso verify` refuses
//! a version it does not know). The README's "Evidence" section shows an
//! example.

use super::hash::Digest;
use serde::{Deserialize, Serialize};

pub const SCHEMA_VERSION: u32 = 1;

/// What the findings digest of `check` covers.
pub const CHECK_FINDINGS: &str =
    "the `findings` of the JSON report, one compact JSON object a line, in report order";
/// What the findings digest of `audit` covers without `--findings`.
pub const AUDIT_CLAUSES: &str = "the `clauses` of the JSON report (per clause and terms version: counts, first and last seen, subjects, samples, groups), one compact JSON object a line";
/// What the findings digest of `audit` covers with `--findings`.
pub const AUDIT_FINDINGS: &str = "the `--findings` JSON lines (every violating record, then every breaching or unresolved group), in input order";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Document {
    /// The schema version.
    pub proviso_evidence: u32,
    pub tool: Tool,
    /// `check` or `audit`.
    pub command: String,
    /// The command line, parameter values redacted.
    pub argv: Vec<String>,
    /// The working directory, against which relative paths are read.
    pub cwd: String,
    /// When the evidence was written (UTC): not part of what is verified.
    pub written: String,
    pub judged_by: Judged,
    pub inputs: Vec<FileEntry>,
    pub rules: Vec<FileEntry>,
    #[serde(default)]
    pub side_inputs: Vec<FileEntry>,
    pub config: Option<FileEntry>,
    pub params: Vec<ParamEntry>,
    pub summary: serde_json::Value,
    pub findings: Findings,
    pub reports: Vec<Report>,
    pub exit_code: i32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Tool {
    pub name: String,
    pub version: String,
    pub commit: String,
}

/// The date the records were judged by: one date (`check`), or each
/// record's own (`audit`), with the terms versions that could apply.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Judged {
    pub as_of: Option<String>,
    pub each_record: bool,
    #[serde(default)]
    pub terms: Vec<TermsEntry>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct TermsEntry {
    pub id: String,
    pub title: Option<String>,
    pub in_force_from: Option<String>,
    pub in_force_until: Option<String>,
    pub clauses: Vec<String>,
}

/// A file read: its name as the run showed it, its role, and the hash of
/// its bytes as read.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct FileEntry {
    pub path: String,
    /// `log`, `input` (Terraform and side inputs), `rules`, `config`.
    pub role: String,
    pub bytes: Option<u64>,
    pub sha256: Option<String>,
    /// For a log: `none`, `gzip` or `zstd`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub compression: Option<String>,
    /// For a compressed log: its decompressed stream.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub decompressed: Option<Digest>,
    /// For a log: how it was read (`mapped`, `stream`, `parquet`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub read_as: Option<String>,
    /// For a log: whether the hash covers the whole file (false when it
    /// was cut short, or a read stopped at an error).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub complete: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub note: Option<String>,
}

impl FileEntry {
    pub fn new(path: &str, role: &str) -> FileEntry {
        FileEntry {
            path: path.into(),
            role: role.into(),
            ..Default::default()
        }
    }

    pub fn set(&mut self, d: &Digest) {
        self.bytes = Some(d.bytes);
        self.sha256 = Some(d.sha256.clone());
    }
}

/// A parameter: its name, whether the run had a value, and the value's
/// protected hash (see `params`); never the value.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ParamEntry {
    pub name: String,
    pub supplied: bool,
    pub hash: Option<ProtectedHash>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ProtectedHash {
    /// `pbkdf2-hmac-sha256`.
    pub scheme: String,
    pub iterations: u32,
    /// Hex, 16 random bytes per parameter per document.
    pub salt: String,
    /// Whether a secret key (`PROVISO_EVIDENCE_KEY`) was mixed in.
    pub keyed: bool,
    pub digest: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Findings {
    pub count: u64,
    pub bytes: u64,
    pub sha256: String,
    /// What the digest is of.
    pub of: String,
}

/// A report written.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Report {
    /// The flag that wrote it, for a stream (`--findings`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub flag: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub format: Option<String>,
    /// The file, or `<stdout>`.
    pub to: String,
    pub bytes: u64,
    pub sha256: String,
    /// Written to a terminal (coloured and sized to it): not compared.
    pub terminal: bool,
}
