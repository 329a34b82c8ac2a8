// Alerts of the error budgets: a multi-window burn-rate alert fired or resolved
// (core/error-budget/tracker.ts).
import type { BurnEvent } from "../core/error-budget/types.js";
import { MESH_SCOPE } from "../core/error-budget/types.js";
import type { Alert } from "./types.js";

const minutes = (ms: number): string => (ms % 3_600_000 === 0 ? `${ms / 3_600_000} h` : `${Math.round(ms / 60_000)} min`);
const rate = (x: number): string => `${Math.round(x * 10) / 10}x`;
const percent = (x: number): string => `${Math.round(x * 1000) / 10} %`;

export function budgetBurnAlert(e: BurnEvent): Alert {
  const who = e.scope === MESH_SCOPE ? "the mesh" : e.scope;
  const fired = e.kind === "fired";
  const windows = `${rate(e.longBurnRate)} over ${minutes(e.longWindowMs)}, ${rate(e.shortBurnRate)} over ${minutes(e.shortWindowMs)}`;
  return {
    kind: fired ? (e.alert === "fast_burn" ? "error_budget_fast_burn" : "error_budget_slow_burn") : "error_budget_burn_resolved",
    cluster: e.scope === MESH_SCOPE ? "" : e.scope,
    severity: fired ? e.severity : "info",
    summary: fired
      ? `error budget of ${who} burning above ${rate(e.threshold)} (${windows}); ${percent(e.remaining)} of the budget left`
      : `error budget ${e.alert} of ${who} resolved (${windows}, threshold ${rate(e.threshold)}); ${percent(e.remaining)} of the budget left`,
    atMs: e.atMs,
    details: {
      scope: e.scope,
      alert: e.alert,
      threshold: e.threshold,
      long_burn_rate: e.longBurnRate,
      short_burn_rate: e.shortBurnRate,
      long_window_s: e.longWindowMs / 1000,
      short_window_s: e.shortWindowMs / 1000,
      budget_remaining: e.remaining,
    },
  };
}
