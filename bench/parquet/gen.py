#!/usr/bin/env python3
"""Writes the same gateway records twice: as Parquet (typed columns:
timestamp[ms, UTC], int32 status, int64 sizes, a struct `trace`) and as
JSON lines, until the Parquet file has SIZE_MB on disk (deterministic).

Usage: gen.py SIZE_MB OUT_PREFIX [--no-jsonl]
  (writes OUT_PREFIX.parquet, and OUT_PREFIX.jsonl unless --no-jsonl: the
  JSON text is some 12 times the Parquet, 12 GB for a 1 GB file)

The record shape is bench/gen.py's; the values vary per record (time,
addresses, sizes, trace id) so that Parquet's encodings do not shrink a
gigabyte to nothing. The JSON text is made column-wise by Arrow (no Python
loop per record), so a gigabyte of Parquet takes a few minutes.
Needs pyarrow and numpy (a venv: python3 -m venv /tmp/pqvenv &&
/tmp/pqvenv/bin/pip install pyarrow numpy)."""
import os
import sys

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

size_mb, prefix = int(sys.argv[1]), sys.argv[2]
jsonl = "--no-jsonl" not in sys.argv[3:]
ROWS = 1 << 20  # one row group per batch, pyarrow's default size
rng = np.random.default_rng(7)
HOSTS = ["api.openai.com"] * 4 + ["eastus2.openai.azure.com"] * 4 + ["fed.openai.azure.us", "www.example.com"]
PATHS = (["/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/v1/moderations",
          "/v1/images/generations", "/v1/audio/speech"] * 2
         + ["/v1/assistants", "/v1/threads/thread_abc/runs", "/v1/vector_stores/vs_1/files",
            "/v1/realtime/sessions", "/v1/conversations/c1/items", "/health", "/v1/models"])
CLOUDS = [("aws", "us-east-1"), ("azure", "eastus2"), ("azure", "westeurope"), ("gcp", "us-central1")]
MODELS = ["gpt-5.5", "gpt-5.5-mini", "o5", "o5-mini", "gpt-image-2", "whisper-3"]
START = np.datetime64("2026-02-01T00:00:00", "ms").astype(np.int64)
SPAN = 150 * 86_400_000


def pick(values, n):
    return pa.array(np.array(values, dtype=object)[rng.integers(0, len(values), n)], pa.string())


def dotted(*parts):
    return pc.binary_join_element_wise(*parts, "")


def batch(first, n):
    i = np.arange(first, first + n)
    ts = pa.array(START + rng.integers(0, SPAN, n), pa.timestamp("ms", tz="UTC"))
    cloud_i = rng.integers(0, len(CLOUDS), n)
    cloud = pa.array(np.array([c for c, _ in CLOUDS], dtype=object)[cloud_i], pa.string())
    region = pa.array(np.array([r for _, r in CLOUDS], dtype=object)[cloud_i], pa.string())
    octets = rng.integers(0, 256, (n, 3)).astype(str)
    client_ip = pa.array(np.char.add(np.char.add(np.char.add("10.", octets[:, 0]), np.char.add(".", octets[:, 1])),
                                     np.char.add(".", octets[:, 2])), pa.string())
    upstream = pa.array(np.char.add(np.char.add("20.41.", rng.integers(0, 256, n).astype(str)), ".9:443"), pa.string())
    trace_id = pa.array(np.char.add("t-", i.astype(str)), pa.string())
    tags = pa.array([["gw", "egress"]] * n, pa.list_(pa.string()))
    cols = {
        "timestamp": ts,
        "host": pick(HOSTS, n),
        "path": pick(PATHS, n),
        "method": pa.array(["POST"] * n, pa.string()),
        "status": pa.array(np.array([200, 200, 200, 201, 429, 500], dtype=np.int32)[rng.integers(0, 6, n)]),
        "client_ip": client_ip,
        "upstream_addr": upstream,
        "bytes_in": pa.array(rng.integers(100, 100_000, n)),
        "bytes_out": pa.array(rng.integers(100, 1_000_000, n)),
        "cloud": cloud,
        "region": region,
        "model": pick(MODELS, n),
        "user_agent": pa.array(["openai-python/1.54.0"] * n, pa.string()),
        "trace": pa.StructArray.from_arrays([trace_id, tags], ["id", "tags"]),
    }
    table = pa.table(cols)
    s = lambda a: pc.cast(a, pa.string())
    text = dotted('{"timestamp":"', pc.strftime(ts, format="%Y-%m-%dT%H:%M:%SZ"),
                  '","host":"', cols["host"], '","path":"', cols["path"], '","method":"POST","status":',
                  s(cols["status"]), ',"client_ip":"', client_ip, '","upstream_addr":"', upstream,
                  '","bytes_in":', s(cols["bytes_in"]), ',"bytes_out":', s(cols["bytes_out"]),
                  ',"cloud":"', cloud, '","region":"', region, '","model":"', cols["model"],
                  '","user_agent":"openai-python/1.54.0","trace":{"id":"', trace_id,
                  '","tags":["gw","egress"]}}\n')
    return table, text


target = size_mb << 20
first = 0
with open(prefix + ".jsonl" if jsonl else os.devnull, "wb") as out:
    writer = None
    while True:
        table, text = batch(first, ROWS)
        if writer is None:
            writer = pq.ParquetWriter(prefix + ".parquet", table.schema)
        writer.write_table(table, row_group_size=ROWS)
        chunks = text.chunks if isinstance(text, pa.ChunkedArray) else [text]
        for chunk in chunks:
            # (A fresh array: its text starts its data buffer.)
            assert chunk.offset == 0
            end = pc.sum(pc.binary_length(chunk)).as_py()
            if jsonl:
                out.write(memoryview(chunk.buffers()[2])[:end])
        first += ROWS
        if os.path.getsize(prefix + ".parquet") >= target:
            break
    writer.close()
print(f"{first} records: {os.path.getsize(prefix + '.parquet') >> 20} MB of Parquet"
      + (f", {os.path.getsize(prefix + '.jsonl') >> 20} MB of JSON lines" if jsonl else ""))
