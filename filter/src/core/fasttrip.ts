// Fast trip: a worker holds a cluster out of its weighted pick, for holdMs, as soon as that
// cluster fails `threshold` requests in a row, without waiting for the control plane's next
// round (which comes a telemetry window later at best: a hard outage would otherwise fail every
// request sent to the cluster until then). It is Envoy's consecutive-5xx outlier detection
// (outlier_detection.consecutive_5xx, default 5) at the level of a cluster, with two bounds so
// that it cannot do harm on its own:
//   - a hold is short (about one decision round): after it the plan's state applies again, and
//     the control plane, which has seen the failures in its windows, decides;
//   - as Envoy's panic threshold (healthy_panic_threshold, default 50 %) routes to all hosts when
//     too few look healthy, held clusters are not held when they carry more than half of the
//     plan's weight among the clusters that take traffic (a shared dependency failing everywhere
//     must not push everything onto the last cluster).
// Pure: the caller passes the time (milliseconds) with every call.
import { STATE_OPEN } from "./breakerstate";

export class FastTrip {
  /** Failures in a row per cluster since its last success (or its last trip). */
  private consecutive: StaticArray<i32>;
  /** When a cluster's hold ends, ms (0: not held). */
  private untilMs: StaticArray<u64>;
  /** The plan's states with held clusters open (reused). */
  private held: StaticArray<i32>;
  /** Clusters with a hold not yet seen to end. */
  active: i32 = 0;
  private threshold: i32;
  private holdMs: u64;

  /** threshold 0: never trips (the feature is off and costs one comparison per request). */
  constructor(size: i32, threshold: i32, holdMs: u64) {
    this.consecutive = new StaticArray<i32>(size);
    this.untilMs = new StaticArray<u64>(size);
    this.held = new StaticArray<i32>(size);
    this.threshold = threshold;
    this.holdMs = holdMs;
  }

  /** Records an upstream outcome of cluster i; returns true when it trips the cluster now. */
  record(i: i32, failed: bool, nowMs: u64): bool {
    if (this.threshold <= 0) return false;
    if (!failed) {
      unchecked((this.consecutive[i] = 0));
      return false;
    }
    const n = unchecked(this.consecutive[i]) + 1;
    if (n < this.threshold) {
      unchecked((this.consecutive[i] = n));
      return false;
    }
    unchecked((this.consecutive[i] = 0));
    if (unchecked(this.untilMs[i]) != 0) return false; // already held (late completions)
    unchecked((this.untilMs[i] = nowMs + this.holdMs));
    this.active++;
    return true;
  }

  /**
   * The states to route by: `states` itself when no cluster is held (or holding would take more
   * than half of the weight of the clusters that take traffic), else a copy with the held
   * clusters open. Ends the holds that are over.
   */
  apply(states: StaticArray<i32>, weights: StaticArray<u32>, nowMs: u64): StaticArray<i32> {
    let open: u64 = 0;
    let heldWeight: u64 = 0;
    for (let i = 0; i < states.length; i++) {
      const until = unchecked(this.untilMs[i]);
      if (until != 0 && nowMs >= until) {
        unchecked((this.untilMs[i] = 0));
        this.active--;
      }
      if (unchecked(states[i]) == STATE_OPEN) continue;
      const w = <u64>unchecked(weights[i]);
      open += w;
      if (unchecked(this.untilMs[i]) != 0) heldWeight += w;
    }
    if (heldWeight == 0 || heldWeight * 2 > open) return states;
    const held = this.held;
    for (let i = 0; i < states.length; i++) {
      unchecked((held[i] = unchecked(this.untilMs[i]) != 0 ? STATE_OPEN : unchecked(states[i])));
    }
    return held;
  }
}
