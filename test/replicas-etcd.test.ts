// Three control-plane replicas on a real three-member etcd cluster (Debian's etcd-server, on
// loopback): one leads, the followers serve sidecar streams with the sets the leader publishes,
// an override sent to a follower is committed in etcd before it answers 200 and is in force at
// the leader; the leader dies (its etcd client closed without leaving the election, as a kill
// -9 would: the lease runs out) and another takes over within the lease, continues the versions
// above every earlier one, and keeps the open breaker (its open period and backoff, from the
// leader's assessment in etcd) and the override. Who sends the traffic: the followers' sidecars'
// sources reach the leader's GET /v1/sources; a source limit sent to a follower is committed
// before its 200, carried by the leader's set, kept across the failover and restored by a
// replica started later, with its TTL. No timed assertions:
// every wait is for a condition, with a generous deadline.
import { strict as assert } from "node:assert";
import { after, before, describe, it } from "node:test";
import { Registry } from "prom-client";
import { Etcd3 } from "etcd3";
import type { FastifyInstance } from "fastify";
import { buildAdminApp } from "../control-plane/src/admin/app.js";
import { readEtcdSection } from "../control-plane/src/config/etcd.js";
import { generationOf } from "../control-plane/src/core/decision-version.js";
import { startGrpcServer, type GrpcServerHandle } from "../control-plane/src/grpc/server.js";
import { Replica, TelemetryForwarder } from "../control-plane/src/replicas/index.js";
import { ControlPlane } from "../control-plane/src/service.js";
import { createLogger } from "../lib/log.js";
import { startEtcdCluster, type EtcdCluster } from "./support/etcd-cluster.js";
import { connectSidecar, versionsOnlyGrow, type InProcessSidecar } from "./support/replica-sidecar.js";

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

  it("a follower's sidecars' sources reach the leader: GET /v1/sources there sees the whole mesh", async () => {
    const leader = leaders()[0]!;
    const followers = replicas.filter((r) => r !== leader);
    const forwarded = new Map<number, Set<string>>();
    const off = leader.cp.on("report", (e) => {
      if (!e.nodeId.startsWith("replica/")) return;
      if (!forwarded.has(e.windowStartMs)) forwarded.set(e.windowStartMs, new Set());
      forwarded.get(e.windowStartMs)!.add(e.nodeId);
    });
    try {
      for (let i = 0; i < 3; i++) {
        const start = clock.now - (clock.now % 1000);
        for (const s of leader.sidecars) s.report(start, { sources: { "10.0.0.1": 30, "10.0.0.9": 10 } });
        for (const f of followers) for (const s of f.sidecars) s.report(start, { sources: { "10.0.0.1": 20, [`10.1.0.${f.id.slice(1)}`]: 50 } });
        clock.now += 1000;
        await until(`both followers forwarded window ${i}`, () => (forwarded.get(start)?.size ?? 0) === followers.length);
        await leader.cp.decide();
      }
    } finally {
      off();
    }
    // Windows without sources until the three are past the late grace (closed).
    for (let i = 0; i < 4; i++) await window(leader, false);
    const res = await leader.app.inject({ method: "GET", url: "/v1/sources?window_s=3", headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json() as { windows: number; total_requests: number; sources: { source: string; requests: number; min_requests: number; max_requests: number }[] };
    const per = (source: string) => body.sources.find((s) => s.source === source);
    // Two sidecars per replica, three windows: 10.0.0.1 from every sidecar, the followers' own clients from theirs.
    assert.equal(body.windows, 3);
    assert.deepEqual(per("10.0.0.1"), { ...per("10.0.0.1"), requests: 3 * 2 * (30 + 20 + 20), min_requests: 420, max_requests: 420 });
    for (const f of followers) assert.equal(per(`10.1.0.${f.id.slice(1)}`)?.requests, 3 * 2 * 50, `${f.id}'s sidecars' client`);
    assert.equal(per("10.0.0.9")?.requests, 3 * 2 * 10);
    assert.equal(body.total_requests, 3 * 2 * (40 + 70 + 70));
  });

  it("a source limit sent to a follower is committed in etcd before it answers 200, and the leader's set carries it", async () => {
    const follower = replicas.find((r) => !r.cp.isLeading)!;
    const leader = leaders()[0]!;
    const response = await follower.app.inject({
      method: "POST",
      url: "/v1/sources/limits",
      headers: { authorization: `Bearer ${TOKEN}` },
      payload: { source: "10.0.0.1", action: "cap", cap_per_s: 70, ttl_s: 3600, reason: "scraper" },
    });
    assert.equal(response.statusCode, 200, response.body);
    const stored = (await probe.get(`${PREFIX}state/source-limits/10.0.0.1`).json()) as { kind: string; cause: string; limit: { source: string; cap_per_s: number; until_ms: number }; origin: string } | null;
    assert.equal(stored?.kind, "source_limit");
    assert.equal(stored?.cause, "set");
    assert.equal(stored?.limit.cap_per_s, 70);
    assert.equal(stored?.origin, follower.id);
    await until("the leader's set carries the cap", () => leader.cp.currentDecisions().sourceLimits?.some((l) => l.source === "10.0.0.1" && l.capPerS === 70) === true);
    // The leader's last closed window saw 140 requests/s from it: a cap of 70 admits half.
    assert.equal(leader.cp.currentDecisions().sourceLimits!.find((l) => l.source === "10.0.0.1")!.admitFraction, 0.5);
    const version = leader.cp.currentDecisions().version;
    await until("every sidecar holds the set with the cap", () => allSidecars().every((s) => s.enforced() >= version));
    for (const r of replicas) await until(`${r.id} lists the limit`, () => r.cp.sourceLimits().some((l) => l.source === "10.0.0.1" && l.untilMs === stored!.limit.until_ms));
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
    const stored = (await probe.get(`${PREFIX}state/overrides/c`).json()) as { kind: string; override: { state: string }; origin: string } | null;
    assert.equal(stored?.kind, "override");
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
    // The leader's assessment in etcd holds a's breaker as it is (its open period, its openings).
    const breakerA = old.cp.clusterStatuses().find((s) => s.cluster === "a")!.state;
    await until("etcd holds the leader's assessment of a", async () => {
      const stored = (await probe.get(`${PREFIX}state/assessment`).json()) as { clusters: { cluster: string; breaker: unknown }[] } | null;
      return JSON.stringify(stored?.clusters.find((c) => c.cluster === "a")?.breaker) === JSON.stringify(breakerA);
    });
    const limitBefore = old.cp.sourceLimits().find((l) => l.source === "10.0.0.1");
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
    // It continues a's breaker from the assessment: the same open period and backoff.
    assert.deepEqual(leader.cp.clusterStatuses().find((s) => s.cluster === "a")!.state, breakerA);
    // The dead replica's sidecars reconnect to the new leader with what they enforce.
    for (const o of orphans) leader.sidecars.push(connectSidecar(leader.cp, `${o.nodeId}-again`, CLUSTERS, o.held));
    // Its first windows (every cluster healthy now): no breaker moves, the open ones stay open,
    // the override stays in force.
    for (let i = 0; i < 3; i++) {
      await window(leader, false);
      assert.deepEqual(leader.cp.currentDecisions().clusters.map((c) => [c.cluster, c.state]), statesBefore, `window ${i} after the takeover`);
      assert.match(stateOf(leader.cp, "c").reason, /override by/);
    }
    // The source limit set through a follower is in force with its own TTL, read back from etcd.
    const limit = leader.cp.sourceLimits().find((l) => l.source === "10.0.0.1");
    assert.equal(limit?.capPerS, 70);
    assert.equal(limit?.untilMs, limitBefore!.untilMs);
    assert.equal(leader.cp.currentDecisions().sourceLimits?.find((l) => l.source === "10.0.0.1")?.capPerS, 70);
    // A change now gets a version above every earlier one.
    const cleared = await leader.cp.setOverride({ cluster: "c", state: "auto", reason: "maintenance over", actor: "ops" });
    assert.ok(cleared.version > highest, `${cleared.version} > ${highest}`);
    await until("every live sidecar holds the new leader's set", () => replicas.filter((r) => !r.dead).flatMap((r) => r.sidecars).every((s) => s.enforced() === cleared.version));
    for (const s of allSidecars()) assert.ok(versionsOnlyGrow(s), `${s.nodeId} saw a version go down`);
  });
  it("a replica started now restores the source limit from etcd, with its TTL", async () => {
    const leader = leaders()[0]!;
    const inForce = leader.cp.sourceLimits().find((l) => l.source === "10.0.0.1")!;
    const fresh = await startReplica(etcd, "r3");
    replicas.push(fresh);
    assert.deepEqual(fresh.cp.sourceLimits(), [inForce]);
    assert.equal(fresh.cp.isLeading, false);
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
