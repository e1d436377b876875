#!/usr/bin/env bash
# proviso against Checkov on generated CloudFormation and ARM templates (not
# part of the test suite).
#
#   bench/iac/run.sh                 # 500 CloudFormation + 500 ARM templates of 20 resources, 3 runs each
#   RUNS=1 bench/iac/run.sh          # one run of each
#   HALVES=cfn bench/iac/run.sh      # only the CloudFormation half
#   CHECKOV=/path/to/checkov bench/iac/run.sh   # a Checkov already installed
#
# It builds proviso in release mode, generates the templates under
# $BENCH_DIR (default /tmp/proviso-iac-bench), creates a venv with Checkov from
# PyPI (bench/iac/.venv, gitignored) unless CHECKOV is set, runs both tools
# with equivalent checks (bench/iac/rules/bench.proviso and
# bench/iac/checkov/*.py) in the same run under /usr/bin/time -v, checks that
# they report the same violations, and prints the medians and the ratios.
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=${RUNS:-3}
HALVES=${HALVES:-"cfn arm"}
BENCH_DIR=${BENCH_DIR:-/tmp/proviso-iac-bench}
CHECKOV_VERSION=${CHECKOV_VERSION:-3.3.30}

[ -x /usr/bin/time ] || { echo "bench: needs GNU time (apt-get install time)" >&2; exit 2; }
cargo build --release --locked
if [ -z "${CHECKOV:-}" ]; then
  if [ ! -x bench/iac/.venv/bin/checkov ]; then
    python3 -m venv bench/iac/.venv
    bench/iac/.venv/bin/pip install --quiet "checkov==${CHECKOV_VERSION}"
  fi
  CHECKOV="$PWD/bench/iac/.venv/bin/checkov"
fi
rm -rf "$BENCH_DIR"
python3 bench/iac/gen.py "$BENCH_DIR" --templates "${TEMPLATES:-500}" --resources 20
# shellcheck disable=SC2086
python3 bench/iac/compare.py "$PWD/target/release/proviso" "$CHECKOV" "$BENCH_DIR" "$RUNS" $HALVES
