// Random fault scenarios for training and evaluating the anomaly model, in the format of the
// shared scenarios README (validated by the simulator's own parser). Each draws a small mesh
// (2–4 clusters of random size, latency shape and headroom), traffic (flat, waves, surges) and
// zero to three faults of the kinds the README describes (latency creep, error bursts, hosts
// down, capacity loss, flapping repeats) plus mild faults that should not break the SLO.
//
// Simulator seeds are drawn from a range that depends on the purpose (training or held-out
// evaluation), far above the public scenarios' seeds (7, 11, 23, 31, 47, 59), so no generated
// scenario replays a public one and training and evaluation never share a scenario.
import { parseScenario, type Scenario } from "../../sim/scenario.js";
import type { Rng } from "./prng.js";

/** Seeds of the public scenarios in ../shared/scenarios: never used for generated ones. */
export const PUBLIC_SCENARIO_SEEDS: readonly number[] = [7, 11, 23, 31, 47, 59];

/** Which data set a scenario belongs to; each gets its own disjoint simulator seed range. */
export type ScenarioPurpose = "train" | "eval";
const SEED_BASE: Record<ScenarioPurpose, number> = { train: 1_000_000, eval: 2_000_000 };
const SEED_SPAN = 1_000_000;

/** The kinds of fault a generated scenario can carry (one per fault). */
export const FAULT_KINDS = [
  "latency_creep",
  "latency_step",
  "error_burst",
  "partial_errors",
  "down",
  "partial_down",
  "capacity_loss",
  "flapping",
  "mild",
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function round(value: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** A fault of `kind`; its ramp never outlasts it (the format requires ramp_s <= for_s). */
function fault(rng: Rng, kind: FaultKind, cluster: string, endpoints: number, durationS: number): Json {
  const f = draftFault(rng, kind, cluster, endpoints, durationS) as { ramp_s?: number; for_s: number };
  if (f.ramp_s !== undefined && f.ramp_s > f.for_s) f.ramp_s = f.for_s;
  return f as Json;
}

function draftFault(rng: Rng, kind: FaultKind, cluster: string, endpoints: number, durationS: number): Json {
  const at = rng.int(60, Math.max(61, durationS - 120));
  const some = rng.int(1, Math.max(1, endpoints - 1));
  const base = { at_s: at, cluster };
  switch (kind) {
    case "latency_creep": {
      const ramp = rng.int(40, 240);
      return { ...base, latency_x: round(rng.uniform(3, 12), 1), ramp_s: ramp, for_s: ramp + rng.int(30, 200), recover_ramp_s: rng.int(0, 60) };
    }
    case "latency_step":
      return { ...base, latency_x: round(rng.uniform(2.5, 10), 1), for_s: rng.int(30, 240) };
    case "error_burst":
      return { ...base, error_rate: round(rng.uniform(0.03, 0.9), 3), ramp_s: rng.int(0, 30), for_s: rng.int(20, 240) };
    case "partial_errors":
      return { ...base, endpoints: some, error_rate: round(rng.uniform(0.1, 0.8), 3), ramp_s: rng.int(0, 60), for_s: rng.int(60, 300) };
    case "down":
      return { ...base, down: true, for_s: rng.int(20, 200) };
    case "partial_down":
      return { ...base, endpoints: some, down: true, for_s: rng.int(30, 240) };
    case "capacity_loss": {
      const ramp = rng.int(0, 120);
      return { ...base, capacity_x: round(rng.uniform(0.15, 0.6), 2), ramp_s: ramp, for_s: ramp + rng.int(30, 240), recover_ramp_s: rng.int(0, 60) };
    }
    case "flapping": {
      const forS = rng.int(5, 20);
      return {
        ...base,
        ...(rng.chance(0.5) ? { down: true } : { error_rate: round(rng.uniform(0.3, 0.95), 2) }),
        for_s: forS,
        repeat: { every_s: forS + rng.int(15, 60), times: rng.int(3, 8) },
      };
    }
    case "mild":
      // Small degradations inside the SLO's slack: the model must not cry wolf on these.
      return rng.chance(0.5)
        ? { ...base, latency_x: round(rng.uniform(1.2, 1.6), 2), ramp_s: rng.int(0, 60), for_s: rng.int(60, 300) }
        : { ...base, error_rate: round(rng.uniform(0.001, 0.004), 4), for_s: rng.int(60, 300) };
  }
}

export interface GenerateOptions {
  /** Longest run, seconds (default 900; tests use short runs). At least 200. */
  maxDurationS?: number;
}

/** One random scenario (already validated by the simulator's parser). */
export function generateScenario(rng: Rng, purpose: ScenarioPurpose, index: number, options: GenerateOptions = {}): Scenario {
  const clusterCount = rng.int(2, 4);
  const longest = Math.max(200, options.maxDurationS ?? 900);
  const durationS = Math.min(longest, rng.int(30, 90) * 10);
  const totalRps = rng.uniform(80, 380);
  const weights = Array.from({ length: clusterCount }, () => rng.int(20, 80));
  const weightSum = weights.reduce((a, b) => a + b, 0);
  const successRate = rng.pick([0.98, 0.99, 0.99, 0.995]);
  const budget = 1 - successRate;
  const clusters = weights.map((weight, i) => {
    const p50 = round(rng.uniform(60, 450));
    const p99 = round(p50 * rng.uniform(2.5, 7));
    const share = (totalRps * weight) / weightSum;
    // Headroom: base utilisation between 20% and 55% of capacity (the public scenarios: ~40%).
    const capacity = round(share / rng.uniform(0.2, 0.55));
    // Hosts of 30–90 requests/s each, as in the public scenarios (40–55): per-host load then
    // fluctuates little from one window to the next, as it does on real hosts.
    const endpoints = Math.min(8, Math.max(2, Math.round(capacity / rng.uniform(30, 90))));
    return {
      name: `c${i}`,
      weight,
      endpoints,
      capacity_rps: Math.max(20, capacity),
      latency_ms: { p50, p99 },
      error_rate: round(rng.uniform(0, budget / 4), 4),
    };
  });
  const worstP99 = Math.max(...clusters.map((c) => c.latency_ms.p99));
  const latencySlo = round(worstP99 * rng.uniform(2, 4), -1);

  const traffic: Json[] = [];
  const wave = rng.chance(0.5) ? { period_s: rng.int(120, 600), amplitude: round(rng.uniform(0.1, 0.4), 2) } : undefined;
  traffic.push({ at_s: 0, rps: round(totalRps, 1), ...(wave ? { wave } : {}) });
  if (rng.chance(0.3)) {
    const at = rng.int(60, Math.max(61, durationS - 200));
    const surge = round(totalRps * rng.uniform(1.3, 2.2), 1);
    const ramp = rng.int(5, 40);
    traffic.push({ at_s: at, rps: surge, ramp_s: ramp, ...(wave ? { wave } : {}) });
    const back = at + ramp + rng.int(30, 150);
    const backRamp = rng.int(5, 40);
    // In a short run the surge may last to the end.
    if (back < durationS) traffic.push({ at_s: back, rps: round(totalRps, 1), ramp_s: backRamp, ...(wave ? { wave } : {}) });
  }

  const faults: Json[] = [];
  const faultCount = rng.pick([0, 1, 1, 1, 2, 2, 3]);
  for (let f = 0; f < faultCount; f++) {
    const target = rng.int(0, clusterCount - 1);
    faults.push(fault(rng, rng.pick(FAULT_KINDS), clusters[target]!.name, clusters[target]!.endpoints, durationS));
  }

  const raw: Json = {
    name: `generated-${purpose}-${index}`,
    description: `generated for the anomaly model (${purpose})`,
    seed: SEED_BASE[purpose] + (rng.u32() % SEED_SPAN),
    duration_s: durationS,
    window_s: 1,
    sidecars: rng.int(2, 6),
    slo: { latency_ms: latencySlo, success_rate: successRate, client_timeout_ms: round(latencySlo * rng.uniform(2, 3), -2) },
    clusters,
    traffic,
    faults,
  };
  return parseScenario(raw, `<generated ${purpose} ${index}>`);
}

/** `count` scenarios for a purpose from one generator. */
export function generateScenarios(rng: Rng, purpose: ScenarioPurpose, count: number, options: GenerateOptions = {}): Scenario[] {
  return Array.from({ length: count }, (_, i) => generateScenario(rng, purpose, i, options));
}
