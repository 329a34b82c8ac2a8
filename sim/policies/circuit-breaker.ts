// A resilience4j CircuitBreaker with a COUNT_BASED sliding window, as its documentation
// describes it (https://resilience4j.readme.io/docs/circuitbreaker), with the scenarios README's
// settings: slidingWindowSize 100 calls, minimumNumberOfCalls 20, failureRateThreshold 50%,
// slowCallRateThreshold 50% with slowCallDurationThreshold = slo.latency_ms,
// waitDurationInOpenState 5 s, permittedNumberOfCallsInHalfOpenState 10.
//
// - CLOSED: outcomes of the last slidingWindowSize calls are kept in a ring (subtract on evict).
//   Once at least minimumNumberOfCalls are recorded, the breaker opens when the failure rate or
//   the slow-call rate is at or above its threshold. A call slower than the slow-call threshold
//   is slow whether it succeeded or failed.
// - OPEN: every call is rejected (CallNotPermittedException) until waitDurationInOpenState has
//   passed; then the breaker is HALF_OPEN (on the next call, as with
//   automaticTransitionFromOpenToHalfOpenEnabled = false, the default).
// - HALF_OPEN: permittedNumberOfCallsInHalfOpenState calls are let through, the rest rejected.
//   When all of them have completed, the rates over those calls decide: at or above a threshold
//   → OPEN again, otherwise → CLOSED with a fresh window.
// Pure: time is passed in (seconds).

export interface CircuitBreakerConfig {
  slidingWindowSize: number;
  minimumNumberOfCalls: number;
  /** Percent. */
  failureRateThreshold: number;
  /** Percent. */
  slowCallRateThreshold: number;
  slowCallDurationThresholdMs: number;
  waitDurationInOpenStateS: number;
  permittedNumberOfCallsInHalfOpenState: number;
}

/** The README's settings; slowCallDurationThresholdMs comes from the scenario's slo.latency_ms. */
export function resilience4jConfig(sloLatencyMs: number): CircuitBreakerConfig {
  return {
    slidingWindowSize: 100,
    minimumNumberOfCalls: 20,
    failureRateThreshold: 50,
    slowCallRateThreshold: 50,
    slowCallDurationThresholdMs: sloLatencyMs,
    waitDurationInOpenStateS: 5,
    permittedNumberOfCallsInHalfOpenState: 10,
  };
}

export type CircuitState =
  | { kind: "closed"; sinceS: number }
  | { kind: "open"; sinceS: number; reason: string }
  | { kind: "half_open"; sinceS: number; permitted: number; completed: number; failed: number; slow: number };

/** Ring of the last N call outcomes with running totals. */
class CountWindow {
  private readonly failed: Uint8Array;
  private readonly slow: Uint8Array;
  private next = 0;
  size = 0;
  failures = 0;
  slowCalls = 0;

  constructor(private readonly capacity: number) {
    this.failed = new Uint8Array(capacity);
    this.slow = new Uint8Array(capacity);
  }

  record(failed: boolean, slow: boolean): void {
    if (this.size === this.capacity) {
      this.failures -= this.failed[this.next]!;
      this.slowCalls -= this.slow[this.next]!;
    } else this.size++;
    this.failed[this.next] = failed ? 1 : 0;
    this.slow[this.next] = slow ? 1 : 0;
    this.failures += failed ? 1 : 0;
    this.slowCalls += slow ? 1 : 0;
    this.next = (this.next + 1) % this.capacity;
  }
}

export class CircuitBreaker {
  state: CircuitState;
  private window: CountWindow;
  /** Transitions, for tests and charts. */
  readonly transitions: { atS: number; to: CircuitState["kind"]; reason: string }[] = [];

  constructor(readonly config: CircuitBreakerConfig, nowS = 0) {
    this.state = { kind: "closed", sinceS: nowS };
    this.window = new CountWindow(config.slidingWindowSize);
  }

  private moveTo(state: CircuitState, reason: string): void {
    this.state = state;
    this.transitions.push({ atS: state.sinceS, to: state.kind, reason });
  }

  /** Asks to make a call now: true when permitted (a half-open permit is used up). */
  tryAcquirePermission(nowS: number): boolean {
    const s = this.state;
    if (s.kind === "closed") return true;
    if (s.kind === "open") {
      if (nowS - s.sinceS < this.config.waitDurationInOpenStateS) return false;
      this.moveTo({ kind: "half_open", sinceS: nowS, permitted: 0, completed: 0, failed: 0, slow: 0 }, "wait duration over");
    }
    const h = this.state as Extract<CircuitState, { kind: "half_open" }>;
    if (h.permitted >= this.config.permittedNumberOfCallsInHalfOpenState) return false;
    h.permitted++;
    return true;
  }

  /** Records a call's outcome (only calls that were permitted). */
  onResult(failed: boolean, durationMs: number, nowS: number): void {
    const slow = durationMs > this.config.slowCallDurationThresholdMs;
    const s = this.state;
    if (s.kind === "closed") {
      this.window.record(failed, slow);
      const w = this.window;
      if (w.size < this.config.minimumNumberOfCalls) return;
      const failureRate = (100 * w.failures) / w.size;
      const slowRate = (100 * w.slowCalls) / w.size;
      if (failureRate >= this.config.failureRateThreshold || slowRate >= this.config.slowCallRateThreshold) {
        const reason = failureRate >= this.config.failureRateThreshold
          ? `failure rate ${failureRate.toFixed(0)}% >= ${this.config.failureRateThreshold}%`
          : `slow call rate ${slowRate.toFixed(0)}% >= ${this.config.slowCallRateThreshold}%`;
        this.moveTo({ kind: "open", sinceS: nowS, reason }, reason);
      }
      return;
    }
    if (s.kind === "half_open") {
      s.completed++;
      if (failed) s.failed++;
      if (slow) s.slow++;
      if (s.completed < this.config.permittedNumberOfCallsInHalfOpenState) return;
      const failureRate = (100 * s.failed) / s.completed;
      const slowRate = (100 * s.slow) / s.completed;
      if (failureRate >= this.config.failureRateThreshold || slowRate >= this.config.slowCallRateThreshold) {
        const reason = `half-open calls: failure rate ${failureRate.toFixed(0)}%, slow ${slowRate.toFixed(0)}%`;
        this.moveTo({ kind: "open", sinceS: nowS, reason }, reason);
      } else {
        this.window = new CountWindow(this.config.slidingWindowSize);
        this.moveTo({ kind: "closed", sinceS: nowS }, "half-open calls healthy");
      }
    }
    // Results arriving while OPEN (calls permitted before it opened) are ignored, as resilience4j does.
  }

  /** True while OPEN and its wait is not over. */
  isOpen(nowS: number): boolean {
    return this.state.kind === "open" && nowS - this.state.sinceS < this.config.waitDurationInOpenStateS;
  }
}
