// The shifted family of generated scenarios (models/src/scenario-generator-shifted.ts): every
// scenario stays in the family's documented ranges, what sets it apart from the main family
// occurs, and its seeds never meet the main family's.
import { test } from "node:test";
import assert from "node:assert/strict";
import { SEED_BASE, SEED_SPAN } from "../models/src/scenario-generator.js";
import {
  SHIFTED_RANGES as R, SHIFTED_SEED_BASE, WEIGHTINGS, shiftedScenarios, shiftedTuningScenarios,
} from "../models/src/scenario-generator-shifted.js";
import type { Scenario } from "../sim/scenario.js";

const scenarios: Scenario[] = shiftedScenarios(0, 400);

/** Offered rate at `t`, before the wave: the traffic steps with their ramps. */
function stepRate(s: Scenario, t: number): number {
  let rate = 0;
  let previous = 0;
  for (const step of s.traffic) {
    if (step.at_s > t) break;
    const ramp = step.ramp_s ?? 0;
    rate = ramp > 0 && t < step.at_s + ramp ? previous + ((step.rps - previous) * (t - step.at_s)) / ramp : step.rps;
    previous = rate;
  }
  return rate;
}

test("every scenario of the shifted family stays within its ranges", () => {
  for (const s of scenarios) {
    const at = s.name;
    assert.ok(s.clusters.length >= R.clusters[0] && s.clusters.length <= R.clusters[1], `${at}: clusters`);
    const caps = s.clusters.map((c) => c.capacity_rps);
    assert.ok(Math.max(...caps) / Math.min(...caps) <= R.capacityRatio + 0.01, `${at}: capacity ratio`);
    for (const c of s.clusters) {
      assert.ok(Number.isInteger(c.weight) && c.weight >= 1, `${at}: ${c.name} weight`);
      assert.ok(c.weight / c.capacity_rps <= R.baseUtilisation[1] + 0.5 / c.capacity_rps + 1e-9, `${at}: ${c.name} base utilisation`);
      assert.ok(c.endpoints >= R.endpoints[0] && c.endpoints <= R.endpoints[1], `${at}: endpoints`);
      assert.ok(c.latency_ms.p50 >= R.p50Ms[0] && c.latency_ms.p50 <= R.p50Ms[1], `${at}: p50`);
    }
    assert.ok(R.successRates.includes(s.slo.success_rate as (typeof R.successRates)[number]), `${at}: success objective`);
    const slowest = Math.max(...s.clusters.map((c) => c.latency_ms.p99));
    assert.ok(s.slo.latency_ms >= R.sloOverSlowestP99[0] * slowest && s.slo.latency_ms <= R.sloOverSlowestP99[1] * slowest + 1, `${at}: SLO latency`);
    assert.ok(s.window_s >= R.windowS[0] && s.window_s <= R.windowS[1], `${at}: window`);
    assert.ok(s.sidecars >= R.sidecars[0] && s.sidecars <= R.sidecars[1], `${at}: sidecars`);
    assert.ok(s.duration_s >= R.durationS[0] && s.duration_s <= R.durationS[1], `${at}: duration`);
    assert.ok(s.traffic.length - 1 <= R.trafficSteps[1], `${at}: traffic steps`);
    // The highest offered load stays within peakOverCapacity of the busiest cluster's capacity.
    const busiest = Math.max(...s.clusters.map((c) => c.weight / c.capacity_rps));
    const base = s.traffic[0]!.rps;
    const amplitude = s.traffic[0]!.wave?.amplitude ?? 0;
    for (let t = 0; t < s.duration_s; t += 5) {
      const peak = (stepRate(s, t) / base) * (1 + amplitude) * busiest;
      assert.ok(peak <= R.peakOverCapacity + 0.02, `${at}: peak ${peak.toFixed(3)} × the busiest capacity at ${t} s`);
    }
    assert.ok(s.faults.length <= R.faults[1] * R.clusters[1], `${at}: faults`);
    for (const f of s.faults) assert.ok(f.at_s >= R.firstFaultS && f.at_s < s.duration_s, `${at}: fault inside the run`);
  }
});

test("what sets the shifted family apart occurs: each weighting, equal weights over unequal sizes, traffic steps, cascades, repeating faults, faults with latency and errors together, one slow host, 8 clusters, 10 s windows", () => {
  const has = (what: string, p: (s: Scenario) => boolean): void => assert.ok(scenarios.some(p), `no scenario with ${what}`);
  for (const w of WEIGHTINGS) has(`${w} weights`, (s) => s.description.includes(`${w} weights`));
  has("equal weights over capacities 3:1 or more", (s) => {
    const caps = s.clusters.map((c) => c.capacity_rps);
    return new Set(s.clusters.map((c) => c.weight)).size === 1 && Math.max(...caps) / Math.min(...caps) >= 3;
  });
  has("four traffic steps", (s) => s.traffic.length === 5);
  has("a peak past the busiest cluster's capacity", (s) => {
    const busiest = Math.max(...s.clusters.map((c) => c.weight / c.capacity_rps));
    return Math.max(...s.traffic.map((t) => t.rps)) / s.traffic[0]!.rps * busiest > 1;
  });
  has("a cascade: one fault on several clusters", (s) => /on c\d+(\+c\d+)+/.test(s.description));
  has("a repeating fault", (s) => s.faults.some((f) => f.repeat !== undefined));
  has("latency and errors in one fault", (s) => s.faults.some((f) => f.latency_x > 1 && f.error_rate > 0));
  has("one slow host", (s) => s.faults.some((f) => f.endpoints === 1 && f.latency_x >= 5) && s.description.includes("slow_host"));
  has("8 clusters", (s) => s.clusters.length === 8);
  has("10 s windows", (s) => s.window_s === 10);
  has("a fault in the first 30 s", (s) => s.faults.some((f) => f.at_s < 30));
  has("a long fault-free run", (s) => s.faults.length === 0 && s.duration_s === R.durationS[1]);
});

test("the shifted family's seeds are its own: disjoint from training, tuning and the main generalization range; the same seed gives the same scenario", () => {
  const seeds = [...scenarios.map((s) => s.seed), ...shiftedScenarios(SEED_SPAN - 3, 3).map((s) => s.seed)];
  assert.ok(seeds.every((seed) => seed >= SHIFTED_SEED_BASE && seed < SHIFTED_SEED_BASE + SEED_SPAN));
  for (const base of Object.values(SEED_BASE)) assert.ok(SHIFTED_SEED_BASE >= base + SEED_SPAN || SHIFTED_SEED_BASE + SEED_SPAN <= base, "ranges overlap");
  assert.deepEqual(shiftedScenarios(7, 2)[1], shiftedScenarios(8, 1)[0]);
  const tuning = shiftedTuningScenarios(3, 20).map((s) => s.seed);
  assert.ok(tuning.every((seed) => seed >= SEED_BASE.eval && seed < SEED_BASE.eval + SEED_SPAN), "tuning scenarios come from the eval range");
  assert.deepEqual(shiftedTuningScenarios(3, 2), shiftedTuningScenarios(3, 2));
});

test("bad seeds and counts are refused with the problem named", () => {
  const cases: Array<[() => unknown, RegExp]> = [
    [() => shiftedScenarios(-1, 2), /seed must be a whole number >= 0, got -1/],
    [() => shiftedScenarios(0, 0), /count must be a whole number >= 1, got 0/],
    [() => shiftedScenarios(SEED_SPAN - 1, 2), /seed \+ count must be at most 1000000 \(the shifted family's seed range\), got 1000001/],
    [() => shiftedTuningScenarios(1.5, 2), /seed must be a whole number >= 0, got 1.5/],
  ];
  for (const [call, message] of cases) assert.throws(call, message);
});

test("streamed scenarios of the shifted family carry llm blocks and stream objectives at share 1", () => {
  for (const s of shiftedScenarios(0, 30, { llmShare: 1 })) {
    assert.ok(s.clusters.every((c) => c.llm !== undefined), `${s.name}: llm blocks`);
    assert.ok(s.slo.ttft_ms !== undefined && s.slo.tpot_ms !== undefined, `${s.name}: stream objectives`);
  }
});
