// A sidecar whose clock is wrong (or that lies about time) cannot blind the control plane: its
// reports are refused with a reason, it is told so on its stream, and the honest sidecars'
// windows keep closing and opening breakers. Virtual time, in-process streams.
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
import type { ReportEvent } from "../control-plane/src/core/types.js";
import { ControlPlane } from "../control-plane/src/service.js";
import { createLogger } from "../lib/log.js";

const T0 = 1_700_000_000_000;
const YEAR_2100 = 4_102_444_800_000;
const logger = createLogger("test", "silent");

interface Sidecar {
  rejected: ReportRejected[];
  /** Sends one report of `requests` requests to cluster a (a fraction `errorRate` failing) and
   *  `requests` healthy ones to b, for the window starting at startMs. */
  report(startMs: number, opts?: { errorRate?: number; requests?: number }): void;
  close(): void;
}

function harness() {
  let now = T0;
  const cp = new ControlPlane({
    clusters: [
      { name: "a", baseWeight: 50 },
      { name: "b", baseWeight: 50 },
    ],
    slo: { latencyMs: 2000, successRate: 0.99 },
    now: () => now,
    random: () => 0.5,
    logger,
  });
  const sidecar = (nodeId: string): Sidecar => {
    const rejected: ReportRejected[] = [];
    const stream = cp.openInProcessStream(
      {},
      {
        onMessage: (bytes) => {
          const msg = fromBinary(ControlMessageSchema, bytes);
          if (msg.kind.case === "reportRejected") rejected.push(msg.kind.value);
        },
        onClose: () => undefined,
      },
    );
    stream.send(toBinary(SidecarMessageSchema, create(SidecarMessageSchema, { kind: { case: "hello", value: { nodeId, zone: "z", clusters: ["a", "b"] } } })));
    let sequence = 0;
    return {
      rejected,
      report(startMs, opts = {}) {
        const n = opts.requests ?? 50;
        const h = latencyCounts(Array.from({ length: n }, (_, i) => 100 + i));
        const histogram = create(LatencyHistogramSchema, { firstBucket: h.firstBucket, counts: [...h.counts], sumUs: BigInt(h.sumUs), maxUs: BigInt(h.maxUs) });
        const clusters = [
          create(ClusterWindowSchema, { cluster: "a", requests: n, errors5xx: Math.round(n * (opts.errorRate ?? 0)), totalLatency: histogram }),
          create(ClusterWindowSchema, { cluster: "b", requests: n, totalLatency: histogram }),
        ];
        const report = create(TelemetryReportSchema, { windowStartMs: BigInt(startMs), windowLengthMs: 1000, sequence: BigInt(++sequence), clusters });
        stream.send(toBinary(SidecarMessageSchema, create(SidecarMessageSchema, { kind: { case: "report", value: report } })));
      },
      close: () => stream.close(),
    };
  };
  const events: ReportEvent[] = [];
  cp.on("report", (e) => events.push(e));
  const stateOfA = () => cp.currentDecisions().clusters.find((c) => c.cluster === "a")!.state;
  return { cp, sidecar, events, stateOfA, now: () => now, advance: (ms: number) => (now += ms) };
}

describe("telemetry judged on the control plane's clock", () => {
  it("one report from the year 2100 does not blind the control plane: honest reports after it keep being counted", async () => {
    const h = harness();
    const honest = h.sidecar("honest");
    const evil = h.sidecar("evil");
    evil.report(YEAR_2100);
    evil.close();
    const opened: number[] = [];
    for (let i = 0; i < 10; i++) {
      h.advance(1000);
      honest.report(h.now() - 1000, { errorRate: i < 3 ? 0 : 1 });
      await h.cp.decide();
      if (h.stateOfA() === "open") opened.push(i);
    }
    const honestOutcomes = h.events.filter((e) => e.nodeId === "honest").map((e) => e.outcome);
    assert.deepEqual([...new Set(honestOutcomes)], ["accepted"], `honest outcomes: ${honestOutcomes.join(", ")}`);
    assert.ok(opened.length > 0 && opened[0]! <= 5, `cluster a at 100 % failures opened after window ${opened[0]}`);
    assert.equal(h.events.find((e) => e.nodeId === "evil")!.outcome, "refused");
  });

  it("a sidecar 120 s ahead has its reports refused and is told why, while an honest sidecar's failing cluster still opens", async () => {
    const h = harness();
    const honest = h.sidecar("honest");
    const skewed = h.sidecar("skewed");
    const opened: number[] = [];
    for (let i = 0; i < 20; i++) {
      h.advance(1000);
      honest.report(h.now() - 1000, { errorRate: i < 3 ? 0 : 1 });
      skewed.report(h.now() + 120_000 - 1000);
      await h.cp.decide();
      if (h.stateOfA() === "open") opened.push(i);
    }
    assert.ok(opened.length > 0 && opened[0]! <= 5, `cluster a opened after window ${opened[0]}`);
    const skewedEvents = h.events.filter((e) => e.nodeId === "skewed");
    assert.equal(skewedEvents.length, 20);
    assert.ok(skewedEvents.every((e) => e.outcome === "refused" && e.refusal === "clock_ahead"));
    // Told on its stream, at most once per reason per 10 s: 20 refusals over 20 s, 2 notices.
    assert.equal(skewed.rejected.length, 2);
    const first = skewed.rejected[0]!;
    assert.equal(first.sequence, 1n);
    assert.equal(first.clockOffsetMs, 119_000n);
    assert.match(first.reason, /window_start_ms: \d+ is 119000 ms ahead of the control plane's clock \(allowed skew 5000 ms\)/);
    assert.match(skewed.rejected[1]!.reason, /\(10 reports refused for this reason since the last notice\)/);
    assert.equal(honest.rejected.length, 0);
    const status = h.cp.sidecarStatuses().find((s) => s.nodeId === "skewed")!;
    assert.equal(status.reports, 20);
  });

  it("a report whose counters exceed its requests is refused and its stream stays open", async () => {
    const h = harness();
    const honest = h.sidecar("honest");
    h.advance(1000);
    honest.report(h.now() - 1000, { requests: 10, errorRate: 2 });
    assert.equal(h.events.at(-1)!.outcome, "refused");
    assert.equal(h.events.at(-1)!.refusal, "counters");
    assert.match(honest.rejected[0]!.reason, /clusters\[0\] \(a\)\.errors_5xx: 20 exceeds requests \(10\)/);
    assert.equal(honest.rejected[0]!.clockOffsetMs, 0n);
    assert.equal(h.cp.sidecarStatuses().length, 1, "the stream is still connected");
  });
});
