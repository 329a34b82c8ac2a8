// A cluster's capacity as its own upstreams report it (ORCA load reports on their responses:
// filter/src/core/orca.ts, merged per window in upstream-load.ts), pure.
//
// A server that reports its utilisation says how much of its capacity the load it was offered
// used; the load over the utilisation is then the load it can take in all. That is what Envoy's
// client-side weighted round robin makes of the same reports (weight = rps_fractional /
// utilisation: source/extensions/load_balancing_policies/common/orca_weight_manager.cc,
// calculateWeightFromOrcaReport), with the utilisation read the way it reads it when no named
// metric is configured: application_utilization when above 0, else cpu_utilization.
//
// Without reports (most fleets today), or with too few, nothing here applies and the planner
// learns capacity from latency against load alone (capacity.ts).
import type { ClusterWindowStats } from "../types.js";

/** Utilisation below this is read as this: a nearly idle server's report says more about its idle
 *  overhead than its capacity, and dividing by it would trust the cluster with many times its load. */
export const REPORTED_UTILISATION_FLOOR = 0.1;
/** Fewest reports, over the pooled windows, for the capacity to count (each report speaks for one
 *  host's window, and a handful can come from one host). */
export const MIN_REPORTS = 20;
/** Of its requests, the share that must have carried a report (a cluster half of whose hosts run a
 *  build that does not report is judged on latency, as before). */
export const MIN_REPORTED_SHARE = 0.5;

/** A window's utilisation as Envoy's weighted round robin reads a report; undefined: none carried. */
export function windowUtilisation(w: ClusterWindowStats): { utilisation: number; reports: number } | undefined {
  const load = w.upstreamLoad;
  if (load === undefined) return undefined;
  const app = load.mean.applicationUtilization;
  if (app !== undefined && app > 0) return { utilisation: app, reports: load.count.applicationUtilization ?? 0 };
  const cpu = load.mean.cpuUtilization;
  if (cpu !== undefined && cpu > 0) return { utilisation: cpu, reports: load.count.cpuUtilization ?? 0 };
  return undefined;
}

/**
 * The load the cluster's upstreams say it can take at utilisation 1, requests per second. A
 * server's report describes its recent past (the simulator's: its last completed window, written
 * with the response headers), so each window's reports are paired with the requests sent in the
 * window before (`sentRps`: per window, counted as they start, as a server counts its arrivals):
 * paired with the same window, a load just moved onto the cluster would meet reports from before
 * it came and make the cluster look far larger than it is. Over `windows` (oldest first; the
 * newest pair weighs 1, each older one `decay` less), the sum of those loads over the sum of their
 * utilisations. Undefined without enough reports (MIN_REPORTS, MIN_REPORTED_SHARE of the
 * requests).
 */
export function reportedCapacityRps(windows: readonly ClusterWindowStats[], decay: number, sentRps: (w: ClusterWindowStats) => number): number | undefined {
  let load = 0;
  let utilisation = 0;
  let reports = 0;
  let requests = 0;
  let weight = 1;
  for (let i = windows.length - 1; i >= 1; i--) {
    const w = windows[i]!;
    requests += w.requests;
    const reported = windowUtilisation(w);
    if (reported !== undefined && reported.reports > 0) {
      load += weight * sentRps(windows[i - 1]!);
      utilisation += weight * Math.max(REPORTED_UTILISATION_FLOOR, reported.utilisation);
      reports += reported.reports;
    }
    weight *= decay;
  }
  if (reports < MIN_REPORTS || reports < MIN_REPORTED_SHARE * requests || !(utilisation > 0)) return undefined;
  return load / utilisation;
}
