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

use super::{ColumnPlan, FormatSpec, LineError, LineParser, Parsed, Slot, Transform};
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
    ("client_ip", "client:port", Transform::IpPort),
    ("target_ip", "target:port", Transform::IpPort),
    ("bytes_in", "received_bytes", Transform::None),
    ("bytes_out", "sent_bytes", Transform::None),
    ("region", "target_group_arn", Transform::ArnRegion),
];

/// The `alb` format.
pub const FORMAT: FormatSpec = FormatSpec {
    name: "alb",
    about: "AWS Application Load Balancer access logs",
    json: false,
    cloud: Some("aws"),
    kind: None,
    header_line: false,
    parser: |s| Box::new(AlbParser::new(s.slots, s.overrides)),
};

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
    fn source_name(
        &self,
        slot: usize,
        rank: u8,
        _line: &str,
        _span: std::ops::Range<usize>,
    ) -> Option<String> {
        COLUMNS
            .get(self.plan.source_column(slot, rank)?)
            .map(|c| c.to_string())
    }

    fn parse<'a>(&self, line: &'a str, out: &mut [Option<Slot<'a>>]) -> Result<Parsed, LineError> {
        let b = line.as_bytes();
        let mut i = 0;
        let mut col = 0;
        while col < MIN_FIELDS || self.plan.wants(col, out) {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The vocabulary fields of one ALB line, as strings.
    fn read(line: &str) -> Vec<(&'static str, Option<String>)> {
        let names = super::super::VOCABULARY;
        let slots: Vec<FieldPath> = names
            .iter()
            .map(|n| FieldPath(vec![n.to_string()]))
            .collect();
        let parser = AlbParser::new(&slots, &[]);
        let mut out = vec![None; slots.len()];
        assert_eq!(parser.parse(line, &mut out), Ok(Parsed::Record), "{line}");
        names
            .iter()
            .zip(out)
            .map(|(n, s)| (*n, s.map(|s| s.val.to_string())))
            .collect()
    }

    fn field(fields: &[(&'static str, Option<String>)], name: &str) -> Option<String> {
        fields
            .iter()
            .find(|(n, _)| *n == name)
            .and_then(|(_, v)| v.clone())
    }

    /// ALB writes an IPv6 client as `address:port` without brackets.
    #[test]
    fn an_http2_entry_from_an_ipv6_client() {
        let f = read(
            "h2 2026-03-10T23:55:00.361692Z app/my-lb/6378464905b0814a \
             2a02:a33c:4538:1:bcf4:5264:e01c:f215:50718 10.0.0.12:80 0.000 0.003 0.000 401 401 \
             29 805 \"GET https://api.openai.com:443/v1/chat/completions HTTP/2.0\" \
             \"okhttp/4.11.0\" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 \
             arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/api/4adf8897d8a3b7af \
             \"Root=1-64fe5754-33ecd7461b3736944677bb97\" \"api.openai.com\" \"session-reused\" 11 \
             2026-03-10T23:55:00.358000Z \"forward\" \"-\" \"-\" \"10.0.0.12:80\" \"401\" \"-\" \"-\" TID_1",
        );
        let get = |n| field(&f, n);
        assert_eq!(
            get("client_ip").as_deref(),
            Some("2a02:a33c:4538:1:bcf4:5264:e01c:f215")
        );
        assert_eq!(get("target_ip").as_deref(), Some("10.0.0.12"));
        assert_eq!(get("host").as_deref(), Some("api.openai.com"));
        assert_eq!(get("path").as_deref(), Some("/v1/chat/completions"));
        assert_eq!(get("method").as_deref(), Some("GET"));
        assert_eq!(get("status").as_deref(), Some("401"));
        assert_eq!(get("region").as_deref(), Some("eu-west-1"));
    }

    /// A request the load balancer could not read: `- - -` as the request,
    /// `-` for the target and the times it could not measure (`-1`).
    #[test]
    fn a_request_that_was_never_dispatched() {
        let f = read(
            "https 2026-03-10T23:55:00.361692Z app/my-lb/6378464905b0814a 192.0.2.7:41000 - \
             -1 -1 -1 400 - 0 272 \"- - -\" \"-\" - - - \"-\" \"-\" \"-\" - \
             2026-03-10T23:55:00.358000Z \"-\" \"-\" \"-\" \"-\" \"-\" \"-\" \"-\" -",
        );
        let get = |n| field(&f, n);
        assert_eq!(get("client_ip").as_deref(), Some("192.0.2.7"));
        assert_eq!(get("status").as_deref(), Some("400"));
        for absent in ["target_ip", "host", "path", "method", "region"] {
            assert_eq!(get(absent), None, "{absent}");
        }
    }

    /// A request whose target is a path: the host is the TLS SNI
    /// (`domain_name`).
    #[test]
    fn an_origin_form_request_takes_its_host_from_domain_name() {
        let f = read(
            "https 2026-03-10T23:55:00.361692Z app/my-lb/6378464905b0814a 192.0.2.7:41000 - \
             0.000 0.010 0.000 200 200 100 200 \"POST /v1/embeddings HTTP/1.1\" \"curl/8.0\" \
             TLS_AES_128_GCM_SHA256 TLSv1.3 \
             arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/fn/73e2d6bc24d8a067 \
             \"Root=1-58337262-36d228ad5d99923122bbe354\" \"eastus2.openai.azure.com\" \"-\" 0 \
             2026-03-10T23:55:00.358000Z \"forward\" \"-\" \"-\" \"-\" \"-\" \"-\" \"-\" -",
        );
        let get = |n| field(&f, n);
        assert_eq!(get("host").as_deref(), Some("eastus2.openai.azure.com"));
        assert_eq!(get("path").as_deref(), Some("/v1/embeddings"));
        assert_eq!(get("target_ip"), None);
        assert_eq!(get("region").as_deref(), Some("us-east-1"));
    }
}
