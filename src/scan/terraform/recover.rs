//! Parsing `.tf` text as Terraform reads it, and going on after an error.
//!
//! hcl-edit is stricter than HashiCorp's parser in three ways that public
//! modules hit, and it stops at the first error of a file. Rather than fork
//! the parser, this module repairs the *text* it is given and parses again:
//!
//! - a UTF-8 byte-order mark is read as three spaces;
//! - a repeated key in an object constructor (`{ a = 1, a = 2 }`, where
//!   Terraform keeps the last) is quoted (`"a"`) or parenthesized, so that
//!   hcl-edit sees two different keys; evaluation inserts keys in order, so
//!   the last one still wins;
//! - inside an object `for` expression, line breaks (and the comments that
//!   end them) are read as spaces, as HCL's own parser does.
//!
//! Every repair but the key quoting keeps byte offsets (a byte becomes a
//! space); quoting inserts bytes, and [`Recovered::offsets`] maps the parse
//! tree's spans back to the file's text. A file that still fails is parsed
//! block by block: each top-level block that fails on its own is reported
//! and blanked out, the rest of the file is kept, and a `locals` block is
//! split further so that one bad local does not take its neighbours with it
//! (the names it lost are kept, so references to them are unknown with the
//! reason, not "no local").

use crate::source::OffsetMap;
use hcl_edit::structure::Body;
use std::ops::Range;

/// The most repairs tried on one text before giving up on it.
const MAX_REPAIRS: usize = 256;

/// The words of hcl-edit's error for a repeated object key ("expected
/// unique object key; found redefined object key"). Its parse errors carry
/// a message and a location but no kind, so the message is the only way to
/// tell this error from the others.
const REDEFINED_KEY: &str = "redefined object key";

/// A parse error, at a byte offset of the original text.
#[derive(Debug, Clone, PartialEq)]
pub struct ParseError {
    pub offset: usize,
    pub message: String,
}

/// What [`parse`] made of a file.
#[derive(Debug, Default)]
pub struct Recovered {
    /// The parse of what could be read (None when nothing could).
    pub body: Option<Body>,
    /// Every error, in file order: one per block (or local) that was dropped.
    pub errors: Vec<ParseError>,
    /// Bytes inserted by the repairs: set when the parse tree's spans are
    /// not offsets of the original text.
    pub offsets: Option<OffsetMap>,
    /// Locals whose definitions could not be parsed, with the byte range of
    /// the definition in the original text.
    pub lost_locals: Vec<(String, Range<usize>)>,
    /// The body was parsed from the original text as it is, without a
    /// repair: any block's span, cut out of the text, parses on its own to
    /// the same block (the scanner re-reads resource bodies that way).
    pub verbatim: bool,
}

/// Parses Terraform native syntax the way Terraform accepts it.
pub fn parse(text: &str) -> Recovered {
    let mut work = Work::new(text);
    match work.parse_repairing() {
        Ok(body) => Recovered {
            verbatim: work.text == text,
            body: Some(body),
            errors: Vec::new(),
            offsets: work.offset_map(),
            lost_locals: Vec::new(),
        },
        Err(first) => work.parse_by_blocks(first),
    }
}

/// The text being repaired, with the positions of inserted bytes.
struct Work {
    text: String,
    /// Sorted offsets (in `text`) of bytes that the original does not have.
    inserted: Vec<usize>,
}

impl Work {
    fn new(original: &str) -> Work {
        let mut text = original.to_string();
        if text.starts_with('\u{feff}') {
            text.replace_range(0..3, "   ");
        }
        Work {
            text,
            inserted: Vec::new(),
        }
    }

    /// The original offset of an offset in the work text.
    fn original(&self, offset: usize) -> usize {
        offset - self.inserted.partition_point(|&i| i < offset)
    }

    fn insert(&mut self, at: usize, s: &str) {
        if !self.text.is_char_boundary(at) {
            return;
        }
        self.text.insert_str(at, s);
        for i in self.inserted.iter_mut() {
            if *i >= at {
                *i += s.len();
            }
        }
        self.inserted.extend(at..at + s.len());
        self.inserted.sort_unstable();
    }

    /// Replaces every byte of a range but line breaks with a space.
    fn blank(&mut self, range: Range<usize>, keep_newlines: bool) {
        let Some(part) = self.text.get(range.clone()) else {
            return;
        };
        let blanked: String = part
            .bytes()
            .map(|b| {
                if keep_newlines && b == b'\n' {
                    '\n'
                } else {
                    ' '
                }
            })
            .collect();
        self.text.replace_range(range, &blanked);
    }

    fn offset_map(&self) -> Option<OffsetMap> {
        if self.inserted.is_empty() {
            return None;
        }
        let mut segments = Vec::new();
        let (mut at, mut orig) = (0usize, 0usize);
        let mut run = self.inserted.iter().peekable();
        while at < self.text.len() {
            match run.peek() {
                Some(&&i) if i == at => {
                    run.next();
                    segments.push((at..at + 1, orig..orig));
                    at += 1;
                }
                next => {
                    let end = next.map_or(self.text.len(), |&&i| i);
                    segments.push((at..end, orig..orig + (end - at)));
                    orig += end - at;
                    at = end;
                }
            }
        }
        Some(OffsetMap { segments })
    }

    /// Parses, repairing what Terraform accepts and hcl-edit rejects.
    fn parse_repairing(&mut self) -> Result<Body, ParseError> {
        let mut first: Option<ParseError> = None;
        for _ in 0..MAX_REPAIRS {
            match hcl_edit::parser::parse_body(&self.text) {
                Ok(body) => return Ok(body),
                Err(e) => {
                    let offset = e.location().offset().min(self.text.len());
                    let message = e.message().trim().to_string();
                    let error = ParseError {
                        offset: self.original(offset),
                        message: message.clone(),
                    };
                    let first = first.get_or_insert(error).clone();
                    if !self.repair(offset, &message) {
                        return Err(first);
                    }
                }
            }
        }
        Err(first.unwrap_or(ParseError {
            offset: 0,
            message: "too many repairs".into(),
        }))
    }

    /// One repair for an error at `offset`; false when none applies.
    fn repair(&mut self, offset: usize, message: &str) -> bool {
        if message.contains(REDEFINED_KEY) {
            return self.distinguish_key(offset);
        }
        self.join_object_for_lines(offset)
    }

    /// Makes the object key at `offset` differ from an equal earlier one.
    fn distinguish_key(&mut self, offset: usize) -> bool {
        let Some(rest) = self.text.get(offset..) else {
            return false;
        };
        let bytes = rest.as_bytes();
        match bytes.first() {
            Some(b) if b.is_ascii_alphabetic() || *b == b'_' => {
                let len = rest
                    .bytes()
                    .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'-')
                    .count();
                self.insert(offset + len, "\"");
                self.insert(offset, "\"");
                true
            }
            Some(b'"') | Some(b'(') => match closing(rest) {
                Some(len) => {
                    self.insert(offset + len, ")");
                    self.insert(offset, "(");
                    true
                }
                None => false,
            },
            _ => false,
        }
    }

    /// Reads the line breaks of the object `for` expression around `offset`
    /// as spaces (and blanks the comments that end its lines).
    fn join_object_for_lines(&mut self, offset: usize) -> bool {
        let Some(open) = enclosing_object_for(&self.text, offset) else {
            return false;
        };
        let Some(len) = self.text.get(open..).and_then(closing) else {
            return false;
        };
        let Some(object) = self.text.get(open..open + len) else {
            return false;
        };
        let mut changed = false;
        for range in breaks_outside_strings(object) {
            let range = range.start + open..range.end + open;
            if self
                .text
                .get(range.clone())
                .is_some_and(|s| s.bytes().any(|b| b != b' '))
            {
                self.blank(range, false);
                changed = true;
            }
        }
        changed
    }

    /// The slow path: each top-level block on its own.
    fn parse_by_blocks(mut self, first: ParseError) -> Recovered {
        let blocks = top_level_blocks(&self.text);
        let mut errors = Vec::new();
        let mut lost_locals = Vec::new();
        for block in blocks.iter().rev() {
            let mut alone = self.only(block.clone());
            if let Err(e) = alone.parse_repairing() {
                let is_locals = self
                    .text
                    .get(block.clone())
                    .is_some_and(|header| header.trim_start().starts_with("locals"));
                if is_locals {
                    let (errs, lost) = self.recover_locals(block.clone());
                    errors.extend(errs);
                    lost_locals.extend(lost);
                } else {
                    errors.push(e);
                    self.blank(block.clone(), true);
                }
            }
        }
        errors.sort_by_key(|e| e.offset);
        lost_locals.sort_by_key(|(_, r)| r.start);
        match self.parse_repairing() {
            Ok(body) => Recovered {
                body: Some(body),
                errors: if errors.is_empty() {
                    vec![first]
                } else {
                    errors
                },
                offsets: self.offset_map(),
                lost_locals,
                verbatim: false,
            },
            Err(_) => Recovered {
                body: None,
                errors: vec![first],
                offsets: None,
                lost_locals: Vec::new(),
                verbatim: false,
            },
        }
    }

    /// A copy of the work in which only `range` is kept (the rest blanked).
    fn only(&self, range: Range<usize>) -> Work {
        let mut w = Work {
            text: self.text.clone(),
            inserted: self.inserted.clone(),
        };
        let len = w.text.len();
        w.blank(range.end.min(len)..len, true);
        w.blank(0..range.start.min(len), true);
        w
    }

    /// A `locals` block that fails: each of its locals on its own.
    fn recover_locals(
        &mut self,
        block: Range<usize>,
    ) -> (Vec<ParseError>, Vec<(String, Range<usize>)>) {
        // INVARIANT: `block` is one of `top_level_blocks(&self.text)`, whole
        // lines of it, and blanking keeps the text's length and boundaries.
        let text = self.text[block.clone()].to_string();
        let Some(open) = text.find('{') else {
            let e = ParseError {
                offset: self.original(block.start),
                message: "a `locals` block needs `{`".into(),
            };
            self.blank(block, true);
            return (vec![e], Vec::new());
        };
        let close = text.rfind('}').filter(|&c| c > open).unwrap_or(text.len());
        let inner = block.start + open + 1..block.start + close;
        // INVARIANT: from just past the block's first `{` to its last `}`
        // (or its end): within the block, on character boundaries.
        let items = attribute_starts(&self.text[inner.clone()]);
        let mut errors = Vec::new();
        let mut lost = Vec::new();
        let ranges: Vec<(String, Range<usize>)> = items
            .iter()
            .enumerate()
            .map(|(i, (name, start))| {
                let end = items.get(i + 1).map_or(inner.end, |(_, s)| inner.start + s);
                (name.clone(), inner.start + start..end)
            })
            .collect();
        for (name, range) in ranges.iter().rev() {
            // The block's header and closing brace, with this one local.
            let mut alone = self.only(block.clone());
            for (_, other) in ranges.iter().filter(|(_, r)| r != range) {
                alone.blank(other.clone(), true);
            }
            match alone.parse_repairing() {
                Ok(_) => {}
                Err(mut e) => {
                    // Parsed alone, a local that is never closed fails where
                    // the block ends: point at the local instead.
                    let indent = self
                        .text
                        .get(range.clone())
                        .map_or(0, |t| t.len() - t.trim_start().len());
                    let (start, end) = (
                        self.original(range.start) + indent,
                        self.original(range.end),
                    );
                    if e.offset >= end {
                        e.offset = start;
                        e.message = format!("local `{name}` is not closed: {}", e.message);
                    }
                    errors.push(e);
                    lost.push((name.clone(), start..end));
                    self.blank(range.clone(), true);
                }
            }
        }
        if errors.is_empty() {
            // No one local fails on its own: the block as a whole does.
            let mut alone = self.only(block.clone());
            if let Err(e) = alone.parse_repairing() {
                errors.push(e);
            }
            for (name, range) in &ranges {
                lost.push((
                    name.clone(),
                    self.original(range.start)..self.original(range.end),
                ));
            }
            self.blank(block, true);
        }
        (errors, lost)
    }
}

/// The length of the bracketed or quoted item at the start of `s` (through
/// its closing character), skipping strings, comments and nested brackets.
fn closing(s: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    let mut stack: Vec<u8> = Vec::new();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'"' => {
                i = skip_string(bytes, i)?;
                if stack.is_empty() {
                    return Some(i);
                }
                continue;
            }
            b'#' => i = skip_line(bytes, i),
            b'/' if bytes.get(i + 1) == Some(&b'/') => i = skip_line(bytes, i),
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = s.get(i + 2..)?.find("*/").map(|e| i + 2 + e + 2)?;
                continue;
            }
            b'<' if bytes.get(i + 1) == Some(&b'<') => i = skip_heredoc(s, i)?,
            b'(' | b'[' | b'{' => stack.push(b),
            b')' | b']' | b'}' => {
                let want = match b {
                    b')' => b'(',
                    b']' => b'[',
                    _ => b'{',
                };
                if stack.pop() != Some(want) {
                    return None;
                }
                if stack.is_empty() {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// The offset after a string (and its `${ }` interpolations) opened at `i`.
fn skip_string(bytes: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    let mut depth = 0usize;
    while let Some(&b) = bytes.get(j) {
        match b {
            b'\\' => j += 1,
            b'$' | b'%' if bytes.get(j + 1) == Some(&b'{') => {
                depth += 1;
                j += 1;
            }
            b'}' if depth > 0 => depth -= 1,
            b'"' if depth == 0 => return Some(j + 1),
            b'\n' if depth == 0 => return None,
            _ => {}
        }
        j += 1;
    }
    None
}

/// The offset of the line break that ends the line at `i` (or the end).
fn skip_line(bytes: &[u8], i: usize) -> usize {
    let mut j = i;
    while let Some(&b) = bytes.get(j) {
        if b == b'\n' {
            return j.saturating_sub(1);
        }
        j += 1;
    }
    j
}

/// The last offset of the heredoc opened at `i` (`<<EOT` or `<<-EOT`).
fn skip_heredoc(s: &str, i: usize) -> Option<usize> {
    let rest = s.get(i + 2..)?;
    let rest_trim = rest.strip_prefix('-').unwrap_or(rest);
    let word: String = rest_trim
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    if word.is_empty() {
        return Some(i + 1);
    }
    let body_start = i + 2 + rest.find('\n')? + 1;
    let mut at = body_start;
    for line in s.get(body_start..)?.split_inclusive('\n') {
        if line.trim() == word {
            return Some(at + line.trim_end_matches(['\n', '\r']).len().saturating_sub(1));
        }
        at += line.len();
    }
    None
}

/// The `{` of the innermost object `for` expression that contains `offset`.
fn enclosing_object_for(text: &str, offset: usize) -> Option<usize> {
    let before = text.get(..offset.min(text.len()))?;
    let mut search_end = before.len();
    while let Some(open) = before.get(..search_end)?.rfind('{') {
        let after = text.get(open + 1..)?.trim_start();
        let is_for = after.starts_with("for")
            && after
                .as_bytes()
                .get(3)
                .is_some_and(|b| b.is_ascii_whitespace());
        if is_for
            && let Some(len) = text.get(open..).and_then(closing)
            && open + len > offset
        {
            return Some(open);
        }
        search_end = open;
    }
    None
}

/// Line breaks (with the comment before each, if any) of `s` that are
/// outside strings and heredocs.
fn breaks_outside_strings(s: &str) -> Vec<Range<usize>> {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'"' => {
                i = match skip_string(bytes, i) {
                    Some(j) => j,
                    None => return out,
                };
                continue;
            }
            b'<' if bytes.get(i + 1) == Some(&b'<') => match skip_heredoc(s, i) {
                Some(j) => i = j,
                None => return out,
            },
            b'#' => {
                let end = skip_line(bytes, i) + 1;
                out.push(i..(end + 1).min(bytes.len()));
                i = end + 1;
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                let end = skip_line(bytes, i) + 1;
                out.push(i..(end + 1).min(bytes.len()));
                i = end + 1;
                continue;
            }
            b'\n' => out.push(if i > 0 && bytes.get(i - 1) == Some(&b'\r') {
                i - 1..i + 1
            } else {
                i..i + 1
            }),
            _ => {}
        }
        i += 1;
    }
    out
}

/// The byte ranges of the top-level blocks of a text: each starts at a line
/// that begins, in column 0, with a block header (`type "label" … {`) and
/// runs to the next one. Heredoc bodies are skipped.
fn top_level_blocks(text: &str) -> Vec<Range<usize>> {
    let mut starts = Vec::new();
    let mut at = 0usize;
    let mut heredoc: Option<String> = None;
    for line in text.split_inclusive('\n') {
        let here = at;
        at += line.len();
        if let Some(word) = &heredoc {
            if line.trim() == word {
                heredoc = None;
            }
            continue;
        }
        if let Some(word) = heredoc_opened(line) {
            heredoc = Some(word);
        }
        if is_block_header(line) {
            starts.push(here);
        }
    }
    if starts.first() != Some(&0) {
        starts.insert(0, 0);
    }
    let mut out = Vec::new();
    for (i, &s) in starts.iter().enumerate() {
        let end = starts.get(i + 1).copied().unwrap_or(text.len());
        out.push(s..end);
    }
    out
}

/// The delimiter of a heredoc that a line opens (`<<EOT`, `<<-EOT` at its
/// end), whose body the following lines are until one is the word alone.
fn heredoc_opened(line: &str) -> Option<String> {
    let i = line.find("<<")?;
    let rest = line.get(i + 2..)?;
    let word: String = rest
        .strip_prefix('-')
        .unwrap_or(rest)
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    (!word.is_empty() && rest.trim_start_matches('-').trim() == word).then_some(word)
}

/// `resource "a" "b" {`, `locals {`, `terraform {` in column 0.
fn is_block_header(line: &str) -> bool {
    let Some(first) = line.as_bytes().first() else {
        return false;
    };
    if !(first.is_ascii_alphabetic() || *first == b'_') {
        return false;
    }
    let line = line.trim_end();
    let Some(head) = line.strip_suffix('{') else {
        return false;
    };
    let mut parts = head.split_whitespace();
    let Some(ident) = parts.next() else {
        return false;
    };
    ident
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        && parts.all(|p| {
            (p.starts_with('"') && p.ends_with('"') && p.len() >= 2)
                || p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        })
}

/// The attributes at the shallowest indentation of a block's inside: their
/// names and where each line starts (relative to `inner`).
fn attribute_starts(inner: &str) -> Vec<(String, usize)> {
    let mut found: Vec<(usize, String, usize)> = Vec::new();
    let mut at = 0usize;
    let mut heredoc: Option<String> = None;
    for line in inner.split_inclusive('\n') {
        let here = at;
        at += line.len();
        if let Some(word) = &heredoc {
            if line.trim() == word {
                heredoc = None;
            }
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        let t = line.trim_start();
        let name: String = t
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
            .collect();
        // INVARIANT: `name` is a prefix of `t` made of ASCII characters.
        let after = t[name.len()..].trim_start();
        if !name.is_empty()
            && name.chars().next().is_some_and(|c| !c.is_ascii_digit())
            && after.starts_with('=')
            && !after.starts_with("==")
        {
            found.push((indent, name, here));
        }
        if let Some(word) = heredoc_opened(line) {
            heredoc = Some(word);
        }
    }
    let Some(min) = found.iter().map(|(i, _, _)| *i).min() else {
        return Vec::new();
    };
    found
        .into_iter()
        .filter(|(i, _, _)| *i == min)
        .map(|(_, n, s)| (n, s))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use hcl_edit::Span as _;

    fn attrs(r: &Recovered) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(b) = &r.body {
            for block in b.blocks() {
                for a in block.body.attributes() {
                    out.push(a.key.as_str().to_string());
                }
            }
        }
        out
    }

    #[test]
    fn a_byte_order_mark_is_read_as_space() {
        let r = parse("\u{feff}locals {\n  a = 1\n}\n");
        assert!(r.errors.is_empty(), "{:?}", r.errors);
        assert_eq!(attrs(&r), ["a"]);
        assert!(r.offsets.is_none());
    }

    #[test]
    fn a_repeated_object_key_keeps_both_in_order_with_spans_of_the_file() {
        let text = "locals {\n  m = { a = 1, a = 2, a = 3, \"b\" = 4, \"b\" = 5 }\n}\n";
        let r = parse(text);
        assert!(r.errors.is_empty(), "{:?}", r.errors);
        let body = r.body.as_ref().unwrap();
        let block = body.blocks().next().unwrap();
        let attr = block.body.attributes().next().unwrap();
        let hcl_edit::expr::Expression::Object(obj) = &attr.value else {
            panic!("not an object")
        };
        assert_eq!(obj.len(), 5);
        // The last value of `a` is the file's `3`.
        let map = r.offsets.as_ref().unwrap();
        let (_, v) = obj.iter().nth(2).unwrap();
        let span = map.map_span(v.expr().span().unwrap());
        assert_eq!(text.get(span), Some("3"));
        let (_, v) = obj.iter().nth(4).unwrap();
        let span = map.map_span(v.expr().span().unwrap());
        assert_eq!(text.get(span), Some("5"));
    }

    #[test]
    fn line_breaks_inside_an_object_for_value_are_spaces() {
        let text = "locals {\n  f = { for k in [\"x\"] : k =>\n    true && # why\n    false }\n  g = 1\n}\n";
        let r = parse(text);
        assert!(r.errors.is_empty(), "{:?}", r.errors);
        assert_eq!(attrs(&r), ["f", "g"]);
        assert!(r.offsets.is_none());
    }

    #[test]
    fn every_broken_block_is_reported_and_the_rest_is_kept() {
        let text = "resource \"a\" \"x\" {\n  v = = 1\n}\n\nresource \"a\" \"y\" {\n  v = 2\n}\n\nresource \"a\" \"z\" {\n  v = (\n}\n";
        let r = parse(text);
        assert_eq!(r.errors.len(), 2, "{:?}", r.errors);
        let body = r.body.as_ref().unwrap();
        let names: Vec<String> = body
            .blocks()
            .map(|b| b.labels.get(1).unwrap().as_str().to_string())
            .collect();
        assert_eq!(names, ["y"]);
        assert!(r.errors[0].offset < text.find("\"y\"").unwrap());
        assert!(r.errors[1].offset > text.find("\"z\"").unwrap());
    }

    #[test]
    fn one_bad_local_does_not_take_the_others_with_it() {
        let text = "locals {\n  a = 1\n  b = [1,\n  c = \"x\"\n}\n";
        let r = parse(text);
        assert_eq!(r.errors.len(), 1, "{:?}", r.errors);
        assert_eq!(attrs(&r), ["a", "c"]);
        assert_eq!(r.lost_locals.len(), 1);
        assert_eq!(r.lost_locals[0].0, "b");
    }

    #[test]
    fn heredocs_do_not_start_blocks() {
        let text = "locals {\n  p = <<EOF\nresource \"x\" \"y\" {\nEOF\n  q = = 2\n}\n";
        let blocks = top_level_blocks(text);
        assert_eq!(blocks.len(), 1);
    }
}
