// The decision set from plain data (control-plane/src/core/decision-set-builder.ts): states,
// weights, reasons, published risk, the halt, and the shares a set in force carries.
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { DEFAULT_CONFIG } from "../control-plane/src/core/config.js";
import { buildDecisionSet, contentKey, previousShare, publishedRisk, restoredShares, type DecisionInput } from "../control-plane/src/core/decision-set-builder.js";
import type { BreakerState, ClusterDecision, DecisionSet, HaltState } from "../control-plane/src/core/types.js";

// totalWeight 1000, scoreThreshold 0.5, ttlMs 30 000.
const C = DEFAULT_CONFIG;
const NOT_HALTED: HaltState = { halted: false, reason: "", actor: "", atMs: 0 };
const closed: BreakerState = { kind: "closed", since: 0 };
const input = (name: string, baseWeight: number, over: Partial<DecisionInput> = {}): DecisionInput => ({ spec: { name, baseWeight }, breaker: closed, risk: 0, planReason: "", override: undefined, ...over });

describe("a decision set from the clusters' states and the planner's shares", () => {
  const cases: { name: string; clusters: DecisionInput[]; shares?: Map<string, number>; expected: Partial<ClusterDecision>[] }[] = [
    {
      name: "before the first plan the weights are the base weights",
      clusters: [input("a", 1), input("b", 3)],
      expected: [{ state: "closed", weight: 250 }, { state: "closed", weight: 750 }],
    },
    {
      name: "the planner's shares become integer weights summing to the total",
      clusters: [input("a", 1), input("b", 1), input("c", 1)],
      shares: new Map([["a", 0.2], ["b", 0.3], ["c", 0.5]]),
      expected: [{ weight: 200 }, { weight: 300 }, { weight: 500 }],
    },
    {
      name: "an open breaker refuses with a retry-after of its wait, rounded up to whole seconds",
      clusters: [input("a", 1, { breaker: { kind: "open", since: 0, until: 5500, reason: "error rate 20%", openings: 1 } }), input("b", 1)],
      shares: new Map([["a", 0], ["b", 1]]),
      expected: [{ state: "open", weight: 0, retryAfterS: 6, reason: "error rate 20%" }, { state: "closed", weight: 1000, retryAfterS: 0 }],
    },
    {
      name: "an open breaker without end (an override without TTL) says 60 s",
      clusters: [input("a", 1, { breaker: { kind: "open", since: 0, until: Infinity, reason: "override by x: y", openings: 1 }, override: { cluster: "a", state: "open", reason: "y", actor: "x" } }), input("b", 1)],
      shares: new Map([["a", 0], ["b", 1]]),
      expected: [{ state: "open", retryAfterS: 60 }, { state: "closed" }],
    },
    {
      name: "a half-open breaker says how many healthy probe windows it has seen",
      clusters: [input("a", 1, { breaker: { kind: "half_open", since: 0, probeFraction: 0.1, healthyWindows: 2, openings: 1 } }), input("b", 1)],
      expected: [{ state: "half_open", reason: "probing (2 healthy windows)" }, { state: "closed", reason: "" }],
    },
    {
      name: "a closed cluster gives its override's reason, else the plan's",
      clusters: [input("a", 1, { override: { cluster: "a", state: "closed", reason: "known good", actor: "alice" }, planReason: "moved" }), input("b", 1, { planReason: "predicted 5% bad here" })],
      expected: [{ reason: "override by alice: known good" }, { reason: "predicted 5% bad here" }],
    },
    {
      name: "every cluster open: all routed to at base weights (panic), except those an override holds open",
      clusters: [
        input("a", 1, { breaker: { kind: "open", since: 0, until: 5000, reason: "x", openings: 1 } }),
        input("b", 1, { breaker: { kind: "open", since: 0, until: Infinity, reason: "override by o: r", openings: 1 }, override: { cluster: "b", state: "open", reason: "r", actor: "o" } }),
      ],
      shares: new Map([["a", 0.5], ["b", 0.5]]),
      expected: [{ state: "closed", reason: "panic: every cluster looks bad, base weights" }, { state: "open" }],
    },
    {
      name: "a set without any weight falls back to base weights (at least 1 each)",
      clusters: [input("a", 1), input("b", 2000)],
      shares: new Map([["a", 0], ["b", 0]]),
      expected: [{ weight: 1 }, { weight: 1000 }],
    },
    {
      name: "the risk is published in quarter steps, 0 below the alarm level",
      clusters: [input("a", 1, { risk: 0.49 }), input("b", 1, { risk: 0.62 }), input("c", 1, { risk: 0.88 })],
      expected: [{ anomalyScore: 0 }, { anomalyScore: 0.5 }, { anomalyScore: 1 }],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const set = buildDecisionSet(c.clusters, c.shares, NOT_HALTED, 1234, 7, C);
      c.expected.forEach((expected, i) => {
        for (const [key, value] of Object.entries(expected)) assert.deepEqual(set.clusters[i]![key as keyof ClusterDecision], value, `${c.clusters[i]!.spec.name}.${key}`);
      });
      assert.deepEqual(set.clusters.map((d) => d.cluster), c.clusters.map((x) => x.spec.name));
      assert.equal(set.version, 7);
      assert.equal(set.issuedAtMs, 1234);
      assert.equal(set.ttlMs, C.decision.ttlMs);
    });
  }

  it("a halted set says why and by whom", () => {
    const set = buildDecisionSet([input("a", 1)], undefined, { halted: true, reason: "incident 42", actor: "carol", atMs: 1 }, 0, 1, C);
    assert.equal(set.halted, true);
    assert.equal(set.haltReason, "incident 42 (by carol)");
    assert.equal(buildDecisionSet([input("a", 1)], undefined, NOT_HALTED, 0, 1, C).haltReason, "");
  });

  it("the content key ignores the version and the issue time, not the content", () => {
    const one = buildDecisionSet([input("a", 1), input("b", 1)], undefined, NOT_HALTED, 0, 1, C);
    const reissued: DecisionSet = { ...one, version: 2, issuedAtMs: 99 };
    assert.equal(contentKey(reissued), contentKey(one));
    assert.notEqual(contentKey(buildDecisionSet([input("a", 1), input("b", 1, { risk: 0.9 })], undefined, NOT_HALTED, 0, 1, C)), contentKey(one));
  });

  it("published risk: below the threshold 0, else to the nearest quarter", () => {
    assert.deepEqual([0, 0.49, 0.5, 0.6, 0.63, 0.9, 1].map((r) => publishedRisk(r, C.detector)), [0, 0, 0.5, 0.5, 0.75, 1, 1]);
  });
});

describe("the shares a decision set in force carries", () => {
  const decision = (cluster: string, state: ClusterDecision["state"], weight: number): ClusterDecision => ({ cluster, state, weight, probeFraction: 1, retryAfterS: 0, reason: "", anomalyScore: 0 });
  const set = (...clusters: ClusterDecision[]): DecisionSet => ({ version: 1, issuedAtMs: 0, ttlMs: 1, halted: false, haltReason: "", clusters });
  const cases: [name: string, inForce: DecisionSet | undefined, cluster: string, expected: number | undefined][] = [
    ["before any set there is none", undefined, "a", undefined],
    ["a cluster's weight over the weights of those not open", set(decision("a", "closed", 300), decision("b", "half_open", 100), decision("c", "open", 600)), "a", 0.75],
    ["an open cluster's share is 0", set(decision("a", "closed", 300), decision("c", "open", 600)), "c", 0],
    ["a cluster the set does not name has none", set(decision("a", "closed", 300)), "z", undefined],
    ["when every cluster is open there is none", set(decision("a", "open", 300)), "a", undefined],
  ];
  for (const [name, inForce, cluster, expected] of cases) it(name, () => assert.equal(previousShare(inForce, cluster), expected));

  it("a restored set's split counts open clusters too, and only the clusters configured now", () => {
    const restored = set(decision("a", "closed", 300), decision("b", "open", 100), decision("gone", "closed", 600));
    assert.deepEqual(restoredShares(restored, ["a", "b", "new"]), new Map([["a", 0.75], ["b", 0.25], ["new", 0]]));
    assert.equal(restoredShares(set(decision("gone", "closed", 600)), ["a"]), undefined);
  });
});
