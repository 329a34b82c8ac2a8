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
  /** Failure rate of the newest window at which a breaker opens at once (if the others serve its share better). */
  severeErrorRate: number;
}

export interface WeightConfig {
  /** Sum of weights in a decision set when no cluster is open (integer scale of shares). */
  totalWeight: number;
  /** Smallest share of a closed or half-open cluster (probe traffic), fraction of the total. */
  probeFloorShare: number;
  /** Latency p50 within baseline × this counts as "near baseline" (safe throughput). */
  nearBaselineFactor: number;
  /** Latency p50 above baseline × this at a new high load marks the knee. */
  kneeFactor: number;
  /** A cluster may take up to safeRps × (1 + this) while its knee is unknown. */
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

export interface CoreConfig {
  aggregation: AggregationConfig;
  detector: DetectorConfig;
  breaker: BreakerConfig;
  weights: WeightConfig;
  decision: DecisionConfig;
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
};

type Check = [section: keyof CoreConfig, key: string, ok: (v: number) => boolean, expected: string];

const positive = (v: number) => v > 0;
const nonNegative = (v: number) => v >= 0;
const fraction = (v: number) => v >= 0 && v <= 1;
const positiveInt = (v: number) => Number.isInteger(v) && v > 0;

const CHECKS: Check[] = [
  ["aggregation", "closeDelayMs", nonNegative, ">= 0"],
  ["aggregation", "lateGraceMs", nonNegative, ">= 0"],
  ["aggregation", "reporterTtlMs", positive, "> 0"],
  ["aggregation", "historyWindows", positiveInt, "an integer > 0"],
  ["aggregation", "maxClockSkewMs", nonNegative, ">= 0"],
  ["detector", "errorRateThreshold", fraction, "in [0, 1]"],
  ["detector", "minErrors", nonNegative, ">= 0"],
  ["detector", "p99SloFactor", positive, "> 0"],
  ["detector", "significanceZ", nonNegative, ">= 0"],
  ["detector", "minRequests", nonNegative, ">= 0"],
  ["detector", "ewmaAlpha", (v) => v > 0 && v <= 1, "in (0, 1]"],
  ["detector", "sigmaK", positive, "> 0"],
  ["detector", "minRelativeRise", (v) => v >= 1, ">= 1"],
  ["detector", "warmupWindows", nonNegative, ">= 0"],
  ["detector", "trendWindows", (v) => Number.isInteger(v) && v >= 3, "an integer >= 3"],
  ["detector", "trendHorizonMs", nonNegative, ">= 0"],
  ["detector", "scoreThreshold", (v) => v > 0 && v <= 1, "in (0, 1]"],
  ["detector", "n", positiveInt, "an integer > 0"],
  ["detector", "m", positiveInt, "an integer > 0"],
  ["detector", "hardN", positiveInt, "an integer > 0"],
  ["detector", "cooldownMs", nonNegative, ">= 0"],
  ["detector", "modelWeight", nonNegative, ">= 0"],
  ["breaker", "openBaseMs", positive, "> 0"],
  ["breaker", "openBackoff", (v) => v >= 1, ">= 1"],
  ["breaker", "openMaxMs", positive, "> 0"],
  ["breaker", "openingsResetMs", nonNegative, ">= 0"],
  ["breaker", "healthyProbeWindows", positiveInt, "an integer > 0"],
  ["breaker", "minProbeRequests", nonNegative, ">= 0"],
  ["breaker", "severeErrorRate", fraction, "in [0, 1]"],
  ["weights", "totalWeight", (v) => Number.isInteger(v) && v >= 100, "an integer >= 100"],
  ["weights", "probeFloorShare", (v) => v > 0 && v < 1, "in (0, 1)"],
  ["weights", "nearBaselineFactor", (v) => v >= 1, ">= 1"],
  ["weights", "kneeFactor", (v) => v > 1, "> 1"],
  ["weights", "exploreGrowth", nonNegative, ">= 0"],
  ["weights", "kneeUtilisation", (v) => v > 0 && v <= 1, "in (0, 1]"],
  ["weights", "planStep", (v) => v > 0 && v <= 0.5, "in (0, 0.5]"],
  ["weights", "planMaxStep", (v) => v > 0 && v <= 1, "in (0, 1]"],
  ["weights", "minGain", fraction, "in [0, 1]"],
  ["weights", "reversalRounds", (v) => Number.isInteger(v) && v >= 0, "an integer >= 0"],
  ["weights", "settleRounds", (v) => Number.isInteger(v) && v >= 0, "an integer >= 0"],
  ["decision", "ttlMs", (v) => Number.isInteger(v) && v > 0 && v < 2 ** 32, "an integer in (0, 2^32)"],
  ["decision", "decideIntervalMs", positive, "> 0"],
  ["decision", "resendAfterMs", positive, "> 0"],
  ["decision", "sendQueueLimit", positiveInt, "an integer > 0"],
];

/**
 * Fills in defaults and validates. Throws ControlPlaneError CP_ERR_CONFIG naming the first bad
 * field (e.g. "config.detector.n: expected an integer > 0, got -1").
 */
export function resolveConfig(partial: PartialCoreConfig = {}): CoreConfig {
  const out = {} as Record<keyof CoreConfig, Record<string, number>>;
  for (const section of Object.keys(DEFAULT_CONFIG) as (keyof CoreConfig)[]) {
    const given = (partial as Record<string, unknown>)[section];
    if (given !== undefined && (typeof given !== "object" || given === null || Array.isArray(given))) {
      throw new ControlPlaneError("CP_ERR_CONFIG", `config.${section}: expected an object`);
    }
    const defaults = DEFAULT_CONFIG[section] as unknown as Record<string, number>;
    for (const key of Object.keys((given ?? {}) as object)) {
      if (!(key in defaults)) {
        throw new ControlPlaneError(
          "CP_ERR_CONFIG",
          `config.${section}.${key}: unknown parameter; known: ${Object.keys(defaults).join(", ")}`,
        );
      }
    }
    out[section] = { ...defaults, ...(given as Record<string, number> | undefined) };
  }
  for (const [section, key, ok, expected] of CHECKS) {
    const value = out[section][key];
    if (typeof value !== "number" || Number.isNaN(value) || !ok(value)) {
      throw new ControlPlaneError(
        "CP_ERR_CONFIG",
        `config.${section}.${key}: expected ${expected}, got ${JSON.stringify(value)}`,
      );
    }
  }
  const config = out as unknown as CoreConfig;
  if (config.detector.n > config.detector.m || config.detector.hardN > config.detector.m) {
    throw new ControlPlaneError("CP_ERR_CONFIG", "config.detector.n and hardN: must not exceed m");
  }
  if (config.breaker.openMaxMs < config.breaker.openBaseMs) {
    throw new ControlPlaneError("CP_ERR_CONFIG", "config.breaker.openMaxMs: must be >= openBaseMs");
  }
  return config;
}
