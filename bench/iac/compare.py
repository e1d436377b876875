#!/usr/bin/env python3
"""Times proviso and Checkov on the generated templates and checks that they
find the same violations. Called by bench/iac/run.sh; standard library only.

For each half (cfn, arm) it runs each tool RUNS times under /usr/bin/time -v
in the same run, takes the median wall time and peak RSS, and prints them
with the ratios Checkov / proviso. Violations are compared as
(clause, file, resource): the logical ID for CloudFormation; for ARM, where
the two tools name a resource differently (Checkov by its unevaluated
`name` expression), as the count of violations per (clause, file).
"""
import collections
import json
import os
import re
import statistics
import subprocess
import sys

CHECK_IDS = {
    "CKV_PROVISO_CFN_1": "stateless_on_azure",
    "CKV_PROVISO_CFN_2": "bucket_versioning",
    "CKV_PROVISO_ARM_1": "federal_in_us",
    "CKV_PROVISO_ARM_2": "storage_tls",
}
FRAMEWORK = {"cfn": "cloudformation", "arm": "arm"}


def timed(cmd, cwd, out_path):
    with open(out_path, "w") as out:
        p = subprocess.run(["/usr/bin/time", "-v"] + cmd, cwd=cwd, stdout=out, stderr=subprocess.PIPE, text=True)
    if p.returncode not in (0, 1):
        return None, p.stderr[-1500:]
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", p.stderr).group(1)
    parts = [float(x) for x in wall.split(":")]
    seconds = sum(v * 60 ** i for i, v in enumerate(reversed(parts)))
    rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr).group(1))
    return (seconds, rss_kb / 1024), None


def proviso_found(path, half):
    doc = json.load(open(path))
    found = [(f["clause"], os.path.basename(f["file"]), f["address"]) for f in doc["findings"]
             if f.get("outcome", "violation") == "violation"]
    return found, doc["summary"]


def checkov_found(path, half):
    doc = json.load(open(path))
    reports = doc if isinstance(doc, list) else [doc]
    found = []
    for r in reports:
        for f in r.get("results", {}).get("failed_checks", []):
            found.append((CHECK_IDS[f["check_id"]], os.path.basename(f["file_path"]), f["resource"].rsplit(".", 1)[-1]))
    return found


def key(found, half):
    if half == "cfn":
        return set(found)
    return collections.Counter((c, f) for c, f, _ in found)


def main():
    proviso, checkov, root, runs, halves = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5:]
    here = os.path.dirname(os.path.abspath(__file__))
    rules = os.path.join(here, "rules")
    checks = os.path.join(here, "checkov")
    ok = True
    rows = []
    for half in halves:
        cwd = os.path.join(root, half)
        p_out = os.path.join(root, f"{half}.proviso.json")
        c_out = os.path.join(root, f"{half}.checkov.json")
        ids = [k for k, v in CHECK_IDS.items() if ("CFN" in k) == (half == "cfn")]
        p_cmd = [proviso, "check", ".", "--rules", rules, "--as-of", "2026-03-01", "--format", "json", "--no-config"]
        c_cmd = [checkov, "-d", ".", "--framework", FRAMEWORK[half], "--external-checks-dir", checks,
                 "--check", ",".join(ids), "--skip-download", "-o", "json", "--compact", "--quiet"]
        p_runs, c_runs = [], []
        for i in range(runs):
            r, err = timed(p_cmd, cwd, p_out)
            if r is None:
                print(f"  {half}: proviso failed (is its scanner merged?):\n{err}", file=sys.stderr)
                break
            p_runs.append(r)
        if not p_runs:
            ok = False
            continue
        for i in range(runs):
            print(f"  checkov on {half}, run {i + 1}/{runs} …", file=sys.stderr, flush=True)
            r, err = timed(c_cmd, cwd, c_out)
            if r is None:
                sys.exit(f"checkov failed:\n{err}")
            c_runs.append(r)
        p_found, summary = proviso_found(p_out, half)
        c_found = checkov_found(c_out, half)
        same = key(p_found, half) == key(c_found, half)
        ok = ok and same
        p_t = statistics.median(t for t, _ in p_runs)
        p_m = statistics.median(m for _, m in p_runs)
        c_t = statistics.median(t for t, _ in c_runs)
        c_m = statistics.median(m for _, m in c_runs)
        rows.append((half, summary["files"], summary["resources"], len(p_found), len(c_found), same, p_t, p_m, c_t, c_m))
        if not same:
            pk, ck = key(p_found, half), key(c_found, half)
            print(f"  {half}: only proviso: {sorted(set(pk) - set(ck))[:5]}; only Checkov: {sorted(set(ck) - set(pk))[:5]}")
    print()
    print(f"medians of {runs} runs; wall time in seconds, peak RSS in MiB")
    print("| templates | files | resources | violations (proviso / Checkov) | same | proviso time | proviso RSS | Checkov time | Checkov RSS | time ratio | memory ratio |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for half, files, res, pv, cv, same, p_t, p_m, c_t, c_m in rows:
        print(f"| {half} | {files} | {res} | {pv} / {cv} | {'yes' if same else 'NO'} | {p_t:.3f} | {p_m:.0f} | {c_t:.1f} | {c_m:.0f} | {c_t / p_t:.0f}× | {c_m / p_m:.1f}× |")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
