#!/usr/bin/env python3
"""Runs the oracle on the aggregate examples of a rule file and says
whether it gives the outcomes they expect: the oracle and the rule file's
author read the contract the same way.

    python3 bench/aggregate/check_examples.py [rules/microsoft-openai.proviso]

Each `example "…" { given [ {…}, … ] [with p = v] expect … [for "key"] }`
of the clauses the oracle knows becomes a gateway export (records with a
`timestamp`) or a ledger (records with a `date`) in a temporary directory.
`expect violation for "k"` / `expect unresolved for "k"`: the oracle
reports group k so; `expect no violation for "k"`: it does not report k;
`expect no violation` with no key: it reports no group. Exits 1 on the
first disagreement's end, after printing them all.
"""
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
CLAUSES = ("first_ship_on_azure", "revenue_share", "revenue_share_20_percent")
RECORD = re.compile(r"\{([^{}]*)\}")
PAIR = re.compile(r'(\w+)\s*:\s*"([^"]*)"')


def examples(text):
    """(clause, title, records, params, expectations) for each aggregate example."""
    for m in re.finditer(r"clause (\w+) \"", text):
        clause = m.group(1)
        if clause not in CLAUSES:
            continue
        end = text.find("\n  clause ", m.end())
        body = text[m.end(): end if end > 0 else len(text)]
        for ex in re.finditer(r'example "([^"]*)" \{\n(.*?)\n    \}\n', body, re.S):
            title, inner = ex.group(1), ex.group(2)
            given = re.search(r"given \[(.*?)\n\s*\]", inner, re.S)
            if not given:
                continue
            records = [dict(PAIR.findall(r.group(1))) for r in RECORD.finditer(given.group(1))]
            params = dict(re.findall(r"with (\w+) = ([0-9.]+)", inner))
            expects = re.findall(r'expect (no violation|violation|unresolved)(?: for "([^"]*)")?', inner)
            yield clause, title, records, params, expects


def run(records, params, tmp):
    gateway = [r for r in records if "timestamp" in r]
    ledger = [r for r in records if "date" in r]
    files = []
    if gateway:
        p = os.path.join(tmp, "gateway.jsonl")
        with open(p, "w") as f:
            f.writelines(json.dumps(r) + "\n" for r in gateway)
        files.append(p)
    if ledger:
        p = os.path.join(tmp, "ledger.csv")
        with open(p, "w") as f:
            f.write("date,entry,product,amount_usd\n")
            f.writelines(f"{r['date']},{r['entry']},{r['product']},{r['amount_usd']}\n" for r in ledger)
        files.append(p)
    cmd = [sys.executable, os.path.join(HERE, "oracle.py")] + files
    for k, v in params.items():
        cmd += ["--param", f"{k}={v}"]
    return json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "..", "rules", "microsoft-openai.proviso")
    text = open(path, encoding="utf-8").read()
    bad = n = 0
    with tempfile.TemporaryDirectory() as tmp:
        for clause, title, records, params, expects in examples(text):
            out = run(records, params, tmp)["clauses"][clause]
            reported = {next(iter(g["key"].values())): g["outcome"] for g in out["groups"]}
            for outcome, key in expects:
                n += 1
                if key:
                    got = reported.get(key, "no violation")
                    ok = got == outcome
                else:
                    got = ", ".join(f"{k}: {v}" for k, v in reported.items()) or "no violation"
                    ok = outcome == "no violation" and not reported
                print(f"{'ok  ' if ok else 'FAIL'} {clause}: {title}: expect {outcome}"
                      f"{' for ' + key if key else ''}" + ("" if ok else f", the oracle says {got}"))
                bad += not ok
    print(f"{n - bad} of {n} expectations agree")
    sys.exit(1 if bad or not n else 0)


if __name__ == "__main__":
    main()
