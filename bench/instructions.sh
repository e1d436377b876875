#!/usr/bin/env bash
# Instructions `proviso audit` spends per log line, counted by callgrind:
# unlike wall time, the count does not move with the machine's load, so a
# change to the audit's hot path can be judged on a shared machine in a
# minute. Start-up (reading the rules) is subtracted by also counting a
# 10-line run.
#
#   bench/instructions.sh            # JSON lines and ALB, 55,000 lines each
#   LINES=20000 bench/instructions.sh jsonl
#   RULES=/tmp/other-rules bench/instructions.sh jsonl   # another rule set
#
# Needs valgrind. A benchmark, not a test: CI does not run it.
set -euo pipefail
cd "$(dirname "$0")/.."
LINES=${LINES:-55000}
DIR=${BENCH_DIR:-/tmp/proviso-instructions}
mkdir -p "$DIR"
command -v valgrind >/dev/null || { echo "missing valgrind: apt-get install -y valgrind" >&2; exit 2; }
cargo build --release --quiet
PROVISO=target/release/proviso

count() {
  valgrind --tool=callgrind --callgrind-out-file="$DIR/callgrind.out" \
    "$PROVISO" audit "$1" --rules "${RULES:-rules}" --format json --fail-on never --threads 1 \
    >/dev/null 2>"$DIR/valgrind.err"
  awk '/^(summary|totals):/ {print $2; exit}' "$DIR/callgrind.out"
}

for kind in "${@:-jsonl alb}"; do
  for k in $kind; do
    full="$DIR/sample.$k"
    if [ ! -s "$full.$LINES" ]; then
      python3 bench/gen.py "$k" 64 "$full"
      head -n "$LINES" "$full" > "$full.$LINES"
      head -n 10 "$full" > "$full.10"
    fi
    small=$(count "$full.10")
    big=$(count "$full.$LINES")
    echo "$k: $(( (big - small) / (LINES - 10) )) instructions per line ($LINES lines)"
  done
done
