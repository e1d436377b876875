//! `--format csv`: findings for a spreadsheet, one row each (RFC 4180).
//!
//! `check` writes one row per finding. `audit` writes one row per violating
//! record and per breaching or unresolved group, as `--findings` writes
//! JSON lines: [`AuditCsv`] is a writer that takes those lines as the audit
//! streams them and writes each as a row, so the rows of a 1 GB audit never
//! all live at once.
//!
//! Cells are quoted where RFC 4180 needs it (a comma, a quote, a line
//! break), and a cell that starts with `=`, `+`, `-`, `@`, a tab or a
//! carriage return gets a leading `'`: log fields are the input's choice,
//! and a spreadsheet would run `=HYPERLINK(…)` in a host name as a formula
//! (OWASP's "CSV injection").

use super::CheckReport;
use crate::findings::FindingOutcome;
use std::io::Write;

/// A cell, escaped.
pub fn cell(text: &str) -> String {
    let guarded = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_string()
    };
    if guarded.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

/// One row, `\r\n`-terminated as RFC 4180 writes them.
pub fn row<S: AsRef<str>>(cells: &[S]) -> String {
    let mut out = cells
        .iter()
        .map(|c| cell(c.as_ref()))
        .collect::<Vec<_>>()
        .join(",");
    out.push_str("\r\n");
    out
}

/// The columns of `check --format csv`.
pub const CHECK_COLUMNS: [&str; 12] = [
    "severity",
    "outcome",
    "clause",
    "terms",
    "address",
    "kind",
    "file",
    "line",
    "column",
    "instances",
    "message",
    "citation",
];

/// `check`'s findings, one row each, in the report's order.
pub fn render_check(r: &CheckReport) -> String {
    let mut out = row(&CHECK_COLUMNS);
    for f in &r.findings {
        let (line, column) = f.line_col();
        out.push_str(&row(&[
            f.severity.as_str().to_string(),
            match f.outcome {
                FindingOutcome::Violation => "violation",
                FindingOutcome::Unresolved => "unresolved",
            }
            .to_string(),
            f.clause.clone(),
            f.terms.clone(),
            f.address.clone(),
            f.kind.clone(),
            f.primary.file.name.clone(),
            line.to_string(),
            column.to_string(),
            f.instances.to_string(),
            f.message.clone(),
            f.help.clone(),
        ]));
    }
    out
}

/// The columns of `audit --format csv`: where, when, which clause, what,
/// the group (for an aggregate clause), then the fields a log line is
/// usually read by, and every field the violation showed as JSON (for a
/// group: its figures).
pub const AUDIT_COLUMNS: [&str; 14] = [
    "file",
    "line",
    "timestamp",
    "clause",
    "terms",
    "severity",
    "outcome",
    "group",
    "message",
    "host",
    "path",
    "cloud",
    "region",
    "fields",
];

/// A writer that takes the audit's `--findings` JSON lines and writes
/// them to `out` as CSV rows ([`AUDIT_COLUMNS`]), a header first.
pub struct AuditCsv<W: Write> {
    out: W,
    pending: Vec<u8>,
    header: bool,
}

impl<W: Write> AuditCsv<W> {
    pub fn new(out: W) -> AuditCsv<W> {
        AuditCsv {
            out,
            pending: Vec::new(),
            header: false,
        }
    }

    fn line(&mut self, line: &[u8]) -> std::io::Result<()> {
        if !self.header {
            self.header = true;
            self.out.write_all(row(&AUDIT_COLUMNS).as_bytes())?;
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            return Ok(());
        }
        let doc: serde_json::Value = serde_json::from_slice(line)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
        self.out.write_all(audit_row(&doc).as_bytes())
    }
}

/// One `--findings` document as a row.
pub fn audit_row(doc: &serde_json::Value) -> String {
    let text = |v: &serde_json::Value| match v {
        serde_json::Value::Null => String::new(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let at = |k: &str| doc.get(k).map(text).unwrap_or_default();
    let field = |k: &str| {
        doc.get("fields")
            .and_then(|f| f.get(k))
            .map(text)
            .unwrap_or_default()
    };
    // A group's line carries the group (its key, `{"period": "2026-05"}`,
    // and its figures) and no file or line; a record's carries neither
    // group nor outcome.
    let group_doc = doc.get("group");
    let group = group_doc
        .and_then(|g| g.get("key"))
        .and_then(serde_json::Value::as_object)
        .map(|k| k.values().map(text).collect::<Vec<_>>().join(" / "))
        .unwrap_or_default();
    let outcome = match at("outcome") {
        o if o.is_empty() => "violation".to_string(),
        o => o,
    };
    row(&[
        at("file"),
        at("line"),
        at("timestamp"),
        at("clause"),
        at("terms"),
        at("severity"),
        outcome,
        group,
        at("message"),
        field("host"),
        field("path"),
        field("cloud"),
        field("region"),
        doc.get("fields")
            .or_else(|| group_doc.and_then(|g| g.get("figures")))
            .map(text)
            .unwrap_or_default(),
    ])
}

impl<W: Write> Write for AuditCsv<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.pending.extend_from_slice(buf);
        while let Some(end) = self.pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.pending.drain(..=end).collect();
            self.line(&line)?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if !self.pending.is_empty() {
            let line = std::mem::take(&mut self.pending);
            self.line(&line)?;
        }
        if !self.header {
            // No finding at all: still a file with its header.
            self.line(b"")?;
        }
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_quoted_and_formulas_defused() {
        assert_eq!(cell("plain"), "plain");
        assert_eq!(cell("a,b"), "\"a,b\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("two\nlines"), "\"two\nlines\"");
        assert_eq!(cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(cell("-1"), "'-1");
        assert_eq!(cell("@SUM(A1)"), "'@SUM(A1)");
    }

    #[test]
    fn findings_lines_become_rows_across_writes() {
        let mut w = AuditCsv::new(Vec::new());
        let line = br#"{"file":"a.log","line":3,"timestamp":"2026-03-01T00:00:00Z","clause":"c","terms":"t","severity":"error","message":"m, with a comma","fields":{"host":"api.openai.com","cloud":"aws"}}"#;
        let (a, b) = line.split_at(20);
        w.write_all(a).unwrap_or_default();
        w.write_all(b).unwrap_or_default();
        w.write_all(b"\n").unwrap_or_default();
        w.write_all(br#"{"clause":"g","terms":"t","severity":"error","group":{"key":{"model":"o5","period":"2026-05"},"figures":{"paid":"1.50"}},"outcome":"unresolved","message":"short"}"#).unwrap_or_default();
        w.flush().unwrap_or_default();
        let text = String::from_utf8(w.out).unwrap_or_default();
        let rows: Vec<&str> = text.split("\r\n").collect();
        let at = |i: usize| rows.get(i).copied().unwrap_or_default();
        assert_eq!(
            at(0),
            "file,line,timestamp,clause,terms,severity,outcome,group,message,host,path,cloud,region,fields"
        );
        assert_eq!(
            at(1),
            "a.log,3,2026-03-01T00:00:00Z,c,t,error,violation,,\"m, with a comma\",api.openai.com,,aws,,\"{\"\"host\"\":\"\"api.openai.com\"\",\"\"cloud\"\":\"\"aws\"\"}\""
        );
        assert_eq!(
            at(2),
            ",,,g,t,error,unresolved,o5 / 2026-05,short,,,,,\"{\"\"paid\"\":\"\"1.50\"\"}\""
        );
        assert_eq!(rows.len(), 4);
    }
}
