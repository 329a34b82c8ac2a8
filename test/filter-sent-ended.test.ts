// The filter counts, of the requests sent in a window, those that completed upstream before the
// window's end (ClusterWindow.sent_ended), and puts the count on the wire whenever it sent any:
// present at 0 too, so that a control plane tells "none ended yet" from an older filter.
import { strict as assert } from "node:assert";
import { test } from "node:test";
import { ManualClock } from "../filter/host/index.js";
import type { ClusterWindow } from "../proto/gen/autoglm/v1/traffic_guard_pb.js";
import { startReportingFilter } from "./filter-support.js";

const EPOCH = Date.UTC(2025, 0, 1);

/** A request to cluster "a", sent at sentAtMs and answered at endAtMs (ms after EPOCH); null: never answered. */
interface Call { sentAtMs: number; endAtMs: number | null; status?: string }

const cases: { name: string; calls: Call[]; windows: { start: number; requests: number; sent: number; sentEnded: number | undefined }[] }[] = [
  {
    name: "requests answered within the window they were sent in are counted there",
    calls: [{ sentAtMs: 100, endAtMs: 300 }, { sentAtMs: 200, endAtMs: 900 }],
    windows: [{ start: 0, requests: 2, sent: 2, sentEnded: 2 }],
  },
  {
    name: "a request answered in the next window counts as sent in its own and ended in neither",
    calls: [{ sentAtMs: 100, endAtMs: 300 }, { sentAtMs: 800, endAtMs: 1200 }],
    windows: [
      { start: 0, requests: 1, sent: 2, sentEnded: 1 },
      { start: 1000, requests: 1, sent: 0, sentEnded: undefined },
    ],
  },
  {
    name: "a window whose requests are all still in flight at its end says 0 ended (present, not absent)",
    calls: [{ sentAtMs: 500, endAtMs: 1500 }],
    windows: [
      { start: 0, requests: 0, sent: 1, sentEnded: 0 },
      { start: 1000, requests: 1, sent: 0, sentEnded: undefined },
    ],
  },
  {
    name: "an answer with a 5xx status is a completed request too",
    calls: [{ sentAtMs: 100, endAtMs: 200, status: "503" }],
    windows: [{ start: 0, requests: 1, sent: 1, sentEnded: 1 }],
  },
];

for (const c of cases) {
  test(`sent_ended: ${c.name}`, async () => {
    const clock = new ManualClock(EPOCH);
    const reports: { start: number; cluster: ClusterWindow | undefined }[] = [];
    const t = await startReportingFilter(clock, (report) => {
      reports.push({ start: Number(report.windowStartMs) - EPOCH, cluster: report.clusters.find((w) => w.cluster === "a") });
    });
    try {
      // Events in time order: each call's start, then its end.
      const events = c.calls.flatMap((call) => {
        const out: { at: number; run: () => void }[] = [];
        let stream: ReturnType<typeof t.plugin.createHttpStream> | undefined;
        out.push({ at: call.sentAtMs, run: () => {
          stream = t.plugin.createHttpStream();
          stream.sendRequestHeaders([[":method", "GET"], [":path", "/"], [":authority", "x"], [":scheme", "http"]], true);
        } });
        if (call.endAtMs !== null) out.push({ at: call.endAtMs, run: () => {
          stream!.sendResponseHeaders([[":status", call.status ?? "200"]], true);
          stream!.complete();
        } });
        return out;
      }).sort((a, b) => a.at - b.at);
      for (const e of events) {
        clock.advanceTo(EPOCH + e.at);
        e.run();
      }
      clock.advanceTo(EPOCH + 3000);
      for (const want of c.windows) {
        const got = reports.find((r) => r.start === want.start)?.cluster;
        assert.ok(got !== undefined, `window ${want.start}: no report of cluster a`);
        assert.deepEqual({ start: want.start, requests: got.requests, sent: got.sent, sentEnded: got.sentEnded }, want);
      }
    } finally {
      t.close();
    }
  });
}
