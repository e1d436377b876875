#!/usr/bin/env python3
"""Runs one SQL statement (the one `proviso compile --to sql --dialect duckdb`
prints) on DuckDB, all cores, and prints the seconds the query took (the
connection's start and the reading of the statement are not timed). Its
rows go to OUT as JSON, one list per row, for the benchmark to compare with
`proviso audit`'s `clauses[]`.

Usage: duckdb_query.py STATEMENT.sql OUT.json
Needs the duckdb package (a venv: python3 -m venv /tmp/sqlvenv &&
/tmp/sqlvenv/bin/pip install duckdb)."""
import json
import os
import sys
import time

import duckdb

sql = open(sys.argv[1]).read()
con = duckdb.connect()
con.execute(f"SET threads = {os.cpu_count()}")
start = time.perf_counter()
rows = con.execute(sql).fetchall()
took = time.perf_counter() - start
with open(sys.argv[2], "w") as out:
    json.dump([list(r) for r in rows], out, default=str)
print(f"{took:.3f}")
