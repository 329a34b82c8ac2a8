import { test } from "node:test";
import assert from "node:assert/strict";
import type { ClusterWindowStats, Slo } from "../control-plane/src/core/types.js";
import { FEATURE_NAMES, HISTORY_WINDOWS } from "../control-plane/src/model/contract.js";
import { FeatureExtractor, WARMUP_WINDOWS, windowMeetsSlo } from "../control-plane/src/model/features.js";

const slo: Slo = { latencyMs: 2000, successRate: 0.99 };
const col = (name: (typeof FEATURE_NAMES)[number]): number => FEATURE_NAMES.indexOf(name);

function win(cluster: string, second: number, over: Partial<ClusterWindowStats> = {}): ClusterWindowStats {
  const requests = over.requests ?? 100;
  return {
    cluster,
    windowStartMs: second * 1000,
    windowLengthMs: 1000,
    requests,
    errors5xx: 0,
    localRejects: 0,
    timeouts: 0,
    resets: 0,
    grpcErrors: 0,
    errorRate: 0,
    p50Ms: 100,
    p95Ms: 300,
    p99Ms: 500,
    rps: requests,
    reporters: 1,
    ...over,
  };
}

test("a healthy history gives ratios of 1, no slopes and the cluster's traffic share", () => {
  const fx = new FeatureExtractor(slo);
  const a = Array.from({ length: 12 }, (_, s) => win("a", s, { requests: 300, rps: 300 }));
  const b = Array.from({ length: 12 }, (_, s) => win("b", s, { requests: 100, rps: 100 }));
  const rows = fx.extract(new Map([["a", a], ["b", b]]));
  const ra = rows.get("a")!;
  assert.equal(ra.length, FEATURE_NAMES.length);
  for (const name of ["rate_ratio", "p50_ratio", "p95_ratio", "p99_ratio"] as const) assert.ok(Math.abs(ra[col(name)]! - 1) < 1e-6, name);
  for (const name of ["rate_ratio_slope", "p99_ratio_slope", "error_rate_slope"] as const) assert.ok(Math.abs(ra[col(name)]!) < 1e-6, name);
  assert.ok(Math.abs(ra[col("traffic_share")]! - 0.75) < 1e-6);
  assert.ok(Math.abs(rows.get("b")![col("traffic_share")]! - 0.25) < 1e-6);
  assert.ok(Math.abs(ra[col("p99_over_slo")]! - 0.25) < 1e-6);
});

test("a latency creep shows as p99 ratio above 1 with a positive slope, and does not move the baseline once over the SLO", () => {
  const fx = new FeatureExtractor(slo);
  const history: ClusterWindowStats[] = [];
  // 40 healthy seconds at p99 500 ms, then p99 grows 200 ms per second for 10 s (to 2500 ms).
  for (let s = 0; s < 40; s++) {
    history.push(win("a", s));
    fx.extract(new Map([["a", history.slice(-HISTORY_WINDOWS)]]));
  }
  for (let s = 40; s < 50; s++) {
    history.push(win("a", s, { p99Ms: 500 + 200 * (s - 39) }));
    fx.extract(new Map([["a", history.slice(-HISTORY_WINDOWS)]]));
  }
  const row = fx.extract(new Map([["a", history.slice(-HISTORY_WINDOWS)]])).get("a")!;
  // The last three windows average p99 (2100 + 2300 + 2500) / 3 = 2300 ms, slope 200 ms/s.
  const base = fx.baseline("a")!;
  assert.ok(base.p99Ms > 500 && base.p99Ms < 700, `baseline p99 ${base.p99Ms} should have stayed near 500 ms`);
  assert.ok(Math.abs(row[col("p99_over_slo")]! - 2300 / 2000) < 1e-3);
  assert.ok(Math.abs(row[col("p99_ratio")]! - 2300 / base.p99Ms) < 1e-3);
  assert.ok(Math.abs(row[col("p99_ratio_slope")]! - 200 / base.p99Ms) < 1e-3);
  assert.ok(Math.abs(row[col("p50_ratio")]! - 1) < 1e-6);
});

test("the error rate is pooled over the newest windows and compared with the error budget", () => {
  const fx = new FeatureExtractor(slo);
  const h = [
    ...Array.from({ length: 7 }, (_, s) => win("a", s)),
    win("a", 7, { requests: 100, errorRate: 0.05, errors5xx: 5 }),
    win("a", 8, { requests: 300, rps: 300, errorRate: 0.01, errors5xx: 3 }),
    win("a", 9, { requests: 100, errorRate: 0.02, errors5xx: 2 }),
  ];
  const row = fx.extract(new Map([["a", h]])).get("a")!;
  assert.ok(Math.abs(row[col("error_rate")]! - 10 / 500) < 1e-6);
  assert.ok(Math.abs(row[col("error_over_budget")]! - 2) < 1e-4);
  assert.ok(row[col("error_rate_slope")]! > 0);
});

test("windows already seen are not folded into the baseline twice, and unhealthy windows never", () => {
  const fx = new FeatureExtractor(slo);
  const h = Array.from({ length: 5 }, (_, s) => win("a", s));
  fx.extract(new Map([["a", h]]));
  fx.extract(new Map([["a", h]]));
  assert.equal(fx.baseline("a")!.windows, 5);
  fx.extract(new Map([["a", [...h, win("a", 5, { p99Ms: 5000 }), win("a", 6, { errorRate: 0.5 })]]]));
  assert.equal(fx.baseline("a")!.windows, 5);
  assert.equal(windowMeetsSlo(win("a", 0, { requests: 0, p99Ms: NaN }), slo), false);
});

test("during warm-up the baseline is the plain mean of the healthy windows", () => {
  const fx = new FeatureExtractor(slo);
  const h = Array.from({ length: Math.min(10, WARMUP_WINDOWS) }, (_, s) => win("a", s, { p50Ms: 100 + s * 10 }));
  fx.extract(new Map([["a", h]]));
  assert.ok(Math.abs(fx.baseline("a")!.p50Ms - (100 + 4.5 * 10)) < 1e-9);
});

test("a window without requests carries the last latency forward and has rate ratio 0", () => {
  const fx = new FeatureExtractor(slo);
  const h = [
    ...Array.from({ length: 9 }, (_, s) => win("a", s)),
    win("a", 9, { requests: 0, rps: 0, p50Ms: NaN, p95Ms: NaN, p99Ms: NaN }),
  ];
  const row = fx.extract(new Map([["a", h]])).get("a")!;
  for (const v of row) assert.ok(Number.isFinite(v));
  assert.ok(Math.abs(row[col("p99_ratio")]! - 1) < 1e-6);
  assert.ok(Math.abs(row[col("rate_ratio")]! - 2 / 3) < 1e-6);
});

test("a cluster without any healthy window gets neutral ratios but its SLO-relative features", () => {
  const fx = new FeatureExtractor(slo);
  const h = Array.from({ length: 5 }, (_, s) => win("a", s, { p99Ms: 3000 }));
  const row = fx.extract(new Map([["a", h]])).get("a")!;
  assert.equal(fx.baseline("a"), undefined);
  assert.ok(Math.abs(row[col("p99_ratio")]! - 1) < 1e-6);
  assert.ok(Math.abs(row[col("p99_over_slo")]! - 1.5) < 1e-6);
});
