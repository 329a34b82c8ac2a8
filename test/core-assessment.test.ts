// A cluster's load-response model from its windows (control-plane/src/core/planner/assessment.ts):
// what its capacity is divided by when it is slower than its baseline, and what that does to the
// planner's moves.
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { assessLoadResponse, badRequests, capacityDivisor } from "../control-plane/src/core/planner/assessment.js";
import { planRound, type RoundCluster } from "../control-plane/src/core/planner/round-plan.js";
import type { PlanConfig } from "../control-plane/src/core/planner/planner.js";
import type { CapacityEstimate, ClusterWindowStats } from "../control-plane/src/core/types.js";
import { clusterWindow } from "./cluster-window.js";

const CONFIG: PlanConfig = { step: 0.05, maxStep: 0.1, floor: 0.05, z: 2, minGain: 0.005, reversalRounds: 4, settleRounds: 2, shareResolution: 0.001 };
/** Seen near its 100 ms baseline up to 100 rps, explored up to 130; no knee seen. */
const CAPACITY: CapacityEstimate = { baselineP50Ms: 100, safeRps: 100, kneeRps: Infinity, limitRps: 130 };
const EPS = 1e-9;

/** Ten one-second windows of `rps` requests each, `failed` of them failed, at median `p50Ms`. */
function windows(cluster: string, rps: number, p50Ms: number, failed = 0): ClusterWindowStats[] {
  return Array.from({ length: 10 }, (_, i) => clusterWindow({
    cluster, windowStartMs: i * 1000, requests: rps, rps, p50Ms, p95Ms: p50Ms * 2, p99Ms: p50Ms * 3,
    errors5xx: Math.round(rps * failed), errorRate: failed,
  }));
}

describe("a window's bad requests: failed or slower than the objective, each once", () => {
  // Of 10 requests. A timeout is Envoy's local 504 at the route timeout: failed, and recorded at
  // a latency past an objective shorter than the route timeout.
  const cases: { name: string; window: Partial<ClusterWindowStats>; bad: number }[] = [
    { name: "two timeouts and one slow answer are three bad requests, not five", window: { errorRate: 0.2, timeouts: 2, slowRequests: 3 }, bad: 3 },
    { name: "timeouts under an objective past the route timeout (none slow) count once", window: { errorRate: 0.2, timeouts: 2, slowRequests: 0 }, bad: 2 },
    { name: "a 5xx answered slowly counts in both (the window does not say which failures were slow)", window: { errorRate: 0.1, slowRequests: 1 }, bad: 2 },
    { name: "no more than the window's requests", window: { errorRate: 0.6, slowRequests: 8 }, bad: 10 },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.equal(badRequests(clusterWindow({ requests: 10, p50Ms: 200, rps: 10, ...c.window })), c.bad);
    });
  }
});

describe("what a cluster's safe loads are divided by when it is slower than its baseline", () => {
  const cases: { name: string; rps: number; p50Ms: number; divisor: number }[] = [
    { name: "at its baseline: nothing", rps: 120, p50Ms: 100, divisor: 1 },
    { name: "1.3 times its baseline at a load above its safe level (under the knee factor): its own queueing, nothing", rps: 120, p50Ms: 130, divisor: 1 },
    { name: "1.3 times its baseline at a load it carried near its baseline: a fault's slowdown, 1.3", rps: 100, p50Ms: 130, divisor: 1.3 },
    { name: "twice its baseline at a load above its safe level (the knee factor or more): its own queue at a knee, nothing", rps: 120, p50Ms: 200, divisor: 1 },
    { name: "three times its baseline just above its safe level (overloaded): nothing", rps: 101, p50Ms: 300, divisor: 1 },
    { name: "twice its baseline at a load it carried near its baseline: a fault's slowdown, 2", rps: 100, p50Ms: 200, divisor: 2 },
    { name: "just under the knee factor above its safe level: nothing", rps: 120, p50Ms: 159, divisor: 1 },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const history = windows("a", c.rps, c.p50Ms);
      assert.ok(Math.abs(capacityDivisor(history.at(-1), CAPACITY) - c.divisor) < EPS, `divisor ${capacityDivisor(history.at(-1), CAPACITY)}`);
      const r = assessLoadResponse(history, CAPACITY);
      assert.ok(Math.abs(r.safeRps - CAPACITY.safeRps / c.divisor) < EPS, `safe ${r.safeRps}`);
      assert.ok(Math.abs(r.limitRps - CAPACITY.limitRps / c.divisor) < EPS, `limit ${r.limitRps}`);
    });
  }

  it("without a window with requests, or without a baseline: nothing", () => {
    assert.equal(capacityDivisor(undefined, CAPACITY), 1);
    assert.equal(capacityDivisor(clusterWindow({ requests: 0, rps: 0, p50Ms: 500 }), CAPACITY), 1);
    assert.equal(capacityDivisor(clusterWindow({ p50Ms: 500 }), { ...CAPACITY, baselineP50Ms: Number.NaN }), 1);
  });
});

describe("a failing cluster's traffic and a cluster queueing under its load", () => {
  /** a fails a fifth of its 100 rps; b carries 120 rps, above the 100 it was seen to carry near its baseline. */
  const round = (bP50Ms: number, bCapacity: Partial<CapacityEstimate> = {}): number => {
    const cluster = (name: string, history: ClusterWindowStats[], share: number, capacity: Partial<CapacityEstimate> = {}): RoundCluster => ({
      name, baseWeight: 1, breaker: "closed", probeFraction: 1, previousShare: share, history,
      capacity: { ...CAPACITY, limitRps: 160, ...capacity }, lastMove: { direction: 0, roundsAgo: 0 }, forcedClosed: false,
    });
    const plan = planRound([cluster("a", windows("a", 100, 100, 0.2), 100 / 220), cluster("b", windows("b", 120, bP50Ms), 120 / 220, bCapacity)], CONFIG);
    return plan.get("a")!.share;
  };

  it("moves to it when it is a little slower than its baseline (its capacity is not divided by its own queueing)", () => {
    assert.ok(round(130) < 100 / 220 - EPS, `a's share ${round(130)}`);
  });

  it("moves to it when it is at its baseline, as before", () => {
    assert.ok(round(100) < 100 / 220 - EPS, `a's share ${round(100)}`);
  });

  it("stays when the receiver is slowed to the knee factor or more at its load: the knee capacity.ts marks there bounds it (not its load divided by the slowdown)", () => {
    // capacity.ts at a window twice its baseline at 120 rps: knee 120, limit 0.95 × 120.
    const atKnee = round(200, { kneeRps: 120, limitRps: 114 });
    assert.ok(Math.abs(atKnee - 100 / 220) < EPS, `a's share ${atKnee}`);
  });

  it("stays when the receiver is slowed at a load it carried near its baseline (a fault's slowdown: its trusted load is divided)", () => {
    const plan = planRound(
      [
        { name: "a", baseWeight: 1, breaker: "closed", probeFraction: 1, previousShare: 0.5, history: windows("a", 100, 100, 0.2), capacity: { ...CAPACITY, limitRps: 160 }, lastMove: { direction: 0, roundsAgo: 0 }, forcedClosed: false },
        { name: "b", baseWeight: 1, breaker: "closed", probeFraction: 1, previousShare: 0.5, history: windows("b", 100, 300), capacity: { ...CAPACITY, limitRps: 160 }, lastMove: { direction: 0, roundsAgo: 0 }, forcedClosed: false },
      ],
      CONFIG,
    );
    assert.ok(Math.abs(plan.get("a")!.share - 0.5) < EPS, `a's share ${plan.get("a")!.share}`);
  });
});
