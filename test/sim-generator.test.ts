// The widened scenario generator (issue 15): every generated scenario stays in the documented
// ranges, the archetypes the issue lists all occur, and the seed ranges of training, model
// evaluation and the generalization benchmark are disjoint.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  GENERATOR_RANGES as R, PUBLIC_SCENARIO_SEEDS, SEED_BASE, SEED_SPAN, generalizationScenarios, generateScenarios,
} from "../models/src/scenario-generator.js";
import { createRng } from "../models/src/prng.js";
import { LLM_RANGES } from "../models/src/scenario-generator-llm.js";
import type { Scenario } from "../sim/scenario.js";

const scenarios: Scenario[] = [
  ...generalizationScenarios(0, 400),
  ...generateScenarios(createRng(5), "train", 200),
];

test("every generated scenario stays within the generator's ranges", () => {
  for (const s of scenarios) {
    const at = `${s.name}`;
    assert.ok(s.clusters.length >= R.clusters[0] && s.clusters.length <= R.clusters[1], `${at}: clusters`);
    const caps = s.clusters.map((c) => c.capacity_rps);
    assert.ok(Math.max(...caps) / Math.min(...caps) <= R.capacityRatio + 0.01, `${at}: capacity ratio`);
    for (const c of s.clusters) {
      const u = c.weight / c.capacity_rps;
      // Weights are whole requests/s, so a utilisation may sit half a request/s off the range.
      assert.ok(u >= R.baseUtilisation[0] - 0.5 / c.capacity_rps - 1e-9 && u <= R.baseUtilisation[1] + 0.5 / c.capacity_rps + 1e-9, `${at}: ${c.name} utilisation ${u}`);
      assert.ok(Number.isInteger(c.weight) && c.weight >= 1, `${at}: ${c.name} weight`);
      assert.ok(c.endpoints >= R.endpoints[0] && c.endpoints <= R.endpoints[1], `${at}: endpoints`);
    }
    const slowest = Math.max(...s.clusters.map((c) => c.latency_ms.p99));
    assert.ok(s.slo.latency_ms >= R.sloOverSlowestP99[0] * slowest && s.slo.latency_ms <= R.sloOverSlowestP99[1] * slowest + 1, `${at}: SLO latency`);
    assert.ok(s.slo.client_timeout_ms > s.slo.latency_ms, `${at}: client timeout`);
    assert.ok(Number.isInteger(s.window_s) && s.window_s >= R.windowS[0] && s.window_s <= R.windowS[1], `${at}: window`);
    assert.ok(s.sidecars >= R.sidecars[0] && s.sidecars <= R.sidecars[1], `${at}: sidecars`);
    const wave = s.traffic[0]!.wave;
    if (wave !== undefined) {
      assert.ok(wave.amplitude >= R.waveAmplitude[0] && wave.amplitude <= R.waveAmplitude[1], `${at}: wave amplitude`);
      const busiest = Math.max(...s.clusters.map((c) => c.weight / c.capacity_rps));
      // Whole-number weights move a cluster's utilisation by up to half a request/s.
      assert.ok(busiest * (1 + wave.amplitude) <= R.wavePeakUtilisation + 0.05, `${at}: wave peak ${busiest * (1 + wave.amplitude)}`);
    }
    for (const f of s.faults) assert.ok(f.at_s < s.duration_s, `${at}: fault inside the run`);
  }
});

test("the archetypes of the issue all occur: 2 and 6 clusters, 1 and 24 sidecars, 1 and 5 s windows, shared faults, surges with and without faults, near-capacity peaks without faults, long fault-free runs", () => {
  const g = scenarios.filter((s) => s.name.startsWith("gen-"));
  const has = (what: string, p: (s: Scenario) => boolean): void => assert.ok(g.some(p), `no scenario with ${what}`);
  has("2 clusters", (s) => s.clusters.length === 2);
  has("6 clusters", (s) => s.clusters.length === 6);
  has("1 sidecar", (s) => s.sidecars === 1);
  has("24 sidecars", (s) => s.sidecars === 24);
  has("1 s windows", (s) => s.window_s === 1);
  has("5 s windows", (s) => s.window_s === 5);
  has("capacities near 4:1", (s) => { const c = s.clusters.map((x) => x.capacity_rps); return Math.max(...c) / Math.min(...c) > 3; });
  has("a fault on every cluster at once", (s) => s.clusters.length >= 3 && s.clusters.every((c) => s.faults.some((f) => f.cluster === c.name && Math.abs(f.at_s - s.faults[0]!.at_s) <= 3)));
  has("a surge without a fault", (s) => s.traffic.length > 1 && s.faults.length === 0);
  has("a surge with a fault", (s) => s.traffic.length > 1 && s.faults.length > 0);
  has("a wave peaking above 85 % of capacity without a fault", (s) => {
    const w = s.traffic[0]!.wave;
    return w !== undefined && s.faults.length === 0 && s.traffic.length === 1 && Math.max(...s.clusters.map((c) => c.weight / c.capacity_rps)) * (1 + w.amplitude) >= 0.85;
  });
  has("a long fault-free run", (s) => s.faults.length === 0 && s.duration_s >= 900);
  has("base utilisation under 30 %", (s) => Math.max(...s.clusters.map((c) => c.weight / c.capacity_rps)) < 0.3);
  has("base utilisation over 70 %", (s) => Math.max(...s.clusters.map((c) => c.weight / c.capacity_rps)) > 0.7);
});

test("training, model evaluation and generalization seed ranges are disjoint and avoid the public scenarios' seeds", () => {
  const inRange = (seed: number, purpose: keyof typeof SEED_BASE): boolean => seed >= SEED_BASE[purpose] && seed < SEED_BASE[purpose] + SEED_SPAN;
  const train = generateScenarios(createRng(1), "train", 300, { maxDurationS: 250 }).map((s) => s.seed);
  const evaluation = generateScenarios(createRng(1), "eval", 300, { maxDurationS: 250 }).map((s) => s.seed);
  const general = [...generalizationScenarios(0, 300).map((s) => s.seed), ...generalizationScenarios(SEED_SPAN - 5, 5).map((s) => s.seed)];
  assert.ok(train.every((s) => inRange(s, "train")));
  assert.ok(evaluation.every((s) => inRange(s, "eval")));
  assert.ok(general.every((s) => inRange(s, "generalization")));
  const ranges = Object.values(SEED_BASE).sort((a, b) => a - b);
  for (let i = 1; i < ranges.length; i++) assert.ok(ranges[i]! >= ranges[i - 1]! + SEED_SPAN, "ranges overlap");
  for (const seed of PUBLIC_SCENARIO_SEEDS) assert.ok(!train.includes(seed) && !evaluation.includes(seed) && !general.includes(seed));
});

test("a generalization scenario depends only on its seed, and a seed range past the end is refused", () => {
  const a = generalizationScenarios(10, 3);
  const b = generalizationScenarios(11, 2);
  assert.deepEqual(b, a.slice(1));
  assert.throws(() => generalizationScenarios(SEED_SPAN - 2, 3), /seed \+ count must be at most 1000000/);
  assert.throws(() => generalizationScenarios(-1, 3), /seed must be a whole number >= 0, got -1/);
  assert.throws(() => generalizationScenarios(0, 0), /count must be a whole number >= 1, got 0/);
});

test("without llmShare no generated scenario streams, and with llmShare 0.3 about 30 % do while every other field stays as it was", () => {
  const plain = generalizationScenarios(0, 300);
  const mixed = generalizationScenarios(0, 300, { llmShare: 0.3 });
  assert.ok(plain.every((s) => s.clusters.every((c) => c.llm === undefined)));
  const streaming = mixed.filter((s) => s.clusters.some((c) => c.llm !== undefined));
  assert.ok(streaming.length > 60 && streaming.length < 120, `${streaming.length} of 300 stream`);
  mixed.forEach((s, i) => {
    const p = plain[i]!;
    if (!s.clusters.some((c) => c.llm !== undefined)) return assert.deepEqual(s, p);
    assert.deepEqual(s.traffic, p.traffic);
    assert.deepEqual(s.clusters.map(({ llm: _llm, ...rest }) => rest), p.clusters);
    assert.deepEqual(s.faults.slice(0, p.faults.length), p.faults, "stream faults come after the others");
    assert.ok(s.clusters.every((c) => c.llm !== undefined), "every cluster streams");
  });
});

test("generated LLM scenarios stay within LLM_RANGES, their objectives above the slowest cluster's p99 and their timeouts past the TTFT objective", () => {
  const L = LLM_RANGES;
  const streaming = generalizationScenarios(0, 200, { llmShare: 1 });
  const kinds = new Set<string>();
  for (const s of streaming) {
    const at = s.name;
    for (const c of s.clusters) {
      const llm = c.llm!;
      assert.ok(llm.stream_fraction >= L.streamFraction[0] && llm.stream_fraction <= L.streamFraction[1], `${at}: stream fraction`);
      assert.ok(llm.ttft_ms.p50 >= L.ttftP50Ms[0] && llm.ttft_ms.p50 <= L.ttftP50Ms[1], `${at}: ttft p50`);
      assert.ok(llm.tpot_ms.p50 >= L.tpotP50Ms[0] && llm.tpot_ms.p50 <= L.tpotP50Ms[1] + 0.05, `${at}: tpot p50`);
      assert.ok(llm.output_tokens.p50 / llm.tokens_per_event <= L.eventsPerMedianAnswer, `${at}: events per median answer`);
    }
    assert.ok(s.slo.ttft_ms! >= L.sloOverSlowestP99[0] * Math.max(...s.clusters.map((c) => c.llm!.ttft_ms.p99)), `${at}: ttft objective`);
    assert.ok(s.slo.tpot_ms! >= L.sloOverSlowestP99[0] * Math.max(...s.clusters.map((c) => c.llm!.tpot_ms.p99)) - 0.05, `${at}: tpot objective`);
    assert.ok(s.slo.client_timeout_ms >= 2 * s.slo.ttft_ms! && s.slo.client_timeout_ms > s.slo.latency_ms, `${at}: client timeout`);
    for (const f of s.faults) {
      if (f.ttft_x !== undefined) kinds.add("ttft_x");
      if (f.tpot_x !== undefined) kinds.add("tpot_x");
      if (f.cut_rate !== undefined) kinds.add(`cut ${f.cut_as}`);
    }
    if (s.description.includes("long fault-free run")) assert.equal(s.faults.length, 0, `${at}: a fault-free run stays fault-free`);
  }
  assert.deepEqual([...kinds].sort(), ["cut error_event", "cut reset", "tpot_x", "ttft_x"]);
  assert.throws(() => generalizationScenarios(0, 1, { llmShare: 1.5 }), /llmShare must be a number from 0 to 1, got 1.5/);
});
