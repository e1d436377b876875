#!/usr/bin/env bash
# proviso against Checkov on a generated Terraform monorepo (not part of the
# test suite; takes about half an hour, most of it Checkov).
#
#   bench/check/run.sh              # 5,000 files / 102,000 resources, and a 500-file subset
#   RUNS=1 bench/check/run.sh       # one run of each instead of three
#   TREES=subset bench/check/run.sh # only the 500-file subset (Checkov needs ~20 s there)
#   TREES=flat bench/check/run.sh   # 500 files in ONE directory (one root module, 9,960 resources)
#
# It builds proviso in release mode, generates the monorepo under
# $BENCH_DIR (default /tmp/proviso-check-bench), creates a venv with Checkov from
# PyPI (bench/check/.venv), runs both tools with equivalent rules
# (bench/check/rules/bench.proviso and bench/check/checkov/*.yaml) under
# /usr/bin/time -v, checks that they report the same violations, and prints
# the medians and the ratios.
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=${RUNS:-3}
TREES=${TREES:-"full subset flat"}
BENCH_DIR=${BENCH_DIR:-/tmp/proviso-check-bench}
CHECKOV_VERSION=${CHECKOV_VERSION:-3.3.30}

[ -x /usr/bin/time ] || { echo "bench: needs GNU time (apt-get install time)" >&2; exit 2; }
cargo build --release --locked
if [ ! -x bench/check/.venv/bin/checkov ]; then
  python3 -m venv bench/check/.venv
  bench/check/.venv/bin/pip install --quiet "checkov==${CHECKOV_VERSION}"
fi
rm -rf "$BENCH_DIR"
python3 bench/check/generate.py "$BENCH_DIR/full" --dirs 1000 --resource-files 3 --resources-per-file 34
mkdir -p "$BENCH_DIR/subset"
cp -r "$BENCH_DIR"/full/svc-00[0-9][0-9] "$BENCH_DIR/subset/"
echo "subset: $(find "$BENCH_DIR/subset" -name '*.tf' | wc -l) files"
# A flat monorepo: every file in one directory, so one root module whose
# parse trees, records and findings all live at once.
python3 bench/check/generate.py "$BENCH_DIR/flat-gen" --dirs 1 --resource-files 498 --resources-per-file 20
mv "$BENCH_DIR/flat-gen/svc-0000" "$BENCH_DIR/flat" && rmdir "$BENCH_DIR/flat-gen"
echo "flat: $(find "$BENCH_DIR/flat" -name '*.tf' | wc -l) files in one directory"
# shellcheck disable=SC2086
python3 bench/check/compare.py "$PWD/target/release/proviso" "$PWD/bench/check/.venv/bin/checkov" "$BENCH_DIR" "$RUNS" $TREES
