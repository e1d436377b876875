#!/bin/sh
# proviso lsp against issue 17's targets: the bundled rule file (diagnostics
# under 50 ms) and a generated 5,000-clause rule set (under 300 ms); hover
# and completion under 20 ms; peak RSS under 100 MB. Release build.
# Usage: bench/lsp/run.sh [EDITS]   (default 20)
set -eu
cd "$(dirname "$0")/../.."
edits="${1:-20}"
cargo build --release --quiet
bin="$PWD/target/release/proviso"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir "$work/bundled"
cp rules/microsoft-openai.proviso "$work/bundled/"
python3 bench/lsp/bench.py "$bin" "$work/bundled/microsoft-openai.proviso" "$edits" 50
# 5,000 clauses over 10 terms files and a vocabulary file; the edit is in
# one terms file, the defines it uses are in another.
python3 bench/lsp/gen_rules.py 5000 11 "$work/gen"
python3 bench/lsp/bench.py "$bin" "$work/gen/terms_005.proviso" "$edits" 300
# The same 5,000 clauses in one file.
python3 bench/lsp/gen_rules.py 5000 2 "$work/one"
python3 bench/lsp/bench.py "$bin" "$work/one/terms_001.proviso" "$edits" 300
