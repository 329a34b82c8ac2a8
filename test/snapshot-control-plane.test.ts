// Fault snapshots in a running control plane (startControlPlane, the real model, an audit
// directory) on virtual time: a breaker opening, a fired trigger, a halt and an operator's request
// each leave a snapshot beside the audit log, completed once the windows after it closed, listed
// and downloaded through the admin API; no secret of the configuration reaches a file; and a
// snapshot directory that cannot be written is logged and counted while decisions go on.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { validateConfig } from "../control-plane/src/config/index.js";
import { FEATURE_NAMES } from "../control-plane/src/model/index.js";
import { startControlPlane, type RunningControlPlane } from "../control-plane/src/server.js";
import type { Snapshot, SnapshotSummary } from "../control-plane/src/snapshots/index.js";
import { createLogger } from "../lib/log.js";
import { projectRoot } from "../sim/scenario.js";
import { connectWorker, type ClusterTraffic, type InProcessWorker } from "./support/in-process-sidecar.js";

const logger = createLogger("test", "silent");
const T0 = 1_800_000_000_000;
const SECRETS = {
  grpc: "grpc-s3cret-7f1d",
  admin: "admin-s3cret-91ab",
  read: "read-s3cret-44c2",
  hook: "hook-s3cret-e0e0",
} as const;
const admin = { authorization: `Bearer ${SECRETS.admin}` };
const WINDOWS_AFTER = 3;

interface Harness {
  running: RunningControlPlane;
  dir: string;
  workers: InProcessWorker[];
  /** One 1 s window of `traffic` from every worker, then a decision round. */
  window(traffic: Record<string, ClusterTraffic>): Promise<void>;
}

const HEALTHY: Record<string, ClusterTraffic> = { "llm-a": { requests: 40 }, "llm-b": { requests: 40 } };
const A_FAILING: Record<string, ClusterTraffic> = { "llm-a": { requests: 40, errors5xx: 40 }, "llm-b": { requests: 40 } };

async function harness(t: { after(fn: () => Promise<void>): void }, extra: { triggers?: unknown[]; snapshotDir?: (dir: string) => Promise<void> } = {}): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), "autoglm-snapshots-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await extra.snapshotDir?.(dir);
  let now = T0;
  const running = await startControlPlane(
    validateConfig({
      grpc: { port: 0, token: SECRETS.grpc },
      admin: { port: 0, token: SECRETS.admin, read_token: SECRETS.read },
      clusters: [{ name: "llm-a" }, { name: "llm-b" }],
      audit: { dir: join(dir, "audit"), snapshot_windows_after: WINDOWS_AFTER },
      model: { path: join(projectRoot(), "models", "anomaly.onnx") },
      alerts: { channels: { hook: { type: "webhook", url: "http://127.0.0.1:9/hook/{{token}}", token_env: "SNAPSHOT_TEST_HOOK_TOKEN" } } },
      ...(extra.triggers === undefined ? {} : { triggers: extra.triggers }),
    }),
    { logger, now: () => now, env: { SNAPSHOT_TEST_HOOK_TOKEN: SECRETS.hook } },
  );
  t.after(() => running.close());
  const cp = running.controlPlane;
  const workers = ["node-1", "node-2"].map((nodeId) =>
    connectWorker(cp, { nodeId, clusters: ["llm-a", "llm-b"], answer: "ack", metadata: { authorization: `Bearer ${SECRETS.grpc}` } }),
  );
  let index = 0;
  return {
    running,
    dir,
    workers,
    async window(traffic) {
      const start = T0 + index++ * 1000;
      for (const w of workers) w.report(start, traffic);
      now = start + 1100;
      await cp.decide();
    },
  };
}

async function list(h: Harness): Promise<SnapshotSummary[]> {
  const res = await fetch(`${h.running.adminUrl}/v1/snapshots`, { headers: { authorization: `Bearer ${SECRETS.read}` } });
  assert.equal(res.status, 200, await res.clone().text());
  return ((await res.json()) as { snapshots: SnapshotSummary[] }).snapshots;
}

/** Waits (no deadline asserted) until the admin API lists a snapshot that `matches`. */
async function listed(h: Harness, matches: (s: SnapshotSummary) => boolean): Promise<SnapshotSummary> {
  for (let i = 0; i < 3000; i++) {
    const found = (await list(h)).find(matches);
    if (found !== undefined) return found;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.fail(`no such snapshot; listed: ${JSON.stringify(await list(h))}`);
}

async function download(h: Harness, id: string): Promise<{ snapshot: Snapshot; text: string }> {
  const res = await fetch(`${h.running.adminUrl}/v1/snapshots/${id}`, { headers: { authorization: `Bearer ${SECRETS.read}` } });
  assert.equal(res.status, 200);
  assert.match(String(res.headers.get("content-disposition")), new RegExp(`attachment; filename="autoglm-snapshot-${id}\\.json"`));
  const text = await res.text();
  return { snapshot: JSON.parse(text) as Snapshot, text };
}

interface CauseCase {
  name: string;
  triggers?: unknown[];
  /** Makes the cause happen (after 30 healthy windows). */
  cause(h: Harness): Promise<void>;
  kind: SnapshotSummary["cause"];
  cluster: string;
  /** Traffic of the windows after the cause. */
  after: Record<string, ClusterTraffic>;
}

const CAUSES: CauseCase[] = [
  {
    name: "a breaker opening",
    async cause(h) {
      for (let i = 0; i < 3; i++) await h.window(A_FAILING);
      assert.equal(h.running.controlPlane.currentDecisions().clusters.find((c) => c.cluster === "llm-a")?.state, "open");
    },
    kind: "breaker_open",
    cluster: "llm-a",
    after: A_FAILING,
  },
  {
    name: "a trigger firing",
    triggers: [{ name: "b-slow", when: { metric: "p99_ms", scope: "llm-b", above: 1500 }, for_s: 2, action: { shed: 0.5 }, clear: "manual" }],
    async cause(h) {
      for (let i = 0; i < 4; i++) await h.window({ "llm-a": { requests: 40 }, "llm-b": { requests: 40, latencyMs: 1900 } });
    },
    kind: "trigger_fired",
    cluster: "llm-b",
    after: HEALTHY,
  },
  {
    name: "a halt",
    async cause(h) {
      const res = await fetch(`${h.running.adminUrl}/v1/halt`, { method: "POST", headers: { ...admin, "content-type": "application/json" }, body: JSON.stringify({ reason: "drill" }) });
      assert.equal(res.status, 200, await res.clone().text());
    },
    kind: "halt",
    cluster: "",
    after: HEALTHY,
  },
  {
    name: "an operator's request",
    async cause(h) {
      const res = await fetch(`${h.running.adminUrl}/v1/snapshots`, {
        method: "POST",
        headers: { ...admin, "content-type": "application/json" },
        // A secret pasted into a reason is still scrubbed from the file.
        body: JSON.stringify({ reason: `before the release (token ${SECRETS.grpc})`, cluster: "llm-b" }),
      });
      assert.equal(res.status, 201, await res.clone().text());
      const summary = (await res.json()) as SnapshotSummary;
      assert.equal(summary.cause, "on_demand");
      assert.ok(summary.bytes > 0, "answered once written");
    },
    kind: "on_demand",
    cluster: "llm-b",
    after: HEALTHY,
  },
];

describe("fault snapshots in a running control plane", () => {
  for (const c of CAUSES) {
    it(`${c.name} leaves a snapshot with the windows before and after, every scorer's verdict, the model's input, the decisions and the sidecars`, async (t) => {
      const h = await harness(t, c.triggers === undefined ? {} : { triggers: c.triggers });
      for (let i = 0; i < 30; i++) await h.window(HEALTHY);
      assert.deepEqual(await list(h), [], "nothing before the cause");
      await c.cause(h);
      const first = await listed(h, (s) => s.cause === c.kind);
      assert.equal(first.cluster, c.cluster);
      for (let i = 0; i < WINDOWS_AFTER; i++) await h.window(c.after);
      const done = await listed(h, (s) => s.id === first.id && s.complete);
      const { snapshot } = await download(h, done.id);

      assert.equal(snapshot.cause.kind, c.kind);
      assert.equal(snapshot.complete, true);
      for (const cluster of ["llm-a", "llm-b"]) {
        const w = snapshot.windows[cluster]!;
        assert.equal(w.before.length, 10, `${cluster}: windows before`);
        assert.equal(w.after.length, WINDOWS_AFTER, `${cluster}: windows after`);
        assert.ok(w.before.at(-1)!.window_start_ms < w.after[0]!.window_start_ms);
        const scorers = snapshot.at_capture.scorers[cluster]!;
        assert.deepEqual(Object.keys(scorers.per_scorer).sort(), ["dynamic_baseline", "hard_rules", "onnx-model", "trend"].sort(), `${cluster}: scorers`);
        const row = snapshot.at_capture.model.last_inference!.clusters[cluster]!;
        assert.equal(row.features.length, FEATURE_NAMES.length);
        assert.equal(typeof row.risk, "number");
      }
      assert.deepEqual(snapshot.at_capture.model.last_inference!.feature_names, [...FEATURE_NAMES]);
      assert.equal(snapshot.at_capture.model.mode, "model");
      assert.deepEqual(snapshot.sidecars.connected.map((s) => s.node_id).sort(), ["node-1", "node-2"]);
      assert.ok(snapshot.after !== null && snapshot.after.at_ms > snapshot.at_capture.at_ms);
      assert.ok(snapshot.after.decisions.version >= snapshot.at_capture.decisions.version);
      if (c.kind === "breaker_open") {
        assert.equal(snapshot.at_capture.scorers["llm-a"]!.per_scorer["hard_rules"]!.hard, true);
        assert.equal(snapshot.at_capture.decisions.clusters.find((d) => d.cluster === "llm-a")!.state, "open");
        assert.equal(snapshot.windows["llm-a"]!.before.at(-1)!.error_rate, 1);
      }
      if (c.kind === "halt") assert.equal(snapshot.after.decisions.halted, true);
      if (c.kind === "trigger_fired") assert.equal(snapshot.cause.trigger, "b-slow");
      assert.equal((snapshot.config.admin as { token: string }).token, "[redacted]");
    });
  }

  it("no secret of the configuration appears in any snapshot file, byte for byte", async (t) => {
    const h = await harness(t);
    for (let i = 0; i < 30; i++) await h.window(HEALTHY);
    for (let i = 0; i < 3; i++) await h.window(A_FAILING);
    const res = await fetch(`${h.running.adminUrl}/v1/snapshots`, {
      method: "POST",
      headers: { ...admin, "content-type": "application/json" },
      body: JSON.stringify({ reason: `tokens ${SECRETS.admin} ${SECRETS.hook} ${SECRETS.read}` }),
    });
    assert.equal(res.status, 201);
    for (let i = 0; i < WINDOWS_AFTER; i++) await h.window(A_FAILING);
    await listed(h, (s) => s.cause === "breaker_open" && s.complete);
    await h.running.close();
    const dir = join(h.dir, "audit", "snapshots");
    const files = await readdir(dir);
    assert.equal(files.length, 2, files.join(", "));
    for (const file of files) {
      const bytes = await readFile(join(dir, file));
      for (const [name, secret] of Object.entries(SECRETS)) assert.equal(bytes.indexOf(secret), -1, `${file} holds the ${name} secret`);
      assert.ok(bytes.includes("[redacted]"), `${file} says what was redacted`);
    }
  });

  it("a snapshot directory that cannot be written is logged and counted, and decisions go on", async (t) => {
    // <audit.dir>/snapshots is a file: no snapshot can be written there.
    const h = await harness(t, { snapshotDir: async (dir) => {
      const { mkdir } = await import("node:fs/promises");
      await mkdir(join(dir, "audit"), { recursive: true });
      await writeFile(join(dir, "audit", "snapshots"), "not a directory");
    } });
    for (let i = 0; i < 30; i++) await h.window(HEALTHY);
    for (let i = 0; i < 3; i++) await h.window(A_FAILING);
    assert.equal(h.running.controlPlane.currentDecisions().clusters.find((c) => c.cluster === "llm-a")?.state, "open");
    const res = await fetch(`${h.running.adminUrl}/v1/snapshots`, { method: "POST", headers: { ...admin, "content-type": "application/json" }, body: JSON.stringify({ reason: "r" }) });
    assert.equal(res.status, 503);
    assert.match(((await res.json()) as { message: string }).message, /could not be written: .*(ENOTDIR|EEXIST)/);
    let failures = 0;
    for (let i = 0; i < 3000 && failures < 2; i++) {
      const metrics = await h.running.registry.getSingleMetricAsString("autoglm_snapshot_failures_total");
      failures = Number(/reason="write"} (\d+)/.exec(metrics)?.[1] ?? 0);
      if (failures < 2) await new Promise((r) => setTimeout(r, 10));
    }
    assert.ok(failures >= 2, `failures counted: ${failures}`);
    await h.window(A_FAILING);
    assert.deepEqual(await list(h), []);
    const health = await fetch(`${h.running.adminUrl}/healthz`);
    assert.equal(health.status, 200);
  });
});
