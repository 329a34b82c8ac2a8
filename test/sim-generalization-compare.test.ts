// A generalization run against an earlier run of the same scenarios
// (sim/generalization-compare.ts): totals before and after, harm by the rule, the
// scenarios that changed, the largest changes each way.
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { compareSubjects, comparisonMarkdown, type ScenarioRuns } from "../sim/generalization-compare.js";
import type { StoredRun } from "../sim/generalization-baselines.js";

const BASELINES = ["none", "linkerd-ewma"];
/** A run's report, as far as scoring reads it. */
const run = (failed: number, slo = 10, cuts = 0) => ({ requests: 10_000, failed, slo_violation_s: slo, false_cuts: cuts }) as unknown as StoredRun;
const baselines = { none: run(1000, 100), "linkerd-ewma": run(900, 90) };
const runs = (entries: Array<[string, number, number?, number?]>): ScenarioRuns =>
  new Map(entries.map(([name, failed, slo, cuts]) => [name, { ...baselines, autoglm: run(failed, slo, cuts) }]));

describe("comparing a run with an earlier one", () => {
  const before = runs([["s1", 500], ["s2", 800], ["s3", 700], ["s4", 300]]);
  // s1 better, s2 worse and now past the harm bound (1.1 × 1000 + 50), s3 the same, s4 only slower.
  const after = runs([["s1", 200], ["s2", 1200], ["s3", 700], ["s4", 300, 40, 1]]);
  const [c] = compareSubjects(before, after, ["autoglm"], BASELINES);

  it("sums each run's failed requests, SLO seconds and false cuts over the scenarios both have", () => {
    assert.equal(c!.scenarios, 4);
    assert.deepEqual(c!.before, { failed: 2300, slo_violation_s: 40, false_cuts: 0, harm: 0 });
    assert.deepEqual(c!.after, { failed: 2400, slo_violation_s: 70, false_cuts: 1, harm: 1 });
  });
  it("counts the scenarios that changed and lists the largest changes each way", () => {
    assert.equal(c!.changed, 3);
    assert.deepEqual(c!.better.map((x) => x.scenario), ["s1"]);
    assert.deepEqual(c!.worse.map((x) => x.scenario), ["s2", "s4"]);
  });
  it("leaves out scenarios the earlier run lacks, and subjects it never ran", () => {
    const partial = runs([["s1", 500]]);
    assert.equal(compareSubjects(partial, after, ["autoglm"], BASELINES)[0]!.scenarios, 1);
    assert.deepEqual(compareSubjects(new Map([["s1", baselines]]), after, ["autoglm"], BASELINES), []);
  });
  it("writes a table row per subject and the largest changes", () => {
    const md = comparisonMarkdown("t.json", [c!]).join("\n");
    assert.match(md, /## Against t\.json/);
    assert.match(md, /\| autoglm \| 4 \| 2300 → 2400 \(\+4\.3 %\) \| 40 → 70 \(\+75\.0 %\) \| 0 → 1 \| 0 → 1 \| 3 \|/);
    assert.match(md, /- better: s1 500 → 200, 10 → 10/);
    assert.match(md, /- worse: s2 800 → 1200/);
  });
});
