// What sidecars actually do next to what the control plane intends: per cluster, the share of
// requests the sidecars reported over the latest windows, and the share of the weights sent in
// the current decision set. After a restart a sidecar that refused every decision set kept its
// old weights: the page said 50/50 while the reports said 1 vs 18 requests/s. Pure: plain data in,
// plain data out.
import type { ClusterStatus, DecisionSet } from "../core/types.js";

/** Merged windows the measured share is summed over (5 s at 1 s windows). */
export const MEASURED_WINDOWS = 5;
/** A measured share this far (share points, [0, 1]) from the sent share is flagged... */
export const DIVERGENCE_SHARE = 0.15;
/** ...once the windows hold at least this many requests in all (fewer is noise). */
export const DIVERGENCE_MIN_REQUESTS = 50;

export interface TrafficShare {
  cluster: string;
  /** Weight in the current decision set. */
  sent_weight: number;
  /** sent_weight over the sum of weights, [0, 1]; null when every weight is 0. */
  sent_share: number | null;
  /** Requests the sidecars reported for this cluster in the windows. */
  measured_requests: number;
  /** measured_requests over the requests of every cluster in the same windows, [0, 1]; null
   *  when no cluster had a request. */
  measured_share: number | null;
  /** measured_requests per second over the windows (null without windows). */
  measured_rps: number | null;
  /** Merged windows counted (at most MEASURED_WINDOWS). */
  windows: number;
  /** The measured share is more than DIVERGENCE_SHARE away from the sent share, over at least
   *  DIVERGENCE_MIN_REQUESTS requests. */
  diverges: boolean;
}

export function trafficShares(statuses: readonly ClusterStatus[], decisions: DecisionSet, windows = MEASURED_WINDOWS): TrafficShare[] {
  const weightOf = new Map(decisions.clusters.map((d) => [d.cluster, d.weight]));
  const totalWeight = [...weightOf.values()].reduce((a, w) => a + w, 0);
  const measured = statuses.map((s) => {
    // Every merged window holds every cluster (zeros without traffic: core/aggregator.ts), so
    // each cluster's newest windows are the same windows.
    const counted = windows > 0 ? s.recent.slice(-windows) : [];
    return {
      cluster: s.cluster,
      windows: counted.length,
      requests: counted.reduce((a, w) => a + w.requests, 0),
      seconds: counted.reduce((a, w) => a + w.windowLengthMs, 0) / 1000,
    };
  });
  const totalRequests = measured.reduce((a, m) => a + m.requests, 0);
  return measured.map((m) => {
    const sentWeight = weightOf.get(m.cluster) ?? 0;
    const sentShare = totalWeight > 0 ? sentWeight / totalWeight : null;
    const measuredShare = totalRequests > 0 ? m.requests / totalRequests : null;
    return {
      cluster: m.cluster,
      sent_weight: sentWeight,
      sent_share: sentShare,
      measured_requests: m.requests,
      measured_share: measuredShare,
      measured_rps: m.seconds > 0 ? m.requests / m.seconds : null,
      windows: m.windows,
      diverges:
        sentShare !== null && measuredShare !== null && totalRequests >= DIVERGENCE_MIN_REQUESTS &&
        Math.abs(measuredShare - sentShare) > DIVERGENCE_SHARE,
    };
  });
}
