// The `slo` section: the service-level objective every cluster is judged against.
import { objectSchema } from "./common.js";
import { DEFAULTS } from "../defaults.js";

export const SLO_SCHEMA = objectSchema("The service-level objective every cluster is judged against.", {
  latency_ms: { type: "number", exclusiveMinimum: 0, maximum: 3_600_000, default: DEFAULTS.sloLatencyMs, description: "p99 latency objective, milliseconds." },
  success_rate: { type: "number", exclusiveMinimum: 0, maximum: 1, default: DEFAULTS.sloSuccessRate, description: "Fraction of requests that must succeed." },
});
