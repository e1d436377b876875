#!/usr/bin/env python3
"""Generates a Terraform monorepo for the proviso-vs-Checkov benchmark.

One root module per directory (`svc-0000/` …), each with `providers.tf`,
`variables.tf` and resource files. Resources cycle through five types on
AWS and Azure; tags, locations and TLS versions are chosen by the resource's
global index so that a known share breaks each of the three bench rules
(`bench/check/rules/bench.proviso`, `bench/check/checkov/*.yaml`). Deterministic: the
same arguments give the same files.

usage: generate.py OUT_DIR [--dirs N] [--resource-files N] [--resources-per-file N]
"""
import argparse
import os

TYPES = [
    "aws_ecs_service",
    "aws_lambda_function",
    "azurerm_linux_web_app",
    "azurerm_storage_account",
    "azurerm_kubernetes_cluster",
]


def resource(i: int) -> str:
    ty = TYPES[i % len(TYPES)]
    name = f"r{i}"
    api_mode = "stateless" if i % 7 == 0 else "stateful"
    segment = "federal" if i % 11 == 0 else "commercial"
    lines = [f'resource "{ty}" "{name}" {{', f'  name = "{ty.replace("_", "-")}-{i}"']
    if ty.startswith("azurerm_"):
        if i % 13 == 0:
            lines.append('  location = "westeurope"')
        elif i % 3 == 0:
            lines.append("  location = var.location")
        else:
            lines.append('  location = "eastus2"')
        lines.append('  resource_group_name = "rg-main"')
    if ty == "azurerm_storage_account":
        tls = "TLS1_0" if i % 17 == 0 else "TLS1_2"
        lines.append(f'  min_tls_version = "{tls}"')
        lines.append('  account_tier = "Standard"')
    if ty == "aws_lambda_function":
        lines.append('  runtime = "python3.12"')
        lines.append('  handler = "app.handler"')
    lines += [
        "  tags = {",
        '    model_vendor = "openai"',
        f'    api_mode     = "{api_mode}"',
        f'    segment      = "{segment}"',
        '    owner        = "platform"',
        "  }",
        "}",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--dirs", type=int, default=1000)
    ap.add_argument("--resource-files", type=int, default=3)
    ap.add_argument("--resources-per-file", type=int, default=34)
    a = ap.parse_args()
    i = 0
    files = 0
    for d in range(a.dirs):
        path = os.path.join(a.out, f"svc-{d:04d}")
        os.makedirs(path, exist_ok=True)
        with open(os.path.join(path, "providers.tf"), "w") as f:
            f.write('provider "aws" {\n  region = "us-east-1"\n}\n\nprovider "azurerm" {\n  features {}\n}\n')
        with open(os.path.join(path, "variables.tf"), "w") as f:
            f.write('variable "location" {\n  type    = string\n  default = "eastus2"\n}\n')
        files += 2
        for n in range(a.resource_files):
            with open(os.path.join(path, f"resources_{n}.tf"), "w") as f:
                for _ in range(a.resources_per_file):
                    f.write(resource(i))
                    i += 1
            files += 1
    print(f"{files} files, {i} resources in {a.dirs} root modules under {a.out}")


if __name__ == "__main__":
    main()
