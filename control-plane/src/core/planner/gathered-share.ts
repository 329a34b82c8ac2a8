// The share a cluster's evidence was gathered at (pure): the planner predicts a cluster's load at
// a new share from its observed load and the share in force while that load was observed
// (planner.ts loadAt, PlanCluster.evidenceShare). The decision set in force now is not that
// share when it changed lately: windows close and are merged after the round that changed it, so
// a cluster that just closed after probing at a few percent shows its probe load for a window or
// two more while the set already gives it its base share back.
import type { ClusterWindowStats } from "../types.js";
import { EVIDENCE_DECAY, EVIDENCE_WINDOWS } from "./assessment.js";

/** From atMs on (Unix ms), the cluster's share of the mesh's traffic in the decision set in force, [0, 1]. */
export interface ShareChange {
  atMs: number;
  share: number;
}

/** Changes kept per cluster: enough to cover the pooled evidence windows and the one that changed. */
export const SHARE_LOG_LENGTH = 2 * EVIDENCE_WINDOWS + 2;

/** Appends the share in force from atMs on when it differs from the last one logged; keeps the newest SHARE_LOG_LENGTH. */
export function logShare(log: ShareChange[], atMs: number, share: number | undefined): void {
  if (share === undefined || !Number.isFinite(share)) return;
  const last = log.at(-1);
  if (last !== undefined && Math.abs(last.share - share) < 1e-12) return;
  log.push({ atMs, share });
  if (log.length > SHARE_LOG_LENGTH) log.splice(0, log.length - SHARE_LOG_LENGTH);
}

/**
 * The share in force over the windows the evidence pools (assessment.ts: the newest EVIDENCE_WINDOWS
 * windows, each weighing EVIDENCE_DECAY times the next newer one), each window at the share in
 * force at its middle. Undefined when the log does not reach back to any of those windows (a
 * fresh start or a takeover): the caller then assumes the share in force now.
 */
export function gatheredShare(log: readonly ShareChange[], history: readonly ClusterWindowStats[]): number | undefined {
  let sum = 0;
  let weights = 0;
  let weight = 1;
  for (let i = history.length - 1, seen = 0; i >= 0 && seen < EVIDENCE_WINDOWS; i--, seen++) {
    const w = history[i]!;
    const share = shareAt(log, w.windowStartMs + w.windowLengthMs / 2);
    if (share !== undefined) {
      sum += weight * share;
      weights += weight;
    }
    weight *= EVIDENCE_DECAY;
  }
  return weights > 0 ? sum / weights : undefined;
}

function shareAt(log: readonly ShareChange[], atMs: number): number | undefined {
  for (let i = log.length - 1; i >= 0; i--) if (log[i]!.atMs <= atMs) return log[i]!.share;
  return undefined;
}
