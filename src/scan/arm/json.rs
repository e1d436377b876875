//! JSON with byte spans, as ARM templates are written.
//!
//! Azure's deployment tools accept comments (`//`, `/* */`) and trailing
//! commas in templates and parameter files, and Microsoft's examples use
//! them, so this reader does too; `serde_json` keeps no positions, and the
//! `.tf.json` reader ([`crate::scan::terraform::json_config`]) keeps no
//! values of its literals nor accepts comments. Every value keeps its span,
//! every object member the span of its key, so that a record's fields point
//! at the template's own lines. Nesting is capped at [`MAX_DEPTH`].

use std::ops::Range;

/// Deepest nesting of arrays and objects read.
pub const MAX_DEPTH: usize = 128;

/// A JSON value and where it is.
#[derive(Debug, Clone)]
pub struct Node {
    pub span: Range<usize>,
    pub kind: Kind,
}

/// One object member: its key, the key's span (with quotes), its value.
#[derive(Debug, Clone)]
pub struct Member {
    pub key: String,
    pub key_span: Range<usize>,
    pub value: Node,
}

#[derive(Debug, Clone)]
pub enum Kind {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    Array(Vec<Node>),
    Object(Vec<Member>),
}

impl Node {
    /// The member `key` of an object, compared without case (ARM's
    /// property names are case-insensitive).
    pub fn get(&self, key: &str) -> Option<&Member> {
        match &self.kind {
            Kind::Object(m) => m.iter().find(|m| m.key.eq_ignore_ascii_case(key)),
            _ => None,
        }
    }

    pub fn members(&self) -> &[Member] {
        match &self.kind {
            Kind::Object(m) => m,
            _ => &[],
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            Kind::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The span of a member, key to value.
    pub fn member_span(m: &Member) -> Range<usize> {
        m.key_span.start..m.value.span.end
    }
}

/// Why a text is not JSON, and where.
#[derive(Debug)]
pub struct JsonError {
    pub offset: usize,
    pub message: String,
}

/// Parses a whole text (a leading byte-order mark is skipped).
pub fn parse(text: &str) -> Result<Node, JsonError> {
    let mut p = Parser {
        text,
        pos: if text.starts_with('\u{feff}') { 3 } else { 0 },
    };
    let v = p.value(0)?;
    p.ws()?;
    if p.pos < text.len() {
        return p.err("unexpected text after the JSON value");
    }
    Ok(v)
}

struct Parser<'t> {
    text: &'t str,
    pos: usize,
}

type Res<T> = Result<T, JsonError>;

impl Parser<'_> {
    fn err<T>(&self, message: impl Into<String>) -> Res<T> {
        Err(JsonError {
            offset: self.pos.min(self.text.len()),
            message: message.into(),
        })
    }

    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn peek2(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos + 1).copied()
    }

    /// Skips white space and comments.
    fn ws(&mut self) -> Res<()> {
        loop {
            match (self.peek(), self.peek2()) {
                (Some(b' ' | b'\t' | b'\n' | b'\r'), _) => self.pos += 1,
                (Some(b'/'), Some(b'/')) => {
                    while !matches!(self.peek(), None | Some(b'\n')) {
                        self.pos += 1;
                    }
                }
                (Some(b'/'), Some(b'*')) => {
                    let from = self.pos;
                    match self.text.get(self.pos + 2..).and_then(|t| t.find("*/")) {
                        Some(end) => self.pos += 2 + end + 2,
                        None => {
                            self.pos = from;
                            return self.err("this comment is never closed");
                        }
                    }
                }
                _ => return Ok(()),
            }
        }
    }

    fn value(&mut self, depth: usize) -> Res<Node> {
        if depth > MAX_DEPTH {
            return self.err(format!("nesting is deeper than {MAX_DEPTH}"));
        }
        self.ws()?;
        let start = self.pos;
        match self.peek() {
            Some(b'{') => {
                self.pos += 1;
                let mut items = Vec::new();
                loop {
                    self.ws()?;
                    match self.peek() {
                        Some(b'}') => {
                            self.pos += 1;
                            break;
                        }
                        Some(b'"') => {}
                        _ => return self.err("expected a quoted key or `}`"),
                    }
                    let key_start = self.pos;
                    let key = self.string()?;
                    let key_span = key_start..self.pos;
                    self.ws()?;
                    if self.peek() != Some(b':') {
                        return self.err("expected `:` after the key");
                    }
                    self.pos += 1;
                    let value = self.value(depth + 1)?;
                    items.push(Member {
                        key,
                        key_span,
                        value,
                    });
                    self.ws()?;
                    match self.peek() {
                        Some(b',') => self.pos += 1,
                        Some(b'}') => {
                            self.pos += 1;
                            break;
                        }
                        _ => return self.err("expected `,` or `}`"),
                    }
                }
                Ok(Node {
                    span: start..self.pos,
                    kind: Kind::Object(items),
                })
            }
            Some(b'[') => {
                self.pos += 1;
                let mut items = Vec::new();
                loop {
                    self.ws()?;
                    if self.peek() == Some(b']') {
                        self.pos += 1;
                        break;
                    }
                    items.push(self.value(depth + 1)?);
                    self.ws()?;
                    match self.peek() {
                        Some(b',') => self.pos += 1,
                        Some(b']') => {
                            self.pos += 1;
                            break;
                        }
                        _ => return self.err("expected `,` or `]`"),
                    }
                }
                Ok(Node {
                    span: start..self.pos,
                    kind: Kind::Array(items),
                })
            }
            Some(b'"') => {
                let s = self.string()?;
                Ok(Node {
                    span: start..self.pos,
                    kind: Kind::Str(s),
                })
            }
            Some(b't' | b'f' | b'n' | b'-' | b'0'..=b'9') => {
                while matches!(
                    self.peek(),
                    Some(b'a'..=b'z' | b'0'..=b'9' | b'-' | b'+' | b'.' | b'E')
                ) {
                    self.pos += 1;
                }
                let word = self.text.get(start..self.pos).unwrap_or_default();
                let kind = match word {
                    "true" => Kind::Bool(true),
                    "false" => Kind::Bool(false),
                    "null" => Kind::Null,
                    _ => match word.parse::<f64>() {
                        Ok(n) if n.is_finite() => Kind::Num(n),
                        _ => {
                            self.pos = start;
                            return self.err(format!("`{word}` is not a JSON value"));
                        }
                    },
                };
                Ok(Node {
                    span: start..self.pos,
                    kind,
                })
            }
            _ => self.err("expected a JSON value"),
        }
    }

    /// A string at `pos` (its opening quote), unescaped. Line breaks inside
    /// are kept: Azure reads multi-line strings (`scriptContent`), and
    /// Microsoft's examples write them.
    fn string(&mut self) -> Res<String> {
        let start = self.pos;
        self.pos += 1;
        let mut out = String::new();
        loop {
            // The text up to the next quote or backslash is taken whole (a
            // template's strings are mostly plain); both are ASCII, so the
            // cut is a character boundary.
            let rest = self.text.get(self.pos..).unwrap_or("");
            let Some(i) = memchr::memchr2(b'"', b'\\', rest.as_bytes()) else {
                self.pos = start;
                return self.err("this string is never closed");
            };
            out.push_str(rest.get(..i).unwrap_or(""));
            let c = rest.as_bytes().get(i).copied().unwrap_or(b'"');
            self.pos += i + 1;
            match c {
                b'"' => return Ok(out),
                _ => {
                    let Some(e) = self.peek() else {
                        self.pos = start;
                        return self.err("this string is never closed");
                    };
                    self.pos += 1;
                    match e {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let hi = self.hex4()?;
                            let ch = if (0xD800..0xDC00).contains(&hi)
                                && self
                                    .text
                                    .get(self.pos..)
                                    .is_some_and(|r| r.starts_with("\\u"))
                            {
                                self.pos += 2;
                                let lo = self.hex4()?;
                                char::from_u32(
                                    0x10000
                                        + ((hi - 0xD800) << 10)
                                        + (lo.wrapping_sub(0xDC00) & 0x3FF),
                                )
                            } else {
                                char::from_u32(hi)
                            };
                            out.push(ch.unwrap_or('\u{fffd}'));
                        }
                        _ => {
                            self.pos -= 1;
                            return self.err("unknown escape in a string");
                        }
                    }
                }
            }
        }
    }

    fn hex4(&mut self) -> Res<u32> {
        let h = self.text.get(self.pos..self.pos + 4).unwrap_or("");
        match u32::from_str_radix(h, 16) {
            Ok(v) if h.len() == 4 => {
                self.pos += 4;
                Ok(v)
            }
            _ => self.err("bad `\\u` escape"),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test code")]
    use super::*;

    #[test]
    fn comments_trailing_commas_and_spans() {
        let text = "// c\n{ /* x */ \"a\": [1, \"b\",], \"c\": {\"d\": null},\n}";
        let n = parse(text).unwrap();
        let a = n.get("A").unwrap();
        assert_eq!(&text[a.key_span.clone()], "\"a\"");
        assert_eq!(&text[a.value.span.clone()], "[1, \"b\",]");
        assert!(matches!(
            n.get("c").unwrap().value.get("d").unwrap().value.kind,
            Kind::Null
        ));
    }

    #[test]
    fn errors_are_located_and_depth_is_capped() {
        let e = parse("{\"a\": tru}").unwrap_err();
        assert_eq!(e.offset, 6);
        let deep = "[".repeat(1000);
        assert!(parse(&deep).unwrap_err().message.contains("deeper"));
    }
}
