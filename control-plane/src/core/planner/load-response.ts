// A cluster's load–response model, learned online from its own merged windows (pure).
//
// "Bad" requests are those that hurt clients against the SLO: failed (5xx, timeouts, resets,
// gRPC errors) or slower than slo.latencyMs. For an offered load L (requests per second) the
// model predicts the fraction of bad requests:
//
//   - at the current load: what the cluster shows now (pooled recent windows);
//   - below it: no worse than now, and down to its fault fraction (the bad fraction it shows at
//     or below the load it was seen safe at) once the load is back at the safe level: an
//     overloaded cluster gets better when load leaves it, a faulty one does not;
//   - above it: what it shows now, rising further at the slope seen between the safe level and
//     now when it is above the safe level (load-driven trouble grows with load), and every
//     request beyond the most it is known to carry (max(current load, its capacity limit)) is
//     counted bad: unknown capacity is not trusted;
//   - at or past the capacity its own upstreams report (saturationRps), above its current load:
//     every request is bad (a saturated queue slows all answers, not only the excess).
//
// Nothing here is tied to a scenario: loads come from the cluster's own windows, the safe level
// and limit from the capacity estimator (capacity.ts).

export interface LoadResponse {
  /** Offered load on the cluster now, requests per second (newest window, local rejects included). */
  loadRps: number;
  /** Pooled (decayed) requests and bad requests of the recent windows with traffic. */
  requests: number;
  bad: number;
  /** bad / requests (0 without requests). */
  badFraction: number;
  /** Bad fraction at or below the safe load (load-independent trouble, a fault), [0, badFraction]. */
  faultFraction: number;
  /** Highest load seen with near-baseline latency, rps (0: none seen yet). */
  safeRps: number;
  /** Most load the cluster is trusted with, rps (Infinity: not known). */
  limitRps: number;
  /** Load at which its latency was seen to rise steeply (the knee), rps (Infinity: not seen). */
  kneeRps: number;
  /** The load at which its own upstreams report it saturated (reported-capacity.ts), rps; absent:
   *  not reported. Past its current load and at or past this, every request is counted bad: a
   *  saturated server's queue grows without bound, so all its answers slow, not only the excess. */
  saturationRps?: number;
  /** Its usual bad fraction over the long run (capacity.ts), [0, 1]; undefined: not known (0).
   *  Only the excess over it is a reason to move its traffic (planner.ts). */
  usualBadFraction?: number;
}

/**
 * Fraction of the requests beyond what a cluster is trusted with that the model counts as bad:
 * all of them. Unknown capacity is not trusted; the trusted level itself grows as the cluster
 * is seen to serve more (capacity.ts explores a step above the load it served well).
 */
export const UNKNOWN_LOAD_BAD_FRACTION = 1;

/** Fraction of a load-response's headroom the model trusts when its capacity is unknown. */
export const UNKNOWN_CAPACITY_HEADROOM = 0.3;

/**
 * Predicted fraction of bad requests at `loadRps`, [0, 1]. `trustedRps`: a load the cluster is
 * trusted with whatever its own windows showed (the operator's base share, when returning to it).
 */
export function predictBadFraction(m: LoadResponse, loadRps: number, trustedRps = 0): number {
  if (m.saturationRps !== undefined && loadRps > Math.max(m.loadRps, 0) && loadRps >= m.saturationRps) return 1;
  const now = clamp01(m.badFraction);
  const fault = Math.min(now, clamp01(m.faultFraction));
  const current = Math.max(0, m.loadRps);
  if (loadRps <= current) {
    if (current <= m.safeRps || current <= 0) return now;
    // Between the safe level (fault only) and the current load (what it shows now).
    const safe = Math.max(0, m.safeRps);
    const t = loadRps <= safe ? 0 : (loadRps - safe) / (current - safe);
    return fault + (now - fault) * t;
  }
  // Above the safe level the bad fraction already rises with load: it goes on rising at the
  // slope seen between the safe level and now.
  let atLoad = now;
  if (current > m.safeRps && m.safeRps > 0 && now > fault) atLoad = Math.min(1, now + ((now - fault) / (current - m.safeRps)) * (loadRps - current));
  const trusted = knownCapacityRps(m, trustedRps);
  if (loadRps <= trusted) return atLoad;
  const excess = (loadRps - trusted) / loadRps;
  return atLoad + (1 - atLoad) * excess * UNKNOWN_LOAD_BAD_FRACTION;
}

/**
 * The most load the model counts at the cluster's current bad fraction, rps: the most it is known
 * to carry (its capacity limit, at least its current load; without a limit, its load and the
 * unknown-capacity headroom), or `trustedRps` when more. Past it predictBadFraction counts every
 * further request bad.
 */
export function knownCapacityRps(m: LoadResponse, trustedRps = 0): number {
  const current = Math.max(0, m.loadRps);
  return Math.max(trustedRps, Number.isFinite(m.limitRps) ? Math.max(current, m.limitRps) : current * (1 + UNKNOWN_CAPACITY_HEADROOM));
}

/** Requests per second that are bad at `loadRps`. */
export function predictBadRps(m: LoadResponse, loadRps: number, trustedRps = 0): number {
  return loadRps <= 0 ? 0 : loadRps * predictBadFraction(m, loadRps, trustedRps);
}

/**
 * Standard error of the observed bad fraction, with half a bad and half a good request added
 * (Jeffreys-like): no evidence of trouble in a few requests is not certainty of its absence.
 */
export function badFractionError(m: LoadResponse): number {
  const n = Math.max(0, m.requests) + 1;
  const p = (Math.max(0, m.bad) + 0.5) / n;
  return Math.sqrt((p * (1 - p)) / n);
}

function clamp01(x: number): number {
  return Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0;
}
