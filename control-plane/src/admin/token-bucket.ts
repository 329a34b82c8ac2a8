// A token bucket of bytes, as plain data and pure functions of a time passed in (epoch ms): it
// refills at `ratePerS` up to `capacity`; taking more than it holds leaves it in debt, and the
// answer says how long to wait until the debt is paid back (so a chunk larger than the burst
// still goes, and the average rate holds: a throttled sender sleeps waitMs after each take).

export interface TokenBucket {
  /** Bytes available; negative while in debt. */
  tokens: number;
  /** Time of the last refill, epoch ms. */
  updatedMs: number;
}

export interface BucketRate {
  /** Refill rate, bytes per second (> 0). */
  ratePerS: number;
  /** Most bytes held, i.e. the burst (> 0). */
  capacity: number;
}

/** A full bucket at `nowMs`. */
export function fullBucket(rate: BucketRate, nowMs: number): TokenBucket {
  return { tokens: rate.capacity, updatedMs: nowMs };
}

/** The bucket refilled up to `nowMs` (time going backwards refills nothing). */
export function refill(bucket: TokenBucket, rate: BucketRate, nowMs: number): TokenBucket {
  const elapsedMs = Math.max(0, nowMs - bucket.updatedMs);
  return { tokens: Math.min(rate.capacity, bucket.tokens + (elapsedMs * rate.ratePerS) / 1000), updatedMs: Math.max(bucket.updatedMs, nowMs) };
}

/** Takes `bytes` at `nowMs`: the bucket after, and how long to wait (ms, 0 when it had enough). */
export function take(bucket: TokenBucket, rate: BucketRate, bytes: number, nowMs: number): { bucket: TokenBucket; waitMs: number } {
  const filled = refill(bucket, rate, nowMs);
  const tokens = filled.tokens - bytes;
  return { bucket: { tokens, updatedMs: filled.updatedMs }, waitMs: tokens >= 0 ? 0 : Math.ceil((-tokens * 1000) / rate.ratePerS) };
}
