// A follower's sidecars' windows merged before they go to the leader
// (control-plane/src/replicas/partial-windows.ts): counters add, histograms merge, and a window
// goes once every live reporter has sent it, or once its flush delay has passed. Who sent the
// requests merges too (partial-sources.ts), keeping space-saving's bounds at the leader.
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import fc from "fast-check";
import { PartialWindows } from "../control-plane/src/replicas/partial-windows.js";
import { mergeWorkerSources } from "../control-plane/src/replicas/partial-sources.js";
import { SourceBook, type WorkerSourceCount, type WorkerSources } from "../control-plane/src/core/sources/index.js";
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

  const failedCases: { name: string; failed: [number | undefined, number | undefined]; want: number | undefined }[] = [
    { name: "both sidecars count them: their sum", failed: [2, 3], want: 5 },
    { name: "one sidecar's filter does not: its overlapping counts added up, at most its requests", failed: [2, undefined], want: 2 + 3 },
    { name: "neither does: none (the leader adds the counts up itself)", failed: [undefined, undefined], want: undefined },
  ];
  for (const c of failedCases) {
    it(`failed requests, counted once, merge: ${c.name}`, () => {
      const p = new PartialWindows(250);
      const withFailed = (r: WorkerReport, failed: number | undefined): WorkerReport =>
        failed === undefined ? r : { ...r, clusters: [{ ...r.clusters[0]!, failed }] };
      p.add("s1", withFailed(report(W, "a", 10, 2, 100, [10], 1), c.failed[0]));
      p.add("s2", withFailed(report(W, "a", 5, 2, 100, [5], 1), c.failed[1]));
      const [merged] = p.take(W + 1000);
      assert.equal(merged!.clusters[0]!.failed, c.want);
    });
  }

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

const src = (source: string, requests: number, overestimate = 0, errors = 0, limited = 0): WorkerSourceCount => ({ source, requests, overestimate, errors, limited });

describe("a follower's sidecars' sources merged for the leader", () => {
  const cases: { name: string; parts: WorkerSources[]; max: number; expect: WorkerSources }[] = [
    {
      name: "sketches that displaced nothing add up, totals too",
      parts: [{ total: 30, sources: [src("a", 20, 0, 2, 1), src("b", 10)] }, { total: 5, sources: [src("a", 5, 0, 1)] }],
      max: 256,
      expect: { total: 35, sources: [src("a", 25, 0, 3, 1), src("b", 10)] },
    },
    {
      name: "a sidecar that displaced sources adds its smallest count, as overestimate, to those it did not keep",
      parts: [{ total: 100, sources: [src("a", 60, 0), src("b", 40, 10)] }, { total: 50, sources: [src("c", 50)] }],
      max: 256,
      // Sidecar 0 displaced (b's overestimate) with smallest 40: c may have had 40 more there.
      expect: { total: 150, sources: [src("c", 90, 40), src("a", 60), src("b", 40, 10)] },
    },
    {
      name: "past the leader's limit the largest upper bounds are kept, and the cut shows as a displacement",
      parts: [{ total: 9, sources: [src("a", 5), src("b", 3, 0, 1), src("c", 1)] }],
      max: 2,
      expect: { total: 9, sources: [src("a", 5), src("b", 3, 1, 1)] },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.deepEqual(mergeWorkerSources(c.parts, c.max), c.expect);
    });
  }

  it("the leader's bounds bracket every source's true count, whatever the follower's sketches kept and its limit cut (fast-check)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.integer({ min: 0, max: 12 }), { minLength: 1, maxLength: 80 }), { minLength: 1, maxLength: 4 }),
        fc.array(fc.integer({ min: 0, max: 12 }), { maxLength: 40 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 8 }),
        (followerSidecars, leaderSidecar, k, max) => {
          const truth = new Map<string, number>();
          /** A reference space-saving sketch of K slots over the ids. */
          const sketch = (ids: number[]): WorkerSources => {
            const slots = new Map<string, { n: number; over: number }>();
            for (const id of ids.map((i) => `s${i}`)) {
              truth.set(id, (truth.get(id) ?? 0) + 1);
              const e = slots.get(id);
              if (e !== undefined) e.n++;
              else if (slots.size < k) slots.set(id, { n: 1, over: 0 });
              else {
                const [minId, min] = [...slots].reduce((a, b) => (b[1].n < a[1].n ? b : a));
                slots.delete(minId);
                slots.set(id, { n: min.n + 1, over: min.n });
              }
            }
            return { total: ids.length, sources: [...slots].map(([s, e]) => src(s, e.n, e.over)) };
          };
          const book = new SourceBook(4);
          const merged = mergeWorkerSources(followerSidecars.map(sketch), max);
          if (merged.sources.length > max) return false;
          for (const s of merged.sources) if (s.errors > s.requests - s.overestimate || s.overestimate > s.requests) return false;
          book.ingest("replica/b", W, 1000, merged);
          if (leaderSidecar.length > 0) book.ingest("leader-sidecar", W, 1000, sketch(leaderSidecar));
          const view = book.view(W, W + 1000, 1000);
          if (view.totalRequests !== [...truth.values()].reduce((a, b) => a + b, 0)) return false;
          for (const [id, t] of truth) {
            const s = view.sources.find((x) => x.source === id);
            if (s === undefined) {
              if (t > view.unlistedMaxRequests) return false;
            } else if (!(s.minRequests <= t && t <= s.maxRequests)) return false;
          }
          return true;
        },
      ),
      { numRuns: 300, seed: 19 },
    );
  });

  it("a merged window carries its reporters' sources; one without any carries none", () => {
    const windows = new PartialWindows(500);
    const base = report(W, "llm-a", 10, 0, 5, [10], 1000);
    windows.add("s1", { ...base, sources: { total: 10, sources: [src("a", 10)] } });
    windows.add("s2", { ...base, sources: { total: 4, sources: [src("a", 3), src("b", 1)] } });
    windows.add("s1", { ...report(W + 1000, "llm-a", 10, 0, 5, [10], 1000) });
    const [first, second] = windows.take(W + 5000);
    assert.deepEqual(first!.sources, { total: 14, sources: [src("a", 13), src("b", 1)] });
    assert.equal(second!.sources, undefined);
  });
});
