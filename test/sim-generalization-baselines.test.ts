// The baselines' runs of an earlier generalization run read back from its JSON
// (sim/generalization-baselines.ts): every way the file can fail to hold this run's scenarios is
// refused with an error naming it.
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { readStoredRuns, type ScenarioIdentity } from "../sim/generalization-baselines.js";

const BASELINES = ["none", "linkerd-ewma"];
const scenario: ScenarioIdentity = { name: "gen-1", seed: 3000001, description: "generated: 2 clusters", duration_s: 300 };
const run = (failed: unknown = 10) => ({ requests: 1000, failed, slo_violation_s: 3, false_cuts: 0, p99_ms: 250 });
const stored = (over: Record<string, unknown> = {}, runs: Record<string, unknown> = { none: run(), "linkerd-ewma": run(12) }) =>
  JSON.stringify({ scenarios: [{ ...scenario, fault_free_s: 100, runs, scores: {}, ...over }] });

describe("reading the baselines' runs of an earlier generalization run", () => {
  it("takes each baseline's run of each scenario, as written", () => {
    const read = readStoredRuns(stored(), [scenario], BASELINES);
    assert.ok(read.ok);
    if (read.ok) assert.deepEqual(read.runs.get("gen-1"), { none: run(), "linkerd-ewma": run(12) });
  });
  it("keeps a run written as unavailable", () => {
    const read = readStoredRuns(stored({}, { none: run(), "linkerd-ewma": { unavailable: "not here" } }), [scenario], BASELINES);
    assert.ok(read.ok);
    if (read.ok) assert.deepEqual(read.runs.get("gen-1")!["linkerd-ewma"], { unavailable: "not here" });
  });
  const refused: { name: string; text: string; error: RegExp }[] = [
    { name: "text that is not JSON", text: "{", error: /^not JSON/ },
    { name: "a file without a list of scenarios", text: JSON.stringify({ summary: {} }), error: /no list of scenarios/ },
    { name: "a file without this scenario", text: JSON.stringify({ scenarios: [] }), error: /scenario gen-1 is not in it/ },
    { name: "a scenario of the same name drawn with other options", text: stored({ description: "generated: 2 clusters; streams" }), error: /scenario gen-1 there is another scenario: its description is "generated: 2 clusters; streams"/ },
    { name: "a scenario of the same name under another seed", text: stored({ seed: 7 }), error: /its seed is 7, this run's is 3000001/ },
    { name: "a scenario without one baseline's run", text: stored({}, { none: run() }), error: /scenario gen-1 has no run of linkerd-ewma/ },
    { name: "a run whose failed requests are not a count", text: stored({}, { none: run("ten"), "linkerd-ewma": run() }), error: /scenario gen-1, run of none: failed is "ten", expected a count/ },
    { name: "a run with a negative count", text: stored({}, { none: run(-1), "linkerd-ewma": run() }), error: /run of none: failed is -1, expected a count/ },
    {
      name: "a run whose split by fault phase lacks a phase",
      text: stored({}, { none: { ...run(), by_phase: { quiet: { failed: 1, slo_violation_s: 0 } } }, "linkerd-ewma": run() }),
      error: /run of none: by_phase is \{"quiet".*expected failed and slo_violation_s counts for each of quiet, onset, fault, after/,
    },
  ];
  for (const c of refused) {
    it(`refuses ${c.name}, naming it`, () => {
      const read = readStoredRuns(c.text, [scenario], BASELINES);
      assert.equal(read.ok, false);
      if (!read.ok) assert.match(read.error, c.error);
    });
  }
});

describe("reading an earlier run's subjects too (--compare)", () => {
  it("takes a subject's runs where the file has them and leaves the subject out where it has none", () => {
    const withSubject = readStoredRuns(stored({}, { none: run(), "linkerd-ewma": run(12), autoglm: run(5) }), [scenario], BASELINES, ["autoglm"]);
    assert.ok(withSubject.ok);
    if (withSubject.ok) assert.deepEqual(withSubject.runs.get("gen-1")!["autoglm"], run(5));
    const without = readStoredRuns(stored(), [scenario], BASELINES, ["autoglm"]);
    assert.ok(without.ok);
    if (without.ok) assert.equal(without.runs.get("gen-1")!["autoglm"], undefined);
  });
  it("refuses a subject's run that is not a count, naming it", () => {
    const read = readStoredRuns(stored({}, { none: run(), "linkerd-ewma": run(), autoglm: run(null) }), [scenario], BASELINES, ["autoglm"]);
    assert.equal(read.ok, false);
    if (!read.ok) assert.match(read.error, /run of autoglm: failed is null, expected a count/);
  });
});
