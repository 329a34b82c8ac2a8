// Error budgets (types only): an SLO over a period per cluster and mesh-wide, the budget left,
// and multi-window, multi-burn-rate alerts as the Google SRE workbook describes them (chapter 5,
// "Alerting on SLOs", https://sre.google/workbook/alerting-on-slos/, section "Multiwindow,
// Multi-Burn-Rate Alerts"): an alert fires while the burn rate exceeds its threshold over both a
// long window and a short one (the short one makes it stop soon after the burning stops).

/** The mesh-wide scope's name (a cluster cannot be called so: cluster names are checked against
 *  it in the configuration). */
export const MESH_SCOPE = "mesh";

/** One multi-window burn-rate alert (e.g. fast burn: 14.4 over 1 h and 5 min). */
export interface BurnAlertSpec {
  /** "fast_burn", "slow_burn": also the alert's label. */
  name: string;
  /** Burn rate threshold: the error rate over the window divided by the error rate the SLO
   *  allows (1 - objective). 1 spends the budget exactly over the period. */
  burnRate: number;
  /** Long and short windows, ms; shortWindowMs < longWindowMs. */
  longWindowMs: number;
  shortWindowMs: number;
  severity: "critical" | "warning";
}

export interface ErrorBudgetSettings {
  /** Fraction of good events the SLO promises, in (0, 1): 0.99 is "99 %". */
  objective: number;
  /** Per cluster objectives that differ from `objective`. */
  clusterObjectives: ReadonlyMap<string, number>;
  /** The SLO's period (rolling), ms; a whole number of hours. */
  periodMs: number;
  alerts: readonly BurnAlertSpec[];
  /** Count requests refused locally (breaker open, halt, shed, pool overflow) as bad events. */
  countLocalRejects: boolean;
  /** How often the period's counts are written to the audit log, ms. */
  persistIntervalMs: number;
}

/** Good and total events of one scope in one closed telemetry window. */
export interface ScopeCounts {
  scope: string;
  good: number;
  total: number;
}

/** The period's counts of one scope in one period bucket (what the audit log keeps). */
export interface BudgetBucket {
  scope: string;
  /** Bucket start, epoch ms (a multiple of bucketMs). */
  startMs: number;
  good: number;
  total: number;
}

/** Period buckets kept across restarts (PersistedState.errorBudget). */
export interface PersistedBudget {
  /** Width of a bucket, ms. */
  bucketMs: number;
  /** The SLO period the buckets cover, ms (older buckets are dropped). */
  periodMs: number;
  buckets: BudgetBucket[];
}

/** One burn-rate alert of one scope, as of now. */
export interface BurnStatus {
  name: string;
  threshold: number;
  /** Burn rate over each window (0 without events). */
  longBurnRate: number;
  shortBurnRate: number;
  longWindowMs: number;
  shortWindowMs: number;
  firing: boolean;
  /** When it started firing, epoch ms. */
  sinceMs?: number;
}

export interface BudgetStatus {
  scope: string;
  objective: number;
  periodMs: number;
  /** Events over the period (as far as counted: since the first bucket kept). */
  good: number;
  total: number;
  /** 1 - bad / (allowed bad); 1 with no events; below 0 once overspent. */
  remaining: number;
  /** Burn rate over the whole period counted. */
  periodBurnRate: number;
  alerts: BurnStatus[];
}

/** A burn-rate alert started or stopped firing. */
export interface BurnEvent {
  kind: "fired" | "resolved";
  scope: string;
  alert: string;
  severity: "critical" | "warning";
  threshold: number;
  longBurnRate: number;
  shortBurnRate: number;
  longWindowMs: number;
  shortWindowMs: number;
  remaining: number;
  atMs: number;
}
