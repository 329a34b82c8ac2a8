// The set a round issues, in layers (control-plane/src/core/decision-set-assembly.ts): the
// automatic decisions, then a rollback pin over every cluster no override or trigger decides, then
// the triggers' actions, then the source limits. (A trigger holding a cluster open opens its
// breaker in the round's breaker step; here the breaker is given open, as that step leaves it.)
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { newClusterRuntime, type ClusterRuntime } from "../control-plane/src/core/cluster-runtime.js";
import { DEFAULT_CONFIG } from "../control-plane/src/core/config.js";
import { assembleDecisionSet, type SetLayers } from "../control-plane/src/core/decision-set-assembly.js";
import { noActions } from "../control-plane/src/core/triggers/index.js";
import type { ClusterDecision, HaltState, Override, Rollback } from "../control-plane/src/core/types.js";

const NOT_HALTED: HaltState = { halted: false, reason: "", actor: "", atMs: 0 };
const runtimes = (): ClusterRuntime[] => ["a", "b", "c"].map((name) => newClusterRuntime({ name, baseWeight: 1 }, DEFAULT_CONFIG));
const pinned = (cluster: string, state: ClusterDecision["state"], weight: number): ClusterDecision => ({ cluster, state, weight, probeFraction: 1, retryAfterS: 0, reason: "", anomalyScore: 0 });
// An earlier set that had a and b open and everything on c.
const ROLLBACK: Rollback = { fromVersion: 3, clusters: [pinned("a", "open", 0), pinned("b", "open", 0), pinned("c", "closed", 1000)], reason: "bad deploy", actor: "dana", atMs: 0 };
const OVERRIDE_B: Override = { cluster: "b", state: "closed", reason: "known good", actor: "erin" };

interface Case {
  name: string;
  overrides?: Override[];
  rollback?: Rollback;
  triggerOpen?: string[];
  /** A mesh-wide shed a trigger asks. */
  meshShed?: number;
  /** Expected state of a, b, c. */
  states: ClusterDecision["state"][];
  sourceLimits?: boolean;
}

describe("the set a round issues, layer over layer", () => {
  const cases: Case[] = [
    { name: "with no operator layer the automatic decisions are issued", states: ["closed", "closed", "closed"] },
    { name: "a rollback pins every cluster to the earlier set's decision", rollback: ROLLBACK, states: ["open", "open", "closed"] },
    { name: "a cluster an override decides keeps the override's decision under a rollback", rollback: ROLLBACK, overrides: [OVERRIDE_B], states: ["open", "closed", "closed"] },
    { name: "a cluster a trigger holds open stays open whatever the rollback pinned", rollback: ROLLBACK, triggerOpen: ["c"], states: ["open", "open", "open"] },
    { name: "a trigger's shed applies over a rollback", rollback: ROLLBACK, meshShed: 0.25, states: ["open", "open", "closed"] },
    { name: "the source limits ride on the set when there are any", states: ["closed", "closed", "closed"], sourceLimits: true },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const overrides = new Map((c.overrides ?? []).map((o) => [o.cluster, o]));
      const triggerActions = noActions();
      const records = runtimes();
      for (const cluster of c.triggerOpen ?? []) {
        triggerActions.open.set(cluster, { trigger: "t", reason: "held by t" });
        records.find((rt) => rt.spec.name === cluster)!.breaker = { kind: "open", since: 0, until: Infinity, reason: "held by t", openings: 1 };
      }
      if (c.meshShed !== undefined) triggerActions.meshShed = { trigger: "t", fraction: c.meshShed, reason: "shed by t" };
      const layers: SetLayers = {
        runtimes: records,
        plannedShares: undefined,
        controls: { get: (cluster) => overrides.get(cluster), haltState: () => NOT_HALTED, rollback: () => c.rollback },
        triggerActions,
        sourceLimits: c.sourceLimits === true ? [{ source: "batch", deny: false, admitFraction: 0.5, retryAfterS: 1, reason: "budget", capPerS: 10 }] : [],
      };
      const set = assembleDecisionSet(layers, 1000, 9, DEFAULT_CONFIG);
      assert.deepEqual(set.clusters.map((d) => d.state), c.states);
      assert.equal(set.version, 9);
      assert.equal(set.sourceLimits === undefined, c.sourceLimits !== true);
      assert.equal(set.shedFraction, c.meshShed);
    });
  }
});
