#!/usr/bin/env bash
# What `--evidence` costs a 1 GB audit: `proviso audit` with and without
# `--evidence` on the same file, in alternation (the machine's load moves
# both runs of a pair alike), RUNS pairs; medians, the ratio of the medians
# and the per-pair ratios. Goal: under 1.25 (hashing runs beside the scan,
# not as a second read).
#
#   bench/evidence/run.sh                  # 1024 MB of JSON lines, 256 MB gzip'd, 3 pairs each
#   SIZE_MB=256 GZ_MB=64 RUNS=5 bench/evidence/run.sh
#
# Two inputs, for the audit's two readers: a plain JSON-lines file (mapped
# into memory; its windows are hashed on a thread of their own) and the
# same generator's gzip (streamed; raw and decompressed bytes are hashed on
# threads of their own). The data is bench/gen.py's (deterministic). Each
# pair's reports must be byte-identical, and the evidence's SHA-256 must be
# sha256sum's: the script fails otherwise. Needs GNU time
# (`apt-get install -y time`). A benchmark, not a test: CI does not run it.
set -euo pipefail
cd "$(dirname "$0")/../.."
SIZE_MB=${SIZE_MB:-1024}
GZ_MB=${GZ_MB:-256}
RUNS=${RUNS:-3}
DIR=${BENCH_DIR:-/tmp/proviso-evidence-bench}
mkdir -p "$DIR"
command -v /usr/bin/time >/dev/null || { echo "missing GNU time: apt-get install -y time" >&2; exit 2; }
# PROVISO=path/to/proviso skips the build.
[ -n "${PROVISO:-}" ] || cargo build --release --quiet
PROVISO=${PROVISO:-target/release/proviso}
PLAIN="$DIR/gateway-$SIZE_MB.jsonl"
GZ="$DIR/gateway-$GZ_MB.jsonl.gz"
[ -s "$PLAIN" ] || python3 bench/gen.py jsonl "$SIZE_MB" "$PLAIN"
if [ ! -s "$GZ" ]; then
  python3 bench/gen.py jsonl "$GZ_MB" "$DIR/gz.tmp" && gzip -1 -c "$DIR/gz.tmp" > "$GZ" && rm -f "$DIR/gz.tmp"
fi

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# wall OUT CMD...: one timed run; prints wall seconds.
wall() {
  local out=$1; shift
  /usr/bin/time -v -o "$DIR/time.txt" "$@" > "$out" 2>/dev/null || true
  awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,t,":"); s=0; for(i=1;i<=n;i++) s=s*60+t[i]; print s}' "$DIR/time.txt"
}

bench() {
  local name=$1 input=$2 base=() ev=() ratios=()
  for i in $(seq "$RUNS"); do
    w0=$(wall "$DIR/base.json" "$PROVISO" audit "$input" --rules rules --no-config --format json)
    w1=$(wall "$DIR/ev.json" "$PROVISO" audit "$input" --rules rules --no-config --format json --evidence "$DIR/evidence.json")
    cmp -s "$DIR/base.json" "$DIR/ev.json" || { echo "$name: the reports differ with --evidence" >&2; exit 1; }
    base+=("$w0") ev+=("$w1")
    ratios+=("$(awk -v a="$w0" -v b="$w1" 'BEGIN {printf "%.3f", b / a}')")
    echo "$name run $i: without ${w0}s, with --evidence ${w1}s" >&2
  done
  want=$(sha256sum "$input" | cut -d' ' -f1)
  got=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["inputs"][0]["sha256"])' "$DIR/evidence.json")
  [ "$want" = "$got" ] || { echo "$name: evidence sha256 $got, sha256sum $want" >&2; exit 1; }
  b=$(printf '%s\n' "${base[@]}" | median) e=$(printf '%s\n' "${ev[@]}" | median)
  echo "$name ($(( $(stat -c %s "$input") >> 20 )) MB): without --evidence median ${b} s, with median ${e} s; overhead ratio $(awk -v a="$b" -v b="$e" 'BEGIN {printf "%.3f", b / a}') of the medians (goal: under 1.25); per pair ${ratios[*]}; sha256 matches sha256sum"
}

echo "cores: $(nproc); load: $(cut -d' ' -f1-3 /proc/loadavg)"
bench "JSON lines, mapped" "$PLAIN"
bench "JSON lines, gzip" "$GZ"
