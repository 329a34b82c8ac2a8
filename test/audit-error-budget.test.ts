// The error budget across restarts (control-plane/src/error-budget/monitor.ts with the audit
// log): `error_budget` records in the files' spelling, their merge into the restored state
// (bounded by the period), damaged ones skipped, and a budget that survives a restart.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AuditLog } from "../control-plane/src/audit/audit-log.js";
import { encodeRecord } from "../control-plane/src/audit/record-codec.js";
import { applyRecord, parseRecord, type AuditRecord } from "../control-plane/src/audit/records.js";
import { csvRows } from "../control-plane/src/admin/audit-export.js";
import { DEFAULT_BURN_ALERTS } from "../control-plane/src/config/error-budgets.js";
import type { ErrorBudgetSettings, PersistedBudget } from "../control-plane/src/core/error-budget/index.js";
import type { ClusterWindowStats } from "../control-plane/src/core/types.js";
import { ErrorBudgetMonitor } from "../control-plane/src/error-budget/monitor.js";
import type { Alert } from "../control-plane/src/alerts/types.js";
import { createLogger } from "../lib/log.js";

const HOUR = 3_600_000;
const T0 = 1_700_006_400_000;
const settings: ErrorBudgetSettings = {
  objective: 0.99,
  clusterObjectives: new Map(),
  periodMs: 2 * 24 * HOUR,
  alerts: DEFAULT_BURN_ALERTS,
  countLocalRejects: true,
  persistIntervalMs: 300_000,
};
const budget = (buckets: PersistedBudget["buckets"]): PersistedBudget => ({ bucketMs: HOUR, periodMs: settings.periodMs, buckets });

test("an error_budget record is written snake_case and reads back the same", () => {
  const record: AuditRecord = { kind: "error_budget", atMs: T0, budget: budget([{ scope: "llm-a", startMs: T0, good: 99, total: 100 }]) };
  const line = encodeRecord(record);
  assert.equal(line, `{"kind":"error_budget","at_ms":${T0},"budget":{"bucket_ms":3600000,"period_ms":172800000,"buckets":[{"scope":"llm-a","start_ms":${T0},"good":99,"total":100}]}}`);
  assert.deepEqual(parseRecord(line), { ok: true, record });
});

test("damaged error_budget records are skipped, naming the field", () => {
  const cases: [string, string][] = [
    [`{"kind":"error_budget","at_ms":1,"budget":{"bucket_ms":0,"period_ms":1,"buckets":[]}}`, "error_budget.budget.bucket_ms: expected a positive integer (ms), got 0"],
    [`{"kind":"error_budget","at_ms":1,"budget":{"bucket_ms":1,"period_ms":1,"buckets":[{"scope":"a","start_ms":0,"good":-1,"total":1}]}}`, "error_budget.budget.buckets[0].good: expected a number >= 0, got -1"],
    [`{"kind":"error_budget","at_ms":1}`, "error_budget.budget: missing"],
  ];
  for (const [line, error] of cases) assert.deepEqual(parseRecord(line), { ok: false, reason: "bad_field", error });
});

test("applying error_budget records replaces buckets of the same scope and start and drops those past the period", () => {
  const steps: { at: number; buckets: PersistedBudget["buckets"]; expected: [string, number, number][] }[] = [
    { at: T0, buckets: [{ scope: "llm-a", startMs: T0, good: 5, total: 10 }], expected: [["llm-a", T0, 10]] },
    // The same hour written again, with more events: replaced, not added.
    { at: T0 + 1, buckets: [{ scope: "llm-a", startMs: T0, good: 15, total: 20 }, { scope: "mesh", startMs: T0, good: 15, total: 20 }], expected: [["llm-a", T0, 20], ["mesh", T0, 20]] },
    // Three days later: the first hour has left the two-day period.
    { at: T0 + 72 * HOUR, buckets: [{ scope: "llm-a", startMs: T0 + 72 * HOUR, good: 1, total: 1 }], expected: [["llm-a", T0 + 72 * HOUR, 1]] },
  ];
  let state = { overrides: [] } as ReturnType<typeof applyRecord>;
  for (const s of steps) {
    state = applyRecord(state, { kind: "error_budget", atMs: s.at, budget: budget(s.buckets) });
    assert.deepEqual(state.errorBudget!.buckets.map((b) => [b.scope, b.startMs, b.total]), s.expected, `at +${(s.at - T0) / HOUR} h`);
  }
});

test("the audit export's CSV has a row per error budget bucket, filtered by cluster", () => {
  const record: AuditRecord = { kind: "error_budget", atMs: T0, budget: budget([{ scope: "mesh", startMs: T0, good: 9, total: 10 }, { scope: "llm-a", startMs: T0, good: 4, total: 5 }]) };
  assert.deepEqual(csvRows(record).map((r) => [r.cluster, r.bucket_start_ms, r.good, r.total]), [["mesh", T0, 9, 10], ["llm-a", T0, 4, 5]]);
  assert.deepEqual(csvRows(record, "llm-a").map((r) => r.cluster), ["llm-a"]);
});

function window(startMs: number, requests: number, errorRate: number): ClusterWindowStats[] {
  return [{
    cluster: "llm-a", windowStartMs: startMs, windowLengthMs: 10_000, requests, errors5xx: 0, localRejects: 0, timeouts: 0, resets: 0, grpcErrors: 0,
    errorRate, p50Ms: 1, p95Ms: 1, p99Ms: 1, rps: requests / 10, reporters: 1,
  }];
}

test("the budget left survives a restart: the monitor persists to the audit log and the next one restores it", async () => {
  const dir = await mkdtemp(join(tmpdir(), "autoglm-budget-"));
  const logger = createLogger("budget-test", "silent");
  let now = T0;
  const clock = () => now;
  try {
    const first = await AuditLog.open({ dir, fsync: false, now: clock, logger });
    const alerts: Alert[] = [];
    const monitor = new ErrorBudgetMonitor({ settings, clusters: ["llm-a"], now: clock, append: (r) => first.append(r), notify: (a) => alerts.push(a), logger });
    // 90 minutes of one window a minute, 0.4 % failures: 40 % of the budget spent.
    for (let i = 0; i < 90; i++) {
      now = T0 + i * 60_000;
      monitor.observe([window(now, 1000, 0.004)]);
    }
    await monitor.persist();
    await first.close();
    const before = monitor.statuses().find((s) => s.scope === "llm-a")!;
    assert.ok(Math.abs(before.remaining - 0.6) < 1e-9, `remaining ${before.remaining}`);
    assert.deepEqual(alerts, [], "0.4 % failures burn below every threshold");
    const files = await readFile(join(dir, "audit-000001.ndjson"), "utf8");
    assert.match(files, /"kind":"error_budget"/);

    const second = await AuditLog.open({ dir, fsync: false, now: clock, logger });
    const restored = second.restored?.errorBudget;
    assert.ok(restored !== undefined, "the state restored holds the error budget");
    const after = new ErrorBudgetMonitor({ settings, clusters: ["llm-a"], now: clock, restored, notify: () => undefined, logger });
    const status = after.statuses().find((s) => s.scope === "llm-a")!;
    assert.equal(status.total, before.total);
    assert.ok(Math.abs(status.remaining - before.remaining) < 1e-12);
    const mesh = after.statuses().find((s) => s.scope === "mesh")!;
    assert.equal(mesh.total, 90_000);
    await second.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("the monitor raises the tracker's burn alerts through the notifier, fired then resolved", () => {
  let now = T0;
  const alerts: Alert[] = [];
  const monitor = new ErrorBudgetMonitor({ settings, clusters: ["llm-a"], now: () => now, notify: (a) => alerts.push(a), logger: createLogger("budget-test", "silent") });
  for (let i = 0; i < 120; i++) {
    now = T0 + i * 60_000;
    monitor.observe([window(now, 1000, i < 60 ? 0.3 : 0)]);
  }
  // Both windows of both alerts burn from the first window on (the mesh first, then each cluster);
  // once failures stop, the 5 min window clears the fast burns first (at +62 min its 5 minutes
  // hold 2 bad ones: 12 % < 14.4 %), the 30 min one the slow (at +83 min: 6 bad of 30, 6 %, not above 6 %).
  assert.deepEqual(
    alerts.map((a) => [a.kind, a.cluster, a.severity, a.details.alert]),
    [
      ["error_budget_fast_burn", "", "critical", "fast_burn"],
      ["error_budget_slow_burn", "", "warning", "slow_burn"],
      ["error_budget_fast_burn", "llm-a", "critical", "fast_burn"],
      ["error_budget_slow_burn", "llm-a", "warning", "slow_burn"],
      ["error_budget_burn_resolved", "", "info", "fast_burn"],
      ["error_budget_burn_resolved", "llm-a", "info", "fast_burn"],
      ["error_budget_burn_resolved", "", "info", "slow_burn"],
      ["error_budget_burn_resolved", "llm-a", "info", "slow_burn"],
    ],
  );
  assert.deepEqual(alerts.map((a) => a.atMs), [T0, T0, T0, T0, T0 + 62 * 60_000, T0 + 62 * 60_000, T0 + 83 * 60_000, T0 + 83 * 60_000]);
  assert.match(alerts[2]!.summary, /^error budget of llm-a burning above 14\.4x \(30x over 1 h, 30x over 5 min\)/);
  assert.match(alerts[0]!.summary, /^error budget of the mesh burning/);
});
