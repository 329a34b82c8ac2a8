// Linkerd's per-endpoint state in one proxy: the Peak-EWMA latency estimate that its balancer
// scores endpoints by, and the consecutive-failures accrual that marks an endpoint unavailable.
// Both are plain data on the simulator's clock (seconds; latencies in milliseconds).
//
// Peak-EWMA, as in the balancer Linkerd's proxy uses (tower's `balance::p2c` with
// `load::PeakEwma`, Linkerd defaults: decay 10 s, an unmeasured endpoint assumed at 30 ms):
//   - a sample above the estimate replaces it at once (the "peak");
//   - otherwise estimate ← estimate · e^(−Δt/τ) + sample · (1 − e^(−Δt/τ)), Δt the time since the
//     last update, τ the decay;
//   - reading the load decays the estimate toward 0 as if a 0 ms sample arrived now, so an
//     endpoint that stopped answering slowly is tried again after a while;
//   - load = estimate × (requests outstanding + 1).
// Failure accrual (Linkerd's `consecutive-failures` policy, https://linkerd.io/2/reference/circuit-breaking/):
// after max_failures (default 7) failed responses in a row the endpoint is unavailable for a
// backoff (exponential from 1 s to 1 min, jittered); when it ends one probe request may go; a
// success makes the endpoint available again (and resets the backoff), a failure starts the
// next, longer backoff.

/** Linkerd's EWMA decay (τ), seconds. */
export const EWMA_DECAY_S = 10;
/** Estimate of an endpoint with no answer yet, milliseconds (Linkerd's default RTT). */
export const EWMA_DEFAULT_RTT_MS = 30;
/** Consecutive failures that trip an endpoint (Linkerd's default max-failures). */
export const ACCRUAL_MAX_FAILURES = 7;
/** Backoff after a trip: the first, seconds, doubling up to the longest. */
export const ACCRUAL_MIN_PENALTY_S = 1;
export const ACCRUAL_MAX_PENALTY_S = 60;
/** Jitter: each backoff is lengthened by up to this fraction of itself, at random. */
export const ACCRUAL_JITTER = 0.5;

/** The Peak-EWMA latency estimate of one endpoint in one proxy. */
export class PeakEwma {
  private estimateMs = EWMA_DEFAULT_RTT_MS;
  /** Time of the last update, seconds (the proxy starts at scenario time 0). */
  private updatedS = 0;

  /** Folds in an observed latency (ms) at nowS. */
  observe(sampleMs: number, nowS: number): void {
    if (sampleMs > this.estimateMs) this.estimateMs = sampleMs;
    else {
      const decay = Math.exp(-Math.max(0, nowS - this.updatedS) / EWMA_DECAY_S);
      this.estimateMs = this.estimateMs * decay + sampleMs * (1 - decay);
    }
    this.updatedS = nowS;
  }

  /** The estimate at nowS, decayed toward 0 since the last update (read only), ms. */
  estimateAt(nowS: number): number {
    return this.estimateMs * Math.exp(-Math.max(0, nowS - this.updatedS) / EWMA_DECAY_S);
  }
}

/** The accrual state of one endpoint in one proxy. */
export type AccrualState = "available" | "backoff" | "probing";

export class ConsecutiveFailures {
  private failures = 0;
  /** Trips in a row without a successful probe (sets the backoff length). */
  private trips = 0;
  state: AccrualState = "available";
  /** End of the current backoff, seconds. */
  until = 0;

  /** Whether a request may go to the endpoint now (a probe when the backoff ended). */
  ready(nowS: number): boolean {
    if (this.state === "available") return true;
    return this.state === "backoff" && nowS >= this.until;
  }

  /** A request goes to the endpoint: the one probe after a backoff, or an ordinary request. */
  onSend(nowS: number): void {
    if (this.state === "backoff" && nowS >= this.until) this.state = "probing";
  }

  /**
   * The answer of a request sent to the endpoint. `jitterDraw` is a uniform in [0, 1).
   * Answers of requests sent before a trip that arrive during the backoff change nothing.
   */
  onResult(failed: boolean, nowS: number, jitterDraw: number): void {
    if (this.state === "backoff") return;
    if (this.state === "probing") {
      if (failed) this.trip(nowS, jitterDraw);
      else {
        this.state = "available";
        this.failures = 0;
        this.trips = 0;
      }
      return;
    }
    if (!failed) {
      this.failures = 0;
      return;
    }
    this.failures++;
    if (this.failures >= ACCRUAL_MAX_FAILURES) this.trip(nowS, jitterDraw);
  }

  private trip(nowS: number, jitterDraw: number): void {
    const base = Math.min(ACCRUAL_MAX_PENALTY_S, ACCRUAL_MIN_PENALTY_S * 2 ** this.trips);
    this.trips++;
    this.failures = 0;
    this.state = "backoff";
    this.until = nowS + Math.min(ACCRUAL_MAX_PENALTY_S, base * (1 + ACCRUAL_JITTER * jitterDraw));
  }
}
