// The host's notion of time, injectable so that a run on virtual time is deterministic. The module
// reads it through proxy_get_current_time_nanoseconds; ticks and gRPC call timeouts are scheduled
// on it.

export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  /** Current time as epoch milliseconds (may be fractional). */
  now(): number;
  /** Calls `fn` every `periodMs` milliseconds until cancelled. */
  every(periodMs: number, fn: () => void): TimerHandle;
  /** Calls `fn` once after `delayMs` milliseconds unless cancelled. */
  after(delayMs: number, fn: () => void): TimerHandle;
}

/** Epoch nanoseconds of a clock reading (ms may be fractional; sub-ns precision is dropped). */
export function clockNanos(ms: number): bigint {
  const whole = Math.floor(ms);
  return BigInt(whole) * 1_000_000n + BigInt(Math.round((ms - whole) * 1_000_000));
}
