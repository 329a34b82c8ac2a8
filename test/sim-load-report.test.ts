// Upstreams that report their load (the scenario format's cluster `load_report`): what the
// simulated hosts write in their ORCA reports, when the runner hands a report to a policy, what
// the filter makes of the header, and the generator's share of reporting scenarios.
import { test } from "node:test";
import assert from "node:assert/strict";
import { UpstreamHost, type HostLoad } from "../sim/upstream.js";
import { NO_EFFECT, type HostEffect } from "../sim/faults.js";
import { runScenario } from "../sim/runner.js";
import { parseScenario, ScenarioError } from "../sim/scenario.js";
import type { Policy } from "../sim/policy.js";
import { createNonePolicy } from "../sim/policies/none.js";
import { orcaHeader } from "../sim/policies/autoglm.js";
import { tuningScenarios } from "../models/src/scenario-generator.js";
import { shiftedTuningScenarios } from "../models/src/scenario-generator-shifted.js";
import { scenarioJson, testScenario, llmScenario } from "./sim-support.js";

const NO_FAULT = NO_EFFECT;
const DRAWS = { latency: 0.5, error: 0.99, overload: 0.99, down: 0.99 };

test("a host's load report is its last window's offered load over its capacity then, its offered rate and its 5xx rate", () => {
  const cluster = testScenario((json) => {
    (json.clusters as Array<Record<string, unknown>>)[0]!.load_report = true;
  }).clusters[0]!; // 4 hosts sharing 400 rps: 100 rps each
  const host = new UpstreamHost(cluster, 1);
  for (let i = 0; i < 50; i++) host.answer(0.01 * i, NO_FAULT, DRAWS);
  host.answer(0.9, NO_FAULT, { ...DRAWS, error: 0 }); // one 5xx (error_rate 0.001 > 0)
  const cases: Array<[string, number, Partial<HostEffect>, HostLoad]> = [
    ["within the window it describes the one before (none)", 0.95, {}, { utilization: 0, rpsFractional: 0, eps: 0 }],
    ["in the next window: 51 of 100 per second, one error", 1.5, {}, { utilization: 0.51, rpsFractional: 51, eps: 1 }],
    ["two windows on: nothing came in the last one", 2.5, {}, { utilization: 0, rpsFractional: 0, eps: 0 }],
  ];
  for (const [name, t, effect, expected] of cases) {
    const report = host.loadReportAt(t, { ...NO_FAULT, ...effect });
    assert.deepEqual(report, expected, name);
  }
});

test("a fault that takes capacity shows in the utilisation the host reports", () => {
  const cluster = testScenario((json) => {
    (json.clusters as Array<Record<string, unknown>>)[0]!.load_report = true;
  }).clusters[0]!;
  const host = new UpstreamHost(cluster, 1);
  const half = { ...NO_FAULT, capacityX: 0.5 };
  for (let i = 0; i < 40; i++) host.answer(0.02 * i, half, DRAWS);
  assert.equal(host.loadReportAt(1.2, half)?.utilization, 0.8, "40 rps on a host left with 50");
});

test("a host with no capacity left sends no report (0 would read as idle)", () => {
  const cluster = testScenario((json) => {
    (json.clusters as Array<Record<string, unknown>>)[0]!.load_report = true;
  }).clusters[0]!;
  const host = new UpstreamHost(cluster, 1);
  const gone = { ...NO_FAULT, capacityX: 0 };
  for (let i = 0; i < 40; i++) assert.equal(host.answer(0.02 * i, gone, DRAWS).status, 503);
  assert.equal(host.loadReportAt(1.2, gone), undefined);
  assert.ok(host.loadReportAt(1.2, NO_FAULT) !== undefined, "the window that completes at the recovery is judged at the capacity then");
});

test("the load_report field must be true or false, and the error names it", () => {
  const json = scenarioJson();
  (json.clusters as Array<Record<string, unknown>>)[1]!.load_report = "yes";
  assert.throws(() => parseScenario(json, "bad"), (error: unknown) => error instanceof ScenarioError && /clusters\[1\]\.load_report: must be true or false/.test(error.message));
});

/** A policy that sends everything to cluster 0 and records the reports it is handed. */
function recordingPolicy(scenario: ReturnType<typeof testScenario>, seen: Array<{ status: number; load?: HostLoad }>): Policy {
  const none = createNonePolicy(scenario);
  return {
    ...none,
    name: "recording",
    route: (request, nowS) => {
      const decision = none.route(request, nowS);
      return "reject" in decision ? decision : { cluster: 0, host: decision.host % scenario.clusters[0]!.endpoints };
    },
    complete(_request, _cluster, _host, status, _latencyMs, _nowS, _connectFailed, load) {
      seen.push(load === undefined ? { status } : { status, load });
    },
  };
}

test("the runner hands a policy the report of every answer from a reporting cluster, and none for a refusal or the client's timeout", async () => {
  const cases: Array<[string, (json: Record<string, unknown>) => void, (seen: Array<{ status: number; load?: HostLoad }>) => void]> = [
    ["a cluster without load_report sends none", () => {}, (seen) => assert.ok(seen.every((s) => s.load === undefined))],
    ["a reporting cluster's answers carry one", (json) => {
      (json.clusters as Array<Record<string, unknown>>)[0]!.load_report = true;
    }, (seen) => {
      assert.ok(seen.length > 1000 && seen.every((s) => s.status === 504 || s.load !== undefined));
      // 100 rps on 4 hosts of 100 rps: about a quarter busy each.
      const late = seen.slice(-500).map((s) => s.load!.utilization);
      const mean = late.reduce((a, b) => a + b, 0) / late.length;
      assert.ok(mean > 0.18 && mean < 0.32, `mean utilisation ${mean}`);
    }],
    ["a host that is down refuses without a report", (json) => {
      (json.clusters as Array<Record<string, unknown>>)[0]!.load_report = true;
      json.faults = [{ at_s: 0, cluster: "a", down: true, for_s: 60 }];
    }, (seen) => assert.ok(seen.length > 0 && seen.every((s) => s.load === undefined))],
    ["Envoy's 504 on the client's timeout carries none", (json) => {
      (json.clusters as Array<Record<string, unknown>>)[0]!.load_report = true;
      json.faults = [{ at_s: 0, cluster: "a", latency_x: 100, for_s: 60 }];
    }, (seen) => {
      const timeouts = seen.filter((s) => s.status === 504);
      assert.ok(timeouts.length > 0 && timeouts.every((s) => s.load === undefined));
    }],
  ];
  for (const [name, change, check] of cases) {
    const scenario = testScenario((json) => {
      json.duration_s = 20;
      change(json);
    });
    const seen: Array<{ status: number; load?: HostLoad }> = [];
    await runScenario(scenario, recordingPolicy(scenario, seen));
    check(seen);
    assert.ok(seen.length > 0, name);
  }
});

test("a stream's report comes with its headers, and a policy that sees streams only at their end gets it there", async () => {
  const scenario = llmScenario({}, (json) => {
    (json.clusters as Array<Record<string, unknown>>)[0]!.load_report = true;
    json.duration_s = 10;
  });
  const seen: Array<{ status: number; load?: HostLoad }> = [];
  await runScenario(scenario, recordingPolicy(scenario, seen));
  assert.ok(seen.length > 50 && seen.every((s) => s.load !== undefined), "every stream ended with its report");
});

test("the report goes out as the TEXT form Envoy parses, with the OrcaLoadReport field names", () => {
  assert.deepEqual(orcaHeader({ utilization: 0.51234567, rpsFractional: 51, eps: 0 }), ["endpoint-load-metrics", "TEXT application_utilization=0.5123, rps_fractional=51, eps=0"]);
});

test("the generator marks a share of scenarios as reporting and leaves every other field as it was", () => {
  const cases: Array<[string, (share: number) => ReturnType<typeof tuningScenarios>]> = [
    ["main family", (share) => tuningScenarios(4242, 40, share === 0 ? {} : { loadReportShare: share })],
    ["shifted family", (share) => shiftedTuningScenarios(4242, 40, share === 0 ? {} : { loadReportShare: share })],
  ];
  for (const [family, generate] of cases) {
    const without = generate(0);
    const all = generate(1);
    const some = generate(0.5);
    const strip = (s: (typeof without)[number]): unknown => ({ ...s, description: s.description.replace(/; [^;]*report load \(ORCA\)$/, ""), clusters: s.clusters.map(({ load_report: _r, ...c }) => c) });
    assert.deepEqual(all.map(strip), without.map(strip), `${family}: only load_report and the description change`);
    assert.ok(without.every((s) => s.clusters.every((c) => c.load_report === undefined)), `${family}: share 0 reports nothing`);
    assert.ok(all.every((s) => s.clusters.some((c) => c.load_report === true) && /report load \(ORCA\)$/.test(s.description)), `${family}: share 1 reports in every scenario`);
    const reporting = some.filter((s) => s.clusters.some((c) => c.load_report === true)).length;
    assert.ok(reporting > 8 && reporting < 32, `${family}: share 0.5 gave ${reporting} of 40`);
    assert.ok(all.some((s) => s.clusters.some((c) => c.load_report !== true)), `${family}: some fleets are mid-upgrade (not every cluster reports)`);
  }
  assert.throws(() => tuningScenarios(1, 1, { loadReportShare: 2 }), /loadReportShare must be a number from 0 to 1, got 2/);
});

test("reporting changes no answer: a policy that ignores reports sees the same run with and without them", async () => {
  const change = (reports: boolean) => (json: Record<string, unknown>): void => {
    json.faults = [{ at_s: 10, cluster: "a", capacity_x: 0.2, for_s: 20 }, { at_s: 15, cluster: "b", error_rate: 0.3, for_s: 10 }];
    json.traffic = [{ at_s: 0, rps: 300 }];
    if (reports) for (const c of json.clusters as Array<Record<string, unknown>>) c.load_report = true;
  };
  const without = testScenario(change(false));
  const withReports = testScenario(change(true));
  const a = await runScenario(without, createNonePolicy(without));
  const b = await runScenario(withReports, createNonePolicy(withReports));
  assert.ok(a.failed > 100, `the faults fail requests (${a.failed})`);
  assert.deepEqual(b.windows, a.windows);
  assert.equal(b.failed, a.failed);
});

test("autoglm-no-load-reports on a fleet that reports decides as autoglm does on one that does not, and autoglm reads the reports", async () => {
  const { createPolicy } = await import("../sim/job.js");
  const change = (reports: boolean) => (json: Record<string, unknown>): void => {
    json.duration_s = 40;
    json.traffic = [{ at_s: 0, rps: 300 }];
    // Cluster a keeps 30 % of its capacity (120 rps of the 150 it is sent: overloaded, short of a
    // hard outage that would open it at once): b must take more than its latency has shown it
    // carries well, which only its reports say it can.
    json.faults = [{ at_s: 10, cluster: "a", capacity_x: 0.3, for_s: 20 }];
    const clusters = json.clusters as Array<Record<string, unknown>>;
    clusters[1]!.capacity_rps = 1200;
    if (reports) for (const c of clusters) c.load_report = true;
  };
  const reporting = testScenario(change(true));
  const silent = testScenario(change(false));
  const ablation = await runScenario(reporting, await createPolicy("autoglm-no-load-reports", reporting));
  const plain = await runScenario(silent, await createPolicy("autoglm", silent));
  const reading = await runScenario(reporting, await createPolicy("autoglm", reporting));
  assert.deepEqual(ablation.windows, plain.windows);
  assert.ok(reading.failed < plain.failed, `reading the reports fails fewer requests (${reading.failed} against ${plain.failed})`);
  assert.notDeepEqual(reading.windows.map((w) => w.clusters.map((c) => c.sent)), plain.windows.map((w) => w.clusters.map((c) => c.sent)), "the reports change where traffic goes");
});
