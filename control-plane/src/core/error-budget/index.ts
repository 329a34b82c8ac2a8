// Error budgets (re-exports only): SLO budgets per cluster and mesh-wide, and multi-window,
// multi-burn-rate alerts (SRE workbook, "Alerting on SLOs").
export * from "./types.js";
export { BucketRing, type BucketCounts } from "./bucket-ring.js";
export { ErrorBudgetTracker, burnRate, budgetRemaining, PERIOD_BUCKET_MS, WINDOW_BUCKET_MS } from "./tracker.js";
export { windowCounts } from "./window-counts.js";
