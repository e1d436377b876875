#!/usr/bin/env python3
"""Differential test: many small random gateway exports and ledgers, each
audited by proviso and judged by the oracle; prints every disagreement
and keeps its inputs.

    python3 bench/aggregate/differential.py [--runs N] [--seed S] [--proviso PATH] [--keep DIR]

The cases crowd the edges the contract names: days around 2025-10-28,
2026-04-27 and month ends, timestamps with offsets that move the UTC day,
amounts of a few cents (so that 20% has a fraction of a cent), a cap near
the running total, missing clouds, malformed ledger lines. Compared per
aggregate clause: the reported groups (key, outcome, every figure as a
decimal number or text), and the reciprocal-share findings (file:line).
"""
import argparse
import datetime as dt
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
from decimal import Decimal

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
AGGREGATE = ("first_ship_on_azure", "revenue_share", "revenue_share_20_percent")
EDGES = [dt.date(2025, 10, 27), dt.date(2025, 10, 28), dt.date(2025, 10, 31), dt.date(2025, 11, 1),
         dt.date(2026, 3, 31), dt.date(2026, 4, 1), dt.date(2026, 4, 26), dt.date(2026, 4, 27),
         dt.date(2026, 4, 30), dt.date(2026, 5, 1), dt.date(2026, 5, 31), dt.date(2026, 6, 1)]
# --loose: amounts the contract does not describe (`100`, `-25.00`,
# `0.5`, `10.005`); --datetimes: a ledger date with a time of day;
# --blanks: an empty (or `-`) date, entry or amount (both read it as
# malformed). --datetimes shows where the two readings differ, not a
# defect by itself.
LOOSE = "--loose" in sys.argv
DATETIMES = "--datetimes" in sys.argv
BLANKS = "--blanks" in sys.argv
OFFSETS = ["Z", "Z", "+00:00", "-02:00", "+02:00", "+05:30", "-07:00", "+14:00", "-12:00"]


def some_day(rng):
    if rng.random() < 0.6:
        return rng.choice(EDGES)
    return dt.date(2025, 10, 15) + dt.timedelta(days=rng.randrange(260))


def some_amount(rng):
    r = rng.random()
    if r < 0.4:
        cents = rng.randrange(1, 1000)
    elif r < 0.8:
        cents = rng.randrange(1, 10_000_000)
    else:
        cents = rng.randrange(1, 100) * 5  # multiples of 0.05
    return f"{cents // 100}.{cents % 100:02d}"


def case(rng, d):
    files = []
    # Gateway export.
    lines = []
    models = [f"m{k}" for k in range(rng.randrange(1, 5))]
    for _ in range(rng.randrange(0, 14)):
        day = some_day(rng)
        at = dt.datetime.combine(day, dt.time(rng.choice([0, 0, 1, 12, 22, 23]), rng.randrange(60),
                                              rng.randrange(60)))
        off = rng.choice(OFFSETS)
        ts = at.strftime("%Y-%m-%dT%H:%M:%S") + (f".{rng.randrange(1000):03d}" if rng.random() < .3 else "") + off
        if rng.random() < 0.1:
            utc = at.replace(tzinfo=dt.timezone.utc)
            ts = int(utc.timestamp()) * (1000 if rng.random() < 0.5 else 1)
        rec = {"timestamp": ts,
               "host": "api.openai.com", "path": "/v1/chat/completions", "model": rng.choice(models)}
        c = rng.choice(["azure", "azure", "aws", "gcp", None])
        if c:
            rec["cloud"] = c
        lines.append(json.dumps(rec))
    if lines:
        p = os.path.join(d, "gateway.jsonl")
        with open(p, "w") as f:
            f.write("\n".join(lines) + "\n")
        files.append(p)
    # Ledger, in one or two files.
    rows = []
    for _ in range(rng.randrange(1, 30)):
        entry = rng.choice(["product_revenue", "product_revenue", "share_to_microsoft", "share_to_microsoft",
                            "share_to_openai"])
        date = some_day(rng).isoformat()
        amount = some_amount(rng)
        r = rng.random()
        if r < 0.03:
            amount = rng.choice(["12O.00", "n/a", "1e3", "$5.00"])
        elif r < 0.06:
            date = rng.choice(["2026-02-30", "2026/04/27", "27-04-2026"])
        elif r < 0.08:
            entry = rng.choice(["refund", "Share_to_microsoft"])
        if LOOSE and rng.random() < 0.05:
            amount = rng.choice(["100", "-25.00", "0.5", "10.005"])
        if DATETIMES and rng.random() < 0.03:
            date = date + rng.choice(["T00:30:00+02:00", "T23:30:00-02:00"])
        cells = {"date": date, "entry": entry, "product": f"p{rng.randrange(3)}", "amount_usd": amount}
        if BLANKS and rng.random() < 0.05:
            cells[rng.choice(["date", "entry", "amount_usd"])] = rng.choice(["", "-"])
        if rng.random() < 0.2:
            cells = {k: f'"{v}"' for k, v in cells.items()}
        rows.append(cells)
    cut = rng.randrange(len(rows) + 1) if rng.random() < 0.5 else len(rows)
    for name, part, crlf in (("ledger-a.csv", rows[:cut], rng.random() < 0.3), ("ledger-b.csv", rows[cut:], False)):
        if not part:
            continue
        p = os.path.join(d, name)
        nl = "\r\n" if crlf else "\n"
        cols = ["date", "entry", "product", "amount_usd"]
        if rng.random() < 0.3:
            rng.shuffle(cols)
        text = [",".join(cols)] + [",".join(r[c] for c in cols) for r in part]
        with open(p, "w", newline="") as f:
            f.write(nl.join(text) + nl + (nl if rng.random() < 0.2 else ""))
        files.append(p)
    cap = None
    if rng.random() < 0.6:
        cap = some_amount(rng)
    return files, cap


def oracle(files, cap):
    cmd = [sys.executable, os.path.join(HERE, "oracle.py")] + files
    if cap:
        cmd += ["--param", f"revenue_share_cap={cap}"]
    return json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)


def audit(binary, files, cap, d):
    findings = os.path.join(d, "findings.jsonl")
    cmd = [binary, "audit"] + files + ["--rules", os.path.join(REPO, "rules"), "--format", "json",
                                       "--findings", findings, "--allow-malformed"]
    if cap:
        cmd += ["--param", f"revenue_share_cap={cap}"]
    run = subprocess.run(cmd, capture_output=True, text=True)
    if run.returncode == 2 and ("proviso::audit::outside_terms" in run.stderr
                                or "proviso::audit::nothing_judged" in run.stderr):
        # A file with no record in any terms, or a run with nothing it
        # could read: an error, by design.
        return "skip", run.stderr
    if run.returncode not in (0, 1):
        return None, run.stderr
    doc = json.loads(run.stdout)
    recip = set()
    if os.path.exists(findings):
        for line in open(findings):
            f = json.loads(line)
            if f.get("clause") == "reciprocal_share_ended":
                recip.add((f["file"], f["line"]))
    return (doc, recip), run.stderr


def same(a, b):
    if a == b:
        return True
    try:
        return Decimal(str(a)) == Decimal(str(b))
    except Exception:
        return False


def compare(want, got):
    doc, recip = got
    out = []
    by_id = {}
    for c in doc["clauses"]:
        by_id.setdefault(c["clause"], []).append(c)
    for cid in AGGREGATE:
        entries = by_id.get(cid, [])
        groups = [g for c in entries for g in c.get("groups", [])]
        g_by = {json.dumps(g["key"], sort_keys=True): g for g in groups}
        e_by = {json.dumps(g["key"], sort_keys=True): g for g in want["clauses"][cid]["groups"]}
        for k in sorted(set(g_by) | set(e_by)):
            g, e = g_by.get(k), e_by.get(k)
            if g is None:
                out.append(f"{cid} {k}: oracle {e['outcome']} {e['figures']}, audit nothing")
            elif e is None:
                out.append(f"{cid} {k}: audit {g['outcome']} {g['figures']}, oracle passes")
            else:
                if g["outcome"] != e["outcome"]:
                    out.append(f"{cid} {k}: audit {g['outcome']}, oracle {e['outcome']}")
                without = {(l["file"], l["line"]) for l in (g.get("computed_without") or {}).get("lines", [])}
                left_out = {(l["file"], l["line"]) for l in e.get("left_out", [])}
                if without != left_out:
                    out.append(f"{cid} {k}: computed without {sorted(without)}, oracle leaves out {sorted(left_out)}")
                for name, v in e["figures"].items():
                    gv = g["figures"].get(name)
                    if name == "revenue_share_cap" and gv is None:
                        continue
                    if not same(gv, v):
                        out.append(f"{cid} {k}: {name} audit {gv}, oracle {v}")
    want_recip = {(r["file"], r["line"]) for r in want["clauses"]["reciprocal_share_ended"]["records"]}
    if recip != want_recip:
        out.append(f"reciprocal_share_ended: audit {sorted(recip)}, oracle {sorted(want_recip)}")
    if doc["summary"]["malformed"] != len(want["malformed"]):
        out.append(f"malformed: audit {doc['summary']['malformed']}, oracle {len(want['malformed'])}: {want['malformed']}")
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--proviso", default=os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(REPO, "target")), "debug", "proviso"))
    ap.add_argument("--keep", default="/tmp/proviso-differential")
    ap.add_argument("--loose", action="store_true", help="also amounts the contract does not describe")
    ap.add_argument("--datetimes", action="store_true", help="also ledger dates with a time of day")
    ap.add_argument("--blanks", action="store_true", help="also empty dates, entries and amounts")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    bad = skipped = 0
    os.makedirs(a.keep, exist_ok=True)
    for i in range(a.runs):
        d = tempfile.mkdtemp()
        files, cap = case(rng, d)
        want = oracle(files, cap)
        got, err = audit(a.proviso, files, cap, d)
        if got == "skip":
            skipped += 1
            shutil.rmtree(d, ignore_errors=True)
            continue
        problems = [f"proviso failed: {err.strip()}"] if got is None else compare(want, got)
        if problems:
            bad += 1
            keep = os.path.join(a.keep, f"case-{a.seed}-{i}")
            shutil.rmtree(keep, ignore_errors=True)
            shutil.copytree(d, keep)
            print(f"case {i} (cap {cap}), kept in {keep}:")
            for p in problems:
                print("   ", p.replace(d, keep))
        shutil.rmtree(d, ignore_errors=True)
    print(f"{a.runs - bad - skipped} of {a.runs - skipped} cases agree ({skipped} skipped: a file with no record in any terms, or nothing readable)")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
