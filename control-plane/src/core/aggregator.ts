// Merges the reports of all sidecar workers per upstream cluster and window.
//
// Windows are aligned: a report for [start, start + length) belongs to the window of length
// `length` that holds its midpoint, so workers whose clocks or ticks are a little apart still
// land in the same window. A window closes when every live reporter has reported it, or
// closeDelayMs after its end. A report for a closed window is folded in within lateGraceMs of
// the window's end (the closed window's stats are recomputed) and dropped as late after that.
// A repeated (reporter, sequence) is a duplicate and dropped. A reporter not heard from for
// reporterTtlMs beyond the length of its windows is no longer expected. Pure: time comes in as
// nowMs.
//
// Time is the control plane's: no reporter can move the aggregation clock. A report whose window
// lies outside [now - lateGraceMs - maxClockSkewMs, now + maxClockSkewMs] is refused before it
// touches any state (core/report-admission.ts), and a window closes early (complete) only once
// the control plane's clock is within half a window of its end, so a reporter whose clock runs a
// little ahead cannot close a window that the others have not reached yet and make their reports
// late.
import type { AggregationConfig } from "./config.js";
import { BUCKET_COUNT, countAbove, quantileFromCounts } from "./latency-buckets.js";
import { admitReport, type RefusalReason, type ReportRefusal } from "./report-admission.js";
import type { ClusterWindowStats, ReportOutcome, WorkerClusterWindow, WorkerReport } from "./types.js";
import { addLoad, emptyLoad, loadStats, type UpstreamLoadSamples } from "./upstream-load.js";
import { addStreams, emptyStreams, streamStats, type StreamAccumulator, type StreamSlo } from "./streams/stream-window.js";
import { addBodyScan, emptyBodyScan, type BodyScanCounts } from "./body-scan.js";
import { impliedEndedShare } from "./promptness.js";

/** What became of one report, and why it was refused (outcome "refused" only). */
export interface IngestResult {
  outcome: ReportOutcome;
  refusal?: ReportRefusal;
}

/**
 * Requests of a worker's window that failed, each once: its `failed` count, or from a filter that
 * does not send it the overlapping counts added up (an upper bound: Envoy's timeouts and resets
 * before headers are also local 5xx), at most its requests.
 */
export function failedRequests(w: Pick<WorkerClusterWindow, "requests" | "errors5xx" | "timeouts" | "resets" | "grpcErrors" | "failed">): number {
  return w.failed ?? Math.min(w.requests, w.errors5xx + w.timeouts + w.resets + w.grpcErrors);
}

interface ClusterAccumulator {
  requests: number;
  errors5xx: number;
  localRejects: number;
  timeouts: number;
  resets: number;
  grpcErrors: number;
  /** Requests that failed, each once (WorkerClusterWindow.failed; from a report without it, its
   *  overlapping counts added up, at most its requests). */
  failed: number;
  /** Full-length merged bucket counts. */
  counts: Float64Array;
  histogramTotal: number;
  shed: number;
  /** Requests counted as they started (filters with the capability "sent"). */
  sent: number;
  /** Of sent: completed upstream in the window (filters that count them). */
  sentEnded: number;
  /** Of sent: from reports without sentEnded (older filters): then no promptness. */
  sentUncounted: number;
  load: UpstreamLoadSamples;
  /** Streamed responses (created at the first report that has any). */
  streams?: StreamAccumulator;
  /** The banned-output scan (created at the first report that has one). */
  bodyScan?: BodyScanCounts;
}

interface WindowAccumulator {
  startMs: number;
  lengthMs: number;
  reporters: Set<string>;
  clusters: Map<string, ClusterAccumulator>;
  closed: boolean;
  lateReports: number;
  /** Live reporters expected when the window closed (for missingReporters). */
  expectedAtClose: number;
}

interface ReporterState {
  lastSeenMs: number;
  /** Length of the windows it reports, ms (its newest report's; 0 before its first): it reports
   *  once per window, so a silence that long is its rhythm, not its end. */
  windowLengthMs: number;
  /** Recent sequence numbers (duplicate detection). */
  sequences: Set<number>;
  maxSequence: number;
}

/** How many sequence numbers back duplicates are still recognised. */
const SEQUENCE_MEMORY = 128;

export class WindowAggregator {
  private readonly windows = new Map<number, WindowAccumulator>();
  private readonly reporters = new Map<string, ReporterState>();
  /** Start of the newest closed window (reports for it or older are late). */
  private lastClosedStartMs = -Infinity;
  private readonly updatedClosed = new Set<number>();
  private aliveReporters = 0;
  private lastSweepMs = -Infinity;
  /** Counters since construction. */
  readonly counters = { accepted: 0, duplicates: 0, lateFolded: 0, lateDropped: 0, refused: 0 };
  /** Refused reports by reason, since construction. */
  readonly refusedByReason = new Map<RefusalReason, number>();

  constructor(
    private readonly clusterNames: readonly string[],
    private readonly sloLatencyMs: number,
    private readonly config: AggregationConfig,
    /** The stream objectives: streams over them are counted per window (StreamStats.ttftSlow). */
    private readonly streamSlo: StreamSlo = {},
  ) {}

  /**
   * Hands over one report of one reporter (a sidecar worker's stream). A refused report changes
   * nothing but the counters: its reporter is not (re)counted as live.
   */
  ingest(reporterId: string, report: WorkerReport, nowMs: number): IngestResult {
    const refusal = admitReport(report, nowMs, this.config);
    if (refusal !== undefined) {
      this.counters.refused++;
      this.refusedByReason.set(refusal.reason, (this.refusedByReason.get(refusal.reason) ?? 0) + 1);
      return { outcome: "refused", refusal };
    }
    return { outcome: this.aggregate(reporterId, report, nowMs) };
  }

  private aggregate(reporterId: string, report: WorkerReport, nowMs: number): ReportOutcome {
    const reporter = this.reporters.get(reporterId) ?? this.register(reporterId, nowMs);
    reporter.lastSeenMs = nowMs;
    reporter.windowLengthMs = report.windowLengthMs;
    if (reporter.sequences.has(report.sequence) || report.sequence <= reporter.maxSequence - SEQUENCE_MEMORY) {
      this.counters.duplicates++;
      return "duplicate";
    }
    reporter.sequences.add(report.sequence);
    if (report.sequence > reporter.maxSequence) reporter.maxSequence = report.sequence;
    if (reporter.sequences.size > SEQUENCE_MEMORY) {
      for (const s of reporter.sequences) if (s <= reporter.maxSequence - SEQUENCE_MEMORY) reporter.sequences.delete(s);
    }

    const length = report.windowLengthMs;
    const startMs = Math.floor((report.windowStartMs + length / 2) / length) * length;
    let window = this.windows.get(startMs);
    let outcome: ReportOutcome = "accepted";
    if (window === undefined || window.closed) {
      if (startMs <= this.lastClosedStartMs) {
        if (window === undefined || nowMs > startMs + length + this.config.lateGraceMs) {
          this.counters.lateDropped++;
          return "late_dropped";
        }
        outcome = "late_folded";
      }
    }
    if (window === undefined) {
      window = { startMs, lengthMs: length, reporters: new Set(), clusters: new Map(), closed: false, lateReports: 0, expectedAtClose: 0 };
      this.windows.set(startMs, window);
    }
    window.reporters.add(reporterId);
    for (const w of report.clusters) {
      let acc = window.clusters.get(w.cluster);
      if (acc === undefined) {
        acc = { requests: 0, errors5xx: 0, localRejects: 0, timeouts: 0, resets: 0, grpcErrors: 0, failed: 0, counts: new Float64Array(BUCKET_COUNT), histogramTotal: 0, shed: 0, sent: 0, sentEnded: 0, sentUncounted: 0, load: emptyLoad() };
        window.clusters.set(w.cluster, acc);
      }
      acc.requests += w.requests;
      acc.errors5xx += w.errors5xx;
      acc.localRejects += w.localRejects;
      acc.timeouts += w.timeouts;
      acc.resets += w.resets;
      acc.grpcErrors += w.grpcErrors;
      acc.failed += failedRequests(w);
      acc.shed += w.shed ?? 0;
      acc.sent += w.sent ?? 0;
      if (w.sentEnded !== undefined) acc.sentEnded += w.sentEnded;
      else acc.sentUncounted += w.sent ?? 0;
      if (w.upstreamLoad !== undefined) addLoad(acc.load, w.upstreamLoad);
      if (w.streams !== undefined) addStreams((acc.streams ??= emptyStreams()), w.streams);
      if (w.bodyScan !== undefined) addBodyScan((acc.bodyScan ??= emptyBodyScan()), w.bodyScan);
      const h = w.totalLatency;
      for (let i = 0; i < h.counts.length; i++) {
        const b = h.firstBucket + i;
        if (b >= BUCKET_COUNT) break;
        const c = h.counts[i]!;
        acc.counts[b]! += c;
        acc.histogramTotal += c;
      }
    }
    if (outcome === "late_folded") {
      window.lateReports++;
      this.updatedClosed.add(startMs);
      this.counters.lateFolded++;
    } else {
      this.counters.accepted++;
    }
    return outcome;
  }

  /** True when some open window has a report from every live reporter (it may close now). */
  hasCompleteWindow(nowMs: number): boolean {
    this.sweepReporters(nowMs);
    for (const w of this.windows.values()) if (!w.closed && this.complete(w, nowMs)) return true;
    return false;
  }

  /**
   * Closes every window that is due (complete, or closeDelayMs past its end, or older than one
   * that is), oldest first, and returns their merged stats: one entry per window with one stats
   * object per known cluster (zeros for a cluster without traffic).
   */
  close(nowMs: number): ClusterWindowStats[][] {
    this.sweepReporters(nowMs);
    const open = [...this.windows.values()].filter((w) => !w.closed).sort((a, b) => a.startMs - b.startMs);
    let lastDue = -1;
    open.forEach((w, i) => {
      if (this.complete(w, nowMs) || nowMs >= w.startMs + w.lengthMs + this.config.closeDelayMs) lastDue = i;
    });
    const closed: ClusterWindowStats[][] = [];
    for (let i = 0; i <= lastDue; i++) {
      const w = open[i]!;
      w.closed = true;
      w.expectedAtClose = Math.max(this.aliveReporters, w.reporters.size);
      if (w.startMs > this.lastClosedStartMs) this.lastClosedStartMs = w.startMs;
      closed.push(this.statsOf(w));
    }
    // Forget closed windows past their grace period.
    for (const [start, w] of this.windows) {
      if (w.closed && nowMs > start + w.lengthMs + this.config.lateGraceMs) this.windows.delete(start);
    }
    return closed;
  }

  /** Closed windows changed by late reports since the last call (to replace in the history). */
  takeLateUpdates(): ClusterWindowStats[][] {
    const out: ClusterWindowStats[][] = [];
    for (const start of [...this.updatedClosed].sort((a, b) => a - b)) {
      const w = this.windows.get(start);
      if (w !== undefined) out.push(this.statsOf(w));
    }
    this.updatedClosed.clear();
    return out;
  }

  /** Live reporters (heard from within reporterTtlMs plus their window length at the last sweep). */
  get liveReporters(): number {
    return this.aliveReporters;
  }

  /**
   * Expects a reporter from now (its stream said hello) before its first report: a window then
   * waits for it (up to closeDelayMs past its end) instead of closing complete with the reporters
   * heard so far. Without this the first window after a start, or after this control plane came
   * up, closed as soon as one sidecar reported it, and held a fraction of the load. A reporter
   * that never reports is no longer expected after reporterTtlMs, as any other.
   */
  expect(reporterId: string, nowMs: number): void {
    if (!this.reporters.has(reporterId)) this.register(reporterId, nowMs);
  }

  /** A reporter new to this aggregation, live from nowMs. */
  private register(reporterId: string, nowMs: number): ReporterState {
    const reporter: ReporterState = { lastSeenMs: nowMs, windowLengthMs: 0, sequences: new Set(), maxSequence: 0 };
    this.reporters.set(reporterId, reporter);
    this.aliveReporters++;
    return reporter;
  }

  /** Forgets a reporter at once (its stream closed). */
  forget(reporterId: string): void {
    if (this.reporters.delete(reporterId)) this.aliveReporters--;
  }

  /**
   * Every live reporter has reported the window and the control plane's clock is within half a
   * window of its end (so reporters' clocks a little ahead still close it at once).
   */
  private complete(w: WindowAccumulator, nowMs: number): boolean {
    return this.aliveReporters > 0 && w.reporters.size >= this.aliveReporters && nowMs >= w.startMs + w.lengthMs / 2;
  }

  private sweepReporters(nowMs: number): void {
    // At most every 100 ms: hasCompleteWindow runs on every report.
    if (nowMs - this.lastSweepMs < 100 && nowMs >= this.lastSweepMs) return;
    this.lastSweepMs = nowMs;
    for (const [id, r] of this.reporters) {
      // Silent for one of its windows and the TTL on top: a reporter of windows longer than the
      // TTL is otherwise given up between every two of its reports, and each window closes as
      // complete with the reporters that came first (the rest then fold in late, after the round
      // has decided on a fraction of the load).
      if (nowMs - r.lastSeenMs > this.config.reporterTtlMs + r.windowLengthMs) {
        this.reporters.delete(id);
        this.aliveReporters--;
      }
    }
  }

  private statsOf(w: WindowAccumulator): ClusterWindowStats[] {
    const seconds = w.lengthMs / 1000;
    return this.clusterNames.map((cluster) => {
      const acc = w.clusters.get(cluster);
      const requests = acc?.requests ?? 0;
      // Streams failed inside a 200 (an SSE error event, no `[DONE]`) are failures the other
      // counters do not hold (proto StreamWindow.failed_in_stream): added once here.
      const failures = acc === undefined ? 0 : acc.failed + (acc.streams?.failedInStream ?? 0);
      const q = (p: number) => (acc === undefined ? NaN : quantileFromCounts(acc.counts, acc.histogramTotal, p) / 1000);
      const slow = acc === undefined || acc.histogramTotal === 0 ? 0 : countAbove(acc.counts, this.sloLatencyMs * 1000);
      const load = acc === undefined ? undefined : loadStats(acc.load);
      const streams = acc?.streams === undefined ? undefined : streamStats(acc.streams, w.lengthMs, this.streamSlo);
      return {
        cluster,
        windowStartMs: w.startMs,
        windowLengthMs: w.lengthMs,
        requests,
        errors5xx: acc?.errors5xx ?? 0,
        localRejects: acc?.localRejects ?? 0,
        timeouts: acc?.timeouts ?? 0,
        resets: acc?.resets ?? 0,
        grpcErrors: acc?.grpcErrors ?? 0,
        errorRate: requests > 0 ? Math.min(1, failures / requests) : 0,
        p50Ms: q(0.5),
        p95Ms: q(0.95),
        p99Ms: q(0.99),
        rps: requests / seconds,
        ...(acc !== undefined && acc.sent > 0 ? { sentRps: acc.sent / seconds } : {}),
        ...(acc !== undefined && acc.sent > 0 && acc.sentUncounted === 0 && acc.histogramTotal > 0
          ? { promptness: { sent: acc.sent, endedShare: acc.sentEnded / acc.sent, impliedShare: impliedEndedShare(acc.counts, acc.histogramTotal, w.lengthMs * 1000), ended: acc.histogramTotal } }
          : {}),
        reporters: w.reporters.size,
        missingReporters: Math.max(0, w.expectedAtClose - w.reporters.size),
        lateReports: w.lateReports,
        slowRequests: acc !== undefined && acc.histogramTotal > 0 ? (slow * requests) / acc.histogramTotal : 0,
        ...(acc !== undefined && acc.shed > 0 ? { shed: acc.shed } : {}),
        ...(load !== undefined ? { upstreamLoad: load } : {}),
        ...(streams !== undefined ? { streams } : {}),
        ...(acc?.bodyScan !== undefined ? { bodyScan: { ...acc.bodyScan } } : {}),
      };
    });
  }
}
