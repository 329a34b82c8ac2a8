// Streamed responses (server-sent events: OpenAI-compatible LLM output from vLLM, TGI, SGLang) of
// a cluster, as the core sees them (proto StreamWindow): what one worker reports for one window,
// how reports merge (counters add, histograms add bucket by bucket, over sidecars and over
// windows), and the merged view the assessment, the admin API and the metrics read.
//
// Time to first token (TTFT) runs from the request's headers to the first non-empty body chunk;
// time per output token (TPOT) is (last chunk - first chunk) / (tokens - 1), one sample per
// stream; the max gap is the largest pause between two chunks of a stream. Histograms are in
// microseconds (the wire's log-linear buckets, latency-buckets.ts); views are in milliseconds.
// Pure data and functions.
import { BUCKET_COUNT, countAbove, quantileFromCounts } from "../latency-buckets.js";
import type { LatencyCounts } from "../types.js";

/** One worker's streams of one cluster over one window (domain twin of proto StreamWindow). */
export interface WorkerStreamWindow {
  /** Streamed responses that ended in the window, cleanly or cut. */
  streams: number;
  /** Of streams: cut (reset or timed out after headers, an SSE error event, no `[DONE]`). */
  cut: number;
  /** Of cut: those not already counted as 5xx, timeouts, resets or gRPC errors. They are
   *  failures of the cluster (aggregator.ts adds them to its failure rate, once). */
  failedInStream: number;
  /** Output tokens (usage.completion_tokens, else body chunks). */
  tokensOut: number;
  /** Of tokensOut: counted as body chunks (the stream carried no usage). */
  tokensEstimated: number;
  /** TTFT of the streams whose first token came in the window (it may hold streams that end
   *  later: more values than `streams`); per stream ended: TPOT and the largest gap between
   *  chunks. Microseconds. */
  ttft: LatencyCounts;
  tpot: LatencyCounts;
  maxGap: LatencyCounts;
}

/** The stream objectives (p99), milliseconds; absent: not judged. */
export interface StreamSlo {
  ttftMs?: number;
  tpotMs?: number;
}

/** A histogram as a merged view keeps it: counts[i] is bucket firstBucket + i, microseconds. */
export interface StreamHistogram {
  firstBucket: number;
  counts: number[];
}

/** The streams of one cluster merged over every sidecar, for one window or a pool of windows. */
export interface StreamStats {
  streams: number;
  /** Streams whose first token arrived in the time covered (the TTFT samples). */
  firstTokens: number;
  cut: number;
  failedInStream: number;
  tokensOut: number;
  tokensEstimated: number;
  /** Output tokens per second over the time covered (lengthMs). */
  tokensPerSecond: number;
  /** Time covered: the window's length, or the pooled windows' lengths added, ms. */
  lengthMs: number;
  /** TTFT p50 and p99, TPOT p50 and p99, max-gap p99, ms (NaN without samples). */
  ttftP50Ms: number;
  ttftP99Ms: number;
  tpotP50Ms: number;
  tpotP99Ms: number;
  maxGapP99Ms: number;
  /** Streams whose TTFT (TPOT) exceeded the objective, from the merged histogram (a bucket
   *  straddling the objective counts in proportion); 0 without an objective. */
  ttftSlow: number;
  tpotSlow: number;
  /** The merged histograms, microseconds (so windows can be pooled again). */
  ttft: StreamHistogram;
  tpot: StreamHistogram;
  maxGap: StreamHistogram;
}

/** Dense counters of streams being merged (full-length bucket arrays). */
export interface StreamAccumulator {
  streams: number;
  cut: number;
  failedInStream: number;
  tokensOut: number;
  tokensEstimated: number;
  ttft: Float64Array;
  tpot: Float64Array;
  maxGap: Float64Array;
}

const HISTOGRAMS = ["ttft", "tpot", "maxGap"] as const;
const COUNTERS = ["streams", "cut", "failedInStream", "tokensOut", "tokensEstimated"] as const;

export function emptyStreams(): StreamAccumulator {
  return { streams: 0, cut: 0, failedInStream: 0, tokensOut: 0, tokensEstimated: 0, ttft: new Float64Array(BUCKET_COUNT), tpot: new Float64Array(BUCKET_COUNT), maxGap: new Float64Array(BUCKET_COUNT) };
}

/** Adds a worker's window (or a merged view's counters and histograms) into `acc`. */
export function addStreams(acc: StreamAccumulator, w: Pick<WorkerStreamWindow, (typeof COUNTERS)[number]> & Record<(typeof HISTOGRAMS)[number], { firstBucket: number; counts: readonly number[] }>): void {
  for (const k of COUNTERS) acc[k] += w[k];
  for (const h of HISTOGRAMS) addCounts(acc[h], w[h]);
}

function addCounts(into: Float64Array, h: { firstBucket: number; counts: readonly number[] }): void {
  for (let i = 0; i < h.counts.length; i++) {
    const b = h.firstBucket + i;
    if (b >= BUCKET_COUNT) break;
    into[b]! += h.counts[i]!;
  }
}

/** The merged view of `acc` over `lengthMs`; undefined when it holds no stream. */
export function streamStats(acc: StreamAccumulator, lengthMs: number, slo: StreamSlo): StreamStats | undefined {
  const firstTokens = total(acc.ttft);
  if (acc.streams === 0 && firstTokens === 0) return undefined;
  const q = (counts: Float64Array, p: number) => quantileFromCounts(counts, total(counts), p) / 1000;
  const slow = (counts: Float64Array, objectiveMs: number | undefined) => (objectiveMs === undefined || total(counts) === 0 ? 0 : countAbove(counts, objectiveMs * 1000));
  return {
    streams: acc.streams,
    firstTokens,
    cut: acc.cut,
    failedInStream: acc.failedInStream,
    tokensOut: acc.tokensOut,
    tokensEstimated: acc.tokensEstimated,
    tokensPerSecond: lengthMs > 0 ? acc.tokensOut / (lengthMs / 1000) : 0,
    lengthMs,
    ttftP50Ms: q(acc.ttft, 0.5),
    ttftP99Ms: q(acc.ttft, 0.99),
    tpotP50Ms: q(acc.tpot, 0.5),
    tpotP99Ms: q(acc.tpot, 0.99),
    maxGapP99Ms: q(acc.maxGap, 0.99),
    ttftSlow: slow(acc.ttft, slo.ttftMs),
    tpotSlow: slow(acc.tpot, slo.tpotMs),
    ttft: trimmed(acc.ttft),
    tpot: trimmed(acc.tpot),
    maxGap: trimmed(acc.maxGap),
  };
}

/** Several merged views pooled into one (windows of one cluster): counters and histograms add,
 *  the time covered adds; quantiles come from the pooled histograms. Undefined when none holds a stream. */
export function poolStreamStats(views: readonly (StreamStats | undefined)[], slo: StreamSlo): StreamStats | undefined {
  const acc = emptyStreams();
  let lengthMs = 0;
  for (const v of views) {
    if (v === undefined) continue;
    addStreams(acc, v);
    lengthMs += v.lengthMs;
  }
  return streamStats(acc, lengthMs, slo);
}

/** What is wrong with a worker's streams: which check of report-admission.ts, and a message. */
export interface StreamProblem {
  reason: "counters" | "histogram";
  message: string;
}

/**
 * The first problem of a worker's streams, naming the field (report-admission.ts refuses the
 * report): streams above the cluster's requests (every stream is one of them), cut above streams,
 * failed_in_stream above cut, tokens_estimated above tokens_out (counters); a TPOT or max-gap
 * histogram holding more values than streams (histogram; TTFT is recorded at the first token,
 * so its histogram may hold streams that end in a later window).
 */
export function streamProblem(w: WorkerStreamWindow, requests: number): StreamProblem | undefined {
  const counters = (message: string): StreamProblem => ({ reason: "counters", message });
  if (w.streams > requests) return counters(`streams.streams: ${w.streams} exceeds requests (${requests})`);
  if (w.cut > w.streams) return counters(`streams.cut: ${w.cut} exceeds streams (${w.streams})`);
  if (w.failedInStream > w.cut) return counters(`streams.failed_in_stream: ${w.failedInStream} exceeds cut (${w.cut})`);
  if (!Number.isSafeInteger(w.tokensOut) || !Number.isSafeInteger(w.tokensEstimated)) return counters(`streams.tokens_out: ${w.tokensOut} (tokens_estimated ${w.tokensEstimated}) is out of range`);
  if (w.tokensEstimated > w.tokensOut) return counters(`streams.tokens_estimated: ${w.tokensEstimated} exceeds tokens_out (${w.tokensOut})`);
  // TTFT is recorded when the first token arrives, in that window: it may hold streams that end later.
  for (const [field, h] of [["tpot", w.tpot], ["max_gap", w.maxGap]] as const) {
    let values = 0;
    for (const c of h.counts) values += c;
    if (values > w.streams) return { reason: "histogram", message: `streams.${field}: holds ${values} values for ${w.streams} streams (at most one per stream)` };
  }
  return undefined;
}

function total(counts: Float64Array): number {
  let n = 0;
  for (const c of counts) n += c;
  return n;
}

function trimmed(dense: Float64Array): StreamHistogram {
  let first = 0;
  while (first < dense.length && dense[first] === 0) first++;
  let end = dense.length;
  while (end > first && dense[end - 1] === 0) end--;
  return first >= end ? { firstBucket: 0, counts: [] } : { firstBucket: first, counts: Array.from(dense.subarray(first, end)) };
}

/**
 * Streamed responses of a window that missed a stream objective (TTFT or TPOT over it), for the
 * planner's count of bad requests: the larger of the two counts, since one stream may miss both
 * (a lower bound of their union; 0 without streams or objectives).
 */
export function slowStreams(s: StreamStats | undefined): number {
  return s === undefined ? 0 : Math.max(s.ttftSlow, s.tpotSlow);
}
