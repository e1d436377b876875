#!/usr/bin/env python3
"""Generates SIZE_MB of house-convention traffic as JSON lines or ALB logs
(deterministic). Usage: gen.py jsonl|alb SIZE_MB OUT"""
import random, sys

kind, size_mb, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rng = random.Random(7)
HOSTS = ["api.openai.com"] * 4 + ["eastus2.openai.azure.com"] * 4 + ["fed.openai.azure.us", "www.example.com"]
PATHS = (["/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/v1/moderations",
          "/v1/images/generations", "/v1/audio/speech"] * 2
         + ["/v1/assistants", "/v1/threads/thread_abc/runs", "/v1/vector_stores/vs_1/files",
            "/v1/realtime/sessions", "/v1/conversations/c1/items", "/health", "/v1/models"])
CLOUDS = [("aws", "us-east-1"), ("azure", "eastus2"), ("azure", "westeurope"), ("gcp", "us-central1")]
DAYS = [f"2026-{m:02d}-{d:02d}" for m in range(2, 7) for d in range(1, 29)]
# The product a request is for (the gateway's `model` field, CONTRACT.md):
# products first seen before 2026-04-27 and new ones, some on Azure first.
MODELS = ["gpt-5.5", "gpt-5.5-mini", "o5", "o5-mini", "gpt-image-2", "whisper-3"]
ARN = "arn:aws:elasticloadbalancing:{}:123456789012:targetgroup/openai-proxy/73e2d6bc24d8a067"

pool = []
for i in range(20000):
    day = rng.choice(DAYS)
    ts = f"{day}T{rng.randrange(24):02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d}"
    host, path = rng.choice(HOSTS), rng.choice(PATHS)
    cloud, region = rng.choice(CLOUDS)
    status = rng.choice([200, 200, 200, 201, 429, 500])
    if kind == "jsonl":
        pool.append(
            f'{{"timestamp":"{ts}.{i % 1000:03d}Z","host":"{host}","path":"{path}","method":"POST",'
            f'"status":{status},"client_ip":"10.{i % 250}.{i % 7}.{i % 200}","upstream_addr":"20.41.{i % 60}.9:443",'
            f'"bytes_in":{800 + i},"bytes_out":{2000 + 3 * i},"cloud":"{cloud}","region":"{region}",'
            f'"model":"{rng.choice(MODELS)}","user_agent":"openai-python/1.54.0","trace":{{"id":"t-{i:06d}","tags":["gw","egress"]}}}}\n')
    else:
        r = "us-east-1" if i % 3 else "eu-west-1"
        pool.append(
            f'https {ts}.{i:06d}Z app/openai-proxy/50dc6c495c0c9188 192.0.2.{i % 250}:{40000 + i % 20000} '
            f'10.0.{i % 4}.{i % 250}:443 0.001 0.102 0.000 {status} {status} {700 + i % 900} {1800 + i % 5000} '
            f'"POST https://{host}:443{path}?api-version=2024-10-21 HTTP/1.1" "openai-python/1.54.0" '
            f'ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 {ARN.format(r)} "Root=1-67891233-abcdef0123456789{i:08d}" '
            f'"{host}" "arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012" '
            f'0 {ts}.000000Z "forward" "-" "-" "10.0.{i % 4}.{i % 250}:443" "{status}" "-" "-" TID_{i:08x}\n')
target = size_mb << 20
written = 0
with open(out, "w") as f:
    while written < target:
        block = "".join(rng.choices(pool, k=5000))
        f.write(block)
        written += len(block)
