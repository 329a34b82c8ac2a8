// The set a round issues, in layers: the automatic decisions (breakers, planner shares, risk:
// decision-set-builder.ts), then an operator's rollback pin over every cluster that no override or
// trigger decides (rollback.ts), then the triggers' actions (triggers/actions.ts), then the source
// limits. Pure: the decision engine (decision-engine.ts) gathers the inputs and keeps the sets.
import type { CoreConfig } from "./config.js";
import { sustainedRisk } from "./cluster-signals.js";
import type { ClusterRuntime } from "./cluster-runtime.js";
import { buildDecisionSet } from "./decision-set-builder.js";
import type { OperatorControls } from "./overrides.js";
import { applyRollback } from "./rollback.js";
import type { SourceLimitDecision } from "./sources/types.js";
import { applyTriggerActions } from "./triggers/index.js";
import type { TriggerActions } from "./triggers/types.js";
import type { DecisionSet } from "./types.js";

/** What the layers of a set are read from. */
export interface SetLayers {
  /** Each cluster's runtime record, in the clusters' order. */
  runtimes: Iterable<ClusterRuntime>;
  /** The planner's shares of the round (undefined before the first: base shares). */
  plannedShares: ReadonlyMap<string, number> | undefined;
  /** Overrides, the halt and the rollback pin in force. */
  controls: Pick<OperatorControls, "get" | "haltState" | "rollback">;
  /** What the fired trigger rules ask. */
  triggerActions: TriggerActions;
  /** The source limits the set carries (empty: none). */
  sourceLimits: readonly SourceLimitDecision[];
}

/** The decision set `version` issued at nowMs from the layers in force. */
export function assembleDecisionSet(layers: SetLayers, nowMs: number, version: number, config: CoreConfig): DecisionSet {
  const runtimes = [...layers.runtimes];
  const clusters = runtimes.map((rt) => ({
    spec: rt.spec,
    breaker: rt.breaker,
    risk: sustainedRisk(rt, config.detector),
    planReason: rt.planReason,
    override: layers.controls.get(rt.spec.name),
  }));
  const built = buildDecisionSet(clusters, layers.plannedShares, layers.controls.haltState(), nowMs, version, config);
  const pin = layers.controls.rollback();
  // A rollback pins every cluster but those an override or a trigger decides.
  const forced = new Set(runtimes.map((rt) => rt.spec.name).filter((name) => layers.controls.get(name) !== undefined || layers.triggerActions.open.has(name)));
  const set = applyTriggerActions(pin === undefined ? built : applyRollback(built, pin, forced), layers.triggerActions);
  return layers.sourceLimits.length > 0 ? { ...set, sourceLimits: [...layers.sourceLimits] } : set;
}
