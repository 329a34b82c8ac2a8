// proto StreamWindow <-> the core's WorkerStreamWindow (core/streams/stream-window.ts): the
// streamed responses of one cluster in one window. Whether the counters add up is judged by the
// core (report-admission.ts); here only the shape: histograms within the wire's 240 buckets and
// token counts that fit a JavaScript number.
import { create } from "@bufbuild/protobuf";
import { LatencyHistogramSchema, StreamWindowSchema, type LatencyHistogram, type StreamWindow } from "../../../proto/gen/autoglm/v1/traffic_guard_pb.js";
import type { WorkerStreamWindow } from "../core/streams/stream-window.js";
import type { LatencyCounts } from "../core/types.js";

const BUCKETS = 240;
const MAX_TOKENS = BigInt(Number.MAX_SAFE_INTEGER);

/** The core's view of a StreamWindow, or an error naming the field (`at`: the window's path). */
export function streamsFromProto(s: StreamWindow, at: string): { ok: true; value: WorkerStreamWindow } | { ok: false; error: string } {
  if (s.tokensOut > MAX_TOKENS) return { ok: false, error: `${at}.streams.tokens_out: ${s.tokensOut} is out of range` };
  if (s.tokensEstimated > MAX_TOKENS) return { ok: false, error: `${at}.streams.tokens_estimated: ${s.tokensEstimated} is out of range` };
  const histograms: Partial<Record<"ttft" | "tpot" | "maxGap", LatencyCounts>> = {};
  for (const [key, field] of [["ttft", "ttft"], ["tpot", "tpot"], ["maxGap", "max_gap"]] as const) {
    const h = s[key];
    const firstBucket = h?.firstBucket ?? 0;
    const counts = h?.counts ?? [];
    if (counts.length > 0 && firstBucket + counts.length > BUCKETS) {
      return { ok: false, error: `${at}.streams.${field}: buckets ${firstBucket}..${firstBucket + counts.length - 1} exceed ${BUCKETS - 1}` };
    }
    histograms[key] = { firstBucket, counts, sumUs: Number(h?.sumUs ?? 0n), maxUs: Number(h?.maxUs ?? 0n) };
  }
  return {
    ok: true,
    value: {
      streams: s.streams,
      cut: s.cut,
      failedInStream: s.failedInStream,
      tokensOut: Number(s.tokensOut),
      tokensEstimated: Number(s.tokensEstimated),
      ttft: histograms.ttft!,
      tpot: histograms.tpot!,
      maxGap: histograms.maxGap!,
    },
  };
}

/** The StreamWindow of the core's view (a replica forwarding its sidecars' merged windows, tests). */
export function streamsToProto(w: WorkerStreamWindow): StreamWindow {
  return create(StreamWindowSchema, {
    streams: w.streams,
    cut: w.cut,
    failedInStream: w.failedInStream,
    tokensOut: BigInt(w.tokensOut),
    tokensEstimated: BigInt(w.tokensEstimated),
    ttft: histogramToProto(w.ttft),
    tpot: histogramToProto(w.tpot),
    maxGap: histogramToProto(w.maxGap),
  });
}

function histogramToProto(h: LatencyCounts): LatencyHistogram {
  return create(LatencyHistogramSchema, { firstBucket: h.firstBucket, counts: [...h.counts], sumUs: BigInt(Math.round(h.sumUs)), maxUs: BigInt(Math.round(h.maxUs)) });
}
