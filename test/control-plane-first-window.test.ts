// The first window after a control plane starts waits for every sidecar that said hello, not
// only for those that reported before it: closed with the first report alone, it held a fraction
// of the load, and the capacity learnt from it put a safe level and a knee far below what the
// cluster carried. Virtual time, in-process streams.
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { create, toBinary } from "@bufbuild/protobuf";
import { ClusterWindowSchema, LatencyHistogramSchema, SidecarMessageSchema, TelemetryReportSchema } from "../proto/gen/autoglm/v1/traffic_guard_pb.js";
import { latencyCounts } from "../control-plane/src/core/report-builder.js";
import { ControlPlane } from "../control-plane/src/service.js";
import { DEFAULT_CONFIG } from "../control-plane/src/core/config.js";
import { createLogger } from "../lib/log.js";

const T0 = 1_700_000_000_000;

function harness() {
  let now = T0;
  const cp = new ControlPlane({
    clusters: [{ name: "a", baseWeight: 50 }, { name: "b", baseWeight: 50 }],
    slo: { latencyMs: 2000, successRate: 0.99 },
    now: () => now,
    random: () => 0.5,
    logger: createLogger("test", "silent"),
  });
  const sidecar = (nodeId: string) => {
    const stream = cp.openInProcessStream({}, { onMessage: () => undefined, onClose: () => undefined });
    stream.send(toBinary(SidecarMessageSchema, create(SidecarMessageSchema, { kind: { case: "hello", value: { nodeId, zone: "z", clusters: ["a", "b"] } } })));
    let sequence = 0;
    return (startMs: number, n: number): void => {
      const h = latencyCounts(Array.from({ length: n }, (_, i) => 100 + i));
      const histogram = create(LatencyHistogramSchema, { firstBucket: h.firstBucket, counts: [...h.counts], sumUs: BigInt(h.sumUs), maxUs: BigInt(h.maxUs) });
      const clusters = ["a", "b"].map((cluster) => create(ClusterWindowSchema, { cluster, requests: n, totalLatency: histogram }));
      const report = create(TelemetryReportSchema, { windowStartMs: BigInt(startMs), windowLengthMs: 1000, sequence: BigInt(++sequence), clusters });
      stream.send(toBinary(SidecarMessageSchema, create(SidecarMessageSchema, { kind: { case: "report", value: report } })));
    };
  };
  /** Requests and reporters of cluster a's newest closed window (undefined: none closed yet). */
  const newest = () => {
    const w = cp.clusterStatuses().find((c) => c.cluster === "a")!.recent.at(-1);
    return w === undefined ? undefined : [w.requests, w.reporters];
  };
  return { cp, sidecar, newest, advance: (ms: number) => (now += ms) };
}

describe("the first window after a start", () => {
  it("waits for every sidecar that said hello, and holds all of their requests", async () => {
    const h = harness();
    const first = h.sidecar("sidecar-1");
    const second = h.sidecar("sidecar-2");
    h.advance(1000);
    first(T0, 40);
    await h.cp.decide();
    assert.equal(h.newest(), undefined, "sidecar-2 said hello: the window waits for it");
    second(T0, 60);
    await h.cp.decide();
    assert.deepEqual(h.newest(), [100, 2]);
  });

  it("closes after the close delay when a sidecar that said hello does not report, counting it missing", async () => {
    const h = harness();
    const first = h.sidecar("sidecar-1");
    h.sidecar("sidecar-2");
    h.advance(1000);
    first(T0, 40);
    h.advance(DEFAULT_CONFIG.aggregation.closeDelayMs);
    await h.cp.decide();
    assert.deepEqual(h.newest(), [40, 1]);
    assert.equal(h.cp.clusterStatuses().find((c) => c.cluster === "a")!.recent.at(-1)!.missingReporters, 1);
  });
});
