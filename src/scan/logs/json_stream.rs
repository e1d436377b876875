//! JSON documents as the vendors write them, turned into one record per
//! line as they stream by: pretty-printed objects one after another (as
//! Microsoft's documentation prints Front Door records), several objects
//! on one line, `{"records": […]}` documents (Azure diagnostic logs as
//! Event Hubs sends them, and as storage writes some of them), a bare
//! top-level array of records, each with or without a UTF-8 byte-order
//! mark.
//!
//! The design choice: a byte-level transducer ([`RecordLines`], a
//! [`Read`] over another `Read`) that does not parse JSON, only follows
//! strings and brackets, so its memory is a fixed buffer whatever the
//! size of the document (a 1 GB `{"records": […]}` document used to be
//! read whole, at twice its size in memory). Each record comes out as one
//! line, its own line breaks turned into spaces (a JSON string holds
//! none), on the line of the input it starts on (blank lines are written
//! in between), or on the next free line when several start on the same
//! input line. The JSON-lines parser then reads each line and has the
//! final say: a broken record is its malformed line, with the reason.
//!
//! Recovery from a broken record: a `{` at the start of a line where no
//! value can start (after anything but `:` `,` `[`), or any `{` at the
//! start of a line once the open record is longer than a line may be,
//! begins a new top-level value; a line break inside a string ends the
//! string (JSON strings hold no raw line breaks). So one truncated record
//! costs one malformed line, not the rest of the file.

use std::io::{self, Read};

/// Bytes a record may have before a `{` at the start of a line is taken
/// as the start of the next top-level value whatever precedes it (the
/// longest line the audit reads).
const RECORD_LIMIT: usize = 1 << 20;

/// Bytes after a top-level `{` looked at to tell `{"records": [` from a
/// record (a longer first key is not `"records"`).
const HEAD_LIMIT: usize = 256;

/// Whether `head` (the first bytes of an input) is a JSON document that
/// is not one object per line: a `{"records": …}` wrapper, a top-level
/// array, or a first object that does not end on its first line (or is
/// followed by more on that line). JSON lines are read as they are,
/// without [`RecordLines`].
pub fn is_document(head: &[u8]) -> bool {
    let text = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    let rest = text.trim_ascii_start();
    match rest.first() {
        Some(b'[') => true,
        Some(b'{') => {
            if wrapper_prefix(rest) != Some(false) {
                return true;
            }
            // Follow the first object to its end: on its first line, with
            // nothing but blanks after it, it is a JSON line.
            let (mut depth, mut in_str, mut esc) = (0usize, false, false);
            for (i, &c) in rest.iter().enumerate() {
                if in_str {
                    match (esc, c) {
                        (true, _) => esc = false,
                        (false, b'\\') => esc = true,
                        (false, b'"') => in_str = false,
                        (false, b'\n') => return true,
                        _ => {}
                    }
                    continue;
                }
                match c {
                    b'"' => in_str = true,
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth = depth.saturating_sub(1);
                        if depth == 0 {
                            // INVARIANT: `i` is the place of a byte of
                            // `rest`, and `line_end` at most what follows.
                            #[expect(clippy::indexing_slicing, reason = "see the INVARIANT above")]
                            let after = &rest[i + 1..];
                            let line_end = memchr::memchr(b'\n', after).unwrap_or(after.len());
                            #[expect(clippy::indexing_slicing, reason = "see the INVARIANT above")]
                            let line_rest = &after[..line_end];
                            return !line_rest.iter().all(u8::is_ascii_whitespace);
                        }
                    }
                    b'\n' => return true,
                    _ => {}
                }
            }
            // The head ends inside the first object: a line longer than
            // the head is no JSON line of an export; read it as a document.
            true
        }
        _ => false,
    }
}

/// Whether `b` (from a top-level `{`) starts `{"records": [`: `Some(true)`,
/// `Some(false)`, or `None` while it cannot tell yet.
fn wrapper_prefix(b: &[u8]) -> Option<bool> {
    let mut i = 1;
    let skip_ws = |i: &mut usize| {
        while b.get(*i).is_some_and(u8::is_ascii_whitespace) {
            *i += 1;
        }
    };
    for want in [&b"\"records\""[..], b":", b"["] {
        skip_ws(&mut i);
        for &w in want {
            match b.get(i) {
                None => {
                    return if b.len() > HEAD_LIMIT {
                        Some(false)
                    } else {
                        None
                    };
                }
                Some(&c) if c == w => i += 1,
                Some(_) => return Some(false),
            }
        }
    }
    Some(true)
}

/// Where the transducer is.
#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    /// Between top-level values.
    Top,
    /// Just after a top-level `{`, holding its bytes until it is clear
    /// whether it opens `{"records": [`.
    Head(Vec<u8>),
    /// Inside an array of records, between elements: the array of a
    /// `{"records": …}` wrapper (`wrapper`) or a top-level one.
    Array { wrapper: bool },
    /// Writing out a record (or any value, or a line that is no JSON).
    Value(Value),
    /// After the records array of a wrapper: skipping to its `}`.
    WrapperTail {
        depth: usize,
        in_str: bool,
        esc: bool,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Value {
    depth: usize,
    in_str: bool,
    esc: bool,
    /// An element of an array (ends at `,` or `]` at depth 0).
    in_array: Option<bool>,
    /// A line that is not JSON, passed on to its end.
    raw_line: bool,
    /// Bytes written for this record.
    len: usize,
}

/// Records of a JSON document, one per line (see the module docs).
pub struct RecordLines<R> {
    inner: R,
    input: Vec<u8>,
    out: Vec<u8>,
    out_at: usize,
    state: State,
    /// The input line of the next byte (1-based).
    in_line: u64,
    /// Lines written so far.
    out_lines: u64,
    /// The last byte seen was a line break (or nothing has been seen).
    line_start: bool,
    /// The last byte other than whitespace, outside strings.
    last_sig: u8,
    /// Bytes of a byte-order mark matched at the top level.
    bom: usize,
    eof: bool,
    /// A read error of the input, returned once what came before it has
    /// been passed on.
    pending_err: Option<io::Error>,
}

impl<R: Read> RecordLines<R> {
    pub fn new(inner: R) -> RecordLines<R> {
        RecordLines {
            inner,
            input: vec![0; 64 << 10],
            out: Vec::with_capacity(80 << 10),
            out_at: 0,
            state: State::Top,
            in_line: 1,
            out_lines: 0,
            line_start: true,
            last_sig: b'\n',
            bom: 0,
            eof: false,
            pending_err: None,
        }
    }

    /// Starts a record on the line it starts on (or the next free one).
    fn begin(&mut self) {
        while self.out_lines + 1 < self.in_line {
            self.out.push(b'\n');
            self.out_lines += 1;
        }
    }

    fn end_record(&mut self) {
        self.out.push(b'\n');
        self.out_lines += 1;
    }

    /// Whether `c`, a `{` at the start of a line, starts a new top-level
    /// value, ending whatever is open.
    fn restarts(&self, c: u8, len: usize) -> bool {
        c == b'{'
            && self.line_start
            && (!matches!(self.last_sig, b':' | b',' | b'[') || len > RECORD_LIMIT)
    }

    fn feed(&mut self, c: u8) {
        let state = std::mem::replace(&mut self.state, State::Top);
        self.state = match state {
            State::Top => self.top(c),
            State::Head(mut buf) => {
                buf.push(c);
                match wrapper_prefix(&buf) {
                    None => State::Head(buf),
                    Some(true) => {
                        self.in_line += buf.iter().filter(|&&b| b == b'\n').count() as u64;
                        State::Array { wrapper: true }
                    }
                    Some(false) => {
                        // A record: written out from its `{`, the bytes
                        // after it fed again as the record's.
                        self.begin();
                        self.out.push(b'{');
                        self.state = State::Value(Value {
                            depth: 1,
                            len: 1,
                            ..Value::new(None)
                        });
                        self.line_start = false;
                        self.last_sig = b'{';
                        for &b in buf.iter().skip(1) {
                            self.feed(b);
                        }
                        std::mem::replace(&mut self.state, State::Top)
                    }
                }
            }
            State::Array { wrapper } => match c {
                b'\n' => {
                    self.in_line += 1;
                    State::Array { wrapper }
                }
                b' ' | b'\t' | b'\r' | b',' => State::Array { wrapper },
                b']' if wrapper => State::WrapperTail {
                    depth: 1,
                    in_str: false,
                    esc: false,
                },
                b']' => State::Top,
                b'{' if self.restarts(c, 0) => self.top(c),
                _ => {
                    self.begin();
                    let v = Value::new(Some(wrapper));
                    self.value(v, c)
                }
            },
            State::Value(v) => self.value(v, c),
            State::WrapperTail { depth, in_str, esc } => {
                if c == b'\n' {
                    self.in_line += 1;
                }
                if in_str {
                    let (in_str, esc) = match (esc, c) {
                        (true, _) => (true, false),
                        (false, b'\\') => (true, true),
                        (false, b'"' | b'\n') => (false, false),
                        _ => (true, false),
                    };
                    State::WrapperTail { depth, in_str, esc }
                } else if self.restarts(c, 0) {
                    self.top(c)
                } else {
                    match c {
                        b'"' => State::WrapperTail {
                            depth,
                            in_str: true,
                            esc: false,
                        },
                        b'{' | b'[' => State::WrapperTail {
                            depth: depth + 1,
                            in_str,
                            esc,
                        },
                        b'}' | b']' if depth <= 1 => State::Top,
                        b'}' | b']' => State::WrapperTail {
                            depth: depth - 1,
                            in_str,
                            esc,
                        },
                        _ => State::WrapperTail { depth, in_str, esc },
                    }
                }
            }
        };
        self.line_start = c == b'\n';
        if !c.is_ascii_whitespace()
            && !matches!(self.state, State::Value(Value { in_str: true, .. }))
        {
            self.last_sig = c;
        }
    }

    /// `c` between top-level values.
    fn top(&mut self, c: u8) -> State {
        const BOM: [u8; 3] = [0xef, 0xbb, 0xbf];
        if BOM.get(self.bom) == Some(&c) {
            self.bom += 1;
            if self.bom == BOM.len() {
                self.bom = 0;
            }
            return State::Top;
        }
        self.bom = 0;
        match c {
            b'\n' => {
                self.in_line += 1;
                State::Top
            }
            b' ' | b'\t' | b'\r' => State::Top,
            b'{' => State::Head(vec![c]),
            b'[' => State::Array { wrapper: false },
            _ => {
                // Not JSON: the rest of the line, as it is.
                self.begin();
                let mut v = Value::new(None);
                v.raw_line = true;
                self.value(v, c)
            }
        }
    }

    fn value(&mut self, mut v: Value, c: u8) -> State {
        if c == b'\n' {
            self.in_line += 1;
        }
        if v.raw_line {
            if c == b'\n' {
                self.end_record();
                return State::Top;
            }
            self.out.push(if c == b'\r' { b' ' } else { c });
            return State::Value(v);
        }
        if v.in_str {
            match (v.esc, c) {
                (true, _) => v.esc = false,
                (false, b'\\') => v.esc = true,
                (false, b'"') => v.in_str = false,
                // A raw line break ends a broken string (as if closed).
                (false, b'\n') => {
                    v.in_str = false;
                    self.last_sig = b'"';
                }
                _ => {}
            }
        } else {
            if self.restarts(c, v.len) {
                // The open record is broken: it ends here, and a new
                // top-level value starts.
                self.end_record();
                return self.top(c);
            }
            match c {
                b'"' => v.in_str = true,
                b'{' | b'[' => v.depth += 1,
                b'}' | b']' if v.depth == 0 => {
                    // A bracket that closes nothing of the record: the
                    // array the record was in (or a stray one).
                    self.end_record();
                    return match v.in_array {
                        Some(wrapper) if c == b']' => {
                            if wrapper {
                                State::WrapperTail {
                                    depth: 1,
                                    in_str: false,
                                    esc: false,
                                }
                            } else {
                                State::Top
                            }
                        }
                        _ => State::Top,
                    };
                }
                b'}' | b']' => {
                    v.depth -= 1;
                    if v.depth == 0 {
                        self.out.push(c);
                        self.end_record();
                        return match v.in_array {
                            Some(wrapper) => State::Array { wrapper },
                            None => State::Top,
                        };
                    }
                }
                b',' if v.depth == 0 && v.in_array.is_some() => {
                    // The end of a scalar element.
                    self.end_record();
                    return State::Array {
                        wrapper: v.in_array == Some(true),
                    };
                }
                _ => {}
            }
        }
        v.len += 1;
        self.out
            .push(if c == b'\n' || c == b'\r' { b' ' } else { c });
        State::Value(v)
    }

    /// At the end of the input: whatever is open ends its line.
    fn finish(&mut self) {
        match std::mem::replace(&mut self.state, State::Top) {
            State::Value(_) => self.end_record(),
            State::Head(buf) => {
                self.begin();
                self.out.extend(
                    buf.iter()
                        .map(|&c| if c == b'\n' || c == b'\r' { b' ' } else { c }),
                );
                self.end_record();
            }
            _ => {}
        }
    }
}

impl Value {
    fn new(in_array: Option<bool>) -> Value {
        Value {
            depth: 0,
            in_str: false,
            esc: false,
            in_array,
            raw_line: false,
            len: 0,
        }
    }
}

impl<R: Read> Read for RecordLines<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.out_at >= self.out.len() {
            self.out.clear();
            self.out_at = 0;
            if self.eof {
                return match self.pending_err.take() {
                    Some(e) => Err(e),
                    None => Ok(0),
                };
            }
            let n = match self.inner.read(&mut self.input) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    // What was read before the error is passed on first.
                    self.pending_err = Some(e);
                    0
                }
            };
            if n == 0 {
                self.eof = true;
                self.finish();
                continue;
            }
            let block = std::mem::take(&mut self.input);
            // INVARIANT: `Read::read` returns at most the buffer's length.
            #[expect(clippy::indexing_slicing, reason = "see the INVARIANT above")]
            let read = &block[..n];
            for &c in read {
                self.feed(c);
            }
            self.input = block;
        }
        // INVARIANT: the loop above leaves `out_at < out.len()`.
        #[expect(clippy::indexing_slicing, reason = "see the INVARIANT above")]
        let avail = &self.out[self.out_at..];
        let n = avail.len().min(buf.len());
        #[expect(clippy::indexing_slicing, reason = "see the INVARIANT above")]
        buf[..n].copy_from_slice(&avail[..n]);
        self.out_at += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lines [`RecordLines`] makes of `doc`, read in small pieces.
    fn lines(doc: &str) -> Vec<String> {
        let mut r = RecordLines::new(doc.as_bytes());
        let mut out = Vec::new();
        let mut buf = [0u8; 7];
        loop {
            let n = r.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        let text = String::from_utf8(out).unwrap();
        assert!(text.is_empty() || text.ends_with('\n'), "{text:?}");
        text.lines().map(str::to_string).collect()
    }

    #[test]
    fn pretty_printed_objects_one_after_another_become_lines_where_they_start() {
        let doc = "{\n  \"time\": \"t1\",\n  \"properties\": {\n    \"a\": \"{x}\"\n  }\n}\n{\n  \"time\": \"t2\"\n}\n";
        assert!(is_document(doc.as_bytes()));
        let l = lines(doc);
        assert_eq!(l.len(), 7);
        assert_eq!(
            l[0],
            "{   \"time\": \"t1\",   \"properties\": {     \"a\": \"{x}\"   } }"
        );
        assert!(l[1..6].iter().all(String::is_empty));
        assert_eq!(l[6], "{   \"time\": \"t2\" }");
    }

    #[test]
    fn records_documents_with_or_without_a_byte_order_mark() {
        let pretty = "\u{feff}{\n  \"records\": [\n    {\n      \"time\": \"t1\"\n    },\n    {\"time\": \"t2\"}\n  ]\n}\n";
        assert!(is_document(pretty.as_bytes()));
        let l = lines(pretty);
        assert_eq!(l[2], "{       \"time\": \"t1\"     }");
        assert_eq!(l[5], "{\"time\": \"t2\"}");
        assert_eq!(l.len(), 6);
        assert!(l[..2].iter().all(String::is_empty));
        // One Event Hubs message per line, several records each: the
        // next free line.
        let messages = "{\"records\":[{\"a\":1},{\"a\":2}]}\n{\"records\":[{\"a\":3}]}\n";
        assert_eq!(lines(messages), ["{\"a\":1}", "{\"a\":2}", "{\"a\":3}"]);
        // A bare top-level array, and several objects on one line.
        assert_eq!(
            lines("[{\"a\":1},\n {\"a\":2}]"),
            ["{\"a\":1}", "{\"a\":2}"]
        );
        assert_eq!(
            lines("{\"a\":1}{\"a\":2} {\"a\":3}"),
            ["{\"a\":1}", "{\"a\":2}", "{\"a\":3}"]
        );
        // Other keys after the records array are skipped.
        assert_eq!(
            lines("{\"records\":[{\"a\":1}],\"x\":{\"y\":\"}\"}}\n{\"b\":2}"),
            ["{\"a\":1}", "{\"b\":2}"]
        );
    }

    #[test]
    fn json_lines_are_not_documents() {
        assert!(!is_document(b"{\"a\":1}\n{\"a\":2}\n"));
        assert!(!is_document("\u{feff}{\"a\":\"}\"}  \r\n".as_bytes()));
        assert!(!is_document(b"a,b\n1,2\n"));
        assert!(is_document(b"{\"a\":1}{\"a\":2}\n"));
        assert!(is_document(b"{\n\"a\":1}\n"));
        assert!(is_document(b"{ \"records\" : [ ] }"));
        assert!(is_document(b"[]"));
    }

    #[test]
    fn a_broken_record_costs_one_line_not_the_rest() {
        // A record cut short (no closing brace), then a whole one at the
        // start of a line: the broken one ends where the next begins.
        let doc = "{\n  \"a\": 1,\n  \"b\": \"x\n{\n  \"a\": 2\n}\n";
        let l = lines(doc);
        assert_eq!(l[0], "{   \"a\": 1,   \"b\": \"x ");
        assert_eq!(l[3], "{   \"a\": 2 }");
        // Text that is no JSON passes as its own lines.
        assert_eq!(lines("oops\n{\"a\":1}\n"), ["oops", "{\"a\":1}"]);
        // An unclosed wrapper at the end of the input still ends its line.
        assert_eq!(
            lines("{\"records\":[{\"a\":1},{\"a\":"),
            ["{\"a\":1}", "{\"a\":"]
        );
        assert_eq!(lines("{\"rec"), ["{\"rec"]);
    }

    /// The transducer's memory does not grow with the document: a
    /// 64 MiB `{"records": [...]}` document goes through a buffer of its
    /// own fixed size.
    #[test]
    fn a_large_records_document_streams_through_a_fixed_buffer() {
        struct Gen {
            left: usize,
            started: bool,
        }
        impl Read for Gen {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                if !self.started {
                    self.started = true;
                    let head = b"{\"records\": [\n";
                    buf[..head.len()].copy_from_slice(head);
                    return Ok(head.len());
                }
                if self.left == 0 {
                    let tail = b"{\"a\":0}]}";
                    let n = tail.len().min(buf.len());
                    buf[..n].copy_from_slice(&tail[..n]);
                    self.left = usize::MAX;
                    return Ok(n);
                }
                if self.left == usize::MAX {
                    return Ok(0);
                }
                let rec = b"{\"a\":1},\n";
                let n = (buf.len() / rec.len()).min(self.left);
                for i in 0..n {
                    buf[i * rec.len()..(i + 1) * rec.len()].copy_from_slice(rec);
                }
                self.left -= n;
                Ok(n * rec.len())
            }
        }
        let records = 64 << 20 >> 4;
        let mut r = RecordLines::new(Gen {
            left: records,
            started: false,
        });
        let mut buf = vec![0u8; 1 << 16];
        let (mut lines, mut most) = (0usize, 0usize);
        loop {
            let n = r.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            lines += buf[..n].iter().filter(|&&c| c == b'\n').count();
            most = most.max(r.out.capacity());
        }
        assert_eq!(lines, records + 2);
        assert!(most <= 256 << 10, "{most}");
    }

    #[test]
    fn a_read_error_comes_after_what_was_read_before_it() {
        struct Failing(bool);
        impl Read for Failing {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                if self.0 {
                    return Err(io::Error::other("cut short"));
                }
                self.0 = true;
                let head = b"{\"records\":[{\"a\":1},{\"a\"";
                buf[..head.len()].copy_from_slice(head);
                Ok(head.len())
            }
        }
        let mut r = RecordLines::new(Failing(false));
        let mut out = String::new();
        let err = r.read_to_string(&mut out).unwrap_err();
        assert_eq!(err.to_string(), "cut short");
        assert_eq!(out, "{\"a\":1}\n{\"a\"\n");
    }
}
