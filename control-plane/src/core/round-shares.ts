// The planner's shares of a round from the engine's runtime records: each cluster's plain data for
// the planner (cluster-runtime.ts roundCluster) and, once planned, what the planner says of it
// (its move, whether it can be drained, why) written back on its record. The planner itself is
// pure (planner/round-plan.ts); this is the seam between it and the records the engine keeps.
import type { CoreConfig } from "./config.js";
import { roundCluster, type ClusterRuntime } from "./cluster-runtime.js";
import { previousShare } from "./decision-set-builder.js";
import { planConfigOf, planRound, type RoundCluster } from "./planner/round-plan.js";
import type { DecisionSet } from "./types.js";

/** What a planner round reads besides the runtime records. */
export interface RoundSharesInput {
  /** The set in force (its shares are where the planner starts). */
  inForce: DecisionSet | undefined;
  /** Whether an operator's override holds the cluster closed. */
  forcedClosed: (cluster: string) => boolean;
  /** Clusters planned from their base share instead of the share in force (just re-closed). */
  atBase?: ReadonlySet<string>;
}

/** The plain data a planner round needs of every cluster, in the records' order. */
export function roundClusters(runtimes: Iterable<ClusterRuntime>, input: RoundSharesInput): RoundCluster[] {
  return [...runtimes].map((rt) => {
    const inForce = previousShare(input.inForce, rt.spec.name);
    return roundCluster(rt, input.atBase?.has(rt.spec.name) === true ? undefined : inForce, input.forcedClosed(rt.spec.name), inForce);
  });
}

/** The shares of this round (fractions of the mesh's traffic, by cluster); records each cluster's
 *  move, drainability and plan reason on its runtime record. */
export function planRoundShares(runtime: ReadonlyMap<string, ClusterRuntime>, input: RoundSharesInput, config: CoreConfig): Map<string, number> {
  const shares = new Map<string, number>();
  for (const [name, result] of planRound(roundClusters(runtime.values(), input), planConfigOf(config))) {
    const rt = runtime.get(name)!;
    rt.lastMove = result.lastMove;
    rt.drainable = result.drainable;
    if (result.reason !== undefined) rt.planReason = result.reason;
    shares.set(name, result.share);
  }
  return shares;
}
