// The admin API's view of a window's streamed responses (core/streams/stream-window.ts
// StreamStats): snake_case, milliseconds, null for a quantile without samples. Its JSON schema
// sits beside it so the two cannot drift.
import type { StreamStats } from "../core/streams/stream-window.js";

export interface StreamsView {
  /** Streamed responses that ended in the window, cleanly or cut. */
  streams: number;
  cut: number;
  /** Of cut: failed inside a 200 (counted in error_rate). */
  failed_in_stream: number;
  tokens_out: number;
  /** Of tokens_out: counted as body chunks (no usage in the stream). */
  tokens_estimated: number;
  tokens_per_second: number;
  ttft_p50_ms: number | null;
  ttft_p99_ms: number | null;
  tpot_p50_ms: number | null;
  tpot_p99_ms: number | null;
  max_gap_p99_ms: number | null;
  /** Streams over slo.ttft_ms and slo.tpot_ms (0 without the objective). */
  ttft_over_slo: number;
  tpot_over_slo: number;
}

/** A quantile as JSON: null without samples (NaN). */
function finiteOrNull(value: number): number | null {
  return Number.isFinite(value) ? value : null;
}

export function streamsView(s: StreamStats | undefined): StreamsView | null {
  if (s === undefined) return null;
  return {
    streams: s.streams,
    cut: s.cut,
    failed_in_stream: s.failedInStream,
    tokens_out: s.tokensOut,
    tokens_estimated: s.tokensEstimated,
    tokens_per_second: s.tokensPerSecond,
    ttft_p50_ms: finiteOrNull(s.ttftP50Ms),
    ttft_p99_ms: finiteOrNull(s.ttftP99Ms),
    tpot_p50_ms: finiteOrNull(s.tpotP50Ms),
    tpot_p99_ms: finiteOrNull(s.tpotP99Ms),
    max_gap_p99_ms: finiteOrNull(s.maxGapP99Ms),
    ttft_over_slo: s.ttftSlow,
    tpot_over_slo: s.tpotSlow,
  };
}

const int = { type: "integer" } as const;
const num = { type: "number" } as const;
const nullableNumber = { type: ["number", "null"] } as const;

/** The schema of a window's `streams` (null: no stream ended in the window). */
export const streamsSchema = {
  type: ["object", "null"],
  description: "Streamed responses (text/event-stream) that ended in the window, merged over every sidecar; null when none did.",
  properties: {
    streams: int,
    cut: int,
    failed_in_stream: int,
    tokens_out: int,
    tokens_estimated: int,
    tokens_per_second: num,
    ttft_p50_ms: nullableNumber,
    ttft_p99_ms: nullableNumber,
    tpot_p50_ms: nullableNumber,
    tpot_p99_ms: nullableNumber,
    max_gap_p99_ms: nullableNumber,
    ttft_over_slo: num,
    tpot_over_slo: num,
  },
} as const;
