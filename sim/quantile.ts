// Quantiles of latency samples (nearest rank), in the unit of the samples.

/** Nearest-rank q-quantile (q in (0, 1]) of ascending-sorted samples; NaN when there are none. */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const rank = Math.min(n, Math.max(1, Math.ceil(q * n)));
  return sorted[rank - 1]!;
}

/** A growable list of float samples that sorts itself once for quantiles. */
export class Samples {
  private data: Float64Array;
  private size = 0;

  constructor(capacity = 64) {
    this.data = new Float64Array(capacity);
  }

  get length(): number {
    return this.size;
  }

  push(value: number): void {
    if (this.size === this.data.length) {
      const grown = new Float64Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.data[this.size++] = value;
  }

  /** The samples, sorted ascending (a copy of the used part). */
  sorted(): Float64Array {
    return this.data.slice(0, this.size).sort();
  }
}
