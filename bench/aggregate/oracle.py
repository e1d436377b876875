#!/usr/bin/env python3
"""An independent reference for proviso's aggregate clauses.

Written from ../shared/CONTRACT.md ("Terms over many records") and the
clauses of rules/microsoft-openai.proviso, not from the Rust code, so that
the two can be held against each other. Standard library only; money is
`decimal.Decimal`, never a float.

    python3 bench/aggregate/oracle.py [--param revenue_share_cap=V] FILE...

FILEs are gateway JSON-lines exports (plain or gzip) and revenue ledger
CSVs (`date,entry,product,amount_usd`), told apart by their content. It
prints, as JSON, what the audit must find:

- `first_ship_on_azure`: each new product (first request on or after
  2026-04-27, UTC day) served elsewhere before Azure or never on Azure,
  with its first day on Azure, its first day elsewhere and that cloud.
- `revenue_share` (October 2025 terms, 2025-10-28..2026-04-26) and
  `revenue_share_20_percent` (2026-04-27 through 2030): each calendar
  month (UTC), cut in two where the terms change, whose share paid to
  Microsoft is below 20% of its product revenue. Under the restructured
  terms a short month is excused once the shares paid under them through
  the end of the month reach the cap; with no cap given it is unresolved.
- `reciprocal_share_ended`: every `share_to_openai` booking dated on or
  after 2026-04-27 (a per-record clause).
- `malformed`: ledger lines with a bad amount, a bad date or an unknown
  `entry` (and export lines that are not JSON or have an unreadable
  timestamp). They join no sum. A month's group lists as `left_out` those
  whose date is readable and in it: it was computed without them.

Reading choices, each from CONTRACT.md or the rule file:

- Every dated request with a `model` counts for the product's first
  request ("its first request in the audited exports"), also one dated
  before any terms are in force and one whose log names no cloud; its day
  is the UTC day of its timestamp (offsets converted). Only a request with
  a `cloud` counts for the first day on Azure or elsewhere.
- "First cloud elsewhere" is the cloud of the earliest non-Azure request by
  instant; a tie goes to the one read first (files in the order given).
- A month is judged when at least one booking of it falls in the clause's
  time (any `entry`); a month with no booking there is no group.
- Amounts are decimals (`-?digits[.digits]`); anything else (`12O.00`,
  `1,250.00`, empty) is malformed. Dates are `YYYY-MM-DD` calendar dates.
- Comparisons are exact: 20% of 12345.67 is 2469.134, and 2469.13 paid is
  short by 0.004.
"""
import csv
import datetime as dt
import gzip
import io
import json
import re
import sys
from decimal import Decimal

RESTRUCTURING = dt.date(2026, 4, 27)
OCT_TERMS = (dt.date(2025, 10, 28), RESTRUCTURING)  # half-open
APR_SHARE = (RESTRUCTURING, dt.date(2031, 1, 1))  # "through 2030"
RATE = Decimal("0.20")
ENTRIES = ("product_revenue", "share_to_microsoft", "share_to_openai")
LEDGER_COLUMNS = ("date", "entry", "product", "amount_usd")
DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?")
DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
PARAMS = {"revenue_share_cap"}


def dec_text(d):
    """A decimal as the exact number it is, without trailing zeros."""
    if d is None:
        return None
    s = format(d, "f")
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def read_bytes(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    if data[:3] == b"\xef\xbb\xbf":
        data = data[3:]
    return data


def is_ledger(data):
    first = data.split(b"\n", 1)[0].strip(b"\r").decode("utf-8", "replace")
    cols = [c.strip().strip('"').lower() for c in first.split(",")]
    return all(c in cols for c in LEDGER_COLUMNS)


def parse_instant(text):
    """An RFC 3339 timestamp (or epoch seconds or milliseconds, a number)
    as an aware UTC datetime, or None."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        seconds = Decimal(str(text))
        if abs(seconds) >= 100_000_000_000:  # milliseconds
            seconds /= 1000
        return dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(seconds=float(seconds))
    if not isinstance(text, str):
        return None
    t = text.strip()
    if t.endswith("Z") or t.endswith("z"):
        t = t[:-1] + "+00:00"
    # Python wants at most 6 fractional digits.
    # RFC 3339 allows a space for the `T`.
    m = re.match(r"^(\d{4}-\d\d-\d\d)[Tt ](\d\d:\d\d:\d\d)(\.\d+)?(.*)$", t)
    if not m:
        return None
    frac = (m.group(3) or "")[:7]
    try:
        x = dt.datetime.fromisoformat(m.group(1) + "T" + m.group(2) + frac + m.group(4))
    except ValueError:
        return None
    if x.tzinfo is None:
        x = x.replace(tzinfo=dt.timezone.utc)
    return x.astimezone(dt.timezone.utc)


def parse_date(text):
    if not DATE.fullmatch(text):
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


class Oracle:
    def __init__(self, cap):
        self.cap = cap
        self.malformed = []
        # model -> {"first": (instant, order, file, line), "azure": ..., "elsewhere": (..., cloud)}
        self.products = {}
        self.bookings = []  # (date, entry, product, amount, file, line)
        # Malformed ledger lines whose date is readable: the group they
        # would have joined is computed without them, and says so.
        self.left_out = []  # (date, file, line)
        self.order = 0
        self.inputs = []

    # --- reading ---------------------------------------------------------

    def read(self, path):
        data = read_bytes(path)
        if is_ledger(data):
            self.inputs.append({"file": path, "kind": "ledger"})
            self.read_ledger(path, data)
        else:
            self.inputs.append({"file": path, "kind": "gateway"})
            self.read_gateway(path, data)

    def read_gateway(self, path, data):
        for n, raw in enumerate(data.split(b"\n"), start=1):
            line = raw.strip(b"\r")
            if not line.strip():
                continue
            self.order += 1
            try:
                rec = json.loads(line)
            except (ValueError, UnicodeDecodeError):
                self.malformed.append({"file": path, "line": n, "why": "not a JSON object"})
                continue
            if not isinstance(rec, dict):
                self.malformed.append({"file": path, "line": n, "why": "not a JSON object"})
                continue
            ts = rec.get("timestamp")
            if ts is None:
                continue  # no date: outside every term
            at = parse_instant(ts)
            if at is None:
                self.malformed.append({"file": path, "line": n, "why": f"unreadable timestamp {ts!r}"})
                continue
            model, cloud = rec.get("model"), rec.get("cloud")
            if not isinstance(model, str) or not model:
                continue
            seen = (at, self.order, path, n)
            p = self.products.setdefault(model, {})
            if "first" not in p or seen[:2] < p["first"][:2]:
                p["first"] = seen
            if not isinstance(cloud, str) or not cloud:
                continue  # neither Azure's nor elsewhere
            side = "azure" if cloud == "azure" else "elsewhere"
            if side not in p or seen[:2] < p[side][0][:2]:
                p[side] = (seen, cloud)

    def read_ledger(self, path, data):
        text = data.decode("utf-8", "replace")
        reader = csv.reader(io.StringIO(text, newline=""))
        header = None
        for row in reader:
            n = reader.line_num
            if header is None:
                header = [c.strip().lower() for c in row]  # `Date` is `date`
                continue
            if not row or all(not c.strip() for c in row):
                continue
            if len(row) != len(header):
                self.malformed.append({"file": path, "line": n, "why": f"{len(row)} columns, the header has {len(header)}"})
                continue
            rec = dict(zip(header, (c.strip() for c in row)))
            date = parse_date(rec["date"])
            if date is None:
                self.malformed.append({"file": path, "line": n, "why": f"bad date {rec['date']!r}"})
                continue
            if rec["entry"] not in ENTRIES:
                self.malformed.append({"file": path, "line": n, "why": f"unknown entry {rec['entry']!r}"})
                self.left_out.append((date, path, n))
                continue
            if not DECIMAL.fullmatch(rec["amount_usd"]):
                self.malformed.append({"file": path, "line": n, "why": f"bad amount {rec['amount_usd']!r}"})
                self.left_out.append((date, path, n))
                continue
            self.bookings.append((date, rec["entry"], rec["product"], Decimal(rec["amount_usd"]), path, n))

    # --- judging ---------------------------------------------------------

    def first_ship(self):
        groups, passed, not_new = [], [], []
        for model in sorted(self.products):
            p = self.products[model]
            first = p["first"][0].date()
            if first < RESTRUCTURING:
                not_new.append(model)
                continue
            az = p.get("azure")
            el = p.get("elsewhere")
            az_day = az[0][0].date() if az else None
            el_day = el[0][0].date() if el else None
            ok = el is None or (az is not None and az_day <= el_day)
            figures = {
                "first_request": first.isoformat(),
                "first_elsewhere": el_day.isoformat() if el else None,
                "other_cloud": el[1] if el else None,
                "first_on_azure": az_day.isoformat() if az else None,
            }
            if ok:
                passed.append({"model": model})
                continue
            groups.append({
                "key": {"model": model},
                "outcome": "violation",
                "figures": figures,
                "evidence": [{"file": el[0][2], "line": el[0][3]}],
                "first_on_azure_at": {"file": az[0][2], "line": az[0][3]} if az else None,
            })
        return clause_result(groups, passed, not_new=not_new)

    def months(self, window):
        """period -> {revenue, paid, shares: [(file, line)]} for bookings in window."""
        out = {}
        for (date, entry, _product, amount, path, n) in self.bookings:
            if not (window[0] <= date < window[1]):
                continue
            g = out.setdefault(date.strftime("%Y-%m"), {"revenue": Decimal(0), "paid": Decimal(0), "shares": [], "bookings": 0})
            g["bookings"] += 1
            if entry == "product_revenue":
                g["revenue"] += amount
            elif entry == "share_to_microsoft":
                g["paid"] += amount
                g["shares"].append({"file": path, "line": n})
        for (date, path, n) in self.left_out:
            if window[0] <= date < window[1] and date.strftime("%Y-%m") in out:
                out[date.strftime("%Y-%m")].setdefault("left_out", []).append({"file": path, "line": n})
        return out

    def revenue_share(self):
        groups, passed = [], []
        for period, g in sorted(self.months(OCT_TERMS).items()):
            due = RATE * g["revenue"]
            figures = {"revenue": dec_text(g["revenue"]), "due": dec_text(due), "paid": dec_text(g["paid"]),
                       "shortfall": dec_text(due - g["paid"])}
            if g["paid"] >= due:
                passed.append({"period": period})
            else:
                groups.append({"key": {"period": period}, "outcome": "violation", "figures": figures,
                               "evidence": g["shares"], "left_out": g.get("left_out", [])})
        return clause_result(groups, passed)

    def revenue_share_capped(self):
        groups, passed = [], []
        cumulative = Decimal(0)
        for period, g in sorted(self.months(APR_SHARE).items()):
            due = RATE * g["revenue"]
            cumulative += g["paid"]
            figures = {"revenue": dec_text(g["revenue"]), "due": dec_text(due), "paid": dec_text(g["paid"]),
                       "shortfall": dec_text(due - g["paid"]), "cumulative_paid": dec_text(cumulative),
                       "revenue_share_cap": dec_text(self.cap)}
            if g["paid"] >= due:
                outcome = None
            elif self.cap is None:
                outcome = "unresolved"
            elif cumulative >= self.cap:
                outcome = None
            else:
                outcome = "violation"
            if outcome is None:
                passed.append({"period": period})
            else:
                groups.append({"key": {"period": period}, "outcome": outcome, "figures": figures,
                               "evidence": g["shares"], "left_out": g.get("left_out", [])})
        return clause_result(groups, passed)

    def reciprocal(self):
        records = [{"file": path, "line": n, "date": date.isoformat(), "product": product,
                    "amount_usd": dec_text(amount)}
                   for (date, entry, product, amount, path, n) in self.bookings
                   if entry == "share_to_openai" and date >= RESTRUCTURING]
        before = sum(1 for b in self.bookings if b[1] == "share_to_openai" and b[0] < RESTRUCTURING)
        return {"violations": len(records), "records": records, "before_restructuring": before}

    def result(self):
        return {
            "oracle": "bench/aggregate/oracle.py",
            "params": {"revenue_share_cap": dec_text(self.cap)},
            "inputs": self.inputs,
            "clauses": {
                "first_ship_on_azure": self.first_ship(),
                "revenue_share": self.revenue_share(),
                "revenue_share_20_percent": self.revenue_share_capped(),
                "reciprocal_share_ended": self.reciprocal(),
            },
            "bookings": len(self.bookings),
            "malformed": self.malformed,
        }


def clause_result(groups, passed, **more):
    out = {
        "violations": sum(1 for g in groups if g["outcome"] == "violation"),
        "unresolved": sum(1 for g in groups if g["outcome"] == "unresolved"),
        "groups": groups,
        "passed": passed,
    }
    out.update(more)
    return out


def main(argv):
    cap = None
    files = []
    args = iter(argv)
    for a in args:
        if a == "--param" or a.startswith("--param="):
            spec = a.split("=", 1)[1] if a.startswith("--param=") else next(args, "")
            name, _, value = spec.partition("=")
            if name not in PARAMS:
                sys.exit(f"oracle: unknown parameter {name!r} (known: {', '.join(sorted(PARAMS))})")
            if not DECIMAL.fullmatch(value):
                sys.exit(f"oracle: {name} must be a decimal amount, not {value!r}")
            cap = Decimal(value)
        elif a in ("-h", "--help"):
            print(__doc__)
            return
        else:
            files.append(a)
    if not files:
        sys.exit("oracle: name at least one gateway export or ledger")
    o = Oracle(cap)
    for f in files:
        o.read(f)
    json.dump(o.result(), sys.stdout, indent=1, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv[1:])
