#!/usr/bin/env python3
"""Corpus test: `proviso check` on public Terraform against HashiCorp's parser.

    bench/corpus/checkout.sh /work/scratch/corpus SOURCE   # lay out bench/corpus/repos.txt
    bench/corpus/run.py /work/scratch/corpus               # the report
    PROVISO=/work/main/target/release/proviso bench/corpus/run.py SCRATCH --repo terraform-aws-modules+terraform-aws-vpc

Every directory of SCRATCH (hidden ones aside) is one repository. For each, it
compares per `.tf` file what HashiCorp's HCL parser (`@cdktf/hcl2json`, installed
with npm into SCRATCH/.hcl2json if missing) finds with what proviso sees:

- whether the file parses: hcl2json's error versus proviso's
  `malformed[]` entries for that file;
- the set of `resource TYPE NAME`, `data TYPE NAME` and `module NAME` blocks.
  proviso's JSON report lists findings, not records, so the script runs
  proviso a second time with a generated census rule (SCRATCH/.census/, one
  clause that every record breaks) whose findings are exactly the records,
  each with its address, kind and `record.file`.

A record is one block *instance*: a block whose `count`/`for_each` evaluates to
nothing has no record, as in Terraform. Blocks missing in proviso are therefore
split into `lost` (the file did not parse in proviso), `none` (the block has
`count`/`for_each`, or sits in a called module whose every call has them, so
zero instances is a legitimate outcome) and `missing` (neither: worth a
look). `extra` is a record with no block in hcl2json.

Findings by outcome (violations, unresolved, not applicable) come from the
summary of a run with the real rules (`--rules`, default the bundled
`rules/`, `--as-of` default 2026-03-01, when every clause of the bundled
terms is in force); wall time and peak RSS of that run from
`/usr/bin/time -v`. It is a report, not a gate: it exits 0 whatever it finds
(2 only for bad usage or missing tools), and it does not run in CI.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
HCL2JSON_VERSION = "0.21.0"

CENSUS = """\
agreement corpus_census "Every record proviso sees, one finding each"

terms all_blocks "One finding per record" effective 2000-01-01 {
  clause every_block "Every resource, data and module record" {
    severity info
    forbid kind exists
    message "{kind}|{type}|{name}"
  }
}
"""


@dataclass
class Repo:
    name: str
    files: int = 0
    tf_json: int = 0
    h_ok: int = 0
    p_ok: int = 0
    h_blocks: int = 0
    p_blocks: int = 0
    lost: int = 0
    none: int = 0
    missing: int = 0
    extra: int = 0
    summary: dict = field(default_factory=dict)
    wall: float = 0.0
    rss_kib: int = 0
    error: str = ""
    # (file, what, detail): every disagreement, for the listing.
    disagreements: list = field(default_factory=list)
    # reason → count of the unresolved findings of the rules run.
    unresolved_why: dict = field(default_factory=dict)
    # (file, hcl2json's error, proviso's): files both reject.
    both_reject: list = field(default_factory=list)


def die(msg: str) -> None:
    print(f"corpus: {msg}", file=sys.stderr)
    sys.exit(2)


def ensure_hcl2json(folder: Path) -> None:
    if (folder / "node_modules" / "@cdktf" / "hcl2json" / "package.json").exists():
        return
    if shutil.which("npm") is None:
        die("npm is needed to install @cdktf/hcl2json (apt-get install -y npm)")
    folder.mkdir(parents=True, exist_ok=True)
    print(f"corpus: installing @cdktf/hcl2json@{HCL2JSON_VERSION} into {folder}", file=sys.stderr)
    subprocess.run(
        ["npm", "install", "--no-audit", "--no-fund", "--prefix", str(folder),
         f"@cdktf/hcl2json@{HCL2JSON_VERSION}"],
        check=True, stdout=sys.stderr,
    )


def tf_files(repo: Path) -> tuple[list[str], int]:
    """The `.tf` files proviso's discovery finds (hidden directories skipped),
    relative to the repository, sorted; and the number of `.tf.json` files."""
    out, tf_json = [], 0
    for dirpath, dirnames, filenames in os.walk(repo):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for f in filenames:
            rel = os.path.relpath(os.path.join(dirpath, f), repo)
            if f.endswith(".tf"):
                out.append(rel)
            elif f.endswith(".tf.json"):
                tf_json += 1
    return sorted(out), tf_json


def hcl2json(repo: Path, files: list[str], folder: Path) -> dict[str, dict]:
    proc = subprocess.run(
        ["node", str(HERE / "hcl2json_blocks.js"), str(folder)],
        input="\n".join(files) + "\n", cwd=repo, capture_output=True, text=True,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"hcl2json helper failed: {proc.stderr.strip()[:500]}")
    return {d["file"]: d for d in map(json.loads, proc.stdout.splitlines())}


def parse_elapsed(text: str) -> float:
    # "Elapsed (wall clock) time (h:mm:ss or m:ss): 0:01.23"
    m = re.search(r"Elapsed \(wall clock\) time.*: (\S+)", text)
    if not m:
        return 0.0
    secs = 0.0
    for part in m.group(1).split(":"):
        secs = secs * 60 + float(part)
    return secs


def proviso(binary: str, repo: Path, rules: Path, as_of: str, timeout: float,
            timed: bool) -> tuple[dict | None, float, int, str]:
    """Run `proviso check --format json .` in the repository. Returns the
    report (None if there is none), wall seconds, peak RSS in KiB, and an
    error text."""
    cmd = [binary, "check", "--rules", str(rules), "--as-of", as_of, "--format", "json",
           "--no-config", "--allow-malformed", "--fail-on", "never", "."]
    with tempfile.NamedTemporaryFile("r", suffix=".time") as tfile:
        if timed:
            cmd = ["/usr/bin/time", "-v", "-o", tfile.name] + cmd
        start = time.monotonic()
        try:
            proc = subprocess.run(cmd, cwd=repo, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return None, time.monotonic() - start, 0, f"timed out after {timeout:.0f} s"
        wall = time.monotonic() - start
        rss = 0
        if timed:
            text = tfile.read()
            wall = parse_elapsed(text) or wall
            m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
            rss = int(m.group(1)) if m else 0
    try:
        report = json.loads(proc.stdout)
    except json.JSONDecodeError:
        tail = proc.stderr.strip().splitlines()[-3:]
        return None, wall, rss, f"exit {proc.returncode}, no JSON report: {' | '.join(tail)[:300]}"
    return report, wall, rss, ""


def unresolved_reasons(report: dict) -> dict[str, int]:
    """The labels of unresolved findings, names in backticks masked (except
    a function's), most frequent first."""
    reasons = collections.Counter(
        re.sub(r"(?<!function )`[^`]*`", "`…`", f.get("label", "?"))
        for f in report.get("findings", []) if f.get("outcome") == "unresolved")
    return dict(reasons.most_common())


def split_address(address: str) -> list[str]:
    """`module.a["x.y"].aws_s3_bucket.b[0]` → segments, instance keys stripped."""
    segs, cur, depth, quoted = [], "", 0, False
    for ch in address:
        if quoted:
            if ch == '"':
                quoted = False
            continue
        if ch == '"':
            quoted = True
        elif ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        elif ch == "." and depth == 0:
            segs.append(cur)
            cur = ""
        elif depth == 0:
            cur += ch
    segs.append(cur)
    return segs


def block_of(finding: dict) -> tuple[str, str, str] | None:
    kind, segs = finding.get("kind"), split_address(finding.get("address", ""))
    if kind == "data" and len(segs) >= 3 and segs[-3] == "data":
        return ("data", segs[-2], segs[-1])
    if kind == "module" and len(segs) >= 2 and segs[-2] == "module":
        return ("module", "", segs[-1])
    if kind == "resource" and len(segs) >= 2:
        return ("resource", segs[-2], segs[-1])
    return None


def show(block) -> str:
    kind, typ, name = block
    return f"{kind} {typ} {name}" if typ else f"{kind} {name}"


def first_line(text: str, width: int = 150) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def modules_without_instance(files: list[str], ref: dict[str, dict]) -> set[str]:
    """Directories that may have no module instance at all: called modules
    (a local `source` names them) every call of which has `count`/`for_each`
    or sits in such a directory itself. Their blocks may have no record
    without anything being wrong. (The largest such set: calls in a cycle
    do not make each other exist.)"""
    calls: dict[str, list[tuple[str, bool]]] = collections.defaultdict(list)
    for file in files:
        h = ref.get(file, {})
        caller = os.path.dirname(file)
        repeated = {b[2] for b in h.get("repeated", []) if b[0] == "module"}
        for name, source in h.get("calls", []):
            if source.startswith(("./", "../")) or source in (".", ".."):
                target = os.path.normpath(os.path.join(caller, source))
                if target != "." and target.startswith(".."):
                    continue
                calls["" if target == "." else target].append((caller, name in repeated))
    empty = set(calls)
    changed = True
    while changed:
        changed = False
        for d in list(empty):
            if any(not rep and caller not in empty for caller, rep in calls[d]):
                empty.discard(d)
                changed = True
    return empty


def compare(repo_dir: Path, args, census: Path) -> Repo:
    r = Repo(repo_dir.name)
    files, r.tf_json = tf_files(repo_dir)
    r.files = len(files)
    if not files:
        return r
    ref = hcl2json(repo_dir, files, args.hcl2json_dir)

    report, r.wall, r.rss_kib, err = proviso(
        args.proviso, repo_dir, args.rules, args.as_of, args.timeout, timed=True)
    if report is None:
        r.error = f"proviso (rules): {err}"
    else:
        r.summary = report.get("summary", {})
        r.unresolved_why = unresolved_reasons(report)
    records, _, _, err = proviso(args.proviso, repo_dir, census, args.as_of, args.timeout, timed=False)
    if records is None:
        r.error = (r.error + "; " if r.error else "") + f"proviso (census): {err}"
        return r

    # What proviso could not read, per file (first message kept).
    malformed: dict[str, dict] = {}
    for m in records.get("malformed", []):
        f = os.path.normpath(m.get("file") or "")
        malformed.setdefault(f, m)
    # What proviso sees, per file: the blocks of its records.
    seen: dict[str, set] = collections.defaultdict(set)
    for f in records.get("findings", []):
        rec_file = os.path.normpath((f.get("record") or {}).get("file") or f.get("file") or "")
        block = block_of(f)
        if block is None:
            r.disagreements.append((rec_file, "unreadable address", f.get("address", "?")))
            continue
        seen[rec_file].add(block)

    may_be_empty = modules_without_instance(files, ref)
    for file in files:
        h = ref.get(file, {"ok": False, "error": "no answer from hcl2json"})
        p_bad = malformed.get(file)
        r.h_ok += bool(h["ok"])
        r.p_ok += p_bad is None
        h_blocks = {tuple(b) for b in h.get("blocks", [])}
        repeated = {tuple(b) for b in h.get("repeated", [])}
        p_blocks = seen.get(file, set())
        r.h_blocks += len(h_blocks)
        r.p_blocks += len(p_blocks)
        if h["ok"] and p_bad is not None:
            r.disagreements.append((file, "parse: proviso rejects, hcl2json accepts",
                                    f"{p_bad.get('code', '?')} at {p_bad.get('line', '?')}:"
                                    f"{p_bad.get('column', '?')}: {first_line(p_bad.get('message', ''))}"))
        elif not h["ok"] and p_bad is not None:
            r.both_reject.append((file, first_line(h.get("error", "")),
                                  f"{p_bad.get('code', '?')}: {first_line(p_bad.get('message', ''))}"))
        elif not h["ok"] and p_bad is None:
            r.disagreements.append((file, "parse: proviso accepts, hcl2json rejects",
                                    first_line(h.get("error", ""))))
        for b in sorted(h_blocks - p_blocks):
            if p_bad is not None:
                r.lost += 1
                why = "lost"
            elif b in repeated or os.path.dirname(file) in may_be_empty:
                r.none += 1
                why = "none"
            else:
                r.missing += 1
                why = "missing"
            if why != "none" or args.list_none:
                r.disagreements.append((file, f"block {why} in proviso", show(b)))
        for b in sorted(p_blocks - h_blocks):
            r.extra += 1
            r.disagreements.append((file, "block extra in proviso", show(b)))
    # Records in files that are not this repository's `.tf` files (a `.tf.json`,
    # or a module outside the repository that a local source reached).
    listed = set(files)
    for rec_file, blocks in sorted(seen.items()):
        if rec_file not in listed:
            r.p_blocks += len(blocks)
            if rec_file.endswith(".tf.json"):
                continue
            r.extra += len(blocks)
            for b in sorted(blocks):
                r.disagreements.append((rec_file, "block extra in proviso (file not in the corpus)", show(b)))
    for f, m in sorted(malformed.items()):
        if f not in listed:
            r.disagreements.append((f, "proviso malformed (not a corpus .tf file)",
                                    f"{m.get('code', '?')}: {first_line(m.get('message', ''))}"))
    return r


COLUMNS = ["repository", "files", "hcl2json ok", "proviso ok", "blocks hcl2json", "blocks proviso",
           "lost", "none", "missing", "extra", "violations", "unresolved", "not appl.",
           "wall s", "peak RSS MiB"]


def row(r: Repo) -> list[str]:
    s = r.summary
    get = lambda k: str(s.get(k, "?")) if s else "?"
    return [r.name, str(r.files), str(r.h_ok), str(r.p_ok), str(r.h_blocks), str(r.p_blocks),
            str(r.lost), str(r.none), str(r.missing), str(r.extra),
            get("violations"), get("unresolved"), get("not_applicable"),
            f"{r.wall:.2f}", f"{r.rss_kib / 1024:.0f}"]


def print_table(repos: list[Repo]) -> None:
    rows = [row(r) for r in repos]
    tot = Repo("TOTAL")
    for r in repos:
        for k in ("files", "h_ok", "p_ok", "h_blocks", "p_blocks", "lost", "none", "missing", "extra"):
            setattr(tot, k, getattr(tot, k) + getattr(r, k))
        tot.wall += r.wall
        tot.rss_kib = max(tot.rss_kib, r.rss_kib)
    tot.summary = {k: sum(int(r.summary.get(k, 0)) for r in repos if r.summary)
                   for k in ("violations", "unresolved", "not_applicable")}
    rows.append(row(tot))
    print("| " + " | ".join(COLUMNS) + " |")
    print("|" + "|".join("---" if i == 0 else "---:" for i in range(len(COLUMNS))) + "|")
    for cells in rows:
        if cells[0] == "TOTAL":
            cells = [f"**{c}**" for c in cells]
        print("| " + " | ".join(cells) + " |")
    print()
    print("lost: blocks of files proviso rejects; none: blocks with count/for_each, or in a module "
          "whose every call has them, that have no record (zero instances is legitimate); missing: other blocks with no record; extra: "
          "records with no block in hcl2json. TOTAL peak RSS is the largest of the column.")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("scratch", type=Path, help="folder with one work tree per repository")
    ap.add_argument("--proviso", default=os.environ.get("PROVISO", "target/release/proviso"),
                    help="proviso binary (default: $PROVISO, else target/release/proviso)")
    ap.add_argument("--rules", type=Path, default=ROOT / "rules", help="rules for the timed run")
    ap.add_argument("--as-of", default=os.environ.get("AS_OF", "2026-03-01"))
    ap.add_argument("--hcl2json-dir", type=Path, default=None,
                    help="where @cdktf/hcl2json is (installed if missing; default SCRATCH/.hcl2json)")
    ap.add_argument("--repo", action="append", default=[], help="only this repository (repeatable)")
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds per proviso run")
    ap.add_argument("--list-none", action="store_true",
                    help="also list blocks with count/for_each that have no record")
    ap.add_argument("--json", type=Path, help="also write the numbers and disagreements as JSON")
    args = ap.parse_args()

    if not args.scratch.is_dir():
        die(f"{args.scratch} is not a folder (lay it out with bench/corpus/checkout.sh)")
    binary = Path(args.proviso)
    if not binary.is_absolute() and not binary.exists():
        binary = ROOT / binary
    if not binary.exists():
        die(f"no proviso binary at {args.proviso} (set PROVISO or --proviso)")
    args.proviso = str(binary.resolve())
    args.rules = args.rules.resolve()
    for tool in ("node", "/usr/bin/time"):
        if shutil.which(tool) is None:
            die(f"missing {tool} (apt-get install -y nodejs npm time)")
    scratch = args.scratch.resolve()
    args.hcl2json_dir = (args.hcl2json_dir or scratch / ".hcl2json").resolve()
    ensure_hcl2json(args.hcl2json_dir)
    census = scratch / ".census"
    census.mkdir(exist_ok=True)
    (census / "census.proviso").write_text(CENSUS)

    names = sorted(d.name for d in scratch.iterdir() if d.is_dir() and not d.name.startswith("."))
    if args.repo:
        names = [n for n in names if n in args.repo]
    version = subprocess.run([args.proviso, "--version"], capture_output=True, text=True).stdout.strip()
    print(f"corpus: {len(names)} repositories in {scratch}; {version} ({args.proviso}); "
          f"@cdktf/hcl2json {HCL2JSON_VERSION}; as of {args.as_of}", file=sys.stderr)

    repos = []
    for n in names:
        t0 = time.monotonic()
        try:
            r = compare(scratch / n, args, census)
        except (RuntimeError, OSError) as e:
            r = Repo(n, error=str(e))
        repos.append(r)
        print(f"corpus: {n}: {r.files} files, {len(r.disagreements)} disagreements "
              f"({time.monotonic() - t0:.1f} s){' — ' + r.error if r.error else ''}", file=sys.stderr)

    print_table(repos)
    errors = [r for r in repos if r.error]
    if errors:
        print("\nErrors:")
        for r in errors:
            print(f"- {r.name}: {r.error}")
    print("\nUnresolved findings by reason (the three most frequent per repository):")
    for r in repos:
        if r.unresolved_why:
            top = "; ".join(f"{n} × {why}" for why, n in list(r.unresolved_why.items())[:3])
            print(f"- {r.name}: {top}")
    both = [(r.name, *b) for r in repos for b in r.both_reject]
    if both:
        print("\nFiles both parsers reject (agreement):")
        for name, file, h_err, p_err in both:
            print(f"- {name}/{file}: hcl2json: {h_err}; proviso: {p_err}")
    print("\nDisagreements (file, what, detail):")
    for r in repos:
        for file, what, detail in r.disagreements:
            print(f"- {r.name}/{file}: {what}: {detail}")
    if args.json:
        args.json.write_text(json.dumps(
            {"as_of": args.as_of, "proviso": version, "hcl2json": HCL2JSON_VERSION,
             "repos": [{k: ([list(x) for x in v] if isinstance(v, list) else v)
                        for k, v in r.__dict__.items()} for r in repos]},
            indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
