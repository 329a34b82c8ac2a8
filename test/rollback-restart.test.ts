// Rollback wired in the running control plane (startControlPlane, real sockets, virtual clock):
// with audit.dir the admin API rolls back to an earlier version found in the audit files, /metrics
// says a rollback is pinned, and a control plane started again on the same directory serves the
// pinned decisions and still shows the pin; without audit.dir the route answers 503.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { validateConfig } from "../control-plane/src/config/index.js";
import { startControlPlane } from "../control-plane/src/server.js";
import { createLogger } from "../lib/log.js";

const TOKEN = "rollback-admin-token-0123456789";
const headers = { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" };
const logger = createLogger("rollback-test", "silent");

async function call(url: string, method: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(url, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

test("a rollback made through the running control plane's admin API survives its restart", async () => {
  const dir = await mkdtemp(join(tmpdir(), "autoglm-rollback-restart-"));
  let now = 1_700_000_000_000;
  const config = validateConfig({ grpc: { port: 0 }, admin: { port: 0, token: TOKEN }, clusters: [{ name: "llm-a" }, { name: "llm-b" }], audit: { dir } });
  try {
    const first = await startControlPlane(config, { logger, now: () => now });
    let pinned: { version: number; clusters: unknown[] };
    let from: number;
    try {
      from = first.controlPlane.currentDecisions().version;
      const override = await call(`${first.adminUrl}/v1/clusters/llm-a/override`, "POST", { state: "open", reason: "maintenance" });
      assert.equal(override.status, 200);
      await call(`${first.adminUrl}/v1/clusters/llm-a/override`, "POST", { state: "auto", reason: "done" });
      now += 1000;
      const rolled = await call(`${first.adminUrl}/v1/decisions/rollback`, "POST", { version: from, ttl_s: 3600, reason: "back to the start" });
      assert.equal(rolled.status, 200, JSON.stringify(rolled.json));
      pinned = rolled.json.decisions as { version: number; clusters: unknown[] };
      assert.match(await (await fetch(`${first.adminUrl}/metrics`, { headers })).text(), /^autoglm_decisions_rolled_back 1$/m);
    } finally {
      await first.close();
    }
    now += 5000;
    const second = await startControlPlane(config, { logger, now: () => now });
    try {
      const shown = await call(`${second.adminUrl}/v1/decisions/rollback`, "GET");
      assert.equal((shown.json.rollback as { from_version: number }).from_version, from);
      const decisions = await call(`${second.adminUrl}/v1/decisions`, "GET");
      assert.deepEqual([decisions.json.version, decisions.json.clusters], [pinned.version, pinned.clusters]);
    } finally {
      await second.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("without audit.dir the running control plane answers a rollback with 503 naming audit.dir", async () => {
  const config = validateConfig({ grpc: { port: 0 }, admin: { port: 0, token: TOKEN }, clusters: [{ name: "llm-a" }, { name: "llm-b" }] });
  const cp = await startControlPlane(config, { logger });
  try {
    const res = await call(`${cp.adminUrl}/v1/decisions/rollback`, "POST", { version: 1, reason: "r" });
    assert.equal(res.status, 503);
    assert.equal(res.json.code, "AUTOGLM_ERR_ROLLBACK_UNAVAILABLE");
    assert.match(String(res.json.message), /audit\.dir/);
  } finally {
    await cp.close();
  }
});
