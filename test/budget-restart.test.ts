// The error budgets wired in the running control plane (startControlPlane): traffic from a
// sidecar spends the budget, GET /v1/error-budgets and /metrics show it, stopping writes the
// counts to the audit log, and a control plane started on the same directory shows the same
// budget left. Virtual clock; rounds are run by the test.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setImmediate as tick } from "node:timers/promises";
import { validateConfig } from "../control-plane/src/config/index.js";
import { startControlPlane } from "../control-plane/src/server.js";
import { createLogger } from "../lib/log.js";
import { connectWorker } from "./support/in-process-sidecar.js";

interface Scope {
  scope: string;
  total: number;
  good: number;
  remaining: number;
}

test("the error budget left is the same after a restart of the control plane", async () => {
  const dir = await mkdtemp(join(tmpdir(), "autoglm-budget-restart-"));
  const logger = createLogger("budget-test", "silent");
  let now = 1_700_006_400_000;
  const config = validateConfig({
    grpc: { port: 0 },
    admin: { port: 0 },
    clusters: [{ name: "llm-a" }, { name: "llm-b" }],
    audit: { dir },
    error_budgets: { objective: 0.99, period_days: 7 },
  });
  const budgets = async (url: string): Promise<{ enabled: boolean; scopes: Scope[] }> => (await fetch(`${url}/v1/error-budgets`)).json() as Promise<{ enabled: boolean; scopes: Scope[] }>;
  try {
    const first = await startControlPlane(config, { logger, now: () => now });
    const worker = connectWorker(first.controlPlane, { nodeId: "n1", clusters: ["llm-a", "llm-b"], answer: "ack" });
    let before: { enabled: boolean; scopes: Scope[] };
    try {
      await tick();
      // The first window starts a second before the hour (and before the control plane started):
      // its counts land in the previous hour's bucket, which must be written too.
      for (let i = 0; i < 15; i++) {
        worker.report(now - 1000, { "llm-a": { requests: 200, errors5xx: 1 }, "llm-b": { requests: 100 } });
        await tick();
        now += 1000;
        await first.controlPlane.decide();
      }
      before = await budgets(first.adminUrl);
      assert.equal(before.enabled, true);
      const a = before.scopes.find((s) => s.scope === "llm-a")!;
      assert.ok(a.total >= 2000, `llm-a counted ${a.total} requests`);
      assert.equal(a.total - a.good, a.total / 200, "one bad request in 200");
      assert.ok(Math.abs(a.remaining - 0.5) < 1e-9, `0.5 % failures spend half of a 1 % budget: ${a.remaining}`);
      const metrics = await (await fetch(`${first.adminUrl}/metrics`)).text();
      assert.match(metrics, new RegExp(`^autoglm_slo_events_total\\{cluster="llm-a"\\} ${a.total}$`, "m"));
      const ratio = /^autoglm_error_budget_remaining_ratio\{scope="llm-a"\} (\S+)$/m.exec(metrics);
      assert.ok(ratio !== null && Math.abs(Number(ratio[1]) - 0.5) < 1e-9, `remaining ratio ${ratio?.[1]}`);
    } finally {
      worker.close();
      await first.close();
    }
    const files = await readFile(join(dir, "audit-000001.ndjson"), "utf8");
    assert.match(files, /"kind":"error_budget"/, "stopping wrote the counts");

    now += 60_000;
    const second = await startControlPlane(config, { logger, now: () => now });
    try {
      const after = await budgets(second.adminUrl);
      assert.deepEqual(after.scopes.map((s) => [s.scope, s.total, s.good]), before.scopes.map((s) => [s.scope, s.total, s.good]));
    } finally {
      await second.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
