import { test } from "node:test";
import assert from "node:assert/strict";
import { poissonCriticalCount, rowsOf, windowBreaksSlo, WARMUP_SKIP_WINDOWS } from "../models/src/dataset.js";
import { HORIZON_S } from "../control-plane/src/model/contract.js";
import { parseScenario } from "../sim/scenario.js";
import type { SimWindow } from "../sim/windows.js";

const slo = { latencyMs: 2000, successRate: 0.99 };

test("the breach count threshold is the smallest count that Poisson noise at the budget reaches less than 0.1% of the time", () => {
  // lambda 1: P(X >= 5) = 0.00366, P(X >= 6) = 0.000594.
  assert.equal(poissonCriticalCount(1, 0.001), 6);
  assert.equal(poissonCriticalCount(0, 0.001), 1);
});

const cases: Array<{ name: string; requests: number; failures: number; p99: number; breaks: boolean }> = [
  { name: "a single failure among 60 requests", requests: 60, failures: 1, p99: 500, breaks: false },
  { name: "2 failures among 100 requests", requests: 100, failures: 2, p99: 500, breaks: false },
  { name: "10 failures among 100 requests", requests: 100, failures: 10, p99: 500, breaks: true },
  { name: "p99 over the latency objective", requests: 100, failures: 0, p99: 2500, breaks: true },
  { name: "no requests", requests: 0, failures: 0, p99: NaN, breaks: false },
];
for (const c of cases) {
  test(`a window with ${c.name} ${c.breaks ? "breaks" : "does not break"} the SLO for the label`, () => {
    assert.equal(windowBreaksSlo(c.requests, c.failures, c.p99, slo), c.breaks);
  });
}

test("rows are labelled positive exactly in the horizon before a breach", () => {
  const scenario = parseScenario({
    name: "t", seed: 1000, duration_s: 200, window_s: 1, sidecars: 1,
    slo: { latency_ms: 2000, success_rate: 0.99, client_timeout_ms: 5000 },
    clusters: [{ name: "a", weight: 1, endpoints: 1, capacity_rps: 500, latency_ms: { p50: 100, p99: 500 }, error_rate: 0 }],
    traffic: [{ at_s: 0, rps: 100 }],
    faults: [],
  });
  const breachAt = 120;
  const windows: SimWindow[] = Array.from({ length: 200 }, (_, t) => ({
    index: t, startS: t, endS: t + 1, offered: 100, successRate: 1,
    clusters: [{
      cluster: "a", requests: 100, errors: t === breachAt ? 50 : 0, timeouts: 0, errorRate: t === breachAt ? 0.5 : 0,
      p50Ms: 100, p95Ms: 300, p99Ms: 500, rps: 100, share: 1, faultActive: false, faultStrength: 0, sloBroken: t === breachAt,
    }],
  }));
  const rows = rowsOf(scenario, windows);
  assert.equal(rows.rows, 200 - HORIZON_S - WARMUP_SKIP_WINDOWS);
  for (let r = 0; r < rows.rows; r++) {
    const t = rows.window[r]!;
    assert.equal(rows.labels[r], t >= breachAt - HORIZON_S && t < breachAt ? 1 : 0, `window ${t}`);
    assert.equal(rows.breachNow[r], t === breachAt ? 1 : 0);
  }
});
