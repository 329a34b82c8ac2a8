// How long an open breaker waits before its first probe while the clusters carrying its share
// strain (pure): the wait ends once waiting has cost clients as much as a failed probe would.
//
// A probe sent to a cluster that is still down costs at most its probe requests: the half-open
// probe share of the mesh's load, for the one window it is judged on.
// Waiting costs the requests the other clusters serve badly beyond their usual level, each second
// it lasts (they carry the open cluster's share past what they were sized for). Once the two are
// equal, a probe is the cheaper bet even if it fails: the expected cost of this rule is at most
// twice that of knowing when the cluster comes back (the ski-rental argument). Without strain the
// breaker's backoff (breaker.ts) decides alone: probes into a cluster that is still failing then
// cost requests and buy nothing.
import { badFractionError, type LoadResponse } from "./planner/load-response.js";

export interface StrainedWaitInput {
  /** The mesh's offered load, requests per second (round-plan.ts meshLoadRps). */
  meshRps: number;
  /** Length of the window a probe is judged on, ms. */
  windowMs: number;
  /** Share of the mesh's load its first probe window gets, [0, 1] (round-plan.ts: the probe
   *  fraction of its base share, at least the floor, at most its base share). */
  probeShare: number;
  /** Bad requests per second the other closed clusters serve beyond their usual level. */
  excessBadRps: number;
}

/** The open wait, ms, from the moment the breaker opened: at least one window; Infinity when the
 *  others serve no worse than usual (no strain to weigh against a probe). */
export function strainedOpenWaitMs(input: StrainedWaitInput): number {
  if (!(input.excessBadRps > 0) || !(input.windowMs > 0)) return Infinity;
  const probeCost = input.probeShare * Math.max(0, input.meshRps) * (input.windowMs / 1000);
  return Math.max(input.windowMs, (probeCost / input.excessBadRps) * 1000);
}

/**
 * Bad requests per second the clusters serve beyond their usual level, from their load-response
 * models (planner/assessment.ts: pooled recent windows): for each, its bad fraction less its usual
 * one (capacity.ts) and `z` standard errors of it (thin windows are noisy; what noise puts above
 * the usual level is no strain), times its load.
 */
export function excessBadRps(responses: readonly LoadResponse[], z: number): number {
  let total = 0;
  for (const r of responses) {
    const excess = r.badFraction - (r.usualBadFraction ?? 0) - z * badFractionError(r);
    if (excess > 0 && r.loadRps > 0) total += excess * r.loadRps;
  }
  return total;
}
