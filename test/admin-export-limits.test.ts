// Limits of the audit export (GET /v1/audit): a pure token bucket of bytes, a limiter of
// concurrent exports (all clients, and per client), a throttled stream on an injected clock
// (sleeping advances virtual time: no timed assertions), and the route's 429 with Retry-After
// naming the limit, plus the export metrics.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Registry } from "prom-client";
import { buildAdminApp } from "../control-plane/src/admin/app.js";
import { FakeControlPlane } from "../control-plane/src/admin/fake-control-plane.js";
import { ExportLimiter } from "../control-plane/src/admin/export-limiter.js";
import { throttledChunks } from "../control-plane/src/admin/throttled-export.js";
import { fullBucket, take, type BucketRate } from "../control-plane/src/admin/token-bucket.js";
import type { AuditRecord } from "../control-plane/src/audit/records.js";
import type { ExportLimits } from "../control-plane/src/config/export-limits.js";
import { ExportMetrics } from "../control-plane/src/metrics/export-metrics.js";
import { createLogger } from "../lib/log.js";

const RATE: BucketRate = { ratePerS: 1000, capacity: 500 };

test("a token bucket lets a burst through, then makes the sender wait for the rate", () => {
  // Steps on one bucket: [at ms, bytes taken, expected wait ms].
  const steps: [number, number, number][] = [
    [0, 500, 0], // the burst
    [0, 100, 100], // in debt by 100 bytes: 100 ms at 1000 B/s
    [100, 0, 0], // paid back
    [100, 2000, 2000], // larger than the capacity: goes, 2 s of debt
    [1100, 0, 1000], // half of it paid
    [5000, 0, 0], // refilled to the capacity, not beyond
    [5000, 500, 0],
    [5000, 1, 1],
    [4000, 0, 1], // a clock going back refills nothing
  ];
  let bucket = fullBucket(RATE, 0);
  for (const [at, bytes, wait] of steps) {
    const step = take(bucket, RATE, bytes, at);
    assert.equal(step.waitMs, wait, `take ${bytes} at ${at} ms`);
    bucket = step.bucket;
  }
});

const LIMITS: ExportLimits = { maxConcurrent: 3, maxConcurrentPerClient: 2, bytesPerSecond: 1000, burstBytes: 500, retryAfterS: 7 };

test("the limiter admits exports up to each concurrency limit and names the one that refuses", () => {
  const limiter = new ExportLimiter(LIMITS);
  const cases: [string, string | true][] = [
    ["a", true],
    ["a", true],
    ["a", "max_concurrent_per_client"], // a third from the same client
    ["b", true],
    ["c", "max_concurrent"], // three running in all
  ];
  const leases = [];
  for (const [client, expected] of cases) {
    const admission = limiter.admit(client, 0);
    if (expected === true) {
      assert.ok(admission.ok, `${client} admitted`);
      leases.push(admission.lease);
    } else {
      assert.ok(!admission.ok);
      assert.equal(admission.limit, expected);
      assert.equal(admission.retryAfterS, 7);
      assert.match(admission.detail, new RegExp(`admin\\.export\\.${expected} allows`));
    }
  }
  leases[0]!.release();
  leases[0]!.release(); // idempotent: frees one slot, not two
  assert.equal(limiter.active, 2);
  assert.ok(limiter.admit("c", 0).ok, "a slot freed");
  assert.ok(!limiter.admit("d", 0).ok, "and only one");
});

test("a client's exports share its byte rate; other clients have their own; idle full buckets are forgotten", () => {
  const limiter = new ExportLimiter(LIMITS);
  const a1 = limiter.admit("a", 0);
  const a2 = limiter.admit("a", 0);
  const b = limiter.admit("b", 0);
  assert.ok(a1.ok && a2.ok && b.ok);
  assert.equal(a1.lease.take(500, 0), 0);
  assert.equal(a2.lease.take(500, 0), 500, "the second export of a waits: the burst is spent");
  assert.equal(b.lease.take(500, 0), 0, "b has its own bucket");
  for (const l of [a1.lease, a2.lease, b.lease]) l.release();
  assert.equal(limiter.clientsHeld, 2);
  limiter.admit("c", 10_000).ok || assert.fail("admitted");
  assert.equal(limiter.clientsHeld, 1, "a and b, idle with full buckets, were forgotten");
});

test("a throttled export paces its chunks on the injected clock and reports how it ended", async () => {
  const cases: { name: string; chunks: number; fail?: boolean; stopAfter?: number; outcome: string; durationMs: number; bytes: number }[] = [
    // 4 chunks of 250 B at 1000 B/s with a 500 B burst: 2 go at once, then 250 ms each.
    { name: "done", chunks: 4, outcome: "done", durationMs: 500, bytes: 1000 },
    { name: "failed midway", chunks: 4, fail: true, outcome: "failed", durationMs: 500, bytes: 1000 },
    { name: "the client went away", chunks: 4, stopAfter: 3, outcome: "aborted", durationMs: 250, bytes: 750 },
  ];
  for (const c of cases) {
    let now = 0;
    const limiter = new ExportLimiter(LIMITS);
    const admission = limiter.admit("a", now);
    assert.ok(admission.ok);
    async function* source(): AsyncGenerator<string> {
      for (let i = 0; i < c.chunks; i++) yield "x".repeat(250);
      if (c.fail === true) throw new Error("disk gone");
    }
    const sent: number[] = [];
    const ended: [string, number, number][] = [];
    const chunks = throttledChunks(source(), admission.lease, {
      now: () => now,
      sleep: async (ms) => void (now += ms),
      onChunk: () => sent.push(now),
      onEnd: (outcome, durationMs, bytes) => ended.push([outcome, durationMs, bytes]),
    });
    try {
      let n = 0;
      for await (const _ of chunks) if (++n === c.stopAfter) break;
    } catch (error) {
      assert.equal((error as Error).message, "disk gone", c.name);
    }
    assert.deepEqual(sent, [0, 0, 250, 500].slice(0, c.stopAfter ?? c.chunks), `${c.name}: send times`);
    assert.deepEqual(ended, [[c.outcome, c.durationMs, c.bytes]], c.name);
    assert.equal(limiter.active, 0, `${c.name}: the lease is released`);
  }
});

/** `gate`: the audit source waits for it before its last record (an export held open). */
async function appWith(limits: ExportLimits, records: number, gate: Promise<void> = Promise.resolve()) {
  const registry = new Registry();
  const metrics = new ExportMetrics(registry);
  let now = 1_700_000_000_000;
  const app = await buildAdminApp({
    controlPlane: new FakeControlPlane([{ name: "llm-a", baseWeight: 1 }]),
    model: { status: () => ({ mode: "rules-only" }), reload: async () => ({ mode: "rules-only" }) },
    readiness: { grpcListening: () => true },
    audit: {
      async *read() {
        for (let i = 0; i < records; i++) {
          if (i === records - 1) await gate;
          yield { kind: "halt", atMs: 1_700_000_000_000 + i, reason: "r".repeat(100), actor: "op" } satisfies AuditRecord;
        }
      },
    },
    registry,
    token: "t",
    logger: createLogger("admin-test", "silent"),
    now: () => now,
    exportLimits: { limiter: new ExportLimiter(limits), metrics, sleep: async (ms) => void (now += ms) },
  });
  return { app, registry, limits };
}

test("GET /v1/audit beyond a concurrency limit answers 429 with Retry-After, naming the limit", async () => {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const { app, registry } = await appWith({ ...LIMITS, maxConcurrent: 1, maxConcurrentPerClient: 1 }, 1000, gate);
  try {
    // An export held open (its source waits on the gate): the limiter counts it until it ends.
    const first = await app.inject({ method: "GET", url: "/v1/audit", headers: { authorization: "Bearer t" }, payloadAsStream: true });
    assert.equal(first.statusCode, 200);
    const refused = await app.inject({ method: "GET", url: "/v1/audit", headers: { authorization: "Bearer t" } });
    assert.equal(refused.statusCode, 429);
    assert.equal(refused.headers["retry-after"], "7");
    const body = refused.json() as { code: string; message: string };
    assert.equal(body.code, "AUTOGLM_ERR_EXPORT_LIMITED");
    assert.match(body.message, /^audit export refused, limit admin\.export\.max_concurrent: 1 audit exports running, the most admin\.export\.max_concurrent allows \(1\); retry after 7 s$/);
    // Reading the first export to its end frees the slot.
    open();
    let text = "";
    for await (const chunk of first.stream()) text += chunk;
    assert.equal(text.trim().split("\n").length, 1000);
    const again = await app.inject({ method: "GET", url: "/v1/audit", headers: { authorization: "Bearer t" } });
    assert.equal(again.statusCode, 200);
    const metrics = await registry.metrics();
    assert.match(metrics, /^autoglm_audit_exports_refused_total\{limit="max_concurrent"\} 1$/m);
    assert.match(metrics, /^autoglm_audit_exports_active 0$/m);
    assert.match(metrics, /^autoglm_audit_export_duration_seconds_count\{outcome="done"\} 2$/m);
    const bytes = Number(/^autoglm_audit_export_bytes_total (\d+)$/m.exec(metrics)![1]);
    assert.equal(bytes, Buffer.byteLength(text) + Buffer.byteLength(again.body));
  } finally {
    await app.close();
  }
});

test("GET /v1/audit is paced at bytes_per_second per client (virtual time)", async () => {
  // 2000 records of about 160 bytes: several 64 KiB chunks at 64 KiB/s after a 64 KiB burst.
  const { app, registry } = await appWith({ ...LIMITS, bytesPerSecond: 65_536, burstBytes: 65_536 }, 2000);
  try {
    const res = await app.inject({ method: "GET", url: "/v1/audit", headers: { authorization: "Bearer t" } });
    assert.equal(res.statusCode, 200);
    const size = Buffer.byteLength(res.body);
    const metrics = await registry.metrics();
    const seconds = Number(/^autoglm_audit_export_duration_seconds_sum\{outcome="done"\} ([\d.]+)$/m.exec(metrics)![1]);
    // Virtual time slept: everything past the burst at the rate (to a chunk's precision).
    const expected = (size - 65_536) / 65_536;
    assert.ok(Math.abs(seconds - expected) < 65_536 / 65_536, `slept ${seconds} s for ${size} bytes, expected about ${expected} s`);
    assert.ok(seconds > 2, `several seconds of virtual time for ${size} bytes: ${seconds}`);
  } finally {
    await app.close();
  }
});
