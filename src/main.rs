//! The `proviso` binary: parses the command line and runs a command.

fn main() {
    std::process::exit(proviso::cli::main());
}
