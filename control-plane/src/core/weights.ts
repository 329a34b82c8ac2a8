// Integer traffic weights from shares (pure).

/** Integer weights on config.totalWeight, rounded to 1% steps of the total (less churn). */
export function sharesToWeights(shares: ReadonlyMap<string, number>, totalWeight: number): Map<string, number> {
  const step = Math.max(1, Math.round(totalWeight / 100));
  const out = new Map<string, number>();
  for (const [k, v] of shares) out.set(k, Math.round((v * totalWeight) / step) * step);
  return out;
}
