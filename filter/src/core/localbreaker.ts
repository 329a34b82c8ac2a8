// The local fallback breaker of one upstream cluster, used when the control plane's decisions
// have expired (fail-static is over). A count-based window of the last `minRequests` outcomes:
// it opens when the window is full and the failure rate is >= failureRate, or (when slowCallMs
// > 0) the slow-call rate is >= slowCallRate. Open for openMs, then half-open: probeRequests
// requests are admitted; once they have all completed it closes when their failure rate is below
// failureRate (and their slow rate below slowCallRate), otherwise it opens again.
// Pure: the caller passes the time (milliseconds) with every call.
import { STATE_CLOSED, STATE_HALF_OPEN, STATE_OPEN } from "./breakerstate";

export class BreakerSettings {
  /** Failure rate that opens the breaker, (0, 1]. */
  failureRate: f64 = 0.5;
  /** Outcomes in the count window; the window must be full before the breaker can open. */
  minRequests: i32 = 20;
  /** A call at least this long (milliseconds) is slow; 0 disables the slow-call rule. */
  slowCallMs: u32 = 0;
  /** Slow-call rate that opens the breaker, (0, 1]. */
  slowCallRate: f64 = 0.5;
  /** How long the breaker stays open, milliseconds. */
  openMs: u32 = 5000;
  /** Requests admitted while half-open. */
  probeRequests: i32 = 10;
}

const OUTCOME_FAILED: u8 = 1;
const OUTCOME_SLOW: u8 = 2;

export class LocalBreaker {
  state: i32 = STATE_CLOSED;
  /** When the current state began, milliseconds. */
  sinceMs: u64 = 0;
  private settings: BreakerSettings;
  /** Ring of the last outcomes (OUTCOME_* bits). */
  private ring: StaticArray<u8>;
  private next: i32 = 0;
  private count: i32 = 0;
  private failures: i32 = 0;
  private slows: i32 = 0;
  private probesAdmitted: i32 = 0;
  private probesDone: i32 = 0;
  private probeFailures: i32 = 0;
  private probeSlows: i32 = 0;

  constructor(settings: BreakerSettings) {
    this.settings = settings;
    this.ring = new StaticArray<u8>(settings.minRequests > 0 ? settings.minRequests : 1);
  }

  /** The state at nowMs (an open breaker whose time is up turns half-open). */
  stateAt(nowMs: u64): i32 {
    if (this.state == STATE_OPEN && nowMs >= this.sinceMs + <u64>this.settings.openMs) {
      this.enter(STATE_HALF_OPEN, nowMs);
    } else if (this.state == STATE_HALF_OPEN && this.probesAdmitted >= this.settings.probeRequests &&
               nowMs >= this.sinceMs + <u64>this.settings.openMs * 2) {
      // Probes that never completed (lost streams): let a new round through.
      this.enter(STATE_HALF_OPEN, nowMs);
    }
    return this.state;
  }

  /** While half-open: admits the next probe when probes remain. */
  admitProbe(): bool {
    if (this.state != STATE_HALF_OPEN) return this.state == STATE_CLOSED;
    if (this.probesAdmitted >= this.settings.probeRequests) return false;
    this.probesAdmitted++;
    return true;
  }

  /** Records one completed request. */
  record(failed: bool, latencyMs: u64, nowMs: u64): void {
    const slow = this.settings.slowCallMs > 0 && latencyMs >= <u64>this.settings.slowCallMs;
    const state = this.stateAt(nowMs);
    if (state == STATE_HALF_OPEN) {
      this.probesDone++;
      if (failed) this.probeFailures++;
      if (slow) this.probeSlows++;
      if (this.probesDone >= this.settings.probeRequests) {
        const n = <f64>this.probesDone;
        const tooManyFailures = <f64>this.probeFailures / n >= this.settings.failureRate;
        const tooSlow = this.settings.slowCallMs > 0 && <f64>this.probeSlows / n >= this.settings.slowCallRate;
        this.enter(tooManyFailures || tooSlow ? STATE_OPEN : STATE_CLOSED, nowMs);
      }
      return;
    }
    if (state == STATE_OPEN) return; // late completions of requests admitted before opening
    const size = this.ring.length;
    if (this.count == size) {
      const old = unchecked(this.ring[this.next]);
      if (old & OUTCOME_FAILED) this.failures--;
      if (old & OUTCOME_SLOW) this.slows--;
    } else {
      this.count++;
    }
    const outcome: u8 = (failed ? OUTCOME_FAILED : 0) | (slow ? OUTCOME_SLOW : 0);
    unchecked((this.ring[this.next] = outcome));
    if (failed) this.failures++;
    if (slow) this.slows++;
    this.next = this.next + 1 == size ? 0 : this.next + 1;
    if (this.count < size) return;
    const n = <f64>this.count;
    if (<f64>this.failures / n >= this.settings.failureRate ||
        (this.settings.slowCallMs > 0 && <f64>this.slows / n >= this.settings.slowCallRate)) {
      this.enter(STATE_OPEN, nowMs);
    }
  }

  private enter(state: i32, nowMs: u64): void {
    this.state = state;
    this.sinceMs = nowMs;
    this.probesAdmitted = 0;
    this.probesDone = 0;
    this.probeFailures = 0;
    this.probeSlows = 0;
    if (state != STATE_HALF_OPEN) {
      // A fresh count window after every transition to closed or open.
      this.count = 0;
      this.next = 0;
      this.failures = 0;
      this.slows = 0;
    }
  }
}
