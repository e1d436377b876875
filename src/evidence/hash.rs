//! Hashing for the evidence: SHA-256 of what a run read, computed beside
//! the scan, and the protected hash of a parameter's value.
//!
//! The design choice: the bytes are hashed where the scan already has
//! them, never read a second time, and on a thread of their own, so that
//! the reader (which decompresses, and feeds every worker) does not wait
//! for SHA-256. A stream is tapped by [`Tapped`], a `Read` wrapper that
//! copies what passes through it into batches for the hashing thread;
//! a file mapped into memory is hashed from the same windows the workers
//! read ([`Feed::window`]: no copy, the window is kept alive by its
//! `Arc` until it is hashed). Channels are bounded, so a hashing thread
//! that falls behind slows the reader instead of growing memory.

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use std::io::Read;
use std::ops::Range;
use std::sync::Arc;
use std::sync::mpsc;

/// Bytes copied per batch sent to a hashing thread.
const BATCH: usize = 1 << 20;
/// Batches (or windows) in flight to a hashing thread.
const IN_FLIGHT: usize = 4;

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// The SHA-256 of `bytes`, in hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// What a hash covers: how many bytes, and their SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Digest {
    pub bytes: u64,
    pub sha256: String,
}

impl Digest {
    pub fn of(bytes: &[u8]) -> Digest {
        Digest {
            bytes: bytes.len() as u64,
            sha256: sha256_hex(bytes),
        }
    }
}

/// What a hashing thread is sent.
enum Msg {
    /// Bytes copied from a stream.
    Bytes(Vec<u8>),
    /// Bytes of a mapped window: `range` of `map`, which starts at byte
    /// `at` of the file.
    Window {
        map: Arc<crate::scan::logs::mapped::Window>,
        range: Range<usize>,
        at: u64,
    },
    /// The file's bytes up to this offset were read (without a window:
    /// an over-long line skipped by reading): hash the gap from the file.
    Upto(u64),
}

/// The sending side of a hashing thread.
pub struct Feed {
    tx: Option<mpsc::SyncSender<Msg>>,
    recycle: mpsc::Receiver<Vec<u8>>,
    batch: Vec<u8>,
}

/// The receiving side: the digest, once every [`Feed`] of it is dropped.
pub struct Pending(std::thread::JoinHandle<Digest>);

impl Pending {
    /// Waits for the hashing thread; `None` if it died.
    pub fn wait(self) -> Option<Digest> {
        self.0.join().ok()
    }
}

/// Starts a hashing thread. `file`, when given, is read for the gaps a
/// mapped read leaves (see [`Msg::Upto`]).
pub fn background(file: Option<std::fs::File>) -> (Feed, Pending) {
    let (tx, rx) = mpsc::sync_channel::<Msg>(IN_FLIGHT);
    let (back, recycle) = mpsc::channel::<Vec<u8>>();
    let handle = std::thread::spawn(move || {
        let mut h = Sha256::new();
        let mut done: u64 = 0;
        for msg in rx {
            match msg {
                Msg::Bytes(b) => {
                    h.update(&b);
                    done += b.len() as u64;
                    let _ = back.send(b);
                }
                Msg::Window { map, range, at } => {
                    if let Some(f) = &file {
                        fill_gap(&mut h, &mut done, f, at);
                    }
                    // Windows overlap (each starts at the line after the
                    // last one sent): hash only what is new.
                    let skip = usize::try_from(done.saturating_sub(at)).unwrap_or(usize::MAX);
                    let start = range.start.saturating_add(skip).min(range.end);
                    if let Some(bytes) = map.get(start..range.end) {
                        h.update(bytes);
                        done += bytes.len() as u64;
                    }
                }
                Msg::Upto(end) => {
                    if let Some(f) = &file {
                        fill_gap(&mut h, &mut done, f, end);
                    }
                }
            }
        }
        Digest {
            bytes: done,
            sha256: hex(&h.finalize()),
        }
    });
    (
        Feed {
            tx: Some(tx),
            recycle,
            batch: Vec::new(),
        },
        Pending(handle),
    )
}

/// Hashes bytes `*done..end` of `file` (read in pieces), when `end` is
/// past what is hashed.
fn fill_gap(h: &mut Sha256, done: &mut u64, file: &std::fs::File, end: u64) {
    use std::os::unix::fs::FileExt;
    let mut buf = vec![0u8; 64 << 10];
    while *done < end {
        let want = usize::try_from(end - *done)
            .unwrap_or(usize::MAX)
            .min(buf.len());
        let Some(space) = buf.get_mut(..want) else {
            return;
        };
        match file.read_at(space, *done) {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if let Some(read) = space.get(..n) {
                    h.update(read);
                }
                *done += n as u64;
            }
        }
    }
}

impl Feed {
    /// Copies `bytes` into the current batch, sending it when full.
    pub fn bytes(&mut self, bytes: &[u8]) {
        if self.tx.is_none() {
            return;
        }
        if self.batch.capacity() == 0 {
            self.batch = self
                .recycle
                .try_recv()
                .unwrap_or_else(|_| Vec::with_capacity(BATCH));
            self.batch.clear();
        }
        self.batch.extend_from_slice(bytes);
        if self.batch.len() >= BATCH {
            self.flush();
        }
    }

    fn flush(&mut self) {
        if self.batch.is_empty() {
            return;
        }
        let b = std::mem::take(&mut self.batch);
        if let Some(tx) = &self.tx
            && tx.send(Msg::Bytes(b)).is_err()
        {
            self.tx = None;
        }
    }

    /// Hashes `range` of a mapped window that starts at byte `at` of its
    /// file (the window lives until it is hashed).
    pub fn window(
        &mut self,
        map: &Arc<crate::scan::logs::mapped::Window>,
        at: u64,
        range: Range<usize>,
    ) {
        if let Some(tx) = &self.tx
            && tx
                .send(Msg::Window {
                    map: Arc::clone(map),
                    range,
                    at,
                })
                .is_err()
        {
            self.tx = None;
        }
    }

    /// The file was read up to `end` (hash any gap from the file).
    pub fn upto(&mut self, end: u64) {
        if let Some(tx) = &self.tx
            && tx.send(Msg::Upto(end)).is_err()
        {
            self.tx = None;
        }
    }
}

impl Drop for Feed {
    fn drop(&mut self) {
        self.flush();
    }
}

/// A reader whose bytes are hashed on a thread of their own as they pass.
pub struct Tapped<R> {
    inner: R,
    feed: Feed,
}

impl<R: Read> Tapped<R> {
    pub fn new(inner: R, feed: Feed) -> Tapped<R> {
        Tapped { inner, feed }
    }
}

impl<R: Read> Read for Tapped<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(read) = buf.get(..n) {
            self.feed.bytes(read);
        }
        Ok(n)
    }
}

/// HMAC-SHA256 of `message` under `key` (RFC 2104), with the key's inner
/// and outer states computed once by [`Hmac::new`].
#[derive(Clone)]
struct Hmac {
    inner: Sha256,
    outer: Sha256,
}

impl Hmac {
    fn new(key: &[u8]) -> Hmac {
        let mut block = [0u8; 64];
        if key.len() > 64 {
            let d = Sha256::digest(key);
            for (b, k) in block.iter_mut().zip(d.iter()) {
                *b = *k;
            }
        } else {
            for (b, k) in block.iter_mut().zip(key) {
                *b = *k;
            }
        }
        let pad = |x: u8| -> [u8; 64] {
            let mut p = block;
            p.iter_mut().for_each(|b| *b ^= x);
            p
        };
        let mut inner = Sha256::new();
        inner.update(pad(0x36));
        let mut outer = Sha256::new();
        outer.update(pad(0x5c));
        Hmac { inner, outer }
    }

    fn mac(&self, parts: &[&[u8]]) -> [u8; 32] {
        let mut i = self.inner.clone();
        for p in parts {
            i.update(p);
        }
        let mut o = self.outer.clone();
        o.update(i.finalize());
        o.finalize().into()
    }
}

/// PBKDF2-HMAC-SHA256 (RFC 8018) with a 32-byte output.
pub fn pbkdf2_sha256(password: &[u8], salt: &[u8], iterations: u32) -> [u8; 32] {
    let prf = Hmac::new(password);
    let mut u = prf.mac(&[salt, &1u32.to_be_bytes()]);
    let mut t = u;
    for _ in 1..iterations {
        u = prf.mac(&[&u]);
        t.iter_mut().zip(u.iter()).for_each(|(a, b)| *a ^= b);
    }
    t
}

/// HMAC-SHA256 of `message` under `key`.
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    Hmac::new(key).mac(&[message])
}

/// `n` random bytes from the system (`/dev/urandom`); a salt need only be
/// unique, so if that cannot be read the time and process id stand in.
pub fn random_bytes(n: usize) -> Vec<u8> {
    let mut out = vec![0u8; n];
    let ok = std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut out))
        .is_ok();
    if !ok {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let seed = format!("{nanos}:{}", std::process::id());
        let d = Sha256::digest(seed.as_bytes());
        out.iter_mut()
            .zip(d.iter().cycle())
            .for_each(|(o, d)| *o = *d);
    }
    out
}

/// Hex to bytes, `None` if it is not even-length hex.
pub fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| s.get(i..i + 2).and_then(|p| u8::from_str_radix(p, 16).ok()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4231 test case 2.
    #[test]
    fn hmac_matches_rfc_4231() {
        assert_eq!(
            hex(&hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // Test case 6: a key longer than a block is hashed first.
        assert_eq!(
            hex(&hmac_sha256(
                &[0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First"
            )),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    /// The published PBKDF2-HMAC-SHA256 vectors (P = "password",
    /// S = "salt").
    #[test]
    fn pbkdf2_matches_the_published_vectors() {
        assert_eq!(
            hex(&pbkdf2_sha256(b"password", b"salt", 1)),
            "120fb6cffcf8b32c43e7225256c4f837a86548c92ccc35480805987cb70be17b"
        );
        assert_eq!(
            hex(&pbkdf2_sha256(b"password", b"salt", 2)),
            "ae4d0c95af6b46d32d0adff928f06dd02a303f8ef3c251dfd6e2d85a95474c43"
        );
        assert_eq!(
            hex(&pbkdf2_sha256(b"password", b"salt", 4096)),
            "c5e478d59288c841aa530db6845c4c8d962893a001ce4e11a4963873aa98134a"
        );
    }

    /// A tapped stream hashes what was read through it, in batches, on
    /// its thread.
    #[test]
    fn a_tapped_reader_hashes_what_passes() {
        let data: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
        let (feed, pending) = background(None);
        let mut r = Tapped::new(&data[..], feed);
        let mut sink = Vec::new();
        r.read_to_end(&mut sink).unwrap();
        drop(r);
        assert_eq!(pending.wait().unwrap(), Digest::of(&data));
    }

    #[test]
    fn unhex_reads_what_hex_writes() {
        assert_eq!(
            unhex(&hex(&[0, 1, 0xab, 0xff])),
            Some(vec![0, 1, 0xab, 0xff])
        );
        assert_eq!(unhex("abc"), None);
        assert_eq!(unhex("zz"), None);
    }
}
