#!/usr/bin/env bash
# `proviso audit` on a 1 GB gateway Parquet file against DuckDB running the
# statement `proviso compile --to sql --dialect duckdb` makes of the same
# rules, on the same file, both on all cores; and `proviso audit` on Parquet
# against the same records as JSON lines. Runs alternate (proviso, DuckDB,
# proviso on the pair's Parquet, on its JSON lines), RUNS of each; medians.
# Prints the throughput ratios, proviso's peak RSS (GNU time's "Maximum
# resident set size"; goal: under 200 MB), and the per-clause counts of
# proviso and DuckDB side by side (they must be identical: the script fails
# otherwise).
#
#   bench/parquet/run.sh                         # 1024 MB of Parquet, 3 runs each
#   SIZE_MB=256 PAIR_MB=64 RUNS=5 bench/parquet/run.sh
#
# The JSON lines of a record take some 12 times its Parquet (12 GB for the
# 1 GB file: more disk than a shared machine has to spare), so Parquet
# against JSON lines is measured on a smaller file of the same generator
# (PAIR_MB of Parquet, 128 by default: 5.2 M records, 1.8 GB of JSON lines),
# written both ways. DuckDB's time is its query's only (not its start, nor
# the reading of the statement); proviso's is the whole command.
#
# The data is made by gen.py (pyarrow and numpy: PYTHON=/tmp/pqvenv/bin/python);
# DuckDB is its Python package (DUCKDB_PYTHON=/tmp/sqlvenv/bin/python).
# A benchmark, not a test: CI does not run it.
set -euo pipefail
cd "$(dirname "$0")/../.."
SIZE_MB=${SIZE_MB:-1024}
PAIR_MB=${PAIR_MB:-128}
RUNS=${RUNS:-3}
PYTHON=${PYTHON:-/tmp/pqvenv/bin/python}
DUCKDB_PYTHON=${DUCKDB_PYTHON:-/tmp/sqlvenv/bin/python}
DIR=${BENCH_DIR:-/tmp/proviso-parquet-bench}
mkdir -p "$DIR"
command -v /usr/bin/time >/dev/null || { echo "missing GNU time: apt-get install -y time" >&2; exit 2; }
# PROVISO=path/to/proviso skips the build.
[ -n "${PROVISO:-}" ] || cargo build --release --quiet
PROVISO=${PROVISO:-target/release/proviso}
BIG="$DIR/gateway-$SIZE_MB.parquet"
PAIR="$DIR/gateway-$PAIR_MB"
[ -s "$BIG" ] || "$PYTHON" bench/parquet/gen.py "$SIZE_MB" "$DIR/gateway-$SIZE_MB" --no-jsonl
if [ ! -s "$PAIR.parquet" ] || [ ! -s "$PAIR.jsonl" ]; then
  "$PYTHON" bench/parquet/gen.py "$PAIR_MB" "$PAIR"
fi
"$PROVISO" compile --rules rules --to sql --dialect duckdb \
  --table "read_parquet('$BIG')" --schema-from "$BIG" > "$DIR/statement.sql"

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# run OUT CMD...: one timed run; prints "wall_s rss_kb".
run() {
  local out=$1; shift
  /usr/bin/time -v -o "$DIR/time.txt" "$@" > "$out" 2>/dev/null || true
  awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,t,":"); s=0; for(i=1;i<=n;i++) s=s*60+t[i]; w=s}
              /Maximum resident set size/ {r=$2} END {print w, r}' "$DIR/time.txt"
}
audit() { "$PROVISO" audit "$1" --rules rules --no-config --format json; }

pq_w=() pq_r=() dk_w=() dk_r=() pp_w=() pj_w=() r_dk=() r_pj=()
for i in $(seq "$RUNS"); do
  read -r w r < <(run "$DIR/proviso.json" "$PROVISO" audit "$BIG" --rules rules --no-config --format json)
  pq_w+=("$w") pq_r+=("$r")
  read -r _ r2 < <(run "$DIR/duckdb.txt" "$DUCKDB_PYTHON" bench/parquet/duckdb_query.py "$DIR/statement.sql" "$DIR/duckdb.json")
  w2=$(cat "$DIR/duckdb.txt")
  dk_w+=("$w2") dk_r+=("$r2")
  read -r w3 _ < <(run "$DIR/pair-parquet.json" "$PROVISO" audit "$PAIR.parquet" --rules rules --no-config --format json)
  read -r w4 _ < <(run "$DIR/pair-jsonl.json" "$PROVISO" audit "$PAIR.jsonl" --rules rules --no-config --format json)
  pp_w+=("$w3") pj_w+=("$w4")
  # Throughput ratios of each run's pair (the machine's load moves both).
  r_dk+=("$(awk -v a="$w" -v b="$w2" 'BEGIN {printf "%.2f", b / a}')")
  r_pj+=("$(awk -v a="$w3" -v b="$w4" 'BEGIN {printf "%.2f", b / a}')")
  echo "run $i: proviso ${w}s ${r} KB, DuckDB ${w2}s (query), pair: Parquet ${w3}s, JSON lines ${w4}s" >&2
done
records() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["summary"]["records"])' "$1"; }
big_records=$(records "$DIR/proviso.json") pair_records=$(records "$DIR/pair-parquet.json")
pq=$(printf '%s\n' "${pq_w[@]}" | median) dk=$(printf '%s\n' "${dk_w[@]}" | median)
pp=$(printf '%s\n' "${pp_w[@]}" | median) pj=$(printf '%s\n' "${pj_w[@]}" | median)
echo "cores: $(nproc); $big_records records, $(( $(stat -c %s "$BIG") >> 20 )) MB of Parquet"
echo "proviso audit: median ${pq} s ($(awk -v n="$big_records" -v s="$pq" 'BEGIN {printf "%.2f", n / s / 1e6}') M records/s), peak RSS median $(printf '%s\n' "${pq_r[@]}" | median) KB, max $(printf '%s\n' "${pq_r[@]}" | sort -n | tail -1) KB"
echo "DuckDB query:  median ${dk} s ($(awk -v n="$big_records" -v s="$dk" 'BEGIN {printf "%.2f", n / s / 1e6}') M records/s), its process's peak RSS median $(printf '%s\n' "${dk_r[@]}" | median) KB"
echo "proviso / DuckDB throughput: $(awk -v a="$pq" -v b="$dk" 'BEGIN {printf "%.2f", b / a}') of the medians; per run ${r_dk[*]} (goal: at least 0.5)"
echo "pair ($pair_records records, $(( $(stat -c %s "$PAIR.parquet") >> 20 )) MB of Parquet, $(( $(stat -c %s "$PAIR.jsonl") >> 20 )) MB of JSON lines): Parquet median ${pp} s, JSON lines median ${pj} s"
echo "proviso Parquet / JSON lines throughput (same records): $(awk -v a="$pp" -v b="$pj" 'BEGIN {printf "%.2f", b / a}') of the medians; per run ${r_pj[*]}"
# Same records, same answer: proviso's clauses[] and DuckDB's rows; the pair's
# two reports.
python3 - "$DIR/proviso.json" "$DIR/duckdb.json" "$DIR/pair-parquet.json" "$DIR/pair-jsonl.json" <<'PY'
import json, sys
cols = ["clause", "terms", "severity", "violations", "unresolved", "first_seen", "last_seen"]
ours = {(c["clause"], c["terms"]): [c.get(k) for k in cols] for c in json.load(open(sys.argv[1]))["clauses"]}
theirs = {(r[0], r[1]): r for r in json.load(open(sys.argv[2]))}
print(f"{'clause':28} {'terms':9} {'proviso':>9} {'DuckDB':>9}  unresolved  first/last seen equal")
for k in sorted(set(ours) | set(theirs)):
    a, b = ours.get(k), theirs.get(k)
    print(f"{k[0]:28} {k[1]:9} {a[3] if a else '-':>9} {b[3] if b else '-':>9}  "
          f"{(a[4] if a else '-')}/{(b[4] if b else '-')}         {a is not None and b is not None and a[5:] == b[5:]}")
same = ours == theirs
print("proviso and DuckDB per-clause rows identical:", same)
def key(path):
    d = json.load(open(path))
    return [(c["clause"], c["terms"], c["violations"], c.get("first_seen"), c.get("last_seen")) for c in d["clauses"]], \
        {k: v for k, v in d["summary"].items() if k != "bytes"}
pair = key(sys.argv[3]) == key(sys.argv[4])
print("pair: Parquet and JSON lines reports identical (clauses, accounting):", pair)
sys.exit(0 if same and pair else 1)
PY
