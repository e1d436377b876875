//! nginx access logs in the predefined `combined` format:
//! `$remote_addr - $remote_user [$time_local] "$request" $status
//! $body_bytes_sent "$http_referer" "$http_user_agent"`. Fields that a
//! custom format appends after these (`"$http_x_forwarded_for"` in the
//! common `main` format) are allowed and ignored.
//!
//! `combined` has no host: `host` is the host of an absolute-form request
//! target (`GET https://api.openai.com/v1/… HTTP/1.1`, as a forward proxy
//! logs it) and is absent otherwise. Nothing in the line says which cloud
//! served it: `cloud` comes only from `--ip-ranges`.

use super::alb::next_token;
use super::{ColumnPlan, FormatSpec, LineError, LineParser, Parsed, Slot, Transform};
use crate::value::FieldPath;

pub const COLUMNS: &[&str] = &[
    "remote_addr",
    "ident",
    "remote_user",
    "time_local",
    "request",
    "status",
    "body_bytes_sent",
    "http_referer",
    "http_user_agent",
];

const VOCAB: &[(&str, &str, Transform)] = &[
    ("timestamp", "time_local", Transform::None),
    ("client_ip", "remote_addr", Transform::Ip),
    ("method", "request", Transform::ReqMethod),
    ("path", "request", Transform::ReqPath),
    ("host", "request", Transform::ReqHost),
    ("status", "status", Transform::None),
    ("bytes_out", "body_bytes_sent", Transform::None),
];

/// The `nginx` format.
pub const FORMAT: FormatSpec = FormatSpec {
    name: "nginx",
    about: "nginx `combined`",
    json: false,
    cloud: None,
    kind: None,
    header_line: false,
    parser: |s| Box::new(NginxParser::new(s.slots, s.overrides)),
};

pub struct NginxParser {
    plan: ColumnPlan,
    /// The slots nginx's `\xHH` escapes are decoded in (`"` is `\x22`).
    decoded: Vec<usize>,
}

impl NginxParser {
    pub fn new(slots: &[FieldPath], overrides: &[(String, String)]) -> NginxParser {
        let columns: Vec<String> = COLUMNS.iter().map(|c| c.to_string()).collect();
        NginxParser {
            plan: ColumnPlan::new(slots, &columns, VOCAB, overrides),
            decoded: slots
                .iter()
                .enumerate()
                .filter(|(_, p)| !p.0.is_empty())
                .map(|(i, _)| i)
                .collect(),
        }
    }
}

/// Whether a line looks like the combined format.
pub fn looks_like(line: &str) -> bool {
    let mut parts = line.splitn(4, ' ');
    let (addr, ident, _user, rest) = (parts.next(), parts.next(), parts.next(), parts.next());
    addr.is_some_and(|a| !a.is_empty())
        && ident.is_some()
        && rest.is_some_and(|r| r.starts_with('[') && r.contains("] \""))
}

impl LineParser for NginxParser {
    fn source_name(
        &self,
        slot: usize,
        rank: u8,
        _line: &str,
        _span: std::ops::Range<usize>,
    ) -> Option<String> {
        self.plan.source_name(slot, rank)
    }

    fn parse<'a>(&self, line: &'a str, out: &mut [Option<Slot<'a>>]) -> Result<Parsed, LineError> {
        let b = line.as_bytes();
        let mut i = 0;
        let mut col = 0;
        while col < COLUMNS.len() {
            let Some((span, next)) = next_token(b, i, true)? else {
                break;
            };
            let quoted_or_bracketed =
                span.start > 0 && matches!(b.get(span.start - 1), Some(b'"' | b'['));
            let want_bracket = col == 3;
            let want_quote = matches!(col, 4 | 7 | 8);
            if (want_bracket || want_quote) && !quoted_or_bracketed {
                // INVARIANT: the columns tested are of `COLUMNS`' nine.
                #[expect(clippy::indexing_slicing, reason = "see the INVARIANT above")]
                let name = COLUMNS[col];
                return Err(LineError::new(
                    format!(
                        "expected `{name}` in {} here",
                        if want_bracket { "brackets" } else { "quotes" }
                    ),
                    span,
                ));
            }
            self.plan.put(out, col, line, span);
            col += 1;
            i = next;
        }
        if col < COLUMNS.len() {
            return Err(LineError::new(
                format!(
                    "a combined log line has {} fields; this line has {col}",
                    COLUMNS.len()
                ),
                0..b.len(),
            ));
        }
        // nginx escapes `"`, `\` and bytes outside printable ASCII as
        // `\xHH` (`escape=default`): values as they were sent.
        if memchr::memchr(b'\\', b).is_some() {
            for &slot in &self.decoded {
                super::decode_slot(out, slot, super::hex_decoded);
            }
        }
        Ok(Parsed::Record)
    }
}
