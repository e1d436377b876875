#!/usr/bin/env bash
# Reads a checkout of real CloudFormation templates (AWS's own sample
# repository, github.com/aws-cloudformation/aws-cloudformation-templates)
# and prints how many files, resources and malformed inputs proviso counts.
#
#   bench/iac/real-templates.sh PATH/TO/aws-cloudformation-templates [PROVISO]
#
# On 2026-12-07 (that repository's default branch): 297 files, 2,083
# resources, 0 malformed; its Rain modules and `Fn::ForEach` loops are
# noted (`proviso::input::not_scanned`), not judged. The older
# awslabs/aws-cloudformation-templates: 187 files, 1,077 resources, 0
# malformed.
set -euo pipefail
cd "$(dirname "$0")/../.."
SRC=${1:?give the path of a checkout of aws-cloudformation-templates}
PROVISO=$(realpath "${2:-$PWD/target/release/proviso}")
RULES="$PWD/rules"
cd "$SRC"
"$PROVISO" check . --rules "$RULES" --as-of 2026-03-01 --no-config --format json --region us-east-1 \
  > /tmp/proviso-real-templates.json || true
python3 - <<'PY'
import json
d = json.load(open("/tmp/proviso-real-templates.json"))
s = d["summary"]
print({k: s[k] for k in ("files", "records", "resources", "malformed")}, "notes:", len(d.get("notes", [])))
for m in d["malformed"]:
    print(m["code"], m.get("file"), m.get("line"), m["message"][:120])
PY
