#!/usr/bin/env bash
# Runs every cargo-fuzz target for a fixed time, one after another, seeding
# each target's corpus from the fixtures that the vendors and the rule
# language documentation gave us. Not part of CI (it needs nightly and takes
# SECS x 11 targets); run it before a release or after a parser change:
#
#   fuzz/run_all.sh            # 600 s per target
#   fuzz/run_all.sh 60 rules   # one target, one minute
#
# It prints one line per target (runs, corpus size, crashes) and exits 1 if
# any target found a crash: the input is then in fuzz/artifacts/<target>/;
# minimise it (`cargo +nightly fuzz tmin <target> <file>`) and add it as a
# regression test next to the parser's other hostile-input tests.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-600}
shift || true
all=(alb azure_frontdoor cloudfront csv json_stream jsonl nginx timestamp rules terraform plan)
[ $# -gt 0 ] && targets=("$@") || targets=("${all[@]}")

seed() { # target -> copy fixtures into its corpus
  local t=$1 dir=fuzz/corpus/$1
  mkdir -p "$dir"
  local add=()
  case $t in
    alb) add=(fixtures/logs/exports/alb.log.gz) ;;
    cloudfront) add=(fixtures/logs/exports/cloudfront.log.gz) ;;
    nginx) add=(fixtures/logs/exports/proxy-access.log.zst) ;;
    csv) add=(fixtures/logs/exports/warehouse.csv fixtures/logs/malformed/wrong_column_count.csv) ;;
    azure_frontdoor|json_stream) add=(fixtures/logs/exports/frontdoor-PT1H.json fixtures/logs/vendors/*.json) ;;
    jsonl) add=(fixtures/logs/exports/gateway.jsonl fixtures/logs/vendors/*.jsonl fixtures/logs/malformed/*.jsonl*) ;;
    timestamp) printf '2026-03-01T12:00:00Z' >"$dir/iso"; printf '01/Mar/2026:12:00:00 +0000' >"$dir/clf"; printf '1772366400' >"$dir/epoch" ;;
    rules) mapfile -t add < <(find fixtures/rules rules -name '*.proviso') ;;
    terraform) mapfile -t add < <(find fixtures/terraform -name '*.tf' -size -64k) ;;
    plan) mapfile -t add < <(find fixtures/terraform -name 'plan*.json' -size -256k) ;;
  esac
  local f
  for f in "${add[@]}"; do
    [ -f "$f" ] || continue
    local name; name=$(echo "$f" | tr '/' '_')
    case $f in
      # A seed that is itself broken (a truncated gzip) still seeds what
      # it decompressed; it must not stop the run.
      *.gz) { gzip -dc "$f" 2>/dev/null || true; } | head -c 65536 >"$dir/${name%.gz}" ;;
      *.zst) { zstd -dc "$f" 2>/dev/null || true; } | head -c 65536 >"$dir/${name%.zst}" ;;
      *) head -c 65536 "$f" >"$dir/$name" ;;
    esac
  done
}

failed=0
for t in "${targets[@]}"; do
  seed "$t"
  log=fuzz/target/run-$t.log
  if cargo +nightly fuzz run "$t" -- -max_total_time="$secs" -rss_limit_mb=2048 -timeout=20 \
      -print_final_stats=1 >"$log" 2>&1; then status=ok; else status=CRASH; failed=1; fi
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
  corpus=$(find "fuzz/corpus/$t" -type f | wc -l)
  echo "$t: $status, ${secs} s, $runs runs, corpus $corpus files"
done
exit $failed
