// The `breaker` section: the decision core's breaker parameters (core/config.ts BreakerConfig).
import type { BreakerConfig } from "../../core/config.js";
import { coreParamsSchema } from "./core-params.js";

const DESCRIPTIONS: Readonly<Record<keyof BreakerConfig, string>> = {
  openBaseMs: "First open period, milliseconds; each re-opening multiplies it by open_backoff, up to open_max_ms. While the closed clusters strain under an open cluster's share, its wait is at most open_base_ms × open_backoff, and ends once waiting has cost them as many bad requests as a failed first probe would (at least one window).",
  openBackoff: "Factor of the open period per re-opening.",
  openMaxMs: "Longest open period, milliseconds; at least open_base_ms.",
  openingsResetMs: "Openings are forgotten after this long closed, milliseconds.",
  healthyProbeWindows: "Healthy half-open windows needed to close.",
  minProbeRequests: "Probe windows need this many requests to count as healthy (fewer: neither).",
  severeErrorRate: "Failure rate of the newest window at which a breaker opens at once (if the other clusters serve its share better); also the share of its requests failed or slower than the latency objective that does the same.",
};

export const BREAKER_SCHEMA = coreParamsSchema("breaker", "Breaker state machine parameters of the decision core (control-plane/src/core/config.ts).", DESCRIPTIONS);
