// The reference oracles (sim/oracle-plan.ts, sim/policies/oracle.ts): the expected outcome of a
// host under its true state, the shares that minimise bad requests without breaking the SLO in
// more windows than the operator's split, and the two horizons (the next window's truth, the
// last one's) run through the simulator.
import { test } from "node:test";
import assert from "node:assert/strict";
import { NO_EFFECT, type HostEffect } from "../sim/faults.js";
import {
  expectedBreaches, hostOutcomeAt, normalUpperTail, planShares, poissonAtLeast,
  type ClusterTruth, type RequestObjective, type TruthSample,
} from "../sim/oracle-plan.js";
import { fitLogNormal } from "../sim/random.js";
import { createOraclePolicy } from "../sim/policies/oracle.js";
import { createNonePolicy } from "../sim/policies/none.js";
import { runScenario } from "../sim/runner.js";
import { reportRun } from "../sim/report.js";
import { createPolicy, policyUnavailableReason } from "../sim/job.js";
import { testScenario } from "./sim-support.js";

const OBJECTIVE: RequestObjective = { latencyMs: 2000, clientTimeoutMs: 5000, rateWindowS: 1, successRate: 0.99 };

/** A cluster of `hosts` hosts serving 100 requests per second each, p50 100 ms and p99 500 ms. */
function cluster(hosts: number, effect: Partial<HostEffect> = {}, over: Partial<ClusterTruth> = {}): ClusterTruth {
  const { mu, sigma } = fitLogNormal(100, 500);
  return {
    hostCapacityRps: 100, errorRate: 0, latencyMu: mu, latencySigma: sigma, streamFraction: 0,
    groups: [{ hosts, effect: { ...NO_EFFECT, ...effect } }], ...over,
  };
}

const near = (got: number, expected: number, within: number): boolean => Math.abs(got - expected) <= within;

test("the standard normal's upper tail and the Poisson tail match their tables", () => {
  const cases: Array<[string, number, number]> = [
    ["P(Z > 0) is one half", normalUpperTail(0), 0.5],
    ["P(Z > 2.3263) is 1 %", normalUpperTail(2.3263), 0.01],
    ["P(Z > -1.96) is 97.5 %", normalUpperTail(-1.96), 0.975],
    ["P(X >= 0) is certain", poissonAtLeast(3, 0), 1],
    ["P(X >= 2) with mean 1 is 1 - 2/e", poissonAtLeast(1, 2), 1 - 2 / Math.E],
    ["P(X >= 1) with mean 0 is nothing", poissonAtLeast(0, 1), 0],
    ["P(X >= 100) with mean 100 is about one half (normal, continuity-corrected)", poissonAtLeast(100, 100), 0.52],
  ];
  for (const [name, got, expected] of cases) assert.ok(near(got, expected, 0.005), `${name}: ${got}`);
});

test("a host's expected outcome follows the simulator's answer model", () => {
  const cases: Array<[string, Partial<HostEffect>, Partial<ClusterTruth>, number, { failed: number; slow: number }]> = [
    ["a healthy host at a tenth of its capacity: its own errors only, hardly anything slow", {}, { errorRate: 0.01 }, 10, { failed: 0.01, slow: 0 }],
    ["a host that is down refuses everything", { downChance: 1 }, {}, 10, { failed: 1, slow: 0 }],
    ["a host offered twice its capacity rejects half, and queueing slows a few of the rest", {}, {}, 200, { failed: 0.5, slow: 0.0125 }],
    ["a fault's added errors add to the cluster's own", { addedErrorRate: 0.3 }, { errorRate: 0.01 }, 10, { failed: 0.31, slow: 0 }],
    ["latency twenty times over puts the median at the objective: half slow, 9 % past the client's timeout", { latencyX: 20 }, {}, 10, { failed: 0.093, slow: 0.5 }],
    ["a host at its halved capacity queues: about 2.5 % of its answers slow", { capacityX: 0.5 }, {}, 49, { failed: 0, slow: 0.025 }],
    ["a streamed answer is judged by its cut chance", { cutRate: 0.2 }, { streamFraction: 1 }, 10, { failed: 0.2, slow: 0 }],
  ];
  for (const [name, effect, over, rps, expected] of cases) {
    const c = cluster(1, effect, over);
    const got = hostOutcomeAt(c, c.groups[0]!.effect, rps, OBJECTIVE);
    assert.ok(near(got.failed, expected.failed, 0.01), `${name}: failed ${got.failed}`);
    assert.ok(near(got.slow, expected.slow, 0.02), `${name}: slow ${got.slow}`);
    assert.ok(got.bad >= got.failed - 1e-12 && got.bad <= got.failed + got.slow + 1e-12, `${name}: bad ${got.bad}`);
  }
});

/** One instant offering `rps` in all to the clusters. */
const at = (rps: number, ...clusters: ClusterTruth[]): TruthSample[] => [{ offeredRps: rps, clusters }];

test("the oracle's shares move only where the truth says it pays", () => {
  const cases: Array<[string, number[], TruthSample[], (shares: number[]) => boolean]> = [
    ["equal healthy clusters keep the operator's split", [0.5, 0.5], at(200, cluster(2), cluster(2)), (s) => s[0] === 0.5 && s[1] === 0.5],
    ["an unequal split of healthy clusters with room stays", [0.7, 0.3], at(200, cluster(2), cluster(2)), (s) => s[0] === 0.7],
    ["a cluster that is down gets nothing", [0.5, 0.5], at(200, cluster(2, { downChance: 1 }), cluster(2)), (s) => s[0] === 0],
    ["a cluster failing half its requests gets nothing while the other has room", [0.5, 0.5], at(100, cluster(2, { addedErrorRate: 0.5 }), cluster(2)), (s) => s[0] === 0],
    ["a cluster at half capacity sheds only what the other can carry", [0.5, 0.5], at(300, cluster(2, { capacityX: 0.5 }), cluster(2)),
      (s) => s[0]! > 0 && s[0]! < 0.5 && s[1]! * 300 <= 200],
    ["every cluster equally bad: the split stays", [0.5, 0.5], at(200, cluster(2, { addedErrorRate: 0.2 }), cluster(2, { addedErrorRate: 0.2 })), (s) => s[0] === 0.5],
  ];
  for (const [name, base, samples, holds] of cases) {
    const shares = planShares(base, samples, OBJECTIVE);
    assert.ok(near(shares.reduce((a, b) => a + b, 0), 1, 1e-9), `${name}: shares sum to one (${shares.join(", ")})`);
    assert.ok(holds(shares), `${name}: ${shares.join(", ")}`);
  }
});

test("the oracle keeps the operator's split when fewer failures would cost windows past the p99 objective", () => {
  // a fails 4 % of its requests and answers fast; b never fails but about 2 % of its answers are
  // slower than the objective. All on b has the fewest bad requests (22 a second against 28) and
  // fails almost none, yet puts more than 1 % of every window's requests past the objective,
  // where the even split keeps them under it in most windows.
  const objective: RequestObjective = { ...OBJECTIVE, successRate: 0.95 };
  const slowTail = { latencyMu: Math.log(2000) - 2.144 * 0.6, latencySigma: 0.6 };
  const samples = at(1000, cluster(10, {}, { errorRate: 0.04 }), cluster(20, {}, slowTail));
  assert.ok(expectedBreaches([0, 1], samples, objective) > expectedBreaches([0.5, 0.5], samples, objective) + 0.5);
  assert.deepEqual(planShares([0.5, 0.5], samples, objective), [0.5, 0.5]);
});

test("the oracle of the next window cuts a failing cluster for the fault's span; the one of the last window a window later", async () => {
  // testScenario: clusters a and b; a answers 90 % errors from 20 s to 35 s; one-second windows.
  const scenario = testScenario();
  const sent = async (policy: ReturnType<typeof createOraclePolicy>) => (await runScenario(scenario, policy)).windows.map((w) => w.clusters[0]!.sent);
  const next = await sent(createOraclePolicy(scenario, "next-window"));
  const last = await sent(createOraclePolicy(scenario, "last-window"));
  const cases: Array<[string, number[], number, number]> = [
    ["next-window: a's share before the fault", next, 10, 19],
    ["next-window: nothing to a during the fault", next, 20, 34],
    ["next-window: a's share after it", next, 36, 59],
    ["last-window: a still gets its share in the fault's first window", last, 20, 20],
    ["last-window: nothing to a from the fault's second window to its last", last, 21, 35],
  ];
  for (const [name, series, from, to] of cases) {
    const window = series.slice(from, to + 1);
    const cut = name.includes("nothing");
    assert.ok(window.every((n) => (cut ? n === 0 : n > 20)), `${name}: ${window.join(" ")}`);
  }
  const none = reportRun(await runScenario(scenario, createNonePolicy(scenario)));
  const oracle = reportRun(await runScenario(scenario, createOraclePolicy(scenario, "next-window")));
  assert.ok(oracle.failed < none.failed / 5, `failed: oracle ${oracle.failed}, none ${none.failed}`);
});

test("the oracles are run by name and need no filter build", async () => {
  for (const name of ["oracle-next-window", "oracle-last-window"]) {
    assert.equal(policyUnavailableReason(name), undefined, name);
    assert.equal((await createPolicy(name, testScenario())).name, name);
  }
});
