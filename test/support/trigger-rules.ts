// Trigger rules the trigger tests share: a rule on the mean p99 latency of a scope above 5000 ms
// (core/triggers/), halting the mesh unless another action is given.
import type { TriggerRule } from "../../control-plane/src/core/triggers/index.js";

/** p99_ms (mean over `scope`: "mesh" or a cluster) above 5000 ms for forMs; default action halt. */
export function p99Rule(rule: Pick<TriggerRule, "name" | "forMs" | "clear" | "clearAfterMs"> & { scope: string; action?: TriggerRule["action"] }): TriggerRule {
  return {
    name: rule.name,
    condition: { metric: "p99_ms", scope: rule.scope, above: 5000, statistic: "mean" },
    forMs: rule.forMs,
    action: rule.action ?? { kind: "halt" },
    clear: rule.clear,
    clearAfterMs: rule.clearAfterMs,
  };
}
