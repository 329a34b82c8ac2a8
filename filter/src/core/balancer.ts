// Smooth weighted round-robin (as nginx's upstream module does it) over the clusters a plan
// allows, per worker. Each pick adds every eligible cluster's weight to its running score, takes
// the highest, and subtracts the total from it: over any W picks (W = sum of weights) each
// cluster is chosen exactly weight times, interleaved rather than in runs.
//
// Open clusters are skipped. A half-open cluster is picked at its full weight, but only
// probe_fraction of those picks are admitted (a deterministic credit accumulator); the rest are
// re-picked among the closed clusters with a second score table, so the closed ones share the
// remainder in proportion to their weights.
//
// Each worker takes a random phase in every new set of weights, not only in its first: workers
// of every sidecar receive a decision set at about the same moment, and scores left from other
// weights (the configuration's sum to 100, the control plane's to 1000) are too small to keep
// them apart, so they would all start the new sequence in step and send the mesh's requests for
// a small cluster in bursts (all of it in one window, none in the next).
import { Rng } from "./rng";
import { STATE_CLOSED, STATE_HALF_OPEN, STATE_OPEN } from "./breakerstate";

/** What the balancer asks about a half-open cluster before admitting a request to it. */
export interface HalfOpenGate {
  /** True to admit this request to half-open cluster i as a probe. */
  admit(i: i32): bool;
}

/** The result of a pick: the cluster index, or NONE; `rejectedBy` names the half-open cluster
 *  that declined the request when nothing else could take it (-1 otherwise). */
export const NONE: i32 = -1;

export class Balancer {
  readonly size: i32;
  /** Scores of the first pass (closed + half-open at full weight). */
  private scores: StaticArray<i64>;
  /** Scores of the re-pick among closed clusters. */
  private closedScores: StaticArray<i64>;
  /** Scores of the pick that ignores breakers (to attribute rejected requests). */
  private anyScores: StaticArray<i64>;
  /** Set by pick(): the half-open cluster that declined, or NONE. */
  rejectedBy: i32 = NONE;
  /** Draws each new phase (the worker's generator). */
  rng: Rng;
  /** The weights of the last pick (a plan's array; a new plan is a new array). */
  private lastWeights: StaticArray<u32> | null = null;

  constructor(size: i32, rng: Rng) {
    this.size = size;
    this.rng = rng;
    this.scores = new StaticArray<i64>(size);
    this.closedScores = new StaticArray<i64>(size);
    this.anyScores = new StaticArray<i64>(size);
  }

  /**
   * Starts the sequence at a random phase: a random number (below the weights' sum, at most
   * 1024) of picks is made and discarded, so workers do not all begin on the same cluster.
   */
  desynchronise(weights: StaticArray<u32>, states: StaticArray<i32>, rng: Rng): void {
    let total: u64 = 0;
    for (let i = 0; i < this.size; i++) total += <u64>unchecked(weights[i]);
    const skips = <i32>rng.below(total < 1024 ? total : 1024);
    for (let k = 0; k < skips; k++) {
      swrr(this.scores, weights, states, true);
      swrr(this.closedScores, weights, states, false);
      this.pickIgnoringState(weights);
    }
  }

  /**
   * Picks a cluster by weights and states (STATE_*), or NONE when nothing can take the request.
   */
  pick(weights: StaticArray<u32>, states: StaticArray<i32>, gate: HalfOpenGate): i32 {
    this.rejectedBy = NONE;
    if (weights !== this.lastWeights) this.follow(weights, states);
    const first = swrr(this.scores, weights, states, true);
    if (first == NONE) return NONE;
    if (unchecked(states[first]) != STATE_HALF_OPEN) return first;
    if (gate.admit(first)) return first;
    const second = swrr(this.closedScores, weights, states, false);
    if (second == NONE) this.rejectedBy = first;
    return second;
  }

  /** Weights other than the last pick's: a new random phase when their values differ. */
  private follow(weights: StaticArray<u32>, states: StaticArray<i32>): void {
    const last = this.lastWeights;
    this.lastWeights = weights;
    if (last !== null && sameWeights(last as StaticArray<u32>, weights)) return;
    this.desynchronise(weights, states, this.rng);
  }

  /** Picks by weights alone, ignoring breakers (for attributing rejected requests). */
  pickIgnoringState(weights: StaticArray<u32>): i32 {
    let best = NONE;
    let total: i64 = 0;
    for (let i = 0; i < this.size; i++) {
      const w = <i64>unchecked(weights[i]);
      if (w == 0) continue;
      const s = unchecked(this.anyScores[i]) + w;
      unchecked((this.anyScores[i] = s));
      total += w;
      if (best == NONE || s > unchecked(this.anyScores[best])) best = i;
    }
    if (best != NONE) unchecked((this.anyScores[best] = this.anyScores[best] - total));
    return best;
  }
}

function sameWeights(a: StaticArray<u32>, b: StaticArray<u32>): bool {
  if (a.length != b.length) return false;
  for (let i = 0; i < a.length; i++) if (unchecked(a[i]) != unchecked(b[i])) return false;
  return true;
}

/** One smooth weighted round-robin step over eligible clusters; NONE when none is eligible. */
function swrr(scores: StaticArray<i64>, weights: StaticArray<u32>, states: StaticArray<i32>, withHalfOpen: bool): i32 {
  let best = NONE;
  let total: i64 = 0;
  const n = scores.length;
  for (let i = 0; i < n; i++) {
    const w = <i64>unchecked(weights[i]);
    if (w == 0) continue;
    const state = unchecked(states[i]);
    if (state == STATE_OPEN) continue;
    if (state != STATE_CLOSED && !(withHalfOpen && state == STATE_HALF_OPEN)) continue;
    const s = unchecked(scores[i]) + w;
    unchecked((scores[i] = s));
    total += w;
    if (best == NONE || s > unchecked(scores[best])) best = i;
  }
  if (best != NONE) unchecked((scores[best] = scores[best] - total));
  return best;
}

/** Admits a deterministic fraction of requests: credit grows by the fraction per call. */
export class ProbeCredit {
  private credit: StaticArray<f64>;

  constructor(size: i32) {
    this.credit = new StaticArray<f64>(size);
  }

  /** True for `fraction` (0, 1] of the calls for cluster i, spread evenly. */
  take(i: i32, fraction: f64): bool {
    let c = unchecked(this.credit[i]) + fraction;
    if (c >= 1.0) {
      unchecked((this.credit[i] = c - 1.0));
      return true;
    }
    unchecked((this.credit[i] = c));
    return false;
  }

  reset(i: i32): void {
    unchecked((this.credit[i] = 0));
  }
}
