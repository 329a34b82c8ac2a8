// Each cluster's safe throughput, estimated from its latency against its load (the time to first
// token where streamed answers dominate: assessment.ts loadLatencyP50Ms): the highest load
// seen with latency near the low-load baseline (safe), and the load at which latency rose well
// above baseline while load was at a new high (the knee). The weights never push a cluster past
// `limitRps`: below the knee when one is known, else a step above the safe load (explore
// gradually: each window at a higher load with good latency raises the safe level).
import type { WeightConfig } from "./config.js";
import { badRequests, loadLatencyP50Ms } from "./planner/assessment.js";
import type { CapacityEstimate, ClusterWindowStats } from "./types.js";

/** Per window, the safe level decays this much so an old peak is not trusted forever. */
const SAFE_DECAY = 0.999;
/** Per window, a known knee relaxes upward by this factor (capacity may have grown). */
const KNEE_RELAX = 1.002;
/** Seconds over which the usual bad fraction follows a rise (a fault must last about this long to
 *  be taken for the cluster's normal); a fall it follows at once (BAD_FALL_RATE per window). */
const BAD_RISE_TIME_S = 3600;
const BAD_FALL_RATE = 0.2;

/** Most thin windows pooled in a row; a pool still short of minRequests after them is dropped. */
export const POOL_WINDOWS = 10;

/** Thin windows added up: requests, bad requests, seconds, requests served (rps × s), and the
 *  sum of each window's median latency (ms) times its requests. */
interface ThinPool {
  requests: number;
  bad: number;
  seconds: number;
  served: number;
  p50Sum: number;
  windows: number;
}

export class CapacityEstimator {
  private baselineP50 = NaN;
  private safeRps = 0;
  private kneeRps = Infinity;
  private windows = 0;
  private usualBad = NaN;
  /** Thin windows pooled so far (fewer than minRequests each), undefined when none. */
  private pool: ThinPool | undefined;

  constructor(private readonly config: Pick<WeightConfig, "nearBaselineFactor" | "kneeFactor" | "exploreGrowth" | "kneeUtilisation">) {}

  /**
   * Learns from one merged window; `failing` windows (errors) teach nothing about capacity. A
   * window with fewer than `minRequests` requests is pooled with the following ones (at most
   * POOL_WINDOWS in a row) until the pool holds minRequests, as the hard rules pool thin windows:
   * a small cluster (a few requests per window) would otherwise never show its capacity, and an
   * unknown capacity is explored a step at a time from whatever load it carries now.
   */
  update(w: ClusterWindowStats, minRequests: number, failing: boolean): void {
    this.safeRps *= SAFE_DECAY;
    if (Number.isFinite(this.kneeRps)) this.kneeRps *= KNEE_RELAX;
    const need = Math.max(1, minRequests);
    // The latency load drives: time to first token for streamed answers (assessment.ts).
    const p50 = loadLatencyP50Ms(w);
    if (w.requests >= need) {
      this.pool = undefined;
      this.learnUsualBad(badRequests(w) / w.requests, w.windowLengthMs);
      if (Number.isFinite(p50) && !failing) this.learn(w.rps, p50);
      return;
    }
    if (w.requests === 0) return;
    if (failing || !Number.isFinite(p50)) {
      this.pool = undefined;
      return;
    }
    const pool = this.pool ?? { requests: 0, bad: 0, seconds: 0, served: 0, p50Sum: 0, windows: 0 };
    const seconds = w.windowLengthMs / 1000;
    pool.requests += w.requests;
    pool.bad += badRequests(w);
    pool.seconds += seconds;
    pool.served += w.rps * seconds;
    pool.p50Sum += p50 * w.requests;
    pool.windows++;
    if (pool.requests >= need) {
      this.pool = undefined;
      this.learnUsualBad(pool.bad / pool.requests, pool.seconds * 1000);
      // The pool's load is its mean rate; its latency the request-weighted mean of its medians.
      if (pool.seconds > 0) this.learn(pool.served / pool.seconds, pool.p50Sum / pool.requests);
    } else {
      this.pool = pool.windows >= POOL_WINDOWS ? undefined : pool;
    }
  }

  /** One observation of load (rps) and the median latency it drove (ms). */
  private learn(rps: number, p50: number): void {
    this.windows++;
    if (Number.isNaN(this.baselineP50)) this.baselineP50 = p50;
    const near = p50 <= this.baselineP50 * this.config.nearBaselineFactor;
    // The baseline follows low values fast and high ones slowly, and only at loads seen safe.
    if (p50 < this.baselineP50) this.baselineP50 += 0.2 * (p50 - this.baselineP50);
    else if (near && rps <= Math.max(this.safeRps, 1) * 1.05) this.baselineP50 += 0.02 * (p50 - this.baselineP50);
    if (near) {
      this.safeRps = Math.max(this.safeRps, rps);
      if (rps >= this.kneeRps) this.kneeRps = Infinity; // latency fine above the old knee: forget it
      // Latency fine close under the knee: the knee is re-tested one exploration step above this
      // load. A knee seen during a fault (capacity lost for a while) would otherwise bind long
      // after the cluster recovered, since the limit keeps its load under the knee and so never
      // lets it show that the knee moved.
      else if (Number.isFinite(this.kneeRps)) this.kneeRps = Math.max(this.kneeRps, rps * (1 + this.config.exploreGrowth));
    } else if (p50 >= this.baselineP50 * this.config.kneeFactor && rps >= this.safeRps * 0.9) {
      // Slow at a load at or above what was seen safe: load-driven, a knee.
      this.kneeRps = Math.min(this.kneeRps, Math.max(rps, this.safeRps));
    }
  }

  /**
   * The cluster's usual bad fraction (failed or slower than the SLO): it follows a fall within a
   * few windows and a rise only over BAD_RISE_TIME_S, so a fault shows as the excess over it while
   * a cluster that is always a little slower than the others (the operator weighted it knowing
   * that) shows none.
   */
  private learnUsualBad(x: number, lengthMs: number): void {
    if (Number.isNaN(this.usualBad)) this.usualBad = x;
    else if (x < this.usualBad) this.usualBad += BAD_FALL_RATE * (x - this.usualBad);
    else this.usualBad += Math.min(1, lengthMs / 1000 / BAD_RISE_TIME_S) * (x - this.usualBad);
  }

  estimate(): CapacityEstimate {
    const explore = this.safeRps * (1 + this.config.exploreGrowth);
    const limit = Number.isFinite(this.kneeRps) ? Math.min(explore, this.kneeRps * this.config.kneeUtilisation) : explore;
    return { baselineP50Ms: this.baselineP50, safeRps: this.safeRps, kneeRps: this.kneeRps, limitRps: this.windows === 0 ? Infinity : limit, usualBadFraction: this.usualBad };
  }
}
