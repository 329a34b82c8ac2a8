// The decision set of a round from plain data: each cluster's breaker state, sustained risk, plan
// reason and override, the planner's shares and the halt. Also the shares a decision set in force
// carries (the planner starts from them) and the key that tells whether a set's content changed.
// Pure: the decision engine (decision-engine.ts) gathers the inputs and keeps the sets.
import type { DecisionConfig, DetectorConfig, WeightConfig } from "./config.js";
import { overrideReason } from "./overrides.js";
import type { BreakerState, ClusterDecision, ClusterSpec, DecisionSet, HaltState, Override } from "./types.js";
import { sharesToWeights } from "./weights.js";

/** Retry-after for an open state without end (override without TTL), seconds. */
export const RETRY_AFTER_UNBOUNDED_S = 60;

/** What the decision set needs of one cluster. */
export interface DecisionInput {
  spec: ClusterSpec;
  breaker: BreakerState;
  /** Its sustained risk, [0, 1] (cluster-signals.ts sustainedRisk). */
  risk: number;
  /** Planner policy: why the plan moved its share ("" when at base). */
  planReason: string;
  /** The operator's override of it, if any. */
  override: Override | undefined;
}

/** The parts of the core configuration a decision set is built with. */
export interface DecisionSetConfig {
  weights: Pick<WeightConfig, "totalWeight">;
  detector: Pick<DetectorConfig, "scoreThreshold">;
  decision: Pick<DecisionConfig, "ttlMs">;
}

/** Sum of the operator's base weights. */
export function baseTotal(specs: readonly ClusterSpec[]): number {
  return specs.reduce((a, c) => a + c.baseWeight, 0);
}

/** The risk published as anomaly_score: in steps of 0.25, and 0 below the alarm level, so noise
 *  does not make new versions. */
export function publishedRisk(risk: number, detector: Pick<DetectorConfig, "scoreThreshold">): number {
  return risk >= detector.scoreThreshold ? Math.round(risk * 4) / 4 : 0;
}

/**
 * The decision set `version` issued at nowMs. Weights are the planner's shares (base shares before
 * the first plan) as integers summing to weights.totalWeight. Every cluster open: all routed to at
 * base weights ("panic", as Envoy's panic mode routes to every host when too few are healthy),
 * except those an override holds open. No weight at all: base weights (open states still refuse).
 */
export function buildDecisionSet(
  clusters: readonly DecisionInput[],
  plannedShares: ReadonlyMap<string, number> | undefined,
  halt: HaltState,
  nowMs: number,
  version: number,
  config: DecisionSetConfig,
): DecisionSet {
  const total = baseTotal(clusters.map((c) => c.spec));
  // planRound gives base shares too when every cluster is open.
  const panic = clusters.every((c) => c.breaker.kind === "open");
  const shares = plannedShares ?? new Map(clusters.map((c) => [c.spec.name, c.spec.baseWeight / total]));
  const weights = sharesToWeights(shares, config.weights.totalWeight);
  const decisions: ClusterDecision[] = clusters.map((c) => {
    const b = c.breaker;
    const cluster = c.spec.name;
    const weight = weights.get(cluster) ?? 0;
    const score = publishedRisk(c.risk, config.detector);
    if (panic && b.kind === "open" && c.override === undefined) {
      return { cluster, state: "closed", weight, probeFraction: 1, retryAfterS: 0, reason: "panic: every cluster looks bad, base weights", anomalyScore: score };
    }
    if (b.kind === "open") {
      const retryAfterS = Number.isFinite(b.until) ? Math.max(1, Math.ceil((b.until - b.since) / 1000)) : RETRY_AFTER_UNBOUNDED_S;
      return { cluster, state: "open", weight, probeFraction: 1, retryAfterS, reason: b.reason, anomalyScore: score };
    }
    if (b.kind === "half_open") {
      return { cluster, state: "half_open", weight, probeFraction: 1, retryAfterS: 0, reason: `probing (${b.healthyWindows} healthy windows)`, anomalyScore: score };
    }
    const reason = c.override !== undefined ? overrideReason(c.override) : c.planReason;
    return { cluster, state: "closed", weight, probeFraction: 1, retryAfterS: 0, reason, anomalyScore: score };
  });
  if (decisions.every((d) => d.weight === 0)) {
    // A set must carry some weight: fall back to base weights (open states still refuse).
    decisions.forEach((d, i) => (d.weight = Math.max(1, Math.round((clusters[i]!.spec.baseWeight / total) * config.weights.totalWeight))));
  }
  return {
    version,
    issuedAtMs: nowMs,
    ttlMs: config.decision.ttlMs,
    halted: halt.halted,
    haltReason: halt.halted ? `${halt.reason} (by ${halt.actor})` : "",
    clusters: decisions,
    ...(halt.halted ? { haltMode: halt.mode ?? "drain" } : {}),
  };
}

/** Content of a decision set without version and issue time (to tell whether it changed). */
export function contentKey(set: Omit<DecisionSet, "version" | "issuedAtMs">): string {
  return JSON.stringify([set.ttlMs, set.halted, set.haltReason, set.clusters, set.shedFraction ?? 0, set.shedReason ?? "", set.halted ? (set.haltMode ?? "drain") : "", set.sourceLimits ?? []]);
}

/**
 * A cluster's share of the traffic in `set`, [0, 1]: its weight over the weights of the clusters
 * not open; 0 when it is open. Undefined without a set, when the set does not name it, or when
 * every cluster in it is open.
 */
export function previousShare(set: DecisionSet | undefined, cluster: string): number | undefined {
  if (set === undefined) return undefined;
  const total = set.clusters.reduce((a, c) => a + (c.state === "open" ? 0 : c.weight), 0);
  const c = set.clusters.find((x) => x.cluster === cluster);
  if (c === undefined || total <= 0) return undefined;
  return c.state === "open" ? 0 : c.weight / total;
}

/**
 * The split a restored decision set puts in force until the first round plans anew: each of
 * `clusters` gets its weight over the weights of the set's clusters among them (open ones
 * included; 0 when the set does not name it). Undefined when those weights sum to 0.
 */
export function restoredShares(set: DecisionSet, clusters: readonly string[]): Map<string, number> | undefined {
  const total = set.clusters.reduce((sum, c) => sum + (clusters.includes(c.cluster) ? c.weight : 0), 0);
  if (!(total > 0)) return undefined;
  return new Map(clusters.map((name) => [name, (set.clusters.find((x) => x.cluster === name)?.weight ?? 0) / total]));
}
