// The runner and the report: determinism, the client-side figures, and detect/recover/false cuts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { runScenario, type RunResult, type WindowRecord } from "../sim/runner.js";
import { reportRun } from "../sim/report.js";
import { simulateWindows } from "../sim/windows.js";
import { createNonePolicy } from "../sim/policies/none.js";
import { createResilience4jPolicy } from "../sim/policies/resilience4j.js";
import { testScenario } from "./sim-support.js";

test("the same scenario and seed give the same numbers; another seed gives others", async () => {
  const scenario = testScenario();
  const a = reportRun(await runScenario(scenario, createResilience4jPolicy(scenario)));
  const b = reportRun(await runScenario(scenario, createResilience4jPolicy(scenario)));
  const c = reportRun(await runScenario(scenario, createResilience4jPolicy(scenario), { seed: 4 }));
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
});

test("a run with no policy counts every request and the fault's failures", async () => {
  const scenario = testScenario();
  const result = await runScenario(scenario, createNonePolicy(scenario));
  const report = reportRun(result);
  assert.equal(report.requests, result.windows.reduce((s, w) => s + w.offered, 0));
  assert.ok(Math.abs(report.requests - 6000) < 5 * Math.sqrt(6000), `${report.requests} requests`);
  // Half the traffic meets a 90% (+0.1%) error rate for 15 s of 60.
  const expected = 0.5 * 0.901 * 100 * 15;
  assert.ok(Math.abs(report.failed - expected) < 0.2 * expected + 30, `failed ${report.failed}, expected about ${expected}`);
  assert.deepEqual(report.detect_s, [null], "none never cuts");
  assert.equal(report.false_cuts, 0);
  assert.ok(report.slo_violation_s >= 15, `SLO violated during the fault, got ${report.slo_violation_s}`);
});

test("simulateWindows gives per-window, per-cluster telemetry with fault labels", async () => {
  const scenario = testScenario();
  const windows = await simulateWindows(scenario, { seed: 8 });
  assert.equal(windows.length, 60);
  const during = windows[25]!.clusters[0]!;
  const before = windows[5]!.clusters[0]!;
  assert.equal(during.faultActive, true);
  assert.equal(before.faultActive, false);
  assert.ok(during.errorRate > 0.7 && during.sloBroken);
  assert.ok(before.rps > 20 && Math.abs(before.share - 0.5) < 0.25);
  assert.ok(before.p50Ms > 50 && before.p50Ms < 200, `p50 ${before.p50Ms}`);
});

function syntheticRun(shareOfA: (w: number) => number, open: (w: number) => boolean = () => false, offered = 100): RunResult {
  const scenario = testScenario((j: any) => {
    j.duration_s = 200;
    j.faults = [{ at_s: 10, cluster: "a", error_rate: 0.9, for_s: 10 }];
  });
  const windows: WindowRecord[] = Array.from({ length: 200 }, (_, w) => {
    const a = Math.round(offered * shareOfA(w));
    const cluster = (sent: number, isOpen: boolean) => ({ sent, errors: 0, timeouts: 0, cut: 0, p50Ms: 1, p95Ms: 1, p99Ms: 1, open: isOpen });
    return {
      startS: w, endS: w + 1, offered, failed: 0, localRejects: 0, timeouts: 0, p99Ms: 100,
      streams: 0, ttftP99Ms: NaN, tpotP99Ms: NaN,
      clusters: [cluster(a, open(w)), cluster(offered - a, false)],
    };
  });
  return { scenario, policy: "synthetic", windows, requests: 20_000, failed: 0, p99Ms: 100, streams: 0, ttftP99Ms: NaN, tpotP99Ms: NaN };
}

test("detect_s and recover_s measure from the fault's start and end to the share crossing half and 90% of base", () => {
  // Base share of a is 0.5: cut at <= 0.25, recovered at >= 0.45.
  const report = reportRun(syntheticRun((w) => (w >= 13 && w < 27 ? 0.1 : w >= 27 && w < 30 ? 0.4 : 0.5)));
  assert.deepEqual(report.detect_s, [4], "cut in window [13,14): 14 − 10");
  assert.deepEqual(report.recover_s, [11], "recovered in window [30,31): 31 − 20");
  assert.equal(report.false_cuts, 0);
});

test("an open breaker counts as a cut even while traffic still flows", () => {
  const report = reportRun(syntheticRun(() => 0.5, (w) => w === 11));
  assert.deepEqual(report.detect_s, [2]);
});

test("a cut on a healthy cluster is a false cut, except within 60 s after a fault on it ended", () => {
  const cutAt = new Set([50, 51, 52, 120]);
  const report = reportRun(syntheticRun((w) => (cutAt.has(w) ? 0.1 : 0.5)));
  // The fault on a ends at 20: the cut at 50 is excused (within 60 s), the one at 120 is not.
  assert.equal(report.false_cuts, 1);
});

// A policy that never cuts still sends a cluster a random count around its expected one; a
// share judged on a few requests is noise. Each case: requests per window, a's share per window
// (base 0.5), the false cuts the report must count.
const thinWindows: { name: string; offered: number; shareOfA: (w: number) => number; falseCuts: number }[] = [
  {
    name: "a share that swings by chance around its base over thin windows (20 expected a window) is pooled and is no cut",
    offered: 40,
    shareOfA: (w) => (w % 3 === 0 ? 0.25 : 0.625),
    falseCuts: 0,
  },
  {
    name: "a cluster too thin to judge even over the most windows pooled (1 request expected a window) is never called cut",
    offered: 2,
    shareOfA: (w) => (w >= 100 && w < 140 ? 0 : 0.5),
    falseCuts: 0,
  },
  {
    name: "a real cut of a thin cluster still shows once enough windows are pooled",
    offered: 40,
    shareOfA: (w) => (w >= 100 && w < 110 ? 0 : 0.5),
    falseCuts: 1,
  },
];
for (const c of thinWindows) {
  test(c.name, () => {
    assert.equal(reportRun(syntheticRun(c.shareOfA, () => false, c.offered)).false_cuts, c.falseCuts);
  });
}
