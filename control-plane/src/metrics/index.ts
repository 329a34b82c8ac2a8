export { BREAKER_STATES, ControlPlaneMetrics, reasonLabel, type MetricsSource } from "./control-plane-metrics.js";
export { alertMetricsHooks, bindMetrics, timedScorer, type EventSource } from "./bind.js";
