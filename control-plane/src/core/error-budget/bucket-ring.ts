// Fixed-size ring of time buckets holding good/total event counts: the memory of one scope over
// one horizon, bounded whatever the traffic (slots × two numbers). A bucket covers
// [startMs, startMs + bucketMs); adding to a slot whose bucket is older resets it first.

export interface BucketCounts {
  good: number;
  total: number;
}

export class BucketRing {
  private readonly starts: Float64Array;
  private readonly good: Float64Array;
  private readonly total: Float64Array;

  /** `bucketMs`: bucket width, ms; `slots`: buckets kept (the horizon is slots × bucketMs). */
  constructor(
    readonly bucketMs: number,
    readonly slots: number,
  ) {
    if (!Number.isInteger(bucketMs) || bucketMs <= 0 || !Number.isInteger(slots) || slots <= 0) {
      throw new RangeError(`BucketRing: expected positive integers, got bucketMs ${bucketMs}, slots ${slots}`);
    }
    this.starts = new Float64Array(slots).fill(Number.NEGATIVE_INFINITY);
    this.good = new Float64Array(slots);
    this.total = new Float64Array(slots);
  }

  /** Start of the bucket holding `atMs`. */
  bucketStart(atMs: number): number {
    return Math.floor(atMs / this.bucketMs) * this.bucketMs;
  }

  /** Adds counts at `atMs` (epoch ms). */
  add(atMs: number, good: number, total: number): void {
    const start = this.bucketStart(atMs);
    const slot = this.slotOf(start);
    if (this.starts[slot]! > start) return; // older than the horizon: dropped
    if (this.starts[slot] !== start) {
      this.starts[slot] = start;
      this.good[slot] = 0;
      this.total[slot] = 0;
    }
    this.good[slot]! += good;
    this.total[slot]! += total;
  }

  /** Replaces one bucket's counts (restore). */
  set(startMs: number, good: number, total: number): void {
    const slot = this.slotOf(startMs);
    if (this.starts[slot]! > startMs) return;
    this.starts[slot] = startMs;
    this.good[slot] = good;
    this.total[slot] = total;
  }

  /** Counts of one bucket (0 when not held). */
  get(startMs: number): BucketCounts {
    const slot = this.slotOf(startMs);
    return this.starts[slot] === startMs ? { good: this.good[slot]!, total: this.total[slot]! } : { good: 0, total: 0 };
  }

  /**
   * Sums the last `windowMs / bucketMs` buckets up to the one holding `nowMs` (that one
   * included): the window's edge is as precise as a bucket.
   */
  sum(windowMs: number, nowMs: number): BucketCounts {
    const last = this.bucketStart(nowMs);
    const first = last - (Math.max(1, Math.ceil(windowMs / this.bucketMs)) - 1) * this.bucketMs;
    let good = 0;
    let total = 0;
    for (let i = 0; i < this.slots; i++) {
      const start = this.starts[i]!;
      if (start >= first && start <= last) {
        good += this.good[i]!;
        total += this.total[i]!;
      }
    }
    return { good, total };
  }

  /** Every bucket held within `windowMs` of `nowMs`, oldest first. */
  buckets(windowMs: number, nowMs: number): ({ startMs: number } & BucketCounts)[] {
    const last = this.bucketStart(nowMs);
    const first = last - (Math.ceil(windowMs / this.bucketMs) - 1) * this.bucketMs;
    const out: ({ startMs: number } & BucketCounts)[] = [];
    for (let i = 0; i < this.slots; i++) {
      const start = this.starts[i]!;
      if (start >= first && start <= last) out.push({ startMs: start, good: this.good[i]!, total: this.total[i]! });
    }
    return out.sort((a, b) => a.startMs - b.startMs);
  }

  private slotOf(start: number): number {
    const n = Math.floor(start / this.bucketMs) % this.slots;
    return n < 0 ? n + this.slots : n;
  }
}
