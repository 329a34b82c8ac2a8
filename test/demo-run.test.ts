import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseScenario } from "../sim/scenario.js";
import { runDemo } from "../demo/run.js";
import { command } from "../cli/commands/demo.js";

const shortScenario = parseScenario({
  name: "demo-test",
  seed: 3,
  duration_s: 20,
  window_s: 1,
  sidecars: 2,
  // The fault is an error burst; a generous latency objective and client timeout keep a machine
  // that stalls the test for a few seconds from making the healthy clusters look broken.
  slo: { latency_ms: 10000, success_rate: 0.99, client_timeout_ms: 20000 },
  clusters: [
    { name: "llm-a", weight: 40, endpoints: 2, capacity_rps: 200, latency_ms: { p50: 100, p99: 500 }, error_rate: 0.001 },
    { name: "llm-b", weight: 30, endpoints: 2, capacity_rps: 200, latency_ms: { p50: 100, p99: 500 }, error_rate: 0.001 },
    { name: "llm-c", weight: 30, endpoints: 2, capacity_rps: 200, latency_ms: { p50: 100, p99: 500 }, error_rate: 0.001 },
  ],
  traffic: [{ at_s: 0, rps: 30 }],
  faults: [{ at_s: 3, cluster: "llm-a", error_rate: 0.9, for_s: 30 }],
}, "demo-test");

test("the demo sends traffic through the filter and the control plane opens the faulty cluster's breaker", { timeout: 120_000 }, async () => {
  const lines: string[] = [];
  const auditDir = await mkdtemp(join(tmpdir(), "autoglm-demo-audit-"));
  const summary = await runDemo({ scenario: shortScenario, durationS: 20, rps: 30, auditDir, print: (l) => lines.push(l) });
  // The audit log was flushed on shutdown and holds the breaker's opening.
  const files = await readdir(auditDir);
  const audit = (await Promise.all(files.map((f) => readFile(join(auditDir, f), "utf8")))).join("");
  await rm(auditDir, { recursive: true, force: true });
  assert.match(audit, /llm-a/, `audit files: ${files.join(", ")}`);
  assert.match(audit, /"open"/);
  assert.ok(summary.totals.requests > 50, `requests: ${summary.totals.requests}`);
  // The upstreams echo the x-request-id and x-autoglm-cluster the filter set.
  assert.ok(summary.totals.filtered > summary.totals.requests / 2, `filtered answers: ${summary.totals.filtered} of ${summary.totals.requests}`);
  assert.ok(summary.sidecarRequests.every((n) => n > 0), `sidecar request counters: ${summary.sidecarRequests.join(", ")}`);
  const opened = summary.transitions.filter((t) => t.cluster === "llm-a" && t.to === "open");
  assert.ok(opened.length >= 1, `transitions: ${JSON.stringify(summary.transitions)}`);
  assert.ok(summary.transitions.every((t) => t.cluster === "llm-a"), `only the faulty cluster trips: ${JSON.stringify(summary.transitions)}`);
  assert.ok(lines.some((l) => l.startsWith("dashboard: http://127.0.0.1:")), lines.join("\n"));
  assert.ok(lines.some((l) => l.startsWith("t=")), "a per-second summary line is printed");
});

test("the demo stops early and cleanly when aborted", { timeout: 60_000 }, async () => {
  const abort = new AbortController();
  setTimeout(() => abort.abort(), 3000);
  const summary = await runDemo({ scenario: shortScenario, durationS: 60, rps: 10, signal: abort.signal, print: () => undefined });
  assert.equal(summary.aborted, true);
  assert.ok(summary.ranS < 30, `ran ${summary.ranS} s`);
});

test("the demo command rejects bad options with exit code 2 and says to build a missing filter", async () => {
  const table: Array<{ args: string[]; code: number }> = [
    { args: ["--rps", "zero"], code: 2 },
    { args: ["--duration", "-1"], code: 2 },
    { args: ["--bogus"], code: 2 },
  ];
  for (const { args, code } of table) assert.equal(await command.run(args), code, args.join(" "));
  await assert.rejects(runDemo({ scenario: shortScenario, wasmPath: "/nonexistent/filter.wasm", print: () => undefined }), /npm run build/);
});
