// The demo waits for its whole duration on the clock it reports, even when a timer fires early.
import { test } from "node:test";
import assert from "node:assert/strict";
import { runUntil, type RunForClock } from "../demo/run-for.js";

/** A manual clock whose timers longer than `earlyMs` fire `earlyMs` before their delay has passed
 * (as Node's may: its timers' monotonic clock and Date.now round differently). */
function earlyClock(earlyMs: number): RunForClock & { nowMs: number; delays: number[] } {
  const clock = {
    nowMs: 0,
    delays: [] as number[],
    now: () => clock.nowMs,
    setTimer: (fn: () => void, delayMs: number) => {
      clock.delays.push(delayMs);
      const handle = { cancelled: false };
      queueMicrotask(() => {
        if (handle.cancelled) return;
        clock.nowMs += delayMs > earlyMs ? delayMs - earlyMs : delayMs;
        fn();
      });
      return handle;
    },
    clearTimer: (handle: unknown) => {
      (handle as { cancelled: boolean }).cancelled = true;
    },
  };
  return clock;
}

const cases = [
  { name: "a timer on time ends the wait at the deadline", earlyMs: 0, deadlineMs: 120_000, timers: 1 },
  { name: "a timer a millisecond early is re-armed for the millisecond left", earlyMs: 1, deadlineMs: 120_000, timers: 2 },
  { name: "a deadline already passed ends the wait at once", earlyMs: 0, deadlineMs: 0, timers: 0 },
];
for (const c of cases) {
  test(`runUntil: ${c.name}`, async () => {
    const clock = earlyClock(c.earlyMs);
    const aborted = await runUntil(c.deadlineMs, undefined, clock);
    assert.equal(aborted, false);
    assert.ok(clock.nowMs >= c.deadlineMs, `clock ${clock.nowMs} ms, deadline ${c.deadlineMs} ms`);
    assert.equal(clock.delays.length, c.timers, `timers armed: ${clock.delays.join(", ")}`);
  });
}

test("runUntil: an abort ends the wait before the deadline and reports it", async () => {
  const controller = new AbortController();
  const clock: RunForClock = { now: () => 0, setTimer: () => ({}), clearTimer: () => {} };
  const waiting = runUntil(60_000, controller.signal, clock);
  controller.abort();
  assert.equal(await waiting, true);
  const already = new AbortController();
  already.abort();
  assert.equal(await runUntil(60_000, already.signal, clock), true);
});
