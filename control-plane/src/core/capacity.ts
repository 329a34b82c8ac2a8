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

export class CapacityEstimator {
  private baselineP50 = NaN;
  private safeRps = 0;
  private kneeRps = Infinity;
  private windows = 0;
  private usualBad = NaN;

  constructor(private readonly config: Pick<WeightConfig, "nearBaselineFactor" | "kneeFactor" | "exploreGrowth" | "kneeUtilisation">) {}

  /** Learns from one merged window; `failing` windows (errors) teach nothing about capacity. */
  update(w: ClusterWindowStats, minRequests: number, failing: boolean): void {
    this.safeRps *= SAFE_DECAY;
    if (Number.isFinite(this.kneeRps)) this.kneeRps *= KNEE_RELAX;
    this.learnUsualBad(w, minRequests);
    // The latency load drives: time to first token for streamed answers (assessment.ts).
    const p50 = loadLatencyP50Ms(w);
    if (w.requests < Math.max(1, minRequests) || !Number.isFinite(p50) || failing) return;
    this.windows++;
    if (Number.isNaN(this.baselineP50)) this.baselineP50 = p50;
    const near = p50 <= this.baselineP50 * this.config.nearBaselineFactor;
    // The baseline follows low values fast and high ones slowly, and only at loads seen safe.
    if (p50 < this.baselineP50) this.baselineP50 += 0.2 * (p50 - this.baselineP50);
    else if (near && w.rps <= Math.max(this.safeRps, 1) * 1.05) this.baselineP50 += 0.02 * (p50 - this.baselineP50);
    if (near) {
      this.safeRps = Math.max(this.safeRps, w.rps);
      if (w.rps >= this.kneeRps) this.kneeRps = Infinity; // latency fine above the old knee: forget it
      // Latency fine close under the knee: the knee is re-tested one exploration step above this
      // load. A knee seen during a fault (capacity lost for a while) would otherwise bind long
      // after the cluster recovered, since the limit keeps its load under the knee and so never
      // lets it show that the knee moved.
      else if (Number.isFinite(this.kneeRps)) this.kneeRps = Math.max(this.kneeRps, w.rps * (1 + this.config.exploreGrowth));
    } else if (p50 >= this.baselineP50 * this.config.kneeFactor && w.rps >= this.safeRps * 0.9) {
      // Slow at a load at or above what was seen safe: load-driven, a knee.
      this.kneeRps = Math.min(this.kneeRps, Math.max(w.rps, this.safeRps));
    }
  }

  /**
   * The cluster's usual bad fraction (failed or slower than the SLO): it follows a fall within a
   * few windows and a rise only over BAD_RISE_TIME_S, so a fault shows as the excess over it while
   * a cluster that is always a little slower than the others (the operator weighted it knowing
   * that) shows none.
   */
  private learnUsualBad(w: ClusterWindowStats, minRequests: number): void {
    if (w.requests < Math.max(1, minRequests)) return;
    const x = badRequests(w) / w.requests;
    if (Number.isNaN(this.usualBad)) this.usualBad = x;
    else if (x < this.usualBad) this.usualBad += BAD_FALL_RATE * (x - this.usualBad);
    else this.usualBad += Math.min(1, w.windowLengthMs / 1000 / BAD_RISE_TIME_S) * (x - this.usualBad);
  }

  estimate(): CapacityEstimate {
    const explore = this.safeRps * (1 + this.config.exploreGrowth);
    const limit = Number.isFinite(this.kneeRps) ? Math.min(explore, this.kneeRps * this.config.kneeUtilisation) : explore;
    return { baselineP50Ms: this.baselineP50, safeRps: this.safeRps, kneeRps: this.kneeRps, limitRps: this.windows === 0 ? Infinity : limit, usualBadFraction: this.usualBad };
  }
}
