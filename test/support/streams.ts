// Synthetic streamed responses for the control plane's tests (until the filter reports them):
// a worker's StreamWindow from per-stream TTFT / TPOT / max-gap samples in milliseconds, and the
// merged view the core derives from it.
import { latencyCounts } from "../../control-plane/src/core/report-builder.js";
import { addStreams, emptyStreams, streamStats, type StreamSlo, type StreamStats, type WorkerStreamWindow } from "../../control-plane/src/core/streams/stream-window.js";

export interface StreamSample {
  /** One value per stream, ms. */
  ttftMs?: readonly number[];
  tpotMs?: readonly number[];
  maxGapMs?: readonly number[];
  /** Default: the number of TTFT samples. */
  streams?: number;
  cut?: number;
  failedInStream?: number;
  tokensOut?: number;
  tokensEstimated?: number;
}

export function workerStreams(s: StreamSample): WorkerStreamWindow {
  const ttft = s.ttftMs ?? [];
  return {
    streams: s.streams ?? ttft.length,
    cut: s.cut ?? 0,
    failedInStream: s.failedInStream ?? 0,
    tokensOut: s.tokensOut ?? 0,
    tokensEstimated: s.tokensEstimated ?? 0,
    ttft: latencyCounts(ttft),
    tpot: latencyCounts(s.tpotMs ?? []),
    maxGap: latencyCounts(s.maxGapMs ?? []),
  };
}

/** The merged view of one worker's streams over a window of `lengthMs` (default 1 s). */
export function mergedStreams(s: StreamSample, slo: StreamSlo = {}, lengthMs = 1000): StreamStats {
  const acc = emptyStreams();
  addStreams(acc, workerStreams(s));
  return streamStats(acc, lengthMs, slo)!;
}

/** `n` copies of `ms`. */
export function times(n: number, ms: number): number[] {
  return new Array<number>(n).fill(ms);
}
