// Envoy's active health checking under the filter (sim/policies/active-health-check.ts) and how
// EnvoyLoadBalancer combines it with outlier detection and the panic threshold. The last test runs
// the autoglm policy, so it needs build/filter.wasm (`npm run build:filter`) and fails without it.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  ActiveHealthChecker, SHIPPED_HEALTH_CHECK, type HealthCheckConfig, type HealthTransition, type HostDownChance,
} from "../sim/policies/active-health-check.js";
import { EnvoyLoadBalancer, NO_HEALTHY_HOST, SHIPPED_PANIC_THRESHOLD, type ActiveHealthCheckSetup } from "../sim/policies/envoy-outlier.js";
import { createAutoglmPolicy } from "../sim/policies/autoglm.js";
import { runScenario } from "../sim/runner.js";
import { testScenario } from "./sim-support.js";
import { LOCAL_ORIGIN_ONLY, type OutlierConfig } from "../sim/policies/outlier-detection.js";
import { STREAM, Xoshiro128 } from "../sim/random.js";
import type { Scenario } from "../sim/scenario.js";

const UP: HostDownChance = () => 0;
const DOWN: HostDownChance = () => 1;

function checker(config: HealthCheckConfig, seed = 1, hosts = [4], sidecars = 1): ActiveHealthChecker {
  return new ActiveHealthChecker(hosts, sidecars, new Xoshiro128(seed, STREAM.healthChecks), config);
}

/** Records a sequence of check results ("P" pass, "F" refused) on host 0 and returns the failed state after each. */
function failedAfterEach(c: ActiveHealthChecker, results: string): boolean[] {
  return [...results].map((r, i) => {
    c.record(0, 0, 0, r === "P", i);
    return c.isFailed(0, 0, 0);
  });
}

/** A scenario shape for the balancer: one cluster of `hosts` hosts. */
function scenario(hosts: number, sidecars = 1, seed = 7): Scenario {
  return { seed, sidecars, clusters: [{ endpoints: hosts }] } as unknown as Scenario;
}

/** Runs the balancer's timers (outlier sweeps, health checks) up to t. */
function runTimers(b: EnvoyLoadBalancer, t: number): void {
  for (let next = b.nextTimerS(); next <= t; next = b.nextTimerS()) b.timer(next);
}

test("a host that refuses its checks leaves load balancing after unhealthy_threshold failures in a row, and a pass in between restarts the count", () => {
  const cases: Array<{ unhealthyThreshold: number; results: string; failed: boolean[] }> = [
    { unhealthyThreshold: 1, results: "F", failed: [true] },
    { unhealthyThreshold: 2, results: "FF", failed: [false, true] },
    { unhealthyThreshold: 2, results: "FPF", failed: [false, false, false] },
    { unhealthyThreshold: 3, results: "FFPFFF", failed: [false, false, false, false, false, true] },
    { unhealthyThreshold: 2, results: "FFFF", failed: [false, true, true, true] },
  ];
  for (const c of cases) {
    const hc = checker({ intervalMs: 5000, intervalJitterMs: 0, unhealthyThreshold: c.unhealthyThreshold, healthyThreshold: 2 });
    assert.deepEqual(failedAfterEach(hc, c.results), c.failed, `threshold ${c.unhealthyThreshold}, ${c.results}`);
    assert.equal(hc.failedHosts(0, 0), c.failed.at(-1) ? 1 : 0);
  }
});

test("a failed host returns after healthy_threshold passes in a row, and a failure in between restarts the count", () => {
  const cases: Array<{ healthyThreshold: number; results: string; failed: boolean[] }> = [
    { healthyThreshold: 1, results: "FFP", failed: [false, true, false] },
    { healthyThreshold: 2, results: "FFPP", failed: [false, true, true, false] },
    { healthyThreshold: 2, results: "FFPFPP", failed: [false, true, true, true, true, false] },
    { healthyThreshold: 3, results: "FFPPFPPP", failed: [false, true, true, true, true, true, true, false] },
  ];
  for (const c of cases) {
    const hc = checker({ intervalMs: 5000, intervalJitterMs: 0, unhealthyThreshold: 2, healthyThreshold: c.healthyThreshold });
    assert.deepEqual(failedAfterEach(hc, c.results), c.failed, `threshold ${c.healthyThreshold}, ${c.results}`);
    assert.deepEqual(hc.events.map((e) => e.kind), ["unhealthy", "healthy"], c.results);
  }
});

test("the next check waits interval, the edge intervals while a change is pending, and unhealthy_interval while failed, as Envoy's interval() picks them", () => {
  const defaults: HealthCheckConfig = { intervalMs: 5000, intervalJitterMs: 0, unhealthyThreshold: 2, healthyThreshold: 2, unhealthyIntervalMs: 3000 };
  const cases: Array<{ config: HealthCheckConfig; name: string; passed: boolean; transition: HealthTransition; waitMs: number }> = [
    { config: SHIPPED_HEALTH_CHECK, name: "shipped, pass on a healthy host", passed: true, transition: "unchanged", waitMs: 5000 },
    { config: SHIPPED_HEALTH_CHECK, name: "shipped, first pass of a failed host", passed: true, transition: "pending", waitMs: 1000 },
    { config: SHIPPED_HEALTH_CHECK, name: "shipped, the pass that returns a host", passed: true, transition: "changed", waitMs: 5000 },
    { config: SHIPPED_HEALTH_CHECK, name: "shipped, first failure of a healthy host", passed: false, transition: "pending", waitMs: 1000 },
    { config: SHIPPED_HEALTH_CHECK, name: "shipped, the failure that marks a host", passed: false, transition: "changed", waitMs: 5000 },
    { config: SHIPPED_HEALTH_CHECK, name: "shipped, failure of a failed host", passed: false, transition: "unchanged", waitMs: 5000 },
    { config: defaults, name: "defaults, unhealthy_edge_interval falls back to unhealthy_interval", passed: false, transition: "pending", waitMs: 3000 },
    { config: defaults, name: "defaults, unhealthy_interval while failed", passed: false, transition: "unchanged", waitMs: 3000 },
    { config: defaults, name: "defaults, healthy_edge_interval falls back to interval", passed: true, transition: "pending", waitMs: 5000 },
  ];
  for (const c of cases) assert.equal(checker(c.config).waitAfterMs(c.passed, c.transition), c.waitMs, c.name);
});

test("checks of a down host mark it failed one unhealthy edge interval after its first failed check, and its phase lies within one interval", () => {
  const hc = checker({ ...SHIPPED_HEALTH_CHECK, intervalJitterMs: 0 }, 3, [6]);
  const first = hc.nextCheckS();
  assert.ok(first >= 0 && first < SHIPPED_HEALTH_CHECK.intervalMs / 1000, `first check at ${first}`);
  hc.runDue(30, DOWN);
  const marked = hc.events.filter((e) => e.kind === "unhealthy");
  assert.equal(marked.length, 6, "every host marked failed");
  for (const e of marked) assert.ok(e.atS >= 1 && e.atS < 6, `host ${e.host} marked at ${e.atS}`);
  assert.equal(hc.failedHosts(0, 0), 6);
});

test("check times come from the scenario seed: the same seed gives the same checks, another seed others, and jitter stays below interval_jitter", () => {
  const times = (seed: number): number[] => {
    const hc = checker(SHIPPED_HEALTH_CHECK, seed, [3], 2);
    const at: number[] = [];
    for (let i = 0; i < 60; i++) {
      at.push(hc.nextCheckS());
      hc.runDue(hc.nextCheckS(), UP);
    }
    return at;
  };
  assert.deepEqual(times(11), times(11));
  assert.notDeepEqual(times(11), times(12));
  // Per host, the gaps between checks of a healthy host: interval plus whole-ms jitter in [0, 1000).
  const hc = checker(SHIPPED_HEALTH_CHECK, 5, [1], 1);
  const at: number[] = [];
  for (let i = 0; i < 40; i++) {
    at.push(hc.nextCheckS());
    hc.runDue(hc.nextCheckS(), UP);
  }
  const gaps = at.slice(1).map((t, i) => Math.round((t - at[i]!) * 1000));
  for (const g of gaps) assert.ok(g >= 5000 && g < 6000, `gap ${g} ms`);
  assert.ok(new Set(gaps).size > 20, "jittered gaps vary");
});

test("a check reaches a partly-down host with the chance the host stays up", () => {
  const cases: Array<{ downChance: number; low: number; high: number }> = [
    { downChance: 0, low: 0, high: 0 },
    { downChance: 0.3, low: 0.25, high: 0.35 },
    { downChance: 1, low: 1, high: 1 },
  ];
  for (const c of cases) {
    let refused = 0;
    let checks = 0;
    const hc = checker({ intervalMs: 1000, intervalJitterMs: 0, unhealthyThreshold: 1_000_000, healthyThreshold: 1 }, 9, [20]);
    const original = hc.record.bind(hc);
    hc.record = (sidecar, cluster, host, passed, atS) => {
      checks++;
      if (!passed) refused++;
      return original(sidecar, cluster, host, passed, atS);
    };
    hc.runDue(200, () => c.downChance);
    assert.ok(checks >= 3900, `${checks} checks`);
    const share = refused / checks;
    assert.ok(share >= c.low && share <= c.high, `down chance ${c.downChance}: refused ${share}`);
  }
});

test("a bad health-check configuration is refused with the field named", () => {
  const cases: Array<[Partial<HealthCheckConfig>, string]> = [
    [{ intervalMs: 0 }, "intervalMs: must be a number > 0 (ms), got 0"],
    [{ intervalJitterMs: -1 }, "intervalJitterMs: must be an integer >= 0 (ms), got -1"],
    [{ unhealthyThreshold: 0 }, "unhealthyThreshold: must be an integer >= 1, got 0"],
    [{ healthyThreshold: 1.5 }, "healthyThreshold: must be an integer >= 1, got 1.5"],
    [{ healthyEdgeIntervalMs: Number.NaN }, "healthyEdgeIntervalMs: must be a number > 0 (ms), got NaN"],
  ];
  for (const [change, message] of cases) {
    assert.throws(() => checker({ ...SHIPPED_HEALTH_CHECK, ...change }), (e: Error) => e.message.includes(message), message);
  }
});

test("an ejected host that passes a check is unejected at once; a host failing its checks returns only after healthy_threshold passes", () => {
  const cases: Array<{ name: string; outlier: Partial<OutlierConfig>; downUntilS: number; backAfterS: number; backBeforeS: number; reason: string }> = [
    // Ejected at 1 s by five refused connections, up from then on: its next check (at most
    // interval + jitter later) passes and unejects it, long before the 30 s ejection ends.
    { name: "ejected, then up", outlier: LOCAL_ORIGIN_ONLY, downUntilS: 1, backAfterS: 1, backBeforeS: 7.001, reason: "active_health_check" },
    // Without successful_active_health_check_uneject_host it waits for the sweep after 30 s.
    { name: "ejected, uneject on checks off", outlier: { ...LOCAL_ORIGIN_ONLY, successfulActiveHealthCheckUnejectHost: 0 }, downUntilS: 1, backAfterS: 31, backBeforeS: 40.001, reason: "time_served" },
    // Down until 20 s: failing its checks as well; after 20 s two passes (the second one healthy
    // edge interval later) return it, before the 40 s sweep that would end its ejection.
    { name: "ejected and failing checks, then up", outlier: LOCAL_ORIGIN_ONLY, downUntilS: 20, backAfterS: 20, backBeforeS: 28.001, reason: "active_health_check" },
  ];
  for (const c of cases) {
    const down: HostDownChance = (_cluster, host, atS) => (host === 1 && atS < c.downUntilS ? 1 : 0);
    const b = new EnvoyLoadBalancer(scenario(6), c.outlier, { downChance: down, seed: 4 });
    for (let i = 0; i < 5; i++) b.onResult(0, 0, 1, 503, 1, true);
    assert.equal(b.isOut(0, 0, 1), true, `${c.name}: ejected at 1 s`);
    let backAt = Infinity;
    for (let t = 1; t <= 45 && backAt === Infinity; t += 0.01) {
      runTimers(b, t);
      if (!b.isOut(0, 0, 1)) backAt = t;
    }
    assert.ok(backAt > c.backAfterS && backAt < c.backBeforeS, `${c.name}: back in rotation at ${backAt}`);
    const uneject = b.detectors[0]!.events.find((e) => e.kind === "uneject" && e.host === 1);
    assert.equal(uneject?.reason, c.reason, c.name);
  }
});

test("with fewer than half the hosts healthy (ejected or failing checks) the balancer routes over all hosts, as Envoy's panic threshold does", () => {
  const cases: Array<{ ejected: number[]; failing: number[]; picked: number[] }> = [
    { ejected: [], failing: [0], picked: [1, 2, 3] },
    { ejected: [0], failing: [1], picked: [2, 3] },
    { ejected: [0], failing: [0, 1], picked: [2, 3] },
    { ejected: [], failing: [0, 1, 2], picked: [0, 1, 2, 3] },
    { ejected: [0], failing: [1, 2], picked: [0, 1, 2, 3] },
  ];
  for (const c of cases) {
    const b = new EnvoyLoadBalancer(scenario(4), LOCAL_ORIGIN_ONLY, { downChance: UP, seed: 2 });
    for (const h of c.ejected) for (let i = 0; i < 5; i++) b.onResult(0, 0, h, 503, 1, true);
    for (const h of c.failing) for (let i = 0; i < SHIPPED_HEALTH_CHECK.unhealthyThreshold; i++) b.healthChecker!.record(0, 0, h, false, 1);
    const picked = new Set(Array.from({ length: 16 }, () => b.pickHost(0, 0)));
    assert.deepEqual([...picked].sort(), c.picked, `ejected ${c.ejected}, failing ${c.failing}`);
    assert.equal(b.healthyHosts(0, 0), 4 - new Set([...c.ejected, ...c.failing]).size);
  }
});

test("after a whole cluster comes back, active health checks return its hosts within an interval and an edge interval, where ejection alone keeps some out", () => {
  // Down from 10 s to 62 s: half the hosts ejected at about 10 s, back at the 50 s sweep while
  // still down, ejected again (30 s, the cap), so without checks they are out until the 90 s sweep.
  const recoverS = 62;
  const down: HostDownChance = (_cluster, _host, atS) => (atS >= 10 && atS < recoverS ? 1 : 0);
  const cases: Array<{ name: string; healthCheck: ActiveHealthCheckSetup | undefined; allBackBy: number | null }> = [
    // First pass at most interval + jitter (6 s) after recovery, the second healthy edge
    // interval + jitter (2 s) later.
    { name: "with active health checks", healthCheck: { downChance: down, seed: 8 }, allBackBy: recoverS + 8 },
    { name: "outlier detection alone", healthCheck: undefined, allBackBy: null },
  ];
  for (const c of cases) {
    const b = new EnvoyLoadBalancer(scenario(6), LOCAL_ORIGIN_ONLY, c.healthCheck);
    let allBackAt = Infinity;
    for (let t = 0; t <= recoverS + 30; t += 0.02) {
      runTimers(b, t);
      const host = b.pickHost(0, 0);
      const refused = down(0, host, t) === 1;
      b.onResult(0, 0, host, refused ? 503 : 200, t, refused);
      if (t >= recoverS && allBackAt === Infinity && b.healthyHosts(0, 0) === 6) allBackAt = t;
    }
    if (c.allBackBy === null) assert.ok(allBackAt > recoverS + 20, `${c.name}: all hosts back at ${allBackAt}`);
    else assert.ok(allBackAt <= c.allBackBy, `${c.name}: all hosts back at ${allBackAt}`);
  }
});

test("without active health checking the balancer has no checks, and with every host up the checks change no host pick", () => {
  const plain = new EnvoyLoadBalancer(scenario(5, 3), LOCAL_ORIGIN_ONLY);
  assert.equal(plain.healthChecker, null);
  assert.equal(plain.nextTimerS(), 10, "only the outlier sweep (interval 10 s)");
  const checked = new EnvoyLoadBalancer(scenario(5, 3), LOCAL_ORIGIN_ONLY, { downChance: UP, seed: 7 });
  assert.ok(checked.nextTimerS() < 5, "the first checks come within one interval");
  const picks = (b: EnvoyLoadBalancer): number[] => {
    const out: number[] = [];
    for (let t = 0; t < 60; t += 0.1) {
      runTimers(b, t);
      for (let s = 0; s < 3; s++) out.push(b.pickHost(s, 0));
    }
    return out;
  };
  assert.deepEqual(picks(checked), picks(plain));
});

test("with panic mode only when no host is healthy (the shipped 1 %) the balancer routes over the healthy hosts while any is, and over all of them when none is; with panic mode off (0) it then gives no host (Envoy's 503 UH)", () => {
  const cases: Array<{ threshold: number; failing: number[]; picked: number[] }> = [
    { threshold: SHIPPED_PANIC_THRESHOLD, failing: [0], picked: [1, 2, 3] },
    { threshold: SHIPPED_PANIC_THRESHOLD, failing: [0, 1, 2], picked: [3] },
    { threshold: SHIPPED_PANIC_THRESHOLD, failing: [0, 1, 2, 3], picked: [0, 1, 2, 3] },
    { threshold: 0, failing: [0, 1, 2], picked: [3] },
    { threshold: 0, failing: [0, 1, 2, 3], picked: [NO_HEALTHY_HOST] },
  ];
  for (const c of cases) {
    const b = new EnvoyLoadBalancer(scenario(4), LOCAL_ORIGIN_ONLY, { downChance: UP, seed: 2 }, c.threshold);
    for (const h of c.failing) for (let i = 0; i < SHIPPED_HEALTH_CHECK.unhealthyThreshold; i++) b.healthChecker!.record(0, 0, h, false, 1);
    const picked = new Set(Array.from({ length: 16 }, () => b.pickHost(0, 0)));
    assert.deepEqual([...picked].sort(), c.picked, `threshold ${c.threshold}, failing ${c.failing}`);
  }
  assert.throws(() => new EnvoyLoadBalancer(scenario(4), {}, undefined, 1.5), /panic threshold: must be a fraction in \[0, 1\], got 1.5/);
});

test("under the filter, requests to a cluster whose every host fails its checks get Envoy's 503 UH at once with panic mode off; with the shipped threshold (panic when none is healthy) or without the checks they reach the hosts", async () => {
  // Cluster a's four hosts are down from 20 s to 40 s; the filter keeps probing it.
  const down = testScenario((j) => (j.faults = [{ at_s: 20, cluster: "a", down: true, for_s: 20 }]));
  const cases: Array<{ activeHealthCheck: boolean; panicThreshold?: number; uh: boolean }> = [
    { activeHealthCheck: true, panicThreshold: 0, uh: true },
    { activeHealthCheck: true, uh: false },
    { activeHealthCheck: false, uh: false },
  ];
  for (const { activeHealthCheck, panicThreshold, uh } of cases) {
    const policy = await createAutoglmPolicy(down, down.seed, { modelPath: "", activeHealthCheck, ...(panicThreshold === undefined ? {} : { panicThreshold }) });
    const noHost: number[] = [];
    const route = policy.route.bind(policy);
    policy.route = (request, nowS) => {
      const decision = route(request, nowS);
      if ("reject" in decision && decision.reject === "no_healthy_upstream") noHost.push(nowS);
      return decision;
    };
    await runScenario(down, policy);
    if (!uh) {
      assert.deepEqual(noHost, [], `checks ${activeHealthCheck}, panic threshold ${panicThreshold ?? "default"}: every request gets a host`);
      continue;
    }
    assert.ok(noHost.length > 0, "some requests met a cluster with no healthy host");
    // Not before the checks could mark the hosts, and not after they could return them.
    for (const t of noHost) assert.ok(t > 20 && t < 40 + 8, `503 UH at ${t} s`);
  }
});
