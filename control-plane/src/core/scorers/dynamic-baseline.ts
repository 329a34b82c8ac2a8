// Dynamic thresholds: each cluster's own baseline (EWMA mean and deviation per metric), alerting
// at mean + k·σ when the value is also well above the mean (minRelativeRise), so that a cluster
// that is always slow is not anomalous while one that slows down is. Baselines learn only from
// windows that are not anomalous (frozen while anomalous) and have enough requests.
import type { DetectorConfig } from "../config.js";
import { EwmaStat } from "../ewma.js";
import type { ClusterWindowStats, Scorer, ScoreResult } from "../types.js";

type Metric = "p50Ms" | "p95Ms" | "p99Ms" | "errorRate";
const METRICS: readonly Metric[] = ["p50Ms", "p95Ms", "p99Ms", "errorRate"];

/** Quantile of each latency metric: it is judged only with at least 5 requests above it. */
const QUANTILE: Partial<Record<Metric, number>> = { p50Ms: 0.5, p95Ms: 0.95, p99Ms: 0.99 };

/** True when a window has enough requests for the metric to be more than noise. */
export function metricUsable(metric: Metric, requests: number): boolean {
  const q = QUANTILE[metric];
  return q === undefined || requests * (1 - q) >= 5;
}

/** Smallest σ a metric is judged with: a fraction of its mean (latency) or an absolute rate. */
function sigmaFloor(metric: Metric, mean: number): number {
  return metric === "errorRate" ? 0.01 : Math.max(mean * 0.05, 1);
}

interface ClusterBaseline {
  stats: Record<Metric, EwmaStat>;
  lastWindowStartMs: number;
  last: ScoreResult;
}

export type DynamicBaselineConfig = Pick<
  DetectorConfig,
  "ewmaAlpha" | "sigmaK" | "minRelativeRise" | "warmupWindows" | "minRequests" | "scoreThreshold"
>;

export class DynamicBaselineScorer implements Scorer {
  readonly name = "dynamic_baseline";
  private readonly clusters = new Map<string, ClusterBaseline>();

  constructor(private readonly config: DynamicBaselineConfig) {}

  score(history: ReadonlyMap<string, readonly ClusterWindowStats[]>): Map<string, ScoreResult> {
    const out = new Map<string, ScoreResult>();
    for (const [cluster, windows] of history) {
      let b = this.clusters.get(cluster);
      if (b === undefined) {
        const alpha = this.config.ewmaAlpha;
        b = {
          stats: { p50Ms: new EwmaStat(alpha), p95Ms: new EwmaStat(alpha), p99Ms: new EwmaStat(alpha), errorRate: new EwmaStat(alpha) },
          lastWindowStartMs: -Infinity,
          last: { score: 0, hard: false, reasons: [] },
        };
        this.clusters.set(cluster, b);
      }
      for (const w of windows) {
        if (w.windowStartMs <= b.lastWindowStartMs) continue;
        b.lastWindowStartMs = w.windowStartMs;
        if (w.requests < Math.max(1, this.config.minRequests)) {
          b.last = { score: 0, hard: false, reasons: [] };
          continue;
        }
        b.last = this.judge(b, w);
        if (b.last.score < this.config.scoreThreshold) for (const m of METRICS) if (metricUsable(m, w.requests)) b.stats[m].update(w[m]);
      }
      out.set(cluster, b.last);
    }
    return out;
  }

  /** Baseline mean of a metric for a cluster (NaN before any data), for status views. */
  baseline(cluster: string, metric: Metric): number {
    return this.clusters.get(cluster)?.stats[metric].mean ?? NaN;
  }

  private judge(b: ClusterBaseline, w: ClusterWindowStats): ScoreResult {
    const { sigmaK, minRelativeRise, warmupWindows } = this.config;
    let best = 0;
    const reasons: string[] = [];
    for (const m of METRICS) {
      const stat = b.stats[m];
      const value = w[m];
      if (stat.samples < warmupWindows || !Number.isFinite(value) || !Number.isFinite(stat.mean)) continue;
      if (!metricUsable(m, w.requests)) continue;
      const sigma = Math.max(stat.sigma, sigmaFloor(m, stat.mean));
      const z = (value - stat.mean) / sigma;
      // Relative rise; error rates compare against mean + 1 point so that 0.1% → 0.3% is not "3×".
      const rel = m === "errorRate" ? value / (stat.mean + 0.01) : value / Math.max(stat.mean, 1e-9);
      const zPart = z / sigmaK;
      const relPart = (rel - 1) / (minRelativeRise - 1 || 1);
      let s: number;
      if (zPart >= 1 && relPart >= 1) s = 0.5 + 0.5 * Math.min(1, (relPart - 1) / 2 + (zPart - 1) / 4);
      else s = 0.5 * Math.max(0, Math.min(zPart, relPart, 0.99));
      if (s >= 0.5) {
        reasons.push(
          m === "errorRate"
            ? `error rate ${(value * 100).toFixed(1)}% vs baseline ${(stat.mean * 100).toFixed(1)}%`
            : `${m.slice(0, 3)} ${Math.round(value)}ms vs baseline ${Math.round(stat.mean)}ms (+${z.toFixed(1)}σ)`,
        );
      }
      best = Math.max(best, s);
    }
    return { score: best, hard: false, reasons };
  }
}
