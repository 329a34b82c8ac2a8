// Prometheus metrics of the error budgets (core/error-budget/): the budget left, the objective
// and the burn rates, read from the tracker at scrape time, and the SLI event counters that
// deploy/prometheus's recording rules compute their own burn rates from.
import { Counter, Gauge, type Registry } from "prom-client";
import type { BudgetStatus, ScopeCounts } from "../core/error-budget/types.js";
import { MESH_SCOPE } from "../core/error-budget/types.js";

export interface ErrorBudgetSource {
  statuses(): BudgetStatus[];
}

export class ErrorBudgetMetrics {
  readonly events: Counter<"cluster">;
  readonly badEvents: Counter<"cluster">;

  constructor(registry: Registry, source: ErrorBudgetSource) {
    const registers = [registry];
    new Gauge({
      name: "autoglm_error_budget_remaining_ratio",
      help: "Error budget left over the SLO period, per scope (a cluster, or mesh): 1 untouched, 0 spent, below 0 overspent.",
      labelNames: ["scope"],
      registers,
      collect() {
        this.reset();
        for (const s of source.statuses()) this.set({ scope: s.scope }, s.remaining);
      },
    });
    new Gauge({
      name: "autoglm_error_budget_objective_ratio",
      help: "The SLO's objective per scope: the fraction of good events promised over the period.",
      labelNames: ["scope"],
      registers,
      collect() {
        this.reset();
        for (const s of source.statuses()) this.set({ scope: s.scope }, s.objective);
      },
    });
    new Gauge({
      name: "autoglm_error_budget_burn_rate",
      help: "Error budget burn rate per scope over each burn alert's windows (window: long or short; 1 spends the budget exactly over the period).",
      labelNames: ["scope", "alert", "window"],
      registers,
      collect() {
        this.reset();
        for (const s of source.statuses()) {
          for (const a of s.alerts) {
            this.set({ scope: s.scope, alert: a.name, window: "long" }, a.longBurnRate);
            this.set({ scope: s.scope, alert: a.name, window: "short" }, a.shortBurnRate);
          }
        }
      },
    });
    new Gauge({
      name: "autoglm_error_budget_burn_alert_firing",
      help: "1 while a multi-window burn-rate alert fires for the scope (alert: fast_burn, slow_burn), else 0.",
      labelNames: ["scope", "alert"],
      registers,
      collect() {
        this.reset();
        for (const s of source.statuses()) for (const a of s.alerts) this.set({ scope: s.scope, alert: a.name }, a.firing ? 1 : 0);
      },
    });
    this.events = new Counter({
      name: "autoglm_slo_events_total",
      help: "Requests counted by the SLO, per cluster (with error_budgets.count_local_rejects, requests refused by sidecars too).",
      labelNames: ["cluster"],
      registers,
    });
    this.badEvents = new Counter({
      name: "autoglm_slo_bad_events_total",
      help: "Of autoglm_slo_events_total: bad events (failed upstream, or refused locally when counted).",
      labelNames: ["cluster"],
      registers,
    });
  }

  /** Counts one closed window's events (the mesh scope is left out: PromQL sums the clusters). */
  countWindow(counts: readonly ScopeCounts[]): void {
    for (const c of counts) {
      if (c.scope === MESH_SCOPE) continue;
      this.events.inc({ cluster: c.scope }, c.total);
      this.badEvents.inc({ cluster: c.scope }, c.total - c.good);
    }
  }
}
