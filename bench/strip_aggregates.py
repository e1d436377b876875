#!/usr/bin/env python3
"""Prints a rule file with its aggregate clauses (those with a `per` or
`let` statement) taken out, for bench/run.sh's with/without comparison.
Usage: strip_aggregates.py RULES.proviso"""
import re, sys

text = open(sys.argv[1], encoding="utf-8").read()
out, i = [], 0
for m in re.finditer(r"^\s*clause \w+", text, re.M):
    if m.start() < i:
        continue
    # The clause's block: from its `{` to the matching `}` (strings and
    # comments in the bundled file hold no unbalanced braces).
    open_at = text.index("{", m.end())
    depth, j = 0, open_at
    while True:
        c = text[j]
        if c == '"':
            j = text.index('"', j + 1)
        elif c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                break
        j += 1
    block = text[m.start():j + 1]
    if re.search(r"^\s*(per|let)\s", block, re.M):
        out.append(text[i:m.start()])
        i = j + 1
out.append(text[i:])
sys.stdout.write("".join(out))
