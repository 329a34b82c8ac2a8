import { strict as assert } from "node:assert";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { Registry } from "prom-client";
import { buildAdminApp } from "../control-plane/src/admin/app.js";
import { AuditLog } from "../control-plane/src/audit/audit-log.js";
import { nodeAuditFileSystem, type AuditFileHandle, type AuditFileSystem } from "../control-plane/src/audit/file-system.js";
import { readAudit } from "../control-plane/src/audit/reader.js";
import type { AuditRecord } from "../control-plane/src/audit/records.js";
import { ControlPlane } from "../control-plane/src/service.js";
import { createLogger } from "../lib/log.js";

const logger = createLogger("test", "silent");
const TOKEN = "audit-test-token";
const auth = { authorization: `Bearer ${TOKEN}` };
const clusters = [
  { name: "llm-a", baseWeight: 50 },
  { name: "llm-b", baseWeight: 50 },
];
const slo = { latencyMs: 2000, successRate: 0.99 };

/** node:fs, except that syncs can be held pending (released by the test) or made to fail. */
class HeldSyncFs implements AuditFileSystem {
  hold = false;
  failNext: Error | undefined;
  /** Fail the sync after this many more succeed. */
  failAfter: number | undefined;
  syncs = 0;
  private held: (() => void)[] = [];

  get pending(): number {
    return this.held.length;
  }

  release(): void {
    for (const go of this.held.splice(0)) go();
  }

  mkdir(dir: string): Promise<void> {
    return nodeAuditFileSystem.mkdir(dir);
  }

  syncDir(dir: string): Promise<void> {
    return nodeAuditFileSystem.syncDir(dir);
  }

  async openAppend(path: string): Promise<AuditFileHandle> {
    const inner = await nodeAuditFileSystem.openAppend(path);
    return {
      size: () => inner.size(),
      write: (text) => inner.write(text),
      close: () => inner.close(),
      datasync: async () => {
        this.syncs++;
        if (this.failAfter !== undefined && this.failAfter-- === 0) {
          this.failAfter = undefined;
          throw Object.assign(new Error("EIO: i/o error, fdatasync"), { code: "EIO" });
        }
        if (this.failNext !== undefined) {
          const err = this.failNext;
          this.failNext = undefined;
          throw err;
        }
        if (this.hold) await new Promise<void>((resolve) => this.held.push(resolve));
        await inner.datasync();
      },
    };
  }
}

async function setup(t: { after(fn: () => Promise<void>): void }) {
  const dir = await mkdtemp(join(tmpdir(), "autoglm-audit-ack-"));
  const fs = new HeldSyncFs();
  const audit = await AuditLog.open({ dir, fs, logger });
  const cp = new ControlPlane({ clusters, slo, audit, logger });
  const app = await buildAdminApp({
    controlPlane: cp,
    model: { status: () => ({ mode: "rules-only" }), reload: async () => ({ mode: "rules-only" }) },
    readiness: { grpcListening: () => true, audit: () => audit.health() },
    registry: new Registry(),
    token: TOKEN,
    logger,
    now: Date.now,
  });
  t.after(async () => {
    fs.hold = false;
    fs.release();
    await app.close();
    await cp.stop();
    await audit.close();
    await rm(dir, { recursive: true, force: true });
  });
  return { dir, fs, audit, cp, app };
}

async function until(what: string, condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function records(dir: string, type: AuditRecord["kind"]): Promise<AuditRecord[]> {
  const out: AuditRecord[] = [];
  for await (const r of readAudit(dir, { kinds: [type] })) out.push(r);
  return out;
}

const mutations = [
  { name: "an override", url: "/v1/clusters/llm-a/override", payload: { state: "open", reason: "drill" }, type: "override" },
  { name: "a halt", url: "/v1/halt", payload: { reason: "incident" }, type: "halt" },
] as const;

for (const m of mutations) {
  test(`${m.name} answers 200 only after its audit record is synced`, async (t) => {
    const { dir, fs, app } = await setup(t);
    await new Promise((r) => setTimeout(r, 50));
    fs.hold = true;
    let answered = false;
    const response = app.inject({ method: "POST", url: m.url, headers: auth, payload: m.payload }).then((r) => {
      answered = true;
      return r;
    });
    await until("the record's sync to start", () => fs.pending > 0);
    // Held for a while: no answer may come while the sync is pending.
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(answered, false, "answered before the audit record was synced");
    fs.hold = false;
    fs.release();
    const res = await response;
    assert.equal(res.statusCode, 200, res.body);
    assert.equal((await records(dir, m.type)).length, 1, "the acknowledged record is in the log");
  });
}

test("a failed sync answers 503, the override is not in effect, and the next one is recorded in a fresh file", async (t) => {
  const { dir, fs, app, cp, audit } = await setup(t);
  // Everything written at start is synced before a sync is made to fail (on a loaded machine
  // 50 ms is not always enough, and the failure then lands on another record).
  await new Promise((r) => setTimeout(r, 50));
  await audit.flush();
  fs.failNext = Object.assign(new Error("EIO: i/o error, fdatasync"), { code: "EIO" });
  const failed = await app.inject({ method: "POST", url: "/v1/clusters/llm-a/override", headers: auth, payload: { state: "open", reason: "lost" } });
  assert.equal(failed.statusCode, 503, failed.body);
  const body = failed.json() as { code: string; message: string };
  assert.equal(body.code, "AUTOGLM_ERR_AUDIT_UNAVAILABLE");
  assert.match(body.message, /EIO/);
  assert.match(body.message, /override was not applied/);
  assert.deepEqual(cp.overrides(), [], "no override in effect that was not recorded");
  assert.equal(cp.currentDecisions().clusters.find((c) => c.cluster === "llm-a")!.state, "closed");
  assert.equal(audit.health().writeFailures, 1);

  const ok = await app.inject({ method: "POST", url: "/v1/clusters/llm-b/override", headers: auth, payload: { state: "open", reason: "kept" } });
  assert.equal(ok.statusCode, 200, ok.body);
  const ready = (await app.inject({ method: "GET", url: "/readyz" })).json() as { ready: boolean; audit: { write_failures: number; last_write_error: string } };
  assert.equal(ready.ready, true);
  assert.equal(ready.audit.write_failures, 1);
  assert.match(ready.audit.last_write_error, /EIO/);

  await cp.stop();
  await audit.close();
  const again = await AuditLog.open({ dir, logger });
  t.after(() => again.close());
  assert.deepEqual(again.restored?.overrides.map((o) => [o.cluster, o.reason]), [["llm-b", "kept"]]);
});

test("a failed sync of the resulting decision set answers 503 saying the override is recorded and in effect", async (t) => {
  const { dir, fs, app, cp, audit } = await setup(t);
  // Everything written at start is synced before a sync is made to fail (on a loaded machine
  // 50 ms is not always enough, and the failure then lands on another record).
  await new Promise((r) => setTimeout(r, 50));
  await audit.flush();
  fs.failAfter = 1; // the override's sync passes, the decision set's fails
  const res = await app.inject({ method: "POST", url: "/v1/clusters/llm-a/override", headers: auth, payload: { state: "open", reason: "kept" } });
  assert.equal(res.statusCode, 503, res.body);
  assert.match((res.json() as { message: string }).message, /override is recorded and in effect, but decision set version \d+ is not recorded/);
  assert.deepEqual(cp.overrides().map((o) => o.cluster), ["llm-a"]);
  await cp.stop();
  await audit.close();
  const again = await AuditLog.open({ dir, logger });
  t.after(() => again.close());
  assert.deepEqual(again.restored?.overrides.map((o) => o.reason), ["kept"]);
});

test("a burst of concurrent overrides is group-committed: far fewer syncs than calls, all answered 200", async (t) => {
  const { dir, fs, app, cp } = await setup(t);
  await new Promise((r) => setTimeout(r, 50));
  const calls = 40;
  fs.hold = true;
  const before = fs.syncs;
  const answers = Array.from({ length: calls }, (_, i) =>
    app.inject({ method: "POST", url: `/v1/clusters/llm-${i % 2 === 0 ? "a" : "b"}/override`, headers: auth, payload: { state: i % 4 < 2 ? "open" : "closed", reason: `burst-${i}` } }),
  );
  await until("the first sync to start", () => fs.pending > 0);
  fs.hold = false;
  fs.release();
  const results = await Promise.all(answers);
  for (const r of results) assert.equal(r.statusCode, 200, r.body);
  const syncs = fs.syncs - before;
  assert.ok(syncs <= calls / 4, `${syncs} syncs for ${calls} calls`);
  const reasons = new Set((await records(dir, "override")).map((r) => (r.kind === "override" ? r.override.reason : "")));
  for (let i = 0; i < calls; i++) assert.ok(reasons.has(`burst-${i}`), `burst-${i} recorded`);
  // Every acknowledged version is durable: the highest one answered is the restored one.
  const highest = Math.max(...results.map((r) => (r.json() as { decisions: { version: number } }).decisions.version));
  const restored = await AuditLog.open({ dir: join(dir), logger });
  t.after(() => restored.close());
  assert.ok((restored.restored?.decisions?.version ?? 0) >= highest, `restored ${restored.restored?.decisions?.version} < acknowledged ${highest}`);
  assert.equal(cp.currentDecisions().version, highest);
});
