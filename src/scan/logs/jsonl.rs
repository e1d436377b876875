//! JSON lines: one JSON object per line, any field names, nested fields by
//! path (`properties.httpStatusCode`).
//!
//! The parser walks the object once and builds only the values some rule
//! reads: the keys it needs form a small tree, a key not in the tree has
//! its value skipped (strings by `memchr`, containers by bracket counting),
//! never built. Skipped values are checked only for balanced strings and
//! brackets; the object's own structure (keys, `:`, `,`) is checked fully,
//! so a broken line is reported, not half-read.

use super::json_index::{Cursor, Index, url_plain};
use super::{
    FieldVal, FormatSpec, LineError, LineParser, Parsed, Scratch, Slot, Transform, normalize_name,
    single,
};
use crate::value::FieldPath;
use std::borrow::Cow;
use std::ops::Range;

/// Where a vocabulary field comes from in a JSON format: the field, a
/// dotted path, and the transform applied.
pub type JsonVocab = &'static [(&'static str, &'static str, Transform)];

/// Common names of the vocabulary in JSON exports (first present wins).
pub const VOCAB: JsonVocab = &[
    ("timestamp", "time", Transform::None),
    ("timestamp", "@timestamp", Transform::None),
    ("timestamp", "ts", Transform::None),
    ("timestamp", "datetime", Transform::None),
    ("timestamp", "TimeGenerated", Transform::None),
    ("timestamp", "eventTime", Transform::None),
    // A ledger's booking date (a bare `YYYY-MM-DD` is the UTC day).
    ("timestamp", "date", Transform::None),
    ("host", "hostname", Transform::Host),
    ("host", "hostName", Transform::Host),
    ("host", "http_host", Transform::Host),
    ("host", "domain", Transform::Host),
    ("host", "authority", Transform::Host),
    ("host", "url", Transform::Host),
    ("path", "uri", Transform::Path),
    ("path", "request_uri", Transform::Path),
    ("path", "requestUri", Transform::Path),
    ("path", "url", Transform::Path),
    ("method", "http_method", Transform::None),
    ("method", "httpMethod", Transform::None),
    ("method", "request_method", Transform::None),
    ("method", "verb", Transform::None),
    ("status", "status_code", Transform::None),
    ("status", "statusCode", Transform::None),
    ("status", "httpStatusCode", Transform::None),
    ("client_ip", "clientIp", Transform::Ip),
    ("client_ip", "remote_addr", Transform::Ip),
    ("client_ip", "src_ip", Transform::Ip),
    ("client_ip", "source_ip", Transform::Ip),
    ("target_ip", "targetIp", Transform::Ip),
    ("target_ip", "upstream_addr", Transform::Ip),
    ("target_ip", "backend_ip", Transform::Ip),
    ("target_ip", "dest_ip", Transform::Ip),
    ("target_ip", "originIp", Transform::Ip),
    ("bytes_in", "request_bytes", Transform::None),
    ("bytes_in", "requestBytes", Transform::None),
    ("bytes_in", "received_bytes", Transform::None),
    ("bytes_in", "request_length", Transform::None),
    ("bytes_out", "response_bytes", Transform::None),
    ("bytes_out", "responseBytes", Transform::None),
    ("bytes_out", "sent_bytes", Transform::None),
    ("bytes_out", "body_bytes_sent", Transform::None),
    ("region", "location", Transform::None),
];

/// The `jsonl` format: JSON lines, the vocabulary from [`VOCAB`]'s names.
pub const FORMAT: FormatSpec = FormatSpec {
    name: "jsonl",
    about: "JSON lines, any field names",
    json: true,
    cloud: None,
    kind: None,
    header_line: false,
    parser: |s| Box::new(JsonParser::new(s.slots, VOCAB, s.overrides)),
};

#[derive(Debug, Default)]
struct Node {
    /// The key, normalised (see [`normalize_name`]) and in lower case.
    key: Vec<u8>,
    /// Slots this value fills: (slot, rank, transform).
    targets: Vec<(usize, u8, Transform)>,
    children: Vec<usize>,
}

/// A JSON-lines parser for one run's slots.
#[derive(Debug)]
pub struct JsonParser {
    nodes: Vec<Node>,
    /// Per node, an open-addressing table of its children by the hash of
    /// their normalised key (`u32::MAX` is an empty cell; the length is a
    /// power of two, at least twice the children): a key is looked up in
    /// one hash and (almost always) one comparison, not a scan of every
    /// alias the vocabulary knows.
    tables: Vec<Vec<u32>>,
    /// Every candidate: (slot, rank, path).
    paths: Vec<(usize, u8, Vec<String>)>,
}

const EMPTY: u32 = u32::MAX;

/// A hash of a key's normalised length, first, middle and last bytes:
/// enough to tell the few keys of a node apart, and a handful of
/// instructions (collisions only cost a comparison).
fn key_hash(key: &[u8]) -> u32 {
    let n = key.len();
    let byte = |i: usize| u32::from(key.get(i).map_or(0, |c| norm_byte(*c)));
    let h = (n as u32) ^ (byte(0) << 5) ^ (byte(n / 2) << 10) ^ (byte(n.wrapping_sub(1)) << 15);
    h.wrapping_mul(0x9e37_79b1) >> 7
}

impl JsonParser {
    /// Plans `slots`: a slot is filled from its own path, then from the
    /// format's vocabulary names; `--field NAME=PATH` overrides come first.
    pub fn new(
        slots: &[FieldPath],
        vocab: JsonVocab,
        overrides: &[(String, String)],
    ) -> JsonParser {
        let mut p = JsonParser {
            nodes: vec![Node::default()],
            tables: Vec::new(),
            paths: Vec::new(),
        };
        for (slot, path) in slots.iter().enumerate() {
            let name = single(path);
            let default_t = name.map_or(Transform::None, super::vocab_transform);
            let mut candidates: Vec<(Vec<String>, Transform)> = Vec::new();
            for (n, target) in overrides {
                if Some(n.as_str()) == name {
                    candidates.push((target.split('.').map(str::to_string).collect(), default_t));
                }
            }
            candidates.push((path.0.clone(), default_t));
            if let Some(name) = name {
                for (v, target, t) in vocab {
                    if *v == name {
                        candidates.push((target.split('.').map(str::to_string).collect(), *t));
                    }
                }
            }
            for (rank, (segments, t)) in candidates.into_iter().enumerate() {
                let rank = u8::try_from(rank).unwrap_or(u8::MAX);
                p.insert(&segments, (slot, rank, t));
                p.paths.push((slot, rank, segments));
            }
        }
        p.tables = p
            .nodes
            .iter()
            .map(|n| {
                if n.children.is_empty() {
                    return Vec::new();
                }
                let size = (n.children.len() * 2).next_power_of_two().max(4);
                let mask = size - 1;
                let mut table = vec![EMPTY; size];
                for &c in &n.children {
                    // INVARIANT: a node's children are indices of `nodes`.
                    #[expect(clippy::indexing_slicing, reason = "see the INVARIANT above")]
                    let key = p.nodes[c].key.as_slice();
                    let mut at = key_hash(key) as usize & mask;
                    while table.get(at).is_some_and(|&e| e != EMPTY) {
                        at = (at + 1) & mask;
                    }
                    if let Some(cell) = table.get_mut(at) {
                        *cell = u32::try_from(c).unwrap_or(EMPTY);
                    }
                }
                table
            })
            .collect();
        p
    }

    /// Whether a top-level field of this name can fill a slot: what a
    /// columnar input (Parquet) reads of its columns, and no more.
    pub fn reads_top_level(&self, name: &str) -> bool {
        self.child(0, name.as_bytes(), false).is_some()
    }

    /// The key `name` under `node` (0 is the line's object), as the walk
    /// looks it up: what a columnar input resolves its columns and their
    /// struct children with, once, instead of once per record.
    pub(crate) fn key_node(&self, node: usize, name: &str) -> Option<usize> {
        self.child(node, name.as_bytes(), false)
    }

    /// The slots the value under `node` fills: `(slot, rank, transform)`.
    pub(crate) fn node_targets(&self, node: usize) -> &[(usize, u8, Transform)] {
        self.nodes.get(node).map_or(&[], |n| n.targets.as_slice())
    }

    /// Whether the walk reads into an object under `node` (some slot's
    /// path goes on below it).
    pub(crate) fn node_nests(&self, node: usize) -> bool {
        self.nodes.get(node).is_some_and(|n| !n.children.is_empty())
    }

    fn insert(&mut self, segments: &[String], target: (usize, u8, Transform)) {
        let mut node = 0usize;
        for seg in segments {
            let key = normalize_name(seg).to_ascii_lowercase().into_bytes();
            let existing = self.nodes.get(node).and_then(|n| {
                n.children
                    .iter()
                    .copied()
                    .find(|&c| self.nodes.get(c).is_some_and(|x| x.key == key))
            });
            node = match existing {
                Some(c) => c,
                None => {
                    let id = self.nodes.len();
                    self.nodes.push(Node {
                        key,
                        ..Node::default()
                    });
                    if let Some(n) = self.nodes.get_mut(node) {
                        n.children.push(id);
                    }
                    id
                }
            };
        }
        // Names that differ only in case (`hostname`, `hostName`) are one
        // key: the first candidate for a slot keeps it.
        if let Some(n) = self.nodes.get_mut(node)
            && !segments.is_empty()
            && !n.targets.iter().any(|t| t.0 == target.0)
        {
            n.targets.push(target);
        }
    }

    fn child(&self, node: usize, key: &[u8], escaped: bool) -> Option<usize> {
        let table = self.tables.get(node)?;
        if table.is_empty() {
            return None;
        }
        let owned;
        let key: &[u8] = if escaped {
            owned = unescape(key).ok()?;
            owned.as_bytes()
        } else {
            key
        };
        let mask = table.len() - 1;
        let mut at = key_hash(key) as usize & mask;
        loop {
            let c = *table.get(at)?;
            if c == EMPTY {
                return None;
            }
            let c = c as usize;
            // Keys are mostly written as normalised already: a plain
            // comparison first.
            if self.nodes.get(c).is_some_and(|n| {
                same_bytes(&n.key, key)
                    || (n.key.len() == key.len()
                        && n.key.iter().zip(key).all(|(a, b)| *a == norm_byte(*b)))
            }) {
                return Some(c);
            }
            at = (at + 1) & mask;
        }
    }

    fn object<'a>(
        &self,
        line: &'a str,
        mut i: usize,
        node: usize,
        out: &mut [Option<Slot<'a>>],
    ) -> Result<usize, LineError> {
        let b = line.as_bytes();
        i = expect(b, i, b'{', "expected `{`")?;
        i = ws(b, i);
        if b.get(i) == Some(&b'}') {
            return Ok(i + 1);
        }
        loop {
            if b.get(i) != Some(&b'"') {
                return Err(err(b, i, "expected a key in double quotes"));
            }
            let (key_end, escaped) = string_end(b, i)?;
            // INVARIANT: `string_end` answers just past the closing quote
            // of the string whose opening quote is at `i`.
            #[expect(clippy::indexing_slicing, reason = "see the INVARIANT above")]
            let key = &b[i + 1..key_end - 1];
            i = ws(b, key_end);
            i = expect(b, i, b':', "expected `:` after the key")?;
            i = ws(b, i);
            let start = i;
            match self.child(node, key, escaped) {
                Some(c) => {
                    let has_children = self.nodes.get(c).is_some_and(|n| !n.children.is_empty());
                    let (end, escaped) = if has_children && b.get(i) == Some(&b'{') {
                        (self.object(line, i, c, out)?, true)
                    } else if b.get(i) == Some(&b'"') {
                        string_end(b, i)?
                    } else {
                        (skip_value(b, i)?, true)
                    };
                    if let Some(n) = self.nodes.get(c)
                        && !n.targets.is_empty()
                    {
                        record(line, start, end, escaped, &n.targets, out)?;
                    }
                    i = end;
                }
                None => i = skip_value(b, i)?,
            }
            i = ws(b, i);
            match b.get(i) {
                Some(b',') => i = ws(b, i + 1),
                Some(b'}') => return Ok(i + 1),
                _ => return Err(err(b, i, "expected `,` or `}`")),
            }
        }
    }
}

/// What the parser remembers of earlier lines (in a worker's
/// [`super::Scratch`]): the `n`th key of the last line, the node it was
/// looked up under and what it found. The lines of an export almost
/// always have the same keys in the same order, so the `n`th key of this
/// line is checked against the memo in two word comparisons (a branch
/// that is nearly always taken) instead of a hash-table probe.
#[derive(Debug, Default)]
struct KeyMemo {
    entries: Vec<MemoEntry>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct MemoEntry {
    node: u32,
    len: u32,
    /// The key's bytes, zero-padded (keys of up to 16 bytes without
    /// escapes are memoised).
    words: [u64; 2],
    /// Which bytes of `words` are the key's, so that the next line's key
    /// is compared by loading 16 bytes and masking them.
    masks: [u64; 2],
    key: Key,
}

/// What a key leads to: the child node (or [`EMPTY`]), and whether that
/// node fills slots or has children of its own (so that the walk need
/// not look at the node for the many keys that are neither).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Key {
    child: u32,
    targets: bool,
    nested: bool,
}

const NO_KEY: Key = Key {
    child: EMPTY,
    targets: false,
    nested: false,
};

/// The masks of [`MemoEntry::masks`] for a key of `len <= 16` bytes.
fn key_masks(len: usize) -> [u64; 2] {
    let mask = |n: usize| match n {
        0 => 0,
        8.. => u64::MAX,
        n => (1u64 << (8 * n)) - 1,
    };
    [mask(len.min(8)), mask(len.saturating_sub(8))]
}

/// The zero-padded words of the key at `b[from..from + len]` (`len <=
/// 16`).
fn key_words(b: &[u8], from: usize, len: usize) -> [u64; 2] {
    let word = |at: usize, n: usize| -> u64 {
        if n == 0 {
            return 0;
        }
        let raw = match b.get(at..).and_then(<[u8]>::first_chunk::<8>) {
            Some(w) => u64::from_le_bytes(*w),
            None => {
                let mut w = [0u8; 8];
                // INVARIANT: the key, `n` of its bytes from `at`, is in
                // `b`, and fewer than 8 bytes are left from `at`.
                #[expect(clippy::indexing_slicing, reason = "see the INVARIANT above")]
                let avail = &b[at..at + n.min(8)];
                #[expect(clippy::indexing_slicing, reason = "see the INVARIANT above")]
                w[..avail.len()].copy_from_slice(avail);
                u64::from_le_bytes(w)
            }
        };
        if n >= 8 {
            raw
        } else {
            raw & ((1u64 << (8 * n)) - 1)
        }
    };
    [
        word(from, len.min(8)),
        word(from + 8, len.saturating_sub(8)),
    ]
}

/// What a worker keeps from one JSON line to the next: the index (rebuilt
/// for each line, so never allocated or cleared per line) and the memo
/// of keys.
#[derive(Debug, Default)]
pub struct JsonScratch {
    index: Index,
    keys: KeyMemo,
}

/// What the walk carries through nested objects besides the cursor: the
/// memo, how many keys it has met (the memo's index), and whether the
/// line has a `\` at all.
struct Walk<'m> {
    memo: &'m mut KeyMemo,
    ordinal: usize,
    has_backslash: bool,
}

impl JsonParser {
    /// The key at `b[from..to]` under `node`: from the memo when the
    /// previous line had the same key at this ordinal (the common case,
    /// inlined), else looked up ([`JsonParser::key_miss`]).
    #[inline]
    fn key(&self, walk: &mut Walk<'_>, node: usize, b: &[u8], from: usize, to: usize) -> Key {
        let n = walk.ordinal;
        walk.ordinal += 1;
        if let Some(e) = walk.memo.entries.get(n)
            && e.node == node as u32
            && e.len as usize == to.wrapping_sub(from)
            // Sixteen bytes from the key's start (a closing quote and more
            // follow it in a whole line, except near the line's end). A
            // memoised key has no `\`, so an escaped key never matches.
            && let Some(raw) = b.get(from..from + 16)
        {
            let word = |at: usize| {
                raw.get(at..at + 8)
                    .and_then(|w| <[u8; 8]>::try_from(w).ok())
                    .map_or(0, u64::from_le_bytes)
            };
            if word(0) & e.masks[0] == e.words[0] && word(8) & e.masks[1] == e.words[1] {
                return e.key;
            }
        }
        self.key_miss(walk, n, node, b, from, to)
    }

    /// [`JsonParser::key`] when the memo does not have the key: a hash
    /// lookup, remembered for the next line.
    #[cold]
    #[inline(never)]
    fn key_miss(
        &self,
        walk: &mut Walk<'_>,
        n: usize,
        node: usize,
        b: &[u8],
        from: usize,
        to: usize,
    ) -> Key {
        // INVARIANT: `from..to` is a key's span, from the line's index.
        #[expect(clippy::indexing_slicing, reason = "see the INVARIANT above")]
        let raw = &b[from..to];
        let escaped = walk.has_backslash && memchr::memchr(b'\\', raw).is_some();
        let key = match self.child(node, raw, escaped) {
            Some(c) => {
                let node = self.nodes.get(c);
                Key {
                    child: u32::try_from(c).unwrap_or(EMPTY),
                    targets: node.is_some_and(|n| !n.targets.is_empty()),
                    nested: node.is_some_and(|n| !n.children.is_empty()),
                }
            }
            None => NO_KEY,
        };
        if escaped || raw.len() > 16 {
            return key;
        }
        let entry = MemoEntry {
            node: node as u32,
            len: raw.len() as u32,
            words: key_words(b, from, raw.len()),
            masks: key_masks(raw.len()),
            key,
        };
        if let Some(e) = walk.memo.entries.get_mut(n) {
            *e = entry;
        } else if walk.memo.entries.len() == n {
            walk.memo.entries.push(entry);
        }
        key
    }

    /// The fast walk over the structural index: `Some` when the line is an
    /// object it could read completely, with `out` filled exactly as
    /// [`JsonParser::object`] fills it; `None` when the line is too long to
    /// index or anything about it is unexpected, and the byte-by-byte
    /// parser must decide (and explain).
    fn indexed<'a>(
        &self,
        line: &'a str,
        out: &mut [Option<Slot<'a>>],
        scratch: &mut JsonScratch,
    ) -> Option<()> {
        let b = line.as_bytes();
        if !scratch.index.build(b) {
            return None;
        }
        let mut cur = Cursor::new(&scratch.index);
        let mut walk = Walk {
            memo: &mut scratch.keys,
            ordinal: 0,
            has_backslash: scratch.index.has_backslash,
        };
        let open = cur.next_event();
        if b.get(open) != Some(&b'{') || !blank(b, 0, open) {
            return None;
        }
        let end = self.indexed_object(line, &mut cur, &mut walk, open, 0, out)?;
        (ws(b, end) == b.len()).then_some(())
    }

    /// The object whose `{` is at `open` (the cursor just past it), as
    /// [`JsonParser::object`] reads it; returns one past its `}`.
    ///
    /// The cursor is a parameter of its own (not a field of `walk`) so
    /// that it stays in registers: only the rare nested object that holds
    /// wanted keys is read by a call that takes it.
    fn indexed_object<'a>(
        &self,
        line: &'a str,
        cur: &mut Cursor<'_>,
        walk: &mut Walk<'_>,
        open: usize,
        node: usize,
        out: &mut [Option<Slot<'a>>],
    ) -> Option<usize> {
        let b = line.as_bytes();
        let mut after = open + 1;
        let mut first = true;
        loop {
            let key_open = cur.next_event();
            if key_open != after && !blank(b, after, key_open) {
                return None;
            }
            match b.get(key_open) {
                Some(b'"') => {}
                Some(b'}') if first => return Some(key_open + 1),
                _ => return None,
            }
            first = false;
            // After an opening quote, the next position is its closing
            // quote: the index masks everything inside a string, and a
            // line that ends inside one is never indexed.
            let key_close = cur.next_event();
            // `:` and `,` are not in the index: they are checked where
            // they must be, past any whitespace.
            let mut colon = key_close + 1;
            if b.get(colon) != Some(&b':') {
                colon = ws(b, colon);
                if b.get(colon) != Some(&b':') {
                    return None;
                }
            }
            let key = self.key(walk, node, b, key_open + 1, key_close);
            let mut start = colon + 1;
            let mut c = *b.get(start)?;
            if matches!(c, b' ' | b'\t' | b'\r' | b'\n') {
                start = ws(b, start);
                c = *b.get(start)?;
            }
            let (end, escaped) = match c {
                b'"' => {
                    // The value's own quotes are the next two positions.
                    if cur.next_event() != start {
                        return None;
                    }
                    let close = cur.next_event();
                    // INVARIANT: `close` is the quote that closes the string
                    // opened at `start` (the index's next event after it).
                    #[expect(clippy::indexing_slicing, reason = "see the INVARIANT above")]
                    let escaped =
                        walk.has_backslash && memchr::memchr(b'\\', &b[start + 1..close]).is_some();
                    (close + 1, escaped)
                }
                b'{' | b'[' => {
                    if cur.next_event() != start {
                        return None;
                    }
                    let end = if c == b'{' && key.nested {
                        self.indexed_object(line, cur, walk, start, key.child as usize, out)?
                    } else {
                        skip_indexed(b, cur, start)?
                    };
                    (end, true)
                }
                b'0'..=b'9' | b'-' => (number_end(b, start + 1), true),
                _ => (skip_value(b, start).ok()?, true),
            };
            if key.targets
                && let Some(n) = self.nodes.get(key.child as usize)
            {
                record(line, start, end, escaped, &n.targets, out).ok()?;
            }
            let mut sep = end;
            let mut next = b.get(sep).copied();
            if matches!(next, Some(b' ' | b'\t' | b'\r' | b'\n')) {
                sep = ws(b, sep);
                next = b.get(sep).copied();
            }
            match next {
                Some(b',') => after = sep + 1,
                Some(b'}') if cur.next_event() == sep => return Some(sep + 1),
                _ => return None,
            }
        }
    }
}

/// One past the last byte of the number whose first byte is before `i`:
/// the bytes a JSON number is written with (checked as [`skip_value`]
/// checks them).
#[inline]
fn number_end(b: &[u8], mut i: usize) -> usize {
    while matches!(
        b.get(i),
        Some(b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-')
    ) {
        i += 1;
    }
    i
}

impl LineParser for JsonParser {
    /// The path of the key that holds the value at `span`: the
    /// candidate's path, its last key as the line writes it (found by
    /// reading back from the value to the key before it).
    fn source_name(&self, slot: usize, rank: u8, line: &str, span: Range<usize>) -> Option<String> {
        let path = self
            .paths
            .iter()
            .find(|(s, r, _)| *s == slot && *r == rank)?;
        let b = line.as_bytes();
        let mut i = span.start;
        // Back past the value's opening quote, blanks, `:`, blanks.
        if i > 0 && b.get(i - 1) == Some(&b'"') {
            i -= 1;
        }
        while i > 0
            && b.get(i - 1)
                .is_some_and(|c| matches!(c, b' ' | b'\t' | b':'))
        {
            i -= 1;
        }
        let written = (b.get(i.wrapping_sub(1)) == Some(&b'"'))
            .then(|| {
                let close = i - 1;
                let open = memchr::memrchr(b'"', b.get(..close)?)?;
                line.get(open + 1..close)
            })
            .flatten();
        let mut segments: Vec<&str> = path.2.iter().map(String::as_str).collect();
        if let (Some(w), Some(last)) = (written, segments.last_mut())
            && normalize_name(w).eq_ignore_ascii_case(&normalize_name(last))
        {
            *last = w;
        }
        Some(segments.join("."))
    }

    fn parse<'a>(&self, line: &'a str, out: &mut [Option<Slot<'a>>]) -> Result<Parsed, LineError> {
        self.parse_with(line, out, &mut Scratch::default())
    }

    fn parse_with<'a>(
        &self,
        line: &'a str,
        out: &mut [Option<Slot<'a>>],
        scratch: &mut Scratch,
    ) -> Result<Parsed, LineError> {
        if self.indexed(line, out, &mut scratch.json).is_some() {
            return Ok(Parsed::Record);
        }
        out.iter_mut().for_each(|s| *s = None);
        self.parse_bytewise(line, out)
    }
}

impl JsonParser {
    /// The byte-by-byte parser: slower than the indexed walk, but it reads
    /// any line and says what is wrong with a broken one.
    fn parse_bytewise<'a>(
        &self,
        line: &'a str,
        out: &mut [Option<Slot<'a>>],
    ) -> Result<Parsed, LineError> {
        let b = line.as_bytes();
        let i = ws(b, 0);
        if b.get(i) != Some(&b'{') {
            return Err(err(b, i, "a JSON line must hold one object `{…}`"));
        }
        let end = self.object(line, i, 0, out)?;
        let rest = ws(b, end);
        if rest < b.len() {
            return Err(LineError::new(
                "unexpected text after the JSON object",
                rest..b.len(),
            ));
        }
        Ok(Parsed::Record)
    }
}

/// `a == b` for short keys without a call to `memcmp`: keys of 8 to 16
/// bytes are compared as their first and last eight bytes.
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let n = a.len();
    if (8..=16).contains(&n) {
        let word = |s: &[u8], at: usize| {
            s.get(at..at + 8)
                .and_then(|w| <[u8; 8]>::try_from(w).ok())
                .map(u64::from_ne_bytes)
        };
        return word(a, 0) == word(b, 0) && word(a, n - 8) == word(b, n - 8);
    }
    if n < 8 {
        return a.iter().zip(b).all(|(x, y)| x == y);
    }
    a == b
}

/// A key's byte as the tree holds it: names match without regard to
/// ASCII case (`Timestamp`, `Client_IP`), and every character other than
/// a letter, digit or `_` is `_`.
fn norm_byte(c: u8) -> u8 {
    if c.is_ascii_alphanumeric() || c == b'_' {
        c.to_ascii_lowercase()
    } else {
        b'_'
    }
}

fn err(b: &[u8], i: usize, what: &str) -> LineError {
    let at = i.min(b.len());
    let found = match b.get(at) {
        None => "the end of the line".to_string(),
        Some(c) if c.is_ascii_graphic() => format!("`{}`", *c as char),
        Some(_) => "a control or non-ASCII character".to_string(),
    };
    LineError::new(
        format!("{what}, found {found}"),
        at..(at + 1).min(b.len().max(at)),
    )
}

fn ws(b: &[u8], mut i: usize) -> usize {
    while matches!(b.get(i), Some(b' ' | b'\t' | b'\r' | b'\n')) {
        i += 1;
    }
    i
}

fn expect(b: &[u8], i: usize, c: u8, what: &str) -> Result<usize, LineError> {
    if b.get(i) == Some(&c) {
        Ok(i + 1)
    } else {
        Err(err(b, i, what))
    }
}

/// The end (one past the closing quote) of the string starting at `i`,
/// and whether it has escapes.
fn string_end(b: &[u8], i: usize) -> Result<(usize, bool), LineError> {
    let mut j = i + 1;
    let mut escaped = false;
    loop {
        match super::find_either(b, j, b'"', b'\\') {
            None => {
                return Err(LineError::new("unterminated string", i..b.len()));
            }
            Some(at) => {
                if b.get(at) == Some(&b'"') {
                    return Ok((at + 1, escaped));
                }
                escaped = true;
                j = at + 2;
            }
        }
    }
}

/// Skips one JSON value starting at `i`, returning where it ends.
fn skip_value(b: &[u8], i: usize) -> Result<usize, LineError> {
    match b.get(i) {
        Some(b'"') => string_end(b, i).map(|(e, _)| e),
        Some(b'{' | b'[') => {
            // The open brackets as bits (1 for `{`), the innermost lowest;
            // nesting beyond 64 spills to a vector, never allocated on
            // ordinary lines.
            let mut bits: u64 = 0;
            let mut depth: usize = 0;
            let mut spill: Vec<u64> = Vec::new();
            let mut j = i;
            loop {
                match b.get(j) {
                    None => return Err(LineError::new("unclosed `{` or `[`", i..b.len())),
                    Some(b'"') => {
                        j = string_end(b, j)?.0;
                        continue;
                    }
                    Some(c @ (b'{' | b'[')) => {
                        if depth > 0 && depth.is_multiple_of(64) {
                            spill.push(bits);
                            bits = 0;
                        }
                        bits = (bits << 1) | u64::from(*c == b'{');
                        depth += 1;
                    }
                    Some(c @ (b'}' | b']')) => {
                        if depth == 0 || (bits & 1 == 1) != (*c == b'}') {
                            return Err(err(b, j, "mismatched bracket"));
                        }
                        bits >>= 1;
                        depth -= 1;
                        if depth == 0 {
                            return Ok(j + 1);
                        }
                        if depth.is_multiple_of(64) {
                            bits = spill.pop().unwrap_or(0);
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
        }
        Some(b't') => literal(b, i, b"true"),
        Some(b'f') => literal(b, i, b"false"),
        Some(b'n') => literal(b, i, b"null"),
        Some(c) if *c == b'-' || c.is_ascii_digit() => Ok(number_end(b, i + 1)),
        _ => Err(err(b, i, "expected a JSON value")),
    }
}

/// Skips the array or object whose bracket is at `open` (the cursor just
/// past it) over the structural index, checking what [`skip_value`]
/// checks: brackets match. Returns one past the closing bracket; `None`
/// when they do not match or nest deeper than 64 (left to `skip_value`).
fn skip_indexed(b: &[u8], cur: &mut Cursor<'_>, open: usize) -> Option<usize> {
    // The open brackets as bits (1 for `{`), the innermost lowest.
    let mut bits = u64::from(b.get(open) == Some(&b'{'));
    let mut depth = 1u32;
    loop {
        let at = cur.next_event();
        match b.get(at)? {
            c @ (b'{' | b'[') => {
                if depth == 64 {
                    return None;
                }
                bits = (bits << 1) | u64::from(*c == b'{');
                depth += 1;
            }
            c @ (b'}' | b']') => {
                if (bits & 1 == 1) != (*c == b'}') {
                    return None;
                }
                bits >>= 1;
                depth -= 1;
                if depth == 0 {
                    return Some(at + 1);
                }
            }
            _ => {}
        }
    }
}

/// Whether `b[from..to]` is only whitespace (and `from <= to`).
fn blank(b: &[u8], from: usize, to: usize) -> bool {
    from == to || (from < to && ws(b, from) >= to)
}

fn literal(b: &[u8], i: usize, word: &[u8]) -> Result<usize, LineError> {
    if b.get(i..i + word.len()) == Some(word) {
        Ok(i + word.len())
    } else {
        Err(err(b, i, "expected `true`, `false` or `null`"))
    }
}

/// Builds the value at `start..end` and fills the slots that want it.
///
/// The common case, a string without escapes that fills one slot, is
/// read inline; the rest by [`record_any`].
#[inline]
fn record<'a>(
    line: &'a str,
    start: usize,
    end: usize,
    escaped: bool,
    targets: &[(usize, u8, Transform)],
    out: &mut [Option<Slot<'a>>],
) -> Result<(), LineError> {
    let b = line.as_bytes();
    let ([(slot, rank, t)], Some(b'"'), false) = (targets, b.get(start), escaped) else {
        return record_any(line, start, end, escaped, targets, out);
    };
    let (rank, t) = (*rank, *t);
    let Some(o) = super::vacant(out, *slot, rank) else {
        return Ok(());
    };
    let inner = start + 1..end.saturating_sub(1);
    // INVARIANT: `start..end` is a string value, quotes included, so
    // `inner` is its text, between two ASCII quotes.
    let raw = &line[inner.clone()];
    if let Some((val, span)) = plain_string(b, raw, inner.start, t) {
        *o = Some(Slot {
            val,
            span: Some(span),
            rank,
        });
    }
    Ok(())
}

/// The value of a string without escapes, `raw`, at `at` in the line `b`,
/// after the transform `t`; `None` when nothing is left of it.
#[inline]
fn plain_string<'a>(
    b: &[u8],
    raw: &'a str,
    at: usize,
    t: Transform,
) -> Option<(FieldVal<'a>, Range<usize>)> {
    // `-` is the logs' word for "none" (API Gateway's `responseLength`
    // of a response without a body), as in the text formats.
    if raw.is_empty() || raw == "-" {
        return None;
    }
    // A host or path with none of `:` `?` `#` (nor `/`, for a host),
    // found in a vector compare, is kept whole: what the transform would
    // keep (`[`, an IPv6 host, is left to it).
    let whole = t == Transform::None
        || (matches!(t, Transform::Host | Transform::Path)
            && !raw.starts_with('[')
            && url_plain(b, at, at + raw.len())
                .is_some_and(|(marks, slashes)| marks && (slashes || t == Transform::Path)));
    if whole {
        return Some((FieldVal::Str(Cow::Borrowed(raw)), at..at + raw.len()));
    }
    let r = super::transform(t, raw)?;
    // INVARIANT: a transform answers a span of its value, cut at ASCII
    // bytes.
    Some((
        FieldVal::Str(Cow::Borrowed(&raw[r.clone()])),
        at + r.start..at + r.end,
    ))
}

/// [`record`] for any value and any number of slots.
#[inline(never)]
fn record_any<'a>(
    line: &'a str,
    start: usize,
    end: usize,
    escaped: bool,
    targets: &[(usize, u8, Transform)],
    out: &mut [Option<Slot<'a>>],
) -> Result<(), LineError> {
    let b = line.as_bytes();
    let first = b.get(start).copied();
    let inner = start + 1..end.saturating_sub(1);
    for &(slot, rank, t) in targets {
        let Some(o) = super::vacant(out, slot, rank) else {
            continue;
        };
        // INVARIANT: `start..end` is a value of the line, from its index or
        // walk, and `inner` the text of a string value, between its quotes.
        let text = &line[start..end];
        let (val, span) = match first {
            Some(b'"') if !escaped => {
                let raw = &line[inner.clone()];
                match plain_string(b, raw, inner.start, t) {
                    Some(v) => v,
                    None => continue,
                }
            }
            Some(b'"') => {
                let raw = &line[inner.clone()];
                let s =
                    unescape(raw.as_bytes()).map_err(|why| LineError::new(why, inner.clone()))?;
                match super::transform(t, &s) {
                    // INVARIANT: a transform answers a span of its value,
                    // cut at ASCII bytes.
                    Some(r) if !s.is_empty() => {
                        (FieldVal::Str(Cow::Owned(s[r].to_string())), inner.clone())
                    }
                    _ => continue,
                }
            }
            Some(b'{' | b'[') => (FieldVal::Raw(text), start..end),
            Some(b't') => (FieldVal::Bool(true), start..end),
            Some(b'f') => (FieldVal::Bool(false), start..end),
            Some(b'n') => (FieldVal::Null, start..end),
            _ => match small_integer(text).map_or_else(|| text.parse::<f64>(), Ok) {
                Ok(n) => (FieldVal::Num(n), start..end),
                Err(_) => {
                    return Err(LineError::new(
                        format!("`{text}` is not a number"),
                        start..end,
                    ));
                }
            },
        };
        *o = Some(Slot {
            val,
            span: Some(span),
            rank,
        });
    }
    Ok(())
}

/// A number written as at most 15 digits (a status, a byte count) as
/// `f64`, without the general float parser; 15 digits are exact in an
/// `f64`, so the value is the one `parse::<f64>` gives.
fn small_integer(text: &str) -> Option<f64> {
    let (negative, digits) = match text.as_bytes() {
        [b'-', rest @ ..] => (true, rest),
        all => (false, all),
    };
    if digits.is_empty() || digits.len() > 15 {
        return None;
    }
    let mut n = 0i64;
    for d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        n = n * 10 + i64::from(d - b'0');
    }
    Some(if negative { -(n as f64) } else { n as f64 })
}

/// Undoes JSON string escapes.
pub fn unescape(raw: &[u8]) -> Result<String, String> {
    let mut out: Vec<u8> = Vec::with_capacity(raw.len());
    let mut i = 0;
    while let Some(&c) = raw.get(i) {
        if c != b'\\' {
            out.push(c);
            i += 1;
            continue;
        }
        let e = raw.get(i + 1).copied().ok_or("a `\\` ends the string")?;
        i += 2;
        let ch = match e {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let hex = |at: usize| -> Result<u32, String> {
                    let h = raw
                        .get(at..at + 4)
                        .ok_or("a `\\u` escape needs four hex digits")?;
                    let h = std::str::from_utf8(h).map_err(|_| "bad `\\u` escape".to_string())?;
                    u32::from_str_radix(h, 16).map_err(|_| format!("`\\u{h}` is not a hex escape"))
                };
                let hi = hex(i)?;
                i += 4;
                let code = if (0xD800..0xDC00).contains(&hi) {
                    if raw.get(i..i + 2) != Some(b"\\u") {
                        return Err("an unpaired surrogate in a `\\u` escape".into());
                    }
                    let lo = hex(i + 2)?;
                    i += 6;
                    0x10000 + ((hi - 0xD800) << 10) + (lo.wrapping_sub(0xDC00) & 0x3FF)
                } else {
                    hi
                };
                char::from_u32(code).ok_or("a `\\u` escape that is not a character")?
            }
            other => return Err(format!("`\\{}` is not a JSON escape", other as char)),
        };
        let mut buf = [0u8; 4];
        out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
    }
    String::from_utf8(out).map_err(|_| "the string is not UTF-8".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slots(names: &[&str]) -> Vec<FieldPath> {
        names
            .iter()
            .map(|n| FieldPath(n.split('.').map(str::to_string).collect()))
            .collect()
    }

    fn parse(p: &JsonParser, n: usize, line: &str) -> Result<Vec<Option<String>>, LineError> {
        let mut out = vec![None; n];
        p.parse(line, &mut out)?;
        Ok(out
            .into_iter()
            .map(|s| s.map(|s| s.val.to_string()))
            .collect())
    }

    #[test]
    fn reads_only_what_is_asked_with_aliases_and_nesting() {
        let p = JsonParser::new(
            &slots(&["host", "path", "status", "properties.pop"]),
            VOCAB,
            &[],
        );
        let line = r#"{"hostName":"api.openai.com:443","x":{"deep":[1,{"a":"}"}]},"url":"https://h/v1/chat/completions?q","status":200,"properties":{"pop":"AMS"}}"#;
        assert_eq!(
            parse(&p, 4, line).unwrap(),
            vec![
                Some("api.openai.com".into()),
                Some("/v1/chat/completions".into()),
                Some("200".into()),
                Some("AMS".into())
            ]
        );
        // `host` itself wins over `hostName`, whatever the order.
        let line = r#"{"hostName":"b","host":"a"}"#;
        assert_eq!(parse(&p, 4, line).unwrap()[0], Some("a".into()));
    }

    #[test]
    fn escapes_and_errors() {
        let p = JsonParser::new(&slots(&["path"]), VOCAB, &[]);
        assert_eq!(
            parse(&p, 1, r#"{"path":"\/v1\u00e9"}"#).unwrap()[0],
            Some("/v1é".into())
        );
        for bad in [
            r#"{"path":"x""#,
            r#"{"a" 1}"#,
            r#"{"a":[1}"#,
            r#"{"a":1} x"#,
            "[1]",
            r#"{"a":tru}"#,
        ] {
            assert!(parse(&p, 1, bad).is_err(), "{bad}");
        }
    }

    /// A host or path read whole after the vector test is what the
    /// transform keeps, for values built from the bytes that matter, of
    /// every length up to past the 32 bytes the test reads.
    #[test]
    fn plain_hosts_and_paths_agree_with_the_transform() {
        let mut whole = 0;
        for n in 0..40_000u32 {
            let mut value = crate::scan::logs::transform::tests::url_like(n);
            // Longer values too, so that the 32-byte limit is crossed.
            if n % 3 == 0 {
                value = format!("{}{value}", "x".repeat((n % 29) as usize));
            }
            let line = format!(r#"{{"host":"{value}","pad":"{}"}}"#, "p".repeat(40));
            let at = 9;
            let raw = line.get(at..at + value.len()).unwrap_or("");
            for t in [Transform::Host, Transform::Path] {
                let fast = plain_string(line.as_bytes(), raw, at, t);
                let general = crate::scan::logs::transform(t, raw).map(|r| {
                    (
                        raw.get(r.clone()).unwrap_or("").to_string(),
                        at + r.start..at + r.end,
                    )
                });
                let fast = fast.map(|(v, span)| (v.to_string(), span));
                assert_eq!(fast, general, "{t:?} of {value}");
                if url_plain(line.as_bytes(), at, at + raw.len())
                    .is_some_and(|(m, s)| m && (s || t == Transform::Path))
                {
                    whole += 1;
                }
            }
        }
        assert!(whole > 1000, "only {whole} values read whole");
    }

    /// Every line the indexed walk reads, the byte-by-byte parser reads
    /// the same (values, spans and ranks), over thousands of lines mutated
    /// at random from realistic ones: the walk may give up on a line, but
    /// never read one differently. (Lines it gives up on go to the
    /// byte-by-byte parser, so errors are its by construction.)
    #[test]
    fn the_indexed_walk_reads_what_the_bytewise_parser_reads() {
        let p = JsonParser::new(
            &slots(&[
                "host",
                "path",
                "status",
                "properties.pop",
                "timestamp",
                "tags",
                "weird key",
            ]),
            VOCAB,
            &[],
        );
        let seeds = [
            r#"{"timestamp":"2026-05-19T03:40:22.013Z","host":"eastus2.openai.azure.com","path":"/v1/chat/completions","status":200,"trace":{"id":"t-2","tags":["gw","egress"]},"ok":true,"n":null}"#,
            r#" { "hostName" : "api.openai.com:443" , "url":"https://h/v1/x?q=\"}\"" ,"properties":{"pop":"AMS","x":[{"a":"]"}]},"tags":[1,2] } "#,
            r#"{"weird-key":"\u00e9\/","status":-1.5e3,"properties":{},"empty":[],"o":{}}"#,
            r#"{}"#,
            // Pairs that follow each other, to trip the memo: the same key
            // at the same ordinal under another object, and keys of the
            // same length that differ only past their eighth byte.
            r#"{"properties":{"pop":"AMS"},"status":1}"#,
            r#"{"x":"1","pop":"FRA","status":2}"#,
            r#"{"timestamp":"2026-05-19","host":"a"}"#,
            r#"{"timestamq":"2026-05-19","hosu":"b"}"#,
        ];
        let palette: &[&str] = &[
            "{", "}", "[", "]", ":", ",", "\"", "\\", " ", "x", "1", "\\\"", "{}",
        ];
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut read_fast = 0;
        let mut read_warm = 0;
        let mut shared = JsonScratch::default();
        for round in 0..6000 {
            let seed = seeds.get(round % seeds.len()).copied().unwrap_or("{}");
            let mut line = seed.to_string();
            for _ in 0..(next() % 3) {
                let at = (next() as usize) % (line.len() + 1);
                let at = (0..=at)
                    .rev()
                    .find(|&i| line.is_char_boundary(i))
                    .unwrap_or(0);
                match next() % 3 {
                    0 => {
                        let end = (at + 1..=line.len()).find(|&i| line.is_char_boundary(i));
                        if let Some(end) = end {
                            line.replace_range(at..end, "");
                        }
                    }
                    _ => {
                        let piece = palette
                            .get((next() as usize) % palette.len())
                            .copied()
                            .unwrap_or("x");
                        line.insert_str(at, piece);
                    }
                }
            }
            // Long lines cross the index's 64-byte blocks at every offset.
            if round % 5 == 4 {
                line = line.replacen(
                    "\"path\"",
                    &format!("\"pad\":\"{}\",\"path\"", "p".repeat(round % 97)),
                    1,
                );
            }
            // A memo warmed by the previous lines, whose keys differ from
            // this one's anywhere from the first key to none.
            let mut warm = vec![None; 7];
            if p.indexed(&line, &mut warm, &mut shared).is_some() {
                let mut slow = vec![None; 7];
                assert!(p.parse_bytewise(&line, &mut slow).is_ok(), "{line}");
                assert_eq!(format!("{warm:?}"), format!("{slow:?}"), "{line}");
                read_warm += 1;
            }
            let mut fast = vec![None; 7];
            let mut memo = JsonScratch::default();
            // Twice, so that the second reading goes through the memo.
            for _ in 0..2 {
                fast.iter_mut().for_each(|s| *s = None);
                if p.indexed(&line, &mut fast, &mut memo).is_none() {
                    break;
                }
            }
            if p.indexed(&line, &mut fast.clone(), &mut memo).is_none() {
                continue;
            }
            read_fast += 1;
            let mut slow = vec![None; 7];
            let slow_ok = p.parse_bytewise(&line, &mut slow);
            assert!(
                slow_ok.is_ok(),
                "the walk read a line the parser rejects: {line}"
            );
            let show = |v: &[Option<Slot<'_>>]| format!("{v:?}");
            assert_eq!(show(&fast), show(&slow), "{line}");
        }
        // The mutations leave most lines readable, so the comparison is
        // not vacuous.
        assert!(read_fast > 2000, "only {read_fast} lines read by the walk");
        assert!(
            read_warm > 2000,
            "only {read_warm} lines read with a warm memo"
        );
    }
}
