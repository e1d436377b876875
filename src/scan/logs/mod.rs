//! Log exports: one record per line, in one of several formats.
//!
//! Every format implements [`LineParser`]: it fills a fixed array of
//! *slots*, one per field the rules read, from one line, borrowing from the
//! line wherever it can. The slots are decided once per run from the rules
//! (a field no rule reads is never parsed, a JSON value no rule reads is
//! skipped, not built), so the per-line work is a scan of the line and no
//! allocation unless a value has escapes to undo.
//!
//! Each format fills the shared vocabulary of DESIGN.md (`timestamp`,
//! `host`, `path`, `method`, `status`, `client_ip`, `target_ip`,
//! `bytes_in`, `bytes_out`, `cloud`, `region`) from its own fields, and
//! also answers to its own field names, written with every character
//! other than a letter, a digit or `_` as `_` (`cs(Host)` is `cs_Host_`,
//! `client:port` is `client_port`), so that rules can use any of them.

pub mod alb;
pub mod apigateway;
pub mod appgateway;
pub mod azure_frontdoor;
pub mod cloudfront;
pub mod csv;
pub mod decompress;
pub mod ipranges;
pub mod json_index;
pub mod json_stream;
pub mod jsonl;
pub mod mapped;
pub mod nginx;

use crate::value::{FieldPath, Value};
use std::borrow::Cow;
use std::fmt;
use std::ops::Range;

/// The log formats proviso reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LogFormat {
    Jsonl,
    Csv,
    Alb,
    Cloudfront,
    AzureFrontdoor,
    Nginx,
    AwsApiGateway,
    AzureAppGateway,
}

impl LogFormat {
    pub fn name(self) -> &'static str {
        match self {
            LogFormat::Jsonl => "jsonl",
            LogFormat::Csv => "csv",
            LogFormat::Alb => "alb",
            LogFormat::Cloudfront => "cloudfront",
            LogFormat::AzureFrontdoor => "azure-frontdoor",
            LogFormat::Nginx => "nginx",
            LogFormat::AwsApiGateway => "aws-apigateway",
            LogFormat::AzureAppGateway => "azure-appgateway",
        }
    }

    /// The kind of a record whose `kind` slot was read as `raw` (the
    /// formats that carry more than requests name the record's category
    /// there); `None` and every other format: a request.
    pub fn kind(self, raw: Option<&str>) -> Kind {
        match (self, raw) {
            (LogFormat::AzureFrontdoor | LogFormat::AzureAppGateway, Some(category)) => {
                Kind::of_azure_category(category)
            }
            _ => Kind::Request,
        }
    }

    /// Whether the format's records are JSON objects.
    pub fn is_json(self) -> bool {
        matches!(
            self,
            LogFormat::Jsonl
                | LogFormat::AzureFrontdoor
                | LogFormat::AwsApiGateway
                | LogFormat::AzureAppGateway
        )
    }

    /// The cloud that served every request of this format, if the format
    /// says (an ALB or CloudFront log is AWS's, a Front Door log Azure's).
    pub fn cloud(self) -> Option<&'static str> {
        match self {
            LogFormat::Alb | LogFormat::Cloudfront | LogFormat::AwsApiGateway => Some("aws"),
            LogFormat::AzureFrontdoor | LogFormat::AzureAppGateway => Some("azure"),
            _ => None,
        }
    }
}

impl fmt::Display for LogFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a log record is: a client request (what clauses judge), or a
/// record of something else that a log of requests also carries (Azure
/// writes health probes and WAF matches to the same destination as access
/// records, told apart by `category`). Only requests are judged; the
/// others are counted, by kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Request,
    /// A health probe of an origin by the service itself.
    HealthProbe,
    /// A web application firewall's record of a request (which has its own
    /// access record: judging both would count the request twice).
    Waf,
    /// Any other category (performance, activity, …).
    Other,
}

impl Kind {
    /// Every kind that is not a request, in the order of
    /// `Summary::kinds`.
    pub const NOT_REQUESTS: [Kind; 3] = [Kind::HealthProbe, Kind::Waf, Kind::Other];

    /// The value of the `kind` field.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Request => "request",
            Kind::HealthProbe => "health_probe",
            Kind::Waf => "waf",
            Kind::Other => "other",
        }
    }

    /// The kind of an Azure diagnostic record by its `category`
    /// (`FrontDoorAccessLog`, `FrontdoorAccessLog` in the classic tier,
    /// `FrontDoorHealthProbeLog`, `FrontDoorWebApplicationFirewallLog`,
    /// `ApplicationGatewayAccessLog`, `ApplicationGatewayFirewallLog`,
    /// …), compared without regard to case.
    pub fn of_azure_category(category: &str) -> Kind {
        let c = category.to_ascii_lowercase();
        if c.ends_with("accesslog") {
            Kind::Request
        } else if c.ends_with("healthprobelog") {
            Kind::HealthProbe
        } else if c.ends_with("firewalllog") {
            Kind::Waf
        } else {
            Kind::Other
        }
    }
}

/// A field's value, borrowed from the line where possible.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldVal<'a> {
    Str(Cow<'a, str>),
    Num(f64),
    Bool(bool),
    Null,
    /// A JSON object or array, as written (converted on demand).
    Raw(&'a str),
}

impl FieldVal<'_> {
    /// The value as a rule value (allocates; used off the hot path).
    pub fn to_value(&self) -> Value {
        match self {
            FieldVal::Str(s) => Value::str(s),
            FieldVal::Num(n) => Value::Num(*n),
            FieldVal::Bool(b) => Value::Bool(*b),
            FieldVal::Null => Value::Null,
            FieldVal::Raw(text) => serde_json::from_str::<serde_json::Value>(text)
                .map(|j| crate::value::from_json(&j))
                .unwrap_or(Value::Null),
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            FieldVal::Str(s) => Some(s),
            _ => None,
        }
    }
}

impl fmt::Display for FieldVal<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldVal::Str(s) => f.write_str(s),
            FieldVal::Raw(s) => f.write_str(s),
            other => write!(f, "{}", other.to_value()),
        }
    }
}

/// One filled slot: the value and where in the line it was written (`None`
/// for values the format implies, such as `cloud` for an ALB log).
#[derive(Debug, Clone)]
pub struct Slot<'a> {
    pub val: FieldVal<'a>,
    pub span: Option<Range<usize>>,
    /// Which of a field's candidate sources filled it (lower is preferred):
    /// a JSON line may carry both `host` and `hostname`.
    pub rank: u8,
}

impl<'a> Slot<'a> {
    pub fn at(val: FieldVal<'a>, span: Range<usize>) -> Slot<'a> {
        Slot {
            val,
            span: Some(span),
            rank: 0,
        }
    }

    pub fn implied(val: &'static str) -> Slot<'a> {
        Slot {
            val: FieldVal::Str(Cow::Borrowed(val)),
            span: None,
            rank: 0,
        }
    }
}

/// Why a line is not a record.
#[derive(Debug, Clone, PartialEq)]
pub struct LineError {
    pub reason: String,
    /// Byte range in the line the reason is about.
    pub at: Range<usize>,
}

impl LineError {
    pub fn new(reason: impl Into<String>, at: Range<usize>) -> LineError {
        LineError {
            reason: reason.into(),
            at,
        }
    }
}

/// What a line turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parsed {
    Record,
    /// Not a record: a header or comment line (`#Fields:` in CloudFront).
    Skip,
}

/// A format's line parser, set up for the slots of one run.
pub trait LineParser: Send + Sync {
    /// Fills `out` (one entry per slot, all `None` on entry) from `line`
    /// (without its line ending).
    fn parse<'a>(&self, line: &'a str, out: &mut [Option<Slot<'a>>]) -> Result<Parsed, LineError>;

    /// As [`LineParser::parse`], with scratch space that the caller keeps
    /// from one line to the next (one per worker, never shared), where a
    /// parser may remember what it learnt from earlier lines: the JSON
    /// parser keeps the keys of the last line there, since the lines of an
    /// export almost always repeat them in the same order. The result must
    /// not depend on the scratch, only the speed.
    fn parse_with<'a>(
        &self,
        line: &'a str,
        out: &mut [Option<Slot<'a>>],
        scratch: &mut Scratch,
    ) -> Result<Parsed, LineError> {
        let _ = scratch;
        self.parse(line, out)
    }

    /// The name, as the input writes it, of the field that filled `slot`
    /// from its candidate source `rank`, on `line` at `span` (the value's
    /// span): what the summary shows as "`host` from `Host`". `None` when
    /// the format cannot say.
    fn source_name(&self, slot: usize, rank: u8, line: &str, span: Range<usize>) -> Option<String> {
        let _ = (slot, rank, line, span);
        None
    }
}

/// A worker's scratch space for [`LineParser::parse_with`].
#[derive(Debug, Default)]
pub struct Scratch {
    pub(crate) json: jsonl::JsonScratch,
}

/// How a format's value becomes a vocabulary value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transform {
    None,
    /// `api.openai.com:443` → `api.openai.com`; a URL → its host.
    Host,
    /// `https://h/v1/x?y` → `/v1/x`; `/v1/x?y` → `/v1/x`.
    Path,
    /// `10.0.0.1:443`, `[2001:db8::1]:443` → the address; a bare
    /// address (`10.0.0.1`, `2001:db8::1`) as it is.
    Ip,
    /// An `address:port` field whose port is always there, as ALB writes
    /// them: IPv6 without brackets (`2001:db8::1:443` → `2001:db8::1`), so
    /// the address is everything before the last `:`.
    IpPort,
    /// `arn:aws:elasticloadbalancing:us-east-1:…` → `us-east-1`.
    ArnRegion,
    /// A request line `GET https://h:443/p?q HTTP/1.1` → `GET`.
    ReqMethod,
    /// A request line → the host of an absolute-form target, else nothing.
    ReqHost,
    /// A request line → the path of its target.
    ReqPath,
}

/// Applies a transform to a string value, returning the sub-span kept
/// (relative to `s`), or `None` when nothing is left.
pub fn transform(t: Transform, s: &str) -> Option<Range<usize>> {
    transform_with(t, s, true)
}

/// [`transform`], with or without the one-pass reading of hosts and paths
/// (`url_marks`); both answer the same, which a test checks.
fn transform_with(t: Transform, s: &str, one_pass: bool) -> Option<Range<usize>> {
    let full = 0..s.len();
    let r = match t {
        Transform::ReqMethod | Transform::ReqHost | Transform::ReqPath => {
            return request_parts(s).get(t);
        }
        Transform::None => full,
        Transform::Host | Transform::Path
            if one_pass && let Some(marks) = url_marks(s.as_bytes(), t == Transform::Host) =>
        {
            if t == Transform::Host {
                0..marks.host_end
            } else {
                0..marks.path_end
            }
        }
        Transform::Host => {
            let (start, rest) = match scheme_len(s.as_bytes()) {
                Some(i) => (i + 3, s.get(i + 3..)?),
                None => (0, s),
            };
            let end_rel = rest
                .bytes()
                .position(|c| matches!(c, b'/' | b'?' | b'#'))
                .unwrap_or(rest.len());
            let hostport = rest.get(..end_rel)?;
            let host_len = if hostport.starts_with('[') {
                memchr::memchr(b']', hostport.as_bytes()).map_or(hostport.len(), |i| i + 1)
            } else {
                memchr::memrchr(b':', hostport.as_bytes()).unwrap_or(hostport.len())
            };
            start..start + host_len
        }
        Transform::Path => {
            let start = match scheme_len(s.as_bytes()) {
                Some(i) => authority_end(s.as_bytes(), i + 3, s.len()),
                None => 0,
            };
            let rest = s.get(start..)?;
            let end = find_either(rest.as_bytes(), 0, b'?', b'#').unwrap_or(rest.len());
            start..start + end
        }
        // Every address has a `.` or a `:`: a value with neither is a log's
        // word for "none" (Azure Front Door's `originIp` is `N/A` on a
        // cache hit).
        Transform::Ip | Transform::IpPort if find_either(s.as_bytes(), 0, b'.', b':').is_none() => {
            return None;
        }
        Transform::Ip => {
            // No address parse is needed to tell the cases apart: an IPv4
            // address has no `:`, an IPv6 one at least two and no `[`.
            if let Some(inner) = s.strip_prefix('[') {
                1..1 + memchr::memchr(b']', inner.as_bytes()).unwrap_or(inner.len())
            } else {
                let b = s.as_bytes();
                match memchr::memchr(b':', b) {
                    Some(i) if memchr::memchr(b':', b.get(i + 1..).unwrap_or(&[])).is_none() => {
                        0..i
                    }
                    _ => full,
                }
            }
        }
        Transform::IpPort => match s.strip_prefix('[') {
            Some(inner) => 1..1 + memchr::memchr(b']', inner.as_bytes()).unwrap_or(inner.len()),
            None => 0..memchr::memrchr(b':', s.as_bytes()).unwrap_or(s.len()),
        },
        Transform::ArnRegion => {
            // arn:partition:service:region:account:resource
            if !s.starts_with("arn:") {
                return None;
            }
            let b = s.as_bytes();
            let service = find_either(b, 4, b':', b':')? + 1;
            let start = find_either(b, service, b':', b':')? + 1;
            start..find_either(b, start, b':', b':').unwrap_or(b.len())
        }
    };
    if r.is_empty() {
        return None;
    }
    // An address is written with hex digits, `.` and `:` (and a zone
    // after `%`): anything else is a placeholder for one, such as the
    // `xxx.xxx.xxx.xxx` of Microsoft's documented examples.
    if matches!(t, Transform::Ip | Transform::IpPort)
        && !s.as_bytes().get(r.clone()).is_some_and(address_like)
    {
        return None;
    }
    Some(r)
}

/// Whether `b` is written as an IP address may be: hex digits, `.` and
/// `:`, up to a `%` that starts a zone.
fn address_like(b: &[u8]) -> bool {
    b.iter()
        .take_while(|&&c| c != b'%')
        .all(|c| c.is_ascii_hexdigit() || matches!(c, b'.' | b':'))
}

/// What [`transform`] needs of a value with no `://` in it (the common
/// case: `api.openai.com:443`, `/v1/chat/completions?x`), found in one pass.
struct UrlMarks {
    /// The end of the host: the last `:` before the first `/`, `?` or
    /// `#`, else that first one, else the end.
    host_end: usize,
    /// The end of the path: the first `?` or `#`, else the end.
    path_end: usize,
}

/// [`UrlMarks`] of a value of up to 256 bytes without `://` and not
/// starting with `[` (an IPv6 host); `None` otherwise, and the general
/// reading decides. Only a host's end needs the `/`s: without `host`,
/// `host_end` is not computed (a path is full of `/`). Eight bytes are
/// tested at once for the four bytes that matter; most words of a host or
/// a path have none of them.
fn url_marks(b: &[u8], host: bool) -> Option<UrlMarks> {
    if b.len() > 256 || b.first() == Some(&b'[') {
        return None;
    }
    let has = |w: u64, c: u8| word_has(w, c);
    let mut first_sep = None;
    let mut last_colon = None;
    let mut path_end = None;
    let mut at = 0;
    while at < b.len() {
        let word = b
            .get(at..at + 8)
            .and_then(|w| <[u8; 8]>::try_from(w).ok())
            .map(u64::from_le_bytes);
        if let Some(w) = word
            && has(w, b':') | (if host { has(w, b'/') } else { 0 }) | has(w, b'?') | has(w, b'#')
                == 0
        {
            at += 8;
            continue;
        }
        for (i, &c) in b.iter().enumerate().skip(at).take(8) {
            match c {
                b':' => {
                    if b.get(i + 1..i + 3) == Some(b"//") {
                        return None;
                    }
                    if first_sep.is_none() {
                        last_colon = Some(i);
                    }
                }
                b'/' => {
                    first_sep.get_or_insert(i);
                }
                b'?' | b'#' => {
                    first_sep.get_or_insert(i);
                    path_end.get_or_insert(i);
                }
                _ => {}
            }
        }
        at += 8;
    }
    let first_sep = first_sep.unwrap_or(b.len());
    Some(UrlMarks {
        host_end: last_colon.unwrap_or(first_sep),
        path_end: path_end.unwrap_or(b.len()),
    })
}

/// The first byte at or after `from` in `b` equal to `x` or `y`. Log
/// fields, keys and values are mostly short, so this is written for
/// them: 16 bytes at a time with one SSE2 compare ([`json_index::pair_mask`]),
/// and the last few bytes by one more compare of the line's last 16 bytes
/// (shifted past the ones already seen), with no set-up to speak of. It
/// replaced four 8-byte [`word_has`] steps and then `memchr2`, whose vector
/// search costs more to set up than a short field takes to scan.
#[inline(always)]
pub(crate) fn find_either(b: &[u8], from: usize, x: u8, y: u8) -> Option<usize> {
    find_masked(b, from, |block| json_index::pair_mask(block, x, y))
}

/// The first byte at or after `from` in `b` flagged by `mask` (bit `i`
/// of `mask(block)` for `block[i]`), 16 bytes at a time: the search
/// behind [`find_either`].
#[inline(always)]
fn find_masked(b: &[u8], from: usize, mask: impl Fn(&[u8; 16]) -> u32) -> Option<usize> {
    let mut at = from;
    while let Some(block) = b
        .get(at..at + 16)
        .and_then(|w| <&[u8; 16]>::try_from(w).ok())
    {
        let hit = mask(block);
        if hit != 0 {
            return Some(at + hit.trailing_zeros() as usize);
        }
        at += 16;
    }
    if at >= b.len() {
        return None;
    }
    // Fewer than 16 bytes left: the last 16 bytes of `b`, when it has
    // them, else a zero-padded copy of what is left.
    let hit = match b.len().checked_sub(16) {
        Some(last) => <&[u8; 16]>::try_from(b.get(last..)?)
            .ok()
            .map_or(0, |block| mask(block) >> (at - last)),
        None => {
            let mut block = [0u8; 16];
            let tail = b.get(at..)?;
            block.get_mut(..tail.len())?.copy_from_slice(tail);
            mask(&block) & ((1u32 << tail.len()) - 1)
        }
    };
    (hit != 0).then(|| at + hit.trailing_zeros() as usize)
}

/// Whether `b` has an ASCII capital letter, eight bytes at a time (a
/// byte of 0x80 or more is never one).
pub fn has_ascii_upper(b: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let word = |i: usize| {
        b.get(i..i + 8)
            .and_then(|w| <[u8; 8]>::try_from(w).ok())
            .map(u64::from_le_bytes)
    };
    let upper = |w: u64| {
        // With the high bits cleared no byte carries into the next: a
        // byte is at least `A` when adding 0x3f sets its high bit, and
        // at most `Z` when adding 0x25 does not.
        let low = w & !HIGH;
        low.wrapping_add(0x3f * ONES) & !low.wrapping_add(0x25 * ONES) & !w & HIGH != 0
    };
    if b.len() < 8 {
        return b.iter().any(u8::is_ascii_uppercase);
    }
    let mut i = 0;
    while let Some(w) = word(i) {
        if upper(w) {
            return true;
        }
        i += 8;
    }
    // The last eight bytes (some already seen) for the tail.
    word(b.len() - 8).is_some_and(upper)
}

/// The bytes of `word` equal to `c`, each flagged by its high bit: the
/// lowest flag is exact, higher ones may be false (a borrow can run on
/// from a match), so a caller either only asks whether there is one or
/// takes the lowest.
#[inline]
pub(crate) fn word_has(word: u64, c: u8) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let x = word ^ (ONES * u64::from(c));
    x.wrapping_sub(ONES) & !x & HIGH
}

/// The length of the scheme of an absolute URL (`https` in
/// `https://h/p`): letters, digits, `+` `-` `.` from a letter at the
/// start, followed by `://`. `None` for anything else, among them a path
/// whose query holds a URL (`/r?to=https://x`).
fn scheme_len(b: &[u8]) -> Option<usize> {
    if !b.first()?.is_ascii_alphabetic() {
        return None;
    }
    let n = b
        .iter()
        .position(|&c| !(c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.')))?;
    (b.get(n..n + 3) == Some(b"://")).then_some(n)
}

/// Where the authority (`host:port`) of a URL that starts at `from`
/// ends: at its first `/` `?` `#`, else at `to`.
fn authority_end(b: &[u8], from: usize, to: usize) -> usize {
    find_masked(b, from, |block| {
        json_index::pair_mask(block, b'/', b'?') | json_index::pair_mask(block, b'#', b'#')
    })
    .map_or(to, |i| i.min(to))
}

/// Where the host of the authority `b[from..to]` ends: after its `]`
/// when it is a bracketed IPv6 address, else at its last `:` (the port),
/// else at `to`.
fn host_end(b: &[u8], from: usize, to: usize) -> usize {
    let Some(authority) = b.get(from..to) else {
        return to;
    };
    if authority.first() == Some(&b'[') {
        return memchr::memchr(b']', authority).map_or(to, |i| from + i + 1);
    }
    authority
        .iter()
        .rposition(|&c| c == b':')
        .map_or(to, |i| from + i)
}

/// What the vocabulary reads of an HTTP request line
/// `METHOD TARGET VERSION` (the `request` field of ALB and nginx logs):
/// spans in the line, `None` when empty or `-` (ALB writes `- - -` for a
/// request it could not read).
#[derive(Debug, Default, Clone, PartialEq)]
struct RequestParts {
    method: Option<Range<usize>>,
    /// Only for an absolute-form target (`https://host:443/p`); a
    /// request whose target is a path has no host here (ALB then has
    /// `domain_name`, the TLS SNI).
    host: Option<Range<usize>>,
    /// The target up to its query or fragment, after the authority of an
    /// absolute-form target.
    path: Option<Range<usize>>,
}

impl RequestParts {
    /// The part a `Req*` transform asks for (`None` for other transforms).
    fn get(&self, t: Transform) -> Option<Range<usize>> {
        match t {
            Transform::ReqMethod => self.method.clone(),
            Transform::ReqHost => self.host.clone(),
            Transform::ReqPath => self.path.clone(),
            _ => None,
        }
    }
}

/// Reads a request line once for all three [`RequestParts`]: the method
/// to the first space, the target to the next; an absolute-form target's
/// authority to its first `/` `?` `#` and its host without the port; the
/// path on to the first `?` `#` of the target. A CONNECT's target is
/// only an authority: a host, no path.
fn request_parts(s: &str) -> RequestParts {
    let b = s.as_bytes();
    let part = |r: Range<usize>| match b.get(r.clone()) {
        Some(v) if !v.is_empty() && v != b"-" => Some(r),
        _ => None,
    };
    let method_end = find_either(b, 0, b' ', b' ').unwrap_or(b.len());
    // A method is a token of letters (`GET`, `PROPFIND`): anything else
    // (the bytes of a TLS handshake sent to an HTTP port, which nginx logs
    // as `\x16\x03\x01…`) is no request line, and gives nothing.
    // (Its first byte decides: a letter, or ALB's `-` for none.)
    if !b
        .first()
        .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'-')
    {
        return RequestParts::default();
    }
    let mut parts = RequestParts {
        method: part(0..method_end),
        ..RequestParts::default()
    };
    let start = method_end + 1;
    let Some(rest) = b.get(start..) else {
        return parts;
    };
    // The target runs to the space before the version: a target with a
    // space in it (which ALB logs as it came) keeps it. Without a
    // version, to the next space.
    let version_at = |i: usize| b.get(i) == Some(&b' ') && b.get(i + 1..i + 6) == Some(b"HTTP/");
    let end = match b.len().checked_sub(9) {
        // `HTTP/1.1`, `HTTP/2.0`: the common case, at a fixed place.
        Some(i) if i >= start && version_at(i) => i,
        _ => match memchr::memrchr(b' ', rest) {
            Some(i) if version_at(start + i) => start + i,
            _ => find_either(b, start, b' ', b' ').unwrap_or(b.len()),
        },
    };
    if b.get(..method_end) == Some(b"CONNECT") {
        // CONNECT's target is the authority-form `host:port` (RFC 9112
        // 3.2.3), as forward proxies log HTTPS: a host, and no path.
        parts.host = part(start..host_end(b, start, end));
        return parts;
    }
    let path_start = match scheme_len(rest) {
        Some(n) => {
            let authority = start + n + 3;
            let authority_end = authority_end(b, authority, end);
            parts.host = part(authority..host_end(b, authority, authority_end));
            authority_end
        }
        None => start,
    };
    let path_end = find_either(b, path_start, b'?', b'#').map_or(end, |i| i.min(end));
    parts.path = part(path_start..path_end);
    parts
}

/// `s` with its `%XX` escapes decoded (CloudFront URL-encodes
/// `cs-uri-stem`), when it has any and the result is UTF-8.
pub fn percent_decoded(s: &str) -> Option<String> {
    decode_escapes(s, b'%', 1)
}

/// `s` with its `\xHH` escapes decoded (nginx writes `"` as `\x22` and
/// other bytes as `\xHH`), when it has any and the result is UTF-8.
pub fn hex_decoded(s: &str) -> Option<String> {
    decode_escapes(s, b'\\', 2)
}

/// Decodes the escapes of `s` that start with `lead`, then `skip - 1`
/// fixed bytes (`x` for `\x`), then two hex digits.
fn decode_escapes(s: &str, lead: u8, skip: usize) -> Option<String> {
    let b = s.as_bytes();
    memchr::memchr(lead, b)?;
    let hex = |c: u8| (c as char).to_digit(16);
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    let mut changed = false;
    while let Some(&c) = b.get(i) {
        let escape = c == lead
            && (skip == 1 || b.get(i + 1) == Some(&b'x'))
            && b.get(i + skip).copied().and_then(hex).is_some()
            && b.get(i + skip + 1).copied().and_then(hex).is_some();
        if escape {
            let hi = b.get(i + skip).copied().and_then(hex).unwrap_or(0);
            let lo = b.get(i + skip + 1).copied().and_then(hex).unwrap_or(0);
            out.push((hi * 16 + lo) as u8);
            i += skip + 2;
            changed = true;
        } else {
            out.push(c);
            i += 1;
        }
    }
    if !changed {
        return None;
    }
    String::from_utf8(out).ok()
}

/// Replaces the string value of slot `slot` by what `decode` makes of
/// it, when it makes something.
pub fn decode_slot(out: &mut [Option<Slot<'_>>], slot: usize, decode: fn(&str) -> Option<String>) {
    if let Some(Some(Slot {
        val: FieldVal::Str(v),
        ..
    })) = out.get_mut(slot)
        && let Some(d) = decode(v)
    {
        *v = Cow::Owned(d);
    }
}

/// Sets slot `i` to a string sub-value of `line` at `span`, after a
/// transform; `-` and empty values are absent (the log formats' "none").
pub fn put_str<'a>(
    out: &mut [Option<Slot<'a>>],
    i: usize,
    line: &'a str,
    span: Range<usize>,
    t: Transform,
) {
    let Some(text) = line.get(span.clone()) else {
        return;
    };
    if text.is_empty() || text == "-" {
        return;
    }
    if let Some(r) = transform(t, text) {
        put_span(out, i, line, span.start + r.start..span.start + r.end, 0);
    }
}

/// Sets slot `i` to `line[span]`, a string from a source of rank `rank`
/// (whether the slot is free for it is the caller's to check).
fn put_span<'a>(
    out: &mut [Option<Slot<'a>>],
    i: usize,
    line: &'a str,
    span: Range<usize>,
    rank: u8,
) {
    if let (Some(v), Some(slot)) = (line.get(span.clone()), out.get_mut(i)) {
        *slot = Some(Slot {
            val: FieldVal::Str(Cow::Borrowed(v)),
            span: Some(span),
            rank,
        });
    }
}

/// Slot `slot` of `out`, unless a source of rank `rank` or better (a
/// lower one) has filled it already.
#[inline]
pub(crate) fn vacant<'o, 'a>(
    out: &'o mut [Option<Slot<'a>>],
    slot: usize,
    rank: u8,
) -> Option<&'o mut Option<Slot<'a>>> {
    out.get_mut(slot)
        .filter(|o| o.as_ref().is_none_or(|s| s.rank > rank))
}

/// A column's part in filling a slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Source {
    pub slot: usize,
    pub transform: Transform,
    /// The column's place among the slot's candidate columns (0 is the
    /// first choice): a later one fills the slot only where the earlier
    /// ones give nothing (ALB's `domain_name` where the request line has
    /// no host).
    pub rank: u8,
}

/// Which columns of a text format fill which slots.
#[derive(Debug, Clone, Default)]
pub struct ColumnPlan {
    /// For each column, the slots it fills and how.
    pub by_column: Vec<Vec<Source>>,
    /// One past the last column any slot reads (columns after it are not
    /// looked at).
    pub needed: usize,
    /// One past the last column that is some slot's first choice: past
    /// it, only fallbacks are left, worth reading only for a slot still
    /// empty (see [`ColumnPlan::wants`]).
    first_choices: usize,
    /// The slots that columns from `first_choices` on fill as fallbacks.
    fallback_slots: Vec<usize>,
    /// Bit `i` set when column `i` (of the first 64) fills a slot, so that
    /// a parser spends nothing on the columns it only steps over.
    fills: u64,
    /// The columns' names, as planned.
    names: Vec<String>,
}

impl ColumnPlan {
    /// Plans `slots` over a format's `columns` (own names, normalised).
    /// A slot's candidate columns, in order of preference: those of
    /// `overrides` (`--field NAME=COLUMN`), then the ones `vocab` maps the
    /// vocabulary field to, then the column of the slot's own name. Each
    /// that the format has fills the slot where the ones before it give
    /// nothing (absent, `-`, or nothing left after the transform).
    pub fn new(
        slots: &[FieldPath],
        columns: &[String],
        vocab: &[(&str, &str, Transform)],
        overrides: &[(String, String)],
    ) -> ColumnPlan {
        let mut by_column: Vec<Vec<Source>> = vec![Vec::new(); columns.len()];
        // A column of the name as written, else one whose name differs
        // only in ASCII case (`Timestamp`, `Client_IP`).
        let col = |name: &str| {
            let name = normalize_name(name);
            columns
                .iter()
                .position(|c| *c == name)
                .or_else(|| columns.iter().position(|c| c.eq_ignore_ascii_case(&name)))
        };
        for (slot, path) in slots.iter().enumerate() {
            let Some(name) = single(path) else { continue };
            let default_t = vocab_transform(name);
            let candidates = overrides
                .iter()
                .filter(|(n, _)| n == name)
                .map(|(_, c)| (c.as_str(), default_t))
                .chain(
                    vocab
                        .iter()
                        .filter(|(v, _, _)| *v == name)
                        .map(|(_, c, t)| (*c, *t)),
                )
                .chain(std::iter::once((name, default_t)));
            let mut taken: Vec<usize> = Vec::new();
            for (i, transform) in candidates.filter_map(|(c, t)| Some((col(c)?, t))) {
                if taken.contains(&i) {
                    continue;
                }
                let rank = u8::try_from(taken.len()).unwrap_or(u8::MAX);
                taken.push(i);
                if let Some(list) = by_column.get_mut(i) {
                    list.push(Source {
                        slot,
                        transform,
                        rank,
                    });
                }
            }
        }
        let needed = by_column
            .iter()
            .rposition(|l| !l.is_empty())
            .map_or(0, |i| i + 1);
        let first_choices = by_column
            .iter()
            .rposition(|l| l.iter().any(|s| s.rank == 0))
            .map_or(0, |i| i + 1);
        let mut fallback_slots: Vec<usize> = by_column
            .iter()
            .skip(first_choices)
            .flatten()
            .map(|s| s.slot)
            .collect();
        fallback_slots.sort_unstable();
        fallback_slots.dedup();
        let fills = by_column
            .iter()
            .take(64)
            .enumerate()
            .filter(|(_, l)| !l.is_empty())
            .fold(0, |m, (i, _)| m | 1 << i);
        ColumnPlan {
            by_column,
            needed,
            first_choices,
            fallback_slots,
            fills,
            names: columns.to_vec(),
        }
    }

    /// The column that fills `slot` as its candidate `rank`.
    pub fn source_column(&self, slot: usize, rank: u8) -> Option<usize> {
        self.by_column
            .iter()
            .position(|l| l.iter().any(|s| s.slot == slot && s.rank == rank))
    }

    /// The name of the column that fills `slot` as its candidate `rank`.
    pub fn source_name(&self, slot: usize, rank: u8) -> Option<String> {
        self.names.get(self.source_column(slot, rank)?).cloned()
    }

    /// Whether column `col` (and those after it) can still fill anything:
    /// it is before `needed`, and either a first choice or a fallback for a
    /// slot the line has not filled. ALB's `domain_name`, the host when
    /// the request line has none, is then not even cut out of a line whose
    /// request gave the host.
    #[inline]
    pub fn wants(&self, col: usize, out: &[Option<Slot<'_>>]) -> bool {
        col < self.first_choices
            || (col < self.needed
                && self
                    .fallback_slots
                    .iter()
                    .any(|&s| out.get(s).is_some_and(Option::is_none)))
    }

    /// Fills the slots of column `i` from `line[span]`.
    #[inline(always)]
    pub fn put<'a>(
        &self,
        out: &mut [Option<Slot<'a>>],
        i: usize,
        line: &'a str,
        span: Range<usize>,
    ) {
        if i >= 64 || self.fills >> i & 1 == 1 {
            self.put_slots(out, i, line, span);
        }
    }

    /// [`ColumnPlan::put`] for a column that fills some slot, out of line.
    fn put_slots<'a>(
        &self,
        out: &mut [Option<Slot<'a>>],
        i: usize,
        line: &'a str,
        span: Range<usize>,
    ) {
        let Some(list) = self.by_column.get(i).filter(|l| !l.is_empty()) else {
            return;
        };
        let Some(text) = line.get(span.clone()) else {
            return;
        };
        if text.is_empty() || text == "-" {
            return;
        }
        // A request line is read once for all the slots it fills (method,
        // host and path).
        let mut request = None;
        for source in list {
            // (A slot has one first choice, which fills it whatever is
            // there.)
            if source.rank > 0 && vacant(out, source.slot, source.rank).is_none() {
                continue;
            }
            let t = source.transform;
            let r = match t {
                Transform::ReqMethod | Transform::ReqHost | Transform::ReqPath => {
                    request.get_or_insert_with(|| request_parts(text)).get(t)
                }
                _ => transform(t, text),
            };
            if let Some(r) = r {
                let at = span.start + r.start..span.start + r.end;
                put_span(out, source.slot, line, at, source.rank);
            }
        }
    }

    /// Fills the slots of column `i` with an owned value (an unescaped
    /// quoted field).
    pub fn put_owned<'a>(
        &self,
        out: &mut [Option<Slot<'a>>],
        i: usize,
        value: &str,
        span: Range<usize>,
    ) {
        if value.is_empty() || value == "-" {
            return;
        }
        for source in self.by_column.get(i).into_iter().flatten() {
            if let Some(r) = transform(source.transform, value)
                && let Some(v) = value.get(r)
                && let Some(o) = vacant(out, source.slot, source.rank)
            {
                *o = Some(Slot {
                    val: FieldVal::Str(Cow::Owned(v.to_string())),
                    span: Some(span.clone()),
                    rank: source.rank,
                });
            }
        }
    }
}

/// The transform a vocabulary field gets when it is read from a column of
/// its own name or an override.
pub fn vocab_transform(name: &str) -> Transform {
    match name {
        "host" => Transform::Host,
        "path" => Transform::Path,
        "client_ip" | "target_ip" => Transform::Ip,
        _ => Transform::None,
    }
}

/// The shared vocabulary's log fields, in slot-plan order of preference.
pub const VOCABULARY: &[&str] = &[
    "timestamp",
    "host",
    "path",
    "method",
    "status",
    "client_ip",
    "target_ip",
    "bytes_in",
    "bytes_out",
    "cloud",
    "region",
];

/// Normalises a format's own field name so that rules can write it:
/// characters other than ASCII letters, digits and `_` become `_`.
pub fn normalize_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Whether a rule's field path names this slot: its single segment, when
/// the path has one.
pub fn single(path: &FieldPath) -> Option<&str> {
    match path.0.as_slice() {
        [one] => Some(one.as_str()),
        _ => None,
    }
}

/// Detects a log's format from its first bytes (after decompression).
pub fn detect(head: &[u8]) -> Option<LogFormat> {
    let text = String::from_utf8_lossy(head);
    let first = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim_start_matches('\u{feff}');
    let trimmed = first.trim_start();
    if trimmed.starts_with('{') {
        if let Some(format) = detect_json(trimmed) {
            return Some(format);
        }
        let is_frontdoor = trimmed.contains("\"FrontDoorAccessLog\"")
            || trimmed.contains("\"FrontdoorAccessLog\"")
            || (trimmed.contains("\"properties\"")
                && trimmed.contains("\"trackingReference\"")
                && trimmed.contains("\"requestUri\""));
        return Some(if is_frontdoor {
            LogFormat::AzureFrontdoor
        } else {
            LogFormat::Jsonl
        });
    }
    if first.starts_with("#Version:") || first.starts_with("#Fields:") {
        return Some(LogFormat::Cloudfront);
    }
    let mut words = first.split(' ');
    let kind = words.next().unwrap_or("");
    let time = words.next().unwrap_or("");
    if ["http", "https", "h2", "grpcs", "ws", "wss"].contains(&kind)
        && parse_timestamp(time).is_some()
    {
        return Some(LogFormat::Alb);
    }
    if nginx::looks_like(first) {
        return Some(LogFormat::Nginx);
    }
    // CloudFront without its `#` header lines (stripped, or standard
    // logging v2 set to plain output): a date, then a time, tab-separated.
    let mut cells = first.split('\t');
    if let (Some(date), Some(time)) = (cells.next(), cells.next())
        && crate::date::Date::parse(date).is_ok()
        && parse_timestamp(&format!("{date}T{time}Z")).is_some()
    {
        return Some(LogFormat::Cloudfront);
    }
    // A header line of CloudFront's field names (a CSV of a standard
    // logging v2 export).
    if cloudfront::names_cloudfront_fields(first) {
        return Some(LogFormat::Cloudfront);
    }
    if first.contains(',') || first.contains('\t') || first.contains(';') {
        return Some(LogFormat::Csv);
    }
    None
}

/// The format of a JSON record by what it says it is: an Azure
/// diagnostic record by its `category` (or `operationName`), an API
/// Gateway entry by its keys. `None`: a JSON line of no known vendor (or
/// not JSON).
fn detect_json(line: &str) -> Option<LogFormat> {
    let value: serde_json::Value = serde_json::from_str(line).ok()?;
    let record = value.as_object()?;
    let text = |k: &str| {
        record
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(k))
            .and_then(|(_, v)| v.as_str())
            .map(str::to_ascii_lowercase)
            .unwrap_or_default()
    };
    let (category, operation) = (text("category"), text("operationName"));
    if category.starts_with("frontdoor")
        || operation.starts_with("microsoft.cdn/profiles")
        || operation.starts_with("microsoft.network/frontdoor")
    {
        return Some(LogFormat::AzureFrontdoor);
    }
    if category.starts_with("applicationgateway") || operation.starts_with("applicationgateway") {
        return Some(LogFormat::AzureAppGateway);
    }
    if ["cs-uri-stem", "x-edge-location", "x-edge-request-id"]
        .iter()
        .any(|f| record.contains_key(*f))
    {
        return Some(LogFormat::Cloudfront);
    }
    apigateway::looks_like(record).then_some(LogFormat::AwsApiGateway)
}

/// Milliseconds since 1970-01-01T00:00:00Z.
pub type Millis = i64;

const MS_PER_DAY: i64 = 86_400_000;

/// The UTC calendar day of a timestamp.
pub fn day_of(ms: Millis) -> crate::date::Date {
    crate::date::Date::from_days(ms.div_euclid(MS_PER_DAY) as i32)
}

/// `2026-03-01T12:00:00.123Z`.
pub fn format_timestamp(ms: Millis) -> String {
    let day = day_of(ms);
    let rem = ms.rem_euclid(MS_PER_DAY);
    let (h, m, s, milli) = (
        rem / 3_600_000,
        rem / 60_000 % 60,
        rem / 1000 % 60,
        rem % 1000,
    );
    if milli == 0 {
        format!("{day}T{h:02}:{m:02}:{s:02}Z")
    } else {
        format!("{day}T{h:02}:{m:02}:{s:02}.{milli:03}Z")
    }
}

/// [`format_timestamp`] of `ms`, read from `raw`, with all the fractional
/// digits `raw` has (`2026-03-02T09:15:17.8383427Z` stays so, where
/// milliseconds would cut it to `.838`). Offsets are whole minutes, so
/// the fraction of a second is the same in UTC.
pub fn format_timestamp_precise(ms: Millis, raw: &str) -> String {
    match second_fraction(raw.trim()) {
        Some(frac) if frac.len() > 3 => {
            let whole = format_timestamp(ms - ms.rem_euclid(1000));
            let head = whole.strip_suffix('Z').unwrap_or(&whole);
            format!("{head}.{frac}Z")
        }
        _ => format_timestamp(ms),
    }
}

/// The digits of the fraction of a second in a timestamp: after the
/// seconds of `HH:MM:SS.fff` (ISO 8601), or after the point of epoch
/// seconds (`1772359202.345678`).
fn second_fraction(raw: &str) -> Option<&str> {
    let b = raw.as_bytes();
    let digits_from = |at: usize| {
        let n = b
            .get(at..)?
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        (n > 0).then(|| raw.get(at..at + n)).flatten()
    };
    if let Some(dot) = raw.find('.')
        && b.iter().take(dot).all(u8::is_ascii_digit)
        && (1..=10).contains(&dot)
    {
        return digits_from(dot + 1).filter(|f| f.len() + dot + 1 == raw.len());
    }
    let at = (8..b.len()).find(|&i| {
        matches!(b.get(i), Some(b'.' | b','))
            && b.get(i - 3) == Some(&b':')
            && b.get(i - 2).is_some_and(u8::is_ascii_digit)
            && b.get(i - 1).is_some_and(u8::is_ascii_digit)
    })?;
    digits_from(at + 1)
}

/// The number written by the ASCII digits `b[range]` (all digits, at
/// least one), in one pass.
#[inline]
fn digits(b: &[u8], range: Range<usize>) -> Option<i64> {
    let part = b.get(range)?;
    if part.is_empty() {
        return None;
    }
    let mut n = 0i64;
    for d in part {
        if !d.is_ascii_digit() {
            return None;
        }
        n = n * 10 + i64::from(d - b'0');
    }
    Some(n)
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Parses a log timestamp to UTC milliseconds. Accepted: ISO 8601 / RFC
/// 3339 (`2026-03-01T12:00:00.5Z`, `…+01:00`, `…+0100`, a space for `T`;
/// no offset means UTC), a bare date, the Common Log Format
/// (`01/Mar/2026:12:00:00 +0000`), and epoch numbers (seconds, or
/// milliseconds, microseconds, nanoseconds by magnitude).
pub fn parse_timestamp(text: &str) -> Option<Millis> {
    // Nearly every timestamp starts and ends with a digit or a letter:
    // then there is nothing to trim, and `trim`'s look at both ends (for
    // any Unicode space) is skipped.
    let b = text.as_bytes();
    let plain = |c: Option<&u8>| c.is_some_and(u8::is_ascii_alphanumeric);
    let t = if plain(b.first()) && plain(b.last()) {
        text
    } else {
        text.trim()
    };
    let b = t.as_bytes();
    if b.is_empty() {
        return None;
    }
    if let Some(ms) = rfc3339_utc(b) {
        return Some(ms);
    }
    if b.iter().all(|c| c.is_ascii_digit() || *c == b'.') && b.first() != Some(&b'.') {
        let n: f64 = t.parse().ok()?;
        let ms = if n < 1e11 {
            n * 1000.0
        } else if n < 1e14 {
            n
        } else if n < 1e17 {
            n / 1000.0
        } else {
            n / 1_000_000.0
        };
        return if ms.is_finite() {
            Some(ms as i64)
        } else {
            None
        };
    }
    // Common Log Format: 01/Mar/2026:12:00:00 +0000
    if b.get(2) == Some(&b'/') && b.get(6) == Some(&b'/') {
        let day = digits(b, 0..2)?;
        let mon = t.get(3..6)?;
        let month = MONTHS.iter().position(|m| *m == mon)? as u32 + 1;
        let year = digits(b, 7..11)?;
        if b.get(11) != Some(&b':') {
            return None;
        }
        let (h, mi, s) = hms(b, 12)?;
        let rest = t.get(20..)?.trim();
        let offset = parse_offset(rest.as_bytes())?;
        return assemble(year, month, day, h, mi, s, 0, offset);
    }
    // ISO 8601
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    let year = digits(b, 0..4)?;
    let month = digits(b, 5..7)? as u32;
    let day = digits(b, 8..10)?;
    if b.len() == 10 {
        return assemble(year, month, day, 0, 0, 0, 0, 0);
    }
    if !matches!(b.get(10), Some(b'T' | b't' | b' ' | b'\t')) {
        return None;
    }
    let (h, mi, s) = hms(b, 11)?;
    let mut i = 19;
    let mut milli = 0i64;
    if b.get(i) == Some(&b'.') || b.get(i) == Some(&b',') {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return None;
        }
        let frac = b.get(start..i)?;
        let mut scale = 100;
        for d in frac.iter().take(3) {
            milli += i64::from(d - b'0') * scale;
            scale /= 10;
        }
    }
    let offset = parse_offset(b.get(i..)?)?;
    assemble(year, month, day, h, mi, s, milli, offset)
}

/// The commonest timestamp, `2026-03-01T12:00:00Z` with or without a
/// fraction, read at fixed offsets. `None` for anything else (which the
/// general reading then tries); where it answers, it answers as the
/// general reading does.
fn rfc3339_utc(b: &[u8]) -> Option<Millis> {
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') || b.get(10) != Some(&b'T') {
        return None;
    }
    let (h, mi, s) = hms(b, 11)?;
    let (milli, zone) = match b.get(19)? {
        b'Z' => (0, 19),
        b'.' => {
            let digits = b
                .get(20..)?
                .iter()
                .take_while(|c| c.is_ascii_digit())
                .count();
            if digits == 0 {
                return None;
            }
            let mut milli = 0;
            for (k, scale) in [100, 10, 1].into_iter().enumerate().take(digits) {
                milli += i64::from(b.get(20 + k)? - b'0') * scale;
            }
            (milli, 20 + digits)
        }
        _ => return None,
    };
    if zone + 1 != b.len() || b.get(zone) != Some(&b'Z') {
        return None;
    }
    assemble(
        digits(b, 0..4)?,
        u32::try_from(digits(b, 5..7)?).ok()?,
        digits(b, 8..10)?,
        h,
        mi,
        s,
        milli,
        0,
    )
}

#[inline]
fn hms(b: &[u8], at: usize) -> Option<(i64, i64, i64)> {
    if b.get(at + 2) != Some(&b':') || b.get(at + 5) != Some(&b':') {
        return None;
    }
    let h = digits(b, at..at + 2)?;
    let m = digits(b, at + 3..at + 5)?;
    let s = digits(b, at + 6..at + 8)?;
    if h > 23 || m > 59 || s > 60 {
        return None;
    }
    Some((h, m, s))
}

/// `Z`, `+01:00`, `-0500`, or nothing (UTC); seconds east of UTC.
fn parse_offset(b: &[u8]) -> Option<i64> {
    match b {
        [] | [b'Z'] | [b'z'] => Some(0),
        [sign @ (b'+' | b'-'), rest @ ..] => {
            let (h, m) = match rest {
                [h1, h2, b':', m1, m2] | [h1, h2, m1, m2] => {
                    (digits(&[*h1, *h2], 0..2)?, digits(&[*m1, *m2], 0..2)?)
                }
                [h1, h2] => (digits(&[*h1, *h2], 0..2)?, 0),
                _ => return None,
            };
            if h > 23 || m > 59 {
                return None;
            }
            let secs = h * 3600 + m * 60;
            Some(if *sign == b'-' { -secs } else { secs })
        }
        _ => None,
    }
}

#[allow(clippy::too_many_arguments)]
fn assemble(
    year: i64,
    month: u32,
    day: i64,
    h: i64,
    mi: i64,
    s: i64,
    milli: i64,
    offset_secs: i64,
) -> Option<Millis> {
    let date =
        crate::date::Date::from_ymd(i32::try_from(year).ok()?, month, u32::try_from(day).ok()?)
            .ok()?;
    let secs = i64::from(date.days()) * 86_400 + h * 3600 + mi * 60 + s - offset_secs;
    Some(secs * 1000 + milli)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> String {
        parse_timestamp(s).map(format_timestamp).unwrap_or_default()
    }

    /// The `n`th value built from the pieces that matter to a host or a
    /// path (`n` read in base 11, one piece per digit): every short mix
    /// of separators, brackets, ports and plain bytes.
    pub(crate) fn url_like(n: u32) -> String {
        let pieces = ["a", ":", "/", "?", "#", "//", "://", "[", "]", "443", "h.x"];
        let mut text = String::new();
        let mut x = n;
        loop {
            text.push_str(pieces.get((x % 11) as usize).copied().unwrap_or("a"));
            x /= 11;
            if x == 0 {
                return text;
            }
        }
    }

    /// A slot's candidate columns fill it in order of preference, whatever
    /// their order in the line: an override first, then the vocabulary's
    /// columns, then the column of the slot's own name; a later one only
    /// where the earlier give nothing.
    #[test]
    fn fallback_columns_fill_only_what_the_first_choice_left_empty() {
        let columns: Vec<String> = ["sni", "request", "host", "edge"]
            .iter()
            .map(|c| c.to_string())
            .collect();
        let vocab = [
            ("host", "request", Transform::ReqHost),
            ("host", "sni", Transform::Host),
        ];
        let slots = [FieldPath(vec!["host".into()])];
        let host = |plan: &ColumnPlan, cells: [&'static str; 4]| {
            let mut out = vec![None; 1];
            let mut at = 0;
            let line: String = cells.join(" ");
            for (col, cell) in cells.iter().enumerate() {
                plan.put(&mut out, col, &line, at..at + cell.len());
                at += cell.len() + 1;
            }
            out[0].as_ref().map(|s| s.val.to_string())
        };
        let plan = ColumnPlan::new(&slots, &columns, &vocab, &[]);
        // The first choice (`request`) gives nothing: the fallbacks, in
        // order, before it in the line or after.
        assert_eq!(
            host(&plan, ["sni.example", "-", "own.example", "e"]).as_deref(),
            Some("sni.example")
        );
        assert_eq!(
            host(&plan, ["-", "-", "own.example", "e"]).as_deref(),
            Some("own.example")
        );
        assert_eq!(host(&plan, ["-", "-", "-", "e"]), None);
        // The first choice replaces a fallback read before it.
        let mut out = vec![None; 1];
        let line = "sni.example GET https://a.example/x HTTP/1.1";
        plan.put(&mut out, 0, line, 0..11);
        plan.put(&mut out, 1, line, 12..line.len());
        assert_eq!(
            out[0].as_ref().map(|s| s.val.to_string()).as_deref(),
            Some("a.example")
        );
        // An override comes first, the defaults after it.
        let plan = ColumnPlan::new(&slots, &columns, &vocab, &[("host".into(), "edge".into())]);
        assert_eq!(
            host(&plan, ["sni.example", "-", "own.example", "e.example"]).as_deref(),
            Some("e.example")
        );
        assert_eq!(
            host(&plan, ["sni.example", "-", "own.example", "-"]).as_deref(),
            Some("sni.example")
        );
        // Past the last first choice, a column is read only while a slot
        // it could fill is empty.
        let plan = ColumnPlan::new(
            &slots,
            &["request".to_string(), "x".into(), "sni".into()],
            &vocab,
            &[],
        );
        let mut out = vec![None; 1];
        assert!(plan.wants(0, &out) && plan.wants(2, &out));
        out[0] = Some(Slot::at(FieldVal::Str(Cow::Borrowed("a.example")), 0..9));
        assert!(!plan.wants(1, &out) && !plan.wants(2, &out));
    }

    #[test]
    fn has_ascii_upper_agrees_with_the_byte_test() {
        for n in 0..20_000u32 {
            let text: Vec<u8> = (0..(n % 23))
                .map(|i| {
                    let x = n.wrapping_mul(2_654_435_761) ^ (i * 40_503);
                    [
                        b'@', b'A', b'Z', b'[', b'a', b'z', 0xc1, 0xda, 0x80, b'.', b'-', b'5',
                    ][(x >> 7) as usize % 12]
                })
                .collect();
            assert_eq!(
                has_ascii_upper(&text),
                text.iter().any(u8::is_ascii_uppercase),
                "{text:?}"
            );
        }
    }

    /// The vector search finds what a byte-by-byte search finds, from
    /// every start, in lines shorter than one vector, of a few vectors,
    /// and with the hit in the overlapping last block or not at all.
    #[test]
    fn find_either_agrees_with_a_byte_search() {
        let mut searches = 0;
        for len in 0..70usize {
            for seed in 0..12u32 {
                let line: Vec<u8> = (0..len)
                    .map(|i| {
                        let x = (seed.wrapping_mul(2_654_435_761) ^ (i as u32 * 40_503)) >> 5;
                        // Sparse hits, and none at all for seed 0.
                        match (seed, x % 23) {
                            (0, _) => b'a',
                            (_, 0) => b'"',
                            (_, 1) => b'\\',
                            _ => b'a' + (x % 7) as u8,
                        }
                    })
                    .collect();
                for from in 0..=len + 1 {
                    let naive = (from..len).find(|&i| matches!(line.get(i), Some(b'"' | b'\\')));
                    assert_eq!(
                        find_either(&line, from, b'"', b'\\'),
                        naive,
                        "{:?} from {from}",
                        String::from_utf8_lossy(&line)
                    );
                    searches += 1;
                }
            }
        }
        assert!(searches > 25_000);
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn the_vector_pair_mask_agrees_with_the_byte_one() {
        for seed in 0..5000u32 {
            let block: [u8; 16] = std::array::from_fn(|i| {
                let x = (seed.wrapping_mul(2_654_435_761) ^ (i as u32 * 40_503)) >> 7;
                b" \"a:\xff\x80"[(x % 6) as usize]
            });
            for (x, y) in [(b' ', b' '), (b'"', b'\\'), (b':', 0xff)] {
                assert_eq!(
                    json_index::pair_mask(&block, x, y),
                    json_index::pair_mask_bytes(&block, x, y)
                );
            }
        }
    }

    /// The request line's host and path are those of its target read as a
    /// URL, for absolute and origin-form targets built from the
    /// characters that matter.
    #[test]
    fn the_request_line_reads_its_target_as_the_url_transforms_do() {
        for n in 0..20_000u32 {
            for target in [
                format!("https://{}", url_like(n)),
                format!("/{}", url_like(n)),
            ] {
                let line = format!("GET {target} HTTP/1.1");
                let parts = request_parts(&line);
                let read = |r: Option<Range<usize>>, s: &str| {
                    r.and_then(|r| s.get(r))
                        .filter(|v| *v != "-")
                        .map(str::to_string)
                };
                for (part, t) in [
                    (&parts.host, Transform::Host),
                    (&parts.path, Transform::Path),
                ] {
                    assert_eq!(
                        read(part.clone(), &line),
                        read(transform(t, &target), &target),
                        "{line}"
                    );
                }
                assert_eq!(parts.method, Some(0..3));
            }
        }
    }

    /// The one-pass reading of hosts and paths answers as the general
    /// one, on values built from the characters that matter.
    #[test]
    fn the_one_pass_host_and_path_reading_agrees_with_the_general_one() {
        let mut one_pass = 0;
        for n in 0..20_000u32 {
            let text = url_like(n);
            if url_marks(text.as_bytes(), true).is_some() {
                one_pass += 1;
            }
            for t in [Transform::Host, Transform::Path] {
                assert_eq!(
                    transform_with(t, &text, true),
                    transform_with(t, &text, false),
                    "{t:?} of {text}"
                );
            }
        }
        assert!(one_pass > 5000, "{one_pass}");
    }

    /// The fixed-offset reading answers as the general one on every
    /// shape it might be given, valid or not.
    #[test]
    fn the_fast_timestamp_reading_agrees_with_the_general_one() {
        let mut checked = 0;
        for date in [
            "2026-03-01",
            "2026-02-29",
            "2024-02-29",
            "2026-13-01",
            "2026-04-31",
        ] {
            for time in [
                "12:00:00", "23:59:60", "24:00:00", "00:60:00", "1:00:00", "12:0a:00",
            ] {
                for frac in ["", ".", ".1", ".12", ".123", ".123456789", ".x"] {
                    for zone in ["Z", "z", "", "+01:00", "ZZ", " Z"] {
                        for sep in ["T", "t", " "] {
                            let text = format!("{date}{sep}{time}{frac}{zone}");
                            let b = text.as_bytes();
                            if let Some(fast) = rfc3339_utc(b) {
                                checked += 1;
                                // The general reading, without the fast path.
                                let general = parse_timestamp(&text.replacen('T', "t", 1));
                                assert_eq!(Some(fast), general, "{text}");
                            }
                        }
                    }
                }
            }
        }
        // Two valid dates, two valid times and five fractions, in UTC.
        assert_eq!(checked, 20);
    }

    #[test]
    fn precise_timestamps_keep_every_fractional_digit() {
        let p = |raw: &str| parse_timestamp(raw).map(|ms| format_timestamp_precise(ms, raw));
        assert_eq!(
            p("2026-03-02T09:15:17.8383427Z").as_deref(),
            Some("2026-03-02T09:15:17.8383427Z")
        );
        assert_eq!(
            p("2026-03-02T11:15:17.838342+02:00").as_deref(),
            Some("2026-03-02T09:15:17.838342Z")
        );
        assert_eq!(
            p("2026-03-02T09:15:17.5Z").as_deref(),
            Some("2026-03-02T09:15:17.500Z")
        );
        assert_eq!(
            p("01/Mar/2026:10:00:00 +0000").as_deref(),
            Some("2026-03-01T10:00:00Z")
        );
        assert_eq!(
            p("1772359202.345678").as_deref(),
            Some("2026-03-01T10:00:02.345678Z")
        );
        assert_eq!(
            p("1772359202345").as_deref(),
            Some("2026-03-01T10:00:02.345Z")
        );
    }

    #[test]
    fn timestamps_become_utc() {
        assert_eq!(ts("2026-03-01T12:00:00Z"), "2026-03-01T12:00:00Z");
        // Spaces around a timestamp (a padded CSV cell) are not part of it.
        assert_eq!(ts(" 2026-03-01T12:00:00Z\t"), "2026-03-01T12:00:00Z");
        assert_eq!(ts("\u{a0}1772366400 "), "2026-03-01T12:00:00Z");
        assert_eq!(
            ts("2026-03-01T12:00:00.123456Z"),
            "2026-03-01T12:00:00.123Z"
        );
        assert_eq!(ts("2026-04-27T01:30:00+02:00"), "2026-04-26T23:30:00Z");
        assert_eq!(ts("2026-04-26T23:30:00-0500"), "2026-04-27T04:30:00Z");
        assert_eq!(ts("2026-03-01 12:00:00"), "2026-03-01T12:00:00Z");
        assert_eq!(ts("26/Apr/2026:23:30:00 -0200"), "2026-04-27T01:30:00Z");
        assert_eq!(ts("1772366400"), "2026-03-01T12:00:00Z");
        assert_eq!(ts("1772366400000"), "2026-03-01T12:00:00Z");
        assert_eq!(ts("2026-02-30T00:00:00Z"), "");
        assert_eq!(ts("yesterday"), "");
        assert_eq!(ts("2026-03-01T25:00:00Z"), "");
    }

    #[test]
    fn transforms() {
        let t = |t, s: &'static str| transform(t, s).and_then(|r| s.get(r)).unwrap_or("");
        assert_eq!(t(Transform::Host, "api.openai.com:443"), "api.openai.com");
        assert_eq!(
            t(Transform::Host, "https://api.openai.com:443/v1/x?y"),
            "api.openai.com"
        );
        assert_eq!(
            t(Transform::Path, "https://api.openai.com:443/v1/x?y"),
            "/v1/x"
        );
        assert_eq!(t(Transform::Path, "/v1/x?y=1"), "/v1/x");
        assert_eq!(t(Transform::Ip, "10.0.0.1:443"), "10.0.0.1");
        let req = "GET https://api.openai.com:443/v1/chat/completions?x=1 HTTP/1.1";
        assert_eq!(t(Transform::ReqMethod, req), "GET");
        assert_eq!(t(Transform::ReqHost, req), "api.openai.com");
        assert_eq!(t(Transform::ReqPath, req), "/v1/chat/completions");
        assert_eq!(t(Transform::ReqHost, "GET /v1/x HTTP/1.1"), "");
        assert_eq!(t(Transform::ReqPath, "GET /v1/x HTTP/1.1"), "/v1/x");
        assert_eq!(t(Transform::Ip, "[2001:db8::1]:443"), "2001:db8::1");
        assert_eq!(t(Transform::Ip, "2001:db8::1"), "2001:db8::1");
        // ALB writes an IPv6 client without brackets, its port after the
        // last `:`.
        assert_eq!(
            t(
                Transform::IpPort,
                "2a02:a33c:4538:1:bcf4:5264:e01c:f215:50718"
            ),
            "2a02:a33c:4538:1:bcf4:5264:e01c:f215"
        );
        assert_eq!(t(Transform::IpPort, "192.0.2.13:42013"), "192.0.2.13");
        assert_eq!(t(Transform::Ip, "N/A"), "");
        // Placeholders in documented examples are not addresses.
        assert_eq!(t(Transform::Ip, "xxx.xxx.xxx.xxx"), "");
        assert_eq!(t(Transform::IpPort, "xxx.xxx.xxx.xxx:443"), "");
        assert_eq!(t(Transform::Ip, "fe80::1%eth0"), "fe80::1%eth0");
        assert_eq!(t(Transform::IpPort, "unknown"), "");
        assert_eq!(t(Transform::IpPort, "[2001:db8::1]:443"), "2001:db8::1");
        // A URL in the query is not the target's scheme and host.
        let redirect = "GET /r?to=https://evil.example/x HTTP/1.1";
        assert_eq!(t(Transform::ReqHost, redirect), "");
        assert_eq!(t(Transform::ReqPath, redirect), "/r");
        assert_eq!(t(Transform::Host, "/r?to=https://evil.example/x"), "");
        assert_eq!(t(Transform::Path, "/r?to=https://evil.example/x"), "/r");
        // The authority ends at the first `/` `?` `#`.
        assert_eq!(t(Transform::Path, "https://h?q=/x"), "");
        assert_eq!(t(Transform::ReqPath, "GET https://h?q=/x HTTP/1.1"), "");
        assert_eq!(t(Transform::ReqHost, "GET https://h?q=/x HTTP/1.1"), "h");
        let v6 = "GET http://[2001:db8::1]:8080/v1/x#f HTTP/1.1";
        assert_eq!(t(Transform::ReqHost, v6), "[2001:db8::1]");
        assert_eq!(t(Transform::ReqPath, v6), "/v1/x");
        // ALB's request it could not read; a bare method; an empty target.
        for absent in [Transform::ReqMethod, Transform::ReqHost, Transform::ReqPath] {
            assert_eq!(t(absent, "- - -"), "");
        }
        assert_eq!(t(Transform::ReqMethod, "GET"), "GET");
        assert_eq!(t(Transform::ReqPath, "GET"), "");
        assert_eq!(t(Transform::ReqPath, "GET  HTTP/1.1"), "");
        assert_eq!(t(Transform::ReqPath, "OPTIONS * HTTP/1.1"), "*");
        // A target with a space in it (ALB logs it as it came).
        let spaced = "GET https://api.openai.com:443/v1/my files/x?y HTTP/1.1";
        assert_eq!(t(Transform::ReqPath, spaced), "/v1/my files/x");
        assert_eq!(t(Transform::ReqHost, spaced), "api.openai.com");
        assert_eq!(t(Transform::ReqPath, "GET /a b"), "/a");
        // A binary request line (a TLS handshake on an HTTP port).
        for absent in [Transform::ReqMethod, Transform::ReqHost, Transform::ReqPath] {
            assert_eq!(
                t(
                    absent,
                    "\\x16\\x03\\x01\\x02\\x00\\x01\\x00\\x01\\xFC\\x03\\x03"
                ),
                ""
            );
        }
        assert_eq!(
            percent_decoded("/v1/my%20files/%E2%9C%93").as_deref(),
            Some("/v1/my files/✓")
        );
        assert_eq!(percent_decoded("/v1/x"), None);
        assert_eq!(percent_decoded("/100%"), None);
        assert_eq!(hex_decoded("/a\\x22b\\x22").as_deref(), Some("/a\"b\""));
        let connect = "CONNECT api.openai.com:443 HTTP/1.1";
        assert_eq!(t(Transform::ReqHost, connect), "api.openai.com");
        assert_eq!(t(Transform::ReqPath, connect), "");
        assert_eq!(t(Transform::ReqMethod, connect), "CONNECT");

        assert_eq!(
            t(
                Transform::ArnRegion,
                "arn:aws:elasticloadbalancing:us-east-1:123:targetgroup/x/y"
            ),
            "us-east-1"
        );
    }
}
