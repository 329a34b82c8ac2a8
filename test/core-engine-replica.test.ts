// The decision engine's replica side (control-plane/src/core/engine-replica.ts), through
// `engine.replica` on plain data: a takeover's hold on the breakers, counted in closed windows,
// the generation it moves to, and the assessment a successor continues from.
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { DecisionEngine } from "../control-plane/src/core/decision-engine.js";
import { EngineReplica } from "../control-plane/src/core/engine-replica.js";
import { DEFAULT_CONFIG } from "../control-plane/src/core/config.js";

const NOW_MS = 1_000_000;

function engine(): DecisionEngine {
  return new DecisionEngine([{ name: "a", baseWeight: 1 }, { name: "b", baseWeight: 1 }], { latencyMs: 2000, successRate: 0.99 }, DEFAULT_CONFIG);
}

describe("a takeover's hold on the breakers", () => {
  const cases: { name: string; hold: number; closedPerRound: number[]; expectHeld: boolean[]; expectLeft: number }[] = [
    { name: "holds them in every round until its windows have closed", hold: 2, closedPerRound: [1, 1, 1], expectHeld: [true, true, false], expectLeft: 0 },
    { name: "counts a round's closed windows all at once", hold: 3, closedPerRound: [2, 2], expectHeld: [true, true], expectLeft: 0 },
    { name: "rounds that close no window do not count", hold: 1, closedPerRound: [0, 0, 1, 1], expectHeld: [true, true, true, false], expectLeft: 0 },
    { name: "no hold: never held", hold: 0, closedPerRound: [1], expectHeld: [false], expectLeft: 0 },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const replica = new EngineReplica({
        clusters: engine().clusters, runtime: new Map(), alarms: { reset() {} } as never, controls: undefined as never, config: DEFAULT_CONFIG, issued: { beginTerm: () => undefined } as never,
        restore() {}, forgetPlan() {}, build: () => undefined as never, initialDecisions: () => undefined as never,
      });
      replica.beginTerm(5, { overrides: [] }, NOW_MS, c.hold);
      assert.equal(replica.heldWindows, c.hold);
      assert.deepEqual(c.closedPerRound.map((n) => replica.takeHold(n)), c.expectHeld);
      assert.equal(replica.heldWindows, c.expectLeft);
    });
  }
});

describe("the engine's replica side", () => {
  it("begins a term in the claimed generation with base weights, and reports the hold", () => {
    const e = engine();
    const set = e.replica.beginTerm(7, { overrides: [] }, NOW_MS, 3);
    assert.equal(e.replica.heldWindows, 3);
    assert.ok(set.version > 0);
    assert.deepEqual(e.replica.takeover, { resumed: [], notResumed: [] });
    assert.deepEqual(set.clusters.map((c) => [c.cluster, c.state]), [["a", "closed"], ["b", "closed"]]);
  });

  it("moves versions to a higher generation only", () => {
    const e = engine();
    const first = e.initialDecisions(NOW_MS);
    const generation = e.generation(NOW_MS);
    assert.equal(e.replica.advanceGeneration(generation, NOW_MS), undefined, "not above: nothing to do");
    const moved = e.replica.advanceGeneration(generation + 3, NOW_MS + 1);
    assert.ok(moved !== undefined && moved.version > first.version);
  });

  it("assesses every cluster for a successor", () => {
    const e = engine();
    const assessment = e.replica.assessment(NOW_MS, 4);
    assert.equal(assessment.version, 4);
    assert.deepEqual(assessment.clusters.map((c) => c.cluster), ["a", "b"]);
  });
});
