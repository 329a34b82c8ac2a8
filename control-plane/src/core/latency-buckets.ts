// The wire histogram's bucket scheme (LatencyHistogram in proto/autoglm/v1/traffic_guard.proto):
// 240 log-linear buckets over integer microseconds, 8 per power of two above 16 us.
// Pure arithmetic; the merged counts of all sidecars give quantiles here.

export const BUCKET_COUNT = 240;

/** Bucket index of a value, microseconds. */
export function bucketOf(valueUs: number): number {
  const v = Math.max(0, Math.floor(valueUs));
  if (v < 16) return v;
  if (v >= 2 ** 32) return BUCKET_COUNT - 1;
  const e = Math.floor(Math.log2(v));
  return 16 + (e - 4) * 8 + (Math.floor(v / 2 ** (e - 3)) & 7);
}

/** [lo, hi) of a bucket, microseconds. */
export function bucketBounds(bucket: number): [number, number] {
  if (bucket < 16) return [bucket, bucket + 1];
  if (bucket >= BUCKET_COUNT - 1) return [2 ** 32, 2 ** 32];
  const e = 4 + Math.floor((bucket - 16) / 8);
  const s = (bucket - 16) % 8;
  return [(8 + s) * 2 ** (e - 3), (9 + s) * 2 ** (e - 3)];
}

/**
 * Quantile q in [0, 1] of a full-length count array (index = bucket), microseconds, linearly
 * interpolated inside the bucket; NaN when empty.
 */
export function quantileFromCounts(counts: ArrayLike<number>, total: number, q: number): number {
  if (total <= 0) return NaN;
  const rank = Math.min(total, Math.max(1, Math.ceil(q * total)));
  let seen = 0;
  for (let b = 0; b < counts.length; b++) {
    const c = counts[b]!;
    if (c === 0) continue;
    if (seen + c >= rank) {
      const [lo, hi] = bucketBounds(b);
      return lo + ((hi - lo) * (rank - seen - 0.5)) / c;
    }
    seen += c;
  }
  return bucketBounds(counts.length - 1)[0];
}

/** Number of values above `thresholdUs` (a bucket straddling it counts in proportion). */
export function countAbove(counts: ArrayLike<number>, thresholdUs: number): number {
  const first = bucketOf(thresholdUs);
  const [lo, hi] = bucketBounds(first);
  let above = hi > lo ? (counts[first] ?? 0) * ((hi - thresholdUs) / (hi - lo)) : 0;
  for (let b = first + 1; b < counts.length; b++) above += counts[b]!;
  return above;
}
