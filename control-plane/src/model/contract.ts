// The contract between the anomaly model file (models/anomaly.onnx, written by `autoglm train`)
// and the control plane that runs it: tensor names and shapes, the feature order, the window
// counts, and the metadata keys the file carries. Training and serving both import it, so they
// cannot drift apart silently; the loader refuses a file that disagrees with it.

/** Name of the model's input tensor: float32 [N, FEATURE_COUNT], one row per cluster. */
export const INPUT_NAME = "features";
/** The model's scorer name among the decision engine's scorers (ClusterStatus.scorers, snapshots). */
export const SCORER_NAME = "onnx-model";
/** Name of the model's output tensor: float32 [N, 1], the risk in [0, 1] per row. */
export const OUTPUT_NAME = "risk";

/**
 * Number of most recent windows the features summarise (K). With 1 s windows: 10 s. Slopes are
 * least-squares fits over these windows; levels are means over the last LEVEL_WINDOWS of them.
 */
export const HISTORY_WINDOWS = 10;
/** Levels (rates, error rate, latency ratios, share) average the newest this many windows. */
export const LEVEL_WINDOWS = 3;
/** Horizon (H) the model predicts over: does the SLO break within the next this many seconds. */
export const HORIZON_S = 30;

/**
 * The features, in input column order. "Ratio" features are relative to the cluster's own
 * baseline (an EWMA over its SLO-healthy windows, see features.ts); slopes are per second.
 */
export const FEATURE_NAMES = [
  "rate_ratio", // requests/s over baseline requests/s
  "error_rate", // failures / requests (5xx, timeouts, resets, gRPC errors), pooled, 0..1
  "p50_ratio", // p50 latency over baseline p50
  "p95_ratio", // p95 latency over baseline p95
  "p99_ratio", // p99 latency over baseline p99
  "rate_ratio_slope", // d(rate_ratio)/dt, 1/s
  "error_rate_slope", // d(error_rate)/dt, 1/s
  "p50_ratio_slope", // d(p50_ratio)/dt, 1/s
  "p95_ratio_slope", // d(p95_ratio)/dt, 1/s
  "p99_ratio_slope", // d(p99_ratio)/dt, 1/s
  "traffic_share", // this cluster's requests/s over all clusters' requests/s, 0..1
  "p99_over_slo", // p99 latency over slo.latencyMs
  "error_over_budget", // error_rate over the error budget (1 - slo.successRate)
] as const;

export type FeatureName = (typeof FEATURE_NAMES)[number];
export const FEATURE_COUNT = FEATURE_NAMES.length;

/** Keys of ModelProto.metadata_props the trainer writes and the loader reads. */
export const METADATA_KEYS = {
  featureNames: "autoglm.feature_names", // comma-separated FEATURE_NAMES
  historyWindows: "autoglm.history_windows", // K
  horizonS: "autoglm.horizon_s", // H
  version: "autoglm.model_version", // e.g. "1-seed-42"
  trainingSeed: "autoglm.training_seed",
  threshold: "autoglm.alarm_threshold", // risk at or above which the model calls an alarm
} as const;

/** ONNX IR version and default-domain opset the model is written with. */
export const IR_VERSION = 8;
export const OPSET_VERSION = 17;

/** One inference of a decision round, kept for fault snapshots: each cluster's input row (in
 *  FEATURE_NAMES order) and the model's raw output (risk, before clamping to [0, 1]). */
export interface ModelInference {
  /** Start of the newest window scored, epoch ms. */
  windowStartMs: number;
  rows: ReadonlyMap<string, { features: readonly number[]; risk: number }>;
}
