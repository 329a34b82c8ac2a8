// Envoy's outlier detection and priority load, on small hand-made traces.
import { test } from "node:test";
import assert from "node:assert/strict";
import { LOCAL_ORIGIN_ONLY, OutlierDetector } from "../sim/policies/outlier-detection.js";
import { healthScore, priorityLoad } from "../sim/policies/priority-load.js";

function fail(d: OutlierDetector, host: number, times: number, atS: number, cluster = 0): void {
  for (let i = 0; i < times; i++) d.onResult(cluster, host, 503, atS);
}

test("five consecutive 5xx eject a host at once; a success in between resets the count", () => {
  const d = new OutlierDetector([10]);
  fail(d, 0, 4, 1);
  d.onResult(0, 0, 200, 1);
  fail(d, 0, 4, 1);
  assert.equal(d.isEjected(0, 0), false, "4 + 4 with a success between");
  fail(d, 0, 1, 1.5);
  assert.equal(d.isEjected(0, 0), true, "the fifth in a row");
  assert.deepEqual(d.events.map((e) => [e.atS, e.kind, e.reason]), [[1.5, "eject", "consecutive_5xx"]]);
});

test("at most 10% of a cluster's hosts are ejected, but always at least one", () => {
  const table: Array<[number, number]> = [[1, 1], [4, 1], [10, 1], [19, 1], [20, 2], [35, 3]];
  for (const [hosts, most] of table) {
    const d = new OutlierDetector([hosts]);
    for (let h = 0; h < hosts; h++) fail(d, h, 5, 1);
    let ejected = 0;
    for (let h = 0; h < hosts; h++) if (d.isEjected(0, h)) ejected++;
    assert.equal(ejected, most, `${hosts} hosts`);
    assert.equal(d.healthyHosts(0), hosts - most);
  }
});

test("the ejection time is 30 s times the ejections in a row, served at the 10 s sweeps", () => {
  const d = new OutlierDetector([10]);
  const sweepUntil = (t: number) => {
    while (d.nextSweepS() <= t) d.sweep(d.nextSweepS());
  };
  fail(d, 3, 5, 1); // ejected at 1 for 30 s
  sweepUntil(30);
  assert.equal(d.isEjected(0, 3), true, "still out at the 30 s sweep (29 s served)");
  sweepUntil(40);
  assert.equal(d.isEjected(0, 3), false, "back at the 40 s sweep");
  fail(d, 3, 5, 41); // second ejection in a row: 60 s
  assert.equal(d.ejectionTimeS(0, 3), 60);
  sweepUntil(100);
  assert.equal(d.isEjected(0, 3), true, "59 s served at the 100 s sweep");
  sweepUntil(110);
  assert.equal(d.isEjected(0, 3), false);
});

test("the ejection multiplier decays by one per healthy sweep", () => {
  const d = new OutlierDetector([10]);
  fail(d, 0, 5, 0);
  for (let t = 10; t <= 30; t += 10) d.sweep(t); // unejected at 30
  fail(d, 0, 5, 31); // multiplier 2
  for (let t = 40; t <= 100; t += 10) d.sweep(t); // unejected at 100 (60 s)
  assert.equal(d.isEjected(0, 0), false);
  d.sweep(110); // healthy sweep: multiplier 2 → 1
  fail(d, 0, 5, 111); // multiplier 2 again, not 3
  assert.equal(d.ejectionTimeS(0, 0), 60);
});

test("success-rate detection ejects a host far below its peers at the sweep", () => {
  const d = new OutlierDetector([6]);
  for (let h = 0; h < 6; h++) {
    for (let i = 0; i < 200; i++) {
      // Host 5 fails one in three; failures are spread out so no 5 come in a row.
      const failed = h === 5 ? i % 3 === 0 : i === 0 && h === 0;
      d.onResult(0, h, failed ? 500 : 200, 5);
    }
  }
  assert.equal(d.isEjected(0, 5), false, "not by consecutive 5xx");
  d.sweep(10);
  assert.equal(d.isEjected(0, 5), true);
  assert.equal(d.events.at(-1)!.reason, "success_rate");
});

test("success-rate detection needs five hosts with 100 requests each", () => {
  const d = new OutlierDetector([4]);
  for (let h = 0; h < 4; h++) for (let i = 0; i < 200; i++) d.onResult(0, h, h === 3 && i % 3 === 0 ? 500 : 200, 5);
  d.sweep(10);
  assert.equal(d.isEjected(0, 3), false);
});

test("with local-origin errors split out, refused connections eject a host and answered 5xx never do", () => {
  const cases: Array<{ name: string; results: Array<[status: number, connectFailed: boolean]>; ejected: boolean }> = [
    { name: "five refused connections in a row", results: Array(5).fill([503, true]), ejected: true },
    { name: "four refused, a connection made, four refused", results: [...Array(4).fill([503, true]), [503, false], ...Array(4).fill([503, true])], ejected: false },
    { name: "fifty answered 503s (overload)", results: Array(50).fill([503, false]), ejected: false },
    { name: "fifty answered 500s (errors)", results: Array(50).fill([500, false]), ejected: false },
  ];
  for (const c of cases) {
    const d = new OutlierDetector([6], LOCAL_ORIGIN_ONLY);
    for (const [status, connectFailed] of c.results) d.onResult(0, 2, status, 1, connectFailed);
    assert.equal(d.isEjected(0, 2), c.ejected, c.name);
    if (c.ejected) assert.equal(d.events.at(-1)!.reason, "consecutive_local_origin_failure", c.name);
  }
});

test("with local-origin errors split out, up to half of a cluster's refusing hosts are ejected and success rate ejects none", () => {
  const d = new OutlierDetector([6], LOCAL_ORIGIN_ONLY);
  for (let h = 0; h < 6; h++) for (let i = 0; i < 5; i++) d.onResult(0, h, 503, 1, true);
  assert.equal(d.healthyHosts(0), 3, "max_ejection_percent 50 of 6 hosts");
  const sr = new OutlierDetector([6], LOCAL_ORIGIN_ONLY);
  for (let h = 0; h < 6; h++) for (let i = 0; i < 200; i++) sr.onResult(0, h, h === 5 && i % 3 === 0 ? 500 : 200, 5);
  sr.sweep(10);
  assert.equal(sr.isEjected(0, 5), false, "enforcing_success_rate 0");
});

test("under the shipped outlier detection a sidecar's round robin skips a host that refuses connections and keeps one answering 503s", async () => {
  const { EnvoyLoadBalancer } = await import("../sim/policies/envoy-outlier.js");
  const scenario = { seed: 1, sidecars: 1, clusters: [{ endpoints: 4 }] } as unknown as ConstructorParameters<typeof EnvoyLoadBalancer>[0];
  const balancer = new EnvoyLoadBalancer(scenario, LOCAL_ORIGIN_ONLY);
  for (let i = 0; i < 5; i++) balancer.onResult(0, 0, 1, 503, 1, true); // host 1 refuses
  for (let i = 0; i < 50; i++) balancer.onResult(0, 0, 2, 503, 1, false); // host 2 is overloaded
  const picked = new Set(Array.from({ length: 12 }, () => balancer.pickHost(0, 0)));
  assert.deepEqual([...picked].sort(), [0, 2, 3]);
});

test("priority load follows the health score times 1.4, normalised when all levels are degraded", () => {
  assert.equal(healthScore(4, 5), 100, "80% × 1.4 = 112 → 100");
  assert.equal(healthScore(3, 5), 84);
  assert.equal(healthScore(1, 2), 70);
  assert.deepEqual(priorityLoad([100, 100]), [1, 0]);
  assert.deepEqual(priorityLoad([70, 100]), [0.7, 0.3]);
  assert.deepEqual(priorityLoad([84, 100, 100]), [0.84, 0.16, 0]);
  const degraded = priorityLoad([50, 20]);
  assert.ok(Math.abs(degraded[0]! - 50 / 70) < 1e-12 && Math.abs(degraded[1]! - 20 / 70) < 1e-12);
});

test("each sidecar's round robin over hosts starts at a random host, as Envoy's seeds it, and still visits every host in turn", async () => {
  const { EnvoyLoadBalancer } = await import("../sim/policies/envoy-outlier.js");
  const { parseScenario } = await import("../sim/scenario.js");
  const scenario = parseScenario({
    name: "rr-start", seed: 5, duration_s: 10, window_s: 1, sidecars: 24,
    slo: { latency_ms: 1000, success_rate: 0.99, client_timeout_ms: 3000 },
    clusters: [{ name: "a", weight: 1, endpoints: 8, capacity_rps: 100, latency_ms: { p50: 50, p99: 200 }, error_rate: 0 }],
    traffic: [{ at_s: 0, rps: 10 }], faults: [],
  });
  const balancer = new EnvoyLoadBalancer(scenario);
  const first = Array.from({ length: scenario.sidecars }, (_, s) => balancer.pickHost(s, 0));
  assert.ok(new Set(first).size >= 4, `first hosts of 24 sidecars: ${first.join(",")}`);
  const visits = Array.from({ length: 8 }, () => balancer.pickHost(0, 0));
  assert.equal(new Set(visits).size, 8, "one sidecar still cycles through all 8 hosts");
});
