// What judges a half-open breaker's probes in the decision engine: the probes' own counts and the
// rules' scorers, not the model, whose inputs are pooled over recent windows and so still show the
// outage the probes follow. Two clusters behind one sidecar on virtual time; cluster a fails every
// request for a while, then serves again.
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { resolveConfig } from "../control-plane/src/core/config.js";
import { DecisionEngine } from "../control-plane/src/core/decision-engine.js";
import { clusterWindow } from "../control-plane/src/core/report-builder.js";
import type { ClusterWindowStats, DecisionSet, Scorer, ScoreResult, Transition } from "../control-plane/src/core/types.js";

const T0 = 1_700_000_000_000;
const LOAD_RPS = 200;

/** A stand-in for the model: the same score for cluster a in every round, whatever its windows show. */
function fixedModel(score: number): Scorer {
  return {
    name: "onnx-model",
    score(history: ReadonlyMap<string, readonly ClusterWindowStats[]>): Map<string, ScoreResult> {
      return new Map([...history.keys()].map((c) => [c, c === "a" ? { score, hard: false, reasons: [`model risk ${score}`] } : { score: 0, hard: false, reasons: [] }]));
    },
  };
}

/**
 * Runs `windows` one-second windows: a fails every request in windows [outageFrom, outageTo), and
 * in its probe windows from `outageTo` on fails `probeErrorRate` of them. Returns a's transitions.
 */
async function run(model: Scorer, probeErrorRate: number): Promise<Transition[]> {
  const engine = new DecisionEngine([{ name: "a", baseWeight: 1 }, { name: "b", baseWeight: 1 }], { latencyMs: 2000, successRate: 0.99 }, resolveConfig());
  let set: DecisionSet = engine.initialDecisions(T0);
  const transitions: Transition[] = [];
  const outageFrom = 20;
  const outageTo = 26;
  for (let window = 0; window < 60; window++) {
    const start = T0 + window * 1000;
    const live = set.clusters.filter((c) => c.state !== "open");
    const total = live.reduce((a, c) => a + c.weight, 0);
    const clusters = live.map((c) => {
      const rps = Math.round((LOAD_RPS * c.weight) / total);
      const failing = c.cluster === "a" && window >= outageFrom ? (window < outageTo ? 1 : probeErrorRate) : 0;
      return clusterWindow({ cluster: c.cluster, latenciesMs: Array.from({ length: rps }, (_, i) => 80 + (i % 40)), errors5xx: Math.round(failing * rps) });
    });
    const outcome = engine.ingest("w1", { windowStartMs: start, windowLengthMs: 1000, sequence: window + 1, enforcedVersion: set.version, clusters }, start + 1000);
    assert.equal(outcome.outcome, "accepted", JSON.stringify(outcome.refusal));
    const result = await engine.round(start + 1600, model);
    set = result.decisions;
    transitions.push(...result.transitions.filter((t) => t.cluster === "a"));
  }
  return transitions;
}

describe("the probes of a cluster back from an outage", () => {
  const cases: { name: string; model: number; probeErrorRate: number; closes: boolean }[] = [
    { name: "close its breaker when they serve well, though a model reading the outage still scores it 0.99", model: 0.99, probeErrorRate: 0, closes: true },
    { name: "close it as well with a calm model", model: 0, probeErrorRate: 0, closes: true },
    { name: "keep it from closing when they fail, however calm the model", model: 0, probeErrorRate: 0.5, closes: false },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const transitions = await run(fixedModel(c.model), c.probeErrorRate);
      assert.ok(transitions.some((t) => t.to === "open"), "the outage opened the breaker");
      assert.ok(transitions.some((t) => t.to === "half_open"), "the breaker probed");
      const closed = transitions.some((t) => t.from === "half_open" && t.to === "closed");
      assert.equal(closed, c.closes, transitions.map((t) => `${t.from}->${t.to} ${t.reason}`).join(" | "));
    });
  }
});
