// Streams end to end in the control plane (service.ts): a sidecar names the "streams" capability
// and sends TelemetryReports whose ClusterWindows carry a StreamWindow (protobuf, in-process
// stream, virtual time); a slow decode on cluster a opens its breaker in the decision sets pushed
// back, a StreamWindow that does not add up is refused and the sidecar told why, and the windows
// show the streams. Synthetic telemetry until the filter fills these fields.
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  ClusterWindowSchema,
  ControlMessageSchema,
  LatencyHistogramSchema,
  SidecarMessageSchema,
  TelemetryReportSchema,
  type ReportRejected,
} from "../proto/gen/autoglm/v1/traffic_guard_pb.js";
import { latencyCounts } from "../control-plane/src/core/report-builder.js";
import type { DecisionSet, LatencyCounts } from "../control-plane/src/core/types.js";
import { decisionSetFromProto } from "../control-plane/src/grpc/convert.js";
import { streamsToProto } from "../control-plane/src/grpc/stream-convert.js";
import { ControlPlane } from "../control-plane/src/service.js";
import { createLogger } from "../lib/log.js";
import { times, workerStreams } from "./support/streams.js";

const T0 = 1_700_000_000_000;

const histogram = (h: LatencyCounts) => create(LatencyHistogramSchema, { firstBucket: h.firstBucket, counts: [...h.counts], sumUs: BigInt(h.sumUs), maxUs: BigInt(h.maxUs) });

function harness() {
  let now = T0;
  const cp = new ControlPlane({
    clusters: [
      { name: "a", baseWeight: 50 },
      { name: "b", baseWeight: 50 },
    ],
    slo: { latencyMs: 60_000, successRate: 0.99, ttftMs: 1000, tpotMs: 50 },
    now: () => now,
    random: () => 0.5,
    logger: createLogger("test", "silent"),
  });
  const sets: DecisionSet[] = [];
  const rejected: ReportRejected[] = [];
  const stream = cp.openInProcessStream(
    {},
    {
      onMessage: (bytes) => {
        const msg = fromBinary(ControlMessageSchema, bytes);
        if (msg.kind.case === "decisions") sets.push(decisionSetFromProto(msg.kind.value));
        if (msg.kind.case === "reportRejected") rejected.push(msg.kind.value);
      },
      onClose: () => undefined,
    },
  );
  stream.send(toBinary(SidecarMessageSchema, create(SidecarMessageSchema, { kind: { case: "hello", value: { nodeId: "n1", zone: "z", clusters: ["a", "b"], capabilities: ["shed", "streams"] } } })));
  let sequence = 0;
  /** One window: 50 streams to a and `bStreams` to b (those in force), with this TPOT (ms) on a and 20 ms on b. */
  const window = async (tpotA: number, over: { cut?: number; failedInStream?: number } = {}, bStreams = 50) => {
    const live = (sets.at(-1)?.clusters ?? []).filter((c) => c.state !== "open").map((c) => c.cluster);
    const clusters = (live.length > 0 ? live : ["a", "b"]).map((cluster) => {
      const tpot = cluster === "a" ? tpotA : 20;
      const n = cluster === "a" ? 50 : bStreams;
      return create(ClusterWindowSchema, {
        cluster,
        requests: n,
        totalLatency: histogram(latencyCounts(times(n, 300 + 100 * tpot))),
        streams: streamsToProto(workerStreams({ ttftMs: times(n, 300), tpotMs: times(n, tpot), tokensOut: n * 100, ...over })),
      });
    });
    const report = create(TelemetryReportSchema, { windowStartMs: BigInt(now), windowLengthMs: 1000, sequence: BigInt(++sequence), clusters });
    stream.send(toBinary(SidecarMessageSchema, create(SidecarMessageSchema, { kind: { case: "report", value: report } })));
    now += 1000;
    await cp.decide();
  };
  return { cp, sets, rejected, window, stateOfA: () => cp.currentDecisions().clusters.find((c) => c.cluster === "a")!.state };
}

describe("streams through the control plane", () => {
  it("a slow decode on one cluster opens its breaker in the decision sets pushed to the sidecar; its windows show the streams", async () => {
    const h = harness();
    // b first shows it serves 130 streams/s well: it has room for a's 50 (round-plan.ts roomElsewhere:
    // 130 less two standard errors of a 1-s window's count is 107).
    for (let i = 0; i < 20; i++) await h.window(20, {}, 130);
    assert.equal(h.stateOfA(), "closed");
    for (let i = 0; i < 4; i++) await h.window(150);
    assert.equal(h.stateOfA(), "open");
    const pushed = h.sets.at(-1)!.clusters.find((c) => c.cluster === "a")!;
    assert.equal(pushed.state, "open");
    assert.match(pushed.reason, /slow decode, no new streams/);
    const sidecar = h.cp.sidecarStatuses()[0]!;
    assert.deepEqual(sidecar.capabilities, ["shed", "streams"]);
    const b = h.cp.clusterStatuses().find((s) => s.cluster === "b")!.recent.at(-1)!.streams!;
    assert.equal(b.streams, 50);
    assert.ok(Math.abs(b.tpotP99Ms - 20) < 3, `b's TPOT p99 ${b.tpotP99Ms}`);
    assert.deepEqual(h.rejected, []);
  });

  it("streams failed inside a 200 raise the cluster's failure rate; a StreamWindow that does not add up is refused and the sidecar told why", async () => {
    const h = harness();
    await h.window(20, { cut: 5, failedInStream: 5 });
    const a = h.cp.clusterStatuses().find((s) => s.cluster === "a")!.recent.at(-1)!;
    assert.equal(a.errorRate, 0.1);
    await h.window(20, { cut: 2, failedInStream: 3 });
    assert.equal(h.rejected.length, 1);
    assert.match(h.rejected[0]!.reason, /streams\.failed_in_stream: 3 exceeds cut \(2\)/);
  });
});
