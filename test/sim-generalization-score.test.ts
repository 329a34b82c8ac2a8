// Scoring of `autoglm bench generalization` (issue 15): win / tie / loss against a reference with
// the tie tolerances, harm against `none`, the best baseline per measure, fault-free time.
import { test } from "node:test";
import assert from "node:assert/strict";
import { faultFreeSeconds, isHarm, scoreScenario, verdict, failedTolerance, sloTolerance, type Measures, type Verdict } from "../sim/generalization-score.js";
import { parseScenario } from "../sim/scenario.js";
import { scenarioJson } from "./sim-support.js";

const failedCases: Array<[number, number, Verdict]> = [
  // [subject, best baseline, verdict]; tolerance max(5 %, 30)
  [949, 1000, "win"], [950, 1000, "tie"], [1000, 1000, "tie"], [1050, 1000, "tie"], [1051, 1000, "loss"],
  [69, 100, "win"], [70, 100, "tie"], [130, 100, "tie"], [131, 100, "loss"],
  [0, 0, "tie"], [30, 0, "tie"], [31, 0, "loss"],
];
for (const [subject, best, expected] of failedCases) {
  test(`${subject} failed requests against a best baseline of ${best} is a ${expected}`, () => {
    assert.equal(verdict(subject, best, failedTolerance(best)), expected);
  });
}

const sloCases: Array<[number, number, Verdict]> = [
  // tolerance 5 % + 5 s
  [89, 100, "win"], [90, 100, "tie"], [110, 100, "tie"], [111, 100, "loss"],
  [0, 0, "tie"], [5, 0, "tie"], [6, 0, "loss"], [13, 20, "win"], [14, 20, "tie"],
];
for (const [subject, best, expected] of sloCases) {
  test(`${subject} SLO seconds against a best baseline of ${best} is a ${expected}`, () => {
    assert.equal(verdict(subject, best, sloTolerance(best)), expected);
  });
}

const m = (failed: number, slo: number): Measures => ({ requests: 100_000, failed, slo_violation_s: slo, false_cuts: 0 });
const harmCases: Array<[Measures, Measures, boolean]> = [
  // [subject, none, harm]: failed > 1.1 × none + 50 or SLO s > 1.1 × none + 10
  [m(1150, 120), m(1000, 100), false],
  [m(1151, 100), m(1000, 100), true],
  [m(1000, 120.5), m(1000, 100), true],
  [m(50, 10), m(0, 0), false],
  [m(51, 0), m(0, 0), true],
  [m(0, 11), m(0, 0), true],
];
for (const [subject, none, harm] of harmCases) {
  test(`failed ${subject.failed} and ${subject.slo_violation_s} SLO s against none's ${none.failed} and ${none.slo_violation_s} is ${harm ? "" : "not "}harm`, () => {
    assert.equal(isHarm(subject, none), harm);
  });
}

test("the best baseline is taken per measure, and the subject is compared with it and with none", () => {
  const runs = {
    none: m(2000, 50),
    "envoy-outlier": m(1900, 80),
    resilience4j: m(1500, 90),
    "linkerd-ewma": m(1000, 70),
    autoglm: m(1040, 70),
  };
  const s = scoreScenario(runs, "autoglm", ["none", "envoy-outlier", "resilience4j", "linkerd-ewma"]);
  assert.deepEqual(s.bestFailed, { policy: "linkerd-ewma", value: 1000 });
  assert.deepEqual(s.bestSlo, { policy: "none", value: 50 });
  assert.deepEqual(s.vsBest, { failed: "tie", slo: "loss" });
  assert.deepEqual(s.vsNone, { failed: "win", slo: "loss" });
  assert.equal(s.harm, true, "70 SLO s > 1.1 × 50 + 10");
});

test("a missing run is named", () => {
  assert.throws(() => scoreScenario({ none: m(1, 1) }, "autoglm", ["none"]), /no results for policy "autoglm"/);
});

test("fault-free time leaves out every fault's effect and the 60 s after it, overlaps counted once", () => {
  const json = scenarioJson() as Record<string, unknown>;
  json.duration_s = 600;
  json.faults = [
    { at_s: 100, cluster: "a", down: true, for_s: 50 }, // 100–210 with the grace
    { at_s: 180, cluster: "b", down: true, for_s: 20, recover_ramp_s: 10 }, // 180–270
    { at_s: 560, cluster: "a", down: true, for_s: 20 }, // 560–600 (clipped)
  ];
  assert.equal(faultFreeSeconds(parseScenario(json)), 600 - 170 - 40);
  json.faults = [];
  assert.equal(faultFreeSeconds(parseScenario(json)), 600);
});
