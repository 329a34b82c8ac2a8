import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { WindowAggregator } from "../control-plane/src/core/aggregator.js";
import { DEFAULT_CONFIG } from "../control-plane/src/core/config.js";
import { bucketBounds, bucketOf, quantileFromCounts, BUCKET_COUNT } from "../control-plane/src/core/latency-buckets.js";
import { clusterWindow } from "../control-plane/src/core/report-builder.js";
import type { WorkerReport } from "../control-plane/src/core/types.js";

const T0 = 1_700_000_000_000;
const agg = () => new WindowAggregator(["a", "b"], 2000, DEFAULT_CONFIG.aggregation);
const report = (seq: number, startMs: number, latA: number[], errorsA = 0): WorkerReport => ({
  windowStartMs: startMs,
  windowLengthMs: 1000,
  sequence: seq,
  enforcedVersion: 0,
  clusters: [clusterWindow({ cluster: "a", latenciesMs: latA, errors5xx: errorsA })],
});

describe("latency buckets", () => {
  const cases: [valueUs: number, bucket: number][] = [
    [0, 0],
    [15, 15],
    [16, 16],
    [17, 16],
    [18, 17],
    [31, 23],
    [32, 24],
    [1000, 16 + (9 - 4) * 8 + ((1000 >> 6) & 7)],
    [2 ** 32, 239],
  ];
  for (const [v, b] of cases) {
    it(`a value of ${v} us falls in bucket ${b}, whose bounds hold it`, () => {
      assert.equal(bucketOf(v), b);
      const [lo, hi] = bucketBounds(b);
      if (b < BUCKET_COUNT - 1) assert.ok(v >= lo && v < hi, `${v} in [${lo}, ${hi})`);
    });
  }
  it("quantiles of merged counts are within a bucket's width of the true value", () => {
    const counts = new Float64Array(BUCKET_COUNT);
    for (let ms = 1; ms <= 1000; ms++) counts[bucketOf(ms * 1000)]!++;
    for (const [q, expectMs] of [[0.5, 500], [0.95, 950], [0.99, 990]] as const) {
      const got = quantileFromCounts(counts, 1000, q) / 1000;
      assert.ok(Math.abs(got - expectMs) / expectMs < 0.125, `q${q}: ${got} vs ${expectMs}`);
    }
  });
});

describe("window aggregation", () => {
  it("merges the reports of all workers of one window per cluster", () => {
    const a = agg();
    assert.equal(a.ingest("w1", report(1, T0, [100, 200], 1), T0 + 1000), "accepted");
    assert.equal(a.ingest("w2", report(1, T0 + 30, [300, 400]), T0 + 1000), "accepted");
    const [window] = a.close(T0 + 1000);
    const statsA = window!.find((s) => s.cluster === "a")!;
    assert.equal(statsA.requests, 4);
    assert.equal(statsA.errors5xx, 1);
    assert.equal(statsA.errorRate, 0.25);
    assert.equal(statsA.reporters, 2);
    assert.equal(statsA.rps, 4);
    assert.ok(statsA.p50Ms > 150 && statsA.p50Ms < 260, `p50 ${statsA.p50Ms}`);
    const statsB = window!.find((s) => s.cluster === "b")!;
    assert.equal(statsB.requests, 0);
    assert.ok(Number.isNaN(statsB.p99Ms));
  });

  it("drops a repeated sequence from the same reporter as a duplicate", () => {
    const a = agg();
    a.ingest("w1", report(1, T0, [100]), T0 + 1000);
    assert.equal(a.ingest("w1", report(1, T0, [100]), T0 + 1000), "duplicate");
    assert.equal(a.ingest("w2", report(1, T0, [100]), T0 + 1000), "accepted");
    const [window] = a.close(T0 + 1000);
    assert.equal(window![0]!.requests, 2);
  });

  it("keeps a window open until every live reporter reported or the close delay passed", () => {
    const a = agg();
    a.ingest("w1", report(1, T0 - 1000, [1]), T0);
    a.ingest("w2", report(1, T0 - 1000, [1]), T0);
    a.close(T0 + 10); // both reported the first window: closed
    a.ingest("w1", report(2, T0, [100]), T0 + 1000);
    assert.equal(a.close(T0 + 1100).length, 0, "w2 still expected");
    const closed = a.close(T0 + 1000 + DEFAULT_CONFIG.aggregation.closeDelayMs);
    assert.equal(closed.length, 1);
    assert.equal(closed[0]![0]!.missingReporters, 1);
  });

  const lateCases: [name: string, arriveAfterEndMs: number, outcome: string][] = [
    ["within the grace period is folded in", 1000, "late_folded"],
    ["after the grace period is dropped", DEFAULT_CONFIG.aggregation.lateGraceMs + 1000, "late_dropped"],
  ];
  for (const [name, after, outcome] of lateCases) {
    it(`a report for a closed window ${name}`, () => {
      const a = agg();
      a.ingest("w1", report(1, T0, [100]), T0 + 1000);
      a.close(T0 + 1000);
      assert.equal(a.ingest("w2", report(1, T0, [100, 100]), T0 + 1000 + after), outcome);
      const updates = a.takeLateUpdates();
      if (outcome === "late_folded") assert.equal(updates[0]![0]!.requests, 3);
      else assert.equal(updates.length, 0);
    });
  }

  it("stops expecting a reporter that vanished", () => {
    const a = agg();
    a.ingest("w1", report(1, T0, [1]), T0 + 1000);
    a.ingest("w2", report(1, T0, [1]), T0 + 1000);
    a.close(T0 + 1000);
    assert.equal(a.liveReporters, 2);
    const later = T0 + 1000 + DEFAULT_CONFIG.aggregation.reporterTtlMs + 1;
    a.ingest("w1", report(2, later - 1000, [1]), later);
    assert.equal(a.hasCompleteWindow(later), true, "only w1 is expected now");
    assert.equal(a.liveReporters, 1);
  });
});
