// A second family of generated scenarios, with ranges and structure of its own, for checking the
// policy on traffic the main generator (scenario-generator.ts) never draws. The policy was tuned
// only on the main family's tuning range; this family is a check of how far that tuning carries.
// What differs from the main family (SHIFTED_RANGES), all of it what real fleets see:
//   - operators' weights are not always near capacity: a third proportional to capacity, a third
//     equal whatever the sizes (a 50/50 split over unequal regions), a third skewed (each
//     cluster's base utilisation drawn apart, 10–85 %);
//   - 2–8 clusters with capacities up to 6:1, 1–20 hosts each, p50 5–2000 ms, p99 1.5–12 × p50;
//   - traffic in 0–4 steps (0.4–1.6 × the base rate, ramps up to 2 min), waves of 20–1200 s
//     period; peaks may pass the busiest cluster's capacity by up to a fifth with no fault;
//   - a latency objective 1.1–5 × the slowest p99, success objectives 90–99.99 %, windows of
//     1–10 s, 1–48 sidecars, runs of 3–20 minutes;
//   - 0–4 faults from 5 s into the run, of wider strength (latency 1.5–30 ×, errors 1–100 %,
//     capacity down to 5 %), latency and errors together, one slow host, any kind repeating, and
//     cascades: a fault on several clusters with onsets up to a minute apart and strengths
//     0.5–1.5 × each other's.
// Streamed answers reuse the main family's LLM draws (scenario-generator-llm.ts) at `llmShare`,
// and load reports the main family's (scenario-generator-load-report.ts) at `loadReportShare`.
//
// Seeds: the family's check run uses simulator seeds SHIFTED_SEED_BASE + S ... (4 000 000 –
// 4 999 999), disjoint from every range of the main family (train, eval, generalization); its
// tuning scenarios draw from the main family's eval range like `tuningScenarios`.
import { parseScenario, type Scenario } from "../../sim/scenario.js";
import { createRng, type Rng } from "./prng.js";
import { addStreams, llmGenerator } from "./scenario-generator-llm.js";
import { addLoadReports } from "./scenario-generator-load-report.js";
import { SEED_BASE, SEED_SPAN, type GenerateOptions } from "./scenario-generator.js";

/** First simulator seed of the shifted family's check range (SEED_SPAN seeds long). */
export const SHIFTED_SEED_BASE = 4_000_000;

/** The shifted family's ranges (inclusive), for documentation and the property tests. */
export const SHIFTED_RANGES = {
  clusters: [2, 8],
  /** Largest over smallest cluster capacity, at most. */
  capacityRatio: 6,
  /** Base utilisation of a cluster (skewed weights) or of the busiest one (equal weights). */
  baseUtilisation: [0.1, 0.85],
  p50Ms: [5, 2000],
  p99OverP50: [1.5, 12],
  sloOverSlowestP99: [1.1, 5],
  successRates: [0.9, 0.95, 0.99, 0.999, 0.9999],
  windowS: [1, 10],
  sidecars: [1, 48],
  endpoints: [1, 20],
  durationS: [180, 1200],
  trafficSteps: [0, 4],
  /** A step's rate over the base rate. */
  stepFactor: [0.4, 1.6],
  /** Highest offered load over the busiest cluster's capacity (base weights), at most. */
  peakOverCapacity: 1.2,
  wavePeriodS: [20, 1200],
  faults: [0, 4],
  /** Earliest fault start, seconds into the run. */
  firstFaultS: 5,
} as const;

export const SHIFTED_FAULT_KINDS = ["latency", "errors", "latency_errors", "down", "capacity", "slow_host"] as const;
export type ShiftedFaultKind = (typeof SHIFTED_FAULT_KINDS)[number];
/** How the operator's weights relate to the clusters' capacities. */
export const WEIGHTINGS = ["proportional", "equal", "skewed"] as const;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

function round(value: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

interface DraftCluster {
  name: string;
  capacity: number;
  endpoints: number;
}

/** One fault of `kind` on `cluster`, starting at `atS`; never past the run's end. */
function shiftedFault(rng: Rng, kind: ShiftedFaultKind, cluster: DraftCluster, atS: number, durationS: number): JsonObject {
  const left = Math.max(1, durationS - atS);
  const forS = Math.max(1, Math.min(left, rng.chance(0.2) ? left : rng.int(10, 400)));
  const ramp = rng.chance(0.5) ? 0 : Math.min(forS, rng.int(1, 300));
  const recover = rng.chance(0.6) ? 0 : rng.int(1, 120);
  const hosts: JsonObject = cluster.endpoints > 1 && rng.chance(0.35) ? { endpoints: rng.int(1, cluster.endpoints - 1) } : {};
  const base: JsonObject = { at_s: atS, cluster: cluster.name, for_s: forS };
  const shaped: JsonObject = { ...base, ...hosts, ...(ramp > 0 ? { ramp_s: ramp } : {}), ...(recover > 0 ? { recover_ramp_s: recover } : {}) };
  const latency = () => round(Math.exp(rng.uniform(Math.log(1.5), Math.log(30))), 2);
  const errors = () => round(Math.exp(rng.uniform(Math.log(0.01), Math.log(1))), 3);
  switch (kind) {
    case "latency":
      return { ...shaped, latency_x: latency() };
    case "errors":
      return { ...shaped, error_rate: errors() };
    case "latency_errors":
      return { ...shaped, latency_x: latency(), error_rate: errors() };
    case "down":
      return { ...base, ...hosts, down: true };
    case "capacity":
      return { ...shaped, capacity_x: round(rng.uniform(0.05, 0.8), 2) };
    case "slow_host":
      return { ...base, endpoints: 1, latency_x: round(rng.uniform(5, 50), 1) };
  }
}

/** The same fault again on `cluster`: onset up to a minute later, strength 0.5–1.5 × (a cascade). */
function cascadeCopy(rng: Rng, template: JsonObject, cluster: DraftCluster, durationS: number): JsonObject {
  const atS = Math.min(durationS - 1, (template.at_s as number) + rng.int(0, 60));
  const copy: JsonObject = { ...template, cluster: cluster.name, at_s: atS };
  copy.for_s = Math.max(1, Math.min(template.for_s as number, durationS - atS));
  if (typeof copy.ramp_s === "number") copy.ramp_s = Math.min(copy.ramp_s, copy.for_s as number);
  const scale = rng.uniform(0.5, 1.5);
  if (typeof copy.error_rate === "number") copy.error_rate = round(Math.min(1, copy.error_rate * scale), 4);
  if (typeof copy.latency_x === "number") copy.latency_x = round(Math.max(1.05, 1 + (copy.latency_x - 1) * scale), 2);
  if (typeof copy.capacity_x === "number") copy.capacity_x = round(Math.min(0.95, copy.capacity_x * scale), 2);
  if (typeof copy.endpoints === "number") copy.endpoints = Math.min(cluster.endpoints, copy.endpoints);
  return copy;
}

/** Repeats a fault `times` more every `every_s` (flapping of any kind), when the run has room. */
function withRepeat(rng: Rng, fault: JsonObject, durationS: number): JsonObject {
  const occupied = (fault.for_s as number) + ((fault.recover_ramp_s as number | undefined) ?? 0);
  const every = occupied + rng.int(5, 90);
  const times = Math.min(rng.int(2, 10), Math.floor((durationS - (fault.at_s as number)) / every));
  return times >= 1 ? { ...fault, repeat: { every_s: every, times } } : fault;
}

function buildShifted(rng: Rng, name: string, seed: number, options: GenerateOptions): Scenario {
  const R = SHIFTED_RANGES;
  const longest = Math.max(R.durationS[0], options.maxDurationS ?? R.durationS[1]);
  const faultFree = rng.chance(0.1);
  const durationS = faultFree ? longest : Math.min(longest, rng.int(R.durationS[0] / 10, R.durationS[1] / 10) * 10);
  const clusterCount = rng.int(R.clusters[0], R.clusters[1]);
  const sizes = Array.from({ length: clusterCount }, () => rng.uniform(1, R.capacityRatio));
  const sizeSum = sizes.reduce((a, b) => a + b, 0);
  const totalCapacity = rng.uniform(80, 900);
  const weighting = rng.pick(WEIGHTINGS);
  const successRate = rng.pick(R.successRates);
  const drafts = sizes.map((size, i): DraftCluster => {
    const capacity = round((totalCapacity * size) / sizeSum, 1);
    return { name: `c${i}`, capacity, endpoints: Math.min(R.endpoints[1], Math.max(R.endpoints[0], Math.round(capacity / rng.uniform(5, 60)))) };
  });
  // Base offered rate per cluster, rps (its weight, in whole requests/s).
  const u = () => rng.uniform(R.baseUtilisation[0], R.baseUtilisation[1]);
  let rates: number[];
  if (weighting === "proportional") {
    const fleet = u();
    rates = drafts.map((c) => c.capacity * Math.min(R.baseUtilisation[1], fleet * rng.uniform(0.9, 1.1)));
  } else if (weighting === "equal") {
    const smallest = Math.min(...drafts.map((c) => c.capacity));
    const each = smallest * u();
    rates = drafts.map(() => each);
  } else rates = drafts.map((c) => c.capacity * u());
  const weights = rates.map((r) => Math.max(1, Math.round(r)));
  const baseRps = weights.reduce((a, b) => a + b, 0);
  const maxU = Math.max(...drafts.map((c, i) => weights[i]! / c.capacity));
  const clusters = drafts.map((c, i) => {
    const p50 = round(Math.exp(rng.uniform(Math.log(R.p50Ms[0]), Math.log(R.p50Ms[1]))));
    return {
      name: c.name,
      weight: weights[i]!,
      endpoints: c.endpoints,
      capacity_rps: c.capacity,
      latency_ms: { p50, p99: Math.max(p50 + 1, round(p50 * rng.uniform(R.p99OverP50[0], R.p99OverP50[1]))) },
      error_rate: round(rng.uniform(0, (1 - successRate) / 3), 6),
    };
  });
  const slowestP99 = Math.max(...clusters.map((c) => c.latency_ms.p99));
  const latencySlo = Math.ceil(slowestP99 * rng.uniform(R.sloOverSlowestP99[0], R.sloOverSlowestP99[1]));

  // Traffic: steps of 0.4–1.6 × the base rate and an optional wave, the highest point at most
  // peakOverCapacity × the busiest cluster's capacity.
  const peakFactor = R.peakOverCapacity / maxU;
  const wave = rng.chance(0.4) ? { period_s: rng.int(R.wavePeriodS[0], R.wavePeriodS[1]), amplitude: round(rng.uniform(0.05, 0.6), 2) } : undefined;
  const waveTop = 1 + (wave?.amplitude ?? 0);
  const stepCount = faultFree ? rng.int(0, 1) : rng.int(R.trafficSteps[0], R.trafficSteps[1]);
  const stepTimes = Array.from({ length: stepCount }, () => rng.int(10, Math.max(11, durationS - 30))).sort((a, b) => a - b);
  const traffic: JsonObject[] = [{ at_s: 0, rps: round(baseRps, 1), ...(wave ? { wave } : {}) }];
  for (const at of stepTimes) {
    const factor = Math.min(rng.uniform(R.stepFactor[0], R.stepFactor[1]), peakFactor / waveTop);
    traffic.push({ at_s: at, rps: round(baseRps * factor, 1), ...(rng.chance(0.5) ? { ramp_s: rng.int(1, 120) } : {}), ...(wave ? { wave } : {}) });
  }
  if (wave !== undefined && waveTop > peakFactor) wave.amplitude = Math.max(0, Math.floor((peakFactor - 1) * 100) / 100);

  const faults: JsonObject[] = [];
  const notes: string[] = [];
  const faultCount = faultFree ? 0 : rng.int(R.faults[0], R.faults[1]);
  for (let f = 0; f < faultCount; f++) {
    const kind = rng.pick(SHIFTED_FAULT_KINDS);
    const first = rng.int(0, clusterCount - 1);
    const atS = rng.int(R.firstFaultS, Math.max(R.firstFaultS + 1, durationS - 30));
    let template = shiftedFault(rng, kind, drafts[first]!, atS, durationS);
    const repeat = rng.chance(0.2);
    if (repeat) template = withRepeat(rng, template, durationS);
    faults.push(template);
    const hit = [first];
    if (clusterCount >= 2 && kind !== "slow_host" && rng.chance(0.3)) {
      for (let i = 0; i < clusterCount; i++) {
        if (i === first || !rng.chance(0.6)) continue;
        const copy = cascadeCopy(rng, template, drafts[i]!, durationS);
        if (copy.repeat !== undefined) delete copy.repeat;
        faults.push(repeat ? withRepeat(rng, copy, durationS) : copy);
        hit.push(i);
      }
    }
    notes.push(`${kind}${repeat ? " repeating" : ""} on ${hit.map((i) => drafts[i]!.name).join("+")}`);
  }

  const windowS = rng.int(R.windowS[0], R.windowS[1]);
  const sidecars = rng.int(R.sidecars[0], R.sidecars[1]);
  const shape = [
    `${clusterCount} clusters`, `${weighting} weights`, `${sidecars} sidecars`, `window ${windowS} s`, `base ${Math.round(maxU * 100)}% busiest`,
    ...(wave && wave.amplitude > 0 ? [`wave ±${Math.round(wave.amplitude * 100)}%`] : []), ...(stepCount > 0 ? [`${stepCount} traffic steps`] : []),
    faultCount === 0 ? (faultFree ? "long fault-free run" : "no fault") : notes.join(", "),
  ];
  const raw: JsonObject = {
    name,
    description: `generated (shifted family): ${shape.join("; ")}`,
    seed,
    duration_s: durationS,
    window_s: windowS,
    sidecars,
    slo: { latency_ms: latencySlo, success_rate: successRate, client_timeout_ms: Math.max(latencySlo + 100, round(latencySlo * rng.uniform(1.2, 4), -2)) },
    clusters,
    traffic,
    faults,
  };
  const llm = llmGenerator(seed, options.llmShare ?? 0);
  if (llm !== null) raw.description = `${raw.description as string}; ${addStreams(llm, raw, faultFree)}`;
  const reports = addLoadReports(seed, options.loadReportShare ?? 0, raw);
  if (reports !== null) raw.description = `${raw.description as string}; ${reports}`;
  return parseScenario(raw, `<${name}>`);
}

function checkCount(seed: number, count: number): void {
  if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`seed must be a whole number >= 0, got ${seed}`);
  if (!Number.isSafeInteger(count) || count < 1) throw new RangeError(`count must be a whole number >= 1, got ${count}`);
}

/**
 * The shifted family's check scenarios from `seed` (an offset into its seed range): scenario i has
 * simulator seed SHIFTED_SEED_BASE + seed + i and its parameters from a generator seeded with it.
 */
export function shiftedScenarios(seed: number, count: number, options: GenerateOptions = {}): Scenario[] {
  checkCount(seed, count);
  if (seed + count > SEED_SPAN) throw new RangeError(`seed + count must be at most ${SEED_SPAN} (the shifted family's seed range), got ${seed + count}`);
  return Array.from({ length: count }, (_, i) => {
    const simSeed = SHIFTED_SEED_BASE + seed + i;
    return buildShifted(createRng(simSeed), `shifted-${simSeed}`, simSeed, options);
  });
}

/** Tuning scenarios of the shifted family: simulator seeds from the eval range, drawn by a generator seeded with `seed`. */
export function shiftedTuningScenarios(seed: number, count: number, options: GenerateOptions = {}): Scenario[] {
  checkCount(seed, count);
  const rng = createRng(seed);
  return Array.from({ length: count }, (_, i) => buildShifted(rng, `shifted-eval-${i}`, SEED_BASE.eval + (rng.u32() % SEED_SPAN), options));
}
