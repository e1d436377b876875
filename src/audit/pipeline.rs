//! The glue of one input's audit: a reader, a pool of workers and a
//! collector, on scoped threads.
//!
//! The reader ([`chunks::Source::send`]) numbers the pieces it cuts; the
//! workers take them from one bounded channel (two pieces in flight per
//! worker, so memory is bounded by the pieces in flight, not by the
//! input) and send back what they made of each; the collector merges the
//! results *in piece order*, whatever order they come back in, so line
//! numbers, samples and `--findings` output are the same whatever the
//! number of threads. Buffers go back from the workers to the reader for
//! reuse. The channels close in a chain when the reader is done (or the
//! collector stops), which ends every thread.

use super::chunks::{self, Limits, Work};
use super::judge::{self, Ctx};
use super::tally::{ChunkResult, FileTally, Sink};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, mpsc};

/// Reads, judges and counts one input with `threads` workers, merging
/// into `sink`; `raw` is the count of raw bytes read, for the progress
/// bar.
pub(super) fn run(
    ctx: &Ctx<'_>,
    source: chunks::Source,
    raw: &AtomicU64,
    threads: usize,
    limits: Limits,
    sink: &mut Sink<'_>,
) -> FileTally {
    let mut file = FileTally::new();
    let (work_tx, work_rx) = mpsc::sync_channel::<(u64, Work)>(threads * 2);
    let work_rx = Mutex::new(work_rx);
    std::thread::scope(|s| {
        let (res_tx, res_rx) = mpsc::channel::<(u64, ChunkResult)>();
        let (recycle_tx, recycle_rx) = mpsc::channel::<Vec<u8>>();
        for _ in 0..threads {
            let res_tx = res_tx.clone();
            let recycle_tx = recycle_tx.clone();
            let work_rx = &work_rx;
            s.spawn(move || {
                loop {
                    let next = match work_rx.lock() {
                        Ok(rx) => rx.recv(),
                        Err(_) => break,
                    };
                    let Ok((seq, work)) = next else { break };
                    let (result, buffer) = judge::process(ctx, work);
                    if let Some(b) = buffer {
                        // The reader may be done: then the buffer goes.
                        let _ = recycle_tx.send(b);
                    }
                    if res_tx.send((seq, result)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(res_tx);
        drop(recycle_tx);
        s.spawn(move || source.send(limits, raw, &work_tx, &recycle_rx));
        // Results come back in any order; they are merged in the reader's.
        let mut pending: BTreeMap<u64, ChunkResult> = BTreeMap::new();
        let mut next = 0u64;
        for (seq, result) in res_rx {
            pending.insert(seq, result);
            while let Some(r) = pending.remove(&next) {
                next += 1;
                file.merge(r, ctx, sink);
                if let Some(pb) = sink.progress {
                    pb.set_position(raw.load(Ordering::Relaxed));
                }
            }
        }
    });
    file
}
