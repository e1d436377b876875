//! AWS CloudFront standard logs: tab-separated, with `#Version:` and
//! `#Fields:` header lines naming the columns. Without a `#Fields:` line
//! the documented default order is assumed: `date time x-edge-location
//! sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status cs(Referer)
//! cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type
//! x-edge-request-id x-host-header cs-protocol cs-bytes time-taken
//! x-forwarded-for ssl-protocol ssl-cipher x-edge-response-result-type
//! cs-protocol-version fle-status fle-encrypted-fields c-port
//! time-to-first-byte x-edge-detailed-result-type sc-content-type
//! sc-content-len sc-range-start sc-range-end`.
//!
//! `date` and `time` (UTC) make `timestamp`; `host` is the Host header the
//! viewer sent (`x-host-header`), else the distribution's domain
//! (`cs(Host)`); CloudFront serves from AWS edges, so `cloud` is `aws` and
//! there is no region. Rules name the columns normalised: `cs_Host_`,
//! `x_edge_location`, `cs_uri_stem`.

use super::{
    ColumnPlan, FormatSpec, LineError, LineParser, Parsed, Slot, Transform, normalize_name, single,
};
use crate::value::FieldPath;

pub const DEFAULT_FIELDS: &[&str] = &[
    "date",
    "time",
    "x-edge-location",
    "sc-bytes",
    "c-ip",
    "cs-method",
    "cs(Host)",
    "cs-uri-stem",
    "sc-status",
    "cs(Referer)",
    "cs(User-Agent)",
    "cs-uri-query",
    "cs(Cookie)",
    "x-edge-result-type",
    "x-edge-request-id",
    "x-host-header",
    "cs-protocol",
    "cs-bytes",
    "time-taken",
    "x-forwarded-for",
    "ssl-protocol",
    "ssl-cipher",
    "x-edge-response-result-type",
    "cs-protocol-version",
    "fle-status",
    "fle-encrypted-fields",
    "c-port",
    "time-to-first-byte",
    "x-edge-detailed-result-type",
    "sc-content-type",
    "sc-content-len",
    "sc-range-start",
    "sc-range-end",
];

const VOCAB: &[(&str, &str, Transform)] = &[
    ("host", "x-host-header", Transform::Host),
    ("host", "cs(Host)", Transform::Host),
    ("path", "cs-uri-stem", Transform::Path),
    ("method", "cs-method", Transform::None),
    ("status", "sc-status", Transform::None),
    ("client_ip", "c-ip", Transform::Ip),
    ("bytes_in", "cs-bytes", Transform::None),
    ("bytes_out", "sc-bytes", Transform::None),
];

/// The `cloudfront` format: the text logs, or standard logging v2's JSON
/// records when the file starts with one.
pub const FORMAT: FormatSpec = FormatSpec {
    name: "cloudfront",
    about: "AWS CloudFront standard logs",
    json: false,
    cloud: Some("aws"),
    kind: None,
    header_line: false,
    parser: |s| {
        if s.first_line()
            .trim_start_matches('\u{feff}')
            .starts_with('{')
        {
            Box::new(CloudfrontJsonParser::new(s.slots, s.overrides))
        } else {
            Box::new(CloudfrontParser::new(s.slots, s.overrides, s.head))
        }
    },
};

pub struct CloudfrontParser {
    plan: ColumnPlan,
    columns: usize,
    /// The timestamp slot and the `date` and `time` columns, when a rule
    /// (or the audit) reads `timestamp` and no override names a column.
    timestamp: Option<(usize, usize, usize)>,
    /// The fields' names as the header writes them.
    written: Vec<String>,
    /// The `path` slot.
    path: Option<usize>,
    /// The header line of field names, when the file has one instead of
    /// `#Fields:` (skipped where it is met).
    names_line: Option<String>,
}

impl CloudfrontParser {
    /// `header` is the first lines of the file (for `#Fields:`).
    pub fn new(
        slots: &[FieldPath],
        overrides: &[(String, String)],
        header: &str,
    ) -> CloudfrontParser {
        let first = header
            .lines()
            .next()
            .unwrap_or("")
            .trim_start_matches('\u{feff}');
        // A header line of field names without `#Fields:` (a CSV of a
        // standard logging v2 export): its names, and it is skipped.
        let names_line = (!first.starts_with('#') && names_cloudfront_fields(first))
            .then(|| first.trim_end_matches('\r').to_string());
        let written: Vec<String> = match &names_line {
            Some(l) => l
                .split([',', '\t', ' '])
                .map(|f| f.trim().trim_matches('"').to_string())
                .collect(),
            None => header
                .lines()
                .find_map(|l| l.strip_prefix("#Fields:"))
                .map(|f| f.split_whitespace().map(str::to_string).collect())
                .unwrap_or_else(|| DEFAULT_FIELDS.iter().map(|f| f.to_string()).collect()),
        };
        let fields: Vec<String> = written.iter().map(|f| normalize_name(f)).collect();
        let vocab: Vec<(&str, String, Transform)> = VOCAB
            .iter()
            .map(|(v, c, t)| (*v, normalize_name(c), *t))
            .collect();
        let vocab_ref: Vec<(&str, &str, Transform)> =
            vocab.iter().map(|(v, c, t)| (*v, c.as_str(), *t)).collect();
        let plan = ColumnPlan::new(slots, &fields, &vocab_ref, overrides);
        let col = |n: &str| fields.iter().position(|f| f == n);
        let timestamp = slots
            .iter()
            .position(|p| single(p) == Some("timestamp"))
            .filter(|_| !overrides.iter().any(|(n, _)| n == "timestamp"))
            .filter(|_| col("timestamp").is_none())
            .and_then(|slot| Some((slot, col("date")?, col("time")?)));
        CloudfrontParser {
            plan,
            columns: fields.len(),
            timestamp,
            written,
            path: slots.iter().position(|p| single(p) == Some("path")),
            names_line,
        }
    }
}

impl LineParser for CloudfrontParser {
    fn source_name(
        &self,
        slot: usize,
        rank: u8,
        _line: &str,
        _span: std::ops::Range<usize>,
    ) -> Option<String> {
        match self.timestamp {
            Some((ts, _, _)) if ts == slot => Some("date time".to_string()),
            _ => self
                .written
                .get(self.plan.source_column(slot, rank)?)
                .cloned(),
        }
    }

    fn parse<'a>(&self, line: &'a str, out: &mut [Option<Slot<'a>>]) -> Result<Parsed, LineError> {
        if line.starts_with('#') || self.names_line.as_deref() == Some(line) {
            return Ok(Parsed::Skip);
        }
        let b = line.as_bytes();
        // Standard logs separate fields with tabs; standard logging v2 may
        // be set to another delimiter (`,` for CSV, a space), and its
        // values, URL-encoded, hold none of them: a line without a tab is
        // split at its commas, else at its spaces.
        let sep = if memchr::memchr(b'\t', b).is_some() {
            b'\t'
        } else if memchr::memchr(b',', b).is_some() {
            b','
        } else {
            b' '
        };
        let found = memchr::memchr_iter(sep, b).count() + 1;
        // More fields than `#Fields:` names are allowed (a trailing tab,
        // as in AWS's own example, or fields added later); fewer are not.
        if found < self.columns {
            return Err(LineError::new(
                format!(
                    "expected {} fields separated by {} (as `#Fields:` says), found {found}",
                    self.columns,
                    match sep {
                        b'\t' => "tabs",
                        b',' => "commas",
                        _ => "spaces",
                    }
                ),
                0..b.len(),
            ));
        }
        let mut start = 0;
        let mut date = None;
        let mut time = None;
        for (col, end) in memchr::memchr_iter(sep, b)
            .chain(std::iter::once(b.len()))
            .enumerate()
        {
            if col >= self.plan.needed && self.timestamp.is_none_or(|(_, d, t)| col > d.max(t)) {
                break;
            }
            self.plan.put(out, col, line, start..end);
            if let Some((_, d, t)) = self.timestamp {
                if col == d {
                    date = Some(start..end);
                }
                if col == t {
                    time = Some(start..end);
                }
            }
            start = end + 1;
        }
        if let (Some((slot, ..)), Some(date), Some(time)) = (self.timestamp, date, time) {
            if time.start == date.end + 1 && sep != b',' {
                // `date` then `time`, side by side (always, in standard
                // logs): the timestamp is the line's own text.
                super::put_str(out, slot, line, date.start..time.end, Transform::None);
            } else if let (Some(d), Some(t), Some(o)) =
                (line.get(date.clone()), line.get(time), out.get_mut(slot))
                && !d.is_empty()
                && d != "-"
            {
                // Elsewhere (standard logging v2 lets the fields be
                // chosen and ordered): put together, and labelled on the
                // date.
                *o = Some(Slot::at(
                    super::FieldVal::Str(std::borrow::Cow::Owned(format!("{d} {t}"))),
                    date,
                ));
            }
        }
        // `cs-uri-stem` is URL-encoded (`/v1/my%20files`): the path as
        // requested.
        if let Some(path) = self.path {
            super::decode_slot(out, path, super::percent_decoded);
        }
        Ok(Parsed::Record)
    }
}

/// Whether a line names CloudFront's log fields (a header of field names).
pub fn names_cloudfront_fields(line: &str) -> bool {
    ["cs-uri-stem", "x-edge-location", "x-edge-request-id"]
        .iter()
        .any(|f| line.contains(f))
}

/// CloudFront's fields in a JSON record (standard logging v2 with JSON
/// output): the same names as the text logs (`cs-uri-stem`, `c-ip`, …),
/// and `timestamp(ms)` or `timestamp` when selected.
pub const JSON_VOCAB: super::jsonl::JsonVocab = &[
    ("timestamp", "timestamp(ms)", Transform::None),
    ("host", "x-host-header", Transform::Host),
    ("host", "cs(Host)", Transform::Host),
    ("path", "cs-uri-stem", Transform::Path),
    ("method", "cs-method", Transform::None),
    ("status", "sc-status", Transform::None),
    ("client_ip", "c-ip", Transform::Ip),
    ("bytes_in", "cs-bytes", Transform::None),
    ("bytes_out", "sc-bytes", Transform::None),
];

/// CloudFront standard logging v2 records in JSON: the JSON-lines parser
/// with [`JSON_VOCAB`], and `date` + `time` put together for `timestamp`
/// when the record has no `timestamp` of its own.
pub struct CloudfrontJsonParser {
    json: super::jsonl::JsonParser,
    /// The timestamp slot, and a parser of `date` and `time` alone.
    date_time: Option<(usize, super::jsonl::JsonParser)>,
    path: Option<usize>,
}

impl CloudfrontJsonParser {
    pub fn new(slots: &[FieldPath], overrides: &[(String, String)]) -> CloudfrontJsonParser {
        let date_time = slots
            .iter()
            .position(|p| single(p) == Some("timestamp"))
            .filter(|_| !overrides.iter().any(|(n, _)| n == "timestamp"))
            .map(|slot| {
                let fields = [
                    FieldPath(vec!["date".into()]),
                    FieldPath(vec!["time".into()]),
                ];
                (slot, super::jsonl::JsonParser::new(&fields, &[], &[]))
            });
        CloudfrontJsonParser {
            json: super::jsonl::JsonParser::new(slots, JSON_VOCAB, overrides),
            date_time,
            path: slots.iter().position(|p| single(p) == Some("path")),
        }
    }
}

impl LineParser for CloudfrontJsonParser {
    fn source_name(
        &self,
        slot: usize,
        rank: u8,
        line: &str,
        span: std::ops::Range<usize>,
    ) -> Option<String> {
        self.json.source_name(slot, rank, line, span)
    }

    fn parse<'a>(&self, line: &'a str, out: &mut [Option<Slot<'a>>]) -> Result<Parsed, LineError> {
        let parsed = self.json.parse(line, out)?;
        if let Some((slot, dt)) = &self.date_time
            && out.get(*slot).is_some_and(Option::is_none)
        {
            let mut parts: [Option<Slot<'a>>; 2] = [None, None];
            if dt.parse(line, &mut parts).is_ok()
                && let [Some(d), Some(t)] = &parts
                && let Some(o) = out.get_mut(*slot)
            {
                *o = Some(Slot {
                    val: super::FieldVal::Str(std::borrow::Cow::Owned(format!(
                        "{} {}",
                        d.val, t.val
                    ))),
                    span: d.span.clone(),
                    rank: 1,
                });
            }
        }
        if let Some(path) = self.path {
            super::decode_slot(out, path, super::percent_decoded);
        }
        Ok(parsed)
    }
}
