// The envoy-cswrr baseline: Envoy's client-side weighted round robin weights from ORCA reports
// (sim/policies/orca-weights.ts) and the balancer over every cluster's endpoints.
import { test } from "node:test";
import assert from "node:assert/strict";
import { CSWRR_DEFAULTS, OrcaWeights, reportWeight } from "../sim/policies/orca-weights.js";
import { createEnvoyCswrrPolicy } from "../sim/policies/envoy-cswrr.js";
import { createNonePolicy } from "../sim/policies/none.js";
import { runScenario } from "../sim/runner.js";
import type { HostLoad } from "../sim/upstream.js";
import { testScenario } from "./sim-support.js";

const load = (rpsFractional: number, utilization: number, eps = 0): HostLoad => ({ rpsFractional, utilization, eps });

test("a report's weight is its rate over its utilisation plus the error penalty, and Envoy ignores one without either", () => {
  const cases: Array<[string, HostLoad, number | undefined]> = [
    ["100 rps at half busy: 200", load(100, 0.5), 200],
    ["10 errors a second add 1.0 × 10 / 100 to the utilisation: 100 / 0.6", load(100, 0.5, 10), 100 / 0.6],
    ["no rate: ignored", load(0, 0.5), undefined],
    ["no utilisation and no errors: ignored", load(100, 0), undefined],
    ["no utilisation but errors: the penalty alone", load(100, 0, 50), 200],
  ];
  for (const [name, report, expected] of cases) {
    const got = reportWeight(report, CSWRR_DEFAULTS.errorUtilizationPenalty);
    if (expected === undefined) assert.equal(got, undefined, name);
    else assert.ok(got !== undefined && Math.abs(got - expected) < 1e-9, `${name}: ${got}`);
  }
});

test("weights count after the blackout, expire after three minutes, and hosts without one get the median", () => {
  const cases: Array<[string, (w: OrcaWeights) => void, number, number[]]> = [
    ["no report yet: every host weighs 1 (round robin)", () => {}, 30, [1, 1, 1, 1]],
    ["reports younger than the 10 s blackout do not count yet", (w) => w.onReport(0, load(100, 0.5), 0), 9, [1, 1, 1, 1]],
    ["after the blackout a reporting host's weight counts; the others get it as the median of one", (w) => {
      w.onReport(0, load(100, 0.5), 0);
      w.onReport(0, load(100, 0.5), 10);
    }, 10, [200, 200, 200, 200]],
    ["three reporting hosts: the silent one gets the middle weight", (w) => {
      for (const [h, u] of [[0, 1], [1, 0.5], [2, 0.25]] as const) {
        w.onReport(h, load(100, u), 0);
        w.onReport(h, load(100, u), 20);
      }
    }, 20, [100, 200, 400, 200]],
    ["two reporting hosts: the silent ones get the mean of the two", (w) => {
      for (const [h, u] of [[0, 1], [1, 0.25]] as const) {
        w.onReport(h, load(100, u), 0);
        w.onReport(h, load(100, u), 20);
      }
    }, 20, [100, 400, 250, 250]],
    ["a weight with no report for more than 3 min expires", (w) => {
      w.onReport(0, load(100, 0.25), 0);
      w.onReport(1, load(100, 1), 0);
      w.onReport(1, load(100, 1), 100);
    }, 181, [100, 100, 100, 100]],
  ];
  for (const [name, reports, at, expected] of cases) {
    const w = new OrcaWeights(4);
    reports(w);
    w.update(at);
    assert.deepEqual([...w.weights], expected, name);
  }
});

test("an expired host's blackout starts again with its next report", () => {
  const w = new OrcaWeights(2);
  w.onReport(0, load(100, 0.25), 0);
  w.update(200); // expired
  w.onReport(0, load(100, 0.25), 201);
  w.update(205);
  assert.deepEqual([...w.weights], [1, 1], "within the new blackout");
  w.update(211);
  assert.deepEqual([...w.weights], [400, 400]);
});

/** Two clusters of 4 hosts; b's hosts serve three times what a's do. */
function unequal(reports: boolean, rps = 200): ReturnType<typeof testScenario> {
  return testScenario((json) => {
    json.faults = [];
    json.traffic = [{ at_s: 0, rps }];
    const clusters = json.clusters as Array<Record<string, unknown>>;
    clusters[0]!.capacity_rps = 100;
    clusters[1]!.capacity_rps = 300;
    clusters[0]!.weight = 90;
    clusters[1]!.weight = 10;
    if (reports) for (const c of clusters) c.load_report = true;
  });
}

test("envoy-cswrr spreads load by the capacity the hosts report, across clusters and whatever the operator's weights", async () => {
  const scenario = unequal(true);
  const result = await runScenario(scenario, createEnvoyCswrrPolicy(scenario, scenario.seed));
  const late = result.windows.slice(30);
  const toB = late.reduce((n, w) => n + w.clusters[1]!.sent, 0) / late.reduce((n, w) => n + w.offered, 0);
  assert.ok(toB > 0.65 && toB < 0.85, `b's share ${toB} (its capacity is 3/4 of the total)`);
  const none = await runScenario(scenario, createNonePolicy(scenario));
  assert.ok(result.failed < none.failed / 4, `cswrr ${result.failed} vs none ${none.failed} (90 % of 200 rps on a's 100)`);
});

test("envoy-cswrr without reports is round robin over every endpoint", async () => {
  const scenario = unequal(false, 100); // within every host's capacity: no 503, no ejection
  const result = await runScenario(scenario, createEnvoyCswrrPolicy(scenario, scenario.seed));
  const toB = result.windows.reduce((n, w) => n + w.clusters[1]!.sent, 0) / result.requests;
  assert.ok(Math.abs(toB - 0.5) < 0.02, `b's share ${toB} (4 of 8 endpoints)`);
});
