// `autoglm bench filter` end to end on a small run: the figures it writes, and a --json file that
// cannot be written (reported by name, exit code 2, the figures still on stdout).
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { command } from "../cli/commands/bench-filter.js";


/** Runs the command, capturing stdout and stderr. */
async function capture(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const writeOut = process.stdout.write.bind(process.stdout);
  const writeErr = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((chunk: string) => (out.push(String(chunk)), true)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string) => (err.push(String(chunk)), true)) as typeof process.stderr.write;
  try {
    const code = await command.run(args);
    return { code, stdout: out.join(""), stderr: err.join("") };
  } finally {
    process.stdout.write = writeOut;
    process.stderr.write = writeErr;
  }
}

test("bench filter writes every figure for a small run, and names a --json file it cannot write", async () => {
  const dir = mkdtempSync(join(tmpdir(), "bench-filter-"));
  try {
    const file = join(dir, "f.json");
    const ok = await capture(["--requests", "3000", "--warmup", "500", "--streams", "4", "--bodies", "3", "--no-progress", "--json", file]);
    assert.equal(ok.code, 0, ok.stderr);
    const figures = JSON.parse(readFileSync(file, "utf8")) as Record<string, number>;
    for (const key of ["ns_per_request_passthrough", "ns_per_request_filter", "overhead_ns", "wasm_bytes", "memory_growth_bytes",
      "ns_per_chunk_passthrough", "ns_per_chunk_filter", "chunk_overhead_ns"]) {
      assert.ok(Number.isFinite(figures[key]), `${key}: ${figures[key]}`);
    }
    assert.ok(figures["ns_per_request_filter"]! > 0 && figures["ns_per_request_passthrough"]! > 0);
    assert.equal(figures["requests"], 3000);
    assert.equal(figures["streams"], 4);
    assert.ok(figures["ns_per_chunk_filter"]! > 0 && figures["ns_per_chunk_passthrough"]! > 0);
    const bodies = (figures as unknown as { body_scan: Array<Record<string, number>> }).body_scan;
    assert.deepEqual(bodies.map((b) => [b["body_bytes"], b["chunk_bytes"]]), [[1024, 256], [65536, 256]]);
    for (const b of bodies) {
      for (const key of ["ns_per_body_no_deny_list", "ns_per_body_deny_list", "scan_cost_ns", "scan_cost_ns_per_kib"]) assert.ok(Number.isFinite(b[key]), `${key}: ${b[key]}`);
      assert.ok(b["ns_per_body_deny_list"]! > 0 && b["ns_per_body_no_deny_list"]! > 0);
    }

    writeFileSync(join(dir, "a-file"), "not a folder");
    const target = join(dir, "a-file", "f.json");
    const bad = await capture(["--requests", "1000", "--warmup", "100", "--streams", "0", "--bodies", "0", "--no-progress", "--json", target]);
    assert.equal(bad.code, 2);
    assert.ok(bad.stderr.includes(`cannot write the figures to ${target}`), bad.stderr);
    assert.match(bad.stdout, /"overhead_ns":/, "the figures are still printed");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
