// Tuning parameters of the decision core, their defaults and their validation.
//
// Every parameter is general (no scenario-specific values): thresholds are relative to each
// cluster's own baseline or to the SLO, counts are in windows, times in milliseconds.
import { ControlPlaneError } from "./errors.js";

export interface AggregationConfig {
  /** A window closes this long after its end even if some expected reporter is missing, ms. */
  closeDelayMs: number;
  /** A report for a closed window is still folded in up to this long after the window end, ms. */
  lateGraceMs: number;
  /** A reporter not heard from for this long is no longer expected (it vanished), ms. */
  reporterTtlMs: number;
  /** Merged windows kept per cluster (history the scorers see). */
  historyWindows: number;
  /**
   * Largest clock difference tolerated between a reporter and the control plane, ms. A report
   * whose window starts further ahead of the control plane's clock, or ended more than
   * lateGraceMs + this before it, is refused (core/report-admission.ts).
   */
  maxClockSkewMs: number;
}

export interface DetectorConfig {
  /** Hard rule: error rate above this (fraction) in a window with enough requests. */
  errorRateThreshold: number;
  /** Hard rule on errors also needs at least this many failed requests in the window. */
  minErrors: number;
  /** Hard rule: p99 above slo.latencyMs × this factor. */
  p99SloFactor: number;
  /** Hard rules need the excess to be significant: count > n·rate + z·sqrt(n·rate·(1 - rate)). */
  significanceZ: number;
  /** Windows with fewer requests carry no evidence either way. */
  minRequests: number;
  /** Stream objectives (slo.ttftMs, slo.tpotMs) are judged on at least this many streams:
   *  thinner windows are pooled with the following ones (streams/stream-slo-scorer.ts). */
  minStreams: number;
  /** EWMA smoothing of the dynamic baselines per window (0, 1]. */
  ewmaAlpha: number;
  /** Dynamic threshold: alert at mean + k·σ. */
  sigmaK: number;
  /** …and only when the value is also at least this multiple of the mean (noise floor). */
  minRelativeRise: number;
  /** Windows of data before a dynamic baseline may alert. */
  warmupWindows: number;
  /** Trend: windows in the least-squares slope of p95. */
  trendWindows: number;
  /** Trend: a p95 projected past the SLO within this horizon counts as a risk, ms. */
  trendHorizonMs: number;
  /** A window is anomalous when the combined score reaches this. */
  scoreThreshold: number;
  /** N-of-M filter: open after N anomalous windows among the last M (with enough requests). */
  n: number;
  m: number;
  /** Hard-rule windows needed among the last M to open. */
  hardN: number;
  /** After a breaker closes, soft (non-hard) evidence cannot reopen it for this long, ms. */
  cooldownMs: number;
  /** Multiplier on the model scorer's score before it is combined (1: as is). */
  modelWeight: number;
}

export interface BreakerConfig {
  /** First open period, ms; each re-opening multiplies it by openBackoff, up to openMaxMs. */
  openBaseMs: number;
  openBackoff: number;
  openMaxMs: number;
  /** Openings are forgotten after this long closed, ms. */
  openingsResetMs: number;
  /** Healthy half-open windows needed to close. */
  healthyProbeWindows: number;
  /** Probe windows need this many requests to count as healthy (fewer: neither). */
  minProbeRequests: number;
  /**
   * Failure rate of the newest window (or of the hard rules' pooled evidence) at which a breaker
   * opens at once, if the others serve its share better; also the share of the newest window's
   * requests that failed or were slower than the latency objective, for the same.
   */
  severeErrorRate: number;
}

export interface WeightConfig {
  /** Sum of weights in a decision set when no cluster is open (integer scale of shares). One unit
   *  of it is also the planner's share resolution: a gap to a base share below it is rounding
   *  (planner/toward-base.ts). */
  totalWeight: number;
  /** Smallest share of a closed or half-open cluster (probe traffic), fraction of the total. */
  probeFloorShare: number;
  /** Latency p50 within baseline × this counts as "near baseline" (safe throughput). */
  nearBaselineFactor: number;
  /** Latency p50 above baseline × this at a new high load marks the knee. */
  kneeFactor: number;
  /** A cluster may take up to safeRps × (1 + this) while its knee is unknown; a hard outage opens
   *  at once only if the others take its whole load within kneeRps × (1 + this) (breaker-rules.ts). */
  exploreGrowth: number;
  /** Fraction of the knee throughput the weights aim to stay under. */
  kneeUtilisation: number;
  /** Planner: share moved per step, fraction of the total. */
  planStep: number;
  /** Planner: most one cluster's share moves per round, fraction of the total. */
  planMaxStep: number;
  /** Planner: predicted gain per moved request a move must clear beyond the noise, fraction. */
  minGain: number;
  /** Planner: rounds after a share moved during which it does not move back. */
  reversalRounds: number;
  /** Planner: rounds after a share moved during which it does not move at all. */
  settleRounds: number;
}

export interface DecisionConfig {
  /** ttl_ms of every decision set, ms. */
  ttlMs: number;
  /** Real-time mode: decision rounds at least this often, ms. */
  decideIntervalMs: number;
  /** Re-send the current set to a stream still behind after this long, ms. */
  resendAfterMs: number;
  /** Decision sets waiting per stream before drop-to-latest (queue bound). */
  sendQueueLimit: number;
}

/** Who sends the traffic (core/sources/): how long the merged sources are kept, and when a
 *  source's share or rate counts as a jump (mean + sigmaK·σ over its history, n of m windows,
 *  then a cooldown), as the breakers' evidence is filtered. */
export interface SourcesConfig {
  /** Windows of merged sources kept (GET /v1/sources looks back at most this far). */
  keepWindows: number;
  /** Standard deviations above its mean at which a source's share or rate has jumped. */
  sigmaK: number;
  /** Jumped windows (with evidence) among a source's last m that flag it. */
  n: number;
  m: number;
  /** After a flag clears, the same source is not flagged again for this long, ms. */
  cooldownMs: number;
  /** A window in which a source sent fewer requests carries no evidence. */
  minRequests: number;
  /** Windows of a source's history its mean and σ are taken over. */
  historyWindows: number;
  /** Windows of history needed before a source can be flagged. */
  minHistory: number;
  /** Sources followed for flags at most (the least recently seen are dropped first). */
  maxTracked: number;
}

export interface CoreConfig {
  aggregation: AggregationConfig;
  detector: DetectorConfig;
  breaker: BreakerConfig;
  weights: WeightConfig;
  decision: DecisionConfig;
  sources: SourcesConfig;
}

export type PartialCoreConfig = { [K in keyof CoreConfig]?: Partial<CoreConfig[K]> };

export const DEFAULT_CONFIG: CoreConfig = {
  aggregation: { closeDelayMs: 500, lateGraceMs: 3000, reporterTtlMs: 5000, historyWindows: 120, maxClockSkewMs: 5000 },
  detector: {
    errorRateThreshold: 0.05,
    minErrors: 5,
    p99SloFactor: 1,
    significanceZ: 2,
    minRequests: 20,
    minStreams: 20,
    ewmaAlpha: 0.05,
    sigmaK: 4,
    minRelativeRise: 1.5,
    warmupWindows: 20,
    trendWindows: 10,
    trendHorizonMs: 30_000,
    scoreThreshold: 0.5,
    n: 3,
    m: 5,
    hardN: 2,
    cooldownMs: 30_000,
    modelWeight: 1,
  },
  breaker: {
    openBaseMs: 5_000,
    openBackoff: 2,
    openMaxMs: 40_000,
    openingsResetMs: 300_000,
    healthyProbeWindows: 3,
    minProbeRequests: 5,
    severeErrorRate: 0.5,
  },
  weights: {
    totalWeight: 1000,
    probeFloorShare: 0.05,
    nearBaselineFactor: 1.25,
    kneeFactor: 1.6,
    exploreGrowth: 0.3,
    kneeUtilisation: 0.95,
    planStep: 0.05,
    planMaxStep: 0.1,
    minGain: 0.005,
    reversalRounds: 4,
    settleRounds: 2,
  },
  decision: { ttlMs: 30_000, decideIntervalMs: 1_000, resendAfterMs: 5_000, sendQueueLimit: 2 },
  sources: { keepWindows: 300, sigmaK: 3, n: 3, m: 5, cooldownMs: 300_000, minRequests: 20, historyWindows: 60, minHistory: 10, maxTracked: 1000 },
};

/**
 * The accepted values of a tuning parameter: a finite number, an integer when `integer`, within
 * the bounds given (`exclusiveMin`/`exclusiveMax`: the bound itself is refused). The file's JSON
 * Schema for the detector and breaker sections is derived from these ranges (config/schema/).
 */
export interface ParamRange {
  integer?: boolean;
  min?: number;
  exclusiveMin?: boolean;
  max?: number;
  exclusiveMax?: boolean;
}

const positive: ParamRange = { min: 0, exclusiveMin: true };
const nonNegative: ParamRange = { min: 0 };
const fraction: ParamRange = { min: 0, max: 1 };
const positiveInt: ParamRange = { integer: true, min: 1 };
const nonNegativeInt: ParamRange = { integer: true, min: 0 };

/** Every parameter's range, section by section (a key missing here is a type error). */
export const PARAM_RANGES: { readonly [S in keyof CoreConfig]: Readonly<Record<keyof CoreConfig[S], ParamRange>> } = {
  aggregation: {
    closeDelayMs: nonNegative,
    lateGraceMs: nonNegative,
    reporterTtlMs: positive,
    historyWindows: positiveInt,
    maxClockSkewMs: nonNegative,
  },
  detector: {
    errorRateThreshold: fraction,
    minErrors: nonNegative,
    p99SloFactor: positive,
    significanceZ: nonNegative,
    minRequests: nonNegative,
    minStreams: positiveInt,
    ewmaAlpha: { min: 0, exclusiveMin: true, max: 1 },
    sigmaK: positive,
    minRelativeRise: { min: 1 },
    warmupWindows: nonNegative,
    trendWindows: { integer: true, min: 3 },
    trendHorizonMs: nonNegative,
    scoreThreshold: { min: 0, exclusiveMin: true, max: 1 },
    n: positiveInt,
    m: positiveInt,
    hardN: positiveInt,
    cooldownMs: nonNegative,
    modelWeight: nonNegative,
  },
  breaker: {
    openBaseMs: positive,
    openBackoff: { min: 1 },
    openMaxMs: positive,
    openingsResetMs: nonNegative,
    healthyProbeWindows: positiveInt,
    minProbeRequests: nonNegative,
    severeErrorRate: fraction,
  },
  weights: {
    totalWeight: { integer: true, min: 100 },
    probeFloorShare: { min: 0, exclusiveMin: true, max: 1, exclusiveMax: true },
    nearBaselineFactor: { min: 1 },
    kneeFactor: { min: 1, exclusiveMin: true },
    exploreGrowth: nonNegative,
    kneeUtilisation: { min: 0, exclusiveMin: true, max: 1 },
    planStep: { min: 0, exclusiveMin: true, max: 0.5 },
    planMaxStep: { min: 0, exclusiveMin: true, max: 1 },
    minGain: fraction,
    reversalRounds: nonNegativeInt,
    settleRounds: nonNegativeInt,
  },
  decision: {
    ttlMs: { integer: true, min: 0, exclusiveMin: true, max: 2 ** 32, exclusiveMax: true },
    decideIntervalMs: positive,
    resendAfterMs: positive,
    sendQueueLimit: positiveInt,
  },
  sources: {
    keepWindows: { integer: true, min: 1, max: 3600 },
    sigmaK: positive,
    n: positiveInt,
    m: positiveInt,
    cooldownMs: nonNegative,
    minRequests: nonNegative,
    historyWindows: { integer: true, min: 2, max: 3600 },
    minHistory: { integer: true, min: 2 },
    maxTracked: { integer: true, min: 1, max: 100_000 },
  },
};

/** A parameter that must not exceed (`atMost`) or fall below (`atLeast`) another of its section. */
export interface ParamRelation {
  section: keyof CoreConfig;
  key: string;
  atMost?: string;
  atLeast?: string;
}

export const PARAM_RELATIONS: readonly ParamRelation[] = [
  { section: "detector", key: "n", atMost: "m" },
  { section: "detector", key: "hardN", atMost: "m" },
  { section: "breaker", key: "openMaxMs", atLeast: "openBaseMs" },
  { section: "sources", key: "n", atMost: "m" },
  { section: "sources", key: "minHistory", atMost: "historyWindows" },
];

/** "an integer > 0", "in (0, 1]", ">= 1": how an error message states a range. */
export function rangeText(range: ParamRange): string {
  const lower = range.min === undefined ? undefined : `${range.exclusiveMin === true ? "(" : "["}${range.min}`;
  const upper = range.max === undefined ? undefined : `${range.max === 2 ** 32 ? "2^32" : range.max}${range.exclusiveMax === true ? ")" : "]"}`;
  let bounds: string;
  if (lower !== undefined && upper !== undefined) bounds = `in ${lower}, ${upper}`;
  else if (lower !== undefined) bounds = `${range.exclusiveMin === true ? ">" : ">="} ${range.min}`;
  else if (upper !== undefined) bounds = `${range.exclusiveMax === true ? "<" : "<="} ${range.max}`;
  else bounds = "finite";
  return range.integer === true ? `an integer ${bounds}` : bounds;
}

export function inRange(value: number, range: ParamRange): boolean {
  if (!Number.isFinite(value)) return false;
  if (range.integer === true && !Number.isInteger(value)) return false;
  if (range.min !== undefined && (range.exclusiveMin === true ? value <= range.min : value < range.min)) return false;
  if (range.max !== undefined && (range.exclusiveMax === true ? value >= range.max : value > range.max)) return false;
  return true;
}

/** Names a parameter in a message; the core says `config.detector.hardN`, the file `detector.hard_n`. */
export type ParamNamer = (section: keyof CoreConfig, key: string) => string;

const coreName: ParamNamer = (section, key) => `config.${section}.${key}`;

/** Every problem of a complete configuration: values out of range, then broken relations. */
export function coreConfigProblems(config: CoreConfig, name: ParamNamer = coreName): string[] {
  const problems: string[] = [];
  for (const section of Object.keys(PARAM_RANGES) as (keyof CoreConfig)[]) {
    const values = config[section] as unknown as Record<string, unknown>;
    for (const [key, range] of Object.entries(PARAM_RANGES[section]) as [string, ParamRange][]) {
      const value = values[key];
      if (typeof value !== "number" || !inRange(value, range)) {
        problems.push(`${name(section, key)}: expected ${rangeText(range)}, got ${JSON.stringify(value)}`);
      }
    }
  }
  for (const { section, key, atMost, atLeast } of PARAM_RELATIONS) {
    const values = config[section] as unknown as Record<string, number>;
    const other = atMost ?? atLeast!;
    const [value, bound] = [values[key]!, values[other]!];
    if (!Number.isFinite(value) || !Number.isFinite(bound)) continue;
    if (atMost !== undefined && value > bound) problems.push(`${name(section, key)}: must not exceed ${name(section, other)} (${bound}), got ${value}`);
    if (atLeast !== undefined && value < bound) problems.push(`${name(section, key)}: must be at least ${name(section, other)} (${bound}), got ${value}`);
  }
  return problems;
}

/**
 * Fills in defaults and validates. Throws ControlPlaneError CP_ERR_CONFIG listing every bad
 * field, "; "-separated (e.g. "config.detector.n: expected an integer >= 1, got -1").
 */
export function resolveConfig(partial: PartialCoreConfig = {}): CoreConfig {
  const out = {} as Record<keyof CoreConfig, Record<string, number>>;
  const problems: string[] = [];
  for (const section of Object.keys(DEFAULT_CONFIG) as (keyof CoreConfig)[]) {
    const given = (partial as Record<string, unknown>)[section];
    const defaults = DEFAULT_CONFIG[section] as unknown as Record<string, number>;
    if (given !== undefined && (typeof given !== "object" || given === null || Array.isArray(given))) {
      problems.push(`config.${section}: expected an object`);
      out[section] = { ...defaults };
      continue;
    }
    for (const key of Object.keys((given ?? {}) as object)) {
      if (!(key in defaults)) problems.push(`config.${section}.${key}: unknown parameter; known: ${Object.keys(defaults).join(", ")}`);
    }
    out[section] = { ...defaults, ...(given as Record<string, number> | undefined) };
  }
  const config = out as unknown as CoreConfig;
  problems.push(...coreConfigProblems(config));
  if (problems.length > 0) throw new ControlPlaneError("CP_ERR_CONFIG", problems.join("; "));
  return config;
}
