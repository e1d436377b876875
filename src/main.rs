//! The `proviso` binary: parses the command line and runs a command.

// Scanning a monorepo allocates millions of small values from two threads
// at once; mimalloc is markedly faster than the system allocator there.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    std::process::exit(proviso::cli::main());
}
