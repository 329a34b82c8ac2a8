// The error budget core (control-plane/src/core/error-budget/): bucketed counts, burn rates and
// the budget left, multi-window burn-rate alerts (SRE workbook, "Alerting on SLOs"), the window
// counts it is fed, and its persisted form — all on times passed in.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  BucketRing,
  WINDOW_BUCKET_MS,
  ErrorBudgetTracker,
  MESH_SCOPE,
  PERIOD_BUCKET_MS,
  budgetRemaining,
  burnRate,
  windowCounts,
  type BurnEvent,
  type ErrorBudgetSettings,
} from "../control-plane/src/core/error-budget/index.js";
import { DEFAULT_BURN_ALERTS } from "../control-plane/src/config/error-budgets.js";
import type { ClusterWindowStats } from "../control-plane/src/core/types.js";

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
/** A time on an hour boundary, epoch ms. */
const T0 = 1_700_006_400_000;

const settings = (over: Partial<ErrorBudgetSettings> = {}): ErrorBudgetSettings => ({
  objective: 0.99,
  clusterObjectives: new Map(),
  periodMs: 30 * DAY,
  alerts: DEFAULT_BURN_ALERTS,
  countLocalRejects: true,
  persistIntervalMs: 5 * MIN,
  ...over,
});

test("burn rate and budget left follow the objective", () => {
  const cases: { good: number; total: number; objective: number; burn: number; remaining: number }[] = [
    { good: 0, total: 0, objective: 0.99, burn: 0, remaining: 1 }, // no events: nothing spent
    { good: 1000, total: 1000, objective: 0.99, burn: 0, remaining: 1 },
    { good: 990, total: 1000, objective: 0.99, burn: 1, remaining: 0 }, // exactly the allowance
    { good: 995, total: 1000, objective: 0.99, burn: 0.5, remaining: 0.5 },
    { good: 856, total: 1000, objective: 0.99, burn: 14.4, remaining: -13.4 }, // overspent
    { good: 999, total: 1000, objective: 0.999, burn: 1, remaining: 0 },
  ];
  for (const c of cases) {
    assert.ok(Math.abs(burnRate(c.good, c.total, c.objective) - c.burn) < 1e-9, `burn ${JSON.stringify(c)}`);
    assert.ok(Math.abs(budgetRemaining(c.good, c.total, c.objective) - c.remaining) < 1e-9, `remaining ${JSON.stringify(c)}`);
  }
});

test("a bucket ring sums the buckets of a trailing window and forgets what falls off its horizon", () => {
  const ring = new BucketRing(MIN, 10);
  for (let i = 0; i < 15; i++) ring.add(T0 + i * MIN + 5_000, 9, 10); // one bucket a minute, 15 minutes
  const now = T0 + 14 * MIN + 30_000;
  const cases: { windowMs: number; total: number }[] = [
    { windowMs: MIN, total: 10 }, // the current minute only
    { windowMs: 5 * MIN, total: 50 },
    { windowMs: 10 * MIN, total: 100 }, // the whole horizon
    { windowMs: 60 * MIN, total: 100 }, // wider than the ring: only what it holds (bounded memory)
  ];
  for (const c of cases) assert.deepEqual(ring.sum(c.windowMs, now), { good: c.total * 0.9, total: c.total }, `window ${c.windowMs / MIN} min`);
  ring.add(T0, 1, 1); // older than the horizon: dropped, not mixed into a newer bucket
  assert.deepEqual(ring.sum(10 * MIN, now), { good: 90, total: 100 });
});

/** Feeds `minutes` minutes of `perMinute` events with `errorRatio` failures to `scope`, starting at `fromMs`. */
function feed(tracker: ErrorBudgetTracker, scope: string, fromMs: number, minutes: number, errorRatio: number, perMinute = 1000): number {
  for (let i = 0; i < minutes; i++) {
    const total = perMinute;
    tracker.observe([{ scope, good: total - Math.round(total * errorRatio), total }], fromMs + i * MIN);
  }
  return fromMs + minutes * MIN;
}

const firing = (t: ErrorBudgetTracker, scope: string, nowMs: number): string[] =>
  t.statuses(nowMs).find((s) => s.scope === scope)!.alerts.filter((a) => a.firing).map((a) => a.name);

test("multi-window burn-rate alerts fire only when both their windows burn above the threshold", () => {
  const cases: { name: string; minutes: [number, number][]; firing: string[] }[] = [
    { name: "20 % failures for an hour fire fast and slow burn", minutes: [[60, 0.2]], firing: ["fast_burn", "slow_burn"] },
    { name: "8 % failures for 6 hours fire the slow burn only (8 < 14.4)", minutes: [[360, 0.08]], firing: ["slow_burn"] },
    { name: "0.5 % failures fire nothing", minutes: [[360, 0.005]], firing: [] },
    { name: "a 5-minute outage after clean hours fires nothing (the 1 h and 6 h windows stay below)", minutes: [[355, 0], [5, 1]], firing: [] },
    { name: "the same outage with no history before it fires the slow burn (6 h holds only that hour)", minutes: [[55, 0], [5, 1]], firing: ["slow_burn"] },
    { name: "20 % for an hour, then 10 clean minutes: the 5 min window stops the fast burn", minutes: [[60, 0.2], [10, 0]], firing: ["slow_burn"] },
    { name: "20 % for an hour, then 40 clean minutes: the 30 min window stops the slow burn too", minutes: [[60, 0.2], [40, 0]], firing: [] },
  ];
  for (const c of cases) {
    const t = new ErrorBudgetTracker(settings(), ["llm-a"]);
    let at = T0;
    for (const [minutes, ratio] of c.minutes) {
      for (let i = 0; i < minutes; i++) {
        at = feed(t, "llm-a", at, 1, ratio);
        t.evaluate(at); // evaluated every minute, as rounds do
      }
    }
    assert.deepEqual(firing(t, "llm-a", at), c.firing, c.name);
  }
});

test("evaluate reports each alert once when it fires and once when it resolves", () => {
  const t = new ErrorBudgetTracker(settings(), ["llm-a"]);
  const events: BurnEvent[] = [];
  let at = T0;
  for (const [minutes, ratio] of [[60, 0.2], [60, 0]] as const) {
    for (let i = 0; i < minutes; i++) {
      at = feed(t, "llm-a", at, 1, ratio);
      events.push(...t.evaluate(at));
    }
  }
  assert.deepEqual(
    events.map((e) => `${e.kind} ${e.alert}`),
    ["fired fast_burn", "fired slow_burn", "resolved fast_burn", "resolved slow_burn"],
  );
  const fired = events[0]!;
  assert.equal(fired.severity, "critical");
  assert.equal(fired.threshold, 14.4);
  assert.ok(fired.longBurnRate > 14.4 && fired.shortBurnRate > 14.4);
});

test("per-cluster objectives, and the mesh scope from the clusters' summed counts", () => {
  const t = new ErrorBudgetTracker(settings({ clusterObjectives: new Map([["llm-b", 0.999]]) }), ["llm-a", "llm-b"]);
  t.observe([{ scope: MESH_SCOPE, good: 1990, total: 2000 }, { scope: "llm-a", good: 990, total: 1000 }, { scope: "llm-b", good: 1000, total: 1000 }], T0);
  const byScope = new Map(t.statuses(T0).map((s) => [s.scope, s]));
  assert.deepEqual([...byScope.keys()], ["mesh", "llm-a", "llm-b"]);
  assert.equal(byScope.get("llm-b")!.objective, 0.999);
  const cases: [string, number][] = [["llm-a", 0], ["mesh", 0.5], ["llm-b", 1]];
  for (const [scope, remaining] of cases) assert.ok(Math.abs(byScope.get(scope)!.remaining - remaining) < 1e-9, `${scope}: ${byScope.get(scope)!.remaining}`);
});

test("counts older than the period no longer spend the budget", () => {
  const t = new ErrorBudgetTracker(settings({ periodMs: 2 * DAY }), ["llm-a"]);
  t.observe([{ scope: "llm-a", good: 0, total: 100 }], T0); // a bad hour
  t.observe([{ scope: "llm-a", good: 100, total: 100 }], T0 + DAY);
  const remaining = (at: number) => t.statuses(at).find((s) => s.scope === "llm-a")!.remaining;
  assert.ok(remaining(T0 + DAY) < 0, "within the period the bad hour counts");
  assert.equal(remaining(T0 + 2 * DAY + HOUR), 1, "two days later it has left the period");
});

test("the period's buckets survive a restart through persisted() and restore()", () => {
  const before = new ErrorBudgetTracker(settings(), ["llm-a"]);
  feed(before, "llm-a", T0, 150, 0.004); // 2.5 hours
  const saved = before.persisted(T0 + 150 * MIN);
  assert.equal(saved.bucketMs, PERIOD_BUCKET_MS);
  assert.deepEqual([...new Set(saved.buckets.map((b) => b.startMs))], [T0, T0 + HOUR, T0 + 2 * HOUR]);
  const after = new ErrorBudgetTracker(settings(), ["llm-a"]);
  const cases: { what: string; budget: typeof saved; loaded: number }[] = [
    { what: "all buckets", budget: saved, loaded: 3 },
    { what: "a width neither memory keeps", budget: { ...saved, bucketMs: 5 * MIN }, loaded: 0 },
    { what: "an unknown scope", budget: { ...saved, buckets: saved.buckets.map((b) => ({ ...b, scope: "gone" })) }, loaded: 0 },
  ];
  for (const c of cases) assert.equal(new ErrorBudgetTracker(settings(), ["llm-a"]).restore(c.budget, T0 + 150 * MIN), c.loaded, c.what);
  after.restore(saved, T0 + 150 * MIN);
  const status = (t: ErrorBudgetTracker) => t.statuses(T0 + 150 * MIN).find((s) => s.scope === "llm-a")!;
  assert.equal(status(after).total, 150_000);
  assert.ok(Math.abs(status(after).remaining - status(before).remaining) < 1e-12);
  assert.ok(Math.abs(status(after).remaining - 0.6) < 1e-9);
  // Only buckets touched since a time are written again.
  assert.deepEqual(before.persisted(T0 + 150 * MIN, T0 + 2 * HOUR + MIN).buckets.map((b) => b.startMs), [T0 + 2 * HOUR]);
});

test("a fast burn in progress survives a hand-over of the alert windows' minute buckets (persistedWindows, restore)", () => {
  // The successor has the minute buckets only, and sees healthy traffic from its first minute.
  const cases: { what: string; handOver: boolean; firing: string[] }[] = [
    { what: "with the buckets the burn goes on alerting", handOver: true, firing: ["fast_burn"] },
    { what: "without them it is forgotten", handOver: false, firing: [] },
  ];
  for (const c of cases) {
    const before = new ErrorBudgetTracker(settings(), ["llm-a"]);
    const now = feed(before, "llm-a", T0, 20, 0.3); // 20 minutes at 30 % errors: burn rate 30
    assert.deepEqual(firing(before, "llm-a", now), [], "not evaluated yet");
    before.evaluate(now);
    assert.deepEqual(firing(before, "llm-a", now), ["fast_burn", "slow_burn"]);
    const saved = before.persistedWindows(now);
    assert.equal(saved.bucketMs, WINDOW_BUCKET_MS);
    assert.equal(saved.periodMs, 6 * HOUR + MIN, "the longest window and the minute being filled");
    const after = new ErrorBudgetTracker(settings(), ["llm-a"]);
    if (c.handOver) assert.equal(after.restore(saved, now), 20, c.what); // llm-a's 20 minutes (the feed counts no mesh-wide events)
    feed(after, "llm-a", now, 1, 0);
    after.evaluate(now + MIN);
    // Slow burn: 6 over 6 h and 30 min; 20 bad minutes of 21 still burn at 28.6 over both.
    assert.deepEqual(firing(after, "llm-a", now + MIN).filter((n) => n === "fast_burn"), c.firing, c.what);
  }
  // Buckets older than the longest window, or in the future, are not loaded.
  const t = new ErrorBudgetTracker(settings(), ["llm-a"]);
  const old = { bucketMs: WINDOW_BUCKET_MS, periodMs: 6 * HOUR + MIN, buckets: [{ scope: "llm-a", startMs: T0, good: 0, total: 10 }] };
  assert.equal(t.restore(old, T0 + 7 * HOUR), 0, "7 h old");
  assert.equal(t.restore(old, T0 - MIN), 0, "in the future");
  assert.equal(t.restore(old, T0 + 5 * HOUR), 1, "5 h old");
  // Only minutes touched since a time are written again.
  const b = new ErrorBudgetTracker(settings(), ["llm-a"]);
  feed(b, "llm-a", T0, 5, 0);
  assert.deepEqual([...new Set(b.persistedWindows(T0 + 5 * MIN, T0 + 3 * MIN + 1).buckets.map((x) => x.startMs))], [T0 + 3 * MIN, T0 + 4 * MIN]);
});

test("memory is bounded by the period and the longest window, whatever the traffic", () => {
  const t = new ErrorBudgetTracker(settings({ periodMs: 3 * DAY }), ["llm-a"]);
  feed(t, "llm-a", T0, 5 * 24 * 60, 0.001, 10); // 5 days of minutes
  const saved = t.persisted(T0 + 5 * DAY - MIN);
  assert.equal(saved.buckets.filter((b) => b.scope === "llm-a").length, 72, "3 days of hour buckets, not 5");
});

function stats(cluster: string, requests: number, errorRate: number, localRejects: number): ClusterWindowStats {
  return {
    cluster, windowStartMs: T0, windowLengthMs: 10_000, requests, errors5xx: 0, localRejects, timeouts: 0, resets: 0, grpcErrors: 0,
    errorRate, p50Ms: 1, p95Ms: 1, p99Ms: 1, rps: requests / 10, reporters: 1,
  };
}

test("window counts: failures are bad, local rejects too when counted, and the mesh sums the clusters", () => {
  const window = [stats("llm-a", 100, 0.1, 5), stats("llm-b", 50, 0, 0)];
  const cases: { countLocalRejects: boolean; expected: { scope: string; good: number; total: number }[] }[] = [
    { countLocalRejects: true, expected: [{ scope: "mesh", good: 140, total: 155 }, { scope: "llm-a", good: 90, total: 105 }, { scope: "llm-b", good: 50, total: 50 }] },
    { countLocalRejects: false, expected: [{ scope: "mesh", good: 140, total: 150 }, { scope: "llm-a", good: 90, total: 100 }, { scope: "llm-b", good: 50, total: 50 }] },
  ];
  for (const c of cases) assert.deepEqual(windowCounts(window, c.countLocalRejects), c.expected, `countLocalRejects ${c.countLocalRejects}`);
});
