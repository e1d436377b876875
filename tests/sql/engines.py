#!/usr/bin/env python3
"""Run SQL statements on one real engine, in local mode, and print the rows.

    engines.py --engine duckdb|datafusion|spark|sqlglot-trino --table NAME=PATH [--table ...]
               --manifest FILE.json [--session-tz ZONE] [--output FILE]

FILE.json maps query names to SQL text. Each --table registers a Parquet
file (or a directory of them) under NAME; every query is run once, in the
manifest's order, on one connection / one Spark session, and one JSON
document is printed: `{name: {"columns": [...], "rows": [{col: value}],
"error": null | "...", "seconds": s}}`. A query that fails does not stop the
others: its `error` says why.

Values are read through Arrow on all three engines, so that they are
normalized in one place: decimals as strings with their scale (`"200.10"`),
timestamps with a time zone as UTC ISO strings ending in `Z`, timestamps
without one and dates as ISO strings, structs and lists recursively.

`--session-tz ZONE` sets the session time zone of the engine (Spark's
`spark.sql.session.timeZone`, DuckDB's `TimeZone`, DataFusion's
`datafusion.execution.time_zone`) and the process's `TZ` (so the JVM's
default zone too): the compiled statements must give the same rows
whatever it is. Without it each engine keeps its default.

Spark is started once, quietly (`local[2]`, no UI, two shuffle partitions,
log level ERROR through a log4j2 configuration of our own, the JVM tuned for
a short life: see SPARK_JAVA_OPTS).
"""

from __future__ import annotations

import argparse
import datetime as dt
import decimal
import json
import math
import os
import sys
import tempfile
import time


def normalize(v):
    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, int):
        return int(v)
    if isinstance(v, float):
        if math.isnan(v) or math.isinf(v):
            return str(v)
        return v
    if isinstance(v, decimal.Decimal):
        return format(v, "f")
    if isinstance(v, dt.datetime):
        if v.tzinfo is not None:
            v = v.astimezone(dt.timezone.utc)
            return v.replace(tzinfo=None).isoformat() + "Z"
        return v.isoformat()
    if isinstance(v, (dt.date, dt.time)):
        return v.isoformat()
    if isinstance(v, dt.timedelta):
        return str(v)
    if isinstance(v, (bytes, bytearray, memoryview)):
        return bytes(v).hex()
    if isinstance(v, dict):
        return {str(k): normalize(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [normalize(x) for x in v]
    # numpy scalars and anything else with .item()
    item = getattr(v, "item", None)
    if callable(item):
        return normalize(item())
    return str(v)


def rows_of(table):
    """An Arrow table as (columns, rows of dicts). Duplicate column names
    keep the last value, as a dict must; `columns` keeps them all."""
    columns = list(table.column_names)
    rows = [{k: normalize(x) for k, x in r.items()} for r in table.to_pylist()]
    return columns, rows


def parquet_files(path: str) -> str:
    return os.path.join(path, "*.parquet") if os.path.isdir(path) else path


# --- engines: each is (register(name, path), run(sql) -> arrow table) --------

def duckdb_engine(session_tz):
    import duckdb

    con = duckdb.connect(":memory:")
    con.execute("SET threads = 2")
    if session_tz:
        con.execute(f"SET TimeZone = '{session_tz}'")

    def register(name, path):
        literal = "'" + parquet_files(path).replace("'", "''") + "'"
        con.execute(f'CREATE VIEW "{name}" AS SELECT * FROM read_parquet({literal})')

    def run(sql):
        rel = con.sql(sql)
        if rel is None:
            raise RuntimeError("the statement returned no rows (not a query)")
        return rel.to_arrow_table() if hasattr(rel, "to_arrow_table") else rel.arrow()

    return register, run, con.close


def datafusion_engine(session_tz):
    import datafusion

    config = datafusion.SessionConfig().with_target_partitions(2)
    ctx = datafusion.SessionContext(config)
    if session_tz:
        ctx.sql(f"SET datafusion.execution.time_zone = '{session_tz}'").collect()

    def register(name, path):
        ctx.register_parquet(name, path)

    def run(sql):
        return ctx.sql(sql).to_arrow_table()

    return register, run, lambda: None


LOG4J2 = """\
rootLogger.level = error
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n
"""


# The C1 compiler only and the serial collector: on small tables the JIT's
# second tier costs more than it saves (measured here: start 15 s -> 8 s,
# six small queries 15 s -> 8 s). PROVISO_SPARK_JAVA_OPTS replaces them.
SPARK_JAVA_OPTS = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"


def spark_engine(session_tz):
    conf_dir = tempfile.mkdtemp(prefix="proviso-spark-conf-")
    with open(os.path.join(conf_dir, "log4j2.properties"), "w") as f:
        f.write(LOG4J2)
    os.environ["SPARK_CONF_DIR"] = conf_dir
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    import logging

    from pyspark.sql import SparkSession

    # PySpark 4 logs every failed query's JVM stack trace as JSON on stderr;
    # the failure is already in the query's `error`.
    logging.getLogger("SQLQueryContextLogger").setLevel(logging.CRITICAL)

    builder = (
        SparkSession.builder.master("local[2]")
        .appName("proviso-engines-test")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        # Adaptive execution re-plans every stage: on small tables and large
        # statements that costs more than it finds (measured: 9 s -> 6 s a
        # ledger statement). The answer cannot depend on it.
        .config("spark.sql.adaptive.enabled", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.sql.warehouse.dir", os.path.join(conf_dir, "warehouse"))
        .config("spark.driver.extraJavaOptions",
                f"-Dderby.system.home={conf_dir} "
                + os.environ.get("PROVISO_SPARK_JAVA_OPTS", SPARK_JAVA_OPTS))
    )
    if session_tz:
        builder = builder.config("spark.sql.session.timeZone", session_tz)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")

    def register(name, path):
        spark.read.parquet(path).createOrReplaceTempView(name)

    def run(sql):
        return spark.sql(sql).toArrow()

    # Stopping the session cleanly takes seconds; the JVM ends with this
    # process (py4j's gateway watches its standard input) all the same.
    return register, run, lambda: None


def sqlglot_trino_engine(session_tz):
    """Not an engine: Trino cannot run here, so its statements are parsed
    with sqlglot's Trino dialect. A statement that does not parse is an
    error; one that does gives one row with the statement's kind."""
    import pyarrow as pa
    import sqlglot

    def register(name, path):
        pass

    def run(sql):
        tree = sqlglot.parse_one(sql, read="trino")
        return pa.table({"parsed": [type(tree).__name__]})

    return register, run, lambda: None


ENGINES = {"duckdb": duckdb_engine, "datafusion": datafusion_engine, "spark": spark_engine,
           "sqlglot-trino": sqlglot_trino_engine}


def error_text(e: BaseException) -> str:
    text = f"{type(e).__name__}: {e}".strip()
    # JVM stack traces after the message are noise here
    lines = [l for l in text.splitlines() if not l.lstrip().startswith("at ")]
    text = "\n".join(lines)
    return text if len(text) <= 4000 else text[:4000] + " …"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--engine", required=True, choices=sorted(ENGINES))
    ap.add_argument("--table", action="append", default=[], metavar="NAME=PATH",
                    help="register a Parquet file or directory as NAME (repeatable)")
    ap.add_argument("--manifest", required=True, help="JSON object: query name -> SQL text")
    ap.add_argument("--session-tz", help="session time zone (and TZ) to run under")
    ap.add_argument("--output", help="write the JSON document here instead of standard output")
    ap.add_argument("--jobs", type=int, default=1,
                    help="queries run at once (Spark only: its planning of a large statement is "
                         "single-threaded, a second query uses the second core)")
    ap.add_argument("--wait", type=float, metavar="SECONDS",
                    help="start the engine and register the tables first, then wait up to "
                         "SECONDS for the manifest to appear (the caller writes it when its "
                         "statements are compiled: Spark's start-up overlaps that work)")
    args = ap.parse_args(argv)

    if args.session_tz:
        os.environ["TZ"] = args.session_tz
        if hasattr(time, "tzset"):
            time.tzset()
    started = time.monotonic()
    register, run, close = ENGINES[args.engine](args.session_tz)
    for spec in args.table:
        name, sep, path = spec.partition("=")
        if not sep or not name or not path:
            ap.error(f"--table wants NAME=PATH, not `{spec}`")
        register(name, path)
        if args.wait:
            run(f'SELECT count(*) FROM {name}')  # warms the engine up while we wait
    startup = time.monotonic() - started

    if args.wait:
        deadline = time.monotonic() + args.wait
        while not os.path.exists(args.manifest):
            if time.monotonic() > deadline:
                print(f"engines.py: no manifest at {args.manifest} after {args.wait}s", file=sys.stderr)
                return 3
            time.sleep(0.1)
    with open(args.manifest, encoding="utf-8") as f:
        manifest = json.load(f)

    def one(sql):
        sql = sql.strip()
        if sql.endswith(";"):
            sql = sql[:-1]
        t0 = time.monotonic()
        try:
            columns, rows = rows_of(run(sql))
            result = {"columns": columns, "rows": rows, "error": None}
        except Exception as e:  # an engine's error is a result, not a crash
            result = {"columns": [], "rows": [], "error": error_text(e)}
        result["seconds"] = round(time.monotonic() - t0, 3)
        return result

    queries_started = time.monotonic()
    if args.jobs > 1 and args.engine == "spark":
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(args.jobs) as pool:
            done = list(pool.map(one, manifest.values()))
        results = dict(zip(manifest.keys(), done))
    else:
        results = {name: one(sql) for name, sql in manifest.items()}
    print(f"engines.py: {args.engine} started in {startup:.1f}s, {len(manifest)} queries in "
          f"{time.monotonic() - queries_started:.1f}s", file=sys.stderr)
    text = json.dumps(results, ensure_ascii=False, sort_keys=False)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        sys.stdout.write(text + "\n")
    sys.stdout.flush()
    close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
