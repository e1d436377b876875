//! The files a run reads beside its main inputs, and the files it writes.
//!
//! Side inputs (`proviso.yaml`, `--baseline`, `--ip-ranges`, `--var-file`)
//! are small by nature, so each is read only up to a documented cap: a
//! `--ip-ranges /dev/zero` is a located error after a few milliseconds, not
//! memory growing until the kernel kills the process. Inputs that another
//! module reads by path (`--ip-ranges`, `--var-file`) must be regular files
//! whose size is checked before they are opened; those read here
//! (`proviso.yaml`, `--baseline`) are read through [`read_capped`], which
//! also takes a pipe.
//!
//! The design choice for outputs: every destination of a run is known
//! before anything is read or written, so collisions are refused up front —
//! two outputs naming one file, or an output naming a file the run reads
//! (or any Terraform or rule file) — instead of one report silently
//! replacing another or an input. Files are compared by identity
//! (canonical path, and on Unix device and inode), so `./a.sarif` and
//! `a.sarif`, a link and its target, or two hard links, are one file.

use crate::diag::{Code, Diag};
use crate::source::display_path;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The most `proviso` reads of `--ip-ranges`, `--var-file` and
/// `--baseline` files: 64 MiB (Azure's Service Tags, the largest published
/// range file, is under 10 MB).
pub const SIDE_INPUT_CAP: u64 = 64 << 20;
/// The most `proviso` reads of a `proviso.yaml`: 1 MiB.
pub const CONFIG_CAP: u64 = 1 << 20;

fn mib(bytes: u64) -> String {
    format!("{} MiB", bytes >> 20)
}

fn too_large(name: &str, what: &str, cap: u64) -> Diag {
    Diag::error(
        Code::InputTooLarge,
        format!(
            "`{name}` is larger than the {} proviso reads for {what}",
            mib(cap)
        ),
    )
    .with_help(format!(
        "check that `{name}` is the file meant for {what}: proviso reads at most {} of it",
        mib(cap)
    ))
}

/// Reads at most `cap` bytes of `path` (a file or a pipe); more is an error
/// that names the file and `what` it is for.
pub fn read_capped(path: &Path, cap: u64, what: &str) -> Result<Vec<u8>, Diag> {
    let name = display_path(path);
    let unreadable = |e: std::io::Error| {
        Diag::error(Code::InputUnreadable, format!("cannot read `{name}`: {e}"))
    };
    let file = std::fs::File::open(path).map_err(unreadable)?;
    if is_device(&file) {
        // `/dev/zero`, `/dev/urandom`: no configuration or baseline.
        return Err(Diag::error(
            Code::InputNotAFile,
            format!("`{name}` is a device, not a file"),
        )
        .with_help(format!("pass {what} as a file (or a pipe)")));
    }
    let mut bytes = Vec::new();
    file.take(cap.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(unreadable)?;
    if u64::try_from(bytes.len()).unwrap_or(u64::MAX) > cap {
        return Err(too_large(&name, what, cap));
    }
    Ok(bytes)
}

#[cfg(unix)]
fn is_device(f: &std::fs::File) -> bool {
    use std::os::unix::fs::FileTypeExt;
    f.metadata().is_ok_and(|m| {
        let t = m.file_type();
        t.is_char_device() || t.is_block_device()
    })
}

#[cfg(not(unix))]
fn is_device(_: &std::fs::File) -> bool {
    false
}

/// [`read_capped`] as UTF-8 text.
pub fn read_capped_text(path: &Path, cap: u64, what: &str) -> Result<String, Diag> {
    let bytes = read_capped(path, cap, what)?;
    crate::evidence::note_read(path, &bytes);
    String::from_utf8(bytes).map_err(|e| {
        Diag::error(
            Code::InputNotUtf8,
            format!(
                "`{}` is not UTF-8 text (invalid byte at offset {})",
                display_path(path),
                e.utf8_error().valid_up_to()
            ),
        )
        .with_help("save the file as UTF-8")
    })
}

/// Checks, before another module reads it by path, that a side input given
/// with `flag` is a regular file of at most `cap` bytes.
pub fn check_side_file(path: &Path, flag: &str, cap: u64) -> Result<(), Diag> {
    let name = display_path(path);
    let meta = std::fs::metadata(path).map_err(|e| {
        Diag::error(
            Code::InputUnreadable,
            format!("cannot read `{name}` (given with `{flag}`): {e}"),
        )
        .with_help(format!("pass an existing file to `{flag}`"))
    })?;
    if !meta.is_file() {
        return Err(Diag::error(
            Code::InputNotAFile,
            format!("`{name}` (given with `{flag}`) is not a regular file"),
        )
        .with_help(format!(
            "save it to a file first: `{flag}` reads regular files of at most {}",
            mib(cap)
        )));
    }
    if meta.len() > cap {
        return Err(too_large(&name, &format!("`{flag}`"), cap));
    }
    Ok(())
}

/// What makes two existing paths one file on Unix: device and inode
/// (a hard link has its own canonical path but is the same file).
#[cfg(unix)]
fn inode(p: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(p).ok().map(|m| (m.dev(), m.ino()))
}

#[cfg(not(unix))]
fn inode(_: &Path) -> Option<(u64, u64)> {
    None
}

/// A path's identity: canonical path, and inode when the file exists.
#[derive(PartialEq, Eq)]
struct Id(PathBuf, Option<(u64, u64)>);

impl Id {
    fn of(p: &Path) -> Id {
        Id(identity(p), inode(p))
    }

    fn same(&self, other: &Id) -> bool {
        self.0 == other.0 || (self.1.is_some() && self.1 == other.1)
    }
}

/// The identity of a path, for comparing files: its canonical form, or,
/// for a file not yet written, its canonical directory and its name.
pub fn identity(p: &Path) -> PathBuf {
    if let Ok(c) = std::fs::canonicalize(p) {
        return c;
    }
    let dir = match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    match (std::fs::canonicalize(&dir), p.file_name()) {
        (Ok(d), Some(n)) => d.join(n),
        _ => std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf()),
    }
}

/// Whether an existing path is something other than a regular file or
/// directory (`/dev/null`, a pipe), which many outputs may share.
fn is_special(p: &Path) -> bool {
    std::fs::metadata(p).is_ok_and(|m| !m.is_file() && !m.is_dir())
}

/// Extensions of files that a report must never replace.
const PRECIOUS: &[&str] = &[".tf", ".tf.json", ".tfvars", ".tfvars.json", ".proviso"];

/// One destination of a run: the flag that named it, as the user wrote
/// it, and the path.
pub struct Output<'a> {
    pub flag: String,
    pub path: &'a Path,
}

/// Refuses outputs that name the same file, a file the run reads
/// (`inputs`), or an existing Terraform or rule file.
pub fn check_outputs(outputs: &[Output<'_>], inputs: &[PathBuf]) -> Result<(), Diag> {
    let inputs: Vec<(Id, &PathBuf)> = inputs
        .iter()
        .filter(|p| p.is_file())
        .map(|p| (Id::of(p), p))
        .collect();
    let mut seen: Vec<(Id, &Output<'_>)> = Vec::new();
    for out in outputs {
        if is_special(out.path) {
            continue;
        }
        let name = display_path(out.path);
        let id = Id::of(out.path);
        if let Some((_, first)) = seen.iter().find(|(p, _)| p.same(&id)) {
            return Err(Diag::error(
                Code::CliOutputCollision,
                format!(
                    "`{}` and `{}` both write `{name}`: one would overwrite the other",
                    first.flag, out.flag
                ),
            )
            .with_help("give each output a file of its own"));
        }
        if let Some((_, input)) = inputs.iter().find(|(p, _)| p.same(&id)) {
            return Err(Diag::error(
                Code::CliOutputIsInput,
                format!(
                    "`{}` would overwrite `{}`, which this run reads",
                    out.flag,
                    display_path(input)
                ),
            )
            .with_help("write the report to a new file"));
        }
        let lower = name.to_ascii_lowercase();
        if out.path.is_file() && PRECIOUS.iter().any(|ext| lower.ends_with(ext)) {
            return Err(Diag::error(
                Code::CliOutputIsInput,
                format!(
                    "`{}` would overwrite `{name}`, a Terraform or rule file",
                    out.flag
                ),
            )
            .with_help("write the report to a new file (e.g. `proviso.sarif`, `report.json`)"));
        }
        seen.push((id, out));
    }
    Ok(())
}

/// Writes `text` to `path`, or to standard output; every error is reported
/// except a closed pipe (`| head`), which means the reader has seen enough.
pub fn write_output(path: Option<&PathBuf>, text: &str) -> Result<(), Diag> {
    match path {
        Some(p) => std::fs::write(p, text).map_err(|e| unwritable(&display_path(p), &e)),
        None => {
            let mut out = std::io::stdout().lock();
            match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                    Err(unwritable("standard output", &e))
                }
                _ => Ok(()),
            }
        }
    }
}

/// The error for a destination that could not be written.
pub fn unwritable(name: &str, e: &std::io::Error) -> Diag {
    let name = if name == "standard output" {
        name.to_string()
    } else {
        format!("`{name}`")
    };
    Diag::error(Code::OutputUnwritable, format!("cannot write {name}: {e}"))
        .with_help("free space on the device, or write to another file")
}

/// A writer that remembers its first error, for a writer handed to code
/// that does not return write errors (the audit's `--findings` stream):
/// the command asks [`Checked::error`] once the writer is done.
pub struct Checked<W> {
    inner: W,
    error: Arc<Mutex<Option<std::io::Error>>>,
}

impl<W: Write> Checked<W> {
    /// The writer, and the slot that holds its first error.
    pub fn new(inner: W) -> (Checked<W>, Arc<Mutex<Option<std::io::Error>>>) {
        let error = Arc::new(Mutex::new(None));
        (
            Checked {
                inner,
                error: Arc::clone(&error),
            },
            error,
        )
    }

    fn note<T>(&self, r: std::io::Result<T>) -> std::io::Result<T> {
        if let (Err(e), Ok(mut slot)) = (&r, self.error.lock())
            && slot.is_none()
        {
            *slot = Some(std::io::Error::new(e.kind(), e.to_string()));
        }
        r
    }
}

impl<W: Write> Write for Checked<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let r = self.inner.write(buf);
        self.note(r)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let r = self.inner.flush();
        self.note(r)
    }
}

/// Takes the error a [`Checked`] writer recorded.
pub fn take_error(slot: &Mutex<Option<std::io::Error>>) -> Option<std::io::Error> {
    slot.lock().ok().and_then(|mut s| s.take())
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::indexing_slicing,
        reason = "test code: a failed unwrap or index is a failed test"
    )]
    use super::*;

    #[test]
    fn a_capped_read_stops_at_the_cap() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("big.json");
        std::fs::write(&p, vec![b' '; 2048]).unwrap();
        let e = read_capped(&p, 1024, "`--baseline`").unwrap_err();
        assert_eq!(e.code.as_str(), "proviso::input::too_large");
        assert!(read_capped(&p, 2048, "x").is_ok());
    }

    #[test]
    fn a_file_not_yet_written_has_the_identity_of_its_directory_and_name() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.sarif");
        let b = dir.path().join(".").join("a.sarif");
        assert_eq!(identity(&a), identity(&b));
    }

    #[test]
    fn a_checked_writer_keeps_its_first_error() {
        struct Full;
        impl Write for Full {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                Err(std::io::Error::other("no space left on device"))
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let (mut w, slot) = Checked::new(Full);
        assert!(w.write_all(b"x").is_err());
        let e = take_error(&slot).unwrap();
        assert!(e.to_string().contains("no space"));
    }
}
