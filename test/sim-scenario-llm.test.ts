// The scenario format's llm block, stream objectives and stream faults: valid ones parse with
// their defaults, invalid ones are rejected naming the field, and the public LLM scenarios load.
import { test } from "node:test";
import assert from "node:assert/strict";
import { defaultScenarioFolder, loadScenarios, ScenarioError } from "../sim/scenario.js";
import { llmScenario } from "./sim-support.js";

type Json = Record<string, any>;

/** Adds a second cluster "b" without an llm block. */
function withPlainCluster(j: Json): void {
  j.clusters.push({ name: "b", weight: 1, endpoints: 1, capacity_rps: 100, latency_ms: { p50: 100, p99: 500 } });
}

test("an llm block parses with tokens_per_event 1 and usage true by default, and stream faults keep only the fields given", () => {
  const s = llmScenario({ tokens_per_event: undefined }, (j: Json) => {
    delete j.clusters[0].llm.tokens_per_event;
    j.faults = [{ at_s: 5, cluster: "a", cut_rate: 0.2, for_s: 10 }, { at_s: 5, cluster: "a", tpot_x: 2, for_s: 10 }];
  });
  assert.deepEqual(s.clusters[0]!.llm, {
    stream_fraction: 1, ttft_ms: { p50: 300, p99: 1200 }, tpot_ms: { p50: 25, p99: 60 }, output_tokens: { p50: 100, p99: 400 },
    tokens_per_event: 1, usage: true,
  });
  assert.equal(s.slo.ttft_ms, 2000);
  assert.equal(s.faults[0]!.cut_rate, 0.2);
  assert.ok(!("cut_as" in s.faults[0]!) && !("ttft_x" in s.faults[0]!), "absent fields stay absent");
  assert.equal(s.faults[1]!.tpot_x, 2);
});

const invalid: Array<[string, (j: Json) => void, string]> = [
  ["a stream fraction above 1", (j) => (j.clusters[0].llm.stream_fraction = 1.5), "clusters[0].llm.stream_fraction: must be <= 1, got 1.5"],
  ["a TTFT p99 not above its p50", (j) => (j.clusters[0].llm.ttft_ms = { p50: 300, p99: 200 }), "clusters[0].llm.ttft_ms.p99: must be > p50 (300), got 200"],
  ["no TPOT distribution", (j) => delete j.clusters[0].llm.tpot_ms, "clusters[0].llm.tpot_ms: is required"],
  ["an unknown llm field", (j) => (j.clusters[0].llm.ttft_p99 = 3), "clusters[0].llm.ttft_p99: unknown field"],
  ["zero tokens per event", (j) => (j.clusters[0].llm.tokens_per_event = 0), "clusters[0].llm.tokens_per_event: must be >= 1, got 0"],
  ["a fractional tokens per event", (j) => (j.clusters[0].llm.tokens_per_event = 2.5), "clusters[0].llm.tokens_per_event: must be a whole number, got 2.5"],
  ["a median under one output token", (j) => (j.clusters[0].llm.output_tokens = { p50: 0.5, p99: 10 }), "clusters[0].llm.output_tokens.p50: must be >= 1 (a token), got 0.5"],
  ["usage that is not a boolean", (j) => (j.clusters[0].llm.usage = "yes"), 'clusters[0].llm.usage: must be true or false, got the string "yes"'],
  ["an llm block that is not an object", (j) => (j.clusters[0].llm = true), "clusters[0].llm: must be an object, got boolean true"],
  ["a ttft_x of 0", (j) => (j.faults = [{ at_s: 1, cluster: "a", ttft_x: 0, for_s: 5 }]), "faults[0].ttft_x: must be > 0, got 0"],
  ["a cut_rate above 1", (j) => (j.faults = [{ at_s: 1, cluster: "a", cut_rate: 2, for_s: 5 }]), "faults[0].cut_rate: must be <= 1, got 2"],
  ["an unknown cut_as", (j) => (j.faults = [{ at_s: 1, cluster: "a", cut_rate: 0.1, cut_as: "drop", for_s: 5 }]), 'faults[0].cut_as: must be one of "error_event", "reset", got "drop"'],
  ["cut_as without cut_rate", (j) => (j.faults = [{ at_s: 1, cluster: "a", ttft_x: 2, cut_as: "reset", for_s: 5 }]), "faults[0].cut_as: needs cut_rate"],
  ["a stream fault on a cluster without streams", (j) => {
    withPlainCluster(j);
    j.faults = [{ at_s: 1, cluster: "b", tpot_x: 3, for_s: 5 }];
  }, 'faults[0].tpot_x: acts on streams, but cluster "b" has no llm block'],
  ["a TTFT objective with no streams to judge", (j) => {
    withPlainCluster(j);
    j.clusters.shift();
  }, "slo.ttft_ms: judges streams, but no cluster has an llm block"],
  ["a negative TPOT objective", (j) => (j.slo.tpot_ms = -1), "slo.tpot_ms: must be > 0, got -1"],
];

for (const [what, change, expected] of invalid) {
  test(`a scenario with ${what} is rejected naming the field`, () => {
    assert.throws(() => llmScenario({}, change), (error: unknown) => {
      assert.ok(error instanceof ScenarioError, "a ScenarioError");
      assert.ok(error.problems.some((p) => p.startsWith(expected)), `expected a problem starting "${expected}", got:\n${error.problems.join("\n")}`);
      return true;
    });
  });
}

test("at least three public scenarios stream, together using ttft_x, tpot_x and both kinds of cut, each with TTFT and TPOT objectives", () => {
  const llm = loadScenarios([defaultScenarioFolder()]).map((l) => l.scenario).filter((s) => s.clusters.some((c) => c.llm !== undefined));
  assert.ok(llm.length >= 3, `${llm.length} public LLM scenarios`);
  const faults = llm.flatMap((s) => s.faults);
  assert.ok(faults.some((f) => f.ttft_x !== undefined), "a ttft_x fault");
  assert.ok(faults.some((f) => f.tpot_x !== undefined), "a tpot_x fault");
  assert.ok(faults.some((f) => f.cut_rate !== undefined && f.cut_as === "reset"), "streams reset");
  assert.ok(faults.some((f) => f.cut_rate !== undefined && (f.cut_as ?? "error_event") === "error_event"), "error events inside a 200");
  for (const s of llm) assert.ok(s.slo.ttft_ms !== undefined && s.slo.tpot_ms !== undefined, `${s.name}: stream objectives`);
});
