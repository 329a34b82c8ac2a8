// The simulated upstream: latency fit, capacity and queueing, faults with ramps, repeats and
// recovery, traffic ramps and waves.
import { test } from "node:test";
import assert from "node:assert/strict";
import { UpstreamHost, queueingMultiplier } from "../sim/upstream.js";
import { FaultTimeline, NO_EFFECT, faultOccurrences, intensityAt } from "../sim/faults.js";
import { TrafficRate, arrivals } from "../sim/traffic.js";
import { Xoshiro128, fitLogNormal } from "../sim/random.js";
import { quantileSorted } from "../sim/quantile.js";
import { testScenario } from "./sim-support.js";

function draws(r: Xoshiro128) {
  return { latency: r.next(), error: r.next(), overload: r.next(), down: r.next() };
}

test("sampled latency matches the cluster's p50 and p99", () => {
  const scenario = testScenario((j: any) => {
    j.clusters[0].capacity_rps = 1e9;
    j.clusters[0].error_rate = 0;
  });
  const host = new UpstreamHost(scenario.clusters[0]!, 1);
  const r = new Xoshiro128(11, 0);
  const samples: number[] = [];
  for (let i = 0; i < 40_000; i++) samples.push(host.answer(0.5, NO_EFFECT, draws(r)).latencyMs);
  samples.sort((a, b) => a - b);
  const p50 = quantileSorted(samples, 0.5);
  const p99 = quantileSorted(samples, 0.99);
  assert.ok(Math.abs(p50 / 100 - 1) < 0.03, `p50 ${p50} ms, expected 100`);
  assert.ok(Math.abs(p99 / 500 - 1) < 0.06, `p99 ${p99} ms, expected 500`);
  const fit = fitLogNormal(100, 500);
  assert.equal(fit.mu, Math.log(100));
  assert.ok(Math.abs(fit.sigma - Math.log(5) / 2.3263) < 1e-12);
});

test("the queueing multiplier is 1/(1-min(u,0.95)^4)", () => {
  const cases: Array<[number, number]> = [[0, 1], [0.5, 1 / (1 - 0.0625)], [0.9, 1 / (1 - 0.6561)], [0.95, 1 / (1 - 0.95 ** 4)], [3, 1 / (1 - 0.95 ** 4)]];
  for (const [u, m] of cases) assert.ok(Math.abs(queueingMultiplier(u) - m) < 1e-12, `u=${u}`);
});

test("load above capacity is rejected with 503 and the last window's utilisation slows the rest", () => {
  // One host of 100 rps; 200 requests per second offered for two windows.
  const scenario = testScenario((j: any) => {
    j.clusters[0].endpoints = 1;
    j.clusters[0].capacity_rps = 100;
    j.clusters[0].error_rate = 0;
  });
  const host = new UpstreamHost(scenario.clusters[0]!, 1);
  const r = new Xoshiro128(5, 0);
  const window = (start: number) => {
    const out = [];
    for (let i = 0; i < 200; i++) out.push(host.answer(start + i / 200, NO_EFFECT, draws(r)));
    return out;
  };
  window(0);
  assert.ok(Math.abs(host.utilisation() - 0) < 1e-9, "no completed window yet");
  const second = window(1);
  assert.equal(host.utilisation(), 2, "u of the first window: 200 offered / 100 capacity");
  const rejected = second.filter((a) => a.status === 503).length;
  assert.ok(rejected > 70 && rejected < 130, `about half rejected, got ${rejected}`);
  const served = second.filter((a) => a.status === 200).map((a) => a.latencyMs).sort((a, b) => a - b);
  const median = quantileSorted(served, 0.5);
  const expected = 100 * queueingMultiplier(2);
  assert.ok(Math.abs(median / expected - 1) < 0.2, `median ${median} ms, expected about ${expected}`);
});

test("a fault ramps up, holds, fades out and repeats", () => {
  const scenario = testScenario((j: any) => {
    j.faults = [{ at_s: 10, cluster: "a", endpoints: 2, latency_x: 5, ramp_s: 4, for_s: 10, recover_ramp_s: 4, repeat: { every_s: 20, times: 3 } }];
  });
  const occurrences = faultOccurrences(scenario);
  assert.deepEqual(occurrences.map((o) => [o.startS, o.endS, o.effectEndS]), [[10, 20, 24], [30, 40, 44], [50, 60, 64]]);
  const o = occurrences[0]!;
  const table: Array<[number, number]> = [[9.9, 0], [10, 0], [12, 0.5], [14, 1], [19.9, 1], [22, 0.5], [24, 0]];
  for (const [t, f] of table) assert.ok(Math.abs(intensityAt(o, t) - f) < 1e-9, `t=${t}: ${intensityAt(o, t)} != ${f}`);
  const timeline = new FaultTimeline(scenario);
  assert.ok(Math.abs(timeline.effectOn(0, 0, 12).latencyX - 3) < 1e-9, "half of a ×5 slowdown is ×3");
  assert.equal(timeline.effectOn(0, 2, 15), NO_EFFECT, "the third host is not hit");
  assert.equal(timeline.effectOn(1, 0, 15), NO_EFFECT, "the other cluster is not hit");
  assert.ok(Math.abs(timeline.effectOn(0, 1, 35).latencyX - 5) < 1e-9, "the second occurrence");
  assert.equal(timeline.effectOn(0, 0, 70), NO_EFFECT, "over after the third");
});

test("a down host refuses at once and error faults add to the base error rate", () => {
  const scenario = testScenario((j: any) => {
    j.clusters[0].capacity_rps = 1e9;
    j.faults = [{ at_s: 0, cluster: "a", down: true, for_s: 10 }, { at_s: 20, cluster: "a", error_rate: 0.5, for_s: 10 }];
  });
  const timeline = new FaultTimeline(scenario);
  const host = new UpstreamHost(scenario.clusters[0]!, 1);
  const r = new Xoshiro128(9, 0);
  const down = host.answer(5, timeline.effectOn(0, 0, 5), draws(r));
  assert.deepEqual([down.status, down.cause], [503, "down"]);
  let errors = 0;
  for (let i = 0; i < 4000; i++) if (host.answer(25, timeline.effectOn(0, 0, 25), draws(r)).status === 500) errors++;
  assert.ok(Math.abs(errors / 4000 - 0.501) < 0.03, `error rate ${errors / 4000}`);
});

test("traffic ramps linearly from the previous rate and waves around it", () => {
  const rate = new TrafficRate([
    { at_s: 0, rps: 100, ramp_s: 0 },
    { at_s: 10, rps: 200, ramp_s: 10 },
    { at_s: 30, rps: 200, ramp_s: 0, wave: { period_s: 40, amplitude: 0.5 } },
  ]);
  const table: Array<[number, number]> = [[5, 100], [10, 100], [15, 150], [20, 200], [25, 200], [40, 200 * (1 + 0.5 * Math.sin(2 * Math.PI))], [50, 200 * 1.5]];
  for (const [t, rps] of table) assert.ok(Math.abs(rate.rpsAt(t) - rps) < 1e-6, `t=${t}: ${rate.rpsAt(t)} != ${rps}`);
  assert.ok(rate.maxRps >= 300);
});

test("Poisson arrivals follow the offered rate", () => {
  const scenario = testScenario((j: any) => {
    j.duration_s = 100;
    j.traffic = [{ at_s: 0, rps: 100 }, { at_s: 50, rps: 300 }];
  });
  const times = [...arrivals(scenario, new Xoshiro128(1, 1))];
  const first = times.filter((t) => t < 50).length;
  const second = times.length - first;
  // 5000 and 15000 expected; 5 standard deviations of slack.
  assert.ok(Math.abs(first - 5000) < 5 * Math.sqrt(5000), `first half ${first}`);
  assert.ok(Math.abs(second - 15000) < 5 * Math.sqrt(15000), `second half ${second}`);
  assert.ok(times.every((t, i) => i === 0 || t >= times[i - 1]!), "in order");
});
