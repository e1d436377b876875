#!/usr/bin/env bash
# Throughput and memory of `proviso audit` against jq (an equivalent
# filter) and `rg -c` (the raw-scan floor) on the same files.
#
#   bench/run.sh                 # 1024 MB of JSON lines and of ALB logs, 5 runs each
#   SIZE_MB=2048 RUNS=9 bench/run.sh
#
# Prints wall time, MB/s and peak RSS (from /usr/bin/time -v) per tool,
# medians over RUNS, the ratios, and checks that proviso's violation count
# equals jq's. proviso and rg run in alternation, and their ratio is the
# median of the per-pair ratios (with its range): on a shared machine the
# load changes from one second to the next. Needs jq, ripgrep and GNU time (`apt-get install -y jq
# ripgrep time`). A benchmark, not a test: CI does not run it.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE_MB=${SIZE_MB:-1024}
RUNS=${RUNS:-5}
# jq takes half a minute a run: fewer runs of it.
JQ_RUNS=${JQ_RUNS:-3}
DIR=${BENCH_DIR:-/tmp/proviso-audit-bench}
mkdir -p "$DIR"
for tool in jq rg /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "missing $tool: apt-get install -y jq ripgrep time" >&2; exit 2; }
done
cargo build --release --quiet
PROVISO=target/release/proviso

# The stateless_on_azure clause, written for jq over the JSON lines: an
# OpenAI host, a stateless path, a cloud other than Azure, in force on the
# record's UTC day (timestamps in the data are UTC `Z`).
JQ_JSONL='def stateless: (.path as $p | ["/v1/chat/completions","/v1/completions","/v1/embeddings","/v1/moderations"] | index($p)) != null
    or (.path | startswith("/v1/images/")) or (.path | startswith("/v1/audio/"));
  def openai: .host == "api.openai.com" or (.host | endswith(".openai.azure.com"));
  reduce (inputs | select(openai and stateless and .cloud != null and .cloud != "azure"
    and .timestamp[0:10] >= "2025-10-28" and .timestamp[0:10] < "2026-04-27")) as $x (0; . + 1)'
# The same on ALB lines: parse the fields the clause reads with a regex
# (every ALB request was served by AWS).
JQ_ALB='def stateless: (.path as $p | ["/v1/chat/completions","/v1/completions","/v1/embeddings","/v1/moderations"] | index($p)) != null
    or (.path | startswith("/v1/images/")) or (.path | startswith("/v1/audio/"));
  def openai: .host == "api.openai.com" or (.host | endswith(".openai.azure.com"));
  reduce (inputs | capture("^\\S+ (?<day>\\S{10})\\S* (?:\\S+ ){10}\"\\S+ https?://(?<host>[^:/ ]+)(?::\\d+)?(?<path>[^? ]*)")
    | select(openai and stateless and .day >= "2025-10-28" and .day < "2026-04-27")) as $x (0; . + 1)'

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# measure NAME CMD...: runs RUNS times, prints "wall_s rss_kb" medians.
measure() {
  local walls=() rsss=()
  for _ in $(seq "$RUNS"); do
    /usr/bin/time -v -o "$DIR/time.txt" "$@" > "$DIR/out.txt" 2>/dev/null || true
    walls+=("$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,t,":"); s=0; for(i=1;i<=n;i++) s=s*60+t[i]; print s}' "$DIR/time.txt")")
    rsss+=("$(awk -F': ' '/Maximum resident set size/ {print $2}' "$DIR/time.txt")")
  done
  echo "$(printf '%s\n' "${walls[@]}" | median) $(printf '%s\n' "${rsss[@]}" | median)"
}

# paired CMD_A -- CMD_B: runs A then B, RUNS times over, so that each pair
# sees the machine in the same state (these machines are shared: another
# tenant's load comes and goes within seconds, and proviso, on two cores,
# feels it more than single-threaded rg). Prints the medians of A's wall
# and RSS, of B's, and the median and range of the per-pair ratios B/A.
paired() {
  local a=() b=()
  while [ "$1" != "--" ]; do a+=("$1"); shift; done
  shift
  local aw=() ar=() bw=() br=() ratios=()
  for _ in $(seq "$RUNS"); do
    read -r w r < <(RUNS=1 measure "${a[@]}"); aw+=("$w"); ar+=("$r")
    read -r v q < <(RUNS=1 measure "$@"); bw+=("$v"); br+=("$q")
    ratios+=("$(awk -v x="$v" -v y="$w" 'BEGIN {printf "%.3f", x / y}')")
  done
  echo "$(printf '%s\n' "${aw[@]}" | median) $(printf '%s\n' "${ar[@]}" | median)" \
    "$(printf '%s\n' "${bw[@]}" | median) $(printf '%s\n' "${br[@]}" | median)" \
    "$(printf '%s\n' "${ratios[@]}" | median)" \
    "$(printf '%s\n' "${ratios[@]}" | sort -n | head -1)" \
    "$(printf '%s\n' "${ratios[@]}" | sort -n | tail -1)"
}

for kind in jsonl alb; do
  file="$DIR/traffic.$kind"
  if [ ! -s "$file" ] || [ "$(( $(stat -c %s "$file") >> 20 ))" -lt "$SIZE_MB" ]; then
    echo "generating $SIZE_MB MB of $kind …" >&2
    python3 bench/gen.py "$kind" "$SIZE_MB" "$file"
  fi
  mb=$(( $(stat -c %s "$file") >> 20 ))
  cat "$file" > /dev/null   # warm the page cache for every tool alike
  if [ "$kind" = jsonl ]; then filter=$JQ_JSONL; jqmode=-n; else filter=$JQ_ALB; jqmode=-Rn; fi
  read -r p_wall p_rss r_wall r_rss ratio ratio_lo ratio_hi < <(paired \
    "$PROVISO" audit "$file" --rules rules --format json --fail-on never -- rg -c openai "$file")
  "$PROVISO" audit "$file" --rules rules --format json --fail-on never > "$DIR/proviso.json" || true
  read -r j_wall j_rss < <(RUNS=$JQ_RUNS measure jq "$jqmode" "$filter" "$file")
  jq "$jqmode" "$filter" "$file" > "$DIR/jq.txt"
  p_count=$(jq '.clauses[] | select(.clause == "stateless_on_azure") | .violations' "$DIR/proviso.json")
  j_count=$(cat "$DIR/jq.txt")
  acct=$(jq '.summary | (.records == .judged + .not_applicable + .outside_terms + .malformed)' "$DIR/proviso.json")
  echo
  echo "== $kind: $mb MB, $(jq .summary.records "$DIR/proviso.json") records (medians of $RUNS runs, jq $JQ_RUNS)"
  awk -v mb="$mb" -v pw="$p_wall" -v pr="$p_rss" -v jw="$j_wall" -v jr="$j_rss" -v rw="$r_wall" -v rr="$r_rss" \
      -v ratio="$ratio" -v lo="$ratio_lo" -v hi="$ratio_hi" -v runs="$RUNS" 'BEGIN {
    printf "%-8s %8s %10s %12s\n", "tool", "wall s", "MB/s", "peak RSS MB";
    printf "%-8s %8.2f %10.0f %12.1f\n", "proviso", pw, mb/pw, pr/1024;
    printf "%-8s %8.2f %10.0f %12.1f\n", "jq", jw, mb/jw, jr/1024;
    printf "%-8s %8.2f %10.0f %12.1f\n", "rg -c", rw, mb/rw, rr/1024;
    printf "proviso/jq throughput: %.1fx   proviso/rg throughput: %.2fx (median of %d run pairs; %.2fx to %.2fx)\n", jw/pw, ratio, runs, lo, hi }'
  echo "stateless_on_azure violations: proviso $p_count, jq $j_count $( [ "$p_count" = "$j_count" ] && echo '(equal)' || echo '(DIFFER)')"
  echo "accounting records = judged + not_applicable + outside_terms + malformed: $acct"
  if [ "$kind" = jsonl ]; then
    # The cost of the aggregate clauses (first-ship per `model`; the
    # revenue-share clauses join no gateway record): the bundled rules
    # against the same rules with every aggregate clause taken out, in
    # alternation, same file.
    mkdir -p "$DIR/rules-without-aggregates"
    python3 bench/strip_aggregates.py rules/microsoft-openai.proviso \
      > "$DIR/rules-without-aggregates/microsoft-openai.proviso"
    read -r n_wall n_rss a_wall a_rss aratio alo ahi < <(paired \
      "$PROVISO" audit "$file" --rules "$DIR/rules-without-aggregates" --format json --fail-on never -- \
      "$PROVISO" audit "$file" --rules rules --format json --fail-on never)
    groups=$(jq '[.clauses[] | select(.aggregate != null) | .aggregate.groups] | add' "$DIR/proviso.json")
    echo
    echo "== jsonl with the aggregate clauses on ($groups groups judged; medians of $RUNS run pairs)"
    awk -v mb="$mb" -v nw="$n_wall" -v nr="$n_rss" -v aw="$a_wall" -v ar="$a_rss" \
        -v ratio="$aratio" -v lo="$alo" -v hi="$ahi" 'BEGIN {
      printf "%-22s %8s %10s %12s\n", "rules", "wall s", "MB/s", "peak RSS MB";
      printf "%-22s %8.2f %10.0f %12.1f\n", "without aggregates", nw, mb/nw, nr/1024;
      printf "%-22s %8.2f %10.0f %12.1f\n", "with aggregates", aw, mb/aw, ar/1024;
      printf "aggregate cost: %+.1f%% wall (median of per-pair ratios %.3f; %.3f to %.3f)\n", (ratio-1)*100, ratio, lo, hi }'
  fi
done
