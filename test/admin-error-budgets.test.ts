// GET /v1/error-budgets: each scope's budget in snake_case (seconds, ratios), burn alerts with
// their windows and state, and enabled: false without an error_budgets section.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Registry } from "prom-client";
import { buildAdminApp } from "../control-plane/src/admin/app.js";
import type { AdminDeps } from "../control-plane/src/admin/deps.js";
import { FakeControlPlane } from "../control-plane/src/admin/fake-control-plane.js";
import { DEFAULT_BURN_ALERTS } from "../control-plane/src/config/error-budgets.js";
import { ErrorBudgetTracker } from "../control-plane/src/core/error-budget/index.js";
import { createLogger } from "../lib/log.js";

const T0 = 1_700_006_400_000;

async function app(errorBudgets?: AdminDeps["errorBudgets"]) {
  return buildAdminApp({
    controlPlane: new FakeControlPlane([{ name: "llm-a", baseWeight: 1 }]),
    model: { status: () => ({ mode: "rules-only" }), reload: async () => ({ mode: "rules-only" }) },
    readiness: { grpcListening: () => true },
    registry: new Registry(),
    token: "t",
    readToken: "r",
    logger: createLogger("admin-test", "silent"),
    now: () => T0 + 60 * 60_000,
    ...(errorBudgets === undefined ? {} : { errorBudgets }),
  });
}

test("GET /v1/error-budgets shows each scope's budget and burn alerts", async () => {
  const tracker = new ErrorBudgetTracker(
    { objective: 0.99, clusterObjectives: new Map([["llm-a", 0.995]]), periodMs: 30 * 86_400_000, alerts: DEFAULT_BURN_ALERTS, countLocalRejects: true, persistIntervalMs: 300_000 },
    ["llm-a"],
  );
  for (let i = 0; i < 60; i++) tracker.observe([{ scope: "mesh", good: 800, total: 1000 }, { scope: "llm-a", good: 800, total: 1000 }], T0 + i * 60_000);
  const now = T0 + 60 * 60_000;
  tracker.evaluate(now);
  const server = await app({ statuses: () => tracker.statuses(now) });
  try {
    const res = await server.inject({ method: "GET", url: "/v1/error-budgets", headers: { authorization: "Bearer r" } });
    assert.equal(res.statusCode, 200);
    const body = res.json() as { enabled: boolean; at_ms: number; scopes: Record<string, unknown>[] };
    assert.equal(body.enabled, true);
    assert.equal(body.at_ms, now);
    assert.deepEqual(body.scopes.map((s) => [s.scope, s.objective, s.period_s, s.total]), [["mesh", 0.99, 2_592_000, 60_000], ["llm-a", 0.995, 2_592_000, 60_000]]);
    const llmA = body.scopes[1]!;
    assert.ok(Math.abs((llmA.remaining as number) - (1 - 0.2 / 0.005)) < 1e-9);
    // 20 % failures against 0.5 % allowed: a burn rate of 40 over every window; both alerts fire.
    const round = (x: unknown) => Math.round((x as number) * 1e6) / 1e6;
    assert.deepEqual(
      (llmA.alerts as Record<string, unknown>[]).map((a) => ({ ...a, long_burn_rate: round(a.long_burn_rate), short_burn_rate: round(a.short_burn_rate) })),
      [
        { name: "fast_burn", threshold: 14.4, long_burn_rate: 40, short_burn_rate: 40, long_window_s: 3600, short_window_s: 300, firing: true, since_ms: now },
        { name: "slow_burn", threshold: 6, long_burn_rate: 40, short_burn_rate: 40, long_window_s: 21600, short_window_s: 1800, firing: true, since_ms: now },
      ],
    );
  } finally {
    await server.close();
  }
});

test("GET /v1/error-budgets without error budgets configured says so", async () => {
  const server = await app();
  try {
    const res = await server.inject({ method: "GET", url: "/v1/error-budgets", headers: { authorization: "Bearer r" } });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { enabled: false, at_ms: T0 + 60 * 60_000, scopes: [] });
    const anonymous = await server.inject({ method: "GET", url: "/v1/error-budgets" });
    assert.equal(anonymous.statusCode, 401, "a read token is needed, as for the other state routes");
  } finally {
    await server.close();
  }
});
