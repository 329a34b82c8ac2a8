// Integer traffic weights from shares (pure).

/**
 * Integer weights summing to exactly `totalWeight` (config.weights.totalWeight), in proportion to
 * `shares` (which sum to 1), by largest remainders: each weight is within one unit of
 * share × total, ties broken by cluster name so that the result is deterministic. No coarser
 * rounding: the operator's weights must reach the sidecars as they are (a 27.5 % share rounded to
 * 28 % would give a cluster 2 % more traffic than the operator asked for, and its neighbours
 * less). A positive share never becomes 0 (a cluster the planner keeps gets at least one unit).
 */
export function sharesToWeights(shares: ReadonlyMap<string, number>, totalWeight: number): Map<string, number> {
  const entries = [...shares].map(([cluster, share]) => {
    const exact = Math.max(0, Number.isFinite(share) ? share : 0) * totalWeight;
    const whole = Math.floor(exact);
    return { cluster, exact, whole: exact > 0 && whole === 0 ? 1 : whole };
  });
  let left = totalWeight - entries.reduce((a, e) => a + e.whole, 0);
  const byRemainder = entries
    .filter((e) => e.exact > 0)
    .sort((a, b) => b.exact - b.whole - (a.exact - a.whole) || (a.cluster < b.cluster ? -1 : a.cluster > b.cluster ? 1 : 0));
  for (let i = 0; left > 0 && byRemainder.length > 0; i = (i + 1) % byRemainder.length, left--) byRemainder[i]!.whole++;
  // Units given to shares below one unit came from nowhere: take them back from the largest.
  const largest = [...entries].sort((a, b) => b.whole - a.whole || (a.cluster < b.cluster ? -1 : 1));
  for (let i = 0; left < 0 && largest.length > 0; i = (i + 1) % largest.length) {
    if (largest[i]!.whole > 1) {
      largest[i]!.whole--;
      left++;
    }
  }
  return new Map(entries.map((e) => [e.cluster, e.whole]));
}
