// The admin API's rollback routes over a real control plane and audit log (virtual clock, no
// sockets): POST /v1/decisions/rollback pins an earlier version (200), and answers each refusal
// with its status and code; GET shows the pin; DELETE releases it (409 when none).
import { strict as assert } from "node:assert";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { AuditLog } from "../control-plane/src/audit/audit-log.js";
import { auditDecisionHistory } from "../control-plane/src/audit/decision-history.js";
import { ControlPlane } from "../control-plane/src/service.js";
import { createLogger } from "../lib/log.js";
import { ADMIN_AUTH as auth, adminAppOver, twoLlmClusters } from "./support/admin-app.js";

const NOW = 1_800_000_000_000;
const logger = createLogger("admin-test", "silent");
const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function setup(history = true) {
  const dir = await mkdtemp(join(tmpdir(), "autoglm-admin-rollback-"));
  dirs.push(dir);
  const audit = await AuditLog.open({ dir, fsync: false, now: () => NOW, logger });
  const cp = new ControlPlane({
    ...twoLlmClusters(),
    now: () => NOW,
    logger,
    audit,
    ...(history ? { decisionHistory: auditDecisionHistory(dir) } : {}),
  });
  const app = await adminAppOver(cp, () => NOW, logger);
  const v1 = cp.currentDecisions().version;
  const v2 = (await cp.setOverride({ cluster: "llm-a", state: "open", reason: "maintenance", actor: "alice" })).version;
  const close = async () => {
    await app.close();
    await cp.stop();
    await audit.close();
  };
  return { app, cp, v1, v2, close };
}

test("POST /v1/decisions/rollback pins an earlier version as a new one; GET shows it; DELETE releases it", async () => {
  const { app, v1, v2, close } = await setup();
  const res = await app.inject({ method: "POST", url: "/v1/decisions/rollback", headers: auth, payload: { version: v1, ttl_s: 600, reason: "the override misroutes" } });
  assert.equal(res.statusCode, 200, res.body);
  const body = res.json() as { rollback: Record<string, unknown>; decisions: { version: number; clusters: { cluster: string; state: string; reason: string }[] } };
  assert.ok(body.decisions.version > v2);
  assert.deepEqual(body.decisions.clusters.find((c) => c.cluster === "llm-a")?.state, "open", "the override in force still decides its cluster");
  assert.match(body.decisions.clusters.find((c) => c.cluster === "llm-b")!.reason, /^rollback to version \d+ by admin@127.0.0.1: the override misroutes$/);
  assert.deepEqual([body.rollback.from_version, body.rollback.until_ms, body.rollback.actor], [v1, NOW + 600_000, "admin@127.0.0.1"]);

  const shown = await app.inject({ method: "GET", url: "/v1/decisions/rollback", headers: auth });
  assert.deepEqual((shown.json() as { rollback: { from_version: number } }).rollback.from_version, v1);

  const released = await app.inject({ method: "DELETE", url: "/v1/decisions/rollback", headers: auth, payload: { reason: "fixed" } });
  assert.equal(released.statusCode, 200, released.body);
  assert.equal((await app.inject({ method: "GET", url: "/v1/decisions/rollback", headers: auth })).json().rollback, null);
  const again = await app.inject({ method: "DELETE", url: "/v1/decisions/rollback", headers: auth, payload: { reason: "fixed" } });
  assert.deepEqual([again.statusCode, again.json().code, again.json().message], [409, "AUTOGLM_ERR_CONFLICT", "no rollback is in force"]);
  await close();
});

test("POST /v1/decisions/rollback answers each refusal with its status, code and a message naming the problem", async () => {
  const { app, v2, close } = await setup();
  const cases: [name: string, payload: unknown, status: number, code: string, message: RegExp][] = [
    ["a version never issued", { version: v2 + 5, reason: "r" }, 404, "AUTOGLM_ERR_VERSION_UNKNOWN", new RegExp(`version ${v2 + 5} was never issued`)],
    ["a version older than the log retains", { version: 3, reason: "r" }, 410, "AUTOGLM_ERR_VERSION_NOT_RETAINED", /version 3 is older than the oldest decision set the audit log retains/],
    ["the version in force", { version: v2, reason: "r" }, 409, "AUTOGLM_ERR_CONFLICT", /is the set in force/],
    ["a ttl of 0", { version: v2 - 1, ttl_s: 0, reason: "r" }, 400, "AUTOGLM_ERR_BAD_REQUEST", /ttl_s/],
    ["a fractional ttl", { version: v2 - 1, ttl_s: 1.5, reason: "r" }, 400, "AUTOGLM_ERR_BAD_REQUEST", /ttl_s/],
    ["a ttl over a week", { version: v2 - 1, ttl_s: 604_801, reason: "r" }, 400, "AUTOGLM_ERR_BAD_REQUEST", /ttl_s/],
    ["a ttl as text", { version: v2 - 1, ttl_s: "10", reason: "r" }, 400, "AUTOGLM_ERR_BAD_REQUEST", /ttl_s/],
    ["no reason", { version: v2 - 1 }, 400, "AUTOGLM_ERR_BAD_REQUEST", /reason/],
    ["no version", { reason: "r" }, 400, "AUTOGLM_ERR_BAD_REQUEST", /version/],
    ["an unknown field", { version: v2 - 1, reason: "r", until: 5 }, 400, "AUTOGLM_ERR_BAD_REQUEST", /until/],
  ];
  for (const [name, payload, status, code, message] of cases) {
    const res = await app.inject({ method: "POST", url: "/v1/decisions/rollback", headers: auth, payload: payload as Record<string, unknown> });
    assert.equal(res.statusCode, status, `${name}: ${res.body}`);
    assert.equal(res.json().code, code, name);
    assert.match(res.json().message, message, name);
  }
  const anonymous = await app.inject({ method: "POST", url: "/v1/decisions/rollback", payload: { version: v2 - 1, reason: "r" } });
  assert.equal(anonymous.statusCode, 401);
  await close();
});

test("POST /v1/decisions/rollback answers 503 without an audit log to search", async () => {
  const { app, v1, close } = await setup(false);
  const res = await app.inject({ method: "POST", url: "/v1/decisions/rollback", headers: auth, payload: { version: v1, reason: "r" } });
  assert.deepEqual([res.statusCode, res.json().code], [503, "AUTOGLM_ERR_ROLLBACK_UNAVAILABLE"]);
  assert.match(res.json().message, /audit\.dir/);
  await close();
});
