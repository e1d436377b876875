#!/usr/bin/env python3
"""The fixture's design at bench size, audited and judged by the oracle:
with no cap, the cap reached at the end of August 2026 and one never
reached, each on one thread and on all of them. Prints what differs (or
`agree`), the counts, and how long each took.

    python3 bench/aggregate/compare.py [--requests N] [--out DIR] [--proviso PATH]

Use a release build for timings (`cargo build --release`, then
`--proviso target/release/proviso`). Not a test: CI does not run it.
"""
import argparse
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import differential  # noqa: E402
import generate  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=60_000)
    ap.add_argument("--out", default="/tmp/proviso-aggregate-bench")
    ap.add_argument("--seed", type=int, default=20260427)
    ap.add_argument("--proviso", default=os.path.join(
        os.environ.get("CARGO_TARGET_DIR", os.path.join(differential.REPO, "target")), "debug", "proviso"))
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    files, cap_a = generate.generate(a.out, a.out, a.requests, a.seed)
    lines = 0
    for f in files:
        lines += len(generate.gzip.decompress(open(f, "rb").read()).splitlines()) if f.endswith(".gz") \
            else len(open(f, "rb").read().splitlines())
    print(f"{len(files)} files, {lines} lines, in {a.out}; cap reached at the end of 2026-08: {cap_a}")
    bad = 0
    for cap in (None, str(cap_a), str(generate.NEVER_REACHED_CAP)):
        t = time.monotonic()
        want = differential.oracle(files, cap)
        took_oracle = time.monotonic() - t
        for threads in ("1", None):
            t = time.monotonic()
            got, err = audit(a.proviso, files, cap, a.out, threads)
            took = time.monotonic() - t
            problems = [f"proviso failed: {err}"] if got is None else differential.compare(want, got)
            bad += bool(problems)
            counts = ", ".join(f"{c} {v['violations']}/{v.get('unresolved', 0)}" for c, v in want["clauses"].items())
            print(f"cap {cap}, threads {threads or 'all'}: {'; '.join(problems) or 'agree'} "
                  f"(violations/unresolved: {counts}); audit {took:.2f} s, oracle {took_oracle:.2f} s")
    sys.exit(1 if bad else 0)


def audit(binary, files, cap, d, threads):
    findings = os.path.join(d, "findings.jsonl")
    cmd = [binary, "audit"] + files + ["--rules", os.path.join(differential.REPO, "rules"), "--format", "json",
                                       "--findings", findings, "--allow-malformed"]
    if cap:
        cmd += ["--param", f"revenue_share_cap={cap}"]
    if threads:
        cmd += ["--threads", threads]
    run = subprocess.run(cmd, capture_output=True, text=True)
    if run.returncode not in (0, 1):
        return None, run.stderr
    import json
    recip = set()
    for line in open(findings):
        f = json.loads(line)
        if f.get("clause") == "reciprocal_share_ended":
            recip.add((f["file"], f["line"]))
    return (json.loads(run.stdout), recip), run.stderr


if __name__ == "__main__":
    main()
