//! Windows of a log file mapped into memory, safe when the file is cut
//! short while they are mapped.
//!
//! Mapping a plain file instead of reading it saves the kernel's copy (a
//! fifth of the audit's CPU time on JSON lines: measured in the README).
//! Its hazard is truncation: a log shipper that rotates with
//! `copytruncate`, or any writer that cuts the file, makes every access
//! past the new end fault with SIGBUS, which kills the process. The
//! design choice: keep the map, and make the fault harmless. A SIGBUS
//! handler, installed once, looks the faulting address up among the live
//! windows ([`Window`] registers itself while it lives); inside one, it
//! maps anonymous zero pages over the rest of that window and returns, so
//! the access reads zeros instead of crashing; outside, it puts back the
//! handler it replaced (the Rust runtime's) and returns, so the fault
//! happens again and is handled as before. The audit then sees that the
//! file is shorter than when it began and says so (a warning), and a line
//! cut by the truncation reads as malformed. Reading (`--no-mmap`) needs
//! none of this.
//!
//! The handler only loads atomics and calls `mmap`, a system call, which
//! is async-signal-safe.

use std::io;
use std::ops::Deref;
use std::sync::Once;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Windows that can be live at once (each one is registered in a slot;
/// the audit keeps at most a few per worker thread alive); past it,
/// [`Window::map`] fails.
const SLOTS: usize = 4096;

/// Live windows: start and end addresses (0: a free slot).
static STARTS: [AtomicUsize; SLOTS] = [const { AtomicUsize::new(0) }; SLOTS];
static ENDS: [AtomicUsize; SLOTS] = [const { AtomicUsize::new(0) }; SLOTS];
/// Set when the handler stood in zeros for a page a file no longer has.
static CUT_SHORT: AtomicBool = AtomicBool::new(false);
static INSTALL: Once = Once::new();
static INSTALLED: AtomicBool = AtomicBool::new(false);
static PAGE: AtomicUsize = AtomicUsize::new(4096);

/// The handler the SIGBUS handler replaced (put back for faults that are
/// not in a window).
struct Previous(std::cell::UnsafeCell<std::mem::MaybeUninit<libc::sigaction>>);
// SAFETY: written once, in `install` (under `INSTALL`), before the
// handler that reads it can run.
#[allow(
    unsafe_code,
    reason = "`Previous` is shared with the signal handler: see SAFETY"
)]
unsafe impl Sync for Previous {}
static PREVIOUS: Previous = Previous(std::cell::UnsafeCell::new(std::mem::MaybeUninit::zeroed()));

#[allow(
    unsafe_code,
    reason = "the SIGBUS handler remaps a lost page: see its SAFETY comments"
)]
extern "C" fn on_sigbus(_sig: libc::c_int, info: *mut libc::siginfo_t, _ctx: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid `siginfo_t` to an SA_SIGINFO
    // handler.
    let addr = unsafe { (*info).si_addr() } as usize;
    for (start, end) in STARTS.iter().zip(&ENDS) {
        let (s, e) = (start.load(Ordering::Acquire), end.load(Ordering::Acquire));
        if s != 0 && addr >= s && addr < e {
            let page = PAGE.load(Ordering::Relaxed);
            let base = addr & !(page - 1);
            // SAFETY: `base..e` lies inside a live window's mapping (its
            // pages are the map's own, read-only, and nothing holds a
            // reference into them that a remap invalidates: the bytes
            // only change from what the file no longer has to zeros).
            let r = unsafe {
                libc::mmap(
                    base as *mut libc::c_void,
                    e - base,
                    libc::PROT_READ,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED,
                    -1,
                    0,
                )
            };
            if r != libc::MAP_FAILED {
                CUT_SHORT.store(true, Ordering::Release);
                return;
            }
        }
    }
    // Not a window's fault: the previous handler takes it when the
    // instruction faults again.
    // SAFETY: `PREVIOUS` was filled by `sigaction` in `install`.
    unsafe {
        libc::sigaction(
            libc::SIGBUS,
            (*PREVIOUS.0.get()).as_ptr(),
            std::ptr::null_mut(),
        );
    }
}

/// Installs the SIGBUS handler, once; whether it is installed.
#[allow(
    unsafe_code,
    reason = "installs the handler with `sigaction`: see SAFETY"
)]
fn install() -> bool {
    INSTALL.call_once(|| {
        // SAFETY: `sysconf` has no preconditions.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        if let Ok(p) = usize::try_from(page)
            && p.is_power_of_two()
        {
            PAGE.store(p, Ordering::Relaxed);
        }
        // SAFETY: a zeroed `sigaction` is a valid starting point; the
        // handler has the SA_SIGINFO signature; `PREVIOUS` is written
        // only here.
        let ok = unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_sigbus as *const () as usize;
            action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(libc::SIGBUS, &action, (*PREVIOUS.0.get()).as_mut_ptr()) == 0
        };
        INSTALLED.store(ok, Ordering::Release);
    });
    INSTALLED.load(Ordering::Acquire)
}

/// Whether a mapped window has read zeros for bytes its file lost since
/// this was last asked.
pub fn take_cut_short() -> bool {
    CUT_SHORT.swap(false, Ordering::AcqRel)
}

/// `len` bytes of a file from `offset`, mapped read-only with their pages
/// populated, and registered with the SIGBUS handler while they live.
pub struct Window {
    map: memmap2::Mmap,
    slot: usize,
}

impl Window {
    /// Maps `len` bytes of `file` from `offset` (a multiple of the page
    /// size). Fails when the handler cannot be installed or every slot is
    /// taken: the caller then reads the file.
    pub fn map(file: &std::fs::File, offset: usize, len: usize) -> io::Result<Window> {
        if !install() {
            return Err(io::Error::other("cannot handle SIGBUS"));
        }
        // SAFETY: the map is read-only and private; a file cut short under
        // it makes accesses past its new end fault, which the handler
        // above turns into reads of zeros for the window's lifetime (it
        // is registered before any worker reads it, and unregistered
        // before it is unmapped).
        #[allow(unsafe_code, reason = "maps the file: see SAFETY above")]
        let map = unsafe {
            memmap2::MmapOptions::new()
                .offset(offset as u64)
                .len(len)
                .populate()
                .map(file)?
        };
        let start = map.as_ptr() as usize;
        for (slot, (s, e)) in STARTS.iter().zip(&ENDS).enumerate() {
            if s.compare_exchange(0, start, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
            {
                e.store(start + map.len(), Ordering::Release);
                return Ok(Window { map, slot });
            }
        }
        Err(io::Error::other("too many windows mapped at once"))
    }
}

impl Deref for Window {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.map
    }
}

impl Drop for Window {
    fn drop(&mut self) {
        // Unregistered before `map` is unmapped (fields drop after this).
        if let (Some(e), Some(s)) = (ENDS.get(self.slot), STARTS.get(self.slot)) {
            e.store(0, Ordering::Release);
            s.store(0, Ordering::Release);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// A window over a file that is then truncated reads zeros where the
    /// file lost its bytes, instead of dying of SIGBUS.
    #[test]
    fn a_window_over_a_truncated_file_reads_zeros() {
        let mut f = tempfile::tempfile().unwrap();
        let page = PAGE.load(Ordering::Relaxed).max(4096);
        f.write_all(&vec![b'x'; page * 8]).unwrap();
        let w = Window::map(&f, 0, page * 8).unwrap();
        assert_eq!(w[page * 7], b'x');
        f.set_len(page as u64).unwrap();
        let _ = take_cut_short();
        assert_eq!(w[0], b'x');
        assert_eq!(w[page * 5], 0);
        assert_eq!(w[page * 8 - 1], 0);
        assert!(take_cut_short());
        let slot = w.slot;
        drop(w);
        assert_eq!(STARTS[slot].load(Ordering::Relaxed), 0);
    }
}
