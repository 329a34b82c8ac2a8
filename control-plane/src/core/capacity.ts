// Each cluster's safe throughput, estimated from its latency against its load (the time to first
// token where streamed answers dominate: assessment.ts loadLatencyP50Ms): the highest load
// seen with latency near the low-load baseline (safe), and the load at which latency rose well
// above baseline while load was at a new high (the knee). The weights never push a cluster past
// `limitRps`: below the knee when one is known, else a step above the safe load (explore
// gradually: each sample at a higher load with good latency raises the safe level), and no step
// above it where the cluster's latency follows its own load's swings (latency-elasticity.ts: it
// runs close to its capacity). Latency is judged on samples of windows pooled to
// CAPACITY_POOL_REQUESTS requests, so that one thin window's noisy median marks no knee.
import type { WeightConfig } from "./config.js";
import { badRequests, loadLatencyP50Ms } from "./planner/assessment.js";
import type { CapacityEstimate, ClusterWindowStats } from "./types.js";
import { LatencyElasticity } from "./latency-elasticity.js";

/** Per window, the safe level decays this much so an old peak is not trusted forever. */
const SAFE_DECAY = 0.999;
/** Per window, a known knee relaxes upward by this factor (capacity may have grown). */
const KNEE_RELAX = 1.002;
/** Seconds over which the usual bad fraction follows a rise (a fault must last about this long to
 *  be taken for the cluster's normal); a significant fall it follows at once (BAD_FALL_RATE per
 *  pooled sample). */
const BAD_RISE_TIME_S = 3600;
const BAD_FALL_RATE = 0.2;
/** Requests pooled into one sample of the usual bad fraction. */
const USUAL_POOL_REQUESTS = 200;
/** Standard errors below the usual level a sample must lie to count as a fall (not noise). */
const USUAL_FALL_Z = 2;
/** Elasticity of the median latency to the load (latency-elasticity.ts) above which a cluster is
 *  taken to run close to its capacity: an M/M/1 queue's at a third of its capacity, steeper
 *  queues' (many servers) well past half of it. */
export const NEAR_CAPACITY_ELASTICITY = 0.5;
/** Standard errors the elasticity must clear NEAR_CAPACITY_ELASTICITY by. */
const ELASTICITY_Z = 2;
/** Fewest latency samples the elasticity is judged on. */
const ELASTICITY_MIN_SAMPLES = 10;
/** Requests a latency sample pools before the capacity learns from it (learnLatency). */
export const CAPACITY_POOL_REQUESTS = 200;
/** Most windows a latency sample pools: a cluster with few requests still learns, from samples
 *  of this many windows (its median then as noisy as its windows allow). */
export const CAPACITY_POOL_WINDOWS = 10;
/** Consecutive samples with latency near its baseline at or above a known knee that forget the
 *  knee. One is not enough: a queue takes time to build, so the first sample after a step up in
 *  load still shows the latency of the load before it (a server past its capacity queues the
 *  excess, and its queue, growing by the excess each second, is short at first); one such sample
 *  forgot a knee the cluster then showed again at once, after the severe rule had opened a
 *  neighbour onto it on the room the forgotten knee left (generalization-notes.md, "2026-12-07,
 *  seventeenth round"). */
const KNEE_FORGET_SAMPLES = 2;
/** Per sample, how far the usual level follows a sample within USUAL_FALL_Z standard errors. */
const USUAL_NOISE_RATE = 0.05;

export class CapacityEstimator {
  private baselineP50 = NaN;
  private safeRps = 0;
  private kneeRps = Infinity;
  private windows = 0;
  private usualBad = NaN;
  /** Windows pooled into the next sample of the usual bad fraction: requests, bad ones, seconds. */
  private usualPool = { requests: 0, bad: 0, seconds: 0 };
  /** Fewest requests a window needs to be judged (the detector's minRequests), for the first level. */
  private usualMinRequests = 1;
  /** How its latency moved with its load over its recent samples (latency-elasticity.ts). */
  private readonly elasticity = new LatencyElasticity();
  /** Its latency follows its load's swings (judged when a sample is added, read by estimate()). */
  private nearCapacity = false;
  /** Consecutive latency samples near the baseline at or above the knee (KNEE_FORGET_SAMPLES). */
  private fastSamplesAboveKnee = 0;
  /** Windows pooled into the next latency sample (learnLatency): requests, requests served (rps × s),
   *  seconds, the sum of each window's median latency (ms) times its requests, windows. */
  private latencyPool: { requests: number; served: number; seconds: number; p50Sum: number; windows: number } | undefined;

  constructor(private readonly config: Pick<WeightConfig, "nearBaselineFactor" | "kneeFactor" | "exploreGrowth" | "kneeUtilisation">) {}

  /** Learns from one merged window; `failing` windows (errors) and windows missing a reporter's
   *  report teach nothing about capacity. Windows are pooled into samples of at least
   *  CAPACITY_POOL_REQUESTS requests before their latency is judged (learnLatency). */
  update(w: ClusterWindowStats, minRequests: number, failing: boolean): void {
    this.safeRps *= SAFE_DECAY;
    if (Number.isFinite(this.kneeRps)) this.kneeRps *= KNEE_RELAX;
    this.learnUsualBad(w, minRequests);
    // The latency load drives: time to first token for streamed answers (assessment.ts).
    const p50 = loadLatencyP50Ms(w);
    // A window some live reporter did not report holds only part of the load: its rate would
    // put a safe level or a knee at a load the cluster never had.
    if (w.requests <= 0) return;
    if (!Number.isFinite(p50) || failing || (w.missingReporters ?? 0) > 0) {
      this.latencyPool = undefined;
      if (failing && (w.missingReporters ?? 0) === 0 && w.requests >= Math.max(1, minRequests)) this.learnOverloadKnee(w.rps, p50);
      return;
    }
    const pool = this.latencyPool ?? { requests: 0, served: 0, seconds: 0, p50Sum: 0, windows: 0 };
    const seconds = w.windowLengthMs / 1000;
    pool.requests += w.requests;
    pool.served += w.rps * seconds;
    pool.seconds += seconds;
    pool.p50Sum += p50 * w.requests;
    pool.windows++;
    if (pool.requests < CAPACITY_POOL_REQUESTS && pool.windows < CAPACITY_POOL_WINDOWS) {
      this.latencyPool = pool;
      return;
    }
    this.latencyPool = undefined;
    // A sample of fewer than minRequests requests (a cluster that thin) teaches nothing.
    if (pool.requests < Math.max(1, minRequests)) return;
    // The sample's load is its mean rate; its latency the request-weighted mean of its medians.
    if (pool.seconds > 0) this.learnLatency(pool.served / pool.seconds, pool.p50Sum / pool.requests);
  }

  /**
   * One sample of load (rps) and the median latency it drove (ms): the baseline, the safe level
   * and the knee. A sample pools windows to CAPACITY_POOL_REQUESTS requests because a thin
   * window's median is noisy: at 50 requests of a log-normal latency with p99 seven times its
   * p50, one window's median is off by 15 % (one standard error), the baseline (which follows low
   * values fast) settles near the low end of that spread, and now and then a window reads 1.6
   * times it (the knee factor) at an ordinary load: a knee from noise, that bounds the cluster
   * below the load it carries well (traced on the tuning batches: a cluster at a quarter of its
   * capacity trusted with none of a failing neighbour's traffic).
   */
  private learnLatency(rps: number, p50: number): void {
    this.windows++;
    if (Number.isNaN(this.baselineP50)) this.baselineP50 = p50;
    // Only samples below the knee factor: a fault's or a knee's slowdown says nothing of how the
    // cluster's latency follows its load in its usual regime.
    if (p50 < this.baselineP50 * this.config.kneeFactor) {
      this.elasticity.add(rps, p50);
      const e = this.elasticity.estimate();
      this.nearCapacity = e.samples >= ELASTICITY_MIN_SAMPLES && e.slope - ELASTICITY_Z * e.standardError > NEAR_CAPACITY_ELASTICITY;
    }
    const near = p50 <= this.baselineP50 * this.config.nearBaselineFactor;
    // The baseline follows low values fast and high ones slowly, and only at loads seen safe.
    if (p50 < this.baselineP50) this.baselineP50 += 0.2 * (p50 - this.baselineP50);
    else if (near && rps <= Math.max(this.safeRps, 1) * 1.05) this.baselineP50 += 0.02 * (p50 - this.baselineP50);
    this.fastSamplesAboveKnee = near && rps >= this.kneeRps ? this.fastSamplesAboveKnee + 1 : 0;
    if (near) {
      this.safeRps = Math.max(this.safeRps, rps);
      if (rps >= this.kneeRps) {
        // Latency fine above the old knee, held for KNEE_FORGET_SAMPLES samples: forget it.
        if (this.fastSamplesAboveKnee >= KNEE_FORGET_SAMPLES) {
          this.kneeRps = Infinity;
          this.fastSamplesAboveKnee = 0;
        }
      }
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
   * One failing window at `rps` with median latency `p50` (ms). A failing window teaches nothing
   * of the safe level (a fault fails as an overload does), but one failing at a load past the most
   * the cluster is ever trusted with without a knee (one exploration step above its safe level;
   * estimate() trusts it with less where its latency follows its load) and slow by the knee
   * factor is a knee there: its load is the likelier cause, and without it the cluster kept
   * being trusted with more while it failed from overload (traced on a surge past the mesh's
   * capacity: generalization-notes.md, "2026-12-06, sixth round"). A fault at such a load bounds
   * the cluster only at what it failed at, until it serves well close under it again (the knee is
   * re-tested then: learnLatency).
   */
  private learnOverloadKnee(rps: number, p50: number): void {
    if (!(this.safeRps > 0) || !Number.isFinite(p50) || !Number.isFinite(this.baselineP50)) return;
    if (rps > this.safeRps * (1 + this.config.exploreGrowth) && p50 >= this.baselineP50 * this.config.kneeFactor) this.kneeRps = Math.min(this.kneeRps, rps);
  }

  /**
   * The cluster's usual bad fraction (failed or slower than the SLO): it follows a significant
   * fall within a few samples and anything else only over BAD_RISE_TIME_S, so a fault shows as the
   * excess over it while a cluster that is always a little worse than the others (the operator
   * weighted it knowing that) shows none. Samples are windows pooled to USUAL_POOL_REQUESTS: a
   * tracker that followed every low window at once and high ones slowly would settle near the
   * low end of thin windows' spread (a steady 2.5 % learnt as 0.06 % at 60 requests a window),
   * and ordinary windows would then read as trouble.
   */
  private learnUsualBad(w: ClusterWindowStats, minRequests: number): void {
    if (w.requests <= 0) return;
    this.usualMinRequests = Math.max(1, minRequests);
    const pool = this.usualPool;
    pool.requests += w.requests;
    pool.bad += badRequests(w);
    pool.seconds += w.windowLengthMs / 1000;
    if (pool.requests < Math.max(USUAL_POOL_REQUESTS, minRequests)) return;
    const x = pool.bad / pool.requests;
    const riseRate = Math.min(1, pool.seconds / BAD_RISE_TIME_S);
    const n = pool.requests;
    this.usualPool = { requests: 0, bad: 0, seconds: 0 };
    if (Number.isNaN(this.usualBad)) {
      this.usualBad = x;
      return;
    }
    const u = this.usualBad;
    // The standard error of a sample at the usual level (at least one bad request in n).
    const se = Math.sqrt(Math.max(u, 1 / n) * (1 - u) / n);
    // A fall beyond the noise at once; within the noise either way at a moderate rate (an
    // unbiased mean); a rise beyond it only slowly (a fault is not the cluster's normal).
    const rate = x < u - USUAL_FALL_Z * se ? BAD_FALL_RATE : x <= u + USUAL_FALL_Z * se ? USUAL_NOISE_RATE : riseRate;
    this.usualBad += rate * (x - u);
  }

  estimate(): CapacityEstimate {
    // A cluster whose latency follows its own load's swings runs close to its capacity: no
    // load beyond what it served well is explored there (latency-elasticity.ts).
    const explore = this.safeRps * (1 + (this.nearCapacity ? 0 : this.config.exploreGrowth));
    const limit = Number.isFinite(this.kneeRps) ? Math.min(explore, this.kneeRps * this.config.kneeUtilisation) : explore;
    return {
      baselineP50Ms: this.baselineP50,
      safeRps: this.safeRps,
      kneeRps: this.kneeRps,
      limitRps: this.windows === 0 ? Infinity : limit,
      usualBadFraction: this.usualBadNow(),
    };
  }

  /**
   * The usual bad fraction; before the first full sample, the fraction of the requests pooled so
   * far (once they are enough to judge a window): a cluster's first windows are its usual level
   * until more is known, or every cluster a little worse than another would move at the start.
   */
  private usualBadNow(): number {
    const pool = this.usualPool;
    if (Number.isNaN(this.usualBad) && pool.requests >= this.usualMinRequests) return pool.bad / pool.requests;
    return this.usualBad;
  }
}
