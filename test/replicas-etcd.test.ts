// Three control-plane replicas on a real three-member etcd cluster (Debian's etcd-server, on
// loopback): one leads, the followers serve sidecar streams with the sets the leader publishes,
// an override sent to a follower is committed in etcd before it answers 200 and is in force at
// the leader; the leader dies (its etcd client closed without leaving the election, as a kill
// -9 would: the lease runs out) and another takes over within the lease, continues the versions
// above every earlier one, and keeps the open breaker and the override. No timed assertions:
// every wait is for a condition, with a generous deadline.
import { strict as assert } from "node:assert";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Registry } from "prom-client";
import { Etcd3 } from "etcd3";
import type { FastifyInstance } from "fastify";
import { buildAdminApp } from "../control-plane/src/admin/app.js";
import { AuditLog } from "../control-plane/src/audit/audit-log.js";
import { readEtcdSection } from "../control-plane/src/config/etcd.js";
import { configFromDocument } from "../control-plane/src/config/index.js";
import { generationOf } from "../control-plane/src/core/decision-version.js";
import { startGrpcServer, type GrpcServerHandle } from "../control-plane/src/grpc/server.js";
import { EtcdState, Replica, TelemetryForwarder } from "../control-plane/src/replicas/index.js";
import { startControlPlane } from "../control-plane/src/server.js";
import { ControlPlane } from "../control-plane/src/service.js";
import { createLogger } from "../lib/log.js";
import { freePorts, startEtcdCluster, type EtcdCluster } from "./support/etcd-cluster.js";
import { connectSidecar, versionsOnlyGrow, type InProcessSidecar } from "./support/in-process-sidecar.js";

const logger = createLogger("test", "silent");
const TOKEN = "replica-test-token";
const CLUSTERS = ["a", "b", "c"];
const PREFIX = "/autoglm-test/";
/** The virtual clock every replica reads, epoch ms: starts at the real time, moves a window at a time. */
const clock = { now: Date.now() };

interface Running {
  id: string;
  cp: ControlPlane;
  replica: Replica;
  grpc: GrpcServerHandle;
  forwarder: TelemetryForwarder;
  app: FastifyInstance;
  sidecars: InProcessSidecar[];
  dead: boolean;
}

async function startReplica(etcd: EtcdCluster, id: string): Promise<Running> {
  const { etcd: config, problems } = readEtcdSection({ endpoints: etcd.endpoints, prefix: PREFIX, lease_ttl_s: 3, replica_id: id });
  assert.deepEqual(problems, []);
  const { replica } = await Replica.open(config!, { logger, now: () => clock.now });
  const forwarder = new TelemetryForwarder({ replicaId: id, clusters: CLUSTERS, token: "", flushDelayMs: 250, now: () => clock.now, logger });
  const cp = new ControlPlane({
    clusters: CLUSTERS.map((name) => ({ name, baseWeight: 1 })),
    slo: { latencyMs: 2000, successRate: 0.99 },
    now: () => clock.now,
    random: () => 0.5,
    logger,
    audit: replica.store,
    follower: true,
    onSidecarAhead: (held) => replica.registerVersion(held),
    followerTelemetry: forwarder.sink,
  });
  const app = await buildAdminApp({
    controlPlane: cp,
    model: { status: () => ({ mode: "rules-only" }), reload: async () => ({ mode: "rules-only" }) },
    readiness: { grpcListening: () => true },
    registry: new Registry(),
    token: TOKEN,
    logger,
    now: () => clock.now,
  });
  const grpc = await startGrpcServer(cp, { address: "127.0.0.1:0", logger });
  forwarder.start();
  await replica.start(cp, { peer: `127.0.0.1:${grpc.port}`, onLeaderPeer: (leader) => forwarder.setTarget(leader) });
  return { id, cp, replica, grpc, forwarder, app, sidecars: [], dead: false };
}

async function until(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) assert.fail(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const stateOf = (cp: ControlPlane, cluster: string) => cp.currentDecisions().clusters.find((c) => c.cluster === cluster)!;

/** One window: every sidecar of `leader` reports (cluster "a" failing when `failing`), the clock
 *  moves a window on, and the leader runs its round. */
async function window(leader: Running, failing: boolean): Promise<void> {
  const start = clock.now - (clock.now % 1000);
  for (const s of leader.sidecars) s.report(start, failing ? { errorRate: { a: 1 } } : {});
  clock.now += 1000;
  await leader.cp.decide();
}

describe("three control-plane replicas on a three-member etcd cluster", () => {
  let etcd: EtcdCluster;
  let probe: Etcd3;
  const replicas: Running[] = [];

  before(async () => {
    etcd = await startEtcdCluster();
    probe = new Etcd3({ hosts: etcd.endpoints });
    for (const id of ["r0", "r1", "r2"]) replicas.push(await startReplica(etcd, id));
  });

  after(async () => {
    for (const r of replicas) {
      for (const s of r.sidecars) s.close();
      r.forwarder.stop();
      await r.app.close();
      await r.cp.stop();
      await r.grpc.close();
      if (!r.dead) await r.replica.stop();
    }
    probe.close();
    await etcd.stop();
  });

  const leaders = () => replicas.filter((r) => !r.dead && r.cp.isLeading);
  const allSidecars = () => replicas.flatMap((r) => r.sidecars);

  it("three etcd members run and exactly one replica leads", async () => {
    const members = await probe.cluster.memberList({});
    assert.equal(members.members.length, 3);
    assert.equal(etcd.members.filter((m) => !m.exited).length, 3);
    await until("one replica leads", () => leaders().length === 1);
    assert.deepEqual(replicas.map((r) => r.replica.role).sort(), ["follower", "follower", "leader"]);
  });

  it("followers serve sidecar streams with the sets the leader publishes, and a failing cluster's breaker opens", async () => {
    for (const r of replicas) for (const n of [0, 1]) r.sidecars.push(connectSidecar(r.cp, `${r.id}-s${n}`, CLUSTERS));
    const leader = leaders()[0]!;
    for (let i = 0; i < 30; i++) await window(leader, false);
    for (let i = 0; i < 10 && stateOf(leader.cp, "a").state !== "open"; i++) await window(leader, true);
    assert.equal(stateOf(leader.cp, "a").state, "open");
    const version = leader.cp.currentDecisions().version;
    await until("every sidecar, the followers' too, holds the set with the open breaker", () => allSidecars().every((s) => s.enforced() === version));
    for (const r of replicas) assert.equal(r.cp.clusterStatuses().find((s) => s.cluster === "a")!.state.kind, "open", `${r.id} shows the breaker open`);
  });

  it("a cluster failing only for the followers' sidecars opens at the leader, from their merged windows", async () => {
    const leader = leaders()[0]!;
    const followers = replicas.filter((r) => r !== leader);
    const forwarded = new Map<number, Set<string>>();
    const off = leader.cp.on("report", (e) => {
      if (!e.nodeId.startsWith("replica/")) return;
      if (!forwarded.has(e.windowStartMs)) forwarded.set(e.windowStartMs, new Set());
      forwarded.get(e.windowStartMs)!.add(e.nodeId);
    });
    try {
      for (let i = 0; i < 10 && stateOf(leader.cp, "b").state !== "open"; i++) {
        const start = clock.now - (clock.now % 1000);
        for (const s of leader.sidecars) s.report(start);
        for (const f of followers) for (const s of f.sidecars) s.report(start, { errorRate: { b: 1 } });
        clock.now += 1000;
        await until(`both followers forwarded window ${i}`, () => (forwarded.get(start)?.size ?? 0) === followers.length);
        await leader.cp.decide();
      }
      assert.equal(stateOf(leader.cp, "b").state, "open");
      assert.match(stateOf(leader.cp, "b").reason, /error/i);
      for (const f of followers) assert.ok(f.forwarder.counts.forwarded > 0 && f.forwarder.counts.dropped === 0, `${f.id}: ${JSON.stringify(f.forwarder.counts)}`);
      const version = leader.cp.currentDecisions().version;
      await until("every sidecar holds the set with b open", () => allSidecars().every((s) => s.enforced() === version));
    } finally {
      off();
    }
  });

  it("an override sent to a follower is committed in etcd before it answers 200, and the leader puts it in force", async () => {
    const follower = replicas.find((r) => !r.cp.isLeading)!;
    const leader = leaders()[0]!;
    const applied = new Map<string, number>();
    const offs = replicas.map((r) => r.cp.on("override", () => applied.set(r.id, (applied.get(r.id) ?? 0) + 1)));
    const response = await follower.app.inject({
      method: "POST",
      url: "/v1/clusters/c/override",
      headers: { authorization: `Bearer ${TOKEN}` },
      payload: { state: "open", reason: "maintenance window" },
    });
    assert.equal(response.statusCode, 200, response.body);
    // Read straight from etcd right after the 200: the commit happened before it.
    const stored = (await probe.get(`${PREFIX}state/overrides/c`).json()) as { type: string; override: { state: string }; origin: string } | null;
    assert.equal(stored?.type, "override");
    assert.equal(stored?.override.state, "open");
    assert.equal(stored?.origin, follower.id);
    await until("the leader has the override in force and published", () => stateOf(leader.cp, "c").state === "open");
    assert.match(stateOf(leader.cp, "c").reason, /override by .*: maintenance window/);
    const version = leader.cp.currentDecisions().version;
    await until("every sidecar holds the set with the override", () => allSidecars().every((s) => s.enforced() === version));
    await until("every replica applied the override", () => applied.size === replicas.length);
    for (const off of offs) off();
    // Once each: the replica that committed it does not apply its own change again from the watch.
    assert.deepEqual([...applied.values()], [1, 1, 1]);
  });

  it("when the leader dies another takes over within the lease, keeps the open breaker and the override, and continues the versions above every earlier one", async (t) => {
    const old = leaders()[0]!;
    // During a fault: cluster "a" fails (again) until its breaker is open.
    for (let i = 0; i < 10 && stateOf(old.cp, "a").state !== "open"; i++) await window(old, true);
    assert.equal(stateOf(old.cp, "a").state, "open");
    const statesBefore = old.cp.currentDecisions().clusters.map((c) => [c.cluster, c.state]);
    await until("every sidecar holds the last set", () => allSidecars().every((s) => s.enforced() === old.cp.currentDecisions().version));
    const highest = Math.max(...allSidecars().map((s) => s.enforced()));
    const orphans = old.sidecars.map((s) => ({ nodeId: s.nodeId, held: s.enforced() }));
    // A crash: no resignation, the lease runs out; the streams end.
    const killedAt = Date.now();
    old.replica.abandon();
    old.dead = true;
    old.forwarder.stop();
    old.grpc.forceClose();
    await old.cp.stop();
    await until("a surviving replica leads", () => leaders().length === 1, 60_000);
    // A figure for the README, not an assertion: lease TTL 3 s here.
    t.diagnostic(`a new leader ${Date.now() - killedAt} ms after the crash (lease_ttl_s 3)`);
    const leader = leaders()[0]!;
    assert.ok(leader.cp.generation() > generationOf(highest), `new generation ${leader.cp.generation()} above ${generationOf(highest)}`);
    // The dead replica's sidecars reconnect to the new leader with what they enforce.
    for (const o of orphans) leader.sidecars.push(connectSidecar(leader.cp, `${o.nodeId}-again`, CLUSTERS, o.held));
    // Its first windows (every cluster healthy now): no breaker moves, the open ones stay open,
    // the override stays in force.
    for (let i = 0; i < 3; i++) {
      await window(leader, false);
      assert.deepEqual(leader.cp.currentDecisions().clusters.map((c) => [c.cluster, c.state]), statesBefore, `window ${i} after the takeover`);
      assert.match(stateOf(leader.cp, "c").reason, /override by/);
    }
    // A change now gets a version above every earlier one.
    const cleared = await leader.cp.setOverride({ cluster: "c", state: "auto", reason: "maintenance over", actor: "ops" });
    assert.ok(cleared.version > highest, `${cleared.version} > ${highest}`);
    await until("every live sidecar holds the new leader's set", () => replicas.filter((r) => !r.dead).flatMap((r) => r.sidecars).every((s) => s.enforced() === cleared.version));
    for (const s of allSidecars()) assert.ok(versionsOnlyGrow(s), `${s.nodeId} saw a version go down`);
  });
  it("a sidecar that enforces a version above the shared ones, connecting to a follower, moves the leader above it", async () => {
    const leader = leaders()[0]!;
    const follower = replicas.find((r) => !r.dead && !r.cp.isLeading)!;
    const ahead = leader.cp.currentDecisions().version + 5 * 2 ** 20;
    follower.sidecars.push(connectSidecar(follower.cp, `${follower.id}-ahead`, CLUSTERS, ahead));
    await until("the leader publishes above the sidecar's version", () => leader.cp.currentDecisions().version > ahead);
    const version = leader.cp.currentDecisions().version;
    await until("every live sidecar holds that set", () => replicas.filter((r) => !r.dead).flatMap((r) => r.sidecars).every((s) => s.enforced() === version));
    for (const s of allSidecars()) assert.ok(versionsOnlyGrow(s), `${s.nodeId} saw a version go down`);
  });

  it("a leader that stops cleanly resigns, and the last replica leads", async (t) => {
    const old = leaders()[0]!;
    const stoppedAt = Date.now();
    await old.cp.stop();
    await old.replica.stop();
    old.dead = true;
    await until("the last replica leads", () => leaders().length === 1);
    t.diagnostic(`a new leader ${Date.now() - stoppedAt} ms after a clean stop (the lease revoked)`);
  });
});

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
      const record = { type: "decisions" as const, atMs: 1, decisions };
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
      await shared.putControl({ type: "override", atMs: 1, override: { cluster: "b", state: "open", reason: "r", actor: "a" } });
      const snapshot = await shared.load();
      assert.deepEqual(snapshot.state.overrides.map((o) => o.cluster), ["b"]);
      assert.equal(snapshot.state.halt, undefined);
      assert.equal(snapshot.problems.length, 2);
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
