// The `sources` section: who sends the traffic (core/config.ts SourcesConfig): how long the merged
// sources are kept and when a source's jump is flagged.
import type { SourcesConfig } from "../../core/config.js";
import { coreParamsSchema } from "./core-params.js";

const DESCRIPTIONS: Readonly<Record<keyof SourcesConfig, string>> = {
  keepWindows: "Telemetry windows of merged sources kept; GET /v1/sources looks back at most this far.",
  sigmaK: "A source's share or rate has jumped when it exceeds the mean of its history plus this many standard deviations (σ at least 0.01 of share, 1 request/s).",
  n: "Jumped windows (with at least min_requests of the source) among its last m that flag it; at most m.",
  m: "Windows the n-of-m filter looks at.",
  cooldownMs: "After a source's flag clears, it is not flagged again for this long, milliseconds.",
  minRequests: "A window in which the source sent fewer requests carries no evidence.",
  historyWindows: "Windows of a source's history its mean and σ are taken over (jumped windows left out).",
  minHistory: "Windows of history a source needs before it can be flagged; at most history_windows.",
  maxTracked: "Sources followed for flags at most; the least recently seen are dropped first.",
};

export const SOURCES_SCHEMA = coreParamsSchema("sources", "Who sends the traffic: the merged top sources and their jump flags (control-plane/src/core/sources/; README, \"Who sends the traffic\").", DESCRIPTIONS);
