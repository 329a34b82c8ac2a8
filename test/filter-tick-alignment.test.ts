// The filter's ticks fall on the window grid once its worker starts (first request or first
// tick after configure), so each window is reported as soon as it ends, whenever the worker
// started: a report a tick late reaches a decision round a window late. Tick periods are whole
// milliseconds, so a tick falls on the boundary or less than a millisecond before it.
import { strict as assert } from "node:assert";
import { test } from "node:test";
import { ManualClock } from "../filter/host/index.js";
import { startReportingFilter } from "./filter-support.js";

const EPOCH = Date.UTC(2025, 0, 1);

const starts: { name: string; firstRequestAtMs: number | undefined }[] = [
  { name: "a first request 3 ms after configure", firstRequestAtMs: 3 },
  { name: "a first request 437 ms after configure", firstRequestAtMs: 437 },
  { name: "no request (the first tick starts the worker)", firstRequestAtMs: undefined },
  // Tick periods are whole milliseconds and the clock is not: a worker started at 437.25 ms used
  // to tick at 1000.25 ms, after a control plane deciding at the window's end had decided.
  { name: "a first request at a fraction of a millisecond (437.25 ms)", firstRequestAtMs: 437.25 },
  { name: "a first request 0.8 ms after configure", firstRequestAtMs: 0.8 },
];
for (const c of starts) {
  test(`every window is reported at its end, after ${c.name}`, async () => {
    const clock = new ManualClock(EPOCH);
    const reports: [sentAtMs: number, windowStartMs: number][] = [];
    const t = await startReportingFilter(clock, (report, sentAtMs) => reports.push([sentAtMs, Number(report.windowStartMs) - EPOCH]));
    try {
      if (c.firstRequestAtMs !== undefined) {
        clock.advanceTo(EPOCH + c.firstRequestAtMs);
        const s = t.plugin.createHttpStream();
        s.sendRequestHeaders([[":method", "GET"], [":path", "/"], [":authority", "x"], [":scheme", "http"]], true);
        s.sendResponseHeaders([[":status", "200"]], true);
        s.complete();
      }
      for (let ms = 1000; ms <= 4000; ms += 1000) clock.advanceTo(EPOCH + ms);
      // Each report by its window's end and less than a millisecond before it.
      assert.deepEqual(reports.map(([, start]) => start), [0, 1000, 2000, 3000]);
      for (const [sentAt, start] of reports) assert.ok(sentAt <= start + 1000 && sentAt > start + 999, `window ${start} reported at ${sentAt} ms`);
    } finally {
      t.close();
    }
  });
}
