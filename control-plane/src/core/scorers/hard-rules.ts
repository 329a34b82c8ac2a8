// Hard rules on the newest window of each cluster: the failure rate above a threshold (5% by
// default) and p99 above the SLO, each only when significant for the window's request count.
// A hard verdict is evidence enough to open a breaker (with the N-of-M filter's hardN).
import type { DetectorConfig } from "../config.js";
import type { ClusterWindowStats, Scorer, ScoreResult, Slo } from "../types.js";
import { significantlyAbove } from "./significance.js";

export class HardRuleScorer implements Scorer {
  readonly name = "hard_rules";

  constructor(
    private readonly slo: Slo,
    private readonly config: Pick<DetectorConfig, "errorRateThreshold" | "minErrors" | "p99SloFactor" | "significanceZ" | "minRequests">,
  ) {}

  score(history: ReadonlyMap<string, readonly ClusterWindowStats[]>): Map<string, ScoreResult> {
    const out = new Map<string, ScoreResult>();
    for (const [cluster, windows] of history) out.set(cluster, this.scoreWindow(windows.at(-1)));
    return out;
  }

  /** Verdict on one window (exported for tests and the model's features). */
  scoreWindow(w: ClusterWindowStats | undefined): ScoreResult {
    const c = this.config;
    if (w === undefined || w.requests < Math.max(1, c.minRequests)) return { score: 0, hard: false, reasons: [] };
    const reasons: string[] = [];
    const failures = Math.round(w.errorRate * w.requests);
    const errorsHigh =
      w.errorRate > c.errorRateThreshold &&
      failures >= c.minErrors &&
      significantlyAbove(failures, w.requests, c.errorRateThreshold, c.significanceZ);
    if (errorsHigh) reasons.push(`error rate ${(w.errorRate * 100).toFixed(1)}% > ${(c.errorRateThreshold * 100).toFixed(1)}%`);
    const limitMs = this.slo.latencyMs * c.p99SloFactor;
    // p99 > limit means more than 1% of requests were slower than the limit.
    const slow = w.slowRequests ?? (w.p99Ms > limitMs ? w.requests * 0.011 : 0);
    const slowHigh = w.p99Ms > limitMs && significantlyAbove(slow, w.requests, 0.01, c.significanceZ);
    if (slowHigh) reasons.push(`p99 ${Math.round(w.p99Ms)}ms > slo ${Math.round(limitMs)}ms`);
    if (reasons.length > 0) return { score: 1, hard: true, reasons };
    // Below the rules: a graded score, never reaching an alarm on its own.
    const closeness = Math.max(w.errorRate / Math.max(c.errorRateThreshold, 1e-9), Number.isNaN(w.p99Ms) ? 0 : w.p99Ms / limitMs);
    return { score: Math.min(0.45, Math.max(0, closeness) * 0.45), hard: false, reasons: [] };
  }
}
