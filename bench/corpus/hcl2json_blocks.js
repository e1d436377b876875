// The reference side of bench/corpus/run.py: HashiCorp's HCL parser (the Go
// hclsyntax package, compiled to WebAssembly as the npm package
// `@cdktf/hcl2json`) on each `.tf` file named on standard input, one path a
// line. Prints one JSON line per file:
//   {"file": PATH, "ok": true, "blocks": [["resource", TYPE, NAME], ["data", …], ["module", "", NAME]],
//    "repeated": [[kind, type, name], …], "zero": [[kind, type, name], …],
//    "calls": [[NAME, SOURCE], …]}
//   {"file": PATH, "ok": false, "error": "…"}
// `repeated` lists blocks with `count` or `for_each`, which may have no
// instance (and then no proviso record) once evaluated; `zero` those whose
// `count` or `for_each` is a literal 0, [] or {}, which never have one;
// `calls` the `source` of each module block (run.py follows the local ones).
//
//   node hcl2json_blocks.js HCL2JSON_DIR < files.txt
//
// HCL2JSON_DIR is the folder `npm install @cdktf/hcl2json` ran in.
"use strict";
const fs = require("fs");
const path = require("path");

const dir = process.argv[2];
const hcl = require(path.join(dir, "node_modules", "@cdktf", "hcl2json"));

function isZero(body) {
  if (!body || typeof body !== "object") return false;
  const c = body.count;
  if (c === 0 || c === "0" || c === "${0}") return true;
  const f = body.for_each;
  if (Array.isArray(f) && f.length === 0) return true;
  if (f && typeof f === "object" && !Array.isArray(f) && Object.keys(f).length === 0) return true;
  return f === "${[]}" || f === "${{}}" || f === "${toset([])}";
}

function blocksOf(doc) {
  const blocks = [];
  const repeated = [];
  const zero = [];
  const calls = [];
  const add = (kind, type, name, bodies) => {
    const all = Array.isArray(bodies) ? bodies : [bodies];
    blocks.push([kind, type, name]);
    if (all.some((b) => b && typeof b === "object" && ("count" in b || "for_each" in b))) {
      repeated.push([kind, type, name]);
    }
    if (all.every(isZero)) zero.push([kind, type, name]);
  };
  for (const kind of ["resource", "data"]) {
    for (const [type, byName] of Object.entries(doc[kind] || {})) {
      for (const [name, bodies] of Object.entries(byName || {})) add(kind, type, name, bodies);
    }
  }
  for (const [name, bodies] of Object.entries(doc.module || {})) {
    add("module", "", name, bodies);
    for (const b of Array.isArray(bodies) ? bodies : [bodies]) {
      if (b && typeof b.source === "string") calls.push([name, b.source]);
    }
  }
  return { blocks, repeated, zero, calls };
}

async function main() {
  const files = fs.readFileSync(0, "utf-8").split("\n").filter((l) => l.length > 0);
  const decoder = new TextDecoder("utf-8", { fatal: true });
  for (const file of files) {
    let out;
    try {
      const text = decoder.decode(fs.readFileSync(file));
      const { blocks, repeated, zero, calls } = blocksOf(await hcl.parse(path.basename(file), text));
      out = { file, ok: true, blocks, repeated, zero, calls };
    } catch (e) {
      out = { file, ok: false, error: String(e && e.message ? e.message : e) };
    }
    process.stdout.write(JSON.stringify(out) + "\n");
  }
  // The Go runtime inside keeps the event loop alive.
  process.exit(0);
}

main().catch((e) => {
  process.stderr.write(String(e) + "\n");
  process.exit(1);
});
