// Scenario validation: every public scenario loads; invalid files are rejected naming the field.
import { test } from "node:test";
import assert from "node:assert/strict";
import { defaultScenarioFolder, loadScenarios, parseScenario, parseScenarioText, ScenarioError } from "../sim/scenario.js";
import { scenarioJson } from "./sim-support.js";

test("every public scenario loads, with defaults filled in", () => {
  const loaded = loadScenarios([defaultScenarioFolder()]);
  assert.ok(loaded.length >= 1);
  for (const { scenario } of loaded) {
    assert.ok(scenario.clusters.length >= 1);
    for (const f of scenario.faults) assert.equal(typeof f.endpoints, "number");
  }
});

test("a valid scenario parses and absent optional fields take their defaults", () => {
  const json = scenarioJson();
  delete (json.clusters as Array<Record<string, unknown>>)[0]!.error_rate;
  delete json.faults;
  const s = parseScenario(json);
  assert.equal(s.clusters[0]!.error_rate, 0);
  assert.deepEqual(s.faults, []);
  assert.equal(s.traffic[0]!.ramp_s, 0);
});

const invalid: Array<[string, (j: Record<string, any>) => void, string]> = [
  ["p99 not above p50", (j) => (j.clusters[1].latency_ms.p99 = 100), "clusters[1].latency_ms.p99: must be > p50 (120), got 100"],
  ["an unknown top-level field", (j) => (j.colour = "red"), "colour: unknown field"],
  ["an unknown nested field", (j) => (j.clusters[0].latency_ms.p95 = 3), "clusters[0].latency_ms.p95: unknown field"],
  ["a fault on an undefined cluster", (j) => (j.faults[0].cluster = "zz"), 'faults[0].cluster: cluster "zz" is not defined in clusters'],
  ["a missing required field", (j) => delete j.seed, "seed: is required"],
  ["a wrong type", (j) => (j.duration_s = "600"), 'duration_s: must be a number, got the string "600"'],
  ["a fractional count", (j) => (j.sidecars = 1.5), "sidecars: must be a whole number, got 1.5"],
  ["a rate above 1", (j) => (j.clusters[0].error_rate = 1.5), "clusters[0].error_rate: must be <= 1, got 1.5"],
  ["a duplicate cluster name", (j) => (j.clusters[1].name = "a"), 'clusters[1].name: duplicates clusters[0].name "a"'],
  ["traffic out of order", (j) => (j.traffic = [{ at_s: 10, rps: 1 }, { at_s: 5, rps: 2 }]), "traffic[1].at_s: must be >= traffic[0].at_s (10)"],
  ["a fault with no effect", (j) => delete j.faults[0].error_rate, "faults[0]: has no effect"],
  ["a fault on more hosts than the cluster has", (j) => (j.faults[0].endpoints = 9), "faults[0].endpoints: must be <= the endpoints of cluster \"a\" (4), got 9"],
  ["overlapping repeats", (j) => (j.faults[0].repeat = { every_s: 10, times: 3 }), "faults[0].repeat.every_s: must be >= for_s + recover_ramp_s (15)"],
  ["a ramp longer than the fault", (j) => (j.faults[0].ramp_s = 30), "faults[0].ramp_s: must be <= for_s (15)"],
  ["a window longer than the run", (j) => (j.window_s = 61), "window_s: must be <= duration_s (60), got 61"],
  ["an empty cluster list", (j) => (j.clusters = []), "clusters: must have at least one entry"],
  ["a wave amplitude above 1", (j) => (j.traffic[0].wave = { period_s: 10, amplitude: 2 }), "traffic[0].wave.amplitude: must be <= 1, got 2"],
  ["a non-object scenario", (j) => Object.keys(j).forEach((k) => delete j[k]), "name: is required"],
];

for (const [what, change, expected] of invalid) {
  test(`a scenario with ${what} is rejected naming the field`, () => {
    const json = scenarioJson() as Record<string, any>;
    change(json);
    assert.throws(() => parseScenario(json, "case.json"), (error: unknown) => {
      assert.ok(error instanceof ScenarioError, "a ScenarioError");
      assert.ok(error.problems.some((p) => p.startsWith(expected)), `expected a problem starting "${expected}", got:\n${error.problems.join("\n")}`);
      assert.match(error.message, /^case\.json: invalid scenario/);
      return true;
    });
  });
}

test("text that is not JSON is rejected as such", () => {
  assert.throws(() => parseScenarioText("{ nope", "x.json"), /x\.json: invalid scenario:\n\s+not valid JSON/);
});

test("every problem of a file is listed, not only the first", () => {
  const json = scenarioJson() as Record<string, any>;
  json.seed = -1;
  json.clusters[0].capacity_rps = 0;
  try {
    parseScenario(json);
    assert.fail("should throw");
  } catch (error) {
    assert.ok(error instanceof ScenarioError);
    assert.equal(error.problems.length, 2, error.problems.join("\n"));
  }
});
