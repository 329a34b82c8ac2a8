// The share a cluster's evidence was gathered at (control-plane/src/core/planner/gathered-share.ts),
// and what the planner makes of it when a cluster just closed after probing.
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { gatheredShare, logShare, SHARE_LOG_LENGTH, type ShareChange } from "../control-plane/src/core/planner/gathered-share.js";
import type { PlanConfig } from "../control-plane/src/core/planner/planner.js";
import { worthOpening, type RoundCluster } from "../control-plane/src/core/planner/round-plan.js";
import type { ClusterWindowStats } from "../control-plane/src/core/types.js";
import { newClusterRuntime, roundCluster } from "../control-plane/src/core/cluster-runtime.js";
import { DEFAULT_CONFIG } from "../control-plane/src/core/config.js";
import { clusterWindow } from "./cluster-window.js";

const CONFIG: PlanConfig = { step: 0.05, maxStep: 0.1, floor: 0.05, z: 2, minGain: 0.005, reversalRounds: 4, settleRounds: 2, shareResolution: 0.001 };

/** One-second windows starting at the given seconds, `rps` requests each, `failed` of them failing. */
function windows(startsS: number[], rps = 100, failed = 0): ClusterWindowStats[] {
  return startsS.map((s) => clusterWindow({ windowStartMs: s * 1000, requests: rps, rps, errors5xx: Math.round(rps * failed), errorRate: failed }));
}

describe("the share a cluster's windows were gathered at", () => {
  const cases: { name: string; log: ShareChange[]; starts: number[]; expected: number | undefined }[] = [
    { name: "one share in force all along: that share", log: [{ atMs: 0, share: 0.3 }], starts: [10, 11, 12], expected: 0.3 },
    {
      name: "the set changed at the end of the newest window: the share before it (the windows did not see the new one)",
      log: [{ atMs: 0, share: 0.05 }, { atMs: 13_000, share: 0.5 }], starts: [10, 11, 12], expected: 0.05,
    },
    {
      // Weights 1 (newest, at 0.5), 0.5 and 0.25 (at 0.05): (0.5 + 0.75 * 0.05) / 1.75.
      name: "the set changed two windows ago: the windows' shares, the newest weighing most",
      log: [{ atMs: 0, share: 0.05 }, { atMs: 12_000, share: 0.5 }], starts: [10, 11, 12], expected: (0.5 + 0.75 * 0.05) / 1.75,
    },
    { name: "no log reaching back to the windows (a fresh start): unknown", log: [{ atMs: 20_000, share: 0.5 }], starts: [10, 11, 12], expected: undefined },
    { name: "no windows: unknown", log: [{ atMs: 0, share: 0.5 }], starts: [], expected: undefined },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const got = gatheredShare(c.log, windows(c.starts));
      if (c.expected === undefined) assert.equal(got, undefined);
      else assert.ok(got !== undefined && Math.abs(got - c.expected) < 1e-12, `got ${got}, expected ${c.expected}`);
    });
  }

  it("a cluster's planner view carries the share its windows were gathered at, from its log", () => {
    const rt = newClusterRuntime({ name: "a", baseWeight: 1 }, { weights: DEFAULT_CONFIG.weights });
    rt.history.push(...windows([10, 11, 12]));
    logShare(rt.shareLog, 0, 0.05);
    logShare(rt.shareLog, 13_000, 0.5);
    const view = roundCluster(rt, 0.5, false);
    assert.equal(view.gatheredShare, 0.05);
    assert.equal(view.inForceShare, 0.5);
  });

  it("the log keeps a change only when the share changed, and only the newest ones", () => {
    const log: ShareChange[] = [];
    logShare(log, 0, 0.5);
    logShare(log, 1000, 0.5);
    logShare(log, 2000, undefined);
    assert.deepEqual(log, [{ atMs: 0, share: 0.5 }]);
    for (let i = 1; i <= SHARE_LOG_LENGTH + 3; i++) logShare(log, i * 1000, i / 100);
    assert.equal(log.length, SHARE_LOG_LENGTH);
    assert.deepEqual(log.at(-1), { atMs: (SHARE_LOG_LENGTH + 3) * 1000, share: (SHARE_LOG_LENGTH + 3) / 100 });
  });
});

describe("a cluster that just closed after probing, when another fails", () => {
  // 210 rps in all. a fails 40 % and b is healthy, 100 rps each at about half the traffic; c was
  // probed at 5 % (10 rps) and the set in force gives it 30 % again. b can take anything; c is
  // trusted with its base share (70 rps). Opening a spreads its traffic over b and c.
  const capacity = { baselineP50Ms: 100, safeRps: 100, kneeRps: Infinity, limitRps: 1000 };
  const cluster = (name: string, over: Partial<RoundCluster>): RoundCluster => ({
    name, baseWeight: 1, breaker: "closed", probeFraction: 1, previousShare: 0.35, gatheredShare: 0.475,
    history: windows([10, 11, 12, 13, 14], 100), capacity, lastMove: { direction: 0, roundsAgo: 0 }, forcedClosed: false, ...over,
  });
  const fleet = (cGatheredAt: number) => [
    cluster("a", { history: windows([10, 11, 12, 13, 14], 100, 0.4) }),
    cluster("b", {}),
    cluster("c", { previousShare: 0.3, inForceShare: 0.3, gatheredShare: cGatheredAt, history: windows([10, 11, 12, 13, 14], 10), capacity: { ...capacity, limitRps: 40 } }),
  ];
  const cases: { name: string; cGatheredAt: number; worth: boolean }[] = [
    { name: "its windows gathered at its probe share: at its 30 % it already carries 62 rps, a's part pushes it past 70 rps, not worth opening a", cGatheredAt: 0.05, worth: false },
    { name: "its windows gathered at its 30 % (10 rps there): a's part fits, worth opening a", cGatheredAt: 0.3, worth: true },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.equal(worthOpening(fleet(c.cGatheredAt), "a", CONFIG), c.worth);
    });
  }
});
