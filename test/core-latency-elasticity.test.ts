// How a cluster's latency follows its own load (control-plane/src/core/latency-elasticity.ts), and
// what the capacity estimator makes of it (capacity.ts: no exploration above the safe level of a
// cluster whose latency follows its load's swings).
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { CapacityEstimator } from "../control-plane/src/core/capacity.js";
import { DEFAULT_CONFIG } from "../control-plane/src/core/config.js";
import { fitSlope, LatencyElasticity } from "../control-plane/src/core/latency-elasticity.js";
import { clusterWindow } from "./cluster-window.js";

describe("the least-squares slope", () => {
  const cases: { name: string; xs: number[]; ys: number[]; slope: number; se: (se: number) => boolean }[] = [
    { name: "of points on a line is the line's slope, with no error", xs: [0, 1, 2, 3], ys: [1, 3, 5, 7], slope: 2, se: (se) => se < 1e-12 },
    { name: "of a flat cloud is about 0", xs: [0, 1, 2, 3, 4], ys: [1, 0, 1, 0, 1], slope: 0, se: (se) => se > 0.1 },
    { name: "of too few points is unknown", xs: [0, 1], ys: [0, 1], slope: NaN, se: Number.isNaN },
    { name: "without any spread of x is unknown", xs: [2, 2, 2], ys: [0, 1, 2], slope: NaN, se: Number.isNaN },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const got = fitSlope(c.xs, c.ys);
      if (Number.isNaN(c.slope)) assert.ok(Number.isNaN(got.slope));
      else assert.ok(Math.abs(got.slope - c.slope) < 1e-9, `slope ${got.slope}`);
      assert.ok(c.se(got.standardError), `standard error ${got.standardError}`);
    });
  }

  it("keeps only the newest samples and ignores samples without load or latency", () => {
    const e = new LatencyElasticity();
    for (let i = 1; i <= 30; i++) e.add(i, 100);
    e.add(0, 100);
    e.add(10, Number.NaN);
    assert.equal(e.estimate().samples, 20);
  });
});

describe("a cluster's room above what it served well", () => {
  /**
   * 2-s windows of a cluster of capacity 70 rps at a mean load of `meanRps` that swings by ±6 %
   * (a slow wave), its median latency 200 ms times an M/M/1 queue's 1 / (1 - u) at utilisation u,
   * normalised to 1 at 10 % busy; 200 requests and more per window, so every window is a sample.
   */
  function estimateAt(meanRps: number): ReturnType<CapacityEstimator["estimate"]> {
    const e = new CapacityEstimator(DEFAULT_CONFIG.weights);
    for (let i = 0; i < 300; i++) {
      const rps = meanRps * (1 + 0.06 * Math.sin((2 * Math.PI * i) / 37));
      const p50 = (200 * 0.9) / (1 - rps / 70);
      e.update(clusterWindow({ windowStartMs: i * 2000, windowLengthMs: 2000, requests: Math.round(rps * 2 * 5), rps, p50Ms: p50, p95Ms: p50 * 3, p99Ms: p50 * 5 }), 20, false);
    }
    return e.estimate();
  }
  const cases: { name: string; meanRps: number; growth: number }[] = [
    { name: "far from its capacity (a quarter busy: latency barely follows its load), the exploration step", meanRps: 17, growth: DEFAULT_CONFIG.weights.exploreGrowth },
    { name: "close to it (three quarters busy: latency follows every swing of its load), none", meanRps: 52, growth: 0 },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const got = estimateAt(c.meanRps);
      assert.ok(Math.abs(got.limitRps / got.safeRps - (1 + c.growth)) < 1e-9, `limit ${got.limitRps}, safe ${got.safeRps}`);
    });
  }
});
