//! YAML (and JSON, which is YAML) to a tree of nodes that keep their byte
//! spans and their tags (`!Ref`, `!Sub`, …), for the CloudFormation and
//! Kubernetes scanners.
//!
//! `serde_yaml_ng` (used for `proviso.yaml`) gives neither positions nor
//! local tags, so these files are read with `saphyr-parser`, a YAML 1.2
//! event parser whose every event carries a span; the tree is built here
//! from the events. Spans of the parser count characters, and are turned
//! into byte offsets. Bounds: nesting deeper than [`MAX_DEPTH`] and more
//! than [`MAX_NODES`] nodes (aliases count what they copy) are errors,
//! never a stack overflow or a billion laughs.

use saphyr_parser::{Event, Parser, ScalarStyle};
use std::collections::HashMap;
use std::ops::Range;

/// Deepest nesting of collections read.
pub const MAX_DEPTH: usize = 128;
/// Most nodes in one file, aliases expanded.
pub const MAX_NODES: usize = 2_000_000;

/// A YAML node with where it was written.
#[derive(Debug, Clone)]
pub struct Node {
    pub data: Data,
    /// The local tag (`Ref` for `!Ref`), without its `!`.
    pub tag: Option<String>,
    /// Bytes of the node, tag included.
    pub span: Range<usize>,
}

#[derive(Debug, Clone)]
pub enum Data {
    /// A scalar and whether it was quoted (a quoted scalar is a string).
    Scalar(String, bool),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

/// A parse error: where and why.
#[derive(Debug)]
pub struct YamlError {
    pub offset: usize,
    pub message: String,
}

impl Node {
    /// The scalar's text, if it is one.
    pub fn as_str(&self) -> Option<&str> {
        match &self.data {
            Data::Scalar(s, _) => Some(s),
            _ => None,
        }
    }

    /// The entries of a mapping (empty for anything else).
    pub fn entries(&self) -> &[(Node, Node)] {
        match &self.data {
            Data::Map(m) => m,
            _ => &[],
        }
    }

    /// The value of a mapping's key, and the key node.
    pub fn get_entry(&self, key: &str) -> Option<&(Node, Node)> {
        self.entries().iter().find(|(k, _)| k.as_str() == Some(key))
    }

    pub fn get(&self, key: &str) -> Option<&Node> {
        self.get_entry(key).map(|(_, v)| v)
    }

    /// A plain scalar that YAML's core schema reads as null (`~`, `null`,
    /// nothing).
    pub fn is_null(&self) -> bool {
        matches!(&self.data, Data::Scalar(s, false) if matches!(s.as_str(), "" | "~" | "null" | "Null" | "NULL"))
            && self.tag.is_none()
    }
}

/// Byte offsets of character indices.
struct Offsets {
    /// Empty for ASCII text (character index = byte offset).
    bytes: Vec<usize>,
    len: usize,
    /// Bytes before the parsed text (a byte-order mark).
    shift: usize,
    /// Where a repair inserted one space each (byte offsets in the parsed
    /// text, ascending): offsets after them move back to the original's.
    inserted: Vec<usize>,
}

impl Offsets {
    fn of(text: &str, shift: usize) -> Offsets {
        let bytes = if text.is_ascii() {
            Vec::new()
        } else {
            text.char_indices().map(|(i, _)| i).collect()
        };
        Offsets {
            bytes,
            len: text.len(),
            shift,
            inserted: Vec::new(),
        }
    }

    fn at(&self, chars: usize) -> usize {
        let b = if self.bytes.is_empty() {
            chars.min(self.len)
        } else {
            self.bytes.get(chars).copied().unwrap_or(self.len)
        };
        // Inserted spaces before `b` were not in the original.
        let before = self.inserted.partition_point(|&i| i < b);
        self.shift + b - before
    }
}

/// A collection being built.
enum Open {
    Seq(Vec<Node>, Option<String>, usize, usize),
    Map(
        Vec<(Node, Node)>,
        Option<Node>,
        Option<String>,
        usize,
        usize,
    ),
}

/// Parses every document of a YAML (or JSON) text. A document that is
/// empty is left out.
pub fn parse_documents(text: &str) -> Result<Vec<Node>, YamlError> {
    // A byte-order mark (Windows editors write one) is not content.
    let (text, shift) = match text.strip_prefix('\u{feff}') {
        Some(rest) => (rest, '\u{feff}'.len_utf8()),
        None => (text, 0),
    };
    let first = parse_text(text, Offsets::of(text, shift));
    let Err(first_err) = first else {
        return first;
    };
    let mut err = YamlError {
        offset: first_err.offset,
        message: first_err.message.clone(),
    };
    // Continuation lines indented no deeper than their key: YAML 1.2
    // rejects them, PyYAML and CloudFormation read them (AWS's own sample
    // templates have some). Indent them one space past the key, keep the
    // original's offsets, and try again (a few times, each repair one
    // multi-line scalar or flow collection).
    let mut repaired = text.to_string();
    let mut inserted: Vec<usize> = Vec::new();
    for _ in 0..MAX_REPAIRS {
        if !err.message.contains("indentation") {
            break;
        }
        let at_repaired = to_repaired(err.offset.saturating_sub(shift), &inserted);
        let Some(fix) = indent_continuation(&repaired, at_repaired) else {
            break;
        };
        if inserted.len() + fix.len() > MAX_INSERTED {
            break;
        }
        // One pass: the text with a space at each `fix` position (sorted),
        // and the earlier insertions moved past the new ones before them.
        let mut next = String::with_capacity(repaired.len() + fix.len());
        let mut from = 0;
        for &pos in &fix {
            next.push_str(repaired.get(from..pos).unwrap_or(""));
            next.push(' ');
            from = pos;
        }
        next.push_str(repaired.get(from..).unwrap_or(""));
        repaired = next;
        let mut merged = Vec::with_capacity(inserted.len() + fix.len());
        let mut earlier = inserted.iter().peekable();
        for (k, &pos) in fix.iter().enumerate() {
            while let Some(&&i) = earlier.peek() {
                if i >= pos {
                    break;
                }
                merged.push(i + k);
                earlier.next();
            }
            merged.push(pos + k);
        }
        merged.extend(earlier.map(|&i| i + fix.len()));
        inserted = merged;
        let mut offsets = Offsets::of(&repaired, shift);
        offsets.inserted = inserted.clone();
        match parse_text(&repaired, offsets) {
            Ok(docs) => return Ok(docs),
            Err(e) => err = e,
        }
    }
    // Not repaired: the file's own first error.
    Err(first_err)
}

/// How many multi-line scalars or flow collections one file may have
/// re-indented before it is reported as it is.
const MAX_REPAIRS: usize = 16;

/// The most spaces repairs may insert into one file.
const MAX_INSERTED: usize = 10_000;

/// An original offset's place in the repaired text.
fn to_repaired(original: usize, inserted: &[usize]) -> usize {
    let mut at = original;
    for &i in inserted {
        if i <= at {
            at += 1;
        }
    }
    at
}

/// Where to insert one space each so that the multi-line quoted scalar or
/// flow collection the parser stopped at (`at`) has its continuation lines
/// indented past its key's line. `None` when there is none to fix.
fn indent_continuation(text: &str, at: usize) -> Option<Vec<usize>> {
    let line_start = |p: usize| {
        text.get(..p)
            .and_then(|t| t.rfind('\n'))
            .map_or(0, |i| i + 1)
    };
    let indent = |start: usize| {
        text.get(start..)
            .map_or(0, |t| t.len() - t.trim_start_matches(' ').len())
    };
    // The line that opens the construct: the error's own line if a quote
    // or bracket opens there and is not closed; else, for a closing line,
    // the line where the bracket depth began.
    let mut opener = line_start(at.min(text.len()));
    let bytes = text.as_bytes();
    let open_state = |from: usize, to: usize| {
        let mut scan = FlowScan::default();
        scan.advance(bytes, from, to);
        scan
    };
    // Walk back (at most 200 lines) to a line after which the construct
    // is open.
    let mut tries = 0;
    loop {
        let line_end = text
            .get(opener..)
            .and_then(|t| t.find('\n'))
            .map_or(text.len(), |i| opener + i);
        let state = open_state(opener, line_end);
        if state.open() {
            break;
        }
        if opener == 0 || tries > 200 {
            return None;
        }
        opener = line_start(opener - 1);
        tries += 1;
    }
    let key_indent = indent(opener);
    // The continuation lines: until the construct closes.
    let mut fixes = Vec::new();
    let mut pos = text
        .get(opener..)
        .and_then(|t| t.find('\n'))
        .map(|i| opener + i + 1)?;
    let mut state = open_state(opener, pos);
    while pos < text.len() {
        let line_end = text
            .get(pos..)
            .and_then(|t| t.find('\n'))
            .map_or(text.len(), |i| pos + i);
        let own = indent(pos);
        let blank = text.get(pos..line_end).is_none_or(|l| l.trim().is_empty());
        if !blank && own <= key_indent {
            fixes.extend(std::iter::repeat_n(pos, key_indent + 1 - own));
        }
        state.advance(bytes, pos, line_end);
        if !state.open() {
            break;
        }
        pos = line_end + 1;
    }
    (!fixes.is_empty()).then_some(fixes)
}

/// Bracket depth and open quote, scanning a YAML text left to right (for
/// [`indent_continuation`]; comments skipped, `''` and `\"` escapes kept).
#[derive(Default)]
struct FlowScan {
    depth: i64,
    quote: Option<u8>,
}

impl FlowScan {
    fn open(&self) -> bool {
        self.depth > 0 || self.quote.is_some()
    }

    /// Scans `bytes[from..to]` (a line, or lines, without the last `\n`).
    fn advance(&mut self, bytes: &[u8], from: usize, to: usize) {
        let mut i = from;
        while i < to {
            let c = bytes.get(i).copied().unwrap_or(b' ');
            let prev = i.checked_sub(1).and_then(|p| bytes.get(p)).copied();
            match self.quote {
                Some(q) if c == q => {
                    if q == b'\'' && bytes.get(i + 1) == Some(&b'\'') {
                        i += 1;
                    } else {
                        self.quote = None;
                    }
                }
                Some(b'"') if c == b'\\' => i += 1,
                Some(_) => {}
                None => match c {
                    // A quote opens a scalar only where a value starts.
                    b'\'' | b'"'
                        if matches!(
                            prev,
                            None | Some(b' ' | b'[' | b'{' | b',' | b'\n' | b':' | b'-')
                        ) =>
                    {
                        self.quote = Some(c);
                    }
                    b'[' | b'{' => self.depth += 1,
                    b']' | b'}' => self.depth -= 1,
                    // A comment runs to the end of its line.
                    b'#' if matches!(prev, None | Some(b' ' | b'\n')) => {
                        while i < to && bytes.get(i) != Some(&b'\n') {
                            i += 1;
                        }
                    }
                    _ => {}
                },
            }
            i += 1;
        }
    }
}

/// Parses `text` (the file's, or a repaired copy) into its documents.
fn parse_text(text: &str, offsets: Offsets) -> Result<Vec<Node>, YamlError> {
    let mut docs = Vec::new();
    let mut stack: Vec<Open> = Vec::new();
    let mut anchors: HashMap<usize, Node> = HashMap::new();
    let mut nodes = 0usize;
    let mut current_doc: Option<Node> = None;
    for ev in Parser::new_from_str(text) {
        let (ev, span) = ev.map_err(|e| YamlError {
            offset: offsets.at(e.marker().index()),
            message: e.info().to_string(),
        })?;
        let start = offsets.at(span.start.index());
        let end = offsets.at(span.end.index());
        let tag_of = |t: Option<std::borrow::Cow<'_, saphyr_parser::Tag>>| {
            t.and_then(|t| (t.handle == "!").then(|| t.suffix.clone()))
        };
        let (node, anchor) = match ev {
            Event::DocumentStart(_) => {
                current_doc = None;
                continue;
            }
            Event::DocumentEnd => {
                if let Some(d) = current_doc.take().filter(|d| !d.is_null()) {
                    docs.push(d);
                }
                continue;
            }
            Event::Scalar(value, style, anchor, tag) => (
                Node {
                    data: Data::Scalar(value.into_owned(), style != ScalarStyle::Plain),
                    tag: tag_of(tag),
                    span: start..end,
                },
                anchor,
            ),
            Event::Alias(id) => {
                let Some(n) = anchors.get(&id) else {
                    return Err(YamlError {
                        offset: start,
                        message: "an alias to an anchor not defined before it".into(),
                    });
                };
                nodes = nodes.saturating_add(count(n));
                if nodes > MAX_NODES {
                    return Err(too_many(start));
                }
                let mut n = n.clone();
                n.span = start..end;
                (n, 0)
            }
            Event::SequenceStart(anchor, tag) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(too_deep(start));
                }
                stack.push(Open::Seq(Vec::new(), tag_of(tag), start, anchor));
                continue;
            }
            Event::MappingStart(anchor, tag) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(too_deep(start));
                }
                stack.push(Open::Map(Vec::new(), None, tag_of(tag), start, anchor));
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(open) = stack.pop() else {
                    continue;
                };
                // A block collection ends where its last item ends; a flow
                // one at its closing bracket.
                let closing = (end > start).then_some(end);
                match open {
                    Open::Seq(items, tag, s, anchor) => {
                        let last = items.last().map_or(s, |n| n.span.end);
                        (
                            Node {
                                data: Data::Seq(items),
                                tag,
                                span: s..closing.unwrap_or(last).max(s),
                            },
                            anchor,
                        )
                    }
                    Open::Map(entries, _, tag, s, anchor) => {
                        let last = entries.last().map_or(s, |(_, v)| v.span.end);
                        (
                            Node {
                                data: Data::Map(entries),
                                tag,
                                span: s..closing.unwrap_or(last).max(s),
                            },
                            anchor,
                        )
                    }
                }
            }
            Event::StreamStart | Event::StreamEnd | Event::Nothing => continue,
        };
        nodes = nodes.saturating_add(1);
        if nodes > MAX_NODES {
            return Err(too_many(node.span.start));
        }
        if anchor != 0 {
            anchors.insert(anchor, node.clone());
        }
        match stack.last_mut() {
            Some(Open::Seq(items, ..)) => items.push(node),
            Some(Open::Map(entries, key, ..)) => match key.take() {
                Some(k) => entries.push((k, node)),
                None => *key = Some(node),
            },
            None => current_doc = Some(node),
        }
    }
    if let Some(d) = current_doc.take().filter(|d| !d.is_null()) {
        docs.push(d);
    }
    Ok(docs)
}

fn count(n: &Node) -> usize {
    // Bounded by MAX_DEPTH: the tree was built under that cap.
    1 + match &n.data {
        Data::Scalar(..) => 0,
        Data::Seq(items) => items.iter().map(count).sum(),
        Data::Map(entries) => entries.iter().map(|(k, v)| count(k) + count(v)).sum(),
    }
}

fn too_deep(offset: usize) -> YamlError {
    YamlError {
        offset,
        message: format!("nested more than {MAX_DEPTH} levels deep"),
    }
}

fn too_many(offset: usize) -> YamlError {
    YamlError {
        offset,
        message: format!("more than {MAX_NODES} values (aliases expanded)"),
    }
}

/// Quoted and block scalars of a document, as waiver items that no
/// waiver names: a `#` inside them is text, not a comment. (The depth is
/// the parser's, which caps nesting.)
pub fn quoted_scalars(node: &Node, items: &mut Vec<crate::scan::terraform::waivers::Item>) {
    match &node.data {
        Data::Scalar(_, true) => items.push(crate::scan::terraform::waivers::Item {
            span: node.span.clone(),
            name: String::new(),
            opaque: true,
            target: false,
        }),
        Data::Scalar(..) => {}
        Data::Seq(list) => list.iter().for_each(|n| quoted_scalars(n, items)),
        Data::Map(entries) => entries.iter().for_each(|(k, v)| {
            quoted_scalars(k, items);
            quoted_scalars(v, items);
        }),
    }
}

/// The value of a scalar as YAML 1.2's core schema reads it: quoted is a
/// string; plain `true`/`false`, numbers and null are typed.
pub fn scalar_value(text: &str, quoted: bool) -> crate::value::Value {
    use crate::value::Value;
    if quoted {
        return Value::str(text);
    }
    match text {
        "" | "~" | "null" | "Null" | "NULL" => Value::Null,
        "true" | "True" | "TRUE" => Value::Bool(true),
        "false" | "False" | "FALSE" => Value::Bool(false),
        _ => {
            let numeric = text
                .trim_start_matches(['-', '+'])
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_digit() || c == '.');
            // `01`, `1.10` and `1e3` stay strings where a reader would
            // lose what was written; plain decimal numbers are numbers.
            let canonical = !(text.len() > 1 && text.starts_with('0') && !text.starts_with("0."));
            match text.parse::<f64>() {
                Ok(n) if numeric && canonical && n.is_finite() && !text.contains(['e', 'E']) => {
                    Value::Num(n)
                }
                _ => Value::str(text),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Continuation lines indented no deeper than their key, as two of
    /// AWS's sample templates write them: read as PyYAML and CloudFormation
    /// read them, every span in the original text.
    #[test]
    fn under_indented_continuations_are_read_with_original_spans() {
        let quoted = "Outputs:\n  Instructions:\n    Value: 'Log in to the console, select\n    your instance.'\n    Other: x\n";
        let docs = parse_documents(quoted).unwrap();
        let v = docs[0].get("Outputs").unwrap().get("Instructions").unwrap();
        let value = v.get("Value").unwrap();
        assert_eq!(
            value.as_str(),
            Some("Log in to the console, select your instance.")
        );
        assert_eq!(
            quoted.get(value.span.clone()),
            Some("'Log in to the console, select\n    your instance.'")
        );
        let other = v.get("Other").unwrap();
        assert_eq!(quoted.get(other.span.clone()), Some("x"));

        let flow = "Condition:\n  StringLike:\n    's3:x': [\n        \"aws:kms\",\n        \"AES256\"\n    ]\n  Next: y\n";
        let docs = parse_documents(flow).unwrap();
        let c = docs[0].get("Condition").unwrap();
        let Data::Seq(items) = &c.get("StringLike").unwrap().get("s3:x").unwrap().data else {
            panic!()
        };
        let texts: Vec<&str> = items.iter().filter_map(Node::as_str).collect();
        assert_eq!(texts, ["aws:kms", "AES256"]);
        assert_eq!(flow.get(items[1].span.clone()), Some("\"AES256\""));
        assert_eq!(flow.get(c.get("Next").unwrap().span.clone()), Some("y"));

        // Broken YAML that is not this stays an error, at its place.
        let broken = "a: [unclosed\nb: 1\n";
        assert!(parse_documents(broken).is_err());
        // An unterminated quote over many lines is no slower than its size.
        let hostile = format!("a: 'x\n{}", "y\n".repeat(50_000));
        assert!(parse_documents(&hostile).is_err());
    }

    #[test]
    fn spans_are_bytes_and_tags_are_kept() {
        let text = "é: 1\nR:\n  V: !If [C, !Ref X, \"y\"]\n";
        let docs = parse_documents(text).unwrap_or_default();
        let [doc] = docs.as_slice() else {
            unreachable!("one document");
        };
        let v = doc.get("R").and_then(|r| r.get("V"));
        let v = v.map(|v| (v.tag.clone(), text.get(v.span.clone())));
        assert_eq!(
            v,
            Some((Some("If".to_string()), Some("!If [C, !Ref X, \"y\"]")))
        );
    }

    #[test]
    fn aliases_cannot_explode() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let p = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let e = parse_documents(&text).err().map(|e| e.message);
        assert_eq!(
            e.as_deref(),
            Some("more than 2000000 values (aliases expanded)")
        );
    }

    #[test]
    fn deep_nesting_is_an_error() {
        // The parser's own limit comes first for flow collections; ours
        // for block ones.
        let text = "[".repeat(500);
        let e = parse_documents(&text).err().map(|e| e.message);
        assert_eq!(e.as_deref(), Some("recursion limit exceeded"));
        let mut text = String::new();
        for i in 0..200 {
            text.push_str(&" ".repeat(i));
            text.push_str("a:\n");
        }
        let e = parse_documents(&text).err().map(|e| e.message);
        assert_eq!(e.as_deref(), Some("nested more than 128 levels deep"));
    }

    #[test]
    fn a_byte_order_mark_is_skipped_and_spans_stay_in_the_file() {
        let text = "\u{feff}{\"a\": \"b\"}";
        let docs = parse_documents(text).unwrap_or_default();
        let span = docs
            .first()
            .and_then(|d| d.get("a"))
            .map(|n| n.span.clone());
        assert_eq!(span.and_then(|s| text.get(s)), Some("\"b\""));
    }

    #[test]
    fn documents_are_split() {
        let docs = parse_documents("a: 1\n---\n---\nb: 2\n").unwrap_or_default();
        assert_eq!(docs.len(), 2);
    }
}
