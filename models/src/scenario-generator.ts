// Random fault scenarios for training the anomaly model and for the generalization benchmark, in
// the format of the shared scenarios README (validated by the simulator's own parser). The
// ranges are what real fleets see (GENERATOR_RANGES), none taken from a public scenario:
//   - 2–6 clusters of unequal size (capacities up to 4:1), 1–12 hosts each, each with its own
//     latency shape (p50 40–600 ms, p99 2–8 × p50);
//   - base utilisation 20–75 % of capacity, optional waves up to ±50 % (some peaking at 85–98 %
//     of capacity with no fault at all), surges of 1.2–2 × with or without faults;
//   - a latency objective 1.2–4 × the slowest cluster's p99, windows of 1–5 s, 1–24 sidecars;
//   - zero to three faults of the kinds the README describes (latency creep, error bursts, hosts
//     down, capacity loss, flapping repeats, mild ones inside the SLO's slack), a quarter of them
//     on several or all clusters at once (a shared dependency failing), and long fault-free runs.
//
// Seeds: every purpose has its own simulator seed range, so no two purposes share a scenario:
//   train           1 000 000 – 1 999 999   (training data of models/anomaly.onnx)
//   eval            2 000 000 – 2 999 999   (the model's held-out evaluation, `autoglm train --eval`)
//   generalization  3 000 000 – 3 999 999   (`autoglm bench generalization`; never for training or tuning)
// all far above any hand-written scenario's seed. A generalization scenario's parameters are
// drawn from a generator seeded with its own simulator seed, so each is reproducible alone.
//
// Streamed LLM answers (`llmShare`, default 0): that share of scenarios also gets llm blocks,
// stream objectives and stream faults (models/src/scenario-generator-llm.ts), drawn from a
// generator of their own, so every other field, and every scenario at share 0, is unchanged.
// Upstreams that report their load (`loadReportShare`, default 0) likewise
// (models/src/scenario-generator-load-report.ts).
import { parseScenario, type Scenario } from "../../sim/scenario.js";
import { createRng, type Rng } from "./prng.js";
import { addStreams, llmGenerator } from "./scenario-generator-llm.js";
import { addLoadReports } from "./scenario-generator-load-report.js";

/** Seeds of the public scenarios in sim/scenarios: never used for generated ones. */
export const PUBLIC_SCENARIO_SEEDS: readonly number[] = [7, 11, 23, 31, 47, 59, 71, 83, 97];

/** Which data set a scenario belongs to; each gets its own disjoint simulator seed range. */
export type ScenarioPurpose = "train" | "eval" | "generalization";
export const SEED_BASE: Readonly<Record<ScenarioPurpose, number>> = { train: 1_000_000, eval: 2_000_000, generalization: 3_000_000 };
/** Seeds per purpose: purpose p uses [SEED_BASE[p], SEED_BASE[p] + SEED_SPAN). */
export const SEED_SPAN = 1_000_000;

/** The generator's ranges (inclusive), for documentation and the property tests. */
export const GENERATOR_RANGES = {
  clusters: [2, 6],
  /** Largest over smallest cluster capacity, at most. */
  capacityRatio: 4,
  baseUtilisation: [0.2, 0.75],
  waveAmplitude: [0.05, 0.5],
  /** Peak utilisation of a wave without a surge, at most (near capacity, not past it). */
  wavePeakUtilisation: 0.98,
  /** slo.latency_ms over the slowest cluster's p99. */
  sloOverSlowestP99: [1.2, 4],
  windowS: [1, 5],
  sidecars: [1, 24],
  endpoints: [1, 12],
} as const;

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
  const at = rng.int(30, Math.max(31, durationS - 120));
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
  /** Share of scenarios, [0, 1], whose clusters stream LLM answers (default 0: none). */
  llmShare?: number;
  /** Share of scenarios, [0, 1], whose upstreams report their load (ORCA; default 0: none). */
  loadReportShare?: number;
}

/** Kinds that can hit several clusters at once (a shared dependency degrading). */
const SHARED_KINDS: readonly FaultKind[] = ["error_burst", "partial_errors", "latency_step", "latency_creep", "capacity_loss", "mild"];

/** A copy of a fault for another cluster: a few seconds apart, its strength within ±20 %. */
function sharedCopy(rng: Rng, template: Record<string, Json>, cluster: string, endpoints: number): Json {
  const copy: Record<string, Json> = { ...template, cluster, at_s: (template.at_s as number) + rng.int(0, 3) };
  const scale = rng.uniform(0.8, 1.2);
  if (typeof copy.error_rate === "number") copy.error_rate = round(Math.min(1, copy.error_rate * scale), 4);
  if (typeof copy.latency_x === "number") copy.latency_x = round(Math.max(1.05, 1 + (copy.latency_x - 1) * scale), 2);
  if (typeof copy.capacity_x === "number") copy.capacity_x = round(Math.min(0.95, copy.capacity_x * scale), 2);
  if (typeof copy.endpoints === "number") copy.endpoints = Math.min(endpoints, copy.endpoints);
  return copy;
}

/** Builds and validates one scenario with the given simulator seed. */
function buildScenario(rng: Rng, purpose: ScenarioPurpose, name: string, seed: number, options: GenerateOptions): Scenario {
  const R = GENERATOR_RANGES;
  const longest = Math.max(200, options.maxDurationS ?? 900);
  const longFaultFree = rng.chance(0.15);
  const nearCapacityPeak = !longFaultFree && rng.chance(0.15);
  const durationS = longFaultFree ? longest : Math.min(longest, rng.int(24, 90) * 10);
  const clusterCount = rng.int(R.clusters[0], R.clusters[1]);

  // Sizes: relative capacities in [1, capacityRatio), so the largest is at most 4× the smallest.
  const sizes = Array.from({ length: clusterCount }, () => rng.uniform(1, R.capacityRatio));
  const sizeSum = sizes.reduce((a, b) => a + b, 0);
  const totalCapacity = rng.uniform(120, 700);
  // Base utilisation of the fleet, each cluster within ±15 % of it (operators' weights are close
  // to, not exactly, proportional to capacity). A near-capacity peak needs a busy fleet.
  const fleetU = nearCapacityPeak ? rng.uniform(0.55, R.baseUtilisation[1]) : rng.uniform(R.baseUtilisation[0], R.baseUtilisation[1]);
  const successRate = rng.pick([0.95, 0.98, 0.99, 0.995, 0.999]);
  const budget = 1 - successRate;
  const clusters = sizes.map((size, i) => {
    const capacity = round((totalCapacity * size) / sizeSum, 1);
    const u = Math.min(R.baseUtilisation[1], Math.max(R.baseUtilisation[0], fleetU * rng.uniform(0.85, 1.15)));
    const p50 = round(rng.uniform(40, 600));
    return {
      name: `c${i}`,
      // The weight is the cluster's base offered rate in whole requests/s (weights are integers
      // in Envoy and in the filter's configuration): shares follow from the weights.
      weight: Math.max(1, Math.round(capacity * u)),
      endpoints: Math.min(R.endpoints[1], Math.max(R.endpoints[0], Math.round(capacity / rng.uniform(15, 80)))),
      capacity_rps: capacity,
      latency_ms: { p50, p99: round(p50 * rng.uniform(2, 8)) },
      error_rate: round(rng.uniform(0, budget / 4), 5),
    };
  });
  const baseRps = round(clusters.reduce((a, c) => a + c.weight, 0), 1);
  const maxU = Math.max(...clusters.map((c) => c.weight / c.capacity_rps));
  const slowestP99 = Math.max(...clusters.map((c) => c.latency_ms.p99));
  const latencySlo = Math.ceil(slowestP99 * rng.uniform(R.sloOverSlowestP99[0], R.sloOverSlowestP99[1] - 0.01));

  // Waves: at most ±50 %, the peak at most 98 % of the busiest cluster's capacity; a
  // near-capacity peak aims at 85–98 %.
  const ceiling = Math.min(R.waveAmplitude[1], R.wavePeakUtilisation / maxU - 1);
  let amplitude = 0;
  if (nearCapacityPeak) amplitude = Math.min(ceiling, rng.uniform(0.85, R.wavePeakUtilisation) / maxU - 1);
  else if (rng.chance(0.5)) amplitude = Math.min(ceiling, rng.uniform(R.waveAmplitude[0], R.waveAmplitude[1]));
  amplitude = Math.floor(amplitude * 100) / 100;
  const wave = amplitude >= R.waveAmplitude[0] ? { period_s: rng.int(60, 900), amplitude } : undefined;
  const traffic: Json[] = [{ at_s: 0, rps: baseRps, ...(wave ? { wave } : {}) }];
  const surge = !longFaultFree && rng.chance(0.3);
  if (surge) {
    const at = rng.int(30, Math.max(31, durationS - 150));
    const ramp = rng.int(0, 40);
    traffic.push({ at_s: at, rps: round(baseRps * rng.uniform(1.2, 2), 1), ramp_s: ramp, ...(wave ? { wave } : {}) });
    const back = at + ramp + rng.int(30, 150);
    // In a short run the surge may last to the end.
    if (back < durationS) traffic.push({ at_s: back, rps: baseRps, ramp_s: rng.int(0, 40), ...(wave ? { wave } : {}) });
  }

  const faults: Json[] = [];
  const faultCount = longFaultFree ? 0 : rng.pick(nearCapacityPeak ? [0, 0, 1] : [0, 1, 1, 2, 2, 3]);
  const notes: string[] = [];
  for (let f = 0; f < faultCount; f++) {
    if (clusterCount >= 2 && rng.chance(0.25)) {
      const kind = rng.pick(SHARED_KINDS);
      const all = rng.chance(0.5);
      const hit = all ? clusterCount : rng.int(2, clusterCount);
      const shuffled = clusters.map((_, i) => i);
      for (let i = shuffled.length - 1; i > 0; i--) {
        const j = rng.int(0, i);
        [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
      }
      const order = shuffled.slice(0, hit).sort((a, b) => a - b);
      const first = clusters[order[0]!]!;
      const template = fault(rng, kind, first.name, first.endpoints, durationS) as Record<string, Json>;
      faults.push(template);
      for (const i of order.slice(1)) faults.push(sharedCopy(rng, template, clusters[i]!.name, clusters[i]!.endpoints));
      notes.push(`${kind} on ${all ? "all clusters" : order.map((i) => clusters[i]!.name).join("+")}`);
    } else {
      const target = rng.int(0, clusterCount - 1);
      const kind = rng.pick(FAULT_KINDS);
      faults.push(fault(rng, kind, clusters[target]!.name, clusters[target]!.endpoints, durationS));
      notes.push(`${kind} on ${clusters[target]!.name}`);
    }
  }

  const windowS = rng.int(R.windowS[0], R.windowS[1]);
  const sidecars = rng.int(R.sidecars[0], R.sidecars[1]);
  const shape = [
    `${clusterCount} clusters`, `${sidecars} sidecars`, `window ${windowS} s`, `base ${Math.round(maxU * 100)}% busiest`,
    ...(wave ? [`wave ±${Math.round(amplitude * 100)}%`] : []), ...(surge ? ["surge"] : []),
    faultCount === 0 ? (longFaultFree ? "long fault-free run" : "no fault") : notes.join(", "),
  ];
  const llm = llmGenerator(seed, options.llmShare ?? 0);
  const raw: { [key: string]: Json } = {
    name,
    description: `generated (${purpose}): ${shape.join("; ")}`,
    seed,
    duration_s: durationS,
    window_s: windowS,
    sidecars,
    slo: { latency_ms: latencySlo, success_rate: successRate, client_timeout_ms: Math.max(latencySlo + 100, round(latencySlo * rng.uniform(1.5, 3), -2)) },
    clusters,
    traffic,
    faults,
  };
  if (llm !== null) raw.description = `${raw.description as string}; ${addStreams(llm, raw, longFaultFree)}`;
  const reports = addLoadReports(seed, options.loadReportShare ?? 0, raw);
  if (reports !== null) raw.description = `${raw.description as string}; ${reports}`;
  return parseScenario(raw, `<${name}>`);
}

/** One random scenario (already validated by the simulator's parser). */
export function generateScenario(rng: Rng, purpose: ScenarioPurpose, index: number, options: GenerateOptions = {}): Scenario {
  const seed = SEED_BASE[purpose] + (rng.u32() % SEED_SPAN);
  return buildScenario(rng, purpose, `generated-${purpose}-${index}`, seed, options);
}

/** `count` scenarios for a purpose from one generator. */
export function generateScenarios(rng: Rng, purpose: ScenarioPurpose, count: number, options: GenerateOptions = {}): Scenario[] {
  return Array.from({ length: count }, (_, i) => generateScenario(rng, purpose, i, options));
}

/**
 * The generalization benchmark's scenarios from `seed` (an offset into its seed range): scenario
 * i has simulator seed SEED_BASE.generalization + seed + i and its parameters from a generator
 * seeded with that. Throws a RangeError naming the problem when the range would be left.
 */
export function generalizationScenarios(seed: number, count: number, options: GenerateOptions = {}): Scenario[] {
  if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`seed must be a whole number >= 0, got ${seed}`);
  if (!Number.isSafeInteger(count) || count < 1) throw new RangeError(`count must be a whole number >= 1, got ${count}`);
  if (seed + count > SEED_SPAN) throw new RangeError(`seed + count must be at most ${SEED_SPAN} (the generalization seed range), got ${seed + count}`);
  return Array.from({ length: count }, (_, i) => {
    const simSeed = SEED_BASE.generalization + seed + i;
    return buildScenario(createRng(simSeed), "generalization", `gen-${simSeed}`, simSeed, options);
  });
}

/**
 * Scenarios for trying a policy change before the generalization run: `count` scenarios of the
 * eval purpose (its seed range, never the generalization benchmark's) from a generator seeded
 * with `seed`. Figures from them are tuning figures: a change is judged on the generalization run.
 */
export function tuningScenarios(seed: number, count: number, options: GenerateOptions = {}): Scenario[] {
  if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`seed must be a whole number >= 0, got ${seed}`);
  if (!Number.isSafeInteger(count) || count < 1) throw new RangeError(`count must be a whole number >= 1, got ${count}`);
  return generateScenarios(createRng(seed), "eval", count, options);
}
