// Per-stream deduplication and rate limit of NACKs, so that a sidecar repeating its NACK (or
// NACKing made-up versions) cannot flood the audit log and the log. A NACK is recorded (audit
// record, log line, event) only when its version has not been recorded on this stream yet and
// the stream's budget allows; the others are counted and the count travels with the next record
// (and the stream's last log line). The sidecar's status always shows its latest NACK.
// Pure: time comes in as nowMs.

/** Records a stream may make in a burst. */
export const NACK_BURST = 5;
/** One more record is allowed every this many ms (so at most 6 a minute after a burst). */
export const NACK_REFILL_MS = 10_000;
/** Versions remembered per stream for deduplication. */
const VERSION_MEMORY = 64;

export type NackVerdict = { record: true; /** NACKs not recorded since the last record. */ suppressed: number } | { record: false };

export class NackLimiter {
  private readonly recorded = new Set<number>();
  private tokens = NACK_BURST;
  private refilledAtMs: number | undefined;
  /** NACKs not recorded since the last record. */
  private pendingSuppressed = 0;

  /** Whether a NACK of `version` received at nowMs is recorded. */
  admit(version: number, nowMs: number): NackVerdict {
    this.refill(nowMs);
    if (this.recorded.has(version) || this.tokens < 1) {
      this.pendingSuppressed++;
      return { record: false };
    }
    this.tokens--;
    this.recorded.add(version);
    if (this.recorded.size > VERSION_MEMORY) this.recorded.delete(this.recorded.values().next().value!);
    const suppressed = this.pendingSuppressed;
    this.pendingSuppressed = 0;
    return { record: true, suppressed };
  }

  /** NACKs not recorded since the last record (reported when the stream ends). */
  get suppressed(): number {
    return this.pendingSuppressed;
  }

  private refill(nowMs: number): void {
    if (this.refilledAtMs === undefined || nowMs < this.refilledAtMs) {
      this.refilledAtMs = nowMs;
      return;
    }
    const earned = Math.floor((nowMs - this.refilledAtMs) / NACK_REFILL_MS);
    if (earned > 0) {
      this.tokens = Math.min(NACK_BURST, this.tokens + earned);
      this.refilledAtMs += earned * NACK_REFILL_MS;
    }
  }
}
