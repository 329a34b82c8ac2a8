// Exponentially weighted mean and deviation of one metric (West's incremental EW variance).

export class EwmaStat {
  mean = NaN;
  variance = 0;
  samples = 0;

  constructor(private readonly alpha: number) {}

  /** Standard deviation in the metric's unit. */
  get sigma(): number {
    return Math.sqrt(this.variance);
  }

  update(value: number): void {
    if (!Number.isFinite(value)) return;
    this.samples++;
    if (Number.isNaN(this.mean)) {
      this.mean = value;
      this.variance = 0;
      return;
    }
    // Early on, average plainly so the first samples do not dominate.
    const a = Math.max(this.alpha, 1 / this.samples);
    const diff = value - this.mean;
    const incr = a * diff;
    this.mean += incr;
    this.variance = (1 - a) * (this.variance + diff * incr);
  }
}
