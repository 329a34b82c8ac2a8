// How fast a cluster answers the requests sent to it now, read apart from the slow requests it
// ends now that were sent earlier (pure arithmetic).
//
// A window's latency histogram holds the requests that ended in it, however long ago they
// started: after a load peak, the peak's slow requests keep ending for as long as they took, and
// a window in the trough that follows reads slow although the requests sent in it are answered
// fast. The filter also counts, of the requests sent in a window, those that completed before its
// end (proto ClusterWindow.sent_ended). In a steady state the two agree: a request of latency s
// sent at a uniformly random moment of a window of length W ends in it with probability
// max(0, 1 − s/W), so the share of a window's requests that end in it is the mean of that over
// the latencies of the requests that end in it (impliedShare). Where clearly more of the window's
// own requests ended than the ended requests' latencies imply, the slow ones among those are
// older than the window: they describe an earlier time (slownessIsStale).
import { bucketBounds } from "./latency-buckets.js";

export interface Promptness {
  /** Requests sent to the cluster in the window (counted as they start). */
  sent: number;
  /** Of them, the share that completed upstream before the window's end, [0, 1]. */
  endedShare: number;
  /** The share the latencies of the window's ended requests imply, [0, 1] (see above). */
  impliedShare: number;
  /** Ended requests the implied share was read from (the merged histogram's count). */
  ended: number;
}

/**
 * The share of requests sent uniformly over a window of windowUs microseconds that end within it,
 * if their latencies are distributed as the histogram `counts` (index = bucket, total values):
 * the mean of max(0, 1 − s / windowUs), each bucket at its middle. NaN when empty.
 */
export function impliedEndedShare(counts: ArrayLike<number>, total: number, windowUs: number): number {
  if (!(total > 0) || !(windowUs > 0)) return NaN;
  let sum = 0;
  for (let b = 0; b < counts.length; b++) {
    const c = counts[b]!;
    if (c === 0) continue;
    const [lo, hi] = bucketBounds(b);
    const mid = (lo + hi) / 2;
    if (mid >= windowUs) break;
    sum += c * (1 - mid / windowUs);
  }
  return sum / total;
}

/** Fewest requests sent, and ended, for a window's promptness to be judged. */
export const PROMPTNESS_MIN_REQUESTS = 50;
/** Standard errors by which the ended share must exceed the implied one for slownessIsStale. */
export const PROMPTNESS_Z = 3;

/**
 * The window's slow requests are older than it: clearly more of the requests sent in the window
 * ended in it than the latencies of its ended requests imply (by PROMPTNESS_Z standard errors of
 * the two binomial shares), on at least PROMPTNESS_MIN_REQUESTS of each. False without promptness.
 */
export function slownessIsStale(p: Promptness | undefined): boolean {
  return promptnessZ(p) > PROMPTNESS_Z;
}

/** (ended share − implied share) in standard errors; 0 when it cannot be judged. */
function promptnessZ(p: Promptness | undefined): number {
  if (p === undefined || p.sent < PROMPTNESS_MIN_REQUESTS || p.ended < PROMPTNESS_MIN_REQUESTS) return 0;
  if (!Number.isFinite(p.impliedShare) || !Number.isFinite(p.endedShare)) return 0;
  const q = Math.min(1 - 1 / p.sent, Math.max(1 / p.sent, p.impliedShare));
  const se = Math.sqrt(q * (1 - q) * (1 / p.sent + 1 / p.ended));
  return (p.endedShare - p.impliedShare) / se;
}
