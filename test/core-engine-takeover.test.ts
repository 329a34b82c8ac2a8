// What the decision engine takes over from outside its rounds (control-plane/src/core/
// engine-takeover.ts), on plain records: which clusters a rollback pins, the breakers a persisted
// set restores, and the breaker states a follower mirrors from its leader's set.
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { mirrorBreakers, pinnedClusters, restoreBreakers } from "../control-plane/src/core/engine-takeover.js";
import { newClusterRuntime, type ClusterRuntime } from "../control-plane/src/core/cluster-runtime.js";
import { DEFAULT_CONFIG } from "../control-plane/src/core/config.js";
import type { BreakerKind, BreakerState, ClusterDecision, DecisionSet, Override, Rollback } from "../control-plane/src/core/types.js";

const NOW_MS = 1_000_000;

function decision(cluster: string, state: BreakerKind): ClusterDecision {
  return { cluster, state, weight: state === "open" ? 0 : 500, probeFraction: state === "half_open" ? 0.1 : 1, retryAfterS: state === "open" ? 20 : 0, reason: "", anomalyScore: 0 };
}

function set(...clusters: ClusterDecision[]): DecisionSet {
  return { version: 7, issuedAtMs: NOW_MS - 1000, ttlMs: 30_000, halted: false, haltReason: "", clusters };
}

function records(breakers: Record<string, BreakerState>): Map<string, ClusterRuntime> {
  return new Map(Object.entries(breakers).map(([name, breaker]) => {
    const rt = newClusterRuntime({ name, baseWeight: 1 }, DEFAULT_CONFIG);
    rt.breaker = breaker;
    return [name, rt];
  }));
}

const CLOSED: BreakerState = { kind: "closed", since: NOW_MS - 60_000, openings: 2 };
const OPEN: BreakerState = { kind: "open", since: NOW_MS - 5000, until: NOW_MS + 5000, reason: "error rate", openings: 3 };

describe("the clusters a rollback pins", () => {
  const rollback: Rollback = { fromVersion: 3, clusters: [decision("a", "open"), decision("b", "closed")], reason: "bad deploy", actor: "ops", atMs: NOW_MS };
  const cases: { name: string; rollback: Rollback | undefined; overrides: string[]; expect: string[] }[] = [
    { name: "are none without a rollback", rollback: undefined, overrides: [], expect: [] },
    { name: "are every cluster of the rollback's set", rollback, overrides: [], expect: ["a", "b"] },
    { name: "leave out a cluster an override decides", rollback, overrides: ["a"], expect: ["b"] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const override: Override = { cluster: "a", state: "closed", reason: "maintenance", actor: "ops" };
      const pinned = pinnedClusters({ rollback: () => c.rollback, get: (name) => (c.overrides.includes(name) ? { ...override, cluster: name } : undefined) });
      assert.deepEqual([...pinned].sort(), c.expect);
    });
  }
});

describe("breakers restored from a persisted set", () => {
  it("take the set's state, except a pinned cluster's, which starts afresh", () => {
    const runtime = records({ a: CLOSED, b: CLOSED });
    restoreBreakers(runtime, set(decision("a", "open"), decision("b", "open")), new Set(["b"]), NOW_MS, DEFAULT_CONFIG);
    assert.deepEqual([runtime.get("a")!.breaker.kind, runtime.get("b")!.breaker.kind], ["open", "closed"]);
  });
});

describe("a follower mirroring its leader's set", () => {
  const cases: { name: string; own: BreakerState; leader: BreakerKind; expect: BreakerKind; openings?: number; keeps?: boolean }[] = [
    { name: "opens a breaker the leader opened, as a restart restores it", own: CLOSED, leader: "open", expect: "open" },
    { name: "closes a breaker the leader closed, counting its openings still", own: OPEN, leader: "closed", expect: "closed", openings: 3 },
    { name: "leaves a breaker of the same kind as it is", own: OPEN, leader: "open", expect: "open", keeps: true },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const runtime = records({ a: c.own });
      mirrorBreakers(runtime, set(decision("a", c.leader), decision("gone", "open")), NOW_MS, DEFAULT_CONFIG);
      const breaker = runtime.get("a")!.breaker;
      assert.equal(breaker.kind, c.expect);
      if (c.openings !== undefined) assert.equal(breaker.openings, c.openings);
      if (c.keeps === true) assert.deepEqual(breaker, c.own);
    });
  }
});
