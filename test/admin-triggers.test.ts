// The admin API's trigger routes over a real control plane (virtual clock, no sockets):
// GET /v1/triggers lists each rule with its state and the values that fired it;
// POST /v1/triggers/{name}/clear clears a fired one (admin token), 404 for an unknown name,
// 409 for one that has not fired.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { TriggerRule } from "../control-plane/src/core/triggers/index.js";
import { ControlPlane } from "../control-plane/src/service.js";
import { createLogger } from "../lib/log.js";
import { ADMIN_AUTH as auth, adminAppOver, twoLlmClusters } from "./support/admin-app.js";
import { restoredStore } from "./support/restored-store.js";
import { p99Rule } from "./support/trigger-rules.js";

const NOW = 1_800_000_000_000;
const logger = createLogger("admin-test", "silent");

const RULES: TriggerRule[] = [
  p99Rule({ name: "mesh-p99", scope: "mesh", forMs: 30_000, clear: "manual", clearAfterMs: 30_000 }),
  { name: "a-cpu", condition: { metric: "cpu_utilization", scope: "llm-a", above: 0.95, statistic: "max" }, forMs: 10_000, action: { kind: "shed", fraction: 0.5, cluster: "llm-a" }, clear: "auto", clearAfterMs: 20_000 },
  { name: "abuse", condition: { metric: "error_rate", scope: "mesh", above: 0.3, statistic: "mean" }, forMs: 10_000, action: { kind: "limit_source", deny: false, capPerS: 50, ttlMs: 600_000 }, clear: "auto", clearAfterMs: 10_000 },
  { name: "ban", condition: { metric: "error_rate", scope: "mesh", above: 0.5, statistic: "mean" }, forMs: 10_000, action: { kind: "limit_source", source: "10.0.0.7", deny: true, ttlMs: 60_000 }, clear: "auto", clearAfterMs: 10_000 },
];
const FIRED = { value: 6200, peak: 7100, threshold: 5000, heldMs: 30_000, reason: "trigger mesh-p99: p99_ms of the mesh 6200 > 5000 for 30 s" };

async function setup() {
  const cp = new ControlPlane({
    ...twoLlmClusters(),
    now: () => NOW,
    logger,
    triggers: RULES,
    audit: restoredStore({ overrides: [], triggers: [{ name: "mesh-p99", since: NOW - 40_000, firedAtMs: NOW - 9000, fired: FIRED }] }),
  });
  return { cp, app: await adminAppOver(cp, () => NOW, logger) };
}

test("GET /v1/triggers lists every rule, its state, and the values that fired it", async () => {
  const { app } = await setup();
  const res = await app.inject({ method: "GET", url: "/v1/triggers", headers: auth });
  assert.equal(res.statusCode, 200);
  const { triggers } = res.json() as { triggers: Record<string, unknown>[] };
  assert.deepEqual(triggers.map((t) => [t.name, t.state]), [["mesh-p99", "fired"], ["a-cpu", "idle"], ["abuse", "idle"], ["ban", "idle"]]);
  assert.deepEqual(triggers[0], {
    name: "mesh-p99", metric: "p99_ms", scope: "mesh", above: 5000, statistic: "mean", for_ms: 30_000,
    action: { kind: "halt" }, clear: "manual", clear_after_ms: 30_000, state: "fired", since_ms: NOW - 40_000, fired_at_ms: NOW - 9000,
    fired: { value: 6200, peak: 7100, threshold: 5000, held_ms: 30_000, reason: FIRED.reason },
    last_value: null, last_window_start_ms: null,
  });
  assert.deepEqual(triggers[1]!.action, { kind: "shed", fraction: 0.5, cluster: "llm-a" });
  // A source limit's action, snake_case with its TTL in seconds (the configuration's spelling).
  assert.deepEqual(triggers[2]!.action, { kind: "limit_source", deny: false, cap_per_s: 50, ttl_s: 600 });
  assert.deepEqual(triggers[3]!.action, { kind: "limit_source", source: "10.0.0.7", deny: true, ttl_s: 60 });
  await app.close();
});

test("POST /v1/triggers/{name}/clear lifts a trigger's halt and answers with the new decision set", async () => {
  const { app, cp } = await setup();
  assert.equal(cp.currentDecisions().halted, true);
  const res = await app.inject({ method: "POST", url: "/v1/triggers/mesh-p99/clear", headers: auth, payload: { reason: "root cause fixed" } });
  assert.equal(res.statusCode, 200);
  const body = res.json() as { trigger: { state: string }; decisions: { halted: boolean; version: number } };
  assert.equal(body.trigger.state, "idle");
  assert.equal(body.decisions.halted, false);
  assert.equal(cp.currentDecisions().halted, false);
  await app.close();
});

const refusals: [string, string, Record<string, string>, object, number, string][] = [
  ["an unknown trigger", "/v1/triggers/nope/clear", auth, { reason: "x" }, 404, "AUTOGLM_ERR_TRIGGER_UNKNOWN"],
  ["a trigger that has not fired", "/v1/triggers/a-cpu/clear", auth, { reason: "x" }, 409, "AUTOGLM_ERR_CONFLICT"],
  ["a clear without a reason", "/v1/triggers/mesh-p99/clear", auth, {}, 400, "AUTOGLM_ERR_BAD_REQUEST"],
  ["a clear without the admin token", "/v1/triggers/mesh-p99/clear", {}, { reason: "x" }, 401, "AUTOGLM_ERR_UNAUTHORIZED"],
];
for (const [name, url, headers, payload, status, code] of refusals) {
  test(`clearing ${name} answers ${status} ${code}`, async () => {
    const { app, cp } = await setup();
    const res = await app.inject({ method: "POST", url, headers, payload });
    assert.equal(res.statusCode, status);
    assert.equal((res.json() as { code: string }).code, code);
    assert.equal(cp.currentDecisions().halted, true, "nothing changed");
    await app.close();
  });
}
