// GET /v1/error-budgets: each scope's error budget (the mesh, then every cluster): its SLO over
// the period, the events counted, the budget left and each multi-window burn-rate alert
// (core/error-budget/). Without an error_budgets section in the configuration: enabled false
// and no scopes.
import type { FastifyInstance } from "fastify";
import type { BudgetStatus } from "../../core/error-budget/types.js";
import type { AdminDeps } from "../deps.js";
import { emptyQuery } from "../schemas.js";

const num = { type: "number" } as const;

const burnSchema = {
  type: "object",
  required: ["name", "threshold", "long_burn_rate", "short_burn_rate", "long_window_s", "short_window_s", "firing", "since_ms"],
  properties: {
    name: { type: "string", enum: ["fast_burn", "slow_burn"] },
    threshold: num,
    long_burn_rate: num,
    short_burn_rate: num,
    long_window_s: num,
    short_window_s: num,
    firing: { type: "boolean" },
    since_ms: { type: ["number", "null"] },
  },
} as const;

const scopeSchema = {
  type: "object",
  required: ["scope", "objective", "period_s", "good", "total", "remaining", "period_burn_rate", "alerts"],
  properties: {
    scope: { type: "string", description: "\"mesh\", or a cluster's name" },
    objective: num,
    period_s: num,
    good: num,
    total: num,
    remaining: { type: "number", description: "1 - bad / allowed bad over the period; 1 with no events, below 0 once overspent" },
    period_burn_rate: num,
    alerts: { type: "array", items: burnSchema },
  },
} as const;

export const errorBudgetsSchema = {
  type: "object",
  required: ["enabled", "at_ms", "scopes"],
  properties: { enabled: { type: "boolean" }, at_ms: num, scopes: { type: "array", items: scopeSchema } },
} as const;

/** A scope's budget as the admin API shows it (snake_case, seconds). */
export function budgetView(s: BudgetStatus): Record<string, unknown> {
  return {
    scope: s.scope,
    objective: s.objective,
    period_s: s.periodMs / 1000,
    good: s.good,
    total: s.total,
    remaining: s.remaining,
    period_burn_rate: s.periodBurnRate,
    alerts: s.alerts.map((a) => ({
      name: a.name,
      threshold: a.threshold,
      long_burn_rate: a.longBurnRate,
      short_burn_rate: a.shortBurnRate,
      long_window_s: a.longWindowMs / 1000,
      short_window_s: a.shortWindowMs / 1000,
      firing: a.firing,
      since_ms: a.sinceMs ?? null,
    })),
  };
}

export function registerErrorBudgetRoutes(app: FastifyInstance, deps: AdminDeps): void {
  app.get(
    "/v1/error-budgets",
    {
      schema: {
        summary: "Error budgets per cluster and mesh-wide, with their burn-rate alerts",
        tags: ["state"],
        querystring: emptyQuery,
        response: { 200: errorBudgetsSchema },
      },
    },
    async () => ({
      enabled: deps.errorBudgets !== undefined,
      at_ms: deps.now(),
      scopes: (deps.errorBudgets?.statuses() ?? []).map(budgetView),
    }),
  );
}
