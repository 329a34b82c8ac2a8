import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  ClusterWindowSchema,
  ControlMessageSchema,
  LatencyHistogramSchema,
  SidecarMessageSchema,
  TelemetryReportSchema,
} from "../proto/gen/autoglm/v1/traffic_guard_pb.js";
import { latencyCounts } from "../control-plane/src/core/report-builder.js";
import { ControlPlaneError } from "../control-plane/src/core/errors.js";
import { composeVersion, startingGeneration } from "../control-plane/src/core/decision-version.js";
import type { DecisionSet, Transition } from "../control-plane/src/core/types.js";
import { decisionSetFromProto } from "../control-plane/src/grpc/convert.js";
import { GRPC_STATUS } from "../control-plane/src/grpc/status.js";
import { ControlPlane } from "../control-plane/src/service.js";
import { createLogger } from "../lib/log.js";

const T0 = 1_700_000_000_000;
const logger = createLogger("test", "silent");
/** The first version a control plane without state issues at T0 (decision-version.ts). */
const FIRST = composeVersion(startingGeneration(0, T0), 1);

/** A seeded generator (Park–Miller). */
function seeded(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 16807) % 2147483647) / 2147483647;
}

/** Virtual-time harness: a control plane plus sidecars on in-process streams. */
function harness(sidecars = 3) {
  let now = T0;
  const random = seeded(42);
  const cp = new ControlPlane({
    clusters: [
      { name: "a", baseWeight: 50 },
      { name: "b", baseWeight: 50 },
    ],
    slo: { latencyMs: 2000, successRate: 0.99 },
    now: () => now,
    random,
    logger,
  });
  const received: DecisionSet[][] = [];
  const closes: [number, string][][] = [];
  const streams = Array.from({ length: sidecars }, (_, i) => {
    received.push([]);
    closes.push([]);
    const stream = cp.openInProcessStream(
      {},
      {
        onMessage: (bytes) => {
          const msg = fromBinary(ControlMessageSchema, bytes);
          if (msg.kind.case === "decisions") received[i]!.push(decisionSetFromProto(msg.kind.value));
        },
        onClose: (code, details) => closes[i]!.push([code, details]),
      },
    );
    stream.send(toBinary(SidecarMessageSchema, create(SidecarMessageSchema, { kind: { case: "hello", value: { nodeId: `node-${i}`, zone: "z", workerId: 0, clusters: ["a", "b"] } } })));
    return stream;
  });
  const sigma = Math.log(900 / 180) / 2.326;
  const latency = (x: number) => 180 * Math.exp(sigma * Math.sqrt(-2 * Math.log(random())) * Math.cos(2 * Math.PI * random())) * x;
  const seq = new Array<number>(sidecars).fill(0);
  /** One window of traffic: `perSidecar` requests each, split by the current weights. */
  const window = async (opts: { latencyX?: Record<string, number>; errorRate?: Record<string, number>; perSidecar?: number } = {}) => {
    const set = cp.currentDecisions();
    const live = set.clusters.filter((c) => c.state !== "open" && !set.halted);
    const total = live.reduce((a, c) => a + c.weight, 0);
    streams.forEach((stream, i) => {
      const n = opts.perSidecar ?? 70;
      const clusters = live.map((c) => {
        const count = Math.round((n * c.weight) / total);
        const lat = Array.from({ length: count }, () => latency(opts.latencyX?.[c.cluster] ?? 1));
        const errors = Math.round(count * (opts.errorRate?.[c.cluster] ?? 0));
        const h = latencyCounts(lat);
        return create(ClusterWindowSchema, {
          cluster: c.cluster,
          requests: count,
          errors5xx: errors,
          totalLatency: create(LatencyHistogramSchema, { firstBucket: h.firstBucket, counts: [...h.counts], sumUs: BigInt(h.sumUs), maxUs: BigInt(h.maxUs) }),
        });
      });
      seq[i]!++;
      const report = create(TelemetryReportSchema, { windowStartMs: BigInt(now - 1000), windowLengthMs: 1000, sequence: BigInt(seq[i]!), enforcedVersion: BigInt(set.version), clusters });
      stream.send(toBinary(SidecarMessageSchema, create(SidecarMessageSchema, { kind: { case: "report", value: report } })));
    });
    now += 1000;
    return cp.decide();
  };
  return { cp, streams, received, closes, window, advance: (ms: number) => (now += ms), now: () => now };
}

describe("control plane on virtual time", () => {
  it("a sidecar gets the current decision set when it says hello", () => {
    const h = harness(2);
    assert.equal(h.received[0]![0]!.version, FIRST);
    assert.deepEqual(h.received[0]![0]!.clusters.map((c) => [c.cluster, c.state, c.weight]), [["a", "closed", 500], ["b", "closed", 500]]);
    assert.equal(h.cp.sidecarStatuses().length, 2);
  });

  it("fault-free traffic changes nothing and the version stays", async () => {
    const h = harness();
    for (let i = 0; i < 120; i++) assert.equal(await h.window(), undefined, `round ${i} changed the set`);
    assert.equal(h.cp.currentDecisions().version, FIRST);
  });

  it("a cluster whose latency creeps up loses traffic, then its breaker opens, and it comes back after", async () => {
    const h = harness();
    const transitions: Transition[] = [];
    h.cp.on("transition", (t) => transitions.push(t));
    for (let i = 0; i < 40; i++) await h.window();
    let cutAt = -1;
    for (let i = 0; i < 60; i++) {
      await h.window({ latencyX: { a: 1 + Math.min(5, i / 6) } });
      const a = h.cp.currentDecisions().clusters.find((c) => c.cluster === "a")!;
      if (cutAt < 0 && (a.state === "open" || a.weight <= 250)) cutAt = i;
    }
    // The planner moves traffic once requests miss the objective (p99 over the SLO from about
    // window 8 here), a bounded step at a time with the windows in between to see each step.
    assert.ok(cutAt >= 0 && cutAt < 30, `cut after ${cutAt} windows`);
    assert.ok(transitions.some((t) => t.cluster === "a" && t.to === "open"));
    assert.ok(!transitions.some((t) => t.cluster === "b"));
    for (let i = 0; i < 120; i++) await h.window();
    const a = h.cp.currentDecisions().clusters.find((c) => c.cluster === "a")!;
    assert.equal(a.state, "closed");
    assert.ok(a.weight >= 450, `weight back to ${a.weight}`);
    // Every sidecar got the latest set.
    for (const r of h.received) assert.equal(r.at(-1)!.version, h.cp.currentDecisions().version);
  });

  it("a hard outage opens the breaker within two windows", async () => {
    const h = harness();
    for (let i = 0; i < 30; i++) await h.window();
    await h.window({ errorRate: { a: 1 } });
    await h.window({ errorRate: { a: 1 } });
    assert.equal(h.cp.currentDecisions().clusters.find((c) => c.cluster === "a")!.state, "open");
  });

  const slowCases: Array<{ name: string; otherCarriedAll: boolean; opens: boolean }> = [
    { name: "opens the breaker within two windows when the other cluster has carried the whole load well", otherCarriedAll: true, opens: true },
    { name: "moves its share a bounded step at a time when the other was never seen to carry it (the slowness may be load)", otherCarriedAll: false, opens: false },
  ];
  for (const c of slowCases) {
    it(`a latency step that makes nearly every request miss the objective ${c.name}`, async () => {
      const h = harness();
      const a = () => h.cp.currentDecisions().clusters.find((x) => x.cluster === "a")!;
      for (let i = 0; i < 30; i++) await h.window();
      if (c.otherCarriedAll) {
        // An outage of a during a traffic peak: b carries all of it (300 requests/s against the
        // 105 each cluster carries otherwise), healthy, until a is back at its base weight.
        for (let i = 0; i < 3; i++) await h.window({ errorRate: { a: 1 }, perSidecar: 100 });
        assert.equal(a().state, "open");
        for (let i = 0; i < 60 && !(a().state === "closed" && a().weight === 500); i++) await h.window({ perSidecar: a().state === "open" ? 100 : 70 });
        assert.deepEqual([a().state, a().weight], ["closed", 500]);
        for (let i = 0; i < 10; i++) await h.window();
      }
      // Median 180 ms × 60 = 10.8 s against the 2 s objective: nearly every request is bad for
      // its client, though none fails.
      const weights = [a().weight];
      await h.window({ latencyX: { a: 60 } });
      await h.window({ latencyX: { a: 60 } });
      assert.equal(a().state, c.opens ? "open" : "closed");
      if (c.opens) return;
      weights.push(a().weight);
      for (let i = 0; i < 4; i++) {
        await h.window({ latencyX: { a: 60 } });
        assert.equal(a().state, "closed");
        weights.push(a().weight);
      }
      // Moved away, by at most planMaxStep (0.1 of the total weight, 1000) per round.
      assert.ok(weights.at(-1)! < 500, `moved: weights ${weights.join(" ")}`);
      for (let i = 1; i < weights.length; i++) {
        assert.ok(weights[i - 1]! - weights[i]! <= 100 + 1, `bounded steps: weights ${weights.join(" ")}`);
      }
    });
  }

  it("a cluster back from an outage closes at its base weight once its probes pass, not at its last probe share", async () => {
    const h = harness();
    for (let i = 0; i < 30; i++) await h.window();
    for (let i = 0; i < 3; i++) await h.window({ errorRate: { a: 1 } });
    const a = () => h.cp.currentDecisions().clusters.find((c) => c.cluster === "a")!;
    assert.equal(a().state, "open");
    // The outage is over: the breaker waits, probes, and closes after its healthy probe windows.
    let closedAt: number | undefined;
    for (let i = 0; i < 40 && closedAt === undefined; i++) {
      await h.window();
      if (a().state === "closed") closedAt = i;
    }
    assert.ok(closedAt !== undefined, "the breaker closed");
    assert.equal(a().weight, 500, `the weight the breaker closed at: ${a().weight}`);
  });

  const probeCases: Array<{ name: string; bErrors: number; healthyWindows: number }> = [
    { name: "the other cluster healthy: after the configured three healthy probe windows", bErrors: 0, healthyWindows: 3 },
    { name: "the other cluster straining (failing while it carries the load): after one", bErrors: 0.2, healthyWindows: 1 },
  ];
  for (const c of probeCases) {
    it(`a half-open cluster closes ${c.name}`, async () => {
      const h = harness();
      for (let i = 0; i < 30; i++) await h.window();
      for (let i = 0; i < 3; i++) await h.window({ errorRate: { a: 1 } });
      const a = () => h.cp.currentDecisions().clusters.find((x) => x.cluster === "a")!;
      assert.equal(a().state, "open");
      // Half-open windows in the last half-open spell (a probe judged unhealthy reopens the
      // breaker and a later spell starts the count again).
      let halfOpenWindows = 0;
      for (let i = 0; i < 60 && a().state !== "closed"; i++) {
        const wasHalfOpen = a().state === "half_open";
        await h.window({ errorRate: { b: c.bErrors } });
        if (!wasHalfOpen) continue;
        halfOpenWindows = a().state === "open" ? 0 : halfOpenWindows + 1;
      }
      assert.equal(a().state, "closed");
      // The harness sends each window's requests by the set in force at its start, so the first
      // half-open window already carries probes: one window per healthy verdict.
      assert.equal(halfOpenWindows, c.healthyWindows);
    });
  }

  // An open cluster's wait before its first probe. b carries all 210 requests a second while a is
  // open; a first probe gets 5 % of them (the floor) for a window, about 10 requests. Failing a
  // fifth of its requests, b serves about 40 a second badly beyond its usual level: waiting a
  // second costs more than a failed probe would, so a probes after one window instead of the
  // backoff's five (strained-wait.ts). Healthy, b does not strain and the backoff decides.
  const waitCases: Array<{ name: string; bErrors: number; openWindows: (n: number) => boolean }> = [
    { name: "the other cluster healthy: the backoff's first wait, five one-second windows", bErrors: 0, openWindows: (n) => n === 5 },
    { name: "the other cluster failing a fifth of the load it carries for it: one or two windows", bErrors: 0.2, openWindows: (n) => n >= 1 && n <= 2 },
  ];
  for (const c of waitCases) {
    it(`an open cluster probes ${c.name}`, async () => {
      const h = harness();
      for (let i = 0; i < 30; i++) await h.window();
      for (let i = 0; i < 3 && h.cp.currentDecisions().clusters.find((x) => x.cluster === "a")!.state !== "open"; i++) await h.window({ errorRate: { a: 1 } });
      const a = () => h.cp.currentDecisions().clusters.find((x) => x.cluster === "a")!;
      assert.equal(a().state, "open");
      let openWindows = 0;
      for (let i = 0; i < 20 && a().state === "open"; i++) {
        await h.window({ errorRate: { a: 1, b: c.bErrors } });
        openWindows++;
      }
      assert.equal(a().state, "half_open");
      assert.ok(c.openWindows(openWindows), `open for ${openWindows} windows`);
    });
  }

  it("an override wins over the detectors until it expires, and a halt reaches every sidecar", async () => {
    const h = harness();
    for (let i = 0; i < 5; i++) await h.window();
    const set = await h.cp.setOverride({ cluster: "b", state: "open", untilMs: h.now() + 10_000, reason: "maintenance", actor: "alice" });
    const b = set.clusters.find((c) => c.cluster === "b")!;
    assert.equal(b.state, "open");
    assert.match(b.reason, /override by alice: maintenance/);
    assert.equal(h.received[1]!.at(-1)!.version, set.version);
    for (let i = 0; i < 12; i++) await h.window();
    assert.notEqual(h.cp.currentDecisions().clusters.find((c) => c.cluster === "b")!.state, "open", "override expired");
    const halted = await h.cp.halt("incident 42", "bob");
    assert.equal(halted.halted, true);
    assert.match(halted.haltReason, /incident 42/);
    assert.equal(h.received[2]!.at(-1)!.halted, true);
    const resumed = await h.cp.resume("fixed", "bob");
    assert.equal(resumed.halted, false);
    assert.ok(resumed.version > halted.version);
  });

  const badOverrides: [name: string, o: object, message: RegExp][] = [
    ["an unknown cluster", { cluster: "zzz", state: "open", reason: "r", actor: "a" }, /override.cluster: unknown cluster "zzz"/],
    ["a bad state", { cluster: "a", state: "half", reason: "r", actor: "a" }, /override.state/],
    ["an expiry in the past", { cluster: "a", state: "open", untilMs: 1, reason: "r", actor: "a" }, /override.untilMs/],
    ["no actor", { cluster: "a", state: "open", reason: "r", actor: "" }, /override.actor/],
  ];
  for (const [name, o, message] of badOverrides) {
    it(`an override with ${name} is refused with CP_ERR_OVERRIDE`, async () => {
      const h = harness(1);
      await assert.rejects(h.cp.setOverride(o as never), (err: unknown) => err instanceof ControlPlaneError && err.code === "CP_ERR_OVERRIDE" && message.test(err.message));
    });
  }

  const badMessages: [name: string, bytes: () => Uint8Array, message: RegExp][] = [
    ["garbage bytes", () => new Uint8Array([0xff, 0xff, 0xff, 0xff]), /malformed SidecarMessage/],
    ["a report before hello", () => toBinary(SidecarMessageSchema, create(SidecarMessageSchema, { kind: { case: "report", value: { windowLengthMs: 1000, sequence: 1n } } })), /first message must be hello/],
  ];
  for (const [name, bytes, message] of badMessages) {
    it(`a stream that sends ${name} is closed with INVALID_ARGUMENT, the others keep going`, async () => {
      const h = harness(1);
      const closes: [number, string][] = [];
      const bad = h.cp.openInProcessStream({}, { onMessage: () => undefined, onClose: (code, details) => closes.push([code, details]) });
      bad.send(bytes());
      assert.equal(closes[0]![0], GRPC_STATUS.INVALID_ARGUMENT);
      assert.match(closes[0]![1], message);
      await h.window();
      assert.equal(h.closes[0]!.length, 0);
      assert.equal(h.cp.sidecarStatuses().length, 1);
    });
  }

  it("a sidecar's nack is recorded and emitted", () => {
    const h = harness(1);
    const nacks: string[] = [];
    h.cp.on("nack", (n) => nacks.push(n.reason));
    h.streams[0]!.send(toBinary(SidecarMessageSchema, create(SidecarMessageSchema, { kind: { case: "nack", value: { version: BigInt(FIRST), reason: "clusters[0].weight: too big", enforcedVersion: 0n } } })));
    assert.deepEqual(nacks, ["clusters[0].weight: too big"]);
    const s = h.cp.sidecarStatuses()[0]!;
    assert.equal(s.rejectedVersion, FIRST);
    assert.equal(s.refusing, true);
    assert.equal(s.rejectReason, "clusters[0].weight: too big");
  });

  it("a bearer token is required when configured", () => {
    const cp = new ControlPlane({ clusters: [{ name: "a", baseWeight: 1 }], slo: { latencyMs: 1000, successRate: 0.99 }, sidecarToken: "s3cret", logger, now: () => T0 });
    const codes: number[] = [];
    cp.openInProcessStream({}, { onMessage: () => undefined, onClose: (c) => codes.push(c) });
    cp.openInProcessStream({ authorization: "Bearer wrong" }, { onMessage: () => undefined, onClose: (c) => codes.push(c) });
    cp.openInProcessStream({ authorization: "Bearer s3cret" }, { onMessage: () => undefined, onClose: (c) => codes.push(c) });
    assert.deepEqual(codes, [GRPC_STATUS.UNAUTHENTICATED, GRPC_STATUS.UNAUTHENTICATED]);
  });
});
