// The breaker rules of one round (control-plane/src/core/breaker-rules.ts) on plain records:
// what wins over what, when a trip opens a breaker, and how long an open one waits.
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { alternativeBadFraction, stepClusterBreaker, type BreakerInputs, type BreakerRound } from "../control-plane/src/core/breaker-rules.js";
import { stepBreakers, type ClusterBreakerInputs } from "../control-plane/src/core/breaker-round.js";
import { noProbeEvidence } from "../control-plane/src/core/probe-verdict.js";
import { appendWindow, newClusterRuntime, roundCluster, type ClusterRuntime } from "../control-plane/src/core/cluster-runtime.js";
import { DEFAULT_CONFIG } from "../control-plane/src/core/config.js";
import { planConfigOf } from "../control-plane/src/core/planner/round-plan.js";
import type { BreakerState } from "../control-plane/src/core/types.js";
import { clusterWindow } from "./cluster-window.js";

const NOW_MS = 1_000_000;
const PLAN = planConfigOf(DEFAULT_CONFIG);

/** A cluster of base weight 1 with ten 1-s windows of 100 requests, `failed` of them failing in each. */
function runtime(name: string, failed: number, breaker?: BreakerState): ClusterRuntime {
  const rt = newClusterRuntime({ name, baseWeight: 1 }, DEFAULT_CONFIG);
  for (let i = 0; i < 10; i++) {
    appendWindow(rt, clusterWindow({ cluster: name, windowStartMs: NOW_MS - (10 - i) * 1000, errors5xx: Math.round(100 * failed), errorRate: failed }), DEFAULT_CONFIG);
  }
  if (breaker !== undefined) rt.breaker = breaker;
  return rt;
}

function roundOf(all: ClusterRuntime[]): BreakerRound {
  return {
    nowMs: NOW_MS, newWindow: true, config: DEFAULT_CONFIG, slo: { latencyMs: 1000, successRate: 0.99 }, plan: PLAN, all,
    roundClusters: () => all.map((rt) => roundCluster(rt, undefined, false)),
  };
}

const NO_INPUTS: BreakerInputs = { override: undefined, triggerOpenReason: undefined, slowDecodeReason: undefined, baselineP50Ms: 100, othersBad: undefined };
const SEVERE = { trip: true, hard: true, severe: true, anomalous: 3, hardWindows: 3, cooling: false };

describe("the breaker rules of a round", () => {
  const cases: { name: string; failed: [number, number]; severe?: boolean; drainable?: boolean; inputs?: Partial<BreakerInputs>; expect: BreakerState["kind"]; reason?: RegExp }[] = [
    { name: "a closed cluster with nothing against it stays closed", failed: [0, 0], expect: "closed" },
    { name: "a severe share of failures opens it when the others serve its share better", failed: [1, 0], severe: true, expect: "open" },
    { name: "a severe share of failures on every cluster alike (a shared dependency) opens none", failed: [0.6, 0.6], severe: true, expect: "closed" },
    { name: "the planner's drain (its share below the probe floor would still be better elsewhere) opens it", failed: [0, 0], drainable: true, expect: "open" },
    {
      name: "an operator override holding it closed wins over a severe trip",
      failed: [1, 0], severe: true, inputs: { override: { cluster: "a", state: "closed", reason: "maintenance", actor: "ops" } }, expect: "closed",
    },
    { name: "a fired trigger holds it open, and its reason is the trigger's", failed: [0, 0], inputs: { triggerOpenReason: "trigger latency-guard" }, expect: "open", reason: /latency-guard/ },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const a = runtime("a", c.failed[0]);
      const b = runtime("b", c.failed[1]);
      if (c.severe === true) a.trip = SEVERE;
      if (c.drainable === true) a.drainable = true;
      const step = stepClusterBreaker(a, { ...NO_INPUTS, ...c.inputs }, roundOf([a, b]));
      assert.equal(step.state.kind, c.expect);
      if (c.reason !== undefined) assert.match(step.state.kind === "open" ? step.state.reason : "", c.reason);
    });
  }

  // Opened at NOW_MS - 1 s for its third time: the back-off's wait is 20 s.
  const waits: { name: string; othersBad: number | undefined; others: number; longest: number; shortest: number }[] = [
    { name: "without strain on the others, an open breaker keeps its back-off's wait", othersBad: undefined, others: 0, longest: 20_000, shortest: 20_000 },
    {
      name: "while the others strain (a fifth of their requests failing), it waits at most one back-off step and at least one window",
      othersBad: 0.2, others: 0.2, longest: DEFAULT_CONFIG.breaker.openBaseMs * DEFAULT_CONFIG.breaker.openBackoff, shortest: 1000,
    },
  ];
  for (const c of waits) {
    it(c.name, () => {
      const since = NOW_MS - 1000;
      const a = runtime("a", 1, { kind: "open", since, until: since + 20_000, reason: "error rate", openings: 3 });
      const b = runtime("b", c.others);
      const step = stepClusterBreaker(a, { ...NO_INPUTS, othersBad: c.othersBad }, roundOf([a, b]));
      const waited = a.breaker.kind === "open" ? a.breaker.until - since : NaN;
      assert.ok(waited <= c.longest && waited >= c.shortest, `wait ${waited} ms`);
      assert.equal(step.state.kind, "open", "still open at NOW_MS");
    });
  }
});

/**
 * A healthy cluster of base weight 1 that served `safeRps` at 100 ms, then, when `kneeRps` is
 * given, was seen at 1.8 times that latency at `kneeRps` (its knee), and now carries `loadRps` at
 * 100 ms: 1-s windows, pooled by the capacity estimator into samples of 200 requests.
 */
function healthyRuntime(name: string, safeRps: number, kneeRps: number | undefined, loadRps: number): ClusterRuntime {
  const rt = newClusterRuntime({ name, baseWeight: 1 }, DEFAULT_CONFIG);
  const windows: { rps: number; p50: number }[] = [
    ...Array.from({ length: 40 }, () => ({ rps: safeRps, p50: 100 })),
    ...(kneeRps === undefined ? [] : Array.from({ length: 10 }, () => ({ rps: kneeRps, p50: 180 }))),
    ...Array.from({ length: 10 }, () => ({ rps: loadRps, p50: 100 })),
  ];
  windows.forEach((w, i) => {
    const startMs = NOW_MS - (windows.length - i) * 1000;
    appendWindow(rt, clusterWindow({ cluster: name, windowStartMs: startMs, requests: w.rps, rps: w.rps, p50Ms: w.p50, p95Ms: 2 * w.p50, p99Ms: 3 * w.p50 }), DEFAULT_CONFIG);
  });
  return rt;
}

describe("a hard outage opens the breaker at once", () => {
  // Cluster a: 60 requests a second, every one failing. Cluster b carries 60 at 100 ms.
  const cases: { name: string; kneeRps: number | undefined; expect: BreakerState["kind"] }[] = [
    { name: "when the other cluster has never been seen slow (no knee: its room is not bounded)", kneeRps: undefined, expect: "open" },
    { name: "when the other cluster takes the whole load within one exploration step above its knee", kneeRps: 110, expect: "open" },
    {
      name: "not when the whole load would push the other far past the load it was seen slow at (the planner moves what it can take, a step at a time)",
      kneeRps: 70, expect: "closed",
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const a = healthyRuntime("a", 60, undefined, 60);
      appendWindow(a, clusterWindow({ cluster: "a", windowStartMs: NOW_MS - 1000, requests: 60, rps: 60, errors5xx: 60, errorRate: 1 }), DEFAULT_CONFIG);
      a.trip = SEVERE;
      const b = healthyRuntime("b", 60, c.kneeRps, 60);
      appendWindow(b, clusterWindow({ cluster: "b", windowStartMs: NOW_MS - 1000, requests: 60, rps: 60 }), DEFAULT_CONFIG);
      const step = stepClusterBreaker(a, NO_INPUTS, roundOf([a, b]));
      assert.equal(step.state.kind, c.expect, `b: ${JSON.stringify(b.capacity.estimate())}`);
    });
  }
});

describe("the others' bad fraction", () => {
  const cases: { name: string; failed: number[]; expect: number }[] = [
    { name: "is the share of their newest windows' requests that failed", failed: [0.1, 0.3], expect: 0.2 },
    { name: "is 0 without other clusters", failed: [], expect: 0 },
  ];
  for (const c of cases) it(c.name, () => assert.ok(Math.abs(alternativeBadFraction(c.failed.map((f, i) => runtime(`c${i}`, f))) - c.expect) < 1e-9));
});

describe("every breaker of a round, stepped in turn", () => {
  const OPEN_DUE: BreakerState = { kind: "open", since: NOW_MS - 30_000, until: NOW_MS - 1, reason: "error rate", openings: 1 };
  const cases: {
    name: string;
    failed: [number, number];
    aBreaker?: BreakerState;
    severe?: boolean;
    held?: boolean;
    aInputs?: Partial<ClusterBreakerInputs>;
    expect: [BreakerState["kind"], BreakerState["kind"]];
    transitions: string[];
  }[] = [
    { name: "nothing against any cluster: no transition", failed: [0, 0], expect: ["closed", "closed"], transitions: [] },
    { name: "a severe trip opens its cluster and only it", failed: [1, 0], severe: true, expect: ["open", "closed"], transitions: ["a closed>open"] },
    { name: "a takeover's hold keeps a severe trip from opening the breaker", failed: [1, 0], severe: true, held: true, expect: ["closed", "closed"], transitions: [] },
    {
      name: "an override still acts during a takeover's hold",
      failed: [0, 0], held: true, aInputs: { override: { cluster: "a", state: "open", reason: "maintenance", actor: "ops" } }, expect: ["open", "closed"], transitions: ["a closed>open"],
    },
    { name: "an open breaker whose wait is over goes half-open", failed: [1, 0], aBreaker: OPEN_DUE, expect: ["half_open", "closed"], transitions: ["a open>half_open"] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const a = runtime("a", c.failed[0], c.aBreaker);
      const b = runtime("b", c.failed[1]);
      if (c.severe === true) a.trip = SEVERE;
      const { all: _all, ...round } = roundOf([a, b]);
      const noInputs: ClusterBreakerInputs = { override: undefined, triggerOpenReason: undefined, slowDecodeReason: undefined, baselineP50Ms: 100 };
      const transitions = stepBreakers({ ...round, runtimes: [a, b], held: c.held === true, inputsOf: (rt) => (rt === a ? { ...noInputs, ...c.aInputs } : noInputs) });
      assert.deepEqual([a.breaker.kind, b.breaker.kind], c.expect);
      assert.deepEqual(transitions.map((t) => `${t.cluster} ${t.from}>${t.to}`), c.transitions);
    });
  }

  it("a breaker that goes half-open starts its probe evidence afresh", () => {
    const a = runtime("a", 1, OPEN_DUE);
    a.probe = { requests: 40, failures: 3, slow: 1, slowNotFailed: 1, streams: 0, ttftSlow: 0 };
    const b = runtime("b", 0);
    const { all: _all, ...round } = roundOf([a, b]);
    const none: ClusterBreakerInputs = { override: undefined, triggerOpenReason: undefined, slowDecodeReason: undefined, baselineP50Ms: 100 };
    stepBreakers({ ...round, runtimes: [a, b], held: false, inputsOf: () => none });
    assert.equal(a.breaker.kind, "half_open");
    assert.deepEqual(a.probe, noProbeEvidence());
  });
});
