// A cluster's capacity as its upstreams report it (ORCA utilisation on their responses:
// control-plane/src/core/planner/reported-capacity.ts), and what the planner's load-response model
// makes of it (planner/assessment.ts).
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { reportedCapacityRps, REPORTED_UTILISATION_FLOOR } from "../control-plane/src/core/planner/reported-capacity.js";
import { assessLoadResponse, offeredRps, EVIDENCE_DECAY, REPORTED_UTILISATION_LIMIT } from "../control-plane/src/core/planner/assessment.js";
import { planRound, worthOpening, type RoundCluster } from "../control-plane/src/core/planner/round-plan.js";
import { predictBadFraction, type LoadResponse } from "../control-plane/src/core/planner/load-response.js";
import type { PlanConfig } from "../control-plane/src/core/planner/planner.js";
import type { CapacityEstimate, ClusterWindowStats } from "../control-plane/src/core/types.js";
import type { UpstreamLoadStats } from "../control-plane/src/core/upstream-load.js";
import { clusterWindow } from "./cluster-window.js";

const EPS = 1e-9;
const sent = (w: ClusterWindowStats): number => offeredRps(w, true);

/** A one-second window of `rps` requests sent and served, its responses carrying `reports`
 *  reports of mean application utilisation `u` (no reports: u undefined). */
function w(rps: number, u?: number, reports = rps, cpu?: number): ClusterWindowStats {
  const load: UpstreamLoadStats | undefined = u === undefined && cpu === undefined ? undefined : {
    reports, unparsed: 0,
    count: { ...(u === undefined ? {} : { applicationUtilization: reports }), ...(cpu === undefined ? {} : { cpuUtilization: reports }) },
    mean: { ...(u === undefined ? {} : { applicationUtilization: u }), ...(cpu === undefined ? {} : { cpuUtilization: cpu }) },
    max: {},
  };
  return clusterWindow({ requests: rps, rps, sentRps: rps, ...(load === undefined ? {} : { upstreamLoad: load }) });
}

describe("the capacity a cluster's upstreams report", () => {
  const cases: { name: string; windows: ClusterWindowStats[]; capacity: number | undefined }[] = [
    { name: "no reports: not known", windows: [w(100), w(100), w(100)], capacity: undefined },
    { name: "100 rps at half their capacity: 200", windows: [w(100, 0.5), w(100, 0.5), w(100, 0.5)], capacity: 200 },
    {
      name: "a load just moved in meets reports from before it came: paired with the window before, still 200 (not 400)",
      windows: [w(100, 0.5), w(100, 0.5), w(200, 0.5)], capacity: (100 + EVIDENCE_DECAY * 100) / (0.5 + EVIDENCE_DECAY * 0.5),
    },
    { name: "fewer than 20 reports: not known", windows: [w(100, 0.5, 5), w(100, 0.5, 5), w(100, 0.5, 5)], capacity: undefined },
    { name: "reports on fewer than half the requests (hosts of a build that does not report): not known", windows: [w(100, 0.5, 40), w(100, 0.5, 40), w(100, 0.5, 40)], capacity: undefined },
    { name: "a nearly idle server's utilisation is read at the floor: 10 rps at 2 % is not 500", windows: [w(10, 0.02), w(10, 0.02), w(10, 0.02)], capacity: 10 / REPORTED_UTILISATION_FLOOR },
    { name: "without application utilisation, CPU utilisation (as Envoy's weighted round robin reads it)", windows: [w(100, undefined, 100, 0.25), w(100, undefined, 100, 0.25)], capacity: 400 },
    { name: "application utilisation 0 falls back to CPU", windows: [w(100, 0, 100, 0.25), w(100, 0, 100, 0.25)], capacity: 400 },
    { name: "one window alone has no window before it to pair with: not known", windows: [w(100, 0.5)], capacity: undefined },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const got = reportedCapacityRps(c.windows, EVIDENCE_DECAY, sent);
      if (c.capacity === undefined) assert.equal(got, undefined);
      else assert.ok(got !== undefined && Math.abs(got - c.capacity) < EPS, `capacity ${got}, expected ${c.capacity}`);
    });
  }
});

describe("the load-response model of a cluster whose upstreams report their load", () => {
  /** Learnt from latency: safe up to 100 rps near its 100 ms baseline, trusted with 130, no knee. */
  const LEARNT: CapacityEstimate = { baselineP50Ms: 100, safeRps: 100, kneeRps: Infinity, limitRps: 130 };
  const history = (u: number, p50Ms = 100): ClusterWindowStats[] =>
    Array.from({ length: 6 }, () => ({ ...w(100, u), p50Ms }));
  const cases: { name: string; history: ClusterWindowStats[]; limit: number; knee: number }[] = [
    { name: "at its baseline and 25 % busy: trusted with 80 % of the 400 it reports, saturating at 400", history: history(0.25), limit: 400 * REPORTED_UTILISATION_LIMIT, knee: 400 },
    { name: "at its baseline and 90 % busy: trusted with less than it carries", history: history(0.9), limit: (100 / 0.9) * REPORTED_UTILISATION_LIMIT, knee: 100 / 0.9 },
    { name: "slowed threefold by a fault: the reports only lower what its latency bounds (130 / 3)", history: history(0.25, 300), limit: 130 / 3, knee: 400 },
    { name: "slowed threefold and offered twice what it serves: the reports lower it further", history: history(2, 300), limit: 50 * REPORTED_UTILISATION_LIMIT, knee: 50 },
    { name: "without reports: what its latency taught, as before", history: Array.from({ length: 6 }, () => w(100)), limit: 130, knee: Infinity },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = assessLoadResponse(c.history, LEARNT);
      assert.ok(Math.abs(r.limitRps - c.limit) < 1e-6, `limit ${r.limitRps}, expected ${c.limit}`);
      assert.ok(r.kneeRps === c.knee || Math.abs(r.kneeRps - c.knee) < 1e-6, `knee ${r.kneeRps}, expected ${c.knee}`);
    });
  }
});

describe("a failing cluster's traffic and a receiver whose reports show room its latency never showed", () => {
  const CONFIG: PlanConfig = { step: 0.05, maxStep: 0.1, floor: 0.05, z: 2, minGain: 0.005, reversalRounds: 4, settleRounds: 2, shareResolution: 0.001 };
  /** a fails a fifth of its 100 rps; b carries 100 rps, all it was ever seen to carry, its learnt limit 100. */
  const aShare = (bUtilisation: number | undefined): number => {
    const failing = Array.from({ length: 6 }, () => ({ ...w(100), errors5xx: 20, errorRate: 0.2 }));
    const receiver = Array.from({ length: 6 }, () => w(100, bUtilisation));
    const learnt: CapacityEstimate = { baselineP50Ms: 100, safeRps: 100, kneeRps: 100, limitRps: 100 };
    const cluster = (name: string, history: ClusterWindowStats[]): RoundCluster => ({
      name, baseWeight: 1, breaker: "closed", probeFraction: 1, previousShare: 0.5, history,
      capacity: learnt, lastMove: { direction: 0, roundsAgo: 0 }, forcedClosed: false,
    });
    return planRound([cluster("a", failing), cluster("b", receiver)], CONFIG).get("a")!.share;
  };
  const cases: { name: string; u: number | undefined; moves: boolean }[] = [
    { name: "no reports: its knee at 100 rps holds the failing cluster's traffic where it is", u: undefined, moves: false },
    { name: "reported 40 % busy: the traffic moves to it", u: 0.4, moves: true },
    { name: "reported 85 % busy (past the 80 % it is trusted with): nothing moves", u: 0.85, moves: false },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const share = aShare(c.u);
      if (c.moves) assert.ok(share < 0.5 - EPS, `a's share ${share}`);
      else assert.ok(Math.abs(share - 0.5) < EPS, `a's share ${share}`);
    });
  }
});

describe("slow first tokens of a cluster its servers report loaded past what it is trusted with", () => {
  const LEARNT: CapacityEstimate = { baselineP50Ms: 100, safeRps: 100, kneeRps: Infinity, limitRps: 130 };
  /** Six windows of 100 streams sent and ended, 30 of them with a first token over the objective. */
  const history = (u: number | undefined): ClusterWindowStats[] => Array.from({ length: 6 }, () => {
    const window = w(100, u);
    const streams = { streams: 100, firstTokens: 100, ttftSlow: 30, tpotSlow: 0 } as unknown as NonNullable<ClusterWindowStats["streams"]>;
    return { ...window, streams };
  });
  const cases: { name: string; u: number | undefined; badFraction: number }[] = [
    { name: "reported 95 % busy (past the 80 % it is trusted with): its queue, so they count as bad", u: 0.95, badFraction: 0.3 },
    { name: "reported 50 % busy: not its queue, they do not count for its moves", u: 0.5, badFraction: 0 },
    { name: "without reports: nothing says whether load made them, they do not count", u: undefined, badFraction: 0 },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = assessLoadResponse(history(c.u), LEARNT);
      assert.ok(Math.abs(r.badFraction - c.badFraction) < 1e-9, `bad fraction ${r.badFraction}`);
    });
  }
});

describe("a load at or past the capacity a cluster's upstreams report", () => {
  const base: LoadResponse = { loadRps: 60, requests: 600, bad: 0, badFraction: 0, faultFraction: 0, safeRps: 60, limitRps: 68, kneeRps: 85, saturationRps: 85 };
  const cases: { name: string; m: LoadResponse; load: number; bad: number }[] = [
    { name: "past it, above its load now: every request is bad (a saturated queue slows them all)", m: base, load: 112, bad: 1 },
    { name: "at it: every request is bad", m: base, load: 85, bad: 1 },
    { name: "between its trusted 80 % and it: only the requests past the trust", m: base, load: 80, bad: (80 - 68) / 80 },
    { name: "its own load now, even past it: what it shows (observed, not predicted)", m: { ...base, loadRps: 100 }, load: 100, bad: 0 },
    { name: "not reported: only the requests past the trust, as before", m: { ...base, saturationRps: undefined }, load: 112, bad: (112 - 68) / 112 },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const { saturationRps, ...rest } = c.m;
      const m: LoadResponse = saturationRps === undefined ? rest : c.m;
      assert.ok(Math.abs(predictBadFraction(m, c.load) - c.bad) < 1e-9, `bad fraction ${predictBadFraction(m, c.load)}, expected ${c.bad}`);
    });
  }

  it("a failing cluster is not opened onto a receiver its reports show cannot carry its load", () => {
    // c1 fails every request of its 49 rps; c0 carries 63 of the 85 rps its servers report.
    const CONFIG: PlanConfig = { step: 0.05, maxStep: 0.1, floor: 0.05, z: 2, minGain: 0.005, reversalRounds: 4, settleRounds: 2, shareResolution: 0.001 };
    const failing = Array.from({ length: 6 }, () => ({ ...w(49), errors5xx: 49, errorRate: 1 }));
    const receiver = Array.from({ length: 6 }, () => w(63, 63 / 85));
    const learnt: CapacityEstimate = { baselineP50Ms: 100, safeRps: 63, kneeRps: Infinity, limitRps: 82 };
    const cluster = (name: string, history: ClusterWindowStats[], share: number): RoundCluster => ({
      name, baseWeight: 1, breaker: "closed", probeFraction: 1, previousShare: share, history,
      capacity: learnt, lastMove: { direction: 0, roundsAgo: 0 }, forcedClosed: false,
    });
    const clusters = [cluster("c1", failing, 49 / 112), cluster("c0", receiver, 63 / 112)];
    assert.equal(worthOpening(clusters, "c1", CONFIG), false);
  });
});
