// A streamed cluster's time to first token against its load (control-plane/src/core/planner/
// ttft-load.ts) on plain windows, and what the planner does with it: a breach that rises with
// load moves traffic to a cluster with room; a breach at every load (a fault) is not predicted to
// ease with less load; a receiver at its knee takes nothing; when every cluster breaches
// together nothing moves.
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { judgeTtftLoad, predictTtftSlowFraction, TTFT_ALLOWED_FRACTION, type TtftLoad } from "../control-plane/src/core/planner/ttft-load.js";
import { planRound, type RoundCluster } from "../control-plane/src/core/planner/round-plan.js";
import type { PlanConfig } from "../control-plane/src/core/planner/planner.js";
import type { CapacityEstimate, ClusterWindowStats } from "../control-plane/src/core/types.js";
import { clusterWindow } from "./cluster-window.js";
import { mergedStreams, times } from "./support/streams.js";

const JUDGE = { z: 2, minStreams: 20 };
const CONFIG: PlanConfig = { step: 0.05, maxStep: 0.1, floor: 0.05, z: 2, minGain: 0.005, reversalRounds: 4, settleRounds: 2 };
const OBJECTIVE = { ttftMs: 1000 };

/** A window `i` seconds in with `rps` streamed requests, `slow` of them over the TTFT objective. */
function win(cluster: string, i: number, rps: number, slow: number, failedFraction = 0): ClusterWindowStats {
  const n = Math.round(rps);
  const s = Math.min(n, Math.round(slow));
  return clusterWindow({
    cluster,
    windowStartMs: i * 1000,
    requests: n,
    rps: n,
    errors5xx: Math.round(n * failedFraction),
    errorRate: failedFraction,
    p50Ms: 5000,
    streams: mergedStreams({ ttftMs: [...times(s, 2500), ...times(n - s, 300)] }, OBJECTIVE),
  });
}

/** Twenty windows whose load follows `loads` (cycled, newest last) and slow fraction `slowAt(load)`. */
function windows(cluster: string, loads: readonly number[], slowAt: (rps: number) => number): ClusterWindowStats[] {
  return Array.from({ length: 20 }, (_, i) => {
    const rps = loads[i % loads.length]!;
    return win(cluster, i, rps, rps * slowAt(rps));
  });
}

/** Slow first tokens from a prefill queue: none up to 60 streams/s, then a growing share. */
const queueing = (rps: number) => (rps <= 60 ? 0 : Math.min(0.9, (rps - 60) / 50));
const WAVE = [40, 50, 60, 70, 80, 80, 70, 60, 50, 80];

describe("judging TTFT against load on a cluster's own windows", () => {
  const cases: { name: string; history: ClusterWindowStats[]; kind: TtftLoad["kind"] | undefined; easesWithLessLoad: boolean }[] = [
    { name: "a TTFT breach rising with load is queueing: fewer slow streams predicted at a lower load", history: windows("a", WAVE, queueing), kind: "load", easesWithLessLoad: true },
    { name: "the same breach at every load is a fault: no fewer slow streams at a lower load", history: windows("a", WAVE, () => 0.3), kind: "fault", easesWithLessLoad: false },
    {
      name: "a rise within the load differences that chance alone makes is no evidence of queueing",
      history: windows("a", [79, 80, 81, 80], (rps) => (rps >= 80 ? 0.4 : 0.2)),
      kind: "fault",
      easesWithLessLoad: false,
    },
    { name: "no stream over its objective beyond the 1 % a p99 allows: no breach", history: windows("a", WAVE, () => 0), kind: "none", easesWithLessLoad: false },
    { name: "fewer first tokens than min_streams: nothing is judged", history: [win("a", 0, 10, 5)], kind: undefined, easesWithLessLoad: false },
    { name: "a cluster without streams: nothing is judged", history: [clusterWindow()], kind: undefined, easesWithLessLoad: false },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const j = judgeTtftLoad(c.history, JUDGE);
      assert.equal(j?.kind, c.kind, JSON.stringify(j));
      if (j === undefined) return;
      const now = predictTtftSlowFraction(j, j.loadRps);
      const lower = predictTtftSlowFraction(j, j.loadRps * 0.7);
      // At its own load: the excess over its quieter windows' level (load-driven), 0 for a fault.
      assert.ok(Math.abs(now - (j.excessFraction - j.quietFraction)) < 1e-9, `now ${now}`);
      assert.equal(now > 0, c.easesWithLessLoad, "only a breach rising with load counts");
      assert.equal(lower < now, c.easesWithLessLoad, `now ${now}, at 70 % of the load ${lower}`);
    });
  }

  it("only the excess over the 1 % a p99 objective allows counts", () => {
    const j = judgeTtftLoad(windows("a", WAVE, () => 0.3), JUDGE)!;
    assert.ok(Math.abs(j.excessFraction - (0.3 - TTFT_ALLOWED_FRACTION)) < 0.02, String(j.excessFraction));
  });

  const receivers: { name: string; kneeRps: number; at: number; slow: boolean }[] = [
    { name: "a receiver below its knee is predicted by its own TTFT at its new load", kneeRps: 200, at: 80, slow: false },
    { name: "a receiver pushed past its knee has the streams beyond it predicted slow", kneeRps: 60, at: 80, slow: true },
  ];
  for (const c of receivers) {
    it(c.name, () => {
      const j = judgeTtftLoad(windows("b", [50], () => 0), JUDGE)!;
      assert.equal(predictTtftSlowFraction(j, c.at, c.kneeRps) > 0.2, c.slow, String(predictTtftSlowFraction(j, c.at, c.kneeRps)));
    });
  }
});

/** A closed cluster of a round with the given windows, at its base share (half of two). */
function cluster(name: string, history: ClusterWindowStats[], capacity: Partial<CapacityEstimate> = {}): RoundCluster {
  return {
    name,
    baseWeight: 1,
    breaker: "closed",
    probeFraction: 1,
    previousShare: 0.5,
    history,
    capacity: { baselineP50Ms: NaN, safeRps: 60, kneeRps: Infinity, limitRps: 400, ...capacity },
    lastMove: { direction: 0, roundsAgo: 10 },
    forcedClosed: false,
  };
}

describe("the planner on a TTFT breach", () => {
  // a queues at the top of its load; b carries 40 streams/s with none slow.
  const calm = windows("b", [40], () => 0);
  const cases: { name: string; a: ClusterWindowStats[]; b: RoundCluster; judge: boolean; moves: boolean }[] = [
    { name: "a breach rising with load moves traffic to a cluster with room", a: windows("a", WAVE, queueing), b: cluster("b", calm), judge: true, moves: true },
    { name: "a breach at every load it carried (a fault) moves nothing on TTFT", a: windows("a", WAVE, () => 0.3), b: cluster("b", calm), judge: true, moves: false },
    { name: "without a TTFT objective nothing moves on it", a: windows("a", WAVE, queueing), b: cluster("b", calm), judge: false, moves: false },
    { name: "a receiver at its knee takes nothing", a: windows("a", WAVE, queueing), b: cluster("b", calm, { kneeRps: 40, limitRps: 40, safeRps: 40 }), judge: true, moves: false },
    {
      name: "every cluster breaching together (a peak everywhere): nothing moves",
      a: windows("a", WAVE, queueing),
      b: cluster("b", windows("b", WAVE, queueing)),
      judge: true,
      moves: false,
    },
    {
      name: "every cluster breaching together, the receiver as much at any load it carried: nothing moves",
      a: windows("a", WAVE, queueing),
      b: cluster("b", windows("b", [40], () => 0.05)),
      judge: true,
      moves: false,
    },
    {
      name: "a cluster failing beyond its usual level moves on its failures alone: the receiver's slow first tokens do not hold it back (a slow answer beats a failed one)",
      a: Array.from({ length: 20 }, (_, i) => win("a", i, 60, 0, 0.3)),
      b: cluster("b", windows("b", WAVE, queueing)),
      judge: true,
      moves: true,
    },
    {
      name: "a receiver with too few first tokens to judge: nothing moves on TTFT",
      a: windows("a", WAVE, queueing),
      b: cluster("b", [win("b", 19, 10, 0)]),
      judge: true,
      moves: false,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const plan = planRound([cluster("a", c.a), c.b], CONFIG, c.judge ? JUDGE : undefined);
      const a = plan.get("a")!.share;
      assert.equal(a < 0.5 - 1e-9, c.moves, `a's share ${a}`);
      if (c.moves) {
        assert.ok(a >= 0.5 - CONFIG.maxStep - 1e-9, "by a bounded step");
        assert.match(plan.get("a")!.reason!, /traffic shifted/);
      }
    });
  }
});
