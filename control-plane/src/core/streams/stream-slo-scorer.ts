// The stream objectives (slo.ttftMs, slo.tpotMs: p99 of streamed responses) judged on each
// cluster's merged windows, with the evidence rules of the latency hard rule
// (scorers/hard-rules.ts): a window with fewer than detector.minStreams streams (ended, or first
// tokens: TTFT is reported when the first token comes) is pooled with the following ones (at most
// M windows, never overlapping; histograms add) until the pool holds minStreams, and a breach
// needs the streams over the objective to be significantly more than 1%.
//
// What each breach means (decision-engine.ts acts on it):
//   - TTFT over its objective: the prefill queue (load) or a fault. It is a hard verdict (reasons,
//     metrics, dashboard) and judges half-open probes, but it moves no traffic: the planner's bad
//     requests leave slow streams out (planner/assessment.ts badRequests explains why); load still
//     shows in a streamed cluster's capacity, learnt from its time to first token.
//   - TPOT over its objective: a slow decode batch. Moving weight does not speed up the streams
//     in flight, and new ones join the slow batch: after hardN breaching windows among the last M
//     the cluster is worth opening (decodeTrip), and an open breaker admits no new stream there.
// Pure but for the per-cluster pools and verdict rings it keeps (a re-scored window is idempotent).
import type { DetectorConfig } from "../config.js";
import { significantlyAbove } from "../scorers/significance.js";
import type { ClusterWindowStats, Scorer, ScoreResult } from "../types.js";
import { poolStreamStats, type StreamSlo, type StreamStats } from "./stream-window.js";

export type StreamSloConfig = Pick<DetectorConfig, "minStreams" | "m" | "hardN" | "significanceZ">;

/** The verdict on one pool of streams. */
export interface StreamVerdict {
  /** Start of the newest window judged (the pool's last), epoch ms. */
  windowStartMs: number;
  /** The pool held minStreams: it was judged. */
  evidence: boolean;
  ttftBreach: boolean;
  tpotBreach: boolean;
  /** The pool judged (undefined without evidence). */
  pool?: StreamStats;
  /** Windows in the pool. */
  windows: number;
}

interface PoolState {
  lastStartMs: number;
  /** Thin windows carried before the newest one, and after it (empty when judged). */
  before: StreamStats[];
  after: StreamStats[];
}

export class StreamSloScorer implements Scorer {
  readonly name = "stream_slo";
  private readonly pools = new Map<string, PoolState>();
  /** The verdicts of the last M windows per cluster, oldest first. */
  private readonly verdicts = new Map<string, StreamVerdict[]>();

  constructor(
    private readonly slo: StreamSlo,
    private readonly config: StreamSloConfig,
  ) {}

  score(history: ReadonlyMap<string, readonly ClusterWindowStats[]>): Map<string, ScoreResult> {
    const out = new Map<string, ScoreResult>();
    for (const [cluster, windows] of history) {
      const latest = windows.at(-1);
      if (latest === undefined) continue;
      const verdict = this.judgeNewest(cluster, latest);
      out.set(cluster, this.result(verdict));
    }
    return out;
  }

  /**
   * Why the cluster's decode is too slow to admit new streams: TPOT breached its objective in at
   * least hardN of the last M windows judged; undefined otherwise.
   */
  decodeTrip(cluster: string): string | undefined {
    const ring = this.verdicts.get(cluster) ?? [];
    const breaches = ring.filter((v) => v.evidence && v.tpotBreach);
    if (breaches.length < Math.max(1, this.config.hardN) || this.slo.tpotMs === undefined) return undefined;
    const p99 = breaches.at(-1)!.pool!.tpotP99Ms;
    return `tpot p99 ${round(p99)}ms > slo ${round(this.slo.tpotMs)}ms in ${breaches.length} of ${this.config.m} windows: slow decode, no new streams`;
  }

  /** Forgets a cluster's verdicts (its breaker closed again, or an override). */
  reset(cluster: string): void {
    this.verdicts.delete(cluster);
  }

  private judgeNewest(cluster: string, latest: ClusterWindowStats): StreamVerdict {
    const state = this.pools.get(cluster);
    let before: StreamStats[] = [];
    if (state !== undefined && latest.windowStartMs === state.lastStartMs) before = state.before;
    else if (state !== undefined && latest.windowStartMs > state.lastStartMs) before = state.after;
    const maxWindows = Math.max(1, this.config.m);
    const gapWindows = state === undefined ? 0 : (latest.windowStartMs - state.lastStartMs) / Math.max(1, latest.windowLengthMs);
    // The pool spans at most M consecutive windows: older thin traffic says nothing about now.
    if (before.length >= maxWindows || gapWindows > maxWindows) before = [];
    const windows = latest.streams === undefined ? before : [...before, latest.streams];
    const pool = poolStreamStats(windows, this.slo);
    const enough = pool !== undefined && Math.max(pool.streams, pool.firstTokens) >= Math.max(1, this.config.minStreams);
    this.pools.set(cluster, { lastStartMs: latest.windowStartMs, before, after: enough ? [] : windows });
    const verdict: StreamVerdict = enough
      ? { windowStartMs: latest.windowStartMs, evidence: true, ttftBreach: this.breach(pool, "ttft"), tpotBreach: this.breach(pool, "tpot"), pool, windows: windows.length }
      : { windowStartMs: latest.windowStartMs, evidence: false, ttftBreach: false, tpotBreach: false, windows: windows.length };
    this.record(cluster, verdict);
    return verdict;
  }

  private record(cluster: string, verdict: StreamVerdict): void {
    let ring = this.verdicts.get(cluster);
    if (ring === undefined) this.verdicts.set(cluster, (ring = []));
    if (ring.length > 0 && ring.at(-1)!.windowStartMs >= verdict.windowStartMs) {
      const i = ring.findIndex((v) => v.windowStartMs === verdict.windowStartMs);
      if (i >= 0) ring[i] = verdict;
      return;
    }
    ring.push(verdict);
    if (ring.length > Math.max(1, this.config.m)) ring.shift();
  }

  /** p99 over the objective, with significantly more than 1% of the streams over it. */
  private breach(pool: StreamStats, which: "ttft" | "tpot"): boolean {
    const objective = which === "ttft" ? this.slo.ttftMs : this.slo.tpotMs;
    if (objective === undefined) return false;
    const p99 = which === "ttft" ? pool.ttftP99Ms : pool.tpotP99Ms;
    const slow = which === "ttft" ? pool.ttftSlow : pool.tpotSlow;
    const samples = countOf(which === "ttft" ? pool.ttft.counts : pool.tpot.counts);
    return p99 > objective && significantlyAbove(slow, samples, 0.01, this.config.significanceZ);
  }

  private result(v: StreamVerdict): ScoreResult {
    if (!v.evidence || v.pool === undefined) return { score: 0, hard: false, reasons: [] };
    const pool = v.pool;
    const over = v.windows > 1 ? ` over ${v.windows} windows (${pool.streams} streams)` : "";
    const reasons: string[] = [];
    if (v.ttftBreach) reasons.push(`ttft p99 ${round(pool.ttftP99Ms)}ms > slo ${round(this.slo.ttftMs!)}ms${over}`);
    if (v.tpotBreach) reasons.push(`tpot p99 ${round(pool.tpotP99Ms)}ms > slo ${round(this.slo.tpotMs!)}ms${over}`);
    if (reasons.length > 0) return { score: 1, hard: true, reasons };
    // Below the objectives: a graded score, never reaching an alarm on its own (as hard-rules.ts).
    const closeness = Math.max(ratio(pool.ttftP99Ms, this.slo.ttftMs), ratio(pool.tpotP99Ms, this.slo.tpotMs));
    return { score: Math.min(0.45, closeness * 0.45), hard: false, reasons: [] };
  }
}

/** The stream objectives of an SLO (the fields present), for the aggregator and this scorer. */
export function streamObjectives(slo: StreamSlo): StreamSlo {
  return { ...(slo.ttftMs !== undefined ? { ttftMs: slo.ttftMs } : {}), ...(slo.tpotMs !== undefined ? { tpotMs: slo.tpotMs } : {}) };
}

/** Whether an SLO has a stream objective to judge. */
export function hasStreamObjective(slo: StreamSlo): boolean {
  return slo.ttftMs !== undefined || slo.tpotMs !== undefined;
}

function ratio(valueMs: number, objectiveMs: number | undefined): number {
  return objectiveMs === undefined || !Number.isFinite(valueMs) ? 0 : Math.max(0, valueMs / objectiveMs);
}

function countOf(counts: readonly number[]): number {
  let n = 0;
  for (const c of counts) n += c;
  return n;
}

function round(ms: number): number {
  return ms >= 10 ? Math.round(ms) : Math.round(ms * 10) / 10;
}
