// Wall-clock time with Node timers (unref'd: they never keep the process alive on their own).
import type { Clock, TimerHandle } from "./clock.js";

export class RealClock implements Clock {
  now(): number {
    return performance.timeOrigin + performance.now();
  }

  every(periodMs: number, fn: () => void): TimerHandle {
    const handle = setInterval(fn, periodMs);
    handle.unref();
    return { cancel: () => clearInterval(handle) };
  }

  after(delayMs: number, fn: () => void): TimerHandle {
    const handle = setTimeout(fn, delayMs);
    handle.unref();
    return { cancel: () => clearTimeout(handle) };
  }
}
