// What a cluster's record says about it (control-plane/src/core/cluster-signals.ts) on plain data:
// overload, robust signals, corroboration, sustained risk and trip reasons.
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { clusterWindow } from "./cluster-window.js";
import type { TripDecision } from "../control-plane/src/core/alarm-filter.js";
import { corroborated, overloaded, robustSignal, sustainedRisk, tripReason, type LoadEvidence, type ScoreRecord } from "../control-plane/src/core/cluster-signals.js";
import { DEFAULT_CONFIG } from "../control-plane/src/core/config.js";
import type { CapacityEstimate, ClusterWindowStats } from "../control-plane/src/core/types.js";

// errorRateThreshold 0.05, minErrors 5, minRelativeRise 1.5, n 3, m 5.
const D = DEFAULT_CONFIG.detector;
/** Seen safe up to 100 requests/s at a p50 of 100 ms. */
const CAPACITY: CapacityEstimate = { baselineP50Ms: 100, safeRps: 100, kneeRps: Infinity, limitRps: 130 };

const win = clusterWindow;

/** A cluster whose newest window is `newest` (none when undefined), older windows calm. */
const load = (newest: Partial<ClusterWindowStats> | undefined, capacity: Partial<CapacityEstimate> = {}): LoadEvidence => ({
  history: newest === undefined ? [] : [win({ windowStartMs: 999_000 }), win(newest)],
  capacity: { ...CAPACITY, ...capacity },
});

describe("a cluster is overloaded when its newest load is well above what it was seen safe at", () => {
  const cases: [name: string, cluster: LoadEvidence, expected: boolean][] = [
    ["without a window it is not", load(undefined), false],
    ["at the safe load it is not", load({ rps: 100 }), false],
    ["just under 1.1 × the safe load it is not", load({ rps: 109.9 }), false],
    ["above 1.1 × the safe load without failures it is", load({ rps: 111 }), true],
    ["with failures above the error-rate threshold it is not (a fault, not load)", load({ rps: 200, errorRate: 0.06 }), false],
    ["with failures at the threshold it still is", load({ rps: 200, errorRate: 0.05 }), true],
    ["before any load was seen safe it is not", load({ rps: 200 }, { safeRps: 0 }), false],
  ];
  for (const [name, cluster, expected] of cases) it(name, () => assert.equal(overloaded(cluster, D), expected));
});

describe("a robust signal of trouble in the newest window", () => {
  const cases: [name: string, cluster: LoadEvidence, expected: boolean][] = [
    ["without a window there is none", load(undefined), false],
    ["a calm window shows none", load({}), false],
    ["failures at half the error-rate threshold, minErrors of them, are one", load({ requests: 200, errorRate: 0.025 }), true],
    ["failures at half the threshold but fewer than minErrors are none", load({ requests: 100, errorRate: 0.03 }), false],
    ["a p50 at minRelativeRise × the low-load baseline at a load seen safe is one", load({ p50Ms: 150 }), true],
    ["a p50 just under minRelativeRise × the baseline is none", load({ p50Ms: 149 }), false],
    ["a p50 rise that the load explains (overloaded) is none", load({ p50Ms: 300, rps: 120 }), false],
    ["failures count even when the cluster is overloaded", load({ requests: 200, errorRate: 0.04, rps: 150 }), true],
    ["without a baseline yet (NaN) a p50 rise is none", load({ p50Ms: 900 }, { baselineP50Ms: NaN }), false],
    ["a window without a p50 (no requests) shows none", load({ requests: 0, p50Ms: NaN }), false],
  ];
  for (const [name, cluster, expected] of cases) it(name, () => assert.equal(robustSignal(cluster, D), expected));
});

describe("soft scores are corroborated by robust signals in at least N of the last M windows", () => {
  const cases: [name: string, corroborations: boolean[], expected: boolean][] = [
    ["none recorded: not corroborated", [], false],
    ["N − 1 of M: not corroborated", [true, false, true, false, false], false],
    ["N of M, not in a row: corroborated", [true, false, true, false, true], true],
    ["N of N: corroborated", [true, true, true], true],
  ];
  for (const [name, corroborations, expected] of cases) it(name, () => assert.equal(corroborated({ corroborations }, D), expected));
});

describe("the sustained risk the weights act on", () => {
  const calm = { score: 0, hard: false, reasons: [] };
  const yes = [true, true, true];
  const cases: [name: string, record: ScoreRecord, expected: number][] = [
    ["a hard verdict counts at once, whatever the record", { combined: { score: 0.8, hard: true, reasons: ["x"] }, recentScores: [], corroborations: [] }, 0.8],
    ["fewer than N scores carry no risk", { combined: calm, recentScores: [0.9, 0.9], corroborations: yes }, 0],
    ["corroborated scores carry the N-th highest of the last M", { combined: calm, recentScores: [0.9, 0.2, 0.7, 0.6, 0.1], corroborations: yes }, 0.6],
    ["the same scores without corroboration carry none", { combined: calm, recentScores: [0.9, 0.2, 0.7, 0.6, 0.1], corroborations: [true, true, false] }, 0],
    ["one noisy window carries none", { combined: calm, recentScores: [0, 0, 0.95, 0, 0], corroborations: yes }, 0],
  ];
  for (const [name, record, expected] of cases) {
    it(name, () => {
      const scores = [...record.recentScores];
      assert.equal(sustainedRisk(record, D), expected);
      assert.deepEqual(record.recentScores, scores, "the recent scores are not reordered");
    });
  }
});

describe("the reason a trip gives", () => {
  const trip = (hard: boolean, anomalous: number): TripDecision => ({ trip: true, hard, severe: false, anomalous, hardWindows: hard ? 2 : 0, cooling: false });
  const cases: [name: string, reasons: string[], decision: TripDecision, expected: string][] = [
    ["a hard trip gives the first two reasons", ["error rate 20%", "p99 2300ms > slo 2000ms", "trend"], trip(true, 2), "error rate 20%; p99 2300ms > slo 2000ms"],
    ["a hard trip without reasons is 'anomalous'", [], trip(true, 2), "anomalous"],
    ["a trip on predictions says so, with its anomalous windows of M", ["model risk 0.80"], trip(false, 3), "predicted: model risk 0.80 (3 of 5 windows)"],
    ["a trip on predictions without reasons", [], trip(false, 4), "predicted: anomalous (4 of 5 windows)"],
  ];
  for (const [name, reasons, decision, expected] of cases) {
    it(name, () => assert.equal(tripReason({ combined: { score: 0.9, hard: decision.hard, reasons }, trip: decision }, D), expected));
  }
});
