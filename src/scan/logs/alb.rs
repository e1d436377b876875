//! AWS Application Load Balancer access logs: space-separated fields, some
//! in double quotes, in the order AWS documents for the access log entry:
//! `type time elb client:port target:port request_processing_time
//! target_processing_time response_processing_time elb_status_code
//! target_status_code received_bytes sent_bytes "request" "user_agent"
//! ssl_cipher ssl_protocol target_group_arn "trace_id" "domain_name"
//! "chosen_cert_arn" matched_rule_priority request_creation_time
//! "actions_executed" "redirect_url" "error_reason" "target:port_list"
//! "target_status_code_list" "classification" "classification_reason"
//! conn_trace_id`. AWS adds fields at the end over time, so later fields
//! are allowed and ignored.
//!
//! Every request was served by AWS (`cloud` is `aws`); the region is the
//! one in `target_group_arn`; host, method and path come from the request
//! line (`GET https://host:443/path?query HTTP/1.1`), the host falling
//! back to `domain_name` (the TLS SNI).

use super::{ColumnPlan, LineError, LineParser, Parsed, Slot, Transform};
use crate::value::FieldPath;
use std::ops::Range;

pub const COLUMNS: &[&str] = &[
    "type",
    "time",
    "elb",
    "client:port",
    "target:port",
    "request_processing_time",
    "target_processing_time",
    "response_processing_time",
    "elb_status_code",
    "target_status_code",
    "received_bytes",
    "sent_bytes",
    "request",
    "user_agent",
    "ssl_cipher",
    "ssl_protocol",
    "target_group_arn",
    "trace_id",
    "domain_name",
    "chosen_cert_arn",
    "matched_rule_priority",
    "request_creation_time",
    "actions_executed",
    "redirect_url",
    "error_reason",
    "target:port_list",
    "target_status_code_list",
    "classification",
    "classification_reason",
    "conn_trace_id",
];

const VOCAB: &[(&str, &str, Transform)] = &[
    ("timestamp", "time", Transform::None),
    ("host", "request", Transform::ReqHost),
    ("host", "domain_name", Transform::Host),
    ("path", "request", Transform::ReqPath),
    ("method", "request", Transform::ReqMethod),
    ("status", "elb_status_code", Transform::None),
    ("client_ip", "client:port", Transform::Ip),
    ("target_ip", "target:port", Transform::Ip),
    ("bytes_in", "received_bytes", Transform::None),
    ("bytes_out", "sent_bytes", Transform::None),
    ("region", "target_group_arn", Transform::ArnRegion),
];

/// Fields every ALB entry has (through `user_agent`).
const MIN_FIELDS: usize = 14;

pub struct AlbParser {
    plan: ColumnPlan,
}

impl AlbParser {
    pub fn new(slots: &[FieldPath], overrides: &[(String, String)]) -> AlbParser {
        let columns: Vec<String> = COLUMNS.iter().map(|c| super::normalize_name(c)).collect();
        AlbParser {
            plan: ColumnPlan::new(slots, &columns, VOCAB, overrides),
        }
    }
}

/// The next space-separated token from `i`: its content span (inside
/// quotes or brackets) and where the token after it starts.
#[inline(always)]
pub fn next_token(
    b: &[u8],
    i: usize,
    brackets: bool,
) -> Result<Option<(Range<usize>, usize)>, LineError> {
    let mut i = i;
    while b.get(i) == Some(&b' ') {
        i += 1;
    }
    let Some(&first) = b.get(i) else {
        return Ok(None);
    };
    let close = match first {
        b'"' => Some(b'"'),
        b'[' if brackets => Some(b']'),
        _ => None,
    };
    match close {
        Some(close) => {
            let mut j = i + 1;
            loop {
                let escape = if close == b'"' { b'\\' } else { close };
                let Some(k) = super::find_either(b, j, close, escape) else {
                    return Err(LineError::new(
                        format!("unclosed `{}`", first as char),
                        i..b.len(),
                    ));
                };
                j = k;
                if b.get(j) == Some(&close) {
                    break;
                }
                // A `\` inside quotes: the byte after it is taken as is.
                j += 2;
            }
            let after = j + 1;
            if !matches!(b.get(after), None | Some(b' ')) {
                return Err(LineError::new(
                    format!("expected a space after `{}`", close as char),
                    after..after + 1,
                ));
            }
            Ok(Some((i + 1..j, after)))
        }
        None => {
            let end = super::find_either(b, i, b' ', b' ').unwrap_or(b.len());
            Ok(Some((i..end, end)))
        }
    }
}

impl LineParser for AlbParser {
    fn parse<'a>(&self, line: &'a str, out: &mut [Option<Slot<'a>>]) -> Result<Parsed, LineError> {
        let b = line.as_bytes();
        let mut i = 0;
        let mut col = 0;
        let stop = self.plan.needed.max(MIN_FIELDS);
        while col < stop {
            let Some((span, next)) = next_token(b, i, false)? else {
                break;
            };
            self.plan.put(out, col, line, span);
            col += 1;
            i = next;
        }
        if col < MIN_FIELDS {
            return Err(LineError::new(
                format!(
                    "an ALB log entry has at least {MIN_FIELDS} fields (through `user_agent`); this line has {col}"
                ),
                0..b.len(),
            ));
        }
        Ok(Parsed::Record)
    }
}
