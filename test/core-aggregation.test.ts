import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { WindowAggregator } from "../control-plane/src/core/aggregator.js";
import { reportFromProto } from "../control-plane/src/grpc/convert.js";
import { ClusterWindowSchema, TelemetryReportSchema } from "../proto/gen/autoglm/v1/traffic_guard_pb.js";
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
    assert.equal(a.ingest("w1", report(1, T0, [100, 200], 1), T0 + 1000).outcome, "accepted");
    assert.equal(a.ingest("w2", report(1, T0 + 30, [300, 400]), T0 + 1000).outcome, "accepted");
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

  it("adds the requests the workers sent (counted as they start) into the load offered per second, absent when none counted them", () => {
    const a = agg();
    const sent = (r: WorkerReport, n: number): WorkerReport => ({ ...r, clusters: r.clusters.map((c) => ({ ...c, sent: n })) });
    assert.equal(a.ingest("w1", sent(report(1, T0, [100, 200]), 7), T0 + 1000).outcome, "accepted");
    assert.equal(a.ingest("w2", sent(report(1, T0, [300]), 5), T0 + 1000).outcome, "accepted");
    const [window] = a.close(T0 + 1000);
    const statsA = window!.find((s) => s.cluster === "a")!;
    assert.deepEqual([statsA.rps, statsA.sentRps], [3, 12], "3 ended, 12 sent in the 1 s window");
    assert.equal(window!.find((s) => s.cluster === "b")!.sentRps, undefined);
  });

  it("reads the requests sent from a telemetry report on the wire (absent when the filter sent none)", () => {
    const message = create(TelemetryReportSchema, {
      windowStartMs: BigInt(T0), windowLengthMs: 1000, sequence: 1n,
      clusters: [create(ClusterWindowSchema, { cluster: "a", sent: 9 }), create(ClusterWindowSchema, { cluster: "b" })],
    });
    const got = reportFromProto(message, new Set(["a", "b"]));
    assert.ok(got.ok);
    assert.deepEqual(got.value.clusters.map((c) => c.sent), [9, undefined]);
  });

  const promptnessCases: { name: string; w1: { sent: number; sentEnded?: number }; w2: { sent: number; sentEnded?: number }; want: { sent: number; endedShare: number } | undefined }[] = [
    { name: "both workers counted them: their sums", w1: { sent: 7, sentEnded: 2 }, w2: { sent: 5, sentEnded: 4 }, want: { sent: 12, endedShare: 0.5 } },
    { name: "one worker's filter does not count them: none (a share of part of the requests)", w1: { sent: 7, sentEnded: 2 }, w2: { sent: 5 }, want: undefined },
    { name: "no worker counted them: none", w1: { sent: 7 }, w2: { sent: 5 }, want: undefined },
    { name: "a worker that sent nothing does not count against it", w1: { sent: 8, sentEnded: 2 }, w2: { sent: 0 }, want: { sent: 8, endedShare: 0.25 } },
  ];
  for (const c of promptnessCases) {
    it(`merges the requests sent and ended within the window into its promptness: ${c.name}`, () => {
      const a = agg();
      const counted = (r: WorkerReport, n: { sent: number; sentEnded?: number }): WorkerReport => ({ ...r, clusters: r.clusters.map((w) => ({ ...w, ...n })) });
      a.ingest("w1", counted(report(1, T0, [100, 200]), c.w1), T0 + 1000);
      a.ingest("w2", counted(report(1, T0, [300]), c.w2), T0 + 1000);
      const [window] = a.close(T0 + 1000);
      const p = window!.find((s) => s.cluster === "a")!.promptness;
      assert.deepEqual(p === undefined ? undefined : { sent: p.sent, endedShare: p.endedShare }, c.want);
      if (p !== undefined) {
        // 100, 200 and 300 ms in a 1 s window: (0.9 + 0.8 + 0.7) / 3 of uniformly sent requests end in it.
        assert.ok(Math.abs(p.impliedShare - 0.8) < 0.02, `implied share ${p.impliedShare}`);
        assert.equal(p.ended, 3);
      }
    });
  }

  it("reads the requests ended within their window from the wire, and refuses more of them than were sent", () => {
    const message = (sentEnded: number) => create(TelemetryReportSchema, {
      windowStartMs: BigInt(T0), windowLengthMs: 1000, sequence: 1n,
      clusters: [create(ClusterWindowSchema, { cluster: "a", sent: 9, sentEnded }), create(ClusterWindowSchema, { cluster: "b", sent: 4 })],
    });
    const got = reportFromProto(message(0), new Set(["a", "b"]));
    assert.ok(got.ok);
    assert.deepEqual(got.value.clusters.map((c) => c.sentEnded), [0, undefined], "present at 0; absent from a filter that does not count them");
    const refused = reportFromProto(message(10), new Set(["a", "b"]));
    assert.deepEqual(refused, { ok: false, error: "report.clusters[0].sent_ended: 10 is more than sent (9)" });
  });

  it("drops a repeated sequence from the same reporter as a duplicate", () => {
    const a = agg();
    a.ingest("w1", report(1, T0, [100]), T0 + 1000);
    assert.equal(a.ingest("w1", report(1, T0, [100]), T0 + 1000).outcome, "duplicate");
    assert.equal(a.ingest("w2", report(1, T0, [100]), T0 + 1000).outcome, "accepted");
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
      assert.equal(a.ingest("w2", report(1, T0, [100, 100]), T0 + 1000 + after).outcome, outcome);
      const updates = a.takeLateUpdates();
      if (outcome === "late_folded") assert.equal(updates[0]![0]!.requests, 3);
      else assert.equal(updates.length, 0);
    });
  }

  it("waits for a reporter that said hello but has not reported yet (the first window after a start)", () => {
    const a = agg();
    a.expect("w1", T0);
    a.expect("w2", T0);
    a.ingest("w1", report(1, T0, [100]), T0 + 1000);
    assert.equal(a.close(T0 + 1000).length, 0, "w2 is expected: the window stays open");
    assert.equal(a.ingest("w2", report(1, T0, [200, 300]), T0 + 1100).outcome, "accepted");
    const [window] = a.close(T0 + 1100);
    assert.deepEqual([window![0]!.requests, window![0]!.reporters, window![0]!.missingReporters], [3, 2, 0]);
  });

  it("closes a window without an expected reporter that never reports after the close delay, counting it missing", () => {
    const a = agg();
    a.expect("w1", T0);
    a.expect("w2", T0);
    a.ingest("w1", report(1, T0, [100]), T0 + 1000);
    const [window] = a.close(T0 + 1000 + DEFAULT_CONFIG.aggregation.closeDelayMs);
    assert.equal(window![0]!.missingReporters, 1);
    assert.equal(a.liveReporters, 2);
    a.expect("w1", T0 + 2000); // a second hello of a known reporter changes nothing
    assert.equal(a.liveReporters, 2);
  });

  it("stops expecting a reporter that vanished: silent for one of its windows and the TTL", () => {
    const a = agg();
    a.ingest("w1", report(1, T0, [1]), T0 + 1000);
    a.ingest("w2", report(1, T0, [1]), T0 + 1000);
    a.close(T0 + 1000);
    assert.equal(a.liveReporters, 2);
    const later = T0 + 1000 + 1000 + DEFAULT_CONFIG.aggregation.reporterTtlMs + 1;
    a.ingest("w1", report(2, later - 1000, [1]), later);
    assert.equal(a.hasCompleteWindow(later), true, "only w1 is expected now");
    assert.equal(a.liveReporters, 1);
  });
});

describe("reports judged on the control plane's clock", () => {
  const YEAR_2100 = 4_102_444_800_000;

  it("a report from the year 2100 is refused, and the honest reports after it are still counted", () => {
    const a = agg();
    const refused = a.ingest("evil", report(1, YEAR_2100, [100]), T0);
    assert.equal(refused.outcome, "refused");
    assert.equal(refused.refusal?.reason, "clock_ahead");
    assert.equal(refused.refusal?.clockOffsetMs, YEAR_2100 - T0);
    a.forget("evil");
    for (let i = 0; i < 5; i++) {
      const start = T0 + i * 1000;
      assert.equal(a.ingest("w1", report(i + 1, start, [100, 100]), start + 1000).outcome, "accepted", `window ${i}`);
      const closed = a.close(start + 1000);
      assert.equal(closed.length, 1, `window ${i} closes`);
      assert.equal(closed[0]![0]!.requests, 2);
    }
    assert.equal(a.counters.lateDropped, 0);
    assert.equal(a.refusedByReason.get("clock_ahead"), 1);
  });

  it("a reporter whose clock runs a little ahead cannot close a window before the control plane's clock reaches it", () => {
    const a = agg();
    // 3 s ahead: within the allowed skew, so accepted, but its window is still in the future.
    assert.equal(a.ingest("ahead", report(1, T0 + 3000, [100]), T0 + 1000).outcome, "accepted");
    assert.equal(a.close(T0 + 1000).length, 0, "the future window stays open");
    assert.equal(a.ingest("honest", report(1, T0, [100, 100]), T0 + 1000).outcome, "accepted");
    const closed = a.close(T0 + 1000 + DEFAULT_CONFIG.aggregation.closeDelayMs);
    assert.equal(closed[0]![0]!.windowStartMs, T0);
    assert.equal(closed[0]![0]!.requests, 2);
  });

  const withCluster = (patch: Partial<WorkerReport["clusters"][number]>, base: Partial<WorkerReport> = {}): WorkerReport => ({
    ...report(1, T0, [100, 200, 300]),
    ...base,
    clusters: [{ ...clusterWindow({ cluster: "a", latenciesMs: [100, 200, 300] }), ...patch }],
  });
  const refusals: [name: string, report: WorkerReport, reason: string, message: RegExp][] = [
    ["a window 120 s ahead", report(1, T0 + 120_000, [1]), "clock_ahead", /window_start_ms: .* 119000 ms ahead .*allowed skew 5000 ms/],
    ["a window that ended 60 s ago", report(1, T0 - 60_000, [1]), "clock_behind", /ended 60000 ms before/],
    ["a window length of 0", withCluster({}, { windowLengthMs: 0 }), "window_length", /window_length_ms: 0 is outside \[10, 3600000\]/],
    ["a window length of 5 ms", withCluster({}, { windowLengthMs: 5 }), "window_length", /window_length_ms: 5/],
    ["a window length over an hour", withCluster({}, { windowLengthMs: 3_600_001 }), "window_length", /window_length_ms: 3600001/],
    ["more 5xx than requests", withCluster({ errors5xx: 4 }), "counters", /clusters\[0\] \(a\)\.errors_5xx: 4 exceeds requests \(3\)/],
    ["more timeouts than requests", withCluster({ timeouts: 4 }), "counters", /timeouts: 4 exceeds/],
    ["more resets than requests", withCluster({ resets: 9 }), "counters", /resets: 9 exceeds/],
    ["more gRPC errors than requests", withCluster({ grpcErrors: 4 }), "counters", /grpc_errors: 4 exceeds/],
    ["more failed requests than requests", withCluster({ failed: 4 }), "counters", /clusters\[0\] \(a\)\.failed: 4 exceeds requests \(3\)/],
    ["fewer failed requests than 5xx", withCluster({ errors5xx: 2, failed: 1 }), "counters", /\.failed: 1 is fewer than errors_5xx \(2\), each of which failed/],
    ["fewer failed requests than timeouts", withCluster({ timeouts: 2, errors5xx: 2, failed: 1 }), "counters", /\.failed: 1 is fewer than errors_5xx \(2\)/],
    ["a histogram with fewer values than requests", withCluster({ requests: 30 }), "histogram", /total_latency: holds 3 values for 30 requests/],
    ["a histogram with more values than requests", withCluster({ requests: 1 }), "histogram", /total_latency: holds 3 values for 1 requests/],
  ];
  for (const [name, bad, reason, message] of refusals) {
    it(`a report with ${name} is refused (${reason}) and changes nothing`, () => {
      const a = agg();
      const result = a.ingest("w1", bad, T0 + 1000);
      assert.equal(result.outcome, "refused");
      assert.equal(result.refusal?.reason, reason);
      assert.match(result.refusal!.message, message);
      assert.equal(a.liveReporters, 0, "a refused report does not make its reporter live");
      assert.deepEqual(a.close(T0 + 60_000), []);
    });
  }

  it("a consistent report with overlapping failure counters is accepted", () => {
    const a = agg();
    assert.equal(a.ingest("w1", withCluster({ errors5xx: 3, resets: 3, timeouts: 3 }), T0 + 1000).outcome, "accepted");
  });

  // Envoy answers an upstream timeout with a local 504 (UT) and a failed connection with a local
  // 503 (UF): the filter counts such a request in errors_5xx and in timeouts or resets, and once
  // in failed. Of three requests: one timed out, one refused, one answered.
  const failedCases: { name: string; patch: Partial<WorkerReport["clusters"][number]>; errorRate: number }[] = [
    { name: "from a filter that counts failed requests, each failed request counts once", patch: { errors5xx: 2, timeouts: 1, resets: 1, failed: 2 }, errorRate: 2 / 3 },
    { name: "from a filter that does not, the overlapping counts add up, at most every request", patch: { errors5xx: 2, timeouts: 1, resets: 1 }, errorRate: 1 },
    { name: "a gRPC error inside a 200 and a 5xx count as two", patch: { errors5xx: 1, grpcErrors: 1, failed: 2 }, errorRate: 2 / 3 },
  ];
  for (const c of failedCases) {
    it(`a window's error rate: ${c.name}`, () => {
      const a = agg();
      assert.equal(a.ingest("w1", withCluster(c.patch), T0 + 1000).outcome, "accepted");
      const [window] = a.close(T0 + 1000 + DEFAULT_CONFIG.aggregation.closeDelayMs);
      assert.equal(window!.find((s) => s.cluster === "a")!.errorRate, c.errorRate);
    });
  }

  it("two workers' windows, one from a filter without the failed count, add their failed requests", () => {
    const a = agg();
    assert.equal(a.ingest("w1", withCluster({ errors5xx: 1, timeouts: 1, failed: 1 }), T0 + 1000).outcome, "accepted");
    assert.equal(a.ingest("w2", withCluster({ errors5xx: 1, resets: 1 }), T0 + 1000).outcome, "accepted");
    const [window] = a.close(T0 + 1000 + DEFAULT_CONFIG.aggregation.closeDelayMs);
    assert.equal(window!.find((s) => s.cluster === "a")!.errorRate, (1 + 2) / 6);
  });

  it("a report's failed count reaches the aggregator from the wire: present at 0, absent from an older filter", () => {
    const message = (failed?: number) => create(TelemetryReportSchema, {
      windowStartMs: BigInt(T0), windowLengthMs: 1000, sequence: 1n,
      clusters: [create(ClusterWindowSchema, { cluster: "a", requests: 2, ...(failed === undefined ? {} : { failed }) })],
    });
    const known = new Set(["a"]);
    const at0 = reportFromProto(message(0), known);
    const absent = reportFromProto(message(), known);
    assert.ok(at0.ok && absent.ok);
    assert.equal(at0.value.clusters[0]!.failed, 0);
    assert.equal(absent.value.clusters[0]!.failed, undefined);
  });
});

describe("reporters whose windows are longer than the reporter TTL", () => {
  // Two workers reporting 10-s windows (twice the 5-s TTL), each once per window. Before, both
  // were given up between their reports, so a window closed as complete when the first one
  // reported it and the round decided on half the load (the other folded in late).
  const LENGTH = 10_000;
  const tenSecond = (seq: number, startMs: number, latA: number[]): WorkerReport => ({ ...report(seq, startMs, latA), windowLengthMs: LENGTH });
  const cases: { name: string; secondAfterMs: number; closesAt: number; reporters: number; missing: number }[] = [
    { name: "a window waits for the other worker's report that comes a moment later, and holds both", secondAfterMs: 5, closesAt: 5, reporters: 2, missing: 0 },
    { name: "a worker that does not report by the close delay is counted missing, not forgotten", secondAfterMs: DEFAULT_CONFIG.aggregation.closeDelayMs + 100, closesAt: DEFAULT_CONFIG.aggregation.closeDelayMs, reporters: 1, missing: 1 },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const a = agg();
      a.ingest("w1", tenSecond(1, T0, [100]), T0 + LENGTH);
      a.ingest("w2", tenSecond(1, T0, [100]), T0 + LENGTH);
      a.close(T0 + LENGTH);
      const end = T0 + 2 * LENGTH;
      a.ingest("w1", tenSecond(2, T0 + LENGTH, [100]), end);
      assert.equal(a.close(end).length, 0, "w2 is still expected ten seconds after its last report");
      if (c.secondAfterMs <= c.closesAt) a.ingest("w2", tenSecond(2, T0 + LENGTH, [100, 100]), end + c.secondAfterMs);
      const [window] = a.close(end + c.closesAt);
      assert.deepEqual([window![0]!.reporters, window![0]!.missingReporters], [c.reporters, c.missing]);
      assert.equal(a.liveReporters, 2);
    });
  }
});

