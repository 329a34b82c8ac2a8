// The planner (control-plane/src/core/planner/): tables of cases, then its invariants as
// properties over random fleets (fast-check).
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import fc from "fast-check";
import { predictBadFraction, type LoadResponse } from "../control-plane/src/core/planner/load-response.js";
import { planShares, type PlanCluster, type PlanConfig } from "../control-plane/src/core/planner/planner.js";
import { offeredRps } from "../control-plane/src/core/planner/assessment.js";
import { nextLastMove, planRound, roomElsewhere, roomWithinTrust, worthOpening, type RoundCluster } from "../control-plane/src/core/planner/round-plan.js";
import type { ClusterWindowStats } from "../control-plane/src/core/types.js";
import { clusterWindow } from "./cluster-window.js";

const CONFIG: PlanConfig = { step: 0.05, maxStep: 0.1, floor: 0.05, z: 2, minGain: 0.005, reversalRounds: 4, settleRounds: 2, shareResolution: 0.001 };
const EPS = 1e-9;

/** A cluster's response: `bad` of its requests bad at `loadRps`, seen safe up to `safeRps`. */
function response(loadRps: number, bad: number, opts: Partial<LoadResponse> = {}): LoadResponse {
  const requests = opts.requests ?? loadRps * 2;
  return { loadRps, requests, bad: bad * requests, badFraction: bad, faultFraction: bad, safeRps: loadRps, limitRps: loadRps * 1.3, kneeRps: Infinity, ...opts };
}

function cluster(name: string, share: number, r: LoadResponse, baseShare = share, lastMove: PlanCluster["lastMove"] = { direction: 0, roundsAgo: 0 }): PlanCluster {
  return { cluster: name, baseShare, share, adjustable: true, response: r, lastMove };
}

describe("the load-response model", () => {
  const cases: { name: string; m: LoadResponse; at: number; expect: (b: number) => boolean }[] = [
    { name: "at its current load it predicts what it shows", m: response(100, 0.02), at: 100, expect: (b) => Math.abs(b - 0.02) < EPS },
    { name: "a faulty cluster is no better with less load", m: response(100, 0.2), at: 50, expect: (b) => Math.abs(b - 0.2) < EPS },
    {
      name: "an overloaded cluster gets better with less load, down to its fault fraction at the safe load",
      m: response(200, 0.1, { faultFraction: 0.01, safeRps: 150, limitRps: 150 }),
      at: 150,
      expect: (b) => Math.abs(b - 0.01) < EPS,
    },
    { name: "load beyond what it was trusted with is counted bad", m: response(100, 0, { limitRps: 120 }), at: 240, expect: (b) => Math.abs(b - 0.5) < EPS },
    { name: "within its limit more load costs nothing", m: response(100, 0.001, { limitRps: 130 }), at: 125, expect: (b) => Math.abs(b - 0.001) < EPS },
    {
      name: "above its safe level the bad fraction keeps rising with load",
      m: response(200, 0.05, { faultFraction: 0.01, safeRps: 150, limitRps: 400 }),
      at: 250,
      expect: (b) => b > 0.05,
    },
  ];
  for (const c of cases) it(c.name, () => assert.ok(c.expect(predictBadFraction(c.m, c.at)), String(predictBadFraction(c.m, c.at))));
});

describe("the planner", () => {
  it("a faulty cluster loses traffic to a healthy one with room, one bounded step at a time", () => {
    const plan = planShares([cluster("a", 0.5, response(100, 0.2)), cluster("b", 0.5, response(100, 0.001, { limitRps: 300 }))], 200, CONFIG);
    assert.ok(Math.abs(plan.shares.get("a")! - 0.4) < EPS, `a: ${plan.shares.get("a")}`);
    assert.ok(Math.abs(plan.shares.get("b")! - 0.6) < EPS);
    assert.ok(plan.moves.every((m) => m.kind === "improve" && m.from === "a" && m.to === "b"));
  });

  const relative: { name: string; share: number; expect: number }[] = [
    { name: "a round moves at most a third of a small cluster's share away (beyond one step), so that the move's effect shows before the next", share: 0.2, expect: 0.15 },
    { name: "a large cluster's share still moves by up to maxStep in a round", share: 0.6, expect: 0.5 },
  ];
  for (const c of relative) {
    it(c.name, () => {
      const rest = (1 - c.share) / 4;
      const healthy = (name: string) => cluster(name, rest, response(500 * rest, 0.001, { limitRps: 1000 }));
      const plan = planShares([cluster("a", c.share, response(500 * c.share, 0.2)), healthy("b"), healthy("c"), healthy("d"), healthy("e")], 500, CONFIG);
      assert.ok(Math.abs(plan.shares.get("a")! - c.expect) < EPS, `a: ${plan.shares.get("a")}`);
    });
  }

  it("a healthy cluster without room (past what it was seen to carry) takes nothing from a slightly worse one", () => {
    const plan = planShares([cluster("a", 0.5, response(100, 0.03)), cluster("b", 0.5, response(100, 0.001, { limitRps: 100 }))], 200, CONFIG);
    assert.equal(plan.moves.length, 0);
    assert.equal(plan.shares.get("a"), 0.5);
  });

  it("a faulty cluster's traffic moves onto a healthy one up to the load it is trusted with, not beyond", () => {
    const plan = planShares([cluster("a", 0.5, response(100, 0.2)), cluster("b", 0.5, response(100, 0.001, { limitRps: 110 }))], 200, CONFIG);
    assert.ok(Math.abs(plan.shares.get("b")! - 0.55) < EPS, `b: ${plan.shares.get("b")}`);
  });

  // A receiver at or above its base share is trusted with what its windows showed it can carry
  // (here a limit of 105 rps at 100): a whole step (10 rps) would pass it, and was refused whole.
  const partSteps: { name: string; limitRps: number; b: number }[] = [
    { name: "a receiver with room for less than a step takes a part step, up to that room", limitRps: 105, b: 0.525 },
    { name: "a receiver with room for less than a fifth of a step takes nothing", limitRps: 101, b: 0.5 },
    { name: "a receiver with room for two steps or more takes whole steps, up to maxStep a round", limitRps: 150, b: 0.6 },
  ];
  for (const c of partSteps) {
    it(c.name, () => {
      const plan = planShares([cluster("a", 0.5, response(100, 0.2)), cluster("b", 0.5, response(100, 0.001, { limitRps: c.limitRps }))], 200, CONFIG);
      assert.ok(Math.abs(plan.shares.get("b")! - c.b) < EPS, `b: ${plan.shares.get("b")}`);
    });
  }

  it("a cluster below its base share is trusted with its base share before it proves more capacity (back from an outage)", () => {
    // b was drained: it has shown only its current 40 rps; a carries b's traffic and is failing.
    const plan = planShares([cluster("a", 0.8, response(160, 0.1), 0.5), cluster("b", 0.2, response(40, 0.001, { limitRps: 40 }), 0.5)], 200, CONFIG);
    assert.ok(Math.abs(plan.shares.get("b")! - 0.3) < EPS, `b: ${plan.shares.get("b")}`);
  });

  it("…but not past the knee its own windows showed, while the cluster carrying its share does as well as usual", () => {
    const plan = planShares([cluster("a", 0.8, response(160, 0.1, { usualBadFraction: 0.1 }), 0.5), cluster("b", 0.2, response(40, 0.001, { limitRps: 40, kneeRps: 42 }), 0.5)], 200, CONFIG);
    // Up to its knee (42 rps: share 0.21), no further.
    assert.ok(Math.abs(plan.shares.get("b")! - 0.21) < EPS, `b: ${plan.shares.get("b")}`);
  });

  const wayHome: { name: string; b: Partial<LoadResponse>; share: number }[] = [
    // a carries b's share and fails 10 % of its requests, beyond its usual 0.1 %. b's knee (seen
    // when a latency step made it slow at its steady load) would keep a's extra share on a.
    // Two steps: an over-served cluster's way back goes up to maxStep in a round (stepsBack below).
    { name: "a cluster carrying another's share that fails beyond its usual level gives it back toward base, past the receiver's knee", b: { limitRps: 40, kneeRps: 42, usualBadFraction: 0.001 }, share: 0.3 },
    // b is trusted with 45 rps (its base share, 100 rps, held down by its knee of 45): a full step
    // of 0.05 (10 rps) would take it to 50, so the step stops at 45.
    { name: "the way back toward base stops at the load the receiver is trusted with instead of not moving at all", b: { limitRps: 40, kneeRps: 45 }, share: 0.225 },
  ];
  for (const c of wayHome) {
    it(c.name, () => {
      const aUsual = c.name.includes("fails beyond") ? 0.001 : 0.1;
      const plan = planShares([cluster("a", 0.8, response(160, 0.1, { usualBadFraction: aUsual }), 0.5), cluster("b", 0.2, response(40, 0.001, c.b), 0.5)], 200, CONFIG);
      assert.ok(Math.abs(plan.shares.get("b")! - c.share) < EPS, `b: ${plan.shares.get("b")}`);
      assert.ok(plan.moves.every((m) => m.kind === "toward_base" && m.from === "a" && m.to === "b"));
    });
  }

  // a carries 0.8 against its base share of 0.5; b is healthy at 0.2. a fails 10 % of its
  // requests ("over-served": beyond its usual 0.1 % by the margin) or only as usual.
  const stepsBack: { name: string; aBad: number; a: PlanCluster["lastMove"]; b: PlanCluster["lastMove"]; share: number }[] = [
    { name: "an over-served cluster returns its excess up to maxStep in one round, though both moved a round ago", aBad: 0.1, a: { direction: -1, roundsAgo: 0 }, b: { direction: 1, roundsAgo: 0 }, share: 0.3 },
    { name: "an over-served cluster does not return its excess to a receiver that just moved down (reversal rounds)", aBad: 0.1, a: { direction: -1, roundsAgo: 0 }, b: { direction: -1, roundsAgo: 1 }, share: 0.2 },
    { name: "a cluster above its base share doing as well as usual waits its settle rounds before a step back", aBad: 0.001, a: { direction: -1, roundsAgo: 1 }, b: { direction: 1, roundsAgo: 1 }, share: 0.2 },
    { name: "a cluster above its base share doing as well as usual steps back once per round after its settle rounds", aBad: 0.001, a: { direction: -1, roundsAgo: 2 }, b: { direction: 1, roundsAgo: 2 }, share: 0.25 },
  ];
  for (const c of stepsBack) {
    it(c.name, () => {
      const plan = planShares(
        [cluster("a", 0.8, response(160, c.aBad, { usualBadFraction: 0.001 }), 0.5, c.a), cluster("b", 0.2, response(40, 0.001, { usualBadFraction: 0.001 }), 0.5, c.b)],
        200,
        CONFIG,
      );
      assert.ok(Math.abs(plan.shares.get("b")! - c.share) < EPS, `b: ${plan.shares.get("b")} ${JSON.stringify(plan.moves)}`);
      assert.ok(plan.moves.every((m) => m.kind === "toward_base" && m.from === "a" && m.to === "b"));
    });
  }

  it("every cluster equally degraded: nothing moves", () => {
    const plan = planShares([cluster("a", 0.5, response(100, 0.2)), cluster("b", 0.3, response(60, 0.2)), cluster("c", 0.2, response(40, 0.2))], 200, CONFIG);
    assert.deepEqual(plan.moves, []);
  });

  it("a few requests without errors are not evidence enough to move traffic", () => {
    const plan = planShares([cluster("a", 0.5, response(5, 0.1, { requests: 10 })), cluster("b", 0.5, response(5, 0, { requests: 10 }))], 10, CONFIG);
    assert.deepEqual(plan.moves, []);
  });

  it("when the fault is gone, traffic drifts back toward the operator's base shares", () => {
    const plan = planShares([cluster("a", 0.2, response(40, 0.001), 0.5), cluster("b", 0.8, response(160, 0.001, { limitRps: 300 }), 0.5)], 200, CONFIG);
    assert.ok(Math.abs(plan.shares.get("a")! - 0.25) < EPS, `a: ${plan.shares.get("a")}`);
    assert.equal(plan.moves[0]?.kind, "toward_base");
  });

  // Base weights 20 and 276: a's exact share is 0.06757, which the decision set's 1,000 weight units
  // carry as 68 (0.068). Both healthy.
  const rounded: { name: string; shares: [number, number]; moves: number }[] = [
    { name: "shares off base by less than one weight unit (the weights' rounding) make no move toward base", shares: [0.068, 0.932], moves: 0 },
    { name: "shares off base by more than one weight unit drift back toward it", shares: [0.07, 0.93], moves: 1 },
  ];
  for (const c of rounded) {
    it(c.name, () => {
      const base = [20 / 296, 276 / 296];
      const plan = planShares(
        [cluster("a", c.shares[0], response(20, 0.001), base[0]), cluster("b", c.shares[1], response(280, 0.001, { limitRps: 400 }), base[1])],
        300,
        CONFIG,
      );
      assert.equal(plan.moves.length, c.moves, JSON.stringify(plan.moves));
    });
  }

  it("a cluster at its base share as the weights carry it loses traffic in the first round its trouble shows", () => {
    // Round 1: every cluster healthy at its rounded base share; round 2: c fails 30 % of its requests.
    const base = [20 / 296, 138 / 296, 138 / 296];
    const shares = [0.068, 0.466, 0.466];
    const round = (cBad: number, lastMoves: PlanCluster["lastMove"][]) =>
      planShares(
        ["a", "b", "c"].map((name, i) => cluster(name, shares[i]!, response(300 * shares[i]!, name === "c" ? cBad : 0.001, { limitRps: 300 }), base[i], lastMoves[i])),
        300,
        CONFIG,
      );
    const still = { direction: 0, roundsAgo: 0 } as const;
    const first = round(0.001, [still, still, still]);
    // What each cluster's last move is after round 1, as round-plan.ts records it.
    const after = ["a", "b", "c"].map((name, i) => nextLastMove(still, first.shares.get(name)! - shares[i]!));
    const second = round(0.3, after);
    assert.ok(second.shares.get("c")! < 0.466 - 0.04, `c: ${second.shares.get("c")}`);
  });

  // a usually fails 2 % of its requests, b 0.5 %: the operator weighted them knowing that. The
  // way back is judged on trouble beyond each one's usual level, as a move away is.
  const wayBack: { name: string; badOfA: number; a: number }[] = [
    { name: "when the fault is gone, traffic drifts back to a cluster as bad as it usually is, even if that is worse than the donor", badOfA: 0.02, a: 0.35 },
    { name: "…but not to a cluster still worse than its usual level", badOfA: 0.06, a: 0.3 },
  ];
  for (const c of wayBack) {
    it(c.name, () => {
      const plan = planShares(
        [cluster("a", 0.3, response(60, c.badOfA, { usualBadFraction: 0.02 }), 0.5), cluster("b", 0.7, response(140, 0.005, { limitRps: 300, usualBadFraction: 0.005 }), 0.5)],
        200,
        CONFIG,
      );
      assert.ok(Math.abs(plan.shares.get("a")! - c.a) < EPS, `a: ${plan.shares.get("a")}`);
    });
  }

  it("a cluster at the floor whose whole share is better elsewhere is drainable (its breaker may open)", () => {
    const plan = planShares([cluster("a", 0.05, response(10, 0.4)), cluster("b", 0.95, response(190, 0.001, { limitRps: 400 }))], 200, CONFIG);
    assert.deepEqual(plan.drainable, ["a"]);
    assert.equal(plan.shares.get("a"), 0.05, "the floor itself is kept by the planner");
  });

  const usual: { name: string; bad: number; usualBad: number; moves: boolean }[] = [
    { name: "a cluster as slow as it usually is (the operator weighted it knowing that) loses nothing to a faster one", bad: 0.03, usualBad: 0.03, moves: false },
    { name: "a cluster well above its usual bad fraction loses traffic to a healthy one", bad: 0.2, usualBad: 0.03, moves: true },
  ];
  for (const c of usual) {
    it(c.name, () => {
      const plan = planShares(
        [cluster("a", 0.5, response(1000, c.bad, { usualBadFraction: c.usualBad })), cluster("b", 0.5, response(1000, 0.001, { limitRps: 3000, usualBadFraction: 0.001 }))],
        2000,
        CONFIG,
      );
      assert.equal(plan.moves.length > 0, c.moves, JSON.stringify(plan.moves));
    });
  }

  it("a share that just moved up does not move down for reversalRounds rounds", () => {
    const plan = planShares(
      [cluster("a", 0.6, response(120, 0.05), 0.5, { direction: 1, roundsAgo: 1 }), cluster("b", 0.4, response(80, 0.001, { limitRps: 300 }), 0.5)],
      200,
      CONFIG,
    );
    assert.deepEqual(plan.moves, []);
  });
});

/** A random fleet: 2–6 clusters with base shares, shares in force and responses. */
const fleet = fc
  .integer({ min: 2, max: 6 })
  .chain((n) =>
    fc.record({
      base: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: n, maxLength: n }),
      tilt: fc.array(fc.double({ min: 0.5, max: 2, noNaN: true }), { minLength: n, maxLength: n }),
      bad: fc.array(fc.double({ min: 0, max: 0.6, noNaN: true }), { minLength: n, maxLength: n }),
      room: fc.array(fc.double({ min: 0.8, max: 3, noNaN: true }), { minLength: n, maxLength: n }),
      totalRps: fc.double({ min: 20, max: 2000, noNaN: true }),
    }),
  )
  .map(({ base, tilt, bad, room, totalRps }) => {
    const baseSum = base.reduce((a, b) => a + b, 0);
    const raw = base.map((b, i) => (b / baseSum) * tilt[i]!);
    const rawSum = raw.reduce((a, b) => a + b, 0);
    const floorShares = raw.map((r) => Math.max(CONFIG.floor, r / rawSum));
    const sum = floorShares.reduce((a, b) => a + b, 0);
    const clusters = base.map((b, i) => {
      const share = floorShares[i]! / sum;
      const load = share * totalRps;
      return cluster(`c${i}`, share, response(load, bad[i]!, { limitRps: load * room[i]!, safeRps: load * Math.min(1, room[i]!) }), b / baseSum);
    });
    return { clusters, totalRps };
  });

describe("the planner's invariants (properties)", () => {
  it("shares sum to one, respect the floor and change by at most maxStep per round", () => {
    fc.assert(
      fc.property(fleet, ({ clusters, totalRps }) => {
        const plan = planShares(clusters, totalRps, CONFIG);
        const sum = [...plan.shares.values()].reduce((a, b) => a + b, 0);
        assert.ok(Math.abs(sum - 1) < 1e-6, `sum ${sum}`);
        for (const c of clusters) {
          const s = plan.shares.get(c.cluster)!;
          assert.ok(s >= Math.min(c.share, CONFIG.floor) - 1e-6, `${c.cluster} below the floor: ${s}`);
          assert.ok(Math.abs(s - c.share) <= CONFIG.maxStep + 1e-6, `${c.cluster} moved ${s - c.share}`);
        }
      }),
      { seed: 1501, numRuns: 300 },
    );
  });

  it("traffic only moves toward a cluster predicted better at its new load than the donor is now", () => {
    fc.assert(
      fc.property(fleet, ({ clusters, totalRps }) => {
        for (const m of planShares(clusters, totalRps, CONFIG).moves) if (m.kind === "improve") assert.ok(m.toBad < m.fromBad, JSON.stringify(m));
      }),
      { seed: 1502, numRuns: 300 },
    );
  });

  it("equal degradation everywhere moves nothing", () => {
    fc.assert(
      fc.property(fleet, fc.double({ min: 0, max: 0.6, noNaN: true }), ({ clusters, totalRps }, bad) => {
        // Same bad fraction, same headroom, shares at base.
        const equal = clusters.map((c) => cluster(c.cluster, c.baseShare, response(c.baseShare * totalRps, bad, { limitRps: c.baseShare * totalRps * 1.3 }), c.baseShare));
        assert.deepEqual(planShares(equal, totalRps, CONFIG).moves, []);
      }),
      { seed: 1503, numRuns: 300 },
    );
  });

  it("with the assessment unchanged, no cluster's share changes direction within reversalRounds rounds", () => {
    fc.assert(
      fc.property(fleet, ({ clusters, totalRps }) => {
        let current = clusters;
        const history = new Map<string, number[]>(clusters.map((c) => [c.cluster, []]));
        for (let round = 0; round < 12; round++) {
          const plan = planShares(current, totalRps, CONFIG);
          current = current.map((c) => {
            const next = plan.shares.get(c.cluster)!;
            const delta = next - c.share;
            history.get(c.cluster)!.push(Math.abs(delta) < EPS ? 0 : Math.sign(delta));
            const lastMove: PlanCluster["lastMove"] = Math.abs(delta) < EPS ? { direction: c.lastMove.direction, roundsAgo: c.lastMove.roundsAgo + 1 } : { direction: delta > 0 ? 1 : -1, roundsAgo: 0 };
            return { ...c, share: next, lastMove };
          });
        }
        for (const [name, moves] of history) {
          let last = 0;
          let since = Infinity;
          for (const d of moves) {
            if (d !== 0) {
              assert.ok(last === 0 || d === last || since >= CONFIG.reversalRounds, `${name} reversed after ${since} rounds: ${moves.join(",")}`);
              last = d;
              since = 0;
            } else since++;
          }
        }
      }),
      { seed: 1504, numRuns: 200 },
    );
  });
});

/** A merged window of `requests` over 1 s with `bad` of them failed, at p50 `p50Ms`. */
function windowOf(cluster: string, atS: number, requests: number, failedFraction: number, p50Ms = 100): ClusterWindowStats {
  return clusterWindow({
    cluster, windowStartMs: atS * 1000, requests, errors5xx: Math.round(requests * failedFraction), errorRate: failedFraction,
    p50Ms, p95Ms: p50Ms * 2, p99Ms: p50Ms * 3, rps: requests,
  });
}

function roundCluster(name: string, opts: Partial<RoundCluster> & { failed?: number; requests?: number } = {}): RoundCluster {
  const requests = opts.requests ?? 100;
  const history = opts.history ?? Array.from({ length: 10 }, (_, i) => windowOf(name, i, requests, opts.failed ?? 0));
  return {
    name, baseWeight: 1, breaker: "closed", probeFraction: 1, previousShare: undefined, history,
    capacity: { baselineP50Ms: 100, safeRps: requests, kneeRps: Infinity, limitRps: requests * 1.3 },
    lastMove: { direction: 0, roundsAgo: 0 }, forcedClosed: false, ...opts,
  };
}

describe("a planner round on plain data", () => {
  it("an open cluster gets nothing, a half-open one its probe share, the closed ones the rest", () => {
    const plan = planRound([roundCluster("a", { breaker: "open" }), roundCluster("b", { breaker: "half_open", probeFraction: 0.2 }), roundCluster("c")], CONFIG);
    assert.equal(plan.get("a")!.share, 0);
    assert.ok(Math.abs(plan.get("b")!.share - 1 / 15) < EPS, `b: ${plan.get("b")!.share}`);
    assert.ok(Math.abs(plan.get("c")!.share - 14 / 15) < EPS);
  });

  it("a closed cluster without a share in force (just closed) starts at its base share; the others share the rest as they were", () => {
    const plan = planRound(
      // b and c moved this round (settling): the planner leaves them where they start.
      [
        roundCluster("a"),
        roundCluster("b", { previousShare: 0.6, lastMove: { direction: 1, roundsAgo: 0 } }),
        roundCluster("c", { previousShare: 0.2, lastMove: { direction: -1, roundsAgo: 0 } }),
      ],
      CONFIG,
    );
    assert.ok(Math.abs(plan.get("a")!.share - 1 / 3) < EPS, `a: ${plan.get("a")!.share}`);
    assert.ok(Math.abs(plan.get("b")!.share - 0.5) < EPS, `b: ${plan.get("b")!.share}`);
    assert.ok(Math.abs(plan.get("c")!.share - 1 / 6) < EPS, `c: ${plan.get("c")!.share}`);
  });

  // a's breaker opens this round; a, b and c had a third of the traffic each. b and c moved this
  // round (settling), so the planner leaves them where they start: the shares show where a's third went.
  const freed: { name: string; bFailed: number; bUsually?: number; cFailed: number; shares: [number, number] }[] = [
    { name: "to the cluster doing as well as usual, none to one failing beside it", bFailed: 0.7, cFailed: 0, shares: [1 / 3, 2 / 3] },
    { name: "to both in proportion when both fail alike (nothing is better)", bFailed: 0.7, cFailed: 0.7, shares: [1 / 2, 1 / 2] },
    { name: "to both in proportion when both are healthy", bFailed: 0, cFailed: 0, shares: [1 / 2, 1 / 2] },
    { name: "to both in proportion when b fails only as much as it usually does", bFailed: 0.3, bUsually: 0.3, cFailed: 0, shares: [1 / 2, 1 / 2] },
  ];
  for (const c of freed) {
    it(`the share of a cluster whose breaker opened goes ${c.name}`, () => {
      const capacity = { baselineP50Ms: 100, safeRps: 100, kneeRps: Infinity, limitRps: 400 };
      const settling = { direction: 1, roundsAgo: 0 } as const;
      const plan = planRound(
        [
          roundCluster("a", { breaker: "open", failed: 1, previousShare: 0, capacity }),
          roundCluster("b", { failed: c.bFailed, previousShare: 1 / 3, lastMove: settling, capacity: { ...capacity, ...(c.bUsually === undefined ? {} : { usualBadFraction: c.bUsually }) } }),
          roundCluster("c", { failed: c.cFailed, previousShare: 1 / 3, lastMove: settling, capacity }),
        ],
        CONFIG,
      );
      assert.equal(plan.get("a")!.share, 0);
      assert.ok(Math.abs(plan.get("b")!.share - c.shares[0]) < EPS, `b: ${plan.get("b")!.share}`);
      assert.ok(Math.abs(plan.get("c")!.share - c.shares[1]) < EPS, `c: ${plan.get("c")!.share}`);
    });
  }

  it("every cluster open: base shares, as Envoy's panic mode routes to all hosts", () => {
    const plan = planRound([roundCluster("a", { breaker: "open" }), roundCluster("b", { breaker: "open", baseWeight: 3 })], CONFIG);
    assert.deepEqual([plan.get("a")!.share, plan.get("b")!.share], [0.25, 0.75]);
  });

  const opening: { name: string; failed: [number, number, number]; worth: boolean }[] = [
    { name: "one cluster failing hard while the others are healthy: worth opening", failed: [1, 0, 0], worth: true },
    { name: "every cluster failing alike (a shared dependency): not worth opening any", failed: [0.6, 0.6, 0.6], worth: false },
    { name: "the others failing worse: not worth opening", failed: [0.5, 0.8, 0.8], worth: false },
  ];
  for (const c of opening) {
    it(`a severely failing cluster is opened only when the others serve its share better: ${c.name}`, () => {
      const clusters = ["a", "b", "c"].map((name, i) => roundCluster(name, { failed: c.failed[i]!, capacity: { baselineP50Ms: 100, safeRps: 100, kneeRps: Infinity, limitRps: 400 } }));
      assert.equal(worthOpening(clusters, "a", CONFIG), c.worth);
    });
  }

  // a fails 70 % at 100 rps, b fails 30 % beside it (beyond its usual level), c is healthy; each
  // carries a third. An opened share goes to the clusters doing as well as usual (freed-share.ts),
  // here all of it to c: opening a is judged at that outcome, not at a pro-rata spread over b and c.
  const freedWhere: { name: string; cLimitRps: number; worth: boolean }[] = [
    { name: "c has room for a's whole load: worth opening", cLimitRps: 400, worth: true },
    { name: "c has room for a fifth of it: not worth opening, though a spread over b and c would look better", cLimitRps: 120, worth: false },
  ];
  for (const c of freedWhere) {
    it(`a severely failing cluster is judged at where its share would go: ${c.name}`, () => {
      const capacity = (limitRps: number) => ({ baselineP50Ms: 100, safeRps: 100, kneeRps: Infinity, limitRps });
      const clusters = [
        roundCluster("a", { failed: 0.7, previousShare: 1 / 3, capacity: capacity(400) }),
        roundCluster("b", { failed: 0.3, previousShare: 1 / 3, capacity: { ...capacity(400), usualBadFraction: 0 } }),
        roundCluster("c", { failed: 0, previousShare: 1 / 3, capacity: capacity(c.cLimitRps) }),
      ];
      assert.equal(worthOpening(clusters, "a", CONFIG), c.worth);
    });
  }

  // a fails 70 % at 100 rps; c is healthy at 100 rps and trusted up to 180 rps; b carries 100 rps.
  const cascade: { name: string; b: Partial<RoundCluster> & { failed?: number }; worth: boolean }[] = [
    { name: "b healthy and closed: a's traffic fits on b and c, worth opening", b: { failed: 0 }, worth: true },
    { name: "b opened earlier this round: its traffic goes to c too, which cannot carry both, not worth opening", b: { breaker: "open", failed: 0.7 }, worth: false },
  ];
  for (const c of cascade) {
    it(`a cluster opened earlier in the round counts as traffic the others must carry: ${c.name}`, () => {
      const capacity = { baselineP50Ms: 100, safeRps: 100, kneeRps: Infinity, limitRps: 180 };
      const clusters = [
        roundCluster("a", { failed: 0.7, previousShare: 1 / 3, capacity }),
        roundCluster("b", { previousShare: 1 / 3, capacity, ...c.b }),
        roundCluster("c", { previousShare: 1 / 3, capacity }),
      ];
      assert.equal(worthOpening(clusters, "a", CONFIG), c.worth);
    });
  }
});

describe("room for a slow decode's streams elsewhere, counted as the requests start", () => {
  // a decodes slowly: 40 requests a second end there, while 100 a second are sent to it (counted as
  // they start, proto ClusterWindow.sent) when its filters count them: its answers pile up in
  // flight. b serves 100 rps and was seen to serve 170 well in 1-s windows: it is counted on for
  // 170 less two standard errors of such a window's count (144 rps), so it has 44 rps of room.
  const cases: { name: string; sentRps: number | undefined; ended: number; started: number; room: boolean }[] = [
    { name: "filters that do not count sent requests: a's load is what ended (40 rps), and b's 44 rps of room take it", sentRps: undefined, ended: 40, started: 40, room: true },
    { name: "counted as they start: a sends 100 rps, more than b's 44 rps of room", sentRps: 100, ended: 40, started: 100, room: false },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const history = Array.from({ length: 10 }, (_, i) => ({ ...windowOf("a", i, 40, 0), ...(c.sentRps !== undefined ? { sentRps: c.sentRps } : {}) }));
      assert.deepEqual([offeredRps(history.at(-1)!), offeredRps(history.at(-1)!, true)], [c.ended, c.started], "the planner's load counts them as they end");
      const clusters = [
        roundCluster("a", { history, previousShare: 0.5, capacity: { baselineP50Ms: 100, safeRps: 100, kneeRps: Infinity, limitRps: 130 } }),
        roundCluster("b", { previousShare: 0.5, capacity: { baselineP50Ms: 100, safeRps: 170, kneeRps: Infinity, limitRps: 221 } }),
      ];
      assert.equal(roomElsewhere(clusters, "a", CONFIG.z), c.room);
    });
  }
});

describe("room for a slow decode's streams counts on loads carried, not on a count's upward noise", () => {
  // a sends 40 rps. b serves 100 rps; its safe level, 150 rps, is the highest rate of a window
  // with latency near baseline, and a window's count is a Poisson draw: b is counted on for 150
  // less two standard errors of a window's count, which shrink as windows grow longer.
  const cases: { name: string; windowS: number; room: boolean }[] = [
    { name: "1-s windows: 150 less 2·√150 is 125.5 rps, 25.5 of room, not enough for 40", windowS: 1, room: false },
    { name: "10-s windows: 150 less 2·√1500/10 is 142.3 rps, 42.3 of room, enough for 40", windowS: 10, room: true },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const windows = (name: string, rps: number) => Array.from({ length: 10 }, (_, i) => clusterWindow({
        cluster: name, windowStartMs: i * c.windowS * 1000, windowLengthMs: c.windowS * 1000, requests: rps * c.windowS, p50Ms: 100, p95Ms: 200, p99Ms: 300, rps,
      }));
      const clusters = [
        roundCluster("a", { history: windows("a", 40), previousShare: 0.3, capacity: { baselineP50Ms: 100, safeRps: 40, kneeRps: Infinity, limitRps: 52 } }),
        roundCluster("b", { history: windows("b", 100), previousShare: 0.7, capacity: { baselineP50Ms: 100, safeRps: 150, kneeRps: Infinity, limitRps: 195 } }),
      ];
      assert.equal(roomElsewhere(clusters, "a", CONFIG.z), c.room);
    });
  }
});

describe("room for a whole load opened at once on slow requests is what the planner trusts the others with", () => {
  // a sends 100 rps and b 100 rps, each its base share (half); a is the one to open. b's trust is
  // its capacity limit (a step above what it served well), without one its load and 30 %, or its
  // base share of the mesh's load (100 rps) up to its knee.
  const cases: { name: string; b: { safeRps: number; limitRps: number; kneeRps: number }; room: boolean }[] = [
    { name: "b served 100 rps well and is trusted with 130: 30 of room, not enough for a's 100", b: { safeRps: 100, limitRps: 130, kneeRps: Infinity }, room: false },
    { name: "b carried 160 rps well (an earlier outage of a) and is trusted with 208: enough", b: { safeRps: 160, limitRps: 208, kneeRps: Infinity }, room: true },
    { name: "b's limit unknown: its load and 30 %, not enough", b: { safeRps: 100, limitRps: Infinity, kneeRps: Infinity }, room: false },
    { name: "b's knee below its load: its limit still counts, 5 of room, not enough", b: { safeRps: 100, limitRps: 105, kneeRps: 90 }, room: false },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const windows = (name: string) => Array.from({ length: 10 }, (_, i) => clusterWindow({ cluster: name, windowStartMs: i * 1000, windowLengthMs: 1000, requests: 100, p50Ms: 100, p95Ms: 200, p99Ms: 300, rps: 100 }));
      const clusters = [
        roundCluster("a", { history: windows("a"), previousShare: 0.5, capacity: { baselineP50Ms: 100, safeRps: 100, kneeRps: Infinity, limitRps: 130 } }),
        roundCluster("b", { history: windows("b"), previousShare: 0.5, capacity: { baselineP50Ms: 100, ...c.b } }),
      ];
      assert.equal(roomWithinTrust(clusters, "a"), c.room);
    });
  }

  it("counts the room of every other closed cluster together", () => {
    const windows = (name: string, rps: number) => Array.from({ length: 10 }, (_, i) => clusterWindow({ cluster: name, windowStartMs: i * 1000, windowLengthMs: 1000, requests: rps, p50Ms: 100, p95Ms: 200, p99Ms: 300, rps }));
    // a sends 60 rps; b, c and d 100 rps each, each trusted with 130: 90 of room in all.
    const others = ["b", "c", "d"].map((n) => roundCluster(n, { history: windows(n, 100), previousShare: 0.3, capacity: { baselineP50Ms: 100, safeRps: 100, kneeRps: Infinity, limitRps: 130 } }));
    const a = (rps: number) => roundCluster("a", { history: windows("a", rps), previousShare: 0.1, capacity: { baselineP50Ms: 100, safeRps: rps, kneeRps: Infinity, limitRps: rps * 1.3 } });
    assert.equal(roomWithinTrust([a(60), ...others], "a"), true);
    assert.equal(roomWithinTrust([a(120), ...others], "a"), false);
  });
});

/** 15 windows at the safe load (100 rps, 1 % failed), then `overloaded` windows at `loadRps` with 20 % failed. */
function carriedAnOutage(name: string, overloaded: number, loadRps: number): ClusterWindowStats[] {
  return [
    ...Array.from({ length: 15 }, (_, i) => windowOf(name, i, 100, 0.01)),
    ...Array.from({ length: overloaded }, (_, i) => windowOf(name, 15 + i, loadRps, 0.2)),
  ];
}
const SAFE_AT_100 = { baselineP50Ms: 100, safeRps: 100, kneeRps: Infinity, limitRps: 130 };

describe("a cluster that carried another's share during an outage", () => {
  it("keeps its base share when the failed cluster closes again: its load is predicted at that share, not at the share it carried alone", () => {
    const plan = planRound(
      [
        // a carried b's share for the last 3 windows (190 rps, overloaded); before, 100 rps at 1 %.
        roundCluster("a", { previousShare: 0.95, history: carriedAnOutage("a", 3, 190), capacity: SAFE_AT_100 }),
        // b was probed at 5 % and just closed again: it starts at its base share.
        roundCluster("b", { previousShare: undefined, inForceShare: 0.05, history: Array.from({ length: 10 }, (_, i) => windowOf("b", 8 + i, 10, 0)), capacity: SAFE_AT_100 }),
      ],
      CONFIG,
    );
    assert.ok(Math.abs(plan.get("a")!.share - 0.5) < EPS, `a: ${plan.get("a")!.share}`);
    assert.ok(Math.abs(plan.get("b")!.share - 0.5) < EPS, `b: ${plan.get("b")!.share}`);
  });
});
