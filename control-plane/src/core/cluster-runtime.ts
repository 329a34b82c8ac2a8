// The decision engine's record of one cluster between rounds (ClusterRuntime): its shape, how it
// starts, how a restored decision and new windows enter it, and the plain views of it that others
// read (the status of the admin API and dashboard, the planner's RoundCluster). The engine
// (decision-engine.ts) holds one record per cluster; the steps of a round read and update them.
import type { TripDecision } from "./alarm-filter.js";
import { CapacityEstimator } from "./capacity.js";
import type { CoreConfig } from "./config.js";
import { noProbeEvidence, type ProbeEvidence } from "./probe-verdict.js";
import type { BreakerState, ClusterDecision, ClusterSpec, ClusterStatus, ClusterWindowStats, Override, ScoreResult } from "./types.js";
import { gatheredShare, type ShareChange } from "./planner/gathered-share.js";
import type { LastMove, RoundCluster } from "./planner/round-plan.js";

export interface ClusterRuntime {
  spec: ClusterSpec;
  /** Merged windows, oldest first (at most aggregation.historyWindows). */
  history: ClusterWindowStats[];
  breaker: BreakerState;
  /** Learns the cluster's safe load and latency baseline from its windows (capacity.ts). */
  capacity: CapacityEstimator;
  /** Combined verdict of the scorers on the newest window (score-combination.ts). */
  combined: ScoreResult;
  /** The same without the model's verdict: what a half-open probe window is judged by
   *  (probe-verdict.ts; the model's inputs are pooled over recent windows). */
  probeCombined: ScoreResult;
  /** Combined scores of the last M windows with evidence, oldest first. */
  recentScores: number[];
  /** Each scorer's verdict of the last scoring, by scorer name. */
  scorers: Record<string, ScoreResult>;
  /** The alarm filter's decision after the last scoring (alarm-filter.ts). */
  trip: TripDecision;
  /** Half-open probe evidence gathered over windows too thin to judge alone. */
  probe: ProbeEvidence;
  /** For each of the last M windows with evidence: did a robust signal back the scores up? */
  corroborations: boolean[];
  /** Planner policy: direction of the last share change and rounds since. */
  lastMove: LastMove;
  /** Planner policy: the last plan would cut this cluster below the floor (open it). */
  drainable: boolean;
  /** Planner policy: why the plan moved this cluster's share ("" when at base). */
  planReason: string;
  /** Its share in each decision set this engine issued lately, from when (planner/gathered-share.ts). */
  shareLog: ShareChange[];
}

const NO_SCORE: ScoreResult = { score: 0, hard: false, reasons: [] };
const NO_TRIP: TripDecision = { trip: false, hard: false, severe: false, anomalous: 0, hardWindows: 0, cooling: false };

/** A cluster's record before any window: closed, no score, nothing learnt. */
export function newClusterRuntime(spec: ClusterSpec, config: Pick<CoreConfig, "weights">): ClusterRuntime {
  return {
    spec,
    history: [],
    breaker: { kind: "closed", since: 0 },
    capacity: new CapacityEstimator(config.weights),
    combined: NO_SCORE,
    probeCombined: NO_SCORE,
    recentScores: [],
    corroborations: [],
    scorers: {},
    trip: NO_TRIP,
    probe: noProbeEvidence(),
    lastMove: { direction: 0, roundsAgo: 0 },
    drainable: false,
    planReason: "",
    shareLog: [],
  };
}

/**
 * Carries a restored decision on the cluster into its record at nowMs: its published risk (as N
 * corroborated recent scores, until new windows replace them) and its breaker state (an open one
 * waits its retry-after again, at least 1 s; a half-open one probes from the start).
 */
export function restoreClusterRuntime(rt: ClusterRuntime, decision: ClusterDecision, nowMs: number, config: Pick<CoreConfig, "detector">): void {
  if (decision.anomalyScore > 0) {
    rt.recentScores = new Array<number>(config.detector.n).fill(decision.anomalyScore);
    rt.corroborations = new Array<boolean>(config.detector.n).fill(true);
  }
  if (decision.state === "open") {
    const waitMs = Math.max(1000, decision.retryAfterS * 1000);
    rt.breaker = { kind: "open", since: nowMs, until: nowMs + waitMs, reason: decision.reason || "restored", openings: 1 };
  } else if (decision.state === "half_open") {
    rt.breaker = { kind: "half_open", since: nowMs, probeFraction: 0.1, healthyWindows: 0, openings: 1 };
  }
}

/** A newly closed window: appended to the history (the oldest dropped past historyWindows) and
 *  fed to the capacity estimator (a window failing above the error-rate threshold teaches nothing). */
export function appendWindow(rt: ClusterRuntime, stats: ClusterWindowStats, config: Pick<CoreConfig, "aggregation" | "detector">): void {
  rt.history.push(stats);
  if (rt.history.length > config.aggregation.historyWindows) rt.history.shift();
  const failing = stats.errorRate > config.detector.errorRateThreshold;
  rt.capacity.update(stats, config.detector.minRequests, failing);
}

/** A window changed by late reports replaces the one with its start time in the history, if still there. */
export function replaceWindow(rt: ClusterRuntime, stats: ClusterWindowStats): void {
  const i = rt.history.findIndex((w) => w.windowStartMs === stats.windowStartMs);
  if (i >= 0) rt.history[i] = stats;
}

/** The cluster's status: its record, its decision in the set in force, its override if still in force at nowMs. */
export function clusterStatus(rt: ClusterRuntime, decision: ClusterDecision | undefined, override: Override | undefined, nowMs: number): ClusterStatus {
  const status: ClusterStatus = {
    cluster: rt.spec.name,
    baseWeight: rt.spec.baseWeight,
    state: rt.breaker,
    weight: decision?.weight ?? 0,
    score: rt.combined.score,
    hard: rt.combined.hard,
    reasons: [...rt.combined.reasons, ...(rt.planReason === "" ? [] : [rt.planReason])],
    scorers: { ...rt.scorers },
    anomalousWindows: rt.trip.anomalous,
    capacity: rt.capacity.estimate(),
    recent: rt.history.slice(-10),
  };
  if (override !== undefined && (override.untilMs === undefined || override.untilMs > nowMs)) status.override = { ...override };
  return status;
}

/**
 * What a planner round needs of the cluster (planner/round-plan.ts): `previousShare` is its share
 * in the set in force ([0, 1], undefined before the first), `forcedClosed` whether an override
 * holds it closed.
 */
export function roundCluster(rt: ClusterRuntime, previousShare: number | undefined, forcedClosed: boolean, inForceShare = previousShare): RoundCluster {
  return {
    name: rt.spec.name,
    baseWeight: rt.spec.baseWeight,
    breaker: rt.breaker.kind,
    probeFraction: rt.breaker.kind === "half_open" ? rt.breaker.probeFraction : 1,
    previousShare,
    inForceShare,
    gatheredShare: gatheredShare(rt.shareLog, rt.history),
    history: rt.history,
    capacity: rt.capacity.estimate(),
    lastMove: rt.lastMove,
    forcedClosed,
  };
}
