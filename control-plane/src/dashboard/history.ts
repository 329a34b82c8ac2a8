// The dashboard's memory of the last minutes: one sample per cluster per tick and the recent
// transitions, in bounded rings, so a page that opens late still draws full charts.
import type { ClusterStatus, Transition } from "../core/types.js";

export interface ClusterSample {
  state: string;
  weight: number;
  /** [0, 1]. */
  score: number;
  /** Failure fraction of the last window, [0, 1]; null when it had no requests ("no traffic",
   *  not 0 % errors). */
  error_rate: number | null;
  /** Last window's p99 latency, ms (null without requests). */
  p99_ms: number | null;
  /** Requests per second in the last window. */
  rps: number;
  /** Last window's p99 time to first token and time per output token of the cluster's streamed
   *  responses, ms (null when no stream ended in it). */
  ttft_p99_ms: number | null;
  tpot_p99_ms: number | null;
  /** This cluster's share of the requests every cluster got in the last window, [0, 1], as the
   *  sidecars reported them; null when no cluster had a request. */
  measured_share: number | null;
}

export interface Sample {
  /** Epoch ms. */
  t: number;
  clusters: Record<string, ClusterSample>;
}

export interface TransitionView {
  cluster: string;
  from: string;
  to: string;
  at_ms: number;
  reason: string;
  /** The fault snapshot taken at this transition (a breaker opening), null when none. */
  snapshot_id: string | null;
}

export function sampleOf(statuses: readonly ClusterStatus[], nowMs: number): Sample {
  const clusters: Record<string, ClusterSample> = {};
  const lastOf = (s: ClusterStatus) => s.recent[s.recent.length - 1];
  const totalRequests = statuses.reduce((a, s) => a + (lastOf(s)?.requests ?? 0), 0);
  for (const s of statuses) {
    const last = lastOf(s);
    const requests = last?.requests ?? 0;
    clusters[s.cluster] = {
      state: s.state.kind,
      weight: s.weight,
      score: Number.isFinite(s.score) ? s.score : 0,
      error_rate: last !== undefined && requests > 0 ? last.errorRate : null,
      p99_ms: last !== undefined && Number.isFinite(last.p99Ms) ? last.p99Ms : null,
      rps: last?.rps ?? 0,
      ttft_p99_ms: finiteOrNull(last?.streams?.ttftP99Ms),
      tpot_p99_ms: finiteOrNull(last?.streams?.tpotP99Ms),
      measured_share: totalRequests > 0 ? requests / totalRequests : null,
    };
  }
  return { t: nowMs, clusters };
}

function finiteOrNull(x: number | undefined): number | null {
  return x !== undefined && Number.isFinite(x) ? x : null;
}

export function transitionView(t: Transition, snapshotId?: string): TransitionView {
  return { cluster: t.cluster, from: t.from, to: t.to, at_ms: t.atMs, reason: t.reason, snapshot_id: snapshotId ?? null };
}

/** A ring of the newest `capacity` items. */
export class Ring<T> {
  private readonly items: T[] = [];
  constructor(private readonly capacity: number) {}
  push(item: T): void {
    this.items.push(item);
    if (this.items.length > this.capacity) this.items.splice(0, this.items.length - this.capacity);
  }
  toArray(): T[] {
    return [...this.items];
  }
}
