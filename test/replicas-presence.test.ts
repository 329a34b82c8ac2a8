// What replicas publish of their sidecar workers for each other's halt confirmations, without etcd:
// the presence values (replicas/presence-values.ts: round trip, damaged values named, shards), the
// arrivals a remote worker is judged on (core/halt/remote-workers.ts), and a ControlPlane on
// virtual time counting other replicas' workers (setRemoteWorkers) with its own, publishing its own
// (publishedWorkers) without a follower's forwarding stream.
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { create, toBinary } from "@bufbuild/protobuf";
import { SidecarMessageSchema } from "../proto/gen/autoglm/v1/traffic_guard_pb.js";
import { remoteReachedAt, type PublishedWorker } from "../control-plane/src/core/halt/index.js";
import { encodePresence, parsePresence, presenceShard, PRESENCE_SHARDS } from "../control-plane/src/replicas/presence-values.js";
import { ControlPlane } from "../control-plane/src/service.js";
import { createLogger } from "../lib/log.js";
import { connectWorker } from "./support/in-process-sidecar.js";
import { connectSidecar } from "./support/replica-sidecar.js";

const logger = createLogger("test", "silent");
const T0 = 1_800_000_000_000;

const worker = (over: Partial<PublishedWorker> = {}): PublishedWorker => ({ streamId: "s1", nodeId: "node-a", workerId: 0, capabilities: ["shed"], reached: [{ version: 7, atMs: T0 }], ...over });

describe("presence values", () => {
  it("a value read back is the value written", () => {
    const value = { replica: "r1", instance: "7587889110475223809", workers: [worker(), worker({ streamId: "s2", workerId: 1, capabilities: [], reached: [] })] };
    assert.deepEqual(parsePresence(encodePresence(value)), { ok: true, value });
  });

  it("a damaged value is refused, naming what is wrong", () => {
    const good = JSON.parse(encodePresence({ replica: "r1", instance: "1", workers: [worker()] })) as Record<string, unknown>;
    const w = (over: Record<string, unknown>) => JSON.stringify({ ...good, workers: [{ ...(good.workers as object[])[0], ...over }] });
    const cases: [what: string, text: string, error: RegExp][] = [
      ["not JSON", "{", /^not JSON/],
      ["an array", "[]", /^expected an object/],
      ["no replica", JSON.stringify({ ...good, replica: "" }), /^replica: /],
      ["no instance", JSON.stringify({ ...good, instance: 5 }), /^instance: /],
      ["workers not a list", JSON.stringify({ ...good, workers: {} }), /^workers: expected an array/],
      ["a worker without a stream id", w({ s: "" }), /^workers\[0\]\.s: /],
      ["a worker without a node id", w({ n: null }), /^workers\[0\]\.n: /],
      ["a negative worker id", w({ w: -1 }), /^workers\[0\]\.w: /],
      ["capabilities not names", w({ c: [1] }), /^workers\[0\]\.c: /],
      ["an arrival without its time", w({ r: [[7]] }), /^workers\[0\]\.r\[0\]: /],
      ["an arrival at version 0", w({ r: [[0, T0]] }), /^workers\[0\]\.r\[0\]: /],
    ];
    for (const [what, text, error] of cases) {
      const parsed = parsePresence(text);
      assert.ok(!parsed.ok && error.test(parsed.error), `${what}: ${JSON.stringify(parsed)}`);
    }
  });

  it("a node's workers share a shard, and shards are within range", () => {
    assert.equal(presenceShard("node-a"), presenceShard("node-a"));
    const shards = new Set(Array.from({ length: 2000 }, (_, i) => presenceShard(`sidecar~10.${i >> 8}.${i & 255}.1~pod-${i}.ns~ns.svc.cluster.local`)));
    assert.ok([...shards].every((s) => Number.isInteger(s) && s >= 0 && s < PRESENCE_SHARDS));
    assert.equal(shards.size, PRESENCE_SHARDS, "2,000 nodes spread over every shard");
  });

  it("a remote worker reached a version when it reached it or a later watched one", () => {
    const reached = [{ version: 5, atMs: T0 + 10 }, { version: 9, atMs: T0 + 50 }];
    const cases: [version: number, at: number | undefined][] = [[5, T0 + 10], [4, T0 + 10], [6, T0 + 50], [9, T0 + 50], [10, undefined]];
    for (const [version, at] of cases) assert.equal(remoteReachedAt(reached, version), at, `version ${version}`);
  });
});

describe("a control plane counts other replicas' workers in its halt's confirmation", () => {
  const tick = () => new Promise((resolve) => setImmediate(resolve));
  const harness = () => {
    const clock = { now: T0 };
    let changes = 0;
    const cp = new ControlPlane({
      clusters: [{ name: "llm-a", baseWeight: 1 }],
      slo: { latencyMs: 2000, successRate: 0.99 },
      now: () => clock.now,
      logger,
      haltConfirmWaitMs: 10_000,
      onWorkersChanged: () => changes++,
    });
    connectWorker(cp, { nodeId: "local", clusters: ["llm-a"], answer: "ack" });
    // A follower's forwarding stream (replicas/telemetry-forwarder.ts): no sidecar, never acknowledges.
    const forwarder = cp.openInProcessStream({}, { onMessage: () => {}, onClose: () => {} });
    forwarder.send(toBinary(SidecarMessageSchema, create(SidecarMessageSchema, { kind: { case: "hello", value: { nodeId: "replica/r9", workerId: 0, clusters: ["llm-a"] } } })));
    return { clock, cp, changes: () => changes };
  };

  it("remote workers wait until they reach the halt, then confirm it; one that leaves no longer counts", async () => {
    const { cp } = harness();
    await tick();
    cp.setRemoteWorkers([worker({ streamId: "r1/1/s1", nodeId: "far-1", reached: [] }), worker({ streamId: "r1/1/s2", nodeId: "far-2", reached: [] })]);
    const set = await cp.halt("maintenance", "ops");
    await tick();
    const nodes = (list: { node_id: string }[]) => list.map((w) => w.node_id).sort();
    let h = cp.haltStatus();
    assert.ok(h.halted);
    assert.deepEqual([h.confirmation.state, nodes(h.confirmation.confirmed), nodes(h.confirmation.waiting)], ["waiting", ["local"], ["far-1", "far-2"]]);
    cp.setRemoteWorkers([worker({ streamId: "r1/1/s1", nodeId: "far-1", reached: [{ version: set.version, atMs: T0 + 5 }] }), worker({ streamId: "r1/1/s2", nodeId: "far-2", reached: [] })]);
    h = cp.haltStatus();
    assert.ok(h.halted);
    assert.deepEqual([h.confirmation.state, nodes(h.confirmation.confirmed), nodes(h.confirmation.waiting)], ["waiting", ["far-1", "local"], ["far-2"]]);
    // far-2's replica died: its workers are gone from the presence.
    cp.setRemoteWorkers([worker({ streamId: "r1/1/s1", nodeId: "far-1", reached: [{ version: set.version, atMs: T0 + 5 }] })]);
    h = cp.haltStatus();
    assert.ok(h.halted);
    assert.deepEqual([h.confirmation.state, nodes(h.confirmation.confirmed)], ["confirmed", ["far-1", "local"]]);
    // The operator's halt incident is confirmed by the workers of both replicas.
    const incident = cp.incidentList().find((i) => i.kind === "halt")!;
    assert.deepEqual(incident.confirmations.map((c) => c.nodeId).sort(), ["far-1", "local"]);
    await cp.stop();
  });

  it("a follower publishes the halt's version as reached by a worker whose reports say it enforces it (no acknowledgement)", async () => {
    const clock = { now: T0 };
    const cp = new ControlPlane({
      clusters: [{ name: "llm-a", baseWeight: 1 }],
      slo: { latencyMs: 2000, successRate: 0.99 },
      now: () => clock.now,
      logger,
      follower: true,
      followerTelemetry: { report: () => undefined, forget: () => undefined },
    });
    const old = connectSidecar(cp, "old-filter", ["llm-a"]);
    const current = cp.currentDecisions();
    const halted = { ...current, version: current.version + 1, halted: true, haltReason: "maintenance" };
    assert.equal(await cp.adopt(halted), true);
    assert.deepEqual(cp.publishedWorkers().map((w) => w.reached), [[]], "received, not yet said to be enforced");
    clock.now += 1000;
    old.report(T0);
    assert.deepEqual(cp.publishedWorkers().map((w) => w.reached), [[{ version: halted.version, atMs: T0 + 1000 }]]);
    await cp.stop();
  });

  it("publishes its own workers with their arrival at the halt's version, not a replica's forwarding stream", async () => {
    const { cp, changes } = harness();
    await tick();
    const before = changes();
    assert.ok(before >= 2, "each hello is a change");
    assert.deepEqual(cp.publishedWorkers().map((w) => [w.nodeId, w.reached]), [["local", []]], "no version watched yet");
    const set = await cp.halt("maintenance", "ops");
    await tick();
    assert.ok(changes() > before, "the halt and the acknowledgement are changes");
    assert.deepEqual(cp.publishedWorkers().map((w) => [w.nodeId, w.reached.map((a) => a.version)]), [["local", [set.version]]]);
    // A later set while halted: its newest arrival is published too, so a replica that watches a
    // later version of the halt (it started while the halt was in force) counts the worker.
    const later = await cp.setOverride({ cluster: "llm-a", state: "open", reason: "drain a", actor: "ops" });
    await tick();
    assert.ok(later.version > set.version && later.halted);
    const reached = cp.publishedWorkers()[0]!.reached;
    assert.deepEqual(reached.map((a) => a.version), [set.version, later.version]);
    assert.notEqual(remoteReachedAt(reached, later.version), undefined);
    await cp.resume("done", "ops");
    await tick();
    assert.deepEqual(cp.publishedWorkers()[0]!.reached, [], "nothing watched: nothing published that would change with every version");
    await cp.stop();
  });
});
