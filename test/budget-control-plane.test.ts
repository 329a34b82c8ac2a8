// Error budgets fed by a real ControlPlane: the windows a decision round closes reach the
// monitor (the `windows` event), with each cluster's failures as bad events and the mesh as
// their sum; virtual time throughout.
import { test } from "node:test";
import assert from "node:assert/strict";
import { setImmediate as tick } from "node:timers/promises";
import { ControlPlane } from "../control-plane/src/service.js";
import { ErrorBudgetMonitor } from "../control-plane/src/error-budget/monitor.js";
import { DEFAULT_BURN_ALERTS } from "../control-plane/src/config/error-budgets.js";
import type { Alert } from "../control-plane/src/alerts/types.js";
import type { ClusterWindowStats } from "../control-plane/src/core/types.js";
import { createLogger } from "../lib/log.js";
import { connectWorker } from "./support/in-process-sidecar.js";

test("windows closed by decision rounds spend the error budget of their cluster and of the mesh", async () => {
  let now = 1_700_006_400_000;
  const logger = createLogger("budget-test", "silent");
  const cp = new ControlPlane({ clusters: [{ name: "a", baseWeight: 1 }, { name: "b", baseWeight: 1 }], slo: { latencyMs: 2000, successRate: 0.99 }, now: () => now, random: () => 0.5, logger });
  const alerts: Alert[] = [];
  const monitor = new ErrorBudgetMonitor({
    settings: { objective: 0.99, clusterObjectives: new Map(), periodMs: 30 * 86_400_000, alerts: DEFAULT_BURN_ALERTS, countLocalRejects: true, persistIntervalMs: 300_000 },
    clusters: ["a", "b"],
    now: () => now,
    notify: (a) => alerts.push(a),
    logger,
  });
  const closed: ClusterWindowStats[][] = [];
  cp.on("windows", (w) => closed.push(...w));
  const unbind = monitor.bind(cp);
  const worker = connectWorker(cp, { nodeId: "n1", clusters: ["a", "b"], answer: "ack" });
  try {
    await tick();
    for (let i = 0; i < 20; i++) {
      worker.report(now - 1000, { a: { requests: 100, errors5xx: 30 }, b: { requests: 100 } });
      await tick();
      now += 1000;
      await cp.decide();
    }
    assert.ok(closed.length >= 15, `${closed.length} windows closed`);
    const counted = closed.flat().filter((s) => s.cluster === "a").reduce((n, s) => n + s.requests, 0);
    const byScope = new Map(monitor.statuses().map((s) => [s.scope, s]));
    assert.equal(byScope.get("a")!.total, counted);
    assert.equal(byScope.get("a")!.good, counted * 0.7);
    assert.equal(byScope.get("mesh")!.total, 2 * counted);
    assert.equal(byScope.get("b")!.remaining, 1);
    // 30 % failures against 1 % allowed: a's budget is overspent 29 times, and it burns at 30x.
    assert.ok(Math.abs(byScope.get("a")!.remaining - -29) < 1e-9);
    assert.deepEqual(alerts.filter((a) => a.cluster === "a").map((a) => a.kind), ["error_budget_fast_burn", "error_budget_slow_burn"]);
  } finally {
    unbind();
    worker.close();
    await cp.stop();
  }
});
