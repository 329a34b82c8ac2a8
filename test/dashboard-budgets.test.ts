// The dashboard's error budget panel: the snapshot carries each scope's objective, budget left
// and firing burn alerts (empty without error budgets), and the page has the panel, hidden
// until there is a row.
import { test } from "node:test";
import assert from "node:assert/strict";
import { dashboardSnapshot } from "../control-plane/src/dashboard/snapshot.js";
import { DASHBOARD_HTML } from "../control-plane/src/dashboard/page.js";
import type { BudgetStatus } from "../control-plane/src/core/error-budget/types.js";

const burn = (name: string, firing: boolean) => ({ name, threshold: 1, longBurnRate: 0, shortBurnRate: 0, longWindowMs: 1, shortWindowMs: 1, firing });
const status = (scope: string, remaining: number, firing: string[]): BudgetStatus => ({
  scope, objective: 0.99, periodMs: 1, good: 0, total: 0, remaining, periodBurnRate: 0,
  alerts: [burn("fast_burn", firing.includes("fast_burn")), burn("slow_burn", firing.includes("slow_burn"))],
});
const base = { nowMs: 0, statuses: [], decisions: { version: 1, issuedAtMs: 0, ttlMs: 1, halted: false, haltReason: "", clusters: [] }, sidecars: [], gone: [], model: "rules-only" as const };

test("the dashboard snapshot lists each scope's budget left and the burn alerts firing", () => {
  const cases: { name: string; budgets?: BudgetStatus[]; rows: unknown[] }[] = [
    { name: "no error budgets configured", rows: [] },
    {
      name: "the mesh and a cluster burning fast and slow",
      budgets: [status("mesh", 0.8, []), status("llm-a", -0.5, ["fast_burn", "slow_burn"])],
      rows: [
        { scope: "mesh", objective: 0.99, remaining: 0.8, firing: [] },
        { scope: "llm-a", objective: 0.99, remaining: -0.5, firing: ["fast_burn", "slow_burn"] },
      ],
    },
  ];
  for (const c of cases) {
    const snap = dashboardSnapshot({ ...base, ...(c.budgets === undefined ? {} : { budgets: c.budgets }) });
    assert.deepEqual(snap.error_budgets, c.rows, c.name);
  }
});

test("the page has the error budget panel, hidden until a snapshot has rows", () => {
  assert.match(DASHBOARD_HTML, /<section id="budgets" hidden><h2 class="title">Error budgets<\/h2>/);
  assert.match(DASHBOARD_HTML, /function renderBudgets\(snap\)/);
  assert.match(DASHBOARD_HTML, /renderBudgets\(snap\);/);
});
