// What the fired rules ask of the decision set, and applying it. Combination, as overrides and
// the halt combine with the planner's decisions (overrides.ts): an operator's halt wins over a
// trigger's (its reason stays); a trigger's halt halts a set the operator did not halt; a
// trigger opening a cluster acts as an "open" override unless the operator has one on that
// cluster (the decision engine applies it to the breaker); shed fractions of several rules on the
// same scope take the largest. Pure.
import { openBreaker, type BreakerStep } from "../breaker.js";
import type { BreakerConfig } from "../config.js";
import type { BreakerState, DecisionSet } from "../types.js";
import type { FiringValues, TriggerActions, TriggerRule } from "./types.js";

export function noActions(): TriggerActions {
  return { open: new Map(), clusterShed: new Map() };
}

/** The combined actions of the fired rules (in configuration order: the first halt / open wins). */
export function combineActions(fired: readonly { rule: TriggerRule; fired: FiringValues }[]): TriggerActions {
  const out = noActions();
  for (const { rule, fired: values } of fired) {
    const a = rule.action;
    const reason = values.reason;
    // A source limit is set once, when the rule fires (service.ts), not held by the rule.
    if (a.kind === "limit_source") continue;
    if (a.kind === "halt") out.halt ??= { trigger: rule.name, reason };
    else if (a.kind === "open") {
      if (!out.open.has(a.cluster)) out.open.set(a.cluster, { trigger: rule.name, reason });
    } else if (a.cluster === undefined) {
      if (out.meshShed === undefined || a.fraction > out.meshShed.fraction) out.meshShed = { trigger: rule.name, fraction: a.fraction, reason };
    } else {
      const had = out.clusterShed.get(a.cluster);
      if (had === undefined || a.fraction > had.fraction) out.clusterShed.set(a.cluster, { trigger: rule.name, fraction: a.fraction, reason });
    }
  }
  return out;
}

/** The set with the triggers' halt and shed applied (a new object; `set` is not changed). */
export function applyTriggerActions(set: DecisionSet, actions: TriggerActions): DecisionSet {
  const out: DecisionSet = { ...set, clusters: set.clusters.map((c) => ({ ...c })) };
  if (!out.halted && actions.halt !== undefined) {
    out.halted = true;
    out.haltReason = actions.halt.reason;
    out.haltMode = "drain";
  }
  if (actions.meshShed !== undefined) {
    out.shedFraction = actions.meshShed.fraction;
    out.shedReason = actions.meshShed.reason;
  }
  for (const c of out.clusters) {
    const shed = actions.clusterShed.get(c.cluster);
    if (shed === undefined) continue;
    c.shedFraction = shed.fraction;
    c.reason = c.reason === "" ? shed.reason : `${c.reason}; ${shed.reason}`;
  }
  return out;
}

/** The breaker step of a trigger holding `cluster` open (as an "open" override without expiry
 *  does, overrides.ts applyOverride): (re)opened with the trigger's reason, a transition only
 *  when it was not open already. */
export function triggerOpenStep(cluster: string, reason: string, breaker: BreakerState, nowMs: number, config: BreakerConfig): BreakerStep {
  if (breaker.kind === "open" && breaker.reason === reason && breaker.until === Infinity) return { state: breaker };
  const step = openBreaker(cluster, breaker, nowMs, reason, config);
  const state: BreakerState = { ...(step.state as Extract<BreakerState, { kind: "open" }>), until: Infinity };
  return breaker.kind !== "open" ? { state, transition: step.transition! } : { state };
}
