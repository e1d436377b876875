#!/usr/bin/env bash
# Runs the ARM and Bicep scanners over Microsoft's documentation samples and
# lists the files they could not read, to check robustness on real templates.
#
#   bench/azure-samples/check.sh BICEP_SAMPLES_DIR JSON_SAMPLES_DIR
#
# BICEP_SAMPLES_DIR: a checkout of github.com/Azure/azure-docs-bicep-samples;
# JSON_SAMPLES_DIR: of github.com/Azure/azure-docs-json-samples. Nothing of
# them is committed here. Prints, per checkout, the files read, the records,
# and each malformed input (file:line and why); exits 0.
set -euo pipefail
bin="${PROVISO:-target/debug/proviso}"
for dir in "$@"; do
  out=$("$bin" check --no-config -r rules --as-of 2026-03-01 -f json --allow-malformed "$dir" 2>/dev/null || true)
  python3 - "$dir" "$out" <<'PY'
import json, sys
d = json.loads(sys.argv[2])
s = d["summary"]
print(f"{sys.argv[1]}: {s['files']} files, {s['records']} records, {s['malformed']} malformed, {s['modules_not_scanned']} modules not scanned")
for m in d["malformed"]:
    print(f"  {m.get('file')}:{m.get('line')}: {m['message'].split(': ', 1)[-1][:140]}")
PY
done
