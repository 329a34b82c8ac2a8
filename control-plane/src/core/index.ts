// The decision core's public surface (re-exports only).
export * from "./types.js";
export * from "./config.js";
export * from "./errors.js";
export { WindowAggregator } from "./aggregator.js";
export { AlarmFilter, type WindowVerdict, type TripDecision } from "./alarm-filter.js";
export { stepBreaker, openBreaker, openWaitMs, type BreakerInput, type BreakerStep } from "./breaker.js";
export { CapacityEstimator } from "./capacity.js";
export { DecisionEngine, type RoundResult } from "./decision-engine.js";
export { EwmaStat } from "./ewma.js";
export { bucketOf, bucketBounds, quantileFromCounts, countAbove, BUCKET_COUNT } from "./latency-buckets.js";
export { HardRuleScorer } from "./scorers/hard-rules.js";
export { DynamicBaselineScorer } from "./scorers/dynamic-baseline.js";
export { TrendScorer, fitLine } from "./scorers/trend.js";
export { sharesToWeights } from "./weights.js";
export { TypedEmitter, type Listener } from "./typed-emitter.js";
export { latencyCounts, clusterWindow, type WindowSample } from "./report-builder.js";
export { GoneSidecars, DEFAULT_GONE_SIDECAR_LIMITS, type GoneSidecar, type GoneSidecarLimits } from "./gone-sidecars.js";
