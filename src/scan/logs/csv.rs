//! CSV and TSV exports with a header line: the header names the columns
//! (rules use those names, normalised), and the vocabulary is filled from
//! the usual names (`timestamp`/`time`, `host`/`hostname`, `status`/
//! `status_code`, `client_ip`/`remote_addr`, …, as for JSON lines).
//!
//! The delimiter is a tab if the header has one, else a comma, else a
//! semicolon (what spreadsheets write where the comma is the decimal
//! separator). Fields may
//! be quoted (`"a, b"`, `""` for a quote). One record per line: a quoted
//! field cannot hold a line break, and a line whose field count differs
//! from the header's is malformed.

use super::{
    ColumnPlan, FormatSpec, LineError, LineParser, Parsed, Slot, Transform, normalize_name,
};
use crate::value::FieldPath;

/// The `csv` format: its header line names the columns.
pub const FORMAT: FormatSpec = FormatSpec {
    name: "csv",
    about: "CSV or TSV with a header line",
    json: false,
    cloud: None,
    kind: None,
    header_line: true,
    parser: |s| Box::new(CsvParser::new(s.slots, s.overrides, s.first_line())),
};

pub struct CsvParser {
    plan: ColumnPlan,
    /// The header's names as written.
    header: Vec<String>,
    columns: usize,
    delim: u8,
}

impl CsvParser {
    /// `header` is the header line.
    pub fn new(slots: &[FieldPath], overrides: &[(String, String)], header: &str) -> CsvParser {
        let header = header.trim_start_matches('\u{feff}');
        let delim = if header.contains('\t') {
            b'\t'
        } else if !header.contains(',') && header.contains(';') {
            b';'
        } else {
            b','
        };
        let mut names = Vec::new();
        let mut written = Vec::new();
        let mut i = 0;
        let b = header.as_bytes();
        while i <= b.len() {
            match field(b, i, delim) {
                Ok((span, unquoted, next)) => {
                    let text = match unquoted {
                        Some(s) => s,
                        // INVARIANT: `field` answers a span of `b`, the
                        // header's bytes, cut at ASCII delimiters and quotes.
                        None => header[span].to_string(),
                    };
                    names.push(normalize_name(text.trim()));
                    written.push(text.trim().to_string());
                    i = next;
                }
                Err(_) => break,
            }
        }
        let vocab: Vec<(&str, &str, Transform)> = super::jsonl::VOCAB
            .iter()
            .filter(|(_, p, _)| !p.contains('.'))
            .copied()
            .collect();
        CsvParser {
            plan: ColumnPlan::new(slots, &names, &vocab, overrides),
            header: written,
            columns: names.len(),
            delim,
        }
    }
}

/// One field from `i` (at most `b.len()`, which both callers' loops
/// keep): its span (inside quotes), its unescaped text when it had
/// doubled quotes, and where the next field starts (past the delimiter;
/// `len + 1` after the last).
fn field(
    b: &[u8],
    i: usize,
    delim: u8,
) -> Result<(std::ops::Range<usize>, Option<String>, usize), LineError> {
    if b.get(i) == Some(&b'"') {
        let mut j = i + 1;
        let mut doubled = false;
        loop {
            match b.get(j) {
                None => return Err(LineError::new("unclosed quote", i..b.len())),
                Some(b'"') if b.get(j + 1) == Some(&b'"') => {
                    doubled = true;
                    j += 2;
                }
                Some(b'"') => break,
                Some(_) => j += 1,
            }
        }
        let after = j + 1;
        if !(after == b.len() || b.get(after) == Some(&delim)) {
            return Err(LineError::new(
                "expected a delimiter after the closing quote",
                after..after + 1,
            ));
        }
        let span = i + 1..j;
        let unquoted = if doubled {
            // INVARIANT: `span` is between two quotes found in `b`.
            #[expect(clippy::indexing_slicing, reason = "see the INVARIANT above")]
            let raw = String::from_utf8_lossy(&b[span.clone()]);
            Some(raw.replace("\"\"", "\""))
        } else {
            None
        };
        Ok((span, unquoted, after + 1))
    } else {
        // INVARIANT: `i <= b.len()` (see above).
        #[expect(clippy::indexing_slicing, reason = "see the INVARIANT above")]
        let rest = &b[i..];
        let end = i + memchr::memchr(delim, rest).unwrap_or(rest.len());
        Ok((i..end, None, end + 1))
    }
}

impl LineParser for CsvParser {
    fn source_name(
        &self,
        slot: usize,
        rank: u8,
        _line: &str,
        _span: std::ops::Range<usize>,
    ) -> Option<String> {
        self.header
            .get(self.plan.source_column(slot, rank)?)
            .cloned()
    }

    fn parse<'a>(&self, line: &'a str, out: &mut [Option<Slot<'a>>]) -> Result<Parsed, LineError> {
        let b = line.as_bytes();
        let mut i = 0;
        let mut col = 0;
        while i <= b.len() {
            let (span, unquoted, next) = field(b, i, self.delim)?;
            if col < self.plan.needed {
                match unquoted {
                    Some(text) => self.plan.put_owned(out, col, &text, span),
                    None => self.plan.put(out, col, line, span),
                }
            }
            col += 1;
            i = next;
        }
        if col != self.columns {
            return Err(LineError::new(
                format!(
                    "the header has {} columns, this line has {col}",
                    self.columns
                ),
                0..b.len(),
            ));
        }
        Ok(Parsed::Record)
    }
}
