//! Reading an input and cutting it into pieces of whole lines: the line
//! buffer of the audit.
//!
//! An input is opened (decompressed on the way), and its head read: the
//! head decides the format, and JSON that is not one object per line is
//! from then on streamed as one record per line (`json_stream`). The
//! pieces then go to the workers, numbered in file order, from one of two
//! readers: a plain file is mapped into memory a window at a time
//! ([`map_chunks`]: no copy), anything else (compressed input, standard
//! input, a CSV whose header line is skipped, a JSON document) is read
//! into buffers the workers hand back for reuse ([`read_chunks`]). Both
//! send an over-long line, and a stream that ends in an error, as a
//! malformed piece in its place, so the workers never see a line longer
//! than the longest line read.

use crate::diag::{Code, Diag};
use crate::scan::logs::decompress::{self, Compression};
use crate::scan::logs::{self, LogFormat};
use std::io::Read;
use std::ops::Range;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, mpsc};

/// Bytes of an input read before its format is decided.
const HEAD_BYTES: usize = 64 << 10;

/// An input opened, its head read.
pub(super) struct Opened {
    input: decompress::Input,
    /// The first bytes (decompressed; of the record lines, for a JSON
    /// document): the format is detected from them, and a header read.
    pub(super) head: Vec<u8>,
    /// The error that cut the head short, if one did (reported in its
    /// place in the input, after the head's lines).
    head_err: Option<std::io::Error>,
    /// Whether the input is a JSON document streamed as record lines.
    document: bool,
    /// The input's hashes, taken as it is read (`--evidence`).
    pub(super) tap: Option<crate::evidence::LogTap>,
}

impl Opened {
    /// Opens `path` (`-` for standard input) and reads its head; `forced`
    /// is the format `--log-format` names.
    pub(super) fn open(path: &Path, forced: Option<LogFormat>) -> std::io::Result<Opened> {
        let mut tap = crate::evidence::LogTap::start();
        let mut input = decompress::open_tapped(path, tap.as_mut())?;
        let mut head = Vec::with_capacity(HEAD_BYTES);
        let mut head_err = read_up_to(&mut input.reader, &mut head, HEAD_BYTES).err();
        // JSON that is not one object per line (pretty-printed records one
        // after another, `{"records": [...]}` documents, arrays) streams
        // through a transducer that writes one record per line
        // (`json_stream`); the head is then read again from it.
        let document =
            forced.is_none_or(LogFormat::is_json) && logs::json_stream::is_document(&head);
        if document {
            let prior = std::io::Cursor::new(std::mem::take(&mut head));
            let rest: Box<dyn Read + Send> = match head_err.take() {
                Some(e) => Box::new(FailOnce(Some(e))),
                None => std::mem::replace(&mut input.reader, Box::new(std::io::empty())),
            };
            input.reader = Box::new(logs::json_stream::RecordLines::new(prior.chain(rest)));
            head_err = read_up_to(&mut input.reader, &mut head, HEAD_BYTES).err();
        }
        Ok(Opened {
            input,
            head,
            head_err,
            document,
            tap,
        })
    }

    pub(super) fn compression(&self) -> Compression {
        self.input.compression
    }

    /// Whether the input holds nothing but blank space (and was read to
    /// its end): an empty input, not one of an unknown format.
    pub(super) fn is_blank(&self) -> bool {
        self.head.iter().all(u8::is_ascii_whitespace) && self.head_err.is_none()
    }

    /// The input, ready to be cut into pieces of `format`'s lines. A
    /// plain file is mapped into memory rather than read (no copy), when
    /// `mmap` allows; a format whose first line is a header (which the
    /// reader skips), compressed input, a JSON document and standard
    /// input are read.
    pub(super) fn into_pieces(mut self, path: &Path, mmap: bool, format: LogFormat) -> Pieces {
        let skip_first = format.spec().header_line;
        let mapped = (mmap
            && self.input.compression == Compression::None
            && !skip_first
            && !self.document
            && self.head_err.is_none()
            && path != Path::new("-"))
        .then(|| {
            let file = std::fs::File::open(path).ok()?;
            let meta = file.metadata().ok()?;
            let len = usize::try_from(meta.len()).ok()?;
            (meta.is_file() && len > 0).then_some((file, len))
        })
        .flatten();
        let source = match mapped {
            Some((file, len)) => Source::Mapped {
                hash: self.tap.as_mut().map(|t| t.mapped(&file)),
                file,
                len,
            },
            None => Source::Stream {
                head: self.head,
                head_err: self.head_err,
                reader: self.input.reader,
                skip_first,
            },
        };
        Pieces {
            source,
            raw: self.input.raw_bytes,
            raw_size: self.input.raw_size,
            tap: self.tap,
        }
    }
}

/// An input about to be cut into pieces.
pub(super) struct Pieces {
    pub(super) source: Source,
    /// Raw (compressed) bytes read so far: the progress bar's position.
    pub(super) raw: Arc<AtomicU64>,
    /// The raw size when the audit began, when known (files).
    pub(super) raw_size: Option<u64>,
    /// The input's hashes (`--evidence`), done once the source is read.
    pub(super) tap: Option<crate::evidence::LogTap>,
}

/// Where an input's pieces come from.
pub(super) enum Source {
    /// A plain file, mapped a window at a time (and its windows hashed,
    /// for `--evidence`).
    Mapped {
        file: std::fs::File,
        len: usize,
        hash: Option<crate::evidence::hash::Feed>,
    },
    /// A stream, read into buffers after the head already read.
    Stream {
        head: Vec<u8>,
        head_err: Option<std::io::Error>,
        reader: Box<dyn Read + Send>,
        /// The first line is a header, not a record.
        skip_first: bool,
    },
    /// A Parquet file, sent a row group at a time (the workers decode).
    Parquet(Arc<super::parquet::ParquetInput>),
}

impl Source {
    /// Cuts the input into pieces and sends them to the workers, in order
    /// (on the reader's own thread); `recycle` hands back the buffers of
    /// pieces done.
    pub(super) fn send(
        self,
        limits: Limits,
        raw: &AtomicU64,
        tx: &mpsc::SyncSender<(u64, Work)>,
        recycle: &mpsc::Receiver<Vec<u8>>,
    ) {
        match self {
            Source::Mapped { file, len, hash } => map_chunks(&file, len, limits, raw, tx, hash),
            Source::Stream {
                head,
                head_err,
                reader,
                skip_first,
            } => read_chunks(head, head_err, reader, skip_first, limits, tx, recycle),
            Source::Parquet(input) => super::parquet::send_row_groups(&input, raw, tx),
        }
    }
}

/// How an input is cut.
#[derive(Debug, Clone, Copy)]
pub(super) struct Limits {
    /// Bytes of input per piece (at least 1).
    pub(super) chunk_bytes: usize,
    /// The longest line read (at least 1); longer lines are malformed.
    pub(super) max_line: usize,
}

/// The warning for a file cut short while it was audited, if it was: it
/// had `raw_size` bytes when the audit began, and is shorter now, or
/// fewer were read, or a mapped window of it was cut short under the map.
pub(super) fn cut_short(
    path: &Path,
    name: &str,
    raw_size: Option<u64>,
    raw: &AtomicU64,
) -> Option<Diag> {
    let size = raw_size.filter(|_| path != Path::new("-"))?;
    let read = raw.load(Ordering::Relaxed);
    let now = std::fs::metadata(path).map_or(0, |m| m.len());
    if !(read < size || now < size || logs::mapped::take_cut_short()) {
        return None;
    }
    // (A mapped read counts the windows mapped, which may reach past the
    // new end.)
    let read = if now < size {
        read.min(now)
    } else {
        read.min(size)
    };
    Some(truncated_warning(name, size, read, now))
}

/// A piece of input, in file order. Line numbers are not counted by the
/// reader (that would be one more pass over every chunk): a worker numbers
/// the lines of its piece from 0 and says how many it had, and the
/// collector, which merges pieces in order, adds the line the piece starts
/// at.
pub(super) enum Work {
    Lines {
        /// Storage, reused; its first `len` bytes are the lines.
        data: Vec<u8>,
        len: usize,
    },
    /// One line that is not read (too long, or cut short by a stream
    /// error).
    Malformed { reason: String, text: String },
    /// A line that is not a record and is skipped (a CSV header).
    Skip,
    /// Lines of a file, in a window of it mapped into memory (unmapped
    /// when the last piece of it is done).
    Mapped {
        map: Arc<logs::mapped::Window>,
        range: Range<usize>,
    },
    /// One row group of a Parquet file, which the worker decodes.
    RowGroup {
        input: Arc<super::parquet::ParquetInput>,
        group: usize,
    },
}

/// The warning for a file that was `size` bytes when its audit began,
/// of which `read` were read, and is `now` bytes at the end.
fn truncated_warning(name: &str, size: u64, read: u64, now: u64) -> Diag {
    Diag::warning(
        Code::InputTruncated,
        format!(
            "`{name}` was cut short while it was audited: it had {size} bytes when the audit began, {read} were read (it has {now} now); records after byte {read} were not audited"
        ),
    )
    .with_help("audit a copy of a log that is being rotated or truncated (`cp` it first), or audit it again once it is complete")
}

/// Why an over-long line was not read: one wording, whichever reader
/// (or worker) found it.
pub(super) fn too_long_reason(max_line: usize) -> String {
    format!("the line is longer than {max_line} bytes; it was skipped")
}

/// Sends the pieces of one input to the workers, numbered in order (the
/// collector merges their results by number, which keeps line numbers).
struct Numbered<'t> {
    tx: &'t mpsc::SyncSender<(u64, Work)>,
    seq: u64,
}

impl Numbered<'_> {
    /// `false` when the workers are gone (the reader then stops).
    fn send(&mut self, w: Work) -> bool {
        let ok = self.tx.send((self.seq, w)).is_ok();
        self.seq += 1;
        ok
    }
}

/// Cuts a plain file into chunks of whole lines, as [`read_chunks`] does,
/// but through windows of it mapped into memory: the workers read the
/// page cache where it is, instead of a copy the kernel made into a
/// buffer (a fifth of the CPU time of an audit of JSON lines). Each
/// window is a few chunks long, starts at the first line not yet sent,
/// ends at its last newline, and is unmapped when its last chunk is done,
/// so the memory mapped stays bounded whatever the file's size. A line
/// longer than a window (so longer than the longest line read) is sent as
/// malformed and skipped. The file is mapped with its pages populated up
/// front, so that the workers do not stop on page faults.
fn map_chunks(
    file: &std::fs::File,
    len: usize,
    Limits {
        chunk_bytes,
        max_line,
    }: Limits,
    raw: &AtomicU64,
    tx: &mpsc::SyncSender<(u64, Work)>,
    mut hash: Option<crate::evidence::hash::Feed>,
) {
    // Mapping offsets must be multiples of the page size (64 KiB covers
    // every page size Linux uses).
    const ALIGN: usize = 64 << 10;
    let window = (chunk_bytes * 4).max(max_line * 2).max(ALIGN);
    let mut out = Numbered { tx, seq: 0 };
    let mut send = |w: Work| out.send(w);
    let mut at = 0usize;
    while at < len {
        let base = at / ALIGN * ALIGN;
        let map_len = (at - base + window).min(len - base);
        let map = match logs::mapped::Window::map(file, base, map_len) {
            Ok(m) => Arc::new(m),
            Err(e) => {
                let _ = send(Work::Malformed {
                    reason: format!(
                        "the file could not be read from byte {at} on ({e}); the rest of it was not audited"
                    ),
                    text: String::new(),
                });
                return;
            }
        };
        raw.store((base + map_len) as u64, Ordering::Relaxed);
        let from = at - base;
        // INVARIANT: `at < len`, so the window (`map_len` bytes from
        // `base <= at`) reaches past `from`: `from < map_len`, and every
        // `end` below is at most `map_len`.
        #[expect(clippy::indexing_slicing, reason = "see the INVARIANT above")]
        let rest = &map[from..];
        let end = if base + map_len == len {
            map_len
        } else {
            match memchr::memrchr(b'\n', rest) {
                Some(p) => from + p + 1,
                None => {
                    // No newline in a whole window: the line is longer
                    // than any line read.
                    let head = rest.get(..200).unwrap_or(rest);
                    if !send(Work::Malformed {
                        reason: too_long_reason(max_line),
                        text: String::from_utf8_lossy(head).into_owned(),
                    }) {
                        return;
                    }
                    at = next_line(file, base + map_len).unwrap_or(len);
                    continue;
                }
            }
        };
        let mut start = from;
        let mut end = end;
        let mut stopped = false;
        while start < end {
            // A file cut short under the map: send only what it still
            // has, to its last whole line, and stop (the audit warns).
            // Pages lost between this look and a worker's read read as
            // zeros (see `mapped`).
            let now = file.metadata().map_or(0, |m| m.len());
            let now = usize::try_from(now).unwrap_or(usize::MAX);
            if now < base + end {
                stopped = true;
                let keep = now.saturating_sub(base).max(start);
                // INVARIANT: `start <= keep < end <= map_len` (`now` is
                // short of `base + end`).
                #[expect(clippy::indexing_slicing, reason = "see the INVARIANT above")]
                let kept = &map[start..keep];
                end = memchr::memrchr(b'\n', kept).map_or(start, |p| start + p + 1);
            }
            let mut stop = (start + chunk_bytes).min(end);
            if stop < end {
                // INVARIANT: `stop < end <= map_len`.
                #[expect(clippy::indexing_slicing, reason = "see the INVARIANT above")]
                let after = &map[stop..end];
                stop = memchr::memchr(b'\n', after).map_or(end, |p| stop + p + 1);
            }
            if !send(Work::Mapped {
                map: Arc::clone(&map),
                range: start..stop,
            }) {
                return;
            }
            start = stop;
        }
        // The evidence hashes what was sent, from the same window.
        if let Some(h) = hash.as_mut() {
            h.window(&map, (base + from) as u64, from..end);
        }
        if stopped {
            return;
        }
        at = base + end;
    }
    // (An over-long last line was skipped, not mapped: the hash reads it.)
    if let Some(h) = hash.as_mut() {
        h.upto(at as u64);
    }
}

/// Where the line after the one running through byte `from` of `file`
/// starts (`None` at the end of the file), read in small pieces.
fn next_line(file: &std::fs::File, from: usize) -> Option<usize> {
    use std::io::{Seek, SeekFrom};
    let mut f = file;
    f.seek(SeekFrom::Start(from as u64)).ok()?;
    let mut buf = vec![0u8; 64 << 10];
    let mut at = from;
    loop {
        let n = f.read(&mut buf).ok()?;
        if n == 0 {
            return None;
        }
        // INVARIANT: `Read::read` returns at most the buffer's length.
        #[expect(clippy::indexing_slicing, reason = "see the INVARIANT above")]
        let read = &buf[..n];
        if let Some(p) = memchr::memchr(b'\n', read) {
            return Some(at + p + 1);
        }
        at += n;
    }
}

/// A reader that fails once with the error it holds, then ends: the
/// error that cut a head short, after the head.
struct FailOnce(Option<std::io::Error>);

impl Read for FailOnce {
    fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
        match self.0.take() {
            Some(e) => Err(e),
            None => Ok(0),
        }
    }
}

/// Reads until `buf` holds `limit` bytes or the input ends.
fn read_up_to(r: &mut dyn Read, buf: &mut Vec<u8>, limit: usize) -> std::io::Result<()> {
    let mut tmp = [0u8; 16 << 10];
    while buf.len() < limit {
        let n = r.read(&mut tmp)?;
        if n == 0 {
            break;
        }
        // INVARIANT: `Read::read` returns at most the buffer's length.
        #[expect(clippy::indexing_slicing, reason = "see the INVARIANT above")]
        buf.extend_from_slice(&tmp[..n]);
    }
    Ok(())
}

/// Cuts the input into chunks of whole lines, numbering them. Over-long
/// lines and a stream that ends in an error (a truncated gzip) are sent as
/// malformed records, in order.
///
/// Buffers come back from the workers through `recycle` and are reused at
/// their full length: the input is read straight into them, with no zero
/// fill and no fresh pages per chunk; only the incomplete last line of a
/// chunk is copied (into the next buffer).
fn read_chunks(
    head: Vec<u8>,
    head_err: Option<std::io::Error>,
    mut reader: Box<dyn Read + Send>,
    skip_first: bool,
    Limits {
        chunk_bytes,
        max_line,
    }: Limits,
    tx: &mpsc::SyncSender<(u64, Work)>,
    recycle: &mpsc::Receiver<Vec<u8>>,
) {
    let mut out = Numbered { tx, seq: 0 };
    let mut send = |w: Work| out.send(w);
    // `buf` is storage; `len` bytes of it hold input.
    let mut len = head.len();
    let mut buf = head;
    let mut pending_err = head_err;
    let mut skipping_long: Option<Vec<u8>> = None;
    let mut header_pending = skip_first;
    let mut eof = pending_err.is_some();
    // Set when the buffer holds no whole line: read more even if it
    // already holds a chunk's worth (a line longer than a chunk but not
    // longer than the longest line read).
    let mut partial = false;
    loop {
        if !eof && (len < chunk_bytes || partial) {
            partial = false;
            let need = len + chunk_bytes;
            if buf.len() < need {
                buf.resize(need + need / 8, 0);
            }
            while len < buf.len() {
                // INVARIANT: `len < buf.len()` (the loop's condition).
                #[expect(clippy::indexing_slicing, reason = "see the INVARIANT above")]
                let free = &mut buf[len..];
                match reader.read(free) {
                    Ok(0) => {
                        eof = true;
                        break;
                    }
                    Ok(n) => len += n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        pending_err = Some(e);
                        eof = true;
                        break;
                    }
                }
            }
        }
        let filled = held(&buf, len);
        // An over-long line being skipped: drop up to its end.
        if let Some(prefix) = skipping_long.take() {
            match memchr::memchr(b'\n', filled) {
                Some(pos) => {
                    buf.copy_within(pos + 1..len, 0);
                    len -= pos + 1;
                    if !send(Work::Malformed {
                        reason: too_long_reason(max_line),
                        text: String::from_utf8_lossy(&prefix).into_owned(),
                    }) {
                        return;
                    }
                }
                None => {
                    len = 0;
                    if eof {
                        let _ = send(Work::Malformed {
                            reason: too_long_reason(max_line),
                            text: String::from_utf8_lossy(&prefix).into_owned(),
                        });
                        break;
                    }
                    skipping_long = Some(prefix);
                    continue;
                }
            }
        }
        if header_pending {
            match memchr::memchr(b'\n', held(&buf, len)) {
                Some(pos) => {
                    buf.copy_within(pos + 1..len, 0);
                    len -= pos + 1;
                    header_pending = false;
                    if !send(Work::Skip) {
                        return;
                    }
                }
                None if eof => {
                    len = 0;
                    header_pending = false;
                }
                None => {}
            }
        }
        let filled = held(&buf, len);
        let cut = match memchr::memrchr(b'\n', filled) {
            Some(pos) => Some(pos + 1),
            None if eof => Some(len),
            None => None,
        };
        match cut {
            Some(cut) if cut > 0 => {
                // The rest (an incomplete line) starts the next buffer.
                let rest = len - cut;
                let mut next = recycle.try_recv().unwrap_or_default();
                if next.len() < rest {
                    next.resize(rest, 0);
                }
                // INVARIANT: `next` has just been made at least `rest` long,
                // and `cut <= len <= buf.len()`.
                #[expect(clippy::indexing_slicing, reason = "see the INVARIANT above")]
                next[..rest].copy_from_slice(&buf[cut..len]);
                let data = std::mem::replace(&mut buf, next);
                len = rest;
                let mut data_len = cut;
                let body = held(&data, cut);
                // A stream that failed mid-way: its last line is incomplete.
                let truncated_tail = if eof && pending_err.is_some() && body.last() != Some(&b'\n')
                {
                    let start = memchr::memrchr(b'\n', body).map_or(0, |p| p + 1);
                    data_len = start;
                    // INVARIANT: `start` is 0 or just past a byte of `body`.
                    #[expect(clippy::indexing_slicing, reason = "see the INVARIANT above")]
                    let tail = body[start..].to_vec();
                    Some(tail)
                } else {
                    None
                };
                if data_len > 0
                    && !send(Work::Lines {
                        data,
                        len: data_len,
                    })
                {
                    return;
                }
                if let Some(tail) = truncated_tail {
                    let why = pending_err
                        .take()
                        .map(|e| e.to_string())
                        .unwrap_or_default();
                    let _ = send(Work::Malformed {
                        reason: format!(
                            "the input ends early ({why}); this last line is incomplete"
                        ),
                        text: String::from_utf8_lossy(&tail).into_owned(),
                    });
                }
            }
            _ => {
                if len > max_line {
                    let prefix = filled.get(..200).unwrap_or(filled).to_vec();
                    len = 0;
                    skipping_long = Some(prefix);
                    continue;
                }
                partial = true;
            }
        }
        if eof && len == 0 {
            if let Some(e) = pending_err.take() {
                let _ = send(Work::Malformed {
                    reason: format!("the input ends early: {e}"),
                    text: String::new(),
                });
            }
            break;
        }
    }
}

/// The first `len` bytes of `buf`: the input a buffer of [`read_chunks`]
/// holds.
fn held(buf: &[u8], len: usize) -> &[u8] {
    // INVARIANT: `len` counts the bytes of `buf` that hold input, which are
    // never more than it has (it grows only by what a read put in it, and
    // a cut is at most `len`).
    #[expect(clippy::indexing_slicing, reason = "see the INVARIANT above")]
    &buf[..len]
}
