// Prometheus gauges of each cluster's streamed responses in its last merged window (TTFT, TPOT,
// max gap, streams, cuts, tokens per second; core/streams/stream-window.ts), read from the
// control plane at scrape time. A cluster whose last window had no stream has no series.
import { Gauge } from "prom-client";
import type { Registry } from "prom-client";
import type { StreamStats } from "../core/streams/stream-window.js";
import type { ClusterStatus } from "../core/types.js";

/** The quantiles exported, as the `percentile` label (not `quantile`: these are gauges). */
const TIMES = [
  ["autoglm_stream_ttft_seconds", "Time to first token of the cluster's streamed responses in the last merged window (request headers to the first non-empty body chunk), seconds.", [["p50", "ttftP50Ms"], ["p99", "ttftP99Ms"]]],
  ["autoglm_stream_tpot_seconds", "Time per output token of the cluster's streamed responses in the last merged window ((last chunk - first chunk) / (tokens - 1), one sample per stream), seconds.", [["p50", "tpotP50Ms"], ["p99", "tpotP99Ms"]]],
  ["autoglm_stream_max_gap_seconds", "Largest gap between two body chunks of a stream, over the cluster's streams in the last merged window, seconds.", [["p99", "maxGapP99Ms"]]],
] as const;

const COUNTS: readonly (readonly [string, string, (s: StreamStats) => number])[] = [
  ["autoglm_stream_window_streams", "Streamed responses of the cluster that ended in the last merged window.", (s) => s.streams],
  ["autoglm_stream_window_cut", "Of those: cut (reset or timed out after headers, an SSE error event, or no [DONE]).", (s) => s.cut],
  ["autoglm_stream_window_failed_in_stream", "Of the cut streams: failed inside a 200 (counted in the cluster's error ratio, once).", (s) => s.failedInStream],
  ["autoglm_stream_window_tokens_per_second", "Output tokens per second of the cluster's streams in the last merged window (usage.completion_tokens, else body chunks).", (s) => s.tokensPerSecond],
];

/** Registers the stream gauges on `registers`, reading `statuses` at scrape time. */
export function registerStreamMetrics(registers: Registry[], statuses: () => ClusterStatus[]): void {
  const lastStreams = (s: ClusterStatus) => s.recent.at(-1)?.streams;
  for (const [name, help, percentiles] of TIMES) {
    new Gauge({
      name,
      help,
      labelNames: ["cluster", "percentile"],
      registers,
      collect() {
        this.reset();
        for (const s of statuses()) {
          const w = lastStreams(s);
          if (w === undefined) continue;
          for (const [percentile, key] of percentiles) if (Number.isFinite(w[key])) this.set({ cluster: s.cluster, percentile }, w[key] / 1000);
        }
      },
    });
  }
  for (const [name, help, value] of COUNTS) {
    new Gauge({
      name,
      help,
      labelNames: ["cluster"],
      registers,
      collect() {
        this.reset();
        for (const s of statuses()) {
          const w = lastStreams(s);
          if (w !== undefined) this.set({ cluster: s.cluster }, value(w));
        }
      },
    });
  }
  new Gauge({
    name: "autoglm_stream_window_over_objective",
    help: "Streams of the cluster in the last merged window over a stream objective (objective: ttft for slo.ttft_ms, tpot for slo.tpot_ms); 0 without the objective.",
    labelNames: ["cluster", "objective"],
    registers,
    collect() {
      this.reset();
      for (const s of statuses()) {
        const w = lastStreams(s);
        if (w === undefined) continue;
        this.set({ cluster: s.cluster, objective: "ttft" }, w.ttftSlow);
        this.set({ cluster: s.cluster, objective: "tpot" }, w.tpotSlow);
      }
    },
  });
}
