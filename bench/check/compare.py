#!/usr/bin/env python3
"""Times proviso and Checkov on the same generated monorepo and checks that
they find the same violations. Called by bench/check/run.sh; standard library only.

For each tree (the full monorepo, a 500-file subset) it runs each tool RUNS
times under /usr/bin/time -v, takes the median wall time and peak RSS, and
prints them with the ratios Checkov / proviso.
"""
import json
import os
import re
import statistics
import subprocess
import sys

CHECK_IDS = {
    "CKV2_PROVISO_1": "stateless_on_azure",
    "CKV2_PROVISO_2": "federal_in_us",
    "CKV2_PROVISO_3": "storage_tls",
}


def timed(cmd, cwd, out_path):
    """Runs cmd with stdout to out_path; returns (seconds, peak RSS in MiB)."""
    with open(out_path, "w") as out:
        p = subprocess.run(["/usr/bin/time", "-v"] + cmd, cwd=cwd, stdout=out, stderr=subprocess.PIPE, text=True)
    if p.returncode not in (0, 1):
        sys.exit(f"{cmd[0]} failed with exit code {p.returncode}:\n{p.stderr[-2000:]}")
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", p.stderr).group(1)
    parts = [float(x) for x in wall.split(":")]
    seconds = sum(v * 60 ** i for i, v in enumerate(reversed(parts)))
    rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr).group(1))
    return seconds, rss_kb / 1024


def proviso_violations(path):
    doc = json.load(open(path))
    return {(f["clause"], f["file"], f["address"]) for f in doc["findings"]}, doc["summary"]


def checkov_violations(path):
    doc = json.load(open(path))
    reports = doc if isinstance(doc, list) else [doc]
    found = set()
    for r in reports:
        for f in r["results"]["failed_checks"]:
            found.add((CHECK_IDS[f["check_id"]], f["file_path"].lstrip("/"), f["resource"]))
    return found


def main():
    proviso, checkov, root, runs, trees = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5:]
    here = os.path.dirname(os.path.abspath(__file__))
    rules = os.path.join(here, "rules")
    checks = os.path.join(here, "checkov")
    ok = True
    rows = []
    for tree in trees:
        cwd = os.path.join(root, tree)
        p_out = os.path.join(root, f"{tree}.proviso.json")
        c_out = os.path.join(root, f"{tree}.checkov.json")
        p_cmd = [proviso, "check", ".", "--rules", rules, "--as-of", "2026-03-01", "--format", "json", "--no-config"]
        c_cmd = [checkov, "-d", ".", "--framework", "terraform", "--external-checks-dir", checks,
                 "--check", ",".join(CHECK_IDS), "--skip-download", "-o", "json", "--compact", "--quiet"]
        p_runs = [timed(p_cmd, cwd, p_out) for _ in range(runs)]
        c_runs = []
        for i in range(runs):
            print(f"  checkov on {tree}, run {i + 1}/{runs} …", file=sys.stderr, flush=True)
            c_runs.append(timed(c_cmd, cwd, c_out))
        p_found, summary = proviso_violations(p_out)
        c_found = checkov_violations(c_out)
        same = p_found == c_found
        ok = ok and same
        p_t = statistics.median(t for t, _ in p_runs)
        p_m = statistics.median(m for _, m in p_runs)
        c_t = statistics.median(t for t, _ in c_runs)
        c_m = statistics.median(m for _, m in c_runs)
        rows.append((tree, summary["files"], summary["resources"], len(p_found), len(c_found), same, p_t, p_m, c_t, c_m))
        if not same:
            print(f"  {tree}: only proviso: {sorted(p_found - c_found)[:5]}; only Checkov: {sorted(c_found - p_found)[:5]}")
    print()
    print(f"medians of {runs} runs; wall time in seconds, peak RSS in MiB")
    print("| tree | files | resources | violations (proviso / Checkov) | same | proviso time | proviso RSS | Checkov time | Checkov RSS | time ratio | memory ratio |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for tree, files, res, pv, cv, same, p_t, p_m, c_t, c_m in rows:
        print(f"| {tree} | {files} | {res} | {pv} / {cv} | {'yes' if same else 'NO'} | {p_t:.2f} | {p_m:.0f} | {c_t:.1f} | {c_m:.0f} | {c_t / p_t:.0f}× | {c_m / p_m:.1f}× |")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
