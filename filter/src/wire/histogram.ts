// The shared log-linear latency histogram (see LatencyHistogram in traffic_guard.proto):
// 240 buckets over integer microseconds, exact below 16 us, then 8 buckets per power of two
// (at most 12.5% wide), the last bucket also holding everything >= 2^32 us.
// The control plane's twin is lib/histogram.ts; test/wire-histogram.test.ts keeps them equal.

import { HISTOGRAM_BUCKETS, LatencyHistogram } from "./messages";

/** Bucket index (0..239) of a latency in microseconds. */
export function bucketOf(us: u64): i32 {
  if (us < 16) return <i32>us;
  if (us >= 0x100000000) return HISTOGRAM_BUCKETS - 1;
  const e = 63 - <i32>clz<u64>(us); // floor(log2 us), 4..31
  return 16 + (e - 4) * 8 + <i32>((us >> <u64>(e - 3)) & 7);
}

/** Smallest microsecond value in bucket b (0 <= b < 240). */
export function bucketLowerBound(b: i32): u64 {
  if (b < 16) return <u64>b;
  const e = 4 + (b - 16) / 8;
  const s = (b - 16) % 8;
  return <u64>(8 + s) << <u64>(e - 3);
}

/** Records one value, microseconds. */
export function recordLatency(h: LatencyHistogram, us: u64): void {
  const b = bucketOf(us);
  unchecked((h.counts[b] = h.counts[b] + 1));
  h.sumUs += us;
  if (us > h.maxUs) h.maxUs = us;
}

/** Adds every count of `from` into `into`. */
export function mergeHistogram(into: LatencyHistogram, from: LatencyHistogram): void {
  for (let b = 0; b < HISTOGRAM_BUCKETS; b++) {
    unchecked((into.counts[b] = into.counts[b] + from.counts[b]));
  }
  into.sumUs += from.sumUs;
  if (from.maxUs > into.maxUs) into.maxUs = from.maxUs;
}

/** Empties the histogram for the next window. */
export function resetHistogram(h: LatencyHistogram): void {
  for (let b = 0; b < HISTOGRAM_BUCKETS; b++) unchecked((h.counts[b] = 0));
  h.sumUs = 0;
  h.maxUs = 0;
}

/** Number of values recorded. */
export function histogramTotal(h: LatencyHistogram): u64 {
  let n: u64 = 0;
  for (let b = 0; b < HISTOGRAM_BUCKETS; b++) n += unchecked(h.counts[b]);
  return n;
}

/** First non-empty bucket, or HISTOGRAM_BUCKETS when the histogram is empty (for trimming). */
export function firstNonEmptyBucket(h: LatencyHistogram): i32 {
  let b = 0;
  while (b < HISTOGRAM_BUCKETS && unchecked(h.counts[b]) == 0) b++;
  return b;
}

/** One past the last non-empty bucket, or 0 when the histogram is empty (for trimming). */
export function endNonEmptyBucket(h: LatencyHistogram): i32 {
  let b = HISTOGRAM_BUCKETS;
  while (b > 0 && unchecked(h.counts[b - 1]) == 0) b--;
  return b;
}
