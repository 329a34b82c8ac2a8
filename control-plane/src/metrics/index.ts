export { BREAKER_STATES, ControlPlaneMetrics, reasonLabel, type MetricsSource } from "./control-plane-metrics.js";
export { bindMetrics, timedScorer, type EventSource } from "./bind.js";
