// Fast trip (filter/src/core/fasttrip.ts) against the real build/filter.wasm: a cluster that fails
// consecutive_failures requests in a row is held out of the worker's weighted pick for a moment,
// without waiting for the control plane; never more than half of the plan's weight; off at 0.
import { test } from "node:test";
import assert from "node:assert/strict";
import { BASE_CONFIG, BreakerState, startFilter, spread } from "./filter-support.js";
import type { PluginTester } from "../filter/host/index.js";
import type { FakeControlPlane } from "./filter-support.js";

const TO_A = { "x-autoglm-target": "llm-a" };
const TO_B = { "x-autoglm-target": "llm-b" };

/** A filter with the control plane's 50/50 plan in force (a live stream). */
async function withPlan(config: object = BASE_CONFIG): Promise<{ t: PluginTester; cp: FakeControlPlane }> {
  const { t, cp } = await startFilter(config);
  cp.push({
    version: 1,
    ttlMs: 600_000,
    clusters: [
      { cluster: "llm-a", state: BreakerState.CLOSED, weight: 500 },
      { cluster: "llm-b", state: BreakerState.CLOSED, weight: 500 },
    ],
  });
  return { t, cp };
}

function fail(t: PluginTester, headers: Record<string, string>, n: number): void {
  for (let i = 0; i < n; i++) t.request({ headers, response: { status: 503 } });
}

const cases: Array<{ name: string; config?: object; failures: (t: PluginTester) => void; held: boolean }> = [
  { name: "five 503s in a row from llm-a hold it (the default, as Envoy's consecutive_5xx)", failures: (t) => fail(t, TO_A, 5), held: true },
  { name: "four are not enough", failures: (t) => fail(t, TO_A, 4), held: false },
  {
    name: "a success in between starts the count again",
    failures: (t) => {
      fail(t, TO_A, 4);
      t.request({ headers: TO_A, response: { status: 200 } });
      fail(t, TO_A, 4);
    },
    held: false,
  },
  { name: "consecutive_failures 0 turns it off", config: { ...BASE_CONFIG, fast_trip: { consecutive_failures: 0 } }, failures: (t) => fail(t, TO_A, 50), held: false },
  { name: "a lower threshold trips sooner", config: { ...BASE_CONFIG, fast_trip: { consecutive_failures: 2 } }, failures: (t) => fail(t, TO_A, 2), held: true },
  { name: "a higher threshold needs more", config: { ...BASE_CONFIG, fast_trip: { consecutive_failures: 8 } }, failures: (t) => fail(t, TO_A, 7), held: false },
];

for (const c of cases) {
  test(`fast trip: ${c.name}`, async () => {
    const { t } = await withPlan(c.config);
    try {
      c.failures(t);
      const counts = spread(t, 100);
      if (c.held) {
        assert.deepEqual(counts, { "llm-b": 100 }, `the held cluster gets nothing: ${JSON.stringify(counts)}`);
        assert.equal(t.metric("autoglm.fast_trips.llm-a"), 1);
      } else {
        assert.ok((counts["llm-a"] ?? 0) >= 40, `llm-a keeps its share: ${JSON.stringify(counts)}`);
      }
    } finally {
      t.close();
    }
  });
}

test("fast trip: the hold ends after one telemetry window (hold_ms 0) and the plan applies again", async () => {
  const { t } = await withPlan({ ...BASE_CONFIG, window_ms: 2000 });
  try {
    fail(t, TO_A, 10);
    t.advance(1900);
    assert.deepEqual(spread(t, 20), { "llm-b": 20 });
    t.advance(200);
    assert.ok((spread(t, 100)["llm-a"] ?? 0) >= 40);
  } finally {
    t.close();
  }
});

test("fast trip: a request that names the held cluster still goes there (only the weighted pick avoids it)", async () => {
  const { t } = await withPlan();
  try {
    fail(t, TO_A, 5);
    assert.deepEqual(spread(t, 20), { "llm-b": 20 });
    const named = t.request({ headers: TO_A });
    assert.equal(named.localReply, null);
    assert.equal(named.requestHeaders["x-autoglm-cluster"], "llm-a");
  } finally {
    t.close();
  }
});

test("fast trip: both clusters failing hard is more than half of the weight: neither is held (panic)", async () => {
  const { t } = await withPlan();
  try {
    fail(t, TO_A, 10);
    fail(t, TO_B, 10);
    const counts = spread(t, 100);
    assert.ok((counts["llm-a"] ?? 0) >= 40 && (counts["llm-b"] ?? 0) >= 40, JSON.stringify(counts));
  } finally {
    t.close();
  }
});

const badConfigs: Array<{ name: string; fastTrip: unknown; error: RegExp }> = [
  { name: "a negative count", fastTrip: { consecutive_failures: -1 }, error: /fast_trip\.consecutive_failures: expected/ },
  { name: "a fractional hold", fastTrip: { hold_ms: 1.5 }, error: /fast_trip\.hold_ms: expected/ },
  { name: "an unknown field", fastTrip: { consecutive_5xx: 5 }, error: /fast_trip\.consecutive_5xx/ },
  { name: "not an object", fastTrip: 10, error: /fast_trip: expected/ },
];
for (const c of badConfigs) {
  test(`fast trip configuration: ${c.name} is refused with an error naming the field`, async () => {
    await assert.rejects(startFilter({ ...BASE_CONFIG, fast_trip: c.fastTrip }), c.error);
  });
}
