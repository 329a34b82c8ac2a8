// The `slo` section: the service-level objective every cluster is judged against.
import { objectSchema } from "./common.js";
import { DEFAULTS } from "../defaults.js";

export const SLO_SCHEMA = objectSchema("The service-level objective every cluster is judged against.", {
  latency_ms: { type: "number", exclusiveMinimum: 0, maximum: 3_600_000, default: DEFAULTS.sloLatencyMs, description: "p99 latency objective, milliseconds." },
  success_rate: { type: "number", exclusiveMinimum: 0, maximum: 1, default: DEFAULTS.sloSuccessRate, description: "Fraction of requests that must succeed." },
  ttft_ms: {
    type: "number",
    exclusiveMinimum: 0,
    maximum: 3_600_000,
    description:
      "Streamed responses (text/event-stream): p99 time to first token objective, milliseconds (request headers to the first non-empty body chunk). Absent: not judged. A breach that rises with load is queueing: the planner moves traffic away.",
  },
  tpot_ms: {
    type: "number",
    exclusiveMinimum: 0,
    maximum: 60_000,
    description:
      "Streamed responses: p99 time per output token objective, milliseconds ((last chunk − first chunk) / (tokens − 1)). Absent: not judged. A breach is a slow decode: the breaker opens (no new streams there; streams in flight finish).",
  },
});
