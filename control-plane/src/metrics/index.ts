export { BREAKER_STATES, ControlPlaneMetrics, reasonLabel, type MetricsSource } from "./control-plane-metrics.js";
export { alertMetricsHooks, bindMetrics, timedScorer, type EventSource } from "./bind.js";
export { ErrorBudgetMetrics, type ErrorBudgetSource } from "./error-budget-metrics.js";
export { ExportMetrics } from "./export-metrics.js";
export { ConfirmationMetrics, type ConfirmationSource } from "./confirmation-metrics.js";
export { HostHealthMetrics } from "./host-health-metrics.js";
