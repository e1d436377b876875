#!/usr/bin/env python3
"""Drives `proviso lsp` as an editor does and prints medians against the
targets of issue 17. Usage: bench.py PROVISO RULE_FILE [EDITS]

Opens RULE_FILE (its directory is its rule set), then EDITS times: changes
one string literal of the file (a new version each time) and times the
`didChange` until its `publishDiagnostics`; a hover on a define and a
completion inside a clause are timed after each edit. Peak RSS is the
server's VmHWM from /proc at the end."""
import json, os, re, statistics, subprocess, sys, time

exe, path = sys.argv[1], os.path.abspath(sys.argv[2])
edits = int(sys.argv[3]) if len(sys.argv) > 3 else 20
p = subprocess.Popen([exe, "lsp"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
uri = "file://" + path


def send(o):
    b = json.dumps(o).encode()
    p.stdin.write(b"Content-Length: %d\r\n\r\n" % len(b) + b)
    p.stdin.flush()


def recv():
    n = None
    while True:
        line = p.stdout.readline()
        if line == b"":
            sys.exit("proviso lsp ended")
        if line == b"\r\n":
            break
        if line.lower().startswith(b"content-length"):
            n = int(line.split(b":")[1])
    return json.loads(p.stdout.read(n))


def until(pred):
    while True:
        m = recv()
        if pred(m):
            return m


ids = iter(range(1, 10**9))


def request(method, params):
    i = next(ids)
    send({"jsonrpc": "2.0", "id": i, "method": method, "params": params})
    return until(lambda m: m.get("id") == i)


def is_diags(m):
    return m.get("method") == "textDocument/publishDiagnostics" and m["params"]["uri"] == uri


request("initialize", {"capabilities": {}})
send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
text = open(path, encoding="utf-8").read()
t0 = time.perf_counter()
send({"jsonrpc": "2.0", "method": "textDocument/didOpen",
      "params": {"textDocument": {"uri": uri, "languageId": "proviso", "version": 1, "text": text}}})
first = until(is_diags)
open_ms = (time.perf_counter() - t0) * 1000

# Where to hover (a define used by a clause) and complete (after
# `applies to ` in a clause), found in the text.
lines = text.split("\n")
use = next(i for i, l in enumerate(lines) if l.strip().startswith("applies to "))
col = lines[use].index("applies to ") + len("applies to ") + 1
quote = next(i for i, l in enumerate(lines) if l.strip().startswith("message \""))

diag_ms, hover_ms, compl_ms = [], [], []
hover_text = ""
for k in range(edits):
    new_lines = list(lines)
    new_lines[quote] = re.sub(r'message "', f'message "edit {k}: ', lines[quote], count=1)
    t0 = time.perf_counter()
    send({"jsonrpc": "2.0", "method": "textDocument/didChange",
          "params": {"textDocument": {"uri": uri, "version": k + 2},
                     "contentChanges": [{"text": "\n".join(new_lines)}]}})
    m = until(lambda m: is_diags(m) and m["params"].get("version") == k + 2)
    diag_ms.append((time.perf_counter() - t0) * 1000)
    pos = {"textDocument": {"uri": uri}, "position": {"line": use, "character": col}}
    t0 = time.perf_counter()
    h = request("textDocument/hover", pos)
    hover_ms.append((time.perf_counter() - t0) * 1000)
    hover_text = (h.get("result") or {}).get("contents", {}).get("value", "")
    t0 = time.perf_counter()
    c = request("textDocument/completion", pos)
    compl_ms.append((time.perf_counter() - t0) * 1000)

with open(f"/proc/{p.pid}/status") as f:
    rss_mb = next(int(l.split()[1]) for l in f if l.startswith("VmHWM")) / 1024
request("shutdown", None)
send({"jsonrpc": "2.0", "method": "exit"})
p.wait()

size = os.path.getsize(path)
n_files = len([f for f in os.listdir(os.path.dirname(path)) if f.endswith(".proviso")])
print(f"{os.path.basename(os.path.dirname(path))}/{os.path.basename(path)}: {n_files} file(s) in the set, "
      f"edited file {size / 1024:.0f} KiB, {len(m['params']['diagnostics'])} diagnostics, "
      f"first check on open {open_ms:.0f} ms; hover says: {hover_text.splitlines()[0] if hover_text else '(nothing)'}")
target = float(sys.argv[4]) if len(sys.argv) > 4 else 50
for name, xs, t in [("diagnostics after an edit", diag_ms, target), ("hover", hover_ms, 20), ("completion", compl_ms, 20)]:
    med = statistics.median(xs)
    print(f"  {name:27} median {med:7.1f} ms of {len(xs)} (min {min(xs):.1f}, max {max(xs):.1f}); "
          f"target {t:.0f} ms: {'ok' if med < t else 'OVER'} ({med / t:.2f}x)")
print(f"  {'peak RSS':27} {rss_mb:7.1f} MB; target 100 MB: {'ok' if rss_mb < 100 else 'OVER'} ({rss_mb / 100:.2f}x)")
