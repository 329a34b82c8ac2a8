import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { AlarmFilter, type WindowVerdict } from "../control-plane/src/core/alarm-filter.js";
import { DEFAULT_CONFIG } from "../control-plane/src/core/config.js";
import { DynamicBaselineScorer } from "../control-plane/src/core/scorers/dynamic-baseline.js";
import { HardRuleScorer } from "../control-plane/src/core/scorers/hard-rules.js";
import { TrendScorer } from "../control-plane/src/core/scorers/trend.js";
import type { ClusterWindowStats } from "../control-plane/src/core/types.js";

const slo = { latencyMs: 2000, successRate: 0.99 };
const win = (i: number, over: Partial<ClusterWindowStats> = {}): ClusterWindowStats => ({
  cluster: "a",
  windowStartMs: 1_000_000 + i * 1000,
  windowLengthMs: 1000,
  requests: 100,
  errors5xx: 0,
  localRejects: 0,
  timeouts: 0,
  resets: 0,
  grpcErrors: 0,
  errorRate: 0,
  p50Ms: 200,
  p95Ms: 600,
  p99Ms: 900,
  rps: 100,
  reporters: 3,
  slowRequests: 0,
  ...over,
});

describe("hard rules", () => {
  const scorer = new HardRuleScorer(slo, DEFAULT_CONFIG.detector);
  const cases: [name: string, w: Partial<ClusterWindowStats>, hard: boolean][] = [
    ["a healthy window fires nothing", {}, false],
    ["an error rate of 20% over 100 requests fires", { errorRate: 0.2 }, true],
    ["an error rate of 6% over 100 requests is not significant", { errorRate: 0.06 }, false],
    ["an error rate of 50% over 10 requests is too little evidence", { requests: 10, errorRate: 0.5 }, false],
    ["p99 over the SLO with 8% slow requests fires", { p99Ms: 2600, slowRequests: 8 }, true],
    ["p99 over the SLO from a single slow request does not", { p99Ms: 2100, slowRequests: 1.2 }, false],
  ];
  for (const [name, over, hard] of cases) {
    it(name, () => {
      const r = scorer.scoreWindow(win(0, over));
      assert.equal(r.hard, hard, JSON.stringify(r));
      assert.equal(r.score >= 0.5, hard);
    });
  }
});

describe("hard rules pool thin windows", () => {
  /** Scores a series of windows one round at a time; returns each round's verdict. */
  const rounds = (series: Partial<ClusterWindowStats>[], rescoreEach = false) => {
    const scorer = new HardRuleScorer(slo, DEFAULT_CONFIG.detector);
    const history: ClusterWindowStats[] = [];
    return series.map((over, i) => {
      history.push(win(i, over));
      const once = scorer.score(new Map([["a", history]])).get("a")!;
      return rescoreEach ? scorer.score(new Map([["a", history]])).get("a")! : once;
    });
  };

  it("12 requests per window at 90% failures: judged on the pool of two windows, and hard", () => {
    const v = rounds([0, 1, 2, 3].map(() => ({ requests: 12, errorRate: 11 / 12 })));
    assert.deepEqual(v.map((r) => r.hard), [false, true, false, true]);
    assert.deepEqual(v[1]!.evidence, { requests: 24, errorRate: 22 / 24, windows: 2 });
    assert.match(v[1]!.reasons[0]!, /over 2 windows \(24 requests\)/);
    assert.equal(v[0]!.evidence, undefined, "a thin window alone carries no verdict");
  });

  it("pools never overlap: one bad thin window among healthy ones is judged once", () => {
    const v = rounds([{ requests: 12 }, { requests: 12, errorRate: 0.5 }, { requests: 12 }, { requests: 12 }]);
    assert.equal(v.filter((r) => r.evidence !== undefined).length, 2);
    assert.ok(v.filter((r) => r.hard).length <= 1);
  });

  it("re-scoring the same newest window gives the same verdict", () => {
    const once = rounds([0, 1, 2, 3].map(() => ({ requests: 12, errorRate: 11 / 12 })));
    const twice = rounds([0, 1, 2, 3].map(() => ({ requests: 12, errorRate: 11 / 12 })), true);
    assert.deepEqual(twice.map((r) => r.hard), once.map((r) => r.hard));
  });

  it("a pool spans at most M windows: 3 requests per window never make evidence", () => {
    const v = rounds(Array.from({ length: 12 }, () => ({ requests: 3, errorRate: 1 })));
    assert.ok(v.every((r) => !r.hard && r.evidence === undefined), JSON.stringify(v));
  });

  it("healthy thin windows pooled stay healthy", () => {
    const v = rounds(Array.from({ length: 10 }, () => ({ requests: 8, errorRate: 0 })));
    assert.ok(v.some((r) => r.evidence !== undefined));
    assert.ok(v.every((r) => !r.hard));
  });
});

describe("dynamic baseline", () => {
  const run = (series: Partial<ClusterWindowStats>[]) => {
    const scorer = new DynamicBaselineScorer(DEFAULT_CONFIG.detector);
    const history: ClusterWindowStats[] = [];
    let last = 0;
    series.forEach((over, i) => {
      history.push(win(i, over));
      last = scorer.score(new Map([["a", history.slice(-60)]])).get("a")!.score;
    });
    return { scorer, last };
  };
  const noisy = (i: number, base: number) => base * (1 + 0.08 * Math.sin(i * 1.7));
  it("a cluster that is always slow is not anomalous", () => {
    const series = Array.from({ length: 80 }, (_, i) => ({ p50Ms: noisy(i, 900), p95Ms: noisy(i, 1500), p99Ms: noisy(i, 1800) }));
    assert.ok(run(series).last < 0.5);
  });
  it("a cluster that slows down to three times its baseline is anomalous", () => {
    const series = Array.from({ length: 80 }, (_, i) => ({ p50Ms: noisy(i, 200), p95Ms: noisy(i, 600), p99Ms: noisy(i, 900) }));
    series.push({ p50Ms: 600, p95Ms: 1800, p99Ms: 2400 });
    assert.ok(run(series).last >= 0.5);
  });
  it("the baseline is frozen while anomalous", () => {
    const series: Partial<ClusterWindowStats>[] = Array.from({ length: 40 }, (_, i) => ({ p50Ms: noisy(i, 200) }));
    for (let i = 0; i < 40; i++) series.push({ p50Ms: 800 });
    const { scorer, last } = run(series);
    assert.ok(last >= 0.5, "still anomalous after 40 bad windows");
    assert.ok(scorer.baseline("a", "p50Ms") < 260);
  });
  it("little traffic is no evidence", () => {
    const series: Partial<ClusterWindowStats>[] = Array.from({ length: 40 }, (_, i) => ({ p50Ms: noisy(i, 200) }));
    series.push({ p50Ms: 2000, requests: 5 });
    assert.equal(run(series).last, 0);
  });
});

describe("trend", () => {
  const scorer = new TrendScorer(slo, DEFAULT_CONFIG.detector);
  it("a p99 rising steadily toward the SLO is a risk before it crosses", () => {
    const windows = Array.from({ length: 10 }, (_, i) => win(i, { p95Ms: 800 + i * 60, p99Ms: 1200 + i * 70 }));
    const r = scorer.scoreWindows(windows);
    assert.ok(r.score >= 0.5, JSON.stringify(r));
  });
  it("flat noisy latency is no trend", () => {
    const windows = Array.from({ length: 10 }, (_, i) => win(i, { p95Ms: 600 + (i % 2) * 150, p99Ms: 900 + (i % 3) * 200 }));
    assert.equal(scorer.scoreWindows(windows).score, 0);
  });
});

describe("N-of-M alarm filter", () => {
  const v = (i: number, kind: "ok" | "anomalous" | "hard" | "severe" | "thin"): WindowVerdict => ({
    windowStartMs: i * 1000,
    evidence: kind !== "thin",
    anomalous: kind === "anomalous",
    hard: kind === "hard" || kind === "severe",
    severe: kind === "severe",
  });
  const cases: [name: string, seq: ("ok" | "anomalous" | "hard" | "severe" | "thin")[], trip: boolean][] = [
    ["two anomalous windows of five do not trip", ["ok", "anomalous", "ok", "anomalous", "ok"], false],
    ["three anomalous windows of five trip", ["anomalous", "ok", "anomalous", "ok", "anomalous"], true],
    ["three anomalous windows spread over six do not trip", ["anomalous", "ok", "ok", "anomalous", "ok", "anomalous"].slice(0, 6) as never, false],
    ["two hard windows trip", ["ok", "hard", "ok", "hard"], true],
    ["one severe window trips at once", ["ok", "ok", "severe"], true],
    ["windows with too little traffic count for nothing", ["thin", "thin", "thin", "anomalous"], false],
  ];
  for (const [name, seq, trip] of cases) {
    it(name, () => {
      const f = new AlarmFilter(DEFAULT_CONFIG.detector);
      seq.forEach((k, i) => f.record("a", v(i, k)));
      // Override thin windows' anomalous flag: they carry no evidence.
      assert.equal(f.evaluate("a", seq.length * 1000).trip, trip);
    });
  }
  it("soft evidence cannot reopen during the cooldown, hard evidence can", () => {
    const f = new AlarmFilter(DEFAULT_CONFIG.detector);
    f.noteClosed("a", 0);
    for (let i = 1; i <= 3; i++) f.record("a", v(i, "anomalous"));
    const soft = f.evaluate("a", 4000);
    assert.equal(soft.trip, false);
    assert.equal(soft.cooling, true);
    f.record("a", v(4, "hard"));
    f.record("a", v(5, "hard"));
    assert.equal(f.evaluate("a", 6000).trip, true);
    const after = new AlarmFilter(DEFAULT_CONFIG.detector);
    after.noteClosed("a", 0);
    for (let i = 1; i <= 3; i++) after.record("a", v(i, "anomalous"));
    assert.equal(after.evaluate("a", DEFAULT_CONFIG.detector.cooldownMs + 1).trip, true);
  });
});
