// The shared state in etcd (control-plane/src/replicas/etcd-state.ts) on a real three-member
// etcd cluster: decision sets written only under the writer's election key, the generation
// counter, damaged values; and startControlPlane with an etcd section: it leads alone,
// acknowledges after the commit, continues above a single-process past, and refuses to start
// without etcd.
import { strict as assert } from "node:assert";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Etcd3 } from "etcd3";
import { AuditLog } from "../control-plane/src/audit/audit-log.js";
import { configFromDocument } from "../control-plane/src/config/index.js";
import { generationOf } from "../control-plane/src/core/decision-version.js";
import { EtcdState } from "../control-plane/src/replicas/index.js";
import { startControlPlane } from "../control-plane/src/server.js";
import { ControlPlane } from "../control-plane/src/service.js";
import { createLogger } from "../lib/log.js";
import { freePorts, startEtcdCluster, type EtcdCluster } from "./support/etcd-cluster.js";

const logger = createLogger("test", "silent");
const TOKEN = "replica-test-token";
const CLUSTERS = ["a", "b", "c"];

async function until(what: string, condition: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("the shared state in etcd, and a control plane started with an etcd section", () => {
  let etcd: EtcdCluster;
  before(async () => {
    etcd = await startEtcdCluster();
  });
  after(async () => {
    await etcd.stop();
  });

  it("a decision set is written only while the writer's election key exists", async () => {
    const client = new Etcd3({ hosts: etcd.endpoints });
    const shared = new EtcdState(client, "/autoglm-state/", "w1");
    try {
      const decisions = { version: 7, issuedAtMs: 1, ttlMs: 30_000, halted: false, haltReason: "", clusters: [] };
      const record = { kind: "decisions" as const, atMs: 1, decisions };
      assert.deepEqual((await shared.putDecisions(record, "/autoglm-state/election/leader/none")).committed, false);
      await client.put("/autoglm-state/election/leader/mine").value("w1");
      assert.equal((await shared.putDecisions(record, "/autoglm-state/election/leader/mine")).committed, true);
      assert.equal((await shared.load()).state.decisions?.version, 7);
    } finally {
      client.close();
    }
  });

  const generationCases: { name: string; stored: number; floor: number; fenced: boolean; expected: number | undefined }[] = [
    { name: "a claim takes the counter plus one", stored: 40, floor: 10, fenced: true, expected: 41 },
    { name: "a claim takes the floor when that is higher", stored: 40, floor: 90, fenced: true, expected: 90 },
    { name: "a registration raises the counter to the floor", stored: 40, floor: 90, fenced: false, expected: 90 },
    { name: "a registration never lowers the counter", stored: 40, floor: 10, fenced: false, expected: 40 },
  ];
  for (const c of generationCases) {
    it(`the generation counter: ${c.name}`, async () => {
      const client = new Etcd3({ hosts: etcd.endpoints });
      const prefix = `/autoglm-gen-${c.stored}-${c.floor}-${c.fenced}/`;
      const shared = new EtcdState(client, prefix, "w1");
      try {
        await client.put(`${prefix}state/generation`).value(String(c.stored));
        await client.put(`${prefix}election/leader/mine`).value("w1");
        const result = await shared.bumpGeneration(c.floor, c.fenced ? `${prefix}election/leader/mine` : undefined);
        assert.equal(result?.generation, c.expected);
        assert.equal((await shared.load()).generation, c.expected);
      } finally {
        client.close();
      }
    });
  }

  it("a claim without the election key fails and leaves the counter as it was", async () => {
    const client = new Etcd3({ hosts: etcd.endpoints });
    const shared = new EtcdState(client, "/autoglm-nofence/", "w1");
    try {
      await client.put("/autoglm-nofence/state/generation").value("40");
      assert.equal(await shared.bumpGeneration(10, "/autoglm-nofence/election/leader/gone"), undefined);
      assert.equal((await shared.load()).generation, 40);
    } finally {
      client.close();
    }
  });

  it("a damaged shared value is skipped and named, the others are read", async () => {
    const client = new Etcd3({ hosts: etcd.endpoints });
    const shared = new EtcdState(client, "/autoglm-damaged/", "w1");
    try {
      await client.put("/autoglm-damaged/state/halt").value("{not json");
      await client.put("/autoglm-damaged/state/overrides/a").value(JSON.stringify({ type: "halt", atMs: 1, halted: true, reason: "x", actor: "y" }));
      await client.put("/autoglm-damaged/state/assessment").value(JSON.stringify({ atMs: 1, version: 2, clusters: [{ cluster: "a", breaker: { kind: "ajar", since: 1 } }] }));
      await shared.putControl({ kind: "override", atMs: 1, override: { cluster: "b", state: "open", reason: "r", actor: "a" } });
      const snapshot = await shared.load();
      assert.deepEqual(snapshot.state.overrides.map((o) => o.cluster), ["b"]);
      assert.equal(snapshot.state.halt, undefined);
      assert.equal(snapshot.state.assessment, undefined);
      assert.match(snapshot.problems.join("\n"), /state\/assessment: clusters\[0\]\.breaker\.kind: expected closed, open or half_open/);
      assert.equal(snapshot.problems.length, 3);
      assert.match(snapshot.problems.join("\n"), /state\/halt: not JSON/);
      assert.match(snapshot.problems.join("\n"), /state\/overrides\/a: a halt record does not belong under this key/);
    } finally {
      client.close();
    }
  });

  it("leads alone, and its admin API acknowledges an override only once etcd holds it", async () => {
    const config = configFromDocument(
      {
        grpc: { port: 0 },
        admin: { port: 0, token: TOKEN },
        clusters: CLUSTERS.map((name) => ({ name })),
        etcd: { endpoints: etcd.endpoints, prefix: "/autoglm-server/", lease_ttl_s: 2, replica_id: "solo" },
      },
      {},
    );
    const running = await startControlPlane(config, { logger });
    const probe = new Etcd3({ hosts: etcd.endpoints });
    try {
      await until("it leads", () => running.controlPlane.isLeading);
      assert.equal(running.replica?.role, "leader");
      const response = await fetch(`${running.adminUrl}/v1/clusters/b/override`, {
        method: "POST",
        headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify({ state: "open", reason: "drain b" }),
      });
      assert.equal(response.status, 200);
      const body = (await response.json()) as { decisions: { version: number } };
      const stored = (await probe.get("/autoglm-server/state/overrides/b").json()) as { override: { reason: string } } | null;
      assert.equal(stored?.override.reason, "drain b");
      const published = (await probe.get("/autoglm-server/state/decisions").json()) as { decisions: { version: number } } | null;
      assert.equal(published?.decisions.version, body.decisions.version, "the set the call answered with is the one in etcd");
    } finally {
      probe.close();
      await running.close();
    }
  });

  it("a replica whose local audit log holds a single-process past continues above that past's versions", async () => {
    const dir = await mkdtemp(join(tmpdir(), "autoglm-replica-past-"));
    try {
      // The past ran with a clock an hour ahead, so its generation lies above this clock's.
      const audit = await AuditLog.open({ dir, logger });
      const past = new ControlPlane({ clusters: CLUSTERS.map((name) => ({ name, baseWeight: 1 })), slo: { latencyMs: 2000, successRate: 0.99 }, audit, logger, now: () => Date.now() + 3_600_000 });
      const pastSet = await past.setOverride({ cluster: "a", state: "open", reason: "past", actor: "ops" });
      await past.stop();
      await audit.close();
      const config = configFromDocument(
        { grpc: { port: 0 }, admin: { port: 0 }, clusters: CLUSTERS.map((name) => ({ name })), audit: { dir }, etcd: { endpoints: etcd.endpoints, prefix: "/autoglm-past/", replica_id: "heir" } },
        {},
      );
      const running = await startControlPlane(config, { logger });
      try {
        await until("it leads", () => running.controlPlane.isLeading);
        const next = await running.controlPlane.setOverride({ cluster: "b", state: "open", reason: "now", actor: "ops" });
        assert.ok(generationOf(next.version) > generationOf(pastSet.version), `generation ${generationOf(next.version)} above the past's ${generationOf(pastSet.version)}`);
      } finally {
        await running.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("does not start when etcd cannot be reached, and says which endpoints it tried", async () => {
    const [port] = await freePorts(1);
    const config = configFromDocument(
      { grpc: { port: 0 }, admin: { port: 0 }, clusters: [{ name: "a" }], etcd: { endpoints: [`http://127.0.0.1:${port}`], dial_timeout_ms: 500 } },
      {},
    );
    await assert.rejects(startControlPlane(config, { logger }), new RegExp(`etcd: cannot read the shared state from http://127\\.0\\.0\\.1:${port} within 500 ms`));
  });
});
