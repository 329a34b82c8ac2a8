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
const LIGHT: ClusterLoad[] = [{ offeredRps: 10, kneeRps: 100 }];

/** Hosts out after two windows in a row with these counts. */
function ejectedAfter(counts: HostWindowCounts[], loads: (ClusterLoad | undefined)[] = LIGHT): number[] {
  const d = new HostOutlierDetector([counts.length]);
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
    { name: "a sick host of four in a cluster at 80 % of the load where its latency turns up: none, the three left would pass their share of it", counts: hosts([100, 0.5], [100, 0], [100, 0], [100, 0]), loads: [{ offeredRps: 80, kneeRps: 100 }], ejected: [] },
    { name: "a sick host of four at 70 % of its knee: it, the three left carry 70 of their 75", counts: hosts([100, 0.5], [100, 0], [100, 0], [100, 0]), loads: [{ offeredRps: 70, kneeRps: 100 }], ejected: [0] },
    { name: "two sick hosts of four at 60 % of its knee: the worse, a second would leave half the hosts for 60 %", counts: hosts([100, 0.5], [100, 0.6], [100, 0], [100, 0]), loads: [{ offeredRps: 60, kneeRps: 100 }], ejected: [1] },
    { name: "a sick host of four in a cluster whose knee was never seen: it", counts: hosts([100, 0.5], [100, 0], [100, 0], [100, 0]), loads: [{ offeredRps: 500, kneeRps: Infinity }], ejected: [0] },
    { name: "a sick host in a cluster whose load is not known yet: none", counts: hosts([100, 0.5], [100, 0], [100, 0]), loads: [undefined], ejected: [] },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(ejectedAfter(c.counts, c.loads), c.ejected));
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
    const busy: ClusterLoad = { offeredRps: 100, kneeRps: Infinity };
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
    const at = (offeredRps: number): ClusterLoad => ({ offeredRps, kneeRps: Infinity });
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
