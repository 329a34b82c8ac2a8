// Virtual time: nothing happens until advance() moves the clock; timers then fire in due order
// (ties in the order they were scheduled), each seeing now() equal to its due time.
import type { Clock, TimerHandle } from "./clock.js";

interface Timer {
  dueAt: number;
  /** 0 for one-shot timers. */
  periodMs: number;
  fn: () => void;
  seq: number;
  cancelled: boolean;
}

export class ManualClock implements Clock {
  private current: number;
  private timers: Timer[] = [];
  private seq = 0;

  /** `startMs`: the initial epoch time in milliseconds (default 2025-01-01T00:00:00Z). */
  constructor(startMs = Date.UTC(2025, 0, 1)) {
    this.current = startMs;
  }

  now(): number {
    return this.current;
  }

  every(periodMs: number, fn: () => void): TimerHandle {
    if (!(periodMs > 0)) throw new RangeError(`timer period must be > 0 ms, got ${periodMs}`);
    return this.add(this.current + periodMs, periodMs, fn);
  }

  after(delayMs: number, fn: () => void): TimerHandle {
    return this.add(this.current + Math.max(0, delayMs), 0, fn);
  }

  private add(dueAt: number, periodMs: number, fn: () => void): TimerHandle {
    const timer: Timer = { dueAt, periodMs, fn, seq: this.seq++, cancelled: false };
    this.timers.push(timer);
    return {
      cancel: () => {
        timer.cancelled = true;
        this.timers = this.timers.filter((t) => t !== timer);
      },
    };
  }

  /** Moves time forward by `ms`, firing every timer that falls due, in order. */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`cannot advance by ${ms} ms`);
    this.advanceTo(this.current + ms);
  }

  /** Moves time forward to `targetMs` (epoch ms), firing due timers in order. */
  advanceTo(targetMs: number): void {
    for (;;) {
      let next: Timer | undefined;
      for (const t of this.timers) {
        if (t.dueAt > targetMs) continue;
        if (next === undefined || t.dueAt < next.dueAt || (t.dueAt === next.dueAt && t.seq < next.seq)) next = t;
      }
      if (next === undefined) break;
      this.current = Math.max(this.current, next.dueAt);
      if (next.periodMs > 0) {
        next.dueAt += next.periodMs;
        next.seq = this.seq++;
      } else {
        this.timers = this.timers.filter((t) => t !== next);
      }
      next.fn();
    }
    this.current = Math.max(this.current, targetMs);
  }

  /** Number of scheduled timers. */
  get pendingTimers(): number {
    return this.timers.length;
  }
}
