// One worker's telemetry window: per configured cluster a ClusterWindow (counters and the two
// latency histograms). At the end of each window the clusters that saw traffic are handed to a
// TelemetryReport and replaced by empty ones, so every request is reported exactly once, by
// the worker that served it.
import { ClusterWindow, StreamWindow, TelemetryReport } from "../wire/messages";
import { ORCA_METRICS, OrcaSample } from "../core/orca";
import { recordLatency } from "../wire/histogram";
import { SseMeter } from "./sse";

export class WindowRecorder {
  /** Start of the current window, Unix epoch milliseconds. */
  startMs: u64;
  private names: string[];
  private windows: StaticArray<ClusterWindow>;
  private active: StaticArray<bool>;

  constructor(names: string[], startMs: u64) {
    this.names = names;
    this.startMs = startMs;
    const n = names.length;
    this.windows = new StaticArray<ClusterWindow>(n);
    this.active = new StaticArray<bool>(n);
    for (let i = 0; i < n; i++) unchecked((this.windows[i] = this.fresh(i)));
  }

  private fresh(i: i32): ClusterWindow {
    const w = new ClusterWindow();
    w.cluster = unchecked(this.names[i]);
    return w;
  }

  /**
   * Records a request that completed upstream. headersUs: time to response headers (u64.MAX
   * when none arrived); totalUs: time to the end of the stream.
   */
  recordCompleted(i: i32, is5xx: bool, timeout: bool, reset: bool, grpcError: bool, headersUs: u64, totalUs: u64): void {
    const w = unchecked(this.windows[i]);
    unchecked((this.active[i] = true));
    w.requests++;
    if (is5xx) w.errors5xx++;
    if (timeout) w.timeouts++;
    if (reset) w.resets++;
    if (grpcError) w.grpcErrors++;
    // The counts above overlap (Envoy's timeouts and resets before headers are local 5xx): each
    // failed request once.
    if (is5xx || timeout || reset || grpcError) w.failed++;
    if (headersUs != u64.MAX_VALUE) recordLatency(w.headersLatency, headersUs);
    recordLatency(w.totalLatency, totalUs);
  }

  /** A streamed response of cluster i ended (what SseMeter.end found); recorded with its request. */
  recordStream(i: i32, s: SseMeter): void {
    const sw = this.streamsOf(i);
    sw.streams++;
    if (s.cut) sw.cut++;
    if (s.failedInStream) sw.failedInStream++;
    sw.tokensOut += s.tokens;
    if (s.estimated) sw.tokensEstimated += s.tokens;
    if (s.tpotUs != u64.MAX_VALUE) recordLatency(sw.tpot, s.tpotUs);
    if (s.maxGapUs != u64.MAX_VALUE) recordLatency(sw.maxGap, s.maxGapUs);
  }

  /** A request was sent to cluster i (routed, at its start). Returns the start of the window
   *  that counted it (Unix ms), for recordEnded. */
  recordSent(i: i32): u64 {
    unchecked(this.windows[i]).sent++;
    unchecked((this.active[i] = true));
    return this.startMs;
  }

  /** A request sent to cluster i in the window that started at sentWindowMs completed upstream
   *  (answered, reset or timed out: one of the window's requests, in its latency histogram): one
   *  of this window's sentEnded when it was sent in this window. */
  recordEnded(i: i32, sentWindowMs: u64): void {
    if (sentWindowMs == this.startMs) unchecked(this.windows[i]).sentEnded++;
  }

  /** A streamed response of cluster i sent its first non-empty chunk ttftUs after its request. */
  recordFirstToken(i: i32, ttftUs: u64): void {
    unchecked((this.active[i] = true));
    recordLatency(this.streamsOf(i).ttft, ttftUs);
  }

  /** Cluster i's StreamWindow of this window, made at its first stream event. */
  private streamsOf(i: i32): StreamWindow {
    const w = unchecked(this.windows[i]);
    let sw = w.streams;
    if (sw === null) w.streams = sw = new StreamWindow();
    return sw;
  }

  /** Of the local rejects: one refused by a shed decision (recorded as a local reject too). */
  recordShed(i: i32): void {
    unchecked(this.windows[i]).shed++;
  }

  /** A response of cluster i carried a readable ORCA report: each metric it holds is a sample. */
  recordLoad(i: i32, sample: OrcaSample): void {
    const load = unchecked(this.windows[i]).upstreamLoad;
    unchecked((this.active[i] = true));
    load.reports++;
    for (let k = 0; k < ORCA_METRICS; k++) {
      const v = unchecked(sample.values[k]);
      if (!isNaN(v)) load.add(k, v);
    }
  }

  /** A response of cluster i carried an ORCA header that could not be read. */
  recordUnreadableLoad(i: i32): void {
    unchecked((this.active[i] = true));
    unchecked(this.windows[i]).upstreamLoad.unparsed++;
  }

  /** One more response body of cluster i under the banned-output scan, by kind: BODY_SCANNED,
   *  BODY_MATCHED (of those, cut for a banned literal) or BODY_COMPRESSED (passed unscanned). */
  countBody(i: i32, kind: i32): void {
    const w = unchecked(this.windows[i]);
    unchecked((this.active[i] = true));
    let b = w.bodyScan;
    if (b === null) w.bodyScan = b = new StaticArray<u32>(3);
    unchecked((b[kind] += 1));
  }

  recordLocalReject(i: i32): void {
    unchecked((this.active[i] = true));
    unchecked(this.windows[i]).localRejects++;
  }

  /**
   * Closes the window: a report of the clusters that saw traffic (possibly none) for the window
   * [startMs, startMs + lengthMs) with lengthMs the nominal window length, and a new window
   * starting at nextStartMs. Windows start on the grid of multiples of the window length, so the
   * reports of every worker (and every sidecar) line up; a late tick only makes a window hold
   * a little more traffic than its nominal length.
   */
  close(nextStartMs: u64, lengthMs: u32, sequence: u64, enforcedVersion: u64): TelemetryReport {
    const report = new TelemetryReport();
    report.windowStartMs = this.startMs;
    report.windowLengthMs = lengthMs;
    report.sequence = sequence;
    report.enforcedVersion = enforcedVersion;
    for (let i = 0; i < this.windows.length; i++) {
      if (!unchecked(this.active[i])) continue;
      report.clusters.push(unchecked(this.windows[i]));
      unchecked((this.windows[i] = this.fresh(i)));
      unchecked((this.active[i] = false));
    }
    this.startMs = nextStartMs > this.startMs ? nextStartMs : this.startMs + <u64>lengthMs;
    return report;
  }
}

/** The start of the window of length lengthMs (on the grid of its multiples) holding atMs. */
export function windowStartOf(atMs: u64, lengthMs: u32): u64 {
  const len = <u64>(lengthMs > 0 ? lengthMs : 1);
  return (atMs / len) * len;
}
