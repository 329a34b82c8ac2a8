// Early warning from slopes: a least-squares line through the recent p95 and p99 of a cluster;
// when the slope is significantly positive (t-statistic) and the line crosses the SLO latency
// within the horizon, the risk grows as the crossing nears.
import type { DetectorConfig } from "../config.js";
import type { ClusterWindowStats, Scorer, ScoreResult, Slo } from "../types.js";

/** t-statistic the slope needs before a trend counts. */
const MIN_SLOPE_T = 3;

export interface LineFit {
  /** Value of the line at the last point. */
  last: number;
  /** Per millisecond. */
  slope: number;
  /** Slope over its standard error (Infinity for a perfect fit). */
  t: number;
}

/** Least-squares line through (x, y) points; undefined with fewer than 3. */
export function fitLine(xs: readonly number[], ys: readonly number[]): LineFit | undefined {
  const n = xs.length;
  if (n < 3) return undefined;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < n; i++) {
    sxx += (xs[i]! - mx) ** 2;
    sxy += (xs[i]! - mx) * (ys[i]! - my);
  }
  if (sxx === 0) return undefined;
  const slope = sxy / sxx;
  const intercept = my - slope * mx;
  let sse = 0;
  for (let i = 0; i < n; i++) sse += (ys[i]! - (intercept + slope * xs[i]!)) ** 2;
  const se = Math.sqrt(sse / (n - 2) / sxx);
  return { last: intercept + slope * xs[n - 1]!, slope, t: se === 0 ? (slope === 0 ? 0 : Infinity) : slope / se };
}

export class TrendScorer implements Scorer {
  readonly name = "trend";

  constructor(
    private readonly slo: Slo,
    private readonly config: Pick<DetectorConfig, "trendWindows" | "trendHorizonMs" | "minRequests">,
  ) {}

  score(history: ReadonlyMap<string, readonly ClusterWindowStats[]>): Map<string, ScoreResult> {
    const out = new Map<string, ScoreResult>();
    for (const [cluster, windows] of history) out.set(cluster, this.scoreWindows(windows));
    return out;
  }

  scoreWindows(windows: readonly ClusterWindowStats[]): ScoreResult {
    const { trendWindows, trendHorizonMs, minRequests } = this.config;
    const recent = windows.slice(-trendWindows).filter((w) => w.requests >= Math.max(1, minRequests) && Number.isFinite(w.p99Ms));
    if (recent.length < Math.max(3, Math.ceil(trendWindows * 0.7))) return { score: 0, hard: false, reasons: [] };
    const xs = recent.map((w) => w.windowStartMs);
    let best: ScoreResult = { score: 0, hard: false, reasons: [] };
    for (const metric of ["p95Ms", "p99Ms"] as const) {
      // A quantile is judged only with at least 5 requests above it in every window used.
      const q = metric === "p95Ms" ? 0.95 : 0.99;
      if (recent.some((w) => w.requests * (1 - q) < 5)) continue;
      const fit = fitLine(xs, recent.map((w) => w[metric]));
      if (fit === undefined || fit.slope <= 0 || fit.t < MIN_SLOPE_T) continue;
      const limit = this.slo.latencyMs;
      if (fit.last >= limit) continue; // already over: the hard rule speaks
      const msToCross = (limit - fit.last) / fit.slope;
      if (msToCross > trendHorizonMs) continue;
      const score = 0.5 + 0.5 * (1 - msToCross / Math.max(trendHorizonMs, 1));
      if (score > best.score) {
        best = {
          score,
          hard: false,
          reasons: [`${metric.slice(0, 3)} rising ${(fit.slope * 1000).toFixed(0)}ms/s, crosses slo ${limit}ms in ${(msToCross / 1000).toFixed(0)}s`],
        };
      }
    }
    return best;
  }
}
