// The shared log-linear latency histogram over microseconds (LatencyHistogram in
// proto/autoglm/v1/traffic_guard.proto), TypeScript side. The filter's twin is
// filter/src/wire/histogram.ts; test/wire-histogram.test.ts checks both give the same buckets.
//
// Bucket b of a value v (integer microseconds):
//   v < 16: b = v (exact); 16 <= v < 2^32: e = floor(log2 v), b = 16 + (e - 4) * 8 + ((v >> (e - 3)) & 7);
//   v >= 2^32: b = 239 (the last bucket also holds the overflow).

/** Number of buckets. */
export const HISTOGRAM_BUCKETS = 240;

/** Values at or above this many microseconds all land in the last bucket. */
export const OVERFLOW_US = 2 ** 32;

/** A histogram as it travels: counts[i] is the count of bucket firstBucket + i. */
export interface SparseCounts {
  firstBucket: number;
  counts: readonly number[];
}

/** Counts this module returns (mutable, so they fit protobuf-es message inits). */
export interface TrimmedCounts {
  firstBucket: number;
  counts: number[];
}

/** The full message shape (protobuf-es LatencyHistogram fits it): sums and maxima in microseconds. */
export interface HistogramLike extends SparseCounts {
  sumUs: bigint;
  maxUs: bigint;
}

/** A histogram this module returns. */
export interface SparseHistogram extends TrimmedCounts {
  sumUs: bigint;
  maxUs: bigint;
}

/** Bucket index (0..239) of a latency in microseconds; negative or NaN counts as 0, fractions round down. */
export function bucketOf(us: number | bigint): number {
  if (typeof us === "bigint") {
    if (us >= BigInt(OVERFLOW_US)) return HISTOGRAM_BUCKETS - 1;
    us = Number(us);
  }
  if (!(us > 0)) return 0;
  if (us >= OVERFLOW_US) return HISTOGRAM_BUCKETS - 1;
  const v = Math.floor(us);
  if (v < 16) return v;
  const e = 31 - Math.clz32(v); // floor(log2 v), 4..31
  return 16 + (e - 4) * 8 + ((v >>> (e - 3)) & 7);
}

/** [lo, hi) of bucket b in microseconds; the last bucket's hi is 2^32 (it also holds larger values). */
export function bucketBounds(b: number): { lo: number; hi: number } {
  if (!Number.isInteger(b) || b < 0 || b >= HISTOGRAM_BUCKETS) {
    throw new RangeError(`bucket ${b} is outside 0..${HISTOGRAM_BUCKETS - 1}`);
  }
  if (b < 16) return { lo: b, hi: b + 1 };
  const e = 4 + Math.floor((b - 16) / 8);
  const s = (b - 16) % 8;
  const unit = 2 ** (e - 3);
  return { lo: (8 + s) * unit, hi: (9 + s) * unit };
}

/** Dense 240-entry counts from a sparse histogram; throws if it reaches past the last bucket. */
export function toDense(h: SparseCounts): number[] {
  if (h.firstBucket + h.counts.length > HISTOGRAM_BUCKETS) {
    throw new RangeError(
      `histogram buckets ${h.firstBucket}..${h.firstBucket + h.counts.length - 1} exceed the last bucket ${HISTOGRAM_BUCKETS - 1}`,
    );
  }
  const dense = new Array<number>(HISTOGRAM_BUCKETS).fill(0);
  h.counts.forEach((c, i) => {
    dense[h.firstBucket + i] += c;
  });
  return dense;
}

/** Sparse form of dense counts, trimmed of leading and trailing empty buckets (empty: firstBucket 0, no counts). */
export function fromDense(dense: readonly number[]): TrimmedCounts {
  let first = 0;
  while (first < dense.length && dense[first] === 0) first++;
  let end = dense.length;
  while (end > first && dense[end - 1] === 0) end--;
  if (first >= end) return { firstBucket: 0, counts: [] };
  return { firstBucket: first, counts: dense.slice(first, end) };
}

/** Total number of values. */
export function totalCount(h: SparseCounts): number {
  let n = 0;
  for (const c of h.counts) n += c;
  return n;
}

/**
 * The q-quantile (0 <= q <= 1) in microseconds, interpolating linearly inside the bucket that
 * holds the rank q * total. NaN for an empty histogram. If maxUs is given, the result is
 * capped by it (the last bucket is open-ended, and the true max is the best bound there).
 */
export function quantileFromCounts(firstBucket: number, counts: readonly number[], q: number, maxUs?: number | bigint): number {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile ${q} is outside [0, 1]`);
  let total = 0;
  for (const c of counts) total += c;
  if (total === 0) return Number.NaN;
  const rank = q * total;
  let before = 0;
  let value = Number.NaN;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i];
    if (c === 0) continue;
    if (before + c >= rank || i === counts.length - 1) {
      const { lo, hi } = bucketBounds(firstBucket + i);
      const within = Math.min(1, Math.max(0, (rank - before) / c));
      value = lo + within * (hi - lo);
      break;
    }
    before += c;
  }
  if (maxUs !== undefined) value = Math.min(value, Number(maxUs));
  return value;
}

/** Adds two sparse count ranges bucket by bucket. */
export function mergeCounts(a: SparseCounts, b: SparseCounts): TrimmedCounts {
  if (a.counts.length === 0) return { firstBucket: b.counts.length === 0 ? 0 : b.firstBucket, counts: [...b.counts] };
  if (b.counts.length === 0) return { firstBucket: a.firstBucket, counts: [...a.counts] };
  const first = Math.min(a.firstBucket, b.firstBucket);
  const end = Math.max(a.firstBucket + a.counts.length, b.firstBucket + b.counts.length);
  const counts = new Array<number>(end - first).fill(0);
  a.counts.forEach((c, i) => (counts[a.firstBucket - first + i] += c));
  b.counts.forEach((c, i) => (counts[b.firstBucket - first + i] += c));
  return { firstBucket: first, counts };
}

/** Merges two histograms: counts add, sums add, the max is the larger max. */
export function merge(a: HistogramLike, b: HistogramLike): SparseHistogram {
  const counts = mergeCounts(a, b);
  return { ...counts, sumUs: a.sumUs + b.sumUs, maxUs: a.maxUs > b.maxUs ? a.maxUs : b.maxUs };
}

/** Records values (microseconds) into a new sparse histogram, as the filter does. */
export function histogramOf(valuesUs: Iterable<number>): SparseHistogram {
  const dense = new Array<number>(HISTOGRAM_BUCKETS).fill(0);
  let sum = 0n;
  let max = 0n;
  for (const v of valuesUs) {
    dense[bucketOf(v)]++;
    const us = BigInt(Math.max(0, Math.floor(v)));
    sum += us;
    if (us > max) max = us;
  }
  return { ...fromDense(dense), sumUs: sum, maxUs: max };
}
