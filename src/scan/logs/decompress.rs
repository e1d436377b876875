//! Opening a log input: a file or standard input, gzip or zstd read
//! transparently.
//!
//! Compression is recognised by its magic bytes, not the file name, so a
//! `.log` that is really gzip (or a `.gz` that is not) is read for what it
//! is. Gzip uses `MultiGzDecoder`, since log shippers concatenate gzip
//! members. A count of the raw bytes read feeds the progress bar.

use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// How an input is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

impl Compression {
    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
    }
}

/// Counts the bytes read through it.
struct Counting<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// An opened input: the decompressed stream and what it was.
pub struct Input {
    pub reader: Box<dyn Read + Send>,
    pub compression: Compression,
    /// Raw (compressed) bytes read so far.
    pub raw_bytes: Arc<AtomicU64>,
    /// The raw size, when known (files).
    pub raw_size: Option<u64>,
}

/// Opens `path` (`-` for standard input).
pub fn open(path: &Path) -> io::Result<Input> {
    open_tapped(path, None)
}

/// [`open`], its raw and decompressed streams hashed as they are read
/// when `tap` is given (`--evidence`).
pub fn open_tapped(
    path: &Path,
    mut tap: Option<&mut crate::evidence::LogTap>,
) -> io::Result<Input> {
    let raw_bytes = Arc::new(AtomicU64::new(0));
    let (raw, raw_size): (Box<dyn Read + Send>, Option<u64>) = if path == Path::new("-") {
        (Box::new(io::stdin()), None)
    } else {
        let f = std::fs::File::open(path)?;
        let size = f.metadata().ok().map(|m| m.len());
        (Box::new(f), size)
    };
    let raw = match tap.as_deref_mut() {
        Some(t) => t.raw(raw),
        None => raw,
    };
    let counting = Counting {
        inner: raw,
        count: raw_bytes.clone(),
    };
    let mut buffered = BufReader::with_capacity(1 << 20, counting);
    let head = buffered.fill_buf()?;
    let compression = match head {
        [0x1f, 0x8b, ..] => Compression::Gzip,
        [0x28, 0xb5, 0x2f, 0xfd, ..] => Compression::Zstd,
        _ => Compression::None,
    };
    let reader: Box<dyn Read + Send> = match compression {
        Compression::None => Box::new(buffered),
        Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(buffered)),
        Compression::Zstd => Box::new(zstd::stream::read::Decoder::with_buffer(buffered)?),
    };
    let reader = match (tap, compression) {
        (Some(t), Compression::Gzip | Compression::Zstd) => t.decoded(reader),
        _ => reader,
    };
    Ok(Input {
        reader,
        compression,
        raw_bytes,
        raw_size,
    })
}
