// A follower's sidecars' telemetry, merged per window and cluster before it goes to the leader
// (docs/design/replicas.md): counters add, latency histograms merge bucket by bucket (the
// histograms are mergeable: lib/histogram.ts), so the leader gets one report per follower and
// window whatever the number of sidecars, and merges it with its own as it would a sidecar's.
// Who sent the requests (the sidecars' sketches) merges too, keeping the bounds (partial-sources.ts).
// Pure: time comes in as an argument (epoch ms, the control plane's clock).
import { mergeCounts } from "../../../lib/histogram.js";
import type { WorkerStreamWindow } from "../core/streams/stream-window.js";
import type { LatencyCounts, WorkerClusterWindow, WorkerReport } from "../core/types.js";
import type { WorkerSources } from "../core/sources/types.js";
import { mergeWorkerSources } from "./partial-sources.js";
import { failedRequests } from "../core/aggregator.js";

/** A merged window, ready to forward (the forwarder numbers it). */
export type MergedWindow = Omit<WorkerReport, "sequence">;

interface OpenWindow {
  startMs: number;
  lengthMs: number;
  reporters: Set<string>;
  clusters: Map<string, WorkerClusterWindow>;
  /** The sources each reporter's sketch counted (reports without sources add none). */
  sources: WorkerSources[];
}

export class PartialWindows {
  private readonly open = new Map<string, OpenWindow>();
  /** Reporters whose streams are open (a window waits for each of them, up to the flush delay). */
  private readonly live = new Set<string>();
  /** Start of the newest window handed out: reports for it or older come too late. */
  private flushedThroughMs = -Infinity;
  /** Reports that came after their window was forwarded (dropped). */
  late = 0;

  /**
   * @param flushDelayMs how long after its end a window waits for missing reporters, ms
   * @param maxSources most sources one merged window lists (the leader refuses a report with
   *   more: grpc/convert.ts MAX_REPORT_SOURCES)
   */
  constructor(private readonly flushDelayMs: number, private readonly maxSources = 256) {}

  /** Adds one worker's report (`reporter`: its stream). */
  add(reporter: string, report: WorkerReport): void {
    this.live.add(reporter);
    const key = `${report.windowStartMs}/${report.windowLengthMs}`;
    let window = this.open.get(key);
    if (window === undefined && report.windowStartMs <= this.flushedThroughMs) {
      this.late++;
      return;
    }
    if (window === undefined) {
      window = { startMs: report.windowStartMs, lengthMs: report.windowLengthMs, reporters: new Set(), clusters: new Map(), sources: [] };
      this.open.set(key, window);
    }
    if (window.reporters.has(reporter)) return; // a duplicate: the first report counts
    window.reporters.add(reporter);
    if (report.sources !== undefined) window.sources.push(report.sources);
    for (const c of report.clusters) {
      const had = window.clusters.get(c.cluster);
      window.clusters.set(c.cluster, had === undefined ? { ...c, totalLatency: { ...c.totalLatency, counts: [...c.totalLatency.counts] } } : mergeWindow(had, c));
    }
  }

  /** A reporter's stream ended: windows no longer wait for it. */
  forget(reporter: string): void {
    this.live.delete(reporter);
  }

  /** Windows every live reporter has reported, or whose flush delay has passed by nowMs; merged,
   *  oldest first, and forgotten here. */
  take(nowMs: number): MergedWindow[] {
    const ready = [...this.open.entries()]
      .filter(([, w]) => nowMs >= w.startMs + w.lengthMs + this.flushDelayMs || [...this.live].every((r) => w.reporters.has(r)))
      .sort(([, a], [, b]) => a.startMs - b.startMs);
    return ready.map(([key, w]) => {
      this.open.delete(key);
      this.flushedThroughMs = Math.max(this.flushedThroughMs, w.startMs);
      const merged: MergedWindow = { windowStartMs: w.startMs, windowLengthMs: w.lengthMs, enforcedVersion: 0, clusters: [...w.clusters.values()] };
      return w.sources.length === 0 ? merged : { ...merged, sources: mergeWorkerSources(w.sources, this.maxSources) };
    });
  }
}

function mergeWindow(a: WorkerClusterWindow, b: WorkerClusterWindow): WorkerClusterWindow {
  return {
    cluster: a.cluster,
    requests: a.requests + b.requests,
    errors5xx: a.errors5xx + b.errors5xx,
    localRejects: a.localRejects + b.localRejects,
    timeouts: a.timeouts + b.timeouts,
    resets: a.resets + b.resets,
    grpcErrors: a.grpcErrors + b.grpcErrors,
    ...(a.failed !== undefined || b.failed !== undefined ? { failed: failedRequests(a) + failedRequests(b) } : {}),
    totalLatency: mergeLatency(a.totalLatency, b.totalLatency),
    ...(a.streams !== undefined || b.streams !== undefined ? { streams: mergeStreams(a.streams, b.streams) } : {}),
  };
}

function mergeLatency(a: LatencyCounts, b: LatencyCounts): LatencyCounts {
  return { ...mergeCounts(a, b), sumUs: a.sumUs + b.sumUs, maxUs: Math.max(a.maxUs, b.maxUs) };
}

/** Streamed responses merge as the sidecars' windows do: counters and histograms add. */
function mergeStreams(a: WorkerStreamWindow | undefined, b: WorkerStreamWindow | undefined): WorkerStreamWindow {
  if (a === undefined || b === undefined) return (a ?? b)!;
  return {
    streams: a.streams + b.streams,
    cut: a.cut + b.cut,
    failedInStream: a.failedInStream + b.failedInStream,
    tokensOut: a.tokensOut + b.tokensOut,
    tokensEstimated: a.tokensEstimated + b.tokensEstimated,
    ttft: mergeLatency(a.ttft, b.ttft),
    tpot: mergeLatency(a.tpot, b.tpot),
    maxGap: mergeLatency(a.maxGap, b.maxGap),
  };
}
