// The baselines' host balancer (sim/policy.ts RoundRobinHosts): one round robin per sidecar, as
// every Envoy and every client library keeps its own, each starting where the Envoy balancer of
// the same run starts (so `none` and the policies on EnvoyLoadBalancer differ in decisions only).
import { test } from "node:test";
import assert from "node:assert/strict";
import { RoundRobinHosts } from "../sim/policy.js";
import { EnvoyLoadBalancer } from "../sim/policies/envoy-outlier.js";
import { createNonePolicy } from "../sim/policies/none.js";
import { createResilience4jPolicy } from "../sim/policies/resilience4j.js";
import { testScenario } from "./sim-support.js";

/** The parts of a scenario file's JSON these tests change. */
type EditableScenario = { sidecars: number; clusters: Array<{ endpoints: number }> };

/** Hosts picked by `count` requests of one sidecar to one cluster. */
function picks(hosts: RoundRobinHosts, sidecar: number, cluster: number, count: number): number[] {
  return Array.from({ length: count }, () => hosts.pick(sidecar, cluster));
}

test("each sidecar cycles through every host of a cluster on its own cursor", () => {
  const hosts = new RoundRobinHosts([5, 3], 4, 7);
  for (let sidecar = 0; sidecar < 4; sidecar++) {
    for (const [cluster, count] of [[0, 5], [1, 3]] as const) {
      const cycle = picks(hosts, sidecar, cluster, count);
      assert.deepEqual([...cycle].sort(), Array.from({ length: count }, (_, h) => h), `sidecar ${sidecar} cluster ${cluster}: ${cycle}`);
      // The next cycle repeats the same order: a plain round robin.
      assert.deepEqual(picks(hosts, sidecar, cluster, count), cycle);
    }
  }
});

test("one sidecar's requests do not move another sidecar's cursor", () => {
  const a = new RoundRobinHosts([4], 2, 11);
  const b = new RoundRobinHosts([4], 2, 11);
  picks(a, 0, 0, 3); // sidecar 0 only, in a
  assert.deepEqual(picks(a, 1, 0, 4), picks(b, 1, 0, 4));
});

test("sidecars start at hosts drawn from the run's seed, the same the Envoy balancer starts at", () => {
  const scenario = testScenario((json) => {
    const j = json as EditableScenario;
    j.sidecars = 12;
    for (const c of j.clusters) c.endpoints = 8;
  });
  const counts = scenario.clusters.map((c) => c.endpoints);
  const hosts = new RoundRobinHosts(counts, scenario.sidecars, scenario.seed);
  const envoy = new EnvoyLoadBalancer(scenario, { enforcingConsecutive5xx: 0, enforcingSuccessRate: 0 });
  const firsts: number[] = [];
  for (let sidecar = 0; sidecar < scenario.sidecars; sidecar++) {
    for (let cluster = 0; cluster < counts.length; cluster++) {
      const first = hosts.pick(sidecar, cluster);
      assert.equal(first, envoy.pickHost(sidecar, cluster), `sidecar ${sidecar} cluster ${cluster}`);
      firsts.push(first);
    }
  }
  assert.ok(new Set(firsts).size > 3, `start hosts spread, got ${firsts}`);
});

for (const [name, create] of [["none", createNonePolicy], ["resilience4j", createResilience4jPolicy]] as const) {
  test(`${name} picks hosts with each sidecar's own round robin`, () => {
    const scenario = testScenario((json) => {
      const j = json as EditableScenario;
      j.sidecars = 3;
      j.clusters[0]!.endpoints = 4;
    });
    const policy = create(scenario);
    const bySidecar: number[][] = [[], [], []];
    for (let id = 0; id < 24; id++) {
      const sidecar = id % 3;
      const decision = policy.route({ id, arrivalS: id * 0.01, sidecar, routeDraw: 0.1, spareDraw: 0.5 } /* a draw under a's half of the weight */, id * 0.01);
      assert.ok("cluster" in decision && decision.cluster === 0);
      bySidecar[sidecar]!.push(decision.host);
    }
    // Every sidecar sends its eight requests twice round its cluster's four hosts, host after
    // host (the others' requests in between do not move its cursor).
    for (const hostsSeen of bySidecar) {
      for (let i = 1; i < hostsSeen.length; i++) assert.equal(hostsSeen[i], (hostsSeen[i - 1]! + 1) % 4, `hosts ${hostsSeen}`);
    }
  });
}
