import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { ClusterStatus, DecisionSet } from "../control-plane/src/core/types.js";
import { DIVERGENCE_MIN_REQUESTS, MEASURED_WINDOWS, trafficShares } from "../control-plane/src/dashboard/traffic-share.js";
import { sampleOf } from "../control-plane/src/dashboard/history.js";
import { clusterWindow } from "./cluster-window.js";
import { mergedStreams, times } from "./support/streams.js";

const T0 = 1_800_000_000_000;

/** A cluster whose recent windows (1 s each, the newest at T0) carried these requests, oldest first. */
function status(cluster: string, requests: readonly number[], weight = 0): ClusterStatus {
  const n = requests.length;
  return {
    cluster, baseWeight: 50, state: { kind: "closed", since: 0 }, weight, score: 0, hard: false, reasons: [], scorers: {}, anomalousWindows: 0,
    capacity: { baselineP50Ms: 100, safeRps: 10, kneeRps: Number.POSITIVE_INFINITY, limitRps: 10 },
    recent: requests.map((r, i) =>
      clusterWindow({ cluster, windowStartMs: T0 - (n - 1 - i) * 1000, requests: r, rps: r, errorRate: r === 0 ? 0 : 0.1, p99Ms: r === 0 ? Number.NaN : 500 }),
    ),
  };
}

function decisions(weights: Record<string, number>): DecisionSet {
  return {
    version: 1, issuedAtMs: T0, ttlMs: 30_000, halted: false, haltReason: "",
    clusters: Object.entries(weights).map(([cluster, weight]) => ({ cluster, state: "closed", weight, probeFraction: 1, retryAfterS: 0, reason: "", anomalyScore: 0 })),
  };
}

const round = (x: number | null) => (x === null ? null : Math.round(x * 1000) / 1000);

describe("traffic measured from the sidecars' reports next to the weights sent", () => {
  it("gives each cluster its share of the requests in the latest windows and its share of the weights", () => {
    // The restart: 50/50 sent, 18 vs 1 requests/s measured.
    const shares = trafficShares([status("a", [18, 18, 18]), status("b", [1, 1, 1])], decisions({ a: 500, b: 500 }));
    assert.deepEqual(
      shares.map((s) => [s.cluster, s.sent_share, round(s.measured_share), s.measured_requests, s.measured_rps, s.windows, s.diverges]),
      [
        ["a", 0.5, 0.947, 54, 18, 3, true],
        ["b", 0.5, 0.053, 3, 1, 3, true],
      ],
    );
  });

  it("counts only the latest windows, so an old surge does not hide what sidecars do now", () => {
    const old = new Array<number>(10 - MEASURED_WINDOWS).fill(1000);
    const shares = trafficShares([status("a", [...old, ...new Array<number>(MEASURED_WINDOWS).fill(10)]), status("b", [...old.map(() => 0), ...new Array<number>(MEASURED_WINDOWS).fill(30)])], decisions({ a: 1, b: 3 }));
    assert.deepEqual(shares.map((s) => [s.cluster, s.measured_share, s.windows, s.diverges]), [["a", 0.25, MEASURED_WINDOWS, false], ["b", 0.75, MEASURED_WINDOWS, false]]);
  });

  it("flags a divergence only past the threshold and over enough requests", () => {
    const cases: { name: string; a: number; b: number; diverges: boolean }[] = [
      { name: "64/36 against 50/50 (14 points, under the threshold)", a: 64, b: 36, diverges: false },
      { name: "70/30 against 50/50", a: 70, b: 30, diverges: true },
      { name: "too few requests to tell", a: (DIVERGENCE_MIN_REQUESTS - 1) * 0.9, b: (DIVERGENCE_MIN_REQUESTS - 1) * 0.1, diverges: false },
    ];
    for (const c of cases) {
      const [a] = trafficShares([status("a", [c.a]), status("b", [c.b])], decisions({ a: 50, b: 50 }));
      assert.equal(a!.diverges, c.diverges, c.name);
    }
  });

  it("says null, not 0 %, when there is nothing to share: no requests anywhere, no weight anywhere, no windows yet", () => {
    const cases: { name: string; statuses: ClusterStatus[]; weights: Record<string, number>; sent: number | null; measured: number | null; rps: number | null }[] = [
      { name: "no requests in any cluster", statuses: [status("a", [0, 0]), status("b", [0, 0])], weights: { a: 1, b: 1 }, sent: 0.5, measured: null, rps: 0 },
      { name: "every weight 0 (all open)", statuses: [status("a", [5]), status("b", [5])], weights: { a: 0, b: 0 }, sent: null, measured: 0.5, rps: 5 },
      { name: "no window yet", statuses: [status("a", []), status("b", [])], weights: { a: 1, b: 1 }, sent: 0.5, measured: null, rps: null },
    ];
    for (const c of cases) {
      const [a] = trafficShares(c.statuses, decisions(c.weights));
      assert.deepEqual([a!.sent_share, a!.measured_share, a!.measured_rps, a!.diverges], [c.sent, c.measured, c.rps, false], c.name);
    }
  });
});

describe("the dashboard's samples", () => {
  it("record a window without requests as no traffic (null), not as 0 % errors", () => {
    const sample = sampleOf([status("busy", [40]), status("quiet", [0])], T0);
    assert.deepEqual(
      Object.entries(sample.clusters).map(([name, c]) => [name, c.error_rate, c.p99_ms, c.measured_share]),
      [["busy", 0.1, 500, 1], ["quiet", null, null, 0]],
    );
  });

  it("carry the last window's TTFT and TPOT p99 of a cluster's streams, and null without streams", () => {
    const withStreams = status("llm", [40]);
    const streams = mergedStreams({ ttftMs: times(40, 400), tpotMs: times(40, 25) });
    withStreams.recent[0] = { ...withStreams.recent[0]!, streams };
    const sample = sampleOf([withStreams, status("plain", [40])], T0);
    assert.deepEqual(
      Object.entries(sample.clusters).map(([name, c]) => [name, c.ttft_p99_ms, c.tpot_p99_ms]),
      [["llm", streams.ttftP99Ms, streams.tpotP99Ms], ["plain", null, null]],
    );
    assert.ok(Math.abs(streams.ttftP99Ms - 400) < 50 && Math.abs(streams.tpotP99Ms - 25) < 4);
  });

  it("have no measured share when no cluster had a request", () => {
    const sample = sampleOf([status("a", [0]), status("b", [])], T0);
    assert.deepEqual(Object.values(sample.clusters).map((c) => [c.error_rate, c.measured_share]), [[null, null], [null, null]]);
  });
});
