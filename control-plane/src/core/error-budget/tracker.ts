// The error budget tracker: fed good/total counts per scope (each cluster, and the mesh) as
// telemetry windows close, it keeps two bounded memories per scope and answers, for a time
// passed in:
//   - the period (e.g. 30 days) in hour buckets: the budget left (kept across restarts through
//     the audit log: persisted() / restore());
//   - the longest alert window (e.g. 6 h) in minute buckets: the burn rate over each alert
//     window, and which multi-window burn-rate alerts fire (SRE workbook, "Alerting on SLOs":
//     both the long and the short window above the threshold); with several replicas kept in
//     etcd too (persistedWindows() / restore()), so a new leader continues a burn in progress.
// No clock of its own, no I/O: times are epoch ms given by the caller.
import { BucketRing } from "./bucket-ring.js";
import { MESH_SCOPE, type BudgetBucket, type BudgetStatus, type BurnEvent, type BurnStatus, type ErrorBudgetSettings, type PersistedBudget, type ScopeCounts } from "./types.js";

/** Width of a period bucket (what the audit log keeps), ms. */
export const PERIOD_BUCKET_MS = 3_600_000;
/** Width of an alert-window bucket, ms. */
export const WINDOW_BUCKET_MS = 60_000;

interface ScopeState {
  objective: number;
  period: BucketRing;
  recent: BucketRing;
  /** Alert name -> since when it fires (epoch ms). */
  firing: Map<string, number>;
}

/** Burn rate of `bad / total` events against the allowed error rate (1 - objective); 0 without events. */
export function burnRate(good: number, total: number, objective: number): number {
  if (total <= 0) return 0;
  return (Math.max(0, total - good) / total) / (1 - objective);
}

/** The budget left: 1 - bad / (allowed bad over `total`); 1 without events; below 0 once overspent. */
export function budgetRemaining(good: number, total: number, objective: number): number {
  if (total <= 0) return 1;
  return 1 - Math.max(0, total - good) / ((1 - objective) * total);
}

export class ErrorBudgetTracker {
  private readonly scopes = new Map<string, ScopeState>();
  private readonly recentMs: number;

  constructor(
    readonly settings: ErrorBudgetSettings,
    clusters: readonly string[],
  ) {
    this.recentMs = Math.max(WINDOW_BUCKET_MS, ...settings.alerts.map((a) => a.longWindowMs));
    for (const scope of [MESH_SCOPE, ...clusters]) {
      this.scopes.set(scope, {
        objective: scope === MESH_SCOPE ? settings.objective : (settings.clusterObjectives.get(scope) ?? settings.objective),
        period: new BucketRing(PERIOD_BUCKET_MS, Math.ceil(settings.periodMs / PERIOD_BUCKET_MS)),
        // One slot more than the window: the current minute is partly filled.
        recent: new BucketRing(WINDOW_BUCKET_MS, Math.ceil(this.recentMs / WINDOW_BUCKET_MS) + 1),
        firing: new Map(),
      });
    }
  }

  /** Scopes tracked: "mesh" first, then the clusters in configuration order. */
  scopeNames(): string[] {
    return [...this.scopes.keys()];
  }

  /** Adds one window's counts at `atMs`; counts of a scope not tracked are ignored. */
  observe(counts: readonly ScopeCounts[], atMs: number): void {
    for (const c of counts) {
      const s = this.scopes.get(c.scope);
      if (s === undefined || !(c.total > 0)) continue;
      const good = Math.min(c.total, Math.max(0, c.good));
      s.period.add(atMs, good, c.total);
      s.recent.add(atMs, good, c.total);
    }
  }

  /** Each scope's budget and burn rates as of `nowMs` (firing as of the last evaluate()). */
  statuses(nowMs: number): BudgetStatus[] {
    return [...this.scopes.entries()].map(([scope, s]) => {
      const { good, total } = s.period.sum(this.settings.periodMs, nowMs);
      return {
        scope,
        objective: s.objective,
        periodMs: this.settings.periodMs,
        good,
        total,
        remaining: budgetRemaining(good, total, s.objective),
        periodBurnRate: burnRate(good, total, s.objective),
        alerts: this.settings.alerts.map((a): BurnStatus => {
          const long = s.recent.sum(a.longWindowMs, nowMs);
          const short = s.recent.sum(a.shortWindowMs, nowMs);
          const since = s.firing.get(a.name);
          return {
            name: a.name,
            threshold: a.burnRate,
            longBurnRate: burnRate(long.good, long.total, s.objective),
            shortBurnRate: burnRate(short.good, short.total, s.objective),
            longWindowMs: a.longWindowMs,
            shortWindowMs: a.shortWindowMs,
            firing: since !== undefined,
            ...(since === undefined ? {} : { sinceMs: since }),
          };
        }),
      };
    });
  }

  /** Steps every alert to `nowMs`: fires one whose long and short burn rates both exceed its
   *  threshold, resolves one where either no longer does. Returns what changed. */
  evaluate(nowMs: number): BurnEvent[] {
    const events: BurnEvent[] = [];
    for (const status of this.statuses(nowMs)) {
      const s = this.scopes.get(status.scope)!;
      for (const b of status.alerts) {
        const spec = this.settings.alerts.find((a) => a.name === b.name)!;
        const burning = b.longBurnRate > b.threshold && b.shortBurnRate > b.threshold;
        if (burning === b.firing) continue;
        if (burning) s.firing.set(b.name, nowMs);
        else s.firing.delete(b.name);
        events.push({
          kind: burning ? "fired" : "resolved",
          scope: status.scope,
          alert: b.name,
          severity: spec.severity,
          threshold: b.threshold,
          longBurnRate: b.longBurnRate,
          shortBurnRate: b.shortBurnRate,
          longWindowMs: b.longWindowMs,
          shortWindowMs: b.shortWindowMs,
          remaining: status.remaining,
          atMs: nowMs,
        });
      }
    }
    return events;
  }

  /** The period buckets of every scope that hold `sinceMs` or later (what to write to the audit log). */
  persisted(nowMs: number, sinceMs = Number.NEGATIVE_INFINITY): PersistedBudget {
    const buckets: BudgetBucket[] = [];
    for (const [scope, s] of this.scopes) {
      for (const b of s.period.buckets(this.settings.periodMs, nowMs)) {
        if (b.startMs + PERIOD_BUCKET_MS > sinceMs) buckets.push({ scope, startMs: b.startMs, good: b.good, total: b.total });
      }
    }
    return { bucketMs: PERIOD_BUCKET_MS, periodMs: this.settings.periodMs, buckets };
  }

  /**
   * The alert windows' minute buckets of every scope that hold `sinceMs` or later (replicas: what
   * the leader writes to etcd, so a successor continues a burn in progress). `periodMs` of the
   * result is the horizon kept: the longest alert window plus the minute being filled.
   */
  persistedWindows(nowMs: number, sinceMs = Number.NEGATIVE_INFINITY): PersistedBudget {
    const buckets: BudgetBucket[] = [];
    for (const [scope, s] of this.scopes) {
      for (const b of s.recent.buckets(this.recentMs, nowMs)) {
        if (b.startMs + WINDOW_BUCKET_MS > sinceMs) buckets.push({ scope, startMs: b.startMs, good: b.good, total: b.total });
      }
    }
    return { bucketMs: WINDOW_BUCKET_MS, periodMs: this.recentMs + WINDOW_BUCKET_MS, buckets };
  }

  /**
   * Loads saved buckets: hour buckets (PERIOD_BUCKET_MS, the audit log's or etcd's period counts)
   * into the period, minute buckets (WINDOW_BUCKET_MS, replicas: etcd's alert-window counts) into
   * the alert windows. Buckets of another width, of an unknown scope, in the future or older than
   * what their memory keeps are ignored. Returns how many were loaded.
   */
  restore(saved: PersistedBudget, nowMs: number): number {
    const into = saved.bucketMs === PERIOD_BUCKET_MS ? "period" : saved.bucketMs === WINDOW_BUCKET_MS ? "recent" : undefined;
    if (into === undefined) return 0;
    const keptMs = into === "period" ? this.settings.periodMs : this.recentMs + WINDOW_BUCKET_MS;
    const oldest = nowMs - keptMs;
    let loaded = 0;
    for (const b of saved.buckets) {
      const s = this.scopes.get(b.scope);
      if (s === undefined || b.startMs + saved.bucketMs <= oldest || b.startMs > nowMs || !(b.total >= 0) || !(b.good >= 0)) continue;
      s[into].set(b.startMs, Math.min(b.good, b.total), b.total);
      loaded++;
    }
    return loaded;
  }
}
