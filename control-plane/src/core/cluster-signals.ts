// What a cluster's record says about it, as pure functions on plain data: whether its newest
// window shows a robust sign of trouble or only load we put on it (overloaded), whether the soft
// scores are corroborated, the sustained risk the weights and the published anomaly score act on,
// and the reason a trip gives. The decision engine (decision-engine.ts) keeps the record; nothing
// here holds state or reads a clock.
import type { TripDecision } from "./alarm-filter.js";
import type { DetectorConfig } from "./config.js";
import type { CapacityEstimate, ClusterWindowStats, ScoreResult } from "./types.js";

/**
 * A cluster whose newest load is at least this multiple of the load it was last seen safe at
 * carries load we put on it: its latency rise is judged as queueing (capacity), not as a fault.
 */
export const LOAD_DRIVEN_FACTOR = 1.1;

/** The newest window of a cluster and what its capacity estimator believes (capacity.ts). */
export interface LoadEvidence {
  /** Merged windows, oldest first (the newest last). */
  history: readonly ClusterWindowStats[];
  /** The capacity estimate now: low-load p50 baseline (ms), safe load (requests/s). */
  capacity: CapacityEstimate;
}

/** The scores of a cluster over its last windows. */
export interface ScoreRecord {
  /** Combined verdict of the scorers on the newest window (score in [0, 1]). */
  combined: ScoreResult;
  /** Combined scores of the last M windows with evidence, oldest first. */
  recentScores: readonly number[];
  /** For each of the last M windows with evidence: did a robust signal back the scores up? */
  corroborations: readonly boolean[];
}

/** The newest window carries more load than the cluster was seen safe at, and no excess of failures. */
export function overloaded(cluster: LoadEvidence, detector: Pick<DetectorConfig, "errorRateThreshold">): boolean {
  const latest = cluster.history.at(-1);
  if (latest === undefined || latest.errorRate > detector.errorRateThreshold) return false;
  const cap = cluster.capacity;
  return cap.safeRps > 0 && latest.rps >= cap.safeRps * LOAD_DRIVEN_FACTOR;
}

/**
 * A robust sign of trouble in the newest window (see corroborated()): failures at half the hard
 * error-rate threshold or more (and at least minErrors of them), or a median latency at least
 * minRelativeRise × the low-load baseline that the load does not explain (not overloaded()).
 */
export function robustSignal(cluster: LoadEvidence, detector: Pick<DetectorConfig, "errorRateThreshold" | "minErrors" | "minRelativeRise">): boolean {
  const w = cluster.history.at(-1);
  if (w === undefined) return false;
  const failures = Math.round(w.errorRate * w.requests);
  if (w.errorRate >= detector.errorRateThreshold / 2 && failures >= detector.minErrors) return true;
  const baselineP50Ms = cluster.capacity.baselineP50Ms;
  if (!Number.isFinite(baselineP50Ms) || !Number.isFinite(w.p50Ms)) return false;
  return w.p50Ms >= baselineP50Ms * detector.minRelativeRise && !overloaded(cluster, detector);
}

/**
 * Soft scores (model, dynamic thresholds, trend) read noisy statistics: a window's p99 over a
 * hundred requests is nearly its slowest request. They act only when a robust signal of the
 * cluster itself backs them up in at least N of the last M windows: its median latency well
 * above its low-load baseline without the load explaining it, or failures at half the hard
 * threshold or more. Predictions on a healthy cluster thus move no traffic.
 */
export function corroborated(record: Pick<ScoreRecord, "corroborations">, detector: Pick<DetectorConfig, "n">): boolean {
  return record.corroborations.filter(Boolean).length >= detector.n;
}

/**
 * The risk the weights act on, [0, 1]: the level the combined score held in at least N of the
 * last M windows (the N-th highest), so one noisy window moves no traffic; a hard rule counts at
 * once. 0 while fewer than N windows were scored or the scores are not corroborated.
 */
export function sustainedRisk(record: ScoreRecord, detector: Pick<DetectorConfig, "n">): number {
  if (record.combined.hard) return record.combined.score;
  const n = detector.n;
  if (record.recentScores.length < n || !corroborated(record, detector)) return 0;
  return [...record.recentScores].sort((a, b) => b - a)[n - 1]!;
}

/**
 * Why the alarm filter tripped: the first two reasons of the combined verdict ("anomalous" when
 * none); a trip on predictions alone says so, with its anomalous windows among the last M.
 */
export function tripReason(cluster: { combined: ScoreResult; trip: TripDecision }, detector: Pick<DetectorConfig, "m">): string {
  const r = cluster.combined.reasons;
  const head = r.length > 0 ? r.slice(0, 2).join("; ") : "anomalous";
  return cluster.trip.hard ? head : `predicted: ${head} (${cluster.trip.anomalous} of ${detector.m} windows)`;
}
