// Where a run's losses fall in the fault timeline (sim/fault-phases.ts): each window in one phase
// (onset, fault, after, quiet), the phases summing to the run's own measures, and the
// generalization summary's totals by phase when every run has them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { FaultTimeline } from "../sim/faults.js";
import { FAULT_PHASES, runByPhase, windowPhase, type FaultPhase, type MeasuresByPhase } from "../sim/fault-phases.js";
import { reportRun, type PolicyReport } from "../sim/report.js";
import { runScenario } from "../sim/runner.js";
import { createNonePolicy } from "../sim/policies/none.js";
import { summarize, type GeneralizationScenario } from "../sim/generalization-summary.js";
import { generalizationMarkdown } from "../sim/generalization-markdown.js";
import { testScenario } from "./sim-support.js";

test("each window is in the first phase that applies: onset, fault, after, quiet", () => {
  // testScenario: one-second windows; cluster a answers 90 % errors from 20 s for 15 s, no
  // recovery ramp; a second fault here on b from 60 s for 5 s.
  const scenario = testScenario((json) => {
    (json.faults as unknown[]).push({ at_s: 60, cluster: "b", error_rate: 0.5, for_s: 5 });
  });
  const timeline = new FaultTimeline(scenario);
  const cases: Array<[string, number, FaultPhase]> = [
    ["before any fault", 10, "quiet"],
    ["the window ending as the fault starts", 19, "quiet"],
    ["the fault's first window", 20, "onset"],
    ["its third window", 22, "onset"],
    ["its fourth window", 23, "fault"],
    ["its last window", 34, "fault"],
    ["the window after it ends", 35, "after"],
    ["a second fault's onset within the first one's after span", 61, "onset"],
    ["past the second fault, within the grace of both", 70, "after"],
    ["the last window of the second fault's 60 s of grace", 124, "after"],
    ["past every grace", 125, "quiet"],
  ];
  for (const [name, startS, phase] of cases) assert.equal(windowPhase(timeline, startS, startS + 1, scenario.window_s), phase, name);
});

test("the onset is the window a fault starts in and the next two, cut short by a short fault's end", () => {
  // Two-second windows; a 3-s fault on a from 21 s (mid-window), a 20-s one on b from 40 s.
  const scenario = testScenario((json) => {
    json.window_s = 2;
    json.faults = [{ at_s: 21, cluster: "a", error_rate: 0.9, for_s: 3 }, { at_s: 40, cluster: "b", error_rate: 0.5, for_s: 20 }];
  });
  const timeline = new FaultTimeline(scenario);
  const cases: Array<[string, number, FaultPhase]> = [
    ["the window the short fault starts in, mid-window", 20, "onset"],
    ["its second window, where it ends", 22, "onset"],
    ["the window after the short fault's end: after, not onset", 24, "after"],
    ["the long fault's third window", 44, "onset"],
    ["its fourth window", 46, "fault"],
    ["a window of the long fault within the short one's after span: fault", 50, "fault"],
  ];
  for (const [name, startS, phase] of cases) assert.equal(windowPhase(timeline, startS, startS + 2, scenario.window_s), phase, name);
});

test("a run's failed requests and SLO seconds by phase sum to its own, and its failures fall in the fault", async () => {
  const scenario = testScenario();
  const result = await runScenario(scenario, createNonePolicy(scenario));
  const report = reportRun(result);
  const by = runByPhase(result);
  const sum = (key: "failed" | "slo_violation_s") => FAULT_PHASES.reduce((a, phase) => a + by[phase][key], 0);
  assert.equal(sum("failed"), report.failed);
  assert.ok(Math.abs(sum("slo_violation_s") - report.slo_violation_s) < 1e-6, `${sum("slo_violation_s")} against ${report.slo_violation_s}`);
  // none keeps sending half the traffic to the failing cluster for the fault's 15 s.
  assert.ok(by.onset.failed + by.fault.failed > 0.9 * report.failed, JSON.stringify(by));
  assert.ok(by.fault.failed > by.onset.failed, JSON.stringify(by));
});

/** A run's report with `failed` in the fault phase (and none elsewhere), with or without its split. */
function run(failed: number, phased: boolean): PolicyReport {
  const by: MeasuresByPhase = { quiet: { failed: 0, slo_violation_s: 0 }, onset: { failed: 0, slo_violation_s: 0 }, fault: { failed, slo_violation_s: 2 }, after: { failed: 0, slo_violation_s: 0 } };
  return {
    requests: 1000, failed, success_rate: 1 - failed / 1000, slo_violation_s: 2, p99_ms: 100, detect_s: [], recover_s: [], false_cuts: 0,
    ...(phased ? { by_phase: by } : {}),
  };
}

function scenarioOf(name: string, runs: Record<string, PolicyReport>): GeneralizationScenario {
  return { name, seed: 1, description: "", duration_s: 60, fault_free_s: 30, runs, scores: {} };
}

test("the summary totals a policy's phases when every run has them, and shows them in the Markdown", () => {
  const scenarios = [
    scenarioOf("s1", { none: run(10, true), "oracle-last-window": run(4, true) }),
    scenarioOf("s2", { none: run(20, false), "oracle-last-window": run(6, true) }),
  ];
  const summary = summarize(scenarios, ["none", "oracle-last-window"], []);
  assert.equal(summary.totals["none"]!.by_phase, undefined, "none's second run was read from a file without phases");
  assert.deepEqual(summary.totals["oracle-last-window"]!.by_phase!.fault, { failed: 10, slo_violation_s: 4 });
  assert.deepEqual(summary.totals["oracle-last-window"]!.by_phase!.quiet, { failed: 0, slo_violation_s: 0 });
  const markdown = generalizationMarkdown({ command: "test", wallS: 1, seedRange: [0, 1], workers: 1 }, summary, scenarios, ["none", "oracle-last-window"]);
  assert.match(markdown, /## Where they fall in the fault timeline/);
  assert.match(markdown, /\| oracle-last-window \| 0 \/ 0 \| 0 \/ 0 \| 10 \/ 4 \| 0 \/ 0 \|/);
  assert.doesNotMatch(markdown, /\| none \| 0 \/ 0 \|/);
});
