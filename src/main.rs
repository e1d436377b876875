//! The `proviso` binary: parses the command line and runs a command.

// Scanning a monorepo allocates millions of small values from two threads
// at once; mimalloc is markedly faster than the system allocator there.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `mi_option_purge_delay` (the same in its v2 and v3 headers;
/// libmimalloc-sys does not name it).
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

fn main() {
    tune_allocator();
    std::process::exit(proviso::cli::main());
}

/// A scan parses a file, keeps a little of it and frees the rest; mimalloc
/// keeps freed pages resident for a while before returning them. Returning
/// them after 3 ms instead: on 500 files in one directory, about 38 MiB
/// peak instead of 48; on 5,000 files in 1,000 directories no slower
/// (0 ms costs 0.6 s of system time there). Measured with `bench/check`.
///
/// mimalloc is built with its `no_thp` feature (Cargo.toml): its arenas are
/// committed eagerly on Linux, and with transparent huge pages every touched
/// arena region became resident in 2 MiB steps. Without them: 500 ARM
/// templates 42 MiB → 28 MiB peak, 5,000 Terraform files 86 → 78 MiB, no
/// slower (three runs each, `bench/iac`, `bench/check`).
#[allow(unsafe_code, reason = "mimalloc is configured through its C API")]
fn tune_allocator() {
    // SAFETY: mi_option_set is not thread safe; this runs first in main,
    // before any thread is started, and only sets an integer that mimalloc
    // reads when it next purges memory.
    unsafe {
        libmimalloc_sys::mi_option_set(PURGE_DELAY, 3);
    }
}
