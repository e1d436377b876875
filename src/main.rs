//! The `proviso` binary: parses the command line and runs a command.

// Scanning a monorepo allocates millions of small values from two threads
// at once; mimalloc is markedly faster than the system allocator there.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `mi_option_arena_eager_commit` and `mi_option_purge_delay`
/// (the same in its v2 and v3 headers; libmimalloc-sys does not name them).
const ARENA_EAGER_COMMIT: libmimalloc_sys::mi_option_t = 4;
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

fn main() {
    tune_allocator();
    std::process::exit(proviso::cli::main());
}

/// By default mimalloc commits a whole arena up front and returns freed
/// memory only after 10 ms. A scan parses a file, keeps a little of it and
/// frees the rest, so both keep pages resident that hold nothing: on 500
/// files in one directory, 48 MiB peak instead of 28 (`bench/check`).
#[allow(unsafe_code, reason = "mimalloc is configured through its C API")]
fn tune_allocator() {
    // SAFETY: mi_option_set is not thread safe; this runs first in main,
    // before any thread is started, and only sets two integers mimalloc
    // reads when it next reserves or purges memory.
    unsafe {
        libmimalloc_sys::mi_option_set(ARENA_EAGER_COMMIT, 0);
        libmimalloc_sys::mi_option_set(PURGE_DELAY, 0);
    }
}
