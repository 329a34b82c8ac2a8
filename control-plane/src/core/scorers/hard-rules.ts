// Hard rules on each cluster's newest evidence: the failure rate above a threshold (5% by
// default) and p99 above the SLO, each only when significant for the request count.
// A hard verdict is evidence enough to open a breaker (with the N-of-M filter's hardN).
//
// Little traffic means little evidence, but not none: a window with fewer than minRequests is
// carried over and pooled with the following ones (at most M windows, never overlapping) until
// the pool holds minRequests; then the pool is judged once. A cluster serving 10 requests per
// window is judged every second window instead of never.
import type { DetectorConfig } from "../config.js";
import type { ClusterWindowStats, PooledEvidence, Scorer, ScoreResult, Slo } from "../types.js";
import { significantlyAbove } from "./significance.js";

/** Counts pooled over consecutive windows. */
interface Pool {
  requests: number;
  failures: number;
  /** Requests over the SLO latency; NaN when a pooled window did not say. */
  slow: number;
  /** Highest p99 of the pooled windows, ms (NaN when none had requests). */
  p99Ms: number;
  windows: number;
}

const EMPTY_POOL: Pool = { requests: 0, failures: 0, slow: 0, p99Ms: Number.NaN, windows: 0 };

/** Pool state of one cluster, keyed by the newest window it has seen (re-scoring a window is idempotent). */
interface PoolState {
  lastStartMs: number;
  /** The carry before the newest window was added (used again when that window is re-scored). */
  before: Pool;
  /** The carry after it (empty when the pool was judged). */
  after: Pool;
}

type HardRuleConfig = Pick<DetectorConfig, "errorRateThreshold" | "minErrors" | "p99SloFactor" | "significanceZ" | "minRequests" | "m">;

export class HardRuleScorer implements Scorer {
  readonly name = "hard_rules";
  private readonly pools = new Map<string, PoolState>();

  constructor(
    private readonly slo: Slo,
    private readonly config: HardRuleConfig,
  ) {}

  score(history: ReadonlyMap<string, readonly ClusterWindowStats[]>): Map<string, ScoreResult> {
    const out = new Map<string, ScoreResult>();
    for (const [cluster, windows] of history) out.set(cluster, this.scoreNewest(cluster, windows.at(-1)));
    return out;
  }

  /** Verdict on one window by itself (exported for tests and the model's features). */
  scoreWindow(w: ClusterWindowStats | undefined): ScoreResult {
    if (w === undefined) return { score: 0, hard: false, reasons: [] };
    return this.judge(addToPool(EMPTY_POOL, w));
  }

  private scoreNewest(cluster: string, latest: ClusterWindowStats | undefined): ScoreResult {
    if (latest === undefined) return { score: 0, hard: false, reasons: [] };
    const state = this.pools.get(cluster);
    let before: Pool = EMPTY_POOL;
    if (state !== undefined && latest.windowStartMs === state.lastStartMs) before = state.before;
    else if (state !== undefined && latest.windowStartMs > state.lastStartMs) before = state.after;
    // The pool spans at most M consecutive windows: older thin traffic says nothing about now.
    const maxWindows = Math.max(1, this.config.m);
    const gapWindows = state === undefined ? 0 : (latest.windowStartMs - state.lastStartMs) / Math.max(1, latest.windowLengthMs);
    if (before.windows >= maxWindows || gapWindows > maxWindows) before = EMPTY_POOL;
    const pooled = addToPool(before, latest);
    const enough = pooled.requests >= Math.max(1, this.config.minRequests);
    this.pools.set(cluster, { lastStartMs: latest.windowStartMs, before, after: enough ? EMPTY_POOL : pooled });
    if (!enough) return { score: 0, hard: false, reasons: [] };
    return this.judge(pooled);
  }

  private judge(pool: Pool): ScoreResult {
    const c = this.config;
    const evidence: PooledEvidence = {
      requests: pool.requests,
      errorRate: pool.requests === 0 ? 0 : pool.failures / pool.requests,
      windows: pool.windows,
    };
    if (pool.requests < Math.max(1, c.minRequests)) return { score: 0, hard: false, reasons: [] };
    const over = pool.windows > 1 ? ` over ${pool.windows} windows (${pool.requests} requests)` : "";
    const reasons: string[] = [];
    const errorsHigh =
      evidence.errorRate > c.errorRateThreshold &&
      pool.failures >= c.minErrors &&
      significantlyAbove(pool.failures, pool.requests, c.errorRateThreshold, c.significanceZ);
    if (errorsHigh) reasons.push(`error rate ${(evidence.errorRate * 100).toFixed(1)}% > ${(c.errorRateThreshold * 100).toFixed(1)}%${over}`);
    const limitMs = this.slo.latencyMs * c.p99SloFactor;
    // p99 > limit means more than 1% of requests were slower than the limit.
    const slow = Number.isFinite(pool.slow) ? pool.slow : pool.p99Ms > limitMs ? pool.requests * 0.011 : 0;
    const slowHigh = pool.p99Ms > limitMs && significantlyAbove(slow, pool.requests, 0.01, c.significanceZ);
    if (slowHigh) reasons.push(`p99 ${Math.round(pool.p99Ms)}ms > slo ${Math.round(limitMs)}ms${over}`);
    if (reasons.length > 0) return { score: 1, hard: true, reasons, evidence };
    // Below the rules: a graded score, never reaching an alarm on its own.
    const closeness = Math.max(evidence.errorRate / Math.max(c.errorRateThreshold, 1e-9), Number.isNaN(pool.p99Ms) ? 0 : pool.p99Ms / limitMs);
    return { score: Math.min(0.45, Math.max(0, closeness) * 0.45), hard: false, reasons: [], evidence };
  }
}

function addToPool(pool: Pool, w: ClusterWindowStats): Pool {
  const p99 = w.requests > 0 && Number.isFinite(w.p99Ms) ? w.p99Ms : Number.NaN;
  return {
    requests: pool.requests + w.requests,
    failures: pool.failures + Math.round(w.errorRate * w.requests),
    slow: w.slowRequests === undefined ? Number.NaN : pool.slow + w.slowRequests,
    p99Ms: Number.isNaN(pool.p99Ms) ? p99 : Number.isNaN(p99) ? pool.p99Ms : Math.max(pool.p99Ms, p99),
    windows: pool.windows + 1,
  };
}
