// The multi-level filter against false alarms: a cluster trips only after N anomalous windows
// among its last M (hard-rule windows: hardN of M; a severe failure rate: at once), windows with
// too few requests carry no evidence, and after a breaker closes, soft (non-hard) evidence
// cannot trip it again for cooldownMs. Pure: verdicts and times in, a decision out.
import type { DetectorConfig } from "./config.js";

/** One window's verdict on one cluster. */
export interface WindowVerdict {
  windowStartMs: number;
  /** Enough requests to judge at all. */
  evidence: boolean;
  /** Combined score reached the threshold. */
  anomalous: boolean;
  /** A hard rule fired. */
  hard: boolean;
  /** Failure rate at or above the severe level (drain at once). */
  severe: boolean;
}

export interface TripDecision {
  trip: boolean;
  /** The trip rests on hard rules (or a severe failure rate), not only on predictions. */
  hard: boolean;
  severe: boolean;
  /** Anomalous windows among the last M. */
  anomalous: number;
  hardWindows: number;
  /** Cooldown suppressed a soft trip. */
  cooling: boolean;
}

export class AlarmFilter {
  private readonly verdicts = new Map<string, WindowVerdict[]>();
  private readonly closedAt = new Map<string, number>();

  constructor(private readonly config: Pick<DetectorConfig, "n" | "m" | "hardN" | "cooldownMs">) {}

  record(cluster: string, verdict: WindowVerdict): void {
    let ring = this.verdicts.get(cluster);
    if (ring === undefined) this.verdicts.set(cluster, (ring = []));
    if (ring.length > 0 && ring.at(-1)!.windowStartMs >= verdict.windowStartMs) {
      // A re-scored window replaces its earlier verdict.
      const i = ring.findIndex((v) => v.windowStartMs === verdict.windowStartMs);
      if (i >= 0) ring[i] = verdict;
      return;
    }
    ring.push(verdict);
    if (ring.length > this.config.m) ring.shift();
  }

  /** The breaker closed at atMs: start the cooldown and forget old evidence. */
  noteClosed(cluster: string, atMs: number): void {
    this.closedAt.set(cluster, atMs);
    this.verdicts.set(cluster, []);
  }

  /** Forget evidence (e.g. after an override). */
  reset(cluster: string): void {
    this.verdicts.set(cluster, []);
  }

  /** What the filter holds of a cluster: its last M verdicts and when its breaker last closed. */
  snapshot(cluster: string): { verdicts: WindowVerdict[]; closedAtMs?: number } {
    const closedAtMs = this.closedAt.get(cluster);
    return { verdicts: [...(this.verdicts.get(cluster) ?? [])], ...(closedAtMs === undefined ? {} : { closedAtMs }) };
  }

  /** Takes over a snapshot (a new leader continuing another's assessment, core/assessment.ts). */
  restore(cluster: string, snapshot: { verdicts: readonly WindowVerdict[]; closedAtMs?: number }): void {
    this.verdicts.set(cluster, snapshot.verdicts.slice(-this.config.m));
    if (snapshot.closedAtMs === undefined) this.closedAt.delete(cluster);
    else this.closedAt.set(cluster, snapshot.closedAtMs);
  }

  evaluate(cluster: string, nowMs: number): TripDecision {
    const ring = this.verdicts.get(cluster) ?? [];
    const withEvidence = ring.filter((v) => v.evidence);
    const anomalous = withEvidence.filter((v) => v.anomalous || v.hard).length;
    const hardWindows = withEvidence.filter((v) => v.hard).length;
    const latest = ring.at(-1);
    const severe = latest !== undefined && latest.evidence && latest.severe;
    const hardTrip = severe || hardWindows >= this.config.hardN;
    const softTrip = anomalous >= this.config.n;
    const closedAt = this.closedAt.get(cluster);
    const cooling = closedAt !== undefined && nowMs - closedAt < this.config.cooldownMs;
    const trip = hardTrip || (softTrip && !cooling);
    return { trip, hard: hardTrip, severe, anomalous, hardWindows, cooling: softTrip && !hardTrip && cooling };
  }
}
