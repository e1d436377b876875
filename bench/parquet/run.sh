#!/usr/bin/env bash
# `proviso audit` on a Parquet file against the same records as JSON
# lines: wall time (medians of alternating runs), the ratio, and peak RSS
# (GNU time's "Maximum resident set size"; goal: under 200 MB on the
# Parquet file). Also checks that both give the same per-clause counts.
#
#   bench/parquet/run.sh                  # a 1024 MB Parquet file, 5 runs each
#   SIZE_MB=256 RUNS=3 bench/parquet/run.sh
#
# The data is made by gen.py (pyarrow in a venv: PYTHON=/tmp/pqvenv/bin/python).
# Hook for an engine to compare with (DuckDB running `proviso compile`'s
# statement, to come): set ENGINE_CMD to a command that reads "$PARQUET"
# and it is timed in the same alternation, e.g.
#   ENGINE_CMD='duckdb -c "$(cat stmt.sql)"' bench/parquet/run.sh
# A benchmark, not a test: CI does not run it.
set -euo pipefail
cd "$(dirname "$0")/../.."
SIZE_MB=${SIZE_MB:-1024}
RUNS=${RUNS:-5}
PYTHON=${PYTHON:-/tmp/pqvenv/bin/python}
DIR=${BENCH_DIR:-/tmp/proviso-parquet-bench}
ENGINE_CMD=${ENGINE_CMD:-}
mkdir -p "$DIR"
command -v /usr/bin/time >/dev/null || { echo "missing GNU time: apt-get install -y time" >&2; exit 2; }
# PROVISO=path/to/proviso skips the build.
[ -n "${PROVISO:-}" ] || cargo build --release --quiet
PROVISO=${PROVISO:-target/release/proviso}
export PARQUET="$DIR/gateway-$SIZE_MB.parquet" JSONL="$DIR/gateway-$SIZE_MB.jsonl"
if [ ! -s "$PARQUET" ] || [ ! -s "$JSONL" ]; then
  "$PYTHON" bench/parquet/gen.py "$SIZE_MB" "$DIR/gateway-$SIZE_MB"
fi

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# run OUT CMD...: one timed run; prints "wall_s rss_kb".
run() {
  local out=$1; shift
  /usr/bin/time -v -o "$DIR/time.txt" "$@" > "$out" 2>/dev/null || true
  awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,t,":"); s=0; for(i=1;i<=n;i++) s=s*60+t[i]; w=s}
              /Maximum resident set size/ {r=$2} END {print w, r}' "$DIR/time.txt"
}
audit() { "$PROVISO" audit "$1" --rules rules --no-config --format json; }

pq_w=() pq_r=() js_w=() js_r=() ratios=() en_w=()
for i in $(seq "$RUNS"); do
  read -r w r < <(run "$DIR/parquet.json" "$PROVISO" audit "$PARQUET" --rules rules --no-config --format json)
  pq_w+=("$w") pq_r+=("$r")
  read -r w2 r2 < <(run "$DIR/jsonl.json" "$PROVISO" audit "$JSONL" --rules rules --no-config --format json)
  js_w+=("$w2") js_r+=("$r2")
  ratios+=("$(awk -v a="$w" -v b="$w2" 'BEGIN {printf "%.3f", a / b}')")
  if [ -n "$ENGINE_CMD" ]; then
    read -r w3 _ < <(run "$DIR/engine.txt" bash -c "$ENGINE_CMD")
    en_w+=("$w3")
  fi
  echo "run $i: parquet ${w}s ${r} KB, jsonl ${w2}s ${r2} KB" >&2
done
pq_size=$(stat -c %s "$PARQUET") js_size=$(stat -c %s "$JSONL")
records=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["summary"]["records"])' "$DIR/parquet.json")
echo "records: $records; Parquet $((pq_size >> 20)) MB, JSON lines $((js_size >> 20)) MB"
echo "parquet: median $(printf '%s\n' "${pq_w[@]}" | median) s, peak RSS $(printf '%s\n' "${pq_r[@]}" | median) KB (max $(printf '%s\n' "${pq_r[@]}" | sort -n | tail -1) KB)"
echo "jsonl:   median $(printf '%s\n' "${js_w[@]}" | median) s, peak RSS $(printf '%s\n' "${js_r[@]}" | median) KB"
echo "parquet/jsonl wall ratio: median $(printf '%s\n' "${ratios[@]}" | median) (per pair: ${ratios[*]})"
if [ -n "$ENGINE_CMD" ]; then
  echo "engine:  median $(printf '%s\n' "${en_w[@]}" | median) s"
fi
# Same records, same answer: per-clause violations and first/last seen.
python3 - "$DIR/parquet.json" "$DIR/jsonl.json" <<'PY'
import json, sys
def key(path):
    d = json.load(open(path))
    return [(c["clause"], c["terms"], c["violations"], c.get("first_seen"), c.get("last_seen")) for c in d["clauses"]], \
        {k: v for k, v in d["summary"].items() if k != "bytes"}
a, b = key(sys.argv[1]), key(sys.argv[2])
print("same clauses and accounting:", a == b)
sys.exit(0 if a == b else 1)
PY
