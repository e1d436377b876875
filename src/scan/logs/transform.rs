//! How a format's raw field becomes a vocabulary value: the host or path
//! of a URL, the address of `address:port`, the parts of an HTTP request
//! line, the region of an ARN, and `%XX` / `\\xHH` escapes decoded.
//!
//! Every [`Transform`] answers with a sub-span of the value, never a copy,
//! so that a slot can borrow from the line; only escape decoding makes a
//! new string. Hosts and paths with no `://` (the common case) are read in
//! one pass (`url_marks`), which a test checks against the general
//! reading.

use super::bytes::{find_either, find_masked, word_has};
use super::json_index;
use std::ops::Range;

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
                // One `:` (its first is its last): `address:port`.
                match memchr::memchr(b':', b) {
                    Some(i) if memchr::memrchr(b':', b) == Some(i) => 0..i,
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
pub(super) struct RequestParts {
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
    pub(super) fn get(&self, t: Transform) -> Option<Range<usize>> {
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
pub(super) fn request_parts(s: &str) -> RequestParts {
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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

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
