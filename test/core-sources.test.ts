// Who sends the traffic in the control plane's core (control-plane/src/core/sources/): sketches of
// several sidecars merged per window with space-saving's bounds, caps turned into admitted
// fractions, limits checked, and sources flagged when their share or rate jumps above their own
// threshold with the breakers' n-of-m and cooldown filtering. Pure: no clock, no I/O.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  capFraction, limitDecisions, SourceBook, SourceFlagger, triggerSourceLimit, validateSourceLimit,
  type SourceFlagConfig, type SourceLimitEntry, type WorkerSourceCount,
} from "../control-plane/src/core/sources/index.js";
import { ControlPlaneError } from "../control-plane/src/core/errors.js";

const T0 = 1_800_000_000_000;
const count = (source: string, requests: number, extra: Partial<WorkerSourceCount> = {}): WorkerSourceCount =>
  ({ source, requests, overestimate: 0, errors: 0, limited: 0, ...extra });

test("the sketches of two sidecars merge per window: counts add, QPS, share and error rate follow, and the bounds hold", () => {
  const book = new SourceBook(10);
  // Sidecar A kept everything (no source displaced); sidecar B displaced sources (its smallest
  // count, 5, bounds any source it did not keep).
  book.ingest("a", T0, 1000, { total: 100, sources: [count("10.0.0.1", 60, { errors: 6 }), count("10.0.0.2", 40)] });
  book.ingest("b", T0, 1000, { total: 50, sources: [count("10.0.0.1", 30, { overestimate: 4, errors: 2 }), count("10.0.0.9", 5, { overestimate: 5 })] });
  book.ingest("a", T0 + 1000, 1000, { total: 10, sources: [count("10.0.0.2", 10, { limited: 3 })] });
  const view = book.view(T0, T0 + 2000, 10);
  assert.deepEqual([view.windows, view.totalRequests, view.fromMs, view.untilMs], [2, 160, T0, T0 + 2000]);
  const by = new Map(view.sources.map((s) => [s.source, s]));
  assert.deepEqual([...by.keys()], ["10.0.0.1", "10.0.0.2", "10.0.0.9"], "the busiest first");
  const one = by.get("10.0.0.1")!;
  assert.deepEqual([one.requests, one.minRequests, one.errors], [90, 86, 8]);
  // The second window: neither sketch displaced anything, so a source missing there had none.
  assert.equal(one.maxRequests, 90);
  assert.equal(one.qps, 45);
  assert.equal(one.share, 90 / 160);
  assert.equal(one.errorRate, 8 / 86);
  const two = by.get("10.0.0.2")!;
  assert.deepEqual([two.requests, two.minRequests, two.maxRequests, two.limited], [50, 50, 55, 3], "B may have counted up to 5 of it");
  assert.equal(by.get("10.0.0.9")!.errorRate, undefined, "nothing counted since it entered");
  assert.equal(view.unlistedMaxRequests, 5);
  assert.deepEqual(book.view(T0, T0 + 2000, 1).sources.map((s) => s.source), ["10.0.0.1"], "the limit is respected");
});

test("merged bounds bracket the true count of every source, whatever the sketches kept (fast-check)", () => {
  fc.assert(
    fc.property(
      fc.array(fc.array(fc.integer({ min: 0, max: 12 }), { minLength: 1, maxLength: 120 }), { minLength: 1, maxLength: 4 }),
      fc.integer({ min: 1, max: 6 }),
      (streams, k) => {
        const book = new SourceBook(4);
        const truth = new Map<string, number>();
        streams.forEach((ids, r) => {
          // A reference space-saving sketch per sidecar.
          const slots = new Map<string, { n: number; over: number }>();
          for (const id of ids.map((i) => `s${i}`)) {
            truth.set(id, (truth.get(id) ?? 0) + 1);
            const e = slots.get(id);
            if (e !== undefined) e.n++;
            else if (slots.size < k) slots.set(id, { n: 1, over: 0 });
            else {
              const [minId, min] = [...slots].reduce((a, b) => (b[1].n < a[1].n ? b : a));
              slots.delete(minId);
              slots.set(id, { n: min.n + 1, over: min.n });
            }
          }
          book.ingest(`r${r}`, T0, 1000, { total: ids.length, sources: [...slots].map(([s, e]) => count(s, e.n, { overestimate: e.over })) });
        });
        const view = book.view(T0, T0 + 1000, 1000);
        for (const [id, t] of truth) {
          const s = view.sources.find((x) => x.source === id);
          if (s === undefined) {
            if (t > view.unlistedMaxRequests) return false;
          } else if (!(s.minRequests <= t && t <= s.maxRequests)) return false;
        }
        return true;
      },
    ),
    { numRuns: 200, seed: 7 },
  );
});

test("a cap admits cap / the offered rate, rounded to two digits, and everything when the source is below it or unseen", () => {
  const cases: [number, number | undefined, number][] = [
    [100, 400, 0.25],
    [100, 300, 0.33],
    [5, 1000, 0.005],
    [100, 100, 1],
    [100, 50, 1],
    [100, undefined, 1],
  ];
  for (const [cap, offered, fraction] of cases) assert.equal(capFraction(cap, offered), fraction, `cap ${cap}, offered ${offered}`);
});

test("the decision set's limits: denies admit nothing with the TTL as retry-after, caps their fraction; expired ones are left out", () => {
  const limits: SourceLimitEntry[] = [
    { source: "b", action: "cap", capPerS: 50, untilMs: T0 + 60_000, reason: "flood", actor: "ops", atMs: T0 },
    { source: "a", action: "deny", untilMs: T0 + 600_000, reason: "leaked key", actor: "ops", atMs: T0 },
    { source: "c", action: "deny", untilMs: T0 + 10, reason: "old", actor: "ops", atMs: T0 - 10 },
  ];
  const decisions = limitDecisions(limits, T0 + 1000, (s) => (s === "b" ? 200 : undefined));
  assert.deepEqual(decisions, [
    { source: "a", deny: true, admitFraction: 0, retryAfterS: 600, reason: "source limit by ops: leaked key", capPerS: 0 },
    { source: "b", deny: false, admitFraction: 0.25, retryAfterS: 1, reason: "source limit by ops: flood", capPerS: 50 },
  ]);
});

test("a fired rule's limit: its named source or else the top flagged one, deny or cap, for its TTL, by the trigger; none without either", () => {
  const cases: [string, Parameters<typeof triggerSourceLimit>[0], string | undefined, SourceLimitEntry | RegExp][] = [
    ["a named source is denied for the TTL", { source: "10.0.0.7", deny: true, ttlMs: 600_000 }, "10.0.0.9",
      { source: "10.0.0.7", action: "deny", untilMs: T0 + 600_000, reason: "error_rate 0.4 > 0.2", actor: "trigger abuse", atMs: T0 }],
    ["without a source the top flagged one is capped", { deny: false, capPerS: 50, ttlMs: 60_000 }, "10.0.0.9",
      { source: "10.0.0.9", action: "cap", capPerS: 50, untilMs: T0 + 60_000, reason: "error_rate 0.4 > 0.2", actor: "trigger abuse", atMs: T0 }],
    ["without a source and none flagged, none is set", { deny: true, ttlMs: 60_000 }, undefined, /trigger abuse fired but sets no source limit: it names no source and no source is flagged/],
  ];
  for (const [name, ask, flagged, expected] of cases) {
    const got = triggerSourceLimit(ask, "abuse", "error_rate 0.4 > 0.2", flagged, T0);
    if (expected instanceof RegExp) assert.match(got as string, expected, name);
    else {
      assert.deepEqual(got, expected, name);
      assert.doesNotThrow(() => validateSourceLimit(got as SourceLimitEntry, T0, []), name);
    }
  }
});

test("a bad limit is refused naming the field", () => {
  const good: SourceLimitEntry = { source: "10.0.0.1", action: "cap", capPerS: 10, untilMs: T0 + 1000, reason: "r", actor: "ops", atMs: T0 };
  const cases: [Partial<SourceLimitEntry>, RegExp][] = [
    [{ action: "throttle" as "cap" }, /^source_limit\.action: expected "deny" or "cap", got "throttle"/],
    [{ capPerS: 0 }, /^source_limit\.cap_per_s: expected a rate > 0/],
    [{ capPerS: undefined }, /^source_limit\.cap_per_s: expected a rate > 0/],
    [{ action: "deny" }, /^source_limit\.cap_per_s: only a cap has a rate/],
    [{ untilMs: T0 }, /^source_limit\.until_ms: expected a time within/],
    [{ reason: " " }, /^source_limit\.reason: expected a non-empty string/],
    [{ source: "x".repeat(257) }, /^source_limit\.source: expected a string of at most 256 characters/],
  ];
  for (const [change, message] of cases) {
    assert.throws(() => validateSourceLimit({ ...good, ...change }, T0, []), (e: unknown) => e instanceof ControlPlaneError && e.code === "CP_ERR_SOURCE_LIMIT" && message.test(e.message), JSON.stringify(change));
  }
  const full = Array.from({ length: 64 }, (_, i) => ({ ...good, source: `s${i}` }));
  assert.throws(() => validateSourceLimit(good, T0, full), /64 limits are in force already/);
  assert.doesNotThrow(() => validateSourceLimit({ ...good, source: "s3" }, T0, full), "replacing one in force is fine");
});

const FLAGS: SourceFlagConfig = { sigmaK: 3, n: 2, m: 3, cooldownMs: 10_000, minRequests: 10, historyWindows: 20, minHistory: 5, maxTracked: 100 };

/** Runs the flagger over windows of 1 s: per window, source -> requests (total: their sum plus 1000 others). */
function runFlagger(windows: Record<string, number>[], config: SourceFlagConfig = FLAGS) {
  const flagger = new SourceFlagger(config);
  return windows.flatMap((w, i) => {
    const requests = new Map(Object.entries(w));
    const total = [...requests.values()].reduce((a, b) => a + b, 0) + 1000;
    return flagger.closeWindow(T0 + i * 1000, 1000, total, requests, T0 + i * 1000 + 1500).map((e) => ({ ...e, window: i }));
  });
}

test("a source whose share jumps above mean + k·σ of its own history is flagged after n of m windows, then cleared", () => {
  const steady = Array.from({ length: 10 }, () => ({ tenant: 100 }));
  const events = runFlagger([...steady, { tenant: 900 }, { tenant: 950 }, { tenant: 900 }, ...Array.from({ length: 4 }, () => ({ tenant: 100 }))]);
  assert.deepEqual(events.map((e) => [e.kind, e.source, e.metric, e.window]), [
    ["flagged", "tenant", "share", 11],
    ["cleared", "tenant", "share", 14],
  ]);
  const flag = events[0]!;
  assert.ok(flag.value > flag.threshold && flag.threshold > 100 / 1100, "the threshold sits above its usual share");
});

test("the flagger's filter: one jumped window is not enough, thin windows carry no evidence, a new source needs history, and a cooldown follows a clear", () => {
  const steady = (n: number, v = 100) => Array.from({ length: n }, () => ({ tenant: v }));
  const cases: { name: string; windows: Record<string, number>[]; expect: string[] }[] = [
    { name: "a single spike", windows: [...steady(10), { tenant: 900 }, ...steady(3)], expect: [] },
    { name: "jumps of a source with too few requests", windows: [...steady(10, 2), { tenant: 9 }, { tenant: 9 }, { tenant: 9 }], expect: [] },
    { name: "a source that starts big (no history yet)", windows: [{ newcomer: 900 }, { newcomer: 900 }, { newcomer: 900 }], expect: [] },
    {
      name: "a second jump within the cooldown",
      windows: [...steady(10), { tenant: 900 }, { tenant: 900 }, ...steady(3), { tenant: 900 }, { tenant: 900 }, { tenant: 900 }],
      expect: ["flagged@11", "cleared@13"],
    },
    {
      name: "a second jump after the cooldown",
      windows: [...steady(10), { tenant: 900 }, { tenant: 900 }, ...steady(12), { tenant: 900 }, { tenant: 900 }],
      expect: ["flagged@11", "cleared@13", "flagged@25"],
    },
  ];
  for (const c of cases) {
    assert.deepEqual(runFlagger(c.windows).map((e) => `${e.kind}@${e.window}`), c.expect, c.name);
  }
});
