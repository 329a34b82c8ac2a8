// A log line that would repeat (a control plane that keeps refusing connections, a stream of
// refused reports) is written the first time, then at most once per interval, saying how many
// like it were held back in between.
import { dec } from "../core/numbertext";

/** The interval of the filter's rate-limited log lines, milliseconds. */
export const LOG_INTERVAL_MS: u64 = 60000;

export class LogLimit {
  /** Lines held back since the last one written. */
  suppressed: u64 = 0;
  /** Epoch ms before which a new line is held back (0: the next line is written). */
  private quietUntilMs: u64 = 0;
  private intervalMs: u64;

  constructor(intervalMs: u64 = LOG_INTERVAL_MS) {
    this.intervalMs = intervalMs;
  }

  /**
   * Whether a line may be written at nowMs: null when it is held back (and counted), else the
   * suffix to append to it ("" or " (N similar suppressed)").
   */
  take(nowMs: u64): string | null {
    if (this.quietUntilMs != 0 && nowMs < this.quietUntilMs) {
      this.suppressed++;
      return null;
    }
    this.quietUntilMs = nowMs + this.intervalMs;
    const held = this.suppressed;
    this.suppressed = 0;
    return held > 0 ? " (" + dec(held) + " similar suppressed)" : "";
  }

  /** The condition ended: the next line is written at once (with the count still held back). */
  reset(): void {
    this.quietUntilMs = 0;
  }
}
