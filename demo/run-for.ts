// Waiting for the demo's duration. Node's timers run on a monotonic clock and may fire up to a
// millisecond before the wall clock (Date.now) says the delay has passed, so one setTimeout of
// the duration can end a 120 s run at 119.999 s. This waits until the given clock reaches the
// deadline, re-arming the timer for what is left, or until the signal aborts.

export interface RunForClock {
  /** Current time in ms (the clock the run's length is measured with). */
  now(): number;
  setTimer(fn: () => void, delayMs: number): unknown;
  clearTimer(handle: unknown): void;
}

const systemClock: RunForClock = {
  now: () => Date.now(),
  setTimer: (fn, delayMs) => setTimeout(fn, delayMs),
  clearTimer: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** Resolves false once `clock.now() >= deadlineMs`, true if `signal` aborted first. */
export function runUntil(deadlineMs: number, signal?: AbortSignal, clock: RunForClock = systemClock): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    if (signal?.aborted === true) return resolve(true);
    let handle: unknown;
    const onAbort = (): void => {
      clock.clearTimer(handle);
      resolve(true);
    };
    const check = (): void => {
      const leftMs = deadlineMs - clock.now();
      if (leftMs <= 0) {
        signal?.removeEventListener("abort", onAbort);
        resolve(false);
        return;
      }
      handle = clock.setTimer(check, Math.max(1, Math.ceil(leftMs)));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    check();
  });
}
