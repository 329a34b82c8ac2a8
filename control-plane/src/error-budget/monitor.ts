// The error budgets at the edge: feeds the pure tracker (../core/error-budget/) with the windows
// the control plane closes, raises its burn-rate alerts through the alert notifier, counts the
// SLI events in the metrics, and keeps the period's counts in the audit log (an `error_budget`
// record every persistIntervalMs, and on close) so the budget left survives a restart. With
// several replicas the records go to etcd (replicas/replica-store.ts: one key per period bucket,
// written by the leader) and the followers mirror them (mirror()); so do the alert windows'
// minute buckets (saveWindows: one key per minute, written every WINDOWS_SAVE_EVERY_MS), so a new
// leader continues a burn in progress instead of starting its windows empty.
import type { Logger } from "../../../lib/log.js";
import { budgetBurnAlert } from "../alerts/budget-alerts.js";
import type { Alert } from "../alerts/types.js";
import type { AuditRecord } from "../audit/records.js";
import { ErrorBudgetTracker, windowCounts, type BudgetStatus, type ErrorBudgetSettings, type PersistedBudget, type ScopeCounts } from "../core/error-budget/index.js";
import type { ClusterWindowStats } from "../core/types.js";
import type { EventSource } from "../metrics/bind.js";

export interface ErrorBudgetMonitorOptions {
  settings: ErrorBudgetSettings;
  clusters: readonly string[];
  /** Epoch ms. */
  now: () => number;
  /** What the audit log restored (PersistedState.errorBudget). */
  restored?: PersistedBudget;
  /** Replicas: the alert windows' minute buckets etcd held (PersistedState.burnWindows). */
  restoredWindows?: PersistedBudget;
  /** Replicas: keeps the alert windows' minute buckets changed since the last call (the leader
   *  writes them to etcd, fenced); absent (one process): they start empty on every restart. */
  saveWindows?: (budget: PersistedBudget, atMs: number) => void;
  /** Appends to the audit log; absent: the budget starts afresh on every restart. */
  append?: (record: AuditRecord) => Promise<void>;
  notify: (alert: Alert) => void;
  /** Each closed window's counts (the SLI counters of the metrics). */
  onCounts?: (counts: readonly ScopeCounts[]) => void;
  logger: Logger;
}

/** How often the alert windows' changed minute buckets are handed to saveWindows, ms of the
 *  control plane's clock: a new leader misses at most this much of a burn. */
export const WINDOWS_SAVE_EVERY_MS = 10_000;

export class ErrorBudgetMonitor {
  private readonly tracker: ErrorBudgetTracker;
  /** When the last error_budget record was written (epoch ms). */
  private persistedAtMs: number;
  /** The oldest window start folded in since then (epoch ms; undefined: none): the buckets from
   *  the one holding it on are written next. Window starts lag the clock, so this, not the time
   *  of the last write, says which buckets changed. */
  private unsavedSinceMs: number | undefined;
  /** The same for the alert windows' minute buckets (saveWindows), and when they were last saved. */
  private windowsUnsavedSinceMs: number | undefined;
  private windowsSavedAtMs: number;

  constructor(private readonly options: ErrorBudgetMonitorOptions) {
    this.tracker = new ErrorBudgetTracker(options.settings, options.clusters);
    const nowMs = options.now();
    this.persistedAtMs = nowMs;
    this.windowsSavedAtMs = nowMs;
    if (options.restored !== undefined) {
      const loaded = this.tracker.restore(options.restored, nowMs);
      options.logger.info({ buckets: loaded }, "error budgets restored from the audit log");
    }
    if (options.restoredWindows !== undefined) {
      const loaded = this.tracker.restore(options.restoredWindows, nowMs);
      options.logger.info({ buckets: loaded }, "error budgets' alert windows restored from the shared state");
    }
  }

  /** Subscribes to the control plane's closed windows; returns the function that unsubscribes. */
  bind(cp: EventSource): () => void {
    const onWindows = (windows: ClusterWindowStats[][]) => this.observe(windows);
    cp.on("windows", onWindows);
    return () => cp.off("windows", onWindows);
  }

  /** Folds closed windows in, raises the alerts that changed, and persists when due. */
  observe(windows: readonly ClusterWindowStats[][]): void {
    for (const window of windows) {
      if (window.length === 0) continue;
      const counts = windowCounts(window, this.options.settings.countLocalRejects);
      const atMs = window[0]!.windowStartMs;
      this.tracker.observe(counts, atMs);
      this.unsavedSinceMs = Math.min(this.unsavedSinceMs ?? atMs, atMs);
      this.windowsUnsavedSinceMs = Math.min(this.windowsUnsavedSinceMs ?? atMs, atMs);
      this.options.onCounts?.(counts);
    }
    const nowMs = this.options.now();
    for (const event of this.tracker.evaluate(nowMs)) {
      const fields = { scope: event.scope, alert: event.alert, long_burn_rate: event.longBurnRate, short_burn_rate: event.shortBurnRate, threshold: event.threshold };
      if (event.kind === "fired") this.options.logger.warn(fields, "error budget burn-rate alert fired");
      else this.options.logger.info(fields, "error budget burn-rate alert resolved");
      this.options.notify(budgetBurnAlert(event));
    }
    if (nowMs - this.persistedAtMs >= this.options.settings.persistIntervalMs) void this.persist();
    if (nowMs - this.windowsSavedAtMs >= WINDOWS_SAVE_EVERY_MS) this.saveWindows();
  }

  /** Hands the alert windows' minute buckets changed since the last call to saveWindows. */
  private saveWindows(): void {
    const nowMs = this.options.now();
    const since = this.windowsUnsavedSinceMs;
    this.windowsSavedAtMs = nowMs;
    this.windowsUnsavedSinceMs = undefined;
    if (since === undefined || this.options.saveWindows === undefined) return;
    const budget = this.tracker.persistedWindows(nowMs, since);
    if (budget.buckets.length > 0) this.options.saveWindows(budget, nowMs);
  }

  /** Replicas (following): buckets the leader committed (hour buckets of the period, minute
   *  buckets of the alert windows) replace this monitor's, so its views are the leader's and it
   *  continues from them when it leads. */
  mirror(budget: PersistedBudget): void {
    this.tracker.restore(budget, this.options.now());
  }

  statuses(): BudgetStatus[] {
    return this.tracker.statuses(this.options.now());
  }

  /** Writes the period buckets changed since the last write (none: nothing is written);
   *  resolves when durable (a failure is logged, never thrown). */
  persist(): Promise<void> {
    const nowMs = this.options.now();
    const since = this.unsavedSinceMs;
    this.persistedAtMs = nowMs;
    this.unsavedSinceMs = undefined;
    if (since === undefined || this.options.append === undefined) return Promise.resolve();
    const budget = this.tracker.persisted(nowMs, since);
    if (budget.buckets.length === 0) return Promise.resolve();
    return this.options.append({ kind: "error_budget", atMs: nowMs, budget }).catch((err: unknown) => {
      this.options.logger.error({ err }, "error budget counts not recorded in the audit log");
    });
  }
}
