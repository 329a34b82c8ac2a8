// The capacity estimator (control-plane/src/core/capacity.ts) on plain windows: the safe level,
// the knee, and how a knee is re-tested once the cluster serves well close under it again.
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { CapacityEstimator } from "../control-plane/src/core/capacity.js";
import { DEFAULT_CONFIG } from "../control-plane/src/core/config.js";
import type { ClusterWindowStats } from "../control-plane/src/core/types.js";
import { clusterWindow } from "./cluster-window.js";

/** A merged 10-s window at `rps` (10 × rps requests: at 20 rps and more, a whole latency sample,
 *  CAPACITY_POOL_REQUESTS) and median latency `p50Ms`, without errors. */
function windowAt(rps: number, p50Ms: number): ClusterWindowStats {
  return clusterWindow({ windowStartMs: 0, windowLengthMs: 10_000, requests: rps * 10, p50Ms, p95Ms: p50Ms * 2, p99Ms: p50Ms * 3, rps });
}

/** An estimator fed `windows` as [rps, p50 ms] pairs. */
function fed(windows: Array<[number, number]>): CapacityEstimator {
  const e = new CapacityEstimator(DEFAULT_CONFIG.weights);
  for (const [rps, p50] of windows) e.update(windowAt(rps, p50), 5, false);
  return e;
}

const BASELINE: Array<[number, number]> = Array.from({ length: 5 }, () => [40, 100]);
/** Slow (2× baseline) at 50 rps, just above the 40 seen safe: a knee at 50. */
const KNEE: Array<[number, number]> = [[50, 200]];

describe("the capacity estimator", () => {
  const cases: Array<{ name: string; windows: Array<[number, number]>; expect: (k: number, safe: number) => boolean }> = [
    { name: "latency near its baseline raises the safe level, and no knee is known", windows: [...BASELINE, [60, 110]], expect: (k, safe) => k === Infinity && safe >= 60 * 0.99 },
    { name: "slow at a load above the safe level: a knee there", windows: [...BASELINE, ...KNEE], expect: (k) => k >= 50 && k < 51 },
    { name: "latency fine above the knee in two samples in a row: the knee is forgotten", windows: [...BASELINE, ...KNEE, [55, 105], [56, 104]], expect: (k) => k === Infinity },
    {
      name: "latency fine above the knee in one sample (the first after a step up in load, its queue not built yet): the knee stays",
      windows: [...BASELINE, ...KNEE, [55, 105]],
      expect: (k) => k >= 50 && k < 51,
    },
    {
      name: "a fast sample above the knee, then a slow one at that load: the knee stays",
      windows: [...BASELINE, ...KNEE, [55, 105], [55, 200]],
      expect: (k) => k >= 50 && k < 51,
    },
    {
      name: "fast samples above the knee with one under it between them: not in a row, the knee is only re-tested above them",
      windows: [...BASELINE, ...KNEE, [55, 105], [45, 105], [55, 105]],
      expect: (k) => Math.abs(k - 55 * (1 + DEFAULT_CONFIG.weights.exploreGrowth)) < 1,
    },
    {
      name: "latency fine close under the knee: the knee is re-tested one exploration step above that load",
      windows: [...BASELINE, ...KNEE, [45, 105]],
      expect: (k) => Math.abs(k - 45 * (1 + DEFAULT_CONFIG.weights.exploreGrowth)) < 1e-6,
    },
    { name: "latency fine far under the knee: the knee stays", windows: [...BASELINE, ...KNEE, [20, 100]], expect: (k) => k >= 50 && k < 51 },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const e = fed(c.windows).estimate();
      assert.ok(c.expect(e.kneeRps, e.safeRps), `knee ${e.kneeRps}, safe ${e.safeRps}`);
    });
  }

  it("a window failing and slow at a load past what the cluster was trusted with marks a knee there", () => {
    // 40 rps seen safe; 60 rps (past 40 × 1.3) with 10 % failing and the median 3 times the
    // baseline: an overload fails as a fault does, but the load says which.
    const cases: Array<{ name: string; rps: number; p50Ms: number; knee: number }> = [
      { name: "past the exploration step, slow", rps: 60, p50Ms: 300, knee: 60 },
      { name: "within the exploration step (a fault at a load it may carry)", rps: 50, p50Ms: 300, knee: Infinity },
      { name: "past the exploration step, at its baseline latency (errors, not a queue)", rps: 60, p50Ms: 100, knee: Infinity },
    ];
    for (const c of cases) {
      const e = fed(BASELINE);
      e.update(clusterWindow({ windowStartMs: 0, windowLengthMs: 10_000, requests: c.rps * 10, errors5xx: c.rps, errorRate: 0.1, p50Ms: c.p50Ms, p95Ms: c.p50Ms * 2, p99Ms: c.p50Ms * 3, rps: c.rps }), 5, true);
      const knee = e.estimate().kneeRps;
      assert.ok(c.knee === Infinity ? knee === Infinity : Math.abs(knee - c.knee) < 0.5, `${c.name}: knee ${knee}`);
    }
  });

  it("a window a live reporter did not report (part of the load) sets no knee and no safe level", () => {
    // 38 rps counted of the 120 the cluster carried, at its usual latency of that load (slow
    // against the baseline learnt at 40 rps): read as whole, it would put a knee at 40.
    const e = fed(BASELINE);
    e.update(clusterWindow({ windowStartMs: 0, windowLengthMs: 10_000, requests: 380, p50Ms: 250, p95Ms: 500, p99Ms: 750, rps: 38, missingReporters: 3 }), 5, false);
    assert.deepEqual([e.estimate().kneeRps, Math.round(e.estimate().safeRps)], [Infinity, 40]);
    e.update(clusterWindow({ windowStartMs: 0, windowLengthMs: 10_000, requests: 380, p50Ms: 250, p95Ms: 500, p99Ms: 750, rps: 38, missingReporters: 0 }), 5, false);
    assert.ok(e.estimate().kneeRps < 41, "the same window complete is a knee (at the safe level)");
  });
});

describe("a cluster whose windows are thin", () => {
  /**
   * 1-s windows of `rps` requests whose medians scatter as a thin window's do: log-normal latency
   * with p99 7.2 times p50 (sigma 0.85) has a median off by 1.25 × 0.85 / sqrt(n) in log terms
   * (one standard error: 15 % at 50 requests). Drawn from a fixed sequence (a seeded LCG).
   */
  function noisyWindows(count: number, rps: number, p50Ms: number, seed: number): ClusterWindowStats[] {
    let state = seed >>> 0;
    const uniform = () => {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      return (state + 0.5) / 2 ** 32;
    };
    const se = (1.2533 * 0.85) / Math.sqrt(rps);
    return Array.from({ length: count }, () => {
      const z = Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
      const p50 = p50Ms * Math.exp(se * z);
      return clusterWindow({ windowStartMs: 0, requests: rps, rps, p50Ms: p50, p95Ms: p50 * 4, p99Ms: p50 * 7.2 });
    });
  }

  it("a steady load whose window medians scatter by their noise is never trusted with less than itself", () => {
    // 50 rps, a quarter of what the cluster could carry, for ten minutes: judged window by window,
    // some window's median reads 1.6 times a baseline that settled low, and the knee (and the
    // limit under it) lands at the load the cluster carries well. Judged on the least it was
    // trusted with after its first minute.
    for (const seed of [1, 2, 3, 4, 5]) {
      const e = new CapacityEstimator(DEFAULT_CONFIG.weights);
      let leastLimit = Infinity;
      noisyWindows(600, 50, 200, seed).forEach((w, i) => {
        e.update(w, 20, false);
        if (i >= 60) leastLimit = Math.min(leastLimit, e.estimate().limitRps);
      });
      assert.ok(leastLimit >= 50, `seed ${seed}: least limit ${leastLimit} rps at a load of 50`);
    }
  });

  it("windows each too thin to judge are pooled, so the load they carry is learnt", () => {
    // 10 requests a window, under the detector's 20: judged alone, no window teaches anything and
    // the capacity stays unknown (explored from whatever load it carries) however long it serves.
    for (const seed of [1, 2, 3, 4, 5]) {
      const e = new CapacityEstimator(DEFAULT_CONFIG.weights);
      for (const w of noisyWindows(600, 10, 200, seed)) e.update(w, 20, false);
      const got = e.estimate();
      assert.ok(Number.isFinite(got.limitRps) && got.safeRps >= 9, `seed ${seed}: safe ${got.safeRps}, limit ${got.limitRps}`);
    }
  });
});

/** A merged 1-s window of 100 requests of which `badFraction` failed. */
function windowBad(badFraction: number, requests = 100): ClusterWindowStats {
  return clusterWindow({ windowStartMs: 0, requests, errors5xx: Math.round(requests * badFraction), errorRate: badFraction });
}

describe("a cluster's usual bad fraction", () => {
  const cases: Array<{ name: string; bad: number[]; requests?: number; expect: (usual: number) => boolean }> = [
    { name: "is what it shows when it shows the same", bad: Array(20).fill(0.02), expect: (u) => Math.abs(u - 0.02) < 1e-9 },
    { name: "follows a fall beyond the noise within a few samples, then the rest of it", bad: [...Array(20).fill(0.05), ...Array(120).fill(0.01)], expect: (u) => Math.abs(u - 0.01) < 2e-3 },
    {
      // One error every other window of 20 requests: 5 % and 0 % in turn, 2.5 % in all. A tracker
      // that followed each low window at once and high ones slowly learnt about 0 here.
      name: "a steady error rate in thin windows is learnt as itself, not as the low end of its spread",
      bad: Array.from({ length: 400 }, (_, i) => (i % 2 === 0 ? 0.05 : 0)),
      requests: 20,
      expect: (u) => Math.abs(u - 0.025) < 0.003,
    },
    {
      // Fewer requests than one pooled sample: until a sample is full, what the cluster showed so
      // far is its usual level (not "unknown", which the planner reads as 0: every cluster a
      // little worse than another would then move in the first rounds).
      name: "is what its first judged windows showed, before a full sample",
      bad: [0.03],
      requests: 100,
      expect: (u) => Math.abs(u - 0.03) < 1e-9,
    },
    { name: "follows a rise only slowly: two minutes of a fault are not its normal", bad: [...Array(20).fill(0.01), ...Array(120).fill(0.3)], expect: (u) => u < 0.02 },
    { name: "takes a lasting change over hours for its normal", bad: [...Array(20).fill(0.01), ...Array(4 * 3600).fill(0.05)], expect: (u) => u > 0.045 },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const e = new CapacityEstimator(DEFAULT_CONFIG.weights);
      for (const bad of c.bad) e.update(windowBad(bad, c.requests), 5, false);
      const usual = e.estimate().usualBadFraction!;
      assert.ok(c.expect(usual), `usual ${usual}`);
    });
  }
});

describe("a cluster whose answers are streamed", () => {
  /** A window at `rps`, all streams unless `streams` says how many, whose total p50 is 4 s (long answers) and whose TTFT p50 is `ttftMs`. */
  function streamedAt(rps: number, ttftMs: number, streams?: number): ClusterWindowStats {
    const w = windowAt(rps, 4000);
    streams ??= w.requests;
    return {
      ...w,
      streams: {
        streams, firstTokens: streams, cut: 0, failedInStream: 0, tokensOut: streams * 100, tokensEstimated: 0, tokensPerSecond: streams * 100, lengthMs: 1000,
        ttftP50Ms: ttftMs, ttftP99Ms: ttftMs * 3, tpotP50Ms: 25, tpotP99Ms: 60, maxGapP99Ms: 100, ttftSlow: 0, tpotSlow: 0,
        ttft: { firstBucket: 0, counts: [] }, tpot: { firstBucket: 0, counts: [] }, maxGap: { firstBucket: 0, counts: [] },
      },
    };
  }
  const cases: Array<{ name: string; windows: ClusterWindowStats[]; knee: (k: number) => boolean }> = [
    {
      name: "its knee is learnt from the time to first token: the total time of a long answer does not grow with load",
      windows: [...Array.from({ length: 5 }, () => streamedAt(40, 200)), streamedAt(50, 800)],
      knee: (k) => k >= 50 && k < 51,
    },
    {
      name: "first tokens as fast as at the safe load: no knee, however long the answers",
      windows: [...Array.from({ length: 5 }, () => streamedAt(40, 200)), streamedAt(50, 210)],
      knee: (k) => k === Infinity,
    },
    {
      name: "a window with few streams among its requests is judged on its total latency",
      windows: [...Array.from({ length: 5 }, () => streamedAt(40, 200, 50)), streamedAt(50, 800, 50)],
      knee: (k) => k === Infinity,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const e = new CapacityEstimator(DEFAULT_CONFIG.weights);
      for (const w of c.windows) e.update(w, 5, false);
      const k = e.estimate().kneeRps;
      assert.ok(c.knee(k), `knee ${k}`);
    });
  }
});
