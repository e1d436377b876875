#!/usr/bin/env python3
"""Data for the engines test (`tests/sql_engines.rs`): the same records twice.

Every table is written as Parquet (typed columns, what a data lake holds)
and as text (JSON lines or CSV, what `proviso audit` has always read), in
the same order, so that the audit of the text twin and the compiled SQL run
on the Parquet can be held to one answer record by record. Every generated
record has an `id` (1-based): in the JSON lines twin it is the line number,
in the CSV twin the line number minus the header.

Tables written to OUT (names are the SQL table names the test uses):

  gateway   gateway.parquet + gateway.jsonl  generated traffic (--records)
  ledger    ledger.parquet  + ledger.csv     generated revenue ledger (--ledger)
  fx_gateway  fx_gateway.parquet             the bundled gateway exports
  fx_ledger   fx_ledger.parquet              the bundled revenue ledgers

The bundled fixtures are judged by `proviso audit` in their own files; their
Parquet copies carry an `id` that `meta.json` maps to (file, line). Lines
that proviso reads as malformed (a JSON line that does not parse, a CSV
line with the wrong number of columns, an amount or date that is not one,
an `entry` outside the rule file's `one of`) are left out of the Parquet
copy: proviso skips them too, and the test checks that the counts agree
with the audit's `inputs[].malformed`.

`meta.json` also holds two values for the `revenue_share_cap` parameter:
one that the shares paid from 2026-04-27 reach exactly at the end of a
month (the `>=` boundary), and one that they never reach.

Deterministic: the same --seed writes the same bytes.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import decimal
import gzip
import io
import json
import os
import random
import re
import sys

import pyarrow as pa
import pyarrow.parquet as pq

UTC = dt.timezone.utc
D = decimal.Decimal
CUT = dt.datetime(2026, 4, 27, tzinfo=UTC)

# --- vocabulary of the generated traffic -------------------------------------

HOSTS = [
    # (host, weight): the OpenAI API, Azure OpenAI, Azure Government,
    # look-alikes that must not match, upper case (hosts compare in lower
    # case), unicode.
    ("api.openai.com", 20),
    ("API.OpenAI.com", 2),
    ("eastus2.openai.azure.com", 12),
    ("westeurope.openai.azure.com", 6),
    ("ünïcode.openai.azure.com", 2),
    ("openai.azure.com", 2),  # no label before: `*.openai.azure.com` needs one
    ("fed.openai.azure.us", 6),
    ("usgov.openai.azure.us", 3),
    ("status.openai.com", 3),
    ("api.openai.com.example.net", 2),
    ("api-openai.com", 1),
    ("gateway.internal", 3),
    (None, 2),
]

PATHS = [
    # stateless
    ("/v1/chat/completions", 25),
    ("/v1/completions", 6),
    ("/v1/embeddings", 8),
    ("/v1/moderations", 3),
    ("/v1/images/generations", 4),
    ("/v1/images/生成", 2),
    ("/v1/images/", 1),
    ("/v1/audio/transcriptions", 3),
    ("/v1/audio/speech/ﬁle", 1),
    # stateful
    ("/v1/assistants", 3),
    ("/v1/assistants/asst_1/runs", 3),
    ("/v1/threads/thread_abc/runs", 4),
    ("/v1/threadsX", 1),
    ("/v1/vector_stores/vs_1/files", 2),
    ("/v1/realtime/sessions", 2),
    ("/v1/conversations", 2),
    # neither, and LIKE traps: `_` and `%` are literal in proviso's globs
    ("/v1/vectorXstores/vs_1", 1),
    ("/v1/chat_completions", 1),
    ("/v1/chat%completions", 1),
    ("/v1/images", 1),
    ("/V1/embeddings", 1),
    ("/v1/chat/completions/", 1),
    ("/v1/models", 3),
    ("/healthz", 2),
    (None, 1),
]

CLOUDS = [("azure", 40), ("aws", 25), ("gcp", 12), ("AZURE", 1), (None, 10)]
US_REGIONS = ["eastus", "eastus2", "westus3", "usgovvirginia", "us-east-1", "us-west-2",
              "us-gov-west-1", "us-central1", "us-east4"]
OTHER_REGIONS = ["westeurope", "northeurope", "eu-west-1", "ap-southeast-2", "europe-west4",
                 "japaneast", "東京"]

# Models with a story for first_ship_on_azure. Each entry: the first
# requests, as (timestamp text, cloud); the generator adds random traffic
# for the model only after the last of them.
MODEL_STORIES = {
    # first seen long before the restructuring: never new
    "gpt-5.5": [("2025-11-02T08:00:00Z", "azure"), ("2026-05-01T08:00:00Z", "aws")],
    "gpt-image-2": [("2025-12-24T10:00:00+05:30", "gcp")],
    # first seen on 2026-04-26 UTC through an offset: not new
    "o4-legacy": [("2026-04-27T00:30:00+01:00", "aws"), ("2026-05-05T10:00:00Z", "gcp")],
    # first seen on 2026-04-27 UTC through an offset: new, and AWS first
    "gpt-5.5-mini": [("2026-04-26T23:30:00-02:00", "aws"), ("2026-04-28T09:00:00Z", "azure")],
    # new, AWS the day before Azure
    "o5-mini": [("2026-05-02T10:00:00Z", "aws"), ("2026-05-03T09:00:00Z", "azure")],
    # new, Azure first
    "o5": [("2026-05-10T08:00:00Z", "azure"), ("2026-05-11T08:00:00Z", "aws")],
    # new, Azure and AWS the same UTC day (Azure through an offset)
    "codex-2": [("2026-05-02T23:00:00Z", "aws"), ("2026-05-03T00:30:00+02:00", "azure")],
    # new, Azure the next UTC day although the local date is the same
    "codex-3": [("2026-06-02T20:00:00Z", "aws"), ("2026-06-02T23:30:00-03:00", "azure")],
    # new, never on Azure
    "gpt-6-preview": [("2026-06-01T08:00:00Z", "gcp")],
    "whisper-4": [("2026-07-14T12:00:00.123456Z", "aws")],
    # new, unicode, Azure only
    "sora-3-日本": [("2026-08-01T00:00:00Z", "azure")],
    # new, first request's cloud unknown, then Azure, then AWS
    "gpt-5.6": [("2026-09-01T00:00:00Z", None), ("2026-09-02T00:00:00Z", "azure"),
                ("2026-09-02T12:00:00Z", "aws")],
    # new, only requests whose cloud is unknown
    "ghost-1": [("2026-10-01T00:00:00Z", None)],
    # new on Azure, then AZURE (not "azure": a case difference is another cloud)
    "o6": [("2026-11-01T00:00:00Z", "AZURE"), ("2026-11-01T01:00:00Z", "azure")],
}

TAG_KEYS = {
    "segment": ["federal", "commercial"],
    "workload": ["training", "inference"],
    "product": ["frontier", "chatgpt"],
    "channel": ["third-party", "first-party"],
    "model-vendor": ["openai", "other"],
    "api-mode": ["stateless", "stateful"],
}


def pick(rng: random.Random, weighted):
    values, weights = zip(*weighted)
    return rng.choices(values, weights)[0]


def parse_ts(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def fmt_ts(rng: random.Random, t: dt.datetime) -> str:
    """The instant `t` as a log might write it: Z, +00:00 or another offset,
    with 0, 3 or 6 fractional digits (never more: Parquet keeps microseconds)."""
    offset = pick(rng, [(0, 5), (0, 1), (-120, 2), (60, 2), (330, 1), (-300, 1), (840, 1)])
    local = t.astimezone(dt.timezone(dt.timedelta(minutes=offset)))
    digits = pick(rng, [(0, 3), (3, 3), (6, 1)])
    base = local.strftime("%Y-%m-%dT%H:%M:%S")
    if digits == 3:
        base += ".%03d" % (local.microsecond // 1000)
    elif digits == 6:
        base += ".%06d" % local.microsecond
    if offset == 0 and rng.random() < 0.8:
        return base + "Z"
    sign = "+" if offset >= 0 else "-"
    return base + "%s%02d:%02d" % (sign, abs(offset) // 60, abs(offset) % 60)


def truncate_to_written(text: str) -> dt.datetime:
    return parse_ts(text)


def ipv4(rng):
    return "%d.%d.%d.%d" % (rng.choice([10, 20, 3, 34, 52, 192]), rng.randrange(256),
                            rng.randrange(256), rng.randrange(1, 255))


def ipv6(rng):
    head = rng.choice(["2001:db8", "2603:1030", "2600:1f18", "2a02:db8", "fe80:0"])
    return head + "::" + ":".join("%x" % rng.randrange(65536) for _ in range(rng.randrange(1, 4)))


def an_ip(rng):
    r = rng.random()
    if r < 0.6:
        return ipv4(rng)
    if r < 0.9:
        return ipv6(rng)
    return None


def random_instant(rng, lo: dt.datetime, hi: dt.datetime) -> dt.datetime:
    span = int((hi - lo).total_seconds() * 1_000_000)
    t = lo + dt.timedelta(microseconds=rng.randrange(span))
    # whole milliseconds mostly, so that 3 digits lose nothing
    if rng.random() < 0.9:
        t = t.replace(microsecond=t.microsecond // 1000 * 1000)
    return t


def gateway_records(rng: random.Random, n: int):
    """`n` gateway records (dicts with absent keys left out), in log order
    (not sorted: exports are not)."""
    lo = dt.datetime(2025, 10, 1, tzinfo=UTC)
    hi = dt.datetime(2027, 1, 1, tzinfo=UTC)
    records = []

    # The stories of the models first, then random traffic.
    for model, events in MODEL_STORIES.items():
        for text, cloud in events:
            records.append({
                "timestamp": text,
                "host": "api.openai.com" if cloud != "azure" else "eastus2.openai.azure.com",
                "path": "/v1/chat/completions",
                "method": "POST",
                "status": 200,
                "model": model,
                **({"cloud": cloud} if cloud else {}),
            })
    # The day of the restructuring, on either side, with offsets.
    edge_times = [
        "2026-04-26T23:30:00-02:00",  # 2026-04-27 UTC: new terms
        "2026-04-27T00:30:00+01:00",  # 2026-04-26 UTC: old terms
        "2026-04-26T23:59:59.999999Z",
        "2026-04-27T00:00:00Z",
        "2026-04-27T01:59:59+02:00",  # 2026-04-26T23:59:59Z
        "2026-04-27T02:00:00+02:00",  # 2026-04-27T00:00:00Z
        "2025-10-27T23:59:59Z",       # before every terms
        "2025-10-28T00:00:00Z",
        "2025-10-27T22:00:00-03:00",  # 2025-10-28T01:00Z
        "2026-12-31T23:59:59.5Z",
        "2027-01-01T00:30:00+01:00",  # 2026-12-31T23:30Z
    ]
    for text in edge_times:
        for cloud in ("aws", "azure", None):
            for host in ("api.openai.com", "fed.openai.azure.us"):
                r = {"timestamp": text, "host": host, "path": "/v1/embeddings", "method": "POST",
                     "status": 200, "region": "westeurope", "client_cloud": "gcp"}
                if cloud:
                    r["cloud"] = cloud
                records.append(r)

    models_after = []
    for model, events in MODEL_STORIES.items():
        last = max(parse_ts(t) for t, _ in events)
        models_after.append((model, last + dt.timedelta(days=2)))

    while len(records) < n:
        r = {}
        t = random_instant(rng, lo, hi)
        if rng.random() < 0.12:
            t = random_instant(rng, dt.datetime(2026, 4, 25, tzinfo=UTC),
                               dt.datetime(2026, 4, 29, tzinfo=UTC))
        if rng.random() < 0.01:
            pass  # no timestamp: outside the terms
        else:
            r["timestamp"] = fmt_ts(rng, t)
        host = pick(rng, HOSTS)
        if host is not None:
            r["host"] = host
        path = pick(rng, PATHS)
        if path is not None:
            r["path"] = path
        r["method"] = rng.choice(["POST", "POST", "GET", "DELETE"])
        if rng.random() < 0.97:
            r["status"] = rng.choice([200, 200, 200, 201, 400, 429, 500, 503])
        ip = an_ip(rng)
        if ip:
            r["client_ip"] = ip
        ip = an_ip(rng)
        if ip:
            r["target_ip"] = ip
        if rng.random() < 0.95:
            r["bytes_in"] = rng.choice([rng.randrange(100, 10_000), rng.randrange(2**31, 2**40)])
            r["bytes_out"] = rng.randrange(0, 100_000)
        cloud = pick(rng, CLOUDS)
        if cloud is not None:
            r["cloud"] = cloud
        u = rng.random()
        if u < 0.45:
            r["region"] = rng.choice(US_REGIONS)
        elif u < 0.8:
            r["region"] = rng.choice(OTHER_REGIONS)
        c = pick(rng, [("azure", 3), ("aws", 3), ("gcp", 2), (None, 4)])
        if c is not None:
            r["client_cloud"] = c
            if rng.random() < 0.7:
                r["client_region"] = rng.choice(US_REGIONS + OTHER_REGIONS)
        if rng.random() < 0.7:
            model, after = rng.choice(models_after)
            if "timestamp" in r and parse_ts(r["timestamp"]) < after:
                r["timestamp"] = fmt_ts(rng, random_instant(rng, after, hi))
            r["model"] = model
        if rng.random() < 0.15:
            tags = {}
            for key, values in TAG_KEYS.items():
                if rng.random() < 0.4:
                    tags[key] = rng.choice(values)
            r["tags"] = tags
        records.append(r)

    rng.shuffle(records)
    for i, r in enumerate(records, 1):
        r["id"] = i
    return records


GATEWAY_COLUMNS = [
    ("id", pa.int64()),
    ("timestamp", pa.timestamp("us", tz="UTC")),
    ("host", pa.string()),
    ("path", pa.string()),
    ("method", pa.string()),
    ("status", pa.int32()),
    ("client_ip", pa.string()),
    ("target_ip", pa.string()),
    ("bytes_in", pa.int64()),
    ("bytes_out", pa.int64()),
    ("cloud", pa.string()),
    ("region", pa.string()),
    ("client_cloud", pa.string()),
    ("client_region", pa.string()),
    ("model", pa.string()),
    ("tags", pa.struct([(k, pa.string()) for k in TAG_KEYS])),
]


def gateway_table(records) -> pa.Table:
    columns = {name: [] for name, _ in GATEWAY_COLUMNS}
    for r in records:
        for name, _ in GATEWAY_COLUMNS:
            v = r.get(name)
            if name == "timestamp" and v is not None:
                v = parse_ts(v)
            if name == "tags" and v is not None:
                v = {k: v.get(k) for k in TAG_KEYS}
            columns[name].append(v)
    return pa.table({name: pa.array(columns[name], type=t) for name, t in GATEWAY_COLUMNS})


# --- the revenue ledger -------------------------------------------------------

def cents(x: D) -> D:
    return x.quantize(D("0.01"))


def ledger_records(rng: random.Random, m: int):
    """About `m` bookings, month by month from 2025-10 to 2026-12, each
    month paid in one of the ways that matter at the 20% boundary. Returns
    (records, caps)."""
    products = ["gpt-5.5", "chatgpt", "chatgpt-enterprise", "o5-mini", "sora-3-日本"]
    months = [(2025, mo) for mo in (10, 11, 12)] + [(2026, mo) for mo in range(1, 13)]
    # periods: April 2026 is two, cut at the 27th; October 2025 starts at
    # the 28th (bookings before it are outside every terms)
    periods = []
    for y, mo in months:
        last = (dt.date(y + (mo == 12), mo % 12 + 1, 1) - dt.timedelta(days=1)).day
        if (y, mo) == (2026, 4):
            periods += [(dt.date(y, mo, 1), dt.date(y, mo, 26)), (dt.date(y, mo, 27), dt.date(y, mo, 30))]
        else:
            periods.append((dt.date(y, mo, 1), dt.date(y, mo, last)))
    modes = ["exact", "cent_short", "cent_over", "exact_inexact_due", "short_inexact_due",
             "far_short", "unpaid", "over", "no_revenue"]
    per_period = max(3, m // len(periods))
    records = []
    new_terms_paid = []  # (period end, paid) for the cap
    for i, (first, last) in enumerate(periods):
        mode = modes[i % len(modes)] if i < len(modes) else rng.choice(modes)
        if (first.year, first.month) == (2026, 4):
            mode = "exact" if first.day == 1 else "cent_short"
        days = (last - first).days
        revenue = []
        for _ in range(per_period - 2):
            amount = D(rng.randrange(100_000, 500_000_000)) / 100
            revenue.append(amount)
        total = sum(revenue, D(0))
        if mode in ("exact", "cent_short", "cent_over"):
            # make the revenue a multiple of 5 cents so that 20% is exact
            adjust = (D(5) - (total * 100) % 5) % 5 / 100
            revenue[0] += adjust
            total += adjust
        elif mode in ("exact_inexact_due", "short_inexact_due"):
            # revenue not a multiple of 5 cents: 20% has a third decimal
            if (total * 100) % 5 == 0:
                revenue[0] += D("0.01")
                total += D("0.01")
        due = total * D("0.2")
        if mode == "exact":
            paid = due
        elif mode == "cent_short":
            paid = due - D("0.01")
        elif mode == "cent_over":
            paid = due + D("0.01")
        elif mode == "exact_inexact_due":
            paid = due.quantize(D("0.01"), rounding=decimal.ROUND_CEILING)
        elif mode == "short_inexact_due":
            paid = due.quantize(D("0.01"), rounding=decimal.ROUND_FLOOR)
        elif mode == "far_short":
            paid = cents(due / 2)
        elif mode == "unpaid":
            paid = D(0)
        elif mode == "over":
            paid = cents(due * D("1.5"))
        else:
            revenue, paid = [], D("1000.00")
        for amount in revenue:
            day = first + dt.timedelta(days=rng.randrange(days + 1))
            records.append({"date": day, "entry": "product_revenue",
                            "product": rng.choice(products), "amount_usd": cents(amount)})
        # the share in two bookings, the second on the period's last day
        if paid:
            part = cents(paid / 3)
            records.append({"date": first + dt.timedelta(days=rng.randrange(days + 1)),
                            "entry": "share_to_microsoft", "product": "gpt-5.5", "amount_usd": part})
            records.append({"date": last, "entry": "share_to_microsoft", "product": "gpt-5.5",
                            "amount_usd": cents(paid) - part})
        if first >= CUT.date():
            new_terms_paid.append((last, cents(paid)))
    # Bookings before the October 2025 terms: outside every terms.
    for day in (1, 15, 27):
        records.append({"date": dt.date(2025, 10, day), "entry": "product_revenue",
                        "product": "chatgpt", "amount_usd": D("1000.05")})
    # The reciprocal share, before and after it ended; a product left absent.
    for day in (dt.date(2026, 3, 31), dt.date(2026, 4, 26), dt.date(2026, 4, 27),
                dt.date(2026, 6, 15), dt.date(2026, 12, 31)):
        records.append({"date": day, "entry": "share_to_openai", "product": "bing-chat",
                        "amount_usd": D("27568.10")})
    records.append({"date": dt.date(2026, 8, 3), "entry": "share_to_openai",
                    "amount_usd": D("0.01")})
    # A negative adjustment, and records that are not bookings (no entry,
    # no amount: `booking` is false, nothing is required of them).
    records.append({"date": dt.date(2026, 9, 30), "entry": "share_to_microsoft",
                    "product": "gpt-5.5", "amount_usd": D("-0.01")})
    records.append({"date": dt.date(2026, 5, 5), "product": "note"})
    records.append({"product": "undated note"})

    rng.shuffle(records)
    for i, r in enumerate(records, 1):
        r["id"] = i

    # Caps: reached exactly at the end of the third month of the new terms
    # (cumulative_paid >= cap holds from that month on), and never reached.
    running = D(0)
    reached = None
    for k, (_, paid) in enumerate(new_terms_paid):
        running += paid
        if k == 3:
            reached = running
    caps = {"reached": str(reached), "unreached": str(running * 10 + D("0.01"))}
    return records, caps


LEDGER_COLUMNS = [
    ("id", pa.int64()),
    ("date", pa.date32()),
    ("entry", pa.string()),
    ("product", pa.string()),
    ("amount_usd", pa.decimal128(18, 2)),
]


def ledger_table(records) -> pa.Table:
    return pa.table({name: pa.array([r.get(name) for r in records], type=t)
                     for name, t in LEDGER_COLUMNS})


def write_ledger_csv(records, path):
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow([name for name, _ in LEDGER_COLUMNS])
        for r in records:
            row = []
            for name, _ in LEDGER_COLUMNS:
                v = r.get(name)
                row.append("" if v is None else (v.isoformat() if isinstance(v, dt.date) else str(v)))
            w.writerow(row)


def write_jsonl(records, path):
    with open(path, "w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n")


# --- the bundled fixtures -----------------------------------------------------

FIXTURE_GATEWAY = ["fixtures/logs/exports/gateway.jsonl",
                   "fixtures/aggregate/gateway-2026-h1.jsonl.gz",
                   "fixtures/aggregate/gateway-2026-h2.jsonl.gz",
                   "fixtures/aggregate/gateway-backfill.jsonl"]
FIXTURE_LEDGER = ["fixtures/aggregate/ledger-fy26.csv",
                  "fixtures/aggregate/ledger-fy27.csv",
                  "fixtures/aggregate/ledger-adjustments.csv"]
ENTRIES = {"product_revenue", "share_to_microsoft", "share_to_openai"}
DECIMAL = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")


def read_lines(repo, name):
    path = os.path.join(repo, name)
    data = open(path, "rb").read()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return data.decode("utf-8").splitlines()


def fixture_gateway(repo):
    """(table, ids, skipped): ids[k] = [file, line] of the record with id k+1."""
    rows, ids, skipped = [], [], {}
    for name in FIXTURE_GATEWAY:
        for line_no, line in enumerate(read_lines(repo, name), 1):
            if not line.strip():
                continue
            try:
                r = json.loads(line)  # strict: control characters in strings fail, as in proviso
            except ValueError:
                skipped.setdefault(name, []).append(line_no)
                continue
            rows.append(r)
            ids.append([name, line_no])
    cols = [
        ("id", pa.int64()), ("timestamp", pa.timestamp("us", tz="UTC")), ("host", pa.string()),
        ("path", pa.string()), ("method", pa.string()), ("status", pa.int32()),
        ("client_ip", pa.string()), ("upstream_addr", pa.string()), ("bytes_in", pa.int64()),
        ("bytes_out", pa.int64()), ("cloud", pa.string()), ("region", pa.string()),
        ("model", pa.string()), ("latency_ms", pa.int64()), ("request_id", pa.string()),
        ("cache", pa.string()),
        ("trace", pa.struct([("id", pa.string()), ("tags", pa.list_(pa.string()))])),
    ]
    known = {n for n, _ in cols}
    for r in rows:
        extra = set(r) - known
        if extra:
            raise SystemExit(f"fixture gateway field(s) {sorted(extra)} have no Parquet column: add them")
    data = {n: [] for n, _ in cols}
    for k, r in enumerate(rows, 1):
        for n, _ in cols:
            v = k if n == "id" else r.get(n)
            if n == "timestamp" and v is not None:
                v = parse_ts(v)
            data[n].append(v)
    return pa.table({n: pa.array(data[n], type=t) for n, t in cols}), ids, skipped


def fixture_ledger(repo):
    rows, ids, skipped = [], [], {}
    for name in FIXTURE_LEDGER:
        lines = read_lines(repo, name)
        text = "\n".join(lines)
        if text.startswith("\ufeff"):
            text = text[1:]
        reader = csv.reader(io.StringIO(text))
        header = next(reader)
        for line_no, cells in enumerate(reader, 2):
            if not cells:
                continue
            if len(cells) != len(header):
                skipped.setdefault(name, []).append(line_no)
                continue
            r = {h: (c if c not in ("", "-") else None) for h, c in zip(header, cells)}
            try:
                date = dt.date.fromisoformat(r["date"]) if r.get("date") else None
                if r.get("date") and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", r["date"]):
                    raise ValueError
            except ValueError:
                skipped.setdefault(name, []).append(line_no)
                continue
            amount = r.get("amount_usd")
            if amount is not None and not DECIMAL.match(amount):
                skipped.setdefault(name, []).append(line_no)
                continue
            if r.get("entry") is not None and r["entry"] not in ENTRIES:
                skipped.setdefault(name, []).append(line_no)
                continue
            rows.append({"date": date, "entry": r.get("entry"), "product": r.get("product"),
                         "amount_usd": D(amount) if amount is not None else None})
            ids.append([name, line_no])
    for k, r in enumerate(rows, 1):
        r["id"] = k
    return ledger_table(rows), ids, skipped


def arrow_type_name(t: pa.DataType):
    """`proviso compile --columns` spelling of an Arrow type (None: a list
    or another type no rule reads, left out)."""
    if pa.types.is_timestamp(t):
        return "timestamp"
    if pa.types.is_date(t):
        return "date"
    if pa.types.is_decimal(t):
        return f"decimal({t.precision},{t.scale})"
    if pa.types.is_integer(t):
        return "bigint"
    if pa.types.is_floating(t):
        return "double"
    if pa.types.is_boolean(t):
        return "boolean"
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "varchar"
    return None


def columns_spec(schema: pa.Schema) -> str:
    """The table's columns as `--columns NAME:TYPE,…`, structs by path: the
    same columns `--schema-from FILE.parquet` reads, for a build whose
    compiler cannot read Parquet yet."""
    out = []

    def walk(prefix, field):
        name = prefix + field.name
        if pa.types.is_struct(field.type):
            for i in range(field.type.num_fields):
                walk(name + ".", field.type.field(i))
        else:
            t = arrow_type_name(field.type)
            if t:
                out.append(f"{name}:{t}")

    for field in schema:
        walk("", field)
    return ",".join(out)


def fixture_caps(repo):
    """The caps the bundled oracle's answers were computed with."""
    caps = {}
    for name in ("cap-reached", "cap-never-reached"):
        path = os.path.join(repo, "fixtures", "aggregate", "expected", name + ".json")
        with open(path, encoding="utf-8") as f:
            caps[name.replace("cap-", "").replace("-", "_")] = json.load(f)["params"]["revenue_share_cap"]
    return caps


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", help="directory to write into (created)")
    ap.add_argument("--records", type=int, default=3000, help="generated gateway records")
    ap.add_argument("--ledger", type=int, default=400, help="generated ledger bookings (about)")
    ap.add_argument("--seed", type=int, default=20260427)
    ap.add_argument("--repo", default=os.path.join(os.path.dirname(__file__), "..", ".."),
                    help="the repository, for the bundled fixtures")
    ap.add_argument("--row-group", type=int, default=1000, help="Parquet row group size")
    args = ap.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    rng = random.Random(args.seed)

    gw = gateway_records(rng, args.records)
    write_jsonl(gw, os.path.join(args.out, "gateway.jsonl"))
    pq.write_table(gateway_table(gw), os.path.join(args.out, "gateway.parquet"),
                   row_group_size=args.row_group)

    ledger, caps = ledger_records(rng, args.ledger)
    write_ledger_csv(ledger, os.path.join(args.out, "ledger.csv"))
    pq.write_table(ledger_table(ledger), os.path.join(args.out, "ledger.parquet"),
                   row_group_size=args.row_group)

    schemas = {}
    fxg, fxg_ids, fxg_skipped = fixture_gateway(args.repo)
    pq.write_table(fxg, os.path.join(args.out, "fx_gateway.parquet"), row_group_size=args.row_group)
    fxl, fxl_ids, fxl_skipped = fixture_ledger(args.repo)
    pq.write_table(fxl, os.path.join(args.out, "fx_ledger.parquet"), row_group_size=args.row_group)

    for name in ("gateway", "ledger", "fx_gateway", "fx_ledger"):
        schemas[name] = columns_spec(pq.read_schema(os.path.join(args.out, name + ".parquet")))
    meta = {
        "tables": {
            "gateway": {"parquet": "gateway.parquet", "text": ["gateway.jsonl"],
                        "records": len(gw), "first_line": 1},
            "ledger": {"parquet": "ledger.parquet", "text": ["ledger.csv"],
                       "records": len(ledger), "first_line": 2},
            "fx_gateway": {"parquet": "fx_gateway.parquet", "text": FIXTURE_GATEWAY,
                           "records": len(fxg_ids), "ids": fxg_ids, "skipped": fxg_skipped},
            "fx_ledger": {"parquet": "fx_ledger.parquet", "text": FIXTURE_LEDGER,
                          "records": len(fxl_ids), "ids": fxl_ids, "skipped": fxl_skipped},
        },
        "caps": caps,
        "columns": schemas,
        "fx_caps": fixture_caps(args.repo),
    }
    with open(os.path.join(args.out, "meta.json"), "w", encoding="utf-8") as f:
        json.dump(meta, f, ensure_ascii=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
