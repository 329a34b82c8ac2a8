// Streamed responses in the aggregation (control-plane/src/core/streams/stream-window.ts,
// core/aggregator.ts): StreamWindows of several sidecars merge per cluster (counters and
// histograms add), quantiles come from the merged histograms, windows pool, streams failed
// inside a 200 count once as failures, and a report whose streams do not add up is refused.
// Synthetic windows built in TypeScript (the filter's side lands separately).
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { ClusterWindowSchema, LatencyHistogramSchema, StreamWindowSchema, TelemetryReportSchema } from "../proto/gen/autoglm/v1/traffic_guard_pb.js";
import { reportFromProto } from "../control-plane/src/grpc/convert.js";
import { WindowAggregator } from "../control-plane/src/core/aggregator.js";
import { DEFAULT_CONFIG } from "../control-plane/src/core/config.js";
import { windowCounts } from "../control-plane/src/core/error-budget/index.js";
import { admitReport } from "../control-plane/src/core/report-admission.js";
import { clusterWindow } from "../control-plane/src/core/report-builder.js";
import { poolStreamStats, type WorkerStreamWindow } from "../control-plane/src/core/streams/stream-window.js";
import type { WorkerClusterWindow, WorkerReport } from "../control-plane/src/core/types.js";
import { streamsFromProto, streamsToProto } from "../control-plane/src/grpc/stream-convert.js";
import { knownCapabilities } from "../control-plane/src/core/capabilities.js";
import { mergedStreams, times, workerStreams, type StreamSample } from "./support/streams.js";

const T0 = 1_700_000_000_000;
const SLO = { ttftMs: 1000, tpotMs: 50 };

/** One worker's report for cluster a: `requests` requests of 100 ms, with `streams` (if any). */
function report(seq: number, requests: number, streams?: StreamSample, over: Partial<WorkerClusterWindow> = {}): WorkerReport {
  return {
    windowStartMs: T0,
    windowLengthMs: 1000,
    sequence: seq,
    enforcedVersion: 0,
    clusters: [{ ...clusterWindow({ cluster: "a", latenciesMs: times(requests, 100) }), ...(streams !== undefined ? { streams: workerStreams(streams) } : {}), ...over }],
  };
}

/** The merged window of cluster a after the given workers' reports. */
function merge(...reports: WorkerReport[]) {
  const agg = new WindowAggregator(["a", "b"], 2000, DEFAULT_CONFIG.aggregation, SLO);
  reports.forEach((r, i) => assert.equal(agg.ingest(`w${i}`, { ...r, sequence: 1 }, T0 + 1000).outcome, "accepted"));
  const [window] = agg.close(T0 + 1000);
  return { a: window!.find((s) => s.cluster === "a")!, b: window!.find((s) => s.cluster === "b")! };
}

/** The true q-quantile of raw samples (rank ceil(q·n)). */
function trueQuantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!;
}

describe("streams merged per cluster across sidecars", () => {
  it("counters add over the workers, and tokens per second is tokens out over the window", () => {
    const { a } = merge(
      report(1, 40, { ttftMs: times(30, 200), tpotMs: times(30, 20), maxGapMs: times(30, 60), cut: 3, failedInStream: 1, tokensOut: 3000, tokensEstimated: 500 }),
      report(1, 20, { ttftMs: times(10, 300), tpotMs: times(10, 30), maxGapMs: times(10, 90), cut: 2, failedInStream: 2, tokensOut: 1000, tokensEstimated: 0 }),
    );
    const s = a.streams!;
    assert.deepEqual(
      { streams: s.streams, cut: s.cut, failedInStream: s.failedInStream, tokensOut: s.tokensOut, tokensEstimated: s.tokensEstimated, tokensPerSecond: s.tokensPerSecond, lengthMs: s.lengthMs },
      { streams: 40, cut: 5, failedInStream: 3, tokensOut: 4000, tokensEstimated: 500, tokensPerSecond: 4000, lengthMs: 1000 },
    );
    const total = (h: { counts: readonly number[] }) => h.counts.reduce((x, y) => x + y, 0);
    assert.deepEqual([total(s.ttft), total(s.tpot), total(s.maxGap)], [40, 40, 40], "every histogram holds every stream of both workers");
  });

  it("a worker without streams adds nothing to them, and a cluster without any has no streams view", () => {
    const { a, b } = merge(report(1, 10, { ttftMs: times(5, 200) }), report(1, 10));
    assert.equal(a.streams!.streams, 5);
    assert.equal(a.requests, 20);
    assert.equal(b.streams, undefined);
    assert.equal(merge(report(1, 10)).a.streams, undefined);
  });

  const quantileCases: { name: string; workers: number[][] }[] = [
    { name: "a few slow first tokens on one sidecar among many fast ones on another", workers: [times(98, 100), times(2, 3000)] },
    { name: "three sidecars with different spreads", workers: [Array.from({ length: 50 }, (_, i) => 100 + i * 10), Array.from({ length: 30 }, (_, i) => 400 + i * 40), Array.from({ length: 20 }, (_, i) => 1500 + i * 100)] },
    { name: "one sidecar alone", workers: [Array.from({ length: 200 }, (_, i) => 50 + i * 5)] },
  ];
  for (const c of quantileCases) {
    it(`the TTFT p99 is that of the merged histogram, within a bucket of the true p99: ${c.name}`, () => {
      const { a } = merge(...c.workers.map((ttftMs) => report(1, ttftMs.length, { ttftMs, tpotMs: ttftMs.map((ms) => ms / 20) })));
      const all = c.workers.flat();
      for (const [got, want] of [[a.streams!.ttftP99Ms, trueQuantile(all, 0.99)], [a.streams!.tpotP99Ms, trueQuantile(all, 0.99) / 20], [a.streams!.ttftP50Ms, trueQuantile(all, 0.5)]] as const) {
        assert.ok(Math.abs(got - want) / want <= 0.125, `${got} vs ${want}`);
      }
      // Not the mean of the workers' own p99s (what merging views instead of histograms gives).
      if (c.workers.length > 1) {
        const meanOfP99s = c.workers.reduce((x, w) => x + trueQuantile(w, 0.99), 0) / c.workers.length;
        assert.ok(Math.abs(a.streams!.ttftP99Ms - meanOfP99s) / meanOfP99s > 0.125, `${a.streams!.ttftP99Ms} differs from ${meanOfP99s}`);
      }
    });
  }

  it("streams over each objective are counted from the merged histogram", () => {
    const { a } = merge(report(1, 20, { ttftMs: [...times(15, 300), ...times(5, 2500)], tpotMs: [...times(18, 20), ...times(2, 200)] }));
    assert.equal(a.streams!.ttftSlow, 5);
    assert.equal(a.streams!.tpotSlow, 2);
  });
});

describe("streams pooled over windows", () => {
  it("pooling adds counters, histograms and time covered; quantiles come from the pooled histogram", () => {
    const w1 = mergedStreams({ ttftMs: times(99, 100), tokensOut: 1000 }, SLO);
    const w2 = mergedStreams({ ttftMs: times(1, 5000), tokensOut: 3000 }, SLO);
    const pooled = poolStreamStats([w1, undefined, w2], SLO)!;
    assert.equal(pooled.streams, 100);
    assert.equal(pooled.lengthMs, 2000);
    assert.equal(pooled.tokensPerSecond, 2000);
    assert.equal(pooled.ttftSlow, 1);
    assert.ok(pooled.ttftP99Ms < 200, `the 99th of 100 streams is a fast one: ${pooled.ttftP99Ms}`);
    assert.ok(poolStreamStats([w1, w1, w2], SLO)!.ttftP99Ms < 200);
    assert.ok(poolStreamStats([w2], SLO)!.ttftP99Ms > 4000);
  });

  it("pooling nothing but windows without streams gives no view", () => {
    assert.equal(poolStreamStats([undefined, undefined], SLO), undefined);
  });
});

describe("streams failed inside a 200 are failures, counted once", () => {
  const cases: { name: string; over: Partial<WorkerClusterWindow>; streams: StreamSample; errorRate: number; good: number }[] = [
    { name: "an error event inside a 200 adds to the failure rate", over: {}, streams: { ttftMs: times(50, 200), cut: 4, failedInStream: 4 }, errorRate: 0.04, good: 96 },
    { name: "cut streams already counted as resets (failed_in_stream 0) are not counted again", over: { resets: 4 }, streams: { ttftMs: times(50, 200), cut: 4, failedInStream: 0 }, errorRate: 0.04, good: 96 },
    { name: "resets and in-stream errors add", over: { resets: 3, errors5xx: 2 }, streams: { ttftMs: times(50, 200), cut: 5, failedInStream: 2 }, errorRate: 0.07, good: 93 },
    { name: "streams cut and none failed inside: only the other counters", over: { errors5xx: 1 }, streams: { ttftMs: times(50, 200) }, errorRate: 0.01, good: 99 },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const { a } = merge(report(1, 100, c.streams, c.over));
      assert.ok(Math.abs(a.errorRate - c.errorRate) < 1e-12, `error rate ${a.errorRate}`);
      const budget = windowCounts([a], true).find((s) => s.scope === "a")!;
      assert.deepEqual(budget, { scope: "a", good: c.good, total: 100 }, "the error budget counts each failed request once");
    });
  }
});

describe("a report whose streams do not add up is refused, naming the field", () => {
  const limits = { maxClockSkewMs: 5000, lateGraceMs: 3000 };
  const cases: { name: string; requests: number; streams: StreamSample; reason: string; message: RegExp }[] = [
    { name: "more streams than requests", requests: 5, streams: { ttftMs: times(6, 100) }, reason: "counters", message: /streams\.streams: 6 exceeds requests \(5\)/ },
    { name: "more cut than streams", requests: 10, streams: { ttftMs: times(3, 100), cut: 4 }, reason: "counters", message: /streams\.cut: 4 exceeds streams \(3\)/ },
    { name: "more failed inside than cut", requests: 10, streams: { ttftMs: times(3, 100), cut: 1, failedInStream: 2 }, reason: "counters", message: /streams\.failed_in_stream: 2 exceeds cut \(1\)/ },
    { name: "more estimated tokens than tokens", requests: 10, streams: { ttftMs: times(3, 100), tokensOut: 5, tokensEstimated: 6 }, reason: "counters", message: /streams\.tokens_estimated: 6 exceeds tokens_out \(5\)/ },
    { name: "a TPOT histogram with more values than streams", requests: 10, streams: { ttftMs: times(3, 100), tpotMs: times(4, 10) }, reason: "histogram", message: /streams\.tpot: holds 4 values for 3 streams/ },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const refusal = admitReport(report(1, c.requests, c.streams), T0 + 1000, limits);
      assert.equal(refusal?.reason, c.reason);
      assert.match(refusal!.message, /^clusters\[0\] \(a\)\./);
      assert.match(refusal!.message, c.message);
    });
  }

  it("a TTFT histogram with more values than streams is admitted: TTFT is recorded at the first token, the stream counted when it ends", () => {
    assert.equal(admitReport(report(1, 10, { ttftMs: times(8, 100), streams: 2 }), T0 + 1000, limits), undefined);
    assert.equal(admitReport(report(1, 0, { ttftMs: times(3, 100), streams: 0 }), T0 + 1000, limits), undefined);
  });

  it("a report whose streams add up is admitted", () => {
    assert.equal(admitReport(report(1, 10, { ttftMs: times(3, 100), tpotMs: times(2, 10), cut: 1, failedInStream: 1, tokensOut: 9, tokensEstimated: 9 }), T0 + 1000, limits), undefined);
  });
});

describe("first tokens of streams that have not ended yet", () => {
  it("a window holding first tokens but no ended stream still gives TTFT (the prefill queue shows before the answers end)", () => {
    const { a } = merge(report(1, 0, { ttftMs: [400, 600, 2500], streams: 0 }));
    const s = a.streams!;
    assert.deepEqual([s.streams, s.firstTokens], [0, 3]);
    assert.ok(s.ttftP50Ms >= 550 && s.ttftP50Ms <= 650, `TTFT p50 ${s.ttftP50Ms}`);
    assert.equal(Math.round(s.ttftSlow), 1, "one first token over the 1 s objective");
  });

  it("a window without streams or first tokens has no stream view", () => {
    const { a } = merge(report(1, 10));
    assert.equal(a.streams, undefined);
  });
});

describe("the StreamWindow on the wire", () => {
  it("converts to the core's view and back without loss", () => {
    const w: WorkerStreamWindow = workerStreams({ ttftMs: [120, 250, 900], tpotMs: [20, 35], maxGapMs: [80, 400], cut: 1, failedInStream: 1, tokensOut: 812, tokensEstimated: 12 });
    const back = streamsFromProto(streamsToProto(w), "report.clusters[0]");
    assert.ok(back.ok);
    assert.deepEqual(back.value, w);
  });

  it("a telemetry report carries its clusters' streams into the core, and refuses a bad one naming its cluster", () => {
    const w = workerStreams({ ttftMs: [120, 250], tpotMs: [20], tokensOut: 40 });
    const message = (streams: ReturnType<typeof streamsToProto>) =>
      create(TelemetryReportSchema, {
        windowStartMs: BigInt(T0),
        windowLengthMs: 1000,
        sequence: 1n,
        clusters: [create(ClusterWindowSchema, { cluster: "b" }), create(ClusterWindowSchema, { cluster: "a", requests: 2, totalLatency: create(LatencyHistogramSchema, { firstBucket: 100, counts: [2] }), streams })],
      });
    const ok = reportFromProto(message(streamsToProto(w)), new Set(["a", "b"]));
    assert.ok(ok.ok);
    assert.equal(ok.value.clusters[0]!.streams, undefined, "a cluster without streams has none");
    assert.deepEqual(ok.value.clusters[1]!.streams, w);
    const bad = reportFromProto(message(create(StreamWindowSchema, { streams: 1, ttft: create(LatencyHistogramSchema, { firstBucket: 240, counts: [1] }) })), new Set(["a", "b"]));
    assert.deepEqual(bad, { ok: false, error: "report.clusters[1].streams.ttft: buckets 240..240 exceed 239" });
  });

  it("a histogram reaching past the last bucket is an error naming it", () => {
    const bad = create(StreamWindowSchema, { streams: 1, maxGap: create(LatencyHistogramSchema, { firstBucket: 239, counts: [0, 1] }) });
    assert.deepEqual(streamsFromProto(bad, "report.clusters[2]"), { ok: false, error: "report.clusters[2].streams.max_gap: buckets 239..240 exceed 239" });
  });
});

describe("the hello's capability", () => {
  it("a filter naming \"streams\" is shown as reporting them; unknown names are ignored", () => {
    assert.deepEqual(knownCapabilities(["shed", "streams", "telepathy"]), ["shed", "streams"]);
  });
});
