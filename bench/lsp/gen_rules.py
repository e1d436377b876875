#!/usr/bin/env python3
"""Writes a generated rule set of CLAUSES clauses into DIR, split over FILES
files (deterministic): file 0 holds the sources and defines, the others hold
terms whose clauses use them (a define used from another file), each clause
with a passing and a failing example.
Usage: gen_rules.py CLAUSES FILES DIR"""
import os, sys

clauses, files, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
os.makedirs(out, exist_ok=True)
clouds = ["azure", "aws", "gcp"]
with open(os.path.join(out, "a_vocabulary.proviso"), "w") as f:
    f.write('agreement generated "Generated agreement"\n\n')
    f.write('source spec "The generated specification" dated 2025-01-01\n\n')
    for i in range(50):
        f.write(f'define team_{i} = tags.team == "team-{i}"\n')
    f.write('define us_regions = { "eastus", "eastus2", "us-east-1", "us-west-2", "us-central1" }\n')
per_file = max(1, clauses // max(1, files - 1))
n = 0
fi = 0
while n < clauses:
    fi += 1
    with open(os.path.join(out, f"terms_{fi:03d}.proviso"), "w") as f:
        f.write(f'terms t{fi} "Generated terms {fi}" effective 2025-01-01 {{\n')
        for _ in range(per_file):
            if n >= clauses:
                break
            cloud = clouds[n % 3]
            f.write(f'''  clause c{n} "Team {n % 50} runs workload {n} on {cloud}" {{
    cite spec "section {n}"
    severity error
    applies to team_{n % 50} and tags.workload == "w{n}"
    require cloud == "{cloud}"
    message "workload {{address}} is on {{cloud}}"

    example "on {cloud}" on 2026-03-01 {{
      given {{ cloud: "{cloud}", kind: "resource", address: "x.y", tags: {{ "team": "team-{n % 50}", "workload": "w{n}" }} }}
      expect no violation
    }}

    example "elsewhere" on 2026-03-01 {{
      given {{ cloud: "oracle", kind: "resource", address: "x.y", tags: {{ "team": "team-{n % 50}", "workload": "w{n}" }} }}
      expect violation
    }}
  }}

''')
            n += 1
        f.write('}\n')
