// Mesh-wide outlier detection of single hosts (control-plane/src/core/host-outliers.ts): which
// hosts a window's counts eject, how many at once, and for how long.
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import fc from "fast-check";
import { HostOutlierDetector, type ClusterLoad, type HostWindowCounts } from "../control-plane/src/core/host-outliers.js";

/** Hosts with these request counts and bad fractions. */
function hosts(...spec: Array<[requests: number, badFraction: number]>): HostWindowCounts[] {
  return spec.map(([requests, f]) => ({ requests, bad: Math.round(requests * f) }));
}

/** A cluster at a tenth of its safe load: any host may go. */
const LIGHT: ClusterLoad[] = [{ offeredRps: 10 }];

/** Hosts out after windows of 1 s with these counts: the first judgement only starts the span of the counts, then two in a row. */
function ejectedAfter(counts: HostWindowCounts[], loads: (ClusterLoad | undefined)[] = LIGHT): number[] {
  const d = new HostOutlierDetector([counts.length]);
  d.judgeWindow([counts.map(() => ({ requests: 0, bad: 0 }))], 9, loads);
  d.judgeWindow([counts], 10, loads);
  d.judgeWindow([counts], 11, loads);
  return counts.map((_, h) => h).filter((h) => d.isEjected(0, h));
}

describe("which hosts two windows in a row eject", () => {
  const cases: { name: string; counts: HostWindowCounts[]; loads?: (ClusterLoad | undefined)[]; ejected: number[] }[] = [
    { name: "one host of four answering a third of its requests with errors, its peers one in a thousand: that host", counts: hosts([100, 0.33], [100, 0.001], [100, 0], [100, 0]), ejected: [0] },
    { name: "every host failing a third (the cluster overloaded or faulty as a whole): none, the cluster is the planner's", counts: hosts([100, 0.33], [100, 0.3], [100, 0.35], [100, 0.32]), ejected: [] },
    { name: "a host missing the objective on every request while its peers are fine (slow but answering): that host", counts: hosts([60, 0], [60, 1], [60, 0.02]), ejected: [1] },
    { name: "a bad host with fewer requests than a judgement needs: none", counts: hosts([10, 1], [100, 0], [100, 0]), ejected: [] },
    { name: "a host somewhat worse than its peers (5 % against 1 %): none, the excess is too small to act on", counts: hosts([1000, 0.05], [1000, 0.01], [1000, 0.01]), ejected: [] },
    { name: "a host 12 % bad against 2 % on 30 requests: none, not sure enough", counts: hosts([30, 0.12], [300, 0.02], [300, 0.02]), ejected: [] },
    { name: "two hosts, one failing half its requests: it (one of two may go)", counts: hosts([100, 0.5], [100, 0]), ejected: [0] },
    { name: "two sick hosts of five: both, judged against the better half of the others", counts: hosts([100, 0.5], [100, 0.6], [100, 0], [100, 0.01], [100, 0]), ejected: [0, 1] },
    { name: "four sick hosts of seven: the three worst, at most half the cluster (rounded down) out at once", counts: hosts([100, 0.4], [100, 0.9], [100, 0.6], [100, 0.7], [100, 0], [100, 0], [100, 0]), ejected: [1, 2, 3] },
    { name: "three sick hosts of four: none, their peers are sick too (the cluster's, the planner's)", counts: hosts([100, 0.4], [100, 0.9], [100, 0.6], [100, 0]), ejected: [] },
    { name: "a cluster of one host: never, it has no peers", counts: hosts([500, 1]), ejected: [] },
    { name: "a sick host while its peers go bad too (8 %): none, the cluster suffers as a whole", counts: hosts([100, 0.5], [100, 0.08], [100, 0.08]), ejected: [] },
    { name: "a sick host of four in a busy cluster whose knee was never seen and that no rollback has taught a bound: it", counts: hosts([100, 0.5], [100, 0], [100, 0], [100, 0]), loads: [{ offeredRps: 500 }], ejected: [0] },
    { name: "a sick host in a cluster whose load is not known yet: none", counts: hosts([100, 0.5], [100, 0], [100, 0]), loads: [undefined], ejected: [] },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(ejectedAfter(c.counts, c.loads), c.ejected));
});

/** Hosts sent `issued` requests (all answered, none failed) that held `inFlight` requests at the reports. */
function timed(...spec: Array<[issued: number, inFlight: number]>): HostWindowCounts[] {
  return spec.map(([issued, inFlight]) => ({ requests: issued, bad: 0, issued, inFlight }));
}

/** A light cluster whose newest window had this share of its requests over the latency objective. */
const missing = (slowShare: number | undefined): ClusterLoad[] => [{ offeredRps: 10, ...(slowShare === undefined ? {} : { slowShare }) }];

describe("which slow hosts two windows in a row eject (requests in flight per request: Little's law)", () => {
  const cases: { name: string; counts: HostWindowCounts[]; slowShare?: number; ejected: number[] }[] = [
    { name: "one host of four holding ten times its peers' requests in flight per request while a tenth of the cluster's requests miss the objective: that host", counts: timed([100, 100], [100, 10], [100, 11], [100, 9]), slowShare: 0.1, ejected: [0] },
    { name: "the same host while only half a percent miss the objective (the p99 holds): none, clients do not feel it", counts: timed([100, 100], [100, 10], [100, 11], [100, 9]), slowShare: 0.005, ejected: [] },
    { name: "the same host when the cluster's latency is not known: none", counts: timed([100, 100], [100, 10], [100, 11], [100, 9]), ejected: [] },
    { name: "every host as slow (the cluster overloaded or slow as a whole): none, the cluster is the planner's", counts: timed([100, 100], [100, 95], [100, 105], [100, 100]), slowShare: 0.5, ejected: [] },
    { name: "a host twice as slow as its peers: none, under the threefold slowdown", counts: timed([100, 40], [100, 20], [100, 20], [100, 20]), slowShare: 0.1, ejected: [] },
    { name: "a host four times as slow on few requests in flight (4 against 1): none, not sure enough", counts: timed([20, 4], [20, 1], [20, 1], [20, 1]), slowShare: 0.1, ejected: [] },
    { name: "hosts that report no requests in flight (an older report): none, judged on errors only", counts: hosts([100, 0], [100, 0], [100, 0]), slowShare: 0.5, ejected: [] },
    { name: "two slow hosts of five: both, judged against the better half of the others", counts: timed([100, 80], [100, 90], [100, 8], [100, 9], [100, 10]), slowShare: 0.3, ejected: [0, 1] },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(ejectedAfter(c.counts, missing(c.slowShare)), c.ejected));

  // In windows of 1 s: a host sent 80 requests a second holding 150 in flight has a mean latency of 1.9 s.
  const stuck: HostWindowCounts[] = [{ requests: 0, bad: 0, issued: 80, inFlight: 150 }, ...timed([80, 20], [80, 18], [80, 22])];
  const objectiveCases: { name: string; objectiveMs: number; ejected: number[] }[] = [
    { name: "a host that answered nothing in the window, holding 150 requests in flight while its peers hold 20 each, with a mean latency (1.9 s) past the 1-s objective before any of its requests ended slow: that host", objectiveMs: 1000, ejected: [0] },
    { name: "the same host under a 5-s objective its mean latency has not reached (and no slow share known): none yet", objectiveMs: 5000, ejected: [] },
  ];
  for (const c of objectiveCases) it(c.name, () => assert.deepEqual(ejectedAfter(stuck, [{ offeredRps: 320, latencyObjectiveMs: c.objectiveMs }]), c.ejected));

  it("comes back at once when the hosts left become three times as slow as its peers were, and is held in for an ejection base", () => {
    const d = new HostOutlierDetector([3], { baseEjectionS: 30 });
    const slow = timed([100, 100], [100, 10], [100, 10]);
    const peersSlow = timed([0, 0], [100, 35], [100, 40]);
    const kinds = [[0, slow], [1, slow], [5, peersSlow], [10, slow]].flatMap(([t, counts]) => d.judgeWindow([counts as HostWindowCounts[]], t as number, missing(0.2)).map((e) => `${e.kind}${e.reason === undefined ? "" : ` ${e.reason}`}`));
    assert.deepEqual(kinds, ["eject latency", "rollback"]);
    assert.equal(d.isEjected(0, 0), false);
  });
});

describe("the knee as a bound on an ejection", () => {
  // Four hosts, host 0 failing half its requests; the cluster carries 70 rps, so the three left
  // would carry 23.3 each: under a knee of 100 rps (25 per host of four), over one of 85 (21.25).
  const sick = hosts([100, 0.5], [100, 0], [100, 0], [100, 0]);
  const fine = hosts([100, 0], [100, 0], [100, 0], [100, 0]);
  const cases: Array<{ name: string; steps: Array<[HostWindowCounts[], number]>; out: boolean }> = [
    { name: "a knee of 100 learnt while every host was fine, then 85 learnt while host 0 stood out (the sick host's latency): it goes out, bounded by 100", steps: [[fine, 100], [sick, 85], [sick, 85]], out: true },
    { name: "a knee of 85 learnt while every host was fine: it stays in (the three left would pass their share)", steps: [[fine, 85], [sick, 85], [sick, 85]], out: false },
    { name: "no knee seen: it goes out", steps: [[fine, Infinity], [sick, Infinity], [sick, Infinity]], out: true },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const d = new HostOutlierDetector([4]);
      c.steps.forEach(([counts, kneeRps], t) => d.judgeWindow([counts], t, [{ offeredRps: 70, kneeRps }]));
      assert.equal(d.isEjected(0, 0), c.out);
    });
  }
});

describe("how long a host stays out", () => {
  const bad = hosts([100, 0.5], [100, 0], [100, 0]);
  const good = hosts([100, 0], [100, 0], [100, 0]);
  /** Judges each [time, counts] in turn; returns whether host 0 is out after each. */
  function run(d: HostOutlierDetector, steps: Array<[number, HostWindowCounts[], ClusterLoad?]>): boolean[] {
    return steps.map(([t, counts, load]) => {
      d.judgeWindow([counts], t, load === undefined ? LIGHT : [load]);
      return d.isEjected(0, 0);
    });
  }

  it("stays in when it is out of line for one window only", () => {
    assert.deepEqual(run(new HostOutlierDetector([3]), [[0, bad], [1, good], [2, bad], [3, good]]), [false, false, false, false]);
  });

  it("returns after the base ejection time, goes out for twice as long when still bad, and is forgiven after a good spell", () => {
    const d = new HostOutlierDetector([3], { baseEjectionS: 30, maxEjectionS: 300 });
    assert.deepEqual(run(d, [[0, bad], [1, bad], [30, good]]), [false, true, true], "out from 1 s to 31 s");
    assert.deepEqual(run(d, [[31, bad], [32, bad], [91, good], [92, good]]), [false, true, true, false], "back at 31 s, out again from 32 s for 60 s");
    assert.deepEqual(run(d, [[122, good], [123, bad], [124, bad], [153, good], [154, good]]), [false, false, true, true, false], "in service for a base: forgiven, out for 30 s again");
  });

  it("never stays out longer than the longest ejection", () => {
    const d = new HostOutlierDetector([3], { baseEjectionS: 30, maxEjectionS: 45 });
    assert.deepEqual(run(d, [[0, bad], [1, bad], [31, bad], [32, bad], [76, good], [77, good]]), [false, true, false, true, true, false]);
  });

  it("comes back at once when the hosts left in service go bad after it went out, and is held in for an ejection base", () => {
    const d = new HostOutlierDetector([3], { baseEjectionS: 30 });
    const peersBad = hosts([0, 0], [100, 0.2], [100, 0.25]);
    const busy: ClusterLoad = { offeredRps: 100 };
    const kinds: string[] = [];
    const steps: Array<[number, HostWindowCounts[], ClusterLoad?]> = [[0, bad], [1, bad], [5, peersBad, busy], [10, bad], [11, bad], [36, bad]];
    const out = steps.map(([t, counts, load]) => {
      kinds.push(...d.judgeWindow([counts], t, load === undefined ? LIGHT : [load]).map((e) => e.kind));
      return d.isEjected(0, 0);
    });
    assert.deepEqual(out, [false, true, false, false, false, true]);
    assert.deepEqual(kinds, ["eject", "rollback", "eject"]);
  });

  it("after a rollback, is ejected only while the hosts left carry less than 80 % of the load per host that went bad", () => {
    // Rolled back at 100 rps over 2 hosts in service: 50 rps per host went bad, so 40 is the bound.
    const peersBad = hosts([0, 0], [100, 0.2], [100, 0.25]);
    const at = (offeredRps: number): ClusterLoad => ({ offeredRps });
    const cases: Array<{ offeredRps: number; out: boolean }> = [{ offeredRps: 90, out: false }, { offeredRps: 70, out: true }];
    for (const c of cases) {
      const d = new HostOutlierDetector([3], { baseEjectionS: 30 });
      run(d, [[0, bad], [1, bad], [5, peersBad, at(100)]]);
      assert.equal(run(d, [[40, bad, at(c.offeredRps)], [41, bad, at(c.offeredRps)]]).at(-1), c.out, `${c.offeredRps} rps over 2 hosts left`);
    }
  });
});

describe("what holds for any counts (property-based)", () => {
  /** A cluster of 2–12 hosts, each with 0–400 requests of which any number failed. */
  const cluster = fc.array(fc.tuple(fc.integer({ min: 0, max: 400 }), fc.double({ min: 0, max: 1, noNaN: true })), { minLength: 2, maxLength: 12 })
    .map((spec) => spec.map(([requests, f]) => ({ requests, bad: Math.round(requests * f) })));

  it("hosts that all fail the same share are never ejected, however many windows", () => {
    fc.assert(fc.property(fc.integer({ min: 2, max: 12 }), fc.integer({ min: 20, max: 400 }), fc.double({ min: 0, max: 1, noNaN: true }), (n, requests, f) => {
      const d = new HostOutlierDetector([n]);
      const counts = Array.from({ length: n }, () => ({ requests, bad: Math.round(requests * f) }));
      for (let t = 0; t < 5; t++) d.judgeWindow([counts], t, LIGHT);
      return Array.from({ length: n }, (_, h) => d.isEjected(0, h)).every((out) => !out);
    }));
  });

  it("hosts that all hold the same requests in flight per request sent are never ejected, even while the cluster misses its objective", () => {
    fc.assert(fc.property(fc.integer({ min: 2, max: 12 }), fc.integer({ min: 20, max: 400 }), fc.double({ min: 0, max: 5, noNaN: true }), (n, issued, perRequest) => {
      const d = new HostOutlierDetector([n]);
      const counts = Array.from({ length: n }, () => ({ requests: issued, bad: 0, issued, inFlight: issued * perRequest }));
      for (let t = 0; t < 5; t++) d.judgeWindow([counts], t, [{ offeredRps: issued * n, slowShare: 1, latencyObjectiveMs: 1 }]);
      return Array.from({ length: n }, (_, h) => d.isEjected(0, h)).every((out) => !out);
    }));
  });

  it("never more than half the hosts (at least one) are out, and none while the cluster's load is unknown", () => {
    fc.assert(fc.property(fc.array(cluster, { minLength: 1, maxLength: 6 }), (windows) => {
      const n = windows[0]!.length;
      const sized = windows.map((w) => Array.from({ length: n }, (_, h) => w[h] ?? { requests: 0, bad: 0 }));
      const known = new HostOutlierDetector([n]);
      const unknown = new HostOutlierDetector([n]);
      const cap = Math.max(1, Math.floor(n / 2));
      return sized.every((counts, t) => {
        known.judgeWindow([counts], t, LIGHT);
        unknown.judgeWindow([counts], t, [undefined]);
        const out = Array.from({ length: n }, (_, h) => known.isEjected(0, h)).filter(Boolean).length;
        return out <= cap && Array.from({ length: n }, (_, h) => unknown.isEjected(0, h)).every((o) => !o);
      });
    }));
  });
});
