// The `detector` section: the decision core's detector parameters (core/config.ts DetectorConfig).
import type { DetectorConfig } from "../../core/config.js";
import { coreParamsSchema } from "./core-params.js";

const DESCRIPTIONS: Readonly<Record<keyof DetectorConfig, string>> = {
  errorRateThreshold: "Hard rule: error rate (fraction) of a window with enough requests above which it is anomalous.",
  minErrors: "The hard rule on errors also needs at least this many failed requests in the window.",
  p99SloFactor: "Hard rule: p99 latency above slo.latency_ms times this factor.",
  significanceZ: "Hard rules need the excess to be significant: count > n·rate + z·sqrt(n·rate·(1 − rate)).",
  minRequests: "Windows with fewer requests carry no evidence either way.",
  minStreams: "The stream objectives (slo.ttft_ms, slo.tpot_ms) are judged on at least this many streamed responses: thinner windows are pooled with the following ones (at most m windows).",
  ewmaAlpha: "EWMA smoothing of the dynamic baselines per window.",
  sigmaK: "Dynamic threshold: a value is anomalous at mean + k·σ.",
  minRelativeRise: "…and only when it is also at least this multiple of the mean (noise floor).",
  warmupWindows: "Windows of data before a dynamic baseline may alert.",
  trendWindows: "Trend: windows in the least-squares slope of p95.",
  trendHorizonMs: "Trend: a p95 projected past the SLO within this horizon counts as a risk, milliseconds.",
  scoreThreshold: "A window is anomalous when the combined score reaches this.",
  n: "N-of-M filter: open after n anomalous windows among the last m (with enough requests); at most m.",
  m: "N-of-M filter: the number of recent windows looked at.",
  hardN: "Hard-rule windows needed among the last m to open; at most m.",
  cooldownMs: "After a breaker closes, soft (non-hard) evidence cannot reopen it for this long, milliseconds.",
  modelWeight: "Multiplier on the model scorer's score before it is combined (1: as is).",
};

export const DETECTOR_SCHEMA = coreParamsSchema("detector", "Detector parameters of the decision core (control-plane/src/core/config.ts).", DESCRIPTIONS);
