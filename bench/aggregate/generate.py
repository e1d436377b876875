#!/usr/bin/env python3
"""Writes a gateway JSON-lines export (with `model` and `cloud`) and a
revenue ledger for the aggregate clauses (first-ship, the revenue share and
its cap, the end of the reciprocal share), seeded and deterministic: run it
again and nothing changes.

    python3 bench/aggregate/generate.py --out DIR [--requests N] [--seed S]
    python3 bench/aggregate/generate.py --fixtures   # the committed small set

The data is designed around the cases CONTRACT.md ("Terms over many
records") distinguishes; `bench/aggregate/oracle.py` then says what they
come to, and `--fixtures` writes its answers next to the ledgers
(fixtures/aggregate/expected/): with no cap, with a cap reached at the end of
August 2026 exactly, and with one never reached.

Gateway (three files, read in this order): `gateway-2026-h1.jsonl.gz`,
`gateway-2026-h2.jsonl.gz`, `gateway-backfill.jsonl` (late records, some
of them the earliest of their product: "first" is by timestamp, not by
reading order). Products, first request per cloud:

  gpt-5.5, gpt-5.5-mini   first seen before 2026-04-27: not judged
  gpt-image-2             first seen 2025-09-20 (before any terms) on Azure, then AWS only: not new
  whisper-4               first 2026-04-27T01:30+02:00 = 04-26 UTC on Azure: not new
  codex-2                 GCP 2026-04-26T23:30-02:00 = 04-27 UTC, Azure 04-28: breach
  o5-mini                 AWS 05-02 (in the backfill), Azure 05-03: breach
  o5                      Azure 05-10, AWS 05-11: first on Azure
  gpt-5.5-pro             AWS 06-01 00:05, Azure 06-01 23:50: same day is first
  gpt-5.5-nano            first request 04-20 with no cloud (a cache hit), then AWS only: not new
  gpt-6-preview           a request with no cloud 06-10, then GCP only: breach, never on Azure
  sora-3                  AWS 07-14T23:30-02:00 (07-15 UTC), Azure 07-15T00:30+02:00 (07-14 UTC): Azure first
  gpt-realtime-2          AWS 08-02 09:00, GCP 08-02 10:00, Azure 08-05: breach, first elsewhere AWS
  o6                      Azure only
  embedding-4             AWS 10-06T23:59:59.999Z, Azure 10-07T00:00:00.001Z: breach by a millisecond
  o6-mini                 GCP 11-03T10:00+05:30 (04:30 UTC), Azure 05:00 UTC: same day

Ledger (`date,entry,product,amount_usd`): `ledger-fy26.csv` (2025-10 to
2026-06, CRLF line ends), `ledger-fy27.csv` (2026-07 to 2026-12, a
byte-order mark), `ledger-adjustments.csv` (late bookings). Daily product
revenue per product; the share to Microsoft booked at the end of each
period (April 2026 is two: 1–26 and 27–30). Per period:

  2025-10 (28–31) in full (bookings of 10-01..27 are before any terms)
  2025-11 in full · 2025-12 a cent short · 2026-01 in full, part of it in the adjustments
  2026-02 short: one share booking has a malformed amount · 2026-03 short by a fraction of a cent
  2026-04 (1–26) in full · 2026-04 (27–30) in full · 2026-05 in full
  2026-06 10% paid · 2026-07 a cent short · 2026-08 short, and the shares since 04-27 reach cap A exactly
  2026-09 in full · 2026-10 5% paid · 2026-11 nothing paid · 2026-12 exactly 20%, to the cent

Reciprocal shares (`share_to_openai`) monthly until 2026-04-26, then on
04-27, 06-15 (in the adjustments) and 09-30: three breaches; one more on
10-05 has a malformed amount. Malformed lines: a bad date (2026-02-30,
2026/07/15), an unknown entry (`refund`, `share_to_msft`), bad amounts
(a share written with thousands separators, `n/a`), a wrong column count, and a gateway line cut off.
"""
import argparse
import datetime as dt
import gzip
import json
import os
import random
import subprocess
import sys
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
CENT = Decimal("0.01")
RESTRUCTURING = dt.date(2026, 4, 27)
UTC = dt.timezone.utc

# ---------------------------------------------------------------------------
# Gateway
# ---------------------------------------------------------------------------

# model -> [(cloud, first timestamp as written)]: the first request of the
# product on each cloud that ever serves it.
FIRSTS = {
    "gpt-5.5": [("azure", "2026-01-05T08:00:00Z"), ("aws", "2026-02-10T12:00:00Z"), ("gcp", "2026-05-04T09:00:00Z")],
    "gpt-5.5-mini": [("aws", "2026-03-02T10:00:00Z"), ("azure", "2026-03-09T10:00:00Z")],
    "gpt-image-2": [("azure", "2025-09-20T14:00:00Z"), ("aws", "2026-05-12T07:45:00Z")],
    "whisper-4": [("azure", "2026-04-27T01:30:00+02:00"), ("gcp", "2026-04-28T11:00:00Z")],
    "codex-2": [("gcp", "2026-04-26T23:30:00-02:00"), ("azure", "2026-04-28T06:00:00Z")],
    "o5-mini": [("aws", "2026-05-02T10:00:00Z"), ("azure", "2026-05-03T09:00:00Z")],
    "o5": [("azure", "2026-05-10T08:00:00Z"), ("aws", "2026-05-11T08:00:00Z")],
    "gpt-5.5-pro": [("aws", "2026-06-01T00:05:00Z"), ("azure", "2026-06-01T23:50:00Z")],
    "gpt-6-preview": [("gcp", "2026-06-15T08:00:00Z")],
    "sora-3": [("aws", "2026-07-14T23:30:00-02:00"), ("azure", "2026-07-15T00:30:00+02:00")],
    "gpt-realtime-2": [("aws", "2026-08-02T09:00:00Z"), ("gcp", "2026-08-02T10:00:00Z"), ("azure", "2026-08-05T12:00:00Z")],
    "o6": [("azure", "2026-09-01T00:00:00Z")],
    "embedding-4": [("aws", "2026-10-06T23:59:59.999Z"), ("azure", "2026-10-07T00:00:00.001Z")],
    "o6-mini": [("gcp", "2026-11-03T10:00:00+05:30"), ("azure", "2026-11-03T05:00:00Z")],
}
# The first requests that arrive late, in the backfill file.
BACKFILLED = {("o5-mini", "aws"), ("gpt-image-2", "azure")}
END = dt.datetime(2027, 1, 1, tzinfo=UTC)
H2 = dt.datetime(2026, 7, 1, tzinfo=UTC)
CLOUDS = {
    "azure": ("eastus2", "eastus2.openai.azure.com", "20.41.7.9"),
    "aws": ("us-east-1", "api.openai.com", "3.80.14.21"),
    "gcp": ("us-central1", "api.openai.com", "35.184.0.7"),
}
PATHS = ["/v1/chat/completions"] * 6 + ["/v1/responses", "/v1/embeddings", "/v1/audio/transcriptions",
                                        "/v1/images/generations", "/v1/threads/thread_abc/runs"]


def instant(text):
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def stamp(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def request(rng, i, ts_text, model, cloud):
    rec = {"timestamp": ts_text}
    if cloud is None:
        # Answered from the gateway's cache: no upstream, no cloud.
        rec.update({"host": "api.openai.com", "path": "/v1/chat/completions", "method": "POST", "status": 200,
                    "model": model, "cache": "hit"})
    else:
        region, host, upstream = CLOUDS[cloud]
        path = rng.choice(PATHS)
        rec.update({"host": host, "path": path, "method": "POST",
                    "status": rng.choice([200, 200, 200, 200, 201, 429, 500]),
                    "model": model, "cloud": cloud, "region": region, "upstream_addr": upstream + ":443"})
    rec.update({"client_ip": f"10.{20 + i % 8}.{i % 251}.{(i * 7) % 251}", "bytes_in": 300 + rng.randrange(4000),
                "bytes_out": 500 + rng.randrange(20000), "latency_ms": 40 + rng.randrange(3000),
                "request_id": f"req_{rng.getrandbits(48):012x}"})
    return rec


def gateway(rng, n, seed_nano=0):
    """(h1, h2, backfill) lists of (instant, line)."""
    out = {"h1": [], "h2": [], "backfill": []}

    def put(at, rec, where=None):
        line = json.dumps(rec, separators=(",", ":"))
        out[where or ("h1" if at < H2 else "h2")].append((at, line))

    i = 0
    starts = []  # (model, cloud, first instant)
    for model, firsts in FIRSTS.items():
        for cloud, text in firsts:
            at = instant(text)
            i += 1
            put(at, request(rng, i, text, model, cloud), "backfill" if (model, cloud) in BACKFILLED else None)
            starts.append((model, cloud, at))
    # A cache hit before the product's first upstream request: no cloud,
    # but the product's first request all the same.
    t = dt.datetime(2026, 6, 10, 9, 0, tzinfo=UTC)
    put(t, request(rng, 0, stamp(t), "gpt-6-preview", None))
    # gpt-5.5-nano: first requested 2026-04-20, a cache hit, so not new,
    # though AWS alone serves it from 2026-05-01. (Its own random stream:
    # the rest of the data stays as it was.)
    nano = random.Random(seed_nano)
    t = dt.datetime(2026, 4, 20, 12, 0, tzinfo=UTC)
    put(t, request(nano, 0, stamp(t), "gpt-5.5-nano", None))
    first = dt.datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
    put(first, request(nano, 1, stamp(first), "gpt-5.5-nano", "aws"))
    for k in range(max(5, n // 300)):
        t = first + dt.timedelta(seconds=1 + nano.randrange(200 * 86400))
        put(t, request(nano, 2 + k, stamp(t), "gpt-5.5-nano", "aws"))
    # Background traffic, each product on each of its clouds strictly after
    # its first request there. gpt-image-2 is not served by Azure again.
    lanes = [(m, c, at) for (m, c, at) in starts if (m, c) != ("gpt-image-2", "azure")]
    weights = [3 if m.startswith("gpt-5.5") else 1 for (m, _, _) in lanes]
    for _ in range(n):
        i += 1
        model, cloud, first = rng.choices(lanes, weights)[0]
        span = (END - first).total_seconds()
        t = first + dt.timedelta(seconds=1 + rng.random() * (span - 2))
        t = t.replace(microsecond=(t.microsecond // 1000) * 1000)
        if t <= first:
            continue
        if rng.random() < 0.03:
            put(t, request(rng, i, stamp(t), model, None))
        else:
            put(t, request(rng, i, stamp(t), model, cloud))
    # Requests that name no product (listing models, a health check).
    for k in range(max(4, n // 50)):
        t = dt.datetime(2026, 1, 1, tzinfo=UTC) + dt.timedelta(seconds=rng.randrange(365 * 86400))
        rec = {"timestamp": stamp(t), "host": "api.openai.com", "path": "/v1/models", "method": "GET", "status": 200,
               "cloud": rng.choice(["aws", "azure"]), "request_id": f"req_{rng.getrandbits(48):012x}"}
        put(t, rec)
    for k in out:
        out[k].sort(key=lambda x: x[0])
    # A line cut off mid-record (a shipper restarted).
    h2 = out["h2"]
    cut = h2[len(h2) // 2]
    h2.insert(len(h2) // 2, (cut[0], cut[1][: len(cut[1]) // 2]))
    return out


# ---------------------------------------------------------------------------
# Ledger
# ---------------------------------------------------------------------------

PRODUCTS = ["chatgpt", "chatgpt-enterprise", "gpt-5.5", "o5-mini", "frontier"]
# (period key, first day, last day, plan); periods of the two revenue-share clauses.
PLAN = [
    ("2025-10", (2025, 10, 28), (2025, 10, 31), "full"),
    ("2025-11", (2025, 11, 1), (2025, 11, 30), "full"),
    ("2025-12", (2025, 12, 1), (2025, 12, 31), "cent_short"),
    ("2026-01", (2026, 1, 1), (2026, 1, 31), "full_split"),
    ("2026-02", (2026, 2, 1), (2026, 2, 28), "malformed_share"),
    ("2026-03", (2026, 3, 1), (2026, 3, 31), "subcent_short"),
    ("2026-04", (2026, 4, 1), (2026, 4, 26), "full"),
    ("2026-04", (2026, 4, 27), (2026, 4, 30), "full"),
    ("2026-05", (2026, 5, 1), (2026, 5, 31), "full"),
    ("2026-06", (2026, 6, 1), (2026, 6, 30), "pct10"),
    ("2026-07", (2026, 7, 1), (2026, 7, 31), "cent_short"),
    ("2026-08", (2026, 8, 1), (2026, 8, 31), "reach_cap"),
    ("2026-09", (2026, 9, 1), (2026, 9, 30), "full"),
    ("2026-10", (2026, 10, 1), (2026, 10, 31), "pct5"),
    ("2026-11", (2026, 11, 1), (2026, 11, 30), "none"),
    ("2026-12", (2026, 12, 1), (2026, 12, 31), "exact"),
]
NEVER_REACHED_CAP = Decimal("5000000000.00")


def days(a, b):
    d = a
    while d <= b:
        yield d
        d += dt.timedelta(days=1)


def money(rng, lo, hi):
    return Decimal(rng.randrange(lo * 100, hi * 100)) / 100


def ledger(rng, scale):
    """(fy26, fy27, adjustments) lists of (date, line text), and cap A."""
    rows = []  # (date, order, entry, product, amount text, file)
    order = [0]

    def book(date, entry, product, amount, where=None):
        order[0] += 1
        text = amount if isinstance(amount, str) else format(amount.quantize(CENT), "f")
        rows.append((date, order[0], entry, product, text, where))

    # Revenue before the October 2025 terms: judged by nothing.
    for d in days(dt.date(2025, 10, 1), dt.date(2025, 10, 27)):
        for p in PRODUCTS:
            book(d, "product_revenue", p, money(rng, 200_000 // scale, 3_000_000 // scale))
    cumulative = Decimal(0)  # shares paid under the restructured terms
    cap_a = None
    for key, a, b, plan in PLAN:
        first, last = dt.date(*a), dt.date(*b)
        revenue = {p: [] for p in PRODUCTS}
        for d in days(first, last):
            for p in PRODUCTS:
                amount = money(rng, 200_000 // scale, 3_000_000 // scale)
                revenue[p].append([d, amount])
        total = sum(x[1] for p in PRODUCTS for x in revenue[p])
        last_rev = revenue[PRODUCTS[-1]][-1]
        if plan in ("cent_short", "exact"):
            # Revenue a multiple of 0.05, so that 20% of it is whole cents.
            last_rev[1] -= total % Decimal("0.05")
        if plan == "subcent_short" and total % Decimal("0.05") == 0:
            last_rev[1] += CENT
        total = sum(x[1] for p in PRODUCTS for x in revenue[p])
        due = total * Decimal("0.2")
        for p in PRODUCTS:
            for d, amount in revenue[p]:
                book(d, "product_revenue", p, amount)
        per = {p: sum(x[1] for x in revenue[p]) * Decimal("0.2") for p in PRODUCTS}
        shares = {}
        if plan in ("full", "full_split", "malformed_share"):
            shares = {p: per[p].quantize(CENT, ROUND_CEILING) for p in PRODUCTS}
        elif plan in ("cent_short", "exact", "subcent_short"):
            target = due.quantize(CENT, ROUND_FLOOR) - (CENT if plan == "cent_short" else 0)
            shares = {p: per[p].quantize(CENT, ROUND_FLOOR) for p in PRODUCTS}
            shares[PRODUCTS[-1]] += target - sum(shares.values())
        elif plan in ("pct10", "pct5"):
            rate = Decimal("0.10") if plan == "pct10" else Decimal("0.05")
            shares = {p: (sum(x[1] for x in revenue[p]) * rate).quantize(CENT, ROUND_FLOOR) for p in PRODUCTS}
        elif plan == "reach_cap":
            # Pay 60% of what is due and set cap A to exactly the shares
            # paid since 2026-04-27 through the end of this month.
            shares = {p: (per[p] * Decimal("0.6")).quantize(CENT, ROUND_FLOOR) for p in PRODUCTS}
        paid_text = {p: v for p, v in shares.items()}
        if plan == "malformed_share":
            # Typed with thousands separators in the export: malformed, so
            # it joins no sum and the month is short by it.
            v = shares["frontier"]
            paid_text["frontier"] = '"' + f"{v:,.2f}" + '"'
        for p in PRODUCTS:
            if p not in shares:
                continue
            if plan == "full_split" and p == "gpt-5.5":
                half = (shares[p] / 2).quantize(CENT, ROUND_FLOOR)
                book(last, "share_to_microsoft", p, half)
                book(last, "share_to_microsoft", p, shares[p] - half, "adjustments")
            else:
                book(last, "share_to_microsoft", p, paid_text[p])
        if first >= RESTRUCTURING:
            cumulative += sum(shares.values())
            if plan == "reach_cap":
                cap_a = cumulative
    # Reciprocal shares paid by Microsoft to OpenAI.
    for (y, m) in [(2025, 10), (2025, 11), (2025, 12), (2026, 1), (2026, 2), (2026, 3), (2026, 4)]:
        book(dt.date(y, m, 15), "share_to_openai", "azure-openai", money(rng, 50_000 // scale, 400_000 // scale))
    book(dt.date(2026, 4, 26), "share_to_openai", "azure-openai", money(rng, 5_000, 40_000))
    book(dt.date(2026, 4, 27), "share_to_openai", "azure-openai", money(rng, 5_000, 40_000))
    book(dt.date(2026, 6, 15), "share_to_openai", "bing-chat", money(rng, 5_000, 40_000), "adjustments")
    book(dt.date(2026, 9, 30), "share_to_openai", "azure-openai", Decimal("125000.00"))
    book(dt.date(2026, 10, 5), "share_to_openai", "azure-openai", "n/a")
    # Malformed lines that would have joined a month's revenue.
    book(dt.date(2026, 2, 28), "product_revenue", "chatgpt", "99999.99", "bad_date:2026-02-30")
    book(dt.date(2026, 3, 20), "refund", "chatgpt", "-1500.00")
    book(dt.date(2026, 7, 15), "product_revenue", "o5-mini", "88888.88", "bad_date:2026/07/15")
    book(dt.date(2026, 11, 30), "share_to_msft", "gpt-5.5", "77777.77")
    rows.sort(key=lambda r: (r[0], r[1]))
    files = {"fy26": [], "fy27": [], "adjustments": []}
    for (date, _o, entry, product, amount, where) in rows:
        shown = date.isoformat()
        if where and where.startswith("bad_date:"):
            shown = where.split(":", 1)[1]
            where = None
        name = where or ("fy26" if date < dt.date(2026, 7, 1) else "fy27")
        files[name].append(f"{shown},{entry},{product},{amount}")
    files["adjustments"].insert(1, "2026-01-31,share_to_microsoft,gpt-5.5")  # a column short
    return files, cap_a


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if path.endswith(".gz"):
        with open(path, "wb") as f:
            with gzip.GzipFile(fileobj=f, mode="wb", mtime=0, filename="") as g:
                g.write(data)
    else:
        with open(path, "wb") as f:
            f.write(data)


def generate(exports, ledgers, requests, seed):
    rng = random.Random(seed)
    gw = gateway(rng, requests, seed + 1)
    names = {"h1": "gateway-2026-h1.jsonl.gz", "h2": "gateway-2026-h2.jsonl.gz", "backfill": "gateway-backfill.jsonl"}
    paths = []
    for k in ("h1", "h2", "backfill"):
        p = os.path.join(exports, names[k])
        write(p, ("\n".join(line for _, line in gw[k]) + "\n").encode())
        paths.append(p)
    files, cap_a = ledger(rng, 1)
    header = "date,entry,product,amount_usd"
    fy26 = os.path.join(ledgers, "ledger-fy26.csv")
    fy27 = os.path.join(ledgers, "ledger-fy27.csv")
    adj = os.path.join(ledgers, "ledger-adjustments.csv")
    write(fy26, ("\r\n".join([header] + files["fy26"]) + "\r\n").encode())
    write(fy27, b"\xef\xbb\xbf" + ("\n".join([header] + files["fy27"]) + "\n").encode())
    write(adj, ("\n".join([header] + files["adjustments"]) + "\n").encode())
    return paths + [fy26, fy27, adj], cap_a


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", help="directory for the export and the ledger")
    ap.add_argument("--requests", type=int, default=60_000, help="background gateway requests (default 60000)")
    ap.add_argument("--seed", type=int, default=20260427)
    ap.add_argument("--fixtures", action="store_true",
                    help="write the committed small set and the oracle's answers for it")
    a = ap.parse_args()
    if a.fixtures:
        os.chdir(REPO)
        exports = ledgers = "fixtures/aggregate"
        requests = 6_000
    elif a.out:
        exports = ledgers = a.out
        requests = a.requests
    else:
        ap.error("--out DIR or --fixtures")
    paths, cap_a = generate(exports, ledgers, requests, a.seed)
    caps = {"no-cap": None, "cap-reached": cap_a, "cap-never-reached": NEVER_REACHED_CAP}
    print("files:", " ".join(paths))
    print(f"cap reached at the end of 2026-08: {cap_a}; never reached: {NEVER_REACHED_CAP}")
    if a.fixtures:
        oracle = os.path.join(HERE, "oracle.py")
        for name, cap in caps.items():
            cmd = [sys.executable, oracle] + paths
            if cap is not None:
                cmd += ["--param", f"revenue_share_cap={cap}"]
            out = subprocess.run(cmd, check=True, capture_output=True).stdout
            write(os.path.join(ledgers, "expected", name + ".json"), out)
            print("wrote", os.path.join(ledgers, "expected", name + ".json"))


if __name__ == "__main__":
    main()
