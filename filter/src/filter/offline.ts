// How long a worker has run without a live control plane, and of that how long on its local
// fallback breakers: the hello's disconnected_ms and fallback_ms (capability "fallback_time" in
// proto/autoglm/v1/traffic_guard.proto). An offline period starts when a live stream ends (one on
// which a message had arrived) and ends when the next stream delivers a message. Fallback periods
// are reported by the root as they start and end, with the moment they really began (a ttl that
// ran out between two ticks began at its end, not at the tick that noticed it). Pure: times are
// passed in, epoch milliseconds.

export class OfflineTime {
  /** When the last live stream ended; 0 while a stream is live, and before the first one. */
  sinceMs: u64 = 0;
  /** Fallback time of this offline period from fallback periods that have ended, ms. */
  fallbackMs: u64 = 0;
  /** Start of the fallback period in progress; 0 when the plan rules. */
  fallbackFromMs: u64 = 0;

  /** A live stream ended at nowMs. */
  wentOffline(nowMs: u64): void {
    if (this.sinceMs != 0) return;
    this.sinceMs = nowMs;
    this.fallbackMs = 0;
  }

  /** A stream delivered a message: the offline period (if any) is over, and was reported. */
  cameOnline(): void {
    this.sinceMs = 0;
    this.fallbackMs = 0;
  }

  /** The local fallback breakers rule from fromMs on (a period already in progress, e.g. across a
   *  reconfiguration, keeps its start). */
  fallbackStarted(fromMs: u64): void {
    if (this.fallbackFromMs == 0) this.fallbackFromMs = fromMs > 0 ? fromMs : 1;
  }

  /** The control plane's plan rules again from nowMs on. */
  fallbackEnded(nowMs: u64): void {
    this.fallbackMs += this.runningFallback(nowMs);
    this.fallbackFromMs = 0;
  }

  /** Ms since the last live stream ended (0 while live, or before any live stream). */
  disconnectedMs(nowMs: u64): u64 {
    const since = this.sinceMs;
    return since == 0 || nowMs < since ? 0 : nowMs - since;
  }

  /** Of disconnectedMs(nowMs): the time on the fallback breakers. */
  fallbackMsAt(nowMs: u64): u64 {
    if (this.sinceMs == 0) return 0;
    const total = this.fallbackMs + this.runningFallback(nowMs);
    const offline = this.disconnectedMs(nowMs);
    return total < offline ? total : offline;
  }

  /** The part of the fallback period in progress that lies in this offline period, ms. */
  private runningFallback(nowMs: u64): u64 {
    if (this.sinceMs == 0 || this.fallbackFromMs == 0) return 0;
    const from = this.fallbackFromMs > this.sinceMs ? this.fallbackFromMs : this.sinceMs;
    return nowMs > from ? nowMs - from : 0;
  }
}
