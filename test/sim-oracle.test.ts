// The reference oracles (sim/oracle-plan.ts, sim/policies/oracle.ts): the expected outcome of a
// host under its true state, the shares that minimise bad requests without breaking the SLO in
// more windows than the operator's split, and the two horizons (the next window's truth, the
// last one's) run through the simulator.
import { test } from "node:test";
import assert from "node:assert/strict";
import { NO_EFFECT, type HostEffect } from "../sim/faults.js";
import {
  expectedBreaches, hostOutcome, hostOutcomeAt, normalUpperTail, planShares, poissonAtLeast,
  type ClusterTruth, type RequestObjective, type TruthSample,
} from "../sim/oracle-plan.js";
import { exponential, fitLogNormal, STREAM, Xoshiro128 } from "../sim/random.js";
import { UpstreamHost } from "../sim/upstream.js";
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
    ["P(X >= 100) with mean 100 is 0.5133", poissonAtLeast(100, 100), 0.5133],
    ["P(X >= 1000) with mean 1000 is about one half (normal, continuity-corrected)", poissonAtLeast(1000, 1000), 0.5063],
  ];
  for (const [name, got, expected] of cases) assert.ok(near(got, expected, 0.005), `${name}: ${got}`);
});

/**
 * What the simulator's own host (UpstreamHost) answers to Poisson arrivals at `rps` for `seconds`
 * under `effect`: the fractions failed (5xx or past the client's timeout) and slower than the
 * objective (every served answer's latency counts in a window's p99, a 500's too).
 */
function simulatedHost(effect: Partial<HostEffect>, errorRate: number, rps: number, seconds = 600): { failed: number; slow: number } {
  const host = new UpstreamHost({ name: "a", weight: 1, endpoints: 1, capacity_rps: 100, latency_ms: { p50: 100, p99: 500 }, error_rate: errorRate }, OBJECTIVE.rateWindowS);
  const random = new Xoshiro128(11, STREAM.requests);
  const full = { ...NO_EFFECT, ...effect };
  let n = 0, failed = 0, slow = 0;
  for (let t = exponential(random, rps); t < seconds; t += exponential(random, rps)) {
    const answer = host.answer(t, full, { latency: random.next(), error: random.next(), overload: random.next(), down: random.next() });
    if (t < 5) continue; // the host's first windows have no load history
    n++;
    if (answer.status >= 500 || answer.latencyMs > OBJECTIVE.clientTimeoutMs) failed++;
    if (answer.latencyMs > OBJECTIVE.latencyMs) slow++;
  }
  return { failed: failed / n, slow: slow / n };
}

test("a host's expected outcome matches what the simulator's host answers", () => {
  const cases: Array<[string, Partial<HostEffect>, number, number]> = [
    ["a healthy host at half its capacity, with 1 % errors of its own", {}, 0.01, 50],
    ["a host offered twice its capacity: half rejected, the rest queueing", {}, 0, 200],
    ["a fault's errors and latency together: errors are slow too", { addedErrorRate: 0.3, latencyX: 15 }, 0, 20],
    ["a host down 40 % of the time: the requests it refuses are not in its load", { downChance: 0.4 }, 0, 150],
    ["a host near its halved capacity queues", { capacityX: 0.5 }, 0, 45],
    ["latency twenty times over: half slow, some past the client's timeout", { latencyX: 20 }, 0, 10],
  ];
  for (const [name, effect, errorRate, rps] of cases) {
    const c = cluster(1, effect, { errorRate });
    const model = hostOutcome(c, c.groups[0]!.effect, rps, OBJECTIVE);
    const sim = simulatedHost(effect, errorRate, rps);
    for (const key of ["failed", "slow"] as const) {
      assert.ok(near(model[key], sim[key], 0.01 + 0.1 * sim[key]), `${name}: ${key} ${model[key].toFixed(4)}, the simulator's host ${sim[key].toFixed(4)}`);
    }
    assert.ok(model.bad >= model.failed - 1e-12 && model.bad <= model.failed + model.slow + 1e-12, `${name}: bad ${model.bad}`);
  }
});

test("a streamed answer is judged by its cut chance", () => {
  const c = cluster(1, { cutRate: 0.2 }, { streamFraction: 1 });
  const got = hostOutcomeAt(c, c.groups[0]!.effect, 10, OBJECTIVE);
  assert.ok(near(got.failed, 0.2, 1e-9) && got.slow === 0, JSON.stringify(got));
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
  // [what, series, first window, last window, whether a gets nothing there]
  const cases: Array<[string, number[], number, number, boolean]> = [
    ["next-window: a's share before the fault", next, 10, 19, false],
    ["next-window: nothing to a during the fault", next, 20, 34, true],
    ["next-window: a's share after it", next, 36, 59, false],
    ["last-window: a still gets its share in the fault's first window", last, 20, 20, false],
    ["last-window: nothing to a from the fault's second window to its last", last, 21, 35, true],
  ];
  for (const [name, series, from, to, cut] of cases) {
    const window = series.slice(from, to + 1);
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
