import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { create, toBinary } from "@bufbuild/protobuf";
import { SidecarMessageSchema } from "../proto/gen/autoglm/v1/traffic_guard_pb.js";
import { GoneSidecars, DEFAULT_GONE_SIDECAR_LIMITS } from "../control-plane/src/core/gone-sidecars.js";
import type { SidecarStatus } from "../control-plane/src/core/types.js";
import { ControlPlane } from "../control-plane/src/service.js";
import { createLogger } from "../lib/log.js";

const T0 = 1_800_000_000_000;

function status(nodeId: string, workerId = 0, extra: Partial<SidecarStatus> = {}): SidecarStatus {
  return {
    streamId: `s-${nodeId}-${workerId}`, transport: "grpc", peer: "10.0.0.1:5000", nodeId, zone: "zone-a", workerId,
    instanceId: "7", filterVersion: "0.1.0", connectedAtMs: T0 - 60_000, ackedVersion: 5, rejectedVersion: 0, rejectReason: "",
    enforcedVersion: 5, lastReportAtMs: T0 - 1000, lagVersions: 0, refusing: false, reports: 60, duplicates: 0, lateReports: 0,
    droppedPushes: 0, ...extra,
  };
}

const names = (g: GoneSidecars, nowMs: number) => g.list(nowMs).map((e) => `${e.nodeId}/${e.workerId}`);

describe("the registry of gone sidecars", () => {
  it("remembers a departed worker with why its stream ended, when, and what it last knew", () => {
    const gone = new GoneSidecars();
    gone.departed(status("node-1", 2, { refusing: true, rejectReason: "bad set" }), "stream cancelled", T0);
    assert.deepEqual(gone.list(T0 + 5000), [
      {
        nodeId: "node-1", zone: "zone-a", workerId: 2, instanceId: "7", filterVersion: "0.1.0", transport: "grpc", peer: "10.0.0.1:5000",
        streamId: "s-node-1-2", connectedAtMs: T0 - 60_000, disconnectedAtMs: T0, lastReportAtMs: T0 - 1000, reason: "stream cancelled",
        enforcedVersion: 5, refusing: true, rejectReason: "bad set",
      },
    ]);
  });

  it("lists the most recent departure first and keeps one entry per worker (node id and worker id)", () => {
    const gone = new GoneSidecars();
    const table: [string, number, number][] = [["a", 0, T0], ["a", 1, T0 + 1], ["b", 0, T0 + 2], ["a", 0, T0 + 3]];
    for (const [node, worker, at] of table) gone.departed(status(node, worker), "gone", at);
    assert.deepEqual(names(gone, T0 + 4), ["a/0", "b/0", "a/1"]);
  });

  it("forgets a worker that says hello again", () => {
    const gone = new GoneSidecars();
    gone.departed(status("a"), "gone", T0);
    gone.departed(status("b"), "gone", T0);
    gone.returned("a", 0);
    gone.returned("a", 1); // another worker of the same node: not gone, nothing to forget
    assert.deepEqual(names(gone, T0), ["b/0"]);
  });

  it("forgets a departure after retainMs", () => {
    const gone = new GoneSidecars({ maxEntries: 10, retainMs: 60_000 });
    gone.departed(status("old"), "gone", T0);
    gone.departed(status("new"), "gone", T0 + 30_000);
    const cases: [number, string[]][] = [[T0 + 60_000, ["new/0", "old/0"]], [T0 + 60_001, ["new/0"]], [T0 + 90_001, []]];
    for (const [at, expected] of cases) assert.deepEqual(names(gone, at), expected, `at +${at - T0} ms`);
  });

  it("keeps at most maxEntries, forgetting the oldest departure first", () => {
    const gone = new GoneSidecars({ maxEntries: 3, retainMs: 3_600_000 });
    for (let i = 0; i < 100; i++) gone.departed(status(`node-${i}`), "gone", T0 + i);
    assert.equal(gone.size, 3);
    assert.deepEqual(names(gone, T0 + 100), ["node-99/0", "node-98/0", "node-97/0"]);
  });

  it("is bounded by default (256 workers, 30 minutes)", () => {
    assert.deepEqual(DEFAULT_GONE_SIDECAR_LIMITS, { maxEntries: 256, retainMs: 1_800_000 });
    const gone = new GoneSidecars();
    for (let i = 0; i < 1000; i++) gone.departed(status(`node-${i}`), "gone", T0);
    assert.equal(gone.size, 256);
  });

  it("refuses limits that are not counts and durations, naming the field", () => {
    const cases: [Partial<{ maxEntries: number; retainMs: number }>, RegExp][] = [
      [{ maxEntries: -1 }, /maxEntries: expected an integer >= 0, got -1/],
      [{ maxEntries: 1.5 }, /maxEntries/],
      [{ retainMs: Number.NaN }, /retainMs: expected a finite number of ms >= 0, got NaN/],
      [{ retainMs: -5 }, /retainMs/],
    ];
    for (const [limits, message] of cases) assert.throws(() => new GoneSidecars({ ...DEFAULT_GONE_SIDECAR_LIMITS, ...limits }), message);
  });
});

describe("the control plane's gone sidecars", () => {
  function harness() {
    let now = T0;
    const cp = new ControlPlane({
      clusters: [{ name: "a", baseWeight: 50 }, { name: "b", baseWeight: 50 }],
      slo: { latencyMs: 2000, successRate: 0.99 },
      now: () => now,
      logger: createLogger("test", "silent"),
    });
    /** A worker's stream; hello unless `hello` is false. */
    const connect = (nodeId: string, workerId = 0, hello = true) => {
      const stream = cp.openInProcessStream({}, { onMessage: () => undefined, onClose: () => undefined });
      if (hello) {
        stream.send(toBinary(SidecarMessageSchema, create(SidecarMessageSchema, { kind: { case: "hello", value: { nodeId, zone: "z", workerId, clusters: ["a", "b"] } } })));
      }
      return stream;
    };
    return { cp, connect, advance: (ms: number) => (now += ms) };
  }

  it("lists a worker whose stream ended, with the reason and the time, until it says hello again", () => {
    const h = harness();
    const stream = h.connect("node-1", 3);
    h.advance(2000);
    stream.close();
    h.advance(5000);
    assert.deepEqual(h.cp.goneSidecars().map((g) => [g.nodeId, g.workerId, g.reason, g.disconnectedAtMs]), [["node-1", 3, "sidecar closed the stream", T0 + 2000]]);
    assert.equal(h.cp.sidecarStatuses().length, 0);
    h.connect("node-1", 3);
    assert.deepEqual(h.cp.goneSidecars(), []);
  });

  it("does not list a worker whose old stream ends after it reconnected on a new one", () => {
    const h = harness();
    const old = h.connect("node-1");
    h.connect("node-1");
    old.close();
    assert.deepEqual(h.cp.goneSidecars(), []);
    assert.equal(h.cp.sidecarStatuses().length, 1);
  });

  it("does not list a stream that ended before its hello, nor the streams the control plane closes when it stops", async () => {
    const h = harness();
    h.connect("never-said-hello", 0, false).close();
    h.connect("node-2");
    await h.cp.stop();
    assert.deepEqual(h.cp.goneSidecars(), []);
  });
});
