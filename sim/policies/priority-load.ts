// Envoy's priority load with the overprovisioning factor, used to fail traffic over between
// clusters when a cluster's healthy share drops.
//
// Followed: Envoy docs, "Priority levels" and "Overprovisioning factor"
// (https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/upstream/load_balancing/priority):
// the health score of a level is its percent of healthy hosts × the overprovisioning factor
// (default 1.4), capped at 100, in integers. Level 0 gets its health score in percent of the
// traffic, level 1 the least of its own score and what is left, and so on; when the scores sum
// to less than 100 the loads are normalised so they sum to 100 (every level degraded).

/** Envoy's default overprovisioning factor. */
export const OVERPROVISIONING_FACTOR = 1.4;

/** Integer health score of a level: floor(healthy% × factor), capped at 100. */
export function healthScore(healthy: number, total: number, factor = OVERPROVISIONING_FACTOR): number {
  if (total <= 0) return 0;
  return Math.min(100, Math.floor(((100 * healthy) / total) * factor));
}

/**
 * Share of traffic (fractions summing to 1) for levels in priority order, from their health
 * scores (0..100). All-zero scores: everything stays on level 0.
 */
export function priorityLoad(scores: readonly number[]): number[] {
  const total = scores.reduce((s, h) => s + h, 0);
  if (total <= 0) return scores.map((_, i) => (i === 0 ? 1 : 0));
  if (total < 100) return scores.map((h) => h / total);
  let left = 100;
  return scores.map((h) => {
    const load = Math.min(h, left);
    left -= load;
    return load / 100;
  });
}
