// Whether one telemetry report may enter the aggregation, judged on the control plane's own clock.
//
// A report is refused (not counted, the reporter told why) when:
//   - its window starts more than maxClockSkewMs after the control plane's clock (clock_ahead):
//     a worker reports a window once it has ended, so an honest window starts in the past;
//   - its window ended more than lateGraceMs + maxClockSkewMs before that clock (clock_behind):
//     too old to be folded into any window (reports between lateGraceMs and that bound are
//     still handed to the aggregator, which drops them as late);
//   - its window length is not an integer in [MIN_WINDOW_MS, MAX_WINDOW_MS] (window_length, the
//     range the filter's window_ms accepts);
//   - a cluster's errors_5xx, timeouts, resets or grpc_errors exceed its requests (counters; the
//     counters overlap, so each is bounded by the requests, not their sum), its shed count
//     exceeds its local rejects, its upstream load holds a number that is not finite, or its
//     streams do not add up (streams above requests, cut above streams, failed_in_stream above
//     cut, tokens_estimated above tokens_out; streams/stream-window.ts streamProblem);
//   - a cluster's total-latency histogram does not hold exactly one value per request
//     (histogram; the filter records one total latency per completed request), or a stream
//     histogram holds more values than streams (histogram).
// Pure: time comes in as nowMs (epoch ms).
import type { WorkerReport } from "./types.js";
import { loadProblem } from "./upstream-load.js";
import { streamProblem } from "./streams/stream-window.js";

export const REFUSAL_REASONS = ["clock_ahead", "clock_behind", "window_length", "counters", "histogram"] as const;
export type RefusalReason = (typeof REFUSAL_REASONS)[number];

export interface ReportRefusal {
  reason: RefusalReason;
  /** Names the field and the problem, e.g. "window_start_ms: 4102444800000 is 2398… ms ahead …". */
  message: string;
  /** Window start minus the control plane's clock, ms (positive: the reporter's clock runs
   *  ahead); 0 when the reason is not the clock. */
  clockOffsetMs: number;
}

export interface AdmissionLimits {
  /** Largest clock difference tolerated between a reporter and the control plane, ms. */
  maxClockSkewMs: number;
  /** A report is folded into a closed window up to this long after the window's end, ms. */
  lateGraceMs: number;
}

/** Window lengths accepted, ms (the filter's window_ms range). */
export const MIN_WINDOW_MS = 10;
export const MAX_WINDOW_MS = 3_600_000;

const COUNTERS = [
  ["errors_5xx", "errors5xx"],
  ["timeouts", "timeouts"],
  ["resets", "resets"],
  ["grpc_errors", "grpcErrors"],
] as const;

/** Undefined when the report may be aggregated, else why not. */
export function admitReport(report: WorkerReport, nowMs: number, limits: AdmissionLimits): ReportRefusal | undefined {
  const length = report.windowLengthMs;
  if (!Number.isInteger(length) || length < MIN_WINDOW_MS || length > MAX_WINDOW_MS) {
    return refuse("window_length", `window_length_ms: ${length} is outside [${MIN_WINDOW_MS}, ${MAX_WINDOW_MS}]`);
  }
  const offsetMs = report.windowStartMs - nowMs;
  if (!Number.isFinite(report.windowStartMs) || offsetMs > limits.maxClockSkewMs) {
    return {
      reason: "clock_ahead",
      message: `window_start_ms: ${report.windowStartMs} is ${offsetMs} ms ahead of the control plane's clock (allowed skew ${limits.maxClockSkewMs} ms); the reporter's clock looks wrong`,
      clockOffsetMs: Number.isFinite(offsetMs) ? offsetMs : 0,
    };
  }
  const endedAgoMs = nowMs - (report.windowStartMs + length);
  if (endedAgoMs > limits.lateGraceMs + limits.maxClockSkewMs) {
    return {
      reason: "clock_behind",
      message: `window_start_ms: ${report.windowStartMs} ended ${endedAgoMs} ms before the control plane's clock (late grace ${limits.lateGraceMs} ms + allowed skew ${limits.maxClockSkewMs} ms); the reporter's clock looks wrong or the report was held up`,
      clockOffsetMs: offsetMs,
    };
  }
  for (let i = 0; i < report.clusters.length; i++) {
    const w = report.clusters[i]!;
    const at = `clusters[${i}] (${w.cluster})`;
    for (const [field, key] of COUNTERS) {
      if (w[key] > w.requests) return refuse("counters", `${at}.${field}: ${w[key]} exceeds requests (${w.requests})`);
    }
    if (w.failed !== undefined) {
      if (w.failed > w.requests) return refuse("counters", `${at}.failed: ${w.failed} exceeds requests (${w.requests})`);
      // Every request of those counts failed: the failed ones, each once, are at least each count.
      for (const [field, key] of COUNTERS) {
        if (w[key] > w.failed) return refuse("counters", `${at}.failed: ${w.failed} is fewer than ${field} (${w[key]}), each of which failed`);
      }
    }
    if ((w.shed ?? 0) > w.localRejects) return refuse("counters", `${at}.shed: ${w.shed} exceeds local_rejects (${w.localRejects})`);
    const loadProblemText = w.upstreamLoad === undefined ? undefined : loadProblem(w.upstreamLoad);
    if (loadProblemText !== undefined) return refuse("counters", `${at}.${loadProblemText}`);
    const badStreams = w.streams === undefined ? undefined : streamProblem(w.streams, w.requests);
    if (badStreams !== undefined) return refuse(badStreams.reason, `${at}.${badStreams.message}`);
    let values = 0;
    for (const c of w.totalLatency.counts) values += c;
    if (values !== w.requests) {
      return refuse("histogram", `${at}.total_latency: holds ${values} values for ${w.requests} requests (expected one per request)`);
    }
  }
  return undefined;
}

function refuse(reason: RefusalReason, message: string): ReportRefusal {
  return { reason, message, clockOffsetMs: 0 };
}
