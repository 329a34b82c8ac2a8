// A window's promptness: the share of its own requests that ended in it, against the share the
// latencies of the requests that ended in it imply; slow requests older than the window show as
// clearly more of its own requests ending than those latencies allow.
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { BUCKET_COUNT, bucketOf } from "../control-plane/src/core/latency-buckets.js";
import { impliedEndedShare, slownessIsStale, type Promptness } from "../control-plane/src/core/promptness.js";
import { windowView } from "../control-plane/src/admin/views.js";
import { clusterWindow } from "./cluster-window.js";

function countsOf(latenciesMs: number[]): Float64Array {
  const counts = new Float64Array(BUCKET_COUNT);
  for (const ms of latenciesMs) counts[bucketOf(ms * 1000)]!++;
  return counts;
}

describe("the share of a window's requests its ended requests' latencies imply", () => {
  const cases: { name: string; latenciesMs: number[]; windowMs: number; share: number }[] = [
    { name: "answers far shorter than the window: nearly all", latenciesMs: [1, 2, 3], windowMs: 1000, share: 0.998 },
    { name: "answers longer than the window: none", latenciesMs: [1500, 3000], windowMs: 1000, share: 0 },
    { name: "half at 200 ms, half at 2 s, in a 1 s window: half of 0.8", latenciesMs: [200, 200, 2000, 2000], windowMs: 1000, share: 0.4 },
    { name: "latencies spread evenly over the window: half", latenciesMs: Array.from({ length: 1000 }, (_, i) => i + 0.5), windowMs: 1000, share: 0.5 },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const got = impliedEndedShare(countsOf(c.latenciesMs), c.latenciesMs.length, c.windowMs * 1000);
      assert.ok(Math.abs(got - c.share) < 0.02, `${got} against ${c.share}`);
    });
  }
  it("is NaN without ended requests", () => {
    assert.ok(Number.isNaN(impliedEndedShare(new Float64Array(BUCKET_COUNT), 0, 1e6)));
  });
});

describe("slow requests older than the window", () => {
  const p = (sent: number, endedShare: number, impliedShare: number, ended = sent): Promptness => ({ sent, endedShare, impliedShare, ended });
  const cases: { name: string; promptness: Promptness | undefined; stale: boolean }[] = [
    { name: "no promptness (an older filter): not judged stale", promptness: undefined, stale: false },
    { name: "its own requests end as their latencies imply (a steady state)", promptness: p(400, 0.62, 0.63), stale: false },
    { name: "a little more of its own requests end, within the noise", promptness: p(400, 0.66, 0.62), stale: false },
    { name: "far more of its own requests end than the latencies imply (a queue that drained)", promptness: p(400, 0.59, 0.11), stale: true },
    { name: "far fewer end (latency rising now): not stale", promptness: p(400, 0.10, 0.33), stale: false },
    { name: "too few requests sent to judge", promptness: p(20, 0.9, 0.1), stale: false },
    { name: "too few ended to judge", promptness: p(400, 0.9, 0.1, 20), stale: false },
    { name: "answers all slower than the window, and still more end than that implies", promptness: p(400, 0.2, 0), stale: true },
  ];
  for (const c of cases) {
    it(`${c.name}: ${c.stale ? "stale" : "not stale"}`, () => assert.equal(slownessIsStale(c.promptness), c.stale));
  }
});

describe("the admin API's view of a window's promptness", () => {
  it("shows the shares and whether the window's slow requests are older than it, and null where it was not counted", () => {
    const stale = windowView(clusterWindow({ cluster: "a", promptness: { sent: 400, endedShare: 0.59, impliedShare: 0.11, ended: 400 } }));
    assert.deepEqual(stale.promptness, { sent: 400, ended_share: 0.59, implied_share: 0.11, stale_slowness: true });
    const steady = windowView(clusterWindow({ cluster: "a", promptness: { sent: 400, endedShare: 0.62, impliedShare: 0.63, ended: 400 } }));
    assert.equal(steady.promptness?.stale_slowness, false);
    assert.equal(windowView(clusterWindow({ cluster: "a" })).promptness, null);
  });
});
