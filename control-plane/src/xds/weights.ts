// RDS weights from the control plane's decisions. Pure.
import type { DecisionSet } from "../core/types.js";
import type { XdsClusterConfig } from "./types.js";

/** Largest weight one cluster may carry, so that a route's sum stays far below UInt32 max. */
export const MAX_CLUSTER_WEIGHT = 1_000_000;

export interface RouteWeights {
  /** Cluster name -> integer weight for weighted_clusters, in configuration order. */
  weights: Map<string, number>;
  /**
   * Why the weights are what they are: "decisions" (followed the decision set), "base" (no
   * decisions yet), "all_open" (every cluster open or at weight 0: base weights keep traffic
   * flowing rather than a route with nothing to pick).
   */
  source: "decisions" | "base" | "all_open";
}

function clamp(weight: number): number {
  if (!Number.isFinite(weight) || weight <= 0) return 0;
  return Math.min(MAX_CLUSTER_WEIGHT, Math.round(weight));
}

/**
 * The weights of one service's route.
 * - closed: the decision's weight;
 * - half_open: the decision's weight times probeFraction, at least 1 when the weight is positive
 *   (xDS cannot reject the unprobed share locally as the filter does, so it goes to the others);
 * - open: 0, unless every cluster of the service would get 0: then the base weights;
 * - a cluster the decision set does not name keeps its base weight.
 */
export function routeWeights(clusters: readonly XdsClusterConfig[], decisions: DecisionSet | undefined): RouteWeights {
  const base = new Map(clusters.map((c) => [c.name, clamp(c.baseWeight ?? 1)]));
  if (decisions === undefined) return { weights: base, source: "base" };
  const byName = new Map(decisions.clusters.map((d) => [d.cluster, d]));
  const weights = new Map<string, number>();
  for (const cluster of clusters) {
    const decision = byName.get(cluster.name);
    if (decision === undefined) {
      weights.set(cluster.name, base.get(cluster.name) ?? 1);
      continue;
    }
    const weight = clamp(decision.weight);
    switch (decision.state) {
      case "closed":
        weights.set(cluster.name, weight);
        break;
      case "half_open": {
        const fraction = Math.min(1, Math.max(0, decision.probeFraction));
        weights.set(cluster.name, weight === 0 ? 0 : Math.max(1, clamp(weight * fraction)));
        break;
      }
      case "open":
        weights.set(cluster.name, 0);
        break;
    }
  }
  let total = 0;
  for (const weight of weights.values()) total += weight;
  if (total === 0) return { weights: base, source: "all_open" };
  return { weights, source: "decisions" };
}
