// A follower's sidecars' windows merged before they go to the leader
// (control-plane/src/replicas/partial-windows.ts): counters add, histograms merge, and a window
// goes once every live reporter has sent it, or once its flush delay has passed.
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { PartialWindows } from "../control-plane/src/replicas/partial-windows.js";
import type { WorkerReport } from "../control-plane/src/core/types.js";
import type { WorkerStreamWindow } from "../control-plane/src/core/streams/stream-window.js";
import { mergeCounts } from "../lib/histogram.js";
import { times, workerStreams } from "./support/streams.js";

const W = 1_700_000_000_000;

function report(windowStartMs: number, cluster: string, requests: number, errors: number, firstBucket: number, counts: number[], maxUs: number): WorkerReport {
  return {
    windowStartMs,
    windowLengthMs: 1000,
    sequence: 1,
    enforcedVersion: 7,
    clusters: [{ cluster, requests, errors5xx: errors, localRejects: 0, timeouts: 1, resets: 0, grpcErrors: 0, totalLatency: { firstBucket, counts, sumUs: requests * 100_000, maxUs } }],
  };
}

describe("merged windows of a follower's sidecars", () => {
  it("counters add, histograms merge bucket by bucket, the maximum is the larger one", () => {
    const p = new PartialWindows(250);
    p.add("s1", report(W, "a", 10, 1, 100, [4, 6], 120_000));
    p.add("s2", report(W, "a", 5, 2, 101, [3, 2], 150_000));
    const [merged] = p.take(W + 1000);
    assert.deepEqual(merged, {
      windowStartMs: W,
      windowLengthMs: 1000,
      enforcedVersion: 0,
      clusters: [{ cluster: "a", requests: 15, errors5xx: 3, localRejects: 0, timeouts: 2, resets: 0, grpcErrors: 0, totalLatency: { firstBucket: 100, counts: [4, 9, 2], sumUs: 1_500_000, maxUs: 150_000 } }],
    });
  });

  it("streams merge too: counters add and their histograms merge; a sidecar without streams adds none", () => {
    const p = new PartialWindows(250);
    const withStreams = (r: WorkerReport, streams: WorkerStreamWindow): WorkerReport => ({ ...r, clusters: [{ ...r.clusters[0]!, streams }] });
    p.add("s1", withStreams(report(W, "a", 10, 0, 100, [10], 1), workerStreams({ ttftMs: times(6, 200), tpotMs: times(6, 20), cut: 2, failedInStream: 1, tokensOut: 600, tokensEstimated: 60 })));
    p.add("s2", withStreams(report(W, "a", 10, 0, 100, [10], 1), workerStreams({ ttftMs: times(4, 900), tpotMs: times(4, 40), cut: 1, failedInStream: 1, tokensOut: 400 })));
    p.add("s3", report(W, "a", 5, 0, 100, [5], 1));
    const [merged] = p.take(W + 1000);
    const s = merged!.clusters[0]!.streams!;
    assert.deepEqual([s.streams, s.cut, s.failedInStream, s.tokensOut, s.tokensEstimated], [10, 3, 2, 1000, 60]);
    assert.deepEqual(s.ttft, { ...mergeCounts(workerStreams({ ttftMs: times(6, 200) }).ttft, workerStreams({ ttftMs: times(4, 900) }).ttft), sumUs: 4_800_000, maxUs: 900_000 });
  });

  const timing: { name: string; reporters: string[]; forget?: string; atMs: number; taken: number }[] = [
    { name: "a window every live reporter sent goes at once", reporters: ["s1", "s2"], atMs: W + 1000, taken: 1 },
    { name: "a window a live reporter has not sent waits", reporters: ["s1"], atMs: W + 1000 + 249, taken: 0 },
    { name: "a window a live reporter has not sent goes after the flush delay", reporters: ["s1"], atMs: W + 1000 + 250, taken: 1 },
    { name: "a reporter whose stream ended is not waited for", reporters: ["s1"], forget: "s2", atMs: W + 1000, taken: 1 },
  ];
  for (const c of timing) {
    it(c.name, () => {
      const p = new PartialWindows(250);
      // Both reporters are live: each sent the window before.
      p.add("s1", report(W - 1000, "a", 1, 0, 100, [1], 1));
      p.add("s2", report(W - 1000, "a", 1, 0, 100, [1], 1));
      assert.equal(p.take(W).length, 1);
      for (const r of c.reporters) p.add(r, report(W, "a", 1, 0, 100, [1], 1));
      if (c.forget !== undefined) p.forget(c.forget);
      assert.equal(p.take(c.atMs).length, c.taken);
    });
  }

  it("a report for a window already sent is counted late and dropped; a repeated one counts once", () => {
    const p = new PartialWindows(250);
    p.add("s1", report(W, "a", 10, 0, 100, [10], 1));
    p.add("s1", report(W, "a", 10, 0, 100, [10], 1));
    assert.equal(p.take(W + 2000)[0]!.clusters[0]!.requests, 10);
    p.add("s2", report(W, "a", 10, 0, 100, [10], 1));
    assert.equal(p.late, 1);
    assert.deepEqual(p.take(W + 5000), []);
  });
});
